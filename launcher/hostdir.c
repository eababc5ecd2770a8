/*
 * hostdir.c - host directories in the guest (qemu.share, --share): each
 * "DIR[:TAG][:ro][:9p]" read into a struct hostdir, QEMU's arguments for
 * it and the guest's mount command. Pure: the directory is resolved and
 * checked as the user, and virtiofsd started, by virtiofsd.c.
 *
 * A share is virtiofs unless it says :9p: QEMU's vhost-user-fs device,
 * served by a virtiofsd qrun starts, which needs the guest's memory
 * shared with it (a memfd backend as large as -m). :9p is QEMU's own
 * virtio-9p server, run with QEMU's rights (the user's). Tags are qrun0,
 * qrun1, ... by position unless one is given.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qrun.h"

#define WHY(...) snprintf(why, whylen, __VA_ARGS__)

/* A tag: [A-Za-z0-9_-], 1..HOSTDIR_TAG_MAX bytes. */
static bool
tag_ok(const char *s, size_t n)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";

	if (n == 0 || n > HOSTDIR_TAG_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strchr(ok, s[i]) == NULL || s[i] == '\0')
			return false;
	return true;
}

/* Take the options (ro, rw, 9p, virtiofs) off the end of spec[0..*n). */
static void
take_opts(const char *spec, size_t *n, struct hostdir *d)
{
	for (;;) {
		const char *c = memrchr(spec, ':', *n);
		size_t w;

		if (c == NULL)
			return;
		w = *n - (size_t)(c - spec) - 1;
		if (w == 2 && strncmp(c + 1, "ro", 2) == 0)
			d->ro = true;
		else if (w == 2 && strncmp(c + 1, "rw", 2) == 0)
			d->ro = false;
		else if (w == 2 && strncmp(c + 1, "9p", 2) == 0)
			d->fs = HOSTDIR_9P;
		else if (w == 8 && strncmp(c + 1, "virtiofs", 8) == 0)
			d->fs = HOSTDIR_VIRTIOFS;
		else
			return;
		*n = (size_t)(c - spec);
	}
}

int
hostdir_parse(const char *spec, size_t index, struct hostdir *d, char *why,
    size_t whylen)
{
	size_t n = strlen(spec);
	const char *c;

	memset(d, 0, sizeof(*d));
	take_opts(spec, &n, d);
	c = memrchr(spec, ':', n);
	if (c && tag_ok(c + 1, n - (size_t)(c - spec) - 1)) {
		snprintf(d->tag, sizeof(d->tag), "%.*s",
		    (int)(n - (size_t)(c - spec) - 1), c + 1);
		n = (size_t)(c - spec);
	} else if (c && strchr(c + 1, '/') == NULL) {
		WHY("\"%s\": tag \"%.*s\": at most %d of A-Z a-z 0-9 _ -", spec,
		    (int)(n - (size_t)(c - spec) - 1), c + 1, HOSTDIR_TAG_MAX);
		return -EINVAL;
	} else
		snprintf(d->tag, sizeof(d->tag), "qrun%zu", index);
	if (n == 0 || n >= HOSTDIR_PATH_MAX) {
		WHY("\"%s\": %s", spec, n ? "directory name too long" :
		    "no directory (DIR[:TAG][:ro][:9p])");
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)spec[i] < 0x20 || spec[i] == 0x7f ||
		    (spec[i] == ',' && d->fs == HOSTDIR_VIRTIOFS)) {
			WHY("\"%s\": a directory name with %s", spec,
			    spec[i] == ',' ? "',' (virtiofsd cannot take it; "
			    ":9p can)" : "a control character");
			return -EINVAL;
		}
	snprintf(d->path, sizeof(d->path), "%.*s", (int)n, spec);
	return 0;
}

int
hostdirs_make(const struct strv *specs, struct hostdirs *dirs,
    struct strv *why)
{
	char w[HOSTDIR_PATH_MAX + 160];
	int rc = 0;

	memset(dirs, 0, sizeof(*dirs));
	for (size_t i = 0; i < specs->n && i < SHARE_MAX; i++) {
		struct hostdir *d = &dirs->d[dirs->n];

		if (hostdir_parse(specs->v[i], i, d, w, sizeof(w)) < 0) {
			strv_push(why, w);
			rc = -EINVAL;
			continue;
		}
		for (size_t k = 0; k < dirs->n; k++)
			if (strcmp(dirs->d[k].tag, d->tag) == 0) {
				strv_pushf(why, "\"%s\": tag %s used twice",
				    specs->v[i], d->tag);
				rc = -EINVAL;
			}
		dirs->n++;
	}
	return rc;
}

bool
hostdirs_virtiofs(const struct hostdirs *dirs)
{
	for (size_t i = 0; dirs && i < dirs->n; i++)
		if (dirs->d[i].fs == HOSTDIR_VIRTIOFS)
			return true;
	return false;
}

/* -chardev/-device of a virtiofs share: the socket qrun connected to its
 * virtiofsd (fd), or in the pasteable form (fd < 0) a socket path for a
 * virtiofsd started by hand (hostdir_would). */
static void
argv_virtiofs(const struct hostdir *d, size_t i, int fd, struct strv *argv)
{
	strv_push(argv, "-chardev");
	if (fd >= 0)
		strv_pushf(argv, "socket,id=fs%zu,fd=%d", i, fd);
	else
		strv_pushf(argv, "socket,id=fs%zu,path=%s.sock", i, d->tag);
	strv_push(argv, "-device");
	strv_pushf(argv, "vhost-user-fs-pci,chardev=fs%zu,tag=%s", i, d->tag);
}

/* -fsdev/-device of a 9p share: QEMU serves it, with its own rights. */
static void
argv_9p(const struct hostdir *d, size_t i, struct strv *argv)
{
	char *p = qemu_optval(d->path);

	strv_push(argv, "-fsdev");
	strv_pushf(argv, "local,id=fs%zu,path=%s,security_model=none%s", i, p,
	    d->ro ? ",readonly=on" : "");
	strv_push(argv, "-device");
	strv_pushf(argv, "virtio-9p-pci,fsdev=fs%zu,mount_tag=%s", i, d->tag);
	free(p);
}

void
hostdirs_argv(const struct hostdirs *dirs, const int *fds, long memory,
    struct strv *argv)
{
	if (hostdirs_virtiofs(dirs)) {
		/* vhost-user: virtiofsd maps the guest's memory */
		strv_push(argv, "-object");
		strv_pushf(argv, "memory-backend-memfd,id=mem0,size=%ldM,"
		    "share=on", memory);
		strv_push(argv, "-machine");
		strv_push(argv, "memory-backend=mem0");
	}
	for (size_t i = 0; dirs && i < dirs->n; i++)
		if (dirs->d[i].fs == HOSTDIR_9P)
			argv_9p(&dirs->d[i], i, argv);
		else
			argv_virtiofs(&dirs->d[i], i, fds ? fds[i] : -1, argv);
}

char *
hostdir_hint(const struct hostdir *d)
{
	char *q = shell_quote(d->path), *s;

	if (d->fs == HOSTDIR_9P)
		s = xasprintf("share %s%s -> guest: mount -t 9p -o "
		    "trans=virtio,version=9p2000.L%s %s /mnt", q,
		    d->ro ? " (read-only)" : "", d->ro ? ",ro" : "", d->tag);
	else
		s = xasprintf("share %s%s -> guest: mount -t virtiofs%s %s "
		    "/mnt", q, d->ro ? " (read-only)" : "", d->ro ? " -o ro" :
		    "", d->tag);
	free(q);
	return s;
}

char *
hostdir_would(const struct hostdir *d, const char *user)
{
	char *q = shell_quote(d->path), *s;

	if (d->fs == HOSTDIR_9P)
		s = xasprintf("QEMU would serve %s over 9p%s", q,
		    d->ro ? ", read-only" : "");
	else
		s = xasprintf("qrun would run, as %s: %s --socket-path=%s.sock "
		    "-o source=%s%s", user, VIRTIOFSD_PATH, d->tag, q,
		    d->ro ? " (on a read-only bind mount)" : "");
	free(q);
	return s;
}
