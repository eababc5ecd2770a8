/*
 * netem.c - net.netem, a link impairment in tc-netem(8)'s words:
 *     delay TIME [JITTER]   loss PERCENT   duplicate PERCENT
 *     reorder PERCENT       rate RATE
 * ("delay 20ms 5ms loss 1% rate 10mbit"). Pure: text in, struct netem
 * out, with one sentence on what is wrong; tc.c turns the struct into
 * qdiscs. Units are tc's: us, ms, s (usec, msec, sec, and plurals) for
 * times; bit, kbit, mbit, gbit (and kibit, mibit, gibit) or bps, kbps,
 * mbps, gbps (bytes) for rates.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "qrun.h"

#define WHY(...) snprintf(why, whylen, __VA_ARGS__)

#define NETEM_TIME_MAX	60.0		/* seconds */
#define NETEM_RATE_MAX	4294967295.0	/* bytes/s: netem's u32 rate */

struct unit {
	const char *name;
	double factor;
};

/* To microseconds. */
static const struct unit times[] = {
	{ "us", 1 }, { "usec", 1 }, { "usecs", 1 },
	{ "ms", 1e3 }, { "msec", 1e3 }, { "msecs", 1e3 },
	{ "s", 1e6 }, { "sec", 1e6 }, { "secs", 1e6 },
};

/* To bytes per second. */
static const struct unit rates[] = {
	{ "bit", 1.0 / 8 }, { "kbit", 1e3 / 8 }, { "mbit", 1e6 / 8 },
	{ "gbit", 1e9 / 8 }, { "kibit", 1024.0 / 8 },
	{ "mibit", 1048576.0 / 8 }, { "gibit", 1073741824.0 / 8 },
	{ "bps", 1 }, { "kbps", 1e3 }, { "mbps", 1e6 }, { "gbps", 1e9 },
};

/* A number followed by one of units (case-insensitive); -1 when the
 * word is not one. */
static double
num_unit(const char *w, const struct unit *u, size_t nu)
{
	char *end;
	double v;

	if (!isdigit((unsigned char)w[0]))
		return -1;
	v = strtod(w, &end);
	if (end == w || !isfinite(v))
		return -1;
	for (size_t i = 0; i < nu; i++)
		if (strcasecmp(end, u[i].name) == 0)
			return v * u[i].factor;
	return -1;
}

/* A time, to microseconds; -1 when not one, -2 when too long. */
static long
time_us(const char *w)
{
	double us = num_unit(w, times, ARRAY_SIZE(times));

	if (us < 0)
		return -1;
	if (us > NETEM_TIME_MAX * 1e6)
		return -2;
	return (long)(us + 0.5);
}

/* "PERCENT%" as netem's probability (UINT32_MAX = 100%); -1 when not
 * one, -2 when above 100%. */
static long long
percent(const char *w)
{
	size_t len = strlen(w);
	char *end;
	double p;

	if (len < 2 || w[len - 1] != '%' || !isdigit((unsigned char)w[0]))
		return -1;
	p = strtod(w, &end);
	if (end != w + len - 1 || !isfinite(p))
		return -1;
	if (p > 100)
		return -2;
	return (long long)(p / 100 * UINT32_MAX + 0.5);
}

/* One "loss|duplicate|reorder PERCENT" into *p. */
static int
take_percent(const char *word, const char *arg, uint32_t *p, char *why,
    size_t whylen)
{
	long long v = arg ? percent(arg) : -1;

	if (v == -2) {
		WHY("%s %s: at most 100%%", word, arg);
		return -EINVAL;
	}
	if (v < 0) {
		WHY("%s: expected a percentage, like %s 1%%", word, word);
		return -EINVAL;
	}
	*p = (uint32_t)v;
	return 0;
}

/* "delay TIME [JITTER]": returns how many words it took, or -EINVAL. */
static int
take_delay(char **w, size_t n, struct netem *ne, char *why, size_t whylen)
{
	long d = n > 1 ? time_us(w[1]) : -1, j;

	if (d == -2 || (n > 2 && time_us(w[2]) == -2)) {
		WHY("delay: at most %.0fs", NETEM_TIME_MAX);
		return -EINVAL;
	}
	if (d < 0) {
		WHY("delay: expected a time, like delay 20ms (us, ms, s)");
		return -EINVAL;
	}
	ne->delay_us = (uint32_t)d;
	if (n > 2 && (j = time_us(w[2])) >= 0) {
		ne->jitter_us = (uint32_t)j;
		return 3;
	}
	return 2;
}

/* "rate RATE". */
static int
take_rate(const char *arg, struct netem *ne, char *why, size_t whylen)
{
	double r = arg ? num_unit(arg, rates, ARRAY_SIZE(rates)) : -1;

	if (r < 0) {
		WHY("rate: expected a rate, like rate 10mbit (bit, kbit, "
		    "mbit, gbit; bps for bytes)");
		return -EINVAL;
	}
	if (r < 1 || r > NETEM_RATE_MAX) {
		WHY("rate %s: must be between 8bit and 34gbit", arg);
		return -EINVAL;
	}
	ne->rate = (uint32_t)(r + 0.5);
	return 0;
}

/* The word at w[0] and what follows; returns the words taken. */
static int
take_word(char **w, size_t n, struct netem *ne, unsigned *seen, char *why,
    size_t whylen)
{
	static const char *const words[] = { "delay", "loss", "duplicate",
	    "reorder", "rate" };
	const char *arg = n > 1 ? w[1] : NULL;
	size_t k;
	int r;

	for (k = 0; k < ARRAY_SIZE(words) && strcmp(w[0], words[k]); k++)
		;
	if (k == ARRAY_SIZE(words)) {
		WHY("unknown word \"%s\" (delay, loss, duplicate, reorder, "
		    "rate)", w[0]);
		return -EINVAL;
	}
	if (*seen & (1u << k)) {
		WHY("%s given twice", words[k]);
		return -EINVAL;
	}
	*seen |= 1u << k;
	switch (k) {
	case 0: return take_delay(w, n, ne, why, whylen);
	case 1: r = take_percent(w[0], arg, &ne->loss, why, whylen); break;
	case 2: r = take_percent(w[0], arg, &ne->duplicate, why, whylen);
		break;
	case 3: r = take_percent(w[0], arg, &ne->reorder, why, whylen); break;
	default: r = take_rate(arg, ne, why, whylen); break;
	}
	return r < 0 ? r : 2;
}

/*
 * Parse spec (words separated by blanks) into *ne. An empty spec is no
 * impairment (ne->on false). 0, or -EINVAL with one sentence in why.
 */
int
netem_parse(const char *spec, struct netem *ne, char *why, size_t whylen)
{
	char *copy = xstrdup(spec), *save = NULL, *w[32];
	unsigned seen = 0;
	size_t n = 0, i = 0;
	int r = 0;

	memset(ne, 0, sizeof(*ne));
	for (char *t = strtok_r(copy, " \t", &save); t && r == 0;
	    t = strtok_r(NULL, " \t", &save)) {
		if (n == ARRAY_SIZE(w)) {
			WHY("too many words");
			r = -EINVAL;
		} else
			w[n++] = t;
	}
	while (r == 0 && i < n) {
		if ((r = take_word(w + i, n - i, ne, &seen, why, whylen)) < 0)
			break;
		i += (size_t)r;
		r = 0;
	}
	if (r == 0 && ne->reorder && ne->delay_us == 0) {
		WHY("reorder needs a delay (reordered packets are the ones "
		    "sent at once, the rest are delayed)");
		r = -EINVAL;
	}
	ne->on = r == 0 && n > 0;
	free(copy);
	return r;
}
