/*
 * nlfail.so - fault injection for tests/e2e/faults.sh, loaded with
 * LD_PRELOAD: the first rtnetlink request of the type named by
 * NLFAIL_TYPE (RTM_* number) fails with NLFAIL_ERRNO (default EIO), as if
 * the kernel had refused it. Only the test loads it; qrun has no hook.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <linux/netlink.h>

ssize_t sendmsg(int, const struct msghdr *, int);
ssize_t sendto(int, const void *, size_t, int, const struct sockaddr *,
    socklen_t);

static int fired;

static int
should_fail(const void *buf, size_t len)
{
	const struct nlmsghdr *h = buf;
	const char *t = getenv("NLFAIL_TYPE");

	if (fired || t == NULL || len < sizeof(*h) ||
	    h->nlmsg_type != atoi(t))
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
