/*
 * queues_test.c - net.queues and net.vhost (pure): the plan's checks,
 * netplan_vhost's decision, and QEMU's argv for 1 and 4 queues with
 * vhost off and on, with the open files of a real run and in the
 * pasteable form of --dry-run, against golden command lines.
 */
#include <stdlib.h>
#include <string.h>

#include "qrun.h"
#include "unit.h"

#define HEAD "qemu-system-x86_64 -accel kvm -m 256 -smp 1 -kernel /img/k " \
	"-append 'console=ttyS0 ip=172.21.0.2::172.21.0.1:255.255.0.0::" \
	":off' "
#define DEV "-device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56"

static void
set_str(char **field, const char *v)
{
	free(*field);
	*field = xstrdup(v);
}

/* A tap1 config with queues and vhost as given. */
static void
cfg(struct config *c, long queues, const char *vhost)
{
	config_init(c);
	c->net_mode = NET_TAP;
	set_str(&c->net_mac, "52:54:00:12:34:56");
	set_str(&c->net_vhost, vhost);
	c->net_queues = queues;
}

/* The argv line for c; real: with open files (taps 10.., vhost 20..),
 * else the dry run's. usable: /dev/vhost-net opens. */
static char *
line(struct config *c, bool real, bool usable)
{
	struct nicfds fds[NIC_MAX];
	struct netplan p;
	struct strv d = { 0 }, argv = { 0 };
	struct qemu_opts o = { .image = "/img/k", .type = IMG_BZIMAGE,
	    .accel = "kvm", .fds = real ? fds : NULL };
	char *l;

	for (int q = 0; q < QUEUE_MAX; q++) {
		fds[0].tap[q] = 10 + q;
		fds[0].vhost[q] = 20 + q;
	}
	ck_assert_int_eq(netplan_make(c, "jack", &p, &d), 0);
	netplan_vhost(&p, o.accel, usable);
	qemu_argv(c, &p, &o, &argv);
	l = qemu_cmdline(&argv);
	strv_free(&argv);
	config_free(c);
	return l;
}

struct golden {
	long queues;
	const char *vhost;
	bool real, usable;
	const char *argv;
};

static const struct golden goldens[] = {
	{ 1, "off", true, true, HEAD "-netdev tap,id=n0,fd=10 " DEV
	    " -nographic" },
	{ 1, "on", true, false, HEAD "-netdev tap,id=n0,fd=10,vhost=on,"
	    "vhostfd=20 " DEV " -nographic" },
	{ 1, "auto", true, true, HEAD "-netdev tap,id=n0,fd=10,vhost=on,"
	    "vhostfd=20 " DEV " -nographic" },
	{ 1, "auto", true, false, HEAD "-netdev tap,id=n0,fd=10 " DEV
	    " -nographic" },
	{ 4, "off", true, true, HEAD "-netdev tap,id=n0,fds=10:11:12:13 "
	    DEV ",mq=on,vectors=10 -nographic" },
	{ 4, "on", true, true, HEAD "-netdev tap,id=n0,fds=10:11:12:13,"
	    "vhost=on,vhostfds=20:21:22:23 " DEV ",mq=on,vectors=10 "
	    "-nographic" },
	{ 1, "off", false, true, HEAD "-netdev tap,id=n0,ifname=tap1,"
	    "script=no,downscript=no " DEV " -nographic" },
	{ 1, "on", false, true, HEAD "-netdev tap,id=n0,ifname=tap1,"
	    "script=no,downscript=no,vhost=on " DEV " -nographic" },
	{ 4, "off", false, true, HEAD "-netdev tap,id=n0,ifname=tap1,"
	    "script=no,downscript=no,queues=4 " DEV ",mq=on,vectors=10 "
	    "-nographic" },
	{ 4, "on", false, true, HEAD "-netdev tap,id=n0,ifname=tap1,"
	    "script=no,downscript=no,queues=4,vhost=on " DEV ",mq=on,"
	    "vectors=10 -nographic" },
	{ 16, "off", true, false, HEAD "-netdev tap,id=n0,fds=10:11:12:13:"
	    "14:15:16:17:18:19:20:21:22:23:24:25 " DEV ",mq=on,vectors=34 "
	    "-nographic" },
};

START_TEST(test_argv)
{
	const struct golden *g = &goldens[_i];
	struct config c;
	char *l;

	cfg(&c, g->queues, g->vhost);
	l = line(&c, g->real, g->usable);
	ck_assert_str_eq(l, g->argv);
	free(l);
}
END_TEST

/* auto: only with KVM, a tap, virtio, and no capture. */
START_TEST(test_vhost_auto)
{
	struct config c;
	struct netplan p;
	struct strv d = { 0 };

	cfg(&c, 1, "auto");
	ck_assert_int_eq(netplan_make(&c, "jack", &p, &d), 0);
	netplan_vhost(&p, "tcg", true);
	ck_assert(!p.nic[0].vhost_on);
	netplan_vhost(&p, "kvm", true);
	ck_assert(p.nic[0].vhost_on);
	netplan_vhost(&p, "kvm", false);
	ck_assert(!p.nic[0].vhost_on);
	set_str(&c.net_capture, "/tmp/x.pcap");
	ck_assert_int_eq(netplan_make(&c, "jack", &p, &d), 0);
	netplan_vhost(&p, "kvm", true);
	ck_assert(!p.nic[0].vhost_on);
	set_str(&c.net_capture, "");
	set_str(&c.net_model, "e1000");
	ck_assert_int_eq(netplan_make(&c, "jack", &p, &d), 0);
	netplan_vhost(&p, "kvm", true);
	ck_assert(!p.nic[0].vhost_on);
	c.net_mode = NET_USER;
	set_str(&c.net_model, "virtio-net-pci");
	ck_assert_int_eq(netplan_make(&c, "jack", &p, &d), 0);
	netplan_vhost(&p, "kvm", true);
	ck_assert(!p.nic[0].vhost_on);
	config_free(&c);
}
END_TEST

/* What the plan refuses, one line each. */
START_TEST(test_plan_refuses)
{
	struct config c;
	struct netplan p;
	struct strv d = { 0 };

	cfg(&c, 2, "auto");
	c.net_mode = NET_USER;
	ck_assert_int_eq(netplan_make(&c, "jack", &p, &d), -EINVAL);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_str_eq(d.v[0], "default: net.queues: 2 queues need a tap "
	    "(net.mode tap or bridge) and a virtio-net model, not user and "
	    "virtio-net-pci");
	strv_free(&d);
	c.net_mode = NET_TAP;
	set_str(&c.net_model, "e1000");
	set_str(&c.net_vhost, "on");
	ck_assert_int_eq(netplan_make(&c, "jack", &p, &d), -EINVAL);
	ck_assert_uint_eq(d.n, 2);
	ck_assert_str_eq(d.v[1], "default: net.vhost: on needs a tap "
	    "(net.mode tap or bridge), a virtio-net model and no net.capture "
	    "(vhost-net's frames never pass QEMU)");
	strv_free(&d);
	config_free(&c);
}
END_TEST

/* The keys as -o and a profile set them. */
START_TEST(test_keys)
{
	struct config c;
	struct strv d = { 0 };

	config_init(&c);
	ck_assert_str_eq(c.net_vhost, "auto");
	ck_assert_int_eq(c.net_queues, 1);
	ck_assert_int_eq(profile_set(&c, "net.queues", "17", NULL, &d),
	    -EINVAL);
	ck_assert_str_eq(d.v[0], "-o net.queues: must be between 1 and 16");
	ck_assert_int_eq(profile_set(&c, "net.vhost", "yes", NULL, &d),
	    -EINVAL);
	ck_assert_str_eq(d.v[1], "-o net.vhost: must be auto, on or off");
	ck_assert_int_eq(profile_set(&c, "net.queues", "4", NULL, &d), 0);
	ck_assert_int_eq(c.net_queues, 4);
	strv_free(&d);
	config_free(&c);
}
END_TEST

Suite *
queues_suite(void)
{
	Suite *s = suite_create("queues");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_argv, 0, (int)ARRAY_SIZE(goldens));
	tcase_add_test(tc, test_vhost_auto);
	tcase_add_test(tc, test_plan_refuses);
	tcase_add_test(tc, test_keys);
	suite_add_tcase(s, tc);
	return s;
}
