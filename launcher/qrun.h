/*
 * qrun.h - the one private header of qrun. doc/design.md explains the
 * layers and the life of a run; in short, top to bottom:
 *   command  main.c, cmd_*.c: options, decisions, every message
 *   pure     profile.c (files read by conftext.c), netplan.c + mode_*.c
 *            (plan), qemu.c, addr.c, netem.c
 *   host     net.c (tun + rtnetlink), tc.c (qdiscs), change.c (host
 *            changes as journal records), journal.c, lock.c, share.c,
 *            tapdev.c, mode_*.c (ensure), bridge.c, vxlan.c, impair.c,
 *            hostaddr.c, runnet.c, priv.c, access.c
 *   VM       loop.c (the one event loop, signals), vm.c (QEMU and its
 *            console), batch.c, ready.c: loop participants; qmp.c, repl.c
 *
 * Lower layers return 0 or -errno (one sentence in a why buffer where a
 * reason helps) and print nothing; the command layer prints once,
 * prefixed "qrun: ".
 */
#ifndef QRUN_H
#define QRUN_H

#include <errno.h>
#include <net/if.h>
#include <regex.h>
#include <stdio.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The Makefile passes the version of debian/changelog's newest entry. */
#ifndef QRUN_VERSION
#define QRUN_VERSION "unknown"
#endif

/* Exit status, qrun(1) EXIT STATUS. */
enum {
	EXIT_OK = 0,
	EXIT_GUEST = 1,		/* guest failure */
	EXIT_TIMEOUT = 124,
	EXIT_QRUN = 125,	/* profile, network, privilege, lock */
	EXIT_NOEXEC = 126,	/* QEMU not executable */
	EXIT_NOTFOUND = 127,	/* QEMU not found */
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------- util.c */

/* A growable list of owned strings (argv vectors, diagnostics, lists). */
struct strv {
	char **v;		/* NULL-terminated when n > 0 */
	size_t n;
	size_t cap;
};

void strv_push(struct strv *, const char *);
/* Push s itself (malloc'ed; the list owns it from now on). */
void strv_take(struct strv *, char *s);
void strv_pushf(struct strv *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void strv_free(struct strv *);
int strv_contains(const struct strv *, const char *);
/* The strings with sep between them, in one new string. */
char *strv_join(const struct strv *, const char *sep);

void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
char *xstrdup(const char *);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Shell-quote one word so it can be pasted into sh; returns malloc'd. */
char *shell_quote(const char *);

/* Valid interface name: 1..IFNAMSIZ-1 bytes, no '/', whitespace, "..". */
int ifname_check(const char *name, const char **why);

int parse_mac(const char *s, uint8_t mac[6]);
/* A user's POSIX extended regex (REG_NOSUB), refusing ones that would
 * take glibc exponential time; 0, or -EINVAL with the reason in why. */
int regex_compile(regex_t *, const char *pat, char *why, size_t len);
/* Milliseconds on the monotonic clock. */
long mono_ms(void);
/* Close *fd unless it is -1, and make it -1. */
void fd_close(int *fd);
/* Up to len bytes of fd from offset 0 (short reads and EINTR retried):
 * how many, fewer only at the end of the file; or -errno. */
ssize_t read_all(int fd, void *buf, size_t len);
/* Parse a decimal integer in [min, max]; 0 or -EINVAL/-ERANGE. */
int parse_long(const char *s, long min, long max, long *out);
/* Edit distance for "did you mean": insertions, deletions, substitutions
 * and swaps of neighbours cost 1 ("stauts" is 1 from "status"); SIZE_MAX
 * for words of 64 bytes or more. */
size_t str_distance(const char *a, const char *b);
/* The candidate nearest to word, or NULL when none is within max edits
 * (0: by the word's length, 1 to 3); ties go to the first. */
const char *str_nearest(const char *word, const struct strv *cands,
    size_t max);
/* mkdir -p dir, new directories with mode. 0 or -errno. */
int path_mkdirs(const char *dir, mode_t mode);
/* Find a command name in path (a $PATH; NULL or "": /usr/bin:/bin) as
 * sh does, into out: 0 (found, executable), -EACCES (found, but not
 * executable: out names it), -ENOENT (nowhere; directories we may not
 * search have nothing). A name with a '/' is itself (0). */
int path_search(const char *name, const char *path, char *out, size_t len);

/* ---------------------------------------------------------------- addr.c */

/* An IPv4 or IPv6 address with its prefix: the family is data. */
#define IPADDR_STRLEN	(INET6_ADDRSTRLEN + 4)
enum { IPA_PREFIX = 1, IPA_NOPREFIX = 2, IPA_V4 = 4, IPA_V6 = 8 };

struct ipaddr {
	int family;		/* AF_INET, AF_INET6; 0 = none */
	int prefix;		/* 0..32 or 0..128; -1 = none */
	union {
		struct in_addr v4;
		struct in6_addr v6;
		uint8_t b[16];
	} u;
};

/* "A" or "A/P"; flags: IPA_V4/IPA_V6 (default: either), IPA_PREFIX
 * (required), IPA_NOPREFIX (refused). 0 or -EINVAL. */
int ipaddr_parse(const char *s, int flags, struct ipaddr *);
/* "A" and "A/P" into buf[IPADDR_STRLEN]; "-" for none. */
const char *ipaddr_str(const struct ipaddr *, char *buf);
const char *ipaddr_cidr(const struct ipaddr *, char *buf);
int ipaddr_bits(const struct ipaddr *);	/* 32, 128; 0 for none */
void ipaddr_v4(struct ipaddr *, struct in_addr, int prefix);
struct ipaddr ipaddr_net(const struct ipaddr *);	/* masked */
bool ipaddr_eq(const struct ipaddr *, const struct ipaddr *);
bool ipaddr_same(const struct ipaddr *, const struct ipaddr *);
bool ipaddr_contains(const struct ipaddr *net, const struct ipaddr *);
bool ipaddr_overlap(const struct ipaddr *, const struct ipaddr *);
struct ipaddr ipaddr_add(const struct ipaddr *, long n);
const char *ipaddr_mask4(int prefix, char *buf);
/* Why a can be no host interface's address (loopback, multicast, ...),
 * or NULL. */
const char *ipaddr_refuse(const struct ipaddr *);
bool ipaddr_private(const struct ipaddr *);
/* The SLAAC (modified EUI-64) address of mac in prefix's /64. */
struct ipaddr ipaddr_eui64(const struct ipaddr *prefix, const uint8_t mac[6]);

/* ------------------------------------------------------------- profile.c */

enum net_mode { NET_USER, NET_TAP, NET_BRIDGE, NET_NONE, NET_SWITCH };

/*
 * Keys of the schema, in the order of profile.c's table. struct config
 * records where each key's value came from, for error messages.
 */
enum cfg_key {
	K_QEMU_BINARY, K_QEMU_ACCEL, K_QEMU_MEMORY, K_QEMU_CPUS,
	K_QEMU_INITRD, K_QEMU_APPEND, K_QEMU_ARGS, K_QEMU_SHARE,
	K_QEMU_SNAPSHOT,
	K_NET_MODE, K_NET_TAP, K_NET_HOST_ADDR, K_NET_GUEST_ADDR, K_NET_MAC,
	K_NET_MODEL, K_NET_BRIDGE, K_NET_FORWARDS, K_NET_KEEP, K_NET_CAPTURE,
	K_NET_DHCP, K_NET_DNS,
	K_NET_IPV6, K_NET_HOST_ADDR6, K_NET_GUEST_ADDR6, K_NET_NAT,
	K_NET_KERNEL_IP,
	K_NET_NETEM, K_NET_VHOST, K_NET_QUEUES,
	K_NET_SLOT, K_NET_VXLAN_VNI, K_NET_VXLAN_REMOTES, K_NET_VXLAN_DEV,
	K_NET_VXLAN_LOCAL, K_NET_EXTRA,
	K_TEST_TIMEOUT, K_TEST_EXPECT, K_TEST_FAIL, K_TEST_SUCCESS_CODE,
	K_TEST_READY, K_TEST_SERIAL_LOG, K_TEST_GDB, K_TEST_GDB_WAIT,
	K_TEST_KTAP, K_TEST_JUNIT,
	K_COUNT
};

/* qemu.memory = "auto": 256 MiB, or what the kernel and initrd need
 * (qemu_memory_auto). */
#define QEMU_MEMORY_AUTO	0
#define QEMU_MEMORY_DEFAULT	256
/* test.gdb: -1 no stub, "auto" (stored as 0) a free port, else the port. */
#define GDB_OFF		-1
#define GDB_AUTO	0
/* qemu.share: host directories in the guest (hostdir.c). */
#define SHARE_MAX	8

struct config {
	char *qemu_binary;
	char *qemu_accel;	/* "kvm", "tcg", "kvm:tcg" */
	long qemu_memory;	/* MiB, or QEMU_MEMORY_AUTO */
	long qemu_cpus;
	char *qemu_initrd;	/* "" = none */
	char *qemu_append;
	struct strv qemu_args;
	struct strv qemu_share;	/* "DIR[:TAG][:ro][:9p]" each */
	bool qemu_snapshot;	/* -snapshot: disk writes thrown away */

	enum net_mode net_mode;
	char *net_tap;
	char *net_host_addr;	/* "" = derive from the tap number */
	char *net_guest_addr;	/* "" = derive from the tap number */
	char *net_mac;		/* "" = derive from tap and user */
	char *net_model;
	char *net_bridge;
	struct strv net_forwards;
	bool net_keep;
	char *net_capture;	/* "" = none */
	bool net_dhcp;		/* tap: dnsmasq serves DHCP on the link */
	bool net_dns;		/* with net_dhcp: and DNS */
	bool net_ipv6;		/* tap: host_addr6 on the link */
	char *net_host_addr6;	/* "" = derive from the tap number */
	char *net_guest_addr6;	/* "" = the guest MAC's SLAAC address */
	bool net_nat;		/* masquerade the guest's networks */
	bool net_kernel_ip;	/* ip= on a -kernel boot's command line */
	char *net_netem;	/* tc-netem words; "" = none */
	char *net_vhost;	/* "auto", "on", "off" */
	long net_queues;	/* 1..QUEUE_MAX */
	long net_slot;		/* switch: 1..SLOT_MAX, 0 = the first free */
	long net_vxlan_vni;	/* switch: its VXLAN port, 0 = none */
	struct strv net_vxlan_remotes;
	char *net_vxlan_dev;	/* "" = the route's */
	char *net_vxlan_local;	/* "" = none */
	/* net.extra: more NICs, each the net keys of one group (the others
	 * at their defaults, where[] "FILE:LINE" of those it set) */
	struct config *net_extra;
	size_t net_nextra;

	long test_timeout;	/* seconds, 0 = none */
	char *test_expect;	/* "" = none */
	char *test_fail;	/* "" = none */
	long test_success_code;	/* -1 = none */
	char *test_ready;	/* "" = none */
	char *test_serial_log;	/* "" = none */
	long test_gdb;		/* GDB_OFF, GDB_AUTO or a port */
	bool test_gdb_wait;	/* the CPU starts stopped (implies a stub) */
	bool test_ktap;		/* read KTAP from the console (ktap.c) */
	char *test_junit;	/* "" = none; else JUnit XML here (and ktap) */

	/* "FILE:LINE", "-o KEY", "--option" or "default", per key. */
	char *where[K_COUNT];
	bool batch;	/* any of timeout/expect/success_code/ready/ktap
			 * set: the profile asks for a batch run (a boot's
			 * qemu_opts.batch, with --run) */
};

/* Where profiles come from; all NULL = the standard places. */
struct profile_src {
	const char *profile;		/* -p NAME|PATH, or NULL */
	const struct strv *overrides;	/* "KEY=VALUE" (-o and options) */
	const struct strv *override_where; /* parallel: "-o KEY", "--timeout" */
	bool privileged_for_other;	/* ignore QRUN_* environment */
	const char *home;		/* the developer's, when privileged */
};

/* Load and validate. Every problem is appended to diags as a full
 * "FILE:LINE: KEY: reason" line (without "qrun: "). Returns 0 or -EINVAL.
 * cfg must be config_init'ed (or zeroed, or hold an earlier load): it is
 * reset to the defaults first. config_free() it in every case.
 * $QRUN_SYSCONF_DIR replaces /etc/qrun (for tests) unless
 * privileged_for_other. */
int profile_load(struct config *, const struct profile_src *,
    struct strv *diags);
/*
 * libconfig exports a config_init(config_t *) too, and calls it itself from
 * config_read_file(): a global of ours with that name would be called in
 * its place. So ours is really qrun_config_init; callers write
 * config_init(&cfg) as usual. A file that uses libconfig includes
 * <libconfig.h> before qrun.h and calls libconfig's as (config_init)(&lc).
 */
#define config_init(cfg) qrun_config_init(cfg)
void config_init(struct config *);	/* built-in defaults */
void config_free(struct config *);
const char *net_mode_name(enum net_mode);
/* Look up a key by its dotted name; -1 when unknown. */
int profile_key_index(const char *name);
const char *profile_key_name(int idx);
/* Is key idx a list (set by "KEY+=VALUE" one element at a time)? */
bool profile_key_list(int idx);
/* The key a typo most likely meant ("qemu.memroy": qemu.memory), or
 * NULL; as -o and set suggest. */
const char *profile_key_nearest(const char *name);
/* Set one key from text (the -o path), recording where. 0 or -EINVAL
 * with the reason appended to diags. A where starting with '-' names the
 * key itself ("-o net.tap", "--timeout"): diags read "WHERE: reason";
 * any other where ("FILE:LINE", "set") reads "WHERE: KEY: reason".
 * where NULL means "-o KEY". Key "K+" appends one element to list K. */
int profile_set(struct config *, const char *key, const char *value,
    const char *where, struct strv *diags);
/* Render a key's current value as text (for show/--dry-run). */
char *profile_get(const struct config *, int idx);
/* The config dir: QRUN_CONFIG_DIR or XDG; elevated for a user, home's
 * .config/qrun. Malloc'd. */
char *profile_config_dir(bool privileged_for_other, const char *home);
/* /etc/qrun, or $QRUN_SYSCONF_DIR (tests) unless elevated for a user. */
char *profile_sysconf_dir(bool privileged_for_other);
/* The profile NAMEs -p finds (the config dir's NAME.conf but qrun.conf,
 * the system profiles), sorted, appended to out. */
void profile_names(bool privileged_for_other, const char *home,
    struct strv *out);

/* ------------------------------------------------------------ conftext.c */

/* Limits of one profile file with its includes, qrun.conf(5). */
#define CONFTEXT_MAX (1024 * 1024)	/* bytes read */
#define CONFTEXT_FILES 256		/* files read, each time counted */
#define CONFTEXT_DEPTH 8		/* levels of @include */
#define CONFTEXT_SETTINGS 1024		/* "name = value" and groups */

/* A profile file's text with its @includes expanded, and where each of
 * its lines comes from. */
struct conftext {
	char *text;			/* for config_read_string() */
	size_t len, cap;
	struct strv files;		/* as named in diags */
	struct conftext_seg *seg;	/* the line map */
	size_t nseg, segcap;
};

/* Read path, @includes relative to the file that names them, only
 * regular files, within the limits above. 0; -EINVAL with each problem
 * appended to diags as "FILE:LINE: why" or "PATH: why"; -ENOENT (no diag)
 * when optional and path does not exist. conftext_free() it after 0. */
int conftext_read(struct conftext *, const char *path, bool optional,
    struct strv *diags);
/* "FILE:LINE" of line (from 1) of the text. Malloc'd. */
char *conftext_where(const struct conftext *, size_t line);
void conftext_free(struct conftext *);

/* --------------------------------------------------------------- netem.c */

/* A link impairment, as tc-netem(8) words say it (net.netem). */
struct netem {
	bool on;		/* any words at all: qdiscs on the link */
	uint32_t delay_us, jitter_us;
	uint32_t loss, duplicate, reorder;	/* UINT32_MAX = 100% */
	uint32_t rate;		/* bytes per second; 0 = no limit */
};

/* Pure: "delay TIME [JITTER] loss PERCENT duplicate PERCENT reorder
 * PERCENT rate RATE", any of them, in any order ("" = none). 0, or
 * -EINVAL with one sentence in why. */
int netem_parse(const char *spec, struct netem *, char *why, size_t whylen);

/* ------------------------------------------------------------------ tc.c */

/*
 * Traffic control of one link, through libnl-route-3: netem as its root
 * qdisc, an ingress qdisc, and on that a filter redirecting everything
 * the link receives to another link (an ifb). 0 or -errno.
 */
enum tc_where { TC_ROOT, TC_INGRESS };

struct net;
/* netem root qdisc: create (-EEXIST when the link has another root
 * qdisc than the default) or change (-ENOENT when there is none). */
int tc_netem(struct net *, int ifindex, const struct netem *, bool create);
int tc_ingress_add(struct net *, int ifindex);
/* Delete the qdisc at where (-ENOENT when there is only the default). */
int tc_qdisc_del(struct net *, int ifindex, enum tc_where);
/* The kind of the qdisc at where into kind ("" for the default). */
int tc_qdisc_kind(struct net *, int ifindex, enum tc_where,
    char kind[16]);
/* On link ifindex's ingress: everything to link to (mirred redirect). */
int tc_redirect_add(struct net *, int ifindex, int to);
int tc_redirect_del(struct net *, int ifindex);

/* --------------------------------------------------------------- image.c */

enum image_type {
	IMG_BZIMAGE, IMG_MULTIBOOT, IMG_MULTIBOOT2, IMG_ELF,
	IMG_QCOW2, IMG_ISO, IMG_MBR, IMG_RAW,
};

/* Detect by content. 0, or -errno (-ENOENT, -EISDIR, -EACCES,
 * -ENODATA for empty, -EINVAL for unknown). */
int image_detect(const char *path, enum image_type *);
const char *image_type_name(enum image_type);
bool image_is_kernel(enum image_type);

/* ------------------------------------------------------------- bootmem.c */

/* An initrd's compressed part whose unpacked size it does not record is
 * taken to unpack to at most this many times its size (measured: gzip
 * and lz4 about 3, xz 5). */
#define BOOTMEM_RATIO	6

/* The kernel's footprint while it starts: a bzImage's init_size (boot
 * protocol 2.10+), else its size (4x for an older bzImage). 0 or -errno. */
int bootmem_kernel(const char *path, enum image_type, uint64_t *bytes);
/* An initrd's size, and what it unpacks to: exact for plain cpio and
 * zstd frames that record their size, else BOOTMEM_RATIO x the rest.
 * 0 or -errno. */
int bootmem_initrd(const char *path, uint64_t *size, uint64_t *unpacked);

/* ------------------------------------------------------------- netplan.c */

/*
 * The network plan: one struct nic per guest NIC, decided from the
 * profile (pure), then finished from read-only host facts (a bridge's
 * networks), then const: the host is changed after it, and --dry-run
 * prints exactly what a run does. What a mode does is its struct
 * netmode (netplan.c's table): a new mode is one file and one row.
 */
#define NIC_MAX		8
#define NETPLAN_TAP_MAX	11	/* tap11 -> 172.31, the last private /16 */
#define QUEUE_MAX	16	/* net.queues: a tap's queues for QEMU */
#define FWD_MAX		32	/* net.forwards of a NIC */
#define SLOT_MAX	253	/* a switch's slots: guests .2 to .254 */

enum vhost { VHOST_AUTO, VHOST_ON, VHOST_OFF };

struct forward {
	char proto[4];		/* "tcp" or "udp" */
	uint16_t host_port;
	uint16_t guest_port;
};

#define VXLAN_REMOTES_MAX	32

/* A VXLAN port to other hosts (vxlan.c): what "--vxlan VNI --remote
 * ADDR[,ADDR...] [--dev IF] [--local ADDR]" or a switch's net.vxlan asks
 * for. */
struct vxlan_conf {
	uint32_t vni;		/* 0: none */
	struct ipaddr remote[VXLAN_REMOTES_MAX];	/* one family */
	size_t nremote;
	char dev[IFNAMSIZ];	/* the underlay; "": the route's */
	struct ipaddr local;	/* family 0 = none */
};

struct netmode;

struct nic {
	const struct netmode *mode;
	int index;		/* QEMU netdev "n<index>" */
	char tap[IFNAMSIZ];	/* a host tap (netmode.host_tap) */
	char bridge[IFNAMSIZ];
	struct ipaddr host;	/* the host side's address, prefix = network */
	struct ipaddr guest;	/* the guest's; family 0 = not known; prefix
				 * -1 = its network not known (yet) */
	struct ipaddr gw;	/* family 0 = none */
	struct ipaddr host6;	/* IPv6 on the link (net.ipv6): the host's
				 * /64 address; family 0 = none */
	struct ipaddr guest6;	/* the guest's: SLAAC (EUI-64) by default */
	bool v6_default;	/* host6 is tapN's default, not asked for */
	bool nat;		/* net.nat: masquerade the guest's networks */
	bool dhcp;		/* net.dhcp: dnsmasq on the link (DHCP, and
				 * with host6 router advertisements and
				 * DHCPv6) */
	bool dns;		/* net.dns: that dnsmasq answers DNS too */
	bool sw_dhcp;		/* switch: net.dhcp, the switch's dnsmasq
				 * (started by its first holder; dhcp stays
				 * false) */
	bool dhcp_asked;	/* net.dhcp or net.dns set, not a default: a
				 * dnsmasq this qrun cannot start is an
				 * error, not a note */
	char dhcp_off[256];	/* the host facts turned dhcp and dns off:
				 * why, for the note (dnsmasq missing, no
				 * privileges); "" = not */
	uint8_t mac[6];
	char model[64];
	char lan[96];		/* bridged: the bridge's IPv4 networks, from
				 * the host facts ("" = none) */
	struct forward fwd[FWD_MAX];	/* host_port 0: qrun picks one
					 * (the claim) */
	size_t nfwd;
	bool tap_auto;		/* net.tap "auto": nic->tap is the claim's */
	bool mac_given;		/* net.mac set it (else derived from the tap) */
	int sw;			/* switch: N of qbrN, the developer's tap
				 * number; -1: no switch */
	int slot;		/* switch: 1..SLOT_MAX, 0: the claim's
				 * (first free) */
	struct vxlan_conf vx;	/* switch: net.vxlan (vni 0: none) */
	bool plain_frames;	/* net.capture: the tap without IFF_VNET_HDR
				 * (QEMU 7.2's filter-dump would write the
				 * virtio-net header into the pcap) */
	unsigned mtu;		/* bridged: the bridge's MTU (a host fact,
				 * told to a virtio guest); 0 = unknown */
	struct netem netem;	/* net.netem: the link's impairment */
	int queues;		/* net.queues: 1, or a multiqueue tap */
	enum vhost vhost;	/* net.vhost as asked */
	bool vhost_on;		/* as decided (netplan_vhost) */
};

/* What QEMU gets for one NIC: the tap's open queues (tap[0] < 0: none,
 * the pasteable ifname= form of --dry-run) and, with vhost, an open
 * /dev/vhost-net per queue (-1: none). */
struct nicfds {
	int tap[QUEUE_MAX];
	int vhost[QUEUE_MAX];
};

struct netplan {
	struct nic nic[NIC_MAX];
	size_t n;		/* 0: no network at all (mode none) */
	bool keep;		/* net.keep: leave the changes in place */
};

struct net;
struct journal;
struct priv;

struct share;

/* What qrun may change on the host, for a mode's ensure. */
struct host {
	struct net *net;
	struct journal *j;
	const struct priv *pv;
	struct share *sh;	/* the NIC's hold on a shared resource (its
				 * switch), dropped by runnet_down */
};

/* A switch slot held (slot.c). */
struct slot {
	int k;			/* 1..SLOT_MAX; 0: none held */
	int lock_fd;		/* the tap's lock */
	int semid;		/* the index; -1: none */
};

/*
 * What a NIC takes against other runs before its plan is final (a mode's
 * claim), held until runnet_down: a switch's slot, a tap no run holds
 * (net.tap "auto"), free host ports (user mode, "tcp:0:PORT").
 */
struct claim {
	const char *state;	/* the state dir */
	const struct priv *pv;
	bool dry;		/* --dry-run: look what a run would take now,
				 * take nothing */
	int lock_fd;		/* the lock of the NIC's tap (lock.c), -1:
				 * none; runnet_up keeps it */
	pid_t prev;		/* its last holder: runnet_up replays that
				 * journal if the run died */
	struct slot slot;	/* a switch slot held (slot.c), k 0: none */
	int port_fd[FWD_MAX];	/* sockets keeping picked host ports */
	size_t nport;
};

struct netmode {
	const char *name;	/* "tap", as in net.mode */
	enum net_mode id;
	bool host_tap;		/* a tap of the developer's on the host:
				 * locked, made true, its queue to QEMU */
	bool slirp;		/* behind QEMU's slirp: the host cannot
				 * ping the guest; tcp goes via forwards */
	/* Pure: fill nic from the profile; each problem appended to diags. */
	void (*plan)(const struct config *, const char *user, struct nic *,
	    struct strv *diags);
	/* Read what the plan needs from the host and finish it (NULL:
	 * nothing to read). Reads only. 0 or -errno, one sentence in why. */
	int (*facts)(struct net *, struct nic *, char *why, size_t whylen);
	/* Take what the NIC shares with other runs into cl and finish the
	 * plan with it (NULL: nothing to take); with cl->dry only look. 0
	 * or -errno, one sentence in why. */
	int (*claim)(struct claim *cl, struct nic *, char *why,
	    size_t whylen);
	/* Make the host side true, every change journaled first; the tap's
	 * open queue (or -1) in *fd, also when it fails (the caller closes
	 * it after the undo). 0 or -errno, one sentence in why. */
	int (*ensure)(const struct host *, const struct nic *, int *fd,
	    char *why, size_t whylen);
	/* Pure: QEMU's -netdev value for the NIC (f: its open files, or
	 * NULL for the pasteable ifname= form); NULL: no netdev ("-nic
	 * none"). */
	char *(*netdev)(const struct nic *, const struct nicfds *f);
	/* Pure: the one-line hint, without "qrun: ". */
	char *(*hint)(const struct nic *);
	/* Pure: what a run would do to the host, for --dry-run; NULL:
	 * nothing. */
	char *(*would)(const struct nic *, const char *user);
};

extern const struct netmode netmode_user, netmode_tap, netmode_bridge,
    netmode_switch;
/* mode_tap.c: net.dhcp and net.dns into nic (a switch's plan too). */
void tap_plan_dhcp(const struct config *, struct nic *, struct strv *);

/* Pure: decide the NICs from the profile. user is the developer's login
 * name (for the stable MAC). Problems go to diags. 0 or -EINVAL. */
int netplan_make(const struct config *, const char *user,
    struct netplan *, struct strv *diags);
/* The default host address for tapN, N = 0..11: 172.(20+N).0.1/16, and
 * the guest's, .0.2. */
int netplan_tap_default(const char *tap, struct ipaddr *host,
    struct ipaddr *guest);
/* tapN's IPv6 side: fd00:172:(20+N)::1/64 (tap1: fd00:172:21::1/64). */
int netplan_tap_default6(const char *tap, struct ipaddr *host6);
void netplan_mac(const char *tap, const char *user, uint8_t mac[6]);
/* Shared by the modes' plan functions: net.tap (and net.bridge when
 * bridge) checked into nic; 0 or -EINVAL with a diag. */
int netplan_names(const struct config *, struct nic *, bool bridge,
    struct strv *diags);
/* Pure: finish a switch NIC with slot k (its claim's): tap qtapN-k,
 * guest 172.(20+N).0.(k+1) and its SLAAC address, the MAC derived from
 * (qtapN-k, user) unless net.mac set it. */
void netplan_take_slot(struct nic *, int k, const char *user);
/* Pure: finish a tap NIC whose tap net.tap "auto"'s claim took: tapN's
 * lab addresses (IPv6 too unless off), the MAC from (tap, user). */
void netplan_take_tap(struct nic *, const char *tap, const char *user);
/* Pure: decide vhost for every NIC (net.vhost "auto": when usable, i.e.
 * /dev/vhost-net opens, and the accelerator is KVM), once the
 * accelerator is known. */
void netplan_vhost(struct netplan *, const char *accel, bool usable);
/* "ip=GUEST::GW:MASK:::off" (no device: the guest's first NIC, whatever
 * it is named) or NULL when there is nothing to say. */
char *netplan_kernel_ip(const struct netplan *);
/* The hint lines, without "qrun: ", "\n"-separated. */
char *netplan_hint(const struct netplan *);
/* The NIC the readiness probe and --run talk to (the first one), or
 * NULL when there is no network. */
const struct nic *netplan_main(const struct netplan *);
/* "52:54:00:12:34:56" into buf[18]. */
const char *mac_str(const uint8_t mac[6], char *buf);

/* ------------------------------------------------------------- hostdir.c */

/*
 * A host directory in the guest (qemu.share "DIR[:TAG][:ro][:9p]"):
 * virtiofs through a virtiofsd qrun starts (virtiofsd.c), or 9p served
 * by QEMU itself. Pure; the path is resolved as the user by virtiofsd.c.
 */
#define HOSTDIR_TAG_MAX		31
#define HOSTDIR_PATH_MAX	4096
#define VIRTIOFSD_PATH		"/usr/lib/qemu/virtiofsd"

enum hostdir_fs { HOSTDIR_VIRTIOFS, HOSTDIR_9P };

struct hostdir {
	char path[HOSTDIR_PATH_MAX];	/* as given; once checked, absolute */
	char tag[HOSTDIR_TAG_MAX + 1];	/* "qrun0" */
	bool ro;
	enum hostdir_fs fs;
};

struct hostdirs {
	struct hostdir d[SHARE_MAX];
	size_t n;
};

/* One "DIR[:TAG][:ro][:9p]", the index-th (its default tag qrunINDEX).
 * 0, or -EINVAL with why. */
int hostdir_parse(const char *spec, size_t index, struct hostdir *,
    char *why, size_t whylen);
/* Every share of the list, tags unique; each problem appended to why.
 * 0 or -EINVAL. */
int hostdirs_make(const struct strv *specs, struct hostdirs *,
    struct strv *why);
/* Is any of them virtiofs (QEMU's memory shared with virtiofsd)? */
bool hostdirs_virtiofs(const struct hostdirs *);
/* QEMU's arguments for the shares: fds[i], the socket connected to share
 * i's virtiofsd, or fds NULL for the pasteable path= form; memory is
 * -m's MiB (the shared memory backend's size). */
void hostdirs_argv(const struct hostdirs *, const int *fds, long memory,
    struct strv *argv);
/* "share DIR -> guest: mount -t virtiofs qrun0 /mnt" (no "qrun: "). */
char *hostdir_hint(const struct hostdir *);
/* What --dry-run says a run would start for it. */
char *hostdir_would(const struct hostdir *, const char *user);

/* ------------------------------------------------------------- gdbstub.c */

/* QEMU's gdb stub on 127.0.0.1: listen on port want (0: any free one),
 * *fd the socket QEMU inherits, *port the port. 0 or -errno with why
 * ("gdb: port 1234 on 127.0.0.1 is in use"). */
int gdb_listen(long want, int *fd, long *port, char *why, size_t whylen);
/* "gdb: gdb vmlinux -ex 'target remote 127.0.0.1:PORT'" (the kernel
 * tree's vmlinux when image is its arch/x86/boot/bzImage), malloc'd. */
char *gdb_hint(const char *image, bool kernel, long port, bool wait);

/* ---------------------------------------------------------------- qemu.c */

struct qemu_opts {
	const char *image;
	enum image_type type;
	const char *accel;	/* resolved: "kvm" or "tcg" */
	const struct nicfds *fds;	/* per NIC, its open files (-netdev
				 * tap,fd=N); NULL: by name (--dry-run) */
	long memory;		/* resolved MiB; 0: qemu.memory, or 256 */
	int qmp_fd;		/* > 0: QMP on this inherited socket; 0 = none
				 * (fd 0 is stdin, never a socket of ours) */
	bool batch;		/* this run is a batch run: -no-reboot, and
				 * panic=-1 for a kernel (never the shell's:
				 * reboot is its point) */
	const struct hostdirs *dirs;	/* qemu.share, checked; NULL: none */
	const int *dir_fds;	/* per share, the virtiofsd socket QEMU
				 * inherits; NULL: the pasteable path= form */
	int gdb_fd;		/* > 0: the gdb stub's listening socket,
				 * inherited; else gdb_port's tcp: form */
	long gdb_port;		/* test.gdb as decided: 0 = no stub */
	const struct strv *extra;	/* after "--" */
};

/* Pure: the whole argv, argv.v[0] = qemu.binary. */
void qemu_argv(const struct config *, const struct netplan *,
    const struct qemu_opts *, struct strv *argv);
/* qemu.memory = "auto" for a -kernel boot: what the kernel (kernel,
 * from bootmem_kernel), the initrd (its size and what it unpacks to,
 * from bootmem_initrd) and running need, at least 256 MiB. */
long qemu_memory_auto(const struct config *, uint64_t kernel,
    uint64_t initrd, uint64_t unpacked);
/* "kvm:tcg" -> "kvm" when kvm_usable, else "tcg". */
const char *qemu_accel_pick(const char *accel, bool kvm_usable);
/* /dev/vhost-net opens read-write (accel.c) */
bool accel_vhost_usable(void);
/* The argv as one shell-quoted line; malloc'd. */
char *qemu_cmdline(const struct strv *argv);
/* QEMU option values escape ',' by doubling it; malloc'd. */
char *qemu_optval(const char *);

/* --------------------------------------------------------------- accel.c */

/*
 * Can KVM run a guest here? A probe runs the profile's QEMU with -accel
 * kvm on a tiny multiboot kernel that writes ACCEL_PROBE_CODE to
 * isa-debug-exit, killed after ACCEL_PROBE_MS; the answer is cached in
 * the developer's cache dir per boot, QEMU binary, /dev/kvm and groups.
 */
struct priv;

#define ACCEL_PROBE_CODE	0x2a
#define ACCEL_PROBE_MS		3000

enum accel_verdict {
	ACCEL_NONE,		/* not probed */
	ACCEL_KVM,		/* the guest ran under KVM */
	ACCEL_HANG,		/* it did not finish in ACCEL_PROBE_MS */
	ACCEL_FAIL,		/* QEMU could not use KVM (why says) */
};

struct accel_probe {
	enum accel_verdict verdict;
	long ms;		/* what the probe took */
	bool cached;		/* the answer came from the cache */
	char why[160];		/* ACCEL_FAIL: QEMU's last line on stderr */
};

/* What a probe's answer depends on. */
struct accel_key {
	char boot[40];		/* /proc/sys/kernel/random/boot_id */
	char qemu[512];		/* the binary's absolute path */
	uint64_t dev, ino;
	int64_t mtime_s;
	long mtime_ns;
	uint64_t kvm_ino;	/* /dev/kvm; 0: none */
	int64_t kvm_ctime_s;
	long kvm_ctime_ns;
	uint32_t groups;	/* hash of the groups QEMU runs with */
};

/* The accelerator for QEMU's -accel: qemu.accel, or for "kvm:tcg" what
 * accel_kvm says (p->verdict ACCEL_NONE when it did not ask). */
const char *accel_pick(const struct config *, const struct priv *,
    struct accel_probe *p);
/* Probe (or find in the cache) whether binary runs guests under KVM.
 * 0, or -errno when binary cannot be found (why says). */
int accel_kvm(const char *binary, const struct priv *,
    struct accel_probe *p);
/* The developer's cache dir, malloc'd; NULL when they have none. */
char *accel_cache_dir(const struct priv *);
/* The decision in words, for doctor and -v; malloc'd. */
char *accel_describe(const struct accel_probe *);
/* Pure, for the tests: the probe kernel (0 when len is too small); a
 * key as cache text (NULL when it cannot be one); a key's answer in a
 * cache's text (0 or -ENOENT); the cache's new text with p for key;
 * what a probe's wait status, deadline and stderr mean. */
size_t accel_probe_kernel(uint8_t *buf, size_t len);
char *accel_key_text(const struct accel_key *);
int accel_cache_find(const char *text, const char *key,
    struct accel_probe *p);
char *accel_cache_update(const char *text, const char *key,
    const struct accel_probe *p);
void accel_interpret(int status, bool timed_out, const char *err,
    struct accel_probe *p);

/* ----------------------------------------------------------------- net.c */

struct net_link {
	int ifindex;
	char name[IFNAMSIZ];
	char kind[16];		/* "tun", "bridge", "veth", "" ... */
	bool is_tap;		/* kind tun and type tap */
	bool up;		/* IFF_UP */
	int master;		/* ifindex of the bridge, 0 = none */
	long owner;		/* tun owner uid, -1 = none */
	long group;		/* tun group gid, -1 = none */
	unsigned mtu;
	uint8_t mac[6];		/* IFLA_ADDRESS; zero when none */
	bool vnet_hdr;		/* tun IFF_VNET_HDR (kept as found) */
	bool multi_queue;	/* tun IFF_MULTI_QUEUE */
	uint32_t vni;		/* kind vxlan: its VNI */
};

struct net_addr {
	struct ipaddr a;	/* the address, prefix = its network's */
	unsigned char scope;	/* RT_SCOPE_*: link-local is RT_SCOPE_LINK */
	uint32_t valid;		/* seconds left; UINT32_MAX = forever */
};

/* A network namespace, as journals and locks name it. */
struct netns_id {
	unsigned long long ino;		/* /proc/self/ns/net */
	unsigned long long cookie;	/* SO_NETNS_COOKIE; 0 = unknown */
};

int net_ns_self(struct netns_id *);
int net_open(struct net **);
void net_close(struct net *);
/* Targeted lookup by name: 0, -ENODEV when missing, -errno. */
int net_link_get(struct net *, const char *name, struct net_link *);
int net_link_get_index(struct net *, int ifindex, struct net_link *);
/* Every link of one kind (for list commands, not the boot path). */
int net_link_list(struct net *, const char *kind, struct net_link *out,
    size_t max, size_t *count);
/* The addresses of one link of family (AF_UNSPEC: both); targeted. */
int net_addr_list(struct net *, int ifindex, int family,
    struct net_addr *out, size_t max, size_t *n);
int net_addr_add(struct net *, int ifindex, const struct ipaddr *);
int net_addr_del(struct net *, int ifindex, const struct ipaddr *);
int net_link_set_up(struct net *, int ifindex, bool up);
/* master 0 releases. */
int net_link_set_master(struct net *, int ifindex, int master);
int net_link_set_mtu(struct net *, int ifindex, unsigned mtu);
int net_link_delete(struct net *, int ifindex);
/* Is there a route of the main table, not via exclude_ifindex, whose
 * network overlaps net (same family)? 1 (and its interface name in
 * ifname), 0, or -errno. Default routes do not count. */
int net_route_overlap(struct net *, const struct ipaddr *net,
    int exclude_ifindex, char ifname[IFNAMSIZ]);
/* Has the main table a default route of family? 1, 0, -errno. */
int net_route_default(struct net *, int family);
/* An IPv4 or IPv6 unicast route (dst.family is the route's family). */
struct net_route {
	struct ipaddr dst;	/* prefix 0: a default route */
	struct ipaddr gw;	/* family 0 = none (scope link) */
	int ifindex;
	unsigned metric;
	unsigned char proto;	/* RTPROT_* */
	unsigned char type;	/* RTN_*, as read */
	unsigned table;		/* as read; adding/deleting uses main */
	bool multipath;		/* as read: RTA_MULTIPATH */
};
/* The route the kernel takes to dst (one lookup, policy rules
 * included): r->ifindex 0 when unreachable. */
int net_route_get(struct net *, const struct ipaddr *dst,
    struct net_route *r);
/* The policy rule that sends dst to table ("policy rule 'to NET lookup
 * T' (priority P)") into desc: 1, 0 when none, -errno. */
int net_rule_find(struct net *, const struct ipaddr *dst, unsigned table,
    char *desc, size_t len);
/* A new tap, not yet persistent (it lives as long as the returned
 * queue, close-on-exec); the new link in *l. -EEXIST when the name is
 * taken. flags: TAP_VNET_HDR (1, so true means it), TAP_MULTI_QUEUE. */
#define TAP_VNET_HDR	1
#define TAP_MULTI_QUEUE	2
int net_tap_new(struct net *, const char *name, unsigned flags,
    struct net_link *l);
/* Owner, group ((gid_t)-1: none) and persistence for the tap of fd. */
int net_tap_persist(int fd, uid_t owner, gid_t group, struct net_link *l);
/* Open one queue of the tap l, as just looked up (IFF_TAP|IFF_NO_PI, the
 * tap's own IFF_MULTI_QUEUE, and its IFF_VNET_HDR unless no_vnet_hdr);
 * returns the fd, close-on-exec, or -errno. */
int net_tap_open(const struct net_link *l, bool no_vnet_hdr);
/* A bridge (STP off, forward delay 0) with ifindex (0: any); -EEXIST
 * when the name or the index is taken. */
int net_bridge_create(struct net *, const char *name, int ifindex);
/* For tc.c, which speaks rtnetlink beside this file: send one request
 * built with libnl (consumed) that changes link ifindex, after the same
 * check as every change here, or one that only reads; parse sees each
 * reply. libnl's own codes to -errno. */
struct nl_msg;
struct nlmsghdr;
int net_send(struct net *, int ifindex, struct nl_msg *,
    int (*parse)(struct nlmsghdr *, void *), void *arg);
int net_read(struct net *, struct nl_msg *,
    int (*parse)(struct nlmsghdr *, void *), void *arg);
int net_nlerr(int nlerr);
/* A request of type with flags, its header hdr first; NULL when out
 * of memory. net_nomem frees one that did not fit and says -ENOMEM. */
struct nl_msg *net_msg(int type, int flags, const void *hdr, size_t len);
int net_nomem(struct nl_msg *);
/* An ifb device (root only), down, with ifindex; -EEXIST when taken. */
int net_ifb_create(struct net *, const char *name, int ifindex);
/* A VXLAN link as qrun makes it: UDP port 4789, learning, no group
 * (head-end replication: net_fdb_append per remote). */
struct vxlan_link {
	char name[IFNAMSIZ];
	int ifindex;		/* 0: the kernel's choice */
	uint32_t vni;		/* 1..16777215 */
	int dev;		/* the underlay's ifindex, 0 = none */
	struct ipaddr local;	/* family 0 = none */
	unsigned mtu;
};
/* Create it (root only); -EEXIST when the name or the index is taken. */
int net_vxlan_create(struct net *, const struct vxlan_link *);
/* What VXLAN link ifindex is (its name, VNI, underlay, local, MTU). */
int net_vxlan_get(struct net *, int ifindex, struct vxlan_link *);
/* The all-zeros FDB entry of VXLAN link ifindex that sends broadcast,
 * unknown unicast and multicast to dst too ("bridge fdb append
 * 00:00:00:00:00:00 dev VX dst DST"): append (-EEXIST when there),
 * delete (-ENOENT when missing). */
int net_fdb_append(struct net *, int ifindex, const struct ipaddr *dst);
int net_fdb_del(struct net *, int ifindex, const struct ipaddr *dst);
/* The destinations of those entries of VXLAN link ifindex. */
int net_fdb_remotes(struct net *, int ifindex, struct ipaddr *out,
    size_t max, size_t *n);
/* Non-root qrun only changes taps owned by getuid() (masters: bridges);
 * guard, when set, must also approve every change (0 or -EPERM). The
 * master is NULL unless a port is being enslaved. */
typedef int net_guard_fn(const struct net_link *link,
    const struct net_link *master, void *arg);
void net_guard(struct net *, net_guard_fn *, void *arg);
/* Set a link's MAC address (a bridge with a set MAC keeps it). */
int net_link_set_mac(struct net *, int ifindex, const uint8_t mac[6]);
/* The ports of one bridge: a dump the kernel filters by IFLA_MASTER. */
int net_link_ports(struct net *, int master, struct net_link *out,
    size_t max, size_t *count);
/* The IPv4 and IPv6 unicast routes of the main table through exactly
 * ifindex, kernel filtered; routes the kernel made (proto kernel) are
 * left out. Any other route with a hop through ifindex (multipath,
 * another table) is only counted in *nother, the first one copied to
 * *other. -ENOSPC when more than max. */
int net_route_list_dev(struct net *, int ifindex, struct net_route *out,
    size_t max, size_t *n, struct net_route *other, size_t *nother);
/* Add (-EEXIST when exactly this route exists) or delete (-ESRCH when
 * missing) one route of the main table. */
int net_route_add(struct net *, const struct net_route *);
int net_route_del(struct net *, const struct net_route *);

/* -------------------------------------------------------------- change.c */

/*
 * A change to the host, as the journal records it (one line each):
 *     tap-create TAP@IDX              addr-add IF@IDX A/P
 *     link-up IF@IDX                  enslave PORT@IDX BR@IDX
 *     mtu IF@IDX OLD NEW              bridge-create BR@IDX
 *     addr-del IF@IDX A/P             release PORT@IDX BR@IDX
 *     route-add IF@IDX DST/P GW METRIC PROTO    (GW "-": none)
 *     route-del IF@IDX DST/P GW METRIC PROTO    bridge-delete BR@IDX
 *     ifb-create IFB@IDX              qdisc-add IF@IDX netem|ingress
 *     redirect IF@IDX IFB@IDX         (IF's ingress to IFB: tc mirred)
 *     vxlan-create VX@IDX VNI DEV@IDX|- LOCAL|- MTU
 *     fdb-add VX@IDX REMOTE           fdb-del VX@IDX REMOTE
 *     vxlan-delete VX@IDX VNI DEV@IDX|- LOCAL|- MTU
 *     rule-add BR@IDX DST/P           (iif BR to DST prohibit: rule.c)
 *     dir NAME                        (in the state dir)
 *     file NAME                       (in the state dir: a helper's)
 *     helper PROG PID START           (a process qrun started: helper.c)
 *     hold NAME                       (a shared resource: share.c)
 *     nat-table                       (nftables table inet qrun)
 *     nat IF@IDX NET/P                (a run's chains for NET behind IF)
 *     forwarding ipv4|ipv6 OLD NEW    (the namespace's sysctl, 0 or 1)
 *     info KEY VALUE                  (run metadata; never undone)
 * Addresses are IPv4 or IPv6; IDX is the link's ifindex: undo touches a
 * link only while that index still carries that name.
 */
enum jkind {
	J_TAP_CREATE, J_ADDR_ADD, J_LINK_UP, J_ENSLAVE, J_MTU,
	J_BRIDGE_CREATE, J_ADDR_DEL, J_ROUTE_ADD, J_ROUTE_DEL, J_RELEASE,
	J_BRIDGE_DELETE, J_DIR, J_HOLD, J_INFO, J_NAT_TABLE, J_NAT,
	J_FORWARDING, J_VXLAN_CREATE, J_FDB_ADD, J_FDB_DEL, J_VXLAN_DELETE,
	J_IFB_CREATE, J_QDISC_ADD, J_REDIRECT, J_FILE, J_HELPER, J_RULE_ADD,
};

struct jlink {
	char name[IFNAMSIZ];
	int ifindex;
};

/* The name and ifindex of link l, for a record (change.c). */
struct net_link;
void jlink_set(struct jlink *, const struct net_link *l);

struct jrec {
	enum jkind kind;
	struct jlink l[2];	/* the link; enslave/release: and bridge;
				 * vxlan-*: and the underlay (0: none) */
	struct ipaddr addr;	/* addr-*: the address; route-*: its dst;
				 * fdb-*: the remote */
	struct ipaddr gw;	/* route-*: family 0 = none; vxlan-*: the
				 * local address */
	unsigned mtu[2];	/* mtu: old, new; vxlan-*: its MTU */
	uint32_t vni;		/* vxlan-* */
	unsigned metric, proto;	/* route-* */
	int family;		/* forwarding: AF_INET, AF_INET6 */
	unsigned val[2];	/* forwarding: old, new */
	const char *key;	/* info */
	const char *text;	/* info: the value; dir, file: the name;
				 * qdisc-add: its kind; helper: its program */
	long pid;		/* helper */
	unsigned long long start;	/* helper: its start time (proc_start) */
};

/* What undo works with: every record of one journal. */
struct undo_ctx {
	struct net *net;	/* NULL: links cannot be undone now */
	int dfd;		/* the state dir */
	bool root;		/* may undo what adds to the host */
	bool ns_gone;		/* the journal's namespace is gone */
	const struct jrec *all;
	size_t n;
	int refused;		/* records only root may undo */
};
typedef int undo_fn(struct undo_ctx *, const struct jrec *, size_t i);

int jrec_parse(char *line, struct jrec *);
int jrec_format(const struct jrec *, char *buf, size_t len);
/* What it does to its first link: "add 172.21.0.1/16" */
void jrec_describe(const struct jrec *, char *buf, size_t len);
bool jrec_ns_bound(const struct jrec *);
bool jrec_root_only(const struct jrec *);
bool jrec_undoes(const struct jrec *);
bool change_name_ok(const char *);
/* Journal the change, make it, drop the record if it failed. */
int change_apply(struct journal *, struct net *, const struct jrec *);
/* change_apply; ok_err (-EEXIST: already so) is success, any other
 * failure explained in why (change_why). */
int change_do(struct journal *, struct net *, const struct jrec *,
    int ok_err, char *why, size_t whylen);
/* Why change_apply failed with rc, one sentence ("NAME: cannot ..."). */
void change_why(const struct journal *, const struct jrec *, int rc,
    char *why, size_t whylen);
/* The changes that learn their identity while being made: a tap (the
 * queue returned, the link in *l), a bridge or an ifb (kind
 * J_BRIDGE_CREATE, J_IFB_CREATE; the ifindex its record names), a
 * state-dir directory. */
int change_tap_create(struct journal *, struct net *, const char *name,
    uid_t owner, gid_t group, unsigned flags, struct net_link *l);
int change_link_create(struct journal *, struct net *, enum jkind kind,
    const char *name, struct net_link *l);
/* A VXLAN link as v says (its underlay v->dev called dev, or NULL), with
 * the ifindex its record names (v->ifindex is ignored); the new link in
 * *l. And the record that deletes such a link (v->ifindex its own), for
 * change_apply. */
int change_vxlan_create(struct journal *, struct net *,
    const struct vxlan_link *v, const char *dev, struct net_link *l);
void change_vxlan_delete_rec(struct jrec *, const struct vxlan_link *v,
    const char *dev);
/* netem ne as l's root qdisc ("qdisc-add L netem"). */
int change_netem(struct journal *, struct net *, const struct jlink *l,
    const struct netem *ne);
int change_dir(struct journal *, const char *name);
/* Journal "file NAME" (a file of the run's in the state dir, removed by
 * the undo); with create, make it (O_EXCL, mode 0600) and return its
 * fd, else (a helper will make it) 0. */
int change_file(struct journal *, const char *name, bool create);
/* Journal "helper PROG PID START": the process pid, started at start,
 * is about to exec PROG; the undo stops it while pid and start time
 * still match. */
int change_helper(struct journal *, const char *prog, pid_t pid,
    unsigned long long start);
/* Journal "hold NAME" before share_take. */
int change_hold(struct journal *, const char *name);
int change_undo(struct undo_ctx *, size_t i);

/* ------------------------------------------------------------- journal.c */

struct journal_hdr {
	long pid;
	long uid;
	unsigned long long start;	/* /proc/PID/stat field 22 */
	char boot[37];
	struct netns_id ns;
};

struct replay_report {
	int undone;	/* journals of dead runs here, undone */
	int dropped;	/* of gone namespaces or boots: removed */
	int foreign;	/* of other live namespaces: left alone */
	int refused;	/* records only root may undo, skipped */
	int failed;	/* undo failed: kept for another try */
};

int journal_open(const char *state_dir, struct journal **);
/* Append one record, durable before the change it describes. */
int journal_write(struct journal *, const struct jrec *);
int journal_info(struct journal *, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool journal_write_failed(const struct journal *);
/* The change just written did not happen: drop its record. */
int journal_cancel(struct journal *);
int journal_dfd(const struct journal *);
/* Undo everything in reverse, delete the file, free. */
int journal_undo(struct journal *, struct net *);
/* Forget the changes (net.keep), delete the file, free. */
void journal_close(struct journal *);
/* Close, keeping the file (a shared resource's journal, once made). */
void journal_detach(struct journal *);
/* The journal of a shared resource (share.c): a new one, to make it;
 * undone and removed by its last holder (1; 0 when none). */
int journal_open_shared(int dfd, const char *name, struct journal **);
int journal_undo_shared(int dfd, const char *name, struct net *,
    bool root);
/* Replay (act) or just count every journal in state_dir whose writer is
 * dead, as its namespace allows. */
int journal_cleanup(const char *state_dir, struct net *, bool act,
    struct replay_report *);
/* Replay pid's journal if that run is dead (a lock's last holder). */
int journal_replay(const char *state_dir, pid_t pid, struct net *,
    struct replay_report *);
enum ns_verdict { NS_SAME, NS_GONE, NS_OTHER };
enum ns_verdict journal_ns_verdict(const struct journal_hdr *,
    const char *boot, const struct netns_id *self,
    bool (*alive)(unsigned long long ino));
/* Paths ("STATE/run-PID.journal") of the journals of live runs. */
int journal_runs(const char *state_dir, struct strv *out);
/* A journal's namespace ("netns", INODE) and "info KEY VALUE" records,
 * pushed as KEY, VALUE pairs. */
int journal_read_info(const char *path, struct strv *kv);
/* Count the records of a journal and the lines undo would skip. */
int journal_scan(const char *path, int *records, int *skipped);
/* Shared with lock.c: the state dir, checked (ours, not group- or
 * world-writable: -EPERM); write all of a buffer at an offset; a
 * process's start time (pid 0: ourselves), -ESRCH when gone. */
int state_open(const char *dir, bool create, int *dfd);
int write_at(int fd, const char *buf, size_t len, off_t off);
int proc_start(pid_t pid, unsigned long long *start);

/* ---------------------------------------------------------------- lock.c */

/* Exclusive lock on name (a tap, a bridge) in this network namespace;
 * -EBUSY with *holder = its pid. *prev: the last holder, whose journal
 * the caller replays (journal_replay) before it claims the lock. */
int lock_take(const char *state_dir, const char *name, int *fd,
    pid_t *holder, pid_t *prev);
int lock_claim(int fd);
/* Open (making it) "NAME@INO.SUFFIX" of this namespace in state dir
 * dfd; the fd or -errno. */
int lock_file(int dfd, const char *name, const char *suffix);

/* --------------------------------------------------------------- share.c */

/* A hold on a resource several runs share (a switch, the NAT table, a
 * sysctl): the first run makes it, the last one unmakes it. */
struct share {
	char name[64];
	int guard;		/* held while making (share_ready ends it) */
	int hold;		/* held for as long as the run uses it */
	struct journal *j;	/* first: where making it is journaled */
};

/* Hold name (the caller journaled "hold NAME" first: change_hold). With
 * *first, nobody held it: make it, journaling into sh->j. Then, either
 * way, share_ready(). */
int share_take(int dfd, const char *name, struct net *, struct share *,
    bool *first);
void share_ready(struct share *);
/* Stop holding it; the run's undo of "hold NAME" unmakes it if last. */
void share_drop(struct share *);
/* The undo of "hold NAME": unmake name when nobody holds it. */
int share_unmake(int dfd, const char *name, struct net *, bool root);
void lock_release(int fd);

/* ---------------------------------------------------------------- slot.c */

/*
 * A developer switch's slots 1..SLOT_MAX (slot k of switch N: tap
 * qtapN-k, guest 172.(20+N).0.(k+1)), one run each, in this state dir
 * and network namespace. Slot k is held by the lock of its tap (lock.c:
 * "qtapN-k@INO.lock", handing the last holder over); an index counts the
 * held ones for the search, a SysV semaphore per slot taken with
 * SEM_UNDO, so the kernel gives back a killed run's at once and the
 * first free slot is one read of the whole set, whatever number is held.
 * The set goes with the last slot released (qrun cleanup removes one a
 * killed last holder left). Nothing here prints.
 */

/* The name of slot k's tap (qtapN-k), into buf[IFNAMSIZ]. */
const char *slot_tap(int sw, int k, char *buf);
/* Take slot want (1..SLOT_MAX) of switch sw (0..11), or with want 0 the
 * first free one: 0 with *s, *prev the last holder (whose journal the
 * caller replays if that run died, then lock_claim); -EBUSY (want is
 * held, *holder its pid), -ENOSPC (all are held), -errno. */
int slot_take(const char *state, int sw, int want, struct slot *s,
    pid_t *prev, pid_t *holder);
/* Let go (after the run's undo). */
void slot_release(struct slot *s);
/* Read only: the slot a take would get now, as slot_take. */
int slot_peek(const char *state, int sw, int want, int *k, pid_t *holder);
/* qrun cleanup: remove the index of every switch of the state dir dfd
 * (this namespace's) whose slots are all free; how many went. */
int slot_sweep(int dfd);

/* ---------------------------------------------------------------- rule.c */

/* The policy rule of a switch (before the main table: rules that send
 * the lab networks elsewhere come after it): what comes in on qbrN and
 * would be routed to dst is refused ("ip rule add iif qbrN to DST
 * prohibit pref RULE_PREF"), so no switch forwards to another. */
#define RULE_PREF	1720

/* Through rtnetlink; ifindex is the link's, called name. -EEXIST when
 * the rule is there, -ENOENT when deleting one that is not. */
int rule_prohibit_add(struct net *, int ifindex, const char *name,
    const struct ipaddr *dst);
int rule_prohibit_del(struct net *, int ifindex, const char *name,
    const struct ipaddr *dst);

/* -------------------------------------------------------------- tapdev.c */

/* May an existing link serve as the developer's tap (a tap, theirs, and
 * in local mode no bridge port)? 0 or -errno with the reason in why. */
int tapdev_check(const struct net_link *, const struct priv *,
    bool local, char *why, size_t whylen);
/* Create the NIC's tap for the developer (journaled); the link in *l,
 * its open queue returned (or -errno, with an admin hint on EPERM). */
int tapdev_create(const struct host *, const struct nic *,
    struct net_link *l, char *why, size_t whylen);
/* The end of a mode's ensure: the tap's first queue in *fd, opened now
 * unless this run made it (and has it open). 0 or -errno with why. */
int tapdev_open(const struct nic *, const struct net_link *, int *fd,
    char *why, size_t whylen);
/* One journaled change for the NIC's tap; why says what failed. */
int tapdev_change(const struct host *, const struct nic *,
    const struct jrec *, char *why, size_t whylen);
/* Pure: QEMU's -netdev for a tap (f NULL: by name, for --dry-run). */
char *tapdev_netdev(const struct nic *, const struct nicfds *f);
/* Open the NIC's tap queues after the first (net.queues), into f. */
int tapdev_queues(struct net *, const struct nic *, struct nicfds *f,
    char *why, size_t whylen);
/* Before any change: can the NIC's tap, if it exists, give net.queues
 * queues (a multiqueue tap)? 0 or -EINVAL with why. */
int tapdev_queues_check(struct net *, const struct nic *, char *why,
    size_t whylen);

/* ----------------------------------------------------------------- nat.c */

/* libnftables, loaded on first use: 0, -ENOENT when not installed. */
int nat_open(void);
/* Table inet qrun: make it (-EEXIST when it is there); remove it when it
 * holds no chain any more (0 also when it stays or is gone). */
int nat_table_make(void);
int nat_table_unmake(void);
/* Has table qrun chains, some run's NAT (of any state dir)? */
bool nat_table_busy(void);
/* A run's chains for the guest network net behind ifname (ifindex):
 * masquerade out of every other interface, forward accepts both ways;
 * removed again by family (0 when gone). */
int nat_link_add(const char *ifname, int ifindex, const struct ipaddr *net);
int nat_link_del(const char *ifname, int ifindex, int family);
/* This namespace's forwarding switch of family (AF_INET, AF_INET6). */
int nat_forwarding_get(int family, int *on);
int nat_forwarding_set(int family, int on);

/* ------------------------------------------------------------ hostaddr.c */

/* May ifname (ifindex self; 0 when not made yet) take address a for pv:
 * a unicast host address, granted, overlapping no route elsewhere, not
 * a public network the host routes? 0 or -errno with why. */
int hostaddr_check(struct net *, const struct priv *, const char *ifname,
    const struct ipaddr *a, int self, char *why, size_t whylen);

/* -------------------------------------------------------------- bridge.c */

/* What a bridge create|delete did: the summary, and warnings (a lease
 * that became permanent). */
struct bridge_report {
	char done[640];
	struct strv notes;
};

/* The lab bridges of "qrun bridge create|delete": an uplink's IPv4 and
 * IPv6 addresses and routes move to its new bridge and back, with vx a
 * VXLAN port joins it to other hosts; every step journaled. 0 or -errno
 * with one sentence in why. */
struct vxlan_conf;
int bridge_create(struct net *, struct journal *, const char *name,
    const char *uplink, const struct ipaddr *addr,
    const struct vxlan_conf *vx, struct bridge_report *, char *why,
    size_t whylen);
int bridge_delete(struct net *, struct journal *, const char *name,
    struct bridge_report *, char *why, size_t whylen);

/* ---------------------------------------------------------- mode_bridge.c */

/* A tap as a bridge's port: nic->tap made (the developer's) or checked,
 * no address, nic->bridge's MTU, enslaved, up; *fd its queue (or -1).
 * Bridged mode's ensure, and a switch's once it holds its bridge. */
int bridge_port_ensure(const struct host *, const struct nic *, int *fd,
    char *why, size_t whylen);

/* --------------------------------------------------------------- vxlan.c */

/* struct vxlan_conf: in netplan.c's section (a switch's net.vxlan). */

/* A VXLAN port as vxlan_check found the host: ready to attach. */
struct vxlan_plan {
	struct vxlan_conf c;
	char name[IFNAMSIZ];	/* "vx42" */
	struct net_link under;	/* the underlay */
	unsigned mtu;		/* the bridge's: the underlay's - 50 (70) */
};

/* Pure: the options into *c; 0 or -EINVAL with why. dev and local may be
 * NULL (not given). */
int vxlan_conf_parse(const char *vni, const char *remotes, const char *dev,
    const char *local, struct vxlan_conf *c, char *why, size_t whylen);
/* Read the host for c, change nothing; 0 or -errno with why. */
int vxlan_check(struct net *, const struct vxlan_conf *, struct vxlan_plan *,
    char *why, size_t whylen);
/* Add the port to bridge br: link, remotes, MTU, enslaved, up; all
 * journaled (undo takes it off again). 0 or -errno with why. */
int vxlan_attach(struct net *, struct journal *, const struct net_link *br,
    const struct vxlan_plan *, char *why, size_t whylen);
/* A VXLAN port qrun made (vxVNI)? */
bool vxlan_port_ours(const struct net_link *);
/* Take port vx off br and delete it, journaled so an undo makes it again
 * with its remotes. */
int vxlan_detach(struct net *, struct journal *, const struct net_link *br,
    const struct net_link *vx, char *why, size_t whylen);

/* -------------------------------------------------------------- impair.c */

/* net.netem on tap, both directions (an ifb for its ingress), every
 * piece journaled; the ifb in *ifb. 0 or -errno with why. */
int impair_up(struct net *, struct journal *, const struct net_link *tap,
    const struct netem *, struct jlink *ifb, char *why, size_t whylen);
/* A running network's impairment: changed in place, or taken off. */
int impair_change(struct net *, const struct jlink *tap,
    const struct jlink *ifb, const struct netem *, char *why,
    size_t whylen);
int impair_down(struct net *, const struct jlink *tap,
    const struct jlink *ifb, char *why, size_t whylen);

/* -------------------------------------------------------------- runnet.c */

/* One run's hold on the host network (boot and shell share it). */
struct runnet {
	const struct netplan *plan;
	const struct priv *priv;
	char *state;		/* the state dir */
	struct net *net;
	struct journal *journal;
	int lock_fd[NIC_MAX];
	struct nicfds fds[NIC_MAX];	/* what QEMU gets, per NIC */
	struct jlink ifb[NIC_MAX];	/* net.netem's ifb; ifindex 0: none */
	struct share share[3];	/* net.nat: the table, forwarding 4, 6 */
	size_t nshare;
	struct dnsmasq *dns[NIC_MAX];	/* net.dhcp: the link's, or NULL */
	struct claim claim[NIC_MAX];	/* what each NIC took (runnet_claim) */
	struct share nicshare[NIC_MAX];	/* a NIC's switch, held */
	struct replay_report replayed;	/* dead runs undone on the way */
};

/* Read the host facts the plan needs (a bridge's networks) and finish
 * it. Reads only. 0 or -errno with why. */
int runnet_facts(struct netplan *, const struct priv *, char *why,
    size_t whylen);
void runnet_init(struct runnet *, const struct netplan *,
    const struct priv *);
/* Before the plan is final: each NIC takes what it shares with other
 * runs (its mode's claim: a switch slot, a free tap, free host ports)
 * and finishes plan, which must be rn->plan; the last holder of what
 * was taken is replayed if it died. dry: only look, take nothing. 0 or
 * -errno with why (then runnet_down lets go). */
int runnet_claim(struct runnet *, struct netplan *plan, bool dry, char *why,
    size_t whylen);
/* Journal the run (image for status); for every NIC with a host tap:
 * grant, lock, replay the last holder if it died, make it true, open
 * its queue. 0 or -errno with why (then runnet_down undoes). */
int runnet_up(struct runnet *, const char *image, char *why,
    size_t whylen);
/* Undo what the journal says (or keep it: net.keep), unlock, close;
 * -errno with why when the undo was incomplete. */
int runnet_down(struct runnet *, char *why, size_t whylen);
/* Before a QEMU starts: open what it needs fresh (/dev/vhost-net per
 * queue, when vhost; a vhost device belongs to the QEMU that takes it)
 * and list every fd it inherits into keep. 0 or -errno with why. After
 * it started, runnet_spawned closes qrun's copies of the vhost fds. */
int runnet_spawn_fds(struct runnet *, int *keep, size_t max, size_t *n,
    char *why, size_t whylen);
void runnet_spawned(struct runnet *);
/* net.netem of a running network, changed now on every tap (spec "":
 * taken off). 0 or -errno with why. */
int runnet_netem(struct runnet *, const char *spec, char *why,
    size_t whylen);
/* The helpers of the network (dnsmasq) as participants of loop: their
 * death ends a turn with LOOP_HELPER_EXITED; unwatch takes them out. */
struct loop;
void runnet_watch(struct runnet *, struct loop *);
void runnet_unwatch(struct runnet *, struct loop *);
/* After LOOP_HELPER_EXITED: which one died, and why (1), else 0. */
int runnet_helper_gone(struct runnet *, char *why, size_t whylen);

/* ---------------------------------------------------------------- priv.c */

/* Who the developer is, and what qrun may do on their behalf. */
struct priv {
	uid_t uid;		/* the developer (SUDO_UID under sudo) */
	gid_t gid;
	char user[64];		/* login name, for MACs and messages */
	char home[256];		/* from the password database; "" = none */
	bool root;		/* euid 0 */
	bool for_other;		/* elevated on behalf of another user */
	bool netcap;		/* not root, holds CAP_NET_ADMIN (file cap) */
};

int priv_init(struct priv *);
/* Where journals and locks live: QRUN_STATE_DIR (not when elevated for
 * a user), /run/qrun for root, else $XDG_RUNTIME_DIR/qrun, else
 * $XDG_STATE_HOME/qrun (~/.local/state/qrun). Malloc'd. */
char *priv_state_dir(const struct priv *);
/* netcap: raise (on) or lower CAP_NET_ADMIN in the effective set around
 * network changes; a no-op otherwise. 0 or -errno. */
int priv_net(const struct priv *, bool on);
/* In the QEMU child: become the developer, no capabilities, no new
 * privileges. 0 or -errno. */
int priv_drop(const struct priv *);

/* -------------------------------------------------------------- access.c */

/*
 * The access list, /etc/qrun/access.conf ($QRUN_SYSCONF_DIR unless
 * for_other): which users and groups may use which taps and bridges
 * (fnmatch patterns). Consulted only when qrun holds privileges the user
 * lacks (netcap); root may do anything, and an unprivileged user is
 * limited by the kernel (tap ownership). A file not owned by root or
 * writable by group/others is refused, and then nothing is granted.
 */
char *access_path(const struct priv *);
/* Does the list exist, is it safe and does it parse? 0, -ENOENT, -EPERM,
 * -EINVAL; why says what is wrong. */
int access_file_check(const char *path, char *why, size_t whylen);
/* May pv use tap (and bridge, when not NULL)? 0, or -EPERM with
 * "TAP: not granted to USER by PATH" (or the reason the list is refused). */
int access_check(const struct priv *, const char *tap, const char *bridge,
    char *why, size_t whylen);
/* Is name a switch's bridge qbrN or slot tap qtapN-K? 0 with qbrN in sw,
 * else -EINVAL. Pure. */
int access_switch_of(const char *name, char sw[IFNAMSIZ]);
/* May pv put a on a host interface (netcap: the list's addrs)? 0, or
 * -EPERM with why. */
int access_addr_check(const struct priv *, const char *ifname,
    const struct ipaddr *a, char *why, size_t whylen);
/* May pv masquerade tap's guests (an entry with nat = true)? 0, or
 * -EPERM with why. */
int access_nat_check(const struct priv *pv, const char *tap, char *why,
    size_t whylen);
/* net_open + the guard that checks every change against the list. */
int access_net_open(const struct priv *, struct net **);
/* A file qrun reads for the user while privileged (-p PATH): owned by
 * the user or root and not writable by group/others. 0 or -EPERM. */
int access_user_file(const struct priv *, const char *path, char *why,
    size_t whylen);
/* fopen a file the user names (--serial-log) with the user's file access
 * rights, not root's, when root on behalf of a user. */
/* Switch file access to the user's rights (on) and back (off), when
 * root acts for another user; 0 or -EPERM. */
int access_as_user(const struct priv *, bool on);
FILE *access_user_fopen(const struct priv *, const char *path,
    const char *mode);

/* -------------------------------------------------------------- conlog.c */

/*
 * The whole console of a batch run in a file, for the report of a
 * failure: console-DATE-TIME-PID.log in conlog_dir, made with the
 * developer's file rights; removed when the run went well, and of those
 * kept the newest CONLOG_KEEP stay.
 */
#define CONLOG_KEEP	20

/* $XDG_STATE_HOME/qrun/logs (~/.local/state/qrun/logs); the developer's
 * whatever the environment when elevated for them. Malloc'd; NULL when
 * there is no home. */
char *conlog_dir(const struct priv *);
/* A new log; *path malloc'd. NULL with why (*path NULL). */
FILE *conlog_open(const struct priv *, char **path, char *why,
    size_t whylen);
void conlog_remove(const struct priv *, const char *path);
/* Remove the oldest logs beyond CONLOG_KEEP. */
void conlog_prune(const struct priv *);

/* ---------------------------------------------------------------- loop.c */

/*
 * The one event loop. Everything qrun waits for is a participant: QEMU
 * and its console (vm.c), batch supervision (batch.c), a readiness probe
 * and the host command (ready.c), the shell's input, QMP and display
 * (cmd_shell.c), supervised helper processes (struct loop_child).
 *
 * A turn (loop_once): each participant's prepare fills its one pollfd
 * (fd -1: none) and returns the ms until it wants its event hook run (0:
 * at once; -1: only when its fd is ready); one poll(2), with the signal
 * self-pipe; a terminating signal ends the turn with LOOP_SIGNAL; else
 * every event hook runs (revents may be 0). The console's lines go to
 * every line hook through loop_line: partial lines too (the line so far,
 * sent again once whole), so a prompt without a newline can match. A hook
 * returns 0 to go on or an event; the first event ends the turn. Hooks
 * never add or remove participants: callers do, between turns, and
 * remove a participant once it reported its end (its prepare keeps
 * asking for its event at once).
 */
enum loop_event {
	LOOP_VM_EXITED = 1,	/* QEMU exited (vm.status) */
	LOOP_MATCHED,		/* batch: --expect matched */
	LOOP_FAILED,		/* batch: --fail matched */
	LOOP_TIMEOUT,		/* batch: --timeout; a probe: its own bound */
	LOOP_SIGNAL,		/* a terminating signal, its number in *sig */
	LOOP_READY,		/* the readiness probe succeeded (ready.c) */
	LOOP_CMD_EXITED,	/* the host command exited (ready.c) */
	LOOP_CHILD_EXITED,	/* a supervised helper exited (loop_child) */
	LOOP_QUIET,		/* batch: the console after --fail went quiet */
	LOOP_REPORT,		/* --ktap: the report is complete */
	LOOP_HELPER_EXITED,	/* a journaled helper (helper.c: dnsmasq,
				 * virtiofsd) exited */
	LOOP_USER = 64,		/* a participant's own events from here on */
};

struct pollfd;
struct loop;

struct loop_part {
	int (*prepare)(void *arg, struct pollfd *pfd);	/* NULL: -1 */
	int (*event)(void *arg, const struct pollfd *pfd);
	int (*line)(void *arg, const char *line, bool partial);
	void *arg;
	struct loop *loop;	/* set by loop_add, NULL when in none */
	struct loop_part *next;
};

struct loop {
	struct loop_part *parts;	/* in the order added */
};

void loop_init(struct loop *);
/* At most 16 participants; adding one that is in a loop does nothing. */
void loop_add(struct loop *, struct loop_part *);
void loop_del(struct loop *, struct loop_part *);
/* One turn, polling at most timeout_ms (-1: as long as the participants
 * allow): the first event, 0 when none, -errno when poll failed. */
int loop_once(struct loop *, int timeout_ms, int *sig);
/* Turns until an event; returns it. */
int loop_run(struct loop *, int *sig);
/* A console line to every line hook (l may be NULL); the first event. */
int loop_line(struct loop *, const char *line, bool partial);

/* Every signal whose default is to end the process (and SIGCHLD) to the
 * self-pipe; SIGPIPE of qrun's own writes only fails them. 0 or -errno. */
int loop_signals_init(void);
/* Default dispositions, nothing blocked: in children, before re-raising. */
void loop_signals_reset(void);
/* The first terminating signal pending, 0 when none (not SIGCHLD). */
int loop_signal_take(void);
/* After the undo: die of sig (no core file); never returns. */
void loop_signal_die(int sig) __attribute__((noreturn));
/* waitpid(*pid) (block, or WNOHANG); 1 once reaped (*pid = -1, *status
 * its wait status; also when it is no child of ours), else 0. */
int loop_reap(pid_t *pid, int *status, bool block);

/*
 * A child process as a participant, for a supervised helper (dnsmasq
 * run with --keep-in-foreground, virtiofsd) or --run's command: its exit
 * (seen through SIGCHLD) ends the turn with ev; gone, if set, runs once
 * when it is reaped, with the pid it had. Add child.part to the loop.
 */
struct loop_child {
	pid_t pid;		/* -1 once reaped */
	int status;		/* its wait status, once reaped */
	int ev;			/* what its exit ends the turn with */
	void (*gone)(struct loop_child *, pid_t was);
	void *arg;		/* the owner's */
	struct loop_part part;
};

/* ev 0 means LOOP_CHILD_EXITED. */
void loop_child_init(struct loop_child *, pid_t pid, int ev);
/* Reap if it exited (block: wait for it); 1 once it is gone. */
int loop_child_reap(struct loop_child *, bool block);

/* -------------------------------------------------------------- helper.c */

/*
 * A helper process qrun starts for a run and supervises (dnsmasq on a
 * guest's link, virtiofsd for a shared directory): a journaled change,
 * "helper PROG PID START", written after the fork and before the exec,
 * so no helper runs that its journal does not name; the undo stops
 * exactly that process (pid and start time), never another. Its stderr
 * is a pipe to qrun: what it says while it starts tells when it is
 * ready, its last line why it died. Nothing here prints.
 */
#define HELPER_LINE	256

struct helper_spec {
	const char *prog;	/* its name for the journal ("dnsmasq"):
				 * change_name_ok */
	const char *path;	/* absolute */
	char *const *argv;
	char *const *envp;	/* NULL: PATH and LC_ALL=C only */
	int fd3;		/* inherited as fd 3, or -1 */
	uint64_t caps;		/* 1ULL << CAP_...: capabilities of a
				 * capability-enabled qrun passed on as
				 * ambient ones (0: none) */
	bool pdeathsig;		/* SIGTERM when qrun dies */
	/* In the child, once journaled, before the exec (become the user,
	 * namespaces: virtiofsd.c); NULL: none. 0, or -errno with *what
	 * naming the step, said on its stderr (h->last) and exit 125. A
	 * change of credentials here clears pdeathsig. */
	int (*setup)(const void *arg, const char **what);
	const void *setup_arg;
};

struct helper {
	struct loop_child child;	/* reaping, its wait status */
	unsigned long long start;	/* its start time (proc_start) */
	int err;			/* its stderr, -1 once closed */
	char buf[HELPER_LINE];		/* the line being read */
	size_t len;
	char last[HELPER_LINE];		/* its last whole line */
	struct loop_part part;		/* its exit, its stderr drained */
	void *arg;			/* the owner's */
};

void helper_init(struct helper *);
/* Fork, journal "helper PROG PID START" into j, then let it exec. 0 or
 * -errno (nothing runs then). A failed exec is an exit (status 127, or
 * 126), its reason in h->last. */
int helper_spawn(struct journal *j, const struct helper_spec *,
    struct helper *h);
/* Read its stderr until a line contains ready: 0; -ECHILD when it exited
 * first (h->child.status, h->last), -ETIMEDOUT after timeout_ms. */
int helper_wait(struct helper *, const char *ready, long timeout_ms);
/* The same, until probe(arg) returns 1 (asked every 10 ms; < 0: that
 * error). For a helper that says nothing when ready (a socket made). */
int helper_wait_probe(struct helper *, int (*probe)(void *), void *arg,
    long timeout_ms);
/* As a participant: LOOP_HELPER_EXITED once it exited; its stderr is
 * read meanwhile (the last line kept), so it never blocks on it. Add it
 * with loop_add; helper_stop takes it out. */
struct loop_part *helper_part(struct helper *);
bool helper_running(const struct helper *);
/* SIGTERM, SIGKILL after a grace period; reaped, stderr closed; out of
 * its loop. Its journal record stays (the undo then finds it gone). */
void helper_stop(struct helper *);
/* The undo of "helper": stop pid while its start time is start (a
 * process that is not ours to signal: -EPERM). 0 once it is gone. */
int helper_kill(pid_t pid, unsigned long long start);
/* "exited with status 2", "killed by signal 9" into buf. */
const char *helper_how(const struct helper *, char *buf, size_t len);

/* ------------------------------------------------------------- dnsmasq.c */

/* A static lease: this MAC gets these addresses (and NAME.qrun). */
struct dnsmasq_host {
	uint8_t mac[6];
	struct ipaddr v4;	/* IPv4 */
	struct ipaddr v6;	/* family 0: none */
	char name[32];		/* "guest": guest.qrun; "" = no name */
};

/* What one dnsmasq serves: one link, a tap (or a switch's bridge). */
struct dnsmasq_conf {
	char link[IFNAMSIZ];
	struct ipaddr host;	/* the link's IPv4 address and network */
	struct ipaddr host6;	/* its /64 (router advertisements, DHCPv6);
				 * family 0: no IPv6 */
	bool dns;		/* DNS too (else port 0, no DNS server) */
	const struct dnsmasq_host *hosts;
	size_t nhosts;
	unsigned mtu;		/* told to the guests; 0: their own */
	bool shared;		/* a switch's: outlives the qrun that
				 * starts it (no parent-death signal), its
				 * journal the shared resource's */
};

#define DNSMASQ_FILES	3	/* conf, leases, pid */

struct dnsmasq {
	struct helper h;
	char link[IFNAMSIZ];
	int dfd;		/* the state dir */
	char file[DNSMASQ_FILES][64];	/* "tap1@INO.dnsmasq.conf"... */
	bool shared;		/* dnsmasq_conf.shared */
};

/* The binary a run would start (/usr/sbin/dnsmasq). */
const char *dnsmasq_path(const struct priv *);
/* Can this qrun start dnsmasq: installed, and root, or a capability-
 * enabled qrun holding what dnsmasq needs? 0, or -ENOENT/-EPERM with
 * why. */
int dnsmasq_usable(const struct priv *, char *why, size_t whylen);
/* Pure: the configuration file's text (malloc'd) and dnsmasq's argv. */
char *dnsmasq_conf_text(const struct dnsmasq_conf *);
void dnsmasq_argv(const char *conf, const char *pidfile, const char *leases,
    const char *user, const char *group, struct strv *argv);
void dnsmasq_init(struct dnsmasq *);
/* Start dnsmasq for c with its files in state (j's dir), every step
 * journaled into j (a run's journal; a switch: its shared one), and
 * wait until it listens. 0, or -errno with why (its own last words
 * when it exited). */
int dnsmasq_start(struct journal *j, const char *state,
    const struct dnsmasq_conf *c, const struct priv *, struct dnsmasq *,
    char *why, size_t whylen);
/* Stop it; with files, remove its files too (net.keep: the journal that
 * would is forgotten). */
void dnsmasq_stop(struct dnsmasq *, bool files);
/* A shared one: leave it running (its journal's undo stops it), close
 * qrun's side. */
void dnsmasq_forget(struct dnsmasq *);
/* Why it is gone: "tap1: dnsmasq exited with status 2: ...". */
void dnsmasq_gone(const struct dnsmasq *, char *why, size_t whylen);

/* ------------------------------------------------------------ sockdiag.c */

/* Is UDP port of family bound in this namespace by a socket bound to the
 * device ifindex? 1, 0, or -errno. */
int sockdiag_udp_bound(int family, uint16_t port, int ifindex);

/* ----------------------------------------------------------- virtiofsd.c */

/* One virtiofs share's virtiofsd, for one QEMU run (helper.c). */
struct virtiofsd {
	struct helper h;	/* in the loop: LOOP_HELPER_EXITED */
	int qemu_fd;		/* QEMU's end of its socket (hostdirs_argv's
				 * fds), -1 once closed */
	const struct hostdir *dir;
	bool stopped;		/* virtiofsd_stop ran */
};

/* Resolve the share's path as the user (absolute, symlinks followed):
 * a directory the user may read and search (with the user's rights also
 * when elevated for them), and for virtiofs the virtiofsd binary. 0, or
 * -errno with why ("share /x: no such directory"). */
int virtiofsd_check(struct hostdir *, const struct priv *, char *why,
    size_t whylen);
/* Start d's virtiofsd with no more rights than the developer has over
 * d (the head of virtiofsd.c says how), journaled in j (helper.c), and
 * wait until it waits for QEMU; v->qemu_fd is QEMU's end. 0 or -errno
 * with why (its last words when it died). */
int virtiofsd_start(struct virtiofsd *v, const struct hostdir *d,
    const struct priv *, struct journal *j, char *why, size_t whylen);
/* After QEMU: let it exit (it does once QEMU is gone), else SIGTERM,
 * SIGKILL; reaped, out of its loop. */
void virtiofsd_stop(struct virtiofsd *v);
/* Did it exit while it should serve (why: how, its last line)? 0 no, 1
 * with status 0 (as it does when QEMU is gone), 2 otherwise. */
int virtiofsd_died(struct virtiofsd *v, char *why, size_t whylen);

/* ------------------------------------------------------------ runshare.c */

/* One run's shared directories (qemu.share): checked, their virtiofsds. */
struct runshare {
	struct hostdirs dirs;
	struct virtiofsd vfs[SHARE_MAX];
	int fds[SHARE_MAX];	/* QEMU's socket per share, -1: none */
	unsigned made, dead;	/* bit i: share i's virtiofsd started, died */
};

void runshare_init(struct runshare *);
/* Read qemu.share and check each directory as the developer (pure of
 * changes: the same for --dry-run). 0 or -errno with why. */
int runshare_check(struct runshare *, const struct config *,
    const struct priv *, char *why, size_t whylen);
/* Once the run's journal exists (runnet_up): the dead runs' journals
 * replayed (what they left stopped), a virtiofsd per virtiofs share,
 * QEMU's sockets appended to keep. 0 or -errno with why (runshare_down
 * stops what started). */
int runshare_up(struct runshare *, struct runnet *, int *keep, size_t max,
    size_t *n, char *why, size_t whylen);
/* After QEMU started: qrun's copies of QEMU's sockets closed. */
void runshare_spawned(struct runshare *);
/* The virtiofsds as participants (LOOP_HELPER_EXITED). */
void runshare_watch(struct runshare *, struct loop *);
/* After LOOP_HELPER_EXITED: was it one of ours (why: which, how)?
 * virtiofsd_died's answer for it, 0 when none. */
int runshare_gone(struct runshare *, char *why, size_t whylen);
/* Stop every virtiofsd (after QEMU; before the undo). */
void runshare_down(struct runshare *);

/* ------------------------------------------------------------------ vm.c */

/* Room a console output hook may grow the buffer by (see vm_spec.out). */
#define VM_OUT_ROOM	16

#define KEEP_FDS_MAX	(NIC_MAX * 2 * QUEUE_MAX + 4 + SHARE_MAX)

struct vm_spec {
	const struct strv *argv;
	const struct priv *priv;
	pid_t parent;		/* getpid() of qrun */
	int keep_fds[KEEP_FDS_MAX];	/* inherited by QEMU (tap queues,
					 * vhost) */
	size_t nkeep;
	bool serial_pipe;	/* QEMU's stdout (the console) to qrun */
	bool stdin_pipe;	/* with serial_pipe: QEMU's stdin from qrun */
	/* A QMP socket pair (qmp_socketpair), 0 for none: QEMU's end is
	 * inherited by QEMU and closed in qrun by vm_spawn; qrun's end, if
	 * given, belongs to the vm from vm_spawn on, for vm_stop's quit. */
	int qmp_fd, qmp_ours;
	/* The console's bytes as read, before they are split into lines
	 * (echo, serial log, the shell's display); returns how many are
	 * left (it may drop some; buf has room for VM_OUT_ROOM more). */
	size_t (*out)(void *arg, char *buf, size_t n);
	void *out_arg;
};

/*
 * A running QEMU. vm.part is its participant: QEMU's exit ends the turn
 * with LOOP_VM_EXITED (after the console is read to its end), console
 * lines go to the loop's line hooks, and the events they return end the
 * turn.
 */
struct vm {
	pid_t pid;		/* -1 once reaped */
	bool setup_failed;	/* vm_spawn: the child failed before exec */
	int status;		/* wait status */
	bool exited;
	int serial_fd;		/* serial_pipe: the console, else -1 */
	int stdin_fd;		/* stdin_pipe: the console's input, else -1 */
	int qmp_fd;		/* qrun's end of QMP (vm_spec.qmp_ours), or -1 */
	long start_ms;
	size_t (*out)(void *arg, char *buf, size_t n);
	void *out_arg;
	char *line;		/* the console line being written */
	size_t line_len;
	struct loop_part part;
};

int vm_spawn(const struct vm_spec *, struct vm *);
/* Reap QEMU if it exited (block: wait); 1 when it is gone. */
int vm_reap(struct vm *, bool block);
/* Stop QEMU and reap it: QMP quit when QEMU speaks QMP (it then exits
 * without a word), else SIGTERM (and QEMU says "terminating on signal
 * 15"); SIGKILL after a grace period. The console's unread output is
 * dropped. */
void vm_stop(struct vm *);
void vm_free(struct vm *);

/* ------------------------------------------------------------- explain.c */

/*
 * The console line that explains a failure: the first that carries a
 * sign of trouble (a panic, a BUG, an Oops, an initramfs that did not
 * unpack, no root file system...: explain.c's table, qrun(1) FAILURE
 * REPORT), with EXPLAIN_BEFORE lines before it and EXPLAIN_AFTER after.
 * Pure; keeps at most EXPLAIN_LINES lines however long the console.
 */
#define EXPLAIN_BEFORE	5
#define EXPLAIN_AFTER	3
#define EXPLAIN_LINES	(EXPLAIN_BEFORE + 1 + EXPLAIN_AFTER)

struct explain {
	char *ring[EXPLAIN_BEFORE];	/* the last lines, until found */
	char *block[EXPLAIN_LINES];	/* once found: the lines to show */
	size_t n;			/* in block */
	unsigned long seen;		/* whole lines fed */
	unsigned long first, at;	/* numbers (from 0) of block[0] and
					 * of the explaining line */
	bool found;
};

/* The sign of trouble line carries, or NULL. */
const char *explain_match(const char *line);
/* Feed one whole console line (zeroed struct to start). */
void explain_line(struct explain *, const char *line);
/* The block appended to out, with the numbers of its first line and of
 * the explaining one; false when no line explained anything. */
bool explain_block(const struct explain *, unsigned long *first,
    unsigned long *at, struct strv *out);
void explain_free(struct explain *);

/* --------------------------------------------------------------- batch.c */

/*
 * Batch supervision as a participant: --expect and --fail against every
 * console line, the --timeout deadline, and for the report of a failure
 * the line that explains it (explain.c) and the last console lines
 * (nothing here prints). After LOOP_FAILED, batch_linger keeps taking
 * the console until it is quiet (LOOP_QUIET), so the report shows the
 * whole failure, a panic's reason and the start of its trace.
 */
#define BATCH_TAIL	20

struct batch {
	const regex_t *expect, *fail;	/* NULL: none */
	long deadline_ms;	/* CLOCK_MONOTONIC ms, -1 = none */
	char *tail[BATCH_TAIL];
	int tail_pos;
	unsigned long nlines;	/* whole lines seen */
	unsigned long freeze_at; /* --fail matched: keep the tail from here */
	char *partial;		/* the line being written, or NULL */
	bool failed;
	bool lingering;
	long linger_end, quiet_at;
	struct explain explain;	/* the first sign of trouble */
	struct loop_part part;
};

/* expect, fail: NULL for none (borrowed); deadline_ms -1 for none. */
void batch_init(struct batch *, const regex_t *expect, const regex_t *fail,
    long deadline_ms);
void batch_free(struct batch *);
/* After LOOP_FAILED: the turns end with LOOP_QUIET once the console is
 * quiet, after a bound, or when the failing line is the oldest kept. */
void batch_linger(struct batch *);
/* The console lines to show: the last BATCH_TAIL kept (from the one
 * --fail matched), then the one being written; appended to out. */
void batch_tail(const struct batch *, struct strv *out);
/* The lines around the one that explains the failure (explain.c) that
 * batch_tail does not show, appended to out; the explaining line's
 * number (from 1) when they are to be shown, else 0 (none, or it is
 * among the last lines). */
unsigned long batch_explain(const struct batch *, struct strv *out);
/* Has the console said anything at all? */
bool batch_heard(const struct batch *);

/* ------------------------------------------------------------- results.c */

/*
 * The guest's test results in a batch run (--ktap, --junit): ktap.c fed
 * every whole console line as a participant (LOOP_REPORT once the report
 * is complete), then the report and the JUnit file. Prints only to the
 * FILE * given.
 */
struct ktap;

struct results {
	struct ktap *k;		/* NULL: neither --ktap nor --junit */
	FILE *junit;		/* opened as the developer, or NULL */
	const char *path;	/* test.junit */
	bool made;		/* the file was not there: removed again when
				 * the guest never ran (results_free) */
	const struct priv *pv;
	bool done;		/* the report is complete */
	struct loop_part part;
};

/* Ready r for c's test.ktap/test.junit: the JUnit file opened (created or
 * truncated) with pv's user's rights. 0, or -errno with why and nothing
 * made. */
int results_open(struct results *, const struct config *c,
    const struct priv *pv, char *why, size_t whylen);
/* Its participant, NULL when there are no results to read. */
struct loop_part *results_part(struct results *);
/* The console ended: the report to out ("no KTAP or TAP report ..."
 * first when there was none), the JUnit file written (testsuites name).
 * ktap_exit's status, or EXIT_QRUN with why when the file could not be
 * written. */
int results_finish(struct results *, FILE *out, const char *name,
    char *why, size_t whylen);
/* A JUnit file never written (the run failed before QEMU) is removed
 * again when results_open made it. */
void results_free(struct results *);

/* ----------------------------------------------------------------- qmp.c */

struct qmp;

/* A socket pair for QMP, both ends close-on-exec: QEMU inherits *qemus
 * (vm_spec.keep_fds, qemu_opts.qmp_fd), qrun keeps *ours. 0 or -errno. */
int qmp_socketpair(int *ours, int *qemus);
/* A client on our end of the pair (owned from now on, also on failure);
 * the handshake is sent at once and completes as QEMU starts. 0 or
 * -errno. */
int qmp_attach(int fd, struct qmp **);
/* Has QEMU greeted (reading what is there, without waiting)? A QEMU
 * stand-in never does. */
bool qmp_alive(struct qmp *);
void qmp_close(struct qmp *);
int qmp_fd(const struct qmp *);
/* Run cmd (args_json: an object's JSON text, or NULL); the reply is
 * matched by id, events read meanwhile are queued. 0 with *result the
 * JSON text of "return", -EIO with *result the error's desc (or NULL),
 * -ETIMEDOUT, -EPIPE. *result is malloc'd. */
int qmp_execute(struct qmp *, const char *cmd, const char *args_json,
    int timeout_ms, char **result);
/* Read what the socket holds (after poll); 0, -EPIPE at EOF, -errno. */
int qmp_input(struct qmp *);
/* The next queued event: its name ("RESET"...), with ":guest" added
 * when the guest caused it; malloc'd; NULL when none. */
char *qmp_event_next(struct qmp *);

/* ---------------------------------------------------------------- repl.c */

/*
 * The shell's input: GNU readline's callback interface on a terminal,
 * plain lines otherwise. Fill out with candidates for the word text that
 * starts at byte start of line; return 1 to complete file names instead.
 */
typedef int repl_complete_fn(const char *line, int start, const char *text,
    struct strv *out);

struct repl_conf {
	bool tty;		/* stdin is a terminal: readline and a prompt */
	const char *prompt;
	const char *history;	/* file, or NULL */
	const struct priv *as;	/* history and completion use these file
				 * rights (access_as_user); NULL: own */
	repl_complete_fn *complete;
};

int repl_open(const struct repl_conf *);
void repl_close(void);
/* Feed what stdin holds to the line editor; lines are queued. */
void repl_input(void);
/* The next queued line (malloc'd) or NULL; *eof once input ended. */
char *repl_line(bool *eof);
/* The prompt is shown (and stdin read) only between pause and resume. */
void repl_pause(void);
void repl_resume(void);
bool repl_active(void);
/* Text from elsewhere (the guest, events), printed above the prompt
 * and the half-typed line. */
void repl_output(const char *buf, size_t n);
void repl_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Ctrl-C at the prompt: forget the line, new prompt. */
void repl_interrupt(void);
/* While a command runs on a terminal: the keys typed meanwhile; returns
 * 3 (Ctrl-C) or 29 (Ctrl-]) when one of them was among them, else 0. */
int repl_read_key(void);

/* --------------------------------------------------------------- ready.c */

/*
 * Guest readiness (--ready / test.ready) and the host command run against
 * the guest (--run). A probe is "ping" (ICMP echo to the guest from the
 * host side), "tcp:PORT" (a TCP connect to the guest; in user mode to the
 * forwarded host port, counted only once the guest itself answers),
 * "serial:REGEX" (a console line matches), or "" (ready at once). Every
 * probe is non-blocking, a participant of the loop (ready_part): its
 * event ends a turn with LOOP_READY, or LOOP_TIMEOUT when the bound of
 * ready_start passed. Nothing here prints.
 */
struct ready;

/* Parse spec against the plan (pure): -EINVAL with why when the plan
 * cannot do it (ping in user mode, tcp:PORT without a forward, no guest
 * address). spec "" = ready at once. */
int ready_alloc(const char *spec, const struct netplan *, struct ready **,
    char *why, size_t whylen);
void ready_put(struct ready *);
/* Open what needs qrun's privileges (the ICMP socket): call before they
 * are dropped. 0 or -errno with why. */
int ready_open(struct ready *, char *why, size_t whylen);
/* Start (again) from now: probe timers reset; timeout_ms > 0 bounds this
 * wait (LOOP_TIMEOUT), 0 = no bound of its own. */
void ready_start(struct ready *, long timeout_ms);
/* The probe as a participant of the loop (remove it once it reported:
 * it stays ready). ready_line feeds it one console line, as the loop
 * does (LOOP_READY when serial:REGEX matches). */
struct loop_part *ready_part(struct ready *);
int ready_line(struct ready *, const char *line);
/* "guest 172.21.0.2 ready after 3.1 s (ping)", malloc'd, the time
 * counted from start_ms (CLOCK_MONOTONIC). */
char *ready_message(const struct ready *, long start_ms);

/* The host command: its own process group, stdin /dev/null, run as the
 * developer with no capabilities (priv_drop), environment plus the
 * QRUN_* variables of ready_env. */
struct ready_cmd {
	struct loop_child child;	/* in the loop: LOOP_CMD_EXITED */
	int exec_err;		/* errno when it could not start */
};

/* QRUN_GUEST_IP, QRUN_HOST_IP, QRUN_GUEST_IP6, QRUN_HOST_IP6 (IPv6 on
 * the link), QRUN_TAP, QRUN_MAC, QRUN_PORT_<guest>
 * (user mode, tcp forwards) as "NAME=VALUE"; HOME, USER, LOGNAME of the
 * developer when qrun acts for another user. */
void ready_env(const struct netplan *, const struct priv *, struct strv *);
/* 0; -ENOENT (not found: 127) or -EACCES (exec failed otherwise: 126),
 * exec_err saying why; another -errno (exec_err too) when the child
 * could not become the developer. */
int ready_cmd_spawn(struct ready_cmd *, const struct strv *argv,
    const struct strv *env, const struct priv *);
/* SIGTERM to its process group, SIGKILL after a grace period; reaps and
 * leaves the loop. */
void ready_cmd_stop(struct ready_cmd *);
/* Exit status as a shell reports it: N, or 128+N when killed by N. */
int ready_cmd_status(const struct ready_cmd *);

/* ---------------------------------------------------------------- ktap.c */

/*
 * Test results from the guest's console (--ktap, --junit): KTAP version 1
 * (KUnit, kselftest), TAP 13 and TAP 14, fed one whole console line at a
 * time (not the partial lines vm.c scans early for --expect: a line must
 * be fed once). Nested subtests follow indentation; a printk time stamp
 * is taken off and timed with; lines that are not KTAP are ignored.
 * Pure: nothing is printed but to the FILE * given. The counting rules
 * are at the top of ktap.c: leaves count, a suite with results does not
 * (unless it failed with none of them failing); TODO and XFAIL count as
 * skipped; planned tests that never came count as failed.
 */
struct ktap;

#define KTAP_RECORD	0x1	/* keep every result, for ktap_junit */

struct ktap_counts {
	unsigned long passed, failed, skipped;
	unsigned long xfail;	/* of skipped: TODO and XFAIL */
	unsigned long missing;	/* of failed: planned but never reported */
	bool bailed;		/* "Bail out!" */
	bool cut;		/* the console ended inside the report */
	bool seen;		/* a report started (version or plan line) */
};

struct ktap *ktap_alloc(unsigned flags);
void ktap_put(struct ktap *);
/* One console line, without its newline, read at now_ms (mono_ms()).
 * Returns 1 when this line completed the report (the top-level plan is
 * met, or a bail out), else 0; the caller may stop reading then. */
int ktap_line(struct ktap *, const char *line, long now_ms);
/* The console ended (guest exit, --timeout, EOF): what is open is cut
 * off and its missing tests counted. Call before the functions below. */
void ktap_end(struct ktap *, long now_ms);
void ktap_counts(const struct ktap *, struct ktap_counts *);
/* EXIT_OK when all passed (skips allowed), EXIT_GUEST on a failure, a
 * bail out, fewer tests than planned or no test at all. */
int ktap_exit(const struct ktap *);
/* The last test reached, "suite.case" ("" before any): live while the
 * report runs, after ktap_end only when the report was cut short. */
const char *ktap_last(struct ktap *);
/* Each failure ("FAIL suite.case # reason") with its diagnostic lines,
 * the bail out, where a cut-short report stopped, and the closing line
 * "N passed, N failed, N skipped". 0 or -EIO. */
int ktap_report(const struct ktap *, FILE *);
/* JUnit XML (Jenkins, GitLab): <testsuites name=NAME>, a <testsuite>
 * per top-level suite and one named NAME for top-level tests that are
 * not suites, a <testcase> per counted test (classname the suite path),
 * <failure> with the diagnostics, <skipped/>. Needs KTAP_RECORD
 * (-EINVAL otherwise); 0 or -EIO. The caller opens f as the user. */
int ktap_junit(const struct ktap *, FILE *, const char *name);

#endif /* QRUN_H */
