/*
 * child.c - for unit tests that change the host: run a test body in a
 * child process (in new namespaces), which reports the first failed
 * check through a pipe (unit_die) instead of Check's own machinery.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/mount.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qrun.h"
#include "unit.h"

/* Where a failing child reports what failed. */
static int fail_fd = -1;

void
unit_die(int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	n = snprintf(msg, sizeof(msg), "line %d: ", line);
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	if (write(fail_fd, msg, strlen(msg)) < 0)
		_exit(2);
	_exit(1);
}

static int
rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st; (void)flag; (void)f;
	return remove(p);
}

void
unit_in_child(void (*fn)(const char *), int flags)
{
	char dir[] = "/tmp/qrun-unit.XXXXXX", state[64], msg[1024];
	int p[2], st = 0;
	ssize_t n;
	pid_t pid;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(state, sizeof(state), "%s/state", dir);
	ck_assert_int_eq(pipe(p), 0);
	if ((pid = fork()) == 0) {
		close(p[0]);
		fail_fd = p[1];
		if (flags && unshare(flags) < 0)
			unit_die(__LINE__, "unshare: %s", strerror(errno));
		fn(state);
		_exit(0);
	}
	close(p[1]);
	n = read(p[0], msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s",
	    msg[0] ? msg : "child died");
}

/* In the probe child: does a tmpfs mount work (a private mount
 * namespace)? */
static bool
can_mount(void)
{
	char dir[] = "/tmp/qrun-probe.XXXXXX";
	bool ok = mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) == 0 &&
	    mkdtemp(dir) != NULL &&
	    mount("tmpfs", dir, "tmpfs", 0, "size=4k") == 0;

	if (ok)
		umount(dir);
	rmdir(dir);
	return ok;
}

bool
unit_can_unshare(int flags, bool tun)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		bool ok = unshare(flags) == 0;

		if (ok && (flags & CLONE_NEWNS))
			ok = can_mount();
		if (ok && tun)
			ok = access("/dev/net/tun", R_OK | W_OK) == 0;
		_exit(ok ? 0 : 1);
	}
	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0;
}

/* The namespace a fixture came from, while it is in another. */
static int orig_ns = -1;

void
unit_netns_enter(struct net **nl, char *state, size_t len)
{
	if (state != NULL) {
		snprintf(state, len, "/tmp/qrun-unit.XXXXXX");
		ck_assert_ptr_nonnull(mkdtemp(state));
	}
	orig_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(orig_ns, 0);
	ck_assert_msg(unshare(CLONE_NEWNET) == 0, "unshare: %s",
	    strerror(errno));
	ck_assert_int_eq(net_open(nl), 0);
}

void
unit_netns_leave(struct net **nl, const char *state)
{
	net_close(*nl);
	*nl = NULL;
	if (orig_ns >= 0) {
		ck_assert_int_eq(setns(orig_ns, CLONE_NEWNET), 0);
		close(orig_ns);
		orig_ns = -1;
	}
	if (state != NULL)
		nftw(state, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}
