/*
 * accel_test.c - how kvm:tcg is decided, with plain data: the probe
 * kernel's bytes, the cache key and lines (what makes an answer valid,
 * what a forged or broken file does), and what a probe's exit means.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "qrun.h"
#include "unit.h"

static uint32_t
get32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A multiboot header with the a.out kludge (QEMU loads it flat at 1 MiB)
 * and code that writes ACCEL_PROBE_CODE to port 0xf4, then halts. */
START_TEST(test_kernel)
{
	uint8_t k[4096], small[16];
	const uint8_t code[] = { 0xfa, 0xb0, ACCEL_PROBE_CODE, 0xe6, 0xf4,
	    0xf4, 0xeb, 0xfd };

	ck_assert_uint_eq(accel_probe_kernel(k, sizeof(k)), sizeof(k));
	ck_assert_uint_eq(get32(k), 0x1badb002);
	ck_assert_uint_eq(get32(k + 4) & 0x10000, 0x10000);
	ck_assert_uint_eq((uint32_t)(get32(k) + get32(k + 4) + get32(k + 8)),
	    0);
	ck_assert_uint_eq(get32(k + 12), 0x100000);	/* header = load */
	ck_assert_uint_eq(get32(k + 16), 0x100000);
	ck_assert_uint_eq(get32(k + 20), 0x100000 + 32 + sizeof(code));
	ck_assert_uint_eq(get32(k + 28), 0x100000 + 32);
	ck_assert_mem_eq(k + 32, code, sizeof(code));
	ck_assert_uint_eq(k[0x202], 0);		/* no "HdrS": not Linux */
	ck_assert_uint_eq(accel_probe_kernel(small, sizeof(small)), 0);
}
END_TEST

static void
key_init(struct accel_key *k)
{
	memset(k, 0, sizeof(*k));
	strcpy(k->boot, "cf70ab8d-1646-4f7b-857b-e7e01b3acdf3");
	strcpy(k->qemu, "/usr/bin/qemu-system-x86_64");
	k->dev = 65024;
	k->ino = 10977351;
	k->mtime_s = 1779741869;
	k->mtime_ns = 5;
	k->kvm_ino = 7;
	k->kvm_ctime_s = 1779700000;
	k->groups = 0x050c5d1f;
}

static struct accel_probe
probe(enum accel_verdict v, long ms, const char *why)
{
	struct accel_probe p = { .verdict = v, .ms = ms };

	strcpy(p.why, why);
	return p;
}

START_TEST(test_key_text)
{
	struct accel_key k;
	char *t;

	key_init(&k);
	t = accel_key_text(&k);
	ck_assert_str_eq(t, "cf70ab8d-1646-4f7b-857b-e7e01b3acdf3\t"
	    "65024:10977351\t1779741869.000000005\t7:1779700000.000000000\t"
	    "050c5d1f\t/usr/bin/qemu-system-x86_64");
	free(t);
	strcpy(k.qemu, "/opt/qemu\tx");	/* cannot be a cache field */
	ck_assert_ptr_null(accel_key_text(&k));
	strcpy(k.qemu, "qemu-system-x86_64");	/* not resolved */
	ck_assert_ptr_null(accel_key_text(&k));
	key_init(&k);
	k.boot[0] = '\0';
	ck_assert_ptr_null(accel_key_text(&k));
}
END_TEST

/* An answer is found for exactly its key: another boot, another build
 * of QEMU, another /dev/kvm or other groups are misses. */
START_TEST(test_cache_valid)
{
	struct accel_probe hang = probe(ACCEL_HANG, 3002, ""), got;
	struct accel_key k, o;
	char *key, *text, *other;

	key_init(&k);
	key = accel_key_text(&k);
	text = accel_cache_update("", key, &hang);
	ck_assert_int_eq(accel_cache_find(text, key, &got), 0);
	ck_assert(got.cached);
	ck_assert_int_eq(got.verdict, ACCEL_HANG);
	ck_assert_int_eq(got.ms, 3002);
	for (int i = 0; i < 6; i++) {
		o = k;
		switch (i) {
		case 0: o.boot[0] = 'd'; break;
		case 1: o.ino++; break;
		case 2: o.mtime_ns++; break;
		case 3: o.kvm_ino = 0; break;
		case 4: o.kvm_ctime_s++; break;
		case 5: o.groups ^= 1; break;
		}
		other = accel_key_text(&o);
		ck_assert_msg(accel_cache_find(text, other, &got) == -ENOENT,
		    "change %d still found", i);
		free(other);
	}
	free(text);
	free(key);
}
END_TEST

/* Broken or forged lines are misses, never a crash or a half answer. */
START_TEST(test_cache_forged)
{
	static const char *const bad[][2] = {	/* around the key */
		{ "", "\tkvm\t5\t\n" },			/* no magic */
		{ "qrun-kvm 2\t", "\tkvm\t5\t\n" },	/* another version */
		{ "qrun-kvm 1\t", "\tyes\t5\t\n" },	/* no such verdict */
		{ "qrun-kvm 1\t", "\tkvm\tfast\t\n" },	/* ms not a number */
		{ "qrun-kvm 1\t", "\tkvm\t-1\t\n" },
		{ "qrun-kvm 1\t", "\tkvm\t5\n" },	/* a field missing */
		{ "qrun-kvm 1\t", "\tkvm\t5\t\tx\n" },	/* one too many */
		{ "qrun-kvm 1\t", "\tfail\t5\t\033[2J\n" },	/* control */
		{ "qrun-kvm 1\t", "\tkvm\t5\t" },		/* cut short */
	};
	struct accel_probe got;
	struct accel_key k;
	char *key, *text, *big;

	key_init(&k);
	key = accel_key_text(&k);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		text = xasprintf("%s%s%s", bad[i][0], key, bad[i][1]);
		ck_assert_msg(accel_cache_find(text, key, &got) == -ENOENT,
		    "bad line %zu found", i);
		free(text);
	}
	big = xmalloc(4000);
	memset(big, 'x', 3999);
	big[3999] = '\0';
	text = xasprintf("qrun-kvm 1\t%s\tfail\t5\t%s\n", key, big);
	ck_assert_int_eq(accel_cache_find(text, key, &got), -ENOENT);
	free(text);
	/* a good line after bad ones is found */
	text = xasprintf("garbage\n\n\tx\t\nqrun-kvm 1\t%s\tkvm\t12\t\n", key);
	ck_assert_int_eq(accel_cache_find(text, key, &got), 0);
	ck_assert_int_eq(got.verdict, ACCEL_KVM);
	free(text);
	free(big);
	free(key);
}
END_TEST

/* The new text keeps this boot's answers for other binaries (newest 15),
 * drops other boots, older builds of this binary and broken lines. */
START_TEST(test_cache_update)
{
	struct accel_probe kvm = probe(ACCEL_KVM, 40, ""), got;
	struct accel_key k, o;
	char *key, *okey, *text = xstrdup("junk\n"), *t;

	key_init(&k);
	key = accel_key_text(&k);
	o = k;
	o.boot[0] = '0';	/* an old boot */
	okey = accel_key_text(&o);
	t = accel_cache_update(text, okey, &kvm);
	free(text);
	text = t;
	free(okey);
	for (int i = 0; i < 20; i++) {
		o = k;
		snprintf(o.qemu, sizeof(o.qemu), "/opt/q%d/qemu", i);
		okey = accel_key_text(&o);
		t = accel_cache_update(text, okey, &kvm);
		free(text);
		text = t;
		free(okey);
	}
	o = k;
	o.ino = 1;		/* this binary before an upgrade */
	okey = accel_key_text(&o);
	t = accel_cache_update(text, okey, &kvm);
	free(text);
	text = t;
	free(okey);
	t = accel_cache_update(text, key, &kvm);
	ck_assert_int_eq(accel_cache_find(t, key, &got), 0);
	ck_assert_ptr_null(strstr(t, "junk"));
	ck_assert_ptr_null(strstr(t, "/opt/q4/"));	/* the oldest gone */
	ck_assert_ptr_nonnull(strstr(t, "/opt/q19/"));
	ck_assert_ptr_nonnull(strstr(t, "/opt/q5/"));
	ck_assert_ptr_null(strstr(t, "\n0f70ab8d"));
	ck_assert_ptr_null(strstr(t, ":1\t"));
	free(t);
	free(text);
	free(key);
}
END_TEST

/* The probe's exit: its code means KVM ran it; the deadline means a
 * hang; anything else is QEMU failing, in its own words. */
START_TEST(test_interpret)
{
	struct accel_probe p;

	accel_interpret(W_EXITCODE((ACCEL_PROBE_CODE << 1) | 1, 0), false,
	    "", &p);
	ck_assert_int_eq(p.verdict, ACCEL_KVM);
	accel_interpret(W_EXITCODE(0, 9), true, "", &p);
	ck_assert_int_eq(p.verdict, ACCEL_HANG);
	accel_interpret(W_EXITCODE(1, 0), false, "Could not access KVM "
	    "kernel module: Permission denied\nqemu-system-x86_64: -accel "
	    "kvm: failed to initialize kvm: Permission denied\n\n", &p);
	ck_assert_int_eq(p.verdict, ACCEL_FAIL);
	ck_assert_str_eq(p.why, "qemu-system-x86_64: -accel kvm: failed to "
	    "initialize kvm: Permission denied");
	accel_interpret(W_EXITCODE(0, 9), false, "", &p);
	ck_assert_str_eq(p.why, "QEMU killed by signal 9");
	accel_interpret(W_EXITCODE(3, 0), false, NULL, &p);
	ck_assert_str_eq(p.why, "QEMU exited with status 3");
	accel_interpret(W_EXITCODE(1, 0), false, "a\tb\033c\n", &p);
	ck_assert_str_eq(p.why, "a?b?c");
	/* the guest wrote another code: not the probe's */
	accel_interpret(W_EXITCODE(3, 0), false, "", &p);
	ck_assert_int_eq(p.verdict, ACCEL_FAIL);
}
END_TEST

/* Only kvm:tcg asks; what doctor and -v say. */
START_TEST(test_pick_describe)
{
	struct accel_probe p = probe(ACCEL_HANG, 3002, "");
	struct config c;
	struct priv pv = { .uid = 0 };
	char *s;

	config_init(&c);
	free(c.qemu_accel);
	c.qemu_accel = xstrdup("tcg");
	ck_assert_str_eq(accel_pick(&c, &pv, &p), "tcg");
	ck_assert_int_eq(p.verdict, ACCEL_NONE);
	free(c.qemu_accel);
	c.qemu_accel = xstrdup("kvm");
	ck_assert_str_eq(accel_pick(&c, &pv, &p), "kvm");
	config_free(&c);
	p = probe(ACCEL_HANG, 3002, "");
	p.cached = true;
	s = accel_describe(&p);
	ck_assert_str_eq(s, "/dev/kvm opens but guests do not run under it "
	    "here: using tcg (cached; the probe took 3002 ms)");
	free(s);
	p = probe(ACCEL_KVM, 180, "");
	s = accel_describe(&p);
	ck_assert_str_eq(s, "guests run under KVM here: using kvm (probe: "
	    "180 ms)");
	free(s);
}
END_TEST

Suite *
accel_suite(void)
{
	Suite *s = suite_create("accel");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_kernel);
	tcase_add_test(tc, test_key_text);
	tcase_add_test(tc, test_cache_valid);
	tcase_add_test(tc, test_cache_forged);
	tcase_add_test(tc, test_cache_update);
	tcase_add_test(tc, test_interpret);
	tcase_add_test(tc, test_pick_describe);
	suite_add_tcase(s, tc);
	return s;
}
