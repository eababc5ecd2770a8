/*
 * helper.c - the processes qrun starts for a run and supervises: dnsmasq
 * on a guest's link (net.dhcp) and virtiofsd for a shared directory.
 *
 * A helper is a change to the host like an address, journaled before it
 * happens: qrun forks, the child waits on a pipe, qrun journals "helper
 * PROG PID START" (the pid and the start time of /proc/PID/stat, which a
 * recycled pid does not share) and only then lets the child exec. A qrun
 * killed before the record is durable closes the pipe by dying, and the
 * child exits without exec'ing; after it, the journal names the process,
 * and the undo (at the end of the run, or the replay of a dead run's
 * journal) stops that very process and never another.
 *
 * The child runs in a session of its own (the terminal's Ctrl-C is
 * qrun's to handle), with /dev/null for stdin and stdout, a clean fd
 * table and environment, and its stderr a pipe to qrun: the lines a
 * helper says while it starts tell when it is ready (helper_wait), its
 * last one why it died. As a participant of the loop its stderr is
 * drained, so a helper never blocks on it. Nothing here prints.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/close_range.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "qrun.h"

#define STOP_MS		2000	/* SIGTERM, then SIGKILL */
#define KILL_MS		1000	/* SIGKILL, then give up */
#define CHILD_FD	10	/* the child's fds are moved above this */

/* In the child: the capabilities of mask (1ULL << CAP_...) as
 * inheritable and ambient, so they survive the exec of a program without
 * file capabilities. */
static int
child_caps(uint64_t mask)
{
	cap_value_t v[64];
	cap_t c = cap_get_proc();
	int n = 0, r = 0;

	for (int i = 0; i < 64 && i <= CAP_LAST_CAP; i++)
		if (mask & (1ULL << i))
			v[n++] = i;
	if (c == NULL)
		return -1;
	if (cap_set_flag(c, CAP_INHERITABLE, n, v, CAP_SET) < 0 ||
	    cap_set_proc(c) < 0)
		r = -1;
	cap_free(c);
	for (int i = 0; r == 0 && i < n; i++)
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE,
		    (unsigned long)v[i], 0UL, 0UL) < 0)
			r = -1;
	return r;
}

/* fd moved above CHILD_FD, close-on-exec (the child's dup2s then never
 * clobber one another); the old one closed. */
static int
fd_high(int *fd)
{
	int n = fcntl(*fd, F_DUPFD_CLOEXEC, CHILD_FD);

	if (n < 0)
		return -errno;
	close(*fd);
	*fd = n;
	return 0;
}

/* In the child: the fds it keeps on 2 (stderr) and 3, nothing else. */
static int
child_fds(int err, int fd3)
{
	int nul = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (nul >= 0 && fd_high(&nul) < 0)
		return -1;
	if (nul < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0 ||
	    dup2(err, 2) < 0)
		return -1;
	if (fd3 >= 0 && dup2(fd3, 3) < 0)
		return -1;
	return (int)syscall(SYS_close_range, fd3 >= 0 ? 4 : 3, ~0U,
	    CLOSE_RANGE_CLOEXEC);
}

/*
 * In the child: its own session, its fds, then wait until qrun has
 * journaled it (one byte on go; end of file: qrun is gone, or failed to
 * journal it, and then no exec), spec.setup, then exec with a clean
 * environment.
 */
static void __attribute__((noreturn))
child_run(const struct helper_spec *s, int go, int err, int fd3)
{
	static char *const env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
	    "LC_ALL=C", NULL };
	const char *what = "setup";
	char c = 0;
	ssize_t n;
	int r;

	loop_signals_reset();
	setsid();
	if (s->pdeathsig)
		prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (child_fds(err, fd3) < 0)
		_exit(EXIT_QRUN);
	while ((n = read(go, &c, 1)) < 0 && errno == EINTR)
		;
	if (n != 1)
		_exit(EXIT_QRUN);
	if (s->setup != NULL && (r = s->setup(s->setup_arg, &what)) < 0) {
		dprintf(2, "qrun: %s: %s\n", what, strerror(-r));
		_exit(EXIT_QRUN);
	}
	if (s->caps != 0 && child_caps(s->caps) < 0) {
		dprintf(2, "qrun: cannot pass its capabilities on: %s\n",
		    strerror(errno));
		_exit(EXIT_QRUN);
	}
	execve(s->path, s->argv, s->envp != NULL ? s->envp : env);
	dprintf(2, "qrun: %s: %s\n", s->path, strerror(errno));
	_exit(errno == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC);
}

static int helper_prepare(void *, struct pollfd *);
static int helper_event(void *, const struct pollfd *);

void
helper_init(struct helper *h)
{
	memset(h, 0, sizeof(*h));
	loop_child_init(&h->child, -1, LOOP_HELPER_EXITED);
	h->err = -1;
	h->part.prepare = helper_prepare;
	h->part.event = helper_event;
	h->part.arg = h;
}

/* Journal the waiting child pid and let it go: 0, or -errno (the child
 * then exits without exec'ing). */
static int
release(struct journal *j, const struct helper_spec *s, struct helper *h,
    pid_t pid, int go)
{
	int r;

	if ((r = proc_start(pid, &h->start)) < 0 ||
	    (r = change_helper(j, s->prog, pid, h->start)) < 0)
		return r;
	while (write(go, "g", 1) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

int
helper_spawn(struct journal *j, const struct helper_spec *s,
    struct helper *h)
{
	int go[2] = { -1, -1 }, err[2] = { -1, -1 }, fd3 = s->fd3, r = 0;
	pid_t pid;

	helper_init(h);
	if (pipe2(go, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		r = -errno;
		goto out;
	}
	if ((r = fd_high(&go[0])) < 0 || (r = fd_high(&err[1])) < 0 ||
	    (fd3 >= 0 && (fd3 = fcntl(fd3, F_DUPFD_CLOEXEC, CHILD_FD)) < 0))
		goto out;
	if ((pid = fork()) < 0) {
		r = -errno;
		goto out;
	}
	if (pid == 0)
		child_run(s, go[0], err[1], fd3);
	h->child.pid = pid;
	close(err[1]);
	err[1] = -1;
	h->err = err[0];
	err[0] = -1;
	fcntl(h->err, F_SETFL, O_NONBLOCK);
	if ((r = release(j, s, h, pid, go[1])) < 0) {
		close(go[1]);
		go[1] = -1;
		helper_stop(h);
	}
out:
	if (fd3 >= 0 && fd3 != s->fd3)
		close(fd3);
	for (int i = 0; i < 2; i++) {
		if (go[i] >= 0)
			close(go[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	return r;
}

/* Read what its stderr holds: whole lines become h->last (1 when one
 * contains want); -1 at end of file (then closed). */
static int
drain(struct helper *h, const char *want)
{
	ssize_t n;
	char *nl;
	int hit = 0;

	while (h->err >= 0) {
		n = read(h->err, h->buf + h->len, sizeof(h->buf) - 1 - h->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return hit;	/* EAGAIN: all read */
		if (n == 0) {
			close(h->err);
			h->err = -1;
			return hit ? hit : -1;
		}
		h->len += (size_t)n;
		h->buf[h->len] = '\0';
		while ((nl = strchr(h->buf, '\n')) != NULL ||
		    h->len == sizeof(h->buf) - 1) {
			if (nl != NULL)
				*nl = '\0';
			if (h->buf[0] != '\0')
				snprintf(h->last, sizeof(h->last), "%s", h->buf);
			hit |= want != NULL && strstr(h->buf, want) != NULL;
			h->len = nl ? h->len - (size_t)(nl + 1 - h->buf) : 0;
			memmove(h->buf, nl ? nl + 1 : h->buf, h->len + 1);
		}
	}
	return hit ? hit : -1;
}

/* Wait until a line contains ready, or probe(arg) says 1. */
static int
wait_for(struct helper *h, const char *ready, int (*probe)(void *),
    void *arg, long timeout_ms)
{
	long end = mono_ms() + timeout_ms, left;
	struct pollfd pfd;
	int r;

	for (;;) {
		if ((r = drain(h, ready)) == 1)
			return 0;
		if (r < 0) {		/* end of file: it exited */
			loop_child_reap(&h->child, true);
			return -ECHILD;
		}
		if (probe != NULL && (r = probe(arg)) != 0)
			return r < 0 ? r : 0;
		if ((left = end - mono_ms()) <= 0)
			return -ETIMEDOUT;
		if (probe != NULL && left > 10)
			left = 10;
		pfd = (struct pollfd){ .fd = h->err, .events = POLLIN };
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			return -errno;
	}
}

int
helper_wait(struct helper *h, const char *ready, long timeout_ms)
{
	return wait_for(h, ready, NULL, NULL, timeout_ms);
}

int
helper_wait_probe(struct helper *h, int (*probe)(void *), void *arg,
    long timeout_ms)
{
	return wait_for(h, NULL, probe, arg, timeout_ms);
}

/* Its stderr, and (through SIGCHLD) its exit. */
static int
helper_prepare(void *arg, struct pollfd *pfd)
{
	struct helper *h = arg;

	pfd->fd = h->err;
	pfd->events = POLLIN;
	return loop_child_reap(&h->child, false) ? 0 : -1;
}

static int
helper_event(void *arg, const struct pollfd *pfd)
{
	struct helper *h = arg;

	if (pfd->fd >= 0 && pfd->revents)
		drain(h, NULL);
	if (!loop_child_reap(&h->child, false))
		return 0;
	drain(h, NULL);		/* its last words */
	return h->child.ev;
}

struct loop_part *
helper_part(struct helper *h)
{
	return &h->part;
}

bool
helper_running(const struct helper *h)
{
	return h->child.pid > 0;
}

/* Wait up to ms for pid (started at start) to be gone: 1 when it is. */
static int
gone_within(pid_t pid, unsigned long long start, struct helper *h, long ms)
{
	unsigned long long now;
	long end = mono_ms() + ms;

	do {
		if (h != NULL ? loop_child_reap(&h->child, false) :
		    proc_start(pid, &now) < 0 || now != start)
			return 1;
		usleep(2000);
	} while (mono_ms() < end);
	return 0;
}

void
helper_stop(struct helper *h)
{
	pid_t pid = h->child.pid;

	if (h->part.loop)
		loop_del(h->part.loop, &h->part);
	if (pid > 0) {
		kill(pid, SIGTERM);
		if (!gone_within(pid, h->start, h, STOP_MS)) {
			kill(pid, SIGKILL);
			loop_child_reap(&h->child, true);
		}
	}
	if (h->err >= 0)
		drain(h, NULL);
	if (h->err >= 0)
		close(h->err);
	h->err = -1;
}

int
helper_kill(pid_t pid, unsigned long long start)
{
	unsigned long long now;

	if (pid <= 1 || proc_start(pid, &now) < 0 || now != start)
		return 0;
	if (kill(pid, SIGTERM) < 0)
		return errno == ESRCH ? 0 : -errno;
	if (gone_within(pid, start, NULL, STOP_MS))
		return 0;
	if (kill(pid, SIGKILL) < 0)
		return errno == ESRCH ? 0 : -errno;
	return gone_within(pid, start, NULL, KILL_MS) ? 0 : -ETIMEDOUT;
}

const char *
helper_how(const struct helper *h, char *buf, size_t len)
{
	int st = h->child.status;

	if (WIFSIGNALED(st))
		snprintf(buf, len, "killed by signal %d", WTERMSIG(st));
	else
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(st));
	return buf;
}
