/*
 * netplan.c - the network plan, decided from the profile alone: mode, tap,
 * host and guest addresses, MAC, forwards. Pure: no I/O, so every rule of
 * the lab convention (tapN -> 172.(20+N).0.1/16) is unit-tested with plain
 * structs. What only the host can tell (a bridge's networks, conflicting
 * routes, owners) is checked later by the command layer through net.c.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qrun.h"

/* Slirp's fixed addresses (QEMU's defaults for -netdev user). */
#define SLIRP_GUEST	"10.0.2.15"
#define SLIRP_GW	"10.0.2.2"
#define SLIRP_PREFIX	24

#define TAP_MAX		11	/* tap11 -> 172.31, the last private /16 */

const char *
ip_str(struct in_addr a, char *buf)
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* RFC 1918: 10/8, 172.16/12, 192.168/16. */
static bool
is_private(struct in_addr a)
{
	uint32_t h = ntohl(a.s_addr);

	return (h & 0xff000000u) == 0x0a000000u ||
	    (h & 0xfff00000u) == 0xac100000u ||
	    (h & 0xffff0000u) == 0xc0a80000u;
}

int
netplan_tap_default(const char *tap, struct in_addr *host,
    struct in_addr *guest, int *prefix)
{
	long n;

	if (strncmp(tap, "tap", 3) != 0 ||
	    parse_long(tap + 3, 0, TAP_MAX, &n) < 0 ||
	    (tap[3] == '0' && tap[4] != '\0'))
		return -EINVAL;
	host->s_addr = htonl(0xac000001u | (uint32_t)(20 + n) << 16);
	guest->s_addr = htonl(ntohl(host->s_addr) + 1);
	*prefix = 16;
	return 0;
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

static void
plan_forwards(const struct config *c, struct netplan *p, struct strv *diags)
{
	for (size_t i = 0; i < c->net_forwards.n; i++) {
		const char *f = c->net_forwards.v[i];
		struct forward *fw;
		unsigned h, g;
		char proto[4] = "tcp";
		int used = 0;

		if (p->nfwd == ARRAY_SIZE(p->fwd)) {
			strv_pushf(diags, "%s: net.forwards: more than %zu "
			    "forwards", c->where[K_NET_FORWARDS],
			    ARRAY_SIZE(p->fwd));
			return;
		}
		if (sscanf(f, "%3[a-z]:%u:%u%n", proto, &h, &g, &used) != 3 ||
		    f[used] != '\0') {
			strcpy(proto, "tcp");
			if (sscanf(f, "%u:%u%n", &h, &g, &used) != 2 ||
			    f[used] != '\0' || h == 0 || g == 0 ||
			    h > 65535 || g > 65535) {
				strv_pushf(diags, "%s: net.forwards: forward "
				    "\"%s\": must be [tcp|udp:]HOSTPORT:"
				    "GUESTPORT", c->where[K_NET_FORWARDS], f);
				continue;
			}
		}
		fw = &p->fwd[p->nfwd++];
		memcpy(fw->proto, proto, sizeof(fw->proto));
		fw->host_port = (uint16_t)h;
		fw->guest_port = (uint16_t)g;
	}
}

/* Host and guest of a tap: explicit, or the lab default for tap0..11. */
static void
plan_tap_addrs(const struct config *c, struct netplan *p, struct strv *diags)
{
	const char *hw = c->where[K_NET_HOST_ADDR];
	const char *gw = c->where[K_NET_GUEST_ADDR];
	uint32_t mask, h, g;

	if (c->net_host_addr[0] == '\0') {
		if (netplan_tap_default(p->tap, &p->host, &p->guest,
		    &p->prefix) < 0) {
			strv_pushf(diags, "%s: net.tap: %s has no default "
			    "address (only tap0..tap%d do); set net.host_addr "
			    "and net.guest_addr", c->where[K_NET_TAP], p->tap,
			    TAP_MAX);
			return;
		}
		if (c->net_guest_addr[0] == '\0')
			goto done;
	} else if (parse_ipv4(c->net_host_addr, &p->host, &p->prefix,
	    true) < 0) {
		strv_pushf(diags, "%s: net.host_addr: must be an IPv4 address "
		    "with prefix, like 172.21.0.1/16", hw);
		return;
	}
	mask = prefix_mask(p->prefix);
	h = ntohl(p->host.s_addr);
	if (c->net_guest_addr[0] == '\0') {
		g = h + 1;
		if ((g & mask) != (h & mask) || (g | mask) == 0xffffffffu) {
			strv_pushf(diags, "%s: net.guest_addr: must be set "
			    "(no free address after %s)", gw,
			    c->net_host_addr);
			return;
		}
		p->guest.s_addr = htonl(g);
	} else if (parse_ipv4(c->net_guest_addr, &p->guest, NULL,
	    false) < 0) {
		strv_pushf(diags, "%s: net.guest_addr: must be an IPv4 "
		    "address, like 172.21.0.2", gw);
		return;
	}
	g = ntohl(p->guest.s_addr);
	if ((g & mask) != (h & mask) || g == h || (g & ~mask) == 0 ||
	    (g | mask) == 0xffffffffu) {
		char hb[INET_ADDRSTRLEN];

		strv_pushf(diags, "%s: net.guest_addr: %s is not a free host "
		    "address in the network of %s/%d", gw, c->net_guest_addr,
		    ip_str(p->host, hb), p->prefix);
		return;
	}
done:
	if (c->net_host_addr[0] == '\0' && !is_private(p->host))
		strv_pushf(diags, "%s: net.tap: default address of %s is not "
		    "private", c->where[K_NET_TAP], p->tap);
	p->gw = p->host;
	p->have_guest = true;
}

/* Mode-specific names: the tap for tap/bridge mode, the bridge. */
static void
plan_names(const struct config *c, struct netplan *p, struct strv *diags)
{
	const char *why;

	if (ifname_check(c->net_tap, &why) < 0) {
		strv_pushf(diags, "%s: net.tap: %s", c->where[K_NET_TAP], why);
		return;
	}
	snprintf(p->tap, sizeof(p->tap), "%s", c->net_tap);
	if (c->net_mode != NET_BRIDGE)
		return;
	if (ifname_check(c->net_bridge, &why) < 0) {
		strv_pushf(diags, "%s: net.bridge: %s",
		    c->where[K_NET_BRIDGE], why);
		return;
	}
	snprintf(p->bridge, sizeof(p->bridge), "%s", c->net_bridge);
}

int
netplan_make(const struct config *c, const char *user, struct netplan *p,
    struct strv *diags)
{
	size_t before = diags->n;

	memset(p, 0, sizeof(*p));
	p->mode = c->net_mode;
	p->keep = c->net_keep;
	p->plain_frames = c->net_capture[0] != '\0';
	snprintf(p->model, sizeof(p->model), "%s", c->net_model);
	switch (p->mode) {
	case NET_NONE:
		return 0;
	case NET_USER:
		plan_forwards(c, p, diags);
		inet_pton(AF_INET, SLIRP_GUEST, &p->guest);
		inet_pton(AF_INET, SLIRP_GW, &p->gw);
		p->prefix = SLIRP_PREFIX;
		p->have_guest = true;
		break;
	case NET_TAP:
		plan_names(c, p, diags);
		if (diags->n == before)
			plan_tap_addrs(c, p, diags);
		break;
	case NET_BRIDGE:
		plan_names(c, p, diags);
		if (c->net_guest_addr[0] != '\0') {
			if (parse_ipv4(c->net_guest_addr, &p->guest, NULL,
			    false) < 0)
				strv_pushf(diags, "%s: net.guest_addr: must be "
				    "an IPv4 address, like 10.10.0.50",
				    c->where[K_NET_GUEST_ADDR]);
			else
				p->have_guest = true;
		}
		break;
	}
	if (c->net_mac[0] != '\0') {
		if (parse_mac(c->net_mac, p->mac) < 0)
			strv_pushf(diags, "%s: net.mac: must be a MAC address "
			    "like 52:54:00:12:34:56", c->where[K_NET_MAC]);
	} else
		netplan_mac(p->mode == NET_USER ? "user" : p->tap, user,
		    p->mac);
	return diags->n == before ? 0 : -EINVAL;
}

static char *
mask_str(int prefix, char *buf)
{
	struct in_addr m = { htonl(prefix_mask(prefix)) };

	ip_str(m, buf);
	return buf;
}

/* The device field stays empty: the kernel and initramfs-tools then use
 * the first NIC, which udev may have renamed from eth0 (ens3). */
char *
netplan_kernel_ip(const struct netplan *p)
{
	char g[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN], m[INET_ADDRSTRLEN];

	if (!p->have_guest || p->prefix == 0)
		return NULL;
	return xasprintf("ip=%s::%s:%s:::off", ip_str(p->guest, g),
	    p->gw.s_addr ? ip_str(p->gw, gw) : "", mask_str(p->prefix, m));
}

static void
hint_mac(char *buf, size_t len, const uint8_t m[6])
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
	    m[3], m[4], m[5]);
}

char *
netplan_hint(const struct netplan *p)
{
	char h[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN];
	char mac[18], fw[512] = "";
	size_t off = 0;

	hint_mac(mac, sizeof(mac), p->mac);
	switch (p->mode) {
	case NET_NONE:
		return xstrdup("no network");
	case NET_USER:
		for (size_t i = 0; i < p->nfwd && off < sizeof(fw); i++)
			off += (size_t)snprintf(fw + off, sizeof(fw) - off,
			    ", %s 127.0.0.1:%u -> guest %u", p->fwd[i].proto,
			    p->fwd[i].host_port, p->fwd[i].guest_port);
		return xasprintf("user-mode network -> guest %s gw %s mac "
		    "%s%s", ip_str(p->guest, g), ip_str(p->gw, gw), mac, fw);
	case NET_TAP:
		return xasprintf("%s %s/%d -> guest %s gw %s mac %s", p->tap,
		    ip_str(p->host, h), p->prefix, ip_str(p->guest, g),
		    ip_str(p->gw, gw), mac);
	case NET_BRIDGE:
		if (p->have_guest && p->prefix > 0)
			return xasprintf("%s on %s -> guest %s/%d gw none mac "
			    "%s", p->tap, p->bridge, ip_str(p->guest, g),
			    p->prefix, mac);
		if (p->have_guest) /* the bridge's prefix is not known yet */
			return xasprintf("%s on %s -> guest %s mac %s",
			    p->tap, p->bridge, ip_str(p->guest, g), mac);
		if (p->lan[0] != '\0')	/* read from the bridge */
			return xasprintf("%s on %s -> guest needs an address "
			    "in %s, gateway none, mac %s", p->tap, p->bridge,
			    p->lan, mac);
		return xasprintf("%s on %s -> guest needs an address of the "
		    "bridge's network, mac %s", p->tap, p->bridge, mac);
	}
	return NULL;
}
