/*
 * vxlan_test.c - vxlan.c: the options of "bridge create --vxlan" (pure),
 * and, in a private network namespace, a VXLAN port added to a bridge,
 * undone, taken off and that taken back by the undo of its journal (a
 * crash in bridge delete). The underlay is a tap with an address: all a
 * route lookup needs.
 */
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qrun.h"
#include "unit.h"

#define N_NS_TESTS 2

/* ---------------------------------------------------------------- pure */

struct bad {
	const char *vni, *remotes, *dev, *local, *why;
};

static const struct bad bads[] = {
	{ "0", "10.0.0.2", NULL, NULL,
	    "--vxlan 0: the VNI must be a number from 1 to 16777215" },
	{ "16777216", "10.0.0.2", NULL, NULL,
	    "--vxlan 16777216: the VNI must be a number from 1 to 16777215" },
	{ "4x", "10.0.0.2", NULL, NULL,
	    "--vxlan 4x: the VNI must be a number from 1 to 16777215" },
	{ "42", NULL, NULL, NULL,
	    "--vxlan needs --remote ADDR[,ADDR...]: the other hosts" },
	{ "42", "host2", NULL, NULL,
	    "--remote host2: not an IPv4 or IPv6 address" },
	{ "42", "10.0.0.2/24", NULL, NULL,
	    "--remote 10.0.0.2/24: not an IPv4 or IPv6 address" },
	{ "42", "239.1.1.1", NULL, NULL,
	    "--remote 239.1.1.1: is a multicast address, not another host's" },
	{ "42", "127.0.0.1", NULL, NULL,
	    "--remote 127.0.0.1: is a loopback address, not another host's" },
	{ "42", "10.0.0.2,fd00::2", NULL, NULL,
	    "--remote fd00::2: IPv4 and IPv6 remotes cannot share one VXLAN "
	    "port" },
	{ "42", "10.0.0.2,10.0.0.2", NULL, NULL,
	    "--remote 10.0.0.2: given twice" },
	{ "42", ",", NULL, NULL, "--remote: expected ADDR[,ADDR...]" },
	{ "42", "10.0.0.2", "a/b", NULL, "--dev a/b: name contains '/'" },
	{ "42", "10.0.0.2", NULL, "fd00::1",
	    "--local fd00::1: must be an IPv4 address of this host" },
};

START_TEST(test_conf_bad)
{
	const struct bad *b = &bads[_i];
	struct vxlan_conf c;
	char why[256] = "";

	ck_assert_int_eq(vxlan_conf_parse(b->vni, b->remotes, b->dev,
	    b->local, &c, why, sizeof(why)), -EINVAL);
	ck_assert_str_eq(why, b->why);
}
END_TEST

START_TEST(test_conf_good)
{
	struct vxlan_conf c;
	char why[256] = "", a[IPADDR_STRLEN];

	ck_assert_int_eq(vxlan_conf_parse("16777215", "10.0.0.2,10.0.0.3",
	    "eth1", "10.0.0.1", &c, why, sizeof(why)), 0);
	ck_assert_uint_eq(c.vni, 16777215);
	ck_assert_uint_eq(c.nremote, 2);
	ck_assert_str_eq(ipaddr_str(&c.remote[1], a), "10.0.0.3");
	ck_assert_str_eq(c.dev, "eth1");
	ck_assert_str_eq(ipaddr_str(&c.local, a), "10.0.0.1");
	ck_assert_int_eq(vxlan_conf_parse("1", "fd00::2", NULL, NULL, &c, why,
	    sizeof(why)), 0);
	ck_assert_int_eq(c.remote[0].family, AF_INET6);
	ck_assert_str_eq(c.dev, "");
	ck_assert_int_eq(c.local.family, 0);
}
END_TEST

/* --------------------------------------------------------- namespace */

static struct net *nl;
static char state[64];

/* A fresh namespace with an underlay: tap u0, 10.99.0.1/24, up. */
static void
ns_setup(void)
{
	struct net_link l;
	struct ipaddr a;
	int fd;

	unit_netns_enter(&nl, state, sizeof(state));
	ck_assert_int_ge(fd = net_tap_new(nl, "u0", true, &l), 0);
	ck_assert_int_eq(net_tap_persist(fd, 0, (gid_t)-1, &l), 0);
	close(fd);
	ck_assert_int_eq(ipaddr_parse("10.99.0.1/24", 0, &a), 0);
	ck_assert_int_eq(net_addr_add(nl, l.ifindex, &a), 0);
	ck_assert_int_eq(net_link_set_up(nl, l.ifindex, true), 0);
}

static void
ns_teardown(void)
{
	unit_netns_leave(&nl, state);
}

/* labbr with a VXLAN port to 10.99.0.2, journaled in *j. */
static void
lab_make(struct journal **j, struct net_link *br)
{
	struct vxlan_conf c;
	struct vxlan_plan p;
	char why[256] = "";

	ck_assert_int_eq(journal_open(state, j), 0);
	ck_assert_int_eq(change_link_create(*j, nl, J_BRIDGE_CREATE, "labbr",
	    br), 0);
	ck_assert_int_eq(vxlan_conf_parse("42", "10.99.0.2", NULL, NULL, &c,
	    why, sizeof(why)), 0);
	ck_assert_int_eq(vxlan_check(nl, &c, &p, why, sizeof(why)), 0);
	ck_assert_str_eq(p.name, "vx42");
	ck_assert_str_eq(p.under.name, "u0");
	ck_assert_uint_eq(p.mtu, 1450);
	ck_assert_msg(vxlan_attach(nl, *j, br, &p, why, sizeof(why)) == 0,
	    "%s", why);
}

/* vx42 as vxlan_attach leaves it: on labbr, up, VNI 42, MTU 1450, one
 * remote; and labbr's MTU. */
static void
lab_check(int ifindex)
{
	struct net_link vx, br;
	struct ipaddr rem[4];
	char a[IPADDR_STRLEN];
	size_t nr = 0;

	ck_assert_int_eq(net_link_get(nl, "vx42", &vx), 0);
	ck_assert_int_eq(net_link_get(nl, "labbr", &br), 0);
	if (ifindex)
		ck_assert_int_eq(vx.ifindex, ifindex);
	ck_assert_str_eq(vx.kind, "vxlan");
	ck_assert_uint_eq(vx.vni, 42);
	ck_assert_uint_eq(vx.mtu, 1450);
	ck_assert(vx.up);
	ck_assert_int_eq(vx.master, br.ifindex);
	ck_assert_uint_eq(br.mtu, 1450);
	ck_assert(vxlan_port_ours(&vx));
	ck_assert_int_eq(net_fdb_remotes(nl, vx.ifindex, rem, 4, &nr), 0);
	ck_assert_uint_eq(nr, 1);
	ck_assert_str_eq(ipaddr_str(&rem[0], a), "10.99.0.2");
}

START_TEST(test_attach_undo)
{
	struct journal *j;
	struct net_link br, l;
	struct vxlan_conf c;
	struct vxlan_plan p;
	char why[256] = "";

	lab_make(&j, &br);
	lab_check(0);
	ck_assert_int_eq(vxlan_conf_parse("42", "10.99.0.3", NULL, NULL, &c,
	    why, sizeof(why)), 0);
	ck_assert_int_eq(vxlan_check(nl, &c, &p, why, sizeof(why)), -EEXIST);
	ck_assert_str_eq(why, "vx42: already exists (a VXLAN port of VNI 42 "
	    "is on this host)");
	ck_assert_int_eq(journal_undo(j, nl), 0);
	ck_assert_int_eq(net_link_get(nl, "vx42", &l), -ENODEV);
	ck_assert_int_eq(net_link_get(nl, "labbr", &l), -ENODEV);
}
END_TEST

/* A crash after vxlan_detach: the replayed undo makes vx42 again with
 * its ifindex, remote, MTU and bridge. */
START_TEST(test_detach_undo)
{
	struct journal *j, *j2;
	struct net_link br, vx;
	char why[256] = "";

	lab_make(&j, &br);
	journal_close(j);	/* created for good */
	ck_assert_int_eq(net_link_get(nl, "vx42", &vx), 0);
	ck_assert_int_eq(journal_open(state, &j2), 0);
	ck_assert_msg(vxlan_detach(nl, j2, &br, &vx, why, sizeof(why)) == 0,
	    "%s", why);
	ck_assert_int_eq(net_link_get(nl, "vx42", &br), -ENODEV);
	ck_assert_int_eq(journal_undo(j2, nl), 0);
	lab_check(vx.ifindex);
}
END_TEST

Suite *
vxlan_suite(void)
{
	Suite *s = suite_create("vxlan");
	TCase *tc = tcase_create("options");

	tcase_add_loop_test(tc, test_conf_bad, 0, (int)ARRAY_SIZE(bads));
	tcase_add_test(tc, test_conf_good);
	suite_add_tcase(s, tc);
	if (geteuid() != 0 || !unit_can_unshare(CLONE_NEWNET, true)) {
		UNIT_SKIP(N_NS_TESTS, "vxlan: no private network namespace");
		return s;
	}
	tc = tcase_create("netns");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, ns_setup, ns_teardown);
	tcase_add_test(tc, test_attach_undo);
	tcase_add_test(tc, test_detach_undo);
	suite_add_tcase(s, tc);
	return s;
}
