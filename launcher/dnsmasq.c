/*
 * dnsmasq.c - DHCP, DNS, router advertisements and DHCPv6 for a guest's
 * link, by dnsmasq (Debian's dnsmasq-base), as libvirt does: one dnsmasq
 * per link, bound to that interface only (bind-dynamic: it also takes
 * the IPv6 address once its duplicate address detection is over),
 * reading no configuration but the file qrun writes into the state dir,
 * with its lease and pid files there too, all journaled ("file NAME")
 * before they exist, and the process itself a journaled helper
 * (helper.c): exit, kill -9 of qrun and cleanup stop it as they undo a
 * tap.
 *
 * What it serves: static leases only (each guest MAC gets exactly its
 * planned address, IPv4 and, by DHCPv6, IPv6), the host address as
 * router and DNS server, router advertisements of the host's /64 with
 * the autonomous flag (so a Linux guest's SLAAC makes the same EUI-64
 * address qrun prints), and DNS: NAME.qrun for the host and each guest,
 * other names forwarded to the resolvers of /etc/resolv.conf as this
 * process sees it (ip netns exec's bind mount included).
 *
 * dnsmasq is ready when it says "started": it has bound its DHCP,
 * DHCPv6, router advertisement and DNS sockets and dropped its
 * privileges by then (it binds before it writes its pid file, and says
 * so after the drop); with DNS, once it also answers host.qrun at the
 * host address (a port 53 taken there stops it at once, but with
 * bind-dynamic an address it binds later only gets a warning: the
 * answer is the proof). A dnsmasq that exits first has said why on
 * stderr: that line is the error.
 *
 * As root it drops to its own user (dnsmasq, else nobody), keeping only
 * what it needs. A capability-enabled qrun passes it CAP_NET_ADMIN,
 * CAP_NET_RAW and CAP_NET_BIND_SERVICE as ambient capabilities and it
 * runs as the developer; its configuration then comes from a sealed
 * memfd (the copy in the state dir is the developer's to edit, and
 * dnsmasq with those capabilities must read nothing a user can change).
 */
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <poll.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/capability.h>
#include <sys/mman.h>

#include "qrun.h"

#define WHY(...) snprintf(why, whylen, __VA_ARGS__)

#define DNSMASQ_PATH	"/usr/sbin/dnsmasq"
#define READY_LINE	"]: started, version"
#define READY_MS	10000
#define LEASE_TIME	"12h"
#define DNS_MS		2000	/* for its answer to host.qrun */
/* What a capability-enabled qrun passes on: DHCP's port and raw
 * sockets, router advertisements' multicast memberships. */
#define DNSMASQ_CAPS	((1ULL << CAP_NET_ADMIN) | (1ULL << CAP_NET_RAW) | \
	(1ULL << CAP_NET_BIND_SERVICE))

/* The files of one dnsmasq, in the state dir. */
static const char *const suffix[DNSMASQ_FILES] = { "conf", "leases", "pid" };

/* The dnsmasq to run: DNSMASQ_PATH, or $QRUN_DNSMASQ (tests) when qrun
 * is not elevated for someone else. */
const char *
dnsmasq_path(const struct priv *pv)
{
	const char *e = getenv("QRUN_DNSMASQ");

	return !pv->for_other && e && *e == '/' ? e : DNSMASQ_PATH;
}

/* Has this process cap in its permitted set? */
static bool
cap_permitted(cap_value_t cap)
{
	cap_flag_value_t f = CAP_CLEAR;
	cap_t c = cap_get_proc();

	if (c == NULL)
		return false;
	if (cap_get_flag(c, cap, CAP_PERMITTED, &f) < 0)
		f = CAP_CLEAR;
	cap_free(c);
	return f == CAP_SET;
}

int
dnsmasq_usable(const struct priv *pv, char *why, size_t whylen)
{
	const char *path = dnsmasq_path(pv);

	if (access(path, X_OK) < 0) {
		WHY("%s is not installed (Debian package dnsmasq-base)", path);
		return -ENOENT;
	}
	if (pv->root)
		return 0;
	if (!pv->netcap) {
		WHY("dnsmasq needs privileges (DHCP and DNS ports): run qrun "
		    "through sudo, or installed with file capabilities "
		    "(qrun(1) Privileges)");
		return -EPERM;
	}
	if (!cap_permitted(CAP_NET_BIND_SERVICE) ||
	    !cap_permitted(CAP_NET_RAW)) {
		WHY("dnsmasq needs cap_net_bind_service and cap_net_raw, "
		    "which this qrun's file capabilities lack (qrun(1) "
		    "Privileges)");
		return -EPERM;
	}
	return 0;
}

/* A name dnsmasq's configuration takes as it is: [A-Za-z0-9._-]. */
static bool
link_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < IFNAMSIZ && strspn(s,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-") == n;
}

/* One host-record and one dhcp-host line per guest. */
static void
conf_hosts(const struct dnsmasq_conf *c, struct strv *l)
{
	char v4[IPADDR_STRLEN], v6[IPADDR_STRLEN], mac[18];

	for (size_t i = 0; i < c->nhosts; i++) {
		const struct dnsmasq_host *h = &c->hosts[i];

		ipaddr_str(&h->v4, v4);
		ipaddr_str(&h->v6, v6);
		if (c->dns && h->name[0] != '\0')
			strv_pushf(l, "host-record=%s.qrun,%s%s%s", h->name,
			    v4, h->v6.family ? "," : "",
			    h->v6.family ? v6 : "");
		strv_pushf(l, "dhcp-host=%s,%s%s%s%s," LEASE_TIME,
		    mac_str(h->mac, mac), v4, h->v6.family ? ",[" : "",
		    h->v6.family ? v6 : "", h->v6.family ? "]" : "");
	}
}

/* DNS: the .qrun names here, everything else to the host's resolvers;
 * or none at all (port 0, and no DNS server handed out). */
static void
conf_dns(const struct dnsmasq_conf *c, struct strv *l)
{
	char h[IPADDR_STRLEN], h6[IPADDR_STRLEN];

	if (!c->dns) {
		strv_push(l, "port=0");
		strv_push(l, "dhcp-option=option:dns-server");
		if (c->host6.family)
			strv_push(l, "dhcp-option=option6:dns-server");
		return;
	}
	strv_push(l, "no-hosts");
	strv_push(l, "resolv-file=/etc/resolv.conf");
	strv_push(l, "domain-needed");
	strv_push(l, "bogus-priv");
	strv_push(l, "local=/qrun/");
	strv_push(l, "domain=qrun");
	ipaddr_str(&c->host, h);
	ipaddr_str(&c->host6, h6);
	strv_pushf(l, "host-record=host.qrun,%s%s%s", h,
	    c->host6.family ? "," : "", c->host6.family ? h6 : "");
	if (c->host6.family)
		strv_pushf(l, "dhcp-option=option6:dns-server,[%s]", h6);
}

/* DHCPv4 on the host's network; router advertisements and DHCPv6 on its
 * /64 (static leases, SLAAC allowed). */
static void
conf_ranges(const struct dnsmasq_conf *c, struct strv *l)
{
	struct ipaddr net = ipaddr_net(&c->host), net6;
	char a[IPADDR_STRLEN], m[IPADDR_STRLEN];

	strv_pushf(l, "dhcp-range=%s,static,%s," LEASE_TIME,
	    ipaddr_str(&net, a), ipaddr_mask4(c->host.prefix, m));
	strv_pushf(l, "dhcp-option=option:router,%s", ipaddr_str(&c->host, a));
	if (c->mtu)
		strv_pushf(l, "dhcp-option=option:mtu,%u", c->mtu);
	strv_push(l, "dhcp-authoritative");
	strv_push(l, "no-ping");	/* the address is the guest's alone */
	strv_push(l, "quiet-dhcp");
	if (!c->host6.family)
		return;
	net6 = ipaddr_net(&c->host6);
	strv_push(l, "enable-ra");
	strv_pushf(l, "dhcp-range=%s,static,slaac,%d," LEASE_TIME,
	    ipaddr_str(&net6, a), c->host6.prefix);
	if (c->mtu)
		strv_pushf(l, "ra-param=%s,mtu:%u", c->link, c->mtu);
	strv_push(l, "quiet-dhcp6");
	strv_push(l, "quiet-ra");
}

char *
dnsmasq_conf_text(const struct dnsmasq_conf *c)
{
	struct strv l = { 0 };
	size_t len = 1, off = 0;
	char *text;

	strv_pushf(&l, "# qrun: dnsmasq for %s; removed when the run ends",
	    c->link);
	strv_pushf(&l, "interface=%s", c->link);
	strv_push(&l, "except-interface=lo");
	strv_push(&l, "bind-dynamic");
	conf_dns(c, &l);
	conf_ranges(c, &l);
	conf_hosts(c, &l);
	for (size_t i = 0; i < l.n; i++)
		len += strlen(l.v[i]) + 1;
	text = xmalloc(len);
	for (size_t i = 0; i < l.n; i++)
		off += (size_t)snprintf(text + off, len - off, "%s\n", l.v[i]);
	text[off] = '\0';
	strv_free(&l);
	return text;
}

void
dnsmasq_argv(const char *conf, const char *pidfile, const char *leases,
    const char *user, const char *group, struct strv *argv)
{
	strv_push(argv, "dnsmasq");
	strv_push(argv, "--keep-in-foreground");
	strv_pushf(argv, "--conf-file=%s", conf);
	strv_pushf(argv, "--pid-file=%s", pidfile);
	strv_pushf(argv, "--dhcp-leasefile=%s", leases);
	strv_push(argv, "--log-facility=-");
	if (user != NULL)
		strv_pushf(argv, "--user=%s", user);
	if (group != NULL)
		strv_pushf(argv, "--group=%s", group);
}

/* Root: the user dnsmasq drops to (its own, else nobody) and that
 * user's group; a capability-enabled qrun: none (it runs as the
 * developer, who it is already). */
static void
drop_to(const struct priv *pv, char user[32], char group[32])
{
	struct passwd *pw = NULL;
	struct group *gr;

	user[0] = group[0] = '\0';
	if (!pv->root)
		return;
	if ((pw = getpwnam("dnsmasq")) == NULL)
		pw = getpwnam("nobody");
	if (pw == NULL)
		return;
	snprintf(user, 32, "%s", pw->pw_name);
	if ((gr = getgrgid(pw->pw_gid)) != NULL)
		snprintf(group, 32, "%s", gr->gr_name);
}

void
dnsmasq_init(struct dnsmasq *d)
{
	memset(d, 0, sizeof(*d));
	helper_init(&d->h);
	d->dfd = -1;
}

/* The state dir's file names of this link in this namespace. */
static int
name_files(struct dnsmasq *d, const char *link)
{
	struct netns_id ns;
	int r;

	if ((r = net_ns_self(&ns)) < 0)
		return r;
	snprintf(d->link, sizeof(d->link), "%s", link);
	for (int i = 0; i < DNSMASQ_FILES; i++)
		snprintf(d->file[i], sizeof(d->file[i]), "%s@%llu.dnsmasq.%s",
		    link, ns.ino, suffix[i]);
	return 0;
}

/* Write all of text to fd. */
static int
write_all(int fd, const char *text)
{
	return write_at(fd, text, strlen(text), 0);
}

/* A sealed memfd holding text, for a dnsmasq with capabilities. */
static int
sealed_copy(const char *text)
{
	int fd = memfd_create("qrun-dnsmasq.conf", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING), r;

	if (fd < 0)
		return -errno;
	if ((r = write_all(fd, text)) == 0 && fcntl(fd, F_ADD_SEALS,
	    F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
		r = -errno;
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/*
 * Journal the three files (leftovers of a dead run of this link that
 * were never undone go first: the link's lock is ours) and write the
 * configuration. 0 or -errno with why.
 */
static int
make_files(struct journal *j, struct dnsmasq *d, const char *text,
    char *why, size_t whylen)
{
	int fd = -1, r = 0;

	for (int i = 0; i < DNSMASQ_FILES && r >= 0; i++) {
		unlinkat(d->dfd, d->file[i], 0);
		r = change_file(j, d->file[i], i == 0);
		if (i == 0 && r >= 0) {
			fd = r;
			r = write_all(fd, text);
			close(fd);
		}
	}
	if (r < 0)
		WHY("%s: cannot write %s: %s", d->link, d->file[0],
		    strerror(-r));
	return r < 0 ? r : 0;
}

/* Its last words, without its "dnsmasq: " or "dnsmasq[PID]: ". */
static const char *
last_words(const struct helper *h)
{
	const char *s = h->last, *c = strstr(s, ": ");

	if (strncmp(s, "dnsmasq", 7) == 0 && c != NULL)
		return c + 2;
	return s[0] ? s : "(it said nothing)";
}

/* Exec it and wait until it listens; why says what went wrong. */
static int
run(struct journal *j, const char *state, const struct priv *pv,
    struct dnsmasq *d, int sealed, char *why, size_t whylen)
{
	struct helper_spec s = { .prog = "dnsmasq", .path = dnsmasq_path(pv),
	    .fd3 = sealed, .caps = pv->netcap ? DNSMASQ_CAPS : 0,
	    .pdeathsig = !d->shared };
	char user[32], group[32], p[DNSMASQ_FILES][PATH_MAX], how[64];
	struct strv argv = { 0 };
	int r;

	for (int i = 0; i < DNSMASQ_FILES; i++)
		snprintf(p[i], sizeof(p[i]), "%s/%s", state, d->file[i]);
	drop_to(pv, user, group);
	dnsmasq_argv(sealed >= 0 ? "/dev/fd/3" : p[0], p[2], p[1],
	    user[0] ? user : NULL, group[0] ? group : NULL, &argv);
	s.argv = argv.v;
	if ((r = helper_spawn(j, &s, &d->h)) < 0)
		WHY("%s: cannot start dnsmasq: %s", d->link, strerror(-r));
	else if ((r = helper_wait(&d->h, READY_LINE, READY_MS)) == -ECHILD)
		WHY("%s: dnsmasq %s: %s", d->link, helper_how(&d->h, how,
		    sizeof(how)), last_words(&d->h));
	else if (r < 0)
		WHY("%s: dnsmasq did not start within %d s (%s)", d->link,
		    READY_MS / 1000, r == -ETIMEDOUT ? last_words(&d->h) :
		    strerror(-r));
	strv_free(&argv);
	return r < 0 ? -EIO : 0;
}

/* No other DHCP server bound to the link (it would share the port with
 * SO_REUSEPORT and split the guest's requests): 0, or -EADDRINUSE. */
static int
port_free(const char *link, char *why, size_t whylen)
{
	unsigned idx = if_nametoindex(link);
	int e = errno;

	if (idx == 0) {
		WHY("%s: dnsmasq: %s", link, strerror(e));
		return -e;
	}
	if (sockdiag_udp_bound(AF_INET, 67, (int)idx) == 1 ||
	    sockdiag_udp_bound(AF_INET6, 547, (int)idx) == 1) {
		WHY("%s: another DHCP server listens on it (UDP port 67 or "
		    "547 bound to %s): stop it, or net.dhcp = false", link,
		    link);
		return -EADDRINUSE;
	}
	return 0;
}

/*
 * Does dnsmasq answer DNS at the host address? Ask it for host.qrun (A)
 * and want an answer with an address. 0, or -ETIMEDOUT, -errno.
 */
static int
dns_answers(const struct ipaddr *host, long ms)
{
	static const uint8_t q[] = { 0x71, 0x72, 0x01, 0x00, 0, 1, 0, 0,
	    0, 0, 0, 0, 4, 'h', 'o', 's', 't', 4, 'q', 'r', 'u', 'n', 0,
	    0, 1, 0, 1 };
	struct sockaddr_in to = { .sin_family = AF_INET,
	    .sin_port = htons(53), .sin_addr = host->u.v4 };
	struct pollfd p = { .events = POLLIN };
	long end = mono_ms() + ms;
	uint8_t a[512];
	ssize_t n;
	int r = -ETIMEDOUT;

	if ((p.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	while (r == -ETIMEDOUT && mono_ms() < end) {
		if (sendto(p.fd, q, sizeof(q), 0, (struct sockaddr *)&to,
		    sizeof(to)) < 0 || poll(&p, 1, 50) <= 0)
			continue;
		n = recv(p.fd, a, sizeof(a), MSG_DONTWAIT);
		if (n >= 12 && a[0] == q[0] && a[1] == q[1] &&
		    (a[3] & 0x0f) == 0 && (a[6] | a[7]) != 0)
			r = 0;
	}
	close(p.fd);
	return r;
}

int
dnsmasq_start(struct journal *j, const char *state,
    const struct dnsmasq_conf *c, const struct priv *pv, struct dnsmasq *d,
    char *why, size_t whylen)
{
	char *text = NULL, ip[IPADDR_STRLEN];
	int sealed = -1, r;

	dnsmasq_init(d);
	if (!link_ok(c->link)) {
		WHY("%s: dnsmasq takes only interface names of letters, "
		    "digits, '.', '_' and '-'", c->link);
		return -EINVAL;
	}
	if ((r = port_free(c->link, why, whylen)) < 0)
		return r;
	if ((r = name_files(d, c->link)) < 0 ||
	    (d->dfd = dup(journal_dfd(j))) < 0) {
		r = r < 0 ? r : -errno;
		WHY("%s: dnsmasq: %s", c->link, strerror(-r));
		return r;
	}
	d->shared = c->shared;
	text = dnsmasq_conf_text(c);
	if ((r = make_files(j, d, text, why, whylen)) == 0 && pv->netcap &&
	    (r = sealed = sealed_copy(text)) < 0)
		WHY("%s: dnsmasq: a sealed copy of its configuration: %s",
		    c->link, strerror(-r));
	if (r >= 0)
		r = run(j, state, pv, d, sealed, why, whylen);
	if (r >= 0 && c->dns && (r = dns_answers(&c->host, DNS_MS)) < 0)
		WHY("%s: dnsmasq does not answer DNS at %s (another server "
		    "on port 53 there?)", c->link, ipaddr_str(&c->host, ip));
	if (r < 0)
		helper_stop(&d->h);
	if (sealed >= 0)
		close(sealed);
	free(text);
	return r < 0 ? r : 0;
}

void
dnsmasq_stop(struct dnsmasq *d, bool files)
{
	helper_stop(&d->h);
	for (int i = 0; files && d->dfd >= 0 && i < DNSMASQ_FILES; i++)
		if (d->file[i][0] != '\0')
			unlinkat(d->dfd, d->file[i], 0);
	if (d->dfd >= 0)
		close(d->dfd);
	d->dfd = -1;
}

/* A shared one (a switch's): let it run on for the others, its journal
 * (the shared resource's) stops it; qrun only lets go of it. */
void
dnsmasq_forget(struct dnsmasq *d)
{
	if (d->h.part.loop)
		loop_del(d->h.part.loop, &d->h.part);
	if (d->h.err >= 0)
		close(d->h.err);
	d->h.err = -1;
	d->h.child.pid = -1;
	if (d->dfd >= 0)
		close(d->dfd);
	d->dfd = -1;
}

/* "tap1: dnsmasq exited with status 2: ..." into why. */
void
dnsmasq_gone(const struct dnsmasq *d, char *why, size_t whylen)
{
	char how[64];

	WHY("%s: dnsmasq %s: %s", d->link, helper_how(&d->h, how,
	    sizeof(how)), last_words(&d->h));
}
