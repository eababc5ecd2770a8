#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "qrun.h"
#include "unit.h"

START_TEST(test_shell_quote)
{
	const char *cases[][2] = {
		{ "plain-word_1.2", "plain-word_1.2" },
		{ "", "''" },
		{ "two words", "'two words'" },
		{ "it's", "'it'\\''s'" },
		{ "$HOME", "'$HOME'" },
		{ "a=b,c:d", "a=b,c:d" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *q = shell_quote(cases[i][0]);
		ck_assert_str_eq(q, cases[i][1]);
		free(q);
	}
}
END_TEST

START_TEST(test_ifname)
{
	const char *why;

	ck_assert_int_eq(ifname_check("tap1", &why), 0);
	ck_assert_int_eq(ifname_check("abcdefghijklmno", &why), 0);
	ck_assert_int_lt(ifname_check("abcdefghijklmnop", &why), 0);
	ck_assert_str_eq(why, "name too long (max 15)");
	ck_assert_int_lt(ifname_check("a/b", &why), 0);
	ck_assert_str_eq(why, "name contains '/'");
	ck_assert_int_lt(ifname_check("a b", &why), 0);
	ck_assert_str_eq(why, "name contains whitespace");
	ck_assert_int_lt(ifname_check("..", &why), 0);
	ck_assert_str_eq(why, "name contains '..'");
	ck_assert_int_lt(ifname_check("", &why), 0);
}
END_TEST

START_TEST(test_parse_ipv4)
{
	struct ipaddr a;

	ck_assert_int_eq(ipaddr_parse("172.21.0.1/16", IPA_PREFIX, &a), 0);
	ck_assert_int_eq(a.family, AF_INET);
	ck_assert_int_eq(a.prefix, 16);
	ck_assert_uint_eq(ntohl(a.u.v4.s_addr), 0xac150001);
	ck_assert_int_lt(ipaddr_parse("172.21.0.1", IPA_PREFIX, &a), 0);
	ck_assert_int_eq(ipaddr_parse("172.21.0.2", IPA_NOPREFIX, &a), 0);
	ck_assert_int_eq(a.prefix, -1);
	ck_assert_int_lt(ipaddr_parse("172.21.0.2/8", IPA_NOPREFIX, &a), 0);
	ck_assert_int_lt(ipaddr_parse("172.21.0.1/33", IPA_PREFIX, &a), 0);
	ck_assert_int_lt(ipaddr_parse("172.21.0/16", IPA_PREFIX, &a), 0);
	ck_assert_int_lt(ipaddr_parse("300.1.1.1/8", IPA_PREFIX, &a), 0);
	ck_assert_int_lt(ipaddr_parse("1.2.3.4/", IPA_PREFIX, &a), 0);
	ck_assert_int_lt(ipaddr_parse("1.2.3.4/x", IPA_PREFIX, &a), 0);
	ck_assert_int_lt(ipaddr_parse("fd00::1/64", IPA_V4, &a), 0);
	ck_assert_int_lt(ipaddr_parse("10.0.0.1/8", IPA_V6, &a), 0);
}
END_TEST

/* IPv6 is data: the same parse, print, compare and mask. */
START_TEST(test_ipaddr_v6)
{
	struct ipaddr a, b, n;
	char buf[IPADDR_STRLEN];
	const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

	ck_assert_int_eq(ipaddr_parse("fd00:172:21::1/64", IPA_PREFIX, &a), 0);
	ck_assert_int_eq(a.family, AF_INET6);
	ck_assert_str_eq(ipaddr_cidr(&a, buf), "fd00:172:21::1/64");
	n = ipaddr_net(&a);
	ck_assert_str_eq(ipaddr_cidr(&n, buf), "fd00:172:21::/64");
	ck_assert_int_eq(ipaddr_parse("fd00:172:21:0:5054:ff:fe12:3456", 0,
	    &b), 0);
	ck_assert(ipaddr_contains(&a, &b));
	ck_assert_int_lt(ipaddr_parse("fd00:172:22::1/129", IPA_PREFIX, &b), 0);
	ck_assert_int_eq(ipaddr_parse("fd00:172::/32", IPA_PREFIX, &b), 0);
	ck_assert(ipaddr_overlap(&a, &b) && ipaddr_overlap(&b, &a));
	b = ipaddr_eui64(&a, mac);
	ck_assert_str_eq(ipaddr_cidr(&b, buf),
	    "fd00:172:21:0:5054:ff:fe12:3456/64");
	ck_assert(ipaddr_private(&a));
	ck_assert_int_eq(ipaddr_parse("2001:db8::1/64", IPA_PREFIX, &b), 0);
	ck_assert(!ipaddr_private(&b));
}
END_TEST

/* The host addresses no interface may take, each with its reason. */
START_TEST(test_ipaddr_refuse)
{
	static const struct { const char *a, *why; } t[] = {
		{ "127.0.0.2/8", "a loopback address" },
		{ "224.0.0.1/4", "a multicast address" },
		{ "169.254.1.1/16", "a link-local address" },
		{ "0.1.2.3/8", "the unspecified address" },
		{ "240.0.0.1/4", "a reserved address" },
		{ "10.0.0.0/8", "the network address of its prefix" },
		{ "10.255.255.255/8", "the broadcast address of its prefix" },
		{ "::1/128", "a loopback address" },
		{ "fe80::1/64", "a link-local address" },
		{ "ff02::1/16", "a multicast address" },
		{ "fd00:172:21::/64",
		    "the subnet-router anycast address of its prefix" },
		{ "172.21.0.1/16", NULL }, { "128.0.0.1/1", NULL },
		{ "fd00:172:21::1/64", NULL },
	};
	struct ipaddr a;
	const char *why;

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		ck_assert_int_eq(ipaddr_parse(t[i].a, IPA_PREFIX, &a), 0);
		why = ipaddr_refuse(&a);
		if (t[i].why == NULL)
			ck_assert_msg(why == NULL, "%s: %s", t[i].a, why);
		else
			ck_assert_msg(why && strcmp(why, t[i].why) == 0,
			    "%s: %s", t[i].a, why ? why : "(accepted)");
	}
	ck_assert_int_eq(ipaddr_parse("128.0.0.1/1", IPA_PREFIX, &a), 0);
	ck_assert(!ipaddr_private(&a));
	ck_assert_int_eq(ipaddr_parse("172.21.0.1/16", IPA_PREFIX, &a), 0);
	ck_assert(ipaddr_private(&a));
	ck_assert_int_eq(ipaddr_parse("172.0.0.1/8", IPA_PREFIX, &a), 0);
	ck_assert(!ipaddr_private(&a));
}
END_TEST

START_TEST(test_parse_mac_long)
{
	uint8_t m[6];
	long v;

	ck_assert_int_eq(parse_mac("52:54:00:12:34:5f", m), 0);
	ck_assert_uint_eq(m[5], 0x5f);
	ck_assert_int_lt(parse_mac("52:54:00:12:34", m), 0);
	ck_assert_int_lt(parse_mac("52:54:00:12:34:5g", m), 0);
	ck_assert_int_lt(parse_mac("52-54-00-12-34-56", m), 0);
	ck_assert_int_eq(parse_long("384", 1, 1024, &v), 0);
	ck_assert_int_eq(v, 384);
	ck_assert_int_eq(parse_long("0", 1, 1024, &v), -ERANGE);
	ck_assert_int_eq(parse_long("12x", 1, 1024, &v), -EINVAL);
	ck_assert_int_eq(parse_long("", 1, 1024, &v), -EINVAL);
}
END_TEST

START_TEST(test_str_distance)
{
	ck_assert_uint_eq(str_distance("status", "status"), 0);
	ck_assert_uint_eq(str_distance("stauts", "status"), 1);	/* swap */
	ck_assert_uint_eq(str_distance("timout", "timeout"), 1);	/* insert */
	ck_assert_uint_eq(str_distance("checkk", "check"), 1);	/* delete */
	ck_assert_uint_eq(str_distance("qemu.memroy", "qemu.memory"), 1);
	ck_assert_uint_eq(str_distance("boot", "bxxt"), 2);
	ck_assert_uint_eq(str_distance("", "tap"), 3);
	ck_assert_uint_eq(str_distance("kitten", "sitting"), 3);
	ck_assert_uint_eq(str_distance("ca", "abc"), 3);	/* OSA, not Damerau */
	ck_assert_uint_eq(str_distance("x", "abcdefghijklmnopqrstuvwxyzabcdefg"
	    "hijklmnopqrstuvwxyzabcdefghijkl"), SIZE_MAX);
}
END_TEST

START_TEST(test_str_nearest)
{
	struct strv c = { 0 };
	const char *words[] = { "boot", "check", "cleanup", "status", "tap",
	    "bridge", "doctor", "shell", "help" };

	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		strv_push(&c, words[i]);
	ck_assert_str_eq(str_nearest("stauts", &c, 0), "status");
	ck_assert_str_eq(str_nearest("chekc", &c, 0), "check");
	ck_assert_str_eq(str_nearest("bot", &c, 0), "boot");
	ck_assert_str_eq(str_nearest("doctr", &c, 0), "doctor");
	ck_assert_ptr_null(str_nearest("vmlinuz", &c, 0));
	ck_assert_ptr_null(str_nearest("bogus", &c, 0));	/* 3 from boot */
	ck_assert_str_eq(str_nearest("bogus", &c, 3), "boot");
	ck_assert_ptr_null(str_nearest("x", &c, 0));	/* all of it */
	ck_assert_ptr_null(str_nearest("", &c, 0));
	strv_free(&c);
	ck_assert_ptr_null(str_nearest("status", &c, 0));	/* none */
	strv_push(&c, "--tap");
	strv_push(&c, "--tip");
	ck_assert_str_eq(str_nearest("--top", &c, 0), "--tap");	/* a tie */
	strv_free(&c);
}
END_TEST

Suite *
util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_shell_quote);
	tcase_add_test(tc, test_ifname);
	tcase_add_test(tc, test_parse_ipv4);
	tcase_add_test(tc, test_ipaddr_v6);
	tcase_add_test(tc, test_ipaddr_refuse);
	tcase_add_test(tc, test_parse_mac_long);
	tcase_add_test(tc, test_str_distance);
	tcase_add_test(tc, test_str_nearest);
	suite_add_tcase(s, tc);
	return s;
}
