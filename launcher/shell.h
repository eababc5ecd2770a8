/*
 * shell.h - what the shell's three files share: its state and their
 * functions. Private to cmd_shell.c (the shell's life: the guest, the
 * network, its poll loop), shell_console.c (the guest's console as the
 * shell shows and keeps it) and shell_cmds.c (the command table).
 */
#ifndef SHELL_H
#define SHELL_H

#include <regex.h>
#include <sys/stat.h>

#include "qrun.h"
#include "cmd.h"

#define LOG_LINES	2000	/* console lines kept for log and wait */
#define LINE_LEN	4096
#define PARTIAL_MS	200	/* show a partial console line after this */
#define QMP_MS		5000
#define RESET_ECHO_MS	2000	/* SeaBIOS resets once more after ours */
#define KEY_DETACH	29	/* Ctrl-] */

struct shell {
	struct opts *o;
	struct priv priv;
	char *profile;		/* -p, then "profile NAME" */
	struct strv sets;	/* "KEY=VALUE" of set, in order */
	struct config cfg;
	/* The network, once up. */
	struct netplan plan;
	bool net_up;
	struct runnet rn;	/* journal, lock, tap: the same path as boot */
	struct runshare shares;	/* qemu.share: this QEMU's virtiofsds */
	/* The guest. */
	char *image;		/* for the next boot/reboot */
	struct stat img_st;	/* the image as booted */
	enum image_type type;
	struct vm vm;		/* vm.pid < 0: none */
	struct qmp *qmp;
	long boot_ms;
	bool tcg;		/* the guest runs under TCG */
	bool changed;		/* set, unset or profile since the boot */
	long reset_ms;		/* when we last asked for system_reset */
	bool stopping;		/* we asked QEMU to go */
	unsigned long boot_line; /* the first console line of this boot */
	struct ready *probe;	/* ready: the probe in the loop, else NULL */
	bool attached;		/* console: keys go to the guest */
	/* The loop: the console's display and log, stdin, QMP, and while
	 * they run the guest (vm.part), a probe, a host command. */
	struct loop loop;
	struct loop_part console, input, qmp_part;
	bool prompt;		/* stdin goes to the line editor */
	/* The console. */
	char *log[LOG_LINES];
	unsigned long nlog;	/* lines so far; the next one's number */
	unsigned long wait_from;	/* wait looks from this line on */
	char line[LINE_LEN + 1];
	size_t line_len;
	char *disp;		/* partial line not shown yet (prompt up) */
	size_t disp_len;
	long disp_ms;
	char esc[4];		/* a query's start held back (tty); fits
				 * VM_OUT_ROOM */
	size_t nesc;
	bool mid_line;		/* the console's last byte shown was no \n */
	bool tty, quit;
	int fatal;		/* SIGTERM/SIGHUP to die of at the end */
};

/* What shell_pump returns besides a participant's event (or 0). */
enum {
	SH_BREAK = LOOP_USER,	/* stop the running command: Ctrl-C, a
				 * signal, end of input while attached */
	SH_DETACH,		/* Ctrl-] */
};

struct shcmd {
	const char *name;
	int (*fn)(struct shell *, int argc, char **argv);
	const char *usage;
	const char *help;
};

static inline bool
shell_running(const struct shell *sh)
{
	return sh->vm.pid > 0;
}

/* cmd_shell.c */
/* One turn of the shell's loop for up to timeout_ms (-1: until something
 * happens), stdin to the line editor when prompt: SH_BREAK, SH_DETACH, a
 * participant's event (LOOP_READY...), or 0. A guest that is gone is
 * reported and forgotten here. */
int shell_pump(struct shell *, int timeout_ms, bool prompt);
/* Let QEMU go: QMP quit, or SIGTERM; SIGKILL when it lingers (hard:
 * SIGKILL at once). */
void shell_guest_stop(struct shell *, bool hard);
/* Start QEMU on sh->image with the current settings; prints. */
int shell_guest_start(struct shell *);
/* The profile, -o options, then the shell's own sets; prints problems;
 * on failure cfg is left as it was. 0 or EXIT_QRUN. */
int shell_load(struct shell *, const char *profile);
/* Once per shell: plan and take the network up, as a boot does. */
int shell_net_up(struct shell *);
void shell_net_down(struct shell *);

/* shell_console.c */
/* The console's display and log as a participant of sh->loop. */
void shell_console_init(struct shell *);
/* vm_spec.out: show the console's bytes (terminal queries dropped). */
size_t shell_console_out(void *arg, char *buf, size_t n);
void shell_log_line(struct shell *, const char *line);
/* Start our own text on a line of its own after partial console output. */
void shell_console_break(struct shell *);
/* Show the partial console line held back (force: now). */
void shell_show_flush(struct shell *, bool force);
/* Report QMP's events (reset, power off, stop). */
void shell_events(struct shell *);
/* Attached console: keys typed to the guest up to Ctrl-] (KEY_DETACH
 * then; 1 at the end of input, else 0). */
int shell_console_keys(struct shell *);
/* Has the console said re since the cursor? Moves the cursor past it. */
bool shell_wait_scan(struct shell *, regex_t *re);

/* shell_cmds.c */
/* Run one command line; its status. */
int shell_run_line(struct shell *, const char *line);
/* Completion for repl.c; for_other: root completes the profile names
 * of the developer whose home is home. */
void shell_complete_as(bool for_other, const char *home);
int shell_complete(const char *line, int start, const char *text,
    struct strv *out);

#endif
