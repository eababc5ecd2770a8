/*
 * results.c - the guest's test results in a batch run (--ktap, --junit):
 * ktap.c as a participant of the loop, fed every whole console line once
 * (the loop's partial lines are skipped: each is sent again once whole),
 * and at the end the report, the JUnit file and the exit status.
 *
 * The JUnit file is opened with the developer's rights before the guest
 * boots (a directory they may not write fails the run before anything
 * changed) and written when the run ends, however it ends. A report that
 * is complete (its top-level plan met, or a bail out) ends the run:
 * LOOP_REPORT, and QEMU is stopped. Nothing here prints but to the
 * FILE * given.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "qrun.h"

/* mono_ms() at the kernel's tick: read per line, as cheap as a load
 * (a result's time is kept in ms, and the guest's stamps come first). */
static long
tick_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int
results_line(void *arg, const char *line, bool partial)
{
	struct results *r = arg;

	if (partial || r->done)
		return 0;
	if (ktap_line(r->k, line, tick_ms()) == 1) {
		r->done = true;
		return LOOP_REPORT;
	}
	return 0;
}

int
results_open(struct results *r, const struct config *c,
    const struct priv *pv, char *why, size_t whylen)
{
	bool junit = c->test_junit[0] != '\0';

	memset(r, 0, sizeof(*r));
	r->part.line = results_line;
	r->part.arg = r;
	if (!c->test_ktap && !junit)
		return 0;
	if (junit && access_as_user(pv, true) == 0) {
		r->made = access(c->test_junit, F_OK) < 0 && errno == ENOENT;
		access_as_user(pv, false);
	}
	if (junit &&
	    (r->junit = access_user_fopen(pv, c->test_junit, "we")) == NULL) {
		int e = errno;

		snprintf(why, whylen, "--junit %s: %s", c->test_junit,
		    strerror(e));
		return -e;
	}
	r->pv = pv;
	r->k = ktap_alloc(junit ? KTAP_RECORD : 0);
	r->path = c->test_junit;
	return 0;
}

struct loop_part *
results_part(struct results *r)
{
	return r->k ? &r->part : NULL;
}

int
results_finish(struct results *r, FILE *out, const char *name, char *why,
    size_t whylen)
{
	struct ktap_counts n;
	int rc;

	why[0] = '\0';
	ktap_end(r->k, mono_ms());
	ktap_counts(r->k, &n);
	if (!n.seen)
		fprintf(out, "no KTAP or TAP report on the console\n");
	ktap_report(r->k, out);
	fflush(out);
	rc = ktap_exit(r->k);
	if (r->junit == NULL)
		return rc;
	if (ktap_junit(r->k, r->junit, name) < 0 || fflush(r->junit) != 0 ||
	    ferror(r->junit)) {
		snprintf(why, whylen, "--junit %s: %s", r->path,
		    strerror(errno ? errno : EIO));
		rc = EXIT_QRUN;
	}
	fclose(r->junit);
	r->junit = NULL;
	return rc;
}

void
results_free(struct results *r)
{
	if (r->part.loop)
		loop_del(r->part.loop, &r->part);
	if (r->junit)		/* the guest never ran: no report */
		fclose(r->junit);
	if (r->junit && r->made && access_as_user(r->pv, true) == 0) {
		unlink(r->path);
		access_as_user(r->pv, false);
	}
	r->junit = NULL;
	if (r->k)
		ktap_put(r->k);
	r->k = NULL;
}
