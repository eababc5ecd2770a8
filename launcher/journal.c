/*
 * journal.c - the write-ahead undo journal.
 *
 * Before qrun changes the host it appends one record saying what it is
 * about to do and fdatasync()s it (change.c makes the record and the
 * change); undo walks the records backwards and reverses each change
 * only while the host still looks the way qrun left it. A journal whose
 * writer died (qrun killed) is replayed by the next run that takes one of
 * its locks (lock.c hands over the previous holder) or by "qrun cleanup".
 * Everything read back is untrusted: a line that does not parse is
 * skipped and counted, never acted on.
 *
 * File "STATE/run-PID.journal", text, one record per line; the first
 * line identifies the writer and its network namespace:
 *     qrun-journal 2 pid PID uid UID start TICKS boot BOOTID netns INO
 *         cookie COOKIE                                   (one line)
 * TICKS is field 22 (starttime) of /proc/PID/stat, so a recycled pid is
 * seen as a different process; the writer also holds flock(LOCK_EX) on
 * the file while it lives. BOOTID is the kernel's boot id (nothing of
 * an earlier boot is left to undo); INO and COOKIE identify the network
 * namespace (the inode of /proc/self/ns/net is reused once a namespace
 * is gone, the SO_NETNS_COOKIE never in one boot). Records of links are
 * undone only in their own namespace; a journal whose namespace is gone
 * is dropped (what it made went with the namespace); one of another live
 * namespace is left for a cleanup run there.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qrun.h"

#define JOURNAL_MAX	(64 * 1024)	/* bytes; larger files are skipped */
#define JOURNAL_LINE	4096		/* longest record */
#define HDR_FMT		"qrun-journal 2 pid %ld uid %ld start %llu boot %36s " \
			"netns %llu cookie %llu"

struct journal {
	int dfd;		/* the state dir */
	int fd;			/* the journal, flock'ed */
	char name[64];		/* "run-PID.journal" */
	off_t len;		/* bytes of complete records */
	off_t last;		/* where the last record starts */
	bool failed;		/* the last journal_write failed */
};

/* A journal read into memory and parsed. */
struct img {
	char *buf;
	struct journal_hdr hdr;
	struct jrec *recs;
	size_t n;
	int skipped;		/* malformed or unknown lines */
};

/* ----------------------------------------------------------- parsing */

/* The header must be exactly what journal_open writes. */
static int
hdr_parse(const char *line, struct journal_hdr *h)
{
	char again[256];

	memset(h, 0, sizeof(*h));
	if (sscanf(line, HDR_FMT, &h->pid, &h->uid, &h->start, h->boot,
	    &h->ns.ino, &h->ns.cookie) != 6 || h->pid <= 0 || h->uid < 0)
		return -EINVAL;
	snprintf(again, sizeof(again), HDR_FMT, h->pid, h->uid, h->start,
	    h->boot, h->ns.ino, h->ns.cookie);
	return strcmp(again, line) == 0 ? 0 : -EINVAL;
}

/* Split im->buf (len bytes, NUL-terminated) into header and records. */
static int
img_parse(struct img *im, size_t len)
{
	char *line, *nl, *end = im->buf + len;
	size_t cap = 1;

	if ((nl = memchr(im->buf, '\n', len)) == NULL)
		return -EINVAL;
	*nl = '\0';
	if (hdr_parse(im->buf, &im->hdr) < 0)
		return -EINVAL;
	for (line = nl + 1; line < end; line++)
		cap += *line == '\n';
	im->recs = xcalloc(cap, sizeof(*im->recs));
	for (line = nl + 1; line < end; line = nl + 1) {
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL) {
			im->skipped++;	/* torn last write */
			break;
		}
		*nl = '\0';
		if (strlen(line) != (size_t)(nl - line) ||
		    jrec_parse(line, &im->recs[im->n]) < 0)
			im->skipped++;
		else
			im->n++;
	}
	return 0;
}

/* Read a whole journal (at most JOURNAL_MAX bytes) from fd into im. */
static int
img_read(int fd, struct img *im)
{
	ssize_t got;
	size_t len;

	memset(im, 0, sizeof(*im));
	im->buf = xmalloc(JOURNAL_MAX + 2);
	if ((got = read_all(fd, im->buf, JOURNAL_MAX + 1)) < 0)
		return (int)got;
	len = (size_t)got;
	if (len > JOURNAL_MAX)
		return -EFBIG;
	im->buf[len] = '\0';
	return img_parse(im, len);
}

static void
img_free(struct img *im)
{
	free(im->recs);
	free(im->buf);
	memset(im, 0, sizeof(*im));
}

/* Undo every record backwards; keep going, return the first error. */
static int
img_undo(const struct img *im, struct undo_ctx *u)
{
	int r, first = 0;

	u->all = im->recs;
	u->n = im->n;
	for (size_t i = im->n; i-- > 0; )
		if ((r = change_undo(u, i)) < 0 && first == 0)
			first = r;
	return first;
}

/* ------------------------------------------------------ files, procs */

/*
 * starttime (field 22) of /proc/PID/stat (pid 0: self). -ESRCH for a
 * process that is gone or a zombie: its journal is a leftover.
 */
int
proc_start(pid_t pid, unsigned long long *start)
{
	char path[64], buf[2048], *p, *save = NULL, *tok;
	ssize_t n;
	int fd;

	if (pid == 0)
		snprintf(path, sizeof(path), "/proc/self/stat");
	else
		snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ESRCH;
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return -EIO;
	tok = strtok_r(p + 1, " ", &save);
	for (int field = 3; tok != NULL; field++) {
		if (field == 3 && (*tok == 'Z' || *tok == 'X'))
			return -ESRCH;
		if (field == 22)
			return sscanf(tok, "%llu", start) == 1 ? 0 : -EIO;
		tok = strtok_r(NULL, " ", &save);
	}
	return -EIO;
}

static bool
writer_alive(const struct journal_hdr *h)
{
	unsigned long long start;

	return proc_start((pid_t)h->pid, &start) == 0 && start == h->start;
}

/* The kernel's boot id (36 characters), "" when unreadable. */
static void
boot_id(char out[37])
{
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, out, 36);

	if (fd >= 0)
		close(fd);
	out[n == 36 ? 36 : 0] = '\0';
	if (n != 36)
		snprintf(out, 37, "unknown");
}

/*
 * Open the state dir (creating it when create) and check it is safe to
 * trust: a directory of ours that nobody else may write. -EPERM if not.
 * All files are then opened relative to this fd.
 */
int
state_open(const char *dir, bool create, int *dfd)
{
	struct stat st;
	int fd, r;

	*dfd = -1;
	if (dir == NULL || *dir == '\0')
		return -EINVAL;
	if (create && (r = path_mkdirs(dir, 0700)) < 0)
		return r;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		close(fd);
		return -EPERM;
	}
	*dfd = fd;
	return 0;
}

/* Write all of buf at off. */
int
write_at(int fd, const char *buf, size_t len, off_t off)
{
	ssize_t w;

	while (len > 0) {
		if ((w = pwrite(fd, buf, len, off)) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += w;
		len -= (size_t)w;
		off += w;
	}
	return 0;
}

/* "run-PID.journal" -> PID; 0 when the name is not a journal's. */
static pid_t
journal_name_pid(const char *name)
{
	char digits[16];
	long pid;
	size_t n;

	if (strncmp(name, "run-", 4) != 0)
		return 0;
	n = strspn(name + 4, "0123456789");
	if (n == 0 || n >= sizeof(digits) || strcmp(name + 4 + n, ".journal"))
		return 0;
	memcpy(digits, name + 4, n);
	digits[n] = '\0';
	return parse_long(digits, 1, 0x7fffffff, &pid) < 0 ? 0 : (pid_t)pid;
}

/*
 * Open a journal someone left in the state dir, read-only, refusing
 * symlinks, non-regular files, files not owned by us and big files.
 */
static int
journal_file_open(int dfd, const char *name)
{
	struct stat st;
	int fd, r = 0;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode) || st.st_uid != geteuid())
		r = -EPERM;
	else if (st.st_size > JOURNAL_MAX)
		r = -EFBIG;
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* ------------------------------------------------------- the writer */

/* "qrun-journal 2 ..." for this process, into buf. */
static int
hdr_make(char *buf, size_t len)
{
	struct journal_hdr h = { .pid = (long)getpid(),
	    .uid = (long)geteuid() };
	int r;

	if ((r = proc_start(0, &h.start)) < 0 || (r = net_ns_self(&h.ns)) < 0)
		return r;
	boot_id(h.boot);
	snprintf(buf, len, HDR_FMT "\n", h.pid, h.uid, h.start, h.boot,
	    h.ns.ino, h.ns.cookie);
	return 0;
}

/*
 * Create j->name in j->dfd holding hdr, locked with lock (a run's own
 * journal: its lock says the run lives). 0 or -errno; a file that could
 * not be made is not ours to remove.
 */
static int
file_create(struct journal *j, const char *hdr, bool lock)
{
	int r = 0;

	j->fd = openat(j->dfd, j->name, O_CREAT | O_EXCL | O_RDWR |
	    O_CLOEXEC | O_NOFOLLOW, 0600);
	if (j->fd < 0) {
		r = -errno;
		j->name[0] = '\0';
		return r;
	}
	/* No fdatasync here: the first change record's fdatasync makes the
	 * header durable too, and a run that changes nothing (warm path)
	 * needs no disk flush at all. */
	if (lock && flock(j->fd, LOCK_EX) < 0)
		return -errno;
	if ((r = write_at(j->fd, hdr, strlen(hdr), 0)) < 0)
		return r;	/* journal_close removes the file */
	j->len = j->last = (off_t)strlen(hdr);
	return 0;
}

/* The end of an open: j into *jp, or closed (and removed) on error r. */
static int
opened(struct journal *j, int r, struct journal **jp)
{
	if (r < 0)
		journal_close(j);
	else
		*jp = j;
	return r;
}

int
journal_open(const char *state_dir, struct journal **jp)
{
	struct journal *j = xcalloc(1, sizeof(*j));
	char hdr[256];
	int r;

	*jp = NULL;
	j->dfd = j->fd = -1;
	if ((r = hdr_make(hdr, sizeof(hdr))) < 0 ||
	    (r = state_open(state_dir, true, &j->dfd)) < 0)
		return opened(j, r, jp);
	snprintf(j->name, sizeof(j->name), "run-%ld.journal", (long)getpid());
	return opened(j, file_create(j, hdr, true), jp);
}

/*
 * Append one record and make it durable before the caller changes the
 * host (an info record rides on the next change's sync). A record that
 * would not parse back is refused (-EINVAL); on a failed write the file
 * is cut back to whole records.
 */
int
journal_write(struct journal *j, const struct jrec *rec)
{
	char line[JOURNAL_LINE];
	size_t len;
	int r;

	j->failed = true;
	if ((r = jrec_format(rec, line, sizeof(line) - 1)) < 0)
		return r == -ENAMETOOLONG ? -EINVAL : r;
	len = strlen(line);
	if (j->len + (off_t)len + 1 > JOURNAL_MAX)
		return -EFBIG;
	line[len++] = '\n';
	if ((r = write_at(j->fd, line, len, j->len)) == 0 &&
	    jrec_undoes(rec) && fdatasync(j->fd) < 0)
		r = -errno;
	if (r < 0) {
		if (ftruncate(j->fd, j->len) < 0) {
			/* the partial line is skipped when read back */
		}
		return r;
	}
	j->last = j->len;
	j->len += (off_t)len;
	j->failed = false;
	return 0;
}

/* Did the last journal_write fail (rather than the change after it)? */
bool
journal_write_failed(const struct journal *j)
{
	return j->failed;
}

/* "info KEY VALUE": run metadata for status; undo ignores it. */
int
journal_info(struct journal *j, const char *key, const char *fmt, ...)
{
	struct jrec rec = { .kind = J_INFO, .key = key };
	char *text = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	rec.text = text;
	r = journal_write(j, &rec);
	free(text);
	return r;
}

/*
 * The change just written did not happen (it failed, e.g. -EEXIST): drop
 * its record, so undo never reverses what qrun did not do.
 */
int
journal_cancel(struct journal *j)
{
	if (j->last == j->len)
		return 0;
	if (ftruncate(j->fd, j->last) < 0 || fdatasync(j->fd) < 0)
		return -errno;
	j->len = j->last;
	return 0;
}

int
journal_dfd(const struct journal *j)
{
	return j->dfd;
}

/*
 * Undo every change backwards, then delete the file. When an undo step
 * failed the file stays (its writer is soon dead, so the next run or
 * "qrun cleanup" retries: every step is idempotent).
 */
int
journal_undo(struct journal *j, struct net *net)
{
	struct undo_ctx u = { .net = net, .root = geteuid() == 0 };
	struct img im;
	int r;

	if (j == NULL)
		return 0;
	u.dfd = j->dfd;
	if ((r = img_read(j->fd, &im)) == 0)
		r = img_undo(&im, &u);
	img_free(&im);
	if (r < 0)
		j->name[0] = '\0';	/* keep the file */
	journal_close(j);		/* else removes it */
	return r;
}

void
journal_close(struct journal *j)
{
	if (j == NULL)
		return;
	if (j->fd >= 0 && j->name[0] != '\0')
		unlinkat(j->dfd, j->name, 0);
	if (j->fd >= 0)
		close(j->fd);
	if (j->dfd >= 0)
		close(j->dfd);
	free(j);
}

/* -------------------------------------------------- shared journals */

/* "share-NAME@INO.journal" of this namespace. */
static int
shared_name(const char *name, char *buf, size_t len)
{
	struct netns_id ns;
	int r;

	if (!change_name_ok(name))
		return -EINVAL;
	if ((r = net_ns_self(&ns)) < 0)
		return r;
	snprintf(buf, len, "share-%s@%llu.journal", name, ns.ino);
	return 0;
}

/*
 * A new journal for what making shared resource name changes (share.c;
 * the caller holds its guard and has undone any older one).
 */
int
journal_open_shared(int dfd, const char *name, struct journal **jp)
{
	struct journal *j = xcalloc(1, sizeof(*j));
	char hdr[256];
	int r;

	*jp = NULL;
	j->fd = -1;
	if ((j->dfd = dup(dfd)) < 0 ||
	    (r = shared_name(name, j->name, sizeof(j->name))) < 0 ||
	    (r = hdr_make(hdr, sizeof(hdr))) < 0) {
		r = j->dfd < 0 ? -errno : r;
		j->name[0] = '\0';
		return opened(j, r, jp);
	}
	return opened(j, file_create(j, hdr, false), jp);
}

/*
 * Undo and remove the shared journal of name (its last holder is gone).
 * 1 when undone, 0 when there is none, -errno (the file stays).
 */
int
journal_undo_shared(int dfd, const char *name, struct net *net, bool root)
{
	struct undo_ctx u = { .net = net, .dfd = dfd, .root = root };
	struct netns_id self;
	char file[96];
	struct img im;
	int fd, r;

	if ((r = shared_name(name, file, sizeof(file))) < 0 ||
	    (r = net_ns_self(&self)) < 0)
		return r;
	if ((fd = journal_file_open(dfd, file)) < 0)
		return fd == -ENOENT ? 0 : fd;
	if ((r = img_read(fd, &im)) == 0) {
		/* our inode, another cookie: its namespace died long ago */
		u.ns_gone = im.hdr.ns.cookie != self.cookie;
		r = img_undo(&im, &u);
	}
	img_free(&im);
	close(fd);
	if (r < 0 && r != -EINVAL)
		return r;
	return unlinkat(dfd, file, 0) < 0 ? -errno : 1;
}

/* Close a journal and keep its file (a shared journal, made). */
void
journal_detach(struct journal *j)
{
	if (j == NULL)
		return;
	j->name[0] = '\0';
	journal_close(j);
}

/* ------------------------------------------------------ the cleaner */

/* Does a network namespace with inode ino still exist: a process in it,
 * or a bind mount of it (ip netns)? */
static bool
netns_alive(unsigned long long ino)
{
	char want[48], path[300], got[48], line[1024];
	struct dirent *de;
	bool found = false;
	ssize_t n;
	FILE *f;
	DIR *d;

	snprintf(want, sizeof(want), "net:[%llu]", ino);
	if ((d = opendir("/proc")) != NULL) {
		while (!found && (de = readdir(d)) != NULL) {
			if (strspn(de->d_name, "0123456789") !=
			    strlen(de->d_name))
				continue;
			snprintf(path, sizeof(path), "/proc/%s/ns/net",
			    de->d_name);
			n = readlink(path, got, sizeof(got) - 1);
			found = n > 0 && (size_t)n == strlen(want) &&
			    memcmp(got, want, (size_t)n) == 0;
		}
		closedir(d);
	}
	if (!found && (f = fopen("/proc/self/mountinfo", "re")) != NULL) {
		while (!found && fgets(line, sizeof(line), f) != NULL)
			found = strstr(line, " nsfs ") != NULL &&
			    strstr(line, want) != NULL;
		fclose(f);
	}
	return found;
}

/*
 * Whose network namespace a dead run's journal belongs to, from here:
 * NS_SAME (undo it), NS_GONE (its namespace, or its boot, is over: drop
 * it) or NS_OTHER (a live namespace elsewhere: leave it). alive is only
 * asked when the identities cannot tell.
 */
enum ns_verdict
journal_ns_verdict(const struct journal_hdr *h, const char *boot,
    const struct netns_id *self, bool (*alive)(unsigned long long))
{
	if (strcmp(h->boot, boot) != 0)
		return NS_GONE;
	if (h->ns.cookie != 0 && self->cookie != 0) {
		if (h->ns.cookie == self->cookie)
			return NS_SAME;
		if (h->ns.ino == self->ino)
			return NS_GONE;	/* its inode is ours now */
	} else if (h->ns.ino == self->ino)
		return NS_SAME;		/* no cookies: the inode must do */
	return alive(h->ns.ino) ? NS_OTHER : NS_GONE;
}

struct clean {
	struct net *net;
	struct netns_id self;
	char boot[37];
	bool act;		/* false: count only (doctor) */
	struct replay_report *rep;
};

/*
 * flock a dead run's journal: at once, or (someone else replays it)
 * after a short wait. 1 when locked, 0 when its writer lives.
 */
static int
lock_dead(int fd)
{
	struct img im;
	bool live;

	for (int i = 0; i < 500; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 1;
		if (i == 0) {
			live = img_read(fd, &im) < 0 || writer_alive(&im.hdr);
			img_free(&im);
			if (live)
				return 0;
		}
		usleep(10000);
	}
	return 0;
}

/* Replay (or drop) one parsed dead journal as its verdict says. */
static int
replay_img(struct clean *c, int dfd, const char *name, const struct img *im)
{
	struct undo_ctx u = { .net = c->net, .dfd = dfd,
	    .root = geteuid() == 0 };
	enum ns_verdict v = journal_ns_verdict(&im->hdr, c->boot, &c->self,
	    netns_alive);
	int r;

	if (v == NS_OTHER) {
		c->rep->foreign++;
		return 0;
	}
	u.ns_gone = v == NS_GONE;
	if (c->act && (r = img_undo(im, &u)) < 0) {
		c->rep->failed++;
		return r;
	}
	c->rep->refused += u.refused;
	if (c->act && unlinkat(dfd, name, 0) < 0)
		return -errno;
	if (v == NS_GONE)
		c->rep->dropped++;
	else
		c->rep->undone++;
	return 1;
}

/*
 * Replay one leftover journal if its writer is dead: 1 when undone and
 * removed, 0 when left alone (live, foreign, malformed), -errno.
 */
static int
cleanup_one(int dfd, const char *name, struct clean *c)
{
	struct img im = { 0 };
	struct stat st;
	pid_t pid = journal_name_pid(name);
	int fd, r;

	if ((fd = journal_file_open(dfd, name)) < 0)
		return fd == -ENOENT ? 0 : fd;	/* skipped */
	if (lock_dead(fd) == 0 || fstat(fd, &st) < 0 || st.st_nlink == 0) {
		r = 0;		/* a live writer, or replayed meanwhile */
		goto out;
	}
	if ((r = img_read(fd, &im)) < 0 || im.hdr.pid != pid ||
	    writer_alive(&im.hdr)) {
		/* an empty file is an open that died before its header */
		if (r == -EINVAL && st.st_size == 0 && c->act &&
		    proc_start(pid, &(unsigned long long){ 0 }) == -ESRCH)
			unlinkat(dfd, name, 0);
		r = r == -EFBIG ? r : 0;
		goto out;
	}
	r = replay_img(c, dfd, name, &im);
out:
	img_free(&im);
	close(fd);
	return r;
}

/* Call fn for every "run-PID.journal" in the state dir. */
static int
journal_each(int dfd, int (*fn)(int, const char *, void *), void *arg)
{
	struct dirent *de;
	DIR *d;
	int fd, r, first = 0;

	if ((fd = dup(dfd)) < 0)
		return -errno;
	if ((d = fdopendir(fd)) == NULL) {
		r = -errno;
		close(fd);
		return r;
	}
	while ((de = readdir(d)) != NULL) {
		if (journal_name_pid(de->d_name) == 0)
			continue;
		if ((r = fn(dfd, de->d_name, arg)) < 0 && first == 0)
			first = r;
	}
	closedir(d);
	return first;
}

static int
cleanup_cb(int dfd, const char *name, void *arg)
{
	int r = cleanup_one(dfd, name, arg);

	/* foreign and oversized files are skipped, not errors */
	return r == -EPERM || r == -EFBIG || r == -ELOOP ? 0 : r;
}

/* Who we are, for the verdicts; net may be NULL (nothing to undo). */
static int
clean_init(struct clean *c, struct net *net, bool act,
    struct replay_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	memset(c, 0, sizeof(*c));
	c->net = net;
	c->act = act;
	c->rep = rep;
	boot_id(c->boot);
	return net_ns_self(&c->self);
}

/*
 * Replay (act) or count every journal whose writer is dead. Refuses
 * (-EPERM, nothing done) a state dir that is not ours or that others
 * may write.
 */
int
journal_cleanup(const char *state_dir, struct net *net, bool act,
    struct replay_report *rep)
{
	struct clean c;
	int dfd, r;

	if ((r = clean_init(&c, net, act, rep)) < 0)
		return r;
	if ((r = state_open(state_dir, false, &dfd)) < 0)
		return r == -ENOENT ? 0 : r;
	r = journal_each(dfd, cleanup_cb, &c);
	close(dfd);
	return r;
}

/*
 * The journal of pid, the last holder of a lock just taken (lock.c):
 * replayed when its writer is dead. 1 when it was, 0 when there was
 * nothing to do, -errno.
 */
int
journal_replay(const char *state_dir, pid_t pid, struct net *net,
    struct replay_report *rep)
{
	char name[64];
	struct clean c;
	int dfd, r;

	if (pid <= 0)
		return 0;
	if ((r = clean_init(&c, net, true, rep)) < 0)
		return r;
	if ((r = state_open(state_dir, false, &dfd)) < 0)
		return r == -ENOENT ? 0 : r;
	snprintf(name, sizeof(name), "run-%ld.journal", (long)pid);
	r = cleanup_cb(dfd, name, &c);
	close(dfd);
	return r;
}

/* ------------------------------------------------------- the readers */

struct runs_ctx {
	const char *dir;
	struct strv *out;
};

static int
runs_cb(int dfd, const char *name, void *arg)
{
	struct runs_ctx *c = arg;
	struct img im = { 0 };
	int fd;

	if ((fd = journal_file_open(dfd, name)) < 0)
		return 0;
	if (img_read(fd, &im) == 0 && im.hdr.pid == journal_name_pid(name) &&
	    writer_alive(&im.hdr))
		strv_pushf(c->out, "%s/%s", c->dir, name);
	img_free(&im);
	close(fd);
	return 0;
}

/* The paths of the journals of live runs (for qrun status, tap list). */
int
journal_runs(const char *state_dir, struct strv *out)
{
	struct runs_ctx c = { state_dir, out };
	int dfd, r;

	if ((r = state_open(state_dir, false, &dfd)) < 0)
		return r == -ENOENT ? 0 : r;
	r = journal_each(dfd, runs_cb, &c);
	close(dfd);
	return r;
}

/* Open and parse one journal by path. */
static int
img_load(const char *path, struct img *im)
{
	struct stat st;
	int fd, r;

	memset(im, 0, sizeof(*im));
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode))
		r = -EPERM;
	else
		r = img_read(fd, im);
	close(fd);
	return r;
}

/* The "info KEY VALUE" records of a journal, as key, value pairs, and
 * its namespace as "netns", "INODE". */
int
journal_read_info(const char *path, struct strv *kv)
{
	struct img im;
	int r;

	if ((r = img_load(path, &im)) == 0) {
		strv_push(kv, "netns");
		strv_pushf(kv, "%llu", im.hdr.ns.ino);
		for (size_t i = 0; i < im.n; i++)
			if (im.recs[i].kind == J_INFO) {
				strv_push(kv, im.recs[i].key);
				strv_push(kv, im.recs[i].text);
			}
	}
	img_free(&im);
	return r;
}

/* Count the records of a journal and the lines undo would skip. */
int
journal_scan(const char *path, int *records, int *skipped)
{
	struct img im;
	int r;

	*records = *skipped = 0;
	if ((r = img_load(path, &im)) == 0) {
		*records = (int)im.n;
		*skipped = im.skipped;
	}
	img_free(&im);
	return r;
}
