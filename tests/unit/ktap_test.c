/*
 * ktap_test.c - ktap.c: KTAP/TAP reading, counting, the text report and
 * the JUnit XML. Reports are fed a line at a time, line i at i * 10 ms
 * and the end 10 ms after the last line, as the event loop would.
 *
 * tests/golden/ktap: each NAME.log is a console; its report must equal
 * NAME.out and its JUnit NAME.xml byte for byte (QRUN_GOLDEN_UPDATE=1
 * rewrites them: review the diff). Every JUnit written here is also read
 * back by tests/golden/ktap/junit-check.py (python's XML parser, the
 * testsuite/testcase structure, counts that add up) and its totals
 * compared with ktap_counts.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qrun.h"
#include "unit.h"

#define GOLDEN "tests/golden/ktap"
#define MAX_GOLDEN 64

static char *golden[MAX_GOLDEN];
static int ngolden;

/* Feed text line by line, line i at i * 10 ms; the number of the line
 * for which ktap_line said the report was complete (0: none). */
static int
feed(struct ktap *k, const char *text, long *t)
{
	char *copy = xstrdup(text), *line, *save = NULL;
	int done = 0, i = 0;

	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		i++;
		if (ktap_line(k, line, *t += 10) && done == 0)
			done = i;
	}
	free(copy);
	return done;
}

static struct ktap *
run(const char *text, unsigned flags)
{
	struct ktap *k = ktap_alloc(flags);
	long t = 0;

	feed(k, text, &t);
	ktap_end(k, t + 10);
	return k;
}

static char *
report(const struct ktap *k)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);

	ck_assert_int_eq(ktap_report(k, f), 0);
	fclose(f);
	return s;
}

static char *
junit(const struct ktap *k)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);

	ck_assert_int_eq(ktap_junit(k, f, "ktap"), 0);
	fclose(f);
	return s;
}

/* The last line of s (without its newline), in buf. */
static const char *
last_line(const char *s, char *buf, size_t size)
{
	size_t n = strlen(s);
	const char *p;

	while (n > 0 && s[n - 1] == '\n')
		n--;
	for (p = s + n; p > s && p[-1] != '\n'; p--)
		;
	snprintf(buf, size, "%.*s", (int)(s + n - p), p);
	return buf;
}

/* Run junit-check.py over xml; its "suites=.. tests=.." line, or NULL
 * with the reason in the test's failure. */
static char *
junit_check(const char *xml)
{
	char path[] = "/tmp/qrun-ktap-test.XXXXXX", out[512] = "", *cmd;
	int fd = mkstemp(path);
	FILE *p;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, xml, strlen(xml)), (ssize_t)strlen(xml));
	close(fd);
	cmd = xasprintf("python3 " GOLDEN "/junit-check.py %s 2>&1", path);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	if (fgets(out, sizeof(out), p) == NULL)
		out[0] = '\0';
	ck_assert_msg(pclose(p) == 0, "%s", out);
	unlink(path);
	free(cmd);
	out[strcspn(out, "\n")] = '\0';
	return xstrdup(out);
}

/* The JUnit of k parses and its totals are k's counts. */
static void
junit_valid(const struct ktap *k)
{
	struct ktap_counts c;
	char *xml = junit(k), *got, want[200];

	ktap_counts(k, &c);
	got = junit_check(xml);
	snprintf(want, sizeof(want), "tests=%lu failures=%lu skipped=%lu",
	    c.passed + c.failed + c.skipped, c.failed, c.skipped);
	ck_assert_msg(strstr(got, want) != NULL, "junit-check: %s, counts %s",
	    got, want);
	free(got);
	free(xml);
}

static void
counts_are(const struct ktap *k, unsigned long p, unsigned long f,
    unsigned long s)
{
	struct ktap_counts c;

	ktap_counts(k, &c);
	ck_assert_msg(c.passed == p && c.failed == f && c.skipped == s,
	    "counted %lu passed, %lu failed, %lu skipped; want %lu, %lu, %lu",
	    c.passed, c.failed, c.skipped, p, f, s);
}

/* KUnit as 6.x prints it: a suite with subtests, a skip, a TODO, one
 * failure with its "Expected" lines, parameterised subtests. */
static const char kunit[] =
    "KTAP version 1\n"
    "1..2\n"
    "    KTAP version 1\n"
    "    # Subtest: example\n"
    "    1..5\n"
    "    ok 1 example_simple_test\n"
    "    ok 2 example_skip_test # SKIP this test should be skipped\n"
    "    not ok 3 example_todo_test # TODO not there yet\n"
    "    # example_fail: EXPECTATION FAILED at lib/kunit/example.c:42\n"
    "    Expected 1 + 1 == 3, but\n"
    "        1 + 1 == 2 (0x2)\n"
    "    not ok 4 example_fail\n"
    "        KTAP version 1\n"
    "        # Subtest: example_params_test\n"
    "        ok 1 example value 3 # SKIP unsupported\n"
    "        ok 2 example value 2\n"
    "    # example_params_test: pass:1 fail:0 skip:1 total:2\n"
    "    ok 5 example_params_test\n"
    "# example: pass:2 fail:1 skip:3 total:5\n"
    "not ok 1 example\n"
    "    KTAP version 1\n"
    "    # Subtest: list\n"
    "    1..1\n"
    "    ok 1 list_init\n"
    "ok 2 list\n";

START_TEST(test_kunit_nested)
{
	struct ktap *k = run(kunit, KTAP_RECORD);
	struct ktap_counts c;
	char *r = report(k), line[128];

	/* the suites "example", "example_params_test" and "list" are not
	 * counted; their 7 leaves are */
	counts_are(k, 3, 1, 3);
	ktap_counts(k, &c);
	ck_assert_uint_eq(c.xfail, 1);
	ck_assert(!c.cut && !c.bailed && c.seen);
	ck_assert_int_eq(ktap_exit(k), EXIT_GUEST);
	ck_assert_str_eq(r,
	    "FAIL example.example_fail\n"
	    "    # example_fail: EXPECTATION FAILED at lib/kunit/example.c:42\n"
	    "    Expected 1 + 1 == 3, but\n"
	    "        1 + 1 == 2 (0x2)\n"
	    "3 passed, 1 failed, 3 skipped\n");
	ck_assert_str_eq(last_line(r, line, sizeof(line)),
	    "3 passed, 1 failed, 3 skipped");
	junit_valid(k);
	free(r);
	ktap_put(k);
}
END_TEST

/* The same report with printk time stamps, kernel messages in between
 * (some indented, one looking like a result), and CRLF line ends. */
START_TEST(test_interleaved)
{
	char *text = xstrdup(""), *t, *copy = xstrdup(kunit), *line, *save;
	struct ktap *k;
	int i = 0;

	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save), i++) {
		t = text;
		text = xasprintf("%s[%5d.%06d] %s\r\n"
		    "[%5d.%06d][    T1] random: crng init done\n"
		    "[%5d.%06d] okay, eth0 is up\n%s", t, i, 0, line, i, 5,
		    i, 7, i % 3 ? "" : "  kworker output indented\n");
		free(t);
	}
	k = run(text, KTAP_RECORD);
	counts_are(k, 3, 1, 3);
	ck_assert_int_eq(ktap_exit(k), EXIT_GUEST);
	junit_valid(k);
	ktap_put(k);
	free(copy);
	free(text);
}
END_TEST

/* Times come from the printk stamps (guest clock) when lines have
 * them, else from the host's milliseconds. */
START_TEST(test_timestamps)
{
	struct ktap *k = run(
	    "[    5.000000] KTAP version 1\n"
	    "[    5.000001] 1..2\n"
	    "[    5.250000] ok 1 quarter\n"
	    "[    7.250000] ok 2 two_seconds\n", KTAP_RECORD);
	char *x = junit(k);

	ck_assert_ptr_nonnull(strstr(x, "name=\"quarter\" time=\"0.250\""));
	ck_assert_ptr_nonnull(strstr(x, "name=\"two_seconds\" time=\"2.000\""));
	ck_assert_int_eq(ktap_exit(k), EXIT_OK);
	free(x);
	ktap_put(k);
	k = run("TAP version 13\n1..1\nok 1 host\n", KTAP_RECORD);
	x = junit(k);
	ck_assert_ptr_nonnull(strstr(x, "name=\"host\" time=\"0.020\""));
	free(x);
	ktap_put(k);
}
END_TEST

/* TAP 14: "# Subtest:" at the parent's indentation, a YAML block as the
 * failure's diagnostics (and its duration_ms), a trailing plan. */
START_TEST(test_tap14)
{
	struct ktap *k = run(
	    "TAP version 14\n"
	    "# Subtest: parser\n"
	    "    1..2\n"
	    "    ok 1 - accepts a plan\n"
	    "    not ok 2 - rejects garbage\n"
	    "      ---\n"
	    "      message: garbage accepted\n"
	    "      duration_ms: 1500\n"
	    "      ...\n"
	    "not ok 1 - parser\n"
	    "ok 2 - standalone # skip no network\n"
	    "1..2\n", KTAP_RECORD);
	char *r = report(k), *x = junit(k);

	counts_are(k, 1, 1, 1);
	ck_assert_str_eq(r, "FAIL parser.rejects garbage\n"
	    "    message: garbage accepted\n"
	    "    duration_ms: 1500\n"
	    "1 passed, 1 failed, 1 skipped\n");
	ck_assert_ptr_nonnull(strstr(x,
	    "<testsuite name=\"parser\" tests=\"2\" failures=\"1\""));
	ck_assert_ptr_nonnull(strstr(x, "name=\"rejects garbage\" "
	    "time=\"1.500\""));
	ck_assert_ptr_nonnull(strstr(x, "<testcase classname=\"ktap\" "
	    "name=\"standalone\""));
	junit_valid(k);
	free(r);
	free(x);
	ktap_put(k);
}
END_TEST

START_TEST(test_bail_out)
{
	struct ktap *k = ktap_alloc(KTAP_RECORD);
	long t = 0;
	char *r;

	ck_assert_int_eq(feed(k, "KTAP version 1\n1..3\nok 1 first\n"
	    "Bail out! no KVM in the guest\nok 2 ignored\n", &t), 4);
	ktap_end(k, t);
	r = report(k);
	counts_are(k, 1, 2, 0);
	ck_assert_int_eq(ktap_exit(k), EXIT_GUEST);
	ck_assert_str_eq(r, "FAIL tests 2..3 (not run)\n"
	    "Bail out! no KVM in the guest\n"
	    "1 passed, 2 failed, 0 skipped\n");
	junit_valid(k);
	free(r);
	ktap_put(k);
	/* a bail out with every planned test run still fails */
	k = run("TAP version 13\n1..1\nok 1 a\nBail out!\n", 0);
	counts_are(k, 1, 0, 0);
	ck_assert_int_eq(ktap_exit(k), EXIT_GUEST);
	ktap_put(k);
}
END_TEST

/* Fewer results than the plan: the missing ones fail, named by number;
 * under a skipped suite they are skipped; more than planned fails. */
START_TEST(test_missing)
{
	struct ktap *k = run("KTAP version 1\n1..3\nok 1 a\nok 2 b\n", 0);
	char *r = report(k);

	ck_assert_str_eq(r, "FAIL test 3 (not run)\n"
	    "report cut short; last test reached: b\n"
	    "2 passed, 1 failed, 0 skipped\n");
	counts_are(k, 2, 1, 0);
	ck_assert_int_eq(ktap_exit(k), EXIT_GUEST);
	free(r);
	ktap_put(k);

	k = run("KTAP version 1\n1..2\n"
	    "    # Subtest: short\n    1..6\n    ok 1 one\n    ok 2 two\n"
	    "ok 1 short\n"
	    "    # Subtest: none\n    1..3\nok 2 none # SKIP no hardware\n",
	    KTAP_RECORD);
	r = report(k);
	counts_are(k, 2, 4, 3);
	ck_assert_str_eq(r, "FAIL short: tests 3..6 (not run)\n"
	    "2 passed, 4 failed, 3 skipped\n");
	junit_valid(k);
	free(r);
	ktap_put(k);

	k = run("TAP version 13\n1..2\nok 1 a\nok 2 b\nok 3 c\n", 0);
	r = report(k);
	ck_assert_str_eq(r, "FAIL 3 tests for plan 1..2\n"
	    "3 passed, 1 failed, 0 skipped\n");
	free(r);
	ktap_put(k);

	/* numbered out of order: how many, not which */
	k = run("TAP version 13\n1..4\nok 2 b\nok 1 a\n", KTAP_RECORD);
	r = report(k);
	ck_assert_ptr_nonnull(strstr(r, "FAIL 2 tests (not run)\n"));
	junit_valid(k);
	free(r);
	ktap_put(k);
}
END_TEST

/* The console ends inside the report (--timeout, a panic): what ran is
 * counted, the rest of each plan fails, the last test is named, and
 * the diagnostics of the test that was running are shown. */
START_TEST(test_cut_short)
{
	struct ktap *k = ktap_alloc(KTAP_RECORD);
	struct ktap_counts c;
	long t = 0;
	char *r;

	feed(k, "KTAP version 1\n1..3\n"
	    "    # Subtest: net-core\n    1..1\n    ok 1 dev_addr\n"
	    "ok 1 net-core\n"
	    "    # Subtest: slow\n    1..3\n    ok 1 fast_case\n"
	    "    # slow_case: waiting for the device\n"
	    "rcu: INFO: rcu_sched self-detected stall on CPU\n", &t);
	ck_assert_str_eq(ktap_last(k), "slow.fast_case");
	ktap_end(k, t + 10);
	ktap_counts(k, &c);
	ck_assert(c.cut);
	ck_assert_uint_eq(c.missing, 3);
	counts_are(k, 2, 3, 0);
	ck_assert_str_eq(ktap_last(k), "slow.fast_case");
	r = report(k);
	ck_assert_str_eq(r, "FAIL slow: tests 2..3 (not run)\n"
	    "    # slow_case: waiting for the device\n"
	    "FAIL test 3 (not run)\n"
	    "report cut short; last test reached: slow.fast_case\n"
	    "2 passed, 3 failed, 0 skipped\n");
	junit_valid(k);
	free(r);
	ktap_put(k);

	/* a subtest without a plan, cut: the suite itself fails */
	k = run("KTAP version 1\n    # Subtest: hang\n    ok 1 a\n",
	    KTAP_RECORD);
	r = report(k);
	ck_assert_str_eq(r, "FAIL hang (not finished)\n"
	    "report cut short; last test reached: hang.a\n"
	    "1 passed, 1 failed, 0 skipped\n");
	junit_valid(k);
	free(r);
	ktap_put(k);
}
END_TEST

/* Exit status: all passed (skips allowed) 0; nothing at all 1. */
START_TEST(test_exit)
{
	struct ktap *k = run("TAP version 13\n1..2\nok 1 a\nok 2 b # SKIP\n",
	    0);
	char *r;

	ck_assert_int_eq(ktap_exit(k), EXIT_OK);
	ktap_put(k);
	k = run("just a kernel booting\nok 1 not a report yet\n", 0);
	ck_assert_int_eq(ktap_exit(k), EXIT_GUEST);
	r = report(k);
	ck_assert_str_eq(r, "no KTAP or TAP report on the console\n"
	    "0 passed, 0 failed, 0 skipped\n");
	free(r);
	ktap_put(k);
	k = run("KTAP version 1\n1..0\n", 0);
	ck_assert_int_eq(ktap_exit(k), EXIT_GUEST);
	ktap_put(k);
	k = run("TAP version 13\n1..0 # SKIP no CONFIG_FOO\n", KTAP_RECORD);
	counts_are(k, 0, 0, 1);
	ck_assert_int_eq(ktap_exit(k), EXIT_OK);
	junit_valid(k);
	ktap_put(k);
	k = run("KTAP version 1\n1..1\nok 1 x # XFAIL known bug\n", 0);
	counts_are(k, 0, 0, 1);
	ck_assert_int_eq(ktap_exit(k), EXIT_OK);
	ck_assert_int_eq(ktap_junit(k, stdout, "x"), -EINVAL);
	ktap_put(k);
}
END_TEST

/* ktap_line says when the top-level plan is met. */
START_TEST(test_done)
{
	struct ktap *k = ktap_alloc(0);
	long t = 0;

	ck_assert_int_eq(feed(k, "KTAP version 1\n1..2\n    1..1\n"
	    "    ok 1 x\nok 1 s\nok 2 y\n# after\n", &t), 6);
	ktap_put(k);
}
END_TEST

/* A second report (KUnit at boot, then kselftest) adds up. */
START_TEST(test_two_reports)
{
	struct ktap *k = run("KTAP version 1\n1..1\nok 1 a\n"
	    "TAP version 13\n1..2\nok 1 b\nnot ok 2 c\n", KTAP_RECORD);

	counts_are(k, 2, 1, 0);
	junit_valid(k);
	ktap_put(k);
}
END_TEST

/* Subtests depth deep, each with one subtest, the deepest one test. */
static char *
nested(int depth)
{
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);

	fputs("KTAP version 1\n1..1\n", f);
	for (int d = 1; d <= depth; d++)
		fprintf(f, "%*s# Subtest: s%d\n%*s1..1\n", 4 * d, "", d,
		    4 * d, "");
	fprintf(f, "%*sok 1 leaf\n", 4 * depth, "");
	for (int d = depth - 1; d >= 0; d--)
		fprintf(f, "%*sok 1 s%d\n", 4 * d, "", d + 1);
	fclose(f);
	return text;
}

/* Deep nesting counts the one leaf once; nesting deeper than the levels
 * kept (1000) does not crash and counts the leaf. */
START_TEST(test_deep)
{
	char *text = nested(100), *r;
	struct ktap *k = run(text, KTAP_RECORD);
	struct ktap_counts c;

	counts_are(k, 1, 0, 0);
	ck_assert_int_eq(ktap_exit(k), EXIT_OK);
	junit_valid(k);
	ktap_put(k);
	free(text);
	text = nested(1100);
	k = run(text, 0);
	r = report(k);
	ktap_counts(k, &c);
	ck_assert_uint_ge(c.passed, 1);
	free(r);
	ktap_put(k);
	free(text);
}
END_TEST

/* Huge lines, binary junk, invalid UTF-8 and control characters in
 * names and diagnostics: kept short, escaped, valid XML. */
START_TEST(test_garbage)
{
	size_t big = 1 << 20;
	char *huge = xmalloc(big + 64), *text;
	struct ktap *k;
	long t = 0;

	memcpy(huge, "    not ok 1 ", 13);
	memset(huge + 13, 'x', big);
	huge[13 + big] = '\0';
	text = xasprintf("TAP version 13\n1..3\n"
	    "# \x01\x1b[31mred\x1b[0m \xff\xfe \xed\xa0\x80 \xef\xbf\xbf "
	    "<&>\"'\r\n"
	    "not ok 1 ctl \x02 \xc3\x28 \xf4\x90\x80\x80 ]]> & < \"q\"\n"
	    "    1..1\n%s\nnot ok 2 - suite\n"
	    "\x80\x81\x82 binary\n"
	    "ok 3 \xe2\x82\xac euro # TODO \x7f\n", huge);
	k = run(text, KTAP_RECORD);
	counts_are(k, 0, 2, 1);
	junit_valid(k);
	ktap_put(k);
	/* a million-byte diagnostic stream before one failure: the last
	 * lines are kept, the report says how many were dropped */
	free(text);
	text = xstrdup("KTAP version 1\n1..1\n");
	for (int i = 0; i < 2000; i++) {
		char *was = text;

		text = xasprintf("%s# line %d %.*s\n", was, i, 500, huge + 13);
		free(was);
	}
	k = ktap_alloc(0);
	feed(k, text, &t);
	ktap_line(k, "not ok 1 noisy", t);
	ktap_end(k, t);
	free(text);
	text = report(k);
	ck_assert_ptr_nonnull(strstr(text, "earlier lines not kept]"));
	ck_assert_ptr_nonnull(strstr(text, "# line 1999 "));
	ck_assert_uint_lt(strlen(text), 20000);
	free(text);
	ktap_put(k);
	free(huge);
}
END_TEST

static const char *const fuzz_words[] = {
	"KTAP version 1", "TAP version 14", "TAP version 13", "1..3", "1..0",
	"1..0 # SKIP all", "1..99999999999", "ok", "ok 1", "ok 2 b",
	"not ok 3 c", "ok 4 d # SKIP", "not ok 5 e # TODO", "ok 6 # XFAIL",
	"not ok 7 # TIMEOUT 45", "# Subtest: s", "# Subtest:", "# diag",
	"Expected x", "---", "...", "duration_ms: 7.5", "duration_ms: x",
	"Bail out!", "ok 999999999999999999 z", "not ok -1", "\xff\xfe",
	"[", "[    1.5] ok 1", "[ 12.000001][  C3] ok 9 t", "\t\tok 1 tab",
};

/* Random lines of TAP words, indentations and junk: no crash, counts
 * that hold together, JUnit that stays valid. */
START_TEST(test_fuzz)
{
	unsigned seed = 1234 + (unsigned)_i;
	struct ktap *k = ktap_alloc(KTAP_RECORD);
	struct ktap_counts c;
	char line[256], *r;

	for (int i = 0; i < 20000; i++) {
		int w = rand_r(&seed) % (int)ARRAY_SIZE(fuzz_words);
		int ind = rand_r(&seed) % 5 * (rand_r(&seed) % 2 ? 2 : 4);

		if (rand_r(&seed) % 50 == 0)	/* keep Bail out! rare */
			w = 0;
		if (rand_r(&seed) % 7 == 0) {
			for (int j = 0; j < 40; j++)
				line[j] = (char)(1 + rand_r(&seed) % 255);
			line[40] = '\0';
		} else
			snprintf(line, sizeof(line), "%s%*s%s",
			    rand_r(&seed) % 3 ? "" : "[    3.000100] ", ind, "",
			    fuzz_words[w]);
		ktap_line(k, line, i);
		if (i % 1000 == 0)
			ktap_last(k);
	}
	ktap_end(k, 20001);
	ktap_counts(k, &c);
	ck_assert_uint_ge(c.failed, c.missing);
	ck_assert_uint_ge(c.skipped, c.xfail);
	r = report(k);
	ck_assert_ptr_nonnull(strstr(r, " passed, "));
	free(r);
	if (_i < 2) {	/* python is slow: two of them */
		r = junit(k);
		free(junit_check(r));
		free(r);
	}
	ktap_put(k);
}
END_TEST

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t n = 0;
	FILE *m;
	int c;

	if (f == NULL)
		return NULL;
	m = open_memstream(&buf, &n);
	while ((c = getc(f)) != EOF)
		putc(c, m);
	fclose(m);
	fclose(f);
	return buf;
}

static void
compare(const char *path, const char *got)
{
	char *want;
	FILE *f;

	if (getenv("QRUN_GOLDEN_UPDATE") != NULL) {
		f = fopen(path, "w");
		ck_assert_ptr_nonnull(f);
		fputs(got, f);
		fclose(f);
		return;
	}
	want = slurp(path);
	ck_assert_msg(want != NULL, "%s: missing", path);
	ck_assert_msg(strcmp(got, want) == 0, "%s:\n--- got\n%s--- want\n%s",
	    path, got, want);
	free(want);
}

START_TEST(test_golden_found)
{
	ck_assert_msg(ngolden >= 8, "only %d cases in " GOLDEN, ngolden);
}
END_TEST

START_TEST(test_golden)
{
	char *log = xasprintf(GOLDEN "/%s.log", golden[_i]);
	char *out = xasprintf(GOLDEN "/%s.out", golden[_i]);
	char *xml = xasprintf(GOLDEN "/%s.xml", golden[_i]);
	char *text = slurp(log), *r, *x;
	struct ktap *k;

	ck_assert_ptr_nonnull(text);
	k = run(text, KTAP_RECORD);
	r = report(k);
	x = junit(k);
	compare(out, r);
	compare(xml, x);
	junit_valid(k);
	ktap_put(k);
	free(r);
	free(x);
	free(text);
	free(log);
	free(out);
	free(xml);
}
END_TEST

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
golden_scan(void)
{
	DIR *d = opendir(GOLDEN);
	struct dirent *e;
	size_t n;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL && ngolden < MAX_GOLDEN) {
		n = strlen(e->d_name);
		if (n > 4 && strcmp(e->d_name + n - 4, ".log") == 0)
			golden[ngolden++] = xasprintf("%.*s", (int)(n - 4),
			    e->d_name);
	}
	closedir(d);
	qsort(golden, (size_t)ngolden, sizeof(*golden), by_name);
}

static void
golden_free(void)
{
	for (int i = 0; i < ngolden; i++)
		free(golden[i]);
}

Suite *
ktap_suite(void)
{
	Suite *s = suite_create("ktap");
	TCase *tc = tcase_create("core");

	golden_scan();
	atexit(golden_free);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_kunit_nested);
	tcase_add_test(tc, test_interleaved);
	tcase_add_test(tc, test_timestamps);
	tcase_add_test(tc, test_tap14);
	tcase_add_test(tc, test_bail_out);
	tcase_add_test(tc, test_missing);
	tcase_add_test(tc, test_cut_short);
	tcase_add_test(tc, test_exit);
	tcase_add_test(tc, test_done);
	tcase_add_test(tc, test_two_reports);
	tcase_add_test(tc, test_deep);
	tcase_add_test(tc, test_garbage);
	tcase_add_loop_test(tc, test_fuzz, 0, 6);
	tcase_add_test(tc, test_golden_found);
	tcase_add_loop_test(tc, test_golden, 0, ngolden);
	suite_add_tcase(s, tc);
	return s;
}
