/*
 * runnet.c - one run's hold on the host network, shared by a boot and the
 * shell so both take the same checked path: the host facts that finish
 * the plan, then the access list, the journal with the run's metadata,
 * for each NIC with a host tap its lock (replaying its last holder if
 * that run died) and its mode's ensure step, which leaves the tap's
 * queue open for QEMU; net.nat's shared table and forwarding (held
 * through share.c) and the run's own chains (nat.c); net.dhcp's dnsmasq
 * per tap (dnsmasq.c), supervised in the run's loop; and the undo.
 * Nothing here prints: errors come back as -errno with one sentence in
 * why.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qrun.h"

#define WHY(...) snprintf(why, whylen, __VA_ARGS__)

/*
 * net.dhcp on NIC i: can this qrun start dnsmasq? When it cannot and
 * neither net.dhcp nor net.dns was set, they are off (the note says
 * why: a developer without privileges still boots with ip=); when one
 * was set, that is an error.
 */
static int
dhcp_facts(struct nic *nic, const struct priv *pv, char *why,
    size_t whylen)
{
	char reason[256];

	if (!(nic->dhcp || nic->sw_dhcp) ||
	    dnsmasq_usable(pv, reason, sizeof(reason)) == 0)
		return 0;
	if (nic->dhcp_asked) {
		WHY("%s: net.dhcp: %s", nic->sw >= 0 ? nic->bridge : nic->tap,
		    reason);
		return -EPERM;
	}
	nic->dhcp = nic->sw_dhcp = nic->dns = false;
	snprintf(nic->dhcp_off, sizeof(nic->dhcp_off), "%s", reason);
	return 0;
}

int
runnet_facts(struct netplan *p, const struct priv *pv, char *why,
    size_t whylen)
{
	struct net *n = NULL;
	int r = 0;

	(void)pv;	/* reading needs no privilege */
	for (size_t i = 0; i < p->n && r == 0; i++) {
		if (p->nic[i].mode->facts == NULL)
			continue;
		if (n == NULL && (r = net_open(&n)) < 0) {
			WHY("netlink: %s", strerror(-r));
			break;
		}
		r = p->nic[i].mode->facts(n, &p->nic[i], why, whylen);
	}
	net_close(n);
	for (size_t i = 0; i < p->n && r == 0; i++)
		r = dhcp_facts(&p->nic[i], pv, why, whylen);
	return r;
}

void
runnet_init(struct runnet *rn, const struct netplan *plan,
    const struct priv *pv)
{
	memset(rn, 0, sizeof(*rn));
	rn->plan = plan;
	rn->priv = pv;
	for (size_t i = 0; i < NIC_MAX; i++) {
		rn->lock_fd[i] = -1;
		rn->claim[i].lock_fd = -1;
		rn->claim[i].slot.lock_fd = rn->claim[i].slot.semid = -1;
		rn->nicshare[i].guard = rn->nicshare[i].hold = -1;
		for (size_t q = 0; q < QUEUE_MAX; q++)
			rn->fds[i].tap[q] = rn->fds[i].vhost[q] = -1;
	}
}

/* Run metadata for "qrun status", kept in the journal. */
static void
runnet_info(struct runnet *rn, const char *image)
{
	const struct nic *nic = netplan_main(rn->plan);
	char b[IPADDR_STRLEN], *abs;
	struct journal *j = rn->journal;

	journal_info(j, "mode", "%s", nic ? nic->mode->name : "none");
	if (nic && nic->mode->host_tap)
		journal_info(j, "tap", "%s", nic->tap);
	if (nic && nic->bridge[0])
		journal_info(j, "bridge", "%s", nic->bridge);
	if (nic && nic->sw >= 0) {
		journal_info(j, "switch", "%s", nic->bridge);
		journal_info(j, "slot", "%d", nic->slot);
	}
	if (nic && nic->host.family)
		journal_info(j, "host", "%s", ipaddr_cidr(&nic->host, b));
	if (nic && nic->guest.family)
		journal_info(j, "guest", "%s", ipaddr_str(&nic->guest, b));
	if (nic && nic->host6.family)
		journal_info(j, "host6", "%s", ipaddr_cidr(&nic->host6, b));
	if (nic && nic->guest6.family)
		journal_info(j, "guest6", "%s", ipaddr_str(&nic->guest6, b));
	if (nic)
		journal_info(j, "mac", "%s", mac_str(nic->mac, b));
	for (size_t i = 0; nic && nic->mode->slirp && i < nic->nfwd; i++) {
		if (strcmp(nic->fwd[i].proto, "tcp") != 0)
			continue;
		snprintf(b, sizeof(b), "port-%u", nic->fwd[i].guest_port);
		journal_info(j, b, "%u", nic->fwd[i].host_port);
	}
	abs = realpath(image, NULL);
	journal_info(j, "image", "%s", abs ? abs : image);
	free(abs);
}

/* net.netem on NIC i's tap (as ensure left it), journaled. */
static int
nic_impair(struct runnet *rn, size_t i, const struct netem *ne, char *why,
    size_t whylen)
{
	const struct nic *nic = &rn->plan->nic[i];
	struct net_link tap;
	int r;

	if ((r = net_link_get(rn->net, nic->tap, &tap)) < 0) {
		WHY("%s: cannot look up: %s", nic->tap, strerror(-r));
		return r;
	}
	return impair_up(rn->net, rn->journal, &tap, ne, &rn->ifb[i], why,
	    whylen);
}

int
runnet_claim(struct runnet *rn, struct netplan *plan, bool dry, char *why,
    size_t whylen)
{
	struct claim *cl;
	int r = 0;

	if (rn->state == NULL)
		rn->state = priv_state_dir(rn->priv);
	for (size_t i = 0; i < plan->n && r == 0; i++) {
		if (plan->nic[i].mode->claim == NULL)
			continue;
		cl = &rn->claim[i];
		cl->state = rn->state;
		cl->pv = rn->priv;
		cl->dry = dry;
		r = plan->nic[i].mode->claim(cl, &plan->nic[i], why, whylen);
	}
	return r;
}

/* Lock NIC i's tap (a switch's claim holds its slot's already): *fd the
 * lock, *prev its last holder. */
static int
nic_lock(struct runnet *rn, size_t i, pid_t *prev, int *fd, char *why,
    size_t whylen)
{
	const struct nic *nic = &rn->plan->nic[i];
	const struct claim *cl = &rn->claim[i];
	pid_t holder = 0;
	int r;

	if (cl->slot.k != 0 || cl->lock_fd >= 0) {	/* the claim's */
		*prev = cl->prev;
		*fd = cl->slot.k != 0 ? cl->slot.lock_fd : cl->lock_fd;
		return 0;
	}
	r = lock_take(rn->state, nic->tap, &rn->lock_fd[i], &holder, prev);
	*fd = rn->lock_fd[i];
	if (r == -EBUSY)
		WHY("%s: in use by qrun pid %ld", nic->tap, (long)holder);
	else if (r < 0)
		WHY("%s: cannot lock: %s", nic->tap, strerror(-r));
	return r;
}

/* Lock NIC i's tap, replay its last holder if that run died, make the
 * host side true. */
static int
nic_up(struct runnet *rn, size_t i, char *why, size_t whylen)
{
	const struct nic *nic = &rn->plan->nic[i];
	struct host h = { rn->net, rn->journal, rn->priv, &rn->nicshare[i] };
	struct replay_report rep;
	pid_t prev = 0;
	int r, fd;

	if ((r = nic_lock(rn, i, &prev, &fd, why, whylen)) < 0)
		return r;
	if (journal_replay(rn->state, prev, rn->net, &rep) > 0) {
		rn->replayed.undone += rep.undone;
		rn->replayed.dropped += rep.dropped;
	}
	if ((r = lock_claim(fd)) < 0) {
		WHY("%s: cannot lock: %s", nic->tap, strerror(-r));
		return r;
	}
	if ((r = tapdev_queues_check(rn->net, nic, why, whylen)) < 0 ||
	    (r = nic->mode->ensure(&h, nic, &rn->fds[i].tap[0], why,
	    whylen)) < 0 ||
	    (r = tapdev_queues(rn->net, nic, &rn->fds[i], why, whylen)) < 0)
		return r;
	return nic->netem.on ? nic_impair(rn, i, &nic->netem, why, whylen) :
	    0;
}

/* May the developer use every NIC's tap and bridge (access list)? */
static int
runnet_access(const struct runnet *rn, char *why, size_t whylen)
{
	const struct nic *nic;
	int r;

	for (size_t i = 0; i < rn->plan->n; i++) {
		nic = &rn->plan->nic[i];
		if (nic->mode->host_tap && (r = access_check(rn->priv,
		    nic->tap, nic->bridge[0] ? nic->bridge : NULL, why,
		    whylen)) < 0)
			return r;
	}
	return 0;
}

/*
 * net.nat, before anything changes: granted (netcap), a default route to
 * send the guests' traffic out, libnftables there, and for netcap
 * forwarding on already (it never switches the host's routing itself).
 */
static int
nat_check(const struct runnet *rn, const struct nic *nic, char *why,
    size_t whylen)
{
	int fam[2] = { AF_INET, AF_INET6 }, r, on, out = 0;

	if (!rn->priv->root && !rn->priv->netcap) {
		WHY("%s: net.nat needs privileges: run qrun through sudo, or "
		    "installed with cap_net_admin (make install CAPS=1)",
		    nic->tap);
		return -EPERM;
	}
	if ((r = access_nat_check(rn->priv, nic->tap, why, whylen)) < 0)
		return r;
	for (int i = 0; i < (nic->host6.family ? 2 : 1); i++) {
		if ((r = net_route_default(rn->net, fam[i])) < 0) {
			WHY("%s: cannot read routes: %s", nic->tap,
			    strerror(-r));
			return r;
		}
		out |= r;
		if (rn->priv->netcap && (nat_forwarding_get(fam[i], &on) < 0 ||
		    !on)) {
			WHY("%s: net.nat: %s forwarding is off, and qrun with "
			    "a file capability does not switch it on; ask an "
			    "admin to, or run qrun through sudo", nic->tap,
			    i ? "IPv6" : "IPv4");
			return -EPERM;
		}
	}
	if (!out) {
		WHY("%s: net.nat: no default route in this network namespace: "
		    "the guest's traffic would have nowhere to go", nic->tap);
		return -ENETUNREACH;
	}
	if ((r = nat_open()) < 0)
		WHY("%s: net.nat: cannot load libnftables.so.1 (Debian "
		    "package libnftables1)", nic->tap);
	return r;
}

/* Making a shared resource of net.nat, into its own journal. */
typedef int share_make_fn(struct runnet *, struct journal *, int family);

/*
 * The table, journaled even when it is there already: runs of another
 * state dir (another user's capability-enabled qrun, root's) hold it
 * with counts of their own, and whichever of them is last removes it,
 * once no chain of anyone's is left in it.
 */
static int
make_table(struct runnet *rn, struct journal *j, int family)
{
	struct jrec rec = { .kind = J_NAT_TABLE };
	int r = change_apply(j, rn->net, &rec);

	(void)family;
	return r == -EEXIST ? journal_write(j, &rec) : r;
}

/* Forwarding on, if it is off (the old value journaled). */
static int
make_forwarding(struct runnet *rn, struct journal *j, int family)
{
	struct jrec rec = { .kind = J_FORWARDING, .family = family,
	    .val = { 0, 1 }, .text = family == AF_INET6 ? "IPv6" : "IPv4" };
	int r, on;

	if ((r = nat_forwarding_get(family, &on)) < 0 || on)
		return r;
	if (rn->priv->netcap)	/* switched off since nat_check */
		return -EPERM;
	return change_apply(j, rn->net, &rec);
}

/* Hold shared resource name (journaled first), making it when first. */
static int
share_hold(struct runnet *rn, const char *name, share_make_fn *make,
    int family, char *why, size_t whylen)
{
	struct share *sh = &rn->share[rn->nshare];
	struct jrec rec = { .kind = J_HOLD, .text = name };
	bool first;
	int r;

	if ((r = change_hold(rn->journal, name)) < 0) {
		change_why(rn->journal, &rec, r, why, whylen);
		return r;
	}
	r = share_take(journal_dfd(rn->journal), name, rn->net, sh, &first);
	if (r < 0) {
		WHY("%s: cannot hold: %s", name, strerror(-r));
		return r;
	}
	rn->nshare++;
	if (first && (r = make(rn, sh->j, family)) < 0)
		WHY("net.nat: cannot make %s: %s", name, strerror(-r));
	share_ready(sh);
	return r;
}

/* A run's NAT for one NIC: its chains for each of the guest's networks. */
static int
nat_nic(struct runnet *rn, const struct nic *nic, char *why, size_t whylen)
{
	const struct ipaddr *nets[2] = { &nic->host, &nic->host6 };
	struct jrec rec = { .kind = J_NAT };
	struct net_link l;
	int r;

	if ((r = net_link_get(rn->net, nic->tap, &l)) < 0) {
		WHY("%s: cannot look up: %s", nic->tap, strerror(-r));
		return r;
	}
	snprintf(rec.l[0].name, sizeof(rec.l[0].name), "%s", l.name);
	rec.l[0].ifindex = l.ifindex;
	for (int i = 0; i < 2; i++) {
		if (nets[i]->family == 0)
			continue;
		rec.addr = ipaddr_net(nets[i]);
		if ((r = change_apply(rn->journal, rn->net, &rec)) < 0) {
			change_why(rn->journal, &rec, r, why, whylen);
			return r;
		}
	}
	return 0;
}

/*
 * net.nat for every NIC that asks: the shared table and forwarding
 * (held: the last run unmakes them), then the run's own chains. Dead
 * runs of this state dir are undone first, whatever tap they had: their
 * chains would keep forwarding on after the last of us.
 */
static int
runnet_nat(struct runnet *rn, char *why, size_t whylen)
{
	struct replay_report rep;
	bool v4 = false, v6 = false;
	int r = 0;

	for (size_t i = 0; i < rn->plan->n; i++) {
		v4 |= rn->plan->nic[i].nat;
		v6 |= rn->plan->nic[i].nat && rn->plan->nic[i].host6.family;
	}
	if (!v4)
		return 0;
	if (journal_cleanup(rn->state, rn->net, true, &rep) == 0) {
		rn->replayed.undone += rep.undone;
		rn->replayed.dropped += rep.dropped;
	}
	if ((r = share_hold(rn, "nat", make_table, 0, why, whylen)) < 0 ||
	    (r = share_hold(rn, "fwd4", make_forwarding, AF_INET, why,
	    whylen)) < 0 || (v6 && (r = share_hold(rn, "fwd6",
	    make_forwarding, AF_INET6, why, whylen)) < 0))
		return r;
	for (size_t i = 0; i < rn->plan->n && r == 0; i++)
		if (rn->plan->nic[i].nat)
			r = nat_nic(rn, &rn->plan->nic[i], why, whylen);
	return r;
}

/* net.dhcp: NIC i's dnsmasq, its guest's static lease and names. */
static int
nic_dhcp(struct runnet *rn, size_t i, char *why, size_t whylen)
{
	const struct nic *nic = &rn->plan->nic[i];
	struct dnsmasq_host g = { .v4 = nic->guest, .v6 = nic->guest6,
	    .name = "guest" };
	struct dnsmasq_conf c = { .host = nic->host, .host6 = nic->host6,
	    .dns = nic->dns, .hosts = &g, .nhosts = 1 };

	if (nic->guest.family != AF_INET || nic->host.family != AF_INET)
		return 0;	/* no address to hand out */
	memcpy(g.mac, nic->mac, sizeof(g.mac));
	snprintf(c.link, sizeof(c.link), "%s", nic->tap);
	rn->dns[i] = xmalloc(sizeof(*rn->dns[i]));
	return dnsmasq_start(rn->journal, rn->state, &c, rn->priv, rn->dns[i],
	    why, whylen);
}

/*
 * Journal the run and make every NIC's host side true. Raises the
 * network capability (priv_net); the caller lowers it once its own
 * network work is done. On failure, runnet_down() undoes.
 */
int
runnet_up(struct runnet *rn, const char *image, char *why, size_t whylen)
{
	int r;

	if ((r = runnet_access(rn, why, whylen)) < 0)
		return r;
	priv_net(rn->priv, true);
	if (rn->state == NULL)
		rn->state = priv_state_dir(rn->priv);
	if ((r = journal_open(rn->state, &rn->journal)) < 0) {
		WHY("%s: cannot open the journal: %s", rn->state,
		    strerror(-r));
		return r;
	}
	runnet_info(rn, image);
	for (size_t i = 0; i < rn->plan->n; i++) {
		if (!rn->plan->nic[i].mode->host_tap)
			continue;
		if (rn->net == NULL &&
		    (r = access_net_open(rn->priv, &rn->net)) < 0) {
			WHY("netlink: %s", strerror(-r));
			return r;
		}
		if (rn->plan->nic[i].nat &&
		    (r = nat_check(rn, &rn->plan->nic[i], why, whylen)) < 0)
			return r;
	}
	for (size_t i = 0; i < rn->plan->n; i++)
		if (rn->plan->nic[i].mode->host_tap &&
		    (r = nic_up(rn, i, why, whylen)) < 0)
			return r;
	if ((r = runnet_nat(rn, why, whylen)) < 0)
		return r;
	for (size_t i = 0; i < rn->plan->n; i++)
		if (rn->plan->nic[i].mode->host_tap && rn->plan->nic[i].dhcp &&
		    (r = nic_dhcp(rn, i, why, whylen)) < 0)
			return r;
	return 0;
}

/*
 * A tap that stays (one qrun did not make) lost its carrier when its
 * last queue closed, but the kernel reports that through linkwatch up to
 * a second later: asking for the link settles it now, so qrun leaves the
 * tap as it found it, NO-CARRIER, before it exits (and before the next
 * run may take the lock).
 */
static void
runnet_settle(const struct runnet *rn)
{
	struct net_link l;

	for (size_t i = 0; rn->net && i < rn->plan->n; i++)
		if (rn->plan->nic[i].mode->host_tap)
			(void)net_link_get(rn->net, rn->plan->nic[i].tap, &l);
}

/* A /dev/vhost-net per queue of NIC i, for the QEMU about to start. */
static int
vhost_open(struct runnet *rn, size_t i, char *why, size_t whylen)
{
	const struct nic *nic = &rn->plan->nic[i];
	int e;

	for (int q = 0; q < nic->queues; q++) {
		rn->fds[i].vhost[q] = open("/dev/vhost-net", O_RDWR |
		    O_CLOEXEC);
		if (rn->fds[i].vhost[q] < 0) {
			e = errno;
			WHY("net.vhost: /dev/vhost-net: %s", strerror(e));
			return -e;
		}
	}
	return 0;
}

/* Open the vhost devices a QEMU needs (fresh for each: a vhost device
 * belongs to the process that takes it) and list every fd it inherits. */
int
runnet_spawn_fds(struct runnet *rn, int *keep, size_t max, size_t *n,
    char *why, size_t whylen)
{
	const struct nic *nic;
	int r;

	*n = 0;
	runnet_spawned(rn);
	for (size_t i = 0; i < rn->plan->n; i++) {
		nic = &rn->plan->nic[i];
		if (rn->fds[i].tap[0] < 0)
			continue;
		if (nic->vhost_on && (r = vhost_open(rn, i, why, whylen)) < 0)
			return r;
		for (int q = 0; q < nic->queues && *n + 2 <= max; q++) {
			keep[(*n)++] = rn->fds[i].tap[q];
			if (rn->fds[i].vhost[q] >= 0)
				keep[(*n)++] = rn->fds[i].vhost[q];
		}
	}
	return 0;
}

/* QEMU has its vhost devices: close qrun's copies. */
void
runnet_spawned(struct runnet *rn)
{
	for (size_t i = 0; i < NIC_MAX; i++)
		for (size_t q = 0; q < QUEUE_MAX; q++) {
			if (rn->fds[i].vhost[q] >= 0)
				close(rn->fds[i].vhost[q]);
			rn->fds[i].vhost[q] = -1;
		}
}

/* NIC i's impairment as ne says: made, changed or taken off. */
static int
nic_netem(struct runnet *rn, size_t i, const struct netem *ne, char *why,
    size_t whylen)
{
	struct jlink tap = { .ifindex = 0 };
	struct net_link l;
	int r;

	if (rn->ifb[i].ifindex == 0)
		return ne->on ? nic_impair(rn, i, ne, why, whylen) : 0;
	if ((r = net_link_get(rn->net, rn->plan->nic[i].tap, &l)) < 0) {
		WHY("%s: cannot look up: %s", rn->plan->nic[i].tap,
		    strerror(-r));
		return r;
	}
	snprintf(tap.name, sizeof(tap.name), "%s", l.name);
	tap.ifindex = l.ifindex;
	if (ne->on)
		return impair_change(rn->net, &tap, &rn->ifb[i], ne, why,
		    whylen);
	if ((r = impair_down(rn->net, &tap, &rn->ifb[i], why, whylen)) == 0)
		memset(&rn->ifb[i], 0, sizeof(rn->ifb[i]));
	return r;
}

/*
 * net.netem of a running network (the shell's "set net.netem ..."):
 * every tap's impairment changed now; a first one is made (journaled),
 * "" takes it off. 0 or -errno with why.
 */
int
runnet_netem(struct runnet *rn, const char *spec, char *why, size_t whylen)
{
	struct netem ne;
	char reason[256];
	int r = 0;

	if (netem_parse(spec, &ne, reason, sizeof(reason)) < 0) {
		WHY("net.netem: %s", reason);
		return -EINVAL;
	}
	if (rn->journal == NULL || rn->net == NULL) {
		WHY("net.netem: the network is not up");
		return -ENOTCONN;
	}
	priv_net(rn->priv, true);
	for (size_t i = 0; i < rn->plan->n && r == 0; i++)
		if (rn->plan->nic[i].mode->host_tap)
			r = nic_netem(rn, i, &ne, why, whylen);
	priv_net(rn->priv, false);
	return r;
}

/* Undo what the journal says (or keep it: net.keep), unlock, close. */
int
runnet_down(struct runnet *rn, char *why, size_t whylen)
{
	const struct nic *nic = netplan_main(rn->plan);
	int r = 0;

	priv_net(rn->priv, true);
	/* The helpers first (net.keep forgets the journal that would
	 * remove their files: they go now) */
	for (size_t i = 0; i < NIC_MAX; i++) {
		if (rn->dns[i] != NULL)
			dnsmasq_stop(rn->dns[i], rn->plan->keep);
		free(rn->dns[i]);
		rn->dns[i] = NULL;
	}
	/* Let go of the shared resources first: the undo of each "hold"
	 * then sees whether this run was the last one holding it. */
	for (size_t i = 0; i < rn->nshare; i++)
		share_drop(&rn->share[i]);
	rn->nshare = 0;
	for (size_t i = 0; i < NIC_MAX; i++)
		share_drop(&rn->nicshare[i]);
	if (rn->journal && rn->plan->keep)
		journal_close(rn->journal);
	else if (rn->journal && (r = journal_undo(rn->journal, rn->net)) < 0)
		WHY("%s: undo incomplete (%s); run qrun cleanup",
		    nic ? nic->tap : "network", strerror(-r));
	rn->journal = NULL;
	/* Closed after the undo: detaching the last queue of a tap that is
	 * about to go is one more netdev event for the kernel to process. */
	runnet_spawned(rn);
	for (size_t i = 0; i < NIC_MAX; i++)
		for (size_t q = 0; q < QUEUE_MAX; q++) {
			if (rn->fds[i].tap[q] >= 0)
				close(rn->fds[i].tap[q]);
			rn->fds[i].tap[q] = -1;
		}
	runnet_settle(rn);
	for (size_t i = 0; i < NIC_MAX; i++) {
		lock_release(rn->lock_fd[i]);
		rn->lock_fd[i] = -1;
		slot_release(&rn->claim[i].slot);
		lock_release(rn->claim[i].lock_fd);
		rn->claim[i].lock_fd = -1;
		for (size_t k = 0; k < rn->claim[i].nport; k++)
			close(rn->claim[i].port_fd[k]);
		rn->claim[i].nport = 0;
	}
	memset(rn->ifb, 0, sizeof(rn->ifb));
	net_close(rn->net);
	rn->net = NULL;
	free(rn->state);
	rn->state = NULL;
	priv_net(rn->priv, false);
	return r;
}

void
runnet_watch(struct runnet *rn, struct loop *l)
{
	for (size_t i = 0; i < NIC_MAX; i++)
		if (rn->dns[i] != NULL && helper_running(&rn->dns[i]->h))
			loop_add(l, helper_part(&rn->dns[i]->h));
}

void
runnet_unwatch(struct runnet *rn, struct loop *l)
{
	for (size_t i = 0; i < NIC_MAX; i++)
		if (rn->dns[i] != NULL && rn->dns[i]->h.part.loop == l)
			loop_del(l, helper_part(&rn->dns[i]->h));
}

int
runnet_helper_gone(struct runnet *rn, char *why, size_t whylen)
{
	for (size_t i = 0; i < NIC_MAX; i++)
		if (rn->dns[i] != NULL && !helper_running(&rn->dns[i]->h)) {
			dnsmasq_gone(rn->dns[i], why, whylen);
			return 1;
		}
	return 0;
}
