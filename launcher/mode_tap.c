/*
 * mode_tap.c - net.mode "tap", the lab convention: the developer's own
 * tapN carries 172.(20+N).0.1/16 (or net.host_addr) and the guest uses
 * the next address. The run makes the tap exist, belong to the developer,
 * carry the address and be up, each change journaled first; it refuses,
 * before changing anything, a tap of another user, a tap on a bridge, a
 * tap with other addresses, and an address hostaddr.c refuses (one that
 * overlaps a route on another interface, above all).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/rtnetlink.h>

#include "qrun.h"

#define WHY(...) snprintf(why, whylen, __VA_ARGS__)

/* The guest: net.guest_addr, or the address after the host's. */
static void
plan_guest(const struct config *c, struct nic *nic, struct strv *diags)
{
	const char *where = c->where[K_NET_GUEST_ADDR];
	char h[IPADDR_STRLEN];
	struct ipaddr g;

	if (c->net_guest_addr[0] == '\0') {
		g = ipaddr_add(&nic->host, 1);
		if (!ipaddr_contains(&nic->host, &g) ||
		    ipaddr_refuse(&g) != NULL) {
			strv_pushf(diags, "%s: net.guest_addr: must be set "
			    "(no free address after %s)", where,
			    c->net_host_addr);
			return;
		}
	} else if (ipaddr_parse(c->net_guest_addr, IPA_V4 | IPA_NOPREFIX,
	    &g) < 0) {
		strv_pushf(diags, "%s: net.guest_addr: must be an IPv4 "
		    "address, like 172.21.0.2", where);
		return;
	}
	g.prefix = nic->host.prefix;
	if (!ipaddr_contains(&nic->host, &g) || ipaddr_eq(&g, &nic->host) ||
	    ipaddr_refuse(&g) != NULL) {
		strv_pushf(diags, "%s: net.guest_addr: %s is not a free host "
		    "address in the network of %s", where, c->net_guest_addr,
		    ipaddr_cidr(&nic->host, h));
		return;
	}
	nic->guest = g;
	nic->gw = nic->host;
	nic->gw.prefix = -1;
}

/* Host and guest of a tap: explicit, or the lab default for tap0..11. */
static void
tap_plan(const struct config *c, const char *user, struct nic *nic,
    struct strv *diags)
{
	struct ipaddr g;

	(void)user;
	if (netplan_names(c, nic, false, diags) < 0)
		return;
	if (c->net_host_addr[0] == '\0') {
		if (netplan_tap_default(nic->tap, &nic->host, &g) < 0) {
			strv_pushf(diags, "%s: net.tap: %s has no default "
			    "address (only tap0..tap11 do); set "
			    "net.host_addr and net.guest_addr",
			    c->where[K_NET_TAP], nic->tap);
			return;
		}
	} else if (ipaddr_parse(c->net_host_addr, IPA_V4 | IPA_PREFIX,
	    &nic->host) < 0) {
		strv_pushf(diags, "%s: net.host_addr: must be an IPv4 address "
		    "with prefix, like 172.21.0.1/16",
		    c->where[K_NET_HOST_ADDR]);
		return;
	}
	plan_guest(c, nic, diags);
}

/* Does the tap already carry exactly the planned address? 1, 0, -errno. */
static int
addr_state(struct net *n, const struct net_link *l, const struct nic *nic,
    char *why, size_t whylen)
{
	char b[IPADDR_STRLEN], p[IPADDR_STRLEN];
	struct net_addr a[16];
	size_t na = 0;
	int r, have = 0;

	r = net_addr_list(n, l->ifindex, AF_INET, a, ARRAY_SIZE(a), &na);
	if (r < 0) {
		WHY("%s: cannot read addresses: %s", l->name, strerror(-r));
		return r;
	}
	for (size_t i = 0; i < na; i++) {
		if (ipaddr_same(&a[i].a, &nic->host)) {
			have = 1;
			continue;
		}
		WHY("%s: has %s, not the planned %s", l->name,
		    ipaddr_cidr(&a[i].a, b), ipaddr_cidr(&nic->host, p));
		return -EEXIST;
	}
	return have;
}

/*
 * Traffic for the guest must go out the tap: one route lookup (policy
 * rules included) answers that, where the overlap check must read the
 * whole main table, so a tap that is already set up needs only this. A
 * rule that sends the guest's network to another table is named.
 */
static int
check_guest_route(struct net *n, const struct nic *nic, int ifindex,
    char *why, size_t whylen)
{
	struct net_link o = { .name = "nowhere" };
	char b[IPADDR_STRLEN], h[IPADDR_STRLEN], rule[160];
	struct net_route rt;
	int r = net_route_get(n, &nic->guest, &rt);

	if (r < 0) {
		WHY("%s: cannot read routes: %s", nic->tap, strerror(-r));
		return r;
	}
	if (rt.ifindex == ifindex)
		return 0;
	if (rt.ifindex > 0)
		(void)net_link_get_index(n, rt.ifindex, &o);
	if (rt.table != RT_TABLE_MAIN && rt.table != 0 && net_rule_find(n,
	    &nic->guest, rt.table, rule, sizeof(rule)) > 0)
		WHY("%s: traffic to the guest %s goes out %s, not %s: %s",
		    nic->tap, ipaddr_str(&nic->guest, b), o.name, nic->tap,
		    rule);
	else
		WHY("%s: traffic to the guest %s goes out %s, not %s; a route "
		    "on %s overlaps %s", nic->tap, ipaddr_str(&nic->guest, b),
		    o.name, nic->tap, o.name, ipaddr_cidr(&nic->host, h));
	return -EADDRINUSE;
}

/* A journaled change of the tap l: its kind and, for addr-add, a. */
static int
tap_step(const struct host *h, const struct nic *nic, struct net_link *l,
    enum jkind kind, char *why, size_t whylen)
{
	struct jrec rec = { .kind = kind };

	snprintf(rec.l[0].name, sizeof(rec.l[0].name), "%s", l->name);
	rec.l[0].ifindex = l->ifindex;
	rec.addr = nic->host;
	return tapdev_change(h, nic, &rec, why, whylen);
}

/* The tap as it is: looked up and checked; 1 when it exists. */
static int
tap_find(const struct host *h, const struct nic *nic, struct net_link *l,
    char *why, size_t whylen)
{
	int r = net_link_get(h->net, nic->tap, l);

	if (r == -ENODEV)
		return 0;
	if (r < 0) {
		WHY("%s: cannot look up: %s", nic->tap, strerror(-r));
		return r;
	}
	return (r = tapdev_check(l, h->pv, true, why, whylen)) < 0 ? r : 1;
}

/*
 * Make nic->tap exist (owned by the developer), carry nic->host and be
 * up; every check runs before the first change. *fd: the tap's queue.
 */
static int
tap_ensure(const struct host *h, const struct nic *nic, int *fd, char *why,
    size_t whylen)
{
	struct net_link l;
	int r, exists, have = 0;

	*fd = -1;
	if ((exists = tap_find(h, nic, &l, why, whylen)) < 0)
		return exists;
	if (exists && (have = addr_state(h->net, &l, nic, why, whylen)) < 0)
		return have;
	if (!(have && l.up) && (r = hostaddr_check(h->net, h->pv, nic->tap,
	    &nic->host, exists ? l.ifindex : 0, why, whylen)) < 0)
		return r;
	if (!exists && (*fd = tapdev_create(h, nic, &l, why, whylen)) < 0)
		return *fd;
	if ((!have && (r = tap_step(h, nic, &l, J_ADDR_ADD, why,
	    whylen)) < 0) ||
	    (!l.up && (r = tap_step(h, nic, &l, J_LINK_UP, why, whylen)) < 0))
		return r;
	if ((r = check_guest_route(h->net, nic, l.ifindex, why, whylen)) < 0)
		return r;
	if (*fd < 0 && (*fd = net_tap_open(&l, nic->plain_frames)) < 0) {
		WHY("%s: cannot open: %s", nic->tap, strerror(-*fd));
		return *fd;
	}
	return 0;
}

static char *
tap_hint(const struct nic *nic)
{
	char h[IPADDR_STRLEN], g[IPADDR_STRLEN], gw[IPADDR_STRLEN], mac[18];

	return xasprintf("%s %s -> guest %s gw %s mac %s", nic->tap,
	    ipaddr_cidr(&nic->host, h), ipaddr_str(&nic->guest, g),
	    ipaddr_str(&nic->gw, gw), mac_str(nic->mac, mac));
}

static char *
tap_would(const struct nic *nic, const char *user)
{
	return xasprintf("qrun would make %s exist (owner %s), carry its "
	    "address and be up, then pass it to QEMU as an open fd",
	    nic->tap, user);
}

const struct netmode netmode_tap = {
	.name = "tap",
	.id = NET_TAP,
	.host_tap = true,
	.plan = tap_plan,
	.ensure = tap_ensure,
	.netdev = tapdev_netdev,
	.hint = tap_hint,
	.would = tap_would,
};
