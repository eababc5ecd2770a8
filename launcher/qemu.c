/*
 * qemu.c - the QEMU command line, built from the profile, the network plan
 * and the image. Pure: the same inputs give the same argv, so every mode
 * is pinned by golden files. Host facts (may KVM run guests here? how
 * big are the kernel and initrd?) come in decided (accel.c, bootmem.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qrun.h"

const char *
qemu_accel_pick(const char *accel, bool kvm_usable)
{
	if (strcmp(accel, "kvm:tcg") == 0)
		return kvm_usable ? "kvm" : "tcg";
	return accel;
}

/* QEMU option values escape ',' by doubling it. */
char *
qemu_optval(const char *s)
{
	size_t n = strlen(s) + 1;
	char *q, *p;

	for (const char *c = s; *c; c++)
		n += *c == ',';
	q = p = xmalloc(n);
	for (; *s; s++) {
		*p++ = *s;
		if (*s == ',')
			*p++ = ',';
	}
	*p = '\0';
	return q;
}

/* OPT PRE<val>POST, with val escaped for QEMU's option syntax. */
static void
push_opt(struct strv *argv, const char *opt, const char *pre, const char *val,
    const char *post)
{
	char *v = qemu_optval(val);

	strv_push(argv, opt);
	strv_pushf(argv, "%s%s%s", pre, v, post);
	free(v);
}

/* Does the kernel command line have a word starting with key ("ip=")? */
static bool
cmdline_has(const char *line, const char *key)
{
	size_t n = strlen(key);

	for (line += strspn(line, " \t"); *line; line += strspn(line, " \t")) {
		if (strncmp(line, key, n) == 0)
			return true;
		line += strcspn(line, " \t");
	}
	return false;
}

/* word appended to *s with a space when *s is not empty. */
static void
append_word(char **s, const char *word)
{
	char *t = *s;

	*s = xasprintf("%s%s%s", t, t[0] ? " " : "", word);
	free(t);
}

/*
 * The kernel command line: the user's qemu.append, then what qrun adds
 * unless the user said it already: ip= (net.kernel_ip) and, in a batch
 * run (qemu_opts.batch), panic=-1. Malloc'd; "" when empty.
 */
static char *
kernel_append(const struct config *c, const struct netplan *p,
    const struct qemu_opts *o)
{
	char *s = xstrdup(c->qemu_append), *ip;

	if (c->net_kernel_ip && !cmdline_has(c->qemu_append, "ip=") &&
	    (ip = netplan_kernel_ip(p)) != NULL) {
		append_word(&s, ip);
		free(ip);
	}
	if (o->batch && !cmdline_has(c->qemu_append, "panic="))
		append_word(&s, "panic=-1");
	return s;
}

/*
 * The kernel needs, while it unpacks the initrd: itself (init_size), the
 * initrd as loaded, and the unpacked files. Without root= on its command
 * line the kernel unpacks into a tmpfs capped at half the memory (with
 * root=, a ramfs), so the files count twice. 64 MiB more for the rest of
 * the kernel and the initrd's programs. Rounded up to 32 MiB; at least
 * 256. Measured under TCG with the Debian 6.1 cloud kernel (init_size
 * 51.5 MiB): the least memory that booted was the initrd and its files
 * plus 48 to 80 MiB, where this sum adds 115.5.
 */
long
qemu_memory_auto(const struct config *c, uint64_t kernel, uint64_t initrd,
    uint64_t unpacked)
{
	const uint64_t mib = 1024 * 1024, round = 32 * mib, cap = mib << 20;
	bool tmpfs = !cmdline_has(c->qemu_append, "root=") ||
	    cmdline_has(c->qemu_append, "rootfstype=tmpfs");
	uint64_t need;

	/* each term at most 1 TiB: no overflow, and more than -m allows */
	kernel = kernel < cap ? kernel : cap;
	initrd = initrd < cap ? initrd : cap;
	unpacked = unpacked < cap ? unpacked : cap;
	need = 64 * mib + kernel + initrd + unpacked * (tmpfs ? 2 : 1);
	need = (need + round - 1) / round * round / mib;
	if (need < QEMU_MEMORY_DEFAULT)
		return QEMU_MEMORY_DEFAULT;
	return need > 1048576 ? 1048576 : (long)need;
}

/* -kernel/-initrd/-append for kernels; a drive or cdrom otherwise. */
static void
argv_boot(const struct config *c, const struct netplan *p,
    const struct qemu_opts *o, struct strv *argv)
{
	char *append;

	switch (o->type) {
	case IMG_QCOW2:
		push_opt(argv, "-drive", "file=", o->image, ",format=qcow2");
		return;
	case IMG_ISO:
		push_opt(argv, "-drive", "file=", o->image,
		    ",format=raw,media=cdrom");
		return;
	case IMG_MBR:
	case IMG_RAW:
		push_opt(argv, "-drive", "file=", o->image, ",format=raw");
		return;
	default:
		break;
	}
	strv_push(argv, "-kernel");
	strv_push(argv, o->image);
	if (c->qemu_initrd[0] != '\0') {
		strv_push(argv, "-initrd");
		strv_push(argv, c->qemu_initrd);
	}
	append = kernel_append(c, p, o);
	if (append[0] != '\0') {
		strv_push(argv, "-append");
		strv_push(argv, append);
	}
	free(append);
}

/* A virtio NIC on a bridge whose MTU is not Ethernet's tells the guest
 * (VIRTIO_NET_F_MTU), or its full-size frames would be dropped there
 * (a VXLAN lab bridge: 1450). */
static char *
device_mtu(const struct nic *nic)
{
	if (nic->mtu < 68 || nic->mtu == 1500 ||
	    strncmp(nic->model, "virtio-net", 10) != 0)
		return xstrdup("");
	return xasprintf(",host_mtu=%u", nic->mtu);
}

/* A multiqueue NIC: the guest's driver uses the queues only with mq=on,
 * and one MSI-X vector per queue each way plus config and control. */
static char *
device_mq(const struct nic *nic)
{
	if (nic->queues <= 1)
		return xstrdup("");
	return xasprintf(",mq=on,vectors=%d", 2 * nic->queues + 2);
}

/* One -netdev and -device per NIC (its mode says which netdev); no NIC
 * at all is "-nic none". */
static void
argv_net(const struct config *c, const struct netplan *p,
    const struct qemu_opts *o, struct strv *argv)
{
	char mac[18], *nd, *model, *mtu, *mq;

	if (p->n == 0) {
		strv_push(argv, "-nic");
		strv_push(argv, "none");
		return;
	}
	for (size_t i = 0; i < p->n; i++) {
		const struct nic *nic = &p->nic[i];

		nd = nic->mode->netdev(nic, o->fds ? &o->fds[i] : NULL);
		strv_push(argv, "-netdev");
		strv_push(argv, nd);
		free(nd);
		model = qemu_optval(nic->model);
		mtu = device_mtu(nic);
		mq = device_mq(nic);
		strv_push(argv, "-device");
		strv_pushf(argv, "%s,netdev=n%d,mac=%s%s%s", model, nic->index,
		    mac_str(nic->mac, mac), mq, mtu);
		free(mq);
		free(mtu);
		free(model);
	}
	if (c->net_capture[0] != '\0')
		push_opt(argv, "-object", "filter-dump,id=cap0,netdev=n0,file=",
		    c->net_capture, "");
}

/*
 * The guest workflow: disk writes to a temporary overlay (-snapshot, for
 * every drive), the shared directories, and the gdb stub on 127.0.0.1
 * only: the listening socket qrun bound (no port is free for a moment
 * between qrun and QEMU), or in the pasteable form its port; -S holds
 * the CPU until gdb continues it.
 */
static void
argv_workflow(const struct config *c, const struct qemu_opts *o, long mem,
    struct strv *argv)
{
	if (c->qemu_snapshot)
		strv_push(argv, "-snapshot");
	hostdirs_argv(o->dirs, o->dir_fds, mem, argv);
	if (o->gdb_fd > 0) {
		strv_push(argv, "-chardev");
		strv_pushf(argv, "socket,id=gdb0,fd=%d,server=on,wait=off",
		    o->gdb_fd);
		strv_push(argv, "-gdb");
		strv_push(argv, "chardev:gdb0");
	} else if (o->gdb_port > 0) {
		strv_push(argv, "-gdb");
		strv_pushf(argv, "tcp:127.0.0.1:%ld", o->gdb_port);
	}
	if ((o->gdb_fd > 0 || o->gdb_port > 0) && c->test_gdb_wait)
		strv_push(argv, "-S");
}

void
qemu_argv(const struct config *c, const struct netplan *p,
    const struct qemu_opts *o, struct strv *argv)
{
	long mem = o->memory > 0 ? o->memory :
	    c->qemu_memory != QEMU_MEMORY_AUTO ? c->qemu_memory :
	    QEMU_MEMORY_DEFAULT;

	strv_push(argv, c->qemu_binary);
	strv_push(argv, "-accel");
	strv_push(argv, o->accel);
	strv_push(argv, "-m");
	strv_pushf(argv, "%ld", mem);
	strv_push(argv, "-smp");
	strv_pushf(argv, "%ld", c->qemu_cpus);
	argv_boot(c, p, o, argv);
	argv_net(c, p, o, argv);
	argv_workflow(c, o, mem, argv);
	if (o->batch)
		strv_push(argv, "-no-reboot");
	if (c->test_success_code >= 0) {
		strv_push(argv, "-device");
		strv_push(argv, "isa-debug-exit,iobase=0xf4,iosize=0x04");
	}
	if (o->qmp_fd > 0) {
		strv_push(argv, "-chardev");
		strv_pushf(argv, "socket,id=qmp0,fd=%d", o->qmp_fd);
		strv_push(argv, "-mon");
		strv_push(argv, "chardev=qmp0,mode=control");
	}
	for (size_t i = 0; i < c->qemu_args.n; i++)
		strv_push(argv, c->qemu_args.v[i]);
	for (size_t i = 0; o->extra && i < o->extra->n; i++)
		strv_push(argv, o->extra->v[i]);
}

char *
qemu_cmdline(const struct strv *argv)
{
	struct strv q = { 0 };
	char *line;

	for (size_t i = 0; i < argv->n; i++)
		strv_take(&q, shell_quote(argv->v[i]));
	line = strv_join(&q, " ");
	strv_free(&q);
	return line;
}
