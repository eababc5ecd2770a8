/*
 * access.c - the access list: which developers may use which taps and
 * bridges while qrun holds privileges they lack (qrun(1) Privileges, qrun.conf(5)).
 *
 *     allow = (
 *       { user  = "jack";   taps = [ "tap1" ];      bridges = [ "br0" ];
 *         addrs = [ "172.23.0.0/16" ]; },
 *       { group = "kvmdev"; taps = [ "tap1[0-9]" ]; },
 *       { user  = "jill";   switches = [ "qbr2" ]; }
 *     );
 *
 * switches grants developer switches (net.mode "switch") by their bridge
 * qbrN: the bridge, its slots' taps qtapN-K and its convention address.
 *
 * addrs grants host addresses beyond the convention address of a granted
 * tap (172.(20+N).0.1/16 for tapN): an address is granted when its
 * network lies inside one of them. nat = true lets the entry's taps
 * masquerade their guests (net.nat).
 * A name is granted when any entry naming the user (or a group they are
 * in) has a pattern that matches it (fnmatch(3), no flags). The file must
 * be owned by root and not writable by group or others; otherwise it is
 * refused as a whole and nothing is granted (fail closed). Root may do
 * anything; an unprivileged user is limited by the kernel, so the list is
 * consulted only for netcap (a file-capability install).
 */
#include <fcntl.h>
#include <fnmatch.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>

#include "qrun.h"

#define WHY(...) snprintf(why, whylen, __VA_ARGS__)

/* access.conf in profile.c's system config dir. */
char *
access_path(const struct priv *pv)
{
	char *dir = profile_sysconf_dir(pv->for_other);
	char *path = xasprintf("%s/access.conf", dir);

	free(dir);
	return path;
}

/* Open path and check it may be trusted; returns a FILE or NULL. */
static FILE *
list_open(const char *path, int *err, char *why, size_t whylen)
{
	struct stat st;
	FILE *f;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0) {
		*err = -errno;
		WHY("%s: %s", path, strerror(errno));
		return NULL;
	}
	*err = -EPERM;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		WHY("%s: refused: not a regular file", path);
	else if (st.st_uid != 0)
		WHY("%s: refused: not owned by root", path);
	else if (st.st_mode & (S_IWGRP | S_IWOTH))
		WHY("%s: refused: writable by group or others", path);
	else if ((f = fdopen(fd, "r")) == NULL)
		*err = -errno;
	else {
		*err = 0;
		return f;
	}
	close(fd);
	return NULL;
}

/* Is every element of list (may be NULL) a string? */
static bool
strings_ok(const config_setting_t *list)
{
	if (list == NULL)
		return true;
	if (!config_setting_is_array(list) && !config_setting_is_list(list))
		return false;
	for (int i = 0; i < config_setting_length(list); i++)
		if (config_setting_get_string_elem(list, i) == NULL)
			return false;
	return true;
}

/* Every element of addrs must be a network, "A/P". */
static int
addrs_check(const char *path, int line, const config_setting_t *l,
    char *why, size_t whylen)
{
	struct ipaddr a;
	const char *s;

	for (int i = 0; l && i < config_setting_length(l); i++) {
		s = config_setting_get_string_elem(l, i);
		if (ipaddr_parse(s, IPA_PREFIX, &a) < 0) {
			WHY("%s:%d: addrs: \"%s\": expected a network like "
			    "172.23.0.0/16", path, line, s);
			return -EINVAL;
		}
	}
	return 0;
}

/* Check the shape of one entry; a diagnostic in why when wrong. */
static int
entry_check(const char *path, const config_setting_t *e, char *why,
    size_t whylen)
{
	const char *u = NULL, *g = NULL;
	int line = (int)config_setting_source_line(e);

	if (!config_setting_is_group(e)) {
		WHY("%s:%d: allow: expected a group { ... }", path, line);
		return -EINVAL;
	}
	for (int i = 0; i < config_setting_length(e); i++) {
		const char *k = config_setting_name(config_setting_get_elem(e,
		    (unsigned)i));
		if (strcmp(k, "user") && strcmp(k, "group") &&
		    strcmp(k, "taps") && strcmp(k, "bridges") &&
		    strcmp(k, "switches") && strcmp(k, "addrs") &&
		    strcmp(k, "nat")) {
			WHY("%s:%d: %s: unknown key", path, line, k);
			return -EINVAL;
		}
	}
	if (config_setting_get_member(e, "nat") != NULL &&
	    config_setting_type(config_setting_get_member(e, "nat")) !=
	    CONFIG_TYPE_BOOL) {
		WHY("%s:%d: nat: expected true or false", path, line);
		return -EINVAL;
	}
	config_setting_lookup_string(e, "user", &u);
	config_setting_lookup_string(e, "group", &g);
	if ((u == NULL) == (g == NULL)) {
		WHY("%s:%d: an entry names one user or one group", path, line);
		return -EINVAL;
	}
	if (!strings_ok(config_setting_get_member(e, "taps")) ||
	    !strings_ok(config_setting_get_member(e, "bridges")) ||
	    !strings_ok(config_setting_get_member(e, "switches")) ||
	    !strings_ok(config_setting_get_member(e, "addrs"))) {
		WHY("%s:%d: taps, bridges, switches, addrs: expected lists of "
		    "strings", path, line);
		return -EINVAL;
	}
	return addrs_check(path, line, config_setting_get_member(e, "addrs"),
	    why, whylen);
}

/* Read and validate the list into lc (config_destroy it in every case). */
static int
list_load(const char *path, config_t *lc, char *why, size_t whylen)
{
	config_setting_t *allow;
	FILE *f;
	int r;

	(config_init)(lc);
	if ((f = list_open(path, &r, why, whylen)) == NULL)
		return r;
	r = 0;
	if (!config_read(lc, f)) {
		WHY("%s:%d: %s", path, config_error_line(lc),
		    config_error_text(lc));
		r = -EINVAL;
	} else if ((allow = config_lookup(lc, "allow")) == NULL ||
	    !config_setting_is_list(allow)) {
		WHY("%s: allow: expected a list ( { ... }, ... )", path);
		r = -EINVAL;
	}
	for (int i = 0; r == 0 && i < config_setting_length(allow); i++)
		r = entry_check(path, config_setting_get_elem(allow,
		    (unsigned)i), why, whylen);
	fclose(f);
	return r;
}

int
access_file_check(const char *path, char *why, size_t whylen)
{
	config_t lc;
	int r = list_load(path, &lc, why, whylen);

	config_destroy(&lc);
	return r;
}

/* Is the developer a member of the group named name? */
static bool
in_group(const struct priv *pv, const char *name)
{
	struct group *gr = getgrnam(name);
	gid_t gids[256];
	int n = ARRAY_SIZE(gids);

	if (gr == NULL)
		return false;
	if (gr->gr_gid == pv->gid)
		return true;
	if (getgrouplist(pv->user, pv->gid, gids, &n) < 0)
		n = ARRAY_SIZE(gids);	/* the first 256 were filled */
	for (int i = 0; i < n; i++)
		if (gids[i] == gr->gr_gid)
			return true;
	return false;
}

/* Does a pattern of list l match name (fnmatch)? */
static bool
pattern_in(const config_setting_t *l, const char *name)
{
	for (int k = 0; k < config_setting_length(l); k++)
		if (fnmatch(config_setting_get_string_elem(l, k), name, 0) == 0)
			return true;
	return false;
}

/* Does the entry's addrs list hold the network of a? */
static bool
addr_in(const config_setting_t *l, const struct ipaddr *a)
{
	struct ipaddr g;

	for (int k = 0; k < config_setting_length(l); k++)
		if (ipaddr_parse(config_setting_get_string_elem(l, k),
		    IPA_PREFIX, &g) == 0 && g.family == a->family &&
		    g.prefix <= a->prefix && ipaddr_contains(&g, a))
			return true;
	return false;
}

/* Does entry e name pv (or a group pv is in)? */
static bool
entry_for(const config_setting_t *e, const struct priv *pv)
{
	const char *u = NULL, *g = NULL;

	config_setting_lookup_string(e, "user", &u);
	config_setting_lookup_string(e, "group", &g);
	return u ? strcmp(u, pv->user) == 0 : in_group(pv, g);
}

/* Does any entry for pv grant name in its list key ("taps"...)? With a
 * non-NULL addr, key is "addrs" and the address is looked for. */
static bool
granted(const config_t *lc, const struct priv *pv, const char *key,
    const char *name, const struct ipaddr *addr)
{
	config_setting_t *allow = config_lookup(lc, "allow"), *e, *l;

	for (int i = 0; i < config_setting_length(allow); i++) {
		e = config_setting_get_elem(allow, (unsigned)i);
		if (!entry_for(e, pv) ||
		    (l = config_setting_get_member(e, key)) == NULL)
			continue;
		if (addr ? addr_in(l, addr) : pattern_in(l, name))
			return true;
	}
	return false;
}

/* May pv use link name as a tap (key "taps") or a bridge ("bridges")?
 * A switch's bridge qbrN and its slots' taps qtapN-K are granted by
 * "switches" naming qbrN. */
static int
link_granted(const config_t *lc, const struct priv *pv, const char *key,
    const char *name, const char *path, char *why, size_t whylen)
{
	char sw[IFNAMSIZ];

	if (access_switch_of(name, sw) == 0) {
		if (granted(lc, pv, "switches", sw, NULL))
			return 0;
		WHY("%s: switch %s not granted to %s by %s (switches)", name,
		    sw, pv->user, path);
		return -EPERM;
	}
	if (granted(lc, pv, key, name, NULL))
		return 0;
	if (key[0] == 'b')
		WHY("%s: bridge not granted to %s by %s", name, pv->user,
		    path);
	else
		WHY("%s: not granted to %s by %s", name, pv->user, path);
	return -EPERM;
}

int
access_switch_of(const char *name, char sw[IFNAMSIZ])
{
	int n, k, used = 0;

	if ((sscanf(name, "qbr%d%n", &n, &used) != 1 || name[used] != '\0') &&
	    (sscanf(name, "qtap%d-%d%n", &n, &k, &used) != 2 ||
	    name[used] != '\0' || k < 1 || k > SLOT_MAX))
		return -EINVAL;
	if (n < 0 || n > NETPLAN_TAP_MAX ||
	    (name[name[1] == 'b' ? 3 : 4] == '0' && n != 0))
		return -EINVAL;
	snprintf(sw, IFNAMSIZ, "qbr%d", n);
	return 0;
}

int
access_check(const struct priv *pv, const char *tap, const char *bridge,
    char *why, size_t whylen)
{
	char *path;
	config_t lc;
	int r;

	if (!pv->netcap)
		return 0;
	path = access_path(pv);
	if ((r = list_load(path, &lc, why, whylen)) == -ENOENT)
		WHY("%s: not granted to %s: there is no %s", tap ? tap : bridge,
		    pv->user, path);
	if (r < 0)
		r = -EPERM;
	else if ((tap == NULL || (r = link_granted(&lc, pv, "taps", tap,
	    path, why, whylen)) == 0) && bridge != NULL)
		r = link_granted(&lc, pv, "bridges", bridge, path, why,
		    whylen);
	config_destroy(&lc);
	free(path);
	return r;
}

/* Does an entry for pv that says nat = true list tap? */
static bool
nat_granted(const config_t *lc, const struct priv *pv, const char *tap)
{
	config_setting_t *allow = config_lookup(lc, "allow"), *e, *l;
	int on;

	for (int i = 0; i < config_setting_length(allow); i++) {
		e = config_setting_get_elem(allow, (unsigned)i);
		if (entry_for(e, pv) &&
		    config_setting_lookup_bool(e, "nat", &on) == CONFIG_TRUE &&
		    on && (l = config_setting_get_member(e, "taps")) != NULL &&
		    pattern_in(l, tap))
			return true;
	}
	return false;
}

/* What a check asks of the access list. */
struct ask {
	const char *name;		/* the tap or interface */
	const struct ipaddr *addr;	/* addrs: the address; NULL: nat */
};

/* Does the list at path grant q to pv? false with the reason in why. */
static bool
ask_one(const config_t *lc, const struct priv *pv, const struct ask *q,
    const char *path, char *why, size_t whylen)
{
	char b[IPADDR_STRLEN];

	if (q->addr == NULL && !nat_granted(lc, pv, q->name)) {
		WHY("%s: NAT not granted to %s by %s (nat = true)", q->name,
		    pv->user, path);
		return false;
	}
	if (q->addr != NULL && !granted(lc, pv, "addrs", NULL, q->addr)) {
		WHY("%s: %s is not granted to %s by %s (addrs)", q->name,
		    ipaddr_cidr(q->addr, b), pv->user, path);
		return false;
	}
	return true;
}

/* Root, sudo and users without privileges may (the kernel limits the
 * last); netcap only what the access list grants: 0 or -EPERM. */
static int
ask(const struct priv *pv, const struct ask *q, char *why, size_t whylen)
{
	char *path;
	config_t lc;
	int r = 0;

	if (!pv->netcap)
		return 0;
	path = access_path(pv);
	if (list_load(path, &lc, why, whylen) < 0 ||
	    !ask_one(&lc, pv, q, path, why, whylen))
		r = -EPERM;
	config_destroy(&lc);
	free(path);
	return r;
}

/* May pv masquerade the guests of tap (net.nat)? With netcap only where
 * an entry naming them grants the tap with nat = true. */
int
access_nat_check(const struct priv *pv, const char *tap, char *why,
    size_t whylen)
{
	struct ask q = { tap, NULL };

	return ask(pv, &q, why, whylen);
}

/* May pv put address a (with its prefix) on a host interface? With
 * netcap only what the access list's addrs grant. */
int
access_addr_check(const struct priv *pv, const char *ifname,
    const struct ipaddr *a, char *why, size_t whylen)
{
	struct ask q = { ifname, a };

	return ask(pv, &q, why, whylen);
}

/* net.c's guard: every change must name a granted tap (and bridge); a
 * bridge itself may be changed (made, addressed) only as a granted
 * developer switch, never through a taps pattern. */
static int
guard(const struct net_link *l, const struct net_link *master, void *arg)
{
	char why[512], sw[IFNAMSIZ];

	if (strcmp(l->kind, "bridge") == 0 &&
	    (master != NULL || strncmp(l->name, "qbr", 3) != 0 ||
	    access_switch_of(l->name, sw) < 0))
		return -EPERM;
	return access_check(arg, l->name, master ? master->name : NULL, why,
	    sizeof(why));
}

int
access_net_open(const struct priv *pv, struct net **np)
{
	int r = net_open(np);

	if (r == 0 && pv->netcap)
		net_guard(*np, guard, (void *)(uintptr_t)pv);
	return r;
}

int
access_user_file(const struct priv *pv, const char *path, char *why,
    size_t whylen)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		WHY("%s: %s", path, strerror(errno));
		return -errno;
	}
	if (st.st_uid != pv->uid && st.st_uid != 0) {
		WHY("%s: refused: owned by uid %lu, not %s or root", path,
		    (unsigned long)st.st_uid, pv->user);
		return -EPERM;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		WHY("%s: refused: writable by group or others", path);
		return -EPERM;
	}
	return 0;
}

/* Root's groups while acting as the user (access_as_user). */
static gid_t saved_groups[256];
static int saved_ngroups = -1;

/*
 * Under sudo, file access on the user's behalf (their profiles, the
 * serial log) must have the user's rights, or "--serial-log /etc/passwd"
 * truncates /etc/passwd and "-p /etc/shadow" reads it: switch fsuid,
 * fsgid and groups to the user (on), and back to root (off). A no-op
 * unless root acts for another user. 0 or -EPERM.
 */
int
access_as_user(const struct priv *pv, bool on)
{
	if (!(pv->root && pv->for_other))
		return 0;
	if (!on) {
		if (saved_ngroups < 0)
			return 0;
		setfsuid(0);
		setfsgid(getegid());
		if (setgroups((size_t)saved_ngroups, saved_groups) < 0)
			abort();	/* cannot restore root's groups */
		saved_ngroups = -1;
		return 0;
	}
	if ((saved_ngroups = getgroups(ARRAY_SIZE(saved_groups),
	    saved_groups)) < 0 || setgroups(1, &pv->gid) < 0) {
		saved_ngroups = -1;
		return -EPERM;
	}
	setfsgid(pv->gid);
	setfsuid(pv->uid);
	if ((gid_t)setfsgid((gid_t)-1) != pv->gid ||
	    (uid_t)setfsuid((uid_t)-1) != pv->uid) {
		access_as_user(pv, false);
		return -EPERM;
	}
	return 0;
}

FILE *
access_user_fopen(const struct priv *pv, const char *path, const char *mode)
{
	FILE *f = NULL;
	int e = EPERM;

	if (access_as_user(pv, true) == 0) {
		f = fopen(path, mode);
		e = errno;
		access_as_user(pv, false);
	}
	errno = e;
	return f;
}
