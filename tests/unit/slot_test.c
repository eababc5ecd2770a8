/* A switch's slots (slot.c): the first free one, a forced one, a dead
 * holder's given back at once, and no index left once all are free. */
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qrun.h"
#include "unit.h"

static char dir[] = "/tmp/qrun-slot.XXXXXX";

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	return remove(p);
}

static void
setup(void)
{
	strcpy(dir, "/tmp/qrun-slot.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Take want of switch 3 and claim it (our pid in its lock): its k. */
static int
take(int want, struct slot *s, pid_t *prev)
{
	pid_t holder;
	int r = slot_take(dir, 3, want, s, prev, &holder);

	if (r == 0)
		ck_assert_int_eq(lock_claim(s->lock_fd), 0);
	return r < 0 ? r : s->k;
}

START_TEST(test_first_free)
{
	struct slot a, b, c;
	pid_t prev, holder;
	char tap[IFNAMSIZ];
	int k, dfd;

	ck_assert_str_eq(slot_tap(3, 17, tap), "qtap3-17");
	ck_assert_int_eq(slot_peek(dir, 3, 0, &k, &holder), 0);
	ck_assert_int_eq(k, 1);
	ck_assert_int_eq(take(0, &a, &prev), 1);
	ck_assert_int_eq(take(0, &b, &prev), 2);
	ck_assert_int_eq(slot_take(dir, 3, 2, &c, &prev, &holder), -EBUSY);
	ck_assert_int_eq(holder, getpid());
	ck_assert_int_eq(slot_peek(dir, 3, 0, &k, &holder), 0);
	ck_assert_int_eq(k, 3);
	ck_assert_int_eq(slot_peek(dir, 3, 1, &k, &holder), -EBUSY);
	slot_release(&a);
	ck_assert_int_eq(take(0, &c, &prev), 1);	/* first free again */
	ck_assert_int_eq(prev, 0);	/* we held it last */
	ck_assert_int_eq(take(7, &a, &prev), 7);
	slot_release(&a);
	slot_release(&b);
	slot_release(&c);
	/* all free: the index went with the last one */
	ck_assert_int_eq(state_open(dir, false, &dfd), 0);
	ck_assert_int_eq(slot_sweep(dfd), 0);
	close(dfd);
}
END_TEST

/* A holder that dies without letting go: its slot is the first free
 * one at once, and the next taker learns its pid (to replay it). */
START_TEST(test_dead_holder)
{
	struct slot a, b;
	pid_t child, prev;
	int st, dfd;

	ck_assert_int_eq(take(0, &a, &prev), 1);
	if ((child = fork()) == 0) {
		struct slot s;
		pid_t p;

		_exit(take(0, &s, &p) == 2 ? 0 : 1);	/* no release */
	}
	ck_assert_int_eq(waitpid(child, &st, 0), child);
	ck_assert_int_eq(WEXITSTATUS(st), 0);
	ck_assert_int_eq(take(0, &b, &prev), 2);
	ck_assert_int_eq(prev, child);
	slot_release(&b);
	/* a killed last holder leaves an idle index: cleanup's sweep */
	slot_release(&a);
	if ((child = fork()) == 0) {
		struct slot s;
		pid_t p;

		_exit(take(0, &s, &p) == 1 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(child, &st, 0), child);
	ck_assert_int_eq(WEXITSTATUS(st), 0);
	ck_assert_int_eq(state_open(dir, false, &dfd), 0);
	ck_assert_int_eq(slot_sweep(dfd), 1);
	ck_assert_int_eq(slot_sweep(dfd), 0);
	close(dfd);
}
END_TEST

Suite *
slot_suite(void)
{
	Suite *s = suite_create("slot");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_first_free);
	tcase_add_test(tc, test_dead_holder);
	suite_add_tcase(s, tc);
	return s;
}
