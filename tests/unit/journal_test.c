/*
 * journal_test.c - the undo journal and the tap locks. Every test runs in
 * a forked child (so it works with CK_FORK=no too); the network tests
 * first enter a private network namespace, the ENOSPC test a private
 * mount namespace with a tiny tmpfs. Nothing touches the root namespace.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qrun.h"
#include "unit.h"

#define T(c) do { if (!(c)) unit_die(__LINE__, "%s", #c); } while (0)
#define TEQ(a, b) do { long a_ = (a), b_ = (b); if (a_ != b_) \
	unit_die(__LINE__, "%s == %ld, want %ld", #a, a_, b_); } while (0)

/* ---------------------------------------------------------- helpers */

static struct net *
net_or_die(void)
{
	struct net *n = NULL;

	T(net_open(&n) == 0);
	return n;
}

static bool
link_exists(struct net *n, const char *name)
{
	struct net_link l;

	return net_link_get(n, name, &l) == 0;
}

static int
ifindex(struct net *n, const char *name)
{
	struct net_link l;

	T(net_link_get(n, name, &l) == 0);
	return l.ifindex;
}

static bool
has_addr(struct net *n, const char *name, const char *a)
{
	struct net_addr as[16];
	struct ipaddr want;
	size_t na = 0;

	T(ipaddr_parse(a, IPA_PREFIX, &want) == 0);
	T(net_addr_list(n, ifindex(n, name), want.family, as, 16, &na) == 0);
	for (size_t i = 0; i < na; i++)
		if (ipaddr_same(&as[i].a, &want))
			return true;
	return false;
}

/* A persistent tap made behind the journal's back (someone else's). */
static void
mk_tap(struct net *n, const char *name)
{
	struct net_link l;
	int fd = net_tap_new(n, name, true, &l);

	T(fd >= 0);
	T(net_tap_persist(fd, getuid(), (gid_t)-1, &l) == 0);
	close(fd);
}

/* A record of kind k on link name (its current ifindex). */
static struct jrec
rec1(struct net *n, enum jkind k, const char *name)
{
	struct jrec r = { .kind = k };

	snprintf(r.l[0].name, sizeof(r.l[0].name), "%s", name);
	r.l[0].ifindex = ifindex(n, name);
	return r;
}

/* Journal and make one change; it must succeed. */
static void
apply(struct journal *j, struct net *n, struct jrec r)
{
	TEQ(change_apply(j, n, &r), 0);
}

/* Our own starttime, field 22 of /proc/self/stat. */
static unsigned long long
self_start(void)
{
	unsigned long long v = 0;

	T(proc_start(0, &v) == 0);
	return v;
}

/* A pid that is certainly not alive: a reaped child's. */
static pid_t
dead_pid(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		/* exec: nothing inherited to look leaked under valgrind */
		execl("/bin/true", "true", (char *)NULL);
		_exit(0);
	}
	T(pid > 0 && waitpid(pid, NULL, 0) == pid);
	return pid;
}

static void
read_boot(char out[37])
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");

	T(f != NULL && fgets(out, 37, f) != NULL);
	fclose(f);
	out[36] = '\0';
}

/* Which namespace a hand-written journal claims: ours, or another. */
struct nsclaim {
	const char *boot;		/* NULL: this boot */
	unsigned long long ino, cookie;	/* 0, 0: ours */
};

/* Write "STATE/run-PID.journal" by hand, as a crashed qrun left it. */
static char *
write_journal_as(const char *state, pid_t pid, unsigned long long start,
    const struct nsclaim *c, const char *body)
{
	char *path = xasprintf("%s/run-%ld.journal", state, (long)pid);
	struct netns_id self;
	char boot[37];
	FILE *f;

	T(net_ns_self(&self) == 0);
	read_boot(boot);
	mkdir(state, 0700);
	T((f = fopen(path, "w")) != NULL);
	fprintf(f, "qrun-journal 2 pid %ld uid %ld start %llu boot %s "
	    "netns %llu cookie %llu\n%s", (long)pid, (long)geteuid(), start,
	    c && c->boot ? c->boot : boot, c && c->ino ? c->ino : self.ino,
	    c && c->ino ? c->cookie : self.cookie, body);
	T(fclose(f) == 0);
	return path;
}

static char *
write_journal(const char *state, pid_t pid, unsigned long long start,
    const char *body)
{
	return write_journal_as(state, pid, start, NULL, body);
}

/* "NAME@IFINDEX" of a link, for hand-written records. */
static char *
at(struct net *n, const char *name)
{
	return xasprintf("%s@%d", name, ifindex(n, name));
}

static int
count_journals(const char *state)
{
	char *pat = xasprintf("%s/run-*.journal", state);
	glob_t g;
	int n;

	n = glob(pat, 0, NULL, &g) == 0 ? (int)g.gl_pathc : 0;
	globfree(&g);
	free(pat);
	return n;
}

static int
cleanup(const char *state, struct net *n, struct replay_report *rep)
{
	return journal_cleanup(state, n, true, rep);
}

/* ------------------------------------------------------------ tests */

/* Everything this journal did is undone: the tap and bridge it made are
 * gone, and so is an IPv6 address it added to a tap it did not make. */
static void
t_undo_created(const char *state)
{
	struct net *n = net_or_die();
	struct journal *j = NULL;
	struct net_link l, br;
	struct jrec r;
	int rec, skip, fd;
	char *path = xasprintf("%s/run-%ld.journal", state, (long)getpid());

	mk_tap(n, "tapj6");
	TEQ(journal_open(state, &j), 0);
	T(access(path, F_OK) == 0);
	T((fd = change_tap_create(j, n, "tapj0", getuid(), (gid_t)-1, true,
	    &l)) >= 0);
	close(fd);
	T(l.ifindex == ifindex(n, "tapj0"));
	r = rec1(n, J_ADDR_ADD, "tapj0");
	T(ipaddr_parse("10.99.0.1/24", IPA_PREFIX, &r.addr) == 0);
	apply(j, n, r);
	apply(j, n, rec1(n, J_LINK_UP, "tapj0"));
	TEQ(change_link_create(j, n, J_BRIDGE_CREATE, "brj0", &br), 0);
	T(br.ifindex >= 100000 && br.ifindex == ifindex(n, "brj0"));
	r = rec1(n, J_ENSLAVE, "tapj0");
	r.l[1] = rec1(n, J_ENSLAVE, "brj0").l[0];
	apply(j, n, r);
	r = rec1(n, J_ADDR_ADD, "tapj6");
	T(ipaddr_parse("fd00:172:99::1/64", IPA_PREFIX, &r.addr) == 0);
	apply(j, n, r);
	T(has_addr(n, "tapj6", "fd00:172:99::1/64"));
	TEQ(journal_scan(path, &rec, &skip), 0);
	TEQ(rec, 6);
	TEQ(skip, 0);
	TEQ(journal_undo(j, n), 0);
	T(!link_exists(n, "tapj0"));
	T(!link_exists(n, "brj0"));
	T(link_exists(n, "tapj6") && !has_addr(n, "tapj6",
	    "fd00:172:99::1/64"));
	T(access(path, F_OK) < 0 && errno == ENOENT);
	free(path);
	net_close(n);
}

/* What existed before stays; only our address, MTU and enslaving go. */
static void
t_undo_preexisting(const char *state)
{
	struct net *n = net_or_die();
	struct journal *j = NULL;
	struct net_link l;
	struct jrec r;
	char *b1, *body;

	mk_tap(n, "tapj1");
	TEQ(net_bridge_create(n, "brj1", 0), 0);
	TEQ(net_link_set_up(n, ifindex(n, "tapj1"), true), 0);
	TEQ(journal_open(state, &j), 0);
	r = rec1(n, J_ADDR_ADD, "tapj1");
	T(ipaddr_parse("10.98.0.1/16", IPA_PREFIX, &r.addr) == 0);
	apply(j, n, r);
	r = rec1(n, J_MTU, "tapj1");
	r.mtu[0] = 1500, r.mtu[1] = 1400;
	apply(j, n, r);
	r = rec1(n, J_ENSLAVE, "tapj1");
	r.l[1] = rec1(n, J_ENSLAVE, "brj1").l[0];
	apply(j, n, r);
	/* an MTU someone changed after us stays as they set it */
	mk_tap(n, "tapj1b");
	r = rec1(n, J_MTU, "tapj1b");
	r.mtu[0] = 1500, r.mtu[1] = 1400;
	apply(j, n, r);
	TEQ(net_link_set_mtu(n, ifindex(n, "tapj1b"), 1300), 0);
	/* a port someone moved to another bridge stays there */
	TEQ(net_bridge_create(n, "brj1c", 0), 0);
	r = rec1(n, J_ENSLAVE, "tapj1b");
	r.l[1] = rec1(n, J_ENSLAVE, "brj1").l[0];
	apply(j, n, r);
	TEQ(net_link_set_master(n, ifindex(n, "tapj1b"), ifindex(n, "brj1c")),
	    0);
	/* a bridge that was ours but got replaced (same name, another
	 * ifindex) is left alone */
	TEQ(net_bridge_create(n, "brj1b", 0), 0);
	b1 = xasprintf("bridge-create brj1b@%d", ifindex(n, "brj1b") + 1000);
	body = xstrdup(b1);
	{
		struct jrec fake;

		T(jrec_parse(body, &fake) == 0);
		TEQ(journal_write(j, &fake), 0);
	}
	T(has_addr(n, "tapj1", "10.98.0.1/16"));
	TEQ(journal_undo(j, n), 0);
	TEQ(net_link_get(n, "tapj1b", &l), 0);
	TEQ(l.mtu, 1300);
	TEQ(l.master, ifindex(n, "brj1c"));
	T(link_exists(n, "brj1b"));
	TEQ(net_link_get(n, "tapj1", &l), 0);
	T(l.is_tap && l.up);
	TEQ(l.mtu, 1500);
	TEQ(l.master, 0);
	T(!has_addr(n, "tapj1", "10.98.0.1/16"));
	T(link_exists(n, "brj1"));
	TEQ(count_journals(state), 0);
	free(b1);
	free(body);
	net_close(n);
}

/*
 * A journal whose writer is dead (pid gone, or pid recycled: another
 * starttime) is replayed and removed; a live writer's is left alone. A
 * tap someone made again under the name of ours (another ifindex) is
 * theirs: never deleted.
 */
static void
t_cleanup_dead_live(const char *state)
{
	struct net *n = net_or_die();
	struct replay_report rep;
	char *dead, *live, *body, *t2, *t3, *t4;

	mk_tap(n, "tapj2");
	mk_tap(n, "tapj3");
	mk_tap(n, "tapj4");
	t2 = at(n, "tapj2"), t3 = at(n, "tapj3"), t4 = at(n, "tapj4");
	body = xasprintf("tap-create %s\nlink-up %s\n", t2, t2);
	dead = write_journal(state, dead_pid(), 4242, body);
	free(body);
	body = xasprintf("tap-create %s\n", t3);
	live = write_journal(state, getpid(), self_start(), body);
	TEQ(cleanup(state, n, &rep), 0);
	TEQ(rep.undone, 1);
	T(!link_exists(n, "tapj2"));
	T(access(dead, F_OK) < 0);
	T(link_exists(n, "tapj3"));
	T(access(live, F_OK) == 0);
	/* same pid, other starttime: a recycled pid, so dead */
	free(write_journal(state, getpid(), self_start() + 1, body));
	TEQ(cleanup(state, n, &rep), 0);
	TEQ(rep.undone, 1);
	T(!link_exists(n, "tapj3"));
	/* tapj4 deleted and made again by someone else: not ours */
	free(body);
	body = xasprintf("tap-create %s\n", t4);
	TEQ(net_link_delete(n, ifindex(n, "tapj4")), 0);
	mk_tap(n, "tapj4");
	free(write_journal(state, dead_pid(), 1, body));
	TEQ(cleanup(state, n, &rep), 0);
	TEQ(rep.undone, 1);
	T(link_exists(n, "tapj4"));
	TEQ(count_journals(state), 0);
	/* a missing state dir is nothing to clean */
	TEQ(cleanup("/nonexistent/qrun-state", n, &rep), 0);
	TEQ(rep.undone, 0);
	free(body);
	free(t2), free(t3), free(t4);
	free(dead);
	free(live);
	net_close(n);
}

/*
 * Malformed lines and unknown kinds are skipped, never acted on; a
 * tap-create naming something that is not a tap deletes nothing.
 */
static void
t_malformed(const char *state)
{
	struct net *n = net_or_die();
	struct replay_report rep;
	char *path, *body, *t4, *t5, *lo, *br;
	int rec, skip;

	mk_tap(n, "tapj4");
	mk_tap(n, "tapj5");
	TEQ(net_bridge_create(n, "brj4", 0), 0);
	t4 = at(n, "tapj4"), t5 = at(n, "tapj5"), lo = at(n, "lo");
	br = at(n, "brj4");
	body = xasprintf(
	    "tap-create %s\n"			/* valid: undone */
	    "tap-create %s\n"			/* valid, not a tap */
	    "tap-create %s\n"			/* valid, not a tap */
	    "tap-create ../x@3\n"		/* bad name */
	    "tap-create tapj5\n"		/* no ifindex */
	    "tap-create tapj5@0\n"		/* bad ifindex */
	    "addr-add %s garbage\n"		/* bad address */
	    "addr-add %s 127.0.0.1\n"		/* no prefix */
	    "link-up %s extra\n"		/* trailing word */
	    "tap-create  %s\n"			/* empty word */
	    "tap-create abcdefghijklmnopq@9\n"	/* too long */
	    "frobnicate %s\n"			/* unknown kind */
	    "\n"				/* empty */
	    "mtu %s 1 2\n"			/* mtu out of range */
	    "tap-create %s",			/* torn: no newline */
	    t4, lo, br, lo, lo, lo, lo, t5, lo, t5);
	path = write_journal(state, dead_pid(), 1, body);
	TEQ(journal_scan(path, &rec, &skip), 0);
	TEQ(rec, 3);
	TEQ(skip, 12);
	TEQ(cleanup(state, n, &rep), 0);
	TEQ(rep.undone, 1);
	T(!link_exists(n, "tapj4"));
	T(link_exists(n, "lo"));
	T(link_exists(n, "brj4"));
	T(link_exists(n, "tapj5"));
	T(access(path, F_OK) < 0);
	free(t4), free(t5), free(lo), free(br), free(body);
	free(path);
	net_close(n);
}

/* journal_write refuses what undo could not read back. */
static void
t_log_validates(const char *state)
{
	struct journal *j = NULL;
	char *path = xasprintf("%s/run-%ld.journal", state, (long)getpid());
	struct strv kv = { 0 }, runs = { 0 };
	struct replay_report rep;
	struct jrec r = { .kind = J_TAP_CREATE };
	int rec, skip;

	TEQ(journal_open(state, &j), 0);
	strcpy(r.l[0].name, "../x");
	r.l[0].ifindex = 3;
	TEQ(journal_write(j, &r), -EINVAL);
	strcpy(r.l[0].name, "tap1");
	r.l[0].ifindex = 0;			/* no identity */
	TEQ(journal_write(j, &r), -EINVAL);
	r = (struct jrec){ .kind = J_ADDR_ADD, .l = { { "tap1", 3 } } };
	T(ipaddr_parse("1.2.3.4", 0, &r.addr) == 0);	/* no prefix */
	TEQ(journal_write(j, &r), -EINVAL);
	TEQ(journal_info(j, "tap", "%s", "a\nlink-up lo@1"), -EINVAL);
	TEQ(journal_info(j, "Bad Key", "x"), -EINVAL);
	TEQ(journal_info(j, "tap", "tap1"), 0);
	TEQ(journal_info(j, "image", "%s", "/path with spaces/x.img"), 0);
	T(ipaddr_parse("10.1.0.1/16", IPA_PREFIX, &r.addr) == 0);
	TEQ(journal_write(j, &r), 0);
	TEQ(journal_cancel(j), 0);		/* the add failed */
	TEQ(journal_scan(path, &rec, &skip), 0);
	TEQ(rec, 2);
	TEQ(skip, 0);
	TEQ(journal_read_info(path, &kv), 0);
	TEQ(kv.n, 6);				/* netns, tap, image */
	T(strcmp(kv.v[0], "netns") == 0);
	T(strcmp(kv.v[2], "tap") == 0 && strcmp(kv.v[3], "tap1") == 0);
	T(strcmp(kv.v[4], "image") == 0 &&
	    strcmp(kv.v[5], "/path with spaces/x.img") == 0);
	TEQ(journal_runs(state, &runs), 0);
	TEQ(runs.n, 1);
	T(strcmp(runs.v[0], path) == 0);
	/* our own live journal is not a leftover */
	TEQ(cleanup(state, NULL, &rep), 0);
	TEQ(rep.undone + rep.dropped + rep.foreign, 0);
	T(access(path, F_OK) == 0);
	/* a second open by the same pid must not clobber it */
	{
		struct journal *j2 = NULL;

		TEQ(journal_open(state, &j2), -EEXIST);
		T(j2 == NULL);
		T(access(path, F_OK) == 0);
	}
	journal_close(j);
	T(access(path, F_OK) < 0);
	strv_free(&runs);
	TEQ(journal_runs(state, &runs), 0);
	TEQ(runs.n, 0);
	strv_free(&kv);
	strv_free(&runs);
	free(path);
}

/* Records round-trip through their text, IPv4 and IPv6 alike. */
static void
t_records(const char *state)
{
	static const char *const lines[] = {
		"tap-create tap1@7",
		"addr-add tap1@7 172.21.0.1/16",
		"addr-add tap1@7 fd00:172:21::1/64",
		"route-add br0@100001 default - 0 4",
		"route-add br0@100001 ::/0 fe80::1 1024 9",
		"route-del eth1@2 10.20.0.0/16 10.10.0.1 100 4",
		"mtu tap1@7 1500 1400",
		"enslave tap10@8 br0@100001",
		"dir qmp-42",
		"info image /a path/x.img",
		"nat-table",
		"nat tap1@7 172.21.0.0/16",
		"nat tap1@7 fd00:172:21::/64",
		"forwarding ipv4 0 1",
		"forwarding ipv6 1 0",
		"vxlan-create vx42@100002 42 eth1@2 10.0.0.1 1450",
		"vxlan-create vx7@100003 7 - - 1430",
		"fdb-add vx42@100002 10.0.0.2",
		"fdb-del vx7@100003 fd00::2",
		"vxlan-delete vx42@100002 42 - fd00::1 1450",
		"ifb-create ifb-tap1@100004",
		"qdisc-add tap1@7 netem",
		"qdisc-add tap1@7 ingress",
		"redirect tap1@7 ifb-tap1@100004",
	};
	char buf[256], *copy;
	struct jrec r;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
		copy = xstrdup(lines[i]);
		if (strstr(copy, "default") != NULL) {
			TEQ(jrec_parse(copy, &r), -EINVAL);
			free(copy);
			continue;
		}
		TEQ(jrec_parse(copy, &r), 0);
		TEQ(jrec_format(&r, buf, sizeof(buf)), 0);
		if (strcmp(buf, lines[i]) != 0)
			unit_die(__LINE__, "\"%s\" came back as \"%s\"",
			    lines[i], buf);
		free(copy);
	}
	copy = xstrdup("addr-add tap1@7 fd00:172:21::1/64");
	TEQ(jrec_parse(copy, &r), 0);
	TEQ(r.addr.family, AF_INET6);
	TEQ(r.addr.prefix, 64);
	jrec_describe(&r, buf, sizeof(buf));
	T(strcmp(buf, "add fd00:172:21::1/64") == 0);
	T(jrec_ns_bound(&r) && !jrec_root_only(&r));
	free(copy);
	copy = xstrdup("dir ../etc");
	TEQ(jrec_parse(copy, &r), -EINVAL);
	free(copy);
	/* forwarding: only root undoes it (it switches host routing) */
	copy = xstrdup("forwarding ipv6 0 1");
	TEQ(jrec_parse(copy, &r), 0);
	T(r.family == AF_INET6 && r.val[0] == 0 && r.val[1] == 1);
	T(jrec_ns_bound(&r) && jrec_root_only(&r));
	jrec_describe(&r, buf, sizeof(buf));
	T(strcmp(buf, "switch IPv6 forwarding on") == 0);
	free(copy);
	for (size_t i = 0; i < 4; i++) {
		static const char *const bad[] = { "forwarding ipv5 0 1",
		    "forwarding ipv4 0 2", "nat-table inet", "nat tap1@7 -" };

		copy = xstrdup(bad[i]);
		TEQ(jrec_parse(copy, &r), -EINVAL);
		free(copy);
	}
	copy = xstrdup("qdisc-add tap1@7 tbf");	/* not qrun's kind */
	TEQ(jrec_parse(copy, &r), -EINVAL);
	free(copy);
	copy = xstrdup("vxlan-create vx0@100002 0 - - 1450");	/* VNI 0 */
	TEQ(jrec_parse(copy, &r), -EINVAL);
	free(copy);
	copy = xstrdup("fdb-del vx42@100002 10.0.0.2");
	TEQ(jrec_parse(copy, &r), 0);
	T(jrec_ns_bound(&r) && jrec_root_only(&r));
	jrec_describe(&r, buf, sizeof(buf));
	T(strcmp(buf, "stop sending floods to 10.0.0.2") == 0);
	free(copy);
}

/* Which namespace a dead run's journal belongs to. */
static bool alive_yes(unsigned long long ino) { (void)ino; return true; }
static bool alive_no(unsigned long long ino) { (void)ino; return false; }

static void
t_verdicts(const char *state)
{
	struct netns_id self = { 100, 7 };
	struct journal_hdr h = { .ns = { 100, 7 } };

	(void)state;
	strcpy(h.boot, "b1");
	TEQ(journal_ns_verdict(&h, "b1", &self, alive_no), NS_SAME);
	TEQ(journal_ns_verdict(&h, "b2", &self, alive_yes), NS_GONE);
	h.ns.cookie = 9;		/* our inode, another namespace: gone */
	TEQ(journal_ns_verdict(&h, "b1", &self, alive_yes), NS_GONE);
	h.ns.ino = 200;			/* elsewhere: alive or not */
	TEQ(journal_ns_verdict(&h, "b1", &self, alive_yes), NS_OTHER);
	TEQ(journal_ns_verdict(&h, "b1", &self, alive_no), NS_GONE);
	h.ns = (struct netns_id){ 100, 0 };	/* no cookies: inode */
	self.cookie = 0;
	TEQ(journal_ns_verdict(&h, "b1", &self, alive_no), NS_SAME);
}

/*
 * A dead run of another namespace: left alone while that namespace
 * lives (cleanup from here reports it), dropped once it is gone or of
 * an earlier boot; records of our namespace with another cookie (our
 * inode reused) are never acted on here.
 */
static void
t_namespaces(const char *state)
{
	struct nsclaim other = { .ino = 0, .cookie = 1 };
	struct replay_report rep;
	struct net *n;
	struct stat st;
	char *p1, *p2, *p3, *body;
	int fd;

	/* the namespace we came from stays alive (our parent is in it) */
	T(stat("/proc/self/ns/net", &st) == 0);
	other.ino = st.st_ino;
	T(unshare(CLONE_NEWNET) == 0);
	n = net_or_die();
	mk_tap(n, "tapj8");
	body = xasprintf("tap-create %s\ndir qmp-1\n", at(n, "tapj8"));
	p1 = write_journal_as(state, dead_pid(), 1, &other, body);
	{
		struct nsclaim reused = { .ino = 0, .cookie = 12345 };
		struct netns_id self;

		T(net_ns_self(&self) == 0);
		reused.ino = self.ino;
		p2 = write_journal_as(state, dead_pid(), 1, &reused, body);
	}
	{
		struct nsclaim old = { .boot = "00000000-0000-0000-0000-"
		    "000000000000" };

		p3 = write_journal_as(state, dead_pid(), 1, &old, body);
	}
	fd = open(state, O_RDONLY | O_DIRECTORY);
	T(fd >= 0 && mkdirat(fd, "qmp-1", 0700) == 0);
	close(fd);
	TEQ(cleanup(state, n, &rep), 0);
	TEQ(rep.foreign, 1);
	TEQ(rep.dropped, 2);
	TEQ(rep.undone, 0);
	T(link_exists(n, "tapj8"));		/* never ours to delete */
	T(access(p1, F_OK) == 0);
	T(access(p2, F_OK) < 0 && access(p3, F_OK) < 0);
	free(body);
	free(p1), free(p2), free(p3);
	net_close(n);
}

/* Only root undoes what adds to the host (a forged journal cannot make
 * a capability-enabled qrun put an address or a route back). */
static void
t_root_only(const char *state)
{
	struct net *n = net_or_die();
	struct undo_ctx u = { .net = n, .root = false };
	struct jrec recs[2];
	char *l1, *l2;

	(void)state;
	mk_tap(n, "tapj9");
	l1 = xasprintf("addr-del tapj9@%d 10.97.0.1/16", ifindex(n, "tapj9"));
	l2 = xasprintf("route-del tapj9@%d 10.96.0.0/16 - 0 4",
	    ifindex(n, "tapj9"));
	T(jrec_parse(l1, &recs[0]) == 0 && jrec_parse(l2, &recs[1]) == 0);
	u.all = recs;
	u.n = 2;
	TEQ(change_undo(&u, 1), 0);
	TEQ(change_undo(&u, 0), 0);
	TEQ(u.refused, 2);
	T(!has_addr(n, "tapj9", "10.97.0.1/16"));
	u.root = true;
	TEQ(change_undo(&u, 0), 0);
	T(has_addr(n, "tapj9", "10.97.0.1/16"));
	free(l1), free(l2);
	net_close(n);
}

/* Hold shared resource "brs0" in a new journal: make the bridge when
 * first. */
static struct journal *
hold(const char *state, struct net *n, struct share *sh, bool *first)
{
	struct journal *j = NULL;
	struct net_link l;
	int dfd;

	TEQ(journal_open(state, &j), 0);
	TEQ(change_hold(j, "brs0"), 0);
	TEQ(state_open(state, false, &dfd), 0);
	TEQ(share_take(dfd, "brs0", n, sh, first), 0);
	close(dfd);
	if (*first)
		TEQ(change_link_create(sh->j, n, J_BRIDGE_CREATE, "brs0", &l),
		    0);
	share_ready(sh);
	return j;
}

/*
 * The first run makes a shared resource, the last one unmakes it; a run
 * that dies holding it counts as gone (its replayed "hold" record unmakes
 * it when it was the last).
 */
static void
t_share(const char *state)
{
	struct net *n = net_or_die();
	struct replay_report rep;
	struct journal *j;
	struct share sh;
	bool first;
	int p[2], q[2], st;
	pid_t b;
	char c;

	j = hold(state, n, &sh, &first);
	T(first && link_exists(n, "brs0"));
	T(pipe(p) == 0 && pipe(q) == 0);
	if ((b = fork()) == 0) {	/* B: joins, then waits, then dies */
		struct share bs;
		bool bf;

		hold(state, n, &bs, &bf);
		if (write(q[1], bf ? "F" : "j", 1) != 1 ||
		    read(p[0], &c, 1) != 1)
			_exit(1);
		_exit(0);		/* killed, say: no undo */
	}
	T(read(q[0], &c, 1) == 1 && c == 'j');
	share_drop(&sh);
	TEQ(journal_undo(j, n), 0);
	T(link_exists(n, "brs0"));		/* B still holds it */
	T(write(p[1], "x", 1) == 1);
	T(waitpid(b, &st, 0) == b && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	T(link_exists(n, "brs0"));		/* B died holding it */
	TEQ(cleanup(state, n, &rep), 0);	/* B's journal replayed */
	TEQ(rep.undone, 1);
	T(!link_exists(n, "brs0"));		/* ... and B was the last */
	/* a new first run after that makes it anew */
	j = hold(state, n, &sh, &first);
	T(first && link_exists(n, "brs0"));
	share_drop(&sh);
	TEQ(journal_undo(j, n), 0);
	T(!link_exists(n, "brs0"));
	TEQ(count_journals(state), 0);
	net_close(n);
}

/* An unsafe state dir is refused outright; unsafe files are skipped. */
static void
t_unsafe(const char *state)
{
	struct net *n = net_or_die();
	struct journal *j = NULL;
	struct replay_report rep;
	char *path, *link, *body;
	int fd = -1;
	pid_t pid = dead_pid(), holder, prev;

	mk_tap(n, "tapj6");
	body = xasprintf("tap-create %s\n", at(n, "tapj6"));
	path = write_journal(state, pid, 1, body);
	T(chmod(state, 0777) == 0);
	TEQ(cleanup(state, n, &rep), -EPERM);
	TEQ(rep.undone, 0);
	TEQ(journal_open(state, &j), -EPERM);
	TEQ(lock_take(state, "tapj6", &fd, &holder, &prev), -EPERM);
	T(chmod(state, 0720) == 0);
	TEQ(cleanup(state, n, &rep), -EPERM);
	T(chmod(state, 0700) == 0);
	T(chown(state, 65534, 65534) == 0);
	TEQ(cleanup(state, n, &rep), -EPERM);
	T(chown(state, geteuid(), getegid()) == 0);
	T(link_exists(n, "tapj6") && access(path, F_OK) == 0);

	/* a file of another user, a symlink, a big file: skipped */
	T(chown(path, 65534, 65534) == 0);
	link = xasprintf("%s/run-%ld.journal", state, (long)dead_pid());
	T(symlink(path, link) == 0);
	free(write_journal(state, dead_pid(), 1, ""));
	{
		char *big = xasprintf("%s/run-%ld.journal", state,
		    (long)dead_pid());
		FILE *f = fopen(big, "w");

		T(f != NULL);
		fprintf(f, "qrun-journal 2 pid 1 uid 0 start 1\n");
		for (int i = 0; i < 8000; i++)
			fprintf(f, "%s", body);
		fclose(f);
		TEQ(cleanup(state, n, &rep), 0);
		TEQ(rep.undone, 1);	/* only the empty, well-formed one */
		T(access(big, F_OK) == 0);
		free(big);
	}
	T(link_exists(n, "tapj6"));
	T(access(path, F_OK) == 0);
	free(body);
	free(link);
	free(path);
	net_close(n);
}

/* One qrun per tap: the second locker learns the holder's pid; the next
 * one after it learns who held it last (to replay its journal). */
static void
t_lock(const char *state)
{
	pid_t holder = -1, prev = -1, child;
	int fd = -1, fd2 = -1, st;

	TEQ(lock_take(state, "../x", &fd, &holder, &prev), -EINVAL);
	TEQ(lock_take(state, "tapj7", &fd, &holder, &prev), 0);
	T(fd >= 0);
	TEQ(prev, 0);
	TEQ(lock_claim(fd), 0);
	if ((child = fork()) == 0) {
		int cfd = -1;
		pid_t h = 0, pv = 0;
		int r = lock_take(state, "tapj7", &cfd, &h, &pv);

		_exit(r == -EBUSY && h == getppid() && cfd == -1 ? 0 : 1);
	}
	T(waitpid(child, &st, 0) == child);
	T(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* another open file is another locker, even in this process */
	TEQ(lock_take(state, "tapj7", &fd2, &holder, &prev), -EBUSY);
	TEQ(holder, getpid());
	lock_release(fd);
	if ((child = fork()) == 0) {
		int cfd = -1;
		pid_t h = 0, pv = 0;

		_exit(lock_take(state, "tapj7", &cfd, &h, &pv) == 0 &&
		    pv == getppid() && lock_claim(cfd) == 0 ? 0 : 1);
	}
	T(waitpid(child, &st, 0) == child);
	T(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	TEQ(lock_take(state, "tapj7", &fd, &holder, &prev), 0);
	TEQ(prev, child);
	/* not claimed: the next one still learns the child's pid */
	lock_release(fd);
	TEQ(lock_take(state, "tapj7", &fd, &holder, &prev), 0);
	TEQ(prev, child);
	lock_release(fd);
}

/* A full disk makes journal_info fail, and leaves no torn record. */
static void
t_enospc(const char *state)
{
	char *mnt = xasprintf("%s.mnt", state), *st2, *path;
	struct journal *j = NULL;
	int r = 0, i, rec, skip;

	T(mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) == 0);
	T(mkdir(mnt, 0700) == 0);
	T(mount("tmpfs", mnt, "tmpfs", 0, "size=4k,mode=0700") == 0);
	st2 = xasprintf("%s/state", mnt);
	TEQ(journal_open(st2, &j), 0);
	for (i = 0; i < 1000 && r == 0; i++)
		r = journal_info(j, "pad", "%0100d", i);
	TEQ(r, -ENOSPC);
	T(i > 10);
	path = xasprintf("%s/run-%ld.journal", st2, (long)getpid());
	TEQ(journal_scan(path, &rec, &skip), 0);
	TEQ(rec, i - 1);
	TEQ(skip, 0);
	journal_close(j);
	T(umount(mnt) == 0);
	free(path);
	free(st2);
	free(mnt);
}

#define CHILD_TEST(name, fn, flags) \
	START_TEST(name) { unit_in_child(fn, flags); } END_TEST

CHILD_TEST(test_undo_created, t_undo_created, CLONE_NEWNET)
CHILD_TEST(test_undo_preexisting, t_undo_preexisting, CLONE_NEWNET)
CHILD_TEST(test_cleanup_dead_live, t_cleanup_dead_live, CLONE_NEWNET)
CHILD_TEST(test_malformed, t_malformed, CLONE_NEWNET)
CHILD_TEST(test_unsafe, t_unsafe, CLONE_NEWNET)
CHILD_TEST(test_log_validates, t_log_validates, 0)
CHILD_TEST(test_records, t_records, 0)
CHILD_TEST(test_verdicts, t_verdicts, 0)
CHILD_TEST(test_namespaces, t_namespaces, 0)
CHILD_TEST(test_root_only, t_root_only, CLONE_NEWNET)
CHILD_TEST(test_share, t_share, CLONE_NEWNET)
CHILD_TEST(test_lock, t_lock, 0)
CHILD_TEST(test_enospc, t_enospc, CLONE_NEWNS)

Suite *
journal_suite(void)
{
	Suite *s = suite_create("journal");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_log_validates);
	tcase_add_test(tc, test_records);
	tcase_add_test(tc, test_verdicts);
	tcase_add_test(tc, test_lock);
	if (unit_can_unshare(CLONE_NEWNET, true)) {
		tcase_add_test(tc, test_undo_created);
		tcase_add_test(tc, test_undo_preexisting);
		tcase_add_test(tc, test_cleanup_dead_live);
		tcase_add_test(tc, test_malformed);
		tcase_add_test(tc, test_unsafe);
		tcase_add_test(tc, test_namespaces);
		tcase_add_test(tc, test_root_only);
		tcase_add_test(tc, test_share);
	} else
		UNIT_SKIP(8, "journal: cannot unshare a network namespace "
		    "or open /dev/net/tun (need root): netns tests skipped");
	if (unit_can_unshare(CLONE_NEWNS, false))
		tcase_add_test(tc, test_enospc);
	else
		UNIT_SKIP(1, "journal: cannot mount a tmpfs in a private "
		    "mount namespace (need root): ENOSPC test skipped");
	suite_add_tcase(s, tc);
	return s;
}
