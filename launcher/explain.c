/*
 * explain.c - which console line explains a failed run: the first line
 * that carries a sign of trouble from the table below, with the lines
 * just before it (what the guest was doing) and just after it (a panic's
 * reason, the start of a trace). A failure is often explained far above
 * where it ends: a distro initrd that does not fit in memory says
 * "Initramfs unpacking failed: write error" twenty lines before the
 * kernel panics for want of a root file system. Pure: fed whole console
 * lines, it keeps at most EXPLAIN_BEFORE + 1 + EXPLAIN_AFTER of them,
 * however long the console runs.
 */
#include <stdlib.h>
#include <string.h>

#include "qrun.h"

/*
 * Signs of trouble, matched as they are written (case matters), in any
 * part of a line. Only words that a healthy boot never prints: "error"
 * or "fail" alone would take a guest's harmless complaints (Linux's "fail
 * to add MMCONFIG information" on QEMU's i440FX) for the cause.
 * qrun(1), FAILURE REPORT, lists them.
 */
static const char *const signs[] = {
	/* Linux: the kernel gives up, or reports a bug */
	"Kernel panic", "BUG:", "kernel BUG at", "Oops", "general protection",
	"Call Trace:", "WARNING: CPU:", "UBSAN:", "detected stall",
	"blocked for more than", "Out of memory:", "segfault at",
	/* Linux: no root file system, no init */
	"Initramfs unpacking failed", "VFS: Cannot open root device",
	"Unable to mount root fs", "No working init found",
	"Failed to execute", "Attempted to kill init",
	/* initramfs-tools, dracut, systemd */
	"Gave up waiting", "ALERT!", "Could not boot", "emergency mode",
	"Failed to start",
	/* the firmware */
	"No bootable device", "Boot failed",
};

const char *
explain_match(const char *line)
{
	for (size_t i = 0; i < ARRAY_SIZE(signs); i++)
		if (strstr(line, signs[i]) != NULL)
			return signs[i];
	return NULL;
}

/* The first sign: the lines before it (the ring, oldest first) and the
 * line itself start the block. */
static void
found(struct explain *e, const char *line)
{
	size_t before = e->seen < EXPLAIN_BEFORE ? e->seen : EXPLAIN_BEFORE;

	for (size_t i = 0; i < before; i++) {
		size_t k = (e->seen - before + i) % EXPLAIN_BEFORE;

		e->block[e->n++] = e->ring[k];
		e->ring[k] = NULL;
	}
	e->block[e->n++] = xstrdup(line);
	e->first = e->seen - before;
	e->at = e->seen;
	e->found = true;
}

void
explain_line(struct explain *e, const char *line)
{
	size_t k = e->seen % EXPLAIN_BEFORE;

	if (e->found) {
		if (e->n < EXPLAIN_LINES && e->seen - e->at <= EXPLAIN_AFTER)
			e->block[e->n++] = xstrdup(line);
	} else if (explain_match(line) != NULL)
		found(e, line);
	else {
		free(e->ring[k]);
		e->ring[k] = xstrdup(line);
	}
	e->seen++;
}

bool
explain_block(const struct explain *e, unsigned long *first,
    unsigned long *at, struct strv *out)
{
	if (!e->found)
		return false;
	for (size_t i = 0; i < e->n; i++)
		strv_push(out, e->block[i]);
	*first = e->first;
	*at = e->at;
	return true;
}

void
explain_free(struct explain *e)
{
	for (size_t i = 0; i < EXPLAIN_BEFORE; i++)
		free(e->ring[i]);
	for (size_t i = 0; i < e->n; i++)
		free(e->block[i]);
	memset(e, 0, sizeof(*e));
}
