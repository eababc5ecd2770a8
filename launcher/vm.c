/*
 * vm.c - run QEMU and watch it: fork/exec with a clean fd table and
 * dropped privileges, then QEMU as a participant of the loop (loop.c):
 * its serial console read and split into lines, the one line splitter
 * qrun has, whose lines go to every participant (batch patterns, the
 * readiness probe, the shell's log), and its exit. Prints nothing.
 */
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/close_range.h>
#include <sys/syscall.h>

#include "qrun.h"

#define LINE_MAX_LEN	4096
#define GRACE_MS	3000
#define QUIT_MS		1000	/* QMP: QEMU's reply to quit */

/* Marks a child's errno from before exec (privileges, fds), not exec's. */
#define SETUP_FAILED	0x10000

/*
 * In the child: everything between fork and exec. Privileges are dropped
 * first because a credential change clears the parent-death signal.
 */
static void __attribute__((noreturn))
child_exec(const struct vm_spec *s, int errpipe, int serial_w, int stdin_r)
{
	int e, parent = s->parent;
	char path[PATH_MAX];

	loop_signals_reset();
	if (serial_w >= 0) {
		int in = stdin_r >= 0 ? stdin_r : open("/dev/null", O_RDONLY);

		if (in < 0 || dup2(in, 0) < 0 || dup2(serial_w, 1) < 0)
			goto fail;
	}
	if (priv_drop(s->priv) < 0)
		goto fail;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		goto fail;
	if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		goto fail;
	for (size_t i = 0; i < s->nkeep; i++)
		if (fcntl(s->keep_fds[i], F_SETFD, 0) < 0)
			goto fail;
	if (s->qmp_fd > 0 && fcntl(s->qmp_fd, F_SETFD, 0) < 0)
		goto fail;
	/* found as the developer, as --run's command is (ready.c) */
	if (path_search(s->argv->v[0], getenv("PATH"), path,
	    sizeof(path)) == -ENOENT)
		errno = ENOENT;
	else
		execvp(path, s->argv->v);
	e = errno;		/* exec itself: 126/127 */
	if (write(errpipe, &e, sizeof(e)) < 0)
		_exit(EXIT_NOTFOUND);
	_exit(e == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC);
fail:
	e = errno | SETUP_FAILED;	/* before exec: qrun's own error */
	if (write(errpipe, &e, sizeof(e)) < 0)
		_exit(EXIT_QRUN);
	_exit(EXIT_QRUN);
}

static int vm_prepare(void *, struct pollfd *);
static int vm_event(void *, const struct pollfd *);

static void
vm_init(struct vm *vm, const struct vm_spec *s)
{
	memset(vm, 0, sizeof(*vm));
	vm->pid = -1;
	vm->serial_fd = -1;
	vm->stdin_fd = -1;
	vm->qmp_fd = s->qmp_ours > 0 ? s->qmp_ours : -1;
	vm->out = s->out;
	vm->out_arg = s->out_arg;
	vm->part.prepare = vm_prepare;
	vm->part.event = vm_event;
	vm->part.arg = vm;
	vm->setup_failed = true;	/* until the child says otherwise */
}

int
vm_spawn(const struct vm_spec *s, struct vm *vm)
{
	int ep[2] = { -1, -1 }, sp[2] = { -1, -1 }, ip[2] = { -1, -1 };
	int e = 0, r;
	ssize_t n;

	vm_init(vm, s);
	if (pipe2(ep, O_CLOEXEC) < 0 ||
	    (s->serial_pipe && pipe2(sp, O_CLOEXEC) < 0) ||
	    (s->serial_pipe && s->stdin_pipe && pipe2(ip, O_CLOEXEC) < 0)) {
		r = -errno;
		goto out;
	}
	vm->pid = fork();
	if (vm->pid < 0) {
		r = -errno;
		goto out;
	}
	if (vm->pid == 0)
		child_exec(s, ep[1], sp[1], ip[0]);
	close(ep[1]);
	ep[1] = -1;
	while ((n = read(ep[0], &e, sizeof(e))) < 0 && errno == EINTR)
		;
	vm->setup_failed = false;
	if (n == sizeof(e)) {
		waitpid(vm->pid, NULL, 0);
		vm->pid = -1;
		vm->setup_failed = (e & SETUP_FAILED) != 0;
		r = -(e & ~SETUP_FAILED);
		goto out;
	}
	vm->serial_fd = sp[0];
	sp[0] = -1;
	if (vm->serial_fd >= 0)		/* read to its end, never block */
		fcntl(vm->serial_fd, F_SETFL, O_NONBLOCK);
	vm->stdin_fd = ip[1];
	ip[1] = -1;
	vm->start_ms = mono_ms();
	r = 0;
out:
	if (s->qmp_fd > 0)
		close(s->qmp_fd);	/* QEMU's now, or nobody's */
	if (r < 0 && vm->qmp_fd >= 0) {
		close(vm->qmp_fd);
		vm->qmp_fd = -1;
	}
	for (int i = 0; i < 2; i++) {
		if (ep[i] >= 0)
			close(ep[i]);
		if (sp[i] >= 0)
			close(sp[i]);
		if (ip[i] >= 0)
			close(ip[i]);
	}
	return r;
}

int
vm_reap(struct vm *vm, bool block)
{
	if (vm->pid < 0)
		return 1;
	if (!loop_reap(&vm->pid, &vm->status, block))
		return 0;
	vm->exited = true;
	return 1;
}

/* Reap QEMU within ms; 1 when it is gone. */
static int
reap_within(struct vm *vm, long ms)
{
	long end = mono_ms() + ms;

	while (!vm_reap(vm, false)) {
		if (mono_ms() >= end)
			return 0;
		usleep(5000);
	}
	return 1;
}

/*
 * QMP quit: QEMU exits at once, and without the "terminating on signal
 * 15 from pid N" a SIGTERM makes it print. 0, or -errno when QEMU does
 * not speak QMP (not yet, or a stand-in) or did not take it.
 */
static int
vm_quit(struct vm *vm)
{
	struct qmp *q;
	char *res = NULL;
	int r, fd = vm->qmp_fd;

	if (fd < 0)
		return -ENOTCONN;
	vm->qmp_fd = -1;
	if ((r = qmp_attach(fd, &q)) < 0)
		return r;
	r = qmp_alive(q) ? qmp_execute(q, "quit", NULL, QUIT_MS, &res) :
	    -ENOTCONN;
	free(res);
	qmp_close(q);
	return r == -EPIPE ? 0 : r;	/* gone before it replied */
}

void
vm_stop(struct vm *vm)
{
	if (vm->pid < 0)
		return;
	/* Nobody reads it any more: a full pipe must not hold QEMU up. */
	fd_close(&vm->serial_fd);
	if (vm_quit(vm) == 0 && reap_within(vm, GRACE_MS))
		return;
	kill(vm->pid, SIGTERM);
	if (reap_within(vm, GRACE_MS))
		return;
	kill(vm->pid, SIGKILL);
	vm_reap(vm, true);
}

void
vm_free(struct vm *vm)
{
	if (vm->part.loop)
		loop_del(vm->part.loop, &vm->part);
	free(vm->line);
	vm->line = NULL;
	vm->line_len = 0;
	fd_close(&vm->serial_fd);
	if (vm->stdin_fd >= 0)
		close(vm->stdin_fd);
	vm->stdin_fd = -1;
	if (vm->qmp_fd >= 0)
		close(vm->qmp_fd);
	vm->qmp_fd = -1;
}

/*
 * Split console bytes into lines for the loop's line hooks: a '\n' ends
 * a line ('\r' is dropped), so does LINE_MAX_LEN; then the line being
 * written, as a partial one. The first event a hook returns is kept; the
 * rest of buf still goes to the hooks (the tail, the log).
 */
static int
console_split(struct vm *vm, const char *buf, size_t n)
{
	struct loop *l = vm->part.loop;
	int ev = 0, r;

	if (vm->line == NULL)
		vm->line = xmalloc(LINE_MAX_LEN + 1);
	for (size_t i = 0; i < n; i++) {
		char c = buf[i];

		if (c == '\n' || vm->line_len == LINE_MAX_LEN) {
			vm->line[vm->line_len] = '\0';
			if ((r = loop_line(l, vm->line, false)) != 0 && ev == 0)
				ev = r;
			vm->line_len = 0;
			if (c == '\n')
				continue;
		}
		if (c != '\r')
			vm->line[vm->line_len++] = c;
	}
	if (vm->line_len > 0) {
		vm->line[vm->line_len] = '\0';
		if ((r = loop_line(l, vm->line, true)) != 0 && ev == 0)
			ev = r;
	}
	return ev;
}

/*
 * Read the console once: its bytes to vm->out, its lines to the loop.
 * Returns what read gave (0 at the end: the pipe is closed then; -1
 * when there is nothing to read), the hooks' first event in *ev.
 */
static ssize_t
console_read(struct vm *vm, int *ev)
{
	char buf[4096 + VM_OUT_ROOM];
	ssize_t n = read(vm->serial_fd, buf, 4096);
	size_t len;
	int r;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return -1;
	if (n <= 0) {
		fd_close(&vm->serial_fd);
		return 0;
	}
	len = vm->out ? vm->out(vm->out_arg, buf, (size_t)n) : (size_t)n;
	if ((r = console_split(vm, buf, len)) != 0 && *ev == 0)
		*ev = r;
	return n;
}

/* Once QEMU exited (and also to notice that it did: SIGCHLD wakes the
 * loop) the event hook runs at once. */
static int
vm_prepare(void *arg, struct pollfd *pfd)
{
	struct vm *vm = arg;

	if (vm->pid < 0)
		return 0;
	pfd->fd = vm->serial_fd;
	pfd->events = POLLIN;
	return -1;
}

/*
 * The console, then QEMU's exit: once reaped, the console is read to its
 * end first, and an event its last lines cause (--expect matched in the
 * final output) wins over LOOP_VM_EXITED.
 */
static int
vm_event(void *arg, const struct pollfd *pfd)
{
	struct vm *vm = arg;
	int ev = 0;

	if (vm->serial_fd >= 0 && pfd->revents)
		console_read(vm, &ev);
	if (ev != 0 || !vm_reap(vm, false))
		return ev;
	while (vm->serial_fd >= 0 && ev == 0 && console_read(vm, &ev) > 0)
		;
	return ev ? ev : LOOP_VM_EXITED;
}
