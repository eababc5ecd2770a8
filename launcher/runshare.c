/*
 * runshare.c - one run's shared directories (qemu.share, --share): each
 * checked as the developer before anything changes, a virtiofsd started
 * per virtiofs share once the run's journal exists (virtiofsd.c, through
 * helper.c: journaled, stopped by the undo), QEMU's ends of their sockets
 * inherited by QEMU, the virtiofsds supervised in the run's loop and
 * stopped after QEMU. A virtiofsd that a killed run left is stopped by
 * the next run that shares a directory (the dead runs' journals are
 * replayed first) or by qrun cleanup. Nothing here prints.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qrun.h"

#define WHY(...) snprintf(why, whylen, __VA_ARGS__)

void
runshare_init(struct runshare *rs)
{
	memset(rs, 0, sizeof(*rs));
	for (size_t i = 0; i < SHARE_MAX; i++)
		rs->fds[i] = -1;
}

int
runshare_check(struct runshare *rs, const struct config *c,
    const struct priv *pv, char *why, size_t whylen)
{
	struct strv diags = { 0 };
	int r;

	if ((r = hostdirs_make(&c->qemu_share, &rs->dirs, &diags)) < 0) {
		WHY("qemu.share: %s", diags.n ? diags.v[0] : "invalid");
		strv_free(&diags);
		return r;
	}
	for (size_t i = 0; i < rs->dirs.n; i++)
		if ((r = virtiofsd_check(&rs->dirs.d[i], pv, why,
		    whylen)) < 0)
			return r;
	return 0;
}

/* Replay the journals of dead runs: what they started is stopped. */
static void
replay_dead(struct runnet *rn)
{
	struct replay_report rep;

	if (rn->net == NULL && access_net_open(rn->priv, &rn->net) < 0)
		return;
	if (journal_cleanup(rn->state, rn->net, true, &rep) == 0) {
		rn->replayed.undone += rep.undone;
		rn->replayed.dropped += rep.dropped;
	}
}

int
runshare_up(struct runshare *rs, struct runnet *rn, int *keep, size_t max,
    size_t *n, char *why, size_t whylen)
{
	int r;

	if (!hostdirs_virtiofs(&rs->dirs))
		return 0;
	replay_dead(rn);
	for (size_t i = 0; i < rs->dirs.n; i++) {
		if (rs->dirs.d[i].fs != HOSTDIR_VIRTIOFS)
			continue;
		if (*n >= max) {
			WHY("share %s: too many files for QEMU",
			    rs->dirs.d[i].path);
			return -EMFILE;
		}
		r = virtiofsd_start(&rs->vfs[i], &rs->dirs.d[i], rn->priv,
		    rn->journal, why, whylen);
		if (r < 0)
			return r;
		rs->made |= 1u << i;
		rs->fds[i] = rs->vfs[i].qemu_fd;
		keep[(*n)++] = rs->fds[i];
	}
	return 0;
}

void
runshare_spawned(struct runshare *rs)
{
	for (size_t i = 0; i < rs->dirs.n; i++)
		if ((rs->made & (1u << i)) && rs->vfs[i].qemu_fd >= 0) {
			close(rs->vfs[i].qemu_fd);
			rs->vfs[i].qemu_fd = -1;
		}
}

void
runshare_watch(struct runshare *rs, struct loop *l)
{
	for (size_t i = 0; i < rs->dirs.n; i++)
		if (rs->made & (1u << i))
			loop_add(l, helper_part(&rs->vfs[i].h));
}

int
runshare_gone(struct runshare *rs, char *why, size_t whylen)
{
	int d;

	for (size_t i = 0; i < rs->dirs.n; i++)
		if ((rs->made & ~rs->dead & (1u << i)) &&
		    (d = virtiofsd_died(&rs->vfs[i], why, whylen)) != 0) {
			rs->dead |= 1u << i;
			if (rs->vfs[i].h.part.loop)
				loop_del(rs->vfs[i].h.part.loop,
				    &rs->vfs[i].h.part);
			return d;
		}
	return 0;
}

void
runshare_down(struct runshare *rs)
{
	for (size_t i = 0; i < rs->dirs.n; i++) {
		if (rs->made & (1u << i))
			virtiofsd_stop(&rs->vfs[i]);
		rs->fds[i] = -1;
	}
	rs->made = rs->dead = 0;
}
