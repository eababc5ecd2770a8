/*
 * shell_cmds.c - the shell's commands: one table, matched by unique
 * prefix ("did you mean" for a typo), each command a function of its
 * own, and the completion the line editor offers for them.
 */
#include <err.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <json-c/json.h>

#include "shell.h"

static int
sh_boot(struct shell *sh, int argc, char **argv)
{
	const char *img = argc > 1 ? argv[1] : sh->image;
	enum image_type type;
	char *hint;
	int r;

	if (argc > 2) {
		warnx("usage: boot [IMAGE]");
		return EXIT_QRUN;
	}
	if (img == NULL) {
		warnx("boot: no image given (boot IMAGE)");
		return EXIT_QRUN;
	}
	if ((r = image_load(&sh->priv, img, &type)) != 0)
		return r;
	if (shell_running(sh)) {
		printf("stopping QEMU pid %ld\n", (long)sh->vm.pid);
		shell_guest_stop(sh, false);
	}
	if (img != sh->image) {
		free(sh->image);
		sh->image = xstrdup(img);
	}
	sh->type = type;
	if (!sh->net_up) {
		if ((r = shell_net_up(sh)) != 0) {
			shell_net_down(sh);
			return r;
		}
		if (!sh->o->quiet) {
			hint = netplan_hint(&sh->plan);
			warnx("%s", hint);
			free(hint);
		}
	}
	return shell_guest_start(sh);
}

static bool
image_changed(const struct shell *sh)
{
	struct stat st;

	if (stat(sh->image, &st) < 0)
		return true;
	return st.st_size != sh->img_st.st_size ||
	    st.st_mtim.tv_sec != sh->img_st.st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != sh->img_st.st_mtim.tv_nsec ||
	    st.st_ino != sh->img_st.st_ino;
}

/*
 * Under TCG a reset costs more than a new QEMU: the kernel booting again
 * is written over memory that holds what TCG translated for the last
 * boot, and each such write takes the slow way until those translations
 * are dropped; seconds, as KASLR places the kernel. A new QEMU has none
 * and its start costs a fraction of a second. So under TCG, while the
 * settings are those the guest booted with, reboot starts a new QEMU on
 * the same network; under KVM, or after set, unset or profile,
 * system_reset keeps the running QEMU and its settings.
 */
static bool
reboot_restarts(const struct shell *sh)
{
	return sh->tcg && !sh->changed;
}

static int
sh_reboot(struct shell *sh, int argc, char **argv)
{
	char *res = NULL;
	int r;

	(void)argc;
	(void)argv;
	if (!shell_running(sh)) {
		warnx("reboot: no guest running (boot first)");
		return EXIT_GUEST;
	}
	if (image_changed(sh) || sh->qmp == NULL) {
		printf("%s: restarting QEMU\n", sh->qmp ? "image changed on "
		    "disk" : "no QMP connection");
		return sh_boot(sh, 1, argv);
	}
	if (reboot_restarts(sh)) {
		printf("TCG: restarting QEMU (faster than a reset)\n");
		shell_guest_stop(sh, false);
		return shell_guest_start(sh);
	}
	sh->reset_ms = mono_ms();
	r = qmp_execute(sh->qmp, "system_reset", NULL, QMP_MS, &res);
	if (r < 0) {
		warnx("reboot: system_reset: %s", res ? res : strerror(-r));
		free(res);
		return EXIT_GUEST;
	}
	free(res);
	sh->boot_ms = mono_ms();
	sh->wait_from = sh->nlog + (sh->line_len > 0);
	sh->boot_line = sh->wait_from;
	return 0;
}

static int
sh_stop(struct shell *sh, int argc, char **argv)
{
	bool hard = strcmp(argv[0], "kill") == 0;
	long pid = sh->vm.pid;

	(void)argc;
	if (!shell_running(sh)) {
		warnx("%s: no guest running", argv[0]);
		return EXIT_GUEST;
	}
	shell_guest_stop(sh, hard);
	printf("QEMU pid %ld %s\n", pid, hard ? "killed" : "stopped");
	return 0;
}

/* ------------------------------------------------------------- status */

/* One member of a QMP command's reply, as text; NULL when unavailable. */
static char *
qmp_member(struct shell *sh, const char *cmd, const char *member)
{
	json_object *o, *v;
	char *res = NULL, *out = NULL;

	if (sh->qmp == NULL || qmp_execute(sh->qmp, cmd, NULL, 2000, &res) < 0)
		goto out;
	if ((o = json_tokener_parse(res)) == NULL)
		goto out;
	if (json_object_object_get_ex(o, member, &v))
		out = xstrdup(json_object_get_string(v));
	json_object_put(o);
out:
	free(res);
	return out;
}

static int
sh_status(struct shell *sh, int argc, char **argv)
{
	char *mem, *st, *hint;
	long mib = -1;

	(void)argc;
	(void)argv;
	if (!shell_running(sh))
		printf("guest: none%s%s\n", sh->image ? "; image " : "",
		    sh->image ? sh->image : "");
	else {
		mem = qmp_member(sh, "query-memory-size-summary",
		    "base-memory");
		st = qmp_member(sh, "query-status", "status");
		if (mem)
			mib = atol(mem) / (1024 * 1024);
		printf("guest: %s, QEMU pid %ld, image %s (%s)\n",
		    st ? st : "running", (long)sh->vm.pid, sh->image,
		    image_type_name(sh->type));
		printf("memory: %ld MiB, cpus %ld, up %ld s%s\n",
		    mib >= 0 ? mib : boot_memory(&sh->cfg, &sh->priv,
		    sh->image, sh->type), sh->cfg.qemu_cpus,
		    (mono_ms() - sh->boot_ms) / 1000, sh->qmp ? "" :
		    ", no QMP");
		free(mem);
		free(st);
		shell_events(sh);
	}
	if (sh->net_up) {
		hint = netplan_hint(&sh->plan);
		printf("network: %s\n", hint);
		free(hint);
	} else
		printf("network: not set up yet (at the first boot)\n");
	return 0;
}

static int
sh_net(struct shell *sh, int argc, char **argv)
{
	struct strv diags = { 0 };
	struct netplan p;
	char *hint;
	int r = 0;

	(void)argc;
	(void)argv;
	if (sh->net_up)
		p = sh->plan;
	else if (netplan_make(&sh->cfg, sh->priv.user, &p, &diags) < 0) {
		for (size_t i = 0; i < diags.n; i++)
			warnx("%s", diags.v[i]);
		strv_free(&diags);
		return EXIT_QRUN;
	}
	hint = netplan_hint(&p);
	printf("%s%s\n", hint, sh->net_up ? "" : " (at the first boot)");
	free(hint);
	strv_free(&diags);
	return r;
}

/* --------------------------------------------------------- settings */

static char *
join(int argc, char **argv)
{
	char *s = xstrdup(""), *t;

	for (int i = 0; i < argc; i++) {
		t = s;
		s = xasprintf("%s%s%s", t, i ? " " : "", argv[i]);
		free(t);
	}
	return s;
}

/* As set (profile.c) says it: "show: qemu.memroy: unknown key; did you
 * mean qemu.memory?". */
static void
unknown_key(const char *cmd, const char *key)
{
	const char *near = profile_key_nearest(key);

	if (near != NULL)
		warnx("%s: %s: unknown key; did you mean %s?", cmd, key, near);
	else
		warnx("%s: %s: unknown key", cmd, key);
}

static int
sh_set(struct shell *sh, int argc, char **argv)
{
	struct strv diags = { 0 };
	char *val, *shown, why[512];
	bool live;
	int r;

	if (argc < 3) {
		warnx("usage: set KEY VALUE");
		return EXIT_QRUN;
	}
	val = join(argc - 2, argv + 2);
	live = sh->net_up && strcmp(argv[1], "net.netem") == 0;
	if (live && runnet_netem(&sh->rn, val, why, sizeof(why)) < 0) {
		warnx("%s", why);
		free(val);
		return EXIT_QRUN;
	}
	r = profile_set(&sh->cfg, argv[1], val, "set", &diags);
	for (size_t i = 0; i < diags.n; i++)
		warnx("%s", diags.v[i]);
	if (r == 0) {
		sh->changed = true;
		strv_pushf(&sh->sets, "%s=%s", argv[1], val);
		shown = profile_get(&sh->cfg, profile_key_index(argv[1]));
		printf("%s = %s (%s)\n", argv[1], shown ? shown : val,
		    live ? "now, on the running network" :
		    sh->net_up && strncmp(argv[1], "net.", 4) == 0 ?
		    "the network is up: applies in a new shell" :
		    "at the next boot");
		free(shown);
	}
	strv_free(&diags);
	free(val);
	return r < 0 ? EXIT_QRUN : 0;
}

static int
sh_unset(struct shell *sh, int argc, char **argv)
{
	struct strv keep = { 0 };
	size_t len;

	if (argc != 2) {
		warnx("usage: unset KEY");
		return EXIT_QRUN;
	}
	if (profile_key_index(argv[1]) < 0) {
		unknown_key("unset", argv[1]);
		return EXIT_QRUN;
	}
	len = strlen(argv[1]);
	for (size_t i = 0; i < sh->sets.n; i++) {
		const char *s = sh->sets.v[i];

		if (strncmp(s, argv[1], len) != 0 ||
		    (s[len] != '=' && strncmp(s + len, "+=", 2) != 0))
			strv_push(&keep, s);
	}
	strv_free(&sh->sets);
	sh->sets = keep;
	sh->changed = true;
	return shell_load(sh, sh->profile);
}

static int
sh_show(struct shell *sh, int argc, char **argv)
{
	int k = argc > 1 ? profile_key_index(argv[1]) : -1;
	char *v;

	if (argc > 1 && k < 0) {
		unknown_key("show", argv[1]);
		return EXIT_QRUN;
	}
	for (int i = 0; i < K_COUNT; i++) {
		if (k >= 0 && i != k)
			continue;
		v = profile_get(&sh->cfg, i);
		printf("%s = %s\t# %s\n", profile_key_name(i), v,
		    sh->cfg.where[i]);
		free(v);
	}
	return 0;
}

static int
sh_profile(struct shell *sh, int argc, char **argv)
{
	int r;

	if (argc != 2) {
		warnx("usage: profile NAME");
		return EXIT_QRUN;
	}
	if ((r = shell_load(sh, argv[1])) != 0)
		return r;
	free(sh->profile);
	sh->profile = xstrdup(argv[1]);
	sh->changed = true;
	printf("profile %s loaded (at the next boot%s)\n", argv[1],
	    sh->net_up ? "; network settings apply in a new shell" : "");
	return 0;
}

/* ------------------------------------------------------------ console */

/*
 * Attach the terminal to the guest's console: raw mode, every key but
 * Ctrl-] goes to QEMU's stdin (the serial port), the console's output
 * comes as it is, terminal queries included (their answers go back).
 */
static int
sh_console(struct shell *sh, int argc, char **argv)
{
	struct termios saved, raw;
	int k;

	(void)argc;
	(void)argv;
	if (!sh->tty) {
		warnx("console: needs a terminal");
		return EXIT_QRUN;
	}
	if (!shell_running(sh)) {
		warnx("console: no guest running");
		return EXIT_GUEST;
	}
	if (tcgetattr(0, &saved) < 0) {
		warn("console: terminal");
		return EXIT_QRUN;
	}
	printf("console attached; Ctrl-] detaches\n");
	fflush(stdout);
	raw = saved;
	cfmakeraw(&raw);
	raw.c_oflag |= OPOST | ONLCR;
	tcsetattr(0, TCSANOW, &raw);
	sh->attached = true;
	while (shell_running(sh) && !sh->quit) {
		k = shell_pump(sh, -1, false);
		if (k == SH_DETACH || k == SH_BREAK)
			break;
	}
	sh->attached = false;
	tcsetattr(0, TCSANOW, &saved);
	shell_show_flush(sh, true);
	shell_console_break(sh);
	printf("console detached\n");
	return 0;
}

/* ready [SPEC] [SEC]: the arguments; a lone number is SEC. */
static int
ready_args(struct shell *sh, int argc, char **argv, const char **spec,
    long *secs)
{
	long n;

	*spec = sh->cfg.test_ready[0] ? sh->cfg.test_ready : "ping";
	*secs = 60;
	if (argc > 3)
		return -1;
	if (argc == 2 && parse_long(argv[1], 1, 86400, &n) == 0) {
		*secs = n;
		return 0;
	}
	if (argc >= 2)
		*spec = argv[1];
	if (argc == 3 && parse_long(argv[2], 1, 86400, secs) < 0)
		return -1;
	return 0;
}

/* Replay this boot's console lines for a serial:REGEX probe: LOOP_READY
 * when one matches, else 0. */
static int
probe_replay(struct shell *sh)
{
	unsigned long i = sh->boot_line;
	int ev = 0;

	if (sh->nlog > LOG_LINES && i < sh->nlog - LOG_LINES)
		i = sh->nlog - LOG_LINES;
	for (; i < sh->nlog && ev == 0; i++)
		ev = ready_line(sh->probe, sh->log[i % LOG_LINES]);
	return ev;
}

/* The probe in the loop until it decides (LOOP_READY, LOOP_TIMEOUT),
 * QEMU exits, the shell quits (0) or the user breaks (SH_BREAK). */
static int
probe_wait(struct shell *sh)
{
	int ev;

	loop_add(&sh->loop, ready_part(sh->probe));
	ev = probe_replay(sh);
	while (ev != LOOP_READY && ev != LOOP_TIMEOUT) {
		if (!shell_running(sh) || sh->quit)
			return 0;
		ev = shell_pump(sh, -1, false);
		if (ev >= LOOP_USER)
			return SH_BREAK;
	}
	return ev;
}

/* Block until the probe says the running guest is ready (ready.c, the
 * same probes as --ready), the time is up, QEMU exits or Ctrl-C. */
static int
sh_ready(struct shell *sh, int argc, char **argv)
{
	const char *spec;
	char why[256], *msg;
	long secs, t0;
	int r = EXIT_GUEST, ev;

	if (ready_args(sh, argc, argv, &spec, &secs) < 0) {
		warnx("usage: ready [SPEC] [SECONDS]");
		return EXIT_QRUN;
	}
	if (!shell_running(sh)) {
		warnx("ready: no guest running (boot first)");
		return EXIT_GUEST;
	}
	if (ready_alloc(spec, &sh->plan, &sh->probe, why, sizeof(why)) < 0 ||
	    ready_open(sh->probe, why, sizeof(why)) < 0) {
		warnx("ready: %s: %s", spec, why);
		r = EXIT_QRUN;
		goto out;
	}
	ready_start(sh->probe, secs * 1000);
	t0 = mono_ms();
	ev = probe_wait(sh);
	shell_console_break(sh);	/* our line after the guest's */
	if (ev == LOOP_READY) {
		msg = ready_message(sh->probe, t0);	/* from the command */
		printf("qrun: %s\n", msg);
		free(msg);
		r = 0;
	} else if (ev == SH_BREAK)
		warnx("ready: interrupted");
	else if (ev == LOOP_TIMEOUT || sh->quit)
		warnx("ready: timeout after %ld s waiting for the guest (%s)",
		    secs, spec);
	else
		warnx("ready: QEMU exited before the guest was ready (%s)",
		    spec);
out:
	ready_put(sh->probe);	/* and out of the loop */
	sh->probe = NULL;
	return r;
}

/* Start run's command as --run does; 0, or the status when it could
 * not start. */
static int
run_spawn(struct shell *sh, struct ready_cmd *c, int argc, char **argv)
{
	struct strv cmd = { 0 }, env = { 0 };
	int r;

	for (int i = 1; i < argc; i++)
		strv_push(&cmd, argv[i]);
	ready_env(&sh->plan, &sh->priv, &env);
	fflush(stdout);
	r = ready_cmd_spawn(c, &cmd, &env, &sh->priv);
	strv_free(&cmd);
	strv_free(&env);
	if (r == 0)
		return 0;
	if (r == -ENOENT)
		warnx("run: %s: command not found", argv[1]);
	else if (r == -EACCES)
		warnx("run: %s: cannot run: %s", argv[1],
		    strerror(c->exec_err));
	else
		warnx("run: %s: cannot run as %s: %s", argv[1], sh->priv.user,
		    strerror(-r));
	return r == -ENOENT ? EXIT_NOTFOUND : r == -EACCES ? EXIT_NOEXEC :
	    EXIT_QRUN;
}

/* run CMD [ARGS...]: on the host, as the developer, with --run's QRUN_*
 * environment; its exit status is ours. The guest keeps running. */
static int
sh_run(struct shell *sh, int argc, char **argv)
{
	struct ready_cmd c;
	int r;

	if (argc < 2) {
		warnx("usage: run COMMAND [ARGS...]");
		return EXIT_QRUN;
	}
	if (!sh->net_up) {
		warnx("run: no guest yet (boot first)");
		return EXIT_GUEST;
	}
	if ((r = run_spawn(sh, &c, argc, argv)) != 0)
		return r;
	loop_add(&sh->loop, &c.child.part);
	while (c.child.pid > 0)
		if (sh->quit || shell_pump(sh, -1, false) >= LOOP_USER) {
			ready_cmd_stop(&c);	/* and out of the loop */
			shell_console_break(sh);
			warnx("run: %s: interrupted", argv[1]);
			return EXIT_QRUN;
		}
	loop_del(&sh->loop, &c.child.part);
	fflush(stdout);
	shell_console_break(sh);
	if (WIFSIGNALED(c.child.status))
		warnx("run: %s killed by signal %d", argv[1],
		    WTERMSIG(c.child.status));
	return ready_cmd_status(&c);
}

static int
sh_log(struct shell *sh, int argc, char **argv)
{
	long n = 20;
	unsigned long from;

	if (argc > 1 && parse_long(argv[1], 1, LOG_LINES, &n) < 0) {
		warnx("log: %s: expected a number of lines, 1 to %d", argv[1],
		    LOG_LINES);
		return EXIT_QRUN;
	}
	from = sh->nlog > (unsigned long)n ? sh->nlog - (unsigned long)n : 0;
	for (unsigned long i = from; i < sh->nlog; i++)
		printf("| %s\n", sh->log[i % LOG_LINES]);
	if (sh->line_len > 0)
		printf("| %.*s\n", (int)sh->line_len, sh->line);
	return 0;
}

/* Block until the console matches (since the last boot, reboot or
 * match), the time is up, QEMU exits or Ctrl-C. */
static int
sh_wait(struct shell *sh, int argc, char **argv)
{
	long secs = 60, end, left;
	regex_t re;
	char why[128];
	int r = EXIT_GUEST;

	if (argc < 2 || argc > 3 ||
	    (argc == 3 && parse_long(argv[2], 1, 86400, &secs) < 0)) {
		warnx("usage: wait REGEX [SECONDS]");
		return EXIT_QRUN;
	}
	if (regex_compile(&re, argv[1], why, sizeof(why)) < 0) {
		warnx("wait: /%s/: bad regex: %s", argv[1], why);
		return EXIT_QRUN;
	}
	end = mono_ms() + secs * 1000;
	while (!shell_wait_scan(sh, &re)) {
		if (!shell_running(sh)) {
			shell_console_break(sh);
			warnx("wait: no guest running (/%s/ not seen)",
			    argv[1]);
			goto out;
		}
		if (sh->quit || (left = end - mono_ms()) <= 0) {
			shell_console_break(sh);
			warnx("wait: timeout after %ld s waiting for /%s/",
			    secs, argv[1]);
			goto out;
		}
		if (shell_pump(sh, (int)left, false) >= LOOP_USER) {
			shell_console_break(sh);
			warnx("wait: interrupted");
			goto out;
		}
	}
	r = 0;
out:
	regfree(&re);
	return r;
}

static int
sh_quit(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	sh->quit = true;
	return 0;
}

static int sh_help(struct shell *, int, char **);

static const struct shcmd shcmds[] = {
	{ "boot", sh_boot, "[IMAGE]", "start QEMU (restart when running)" },
	{ "reboot", sh_reboot, "", "reset the guest (a new QEMU under TCG, "
	    "or if the image changed)" },
	{ "stop", sh_stop, "", "stop QEMU gracefully" },
	{ "kill", sh_stop, "", "kill QEMU (SIGKILL)" },
	{ "status", sh_status, "", "the guest and the network" },
	{ "net", sh_net, "", "the network hint line" },
	{ "set", sh_set, "KEY VALUE", "change a setting (next boot; "
	    "net.netem at once)" },
	{ "unset", sh_unset, "KEY", "back to the profile's value" },
	{ "show", sh_show, "[KEY]", "settings and where they come from" },
	{ "profile", sh_profile, "NAME", "load another profile" },
	{ "console", sh_console, "", "attach to the console; Ctrl-] "
	    "detaches" },
	{ "log", sh_log, "[N]", "the last N console lines" },
	{ "wait", sh_wait, "REGEX [SEC]", "until the console matches "
	    "(default 60 s)" },
	{ "ready", sh_ready, "[SPEC] [SEC]", "until the guest is ready: ping, "
	    "tcp:PORT, serial:RE" },
	{ "run", sh_run, "CMD [ARGS...]", "run CMD on the host against the "
	    "guest" },
	{ "help", sh_help, "[COMMAND]", "this text" },
	{ "quit", sh_quit, "", "stop QEMU, undo the network, leave" },
};
static const size_t nshcmds = ARRAY_SIZE(shcmds);

static int
sh_help(struct shell *sh, int argc, char **argv)
{
	(void)sh;
	for (size_t i = 0; i < nshcmds; i++) {
		if (argc > 1 && strncmp(shcmds[i].name, argv[1],
		    strlen(argv[1])) != 0)
			continue;
		printf("  %-8s %-22s %s\n", shcmds[i].name, shcmds[i].usage,
		    shcmds[i].help);
	}
	return 0;
}

/* ------------------------------------------------------------ dispatch */

/* Split a line into words: blanks separate, '...' and "..." quote,
 * backslash escapes one character. -EINVAL on an open quote. */
static int
split(const char *line, struct strv *out)
{
	char *w = xmalloc(strlen(line) + 1);
	size_t n;
	char q;

	for (;;) {
		while (*line == ' ' || *line == '\t')
			line++;
		if (*line == '\0' || *line == '#')
			break;
		for (n = 0, q = 0; *line && (q || (*line != ' ' &&
		    *line != '\t')); line++) {
			if (q && *line == q)
				q = 0;
			else if (!q && (*line == '\'' || *line == '"'))
				q = *line;
			else if (*line == '\\' && q != '\'' && line[1])
				w[n++] = *++line;
			else
				w[n++] = *line;
		}
		w[n] = '\0';
		if (q) {
			free(w);
			return -EINVAL;
		}
		strv_push(out, w);
	}
	free(w);
	return 0;
}

/* By exact name or unique prefix; otherwise say why, and suggest. */
static const struct shcmd *
shcmd_find(const char *name, bool quiet)
{
	const struct shcmd *hit = NULL;
	struct strv names = { 0 };
	const char *near;
	size_t len = strlen(name), nhit = 0;
	char list[256] = "";

	for (size_t i = 0; i < nshcmds; i++) {
		if (strcmp(shcmds[i].name, name) == 0)
			return &shcmds[i];
		if (strncmp(shcmds[i].name, name, len) == 0) {
			hit = &shcmds[i];
			nhit++;
			snprintf(list + strlen(list),
			    sizeof(list) - strlen(list), "%s%s",
			    nhit > 1 ? ", " : "", shcmds[i].name);
		}
	}
	if (nhit == 1 || quiet)
		return nhit == 1 ? hit : NULL;
	for (size_t i = 0; i < nshcmds; i++)
		strv_push(&names, shcmds[i].name);
	if (nhit > 1)
		warnx("%s: ambiguous command (%s)", name, list);
	else if ((near = str_nearest(name, &names, 0)) != NULL)
		warnx("%s: unknown command; did you mean %s? (help lists "
		    "them)", name, near);
	else
		warnx("%s: unknown command (help lists them)", name);
	strv_free(&names);
	return NULL;
}

int
shell_run_line(struct shell *sh, const char *line)
{
	struct strv w = { 0 };
	const struct shcmd *c;
	int r = 0;

	if (split(line, &w) < 0) {
		warnx("unterminated quote");
		r = EXIT_QRUN;
		goto out;
	}
	if (w.n == 0)
		goto out;
	shell_console_break(sh);
	if ((c = shcmd_find(w.v[0], false)) == NULL) {
		r = EXIT_QRUN;
		goto out;
	}
	free(w.v[0]);
	w.v[0] = xstrdup(c->name);
	r = c->fn(sh, (int)w.n, w.v);
	shell_events(sh);
out:
	fflush(stdout);
	strv_free(&w);
	return r;
}

/* ---------------------------------------------------------- completion */

/* Root acting for a developer completes the developer's profile names. */
static bool complete_for_other;
static const char *complete_home;

void
shell_complete_as(bool for_other, const char *home)
{
	complete_for_other = for_other;
	complete_home = home;
}

int
shell_complete(const char *line, int start, const char *text, struct strv *out)
{
	static const char *const modes[] = { "user", "tap", "bridge", "none" };
	char *head = xasprintf("%.*s", start, line);
	struct strv w = { 0 };
	const struct shcmd *c = NULL;
	int r = 0;

	split(head, &w);
	if (w.n > 0)
		c = shcmd_find(w.v[0], true);
	if (w.n == 0 || (w.n == 1 && c && c->fn == sh_help)) {
		for (size_t i = 0; i < nshcmds; i++)
			strv_push(out, shcmds[i].name);
	} else if (c && c->fn == sh_boot && w.n == 1)
		r = 1;
	else if (c && w.n == 1 && (c->fn == sh_set || c->fn == sh_unset ||
	    c->fn == sh_show)) {
		for (int k = 0; k < K_COUNT; k++)
			strv_push(out, profile_key_name(k));
	} else if (c && c->fn == sh_profile && w.n == 1) {
		/* a name, or a path once it has a slash */
		if (strchr(text, '/') != NULL)
			r = 1;
		else
			profile_names(complete_for_other, complete_home, out);
	} else if (c && c->fn == sh_set && w.n == 2 &&
	    strcmp(w.v[1], "net.mode") == 0) {
		for (size_t i = 0; i < ARRAY_SIZE(modes); i++)
			strv_push(out, modes[i]);
	}
	strv_free(&w);
	free(head);
	return r;
}
