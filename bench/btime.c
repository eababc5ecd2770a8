/*
 * btime - interleaved wall-clock timer for bench/run.
 *
 *   btime [-n RUNS] [-w WARMUP] NAME@NETNS[=CODE] ARGV... [::: ...]
 *
 * Runs every command once per round, RUNS rounds after WARMUP untimed
 * rounds, rotating the order each round so that drift (page cache, RCU,
 * a noisy neighbour) hits every command alike.  Each command runs in the
 * named network namespace (/run/netns/NETNS, made by `ip netns add`): the
 * child setns()es into it and exec()s ARGV directly (no shell), with stdin,
 * stdout and stderr on /dev/null; if setns fails the child never execs, so
 * nothing ever runs in the caller's namespace by mistake.  The time is from
 * just before fork to the end of waitpid, CLOCK_MONOTONIC.  Interleaving
 * also lets one call compare the same command in two namespaces.
 * Prints one line per command:
 *
 *   NAME MEDIAN_MS MIN_MS MAX_MS FAILED
 *
 * FAILED counts runs whose exit status was not CODE (default 0).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* setns */
#endif
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct cmd {
	char	*name;
	int	 nsfd;
	int	 code;
	char	**argv;
	double	*ms;
	int	 failed;
};

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Run c once in its namespace; return the wall time in ms, *ok if the
 * exit status was the expected one. */
static double
run_once(const struct cmd *c, int devnull, int *ok)
{
	double t0, t1;
	pid_t pid;
	int st;

	t0 = now_ms();
	pid = fork();
	if (pid < 0) {
		perror("btime: fork");
		exit(2);
	}
	if (pid == 0) {
		if (setns(c->nsfd, CLONE_NEWNET) < 0)
			_exit(126);
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		execvp(c->argv[0], c->argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	t1 = now_ms();
	*ok = WIFEXITED(st) && WEXITSTATUS(st) == c->code;
	return t1 - t0;
}

/* Split "NAME@NETNS[=CODE]" in place and open the namespace. */
static void
parse_name(struct cmd *c, char *spec)
{
	char path[512], *at, *eq;

	at = strchr(spec, '@');
	if (at == NULL) {
		fprintf(stderr, "btime: %s: no @NETNS\n", spec);
		exit(2);
	}
	*at++ = '\0';
	c->code = 0;
	if ((eq = strchr(at, '=')) != NULL) {
		*eq++ = '\0';
		c->code = atoi(eq);
	}
	c->name = spec;
	snprintf(path, sizeof(path), "/run/netns/%s", at);
	c->nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (c->nsfd < 0) {
		fprintf(stderr, "btime: %s: %s\n", path, strerror(errno));
		exit(2);
	}
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
usage(void)
{
	fprintf(stderr, "usage: btime [-n RUNS] [-w WARMUP] NAME ARGV... "
	    "[::: NAME ARGV...]...\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct cmd cmds[32];
	int runs = 30, warm = 2, ncmd = 0, c, i, r, k, ok, devnull;
	double m;

	while ((c = getopt(argc, argv, "+n:w:")) != -1) {
		if (c == 'n')
			runs = atoi(optarg);
		else if (c == 'w')
			warm = atoi(optarg);
		else
			usage();
	}
	if (runs < 1 || warm < 0 || optind + 2 > argc)
		usage();
	for (i = optind; i < argc; ) {
		if (ncmd == (int)(sizeof(cmds) / sizeof(cmds[0])) || i + 1 >= argc)
			usage();
		parse_name(&cmds[ncmd], argv[i++]);
		cmds[ncmd].argv = &argv[i];
		while (i < argc && strcmp(argv[i], ":::") != 0)
			i++;
		if (i < argc)
			argv[i++] = NULL;
		if (cmds[ncmd].argv[0] == NULL)
			usage();
		cmds[ncmd].ms = calloc(runs, sizeof(double));
		cmds[ncmd].failed = 0;
		if (cmds[ncmd].ms == NULL)
			return 2;
		ncmd++;
	}
	if ((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
		return 2;
	for (r = -warm; r < runs; r++) {
		for (k = 0; k < ncmd; k++) {
			i = ((r < 0 ? 0 : r) + k) % ncmd;
			m = run_once(&cmds[i], devnull, &ok);
			if (r < 0)
				continue;
			cmds[i].ms[r] = m;
			if (!ok)
				cmds[i].failed++;
		}
	}
	for (i = 0; i < ncmd; i++) {
		qsort(cmds[i].ms, runs, sizeof(double), cmp_double);
		m = runs % 2 ? cmds[i].ms[runs / 2] :
		    (cmds[i].ms[runs / 2 - 1] + cmds[i].ms[runs / 2]) / 2;
		printf("%s %.3f %.3f %.3f %d\n", cmds[i].name, m,
		    cmds[i].ms[0], cmds[i].ms[runs - 1], cmds[i].failed);
	}
	return 0;
}
