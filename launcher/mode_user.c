/*
 * mode_user.c - net.mode "user": QEMU's slirp, no host change at all,
 * with host ports forwarded to the guest (hostfwd, on 127.0.0.1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qrun.h"

/* Slirp's fixed addresses (QEMU's defaults for -netdev user). */
#define SLIRP_GUEST	"10.0.2.15/24"
#define SLIRP_GW	"10.0.2.2"

/* "[tcp|udp:]HOSTPORT:GUESTPORT" into fw; 0 or -EINVAL. */
static int
forward_parse(const char *f, struct forward *fw)
{
	char proto[4] = "tcp";
	unsigned h, g;
	int used = 0;

	if (sscanf(f, "%3[a-z]:%u:%u%n", proto, &h, &g, &used) != 3 ||
	    f[used] != '\0') {
		strcpy(proto, "tcp");
		if (sscanf(f, "%u:%u%n", &h, &g, &used) != 2 ||
		    f[used] != '\0' || h == 0 || g == 0 || h > 65535 ||
		    g > 65535)
			return -EINVAL;
	}
	memcpy(fw->proto, proto, sizeof(fw->proto));
	fw->host_port = (uint16_t)h;
	fw->guest_port = (uint16_t)g;
	return 0;
}

static void
user_plan(const struct config *c, const char *user, struct nic *nic,
    struct strv *diags)
{
	const char *where = c->where[K_NET_FORWARDS];

	(void)user;
	for (size_t i = 0; i < c->net_forwards.n; i++) {
		if (nic->nfwd == ARRAY_SIZE(nic->fwd)) {
			strv_pushf(diags, "%s: net.forwards: more than %zu "
			    "forwards", where, ARRAY_SIZE(nic->fwd));
			return;
		}
		if (forward_parse(c->net_forwards.v[i],
		    &nic->fwd[nic->nfwd]) < 0)
			strv_pushf(diags, "%s: net.forwards: forward \"%s\": "
			    "must be [tcp|udp:]HOSTPORT:GUESTPORT", where,
			    c->net_forwards.v[i]);
		else
			nic->nfwd++;
	}
	ipaddr_parse(SLIRP_GUEST, IPA_V4, &nic->guest);
	ipaddr_parse(SLIRP_GW, IPA_V4, &nic->gw);
}

static char *
user_netdev(const struct nic *nic, const struct nicfds *f)
{
	char buf[32 * 48];
	size_t off;

	(void)f;
	off = (size_t)snprintf(buf, sizeof(buf), "user,id=n%d", nic->index);
	for (size_t i = 0; i < nic->nfwd && off < sizeof(buf); i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off,
		    ",hostfwd=%s:127.0.0.1:%u-:%u", nic->fwd[i].proto,
		    nic->fwd[i].host_port, nic->fwd[i].guest_port);
	return xstrdup(buf);
}

static char *
user_hint(const struct nic *nic)
{
	char g[IPADDR_STRLEN], gw[IPADDR_STRLEN], mac[18], fw[512] = "";
	size_t off = 0;

	for (size_t i = 0; i < nic->nfwd && off < sizeof(fw); i++)
		off += (size_t)snprintf(fw + off, sizeof(fw) - off,
		    ", %s 127.0.0.1:%u -> guest %u", nic->fwd[i].proto,
		    nic->fwd[i].host_port, nic->fwd[i].guest_port);
	return xasprintf("user-mode network -> guest %s gw %s mac %s%s",
	    ipaddr_str(&nic->guest, g), ipaddr_str(&nic->gw, gw),
	    mac_str(nic->mac, mac), fw);
}

const struct netmode netmode_user = {
	.name = "user",
	.id = NET_USER,
	.slirp = true,
	.plan = user_plan,
	.netdev = user_netdev,
	.hint = user_hint,
};
