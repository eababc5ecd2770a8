/*
 * gdbstub.c - QEMU's gdb stub for a run (--gdb, --gdb-wait, test.gdb):
 * qrun binds and listens on 127.0.0.1 itself and QEMU inherits the
 * listening socket (-chardev socket,fd=N,server=on), so the port is
 * never free between qrun choosing it and QEMU taking it, a busy port is
 * qrun's one clear line, and the stub is never on another address.
 * Nothing here prints.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "qrun.h"

#define WHY(...) snprintf(why, whylen, __VA_ARGS__)

int
gdb_listen(long want, int *fd, long *port, char *why, size_t whylen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)want),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int s, one = 1, e;

	*fd = -1;
	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		e = errno;
		WHY("gdb: socket: %s", strerror(e));
		return -e;
	}
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(s, 1) < 0 ||
	    getsockname(s, (struct sockaddr *)&sa, &len) < 0) {
		e = errno;
		close(s);
		if (e == EADDRINUSE)
			WHY("gdb: port %ld on 127.0.0.1 is in use", want);
		else
			WHY("gdb: 127.0.0.1:%ld: %s", want, strerror(e));
		return -e;
	}
	*fd = s;
	*port = ntohs(sa.sin_port);
	return 0;
}

/* The kernel tree's vmlinux next to a bzImage it built
 * (TREE/arch/x86/boot/bzImage), when the user may read it; else NULL. */
static char *
vmlinux_of(const char *image)
{
	static const char tail[] = "arch/x86/boot/bzImage";
	size_t n = strlen(image), t = sizeof(tail) - 1;
	char *v;

	if (n < t || strcmp(image + n - t, tail) != 0)
		return NULL;
	v = xasprintf("%.*svmlinux", (int)(n - t), image);
	if (access(v, R_OK) == 0)
		return v;
	free(v);
	return NULL;
}

char *
gdb_hint(const char *image, bool kernel, long port, bool wait)
{
	char *v = kernel ? vmlinux_of(image) : NULL, *q, *s;

	q = v ? shell_quote(v) : xstrdup(kernel ? "vmlinux" : "");
	s = xasprintf("gdb: gdb %s%s-ex 'target remote 127.0.0.1:%ld'%s%s", q,
	    q[0] ? " " : "", port, kernel && !v ?
	    " (vmlinux: the kernel tree's, built with debug info)" : "",
	    wait ? "; the guest waits: continue it in gdb" : "");
	free(q);
	free(v);
	return s;
}
