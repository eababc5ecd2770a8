/*
 * main.c - the command table, the option table and option parsing. Every
 * command (and, later, the shell) is dispatched from one table, matched
 * by unique prefix. Which command takes which option is said once, in
 * optdefs[]: each command's getopt, its usage line and its help are made
 * from it, so a command accepts only its own options, as vmctl's ctl_*
 * handlers do. The command layer is the only place that prints, once,
 * "qrun: ...".
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qrun.h"
#include "cmd.h"

/* One bit per command, and per verb of tap and bridge: optdefs[].cmds
 * says which of them take an option. */
enum {
	C_BOOT = 1 << 0,
	C_SHELL = 1 << 1,
	C_CHECK = 1 << 2,
	C_CLEANUP = 1 << 3,
	C_STATUS = 1 << 4,
	C_TAP_CREATE = 1 << 5,
	C_TAP_DELETE = 1 << 6,
	C_TAP_LIST = 1 << 7,
	C_BRIDGE_CREATE = 1 << 8,
	C_BRIDGE_DELETE = 1 << 9,
	C_BRIDGE_LIST = 1 << 10,
	C_DOCTOR = 1 << 11,
	C_HELP = 1 << 12,
	C_ALL = (1 << 13) - 1,		/* the global options */
	C_PROFILE = C_BOOT | C_SHELL | C_CHECK | C_DOCTOR,	/* -p, -o */
	C_KEYS = C_BOOT | C_SHELL | C_CHECK,	/* a key the shell uses too */
	C_BATCH = C_BOOT | C_CHECK,		/* a key of batch runs */
	C_QEMU_ARGS = C_BOOT | C_SHELL,		/* "-- QEMU-ARGS..." */
};

static const struct cmd cmds[] = {
	{ "boot", NULL, C_BOOT, cmd_boot, "IMAGE", -1,
	    "boot IMAGE (the default command)" },
	{ "check", NULL, C_CHECK, cmd_check, "", 0,
	    "validate the profile, print the plan" },
	{ "cleanup", NULL, C_CLEANUP, cmd_cleanup, "", 0,
	    "undo leftovers of crashed runs" },
	{ "status", NULL, C_STATUS, cmd_status, "", 0, "running qrun VMs" },
	{ "tap", "create", C_TAP_CREATE, cmd_tap, "TAP", 1,
	    "make a developer's persistent tap (admin)" },
	{ "tap", "delete", C_TAP_DELETE, cmd_tap, "TAP", 1,
	    "delete a tap (admin)" },
	{ "tap", "list", C_TAP_LIST, cmd_tap, "", 0,
	    "taps, their owners, addresses and runs" },
	{ "bridge", "create", C_BRIDGE_CREATE, cmd_bridge, "BRIDGE", 1,
	    "make a lab bridge, the uplink its port (admin)" },
	{ "bridge", "delete", C_BRIDGE_DELETE, cmd_bridge, "BRIDGE", 1,
	    "delete a bridge, giving the uplink back (admin)" },
	{ "bridge", "list", C_BRIDGE_LIST, cmd_bridge, "", 0,
	    "bridges, their addresses and ports" },
	{ "doctor", NULL, C_DOCTOR, cmd_doctor, "", 0,
	    "check host: tun, kvm, qemu, caps" },
	{ "shell", NULL, C_SHELL, cmd_shell, "[IMAGE]", -1,
	    "interactive shell: boot, reboot, wait... (also -i)" },
	{ "help", NULL, C_HELP, cmd_help, "[COMMAND]", -1,
	    "this text, or a command's" },
};

/* Long-only options: getopt values past any character. */
enum {
	O_INITRD = 256, O_CAPTURE, O_READY, O_TIMEOUT, O_EXPECT, O_FAIL,
	O_SUCCESS_CODE, O_SERIAL_LOG, O_DRY_RUN, O_RUN, O_OWNER, O_GROUP,
	O_ADDR, O_UPLINK, O_VXLAN, O_REMOTE, O_DEV, O_LOCAL, O_JSON,
	O_KTAP, O_JUNIT, O_SNAPSHOT, O_SHARE, O_GDB, O_GDB_WAIT,
};

/*
 * Every option, in the order of the usage lines. A new option is a row
 * here naming the commands that take it (and a case in take_opt unless
 * it sets a profile key); a new command is a row of cmds[] with a new
 * C_ bit, added to the rows of the options it takes.
 */
static const struct optdef {
	const char *name;	/* long name */
	int val;		/* short letter, or O_* */
	const char *arg;	/* its argument; NULL: a flag */
	const char *key;	/* the profile key it sets, or NULL */
	unsigned cmds;		/* C_* of the commands taking it */
	unsigned need;		/* C_* of those requiring it */
	const char *help;
} optdefs[] = {
	{ "profile", 'p', "PROFILE", NULL, C_PROFILE, 0,
	    "profile NAME or PATH to load" },
	{ "set", 'o', "KEY=VALUE", NULL, C_PROFILE, 0,
	    "set a profile key (repeatable)" },
	{ "net", 'n', "MODE", "net.mode", C_KEYS, 0,
	    "user, tap, bridge, switch or none" },
	{ "tap", 't', "TAP", "net.tap", C_KEYS, 0, "the tap to use" },
	{ "bridge", 'b', "BRIDGE", "net.bridge", C_KEYS, 0,
	    "the bridge, in bridged mode" },
	{ "memory", 'm', "MIB", "qemu.memory", C_KEYS, 0, "guest memory" },
	{ "initrd", O_INITRD, "FILE", "qemu.initrd", C_KEYS, 0,
	    "initramfs for a kernel image" },
	{ "capture", O_CAPTURE, "FILE.pcap", "net.capture", C_KEYS, 0,
	    "record the guest's traffic" },
	{ "ready", O_READY, "SPEC", "test.ready", C_KEYS, 0,
	    "wait for the guest: ping, ping6, tcp:PORT, serial:REGEX" },
	{ "share", O_SHARE, "DIR[:TAG][:ro]", "qemu.share", C_KEYS, 0,
	    "a host directory in the guest (virtiofs)" },
	{ "snapshot", O_SNAPSHOT, NULL, "qemu.snapshot", C_KEYS, 0,
	    "disk images: the guest's writes are thrown away" },
	{ "gdb", O_GDB, "[PORT]", "test.gdb", C_BATCH, 0,
	    "QEMU's gdb stub on 127.0.0.1 (a free port when none)" },
	{ "gdb-wait", O_GDB_WAIT, NULL, "test.gdb_wait", C_BATCH, 0,
	    "the guest waits until gdb continues it" },
	{ "timeout", O_TIMEOUT, "SEC", "test.timeout", C_BATCH, 0,
	    "batch: kill the guest after SEC seconds (124)" },
	{ "expect", O_EXPECT, "REGEX", "test.expect", C_BATCH, 0,
	    "batch: success when the console matches" },
	{ "fail", O_FAIL, "REGEX", "test.fail", C_BATCH, 0,
	    "batch: failure when the console matches" },
	{ "success-code", O_SUCCESS_CODE, "N", "test.success_code", C_BATCH,
	    0, "batch: the isa-debug-exit code of success" },
	{ "serial-log", O_SERIAL_LOG, "FILE", "test.serial_log", C_BATCH, 0,
	    "copy the serial console to FILE" },
	{ "ktap", O_KTAP, NULL, "test.ktap", C_BATCH, 0,
	    "batch: read KTAP/TAP results from the console" },
	{ "junit", O_JUNIT, "FILE", "test.junit", C_BATCH, 0,
	    "batch: write the KTAP results as JUnit XML" },
	{ "dry-run", O_DRY_RUN, NULL, NULL, C_BOOT, 0,
	    "print the plan and the QEMU command; change nothing" },
	{ "run", O_RUN, "CMD [ARGS...]", NULL, C_BOOT, 0,
	    "when ready, run CMD on the host (rest of the line)" },
	{ "interactive", 'i', NULL, NULL, C_SHELL, 0,
	    "the shell: qrun -i is qrun shell" },
	{ "owner", O_OWNER, "USER", NULL, C_TAP_CREATE, C_TAP_CREATE,
	    "the tap's owner" },
	{ "group", O_GROUP, "GROUP", NULL, C_TAP_CREATE, 0,
	    "GROUP's members may use the tap too" },
	{ "uplink", O_UPLINK, "IF", NULL, C_BRIDGE_CREATE, 0,
	    "the lab NIC that becomes the bridge's port" },
	{ "addr", O_ADDR, "A/P", NULL, C_TAP_CREATE | C_BRIDGE_CREATE, 0,
	    "an address with prefix for the tap or bridge" },
	{ "vxlan", O_VXLAN, "VNI", NULL, C_BRIDGE_CREATE, 0,
	    "a VXLAN port with this VNI: the lab spans hosts" },
	{ "remote", O_REMOTE, "ADDR[,ADDR...]", NULL, C_BRIDGE_CREATE, 0,
	    "with --vxlan: the other hosts' underlay addresses" },
	{ "dev", O_DEV, "IF", NULL, C_BRIDGE_CREATE, 0,
	    "with --vxlan: the underlay interface" },
	{ "local", O_LOCAL, "ADDR", NULL, C_BRIDGE_CREATE, 0,
	    "with --vxlan: this host's underlay address" },
	{ "json", O_JSON, NULL, NULL, C_STATUS, 0, "print JSON" },
	{ "quiet", 'q', NULL, NULL, C_ALL, 0, "print only errors" },
	{ "verbose", 'v', NULL, NULL, C_ALL, 0, "say more about each step" },
	{ "version", 'V', NULL, NULL, C_ALL, 0, "print the version" },
	{ "help", 'h', NULL, NULL, C_ALL, 0, "this text" },
};

/* What the command line names: a command's first row, the row of its
 * verb (NULL: an unknown verb, every row applies) and its options. */
struct call {
	struct opts *o;
	const struct cmd *cmd;
	const struct cmd *row;
	unsigned bits;
	bool named;		/* the command word was given */
	int argc;
	char **argv;
};

/* getopt's view of the options of the commands in a mask. */
struct getopts {
	struct option lo[ARRAY_SIZE(optdefs) + 1];
	char so[2 * ARRAY_SIZE(optdefs) + 3];
};

/* An option with an argument of its own (--run takes the rest; --gdb's
 * is optional). */
static bool
has_arg(const struct optdef *d)
{
	return d->arg != NULL && d->val != O_RUN && d->val != O_GDB;
}

static void
getopts_make(struct getopts *g, unsigned mask)
{
	size_t n = 0, k = 0;

	g->so[k++] = '+';	/* stop at a positional: we collect them */
	g->so[k++] = ':';	/* a missing argument is ':', not '?' */
	for (size_t i = 0; i < ARRAY_SIZE(optdefs); i++) {
		const struct optdef *d = &optdefs[i];

		if ((d->cmds & mask) == 0)
			continue;
		g->lo[n++] = (struct option){ d->name, has_arg(d) ?
		    required_argument : d->val == O_GDB ? optional_argument :
		    no_argument, NULL, d->val };
		if (d->val < 256) {
			g->so[k++] = (char)d->val;
			if (has_arg(d))
				g->so[k++] = ':';
		}
	}
	g->lo[n] = (struct option){ 0 };
	g->so[k] = '\0';
}

/* "boot", "tap create", or "tap" for all its verbs. */
static const char *
call_name(const struct call *cl, char *buf, size_t len)
{
	const struct cmd *c = cl->row ? cl->row : cl->cmd;

	snprintf(buf, len, "%s%s%s", c->name, cl->row && c->verb ? " " : "",
	    cl->row && c->verb ? c->verb : "");
	return buf;
}

/* Print word at column col, breaking the line before it when it would
 * pass column 79; the new column. */
static size_t
put_word(FILE *f, const char *w, size_t col, size_t indent)
{
	if (col + 1 + strlen(w) > 79 && col > indent) {
		fprintf(f, "\n%*s", (int)indent, "");
		col = indent;
	}
	fprintf(f, " %s", w);
	return col + 1 + strlen(w);
}

/* "[-p PROFILE]", "--owner USER" (required), "[--dry-run]". */
static void
opt_usage(const struct optdef *d, unsigned bit, char *buf, size_t len)
{
	bool opt = (d->need & bit) == 0;
	char name[32];

	if (d->val < 256)
		snprintf(name, sizeof(name), "-%c", d->val);
	else
		snprintf(name, sizeof(name), "--%s", d->name);
	snprintf(buf, len, "%s%s%s%s%s", opt ? "[" : "", name,
	    d->arg ? " " : "", d->arg ? d->arg : "", opt ? "]" : "");
}

/* --run: an option that takes the rest of the line. */
static bool
takes_rest(const struct optdef *d)
{
	return d->val == O_RUN;
}

/* The tail that takes the rest of the line: "[-- QEMU-ARGS... | --run
 * CMD [ARGS...]]", from C_QEMU_ARGS and the options that take it. */
static void
rest_usage(unsigned bit, char *buf, size_t len)
{
	char alt[64] = "";

	if (bit & C_QEMU_ARGS)
		snprintf(alt, sizeof(alt), "-- QEMU-ARGS...");
	for (size_t i = 0; i < ARRAY_SIZE(optdefs); i++)
		if ((optdefs[i].cmds & bit) && takes_rest(&optdefs[i]))
			snprintf(alt + strlen(alt), sizeof(alt) - strlen(alt),
			    "%s--%s %s", alt[0] ? " | " : "", optdefs[i].name,
			    optdefs[i].arg);
	snprintf(buf, len, alt[0] ? "[%s]" : "%s", alt);
}

/* "LEAD qrun tap create --owner USER [--group GROUP] ... TAP",
 * wrapped under its first option. */
static void
usage_row(FILE *f, const char *lead, const struct cmd *c)
{
	char head[64], w[96];
	size_t col, indent;

	snprintf(head, sizeof(head), "%sqrun %s%s%s", lead, c->name,
	    c->verb ? " " : "", c->verb ? c->verb : "");
	fputs(head, f);
	col = indent = strlen(head);
	for (size_t i = 0; i < ARRAY_SIZE(optdefs); i++)
		if ((optdefs[i].cmds & c->bit) && optdefs[i].cmds != C_ALL &&
		    !takes_rest(&optdefs[i])) {
			opt_usage(&optdefs[i], c->bit, w, sizeof(w));
			col = put_word(f, w, col, indent);
		}
	if (c->args[0])
		col = put_word(f, c->args, col, indent);
	rest_usage(c->bit, w, sizeof(w));
	if (w[0])
		put_word(f, w, col, indent);
	fputc('\n', f);
}

/* The usage of a call: its verb's row, or every row of its name. */
static void
usage_call(FILE *f, const struct cmd *c, const struct cmd *row)
{
	const char *lead = "usage: ";

	if (row) {
		usage_row(f, lead, row);
		return;
	}
	for (const struct cmd *r = c; r < cmds + ARRAY_SIZE(cmds) &&
	    strcmp(r->name, c->name) == 0; r++) {
		usage_row(f, lead, r);
		lead = "       ";
	}
}

/* "  -p, --profile PROFILE    profile NAME or PATH to load" */
static void
opt_help(const struct optdef *d)
{
	char left[48], s[8] = "    ";

	if (d->val < 256)
		snprintf(s, sizeof(s), "-%c, ", d->val);
	snprintf(left, sizeof(left), "%s--%s%s%s", s, d->name,
	    d->arg ? " " : "", d->arg ? d->arg : "");
	printf("  %-24s %s\n", left, d->help);
}

/* "  tap create TAP         make a developer's ..." */
static void
cmd_line(const struct cmd *c, bool args)
{
	char left[48];

	snprintf(left, sizeof(left), "%s%s%s%s%s", c->name, c->verb ? " " :
	    "", c->verb ? c->verb : "", args && c->args[0] ? " " : "",
	    args ? c->args : "");
	printf("  %-24s %s\n", left, c->help);
}

static void
help_all(void)
{
	char rest[96];

	rest_usage(C_BOOT, rest, sizeof(rest));
	printf("usage: qrun [OPTIONS] IMAGE %s\n"
	    "       qrun COMMAND [OPTIONS] [ARGS...]\ncommands:\n", rest);
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		cmd_line(&cmds[i], true);
	printf("options (qrun help COMMAND: the ones it takes):\n");
	for (size_t i = 0; i < ARRAY_SIZE(optdefs); i++)
		opt_help(&optdefs[i]);
	printf("See qrun(1) and qrun.conf(5).\n");
}

/* A command's usage, what each of its verbs does, and its options. */
static void
help_cmd(const struct cmd *c, const struct cmd *row)
{
	unsigned bits = 0;
	bool any = false;

	usage_call(stdout, c, row);
	for (const struct cmd *r = c; r < cmds + ARRAY_SIZE(cmds) &&
	    strcmp(r->name, c->name) == 0; r++)
		if (row == NULL || r == row) {
			cmd_line(r, false);
			bits |= r->bit;
		}
	for (size_t i = 0; i < ARRAY_SIZE(optdefs); i++)
		if ((optdefs[i].cmds & bits) && optdefs[i].cmds != C_ALL) {
			if (!any)
				printf("options:\n");
			any = true;
			opt_help(&optdefs[i]);
		}
	printf("global options:");
	for (size_t i = 0; i < ARRAY_SIZE(optdefs); i++)
		if (optdefs[i].cmds == C_ALL)
			printf(" -%c", optdefs[i].val);
	printf("\n");
}

/*
 * A command by exact name or unique prefix; NULL if none, or if
 * ambiguous, then with the candidates in amb. The rows of one name (its
 * verbs) are adjacent and count once.
 */
static const struct cmd *
cmd_find(const char *name, struct strv *amb)
{
	const struct cmd *hit = NULL;
	size_t len = strlen(name);

	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
		if (i > 0 && strcmp(cmds[i].name, cmds[i - 1].name) == 0)
			continue;
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
		if (len > 0 && strncmp(cmds[i].name, name, len) == 0) {
			hit = &cmds[i];
			strv_push(amb, cmds[i].name);
		}
	}
	if (amb->n > 1)
		return NULL;
	strv_free(amb);
	return hit;
}

/* The command a typo most likely meant, or NULL. */
static const char *
cmd_nearest(const char *word)
{
	static char near[16];
	struct strv names = { 0 };
	const char *hit;

	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		strv_push(&names, cmds[i].name);
	hit = str_nearest(word, &names, 0);
	snprintf(near, sizeof(near), "%s", hit ? hit : "");
	strv_free(&names);
	return near[0] ? near : NULL;
}

/* The row of c's verb among its rows: exact, or NULL. */
static const struct cmd *
verb_find(const struct cmd *c, const char *verb)
{
	for (const struct cmd *r = c; r < cmds + ARRAY_SIZE(cmds) &&
	    strcmp(r->name, c->name) == 0; r++)
		if (r->verb && strcmp(r->verb, verb) == 0)
			return r;
	return NULL;
}

int
cmd_help(struct opts *o)
{
	const char *name = o->args.n > o->argi ? o->args.v[o->argi] : NULL;
	const char *verb = o->args.n > o->argi + 1 ?
	    o->args.v[o->argi + 1] : NULL;
	const struct cmd *c = NULL, *row = NULL;
	struct strv amb = { 0 };
	const char *near;

	if (name == NULL) {
		help_all();
		return EXIT_OK;
	}
	c = cmd_find(name, &amb);
	strv_free(&amb);
	if (c && c->verb && verb && (row = verb_find(c, verb)) == NULL)
		c = NULL;
	else if (c == NULL && (near = cmd_nearest(name)) != NULL) {
		warnx("help %s: no such command; did you mean %s?", name, near);
		return EXIT_QRUN;
	}
	if (c == NULL) {
		warnx("help %s%s%s: no such command", name, verb ? " " : "",
		    verb ? verb : "");
		return EXIT_QRUN;
	}
	help_cmd(c, row);
	return EXIT_OK;
}

/*
 * The option "-x" or "--name" (exact, or a unique prefix as getopt
 * takes it) among those of the commands in mask; NULL when none or
 * several, these then in hits ("--tap, --timeout").
 */
static const struct optdef *
opt_find(unsigned mask, const char *text, char *hits, size_t len)
{
	const struct optdef *hit = NULL;
	size_t n = 0, tl = strlen(text);

	hits[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(optdefs); i++) {
		const struct optdef *d = &optdefs[i];

		if ((d->cmds & mask) == 0)
			continue;
		if (text[1] != '-') {
			if (d->val == text[1] && text[2] == '\0')
				return d;
			continue;
		}
		if (strcmp(d->name, text + 2) == 0)
			return d;
		if (tl > 2 && strncmp(d->name, text + 2, tl - 2) == 0) {
			hit = d;
			snprintf(hits + strlen(hits), len - strlen(hits),
			    "%s--%s", n++ ? ", " : "", d->name);
		}
	}
	return n == 1 ? hit : NULL;
}

/* The call's own option whose getopt value is val, or NULL. */
static const struct optdef *
opt_by_val(unsigned mask, int val)
{
	for (size_t i = 0; i < ARRAY_SIZE(optdefs); i++)
		if (optdefs[i].val == val && (optdefs[i].cmds & mask))
			return &optdefs[i];
	return NULL;
}

/*
 * The option getopt refused, as the user wrote it: "--uplink" (without
 * "=VALUE") or "-x". Returns it when it is one of the call's own (a
 * missing, or an unwanted, value).
 */
static const struct optdef *
refused_text(const struct call *cl, int c, char *buf, size_t len)
{
	const struct optdef *d = optopt ? opt_by_val(cl->bits, optopt) :
	    NULL;
	const char *a = cl->argv[optind - 1];

	if (d == NULL && optopt != 0)
		snprintf(buf, len, "-%c", optopt);
	else if (d && d->val < 256 && c == ':' && strncmp(a, "--", 2) != 0)
		snprintf(buf, len, "-%c", d->val);
	else if (d)
		snprintf(buf, len, "--%s", d->name);
	else
		snprintf(buf, len, "%.*s", (int)strcspn(a, "="), a);
	return d;
}

/* The nearest of the call's long options to a typo ("timout"), or NULL. */
static const char *
opt_nearest(unsigned mask, const char *word)
{
	static char near[24];
	struct strv names = { 0 };
	const char *hit;

	for (size_t i = 0; i < ARRAY_SIZE(optdefs); i++)
		if (optdefs[i].cmds & mask)
			strv_push(&names, optdefs[i].name);
	hit = str_nearest(word, &names, 0);
	snprintf(near, sizeof(near), "%s", hit ? hit : "");
	strv_free(&names);
	return near[0] ? near : NULL;
}

/*
 * getopt refused an option: say why in one line, naming the option and
 * (when another command takes it) the command, then the command's usage;
 * a likely typo gets its suggestion instead of the usage. Exits 125.
 */
static void
bad_option(const struct call *cl, int c)
{
	const struct optdef *d;
	char text[64], name[40], hits[160];
	const char *near;

	call_name(cl, name, sizeof(name));
	if ((d = refused_text(cl, c, text, sizeof(text))) != NULL) {
		if (c == ':')
			warnx("%s: expected %s", text, d->arg);
		else
			warnx("%s: takes no value", text);
		exit(EXIT_QRUN);
	}
	if (opt_find(cl->bits, text, hits, sizeof(hits)) == NULL &&
	    hits[0])
		warnx("%s: ambiguous option (%s)", text, hits);
	else if (opt_find(C_ALL, text, hits, sizeof(hits)) != NULL)
		warnx("%s: %s: not an option of %s", name, text, name);
	else if (text[1] == '-' &&
	    (near = opt_nearest(cl->bits, text + 2)) != NULL) {
		warnx("%s: unknown option; did you mean --%s?", text, near);
		exit(EXIT_QRUN);
	} else
		warnx("%s: unknown option", text);
	usage_call(stderr, cl->cmd, cl->row);
	exit(EXIT_QRUN);
}

/* An option that sets a profile key: "KEY=VALUE", from "--timeout"; a
 * flag sets its key to true; each use of a list's option adds to it. */
static void
set_key(struct opts *o, int val, const char *arg)
{
	const struct optdef *d = opt_by_val(C_ALL, val);

	if (d && d->key) {
		strv_pushf(&o->overrides, "%s%s=%s", d->key,
		    profile_key_list(profile_key_index(d->key)) ? "+" : "",
		    d->arg ? arg : "true");
		strv_pushf(&o->override_where, "--%s", d->name);
	}
}

/* One option; returns -1 to stop option parsing (--run). */
static int
take_opt(struct call *cl, int c)
{
	struct opts *o = cl->o;
	const char *eq;

	switch (c) {
	case 'p': o->profile = optarg; break;
	case 'o':
		if ((eq = strchr(optarg, '=')) == NULL) {
			warnx("-o %s: expected KEY=VALUE", optarg);
			exit(EXIT_QRUN);
		}
		strv_push(&o->overrides, optarg);
		strv_pushf(&o->override_where, "-o %.*s", (int)(eq - optarg),
		    optarg);
		break;
	case O_DRY_RUN: o->dry_run = true; break;
	case O_GDB:	/* --gdb, --gdb=PORT, --gdb PORT */
		if (optarg == NULL && optind < cl->argc &&
		    cl->argv[optind][0] >= '0' && cl->argv[optind][0] <= '9' &&
		    strspn(cl->argv[optind], "0123456789") ==
		    strlen(cl->argv[optind]))
			optarg = cl->argv[optind++];
		set_key(o, c, optarg ? optarg : "auto");
		break;
	case O_RUN:
		for (int i = optind; i < cl->argc; i++)
			strv_push(&o->run, cl->argv[i]);
		if (o->run.n == 0) {
			warnx("--run: expected a command");
			exit(EXIT_QRUN);
		}
		return -1;
	case O_OWNER: o->owner = optarg; break;
	case O_GROUP: o->group = optarg; break;
	case O_ADDR: o->addr = optarg; break;
	case O_UPLINK: o->uplink = optarg; break;
	case O_VXLAN: o->vxlan = optarg; break;
	case O_REMOTE: o->remote = optarg; break;
	case O_DEV: o->dev = optarg; break;
	case O_LOCAL: o->local = optarg; break;
	case O_JSON: o->json = true; break;
	case 'i': o->interactive = true; break;
	case 'q': o->quiet = true; break;
	case 'v': o->verbose = true; break;
	case 'V': printf("qrun %s\n", QRUN_VERSION); exit(EXIT_OK);
	case 'h':
		if (cl->named)
			help_cmd(cl->cmd, cl->row);
		else
			help_all();
		exit(EXIT_OK);
	case '?':
	case ':': bad_option(cl, c); break;
	default: set_key(o, c, optarg); break;
	}
	return 0;
}

/*
 * Walk the command line with the options of the commands in mask,
 * positionals into words. Options may come before and after them ("qrun
 * img --dry-run", "qrun check -p x"); "--" ends them (the rest goes to
 * QEMU) and "--run" takes the rest of the line. The first walk, before
 * the command is known (cl->cmd NULL), only finds the words and -i.
 */
static void
walk(struct call *cl, unsigned mask, struct strv *words)
{
	struct getopts g;
	int c;

	getopts_make(&g, mask);
	optind = 0;
	for (;;) {
		while ((c = getopt_long(cl->argc, cl->argv, g.so, g.lo,
		    NULL)) != -1) {
			if (cl->cmd && take_opt(cl, c) < 0)
				return;
			if (cl->cmd == NULL && c == 'i')
				cl->o->interactive = true;
			if (cl->cmd == NULL && c == O_RUN)
				return;
		}
		if (optind >= cl->argc)
			return;
		if (strcmp(cl->argv[optind - 1], "--") == 0) {
			for (int i = optind; cl->cmd && i < cl->argc; i++)
				strv_push(&cl->o->extra, cl->argv[i]);
			return;
		}
		strv_push(words, cl->argv[optind++]);
	}
}

/* The first word names no command: say so when it is no file either
 * and looks like a typo of one. -1 then. */
static int
typo_check(const char *word)
{
	const char *near;
	struct stat st;

	if (word == NULL || strchr(word, '/') || stat(word, &st) == 0 ||
	    (near = cmd_nearest(word)) == NULL)
		return 0;
	warnx("%s: no such command or file; did you mean %s?", word, near);
	return -1;
}

/* The row with handler fn (the shell's, for -i). */
static const struct cmd *
cmd_by_fn(int (*fn)(struct opts *))
{
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		if (cmds[i].fn == fn)
			return &cmds[i];
	return &cmds[0];
}

/* The options of a call: its verb's row's, or (an unknown verb, which
 * the command itself refuses) those of every row of its name. */
static unsigned
call_bits(const struct call *cl)
{
	unsigned bits = 0;

	if (cl->row)
		return cl->row->bit;
	for (const struct cmd *r = cl->cmd; r < cmds + ARRAY_SIZE(cmds) &&
	    strcmp(r->name, cl->cmd->name) == 0; r++)
		bits |= r->bit;
	return bits;
}

/*
 * The command the words name: the first word when it is no file and a
 * command (exact or unique prefix), then the row of its verb (none:
 * list); else boot, or with -i the shell. Prints and returns -1 when
 * the first word is ambiguous or a typo.
 */
static int
resolve(struct call *cl, const struct strv *w)
{
	const char *first = w->n > 0 ? w->v[0] : NULL;
	struct strv amb = { 0 };
	char list[128] = "";
	struct stat st;

	if (first && stat(first, &st) < 0)
		cl->cmd = cmd_find(first, &amb);
	for (size_t i = 0; i < amb.n; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
		    "%s%s", i ? ", " : "", amb.v[i]);
	strv_free(&amb);
	if (list[0]) {
		warnx("%s: ambiguous command (%s)", first, list);
		return -1;
	}
	if (cl->cmd == NULL && typo_check(first) < 0)
		return -1;
	cl->named = cl->cmd != NULL;
	if (!cl->named)
		cl->cmd = cl->o->interactive ? cmd_by_fn(cmd_shell) : &cmds[0];
	cl->o->argi = cl->named;
	cl->row = cl->cmd;
	if (cl->cmd->verb)
		cl->row = verb_find(cl->cmd, w->n > 1 ? w->v[1] : "list");
	cl->bits = call_bits(cl);
	return 0;
}

/* What getopt cannot see: QEMU arguments, or more positionals than the
 * command takes. Prints with the usage; 0 or EXIT_QRUN. */
static int
check_args(const struct call *cl)
{
	const struct opts *o = cl->o;
	size_t n = o->args.n - o->argi;
	char name[40];

	call_name(cl, name, sizeof(name));
	if (cl->row && cl->row->verb && n > 0)
		n--;			/* the verb */
	if (o->extra.n > 0 && (cl->bits & C_QEMU_ARGS) == 0)
		warnx("%s: --: takes no QEMU arguments", name);
	else if (cl->row && cl->row->nargs >= 0 &&
	    n > (size_t)cl->row->nargs)
		warnx("%s: %s: unexpected argument", name,
		    o->args.v[o->args.n - n + (size_t)cl->row->nargs]);
	else
		return 0;
	usage_call(stderr, cl->cmd, cl->row);
	return EXIT_QRUN;
}

int
main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct call cl = { .o = &o, .argc = argc, .argv = argv };
	struct strv words = { 0 };
	int r = EXIT_QRUN;

	opterr = 0;
	walk(&cl, C_ALL, &words);
	if (resolve(&cl, &words) < 0)
		goto out;
	walk(&cl, cl.bits, &o.args);
	if ((r = check_args(&cl)) == 0)
		r = (cl.row ? cl.row : cl.cmd)->fn(&o);
out:
	strv_free(&words);
	strv_free(&o.args);
	strv_free(&o.extra);
	strv_free(&o.run);
	strv_free(&o.overrides);
	strv_free(&o.override_where);
	return r;
}
