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
	struct in_addr a;
	int p = -1;

	ck_assert_int_eq(parse_ipv4("172.21.0.1/16", &a, &p, true), 0);
	ck_assert_int_eq(p, 16);
	ck_assert_uint_eq(ntohl(a.s_addr), 0xac150001);
	ck_assert_int_lt(parse_ipv4("172.21.0.1", &a, &p, true), 0);
	ck_assert_int_eq(parse_ipv4("172.21.0.2", &a, NULL, false), 0);
	ck_assert_int_lt(parse_ipv4("172.21.0.1/33", &a, &p, true), 0);
	ck_assert_int_lt(parse_ipv4("172.21.0/16", &a, &p, true), 0);
	ck_assert_int_lt(parse_ipv4("300.1.1.1/8", &a, &p, true), 0);
	ck_assert_int_lt(parse_ipv4("1.2.3.4/", &a, &p, true), 0);
	ck_assert_int_lt(parse_ipv4("1.2.3.4/x", &a, &p, true), 0);
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

Suite *
util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_shell_quote);
	tcase_add_test(tc, test_ifname);
	tcase_add_test(tc, test_parse_ipv4);
	tcase_add_test(tc, test_parse_mac_long);
	suite_add_tcase(s, tc);
	return s;
}
