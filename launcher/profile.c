/*
 * profile.c - the profile: built-in defaults, then /etc/qrun/qrun.conf,
 * the user's qrun.conf, the -p profile and the -o overrides, each layer
 * replacing the keys it sets (libconfig files, qrun.conf(5) Layering).
 * A file is read with its @includes by conftext.c, parsed from memory.
 *
 * One schema table drives everything: the key names, their types, their
 * defaults, where they live in struct config and how they are checked.
 * Every value is checked before it is stored, and checking keeps going:
 * each problem becomes one diag line
 *     FILE:LINE: KEY: reason          (files)
 *     -o KEY: reason, --option: reason (command line, see profile_set)
 * so a user sees every mistake at once. Nothing here prints.
 */
#include <libconfig.h>		/* before qrun.h: see config_init there */

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qrun.h"

#ifndef QRUN_SYSCONFDIR
#define QRUN_SYSCONFDIR "/etc/qrun"
#endif

/* T_AUTO: an integer in [min, max], or the string "auto" (stored as 0).
 * T_NICS: a list of groups, each one more NIC's net keys (net.extra). */
enum ktype { T_STR, T_INT, T_BOOL, T_LIST, T_MODE, T_AUTO, T_NICS };

/* A proposed value, checked before it is stored. */
struct val {
	const char *s;			/* T_STR, T_MODE; T_AUTO: "auto" */
	long i;				/* T_INT, T_BOOL, T_AUTO */
	const struct strv *list;	/* T_LIST */
	const char *add;		/* T_LIST: append this to the key's */
	struct config *nics;		/* T_NICS: the new list (key_put
					 * takes it) */
	size_t nnics;
};

/*
 * How long a value may be, qrun.conf(5) Limits. A string is at most
 * PATH_MAX bytes, ample for a regex too. The kernel takes 2047 bytes of
 * command line (COMMAND_LINE_SIZE 2048 on x86, the cmdline_size in the
 * header of Debian 12's kernels); QEMU 7.2 does not check, and with 2048
 * that kernel hangs before its first message. qemu.append leaves 127 of
 * them for the ip= and panic=-1 qrun adds. qemu.args has room for any
 * real QEMU command line; the network plan holds 32 forwards.
 */
#define STR_MAX 4096
#define APPEND_MAX 1920
#define ARGS_MAX 4096
#define FORWARDS_MAX FWD_MAX

/* A check appends one reason per problem to why (nothing when fine). */
typedef void check_fn(const struct val *, struct strv *why);

struct key {
	const char *name;	/* "qemu.memory" */
	enum ktype type;
	size_t off;		/* into struct config */
	const char *def;	/* T_STR, T_MODE, T_AUTO; T_LIST: one element
				 * or NULL */
	long idef;		/* T_INT, T_BOOL, T_AUTO when def is NULL */
	long min, max;		/* T_INT, T_AUTO; max: T_STR, T_MODE bytes,
				 * T_LIST elements */
	const char *range;	/* T_INT, T_AUTO: the reason when out of range */
	check_fn *check;
	const char *expect;	/* T_AUTO: the reason for a wrong type */
};

static check_fn check_binary, check_accel, check_mode, check_ifname,
    check_host_addr, check_guest_addr, check_mac, check_model,
    check_forwards, check_regex, check_ready, check_path, check_host_addr6,
    check_guest_addr6, check_netem, check_vhost, check_ifname_opt,
    check_remotes, check_local, check_share;

#define OFF(f) offsetof(struct config, f)
#define STR(f, d, c) T_STR, OFF(f), d, 0, 0, STR_MAX, NULL, c
#define INT(f, d, lo, hi, r) T_INT, OFF(f), NULL, d, lo, hi, r, NULL
#define BOOL(f, d) T_BOOL, OFF(f), NULL, d, 0, 0, NULL, NULL
#define AUTO(f, d, id, lo, hi, r, e) T_AUTO, OFF(f), d, id, lo, hi, r, NULL, e
#define LIST(f, d, n, c) T_LIST, OFF(f), d, 0, 0, n, NULL, c
#define NICS(f, n) T_NICS, OFF(f), NULL, 0, 0, n, NULL, NULL

/* The schema, indexed by enum cfg_key. */
static const struct key keys[K_COUNT] = {
	[K_QEMU_BINARY] = { "qemu.binary",
	    STR(qemu_binary, "qemu-system-x86_64", check_binary) },
	[K_QEMU_ACCEL] = { "qemu.accel",
	    STR(qemu_accel, "kvm:tcg", check_accel) },
	[K_QEMU_MEMORY] = { "qemu.memory", AUTO(qemu_memory, "auto", 0, 16,
	    1048576, "must be between 16 and 1048576 MiB, or \"auto\"",
	    "expected an integer (MiB) or \"auto\"") },
	[K_QEMU_CPUS] = { "qemu.cpus", INT(qemu_cpus, 1, 1, 256,
	    "must be between 1 and 256") },
	[K_QEMU_INITRD] = { "qemu.initrd", STR(qemu_initrd, "", NULL) },
	[K_QEMU_APPEND] = { "qemu.append", T_STR, OFF(qemu_append),
	    "console=ttyS0", 0, 0, APPEND_MAX, NULL, NULL },
	[K_QEMU_ARGS] = { "qemu.args",
	    LIST(qemu_args, "-nographic", ARGS_MAX, NULL) },
	[K_QEMU_SHARE] = { "qemu.share",
	    LIST(qemu_share, NULL, SHARE_MAX, check_share) },
	[K_QEMU_SNAPSHOT] = { "qemu.snapshot", BOOL(qemu_snapshot, 0) },
	[K_NET_MODE] = { "net.mode", T_MODE, OFF(net_mode), "user", 0, 0,
	    STR_MAX, NULL, check_mode },
	[K_NET_TAP] = { "net.tap", STR(net_tap, "tap1", check_ifname) },
	[K_NET_HOST_ADDR] = { "net.host_addr",
	    STR(net_host_addr, "", check_host_addr) },
	[K_NET_GUEST_ADDR] = { "net.guest_addr",
	    STR(net_guest_addr, "", check_guest_addr) },
	[K_NET_MAC] = { "net.mac", STR(net_mac, "", check_mac) },
	[K_NET_MODEL] = { "net.model",
	    STR(net_model, "virtio-net-pci", check_model) },
	[K_NET_BRIDGE] = { "net.bridge", STR(net_bridge, "br0", check_ifname) },
	[K_NET_FORWARDS] = { "net.forwards",
	    LIST(net_forwards, NULL, FORWARDS_MAX, check_forwards) },
	[K_NET_KEEP] = { "net.keep", BOOL(net_keep, 0) },
	[K_NET_CAPTURE] = { "net.capture", STR(net_capture, "", check_path) },
	[K_NET_DHCP] = { "net.dhcp", BOOL(net_dhcp, 1) },
	[K_NET_DNS] = { "net.dns", BOOL(net_dns, 1) },
	[K_NET_IPV6] = { "net.ipv6", BOOL(net_ipv6, 1) },
	[K_NET_HOST_ADDR6] = { "net.host_addr6",
	    STR(net_host_addr6, "", check_host_addr6) },
	[K_NET_GUEST_ADDR6] = { "net.guest_addr6",
	    STR(net_guest_addr6, "", check_guest_addr6) },
	[K_NET_NAT] = { "net.nat", BOOL(net_nat, 0) },
	[K_NET_KERNEL_IP] = { "net.kernel_ip", BOOL(net_kernel_ip, 1) },
	[K_NET_NETEM] = { "net.netem", STR(net_netem, "", check_netem) },
	[K_NET_VHOST] = { "net.vhost", STR(net_vhost, "auto", check_vhost) },
	[K_NET_QUEUES] = { "net.queues", INT(net_queues, 1, 1, QUEUE_MAX,
	    "must be between 1 and 16") },
	[K_NET_SLOT] = { "net.slot", INT(net_slot, 0, 0, SLOT_MAX,
	    "must be between 1 and 253, or 0 for the first free slot") },
	[K_NET_VXLAN_VNI] = { "net.vxlan.vni", INT(net_vxlan_vni, 0, 0,
	    16777215, "must be between 1 and 16777215, or 0 for none") },
	[K_NET_VXLAN_REMOTES] = { "net.vxlan.remotes",
	    LIST(net_vxlan_remotes, NULL, VXLAN_REMOTES_MAX, check_remotes) },
	[K_NET_VXLAN_DEV] = { "net.vxlan.dev",
	    STR(net_vxlan_dev, "", check_ifname_opt) },
	[K_NET_VXLAN_LOCAL] = { "net.vxlan.local",
	    STR(net_vxlan_local, "", check_local) },
	[K_NET_EXTRA] = { "net.extra", NICS(net_extra, NIC_MAX - 1) },
	[K_TEST_TIMEOUT] = { "test.timeout", INT(test_timeout, 0, 0, 86400,
	    "must be between 0 and 86400 seconds") },
	[K_TEST_EXPECT] = { "test.expect", STR(test_expect, "", check_regex) },
	[K_TEST_FAIL] = { "test.fail",
	    STR(test_fail, "Kernel panic", check_regex) },
	[K_TEST_SUCCESS_CODE] = { "test.success_code",
	    INT(test_success_code, -1, -1, 255,
	    "must be between 0 and 255, or -1 for none") },
	[K_TEST_READY] = { "test.ready", STR(test_ready, "", check_ready) },
	[K_TEST_SERIAL_LOG] = { "test.serial_log",
	    STR(test_serial_log, "", check_path) },
	[K_TEST_GDB] = { "test.gdb", AUTO(test_gdb, NULL, GDB_OFF, -1, 65535,
	    "must be a port (1..65535), \"auto\" or -1 for none",
	    "expected a port, \"auto\" or -1") },
	[K_TEST_GDB_WAIT] = { "test.gdb_wait", BOOL(test_gdb_wait, 0) },
	[K_TEST_KTAP] = { "test.ktap", BOOL(test_ktap, 0) },
	[K_TEST_JUNIT] = { "test.junit", STR(test_junit, "", check_path) },
};

static const char *const groups[] = { "qemu", "net", "test" };
static const char *const modes[] = {
	[NET_USER] = "user", [NET_TAP] = "tap", [NET_BRIDGE] = "bridge",
	[NET_NONE] = "none", [NET_SWITCH] = "switch",
};

/* The reason for each type mismatch. */
static const char *const expected[] = {
	[T_STR] = "expected a string", [T_INT] = "expected an integer",
	[T_BOOL] = "expected true or false",
	[T_LIST] = "expected a list of strings", [T_MODE] = "expected a string",
	[T_AUTO] = NULL,	/* the key's own expect */
	[T_NICS] = "expected a list of groups, ( { mode = \"tap\"; ... }, ... ), "
	    "in a profile file",
};

static void nics_free(struct config **, size_t *);
struct file_ctx;
static void file_setting_key(struct file_ctx *, const char *,
    const config_setting_t *);
static char *nics_text(const struct config *, size_t);

/* Why a value of key k has the wrong type. */
static const char *
expect_text(int k)
{
	return keys[k].expect ? keys[k].expect : expected[keys[k].type];
}

/* A T_AUTO value that says "auto". */
static bool
is_auto(const struct val *v)
{
	return v->s != NULL && strcmp(v->s, "auto") == 0;
}

/* ------------------------------------------------------------ checks */

static void
check_binary(const struct val *v, struct strv *why)
{
	const char *c = v->s;

	for (; *c; c++)
		if (isspace((unsigned char)*c))
			break;
	if (v->s[0] == '\0' || *c != '\0')
		strv_push(why, "must be a program name or path");
}

static void
check_accel(const struct val *v, struct strv *why)
{
	if (strcmp(v->s, "kvm") && strcmp(v->s, "tcg") &&
	    strcmp(v->s, "kvm:tcg"))
		strv_push(why, "must be kvm, tcg or kvm:tcg");
}

static int
mode_parse(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++)
		if (strcmp(s, modes[i]) == 0)
			return (int)i;
	return -1;
}

static void
check_mode(const struct val *v, struct strv *why)
{
	if (mode_parse(v->s) < 0)
		strv_push(why, "must be user, tap, bridge, switch or none");
}

/* Taps and bridges; their names also go into QEMU's -netdev option
 * syntax, where ',' would start another option. */
static void
check_ifname(const struct val *v, struct strv *why)
{
	const char *reason;

	if (ifname_check(v->s, &reason) < 0)
		strv_push(why, reason);
	else if (strchr(v->s, ','))
		strv_push(why, "name contains ','");
}

static void
check_host_addr(const struct val *v, struct strv *why)
{
	struct ipaddr a;
	const char *bad;

	if (v->s[0] == '\0')
		return;
	if (ipaddr_parse(v->s, IPA_V4 | IPA_PREFIX, &a) < 0) {
		strv_push(why, "must be an IPv4 address with prefix, "
		    "like 172.21.0.1/16");
		return;
	}
	if (a.prefix < 1 || a.prefix > 30) {
		strv_push(why, "prefix must be between 1 and 30");
		return;
	}
	if ((bad = ipaddr_refuse(&a)) != NULL)
		strv_pushf(why, "is %s", bad);
}

static void
check_guest_addr(const struct val *v, struct strv *why)
{
	struct ipaddr a;

	if (v->s[0] && ipaddr_parse(v->s, IPA_V4 | IPA_NOPREFIX, &a) < 0)
		strv_push(why, "must be an IPv4 address, like 172.21.0.2");
}

/* The host's IPv6 side of a local link: a /64 of the unique local
 * addresses (fc00::/7), as routers advertise and SLAAC needs. */
static void
check_host_addr6(const struct val *v, struct strv *why)
{
	struct ipaddr a, ula;
	const char *bad;

	if (v->s[0] == '\0')
		return;
	if (ipaddr_parse(v->s, IPA_V6 | IPA_PREFIX, &a) < 0) {
		strv_push(why, "must be an IPv6 address with prefix, "
		    "like fd00:172:21::1/64");
		return;
	}
	ipaddr_parse("fc00::/7", IPA_PREFIX, &ula);
	if (a.prefix != 64)
		strv_push(why, "prefix must be /64 (SLAAC needs one)");
	else if (!ipaddr_contains(&ula, &a))
		strv_push(why, "must be a unique local address (fc00::/7), "
		    "like fd00:172:21::1/64");
	else if ((bad = ipaddr_refuse(&a)) != NULL)
		strv_pushf(why, "is %s", bad);
}

static void
check_guest_addr6(const struct val *v, struct strv *why)
{
	struct ipaddr a;

	if (v->s[0] && ipaddr_parse(v->s, IPA_V6 | IPA_NOPREFIX, &a) < 0)
		strv_push(why, "must be an IPv6 address, like "
		    "fd00:172:21::2");
}

static void
check_mac(const struct val *v, struct strv *why)
{
	uint8_t mac[6];

	if (v->s[0] == '\0')
		return;
	if (parse_mac(v->s, mac) < 0)
		strv_push(why, "must be a MAC address like 52:54:00:12:34:56");
	else if (mac[0] & 1)
		strv_push(why, "must be a unicast MAC address");
}

static void
check_model(const struct val *v, struct strv *why)
{
	const char *c = v->s;

	for (; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-')
			break;
	if (v->s[0] == '\0' || *c != '\0')
		strv_push(why,
		    "must be a QEMU NIC model such as virtio-net-pci");
}

/* "[tcp|udp:]HOSTPORT:GUESTPORT": 0, -EINVAL (shape) or -ERANGE (port);
 * HOSTPORT 0 (qrun picks a free one) gives -ENOTSUP for udp. */
static int
forward_parse(const char *s, char proto[4], long *host, long *guest)
{
	char buf[64], *f[4], *save = NULL;
	int n = 0, r1, r2;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	for (char *t = strtok_r(buf, ":", &save); t && n < 4;
	    t = strtok_r(NULL, ":", &save))
		f[n++] = t;
	if (s[0] == ':' || strstr(s, "::") || (n && s[strlen(s) - 1] == ':'))
		return -EINVAL;
	if (n == 3 && (strcmp(f[0], "tcp") == 0 || strcmp(f[0], "udp") == 0))
		strcpy(proto, f[0]);
	else if (n == 2)
		strcpy(proto, "tcp");
	else
		return -EINVAL;
	r1 = parse_long(f[n - 2], 0, 65535, host);
	r2 = parse_long(f[n - 1], 1, 65535, guest);
	if (r1 == -EINVAL || r2 == -EINVAL)
		return -EINVAL;
	if (r1 == 0 && *host == 0 && proto[0] == 'u')
		return -ENOTSUP;
	return r1 < 0 || r2 < 0 ? -ERANGE : 0;
}

/* Each forward's shape, and each host port (per protocol) used once. */
static void
check_forwards(const struct val *v, struct strv *why)
{
	uint8_t seen[2 * 65536 / 8] = { 0 };
	char proto[4];
	long host, guest, bit;
	int r;

	for (size_t i = 0; i < v->list->n; i++) {
		const char *s = v->list->v[i];

		r = forward_parse(s, proto, &host, &guest);
		if (r == -EINVAL) {
			strv_pushf(why, "forward \"%s\": must be "
			    "[tcp|udp:]HOSTPORT:GUESTPORT", s);
			continue;
		}
		if (r == -ENOTSUP) {
			strv_pushf(why, "forward \"%s\": only tcp forwards "
			    "may have qrun pick the host port (0)", s);
			continue;
		}
		if (r < 0) {
			strv_pushf(why, "forward \"%s\": port must be 1..65535 "
			    "(host port 0: qrun picks one)", s);
			continue;
		}
		if (host == 0)	/* picked: never the same twice */
			continue;
		bit = (proto[0] == 'u') * 65536 + host;
		if (seen[bit / 8] & (1 << bit % 8))
			strv_pushf(why, "forward \"%s\": host port %ld used "
			    "twice", s, host);
		seen[bit / 8] |= (uint8_t)(1 << bit % 8);
	}
}

/* An interface name, or "" for none. */
static void
check_ifname_opt(const struct val *v, struct strv *why)
{
	if (v->s[0] != '\0')
		check_ifname(v, why);
}

/* net.vxlan.remotes: unicast addresses of other hosts, one family. */
static void
check_remotes(const struct val *v, struct strv *why)
{
	struct ipaddr a;
	int fam = 0;

	for (size_t i = 0; i < v->list->n; i++) {
		if (ipaddr_parse(v->list->v[i], IPA_NOPREFIX, &a) < 0 ||
		    ipaddr_refuse(&a) != NULL)
			strv_pushf(why, "\"%s\": not a unicast address",
			    v->list->v[i]);
		else if (fam && a.family != fam)
			strv_pushf(why, "\"%s\": the remotes must be of one "
			    "family", v->list->v[i]);
		else
			fam = a.family;
	}
}

/* net.vxlan.local: an address of this host, or "". */
static void
check_local(const struct val *v, struct strv *why)
{
	struct ipaddr a;

	if (v->s[0] != '\0' && ipaddr_parse(v->s, IPA_NOPREFIX, &a) < 0)
		strv_push(why, "must be an address of this host, like "
		    "192.0.2.1");
}

/* A POSIX extended regex, as vm.c will compile it. */
static void
regex_check(const char *re, struct strv *why)
{
	char err[128];
	regex_t rx;

	if (regex_compile(&rx, re, err, sizeof(err)) < 0) {
		strv_pushf(why, "bad regex: %s", err);
		return;
	}
	regfree(&rx);
}

static void
check_regex(const struct val *v, struct strv *why)
{
	if (v->s[0])
		regex_check(v->s, why);
}

static void
check_ready(const struct val *v, struct strv *why)
{
	const char *s = v->s;
	long port;
	int r;

	if (s[0] == '\0' || strcmp(s, "ping") == 0 ||
	    strcmp(s, "ping6") == 0)
		return;
	if (strncmp(s, "serial:", 7) == 0 && s[7] != '\0') {
		regex_check(s + 7, why);
		return;
	}
	if (strncmp(s, "tcp:", 4) == 0) {
		r = parse_long(s + 4, 0, LONG_MAX, &port);
		if (r == 0 && (port < 1 || port > 65535)) {
			strv_push(why, "port must be 1..65535");
			return;
		}
		if (r == 0)
			return;
	}
	strv_push(why, "must be ping, ping6, tcp:PORT or serial:REGEX");
}

/* An output file: its directory must exist (the file need not). */
static void
check_path(const struct val *v, struct strv *why)
{
	const char *slash = strrchr(v->s, '/');
	struct stat st;
	char *dir;

	if (v->s[0] == '\0' || slash == NULL)
		return;
	dir = slash == v->s ? xstrdup("/") :
	    xasprintf("%.*s", (int)(slash - v->s), v->s);
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		strv_pushf(why, "directory %s does not exist", dir);
	free(dir);
}

/* tc-netem words (netem.c). */
static void
check_netem(const struct val *v, struct strv *why)
{
	struct netem ne;
	char reason[256];

	if (netem_parse(v->s, &ne, reason, sizeof(reason)) < 0)
		strv_push(why, reason);
}

/* Each share's shape (hostdir.c), each tag once. */
static void
check_share(const struct val *v, struct strv *why)
{
	struct hostdirs *dirs = xmalloc(sizeof(*dirs));

	hostdirs_make(v->list, dirs, why);
	free(dirs);
}

static void
check_vhost(const struct val *v, struct strv *why)
{
	if (strcmp(v->s, "auto") && strcmp(v->s, "on") && strcmp(v->s, "off"))
		strv_push(why, "must be auto, on or off");
}

/* ------------------------------------------------------------ storage */

static void *
key_ptr(struct config *cfg, int k)
{
	return (char *)cfg + keys[k].off;
}

/*
 * A batch run: any test key set on purpose. test.fail counts only when a
 * profile or option set it, since its default (Kernel panic) is always on.
 */
static void
config_batch(struct config *cfg)
{
	cfg->batch = cfg->test_timeout > 0 || cfg->test_expect[0] ||
	    cfg->test_success_code >= 0 || cfg->test_ready[0] ||
	    cfg->test_ktap || (cfg->test_junit && cfg->test_junit[0]) ||
	    (cfg->where[K_TEST_FAIL] &&
	    strcmp(cfg->where[K_TEST_FAIL], "default") != 0 &&
	    cfg->test_fail[0]);
}

/* Store a checked value, replacing the old one, and note its origin. */
static void
key_put(struct config *cfg, int k, const struct val *v, const char *where)
{
	void *p = key_ptr(cfg, k);
	struct strv copy = { 0 };

	switch (keys[k].type) {
	case T_STR:
		free(*(char **)p);
		*(char **)p = xstrdup(v->s);
		break;
	case T_INT:
		*(long *)p = v->i;
		break;
	case T_AUTO:
		*(long *)p = is_auto(v) ? QEMU_MEMORY_AUTO : v->i;
		break;
	case T_BOOL:
		*(bool *)p = v->i != 0;
		break;
	case T_MODE:
		*(enum net_mode *)p = (enum net_mode)mode_parse(v->s);
		break;
	case T_NICS:
		nics_free(p, &cfg->net_nextra);
		*(struct config **)p = v->nics;
		cfg->net_nextra = v->nnics;
		break;
	case T_LIST:
		if (v->list == p)	/* appended to in place */
			break;
		for (size_t i = 0; i < v->list->n; i++)
			strv_push(&copy, v->list->v[i]);
		strv_free(p);
		*(struct strv *)p = copy;
		break;
	}
	free(cfg->where[k]);
	cfg->where[k] = xstrdup(where);
	if (cfg->test_expect && cfg->test_ready)	/* not while init */
		config_batch(cfg);
}

/* A value past qrun's limits is refused before any other check, which
 * could take long over it. Of a list appended to, only the new element
 * is measured: the others were when they came. */
static void
check_size(int k, const struct val *v, struct strv *why)
{
	const struct strv *l = v->list;
	size_t n, len;

	if (keys[k].type == T_STR || keys[k].type == T_MODE) {
		if ((len = strlen(v->s)) > (size_t)keys[k].max)
			strv_pushf(why, "too long: %zu bytes, at most %ld",
			    len, keys[k].max);
		return;
	}
	if (keys[k].type != T_LIST)
		return;
	if ((n = l->n + (v->add != NULL)) > (size_t)keys[k].max) {
		strv_pushf(why, "too many elements: %zu, at most %ld", n,
		    keys[k].max);
		return;
	}
	for (size_t i = v->add ? n - 1 : 0; i < n; i++) {
		len = strlen(i < l->n ? l->v[i] : v->add);
		if (len > STR_MAX) {
			strv_pushf(why, "element %zu too long: %zu bytes, at "
			    "most %d", i + 1, len, STR_MAX);
			return;
		}
	}
}

/* Check v for key k; store it when fine, else report every reason as
 * "PREFIX: reason". A list is appended to in place, and the element
 * taken back when it does not do. 0 or -EINVAL. */
static int
key_set(struct config *cfg, int k, const struct val *v, const char *where,
    const char *prefix, struct strv *diags)
{
	struct strv why = { 0 }, *list = key_ptr(cfg, k);
	bool added = false;
	int rc = 0;

	check_size(k, v, &why);
	if (why.n == 0 && v->add) {
		strv_push(list, v->add);
		added = true;
	}
	if (why.n == 0 && (keys[k].type == T_INT ||
	    (keys[k].type == T_AUTO && !is_auto(v))) &&
	    (v->i < keys[k].min || v->i > keys[k].max))
		strv_push(&why, keys[k].range);
	else if (why.n == 0 && keys[k].check)
		keys[k].check(v, &why);
	for (size_t i = 0; i < why.n; i++)
		strv_pushf(diags, "%s: %s", prefix, why.v[i]);
	if (why.n && added) {
		free(list->v[--list->n]);
		list->v[list->n] = NULL;
	}
	if (why.n)
		rc = -EINVAL;
	else
		key_put(cfg, k, v, where);
	strv_free(&why);
	return rc;
}

void
config_init(struct config *cfg)
{
	struct strv list = { 0 };
	struct val v;

	memset(cfg, 0, sizeof(*cfg));
	for (int k = 0; k < K_COUNT; k++) {
		v.s = keys[k].def;
		v.i = keys[k].idef;
		v.list = &list;
		v.add = NULL;
		v.nics = NULL;
		v.nnics = 0;
		if (keys[k].type == T_LIST && keys[k].def)
			strv_push(&list, keys[k].def);
		key_put(cfg, k, &v, "default");
		strv_free(&list);
	}
	config_batch(cfg);
}

void
config_free(struct config *cfg)
{
	for (int k = 0; k < K_COUNT; k++) {
		if (keys[k].type == T_STR)
			free(*(char **)key_ptr(cfg, k));
		else if (keys[k].type == T_LIST)
			strv_free(key_ptr(cfg, k));
		free(cfg->where[k]);
	}
	nics_free(&cfg->net_extra, &cfg->net_nextra);
	memset(cfg, 0, sizeof(*cfg));
}

const char *
net_mode_name(enum net_mode m)
{
	return (size_t)m < ARRAY_SIZE(modes) ? modes[m] : "?";
}

int
profile_key_index(const char *name)
{
	for (int k = 0; k < K_COUNT; k++)
		if (strcmp(keys[k].name, name) == 0)
			return k;
	return -1;
}

const char *
profile_key_name(int idx)
{
	return idx >= 0 && idx < K_COUNT ? keys[idx].name : NULL;
}

bool
profile_key_list(int idx)
{
	return idx >= 0 && idx < K_COUNT && keys[idx].type == T_LIST;
}

/* s as a libconfig string literal: "..." with \" \\ and \xNN. */
static void
quote_put(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20 || *s == 0x7f)
			fprintf(f, "\\x%02x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

/* A list as a libconfig list literal: [ "a", "b" ]. */
static char *
list_text(const struct strv *l)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);

	if (f == NULL)
		abort();
	fputc('[', f);
	for (size_t i = 0; i < l->n; i++) {
		fputs(i ? ", " : " ", f);
		quote_put(f, l->v[i]);
	}
	fputs(" ]", f);
	if (fclose(f) != 0)
		abort();
	return s;
}

char *
profile_get(const struct config *cfg, int idx)
{
	const void *p;

	if (idx < 0 || idx >= K_COUNT)
		return NULL;
	p = (const char *)cfg + keys[idx].off;
	switch (keys[idx].type) {
	case T_STR:
		return xstrdup(*(char *const *)p);
	case T_INT:
		return xasprintf("%ld", *(const long *)p);
	case T_AUTO:
		return *(const long *)p == QEMU_MEMORY_AUTO ? xstrdup("auto") :
		    xasprintf("%ld", *(const long *)p);
	case T_BOOL:
		return xstrdup(*(const bool *)p ? "true" : "false");
	case T_MODE:
		return xstrdup(net_mode_name(*(const enum net_mode *)p));
	case T_NICS:
		return nics_text(cfg->net_extra, cfg->net_nextra);
	case T_LIST:
		break;
	}
	return list_text(p);
}

/* ------------------------------------------------------ from text (-o) */

static int
bool_parse(const char *s, long *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return *out = 1, 0;
		if (strcasecmp(s, no[i]) == 0)
			return *out = 0, 0;
	}
	return -EINVAL;
}

/* A list of strings from a libconfig setting; -EINVAL for anything else. */
static int
list_from_setting(const config_setting_t *s, struct strv *out)
{
	int t = config_setting_type(s);

	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST)
		return -EINVAL;
	for (int i = 0; i < config_setting_length(s); i++) {
		config_setting_t *e = config_setting_get_elem(s, i);

		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return -EINVAL;
		strv_push(out, config_setting_get_string(e));
	}
	return 0;
}

/* A list from text: a libconfig literal ["a", "b"] or "a,b" (elements
 * trimmed; "" is the empty list). */
static int
list_parse(const char *text, struct strv *out)
{
	config_t lc;
	char *src, *save = NULL;
	int rc = -EINVAL;

	while (isspace((unsigned char)*text))
		text++;
	if (*text != '[' && *text != '(') {
		src = xstrdup(text);
		for (char *t = strtok_r(src, ",", &save); t;
		    t = strtok_r(NULL, ",", &save)) {
			while (isspace((unsigned char)*t))
				t++;
			for (char *e = t + strlen(t); e > t &&
			    isspace((unsigned char)e[-1]); *--e = '\0')
				;
			strv_push(out, t);
		}
		free(src);
		return 0;
	}
	if (strchr(text, '\n'))		/* no @include through -o */
		return -EINVAL;
	(config_init)(&lc);
	src = xasprintf("x = %s;", text);
	if (config_read_string(&lc, src) &&
	    config_setting_length(config_root_setting(&lc)) == 1)
		rc = list_from_setting(config_lookup(&lc, "x"), out);
	config_destroy(&lc);
	free(src);
	return rc;
}

/* Turn text into a value of key k's type. 0 or -EINVAL. */
static int
val_from_text(const struct config *cfg, int k, const char *text,
    bool append, struct val *v, struct strv *list)
{
	v->s = text;
	v->list = list;
	v->add = NULL;
	switch (keys[k].type) {
	case T_AUTO:
		v->i = 0;
		if (is_auto(v))
			return 0;
		/* FALLTHROUGH */
	case T_INT:
		return parse_long(text, LONG_MIN, LONG_MAX, &v->i) ?
		    -EINVAL : 0;
	case T_BOOL:
		return bool_parse(text, &v->i);
	case T_LIST:
		if (!append)
			return list_parse(text, list);
		v->list = (const void *)((const char *)cfg + keys[k].off);
		v->add = text;
		return 0;
	case T_NICS:
		return -EINVAL;	/* groups: in a profile file only */
	default:
		return 0;
	}
}

/*
 * The key (or group) a typo most likely meant, as a pointer into the
 * table. The typo is in the part after the dot: its length bounds the
 * edits, so that net.nope is not taken for net.mode.
 */
static const char *
key_nearest(const char *name, bool group)
{
	size_t n = group ? ARRAY_SIZE(groups) : K_COUNT;
	const char *leaf = strrchr(name, '.'), *hit, *near = NULL;
	struct strv names = { 0 };

	leaf = leaf ? leaf + 1 : name;
	for (size_t i = 0; i < n; i++)
		strv_push(&names, group ? groups[i] : keys[i].name);
	hit = str_nearest(name, &names, strlen(leaf) <= 4 ? 1 : 2);
	for (size_t i = 0; hit != NULL && i < n; i++)
		if (hit == names.v[i])
			near = group ? groups[i] : keys[i].name;
	strv_free(&names);
	return near;
}

const char *
profile_key_nearest(const char *name)
{
	return key_nearest(name, false);
}

/* "PREFIX: unknown key", naming what a typo most likely meant:
 * "qemu.memroy: unknown key; did you mean qemu.memory?". */
static void
unknown_key(struct strv *diags, const char *prefix, const char *name,
    bool group)
{
	const char *near = key_nearest(name, group);

	if (near != NULL)
		strv_pushf(diags, "%s: unknown key; did you mean %s?", prefix,
		    near);
	else
		strv_pushf(diags, "%s: unknown key", prefix);
}

int
profile_set(struct config *cfg, const char *key, const char *value,
    const char *where, struct strv *diags)
{
	size_t len = strlen(key);
	bool append = len > 0 && key[len - 1] == '+';
	char *name = xasprintf("%.*s", (int)(len - append), key);
	char *own = where ? NULL : xasprintf("-o %s", name);
	char *prefix;
	struct strv list = { 0 };
	struct val v;
	int k = profile_key_index(name), rc = -EINVAL;

	if (own)
		where = own;
	prefix = where[0] == '-' ? xstrdup(where) :
	    xasprintf("%s: %s", where, name);
	if (k < 0)
		unknown_key(diags, prefix, name, false);
	else if (append && keys[k].type != T_LIST)
		strv_pushf(diags, "%s: only a list can be appended to", prefix);
	else if (val_from_text(cfg, k, value, append, &v, &list) < 0)
		strv_pushf(diags, "%s: %s", prefix, expect_text(k));
	else
		rc = key_set(cfg, k, &v, where, prefix, diags);
	strv_free(&list);
	free(prefix);
	free(own);
	free(name);
	return rc;
}

/* ---------------------------------------------------------- net.extra */

static void
nics_free(struct config **nics, size_t *n)
{
	for (size_t i = 0; *nics && i < *n; i++)
		config_free(&(*nics)[i]);
	free(*nics);
	*nics = NULL;
	*n = 0;
}

/* net.extra as text: each NIC's keys that its group set. */
static char *
nics_text(const struct config *nics, size_t n)
{
	struct strv words = { 0 };
	char *v, *all;

	strv_push(&words, "(");
	for (size_t i = 0; i < n; i++) {
		strv_pushf(&words, "%s{", i ? ", " : " ");
		for (int k = K_NET_MODE; k < K_COUNT; k++) {
			if (strncmp(keys[k].name, "net.", 4) != 0 ||
			    strcmp(nics[i].where[k], "default") == 0)
				continue;
			v = profile_get(&nics[i], k);
			strv_pushf(&words, keys[k].type == T_STR ||
			    keys[k].type == T_MODE ? " %s = \"%s\";" :
			    " %s = %s;", keys[k].name + 4, v);
			free(v);
		}
		strv_push(&words, " }");
	}
	strv_push(&words, " )");
	all = strv_join(&words, "");
	strv_free(&words);
	return all;
}

/* ---------------------------------------------------------- from files */

/* One file being read, with its includes, and where the results go. */
struct file_ctx {
	struct config *cfg;
	struct strv *diags;
	struct conftext ct;
};

/* "FILE:LINE" of a setting. */
static char *
setting_where(const struct file_ctx *fx, const config_setting_t *s)
{
	return conftext_where(&fx->ct, config_setting_source_line(s));
}

/* Check a setting's libconfig type against key k's and make a value. */
static int
val_from_setting(int k, const config_setting_t *s, struct val *v,
    struct strv *list)
{
	int t = config_setting_type(s);

	v->list = list;
	v->add = NULL;
	switch (keys[k].type) {
	case T_STR:
	case T_MODE:
		if (t != CONFIG_TYPE_STRING)
			return -EINVAL;
		v->s = config_setting_get_string(s);
		return 0;
	case T_AUTO:
		v->s = NULL;
		v->i = 0;
		if (t == CONFIG_TYPE_STRING) {
			v->s = config_setting_get_string(s);
			return is_auto(v) ? 0 : -EINVAL;
		}
		/* FALLTHROUGH */
	case T_INT:
		if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
			return -EINVAL;
		v->i = (long)config_setting_get_int64(s);
		return 0;
	case T_BOOL:
		if (t != CONFIG_TYPE_BOOL)
			return -EINVAL;
		v->i = config_setting_get_bool(s);
		return 0;
	case T_LIST:
		return list_from_setting(s, list);
	case T_NICS:
		break;		/* nics_from_setting */
	}
	return -EINVAL;
}

/* Key MEMBER of the group of NIC i of net.extra into nic. */
static void
nic_setting(struct file_ctx *fx, struct config *nic, size_t i,
    const config_setting_t *m)
{
	char *name = xasprintf("net.%s", config_setting_name(m));
	char *where = setting_where(fx, m);
	char *prefix = xasprintf("%s: net.extra[%zu].%s", where, i + 1,
	    config_setting_name(m));
	struct strv list = { 0 };
	struct val v;
	int k = profile_key_index(name);

	if (k < 0 || k == K_NET_EXTRA)
		strv_pushf(fx->diags, "%s: not a key of a NIC (the net "
		    "group's keys but extra)", prefix);
	else if (val_from_setting(k, m, &v, &list) < 0)
		strv_pushf(fx->diags, "%s: %s", prefix, expect_text(k));
	else
		key_set(nic, k, &v, where, prefix, fx->diags);
	strv_free(&list);
	free(prefix);
	free(where);
	free(name);
}

/*
 * net.extra = ( { mode = ...; ... }, ... ): each group a NIC's net keys,
 * checked as the net group's are, its problems as "FILE:LINE:
 * net.extra[N].KEY: reason"; stored only when every one is fine.
 */
static void
nics_from_setting(struct file_ctx *fx, const config_setting_t *s,
    const char *where, const char *prefix)
{
	size_t before = fx->diags->n, n = 0;
	struct val v = { 0 };
	const config_setting_t *e;

	if (config_setting_type(s) != CONFIG_TYPE_LIST) {
		strv_pushf(fx->diags, "%s: %s", prefix, expected[T_NICS]);
		return;
	}
	if ((n = (size_t)config_setting_length(s)) > NIC_MAX - 1) {
		strv_pushf(fx->diags, "%s: %zu NICs, at most %d more", prefix,
		    n, NIC_MAX - 1);
		return;
	}
	v.nics = xcalloc(n ? n : 1, sizeof(*v.nics));
	v.nnics = n;
	for (size_t i = 0; i < n; i++) {
		config_init(&v.nics[i]);
		e = config_setting_get_elem(s, (unsigned)i);
		if (!config_setting_is_group(e)) {
			char *w = setting_where(fx, e);

			strv_pushf(fx->diags, "%s: net.extra[%zu]: expected a "
			    "group { mode = ...; }", w, i + 1);
			free(w);
			continue;
		}
		for (int m = 0; m < config_setting_length(e); m++)
			nic_setting(fx, &v.nics[i], i,
			    config_setting_get_elem(e, (unsigned)m));
	}
	if (fx->diags->n == before)
		key_put(fx->cfg, K_NET_EXTRA, &v, where);
	else
		nics_free(&v.nics, &v.nnics);
}

/* One setting inside group g ("qemu", "net", "test", or a group in one
 * of them: "net.vxlan"). */
static void
file_setting(struct file_ctx *fx, const char *g, const config_setting_t *s)
{
	if (config_setting_is_group(s) && strcmp(g, "net") == 0 &&
	    strcmp(config_setting_name(s), "vxlan") == 0) {
		for (int e = 0; e < config_setting_length(s); e++)
			file_setting(fx, "net.vxlan",
			    config_setting_get_elem(s, (unsigned)e));
		return;
	}
	file_setting_key(fx, g, s);
}

/* One key setting inside group g. */
static void
file_setting_key(struct file_ctx *fx, const char *g,
    const config_setting_t *s)
{
	char *name = xasprintf("%s.%s", g, config_setting_name(s));
	char *where = setting_where(fx, s);
	char *prefix = xasprintf("%s: %s", where, name);
	struct strv list = { 0 };
	struct val v;
	int k = profile_key_index(name);

	if (k < 0)
		unknown_key(fx->diags, prefix, name, false);
	else if (k == K_NET_EXTRA)
		nics_from_setting(fx, s, where, prefix);
	else if (val_from_setting(k, s, &v, &list) < 0)
		strv_pushf(fx->diags, "%s: %s", prefix, expect_text(k));
	else
		key_set(fx->cfg, k, &v, where, prefix, fx->diags);
	strv_free(&list);
	free(prefix);
	free(where);
	free(name);
}

/* Walk the whole tree in file order: groups, then their keys. */
static void
file_walk(struct file_ctx *fx, const config_setting_t *root)
{
	for (int i = 0; i < config_setting_length(root); i++) {
		const config_setting_t *g = config_setting_get_elem(root, i);
		const char *name = config_setting_name(g);
		char *where = setting_where(fx, g);
		size_t j;

		for (j = 0; j < ARRAY_SIZE(groups); j++)
			if (strcmp(name, groups[j]) == 0)
				break;
		if (j == ARRAY_SIZE(groups)) {
			char *prefix = xasprintf("%s: %s", where, name);

			unknown_key(fx->diags, prefix, name, true);
			free(prefix);
		} else if (!config_setting_is_group(g))
			strv_pushf(fx->diags, "%s: %s: expected a group", where,
			    name);
		else
			for (int e = 0; e < config_setting_length(g); e++)
				file_setting(fx, name,
				    config_setting_get_elem(g, e));
		free(where);
	}
}

/* Layer one file onto cfg; optional files may be missing. */
static void
file_load(struct config *cfg, const char *path, bool optional,
    struct strv *diags)
{
	struct file_ctx fx = { .cfg = cfg, .diags = diags };
	const char *why;
	config_t lc;
	char *w;

	if (conftext_read(&fx.ct, path, optional, diags) < 0)
		return;
	(config_init)(&lc);
	/* conftext_read() expanded every @include: should libconfig still
	 * find one, it is to open nothing, and /dev/null/x is no file. */
	config_set_include_dir(&lc, "/dev/null");
	if (config_read_string(&lc, fx.ct.text))
		file_walk(&fx, config_root_setting(&lc));
	else {
		why = config_error_text(&lc);
		w = conftext_where(&fx.ct, (size_t)config_error_line(&lc));
		strv_pushf(diags, "%s: syntax error%s%s", w,
		    strcmp(why, "syntax error") ? ": " : "",
		    strcmp(why, "syntax error") ? why : "");
		free(w);
	}
	config_destroy(&lc);
	conftext_free(&fx.ct);
}

/* ------------------------------------------------------------ layering */

/* /etc/qrun, or $QRUN_SYSCONF_DIR (tests) unless elevated for a user. */
char *
profile_sysconf_dir(bool privileged_for_other)
{
	const char *e = getenv("QRUN_SYSCONF_DIR");

	return xstrdup(!privileged_for_other && e && *e ? e : QRUN_SYSCONFDIR);
}

/* The names of the .conf files in dir (but skip), onto out, once each. */
static void
conf_names(const char *dir, const char *skip, struct strv *out)
{
	struct dirent *e;
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		char *name;

		if (len <= 5 || e->d_name[0] == '.' ||
		    strcmp(e->d_name + len - 5, ".conf") != 0)
			continue;
		name = xasprintf("%.*s", (int)(len - 5), e->d_name);
		if ((skip == NULL || strcmp(name, skip) != 0) &&
		    !strv_contains(out, name))
			strv_push(out, name);
		free(name);
	}
	closedir(d);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
profile_names(bool privileged_for_other, const char *home, struct strv *out)
{
	char *conf = profile_config_dir(privileged_for_other, home);
	char *sys = profile_sysconf_dir(privileged_for_other);
	char *prof = xasprintf("%s/profiles", sys);
	size_t first = out->n;

	conf_names(conf, "qrun", out);	/* qrun.conf: the defaults */
	conf_names(prof, NULL, out);
	qsort(out->v + first, out->n - first, sizeof(*out->v), cmp_str);
	free(prof);
	free(sys);
	free(conf);
}

/* The developer's qrun config dir: QRUN_CONFIG_DIR or XDG; when qrun
 * acts for another user, theirs under home, never the environment's. */
char *
profile_config_dir(bool privileged_for_other, const char *home)
{
	const char *e = getenv("QRUN_CONFIG_DIR");
	struct passwd *pw;

	if (privileged_for_other)
		return xasprintf("%s/.config/qrun", home && home[0] ? home :
		    "/nonexistent");
	if (e && *e)
		return xstrdup(e);
	if ((e = getenv("XDG_CONFIG_HOME")) && *e)
		return xasprintf("%s/qrun", e);
	if (!((e = getenv("HOME")) && *e))
		e = (pw = getpwuid(getuid())) ? pw->pw_dir : "/";
	return xasprintf("%s/.config/qrun", e);
}

/* -p: a path when it has a '/' or is an existing *.conf, else a NAME
 * looked up in the user's then the system's profiles. NULL (and a diag)
 * when there is no such profile. */
static char *
profile_path(const char *p, const char *confdir, const char *sysdir,
    struct strv *diags)
{
	size_t len = strlen(p);
	bool dotconf = len > 5 && strcmp(p + len - 5, ".conf") == 0;
	char *name, *a, *b, *found = NULL;

	if (strchr(p, '/') || (dotconf && access(p, F_OK) == 0))
		return xstrdup(p);
	name = xasprintf("%.*s", (int)(dotconf ? len - 5 : len), p);
	a = xasprintf("%s/%s.conf", confdir, name);
	b = xasprintf("%s/profiles/%s.conf", sysdir, name);
	if (access(a, F_OK) == 0)
		found = xstrdup(a);
	else if (access(b, F_OK) == 0)
		found = xstrdup(b);
	else
		strv_pushf(diags, "%s: no such profile (looked in %s, %s)", p,
		    a, b);
	free(name);
	free(a);
	free(b);
	return found;
}

/* The -o layer: "KEY=VALUE" (or "KEY+=VALUE") strings. */
static void
overrides_apply(struct config *cfg, const struct profile_src *src,
    struct strv *diags)
{
	const struct strv *o = src->overrides, *w = src->override_where;

	for (size_t i = 0; o && i < o->n; i++) {
		const char *eq = strchr(o->v[i], '=');
		const char *where = w && i < w->n ? w->v[i] : NULL;
		char *key;

		if (eq == NULL || eq == o->v[i]) {
			if (where)
				strv_pushf(diags, "%s: expected KEY=VALUE",
				    where);
			else
				strv_pushf(diags, "-o %s: expected KEY=VALUE",
				    o->v[i]);
			continue;
		}
		key = xasprintf("%.*s", (int)(eq - o->v[i]), o->v[i]);
		profile_set(cfg, key, eq + 1, where, diags);
		free(key);
	}
}

int
profile_load(struct config *cfg, const struct profile_src *src,
    struct strv *diags)
{
	bool priv = src ? src->privileged_for_other : false;
	char *sysdir = profile_sysconf_dir(priv);
	char *confdir = profile_config_dir(priv, src ? src->home : NULL);
	char *path, *prof = NULL;
	size_t before = diags->n;

	config_free(cfg);
	config_init(cfg);
	path = xasprintf("%s/qrun.conf", sysdir);
	file_load(cfg, path, true, diags);
	free(path);
	path = xasprintf("%s/qrun.conf", confdir);
	file_load(cfg, path, true, diags);
	free(path);
	if (src && src->profile &&
	    (prof = profile_path(src->profile, confdir, sysdir, diags)))
		file_load(cfg, prof, false, diags);
	if (src)
		overrides_apply(cfg, src, diags);
	free(prof);
	free(confdir);
	free(sysdir);
	return diags->n > before ? -EINVAL : 0;
}
