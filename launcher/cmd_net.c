/*
 * cmd_net.c - the admin and housekeeping commands: "qrun tap create|
 * delete|list" (the replacement for the lab's root-only tap_create) and
 * "qrun cleanup". Admin changes are journaled like a run's, so a failure
 * half-way is undone, but on success they are kept.
 */
#include <err.h>
#include <grp.h>
#include <pwd.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qrun.h"
#include "cmd.h"

int
cmd_cleanup(struct opts *o)
{
	struct priv pv;
	struct net *n = NULL;
	char *state;
	int r, count = 0;

	(void)o;
	priv_init(&pv);
	state = state_dir(pv.for_other);
	priv_net(&pv, true);
	if ((r = access_net_open(&pv, &n)) < 0) {
		warnx("netlink: %s", strerror(-r));
		r = EXIT_QRUN;
		goto out;
	}
	r = journal_cleanup(state, n, &count);
	if (r < 0 && r != -ENOENT) {
		warnx("%s: %s", state, strerror(-r));
		r = EXIT_QRUN;
		goto out;
	}
	printf("qrun: undid %d leftover run%s\n", count, count == 1 ? "" : "s");
	r = EXIT_OK;
out:
	if (n)
		net_close(n);
	free(state);
	return r;
}

static int
owner_uid(const char *s, uid_t *uid)
{
	struct passwd *pw = getpwnam(s);
	long v;

	if (pw) {
		*uid = pw->pw_uid;
		return 0;
	}
	if (parse_long(s, 0, 0x7fffffff, &v) == 0) {
		*uid = (uid_t)v;
		return 0;
	}
	return -ENOENT;
}

static int
group_gid(const char *s, gid_t *gid)
{
	struct group *gr = getgrnam(s);
	long v;

	if (gr) {
		*gid = gr->gr_gid;
		return 0;
	}
	if (parse_long(s, 0, 0x7fffffff, &v) == 0) {
		*gid = (gid_t)v;
		return 0;
	}
	return -ENOENT;
}

/*
 * Make TAP exist, owned by uid (and usable by the members of gid when it
 * is not (gid_t)-1: TUNSETGROUP), with addr (if any), up. Journaled.
 */
static int
tap_create(struct net *n, struct journal *j, const char *tap, uid_t uid,
    gid_t gid, const char *addr)
{
	struct in_addr a;
	struct net_link l;
	struct net_addr have[16];
	size_t nh = 0;
	int prefix = 0, r;
	bool found = false;

	if (addr && parse_ipv4(addr, &a, &prefix, true) < 0) {
		warnx("--addr %s: must be an IPv4 address with prefix, like "
		    "172.21.0.1/16", addr);
		return -EINVAL;
	}
	r = net_link_get(n, tap, &l);
	if (r == 0 && (!l.is_tap || l.owner != (long)uid ||
	    (gid != (gid_t)-1 && l.group != (long)gid))) {
		if (!l.is_tap)
			warnx("%s: exists and is not a tap", tap);
		else if (l.owner != (long)uid)
			warnx("%s: exists, owned by uid %ld", tap, l.owner);
		else
			warnx("%s: exists, group %ld", tap, l.group);
		return -EEXIST;
	}
	if (r == -ENODEV) {
		if ((r = journal_log(j, "tap-create %s", tap)) < 0) {
			warnx("cannot write the journal: %s", strerror(-r));
			return r;
		}
		if ((r = net_tap_create(tap, uid, gid)) < 0)
			journal_cancel(j);
		if (r < 0 || (r = net_link_get(n, tap, &l)) < 0) {
			warnx("%s: cannot create: %s", tap, strerror(-r));
			return r;
		}
	} else if (r < 0) {
		warnx("%s: %s", tap, strerror(-r));
		return r;
	}
	if (addr) {
		if ((r = net_addr_list(n, l.ifindex, have, 16, &nh)) < 0)
			return r;
		for (size_t i = 0; i < nh; i++)
			found |= have[i].addr.s_addr == a.s_addr &&
			    have[i].prefix == prefix;
		if (!found) {
			if ((r = journal_log(j, "addr-add %s %s", tap,
			    addr)) < 0) {
				warnx("cannot write the journal: %s",
				    strerror(-r));
				return r;
			}
			if ((r = net_addr_add(n, l.ifindex, a, prefix)) < 0) {
				journal_cancel(j);
				warnx("%s: cannot add %s: %s", tap, addr,
				    strerror(-r));
				return r;
			}
		}
	}
	if (!l.up && (r = net_link_set_up(n, l.ifindex, true)) < 0) {
		warnx("%s: cannot set up: %s", tap, strerror(-r));
		return r;
	}
	return 0;
}

static int
tap_delete(struct net *n, const char *state, const char *tap)
{
	struct net_link l;
	pid_t holder = 0;
	int r, fd = -1;

	if ((r = net_link_get(n, tap, &l)) < 0) {
		warnx("%s: %s", tap, r == -ENODEV ? "no such tap" :
		    strerror(-r));
		return r;
	}
	if (!l.is_tap) {
		warnx("%s: not a tap; qrun deletes only taps", tap);
		return -EINVAL;
	}
	r = lock_tap(state, tap, &fd, &holder);
	if (r == -EBUSY) {
		warnx("%s: in use by qrun pid %ld", tap, (long)holder);
		return r;
	}
	if ((r = net_link_delete(n, l.ifindex)) < 0)
		warnx("%s: cannot delete: %s", tap, strerror(-r));
	if (fd >= 0)
		unlock_tap(fd);
	return r;
}

/*
 * The common checks of "qrun tap|bridge create|delete NAME" (what is
 * "tap" or "bridge"): a known verb, a valid name, root. Prints; 0 or
 * EXIT_QRUN.
 */
int
admin_check(const char *what, const char *verb, const char *name)
{
	const char *why;

	if (strcmp(verb, "create") != 0 && strcmp(verb, "delete") != 0) {
		warnx("%s %s: unknown; use create, delete or list", what, verb);
		return EXIT_QRUN;
	}
	if (name == NULL || ifname_check(name, &why) < 0) {
		warnx("%s %s: %s", what, verb, name ? why : strcmp(what,
		    "tap") == 0 ? "which tap?" : "which bridge?");
		return EXIT_QRUN;
	}
	if (geteuid() != 0) {
		warnx("%s %s: needs root (sudo qrun %s %s %s ...)", what, verb,
		    what, verb, name);
		return EXIT_QRUN;
	}
	return 0;
}

int
admin_open(struct admin *a, bool journal)
{
	struct priv pv;
	int r;

	memset(a, 0, sizeof(*a));
	priv_init(&pv);		/* under sudo: no QRUN_STATE_DIR */
	a->state = state_dir(pv.for_other);
	if ((r = net_open(&a->net)) < 0) {
		warnx("netlink: %s", strerror(-r));
		return admin_done(a, false, NULL);
	}
	if (journal && (r = journal_open(a->state, &a->j)) < 0) {
		warnx("%s: cannot open the journal: %s", a->state,
		    strerror(-r));
		return admin_done(a, false, NULL);
	}
	return 0;
}

int
admin_done(struct admin *a, bool ok, const char *name)
{
	int r;

	if (a->j && ok)
		journal_close(a->j);	/* keep the changes */
	else if (a->j && (r = journal_undo(a->j, a->net)) < 0)
		warnx("%s: undo incomplete (%s); run qrun cleanup", name,
		    strerror(-r));
	a->j = NULL;
	net_close(a->net);
	a->net = NULL;
	free(a->state);
	a->state = NULL;
	return ok ? EXIT_OK : EXIT_QRUN;
}

int
cmd_tap(struct opts *o)
{
	const char *verb = o->args.n > o->argi ? o->args.v[o->argi] : "list";
	const char *tap = o->args.n > o->argi + 1 ? o->args.v[o->argi + 1] :
	    NULL;
	bool create = strcmp(verb, "create") == 0;
	struct admin a;
	uid_t uid = 0;
	gid_t gid = (gid_t)-1;
	int r;

	if (strcmp(verb, "list") == 0)
		return cmd_tap_list(o);
	if (admin_check("tap", verb, tap) != 0)
		return EXIT_QRUN;
	if (create && (o->owner == NULL || owner_uid(o->owner, &uid) < 0)) {
		warnx("tap create: %s", o->owner ? "--owner: no such user" :
		    "--owner USER is required");
		return EXIT_QRUN;
	}
	if (o->group && group_gid(o->group, &gid) < 0) {
		warnx("tap create: --group %s: no such group", o->group);
		return EXIT_QRUN;
	}
	if (admin_open(&a, create) != 0)
		return EXIT_QRUN;
	if (create)
		r = tap_create(a.net, a.j, tap, uid, gid, o->addr);
	else
		r = tap_delete(a.net, a.state, tap);
	return admin_done(&a, r == 0, tap);
}

void
runs_load(const char *state, struct runs *rs)
{
	struct strv paths = { 0 };

	rs->kv = NULL;
	rs->n = 0;
	if (journal_runs(state, &paths) < 0 || paths.n == 0)
		goto out;
	rs->kv = xcalloc(paths.n, sizeof(*rs->kv));
	for (size_t i = 0; i < paths.n; i++) {
		const char *pid = strrchr(paths.v[i], '-');
		struct strv *kv = &rs->kv[rs->n++];

		strv_push(kv, "pid");
		strv_pushf(kv, "%ld", pid ? strtol(pid + 1, NULL, 10) : 0L);
		journal_read_info(paths.v[i], kv);
	}
out:
	strv_free(&paths);
}

void
runs_free(struct runs *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		strv_free(&rs->kv[i]);
	free(rs->kv);
}

const char *
run_get(const struct strv *kv, const char *key)
{
	for (size_t k = 0; k + 1 < kv->n; k += 2)
		if (strcmp(kv->v[k], key) == 0)
			return kv->v[k + 1];
	return NULL;
}

const struct strv *
run_find(const struct runs *rs, const char *tap, const char *bridge)
{
	for (size_t i = 0; i < rs->n; i++) {
		const char *t = run_get(&rs->kv[i], "tap");
		const char *b = run_get(&rs->kv[i], "bridge");

		if ((tap == NULL || (t && strcmp(t, tap) == 0)) &&
		    (bridge == NULL || (b && strcmp(b, bridge) == 0)))
			return &rs->kv[i];
	}
	return NULL;
}

int
cmd_tap_list(struct opts *o)
{
	struct net_link l[256];
	struct runs runs;
	struct priv pv;
	struct net *n = NULL;
	size_t cnt = 0;
	char *state;
	int r;

	(void)o;
	priv_init(&pv);
	state = state_dir(pv.for_other);
	runs_load(state, &runs);
	if ((r = net_open(&n)) < 0 ||
	    ((r = net_link_list(n, "tun", l, ARRAY_SIZE(l), &cnt)) < 0 &&
	    r != -ENOSPC)) {
		warnx("tap list: %s", strerror(-r));
		r = EXIT_QRUN;
		goto out;
	}
	printf("%-15s %-8s %-8s %-5s %-20s %s\n", "TAP", "OWNER", "GROUP",
	    "STATE", "ADDRESS", "QRUN");
	for (size_t i = 0; i < cnt; i++) {
		struct net_addr a[4];
		size_t na = 0;
		char b[INET_ADDRSTRLEN], addr[32] = "-";
		const struct strv *h;

		if (!l[i].is_tap)
			continue;
		if (net_addr_list(n, l[i].ifindex, a, 4, &na) >= 0 && na > 0)
			snprintf(addr, sizeof(addr), "%s/%d",
			    ip_str(a[0].addr, b), a[0].prefix);
		h = run_find(&runs, l[i].name, NULL);
		printf("%-15s %-8ld %-8ld %-5s %-20s %s\n", l[i].name,
		    l[i].owner, l[i].group, l[i].up ? "up" : "down", addr,
		    h ? run_get(h, "pid") : "-");
	}
	r = EXIT_OK;
out:
	if (n)
		net_close(n);
	runs_free(&runs);
	free(state);
	return r;
}

static void
status_json(const struct runs *rs)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < rs->n; i++) {
		json_object *o = json_object_new_object();
		const struct strv *kv = &rs->kv[i];

		for (size_t k = 0; k + 1 < kv->n; k += 2) {
			const char *key = kv->v[k], *val = kv->v[k + 1];

			json_object_object_add(o, key,
			    strcmp(key, "pid") == 0 ||
			    strcmp(key, "qemu-pid") == 0 ?
			    json_object_new_int(atoi(val)) :
			    json_object_new_string(val));
		}
		json_object_array_add(arr, o);
	}
	printf("%s\n", json_object_to_json_string_ext(arr,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(arr);
}

int
cmd_status(struct opts *o)
{
	static const char *cols[] = { "pid", "mode", "tap", "host", "guest",
	    "mac", "qemu-pid", "image" };
	struct runs rs;
	struct priv pv;
	char *state;

	priv_init(&pv);
	state = state_dir(pv.for_other);
	runs_load(state, &rs);
	if (o->json)
		status_json(&rs);
	else {
		printf("%-8s %-6s %-10s %-18s %-15s %-17s %-8s %s\n", "PID",
		    "MODE", "TAP", "HOST", "GUEST", "MAC", "QEMU", "IMAGE");
		for (size_t i = 0; i < rs.n; i++) {
			const char *v[ARRAY_SIZE(cols)];

			for (size_t k = 0; k < ARRAY_SIZE(cols); k++)
				if ((v[k] = run_get(&rs.kv[i],
				    cols[k])) == NULL)
					v[k] = "-";
			printf("%-8s %-6s %-10s %-18s %-15s %-17s %-8s %s\n",
			    v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]);
		}
	}
	runs_free(&rs);
	free(state);
	return EXIT_OK;
}
