/*
 * lock.c - one qrun per tap (or bridge, or switch slot) in a network
 * namespace: "STATE/NAME@INO.lock", flock'ed for the life of the run,
 * holding the pid of the holder as text. INO is the namespace's inode,
 * so tap1 in two namespaces is two locks; an inode is reused only once
 * its namespace is gone, and then no live holder is left to collide with.
 *
 * Taking a lock hands over: the pid the last holder left in the file
 * names its journal, which the caller replays if that run died (so a
 * dead run's leftovers are undone by the next run that needs the same
 * object, at the cost of one file, whatever else the state dir holds).
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qrun.h"

/* The pid written in a lock file; 0 when unreadable. */
static pid_t
lock_pid(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	long pid;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return parse_long(buf + strspn(buf, " "), 1, 0x7fffffff, &pid) < 0 ?
	    0 : (pid_t)pid;
}

/*
 * Open (creating) "NAME@INO.SUFFIX" of this namespace in the state dir
 * dfd: a regular file of ours. The fd, or -errno.
 */
int
lock_file(int dfd, const char *name, const char *suffix)
{
	char file[IFNAMSIZ + 48];
	struct netns_id ns;
	struct stat st;
	int fd, r;

	if (name == NULL || ifname_check(name, NULL) < 0)
		return -EINVAL;
	if ((r = net_ns_self(&ns)) < 0)
		return r;
	snprintf(file, sizeof(file), "%s@%llu.%s", name, ns.ino, suffix);
	fd = openat(dfd, file, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK, 0600);
	if (fd < 0 || fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode) || st.st_uid != geteuid())
		r = -EPERM;
	if (r < 0 && fd >= 0)
		close(fd);
	return r < 0 ? r : fd;
}

/* Open the lock file of name in the state dir. */
static int
lock_open(const char *state_dir, const char *name)
{
	int dfd, fd, r;

	if ((r = state_open(state_dir, true, &dfd)) < 0)
		return r;
	fd = lock_file(dfd, name, "lock");
	close(dfd);
	return fd;
}

/*
 * Take the lock on name: 0 with *fdp (hold it; lock_release), -EBUSY
 * with *holder its pid, -errno. *prev is the last holder's pid (0: none
 * or ourselves), for the caller to replay its journal; the file names
 * the last holder until the caller claims it (lock_claim) once that
 * replay is done, so a qrun killed while replaying hands the same
 * journal on to the next one.
 */
int
lock_take(const char *state_dir, const char *name, int *fdp, pid_t *holder,
    pid_t *prev)
{
	int fd, r;

	*fdp = -1;
	*holder = *prev = 0;
	if ((fd = r = lock_open(state_dir, name)) < 0)
		return r;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		r = errno == EWOULDBLOCK ? -EBUSY : -errno;
		if (r == -EBUSY)
			*holder = lock_pid(fd);
		close(fd);
		return r;
	}
	if ((*prev = lock_pid(fd)) == getpid())
		*prev = 0;
	*fdp = fd;
	return 0;
}

/* Write our pid into the lock we hold: our journal is the one to replay
 * if we die. */
int
lock_claim(int fd)
{
	char pid[32];

	/* Fixed width, so the pid overwrites the last holder's without a
	 * truncate (which costs more than the rest of the lock). */
	snprintf(pid, sizeof(pid), "%10ld\n", (long)getpid());
	return write_at(fd, pid, strlen(pid), 0);
}

/* The lock file stays: unlinking it would race with the next locker. */
void
lock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}
