/*
 * helper_test.c - supervised, journaled helper processes (helper.c) and
 * their records, "helper PROG PID START" and "file NAME" (change.c).
 * The helpers are /bin/sh scripts; every test runs in a forked child
 * with a fresh state dir, the ones that undo in a private network
 * namespace (the helper record is undone in its journal's namespace).
 */
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qrun.h"
#include "unit.h"

#define T(c) do { if (!(c)) unit_die(__LINE__, "%s", #c); } while (0)
#define TEQ(a, b) do { long a_ = (a), b_ = (b); if (a_ != b_) \
	unit_die(__LINE__, "%s == %ld, want %ld", #a, a_, b_); } while (0)
#define TSTR(a, b) do { if (strcmp((a), (b)) != 0) \
	unit_die(__LINE__, "%s == \"%s\", want \"%s\"", #a, (a), (b)); \
	} while (0)

/* Start sh -c script as helper "sh" journaled into j. */
static void
spawn_sh(struct journal *j, char *script, struct helper *h)
{
	char *argv[] = { "sh", "-c", script, NULL };
	struct helper_spec s = { .prog = "sh", .path = "/bin/sh",
	    .argv = argv, .fd3 = -1, .pdeathsig = true };

	TEQ(helper_spawn(j, &s, h), 0);
	T(helper_running(h));
}

/* Does the journal of this process hold line? */
static bool
journal_has(const char *state, const char *line)
{
	char path[128], buf[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/run-%ld.journal", state,
	    (long)getpid());
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return strstr(buf, line) != NULL;
}

/* The records parse and format back; bad ones are refused. */
static void
t_records(const char *state)
{
	static const char *const good[] = {
		"helper dnsmasq 1234 987654321",
		"helper virtiofsd 2 0",
		"file tap1@4026531992.dnsmasq.conf",
	};
	static const char *const bad[] = {
		"helper dnsmasq 1 5", "helper ../x 12 5",
		"helper dnsmasq 12 -5", "helper dnsmasq 12 012",
		"helper dnsmasq 12", "helper dnsmasq 12 99999999999999999999",
		"file ../x", "file .hidden", "file",
	};
	char buf[256], *copy;
	struct jrec r;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		copy = xstrdup(good[i]);
		TEQ(jrec_parse(copy, &r), 0);
		TEQ(jrec_format(&r, buf, sizeof(buf)), 0);
		TSTR(buf, good[i]);
		free(copy);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		copy = xstrdup(bad[i]);
		if (jrec_parse(copy, &r) != -EINVAL)
			unit_die(__LINE__, "\"%s\" parsed", bad[i]);
		free(copy);
	}
}

/*
 * A helper is journaled with its pid and start time before it runs;
 * it is ready when it says so; a wrong start time spares it; the undo
 * stops it and removes its files.
 */
static void
t_spawn_undo(const char *state)
{
	struct journal *j = NULL;
	struct net *n = NULL;
	struct helper h;
	char line[96];
	pid_t pid;
	int fd;

	T(net_open(&n) == 0);
	TEQ(journal_open(state, &j), 0);
	spawn_sh(j, (char []){ "echo starting >&2; echo ready now >&2; "
	    "exec sleep 30" }, &h);
	pid = h.child.pid;
	TEQ(helper_wait(&h, "ready", 5000), 0);
	TSTR(h.last, "ready now");
	snprintf(line, sizeof(line), "helper sh %ld %llu\n", (long)pid,
	    h.start);
	T(journal_has(state, line));
	TEQ(helper_kill(pid, h.start + 1), 0);	/* not that process */
	TEQ(kill(pid, 0), 0);
	T((fd = change_file(j, "x.pid", true)) > 0);
	close(fd);
	TEQ(change_file(j, "y.leases", false), 0);
	TEQ(journal_undo(j, n), 0);
	TEQ(kill(pid, 0), 0);		/* a zombie till reaped */
	TEQ(loop_child_reap(&h.child, false), 1);
	T(WIFSIGNALED(h.child.status) &&
	    WTERMSIG(h.child.status) == SIGTERM);
	snprintf(line, sizeof(line), "%s/x.pid", state);
	T(access(line, F_OK) < 0 && errno == ENOENT);
	helper_stop(&h);
	net_close(n);
}

/* A helper that exits before it is ready: -ECHILD, its last words. */
static void
t_exits_first(const char *state)
{
	struct journal *j = NULL;
	struct helper h;
	char how[64];

	TEQ(journal_open(state, &j), 0);
	spawn_sh(j, (char []){ "echo 'it broke: port 67 in use' >&2; "
	    "exit 3" }, &h);
	TEQ(helper_wait(&h, "ready", 5000), -ECHILD);
	TSTR(h.last, "it broke: port 67 in use");
	TSTR(helper_how(&h, how, sizeof(how)), "exited with status 3");
	T(!helper_running(&h));
	helper_stop(&h);
	journal_cancel(j);
	journal_close(j);
}

/* A program that is not there: an exit of 127 that says why. */
static void
t_no_program(const char *state)
{
	char *argv[] = { "nothere", NULL };
	struct helper_spec s = { .prog = "nothere", .path = "/nonexistent/x",
	    .argv = argv, .fd3 = -1 };
	struct journal *j = NULL;
	struct helper h;

	TEQ(journal_open(state, &j), 0);
	TEQ(helper_spawn(j, &s, &h), 0);
	TEQ(helper_wait(&h, "ready", 5000), -ECHILD);
	T(WIFEXITED(h.child.status) && WEXITSTATUS(h.child.status) == 127);
	T(strstr(h.last, "No such file") != NULL);
	helper_stop(&h);
	journal_close(j);
}

static int
exists(void *arg)
{
	return access(arg, F_OK) == 0;
}

/* Ready by a probe (a socket file made); timeouts; fd 3 passed on. */
static void
t_probe(const char *state)
{
	char *argv[] = { "sh", "-c", "sleep 0.1; cat <&3 > \"$0\"; "
	    "exec sleep 30", NULL, NULL };
	struct helper_spec s = { .prog = "sh", .path = "/bin/sh",
	    .argv = argv, .pdeathsig = true };
	struct journal *j = NULL;
	struct helper h;
	char path[128], buf[16] = "";
	int p[2], fd;

	TEQ(journal_open(state, &j), 0);
	snprintf(path, sizeof(path), "%s/sock", state);
	argv[3] = path;
	T(pipe(p) == 0);
	T(write(p[1], "fd3", 3) == 3);
	close(p[1]);
	s.fd3 = p[0];
	TEQ(helper_spawn(j, &s, &h), 0);
	close(p[0]);
	TEQ(helper_wait_probe(&h, exists, path, 5000), 0);
	usleep(100000);
	T((fd = open(path, O_RDONLY)) >= 0);
	T(read(fd, buf, sizeof(buf)) == 3 && memcmp(buf, "fd3", 3) == 0);
	close(fd);
	TEQ(helper_wait(&h, "never", 50), -ETIMEDOUT);
	helper_stop(&h);
	T(!helper_running(&h));
	journal_close(j);
}

/* In the loop: its death ends a turn with LOOP_HELPER_EXITED. */
static void
t_loop(const char *state)
{
	struct journal *j = NULL;
	struct loop l;
	struct helper h;
	int sig = 0;

	TEQ(loop_signals_init(), 0);
	TEQ(journal_open(state, &j), 0);
	spawn_sh(j, (char []){ "echo up >&2; sleep 0.2; echo bye >&2; "
	    "exit 2" }, &h);
	TEQ(helper_wait(&h, "up", 5000), 0);
	loop_init(&l);
	loop_add(&l, helper_part(&h));
	TEQ(loop_run(&l, &sig), LOOP_HELPER_EXITED);
	TSTR(h.last, "bye");
	T(WIFEXITED(h.child.status) && WEXITSTATUS(h.child.status) == 2);
	helper_stop(&h);
	T(l.parts == NULL);
	journal_close(j);
}

#define CHILD_TEST(name, fn, flags) \
	START_TEST(name) { unit_in_child(fn, flags); } END_TEST

CHILD_TEST(test_records, t_records, 0)
CHILD_TEST(test_spawn_undo, t_spawn_undo, CLONE_NEWNET)
CHILD_TEST(test_exits_first, t_exits_first, 0)
CHILD_TEST(test_no_program, t_no_program, 0)
CHILD_TEST(test_probe, t_probe, 0)
CHILD_TEST(test_loop, t_loop, 0)

Suite *
helper_suite(void)
{
	Suite *s = suite_create("helper");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_records);
	tcase_add_test(tc, test_exits_first);
	tcase_add_test(tc, test_no_program);
	tcase_add_test(tc, test_probe);
	tcase_add_test(tc, test_loop);
	if (unit_can_unshare(CLONE_NEWNET, false))
		tcase_add_test(tc, test_spawn_undo);
	else
		UNIT_SKIP(1, "helper: cannot unshare a network namespace "
		    "(need root): the undo test skipped");
	suite_add_tcase(s, tc);
	return s;
}
