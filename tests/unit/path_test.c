/* util.c's paths: making directories, finding a command as sh does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qrun.h"
#include "unit.h"

START_TEST(test_path_mkdirs)
{
	char dir[] = "/tmp/qrun-unit.XXXXXX", *p, *f;
	struct stat st;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	p = xasprintf("%s/a/b/c", dir);
	ck_assert_int_eq(path_mkdirs(p, 0700), 0);
	ck_assert_int_eq(path_mkdirs(p, 0700), 0);	/* there already */
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	f = xasprintf("%s/a/file", dir);
	fclose(fopen(f, "w"));
	free(p);
	p = xasprintf("%s/a/file/d", dir);
	ck_assert_int_eq(path_mkdirs(p, 0700), -ENOTDIR);
	free(f);
	f = xasprintf("rm -rf '%s'", dir);
	ck_assert_int_eq(system(f), 0);
	free(f);
	free(p);
}
END_TEST

START_TEST(test_path_search)
{
	char dir[] = "/tmp/qrun-unit.XXXXXX", out[4096], *p, *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	p = xasprintf("%s/a", dir);
	ck_assert_int_eq(path_mkdirs(p, 0700), 0);
	f = xasprintf("%s/a/tool", dir);
	fclose(fopen(f, "w"));
	/* not executable: found, but -EACCES naming it */
	free(p);
	p = xasprintf("/nonexistent:%s/a", dir);
	ck_assert_int_eq(path_search("tool", p, out, sizeof(out)), -EACCES);
	ck_assert_str_eq(out, f);
	ck_assert_int_eq(path_search("no-such-tool-qrun", p, out,
	    sizeof(out)), -ENOENT);
	ck_assert_int_eq(path_search("sh", "/nonexistent:/bin", out,
	    sizeof(out)), 0);
	ck_assert_str_eq(out, "/bin/sh");
	ck_assert_int_eq(path_search("sh", NULL, out, sizeof(out)), 0);
	ck_assert_int_eq(path_search("./x", p, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "./x");
	chmod(f, 0755);
	ck_assert_int_eq(path_search("tool", p, out, sizeof(out)), 0);
	ck_assert_str_eq(out, f);
	unlink(f);
	free(f);
	f = xasprintf("rm -rf '%s'", dir);
	ck_assert_int_eq(system(f), 0);
	free(f);
	free(p);
}
END_TEST

Suite *
path_suite(void)
{
	Suite *s = suite_create("path");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_path_mkdirs);
	tcase_add_test(tc, test_path_search);
	suite_add_tcase(s, tc);
	return s;
}
