/*
 * net.c against the real kernel, each test in a private network namespace
 * of its own (unshare(CLONE_NEWNET)), as iproute2 and libnl test. The
 * fixture goes back to the original namespace afterwards, so the suite
 * also runs with CK_FORK=no (valgrind). Without CAP_SYS_ADMIN the suite
 * is skipped.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <linux/if_tun.h>

#include "qrun.h"
#include "unit.h"

/* The tests net_suite registers, counted as skipped without a namespace. */
#define N_TESTS 9

static struct net *nl;

/* Enter a fresh, empty network namespace and open a socket in it. */
static void
ns_setup(void)
{
	unit_netns_enter(&nl, NULL, 0);
}

/* Close the socket (the namespace dies with it) and go back. */
static void
ns_teardown(void)
{
	unit_netns_leave(&nl, NULL);
}

static struct ipaddr
ip(const char *s)
{
	struct ipaddr a;

	ck_assert_int_eq(ipaddr_parse(s, 0, &a), 0);
	return a;
}

/* A persistent tap as net_tap_new and net_tap_persist make it; its
 * creator's queue closed. */
static int
mktap(const char *name, uid_t owner, gid_t group, struct net_link *l)
{
	int fd = net_tap_new(nl, name, true, l);

	if (fd < 0)
		return fd;
	ck_assert_int_eq(net_tap_persist(fd, owner, group, l), 0);
	close(fd);
	return 0;
}

/* Make tap NAME owned by uid 4242 and return its index. */
static int
tap(const char *name)
{
	struct net_link l;

	ck_assert_int_eq(mktap(name, 4242, (gid_t)-1, &l), 0);
	ck_assert_int_eq(net_link_get(nl, name, &l), 0);
	return l.ifindex;
}

START_TEST(test_tap_create)
{
	struct net_link l;
	int fd;

	ck_assert_int_eq(mktap("qt0", 4242, (gid_t)-1, &l), 0);
	ck_assert_int_eq(net_link_get(nl, "qt0", &l), 0);
	ck_assert_str_eq(l.name, "qt0");
	ck_assert_str_eq(l.kind, "tun");
	ck_assert(l.is_tap);
	ck_assert(!l.up);
	ck_assert_int_eq(l.owner, 4242);
	ck_assert_int_eq(l.group, -1);
	ck_assert_int_eq(l.master, 0);
	ck_assert_uint_eq(l.mtu, 1500);
	ck_assert_int_eq(mktap("qt0", 4242, (gid_t)-1, &l), -EEXIST);
	ck_assert_int_eq(mktap("qt1", 4242, 4343, &l), 0);
	ck_assert_int_eq(net_link_get(nl, "qt1", &l), 0);
	ck_assert_int_eq(l.group, 4343);
	/* Until it is persistent, a new tap lives as long as its queue. */
	fd = net_tap_new(nl, "qt9", true, &l);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(net_link_get(nl, "qt9", &l), 0);
	close(fd);
	ck_assert_int_eq(net_link_get(nl, "qt9", &l), -ENODEV);
	/* Not a tap: the loopback, looked up by index too. */
	ck_assert_int_eq(net_link_get(nl, "lo", &l), 0);
	ck_assert_str_eq(l.kind, "");
	ck_assert(!l.is_tap);
	ck_assert_int_eq(l.owner, -1);
	ck_assert_int_eq(net_link_get_index(nl, l.ifindex, &l), 0);
	ck_assert_str_eq(l.name, "lo");
}
END_TEST

/* The link net_tap_new and net_tap_persist report without asking
 * rtnetlink is the one RTM_GETLINK describes; the queue is attached. */
START_TEST(test_tap_create_open)
{
	struct net_link made, got;
	struct ifreq ifr;
	int fd;

	fd = net_tap_new(nl, "qt2", true, &made);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(net_tap_persist(fd, 4242, 4343, &made), 0);
	ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	memset(&ifr, 0, sizeof(ifr));
	ck_assert_int_eq(ioctl(fd, TUNGETIFF, &ifr), 0);
	ck_assert_str_eq(ifr.ifr_name, "qt2");
	ck_assert(ifr.ifr_flags & IFF_PERSIST);
	ck_assert(ifr.ifr_flags & IFF_VNET_HDR);
	ck_assert_int_eq(net_link_get(nl, "qt2", &got), 0);
	ck_assert_int_eq(made.ifindex, got.ifindex);
	ck_assert_str_eq(made.name, got.name);
	ck_assert_str_eq(made.kind, got.kind);
	ck_assert(made.is_tap && got.is_tap);
	ck_assert(made.up == got.up);
	ck_assert_int_eq(made.master, got.master);
	ck_assert_int_eq(made.owner, got.owner);
	ck_assert_int_eq(made.group, got.group);
	ck_assert_uint_eq(made.mtu, got.mtu);
	ck_assert_mem_eq(made.mac, got.mac, sizeof(made.mac));
	ck_assert(made.vnet_hdr == got.vnet_hdr);
	close(fd);
	/* Persistent: the queue's close leaves the tap. */
	ck_assert_int_eq(net_link_get(nl, "qt2", &got), 0);
	ck_assert_int_eq(net_tap_new(nl, "qt2", true, &made), -EEXIST);
	ck_assert_int_eq(net_tap_new(nl, "bad/name", true, &made), -EINVAL);
	/* Plain frames (a capture): no IFF_VNET_HDR, and the link says so. */
	fd = net_tap_new(nl, "qt3", false, &made);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(net_tap_persist(fd, 4242, (gid_t)-1, &made), 0);
	ck_assert_int_eq(ioctl(fd, TUNGETIFF, &ifr), 0);
	ck_assert(!(ifr.ifr_flags & IFF_VNET_HDR));
	ck_assert_int_eq(net_link_get(nl, "qt3", &got), 0);
	ck_assert(!made.vnet_hdr && !got.vnet_hdr);
	close(fd);
}
END_TEST

START_TEST(test_missing)
{
	struct ipaddr net = ip("10.0.0.0/8");
	struct net_link l;
	char name[IFNAMSIZ];

	ck_assert_int_eq(net_link_get(nl, "nosuch0", &l), -ENODEV);
	ck_assert_int_eq(net_link_get_index(nl, 4711, &l), -ENODEV);
	ck_assert_int_eq(net_link_get(nl, "", &l), -ENODEV);
	ck_assert_int_eq(net_link_set_up(nl, 4711, true), -ENODEV);
	ck_assert_int_eq(net_link_delete(nl, 4711), -ENODEV);
	/* A tap gone since it was looked up: TUNSETIFF makes a new one, not
	 * persistent, which net_tap_open drops again. */
	memset(&l, 0, sizeof(l));
	strcpy(l.name, "nosuch0");
	l.is_tap = true;
	ck_assert_int_eq(net_tap_open(&l, false), -ENODEV);
	ck_assert_int_eq(net_link_get(nl, "nosuch0", &l), -ENODEV);
	l.is_tap = false;
	ck_assert_int_eq(net_tap_open(&l, false), -ENODEV);
	ck_assert_int_eq(net_route_overlap(nl, &net, 0, name), 0);
}
END_TEST

/* Is a (with its prefix) in the list of n addresses? */
static bool
listed(const struct net_addr *a, size_t n, const char *want)
{
	struct ipaddr w = ip(want);

	for (size_t i = 0; i < n; i++)
		if (ipaddr_same(&a[i].a, &w))
			return true;
	return false;
}

START_TEST(test_addr)
{
	struct net_addr a[4];
	struct ipaddr x;
	size_t n;
	int t0 = tap("qt0"), t1 = tap("qt1");

	ck_assert_int_eq(net_addr_list(nl, t0, AF_INET, a, 4, &n), 0);
	ck_assert_uint_eq(n, 0);
	x = ip("172.21.0.1/16");
	ck_assert_int_eq(net_addr_add(nl, t0, &x), 0);
	ck_assert_int_eq(net_addr_add(nl, t0, &x), -EEXIST);
	x = ip("10.9.8.7/24");
	ck_assert_int_eq(net_addr_add(nl, t1, &x), 0);
	ck_assert_int_eq(net_addr_list(nl, t0, AF_INET, a, 4, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert(listed(a, n, "172.21.0.1/16"));
	x = ip("192.168.7.1/24");
	ck_assert_int_eq(net_addr_add(nl, t0, &x), 0);
	ck_assert_int_eq(net_addr_list(nl, t0, AF_INET, a, 4, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(net_addr_list(nl, t0, AF_INET, a, 1, &n), -ENOSPC);
	ck_assert_uint_eq(n, 1);
	x = ip("172.21.0.1/16");
	ck_assert_int_eq(net_addr_del(nl, t0, &x), 0);
	ck_assert_int_eq(net_addr_del(nl, t0, &x), -EADDRNOTAVAIL);
	ck_assert_int_eq(net_addr_list(nl, t0, AF_INET, a, 4, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert(listed(a, n, "192.168.7.1/24"));
	ck_assert_int_eq(net_addr_list(nl, t1, AF_INET, a, 4, &n), 0);
	ck_assert(n == 1 && listed(a, n, "10.9.8.7/24"));
	/* IPv6 the same way, usable at once (no duplicate detection) */
	x = ip("fd00:172:21::1/64");
	ck_assert_int_eq(net_addr_add(nl, t0, &x), 0);
	ck_assert_int_eq(net_addr_list(nl, t0, AF_INET6, a, 4, &n), 0);
	ck_assert(n == 1 && listed(a, n, "fd00:172:21::1/64"));
	ck_assert_int_eq(net_addr_list(nl, t0, AF_UNSPEC, a, 4, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(net_addr_del(nl, t0, &x), 0);
	x = ip("1.2.3.4/32");
	x.prefix = 33;
	ck_assert_int_eq(net_addr_add(nl, t0, &x), -EINVAL);
}
END_TEST

START_TEST(test_up_mtu)
{
	struct net_link l;
	int t0 = tap("qt0");

	ck_assert_int_eq(net_link_set_up(nl, t0, true), 0);
	ck_assert_int_eq(net_link_get_index(nl, t0, &l), 0);
	ck_assert(l.up);
	ck_assert_int_eq(net_link_set_mtu(nl, t0, 1400), 0);
	ck_assert_int_eq(net_link_get(nl, "qt0", &l), 0);
	ck_assert_uint_eq(l.mtu, 1400);
	ck_assert(l.up);
	ck_assert_int_eq(net_link_set_up(nl, t0, false), 0);
	ck_assert_int_eq(net_link_get(nl, "qt0", &l), 0);
	ck_assert(!l.up);
	ck_assert_int_eq(net_link_set_mtu(nl, t0, 10), -EINVAL);
}
END_TEST

START_TEST(test_bridge)
{
	struct net_link l, br;
	int t0 = tap("qt0");

	ck_assert_int_eq(net_bridge_create(nl, "qbr0", 0), 0);
	ck_assert_int_eq(net_bridge_create(nl, "qbr0", 0), -EEXIST);
	ck_assert_int_eq(net_bridge_create(nl, "qt0", 0), -EEXIST);
	/* the ifindex asked for, or -EEXIST when it is taken */
	ck_assert_int_eq(net_bridge_create(nl, "qbr1", 123456), 0);
	ck_assert_int_eq(net_link_get(nl, "qbr1", &br), 0);
	ck_assert_int_eq(br.ifindex, 123456);
	ck_assert_int_eq(net_bridge_create(nl, "qbr2", 123456), -EEXIST);
	ck_assert_int_eq(net_link_get(nl, "qbr2", &br), -ENODEV);
	ck_assert_int_eq(net_link_get(nl, "qbr0", &br), 0);
	ck_assert_str_eq(br.kind, "bridge");
	ck_assert(!br.is_tap);
	ck_assert_int_eq(net_link_set_master(nl, t0, br.ifindex), 0);
	ck_assert_int_eq(net_link_get_index(nl, t0, &l), 0);
	ck_assert_int_eq(l.master, br.ifindex);
	ck_assert_int_eq(net_link_set_master(nl, t0, 0), 0);
	ck_assert_int_eq(net_link_get_index(nl, t0, &l), 0);
	ck_assert_int_eq(l.master, 0);
	ck_assert_int_eq(net_link_delete(nl, br.ifindex), 0);
	ck_assert_int_eq(net_link_get(nl, "qbr0", &br), -ENODEV);
}
END_TEST

/* net_route_overlap(NET, EXCLUDE) */
static int
overlap(const char *net, int exclude, char *name)
{
	struct ipaddr n = ip(net);

	return net_route_overlap(nl, &n, exclude, name);
}

START_TEST(test_route_overlap)
{
	char name[IFNAMSIZ] = "";
	struct net_link br;
	struct net_route rt;
	struct ipaddr x;
	int t0 = tap("qt0");

	ck_assert_int_eq(net_bridge_create(nl, "qbr0", 0), 0);
	ck_assert_int_eq(net_link_get(nl, "qbr0", &br), 0);
	x = ip("172.21.0.1/16");
	ck_assert_int_eq(net_addr_add(nl, t0, &x), 0);
	x = ip("fd00:172:21::1/64");
	ck_assert_int_eq(net_addr_add(nl, t0, &x), 0);
	ck_assert_int_eq(net_link_set_up(nl, t0, true), 0);
	ck_assert_int_eq(overlap("172.21.5.0/24", br.ifindex, name), 1);
	ck_assert_str_eq(name, "qt0");
	ck_assert_int_eq(overlap("172.0.0.0/8", 0, name), 1);
	ck_assert_int_eq(overlap("172.22.0.0/16", br.ifindex, name), 0);
	ck_assert_int_eq(overlap("172.21.5.0/24", t0, name), 0);
	/* IPv6 prefixes alike; the other family never overlaps */
	ck_assert_int_eq(overlap("fd00:172::/32", br.ifindex, name), 1);
	ck_assert_int_eq(overlap("fd00:172:22::/64", br.ifindex, name), 0);
	/* one lookup says where traffic goes */
	x = ip("172.21.0.2");
	ck_assert_int_eq(net_route_get(nl, &x, &rt), 0);
	ck_assert_int_eq(rt.ifindex, t0);
	x = ip("10.1.2.3");
	ck_assert_int_eq(net_route_get(nl, &x, &rt), 0);
	ck_assert_int_eq(rt.ifindex, 0);
	/* The local table (172.21.0.1/32, broadcast) does not count. */
	x = ip("172.21.0.1/16");
	ck_assert_int_eq(net_addr_del(nl, t0, &x), 0);
	ck_assert_int_eq(overlap("172.21.0.1/32", 0, name), 0);
}
END_TEST

START_TEST(test_delete)
{
	struct net_link l;
	int t0 = tap("qt0");

	ck_assert_int_eq(net_link_delete(nl, t0), 0);
	ck_assert_int_eq(net_link_get(nl, "qt0", &l), -ENODEV);
	ck_assert_int_eq(net_link_get_index(nl, t0, &l), -ENODEV);
	ck_assert_int_eq(net_link_delete(nl, t0), -ENODEV);
}
END_TEST

/* In a child as uid: open the tap; exit status 0 or the errno. */
static int
open_as(const char *name, uid_t uid)
{
	pid_t pid;
	int st, fd;

	if ((pid = fork()) == 0) {
		if (setresgid(uid, uid, uid) != 0 ||
		    setresuid(uid, uid, uid) != 0)
			_exit(100);
		struct net_link l;
		struct net *un;

		if (net_open(&un) < 0 || net_link_get(un, name, &l) < 0)
			_exit(101);
		fd = net_tap_open(&l, false);
		_exit(fd >= 0 ? 0 : -fd);
	}
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

START_TEST(test_tap_open)
{
	struct ifreq ifr;
	struct net_link l;
	int fd;

	tap("qt0");
	ck_assert_int_eq(net_link_get(nl, "qt0", &l), 0);
	fd = net_tap_open(&l, false);
	ck_assert_int_ge(fd, 0);
	ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	memset(&ifr, 0, sizeof(ifr));
	ck_assert_int_eq(ioctl(fd, TUNGETIFF, &ifr), 0);
	ck_assert_str_eq(ifr.ifr_name, "qt0");
	ck_assert(ifr.ifr_flags & IFF_TAP);
	ck_assert(ifr.ifr_flags & IFF_NO_PI);
	ck_assert(ifr.ifr_flags & IFF_VNET_HDR);
	close(fd);
	/* Plain frames on request (for --capture). */
	fd = net_tap_open(&l, true);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ioctl(fd, TUNGETIFF, &ifr), 0);
	ck_assert(!(ifr.ifr_flags & IFF_VNET_HDR));
	close(fd);
	/* Persistent: still there once the queue is closed. */
	ck_assert_int_eq(net_link_get(nl, "qt0", &l), 0);
	/* The owner needs no privilege; anybody else is refused. */
	ck_assert_int_eq(open_as("qt0", 4242), 0);
	ck_assert_int_eq(open_as("qt0", 4343), EPERM);
}
END_TEST

/* Can this process make network namespaces with taps in them? */
static bool
can_unshare(void)
{
	pid_t pid;
	int st, fd;

	if ((pid = fork()) < 0)
		return false;
	if (pid == 0) {
		if (unshare(CLONE_NEWNET) != 0)
			_exit(1);
		if ((fd = open("/dev/net/tun", O_RDWR)) < 0)
			_exit(2);
		close(fd);
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return false;
	if (WEXITSTATUS(st) == 1)
		UNIT_SKIP(N_TESTS, "net: needs CAP_SYS_ADMIN for unshare -n");
	else if (WEXITSTATUS(st) != 0)
		UNIT_SKIP(N_TESTS, "net: cannot open /dev/net/tun");
	return WEXITSTATUS(st) == 0;
}

Suite *
net_suite(void)
{
	Suite *s;
	TCase *tc;

	if (!can_unshare())
		return NULL;
	s = suite_create("net");
	tc = tcase_create("netns");
	tcase_add_checked_fixture(tc, ns_setup, ns_teardown);
	tcase_add_test(tc, test_tap_create);
	tcase_add_test(tc, test_tap_create_open);
	tcase_add_test(tc, test_missing);
	tcase_add_test(tc, test_addr);
	tcase_add_test(tc, test_up_mtu);
	tcase_add_test(tc, test_bridge);
	tcase_add_test(tc, test_route_overlap);
	tcase_add_test(tc, test_delete);
	tcase_add_test(tc, test_tap_open);
	suite_add_tcase(s, tc);
	return s;
}
