/*
 * image_test.c - image type detection on fixtures generated at test time
 * in a private mkdtemp directory (no binaries in the repository): one file
 * per type, the precedence between overlapping signatures, and the files
 * that must be refused. The directory is made once per run (unchecked
 * fixture) so that it is removed even when a test fails.
 */
#include <errno.h>
#include <ftw.h>
#include <glob.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "qrun.h"
#include "unit.h"

#define MBTEST_ELF SRCDIR "/.cache/guests/mbtest.elf"
#define GUEST_KERNEL SRCDIR "/.cache/guests/vmlinuz"

static char dir[PATH_MAX];

static void
setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/qrun-image.XXXXXX", tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static void
teardown(void)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = v >> 24;
}

/* Write size bytes of buf (zero padded when buf is shorter) as dir/name;
 * returns the path in a static buffer. */
static const char *
fixture(const char *name, const uint8_t *buf, size_t len, size_t size)
{
	static char path[PATH_MAX + 64];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, buf, len < size ? len : size),
	    (ssize_t)(len < size ? len : size));
	ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
	close(fd);
	return path;
}

/* Detect and expect type t. */
static void
expect_type(const char *path, enum image_type t)
{
	enum image_type got = (enum image_type)-1;
	int r = image_detect(path, &got);

	ck_assert_msg(r == 0 && got == t, "%s: got %d (%s), want %s", path, r,
	    r == 0 ? image_type_name(got) : strerror(-r), image_type_name(t));
}

static void
expect_err(const char *path, int err)
{
	enum image_type got;
	int r = image_detect(path, &got);

	ck_assert_msg(r == -err, "%s: got %d (%s), want -%d (%s)", path, r,
	    r == 0 ? image_type_name(got) : strerror(-r), err, strerror(err));
}

static void
mb1_header(uint8_t *p, uint32_t flags, bool good)
{
	put32(p, 0x1BADB002u);
	put32(p + 4, flags);
	put32(p + 8, -(0x1BADB002u + flags) + (good ? 0 : 1));
}

static void
mb2_header(uint8_t *p, bool good)
{
	put32(p, 0xE85250D6u);
	put32(p + 4, 0);			/* i386 */
	put32(p + 8, 24);			/* fields + end tag */
	put32(p + 12, -(0xE85250D6u + 0 + 24) + (good ? 0 : 1));
	/* end tag: type 0, flags 0, size 8: already zero but size */
	p[20] = 8;
}

static void
elf_header(uint8_t *p, int class)
{
	memcpy(p, "\x7f" "ELF", 4);
	p[4] = class;
	p[5] = 1;				/* little endian */
	p[6] = 1;				/* EV_CURRENT */
}

START_TEST(test_bzimage)
{
	static uint8_t b[4096];

	b[510] = 0x55;
	b[511] = 0xAA;				/* also a boot sector */
	memcpy(b + 0x202, "HdrS", 4);
	expect_type(fixture("bzImage", b, sizeof(b), sizeof(b)), IMG_BZIMAGE);
}
END_TEST

START_TEST(test_multiboot1)
{
	static uint8_t b[16384];

	/* An ELF carrying a multiboot header is a multiboot kernel. */
	elf_header(b, 1);
	mb1_header(b + 0x1000, 0x00000003, true);
	expect_type(fixture("mb.elf", b, sizeof(b), sizeof(b)), IMG_MULTIBOOT);

	/* The last aligned place where all 12 bytes fit in 8192. */
	memset(b, 0, sizeof(b));
	mb1_header(b + 8192 - 12, 0, true);
	expect_type(fixture("mb-last", b, sizeof(b), sizeof(b)),
	    IMG_MULTIBOOT);
	/* One step further, the header crosses 8192: not multiboot. */
	memset(b, 0, sizeof(b));
	mb1_header(b + 8192 - 8, 0, true);
	expect_err(fixture("mb-far", b, sizeof(b), sizeof(b)), EINVAL);
	/* Both headers: multiboot 1, the one QEMU boots. */
	memset(b, 0, sizeof(b));
	mb2_header(b + 0x100, true);
	mb1_header(b + 0x200, 0, true);
	expect_type(fixture("mb-both", b, sizeof(b), sizeof(b)),
	    IMG_MULTIBOOT);
}
END_TEST

START_TEST(test_multiboot_broken)
{
	static uint8_t b[16384];

	/* A wrong checksum is no multiboot header: the ELF stays an ELF, a
	 * bare file is unknown. */
	elf_header(b, 1);
	mb1_header(b + 0x1000, 0x00000003, false);
	expect_type(fixture("badsum.elf", b, sizeof(b), sizeof(b)), IMG_ELF);
	memset(b, 0, 64);
	expect_err(fixture("badsum", b, sizeof(b), sizeof(b)), EINVAL);

	/* The magic at an unaligned offset does not count either. */
	memset(b, 0, sizeof(b));
	elf_header(b, 1);
	mb1_header(b + 0x1002, 0, true);
	expect_type(fixture("unaligned.elf", b, sizeof(b), sizeof(b)),
	    IMG_ELF);
	memset(b, 0, sizeof(b));
	mb1_header(b + 0x1001, 0, true);
	expect_err(fixture("unaligned", b, sizeof(b), sizeof(b)), EINVAL);
}
END_TEST

START_TEST(test_multiboot2)
{
	static uint8_t b[40000];

	elf_header(b, 2);
	mb2_header(b + 0x1008, true);
	expect_type(fixture("mb2.elf", b, sizeof(b), sizeof(b)),
	    IMG_MULTIBOOT2);
	/* 8-byte alignment is required: at 0x1004 it is just an ELF. */
	memset(b + 0x1000, 0, 64);
	mb2_header(b + 0x1004, true);
	expect_type(fixture("mb2-unaligned.elf", b, sizeof(b), sizeof(b)),
	    IMG_ELF);
	/* Bad checksum. */
	memset(b + 0x1000, 0, 64);
	mb2_header(b + 0x1008, false);
	expect_type(fixture("mb2-badsum.elf", b, sizeof(b), sizeof(b)),
	    IMG_ELF);
	/* Beyond the first 32768 bytes. */
	memset(b + 0x1000, 0, 64);
	mb2_header(b + 32768, true);
	expect_type(fixture("mb2-far.elf", b, sizeof(b), sizeof(b)), IMG_ELF);
}
END_TEST

START_TEST(test_elf)
{
	static uint8_t b[64];

	elf_header(b, 2);
	expect_type(fixture("vmlinux", b, sizeof(b), 8192), IMG_ELF);
	b[4] = 0;				/* ELFCLASSNONE */
	expect_err(fixture("badclass", b, sizeof(b), 8192), EINVAL);
}
END_TEST

START_TEST(test_disks)
{
	static uint8_t b[0x9000];

	memcpy(b, "QFI\xfb\0\0\0\3", 8);
	expect_type(fixture("disk.qcow2", b, sizeof(b), 65536), IMG_QCOW2);

	memset(b, 0, sizeof(b));
	memcpy(b + 0x8000, "\x01" "CD001\x01", 7);
	expect_type(fixture("cd.iso", b, sizeof(b), sizeof(b)), IMG_ISO);
	b[510] = 0x55;				/* hybrid ISO: still ISO */
	b[511] = 0xAA;
	b[0x1BE] = 0x80;
	expect_type(fixture("hybrid.iso", b, sizeof(b), sizeof(b)), IMG_ISO);

	memset(b + 0x8000, 0, 16);		/* now a plain MBR disk */
	b[0x1BE + 4] = 0x83;
	expect_type(fixture("mbr.img", b, sizeof(b), 1024), IMG_MBR);
	b[0x1BE + 16] = 0x42;			/* insane status byte */
	expect_err(fixture("notmbr", b, sizeof(b), 1024), EINVAL);
	/* ... but as big as a disk, it is taken as a raw disk. */
	expect_type(fixture("notmbr.img", b, sizeof(b), 1 << 20), IMG_RAW);
}
END_TEST

START_TEST(test_raw)
{
	static const uint8_t zero[1];

	expect_type(fixture("blank.img", zero, 0, 1 << 20), IMG_RAW);
	expect_type(fixture("big.img", zero, 0, 64 << 20), IMG_RAW);
	expect_err(fixture("odd.img", zero, 0, (1 << 20) + 1), EINVAL);
	expect_err(fixture("small.img", zero, 0, 512 * 1024), EINVAL);
}
END_TEST

START_TEST(test_refused)
{
	static const char text[] = "This is not a kernel. It is a text file "
	    "of exactly one hundred bytes, a README given by mistake!!!!\n";
	char path[PATH_MAX + 64];

	ck_assert_uint_eq(sizeof(text) - 1, 100);
	expect_err(fixture("README", (const uint8_t *)text, 100, 100), EINVAL);
	expect_err(fixture("empty", (const uint8_t *)text, 0, 0), ENODATA);
	expect_err(dir, EISDIR);
	snprintf(path, sizeof(path), "%s/missing", dir);
	expect_err(path, ENOENT);
	/* A FIFO must be refused, not block. */
	snprintf(path, sizeof(path), "%s/fifo", dir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	expect_err(path, EINVAL);
}
END_TEST

/* Only added when not root: root reads a mode 000 file anyway. */
START_TEST(test_unreadable)
{
	const char *p = fixture("secret", (const uint8_t *)"x", 1, 1 << 20);

	ck_assert_int_eq(chmod(p, 0), 0);
	expect_err(p, EACCES);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(image_type_name(IMG_BZIMAGE), "Linux bzImage");
	ck_assert_str_eq(image_type_name(IMG_MULTIBOOT), "multiboot kernel");
	ck_assert_str_eq(image_type_name(IMG_MULTIBOOT2), "multiboot2 kernel");
	ck_assert_str_eq(image_type_name(IMG_ELF), "ELF kernel");
	ck_assert_str_eq(image_type_name(IMG_QCOW2), "qcow2 disk");
	ck_assert_str_eq(image_type_name(IMG_ISO), "ISO 9660 image");
	ck_assert_str_eq(image_type_name(IMG_MBR), "MBR disk");
	ck_assert_str_eq(image_type_name(IMG_RAW), "raw disk");
	ck_assert(image_is_kernel(IMG_BZIMAGE));
	ck_assert(image_is_kernel(IMG_MULTIBOOT));
	ck_assert(image_is_kernel(IMG_MULTIBOOT2));
	ck_assert(image_is_kernel(IMG_ELF));
	ck_assert(!image_is_kernel(IMG_QCOW2));
	ck_assert(!image_is_kernel(IMG_ISO));
	ck_assert(!image_is_kernel(IMG_MBR));
	ck_assert(!image_is_kernel(IMG_RAW));
}
END_TEST

/* The real multiboot test guest built by scripts/build-guests. */
START_TEST(test_real_mbtest)
{
	expect_type(MBTEST_ELF, IMG_MULTIBOOT);
}
END_TEST

/* The test guests' kernel, when scripts/build-guests has fetched it. */
START_TEST(test_real_guest_kernel)
{
	expect_type(GUEST_KERNEL, IMG_BZIMAGE);
}
END_TEST

/* The host's own kernel, when it has one we may read. */
START_TEST(test_real_vmlinuz)
{
	glob_t g;

	ck_assert_int_eq(glob("/boot/vmlinuz-*", 0, NULL, &g), 0);
	for (size_t i = 0; i < g.gl_pathc; i++)
		if (access(g.gl_pathv[i], R_OK) == 0)
			expect_type(g.gl_pathv[i], IMG_BZIMAGE);
	globfree(&g);
}
END_TEST

static bool
vmlinuz_readable(void)
{
	glob_t g;
	bool ok = false;

	if (glob("/boot/vmlinuz-*", 0, NULL, &g) == 0)
		for (size_t i = 0; i < g.gl_pathc && !ok; i++)
			ok = access(g.gl_pathv[i], R_OK) == 0;
	globfree(&g);
	return ok;
}

Suite *
image_suite(void)
{
	Suite *s = suite_create("image");
	TCase *tc = tcase_create("detect");
	TCase *real = tcase_create("real");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_bzimage);
	tcase_add_test(tc, test_multiboot1);
	tcase_add_test(tc, test_multiboot_broken);
	tcase_add_test(tc, test_multiboot2);
	tcase_add_test(tc, test_elf);
	tcase_add_test(tc, test_disks);
	tcase_add_test(tc, test_raw);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_names);
	/* chmod 000 does not stop root (CAP_DAC_OVERRIDE): skip as root. */
	if (geteuid() != 0)
		tcase_add_test(tc, test_unreadable);
	else
		UNIT_SKIP(1, "image: unreadable file: running as root");
	suite_add_tcase(s, tc);

	if (access(MBTEST_ELF, F_OK) == 0)
		tcase_add_test(real, test_real_mbtest);
	else
		UNIT_SKIP(1, "image: %s not built (make guests)", MBTEST_ELF);
	if (access(GUEST_KERNEL, R_OK) == 0)
		tcase_add_test(real, test_real_guest_kernel);
	else
		UNIT_SKIP(1, "image: %s not built (make guests)", GUEST_KERNEL);
	if (vmlinuz_readable())
		tcase_add_test(real, test_real_vmlinuz);
	else
		UNIT_SKIP(1, "image: no readable /boot/vmlinuz-*");
	suite_add_tcase(s, real);
	return s;
}
