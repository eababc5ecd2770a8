/*
 * bench/slots.c - slot take and release on a developer switch (slot.c)
 * with none, 1 and H slots held: the median over ROUNDS rounds of the
 * mean time of one slot_take (first free) + lock_claim + slot_release, in
 * microseconds, for each. Each round times the three in turn, so all see
 * the same host. Prints "slots NONE ONE HELD" (us).
 *
 *	slotbench [-n ITER] [-r ROUNDS] [-H HELD] STATE_DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "qrun.h"

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* ITER takes and releases of the first free slot of switch sw: us each. */
static double
round_us(const char *state, int sw, int iter)
{
	struct slot s;
	pid_t prev, holder;
	double t0 = now_us();

	for (int i = 0; i < iter; i++) {
		if (slot_take(state, sw, 0, &s, &prev, &holder) < 0 ||
		    lock_claim(s.lock_fd) < 0) {
			fprintf(stderr, "slotbench: take failed\n");
			exit(1);
		}
		slot_release(&s);
	}
	return (now_us() - t0) / iter;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	int iter = 2000, rounds = 9, held = 200, c;
	static struct slot hold[SLOT_MAX];
	double none[64], ones[64], with[64];
	struct slot one;
	pid_t prev, holder;

	while ((c = getopt(argc, argv, "n:r:H:")) != -1)
		switch (c) {
		case 'n': iter = atoi(optarg); break;
		case 'r': rounds = atoi(optarg); break;
		case 'H': held = atoi(optarg); break;
		default: return 2;
		}
	if (optind != argc - 1 || rounds < 1 || rounds > 64 || held < 1 ||
	    held >= SLOT_MAX)
		return 2;
	if (slot_take(argv[optind], 2, 0, &one, &prev, &holder) < 0)
		return 1;	/* switch 2: one slot held */
	for (int k = 0; k < held; k++)	/* switch 3: held slots */
		if (slot_take(argv[optind], 3, 0, &hold[k], &prev,
		    &holder) < 0)
			return 1;
	for (int r = 0; r < rounds; r++) {
		none[r] = round_us(argv[optind], 1, iter);	/* empty */
		ones[r] = round_us(argv[optind], 2, iter);
		with[r] = round_us(argv[optind], 3, iter);
	}
	for (int k = 0; k < held; k++)
		slot_release(&hold[k]);
	slot_release(&one);
	qsort(none, (size_t)rounds, sizeof(double), cmp);
	qsort(ones, (size_t)rounds, sizeof(double), cmp);
	qsort(with, (size_t)rounds, sizeof(double), cmp);
	printf("slots %.2f %.2f %.2f\n", none[rounds / 2], ones[rounds / 2],
	    with[rounds / 2]);
	return 0;
}
