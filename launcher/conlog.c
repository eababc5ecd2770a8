/*
 * conlog.c - the whole serial console of a batch run, kept in a file so
 * that the report of a failure can name it: console-DATE-TIME-PID.log in
 * the developer's $XDG_STATE_HOME/qrun/logs, made with their file rights
 * (under sudo too), removed when the run goes well; of the logs kept,
 * the newest CONLOG_KEEP stay. Only the report's lines are kept in
 * memory, however long the console runs.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "qrun.h"

#define WHY(...) snprintf(why, whylen, __VA_ARGS__)

char *
conlog_dir(const struct priv *pv)
{
	const char *e;

	if (pv->for_other)	/* the developer's, whatever the environment */
		return pv->home[0] == '/' ?
		    xasprintf("%s/.local/state/qrun/logs", pv->home) : NULL;
	if ((e = getenv("XDG_STATE_HOME")) && *e == '/')
		return xasprintf("%s/qrun/logs", e);
	if ((e = getenv("HOME")) && *e == '/')
		return xasprintf("%s/.local/state/qrun/logs", e);
	return pv->home[0] == '/' ?
	    xasprintf("%s/.local/state/qrun/logs", pv->home) : NULL;
}

/* The directory made and the file created, with the developer's file
 * rights: a new file, never one that is there (or a link). */
static FILE *
create(const struct priv *pv, const char *dir, const char *path, char *why,
    size_t whylen)
{
	FILE *f = NULL;
	int fd = -1, r;

	if (access_as_user(pv, true) < 0) {
		WHY("cannot take %s's file rights", pv->user);
		return NULL;
	}
	if ((r = path_mkdirs(dir, 0700)) < 0)
		WHY("%s: %s", dir, strerror(-r));
	else if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) < 0)
		WHY("%s: %s", path, strerror(errno));
	else if ((f = fdopen(fd, "w")) == NULL) {
		WHY("%s: %s", path, strerror(errno));
		close(fd);
	}
	access_as_user(pv, false);
	return f;
}

FILE *
conlog_open(const struct priv *pv, char **path, char *why, size_t whylen)
{
	char *dir = conlog_dir(pv), stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	FILE *f;

	*path = NULL;
	if (dir == NULL) {
		WHY("no home directory to keep it in");
		return NULL;
	}
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	*path = xasprintf("%s/console-%s-%ld.log", dir, stamp, (long)getpid());
	if ((f = create(pv, dir, *path, why, whylen)) == NULL) {
		free(*path);
		*path = NULL;
	}
	free(dir);
	return f;
}

void
conlog_remove(const struct priv *pv, const char *path)
{
	if (access_as_user(pv, true) < 0)
		return;
	unlink(path);
	access_as_user(pv, false);
}

static int
is_log(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return strncmp(d->d_name, "console-", 8) == 0 && n > 12 &&
	    strcmp(d->d_name + n - 4, ".log") == 0;
}

/* The names hold the time they were made: the first in order are the
 * oldest. Another run's pruning at the same time removes no more. */
void
conlog_prune(const struct priv *pv)
{
	char *dir = conlog_dir(pv), *p;
	struct dirent **names = NULL;
	int n = -1;

	if (dir == NULL || access_as_user(pv, true) < 0)
		goto out;
	n = scandir(dir, &names, is_log, alphasort);
	for (int i = 0; i < n; i++) {
		if (i < n - CONLOG_KEEP) {
			p = xasprintf("%s/%s", dir, names[i]->d_name);
			unlink(p);
			free(p);
		}
		free(names[i]);
	}
	free(names);
	access_as_user(pv, false);
out:
	free(dir);
}
