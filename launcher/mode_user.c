/*
 * mode_user.c - net.mode "user": QEMU's slirp, no host change at all,
 * with host ports forwarded to the guest (hostfwd, on 127.0.0.1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "qrun.h"

/* Slirp's fixed addresses (QEMU's defaults for -netdev user). */
#define SLIRP_GUEST	"10.0.2.15/24"
#define SLIRP_GW	"10.0.2.2"

/* "[tcp|udp:]HOSTPORT:GUESTPORT" into fw (tcp HOSTPORT 0: the claim
 * picks one); 0 or -EINVAL. */
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
		    f[used] != '\0')
			return -EINVAL;
	}
	if (g == 0 || h > 65535 || g > 65535 ||
	    (h == 0 && strcmp(proto, "tcp") != 0))
		return -EINVAL;
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
			    "must be [tcp|udp:]HOSTPORT:GUESTPORT (tcp "
			    "HOSTPORT 0: a free one)", where,
			    c->net_forwards.v[i]);
		else
			nic->nfwd++;
	}
	ipaddr_parse(SLIRP_GUEST, IPA_V4, &nic->guest);
	ipaddr_parse(SLIRP_GW, IPA_V4, &nic->gw);
}

/*
 * A free host port for each "tcp:0:PORT": a socket bound to 127.0.0.1
 * port 0 (the kernel picks one no other socket has) with SO_REUSEADDR,
 * never listening, kept until the run ends: no other run is given the
 * port meanwhile, while QEMU's slirp, which binds its forwards with
 * SO_REUSEADDR too, can listen on it. Dry: the port free now.
 */
static int
user_claim(struct claim *cl, struct nic *nic, char *why, size_t whylen)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int one = 1, fd, e;

	for (size_t i = 0; i < nic->nfwd; i++) {
		if (nic->fwd[i].host_port != 0)
			continue;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a.sin_port = 0;
		if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
		    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one)) < 0 || bind(fd, (struct sockaddr *)&a,
		    sizeof(a)) < 0 || getsockname(fd, (struct sockaddr *)&a,
		    &len) < 0) {
			e = errno;
			if (fd >= 0)
				close(fd);
			snprintf(why, whylen, "net.forwards: cannot pick a "
			    "host port for guest port %u: %s",
			    nic->fwd[i].guest_port, strerror(e));
			return -e;
		}
		nic->fwd[i].host_port = ntohs(a.sin_port);
		if (cl->dry)
			close(fd);
		else
			cl->port_fd[cl->nport++] = fd;
	}
	return 0;
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
	.claim = user_claim,
	.netdev = user_netdev,
	.hint = user_hint,
};
