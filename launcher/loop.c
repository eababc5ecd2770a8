/*
 * loop.c - the one event loop, and the signals that reach it.
 *
 * Everything qrun waits for is a participant (struct loop_part): QEMU and
 * its console (vm.c), batch supervision (batch.c), a readiness probe and
 * the host command (ready.c), the shell's input, QMP and display
 * (cmd_shell.c), and supervised helper processes (struct loop_child).
 * A turn of the loop asks every participant for its fd and its next
 * deadline, polls once together with the signal self-pipe, and runs every
 * participant's event hook; the console's lines go to every line hook.
 * Signal handlers only write the signal number to the self-pipe.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qrun.h"

#define LOOP_MAX	16	/* participants in one loop */

static int sigpipe_fds[2] = { -1, -1 };

/*
 * Every signal whose default action ends the process (signal(7): Term
 * and Core), but SIGKILL and SIGSTOP, which cannot be caught, and 32 and
 * 33, which the C library keeps for itself (SIGRTMIN is 34). SIGRTMIN..
 * SIGRTMAX are added at run time.
 */
static const int fatal_sigs[] = {
	SIGHUP, SIGINT, SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE,
	SIGUSR1, SIGSEGV, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM, SIGSTKFLT,
	SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, SIGIO, SIGPWR, SIGSYS,
};

/* A fault of qrun's own (not a kill(2) of that number): no undo from a
 * process whose memory is suspect; it dies as it would have, the journal
 * stays for the next run or qrun cleanup. */
static bool
own_fault(int sig, const siginfo_t *si)
{
	if (si->si_code <= 0)
		return false;	/* sent by a process: SI_USER, SI_QUEUE... */
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL ||
	    sig == SIGFPE || sig == SIGTRAP || sig == SIGSYS;
}

static void
on_signal(int sig, siginfo_t *si, void *uc)
{
	unsigned char c = (unsigned char)sig;
	int saved = errno;

	(void)uc;
	/* qrun's own write to a pipe whose reader is gone: the write fails
	 * with EPIPE and the run goes on (see loop_signals_init). */
	if (sig == SIGPIPE && si->si_code == SI_USER && si->si_pid == getpid())
		return;
	if (own_fault(sig, si)) {
		signal(sig, SIG_DFL);	/* the fault repeats, and kills */
		return;
	}
	if (write(sigpipe_fds[1], &c, 1) < 0) {
		/* The pipe is full: a signal is already pending. */
	}
	errno = saved;
}

/* Set sa for every signal qrun catches. */
static void
set_caught(const struct sigaction *sa)
{
	for (size_t i = 0; i < ARRAY_SIZE(fatal_sigs); i++)
		sigaction(fatal_sigs[i], sa, NULL);
	for (int s = SIGRTMIN; s <= SIGRTMAX; s++)
		sigaction(s, sa, NULL);
	sigaction(SIGCHLD, sa, NULL);
}

/*
 * Every terminating signal (and SIGCHLD) goes to the self-pipe, so the
 * loop ends the run and the caller undoes it before dying of that signal,
 * as for SIGTERM; also a signal the parent ignored (a background job's
 * SIGINT and SIGQUIT). SIGPIPE too, when another process sends it; when
 * qrun's own write to a pipe whose reader is gone raises it (qrun ... |
 * head), that write just fails and the run goes on.
 */
int
loop_signals_init(void)
{
	struct sigaction sa;

	if (sigpipe_fds[0] >= 0)
		return 0;
	if (pipe2(sigpipe_fds, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_RESTART | SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	set_caught(&sa);
	return 0;
}

/* Restore default dispositions (in a child, and before re-raising). */
void
loop_signals_reset(void)
{
	struct sigaction sa;
	sigset_t all;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	set_caught(&sa);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
}

/* The first terminating signal pending on the self-pipe, 0 when none;
 * SIGCHLD only wakes the loop (the participants reap their children). */
int
loop_signal_take(void)
{
	unsigned char c;

	if (sigpipe_fds[0] < 0)
		return 0;
	while (read(sigpipe_fds[0], &c, 1) == 1)
		if (c != SIGCHLD)
			return c;
	return 0;
}

/*
 * After the undo: die of sig, so that the parent sees 128+N. No core
 * file for a core-dumping signal (SIGQUIT...): the undo is done, a core
 * would only show a process that finished cleaning up.
 */
void
loop_signal_die(int sig)
{
	loop_signals_reset();
	prctl(PR_SET_DUMPABLE, 0);
	raise(sig);
	_exit(128 + sig);
}

/* ---------------------------------------------------------- the loop */

void
loop_init(struct loop *l)
{
	l->parts = NULL;
}

void
loop_add(struct loop *l, struct loop_part *p)
{
	struct loop_part **pp = &l->parts;
	size_t n = 0;

	if (p->loop != NULL)
		return;		/* already in a loop */
	for (; *pp != NULL; pp = &(*pp)->next)
		n++;
	if (n >= LOOP_MAX)
		abort();	/* a programming error, not a run-time one */
	p->next = NULL;
	p->loop = l;
	*pp = p;
}

void
loop_del(struct loop *l, struct loop_part *p)
{
	for (struct loop_part **pp = &l->parts; *pp != NULL;
	    pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	p->next = NULL;
	p->loop = NULL;
}

/*
 * One turn: every prepare hook, one poll for at most timeout_ms (-1: no
 * bound of the caller's), then a terminating signal ends the turn
 * (LOOP_SIGNAL, its number in *sig), else every event hook runs. Returns
 * the first event a hook returned, 0 when none did, or -errno.
 */
int
loop_once(struct loop *l, int timeout_ms, int *sig)
{
	struct pollfd pfd[1 + LOOP_MAX];
	struct loop_part *p;
	int n = 1, t = timeout_ms, pt, ev = 0, r;

	pfd[0] = (struct pollfd){ .fd = sigpipe_fds[0], .events = POLLIN };
	for (p = l->parts; p != NULL; p = p->next, n++) {
		pfd[n] = (struct pollfd){ .fd = -1 };
		pt = p->prepare ? p->prepare(p->arg, &pfd[n]) : -1;
		if (pt >= 0 && (t < 0 || pt < t))
			t = pt;
	}
	if (poll(pfd, (nfds_t)n, t) < 0 && errno != EINTR)
		return -errno;
	if ((*sig = loop_signal_take()) != 0)
		return LOOP_SIGNAL;
	n = 1;
	for (p = l->parts; p != NULL; p = p->next, n++)
		if (p->event && (r = p->event(p->arg, &pfd[n])) != 0 &&
		    ev == 0)
			ev = r;
	return ev;
}

/* Turns until one ends with an event; returns it. */
int
loop_run(struct loop *l, int *sig)
{
	int ev;

	while ((ev = loop_once(l, -1, sig)) == 0)
		;
	return ev;
}

/* A console line to every line hook; the first event one returned. */
int
loop_line(struct loop *l, const char *line, bool partial)
{
	int ev = 0, r;

	for (struct loop_part *p = l ? l->parts : NULL; p != NULL; p = p->next)
		if (p->line && (r = p->line(p->arg, line, partial)) != 0 &&
		    ev == 0)
			ev = r;
	return ev;
}

/* --------------------------------------------------- child processes */

int
loop_reap(pid_t *pid, int *status, bool block)
{
	pid_t p;

	if (*pid < 0)
		return 1;
	while ((p = waitpid(*pid, status, block ? 0 : WNOHANG)) < 0 &&
	    errno == EINTR)
		;
	if (p != *pid && !(p < 0 && errno == ECHILD))
		return 0;
	*pid = -1;
	return 1;
}

int
loop_child_reap(struct loop_child *c, bool block)
{
	pid_t was = c->pid;

	if (was < 0)
		return 1;
	if (!loop_reap(&c->pid, &c->status, block))
		return 0;
	if (c->gone)
		c->gone(c, was);
	return 1;
}

/* Its exit is seen through SIGCHLD, which wakes the loop; the check here
 * also covers an exit before it joined the loop. */
static int
child_prepare(void *arg, struct pollfd *pfd)
{
	(void)pfd;
	return loop_child_reap(arg, false) ? 0 : -1;
}

static int
child_event(void *arg, const struct pollfd *pfd)
{
	struct loop_child *c = arg;

	(void)pfd;
	return loop_child_reap(c, false) ? c->ev : 0;
}

void
loop_child_init(struct loop_child *c, pid_t pid, int ev)
{
	memset(c, 0, sizeof(*c));
	c->pid = pid;
	c->ev = ev ? ev : LOOP_CHILD_EXITED;
	c->part.prepare = child_prepare;
	c->part.event = child_event;
	c->part.arg = c;
}
