/*
 * tc.c - traffic control of one link through libnl-route-3's qdisc,
 * classifier and action objects: a netem root qdisc (what net.netem
 * says), an ingress qdisc, and on it a u32 filter that matches every
 * frame and redirects it (mirred) to an ifb, where a netem root qdisc
 * shapes what the link received. Requests go out through net.c
 * (net_send: the same permission check as every change); nothing here
 * prints, every function returns 0 or -errno.
 */
#include <stdio.h>
#include <string.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/tc_act/tc_mirred.h>

#include <netlink/netlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/route/action.h>
#include <netlink/route/classifier.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/tc.h>
#include <netlink/route/act/mirred.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/qdisc/netem.h>

#include "qrun.h"

#define REDIRECT_PRIO	0xc0de	/* the filter's priority: qrun's */

static uint32_t
parent_of(enum tc_where w)
{
	return w == TC_INGRESS ? TC_H_INGRESS : TC_H_ROOT;
}

/*
 * What libnl 3.7's netem cannot say, appended inside its TCA_OPTIONS
 * (the message's last attribute, which must span the rest of the
 * message, as libnl itself extends it for its own netem attributes): the
 * rate (0: none), and a zero reordering when there is none, since the
 * kernel keeps both from before when a change leaves them out.
 */
static int
netem_extra(struct nl_msg *msg, const struct netem *ne)
{
	struct tc_netem_rate rate = { .rate = ne->rate };
	struct tc_netem_reorder none = { 0, 0 };
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct nlattr *opts;
	uint32_t before = h->nlmsg_len;
	size_t off;

	opts = nlmsg_find_attr(h, sizeof(struct tcmsg), TCA_OPTIONS);
	if (opts == NULL)
		return -EINVAL;
	off = (size_t)((char *)opts - (char *)h);
	if (nla_put(msg, TCA_NETEM_RATE, sizeof(rate), &rate) < 0 ||
	    (ne->reorder == 0 &&
	    nla_put(msg, TCA_NETEM_REORDER, sizeof(none), &none) < 0))
		return -EMSGSIZE;
	h = nlmsg_hdr(msg);
	opts = (struct nlattr *)((char *)h + off);
	opts->nla_len = (uint16_t)(opts->nla_len + h->nlmsg_len - before);
	return 0;
}

/* A qdisc object of ifindex under parent, or NULL. */
static struct rtnl_qdisc *
qdisc_at(int ifindex, uint32_t parent)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();

	if (q != NULL) {
		rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
		rtnl_tc_set_parent(TC_CAST(q), parent);
	}
	return q;
}

/* The netem qdisc of ne on ifindex's root, as a libnl object. */
static struct rtnl_qdisc *
netem_qdisc(int ifindex, const struct netem *ne)
{
	struct rtnl_qdisc *q = qdisc_at(ifindex, TC_H_ROOT);

	if (q == NULL)
		return NULL;
	if (rtnl_tc_set_kind(TC_CAST(q), "netem") < 0) {
		rtnl_qdisc_put(q);
		return NULL;
	}
	rtnl_netem_set_delay(q, (int)ne->delay_us);
	rtnl_netem_set_jitter(q, (int)ne->jitter_us);
	rtnl_netem_set_loss(q, (int)ne->loss);
	rtnl_netem_set_duplicate(q, (int)ne->duplicate);
	if (ne->reorder)
		rtnl_netem_set_reorder_probability(q, (int)ne->reorder);
	return q;
}

/*
 * netem ne as ifindex's root qdisc: created (NLM_F_EXCL: only over the
 * default qdisc) or changed in place (flags 0: "tc qdisc change").
 */
int
tc_netem(struct net *n, int ifindex, const struct netem *ne, bool create)
{
	struct rtnl_qdisc *q = netem_qdisc(ifindex, ne);
	struct nl_msg *msg = NULL;
	int rc;

	if (q == NULL)
		return -ENOMEM;
	rc = rtnl_qdisc_build_add_request(q, create ? NLM_F_CREATE |
	    NLM_F_EXCL : 0, &msg);
	rtnl_qdisc_put(q);
	if (rc < 0)
		return net_nlerr(rc);
	if ((rc = netem_extra(msg, ne)) < 0) {
		nlmsg_free(msg);
		return rc;
	}
	return net_send(n, ifindex, msg, NULL, NULL);
}

int
tc_ingress_add(struct net *n, int ifindex)
{
	struct rtnl_qdisc *q = qdisc_at(ifindex, TC_H_INGRESS);
	struct nl_msg *msg = NULL;
	int rc;

	if (q == NULL)
		return -ENOMEM;
	rtnl_tc_set_handle(TC_CAST(q), TC_HANDLE(0xffff, 0));
	if ((rc = rtnl_tc_set_kind(TC_CAST(q), "ingress")) == 0)
		rc = rtnl_qdisc_build_add_request(q, NLM_F_CREATE | NLM_F_EXCL,
		    &msg);
	rtnl_qdisc_put(q);
	if (rc < 0)
		return net_nlerr(rc);
	return net_send(n, ifindex, msg, NULL, NULL);
}

int
tc_qdisc_del(struct net *n, int ifindex, enum tc_where w)
{
	struct rtnl_qdisc *q = qdisc_at(ifindex, parent_of(w));
	struct nl_msg *msg = NULL;
	int rc;

	if (q == NULL)
		return -ENOMEM;
	rc = rtnl_qdisc_build_delete_request(q, &msg);
	rtnl_qdisc_put(q);
	if (rc < 0)
		return net_nlerr(rc);
	return net_send(n, ifindex, msg, NULL, NULL);
}

/* The reply to RTM_GETQDISC: its kind, unless it is the default one
 * the kernel attached (handle 0). */
static int
parse_kind(struct nlmsghdr *h, void *arg)
{
	struct nlattr *tb[TCA_MAX + 1];
	const struct tcmsg *t;
	char *kind = arg;

	if (h->nlmsg_type != RTM_NEWQDISC ||
	    nlmsg_parse(h, sizeof(struct tcmsg), tb, TCA_MAX, NULL) < 0 ||
	    tb[TCA_KIND] == NULL)
		return 0;
	t = nlmsg_data(h);
	if (t->tcm_handle != 0)
		nla_strlcpy(kind, tb[TCA_KIND], 16);
	return 0;
}

/*
 * The kind of ifindex's qdisc at w, asked for that one qdisc (no dump,
 * whose size would grow with the host's interfaces):
 * "" when there is only the default (which the kernel does not report,
 * or reports with handle 0).
 */
int
tc_qdisc_kind(struct net *n, int ifindex, enum tc_where w, char kind[16])
{
	struct tcmsg t = { .tcm_family = AF_UNSPEC, .tcm_ifindex = ifindex,
	    .tcm_parent = parent_of(w) };
	struct nl_msg *msg;
	int rc;

	kind[0] = '\0';
	/* NLM_F_ECHO: the kernel answers a single qdisc's RTM_GETQDISC as a
	 * notification, sent back to the asker only when asked to echo. */
	if ((msg = net_msg(RTM_GETQDISC, NLM_F_ECHO, &t, sizeof(t))) == NULL)
		return -ENOMEM;
	rc = net_read(n, msg, parse_kind, kind);
	if (rc == -ENOENT || rc == -EINVAL) {
		kind[0] = '\0';
		return 0;
	}
	return rc;
}

/* qrun's filter on ifindex's ingress: u32, every protocol, its prio. */
static struct rtnl_cls *
redirect_cls(int ifindex)
{
	struct rtnl_cls *c = rtnl_cls_alloc();

	if (c == NULL)
		return NULL;
	rtnl_tc_set_ifindex(TC_CAST(c), ifindex);
	rtnl_tc_set_parent(TC_CAST(c), TC_HANDLE(0xffff, 0));
	rtnl_cls_set_prio(c, REDIRECT_PRIO);
	rtnl_cls_set_protocol(c, ETH_P_ALL);
	if (rtnl_tc_set_kind(TC_CAST(c), "u32") < 0) {
		rtnl_cls_put(c);
		return NULL;
	}
	return c;
}

/*
 * "tc filter add dev IF parent ffff: protocol all prio P u32 match u32
 * 0 0 action mirred egress redirect dev TO": every frame the link
 * receives leaves by link to instead.
 */
int
tc_redirect_add(struct net *n, int ifindex, int to)
{
	struct rtnl_cls *c = redirect_cls(ifindex);
	struct rtnl_act *a = rtnl_act_alloc();
	struct nl_msg *msg = NULL;
	int rc = -NLE_NOMEM;

	if (c == NULL || a == NULL)
		goto out;
	if ((rc = rtnl_tc_set_kind(TC_CAST(a), "mirred")) < 0 ||
	    (rc = rtnl_mirred_set_action(a, TCA_EGRESS_REDIR)) < 0 ||
	    (rc = rtnl_mirred_set_policy(a, TC_ACT_STOLEN)) < 0 ||
	    (rc = rtnl_mirred_set_ifindex(a, (uint32_t)to)) < 0 ||
	    (rc = rtnl_u32_set_cls_terminal(c)) < 0 ||
	    (rc = rtnl_u32_add_key_uint32(c, 0, 0, 0, 0)) < 0 ||
	    (rc = rtnl_u32_add_action(c, a)) < 0)
		goto out;
	rc = rtnl_cls_build_add_request(c, NLM_F_CREATE | NLM_F_EXCL, &msg);
out:
	rtnl_act_put(a);
	rtnl_cls_put(c);
	if (rc < 0)
		return net_nlerr(rc);
	return net_send(n, ifindex, msg, NULL, NULL);
}

int
tc_redirect_del(struct net *n, int ifindex)
{
	struct rtnl_cls *c = redirect_cls(ifindex);
	struct nl_msg *msg = NULL;
	int rc;

	if (c == NULL)
		return -ENOMEM;
	rc = rtnl_cls_build_delete_request(c, 0, &msg);
	rtnl_cls_put(c);
	if (rc < 0)
		return net_nlerr(rc);
	return net_send(n, ifindex, msg, NULL, NULL);
}
