/*
 * profile_test.c - profile.c: defaults, layering, -p lookup, -o typing,
 * where[] and, through tests/golden/profile, every validation message:
 * each NAME.conf there is loaded as the -p profile and its diagnostics
 * must equal NAME.err line for line (an empty .err means "valid"). Adding
 * a pair adds a case.
 *
 * Every test points QRUN_CONFIG_DIR and QRUN_SYSCONF_DIR (profile.c's
 * stand-in for /etc/qrun) at fresh temp dirs, so the host's own
 * configuration never leaks in.
 */
#include <dirent.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qrun.h"
#include "unit.h"

#define GOLDEN "tests/golden/profile"
#define MAX_GOLDEN 256

static char tmp[64];
static char *golden[MAX_GOLDEN];
static int ngolden;

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st; (void)flag; (void)f;
	return remove(path);
}

static void
setup(void)
{
	char *d;

	strcpy(tmp, "/tmp/qrun-profile-test.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	d = xasprintf("%s/conf", tmp);
	ck_assert_int_eq(mkdir(d, 0700), 0);
	setenv("QRUN_CONFIG_DIR", d, 1);
	free(d);
	d = xasprintf("%s/sys", tmp);
	ck_assert_int_eq(mkdir(d, 0700), 0);
	setenv("QRUN_SYSCONF_DIR", d, 1);
	free(d);
	d = xasprintf("%s/sys/profiles", tmp);
	ck_assert_int_eq(mkdir(d, 0700), 0);
	free(d);
}

static void
teardown(void)
{
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	unsetenv("QRUN_CONFIG_DIR");
	unsetenv("QRUN_SYSCONF_DIR");
}

/* Write text to tmp/rel; returns the full path (malloc'd). */
static char *
put(const char *rel, const char *text)
{
	char *path = xasprintf("%s/%s", tmp, rel);
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = xmalloc(65536);
	size_t n;

	if (f == NULL) {
		free(buf);
		return NULL;
	}
	n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static char *
joined(const struct strv *sv)
{
	char *s = xstrdup(""), *t;

	for (size_t i = 0; i < sv->n; i++) {
		t = s;
		s = xasprintf("%s%s\n", t, sv->v[i]);
		free(t);
	}
	return s;
}

/* Load with a profile and overrides; returns profile_load's result. */
static int
load(struct config *cfg, const char *profile, const struct strv *o,
    const struct strv *ow, struct strv *diags)
{
	struct profile_src src = { profile, o, ow, false, NULL };

	config_init(cfg);
	return profile_load(cfg, &src, diags);
}

START_TEST(test_golden_found)
{
	ck_assert_msg(ngolden >= 40, "only %d cases in " GOLDEN, ngolden);
}
END_TEST

START_TEST(test_golden)
{
	const char *name = golden[_i];
	char *conf = xasprintf(GOLDEN "/%s.conf", name);
	char *errf = xasprintf(GOLDEN "/%s.err", name);
	char *want = slurp(errf), *got;
	struct strv diags = { 0 };
	struct config cfg;
	int rc;

	ck_assert_msg(want != NULL, "%s: missing", errf);
	rc = load(&cfg, conf, NULL, NULL, &diags);
	got = joined(&diags);
	ck_assert_msg(strcmp(got, want) == 0, "%s:\n--- got\n%s--- want\n%s",
	    conf, got, want);
	ck_assert_int_eq(rc, want[0] ? -EINVAL : 0);
	config_free(&cfg);
	strv_free(&diags);
	free(got);
	free(want);
	free(errf);
	free(conf);
}
END_TEST

START_TEST(test_defaults)
{
	struct config cfg;

	config_init(&cfg);
	ck_assert_str_eq(cfg.qemu_binary, "qemu-system-x86_64");
	ck_assert_str_eq(cfg.qemu_accel, "kvm:tcg");
	ck_assert_int_eq(cfg.qemu_memory, QEMU_MEMORY_AUTO);
	ck_assert_int_eq(cfg.qemu_cpus, 1);
	ck_assert_str_eq(cfg.qemu_initrd, "");
	ck_assert_str_eq(cfg.qemu_append, "console=ttyS0");
	ck_assert_uint_eq(cfg.qemu_args.n, 1);
	ck_assert_str_eq(cfg.qemu_args.v[0], "-nographic");
	ck_assert_int_eq(cfg.net_mode, NET_USER);
	ck_assert_str_eq(cfg.net_tap, "tap1");
	ck_assert_str_eq(cfg.net_host_addr, "");
	ck_assert_str_eq(cfg.net_guest_addr, "");
	ck_assert_str_eq(cfg.net_mac, "");
	ck_assert_str_eq(cfg.net_model, "virtio-net-pci");
	ck_assert_str_eq(cfg.net_bridge, "br0");
	ck_assert_uint_eq(cfg.net_forwards.n, 0);
	ck_assert(!cfg.net_keep);
	ck_assert_str_eq(cfg.net_capture, "");
	ck_assert_int_eq(cfg.test_timeout, 0);
	ck_assert_str_eq(cfg.test_expect, "");
	ck_assert_str_eq(cfg.test_fail, "Kernel panic");
	ck_assert_int_eq(cfg.test_success_code, -1);
	ck_assert_str_eq(cfg.test_ready, "");
	ck_assert_str_eq(cfg.test_serial_log, "");
	ck_assert(!cfg.batch);
	for (int k = 0; k < K_COUNT; k++)
		ck_assert_str_eq(cfg.where[k], "default");
	config_free(&cfg);
	config_free(&cfg);	/* safe twice */
}
END_TEST

START_TEST(test_keys)
{
	ck_assert_int_eq(profile_key_index("qemu.binary"), K_QEMU_BINARY);
	ck_assert_int_eq(profile_key_index("test.serial_log"),
	    K_TEST_SERIAL_LOG);
	ck_assert_int_eq(profile_key_index("net.tapp"), -1);
	ck_assert_int_eq(profile_key_index("net"), -1);
	for (int k = 0; k < K_COUNT; k++)
		ck_assert_int_eq(profile_key_index(profile_key_name(k)), k);
	ck_assert_ptr_null(profile_key_name(-1));
	ck_assert_ptr_null(profile_key_name(K_COUNT));
	ck_assert_str_eq(net_mode_name(NET_USER), "user");
	ck_assert_str_eq(net_mode_name(NET_TAP), "tap");
	ck_assert_str_eq(net_mode_name(NET_BRIDGE), "bridge");
	ck_assert_str_eq(net_mode_name(NET_NONE), "none");
}
END_TEST

/* System, user, profile and -o layers: later wins, where[] follows. */
START_TEST(test_layering)
{
	struct strv o = { 0 }, ow = { 0 }, diags = { 0 };
	struct config cfg;
	char *sys, *user, *prof, *w;

	sys = put("sys/qrun.conf", "qemu: { memory = 512;\n cpus = 2; };\n"
	    "net: { model = \"e1000\"; };\n");
	user = put("conf/qrun.conf", "# user\nqemu: { memory = 1024; };\n");
	prof = put("conf/lab.conf", "net: {\n mode = \"tap\";\n"
	    " tap = \"tap3\";\n model = \"rtl8139\";\n};\n");
	strv_push(&o, "net.tap=tap4");
	strv_push(&ow, "-t");
	ck_assert_int_eq(load(&cfg, "lab", &o, &ow, &diags), 0);
	ck_assert_uint_eq(diags.n, 0);
	ck_assert_int_eq(cfg.qemu_memory, 1024);
	ck_assert_int_eq(cfg.qemu_cpus, 2);
	ck_assert_int_eq(cfg.net_mode, NET_TAP);
	ck_assert_str_eq(cfg.net_model, "rtl8139");
	ck_assert_str_eq(cfg.net_tap, "tap4");
	w = xasprintf("%s:2", user);
	ck_assert_str_eq(cfg.where[K_QEMU_MEMORY], w);
	free(w);
	w = xasprintf("%s:2", sys);
	ck_assert_str_eq(cfg.where[K_QEMU_CPUS], w);
	free(w);
	w = xasprintf("%s:4", prof);
	ck_assert_str_eq(cfg.where[K_NET_MODEL], w);
	free(w);
	ck_assert_str_eq(cfg.where[K_NET_TAP], "-t");
	ck_assert_str_eq(cfg.where[K_QEMU_ACCEL], "default");
	config_free(&cfg);
	strv_free(&o);
	strv_free(&ow);
	free(sys);
	free(user);
	free(prof);
}
END_TEST

/* NAME: the user's profile before the system's; then a path. */
START_TEST(test_profile_lookup)
{
	struct strv diags = { 0 };
	struct config cfg;
	char *a, *b, *want;

	a = put("sys/profiles/lab.conf", "qemu: { cpus = 3; };\n");
	ck_assert_int_eq(load(&cfg, "lab", NULL, NULL, &diags), 0);
	ck_assert_int_eq(cfg.qemu_cpus, 3);
	config_free(&cfg);
	b = put("conf/lab.conf", "qemu: { cpus = 4; };\n");
	ck_assert_int_eq(load(&cfg, "lab", NULL, NULL, &diags), 0);
	ck_assert_int_eq(cfg.qemu_cpus, 4);
	config_free(&cfg);
	ck_assert_int_eq(load(&cfg, "lab.conf", NULL, NULL, &diags), 0);
	ck_assert_int_eq(cfg.qemu_cpus, 4);	/* no ./lab.conf: a name */
	config_free(&cfg);
	ck_assert_int_eq(load(&cfg, a, NULL, NULL, &diags), 0);
	ck_assert_int_eq(cfg.qemu_cpus, 3);	/* a path */
	config_free(&cfg);
	ck_assert_uint_eq(diags.n, 0);

	ck_assert_int_eq(load(&cfg, "nope", NULL, NULL, &diags), -EINVAL);
	want = xasprintf("nope: no such profile (looked in %s/conf/nope.conf, "
	    "%s/sys/profiles/nope.conf)", tmp, tmp);
	ck_assert_uint_eq(diags.n, 1);
	ck_assert_str_eq(diags.v[0], want);
	config_free(&cfg);
	free(want);
	strv_free(&diags);

	ck_assert_int_eq(load(&cfg, "./no/such.conf", NULL, NULL, &diags),
	    -EINVAL);
	ck_assert_str_eq(diags.v[0],
	    "./no/such.conf: cannot read: No such file or directory");
	config_free(&cfg);
	strv_free(&diags);
	free(a);
	free(b);
}
END_TEST

/* The names -p finds, for completion: sorted, once each, no qrun.conf,
 * no other files. */
START_TEST(test_profile_names)
{
	struct strv n = { 0 };
	char *f[] = {
		put("conf/lab.conf", ""), put("conf/qrun.conf", ""),
		put("conf/notes.txt", ""), put("conf/.hidden.conf", ""),
		put("sys/profiles/lab.conf", ""), put("sys/profiles/alpha.conf", ""),
		put("sys/profiles/zeta.conf", ""), put("sys/qrun.conf", ""),
	};

	strv_push(&n, "kept");
	profile_names(false, NULL, &n);
	ck_assert_uint_eq(n.n, 4);
	ck_assert_str_eq(n.v[0], "kept");
	ck_assert_str_eq(n.v[1], "alpha");
	ck_assert_str_eq(n.v[2], "lab");
	ck_assert_str_eq(n.v[3], "zeta");
	strv_free(&n);
	for (size_t i = 0; i < ARRAY_SIZE(f); i++)
		free(f[i]);
}
END_TEST

/* A missing qrun.conf is fine, an unreadable one is not. */
START_TEST(test_unreadable)
{
	struct strv diags = { 0 };
	struct config cfg;
	char *d = xasprintf("%s/conf/qrun.conf", tmp), *want;

	ck_assert_int_eq(mkdir(d, 0700), 0);
	ck_assert_int_eq(load(&cfg, NULL, NULL, NULL, &diags), -EINVAL);
	want = xasprintf("%s: cannot read: Is a directory", d);
	ck_assert_uint_eq(diags.n, 1);
	ck_assert_str_eq(diags.v[0], want);
	config_free(&cfg);
	strv_free(&diags);
	free(want);
	free(d);
}
END_TEST

/* @include is relative to the including file, wherever qrun runs. */
START_TEST(test_include)
{
	struct strv diags = { 0 };
	struct config cfg;
	char *a, *b, *w;

	b = put("conf/common.inc", "test: {\n  timeout = 30;\n};\n");
	a = put("conf/main.conf", "qemu: { cpus = 2; };\n"
	    "@include \"common.inc\"\n");
	ck_assert_int_eq(load(&cfg, a, NULL, NULL, &diags), 0);
	ck_assert_int_eq(cfg.test_timeout, 30);
	ck_assert(cfg.batch);
	w = xasprintf("%s:2", b);
	ck_assert_str_eq(cfg.where[K_TEST_TIMEOUT], w);
	config_free(&cfg);
	free(w);
	free(a);
	free(b);
}
END_TEST

/* -o values are typed by the schema. */
START_TEST(test_set_typing)
{
	struct strv diags = { 0 };
	struct config cfg;
	char *s;

	config_init(&cfg);
	ck_assert_int_eq(profile_set(&cfg, "qemu.memory", "2048", NULL,
	    &diags), 0);
	ck_assert_int_eq(cfg.qemu_memory, 2048);
	ck_assert_str_eq(cfg.where[K_QEMU_MEMORY], "-o qemu.memory");
	ck_assert_int_eq(profile_set(&cfg, "net.keep", "yes", "-o net.keep",
	    &diags), 0);
	ck_assert(cfg.net_keep);
	ck_assert_int_eq(profile_set(&cfg, "net.keep", "off", NULL, &diags), 0);
	ck_assert(!cfg.net_keep);
	ck_assert_int_eq(profile_set(&cfg, "net.mode", "bridge", "-n",
	    &diags), 0);
	ck_assert_int_eq(cfg.net_mode, NET_BRIDGE);
	ck_assert_int_eq(profile_set(&cfg, "net.forwards",
	    "tcp:2222:22, udp:5353:53", NULL, &diags), 0);
	ck_assert_uint_eq(cfg.net_forwards.n, 2);
	ck_assert_str_eq(cfg.net_forwards.v[1], "udp:5353:53");
	ck_assert_int_eq(profile_set(&cfg, "qemu.args",
	    "[ \"-device\", \"e1000,netdev=n1\" ]", NULL, &diags), 0);
	ck_assert_uint_eq(cfg.qemu_args.n, 2);
	ck_assert_str_eq(cfg.qemu_args.v[1], "e1000,netdev=n1");
	ck_assert_int_eq(profile_set(&cfg, "qemu.args+", "-s", NULL, &diags),
	    0);
	ck_assert_uint_eq(cfg.qemu_args.n, 3);
	ck_assert_str_eq(cfg.qemu_args.v[2], "-s");
	ck_assert_int_eq(profile_set(&cfg, "qemu.args", "", NULL, &diags), 0);
	ck_assert_uint_eq(cfg.qemu_args.n, 0);
	ck_assert_int_eq(profile_set(&cfg, "test.expect", "login: ", "--expect",
	    &diags), 0);
	ck_assert(cfg.batch);
	ck_assert_uint_eq(diags.n, 0);

	s = profile_get(&cfg, K_QEMU_ARGS);
	ck_assert_str_eq(s, "[ ]");
	free(s);
	profile_set(&cfg, "qemu.args", "[\"a\\\"b\", \"c\\\\d\"]", NULL,
	    &diags);
	s = profile_get(&cfg, K_QEMU_ARGS);
	ck_assert_str_eq(s, "[ \"a\\\"b\", \"c\\\\d\" ]");
	free(s);
	s = profile_get(&cfg, K_NET_KEEP);
	ck_assert_str_eq(s, "false");
	free(s);
	s = profile_get(&cfg, K_QEMU_MEMORY);
	ck_assert_str_eq(s, "2048");
	free(s);
	s = profile_get(&cfg, K_NET_MODE);
	ck_assert_str_eq(s, "bridge");
	free(s);
	ck_assert_ptr_null(profile_get(&cfg, K_COUNT));
	config_free(&cfg);
}
END_TEST

/* The -o and --option messages, and that a bad value changes nothing. */
START_TEST(test_set_errors)
{
	static const char *const cases[][4] = {
		{ "net.tapp", "x", "-o net.tapp",
		    "-o net.tapp: unknown key; did you mean net.tap?" },
		{ "qemu.memroy", "5", NULL,
		    "-o qemu.memroy: unknown key; did you mean qemu.memory?" },
		{ "net.nope", "x", NULL, "-o net.nope: unknown key" },
		{ "net.tap", "tap-with-a-long-name", "-o net.tap",
		    "-o net.tap: name too long (max 15)" },
		{ "test.timeout", "-3", "--timeout",
		    "--timeout: must be between 0 and 86400 seconds" },
		{ "test.timeout", "soon", "--timeout",
		    "--timeout: expected an integer" },
		{ "net.keep", "maybe", NULL,
		    "-o net.keep: expected true or false" },
		{ "qemu.args", "[ \"a\", 1 ]", NULL,
		    "-o qemu.args: expected a list of strings" },
		{ "qemu.args", "[ \"a\"\n@include \"/etc/passwd\" ]", NULL,
		    "-o qemu.args: expected a list of strings" },
		{ "net.forwards", "2222:22,2222:80", NULL,
		    "-o net.forwards: forward \"2222:80\": host port 2222 "
		    "used twice" },
		{ "qemu.memory+", "5", NULL,
		    "-o qemu.memory: only a list can be appended to" },
		{ "qemu.cpus", "0", "set",
		    "set: qemu.cpus: must be between 1 and 256" },
		{ "test.ready", "tcp:99999", "--ready",
		    "--ready: port must be 1..65535" },
	};
	struct strv diags = { 0 };
	struct config cfg;

	config_init(&cfg);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		ck_assert_int_eq(profile_set(&cfg, cases[i][0], cases[i][1],
		    cases[i][2], &diags), -EINVAL);
		ck_assert_uint_eq(diags.n, i + 1);
		ck_assert_str_eq(diags.v[i], cases[i][3]);
	}
	ck_assert_str_eq(cfg.net_tap, "tap1");
	ck_assert_int_eq(cfg.test_timeout, 0);
	ck_assert_str_eq(cfg.where[K_NET_TAP], "default");
	config_free(&cfg);
	strv_free(&diags);
}
END_TEST

/* Overrides through profile_load: every error, after the files'. */
START_TEST(test_overrides)
{
	struct strv o = { 0 }, ow = { 0 }, diags = { 0 };
	struct config cfg;
	char *prof, *got, *want;

	prof = put("conf/p.conf", "qemu: {\n  memory = 1;\n};\n");
	strv_push(&o, "test.timeout=20");
	strv_push(&ow, "--timeout");
	strv_push(&o, "net.tap=a b");
	strv_push(&ow, "-o net.tap");
	strv_push(&o, "bogus");
	strv_push(&ow, "-o bogus");
	strv_push(&o, "test.success_code=3");
	strv_push(&ow, "--success-code");
	ck_assert_int_eq(load(&cfg, prof, &o, &ow, &diags), -EINVAL);
	got = joined(&diags);
	want = xasprintf("%s:2: qemu.memory: must be between 16 and 1048576 "
	    "MiB, or \"auto\"\n-o net.tap: name contains whitespace\n"
	    "-o bogus: expected KEY=VALUE\n", prof);
	ck_assert_str_eq(got, want);
	ck_assert_int_eq(cfg.test_timeout, 20);
	ck_assert_str_eq(cfg.where[K_TEST_TIMEOUT], "--timeout");
	ck_assert_int_eq(cfg.test_success_code, 3);
	ck_assert(cfg.batch);
	config_free(&cfg);
	strv_free(&diags);
	strv_free(&o);
	strv_free(&ow);
	free(got);
	free(want);
	free(prof);
}
END_TEST

/* test.fail's default alone is not batch mode; setting it on purpose is. */
START_TEST(test_batch)
{
	struct strv diags = { 0 };
	struct config cfg;

	config_init(&cfg);
	ck_assert(!cfg.batch);
	profile_set(&cfg, "test.fail", "Oops", NULL, &diags);
	ck_assert(cfg.batch);
	profile_set(&cfg, "test.fail", "", NULL, &diags);
	ck_assert(!cfg.batch);
	profile_set(&cfg, "test.success_code", "0", NULL, &diags);
	ck_assert(cfg.batch);
	profile_set(&cfg, "test.success_code", "-1", NULL, &diags);
	ck_assert(!cfg.batch);
	profile_set(&cfg, "test.ready", "ping", NULL, &diags);
	ck_assert(cfg.batch);
	ck_assert_uint_eq(diags.n, 0);
	config_free(&cfg);
}
END_TEST

START_TEST(test_dirs)
{
	char *home = getenv("HOME") ? xstrdup(getenv("HOME")) : NULL;
	char *s;

	struct priv pv = { .home = "/h/dev" };

	setenv("QRUN_STATE_DIR", "/x/state", 1);
	s = priv_state_dir(&pv);
	ck_assert_str_eq(s, "/x/state");
	free(s);
	pv.for_other = true;
	s = priv_state_dir(&pv);
	ck_assert_str_ne(s, "/x/state");
	free(s);
	unsetenv("QRUN_STATE_DIR");
	setenv("XDG_RUNTIME_DIR", "/x/run", 1);
	s = priv_state_dir(&pv);
	ck_assert_str_eq(s, geteuid() == 0 ? "/run/qrun" : "/x/run/qrun");
	free(s);
	unsetenv("XDG_RUNTIME_DIR");
	/* no runtime dir: the developer's own, never a shared /tmp name */
	s = priv_state_dir(&pv);
	ck_assert_str_eq(s, geteuid() == 0 ? "/run/qrun" :
	    "/h/dev/.local/state/qrun");
	free(s);

	setenv("QRUN_CONFIG_DIR", "/x/conf", 1);
	setenv("XDG_CONFIG_HOME", "/x/xdg", 1);
	s = profile_config_dir(false, NULL);
	ck_assert_str_eq(s, "/x/conf");
	free(s);
	/* elevated: the developer's passwd home, never the environment */
	s = profile_config_dir(true, "/h/dev");
	ck_assert_str_eq(s, "/h/dev/.config/qrun");
	free(s);
	unsetenv("XDG_CONFIG_HOME");
	setenv("HOME", "/x/home", 1);
	s = profile_config_dir(true, "/h/dev");
	ck_assert_str_ne(s, "/x/home/.config/qrun");
	free(s);
	if (home)
		setenv("HOME", home, 1);
	free(home);
}
END_TEST

/* n copies of c, malloc'd. */
static char *
repeat(char c, size_t n)
{
	char *s = xmalloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* profile_set must give 0, or want as its one diag. */
static void
expect_set(struct config *cfg, const char *key, const char *value,
    const char *want)
{
	struct strv diags = { 0 };
	int rc = profile_set(cfg, key, value, NULL, &diags);

	ck_assert_msg(rc == (want ? -EINVAL : 0) && diags.n == (want ? 1 : 0),
	    "%s: %d, %s", key, rc, diags.n ? diags.v[0] : "no diag");
	if (want)
		ck_assert_str_eq(diags.v[0], want);
	strv_free(&diags);
}

/* "x,x,...": a list of n elements for -o. */
static char *
list_of(size_t n, const char *elem)
{
	char *s = xmalloc(n * (strlen(elem) + 1) + 1), *o = s;

	for (size_t i = 0; i < n; i++)
		o += sprintf(o, "%s%s", i ? "," : "", elem);
	*o = '\0';
	return s;
}

/* Each limit of qrun.conf(5): at it a value is taken, past it refused
 * with its size, before any other check. */
START_TEST(test_limits)
{
	struct config cfg;
	char *s;

	config_init(&cfg);
	s = repeat('a', 1920);
	expect_set(&cfg, "qemu.append", s, NULL);
	free(s);
	s = repeat('a', 1921);
	expect_set(&cfg, "qemu.append", s,
	    "-o qemu.append: too long: 1921 bytes, at most 1920");
	free(s);
	ck_assert_uint_eq(strlen(cfg.qemu_append), 1920);
	s = repeat('/', 4096);
	expect_set(&cfg, "qemu.initrd", s, NULL);
	expect_set(&cfg, "test.expect", s, NULL);
	free(s);
	s = repeat('/', 4097);
	expect_set(&cfg, "qemu.initrd", s,
	    "-o qemu.initrd: too long: 4097 bytes, at most 4096");
	expect_set(&cfg, "net.mode", s,
	    "-o net.mode: too long: 4097 bytes, at most 4096");
	free(s);
	s = list_of(4096, "-s");
	expect_set(&cfg, "qemu.args", s, NULL);
	free(s);
	s = list_of(4097, "-s");
	expect_set(&cfg, "qemu.args", s,
	    "-o qemu.args: too many elements: 4097, at most 4096");
	free(s);
	ck_assert_uint_eq(cfg.qemu_args.n, 4096);
	s = repeat('a', 4097);
	expect_set(&cfg, "qemu.args", s,
	    "-o qemu.args: element 1 too long: 4097 bytes, at most 4096");
	s[4096] = '\0';
	expect_set(&cfg, "qemu.args", s, NULL);
	free(s);
	s = xstrdup("1:22");
	for (int port = 2; port <= 31; port++) {
		char *t = s;

		s = xasprintf("%s,%d:22", t, port);
		free(t);
	}
	expect_set(&cfg, "net.forwards", s, NULL);
	expect_set(&cfg, "net.forwards+", "32:22", NULL);
	expect_set(&cfg, "net.forwards+", "33:22",
	    "-o net.forwards: too many elements: 33, at most 32");
	free(s);
	ck_assert_uint_eq(cfg.net_forwards.n, 32);
	config_free(&cfg);
}
END_TEST

/* K+ appends in place: up to the limit, and a refused element is taken
 * back, leaving the list and its where as they were. */
START_TEST(test_append)
{
	struct config cfg;
	char *s;

	config_init(&cfg);
	expect_set(&cfg, "net.forwards", "2222:22", NULL);
	expect_set(&cfg, "net.forwards+", "udp:2222:22", NULL);
	expect_set(&cfg, "net.forwards+", "2222:80", "-o net.forwards: "
	    "forward \"2222:80\": host port 2222 used twice");
	expect_set(&cfg, "net.forwards+", "x", "-o net.forwards: "
	    "forward \"x\": must be [tcp|udp:]HOSTPORT:GUESTPORT");
	ck_assert_uint_eq(cfg.net_forwards.n, 2);
	ck_assert_str_eq(cfg.net_forwards.v[1], "udp:2222:22");
	ck_assert_ptr_null(cfg.net_forwards.v[2]);
	expect_set(&cfg, "qemu.args", "", NULL);
	for (int i = 0; i < 4096; i++)
		expect_set(&cfg, "qemu.args+", "-s", NULL);
	s = repeat('a', 4097);
	expect_set(&cfg, "qemu.args+", s,
	    "-o qemu.args: too many elements: 4097, at most 4096");
	free(s);
	ck_assert_uint_eq(cfg.qemu_args.n, 4096);
	ck_assert_str_eq(cfg.where[K_QEMU_ARGS], "-o qemu.args");
	config_free(&cfg);
}
END_TEST

/*
 * The largest inputs the limits let through all load, without timing
 * anything: a 1 MiB profile of 4096 arguments (shown again whole),
 * 4096 "-o qemu.args+=" and a profile of 1024 settings. Each was seconds
 * to minutes while something was quadratic.
 */
START_TEST(test_limit_sized)
{
	struct strv o = { 0 }, diags = { 0 };
	struct config cfg;
	size_t w = (CONFTEXT_MAX - 64) / 4096 - 4;
	char *text = xmalloc(CONFTEXT_MAX), *p, *got, *o_ = text;

	o_ += sprintf(o_, "qemu: { args = [\n");
	for (int i = 0; i < 4096; i++)
		o_ += sprintf(o_, "\"%0*d\",\n", (int)w, i);
	sprintf(o_ - 2, " ]; };\n");
	ck_assert_uint_le(strlen(text), CONFTEXT_MAX);
	p = put("conf/big.conf", text);
	for (int i = 1; i < 4096; i++)		/* and the default */
		strv_push(&o, "qemu.args+=-s");
	ck_assert_int_eq(load(&cfg, p, NULL, NULL, &diags), 0);
	ck_assert_uint_eq(cfg.qemu_args.n, 4096);
	got = profile_get(&cfg, K_QEMU_ARGS);
	ck_assert_uint_eq(strlen(got), 4 + 4096 * (w + 4) - 2);
	free(got);
	config_free(&cfg);
	ck_assert_int_eq(load(&cfg, NULL, &o, NULL, &diags), 0);
	ck_assert_uint_eq(cfg.qemu_args.n, 4096);
	config_free(&cfg);
	o_ = text;
	for (int i = 0; i < 1024; i++)
		o_ += sprintf(o_, "x%d = 1;\n", i);
	free(p);
	p = put("conf/many.conf", text);
	ck_assert_int_eq(load(&cfg, p, NULL, NULL, &diags), -EINVAL);
	ck_assert_uint_eq(diags.n, 1024);	/* each: unknown key */
	config_free(&cfg);
	strv_free(&diags);
	strv_free(&o);
	free(p);
	free(text);
}
END_TEST

/* The golden cases: every NAME.conf with its NAME.err, sorted. */
static void
golden_scan(void)
{
	struct dirent **ents;
	int n;

	if ((n = scandir(GOLDEN, &ents, NULL, alphasort)) < 0)
		return;
	for (int i = 0; i < n; i++) {
		size_t len = strlen(ents[i]->d_name);

		if (len > 5 && ngolden < MAX_GOLDEN &&
		    strcmp(ents[i]->d_name + len - 5, ".conf") == 0)
			golden[ngolden++] = xasprintf("%.*s", (int)(len - 5),
			    ents[i]->d_name);
		free(ents[i]);
	}
	free(ents);
}

Suite *
profile_suite(void)
{
	Suite *s = suite_create("profile");
	TCase *tc = tcase_create("profile");

	if (strcmp(SRCDIR, ".") != 0 && chdir(SRCDIR) < 0)
		perror(SRCDIR);
	if (ngolden == 0)
		golden_scan();
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_golden_found);
	tcase_add_loop_test(tc, test_golden, 0, ngolden);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_keys);
	tcase_add_test(tc, test_layering);
	tcase_add_test(tc, test_profile_lookup);
	tcase_add_test(tc, test_profile_names);
	tcase_add_test(tc, test_unreadable);
	tcase_add_test(tc, test_include);
	tcase_add_test(tc, test_set_typing);
	tcase_add_test(tc, test_set_errors);
	tcase_add_test(tc, test_overrides);
	tcase_add_test(tc, test_batch);
	tcase_add_test(tc, test_dirs);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_append);
	tcase_add_test(tc, test_limit_sized);
	suite_add_tcase(s, tc);
	return s;
}
