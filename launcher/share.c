/*
 * share.c - host objects several runs use at once: a developer's switch,
 * the NAT table, a sysctl switched on for them. The first run that needs
 * one makes it, the last one that stops needing it unmakes it, and a run
 * killed with SIGKILL counts as having stopped.
 *
 * Per resource NAME, in the state dir, for this network namespace:
 *   NAME@INO.lock   a guard, flock'ed exclusively while a run makes or
 *                   unmakes the resource or decides whether it is last;
 *   NAME@INO.share  flock'ed shared by every run that holds it (the kernel
 *                   drops a dead run's lock, so the count cannot lie);
 *   share-NAME@INO.journal  what making it changed, journaled as a run's
 *                   changes are; the last holder undoes it.
 * A run journals "hold NAME" in its own journal before it takes a hold;
 * undoing that record (at the run's end, or by whoever replays a dead
 * run) unmakes the resource when no run holds it any more.
 */
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "qrun.h"

/* flock, retried on EINTR. */
static int
lock(int fd, int op)
{
	while (flock(fd, op) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

/* Unmake name if no run holds it: undo and remove its shared journal.
 * The guard is held. 1 when unmade, 0 when held, -errno. */
static int
unmake_locked(int dfd, const char *name, struct net *net, bool root)
{
	int hold, r;

	if ((hold = lock_file(dfd, name, "share")) < 0)
		return hold;
	r = flock(hold, LOCK_EX | LOCK_NB) == 0 ?
	    journal_undo_shared(dfd, name, net, root) : 0;
	close(hold);
	return r;
}

/*
 * The undo of a "hold NAME" record: when nobody holds name any more,
 * unmake it. Idempotent. 1 when unmade, 0 when still held, -errno.
 */
int
share_unmake(int dfd, const char *name, struct net *net, bool root)
{
	int guard, r;

	if ((guard = lock_file(dfd, name, "lock")) < 0)
		return guard;
	if ((r = lock(guard, LOCK_EX)) == 0)
		r = unmake_locked(dfd, name, net, root);
	close(guard);
	return r;
}

/*
 * Hold the shared resource name. Blocks while another run makes or
 * unmakes it. *first: nobody held it; what runs that died left of it is
 * undone, and the caller makes it anew, journaling into sh->j, and then
 * calls share_ready() (as everyone does). The caller has journaled
 * "hold NAME" first.
 */
int
share_take(int dfd, const char *name, struct net *net, struct share *sh,
    bool *first)
{
	int r;

	memset(sh, 0, sizeof(*sh));
	sh->guard = sh->hold = -1;
	snprintf(sh->name, sizeof(sh->name), "%s", name);
	if ((sh->guard = r = lock_file(dfd, name, "lock")) < 0 ||
	    (r = lock(sh->guard, LOCK_EX)) < 0 ||
	    (sh->hold = r = lock_file(dfd, name, "share")) < 0)
		goto fail;
	*first = flock(sh->hold, LOCK_EX | LOCK_NB) == 0;
	if (*first && ((r = journal_undo_shared(dfd, name, net,
	    geteuid() == 0)) < 0 ||
	    (r = journal_open_shared(dfd, name, &sh->j)) < 0))
		goto fail;
	if ((r = lock(sh->hold, LOCK_SH)) < 0)
		goto fail;
	return 0;
fail:
	share_ready(sh);
	share_drop(sh);
	return r;
}

/* Made (or joined): let the next run in. */
void
share_ready(struct share *sh)
{
	journal_detach(sh->j);
	sh->j = NULL;
	if (sh->guard >= 0)
		close(sh->guard);
	sh->guard = -1;
}

/* Stop holding it (before the run's undo decides whether it was last). */
void
share_drop(struct share *sh)
{
	if (sh->hold >= 0)
		close(sh->hold);
	sh->hold = -1;
}
