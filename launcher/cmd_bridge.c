/*
 * cmd_bridge.c - "qrun bridge create|delete|list": the lab bridges that
 * bridged runs join. The work (moving an uplink's addresses and routes,
 * journaled) is bridge.c's; this file checks the command, refuses to
 * delete a bridge a run uses, and prints.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/rtnetlink.h>

#include "qrun.h"
#include "cmd.h"

#define MAX_PORTS	256

/* Refuse to delete a bridge a live run uses. */
static int
in_use(const char *state, const char *name)
{
	const struct strv *ru;
	struct runs runs;
	int r = 0;

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

/* --addr: the address rules of a run (hostaddr.c); the uplink's routes
 * move to the bridge, so they do not count. */
static int
addr_ok(struct admin *a, const char *br, const struct opts *o,
    const struct ipaddr *addr, char *why, size_t whylen)
{
	struct net_link up = { .ifindex = 0 };

	if (o->addr == NULL)
		return 0;
	if (o->uplink)
		(void)net_link_get(a->net, o->uplink, &up);
	return hostaddr_check(a->net, &a->pv, br, addr, up.ifindex, why,
	    whylen);
}

/* bridge create|delete, journaled; prints what happened. vx: --vxlan's
 * port, or NULL. */
static int
bridge_change(struct admin *a, bool create, const char *br,
    const struct opts *o, const struct vxlan_conf *vx)
{
	struct bridge_report rep = { 0 };
	struct ipaddr addr;
	char why[512];
	int r;

	if (create && o->addr && ipaddr_parse(o->addr, IPA_PREFIX,
	    &addr) < 0) {
		warnx("--addr %s: must be an address with prefix, like "
		    "10.10.0.5/16", o->addr);
		return -EINVAL;
	}
	if (create && (r = addr_ok(a, br, o, &addr, why, sizeof(why))) < 0)
		;
	else if (create)
		r = bridge_create(a->net, a->j, br, o->uplink,
		    o->addr ? &addr : NULL, vx, &rep, why, sizeof(why));
	else if ((r = in_use(a->state, br)) == 0)
		r = bridge_delete(a->net, a->j, br, &rep, why, sizeof(why));
	else
		why[0] = '\0';
	if (r < 0 && why[0])
		warnx("%s", why);
	if (r == 0)
		printf("qrun: %s\n", rep.done);
	for (size_t i = 0; i < rep.notes.n; i++)
		warnx("%s", rep.notes.v[i]);
	strv_free(&rep.notes);
	return r;
}

/* A VXLAN port as "vx42(vxlan 42 to A,B)" at the end of buf. */
static void
vxlan_port(struct net *n, const struct net_link *p, char *buf, size_t len)
{
	struct ipaddr rem[VXLAN_REMOTES_MAX];
	char b[IPADDR_STRLEN];
	size_t nr = 0, off = strlen(buf);

	(void)net_fdb_remotes(n, p->ifindex, rem, ARRAY_SIZE(rem), &nr);
	snprintf(buf + off, len - off, "%s(vxlan %u%s", p->name, p->vni,
	    nr ? " to " : "");
	for (size_t i = 0; i < nr; i++) {
		off = strlen(buf);
		snprintf(buf + off, len - off, "%s%s", i ? "," : "",
		    ipaddr_str(&rem[i], b));
	}
	off = strlen(buf);
	snprintf(buf + off, len - off, ")");
}

/* One line of "bridge list": name, state, addresses, ports and runs. */
static void
list_one(struct net *n, const struct net_link *br, const struct runs *runs)
{
	struct net_link ports[MAX_PORTS];
	struct net_addr a[8];
	char addrs[256] = "", portl[512] = "", b[IPADDR_STRLEN];
	const struct strv *ru;
	size_t na = 0, np = 0, len;

	(void)net_addr_list(n, br->ifindex, AF_UNSPEC, a, ARRAY_SIZE(a), &na);
	for (size_t i = 0; i < na; i++) {
		if (a[i].scope == RT_SCOPE_LINK)
			continue;
		len = strlen(addrs);
		snprintf(addrs + len, sizeof(addrs) - len, "%s%s",
		    len ? "," : "", ipaddr_cidr(&a[i].a, b));
	}
	(void)net_link_ports(n, br->ifindex, ports, MAX_PORTS, &np);
	for (size_t i = 0; i < np; i++) {
		len = strlen(portl);
		ru = ports[i].is_tap ? run_find(runs, ports[i].name,
		    br->name) : NULL;
		if (strcmp(ports[i].kind, "vxlan") == 0) {
			snprintf(portl + len, sizeof(portl) - len, "%s",
			    i ? " " : "");
			vxlan_port(n, &ports[i], portl, sizeof(portl));
		} else if (ru)
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
	static const struct lister ls = { "bridge list", "bridge",
	    "BRIDGE          STATE ADDRESS              PORTS\n", list_one,
	    NULL };
	struct net_link l[64];

	return list_links(&ls, l, ARRAY_SIZE(l));
}

/* --vxlan and its options (only with create): into *vx, *on when given;
 * prints; 0 or EXIT_QRUN. */
static int
vxlan_opts(const struct opts *o, bool create, struct vxlan_conf *vx,
    bool *on)
{
	char why[256];

	*on = o->vxlan != NULL;
	if (!*on && (o->remote || o->dev || o->local)) {
		warnx("--remote, --dev and --local go with --vxlan");
		return EXIT_QRUN;
	}
	if (*on && !create) {
		warnx("--vxlan: only for bridge create (bridge delete takes "
		    "the VXLAN port off too)");
		return EXIT_QRUN;
	}
	if (*on && vxlan_conf_parse(o->vxlan, o->remote, o->dev, o->local,
	    vx, why, sizeof(why)) < 0) {
		warnx("%s", why);
		return EXIT_QRUN;
	}
	return 0;
}

int
cmd_bridge(struct opts *o)
{
	const char *verb = o->args.n > o->argi ? o->args.v[o->argi] : "list";
	const char *br = o->args.n > o->argi + 1 ? o->args.v[o->argi + 1] :
	    NULL;
	bool create = strcmp(verb, "create") == 0, vxon;
	struct vxlan_conf vx;
	struct admin a;
	int r;

	if (strcmp(verb, "list") == 0)
		return bridge_list();
	if (admin_check("bridge", verb, br) != 0 ||
	    vxlan_opts(o, create, &vx, &vxon) != 0 || admin_open(&a, br) != 0)
		return EXIT_QRUN;
	r = bridge_change(&a, create, br, o, vxon ? &vx : NULL);
	return admin_done(&a, r == 0, br);
}
