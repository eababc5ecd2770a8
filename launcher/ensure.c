/*
 * ensure.c - make the planned network true on the host, journaling each
 * change before it is made: the developer's tap exists, belongs to them,
 * is addressed and up (local mode). Refuses, before changing anything, a
 * tap of another user, a tap on a bridge, a tap with other addresses, and
 * an address whose network overlaps a route on another interface.
 * Errors come back as -errno with one sentence in why (no "qrun: ").
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "qrun.h"

#define WHY(...) snprintf(why, whylen, __VA_ARGS__)

/* An existing interface may serve as the developer's tap? */
int
ensure_check_tap(const struct net_link *l, const struct priv *pv,
    enum net_mode mode, char *why, size_t whylen)
{
	if (!l->is_tap) {
		WHY("%s: exists and is not a tap (%s)", l->name,
		    l->kind[0] ? l->kind : "no kind");
		return -EEXIST;
	}
	if (l->owner >= 0 && (uid_t)l->owner != pv->uid) {
		WHY("%s: owned by uid %ld, not you", l->name, l->owner);
		return -EPERM;
	}
	if (l->owner < 0 && !pv->root) {
		WHY("%s: has no owner; only root may use it", l->name);
		return -EPERM;
	}
	if (mode == NET_TAP && l->master != 0) {
		WHY("%s: is a bridge port; local mode needs a tap of its own "
		    "(use -n bridge, or another tap)", l->name);
		return -EBUSY;
	}
	return 0;
}

/* Does the tap already carry exactly the planned address? 1, 0, -errno. */
static int
addr_state(struct net *n, const struct net_link *l, const struct netplan *p,
    char *why, size_t whylen)
{
	struct net_addr a[16];
	size_t na = 0;
	int r, have = 0;
	char b[INET_ADDRSTRLEN];

	r = net_addr_list(n, l->ifindex, a, ARRAY_SIZE(a), &na);
	if (r < 0) {
		WHY("%s: cannot read addresses: %s", l->name, strerror(-r));
		return r;
	}
	for (size_t i = 0; i < na; i++) {
		if (a[i].addr.s_addr == p->host.s_addr &&
		    a[i].prefix == p->prefix)
			have = 1;
		else {
			WHY("%s: has %s/%d, not the planned %s/%d", l->name,
			    ip_str(a[i].addr, b), a[i].prefix,
			    ip_str(p->host, (char[INET_ADDRSTRLEN]){ 0 }),
			    p->prefix);
			return -EEXIST;
		}
	}
	return have;
}

static void
admin_hint(const struct netplan *p, const struct priv *pv, bool with_addr,
    char *why, size_t whylen, const char *what)
{
	char b[INET_ADDRSTRLEN];

	if (with_addr)
		WHY("%s: %s; ask an admin to run: sudo qrun tap create %s "
		    "--owner %s --addr %s/%d", p->tap, what, p->tap, pv->user,
		    ip_str(p->host, b), p->prefix);
	else
		WHY("%s: %s; ask an admin to run: sudo qrun tap create %s "
		    "--owner %s", p->tap, what, p->tap, pv->user);
}

/* Refuse a network that overlaps a route on another interface. */
static int
check_overlap(struct net *n, const struct netplan *p, int ifindex, char *why,
    size_t whylen)
{
	char other[IFNAMSIZ] = "", b[INET_ADDRSTRLEN];
	struct in_addr net = { htonl(ntohl(p->host.s_addr) &
	    prefix_mask(p->prefix)) };
	int r = net_route_overlap(n, net, p->prefix, ifindex, other);

	if (r < 0) {
		WHY("%s: cannot read routes: %s", p->tap, strerror(-r));
		return r;
	}
	if (r > 0) {
		WHY("%s: %s/%d overlaps a route on %s; pick another tap or "
		    "set net.host_addr", p->tap, ip_str(net, b), p->prefix,
		    other);
		return -EADDRINUSE;
	}
	return 0;
}

/*
 * The tap already carries the planned address and is up, so qrun adds no
 * network: what matters is that traffic for the guest goes out the tap.
 * One route lookup answers that, where the overlap check above must read
 * the whole main table (slow on hosts with many addressed interfaces).
 */
static int
check_guest_route(struct net *n, const struct netplan *p,
    const struct net_link *l, char *why, size_t whylen)
{
	struct net_link o = { .name = "nowhere" };
	char b[INET_ADDRSTRLEN];
	int oif, r = net_route_oif(n, p->guest, &oif);

	if (r < 0) {
		WHY("%s: cannot read routes: %s", p->tap, strerror(-r));
		return r;
	}
	if (oif == l->ifindex)
		return 0;
	if (oif > 0)
		(void)net_link_get_index(n, oif, &o);
	WHY("%s: traffic to the guest %s goes out %s, not %s; a route on %s "
	    "overlaps %s/%d", p->tap, ip_str(p->guest, b), o.name, p->tap,
	    o.name, ip_str(p->host, (char[INET_ADDRSTRLEN]){ 0 }), p->prefix);
	return -EADDRINUSE;
}

/* Journal one change before making it; the reason in why on failure. */
int
ensure_log(struct journal *j, const char *tap, char *why, size_t whylen,
    const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = journal_vlog(j, fmt, ap);
	va_end(ap);
	if (r < 0)
		WHY("%s: cannot write the journal: %s", tap, strerror(-r));
	return r;
}

/*
 * Create p->tap for the developer (journaled); l gets the new link, *fd
 * the creator's open queue when fd is not NULL.
 */
int
ensure_create_tap(struct net *n, struct journal *j, const struct netplan *p,
    const struct priv *pv, struct net_link *l, int *fd, char *why,
    size_t whylen)
{
	int r;

	if ((r = ensure_log(j, p->tap, why, whylen, "tap-create %s",
	    p->tap)) < 0)
		return r;
	r = net_tap_create_open(n, p->tap, pv->uid, (gid_t)-1,
	    !p->plain_frames, l);
	if (r < 0)
		journal_cancel(j);	/* it did not happen: never undo it */
	if (r == -EPERM || r == -EACCES) {
		/* Local mode also needs the address: one command does both. */
		admin_hint(p, pv, p->mode == NET_TAP, why, whylen,
		    "no such tap");
		return r;
	}
	if (r < 0) {
		WHY("%s: cannot create: %s", p->tap, strerror(-r));
		return r;
	}
	if (fd != NULL)
		*fd = r;
	else
		close(r);
	return 0;
}

static int
add_addr(struct net *n, struct journal *j, const struct netplan *p,
    const struct priv *pv, const struct net_link *l, char *why,
    size_t whylen)
{
	char b[INET_ADDRSTRLEN];
	int r;

	ip_str(p->host, b);
	if ((r = ensure_log(j, p->tap, why, whylen, "addr-add %s %s/%d",
	    p->tap, b, p->prefix)) < 0)
		return r;
	r = net_addr_add(n, l->ifindex, p->host, p->prefix);
	if (r < 0)
		journal_cancel(j);
	if (r == -EPERM || r == -EACCES)
		admin_hint(p, pv, true, why, whylen,
		    "has no address and you may not add one");
	else if (r < 0)
		WHY("%s: cannot add %s/%d: %s", p->tap, b, p->prefix,
		    strerror(-r));
	return r;
}

/*
 * Local mode: make p->tap exist (owned by the developer), carry
 * p->host/p->prefix and be up. Each change is journaled first; every
 * check runs before the first change.
 */
int
ensure_tap(struct net *n, struct journal *j, const struct netplan *p,
    const struct priv *pv, struct net_link *l, int *fd, char *why,
    size_t whylen)
{
	bool exists;
	int r, have = 0;

	memset(l, 0, sizeof(*l));
	r = net_link_get(n, p->tap, l);
	if (r < 0 && r != -ENODEV) {
		WHY("%s: cannot look up: %s", p->tap, strerror(-r));
		return r;
	}
	exists = r == 0;
	if (exists && (r = ensure_check_tap(l, pv, p->mode, why, whylen)) < 0)
		return r;
	if (exists && (have = addr_state(n, l, p, why, whylen)) < 0)
		return have;
	if (have && l->up)
		return check_guest_route(n, p, l, why, whylen);
	if ((r = check_overlap(n, p, exists ? l->ifindex : 0, why,
	    whylen)) < 0)
		return r;
	if (!exists &&
	    (r = ensure_create_tap(n, j, p, pv, l, fd, why, whylen)) < 0)
		return r;
	if (!have && (r = add_addr(n, j, p, pv, l, why, whylen)) < 0)
		return r;
	if (l->up)
		return 0;
	if ((r = ensure_log(j, p->tap, why, whylen, "link-up %s", p->tap)) < 0)
		return r;
	if ((r = net_link_set_up(n, l->ifindex, true)) < 0) {
		journal_cancel(j);
		WHY("%s: cannot set up: %s", p->tap, strerror(-r));
		return r;
	}
	l->up = true;
	return 0;
}
