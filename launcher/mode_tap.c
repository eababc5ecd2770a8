/*
 * mode_tap.c - net.mode "tap", the lab convention: the developer's own
 * tapN carries 172.(20+N).0.1/16 (or net.host_addr) and the guest uses
 * the next address; with net.ipv6 the link carries fd00:172:(20+N)::1/64
 * too, and the guest's address there is its SLAAC one. The run makes the
 * tap exist, belong to the developer, carry the addresses and be up, each
 * change journaled first; it refuses, before changing anything, a tap of
 * another user, a tap on a bridge, a tap with other addresses (the
 * kernel's IPv6 link-local ones aside), and an address hostaddr.c
 * refuses (one that overlaps a route on another interface, above all).
 */
#include <fcntl.h>
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

/*
 * IPv6 on the link (net.ipv6): net.host_addr6 or tapN's default (a tap
 * without a number gets none unless host_addr6 is set), and the guest's
 * net.guest_addr6 in that /64 (when unset, netplan_make derives the
 * SLAAC address from the MAC).
 */
static void
plan_ipv6(const struct config *c, struct nic *nic, struct strv *diags)
{
	char h[IPADDR_STRLEN];
	struct ipaddr g;

	if (!c->net_ipv6)
		return;
	if (c->net_host_addr6[0] == '\0') {
		/* only tap0..tap11 have one: elsewhere IPv6 is opt-in */
		nic->v6_default = true;
		if (netplan_tap_default6(nic->tap, &nic->host6) < 0 &&
		    c->net_guest_addr6[0] != '\0')
			strv_pushf(diags, "%s: net.guest_addr6: %s has no "
			    "default IPv6 network; set net.host_addr6",
			    c->where[K_NET_GUEST_ADDR6], nic->tap);
	} else if (ipaddr_parse(c->net_host_addr6, IPA_V6 | IPA_PREFIX,
	    &nic->host6) < 0)
		strv_pushf(diags, "%s: net.host_addr6: must be an IPv6 "
		    "address with prefix, like fd00:172:21::1/64",
		    c->where[K_NET_HOST_ADDR6]);
	if (!nic->host6.family || c->net_guest_addr6[0] == '\0')
		return;
	if (ipaddr_parse(c->net_guest_addr6, IPA_V6 | IPA_NOPREFIX, &g) == 0) {
		g.prefix = nic->host6.prefix;
		if (ipaddr_contains(&nic->host6, &g) &&
		    !ipaddr_eq(&g, &nic->host6) && ipaddr_refuse(&g) == NULL) {
			nic->guest6 = g;
			return;
		}
	}
	strv_pushf(diags, "%s: net.guest_addr6: %s is not a free host address "
	    "in the network of %s", c->where[K_NET_GUEST_ADDR6],
	    c->net_guest_addr6, ipaddr_cidr(&nic->host6, h));
}

/*
 * net.dhcp and net.dns: dnsmasq on the link. DNS is learnt by DHCP, so
 * net.dns = true set with net.dhcp = false is a contradiction; left at
 * its default it just follows net.dhcp. Either one set (not a default)
 * makes a dnsmasq this qrun cannot start an error rather than a note.
 * A switch's plan uses it too (then moves dhcp to sw_dhcp).
 */
void
tap_plan_dhcp(const struct config *c, struct nic *nic, struct strv *diags)
{
	bool dns_set = strcmp(c->where[K_NET_DNS], "default") != 0;

	nic->dhcp = c->net_dhcp;
	nic->dns = c->net_dhcp && c->net_dns;
	nic->dhcp_asked = nic->dhcp && (dns_set ||
	    strcmp(c->where[K_NET_DHCP], "default") != 0);
	if (!c->net_dhcp && c->net_dns && dns_set)
		strv_pushf(diags, "%s: net.dns: needs net.dhcp = true (the "
		    "guest learns its DNS server by DHCP)",
		    c->where[K_NET_DNS]);
}

/* net.tap "auto": the claim takes a tap and its lab addresses, so none
 * may be set; nic->tap stays "auto" until then. */
static void
tap_plan_auto(const struct config *c, struct nic *nic, struct strv *diags)
{
	static const enum cfg_key fixed[] = { K_NET_HOST_ADDR,
	    K_NET_GUEST_ADDR, K_NET_HOST_ADDR6, K_NET_GUEST_ADDR6 };
	const char *const vals[] = { c->net_host_addr, c->net_guest_addr,
	    c->net_host_addr6, c->net_guest_addr6 };

	nic->tap_auto = true;
	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
		if (vals[i][0] != '\0')
			strv_pushf(diags, "%s: %s: not with net.tap \"auto\" "
			    "(the tap taken decides the addresses)",
			    c->where[fixed[i]], profile_key_name(fixed[i]));
	nic->v6_default = c->net_ipv6;
	tap_plan_dhcp(c, nic, diags);
	nic->nat = c->net_nat;
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
	if (strcmp(nic->tap, "auto") == 0) {
		tap_plan_auto(c, nic, diags);
		return;
	}
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
	plan_ipv6(c, nic, diags);
	tap_plan_dhcp(c, nic, diags);
	nic->nat = c->net_nat;
}

/* Which planned address is a (HAVE_V4, HAVE_V6), 0 for none; the
 * kernel's IPv6 link-local addresses are -1 (never counted). */
enum { HAVE_V4 = 1, HAVE_V6 = 2 };

static int
addr_which(const struct nic *nic, const struct net_addr *a)
{
	if (a->a.family == AF_INET6 && (a->scope == RT_SCOPE_LINK ||
	    (a->a.u.b[0] == 0xfe && (a->a.u.b[1] & 0xc0) == 0x80)))
		return -1;
	if (ipaddr_same(&a->a, &nic->host))
		return HAVE_V4;
	if (nic->host6.family && ipaddr_same(&a->a, &nic->host6))
		return HAVE_V6;
	if (a->a.family == AF_INET6 && !nic->host6.family)
		return -1;	/* net.ipv6 off: IPv6 is not ours to plan */
	return 0;
}

/* Which planned addresses the tap carries already (HAVE_*), or -EEXIST
 * when it has another one of a planned family, or -errno. */
static int
addr_state(struct net *n, const struct net_link *l, const struct nic *nic,
    char *why, size_t whylen)
{
	char b[IPADDR_STRLEN], p[IPADDR_STRLEN];
	const struct ipaddr *plan;
	struct net_addr a[16];
	size_t na = 0;
	int r, have = 0, w;

	r = net_addr_list(n, l->ifindex, AF_UNSPEC, a, ARRAY_SIZE(a), &na);
	if (r < 0) {
		WHY("%s: cannot read addresses: %s", l->name, strerror(-r));
		return r;
	}
	for (size_t i = 0; i < na; i++) {
		if ((w = addr_which(nic, &a[i])) != 0) {
			have |= w > 0 ? w : 0;
			continue;
		}
		plan = a[i].a.family == AF_INET6 ? &nic->host6 : &nic->host;
		WHY("%s: has %s, not the planned %s", l->name,
		    ipaddr_cidr(&a[i].a, b), ipaddr_cidr(plan, p));
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
check_guest_route(struct net *n, const struct nic *nic,
    const struct ipaddr *guest, const struct ipaddr *host, int ifindex,
    char *why, size_t whylen)
{
	struct net_link o = { .name = "nowhere" };
	char b[IPADDR_STRLEN], h[IPADDR_STRLEN], rule[160];
	struct net_route rt;
	int r = net_route_get(n, guest, &rt);

	if (r < 0) {
		WHY("%s: cannot read routes: %s", nic->tap, strerror(-r));
		return r;
	}
	if (rt.ifindex == ifindex)
		return 0;
	if (rt.ifindex > 0)
		(void)net_link_get_index(n, rt.ifindex, &o);
	if (rt.table != RT_TABLE_MAIN && rt.table != 0 && net_rule_find(n,
	    guest, rt.table, rule, sizeof(rule)) > 0)
		WHY("%s: traffic to the guest %s goes out %s, not %s: %s",
		    nic->tap, ipaddr_str(guest, b), o.name, nic->tap, rule);
	else
		WHY("%s: traffic to the guest %s goes out %s, not %s; a route "
		    "on %s overlaps %s", nic->tap, ipaddr_str(guest, b),
		    o.name, nic->tap, o.name, ipaddr_cidr(host, h));
	return -EADDRINUSE;
}

/* A journaled change of the tap l: its kind and, for addr-add, a. */
static int
tap_step(const struct host *h, const struct nic *nic, struct net_link *l,
    enum jkind kind, const struct ipaddr *a, char *why, size_t whylen)
{
	struct jrec rec = { .kind = kind };

	snprintf(rec.l[0].name, sizeof(rec.l[0].name), "%s", l->name);
	rec.l[0].ifindex = l->ifindex;
	if (a != NULL)
		rec.addr = *a;
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

/* May the tap (ifindex self, 0: not made yet) take the planned
 * addresses it lacks (hostaddr.c's rules)? One that is there already on
 * a tap that is up needs only the guest route check. */
static int
tap_addr_check(const struct host *h, const struct nic *nic, int self,
    int lack, char *why, size_t whylen)
{
	int r = 0;

	if (lack & HAVE_V4)
		r = hostaddr_check(h->net, h->pv, nic->tap, &nic->host, self,
		    why, whylen);
	if (r == 0 && (lack & HAVE_V6))
		r = hostaddr_check(h->net, h->pv, nic->tap, &nic->host6, self,
		    why, whylen);
	return r;
}

/*
 * Make nic->tap exist (owned by the developer), carry nic->host (and
 * nic->host6) and be up; every check runs before the first change.
 * *fd: the tap's queue.
 */
static int
tap_ensure(const struct host *h, const struct nic *nic, int *fd, char *why,
    size_t whylen)
{
	int want = HAVE_V4 | (nic->host6.family ? HAVE_V6 : 0);
	int r, exists, have = 0;
	struct net_link l;

	*fd = -1;
	if ((exists = tap_find(h, nic, &l, why, whylen)) < 0)
		return exists;
	if (exists && (have = addr_state(h->net, &l, nic, why, whylen)) < 0)
		return have;
	if ((r = tap_addr_check(h, nic, exists ? l.ifindex : 0,
	    exists && l.up ? want & ~have : want, why, whylen)) < 0)
		return r;
	if (!exists && (*fd = tapdev_create(h, nic, &l, why, whylen)) < 0)
		return *fd;
	if ((!(have & HAVE_V4) && (r = tap_step(h, nic, &l, J_ADDR_ADD,
	    &nic->host, why, whylen)) < 0) ||
	    ((want & ~have & HAVE_V6) && (r = tap_step(h, nic, &l, J_ADDR_ADD,
	    &nic->host6, why, whylen)) < 0) ||
	    (!l.up && (r = tap_step(h, nic, &l, J_LINK_UP, NULL, why,
	    whylen)) < 0))
		return r;
	if ((r = check_guest_route(h->net, nic, &nic->guest, &nic->host,
	    l.ifindex, why, whylen)) < 0 || (nic->guest6.family &&
	    (r = check_guest_route(h->net, nic, &nic->guest6, &nic->host6,
	    l.ifindex, why, whylen)) < 0))
		return r;
	return tapdev_open(nic, &l, fd, why, whylen);
}

static char *
tap_hint(const struct nic *nic)
{
	char h[IPADDR_STRLEN], g[IPADDR_STRLEN], gw[IPADDR_STRLEN], mac[18];
	char g6[IPADDR_STRLEN + 8] = "";

	if (strcmp(nic->tap, "auto") == 0)	/* qrun check: none taken */
		return xstrdup("tap auto: the first free of tap0..tap11 "
		    "(tapN 172.(20+N).0.1/16 -> guest 172.(20+N).0.2)");
	if (nic->guest6.family) {
		memcpy(g6, " guest6 ", 8);
		ipaddr_str(&nic->guest6, g6 + 8);
	}
	return xasprintf("%s %s -> guest %s gw %s mac %s%s", nic->tap,
	    ipaddr_cidr(&nic->host, h), ipaddr_str(&nic->guest, g),
	    ipaddr_str(&nic->gw, gw), mac_str(nic->mac, mac), g6);
}

static char *
tap_would(const struct nic *nic, const char *user)
{
	char h6[IPADDR_STRLEN];

	return xasprintf("qrun would make %s exist (owner %s), carry its "
	    "address%s%s and be up, %sthen pass it to QEMU as an open fd",
	    nic->tap, user, nic->host6.family ? " and " : "",
	    nic->host6.family ? ipaddr_cidr(&nic->host6, h6) : "",
	    nic->nat ? "masquerade the guest's networks (nftables table "
	    "qrun), " : "");
}

/* Is IPv6 off in this network namespace (ipv6.disable=1 at boot, or
 * net.ipv6.conf.all.disable_ipv6)? */
static bool
ipv6_off(void)
{
	char c = '1';
	int fd = open("/proc/sys/net/ipv6/conf/all/disable_ipv6",
	    O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, &c, 1) != 1)
			c = '1';
		close(fd);
	}
	return c != '0';
}

/*
 * Host facts: a host (or namespace) with IPv6 switched off gets no IPv6
 * side on the link by default, as if net.ipv6 were false; an explicit
 * net.host_addr6 there is an error. Reads only.
 */
static int
tap_facts(struct net *n, struct nic *nic, char *why, size_t whylen)
{
	(void)n;
	if ((!nic->host6.family && !nic->v6_default) || !ipv6_off())
		return 0;
	if (!nic->v6_default) {
		WHY("net.host_addr6: IPv6 is off here "
		    "(net.ipv6.conf.all.disable_ipv6); set net.ipv6 = false");
		return -EAFNOSUPPORT;
	}
	nic->v6_default = false;	/* nor for the tap "auto" takes */
	memset(&nic->host6, 0, sizeof(nic->host6));
	memset(&nic->guest6, 0, sizeof(nic->guest6));
	return 0;
}

/* May tap serve this run: granted (access list, for a capability-
 * enabled qrun), and if it exists the developer's and no bridge port? */
static bool
tap_usable(const struct claim *cl, struct net *n, const char *tap)
{
	struct net_link l;
	char why[256];
	int r;

	if (cl->pv->netcap && !cl->pv->root &&
	    access_check(cl->pv, tap, NULL, why, sizeof(why)) < 0)
		return false;
	if ((r = net_link_get(n, tap, &l)) == -ENODEV)
		return cl->pv->root || cl->pv->netcap;	/* qrun may make it */
	return r == 0 && tapdev_check(&l, cl->pv, true, why, sizeof(why)) == 0;
}

/*
 * net.tap "auto": the first of tap0..tap11 the developer may use that no
 * run holds (its lock, kept until the run ends). Dry: the one free now.
 */
static int
tap_claim(struct claim *cl, struct nic *nic, char *why, size_t whylen)
{
	struct net *n = NULL;
	char tap[IFNAMSIZ];
	pid_t holder, prev;
	int fd, r;

	if (!nic->tap_auto)
		return 0;
	if ((r = net_open(&n)) < 0) {
		WHY("netlink: %s", strerror(-r));
		return r;
	}
	r = -ENOSPC;
	for (int k = 0; k <= NETPLAN_TAP_MAX && r == -ENOSPC; k++) {
		snprintf(tap, sizeof(tap), "tap%d", k);
		if (!tap_usable(cl, n, tap))
			continue;
		if ((r = lock_take(cl->state, tap, &fd, &holder, &prev)) ==
		    -EBUSY)
			r = -ENOSPC;
	}
	net_close(n);
	if (r == -ENOSPC)
		WHY("net.tap \"auto\": no free tap: each of tap0..tap11 you "
		    "may use is in use by a run");
	else if (r < 0)
		WHY("%s: cannot lock: %s", tap, strerror(-r));
	if (r < 0)
		return r;
	if (cl->dry)
		lock_release(fd);
	else
		cl->lock_fd = fd, cl->prev = prev;
	netplan_take_tap(nic, tap, cl->pv->user);
	return 0;
}

const struct netmode netmode_tap = {
	.name = "tap",
	.id = NET_TAP,
	.host_tap = true,
	.plan = tap_plan,
	.facts = tap_facts,
	.claim = tap_claim,
	.ensure = tap_ensure,
	.netdev = tapdev_netdev,
	.hint = tap_hint,
	.would = tap_would,
};
