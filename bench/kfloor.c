/*
 * kfloor - the kernel's part of qrun's cold and warm paths, for bench/run.
 *
 *   kfloor cold TAP ADDR/PREFIX [dump]
 *   kfloor warm TAP
 *
 * Makes the kernel do what any launcher of a guest on a local tap must make
 * it do, with raw rtnetlink and nothing else: no profile, no journal, no
 * checks.  The 1,000-interface rows of bench/run compare qrun's growth with
 * this floor's: what the floor gains there is the kernel's own work (the
 * netdev events of a tap walk every IPv6 route and flush the IPv4 tables of
 * the namespace), not the launcher's.
 *
 * cold: create a persistent tap (TUNSETIFF, TUNSETOWNER, TUNSETPERSIST),
 *	add ADDR/PREFIX, set it up, run /bin/true with the queue (QEMU's
 *	stand-in), delete the tap from a child and return on the kernel's
 *	RTM_DELLINK notification, as qrun does; "dump" first reads the main
 *	table's routes once (qrun's overlap check).
 * warm: look the tap up, read its addresses (one filtered dump), attach a
 *	queue, run /bin/true with it, close it.
 *
 * Exit status 0, or 1 with a message on stderr.  Root, in a namespace.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/if_addr.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK 12
#endif

static int nl = -1;
static unsigned seq;

static void __attribute__((noreturn))
die(const char *what, int e)
{
	fprintf(stderr, "kfloor: %s: %s\n", what, strerror(e));
	exit(1);
}

struct req {
	struct nlmsghdr h;
	char body[256];
};

static void
attr(struct req *r, int type, const void *data, size_t len)
{
	struct rtattr *a = (void *)((char *)r + NLMSG_ALIGN(r->h.nlmsg_len));

	a->rta_type = type;
	a->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	r->h.nlmsg_len = NLMSG_ALIGN(r->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

static void
start(struct req *r, int type, int flags, const void *hdr, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->h.nlmsg_len = NLMSG_LENGTH(len);
	r->h.nlmsg_type = type;
	r->h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	r->h.nlmsg_seq = ++seq;
	memcpy(NLMSG_DATA(&r->h), hdr, len);
}

/* Send r and read until its ACK (or NLMSG_DONE of a dump). */
static void
talk(struct req *r, const char *what)
{
	static char buf[65536];

	if (send(nl, r, r->h.nlmsg_len, 0) < 0)
		die(what, errno);
	for (;;) {
		ssize_t len = recv(nl, buf, sizeof(buf), 0);

		if (len < 0)
			die(what, errno);
		for (struct nlmsghdr *h = (void *)buf; NLMSG_OK(h, len);
		    h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE)
				return;
			if (h->nlmsg_type == NLMSG_ERROR) {
				int e = ((struct nlmsgerr *)NLMSG_DATA(h))->error;

				if (e)
					die(what, -e);
				return;
			}
		}
	}
}

static int
tun(const char *name, short flags)
{
	struct ifreq ifr = { .ifr_flags = flags };
	int fd = open("/dev/net/tun", O_RDWR);

	if (fd < 0)
		die("/dev/net/tun", errno);
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		die("TUNSETIFF", errno);
	return fd;
}

/* /bin/true with the queue open, as QEMU would hold it. */
static void
run_true(void)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork", errno);
	if (pid == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

static void
cold(const char *tap, const char *cidr, int dump)
{
	struct rtmsg rtm = { .rtm_family = AF_INET,
	    .rtm_table = RT_TABLE_MAIN };
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
	    .nl_groups = RTMGRP_LINK };
	struct ifaddrmsg ifa = { .ifa_family = AF_INET };
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	char host[32], buf[8192], *slash;
	struct in_addr a;
	struct req r;
	int fd, idx, mon;
	unsigned table = RT_TABLE_MAIN;

	snprintf(host, sizeof(host), "%s", cidr);
	if ((slash = strchr(host, '/')) == NULL)
		die(cidr, EINVAL);
	*slash = '\0';
	if (inet_pton(AF_INET, host, &a) != 1)
		die(cidr, EINVAL);
	if (dump) {
		start(&r, RTM_GETROUTE, NLM_F_DUMP, &rtm, sizeof(rtm));
		attr(&r, RTA_TABLE, &table, sizeof(table));
		talk(&r, "route dump");
	}
	fd = tun(tap, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_TUN_EXCL);
	if (ioctl(fd, TUNSETOWNER, 0UL) < 0 ||
	    ioctl(fd, TUNSETPERSIST, 1UL) < 0)
		die("TUNSETPERSIST", errno);
	if ((idx = (int)if_nametoindex(tap)) == 0)
		die(tap, errno);
	ifa.ifa_prefixlen = (unsigned char)atoi(slash + 1);
	ifa.ifa_index = (unsigned)idx;
	start(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof(ifa));
	attr(&r, IFA_LOCAL, &a, sizeof(a));
	attr(&r, IFA_ADDRESS, &a, sizeof(a));
	talk(&r, "address");
	ifi.ifi_index = idx;
	ifi.ifi_flags = ifi.ifi_change = IFF_UP;
	start(&r, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
	talk(&r, "up");
	run_true();

	/* Delete from a child; return when the kernel says it is gone. */
	mon = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	if (mon < 0 || bind(mon, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("monitor", errno);
	ifi.ifi_flags = ifi.ifi_change = 0;
	start(&r, RTM_DELLINK, 0, &ifi, sizeof(ifi));
	switch (fork()) {
	case -1:
		die("fork", errno);
	case 0:
		talk(&r, "delete");
		_exit(0);
	}
	for (;;) {
		ssize_t len = recv(mon, buf, sizeof(buf), 0);

		if (len < 0)
			die("monitor", errno);
		for (struct nlmsghdr *h = (void *)buf; NLMSG_OK(h, len);
		    h = NLMSG_NEXT(h, len))
			if (h->nlmsg_type == RTM_DELLINK &&
			    ((struct ifinfomsg *)NLMSG_DATA(h))->ifi_index ==
			    idx) {
				close(fd);
				return;
			}
	}
}

static void
warm(const char *tap)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct ifaddrmsg ifa = { .ifa_family = AF_INET };
	struct req r;
	int idx, fd;

	start(&r, RTM_GETLINK, 0, &ifi, sizeof(ifi));
	attr(&r, IFLA_IFNAME, tap, strlen(tap) + 1);
	talk(&r, "link");
	if ((idx = (int)if_nametoindex(tap)) == 0)
		die(tap, errno);
	ifa.ifa_index = (unsigned)idx;
	start(&r, RTM_GETADDR, NLM_F_DUMP, &ifa, sizeof(ifa));
	talk(&r, "addresses");
	fd = tun(tap, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR);
	run_true();
	close(fd);
}

int
main(int argc, char **argv)
{
	int one = 1;

	if ((nl = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)) < 0)
		die("netlink", errno);
	(void)setsockopt(nl, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one,
	    sizeof(one));
	if (argc >= 4 && strcmp(argv[1], "cold") == 0)
		cold(argv[2], argv[3], argc > 4 && strcmp(argv[4], "dump") == 0);
	else if (argc == 3 && strcmp(argv[1], "warm") == 0)
		warm(argv[2]);
	else {
		fprintf(stderr, "usage: kfloor cold TAP ADDR/PREFIX [dump] | "
		    "kfloor warm TAP\n");
		return 2;
	}
	return 0;
}
