/*
 * shell_console.c - the guest's console as the shell shows and keeps it:
 * output appears above the prompt and the half-typed line, the guest's
 * terminal queries are dropped so our terminal never answers them into
 * the line editor, the last LOG_LINES lines are kept for log and wait,
 * and QMP's events are reported.
 *
 * Unless the console is attached (everything as it comes, raw), it is
 * shown in whole lines: a line the guest has not ended (a prompt, a
 * terminal's escape sequences) is held back, and shown after PARTIAL_MS
 * of quiet with a line break of ours. So what the shell says, and what a
 * run command prints, always starts on a line of its own, prompt or not.
 */
#include <poll.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "shell.h"

/* ------------------------------------------------------------- console */

void
shell_log_line(struct shell *sh, const char *l)
{
	size_t i = sh->nlog % LOG_LINES;

	free(sh->log[i]);
	sh->log[i] = xstrdup(l);
	sh->nlog++;
}

static void
disp_grow(struct shell *sh, size_t n)
{
	sh->disp = realloc(sh->disp, sh->disp_len + n);
	if (sh->disp == NULL)
		abort();
}

/* Start our own text on a line of its own after partial console output. */
void
shell_console_break(struct shell *sh)
{
	if (sh->mid_line)
		repl_output("\r\n", 2);
	sh->mid_line = false;
}

/* The held-back line, ended by us unless the console is attached: in
 * one write, so that nothing lands between the two. */
void
shell_show_flush(struct shell *sh, bool force)
{
	if (sh->disp_len == 0 ||
	    (!force && mono_ms() - sh->disp_ms < PARTIAL_MS))
		return;
	if (!sh->attached && sh->disp[sh->disp_len - 1] != '\n') {
		disp_grow(sh, 2);
		memcpy(sh->disp + sh->disp_len, "\r\n", 2);
		sh->disp_len += 2;
	}
	repl_output(sh->disp, sh->disp_len);
	sh->mid_line = sh->disp[sh->disp_len - 1] != '\n';
	sh->disp_len = 0;
}

static const char *const queries[] = { "\033[6n", "\033[5n", "\033[0c",
	"\033[c" };

/* Does buf end with the start of a query? Its length, else 0. */
static size_t
query_start(const char *buf, size_t n)
{
	for (size_t l = 3; l > 0; l--)
		for (size_t i = 0; n >= l && i < ARRAY_SIZE(queries); i++)
			if (memcmp(buf + n - l, queries[i], l) == 0)
				return l;
	return 0;
}

/*
 * Drop the guest's terminal queries (cursor position, status, device
 * attributes): our terminal would answer them into the line editor. A
 * query split across reads is held back in sh->esc until the next one.
 * buf has room for sizeof(sh->esc) more bytes.
 */
static size_t
drop_queries(struct shell *sh, char *buf, size_t n)
{
	char *p;

	memmove(buf + sh->nesc, buf, n);
	memcpy(buf, sh->esc, sh->nesc);
	n += sh->nesc;
	for (size_t i = 0; i < ARRAY_SIZE(queries); i++) {
		size_t l = strlen(queries[i]);

		while ((p = memmem(buf, n, queries[i], l)) != NULL) {
			memmove(p, p + l, n - (size_t)(p - buf) - l);
			n -= l;
		}
	}
	sh->nesc = query_start(buf, n);
	memcpy(sh->esc, buf + n - sh->nesc, sh->nesc);
	return n - sh->nesc;
}

/* Show console bytes: whole lines (above the prompt when it is up), or
 * everything as it comes while the console is attached. */
static void
show(struct shell *sh, char *buf, size_t n)
{
	char *nl;
	size_t k;

	if (n == 0)
		return;
	if (sh->attached) {
		shell_show_flush(sh, true);
		repl_output(buf, n);
		sh->mid_line = buf[n - 1] != '\n';
		return;
	}
	disp_grow(sh, n);
	memcpy(sh->disp + sh->disp_len, buf, n);
	sh->disp_len += n;
	sh->disp_ms = mono_ms();
	nl = memrchr(sh->disp, '\n', sh->disp_len);
	if (nl != NULL) {
		k = (size_t)(nl + 1 - sh->disp);
		repl_output(sh->disp, k);
		sh->mid_line = false;
		sh->disp_len -= k;
		memmove(sh->disp, sh->disp + k, sh->disp_len);
	}
	if (sh->disp_len >= LINE_LEN)	/* a line that never ends */
		shell_show_flush(sh, true);
}

/* The console's bytes as QEMU writes them (vm_spec.out): shown, the
 * terminal queries dropped first unless the console is attached. */
size_t
shell_console_out(void *arg, char *buf, size_t n)
{
	struct shell *sh = arg;

	if (sh->tty && !sh->attached)
		n = drop_queries(sh, buf, n);
	show(sh, buf, n);
	return n;
}

/* Each console line into the log ring; the line being written is kept
 * aside (log shows it, wait matches it). */
static int
console_line(void *arg, const char *line, bool partial)
{
	struct shell *sh = arg;

	if (!partial) {
		shell_log_line(sh, line);
		sh->line_len = 0;
		return 0;
	}
	sh->line_len = strnlen(line, LINE_LEN);
	memcpy(sh->line, line, sh->line_len);
	sh->line[sh->line_len] = '\0';
	return 0;
}

/* A partial line held back while the prompt is up shows after
 * PARTIAL_MS. */
static int
console_prepare(void *arg, struct pollfd *pfd)
{
	const struct shell *sh = arg;
	long left;

	(void)pfd;
	if (sh->disp_len == 0)
		return -1;
	left = sh->disp_ms + PARTIAL_MS - mono_ms();
	return left > 0 ? (int)left : 0;
}

static int
console_event(void *arg, const struct pollfd *pfd)
{
	(void)pfd;
	shell_show_flush(arg, false);
	return 0;
}

void
shell_console_init(struct shell *sh)
{
	sh->console.prepare = console_prepare;
	sh->console.event = console_event;
	sh->console.line = console_line;
	sh->console.arg = sh;
	loop_add(&sh->loop, &sh->console);
}

void
shell_events(struct shell *sh)
{
	char *e;

	while (sh->qmp && (e = qmp_event_next(sh->qmp)) != NULL) {
		bool by_guest = strstr(e, ":guest") != NULL;
		/* SeaBIOS resets once more right after our system_reset. */
		bool echo = by_guest &&
		    mono_ms() - sh->reset_ms < RESET_ECHO_MS;

		e[strcspn(e, ":")] = '\0';
		if (!sh->stopping && !echo)
			shell_console_break(sh);
		if (!sh->stopping && !echo && strcmp(e, "RESET") == 0)
			repl_printf("qrun: guest reset%s\n", by_guest ?
			    " (by the guest)" : "");
		else if (!sh->stopping && strcmp(e, "SHUTDOWN") == 0)
			repl_printf("qrun: guest powered off\n");
		else if (!sh->stopping && strcmp(e, "STOP") == 0)
			repl_printf("qrun: guest stopped\n");
		free(e);
	}
}

/* Attached console: pass what was typed to the guest up to Ctrl-]
 * (KEY_DETACH then; 1 at the end of input, else 0). */
int
shell_console_keys(struct shell *sh)
{
	char buf[256], *d;
	ssize_t n = read(0, buf, sizeof(buf)), w;
	size_t len, off = 0;

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : 1;
	if (n == 0)
		return 1;
	d = memchr(buf, KEY_DETACH, (size_t)n);
	len = d ? (size_t)(d - buf) : (size_t)n;
	while (off < len && sh->vm.stdin_fd >= 0) {
		if ((w = write(sh->vm.stdin_fd, buf + off, len - off)) < 0 &&
		    errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	return d ? KEY_DETACH : 0;
}

/* Has the console said re since the cursor? Moves the cursor past it. */
bool
shell_wait_scan(struct shell *sh, regex_t *re)
{
	unsigned long i = sh->wait_from;

	if (sh->nlog > LOG_LINES && i < sh->nlog - LOG_LINES)
		i = sh->nlog - LOG_LINES;
	for (; i < sh->nlog; i++)
		if (regexec(re, sh->log[i % LOG_LINES], 0, NULL, 0) == 0) {
			sh->wait_from = i + 1;
			return true;
		}
	if (sh->line_len > 0 && sh->wait_from <= sh->nlog) {
		sh->line[sh->line_len] = '\0';
		if (regexec(re, sh->line, 0, NULL, 0) == 0) {
			sh->wait_from = sh->nlog + 1;
			return true;
		}
	}
	return false;
}
