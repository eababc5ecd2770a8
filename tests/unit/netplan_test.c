/* The network plan and the QEMU argv: pure functions, plain structs. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "qrun.h"
#include "unit.h"

static void
cfg_tap(struct config *c, const char *tap)
{
	config_init(c);
	free(c->net_tap);
	c->net_tap = xstrdup(tap);
	c->net_mode = NET_TAP;
}

static void
set_str(char **field, const char *v)
{
	free(*field);
	*field = xstrdup(v);
}

static char *
diag_join(const struct strv *d)
{
	return xstrdup(d->n ? d->v[0] : "");
}

START_TEST(test_tap_defaults)
{
	static const char *want[][2] = {
		{ "172.20.0.1", "172.20.0.2" }, { "172.21.0.1", "172.21.0.2" },
		{ "172.22.0.1", "172.22.0.2" }, { "172.23.0.1", "172.23.0.2" },
		{ "172.24.0.1", "172.24.0.2" }, { "172.25.0.1", "172.25.0.2" },
		{ "172.26.0.1", "172.26.0.2" }, { "172.27.0.1", "172.27.0.2" },
		{ "172.28.0.1", "172.28.0.2" }, { "172.29.0.1", "172.29.0.2" },
		{ "172.30.0.1", "172.30.0.2" }, { "172.31.0.1", "172.31.0.2" },
	};
	for (int n = 0; n <= 11; n++) {
		struct config c;
		struct netplan p;
		struct strv d = { 0 };
		char tap[8], h[IPADDR_STRLEN], g[IPADDR_STRLEN];

		snprintf(tap, sizeof(tap), "tap%d", n);
		cfg_tap(&c, tap);
		ck_assert_int_eq(netplan_make(&c, "jack", &p, &d), 0);
		ck_assert_str_eq(ipaddr_str(&p.nic[0].host, h), want[n][0]);
		ck_assert_str_eq(ipaddr_str(&p.nic[0].guest, g), want[n][1]);
		ck_assert_str_eq(ipaddr_str(&p.nic[0].gw, h), want[n][0]);
		ck_assert_int_eq(p.nic[0].host.prefix, 16);
		ck_assert_str_eq(p.nic[0].tap, tap);
		strv_free(&d);
		config_free(&c);
	}
}
END_TEST

/* net.keep and net.capture reach the plan: keep the tap, plain frames. */
START_TEST(test_keep_capture)
{
	struct config c;
	struct netplan p;
	struct strv d = { 0 };

	cfg_tap(&c, "tap1");
	ck_assert_int_eq(netplan_make(&c, "jack", &p, &d), 0);
	ck_assert(!p.keep && !p.nic[0].plain_frames);
	c.net_keep = true;
	set_str(&c.net_capture, "/tmp/x.pcap");
	ck_assert_int_eq(netplan_make(&c, "jack", &p, &d), 0);
	ck_assert(p.keep && p.nic[0].plain_frames);
	strv_free(&d);
	config_free(&c);
}
END_TEST

START_TEST(test_tap_no_default)
{
	const char *names[] = { "tap12", "devtap", "tap01", "tap" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		struct config c;
		struct netplan p;
		struct strv d = { 0 };
		char *msg, want[256];

		cfg_tap(&c, names[i]);
		set_str(&c.where[K_NET_TAP], "x.conf:4");
		ck_assert_int_eq(netplan_make(&c, "jack", &p, &d), -EINVAL);
		ck_assert_uint_eq(d.n, 1);
		msg = diag_join(&d);
		snprintf(want, sizeof(want), "x.conf:4: net.tap: %s has no "
		    "default address (only tap0..tap11 do); set net.host_addr "
		    "and net.guest_addr", names[i]);
		ck_assert_str_eq(msg, want);
		free(msg);
		strv_free(&d);
		config_free(&c);
	}
}
END_TEST

START_TEST(test_explicit_addrs)
{
	struct config c;
	struct netplan p;
	struct strv d = { 0 };
	char h[IPADDR_STRLEN], *ip;

	cfg_tap(&c, "devtap");
	set_str(&c.net_host_addr, "192.168.77.1/24");
	set_str(&c.net_guest_addr, "192.168.77.9");
	ck_assert_int_eq(netplan_make(&c, "jack", &p, &d), 0);
	ck_assert_str_eq(ipaddr_str(&p.nic[0].host, h), "192.168.77.1");
	ck_assert_str_eq(ipaddr_str(&p.nic[0].guest, h), "192.168.77.9");
	ck_assert_int_eq(p.nic[0].host.prefix, 24);
	ip = netplan_kernel_ip(&p);
	ck_assert_str_eq(ip, "ip=192.168.77.9::192.168.77.1:255.255.255.0::"
	    ":off");
	free(ip);
	/* host only: the guest is the next address */
	set_str(&c.net_guest_addr, "");
	ck_assert_int_eq(netplan_make(&c, "jack", &p, &d), 0);
	ck_assert_str_eq(ipaddr_str(&p.nic[0].guest, h), "192.168.77.2");
	/* guest outside the host's network */
	set_str(&c.net_guest_addr, "192.168.78.9");
	set_str(&c.where[K_NET_GUEST_ADDR], "y.conf:7");
	ck_assert_int_eq(netplan_make(&c, "jack", &p, &d), -EINVAL);
	ck_assert_str_eq(d.v[0], "y.conf:7: net.guest_addr: 192.168.78.9 is "
	    "not a free host address in the network of 192.168.77.1/24");
	strv_free(&d);
	/* guest equal to host, and the broadcast address */
	set_str(&c.net_guest_addr, "192.168.77.1");
	ck_assert_int_eq(netplan_make(&c, "jack", &p, &d), -EINVAL);
	set_str(&c.net_guest_addr, "192.168.77.255");
	ck_assert_int_eq(netplan_make(&c, "jack", &p, &d), -EINVAL);
	set_str(&c.net_guest_addr, "192.168.77");
	ck_assert_int_eq(netplan_make(&c, "jack", &p, &d), -EINVAL);
	ck_assert_uint_eq(d.n, 3);
	strv_free(&d);
	config_free(&c);
}
END_TEST

/*
 * IPv6 on a tap: tapN's fd00:172:(20+N)::1/64 (the decimal digits of
 * 20+N read as hex), the guest's SLAAC address from its MAC, explicit
 * values checked against the /64, off with net.ipv6 = false.
 */
START_TEST(test_ipv6)
{
	struct config c;
	struct netplan p;
	struct strv d = { 0 };
	char a[IPADDR_STRLEN], want[64];

	for (int n = 0; n <= 11; n++) {
		snprintf(a, sizeof(a), "tap%d", n);
		cfg_tap(&c, a);
		ck_assert_int_eq(netplan_make(&c, "jack", &p, &d), 0);
		snprintf(want, sizeof(want), "fd00:172:%d::1/64", 20 + n);
		ck_assert_str_eq(ipaddr_cidr(&p.nic[0].host6, a), want);
		config_free(&c);
	}
	cfg_tap(&c, "tap1");
	set_str(&c.net_mac, "52:54:00:12:34:56");
	ck_assert_int_eq(netplan_make(&c, "jack", &p, &d), 0);
	ck_assert_str_eq(ipaddr_str(&p.nic[0].guest6, a),
	    "fd00:172:21:0:5054:ff:fe12:3456");
	set_str(&c.net_host_addr6, "fd12:3456::1/64");
	set_str(&c.net_guest_addr6, "fd12:3456::77");
	ck_assert_int_eq(netplan_make(&c, "jack", &p, &d), 0);
	ck_assert_str_eq(ipaddr_cidr(&p.nic[0].host6, a), "fd12:3456::1/64");
	ck_assert_str_eq(ipaddr_str(&p.nic[0].guest6, a), "fd12:3456::77");
	/* outside the /64, or the host's own */
	set_str(&c.net_guest_addr6, "fd12:3457::77");
	set_str(&c.where[K_NET_GUEST_ADDR6], "z.conf:3");
	ck_assert_int_eq(netplan_make(&c, "jack", &p, &d), -EINVAL);
	ck_assert_str_eq(d.v[0], "z.conf:3: net.guest_addr6: fd12:3457::77 is "
	    "not a free host address in the network of fd12:3456::1/64");
	set_str(&c.net_guest_addr6, "fd12:3456::1");
	ck_assert_int_eq(netplan_make(&c, "jack", &p, &d), -EINVAL);
	strv_free(&d);
	/* off: no IPv6 at all, whatever else says */
	c.net_ipv6 = false;
	ck_assert_int_eq(netplan_make(&c, "jack", &p, &d), 0);
	ck_assert_int_eq(p.nic[0].host6.family, 0);
	ck_assert_int_eq(p.nic[0].guest6.family, 0);
	config_free(&c);
	/* a tap without a number: IPv6 only with host_addr6 */
	cfg_tap(&c, "devtap");
	set_str(&c.net_host_addr, "192.168.77.1/24");
	ck_assert_int_eq(netplan_make(&c, "jack", &p, &d), 0);
	ck_assert_int_eq(p.nic[0].host6.family, 0);
	set_str(&c.net_guest_addr6, "fd12:3456::77");
	ck_assert_int_eq(netplan_make(&c, "jack", &p, &d), -EINVAL);
	strv_free(&d);
	config_free(&c);
}
END_TEST

START_TEST(test_mac)
{
	uint8_t a[6], b[6], c2[6];
	struct config c;
	struct netplan p;
	struct strv d = { 0 };

	netplan_mac("tap1", "jack", a);
	netplan_mac("tap1", "jack", b);
	ck_assert_mem_eq(a, b, 6);
	ck_assert_uint_eq(a[0], 0x52);
	ck_assert_uint_eq(a[1], 0x54);
	ck_assert_uint_eq(a[2], 0x00);
	netplan_mac("tap1", "jill", c2);
	ck_assert(memcmp(a, c2, 6) != 0);
	netplan_mac("tap2", "jack", c2);
	ck_assert(memcmp(a, c2, 6) != 0);
	/* "tap1"+"0jack" must differ from "tap10"+"jack" */
	netplan_mac("tap10", "jack", b);
	netplan_mac("tap1", "0jack", c2);
	ck_assert(memcmp(b, c2, 6) != 0);
	cfg_tap(&c, "tap1");
	set_str(&c.net_mac, "52:54:00:aa:bb:cc");
	ck_assert_int_eq(netplan_make(&c, "jack", &p, &d), 0);
	ck_assert_uint_eq(p.nic[0].mac[5], 0xcc);
	set_str(&c.net_mac, "zz");
	ck_assert_int_eq(netplan_make(&c, "jack", &p, &d), -EINVAL);
	strv_free(&d);
	config_free(&c);
}
END_TEST

START_TEST(test_hint_and_ip)
{
	struct config c;
	struct netplan p;
	struct strv d = { 0 };
	char *hint, *ip, want[192];
	uint8_t m[6];

	cfg_tap(&c, "tap1");
	ck_assert_int_eq(netplan_make(&c, "jack", &p, &d), 0);
	netplan_mac("tap1", "jack", m);
	hint = netplan_hint(&p);
	snprintf(want, sizeof(want), "tap1 172.21.0.1/16 -> guest 172.21.0.2 "
	    "gw 172.21.0.1 mac 52:54:00:%02x:%02x:%02x guest6 "
	    "fd00:172:21:0:5054:ff:fe%02x:%02x%02x", m[3], m[4], m[5], m[3],
	    m[4], m[5]);
	ck_assert_str_eq(hint, want);
	ip = netplan_kernel_ip(&p);
	ck_assert_str_eq(ip, "ip=172.21.0.2::172.21.0.1:255.255.0.0:::off");
	free(hint);
	free(ip);
	config_free(&c);
}
END_TEST

START_TEST(test_user_forwards)
{
	struct config c;
	struct netplan p;
	struct strv d = { 0 };
	char *ip;

	config_init(&c);
	c.net_mode = NET_USER;
	strv_push(&c.net_forwards, "tcp:2222:22");
	strv_push(&c.net_forwards, "8080:80");
	strv_push(&c.net_forwards, "udp:5353:53");
	ck_assert_int_eq(netplan_make(&c, "jack", &p, &d), 0);
	ck_assert_uint_eq(p.nic[0].nfwd, 3);
	ck_assert_str_eq(p.nic[0].fwd[1].proto, "tcp");
	ck_assert_uint_eq(p.nic[0].fwd[1].host_port, 8080);
	ck_assert_uint_eq(p.nic[0].fwd[1].guest_port, 80);
	ck_assert_str_eq(p.nic[0].fwd[2].proto, "udp");
	ip = netplan_kernel_ip(&p);
	ck_assert_str_eq(ip, "ip=10.0.2.15::10.0.2.2:255.255.255.0:::off");
	free(ip);
	config_free(&c);
}
END_TEST

/* qemu_argv for each mode, against golden command lines. */
static char *
argv_line(struct config *c, enum image_type t, int fd)
{
	struct netplan p;
	struct strv d = { 0 }, argv = { 0 };
	struct nicfds fds[NIC_MAX] = { { .tap = { fd } } };
	struct qemu_opts o = { .image = "/img/k", .type = t, .accel = "tcg",
	    .fds = fd >= 0 ? fds : NULL, .batch = c->batch };
	char *line;

	ck_assert_int_eq(netplan_make(c, "jack", &p, &d), 0);
	qemu_argv(c, &p, &o, &argv);
	line = qemu_cmdline(&argv);
	strv_free(&argv);
	return line;
}

START_TEST(test_argv_modes)
{
	struct config c;
	char *l;

	config_init(&c);
	set_str(&c.net_mac, "52:54:00:12:34:56");
	c.net_mode = NET_NONE;
	l = argv_line(&c, IMG_QCOW2, -1);
	ck_assert_str_eq(l, "qemu-system-x86_64 -accel tcg -m 256 -smp 1 "
	    "-drive file=/img/k,format=qcow2 -nic none -nographic");
	free(l);
	c.net_mode = NET_USER;
	strv_push(&c.net_forwards, "tcp:2222:22");
	l = argv_line(&c, IMG_BZIMAGE, -1);
	ck_assert_str_eq(l, "qemu-system-x86_64 -accel tcg -m 256 -smp 1 "
	    "-kernel /img/k -append 'console=ttyS0 ip=10.0.2.15::10.0.2.2:"
	    "255.255.255.0:::off' -netdev user,id=n0,hostfwd=tcp:"
	    "127.0.0.1:2222-:22 -device virtio-net-pci,netdev=n0,mac=52:54:"
	    "00:12:34:56 -nographic");
	free(l);
	c.net_mode = NET_TAP;
	set_str(&c.net_tap, "tap1");
	l = argv_line(&c, IMG_ISO, -1);
	ck_assert_str_eq(l, "qemu-system-x86_64 -accel tcg -m 256 -smp 1 "
	    "-drive file=/img/k,format=raw,media=cdrom -netdev tap,id=n0,"
	    "ifname=tap1,script=no,downscript=no -device virtio-net-pci,"
	    "netdev=n0,mac=52:54:00:12:34:56 -nographic");
	free(l);
	c.test_success_code = 3;
	c.batch = true;
	set_str(&c.net_capture, "/tmp/a,b.pcap");
	l = argv_line(&c, IMG_MULTIBOOT, 7);
	ck_assert_str_eq(l, "qemu-system-x86_64 -accel tcg -m 256 -smp 1 "
	    "-kernel /img/k -append 'console=ttyS0 ip=172.21.0.2::172.21.0.1:"
	    "255.255.0.0:::off panic=-1' -netdev tap,id=n0,fd=7 -device "
	    "virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56 -object "
	    "filter-dump,id=cap0,netdev=n0,file=/tmp/a,,b.pcap -no-reboot "
	    "-device isa-debug-exit,iobase=0xf4,iosize=0x04 -nographic");
	free(l);
	config_free(&c);
}
END_TEST

START_TEST(test_accel)
{
	ck_assert_str_eq(qemu_accel_pick("kvm:tcg", true), "kvm");
	ck_assert_str_eq(qemu_accel_pick("kvm:tcg", false), "tcg");
	ck_assert_str_eq(qemu_accel_pick("tcg", true), "tcg");
	ck_assert_str_eq(qemu_accel_pick("kvm", false), "kvm");
}
END_TEST

/* net.mode "switch": qbrN from tapN, slot k's tap, guest and MAC. */
START_TEST(test_switch)
{
	struct config c;
	struct netplan p;
	struct strv d = { 0 };
	char b[IPADDR_STRLEN], *hint, *ip;
	uint8_t mac[6];

	cfg_tap(&c, "tap2");
	c.net_mode = NET_SWITCH;
	c.net_slot = 5;
	ck_assert_int_eq(netplan_make(&c, "jack", &p, &d), 0);
	ck_assert_str_eq(p.nic[0].bridge, "qbr2");
	ck_assert_str_eq(p.nic[0].tap, "qtap2-5");
	ck_assert_int_eq(p.nic[0].sw, 2);
	ck_assert_str_eq(ipaddr_cidr(&p.nic[0].host, b), "172.22.0.1/16");
	ck_assert_str_eq(ipaddr_cidr(&p.nic[0].guest, b), "172.22.0.6/16");
	netplan_mac("qtap2-5", "jack", mac);
	ck_assert_mem_eq(p.nic[0].mac, mac, 6);
	hint = netplan_hint(&p);
	ck_assert_str_eq(hint, "qtap2-5 on qbr2 172.22.0.1/16 slot 5 -> "
	    "guest 172.22.0.6 gw 172.22.0.1 mac 52:54:00:17:b8:e0 guest6 "
	    "fd00:172:22:0:5054:ff:fe17:b8e0");
	free(hint);
	ip = netplan_kernel_ip(&p);
	ck_assert_str_eq(ip, "ip=172.22.0.6::172.22.0.1:255.255.0.0:::off");
	free(ip);
	/* the claim's slot: the guest, tap and MAC follow it */
	netplan_take_slot(&p.nic[0], 253, "jack");
	ck_assert_str_eq(p.nic[0].tap, "qtap2-253");
	ck_assert_str_eq(ipaddr_str(&p.nic[0].guest, b), "172.22.0.254");
	netplan_mac("qtap2-253", "jack", mac);
	ck_assert_mem_eq(p.nic[0].mac, mac, 6);
	/* a switch is numbered by tap0..tap11 */
	set_str(&c.net_tap, "eth0");
	ck_assert_int_eq(netplan_make(&c, "jack", &p, &d), -EINVAL);
	ck_assert(strstr(d.v[0], "net.tap: a switch is numbered by the "
	    "developer's tap, tap0..tap11, not eth0") != NULL);
	strv_free(&d);
	config_free(&c);
}
END_TEST

/* net.tap "auto": no tap until the claim; then tapN's lab addresses. */
START_TEST(test_tap_auto)
{
	struct config c;
	struct netplan p;
	struct strv d = { 0 };
	char b[IPADDR_STRLEN], *hint;
	uint8_t mac[6];

	cfg_tap(&c, "auto");
	ck_assert_int_eq(netplan_make(&c, "jack", &p, &d), 0);
	ck_assert(p.nic[0].tap_auto);
	hint = netplan_hint(&p);
	ck_assert(strncmp(hint, "tap auto: the first free", 24) == 0);
	free(hint);
	netplan_take_tap(&p.nic[0], "tap3", "jack");
	ck_assert_str_eq(p.nic[0].tap, "tap3");
	ck_assert_str_eq(ipaddr_cidr(&p.nic[0].host, b), "172.23.0.1/16");
	ck_assert_str_eq(ipaddr_str(&p.nic[0].guest, b), "172.23.0.2");
	ck_assert_str_eq(ipaddr_cidr(&p.nic[0].host6, b), "fd00:172:23::1/64");
	netplan_mac("tap3", "jack", mac);
	ck_assert_mem_eq(p.nic[0].mac, mac, 6);
	set_str(&c.net_guest_addr, "172.23.0.9");
	ck_assert_int_eq(netplan_make(&c, "jack", &p, &d), -EINVAL);
	ck_assert(strstr(d.v[0], "net.guest_addr: not with net.tap "
	    "\"auto\"") != NULL);
	strv_free(&d);
	config_free(&c);
}
END_TEST

Suite *
netplan_suite(void)
{
	Suite *s = suite_create("netplan");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_tap_defaults);
	tcase_add_test(tc, test_keep_capture);
	tcase_add_test(tc, test_tap_no_default);
	tcase_add_test(tc, test_explicit_addrs);
	tcase_add_test(tc, test_ipv6);
	tcase_add_test(tc, test_mac);
	tcase_add_test(tc, test_hint_and_ip);
	tcase_add_test(tc, test_user_forwards);
	tcase_add_test(tc, test_argv_modes);
	tcase_add_test(tc, test_accel);
	tcase_add_test(tc, test_switch);
	tcase_add_test(tc, test_tap_auto);
	suite_add_tcase(s, tc);
	return s;
}
