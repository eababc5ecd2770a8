/*
 * mode_switch.c - net.mode "switch": the developer's private network,
 * shared by every guest they run at once, as vmd's switches. N is the
 * number of the developer's tap (net.tap "tap1": switch 1). The switch
 * is bridge qbrN carrying tapN's lab addresses, 172.(20+N).0.1/16 (and
 * fd00:172:(20+N)::1/64 with net.ipv6); each run takes a slot k (slot.c:
 * the first free one, or net.slot), its tap qtapN-k joins qbrN, and its
 * guest is 172.(20+N).0.(k+1) with a MAC derived from (qtapN-k, user).
 *
 * The bridge is a shared resource (share.c): the first run that holds it
 * makes it, journaling into the switch's shared journal, and the last
 * one's undo removes it; a run's own journal holds its tap only. A
 * policy rule (rule.c) keeps the switch from forwarding to other lab
 * networks, so two developers' switches stay apart even where the host
 * routes. With net.vxlan the first holder also gives qbrN a VXLAN port
 * to other hosts (vxlan.c), and bridge and taps the underlay's MTU - 50.
 *
 * net.dhcp: one dnsmasq per switch, on qbrN, started by the first
 * holder and journaled (pid + start time, its files) into the switch's
 * shared journal, so it outlives that run (no parent-death signal) and
 * the last holder's undo stops it with the bridge. It serves every slot
 * a static lease, the MAC derived from (qtapN-k, user) -> 172.(20+N).0.
 * (k+1) (and that MAC's EUI-64 address), named guestK.qrun. A run that
 * sets net.mac gets no lease: the leases follow the derived MACs only.
 * nic->dhcp stays false (that is runnet's per-tap dnsmasq); nic->sw_dhcp
 * says the switch's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qrun.h"

#define WHY(...) snprintf(why, whylen, __VA_ARGS__)

/* net.vxlan: the switch's port to other hosts (vxlan.c), into nic->vx. */
static void
plan_vxlan(const struct config *c, struct nic *nic, struct strv *diags)
{
	const struct strv *rl = &c->net_vxlan_remotes;
	char vni[16], why[256], *remotes = xstrdup(""), *t;

	if (c->net_vxlan_vni == 0 && rl->n == 0)
		goto out;
	if (c->net_vxlan_vni == 0 || rl->n == 0) {
		strv_pushf(diags, "%s: net.vxlan: needs both vni and remotes "
		    "(the other hosts)", c->where[c->net_vxlan_vni ?
		    K_NET_VXLAN_VNI : K_NET_VXLAN_REMOTES]);
		goto out;
	}
	for (size_t i = 0; i < rl->n; i++) {
		t = xasprintf("%s%s%s", remotes, i ? "," : "", rl->v[i]);
		free(remotes);
		remotes = t;
	}
	snprintf(vni, sizeof(vni), "%ld", c->net_vxlan_vni);
	if (vxlan_conf_parse(vni, remotes, c->net_vxlan_dev[0] ?
	    c->net_vxlan_dev : NULL, c->net_vxlan_local[0] ?
	    c->net_vxlan_local : NULL, &nic->vx, why, sizeof(why)) < 0)
		strv_pushf(diags, "%s: net.vxlan: %s",
		    c->where[K_NET_VXLAN_REMOTES], why);
out:
	free(remotes);
}

static void
switch_plan(const struct config *c, const char *user, struct nic *nic,
    struct strv *diags)
{
	struct ipaddr g;

	(void)user;
	if (netplan_names(c, nic, false, diags) < 0)
		return;
	if (netplan_tap_default(nic->tap, &nic->host, &g) < 0) {
		strv_pushf(diags, "%s: net.tap: a switch is numbered by the "
		    "developer's tap, tap0..tap11, not %s",
		    c->where[K_NET_TAP], nic->tap);
		return;
	}
	nic->sw = atoi(nic->tap + 3);
	snprintf(nic->bridge, sizeof(nic->bridge), "qbr%d", nic->sw);
	if (c->net_nat)
		strv_pushf(diags, "%s: net.nat: not available on a switch "
		    "yet; use net.mode \"tap\"", c->where[K_NET_NAT]);
	if (c->net_ipv6 && netplan_tap_default6(nic->tap, &nic->host6) == 0)
		nic->v6_default = true;
	plan_vxlan(c, nic, diags);
	tap_plan_dhcp(c, nic, diags);
	nic->sw_dhcp = nic->dhcp;
	nic->dhcp = false;
	nic->gw = nic->host;
	nic->gw.prefix = -1;
	nic->slot = (int)c->net_slot;
	netplan_take_slot(nic, nic->slot ? nic->slot : 1, user);
	nic->slot = (int)c->net_slot;	/* 0: the claim decides */
	/* from the MAC netplan_make settles on (net.mac's, if set) */
	memset(&nic->guest6, 0, sizeof(nic->guest6));
}

/*
 * IPv6 off in this namespace: the switch carries none (tap mode's rule).
 * Over VXLAN the guest's MTU is the switch's: qbrN's when another run
 * made it, else what vxlan_check says it will be (read only).
 */
static int
switch_facts(struct net *n, struct nic *nic, char *why, size_t whylen)
{
	struct vxlan_plan vp;
	struct net_link br;
	int r;

	if ((r = netmode_tap.facts(n, nic, why, whylen)) < 0 ||
	    nic->vx.vni == 0)
		return r;
	if (net_link_get(n, nic->bridge, &br) == 0) {
		nic->mtu = br.mtu;
		return 0;
	}
	if ((r = vxlan_check(n, &nic->vx, &vp, why, whylen)) == 0)
		nic->mtu = vp.mtu;
	return r;
}

/* Take the slot (or, dry, look which one a run would get). */
static int
switch_claim(struct claim *cl, struct nic *nic, char *why, size_t whylen)
{
	pid_t holder = 0;
	int k = 0, r;

	if (cl->dry)
		r = slot_peek(cl->state, nic->sw, nic->slot, &k, &holder);
	else if ((r = slot_take(cl->state, nic->sw, nic->slot, &cl->slot,
	    &cl->prev, &holder)) == 0)
		k = cl->slot.k;
	if (r == -EBUSY && holder)
		WHY("net.slot: slot %d of %s is in use by qrun pid %ld",
		    nic->slot, nic->bridge, (long)holder);
	else if (r == -EBUSY)
		WHY("net.slot: slot %d of %s is in use", nic->slot,
		    nic->bridge);
	else if (r == -ENOSPC)
		WHY("%s: all %d slots are in use", nic->bridge, SLOT_MAX);
	else if (r < 0)
		WHY("%s: cannot take a slot: %s", nic->bridge, strerror(-r));
	if (r == 0)
		netplan_take_slot(nic, k, cl->pv->user);
	return r;
}

/* One journaled change of the switch, into its shared journal j. */
static int
make_step(const struct host *h, struct journal *j, enum jkind kind,
    const struct net_link *br, const struct ipaddr *a, char *why,
    size_t whylen)
{
	struct jrec rec = { .kind = kind };

	jlink_set(&rec.l[0], br);
	if (a != NULL)
		rec.addr = *a;
	return change_do(j, h->net, &rec, 0, why, whylen);
}

/* No forwarding from the switch to the lab networks (rule.c), the other
 * developers' switches and taps among them. */
static int
switch_fence(const struct host *h, struct journal *j, const struct nic *nic,
    const struct net_link *br, char *why, size_t whylen)
{
	struct ipaddr lab;
	int r;

	if ((r = ipaddr_parse("172.16.0.0/12", IPA_V4 | IPA_PREFIX,
	    &lab)) < 0 || (r = make_step(h, j, J_RULE_ADD, br, &lab, why,
	    whylen)) < 0 || !nic->host6.family)
		return r;
	if ((r = ipaddr_parse("fd00:172::/32", IPA_V6 | IPA_PREFIX,
	    &lab)) < 0)
		return r;
	return make_step(h, j, J_RULE_ADD, br, &lab, why, whylen);
}

/* net.vxlan: the port to the other hosts, checked and attached (its MTU
 * and the bridge's: the underlay's - 50), journaled into j. */
static int
switch_vxlan(const struct host *h, struct journal *j, const struct nic *nic,
    struct net_link *br, char *why, size_t whylen)
{
	struct vxlan_plan vp;
	int r;

	if ((r = vxlan_check(h->net, &nic->vx, &vp, why, whylen)) < 0 ||
	    (r = vxlan_attach(h->net, j, br, &vp, why, whylen)) < 0)
		return r;
	br->mtu = vp.mtu;
	return 0;
}

/* Slot k's static lease: the MAC derived from (qtapN-k, user). */
static void
slot_host(const struct nic *nic, const char *user, int k,
    struct dnsmasq_host *d)
{
	char tap[IFNAMSIZ];

	netplan_mac(slot_tap(nic->sw, k, tap), user, d->mac);
	d->v4 = ipaddr_add(&nic->host, k);
	if (nic->host6.family)
		d->v6 = ipaddr_eui64(&nic->host6, d->mac);
	snprintf(d->name, sizeof(d->name), "guest%d", k);
}

/* net.dhcp: the switch's dnsmasq, serving every slot, into j (the shared
 * journal); left running (its undo stops it) when this run ends. */
static int
switch_dhcp(const struct host *h, const struct nic *nic, struct journal *j,
    unsigned mtu, char *why, size_t whylen)
{
	struct dnsmasq_host *hosts = xcalloc(SLOT_MAX, sizeof(*hosts));
	struct dnsmasq_conf c = { .host = nic->host, .host6 = nic->host6,
	    .dns = nic->dns, .hosts = hosts, .nhosts = SLOT_MAX, .mtu = mtu,
	    .shared = true };
	char *state = priv_state_dir(h->pv);
	struct dnsmasq d;
	int r;

	snprintf(c.link, sizeof(c.link), "%s", nic->bridge);
	for (int k = 1; k <= SLOT_MAX; k++)
		slot_host(nic, h->pv->user, k, &hosts[k - 1]);
	r = dnsmasq_start(j, state, &c, h->pv, &d, why, whylen);
	dnsmasq_forget(&d);	/* on failure, stopped already */
	free(state);
	free(hosts);
	return r;
}

/*
 * The first holder makes qbrN: checked (no such link yet, addresses
 * hostaddr.c allows), created with a MAC of its own (fixed, so ports
 * coming and going never change it under the guests' ARP caches), its
 * addresses, up, and with net.dhcp its dnsmasq. Every change into j, the switch's shared journal.
 */
static int
switch_make(const struct host *h, const struct nic *nic, struct journal *j,
    char *why, size_t whylen)
{
	struct net_link br;
	uint8_t mac[6];
	int r;

	if ((r = net_link_get(h->net, nic->bridge, &br)) == 0) {
		WHY("%s: exists, and no qrun run holds it; delete it, or use "
		    "another tap number", nic->bridge);
		return -EEXIST;
	}
	if ((r = hostaddr_check(h->net, h->pv, nic->bridge, &nic->host, 0,
	    why, whylen)) < 0 || (nic->host6.family && (r = hostaddr_check(
	    h->net, h->pv, nic->bridge, &nic->host6, 0, why, whylen)) < 0))
		return r;
	if ((r = change_link_create(j, h->net, J_BRIDGE_CREATE, nic->bridge,
	    &br)) < 0) {
		WHY("%s: cannot create: %s", nic->bridge, strerror(-r));
		return r;
	}
	netplan_mac(nic->bridge, h->pv->user, mac);
	if ((r = net_link_set_mac(h->net, br.ifindex, mac)) < 0) {
		WHY("%s: cannot set the MAC address: %s", nic->bridge,
		    strerror(-r));
		return r;
	}
	if (nic->vx.vni && (r = switch_vxlan(h, j, nic, &br, why,
	    whylen)) < 0)
		return r;
	if ((r = make_step(h, j, J_ADDR_ADD, &br, &nic->host, why,
	    whylen)) < 0 || (nic->host6.family && (r = make_step(h, j,
	    J_ADDR_ADD, &br, &nic->host6, why, whylen)) < 0) ||
	    (r = switch_fence(h, j, nic, &br, why, whylen)) < 0 ||
	    (r = make_step(h, j, J_LINK_UP, &br, NULL, why, whylen)) < 0)
		return r;
	return nic->sw_dhcp ? switch_dhcp(h, nic, j, nic->vx.vni ? br.mtu :
	    0, why, whylen) : 0;
}

/* Hold qbrN ("hold qbrN" journaled first), making it when first. */
static int
switch_hold(const struct host *h, const struct nic *nic, char *why,
    size_t whylen)
{
	struct jrec rec = { .kind = J_HOLD, .text = nic->bridge };
	bool first;
	int r;

	if ((r = change_hold(h->j, nic->bridge)) < 0) {
		change_why(h->j, &rec, r, why, whylen);
		return r;
	}
	if ((r = share_take(journal_dfd(h->j), nic->bridge, h->net, h->sh,
	    &first)) < 0) {
		WHY("%s: cannot hold: %s", nic->bridge, strerror(-r));
		return r;
	}
	if (first)
		r = switch_make(h, nic, h->sh->j, why, whylen);
	share_ready(h->sh);
	return r;
}

/* Hold the switch, then make the slot's tap its port. */
static int
switch_ensure(const struct host *h, const struct nic *nic, int *fd,
    char *why, size_t whylen)
{
	int r;

	*fd = -1;
	if ((r = switch_hold(h, nic, why, whylen)) < 0)
		return r;
	return bridge_port_ensure(h, nic, fd, why, whylen);
}

static char *
switch_hint(const struct nic *nic)
{
	char h[IPADDR_STRLEN], g[IPADDR_STRLEN], gw[IPADDR_STRLEN], mac[18];
	char slot[16];
	char g6[IPADDR_STRLEN + 8] = "";

	if (nic->slot == 0)	/* qrun check: no slot taken */
		return xasprintf("%s %s, slot: the first free one (qtap%d-K "
		    "-> guest 172.%d.0.K+1)", nic->bridge,
		    ipaddr_cidr(&nic->host, h), nic->sw, 20 + nic->sw);
	if (nic->guest6.family) {
		memcpy(g6, " guest6 ", 8);
		ipaddr_str(&nic->guest6, g6 + 8);
	}
	snprintf(slot, sizeof(slot), "%d", nic->slot);
	return xasprintf("%s on %s %s slot %s -> guest %s gw %s mac %s%s",
	    nic->tap, nic->bridge, ipaddr_cidr(&nic->host, h), slot,
	    ipaddr_str(&nic->guest, g), ipaddr_str(&nic->gw, gw),
	    mac_str(nic->mac, mac), g6);
}

static char *
switch_would(const struct nic *nic, const char *user)
{
	char h[IPADDR_STRLEN], h6[IPADDR_STRLEN];

	return xasprintf("qrun would take slot %d of switch %s (making %s "
	    "with %s%s%s if no run holds it), make %s exist (owner %s) "
	    "without an address, enslave it to %s, then pass it to QEMU as "
	    "an open fd", nic->slot, nic->bridge, nic->bridge,
	    ipaddr_cidr(&nic->host, h), nic->host6.family ? " and " : "",
	    nic->host6.family ? ipaddr_cidr(&nic->host6, h6) : "", nic->tap,
	    user, nic->bridge);
}

const struct netmode netmode_switch = {
	.name = "switch",
	.id = NET_SWITCH,
	.host_tap = true,
	.plan = switch_plan,
	.facts = switch_facts,
	.claim = switch_claim,
	.ensure = switch_ensure,
	.netdev = tapdev_netdev,
	.hint = switch_hint,
	.would = switch_would,
};
