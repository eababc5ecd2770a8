/*
 * cmd_shell.c - "qrun -i" / "qrun shell": boot, look, reboot, again.
 *
 * The network is set up once, at the first boot, through the same
 * journal, lock and ensure_tap path as a plain boot, and undone at quit,
 * end of input, SIGHUP or SIGTERM, never between boots. QEMU always runs
 * with its console piped to us (-nographic: the serial port on stdout)
 * and a QMP socket; one poll loop serves the line editor (repl.c), the
 * console, QMP and the signal self-pipe, so guest output shows up while
 * the user types. The console's display is shell_console.c's, the
 * commands shell_cmds.c's.
 */
#include <err.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shell.h"

/* QEMU is gone (reaped, its console read to the end by vm.c): say how
 * it ended unless we ended it, and forget it. */
static void
guest_gone(struct shell *sh)
{
	int st = sh->vm.status;

	if (sh->line_len > 0) {
		shell_log_line(sh, sh->line);
		sh->line_len = 0;
	}
	shell_show_flush(sh, true);
	shell_events(sh);
	shell_console_break(sh);	/* what we say next on a line of its own */
	if (!sh->stopping) {
		if (WIFSIGNALED(st))
			repl_printf("qrun: QEMU killed by signal %d\n",
			    WTERMSIG(st));
		else
			repl_printf("qrun: QEMU exited with status %d\n",
			    WEXITSTATUS(st));
	}
	loop_del(&sh->loop, &sh->qmp_part);
	qmp_close(sh->qmp);
	sh->qmp = NULL;
	vm_free(&sh->vm);
	sh->vm.pid = -1;
	runshare_down(&sh->shares);
}

/* QMP as a participant: its input read, its events reported. */
static int
qmp_prepare(void *arg, struct pollfd *pfd)
{
	struct shell *sh = arg;

	pfd->fd = sh->qmp ? qmp_fd(sh->qmp) : -1;
	pfd->events = POLLIN;
	return -1;
}

static int
qmp_event(void *arg, const struct pollfd *pfd)
{
	struct shell *sh = arg;

	if (sh->qmp && pfd->revents && qmp_input(sh->qmp) < 0) {
		shell_events(sh);
		loop_del(&sh->loop, &sh->qmp_part);
		qmp_close(sh->qmp);
		sh->qmp = NULL;
	}
	shell_events(sh);	/* also those read by qmp_execute */
	return 0;
}

/* stdin as a participant: the line editor at the prompt; else, on a
 * terminal, the keys typed during a command, or the guest's input while
 * the console is attached. */
static int
input_prepare(void *arg, struct pollfd *pfd)
{
	struct shell *sh = arg;

	pfd->fd = sh->prompt || sh->tty ? 0 : -1;
	pfd->events = POLLIN;
	return -1;
}

static int
input_event(void *arg, const struct pollfd *pfd)
{
	struct shell *sh = arg;
	int k;

	if (!pfd->revents)
		return 0;
	if (sh->prompt) {
		repl_input();
		return 0;
	}
	if (sh->attached)
		k = shell_console_keys(sh);
	else
		k = repl_read_key();
	return k == KEY_DETACH ? SH_DETACH : k != 0 ? SH_BREAK : 0;
}

/* The shell's own participants; the guest, a probe and a command join
 * while they run. */
static void
shell_loop_init(struct shell *sh)
{
	loop_init(&sh->loop);
	shell_console_init(sh);
	sh->qmp_part = (struct loop_part){ .prepare = qmp_prepare,
	    .event = qmp_event, .arg = sh };
	sh->input = (struct loop_part){ .prepare = input_prepare,
	    .event = input_event, .arg = sh };
	loop_add(&sh->loop, &sh->input);
}

/* A terminating signal: SH_BREAK when the running command should stop. */
static int
on_signal(struct shell *sh, int sig)
{
	/* In a terminal Ctrl-C is a key (repl.c turns ISIG off), and SIGINT
	 * does what it does; a script's SIGINT ends it. */
	if (sig == SIGINT && sh->tty) {
		if (!repl_active())
			return SH_BREAK;
		repl_interrupt();
		return 0;
	}
	sh->fatal = sig;
	sh->quit = true;
	return SH_BREAK;
}

int
shell_pump(struct shell *sh, int timeout_ms, bool prompt)
{
	int ev, sig = 0;

	sh->prompt = prompt;
	ev = loop_once(&sh->loop, timeout_ms, &sig);
	if (sh->vm.part.loop != NULL && sh->vm.pid < 0)
		guest_gone(sh);	/* whichever event the turn returned */
	if (ev == LOOP_SIGNAL)
		return on_signal(sh, sig);
	if (ev < 0)
		return SH_BREAK;
	return ev == LOOP_VM_EXITED ? 0 : ev;
}

/* QMP quit (QEMU then exits without a word): 0, or -errno when QEMU does
 * not speak QMP or did not take it. */
static int
guest_quit(struct shell *sh)
{
	char *res = NULL;
	int r;

	if (sh->qmp == NULL || !qmp_alive(sh->qmp))
		return -ENOTCONN;
	r = qmp_execute(sh->qmp, "quit", NULL, 2000, &res);
	free(res);
	return r == -EPIPE ? 0 : r;	/* gone before it replied */
}

/* Let QEMU go: QMP quit, or SIGTERM; SIGKILL when it lingers. */
void
shell_guest_stop(struct shell *sh, bool hard)
{
	long end;

	if (!shell_running(sh))
		return;
	sh->stopping = true;
	if (hard)
		kill(sh->vm.pid, SIGKILL);
	else if (guest_quit(sh) == 0) {
		end = mono_ms() + 3000;
		while (shell_running(sh) && mono_ms() < end)
			shell_pump(sh, 50, false);
	}
	if (shell_running(sh)) {
		vm_stop(&sh->vm);	/* SIGTERM, SIGKILL, reaps */
		guest_gone(sh);
	}
	sh->stopping = false;
}

/* ----------------------------------------------------- profile, network */

/* The profile, -o options, then the shell's own sets; prints problems.
 * On failure cfg is left as it was. 0 or EXIT_QRUN. */
int
shell_load(struct shell *sh, const char *profile)
{
	struct strv ov = { 0 }, where = { 0 }, diags = { 0 };
	struct profile_src src = { .profile = profile,
	    .overrides = &ov, .override_where = &where,
	    .privileged_for_other = sh->priv.for_other };
	struct config c;
	int r;

	for (size_t i = 0; i < sh->o->overrides.n; i++) {
		strv_push(&ov, sh->o->overrides.v[i]);
		strv_push(&where, sh->o->override_where.v[i]);
	}
	for (size_t i = 0; i < sh->sets.n; i++) {
		strv_push(&ov, sh->sets.v[i]);
		strv_push(&where, "set");
	}
	config_init(&c);
	r = user_profile_load(&sh->priv, &c, &src, &diags);
	for (size_t i = 0; i < diags.n; i++)
		warnx("%s", diags.v[i]);
	if (r == 0) {
		config_free(&sh->cfg);
		sh->cfg = c;
	} else
		config_free(&c);
	strv_free(&diags);
	strv_free(&ov);
	strv_free(&where);
	return r < 0 ? EXIT_QRUN : 0;
}

/*
 * Once per shell: plan the network from the settings of the first boot
 * and take it up through runnet.c, the path a plain boot takes.
 */
int
shell_net_up(struct shell *sh)
{
	struct strv diags = { 0 };
	char why[512];
	int r;

	r = netplan_make(&sh->cfg, sh->priv.user, &sh->plan, &diags);
	for (size_t i = 0; i < diags.n; i++)
		warnx("%s", diags.v[i]);
	strv_free(&diags);
	if (r < 0)
		return EXIT_QRUN;
	if (runnet_facts(&sh->plan, &sh->priv, why, sizeof(why)) < 0) {
		warnx("%s", why);
		return EXIT_QRUN;
	}
	runnet_init(&sh->rn, &sh->plan, &sh->priv);
	sh->net_up = true;
	if (runnet_claim(&sh->rn, &sh->plan, false, why, sizeof(why)) < 0 ||
	    runnet_up(&sh->rn, sh->image, why, sizeof(why)) < 0) {
		warnx("%s", why);
		return EXIT_QRUN;
	}
	priv_net(&sh->priv, false);
	return 0;
}

void
shell_net_down(struct shell *sh)
{
	char why[512];

	if (!sh->net_up)
		return;
	if (runnet_down(&sh->rn, why, sizeof(why)) < 0)
		warnx("%s", why);
	sh->net_up = false;
}

/* ----------------------------------------------------------------- boot */

/* qemu.share for this QEMU: checked, its virtiofsds started (they go
 * with it: guest_gone). 0 or EXIT_QRUN. */
static int
guest_shares(struct shell *sh, struct vm_spec *s, struct qemu_opts *qo)
{
	char why[HOSTDIR_PATH_MAX + 512];

	runshare_init(&sh->shares);
	if (runshare_check(&sh->shares, &sh->cfg, &sh->priv, why,
	    sizeof(why)) < 0 || runshare_up(&sh->shares, &sh->rn,
	    s->keep_fds, ARRAY_SIZE(s->keep_fds), &s->nkeep, why,
	    sizeof(why)) < 0) {
		warnx("%s", why);
		runshare_down(&sh->shares);
		return EXIT_QRUN;
	}
	qo->dirs = sh->shares.dirs.n ? &sh->shares.dirs : NULL;
	qo->dir_fds = sh->shares.fds;
	return 0;
}

/*
 * QEMU's command line for the next boot, and what QEMU inherits: the
 * taps' queues (and vhost fds), the shares' sockets, one end of a QMP
 * socket pair (qmp.c); *ours gets qrun's end, -1 without QMP. 0 or
 * EXIT_QRUN.
 */
static int
guest_argv(struct shell *sh, struct vm_spec *s, struct strv *argv,
    int *ours)
{
	struct qemu_opts qo = { .image = sh->image, .type = sh->type,
	    .fds = sh->rn.fds, .extra = &sh->o->extra };
	struct accel_probe ap;
	char why[512];
	int r, qemus;

	qo.accel = accel_pick(&sh->cfg, &sh->priv, &ap);
	sh->tcg = strcmp(qo.accel, "tcg") == 0;
	if (ap.verdict != ACCEL_NONE && sh->o->verbose)
		accel_say(&ap, false);
	qo.memory = boot_memory(&sh->cfg, &sh->priv, sh->image, sh->type);
	netplan_vhost(&sh->plan, qo.accel, accel_vhost_usable());
	if (runnet_spawn_fds(&sh->rn, s->keep_fds, ARRAY_SIZE(s->keep_fds),
	    &s->nkeep, why, sizeof(why)) < 0) {
		warnx("%s", why);
		return EXIT_QRUN;
	}
	if (guest_shares(sh, s, &qo) != 0)
		return EXIT_QRUN;
	*ours = -1;
	if ((r = qmp_socketpair(ours, &qemus)) < 0)
		warnx("QMP: %s (reboot will restart QEMU)", strerror(-r));
	else
		s->qmp_fd = qo.qmp_fd = qemus;	/* vm_spawn closes it */
	qemu_argv(&sh->cfg, &sh->plan, &qo, argv);	/* never qo.batch */
	if (sh->o->verbose) {
		char *line = qemu_cmdline(argv);
		warnx("running %s", line);
		free(line);
	}
	return 0;
}

/* Start QEMU on sh->image with the current settings. */
int
shell_guest_start(struct shell *sh)
{
	struct vm_spec s = { .priv = &sh->priv, .parent = getpid(),
	    .serial_pipe = true, .stdin_pipe = true,
	    .out = shell_console_out, .out_arg = sh };
	struct strv argv = { 0 };
	int r, ours;

	if ((r = guest_argv(sh, &s, &argv, &ours)) != 0)
		return r;
	s.argv = &argv;
	r = vm_spawn(&s, &sh->vm);
	runnet_spawned(&sh->rn);	/* QEMU has its own vhost fds now */
	runshare_spawned(&sh->shares);
	strv_free(&argv);
	if (r < 0) {
		if (ours >= 0)
			close(ours);
		sh->vm.pid = -1;
		runshare_down(&sh->shares);
		return spawn_failed(&sh->vm, r, sh->cfg.qemu_binary);
	}
	loop_add(&sh->loop, &sh->vm.part);
	stat(sh->image, &sh->img_st);
	sh->changed = false;
	sh->boot_ms = mono_ms();
	sh->wait_from = sh->nlog + (sh->line_len > 0);
	sh->boot_line = sh->wait_from;
	journal_info(sh->rn.journal, "qemu-pid", "%ld", (long)sh->vm.pid);
	if (ours >= 0 && qmp_attach(ours, &sh->qmp) == 0)
		loop_add(&sh->loop, &sh->qmp_part);
	printf("QEMU pid %ld: %s\n", (long)sh->vm.pid, sh->image);
	return 0;
}

/* ---------------------------------------------------------------- main */

/*
 * The developer's history file. Root acting for another user takes
 * their home from the password database, not from the environment, and
 * repl reads and writes the file with their rights; with the file
 * capability qrun runs as the developer and uses their environment.
 */
static char *
history_path(const struct priv *pv)
{
	const char *e = getenv("XDG_STATE_HOME");

	if (pv->root && pv->for_other)
		return pv->home[0] == '/' ? xasprintf("%s/.local/state/qrun/history",
		    pv->home) : NULL;
	if (e && *e)
		return xasprintf("%s/qrun/history", e);
	if ((e = getenv("HOME")) && *e)
		return xasprintf("%s/.local/state/qrun/history", e);
	return NULL;
}

/* Lines until quit or end of input. A script's status is that of its
 * last failing command, or 0; in a terminal 0: each mistake was shown
 * as it happened, to the one who made it, and is no outcome of the
 * session (qrun(1), EXIT STATUS). */
static int
shell_loop(struct shell *sh)
{
	char *line;
	bool eof;
	int r, status = 0;

	while (!sh->quit) {
		if ((line = repl_line(&eof)) != NULL) {
			repl_pause();
			shell_show_flush(sh, true);
			if ((r = shell_run_line(sh, line)) != 0 && !sh->tty)
				status = r;
			free(line);
			continue;
		}
		if (eof)
			break;
		repl_resume();
		shell_pump(sh, -1, true);
	}
	if (sh->tty && !sh->quit)
		printf("\n");
	return status;
}

int
cmd_shell(struct opts *o)
{
	struct shell sh = { .o = o };
	struct repl_conf rc = { .prompt = "qrun> " };
	char *hist = NULL;
	int r;

	sh.vm.pid = -1;
	sh.vm.serial_fd = -1;
	sh.vm.stdin_fd = -1;
	sh.tty = isatty(0) && isatty(1);
	shell_loop_init(&sh);
	setvbuf(stdout, NULL, _IOLBF, 0);
	priv_init(&sh.priv);
	config_init(&sh.cfg);
	if (o->profile)
		sh.profile = xstrdup(o->profile);
	if (o->args.n > o->argi + 1) {
		warnx("one image at a time; QEMU arguments go after --");
		r = EXIT_QRUN;
		goto out;
	}
	if (o->args.n == o->argi + 1)
		sh.image = xstrdup(o->args.v[o->argi]);
	if ((r = shell_load(&sh, sh.profile)) != 0 ||
	    (r = loop_signals_init()) < 0) {
		r = EXIT_QRUN;
		goto out;
	}
	rc.tty = sh.tty;
	rc.complete = shell_complete;
	shell_complete_as(sh.priv.for_other, sh.priv.home);
	rc.history = hist = sh.tty ? history_path(&sh.priv) : NULL;
	rc.as = &sh.priv;
	repl_open(&rc);
	r = shell_loop(&sh);
	repl_close();
	shell_guest_stop(&sh, false);
	shell_net_down(&sh);
out:
	for (size_t i = 0; i < LOG_LINES; i++)
		free(sh.log[i]);
	free(sh.disp);
	free(sh.image);
	free(sh.profile);
	free(hist);
	strv_free(&sh.sets);
	config_free(&sh.cfg);
	if (sh.fatal)
		loop_signal_die(sh.fatal);
	return r;
}
