/*
 * vm.c - run QEMU and supervise it: fork/exec with a clean fd table and
 * dropped privileges, signals through a self-pipe, the serial console
 * scanned line by line in batch mode (expect/fail/timeout), and the exit
 * status mapped to qrun(1) EXIT STATUS.
 */
#include <fcntl.h>
#include <grp.h>
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

#define TAIL_LINES	20
#define LINE_MAX_LEN	4096
#define GRACE_MS	3000
#define LINGER_QUIET_MS	300
#define LINGER_MAX_MS	2000

/* Marks a child's errno from before exec (privileges, fds), not exec's. */
#define SETUP_FAILED	0x10000

static int sigpipe_fds[2] = { -1, -1 };

static void
on_signal(int sig)
{
	unsigned char c = (unsigned char)sig;
	int saved = errno;

	if (write(sigpipe_fds[1], &c, 1) < 0) {
		/* The pipe is full: a signal is already pending. */
	}
	errno = saved;
}

static const int caught[] = { SIGINT, SIGTERM, SIGHUP, SIGCHLD };

int
vm_signals_init(void)
{
	struct sigaction sa;

	if (sigpipe_fds[0] >= 0)
		return 0;
	if (pipe2(sigpipe_fds, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(caught); i++)
		sigaction(caught[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

int
vm_signal_fd(void)
{
	return sigpipe_fds[0];
}

/* Read one pending signal from the self-pipe; 0 when none. */
int
vm_signal_next(void)
{
	unsigned char c;

	return read(sigpipe_fds[0], &c, 1) == 1 ? c : 0;
}

/* Restore default dispositions (in the child, and before re-raising). */
void
vm_signals_reset(void)
{
	sigset_t all;

	for (size_t i = 0; i < ARRAY_SIZE(caught); i++)
		signal(caught[i], SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
}

/*
 * In the child: everything between fork and exec. Privileges are dropped
 * first because a credential change clears the parent-death signal.
 */
static void __attribute__((noreturn))
child_exec(const struct vm_spec *s, int errpipe, int serial_w, int stdin_r)
{
	int e, parent = s->parent;

	vm_signals_reset();
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
	execvp(s->argv->v[0], s->argv->v);
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

int
vm_spawn(const struct vm_spec *s, struct vm *vm)
{
	int ep[2], sp[2] = { -1, -1 }, ip[2] = { -1, -1 }, e = 0, r;
	ssize_t n;

	memset(vm, 0, sizeof(*vm));
	vm->pid = -1;
	vm->serial_fd = -1;
	vm->stdin_fd = -1;
	vm->setup_failed = true;	/* until the child says otherwise */
	if (pipe2(ep, O_CLOEXEC) < 0)
		return -errno;
	if ((s->serial_pipe && pipe2(sp, O_CLOEXEC) < 0) ||
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
	vm->stdin_fd = ip[1];
	ip[1] = -1;
	vm->start_ms = mono_ms();
	r = 0;
out:
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

/* Reap QEMU if it exited; 1 when it did. */
static int
vm_reap(struct vm *vm, bool block)
{
	int st;
	pid_t p;

	if (vm->pid < 0)
		return 1;
	while ((p = waitpid(vm->pid, &st, block ? 0 : WNOHANG)) < 0 &&
	    errno == EINTR)
		;
	if (p != vm->pid)
		return 0;
	vm->status = st;
	vm->exited = true;
	vm->pid = -1;
	return 1;
}

/* SIGTERM, then SIGKILL after a grace period; always reaps. */
void
vm_stop(struct vm *vm)
{
	long end;

	if (vm->pid < 0)
		return;
	kill(vm->pid, SIGTERM);
	end = mono_ms() + GRACE_MS;
	while (mono_ms() < end) {
		if (vm_reap(vm, false))
			return;
		usleep(10000);
	}
	kill(vm->pid, SIGKILL);
	vm_reap(vm, true);
}

/* Keep the last TAIL_LINES lines of the console (once --fail matched:
 * until the matching line is the oldest one kept). */
static bool
tail_frozen(const struct vm *vm)
{
	return vm->freeze_at != 0 && vm->nlines >= vm->freeze_at;
}

static void
tail_add(struct vm *vm, const char *line)
{
	if (tail_frozen(vm))
		return;
	vm->nlines++;
	free(vm->tail[vm->tail_pos]);
	vm->tail[vm->tail_pos] = xstrdup(line);
	vm->tail_pos = (vm->tail_pos + 1) % TAIL_LINES;
}

void
vm_print_tail(struct vm *vm)
{
	bool any = false;

	for (int i = 0; i < TAIL_LINES; i++) {
		const char *l = vm->tail[(vm->tail_pos + i) % TAIL_LINES];

		if (l == NULL)
			continue;
		if (!any)
			fprintf(stderr, "qrun: last lines of the serial "
			    "console:\n");
		any = true;
		fprintf(stderr, "| %s\n", l);
	}
	if (vm->line_len > 0 && !tail_frozen(vm)) {	/* being written */
		if (!any)
			fprintf(stderr, "qrun: last lines of the serial "
			    "console:\n");
		fprintf(stderr, "| %.*s\n", (int)vm->line_len, vm->line);
	}
}

void
vm_free(struct vm *vm)
{
	for (int i = 0; i < TAIL_LINES; i++) {
		free(vm->tail[i]);
		vm->tail[i] = NULL;
	}
	free(vm->line);
	vm->line = NULL;
	if (vm->serial_fd >= 0)
		close(vm->serial_fd);
	vm->serial_fd = -1;
	if (vm->stdin_fd >= 0)
		close(vm->stdin_fd);
	vm->stdin_fd = -1;
}

/* Check a (partial or whole) line against the batch patterns. */
static int
scan_line(const struct vm_spec *s, const char *line)
{
	if (s->fail && regexec(s->fail, line, 0, NULL, 0) == 0)
		return VM_FAILED;
	if (s->expect && regexec(s->expect, line, 0, NULL, 0) == 0)
		return VM_MATCHED;
	if (s->hook && s->hook->line)
		return s->hook->line(s->hook->arg, line);
	return 0;
}

/*
 * Pass console bytes through unchanged (stdout and the log), split them
 * into lines for the tail and the patterns. Returns VM_MATCHED/VM_FAILED
 * when a pattern decides, VM_EOF at end of file, else 0.
 */
static int
serial_input(const struct vm_spec *s, struct vm *vm)
{
	char buf[4096];
	ssize_t n = read(vm->serial_fd, buf, sizeof(buf));
	int r = 0;

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : VM_EOF;
	if (n == 0)
		return VM_EOF;
	if (s->echo && write(1, buf, (size_t)n) < 0) {
		/* stdout gone: keep scanning */
	}
	if (s->log)
		fwrite(buf, 1, (size_t)n, s->log);
	if (vm->line == NULL)
		vm->line = xmalloc(LINE_MAX_LEN + 1);
	/* The first decision counts; the rest of buf still goes to the tail. */
	for (ssize_t i = 0; i < n; i++) {
		char c = buf[i];

		if (c == '\n' || vm->line_len == LINE_MAX_LEN) {
			vm->line[vm->line_len] = '\0';
			if (r == 0 && (r = scan_line(s, vm->line)) == VM_FAILED)
				vm->freeze_at = vm->nlines + TAIL_LINES;
			tail_add(vm, vm->line);
			vm->line_len = 0;
			if (c == '\n')
				continue;
		}
		if (c != '\r')
			vm->line[vm->line_len++] = c;
	}
	if (r == 0 && vm->line_len > 0) {
		vm->line[vm->line_len] = '\0';
		if ((r = scan_line(s, vm->line)) == VM_FAILED)
			vm->freeze_at = vm->nlines + TAIL_LINES;
	}
	return r;
}

/*
 * After --fail matched: keep passing the console through until it is
 * quiet for LINGER_QUIET_MS, QEMU closes it, LINGER_MAX_MS passed or the
 * matching line is the oldest the tail keeps, so the tail shows the whole
 * failure (a panic's reason and the start of its trace), not the line cut
 * where the pattern first matched.
 */
static void
serial_linger(const struct vm_spec *s, struct vm *vm)
{
	struct vm_spec quiet = *s;
	long end = mono_ms() + LINGER_MAX_MS, t;
	struct pollfd pfd[2];
	unsigned char c;
	int sg, n;

	quiet.expect = quiet.fail = NULL;
	quiet.hook = NULL;
	while (vm->serial_fd >= 0 && !tail_frozen(vm)) {
		t = end - mono_ms();
		if (t > LINGER_QUIET_MS)
			t = LINGER_QUIET_MS;
		if (t <= 0)
			break;
		pfd[0] = (struct pollfd){ .fd = vm->serial_fd,
		    .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = sigpipe_fds[0],
		    .events = POLLIN };
		if ((n = poll(pfd, 2, (int)t)) < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;		/* quiet (or poll failed) */
		sg = pfd[1].revents ? vm_signal_next() : 0;
		if (sg != 0 && sg != SIGCHLD) {
			/* Asked to stop: not now; leave the signal pending. */
			c = (unsigned char)sg;
			if (write(sigpipe_fds[1], &c, 1) < 0) {
				/* full: one is pending anyway */
			}
			break;
		}
		if (!pfd[0].revents)
			continue;
		if (serial_input(&quiet, vm) == VM_EOF)
			break;
	}
}

/*
 * Wait until something decides the run: QEMU exits, a pattern matches,
 * the deadline passes, a signal arrives, or s->hook (a readiness probe,
 * a host command) says so. Returns the VM_* event; the signal number
 * goes to *sig.
 */
int
vm_wait(const struct vm_spec *s, struct vm *vm, int *sig)
{
	long deadline = s->timeout_s > 0 ?
	    vm->start_ms + s->timeout_s * 1000 : -1;

	for (;;) {
		struct pollfd pfd[3] = {
			{ .fd = sigpipe_fds[0], .events = POLLIN },
			{ .fd = vm->serial_fd, .events = POLLIN },
			{ .fd = -1 },
		};
		int timeout = -1, r = 0, sg, ht;

		if (vm_reap(vm, false)) {
			/* Drain what the console still holds. */
			while (vm->serial_fd >= 0 &&
			    (r = serial_input(s, vm)) == 0)
				;
			if (vm->serial_fd >= 0 && r != VM_EOF)
				return r;
			return VM_EXITED;
		}
		if (deadline >= 0) {
			timeout = (int)(deadline - mono_ms());
			if (timeout <= 0)
				return VM_TIMEOUT;
		}
		if (s->hook && (ht = s->hook->prepare(s->hook->arg, &pfd[2])) >=
		    0 && (timeout < 0 || ht < timeout))
			timeout = ht;
		if (poll(pfd, 3, timeout) < 0 && errno != EINTR)
			return -errno;
		while ((sg = vm_signal_next()) != 0)
			if (sg != SIGCHLD) {
				*sig = sg;
				return VM_SIGNAL;
			}
		if (vm->serial_fd >= 0 && pfd[1].revents) {
			r = serial_input(s, vm);
			if (r == VM_EOF) {
				close(vm->serial_fd);
				vm->serial_fd = -1;
			} else if (r != 0) {
				if (r == VM_FAILED)
					serial_linger(s, vm);
				return r;
			}
		}
		if (s->hook && (r = s->hook->event(s->hook->arg, &pfd[2])) != 0)
			return r;
	}
}
