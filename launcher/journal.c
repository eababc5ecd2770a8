/*
 * journal.c - the write-ahead undo journal and the per-tap locks.
 *
 * Before qrun changes the host it appends one line saying what it is
 * about to do and fdatasync()s it; undo walks the lines backwards and
 * reverses each change only while the host still looks the way qrun left
 * it, so nothing that existed before is ever removed. A journal whose
 * writer died (qrun killed) is replayed by the next run or by
 * "qrun cleanup". Everything read back is untrusted: names and addresses
 * are validated again, and a line that does not parse is skipped and
 * counted, never acted on.
 *
 * File "STATE/run-PID.journal", text, one record per line, one space
 * between fields; the first line identifies the writer:
 *     qrun-journal 1 pid PID uid UID start TICKS
 * TICKS is field 22 (starttime) of /proc/PID/stat, so a recycled pid is
 * seen as a different process. The writer also holds flock(LOCK_EX) on the
 * file while it lives. Record kinds: the table kinds[] below.
 *
 * Locks: "STATE/TAP.lock", flock'ed for the life of the run, holding the
 * pid of the holder as text.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
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
#define HDR_FMT		"qrun-journal 1 pid %ld uid %ld start %llu"
#define KEY_MAX		32		/* info keys */

struct journal {
	int dfd;		/* the state dir */
	int fd;			/* the journal, flock'ed */
	char name[64];		/* "run-PID.journal" */
	off_t len;		/* bytes of complete records */
	off_t last;		/* where the last record starts */
};

/* Argument types of a record. */
enum arg { A_END, A_IF, A_ADDR, A_MTU, A_KEY, A_REST, A_IP, A_NUM };

struct rec;
typedef int undo_fn(struct net *, const struct rec *all, size_t i);

struct kind {
	const char *name;
	enum arg args[6];
	undo_fn *undo;		/* NULL: nothing to undo */
};

struct rec {
	const struct kind *kind;
	char ifname[2][IFNAMSIZ];
	struct in_addr addr;
	int prefix;
	unsigned mtu[2];	/* mtu OLD NEW */
	struct in_addr gw;	/* route-*: the gateway, 0.0.0.0 = none */
	long num[2];		/* route-*: metric, protocol */
	const char *key;	/* info: point into the journal buffer */
	const char *rest;
};

struct hdr {
	long pid;
	long uid;
	unsigned long long start;
};

/* A journal read into memory and parsed. */
struct img {
	char *buf;
	struct hdr hdr;
	struct rec *recs;
	size_t n;
	int skipped;		/* malformed or unknown lines */
};

static undo_fn undo_tap_create, undo_addr_add, undo_link_up, undo_enslave,
    undo_mtu, undo_bridge_create, undo_addr_del, undo_route_add,
    undo_route_del, undo_release, undo_bridge_delete;

/* The vocabulary: the parser and the undo action of each kind. */
static const struct kind kinds[] = {
	{ "tap-create",	   { A_IF },		   undo_tap_create },
	{ "addr-add",	   { A_IF, A_ADDR },	   undo_addr_add },
	{ "link-up",	   { A_IF },		   undo_link_up },
	{ "enslave",	   { A_IF, A_IF },	   undo_enslave },
	{ "mtu",	   { A_IF, A_MTU, A_MTU }, undo_mtu },
	{ "bridge-create", { A_IF },		   undo_bridge_create },
	/* qrun bridge create|delete: moving an uplink's addresses and
	 * routes to its bridge and back (route: IF DST/P GW METRIC PROTO) */
	{ "addr-del",	   { A_IF, A_ADDR },	   undo_addr_del },
	{ "route-add",	   { A_IF, A_ADDR, A_IP, A_NUM, A_NUM },
							   undo_route_add },
	{ "route-del",	   { A_IF, A_ADDR, A_IP, A_NUM, A_NUM },
							   undo_route_del },
	{ "release",	   { A_IF, A_IF },	   undo_release },
	{ "bridge-delete", { A_IF },		   undo_bridge_delete },
	{ "info",	   { A_KEY, A_REST },	   NULL },
};

/* ----------------------------------------------------------- parsing */

/* The next word of a line split at single spaces; NULL when none. */
static char *
next_word(char **pp)
{
	char *w = *pp, *sp;

	if (*w == '\0' || *w == ' ')
		return NULL;
	if ((sp = strchr(w, ' ')) != NULL) {
		*sp = '\0';
		*pp = sp + 1;
	} else
		*pp = w + strlen(w);
	return w;
}

static bool
key_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > KEY_MAX)
		return false;
	for (; *s; s++)
		if (!islower((unsigned char)*s) &&
		    !isdigit((unsigned char)*s) &&
		    *s != '-' && *s != '_')
			return false;
	return true;
}

/* Free text: no control characters (UTF-8 bytes are fine). */
static bool
text_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* One argument of type t from *pp into r. */
static int
arg_parse(enum arg t, char **pp, struct rec *r, size_t *nif, size_t *nmtu,
    size_t *nnum)
{
	char *w;
	long v;

	if (t == A_REST) {
		if (!text_ok(*pp))
			return -EINVAL;
		r->rest = *pp;
		*pp += strlen(*pp);
		return 0;
	}
	if ((w = next_word(pp)) == NULL)
		return -EINVAL;
	switch (t) {
	case A_IF:
		if (ifname_check(w, NULL) < 0)
			return -EINVAL;
		strcpy(r->ifname[(*nif)++], w);
		return 0;
	case A_ADDR:
		return parse_ipv4(w, &r->addr, &r->prefix, true);
	case A_MTU:
		if (parse_long(w, 68, 1 << 20, &v) < 0)
			return -EINVAL;
		r->mtu[(*nmtu)++] = (unsigned)v;
		return 0;
	case A_KEY:
		r->key = w;
		return key_ok(w) ? 0 : -EINVAL;
	case A_IP:
		return parse_ipv4(w, &r->gw, NULL, false);
	case A_NUM:
		if (parse_long(w, 0, 0xffffffffL, &v) < 0)
			return -EINVAL;
		r->num[(*nnum)++] = v;
		return 0;
	default:
		return -EINVAL;
	}
}

/*
 * Parse one record in place (line is cut into words; key and rest point
 * into it). -ENOENT for an unknown kind, -EINVAL when malformed.
 */
static int
rec_parse(char *line, struct rec *r)
{
	size_t nif = 0, nmtu = 0, nnum = 0;
	char *p = line, *w;

	memset(r, 0, sizeof(*r));
	if ((w = next_word(&p)) == NULL)
		return -EINVAL;
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++)
		if (strcmp(kinds[k].name, w) == 0)
			r->kind = &kinds[k];
	if (r->kind == NULL)
		return -ENOENT;
	for (size_t a = 0; a < ARRAY_SIZE(r->kind->args) &&
	    r->kind->args[a] != A_END; a++)
		if (arg_parse(r->kind->args[a], &p, r, &nif, &nmtu,
		    &nnum) < 0)
			return -EINVAL;
	return *p == '\0' ? 0 : -EINVAL;
}

/* The header must be exactly what journal_open writes. */
static int
hdr_parse(const char *line, struct hdr *h)
{
	char again[128];

	if (sscanf(line, HDR_FMT, &h->pid, &h->uid, &h->start) != 3 ||
	    h->pid <= 0 || h->uid < 0)
		return -EINVAL;
	snprintf(again, sizeof(again), HDR_FMT, h->pid, h->uid, h->start);
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
		    rec_parse(line, &im->recs[im->n]) < 0)
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
	size_t len = 0;
	ssize_t got;

	memset(im, 0, sizeof(*im));
	im->buf = xmalloc(JOURNAL_MAX + 2);
	while (len <= JOURNAL_MAX) {
		got = pread(fd, im->buf + len, JOURNAL_MAX + 1 - len,
		    (off_t)len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		if (got == 0)
			break;
		len += (size_t)got;
	}
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

/* ------------------------------------------------------------- undo */

/* -ENODEV (gone meanwhile) is success for an undo. */
static int
gone_ok(int r)
{
	return r == -ENODEV ? 0 : r;
}

/* Delete a tap this journal created, only while it is still a tap. */
static int
undo_tap_create(struct net *net, const struct rec *all, size_t i)
{
	struct net_link l;
	int r = net_link_get(net, all[i].ifname[0], &l);

	if (r < 0 || !l.is_tap)
		return gone_ok(r);
	return gone_ok(net_link_delete(net, l.ifindex));
}

/* Did this journal create the tap of record i (so its undo deletes it,
 * and with it the link state, MTU and bridge port)? */
static bool
created_here(const struct rec *all, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (all[k].kind->undo == undo_tap_create &&
		    strcmp(all[k].ifname[0], all[i].ifname[0]) == 0)
			return true;
	return false;
}

/* Remove the address we added, if the interface still has it; a tap we
 * created takes it along when it is deleted. */
static int
undo_addr_add(struct net *net, const struct rec *all, size_t i)
{
	const struct rec *rec = &all[i];
	struct net_addr a[256];
	struct net_link l;
	size_t n = 0;
	int r;

	if (created_here(all, i))
		return 0;
	if ((r = net_link_get(net, rec->ifname[0], &l)) < 0)
		return gone_ok(r);
	r = net_addr_list(net, l.ifindex, a, ARRAY_SIZE(a), &n);
	if (r < 0 && r != -ENOSPC)
		return gone_ok(r);
	for (size_t k = 0; k < n; k++) {
		if (a[k].addr.s_addr != rec->addr.s_addr ||
		    a[k].prefix != rec->prefix)
			continue;
		r = net_addr_del(net, l.ifindex, rec->addr, rec->prefix);
		return r == -EADDRNOTAVAIL ? 0 : gone_ok(r);
	}
	return 0;
}

/* Set the link down again; not needed when our tap-create is undone. */
static int
undo_link_up(struct net *net, const struct rec *all, size_t i)
{
	struct net_link l;
	int r;

	if (created_here(all, i))
		return 0;
	if ((r = net_link_get(net, all[i].ifname[0], &l)) < 0 || !l.up)
		return gone_ok(r);
	return gone_ok(net_link_set_up(net, l.ifindex, false));
}

/* Release the port from the bridge if that bridge is still its master;
 * a tap we created is simply deleted (one RCU wait, not two). */
static int
undo_enslave(struct net *net, const struct rec *all, size_t i)
{
	struct net_link port, br;
	int r;

	if (created_here(all, i))
		return 0;
	if ((r = net_link_get(net, all[i].ifname[0], &port)) < 0 ||
	    (r = net_link_get(net, all[i].ifname[1], &br)) < 0)
		return gone_ok(r);
	if (port.master == 0 || port.master != br.ifindex)
		return 0;
	return gone_ok(net_link_set_master(net, port.ifindex, 0));
}

/* Put the old MTU back if ours is still set (not on a tap we delete). */
static int
undo_mtu(struct net *net, const struct rec *all, size_t i)
{
	struct net_link l;
	int r;

	if (created_here(all, i))
		return 0;
	if ((r = net_link_get(net, all[i].ifname[0], &l)) < 0 ||
	    l.mtu != all[i].mtu[1])
		return gone_ok(r);
	return gone_ok(net_link_set_mtu(net, l.ifindex, all[i].mtu[0]));
}

/* Delete a bridge this journal created, only while it is a bridge. */
static int
undo_bridge_create(struct net *net, const struct rec *all, size_t i)
{
	struct net_link l;
	int r = net_link_get(net, all[i].ifname[0], &l);

	if (r < 0 || strcmp(l.kind, "bridge") != 0)
		return gone_ok(r);
	return gone_ok(net_link_delete(net, l.ifindex));
}

/* Give IF back an address qrun moved away, unless it has it again. */
static int
undo_addr_del(struct net *net, const struct rec *all, size_t i)
{
	const struct rec *rec = &all[i];
	struct net_link l;
	int r;

	if ((r = net_link_get(net, rec->ifname[0], &l)) < 0)
		return gone_ok(r);
	r = net_addr_add(net, l.ifindex, rec->addr, rec->prefix);
	return r == -EEXIST ? 0 : gone_ok(r);
}

/* The route of a route-add/route-del record, on its interface. */
static int
rec_route(struct net *net, const struct rec *rec, struct net_route *rt)
{
	struct net_link l;
	int r;

	if ((r = net_link_get(net, rec->ifname[0], &l)) < 0)
		return r;
	memset(rt, 0, sizeof(*rt));
	rt->ifindex = l.ifindex;
	rt->dst = rec->addr;
	rt->prefix = rec->prefix;
	rt->gw = rec->gw;
	rt->metric = (unsigned)rec->num[0];
	rt->proto = (unsigned char)rec->num[1];
	return 0;
}

/* Remove a route qrun added, if it is still there. */
static int
undo_route_add(struct net *net, const struct rec *all, size_t i)
{
	struct net_route rt;
	int r;

	if ((r = rec_route(net, &all[i], &rt)) < 0)
		return gone_ok(r);
	r = net_route_del(net, &rt);
	return r == -ESRCH ? 0 : gone_ok(r);
}

/* Put back a route qrun removed, unless it is there again. */
static int
undo_route_del(struct net *net, const struct rec *all, size_t i)
{
	struct net_route rt;
	int r;

	if ((r = rec_route(net, &all[i], &rt)) < 0)
		return gone_ok(r);
	r = net_route_add(net, &rt);
	return r == -EEXIST ? 0 : gone_ok(r);
}

/* Enslave a released port again, if it is still free and the bridge is
 * still a bridge. */
static int
undo_release(struct net *net, const struct rec *all, size_t i)
{
	struct net_link port, br;
	int r;

	if ((r = net_link_get(net, all[i].ifname[0], &port)) < 0 ||
	    (r = net_link_get(net, all[i].ifname[1], &br)) < 0)
		return gone_ok(r);
	if (port.master != 0 || strcmp(br.kind, "bridge") != 0)
		return 0;
	return gone_ok(net_link_set_master(net, port.ifindex, br.ifindex));
}

/* Make a bridge qrun deleted again (STP off, up), if the name is free. */
static int
undo_bridge_delete(struct net *net, const struct rec *all, size_t i)
{
	struct net_link l;
	int r = net_link_get(net, all[i].ifname[0], &l);

	if (r == 0)
		return 0;
	if (r != -ENODEV)
		return r;
	if ((r = net_bridge_create(net, all[i].ifname[0])) < 0 ||
	    (r = net_link_get(net, all[i].ifname[0], &l)) < 0)
		return r == -EEXIST ? 0 : r;
	return net_link_set_up(net, l.ifindex, true);
}

/* Undo every record backwards; keep going, return the first error. */
static int
img_undo(const struct img *im, struct net *net)
{
	int r, first = 0;

	for (size_t i = im->n; i-- > 0; ) {
		if (im->recs[i].kind->undo == NULL)
			continue;
		r = im->recs[i].kind->undo(net, im->recs, i);
		if (r < 0 && first == 0)
			first = r;
	}
	return first;
}

/* ------------------------------------------------------ files, procs */

/*
 * starttime (field 22) of /proc/PID/stat (pid 0: self). -ESRCH for a
 * process that is gone or a zombie: its journal is a leftover.
 */
static int
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
writer_alive(const struct hdr *h)
{
	unsigned long long start;

	return proc_start((pid_t)h->pid, &start) == 0 && start == h->start;
}

/* mkdir -p dir; new directories get mode 0700. */
static int
mkdir_p(const char *dir)
{
	char *p = xstrdup(dir), *s, c;
	int r = 0;

	for (s = p + 1; r == 0; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		c = *s;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			r = -errno;
		if ((*s = c) == '\0')
			break;
	}
	free(p);
	return r;
}

/*
 * Open the state dir (creating it when create) and check it is safe to
 * trust: a directory of ours that nobody else may write. -EPERM if not.
 * All files are then opened relative to this fd.
 */
static int
state_open(const char *dir, bool create, int *dfd)
{
	struct stat st;
	int fd, r;

	*dfd = -1;
	if (dir == NULL || *dir == '\0')
		return -EINVAL;
	if (create && (r = mkdir_p(dir)) < 0)
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
static int
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

int
journal_open(const char *state_dir, struct journal **jp)
{
	struct journal *j = xcalloc(1, sizeof(*j));
	unsigned long long start;
	char hdr[128];
	int r;

	*jp = NULL;
	j->dfd = j->fd = -1;
	if ((r = proc_start(0, &start)) < 0 ||
	    (r = state_open(state_dir, true, &j->dfd)) < 0)
		goto out;
	snprintf(j->name, sizeof(j->name), "run-%ld.journal", (long)getpid());
	j->fd = openat(j->dfd, j->name, O_CREAT | O_EXCL | O_RDWR |
	    O_CLOEXEC | O_NOFOLLOW, 0600);
	if (j->fd < 0) {
		r = -errno;
		goto out;
	}
	snprintf(hdr, sizeof(hdr), HDR_FMT "\n", (long)getpid(),
	    (long)geteuid(), start);
	/* No fdatasync here: the first change record's fdatasync makes the
	 * header durable too, and a run that changes nothing (warm path)
	 * needs no disk flush at all. */
	if (flock(j->fd, LOCK_EX) < 0)
		r = -errno;
	else
		r = write_at(j->fd, hdr, strlen(hdr), 0);
	if (r < 0)
		goto out;	/* journal_close removes the file */
	j->len = j->last = (off_t)strlen(hdr);
out:
	if (r < 0)
		journal_close(j);
	else
		*jp = j;
	return r;
}

/*
 * Append one record and make it durable before the caller changes the
 * host. A line the undo could not parse is refused (-EINVAL) so mistakes
 * show up here; on a failed write the file is cut back to whole records.
 */
int
journal_log(struct journal *j, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = journal_vlog(j, fmt, ap);
	va_end(ap);
	return r;
}

int
journal_vlog(struct journal *j, const char *fmt, va_list ap)
{
	char *line = NULL, *copy = NULL;
	struct rec rec;
	int len, r;

	len = vasprintf(&line, fmt, ap);
	if (len < 0)
		return -ENOMEM;
	copy = xstrdup(line);
	if (len >= JOURNAL_LINE || strlen(line) != (size_t)len ||
	    rec_parse(copy, &rec) < 0) {
		r = -EINVAL;
		goto out;
	}
	if (j->len + len + 1 > JOURNAL_MAX) {
		r = -EFBIG;
		goto out;
	}
	line[len] = '\n';
	/* info is for status only: the next change's sync carries it */
	if ((r = write_at(j->fd, line, (size_t)len + 1, j->len)) == 0 &&
	    rec.kind->undo != NULL && fdatasync(j->fd) < 0)
		r = -errno;
	if (r < 0) {
		if (ftruncate(j->fd, j->len) < 0) {
			/* the partial line is skipped when read back */
		}
		goto out;
	}
	j->last = j->len;
	j->len += len + 1;
out:
	free(copy);
	free(line);
	return r;
}

/*
 * The change just logged did not happen (it failed, e.g. -EEXIST): drop
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

/*
 * Undo every change backwards, then delete the file. When an undo step
 * failed the file stays (its writer is soon dead, so the next run or
 * "qrun cleanup" retries: every step is idempotent).
 */
int
journal_undo(struct journal *j, struct net *net)
{
	struct img im;
	int r;

	if (j == NULL)
		return 0;
	if ((r = img_read(j->fd, &im)) == 0)
		r = img_undo(&im, net);
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

/* ------------------------------------------------------ the cleaner */

/*
 * Replay one leftover journal if its writer is dead: 1 when undone and
 * removed, 0 when left alone (live, busy, foreign, malformed), -errno.
 */
static int
cleanup_one(int dfd, const char *name, struct net *net)
{
	struct img im = { 0 };
	struct stat st;
	pid_t pid = journal_name_pid(name);
	int fd, r;

	if ((fd = journal_file_open(dfd, name)) < 0)
		return fd == -ENOENT ? 0 : fd;	/* skipped */
	if (flock(fd, LOCK_EX | LOCK_NB) < 0 || fstat(fd, &st) < 0 ||
	    st.st_nlink == 0) {
		r = 0;			/* a live writer or another cleaner */
		goto out;
	}
	if ((r = img_read(fd, &im)) < 0 || im.hdr.pid != pid ||
	    writer_alive(&im.hdr)) {
		/* an empty file is an open that died before its header */
		if (r == -EINVAL && st.st_size == 0 &&
		    proc_start(pid, &(unsigned long long){ 0 }) == -ESRCH)
			unlinkat(dfd, name, 0);
		r = r == -EFBIG ? r : 0;
		goto out;
	}
	if ((r = img_undo(&im, net)) < 0)
		goto out;
	r = unlinkat(dfd, name, 0) < 0 ? -errno : 1;
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

struct cleanup_ctx {
	struct net *net;
	int n;
};

static int
cleanup_cb(int dfd, const char *name, void *arg)
{
	struct cleanup_ctx *c = arg;
	int r = cleanup_one(dfd, name, c->net);

	if (r > 0)
		c->n++;
	/* foreign and oversized files are skipped, not errors */
	return r == -EPERM || r == -EFBIG || r == -ELOOP ? 0 : r;
}

/*
 * Replay and remove every journal whose writer is dead. Refuses (-EPERM,
 * nothing done) a state dir that is not ours or that others may write.
 */
int
journal_cleanup(const char *state_dir, struct net *net, int *n_undone)
{
	struct cleanup_ctx c = { net, 0 };
	int dfd, r;

	*n_undone = 0;
	if ((r = state_open(state_dir, false, &dfd)) < 0)
		return r == -ENOENT ? 0 : r;
	r = journal_each(dfd, cleanup_cb, &c);
	*n_undone = c.n;
	close(dfd);
	return r;
}

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

/* The "info KEY VALUE" records of a journal, as key, value pairs. */
int
journal_read_info(const char *path, struct strv *kv)
{
	struct img im;
	int r;

	if ((r = img_load(path, &im)) == 0)
		for (size_t i = 0; i < im.n; i++)
			if (im.recs[i].kind->undo == NULL) {
				strv_push(kv, im.recs[i].key);
				strv_push(kv, im.recs[i].rest);
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

/* ------------------------------------------------------------ locks */

/* The pid written in a lock file; 0 when unreadable. */
static pid_t
lock_holder(int fd)
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

int
lock_tap(const char *state_dir, const char *tap, int *fdp, pid_t *holder)
{
	char name[IFNAMSIZ + 8], pid[32];
	int dfd = -1, fd = -1, r;
	struct stat st;

	*fdp = -1;
	if (holder)
		*holder = 0;
	if (tap == NULL || ifname_check(tap, NULL) < 0)
		return -EINVAL;
	snprintf(name, sizeof(name), "%s.lock", tap);
	if ((r = state_open(state_dir, true, &dfd)) < 0)
		goto out;
	fd = openat(dfd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK, 0600);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
		r = -EPERM;
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		r = errno == EWOULDBLOCK ? -EBUSY : -errno;
		if (r == -EBUSY && holder)
			*holder = lock_holder(fd);
		goto out;
	}
	/* Fixed width, so the pid overwrites the last holder's without a
	 * truncate (which costs more than the rest of the lock). */
	snprintf(pid, sizeof(pid), "%10ld\n", (long)getpid());
	if ((r = write_at(fd, pid, strlen(pid), 0)) < 0)
		goto out;
	*fdp = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	return r;
}

/* The lock file stays: unlinking it would race with the next locker. */
void
unlock_tap(int fd)
{
	if (fd >= 0)
		close(fd);
}
