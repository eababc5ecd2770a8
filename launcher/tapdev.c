/*
 * tapdev.c - the developer's tap, shared by every mode that has one on
 * the host (local tap, bridge port): may an existing interface serve,
 * make a new one for the developer, change it through the journal, and
 * QEMU's -netdev for it. Errors come back as -errno with one sentence in
 * why (no "qrun: ").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qrun.h"

#define WHY(...) snprintf(why, whylen, __VA_ARGS__)

/* An existing interface may serve as the developer's tap? */
int
tapdev_check(const struct net_link *l, const struct priv *pv, bool local,
    char *why, size_t whylen)
{
	if (!l->is_tap) {
		WHY("%s: exists and is not a tap (%s)", l->name,
		    l->kind[0] ? l->kind : "no kind");
		return -EEXIST;
	}
	if (l->owner >= 0 && (uid_t)l->owner != pv->uid) {
		WHY("%s: owned by uid %ld, not you", l->name, l->owner);
		return -EPERM;
	}
	if (l->owner < 0 && !pv->root) {
		WHY("%s: has no owner; only root may use it", l->name);
		return -EPERM;
	}
	if (local && l->master != 0) {
		WHY("%s: is a bridge port; local mode needs a tap of its own "
		    "(use -n bridge, or another tap)", l->name);
		return -EBUSY;
	}
	return 0;
}

/* What an admin runs to give the developer the tap qrun may not make. */
static void
admin_hint(const struct nic *nic, const struct priv *pv, const char *what,
    char *why, size_t whylen)
{
	char a[IPADDR_STRLEN];

	if (nic->host.family)
		WHY("%s: %s; ask an admin to run: sudo qrun tap create %s "
		    "--owner %s --addr %s", nic->tap, what, nic->tap, pv->user,
		    ipaddr_cidr(&nic->host, a));
	else
		WHY("%s: %s; ask an admin to run: sudo qrun tap create %s "
		    "--owner %s", nic->tap, what, nic->tap, pv->user);
}

/*
 * Create nic->tap for the developer (journaled with its ifindex); the
 * new link in *l; returns its open queue for QEMU, or -errno.
 */
int
tapdev_create(const struct host *h, const struct nic *nic,
    struct net_link *l, char *why, size_t whylen)
{
	int fd = change_tap_create(h->j, h->net, nic->tap, h->pv->uid,
	    (gid_t)-1, !nic->plain_frames, l);

	if (fd < 0 && journal_write_failed(h->j))
		WHY("%s: cannot write the journal: %s", nic->tap,
		    strerror(-fd));
	else if (fd == -EPERM || fd == -EACCES)
		admin_hint(nic, h->pv, "no such tap", why, whylen);
	else if (fd < 0)
		WHY("%s: cannot create: %s", nic->tap, strerror(-fd));
	return fd;
}

/* One journaled change of the tap; "TAP: cannot WHAT: ERROR" in why,
 * and for a missing right to address it, the admin command. */
int
tapdev_change(const struct host *h, const struct nic *nic,
    const struct jrec *rec, char *why, size_t whylen)
{
	int r = change_apply(h->j, h->net, rec);

	if (r == 0)
		return 0;
	if ((r == -EPERM || r == -EACCES) && rec->kind == J_ADDR_ADD &&
	    !journal_write_failed(h->j))
		admin_hint(nic, h->pv, "has no address and you may not add "
		    "one", why, whylen);
	else
		change_why(h->j, rec, r, why, whylen);
	return r;
}

/* QEMU's -netdev for a tap: its open queue, or (dry run) by name. */
char *
tapdev_netdev(const struct nic *nic, int fd)
{
	if (fd >= 0)
		return xasprintf("tap,id=n%d,fd=%d", nic->index, fd);
	return xasprintf("tap,id=n%d,ifname=%s,script=no,downscript=no",
	    nic->index, nic->tap);
}
