/*
 * main.c - the command table and option parsing. Every command (and, later,
 * the shell) is dispatched from one table, matched by unique prefix; the
 * command layer is the only place that prints, once, "qrun: ...".
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

static const struct cmd cmds[] = {
	{ "boot", cmd_boot, "[OPTIONS] IMAGE [-- QEMU-ARGS...]",
	    "boot IMAGE (the default command)" },
	{ "check", cmd_check, "[-p PROFILE] [-o KEY=VALUE]",
	    "validate the profile, print the plan" },
	{ "cleanup", cmd_cleanup, "", "undo leftovers of crashed runs" },
	{ "status", cmd_status, "[--json]", "running qrun VMs" },
	{ "tap", cmd_tap, "create|delete|list [TAP] [--owner USER] "
	    "[--group GROUP] [--addr A/P]",
	    "manage developers' taps (admin)" },
	{ "bridge", cmd_bridge, "create|delete|list [BR] [--uplink IF] "
	    "[--addr A/P] [--vxlan VNI --remote ADDR[,ADDR...] [--dev IF] "
	    "[--local ADDR]]",
	    "manage lab bridges (admin)" },
	{ "doctor", cmd_doctor, "", "check host: tun, kvm, qemu, caps" },
	{ "shell", cmd_shell, "[OPTIONS] [IMAGE]",
	    "interactive shell: boot, reboot, wait... (also -i)" },
	{ "help", cmd_help, "[COMMAND]", "this text" },
};

/* Options that set a profile key: long name -> key. */
static const struct {
	int val;
	const char *opt;
	const char *key;
} keyopts[] = {
	{ 'n', "--net", "net.mode" },
	{ 't', "--tap", "net.tap" },
	{ 'b', "--bridge", "net.bridge" },
	{ 'm', "--memory", "qemu.memory" },
	{ 'I', "--initrd", "qemu.initrd" },
	{ 'T', "--timeout", "test.timeout" },
	{ 'E', "--expect", "test.expect" },
	{ 'F', "--fail", "test.fail" },
	{ 'S', "--success-code", "test.success_code" },
	{ 'L', "--serial-log", "test.serial_log" },
	{ 'C', "--capture", "net.capture" },
	{ 'R', "--ready", "test.ready" },
};

/* Long options without a short one. */
enum { OPT_VXLAN = 256, OPT_REMOTE, OPT_DEV, OPT_LOCAL };

static const struct option longopts[] = {
	{ "profile", required_argument, NULL, 'p' },
	{ "set", required_argument, NULL, 'o' },
	{ "net", required_argument, NULL, 'n' },
	{ "tap", required_argument, NULL, 't' },
	{ "bridge", required_argument, NULL, 'b' },
	{ "memory", required_argument, NULL, 'm' },
	{ "initrd", required_argument, NULL, 'I' },
	{ "dry-run", no_argument, NULL, 'D' },
	{ "timeout", required_argument, NULL, 'T' },
	{ "expect", required_argument, NULL, 'E' },
	{ "fail", required_argument, NULL, 'F' },
	{ "success-code", required_argument, NULL, 'S' },
	{ "serial-log", required_argument, NULL, 'L' },
	{ "capture", required_argument, NULL, 'C' },
	{ "ready", required_argument, NULL, 'R' },
	{ "run", no_argument, NULL, 'X' },
	{ "owner", required_argument, NULL, 'U' },
	{ "group", required_argument, NULL, 'G' },
	{ "addr", required_argument, NULL, 'A' },
	{ "uplink", required_argument, NULL, 'P' },
	{ "vxlan", required_argument, NULL, OPT_VXLAN },
	{ "remote", required_argument, NULL, OPT_REMOTE },
	{ "dev", required_argument, NULL, OPT_DEV },
	{ "local", required_argument, NULL, OPT_LOCAL },
	{ "json", no_argument, NULL, 'J' },
	{ "interactive", no_argument, NULL, 'i' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: qrun [OPTIONS] IMAGE [-- QEMU-ARGS...]\n");
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		fprintf(f, "       qrun %s%s%s\n", cmds[i].name,
		    cmds[i].usage[0] ? " " : "", cmds[i].usage);
	fprintf(f, "options: -p PROFILE -o KEY=VALUE -n MODE -t TAP -b BRIDGE "
	    "-m MIB --initrd FILE\n         --dry-run --timeout SEC --expect "
	    "REGEX --fail REGEX --success-code N\n         --serial-log FILE "
	    "--capture FILE.pcap --ready SPEC --run CMD [ARGS...]\n"
	    "         -i -q -v -V -h\n");
}

int
cmd_help(struct opts *o)
{
	const struct cmd *c, *amb;

	if (o->args.n > o->argi) {
		if ((c = cmd_find(o->args.v[o->argi], &amb)) == NULL) {
			warnx("help %s: no such command", o->args.v[o->argi]);
			return EXIT_QRUN;
		}
		printf("qrun %s%s%s\n  %s\n", c->name, c->usage[0] ? " " : "",
		    c->usage, c->help);
		return EXIT_OK;
	}
	usage(stdout);
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		printf("  %-8s %s\n", cmds[i].name, cmds[i].help);
	printf("See qrun(1) and qrun.conf(5).\n");
	return EXIT_OK;
}

/* A command by exact name, or by unique prefix; NULL if none/ambiguous. */
const struct cmd *
cmd_find(const char *name, const struct cmd **ambiguous)
{
	const struct cmd *hit = NULL;
	size_t len = strlen(name), nhit = 0;

	*ambiguous = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
		if (len > 0 && strncmp(cmds[i].name, name, len) == 0) {
			hit = &cmds[i];
			nhit++;
		}
	}
	if (nhit > 1) {
		*ambiguous = hit;
		return NULL;
	}
	return hit;
}

static void
set_key(struct opts *o, int val, const char *arg)
{
	for (size_t i = 0; i < ARRAY_SIZE(keyopts); i++)
		if (keyopts[i].val == val) {
			strv_pushf(&o->overrides, "%s=%s", keyopts[i].key,
			    arg);
			strv_push(&o->override_where, keyopts[i].opt);
			return;
		}
}

/* One option; returns -1 to stop option parsing (--run). */
static int
take_opt(struct opts *o, int c, int argc, char **argv)
{
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
	case 'D': o->dry_run = true; break;
	case 'X':
		for (int i = optind; i < argc; i++)
			strv_push(&o->run, argv[i]);
		if (o->run.n == 0) {
			warnx("--run: expected a command");
			exit(EXIT_QRUN);
		}
		return -1;
	case 'U': o->owner = optarg; break;
	case 'G': o->group = optarg; break;
	case 'A': o->addr = optarg; break;
	case 'P': o->uplink = optarg; break;
	case OPT_VXLAN: o->vxlan = optarg; break;
	case OPT_REMOTE: o->remote = optarg; break;
	case OPT_DEV: o->dev = optarg; break;
	case OPT_LOCAL: o->local = optarg; break;
	case 'J': o->json = true; break;
	case 'i': o->interactive = true; break;
	case 'q': o->quiet = true; break;
	case 'v': o->verbose = true; break;
	case 'V': printf("qrun %s\n", QRUN_VERSION); exit(EXIT_OK);
	case 'h': cmd_help(o); exit(EXIT_OK);
	case '?': usage(stderr); exit(EXIT_QRUN);
	default: set_key(o, c, optarg); break;
	}
	return 0;
}

/*
 * Options may come before and after positionals ("qrun img --dry-run",
 * "qrun check -p x"); "--" ends them (the rest goes to QEMU) and "--run"
 * takes the rest of the line as the host command.
 */
static void
parse_args(struct opts *o, int argc, char **argv)
{
	int c;

	optind = 1;
	for (;;) {
		while ((c = getopt_long(argc, argv, "+p:o:n:t:b:m:iqvVh",
		    longopts, NULL)) != -1)
			if (take_opt(o, c, argc, argv) < 0)
				return;
		if (optind >= argc)
			return;
		if (strcmp(argv[optind - 1], "--") == 0) {
			for (int i = optind; i < argc; i++)
				strv_push(&o->extra, argv[i]);
			return;
		}
		strv_push(&o->args, argv[optind++]);
	}
}

int
main(int argc, char **argv)
{
	struct opts o = { 0 };
	const struct cmd *cmd = NULL, *amb = NULL;
	struct stat st;
	int r;

	parse_args(&o, argc, argv);
	if (o.interactive) {
		if (o.args.n > 0 && strcmp(o.args.v[0], "shell") == 0)
			o.argi = 1;
		r = cmd_shell(&o);
		goto out;
	}
	if (o.args.n > 0 && stat(o.args.v[0], &st) < 0)
		cmd = cmd_find(o.args.v[0], &amb);
	if (amb) {
		warnx("%s: ambiguous command", o.args.v[0]);
		r = EXIT_QRUN;
		goto out;
	}
	if (cmd)
		o.argi = 1;
	else
		cmd = &cmds[0];
	r = cmd->fn(&o);
out:
	strv_free(&o.args);
	strv_free(&o.extra);
	strv_free(&o.run);
	strv_free(&o.overrides);
	strv_free(&o.override_where);
	return r;
}
