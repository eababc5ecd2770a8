/*
 * qmp.c - a small QMP client on one end of a socket pair whose other end
 * QEMU inherits (-chardev socket,fd=N): nothing in the file system, so
 * nothing to secure or to leave behind. The capabilities handshake is
 * sent at once and completes while QEMU starts; commands are tagged with
 * an "id" whose replies are matched by that id, and the asynchronous
 * events read in between are queued for the shell. Prints nothing.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "qrun.h"

#define QMP_BUF		(256 * 1024)	/* longest message */

struct qmp {
	int fd;
	char *buf;
	size_t len;
	long next_id;
	struct strv events;	/* queued event names, oldest first */
	size_t ev_head;
	json_object *reply;	/* the reply being waited for */
	long want_id;
	bool greeted;		/* QEMU's greeting came: it speaks QMP */
};

/* One complete message: a reply (kept when it is the one awaited) or an
 * event (queued). Unknown messages are dropped. */
static void
qmp_message(struct qmp *q, const char *text)
{
	json_object *m = json_tokener_parse(text), *v;

	if (m == NULL)
		return;
	if (json_object_object_get_ex(m, "QMP", &v))
		q->greeted = true;
	else if (json_object_object_get_ex(m, "event", &v)) {
		json_object *d, *g;
		bool guest = json_object_object_get_ex(m, "data", &d) &&
		    json_object_object_get_ex(d, "guest", &g) &&
		    json_object_get_boolean(g);

		strv_pushf(&q->events, "%s%s", json_object_get_string(v),
		    guest ? ":guest" : "");
	} else if (json_object_object_get_ex(m, "id", &v) &&
	    json_object_get_int64(v) == q->want_id && q->reply == NULL) {
		q->reply = m;
		return;
	}
	json_object_put(m);
}

int
qmp_input(struct qmp *q)
{
	ssize_t n;
	char *nl;

	if (q->len == QMP_BUF)
		return -EMSGSIZE;
	n = read(q->fd, q->buf + q->len, QMP_BUF - q->len);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -errno;
	if (n == 0)
		return -EPIPE;
	q->len += (size_t)n;
	while ((nl = memchr(q->buf, '\n', q->len)) != NULL) {
		*nl = '\0';
		qmp_message(q, q->buf);
		q->len -= (size_t)(nl + 1 - q->buf);
		memmove(q->buf, nl + 1, q->len);
	}
	return 0;
}

static int
qmp_send(struct qmp *q, const char *cmd, const char *args_json)
{
	char *msg;
	size_t off = 0, len;
	ssize_t n;
	int r = 0;

	q->want_id = ++q->next_id;
	msg = xasprintf("{\"execute\":\"%s\",%s%s%s\"id\":%ld}\n", cmd,
	    args_json ? "\"arguments\":" : "", args_json ? args_json : "",
	    args_json ? "," : "", q->want_id);
	len = strlen(msg);
	while (off < len) {
		n = write(q->fd, msg + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		off += (size_t)n;
	}
	free(msg);
	return r;
}

/* Read until the awaited reply is in, or the time is up. */
static int
qmp_await(struct qmp *q, int timeout_ms)
{
	long end = mono_ms() + timeout_ms;
	struct pollfd p = { .fd = q->fd, .events = POLLIN };
	int r, left;

	while (q->reply == NULL) {
		if ((left = (int)(end - mono_ms())) <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, left) < 0 && errno != EINTR)
			return -errno;
		if (p.revents && (r = qmp_input(q)) < 0)
			return r;
	}
	return 0;
}

int
qmp_execute(struct qmp *q, const char *cmd, const char *args_json,
    int timeout_ms, char **result)
{
	json_object *v, *d;
	int r;

	*result = NULL;
	if (q->reply) {
		json_object_put(q->reply);
		q->reply = NULL;
	}
	if ((r = qmp_send(q, cmd, args_json)) < 0 ||
	    (r = qmp_await(q, timeout_ms)) < 0)
		goto out;
	if (json_object_object_get_ex(q->reply, "return", &v)) {
		*result = xstrdup(json_object_to_json_string_ext(v,
		    JSON_C_TO_STRING_PLAIN));
	} else {
		r = -EIO;
		if (json_object_object_get_ex(q->reply, "error", &v) &&
		    json_object_object_get_ex(v, "desc", &d))
			*result = xstrdup(json_object_get_string(d));
	}
out:
	if (q->reply)
		json_object_put(q->reply);
	q->reply = NULL;
	q->want_id = 0;
	return r;
}

int
qmp_socketpair(int *ours, int *qemus)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	*ours = sv[0];
	*qemus = sv[1];
	return 0;
}

int
qmp_attach(int fd, struct qmp **out)
{
	struct qmp *q = xcalloc(1, sizeof(*q));
	int r;

	q->fd = fd;
	q->buf = xmalloc(QMP_BUF);
	/* Sent before the greeting is read: QEMU reads it once it greeted,
	 * and its reply is dropped like any reply nobody waits for. */
	if ((r = qmp_send(q, "qmp_capabilities", NULL)) < 0) {
		qmp_close(q);
		*out = NULL;
		return r;
	}
	q->want_id = 0;
	*out = q;
	return 0;
}

bool
qmp_alive(struct qmp *q)
{
	struct pollfd p = { .fd = q->fd, .events = POLLIN };

	while (!q->greeted && poll(&p, 1, 0) > 0 && qmp_input(q) == 0)
		;
	return q->greeted;
}

int
qmp_fd(const struct qmp *q)
{
	return q->fd;
}

char *
qmp_event_next(struct qmp *q)
{
	char *e;

	if (q->ev_head >= q->events.n) {
		strv_free(&q->events);
		q->ev_head = 0;
		return NULL;
	}
	e = q->events.v[q->ev_head];
	q->events.v[q->ev_head++] = NULL;
	return e;
}

void
qmp_close(struct qmp *q)
{
	if (q == NULL)
		return;
	if (q->fd >= 0)
		close(q->fd);
	if (q->reply)
		json_object_put(q->reply);
	strv_free(&q->events);	/* entries handed out are NULL */
	free(q->buf);
	free(q);
}
