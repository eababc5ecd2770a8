/*
 * hostaddr.c - may a host interface take this address? One set of rules
 * for a run's tap, "tap create --addr" and "bridge create --addr", so an
 * address can never take the host's own traffic:
 *   - a unicast host address: not loopback, multicast, link-local,
 *     unspecified, reserved, nor its prefix's network or broadcast;
 *   - granted: a capability-enabled qrun gives a user only the
 *     convention address of a granted tap (tapN: 172.(20+N).0.1/16,
 *     fd00:172:(20+N)::1/64) or
 *     what the access list's addrs grant;
 *   - its network overlaps no route on another interface;
 *   - a network that is not private (RFC 1918, shared 100.64/10, IPv6
 *     unique local) must not be routed by the host today: it would take
 *     over traffic the host sends out its default route (8.8.8.1/24,
 *     128.0.0.1/1).
 * Reads only; -errno with one sentence in why.
 */
#include <stdio.h>
#include <string.h>

#include "qrun.h"

#define WHY(...) snprintf(why, whylen, __VA_ARGS__)

/* Is a the lab convention address of tap (IPv4 or IPv6), or of switch
 * qbrN (tapN's)? */
static bool
convention(const char *ifname, const struct ipaddr *a)
{
	struct ipaddr h, g;
	char sw[IFNAMSIZ], tap[IFNAMSIZ];

	if (strncmp(ifname, "qbr", 3) == 0 &&
	    access_switch_of(ifname, sw) == 0) {	/* qbrN: tapN's */
		snprintf(tap, sizeof(tap), "tap%s", sw + 3);
		ifname = tap;
	}
	if (a->family == AF_INET6)
		return netplan_tap_default6(ifname, &h) == 0 &&
		    ipaddr_same(&h, a);
	return netplan_tap_default(ifname, &h, &g) == 0 && ipaddr_same(&h, a);
}

/* A route on another interface overlapping the network? */
static int
overlap(struct net *n, const char *ifname, const struct ipaddr *net,
    int self, char *why, size_t whylen)
{
	char other[IFNAMSIZ] = "", b[IPADDR_STRLEN];
	int r = net_route_overlap(n, net, self, other);

	if (r < 0) {
		WHY("%s: cannot read routes: %s", ifname, strerror(-r));
		return r;
	}
	if (r > 0) {
		WHY("%s: %s overlaps a route on %s; pick another tap or set "
		    "net.host_addr%s", ifname, ipaddr_cidr(net, b), other,
		    net->family == AF_INET6 ? "6" : "");
		return -EADDRINUSE;
	}
	return 0;
}

/* A public network the host routes today (its default route). */
static int
public_routed(struct net *n, const char *ifname, const struct ipaddr *net,
    int self, char *why, size_t whylen)
{
	struct net_link o = { .name = "?" };
	struct ipaddr first = ipaddr_add(net, 1);
	char b[IPADDR_STRLEN];
	struct net_route rt;
	int r;

	if (ipaddr_private(net))
		return 0;
	if ((r = net_route_get(n, &first, &rt)) < 0) {
		WHY("%s: cannot read routes: %s", ifname, strerror(-r));
		return r;
	}
	if (rt.ifindex == 0 || rt.ifindex == self)
		return 0;
	(void)net_link_get_index(n, rt.ifindex, &o);
	WHY("%s: %s is not a private network, and the host sends its traffic "
	    "out %s now; refusing to take it over", ifname,
	    ipaddr_cidr(net, b), o.name);
	return -EADDRINUSE;
}

/*
 * May ifname (ifindex self, 0 when it does not exist yet) take a, for
 * pv? Checks in the order above; the first problem is the answer.
 */
int
hostaddr_check(struct net *n, const struct priv *pv, const char *ifname,
    const struct ipaddr *a, int self, char *why, size_t whylen)
{
	struct ipaddr net = ipaddr_net(a);
	char b[IPADDR_STRLEN];
	const char *bad;
	int r;

	if ((bad = ipaddr_refuse(a)) != NULL) {
		WHY("%s: %s is %s", ifname, ipaddr_cidr(a, b), bad);
		return -EINVAL;
	}
	if (!convention(ifname, a) &&
	    (r = access_addr_check(pv, ifname, a, why, whylen)) < 0)
		return r;
	if ((r = overlap(n, ifname, &net, self, why, whylen)) < 0)
		return r;
	return public_routed(n, ifname, &net, self, why, whylen);
}
