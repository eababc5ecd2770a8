/*
 * image.c - what kind of image is this? Decided by content, never by name,
 * so that "qrun bzImage", "qrun kernel.elf" and "qrun disk.img" pick
 * -kernel or a drive by themselves. Reads a bounded header with pread and
 * prints nothing.
 *
 * Order of the checks, first match wins:
 *   qcow2        "QFI\xfb" at 0
 *   bzImage      "HdrS" at 0x202 (before MBR: a bzImage ends its first
 *                sector with 0x55 0xAA)
 *   multiboot 1  header in the first 8192 bytes, 4-byte aligned
 *   multiboot 2  header in the first 32768 bytes, 8-byte aligned
 *                (a kernel with both headers counts as multiboot 1, the
 *                one QEMU can boot)
 *   ELF          "\x7fELF" at 0, class 32 or 64 bit (after multiboot: a
 *                multiboot kernel is usually an ELF file)
 *   ISO 9660     "CD001" at 0x8001 (before MBR: hybrid ISOs carry an MBR)
 *   MBR disk     0x55 0xAA at 510 and four partition entries whose status
 *                byte is 0x00 or 0x80
 *   raw disk     no signature above, size a multiple of 512 and at least
 *                1 MiB: a file system image, a blank disk, a boot sector
 *                without a partition table. Smaller or odd-sized files
 *                without a signature are not disks, most likely a wrong
 *                argument, and get -EINVAL.
 *
 * QEMU 7.2's -kernel boots a Linux bzImage, a multiboot 1 kernel (32-bit
 * ELF or a.out kludge) and an ELF with a PVH entry note. It does NOT boot
 * multiboot 2 kernels, nor a 64-bit ELF without one of those ("Cannot load
 * x86-64 image, give a 32bit one"). They are still detected here, so the
 * command layer can refuse them with a clear line instead of a QEMU error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "qrun.h"

#define HEAD_LEN	0x8800		/* covers ISO 0x8001 and multiboot 2 */
#define MB1_MAGIC	0x1BADB002u
#define MB1_SEARCH	8192
#define MB2_MAGIC	0xE85250D6u
#define MB2_SEARCH	32768
#define SECTOR		512
#define RAW_MIN		(1024 * 1024)

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static bool
has(const uint8_t *buf, size_t n, size_t off, const char *sig, size_t len)
{
	return off + len <= n && memcmp(buf + off, sig, len) == 0;
}

/*
 * Multiboot 1: magic, flags, checksum, with magic + flags + checksum == 0
 * mod 2^32; the 12 bytes lie completely within the first 8192 bytes.
 */
static bool
is_multiboot1(const uint8_t *buf, size_t n)
{
	size_t end = n < MB1_SEARCH ? n : MB1_SEARCH;

	for (size_t off = 0; off + 12 <= end; off += 4) {
		const uint8_t *h = buf + off;

		if (le32(h) == MB1_MAGIC &&
		    (uint32_t)(le32(h) + le32(h + 4) + le32(h + 8)) == 0)
			return true;
	}
	return false;
}

/*
 * Multiboot 2: magic, architecture, header_length, checksum, the four
 * summing to 0 mod 2^32; the whole header (header_length bytes, at least
 * the 16 of these fields) lies within the first 32768 bytes.
 */
static bool
is_multiboot2(const uint8_t *buf, size_t n)
{
	size_t end = n < MB2_SEARCH ? n : MB2_SEARCH;

	for (size_t off = 0; off + 16 <= end; off += 8) {
		const uint8_t *h = buf + off;
		uint32_t len = le32(h + 8);

		if (le32(h) != MB2_MAGIC || len < 16 || len > MB2_SEARCH - off)
			continue;
		if ((uint32_t)(le32(h) + le32(h + 4) + len + le32(h + 12)) == 0)
			return true;
	}
	return false;
}

/* A classic partition table: boot signature and plausible status bytes. */
static bool
is_mbr(const uint8_t *buf, size_t n)
{
	if (n < SECTOR || buf[510] != 0x55 || buf[511] != 0xAA)
		return false;
	for (int i = 0; i < 4; i++) {
		uint8_t status = buf[0x1BE + 16 * i];

		if (status != 0x00 && status != 0x80)
			return false;
	}
	return true;
}

/* The checks of the comment at the top, on n bytes read of a file of
 * size bytes. */
static int
classify(const uint8_t *buf, size_t n, uint64_t size, enum image_type *type)
{
	if (has(buf, n, 0, "QFI\xfb", 4))
		*type = IMG_QCOW2;
	else if (has(buf, n, 0x202, "HdrS", 4))
		*type = IMG_BZIMAGE;
	else if (is_multiboot1(buf, n))
		*type = IMG_MULTIBOOT;
	else if (is_multiboot2(buf, n))
		*type = IMG_MULTIBOOT2;
	else if (has(buf, n, 0, "\x7f" "ELF", 4) &&
	    (buf[4] == 1 || buf[4] == 2))
		*type = IMG_ELF;
	else if (has(buf, n, 0x8001, "CD001", 5))
		*type = IMG_ISO;
	else if (is_mbr(buf, n))
		*type = IMG_MBR;
	else if (size >= RAW_MIN && size % SECTOR == 0)
		*type = IMG_RAW;
	else
		return -EINVAL;
	return 0;
}

/* Size of a regular file or block device; anything else is no image. */
static int
image_size(int fd, const struct stat *st, uint64_t *size)
{
	if (S_ISDIR(st->st_mode))
		return -EISDIR;
	if (S_ISREG(st->st_mode)) {
		*size = (uint64_t)st->st_size;
		return 0;
	}
	if (S_ISBLK(st->st_mode))
		return ioctl(fd, BLKGETSIZE64, size) < 0 ? -errno : 0;
	return -EINVAL;
}

/*
 * Detect the type of the image at path. O_NONBLOCK so that a FIFO given
 * by mistake cannot hang us; it is then refused as "not a file".
 */
int
image_detect(const char *path, enum image_type *type)
{
	uint8_t *buf = NULL;
	struct stat st;
	uint64_t size = 0;
	ssize_t n;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if ((r = image_size(fd, &st, &size)) < 0)
		goto out;
	if (size == 0) {
		r = -ENODATA;
		goto out;
	}
	if ((buf = malloc(HEAD_LEN)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if ((n = read_all(fd, buf, HEAD_LEN)) < 0)
		r = (int)n;
	else
		r = n == 0 ? -ENODATA : classify(buf, (size_t)n, size, type);
out:
	free(buf);
	close(fd);
	return r;
}

const char *
image_type_name(enum image_type type)
{
	switch (type) {
	case IMG_BZIMAGE:	return "Linux bzImage";
	case IMG_MULTIBOOT:	return "multiboot kernel";
	case IMG_MULTIBOOT2:	return "multiboot2 kernel";
	case IMG_ELF:		return "ELF kernel";
	case IMG_QCOW2:		return "qcow2 disk";
	case IMG_ISO:		return "ISO 9660 image";
	case IMG_MBR:		return "MBR disk";
	case IMG_RAW:		return "raw disk";
	}
	return "unknown image type";
}

/* Booted with -kernel (as opposed to a drive). */
bool
image_is_kernel(enum image_type type)
{
	return type == IMG_BZIMAGE || type == IMG_MULTIBOOT ||
	    type == IMG_MULTIBOOT2 || type == IMG_ELF;
}
