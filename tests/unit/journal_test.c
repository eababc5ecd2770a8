/*
 * journal_test.c - the undo journal and the tap locks. Every test runs in
 * a forked child (so it works with CK_FORK=no too); the network tests
 * first enter a private network namespace, the ENOSPC test a private
 * mount namespace with a tiny tmpfs. Nothing touches the root namespace.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qrun.h"
#include "unit.h"

/* Where a failing child reports what failed. */
static int fail_fd = -1;

static void __attribute__((noreturn, format(printf, 2, 3)))
die(int line, const char *fmt, ...)
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

#define T(c) do { if (!(c)) die(__LINE__, "%s", #c); } while (0)
#define TEQ(a, b) do { long a_ = (a), b_ = (b); if (a_ != b_) \
	die(__LINE__, "%s == %ld, want %ld", #a, a_, b_); } while (0)

static int
rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st; (void)flag; (void)f;
	return remove(p);
}

/*
 * Run fn(state_dir) in a child that first unshares flags; the state dir
 * is a fresh private directory, removed afterwards.
 */
static void
in_child(void (*fn)(const char *), int flags)
{
	char dir[] = "/tmp/qrun-journal.XXXXXX", state[64], msg[1024];
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
			die(__LINE__, "unshare: %s", strerror(errno));
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

/* ---------------------------------------------------------- helpers */

static struct net *
net_or_die(void)
{
	struct net *n = NULL;

	T(net_open(&n) == 0);
	return n;
}

static bool
link_exists(struct net *n, const char *name)
{
	struct net_link l;

	return net_link_get(n, name, &l) == 0;
}

static bool
has_addr(struct net *n, const char *name, const char *a)
{
	struct net_addr as[16];
	struct net_link l;
	struct in_addr in;
	size_t na = 0;
	int p;

	T(parse_ipv4(a, &in, &p, true) == 0);
	T(net_link_get(n, name, &l) == 0);
	T(net_addr_list(n, l.ifindex, as, 16, &na) == 0);
	for (size_t i = 0; i < na; i++)
		if (as[i].addr.s_addr == in.s_addr && as[i].prefix == p)
			return true;
	return false;
}

static void
add_addr(struct net *n, const char *name, const char *a)
{
	struct net_link l;
	struct in_addr in;
	int p;

	T(parse_ipv4(a, &in, &p, true) == 0);
	T(net_link_get(n, name, &l) == 0);
	T(net_addr_add(n, l.ifindex, in, p) == 0);
}

static int
ifindex(struct net *n, const char *name)
{
	struct net_link l;

	T(net_link_get(n, name, &l) == 0);
	return l.ifindex;
}

/* Our own starttime, field 22 of /proc/self/stat. */
static unsigned long long
self_start(void)
{
	char buf[2048], *p;
	unsigned long long v = 0;
	FILE *f = fopen("/proc/self/stat", "r");

	T(f != NULL && fgets(buf, sizeof(buf), f) != NULL);
	fclose(f);
	p = strrchr(buf, ')') + 2;
	for (int field = 3; field < 22; field++)
		p = strchr(p, ' ') + 1;
	T(sscanf(p, "%llu", &v) == 1);
	return v;
}

/* A pid that is certainly not alive: a reaped child's. */
static pid_t
dead_pid(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		/* exec: nothing inherited to look leaked under valgrind */
		execl("/bin/true", "true", (char *)NULL);
		_exit(0);
	}
	T(pid > 0 && waitpid(pid, NULL, 0) == pid);
	return pid;
}

/* Write "STATE/run-PID.journal" by hand, as a crashed qrun left it. */
static char *
write_journal(const char *state, pid_t pid, unsigned long long start,
    const char *body)
{
	char *path = xasprintf("%s/run-%ld.journal", state, (long)pid);
	FILE *f;

	mkdir(state, 0700);
	T((f = fopen(path, "w")) != NULL);
	fprintf(f, "qrun-journal 1 pid %ld uid %ld start %llu\n%s",
	    (long)pid, (long)geteuid(), start, body);
	T(fclose(f) == 0);
	return path;
}

static int
count_journals(const char *state)
{
	char *pat = xasprintf("%s/run-*.journal", state);
	glob_t g;
	int n;

	n = glob(pat, 0, NULL, &g) == 0 ? (int)g.gl_pathc : 0;
	globfree(&g);
	free(pat);
	return n;
}

/* ------------------------------------------------------------ tests */

/* Everything this journal did is undone: the tap it made is gone. */
static void
t_undo_created(const char *state)
{
	struct net *n = net_or_die();
	struct journal *j = NULL;
	int rec, skip;
	char *path = xasprintf("%s/run-%ld.journal", state, (long)getpid());

	TEQ(journal_open(state, &j), 0);
	T(access(path, F_OK) == 0);
	TEQ(journal_log(j, "tap-create %s", "tapj0"), 0);
	TEQ(net_tap_create("tapj0", getuid(), (gid_t)-1), 0);
	TEQ(journal_log(j, "addr-add tapj0 %s", "10.99.0.1/24"), 0);
	add_addr(n, "tapj0", "10.99.0.1/24");
	TEQ(journal_log(j, "link-up tapj0"), 0);
	TEQ(net_link_set_up(n, ifindex(n, "tapj0"), true), 0);
	TEQ(journal_log(j, "bridge-create brj0"), 0);
	TEQ(net_bridge_create(n, "brj0"), 0);
	TEQ(journal_log(j, "enslave tapj0 brj0"), 0);
	TEQ(net_link_set_master(n, ifindex(n, "tapj0"), ifindex(n, "brj0")),
	    0);
	TEQ(journal_scan(path, &rec, &skip), 0);
	TEQ(rec, 5);
	TEQ(skip, 0);
	TEQ(journal_undo(j, n), 0);
	T(!link_exists(n, "tapj0"));
	T(!link_exists(n, "brj0"));
	T(access(path, F_OK) < 0 && errno == ENOENT);
	free(path);
	net_close(n);
}

/* What existed before stays; only our address, MTU and enslaving go. */
static void
t_undo_preexisting(const char *state)
{
	struct net *n = net_or_die();
	struct journal *j = NULL;
	struct net_link l;

	TEQ(net_tap_create("tapj1", getuid(), (gid_t)-1), 0);
	TEQ(net_bridge_create(n, "brj1"), 0);
	TEQ(net_link_set_up(n, ifindex(n, "tapj1"), true), 0);
	TEQ(journal_open(state, &j), 0);
	TEQ(journal_log(j, "addr-add tapj1 10.98.0.1/16"), 0);
	add_addr(n, "tapj1", "10.98.0.1/16");
	TEQ(journal_log(j, "mtu tapj1 1500 1400"), 0);
	TEQ(net_link_set_mtu(n, ifindex(n, "tapj1"), 1400), 0);
	TEQ(journal_log(j, "enslave tapj1 brj1"), 0);
	TEQ(net_link_set_master(n, ifindex(n, "tapj1"), ifindex(n, "brj1")),
	    0);
	/* an MTU someone changed after us stays as they set it */
	TEQ(net_tap_create("tapj1b", getuid(), (gid_t)-1), 0);
	TEQ(journal_log(j, "mtu tapj1b 1500 1400"), 0);
	TEQ(net_link_set_mtu(n, ifindex(n, "tapj1b"), 1400), 0);
	TEQ(net_link_set_mtu(n, ifindex(n, "tapj1b"), 1300), 0);
	/* a port someone moved to another bridge stays there */
	TEQ(net_bridge_create(n, "brj1c"), 0);
	TEQ(journal_log(j, "enslave tapj1b brj1"), 0);
	TEQ(net_link_set_master(n, ifindex(n, "tapj1b"), ifindex(n, "brj1c")),
	    0);
	/* and a bridge that was ours but got replaced is left alone */
	TEQ(journal_log(j, "bridge-create brj1b"), 0);
	TEQ(net_tap_create("brj1b", getuid(), (gid_t)-1), 0);
	T(has_addr(n, "tapj1", "10.98.0.1/16"));
	TEQ(journal_undo(j, n), 0);
	TEQ(net_link_get(n, "tapj1b", &l), 0);
	TEQ(l.mtu, 1300);
	TEQ(l.master, ifindex(n, "brj1c"));
	T(link_exists(n, "brj1b"));
	TEQ(net_link_get(n, "tapj1", &l), 0);
	T(l.is_tap && l.up);
	TEQ(l.mtu, 1500);
	TEQ(l.master, 0);
	T(!has_addr(n, "tapj1", "10.98.0.1/16"));
	T(link_exists(n, "brj1"));
	TEQ(count_journals(state), 0);
	net_close(n);
}

/*
 * A journal whose writer is dead (pid gone, or pid recycled: another
 * starttime) is replayed and removed; a live writer's is left alone.
 */
static void
t_cleanup_dead_live(const char *state)
{
	struct net *n = net_or_die();
	char *dead, *live;
	int count = -1;

	TEQ(net_tap_create("tapj2", getuid(), (gid_t)-1), 0);
	TEQ(net_tap_create("tapj3", getuid(), (gid_t)-1), 0);
	dead = write_journal(state, dead_pid(), 4242,
	    "tap-create tapj2\nlink-up tapj2\n");
	live = write_journal(state, getpid(), self_start(),
	    "tap-create tapj3\n");
	TEQ(journal_cleanup(state, n, &count), 0);
	TEQ(count, 1);
	T(!link_exists(n, "tapj2"));
	T(access(dead, F_OK) < 0);
	T(link_exists(n, "tapj3"));
	T(access(live, F_OK) == 0);
	/* same pid, other starttime: a recycled pid, so dead */
	free(write_journal(state, getpid(), self_start() + 1,
	    "tap-create tapj3\n"));
	TEQ(journal_cleanup(state, n, &count), 0);
	TEQ(count, 1);
	T(!link_exists(n, "tapj3"));
	TEQ(count_journals(state), 0);
	/* a missing state dir is nothing to clean */
	TEQ(journal_cleanup("/nonexistent/qrun-state", n, &count), 0);
	TEQ(count, 0);
	free(dead);
	free(live);
	net_close(n);
}

/*
 * Malformed lines and unknown kinds are skipped, never acted on; a
 * tap-create naming something that is not a tap deletes nothing.
 */
static void
t_malformed(const char *state)
{
	struct net *n = net_or_die();
	char *path;
	int count = -1, rec, skip;

	TEQ(net_tap_create("tapj4", getuid(), (gid_t)-1), 0);
	TEQ(net_tap_create("tapj5", getuid(), (gid_t)-1), 0);
	TEQ(net_bridge_create(n, "brj4"), 0);
	path = write_journal(state, dead_pid(), 1,
	    "tap-create tapj4\n"		/* valid: undone */
	    "tap-create lo\n"			/* valid, not a tap */
	    "tap-create brj4\n"		/* valid, not a tap */
	    "tap-create ../x\n"		/* bad name */
	    "addr-add lo garbage\n"		/* bad address */
	    "addr-add lo 127.0.0.1\n"		/* no prefix */
	    "link-up lo extra\n"		/* trailing word */
	    "tap-create  lo\n"			/* empty word */
	    "tap-create abcdefghijklmnopq\n"	/* too long */
	    "frobnicate tapj5\n"		/* unknown kind */
	    "\n"				/* empty */
	    "mtu lo 1 2\n"			/* mtu out of range */
	    "tap-create tapj5");		/* torn: no newline */
	TEQ(journal_scan(path, &rec, &skip), 0);
	TEQ(rec, 3);
	TEQ(skip, 10);
	TEQ(journal_cleanup(state, n, &count), 0);
	TEQ(count, 1);
	T(!link_exists(n, "tapj4"));
	T(link_exists(n, "lo"));
	T(link_exists(n, "brj4"));
	T(link_exists(n, "tapj5"));
	T(access(path, F_OK) < 0);
	free(path);
	net_close(n);
}

/* journal_log refuses what undo could not read back. */
static void
t_log_validates(const char *state)
{
	struct journal *j = NULL;
	char *path = xasprintf("%s/run-%ld.journal", state, (long)getpid());
	struct strv kv = { 0 }, runs = { 0 };
	int rec, skip;

	TEQ(journal_open(state, &j), 0);
	TEQ(journal_log(j, "tap-create ../x"), -EINVAL);
	TEQ(journal_log(j, "addr-add tap1 1.2.3.4"), -EINVAL);
	TEQ(journal_log(j, "frobnicate tap1"), -EINVAL);
	TEQ(journal_log(j, "info tap %s", "a\nlink-up lo"), -EINVAL);
	TEQ(journal_log(j, "%s", ""), -EINVAL);
	TEQ(journal_log(j, "info tap tap1"), 0);
	TEQ(journal_log(j, "info image %s", "/path with spaces/x.img"), 0);
	TEQ(journal_log(j, "addr-add tap1 10.1.0.1/16"), 0);
	TEQ(journal_cancel(j), 0);		/* the add failed */
	TEQ(journal_scan(path, &rec, &skip), 0);
	TEQ(rec, 2);
	TEQ(skip, 0);
	TEQ(journal_read_info(path, &kv), 0);
	TEQ(kv.n, 4);
	T(strcmp(kv.v[0], "tap") == 0 && strcmp(kv.v[1], "tap1") == 0);
	T(strcmp(kv.v[2], "image") == 0 &&
	    strcmp(kv.v[3], "/path with spaces/x.img") == 0);
	TEQ(journal_runs(state, &runs), 0);
	TEQ(runs.n, 1);
	T(strcmp(runs.v[0], path) == 0);
	/* our own live journal is not a leftover */
	TEQ(journal_cleanup(state, NULL, &rec), 0);
	TEQ(rec, 0);
	T(access(path, F_OK) == 0);
	/* a second open by the same pid must not clobber it */
	{
		struct journal *j2 = NULL;

		TEQ(journal_open(state, &j2), -EEXIST);
		T(j2 == NULL);
	}
	journal_close(j);
	T(access(path, F_OK) < 0);
	strv_free(&runs);
	TEQ(journal_runs(state, &runs), 0);
	TEQ(runs.n, 0);
	strv_free(&kv);
	strv_free(&runs);
	free(path);
}

/* An unsafe state dir is refused outright; unsafe files are skipped. */
static void
t_unsafe(const char *state)
{
	struct net *n = net_or_die();
	struct journal *j = NULL;
	char *path, *link;
	int count = -1, fd = -1;
	pid_t pid = dead_pid(), holder;

	TEQ(net_tap_create("tapj6", getuid(), (gid_t)-1), 0);
	path = write_journal(state, pid, 1, "tap-create tapj6\n");
	T(chmod(state, 0777) == 0);
	TEQ(journal_cleanup(state, n, &count), -EPERM);
	TEQ(count, 0);
	TEQ(journal_open(state, &j), -EPERM);
	TEQ(lock_tap(state, "tapj6", &fd, &holder), -EPERM);
	T(chmod(state, 0720) == 0);
	TEQ(journal_cleanup(state, n, &count), -EPERM);
	T(chmod(state, 0700) == 0);
	T(chown(state, 65534, 65534) == 0);
	TEQ(journal_cleanup(state, n, &count), -EPERM);
	T(chown(state, geteuid(), getegid()) == 0);
	T(link_exists(n, "tapj6") && access(path, F_OK) == 0);

	/* a file of another user, a symlink, a big file: skipped */
	T(chown(path, 65534, 65534) == 0);
	link = xasprintf("%s/run-%ld.journal", state, (long)dead_pid());
	T(symlink(path, link) == 0);
	free(write_journal(state, dead_pid(), 1, ""));
	{
		char *big = xasprintf("%s/run-%ld.journal", state,
		    (long)dead_pid());
		FILE *f = fopen(big, "w");

		T(f != NULL);
		fprintf(f, "qrun-journal 1 pid 1 uid 0 start 1\n");
		for (int i = 0; i < 8000; i++)
			fprintf(f, "tap-create tapj6\n");
		fclose(f);
		TEQ(journal_cleanup(state, n, &count), 0);
		TEQ(count, 1);		/* only the empty, well-formed one */
		T(access(big, F_OK) == 0);
		free(big);
	}
	T(link_exists(n, "tapj6"));
	T(access(path, F_OK) == 0);
	free(link);
	free(path);
	net_close(n);
}

/* One qrun per tap: the second locker learns the holder's pid. */
static void
t_lock(const char *state)
{
	pid_t holder = -1, child;
	int fd = -1, fd2 = -1, st;

	TEQ(lock_tap(state, "../x", &fd, &holder), -EINVAL);
	TEQ(lock_tap(state, "tapj7", &fd, &holder), 0);
	T(fd >= 0);
	if ((child = fork()) == 0) {
		int cfd = -1;
		pid_t h = 0;
		int r = lock_tap(state, "tapj7", &cfd, &h);

		_exit(r == -EBUSY && h == getppid() && cfd == -1 ? 0 : 1);
	}
	T(waitpid(child, &st, 0) == child);
	T(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* another open file is another locker, even in this process */
	TEQ(lock_tap(state, "tapj7", &fd2, &holder), -EBUSY);
	TEQ(holder, getpid());
	unlock_tap(fd);
	if ((child = fork()) == 0) {
		int cfd = -1;
		pid_t h = 0;

		_exit(lock_tap(state, "tapj7", &cfd, &h) == 0 ? 0 : 1);
	}
	T(waitpid(child, &st, 0) == child);
	T(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	TEQ(lock_tap(state, "tapj7", &fd, &holder), 0);
	unlock_tap(fd);
}

/* A full disk makes journal_log fail, and leaves no torn record. */
static void
t_enospc(const char *state)
{
	char *mnt = xasprintf("%s.mnt", state), *st2, *path;
	struct journal *j = NULL;
	int r = 0, i, rec, skip;

	T(mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) == 0);
	T(mkdir(mnt, 0700) == 0);
	T(mount("tmpfs", mnt, "tmpfs", 0, "size=4k,mode=0700") == 0);
	st2 = xasprintf("%s/state", mnt);
	TEQ(journal_open(st2, &j), 0);
	for (i = 0; i < 1000 && r == 0; i++)
		r = journal_log(j, "info pad %0100d", i);
	TEQ(r, -ENOSPC);
	T(i > 10);
	path = xasprintf("%s/run-%ld.journal", st2, (long)getpid());
	TEQ(journal_scan(path, &rec, &skip), 0);
	TEQ(rec, i - 1);
	TEQ(skip, 0);
	journal_close(j);
	T(umount(mnt) == 0);
	free(path);
	free(st2);
	free(mnt);
}

#define CHILD_TEST(name, fn, flags) \
	START_TEST(name) { in_child(fn, flags); } END_TEST

CHILD_TEST(test_undo_created, t_undo_created, CLONE_NEWNET)
CHILD_TEST(test_undo_preexisting, t_undo_preexisting, CLONE_NEWNET)
CHILD_TEST(test_cleanup_dead_live, t_cleanup_dead_live, CLONE_NEWNET)
CHILD_TEST(test_malformed, t_malformed, CLONE_NEWNET)
CHILD_TEST(test_unsafe, t_unsafe, CLONE_NEWNET)
CHILD_TEST(test_log_validates, t_log_validates, 0)
CHILD_TEST(test_lock, t_lock, 0)
CHILD_TEST(test_enospc, t_enospc, CLONE_NEWNS)

/* Can a child unshare these namespaces (and, for a mount namespace,
 * mount a tmpfs)? Decided once, when the suite is built. */
static bool
can_unshare(int flags)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		char dir[] = "/tmp/qrun-probe.XXXXXX";
		int ok = unshare(flags) == 0;

		if (ok && (flags & CLONE_NEWNS)) {
			ok = mount("none", "/", "none", MS_REC | MS_PRIVATE,
			    NULL) == 0 && mkdtemp(dir) != NULL &&
			    mount("tmpfs", dir, "tmpfs", 0, "size=4k") == 0;
			if (ok)
				umount(dir);
			rmdir(dir);
		}
		_exit(ok ? 0 : 1);
	}
	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0;
}

Suite *
journal_suite(void)
{
	Suite *s = suite_create("journal");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_log_validates);
	tcase_add_test(tc, test_lock);
	if (can_unshare(CLONE_NEWNET) && access("/dev/net/tun", R_OK | W_OK)
	    == 0) {
		tcase_add_test(tc, test_undo_created);
		tcase_add_test(tc, test_undo_preexisting);
		tcase_add_test(tc, test_cleanup_dead_live);
		tcase_add_test(tc, test_malformed);
		tcase_add_test(tc, test_unsafe);
	} else
		UNIT_SKIP(5, "journal: cannot unshare a network namespace "
		    "or open /dev/net/tun (need root): netns tests skipped");
	if (can_unshare(CLONE_NEWNS))
		tcase_add_test(tc, test_enospc);
	else
		UNIT_SKIP(1, "journal: cannot mount a tmpfs in a private "
		    "mount namespace (need root): ENOSPC test skipped");
	suite_add_tcase(s, tc);
	return s;
}
