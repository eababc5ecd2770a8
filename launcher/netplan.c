/*
 * netplan.c - the network plan, decided from the profile alone: which
 * NICs the guest gets, and for each its mode, names, addresses, MAC.
 * Pure: no I/O, so every rule of the lab convention (tapN ->
 * 172.(20+N).0.1/16) is unit-tested with plain structs. What a mode
 * does (plan, read host facts, ensure, QEMU's -netdev, the hint) is its
 * struct netmode, found in the table below; the host facts finish the
 * plan before anything changes (runnet_facts).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qrun.h"

#define TAP_MAX		NETPLAN_TAP_MAX

/* The modes by net.mode; NULL: no NIC at all. */
static const struct netmode *const modes[] = {
	[NET_USER] = &netmode_user,
	[NET_TAP] = &netmode_tap,
	[NET_BRIDGE] = &netmode_bridge,
	[NET_NONE] = NULL,
	[NET_SWITCH] = &netmode_switch,
};

const char *
mac_str(const uint8_t m[6], char *buf)
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
	    m[3], m[4], m[5]);
	return buf;
}

int
netplan_tap_default(const char *tap, struct ipaddr *host,
    struct ipaddr *guest)
{
	struct in_addr a;
	long n;

	if (strncmp(tap, "tap", 3) != 0 ||
	    parse_long(tap + 3, 0, TAP_MAX, &n) < 0 ||
	    (tap[3] == '0' && tap[4] != '\0'))
		return -EINVAL;
	a.s_addr = htonl(0xac000001u | (uint32_t)(20 + n) << 16);
	ipaddr_v4(host, a, 16);
	*guest = ipaddr_add(host, 1);
	return 0;
}

/*
 * tapN's IPv6 side: fd00:172:(20+N)::1/64, the decimal digits of 20+N
 * written as they are (tap1: fd00:172:21::1/64), so the IPv4 and the
 * IPv6 network of a tap read alike.
 */
int
netplan_tap_default6(const char *tap, struct ipaddr *host6)
{
	struct ipaddr h, g;
	char text[48];
	long n;

	if (netplan_tap_default(tap, &h, &g) < 0 ||
	    parse_long(tap + 3, 0, TAP_MAX, &n) < 0)
		return -EINVAL;
	snprintf(text, sizeof(text), "fd00:172:%ld::1/64", 20 + n);
	return ipaddr_parse(text, IPA_V6 | IPA_PREFIX, host6);
}

/*
 * A stable, locally administered MAC in QEMU's 52:54:00 range, derived
 * from (tap, user) with FNV-1a, so a developer's guest keeps its MAC (and
 * DHCP lease) across boots while two developers on one bridge differ.
 */
void
netplan_mac(const char *tap, const char *user, uint8_t mac[6])
{
	uint32_t h = 2166136261u;
	const char *parts[2] = { tap, user };

	for (int i = 0; i < 2; i++) {
		for (const char *c = parts[i]; *c; c++)
			h = (h ^ (uint8_t)*c) * 16777619u;
		h = (h ^ 0xff) * 16777619u;
	}
	mac[0] = 0x52, mac[1] = 0x54, mac[2] = 0x00;
	mac[3] = (uint8_t)(h >> 16), mac[4] = (uint8_t)(h >> 8);
	mac[5] = (uint8_t)h;
}

/* net.tap, and net.bridge when bridge, into nic. */
int
netplan_names(const struct config *c, struct nic *nic, bool bridge,
    struct strv *diags)
{
	const char *why;

	if (ifname_check(c->net_tap, &why) < 0) {
		strv_pushf(diags, "%s: net.tap: %s", c->where[K_NET_TAP], why);
		return -EINVAL;
	}
	snprintf(nic->tap, sizeof(nic->tap), "%s", c->net_tap);
	if (!bridge)
		return 0;
	if (ifname_check(c->net_bridge, &why) < 0) {
		strv_pushf(diags, "%s: net.bridge: %s",
		    c->where[K_NET_BRIDGE], why);
		return -EINVAL;
	}
	snprintf(nic->bridge, sizeof(nic->bridge), "%s", c->net_bridge);
	return 0;
}

/* The MAC: net.mac, or derived from the tap (user mode: "user"). */
static void
plan_mac(const struct config *c, const char *user, struct nic *nic,
    struct strv *diags)
{
	nic->mac_given = c->net_mac[0] != '\0';
	if (!nic->mac_given)
		netplan_mac(nic->mode->host_tap ? nic->tap : "user", user,
		    nic->mac);
	else if (parse_mac(c->net_mac, nic->mac) < 0)
		strv_pushf(diags, "%s: net.mac: must be a MAC address like "
		    "52:54:00:12:34:56", c->where[K_NET_MAC]);
}

/* net.netem: an impairment of the link between host and guest, so only
 * where the host has that link (a tap). */
static void
plan_netem(const struct config *c, struct nic *nic, struct strv *diags)
{
	char why[256];

	if (netem_parse(c->net_netem, &nic->netem, why, sizeof(why)) < 0)
		strv_pushf(diags, "%s: net.netem: %s", c->where[K_NET_NETEM],
		    why);
	else if (nic->netem.on && !nic->mode->host_tap)
		strv_pushf(diags, "%s: net.netem: needs a tap on the host "
		    "(net.mode tap or bridge), not %s", c->where[K_NET_NETEM],
		    nic->mode->name);
}

/* net.queues and net.vhost: a tap's, for a virtio NIC (vhost-net
 * serves virtio only, and a capture needs the frames to pass QEMU). */
static void
plan_queues(const struct config *c, struct nic *nic, struct strv *diags)
{
	bool virtio = strncmp(nic->model, "virtio-net", 10) == 0;

	nic->queues = (int)c->net_queues;
	nic->vhost = strcmp(c->net_vhost, "on") == 0 ? VHOST_ON :
	    strcmp(c->net_vhost, "off") == 0 ? VHOST_OFF : VHOST_AUTO;
	if (nic->queues > 1 && (!nic->mode->host_tap || !virtio))
		strv_pushf(diags, "%s: net.queues: %d queues need a tap "
		    "(net.mode tap or bridge) and a virtio-net model, not %s "
		    "and %s",
		    c->where[K_NET_QUEUES], nic->queues, nic->mode->name,
		    nic->model);
	if (nic->vhost == VHOST_ON && (!nic->mode->host_tap || !virtio ||
	    nic->plain_frames))
		strv_pushf(diags, "%s: net.vhost: on needs a tap (net.mode tap "
		    "or bridge), a virtio-net model and no net.capture "
		    "(vhost-net's frames never pass QEMU)",
		    c->where[K_NET_VHOST]);
}

void
netplan_vhost(struct netplan *p, const char *accel, bool usable)
{
	for (size_t i = 0; i < p->n; i++) {
		struct nic *nic = &p->nic[i];

		nic->vhost_on = nic->vhost == VHOST_ON ||
		    (nic->vhost == VHOST_AUTO && usable &&
		    strcmp(accel, "kvm") == 0 && nic->mode->host_tap &&
		    !nic->plain_frames &&
		    strncmp(nic->model, "virtio-net", 10) == 0);
	}
}

/* One NIC from c (the profile's net group, or a net.extra group). */
static void
plan_nic(const struct config *c, const char *user, struct nic *nic,
    int index, struct strv *diags)
{
	nic->index = index;
	nic->guest.prefix = -1;
	nic->sw = -1;
	nic->plain_frames = index == 0 && c->net_capture[0] != '\0';
	snprintf(nic->model, sizeof(nic->model), "%s", c->net_model);
	nic->mode->plan(c, user, nic, diags);
	plan_mac(c, user, nic, diags);
	if (nic->mode->slirp && index > 0 && !nic->mac_given) {
		char name[16];	/* two user-mode NICs: two MACs */

		snprintf(name, sizeof(name), "user%d", index);
		netplan_mac(name, user, nic->mac);
	}
	if (nic->host6.family && !nic->guest6.family)
		nic->guest6 = ipaddr_eui64(&nic->host6, nic->mac);
	plan_netem(c, nic, diags);
	plan_queues(c, nic, diags);
	if ((c->net_vxlan_vni || c->net_vxlan_remotes.n) &&
	    nic->mode->id != NET_SWITCH)
		strv_pushf(diags, "%s: net.vxlan: only a switch (net.mode "
		    "\"switch\") has one; a lab bridge gets its port from qrun "
		    "bridge create --vxlan", c->where[K_NET_VXLAN_VNI]);
}

/* Two NICs of one run on one named tap would fight over it. */
static void
plan_distinct(const struct config *c, const struct netplan *p,
    struct strv *diags)
{
	for (size_t i = 1; i < p->n; i++)
		for (size_t k = 0; k < i; k++)
			if (p->nic[i].mode->host_tap && p->nic[k].mode->host_tap &&
			    p->nic[i].sw < 0 && !p->nic[i].tap_auto &&
			    strcmp(p->nic[i].tap, p->nic[k].tap) == 0) {
				strv_pushf(diags, "%s: net.extra[%zu]: tap %s "
				    "is NIC %zu's already",
				    c->where[K_NET_EXTRA], i, p->nic[i].tap,
				    k + 1);
				return;
			}
}

int
netplan_make(const struct config *c, const char *user, struct netplan *p,
    struct strv *diags)
{
	size_t before = diags->n;
	const struct config *x;

	memset(p, 0, sizeof(*p));
	p->keep = c->net_keep;
	if ((p->nic[0].mode = modes[c->net_mode]) != NULL)
		plan_nic(c, user, &p->nic[p->n++], 0, diags);
	for (size_t i = 0; i < c->net_nextra; i++) {
		x = &c->net_extra[i];
		if ((p->nic[p->n].mode = modes[x->net_mode]) == NULL)
			continue;	/* mode "none": no NIC */
		plan_nic(x, user, &p->nic[p->n], (int)p->n, diags);
		p->n++;
	}
	plan_distinct(c, p, diags);
	return diags->n == before ? 0 : -EINVAL;
}

void
netplan_take_tap(struct nic *nic, const char *tap, const char *user)
{
	snprintf(nic->tap, sizeof(nic->tap), "%s", tap);
	(void)netplan_tap_default(tap, &nic->host, &nic->guest);
	nic->gw = nic->host;
	nic->gw.prefix = -1;
	if (!nic->mac_given)
		netplan_mac(nic->tap, user, nic->mac);
	if (nic->v6_default && netplan_tap_default6(tap, &nic->host6) == 0)
		nic->guest6 = ipaddr_eui64(&nic->host6, nic->mac);
}

void
netplan_take_slot(struct nic *nic, int k, const char *user)
{
	char tap[IFNAMSIZ];

	nic->slot = k;
	snprintf(nic->tap, sizeof(nic->tap), "%s", slot_tap(nic->sw, k, tap));
	nic->guest = ipaddr_add(&nic->host, k);
	if (!nic->mac_given)
		netplan_mac(nic->tap, user, nic->mac);
	if (nic->host6.family)
		nic->guest6 = ipaddr_eui64(&nic->host6, nic->mac);
}

const struct nic *
netplan_main(const struct netplan *p)
{
	return p->n > 0 ? &p->nic[0] : NULL;
}

/* The device field stays empty: the kernel and initramfs-tools then use
 * the first NIC, which udev may have renamed from eth0 (ens3). */
char *
netplan_kernel_ip(const struct netplan *p)
{
	char g[IPADDR_STRLEN], gw[IPADDR_STRLEN], m[IPADDR_STRLEN];
	const struct nic *nic = netplan_main(p);

	if (nic == NULL || nic->guest.family != AF_INET ||
	    nic->guest.prefix <= 0)
		return NULL;
	return xasprintf("ip=%s::%s:%s:::off",
	    ipaddr_str(&nic->guest, g),
	    nic->gw.family ? ipaddr_str(&nic->gw, gw) : "",
	    ipaddr_mask4(nic->guest.prefix, m));
}

char *
netplan_hint(const struct netplan *p)
{
	struct strv lines = { 0 };
	char *all;

	if (p->n == 0)
		return xstrdup("no network");
	for (size_t i = 0; i < p->n; i++)
		strv_take(&lines, p->nic[i].mode->hint(&p->nic[i]));
	all = strv_join(&lines, "\n");
	strv_free(&lines);
	return all;
}
