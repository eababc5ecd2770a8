/*
 * nat.c - outside access for the guests of local links (net.nat): one
 * nftables table "qrun" (family inet), made and removed through
 * libnftables, never by running nft, and the forwarding sysctls, written
 * directly. The table holds, per link and family, two base chains of a
 * run's own: "nat4-tap1-7" masquerades the guest's network out of every
 * interface but the link, "fwd4-tap1-7" accepts what the link sends from
 * that network and what comes back to it (established, related). Base
 * chains of their own need no jump from a shared chain, so a run adds and
 * removes its rules without touching anyone else's. Other tables are
 * never touched; a drop in one of them (a firewall's forward chain) still
 * wins over these accepts.
 *
 * libnftables pulls in five more shared libraries; it is loaded (dlopen)
 * only by a run that uses NAT or undoes it, so no other run pays for it.
 * Commands go in as JSON built with json-c: no interface name is ever
 * parsed as nft syntax. Nothing here prints; errors are -errno.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>
#include <nftables/libnftables.h>	/* the types; no link: dlopen */

#include "qrun.h"

#define NFT_LIB		"libnftables.so.1"
#define TABLE		"qrun"

/* The part of libnftables qrun uses. */
static struct {
	void *h;
	__typeof__(nft_ctx_new) *ctx_new;
	__typeof__(nft_ctx_free) *ctx_free;
	__typeof__(nft_ctx_output_set_flags) *set_flags;
	__typeof__(nft_ctx_buffer_output) *buffer_output;
	__typeof__(nft_ctx_buffer_error) *buffer_error;
	__typeof__(nft_ctx_get_output_buffer) *output;
	__typeof__(nft_run_cmd_from_buffer) *run;
} lib;

/* Load libnftables once; -ENOENT when it is not installed. */
int
nat_open(void)
{
	void *h;

	if (lib.h != NULL)
		return 0;
	if ((h = dlopen(NFT_LIB, RTLD_NOW | RTLD_LOCAL)) == NULL)
		return -ENOENT;
	*(void **)&lib.ctx_new = dlsym(h, "nft_ctx_new");
	*(void **)&lib.ctx_free = dlsym(h, "nft_ctx_free");
	*(void **)&lib.set_flags = dlsym(h, "nft_ctx_output_set_flags");
	*(void **)&lib.buffer_output = dlsym(h, "nft_ctx_buffer_output");
	*(void **)&lib.buffer_error = dlsym(h, "nft_ctx_buffer_error");
	*(void **)&lib.output = dlsym(h, "nft_ctx_get_output_buffer");
	*(void **)&lib.run = dlsym(h, "nft_run_cmd_from_buffer");
	if (!lib.ctx_new || !lib.ctx_free || !lib.set_flags ||
	    !lib.buffer_output || !lib.buffer_error || !lib.output ||
	    !lib.run) {
		dlclose(h);
		return -ENOSYS;
	}
	lib.h = h;
	return 0;
}

/*
 * Run one batch of commands ({"nftables": cmds}, which is consumed);
 * with out, the JSON output is parsed into *out. 0 or -errno (the
 * kernel's: -EEXIST, -ENOENT, -EPERM...).
 */
static int
nft_do(json_object *cmds, json_object **out)
{
	json_object *top = json_object_new_object();
	struct nft_ctx *ctx = NULL;
	int r;

	json_object_object_add(top, "nftables", cmds);
	if (out)
		*out = NULL;
	if ((r = nat_open()) < 0)
		goto done;
	if ((ctx = lib.ctx_new(NFT_CTX_DEFAULT)) == NULL) {
		r = -ENOMEM;
		goto done;
	}
	lib.set_flags(ctx, NFT_CTX_OUTPUT_JSON);	/* JSON in and out */
	lib.buffer_output(ctx);
	lib.buffer_error(ctx);
	errno = 0;
	if (lib.run(ctx, json_object_to_json_string_ext(top,
	    JSON_C_TO_STRING_PLAIN)) != 0)
		r = errno && errno != EAGAIN ? -errno : -EIO;
	else if (out && (*out = json_tokener_parse(lib.output(ctx))) == NULL)
		r = -EIO;
done:
	if (ctx)
		lib.ctx_free(ctx);
	json_object_put(top);
	return r;
}

/* {key: inner}, inner consumed. */
static json_object *
wrap(const char *key, json_object *inner)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, key, inner);
	return o;
}

/* o[key] = the string s. */
static void
put_str(json_object *o, const char *key, const char *s)
{
	json_object_object_add(o, key, json_object_new_string(s));
}

/* {verb: {what: {"family": "inet", "table": "qrun", ...}}} onto cmds;
 * returns the innermost object for more members. */
static json_object *
cmd_add(json_object *cmds, const char *verb, const char *what,
    const char *chain)
{
	json_object *o = json_object_new_object();

	put_str(o, "family", "inet");
	if (strcmp(what, "table") == 0)
		put_str(o, "name", TABLE);
	else {
		put_str(o, "table", TABLE);
		put_str(o, strcmp(what, "chain") == 0 ? "name" : "chain",
		    chain);
	}
	json_object_array_add(cmds, wrap(verb, wrap(what, o)));
	return o;
}

/* The run's chains of a link and family: "nat4-tap1-7", "fwd4-tap1-7". */
static void
chain_names(const char *ifname, int ifindex, int family, char nat[64],
    char fwd[64])
{
	int v = family == AF_INET6 ? 6 : 4;

	snprintf(nat, 64, "nat%d-%s-%d", v, ifname, ifindex);
	snprintf(fwd, 64, "fwd%d-%s-%d", v, ifname, ifindex);
}

/* {"match": {"op": op, "left": left, "right": right}} */
static json_object *
match(const char *op, json_object *left, json_object *right)
{
	json_object *m = json_object_new_object();

	put_str(m, "op", op);
	json_object_object_add(m, "left", left);
	json_object_object_add(m, "right", right);
	return wrap("match", m);
}

/* {"meta": {"key": "iifname"}} */
static json_object *
meta(const char *key)
{
	json_object *m = json_object_new_object();

	put_str(m, "key", key);
	return wrap("meta", m);
}

/* The guest's network as a match: "ip saddr 172.21.0.0/16". */
static json_object *
net_match(const struct ipaddr *net, const char *field)
{
	json_object *p = json_object_new_object();
	json_object *pre = json_object_new_object();
	struct ipaddr n = ipaddr_net(net);
	char a[IPADDR_STRLEN];

	put_str(p, "protocol", net->family == AF_INET6 ? "ip6" : "ip");
	put_str(p, "field", field);
	put_str(pre, "addr", ipaddr_str(&n, a));
	json_object_object_add(pre, "len", json_object_new_int(net->prefix));
	return match("==", wrap("payload", p), wrap("prefix", pre));
}

/* "ct state established,related": replies and what they bring. */
static json_object *
ct_back(void)
{
	json_object *k = json_object_new_object();
	json_object *set = json_object_new_array();

	put_str(k, "key", "state");
	json_object_array_add(set, json_object_new_string("established"));
	json_object_array_add(set, json_object_new_string("related"));
	return match("in", wrap("ct", k), set);
}

/* {verb: null}: "accept", "masquerade". */
static json_object *
verdict(const char *verb)
{
	return wrap(verb, NULL);
}

/* One base chain: type, hook, priority, policy accept. */
static void
base_chain(json_object *cmds, const char *name, const char *type,
    const char *hook, int prio)
{
	json_object *o = cmd_add(cmds, "add", "chain", name);

	put_str(o, "type", type);
	put_str(o, "hook", hook);
	json_object_object_add(o, "prio", json_object_new_int(prio));
	put_str(o, "policy", "accept");
}

/* A rule of the given expressions (consumed) at the end of chain. */
static void
rule(json_object *cmds, const char *chain, json_object *expr)
{
	json_object_object_add(cmd_add(cmds, "add", "rule", chain), "expr",
	    expr);
}

int
nat_table_make(void)
{
	json_object *cmds = json_object_new_array();

	cmd_add(cmds, "create", "table", NULL);
	return nft_do(cmds, NULL);
}

/* The objects of table qrun, as listed (NULL when there is none). */
static int
table_list(json_object **list)
{
	json_object *cmds = json_object_new_array(), *out = NULL;
	int r;

	cmd_add(cmds, "list", "table", NULL);
	*list = NULL;
	if ((r = nft_do(cmds, &out)) == -ENOENT)
		return 0;
	if (r == 0 && !json_object_object_get_ex(out, "nftables", list))
		r = -EIO;
	if (r == 0)
		*list = json_object_get(*list);
	json_object_put(out);
	return r;
}

/* How many chains table qrun has; bit i of *found set when names[i] is
 * one of them; -ENOENT when there is no table. */
static int
table_chains(const char *const *names, int nnames, unsigned *found)
{
	json_object *list, *o, *c, *n;
	int r, count = 0;

	*found = 0;
	if ((r = table_list(&list)) < 0)
		return r;
	if (list == NULL)
		return -ENOENT;
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		o = json_object_array_get_idx(list, i);
		if (!json_object_object_get_ex(o, "chain", &c))
			continue;
		count++;
		for (int k = 0; k < nnames; k++)
			if (json_object_object_get_ex(c, "name", &n) &&
			    strcmp(json_object_get_string(n), names[k]) == 0)
				*found |= 1U << k;
	}
	json_object_put(list);
	return count;
}

/* Does any run (of any state dir) still masquerade: chains in qrun? */
bool
nat_table_busy(void)
{
	unsigned none;

	return table_chains(NULL, 0, &none) > 0;
}

/*
 * Remove table qrun when it holds no chain (no run of any user still
 * masquerades through it). 0 also when it is gone or still used.
 */
int
nat_table_unmake(void)
{
	json_object *cmds;
	unsigned none;
	int r = table_chains(NULL, 0, &none);

	if (r != 0)
		return r == -ENOENT || r > 0 ? 0 : r;
	cmds = json_object_new_array();
	cmd_add(cmds, "delete", "table", NULL);
	r = nft_do(cmds, NULL);
	return r == -ENOENT ? 0 : r;
}

/*
 * The run's chains for the guest network net (its family's) behind
 * ifname (ifindex): masquerade out of every other interface, forward
 * accepts both ways. One transaction: all or nothing.
 */
int
nat_link_add(const char *ifname, int ifindex, const struct ipaddr *net)
{
	json_object *cmds = json_object_new_array(), *e;
	char nat[64], fwd[64];

	chain_names(ifname, ifindex, net->family, nat, fwd);
	/* the table again ("add" is idempotent): a run of another state
	 * dir may have found it empty and removed it meanwhile */
	cmd_add(cmds, "add", "table", NULL);
	base_chain(cmds, nat, "nat", "postrouting", 100);
	e = json_object_new_array();
	json_object_array_add(e, net_match(net, "saddr"));
	json_object_array_add(e, match("!=", meta("oifname"),
	    json_object_new_string(ifname)));
	json_object_array_add(e, verdict("masquerade"));
	rule(cmds, nat, e);
	base_chain(cmds, fwd, "filter", "forward", 0);
	e = json_object_new_array();
	json_object_array_add(e, match("==", meta("iifname"),
	    json_object_new_string(ifname)));
	json_object_array_add(e, net_match(net, "saddr"));
	json_object_array_add(e, verdict("accept"));
	rule(cmds, fwd, e);
	e = json_object_new_array();
	json_object_array_add(e, match("==", meta("oifname"),
	    json_object_new_string(ifname)));
	json_object_array_add(e, net_match(net, "daddr"));
	json_object_array_add(e, ct_back());
	json_object_array_add(e, verdict("accept"));
	rule(cmds, fwd, e);
	return nft_do(cmds, NULL);
}

/* Remove the run's chains of ifname (ifindex) and family, those that
 * are there, in one transaction; 0 when they are gone already. */
int
nat_link_del(const char *ifname, int ifindex, int family)
{
	char nat[64], fwd[64];
	const char *names[2] = { nat, fwd };
	json_object *cmds;
	unsigned found;
	int r;

	chain_names(ifname, ifindex, family, nat, fwd);
	if ((r = table_chains(names, 2, &found)) == -ENOENT)
		return 0;
	if (r < 0 || found == 0)
		return r < 0 ? r : 0;
	cmds = json_object_new_array();
	for (int i = 0; i < 2; i++)
		if (found & (1U << i)) {
			cmd_add(cmds, "flush", "chain", names[i]);
			cmd_add(cmds, "delete", "chain", names[i]);
		}
	r = nft_do(cmds, NULL);
	return r == -ENOENT ? 0 : r;
}

/* ------------------------------------------------------- forwarding */

static const char *
fwd_path(int family)
{
	return family == AF_INET6 ? "/proc/sys/net/ipv6/conf/all/forwarding" :
	    "/proc/sys/net/ipv4/ip_forward";
}

/* The forwarding switch of family in this namespace: 0 or 1 in *on. */
int
nat_forwarding_get(int family, int *on)
{
	char buf[16] = "";
	ssize_t n;
	int fd = open(fwd_path(family), O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	*on = buf[0] != '0';
	return 0;
}

int
nat_forwarding_set(int family, int on)
{
	int fd = open(fwd_path(family), O_WRONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, on ? "1\n" : "0\n", 2) != 2)
		r = -errno;
	close(fd);
	return r;
}
