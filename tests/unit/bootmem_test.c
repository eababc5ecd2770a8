/*
 * bootmem_test.c - qemu.memory = "auto": what bootmem.c reads from a
 * kernel and an initrd (fixtures built here in a private mkdtemp
 * directory: cpio archives, zstd frames made of raw and RLE blocks, a
 * gzip head) and qemu_memory_auto's sum, checked against the sizes
 * measured with the Debian 6.1 cloud kernel under TCG.
 */
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "qrun.h"
#include "unit.h"

#define MIB (1024 * 1024ULL)

static char dir[PATH_MAX];

static void
setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/qrun-bootmem.XXXXXX",
	    tmp ? tmp : "/tmp");
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

/* A growing file image. */
struct buf {
	uint8_t b[8192];
	size_t n;
};

static void
add(struct buf *b, const void *p, size_t n)
{
	ck_assert_uint_le(b->n + n, sizeof(b->b));
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void
add_zeros(struct buf *b, size_t n)
{
	ck_assert_uint_le(b->n + n, sizeof(b->b));
	memset(b->b + b->n, 0, n);
	b->n += n;
}

/* A newc cpio entry: a file of size bytes (the data is written as zeros
 * up to 64 bytes; the walk reads only headers). */
static void
add_cpio(struct buf *b, const char *name, unsigned size)
{
	char h[128];
	size_t start = b->n, nsz = strlen(name) + 1;

	snprintf(h, sizeof(h), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X"
	    "%08X%08X%08zX%08X", 1u, 0100644u, 0u, 0u, 1u, 0u, size, 0u, 0u,
	    0u, 0u, nsz, 0u);
	add(b, h, 110);
	add(b, name, nsz);
	add_zeros(b, (4 - (b->n - start) % 4) % 4);
	if (size <= 64)
		add_zeros(b, (size + 3) & ~3u);
	else
		b->n += (size + 3) & ~3u;	/* past the end: a hole */
}

static void
add_le(struct buf *b, uint64_t v, int n)
{
	uint8_t x[8];

	for (int i = 0; i < n; i++)
		x[i] = (uint8_t)(v >> (8 * i));
	add(b, x, (size_t)n);
}

/* A zstd frame of RLE blocks of 128 KiB (the last one shorter) that
 * records its content size, or not (fcs false). */
static void
add_zstd(struct buf *b, uint64_t content, bool fcs)
{
	add(b, "\x28\xb5\x2f\xfd", 4);
	if (fcs) {
		add(b, "\xa0", 1);	/* single segment, 4-byte size */
		add_le(b, content, 4);
	} else
		add(b, "\x00\x58", 2);	/* window descriptor, no size */
	while (content > 0) {
		uint64_t n = content > 131072 ? 131072 : content;

		content -= n;
		add_le(b, (content == 0) | 1 << 1 | n << 3, 3);
		add(b, "\x00", 1);
	}
}

/* Write b as dir/name (its size is b->n, holes read as zeros). */
static const char *
put(const char *name, const struct buf *b)
{
	static char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	ck_assert_uint_eq(fwrite(b->b, 1, b->n, f), b->n);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

static void
unpacked_is(const struct buf *b, uint64_t want)
{
	uint64_t size, u;

	ck_assert_int_eq(bootmem_initrd(put("initrd", b), &size, &u), 0);
	ck_assert_uint_eq(size, b->n);
	ck_assert_uint_eq(u, want);
}

/* A plain cpio archive: its files, each in whole pages. */
START_TEST(test_cpio)
{
	struct buf b = { .n = 0 };

	add_cpio(&b, "init", 5000);
	add_cpio(&b, "etc", 0);
	add_cpio(&b, "x", 10);
	add_cpio(&b, "TRAILER!!!", 0);
	unpacked_is(&b, 8192 + 4096);
}
END_TEST

/* zstd frames say what they unpack to; an early cpio, padding and
 * several frames add up; a skippable frame adds nothing. */
START_TEST(test_zstd)
{
	struct buf b = { .n = 0 };

	add_zstd(&b, 300000, true);
	unpacked_is(&b, 300000);
	b.n = 0;
	add_cpio(&b, "kernel/x86/microcode/GenuineIntel.bin", 7000);
	add_cpio(&b, "TRAILER!!!", 0);
	add_zeros(&b, 508);
	add_zstd(&b, 53430784 / 64, true);
	add(&b, "\x50\x2a\x4d\x18", 4);
	add_le(&b, 3, 4);
	add(&b, "abc", 3);
	add_zstd(&b, 1000, true);
	unpacked_is(&b, 8192 + 53430784 / 64 + 1000);
}
END_TEST

/* What does not record its size counts BOOTMEM_RATIO times its bytes:
 * gzip, a zstd frame without the size, a truncated frame. */
START_TEST(test_estimated)
{
	struct buf b = { .n = 0 };
	size_t at;

	add(&b, "\x1f\x8b\x08\x00", 4);
	add_zeros(&b, 96);
	unpacked_is(&b, 100 * BOOTMEM_RATIO);
	b.n = 0;
	add_cpio(&b, "init", 100);
	add_cpio(&b, "TRAILER!!!", 0);
	at = b.n;
	add_zstd(&b, 200000, false);
	unpacked_is(&b, 4096 + (b.n - at) * BOOTMEM_RATIO);
	b.n = at;
	add_zstd(&b, 200000, true);
	b.n -= 2;		/* the last block cut short */
	unpacked_is(&b, 4096 + (b.n - at) * BOOTMEM_RATIO);
	b.n = 0;
	add_cpio(&b, "init", 100);	/* no trailer: not a whole archive */
	unpacked_is(&b, b.n * BOOTMEM_RATIO);
}
END_TEST

/* A bzImage's init_size; an old one or another kernel: its size. */
START_TEST(test_kernel)
{
	struct buf b = { .n = 0 };
	uint64_t k;

	add_zeros(&b, 0x1000);
	memcpy(b.b + 0x202, "HdrS", 4);
	memcpy(b.b + 0x206, "\x0f\x02", 2);
	memcpy(b.b + 0x260, "\x00\x80\x37\x03", 4);	/* 53968896 */
	ck_assert_int_eq(bootmem_kernel(put("k", &b), IMG_BZIMAGE, &k), 0);
	ck_assert_uint_eq(k, 53968896);
	memcpy(b.b + 0x206, "\x09\x02", 2);
	ck_assert_int_eq(bootmem_kernel(put("k", &b), IMG_BZIMAGE, &k), 0);
	ck_assert_uint_eq(k, 4 * 0x1000);
	ck_assert_int_eq(bootmem_kernel(put("k", &b), IMG_MULTIBOOT, &k), 0);
	ck_assert_uint_eq(k, 0x1000);
	ck_assert_int_eq(bootmem_kernel("/nonexistent/k", IMG_BZIMAGE, &k),
	    -ENOENT);
}
END_TEST

static long
mem_auto(const char *append, uint64_t kernel, uint64_t initrd,
    uint64_t unpacked)
{
	struct config c;
	long m;

	config_init(&c);
	free(c.qemu_append);
	c.qemu_append = xstrdup(append);
	m = qemu_memory_auto(&c, kernel, initrd, unpacked);
	config_free(&c);
	return m;
}

/*
 * The sum against what booted (least memory that reached initramfs-
 * tools' IP-Config, 4 MiB steps; kernel init_size 53968896): Debian's
 * own initrd (zstd, 14255665 -> 53430784) 140 MiB with root=/dev/nfs,
 * 164 with boot=nfs (rootfs a tmpfs); with the modules tree added (zstd
 * 25102587 -> 107740672) 206 and 284; that one uncompressed 284 and 361.
 */
START_TEST(test_formula)
{
	const uint64_t k = 53968896;

	ck_assert_int_eq(mem_auto("console=ttyS0", 0, 0, 0), 256);
	ck_assert_int_eq(mem_auto("root=/dev/nfs", k, 14255665, 53430784),
	    256);
	ck_assert_int_eq(mem_auto("boot=nfs", k, 14255665, 53430784), 256);
	ck_assert_int_eq(mem_auto("root=/dev/nfs", k, 25102587, 107740672),
	    256);
	ck_assert_int_eq(mem_auto("boot=nfs", k, 25102587, 107740672), 352);
	ck_assert_int_eq(mem_auto("root=/dev/nfs", k, 107740672, 107740672),
	    352);
	ck_assert_int_eq(mem_auto("boot=nfs", k, 107740672, 107740672), 448);
	ck_assert_int_eq(mem_auto("root=/dev/sda rootfstype=tmpfs", k,
	    25102587, 107740672), 352);
	/* a 31 MB gzip initrd, its unpacked size estimated */
	ck_assert_int_eq(mem_auto("root=/dev/nfs", k, 31 * 1000000,
	    31 * 1000000ULL * BOOTMEM_RATIO), 352);
	ck_assert_int_eq(mem_auto("", UINT64_MAX, UINT64_MAX, UINT64_MAX),
	    1048576);
}
END_TEST

Suite *
bootmem_suite(void)
{
	Suite *s = suite_create("bootmem");
	TCase *tc = tcase_create("core");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_cpio);
	tcase_add_test(tc, test_zstd);
	tcase_add_test(tc, test_estimated);
	tcase_add_test(tc, test_kernel);
	tcase_add_test(tc, test_formula);
	suite_add_tcase(s, tc);
	return s;
}
