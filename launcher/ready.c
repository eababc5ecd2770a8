/*
 * ready.c - is the guest up yet, and the host command run against it.
 *
 * Probes (--ready): ICMP echo to the guest every PING_EVERY_MS, a TCP
 * connect every TCP_EVERY_MS, or a console line. All of them are
 * non-blocking state machines, participants of the one loop (loop.c), so
 * signals keep being handled while qrun waits.
 *
 * User mode is special: QEMU's slirp accepts connections on a forwarded
 * host port itself, before the guest is even booted, and only then tries
 * the guest. So there a tcp:PORT probe first half-closes a connection
 * and waits for slirp to close it back: slirp only reads from the host
 * side once the guest answered (a refusal or the server's close), which
 * proves the guest's network is up; then a fresh connection that the
 * guest does not refuse within SLIRP_SETTLE_MS proves the port listens.
 *
 * The host command (--run) runs as the developer (priv_drop), in its own
 * process group so that qrun can stop it and whatever it started; the
 * loop watches it as a loop_child.
 */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/close_range.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "qrun.h"

#define PING_EVERY_MS	50
#define TCP_EVERY_MS	100
#define TCP_ATTEMPT_MS	1000	/* a connect pending this long starts over */
#define SLIRP_ALIVE_MS	500	/* wait this long for slirp to close back */
#define SLIRP_SETTLE_MS	300	/* not refused for this long: listening */
#define CMD_GRACE_MS	2000

extern char **environ;

/* <linux/icmp.h>'s raw-socket filter (that header clashes with <net/if.h>). */
#ifndef ICMP_FILTER
#define ICMP_FILTER	1
#endif
struct ready_icmp_filter {
	uint32_t data;		/* bit N set: drop ICMP type N */
};

enum ready_kind { R_NOW, R_PING, R_TCP, R_SERIAL };

/* tcp probe states */
enum { T_IDLE, T_CONNECTING, T_SHUT, T_HOLD };

struct ready {
	enum ready_kind kind;
	char *spec;
	struct sockaddr_in to;	/* ping/tcp target */
	struct in_addr guest;
	bool have_guest;
	bool slirp;		/* user mode: to is 127.0.0.1:forward */
	regex_t re;
	bool have_re;
	int fd;			/* probe socket, -1 = none */
	bool raw;		/* ping over a raw socket: we match the id */
	uint16_t id, seq;
	int tcp;		/* T_* */
	bool alive;		/* slirp: the guest's network answered */
	long next_ms;		/* next attempt */
	long since_ms;		/* current attempt started */
	long deadline_ms;	/* -1 = none */
	long ready_ms;		/* when it became ready, 0 = not yet */
	struct loop_part part;
};

/* tcp:PORT in user mode: the host port that forwards to guest PORT. */
static int
plan_tcp(struct ready *r, const struct nic *p, long port, char *why,
    size_t len)
{
	r->to.sin_family = AF_INET;
	r->to.sin_port = htons((uint16_t)port);
	r->to.sin_addr = r->guest;
	if (p == NULL || !p->mode->slirp)
		return 0;
	r->slirp = true;
	r->to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (size_t i = 0; i < p->nfwd; i++)
		if (strcmp(p->fwd[i].proto, "tcp") == 0 &&
		    p->fwd[i].guest_port == port) {
			r->to.sin_port = htons(p->fwd[i].host_port);
			return 0;
		}
	snprintf(why, len, "no forward to guest port %ld in user mode (add "
	    "net.forwards \"tcp:HOSTPORT:%ld\")", port, port);
	return -EINVAL;
}

/* What the plan allows: a guest address for ping/tcp, no ping via slirp. */
static int
plan_check(struct ready *r, const struct nic *p, char *why, size_t len)
{
	if (r->kind != R_PING && r->kind != R_TCP)
		return 0;
	if (p == NULL) {
		snprintf(why, len, "needs a network (net.mode is none)");
		return -EINVAL;
	}
	if (r->kind == R_PING && p->mode->slirp) {
		snprintf(why, len, "ping cannot reach a user-mode guest "
		    "(QEMU's slirp handles ICMP itself); use tcp:PORT with a "
		    "forward");
		return -EINVAL;
	}
	if (!r->have_guest) {
		snprintf(why, len, "needs the guest's address (set "
		    "net.guest_addr)");
		return -EINVAL;
	}
	return 0;
}

static int ready_prepare(void *, struct pollfd *);
static int ready_event(void *, const struct pollfd *);
static int hook_line(void *, const char *, bool);

int
ready_alloc(const char *spec, const struct netplan *plan, struct ready **out,
    char *why, size_t len)
{
	struct ready *r = xcalloc(1, sizeof(*r));
	const struct nic *p = netplan_main(plan);
	long port;
	int e = 0;

	r->fd = -1;
	r->spec = xstrdup(spec);
	r->part.prepare = ready_prepare;
	r->part.event = ready_event;
	r->part.line = hook_line;
	r->part.arg = r;
	if (p != NULL && p->guest.family == AF_INET) {
		r->guest = p->guest.u.v4;
		r->have_guest = true;
	}
	r->deadline_ms = -1;
	if (spec[0] == '\0')
		r->kind = R_NOW;
	else if (strcmp(spec, "ping") == 0) {
		r->kind = R_PING;
		r->to.sin_family = AF_INET;
		r->to.sin_addr = r->guest;
	} else if (strncmp(spec, "tcp:", 4) == 0 &&
	    parse_long(spec + 4, 1, 65535, &port) == 0) {
		r->kind = R_TCP;
		e = plan_tcp(r, p, port, why, len);
	} else if (strncmp(spec, "serial:", 7) == 0 && spec[7] != '\0') {
		r->kind = R_SERIAL;
		char err[128];

		if (regex_compile(&r->re, spec + 7, err, sizeof(err)) < 0) {
			snprintf(why, len, "bad regex: %s", err);
			e = -EINVAL;
		} else
			r->have_re = true;
	} else {
		snprintf(why, len, "must be ping, tcp:PORT or serial:REGEX");
		e = -EINVAL;
	}
	if (e == 0)
		e = plan_check(r, p, why, len);
	if (e < 0) {
		ready_put(r);
		r = NULL;
	}
	*out = r;
	return e;
}

void
ready_put(struct ready *r)
{
	if (r == NULL)
		return;
	if (r->part.loop)
		loop_del(r->part.loop, &r->part);
	fd_close(&r->fd);
	if (r->have_re)
		regfree(&r->re);
	free(r->spec);
	free(r);
}

/*
 * The ICMP socket: an unprivileged datagram ("ping") socket where
 * net.ipv4.ping_group_range admits us, else a raw one while qrun holds
 * CAP_NET_RAW. Not connected: the route to the guest (the tap) may not
 * exist yet; replies are matched by source (and id on a raw socket).
 */
int
ready_open(struct ready *r, char *why, size_t len)
{
	struct ready_icmp_filter f = { ~(1U << ICMP_ECHOREPLY) };
	int fl = SOCK_NONBLOCK | SOCK_CLOEXEC, e;

	if (r->kind != R_PING || r->fd >= 0)
		return 0;
	r->fd = socket(AF_INET, SOCK_DGRAM | fl, IPPROTO_ICMP);
	if (r->fd < 0) {
		r->fd = socket(AF_INET, SOCK_RAW | fl, IPPROTO_ICMP);
		r->raw = true;
	}
	if (r->fd < 0) {
		e = -errno;
		snprintf(why, len, "cannot open an ICMP socket (%s): gid %lu "
		    "is outside net.ipv4.ping_group_range and qrun has no "
		    "CAP_NET_RAW; use tcp:PORT", strerror(-e),
		    (unsigned long)getgid());
		return e;
	}
	if (r->raw && setsockopt(r->fd, SOL_RAW, ICMP_FILTER, &f,
	    sizeof(f)) < 0) {
		e = -errno;
		snprintf(why, len, "ICMP socket: %s", strerror(-e));
		fd_close(&r->fd);
		return e;
	}
	r->id = (uint16_t)getpid();
	return 0;
}

void
ready_start(struct ready *r, long timeout_ms)
{
	long now = mono_ms();

	if (r->kind == R_TCP)
		fd_close(&r->fd);
	r->tcp = T_IDLE;
	r->alive = false;
	r->next_ms = now;
	r->ready_ms = 0;
	r->deadline_ms = timeout_ms > 0 ? now + timeout_ms : -1;
}

static uint16_t
icmp_sum(const void *buf, size_t n)
{
	const uint8_t *b = buf;
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return htons((uint16_t)~s);
}

/* One echo request; errors (no neighbour yet...) just mean "not yet". */
static void
ping_send(struct ready *r)
{
	struct icmphdr h[2];	/* header + 8 bytes of payload */

	memset(h, 0, sizeof(h));
	h[0].type = ICMP_ECHO;
	h[0].un.echo.id = htons(r->id);
	h[0].un.echo.sequence = htons(++r->seq);
	memcpy(&h[1], "qrun-rdy", 8);
	h[0].checksum = icmp_sum(h, sizeof(h));
	if (sendto(r->fd, h, sizeof(h), MSG_DONTWAIT,
	    (const struct sockaddr *)&r->to, sizeof(r->to)) < 0) {
		/* EHOSTUNREACH and the like until the guest answers ARP */
	}
}

/* Drain the socket; 1 when an echo reply from the guest came. */
static int
ping_recv(struct ready *r)
{
	uint8_t buf[1500];
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	ssize_t n;

	while ((n = recvfrom(r->fd, buf, sizeof(buf), MSG_DONTWAIT,
	    (struct sockaddr *)&from, &fl)) >= 0 || errno == EINTR ||
	    errno == ECONNREFUSED || errno == EHOSTUNREACH ||
	    errno == ENETUNREACH) {
		const struct icmphdr *h = (const void *)buf;
		size_t off = 0;

		fl = sizeof(from);
		if (n < 0 || from.sin_addr.s_addr != r->to.sin_addr.s_addr)
			continue;	/* an ICMP error, another host */
		if (r->raw)
			off = (size_t)(buf[0] & 0x0f) * 4;
		if ((size_t)n < off + sizeof(*h))
			continue;
		h = (const void *)(buf + off);
		if (h->type == ICMP_ECHOREPLY &&
		    (!r->raw || ntohs(h->un.echo.id) == r->id))
			return 1;
	}
	return 0;
}

/* Start a non-blocking connect; its outcome is seen through poll. */
static void
tcp_connect(struct ready *r, long now)
{
	r->since_ms = now;
	r->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (r->fd < 0) {
		r->next_ms = now + TCP_EVERY_MS;
		return;
	}
	if (connect(r->fd, (const struct sockaddr *)&r->to,
	    sizeof(r->to)) == 0 || errno == EINPROGRESS) {
		r->tcp = T_CONNECTING;
		return;
	}
	fd_close(&r->fd);
	r->next_ms = now + TCP_EVERY_MS;
}

/* Give up the current attempt; the next one starts TCP_EVERY_MS after
 * this one did (or at once when that is past). */
static void
tcp_retry(struct ready *r, bool alive)
{
	fd_close(&r->fd);
	r->tcp = T_IDLE;
	r->alive = alive;
	r->next_ms = r->since_ms + TCP_EVERY_MS;
}

/* The connect finished: ready in tap mode; in user mode see the top. */
static int
tcp_connected(struct ready *r, long now)
{
	int err = 0;
	socklen_t l = sizeof(err);

	if (getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0 || err) {
		tcp_retry(r, r->alive);
		return 0;
	}
	if (!r->slirp)
		return LOOP_READY;
	r->since_ms = now;
	if (r->alive) {
		r->tcp = T_HOLD;
		return 0;
	}
	shutdown(r->fd, SHUT_WR);
	r->tcp = T_SHUT;
	return 0;
}

/* User mode: slirp closed (or the guest talked on) a probe connection. */
static int
tcp_input(struct ready *r)
{
	char c;
	ssize_t n = recv(r->fd, &c, 1, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n == 1)
		return LOOP_READY;	/* the guest's server spoke first */
	if (r->tcp == T_SHUT) {
		/* The guest answered: a fresh connection tells whether
		 * it listens. */
		tcp_retry(r, true);
		r->next_ms = mono_ms();
	} else
		tcp_retry(r, false);	/* refused by the guest */
	return 0;
}

static int
tcp_event(struct ready *r, short revents, long now)
{
	switch (r->tcp) {
	case T_IDLE:
		if (now >= r->next_ms)
			tcp_connect(r, now);
		return 0;
	case T_CONNECTING:
		if (revents)
			return tcp_connected(r, now);
		if (now - r->since_ms >= TCP_ATTEMPT_MS)
			tcp_retry(r, r->alive);
		return 0;
	case T_SHUT:
	case T_HOLD:
		if (revents)
			return tcp_input(r);
		if (r->tcp == T_HOLD && now - r->since_ms >= SLIRP_SETTLE_MS)
			return LOOP_READY;
		if (r->tcp == T_SHUT && now - r->since_ms >= SLIRP_ALIVE_MS)
			tcp_retry(r, false);
		return 0;
	}
	return 0;
}

/* When the current state wants to run again, as a poll timeout. */
static long
tcp_due(const struct ready *r)
{
	switch (r->tcp) {
	case T_CONNECTING:
		return r->since_ms + TCP_ATTEMPT_MS;
	case T_SHUT:
		return r->since_ms + SLIRP_ALIVE_MS;
	case T_HOLD:
		return r->since_ms + SLIRP_SETTLE_MS;
	}
	return r->next_ms;
}

/* The probe's socket and when it wants to run again (loop.c's prepare). */
static int
ready_prepare(void *arg, struct pollfd *pfd)
{
	struct ready *r = arg;
	long now = mono_ms(), due = -1;

	pfd->fd = -1;
	pfd->events = 0;
	pfd->revents = 0;
	switch (r->kind) {
	case R_NOW:
		due = now;
		break;
	case R_PING:
		pfd->fd = r->fd;
		pfd->events = POLLIN;
		due = r->next_ms;
		break;
	case R_TCP:
		pfd->fd = r->fd;
		pfd->events = r->tcp == T_CONNECTING ? POLLOUT : POLLIN;
		due = tcp_due(r);
		break;
	case R_SERIAL:
		break;
	}
	if (r->deadline_ms >= 0 && (due < 0 || r->deadline_ms < due))
		due = r->deadline_ms;
	if (due < 0)
		return -1;
	return due <= now ? 0 : (int)(due - now);
}

static int
probe_event(struct ready *r, const struct pollfd *pfd, long now)
{
	short rev = pfd->fd >= 0 ? pfd->revents : 0;

	switch (r->kind) {
	case R_NOW:
		return LOOP_READY;
	case R_PING:
		if ((rev & POLLIN) && ping_recv(r))
			return LOOP_READY;
		if (now >= r->next_ms) {
			ping_send(r);
			r->next_ms = now + PING_EVERY_MS;
		}
		return 0;
	case R_TCP:
		return tcp_event(r, rev, now);
	case R_SERIAL:
		return 0;
	}
	return 0;
}

/* Send, receive, decide (loop.c's event): LOOP_READY, LOOP_TIMEOUT or 0. */
static int
ready_event(void *arg, const struct pollfd *pfd)
{
	struct ready *r = arg;
	long now = mono_ms();
	int ev;

	if (r->ready_ms)
		return LOOP_READY;
	if ((ev = probe_event(r, pfd, now)) == LOOP_READY) {
		r->ready_ms = mono_ms();
		if (r->kind == R_TCP)
			fd_close(&r->fd);
		return ev;
	}
	if (r->deadline_ms >= 0 && now >= r->deadline_ms)
		return LOOP_TIMEOUT;
	return 0;
}

int
ready_line(struct ready *r, const char *line)
{
	if (r->kind != R_SERIAL || regexec(&r->re, line, 0, NULL, 0) != 0)
		return 0;
	if (r->ready_ms == 0)
		r->ready_ms = mono_ms();
	return LOOP_READY;
}

char *
ready_message(const struct ready *r, long start_ms)
{
	long ms = (r->ready_ms ? r->ready_ms : mono_ms()) - start_ms;
	char g[INET_ADDRSTRLEN], via[64] = "";

	if (ms < 0)
		ms = 0;
	if (r->slirp)
		snprintf(via, sizeof(via), " via 127.0.0.1:%u",
		    ntohs(r->to.sin_port));
	if (!r->have_guest)
		return xasprintf("guest ready after %ld.%ld s (%s)", ms / 1000,
		    ms % 1000 / 100, r->kind == R_NOW ? "started" : r->spec);
	return xasprintf("guest %s ready after %ld.%ld s (%s%s)",
	    inet_ntop(AF_INET, &r->guest, g, sizeof(g)), ms / 1000,
	    ms % 1000 / 100,
	    r->kind == R_NOW ? "started" : r->spec, via);
}

static int
hook_line(void *arg, const char *line, bool partial)
{
	(void)partial;		/* a prompt without a newline counts */
	return ready_line(arg, line);
}

struct loop_part *
ready_part(struct ready *r)
{
	return &r->part;
}

/* ------------------------------------------------------- host command */

static void
env_set(struct strv *env, const char *name, const char *val)
{
	strv_pushf(env, "%s=%s", name, val);
}

void
ready_env(const struct netplan *plan, const struct priv *pv,
    struct strv *env)
{
	const struct nic *p = netplan_main(plan);
	char a[IPADDR_STRLEN];

	if (p && p->guest.family)
		env_set(env, "QRUN_GUEST_IP", ipaddr_str(&p->guest, a));
	if (p && p->host.family)
		env_set(env, "QRUN_HOST_IP", ipaddr_str(&p->host, a));
	if (p && p->guest6.family)
		env_set(env, "QRUN_GUEST_IP6", ipaddr_str(&p->guest6, a));
	if (p && p->host6.family)
		env_set(env, "QRUN_HOST_IP6", ipaddr_str(&p->host6, a));
	else if (p && p->mode->slirp)
		env_set(env, "QRUN_HOST_IP", "127.0.0.1");
	if (p && p->mode->host_tap)
		env_set(env, "QRUN_TAP", p->tap);
	if (p)
		env_set(env, "QRUN_MAC", mac_str(p->mac, a));
	if (p && p->sw >= 0) {
		env_set(env, "QRUN_SWITCH", p->bridge);
		snprintf(a, sizeof(a), "%d", p->slot);
		env_set(env, "QRUN_SLOT", a);
	}
	for (size_t i = 0; p && p->mode->slirp && i < p->nfwd; i++)
		if (strcmp(p->fwd[i].proto, "tcp") == 0)
			strv_pushf(env, "QRUN_PORT_%u=%u", p->fwd[i].guest_port,
			    p->fwd[i].host_port);
	if (pv->uid != geteuid() && pv->home[0] != '\0') {
		env_set(env, "HOME", pv->home);
		env_set(env, "USER", pv->user);
		env_set(env, "LOGNAME", pv->user);
	}
}

/* environ without the names env sets, then env. */
static void
env_merge(const struct strv *env, struct strv *out)
{
	for (char **e = environ; e && *e; e++) {
		size_t n = strcspn(*e, "=");
		bool dup = false;

		for (size_t i = 0; i < env->n && !dup; i++)
			dup = strncmp(env->v[i], *e, n) == 0 &&
			    env->v[i][n] == '=';
		if (!dup)
			strv_push(out, *e);
	}
	for (size_t i = 0; i < env->n; i++)
		strv_push(out, env->v[i]);
}

/*
 * In the child: own process group, stdin /dev/null, the developer's
 * identity without capabilities, a clean fd table (no tap queue, lock
 * or journal), then exec. errpipe gets { stage, errno } on failure:
 * stage 0 before exec, 1 the exec itself.
 */
static void __attribute__((noreturn))
cmd_child(const struct strv *argv, const struct strv *envp,
    const struct priv *pv, pid_t parent, int errpipe)
{
	int msg[2] = { 0, 0 }, nul;
	char path[PATH_MAX];

	loop_signals_reset();
	setpgid(0, 0);
	nul = open("/dev/null", O_RDONLY);
	if (nul < 0 || dup2(nul, 0) < 0 || priv_drop(pv) < 0)
		goto fail;
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
		goto fail;
	if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		goto fail;
	msg[0] = 1;
	/* found as the developer: a directory of root's PATH that they may
	 * not enter has no such command (execvp would say EACCES) */
	if (path_search(argv->v[0], getenv("PATH"), path, sizeof(path)) ==
	    -ENOENT) {
		errno = ENOENT;
		goto fail;
	}
	execvpe(path, argv->v, envp->v);
fail:
	msg[1] = errno;
	if (write(errpipe, msg, sizeof(msg)) < 0)
		_exit(EXIT_QRUN);
	_exit(msg[0] == 0 ? EXIT_QRUN : msg[1] == ENOENT ? EXIT_NOTFOUND :
	    EXIT_NOEXEC);
}

/* What the command left behind in its group goes with it. */
static void
cmd_gone(struct loop_child *c, pid_t was)
{
	(void)c;
	kill(-was, SIGTERM);
}

int
ready_cmd_spawn(struct ready_cmd *c, const struct strv *argv,
    const struct strv *env, const struct priv *pv)
{
	struct strv envp = { 0 };
	int ep[2], msg[2], r = 0;
	pid_t parent = getpid(), pid;
	ssize_t n;

	loop_child_init(&c->child, -1, LOOP_CMD_EXITED);
	c->child.gone = cmd_gone;
	c->exec_err = 0;
	if (argv->n == 0)
		return -EINVAL;
	if (pipe2(ep, O_CLOEXEC) < 0)
		return -errno;
	env_merge(env, &envp);
	if ((pid = fork()) < 0) {
		r = -errno;
		goto out;
	}
	if (pid == 0)
		cmd_child(argv, &envp, pv, parent, ep[1]);
	setpgid(pid, pid);	/* no race with kill(-pid) */
	close(ep[1]);
	ep[1] = -1;
	while ((n = read(ep[0], msg, sizeof(msg))) < 0 && errno == EINTR)
		;
	if (n == sizeof(msg)) {
		loop_reap(&pid, &c->child.status, true);
		c->exec_err = msg[1] ? msg[1] : EPERM;
		if (msg[0] == 0)
			r = -c->exec_err;
		else
			r = msg[1] == ENOENT || msg[1] == ENOTDIR ? -ENOENT :
			    -EACCES;
	} else
		c->child.pid = pid;
out:
	if (ep[1] >= 0)
		close(ep[1]);
	close(ep[0]);
	strv_free(&envp);
	return r;
}

void
ready_cmd_stop(struct ready_cmd *c)
{
	long end;
	pid_t pg = c->child.pid;

	if (pg < 0)
		return;
	if (c->child.part.loop)
		loop_del(c->child.part.loop, &c->child.part);
	kill(-pg, SIGTERM);
	end = mono_ms() + CMD_GRACE_MS;
	while (mono_ms() < end) {
		if (loop_reap(&c->child.pid, &c->child.status, false)) {
			kill(-pg, SIGKILL);	/* stragglers of its group */
			return;
		}
		usleep(10000);
	}
	kill(-pg, SIGKILL);
	loop_child_reap(&c->child, true);
}

int
ready_cmd_status(const struct ready_cmd *c)
{
	if (WIFSIGNALED(c->child.status))
		return 128 + WTERMSIG(c->child.status);
	return WEXITSTATUS(c->child.status);
}
