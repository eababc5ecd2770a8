/*
 * vxlan.c - a lab bridge spanning hosts over the kernel's VXLAN: a port
 * vxVNI on the bridge (UDP 4789, learning), one all-zeros FDB entry per
 * remote host (head-end replication: what floods goes to every remote,
 * no multicast needed in the underlay), and the bridge's MTU lowered to
 * the underlay's minus the encapsulation (50 bytes over IPv4, 70 over
 * IPv6), so a full-size frame still fits the underlay unfragmented.
 * Used by "qrun bridge create --vxlan" (bridge.c) and by anything else
 * that wants a bridge of its own to span hosts: vxlan_check reads the
 * host, vxlan_attach adds the port, every change journaled first.
 * Errors come back as -errno with one sentence in why; nothing prints.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/rtnetlink.h>

#include "qrun.h"

#define WHY(...) snprintf(why, whylen, __VA_ARGS__)

#define VNI_MAX		16777215
#define MTU_MIN_V4	68	/* RFC 791 */
#define MTU_MIN_V6	1280	/* RFC 8200 */
#define MAX_PORTS	256

/* --------------------------------------------------------------- pure */

/* One remote: a unicast address of the same family as the others. */
static int
remote_parse(const char *s, struct vxlan_conf *c, char *why, size_t whylen)
{
	struct ipaddr a;
	const char *bad;

	if (ipaddr_parse(s, IPA_NOPREFIX, &a) < 0) {
		WHY("--remote %s: not an IPv4 or IPv6 address", s);
		return -EINVAL;
	}
	a.prefix = ipaddr_bits(&a);	/* a host, for ipaddr_refuse */
	if ((bad = ipaddr_refuse(&a)) != NULL) {
		WHY("--remote %s: is %s, not another host's", s, bad);
		return -EINVAL;
	}
	a.prefix = -1;
	for (size_t i = 0; i < c->nremote; i++) {
		if (c->remote[i].family != a.family) {
			WHY("--remote %s: IPv4 and IPv6 remotes cannot share "
			    "one VXLAN port", s);
			return -EINVAL;
		}
		if (ipaddr_eq(&c->remote[i], &a)) {
			WHY("--remote %s: given twice", s);
			return -EINVAL;
		}
	}
	if (c->nremote == VXLAN_REMOTES_MAX) {
		WHY("--remote: at most %d remotes", VXLAN_REMOTES_MAX);
		return -EINVAL;
	}
	c->remote[c->nremote++] = a;
	return 0;
}

/* "ADDR[,ADDR...]" into c->remote. */
static int
remotes_parse(const char *list, struct vxlan_conf *c, char *why,
    size_t whylen)
{
	char *copy = xstrdup(list), *save = NULL;
	int r = 0;

	for (char *t = strtok_r(copy, ",", &save); t && r == 0;
	    t = strtok_r(NULL, ",", &save))
		r = remote_parse(t, c, why, whylen);
	if (r == 0 && c->nremote == 0) {
		WHY("--remote: expected ADDR[,ADDR...]");
		r = -EINVAL;
	}
	free(copy);
	return r;
}

/*
 * Pure: "--vxlan VNI --remote ADDR[,ADDR...] [--dev IF] [--local ADDR]"
 * (dev and local NULL when not given) into *c. 0 or -EINVAL with why.
 */
int
vxlan_conf_parse(const char *vni, const char *remotes, const char *dev,
    const char *local, struct vxlan_conf *c, char *why, size_t whylen)
{
	const char *bad;
	long v;
	int r;

	memset(c, 0, sizeof(*c));
	if (parse_long(vni, 1, VNI_MAX, &v) < 0) {
		WHY("--vxlan %s: the VNI must be a number from 1 to %d", vni,
		    VNI_MAX);
		return -EINVAL;
	}
	c->vni = (uint32_t)v;
	if (remotes == NULL) {
		WHY("--vxlan needs --remote ADDR[,ADDR...]: the other hosts");
		return -EINVAL;
	}
	if ((r = remotes_parse(remotes, c, why, whylen)) < 0)
		return r;
	if (dev && ifname_check(dev, &bad) < 0) {
		WHY("--dev %s: %s", dev, bad);
		return -EINVAL;
	}
	snprintf(c->dev, sizeof(c->dev), "%s", dev ? dev : "");
	if (local && (ipaddr_parse(local, IPA_NOPREFIX, &c->local) < 0 ||
	    c->local.family != c->remote[0].family)) {
		WHY("--local %s: must be an %s address of this host", local,
		    c->remote[0].family == AF_INET ? "IPv4" : "IPv6");
		return -EINVAL;
	}
	return 0;
}

/* Bytes VXLAN adds around a frame: outer IP, UDP, VXLAN, inner Ethernet. */
static unsigned
overhead(int family)
{
	return (family == AF_INET6 ? 40 : 20) + 8 + 8 + 14;
}

/* ---------------------------------------------------------- the host */

/* The underlay: --dev, or the interface of the route to the first
 * remote (which must not be this host itself). */
static int
underlay(struct net *n, const struct vxlan_conf *c, struct net_link *u,
    char *why, size_t whylen)
{
	char b[IPADDR_STRLEN];
	struct net_route rt;
	int r;

	if (c->dev[0]) {
		if ((r = net_link_get(n, c->dev, u)) < 0)
			WHY("--dev %s: %s", c->dev, r == -ENODEV ?
			    "no such interface" : strerror(-r));
		return r;
	}
	ipaddr_str(&c->remote[0], b);
	if ((r = net_route_get(n, &c->remote[0], &rt)) < 0) {
		WHY("--remote %s: cannot look up its route: %s", b,
		    strerror(-r));
		return r;
	}
	if (rt.ifindex == 0) {
		WHY("--remote %s: no route to it; give the underlay with "
		    "--dev", b);
		return -ENETUNREACH;
	}
	if (rt.type == RTN_LOCAL) {
		WHY("--remote %s: is this host's own address", b);
		return -EINVAL;
	}
	if ((r = net_link_get_index(n, rt.ifindex, u)) < 0)
		WHY("--remote %s: cannot look up its interface: %s", b,
		    strerror(-r));
	return r;
}

/*
 * Read what a VXLAN port for c needs from the host, changing nothing:
 * the underlay and its MTU, the port's name (free), the MTU the bridge
 * gets (refused below IPv6's 1280 or IPv4's 68). 0 or -errno with why.
 */
int
vxlan_check(struct net *n, const struct vxlan_conf *c, struct vxlan_plan *p,
    char *why, size_t whylen)
{
	unsigned oh = overhead(c->remote[0].family);
	struct net_link l;
	int r, left;
	bool v4;

	memset(p, 0, sizeof(*p));
	p->c = *c;
	if ((r = underlay(n, c, &p->under, why, whylen)) < 0)
		return r;
	snprintf(p->name, sizeof(p->name), "vx%u", c->vni);
	if (net_link_get(n, p->name, &l) == 0) {
		WHY("%s: already exists (a VXLAN port of VNI %u is on this "
		    "host)", p->name, c->vni);
		return -EEXIST;
	}
	if ((left = (int)p->under.mtu - (int)oh) < MTU_MIN_V6) {
		v4 = left < MTU_MIN_V4;
		WHY("%s: its MTU %u leaves %d for the bridge over VXLAN, below "
		    "%s minimum %d", p->under.name, p->under.mtu, left,
		    v4 ? "IPv4's" : "IPv6's", v4 ? MTU_MIN_V4 : MTU_MIN_V6);
		return -EINVAL;
	}
	p->mtu = p->under.mtu - oh;
	return 0;
}

/* The bridge, and the taps on it, get the tunnel's MTU (journaled: the
 * undo gives each its old one back). Other ports keep theirs. */
static int
mtu_set(struct net *n, struct journal *j, const struct net_link *br,
    unsigned mtu, char *why, size_t whylen)
{
	struct net_link ports[MAX_PORTS];
	struct jrec rec;
	size_t np = 0;
	int r;

	if ((r = net_link_ports(n, br->ifindex, ports, MAX_PORTS, &np)) < 0) {
		WHY("%s: cannot list ports: %s", br->name, strerror(-r));
		return r;
	}
	for (size_t i = 0; i <= np; i++) {
		const struct net_link *l = i < np ? &ports[i] : br;

		if ((i < np && !l->is_tap) || l->mtu == mtu)
			continue;
		rec = (struct jrec){ .kind = J_MTU, .mtu = { l->mtu, mtu } };
		jlink_set(&rec.l[0], l);
		if ((r = change_do(j, n, &rec, 0, why, whylen)) < 0)
			return r;
	}
	return 0;
}

/*
 * Add the VXLAN port p planned (vxlan_check) to bridge br: the link,
 * its remotes, the bridge's MTU, the port enslaved and up; each step
 * journaled before it is made. 0 or -errno with why.
 */
int
vxlan_attach(struct net *n, struct journal *j, const struct net_link *br,
    const struct vxlan_plan *p, char *why, size_t whylen)
{
	struct vxlan_link v = { .vni = p->c.vni, .local = p->c.local,
	    .mtu = p->mtu, .dev = p->c.dev[0] ? p->under.ifindex : 0 };
	struct net_link vx;
	struct jrec rec;
	int r;

	snprintf(v.name, sizeof(v.name), "%s", p->name);
	if ((r = change_vxlan_create(j, n, &v, p->under.name, &vx)) < 0) {
		WHY("%s: cannot create: %s", p->name, strerror(-r));
		return r;
	}
	for (size_t i = 0; i < p->c.nremote; i++) {
		rec = (struct jrec){ .kind = J_FDB_ADD,
		    .addr = p->c.remote[i] };
		jlink_set(&rec.l[0], &vx);
		if ((r = change_do(j, n, &rec, 0, why, whylen)) < 0)
			return r;
	}
	if ((r = mtu_set(n, j, br, p->mtu, why, whylen)) < 0)
		return r;
	rec = (struct jrec){ .kind = J_ENSLAVE };
	jlink_set(&rec.l[0], &vx);
	jlink_set(&rec.l[1], br);
	if ((r = change_do(j, n, &rec, 0, why, whylen)) < 0)
		return r;
	rec = (struct jrec){ .kind = J_LINK_UP };
	jlink_set(&rec.l[0], &vx);
	return change_do(j, n, &rec, 0, why, whylen);
}

/* Is l a VXLAN port qrun made (kind vxlan, named vxVNI)? */
bool
vxlan_port_ours(const struct net_link *l)
{
	char name[IFNAMSIZ];

	snprintf(name, sizeof(name), "vx%u", l->vni);
	return strcmp(l->kind, "vxlan") == 0 && strcmp(l->name, name) == 0;
}

/*
 * Take VXLAN port vx off bridge br and delete it: its remotes first,
 * then the port released, then the link, each journaled so that undoing
 * it (a crash, a later failure) makes the port again as it was.
 */
int
vxlan_detach(struct net *n, struct journal *j, const struct net_link *br,
    const struct net_link *vx, char *why, size_t whylen)
{
	struct ipaddr rem[VXLAN_REMOTES_MAX];
	struct net_link dev = { .name = "" };
	struct vxlan_link v;
	struct jrec rec;
	size_t nr = 0;
	int r;

	/* What it is, to make it again should its deletion be undone. */
	if ((r = net_vxlan_get(n, vx->ifindex, &v)) < 0) {
		WHY("%s: cannot read: %s", vx->name, strerror(-r));
		return r;
	}
	if (v.dev && net_link_get_index(n, v.dev, &dev) < 0)
		v.dev = 0;
	r = net_fdb_remotes(n, vx->ifindex, rem, ARRAY_SIZE(rem), &nr);
	if (r < 0 && r != -ENOSPC) {
		WHY("%s: cannot read its remotes: %s", vx->name, strerror(-r));
		return r;
	}
	for (size_t i = 0; i < nr; i++) {
		rec = (struct jrec){ .kind = J_FDB_DEL, .addr = rem[i] };
		jlink_set(&rec.l[0], vx);
		if ((r = change_do(j, n, &rec, -ENOENT, why, whylen)) < 0)
			return r;
	}
	rec = (struct jrec){ .kind = J_RELEASE };
	jlink_set(&rec.l[0], vx);
	jlink_set(&rec.l[1], br);
	if ((r = change_do(j, n, &rec, 0, why, whylen)) < 0)
		return r;
	change_vxlan_delete_rec(&rec, &v, dev.name);
	return change_do(j, n, &rec, 0, why, whylen);
}
