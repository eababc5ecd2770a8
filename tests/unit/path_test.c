/* util.c's paths: making directories. */
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

Suite *
path_suite(void)
{
	Suite *s = suite_create("path");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_path_mkdirs);
	suite_add_tcase(s, tc);
	return s;
}
