/*
 * cmd_shell.c - "qrun -i" / "qrun shell": boot, look, reboot, again.
 *
 * The network is set up once, at the first boot, through the same
 * journal, lock and ensure_tap path as a plain boot, and undone at quit,
 * end of input, SIGHUP or SIGTERM, never between boots. QEMU always runs
 * with its console piped to us (-nographic: the serial port on stdout)
 * and a QMP socket; one poll loop serves the line editor (repl.c), the
 * console, QMP and the signal self-pipe, so guest output shows up while
 * the user types. Commands come from one table, matched by unique prefix.
 */
#include <err.h>
#include <fcntl.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "qrun.h"
#include "cmd.h"

#define LOG_LINES	2000	/* console lines kept for log and wait */
#define LINE_LEN	4096
#define PARTIAL_MS	200	/* show a partial console line after this */
#define QMP_MS		5000
#define RESET_ECHO_MS	2000	/* SeaBIOS resets once more after ours */
#define KEY_CTRL_C	3
#define KEY_DETACH	29	/* Ctrl-] */

struct shell {
	struct opts *o;
	struct priv priv;
	char *profile;		/* -p, then "profile NAME" */
	struct strv sets;	/* "KEY=VALUE" of set, in order */
	struct config cfg;
	/* The network, once up. */
	struct netplan plan;
	bool net_up;
	struct runnet rn;	/* journal, lock, tap: the same path as boot */
	char *qmp_dir, *qmp_path;
	/* The guest. */
	char *image;		/* for the next boot/reboot */
	struct stat img_st;	/* the image as booted */
	enum image_type type;
	struct vm vm;		/* vm.pid < 0: none */
	struct qmp *qmp;
	long boot_ms;
	long reset_ms;		/* when we last asked for system_reset */
	bool stopping;		/* we asked QEMU to go */
	unsigned long boot_line; /* the first console line of this boot */
	struct ready *probe;	/* ready: the probe in the loop, else NULL */
	int probe_ev;		/* what it said: VM_READY, VM_TIMEOUT, 0 */
	bool attached;		/* console: keys go to the guest */
	/* The console. */
	char *log[LOG_LINES];
	unsigned long nlog;	/* lines so far; the next one's number */
	unsigned long wait_from;	/* wait looks from this line on */
	char line[LINE_LEN + 1];
	size_t line_len;
	char *disp;		/* partial line not shown yet (prompt up) */
	size_t disp_len;
	long disp_ms;
	char esc[4];		/* a query's start held back (tty) */
	size_t nesc;
	bool mid_line;		/* the console's last byte shown was no \n */
	bool tty, quit;
	int fatal;		/* SIGTERM/SIGHUP to die of at the end */
};

struct shcmd {
	const char *name;
	int (*fn)(struct shell *, int argc, char **argv);
	const char *usage;
	const char *help;
};

static bool
running(const struct shell *sh)
{
	return sh->vm.pid > 0;
}

/* ------------------------------------------------------------- console */

static void
log_line(struct shell *sh, const char *l)
{
	size_t i = sh->nlog % LOG_LINES;

	free(sh->log[i]);
	sh->log[i] = xstrdup(l);
	sh->nlog++;
	if (sh->probe && sh->probe_ev == 0)
		sh->probe_ev = ready_line(sh->probe, l);
}

/* Start our own text on a line of its own after partial console output. */
static void
console_break(struct shell *sh)
{
	if (sh->mid_line)
		repl_output("\r\n", 2);
	sh->mid_line = false;
}

static void
show_flush(struct shell *sh, bool force)
{
	if (sh->disp_len == 0 ||
	    (!force && mono_ms() - sh->disp_ms < PARTIAL_MS))
		return;
	repl_output(sh->disp, sh->disp_len);
	sh->mid_line = sh->disp[sh->disp_len - 1] != '\n';
	if (repl_active())
		console_break(sh);
	sh->disp_len = 0;
}

static const char *const queries[] = { "\033[6n", "\033[5n", "\033[0c",
	"\033[c" };

/* Does buf end with the start of a query? Its length, else 0. */
static size_t
query_start(const char *buf, size_t n)
{
	for (size_t l = 3; l > 0; l--)
		for (size_t i = 0; n >= l && i < ARRAY_SIZE(queries); i++)
			if (memcmp(buf + n - l, queries[i], l) == 0)
				return l;
	return 0;
}

/*
 * Drop the guest's terminal queries (cursor position, status, device
 * attributes): our terminal would answer them into the line editor. A
 * query split across reads is held back in sh->esc until the next one.
 * buf has room for sizeof(sh->esc) more bytes.
 */
static size_t
drop_queries(struct shell *sh, char *buf, size_t n)
{
	char *p;

	memmove(buf + sh->nesc, buf, n);
	memcpy(buf, sh->esc, sh->nesc);
	n += sh->nesc;
	for (size_t i = 0; i < ARRAY_SIZE(queries); i++) {
		size_t l = strlen(queries[i]);

		while ((p = memmem(buf, n, queries[i], l)) != NULL) {
			memmove(p, p + l, n - (size_t)(p - buf) - l);
			n -= l;
		}
	}
	sh->nesc = query_start(buf, n);
	memcpy(sh->esc, buf + n - sh->nesc, sh->nesc);
	return n - sh->nesc;
}

/* Show console bytes: whole lines above the prompt, or everything as it
 * comes while no prompt is up. */
static void
show(struct shell *sh, char *buf, size_t n)
{
	char *nl;
	size_t k;

	if (n == 0)
		return;

	if (!repl_active()) {
		show_flush(sh, true);
		repl_output(buf, n);
		sh->mid_line = buf[n - 1] != '\n';
		return;
	}
	sh->disp = realloc(sh->disp, sh->disp_len + n);
	if (sh->disp == NULL)
		abort();
	memcpy(sh->disp + sh->disp_len, buf, n);
	sh->disp_len += n;
	sh->disp_ms = mono_ms();
	nl = memrchr(sh->disp, '\n', sh->disp_len);
	if (nl == NULL)
		return;
	k = (size_t)(nl + 1 - sh->disp);
	repl_output(sh->disp, k);
	sh->disp_len -= k;
	memmove(sh->disp, sh->disp + k, sh->disp_len);
}

/* Read the console: show it and keep it, line by line, for log/wait. */
static void
serial_read(struct shell *sh)
{
	char buf[4096 + sizeof(sh->esc)];
	ssize_t n = read(sh->vm.serial_fd, buf, 4096);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close(sh->vm.serial_fd);
		sh->vm.serial_fd = -1;
		return;
	}
	if (sh->tty && !sh->attached)
		n = (ssize_t)drop_queries(sh, buf, (size_t)n);
	show(sh, buf, (size_t)n);
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\n' || sh->line_len == LINE_LEN) {
			sh->line[sh->line_len] = '\0';
			log_line(sh, sh->line);
			sh->line_len = 0;
			if (buf[i] == '\n')
				continue;
		}
		if (buf[i] != '\r')
			sh->line[sh->line_len++] = buf[i];
	}
}

/* ------------------------------------------------------------ the guest */

static void
events(struct shell *sh)
{
	char *e;

	while (sh->qmp && (e = qmp_event_next(sh->qmp)) != NULL) {
		bool by_guest = strstr(e, ":guest") != NULL;
		/* SeaBIOS resets once more right after our system_reset. */
		bool echo = by_guest &&
		    mono_ms() - sh->reset_ms < RESET_ECHO_MS;

		e[strcspn(e, ":")] = '\0';
		if (!sh->stopping && !echo)
			console_break(sh);
		if (!sh->stopping && !echo && strcmp(e, "RESET") == 0)
			repl_printf("qrun: guest reset%s\n", by_guest ?
			    " (by the guest)" : "");
		else if (!sh->stopping && strcmp(e, "SHUTDOWN") == 0)
			repl_printf("qrun: guest powered off\n");
		else if (!sh->stopping && strcmp(e, "STOP") == 0)
			repl_printf("qrun: guest stopped\n");
		free(e);
	}
}

/* QEMU is gone (reaped): take the rest of the console, say how it ended
 * unless we ended it, and forget it. */
static void
guest_gone(struct shell *sh, int st)
{
	while (sh->vm.serial_fd >= 0)
		serial_read(sh);
	if (sh->line_len > 0) {
		sh->line[sh->line_len] = '\0';
		log_line(sh, sh->line);
		sh->line_len = 0;
	}
	show_flush(sh, true);
	events(sh);
	if (!sh->stopping) {
		console_break(sh);
		if (WIFSIGNALED(st))
			repl_printf("qrun: QEMU killed by signal %d\n",
			    WTERMSIG(st));
		else
			repl_printf("qrun: QEMU exited with status %d\n",
			    WEXITSTATUS(st));
	}
	qmp_close(sh->qmp);
	sh->qmp = NULL;
	if (sh->qmp_path)
		unlink(sh->qmp_path);
	vm_free(&sh->vm);
	sh->vm.pid = -1;
}

static void
reap(struct shell *sh, bool block)
{
	int st;
	pid_t p;

	if (!running(sh))
		return;
	while ((p = waitpid(sh->vm.pid, &st, block ? 0 : WNOHANG)) < 0 &&
	    errno == EINTR)
		;
	if (p == sh->vm.pid) {
		sh->vm.pid = -1;
		guest_gone(sh, st);
	}
}

static void
qmp_read(struct shell *sh)
{
	if (qmp_input(sh->qmp) < 0) {
		events(sh);
		qmp_close(sh->qmp);
		sh->qmp = NULL;
	}
}

/* A signal from the self-pipe: 1 when the running command should stop. */
static int
on_signal(struct shell *sh, int sig)
{
	switch (sig) {
	case SIGCHLD:
		reap(sh, false);
		return 0;
	case SIGINT:
		if (repl_active()) {
			repl_interrupt();
			return 0;
		}
		return 1;
	default:
		sh->fatal = sig;
		sh->quit = true;
		return 1;
	}
}

/* Attached console: pass what was typed to the guest up to Ctrl-]
 * (KEY_DETACH then; 1 at the end of input, else 0). */
static int
console_keys(struct shell *sh)
{
	char buf[256], *d;
	ssize_t n = read(0, buf, sizeof(buf)), w;
	size_t len, off = 0;

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : 1;
	if (n == 0)
		return 1;
	d = memchr(buf, KEY_DETACH, (size_t)n);
	len = d ? (size_t)(d - buf) : (size_t)n;
	while (off < len && sh->vm.stdin_fd >= 0) {
		if ((w = write(sh->vm.stdin_fd, buf + off, len - off)) < 0 &&
		    errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	return d ? KEY_DETACH : 0;
}

/* ready: the probe's poll slot and timeout, folded into pump's. */
static int
probe_prepare(struct shell *sh, struct pollfd *pfd, int timeout_ms)
{
	int t;

	pfd->fd = -1;
	if (sh->probe == NULL || sh->probe_ev != 0)
		return timeout_ms;
	t = ready_prepare(sh->probe, pfd);
	if (t >= 0 && (timeout_ms < 0 || t < timeout_ms))
		timeout_ms = t;
	return timeout_ms;
}

/*
 * Serve everything for up to timeout_ms (-1: until something happens):
 * signals, the console, QMP, the ready probe, and stdin (the line editor
 * when prompt, else on a terminal the keys typed during a command, or
 * the guest's input while the console is attached). Returns the control
 * key or 1 when the command in progress should stop, else 0.
 */
static int
pump(struct shell *sh, int timeout_ms, bool prompt)
{
	struct pollfd p[5] = { { .fd = vm_signal_fd(), .events = POLLIN } };
	struct pollfd pp;
	int n = 1, iser = -1, iqmp = -1, iin = -1, iprb = -1, sig, brk = 0;

	if (sh->vm.serial_fd >= 0) {
		iser = n;
		p[n++] = (struct pollfd){ .fd = sh->vm.serial_fd,
		    .events = POLLIN };
	}
	if (sh->qmp) {
		iqmp = n;
		p[n++] = (struct pollfd){ .fd = qmp_fd(sh->qmp),
		    .events = POLLIN };
	}
	if (prompt || sh->tty) {
		iin = n;
		p[n++] = (struct pollfd){ .fd = 0, .events = POLLIN };
	}
	timeout_ms = probe_prepare(sh, &pp, timeout_ms);
	if (pp.fd >= 0) {
		iprb = n;
		p[n++] = pp;
	}
	if (sh->disp_len > 0 && (timeout_ms < 0 || timeout_ms > PARTIAL_MS))
		timeout_ms = PARTIAL_MS;
	if (poll(p, (nfds_t)n, timeout_ms) < 0 && errno != EINTR)
		return 1;
	if (sh->probe && sh->probe_ev == 0)
		sh->probe_ev = ready_event(sh->probe, iprb >= 0 ? &p[iprb] :
		    &pp);
	while ((sig = vm_signal_next()) != 0)
		brk |= on_signal(sh, sig);
	if (iser >= 0 && p[iser].revents && sh->vm.serial_fd >= 0)
		serial_read(sh);
	if (iqmp >= 0 && p[iqmp].revents && sh->qmp)
		qmp_read(sh);
	reap(sh, false);
	events(sh);
	if (iin >= 0 && p[iin].revents) {
		if (prompt)
			repl_input();
		else if (sh->attached)
			brk = console_keys(sh);
		else if ((sig = repl_read_key()) != 0)
			brk = sig;
	}
	show_flush(sh, false);
	return brk;
}

/* Let QEMU go: QMP quit, or SIGTERM; SIGKILL when it lingers. */
static void
guest_stop(struct shell *sh, bool hard)
{
	char *res = NULL;
	long end;

	if (!running(sh))
		return;
	sh->stopping = true;
	if (hard)
		kill(sh->vm.pid, SIGKILL);
	else if (sh->qmp &&
	    qmp_execute(sh->qmp, "quit", NULL, 2000, &res) == 0) {
		end = mono_ms() + 3000;
		while (running(sh) && mono_ms() < end)
			pump(sh, 50, false);
	}
	free(res);
	if (running(sh)) {
		vm_stop(&sh->vm);	/* SIGTERM, SIGKILL, reaps */
		guest_gone(sh, sh->vm.status);
	}
	sh->stopping = false;
}

/* ----------------------------------------------------- profile, network */

/* The profile, -o options, then the shell's own sets; prints problems.
 * On failure cfg is left as it was. 0 or EXIT_QRUN. */
static int
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

/* The QMP socket lives in a directory of its own in the state dir, 0700
 * and owned by whoever QEMU runs as; journaled, so a shell killed with
 * SIGKILL leaves nothing there after the next run or "qrun cleanup". */
static int
qmp_dir_make(struct shell *sh)
{
	char name[32];
	int r;

	free(sh->qmp_dir);
	free(sh->qmp_path);
	snprintf(name, sizeof(name), "qmp-%ld", (long)getpid());
	sh->qmp_dir = xasprintf("%s/%s", sh->rn.state, name);
	sh->qmp_path = xasprintf("%s/qmp.sock", sh->qmp_dir);
	if ((r = change_dir(sh->rn.journal, name)) < 0) {
		warnx("%s: %s", sh->qmp_dir, strerror(-r));
		return EXIT_QRUN;
	}
	if (sh->priv.root && sh->priv.uid != 0 &&
	    chown(sh->qmp_dir, sh->priv.uid, sh->priv.gid) < 0) {
		warn("%s", sh->qmp_dir);
		return EXIT_QRUN;
	}
	return 0;
}

/*
 * Once per shell: plan the network from the settings of the first boot
 * and take it up through runnet.c, the path a plain boot takes.
 */
static int
net_up(struct shell *sh)
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
	if (runnet_up(&sh->rn, sh->image, why, sizeof(why)) < 0) {
		warnx("%s", why);
		return EXIT_QRUN;
	}
	if ((r = qmp_dir_make(sh)) != 0)
		return r;
	priv_net(&sh->priv, false);
	return 0;
}

static void
net_down(struct shell *sh)
{
	char why[512];

	if (!sh->net_up)
		return;
	if (runnet_down(&sh->rn, why, sizeof(why)) < 0)
		warnx("%s", why);
	sh->net_up = false;
}

/* ----------------------------------------------------------------- boot */

/* Start QEMU on sh->image with the current settings and connect QMP. */
static int
guest_start(struct shell *sh)
{
	struct qemu_opts qo = { .image = sh->image, .type = sh->type,
	    .fds = sh->rn.fds, .qmp_path = sh->qmp_path,
	    .serial_pipe = true, .extra = &sh->o->extra };
	struct vm_spec s = { .priv = &sh->priv, .parent = getpid(),
	    .serial_pipe = true, .stdin_pipe = true };
	struct strv argv = { 0 };
	struct accel_probe ap;
	bool batch = sh->cfg.batch;
	char why[512];
	mode_t um;
	int r;

	qo.accel = accel_pick(&sh->cfg, &sh->priv, &ap);
	if (ap.verdict != ACCEL_NONE && sh->o->verbose)
		accel_say(&ap, false);
	qo.memory = boot_memory(&sh->cfg, &sh->priv, sh->image, sh->type);
	netplan_vhost(&sh->plan, qo.accel, accel_vhost_usable());
	if (runnet_spawn_fds(&sh->rn, s.keep_fds, ARRAY_SIZE(s.keep_fds),
	    &s.nkeep, why, sizeof(why)) < 0) {
		warnx("%s", why);
		return EXIT_QRUN;
	}
	sh->cfg.batch = false;	/* no -no-reboot: reboot is the point */
	qemu_argv(&sh->cfg, &sh->plan, &qo, &argv);
	sh->cfg.batch = batch;
	if (sh->o->verbose) {
		char *line = qemu_cmdline(&argv);
		warnx("running %s", line);
		free(line);
	}
	s.argv = &argv;
	unlink(sh->qmp_path);
	um = umask(077);	/* the QMP socket: 0600 */
	r = vm_spawn(&s, &sh->vm);
	umask(um);
	runnet_spawned(&sh->rn);	/* QEMU has its own vhost fds now */
	strv_free(&argv);
	if (r < 0) {
		sh->vm.pid = -1;
		return spawn_failed(&sh->vm, r, sh->cfg.qemu_binary);
	}
	fcntl(sh->vm.serial_fd, F_SETFL, O_NONBLOCK);
	stat(sh->image, &sh->img_st);
	sh->boot_ms = mono_ms();
	sh->wait_from = sh->nlog + (sh->line_len > 0);
	sh->boot_line = sh->wait_from;
	journal_info(sh->rn.journal, "qemu-pid", "%ld", (long)sh->vm.pid);
	/* QEMU runs as the developer and owns the socket's directory: connect
	 * with their rights (the socket is 0600 by the umask above). */
	if ((r = access_as_user(&sh->priv, true)) == 0) {
		r = qmp_open(sh->qmp_path, QMP_MS, &sh->qmp);
		access_as_user(&sh->priv, false);
	}
	if (r < 0)
		warnx("QMP: %s: %s (reboot will restart QEMU)", sh->qmp_path,
		    strerror(-r));
	printf("QEMU pid %ld: %s\n", (long)sh->vm.pid, sh->image);
	return 0;
}

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
	if (running(sh)) {
		printf("stopping QEMU pid %ld\n", (long)sh->vm.pid);
		guest_stop(sh, false);
	}
	if (img != sh->image) {
		free(sh->image);
		sh->image = xstrdup(img);
	}
	sh->type = type;
	if (!sh->net_up) {
		if ((r = net_up(sh)) != 0) {
			net_down(sh);
			return r;
		}
		if (!sh->o->quiet) {
			hint = netplan_hint(&sh->plan);
			warnx("%s", hint);
			free(hint);
		}
	}
	return guest_start(sh);
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

static int
sh_reboot(struct shell *sh, int argc, char **argv)
{
	char *res = NULL;
	int r;

	(void)argc;
	(void)argv;
	if (!running(sh)) {
		warnx("reboot: no guest running (boot first)");
		return EXIT_GUEST;
	}
	if (image_changed(sh) || sh->qmp == NULL) {
		printf("%s: restarting QEMU\n", sh->qmp ? "image changed on "
		    "disk" : "no QMP connection");
		return sh_boot(sh, 1, argv);
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
	if (!running(sh)) {
		warnx("%s: no guest running", argv[0]);
		return EXIT_GUEST;
	}
	guest_stop(sh, hard);
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
	if (!running(sh))
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
		events(sh);
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
		warnx("unset: %s: unknown key", argv[1]);
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
	return shell_load(sh, sh->profile);
}

static int
sh_show(struct shell *sh, int argc, char **argv)
{
	int k = argc > 1 ? profile_key_index(argv[1]) : -1;
	char *v;

	if (argc > 1 && k < 0) {
		warnx("show: %s: unknown key", argv[1]);
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
	if (!running(sh)) {
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
	while (running(sh) && !sh->quit) {
		k = pump(sh, -1, false);
		if (k == KEY_DETACH || k == 1)
			break;
	}
	sh->attached = false;
	tcsetattr(0, TCSANOW, &saved);
	show_flush(sh, true);
	console_break(sh);
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

/* Replay this boot's console lines for a serial:REGEX probe. */
static void
probe_replay(struct shell *sh)
{
	unsigned long i = sh->boot_line;

	if (sh->nlog > LOG_LINES && i < sh->nlog - LOG_LINES)
		i = sh->nlog - LOG_LINES;
	for (; i < sh->nlog && sh->probe_ev == 0; i++)
		sh->probe_ev = ready_line(sh->probe, sh->log[i % LOG_LINES]);
}

/* Block until the probe says the running guest is ready (ready.c, the
 * same probes as --ready), the time is up, QEMU exits or Ctrl-C. */
static int
sh_ready(struct shell *sh, int argc, char **argv)
{
	const char *spec;
	char why[256], *msg;
	long secs;
	int r = EXIT_GUEST;

	if (ready_args(sh, argc, argv, &spec, &secs) < 0) {
		warnx("usage: ready [SPEC] [SECONDS]");
		return EXIT_QRUN;
	}
	if (!running(sh)) {
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
	sh->probe_ev = 0;
	probe_replay(sh);
	while (sh->probe_ev == 0 && running(sh) && !sh->quit)
		if (pump(sh, -1, false) != 0) {
			warnx("ready: interrupted");
			goto out;
		}
	if (sh->probe_ev == VM_READY) {
		msg = ready_message(sh->probe, sh->boot_ms);
		printf("qrun: %s\n", msg);
		free(msg);
		r = 0;
	} else if (sh->probe_ev == VM_TIMEOUT || sh->quit)
		warnx("ready: timeout after %ld s waiting for the guest (%s)",
		    secs, spec);
	else
		warnx("ready: QEMU exited before the guest was ready (%s)",
		    spec);
out:
	ready_put(sh->probe);
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
	pid_t pg;
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
	pg = c.pid;
	while (c.pid > 0) {
		if (waitpid(c.pid, &c.status, WNOHANG) == c.pid) {
			c.pid = -1;
			kill(-pg, SIGTERM);	/* what it left in its group */
			break;
		}
		if (sh->quit || pump(sh, 200, false) != 0) {
			ready_cmd_stop(&c);
			warnx("run: %s: interrupted", argv[1]);
			return EXIT_QRUN;
		}
	}
	fflush(stdout);
	if (WIFSIGNALED(c.status))
		warnx("run: %s killed by signal %d", argv[1],
		    WTERMSIG(c.status));
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

/* Has the console said re since the cursor? Moves the cursor past it. */
static bool
wait_scan(struct shell *sh, regex_t *re)
{
	unsigned long i = sh->wait_from;

	if (sh->nlog > LOG_LINES && i < sh->nlog - LOG_LINES)
		i = sh->nlog - LOG_LINES;
	for (; i < sh->nlog; i++)
		if (regexec(re, sh->log[i % LOG_LINES], 0, NULL, 0) == 0) {
			sh->wait_from = i + 1;
			return true;
		}
	if (sh->line_len > 0 && sh->wait_from <= sh->nlog) {
		sh->line[sh->line_len] = '\0';
		if (regexec(re, sh->line, 0, NULL, 0) == 0) {
			sh->wait_from = sh->nlog + 1;
			return true;
		}
	}
	return false;
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
	for (;;) {
		if (wait_scan(sh, &re)) {
			r = 0;
			break;
		}
		if (!running(sh)) {
			warnx("wait: no guest running (/%s/ not seen)",
			    argv[1]);
			break;
		}
		if (sh->quit || (left = end - mono_ms()) <= 0) {
			warnx("wait: timeout after %ld s waiting for /%s/",
			    secs, argv[1]);
			break;
		}
		if (pump(sh, (int)left, false) != 0) {
			warnx("wait: interrupted");
			break;
		}
	}
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
	{ "reboot", sh_reboot, "", "reset the guest (restart if the image "
	    "changed)" },
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

static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), d[32][32];

	if (la >= 32 || lb >= 32)
		return 99;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);

			if (d[i - 1][j] + 1 < c)
				c = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < c)
				c = d[i][j - 1] + 1;
			d[i][j] = c;
		}
	return d[la][lb];
}

/* By exact name or unique prefix; otherwise say why, and suggest. */
static const struct shcmd *
shcmd_find(const char *name, bool quiet)
{
	const struct shcmd *hit = NULL, *near = NULL;
	size_t len = strlen(name), nhit = 0, best = 99, d;
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
		if ((d = distance(name, shcmds[i].name)) < best) {
			best = d;
			near = &shcmds[i];
		}
	}
	if (nhit == 1)
		return hit;
	if (quiet)
		return NULL;
	if (nhit > 1)
		warnx("%s: ambiguous command (%s)", name, list);
	else if (near && best <= 3)
		warnx("%s: unknown command; did you mean %s? (help lists "
		    "them)", name, near->name);
	else
		warnx("%s: unknown command (help lists them)", name);
	return NULL;
}

static int
run_line(struct shell *sh, const char *line)
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
	console_break(sh);
	if ((c = shcmd_find(w.v[0], false)) == NULL) {
		r = EXIT_QRUN;
		goto out;
	}
	free(w.v[0]);
	w.v[0] = xstrdup(c->name);
	r = c->fn(sh, (int)w.n, w.v);
	events(sh);
out:
	fflush(stdout);
	strv_free(&w);
	return r;
}

/* ---------------------------------------------------------- completion */

/* Root acting for a developer completes the developer's profile names. */
static bool complete_for_other;
static const char *complete_home;

static int
complete(const char *line, int start, const char *text, struct strv *out)
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

/* Lines until quit or end of input; the status of the last failing
 * command, or 0. */
static int
shell_loop(struct shell *sh)
{
	char *line;
	bool eof;
	int r, status = 0;

	while (!sh->quit) {
		if ((line = repl_line(&eof)) != NULL) {
			repl_pause();
			show_flush(sh, true);
			if ((r = run_line(sh, line)) != 0)
				status = r;
			free(line);
			continue;
		}
		if (eof)
			break;
		repl_resume();
		pump(sh, -1, true);
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
	sh.tty = isatty(0) && isatty(1);
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
	    (r = vm_signals_init()) < 0) {
		r = EXIT_QRUN;
		goto out;
	}
	rc.tty = sh.tty;
	rc.complete = complete;
	complete_for_other = sh.priv.for_other;
	complete_home = sh.priv.home;
	rc.history = hist = sh.tty ? history_path(&sh.priv) : NULL;
	rc.as = &sh.priv;
	repl_open(&rc);
	r = shell_loop(&sh);
	repl_close();
	guest_stop(&sh, false);
	net_down(&sh);
out:
	for (size_t i = 0; i < LOG_LINES; i++)
		free(sh.log[i]);
	free(sh.disp);
	free(sh.image);
	free(sh.profile);
	free(sh.qmp_dir);
	free(sh.qmp_path);
	free(hist);
	strv_free(&sh.sets);
	config_free(&sh.cfg);
	if (sh.fatal) {
		vm_signals_reset();
		raise(sh.fatal);
	}
	return r;
}
