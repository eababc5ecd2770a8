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

/* What an admin runs to give the developer the tap qrun may not make:
 * with the planned addresses, "--addr 172.21.0.1/16,fd00:172:21::1/64". */
static void
admin_hint(const struct nic *nic, const struct priv *pv, const char *what,
    char *why, size_t whylen)
{
	char a[IPADDR_STRLEN], a6[IPADDR_STRLEN + 1] = "";

	if (nic->host6.family) {
		a6[0] = ',';
		ipaddr_cidr(&nic->host6, a6 + 1);
	}
	if (nic->host.family)
		WHY("%s: %s; ask an admin to run: sudo qrun tap create %s "
		    "--owner %s --addr %s%s", nic->tap, what, nic->tap,
		    pv->user, ipaddr_cidr(&nic->host, a), a6);
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
	    (gid_t)-1, (nic->plain_frames ? 0 : TAP_VNET_HDR) |
	    (nic->queues > 1 ? TAP_MULTI_QUEUE : 0), l);

	if (fd < 0 && journal_write_failed(h->j))
		WHY("%s: cannot write the journal: %s", nic->tap,
		    strerror(-fd));
	else if (fd == -EPERM || fd == -EACCES)
		admin_hint(nic, h->pv, "no such tap", why, whylen);
	else if (fd < 0)
		WHY("%s: cannot create: %s", nic->tap, strerror(-fd));
	return fd;
}

/* The end of a mode's ensure: the tap's first queue in *fd, opened now
 * unless it was made (and opened) by this run. 0 or -errno with why. */
int
tapdev_open(const struct nic *nic, const struct net_link *l, int *fd,
    char *why, size_t whylen)
{
	if (*fd < 0 && (*fd = net_tap_open(l, nic->plain_frames)) < 0) {
		WHY("%s: cannot open: %s", nic->tap, strerror(-*fd));
		return *fd;
	}
	return 0;
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
	    !journal_write_failed(h->j)) {
		char a[IPADDR_STRLEN], what[96];

		snprintf(what, sizeof(what), "has no %s and you may not add "
		    "it", ipaddr_cidr(&rec->addr, a));
		admin_hint(nic, h->pv, what, why, whylen);
	}
	else
		change_why(h->j, rec, r, why, whylen);
	return r;
}

/* "3:4:5", malloc'd. */
static char *
fd_list(const int *fd, int n)
{
	char *s = xasprintf("%d", fd[0]), *t;

	for (int i = 1; i < n; i++) {
		t = s;
		s = xasprintf("%s:%d", t, fd[i]);
		free(t);
	}
	return s;
}

/*
 * QEMU's -netdev for a tap: its open queues (fd=, or fds= for a
 * multiqueue tap) and, with vhost, a /dev/vhost-net per queue (vhostfd=,
 * vhostfds=); or (dry run, f NULL) by name, with queues= and vhost=on,
 * for QEMU to open them itself.
 */
char *
tapdev_netdev(const struct nic *nic, const struct nicfds *f)
{
	char *tf, *vf, *s;
	bool mq = nic->queues > 1;

	if (f == NULL || f->tap[0] < 0) {
		tf = mq ? xasprintf(",queues=%d", nic->queues) : xstrdup("");
		s = xasprintf("tap,id=n%d,ifname=%s,script=no,downscript=no"
		    "%s%s", nic->index, nic->tap, tf, nic->vhost_on ?
		    ",vhost=on" : "");
		free(tf);
		return s;
	}
	tf = fd_list(f->tap, nic->queues);
	if (nic->vhost_on) {
		vf = fd_list(f->vhost, nic->queues);
		s = xasprintf("tap,id=n%d,fd%s=%s,vhost=on,vhostfd%s=%s",
		    nic->index, mq ? "s" : "", tf, mq ? "s" : "", vf);
		free(vf);
	} else
		s = xasprintf("tap,id=n%d,fd%s=%s", nic->index, mq ? "s" : "",
		    tf);
	free(tf);
	return s;
}

/* Before any change: an existing tap gives more than one queue only when
 * it is a multiqueue tap (a tap qrun makes is one when net.queues > 1). */
int
tapdev_queues_check(struct net *n, const struct nic *nic, char *why,
    size_t whylen)
{
	struct net_link l;

	if (nic->queues <= 1 || net_link_get(n, nic->tap, &l) < 0 ||
	    !l.is_tap || l.multi_queue)
		return 0;
	WHY("%s: is not a multiqueue tap, and net.queues is %d; delete it "
	    "(qrun tap delete %s) for qrun to make one, or set net.queues = 1",
	    nic->tap, nic->queues, nic->tap);
	return -EINVAL;
}

/* The queues after the first (which ensure opened) of a multiqueue tap. */
int
tapdev_queues(struct net *n, const struct nic *nic, struct nicfds *f,
    char *why, size_t whylen)
{
	struct net_link l;
	int r;

	if (nic->queues <= 1)
		return 0;
	if ((r = net_link_get(n, nic->tap, &l)) < 0) {
		WHY("%s: cannot look up: %s", nic->tap, strerror(-r));
		return r;
	}
	for (int q = 1; q < nic->queues; q++)
		if ((f->tap[q] = net_tap_open(&l, nic->plain_frames)) < 0) {
			r = f->tap[q];
			f->tap[q] = -1;
			WHY("%s: cannot open queue %d: %s", nic->tap, q + 1,
			    strerror(-r));
			return r;
		}
	return 0;
}
