/*
 * addr.c - IP addresses that carry their family: parse, print, compare,
 * mask, and the rules for an address a host side may take. IPv4 and IPv6
 * go through the same functions, so a second family is data, not a
 * second code path. Pure: no I/O.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qrun.h"

int
ipaddr_bits(const struct ipaddr *a)
{
	return a->family == AF_INET6 ? 128 : a->family == AF_INET ? 32 : 0;
}

void
ipaddr_v4(struct ipaddr *a, struct in_addr in, int prefix)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	a->prefix = prefix;
	a->u.v4 = in;
}

/*
 * "A", "A/P", with flags saying which family (IPA_V4, IPA_V6, neither:
 * any) and whether the prefix must (IPA_PREFIX) or must not
 * (IPA_NOPREFIX) be there. Without one, prefix is -1. 0 or -EINVAL.
 */
int
ipaddr_parse(const char *s, int flags, struct ipaddr *a)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash;
	long p;

	memset(a, 0, sizeof(*a));
	a->prefix = -1;
	if (s == NULL || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (!(flags & IPA_V6) && inet_pton(AF_INET, buf, &a->u.v4) == 1)
		a->family = AF_INET;
	else if (!(flags & IPA_V4) && inet_pton(AF_INET6, buf, &a->u.v6) == 1)
		a->family = AF_INET6;
	else
		return -EINVAL;
	if (slash == NULL)
		return flags & IPA_PREFIX ? -EINVAL : 0;
	if ((flags & IPA_NOPREFIX) || *slash == '\0' ||
	    parse_long(slash, 0, ipaddr_bits(a), &p) < 0)
		return -EINVAL;
	a->prefix = (int)p;
	return 0;
}

/* The address alone, into buf[IPADDR_STRLEN]; "-" for none. */
const char *
ipaddr_str(const struct ipaddr *a, char *buf)
{
	if (a->family == 0 ||
	    inet_ntop(a->family, a->u.b, buf, IPADDR_STRLEN) == NULL)
		snprintf(buf, IPADDR_STRLEN, "-");
	return buf;
}

/* "A/P" (just "A" without a prefix), into buf[IPADDR_STRLEN]. */
const char *
ipaddr_cidr(const struct ipaddr *a, char *buf)
{
	size_t len;

	ipaddr_str(a, buf);
	len = strlen(buf);
	if (a->family != 0 && a->prefix >= 0)
		snprintf(buf + len, IPADDR_STRLEN - len, "/%d", a->prefix);
	return buf;
}

/* Keep the first bits bits of a, clear the rest. */
static void
mask_bits(struct ipaddr *a, int bits)
{
	int n = ipaddr_bits(a) / 8;

	for (int i = 0; i < n; i++) {
		int keep = bits - i * 8;

		if (keep >= 8)
			continue;
		a->u.b[i] &= keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
	}
}

/* The network of a (its address masked by its prefix). */
struct ipaddr
ipaddr_net(const struct ipaddr *a)
{
	struct ipaddr n = *a;

	mask_bits(&n, a->prefix < 0 ? ipaddr_bits(a) : a->prefix);
	return n;
}

bool
ipaddr_eq(const struct ipaddr *a, const struct ipaddr *b)
{
	return a->family == b->family && a->family != 0 &&
	    memcmp(a->u.b, b->u.b, (size_t)ipaddr_bits(a) / 8) == 0;
}

/* Same address and prefix. */
bool
ipaddr_same(const struct ipaddr *a, const struct ipaddr *b)
{
	return ipaddr_eq(a, b) && a->prefix == b->prefix;
}

/* Is a inside net's network (net's prefix, a's family)? */
bool
ipaddr_contains(const struct ipaddr *net, const struct ipaddr *a)
{
	struct ipaddr x = *a, y = *net;
	int p = net->prefix < 0 ? ipaddr_bits(net) : net->prefix;

	if (a->family != net->family || net->family == 0)
		return false;
	mask_bits(&x, p);
	mask_bits(&y, p);
	return ipaddr_eq(&x, &y);
}

/* Do the two networks share an address (the shorter prefix holds the
 * other's address)? */
bool
ipaddr_overlap(const struct ipaddr *a, const struct ipaddr *b)
{
	int pa = a->prefix < 0 ? ipaddr_bits(a) : a->prefix;
	int pb = b->prefix < 0 ? ipaddr_bits(b) : b->prefix;

	return pa <= pb ? ipaddr_contains(a, b) : ipaddr_contains(b, a);
}

/*
 * a + n in the last 32 bits (IPv4: the address; IPv6: the interface
 * part's low word), keeping family and prefix; for host numbering.
 */
struct ipaddr
ipaddr_add(const struct ipaddr *a, long n)
{
	struct ipaddr r = *a;
	uint32_t w;
	int off = ipaddr_bits(a) / 8 - 4;

	if (off < 0)
		return r;
	memcpy(&w, r.u.b + off, 4);
	w = htonl((uint32_t)(ntohl(w) + (uint32_t)n));
	memcpy(r.u.b + off, &w, 4);
	return r;
}

/* The IPv4 netmask of a prefix, as text ("255.255.0.0"). */
const char *
ipaddr_mask4(int prefix, char *buf)
{
	struct ipaddr m = { .family = AF_INET, .prefix = prefix };

	memset(m.u.b, 0xff, 4);
	mask_bits(&m, prefix);
	return ipaddr_str(&m, buf);
}

/* Is every bit after the prefix zero (net) or one (all)? */
static bool
host_bits(const struct ipaddr *a, bool ones)
{
	int bits = ipaddr_bits(a);

	for (int i = a->prefix; i < bits; i++) {
		bool set = a->u.b[i / 8] & (0x80 >> (i % 8));

		if (set != ones)
			return false;
	}
	return true;
}

/* A well-known network, as text: does it hold a? */
static bool
in_net(const struct ipaddr *a, const char *net)
{
	struct ipaddr n;

	return ipaddr_parse(net, IPA_PREFIX, &n) == 0 &&
	    ipaddr_contains(&n, a);
}

/*
 * Why a (with its prefix) cannot be an address of a host interface, or
 * NULL when it can: loopback, multicast, link-local, unspecified,
 * reserved, or the network or broadcast address of its own prefix.
 */
const char *
ipaddr_refuse(const struct ipaddr *a)
{
	static const struct { const char *net, *why; } bad[] = {
		{ "0.0.0.0/8", "the unspecified address" },
		{ "127.0.0.0/8", "a loopback address" },
		{ "169.254.0.0/16", "a link-local address" },
		{ "224.0.0.0/4", "a multicast address" },
		{ "240.0.0.0/4", "a reserved address" },
		{ "::/128", "the unspecified address" },
		{ "::1/128", "a loopback address" },
		{ "fe80::/10", "a link-local address" },
		{ "ff00::/8", "a multicast address" },
	};
	int bits = ipaddr_bits(a);

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (in_net(a, bad[i].net))
			return bad[i].why;
	if (a->family == AF_INET && a->prefix < 31 && host_bits(a, false))
		return "the network address of its prefix";
	if (a->family == AF_INET && a->prefix < 31 && host_bits(a, true))
		return "the broadcast address of its prefix";
	if (a->family == AF_INET6 && a->prefix < bits && host_bits(a, false))
		return "the subnet-router anycast address of its prefix";
	return NULL;
}

/*
 * Is the whole network of a private address space (RFC 1918, RFC 6598
 * shared space, IPv6 unique local fc00::/7), never routed on the
 * internet, so a host interface holding it takes nobody's traffic for
 * a public destination?
 */
bool
ipaddr_private(const struct ipaddr *a)
{
	static const char *const priv[] = {
		"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
		"100.64.0.0/10", "fc00::/7",
	};
	struct ipaddr n;

	for (size_t i = 0; i < ARRAY_SIZE(priv); i++)
		if (ipaddr_parse(priv[i], IPA_PREFIX, &n) == 0 &&
		    a->family == n.family && a->prefix >= n.prefix &&
		    ipaddr_contains(&n, a))
			return true;
	return false;
}

/*
 * The SLAAC address a guest with MAC mac takes in the /64 of prefix
 * (modified EUI-64, RFC 4291 appendix A: the universal/local bit
 * flipped, ff:fe in the middle), as Linux does by default.
 */
struct ipaddr
ipaddr_eui64(const struct ipaddr *prefix, const uint8_t mac[6])
{
	struct ipaddr a = ipaddr_net(prefix);

	a.prefix = 64;
	a.u.b[8] = mac[0] ^ 0x02;
	a.u.b[9] = mac[1];
	a.u.b[10] = mac[2];
	a.u.b[11] = 0xff;
	a.u.b[12] = 0xfe;
	a.u.b[13] = mac[3];
	a.u.b[14] = mac[4];
	a.u.b[15] = mac[5];
	return a;
}
