/*
 * net.c - the host network: persistent TAPs through /dev/net/tun, and
 * links, addresses, bridges and routes through rtnetlink (libnl-route-3).
 *
 * Every request is targeted: a link is fetched by name or index, the
 * addresses of one link and the routes of the main table are dumped with
 * NETLINK_GET_STRICT_CHK so the kernel filters them. qrun is as fast on a
 * host with a thousand interfaces as on one with three.
 *
 * Replies are read with our own callbacks so the errno the kernel sent is
 * kept as it is (libnl would translate it into its NLE_* codes). Nothing
 * here prints; every function returns 0 or -errno.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/fib_rules.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <netlink/netlink.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/socket.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/vxlan.h>
#include <netlink/route/neighbour.h>

#include "qrun.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif
#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

struct net {
	struct nl_sock *sk;
	net_guard_fn *guard;	/* NULL: only the built-in rule */
	void *guard_arg;
};

/* What one request collects: the parser for its replies and the result. */
struct talk {
	int (*parse)(struct nlmsghdr *, void *);
	void *arg;
	int err;		/* -errno from the kernel or a parser */
	bool done;		/* ACK, error or end of dump seen */
};

/* libnl's own error codes, for the failures libnl detects itself. */
static int
nl_to_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case 0:			return 0;
	case NLE_EXIST:		return -EEXIST;
	case NLE_NODEV:		return -ENODEV;
	case NLE_PERM:		return -EPERM;
	case NLE_NOACCESS:	return -EACCES;
	case NLE_NOADDR:	return -EADDRNOTAVAIL;
	case NLE_BUSY:		return -EBUSY;
	case NLE_INVAL:		return -EINVAL;
	case NLE_RANGE:		return -ERANGE;
	case NLE_OBJ_NOTFOUND:	return -ENOENT;
	case NLE_NOMEM:		return -ENOMEM;
	case NLE_AGAIN:		return -EAGAIN;
	case NLE_DUMP_INTR:	return -EAGAIN;
	case NLE_OPNOTSUPP:	return -EOPNOTSUPP;
	case NLE_AF_NOSUPPORT:	return -EAFNOSUPPORT;
	case NLE_PROTO_MISMATCH: return -EPROTONOSUPPORT;
	case NLE_MSGSIZE:	return -EMSGSIZE;
	default:		return -EIO;
	}
}

static int
talk_valid(struct nl_msg *msg, void *arg)
{
	struct talk *t = arg;
	int rc;

	if (t->parse == NULL || t->err != 0)
		return NL_OK;	/* keep reading to the end of the reply */
	if ((rc = t->parse(nlmsg_hdr(msg), t->arg)) < 0)
		t->err = rc;
	return NL_OK;
}

static int
talk_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	struct talk *t = arg;

	(void)who;
	if (t->err == 0)
		t->err = e->error;	/* already negative */
	t->done = true;
	return NL_STOP;
}

static int
talk_end(struct nl_msg *msg, void *arg)
{
	struct talk *t = arg;

	(void)msg;
	t->done = true;
	return NL_STOP;
}

static int sock_open(struct nl_sock **);

/*
 * After a failed send or receive the socket may hold unread replies and
 * libnl's expected sequence number is off by one, so every later request
 * (the undo above all) would fail: start again on a fresh socket.
 */
static void
net_reset(struct net *n)
{
	struct nl_sock *sk;

	if (sock_open(&sk) == 0) {
		nl_socket_free(n->sk);
		n->sk = sk;
	}
}

/*
 * Send one request (consumed: msg is freed) and read every reply up to
 * its ACK, error or NLMSG_DONE, so the socket is clean for the next one.
 * parse, when set, sees each reply message. 0 or -errno.
 */
static int
net_talk(struct net *n, struct nl_msg *msg,
    int (*parse)(struct nlmsghdr *, void *), void *arg)
{
	struct talk t = { .parse = parse, .arg = arg };
	struct nl_cb *cb = NULL;
	int rc;

	if ((cb = nl_cb_alloc(NL_CB_DEFAULT)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, talk_valid, &t);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, talk_end, &t);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, talk_end, &t);
	nl_cb_err(cb, NL_CB_CUSTOM, talk_error, &t);
	if ((rc = nl_send_auto(n->sk, msg)) < 0) {
		rc = nl_to_errno(rc);
		net_reset(n);
		goto out;
	}
	rc = 0;
	while (!t.done) {
		if ((rc = nl_recvmsgs(n->sk, cb)) < 0 && !t.done)
			break;
	}
	if (t.err != 0)
		rc = t.err;
	else if (rc < 0) {
		rc = nl_to_errno(rc);
		net_reset(n);
	} else
		rc = 0;
out:
	nl_cb_put(cb);
	nlmsg_free(msg);
	return rc;
}

/*
 * One rtnetlink socket with strict checking of GET requests, which lets
 * the kernel filter dumps by interface and table (Linux >= 5.0; without
 * it the parsers below still filter, only slower).
 */
static int
sock_open(struct nl_sock **skp)
{
	struct nl_sock *sk;
	int one = 1, rc;

	if ((sk = nl_socket_alloc()) == NULL)
		return -ENOMEM;
	if ((rc = nl_connect(sk, NETLINK_ROUTE)) < 0) {
		nl_socket_free(sk);
		return nl_to_errno(rc);
	}
	(void)setsockopt(nl_socket_get_fd(sk), SOL_NETLINK,
	    NETLINK_GET_STRICT_CHK, &one, sizeof(one));
	/* One recvmsg per reply instead of a MSG_PEEK first: a buffer as
	 * large as the largest dump skb the kernel builds (32 KiB). */
	nl_socket_disable_msg_peek(sk);
	if ((rc = nl_socket_set_msg_buf_size(sk, 65536)) < 0) {
		nl_socket_free(sk);
		return nl_to_errno(rc);
	}
	*skp = sk;
	return 0;
}

/*
 * The identity of our network namespace: the inode of /proc/self/ns/net
 * (reused once a namespace is gone) and its SO_NETNS_COOKIE (never
 * reused in a boot; 0 before Linux 5.14). The cookie is asked again
 * only when the inode changed.
 */
int
net_ns_self(struct netns_id *id)
{
	static struct netns_id self;
	socklen_t len = sizeof(self.cookie);
	struct stat st;
	int fd;

	if (stat("/proc/self/ns/net", &st) < 0)
		return -errno;
	if (self.ino != st.st_ino) {
		fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE,
		    &self.cookie, &len) < 0)
			self.cookie = 0;
		if (fd >= 0)
			close(fd);
		self.ino = st.st_ino;
	}
	*id = self;
	return 0;
}

int
net_open(struct net **np)
{
	struct net *n = xcalloc(1, sizeof(*n));
	int rc;

	*np = NULL;
	if ((rc = sock_open(&n->sk)) < 0) {
		free(n);
		return rc;
	}
	*np = n;
	return 0;
}

void
net_close(struct net *n)
{
	if (n == NULL)
		return;
	nl_socket_free(n->sk);	/* closes the socket; NULL is fine */
	free(n);
}

/* ------------------------------------------------------------- links */

static void
copy_name(char *dst, size_t size, const struct nlattr *a)
{
	size_t len = strnlen(nla_data(a), (size_t)nla_len(a));

	if (len >= size)
		len = size - 1;
	memcpy(dst, nla_data(a), len);
	dst[len] = '\0';
}

/* A VXLAN link's VNI. */
static void
parse_vxlan(struct nlattr *data, struct net_link *l)
{
	struct nlattr *vx[IFLA_VXLAN_MAX + 1];

	if (data != NULL &&
	    nla_parse_nested(vx, IFLA_VXLAN_MAX, data, NULL) == 0 &&
	    vx[IFLA_VXLAN_ID] != NULL)
		l->vni = nla_get_u32(vx[IFLA_VXLAN_ID]);
}

/* IFLA_LINKINFO: the kind, for tun devices type, owner and group, for
 * VXLAN its VNI. */
static void
parse_linkinfo(struct nlattr *info, struct net_link *l)
{
	struct nlattr *li[IFLA_INFO_MAX + 1], *tun[IFLA_TUN_MAX + 1];

	if (nla_parse_nested(li, IFLA_INFO_MAX, info, NULL) < 0 ||
	    li[IFLA_INFO_KIND] == NULL)
		return;
	copy_name(l->kind, sizeof(l->kind), li[IFLA_INFO_KIND]);
	if (strcmp(l->kind, "vxlan") == 0)
		parse_vxlan(li[IFLA_INFO_DATA], l);
	if (strcmp(l->kind, "tun") != 0 || li[IFLA_INFO_DATA] == NULL ||
	    nla_parse_nested(tun, IFLA_TUN_MAX, li[IFLA_INFO_DATA], NULL) < 0)
		return;
	if (tun[IFLA_TUN_TYPE] != NULL)
		l->is_tap = nla_get_u8(tun[IFLA_TUN_TYPE]) == IFF_TAP;
	if (tun[IFLA_TUN_OWNER] != NULL)
		l->owner = nla_get_u32(tun[IFLA_TUN_OWNER]);
	if (tun[IFLA_TUN_GROUP] != NULL)
		l->group = nla_get_u32(tun[IFLA_TUN_GROUP]);
	if (tun[IFLA_TUN_VNET_HDR] != NULL)
		l->vnet_hdr = nla_get_u8(tun[IFLA_TUN_VNET_HDR]) != 0;
	if (tun[IFLA_TUN_MULTI_QUEUE] != NULL)
		l->multi_queue = nla_get_u8(tun[IFLA_TUN_MULTI_QUEUE]) != 0;
}

/* An RTM_NEWLINK reply into struct net_link. */
static int
parse_link(struct nlmsghdr *h, void *arg)
{
	struct net_link *l = arg;
	struct nlattr *tb[IFLA_MAX + 1];
	struct ifinfomsg *ifi;

	if (h->nlmsg_type != RTM_NEWLINK ||
	    nlmsg_parse(h, sizeof(*ifi), tb, IFLA_MAX, NULL) < 0)
		return -EPROTO;
	ifi = nlmsg_data(h);
	memset(l, 0, sizeof(*l));
	l->ifindex = ifi->ifi_index;
	l->up = (ifi->ifi_flags & IFF_UP) != 0;
	l->owner = l->group = -1;
	if (tb[IFLA_IFNAME] != NULL)
		copy_name(l->name, sizeof(l->name), tb[IFLA_IFNAME]);
	if (tb[IFLA_MASTER] != NULL)
		l->master = (int)nla_get_u32(tb[IFLA_MASTER]);
	if (tb[IFLA_MTU] != NULL)
		l->mtu = nla_get_u32(tb[IFLA_MTU]);
	if (tb[IFLA_ADDRESS] != NULL && nla_len(tb[IFLA_ADDRESS]) == 6)
		memcpy(l->mac, nla_data(tb[IFLA_ADDRESS]), 6);
	if (tb[IFLA_LINKINFO] != NULL)
		parse_linkinfo(tb[IFLA_LINKINFO], l);
	return 0;
}

/* RTM_GETLINK for one link, by name or by index (never a dump). */
static int
link_get(struct net *n, const char *name, int ifindex, struct net_link *l)
{
	struct ifinfomsg ifi = {
		.ifi_family = AF_UNSPEC, .ifi_index = ifindex
	};
	struct net_link got;
	struct nl_msg *msg;
	int rc;

	if (name != NULL && strlen(name) >= IFNAMSIZ)
		return -ENODEV;
	if ((msg = net_msg(RTM_GETLINK, 0, &ifi,
	    sizeof(ifi))) == NULL)
		return -ENOMEM;
	if ((name != NULL && nla_put_string(msg, IFLA_IFNAME, name) < 0) ||
	    nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS) < 0)
		return net_nomem(msg);
	got.ifindex = 0;
	if ((rc = net_talk(n, msg, parse_link, &got)) < 0)
		return rc;
	if (got.ifindex == 0)
		return -ENODEV;
	*l = got;
	return 0;
}

int
net_link_get(struct net *n, const char *name, struct net_link *l)
{
	if (name == NULL || ifname_check(name, NULL) < 0)
		return -ENODEV;
	return link_get(n, name, 0, l);
}

int
net_link_get_index(struct net *n, int ifindex, struct net_link *l)
{
	if (ifindex <= 0)
		return -ENODEV;
	return link_get(n, NULL, ifindex, l);
}

/* A dump's results: at most max elements of size bytes into out, all
 * counted in n. */
struct outv {
	void *out;
	size_t size, max, n;
};

static void
outv_put(struct outv *o, const void *x)
{
	if (o->n < o->max)
		memcpy((char *)o->out + o->n * o->size, x, o->size);
	o->n++;
}

/* How many were kept into *np; -ENOSPC when some were not. */
static int
outv_end(const struct outv *o, size_t *np)
{
	*np = o->n < o->max ? o->n : o->max;
	return o->n > o->max ? -ENOSPC : 0;
}

#define OUTV(p, m) { .out = (p), .size = sizeof(*(p)), .max = (m) }

struct link_list {
	const char *kind;
	int master;		/* > 0: only the ports of this bridge */
	struct outv o;
};

static int
parse_link_list(struct nlmsghdr *h, void *arg)
{
	struct link_list *ll = arg;
	struct net_link l;
	int rc;

	if ((rc = parse_link(h, &l)) < 0)
		return rc;
	if (ll->kind && strcmp(l.kind, ll->kind) != 0)
		return 0;
	if (ll->master > 0 && l.master != ll->master)
		return 0;
	outv_put(&ll->o, &l);
	return 0;
}

/*
 * A link dump the kernel filters (strict checking) by kind (IFLA_LINKINFO)
 * and/or master (IFLA_MASTER); the parser checks again. For the list
 * commands only, never the boot path. -ENOSPC when more than max exist.
 */
static int
link_dump(struct net *n, const char *kind, int master, struct net_link *out,
    size_t max, size_t *count)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct link_list ll = { .kind = kind, .master = master,
	    .o = OUTV(out, max) };
	struct nlattr *info;
	struct nl_msg *msg;
	int rc;

	*count = 0;
	if ((msg = net_msg(RTM_GETLINK, NLM_F_DUMP, &ifi,
	    sizeof(ifi))) == NULL)
		return -ENOMEM;
	if (nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS) < 0 ||
	    (master > 0 &&
	    nla_put_u32(msg, IFLA_MASTER, (uint32_t)master) < 0) ||
	    (kind && ((info = nla_nest_start(msg, IFLA_LINKINFO)) == NULL ||
	    nla_put_string(msg, IFLA_INFO_KIND, kind) < 0 ||
	    nla_nest_end(msg, info) < 0)))
		return net_nomem(msg);
	rc = net_talk(n, msg, parse_link_list, &ll);
	return rc < 0 ? rc : outv_end(&ll.o, count);
}

/* Every link of one kind ("tun", "bridge"). */
int
net_link_list(struct net *n, const char *kind, struct net_link *out,
    size_t max, size_t *count)
{
	return link_dump(n, kind, 0, out, max, count);
}

/* The ports of bridge master. */
int
net_link_ports(struct net *n, int master, struct net_link *out, size_t max,
    size_t *count)
{
	*count = 0;
	if (master <= 0)
		return -ENODEV;
	return link_dump(n, NULL, master, out, max, count);
}

/*
 * Apply one change object to link ifindex: the libnl way, a change
 * request built from an "original" that only names the link.
 */
static int
link_change(struct net *n, int ifindex, struct rtnl_link *change)
{
	struct rtnl_link *orig = NULL;
	struct nl_msg *msg = NULL;
	int rc;

	if (ifindex <= 0) {
		rc = -ENODEV;
		goto out;
	}
	if ((orig = rtnl_link_alloc()) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	rtnl_link_set_ifindex(orig, ifindex);
	if ((rc = rtnl_link_build_change_request(orig, change, 0, &msg)) < 0) {
		rc = nl_to_errno(rc);
		goto out;
	}
	rc = net_talk(n, msg, NULL, NULL);
out:
	rtnl_link_put(orig);
	return rc;
}

void
net_guard(struct net *n, net_guard_fn *fn, void *arg)
{
	n->guard = fn;
	n->guard_arg = arg;
}

/* For a user (the guard set): may they make bridge name? The guard
 * decides (a developer switch the access list grants). */
static bool
bridge_granted(struct net *n, const char *name)
{
	struct net_link l = { .ifindex = 0 };

	snprintf(l.name, sizeof(l.name), "%s", name);
	snprintf(l.kind, sizeof(l.kind), "bridge");
	return n->guard(&l, NULL, n->guard_arg) == 0;
}

/*
 * May this process change link ifindex (enslaving it to master when
 * master > 0)? Root may; anyone else only a tap owned by their uid, and
 * only to a bridge, or (with a guard) a bridge itself, and the guard must
 * agree. The link is looked up
 * again here, at the point of use, whatever the caller checked before.
 */
static int
change_ok(struct net *n, int ifindex, int master)
{
	struct net_link l, m;
	bool own_tap, bridge;
	int rc;

	if (geteuid() == 0 && n->guard == NULL)
		return 0;
	if ((rc = link_get(n, NULL, ifindex, &l)) < 0)
		return rc;
	if (master > 0 && (rc = link_get(n, NULL, master, &m)) < 0)
		return rc;
	own_tap = l.is_tap && l.owner >= 0 && (uid_t)l.owner == getuid() &&
	    (master <= 0 || strcmp(m.kind, "bridge") == 0);
	bridge = strcmp(l.kind, "bridge") == 0 && master <= 0 &&
	    n->guard != NULL;	/* a switch's, if the guard grants it */
	if (geteuid() != 0 && !own_tap && !bridge)
		return -EPERM;
	return n->guard ? n->guard(&l, master > 0 ? &m : NULL, n->guard_arg) :
	    0;
}

/*
 * Check that the change is allowed (change_ok), then apply the change
 * object, which this consumes: the one path of every link setter below.
 */
static int
link_apply(struct net *n, int ifindex, int master, struct rtnl_link *change)
{
	int rc;

	if (change == NULL)
		return -ENOMEM;
	if ((rc = change_ok(n, ifindex, master)) == 0)
		rc = link_change(n, ifindex, change);
	rtnl_link_put(change);
	return rc;
}

int
net_link_set_up(struct net *n, int ifindex, bool up)
{
	struct rtnl_link *change = rtnl_link_alloc();

	if (change && up)
		rtnl_link_set_flags(change, IFF_UP);
	else if (change)
		rtnl_link_unset_flags(change, IFF_UP);
	return link_apply(n, ifindex, 0, change);
}

int
net_link_set_master(struct net *n, int ifindex, int master)
{
	struct rtnl_link *change;

	if (master < 0)
		return -EINVAL;
	if ((change = rtnl_link_alloc()) != NULL)	/* 0: releases */
		rtnl_link_set_master(change, master);
	return link_apply(n, ifindex, master, change);
}

int
net_link_set_mtu(struct net *n, int ifindex, unsigned mtu)
{
	struct rtnl_link *change = rtnl_link_alloc();

	if (change)
		rtnl_link_set_mtu(change, mtu);
	return link_apply(n, ifindex, 0, change);
}

int
net_link_set_mac(struct net *n, int ifindex, const uint8_t mac[6])
{
	struct rtnl_link *change = rtnl_link_alloc();
	struct nl_addr *a;

	if (change == NULL)
		return -ENOMEM;
	if ((a = nl_addr_build(AF_LLC, mac, 6)) == NULL) {
		rtnl_link_put(change);
		return -ENOMEM;
	}
	rtnl_link_set_addr(change, a);	/* takes its own reference */
	nl_addr_put(a);
	return link_apply(n, ifindex, 0, change);
}

/* RTM_DELLINK; returns once the kernel has freed the device. */
static int
link_delete_now(struct net *n, int ifindex)
{
	struct rtnl_link *link;
	struct nl_msg *msg = NULL;
	int rc;

	if ((link = rtnl_link_alloc()) == NULL)
		return -ENOMEM;
	rtnl_link_set_ifindex(link, ifindex);
	if ((rc = rtnl_link_build_delete_request(link, &msg)) < 0)
		rc = nl_to_errno(rc);
	else
		rc = net_talk(n, msg, NULL, NULL);
	rtnl_link_put(link);
	return rc;
}

/* In a detached grandchild: delete, report the result on fd 3, exit. */
static void __attribute__((noreturn))
delete_child(int ifindex, int report)
{
	struct net *n = NULL;
	int rc, nul = open("/dev/null", O_RDWR);

	if (nul < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0 ||
	    dup2(nul, 2) < 0 || dup2(report, 3) < 0)
		_exit(1);
	/* No inherited fd may outlive the caller: a tap lock above all. */
	syscall(SYS_close_range, 4, ~0U, 0);
	prctl(PR_SET_NAME, "qrun-del");
	if ((rc = net_open(&n)) == 0)
		rc = link_delete_now(n, ifindex);
	net_close(n);
	if (write(3, &rc, sizeof(rc)) < 0)
		_exit(1);
	_exit(0);
}

/* Wait for the kernel's RTM_DELLINK of ifindex or the child's report. */
static int
delete_wait(int mon, int report, int ifindex)
{
	char buf[8192];
	int rc;

	for (;;) {
		struct pollfd pfd[2] = { { mon, POLLIN, 0 },
		    { report, POLLIN, 0 } };
		ssize_t len;
		int r = poll(pfd, 2, 10000);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -ETIMEDOUT;
		if (pfd[1].revents)
			return read(report, &rc, sizeof(rc)) == sizeof(rc) ?
			    rc : -EIO;
		if ((len = recv(mon, buf, sizeof(buf), 0)) < 0)
			continue;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf;
		    NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
			const struct ifinfomsg *ifi = NLMSG_DATA(h);

			if (h->nlmsg_type == RTM_DELLINK &&
			    ifi->ifi_index == ifindex)
				return 0;
		}
	}
}

/*
 * Delete a link, returning as soon as the kernel has taken it out of the
 * namespace (its name is free again). RTM_DELLINK itself returns only
 * when the device is freed, 15-20 ms of RCU grace periods later, longer
 * than all the rest of a run; so a detached grandchild sends it and this
 * waits for the kernel's RTM_DELLINK notification (or the child's error).
 * Without a monitor socket or a fork, it deletes synchronously.
 */
int
net_link_delete(struct net *n, int ifindex)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
	    .nl_groups = RTMGRP_LINK };
	int rc, mon = -1, p[2] = { -1, -1 };
	pid_t pid;

	if (ifindex <= 0)
		return -ENODEV;
	if ((rc = change_ok(n, ifindex, 0)) < 0)
		return rc;
	mon = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (mon < 0 || bind(mon, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    pipe2(p, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		rc = link_delete_now(n, ifindex);
		goto out;
	}
	if (pid == 0) {
		if (fork() == 0)
			delete_child(ifindex, p[1]);
		_exit(0);
	}
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	close(p[1]);
	p[1] = -1;
	rc = delete_wait(mon, p[0], ifindex);
out:
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0)
			close(p[i]);
	if (mon >= 0)
		close(mon);
	return rc;
}

/*
 * A bridge for guests: STP off and forward delay 0, so a port forwards
 * as soon as it is up, with the given ifindex (0: the kernel's choice).
 * libnl 3.7 has no setters for IFLA_BR_*, so the RTM_NEWLINK is built
 * here; NLM_F_EXCL makes an existing name, or index, -EEXIST.
 */
int
net_bridge_create(struct net *n, const char *name, int ifindex)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC,
	    .ifi_index = ifindex };
	struct nlattr *info, *data;
	struct nl_msg *msg;

	if (name == NULL || ifname_check(name, NULL) < 0)
		return -EINVAL;
	if (n->guard == NULL ? geteuid() != 0 : !bridge_granted(n, name))
		return -EPERM;	/* root; for a user, what the guard grants */
	if ((msg = net_msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi,
	    sizeof(ifi))) == NULL)
		return -ENOMEM;
	if (nla_put_string(msg, IFLA_IFNAME, name) < 0 ||
	    (info = nla_nest_start(msg, IFLA_LINKINFO)) == NULL ||
	    nla_put_string(msg, IFLA_INFO_KIND, "bridge") < 0 ||
	    (data = nla_nest_start(msg, IFLA_INFO_DATA)) == NULL ||
	    nla_put_u32(msg, IFLA_BR_STP_STATE, 0) < 0 ||
	    nla_put_u32(msg, IFLA_BR_FORWARD_DELAY, 0) < 0 ||
	    nla_nest_end(msg, data) < 0 || nla_nest_end(msg, info) < 0)
		return net_nomem(msg);
	return net_talk(n, msg, NULL, NULL);
}

/* --------------------------------------------------------- addresses */

struct addr_list {
	int ifindex;
	int family;		/* AF_UNSPEC: both */
	struct net_addr *out;
	size_t max, n;
	bool overflow;
};

/* One RTM_NEWADDR of the dump; the kernel filtered, we check again. */
static int
parse_addr(struct nlmsghdr *h, void *arg)
{
	struct addr_list *al = arg;
	struct nlattr *tb[IFA_MAX + 1], *a;
	struct ifaddrmsg *ifa;
	struct net_addr *o;
	size_t len;

	if (h->nlmsg_type != RTM_NEWADDR ||
	    nlmsg_parse(h, sizeof(*ifa), tb, IFA_MAX, NULL) < 0)
		return 0;
	ifa = nlmsg_data(h);
	if ((ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) ||
	    (al->family && ifa->ifa_family != al->family) ||
	    (int)ifa->ifa_index != al->ifindex)
		return 0;
	len = ifa->ifa_family == AF_INET ? 4 : 16;
	if ((a = tb[IFA_LOCAL]) == NULL)
		a = tb[IFA_ADDRESS];
	if (a == NULL || (size_t)nla_len(a) != len)
		return 0;
	if (al->n == al->max) {
		al->overflow = true;
		return 0;
	}
	o = &al->out[al->n++];
	memset(o, 0, sizeof(*o));
	o->a.family = ifa->ifa_family;
	o->a.prefix = ifa->ifa_prefixlen;
	memcpy(o->a.u.b, nla_data(a), len);
	o->scope = ifa->ifa_scope;
	o->valid = UINT32_MAX;
	if (tb[IFA_CACHEINFO] != NULL && nla_len(tb[IFA_CACHEINFO]) >=
	    (int)sizeof(struct ifa_cacheinfo))
		o->valid = ((struct ifa_cacheinfo *)
		    nla_data(tb[IFA_CACHEINFO]))->ifa_valid;
	return 0;
}

/*
 * The addresses of one link, of family (AF_INET, AF_INET6, AF_UNSPEC
 * for both). At most max are stored (*n of them); -ENOSPC when the link
 * has more.
 */
int
net_addr_list(struct net *n, int ifindex, int family, struct net_addr *out,
    size_t max, size_t *np)
{
	struct ifaddrmsg ifa = { .ifa_family = (unsigned char)family };
	struct addr_list al = { .ifindex = ifindex, .family = family,
	    .out = out, .max = max };
	struct nl_msg *msg;
	int rc;

	*np = 0;
	if (ifindex <= 0)
		return -ENODEV;
	ifa.ifa_index = (unsigned)ifindex;
	if ((msg = net_msg(RTM_GETADDR, NLM_F_DUMP, &ifa,
	    sizeof(ifa))) == NULL)
		return -ENOMEM;
	if ((rc = net_talk(n, msg, parse_addr, &al)) < 0)
		return rc;
	*np = al.n;
	return al.overflow ? -ENOSPC : 0;
}

/* Build an RTM_NEWADDR/RTM_DELADDR for a on ifindex, like `ip addr`:
 * IFA_LOCAL and IFA_ADDRESS, no broadcast, scope global; an IPv6 address
 * skips duplicate address detection (it is the host's own, usable at
 * once). rc holds libnl codes until the end. */
static int
addr_request(int ifindex, const struct ipaddr *a, bool add,
    struct nl_msg **msg)
{
	struct rtnl_addr *addr = NULL;
	struct nl_addr *local = NULL;
	int rc, bits = ipaddr_bits(a);

	if (ifindex <= 0 || bits == 0 || a->prefix < 0 || a->prefix > bits)
		return -EINVAL;
	if ((addr = rtnl_addr_alloc()) == NULL ||
	    (local = nl_addr_build(a->family, a->u.b, (size_t)bits / 8)) ==
	    NULL) {
		rc = -NLE_NOMEM;
		goto out;
	}
	nl_addr_set_prefixlen(local, a->prefix);
	rtnl_addr_set_ifindex(addr, ifindex);
	rtnl_addr_set_family(addr, a->family);
	if ((rc = rtnl_addr_set_local(addr, local)) < 0)
		goto out;
	rtnl_addr_set_prefixlen(addr, a->prefix);
	if (add && a->family == AF_INET6)
		rtnl_addr_set_flags(addr, IFA_F_NODAD);
	if (add)
		rc = rtnl_addr_build_add_request(addr, NLM_F_EXCL, msg);
	else
		rc = rtnl_addr_build_delete_request(addr, 0, msg);
out:
	nl_addr_put(local);
	rtnl_addr_put(addr);
	return rc < 0 ? nl_to_errno(rc) : 0;
}

/* Add or delete one address, after change_ok. */
static int
addr_change(struct net *n, int ifindex, const struct ipaddr *a, bool add)
{
	struct nl_msg *msg = NULL;
	int rc;

	if ((rc = change_ok(n, ifindex, 0)) < 0 ||
	    (rc = addr_request(ifindex, a, add, &msg)) < 0)
		return rc;
	return net_talk(n, msg, NULL, NULL);
}

int
net_addr_add(struct net *n, int ifindex, const struct ipaddr *a)
{
	return addr_change(n, ifindex, a, true);
}

int
net_addr_del(struct net *n, int ifindex, const struct ipaddr *a)
{
	return addr_change(n, ifindex, a, false);
}

/* ------------------------------------------------------------ routes */

/* An attribute holding an address of family into a (prefix given). */
static void
attr_addr(const struct nlattr *at, int family, int prefix, struct ipaddr *a)
{
	size_t len = family == AF_INET ? 4 : 16;

	memset(a, 0, sizeof(*a));
	if (at == NULL || (size_t)nla_len(at) != len)
		return;
	a->family = family;
	a->prefix = prefix;
	memcpy(a->u.b, nla_data(at), len);
}

/* The parts of a route qrun needs, from a parsed RTM_NEWROUTE. */
static void
route_from(struct net_route *r, const struct rtmsg *rtm, struct nlattr **tb)
{
	memset(r, 0, sizeof(*r));
	r->dst.family = rtm->rtm_family;	/* the default route: :: */
	r->dst.prefix = rtm->rtm_dst_len;
	if (tb[RTA_DST] != NULL)
		attr_addr(tb[RTA_DST], rtm->rtm_family, rtm->rtm_dst_len,
		    &r->dst);
	attr_addr(tb[RTA_GATEWAY], rtm->rtm_family, -1, &r->gw);
	r->proto = rtm->rtm_protocol;
	r->type = rtm->rtm_type;
	r->table = tb[RTA_TABLE] ? nla_get_u32(tb[RTA_TABLE]) :
	    rtm->rtm_table;
	r->multipath = tb[RTA_MULTIPATH] != NULL;
	if (tb[RTA_OIF] != NULL)
		r->ifindex = (int)nla_get_u32(tb[RTA_OIF]);
	if (tb[RTA_PRIORITY] != NULL)
		r->metric = nla_get_u32(tb[RTA_PRIORITY]);
}

/* A route reply parsed into r; -1 when it is not one. */
static int
route_parse(struct nlmsghdr *h, struct net_route *r, struct nlattr **tb)
{
	struct rtmsg *rtm;

	if (h->nlmsg_type != RTM_NEWROUTE ||
	    nlmsg_parse(h, sizeof(*rtm), tb, RTA_MAX, NULL) < 0)
		return -1;
	rtm = nlmsg_data(h);
	if (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6)
		return -1;
	route_from(r, rtm, tb);
	return 0;
}

struct overlap {
	struct ipaddr net;
	int exclude;
	int found;		/* ifindex of the first overlapping route */
};

static void
overlap_check(struct overlap *o, const struct ipaddr *dst, int ifindex)
{
	if (o->found == 0 && ifindex > 0 && ifindex != o->exclude &&
	    ipaddr_overlap(&o->net, dst))
		o->found = ifindex;
}

/*
 * One route of the main-table dump: unicast routes with a destination
 * (not a default route), through RTA_OIF or any hop of RTA_MULTIPATH.
 */
static int
parse_route(struct nlmsghdr *h, void *arg)
{
	struct overlap *o = arg;
	struct nlattr *tb[RTA_MAX + 1];
	struct rtnexthop *nh;
	struct net_route r;
	int left;

	if (route_parse(h, &r, tb) < 0 || r.table != RT_TABLE_MAIN ||
	    r.type != RTN_UNICAST || r.dst.prefix == 0 ||
	    r.dst.family != o->net.family)
		return 0;
	overlap_check(o, &r.dst, r.ifindex);
	if (tb[RTA_MULTIPATH] == NULL)
		return 0;
	nh = nla_data(tb[RTA_MULTIPATH]);
	left = nla_len(tb[RTA_MULTIPATH]);
	while (left >= (int)sizeof(*nh) && RTNH_OK(nh, left)) {
		overlap_check(o, &r.dst, nh->rtnh_ifindex);
		left -= RTNH_ALIGN(nh->rtnh_len);
		nh = RTNH_NEXT(nh);
	}
	return 0;
}

/*
 * Is there a route of the main table, not through exclude_ifindex, whose
 * network overlaps net (the shorter prefix's network holds the other's
 * address)? The dump is filtered by the kernel to the family and the
 * main table; only the conflicting route's interface is looked up.
 */
int
net_route_overlap(struct net *n, const struct ipaddr *net,
    int exclude_ifindex, char ifname[IFNAMSIZ])
{
	struct rtmsg rtm = {
		.rtm_family = (unsigned char)net->family,
		.rtm_table = RT_TABLE_MAIN
	};
	struct overlap o = { .net = *net, .exclude = exclude_ifindex };
	struct net_link l;
	struct nl_msg *msg;
	int rc;

	if (ipaddr_bits(net) == 0 || net->prefix < 0)
		return -EINVAL;
	if ((msg = net_msg(RTM_GETROUTE, NLM_F_DUMP, &rtm,
	    sizeof(rtm))) == NULL)
		return -ENOMEM;
	if (nla_put_u32(msg, RTA_TABLE, RT_TABLE_MAIN) < 0)
		return net_nomem(msg);
	if ((rc = net_talk(n, msg, parse_route, &o)) < 0)
		return rc;
	if (o.found == 0)
		return 0;
	if ((rc = net_link_get_index(n, o.found, &l)) < 0)
		return rc;
	memcpy(ifname, l.name, IFNAMSIZ);
	return 1;
}

/* One route of the main-table dump: a unicast default route? */
static int
parse_default(struct nlmsghdr *h, void *arg)
{
	struct nlattr *tb[RTA_MAX + 1];
	struct net_route r;
	int *found = arg;

	if (route_parse(h, &r, tb) == 0 && r.table == RT_TABLE_MAIN &&
	    r.type == RTN_UNICAST && r.dst.prefix == 0)
		*found = 1;
	return 0;
}

/*
 * Has the main table a default route of family (the way out that NAT
 * needs)? 1, 0, or -errno. The dump is filtered by the kernel to the
 * family and the table.
 */
int
net_route_default(struct net *n, int family)
{
	struct rtmsg rtm = {
		.rtm_family = (unsigned char)family,
		.rtm_table = RT_TABLE_MAIN
	};
	struct nl_msg *msg;
	int rc, found = 0;

	if ((msg = net_msg(RTM_GETROUTE, NLM_F_DUMP, &rtm,
	    sizeof(rtm))) == NULL)
		return -ENOMEM;
	if (nla_put_u32(msg, RTA_TABLE, RT_TABLE_MAIN) < 0)
		return net_nomem(msg);
	if ((rc = net_talk(n, msg, parse_default, &found)) < 0)
		return rc;
	return found;
}

/* The reply to a single RTM_GETROUTE. */
static int
parse_route_get(struct nlmsghdr *h, void *arg)
{
	struct nlattr *tb[RTA_MAX + 1];
	struct net_route *r = arg;

	(void)route_parse(h, r, tb);
	return 0;
}

/*
 * The route the kernel takes for dst (a single RTM_GETROUTE lookup, like
 * "ip route get", policy rules included): its interface in r->ifindex, 0
 * when unreachable; r->table says which table answered. 0 or -errno.
 */
int
net_route_get(struct net *n, const struct ipaddr *dst, struct net_route *r)
{
	struct rtmsg rtm = {
		.rtm_family = (unsigned char)dst->family,
		.rtm_dst_len = (unsigned char)ipaddr_bits(dst),
	};
	struct nl_msg *msg;
	int rc;

	memset(r, 0, sizeof(*r));
	if (rtm.rtm_dst_len == 0)
		return -EINVAL;
	/* say which table; IPv6 refuses the flag and says it anyway */
	if (dst->family == AF_INET)
		rtm.rtm_flags = RTM_F_LOOKUP_TABLE;
	if ((msg = net_msg(RTM_GETROUTE, 0, &rtm,
	    sizeof(rtm))) == NULL)
		return -ENOMEM;
	if (nla_put(msg, RTA_DST, ipaddr_bits(dst) / 8, dst->u.b) < 0)
		return net_nomem(msg);
	rc = net_talk(n, msg, parse_route_get, r);
	if (rc == -ENETUNREACH || rc == -EHOSTUNREACH) {
		memset(r, 0, sizeof(*r));
		return 0;
	}
	return rc;
}

struct rule_find {
	struct ipaddr dst;
	unsigned table;
	char *desc;
	size_t len;
	bool found;
};

/* One RTM_NEWRULE of the dump: the first rule (in priority order) that
 * sends dst to the table. */
static int
parse_rule(struct nlmsghdr *h, void *arg)
{
	struct rule_find *rf = arg;
	struct nlattr *tb[FRA_MAX + 1];
	struct fib_rule_hdr *frh;
	struct ipaddr d = { 0 };
	char b[IPADDR_STRLEN];
	unsigned table;

	if (rf->found || h->nlmsg_type != RTM_NEWRULE ||
	    nlmsg_parse(h, sizeof(*frh), tb, FRA_MAX, NULL) < 0)
		return 0;
	frh = nlmsg_data(h);
	table = tb[FRA_TABLE] ? nla_get_u32(tb[FRA_TABLE]) : frh->table;
	if (frh->action != FR_ACT_TO_TBL || table != rf->table)
		return 0;
	attr_addr(tb[FRA_DST], frh->family, frh->dst_len, &d);
	if (d.family && !ipaddr_contains(&d, &rf->dst))
		return 0;
	rf->found = true;
	snprintf(rf->desc, rf->len, "policy rule '%s%s%slookup %u' "
	    "(priority %u)", d.family ? "to " : "",
	    d.family ? ipaddr_cidr(&d, b) : "", d.family ? " " : "from all ",
	    table, tb[FRA_PRIORITY] ? nla_get_u32(tb[FRA_PRIORITY]) : 0);
	return 0;
}

/*
 * The policy rule that sends dst to table, as "ip rule" would show it,
 * into desc; 1 when found, 0, -errno. A dump, for error messages only.
 */
int
net_rule_find(struct net *n, const struct ipaddr *dst, unsigned table,
    char *desc, size_t len)
{
	struct fib_rule_hdr frh = { .family = (unsigned char)dst->family };
	struct rule_find rf = { .dst = *dst, .table = table, .desc = desc,
	    .len = len };
	struct nl_msg *msg;
	int rc;

	if ((msg = net_msg(RTM_GETRULE, NLM_F_DUMP, &frh,
	    sizeof(frh))) == NULL)
		return -ENOMEM;
	if ((rc = net_talk(n, msg, parse_rule, &rf)) < 0)
		return rc;
	return rf.found ? 1 : 0;
}

struct route_list {
	int ifindex;
	struct outv o;
	struct net_route *other;	/* the first route not listed */
	size_t nother;
};

/*
 * One route of a per-interface dump (every table, kernel filtered to
 * routes with a hop through the interface): routes the kernel made
 * (of addresses, link-local, multicast: proto kernel) are skipped;
 * unicast routes of the main table through exactly that interface are
 * listed; anything else is counted in other.
 */
static int
parse_route_dev(struct nlmsghdr *h, void *arg)
{
	struct route_list *rl = arg;
	struct nlattr *tb[RTA_MAX + 1];
	struct net_route r;

	if (route_parse(h, &r, tb) < 0 || r.proto == RTPROT_KERNEL)
		return 0;
	if (r.table != RT_TABLE_MAIN || r.type != RTN_UNICAST ||
	    r.multipath || r.ifindex != rl->ifindex) {
		if (rl->nother++ == 0)
			*rl->other = r;
		return 0;
	}
	outv_put(&rl->o, &r);
	return 0;
}

/* One family's routes through ifindex into rl. */
static int
route_dump_dev(struct net *n, int family, struct route_list *rl)
{
	struct rtmsg rtm = { .rtm_family = (unsigned char)family };
	struct nl_msg *msg;

	if ((msg = net_msg(RTM_GETROUTE, NLM_F_DUMP, &rtm,
	    sizeof(rtm))) == NULL)
		return -ENOMEM;
	if (nla_put_u32(msg, RTA_OIF, (uint32_t)rl->ifindex) < 0)
		return net_nomem(msg);
	return net_talk(n, msg, parse_route_dev, rl);
}

/*
 * The IPv4 and IPv6 routes through one interface, for moving them
 * between an uplink and its bridge.
 */
int
net_route_list_dev(struct net *n, int ifindex, struct net_route *out,
    size_t max, size_t *np, struct net_route *other, size_t *nother)
{
	struct route_list rl = { .ifindex = ifindex, .o = OUTV(out, max),
	    .other = other };
	int rc;

	*np = *nother = 0;
	if (ifindex <= 0)
		return -ENODEV;
	if ((rc = route_dump_dev(n, AF_INET, &rl)) < 0 ||
	    (rc = route_dump_dev(n, AF_INET6, &rl)) < 0)
		return rc;
	*nother = rl.nother;
	return outv_end(&rl.o, np);
}

/* RTM_NEWROUTE (NLM_F_CREATE without EXCL: a route to the same network
 * through another interface may stay) or RTM_DELROUTE for r. */
static int
route_request(struct net *n, const struct net_route *r, bool add)
{
	int bits = ipaddr_bits(&r->dst);
	struct rtmsg rtm = {
		.rtm_family = (unsigned char)r->dst.family,
		.rtm_table = RT_TABLE_MAIN,
		.rtm_dst_len = (unsigned char)r->dst.prefix,
		.rtm_protocol = r->proto, .rtm_type = RTN_UNICAST,
		.rtm_scope = r->gw.family ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK,
	};
	struct nl_msg *msg;
	int rc;

	if (r->ifindex <= 0)
		return -ENODEV;
	if (bits == 0 || r->dst.prefix < 0 || r->dst.prefix > bits ||
	    (r->gw.family && r->gw.family != r->dst.family))
		return -EINVAL;
	if ((rc = change_ok(n, r->ifindex, 0)) < 0)
		return rc;
	if (!add)
		rtm.rtm_scope = RT_SCOPE_NOWHERE;	/* any scope */
	if (r->dst.family == AF_INET6)
		rtm.rtm_scope = RT_SCOPE_UNIVERSE;
	if ((msg = net_msg(add ? RTM_NEWROUTE : RTM_DELROUTE, add ?
	    NLM_F_CREATE : 0, &rtm, sizeof(rtm))) == NULL)
		return -ENOMEM;
	if (nla_put_u32(msg, RTA_TABLE, RT_TABLE_MAIN) < 0 ||
	    (r->dst.prefix > 0 &&
	    nla_put(msg, RTA_DST, bits / 8, r->dst.u.b) < 0) ||
	    (r->gw.family && nla_put(msg, RTA_GATEWAY, bits / 8,
	    r->gw.u.b) < 0) ||
	    nla_put_u32(msg, RTA_OIF, (uint32_t)r->ifindex) < 0 ||
	    nla_put_u32(msg, RTA_PRIORITY, r->metric) < 0)
		return net_nomem(msg);
	return net_talk(n, msg, NULL, NULL);
}

int
net_route_add(struct net *n, const struct net_route *r)
{
	return route_request(n, r, true);
}

int
net_route_del(struct net *n, const struct net_route *r)
{
	return route_request(n, r, false);
}

/* ------------------------------------------------- for tc.c, and ifb */

/* A request of type with flags, starting with its header hdr; NULL when
 * out of memory. */
struct nl_msg *
net_msg(int type, int flags, const void *hdr, size_t len)
{
	struct nl_msg *msg = nlmsg_alloc_simple(type, flags);
	void *p;

	if (msg == NULL)
		return NULL;
	if ((p = nlmsg_reserve(msg, len, NLMSG_ALIGNTO)) == NULL) {
		nlmsg_free(msg);
		return NULL;
	}
	memcpy(p, hdr, len);
	return msg;
}

/* Drop a request that did not fit: -ENOMEM. */
int
net_nomem(struct nl_msg *msg)
{
	nlmsg_free(msg);
	return -ENOMEM;
}

/*
 * Send one request built with libnl (consumed) that changes link
 * ifindex, after the check every change here passes (change_ok); parse,
 * when set, sees each reply. For tc.c, which speaks traffic control.
 */
int
net_send(struct net *n, int ifindex, struct nl_msg *msg,
    int (*parse)(struct nlmsghdr *, void *), void *arg)
{
	int rc;

	if ((rc = change_ok(n, ifindex, 0)) < 0) {
		nlmsg_free(msg);
		return rc;
	}
	return net_talk(n, msg, parse, arg);
}

/* A request that only reads (consumed). */
int
net_read(struct net *n, struct nl_msg *msg,
    int (*parse)(struct nlmsghdr *, void *), void *arg)
{
	return net_talk(n, msg, parse, arg);
}

/* libnl's own error code as -errno. */
int
net_nlerr(int nlerr)
{
	return nl_to_errno(nlerr);
}

/*
 * An ifb device (root only): where a link's ingress is redirected to be
 * shaped as egress. Created down, with the given ifindex; NLM_F_EXCL
 * makes a taken name or index -EEXIST.
 */
int
net_ifb_create(struct net *n, const char *name, int ifindex)
{
	struct rtnl_link *link;
	struct nl_msg *msg = NULL;
	int rc;

	if (ifname_check(name, NULL) < 0)
		return -EINVAL;
	if (geteuid() != 0 || n->guard != NULL)
		return -EPERM;
	if ((link = rtnl_link_alloc()) == NULL)
		return -ENOMEM;
	rtnl_link_set_name(link, name);
	rtnl_link_set_ifindex(link, ifindex);
	if ((rc = rtnl_link_set_type(link, "ifb")) < 0 ||
	    (rc = rtnl_link_build_add_request(link, NLM_F_CREATE | NLM_F_EXCL,
	    &msg)) < 0)
		rc = nl_to_errno(rc);
	else
		rc = net_talk(n, msg, NULL, NULL);
	rtnl_link_put(link);
	return rc;
}

/* ------------------------------------------------------------- VXLAN */

/*
 * A VXLAN link (root only): UDP port 4789, learning on, no multicast
 * group: what floods goes to each remote of an all-zeros FDB entry
 * (head-end replication). Created down, with the given ifindex and MTU;
 * NLM_F_EXCL makes a taken name or index -EEXIST.
 */
int
net_vxlan_create(struct net *n, const struct vxlan_link *v)
{
	struct rtnl_link *link = NULL;
	struct nl_addr *local = NULL;
	struct nl_msg *msg = NULL;
	int rc;

	if (ifname_check(v->name, NULL) < 0 || v->vni == 0 ||
	    v->vni > 0xffffff)
		return -EINVAL;
	if (geteuid() != 0 || n->guard != NULL)
		return -EPERM;
	if ((link = rtnl_link_vxlan_alloc()) == NULL || (v->local.family &&
	    (local = nl_addr_build(v->local.family, v->local.u.b,
	    (size_t)ipaddr_bits(&v->local) / 8)) == NULL)) {
		rc = -ENOMEM;
		goto out;
	}
	rtnl_link_set_name(link, v->name);
	rtnl_link_set_ifindex(link, v->ifindex);
	if (v->mtu)
		rtnl_link_set_mtu(link, v->mtu);
	if ((rc = rtnl_link_vxlan_set_id(link, v->vni)) < 0 ||
	    (rc = rtnl_link_vxlan_set_port(link, 4789)) < 0 ||
	    (rc = rtnl_link_vxlan_set_learning(link, 1)) < 0 ||
	    (v->dev && (rc = rtnl_link_vxlan_set_link(link,
	    (uint32_t)v->dev)) < 0) ||
	    (local && (rc = rtnl_link_vxlan_set_local(link, local)) < 0) ||
	    (rc = rtnl_link_build_add_request(link, NLM_F_CREATE |
	    NLM_F_EXCL, &msg)) < 0) {
		rc = nl_to_errno(rc);
		goto out;
	}
	rc = net_talk(n, msg, NULL, NULL);
out:
	nl_addr_put(local);
	rtnl_link_put(link);
	return rc;
}

/* An RTM_NEWLINK reply of a VXLAN link into struct vxlan_link. */
static int
parse_vxlan_link(struct nlmsghdr *h, void *arg)
{
	struct nlattr *tb[IFLA_MAX + 1], *li[IFLA_INFO_MAX + 1];
	struct nlattr *vx[IFLA_VXLAN_MAX + 1];
	struct vxlan_link *v = arg;
	struct net_link l;
	int rc;

	if ((rc = parse_link(h, &l)) < 0)
		return rc;
	if (strcmp(l.kind, "vxlan") != 0 ||
	    nlmsg_parse(h, sizeof(struct ifinfomsg), tb, IFLA_MAX, NULL) < 0 ||
	    nla_parse_nested(li, IFLA_INFO_MAX, tb[IFLA_LINKINFO], NULL) < 0 ||
	    li[IFLA_INFO_DATA] == NULL || nla_parse_nested(vx, IFLA_VXLAN_MAX,
	    li[IFLA_INFO_DATA], NULL) < 0)
		return -EINVAL;
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", l.name);
	v->ifindex = l.ifindex;
	v->vni = l.vni;
	v->mtu = l.mtu;
	if (vx[IFLA_VXLAN_LINK] != NULL)
		v->dev = (int)nla_get_u32(vx[IFLA_VXLAN_LINK]);
	attr_addr(vx[IFLA_VXLAN_LOCAL], AF_INET, -1, &v->local);
	if (v->local.family == 0)
		attr_addr(vx[IFLA_VXLAN_LOCAL6], AF_INET6, -1, &v->local);
	return 0;
}

/* What VXLAN link ifindex is; -EINVAL when it is not one. */
int
net_vxlan_get(struct net *n, int ifindex, struct vxlan_link *v)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC,
	    .ifi_index = ifindex };
	struct nl_msg *msg;

	if (ifindex <= 0)
		return -ENODEV;
	if ((msg = net_msg(RTM_GETLINK, 0, &ifi,
	    sizeof(ifi))) == NULL)
		return -ENOMEM;
	if (nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS) < 0)
		return net_nomem(msg);
	return net_talk(n, msg, parse_vxlan_link, v);
}

/* RTM_NEWNEIGH (append) or RTM_DELNEIGH for the all-zeros FDB entry of
 * VXLAN link ifindex towards dst, as "bridge fdb" makes it: permanent,
 * NTF_SELF. */
static int
fdb_request(struct net *n, int ifindex, const struct ipaddr *dst, bool add)
{
	static const uint8_t zero[6];
	struct rtnl_neigh *ne = NULL;
	struct nl_addr *ll = NULL, *d = NULL;
	struct nl_msg *msg = NULL;
	int rc;

	if (ipaddr_bits(dst) == 0)
		return -EINVAL;
	if ((rc = change_ok(n, ifindex, 0)) < 0)
		return rc;
	if ((ne = rtnl_neigh_alloc()) == NULL ||
	    (ll = nl_addr_build(AF_LLC, zero, sizeof(zero))) == NULL ||
	    (d = nl_addr_build(dst->family, dst->u.b,
	    (size_t)ipaddr_bits(dst) / 8)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	/* The destination first: it sets the family (IPv4, IPv6) that
	 * AF_BRIDGE then replaces; the other order is an AF mismatch. */
	if ((rc = rtnl_neigh_set_dst(ne, d)) == 0) {
		rtnl_neigh_set_family(ne, AF_BRIDGE);
		rtnl_neigh_set_ifindex(ne, ifindex);
		rtnl_neigh_set_lladdr(ne, ll);
		rtnl_neigh_set_state(ne, NUD_NOARP | NUD_PERMANENT);
		rtnl_neigh_set_flags(ne, NTF_SELF);
		rc = add ? rtnl_neigh_build_add_request(ne, NLM_F_CREATE |
		    NLM_F_APPEND | NLM_F_EXCL, &msg) :
		    rtnl_neigh_build_delete_request(ne, 0, &msg);
	}
	if (rc < 0) {
		rc = nl_to_errno(rc);
		goto out;
	}
	rc = net_talk(n, msg, NULL, NULL);
out:
	nl_addr_put(d);
	nl_addr_put(ll);
	rtnl_neigh_put(ne);
	return rc;
}

int
net_fdb_append(struct net *n, int ifindex, const struct ipaddr *dst)
{
	return fdb_request(n, ifindex, dst, true);
}

int
net_fdb_del(struct net *n, int ifindex, const struct ipaddr *dst)
{
	return fdb_request(n, ifindex, dst, false);
}

struct fdb_list {
	int ifindex;
	struct outv o;
};

/* One entry of an AF_BRIDGE neighbour dump: the all-zeros entries of
 * the VXLAN link, with their destination (the bridge's own entries for
 * the port have no NDA_DST). */
static int
parse_fdb(struct nlmsghdr *h, void *arg)
{
	static const uint8_t zero[6];
	struct fdb_list *fl = arg;
	struct nlattr *tb[NDA_MAX + 1];
	struct ndmsg *ndm;
	struct ipaddr a;

	if (h->nlmsg_type != RTM_NEWNEIGH ||
	    nlmsg_parse(h, sizeof(*ndm), tb, NDA_MAX, NULL) < 0)
		return 0;
	ndm = nlmsg_data(h);
	if (ndm->ndm_ifindex != fl->ifindex || tb[NDA_LLADDR] == NULL ||
	    nla_len(tb[NDA_LLADDR]) != 6 ||
	    memcmp(nla_data(tb[NDA_LLADDR]), zero, 6) != 0)
		return 0;
	if (tb[NDA_DST] == NULL)
		return 0;
	attr_addr(tb[NDA_DST], nla_len(tb[NDA_DST]) == 4 ? AF_INET :
	    AF_INET6, -1, &a);
	if (a.family == 0)
		return 0;
	outv_put(&fl->o, &a);
	return 0;
}

/* The remotes of VXLAN link ifindex: a dump the kernel filters to the
 * link (strict checking). -ENOSPC when more than max. */
int
net_fdb_remotes(struct net *n, int ifindex, struct ipaddr *out, size_t max,
    size_t *np)
{
	struct ndmsg ndm = { .ndm_family = AF_BRIDGE, .ndm_ifindex = ifindex };
	struct fdb_list fl = { .ifindex = ifindex, .o = OUTV(out, max) };
	struct nl_msg *msg;
	int rc;

	*np = 0;
	if (ifindex <= 0)
		return -ENODEV;
	if ((msg = net_msg(RTM_GETNEIGH, NLM_F_DUMP, &ndm,
	    sizeof(ndm))) == NULL)
		return -ENOMEM;
	if ((rc = net_talk(n, msg, parse_fdb, &fl)) < 0)
		return rc;
	return outv_end(&fl.o, np);
}

/* -------------------------------------------------------------- taps */

static int
tun_open(const char *name, short flags, struct ifreq *ifr)
{
	int fd;

	if (name == NULL || ifname_check(name, NULL) < 0)
		return -EINVAL;
	memset(ifr, 0, sizeof(*ifr));
	strcpy(ifr->ifr_name, name);
	ifr->ifr_flags = flags;
	if ((fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC)) < 0)
		return -errno;
	if (ioctl(fd, TUNSETIFF, ifr) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

/*
 * What a tap just made is: the name and index, down, no master,
 * the kernel's MTU and MAC. Read with SIOCGIF* (an RCU lookup by name):
 * an RTM_GETLINK now would make the kernel process the new tap's
 * pending carrier event on the spot, an IPv6 route walk as long as the
 * host's interface list.
 */
static int
tap_made(struct net *n, int tunfd, const char *name, unsigned flags,
    struct net_link *l)
{
	int sfd = nl_socket_get_fd(n->sk);
	struct ifreq ifr;

	memset(l, 0, sizeof(*l));
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, name);
	if (ioctl(sfd, SIOCGIFINDEX, &ifr) < 0)
		return -errno;
	l->ifindex = ifr.ifr_ifindex;
	if (ioctl(sfd, SIOCGIFMTU, &ifr) < 0)
		return -errno;
	l->mtu = (unsigned)ifr.ifr_mtu;
	if (ioctl(tunfd, SIOCGIFHWADDR, &ifr) < 0)
		return -errno;
	memcpy(l->mac, ifr.ifr_hwaddr.sa_data, sizeof(l->mac));
	strcpy(l->name, name);
	strcpy(l->kind, "tun");
	l->is_tap = true;
	l->vnet_hdr = (flags & TAP_VNET_HDR) != 0;
	l->multi_queue = (flags & TAP_MULTI_QUEUE) != 0;
	l->owner = l->group = -1;
	return 0;
}

/*
 * A new tap, not persistent yet: it lives as long as the returned queue
 * (close-on-exec; IFF_VNET_HDR, IFF_MULTI_QUEUE as flags say), so
 * whoever journals it can do so before it can outlive qrun
 * (net_tap_persist). IFF_TUN_EXCL
 * makes an existing name -EEXIST instead of attaching to it. The new
 * link, as far as a new tap can be known without asking rtnetlink, in
 * *l (owner and group as net_tap_persist will set them).
 */
int
net_tap_new(struct net *n, const char *name, unsigned flags,
    struct net_link *l)
{
	struct ifreq ifr;
	int fd, e;

	fd = tun_open(name, IFF_TAP | IFF_NO_PI | IFF_TUN_EXCL |
	    (flags & TAP_VNET_HDR ? IFF_VNET_HDR : 0) |
	    (flags & TAP_MULTI_QUEUE ? IFF_MULTI_QUEUE : 0), &ifr);
	if (fd < 0)
		return fd == -EBUSY ? -EEXIST : fd;
	if ((e = tap_made(n, fd, name, flags, l)) < 0) {
		close(fd);
		return e;
	}
	return fd;
}

/* Give the tap of queue fd its owner (and group, unless (gid_t)-1) and
 * make it persistent: it outlives the fd from now on. */
int
net_tap_persist(int fd, uid_t owner, gid_t group, struct net_link *l)
{
	if (ioctl(fd, TUNSETOWNER, (unsigned long)owner) < 0 ||
	    (group != (gid_t)-1 &&
	    ioctl(fd, TUNSETGROUP, (unsigned long)group) < 0) ||
	    ioctl(fd, TUNSETPERSIST, 1UL) < 0)
		return -errno;
	l->owner = (long)owner;
	l->group = group == (gid_t)-1 ? -1 : (long)group;
	return 0;
}

/*
 * Open one queue of the existing persistent tap l (as just looked up),
 * for QEMU's fd=. The owner may do this unprivileged. TUNSETIFF would
 * create a missing device (when privileged), so a device that is not
 * persistent - one made in a race after the lookup - is dropped.
 * TUNSETIFF also stores its flags in a persistent device, so the tap's
 * own IFF_VNET_HDR is kept (a tap that existed before is left as it was)
 * unless no_vnet_hdr asks for plain frames: QEMU 7.2's filter-dump writes
 * the virtio-net header into the pcap otherwise. A multiqueue tap must be
 * opened as one (IFF_MULTI_QUEUE); each open is one more queue.
 */
int
net_tap_open(const struct net_link *l, bool no_vnet_hdr)
{
	struct ifreq ifr;
	int fd;

	if (!l->is_tap)
		return -ENODEV;
	fd = tun_open(l->name, IFF_TAP | IFF_NO_PI |
	    (l->multi_queue ? IFF_MULTI_QUEUE : 0) |
	    (l->vnet_hdr && !no_vnet_hdr ? IFF_VNET_HDR : 0), &ifr);
	if (fd < 0)
		return fd;
	if (ioctl(fd, TUNGETIFF, &ifr) < 0 || !(ifr.ifr_flags & IFF_PERSIST)) {
		close(fd);
		return -ENODEV;
	}
	return fd;
}
