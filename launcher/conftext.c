/*
 * conftext.c - the text of one profile file with its @include lines
 * replaced by the files they name, for libconfig's config_read_string(),
 * and a map from the lines of that text back to FILE:LINE.
 *
 * libconfig opens includes itself: relative to one include directory for
 * the whole parse, with fopen(), which waits forever for a writer on a
 * FIFO. Here an include is relative to the file that names it (as with
 * C's #include "x"), only regular files are read (opened non-blocking,
 * checked with fstat), and a profile stays small: CONFTEXT_MAX bytes read
 * with all its includes, in at most CONFTEXT_FILES reads of a file (each
 * some system calls), CONFTEXT_DEPTH levels of include, no cycle, at most
 * CONFTEXT_SETTINGS settings (libconfig's own lookups of a setting's name
 * among its siblings are linear, so it parses many in square time).
 *
 * An include is what libconfig's scanner takes for one: at the start of
 * a line, outside strings and comments,
 *     [ \t]*@include[ \t]+"PATH"       (\" and \\ escape in PATH)
 * The rest of that line follows the included text on a line of its own,
 * and a string or comment must end in the file that opens it, so the scan
 * here and libconfig's always agree on what is code and where lines
 * start.
 * Nothing here prints: a problem is one diag line, and the read stops.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qrun.h"

/* Lines of the text from out on come from file's line on. */
struct conftext_seg {
	size_t out;
	size_t file;
	size_t line;
};

/* One read of a profile with its includes. */
struct expand {
	struct conftext *ct;
	struct strv *diags;
	size_t read;			/* bytes read so far, all files */
	size_t settings;		/* '=' and ':' seen outside strings */
	size_t line;			/* the text's current line */
	struct stat chain[CONFTEXT_DEPTH + 1];	/* the files being read */
	int depth;
	bool optional;			/* a missing top file is no error */
};

/* Why a file is not read, besides -errno. */
enum {
	R_NOTREG = -1001, R_BIG = -1002, R_CYCLE = -1003, R_DEEP = -1004,
	R_MANY = -1005,
};

/* The scan of one file. */
struct scan {
	const char *buf;
	size_t len, pos;
	size_t done;			/* copied to the text up to here */
	size_t line;			/* of pos, in this file */
	size_t opened;			/* line of the string or comment */
	size_t file;			/* index in ct->files */
	enum { S_CODE, S_COMMENT, S_STRING } state;
	bool bol;			/* pos starts a line */
};

/* Append n bytes to the text, counting its lines. */
static void
text_put(struct expand *x, const char *s, size_t n)
{
	struct conftext *ct = x->ct;

	if (ct->len + n + 1 > ct->cap) {
		while (ct->len + n + 1 > ct->cap)
			ct->cap = ct->cap ? ct->cap * 2 : 4096;
		if ((ct->text = realloc(ct->text, ct->cap)) == NULL)
			abort();
	}
	memcpy(ct->text + ct->len, s, n);
	ct->len += n;
	ct->text[ct->len] = '\0';
	for (size_t i = 0; i < n; i++)
		x->line += s[i] == '\n';
}

/* From the text's current line on, lines come from file's line on. */
static void
seg_add(struct expand *x, size_t file, size_t line)
{
	struct conftext *ct = x->ct;

	if (ct->nseg && ct->seg[ct->nseg - 1].out == x->line)
		ct->nseg--;		/* it had no line: replace it */
	if (ct->nseg == ct->segcap) {
		ct->segcap = ct->segcap ? ct->segcap * 2 : 8;
		ct->seg = realloc(ct->seg, ct->segcap * sizeof(*ct->seg));
		if (ct->seg == NULL)
			abort();
	}
	ct->seg[ct->nseg++] = (struct conftext_seg){ x->line, file, line };
}

/*
 * Open a regular file without waiting: a FIFO or device is refused by
 * stat() before any open(), O_NONBLOCK keeps one swapped in since from
 * blocking the open, and fstat() checks it is the file stat() saw.
 * The fd, or -errno, R_NOTREG.
 */
static int
file_open(const char *path, struct stat *st)
{
	struct stat fst;
	int fd;

	if (stat(path, st) < 0)
		return -errno;
	if (S_ISDIR(st->st_mode))
		return -EISDIR;
	if (!S_ISREG(st->st_mode))
		return R_NOTREG;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &fst) < 0 || !S_ISREG(fst.st_mode) ||
	    fst.st_dev != st->st_dev || fst.st_ino != st->st_ino) {
		close(fd);
		return R_NOTREG;
	}
	return fd;
}

/* All of fd if it is at most max bytes: 0, R_BIG or -errno. */
static int
file_slurp(int fd, size_t max, char **buf, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *b = xmalloc(cap);
	ssize_t r;

	for (;;) {
		if (n == cap && (b = realloc(b, cap *= 2)) == NULL)
			abort();
		r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || (n += (size_t)r) > max)
			break;
	}
	if (r < 0 || n > max) {
		r = r < 0 ? -errno : R_BIG;
		free(b);
		return (int)r;
	}
	*buf = b;
	*len = n;
	return 0;
}

/* One diag "PREFIX: why" for a file that is not read; -EINVAL. */
static int
file_fail(struct expand *x, const char *prefix, int r)
{
	if (r == R_NOTREG)
		strv_pushf(x->diags, "%s: not a regular file", prefix);
	else if (r == R_BIG)
		strv_pushf(x->diags, "%s: too big: a profile with its "
		    "includes is at most %d KiB", prefix, CONFTEXT_MAX / 1024);
	else if (r == R_CYCLE)
		strv_pushf(x->diags, "%s: include cycle", prefix);
	else if (r == R_DEEP)
		strv_pushf(x->diags, "%s: nested too deeply: at most %d "
		    "levels of @include", prefix, CONFTEXT_DEPTH);
	else if (r == R_MANY)
		strv_pushf(x->diags, "%s: too many files: a profile reads at "
		    "most %d, itself included", prefix, CONFTEXT_FILES);
	else
		strv_pushf(x->diags, "%s: cannot read: %s", prefix,
		    strerror(-r));
	return -EINVAL;
}

/* A problem at the scan's FILE:LINE; -EINVAL. */
static int __attribute__((format(printf, 3, 4)))
scan_fail(struct expand *x, const struct scan *sc, const char *fmt, ...)
{
	va_list ap;
	char *why;

	va_start(ap, fmt);
	if (vasprintf(&why, fmt, ap) < 0)
		abort();
	va_end(ap);
	strv_pushf(x->diags, "%s:%zu: %s", x->ct->files.v[sc->file], sc->line,
	    why);
	free(why);
	return -EINVAL;
}

static int expand_file(struct expand *, const char *name,
    const char *prefix);

/* "[ \t]*@include[ \t]+\"" at the scan's position: where PATH starts. */
static const char *
include_open(const struct scan *sc)
{
	const char *p = sc->buf + sc->pos, *end = sc->buf + sc->len;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if ((size_t)(end - p) < 9 || memcmp(p, "@include", 8) != 0 ||
	    (p[8] != ' ' && p[8] != '\t'))
		return NULL;
	for (p += 8; p < end && (*p == ' ' || *p == '\t'); p++)
		;
	return p < end && *p == '"' ? p + 1 : NULL;
}

/* PATH from p, unescaped, up to its closing quote (*close); NULL when
 * its line ends first. */
static char *
include_path(const struct scan *sc, const char *p, const char **close)
{
	const char *end = sc->buf + sc->len;
	char *path = xmalloc((size_t)(end - p) + 1), *o = path;

	for (; p < end && *p != '"' && *p != '\n'; p++) {
		if (*p == '\\' && p + 1 < end && (p[1] == '"' || p[1] == '\\'))
			p++;
		*o++ = *p;
	}
	*o = '\0';
	if (p == end || *p != '"') {
		free(path);
		return NULL;
	}
	*close = p;
	return path;
}

/* The file PATH names when from includes it: relative to from's
 * directory, unless absolute. */
static char *
include_name(const char *from, const char *path)
{
	const char *slash = strrchr(from, '/');

	if (path[0] == '/' || slash == NULL)
		return xstrdup(path);
	return xasprintf("%.*s%s", (int)(slash - from + 1), from, path);
}

/*
 * The @include at the scan's position, its PATH starting at p: copy the
 * lines before it, then the file it names, and go on after its closing
 * quote as if on a line of its own. 0, or -EINVAL with a diag.
 */
static int
scan_include(struct expand *x, struct scan *sc, const char *p)
{
	const char *close = NULL;
	char *path = include_path(sc, p, &close), *name, *prefix;
	int r;

	if (path == NULL)
		return scan_fail(x, sc, "%s",
		    "syntax error: @include file name not closed on its line");
	text_put(x, sc->buf + sc->done, sc->pos - sc->done);
	name = include_name(x->ct->files.v[sc->file], path);
	prefix = xasprintf("%s:%zu: @include \"%s\"",
	    x->ct->files.v[sc->file], sc->line, path);
	r = expand_file(x, name, prefix);
	sc->pos = sc->done = (size_t)(close + 1 - sc->buf);
	sc->bol = true;
	seg_add(x, sc->file, sc->line);
	free(prefix);
	free(name);
	free(path);
	return r;
}

/* One character (or escape, or comment) outside an @include. */
static int
scan_char(struct expand *x, struct scan *sc)
{
	const char *b = sc->buf;
	size_t i = sc->pos;
	char c = b[i], n = i + 1 < sc->len ? b[i + 1] : '\0';

	if (sc->state == S_STRING) {
		if (c == '\\' && (n == '"' || n == '\\'))
			i++;
		else if (c == '"')
			sc->state = S_CODE;
	} else if (sc->state == S_COMMENT) {
		if (c == '*' && n == '/')
			sc->state = S_CODE, i++;
	} else if (c == '"')
		sc->state = S_STRING, sc->opened = sc->line;
	else if (c == '/' && n == '*')
		sc->state = S_COMMENT, sc->opened = sc->line, i++;
	else if (c == '#' || (c == '/' && n == '/')) {
		while (i + 1 < sc->len && b[i + 1] != '\n')
			i++;
	} else if ((c == '=' || c == ':') &&
	    ++x->settings > CONFTEXT_SETTINGS)
		return scan_fail(x, sc, "too many settings: a profile with "
		    "its includes has at most %d", CONFTEXT_SETTINGS);
	sc->pos = i + 1;
	sc->bol = b[i] == '\n';
	sc->line += sc->bol;
	return 0;
}

/* The whole file: its text, with its includes, then a newline. */
static int
scan_file(struct expand *x, struct scan *sc)
{
	const char *p, *nul = memchr(sc->buf, '\0', sc->len);
	int r = 0;

	while (r == 0 && sc->pos < sc->len) {
		if (nul && sc->buf + sc->pos >= nul)
			return scan_fail(x, sc, "%s", "syntax error: a NUL byte");
		if (sc->state == S_CODE && sc->bol && (p = include_open(sc)))
			r = scan_include(x, sc, p);
		else
			r = scan_char(x, sc);
	}
	if (r < 0)
		return r;
	if (sc->state != S_CODE) {
		sc->line = sc->opened;
		return scan_fail(x, sc, "syntax error: %s not closed by the "
		    "end of the file", sc->state == S_STRING ? "string" :
		    "comment");
	}
	text_put(x, sc->buf + sc->done, sc->len - sc->done);
	if (x->ct->len && x->ct->text[x->ct->len - 1] != '\n')
		text_put(x, "\n", 1);
	return 0;
}

static bool
chain_has(const struct expand *x, const struct stat *st)
{
	for (int i = 0; i < x->depth; i++)
		if (x->chain[i].st_dev == st->st_dev &&
		    x->chain[i].st_ino == st->st_ino)
			return true;
	return false;
}

/* Read the file name, problems with it reported as "PREFIX: why", and
 * expand it into the text. 0, -EINVAL, or -ENOENT for a missing
 * optional top file. */
static int
expand_file(struct expand *x, const char *name, const char *prefix)
{
	struct scan sc = { .line = 1, .bol = true };
	struct stat st;
	char *buf = NULL;
	int fd = -1, r;

	if (x->depth > CONFTEXT_DEPTH)
		r = R_DEEP;
	else if (x->ct->files.n == CONFTEXT_FILES)
		r = R_MANY;
	else if ((r = fd = file_open(name, &st)) >= 0)
		r = chain_has(x, &st) ? R_CYCLE :
		    (size_t)st.st_size > CONFTEXT_MAX - x->read ? R_BIG :
		    file_slurp(fd, CONFTEXT_MAX - x->read, &buf, &sc.len);
	if (fd >= 0)
		close(fd);
	if (r == -ENOENT && x->optional && x->depth == 0)
		return -ENOENT;
	if (r < 0)
		return file_fail(x, prefix, r);
	x->read += sc.len;
	sc.buf = buf;
	strv_push(&x->ct->files, name);
	sc.file = x->ct->files.n - 1;
	seg_add(x, sc.file, 1);
	x->chain[x->depth++] = st;
	r = scan_file(x, &sc);
	x->depth--;
	free(buf);
	return r;
}

int
conftext_read(struct conftext *ct, const char *path, bool optional,
    struct strv *diags)
{
	struct expand x = { .ct = ct, .diags = diags, .line = 1,
	    .optional = optional };
	int r;

	memset(ct, 0, sizeof(*ct));
	text_put(&x, "", 0);
	if ((r = expand_file(&x, path, path)) < 0)
		conftext_free(ct);
	return r;
}

char *
conftext_where(const struct conftext *ct, size_t line)
{
	size_t lo = 0, hi = ct->nseg, mid;
	const struct conftext_seg *s;

	if (ct->nseg == 0)
		return xasprintf("?:%zu", line);
	while (hi - lo > 1) {		/* the last segment from line on */
		mid = lo + (hi - lo) / 2;
		if (ct->seg[mid].out <= line)
			lo = mid;
		else
			hi = mid;
	}
	s = &ct->seg[lo];
	return xasprintf("%s:%zu", ct->files.v[s->file],
	    line >= s->out ? s->line + (line - s->out) : s->line);
}

void
conftext_free(struct conftext *ct)
{
	free(ct->text);
	strv_free(&ct->files);
	free(ct->seg);
	memset(ct, 0, sizeof(*ct));
}
