/*
 * bootmem.c - what a -kernel boot needs in memory, read from its files:
 * the kernel's own footprint (a bzImage says it: init_size in its boot
 * header) and the initrd's size and what it unpacks to. qemu.c turns
 * these into qemu.memory = "auto" (qemu_memory_auto, pure). Reads only,
 * prints nothing.
 *
 * An initrd is a series of segments, as the kernel unpacks it
 * (init/initramfs.c): uncompressed cpio archives (an early microcode
 * archive, say) and compressed ones, with zero padding between them.
 * Where the data proves the unpacked size it is counted exactly: a plain
 * cpio archive by its files, a zstd frame by its Frame_Content_Size (the
 * frame's blocks are walked to find where it ends, which also checks the
 * size field belongs to a real frame). Anything else (gzip, xz, lz4, a
 * zstd frame without the size) ends the walk: the rest of the file
 * counts as BOOTMEM_RATIO times its size.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qrun.h"

#define PAGE		4096ULL
#define CPIO_HDR	110
/* Walking stops after this many headers (cpio entries, zstd blocks): the
 * rest then counts by the ratio. Bounds the time a hostile file costs. */
#define WALK_MAX	65536

/* Read exactly n bytes at off; 0 or -EINVAL (short: not a valid file). */
static int
read_at(int fd, uint64_t off, void *buf, size_t n)
{
	ssize_t r = pread(fd, buf, n, (off_t)off);

	if (r < 0)
		return -errno;
	return (size_t)r == n ? 0 : -EINVAL;
}

/* n hex digits; -1 when one is not. */
static long long
hex(const char *s, int n)
{
	long long v = 0;

	for (int i = 0; i < n; i++) {
		int c = s[i];

		if (c >= '0' && c <= '9')
			v = v * 16 + (c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v = v * 16 + (c - 'A' + 10);
		else
			return -1;
	}
	return v;
}

/*
 * A newc cpio archive at *off, up to and including its TRAILER!!! entry:
 * its files' data, each rounded up to a page (what rootfs holds), goes
 * to *u and *off moves past it. 0 or -EINVAL.
 */
static int
cpio_walk(int fd, uint64_t size, uint64_t *off, uint64_t *u)
{
	char h[CPIO_HDR], name[11];
	long long fsz, nsz;

	for (int steps = 0; steps < WALK_MAX; steps++) {
		if (read_at(fd, *off, h, CPIO_HDR) < 0 ||
		    memcmp(h, "07070", 5) != 0 || (h[5] != '1' && h[5] != '2'))
			return -EINVAL;
		fsz = hex(h + 54, 8);
		nsz = hex(h + 94, 8);
		if (fsz < 0 || nsz < 1)
			return -EINVAL;
		if (nsz == sizeof(name) && read_at(fd, *off + CPIO_HDR, name,
		    sizeof(name)) == 0 && memcmp(name, "TRAILER!!!", 11) == 0) {
			*off += (CPIO_HDR + sizeof(name) + 3) & ~3ULL;
			return *off <= size ? 0 : -EINVAL;
		}
		*off += (CPIO_HDR + (uint64_t)nsz + 3) & ~3ULL;
		*off += ((uint64_t)fsz + 3) & ~3ULL;
		*u += ((uint64_t)fsz + PAGE - 1) & ~(PAGE - 1);
		if (*off > size)
			return -EINVAL;
	}
	return -EINVAL;
}

/* Little-endian n bytes. */
static uint64_t
le(const uint8_t *b, int n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = v << 8 | b[n];
	return v;
}

/* The zstd frame header at off: its content size in *fcs (-ENODATA when
 * it does not say), the offset of its first block in *pos, its checksum
 * flag in *sum. */
static int
zstd_header(int fd, uint64_t off, uint64_t *fcs, uint64_t *pos, bool *sum)
{
	static const int did_len[] = { 0, 1, 2, 4 };
	uint8_t h[18];
	int fcs_flag, single, fcs_len, at;

	if (read_at(fd, off, h, 5) < 0 || (h[4] & 0x08))
		return -EINVAL;
	fcs_flag = h[4] >> 6;
	single = (h[4] >> 5) & 1;
	*sum = (h[4] >> 2) & 1;
	fcs_len = fcs_flag ? 1 << fcs_flag : single;
	at = 5 + !single + did_len[h[4] & 3];
	if (fcs_len == 0)
		return -ENODATA;
	if (read_at(fd, off + (uint64_t)at, h, (size_t)fcs_len) < 0)
		return -EINVAL;
	*fcs = le(h, fcs_len) + (fcs_len == 2 ? 256 : 0);
	*pos = off + (uint64_t)(at + fcs_len);
	return 0;
}

/*
 * A zstd frame at *off: its content size goes to *u and *off moves past
 * its last block (and checksum). -ENODATA when the frame does not say
 * its size, -EINVAL when it is not a whole frame.
 */
static int
zstd_walk(int fd, uint64_t size, uint64_t *off, uint64_t *u)
{
	uint64_t fcs, pos;
	uint8_t b[3];
	bool sum;
	int r;

	if ((r = zstd_header(fd, *off, &fcs, &pos, &sum)) < 0)
		return r;
	for (int steps = 0; steps < WALK_MAX; steps++) {
		uint32_t bh;

		if (read_at(fd, pos, b, 3) < 0)
			return -EINVAL;
		bh = (uint32_t)le(b, 3);
		if (((bh >> 1) & 3) == 3)	/* reserved block type */
			return -EINVAL;
		pos += 3 + (((bh >> 1) & 3) == 1 ? 1 : bh >> 3);
		if (pos > size)
			return -EINVAL;
		if (bh & 1) {
			pos += sum ? 4 : 0;
			if (pos > size)
				return -EINVAL;
			*off = pos;
			*u += fcs;
			return 0;
		}
	}
	return -EINVAL;
}

/* Skip zero padding at *off (the kernel skips it between segments). */
static void
skip_zeros(int fd, uint64_t size, uint64_t *off)
{
	uint8_t buf[4096];

	while (*off < size) {
		uint64_t left = size - *off;
		size_t n = left < sizeof(buf) ? (size_t)left : sizeof(buf);
		size_t i = 0;

		if (read_at(fd, *off, buf, n) < 0)
			return;
		while (i < n && buf[i] == 0)
			i++;
		*off += i;
		if (i < n)
			return;
	}
}

/* One segment at *off: 0 when counted exactly, < 0 when the rest of the
 * file must be estimated. */
static int
segment(int fd, uint64_t size, uint64_t *off, uint64_t *u)
{
	static const uint8_t zstd[4] = { 0x28, 0xb5, 0x2f, 0xfd };
	uint8_t m[8];

	if (read_at(fd, *off, m, sizeof(m)) < 0)
		return -EINVAL;
	if (memcmp(m, "07070", 5) == 0)
		return cpio_walk(fd, size, off, u);
	if (memcmp(m, zstd, 4) == 0)
		return zstd_walk(fd, size, off, u);
	if ((m[0] & 0xf0) == 0x50 && le(m + 1, 3) == 0x184d2a) {
		*off += 8 + le(m + 4, 4);	/* a skippable zstd frame */
		return *off <= size ? 0 : -EINVAL;
	}
	return -ENODATA;
}

/* Open path, a regular file, its size in *size: the fd or -errno. */
static int
open_sized(const char *path, uint64_t *size)
{
	struct stat st;
	int fd, r = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode))
		r = -EINVAL;
	if (r < 0) {
		close(fd);
		return r;
	}
	*size = (uint64_t)st.st_size;
	return fd;
}

int
bootmem_initrd(const char *path, uint64_t *size, uint64_t *unpacked)
{
	uint64_t off = 0, u = 0, before, seg;
	int fd;

	*size = *unpacked = 0;
	if ((fd = open_sized(path, size)) < 0)
		return fd;
	for (skip_zeros(fd, *size, &off); off < *size;
	    skip_zeros(fd, *size, &off)) {
		before = off;
		seg = 0;
		if (segment(fd, *size, &off, &seg) < 0) {
			u += (*size - before) * BOOTMEM_RATIO;
			break;
		}
		u += seg;
	}
	*unpacked = u;
	close(fd);
	return 0;
}

int
bootmem_kernel(const char *path, enum image_type type, uint64_t *bytes)
{
	uint8_t h[0x264];
	int fd;

	*bytes = 0;
	if ((fd = open_sized(path, bytes)) < 0)
		return fd;
	/* boot protocol 2.10 and later: init_size at 0x260 */
	if (type == IMG_BZIMAGE && read_at(fd, 0, h, sizeof(h)) == 0 &&
	    memcmp(h + 0x202, "HdrS", 4) == 0 && le(h + 0x206, 2) >= 0x20a &&
	    le(h + 0x260, 4) > *bytes)
		*bytes = le(h + 0x260, 4);
	else if (type == IMG_BZIMAGE)
		*bytes *= 4;	/* older: the kernel unpacks to ~4x */
	close(fd);
	return 0;
}
