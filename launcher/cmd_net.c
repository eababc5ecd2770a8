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

/* What a replay did, in one line ("undid 1 leftover run; ..."). */
static void
replay_say(const struct replay_report *rep)
{
	printf("qrun: undid %d leftover run%s", rep->undone,
	    rep->undone == 1 ? "" : "s");
	if (rep->dropped)
		printf("; dropped %d of network namespaces or boots that are "
		    "gone", rep->dropped);
	if (rep->foreign)
		printf("; left %d of other network namespaces (run qrun "
		    "cleanup inside them)", rep->foreign);
	if (rep->refused)
		printf("; skipped %d record%s this user may not undo",
		    rep->refused, rep->refused == 1 ? "" : "s");
	if (rep->failed)
		printf("; %d could not be undone completely", rep->failed);
	printf("\n");
}

int
cmd_cleanup(struct opts *o)
{
	struct replay_report rep;
	struct priv pv;
	struct net *n = NULL;
	char *state;
	int r, dfd;

	(void)o;
	priv_init(&pv);
	state = priv_state_dir(&pv);
	priv_net(&pv, true);
	if ((r = access_net_open(&pv, &n)) < 0) {
		warnx("netlink: %s", strerror(-r));
		r = EXIT_QRUN;
		goto out;
	}
	r = journal_cleanup(state, n, true, &rep);
	if (r < 0 && r != -ENOENT) {
		warnx("%s: %s", state, strerror(-r));
		r = EXIT_QRUN;
		goto out;
	}
	replay_say(&rep);
	r = rep.failed ? EXIT_QRUN : EXIT_OK;
	if (state_open(state, false, &dfd) == 0) {
		(void)slot_sweep(dfd);	/* a killed last holder's index */
		close(dfd);
	}
out:
	net_close(n);
	priv_net(&pv, false);
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

/* An existing tap may be "created" again only as it is. */
static int
tap_same(const struct net_link *l, uid_t uid, gid_t gid)
{
	if (!l->is_tap)
		warnx("%s: exists and is not a tap", l->name);
	else if (l->owner != (long)uid)
		warnx("%s: exists, owned by uid %ld", l->name, l->owner);
	else if (gid != (gid_t)-1 && l->group != (long)gid)
		warnx("%s: exists, group %ld", l->name, l->group);
	else
		return 0;
	return -EEXIST;
}

/* One journaled change for tap create; prints why it failed. */
static int
tap_step(struct admin *a, const struct net_link *l, enum jkind kind,
    const struct ipaddr *addr)
{
	struct jrec rec = { .kind = kind };
	char why[256];
	int r;

	snprintf(rec.l[0].name, sizeof(rec.l[0].name), "%s", l->name);
	rec.l[0].ifindex = l->ifindex;
	if (addr)
		rec.addr = *addr;
	if ((r = change_apply(a->j, a->net, &rec)) < 0) {
		change_why(a->j, &rec, r, why, sizeof(why));
		warnx("%s", why);
	}
	return r;
}

/* Does the tap carry addr already? */
static bool
has_addr(struct net *n, const struct net_link *l, const struct ipaddr *addr)
{
	struct net_addr have[16];
	size_t nh = 0;

	if (net_addr_list(n, l->ifindex, addr->family, have,
	    ARRAY_SIZE(have), &nh) < 0 && nh == 0)
		return false;
	for (size_t i = 0; i < nh; i++)
		if (ipaddr_same(&have[i].a, addr))
			return true;
	return false;
}

/*
 * Make TAP exist, owned by uid (and usable by the members of gid when it
 * is not (gid_t)-1: TUNSETGROUP), with the naddr addresses addr (IPv4,
 * IPv6), up. Journaled.
 */
static int
tap_create(struct admin *a, const char *tap, uid_t uid, gid_t gid,
    const struct ipaddr *addr, size_t naddr)
{
	struct net_link l = { .ifindex = 0 };
	char why[512];
	int r, fd;

	r = net_link_get(a->net, tap, &l);
	if (r == 0 && (r = tap_same(&l, uid, gid)) < 0)
		return r;
	if (r < 0 && r != -ENODEV) {
		warnx("%s: %s", tap, strerror(-r));
		return r;
	}
	for (size_t i = 0; i < naddr; i++)
		if ((l.ifindex == 0 || !has_addr(a->net, &l, &addr[i])) &&
		    (r = hostaddr_check(a->net, &a->pv, tap, &addr[i],
		    l.ifindex, why, sizeof(why))) < 0) {
			warnx("%s", why);
			return r;
		}
	if (l.ifindex == 0) {
		fd = change_tap_create(a->j, a->net, tap, uid, gid, true, &l);
		if (fd < 0) {
			warnx("%s: cannot create: %s", tap, strerror(-fd));
			return fd;
		}
		close(fd);	/* persistent: it stays */
		/* Asked now, the kernel settles the new tap's carrier state
		 * at once, so the command ends with the link as it stays. */
		(void)net_link_get(a->net, tap, &l);
	}
	for (size_t i = 0; i < naddr; i++)
		if (!has_addr(a->net, &l, &addr[i]) &&
		    (r = tap_step(a, &l, J_ADDR_ADD, &addr[i])) < 0)
			return r;
	return l.up ? 0 : tap_step(a, &l, J_LINK_UP, NULL);
}

/* --addr A/P[,A/P]: at most one address of each family. */
static int
addrs_parse(const char *s, struct ipaddr addr[2], size_t *n)
{
	char *copy = xstrdup(s), *save = NULL;
	int r = 0;

	*n = 0;
	for (char *t = strtok_r(copy, ",", &save); t && r == 0;
	    t = strtok_r(NULL, ",", &save)) {
		if (*n == 2 || ipaddr_parse(t, IPA_PREFIX, &addr[*n]) < 0 ||
		    (*n == 1 && addr[0].family == addr[1].family))
			r = -EINVAL;
		else
			(*n)++;
	}
	free(copy);
	return r == 0 && *n > 0 ? 0 : -EINVAL;
}

static int
tap_delete(struct admin *a, const char *tap)
{
	struct net_link l;
	int r;

	if ((r = net_link_get(a->net, tap, &l)) < 0) {
		warnx("%s: %s", tap, r == -ENODEV ? "no such tap" :
		    strerror(-r));
		return r;
	}
	if (!l.is_tap) {
		warnx("%s: not a tap; qrun deletes only taps", tap);
		return -EINVAL;
	}
	if ((r = net_link_delete(a->net, l.ifindex)) < 0)
		warnx("%s: cannot delete: %s", tap, strerror(-r));
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

/*
 * An admin command's hold on name: root's state dir, netlink, the lock
 * on name (the last holder's journal replayed if it died) and a journal.
 */
int
admin_open(struct admin *a, const char *name)
{
	struct replay_report rep;
	pid_t holder, prev;
	int r;

	memset(a, 0, sizeof(*a));
	a->lock_fd = -1;
	priv_init(&a->pv);	/* under sudo: no QRUN_STATE_DIR */
	a->state = priv_state_dir(&a->pv);
	if ((r = net_open(&a->net)) < 0) {
		warnx("netlink: %s", strerror(-r));
		return admin_done(a, false, NULL);
	}
	r = lock_take(a->state, name, &a->lock_fd, &holder, &prev);
	if (r == -EBUSY)
		warnx("%s: in use by qrun pid %ld", name, (long)holder);
	else if (r < 0)
		warnx("%s: cannot lock: %s", name, strerror(-r));
	if (r < 0)
		return admin_done(a, false, NULL);
	(void)journal_replay(a->state, prev, a->net, &rep);
	if ((r = lock_claim(a->lock_fd)) < 0 ||
	    (r = journal_open(a->state, &a->j)) < 0) {
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
	lock_release(a->lock_fd);
	a->lock_fd = -1;
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
	struct ipaddr addr[2];
	size_t naddr = 0;
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
	if (create && o->addr && addrs_parse(o->addr, addr, &naddr) < 0) {
		warnx("--addr %s: must be an address with prefix, like "
		    "172.21.0.1/16, or one of each family, like "
		    "172.21.0.1/16,fd00:172:21::1/64", o->addr);
		return EXIT_QRUN;
	}
	if (admin_open(&a, tap) != 0)
		return EXIT_QRUN;
	if (create)
		r = tap_create(&a, tap, uid, gid, addr, naddr);
	else
		r = tap_delete(&a, tap);
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

/* A uid or gid as its name ("-" for none, the number when nameless). */
static const char *
id_name(long id, bool group, char *buf, size_t len)
{
	struct passwd *pw;
	struct group *gr;

	if (id < 0)
		return "-";
	if (!group && (pw = getpwuid((uid_t)id)) != NULL)
		snprintf(buf, len, "%s", pw->pw_name);
	else if (group && (gr = getgrgid((gid_t)id)) != NULL)
		snprintf(buf, len, "%s", gr->gr_name);
	else
		snprintf(buf, len, "%ld", id);
	return buf;
}

/* Order runs on switches by switch, then slot. */
static int
slot_cmp(const void *a, const void *b)
{
	const struct strv *x = *(const struct strv *const *)a;
	const struct strv *y = *(const struct strv *const *)b;
	int c = strcmp(run_get(x, "switch"), run_get(y, "switch"));

	return c ? c : atoi(run_get(x, "slot")) - atoi(run_get(y, "slot"));
}

/* "status" and "tap list": the developer switches in use, each slot
 * with its tap, guest and the qrun holding it (nothing when none). */
static void
list_switches(const struct runs *rs)
{
	const struct strv **on = xmalloc((rs->n + 1) * sizeof(*on));
	const char *g;
	size_t n = 0;

	for (size_t i = 0; i < rs->n; i++)
		if (run_get(&rs->kv[i], "switch") && run_get(&rs->kv[i],
		    "slot"))
			on[n++] = &rs->kv[i];
	qsort(on, n, sizeof(*on), slot_cmp);
	if (n > 0)
		printf("\n%-8s %-5s %-15s %-15s %s\n", "SWITCH", "SLOT",
		    "TAP", "GUEST", "QRUN");
	for (size_t i = 0; i < n; i++) {
		g = run_get(on[i], "guest");
		printf("%-8s %-5s %-15s %-15s %s\n", run_get(on[i], "switch"),
		    run_get(on[i], "slot"), run_get(on[i], "tap"),
		    g ? g : "-", run_get(on[i], "pid"));
	}
	free(on);
}

/* One line of "tap list". */
static void
list_tap(struct net *n, const struct net_link *l, const struct runs *runs)
{
	char b[IPADDR_STRLEN] = "-", u[64], g[64];
	const struct strv *h = run_find(runs, l->name, NULL);
	struct net_addr a[4];
	size_t na = 0;

	if (!l->is_tap)
		return;
	if (net_addr_list(n, l->ifindex, AF_INET, a, 4, &na) >= 0 && na > 0)
		ipaddr_cidr(&a[0].a, b);
	printf("%-15s %-10s %-10s %-5s %-20s %s\n", l->name,
	    id_name(l->owner, false, u, sizeof(u)),
	    id_name(l->group, true, g, sizeof(g)), l->up ? "up" : "down", b,
	    h ? run_get(h, "pid") : "-");
}

int
list_links(const struct lister *ls, struct net_link *l, size_t max)
{
	struct runs runs;
	struct priv pv;
	struct net *n = NULL;
	size_t cnt = 0;
	char *state;
	int r;

	priv_init(&pv);
	state = priv_state_dir(&pv);
	runs_load(state, &runs);
	if ((r = net_open(&n)) < 0 ||
	    ((r = net_link_list(n, ls->kind, l, max, &cnt)) < 0 &&
	    r != -ENOSPC)) {
		warnx("%s: %s", ls->cmd, strerror(-r));
		r = EXIT_QRUN;
		goto out;
	}
	fputs(ls->header, stdout);
	for (size_t i = 0; i < cnt; i++)
		ls->one(n, &l[i], &runs);
	if (ls->after)
		ls->after(&runs);
	r = EXIT_OK;
out:
	net_close(n);
	runs_free(&runs);
	free(state);
	return r;
}

int
cmd_tap_list(struct opts *o)
{
	static const struct lister ls = { "tap list", "tun",
	    "TAP             OWNER      GROUP      STATE ADDRESS           "
	    "   QRUN\n", list_tap, list_switches };
	struct net_link l[256];

	(void)o;
	return list_links(&ls, l, ARRAY_SIZE(l));
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
			    strcmp(key, "qemu-pid") == 0 ||
			    strcmp(key, "gdb-port") == 0 ?
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
	state = priv_state_dir(&pv);
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
		list_switches(&rs);
	}
	runs_free(&rs);
	free(state);
	return EXIT_OK;
}
