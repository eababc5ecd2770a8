/*
 * qemu.c: what qrun adds to a -kernel boot's command line, and when it
 * leaves the user's own words alone (qrun(1), qrun.conf(5) qemu.append).
 */
#include <stdlib.h>
#include <string.h>

#include "qrun.h"
#include "unit.h"

/* The -append argument of a -kernel boot in tap mode on tap1; NULL when
 * there is none. Malloc'd. */
static char *
append_of(struct config *c)
{
	struct netplan p;
	struct strv d = { 0 }, argv = { 0 };
	struct nicfds fds[NIC_MAX] = { { .tap = { 7 } } };
	struct qemu_opts o = { .image = "/img/k", .type = IMG_BZIMAGE,
	    .accel = "tcg", .fds = fds, .batch = c->batch };
	char *a = NULL;

	ck_assert_int_eq(netplan_make(c, "jack", &p, &d), 0);
	qemu_argv(c, &p, &o, &argv);
	for (size_t i = 0; i + 1 < argv.n; i++)
		if (strcmp(argv.v[i], "-append") == 0)
			a = xstrdup(argv.v[i + 1]);
	strv_free(&argv);
	strv_free(&d);
	return a;
}

static void
cfg_tap1(struct config *c, const char *append)
{
	config_init(c);
	c->net_mode = NET_TAP;
	free(c->qemu_append);
	c->qemu_append = xstrdup(append);
}

#define ASSERT_APPEND(c, want) do {				\
	char *a_ = append_of(c);				\
	ck_assert_str_eq(a_ ? a_ : "(none)", want);		\
	free(a_);						\
} while (0)

/* ip= names no device: distro initramfs renames eth0 (ens3). */
START_TEST(test_ip_no_device)
{
	struct config c;

	cfg_tap1(&c, "console=ttyS0");
	ASSERT_APPEND(&c, "console=ttyS0 ip=172.21.0.2::172.21.0.1:"
	    "255.255.0.0:::off");
	config_free(&c);
}
END_TEST

/* The user's own ip= wins: qrun adds none. */
START_TEST(test_ip_users_wins)
{
	struct config c;

	cfg_tap1(&c, "console=ttyS0 ip=dhcp");
	ASSERT_APPEND(&c, "console=ttyS0 ip=dhcp");
	config_free(&c);
	cfg_tap1(&c, "ip=10.1.1.5::10.1.1.1:255.255.255.0::ens3:off quiet");
	ASSERT_APPEND(&c, "ip=10.1.1.5::10.1.1.1:255.255.255.0::ens3:off "
	    "quiet");
	config_free(&c);
	/* a word that only contains "ip=" is not an ip= word */
	cfg_tap1(&c, "noip=1 qrun.ip=x");
	ASSERT_APPEND(&c, "noip=1 qrun.ip=x ip=172.21.0.2::172.21.0.1:"
	    "255.255.0.0:::off");
	config_free(&c);
}
END_TEST

/* net.kernel_ip = false: no ip= at all. */
START_TEST(test_ip_off)
{
	struct config c;
	struct strv d = { 0 };

	cfg_tap1(&c, "console=ttyS0");
	ck_assert_int_eq(profile_set(&c, "net.kernel_ip", "false", NULL, &d),
	    0);
	ck_assert(!c.net_kernel_ip);
	ASSERT_APPEND(&c, "console=ttyS0");
	free(c.qemu_append);
	c.qemu_append = xstrdup("");
	ASSERT_APPEND(&c, "(none)");
	strv_free(&d);
	config_free(&c);
}
END_TEST

/* Batch mode adds panic=-1 only when the user has no panic= word. */
START_TEST(test_panic_users_wins)
{
	struct config c;

	cfg_tap1(&c, "console=ttyS0");
	c.net_kernel_ip = false;
	c.batch = true;
	ASSERT_APPEND(&c, "console=ttyS0 panic=-1");
	free(c.qemu_append);
	c.qemu_append = xstrdup("console=ttyS0 panic=0 boot=nfs");
	ASSERT_APPEND(&c, "console=ttyS0 panic=0 boot=nfs");
	free(c.qemu_append);
	c.qemu_append = xstrdup("");
	ASSERT_APPEND(&c, "panic=-1");
	c.batch = false;
	ASSERT_APPEND(&c, "(none)");
	config_free(&c);
}
END_TEST

Suite *
qemu_suite(void)
{
	Suite *s = suite_create("qemu");
	TCase *tc = tcase_create("append");

	tcase_add_test(tc, test_ip_no_device);
	tcase_add_test(tc, test_ip_users_wins);
	tcase_add_test(tc, test_ip_off);
	tcase_add_test(tc, test_panic_users_wins);
	suite_add_tcase(s, tc);
	return s;
}
