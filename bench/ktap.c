/*
 * ktapbench - the cost of reading KTAP from the console (issue 19), for
 * bench/run.
 *
 *   ktapbench [-n LINES] [-r RUNS] [-f EVERY] [-k] [FILE]
 *
 * Writes a console of LINES lines (default 100000) to FILE (default a
 * temporary file, removed): a KUnit-style KTAP report with printk time
 * stamps, suites of 40 subtests, one in EVERY (default 50) failing with
 * three diagnostic lines, one in 13 skipped, kernel messages in between;
 * -k keeps the file and says where. Then
 * times, RUNS rounds (default 21) in turns, median of each:
 *
 *   raw   read() and write() to /dev/null: the floor
 *   cat   the same through vm.c's serial_input: each byte into a line
 *         buffer, each line into the 20-line tail (a copy, the oldest
 *         freed): the console through qrun without --ktap
 *   ktap  cat plus ktap_line() per line, ktap_end() and ktap_report()
 *         to /dev/null: --ktap
 *   junit the same keeping every result (KTAP_RECORD): --ktap --junit;
 *         and, alone, ktap_junit() of that report to /dev/null
 *
 * Each pass runs in a child of its own (memory starts cold, as in a qrun
 * run) and is timed in CPU time, user and system (other load on the
 * host does not count); the clock is read once per read(), as an event
 * loop would.
 *
 * The goal is ktap <= 1.2 x cat. Prints a table and, last, one line
 * "ktapbench LINES RAW CAT KTAP KTAP_RECORD JUNIT_WRITE" (ms) for
 * bench/run.
 * Exit status 0, or 1 with a message.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "qrun.h"

#define LINE_MAX_LEN	4096	/* as vm.c */
#define TAIL_LINES	20
#define NRUNS_MAX	101

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* One line of the console at guest time *us (which advances). */
static void __attribute__((format(printf, 3, 4)))
stamp(FILE *f, long *us, const char *fmt, ...)
{
	va_list ap;

	*us += 137;
	fprintf(f, "[%5ld.%06ld] ", *us / 1000000, *us % 1000000);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
}

static long fail_every = 50;

/* A suite of ncase cases: one in fail_every fails with three diagnostic
 * lines, every 13th is skipped, a kernel message after every 4th; the
 * number of lines written. */
static long
gen_suite(FILE *f, long *us, int s, int ncase)
{
	long n = 4, failed = 0;

	stamp(f, us, "    KTAP version 1");
	stamp(f, us, "    # Subtest: suite_%d", s);
	stamp(f, us, "    1..%d", ncase);
	for (int c = 1; c <= ncase; c++) {
		stamp(f, us, "    # case_%d: initializing", c);
		n += 2;
		if ((s * ncase + c) % fail_every == 0) {
			failed++;
			stamp(f, us, "    # case_%d: EXPECTATION FAILED at "
			    "lib/test_%d.c:%d", c, s, c);
			stamp(f, us, "    Expected x == y, but");
			stamp(f, us, "        x == %d (0x%x)", c, c);
			stamp(f, us, "    not ok %d case_%d", c, c);
			n += 3;
		} else if (c % 13 == 0)
			stamp(f, us, "    ok %d case_%d # SKIP no device",
			    c, c);
		else
			stamp(f, us, "    ok %d case_%d", c, c);
		if (c % 4 == 0) {
			stamp(f, us, "virtio_net virtio0 eth0: link up, "
			    "rx %d", c);
			n++;
		}
	}
	stamp(f, us, "%s %d suite_%d", failed ? "not ok" : "ok", s + 1, s);
	return n;
}

/* Boot noise, then suites of 40 cases, then shutdown lines up to lines
 * in all (the suites go to memory first: the plan is their number). */
static int
generate(const char *path, long lines)
{
	FILE *f = fopen(path, "w"), *m;
	long us = 0, n = 0;
	char *body = NULL;
	size_t blen = 0;
	int nsuite = 0;

	if (f == NULL)
		return -errno;
	for (; n < 50; n++)
		stamp(f, &us, "pci 0000:00:%02lx.0: [8086:100e] type 00", n);
	m = open_memstream(&body, &blen);
	for (n += 2; n + 120 < lines; nsuite++)
		n += gen_suite(m, &us, nsuite, 40);
	fclose(m);
	stamp(f, &us, "KTAP version 1");
	stamp(f, &us, "1..%d", nsuite);
	fwrite(body, 1, blen, f);
	free(body);
	for (; n < lines; n++)
		stamp(f, &us, "reboot: Power down");
	return fclose(f) == 0 ? 0 : -errno;
}

enum mode { RAW, CAT, KTAP, JUNIT, NMODES };

/* vm.c's tail_add: the last TAIL_LINES lines, a copy each. */
static void
tail_add(char **tail, int *pos, const char *line)
{
	free(tail[*pos]);
	tail[*pos] = xstrdup(line);
	*pos = (*pos + 1) % TAIL_LINES;
}

/*
 * One pass over the console as qrun's event loop makes it: read 4 KiB,
 * echo it (to /dev/null), split it into lines byte by byte and keep the
 * tail as vm.c's serial_input does, and (KTAP, JUNIT) feed each line,
 * the clock read once per read(). Returns ms; *k the reader (ended,
 * reported), or NULL.
 */
static double
pass(const char *path, enum mode mode, int out, struct ktap **k)
{
	char buf[4096], *line = xmalloc(LINE_MAX_LEN + 1);
	char *tail[TAIL_LINES] = { NULL };
	int fd = open(path, O_RDONLY), pos = 0;
	double t0 = now_ms();
	size_t len = 0;
	ssize_t n;
	long t;

	*k = mode == KTAP ? ktap_alloc(0) : mode == JUNIT ?
	    ktap_alloc(KTAP_RECORD) : NULL;
	while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0) {
		if (write(out, buf, (size_t)n) != n)
			break;
		t = mono_ms();
		for (ssize_t i = 0; mode != RAW && i < n; i++) {
			char c = buf[i];

			if (c == '\n' || len == LINE_MAX_LEN) {
				line[len] = '\0';
				if (*k != NULL)
					ktap_line(*k, line, t);
				tail_add(tail, &pos, line);
				len = 0;
				if (c == '\n')
					continue;
			}
			if (c != '\r')
				line[len++] = c;
		}
	}
	if (*k != NULL) {
		FILE *f = fdopen(dup(out), "w");

		ktap_end(*k, mono_ms());
		ktap_report(*k, f);
		fclose(f);
	}
	t0 = now_ms() - t0;
	if (fd >= 0)
		close(fd);
	for (int i = 0; i < TAIL_LINES; i++)
		free(tail[i]);
	free(line);
	return t0;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return v[n / 2];
}

/* CPU time of this process (user and system), ms. */
static double
cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * One pass (and, for KTAP, the JUnit writer after it) in a child of its
 * own, so its memory starts cold as qrun's does, timed in CPU time, so
 * other load on the host does not count. d[0] the pass, d[1] the JUnit.
 */
static int
child_pass(const char *path, enum mode m, int out, double d[2])
{
	int pfd[2], st;
	struct ktap *k;
	pid_t pid;

	if (pipe(pfd) < 0 || (pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		double t0 = cpu_ms();

		(void)pass(path, m, out, &k);
		d[0] = cpu_ms() - t0;
		d[1] = 0;
		if (m == JUNIT) {
			FILE *f = fdopen(dup(out), "w");

			t0 = cpu_ms();
			ktap_junit(k, f, "ktap");
			fclose(f);
			d[1] = cpu_ms() - t0;
		}
		_exit(write(pfd[1], d, 2 * sizeof(*d)) == 2 * sizeof(*d) ?
		    0 : 1);
	}
	close(pfd[1]);
	st = read(pfd[0], d, 2 * sizeof(*d)) == 2 * sizeof(*d) ? 0 : -1;
	close(pfd[0]);
	waitpid(pid, NULL, 0);
	return st;
}

/* The rounds, modes in turns; medians in ms[RAW..KTAP], ms[NMODES] the
 * JUnit writer's. */
static int
measure(const char *path, int runs, int out, double ms[NMODES + 1])
{
	static double t[NMODES + 1][NRUNS_MAX];
	double d[2];

	for (int r = -2; r < runs; r++) {	/* two warm-up rounds */
		for (int i = 0; i < NMODES; i++) {
			enum mode m = (enum mode)((r + 3 + i) % NMODES);

			if (child_pass(path, m, out, d) < 0)
				return -1;
			if (r >= 0)
				t[m][r] = d[0];
			if (r >= 0 && m == JUNIT)
				t[NMODES][r] = d[1];
		}
	}
	for (int i = 0; i <= NMODES; i++)
		ms[i] = median(t[i], runs);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: ktapbench [-n LINES] [-r RUNS] [-f EVERY] "
	    "[-k] [FILE]\n");
	exit(1);
}

int
main(int argc, char **argv)
{
	char tmp[] = "/tmp/ktapbench.XXXXXX", *path = tmp;
	long lines = 100000, runs = 21;
	double ms[NMODES + 1];
	int c, out, keep = 0;

	while ((c = getopt(argc, argv, "f:kn:r:")) != -1) {
		if (c == 'f' &&
		    parse_long(optarg, 1, 1000000, &fail_every) == 0)
			continue;
		if (c == 'n' && parse_long(optarg, 100, 100000000, &lines) == 0)
			continue;
		if (c == 'r' && parse_long(optarg, 1, NRUNS_MAX, &runs) == 0)
			continue;
		if (c == 'k') {
			keep = 1;
			continue;
		}
		usage();
	}
	if (optind < argc)
		path = argv[optind++];
	else if ((c = mkstemp(tmp)) < 0 || close(c) < 0)
		return perror("ktapbench: mkstemp"), 1;
	if (optind != argc)
		usage();
	if ((c = generate(path, lines)) < 0) {
		fprintf(stderr, "ktapbench: %s: %s\n", path, strerror(-c));
		return 1;
	}
	if ((out = open("/dev/null", O_WRONLY)) < 0)
		return perror("ktapbench: /dev/null"), 1;
	if (measure(path, (int)runs, out, ms) < 0)
		return perror("ktapbench: fork"), 1;
	printf("ktapbench: %ld console lines, median CPU ms of %ld runs, "
	    "each in a fresh process\n"
	    "  raw   read+write            %8.2f\n"
	    "  cat   + lines, tail (vm.c)  %8.2f\n"
	    "  ktap  + ktap_line, report   %8.2f   %.2fx cat\n"
	    "  junit + every result kept   %8.2f   %.2fx cat\n"
	    "        ktap_junit() alone    %8.2f\n",
	    lines, runs, ms[RAW], ms[CAT], ms[KTAP], ms[KTAP] / ms[CAT],
	    ms[JUNIT], ms[JUNIT] / ms[CAT], ms[NMODES]);
	printf("ktapbench %ld %.3f %.3f %.3f %.3f %.3f\n", lines, ms[RAW],
	    ms[CAT], ms[KTAP], ms[JUNIT], ms[NMODES]);
	if (keep)
		fprintf(stderr, "ktapbench: console kept in %s\n", path);
	else if (path == tmp)
		unlink(path);
	close(out);
	return 0;
}
