/*
 * accel.c - may qemu.accel = "kvm:tcg" use KVM here? Only a guest that
 * ran under KVM says so: on nested or sandboxed hosts /dev/kvm opens and
 * KVM_CREATE_VM works, yet a guest hangs right after SeaBIOS.
 *
 * The probe runs the very QEMU binary of the profile with -accel kvm on
 * a 40-byte multiboot kernel made here, in a memfd (no file anywhere),
 * which SeaBIOS and QEMU's multiboot ROM start and which writes
 * ACCEL_PROBE_CODE to isa-debug-exit. QEMU runs as the developer (as the
 * guest would), without network or display, in its own process group,
 * killed after ACCEL_PROBE_MS: a miss costs at most that.
 *
 * The answer is cached in the developer's own cache dir, one line per
 * QEMU binary, valid for one boot of the host (boot_id), one build of the
 * binary (path, device, inode, mtime), one /dev/kvm (inode, ctime: its
 * mode and owner) and the groups QEMU runs with (a user just added to
 * group kvm probes again). Under sudo it is still the developer's file
 * (their ~/.cache/qrun/kvm, environment ignored), opened with their file
 * rights: the answer is about their QEMU, and a forged line can do no
 * more than pick kvm or tcg for their own QEMU, which they may anyway
 * (qemu.accel). Lines are parsed strictly; a bad one is a miss. Probes
 * of one developer are serialized by flock on the file, so "make -j32"
 * probes once.
 *
 * The pure parts (the kernel, the cache lines, what a probe's exit
 * means) are unit-tested with plain data.
 */
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/close_range.h>

#include "qrun.h"

#define CACHE_MAGIC	"qrun-kvm 1"
#define CACHE_MAX	65536	/* bytes read of a cache file */
#define CACHE_LINES	16	/* binaries remembered per boot */
#define LOAD_ADDR	0x100000u

/* ------------------------------------------------------------ pure */

static void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

size_t
accel_probe_kernel(uint8_t *buf, size_t len)
{
	/* cli; mov $CODE, %al; out %al, $0xf4; 1: hlt; jmp 1b */
	const uint8_t code[] = { 0xfa, 0xb0, ACCEL_PROBE_CODE, 0xe6, 0xf4,
	    0xf4, 0xeb, 0xfd };
	/* multiboot 1, flag 16: the a.out kludge, load addresses given */
	const uint32_t magic = 0x1badb002, flags = 0x00010000;
	const uint32_t end = LOAD_ADDR + 32 + sizeof(code);

	if (len < 32 + sizeof(code))
		return 0;
	memset(buf, 0, len);
	put32(buf, magic);
	put32(buf + 4, flags);
	put32(buf + 8, -(magic + flags));
	put32(buf + 12, LOAD_ADDR);	/* header_addr */
	put32(buf + 16, LOAD_ADDR);	/* load_addr */
	put32(buf + 20, end);		/* load_end_addr */
	put32(buf + 24, end);		/* bss_end_addr */
	put32(buf + 28, LOAD_ADDR + 32);	/* entry_addr */
	memcpy(buf + 32, code, sizeof(code));
	return len;
}

/* A field of the key may hold no tab or newline (the cache's syntax). */
static bool
field_ok(const char *s)
{
	return s[0] != '\0' && strpbrk(s, "\t\n") == NULL;
}

char *
accel_key_text(const struct accel_key *k)
{
	if (!field_ok(k->boot) || !field_ok(k->qemu) || k->qemu[0] != '/')
		return NULL;
	return xasprintf("%s\t%llu:%llu\t%lld.%09ld\t%llu:%lld.%09ld\t%08x\t%s",
	    k->boot, (unsigned long long)k->dev, (unsigned long long)k->ino,
	    (long long)k->mtime_s, k->mtime_ns,
	    (unsigned long long)k->kvm_ino, (long long)k->kvm_ctime_s,
	    k->kvm_ctime_ns, k->groups, k->qemu);
}

static const char *const verdicts[] = {
	[ACCEL_KVM] = "kvm", [ACCEL_HANG] = "hang", [ACCEL_FAIL] = "fail",
};

/*
 * One cache line: CACHE_MAGIC, the KEY_FIELDS fields of the key (boot,
 * dev:ino, mtime, kvm ino:ctime, groups, path), the verdict, the probe's
 * ms and why, tab-separated.
 */
#define KEY_FIELDS	6
#define LINE_FIELDS	(1 + KEY_FIELDS + 3)

struct cline {
	char buf[1024];
	char *f[LINE_FIELDS];
};

/* Split len bytes at s into exactly n tab-separated fields; 0 or -EINVAL. */
static int
split(const char *s, size_t len, char *buf, size_t size, char **f, int n)
{
	int i = 0;

	if (len >= size || memchr(s, '\0', len) != NULL)
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	for (char *p = buf; i < n; i++) {
		f[i] = p;
		if ((p = strchr(p, '\t')) != NULL)
			*p++ = '\0';
		else if (i + 1 < n)
			return -EINVAL;
		else
			break;
	}
	return i + 1 == n && strchr(f[n - 1], '\t') == NULL ? 0 : -EINVAL;
}

/* A well-formed cache line, its result checked; 0 or -EINVAL. */
static int
cline_parse(const char *l, size_t len, struct cline *c, struct accel_probe *p)
{
	long v;

	if (split(l, len, c->buf, sizeof(c->buf), c->f, LINE_FIELDS) < 0 ||
	    strcmp(c->f[0], CACHE_MAGIC) != 0)
		return -EINVAL;
	for (v = ACCEL_KVM; v <= ACCEL_FAIL; v++)
		if (strcmp(c->f[1 + KEY_FIELDS], verdicts[v]) == 0)
			break;
	if (v > ACCEL_FAIL ||
	    parse_long(c->f[2 + KEY_FIELDS], 0, 3600000, &p->ms) < 0 ||
	    strlen(c->f[3 + KEY_FIELDS]) >= sizeof(p->why))
		return -EINVAL;
	for (const char *w = c->f[3 + KEY_FIELDS]; *w; w++)
		if ((unsigned char)*w < 0x20 || *w == 0x7f)
			return -EINVAL;
	p->verdict = (enum accel_verdict)v;
	snprintf(p->why, sizeof(p->why), "%s", c->f[3 + KEY_FIELDS]);
	return 0;
}

/* The complete lines of text, one at a time: *len set, NULL at the end
 * (a last line without its newline was cut short: no line). */
static const char *
next_line(const char **text, size_t *len)
{
	const char *l = *text, *nl;

	if (l == NULL || (nl = strchr(l, '\n')) == NULL)
		return NULL;
	*len = (size_t)(nl - l);
	*text = nl + 1;
	return l;
}

int
accel_cache_find(const char *text, const char *key, struct accel_probe *p)
{
	char kbuf[1024], *kf[KEY_FIELDS];
	struct accel_probe r;
	struct cline c;
	const char *l;
	size_t len;
	int i;

	if (split(key, strlen(key), kbuf, sizeof(kbuf), kf, KEY_FIELDS) < 0)
		return -EINVAL;
	while ((l = next_line(&text, &len)) != NULL) {
		if (cline_parse(l, len, &c, &r) < 0)
			continue;
		for (i = 0; i < KEY_FIELDS; i++)
			if (strcmp(c.f[1 + i], kf[i]) != 0)
				break;
		if (i == KEY_FIELDS) {
			*p = r;
			p->cached = true;
			return 0;
		}
	}
	return -ENOENT;
}

char *
accel_cache_update(const char *text, const char *key,
    const struct accel_probe *p)
{
	char kbuf[1024], *kf[KEY_FIELDS], *out, *t;
	struct strv keep = { 0 };
	struct accel_probe r;
	struct cline c;
	const char *l;
	size_t len, i;

	if (split(key, strlen(key), kbuf, sizeof(kbuf), kf, KEY_FIELDS) < 0)
		return NULL;
	/* the lines of this boot for other binaries; the newest kept */
	while ((l = next_line(&text, &len)) != NULL)
		if (cline_parse(l, len, &c, &r) == 0 &&
		    strcmp(c.f[1], kf[0]) == 0 &&
		    strcmp(c.f[KEY_FIELDS], kf[KEY_FIELDS - 1]) != 0)
			strv_pushf(&keep, "%.*s\n", (int)len, l);
	out = xstrdup("");
	for (i = keep.n >= CACHE_LINES ? keep.n - CACHE_LINES + 1 : 0;
	    i < keep.n; i++) {
		t = out;
		out = xasprintf("%s%s", t, keep.v[i]);
		free(t);
	}
	t = out;
	out = xasprintf("%s%s\t%s\t%s\t%ld\t%s\n", t, CACHE_MAGIC, key,
	    verdicts[p->verdict], p->ms, p->why);
	free(t);
	strv_free(&keep);
	return out;
}

/* The last non-empty line of QEMU's stderr, printable, into why. */
static void
last_line(const char *err, char *why, size_t len)
{
	const char *end = err + strlen(err), *start;
	size_t n = 0;

	while (end > err && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	for (start = end; start > err && start[-1] != '\n'; start--)
		;
	for (; start < end && n + 1 < len; start++)
		why[n++] = (unsigned char)*start < 0x20 || *start == 0x7f ?
		    '?' : *start;
	why[n] = '\0';
}

void
accel_interpret(int status, bool timed_out, const char *err,
    struct accel_probe *p)
{
	p->why[0] = '\0';
	p->cached = false;
	if (timed_out) {
		p->verdict = ACCEL_HANG;
		return;
	}
	if (WIFEXITED(status) &&
	    WEXITSTATUS(status) == ((ACCEL_PROBE_CODE << 1) | 1)) {
		p->verdict = ACCEL_KVM;
		return;
	}
	p->verdict = ACCEL_FAIL;
	last_line(err ? err : "", p->why, sizeof(p->why));
	if (p->why[0] != '\0')
		return;
	if (WIFSIGNALED(status))
		snprintf(p->why, sizeof(p->why), "QEMU killed by signal %d",
		    WTERMSIG(status));
	else
		snprintf(p->why, sizeof(p->why), "QEMU exited with status %d",
		    WEXITSTATUS(status));
}

char *
accel_describe(const struct accel_probe *p)
{
	char when[64];

	if (p->cached)
		snprintf(when, sizeof(when), "cached; the probe took %ld ms",
		    p->ms);
	else
		snprintf(when, sizeof(when), "probe: %ld ms", p->ms);
	switch (p->verdict) {
	case ACCEL_KVM:
		return xasprintf("guests run under KVM here: using kvm (%s)",
		    when);
	case ACCEL_HANG:
		return xasprintf("/dev/kvm opens but guests do not run under "
		    "it here: using tcg (%s)", when);
	case ACCEL_FAIL:
		return xasprintf("QEMU cannot use KVM here (%s): using tcg "
		    "(%s)", p->why, when);
	case ACCEL_NONE:
		break;
	}
	return xasprintf("not probed (%s): using tcg", p->why[0] ? p->why :
	    "no QEMU");
}

/* ------------------------------------------------------------ host */

/* path into out, when it fits and names a file; 0 or -errno. */
static int
take(char *path, char *out, size_t len)
{
	struct stat st;
	int r = 0;

	if (strlen(path) >= len)
		r = -ENAMETOOLONG;
	else if (stat(path, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111))
		r = -EACCES;
	else
		strcpy(out, path);
	free(path);
	return r;
}

/* binary as execvp would find it: an absolute path into out. */
static int
which(const char *binary, char *out, size_t len)
{
	const char *path = getenv("PATH"), *p, *e;
	char cwd[512];

	if (binary[0] == '/')
		return take(xstrdup(binary), out, len);
	if (strchr(binary, '/'))
		return getcwd(cwd, sizeof(cwd)) ? take(xasprintf("%s/%s", cwd,
		    binary), out, len) : -errno;
	for (p = path && *path ? path : "/bin:/usr/bin"; *p; p = e) {
		e = strchrnul(p, ':');
		if (e > p && p[0] == '/' && take(xasprintf("%.*s/%s",
		    (int)(e - p), p, binary), out, len) == 0)
			return 0;
		e += *e == ':';
	}
	return -ENOENT;
}

/* FNV-1a of the groups QEMU will run with (priv_drop's initgroups under
 * sudo, else ours). */
static uint32_t
groups_hash(const struct priv *pv)
{
	gid_t g[256];
	int n = ARRAY_SIZE(g);
	uint32_t h = 2166136261u;

	if (geteuid() == 0 && pv->uid != 0) {
		if (getgrouplist(pv->user, pv->gid, g, &n) < 0)
			n = 0;
	} else if ((n = getgroups(ARRAY_SIZE(g), g)) < 0)
		n = 0;
	h = (h ^ (uint32_t)pv->gid) * 16777619u;
	for (int i = 0; i < n; i++)
		h = (h ^ (uint32_t)g[i]) * 16777619u;
	return h;
}

/* What a probe's answer depends on, read from the host. 0 or -errno. */
static int
key_make(const char *binary, const struct priv *pv, struct accel_key *k)
{
	struct stat st;
	int fd, r;
	ssize_t n;

	memset(k, 0, sizeof(*k));
	if ((r = which(binary, k->qemu, sizeof(k->qemu))) < 0)
		return r;
	if (stat(k->qemu, &st) < 0)
		return -errno;
	k->dev = st.st_dev;
	k->ino = st.st_ino;
	k->mtime_s = st.st_mtim.tv_sec;
	k->mtime_ns = st.st_mtim.tv_nsec;
	if (stat("/dev/kvm", &st) == 0) {
		k->kvm_ino = st.st_ino;
		k->kvm_ctime_s = st.st_ctim.tv_sec;
		k->kvm_ctime_ns = st.st_ctim.tv_nsec;
	}
	k->groups = groups_hash(pv);
	fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, k->boot, sizeof(k->boot) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	k->boot[strcspn(k->boot, "\n")] = '\0';
	return 0;
}

char *
accel_cache_dir(const struct priv *pv)
{
	const char *e;

	if (pv->for_other)	/* the developer's, whatever the environment */
		return pv->home[0] ? xasprintf("%s/.cache/qrun", pv->home) :
		    NULL;
	if ((e = getenv("QRUN_CACHE_DIR")) && *e)
		return xstrdup(e);
	if ((e = getenv("XDG_CACHE_HOME")) && *e)
		return xasprintf("%s/qrun", e);
	if ((e = getenv("HOME")) && *e)
		return xasprintf("%s/.cache/qrun", e);
	return pv->home[0] ? xasprintf("%s/.cache/qrun", pv->home) : NULL;
}

/* The cache file, opened read-write with the developer's file rights and
 * locked (waiting at most for another run's probe); -1 when there is
 * none to be had (the probe then runs uncached). */
static int
cache_open(const struct priv *pv)
{
	char *dir = accel_cache_dir(pv), *file;
	struct stat st;
	int fd = -1;
	long until = mono_ms() + 2 * ACCEL_PROBE_MS;

	if (dir == NULL || access_as_user(pv, true) < 0) {
		free(dir);
		return -1;
	}
	path_mkdirs(dir, 0700);	/* else open says why */
	file = xasprintf("%s/kvm", dir);
	fd = open(file, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC, 0600);
	access_as_user(pv, false);
	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
		close(fd);
		fd = -1;
	}
	while (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0 &&
	    mono_ms() < until)
		usleep(20000);
	free(file);
	free(dir);
	return fd;
}

/* The whole cache file (at most CACHE_MAX bytes), NUL-terminated. */
static char *
cache_read(int fd)
{
	char *buf = xmalloc(CACHE_MAX + 1);
	ssize_t n = pread(fd, buf, CACHE_MAX, 0);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* Replace the cache's text (we hold its lock). 0 or -errno. */
static int
cache_write(int fd, const char *text)
{
	size_t len = strlen(text);

	if (pwrite(fd, text, len, 0) != (ssize_t)len ||
	    ftruncate(fd, (off_t)len) < 0)
		return -errno;
	return 0;
}

/* In the child: QEMU on the probe kernel (memfd kfd), as the developer,
 * stdin and stdout /dev/null, stderr to errw. */
static void __attribute__((noreturn))
probe_exec(const char *qemu, const struct priv *pv, pid_t parent, int kfd,
    int errw)
{
	static const char *const args[] = { "-accel", "kvm", "-m", "32",
	    "-nodefaults", "-no-user-config", "-display", "none", "-nic",
	    "none", "-no-reboot", "-kernel", "/proc/self/fd/3", "-device",
	    "isa-debug-exit,iobase=0xf4,iosize=0x04" };
	int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	struct strv argv = { 0 };

	loop_signals_reset();
	setpgid(0, 0);
	/* dup2 onto itself would leave close-on-exec set */
	if (nul < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0 ||
	    dup2(errw, 2) < 0 || (kfd == 3 ? fcntl(3, F_SETFD, 0) :
	    dup2(kfd, 3)) < 0 || priv_drop(pv) < 0 ||
	    prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent ||
	    syscall(SYS_close_range, 4, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		_exit(EXIT_QRUN);
	strv_push(&argv, qemu);
	for (size_t i = 0; i < ARRAY_SIZE(args); i++)
		strv_push(&argv, args[i]);
	execv(qemu, argv.v);
	dprintf(2, "%s: %s\n", qemu, strerror(errno));
	_exit(errno == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC);
}

/* Wait for the probe at most until deadline, collecting its stderr
 * (the tail) in err; kill its process group then. */
static int
probe_wait(pid_t pid, int errr, long deadline, char *err, size_t len,
    bool *timed_out)
{
	struct pollfd pfd = { .fd = errr, .events = POLLIN };
	size_t n = 0;
	ssize_t r = -1;
	int st = 0;

	for (*timed_out = false;; ) {
		long left = deadline - mono_ms();

		if (left <= 0) {
			*timed_out = true;
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
			break;
		}
		poll(&pfd, 1, left < 20 ? (int)left : 20);
		while (pfd.fd >= 0 && (r = read(pfd.fd, err + n,
		    len - 1 - n)) != 0) {
			if (r < 0)
				break;
			n += (size_t)r;
			if (n + 1 >= len) {	/* keep the second half */
				memmove(err, err + len / 2, n - len / 2);
				n -= len / 2;
			}
		}
		pfd.fd = r == 0 ? -1 : pfd.fd;
		if (waitpid(pid, &st, WNOHANG) == pid)
			break;
	}
	err[n] = '\0';
	return st;
}

/* Run the probe: QEMU qemu with -accel kvm on the probe kernel. */
static void
probe_run(const char *qemu, const struct priv *pv, struct accel_probe *p)
{
	uint8_t kernel[4096];
	int kfd, ep[2] = { -1, -1 }, st;
	char err[1024];
	bool timed_out;
	long t0 = mono_ms();
	pid_t pid;

	accel_probe_kernel(kernel, sizeof(kernel));
	kfd = memfd_create("qrun-kvm-probe", MFD_CLOEXEC);
	if (kfd < 0 || write(kfd, kernel, sizeof(kernel)) !=
	    (ssize_t)sizeof(kernel) || pipe2(ep, O_CLOEXEC) < 0 ||
	    fcntl(ep[0], F_SETFL, O_NONBLOCK) < 0 || (pid = fork()) < 0) {
		snprintf(err, sizeof(err), "cannot start QEMU: %s",
		    strerror(errno));
		accel_interpret(0, false, err, p);
		goto out;
	}
	if (pid == 0)
		probe_exec(qemu, pv, getppid(), kfd, ep[1]);
	setpgid(pid, pid);
	close(ep[1]);
	ep[1] = -1;
	st = probe_wait(pid, ep[0], t0 + ACCEL_PROBE_MS, err, sizeof(err),
	    &timed_out);
	accel_interpret(st, timed_out, err, p);
out:
	p->ms = mono_ms() - t0;
	for (int i = 0; i < 2; i++)
		if (ep[i] >= 0)
			close(ep[i]);
	if (kfd >= 0)
		close(kfd);
}

int
accel_kvm(const char *binary, const struct priv *pv, struct accel_probe *p)
{
	struct accel_key k;
	char *key = NULL, *text = NULL, *upd;
	int fd = -1, r;

	memset(p, 0, sizeof(*p));
	if ((r = key_make(binary, pv, &k)) < 0) {
		snprintf(p->why, sizeof(p->why), "%s: %s", binary,
		    strerror(-r));
		return r;
	}
	if ((key = accel_key_text(&k)) != NULL && (fd = cache_open(pv)) >= 0) {
		text = cache_read(fd);
		if (accel_cache_find(text, key, p) == 0)
			goto out;
	}
	probe_run(k.qemu, pv, p);
	if (fd >= 0 && (upd = accel_cache_update(text, key, p)) != NULL) {
		cache_write(fd, upd);
		free(upd);
	}
out:
	if (fd >= 0)
		close(fd);
	free(text);
	free(key);
	return 0;
}

const char *
accel_pick(const struct config *c, const struct priv *pv,
    struct accel_probe *p)
{
	memset(p, 0, sizeof(*p));
	if (strcmp(c->qemu_accel, "kvm:tcg") != 0)
		return c->qemu_accel;
	if (accel_kvm(c->qemu_binary, pv, p) < 0)
		return "tcg";	/* no such QEMU: exec says so */
	return qemu_accel_pick(c->qemu_accel, p->verdict == ACCEL_KVM);
}

/* Can qrun open /dev/vhost-net for QEMU (net.vhost "auto")? */
bool
accel_vhost_usable(void)
{
	int fd = open("/dev/vhost-net", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}
