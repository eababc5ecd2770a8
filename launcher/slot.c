/*
 * slot.c - the slots of a developer switch: which run has slot k of
 * switch N (tap qtapN-k, guest 172.(20+N).0.(k+1)).
 *
 * The truth is the lock of the slot's tap (lock.c), which also hands a
 * dead holder's journal over to the next one. Finding the first free
 * slot by trying those locks in turn would cost one file per held slot;
 * instead an index says which are held: a SysV semaphore set per switch
 * (state dir and namespace: the key is the inode of "qbrN@INO.slots"),
 * one semaphore per slot, raised with SEM_UNDO, so a run killed with
 * SIGKILL lowers its own at once. A take reads the whole set (one
 * semctl), raises the first zero one atomically (fails if another run got
 * it first) and then takes that slot's lock; the index may lag the locks
 * for a moment (a run that dies drops its semaphore before its files),
 * and then the lock says no and the next free slot is tried.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <dirent.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qrun.h"

#define NSEMS	(SLOT_MAX + 1)	/* semaphore 0 unused */
#define RETRIES	8		/* a set removed under us, made again */

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

const char *
slot_tap(int sw, int k, char *buf)
{
	snprintf(buf, IFNAMSIZ, "qtap%d-%d", sw, k);
	return buf;
}

/* The key of the index behind the open file fd (its inode); 0 or
 * -errno. */
static int
index_key(int fd, key_t *key)
{
	struct stat st;
	uint32_t h = 2166136261u;
	uint64_t v[2];

	if (fstat(fd, &st) < 0)
		return -errno;
	v[0] = st.st_dev, v[1] = st.st_ino;
	for (size_t i = 0; i < sizeof(v); i++)
		h = (h ^ ((const uint8_t *)v)[i]) * 16777619u;
	*key = (key_t)(h & 0x7fffffff) | 0x10000;	/* never IPC_PRIVATE */
	return 0;
}

/* The index of switch sw: its semid, made when create; -ENOENT when there
 * is none, -errno. */
static int
index_get(const char *state, int sw, bool create)
{
	char br[IFNAMSIZ];
	key_t key;
	int dfd, fd, r, id;

	snprintf(br, sizeof(br), "qbr%d", sw);
	if ((r = state_open(state, true, &dfd)) < 0)
		return r;
	fd = lock_file(dfd, br, "slots");
	close(dfd);
	if (fd < 0)
		return fd;
	r = index_key(fd, &key);
	close(fd);
	if (r < 0)
		return r;
	if ((id = semget(key, NSEMS, create ? IPC_CREAT | 0600 : 0)) < 0)
		return -errno;
	return id;
}

/* Every slot's count: one read of the set. */
static int
index_read(int id, unsigned short *val)
{
	union semun u = { .array = val };

	return semctl(id, 0, GETALL, u) < 0 ? -errno : 0;
}

/* Raise slot k's semaphore if it is zero; -EAGAIN when it is not. */
static int
index_raise(int id, int k)
{
	struct sembuf op[2] = {
		{ (unsigned short)k, 0, IPC_NOWAIT },
		{ (unsigned short)k, 1, SEM_UNDO | IPC_NOWAIT },
	};

	return semop(id, op, 2) < 0 ? -errno : 0;
}

static void
index_lower(int id, int k)
{
	struct sembuf op = { (unsigned short)k, -1, SEM_UNDO | IPC_NOWAIT };

	if (id >= 0)
		(void)semop(id, &op, 1);
}

/* Slot k, its semaphore raised: take its lock too, or lower it again. */
static int
slot_lock(const char *state, int sw, int id, int k, struct slot *s,
    pid_t *prev, pid_t *holder)
{
	char tap[IFNAMSIZ];
	int r;

	r = lock_take(state, slot_tap(sw, k, tap), &s->lock_fd, holder, prev);
	if (r < 0) {
		index_lower(id, k);
		return r;
	}
	s->k = k;
	s->semid = id;
	return 0;
}

/* One try on the set id: 0, -EIDRM (removed meanwhile: again), -errno. */
static int
take_in(const char *state, int sw, int id, int want, struct slot *s,
    pid_t *prev, pid_t *holder)
{
	unsigned short val[NSEMS];
	int r, lo = want ? want : 1, hi = want ? want : SLOT_MAX;

	if ((r = index_read(id, val)) < 0)
		return r;
	for (int k = lo; k <= hi; k++) {
		if (val[k] != 0 && !want)
			continue;
		if ((r = index_raise(id, k)) == -EAGAIN && want)
			/* held, or the index lags: the lock decides */
			return slot_lock(state, sw, -1, k, s, prev, holder);
		if (r == -EAGAIN)
			continue;
		if (r < 0)
			return r;
		if ((r = slot_lock(state, sw, id, k, s, prev, holder)) !=
		    -EBUSY || want)
			return r;
	}
	return -ENOSPC;
}

int
slot_take(const char *state, int sw, int want, struct slot *s, pid_t *prev,
    pid_t *holder)
{
	int r = -EIDRM, id;

	memset(s, 0, sizeof(*s));
	s->lock_fd = s->semid = -1;
	*prev = *holder = 0;
	if (sw < 0 || want < 0 || want > SLOT_MAX)
		return -EINVAL;
	for (int i = 0; i < RETRIES && (r == -EIDRM || r == -EINVAL); i++) {
		if ((id = r = index_get(state, sw, true)) < 0)
			break;
		r = take_in(state, sw, id, want, s, prev, holder);
	}
	return r;
}

/* The set holds no slot any more: remove it (a take that raced in gets
 * EIDRM and makes it anew; one that raised a semaphore just before keeps
 * its slot through the lock). */
static void
index_drop_if_idle(int id)
{
	unsigned short val[NSEMS];

	if (index_read(id, val) < 0)
		return;
	for (int k = 1; k < NSEMS; k++)
		if (val[k] != 0)
			return;
	(void)semctl(id, 0, IPC_RMID);
}

void
slot_release(struct slot *s)
{
	if (s->k == 0)
		return;
	index_lower(s->semid, s->k);
	lock_release(s->lock_fd);
	if (s->semid >= 0)
		index_drop_if_idle(s->semid);
	s->k = 0;
	s->lock_fd = s->semid = -1;
}

int
slot_peek(const char *state, int sw, int want, int *k, pid_t *holder)
{
	unsigned short val[NSEMS];
	int id, r;

	*k = want ? want : 1;
	*holder = 0;
	if ((id = index_get(state, sw, false)) == -ENOENT)
		return 0;
	if (id < 0)
		return id;
	if ((r = index_read(id, val)) < 0)
		return r == -EIDRM || r == -EINVAL ? 0 : r;
	if (want)
		return val[want] ? -EBUSY : 0;
	for (*k = 1; *k <= SLOT_MAX; (*k)++)
		if (val[*k] == 0)
			return 0;
	return -ENOSPC;
}

/* The index behind the state dir's file name, removed when idle. */
static int
sweep_one(int dfd, const char *name)
{
	unsigned short val[NSEMS];
	key_t key;
	int fd, id, r = 0;

	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	if (index_key(fd, &key) == 0 && (id = semget(key, 0, 0)) >= 0 &&
	    index_read(id, val) == 0) {
		r = 1;
		for (int k = 1; k < NSEMS; k++)
			r &= val[k] == 0;
		if (r && semctl(id, 0, IPC_RMID) < 0)
			r = 0;
	}
	close(fd);
	return r;
}

int
slot_sweep(int dfd)
{
	struct dirent *e;
	size_t len;
	DIR *d;
	int fd, n = 0;

	if ((fd = dup(dfd)) < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((e = readdir(d)) != NULL) {
		len = strlen(e->d_name);
		if (strncmp(e->d_name, "qbr", 3) == 0 && len > 6 &&
		    strcmp(e->d_name + len - 6, ".slots") == 0)
			n += sweep_one(dfd, e->d_name);
	}
	closedir(d);
	return n;
}
