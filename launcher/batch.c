/*
 * batch.c - batch supervision, a participant of the loop: --expect and
 * --fail against every console line (the line being written too, so a
 * prompt without a newline matches), the --timeout deadline, and for the
 * report of a failure the line that explains it (explain.c) and the last
 * console lines. Prints nothing; keeps a bounded number of lines.
 */
#include <poll.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "qrun.h"

#define LINGER_QUIET_MS	300
#define LINGER_MAX_MS	2000

/* Once --fail matched, the tail stops when the matching line is the
 * oldest one it keeps. */
static bool
frozen(const struct batch *b)
{
	return b->freeze_at != 0 && b->nlines >= b->freeze_at;
}

static void
tail_add(struct batch *b, const char *line)
{
	if (frozen(b))
		return;
	b->nlines++;
	free(b->tail[b->tail_pos]);
	b->tail[b->tail_pos] = xstrdup(line);
	b->tail_pos = (b->tail_pos + 1) % BATCH_TAIL;
}

static int
batch_line(void *arg, const char *line, bool partial)
{
	struct batch *b = arg;
	int ev = 0;

	if (b->lingering)
		b->quiet_at = mono_ms() + LINGER_QUIET_MS;
	if (!b->failed && b->fail && regexec(b->fail, line, 0, NULL, 0) == 0) {
		b->failed = true;
		b->freeze_at = b->nlines + BATCH_TAIL;
		ev = LOOP_FAILED;
	} else if (!b->failed && b->expect &&
	    regexec(b->expect, line, 0, NULL, 0) == 0)
		ev = LOOP_MATCHED;
	free(b->partial);
	b->partial = partial ? xstrdup(line) : NULL;
	if (!partial) {
		explain_line(&b->explain, line);
		tail_add(b, line);
	}
	return ev;
}

/* The next moment the event hook has something to decide, or -1. */
static long
batch_due(const struct batch *b)
{
	if (b->lingering)
		return b->quiet_at < b->linger_end ? b->quiet_at :
		    b->linger_end;
	return b->deadline_ms;
}

static int
batch_prepare(void *arg, struct pollfd *pfd)
{
	const struct batch *b = arg;
	long due = batch_due(b), now = mono_ms();

	(void)pfd;
	if (b->lingering && frozen(b))
		return 0;
	if (due < 0)
		return -1;
	return due <= now ? 0 : (int)(due - now);
}

static int
batch_event(void *arg, const struct pollfd *pfd)
{
	const struct batch *b = arg;
	long due = batch_due(b);

	(void)pfd;
	if (b->lingering && (frozen(b) || mono_ms() >= due))
		return LOOP_QUIET;
	if (!b->lingering && due >= 0 && mono_ms() >= due)
		return LOOP_TIMEOUT;
	return 0;
}

void
batch_init(struct batch *b, const regex_t *expect, const regex_t *fail,
    long deadline_ms)
{
	memset(b, 0, sizeof(*b));
	b->expect = expect;
	b->fail = fail;
	b->deadline_ms = deadline_ms;
	b->part.prepare = batch_prepare;
	b->part.event = batch_event;
	b->part.line = batch_line;
	b->part.arg = b;
}

void
batch_free(struct batch *b)
{
	if (b->part.loop)
		loop_del(b->part.loop, &b->part);
	for (int i = 0; i < BATCH_TAIL; i++) {
		free(b->tail[i]);
		b->tail[i] = NULL;
	}
	free(b->partial);
	b->partial = NULL;
	explain_free(&b->explain);
}

/*
 * After --fail matched: the console keeps coming until it is quiet for
 * LINGER_QUIET_MS, LINGER_MAX_MS passed or the matching line is the
 * oldest the tail keeps, so the report shows the whole failure (a panic's
 * reason and the start of its trace), not the line cut where the pattern
 * first matched. Nothing decides meanwhile.
 */
void
batch_linger(struct batch *b)
{
	long now = mono_ms();

	b->lingering = true;
	b->failed = true;
	b->linger_end = now + LINGER_MAX_MS;
	b->quiet_at = now + LINGER_QUIET_MS;
}

void
batch_tail(const struct batch *b, struct strv *out)
{
	for (int i = 0; i < BATCH_TAIL; i++) {
		const char *l = b->tail[(b->tail_pos + i) % BATCH_TAIL];

		if (l != NULL)
			strv_push(out, l);
	}
	if (b->partial != NULL && !frozen(b))	/* being written */
		strv_push(out, b->partial);
}

/*
 * Whole lines are numbered from 0 as they come; the tail keeps the ones
 * numbered [nlines - kept, nlines) (nlines stops where --fail froze it),
 * so a line of the explaining block is shown unless it is among those.
 */
unsigned long
batch_explain(const struct batch *b, struct strv *out)
{
	struct strv block = { 0 };
	unsigned long first, at, kept = b->nlines < BATCH_TAIL ? b->nlines :
	    BATCH_TAIL, from = b->nlines - kept;

	if (!explain_block(&b->explain, &first, &at, &block) ||
	    (at >= from && at < b->nlines)) {
		strv_free(&block);
		return 0;
	}
	for (size_t i = 0; i < block.n; i++)
		if (first + i < from || first + i >= b->nlines)
			strv_push(out, block.v[i]);
	strv_free(&block);
	return at + 1;
}

bool
batch_heard(const struct batch *b)
{
	return b->nlines > 0 || b->partial != NULL;
}
