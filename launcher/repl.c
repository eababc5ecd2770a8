/*
 * repl.c - the shell's line input. On a terminal: GNU readline's callback
 * interface, so the shell's one poll loop can also serve the guest console
 * and QMP, and text from them is printed above the prompt while the
 * half-typed line is kept and redrawn. The terminal keeps ISIG off for the
 * whole session: Ctrl-C is a key (clear the line, or break a running
 * command), so no SIGINT ever reaches QEMU, which shares our process
 * group. Not a terminal: plain lines, no prompt, no history.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>
#include <readline/readline.h>
#include <readline/history.h>

#include "qrun.h"

#define HISTORY_MAX	1000

static struct {
	struct repl_conf conf;
	bool active;		/* the handler is installed, prompt shown */
	bool eof;
	bool closing;
	bool have_tio;
	struct termios tio;	/* the terminal as we found it */
	struct strv lines;	/* queued, oldest first */
	size_t head;
	char *pend;		/* not a terminal: a partial line */
	size_t pend_len;
	struct strv cand;	/* completion candidates */
	size_t cand_i;
} R;

static void
queue_line(const char *line)
{
	strv_push(&R.lines, line);
}

/* readline has a whole line (or NULL at EOF): queue it and hide the
 * prompt until the command is done. */
static void
on_line(char *line)
{
	if (line == NULL)
		R.eof = true;
	else {
		if (line[strspn(line, " \t")] != '\0')
			add_history(line);
		queue_line(line);
		free(line);
	}
	rl_callback_handler_remove();
	R.active = false;
}

static void
noisig(void)
{
	struct termios t;

	if (tcgetattr(0, &t) == 0) {
		t.c_lflag &= ~(tcflag_t)ISIG;
		tcsetattr(0, TCSANOW, &t);
	}
}

static void
prep(int meta)
{
	rl_prep_terminal(meta);
	noisig();
}

/* Between commands the terminal stays as readline prepared it (no echo,
 * no ISIG), so Ctrl-C typed during a command is read, not a signal. */
static void
deprep(void)
{
	if (R.closing)
		rl_deprep_terminal();
}

static int
key_ctrl_c(int count, int key)
{
	(void)count;
	(void)key;
	repl_interrupt();
	return 0;
}

static char *
cand_next(const char *text, int state)
{
	size_t len = strlen(text);

	if (state == 0)
		R.cand_i = 0;
	while (R.cand_i < R.cand.n) {
		const char *c = R.cand.v[R.cand_i++];

		if (strncmp(c, text, len) == 0)
			return xstrdup(c);
	}
	return NULL;
}

/* Switch to (on) or back from the file rights of conf.as, if any. */
static int
as_user(bool on)
{
	return R.conf.as ? access_as_user(R.conf.as, on) : 0;
}

/* Completion reads directories (profiles, file names) with the file
 * rights the history uses. */
static char **
attempt(const char *text, int start, int end)
{
	char **m;

	(void)end;
	strv_free(&R.cand);
	rl_attempted_completion_over = 1;
	if (as_user(true) < 0)
		return NULL;
	if (R.conf.complete(rl_line_buffer, start, text, &R.cand) > 0)
		m = rl_completion_matches(text,	/* file names */
		    rl_filename_completion_function);
	else
		m = rl_completion_matches(text, cand_next);
	as_user(false);
	return m;
}

/* mkdir -p for the directory part of path. */
static void
mkdirs(const char *path)
{
	char *d = xstrdup(path), *slash = strrchr(d, '/');

	if (slash != NULL && slash != d) {
		*slash = '\0';
		path_mkdirs(d, 0700);	/* else writing the history says why */
	}
	free(d);
}

int
repl_open(const struct repl_conf *c)
{
	memset(&R, 0, sizeof(R));
	R.conf = *c;
	if (!c->tty)
		return 0;
	R.have_tio = tcgetattr(0, &R.tio) == 0;
	rl_readline_name = "qrun";
	rl_catch_signals = 0;
	rl_catch_sigwinch = 1;
	rl_prep_term_function = prep;
	rl_deprep_term_function = deprep;
	rl_attempted_completion_function = c->complete ? attempt : NULL;
	rl_bind_key(CTRL('C'), key_ctrl_c);
	stifle_history(HISTORY_MAX);
	if (c->history && as_user(true) == 0) {
		mkdirs(c->history);
		read_history(c->history);
		as_user(false);
	}
	return 0;
}

void
repl_close(void)
{
	R.closing = true;
	if (R.conf.tty) {
		if (R.active)
			rl_callback_handler_remove();
		else
			rl_deprep_terminal();
		if (R.have_tio)
			tcsetattr(0, TCSANOW, &R.tio);
		if (R.conf.history && as_user(true) == 0) {
			if (write_history(R.conf.history) == 0)
				chmod(R.conf.history, 0600);
			as_user(false);
		}
	}
	R.active = false;
	strv_free(&R.lines);
	strv_free(&R.cand);
	free(R.pend);
	R.pend = NULL;
}

/* Not a terminal: split what read() gives into lines. */
static void
plain_input(void)
{
	char buf[4096], *nl;
	ssize_t n = read(0, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		if (R.pend_len > 0) {
			R.pend[R.pend_len] = '\0';
			queue_line(R.pend);
			R.pend_len = 0;
		}
		R.eof = true;
		return;
	}
	R.pend = realloc(R.pend, R.pend_len + (size_t)n + 1);
	if (R.pend == NULL)
		abort();
	memcpy(R.pend + R.pend_len, buf, (size_t)n);
	R.pend_len += (size_t)n;
	while ((nl = memchr(R.pend, '\n', R.pend_len)) != NULL) {
		*nl = '\0';
		queue_line(R.pend);
		R.pend_len -= (size_t)(nl + 1 - R.pend);
		memmove(R.pend, nl + 1, R.pend_len);
	}
}

void
repl_input(void)
{
	if (!R.conf.tty)
		plain_input();
	else if (R.active)
		rl_callback_read_char();
}

char *
repl_line(bool *eof)
{
	char *l;

	*eof = false;
	if (R.head < R.lines.n) {
		l = R.lines.v[R.head];
		R.lines.v[R.head++] = NULL;
		return l;
	}
	strv_free(&R.lines);
	R.head = 0;
	*eof = R.eof;
	return NULL;
}

void
repl_pause(void)
{
	if (R.conf.tty && R.active)
		rl_callback_handler_remove();
	R.active = false;
}

void
repl_resume(void)
{
	if (!R.conf.tty || R.active || R.eof)
		return;
	R.active = true;
	rl_callback_handler_install(R.conf.prompt, on_line);
}

bool
repl_active(void)
{
	return R.active;
}

static void
write_all(const char *buf, size_t n)
{
	ssize_t w;

	fflush(stdout);
	while (n > 0) {
		w = write(1, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		buf += w;
		n -= (size_t)w;
	}
}

void
repl_output(const char *buf, size_t n)
{
	char *line;
	int point;

	if (!R.active) {
		write_all(buf, n);
		return;
	}
	point = rl_point;
	line = rl_copy_text(0, rl_end);
	rl_set_prompt("");
	rl_replace_line("", 0);
	rl_redisplay();
	write_all(buf, n);
	rl_set_prompt(R.conf.prompt);
	rl_replace_line(line, 0);
	rl_point = point;
	rl_redisplay();
	free(line);
}

void
repl_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s)
		repl_output(s, strlen(s));
	free(s);
}

void
repl_interrupt(void)
{
	if (!R.active)
		return;
	rl_replace_line("", 0);
	rl_point = rl_end = 0;
	write_all("^C\n", 3);
	rl_on_new_line();
	rl_redisplay();
}

int
repl_read_key(void)
{
	char buf[64];
	ssize_t n;
	struct pollfd p = { .fd = 0, .events = POLLIN };

	if (!R.conf.tty || R.active || poll(&p, 1, 0) <= 0)
		return 0;
	if ((n = read(0, buf, sizeof(buf))) <= 0)
		return 0;
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] == CTRL('C') || buf[i] == CTRL(']'))
			return buf[i];
	return 0;	/* type-ahead is dropped */
}
