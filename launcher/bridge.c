/*
 * bridge.c - the lab bridges of "qrun bridge create|delete", that bridged
 * runs join. create moves the uplink's IPv4 and IPv6 addresses and
 * routes to the new bridge before the uplink would lose them (the
 * classic mistake: the host address stays on eth1 after eth1 became a
 * port, and the host loses the lab); delete gives them back. Every step
 * is journaled first (change.c): a failure undoes the lot, a crash is
 * undone by "qrun cleanup", success keeps it. Which port is the uplink
 * is not recorded anywhere: it is the one port that is neither a tap nor
 * a VXLAN port. With --vxlan the bridge spans hosts (vxlan.c). Errors
 * come back as -errno with one sentence in why; nothing here prints.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/rtnetlink.h>

#include "qrun.h"

#define WHY(...) snprintf(why, whylen, __VA_ARGS__)

#define MAX_ADDRS	32
#define MAX_ROUTES	64
#define MAX_PORTS	256

/* An interface's addresses and non-kernel routes, read up front. */
struct ifstate {
	struct net_addr a[MAX_ADDRS];
	size_t na;
	struct net_route rt[MAX_ROUTES];
	size_t nrt;
	struct net_route other;	/* the first route a move cannot carry */
	size_t nother;
};

/* Its addresses (IPv6 link-local ones are the kernel's, never moved)
 * and routes. */
static int
if_read(struct net *n, const struct net_link *l, struct ifstate *st,
    char *why, size_t whylen)
{
	size_t k = 0;
	int r;

	memset(st, 0, sizeof(*st));
	if ((r = net_addr_list(n, l->ifindex, AF_UNSPEC, st->a, MAX_ADDRS,
	    &st->na)) < 0) {
		WHY("%s: cannot read addresses: %s", l->name, strerror(-r));
		return r;
	}
	for (size_t i = 0; i < st->na; i++)
		if (st->a[i].scope != RT_SCOPE_LINK)
			st->a[k++] = st->a[i];
	st->na = k;
	if ((r = net_route_list_dev(n, l->ifindex, st->rt, MAX_ROUTES,
	    &st->nrt, &st->other, &st->nother)) < 0)
		WHY("%s: cannot read routes: %s", l->name, strerror(-r));
	return r;
}

/* One journaled change; ok_err (e.g. -EEXIST: already so) is success. */
static int
step(struct net *n, struct journal *j, const struct jrec *rec, int ok_err,
    char *why, size_t whylen)
{
	return change_do(j, n, rec, ok_err, why, whylen);
}

/* One journaled change of address or route i of st on link l. */
static int
step_one(struct net *n, struct journal *j, enum jkind kind,
    const struct ifstate *st, size_t i, const struct net_link *l,
    char *why, size_t whylen)
{
	struct jrec rec = { .kind = kind };
	int ok_err = kind == J_ROUTE_DEL ? -ESRCH :
	    kind == J_ADDR_DEL ? -EADDRNOTAVAIL : -EEXIST;

	if (kind == J_ADDR_ADD || kind == J_ADDR_DEL)
		rec.addr = st->a[i].a;
	else {
		rec.addr = st->rt[i].dst;
		rec.gw = st->rt[i].gw;
		rec.metric = st->rt[i].metric;
		rec.proto = st->rt[i].proto;
	}
	jlink_set(&rec.l[0], l);
	return step(n, j, &rec, ok_err, why, whylen);
}

/* Copy every address, then every route, of st onto to; or (with
 * remove) every route, then every address, of st from its link. */
static int
move_all(struct net *n, struct journal *j, const struct ifstate *st,
    const struct net_link *l, bool remove, char *why, size_t whylen)
{
	enum jkind first = remove ? J_ROUTE_DEL : J_ADDR_ADD;
	enum jkind then = remove ? J_ADDR_DEL : J_ROUTE_ADD;
	size_t n1 = remove ? st->nrt : st->na, n2 = remove ? st->na : st->nrt;
	int r = 0;

	for (size_t i = 0; r == 0 && i < n1; i++)
		r = step_one(n, j, first, st, i, l, why, whylen);
	for (size_t i = 0; r == 0 && i < n2; i++)
		r = step_one(n, j, then, st, i, l, why, whylen);
	return r;
}

/* What the move carries over differently: a lease becomes permanent. */
static void
moved_notes(const struct ifstate *st, const char *from, const char *to,
    struct strv *notes)
{
	char b[IPADDR_STRLEN];

	for (size_t i = 0; i < st->na; i++)
		if (st->a[i].valid != UINT32_MAX)
			strv_pushf(notes, "%s: %s was a lease (%u s left) and "
			    "is permanent on %s now; run the DHCP client on %s",
			    from, ipaddr_cidr(&st->a[i].a, b), st->a[i].valid,
			    to, to);
}

/*
 * Routes the move cannot carry (multipath, another table, not unicast)
 * would be lost: the kernel drops every route through an interface when
 * its last address goes. Refuse before any change.
 */
static int
movable(const struct ifstate *st, const char *from, const char *to,
    char *why, size_t whylen)
{
	const struct net_route *o = &st->other;
	char d[IPADDR_STRLEN], how[32];

	if (st->nother == 0)
		return 0;
	if (o->multipath)
		snprintf(how, sizeof(how), "multipath");
	else if (o->table != RT_TABLE_MAIN)
		snprintf(how, sizeof(how), "table %u", o->table);
	else
		snprintf(how, sizeof(how), "not unicast");
	WHY("%s: route %s (%s) cannot be moved to %s and would be lost; "
	    "remove it first (%zu such route%s)", from, ipaddr_cidr(&o->dst, d),
	    how, to, st->nother, st->nother == 1 ? "" : "s");
	return -EINVAL;
}

/* May ifname become the uplink of a new bridge? Reads its state. */
static int
uplink_check(struct net *n, const char *ifname, struct net_link *up,
    struct ifstate *st, char *why, size_t whylen)
{
	const char *bad;
	int r;

	if (ifname_check(ifname, &bad) < 0) {
		WHY("--uplink %s: %s", ifname, bad);
		return -EINVAL;
	}
	if ((r = net_link_get(n, ifname, up)) < 0) {
		WHY("%s: %s", ifname, r == -ENODEV ? "no such interface" :
		    strerror(-r));
		return r;
	}
	if (up->is_tap || strcmp(up->kind, "bridge") == 0) {
		WHY("%s: is a %s, not a lab uplink", ifname,
		    up->is_tap ? "tap" : "bridge");
		return -EINVAL;
	}
	if (up->master != 0) {
		WHY("%s: is already a port of another bridge or bond",
		    ifname);
		return -EBUSY;
	}
	return if_read(n, up, st, why, whylen);
}

/* The new bridge (journaled), with the uplink's MAC set, so joining
 * taps never change it. */
static int
make_bridge(struct net *n, struct journal *j, const char *name,
    const struct net_link *up, struct net_link *br, char *why,
    size_t whylen)
{
	int r;

	if ((r = change_link_create(j, n, J_BRIDGE_CREATE, name, br)) < 0) {
		WHY("%s: cannot create: %s", name, strerror(-r));
		return r;
	}
	if (up != NULL && (r = net_link_set_mac(n, br->ifindex,
	    up->mac)) < 0)
		WHY("%s: cannot set the MAC address: %s", name, strerror(-r));
	return r;
}

/* Enslave the uplink, set the bridge (and the uplink) up. */
static int
bridge_wire(struct net *n, struct journal *j, const struct net_link *br,
    const struct net_link *up, char *why, size_t whylen)
{
	struct jrec rec = { .kind = J_ENSLAVE };
	int r;

	jlink_set(&rec.l[0], up ? up : br);
	jlink_set(&rec.l[1], br);
	if (up && (r = step(n, j, &rec, 0, why, whylen)) < 0)
		return r;
	rec = (struct jrec){ .kind = J_LINK_UP };
	jlink_set(&rec.l[0], br);
	if ((r = step(n, j, &rec, 0, why, whylen)) < 0)
		return r;
	if (up == NULL || up->up)
		return 0;
	jlink_set(&rec.l[0], up);
	return step(n, j, &rec, 0, why, whylen);
}

/* With --vxlan: the port's plan, read before any change; the tunnel
 * cannot run over a port of its own bridge. */
static int
vxlan_plan(struct net *n, const struct vxlan_conf *vx, const char *uplink,
    struct vxlan_plan *vp, char *why, size_t whylen)
{
	int r;

	if ((r = vxlan_check(n, vx, vp, why, whylen)) < 0)
		return r;
	if (uplink && strcmp(uplink, vp->under.name) == 0) {
		WHY("%s: is the VXLAN underlay and cannot also be the uplink "
		    "of the bridge the tunnel ends on", uplink);
		return -EINVAL;
	}
	return 0;
}

/* "; VXLAN 42 to A,B over eth0, MTU 1450", malloc'd. */
static char *
vxlan_words(const struct vxlan_plan *vp)
{
	char b[IPADDR_STRLEN], *s, *t;

	s = xasprintf("; VXLAN %u to %s", vp->c.vni,
	    ipaddr_str(&vp->c.remote[0], b));
	for (size_t i = 1; i < vp->c.nremote; i++) {
		t = s;
		s = xasprintf("%s,%s", t, ipaddr_str(&vp->c.remote[i], b));
		free(t);
	}
	t = s;
	s = xasprintf("%s over %s, MTU %u", t, vp->under.name, vp->mtu);
	free(t);
	return s;
}

/* What bridge create did, in one line and notes. */
static void
create_report(const char *name, const char *uplink, const struct ifstate *st,
    const struct vxlan_plan *vp, struct bridge_report *rep)
{
	char *vxt = vp ? vxlan_words(vp) : xstrdup("");

	snprintf(rep->done, sizeof(rep->done), "%s created%s%s%s; %zu "
	    "address%s and %zu route%s moved", name, uplink ? " with uplink " :
	    "", uplink ? uplink : "", vxt, st->na, st->na == 1 ? "" : "es",
	    st->nrt, st->nrt == 1 ? "" : "s");
	free(vxt);
	if (uplink)
		moved_notes(st, uplink, name, &rep->notes);
}

/*
 * bridge create BR [--uplink IF] [--addr A/P] [--vxlan ...]. Everything
 * is checked before the first change. Order matters for the undo, which
 * runs backwards: the bridge and its port first, then the copies of the
 * uplink's addresses and routes on the bridge, and only then their
 * removal from the uplink.
 */
int
bridge_create(struct net *n, struct journal *j, const char *name,
    const char *uplink, const struct ipaddr *addr,
    const struct vxlan_conf *vx, struct bridge_report *rep, char *why,
    size_t whylen)
{
	struct ifstate st = { 0 }, extra = { 0 };
	struct vxlan_plan vp;
	struct net_link br, up;
	int r;

	if (addr) {
		extra.a[0].a = *addr;
		extra.na = 1;
	}
	if (net_link_get(n, name, &br) == 0) {
		WHY("%s: already exists", name);
		return -EEXIST;
	}
	if ((uplink && ((r = uplink_check(n, uplink, &up, &st, why,
	    whylen)) < 0 || (r = movable(&st, uplink, name, why,
	    whylen)) < 0)) ||
	    (vx && (r = vxlan_plan(n, vx, uplink, &vp, why, whylen)) < 0))
		return r;
	if ((r = make_bridge(n, j, name, uplink ? &up : NULL, &br, why,
	    whylen)) < 0 ||
	    (r = bridge_wire(n, j, &br, uplink ? &up : NULL, why,
	    whylen)) < 0 ||
	    (vx && (r = vxlan_attach(n, j, &br, &vp, why, whylen)) < 0) ||
	    (r = move_all(n, j, &extra, &br, false, why, whylen)) < 0)
		return r;
	if (uplink && ((r = move_all(n, j, &st, &br, false, why, whylen)) < 0 ||
	    (r = move_all(n, j, &st, &up, true, why, whylen)) < 0))
		return r;
	create_report(name, uplink, &st, vx ? &vp : NULL, rep);
	if (vx && uplink && up.mtu > vp.mtu)
		strv_pushf(&rep->notes, "%s: keeps its MTU %u; frames above "
		    "%u from it cannot cross VXLAN %u", uplink, up.mtu,
		    vp.mtu, vp.c.vni);
	return 0;
}

/* The bridge to delete and its ports. */
static int
delete_check(struct net *n, const char *name, struct net_link *br,
    struct net_link *ports, size_t *np, char *why, size_t whylen)
{
	int r;

	if ((r = net_link_get(n, name, br)) < 0) {
		WHY("%s: %s", name, r == -ENODEV ? "no such bridge" :
		    strerror(-r));
		return r;
	}
	if (strcmp(br->kind, "bridge") != 0) {
		WHY("%s: not a bridge; qrun deletes only bridges", name);
		return -EINVAL;
	}
	if ((r = net_link_ports(n, br->ifindex, ports, MAX_PORTS, np)) < 0)
		WHY("%s: cannot list ports: %s", name, strerror(-r));
	return r;
}

/* Release every port (a VXLAN port of qrun's: take it off and delete
 * it), then delete the bridge; all journaled. */
static int
unwire(struct net *n, struct journal *j, const struct net_link *br,
    const struct net_link *ports, size_t np, char *why, size_t whylen)
{
	struct jrec rec;
	int r;

	for (size_t i = 0; i < np; i++) {
		if (vxlan_port_ours(&ports[i])) {
			if ((r = vxlan_detach(n, j, br, &ports[i], why,
			    whylen)) < 0)
				return r;
			continue;
		}
		rec = (struct jrec){ .kind = J_RELEASE };
		jlink_set(&rec.l[0], &ports[i]);
		jlink_set(&rec.l[1], br);
		if ((r = step(n, j, &rec, 0, why, whylen)) < 0)
			return r;
	}
	rec = (struct jrec){ .kind = J_BRIDGE_DELETE };
	jlink_set(&rec.l[0], br);
	return step(n, j, &rec, 0, why, whylen);
}

/* The uplink is the one port that is neither a tap nor a VXLAN port. */
static bool
uplink_like(const struct net_link *l)
{
	return !l->is_tap && strcmp(l->kind, "vxlan") != 0;
}

/*
 * bridge delete BR: with exactly one port that is neither a tap nor a
 * VXLAN port (the uplink), its addresses and routes go back to it first;
 * then every port is released (qrun's VXLAN port deleted) and the
 * bridge deleted. (The caller refuses a bridge that a live run uses.)
 */
int
bridge_delete(struct net *n, struct journal *j, const char *name,
    struct bridge_report *rep, char *why, size_t whylen)
{
	struct net_link br, ports[MAX_PORTS];
	const struct net_link *up = NULL;
	struct ifstate st;
	size_t np = 0, nup = 0;
	int r;

	if ((r = delete_check(n, name, &br, ports, &np, why, whylen)) < 0 ||
	    (r = if_read(n, &br, &st, why, whylen)) < 0)
		return r;
	for (size_t i = 0; i < np; i++)
		if (uplink_like(&ports[i]) && nup++ == 0)
			up = &ports[i];
	if (nup == 1 && ((r = movable(&st, name, up->name, why, whylen)) < 0 ||
	    (r = move_all(n, j, &st, up, false, why, whylen)) < 0 ||
	    (r = move_all(n, j, &st, &br, true, why, whylen)) < 0))
		return r;
	/* Without one uplink the addresses go with the bridge, journaled
	 * all the same: an undo puts them back on the bridge it makes. */
	if (nup != 1 && (r = move_all(n, j, &st, &br, true, why, whylen)) < 0)
		return r;
	if (nup == 0 && st.na > 0)
		strv_pushf(&rep->notes, "%s: has no uplink, so its addresses "
		    "go with it", name);
	else if (nup > 1 && st.na > 0)
		strv_pushf(&rep->notes, "%s: %zu ports could be its uplink, so "
		    "its addresses go with it", name, nup);
	if ((r = unwire(n, j, &br, ports, np, why, whylen)) < 0)
		return r;
	snprintf(rep->done, sizeof(rep->done), "%s deleted%s%s", name,
	    nup == 1 ? "; addresses and routes back on " : "", nup == 1 ?
	    up->name : "");
	if (nup == 1)
		moved_notes(&st, name, up->name, &rep->notes);
	return 0;
}
