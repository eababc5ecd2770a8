/*
 * nlfail.so - fault injection for the e2e tests, loaded with LD_PRELOAD.
 * Only the tests load it; qrun has no hook.
 *
 *   NLFAIL_TYPE=T [NLFAIL_ERRNO=E]  the first rtnetlink request of type T
 *                                   (RTM_* number) fails with E (EIO), as
 *                                   if the kernel had refused it
 *   NLFAIL_KILL=T[:N]               SIGKILL qrun when its Nth (1st)
 *                                   request of type T is about to be sent;
 *                                   T 0: any change (not RTM_GET*). Sent
 *                                   from a child (qrun's link delete),
 *                                   the child goes on: qrun died, the
 *                                   request was made anyway.
 *   JFAIL_PREFIX=TEXT [JFAIL_ERRNO=E]  the first pwrite() whose data starts
 *                                   with TEXT (a journal record) fails
 *                                   with E (ENOSPC)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

ssize_t sendmsg(int, const struct msghdr *, int);
ssize_t sendto(int, const void *, size_t, int, const struct sockaddr *,
    socklen_t);
ssize_t pwrite(int, const void *, size_t, off_t);

static int fired, jfired, seen;
static pid_t qrun_pid;

__attribute__((constructor)) static void
init(void)
{
	qrun_pid = getpid();
}

/* NLFAIL_KILL: is this the request to die before? */
static void
maybe_kill(const struct nlmsghdr *h)
{
	const char *k = getenv("NLFAIL_KILL"), *colon;
	int type, nth = 1;

	if (k == NULL)
		return;
	type = atoi(k);
	if ((colon = strchr(k, ':')) != NULL)
		nth = atoi(colon + 1);
	if (type == 0 ? h->nlmsg_type % 4 == RTM_GETLINK % 4 :
	    h->nlmsg_type != type)
		return;
	if (++seen == nth)
		kill(qrun_pid, SIGKILL);
}

static int
should_fail(const void *buf, size_t len)
{
	const struct nlmsghdr *h = buf;
	const char *t = getenv("NLFAIL_TYPE");

	if (len < sizeof(*h))
		return 0;
	maybe_kill(h);
	if (fired || t == NULL || h->nlmsg_type != atoi(t))
		return 0;
	fired = 1;
	errno = getenv("NLFAIL_ERRNO") ? atoi(getenv("NLFAIL_ERRNO")) : EIO;
	return 1;
}

ssize_t
sendmsg(int fd, const struct msghdr *m, int flags)
{
	static ssize_t (*real)(int, const struct msghdr *, int);

	if (real == NULL)
		real = (ssize_t (*)(int, const struct msghdr *, int))
		    dlsym(RTLD_NEXT, "sendmsg");
	if (m->msg_iovlen > 0 &&
	    should_fail(m->msg_iov[0].iov_base, m->msg_iov[0].iov_len))
		return -1;
	return real(fd, m, flags);
}

ssize_t
sendto(int fd, const void *buf, size_t len, int flags,
    const struct sockaddr *to, socklen_t tolen)
{
	static ssize_t (*real)(int, const void *, size_t, int,
	    const struct sockaddr *, socklen_t);

	if (real == NULL)
		real = (ssize_t (*)(int, const void *, size_t, int,
		    const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT,
		    "sendto");
	if (should_fail(buf, len))
		return -1;
	return real(fd, buf, len, flags, to, tolen);
}

ssize_t
pwrite(int fd, const void *buf, size_t len, off_t off)
{
	static ssize_t (*real)(int, const void *, size_t, off_t);
	const char *p = getenv("JFAIL_PREFIX");

	if (real == NULL)
		real = (ssize_t (*)(int, const void *, size_t, off_t))
		    dlsym(RTLD_NEXT, "pwrite");
	if (!jfired && p && len >= strlen(p) &&
	    memcmp(buf, p, strlen(p)) == 0) {
		jfired = 1;
		errno = getenv("JFAIL_ERRNO") ? atoi(getenv("JFAIL_ERRNO")) :
		    ENOSPC;
		return -1;
	}
	return real(fd, buf, len, off);
}
