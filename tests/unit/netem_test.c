/*
 * netem_test.c - net.netem: tc-netem words into struct netem (netem.c,
 * pure), and in a private network namespace the impairment of a tap
 * (impair.c): made and undone with the journal, or, on a kernel without
 * netem, refused with every piece made before undone.
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

#define N_NS_TESTS 1
#define PCT(p) ((uint32_t)((double)(p) / 100 * UINT32_MAX + 0.5))

START_TEST(test_parse_good)
{
	struct netem ne;
	char why[256] = "";

	ck_assert_int_eq(netem_parse("delay 20ms 5ms loss 1% rate 10mbit",
	    &ne, why, sizeof(why)), 0);
	ck_assert(ne.on);
	ck_assert_uint_eq(ne.delay_us, 20000);
	ck_assert_uint_eq(ne.jitter_us, 5000);
	ck_assert_uint_eq(ne.loss, PCT(1));
	ck_assert_uint_eq(ne.rate, 1250000);
	ck_assert_uint_eq(ne.duplicate, 0);
	ck_assert_int_eq(netem_parse("  rate 1Gbit\tloss 100%  duplicate 0.5% "
	    "reorder 25% delay 1.5s", &ne, why, sizeof(why)), 0);
	ck_assert_uint_eq(ne.rate, 125000000);
	ck_assert_uint_eq(ne.loss, UINT32_MAX);
	ck_assert_uint_eq(ne.duplicate, PCT(0.5));
	ck_assert_uint_eq(ne.reorder, PCT(25));
	ck_assert_uint_eq(ne.delay_us, 1500000);
	ck_assert_uint_eq(ne.jitter_us, 0);
	ck_assert_int_eq(netem_parse("delay 100us rate 8bit", &ne, why,
	    sizeof(why)), 0);
	ck_assert_uint_eq(ne.delay_us, 100);
	ck_assert_uint_eq(ne.rate, 1);
	ck_assert_int_eq(netem_parse("rate 2kbps delay 0ms", &ne, why,
	    sizeof(why)), 0);
	ck_assert_uint_eq(ne.rate, 2000);
	ck_assert(ne.on);
	ck_assert_int_eq(netem_parse("", &ne, why, sizeof(why)), 0);
	ck_assert(!ne.on);
	ck_assert_int_eq(netem_parse("   ", &ne, why, sizeof(why)), 0);
	ck_assert(!ne.on);
}
END_TEST

struct bad {
	const char *spec, *why;
};

static const struct bad bads[] = {
	{ "delay", "delay: expected a time, like delay 20ms (us, ms, s)" },
	{ "delay 20", "delay: expected a time, like delay 20ms (us, ms, s)" },
	{ "delay 20ms 5", "unknown word \"5\" (delay, loss, duplicate, "
	    "reorder, rate)" },
	{ "delay 61s", "delay: at most 60s" },
	{ "delay 1ms 2min", "unknown word \"2min\" (delay, loss, duplicate, "
	    "reorder, rate)" },
	{ "loss 1", "loss: expected a percentage, like loss 1%" },
	{ "loss 101%", "loss 101%: at most 100%" },
	{ "loss -1%", "loss: expected a percentage, like loss 1%" },
	{ "duplicate", "duplicate: expected a percentage, like duplicate 1%" },
	{ "reorder 5%", "reorder needs a delay (reordered packets are the "
	    "ones sent at once, the rest are delayed)" },
	{ "rate fast", "rate: expected a rate, like rate 10mbit (bit, kbit, "
	    "mbit, gbit; bps for bytes)" },
	{ "rate 10mb", "rate: expected a rate, like rate 10mbit (bit, kbit, "
	    "mbit, gbit; bps for bytes)" },
	{ "rate 40gbit", "rate 40gbit: must be between 8bit and 34gbit" },
	{ "rate 4bit", "rate 4bit: must be between 8bit and 34gbit" },
	{ "loss 1% loss 2%", "loss given twice" },
	{ "corrupt 1%", "unknown word \"corrupt\" (delay, loss, duplicate, "
	    "reorder, rate)" },
};

START_TEST(test_parse_bad)
{
	const struct bad *b = &bads[_i];
	struct netem ne;
	char why[256] = "";

	ck_assert_int_eq(netem_parse(b->spec, &ne, why, sizeof(why)),
	    -EINVAL);
	ck_assert_str_eq(why, b->why);
	ck_assert(!ne.on);
}
END_TEST

/* --------------------------------------------------------- namespace */

static struct net *nl;
static char state[64];

static void
ns_setup(void)
{
	unit_netns_enter(&nl, state, sizeof(state));
}

static void
ns_teardown(void)
{
	unit_netns_leave(&nl, state);
}

static void
kinds(int ifindex, const char *root, const char *ingress)
{
	char k[16];

	ck_assert_int_eq(tc_qdisc_kind(nl, ifindex, TC_ROOT, k), 0);
	ck_assert_str_eq(k, root);
	ck_assert_int_eq(tc_qdisc_kind(nl, ifindex, TC_INGRESS, k), 0);
	ck_assert_str_eq(k, ingress);
}

/*
 * A tap impaired: both netem qdiscs, the ingress qdisc and ifb-u0, and
 * after the undo none of them (the tap stays: it was there before). On
 * a kernel without netem: -ENOENT, and the undo leaves nothing either.
 */
START_TEST(test_impair_undo)
{
	struct netem ne, ne2;
	struct net_link tap, ifb;
	struct journal *j;
	struct jlink jt, ji;
	char why[256] = "";
	int fd, r;

	ck_assert_int_ge(fd = net_tap_new(nl, "u0", true, &tap), 0);
	ck_assert_int_eq(net_tap_persist(fd, 0, (gid_t)-1, &tap), 0);
	close(fd);
	ck_assert_int_eq(net_link_set_up(nl, tap.ifindex, true), 0);
	kinds(tap.ifindex, "", "");
	ck_assert_int_eq(netem_parse("delay 10ms loss 1%", &ne, why,
	    sizeof(why)), 0);
	ck_assert_int_eq(journal_open(state, &j), 0);
	r = impair_up(nl, j, &tap, &ne, &ji, why, sizeof(why));
	if (r == -ENOENT) {	/* no netem (or ingress, u32, mirred) here */
		ck_assert_msg(strstr(why, ": this kernel has no ") != NULL,
		    "%s", why);
		ck_assert_int_eq(net_link_get(nl, "ifb-u0", &ifb), 0);
	} else {
		ck_assert_msg(r == 0, "%s", why);
		ck_assert_int_eq(net_link_get(nl, "ifb-u0", &ifb), 0);
		ck_assert_int_eq(ifb.ifindex, ji.ifindex);
		kinds(tap.ifindex, "netem", "ingress");
		kinds(ifb.ifindex, "netem", "");
		ck_assert_int_eq(netem_parse("rate 1mbit", &ne2, why,
		    sizeof(why)), 0);
		snprintf(jt.name, sizeof(jt.name), "u0");
		jt.ifindex = tap.ifindex;
		ck_assert_int_eq(impair_change(nl, &jt, &ji, &ne2, why,
		    sizeof(why)), 0);
	}
	ck_assert_int_eq(journal_undo(j, nl), 0);
	ck_assert_int_eq(net_link_get(nl, "ifb-u0", &ifb), -ENODEV);
	kinds(tap.ifindex, "", "");
}
END_TEST

Suite *
netem_suite(void)
{
	Suite *s = suite_create("netem");
	TCase *tc = tcase_create("words");

	tcase_add_test(tc, test_parse_good);
	tcase_add_loop_test(tc, test_parse_bad, 0, (int)ARRAY_SIZE(bads));
	suite_add_tcase(s, tc);
	if (geteuid() != 0 || !unit_can_unshare(CLONE_NEWNET, true)) {
		UNIT_SKIP(N_NS_TESTS, "netem: no private network namespace");
		return s;
	}
	tc = tcase_create("netns");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, ns_setup, ns_teardown);
	tcase_add_test(tc, test_impair_undo);
	suite_add_tcase(s, tc);
	return s;
}
