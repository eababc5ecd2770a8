/*
 * bridge.c - bridged mode for one run: the developer's tap joins an
 * existing lab bridge without any address, with the bridge's MTU, and the
 * guest hint comes from the bridge's IPv4 networks. The bridge and its
 * other ports are never changed by a run; every change to the tap is
 * journaled first and undone on exit. Every check runs before the first
 * change. Errors come back as -errno with one sentence in why (no
 * "qrun: ").
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "qrun.h"

#define WHY(...) snprintf(why, whylen, __VA_ARGS__)

/* The planned bridge, which must exist and be a bridge. */
static int
bridge_get(struct net *n, const struct netplan *p, struct net_link *br,
    char *why, size_t whylen)
{
	int r = net_link_get(n, p->bridge, br);

	if (r == -ENODEV) {
		WHY("%s: no such bridge; ask an admin to create it with its "
		    "lab uplink, e.g.: sudo qrun bridge create %s --uplink "
		    "eth1", p->bridge, p->bridge);
		return r;
	}
	if (r < 0) {
		WHY("%s: cannot look up: %s", p->bridge, strerror(-r));
		return r;
	}
	if (strcmp(br->kind, "bridge") != 0) {
		WHY("%s: is not a bridge (%s)", p->bridge,
		    br->kind[0] ? br->kind : "no kind");
		return -EINVAL;
	}
	return 0;
}

/* Append "A.B.C.D/P" (the network of a) to the plan's lan, once. */
static void
lan_add(struct netplan *p, const struct net_addr *a)
{
	struct in_addr net = { htonl(ntohl(a->addr.s_addr) &
	    prefix_mask(a->prefix)) };
	char b[INET_ADDRSTRLEN], item[24], list[sizeof(p->lan) + 4];
	size_t len = strlen(p->lan);

	/* whole items only: "1.2.3.0/24" is not in "11.2.3.0/24" */
	snprintf(item, sizeof(item), ", %s/%d,", ip_str(net, b), a->prefix);
	snprintf(list, sizeof(list), ", %s,", p->lan);
	if (strstr(list, item) != NULL)
		return;
	item[strlen(item) - 1] = '\0';
	snprintf(p->lan + len, sizeof(p->lan) - len, "%s%s",
	    len ? ", " : "", item + 2);
}

/* Is the planned guest a free host address in a's network? */
static bool
guest_in(const struct netplan *p, const struct net_addr *a)
{
	uint32_t m = prefix_mask(a->prefix), g = ntohl(p->guest.s_addr);

	if ((g & m) != (ntohl(a->addr.s_addr) & m))
		return false;
	if (a->prefix < 31 && ((g & ~m) == 0 || (g | m) == 0xffffffffu))
		return false;
	return true;
}

/*
 * Read the bridge's IPv4 networks into p->lan and take the prefix of
 * the one holding the planned guest (for ip= on kernel boots). A guest
 * address outside every network, or one the bridge itself uses, is an
 * error (-EDOM). A bridge without IPv4 addresses cannot be checked.
 */
static int
lan_read(struct net *n, const struct net_link *br, struct netplan *p,
    char *why, size_t whylen)
{
	struct net_addr a[32];
	char b[INET_ADDRSTRLEN];
	size_t na = 0, k;
	int r;

	r = net_addr_list(n, br->ifindex, a, ARRAY_SIZE(a), &na);
	if (r < 0 && r != -ENOSPC) {
		WHY("%s: cannot read addresses: %s", p->bridge, strerror(-r));
		return r;
	}
	p->lan[0] = '\0';
	p->prefix = na > 0 ? a[0].prefix : 0;
	for (k = 0; k < na; k++)
		lan_add(p, &a[k]);
	if (!p->have_guest || na == 0)
		return 0;
	for (k = 0; k < na; k++)
		if (a[k].addr.s_addr == p->guest.s_addr) {
			WHY("net.guest_addr: %s is %s's own address",
			    ip_str(p->guest, b), p->bridge);
			return -EADDRINUSE;
		}
	for (k = 0; k < na && !guest_in(p, &a[k]); k++)
		;
	if (k == na) {
		WHY("net.guest_addr: %s is outside every network of %s (%s)",
		    ip_str(p->guest, b), p->bridge, p->lan);
		return -EDOM;
	}
	p->prefix = a[k].prefix;
	return 0;
}

int
bridge_read_lan(struct net *n, struct netplan *p, char *why, size_t whylen)
{
	struct net_link br;
	int r;

	if ((r = bridge_get(n, p, &br, why, whylen)) < 0)
		return r;
	return lan_read(n, &br, p, why, whylen);
}

/* An existing interface may serve as the developer's bridge port? */
static int
check_tap(struct net *n, const struct net_link *l, const struct net_link *br,
    const struct priv *pv, char *why, size_t whylen)
{
	struct net_addr a[8];
	struct net_link m;
	char list[160] = "", b[INET_ADDRSTRLEN];
	size_t na = 0, len;
	int r;

	if ((r = ensure_check_tap(l, pv, NET_BRIDGE, why, whylen)) < 0)
		return r;
	if (l->master != 0 && l->master != br->ifindex) {
		if (net_link_get_index(n, l->master, &m) < 0)
			snprintf(m.name, sizeof(m.name), "ifindex %d",
			    l->master);
		WHY("%s: is a port of %s, not of %s; refusing to move it",
		    l->name, m.name, br->name);
		return -EBUSY;
	}
	r = net_addr_list(n, l->ifindex, a, ARRAY_SIZE(a), &na);
	if (r < 0 && r != -ENOSPC) {
		WHY("%s: cannot read addresses: %s", l->name, strerror(-r));
		return r;
	}
	for (size_t k = 0; k < na; k++) {
		len = strlen(list);
		snprintf(list + len, sizeof(list) - len, "%s%s/%d",
		    k ? ", " : "", ip_str(a[k].addr, b), a[k].prefix);
	}
	if (na > 0) {
		WHY("%s: has %s; a bridge port must have no address (remove "
		    "it, or use another tap)", l->name, list);
		return -EEXIST;
	}
	return 0;
}

/*
 * Create the tap for the developer. Its host-side MAC is set high
 * (fe:...), as libvirt does, so it never becomes the lowest port MAC and
 * the bridge's own MAC never changes because of a run.
 */
static int
create_tap(struct net *n, struct journal *j, const struct netplan *p,
    const struct priv *pv, struct net_link *l, int *fd, char *why,
    size_t whylen)
{
	uint8_t mac[6];
	int r;

	if ((r = ensure_create_tap(n, j, p, pv, l, fd, why, whylen)) < 0)
		return r;
	memcpy(mac, p->mac, sizeof(mac));
	mac[0] = 0xfe;
	if (net_link_set_mac(n, l->ifindex, mac) == 0)	/* best effort */
		memcpy(l->mac, mac, sizeof(l->mac));
	return 0;
}

/* One journaled change; f the change. EPERM gets a hint. */
static int
step(struct journal *j, const struct netplan *p, int r, char *why,
    size_t whylen, const char *what)
{
	if (r < 0) {
		journal_cancel(j);
		WHY("%s: cannot %s: %s%s", p->tap, what, strerror(-r),
		    r == -EPERM ? " (bridged mode needs root or "
		    "cap_net_admin)" : "");
	}
	return r;
}

/*
 * Bridged mode: make p->tap exist (the developer's), without address,
 * with the bridge's MTU, enslaved to p->bridge and up; fill p->lan and
 * p->prefix from the bridge. Each change is journaled first: mtu TAP OLD
 * NEW, enslave TAP BR, link-up TAP.
 */
int
bridge_ensure_port(struct net *n, struct journal *j, struct netplan *p,
    const struct priv *pv, struct net_link *l, int *fd, char *why,
    size_t whylen)
{
	struct net_link br;
	bool exists;
	int r;

	memset(l, 0, sizeof(*l));
	if ((r = bridge_get(n, p, &br, why, whylen)) < 0 ||
	    (r = lan_read(n, &br, p, why, whylen)) < 0)
		return r;
	r = net_link_get(n, p->tap, l);
	if (r < 0 && r != -ENODEV) {
		WHY("%s: cannot look up: %s", p->tap, strerror(-r));
		return r;
	}
	exists = r == 0;
	if (exists && (r = check_tap(n, l, &br, pv, why, whylen)) < 0)
		return r;
	if (!exists && (r = create_tap(n, j, p, pv, l, fd, why, whylen)) < 0)
		return r;
	if (l->mtu != br.mtu && br.mtu >= 68) {
		if ((r = ensure_log(j, p->tap, why, whylen, "mtu %s %u %u",
		    p->tap, l->mtu, br.mtu)) < 0 ||
		    (r = step(j, p, net_link_set_mtu(n, l->ifindex, br.mtu),
		    why, whylen, "set the MTU")) < 0)
			return r;
		l->mtu = br.mtu;
	}
	if (l->master != br.ifindex) {
		if ((r = ensure_log(j, p->tap, why, whylen, "enslave %s %s",
		    p->tap, p->bridge)) < 0)
			return r;
		r = net_link_set_master(n, l->ifindex, br.ifindex);
		if ((r = step(j, p, r, why, whylen, "join the bridge")) < 0)
			return r;
		l->master = br.ifindex;
	}
	if (l->up)
		return 0;
	if ((r = ensure_log(j, p->tap, why, whylen, "link-up %s", p->tap)) < 0)
		return r;
	if ((r = step(j, p, net_link_set_up(n, l->ifindex, true), why, whylen,
	    "set up")) == 0)
		l->up = true;
	return r;
}
