/*
 * rule.c - the policy rule that keeps a developer's switch to itself:
 * "iif qbrN to 172.16.0.0/12 prohibit" (and fd00:172::/32 with IPv6),
 * before the main table, so that with forwarding on (net.nat, a router)
 * no guest on one switch reaches another developer's switch or lab tap
 * through the host; the host's own addresses (the local table comes
 * first) and everything else stay reachable. Built with libnl's message
 * API and sent through net.c; nothing here prints.
 */
#include <string.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>

#include "qrun.h"

/* The request: RTM_NEWRULE (NLM_F_EXCL) or RTM_DELRULE. */
static struct nl_msg *
rule_msg(bool add, const char *iif, const struct ipaddr *dst)
{
	struct fib_rule_hdr frh = {
		.family = (unsigned char)dst->family,
		.dst_len = (unsigned char)dst->prefix,
		.action = FR_ACT_PROHIBIT,
	};
	struct nl_msg *msg;
	size_t len = dst->family == AF_INET6 ? 16 : 4;

	msg = net_msg(add ? RTM_NEWRULE : RTM_DELRULE,
	    add ? NLM_F_CREATE | NLM_F_EXCL : 0, &frh, sizeof(frh));
	if (msg == NULL)
		return NULL;
	if (nla_put_string(msg, FRA_IIFNAME, iif) < 0 ||
	    nla_put(msg, FRA_DST, (int)len, dst->u.b) < 0 ||
	    nla_put_u32(msg, FRA_PRIORITY, RULE_PREF) < 0) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

int
rule_prohibit_add(struct net *n, int ifindex, const char *name,
    const struct ipaddr *dst)
{
	struct nl_msg *msg = rule_msg(true, name, dst);

	return msg ? net_send(n, ifindex, msg, NULL, NULL) : -ENOMEM;
}

/* The rule names its link by name and outlives it: when the link is
 * gone there is nothing to check it against, and deleting the rule
 * adds nothing to the host. */
int
rule_prohibit_del(struct net *n, int ifindex, const char *name,
    const struct ipaddr *dst)
{
	struct nl_msg *msg = rule_msg(false, name, dst);
	struct net_link l;

	if (msg == NULL)
		return -ENOMEM;
	if (ifindex > 0 && net_link_get_index(n, ifindex, &l) == 0 &&
	    strcmp(l.name, name) == 0)
		return net_send(n, ifindex, msg, NULL, NULL);
	return net_read(n, msg, NULL, NULL);
}
