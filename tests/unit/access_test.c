/* access.c: the access list, through $QRUN_SYSCONF_DIR. */
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qrun.h"
#include "unit.h"

static char dir[64];

static void
write_list(const char *text, mode_t mode)
{
	char *p = xasprintf("%s/access.conf", dir);
	FILE *f = fopen(p, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	chmod(p, mode);
	free(p);
}

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/qrun-access.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	setenv("QRUN_SYSCONF_DIR", dir, 1);
}

static void
teardown(void)
{
	char *p = xasprintf("%s/access.conf", dir);

	unlink(p);
	rmdir(dir);
	free(p);
	unsetenv("QRUN_SYSCONF_DIR");
}

/* A netcap developer "jack" (gid: a group that exists, root's). */
static struct priv
jack(void)
{
	struct priv pv = { .uid = 4242, .gid = 0, .netcap = true };

	snprintf(pv.user, sizeof(pv.user), "jack");
	return pv;
}

START_TEST(test_grants)
{
	struct priv pv = jack();
	char why[256];
	struct group *g = getgrgid(0);

	ck_assert_ptr_nonnull(g);
	write_list("allow = ( { user = \"jack\"; taps = [ \"tap1\", \"t*x\" ]; "
	    "bridges = [ \"br0\" ]; },\n"
	    "{ user = \"jill\"; taps = [ \"tap5\" ]; } );\n", 0644);
	ck_assert_int_eq(access_check(&pv, "tap1", NULL, why, sizeof(why)), 0);
	ck_assert_int_eq(access_check(&pv, "tabx", "br0", why, sizeof(why)),
	    0);
	ck_assert_int_eq(access_check(&pv, "tap5", NULL, why, sizeof(why)),
	    -EPERM);
	ck_assert_ptr_nonnull(strstr(why, "tap5: not granted to jack by "));
	ck_assert_int_eq(access_check(&pv, "tap1", "br1", why, sizeof(why)),
	    -EPERM);
	ck_assert_ptr_nonnull(strstr(why, "br1: bridge not granted"));
	/* a group grant, by the primary group */
	write_list("allow = ( { group = \"root\"; taps = [ \"tap1[0-9]\" ]; } );",
	    0644);
	ck_assert_int_eq(access_check(&pv, "tap12", NULL, why, sizeof(why)),
	    0);
	ck_assert_int_eq(access_check(&pv, "tap1", NULL, why, sizeof(why)),
	    -EPERM);
	/* not netcap: the list is not consulted */
	pv.netcap = false;
	ck_assert_int_eq(access_check(&pv, "tap99", NULL, why, sizeof(why)),
	    0);
}
END_TEST

/* switches = [ "qbr2" ] grants switch 2: its bridge and slot taps. */
START_TEST(test_switches)
{
	struct priv pv = jack();
	char why[256], sw[IFNAMSIZ];

	write_list("allow = ( { user = \"jack\"; switches = [ \"qbr2\" ]; "
	    "taps = [ \"qtap*\" ]; } );\n", 0644);
	ck_assert_int_eq(access_check(&pv, "qbr2", NULL, why, sizeof(why)), 0);
	ck_assert_int_eq(access_check(&pv, "qtap2-17", "qbr2", why,
	    sizeof(why)), 0);
	/* taps = [ "qtap*" ] does not grant another developer's switch */
	ck_assert_int_eq(access_check(&pv, "qtap1-1", "qbr1", why,
	    sizeof(why)), -EPERM);
	ck_assert_ptr_nonnull(strstr(why, "qtap1-1: switch qbr1 not granted "
	    "to jack by "));
	ck_assert_int_eq(access_switch_of("qtap11-253", sw), 0);
	ck_assert_str_eq(sw, "qbr11");
	ck_assert_int_eq(access_switch_of("qtap12-1", sw), -EINVAL);
	ck_assert_int_eq(access_switch_of("qtap1-0", sw), -EINVAL);
	ck_assert_int_eq(access_switch_of("qbr01", sw), -EINVAL);
	ck_assert_int_eq(access_switch_of("qbr1x", sw), -EINVAL);
	write_list("allow = ( { user = \"jack\"; switches = \"qbr2\"; } );\n",
	    0644);
	ck_assert_int_eq(access_check(&pv, "qbr2", NULL, why, sizeof(why)),
	    -EPERM);
	ck_assert_ptr_nonnull(strstr(why, "switches, addrs: expected lists"));
}
END_TEST

/* nat = true in an entry lets its taps masquerade (net.nat). */
START_TEST(test_nat)
{
	struct priv pv = jack();
	char why[256];

	write_list("allow = ( { user = \"jack\"; taps = [ \"tap1\" ]; "
	    "nat = true; },\n{ user = \"jack\"; taps = [ \"tap2\" ]; } );\n",
	    0644);
	ck_assert_int_eq(access_nat_check(&pv, "tap1", why, sizeof(why)), 0);
	ck_assert_int_eq(access_nat_check(&pv, "tap2", why, sizeof(why)),
	    -EPERM);
	ck_assert_ptr_nonnull(strstr(why, "tap2: NAT not granted to jack by "));
	ck_assert_int_eq(access_check(&pv, "tap2", NULL, why, sizeof(why)), 0);
	write_list("allow = ( { user = \"jack\"; taps = [ \"tap1\" ]; "
	    "nat = \"yes\"; } );\n", 0644);
	ck_assert_int_eq(access_nat_check(&pv, "tap1", why, sizeof(why)),
	    -EPERM);
	ck_assert_ptr_nonnull(strstr(why, "nat: expected true or false"));
	pv.netcap = false;	/* root, sudo: the list is not consulted */
	ck_assert_int_eq(access_nat_check(&pv, "tap2", why, sizeof(why)), 0);
}
END_TEST

START_TEST(test_refused)
{
	struct priv pv = jack();
	char why[256], *p;

	ck_assert_int_eq(access_check(&pv, "tap1", NULL, why, sizeof(why)),
	    -EPERM);	/* no list: nothing granted */
	p = xasprintf("%s/access.conf", dir);
	ck_assert_int_eq(access_file_check(p, why, sizeof(why)), -ENOENT);
	write_list("allow = ( { user = \"jack\"; taps = [ \"*\" ]; } );", 0666);
	ck_assert_int_eq(access_check(&pv, "tap1", NULL, why, sizeof(why)),
	    -EPERM);
	ck_assert_ptr_nonnull(strstr(why, "writable by group or others"));
	write_list("allow = ( { user = \"jack\"; tapz = [ \"*\" ]; } );", 0644);
	ck_assert_int_eq(access_file_check(p, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "tapz: unknown key"));
	write_list("allow = ( { taps = [ \"*\" ]; } );", 0644);
	ck_assert_int_eq(access_file_check(p, why, sizeof(why)), -EINVAL);
	write_list("allow = ( { user = \"jack\"; taps = [ 1 ]; } );", 0644);
	ck_assert_int_eq(access_file_check(p, why, sizeof(why)), -EINVAL);
	write_list("allow = ( { user = \"jack\" ", 0644);
	ck_assert_int_eq(access_file_check(p, why, sizeof(why)), -EINVAL);
	write_list("allow = ( );", 0644);
	ck_assert_int_eq(access_file_check(p, why, sizeof(why)), 0);
	/* elevated for another user: $QRUN_SYSCONF_DIR is ignored */
	pv.for_other = true;
	free(p);
	p = access_path(&pv);
	ck_assert_str_eq(p, "/etc/qrun/access.conf");
	free(p);
}
END_TEST

Suite *
access_suite(void)
{
	Suite *s;
	TCase *tc;

	if (geteuid() != 0) {
		UNIT_SKIP(2, "access: the list must be root-owned: not root");
		return NULL;
	}
	s = suite_create("access");
	tc = tcase_create("access");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_grants);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_nat);
	tcase_add_test(tc, test_switches);
	suite_add_tcase(s, tc);
	return s;
}
