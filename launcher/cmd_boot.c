/*
 * cmd_boot.c - the main job: profile -> image -> plan -> network -> QEMU
 * -> undo, and "qrun check". The only place where a boot's outcome is
 * turned into one line and an exit status (qrun(1) EXIT STATUS).
 */
#include <err.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qrun.h"
#include "cmd.h"

/* Everything one boot owns; released by boot_free(). */
struct boot {
	struct config cfg;
	struct netplan plan;
	struct priv priv;
	enum image_type type;
	const char *image;
	struct runnet rn;	/* the host network of this run */
	regex_t expect, fail;
	bool have_expect, have_fail;
	FILE *log;		/* the whole console: --serial-log, or a
				 * batch run's own (conlog.c) */
	char *log_path;
	bool log_own;		/* conlog.c's: removed unless kept */
	bool log_keep;		/* a report named it */
	char log_why[256];	/* why a batch run has no log */
	struct ready *ready;	/* --ready / --run, else NULL */
	struct accel_probe accel;	/* how kvm:tcg was decided */
	const struct strv *run;	/* --run CMD..., else NULL */
	bool quiet;
	struct qemu_opts qo;	/* this QEMU run: image, accel, batch, fds */
	struct loop loop;	/* QEMU, batch, the probe, the command */
	struct batch batch;	/* expect, fail, timeout, the tail */
	struct results res;	/* --ktap, --junit */
	struct runshare shares;	/* --share: the directories, virtiofsds */
	int gdb_fd;		/* --gdb: the stub's socket until QEMU has it */
};

/*
 * profile_load for the developer: elevated on their behalf, a -p PATH must
 * be their own (or root's, not writable by others), and every file is
 * read with their rights, so "sudo qrun -p /etc/shadow" reads nothing.
 * Problems go to diags; 0 or -errno.
 */
int
user_profile_load(const struct priv *pv, struct config *c,
    const struct profile_src *src, struct strv *diags)
{
	const char *prof = src->profile;
	char why[512];
	int r;

	if (pv->for_other && prof && (strchr(prof, '/') ||
	    access(prof, F_OK) == 0) &&
	    access_user_file(pv, prof, why, sizeof(why)) < 0) {
		strv_push(diags, why);
		return -EPERM;
	}
	if (access_as_user(pv, true) < 0) {
		strv_pushf(diags, "cannot take %s's file rights", pv->user);
		return -EPERM;
	}
	r = profile_load(c, src, diags);
	access_as_user(pv, false);
	return r;
}

/* Load the profile and plan the network; prints every problem. */
int
boot_load(struct opts *o, struct config *c, struct netplan *p,
    const struct priv *pv)
{
	struct profile_src src = {
		.profile = o->profile,
		.overrides = &o->overrides,
		.override_where = &o->override_where,
		.privileged_for_other = pv->for_other,
	};
	struct strv diags = { 0 };
	int r;

	r = user_profile_load(pv, c, &src, &diags);
	if (r == 0)
		r = netplan_make(c, pv->user, p, &diags);
	for (size_t i = 0; i < diags.n; i++)
		warnx("%s", diags.v[i]);
	strv_free(&diags);
	return r < 0 ? EXIT_QRUN : 0;
}

/*
 * Detect the image's type, read with the developer's rights (under sudo
 * a root-only file is not theirs to boot); print why it cannot boot.
 * 0 or EXIT_QRUN.
 */
int
image_load(const struct priv *pv, const char *img, enum image_type *type)
{
	int r = access_as_user(pv, true);

	if (r == 0) {
		r = image_detect(img, type);
		access_as_user(pv, false);
	}
	if (r == -ENOENT)
		warnx("%s: no such file", img);
	else if (r == -ENODATA)
		warnx("%s: empty file", img);
	else if (r == -EINVAL)
		warnx("%s: unknown image type (not a Linux or multiboot "
		    "kernel, qcow2, ISO 9660 or disk image)", img);
	else if (r < 0)
		warnx("%s: %s", img, strerror(-r));
	else if (*type == IMG_MULTIBOOT2) {
		warnx("%s: multiboot2 kernels cannot be booted with QEMU's "
		    "-kernel; wrap it in an ISO (grub-mkrescue)", img);
		r = -EINVAL;
	}
	return r < 0 ? EXIT_QRUN : 0;
}

long
boot_memory(const struct config *c, const struct priv *pv, const char *image,
    enum image_type type)
{
	uint64_t kernel = 0, initrd = 0, unpacked = 0;

	if (c->qemu_memory != QEMU_MEMORY_AUTO)
		return c->qemu_memory;
	if (!image_is_kernel(type) || access_as_user(pv, true) < 0)
		return QEMU_MEMORY_DEFAULT;
	/* unreadable files: QEMU itself says so */
	bootmem_kernel(image, type, &kernel);
	if (c->qemu_initrd[0] != '\0')
		bootmem_initrd(c->qemu_initrd, &initrd, &unpacked);
	access_as_user(pv, false);
	return qemu_memory_auto(c, kernel, initrd, unpacked);
}

void
accel_say(const struct accel_probe *p, bool dry_run)
{
	char *s = accel_describe(p);

	if (dry_run)
		printf("# accel: kvm:tcg: %s\n", s);
	else
		warnx("kvm:tcg: %s", s);
	free(s);
}

/* net.dhcp in --dry-run: the dnsmasq a run would start, or why not. */
static void
dry_run_dhcp(const struct nic *nic)
{
	char g[IPADDR_STRLEN], g6[IPADDR_STRLEN], mac[18];

	if (nic->dhcp_off[0] != '\0')
		printf("# no DHCP or DNS for the guest: %s\n", nic->dhcp_off);
	if (nic->sw_dhcp)
		printf("# the first run holding %s starts its dnsmasq: DHCP "
		    "with a static lease for every slot%s\n", nic->bridge,
		    nic->dns ? ", DNS guestK.qrun" : "");
	if (!nic->dhcp || nic->guest.family != AF_INET)
		return;
	printf("# qrun would start dnsmasq on %s: DHCP %s for %s%s%s%s%s\n",
	    nic->tap, ipaddr_str(&nic->guest, g), mac_str(nic->mac, mac),
	    nic->host6.family ? ", router advertisements and DHCPv6 " : "",
	    nic->host6.family ? ipaddr_str(&nic->guest6, g6) : "",
	    nic->dns ? ", DNS host.qrun and guest.qrun" : "",
	    nic->dns ? " (other names forwarded)" : "");
}

static void
print_dry_run(const struct boot *b)
{
	struct strv argv = { 0 };
	char *hint = netplan_hint(&b->plan), *line, *would;

	qemu_argv(&b->cfg, &b->plan, &b->qo, &argv);
	line = qemu_cmdline(&argv);
	printf("# network: %s\n# image: %s (%s)\n", hint, b->image,
	    image_type_name(b->type));
	for (size_t i = 0; i < b->plan.n; i++) {
		const struct nic *nic = &b->plan.nic[i];

		if (nic->mode->would == NULL)
			continue;
		would = nic->mode->would(nic, b->priv.user);
		printf("# %s\n", would);
		free(would);
		if (nic->netem.on)
			printf("# qrun would impair both directions of %s "
			    "(netem on it and on ifb-%s): %s\n", nic->tap,
			    nic->tap, b->cfg.net_netem);
		dry_run_dhcp(nic);
	}
	for (size_t i = 0; i < b->shares.dirs.n; i++) {
		would = hostdir_would(&b->shares.dirs.d[i], b->priv.user);
		printf("# %s\n", would);
		free(would);
	}
	printf("%s\n", line);
	free(line);
	free(hint);
	strv_free(&argv);
}

static void
boot_free(struct boot *b)
{
	char why[512];

	batch_free(&b->batch);
	results_free(&b->res);
	runshare_down(&b->shares);
	if (b->gdb_fd > 0)
		close(b->gdb_fd);
	b->gdb_fd = -1;
	if (runnet_down(&b->rn, why, sizeof(why)) < 0)
		warnx("%s", why);
	if (b->have_expect)
		regfree(&b->expect);
	if (b->have_fail)
		regfree(&b->fail);
	if (b->log)
		fclose(b->log);
	if (b->log_own && !b->log_keep)
		conlog_remove(&b->priv, b->log_path);
	else if (b->log_own)
		conlog_prune(&b->priv);
	free(b->log_path);
	ready_put(b->ready);
	config_free(&b->cfg);
}

static void
print_lines(const char *head, struct strv *l)
{
	if (l->n > 0)
		warnx("%s", head);
	for (size_t i = 0; i < l->n; i++)
		fprintf(stderr, "| %s\n", l->v[i]);
	strv_free(l);
}

/*
 * The report of a failed batch run, on stderr: the first sign of
 * trouble with the lines around it (unless the last lines show it), the
 * last lines, and where the whole console is kept.
 */
static void
print_report(struct boot *b)
{
	struct strv t = { 0 };
	unsigned long at = batch_explain(&b->batch, &t);
	char *head = xasprintf("first sign of trouble, line %lu of the serial "
	    "console:", at);

	print_lines(head, &t);
	free(head);
	batch_tail(&b->batch, &t);
	print_lines("last lines of the serial console:", &t);
	if (!batch_heard(&b->batch))
		return;
	if (b->log)
		fflush(b->log);
	if (b->log_path) {
		b->log_keep = true;
		warnx("the whole console: %s", b->log_path);
	} else if (b->log_why[0] != '\0')
		warnx("the whole console was not kept: %s", b->log_why);
}

/* The status of a finished QEMU, as qrun(1) EXIT STATUS maps it. */
static int
exit_status(struct boot *b, struct vm *vm)
{
	const struct config *c = &b->cfg;
	int code;

	if (WIFSIGNALED(vm->status)) {
		warnx("QEMU killed by signal %d", WTERMSIG(vm->status));
		return 128 + WTERMSIG(vm->status);
	}
	code = WEXITSTATUS(vm->status);
	if (c->test_success_code >= 0) {
		/* QEMU's own errors exit 1 too, the status of debug-exit
		 * code 0: with an empty console the guest never ran. */
		if (code == 1 && !batch_heard(&b->batch)) {
			warnx("QEMU exited with status 1 before the guest "
			    "printed anything: a QEMU error, not debug-exit "
			    "code 0");
			return EXIT_GUEST;
		}
		/* The status is 8 bits: codes N and N+128 look the same. */
		if (code == (((c->test_success_code << 1) | 1) & 0xff))
			return EXIT_OK;
		if (code & 1 && c->test_success_code < 128)
			warnx("guest wrote debug-exit code %d, not %ld",
			    code >> 1, c->test_success_code);
		else if (code & 1)
			warnx("guest wrote debug-exit code %d or %d, not %ld",
			    code >> 1, (code >> 1) + 128, c->test_success_code);
		else
			warnx("QEMU exited with status %d before the guest "
			    "wrote success code %ld", code,
			    c->test_success_code);
		print_report(b);
		return EXIT_GUEST;
	}
	if (b->have_expect) {
		warnx("QEMU exited with status %d before /%s/ matched", code,
		    c->test_expect);
		print_report(b);
		return EXIT_GUEST;
	}
	if (code != 0) {
		warnx("QEMU exited with status %d", code);
		if (b->qo.batch)
			print_report(b);
		return EXIT_GUEST;
	}
	return EXIT_OK;
}

/* --ready/--run: plan the probe (before the network changes). Is this a
 * batch run? The profile says so (cfg.batch), or --run. 0 or 125. */
static int
prepare_ready(struct boot *b, struct opts *o, bool open)
{
	const char *spec = b->cfg.test_ready;
	char why[256];

	if (o->run.n > 0)
		b->run = &o->run;
	b->qo.batch = b->cfg.batch || b->run != NULL;
	b->quiet = o->quiet;
	if (spec[0] == '\0' && b->run == NULL)
		return 0;
	if (b->ready == NULL &&
	    ready_alloc(spec, &b->plan, &b->ready, why, sizeof(why)) < 0) {
		warnx("%s: test.ready \"%s\": %s", b->cfg.where[K_TEST_READY],
		    spec, why);
		return EXIT_QRUN;
	}
	if (open && ready_open(b->ready, why, sizeof(why)) < 0) {
		warnx("--ready %s: %s", spec, why);
		return EXIT_QRUN;
	}
	return 0;
}

/* Start --run's command; 0, or the exit status when it could not. */
static int
spawn_cmd(struct boot *b, struct ready_cmd *c)
{
	struct strv env = { 0 };
	const char *cmd = b->run->v[0];
	int r;

	ready_env(&b->plan, &b->priv, &env);
	r = ready_cmd_spawn(c, b->run, &env, &b->priv);
	strv_free(&env);
	if (r == 0)
		return 0;
	if (r == -ENOENT)
		warnx("%s: command not found", cmd);
	else if (r == -EACCES)
		warnx("%s: cannot run: %s", cmd, strerror(c->exec_err));
	else
		warnx("%s: cannot run as %s: %s", cmd, b->priv.user,
		    strerror(-r));
	return r == -ENOENT ? EXIT_NOTFOUND : r == -EACCES ? EXIT_NOEXEC :
	    EXIT_QRUN;
}

/* --run: the command against the ready guest; 0 with *rc, or the event
 * that ended it first (the command is stopped then). */
static int
run_cmd(struct boot *b, struct vm *vm, int *sig, int *rc)
{
	struct ready_cmd c;
	int ev;

	b->batch.expect = NULL;		/* the command's status decides */
	if ((*rc = spawn_cmd(b, &c)) != 0)
		return 0;
	loop_add(&b->loop, &c.child.part);
	ev = loop_run(&b->loop, sig);
	loop_del(&b->loop, &c.child.part);
	if (ev == LOOP_CMD_EXITED) {
		*rc = ready_cmd_status(&c);
		if (WIFSIGNALED(c.child.status))
			warnx("%s killed by signal %d", b->run->v[0],
			    WTERMSIG(c.child.status));
		return 0;
	}
	ready_cmd_stop(&c);
	if (ev == LOOP_VM_EXITED) {
		print_report(b);
		warnx("guest exited (status %d) while %s was running",
		    WIFEXITED(vm->status) ? WEXITSTATUS(vm->status) :
		    128 + WTERMSIG(vm->status), b->run->v[0]);
		*rc = EXIT_GUEST;
		return 0;
	}
	if (ev == LOOP_TIMEOUT) {
		print_report(b);
		warnx("timeout after %ld s; stopped %s", b->cfg.test_timeout,
		    b->run->v[0]);
		*rc = EXIT_TIMEOUT;
		return 0;
	}
	return ev;
}

/* What a batch run waits for besides the guest being ready and --run:
 * "/RE/ or debug-exit code N", malloc'd; NULL when neither is set. */
static char *
success_goal(const struct boot *b)
{
	const struct config *c = &b->cfg;
	char code[48] = "";

	if (c->test_success_code >= 0)
		snprintf(code, sizeof(code), "debug-exit code %ld",
		    c->test_success_code);
	if (b->have_expect && code[0] != '\0')
		return xasprintf("/%s/ or %s", c->test_expect, code);
	if (b->have_expect)
		return xasprintf("/%s/", c->test_expect);
	return code[0] != '\0' ? xstrdup(code) : NULL;
}

/* The guest never got ready: timeout, or QEMU exited first. */
static int
not_ready(struct boot *b, struct vm *vm, int ev)
{
	const struct config *c = &b->cfg;
	char *g = success_goal(b);

	print_report(b);
	if (ev == LOOP_TIMEOUT)
		warnx("timeout after %ld s waiting for the guest (%s)%s%s",
		    c->test_timeout, c->test_ready, g ? ", then " : "",
		    g ? g : "");
	else
		warnx("QEMU exited (status %d) before the guest was ready",
		    WIFEXITED(vm->status) ? WEXITSTATUS(vm->status) :
		    128 + WTERMSIG(vm->status));
	free(g);
	return ev == LOOP_TIMEOUT ? EXIT_TIMEOUT : EXIT_GUEST;
}

/*
 * Wait for the guest, then run --run's command. Returns 0 with *rc when
 * this decided the outcome, else the event for supervise. Ready with
 * neither --run, --expect nor --success-code is success.
 */
static int
ready_supervise(struct boot *b, struct vm *vm, int *sig, int *rc)
{
	const struct config *c = &b->cfg;
	char *msg;
	int ev;

	ready_start(b->ready, 0);
	loop_add(&b->loop, ready_part(b->ready));
	ev = loop_run(&b->loop, sig);
	loop_del(&b->loop, ready_part(b->ready));
	/* A guest that wrote its debug-exit code is judged by it, ready or
	 * not. */
	if (ev == LOOP_VM_EXITED && c->test_success_code >= 0)
		return ev;
	if (ev == LOOP_TIMEOUT || ev == LOOP_VM_EXITED) {
		*rc = not_ready(b, vm, ev);
		return 0;
	}
	if (ev != LOOP_READY)
		return ev;
	if (!b->quiet && c->test_ready[0] != '\0') {
		msg = ready_message(b->ready, vm->start_ms);
		warnx("%s", msg);
		free(msg);
	}
	if (b->run)
		return run_cmd(b, vm, sig, rc);
	if (b->batch.expect == NULL && c->test_success_code < 0 &&
	    results_part(&b->res) == NULL)
		return LOOP_READY;
	return loop_run(&b->loop, sig);
}

/* vm_spawn failed with r: say why; 127/126 for exec, else 125. */
int
spawn_failed(const struct vm *vm, int r, const char *binary)
{
	if (vm->setup_failed) {
		warnx("cannot start QEMU: %s", strerror(-r));
		return EXIT_QRUN;
	}
	warnx("%s: %s", binary, r == -ENOENT ? "not found" : strerror(-r));
	return r == -ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC;
}

/* --fail matched: take the rest of the failure (batch_linger). A
 * terminating signal meanwhile still ends the run as a signal. */
static int
linger(struct boot *b, int *sig)
{
	int ev;

	batch_linger(&b->batch);
	do
		ev = loop_once(&b->loop, -1, sig);
	while (ev >= 0 && ev != LOOP_QUIET && ev != LOOP_VM_EXITED &&
	    ev != LOOP_SIGNAL);
	return ev == LOOP_SIGNAL ? LOOP_SIGNAL : LOOP_FAILED;
}

/* What ended the run (ev; r when ready_supervise decided) as the exit
 * status, with its one line. */
static int
outcome(struct boot *b, struct vm *vm, int ev, int sig, int r,
    int *fatal_sig)
{
	const struct config *c = &b->cfg;
	char *goal, why[512];

	switch (ev) {
	case 0:			/* ready_supervise decided: r */
		return r;
	case LOOP_VM_EXITED:
		return exit_status(b, vm);
	case LOOP_MATCHED:
	case LOOP_READY:
	case LOOP_REPORT:
		return EXIT_OK;
	case LOOP_FAILED:
		print_report(b);
		warnx("guest failed: /%s/ matched", c->test_fail);
		return EXIT_GUEST;
	case LOOP_TIMEOUT:
		print_report(b);
		if ((goal = success_goal(b)) != NULL)
			warnx("timeout after %ld s waiting for %s",
			    c->test_timeout, goal);
		else
			warnx("timeout after %ld s", c->test_timeout);
		free(goal);
		return EXIT_TIMEOUT;
	case LOOP_SIGNAL:
		*fatal_sig = sig;
		return 128 + sig;
	case LOOP_HELPER_EXITED:
		if (runnet_helper_gone(&b->rn, why, sizeof(why)))
			warnx("%s; the run ends", why);
		return EXIT_QRUN;
	}
	warnx("supervising QEMU: %s", ev < 0 ? strerror(-ev) :
	    "unexpected event");
	return EXIT_QRUN;
}

/* Did QEMU exit within a second (a virtiofsd went with it)? */
static bool
vm_gone_soon(struct vm *vm)
{
	long end = mono_ms() + 1000;

	while (!vm_reap(vm, false))
		if (mono_ms() >= end)
			return false;
		else
			usleep(10000);
	return true;
}

/* Until an event decides: a share's virtiofsd that exits while QEMU
 * runs ends the run (0, *r = 125); one that went with QEMU does not. */
static int
run_loop(struct boot *b, struct vm *vm, int *sig, int *r)
{
	char why[HOSTDIR_PATH_MAX + 512];
	int ev, d;

	if (b->ready)
		ev = ready_supervise(b, vm, sig, r);
	else
		ev = loop_run(&b->loop, sig);
	while (ev == LOOP_HELPER_EXITED &&
	    (d = runshare_gone(&b->shares, why, sizeof(why))) != 0) {
		if (!vm_gone_soon(vm)) {
			warnx("%s; the run ends", why);
			*r = EXIT_QRUN;
			return 0;
		}
		if (d == 2)
			warnx("%s", why);
		ev = loop_run(&b->loop, sig);
	}
	return ev;
}

/* --ktap: the report and the JUnit file, however the run ended; a run
 * that otherwise succeeded is judged by its results. */
static int
judge(struct boot *b, int r)
{
	char why[512];
	int k = results_finish(&b->res, stdout, "qrun", why, sizeof(why));

	if (k == EXIT_QRUN)
		warnx("%s", why);
	return r == EXIT_OK || k == EXIT_QRUN ? k : r;
}

/* Run QEMU and turn what happened into an exit status. */
static int
supervise(struct boot *b, struct vm_spec *s, int *fatal_sig)
{
	const struct config *c = &b->cfg;
	struct vm vm;
	int ev, sig = 0, r = 0;

	if ((sig = loop_signal_take()) != 0) {	/* came during the setup */
		*fatal_sig = sig;
		return 128 + sig;
	}
	r = vm_spawn(s, &vm);
	runnet_spawned(&b->rn);	/* QEMU has its own vhost fds now */
	runshare_spawned(&b->shares);
	if (b->gdb_fd > 0)		/* QEMU has the stub's socket now */
		close(b->gdb_fd);
	b->gdb_fd = -1;
	if (r < 0)
		return spawn_failed(&vm, r, c->qemu_binary);
	if (b->rn.journal)
		journal_info(b->rn.journal, "qemu-pid", "%ld", (long)vm.pid);
	loop_init(&b->loop);
	loop_add(&b->loop, &vm.part);
	batch_init(&b->batch, b->have_expect ? &b->expect : NULL,
	    s->serial_pipe && b->have_fail ? &b->fail : NULL,
	    c->test_timeout > 0 ? vm.start_ms + c->test_timeout * 1000 : -1);
	loop_add(&b->loop, &b->batch.part);
	runnet_watch(&b->rn, &b->loop);
	if (results_part(&b->res))
		loop_add(&b->loop, results_part(&b->res));
	runshare_watch(&b->shares, &b->loop);
	ev = run_loop(b, &vm, &sig, &r);
	if (ev == LOOP_FAILED)
		ev = linger(b, &sig);
	runnet_unwatch(&b->rn, &b->loop);
	vm_stop(&vm);
	r = outcome(b, &vm, ev, sig, r, fatal_sig);
	vm_free(&vm);
	return results_part(&b->res) ? judge(b, r) : r;
}

static int
compile(regex_t *re, const char *pat, bool *have)
{
	if (pat[0] == '\0')
		return 0;
	char why[128];

	if (regex_compile(re, pat, why, sizeof(why)) < 0)
		return -EINVAL;
	*have = true;
	return 0;
}

/* The console as it comes: to stdout and the serial log. */
static size_t
boot_out(void *arg, char *buf, size_t n)
{
	struct boot *b = arg;

	if (write(1, buf, n) < 0) {
		/* stdout gone: keep supervising */
	}
	if (b->log)
		fwrite(buf, 1, n, b->log);
	return n;
}

static int
prepare_batch(struct boot *b, struct vm_spec *s)
{
	const struct config *c = &b->cfg;
	char why[512];

	if (compile(&b->expect, c->test_expect, &b->have_expect) < 0 ||
	    compile(&b->fail, c->test_fail, &b->have_fail) < 0)
		return EXIT_QRUN;	/* the profile validated them */
	if (results_open(&b->res, c, &b->priv, why, sizeof(why)) < 0) {
		warnx("%s", why);
		return EXIT_QRUN;
	}
	if (c->test_serial_log[0] != '\0') {
		b->log = access_user_fopen(&b->priv, c->test_serial_log,
		    "we");
		if (b->log == NULL) {
			warn("%s", c->test_serial_log);
			return EXIT_QRUN;
		}
		setvbuf(b->log, NULL, _IOLBF, 0);
		b->log_path = xstrdup(c->test_serial_log);
	} else if (b->qo.batch) {
		b->log = conlog_open(&b->priv, &b->log_path, b->log_why,
		    sizeof(b->log_why));
		b->log_own = b->log != NULL;
	}
	s->serial_pipe = b->qo.batch || b->log != NULL;
	s->out = boot_out;
	s->out_arg = b;
	return 0;
}

/* The host facts that finish the plan (a bridge's networks), then what
 * each NIC takes against other runs (a switch's slot; dry: only look);
 * 0 or 125. */
static int
boot_facts(struct boot *b, bool dry)
{
	char why[512];

	if (runnet_facts(&b->plan, &b->priv, why, sizeof(why)) == 0 &&
	    runnet_claim(&b->rn, &b->plan, dry, why, sizeof(why)) == 0)
		return 0;
	warnx("%s", why);
	return EXIT_QRUN;
}

/* Make the network true; the taps' queues stay open for QEMU. 0 or 125. */
static int
boot_net(struct boot *b, struct vm_spec *s)
{
	char why[512];
	int n;

	if (runnet_up(&b->rn, b->image, why, sizeof(why)) < 0) {
		warnx("%s", why);
		return EXIT_QRUN;
	}
	priv_net(&b->priv, false);
	if ((n = b->rn.replayed.undone + b->rn.replayed.dropped) > 0)
		warnx("undid the leftovers of %d dead run%s", n,
		    n == 1 ? "" : "s");
	if (runnet_spawn_fds(&b->rn, s->keep_fds, ARRAY_SIZE(s->keep_fds),
	    &s->nkeep, why, sizeof(why)) < 0) {
		warnx("%s", why);
		return EXIT_QRUN;
	}
	return 0;
}

/* What qemu.c takes decided from the host: the image, the accelerator
 * (kvm:tcg's probe, said with -v and --dry-run) and the memory. */
static void
host_facts(struct boot *b, struct qemu_opts *qo, const struct opts *o)
{
	qo->image = b->image;
	qo->type = b->type;
	qo->accel = accel_pick(&b->cfg, &b->priv, &b->accel);
	netplan_vhost(&b->plan, qo->accel, accel_vhost_usable());
	qo->memory = boot_memory(&b->cfg, &b->priv, b->image, b->type);
	if (b->accel.verdict != ACCEL_NONE && (o->dry_run || o->verbose))
		accel_say(&b->accel, o->dry_run);
}

/* The hint: one "qrun: " line per NIC, after the notes of what the host
 * facts turned off (said only once the run goes ahead: a refused run
 * says one line). */
static void
boot_hint(const struct boot *b)
{
	char *hint = netplan_hint(&b->plan), *line, *save = NULL;

	for (size_t i = 0; i < b->plan.n; i++)
		if (b->plan.nic[i].dhcp_off[0] != '\0')
			warnx("note: %s: no DHCP or DNS for the guest: %s",
			    b->plan.nic[i].tap, b->plan.nic[i].dhcp_off);
	for (line = strtok_r(hint, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		warnx("%s", line);
	free(hint);
	for (size_t i = 0; i < b->shares.dirs.n; i++) {
		hint = hostdir_hint(&b->shares.dirs.d[i]);
		warnx("%s", hint);
		free(hint);
	}
}

/* --share: every directory checked as the developer; 0 or 125. */
static int
shares_check(struct boot *b)
{
	char why[HOSTDIR_PATH_MAX + 256];

	if (runshare_check(&b->shares, &b->cfg, &b->priv, why,
	    sizeof(why)) == 0) {
		b->qo.dirs = b->shares.dirs.n ? &b->shares.dirs : NULL;
		return 0;
	}
	warnx("%s", why);
	return EXIT_QRUN;
}

/* --gdb, --gdb-wait: the stub's socket, bound now (a busy port is one
 * line and 125 before anything changed); --dry-run lets it go again and
 * shows the port. 0 or 125. */
static int
gdb_prepare(struct boot *b, bool dry_run)
{
	const struct config *c = &b->cfg;
	long want = c->test_gdb;
	char why[256];

	if (want == GDB_OFF && c->test_gdb_wait)
		want = GDB_AUTO;
	if (want == GDB_OFF)
		return 0;
	if (gdb_listen(want, &b->gdb_fd, &b->qo.gdb_port, why,
	    sizeof(why)) < 0) {
		warnx("%s", why);
		return EXIT_QRUN;
	}
	if (dry_run) {
		close(b->gdb_fd);
		b->gdb_fd = -1;
	}
	return 0;
}

/* The stub for QEMU: its socket inherited, the port in the journal (for
 * status) and the gdb command line said. */
static void
gdb_up(struct boot *b, struct vm_spec *s)
{
	char *hint;

	if (b->gdb_fd <= 0 || s->nkeep >= ARRAY_SIZE(s->keep_fds))
		return;
	s->keep_fds[s->nkeep++] = b->gdb_fd;
	b->qo.gdb_fd = b->gdb_fd;
	journal_info(b->rn.journal, "gdb-port", "%ld", b->qo.gdb_port);
	hint = gdb_hint(b->image, image_is_kernel(b->type), b->qo.gdb_port,
	    b->cfg.test_gdb_wait);
	warnx("%s", hint);
	free(hint);
}

/* --share: the virtiofsds, once the journal exists; 0 or 125. */
static int
shares_up(struct boot *b, struct vm_spec *s)
{
	char why[HOSTDIR_PATH_MAX + 512];
	int n = b->rn.replayed.undone + b->rn.replayed.dropped;

	if (runshare_up(&b->shares, &b->rn, s->keep_fds,
	    ARRAY_SIZE(s->keep_fds), &s->nkeep, why, sizeof(why)) < 0) {
		warnx("%s", why);
		return EXIT_QRUN;
	}
	if ((n = b->rn.replayed.undone + b->rn.replayed.dropped - n) > 0)
		warnx("undid the leftovers of %d dead run%s", n,
		    n == 1 ? "" : "s");
	b->qo.dir_fds = b->shares.fds;
	return 0;
}

/*
 * The network up, the hint, QEMU's command line (the taps and a QMP socket
 * pair inherited), QEMU supervised: the exit status. A signal to die of
 * after the undo goes to *fatal.
 */
static int
boot_run(struct boot *b, struct opts *o, int *fatal)
{
	struct qemu_opts *qo = &b->qo;
	struct vm_spec s = { .priv = &b->priv, .parent = getpid() };
	struct strv argv = { 0 };
	int r;

	if ((r = prepare_batch(b, &s)) != 0 ||
	    (r = prepare_ready(b, o, true)) != 0 ||
	    (r = boot_net(b, &s)) != 0 ||
	    (r = shares_up(b, &s)) != 0)
		return r;
	if (!o->quiet)
		boot_hint(b);
	gdb_up(b, &s);
	qo->fds = b->rn.fds;
	/* Without a pair QEMU is stopped with SIGTERM: no reason to fail. */
	if (qmp_socketpair(&s.qmp_ours, &s.qmp_fd) == 0)
		qo->qmp_fd = s.qmp_fd;
	qemu_argv(&b->cfg, &b->plan, qo, &argv);
	if (o->verbose) {
		char *line = qemu_cmdline(&argv);
		warnx("running %s", line);
		free(line);
	}
	s.argv = &argv;
	r = supervise(b, &s, fatal);
	strv_free(&argv);
	return r;
}

int
cmd_boot(struct opts *o)
{
	struct boot b = { .qo = { .extra = &o->extra }, .gdb_fd = -1 };
	int r, fatal = 0;

	if (o->args.n != o->argi + 1) {
		warnx(o->args.n <= o->argi ? "no image given (qrun [OPTIONS] "
		    "IMAGE)" : "one image at a time; QEMU arguments go "
		    "after --");
		return EXIT_QRUN;
	}
	b.image = o->args.v[o->argi];
	b.quiet = o->quiet;
	priv_init(&b.priv);
	config_init(&b.cfg);
	runnet_init(&b.rn, &b.plan, &b.priv);
	runshare_init(&b.shares);
	if ((r = boot_load(o, &b.cfg, &b.plan, &b.priv)) != 0 ||
	    (r = image_load(&b.priv, b.image, &b.type)) != 0 ||
	    (r = shares_check(&b)) != 0 ||
	    (r = gdb_prepare(&b, o->dry_run)) != 0 ||
	    (r = boot_facts(&b, o->dry_run)) != 0 ||
	    (r = prepare_ready(&b, o, false)) != 0)
		goto out;
	host_facts(&b, &b.qo, o);
	if (o->dry_run)
		print_dry_run(&b);
	else if ((r = loop_signals_init()) < 0) {
		warnx("signals: %s", strerror(-r));
		r = EXIT_QRUN;
	} else
		r = boot_run(&b, o, &fatal);
out:
	r = r ? r : EXIT_OK;
	boot_free(&b);
	if (fatal)	/* cleanup is done: die of the signal, as the shell
			 * expects */
		loop_signal_die(fatal);
	return r;
}

int
cmd_check(struct opts *o)
{
	struct config c;
	struct netplan p;
	struct priv pv;
	char *hint;
	int r;

	priv_init(&pv);
	config_init(&c);
	if ((r = boot_load(o, &c, &p, &pv)) == 0) {
		hint = netplan_hint(&p);
		printf("profile ok\nnetwork: %s\n", hint);
		for (int k = 0; k < K_COUNT; k++) {
			char *v = profile_get(&c, k);
			printf("%s = %s\t# %s\n", profile_key_name(k), v,
			    c.where[k]);
			free(v);
		}
		free(hint);
	}
	config_free(&c);
	return r;
}
