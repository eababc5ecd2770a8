/*
 * priv.c - who the developer is and how QEMU loses qrun's privileges.
 * Under sudo the developer is SUDO_UID/SUDO_GID; qrun sets up the network
 * as root and QEMU runs as the developer, with no capabilities and no way
 * to gain new privileges.
 */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "qrun.h"

int
priv_init(struct priv *pv)
{
	const char *su = getenv("SUDO_UID"), *sg = getenv("SUDO_GID");
	struct passwd *pw;
	long v;

	memset(pv, 0, sizeof(*pv));
	pv->root = geteuid() == 0;
	pv->uid = getuid();
	pv->gid = getgid();
	if (pv->root && su && parse_long(su, 0, 0x7fffffff, &v) == 0 &&
	    v != 0) {
		pv->uid = (uid_t)v;
		pv->gid = sg && parse_long(sg, 0, 0x7fffffff, &v) == 0 ?
		    (gid_t)v : (gid_t)-1;
	}
	pw = getpwuid(pv->uid);
	if (pw && pv->gid == (gid_t)-1)
		pv->gid = pw->pw_gid;
	if (pv->gid == (gid_t)-1)
		pv->gid = getgid();
	if (pw)
		snprintf(pv->user, sizeof(pv->user), "%s", pw->pw_name);
	else
		snprintf(pv->user, sizeof(pv->user), "%lu",
		    (unsigned long)pv->uid);
	pv->for_other = pv->uid != geteuid() || getuid() != geteuid();
	return 0;
}

/* Drop every capability of this process (all sets). */
static int
caps_clear(void)
{
	cap_t c = cap_init();
	int r = 0;

	if (c == NULL)
		return -errno;
	if (cap_set_proc(c) < 0)
		r = -errno;
	cap_free(c);
	return r;
}

int
priv_drop(const struct priv *pv)
{
	if (geteuid() == 0 && pv->uid != 0) {
		if (initgroups(pv->user, pv->gid) < 0 &&
		    setgroups(0, NULL) < 0)
			return -errno;
		if (setresgid(pv->gid, pv->gid, pv->gid) < 0 ||
		    setresuid(pv->uid, pv->uid, pv->uid) < 0)
			return -errno;
	} else if (geteuid() != getuid()) {
		if (setresuid(getuid(), getuid(), getuid()) < 0)
			return -errno;
	}
	if (pv->uid != 0 && caps_clear() < 0)
		return -EPERM;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return 0;
}
