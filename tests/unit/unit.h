/* Shared by the unit tests. */
#ifndef UNIT_H
#define UNIT_H
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

/* Prototypes of every suite function (build/suites.h). */
#define SUITE(name) Suite *name##_suite(void);
#include "suites.h"
#undef SUITE

/* Tests a suite could not run here; the suite says why on stderr. */
extern int unit_skipped;
#define UNIT_SKIP(n, ...) do { \
	fprintf(stderr, "SKIP: " __VA_ARGS__); fputc('\n', stderr); \
	unit_skipped += (n); } while (0)

/* child.c: fn(state_dir) in a child that first unshares flags, with a
 * fresh private state dir removed afterwards; in it, unit_die (die)
 * reports a failed check at line and ends the child. */
void unit_in_child(void (*fn)(const char *), int flags);
void unit_die(int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 2, 3)));
/* Can a child unshare these namespaces (for a mount namespace: and mount
 * a tmpfs), and with tun, then open /dev/net/tun? */
bool unit_can_unshare(int flags, bool tun);
/* A checked fixture's private network namespace: entered, *nl opened in
 * it and (state not NULL) a fresh temp dir made into state; and left:
 * *nl closed (the namespace goes with it), back where it came from, the
 * temp dir removed. */
struct net;
void unit_netns_enter(struct net **nl, char *state, size_t len);
void unit_netns_leave(struct net **nl, const char *state);

#ifndef SRCDIR
#define SRCDIR "."
#endif
#endif
