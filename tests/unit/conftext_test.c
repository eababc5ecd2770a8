/*
 * conftext_test.c - conftext.c: @include expanded relative to the file
 * that names it, FILE:LINE kept through the expansion, only regular files
 * read (a FIFO must not hang: those loads run in a child under alarm()),
 * and the limits: bytes, files, depth, settings, each just at and just
 * past.
 * No test here times anything; the limit-sized inputs just have to load.
 */
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qrun.h"
#include "unit.h"

static char tmp[64];

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st; (void)flag; (void)f;
	return remove(path);
}

static void
setup(void)
{
	strcpy(tmp, "/tmp/qrun-conftext-test.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
}

static void
teardown(void)
{
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* tmp/rel, malloc'd. */
static char *
at(const char *rel)
{
	return xasprintf("%s/%s", tmp, rel);
}

/* Write len bytes of text to tmp/rel; returns the full path. */
static char *
putn(const char *rel, const char *text, size_t len)
{
	char *path = at(rel);
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	fclose(f);
	return path;
}

static char *
put(const char *rel, const char *text)
{
	return putn(rel, text, strlen(text));
}

static void
mkdir_at(const char *rel)
{
	char *d = at(rel);

	ck_assert_int_eq(mkdir(d, 0700), 0);
	free(d);
}

/* Read path; the one diag (or "" when it reads), malloc'd. */
static char *
read_diag(const char *path, int *rc)
{
	struct strv diags = { 0 };
	struct conftext ct;
	char *d;

	*rc = conftext_read(&ct, path, false, &diags);
	ck_assert_uint_eq(diags.n, *rc == 0 ? 0 : 1);
	d = xstrdup(*rc == 0 ? "" : diags.v[0]);
	if (*rc == 0)
		conftext_free(&ct);
	strv_free(&diags);
	return d;
}

/* read_diag() must give tmp followed by want; "" when it reads. */
static void
expect_diag(const char *path, const char *want_rel)
{
	char *want = want_rel[0] ? xasprintf("%s%s", tmp, want_rel) :
	    xstrdup(""), *got;
	int rc;

	got = read_diag(path, &rc);
	ck_assert_str_eq(got, want);
	ck_assert_int_eq(rc, want[0] ? -EINVAL : 0);
	free(got);
	free(want);
}

static void
expect_where(const struct conftext *ct, size_t line, const char *rel,
    size_t fline)
{
	char *got = conftext_where(ct, line);
	char *want = xasprintf("%s/%s:%zu", tmp, rel, fline);

	ck_assert_str_eq(got, want);
	free(want);
	free(got);
}

/* Without includes: the file, ending in a newline, line for line. */
START_TEST(test_plain)
{
	struct strv diags = { 0 };
	struct conftext ct;
	char *p = put("a.conf", "qemu: {\n  cpus = 2;\n};");

	ck_assert_int_eq(conftext_read(&ct, p, false, &diags), 0);
	ck_assert_str_eq(ct.text, "qemu: {\n  cpus = 2;\n};\n");
	expect_where(&ct, 1, "a.conf", 1);
	expect_where(&ct, 3, "a.conf", 3);
	conftext_free(&ct);
	conftext_free(&ct);		/* safe twice */
	ck_assert_uint_eq(diags.n, 0);
	free(p);
}
END_TEST

/* A missing file: no diag when optional; otherwise cannot read. */
START_TEST(test_missing)
{
	struct strv diags = { 0 };
	struct conftext ct;
	char *p = at("none.conf");

	ck_assert_int_eq(conftext_read(&ct, p, true, &diags), -ENOENT);
	ck_assert_uint_eq(diags.n, 0);
	expect_diag(p, "/none.conf: cannot read: No such file or directory");
	free(p);
}
END_TEST

/*
 * Each include is relative to the file that names it, at any depth and
 * in any directory; every line maps back to its own file, and the rest
 * of an @include line to that line.
 */
START_TEST(test_nested_relative)
{
	struct strv diags = { 0 };
	struct conftext ct;
	char *f[4], *top, cwd[4096];

	mkdir_at("sub");
	mkdir_at("sub/deeper");
	f[0] = put("c.inc", "c = 3;\n");
	f[1] = put("sub/deeper/b.inc", "b1 = 1;\n@include \"../../c.inc\"\n"
	    "b2 = 2;\n");
	f[2] = put("sub/a.inc", "# a\n@include \"deeper/b.inc\" a = 1;\n");
	f[3] = top = put("top.conf", "t = 0;\n  @include \"sub/a.inc\"\n"
	    "t2 = 0;\n");
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir("/"), 0);	/* no matter where qrun runs */
	ck_assert_int_eq(conftext_read(&ct, top, false, &diags), 0);
	ck_assert_int_eq(chdir(cwd), 0);
	ck_assert_str_eq(ct.text, "t = 0;\n# a\nb1 = 1;\nc = 3;\n\nb2 = 2;\n"
	    " a = 1;\n\nt2 = 0;\n");
	expect_where(&ct, 1, "top.conf", 1);
	expect_where(&ct, 2, "sub/a.inc", 1);
	expect_where(&ct, 3, "sub/deeper/b.inc", 1);
	expect_where(&ct, 4, "sub/deeper/../../c.inc", 1);
	expect_where(&ct, 5, "sub/deeper/b.inc", 2);
	expect_where(&ct, 6, "sub/deeper/b.inc", 3);
	expect_where(&ct, 7, "sub/a.inc", 2);
	expect_where(&ct, 8, "top.conf", 2);
	expect_where(&ct, 9, "top.conf", 3);
	conftext_free(&ct);
	for (size_t i = 0; i < ARRAY_SIZE(f); i++)
		free(f[i]);
}
END_TEST

/* Only where libconfig's scanner sees an @include: at the start of a
 * line, outside strings and comments; \" and \\ escape in its name. */
START_TEST(test_not_include)
{
	struct strv diags = { 0 };
	struct conftext ct;
	static const char text[] =
	    "a = \"x\n@include \\\"no\\\"\n\";\n"
	    "/* @include \"no\"\n@include \"no\" */\n"
	    "# @include \"no\"\n"
	    "b = 1; @include \"no\"\n"
	    "@include\"no\"\n";
	char *p = put("a.conf", text), *q = put("q\"\\.inc", "q = 1;\n");
	char *r = put("r.conf", "@include \"q\\\"\\\\.inc\"\n");

	ck_assert_int_eq(conftext_read(&ct, p, false, &diags), 0);
	ck_assert_str_eq(ct.text, text);
	conftext_free(&ct);
	ck_assert_int_eq(conftext_read(&ct, r, false, &diags), 0);
	ck_assert_str_eq(ct.text, "q = 1;\n\n");
	conftext_free(&ct);
	ck_assert_uint_eq(diags.n, 0);
	free(p);
	free(q);
	free(r);
}
END_TEST

/* Run fn in a child that alarm() ends after 3 s: a read that waits on
 * a FIFO fails the test instead of hanging the suite. */
static void
in_child(void (*fn)(void))
{
	pid_t pid = fork();
	int st;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		alarm(3);
		fn();
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(!WIFSIGNALED(st), "killed by signal %d (SIGALRM=%d): "
	    "hung", WTERMSIG(st), SIGALRM);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child failed");
}

static void
fifo_reads(void)
{
	char *fifo = at("fifo"), *p = put("a.conf", "@include \"fifo\"\n");
	char *d = put("dev.conf", "\n@include \"/dev/null\"\n");

	if (mkfifo(fifo, 0600) < 0)
		_exit(2);
	expect_diag(p, "/a.conf:1: @include \"fifo\": not a regular file");
	expect_diag(fifo, "/fifo: not a regular file");
	expect_diag(d, "/dev.conf:2: @include \"/dev/null\": not a regular "
	    "file");
	free(fifo);
	free(p);
	free(d);
}

/* A FIFO (or device), included or read itself, is refused at once. */
START_TEST(test_fifo)
{
	in_child(fifo_reads);
}
END_TEST

START_TEST(test_directory)
{
	char *p = put("a.conf", "a = 1;\n@include \"d\"\n");

	mkdir_at("d");
	expect_diag(p, "/a.conf:2: @include \"d\": cannot read: "
	    "Is a directory");
	free(p);
}
END_TEST

START_TEST(test_cycle)
{
	char *a = put("a.conf", "@include \"b.inc\"\n");
	char *b = put("b.inc", "\n@include \"a.conf\"\n");
	char *s = put("self.conf", "@include \"self.conf\"\n");
	char *d = put("diamond.conf", "@include \"e.inc\"\n@include \"e.inc\"\n");
	char *e = put("e.inc", "e = 1;\n");

	expect_diag(a, "/b.inc:2: @include \"a.conf\": include cycle");
	expect_diag(s, "/self.conf:1: @include \"self.conf\": include cycle");
	expect_diag(d, "");		/* twice, but not in itself */
	free(a);
	free(b);
	free(s);
	free(d);
	free(e);
}
END_TEST

/* top.conf includes l1.inc ... ln.inc: levels levels of @include. */
static char *
chain(int levels)
{
	char name[32], next[32], *p;

	for (int i = levels; i >= 0; i--) {
		snprintf(name, sizeof(name), i ? "l%d.inc" : "top.conf", i);
		snprintf(next, sizeof(next), "@include \"l%d.inc\"\n", i + 1);
		p = put(name, i == levels ? "x = 1;\n" : next);
		if (i)
			free(p);
	}
	return p;
}

START_TEST(test_depth)
{
	char *p = chain(CONFTEXT_DEPTH);

	expect_diag(p, "");
	free(p);
	p = chain(CONFTEXT_DEPTH + 1);
	expect_diag(p, "/l8.inc:1: @include \"l9.inc\": nested too deeply: "
	    "at most 8 levels of @include");
	free(p);
}
END_TEST

/* CONFTEXT_MAX bytes read, the includes' included: at it and past it. */
START_TEST(test_size)
{
	char *big = xmalloc(CONFTEXT_MAX + 1), *p, *inc;

	memset(big, ' ', CONFTEXT_MAX + 1);
	big[0] = '#';
	p = putn("a.conf", big, CONFTEXT_MAX);
	expect_diag(p, "");
	free(p);
	p = putn("a.conf", big, CONFTEXT_MAX + 1);
	expect_diag(p, "/a.conf: too big: a profile with its includes is "
	    "at most 1024 KiB");
	free(p);
	memcpy(big, "@include \"i.inc\"\n#", 18);	/* 17 + ... */
	p = putn("a.conf", big, 17);
	inc = putn("i.inc", big + 17, CONFTEXT_MAX - 17);
	expect_diag(p, "");
	free(inc);
	inc = putn("i.inc", big + 17, CONFTEXT_MAX - 16);
	expect_diag(p, "/a.conf:1: @include \"i.inc\": too big: a profile "
	    "with its includes is at most 1024 KiB");
	free(inc);
	free(p);
	free(big);
}
END_TEST

/* "name = value" and "group: {" are settings: CONFTEXT_SETTINGS of them. */
START_TEST(test_settings)
{
	char *text = xmalloc(CONFTEXT_SETTINGS * 24 + 64), *p, *o = text;

	o += sprintf(o, "g: {\n");
	for (int i = 1; i < CONFTEXT_SETTINGS; i++)
		o += sprintf(o, "k%d = \"a=b:c\";\n", i);	/* in strings: no */
	sprintf(o, "};\n");
	p = put("a.conf", text);
	expect_diag(p, "");
	free(p);
	sprintf(o, "x = 1;\n};\n");
	p = put("a.conf", text);
	expect_diag(p, "/a.conf:1025: too many settings: a profile with its "
	    "includes has at most 1024");
	free(p);
	free(text);
}
END_TEST

/* CONFTEXT_FILES reads of a file, the profile's own included; an
 * include counts each time, here of one empty file. */
START_TEST(test_files)
{
	char *text = xmalloc(CONFTEXT_FILES * 16), *o = text, *p, *e;

	for (int i = 1; i < CONFTEXT_FILES; i++)
		o += sprintf(o, "@include \"e\"\n");
	e = put("e", "");
	p = put("a.conf", text);
	expect_diag(p, "");
	free(p);
	sprintf(o, "@include \"e\"\n");
	p = put("a.conf", text);
	expect_diag(p, "/a.conf:256: @include \"e\": too many files: a "
	    "profile reads at most 256, itself included");
	free(p);
	free(e);
	free(text);
}
END_TEST

/* Strings and comments end in the file that opens them; no NUL bytes. */
START_TEST(test_unclosed)
{
	char *a = put("a.conf", "@include \"s.inc\"\nx = \"\";\n");
	char *s = put("s.inc", "s = 1;\nt = \"x;\n\n");
	char *c = put("c.conf", "x = 1;\n/* x\n");
	char *n = putn("n.conf", "x = 1;\ny = 2; # \0\n", 18);

	expect_diag(a, "/s.inc:2: syntax error: string not closed by the "
	    "end of the file");
	expect_diag(c, "/c.conf:2: syntax error: comment not closed by the "
	    "end of the file");
	expect_diag(n, "/n.conf:2: syntax error: a NUL byte");
	free(a);
	free(s);
	free(c);
	free(n);
	a = put("a.conf", "@include \"s.inc\nx = 1;\n");
	expect_diag(a, "/a.conf:1: syntax error: @include file name not "
	    "closed on its line");
	free(a);
}
END_TEST

Suite *
conftext_suite(void)
{
	Suite *s = suite_create("conftext");
	TCase *tc = tcase_create("conftext");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_plain);
	tcase_add_test(tc, test_missing);
	tcase_add_test(tc, test_nested_relative);
	tcase_add_test(tc, test_not_include);
	tcase_add_test(tc, test_fifo);
	tcase_add_test(tc, test_directory);
	tcase_add_test(tc, test_cycle);
	tcase_add_test(tc, test_depth);
	tcase_add_test(tc, test_size);
	tcase_add_test(tc, test_settings);
	tcase_add_test(tc, test_files);
	tcase_add_test(tc, test_unclosed);
	suite_add_tcase(s, tc);
	return s;
}
