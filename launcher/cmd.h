/*
 * cmd.h - the command layer's view of parsed options and the command
 * table. Private to main.c and the cmd_*.c files that implement commands.
 */
#ifndef CMD_H
#define CMD_H

#include "qrun.h"

struct opts {
	const char *profile;
	struct strv overrides;		/* KEY=VALUE, in order */
	struct strv override_where;	/* "-o KEY" or "--timeout" */
	struct strv args;		/* positionals (command, image, ...) */
	size_t argi;			/* first positional after the command */
	struct strv extra;		/* after "--": verbatim to QEMU */
	struct strv run;		/* --run CMD ARGS... */
	const char *owner, *group, *addr, *uplink;
	const char *vxlan, *remote, *dev, *local;	/* bridge create */
	bool dry_run, json, interactive, quiet, verbose;
};

/* A row of main.c's command table: a command, or one verb of it (tap
 * create, tap delete, ...: adjacent rows of one name). Its options are
 * those of main.c's option table that name its bit. */
struct cmd {
	const char *name;
	const char *verb;	/* NULL, or "create", "delete", "list" */
	unsigned bit;		/* C_* */
	int (*fn)(struct opts *);
	const char *args;	/* its positionals, for the usage line */
	int nargs;		/* at most this many; -1: fn checks */
	const char *help;
};

/* The image's type, read with the developer's rights; prints; 0 or 125. */
int image_load(const struct priv *, const char *img, enum image_type *);
/* The guest memory in MiB: qemu.memory, or for "auto" what the kernel
 * and initrd need (read with the developer's rights). */
long boot_memory(const struct config *, const struct priv *,
    const char *image, enum image_type);
/* How kvm:tcg was decided, as a "# accel:" line of a dry run or a
 * warning (-v). */
void accel_say(const struct accel_probe *, bool dry_run);
/* vm_spawn failed with r: say why; 127/126 for exec, else 125. */
int spawn_failed(const struct vm *, int r, const char *binary);
/* profile_load with the developer's file rights and -p ownership rule. */
int user_profile_load(const struct priv *, struct config *,
    const struct profile_src *, struct strv *diags);
/* Load the profile and plan the network; prints every problem; 0 or 125. */
int boot_load(struct opts *, struct config *, struct netplan *,
    const struct priv *);

int cmd_boot(struct opts *);
int cmd_check(struct opts *);
int cmd_cleanup(struct opts *);
int cmd_status(struct opts *);
int cmd_tap(struct opts *);
int cmd_tap_list(struct opts *);
/* tap|bridge create|delete NAME: known verb, valid name, root; prints. */
int admin_check(const char *what, const char *verb, const char *name);
/* An admin command's hold on name: root's state dir, netlink, the lock
 * on name and a journal. admin_open prints; 0 or EXIT_QRUN. admin_done
 * keeps the journaled changes (ok) or undoes them, closes everything and
 * returns the exit status. */
struct admin {
	struct priv pv;
	char *state;
	struct net *net;
	struct journal *j;
	int lock_fd;
};
int admin_open(struct admin *, const char *name);
int admin_done(struct admin *, bool ok, const char *name);
int cmd_bridge(struct opts *);
/* The live qrun runs, from their journals: "pid" plus the info records
 * (tap, bridge, mode, ...) of each, as KEY, VALUE pairs. */
struct runs {
	struct strv *kv;
	size_t n;
};
void runs_load(const char *state, struct runs *);
void runs_free(struct runs *);
/* A run's VALUE for KEY, or NULL. */
const char *run_get(const struct strv *kv, const char *key);
/* The first run on tap and bridge (NULL: any), or NULL. */
const struct strv *run_find(const struct runs *, const char *tap,
    const char *bridge);
/* A list command: the links of kind, each printed by one() after the
 * header, then after() (NULL: nothing). */
struct lister {
	const char *cmd;	/* "tap list", for errors */
	const char *kind;	/* the links' kind: "tun", "bridge" */
	const char *header;	/* the first line, with its newline */
	void (*one)(struct net *, const struct net_link *,
	    const struct runs *);
	void (*after)(const struct runs *);
};
/* Run it over at most max links in l; EXIT_OK or EXIT_QRUN. */
int list_links(const struct lister *, struct net_link *l, size_t max);
int cmd_help(struct opts *);
int cmd_shell(struct opts *);
int cmd_doctor(struct opts *);

#endif
