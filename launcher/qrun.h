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

#define QRUN_VERSION "0.1.0"

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
	bool batch;		/* any of timeout/expect/success_code/ready set */
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
char *state_dir(bool privileged_for_other);

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
	struct forward fwd[32];
	size_t nfwd;
	bool keep;
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
};

struct net_addr {
	struct in_addr addr;
	int prefix;
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
/* /dev/net/tun: create a persistent tap owned by uid (and gid when
 * != (gid_t)-1). */
int net_tap_create(const char *name, uid_t owner, gid_t group);
/* Open one queue of an existing tap: IFF_TAP|IFF_NO_PI|IFF_VNET_HDR;
 * returns the fd (close-on-exec cleared by the caller) or -errno. */
int net_tap_open(const char *name);
int net_bridge_create(struct net *, const char *name);

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
 * journaling each change first. -errno with one sentence in why. */
int ensure_tap(struct net *, struct journal *, const struct netplan *,
    const struct priv *, char *why, size_t whylen);

/* ---------------------------------------------------------------- priv.c */

/* Who the developer is, and what qrun may do on their behalf. */
struct priv {
	uid_t uid;		/* the developer (SUDO_UID under sudo) */
	gid_t gid;
	char user[64];		/* login name, for MACs and messages */
	bool root;		/* euid 0 */
	bool for_other;		/* elevated on behalf of another user */
};

int priv_init(struct priv *);
/* In the QEMU child: become the developer, no capabilities, no new
 * privileges. 0 or -errno. */
int priv_drop(const struct priv *);

/* ------------------------------------------------------------------ vm.c */

enum vm_event {
	VM_EXITED = 1,		/* QEMU exited (status in vm.status) */
	VM_MATCHED,		/* --expect matched */
	VM_FAILED,		/* --fail matched */
	VM_TIMEOUT,
	VM_SIGNAL,		/* qrun got SIGINT/SIGTERM/SIGHUP */
	VM_EOF,
};

struct vm_spec {
	const struct strv *argv;
	const struct priv *priv;
	pid_t parent;		/* getpid() of qrun */
	int keep_fds[4];	/* inherited by QEMU (the tap queue) */
	size_t nkeep;
	bool serial_pipe;	/* QEMU's stdout (the console) to qrun */
	bool echo;		/* pass the console through to stdout */
	FILE *log;		/* --serial-log, or NULL */
	regex_t *expect, *fail;
	long timeout_s;		/* 0 = none */
};

struct vm {
	pid_t pid;		/* -1 once reaped */
	int status;		/* wait status */
	bool exited;
	int serial_fd;
	long start_ms;
	char *tail[20];
	int tail_pos;
	char *line;
	size_t line_len;
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

#endif /* QRUN_H */
