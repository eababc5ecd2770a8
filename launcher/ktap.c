/*
 * ktap.c - test results from the guest's console: KTAP version 1 (KUnit,
 * kselftest), TAP 13 and TAP 14, fed one console line at a time as the
 * console delivers them; counted, reported as text (ktap_report) and as
 * JUnit XML (ktap_junit). Pure: the only output goes to the FILE * a
 * caller passes. Memory grows by doubling a few arrays and one string
 * pool, never per line; passing tests are not kept unless KTAP_RECORD.
 *
 * Reading (what qrun.1 says under --ktap):
 *  - A report starts at a version line ("KTAP version 1", "TAP version
 *    13|14") or a plan line ("1..N"); lines before it are ignored. A
 *    printk time stamp "[   1.234567] " (and a "[  T12]" caller id) is
 *    taken off first and used as the line's time.
 *  - Nesting follows indentation (KUnit indents 4 spaces a level,
 *    ktap.rst 2, TAP 14 4): a version, plan, "# Subtest:" or result line
 *    indented deeper than the current level opens a subtest; the result
 *    line at the parent's indentation closes it and is the subtest's
 *    result. "# Subtest: NAME" names the subtest, at its own indentation
 *    (KUnit) or at the parent's just before it (TAP 14). At most
 *    1000 levels; deeper lines count at the deepest one.
 *  - "#" lines are diagnostics of the next result at their level (KTAP);
 *    inside a subtest other lines indented at least as deep are too
 *    (KUnit's "Expected ..."). A YAML block ("---" ... "...") right after
 *    a result belongs to that result (TAP 13/14; its duration_ms: is the
 *    test's time). Every other line (kernel messages) is ignored.
 *  - "Bail out!" ends the report.
 *
 * Counting:
 *  - A test is a result line ("ok"/"not ok"). A test whose subtest level
 *    holds results is a suite: it is not counted, its results are, so a
 *    suite line summarising its children never counts twice. One
 *    exception keeps a failure from vanishing: a suite that says "not
 *    ok" while none of its results failed counts as one failure itself.
 *  - "ok" is passed, "not ok" failed. "# SKIP" is skipped, either way.
 *    "# TODO" and "# XFAIL" (expected failures) count as skipped, either
 *    way, never as failed or passed (JUnit <skipped/>, as pytest does).
 *    Other directives ("# TIMEOUT", "# ERROR", "# exit=1") keep the
 *    result as it is.
 *  - A plan "1..N" at a level with fewer results: each missing test is a
 *    failure "test K (not run)" (named by number when the results came
 *    in order 1, 2, ...), or a skip when the suite's own result is a
 *    SKIP or TODO. More results than planned is one failure. A subtest
 *    cut off without its result line ("# Subtest: x" then the console
 *    ends, or another suite starts) is a failed suite "x (not finished)",
 *    counted by the rule above. "1..0 # SKIP" for the whole report is
 *    one skipped test.
 *  - ktap_exit: 1 on a failure, a bail out or no test at all; else 0.
 */
#include <err.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "qrun.h"

#define KTAP_DEPTH	1000		/* nesting levels */
#define NAME_LEN	512		/* bytes kept of a name or reason */
#define DIAG_LINE	1024		/* bytes kept of a diagnostic line */
#define DIAG_KEEP	16384		/* bytes kept per test: the last ones */
#define CHUNK_BITS	16		/* the pool grows by 64 KiB chunks */
#define CHUNK		((size_t)1 << CHUNK_BITS)
#define POOL_CHUNKS	4096		/* 256 MiB of names and diagnostics */
#define REC_BITS	10		/* records come in blocks of 1024 */
#define MISSING_CASES	1000		/* JUnit: missing tests one by one */
#define NONE		UINT32_MAX

enum status { ST_PASS, ST_FAIL, ST_SKIP, ST_XFAIL };
enum kind { K_RESULT, K_MISSING, K_CUT, K_OVER, K_PLANSKIP };

/* A moment: the host's monotonic ms and, when the line had one, the
 * guest's printk time in us. Durations prefer the guest's clock. */
struct mark {
	long ms;
	int64_t us;
};

/* Diagnostic lines waiting for their result; reused, never shrunk. */
struct dbuf {
	char *s;
	size_t len, cap;
	unsigned long dropped;	/* lines dropped from the front */
};

/* One nesting level, open while its lines come in. */
struct level {
	int indent;
	uint32_t suite;		/* its suite record */
	long plan;		/* -1 = none */
	bool plan_skip;		/* "1..0 # SKIP" */
	uint32_t plan_why;	/* its reason, or NONE */
	long n;			/* results so far */
	bool inorder;		/* numbered 1, 2, ... n so far */
	unsigned long failed0;	/* k->failed when it opened */
	struct mark mark;	/* its last result, or its opening */
	struct dbuf diag;	/* diagnostics of its next result */
};

/* Every level ever opened: the names of the paths "suite.sub.case". */
struct suite {
	uint32_t name;		/* pool offset, NONE = "test N" */
	uint32_t parent;	/* NONE for a report's top level */
	uint32_t top;		/* its depth-1 ancestor (JUnit testsuite) */
	int depth;
	long num;		/* its number in the parent */
	int64_t ms;		/* its time once closed, else -1 */
};

/* A result kept: every failure, everything with KTAP_RECORD. */
struct rec {
	uint32_t name, why, diag;	/* pool offsets or NONE */
	uint32_t suite;		/* the level it is a result of */
	uint32_t child;		/* the level it closed, or NONE */
	uint32_t num, count;	/* K_MISSING: tests num..num+count-1 */
	uint32_t ms;		/* its time */
	uint8_t status, kind;
	bool is_suite;		/* its level held results */
	bool counted;		/* in passed/failed/skipped */
};

struct ktap {
	unsigned flags;
	struct level *lv;	/* open levels, lv[0 .. depth] */
	size_t caplv;
	int depth;		/* current level; -1 = outside a report */
	struct suite *su;
	size_t nsu, capsu;
	struct rec **rb;	/* blocks of 1 << REC_BITS records */
	size_t nrec, caprb;
	char **chunk;		/* the pool: strings never cross a chunk */
	size_t nchunk, capchunk, cused;
	bool pending;		/* pend waits for a YAML block */
	bool yaml;		/* inside one, lines indented yaml_indent */
	int yaml_indent;
	int pend_level;
	struct rec pend;
	char subtest[NAME_LEN];	/* "# Subtest:" name for the next level */
	bool have_subtest;
	char last[NAME_LEN];	/* the last result's name */
	long last_num;
	char last_path[2 * NAME_LEN];
	unsigned long passed, failed, skipped, xfail, missing;
	bool seen, bailed, cut, ended;
	uint32_t bail_why;
	struct mark now;
};

/* A console line taken apart. */
struct ln {
	const char *text;	/* after stamp and indentation */
	size_t len;
	int indent;		/* columns (tabs to multiples of 8) */
};

/* A result line taken apart (desc/why point into the line). */
struct res {
	bool ok;
	long num;		/* 0 = not given */
	const char *desc, *why;	/* why: after '#'; NULL = none */
	size_t dlen, wlen;
	enum status status;
	enum kind kind;
};

/* ------------------------------------------------------------ memory */

/* p with room for need elements of size (capacity doubling from 16). */
static void *
grow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 16;

	if (need <= *cap)
		return p;
	while (c < need)
		c *= 2;
	if ((p = realloc(p, c * size)) == NULL)
		err(EXIT_QRUN, "realloc");
	*cap = c;
	return p;
}

/*
 * Copy a then b to the pool as one string: its offset is chunk << 16 |
 * the place in it. The pool grows by chunks, never moves (no copies, no
 * memory touched twice); NONE once it holds POOL_CHUNKS of them.
 */
static uint32_t
pool_add2(struct ktap *k, const char *a, size_t an, const char *b, size_t bn)
{
	size_t need = an + bn + 1;
	char *p;

	if (need > CHUNK)
		return NONE;
	if (k->nchunk == 0 || k->cused + need > CHUNK) {
		if (k->nchunk == POOL_CHUNKS)
			return NONE;
		k->chunk = grow(k->chunk, &k->capchunk, k->nchunk + 1,
		    sizeof(*k->chunk));
		k->chunk[k->nchunk++] = xmalloc(CHUNK);
		k->cused = 0;
	}
	p = k->chunk[k->nchunk - 1] + k->cused;
	memcpy(p, a, an);
	memcpy(p + an, b, bn);
	p[an + bn] = '\0';
	k->cused += need;
	return (uint32_t)((k->nchunk - 1) << CHUNK_BITS | (k->cused - need));
}

static uint32_t
pool_add(struct ktap *k, const char *s, size_t n)
{
	return s == NULL ? NONE : pool_add2(k, s, n, "", 0);
}

static const char *
pstr(const struct ktap *k, uint32_t off)
{
	return off == NONE ? NULL : k->chunk[off >> CHUNK_BITS] +
	    (off & (CHUNK - 1));
}

/* Drop whole lines from the front until half of DIAG_KEEP is left. */
static void
dbuf_halve(struct dbuf *d)
{
	size_t cut = 0;
	char *nl;

	while (d->len - cut > DIAG_KEEP / 2 &&
	    (nl = memchr(d->s + cut, '\n', d->len - cut)) != NULL) {
		cut = (size_t)(nl - d->s) + 1;
		d->dropped++;
	}
	memmove(d->s, d->s + cut, d->len - cut);
	d->len -= cut;
}

/* Append pad spaces, s[0..n) and a newline: the lines kept are the last
 * ones, those just before a failure. */
static void
dbuf_line(struct dbuf *d, int pad, const char *s, size_t n)
{
	size_t p = pad > 0 ? (size_t)pad : 0;

	if (p > 64)
		p = 64;
	if (n > DIAG_LINE)
		n = DIAG_LINE;
	if (d->len + p + n + 1 > DIAG_KEEP)
		dbuf_halve(d);
	if (d->len + p + n + 1 > d->cap)
		d->s = grow(d->s, &d->cap, d->len + p + n + 1, 1);
	if (p > 0)
		memset(d->s + d->len, ' ', p);
	memcpy(d->s + d->len + p, s, n);
	d->len += p + n;
	d->s[d->len++] = '\n';
}

static void
dbuf_clear(struct dbuf *d)
{
	d->len = 0;
	d->dropped = 0;
}

static void
rec_push(struct ktap *k, const struct rec *r)
{
	size_t b = k->nrec >> REC_BITS;

	if ((k->nrec & ((1u << REC_BITS) - 1)) == 0) {
		k->rb = grow(k->rb, &k->caprb, b + 1, sizeof(*k->rb));
		k->rb[b] = xmalloc(sizeof(**k->rb) << REC_BITS);
	}
	k->rb[b][k->nrec++ & ((1u << REC_BITS) - 1)] = *r;
}

static const struct rec *
rec_at(const struct ktap *k, size_t i)
{
	return &k->rb[i >> REC_BITS][i & ((1u << REC_BITS) - 1)];
}

/* ----------------------------------------------------------- lexing */

static int64_t
mark_us(const struct mark *a, const struct mark *b)
{
	if (a->us >= 0 && b->us >= a->us)
		return b->us - a->us;
	return b->ms >= a->ms ? (int64_t)(b->ms - a->ms) * 1000 : 0;
}

/* Microseconds to whole milliseconds (JUnit's resolution), at most
 * 49 days. */
static uint32_t
us_ms(int64_t us)
{
	int64_t ms = (us + 500) / 1000;

	return ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

static uint32_t
clamp32(long v)
{
	return v > (long)UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* Digits at *p into *v (at most 15 of them); false when none. */
static bool
digits(const char **p, long *v)
{
	const char *s = *p;
	long n = 0;

	while (*s >= '0' && *s <= '9' && s - *p < 15)
		n = n * 10 + (*s++ - '0');
	if (s == *p || (*s >= '0' && *s <= '9'))
		return false;
	*v = n;
	*p = s;
	return true;
}

/* Is c a digit (the test a compiler turns into one compare)? */
static inline bool
isdig(char c)
{
	return (unsigned char)(c - '0') < 10;
}

/* printk's own "[%5lu.%06lu]" (seconds below 100000), read without
 * loops: nearly every stamped line has it. -1 when line has not. The
 * checks run left to right, so a shorter line stops at its NUL. */
static int64_t
stamp_fixed(const char *l)
{
	int64_t sec = 0, us = 0;

	if (l[0] != '[')
		return -1;
	for (int i = 1; i <= 5; i++) {
		if (isdig(l[i]))
			sec = sec * 10 + (l[i] - '0');
		else if (l[i] != ' ' || sec != 0)
			return -1;
	}
	if (l[6] != '.' || !isdig(l[7]) || !isdig(l[8]) || !isdig(l[9]) ||
	    !isdig(l[10]) || !isdig(l[11]) || !isdig(l[12]) || l[13] != ']')
		return -1;
	us = (l[7] - '0') * 100000 + (l[8] - '0') * 10000 +
	    (l[9] - '0') * 1000 + (l[10] - '0') * 100 + (l[11] - '0') * 10 +
	    (l[12] - '0');
	return sec * 1000000 + us;
}

/* "[    1.234567]" and an optional "[  T123]": the guest's time in us
 * and the text after them (and one space), or line when no stamp. */
static const char *
strip_stamp(const char *line, int64_t *us)
{
	static const int32_t scale[] = { 1000000, 100000, 10000, 1000, 100,
	    10, 1 };
	const char *s = line + 1;
	long sec, frac = 0;
	int nd = 0;

	if ((*us = stamp_fixed(line)) >= 0)
		s = line + 14;
	else if (*line != '[')
		return line;
	else {
		while (*s == ' ')
			s++;
		if (!digits(&s, &sec) || sec > 999999999 || *s++ != '.')
			return line;
		for (; isdig(*s); s++)
			if (nd < 6)
				frac = frac * 10 + (*s - '0'), nd++;
		if (*s++ != ']')
			return line;
		*us = (int64_t)sec * 1000000 + (int64_t)frac * scale[nd];
	}
	if (*s == '[') {	/* CONFIG_PRINTK_CALLER: "[  T123]", "[ C1]" */
		const char *e = s + 1 + strspn(s + 1, " ");

		if (*e == 'T' || *e == 'C') {
			e += 1 + strspn(e + 1, "0123456789");
			if (*e == ']')
				s = e + 1;
		}
	}
	return *s == ' ' ? s + 1 : s;
}

static void
ln_split(struct ln *l, const char *line, int64_t *us)
{
	const char *s = strip_stamp(line, us);
	int col = 0;

	for (;; s++) {
		if (*s == ' ')
			col++;
		else if (*s == '\t')
			col += 8 - col % 8;
		else
			break;
	}
	l->indent = col;
	l->text = s;
	l->len = strlen(s);
	while (l->len > 0 && (s[l->len - 1] == '\r' || s[l->len - 1] == '\n' ||
	    s[l->len - 1] == ' '))
		l->len--;
}

/* Does text start with word w, followed by the end or a blank? Inline:
 * w is a literal, its length and the compare fold to a few loads (a
 * result line asks twice). */
static inline __attribute__((always_inline)) bool
word(const char *text, size_t len, const char *w)
{
	size_t n = strlen(w);

	return len >= n && memcmp(text, w, n) == 0 &&
	    (len == n || text[n] == ' ' || text[n] == '\t');
}

static const char *
skip_blank(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	return s;
}

/* "KTAP version N", "TAP version N". */
static bool
is_version(const struct ln *l)
{
	const char *s = l->text;
	long v;

	if (l->len >= 13 && memcmp(s, "KTAP version ", 13) == 0)
		s += 13;
	else if (l->len >= 12 && memcmp(s, "TAP version ", 12) == 0)
		s += 12;
	else
		return false;
	return digits(&s, &v) && (*s == '\0' || *s == ' ' || *s == '\r');
}

/* The directive after '#': SKIP (any case, "skipped" too), TODO, XFAIL. */
static enum status
directive(const char *why, size_t n, bool ok)
{
	if (why != NULL && n >= 4 && strncasecmp(why, "skip", 4) == 0)
		return ST_SKIP;
	if (why != NULL && ((n >= 4 && strncasecmp(why, "todo", 4) == 0 &&
	    (n == 4 || why[4] == ' ' || why[4] == ':')) ||
	    (n >= 5 && strncasecmp(why, "xfail", 5) == 0)))
		return ST_XFAIL;
	return ok ? ST_PASS : ST_FAIL;
}

/* "1..N [# reason]"; *skip when the reason is a SKIP, *why the reason. */
static bool
parse_plan(const struct ln *l, long *n, bool *skip, struct res *why)
{
	const char *s = l->text, *end = l->text + l->len;

	if (l->len < 4 || memcmp(s, "1..", 3) != 0)
		return false;
	s += 3;
	if (!digits(&s, n))
		return false;
	s = skip_blank(s, end);
	if (s < end && *s != '#')
		return false;
	s = s < end ? skip_blank(s + 1, end) : end;
	why->why = s;
	why->wlen = (size_t)(end - s);
	*skip = directive(s, why->wlen, true) == ST_SKIP;
	return true;
}

/* The first '#' after a blank (or at the start), not escaped "\#". */
static const char *
find_hash(const char *s, const char *end)
{
	for (const char *p = s; p < end; p++)
		if (*p == '#' && (p == s || p[-1] == ' ' || p[-1] == '\t'))
			return p;
	return NULL;
}

/* "ok|not ok [N] [- ]desc [# directive reason]". */
static bool
parse_result(const struct ln *l, struct res *r)
{
	const char *s = l->text, *end = l->text + l->len, *h;

	memset(r, 0, sizeof(*r));
	if (word(s, l->len, "ok"))
		r->ok = true, s += 2;
	else if (word(s, l->len, "not ok"))
		s += 6;
	else
		return false;
	s = skip_blank(s, end);
	if (s < end && *s >= '0' && *s <= '9' && !digits(&s, &r->num))
		return false;
	s = skip_blank(s, end);
	if (s < end && *s == '-' && (s + 1 == end || s[1] == ' '))
		s = skip_blank(s + 1, end);
	if ((h = find_hash(s, end)) != NULL) {
		r->why = skip_blank(h + 1, end);
		r->wlen = (size_t)(end - r->why);
		end = h;
	}
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	r->desc = s;
	r->dlen = (size_t)(end - s);
	r->status = directive(r->why, r->wlen, r->ok);
	return true;
}

/* "# Subtest: NAME" (TAP 14, KUnit); the name in *name. */
static bool
parse_subtest(const struct ln *l, const char **name, size_t *n)
{
	const char *s = l->text, *end = l->text + l->len;

	if (l->len < 9 || memcmp(s, "# Subtest", 9) != 0)
		return false;
	s += 9;
	if (s < end && *s == ':')
		s++;
	else if (s < end && *s != ' ')
		return false;
	*name = skip_blank(s, end);
	*n = (size_t)(end - *name);
	return true;
}

/* ----------------------------------------------------------- levels */

static void
count(struct ktap *k, enum status st, unsigned long n)
{
	if (st == ST_PASS)
		k->passed += n;
	else if (st == ST_FAIL)
		k->failed += n;
	else {
		k->skipped += n;
		if (st == ST_XFAIL)
			k->xfail += n;
	}
}

/* Open a level at indent; false when KTAP_DEPTH are open. */
static bool
level_open(struct ktap *k, int indent)
{
	struct suite s = { NONE, NONE, NONE, 0, 0, -1 };
	size_t old = k->caplv;
	struct level *lv, *up;

	if (k->depth == KTAP_DEPTH - 1)
		return false;
	k->lv = grow(k->lv, &k->caplv, (size_t)k->depth + 2, sizeof(*k->lv));
	memset(k->lv + old, 0, (k->caplv - old) * sizeof(*k->lv));
	up = k->depth >= 0 ? &k->lv[k->depth] : NULL;
	if (up != NULL) {
		s.parent = up->suite;
		s.depth = k->depth + 1;
		s.num = up->n + 1;
		s.top = s.depth == 1 ? (uint32_t)k->nsu : k->su[up->suite].top;
	}
	if (k->have_subtest && up != NULL)
		s.name = pool_add(k, k->subtest, strlen(k->subtest));
	k->have_subtest = false;
	k->su = grow(k->su, &k->capsu, k->nsu + 1, sizeof(*k->su));
	k->su[k->nsu] = s;
	lv = &k->lv[++k->depth];
	lv->indent = indent;
	lv->suite = (uint32_t)k->nsu++;
	lv->plan = -1;
	lv->plan_skip = false;
	lv->plan_why = NONE;
	lv->n = 0;
	lv->inorder = true;
	lv->failed0 = k->failed;
	lv->mark = k->now;
	dbuf_clear(&lv->diag);
	k->seen = true;
	return true;
}

/* The diagnostics of a failure into the pool. */
static uint32_t
diag_keep(struct ktap *k, const struct dbuf *d)
{
	char note[64];
	size_t n = 0;

	if (d->len == 0)
		return NONE;
	if (d->dropped)
		n = (size_t)snprintf(note, sizeof(note),
		    "[%lu earlier lines not kept]\n", d->dropped);
	return pool_add2(k, note, n, d->s, d->len - 1);
}

/* The plan's missing tests (status st: failed, or skipped under a
 * skipped suite) or one failure for too many; how many records. */
static int
level_plan_check(struct ktap *k, struct level *lv, enum status st)
{
	struct rec r = { NONE, NONE, NONE, lv->suite, NONE, 0, 0, 0,
	    (uint8_t)st, K_MISSING, false, true };

	if (lv->plan < 0 || lv->n == lv->plan)
		return 0;
	if (lv->n > lv->plan) {
		char why[80];

		snprintf(why, sizeof(why), "%ld tests for plan 1..%ld",
		    lv->n, lv->plan);
		r.why = pool_add(k, why, strlen(why));
		r.kind = K_OVER;
		r.status = ST_FAIL;
		r.count = 1;
		count(k, ST_FAIL, 1);
	} else {
		r.num = lv->inorder ? clamp32(lv->n + 1) : 0;
		r.count = clamp32(lv->plan - lv->n);
		r.ms = us_ms(mark_us(&lv->mark, &k->now));
		if (st == ST_FAIL)	/* the first one's, reached or not */
			r.diag = diag_keep(k, &lv->diag);
		count(k, st, (unsigned long)(lv->plan - lv->n));
		if (st == ST_FAIL)
			k->missing += (unsigned long)(lv->plan - lv->n);
	}
	if (r.status == ST_FAIL || (k->flags & KTAP_RECORD))
		rec_push(k, &r);
	return 1;
}

/* Keep the pending result (with its diagnostics when it failed). */
static void
finalize(struct ktap *k)
{
	struct rec *r = &k->pend;
	struct level *lv;

	if (!k->pending)
		return;
	lv = &k->lv[k->pend_level];
	k->pending = k->yaml = false;
	if (r->counted && (r->status == ST_FAIL || (k->flags & KTAP_RECORD))) {
		if (r->status == ST_FAIL)
			r->diag = diag_keep(k, &lv->diag);
		rec_push(k, r);
	}
	dbuf_clear(&lv->diag);
}

/* Strip a name to what is kept of it. */
static size_t
name_len(size_t n)
{
	return n < NAME_LEN - 1 ? n : NAME_LEN - 1;
}

/* The pending record for result r at the current level; child is the
 * level it closed (NONE), failed0 what k->failed was when that opened. */
static void
pend_fill(struct ktap *k, const struct res *r, uint32_t child,
    unsigned long failed0, bool is_suite)
{
	struct level *lv = &k->lv[k->depth];
	struct rec *p = &k->pend;
	uint32_t name = NONE;
	bool keep;
	long num;

	memset(p, 0, sizeof(*p));
	p->why = p->diag = NONE;
	p->suite = lv->suite;
	p->child = child;
	p->is_suite = is_suite;
	num = r->num ? r->num : lv->n + 1;
	lv->inorder = lv->inorder && num == lv->n + 1;
	lv->n++;
	p->num = clamp32(num);
	p->ms = us_ms(mark_us(&lv->mark, &k->now));
	lv->mark = k->now;
	p->status = (uint8_t)r->status;
	p->kind = (uint8_t)r->kind;
	p->counted = !is_suite ||
	    (r->status == ST_FAIL && k->failed == failed0);
	if (p->counted)
		count(k, r->status, 1);
	keep = p->counted && (r->status == ST_FAIL || (k->flags & KTAP_RECORD));
	if (r->dlen > 0 && (child != NONE || keep))
		name = pool_add(k, r->desc, name_len(r->dlen));
	if (child != NONE) {
		if (name != NONE)
			k->su[child].name = name;
		k->su[child].ms = p->ms;
		name = k->su[child].name;
	}
	p->name = name;
	if (r->why != NULL && keep)
		p->why = pool_add(k, r->why, name_len(r->wlen));
}

/*
 * A result at the current level; with_child, the level above it is its
 * subtest and closes first (its missing tests count as skipped under a
 * skipped suite). The result then waits in k->pend for a YAML block.
 */
static void
result_add(struct ktap *k, const struct res *r, bool with_child)
{
	unsigned long failed0 = k->failed;
	uint32_t child = NONE, name;
	bool is_suite = false;
	struct level *lv;

	if (with_child) {
		lv = &k->lv[k->depth];
		is_suite = level_plan_check(k, lv, r->status == ST_FAIL ||
		    r->status == ST_PASS ? ST_FAIL : ST_SKIP) > 0 || lv->n > 0;
		child = lv->suite;
		failed0 = lv->failed0;
		k->depth--;
	}
	pend_fill(k, r, child, failed0, is_suite);
	name = k->pend.name;
	if (r->dlen > 0) {
		memcpy(k->last, r->desc, name_len(r->dlen));
		k->last[name_len(r->dlen)] = '\0';
	} else if (name != NONE)
		snprintf(k->last, sizeof(k->last), "%s", pstr(k, name));
	else
		snprintf(k->last, sizeof(k->last), "test %lu",
		    (unsigned long)k->pend.num);
	k->pending = true;
	k->pend_level = k->depth;
	k->have_subtest = false;
}

/* The current level ends without its result line: a failed suite
 * "(not finished)" in its parent. */
static void
abandon(struct ktap *k)
{
	struct res r = { .status = ST_FAIL, .kind = K_CUT };

	finalize(k);
	result_add(k, &r, true);
	finalize(k);
}

/* Abandon the levels deeper than indent but the first of them, which a
 * result at indent closes; true when there is such a level. */
static bool
close_above(struct ktap *k, int indent)
{
	while (k->depth > 0 && k->lv[k->depth].indent > indent) {
		if (k->depth == 1 || k->lv[k->depth - 1].indent <= indent)
			return true;
		abandon(k);
	}
	return false;
}

/* The report ends: what is open is cut off, the top plan checked. */
static void
doc_end(struct ktap *k)
{
	struct level *lv = k->lv;
	struct rec r = { NONE, NONE, NONE, 0, NONE, 1, 1, 0, ST_SKIP,
	    K_PLANSKIP, false, true };

	finalize(k);
	while (k->depth > 0)
		abandon(k);
	if (k->depth < 0)
		return;
	if (lv->plan == 0 && lv->plan_skip && lv->n == 0) {
		r.suite = lv->suite;
		r.why = lv->plan_why;
		count(k, ST_SKIP, 1);
		if (k->flags & KTAP_RECORD)
			rec_push(k, &r);
	} else
		level_plan_check(k, lv, ST_FAIL);
	k->su[lv->suite].ms = us_ms(mark_us(&lv->mark, &k->now));
	dbuf_clear(&lv->diag);
	k->depth = -1;
}

/* ---------------------------------------------------------- lines */

static void
on_version(struct ktap *k, const struct ln *l)
{
	struct level *cur = k->depth >= 0 ? &k->lv[k->depth] : NULL;

	if (cur == NULL || l->indent > cur->indent) {
		level_open(k, l->indent);
		return;
	}
	if (l->indent == cur->indent && cur->n == 0 && cur->plan < 0)
		return;		/* this level's own version line */
	if (l->indent <= k->lv[0].indent) {
		doc_end(k);	/* a new report */
		level_open(k, l->indent);
		return;
	}
	while (k->depth > 0 && k->lv[k->depth].indent >= l->indent)
		abandon(k);
	level_open(k, l->indent);
}

static void
on_plan(struct ktap *k, const struct ln *l, long n, bool skip,
    const struct res *why)
{
	struct level *cur;

	if (k->depth < 0 || l->indent > k->lv[k->depth].indent) {
		if (!level_open(k, l->indent))
			return;
	} else {
		while (k->depth > 0 && k->lv[k->depth].indent > l->indent)
			abandon(k);
		if (k->lv[k->depth].plan >= 0) {
			if (k->depth > 0)
				return;
			doc_end(k);	/* a second plan: a new report */
			level_open(k, l->indent);
		}
	}
	cur = &k->lv[k->depth];
	cur->plan = n;
	cur->plan_skip = skip;
	if (skip && n == 0)
		cur->plan_why = pool_add(k, why->why, name_len(why->wlen));
}

static void
on_subtest(struct ktap *k, const struct ln *l, const char *name, size_t n)
{
	struct level *cur = &k->lv[k->depth];

	if (n == 0)
		return;		/* "# Subtest" alone names nothing */
	memcpy(k->subtest, name, name_len(n));
	k->subtest[name_len(n)] = '\0';
	k->have_subtest = true;
	if (l->indent > cur->indent)
		level_open(k, l->indent);
	else if (l->indent == cur->indent && k->depth > 0 && cur->n == 0 &&
	    k->su[cur->suite].name == NONE) {
		k->su[cur->suite].name = pool_add(k, name, name_len(n));
		k->have_subtest = false;
	}
}

static void
on_result(struct ktap *k, const struct ln *l, const struct res *r)
{
	bool with_child = false;

	if (l->indent > k->lv[k->depth].indent)
		level_open(k, l->indent);
	else
		with_child = close_above(k, l->indent);
	result_add(k, r, with_child);
}

static void
on_bail(struct ktap *k, const struct ln *l)
{
	const char *s = skip_blank(l->text + 9, l->text + l->len);

	k->bail_why = pool_add(k, s, name_len((size_t)(l->text + l->len - s)));
	doc_end(k);
	k->bailed = true;
}

/* The level a diagnostic line at this indentation belongs to; -1 when
 * the line is not one (a plain line outside a subtest's indentation). */
static int
diag_level(const struct ktap *k, const struct ln *l)
{
	int d = k->depth;

	if (d < 0 || l->len == 0)
		return -1;
	while (d > 0 && k->lv[d].indent > l->indent)
		d--;
	if (l->text[0] == '#')
		return d;
	return d > 0 && l->indent >= k->lv[d].indent ? d : -1;
}

static void
on_diag(struct ktap *k, const struct ln *l, int d)
{
	dbuf_line(&k->lv[d].diag, l->indent - k->lv[d].indent, l->text,
	    l->len);
}

/* "12.345" (ms) in us; -1 when not a number. */
static int64_t
parse_ms(const char *s, const char *end)
{
	int64_t us, scale = 100;
	long ms;

	s = skip_blank(s, end);
	if (!digits(&s, &ms))
		return -1;
	us = (int64_t)ms * 1000;
	if (s < end && *s == '.')
		for (s++; s < end && *s >= '0' && *s <= '9' && scale > 0; s++) {
			us += (*s - '0') * scale;
			scale /= 10;
		}
	return us;
}

/* A line of the YAML block after a result: kept with its diagnostics;
 * "duration_ms: N" is the test's time. */
static void
yaml_line(struct ktap *k, const struct ln *l)
{
	struct level *lv = &k->lv[k->pend_level];
	int64_t us;

	if (l->indent == k->yaml_indent && word(l->text, l->len, "...")) {
		finalize(k);
		return;
	}
	if (l->len > 12 && memcmp(l->text, "duration_ms:", 12) == 0 &&
	    (us = parse_ms(l->text + 12, l->text + l->len)) >= 0)
		k->pend.ms = us_ms(us);
	dbuf_line(&lv->diag, l->indent - k->yaml_indent, l->text, l->len);
}

enum cls { C_NOISE, C_VERSION, C_PLAN, C_RESULT, C_SUBTEST, C_BAIL,
	C_YAML, C_DIAG };

struct parsed {
	struct res r;
	long n;			/* plan */
	bool skip;		/* plan */
	const char *name;	/* subtest */
	size_t nlen;
	int level;		/* diagnostic */
};

/* What kind of line l is, parsed into p. Before a report starts only a
 * version or plan line counts. */
static enum cls
classify(const struct ktap *k, const struct ln *l, struct parsed *p)
{
	char c = l->len > 0 ? l->text[0] : '\0';

	if ((c == 'K' || c == 'T') && is_version(l))
		return C_VERSION;
	if (c == '1' && parse_plan(l, &p->n, &p->skip, &p->r))
		return C_PLAN;
	if (k->depth < 0)
		return C_NOISE;
	if ((c == 'o' || c == 'n') && parse_result(l, &p->r))
		return C_RESULT;
	if (c == '#' && parse_subtest(l, &p->name, &p->nlen))
		return C_SUBTEST;
	if (c == 'B' && l->len >= 9 && memcmp(l->text, "Bail out!", 9) == 0)
		return C_BAIL;
	if (c == '-' && k->pending && !k->yaml && word(l->text, l->len, "---")
	    && l->indent > k->lv[k->pend_level].indent)
		return C_YAML;
	p->level = diag_level(k, l);
	return p->level < 0 ? C_NOISE : C_DIAG;
}

static void
dispatch(struct ktap *k, const struct ln *l, enum cls c,
    const struct parsed *p)
{
	switch (c) {
	case C_VERSION:
		on_version(k, l);
		break;
	case C_PLAN:
		on_plan(k, l, p->n, p->skip, &p->r);
		break;
	case C_RESULT:
		on_result(k, l, &p->r);
		break;
	case C_SUBTEST:
		on_subtest(k, l, p->name, p->nlen);
		break;
	case C_BAIL:
		on_bail(k, l);
		break;
	case C_DIAG:
		on_diag(k, l, p->level);
		break;
	default:
		break;
	}
}

int
ktap_line(struct ktap *k, const char *line, long now_ms)
{
	struct parsed p;
	struct ln l;
	enum cls c;

	if (k->bailed || k->ended)
		return 0;
	ln_split(&l, line, &k->now.us);
	k->now.ms = now_ms;
	if (k->yaml && l.indent >= k->yaml_indent) {
		yaml_line(k, &l);
		return 0;
	}
	if ((c = classify(k, &l, &p)) == C_NOISE)
		return 0;
	if (c == C_YAML) {
		k->yaml = true;
		k->yaml_indent = l.indent;
		return 0;
	}
	finalize(k);
	dispatch(k, &l, c, &p);
	if (c == C_BAIL)
		return 1;
	return (c == C_RESULT || c == C_PLAN) && k->depth == 0 &&
	    k->lv[0].plan >= 0 && k->lv[0].n >= k->lv[0].plan;
}

/* ------------------------------------------------------------- API */

struct ktap *
ktap_alloc(unsigned flags)
{
	struct ktap *k = xcalloc(1, sizeof(*k));

	k->flags = flags;
	k->depth = -1;
	k->bail_why = NONE;
	k->now.us = -1;
	return k;
}

void
ktap_put(struct ktap *k)
{
	if (k == NULL)
		return;
	for (size_t i = 0; i < k->caplv; i++)
		free(k->lv[i].diag.s);
	free(k->lv);
	free(k->su);
	for (size_t i = 0; i < (k->nrec + (1u << REC_BITS) - 1) >> REC_BITS;
	    i++)
		free(k->rb[i]);
	free(k->rb);
	for (size_t i = 0; i < k->nchunk; i++)
		free(k->chunk[i]);
	free(k->chunk);
	free(k);
}

/* The path of suite id, "a.b", appended to buf (truncated). */
static void
path_cat(const struct ktap *k, uint32_t id, char *buf, size_t size,
    size_t *len)
{
	uint32_t up[KTAP_DEPTH];
	const struct suite *s;
	size_t n = 0;
	int w;

	if (*len == 0)
		buf[0] = '\0';
	for (; id != NONE && k->su[id].depth > 0 && n < KTAP_DEPTH;
	    id = k->su[id].parent)
		up[n++] = id;
	while (n > 0 && *len < size - 1) {
		s = &k->su[up[--n]];
		if (s->name != NONE)
			w = snprintf(buf + *len, size - *len, "%s%s",
			    *len ? "." : "", pstr(k, s->name));
		else
			w = snprintf(buf + *len, size - *len, "%stest %ld",
			    *len ? "." : "", s->num);
		*len += w > 0 ? (size_t)w : 0;
		if (*len >= size)
			*len = size - 1;
	}
}

const char *
ktap_last(struct ktap *k)
{
	const struct level *lv;
	size_t len = 0;

	if (k->ended)
		return k->last_path;
	k->last_path[0] = '\0';
	if (k->depth < 0)
		return k->last_path;
	lv = &k->lv[k->depth];
	path_cat(k, lv->suite, k->last_path, sizeof(k->last_path), &len);
	if (lv->n > 0)
		snprintf(k->last_path + len, sizeof(k->last_path) - len,
		    "%s%s", len ? "." : "", k->last);
	return k->last_path;
}

void
ktap_end(struct ktap *k, long now_ms)
{
	const struct level *top = k->lv;

	if (k->ended)
		return;
	if (k->now.us >= 0 && now_ms >= k->now.ms)	/* the guest's clock */
		k->now.us += (int64_t)(now_ms - k->now.ms) * 1000;
	k->now.ms = now_ms;
	finalize(k);
	if (k->depth >= 0) {
		k->cut = k->depth > 0 || (top->plan >= 0 && top->n < top->plan);
		if (k->cut)
			ktap_last(k);
		doc_end(k);
	}
	if (!k->cut)
		k->last_path[0] = '\0';
	k->ended = true;
}

void
ktap_counts(const struct ktap *k, struct ktap_counts *c)
{
	c->passed = k->passed;
	c->failed = k->failed;
	c->skipped = k->skipped;
	c->xfail = k->xfail;
	c->missing = k->missing;
	c->bailed = k->bailed;
	c->cut = k->cut;
	c->seen = k->seen;
}

int
ktap_exit(const struct ktap *k)
{
	if (k->failed > 0 || k->bailed ||
	    k->passed + k->failed + k->skipped == 0)
		return EXIT_GUEST;
	return EXIT_OK;
}

/* ---------------------------------------------------------- output */

/* The length of the valid UTF-8 sequence at p that XML 1.0 allows;
 * 0 when there is none. */
static size_t
utf8_len(const unsigned char *p, const unsigned char *end)
{
	uint32_t cp, min;
	size_t n;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f, min = 0x80;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f, min = 0x800;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07, min = 0x10000;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
	    cp == 0xfffe || cp == 0xffff)
		return 0;
	return n;
}

/* s as XML 1.0 character data (attr: an attribute value): markup
 * escaped, control characters XML cannot carry written "\xNN", bytes
 * that are not UTF-8 as U+FFFD. */
static void
xml_put(FILE *f, const char *s, bool attr)
{
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *end = p + strlen(s);
	size_t u;

	for (; p < end; p++) {
		if (*p >= 0x80) {
			if ((u = utf8_len(p, end)) == 0)
				fputs("\xef\xbf\xbd", f);
			else
				fwrite(p, 1, u, f), p += u - 1;
		} else if (*p == '&')
			fputs("&amp;", f);
		else if (*p == '<')
			fputs("&lt;", f);
		else if (*p == '>')
			fputs("&gt;", f);
		else if (*p == '"' && attr)
			fputs("&quot;", f);
		else if (*p == '\r' || ((*p == '\n' || *p == '\t') && attr))
			fprintf(f, "&#%d;", *p);
		else if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
}

/* Missing tests first..first+n-1 (first 0: not known which). */
static void
missing_label(char *buf, size_t size, unsigned long first, unsigned long n)
{
	if (first == 0)
		snprintf(buf, size, "%lu test%s (not run)", n,
		    n > 1 ? "s" : "");
	else if (n == 1)
		snprintf(buf, size, "test %lu (not run)", first);
	else
		snprintf(buf, size, "tests %lu..%lu (not run)", first,
		    first + n - 1);
}

/* JUnit: the i-th testcase of a missing record (rec_cases of them). */
static void
missing_case(char *buf, size_t size, const struct rec *r, long i)
{
	unsigned long rest = r->count - MISSING_CASES, j = (unsigned long)i;

	if (j == MISSING_CASES && r->num != 0)
		missing_label(buf, size, r->num + j, rest);
	else if (j == MISSING_CASES)
		snprintf(buf, size, "%lu more tests (not run)", rest);
	else if (r->num != 0)
		missing_label(buf, size, r->num + j, 1);
	else
		snprintf(buf, size, "missing test %lu of %lu (not run)", j + 1,
		    (unsigned long)r->count);
}

/* The name of a record as the report and JUnit show it. */
static void
rec_label(const struct ktap *k, const struct rec *r, char *buf, size_t size)
{
	if (r->kind == K_MISSING)
		missing_label(buf, size, r->num, r->count);
	else if (r->kind == K_OVER)
		snprintf(buf, size, "%s", r->why != NONE ? pstr(k, r->why) :
		    "more tests than planned");
	else if (r->kind == K_PLANSKIP)
		snprintf(buf, size, "all tests");
	else if (r->name != NONE)
		snprintf(buf, size, "%s", pstr(k, r->name));
	else
		snprintf(buf, size, "test %lu", (unsigned long)r->num);
}

/* One failure, "FAIL suite.case # why", and its diagnostic lines. */
static void
fail_put(const struct ktap *k, FILE *f, const struct rec *r)
{
	char path[2 * NAME_LEN], label[NAME_LEN + 64];
	bool leaf = r->kind == K_RESULT || r->kind == K_CUT;
	const char *d, *nl;
	size_t len = 0;

	path_cat(k, r->suite, path, sizeof(path), &len);
	rec_label(k, r, label, sizeof(label));
	fprintf(f, "FAIL %s%s%s", path, len ? (leaf ? "." : ": ") : "", label);
	if (r->kind == K_RESULT && r->why != NONE)
		fprintf(f, " # %s", pstr(k, r->why));
	if (r->kind == K_CUT)
		fputs(" (not finished)", f);
	fputc('\n', f);
	for (d = pstr(k, r->diag); d != NULL; d = *nl ? nl + 1 : NULL) {
		nl = strchrnul(d, '\n');
		fprintf(f, "    %.*s\n", (int)(nl - d), d);
	}
}

int
ktap_report(const struct ktap *k, FILE *f)
{
	for (size_t i = 0; i < k->nrec; i++)
		if (rec_at(k, i)->status == ST_FAIL)
			fail_put(k, f, rec_at(k, i));
	if (k->bailed)
		fprintf(f, "Bail out!%s%s\n", k->bail_why != NONE &&
		    *pstr(k, k->bail_why) ? " " : "",
		    k->bail_why != NONE ? pstr(k, k->bail_why) : "");
	if (k->cut && k->last_path[0])
		fprintf(f, "report cut short; last test reached: %s\n",
		    k->last_path);
	else if (k->cut)
		fputs("report cut short before the first result\n", f);
	else if (!k->seen)
		fputs("no KTAP or TAP report on the console\n", f);
	else if (k->passed + k->failed + k->skipped == 0)
		fputs("no test results\n", f);
	fprintf(f, "%lu passed, %lu failed, %lu skipped\n", k->passed,
	    k->failed, k->skipped);
	return ferror(f) ? -EIO : 0;
}

/* ----------------------------------------------------------- JUnit */

/* A JUnit testsuite: one per top-level KTAP suite, and one (the last)
 * for the results at the top level that are not suites. */
struct group {
	unsigned long tests, failures, skipped;
	int64_t ms;
	size_t n, at;		/* its records: idx[at .. at+n) */
};

static uint32_t
rec_group(const struct ktap *k, const struct rec *r)
{
	const struct suite *s = &k->su[r->suite];

	if (s->depth >= 1)
		return s->top;
	if (r->is_suite)
		return r->child;
	return (uint32_t)k->nsu;
}

/* How many testcases a record is: missing tests one by one, up to
 * MISSING_CASES, the rest as one. */
static unsigned long
rec_cases(const struct rec *r)
{
	if (r->kind != K_MISSING)
		return 1;
	return r->count <= MISSING_CASES ? (unsigned long)r->count :
	    MISSING_CASES + 1;
}

/* Sum the groups and sort the records into them (stably); idx is
 * k->nrec long, g k->nsu + 1. */
static void
group_fill(const struct ktap *k, struct group *g, uint32_t *idx)
{
	size_t ng = k->nsu + 1, at = 0;

	for (size_t i = 0; i < k->nrec; i++) {
		const struct rec *r = rec_at(k, i);
		struct group *x = &g[rec_group(k, r)];
		unsigned long n = rec_cases(r);

		x->n++;
		x->tests += n;
		x->failures += r->status == ST_FAIL ? n : 0;
		x->skipped += r->status == ST_SKIP ||
		    r->status == ST_XFAIL ? n : 0;
		x->ms += r->ms;
	}
	for (size_t i = 0; i < ng; i++) {
		g[i].at = at;
		at += g[i].n;
		g[i].n = 0;
		if (i < k->nsu && k->su[i].ms >= 0)
			g[i].ms = k->su[i].ms;
	}
	for (size_t i = 0; i < k->nrec; i++) {
		struct group *x = &g[rec_group(k, rec_at(k, i))];

		idx[x->at + x->n++] = (uint32_t)i;
	}
}

static void
time_put(FILE *f, int64_t ms)
{
	fprintf(f, "%" PRId64 ".%03" PRId64, ms / 1000, ms % 1000);
}

/* The <failure> or <skipped> element of a record, if any. */
static void
outcome_put(const struct ktap *k, FILE *f, const struct rec *r, bool diag)
{
	const char *msg = r->why != NONE && r->kind != K_OVER ?
	    pstr(k, r->why) : r->kind == K_MISSING ? "not run" :
	    r->kind == K_CUT ? "not finished" : r->kind == K_OVER ?
	    "more tests than planned" : "not ok";

	if (r->status == ST_FAIL) {
		fputs(">\n      <failure message=\"", f);
		xml_put(f, msg, true);
		fputs("\">", f);
		if (diag && r->diag != NONE)
			xml_put(f, pstr(k, r->diag), false);
		fputs("</failure>\n    </testcase>\n", f);
	} else if (r->status != ST_PASS) {
		fputs(">\n      <skipped message=\"", f);
		xml_put(f, msg, true);
		fputs("\"/>\n    </testcase>\n", f);
	} else
		fputs("/>\n", f);
}

/* The testcases of one record: classname the suite path (the caller's
 * name at the top level), name the test's. */
static void
case_put(const struct ktap *k, FILE *f, const struct rec *r,
    const char *top)
{
	char cls[2 * NAME_LEN], label[NAME_LEN + 64];
	const struct suite *s = &k->su[r->suite];
	long n = (long)rec_cases(r);
	size_t len = 0;

	if (s->depth >= 1 || r->is_suite)
		path_cat(k, s->depth >= 1 ? r->suite : r->child, cls,
		    sizeof(cls), &len);
	else
		snprintf(cls, sizeof(cls), "%s", top);
	for (long i = 0; i < n; i++) {
		if (r->kind == K_MISSING)
			missing_case(label, sizeof(label), r, i);
		else
			rec_label(k, r, label, sizeof(label));
		fputs("    <testcase classname=\"", f);
		xml_put(f, cls, true);
		fputs("\" name=\"", f);
		xml_put(f, label, true);
		fputs("\" time=\"", f);
		time_put(f, i == 0 ? r->ms : 0);
		fputc('"', f);
		outcome_put(k, f, r, i == 0);
	}
}

static void
group_open(FILE *f, const char *tag, const char *name, const struct group *g)
{
	fprintf(f, "<%s name=\"", tag);
	xml_put(f, name, true);
	fprintf(f, "\" tests=\"%lu\" failures=\"%lu\" errors=\"0\" "
	    "skipped=\"%lu\" time=\"", g->tests, g->failures, g->skipped);
	time_put(f, g->ms);
	fputs("\">\n", f);
}

int
ktap_junit(const struct ktap *k, FILE *f, const char *name)
{
	char gname[2 * NAME_LEN];
	struct group *g, all = { 0, 0, 0, 0, 0, 0 };
	uint32_t *idx;

	if (!(k->flags & KTAP_RECORD))
		return -EINVAL;
	g = xcalloc(k->nsu + 1, sizeof(*g));
	idx = xcalloc(k->nrec, sizeof(*idx));
	group_fill(k, g, idx);
	for (size_t i = 0; i <= k->nsu; i++) {
		all.tests += g[i].tests;
		all.failures += g[i].failures;
		all.skipped += g[i].skipped;
		all.ms += g[i].n ? g[i].ms : 0;
	}
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	group_open(f, "testsuites", name, &all);
	for (size_t i = 0; i <= k->nsu; i++) {
		size_t len = 0;

		if (g[i].n == 0)
			continue;
		if (i < k->nsu)
			path_cat(k, (uint32_t)i, gname, sizeof(gname), &len);
		fputs("  ", f);
		group_open(f, "testsuite", i < k->nsu ? gname : name, &g[i]);
		for (size_t j = g[i].at; j < g[i].at + g[i].n; j++)
			case_put(k, f, rec_at(k, idx[j]), name);
		fputs("  </testsuite>\n", f);
	}
	fputs("</testsuites>\n", f);
	free(g);
	free(idx);
	return ferror(f) ? -EIO : 0;
}
