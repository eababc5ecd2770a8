/*
 * sockdiag.c - which UDP sockets this network namespace has bound, from
 * the kernel's socket diagnostics (NETLINK_SOCK_DIAG, as ss(8) reads
 * them; no privilege needed). dnsmasq shares its DHCP ports with any
 * other server that asked for SO_REUSEPORT (another dnsmasq does), so
 * two DHCP servers bound to one link would split the guest's requests
 * between them without a word: qrun looks first. Reads only.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "qrun.h"

/* One dump's replies: 1 when a socket on port is bound to the device
 * ifindex, 0 at the end, -errno; 2 to read on. */
static int
scan(const char *buf, ssize_t n, uint16_t port, int ifindex)
{
	const struct nlmsghdr *h = (const void *)buf;
	const struct inet_diag_msg *m;

	for (; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
		if (h->nlmsg_type == NLMSG_DONE)
			return 0;
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			return e->error < 0 ? e->error : -EIO;
		}
		if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
		    h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
			continue;
		m = NLMSG_DATA(h);
		if (ntohs(m->id.idiag_sport) == port &&
		    (int)m->id.idiag_if == ifindex)
			return 1;
	}
	return 2;
}

/*
 * Is UDP port (of family) bound here by a socket bound to the device
 * ifindex (SO_BINDTODEVICE, as a dnsmasq serving one interface binds its
 * DHCP socket)? 1, 0, or -errno. A socket of no device does not count:
 * it either keeps dnsmasq from binding (an error it reports) or shares
 * the port with SO_REUSEPORT, and then the device-bound socket wins.
 */
int
sockdiag_udp_bound(int family, uint16_t port, int ifindex)
{
	struct {
		struct nlmsghdr h;
		struct inet_diag_req_v2 r;
	} req = {
		.h = { .nlmsg_len = sizeof(req),
		    .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		    .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.r = { .sdiag_family = (uint8_t)family,
		    .sdiag_protocol = IPPROTO_UDP, .idiag_states = ~0U },
	};
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	ssize_t n;
	int fd, r = 2;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&sa,
	    sizeof(sa)) < 0)
		r = -errno;
	while (r == 2) {
		if ((n = recv(fd, buf, sizeof(buf), 0)) < 0 && errno == EINTR)
			continue;
		r = n < 0 ? -errno : n == 0 ? 0 : scan(buf, n, port, ifindex);
	}
	close(fd);
	return r;
}
