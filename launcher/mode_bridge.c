/*
 * mode_bridge.c - net.mode "bridge": the developer's tap joins an
 * existing lab bridge without any address, with the bridge's MTU, and
 * the guest takes an address of the lab network. The bridge's IPv4
 * networks and MTU are host facts read before anything changes (they
 * decide the guest's prefix, hence ip= for kernel boots, and a virtio
 * guest's MTU, so --dry-run shows them too). The bridge and its other
 * ports are never changed by a run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qrun.h"

#define WHY(...) snprintf(why, whylen, __VA_ARGS__)

static void
bridge_plan(const struct config *c, const char *user, struct nic *nic,
    struct strv *diags)
{
	(void)user;
	if (netplan_names(c, nic, true, diags) < 0 ||
	    c->net_guest_addr[0] == '\0')
		return;
	if (ipaddr_parse(c->net_guest_addr, IPA_V4 | IPA_NOPREFIX,
	    &nic->guest) < 0)
		strv_pushf(diags, "%s: net.guest_addr: must be an IPv4 "
		    "address, like 10.10.0.50", c->where[K_NET_GUEST_ADDR]);
}

/* The planned bridge, which must exist and be a bridge. */
static int
bridge_get(struct net *n, const struct nic *nic, struct net_link *br,
    char *why, size_t whylen)
{
	int r = net_link_get(n, nic->bridge, br);

	if (r == -ENODEV) {
		WHY("%s: no such bridge; ask an admin to create it with its "
		    "lab uplink, e.g.: sudo qrun bridge create %s --uplink "
		    "eth1", nic->bridge, nic->bridge);
		return r;
	}
	if (r < 0) {
		WHY("%s: cannot look up: %s", nic->bridge, strerror(-r));
		return r;
	}
	if (strcmp(br->kind, "bridge") != 0) {
		WHY("%s: is not a bridge (%s)", nic->bridge,
		    br->kind[0] ? br->kind : "no kind");
		return -EINVAL;
	}
	return 0;
}

/* Append the network of a to nic->lan, once. */
static void
lan_add(struct nic *nic, const struct ipaddr *a)
{
	struct ipaddr net = ipaddr_net(a);
	char item[IPADDR_STRLEN + 4], list[sizeof(nic->lan) + 4], b[64];
	size_t len = strlen(nic->lan);

	/* whole items only: "1.2.3.0/24" is not in "11.2.3.0/24" */
	snprintf(item, sizeof(item), ", %s,", ipaddr_cidr(&net, b));
	snprintf(list, sizeof(list), ", %s,", nic->lan);
	if (strstr(list, item) != NULL)
		return;
	item[strlen(item) - 1] = '\0';
	snprintf(nic->lan + len, sizeof(nic->lan) - len, "%s%s",
	    len ? ", " : "", item + 2);
}

/* Is the planned guest a free host address in a's network? */
static bool
guest_in(const struct nic *nic, const struct ipaddr *a)
{
	struct ipaddr g = nic->guest;

	g.prefix = a->prefix;
	return ipaddr_contains(a, &g) && ipaddr_refuse(&g) == NULL;
}

/*
 * The bridge's IPv4 networks into nic->lan, and the prefix of the one
 * holding the planned guest (for ip= on kernel boots). A guest address
 * outside every network, or one the bridge itself uses, is an error. A
 * bridge without IPv4 addresses cannot be checked.
 */
static int
bridge_facts(struct net *n, struct nic *nic, char *why, size_t whylen)
{
	char b[IPADDR_STRLEN];
	struct net_link br;
	struct net_addr a[32];
	size_t na = 0, k;
	int r;

	if ((r = bridge_get(n, nic, &br, why, whylen)) < 0)
		return r;
	nic->mtu = br.mtu;
	r = net_addr_list(n, br.ifindex, AF_INET, a, ARRAY_SIZE(a), &na);
	if (r < 0 && r != -ENOSPC) {
		WHY("%s: cannot read addresses: %s", nic->bridge, strerror(-r));
		return r;
	}
	for (k = 0; k < na; k++)
		lan_add(nic, &a[k].a);
	if (nic->guest.family == 0 || na == 0)
		return 0;
	for (k = 0; k < na; k++)
		if (ipaddr_eq(&a[k].a, &nic->guest)) {
			WHY("net.guest_addr: %s is %s's own address",
			    ipaddr_str(&nic->guest, b), nic->bridge);
			return -EADDRINUSE;
		}
	for (k = 0; k < na && !guest_in(nic, &a[k].a); k++)
		;
	if (k == na) {
		WHY("net.guest_addr: %s is outside every network of %s (%s)",
		    ipaddr_str(&nic->guest, b), nic->bridge, nic->lan);
		return -EDOM;
	}
	nic->guest.prefix = a[k].a.prefix;
	return 0;
}

/* An existing interface may serve as the developer's bridge port? */
static int
port_check(struct net *n, const struct net_link *l, const struct net_link *br,
    const struct priv *pv, char *why, size_t whylen)
{
	char list[160] = "", b[IPADDR_STRLEN];
	struct net_addr a[8];
	struct net_link m;
	size_t na = 0, len, k;
	int r;

	if ((r = tapdev_check(l, pv, false, why, whylen)) < 0)
		return r;
	if (l->master != 0 && l->master != br->ifindex) {
		if (net_link_get_index(n, l->master, &m) < 0)
			snprintf(m.name, sizeof(m.name), "ifindex %d",
			    l->master);
		WHY("%s: is a port of %s, not of %s; refusing to move it",
		    l->name, m.name, br->name);
		return -EBUSY;
	}
	r = net_addr_list(n, l->ifindex, AF_INET, a, ARRAY_SIZE(a), &na);
	if (r < 0 && r != -ENOSPC) {
		WHY("%s: cannot read addresses: %s", l->name, strerror(-r));
		return r;
	}
	for (k = 0; k < na; k++) {
		len = strlen(list);
		snprintf(list + len, sizeof(list) - len, "%s%s", k ? ", " : "",
		    ipaddr_cidr(&a[k].a, b));
	}
	if (na > 0) {
		WHY("%s: has %s; a bridge port must have no address (remove "
		    "it, or use another tap)", l->name, list);
		return -EEXIST;
	}
	return 0;
}

/*
 * A new tap for the port. Its host-side MAC is set high (fe:...), as
 * libvirt does, so it never becomes the lowest port MAC and the bridge's
 * own MAC never changes because of a run.
 */
static int
port_create(const struct host *h, const struct nic *nic, struct net_link *l,
    char *why, size_t whylen)
{
	uint8_t mac[6];
	int fd;

	if ((fd = tapdev_create(h, nic, l, why, whylen)) < 0)
		return fd;
	memcpy(mac, nic->mac, sizeof(mac));
	mac[0] = 0xfe;
	if (net_link_set_mac(h->net, l->ifindex, mac) == 0) /* best effort */
		memcpy(l->mac, mac, sizeof(l->mac));
	return fd;
}

/* One journaled change of the port, with the hint bridged mode needs. */
static int
port_step(const struct host *h, const struct nic *nic, struct jrec *rec,
    const struct net_link *l, char *why, size_t whylen)
{
	size_t len;
	int r;

	jlink_set(&rec->l[0], l);
	if ((r = tapdev_change(h, nic, rec, why, whylen)) == -EPERM &&
	    (len = strlen(why)) < whylen)
		snprintf(why + len, whylen - len, " (bridged mode needs root "
		    "or cap_net_admin)");
	return r;
}

/* The port's MTU, bridge and state, as the bridge needs them. */
static int
port_join(const struct host *h, const struct nic *nic, struct net_link *l,
    const struct net_link *br, char *why, size_t whylen)
{
	struct jrec rec = { .kind = J_MTU, .mtu = { l->mtu, br->mtu } };
	int r;

	if (l->mtu != br->mtu && br->mtu >= 68 &&
	    (r = port_step(h, nic, &rec, l, why, whylen)) < 0)
		return r;
	if (l->master != br->ifindex) {
		rec = (struct jrec){ .kind = J_ENSLAVE };
		jlink_set(&rec.l[1], br);
		if ((r = port_step(h, nic, &rec, l, why, whylen)) < 0)
			return r;
	}
	rec = (struct jrec){ .kind = J_LINK_UP };
	return l->up ? 0 : port_step(h, nic, &rec, l, why, whylen);
}

/*
 * Make nic->tap exist (the developer's), without address, with the
 * bridge's MTU, enslaved to nic->bridge and up; *fd its queue. A
 * switch's port is made the same way (mode_switch.c).
 */
int
bridge_port_ensure(const struct host *h, const struct nic *nic, int *fd,
    char *why, size_t whylen)
{
	struct net_link br, l;
	int r;

	*fd = -1;
	if ((r = bridge_get(h->net, nic, &br, why, whylen)) < 0)
		return r;
	r = net_link_get(h->net, nic->tap, &l);
	if (r < 0 && r != -ENODEV) {
		WHY("%s: cannot look up: %s", nic->tap, strerror(-r));
		return r;
	}
	if (r == 0 && (r = port_check(h->net, &l, &br, h->pv, why,
	    whylen)) < 0)
		return r;
	if (r == -ENODEV && (*fd = port_create(h, nic, &l, why, whylen)) < 0)
		return *fd;
	if ((r = port_join(h, nic, &l, &br, why, whylen)) < 0)
		return r;
	return tapdev_open(nic, &l, fd, why, whylen);
}

static char *
bridge_hint(const struct nic *nic)
{
	char g[IPADDR_STRLEN], mac[18];

	mac_str(nic->mac, mac);
	if (nic->guest.family && nic->guest.prefix > 0)
		return xasprintf("%s on %s -> guest %s gw none mac %s",
		    nic->tap, nic->bridge, ipaddr_cidr(&nic->guest, g), mac);
	if (nic->guest.family)	/* the bridge has no IPv4 network */
		return xasprintf("%s on %s -> guest %s mac %s", nic->tap,
		    nic->bridge, ipaddr_str(&nic->guest, g), mac);
	if (nic->lan[0] != '\0')
		return xasprintf("%s on %s -> guest needs an address in %s, "
		    "gateway none, mac %s", nic->tap, nic->bridge, nic->lan,
		    mac);
	return xasprintf("%s on %s -> guest needs an address of the "
	    "bridge's network, mac %s", nic->tap, nic->bridge, mac);
}

static char *
bridge_would(const struct nic *nic, const char *user)
{
	return xasprintf("qrun would make %s exist (owner %s), up without an "
	    "address, with %s's MTU, enslave it to %s, then pass it to QEMU "
	    "as an open fd", nic->tap, user, nic->bridge, nic->bridge);
}

const struct netmode netmode_bridge = {
	.name = "bridge",
	.id = NET_BRIDGE,
	.host_tap = true,
	.plan = bridge_plan,
	.facts = bridge_facts,
	.ensure = bridge_port_ensure,
	.netdev = tapdev_netdev,
	.hint = bridge_hint,
	.would = bridge_would,
};
