/*
 * explain.c and batch.c's use of it: which console line explains a
 * failure, what of it the report shows besides the last lines, and that
 * only a bounded number of lines is kept however long the console.
 */
#include <stdlib.h>
#include <string.h>

#include "qrun.h"
#include "unit.h"

START_TEST(test_signs)
{
	const char *yes[] = {
		"[    1.46] Initramfs unpacking failed: write error",
		"[    1.86] Kernel panic - not syncing: VFS: Unable to mount "
		    "root fs on unknown-block(0,0)",
		"[    3.00] BUG: kernel NULL pointer dereference, address: 0",
		"[    3.00] Oops: 0002 [#1] PREEMPT SMP NOPTI",
		"[    3.00] kernel BUG at mm/slub.c:42!",
		"[    3.00] WARNING: CPU: 0 PID: 1 at lib/foo.c:7 foo+0x1/0x2",
		"[    3.00] init[1]: segfault at 0 ip 0 sp 0 error 4",
		"Gave up waiting for root file system device.",
		"ALERT!  UUID=1234 does not exist.  Dropping to a shell!",
		"No bootable device.",
	};
	const char *no[] = {
		"[    0.84] acpi PNP0A03:00: fail to add MMCONFIG information, "
		    "can't access extended PCI configuration space",
		"[    0.98] Trying to unpack rootfs image as initramfs...",
		"QRUN-GUEST-READY ip=172.21.0.2",
		"kernel panic",		/* case matters */
		"",
	};

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++)
		ck_assert_msg(explain_match(yes[i]) != NULL, "%s", yes[i]);
	for (size_t i = 0; i < ARRAY_SIZE(no); i++)
		ck_assert_msg(explain_match(no[i]) == NULL, "%s", no[i]);
	ck_assert_str_eq(explain_match("x Kernel panic y"), "Kernel panic");
}
END_TEST

/* Lines "line N", with "BUG: here" as line bug (from 0; -1: none). */
static void
feed(struct explain *e, int n, int bug)
{
	char l[32];

	for (int i = 0; i < n; i++) {
		snprintf(l, sizeof(l), i == bug ? "BUG: here %d" : "line %d", i);
		explain_line(e, l);
	}
}

START_TEST(test_block)
{
	struct explain e = { 0 };
	struct strv out = { 0 };
	unsigned long first, at;

	feed(&e, 100, -1);
	ck_assert(!explain_block(&e, &first, &at, &out));
	ck_assert_uint_eq(out.n, 0);
	explain_free(&e);

	feed(&e, 100000, 50);	/* the first sign, whatever comes after */
	ck_assert(explain_block(&e, &first, &at, &out));
	ck_assert_uint_eq(out.n, EXPLAIN_LINES);
	ck_assert_uint_eq(first, 50 - EXPLAIN_BEFORE);
	ck_assert_uint_eq(at, 50);
	ck_assert_str_eq(out.v[0], "line 45");
	ck_assert_str_eq(out.v[EXPLAIN_BEFORE], "BUG: here 50");
	ck_assert_str_eq(out.v[EXPLAIN_LINES - 1], "line 53");
	strv_free(&out);
	explain_free(&e);

	feed(&e, 3, 1);		/* fewer lines before and after */
	ck_assert(explain_block(&e, &first, &at, &out));
	ck_assert_uint_eq(out.n, 3);
	ck_assert_uint_eq(first, 0);
	ck_assert_str_eq(out.v[1], "BUG: here 1");
	strv_free(&out);
	explain_free(&e);
}
END_TEST

/* The batch participant fed n whole lines, "BUG: here" as line bug. */
static void
batch_feed(struct batch *b, int n, int bug)
{
	char l[32];

	for (int i = 0; i < n; i++) {
		snprintf(l, sizeof(l), i == bug ? "BUG: here %d" : "line %d", i);
		b->part.line(b->part.arg, l, false);
	}
}

START_TEST(test_batch_explain)
{
	struct batch b;
	struct strv out = { 0 };

	/* far above the tail: the whole block, numbered from 1 */
	batch_init(&b, NULL, NULL, -1);
	batch_feed(&b, 200, 50);
	ck_assert_uint_eq(batch_explain(&b, &out), 51);
	ck_assert_uint_eq(out.n, EXPLAIN_LINES);
	ck_assert_str_eq(out.v[EXPLAIN_BEFORE], "BUG: here 50");
	strv_free(&out);
	batch_free(&b);

	/* among the last lines: the tail shows it, nothing more */
	batch_init(&b, NULL, NULL, -1);
	batch_feed(&b, 200, 190);
	ck_assert_uint_eq(batch_explain(&b, &out), 0);
	ck_assert_uint_eq(out.n, 0);
	batch_free(&b);

	/* just above the tail: only what the tail does not show */
	batch_init(&b, NULL, NULL, -1);
	batch_feed(&b, 100, 100 - BATCH_TAIL - 1);
	ck_assert_uint_eq(batch_explain(&b, &out), 100 - BATCH_TAIL);
	ck_assert_uint_eq(out.n, EXPLAIN_BEFORE + 1);
	ck_assert_str_eq(out.v[out.n - 1], "BUG: here 79");
	strv_free(&out);
	batch_free(&b);
}
END_TEST

Suite *
explain_suite(void)
{
	Suite *s = suite_create("explain");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_signs);
	tcase_add_test(tc, test_block);
	tcase_add_test(tc, test_batch_explain);
	suite_add_tcase(s, tc);
	return s;
}
