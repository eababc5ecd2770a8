/*
 * virtiofsd.c - a share's virtiofsd (QEMU's, /usr/lib/qemu/virtiofsd),
 * started and supervised by qrun, one per virtiofs share and QEMU run.
 *
 * It gets no more rights over the directory than the user has: a root
 * developer's runs as root; anyone else's (under sudo, with the file
 * capability, unprivileged) drops to the user, every capability and
 * supplementary group gone (virtiofsd drops those itself, which only
 * root can: a developer who is not root and has some is told to use
 * sudo or :9p), then enters a user namespace of its own that maps only
 * the user to its root, where virtiofsd's sandbox (pid, mount and
 * network namespaces, pivot_root into the directory) works; it can
 * override permissions only on files owned by both the user and the
 * user's group, which the user could chmod anyway, and the guest sees
 * the user's files as root's. A read-only share is served from a read-only bind mount of
 * the directory (every submount too) in a mount namespace of its own:
 * this virtiofsd has no "read-only" of its own, and a guest's ro mount
 * would be the guest's to undo.
 *
 * The vhost-user socket never waits for a connection anyone could make:
 * qrun binds it in a directory of the run's in the state dir (0700,
 * journaled), listens, connects QEMU's end itself and removes the name,
 * before virtiofsd exists; virtiofsd accepts that one connection (--fd)
 * and exits when QEMU closes it. Nothing here prints.
 */
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qrun.h"

#define STOP_MS		1000	/* after QEMU: to exit on its own */
#define START_MS	5000	/* to say it waits for QEMU */
#define WHY(...) snprintf(why, whylen, __VA_ARGS__)

/* What the child needs to become the user's virtiofsd. */
struct vfs_child {
	const struct hostdir *d;
	const struct priv *pv;
	bool as_root;		/* a root developer's: no user namespace */
};

/* The resolved path, as the user saw it: absolute, a directory the user
 * may read and search. 0 or -errno. */
static int
resolve(struct hostdir *d, const struct priv *pv)
{
	struct stat st;
	char *abs;
	int r = 0;

	if (access_as_user(pv, true) < 0)
		return -EPERM;
	if ((abs = realpath(d->path, NULL)) == NULL)
		r = -errno;
	else if (stat(abs, &st) < 0)
		r = -errno;
	else if (!S_ISDIR(st.st_mode))
		r = -ENOTDIR;
	else if (faccessat(AT_FDCWD, abs, R_OK | X_OK, AT_EACCESS) < 0)
		r = -errno;
	else if (strlen(abs) >= sizeof(d->path))
		r = -ENAMETOOLONG;
	access_as_user(pv, false);
	if (r == 0)
		snprintf(d->path, sizeof(d->path), "%s", abs);
	free(abs);
	return r;
}

int
virtiofsd_check(struct hostdir *d, const struct priv *pv, char *why,
    size_t whylen)
{
	char given[HOSTDIR_PATH_MAX];
	int r;

	snprintf(given, sizeof(given), "%s", d->path);
	if ((r = resolve(d, pv)) == -EACCES || r == -EPERM) {
		WHY("share %s: %s may not read it", given, pv->user);
		return r;
	} else if (r < 0) {
		WHY("share %s: %s", given, r == -ENOENT ? "no such directory" :
		    r == -ENOTDIR ? "not a directory" : strerror(-r));
		return r;
	}
	if (d->fs == HOSTDIR_VIRTIOFS && strchr(d->path, ',')) {
		WHY("share %s: %s has a ',' (virtiofsd cannot take it; :9p "
		    "can)", given, d->path);
		return -EINVAL;
	}
	if (d->fs == HOSTDIR_VIRTIOFS && geteuid() != 0 &&
	    getgroups(0, NULL) > 0) {
		WHY("share %s: QEMU's virtiofsd drops supplementary groups, "
		    "which %s cannot without root: run qrun as root (sudo), "
		    "or share it over 9p (%s:9p)", given, pv->user, given);
		return -EPERM;
	}
	if (d->fs == HOSTDIR_VIRTIOFS && access(VIRTIOFSD_PATH, X_OK) < 0) {
		r = -errno;
		WHY("share %s: %s: %s (Debian: qemu-system-common; or "
		    "%s:9p)", given, VIRTIOFSD_PATH, strerror(-r), given);
		return r;
	}
	return 0;
}

/* Write text to a file of /proc/self (a user namespace's maps). */
static int
proc_write(const char *file, const char *text)
{
	int fd = open(file, O_WRONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		r = -errno;
	close(fd);
	return r;
}

/* In the child, already the user: a user namespace (and a mount
 * namespace) of its own where only the user is mapped, as its root. A
 * process that changed its ids is not dumpable, and its /proc/self maps
 * are then root's: dumpable again, with nothing left to protect. */
static int
userns_enter(bool mountns)
{
	char map[64];
	uid_t uid = getuid();
	gid_t gid = getgid();
	int r;

	if (prctl(PR_SET_DUMPABLE, 1) < 0 ||
	    unshare(CLONE_NEWUSER | (mountns ? CLONE_NEWNS : 0)) < 0)
		return -errno;
	snprintf(map, sizeof(map), "0 %lu 1", (unsigned long)uid);
	if ((r = proc_write("/proc/self/setgroups", "deny")) < 0 ||
	    (r = proc_write("/proc/self/uid_map", map)) < 0)
		return r;
	snprintf(map, sizeof(map), "0 %lu 1", (unsigned long)gid);
	return proc_write("/proc/self/gid_map", map);
}

/* In the child's own mount namespace: dir, and every mount below it,
 * read-only, seen by nobody else. */
static int
ro_bind(const char *dir)
{
	struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY };

	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0 ||
	    mount(dir, dir, NULL, MS_BIND | MS_REC, NULL) < 0 ||
	    mount_setattr(AT_FDCWD, dir, AT_RECURSIVE, &a, sizeof(a)) < 0)
		return -errno;
	return 0;
}

/* Become the developer with no supplementary groups (virtiofsd drops
 * them itself, and could not in the user namespace): root acting for
 * them sets the ids; anyone else already is them (priv_drop clears a
 * file capability). No capabilities, no new privileges. */
static int
become_user(const struct priv *pv)
{
	if (geteuid() != 0)
		return priv_drop(pv);
	if (setgroups(0, NULL) < 0 ||
	    setresgid(pv->gid, pv->gid, pv->gid) < 0 ||
	    setresuid(pv->uid, pv->uid, pv->uid) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

/* helper_spec.setup: become what may serve the share. */
static int
child_setup(const void *arg, const char **what)
{
	const struct vfs_child *c = arg;
	int r;

	if (!c->as_root) {
		*what = "dropping privileges";
		if ((r = become_user(c->pv)) < 0)
			return r;
		*what = "user namespace";
		if ((r = userns_enter(c->d->ro)) < 0)
			return r;
	} else if (c->d->ro && unshare(CLONE_NEWNS) < 0) {
		*what = "mount namespace";
		return -errno;
	}
	*what = "read-only bind mount";
	return c->d->ro ? ro_bind(c->d->path) : 0;
}

/* The run's directory for sockets in the state dir ("sock-PID", 0700,
 * journaled: the undo removes it with what is left in it). */
static int
sock_dir(struct journal *j, char *name, size_t len)
{
	struct stat st;

	snprintf(name, len, "sock-%ld", (long)getpid());
	if (fstatat(journal_dfd(j), name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return S_ISDIR(st.st_mode) ? 0 : -EEXIST;
	return change_dir(j, name);
}

/* A listening socket for virtiofsd and QEMU's end, connected to it;
 * the name is gone again before anyone else could connect. */
static int
sock_pair(struct journal *j, const char *tag, int *listen_fd, int *qemu_fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[32];
	int l, c = -1, r;

	if ((r = sock_dir(j, dir, sizeof(dir))) < 0)
		return r;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s/%s",
	    journal_dfd(j), dir, tag);
	if ((l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	unlink(sa.sun_path);
	if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(l, 1) < 0 ||
	    (c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		r = -errno;
	unlink(sa.sun_path);
	if (r < 0) {
		close(l);
		if (c >= 0)
			close(c);
		return r;
	}
	*listen_fd = l;
	*qemu_fd = c;
	return 0;
}

/* Does its stderr say it is waiting for QEMU (log_level=info)? */
#define VFS_READY	"Waiting for vhost-user socket connection"

int
virtiofsd_start(struct virtiofsd *v, const struct hostdir *d,
    const struct priv *pv, struct journal *j, char *why, size_t whylen)
{
	struct vfs_child c = { d, pv, pv->uid == 0 && !pv->for_other };
	char src[HOSTDIR_PATH_MAX + 8];
	char *argv[] = { (char *)"virtiofsd", (char *)"--fd=3", (char *)"-o",
	    src, (char *)"-o", (char *)"log_level=info",
	    (char *)"--rlimit-nofile=0", NULL };
	struct helper_spec s = { .prog = "virtiofsd", .path = VIRTIOFSD_PATH,
	    .argv = argv, .setup = child_setup, .setup_arg = &c };
	char how[64];
	int l = -1, r;

	helper_init(&v->h);
	v->qemu_fd = -1;
	v->dir = d;
	v->stopped = false;
	if ((r = sock_pair(j, d->tag, &l, &v->qemu_fd)) < 0) {
		WHY("share %s: its socket: %s", d->path, strerror(-r));
		return r;
	}
	snprintf(src, sizeof(src), "source=%s", d->path);
	s.fd3 = l;
	r = helper_spawn(j, &s, &v->h);
	close(l);
	if (r == 0)
		r = helper_wait(&v->h, VFS_READY, START_MS);
	if (r < 0) {
		if (r == -ECHILD)
			WHY("share %s: virtiofsd %s: %s", d->path,
			    helper_how(&v->h, how, sizeof(how)), v->h.last);
		else
			WHY("share %s: virtiofsd: %s", d->path, strerror(-r));
		virtiofsd_stop(v);
		return r;
	}
	return 0;
}

void
virtiofsd_stop(struct virtiofsd *v)
{
	long end = mono_ms() + STOP_MS;

	v->stopped = true;
	if (v->qemu_fd >= 0)
		close(v->qemu_fd);
	v->qemu_fd = -1;
	/* without QEMU it ends by itself; else helper_stop's signals */
	while (helper_running(&v->h) && mono_ms() < end &&
	    !loop_child_reap(&v->h.child, false))
		usleep(5000);
	helper_stop(&v->h);
}

int
virtiofsd_died(struct virtiofsd *v, char *why, size_t whylen)
{
	int st;
	char how[64];

	if (v->stopped || !loop_child_reap(&v->h.child, false))
		return 0;
	st = v->h.child.status;
	WHY("share %s: virtiofsd %s%s%s", v->dir->path,
	    helper_how(&v->h, how, sizeof(how)), v->h.last[0] ? ": " : "",
	    v->h.last);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 1 : 2;
}
