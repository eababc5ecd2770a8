/*
 * cmd_doctor.c - "qrun doctor": one screen about whether this host can
 * run qrun, each line "ok", "warn" or "FAIL" with what to do about it.
 * Reads only; changes nothing. Exit 0 unless some line says FAIL.
 */
#include <dirent.h>
#include <stdarg.h>
#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qrun.h"
#include "cmd.h"

enum { D_OK, D_WARN, D_FAIL };

struct doctor {
	struct priv pv;
	int fails, warns;
	bool netcap_file;	/* the binary carries cap_net_admin */
	char *qemu;		/* the profile's QEMU, when it runs */
};

/* One line, and the advice (may be NULL) indented below it. */
static void __attribute__((format(printf, 5, 6)))
say(struct doctor *d, int level, const char *what, const char *advice,
    const char *fmt, ...)
{
	static const char *const tag[] = { "ok", "warn", "FAIL" };
	va_list ap;

	d->fails += level == D_FAIL;
	d->warns += level == D_WARN;
	printf("%-4s  %-8s ", tag[level], what);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (advice)
		printf("      %-8s -> %s\n", "", advice);
}

static void
check_tun(struct doctor *d)
{
	struct stat st;

	if (stat("/dev/net/tun", &st) < 0 || !S_ISCHR(st.st_mode)) {
		say(d, D_FAIL, "tun", "load the module: modprobe tun",
		    "/dev/net/tun: missing");
		return;
	}
	if ((st.st_mode & 0006) == 0006)
		say(d, D_OK, "tun", NULL, "/dev/net/tun mode %04o",
		    st.st_mode & 07777);
	else
		say(d, D_WARN, "tun", "a non-root user needs mode 0666 (udev "
		    "rule KERNEL==\"tun\", MODE=\"0666\") or a file-capability "
		    "install (make install CAPS=1)", "/dev/net/tun mode %04o",
		    st.st_mode & 07777);
}

/*
 * What kvm:tcg decides, by the same probe (or its cached answer): a guest
 * run under KVM through the profile's QEMU, as the developer.
 */
static void
check_kvm(struct doctor *d)
{
	struct accel_probe p;
	struct stat st;
	char *s;

	if (d->qemu == NULL || accel_kvm(d->qemu, &d->pv, &p) < 0) {
		say(d, D_WARN, "kvm", "install QEMU first", "not probed: no "
		    "QEMU to run");
		return;
	}
	s = accel_describe(&p);
	if (p.verdict == ACCEL_KVM)
		say(d, D_OK, "kvm", NULL, "%s", s);
	else if (stat("/dev/kvm", &st) < 0)
		say(d, D_WARN, "kvm", "no KVM on this host (nested or "
		    "sandboxed?): guests run under TCG, slowly", "%s", s);
	else if (p.verdict == ACCEL_HANG)
		say(d, D_WARN, "kvm", "guests run under TCG, slowly; "
		    "qemu.accel = \"tcg\" skips the probe", "%s", s);
	else
		say(d, D_WARN, "kvm", "if /dev/kvm is not yours to open: add "
		    "yourself to its group (kvm) and log in again", "%s", s);
	free(s);
}

/* The first line "binary --version" prints; run directly, no shell. */
static int
qemu_version(struct doctor *d, const char *bin, char *out, size_t len)
{
	int p[2], st;
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	if ((pid = fork()) < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (pid == 0) {
		if (dup2(p[1], 1) < 0 || priv_drop(&d->pv) < 0)
			_exit(126);
		execlp(bin, bin, "--version", (char *)NULL);
		_exit(errno == ENOENT ? 127 : 126);
	}
	close(p[1]);
	n = read(p[0], out, len - 1);
	close(p[0]);
	out[n > 0 ? n : 0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return WIFEXITED(st) && WEXITSTATUS(st) == 127 ? -ENOENT :
		    -ENOEXEC;
	return 0;
}

static void
check_qemu(struct doctor *d, struct opts *o)
{
	struct profile_src src = { .profile = o->profile,
	    .overrides = &o->overrides, .override_where = &o->override_where,
	    .privileged_for_other = d->pv.for_other };
	struct strv diags = { 0 };
	struct config c;
	char ver[256];
	int r;

	config_init(&c);
	if (profile_load(&c, &src, &diags) < 0)
		say(d, D_FAIL, "profile", "fix it; qrun check shows every "
		    "error", "%s", diags.v[0]);
	if ((r = qemu_version(d, c.qemu_binary, ver, sizeof(ver))) < 0)
		say(d, D_FAIL, "qemu", "install qemu-system-x86 or set "
		    "qemu.binary", "%s: %s", c.qemu_binary, r == -ENOENT ?
		    "not found in PATH" : "does not run");
	else {
		say(d, D_OK, "qemu", NULL, "%s: %s", c.qemu_binary, ver);
		d->qemu = xstrdup(c.qemu_binary);
	}
	strv_free(&diags);
	config_free(&c);
}

static void
check_caps(struct doctor *d)
{
	cap_t c = cap_get_file("/proc/self/exe");
	cap_flag_value_t f = CAP_CLEAR;
	char *txt;

	if (c == NULL) {
		say(d, D_OK, "caps", d->pv.root ? NULL : "without it, taps "
		    "come from an admin: sudo qrun tap create TAP --owner "
		    "USER", "no file capability on this binary");
		return;
	}
	cap_get_flag(c, CAP_NET_ADMIN, CAP_PERMITTED, &f);
	d->netcap_file = f == CAP_SET;
	txt = cap_to_text(c, NULL);
	if (d->netcap_file && strcmp(txt, "cap_net_admin=ep") == 0)
		say(d, D_OK, "caps", NULL, "file capability %s (taps and "
		    "bridges as the access list grants; no dnsmasq: "
		    "net.dhcp skipped)", txt);
	else if (d->netcap_file && strcmp(txt, "cap_net_admin,"
	    "cap_net_bind_service,cap_net_raw=ep") == 0)
		say(d, D_OK, "caps", NULL, "file capability %s (taps and "
		    "bridges as the access list grants, and their dnsmasq)",
		    txt);
	else
		say(d, D_WARN, "caps", "reinstall with make install CAPS=1 "
		    "(cap_net_admin+ep only)", "unexpected file capability %s",
		    txt);
	cap_free(txt);
	cap_free(c);
}

static void
check_access(struct doctor *d)
{
	char *path = access_path(&d->pv), why[512];
	int r = access_file_check(path, why, sizeof(why));

	if (r == 0)
		say(d, D_OK, "access", NULL, "%s: root-owned, parses", path);
	else if (r == -ENOENT && d->netcap_file)
		say(d, D_WARN, "access", "write one (see qrun.conf(5)); until "
		    "then only root may use qrun's network privileges",
		    "%s: missing", path);
	else if (r == -ENOENT)
		say(d, D_OK, "access", NULL, "%s: none (needed only for a "
		    "file-capability install)", path);
	else
		say(d, D_FAIL, "access", "make it root-owned, mode 0644, and "
		    "fix what is reported; until then nothing is granted",
		    "%s", why);
	free(path);
}

/* Leftovers: journals whose writer is dead, by what cleanup would do. */
static void
check_leftovers(struct doctor *d, const char *dir)
{
	struct replay_report rep;
	struct strv live = { 0 };
	int n;

	journal_runs(dir, &live);
	journal_cleanup(dir, NULL, false, &rep);
	if ((n = rep.undone + rep.dropped) > 0)
		say(d, D_WARN, "journals", "run: qrun cleanup", "%d leftover "
		    "journal%s of dead runs", n, n == 1 ? "" : "s");
	else
		say(d, D_OK, "journals", NULL, "no leftovers (%zu live run%s)",
		    live.n, live.n == 1 ? "" : "s");
	if (rep.foreign > 0)
		say(d, D_WARN, "journals", "run qrun cleanup inside those "
		    "namespaces", "%d leftover journal%s of runs in other "
		    "network namespaces", rep.foreign,
		    rep.foreign == 1 ? "" : "s");
	strv_free(&live);
}

/* State dir safety and leftovers. */
static void
check_state(struct doctor *d)
{
	char *dir = priv_state_dir(&d->pv);
	struct stat st;

	if (stat(dir, &st) < 0)
		say(d, D_OK, "state", NULL, "%s: not there yet (made on first "
		    "use, mode 0700)", dir);
	else if (st.st_uid != geteuid() || (st.st_mode & 022))
		say(d, D_FAIL, "state", "qrun refuses it: chown it to the user "
		    "running qrun, chmod 0700", "%s: owner uid %lu mode %04o",
		    dir, (unsigned long)st.st_uid, st.st_mode & 07777);
	else
		say(d, D_OK, "state", NULL, "%s: mode %04o", dir,
		    st.st_mode & 07777);
	check_leftovers(d, dir);
	free(dir);
}

int
cmd_doctor(struct opts *o)
{
	struct doctor d = { 0 };

	priv_init(&d.pv);
	check_tun(&d);
	check_qemu(&d, o);
	check_kvm(&d);
	check_caps(&d);
	check_access(&d);
	check_state(&d);
	printf("%d problem%s, %d warning%s\n", d.fails, d.fails == 1 ? "" :
	    "s", d.warns, d.warns == 1 ? "" : "s");
	free(d.qemu);
	return d.fails ? EXIT_QRUN : EXIT_OK;
}
