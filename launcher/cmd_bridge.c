/*
 * cmd_bridge.c - "qrun bridge create|delete|list": the lab bridges that
 * bridged runs join. create moves the uplink's IPv4 addresses and routes
 * to the new bridge before the uplink would lose them (the classic
 * mistake: the host address stays on eth1 after eth1 became a port, and
 * the host loses the lab); delete gives them back. Every step is
 * journaled first: a failure undoes the lot, a crash is undone by
 * "qrun cleanup", success keeps it. Which port is the uplink is not
 * recorded anywhere: it is the one port that is not a tap.
 */
#include <err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/rtnetlink.h>

#include "qrun.h"
#include "cmd.h"

#define MAX_ADDRS	32
#define MAX_ROUTES	64
#define MAX_PORTS	256

/* An interface's IPv4 addresses and non-kernel routes, read up front. */
struct ifstate {
	struct net_addr a[MAX_ADDRS];
	size_t na;
	struct net_route rt[MAX_ROUTES];
	size_t nrt;
	struct net_route other;	/* the first route a move cannot carry */
	size_t nother;
};

static int
if_read(struct net *n, const struct net_link *l, struct ifstate *st)
{
	int r;

	memset(st, 0, sizeof(*st));
	if ((r = net_addr_list(n, l->ifindex, st->a, MAX_ADDRS, &st->na)) < 0)
		warnx("%s: cannot read addresses: %s", l->name, strerror(-r));
	else if ((r = net_route_list_dev(n, l->ifindex, st->rt, MAX_ROUTES,
	    &st->nrt, &st->other, &st->nother)) < 0)
		warnx("%s: cannot read routes: %s", l->name, strerror(-r));
	return r;
}

/* Log a record, then check the change it describes; a change that did
 * not happen (ok_err, e.g. -EEXIST) is dropped from the journal. */
static int
jstep(struct journal *j, int r, int ok_err, const char *what)
{
	if (r == 0)
		return 0;
	journal_cancel(j);
	if (r == ok_err)
		return 0;
	warnx("%s: %s", what, strerror(-r));
	return r;
}

static int
jlog(struct journal *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
jlog(struct journal *j, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = journal_vlog(j, fmt, ap);
	va_end(ap);
	if (r < 0)
		warnx("cannot write the journal: %s", strerror(-r));
	return r;
}

/* "DST/P GW METRIC PROTO", the route part of route-add/route-del. */
static const char *
route_str(const struct net_route *rt, char *buf, size_t len)
{
	char d[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];

	snprintf(buf, len, "%s/%d %s %u %u", ip_str(rt->dst, d), rt->prefix,
	    ip_str(rt->gw, g), rt->metric, rt->proto);
	return buf;
}

/* Copy every address, then every route, of from onto to. */
static int
copy_to(struct net *n, struct journal *j, const struct ifstate *st,
    const struct net_link *to)
{
	char b[INET_ADDRSTRLEN], rs[96], what[160];
	struct net_route rt;
	int r;

	for (size_t i = 0; i < st->na; i++) {
		ip_str(st->a[i].addr, b);
		snprintf(what, sizeof(what), "%s: cannot add %s/%d", to->name,
		    b, st->a[i].prefix);
		if ((r = jlog(j, "addr-add %s %s/%d", to->name, b,
		    st->a[i].prefix)) < 0 ||
		    (r = jstep(j, net_addr_add(n, to->ifindex, st->a[i].addr,
		    st->a[i].prefix), -EEXIST, what)) < 0)
			return r;
	}
	for (size_t i = 0; i < st->nrt; i++) {
		rt = st->rt[i];
		rt.ifindex = to->ifindex;
		route_str(&rt, rs, sizeof(rs));
		snprintf(what, sizeof(what), "%s: cannot add route %s",
		    to->name, rs);
		if ((r = jlog(j, "route-add %s %s", to->name, rs)) < 0 ||
		    (r = jstep(j, net_route_add(n, &rt), -EEXIST, what)) < 0)
			return r;
	}
	return 0;
}

/* Remove every route, then every address, of st from its interface. */
static int
remove_from(struct net *n, struct journal *j, const struct ifstate *st,
    const struct net_link *from)
{
	char b[INET_ADDRSTRLEN], rs[96], what[160];
	int r;

	for (size_t i = 0; i < st->nrt; i++) {
		route_str(&st->rt[i], rs, sizeof(rs));
		snprintf(what, sizeof(what), "%s: cannot remove route %s",
		    from->name, rs);
		if ((r = jlog(j, "route-del %s %s", from->name, rs)) < 0 ||
		    (r = jstep(j, net_route_del(n, &st->rt[i]), -ESRCH,
		    what)) < 0)
			return r;
	}
	for (size_t i = 0; i < st->na; i++) {
		ip_str(st->a[i].addr, b);
		snprintf(what, sizeof(what), "%s: cannot remove %s/%d",
		    from->name, b, st->a[i].prefix);
		if ((r = jlog(j, "addr-del %s %s/%d", from->name, b,
		    st->a[i].prefix)) < 0 ||
		    (r = jstep(j, net_addr_del(n, from->ifindex, st->a[i].addr,
		    st->a[i].prefix), -EADDRNOTAVAIL, what)) < 0)
			return r;
	}
	return 0;
}

/* What the move carries over differently: a lease becomes permanent. */
static void
moved_notes(const struct ifstate *st, const char *from, const char *to)
{
	char b[INET_ADDRSTRLEN];

	for (size_t i = 0; i < st->na; i++)
		if (st->a[i].valid != UINT32_MAX)
			warnx("%s: %s/%d was a lease (%u s left) and is "
			    "permanent on %s now; run the DHCP client on %s",
			    from, ip_str(st->a[i].addr, b), st->a[i].prefix,
			    st->a[i].valid, to, to);
}

/*
 * Routes the move cannot carry (multipath, another table, not unicast)
 * would be lost: the kernel drops every route through an interface when
 * its last address goes. Refuse before any change.
 */
static int
movable(const struct ifstate *st, const char *from, const char *to)
{
	char d[INET_ADDRSTRLEN], how[32];
	const struct net_route *o = &st->other;

	if (st->nother == 0)
		return 0;
	if (o->multipath)
		snprintf(how, sizeof(how), "multipath");
	else if (o->table != RT_TABLE_MAIN)
		snprintf(how, sizeof(how), "table %u", o->table);
	else
		snprintf(how, sizeof(how), "not unicast");
	warnx("%s: route %s/%d (%s) cannot be moved to %s and would be lost; "
	    "remove it first (%zu such route%s)", from, ip_str(o->dst, d),
	    o->prefix, how, to, st->nother, st->nother == 1 ? "" : "s");
	return -EINVAL;
}

/* May ifname become the uplink of a new bridge? Reads its state. */
static int
uplink_check(struct net *n, const char *ifname, struct net_link *up,
    struct ifstate *st)
{
	const char *why;
	int r;

	if (ifname_check(ifname, &why) < 0) {
		warnx("--uplink %s: %s", ifname, why);
		return -EINVAL;
	}
	if ((r = net_link_get(n, ifname, up)) < 0) {
		warnx("%s: %s", ifname, r == -ENODEV ? "no such interface" :
		    strerror(-r));
		return r;
	}
	if (up->is_tap || strcmp(up->kind, "bridge") == 0) {
		warnx("%s: is a %s, not a lab uplink", ifname,
		    up->is_tap ? "tap" : "bridge");
		return -EINVAL;
	}
	if (up->master != 0) {
		warnx("%s: is already a port of another bridge or bond",
		    ifname);
		return -EBUSY;
	}
	return if_read(n, up, st);
}

/* The new bridge: created (STP off, forward delay 0), up, and with the
 * uplink's MAC set, so joining taps never change it. */
static int
make_bridge(struct net *n, struct journal *j, const char *name,
    const struct net_link *up, struct net_link *br)
{
	int r;

	if ((r = jlog(j, "bridge-create %s", name)) < 0)
		return r;
	if ((r = net_bridge_create(n, name)) < 0) {
		journal_cancel(j);
		warnx("%s: cannot create: %s", name, strerror(-r));
		return r;
	}
	if ((r = net_link_get(n, name, br)) < 0) {
		warnx("%s: %s", name, strerror(-r));
		return r;
	}
	if (up != NULL && (r = net_link_set_mac(n, br->ifindex, up->mac)) < 0)
		warnx("%s: cannot set the MAC address: %s", name,
		    strerror(-r));
	return r;
}

/*
 * bridge create BR [--uplink IF] [--addr A/P]. Order matters for the
 * undo, which runs backwards: the bridge and its port first, then the
 * copies of the uplink's addresses and routes on the bridge, and only
 * then their removal from the uplink.
 */
static int
bridge_create(struct net *n, struct journal *j, const char *name,
    const char *uplink, const char *addr)
{
	struct net_link br, up;
	struct ifstate st = { 0 }, extra = { 0 };
	int r;

	if (addr && parse_ipv4(addr, &extra.a[0].addr, &extra.a[0].prefix,
	    true) < 0) {
		warnx("--addr %s: must be an IPv4 address with prefix, like "
		    "10.10.0.5/16", addr);
		return -EINVAL;
	}
	extra.na = addr != NULL;
	if ((r = net_link_get(n, name, &br)) == 0) {
		warnx("%s: already exists", name);
		return -EEXIST;
	}
	if (uplink && ((r = uplink_check(n, uplink, &up, &st)) < 0 ||
	    (r = movable(&st, uplink, name)) < 0))
		return r;
	if ((r = make_bridge(n, j, name, uplink ? &up : NULL, &br)) < 0)
		return r;
	if (uplink && ((r = jlog(j, "enslave %s %s", up.name, name)) < 0 ||
	    (r = jstep(j, net_link_set_master(n, up.ifindex, br.ifindex), 0,
	    "cannot enslave the uplink")) < 0))
		return r;
	if ((r = jlog(j, "link-up %s", name)) < 0 ||
	    (r = jstep(j, net_link_set_up(n, br.ifindex, true), 0,
	    "cannot set the bridge up")) < 0)
		return r;
	if (uplink && !up.up && ((r = jlog(j, "link-up %s", up.name)) < 0 ||
	    (r = jstep(j, net_link_set_up(n, up.ifindex, true), 0,
	    "cannot set the uplink up")) < 0))
		return r;
	if ((r = copy_to(n, j, &extra, &br)) < 0)
		return r;
	if (uplink && ((r = copy_to(n, j, &st, &br)) < 0 ||
	    (r = remove_from(n, j, &st, &up)) < 0))
		return r;
	printf("qrun: %s created%s%s; %zu address%s and %zu route%s moved\n",
	    name, uplink ? " with uplink " : "", uplink ? uplink : "", st.na,
	    st.na == 1 ? "" : "es", st.nrt, st.nrt == 1 ? "" : "s");
	if (uplink)
		moved_notes(&st, uplink, name);
	return 0;
}

/* The bridge to delete and its ports; refuses while a run uses it. */
static int
delete_check(struct net *n, const char *state, const char *name,
    struct net_link *br, struct net_link *ports, size_t *np)
{
	struct runs runs;
	const struct strv *ru;
	int r;

	if ((r = net_link_get(n, name, br)) < 0) {
		warnx("%s: %s", name, r == -ENODEV ? "no such bridge" :
		    strerror(-r));
		return r;
	}
	if (strcmp(br->kind, "bridge") != 0) {
		warnx("%s: not a bridge; qrun deletes only bridges", name);
		return -EINVAL;
	}
	if ((r = net_link_ports(n, br->ifindex, ports, MAX_PORTS, np)) < 0) {
		warnx("%s: cannot list ports: %s", name, strerror(-r));
		return r;
	}
	runs_load(state, &runs);
	if ((ru = run_find(&runs, NULL, name)) != NULL) {
		const char *tap = run_get(ru, "tap");

		warnx("%s: in use by qrun pid %s (%s); stop it first", name,
		    run_get(ru, "pid"), tap ? tap : "?");
		r = -EBUSY;
	}
	runs_free(&runs);
	return r;
}

/*
 * bridge delete BR: with exactly one port that is not a tap (the
 * uplink), its addresses and routes go back to it first; then every port
 * is released and the bridge deleted.
 */
static int
bridge_delete(struct net *n, struct journal *j, const char *state,
    const char *name)
{
	struct net_link br, ports[MAX_PORTS];
	const struct net_link *up = NULL;
	struct ifstate st;
	size_t np = 0, nup = 0;
	int r;

	if ((r = delete_check(n, state, name, &br, ports, &np)) < 0 ||
	    (r = if_read(n, &br, &st)) < 0)
		return r;
	for (size_t i = 0; i < np; i++)
		if (!ports[i].is_tap && nup++ == 0)
			up = &ports[i];
	if (nup == 1 && ((r = movable(&st, name, up->name)) < 0 ||
	    (r = copy_to(n, j, &st, up)) < 0 ||
	    (r = remove_from(n, j, &st, &br)) < 0))
		return r;
	if (nup != 1 && st.na > 0)
		warnx("%s: %zu ports are not taps, so its addresses go with "
		    "it", name, nup);
	for (size_t i = 0; i < np; i++)
		if ((r = jlog(j, "release %s %s", ports[i].name, name)) < 0 ||
		    (r = jstep(j, net_link_set_master(n, ports[i].ifindex, 0),
		    0, "cannot release a port")) < 0)
			return r;
	if ((r = jlog(j, "bridge-delete %s", name)) < 0 ||
	    (r = jstep(j, net_link_delete(n, br.ifindex), 0,
	    "cannot delete the bridge")) < 0)
		return r;
	printf("qrun: %s deleted%s%s\n", name, up && nup == 1 ?
	    "; addresses and routes back on " : "", up && nup == 1 ?
	    up->name : "");
	if (up && nup == 1)
		moved_notes(&st, name, up->name);
	return 0;
}

/* One line of "bridge list": name, state, addresses, ports and runs. */
static void
list_one(struct net *n, const struct net_link *br, const struct runs *runs)
{
	struct net_link ports[MAX_PORTS];
	struct net_addr a[8];
	char addrs[160] = "", portl[512] = "", b[INET_ADDRSTRLEN];
	const struct strv *ru;
	size_t na = 0, np = 0, len;

	(void)net_addr_list(n, br->ifindex, a, ARRAY_SIZE(a), &na);
	for (size_t i = 0; i < na; i++) {
		len = strlen(addrs);
		snprintf(addrs + len, sizeof(addrs) - len, "%s%s/%d",
		    i ? "," : "", ip_str(a[i].addr, b), a[i].prefix);
	}
	(void)net_link_ports(n, br->ifindex, ports, MAX_PORTS, &np);
	for (size_t i = 0; i < np; i++) {
		len = strlen(portl);
		ru = ports[i].is_tap ? run_find(runs, ports[i].name,
		    br->name) : NULL;
		if (ru)
			snprintf(portl + len, sizeof(portl) - len,
			    "%s%s(qrun pid %s)", i ? " " : "", ports[i].name,
			    run_get(ru, "pid"));
		else
			snprintf(portl + len, sizeof(portl) - len, "%s%s%s",
			    i ? " " : "", ports[i].name,
			    ports[i].is_tap ? "" : "(uplink)");
	}
	printf("%-15s %-5s %-20s %s\n", br->name, br->up ? "up" : "down",
	    addrs[0] ? addrs : "-", portl[0] ? portl : "-");
}

static int
bridge_list(void)
{
	struct net_link l[64];
	struct runs runs;
	struct priv pv;
	struct net *n = NULL;
	size_t cnt = 0;
	char *state;
	int r;

	priv_init(&pv);
	state = state_dir(pv.for_other);
	runs_load(state, &runs);
	if ((r = net_open(&n)) < 0 ||
	    ((r = net_link_list(n, "bridge", l, ARRAY_SIZE(l), &cnt)) < 0 &&
	    r != -ENOSPC)) {
		warnx("bridge list: %s", strerror(-r));
		r = EXIT_QRUN;
		goto out;
	}
	printf("%-15s %-5s %-20s %s\n", "BRIDGE", "STATE", "ADDRESS",
	    "PORTS");
	for (size_t i = 0; i < cnt; i++)
		list_one(n, &l[i], &runs);
	r = EXIT_OK;
out:
	runs_free(&runs);
	net_close(n);
	free(state);
	return r;
}

int
cmd_bridge(struct opts *o)
{
	const char *verb = o->args.n > o->argi ? o->args.v[o->argi] : "list";
	const char *br = o->args.n > o->argi + 1 ? o->args.v[o->argi + 1] :
	    NULL;
	struct admin a;
	int r;

	if (strcmp(verb, "list") == 0)
		return bridge_list();
	if (admin_check("bridge", verb, br) != 0 || admin_open(&a, true) != 0)
		return EXIT_QRUN;
	if (strcmp(verb, "create") == 0)
		r = bridge_create(a.net, a.j, br, o->uplink, o->addr);
	else
		r = bridge_delete(a.net, a.j, a.state, br);
	return admin_done(&a, r == 0, br);
}
