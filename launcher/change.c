/*
 * change.c - every change qrun makes to the host, as a journal record:
 * its text form, how it is made (apply) and how it is undone. One table
 * holds the vocabulary, so a new kind of change is one row and two small
 * functions, and "journal, then change, then drop the record if the
 * change failed" is written once (change_apply).
 *
 * A record names each link by name and kernel identity, "tap1@7": undo
 * acts only while ifindex 7 still exists and is still called tap1, so a
 * link someone else made later under the same name is never touched.
 * The identity is known before the change is made: a tap lives only as
 * long as its creator's fd until TUNSETPERSIST, so its record is written
 * between the two; any other link is created with the ifindex its record
 * names (RTM_NEWLINK with ifi_index set).
 *
 * Undo is idempotent and checks before it acts; a record someone forged
 * or edited cannot make a capability-enabled qrun do more than its user
 * could: kinds whose undo adds something (an address, a route, a bridge
 * port, a bridge, a VXLAN port or its remotes) or switches the host's
 * forwarding are undone only by root, and a run's NAT chains only for
 * the user's own tap.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qrun.h"

#define IFINDEX_TRIES	16

/* Argument types of a record. */
enum arg {
	A_END, A_LINK, A_ADDR, A_GW, A_MTU, A_NUM, A_KEY, A_NAME, A_REST,
	A_FAMILY,	/* ipv4 or ipv6, into text */
	A_BIT,		/* 0 or 1 */
	A_OLINK,	/* a link or "-" */
	A_HOST,		/* an address without prefix, into addr */
	A_VNI,		/* 1..16777215 */
	A_QDISC,	/* netem or ingress, into text */
	A_PID,		/* a process id */
	A_START,	/* a process's start time, 64 bits */
};

/* flags */
#define K_NS	1	/* names links: undone only in its own namespace */
#define K_ROOT	2	/* its undo adds to the host: root only */

typedef int apply_fn(struct net *, const struct jrec *);

struct kind {
	const char *name;
	enum arg args[6];
	int flags;
	apply_fn *apply;	/* NULL: made by its own function */
	undo_fn *undo;		/* NULL: nothing to undo (info) */
	const char *says;	/* what it does, for messages: %1..%3 */
};

static apply_fn do_addr_add, do_link_up, do_enslave, do_mtu, do_addr_del,
    do_route_add, do_route_del, do_release, do_bridge_delete, do_info,
    do_nat_table, do_nat, do_forwarding, do_fdb_add, do_fdb_del,
    do_vxlan_delete, do_qdisc_add, do_redirect, do_rule_add;
static undo_fn undo_tap_create, undo_addr_add, undo_link_up, undo_enslave,
    undo_mtu, undo_bridge_create, undo_addr_del, undo_route_add,
    undo_route_del, undo_release, undo_bridge_delete, undo_dir, undo_hold,
    undo_nat_table, undo_nat, undo_forwarding, undo_vxlan_create,
    undo_fdb_add, undo_fdb_del, undo_vxlan_delete, undo_ifb_create,
    undo_qdisc_add, undo_redirect, undo_file, undo_helper, undo_rule_add;

/*
 * The vocabulary, indexed by enum jkind. says is what the change does to
 * its first link, for "tap1: cannot add 172.21.0.1/16: ..." and the
 * dry run: %2 is the second link, %a the address (route: destination),
 * %g the gateway, %m the new MTU, %t the text.
 */
static const struct kind kinds[] = {
	[J_TAP_CREATE] = { "tap-create", { A_LINK }, K_NS, NULL,
	    undo_tap_create, "create" },
	[J_ADDR_ADD] = { "addr-add", { A_LINK, A_ADDR }, K_NS, do_addr_add,
	    undo_addr_add, "add %a" },
	[J_LINK_UP] = { "link-up", { A_LINK }, K_NS, do_link_up,
	    undo_link_up, "set up" },
	[J_ENSLAVE] = { "enslave", { A_LINK, A_LINK }, K_NS, do_enslave,
	    undo_enslave, "join the bridge %2" },
	[J_MTU] = { "mtu", { A_LINK, A_MTU, A_MTU }, K_NS, do_mtu, undo_mtu,
	    "set the MTU to %m" },
	[J_BRIDGE_CREATE] = { "bridge-create", { A_LINK }, K_NS, NULL,
	    undo_bridge_create, "create" },
	/* qrun bridge create|delete: moving an uplink's addresses and
	 * routes to its bridge and back */
	[J_ADDR_DEL] = { "addr-del", { A_LINK, A_ADDR }, K_NS | K_ROOT,
	    do_addr_del, undo_addr_del, "remove %a" },
	[J_ROUTE_ADD] = { "route-add", { A_LINK, A_ADDR, A_GW, A_NUM, A_NUM },
	    K_NS, do_route_add, undo_route_add, "add route %a via %g" },
	[J_ROUTE_DEL] = { "route-del", { A_LINK, A_ADDR, A_GW, A_NUM, A_NUM },
	    K_NS | K_ROOT, do_route_del, undo_route_del,
	    "remove route %a via %g" },
	[J_RELEASE] = { "release", { A_LINK, A_LINK }, K_NS | K_ROOT,
	    do_release, undo_release, "leave the bridge %2" },
	[J_BRIDGE_DELETE] = { "bridge-delete", { A_LINK }, K_NS | K_ROOT,
	    do_bridge_delete, undo_bridge_delete, "delete" },
	/* a directory of the run's in the state dir (the shell's QMP) */
	[J_DIR] = { "dir", { A_NAME }, 0, NULL, undo_dir, "make directory %t" },
	/* a hold on a resource runs share (share.c) */
	[J_HOLD] = { "hold", { A_NAME }, K_NS, NULL, undo_hold, "hold %t" },
	[J_INFO] = { "info", { A_KEY, A_REST }, 0, do_info, NULL, "note %t" },
	/* net.nat (nat.c): the shared table, a run's chains per link and
	 * network, and forwarding switched on for them; a forwarding
	 * record someone forged could switch the host's routing off or
	 * on, so only root undoes it (a capability-enabled qrun never
	 * writes one) */
	[J_NAT_TABLE] = { "nat-table", { A_END }, K_NS, do_nat_table,
	    undo_nat_table, "create the nftables table inet qrun" },
	[J_NAT] = { "nat", { A_LINK, A_ADDR }, K_NS, do_nat, undo_nat,
	    "masquerade %a" },
	[J_FORWARDING] = { "forwarding", { A_FAMILY, A_BIT, A_BIT },
	    K_NS | K_ROOT, do_forwarding, undo_forwarding,
	    "switch %t forwarding on" },
	/* a lab bridge's VXLAN port (vxlan.c) and its remotes */
	[J_VXLAN_CREATE] = { "vxlan-create", { A_LINK, A_VNI, A_OLINK, A_GW,
	    A_MTU }, K_NS, NULL, undo_vxlan_create, "create" },
	[J_FDB_ADD] = { "fdb-add", { A_LINK, A_HOST }, K_NS, do_fdb_add,
	    undo_fdb_add, "send floods to %a" },
	[J_FDB_DEL] = { "fdb-del", { A_LINK, A_HOST }, K_NS | K_ROOT,
	    do_fdb_del, undo_fdb_del, "stop sending floods to %a" },
	[J_VXLAN_DELETE] = { "vxlan-delete", { A_LINK, A_VNI, A_OLINK, A_GW,
	    A_MTU }, K_NS | K_ROOT, do_vxlan_delete, undo_vxlan_delete,
	    "delete" },
	/* net.netem (impair.c): qdiscs on the tap, its ingress redirected
	 * to an ifb with a qdisc of its own */
	[J_IFB_CREATE] = { "ifb-create", { A_LINK }, K_NS, NULL,
	    undo_ifb_create, "create" },
	[J_QDISC_ADD] = { "qdisc-add", { A_LINK, A_QDISC }, K_NS,
	    do_qdisc_add, undo_qdisc_add, "add a qdisc %t" },
	[J_REDIRECT] = { "redirect", { A_LINK, A_LINK }, K_NS, do_redirect,
	    undo_redirect, "redirect its ingress to %2" },
	/* net.dhcp (dnsmasq.c): the files of a helper in the state dir,
	 * and the helper process (helper.c), by pid and start time; it
	 * runs in the journal's namespace and is gone with it */
	[J_FILE] = { "file", { A_NAME }, 0, NULL, undo_file, "create %t" },
	[J_HELPER] = { "helper", { A_NAME, A_PID, A_START }, K_NS, NULL,
	    undo_helper, "start %t" },
	/* a switch's policy rule (rule.c): its undo only removes */
	[J_RULE_ADD] = { "rule-add", { A_LINK, A_ADDR }, K_NS, do_rule_add,
	    undo_rule_add, "refuse to forward to %a" },
};

/* ------------------------------------------------------------ text */

/* The next word of a line split at single spaces; NULL when none. */
static char *
next_word(char **pp)
{
	char *w = *pp, *sp;

	if (*w == '\0' || *w == ' ')
		return NULL;
	if ((sp = strchr(w, ' ')) != NULL) {
		*sp = '\0';
		*pp = sp + 1;
	} else
		*pp = w + strlen(w);
	return w;
}

/* info keys: [a-z0-9_-]{1,32} */
static bool
key_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-_") == n;
}

/* Free text: no control characters (UTF-8 bytes are fine). */
static bool
text_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* A file name of the state dir: [A-Za-z0-9._@-], no leading dot ('@'
 * as in "tap1@INO.lock": a link of one namespace). */
bool
change_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < 64 && s[0] != '.' && strspn(s,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._@-") == n;
}

/* The name and ifindex of link l, for a record. */
void
jlink_set(struct jlink *jl, const struct net_link *l)
{
	snprintf(jl->name, sizeof(jl->name), "%s", l->name);
	jl->ifindex = l->ifindex;
}

/* "NAME@IFINDEX" into l. */
static int
link_parse(char *w, struct jlink *l)
{
	char *at = strrchr(w, '@');
	long idx;

	if (at == NULL)
		return -EINVAL;
	*at = '\0';
	if (ifname_check(w, NULL) < 0 ||
	    parse_long(at + 1, 1, 0x7fffffff, &idx) < 0)
		return -EINVAL;
	strcpy(l->name, w);
	l->ifindex = (int)idx;
	return 0;
}

struct counts {
	size_t link, mtu, num, bit;
};

/* A start time: decimal digits, at most 19 (no sign, no overflow). */
static int
parse_start(const char *w, unsigned long long *v)
{
	size_t n = strlen(w);

	if (n == 0 || n > 19 || strspn(w, "0123456789") != n ||
	    (w[0] == '0' && n > 1))
		return -EINVAL;
	*v = strtoull(w, NULL, 10);
	return 0;
}

/* One number word of type t (a VNI, an MTU, a metric or protocol). */
static int
word_num(enum arg t, const char *w, struct jrec *r, struct counts *c)
{
	long v;

	if (t == A_VNI && parse_long(w, 1, 0xffffff, &v) == 0)
		r->vni = (uint32_t)v;
	else if (t == A_MTU && parse_long(w, 68, 1 << 20, &v) == 0)
		r->mtu[c->mtu++] = (unsigned)v;
	else if (t == A_NUM && parse_long(w, 0, 0xffffffffL, &v) == 0) {
		if (c->num++ == 0)
			r->metric = (unsigned)v;
		else
			r->proto = (unsigned)v;
	} else
		return -EINVAL;
	return 0;
}

/* One word of type t into r. */
static int
word_parse(enum arg t, char *w, struct jrec *r, struct counts *c)
{
	switch (t) {
	case A_LINK:
		return link_parse(w, &r->l[c->link++]);
	case A_OLINK:
		if (strcmp(w, "-") == 0) {
			c->link++;
			return 0;
		}
		return link_parse(w, &r->l[c->link++]);
	case A_ADDR:
		return ipaddr_parse(w, IPA_PREFIX, &r->addr);
	case A_HOST:
		return ipaddr_parse(w, IPA_NOPREFIX, &r->addr);
	case A_VNI:
	case A_MTU:
	case A_NUM:
		return word_num(t, w, r, c);
	case A_QDISC:
		r->text = w;
		return strcmp(w, "netem") && strcmp(w, "ingress") ? -EINVAL : 0;
	case A_GW:
		return strcmp(w, "-") == 0 ? 0 :
		    ipaddr_parse(w, IPA_NOPREFIX, &r->gw);
	case A_KEY:
		r->key = w;
		return key_ok(w) ? 0 : -EINVAL;
	case A_NAME:
		r->text = w;
		return change_name_ok(w) ? 0 : -EINVAL;
	case A_FAMILY:
		r->family = strcmp(w, "ipv4") == 0 ? AF_INET :
		    strcmp(w, "ipv6") == 0 ? AF_INET6 : 0;
		r->text = r->family == AF_INET ? "IPv4" : "IPv6";
		return r->family ? 0 : -EINVAL;
	case A_BIT:
		if (strcmp(w, "0") && strcmp(w, "1"))
			return -EINVAL;
		r->val[c->bit++] = w[0] == '1';
		return 0;
	case A_PID:
		return parse_long(w, 2, 0x7fffffff, &r->pid);
	case A_START:
		return parse_start(w, &r->start);
	default:
		return -EINVAL;
	}
}

/*
 * Parse one record in place (the line is cut into words; key and text
 * point into it). -ENOENT for an unknown kind, -EINVAL when malformed.
 */
int
jrec_parse(char *line, struct jrec *r)
{
	struct counts c = { 0 };
	const struct kind *k = NULL;
	char *p = line, *w;

	memset(r, 0, sizeof(*r));
	if ((w = next_word(&p)) == NULL)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if (strcmp(kinds[i].name, w) == 0)
			k = &kinds[i];
	if (k == NULL)
		return -ENOENT;
	r->kind = (enum jkind)(k - kinds);
	for (size_t a = 0; a < ARRAY_SIZE(k->args) && k->args[a]; a++) {
		if (k->args[a] == A_REST) {
			r->text = p;
			p += strlen(p);
			if (!text_ok(r->text))
				return -EINVAL;
		} else if ((w = next_word(&p)) == NULL ||
		    word_parse(k->args[a], w, r, &c) < 0)
			return -EINVAL;
	}
	return *p == '\0' ? 0 : -EINVAL;
}

/* Append one argument's text. */
static void
word_format(enum arg t, const struct jrec *r, struct counts *c,
    char *buf, size_t len)
{
	char a[IPADDR_STRLEN];
	size_t off = strlen(buf);
	const struct jlink *l;

	switch (t) {
	case A_LINK:
	case A_OLINK:
		l = &r->l[c->link++];
		if (t == A_OLINK && l->ifindex == 0)
			snprintf(buf + off, len - off, " -");
		else
			snprintf(buf + off, len - off, " %s@%d", l->name,
			    l->ifindex);
		break;
	case A_ADDR:
	case A_HOST:
		snprintf(buf + off, len - off, " %s", ipaddr_cidr(&r->addr, a));
		break;
	case A_VNI:
		snprintf(buf + off, len - off, " %u", r->vni);
		break;
	case A_GW:
		snprintf(buf + off, len - off, " %s", ipaddr_str(&r->gw, a));
		break;
	case A_MTU:
		snprintf(buf + off, len - off, " %u", r->mtu[c->mtu++]);
		break;
	case A_NUM:
		snprintf(buf + off, len - off, " %u", c->num++ == 0 ?
		    r->metric : r->proto);
		break;
	case A_KEY:
		snprintf(buf + off, len - off, " %s", r->key ? r->key : "");
		break;
	case A_FAMILY:
		snprintf(buf + off, len - off, " %s", r->family == AF_INET6 ?
		    "ipv6" : r->family == AF_INET ? "ipv4" : "?");
		break;
	case A_BIT:
		snprintf(buf + off, len - off, " %u", r->val[c->bit++]);
		break;
	case A_PID:
		snprintf(buf + off, len - off, " %ld", r->pid);
		break;
	case A_START:
		snprintf(buf + off, len - off, " %llu", r->start);
		break;
	default:	/* A_NAME, A_REST */
		snprintf(buf + off, len - off, " %s", r->text ? r->text : "");
	}
}

/* The record as a journal line (no newline). -EINVAL when it would not
 * parse back exactly, -ENAMETOOLONG when it does not fit. */
int
jrec_format(const struct jrec *r, char *buf, size_t len)
{
	const struct kind *k = &kinds[r->kind];
	struct counts c = { 0 };
	struct jrec back;
	char *copy;
	int rc;

	snprintf(buf, len, "%s", k->name);
	for (size_t a = 0; a < ARRAY_SIZE(k->args) && k->args[a]; a++)
		word_format(k->args[a], r, &c, buf, len);
	if (strlen(buf) + 1 >= len)
		return -ENAMETOOLONG;
	copy = xstrdup(buf);
	rc = jrec_parse(copy, &back);
	free(copy);
	return rc < 0 ? -EINVAL : 0;
}

/* What the record does to its first link, in words ("add 172.21.0.1/16"). */
void
jrec_describe(const struct jrec *r, char *buf, size_t len)
{
	char a[IPADDR_STRLEN];
	const char *s = kinds[r->kind].says;
	size_t off = 0;

	buf[0] = '\0';
	for (; *s && off + 1 < len; s++) {
		const char *sub = NULL;
		char num[16];

		if (*s != '%' || s[1] == '\0') {
			buf[off++] = *s;
			buf[off] = '\0';
			continue;
		}
		switch (*++s) {
		case '1': sub = r->l[0].name; break;
		case '2': sub = r->l[1].name; break;
		case 'a': sub = ipaddr_cidr(&r->addr, a); break;
		case 'g': sub = r->gw.family ? ipaddr_str(&r->gw, a) :
		    "(none)"; break;
		case 'm': snprintf(num, sizeof(num), "%u", r->mtu[1]);
			sub = num; break;
		default: sub = r->text ? r->text : ""; break;
		}
		off += (size_t)snprintf(buf + off, len - off, "%s", sub);
		if (off >= len)
			off = len - 1;
	}
}

bool
jrec_ns_bound(const struct jrec *r)
{
	return (kinds[r->kind].flags & K_NS) != 0;
}

bool
jrec_root_only(const struct jrec *r)
{
	return (kinds[r->kind].flags & K_ROOT) != 0;
}

bool
jrec_undoes(const struct jrec *r)
{
	return kinds[r->kind].undo != NULL;
}

/* ------------------------------------------------------------ apply */

static int
do_addr_add(struct net *n, const struct jrec *r)
{
	return net_addr_add(n, r->l[0].ifindex, &r->addr);
}

static int
do_addr_del(struct net *n, const struct jrec *r)
{
	return net_addr_del(n, r->l[0].ifindex, &r->addr);
}

static int
do_link_up(struct net *n, const struct jrec *r)
{
	return net_link_set_up(n, r->l[0].ifindex, true);
}

static int
do_enslave(struct net *n, const struct jrec *r)
{
	return net_link_set_master(n, r->l[0].ifindex, r->l[1].ifindex);
}

static int
do_release(struct net *n, const struct jrec *r)
{
	return net_link_set_master(n, r->l[0].ifindex, 0);
}

static int
do_mtu(struct net *n, const struct jrec *r)
{
	return net_link_set_mtu(n, r->l[0].ifindex, r->mtu[1]);
}

/* The route of a route-add/route-del record. */
static void
rec_route(const struct jrec *r, struct net_route *rt)
{
	memset(rt, 0, sizeof(*rt));
	rt->ifindex = r->l[0].ifindex;
	rt->dst = r->addr;
	rt->gw = r->gw;
	rt->metric = r->metric;
	rt->proto = (unsigned char)r->proto;
}

static int
do_route_add(struct net *n, const struct jrec *r)
{
	struct net_route rt;

	rec_route(r, &rt);
	return net_route_add(n, &rt);
}

static int
do_route_del(struct net *n, const struct jrec *r)
{
	struct net_route rt;

	rec_route(r, &rt);
	return net_route_del(n, &rt);
}

static int
do_bridge_delete(struct net *n, const struct jrec *r)
{
	return net_link_delete(n, r->l[0].ifindex);
}

static int
do_fdb_add(struct net *n, const struct jrec *r)
{
	return net_fdb_append(n, r->l[0].ifindex, &r->addr);
}

static int
do_fdb_del(struct net *n, const struct jrec *r)
{
	return net_fdb_del(n, r->l[0].ifindex, &r->addr);
}

static int
do_rule_add(struct net *n, const struct jrec *r)
{
	return rule_prohibit_add(n, r->l[0].ifindex, r->l[0].name, &r->addr);
}

static int
do_vxlan_delete(struct net *n, const struct jrec *r)
{
	return net_link_delete(n, r->l[0].ifindex);
}

/* Only the ingress qdisc: a netem one is made by change_netem, which
 * has its parameters. */
static int
do_qdisc_add(struct net *n, const struct jrec *r)
{
	if (strcmp(r->text, "ingress") != 0)
		return -EINVAL;
	return tc_ingress_add(n, r->l[0].ifindex);
}

static int
do_redirect(struct net *n, const struct jrec *r)
{
	return tc_redirect_add(n, r->l[0].ifindex, r->l[1].ifindex);
}

static int
do_info(struct net *n, const struct jrec *r)
{
	(void)n;
	(void)r;
	return 0;
}

static int
do_nat_table(struct net *n, const struct jrec *r)
{
	(void)n;
	(void)r;
	return nat_table_make();
}

static int
do_nat(struct net *n, const struct jrec *r)
{
	(void)n;
	return nat_link_add(r->l[0].name, r->l[0].ifindex, &r->addr);
}

static int
do_forwarding(struct net *n, const struct jrec *r)
{
	(void)n;
	return nat_forwarding_set(r->family, (int)r->val[1]);
}

/*
 * Journal r, then make the change; a change that failed leaves no
 * record (an -EEXIST stays -EEXIST: the caller decides whether it
 * matters). 0 or -errno.
 */
int
change_apply(struct journal *j, struct net *n, const struct jrec *r)
{
	const struct kind *k = &kinds[r->kind];
	int rc;

	if (k->apply == NULL || (k->args[0] == A_LINK &&
	    r->l[0].ifindex <= 0))
		return -EINVAL;
	if ((rc = journal_write(j, r)) < 0)
		return rc;
	if ((rc = k->apply(n, r)) < 0)
		journal_cancel(j);
	return rc;
}

/* change_apply, where ok_err (e.g. -EEXIST: already so) counts as
 * success; a failure is explained in why (change_why). */
int
change_do(struct journal *j, struct net *n, const struct jrec *r, int ok_err,
    char *why, size_t whylen)
{
	int rc = change_apply(j, n, r);

	if (rc == 0 || (rc == ok_err && !journal_write_failed(j)))
		return 0;
	change_why(j, r, rc, why, whylen);
	return rc;
}

/*
 * Why change_apply(j, ..., r) failed with rc, in one sentence:
 * "tap1: cannot add 172.21.0.1/16: File exists", or "tap1: cannot write
 * the journal: No space left on device" when the record never made it.
 */
void
change_why(const struct journal *j, const struct jrec *r, int rc, char *why,
    size_t whylen)
{
	char what[160];

	if (journal_write_failed(j)) {
		snprintf(why, whylen, "%s: cannot write the journal: %s",
		    r->l[0].name[0] ? r->l[0].name : "qrun", strerror(-rc));
		return;
	}
	jrec_describe(r, what, sizeof(what));
	snprintf(why, whylen, "%s: cannot %s: %s", r->l[0].name[0] ?
	    r->l[0].name : "qrun", what, strerror(-rc));
}

/*
 * Create a persistent tap for owner (and group, unless (gid_t)-1),
 * journaled with its ifindex: made non-persistent first, so a qrun that
 * dies before the record is durable takes the tap with it. Returns the
 * creator's queue (close-on-exec; IFF_VNET_HDR, IFF_MULTI_QUEUE as flags
 * say) for QEMU, the new link in *l; or -errno.
 */
int
change_tap_create(struct journal *j, struct net *n, const char *name,
    uid_t owner, gid_t group, unsigned flags, struct net_link *l)
{
	struct jrec r = { .kind = J_TAP_CREATE };
	int fd, rc;

	if ((fd = net_tap_new(n, name, flags, l)) < 0)
		return fd;
	snprintf(r.l[0].name, sizeof(r.l[0].name), "%s", name);
	r.l[0].ifindex = l->ifindex;
	if ((rc = journal_write(j, &r)) == 0 &&
	    (rc = net_tap_persist(fd, owner, group, l)) < 0)
		journal_cancel(j);
	if (rc < 0) {
		close(fd);	/* not persistent: the tap goes with it */
		return rc;
	}
	return fd;
}

/* An ifindex for a new link: random, above where hosts count. */
static int
ifindex_pick(void)
{
	uint32_t v = 0;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v))
		v = (uint32_t)getpid() * 2654435761u ^ (uint32_t)mono_ms();
	return 100000 + (int)(v % 900000);
}

/* Makes link name with ifindex (arg: what else it needs). */
typedef int make_fn(struct net *, const char *name, int ifindex,
    const void *arg);

/*
 * Create the link of record r with the ifindex the record names (picked
 * at random, retried when only the index was taken), journaled first.
 * The new link in *l. 0, -EEXIST when the name is taken, -errno.
 */
static int
create_indexed(struct journal *j, struct net *n, struct jrec *r,
    make_fn *make, const void *arg, struct net_link *l)
{
	int rc = -EEXIST;

	for (int i = 0; i < IFINDEX_TRIES && rc == -EEXIST; i++) {
		r->l[0].ifindex = ifindex_pick();
		if ((rc = journal_write(j, r)) < 0)
			return rc;
		if ((rc = make(n, r->l[0].name, r->l[0].ifindex, arg)) < 0)
			journal_cancel(j);
		/* EEXIST: the name, or only the index, was taken */
		if (rc == -EEXIST && net_link_get(n, r->l[0].name, l) == 0)
			return rc;
	}
	return rc < 0 ? rc : net_link_get_index(n, r->l[0].ifindex, l);
}

static int
make_plain(struct net *n, const char *name, int ifindex, const void *arg)
{
	if (*(const enum jkind *)arg == J_IFB_CREATE)
		return net_ifb_create(n, name, ifindex);
	return net_bridge_create(n, name, ifindex);
}

/*
 * Create link name of kind J_BRIDGE_CREATE (STP off, forward delay 0) or
 * J_IFB_CREATE with the ifindex its record names, journaled first. The
 * new link in *l. 0, -EEXIST when the name is taken, -errno.
 */
int
change_link_create(struct journal *j, struct net *n, enum jkind kind,
    const char *name, struct net_link *l)
{
	struct jrec r = { .kind = kind };

	if (kind != J_BRIDGE_CREATE && kind != J_IFB_CREATE)
		return -EINVAL;
	snprintf(r.l[0].name, sizeof(r.l[0].name), "%s", name);
	return create_indexed(j, n, &r, make_plain, &r.kind, l);
}

static int
make_vxlan(struct net *n, const char *name, int ifindex, const void *arg)
{
	struct vxlan_link v = *(const struct vxlan_link *)arg;

	snprintf(v.name, sizeof(v.name), "%s", name);
	v.ifindex = ifindex;
	return net_vxlan_create(n, &v);
}

/* The record of VXLAN link v (ifindex aside). */
static void
vxlan_rec(struct jrec *r, enum jkind kind, const struct vxlan_link *v,
    const char *dev)
{
	*r = (struct jrec){ .kind = kind, .vni = v->vni, .gw = v->local,
	    .mtu = { v->mtu } };
	snprintf(r->l[0].name, sizeof(r->l[0].name), "%s", v->name);
	r->l[0].ifindex = v->ifindex;
	if (v->dev && dev) {
		snprintf(r->l[1].name, sizeof(r->l[1].name), "%s", dev);
		r->l[1].ifindex = v->dev;
	}
}

/*
 * Create VXLAN link v (its underlay v->dev is called dev) with the
 * ifindex its record names, journaled first; the new link in *l.
 */
int
change_vxlan_create(struct journal *j, struct net *n,
    const struct vxlan_link *v, const char *dev, struct net_link *l)
{
	struct jrec r;

	vxlan_rec(&r, J_VXLAN_CREATE, v, dev);
	return create_indexed(j, n, &r, make_vxlan, v, l);
}

/* The record that deletes VXLAN link l (its VNI, underlay dev, local
 * address and MTU, to make it again if that must be undone). */
void
change_vxlan_delete_rec(struct jrec *r, const struct vxlan_link *v,
    const char *dev)
{
	vxlan_rec(r, J_VXLAN_DELETE, v, dev);
}

/* netem ne as link l's root qdisc, journaled first ("qdisc-add L
 * netem"); the record is dropped when the kernel refuses it. */
int
change_netem(struct journal *j, struct net *n, const struct jlink *l,
    const struct netem *ne)
{
	struct jrec r = { .kind = J_QDISC_ADD, .l = { *l }, .text = "netem" };
	int rc;

	if ((rc = journal_write(j, &r)) < 0)
		return rc;
	if ((rc = tc_netem(n, l->ifindex, ne, true)) < 0)
		journal_cancel(j);
	return rc;
}

/* Make directory name in the state dir for this run (journaled). */
int
change_dir(struct journal *j, const char *name)
{
	struct jrec r = { .kind = J_DIR, .text = name };
	int rc;

	if (!change_name_ok(name))
		return -EINVAL;
	if ((rc = journal_write(j, &r)) < 0)
		return rc;
	if (mkdirat(journal_dfd(j), name, 0700) < 0) {
		rc = -errno;
		journal_cancel(j);
	}
	return rc;
}

/* Journal "file NAME"; with create, make the file and return its fd. */
int
change_file(struct journal *j, const char *name, bool create)
{
	struct jrec r = { .kind = J_FILE, .text = name };
	int rc, fd;

	if (!change_name_ok(name))
		return -EINVAL;
	if ((rc = journal_write(j, &r)) < 0 || !create)
		return rc;
	fd = openat(journal_dfd(j), name, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		journal_cancel(j);
		return rc;
	}
	return fd;
}

/* Journal "helper PROG PID START" (helper.c then lets it exec). */
int
change_helper(struct journal *j, const char *prog, pid_t pid,
    unsigned long long start)
{
	struct jrec r = { .kind = J_HELPER, .text = prog, .pid = pid,
	    .start = start };

	return change_name_ok(prog) ? journal_write(j, &r) : -EINVAL;
}

/* Journal "hold NAME" (share.c then takes the hold). */
int
change_hold(struct journal *j, const char *name)
{
	struct jrec r = { .kind = J_HOLD, .text = name };

	return change_name_ok(name) ? journal_write(j, &r) : -EINVAL;
}

/* ------------------------------------------------------------- undo */

/* -ENODEV (gone meanwhile) is success for an undo. */
static int
gone_ok(int r)
{
	return r == -ENODEV ? 0 : r;
}

/* The link of a record while it is still that very object (same
 * ifindex, same name); -ENODEV otherwise. */
static int
rec_link(struct net *n, const struct jlink *jl, struct net_link *l)
{
	int r = net_link_get_index(n, jl->ifindex, l);

	if (r == 0 && strcmp(l->name, jl->name) != 0)
		r = -ENODEV;
	return r;
}

/* Did this journal create the link of record i (so deleting it undoes
 * the record's change too)? */
static bool
created_here(const struct undo_ctx *u, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if ((u->all[k].kind == J_TAP_CREATE ||
		    u->all[k].kind == J_BRIDGE_CREATE ||
		    u->all[k].kind == J_VXLAN_CREATE ||
		    u->all[k].kind == J_IFB_CREATE) &&
		    u->all[k].l[0].ifindex == u->all[i].l[0].ifindex)
			return true;
	return false;
}

/*
 * The link of record i, for an undo that changes it: 1 when there is
 * something to undo; 0 when there is not (a link this journal made goes
 * with all its changes), or the lookup's failure (gone: 0).
 */
static int
undo_link(struct undo_ctx *u, const struct jrec *r, size_t i,
    struct net_link *l)
{
	int rc;

	if (created_here(u, i))
		return 0;
	if ((rc = rec_link(u->net, &r->l[0], l)) < 0)
		return gone_ok(rc);
	return 1;
}

static int
undo_tap_create(struct undo_ctx *u, const struct jrec *r, size_t i)
{
	struct net_link l;
	int rc = rec_link(u->net, &r->l[0], &l);

	(void)i;
	if (rc < 0 || !l.is_tap)
		return gone_ok(rc);
	return gone_ok(net_link_delete(u->net, l.ifindex));
}

static int
undo_addr_add(struct undo_ctx *u, const struct jrec *r, size_t i)
{
	struct net_link l;
	int rc;

	if ((rc = undo_link(u, r, i, &l)) <= 0)
		return rc;
	rc = net_addr_del(u->net, l.ifindex, &r->addr);
	return rc == -EADDRNOTAVAIL ? 0 : gone_ok(rc);
}

static int
undo_link_up(struct undo_ctx *u, const struct jrec *r, size_t i)
{
	struct net_link l;
	int rc;

	if ((rc = undo_link(u, r, i, &l)) <= 0 || !l.up)
		return rc < 0 ? rc : 0;
	return gone_ok(net_link_set_up(u->net, l.ifindex, false));
}

static int
undo_enslave(struct undo_ctx *u, const struct jrec *r, size_t i)
{
	struct net_link port, br;
	int rc;

	if ((rc = undo_link(u, r, i, &port)) <= 0)
		return rc;
	if ((rc = rec_link(u->net, &r->l[1], &br)) < 0)
		return gone_ok(rc);
	if (port.master != br.ifindex)
		return 0;
	return gone_ok(net_link_set_master(u->net, port.ifindex, 0));
}

static int
undo_mtu(struct undo_ctx *u, const struct jrec *r, size_t i)
{
	struct net_link l;
	int rc;

	if ((rc = undo_link(u, r, i, &l)) <= 0 || l.mtu != r->mtu[1])
		return rc < 0 ? rc : 0;
	return gone_ok(net_link_set_mtu(u->net, l.ifindex, r->mtu[0]));
}

static int
undo_bridge_create(struct undo_ctx *u, const struct jrec *r, size_t i)
{
	struct net_link l;
	int rc = rec_link(u->net, &r->l[0], &l);

	(void)i;
	if (rc < 0 || strcmp(l.kind, "bridge") != 0)
		return gone_ok(rc);
	return gone_ok(net_link_delete(u->net, l.ifindex));
}

static int
undo_addr_del(struct undo_ctx *u, const struct jrec *r, size_t i)
{
	struct net_link l;
	int rc;

	(void)i;
	if ((rc = rec_link(u->net, &r->l[0], &l)) < 0)
		return gone_ok(rc);
	rc = net_addr_add(u->net, l.ifindex, &r->addr);
	return rc == -EEXIST ? 0 : gone_ok(rc);
}

static int
undo_route_add(struct undo_ctx *u, const struct jrec *r, size_t i)
{
	struct net_link l;
	int rc;

	(void)i;
	if ((rc = rec_link(u->net, &r->l[0], &l)) < 0)
		return gone_ok(rc);
	rc = do_route_del(u->net, r);
	return rc == -ESRCH ? 0 : gone_ok(rc);
}

static int
undo_route_del(struct undo_ctx *u, const struct jrec *r, size_t i)
{
	struct net_link l;
	int rc;

	(void)i;
	if ((rc = rec_link(u->net, &r->l[0], &l)) < 0)
		return gone_ok(rc);
	rc = do_route_add(u->net, r);
	return rc == -EEXIST ? 0 : gone_ok(rc);
}

static int
undo_release(struct undo_ctx *u, const struct jrec *r, size_t i)
{
	struct net_link port, br;
	int rc;

	(void)i;
	if ((rc = rec_link(u->net, &r->l[0], &port)) < 0 ||
	    (rc = rec_link(u->net, &r->l[1], &br)) < 0)
		return gone_ok(rc);
	if (port.master != 0 || strcmp(br.kind, "bridge") != 0)
		return 0;
	return gone_ok(net_link_set_master(u->net, port.ifindex,
	    br.ifindex));
}

/* Make the deleted bridge again, with its old ifindex, if the name and
 * the index are free. */
static int
undo_bridge_delete(struct undo_ctx *u, const struct jrec *r, size_t i)
{
	struct net_link l;
	int rc = net_link_get(u->net, r->l[0].name, &l);

	(void)i;
	if (rc != -ENODEV)
		return rc;
	rc = net_bridge_create(u->net, r->l[0].name, r->l[0].ifindex);
	if (rc == -EEXIST)
		return 0;
	if (rc < 0 || (rc = net_link_get_index(u->net, r->l[0].ifindex,
	    &l)) < 0)
		return rc;
	return net_link_set_up(u->net, l.ifindex, true);
}

static int
undo_vxlan_create(struct undo_ctx *u, const struct jrec *r, size_t i)
{
	struct net_link l;
	int rc = rec_link(u->net, &r->l[0], &l);

	(void)i;
	if (rc < 0 || strcmp(l.kind, "vxlan") != 0)
		return gone_ok(rc);
	return gone_ok(net_link_delete(u->net, l.ifindex));
}

static int
undo_fdb_add(struct undo_ctx *u, const struct jrec *r, size_t i)
{
	struct net_link l;
	int rc;

	if ((rc = undo_link(u, r, i, &l)) <= 0)
		return rc;
	rc = net_fdb_del(u->net, l.ifindex, &r->addr);
	return rc == -ENOENT ? 0 : gone_ok(rc);
}

/* Also when the link is gone: a rule names its link and outlives it. */
static int
undo_rule_add(struct undo_ctx *u, const struct jrec *r, size_t i)
{
	int rc;

	(void)i;
	rc = rule_prohibit_del(u->net, r->l[0].ifindex, r->l[0].name,
	    &r->addr);
	return rc == -ENOENT ? 0 : rc;
}

static int
undo_fdb_del(struct undo_ctx *u, const struct jrec *r, size_t i)
{
	struct net_link l;
	int rc;

	(void)i;
	if ((rc = rec_link(u->net, &r->l[0], &l)) < 0)
		return gone_ok(rc);
	rc = net_fdb_append(u->net, l.ifindex, &r->addr);
	return rc == -EEXIST ? 0 : gone_ok(rc);
}

/* Make the deleted VXLAN link again, with its old ifindex, VNI, local
 * address and MTU (and its underlay while that is still there), if the
 * name and the index are free; its remotes and its bridge come back
 * with the undo of the records before this one. */
static int
undo_vxlan_delete(struct undo_ctx *u, const struct jrec *r, size_t i)
{
	struct vxlan_link v = { .ifindex = r->l[0].ifindex, .vni = r->vni,
	    .local = r->gw, .mtu = r->mtu[0] };
	struct net_link l;
	int rc = net_link_get(u->net, r->l[0].name, &l);

	(void)i;
	if (rc != -ENODEV)
		return rc;
	snprintf(v.name, sizeof(v.name), "%s", r->l[0].name);
	if (r->l[1].ifindex && rec_link(u->net, &r->l[1], &l) == 0)
		v.dev = l.ifindex;
	rc = net_vxlan_create(u->net, &v);
	if (rc == -EEXIST)
		return 0;
	if (rc < 0 || (rc = net_link_get_index(u->net, v.ifindex, &l)) < 0)
		return rc;
	return net_link_set_up(u->net, l.ifindex, true);
}

static int
undo_ifb_create(struct undo_ctx *u, const struct jrec *r, size_t i)
{
	struct net_link l;
	int rc = rec_link(u->net, &r->l[0], &l);

	(void)i;
	if (rc < 0 || strcmp(l.kind, "ifb") != 0)
		return gone_ok(rc);
	return gone_ok(net_link_delete(u->net, l.ifindex));
}

/* Delete the qdisc while it is still of the recorded kind. */
static int
undo_qdisc_add(struct undo_ctx *u, const struct jrec *r, size_t i)
{
	enum tc_where w = strcmp(r->text, "ingress") == 0 ? TC_INGRESS :
	    TC_ROOT;
	struct net_link l;
	char kind[16];
	int rc;

	if ((rc = undo_link(u, r, i, &l)) <= 0)
		return rc;
	if ((rc = tc_qdisc_kind(u->net, l.ifindex, w, kind)) < 0)
		return gone_ok(rc);
	if (strcmp(kind, r->text) != 0)
		return 0;
	rc = tc_qdisc_del(u->net, l.ifindex, w);
	return rc == -ENOENT || rc == -EINVAL ? 0 : gone_ok(rc);
}

static int
undo_redirect(struct undo_ctx *u, const struct jrec *r, size_t i)
{
	struct net_link l;
	int rc;

	if ((rc = undo_link(u, r, i, &l)) <= 0)
		return rc;
	rc = tc_redirect_del(u->net, l.ifindex);
	return rc == -ENOENT || rc == -EINVAL ? 0 : gone_ok(rc);
}

/* Remove a run's directory: its entries (sockets, files), then itself. */
static int
undo_dir(struct undo_ctx *u, const struct jrec *r, size_t i)
{
	struct dirent *de;
	DIR *d;
	int fd;

	(void)i;
	fd = openat(u->dfd, r->text, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	if (unlinkat(u->dfd, r->text, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* Remove a file of the run's from the state dir (a symlink someone put
 * there is removed, never followed). */
static int
undo_file(struct undo_ctx *u, const struct jrec *r, size_t i)
{
	(void)i;
	if (unlinkat(u->dfd, r->text, 0) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* Stop the helper process while it is still the one started (pid and
 * start time); -EPERM (not ours to signal) counts as refused. */
static int
undo_helper(struct undo_ctx *u, const struct jrec *r, size_t i)
{
	(void)u;
	(void)i;
	return helper_kill((pid_t)r->pid, r->start);
}

/* Stop holding a shared resource: unmake it if nobody holds it now. */
static int
undo_hold(struct undo_ctx *u, const struct jrec *r, size_t i)
{
	int rc = share_unmake(u->dfd, r->text, u->net, u->root);

	(void)i;
	return rc < 0 ? rc : 0;
}

/* The shared table goes when no run of anyone has chains in it. */
static int
undo_nat_table(struct undo_ctx *u, const struct jrec *r, size_t i)
{
	(void)u;
	(void)r;
	(void)i;
	return nat_table_unmake();
}

/*
 * Remove a run's chains. Root does it whether or not the link is still
 * there; anyone else only for a link that is still this very tap and
 * theirs, so a forged record cannot take another user's NAT away.
 */
static int
undo_nat(struct undo_ctx *u, const struct jrec *r, size_t i)
{
	struct net_link l;
	int rc;

	(void)i;
	if (!u->root && ((rc = rec_link(u->net, &r->l[0], &l)) < 0 ||
	    !l.is_tap || l.owner != (long)getuid())) {
		u->refused++;
		return 0;
	}
	return nat_link_del(r->l[0].name, r->l[0].ifindex, r->addr.family);
}

/*
 * Switch forwarding back, unless someone changed it since, or a run of
 * another state dir (counted apart: another user's, root's) still
 * masquerades: its guests would lose the outside world. Then it stays.
 */
static int
undo_forwarding(struct undo_ctx *u, const struct jrec *r, size_t i)
{
	int on, rc;

	(void)u;
	(void)i;
	if ((rc = nat_forwarding_get(r->family, &on)) < 0)
		return rc;
	if (on != (int)r->val[1] || nat_table_busy())
		return 0;
	return nat_forwarding_set(r->family, (int)r->val[0]);
}

/*
 * Undo record i of u->all. What only root may add back is refused
 * (counted) for anyone else, and so is what the kernel or the access
 * list will not let a non-root qrun change (a record the user forged);
 * records of links are skipped when their namespace is gone
 * (u->ns_gone): the links went with it.
 */
int
change_undo(struct undo_ctx *u, size_t i)
{
	const struct jrec *r = &u->all[i];
	const struct kind *k = &kinds[r->kind];
	int rc;

	if (k->undo == NULL || ((k->flags & K_NS) && u->ns_gone))
		return 0;
	if ((k->flags & K_ROOT) && !u->root) {
		u->refused++;
		return 0;
	}
	if ((k->flags & K_NS) && u->net == NULL)
		return -ENOTCONN;
	if ((rc = k->undo(u, r, i)) == -EPERM && !u->root) {
		u->refused++;	/* not the user's to change: never was */
		rc = 0;
	}
	return rc;
}
