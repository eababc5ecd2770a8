/*
 * impair.c - net.netem on a guest's link, in both directions. What the
 * guest receives leaves the host by the tap: a netem root qdisc on the
 * tap impairs it. What the guest sends arrives on the tap's ingress,
 * where no qdisc can delay it, so an ingress qdisc with a filter
 * redirects it to an ifb device qrun makes (ifb-TAP), whose own netem
 * root qdisc impairs it on its way out. Every piece is journaled
 * (change.c) and goes with the run's undo, or a crashed run's replay;
 * a running network's impairment changes in place (impair_change), or
 * comes off (impair_down). Errors are -errno with one sentence in why.
 */
#include <stdio.h>
#include <string.h>

#include "qrun.h"

#define WHY(...) snprintf(why, whylen, __VA_ARGS__)

/* The ifb of tap: "ifb-TAP", or "qifbIFINDEX" for a long tap name. */
static void
ifb_name(const struct net_link *tap, char name[IFNAMSIZ])
{
	if (strlen(tap->name) + 4 < IFNAMSIZ)
		snprintf(name, IFNAMSIZ, "ifb-%s", tap->name);
	else
		snprintf(name, IFNAMSIZ, "qifb%d", tap->ifindex);
}

/* A qdisc qrun did not put there would be replaced or joined: refuse. */
static int
tap_free(struct net *n, const struct net_link *tap, char *why,
    size_t whylen)
{
	char root[16], ing[16];
	int r;

	if ((r = tc_qdisc_kind(n, tap->ifindex, TC_ROOT, root)) < 0 ||
	    (r = tc_qdisc_kind(n, tap->ifindex, TC_INGRESS, ing)) < 0) {
		WHY("%s: cannot read its qdiscs: %s", tap->name, strerror(-r));
		return r;
	}
	if (root[0] || ing[0]) {
		WHY("%s: has a%s %s qdisc already; net.netem needs the tap "
		    "without one", tap->name, root[0] ? " root" : "n ingress",
		    root[0] ? root : ing);
		return -EEXIST;
	}
	return 0;
}

/* What impair_up adds, for messages. */
struct tcthing {
	const char *what;	/* "a netem qdisc" */
	const char *kind;	/* "netem" */
	const char *config;	/* the kernel options and modules it needs */
};

static const struct tcthing t_ingress = { "an ingress qdisc",
    "ingress qdisc", "CONFIG_NET_SCH_INGRESS, module sch_ingress" };
static const struct tcthing t_redirect = { "a u32 filter with a mirred "
    "action", "u32 filter or mirred action", "CONFIG_NET_CLS_U32, "
    "CONFIG_NET_ACT_MIRRED, modules cls_u32, act_mirred" };
static const struct tcthing t_netem = { "a netem qdisc", "netem",
    "CONFIG_NET_SCH_NETEM, module sch_netem" };

/* Why t could not be added to link, in words: -ENOENT is a kernel
 * without that kind (and no module it could load). */
static void
tc_why(const char *link, const struct tcthing *t, int r, char *why,
    size_t whylen)
{
	if (r == -ENOENT)
		WHY("%s: cannot add %s: this kernel has no %s (%s)", link,
		    t->what, t->kind, t->config);
	else
		WHY("%s: cannot add %s: %s", link, t->what, strerror(-r));
}

/* The ifb, up. */
static int
ifb_make(struct net *n, struct journal *j, const struct net_link *tap,
    struct net_link *ifb, char *why, size_t whylen)
{
	struct jrec rec = { .kind = J_LINK_UP };
	char name[IFNAMSIZ];
	int r;

	ifb_name(tap, name);
	if ((r = change_link_create(j, n, J_IFB_CREATE, name, ifb)) < 0) {
		if (r == -EPERM)
			WHY("%s: net.netem needs root (an ifb device for the "
			    "tap's ingress)", tap->name);
		else
			WHY("%s: cannot create: %s", name, strerror(-r));
		return r;
	}
	jlink_set(&rec.l[0], ifb);
	return change_do(j, n, &rec, 0, why, whylen);
}

/*
 * Impair both directions of tap as ne says: the ifb, the tap's ingress
 * redirected to it, netem on the ifb, then netem on the tap; each
 * journaled before it is made. The ifb in *ifb_out.
 */
int
impair_up(struct net *n, struct journal *j, const struct net_link *tap,
    const struct netem *ne, struct jlink *ifb_out, char *why, size_t whylen)
{
	struct jrec rec = { .kind = J_QDISC_ADD, .text = "ingress" };
	struct net_link ifb;
	struct jlink jt, ji;
	int r;

	memset(ifb_out, 0, sizeof(*ifb_out));
	if ((r = tap_free(n, tap, why, whylen)) < 0 ||
	    (r = ifb_make(n, j, tap, &ifb, why, whylen)) < 0)
		return r;
	jlink_set(&jt, tap);
	jlink_set(&ji, &ifb);
	rec.l[0] = jt;
	if ((r = change_do(j, n, &rec, 0, why, whylen)) == -ENOENT)
		tc_why(jt.name, &t_ingress, r, why, whylen);
	if (r < 0)
		return r;
	rec = (struct jrec){ .kind = J_REDIRECT, .l = { jt, ji } };
	if ((r = change_do(j, n, &rec, 0, why, whylen)) == -ENOENT)
		tc_why(jt.name, &t_redirect, r, why, whylen);
	if (r < 0)
		return r;
	if ((r = change_netem(j, n, &ji, ne)) < 0) {
		tc_why(ji.name, &t_netem, r, why, whylen);
		return r;
	}
	if ((r = change_netem(j, n, &jt, ne)) < 0) {
		tc_why(jt.name, &t_netem, r, why, whylen);
		return r;
	}
	*ifb_out = ji;
	return 0;
}

/* The impairment of a running network, changed in place on both. */
int
impair_change(struct net *n, const struct jlink *tap, const struct jlink *ifb,
    const struct netem *ne, char *why, size_t whylen)
{
	const struct jlink *at = ifb;
	int r;

	if ((r = tc_netem(n, ifb->ifindex, ne, false)) == 0) {
		at = tap;
		r = tc_netem(n, tap->ifindex, ne, false);
	}
	if (r < 0)
		WHY("%s: cannot change its netem qdisc: %s", at->name,
		    strerror(-r));
	return r;
}

/*
 * Take the impairment off a running network: the tap's netem and
 * ingress qdiscs (the filter goes with the latter), then the ifb. Their
 * records stay in the journal; undoing them later finds nothing.
 */
int
impair_down(struct net *n, const struct jlink *tap, const struct jlink *ifb,
    char *why, size_t whylen)
{
	struct net_link l;
	int r;

	if (((r = tc_qdisc_del(n, tap->ifindex, TC_ROOT)) < 0 &&
	    r != -ENOENT) ||
	    ((r = tc_qdisc_del(n, tap->ifindex, TC_INGRESS)) < 0 &&
	    r != -ENOENT && r != -EINVAL)) {
		WHY("%s: cannot remove its qdiscs: %s", tap->name,
		    strerror(-r));
		return r;
	}
	if ((r = net_link_get_index(n, ifb->ifindex, &l)) < 0 ||
	    strcmp(l.name, ifb->name) != 0 || strcmp(l.kind, "ifb") != 0)
		return 0;	/* gone already, or no longer ours */
	if ((r = net_link_delete(n, ifb->ifindex)) < 0 && r != -ENODEV) {
		WHY("%s: cannot delete: %s", ifb->name, strerror(-r));
		return r;
	}
	return 0;
}
