/*
 * util.c - small helpers shared by every layer: owned string vectors,
 * allocation that cannot fail quietly, shell quoting, the parsers for
 * interface names, IPv4 addresses, MACs and bounded integers, the
 * nearest word for "did you mean", and two things about paths: making
 * directories and finding a command in $PATH.
 */
#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <regex.h>

#include "qrun.h"

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		err(EXIT_QRUN, "malloc");
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		err(EXIT_QRUN, "calloc");
	return p;
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		err(EXIT_QRUN, "strdup");
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		err(EXIT_QRUN, "vasprintf");
	return s;
}

void
strv_take(struct strv *sv, char *s)
{
	if (sv->n + 2 > sv->cap) {
		sv->cap = sv->cap ? sv->cap * 2 : 8;
		sv->v = realloc(sv->v, sv->cap * sizeof(*sv->v));
		if (sv->v == NULL)
			err(EXIT_QRUN, "realloc");
	}
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

void
strv_push(struct strv *sv, const char *s)
{
	strv_take(sv, xstrdup(s));
}

void
strv_pushf(struct strv *sv, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		err(EXIT_QRUN, "vasprintf");
	va_end(ap);
	strv_take(sv, s);
}

void
strv_free(struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

int
strv_contains(const struct strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return 1;
	return 0;
}

/* Words made only of these characters need no quotes. */
static int
shell_safe(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("@%+=:,./_-", *s))
			return 0;
	return 1;
}

char *
shell_quote(const char *s)
{
	size_t n = 3;
	char *q, *p;

	if (shell_safe(s))
		return xstrdup(s);
	for (const char *c = s; *c; c++)
		n += *c == '\'' ? 4 : 1;
	q = p = xmalloc(n);
	*p++ = '\'';
	for (; *s; s++) {
		if (*s == '\'') {
			memcpy(p, "'\\''", 4);
			p += 4;
		} else
			*p++ = *s;
	}
	*p++ = '\'';
	*p = '\0';
	return q;
}

int
ifname_check(const char *name, const char **why)
{
	const char *reason = NULL;

	if (name[0] == '\0')
		reason = "empty name";
	else if (strlen(name) > IFNAMSIZ - 1)
		reason = "name too long (max 15)";
	else if (strchr(name, '/'))
		reason = "name contains '/'";
	else if (strstr(name, ".."))
		reason = "name contains '..'";
	else if (strcmp(name, ".") == 0)
		reason = "name is '.'";
	else {
		for (const char *c = name; *c; c++)
			if (isspace((unsigned char)*c) || *c == ':' ||
			    !isprint((unsigned char)*c)) {
				reason = isspace((unsigned char)*c) ?
				    "name contains whitespace" :
				    "name contains a bad character";
				break;
			}
	}
	if (why)
		*why = reason;
	return reason ? -EINVAL : 0;
}

int
parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	if (*s == '\0' || isspace((unsigned char)*s))
		return -EINVAL;
	v = strtol(s, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int
parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;

	if (strlen(s) != 17 ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
	    &b[4], &b[5], &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		if (!isxdigit((unsigned char)s[i * 3]) ||
		    !isxdigit((unsigned char)s[i * 3 + 1]))
			return -EINVAL;
		mac[i] = (uint8_t)b[i];
	}
	return 0;
}

/*
 * glibc's regcomp() copies a subexpression for "+" and for each count of
 * "{n,m}", so "a++++..." or "((a{999}){999}){999}" takes exponential
 * time and memory (found by tests/fuzz). Estimate the size of the tree
 * it would build and refuse more than REGEX_COST nodes before compiling.
 */
#define REGEX_COST	100000.0

static bool
regex_too_big(const char *re)
{
	double stack[64], cur = 0, last = 0;
	size_t depth = 0;
	long n, m;
	char *end;

	for (; *re; re++) {
		double k = 1;

		switch (*re) {
		case '(':
			if (depth == ARRAY_SIZE(stack))
				return true;
			stack[depth++] = cur;
			cur = 0;
			continue;
		case ')':
			last = cur;
			cur = depth ? stack[--depth] + last : last;
			continue;
		case '+':
			k = 2;
			break;
		case '{':
			n = strtol(re + 1, &end, 10);
			m = *end == ',' ? (end[1] == '}' ? n + 1 :
			    strtol(end + 1, &end, 10)) : n;
			k = (double)(n > m ? n : m) + 1;
			re += strcspn(re, "}") - (re[strcspn(re, "}")] == '\0');
			break;
		case '*': case '?': case '|':
			continue;
		case '[':		/* a bracket expression: one node */
			re += 1 + (re[1] == '^');
			re += *re == ']';
			re += strcspn(re, "]");
			if (*re == '\0')
				re--;
			last = 1;
			cur += 1;
			continue;
		case '\\':
			re += re[1] != '\0';
			/* FALLTHROUGH */
		default:
			last = 1;
			cur += 1;
			continue;
		}
		cur += last * (k - 1);
		last *= k;
		if (cur > REGEX_COST || last > REGEX_COST)
			return true;
	}
	return cur > REGEX_COST;
}

/*
 * Compile a POSIX extended regex given by a user (profile, option, shell),
 * refusing the ones glibc would take exponential time over. 0, or -EINVAL
 * with the reason in why.
 */
int
regex_compile(regex_t *rx, const char *pat, char *why, size_t len)
{
	int r;

	if (regex_too_big(pat)) {
		snprintf(why, len, "too many repetitions");
		return -EINVAL;
	}
	if ((r = regcomp(rx, pat, REG_EXTENDED | REG_NOSUB)) != 0) {
		regerror(r, rx, why, len);
		return -EINVAL;
	}
	return 0;
}

/* Read up to len bytes of fd from offset 0, retrying short reads and
 * EINTR, until len or the end: the bytes read, or -errno. */
ssize_t
read_all(int fd, void *buf, size_t len)
{
	size_t n = 0;
	ssize_t r;

	while (n < len) {
		r = pread(fd, (char *)buf + n, len - n, (off_t)n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	return (ssize_t)n;
}

/* The strings of sv with sep between them, in one new string. */
char *
strv_join(const struct strv *sv, const char *sep)
{
	size_t len = 1, off = 0, slen = strlen(sep);
	char *all;

	for (size_t i = 0; i < sv->n; i++)
		len += strlen(sv->v[i]) + slen;
	all = xmalloc(len);
	all[0] = '\0';
	for (size_t i = 0; i < sv->n; i++)
		off += (size_t)snprintf(all + off, len - off, "%s%s",
		    i ? sep : "", sv->v[i]);
	return all;
}

/* Close *fd unless it is -1, and make it -1. */
void
fd_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Milliseconds on the monotonic clock, for deadlines and intervals. */
long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/*
 * Optimal string alignment distance: Levenshtein plus the swap of two
 * neighbours, the commonest typo. Bounded words keep it on the stack.
 */
size_t
str_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, v;
	unsigned char d[64][64];

	if (la >= 64 || lb >= 64)
		return SIZE_MAX;
	for (i = 0; i <= la; i++)
		d[i][0] = (unsigned char)i;
	for (j = 0; j <= lb; j++)
		d[0][j] = (unsigned char)j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1u < v)
				v = d[i - 1][j] + 1u;
			if (d[i][j - 1] + 1u < v)
				v = d[i][j - 1] + 1u;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1u < v)
				v = d[i - 2][j - 2] + 1u;
			d[i][j] = (unsigned char)v;
		}
	return d[la][lb];
}

/*
 * The candidate a typo most likely meant. Without an explicit bound, a
 * short word may be one edit off, a longer one two or three; a candidate
 * as far as the word is long shares nothing with it and is no suggestion.
 */
const char *
str_nearest(const char *word, const struct strv *cands, size_t max)
{
	size_t len = strlen(word), best = SIZE_MAX, d;
	const char *hit = NULL;

	if (max == 0)
		max = len <= 4 ? 1 : len <= 8 ? 2 : 3;
	for (size_t i = 0; i < cands->n; i++)
		if ((d = str_distance(word, cands->v[i])) < best) {
			best = d;
			hit = cands->v[i];
		}
	return best <= max && best < len ? hit : NULL;
}

int
path_mkdirs(const char *dir, mode_t mode)
{
	char *d = xstrdup(dir), *p = d, c;
	int r = 0;

	do {
		p += strspn(p, "/");
		p += strcspn(p, "/");
		c = *p;
		*p = '\0';
		if (mkdir(d, mode) < 0 && errno != EEXIST)
			r = -errno;
		*p = c;
	} while (r == 0 && *p != '\0');
	free(d);
	return r;
}

/*
 * As a shell finds a command: the first file of that name in a directory
 * of path that we may execute; failing that, the first such file at all
 * (exec then says why it cannot run). A directory we may not search is
 * one without the file, as for sh: under sudo, root's PATH holds
 * directories the developer cannot enter, and "no-such-command" must
 * still read "command not found" (execvp says EACCES then).
 */
int
path_search(const char *name, const char *path, char *out, size_t len)
{
	const char *p = path && *path ? path : "/usr/bin:/bin";
	struct stat st;
	int r = -ENOENT;

	if (strchr(name, '/') != NULL || name[0] == '\0') {
		snprintf(out, len, "%s", name);
		return 0;
	}
	for (size_t n; r != 0; p += n + 1) {
		char cand[PATH_MAX];

		n = strcspn(p, ":");
		snprintf(cand, sizeof(cand), "%.*s/%s", n ? (int)n : 1,
		    n ? p : ".", name);
		if (stat(cand, &st) == 0 && !S_ISDIR(st.st_mode)) {
			bool x = access(cand, X_OK) == 0;

			if (x || r == -ENOENT)
				snprintf(out, len, "%s", cand);
			r = x ? 0 : -EACCES;
		}
		if (p[n] == '\0')
			break;
	}
	return r;
}
