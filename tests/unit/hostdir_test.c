/*
 * hostdir.c and qemu.c's guest workflow arguments (issue 19): qemu.share's
 * DIR[:TAG][:ro][:9p] forms, their tags, QEMU's virtiofs and 9p
 * arguments with the shared memory backend, -snapshot and the gdb stub.
 */
#include <stdlib.h>
#include <string.h>

#include "qrun.h"
#include "unit.h"

START_TEST(test_parse_forms)
{
	struct hostdir d;
	char why[256];

	ck_assert_int_eq(hostdir_parse("/src", 0, &d, why, sizeof(why)), 0);
	ck_assert_str_eq(d.path, "/src");
	ck_assert_str_eq(d.tag, "qrun0");
	ck_assert(!d.ro && d.fs == HOSTDIR_VIRTIOFS);
	ck_assert_int_eq(hostdir_parse("/src:ro", 2, &d, why, sizeof(why)), 0);
	ck_assert_str_eq(d.tag, "qrun2");
	ck_assert(d.ro);
	ck_assert_int_eq(hostdir_parse("rel/dir:data:ro:9p", 0, &d, why,
	    sizeof(why)), 0);
	ck_assert_str_eq(d.path, "rel/dir");
	ck_assert_str_eq(d.tag, "data");
	ck_assert(d.ro && d.fs == HOSTDIR_9P);
	/* a colon inside the path stays the path's */
	ck_assert_int_eq(hostdir_parse("/a:b/c", 0, &d, why, sizeof(why)), 0);
	ck_assert_str_eq(d.path, "/a:b/c");
	ck_assert_str_eq(d.tag, "qrun0");
}
END_TEST

START_TEST(test_parse_bad)
{
	struct hostdir d;
	char why[256];

	ck_assert_int_eq(hostdir_parse("", 0, &d, why, sizeof(why)), -EINVAL);
	ck_assert_int_eq(hostdir_parse(":ro", 0, &d, why, sizeof(why)),
	    -EINVAL);
	ck_assert_int_eq(hostdir_parse("/x:bad tag", 0, &d, why, sizeof(why)),
	    -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "tag"));
	ck_assert_int_eq(hostdir_parse("/x:abcdefghijabcdefghijabcdefghijab",
	    0, &d, why, sizeof(why)), -EINVAL);
	/* virtiofsd's -o source= cannot hold a comma; QEMU's 9p can */
	ck_assert_int_eq(hostdir_parse("/a,b", 0, &d, why, sizeof(why)),
	    -EINVAL);
	ck_assert_int_eq(hostdir_parse("/a,b:9p", 0, &d, why, sizeof(why)), 0);
}
END_TEST

START_TEST(test_tags_unique)
{
	struct strv specs = { 0 }, why = { 0 };
	struct hostdirs dirs;

	strv_push(&specs, "/a");
	strv_push(&specs, "/b");
	ck_assert_int_eq(hostdirs_make(&specs, &dirs, &why), 0);
	ck_assert_str_eq(dirs.d[1].tag, "qrun1");
	strv_push(&specs, "/c:qrun0");
	ck_assert_int_eq(hostdirs_make(&specs, &dirs, &why), -EINVAL);
	ck_assert_uint_eq(why.n, 1);
	ck_assert_ptr_nonnull(strstr(why.v[0], "qrun0 used twice"));
	strv_free(&specs);
	strv_free(&why);
}
END_TEST

/* The argv of a -kernel boot with the workflow's options. */
static void
argv_of(struct config *c, struct qemu_opts *o, struct strv *argv)
{
	struct netplan p;
	struct strv d = { 0 };

	ck_assert_int_eq(netplan_make(c, "jack", &p, &d), 0);
	o->image = "/img/k";
	o->type = IMG_BZIMAGE;
	o->accel = "tcg";
	qemu_argv(c, &p, o, argv);
	strv_free(&d);
}

START_TEST(test_argv_shares)
{
	struct config c;
	struct strv specs = { 0 }, why = { 0 }, argv = { 0 };
	struct hostdirs dirs;
	int fds[SHARE_MAX] = { 9, -1 };
	struct qemu_opts o = { .dirs = &dirs, .dir_fds = fds, .memory = 512 };
	char *line;

	config_init(&c);
	c.net_mode = NET_NONE;
	strv_push(&specs, "/a");
	strv_push(&specs, "/b:ro:9p");
	ck_assert_int_eq(hostdirs_make(&specs, &dirs, &why), 0);
	argv_of(&c, &o, &argv);
	line = strv_join(&argv, " ");
	ck_assert_ptr_nonnull(strstr(line, " -m 512 "));
	ck_assert_ptr_nonnull(strstr(line, "-object memory-backend-memfd,"
	    "id=mem0,size=512M,share=on -machine memory-backend=mem0"));
	ck_assert_ptr_nonnull(strstr(line, "-chardev socket,id=fs0,fd=9 "
	    "-device vhost-user-fs-pci,chardev=fs0,tag=qrun0"));
	ck_assert_ptr_nonnull(strstr(line, "-fsdev local,id=fs1,path=/b,"
	    "security_model=none,readonly=on -device virtio-9p-pci,fsdev=fs1,"
	    "mount_tag=qrun1"));
	free(line);
	strv_free(&argv);
	strv_free(&specs);
	strv_free(&why);
	config_free(&c);
}
END_TEST

START_TEST(test_argv_snapshot_gdb)
{
	struct config c;
	struct strv argv = { 0 };
	struct qemu_opts o = { .gdb_fd = 7, .gdb_port = 4321 };
	char *line;

	config_init(&c);
	c.net_mode = NET_NONE;
	c.qemu_snapshot = true;
	c.test_gdb_wait = true;
	argv_of(&c, &o, &argv);
	line = strv_join(&argv, " ");
	ck_assert_ptr_nonnull(strstr(line, " -snapshot "));
	ck_assert_ptr_nonnull(strstr(line, "-chardev socket,id=gdb0,fd=7,"
	    "server=on,wait=off -gdb chardev:gdb0 -S"));
	ck_assert_ptr_null(strstr(line, "memory-backend"));
	free(line);
	strv_free(&argv);
	o.gdb_fd = 0;			/* --dry-run: the pasteable form */
	c.test_gdb_wait = false;
	argv_of(&c, &o, &argv);
	line = strv_join(&argv, " ");
	ck_assert_ptr_nonnull(strstr(line, "-gdb tcp:127.0.0.1:4321"));
	ck_assert_ptr_null(strstr(line, " -S"));
	free(line);
	strv_free(&argv);
	config_free(&c);
}
END_TEST

START_TEST(test_hint)
{
	struct hostdir d;
	char why[128], *h;

	ck_assert_int_eq(hostdir_parse("/src:ro", 0, &d, why, sizeof(why)), 0);
	h = hostdir_hint(&d);
	ck_assert_str_eq(h, "share /src (read-only) -> guest: mount -t "
	    "virtiofs -o ro qrun0 /mnt");
	free(h);
	h = gdb_hint("/k/arch/x86/boot/bzImage", true, 1234, true);
	ck_assert_ptr_nonnull(strstr(h, "gdb vmlinux -ex 'target remote "
	    "127.0.0.1:1234'"));
	ck_assert_ptr_nonnull(strstr(h, "the guest waits"));
	free(h);
}
END_TEST

/* The keys: test.gdb a port, "auto" or -1; qemu.share each element's
 * shape; test.ktap/test.junit make a batch run. */
START_TEST(test_keys)
{
	struct config c;
	struct strv d = { 0 };

	config_init(&c);
	ck_assert_int_eq(c.test_gdb, GDB_OFF);
	ck_assert_int_eq(profile_set(&c, "test.gdb", "auto", NULL, &d), 0);
	ck_assert_int_eq(c.test_gdb, GDB_AUTO);
	ck_assert_int_eq(profile_set(&c, "test.gdb", "1234", NULL, &d), 0);
	ck_assert_int_eq(c.test_gdb, 1234);
	ck_assert_int_eq(profile_set(&c, "test.gdb", "70000", NULL, &d),
	    -EINVAL);
	ck_assert_int_eq(profile_set(&c, "test.gdb", "soon", NULL, &d),
	    -EINVAL);
	ck_assert_int_eq(profile_set(&c, "qemu.share+", "/x:bad tag", NULL,
	    &d), -EINVAL);
	ck_assert_int_eq(profile_set(&c, "qemu.share+", "/x:ro", NULL, &d), 0);
	ck_assert_uint_eq(c.qemu_share.n, 1);
	ck_assert(!c.batch);
	ck_assert_int_eq(profile_set(&c, "test.ktap", "true", NULL, &d), 0);
	ck_assert(c.batch);
	ck_assert(profile_key_list(profile_key_index("qemu.share")));
	ck_assert(!profile_key_list(profile_key_index("test.gdb")));
	strv_free(&d);
	config_free(&c);
}
END_TEST

Suite *
hostdir_suite(void)
{
	Suite *s = suite_create("hostdir");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_parse_forms);
	tcase_add_test(tc, test_parse_bad);
	tcase_add_test(tc, test_tags_unique);
	tcase_add_test(tc, test_argv_shares);
	tcase_add_test(tc, test_argv_snapshot_gdb);
	tcase_add_test(tc, test_hint);
	tcase_add_test(tc, test_keys);
	suite_add_tcase(s, tc);
	return s;
}
