/*
 * priv.c - who the developer is and how QEMU loses qrun's privileges.
 * Under sudo the developer is SUDO_UID/SUDO_GID; qrun sets up the network
 * as root and QEMU runs as the developer, with no capabilities and no way
 * to gain new privileges.
 *
 * Installed with the file capability cap_net_admin (make install CAPS=1)
 * qrun runs as the developer holding CAP_NET_ADMIN ("netcap"). It counts
 * as elevated on behalf of the developer (for_other: QRUN_* environment
 * overrides are ignored), keeps the capability out of its effective set
 * except around network changes (priv_net), and drops it for good before
 * exec'ing QEMU. Such a process cannot create the root-owned /run/qrun,
 * so its state dir is the developer's own ($XDG_RUNTIME_DIR/qrun, 0700):
 * everything read back from there is treated as hostile, and net.c then
 * only ever changes taps the developer owns (and access.c's guard only
 * those the access list grants), so a planted journal can make qrun do
 * nothing the developer could not ask of it directly.
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

/* Is CAP_NET_ADMIN in our permitted set (a file capability)? */
static bool
has_net_admin(void)
{
	cap_flag_value_t f = CAP_CLEAR;
	cap_t c = cap_get_proc();

	if (c == NULL)
		return false;
	if (cap_get_flag(c, CAP_NET_ADMIN, CAP_PERMITTED, &f) < 0)
		f = CAP_CLEAR;
	cap_free(c);
	return f == CAP_SET;
}

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
		snprintf(pv->home, sizeof(pv->home), "%s", pw->pw_dir);
	if (pw)
		snprintf(pv->user, sizeof(pv->user), "%s", pw->pw_name);
	else
		snprintf(pv->user, sizeof(pv->user), "%lu",
		    (unsigned long)pv->uid);
	pv->netcap = !pv->root && has_net_admin();
	pv->for_other = pv->uid != geteuid() || getuid() != geteuid() ||
	    pv->netcap;
	return priv_net(pv, false);	/* raised only around changes */
}

/*
 * Raise CAP_NET_ADMIN, or lower it and the capabilities only passed on
 * to dnsmasq (cap_net_bind_service, cap_net_raw: an admin may add them
 * to the file so that net.dhcp works), which qrun itself never uses.
 */
int
priv_net(const struct priv *pv, bool on)
{
	cap_value_t v[] = { CAP_NET_ADMIN, CAP_NET_BIND_SERVICE, CAP_NET_RAW };
	cap_t c;
	int r = 0;

	if (!pv->netcap)
		return 0;
	if ((c = cap_get_proc()) == NULL)
		return -errno;
	if (cap_set_flag(c, CAP_EFFECTIVE, on ? 1 : (int)ARRAY_SIZE(v), v,
	    on ? CAP_SET : CAP_CLEAR) < 0 || cap_set_proc(c) < 0)
		r = -errno;
	cap_free(c);
	return r;
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

/*
 * Where this run's journal and locks live. Root: /run/qrun. Anyone else
 * (a capability-enabled qrun included): a directory of the developer's
 * own that no other user can create first, $XDG_RUNTIME_DIR/qrun, else
 * $XDG_STATE_HOME/qrun or ~/.local/state/qrun (journals of an earlier
 * boot there are recognised by their boot id). QRUN_STATE_DIR (tests)
 * counts only when qrun is not elevated for the user.
 */
char *
priv_state_dir(const struct priv *pv)
{
	const char *e = getenv("QRUN_STATE_DIR");

	if (!pv->for_other && e && *e)
		return xstrdup(e);
	if (geteuid() == 0)
		return xstrdup("/run/qrun");
	if ((e = getenv("XDG_RUNTIME_DIR")) && *e == '/')
		return xasprintf("%s/qrun", e);
	if ((e = getenv("XDG_STATE_HOME")) && *e == '/')
		return xasprintf("%s/qrun", e);
	return xasprintf("%s/.local/state/qrun", pv->home[0] ? pv->home :
	    "/nonexistent");
}
