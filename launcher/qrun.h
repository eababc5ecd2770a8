/*
 * qrun.h - the one private header of qrun.
 *
 * Layers, top to bottom:
 *   main.c     command table, option parsing, the command layer (prints)
 *   profile.c  libconfig layering and validation  -> struct config   (pure-ish)
 *   image.c    image type detection                                 (reads)
 *   netplan.c  config -> struct netplan                             (pure)
 *   qemu.c     config + plan + image -> argv                        (pure)
 *   net.c      /dev/net/tun ioctls and rtnetlink via libnl-route-3  (host)
 *   journal.c  write-ahead undo journal and per-tap locks           (host)
 *   vm.c       fork/exec/supervise QEMU, signals, batch scanning    (host)
 *
 * Lower layers return 0 or -errno and print nothing; the command layer
 * prints once, prefixed "qrun: ".
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

/* Exit status, DESIGN.md section 7. */
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
void strv_pushf(struct strv *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void strv_free(struct strv *);
int strv_contains(const struct strv *, const char *);

void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
char *xstrdup(const char *);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Shell-quote one word so it can be pasted into sh; returns malloc'd. */
char *shell_quote(const char *);

/* Valid interface name: 1..IFNAMSIZ-1 bytes, no '/', whitespace, "..". */
int ifname_check(const char *name, const char **why);

/* Parse "A.B.C.D/P" (P required when need_prefix) or "A.B.C.D". */
int parse_ipv4(const char *s, struct in_addr *addr, int *prefix,
    bool need_prefix);
int parse_mac(const char *s, uint8_t mac[6]);
/* A user's POSIX extended regex (REG_NOSUB), refusing ones that would
 * take glibc exponential time; 0, or -EINVAL with the reason in why. */
int regex_compile(regex_t *, const char *pat, char *why, size_t len);
/* The netmask of prefix (0..32), host byte order. */
uint32_t prefix_mask(int prefix);
/* Milliseconds on the monotonic clock. */
long mono_ms(void);
/* Parse a decimal integer in [min, max]; 0 or -EINVAL/-ERANGE. */
int parse_long(const char *s, long min, long max, long *out);

/* ------------------------------------------------------------- profile.c */

enum net_mode { NET_USER, NET_TAP, NET_BRIDGE, NET_NONE };

/*
 * Keys of the schema, in the order of profile.c's table. struct config
 * records where each key's value came from, for error messages.
 */
enum cfg_key {
	K_QEMU_BINARY, K_QEMU_ACCEL, K_QEMU_MEMORY, K_QEMU_CPUS,
	K_QEMU_INITRD, K_QEMU_APPEND, K_QEMU_ARGS,
	K_NET_MODE, K_NET_TAP, K_NET_HOST_ADDR, K_NET_GUEST_ADDR, K_NET_MAC,
	K_NET_MODEL, K_NET_BRIDGE, K_NET_FORWARDS, K_NET_KEEP, K_NET_CAPTURE,
	K_TEST_TIMEOUT, K_TEST_EXPECT, K_TEST_FAIL, K_TEST_SUCCESS_CODE,
	K_TEST_READY, K_TEST_SERIAL_LOG,
	K_COUNT
};

struct config {
	char *qemu_binary;
	char *qemu_accel;	/* "kvm", "tcg", "kvm:tcg" */
	long qemu_memory;	/* MiB */
	long qemu_cpus;
	char *qemu_initrd;	/* "" = none */
	char *qemu_append;
	struct strv qemu_args;

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

	long test_timeout;	/* seconds, 0 = none */
	char *test_expect;	/* "" = none */
	char *test_fail;	/* "" = none */
	long test_success_code;	/* -1 = none */
	char *test_ready;	/* "" = none */
	char *test_serial_log;	/* "" = none */

	/* "FILE:LINE", "-o KEY", "--option" or "default", per key. */
	char *where[K_COUNT];
	bool batch;	/* any of timeout/expect/success_code/ready set */
};

/* Where profiles come from; all NULL = the standard places. */
struct profile_src {
	const char *profile;		/* -p NAME|PATH, or NULL */
	const struct strv *overrides;	/* "KEY=VALUE" (-o and options) */
	const struct strv *override_where; /* parallel: "-o KEY", "--timeout" */
	bool privileged_for_other;	/* ignore QRUN_* environment */
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
/* Set one key from text (the -o path), recording where. 0 or -EINVAL
 * with the reason appended to diags. A where starting with '-' names the
 * key itself ("-o net.tap", "--timeout"): diags read "WHERE: reason";
 * any other where ("FILE:LINE", "set") reads "WHERE: KEY: reason".
 * where NULL means "-o KEY". Key "K+" appends one element to list K. */
int profile_set(struct config *, const char *key, const char *value,
    const char *where, struct strv *diags);
/* Render a key's current value as text (for show/--dry-run). */
char *profile_get(const struct config *, int idx);
/* Directories: QRUN_CONFIG_DIR or XDG; QRUN_STATE_DIR or /run/qrun or
 * $XDG_RUNTIME_DIR/qrun. Malloc'd. */
char *profile_config_dir(bool privileged_for_other);
/* /etc/qrun, or $QRUN_SYSCONF_DIR (tests) unless elevated for a user. */
char *profile_sysconf_dir(bool privileged_for_other);
char *state_dir(bool privileged_for_other);
/* The profile NAMEs -p finds (the config dir's NAME.conf but qrun.conf,
 * the system profiles), sorted, appended to out. */
void profile_names(bool privileged_for_other, struct strv *out);

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

/* ------------------------------------------------------------- netplan.c */

struct forward {
	char proto[4];		/* "tcp" or "udp" */
	uint16_t host_port;
	uint16_t guest_port;
};

struct netplan {
	enum net_mode mode;
	char tap[IFNAMSIZ];
	char bridge[IFNAMSIZ];
	struct in_addr host;	/* tap mode: the host side of the tap */
	int prefix;
	struct in_addr guest;	/* guest hint; INADDR_ANY = none */
	struct in_addr gw;	/* INADDR_ANY = none */
	bool have_guest;
	uint8_t mac[6];
	char model[64];
	/* bridge mode: the bridge's IPv4 networks, "10.10.0.0/16, ...",
	 * filled from the host by bridge_ensure_port ("" = not read yet) */
	char lan[96];
	struct forward fwd[32];
	size_t nfwd;
	bool keep;
	bool plain_frames;	/* net.capture: the tap without IFF_VNET_HDR
				 * (QEMU 7.2's filter-dump would write the
				 * virtio-net header into the pcap) */
};

/* Pure: decide mode, tap, addresses, MAC. user is the developer's login
 * name (for the stable MAC). Problems go to diags. 0 or -EINVAL. */
int netplan_make(const struct config *, const char *user,
    struct netplan *, struct strv *diags);
/* The default host address for tapN, N = 0..11: 172.(20+N).0.1/16. */
int netplan_tap_default(const char *tap, struct in_addr *host,
    struct in_addr *guest, int *prefix);
void netplan_mac(const char *tap, const char *user, uint8_t mac[6]);
/* "ip=GUEST::GW:MASK::eth0:off" or NULL when there is nothing to say. */
char *netplan_kernel_ip(const struct netplan *);
/* The one-line hint, without "qrun: ". */
char *netplan_hint(const struct netplan *);
/* "A.B.C.D" into buf[INET_ADDRSTRLEN]. */
const char *ip_str(struct in_addr, char *buf);

/* ---------------------------------------------------------------- qemu.c */

struct qemu_opts {
	const char *image;
	enum image_type type;
	const char *accel;	/* resolved: "kvm" or "tcg" */
	int tap_fd;		/* >= 0: -netdev tap,fd=N; < 0: ifname= form */
	const char *qmp_path;	/* NULL = no QMP socket */
	bool serial_pipe;	/* batch: serial on stdio for qrun to scan */
	const struct strv *extra;	/* after "--" */
};

/* Pure: the whole argv, argv.v[0] = qemu.binary. */
void qemu_argv(const struct config *, const struct netplan *,
    const struct qemu_opts *, struct strv *argv);
/* "kvm:tcg" -> "kvm" when kvm_usable, else "tcg". */
const char *qemu_accel_pick(const char *accel, bool kvm_usable);
bool qemu_kvm_usable(void);	/* /dev/kvm opens read-write */
/* The argv as one shell-quoted line; malloc'd. */
char *qemu_cmdline(const struct strv *argv);

/* ----------------------------------------------------------------- net.c */

struct net;			/* an rtnetlink socket (libnl) */

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
};

struct net_addr {
	struct in_addr addr;
	int prefix;
	uint32_t valid;		/* seconds left; UINT32_MAX = forever */
};

int net_open(struct net **);
void net_close(struct net *);
/* Targeted lookup by name: 0, -ENODEV when missing, -errno. */
int net_link_get(struct net *, const char *name, struct net_link *);
int net_link_get_index(struct net *, int ifindex, struct net_link *);
/* Every link of one kind (for list commands, not the boot path). */
int net_link_list(struct net *, const char *kind, struct net_link *out,
    size_t max, size_t *count);
/* The IPv4 addresses of one link (targeted, no full dump). */
int net_addr_list(struct net *, int ifindex, struct net_addr *out,
    size_t max, size_t *n);
int net_addr_add(struct net *, int ifindex, struct in_addr, int prefix);
int net_addr_del(struct net *, int ifindex, struct in_addr, int prefix);
int net_link_set_up(struct net *, int ifindex, bool up);
/* master 0 releases. */
int net_link_set_master(struct net *, int ifindex, int master);
int net_link_set_mtu(struct net *, int ifindex, unsigned mtu);
int net_link_delete(struct net *, int ifindex);
/* Is there an IPv4 route of the main table, not via exclude_ifindex,
 * whose network overlaps addr/prefix? 1 (and its interface name in
 * ifname), 0, or -errno. The default route does not count. */
int net_route_overlap(struct net *, struct in_addr, int prefix,
    int exclude_ifindex, char ifname[IFNAMSIZ]);
/* The interface traffic for dst goes out of (a single route lookup);
 * 0 in *oif when unreachable. */
int net_route_oif(struct net *, struct in_addr dst, int *oif);
/* /dev/net/tun: create a persistent tap owned by uid (and gid when
 * != (gid_t)-1). */
int net_tap_create(const char *name, uid_t owner, gid_t group);
/* The same, returning the creator's queue (IFF_VNET_HDR when vnet_hdr),
 * close-on-exec, for QEMU's fd=, and the new link in *l (no
 * RTM_GETLINK); or -errno. */
int net_tap_create_open(struct net *, const char *name, uid_t owner,
    gid_t group, bool vnet_hdr, struct net_link *l);
/* Open one queue of the tap l, as just looked up (IFF_TAP|IFF_NO_PI, and
 * the tap's own IFF_VNET_HDR unless no_vnet_hdr); returns the fd,
 * close-on-exec, or -errno. */
int net_tap_open(const struct net_link *l, bool no_vnet_hdr);
int net_bridge_create(struct net *, const char *name);
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

/* An IPv4 unicast route of the main table through one interface. */
struct net_route {
	struct in_addr dst;
	int prefix;
	struct in_addr gw;	/* INADDR_ANY = none (scope link) */
	int ifindex;
	unsigned metric;
	unsigned char proto;	/* RTPROT_* */
	unsigned table;		/* as read; adding/deleting uses main */
	bool multipath;		/* as read: RTA_MULTIPATH */
};

/* The unicast routes of the main table through exactly ifindex, kernel
 * filtered; proto kernel routes (of addresses) are left out. Any other
 * route with a hop through ifindex (multipath, another table) is only
 * counted in *nother, the first one copied to *other. -ENOSPC when more
 * than max. */
int net_route_list_dev(struct net *, int ifindex, struct net_route *out,
    size_t max, size_t *n, struct net_route *other, size_t *nother);
/* Add (-EEXIST when exactly this route exists) or delete (-ESRCH when
 * missing) one route of the main table. */
int net_route_add(struct net *, const struct net_route *);
int net_route_del(struct net *, const struct net_route *);

/* ------------------------------------------------------------- journal.c */

/*
 * One journal file per run in the state dir: "run-PID.journal", first
 * line "qrun-journal 1 pid PID uid UID start TICKS". Each record is
 * written and fdatasync'ed before the change it describes:
 *     tap-create TAP
 *     addr-add TAP A.B.C.D/P
 *     link-up TAP
 *     enslave TAP BRIDGE
 *     mtu TAP OLD NEW
 *     bridge-create BR
 *     addr-del IF A.B.C.D/P             (bridge create/delete: moves)
 *     route-add IF DST/P GW METRIC PROTO
 *     route-del IF DST/P GW METRIC PROTO
 *     release PORT BR
 *     bridge-delete BR
 *     info KEY VALUE        (run metadata for status; undo ignores it)
 * journal_log refuses (-EINVAL) a line that does not parse. Undo walks
 * it backwards, touching only what still looks as qrun left it. The
 * state dir must be ours and not group/world-writable (-EPERM).
 * Locks: "TAP.lock", flock'ed, holding the pid.
 */
struct journal;

int journal_open(const char *state_dir, struct journal **);
int journal_log(struct journal *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int journal_vlog(struct journal *, const char *fmt, va_list)
    __attribute__((format(printf, 2, 0)));
/* Undo everything in reverse, delete the file, free. */
int journal_undo(struct journal *, struct net *);
/* Forget the changes (net.keep), delete the file, free. */
void journal_close(struct journal *);
/* Replay every journal in state_dir whose writer is dead; count them. */
int journal_cleanup(const char *state_dir, struct net *, int *n_undone);
/* The change just logged did not happen (e.g. -EEXIST): drop its record. */
int journal_cancel(struct journal *);
/* Paths ("STATE/run-PID.journal") of the journals of live runs. */
int journal_runs(const char *state_dir, struct strv *out);
/* A journal's "info KEY VALUE" records, pushed as KEY, VALUE pairs. */
int journal_read_info(const char *path, struct strv *kv);
/* Count the records of a journal and the lines undo would skip. */
int journal_scan(const char *path, int *records, int *skipped);

/* Exclusive lock on a tap; -EBUSY with *holder = its pid. */
int lock_tap(const char *state_dir, const char *tap, int *fd, pid_t *holder);
void unlock_tap(int fd);

/* -------------------------------------------------------------- ensure.c */

struct priv;

/* Local mode: make the planned tap exist, owned, addressed and up,
 * journaling each change first. -errno with one sentence in why. On
 * success the link is the tap as it now is. A tap made here leaves its
 * open queue in *fd (fd not NULL), also when a later step fails: the
 * caller closes it (after the undo); else *fd is untouched. */
int ensure_tap(struct net *, struct journal *, const struct netplan *,
    const struct priv *, struct net_link *, int *fd, char *why,
    size_t whylen);
/* May an existing link serve as the developer's tap (a tap, theirs, and
 * in local mode no bridge port)? 0 or -errno with the reason in why. */
int ensure_check_tap(const struct net_link *, const struct priv *,
    enum net_mode, char *why, size_t whylen);
/* Shared with bridge.c: journal one change first (the reason in why),
 * and create the developer's tap (an admin hint on EPERM). */
int ensure_log(struct journal *, const char *tap, char *why, size_t whylen,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int ensure_create_tap(struct net *, struct journal *, const struct netplan *,
    const struct priv *, struct net_link *, int *fd, char *why,
    size_t whylen);

/* -------------------------------------------------------------- bridge.c */

/* Bridged mode: read the bridge's IPv4 networks into p->lan and the
 * prefix of the one holding the planned guest into p->prefix; a guest
 * outside every network is -EDOM, a missing bridge -ENODEV (why says
 * the admin command). Reads only. */
int bridge_read_lan(struct net *, struct netplan *, char *why,
    size_t whylen);
/* Bridged mode: make the planned tap exist (the developer's), without
 * address, with the bridge's MTU, enslaved and up, journaling each change
 * first; fills p->lan and p->prefix. -errno with one sentence in why.
 * The link and *fd as for ensure_tap. */
int bridge_ensure_port(struct net *, struct journal *, struct netplan *,
    const struct priv *, struct net_link *, int *fd, char *why,
    size_t whylen);

/* -------------------------------------------------------------- runnet.c */

/* One run's hold on the host network (boot and shell share it). */
struct runnet {
	struct netplan *plan;
	const struct priv *priv;
	char *state;		/* the state dir */
	struct net *net;
	struct journal *journal;
	int lock_fd, tap_fd;
};

void runnet_init(struct runnet *, struct netplan *, const struct priv *);
/* Journal the run; in tap/bridge mode lock, replay, ensure, open the tap.
 * Prints; 0 or EXIT_QRUN (then runnet_down undoes). */
int runnet_up(struct runnet *, const char *image);
void runnet_down(struct runnet *);

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

/* ------------------------------------------------------------------ vm.c */

enum vm_event {
	VM_EXITED = 1,		/* QEMU exited (status in vm.status) */
	VM_MATCHED,		/* --expect matched */
	VM_FAILED,		/* --fail matched */
	VM_TIMEOUT,
	VM_SIGNAL,		/* qrun got SIGINT/SIGTERM/SIGHUP */
	VM_EOF,
	VM_READY,		/* the readiness probe succeeded (ready.c) */
	VM_RUN_EXITED,		/* the host command exited (ready.c) */
};

/*
 * Another participant in vm_wait's one poll loop (ready.c's probe and
 * host command). prepare fills *pfd (fd -1: none) and returns the ms
 * until it wants event called again (-1: only when pfd fires); event
 * runs after every poll (revents may be 0) and line on every console
 * line (NULL: none); both return 0 to go on or a VM_* event that ends
 * vm_wait.
 */
struct pollfd;
struct vm_hook {
	int (*prepare)(void *arg, struct pollfd *pfd);
	int (*event)(void *arg, const struct pollfd *pfd);
	int (*line)(void *arg, const char *line);
	void *arg;
};

struct vm_spec {
	const struct strv *argv;
	const struct priv *priv;
	pid_t parent;		/* getpid() of qrun */
	int keep_fds[4];	/* inherited by QEMU (the tap queue) */
	size_t nkeep;
	bool serial_pipe;	/* QEMU's stdout (the console) to qrun */
	bool stdin_pipe;	/* with serial_pipe: QEMU's stdin from qrun */
	bool echo;		/* pass the console through to stdout */
	FILE *log;		/* --serial-log, or NULL */
	regex_t *expect, *fail;
	long timeout_s;		/* 0 = none */
	const struct vm_hook *hook;	/* NULL = none */
};

struct vm {
	pid_t pid;		/* -1 once reaped */
	bool setup_failed;	/* vm_spawn: the child failed before exec */
	int status;		/* wait status */
	bool exited;
	int serial_fd;
	int stdin_fd;		/* stdin_pipe: the console's input, else -1 */
	long start_ms;
	char *tail[20];
	int tail_pos;
	char *line;
	size_t line_len;
	unsigned long nlines;	/* lines that went to the tail */
	unsigned long freeze_at; /* --fail matched: tail full at, else 0 */
};

int vm_signals_init(void);
int vm_signal_fd(void);
int vm_signal_next(void);
void vm_signals_reset(void);
int vm_spawn(const struct vm_spec *, struct vm *);
int vm_wait(const struct vm_spec *, struct vm *, int *sig);
void vm_stop(struct vm *);
void vm_print_tail(struct vm *);
void vm_free(struct vm *);

/* ----------------------------------------------------------------- qmp.c */

struct qmp;

/* Connect to QEMU's QMP socket (retrying while it appears) and do the
 * capabilities handshake. 0 or -errno. */
int qmp_open(const char *path, int timeout_ms, struct qmp **);
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
 * probe is non-blocking and runs inside a poll loop: vm_wait through
 * ready_wait, or any other loop (the shell) through ready_prepare and
 * ready_event directly. Nothing here prints.
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
 * wait (VM_TIMEOUT from ready_event), 0 = no bound of its own. */
void ready_start(struct ready *, long timeout_ms);
/* One poll loop turn: prepare fills pfd and returns the poll timeout
 * (ms, -1 none); event returns VM_READY, VM_TIMEOUT or 0. ready_line
 * feeds a console line (VM_READY when serial:REGEX matches). */
int ready_prepare(struct ready *, struct pollfd *pfd);
int ready_event(struct ready *, const struct pollfd *pfd);
int ready_line(struct ready *, const char *line);
/* "guest 172.21.0.2 ready after 3.1 s (ping)", malloc'd; start_ms is
 * vm.start_ms (CLOCK_MONOTONIC). */
char *ready_message(const struct ready *, long start_ms);
/* vm_wait with the probe in the loop (s->hook is borrowed): VM_READY, or
 * whatever else ended the wait (VM_EXITED, VM_TIMEOUT, VM_SIGNAL...). */
int ready_wait(struct vm_spec *, struct vm *, struct ready *, int *sig);

/* The host command: its own process group, stdin /dev/null, run as the
 * developer with no capabilities (priv_drop), environment plus the
 * QRUN_* variables of ready_env. */
struct ready_cmd {
	pid_t pid;		/* -1 once reaped */
	bool setup_failed;	/* vm_spawn: the child failed before exec */
	int status;		/* wait status */
	int exec_err;		/* errno when it could not start */
};

/* QRUN_GUEST_IP, QRUN_HOST_IP, QRUN_TAP, QRUN_MAC, QRUN_PORT_<guest>
 * (user mode, tcp forwards) as "NAME=VALUE"; HOME, USER, LOGNAME of the
 * developer when qrun acts for another user. */
void ready_env(const struct netplan *, const struct priv *, struct strv *);
/* 0; -ENOENT (not found: 127) or -EACCES (exec failed otherwise: 126),
 * exec_err saying why; another -errno (exec_err too) when the child
 * could not become the developer. */
int ready_cmd_spawn(struct ready_cmd *, const struct strv *argv,
    const struct strv *env, const struct priv *);
/* vm_wait until the command exits (VM_RUN_EXITED) or something else
 * ends the run; the command is left running then (ready_cmd_stop). */
int ready_cmd_wait(struct vm_spec *, struct vm *, struct ready_cmd *,
    int *sig);
/* SIGTERM to its process group, SIGKILL after a grace period; reaps. */
void ready_cmd_stop(struct ready_cmd *);
/* Exit status as a shell reports it: N, or 128+N when killed by N. */
int ready_cmd_status(const struct ready_cmd *);

#endif /* QRUN_H */
