/*
 * conlog.c: where a batch run's console log goes, that it is the
 * developer's alone, and that only the newest CONLOG_KEEP stay.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qrun.h"
#include "unit.h"

static int
count_logs(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)) != NULL)
		n += strncmp(e->d_name, "console-", 8) == 0;
	if (d)
		closedir(d);
	return n;
}

START_TEST(test_conlog_dir)
{
	struct priv pv = { .home = "/home/jack" };
	char *d;

	setenv("XDG_STATE_HOME", "/tmp/xdg", 1);
	d = conlog_dir(&pv);
	ck_assert_str_eq(d, "/tmp/xdg/qrun/logs");
	free(d);
	/* elevated for a developer: theirs, whatever the environment */
	pv.for_other = true;
	d = conlog_dir(&pv);
	ck_assert_str_eq(d, "/home/jack/.local/state/qrun/logs");
	free(d);
	pv.home[0] = '\0';
	ck_assert_ptr_null(conlog_dir(&pv));
	unsetenv("XDG_STATE_HOME");
}
END_TEST

START_TEST(test_conlog_keep)
{
	char top[] = "/tmp/qrun-unit.XXXXXX", why[256], *path, *dir, *p;
	struct priv pv = { .home = "" };
	struct stat st;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(top));
	setenv("XDG_STATE_HOME", top, 1);
	dir = conlog_dir(&pv);
	f = conlog_open(&pv, &path, why, sizeof(why));
	ck_assert_msg(f != NULL, "%s", why);
	fclose(f);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	conlog_remove(&pv, path);
	ck_assert_int_eq(count_logs(dir), 0);
	free(path);
	/* older logs than the newest CONLOG_KEEP go */
	for (int i = 0; i < CONLOG_KEEP + 5; i++) {
		p = xasprintf("%s/console-20260101-0000%02d-1.log", dir, i);
		fclose(fopen(p, "w"));
		free(p);
	}
	conlog_prune(&pv);
	ck_assert_int_eq(count_logs(dir), CONLOG_KEEP);
	p = xasprintf("%s/console-20260101-000004-1.log", dir);
	ck_assert_int_ne(access(p, F_OK), 0);
	free(p);
	p = xasprintf("%s/console-20260101-000005-1.log", dir);
	ck_assert_int_eq(access(p, F_OK), 0);
	free(p);
	p = xasprintf("rm -rf '%s'", top);
	ck_assert_int_eq(system(p), 0);
	free(p);
	free(dir);
	unsetenv("XDG_STATE_HOME");
}
END_TEST

Suite *
conlog_suite(void)
{
	Suite *s = suite_create("conlog");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_conlog_dir);
	tcase_add_test(tc, test_conlog_keep);
	suite_add_tcase(s, tc);
	return s;
}
