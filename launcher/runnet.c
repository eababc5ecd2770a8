/*
 * runnet.c - one run's hold on the host network, shared by a boot and the
 * shell so both take the same checked path: access list, journal with the
 * run's metadata, tap lock, replay of dead runs, the ensure step of the
 * mode (local tap or bridge port), the open tap queue; and the undo.
 * Prints once per problem ("qrun: ...") and returns 0 or EXIT_QRUN.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "qrun.h"

void
runnet_init(struct runnet *rn, struct netplan *plan, const struct priv *pv)
{
	memset(rn, 0, sizeof(*rn));
	rn->plan = plan;
	rn->priv = pv;
	rn->lock_fd = rn->tap_fd = -1;
}

/* Run metadata for "qrun status", kept in the journal. */
static void
runnet_info(struct runnet *rn, const char *image)
{
	const struct netplan *p = rn->plan;
	char h[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN], *abs;

	journal_log(rn->journal, "info mode %s", net_mode_name(p->mode));
	if (p->mode == NET_TAP || p->mode == NET_BRIDGE)
		journal_log(rn->journal, "info tap %s", p->tap);
	if (p->mode == NET_BRIDGE)
		journal_log(rn->journal, "info bridge %s", p->bridge);
	if (p->mode == NET_TAP)
		journal_log(rn->journal, "info host %s/%d", ip_str(p->host, h),
		    p->prefix);
	if (p->have_guest)
		journal_log(rn->journal, "info guest %s", ip_str(p->guest, g));
	if (p->mode != NET_NONE)
		journal_log(rn->journal,
		    "info mac %02x:%02x:%02x:%02x:%02x:%02x",
		    p->mac[0], p->mac[1], p->mac[2], p->mac[3], p->mac[4],
		    p->mac[5]);
	abs = realpath(image, NULL);
	journal_log(rn->journal, "info image %s", abs ? abs : image);
	free(abs);
}

/* Lock the tap, replay dead runs, make the tap or bridge port, open it. */
static int
runnet_tap(struct runnet *rn)
{
	struct netplan *p = rn->plan;
	char why[512];
	pid_t holder = 0;
	struct net_link l;
	int r, n = 0;

	if ((r = access_net_open(rn->priv, &rn->net)) < 0) {
		warnx("netlink: %s", strerror(-r));
		return EXIT_QRUN;
	}
	r = lock_tap(rn->state, p->tap, &rn->lock_fd, &holder);
	if (r == -EBUSY) {
		warnx("%s: in use by qrun pid %ld", p->tap, (long)holder);
		return EXIT_QRUN;
	} else if (r < 0) {
		warnx("%s: cannot lock: %s", p->tap, strerror(-r));
		return EXIT_QRUN;
	}
	if (journal_cleanup(rn->state, rn->net, &n) == 0 && n > 0)
		warnx("undid the leftovers of %d dead run%s", n,
		    n == 1 ? "" : "s");
	if ((p->mode == NET_BRIDGE ?
	    bridge_ensure_port(rn->net, rn->journal, p, rn->priv, &l,
	    &rn->tap_fd, why, sizeof(why)) :
	    ensure_tap(rn->net, rn->journal, p, rn->priv, &l, &rn->tap_fd,
	    why, sizeof(why))) < 0) {
		warnx("%s", why);
		return EXIT_QRUN;
	}
	/* a tap made here comes with its queue open */
	if (rn->tap_fd < 0 &&
	    (rn->tap_fd = net_tap_open(&l, p->plain_frames)) < 0) {
		warnx("%s: cannot open: %s", p->tap, strerror(-rn->tap_fd));
		return EXIT_QRUN;
	}
	return 0;
}

/*
 * Journal the run and, in tap and bridge mode, make the network true.
 * Raises the network capability (priv_net); the caller lowers it once
 * its own network work is done. On failure, runnet_down() undoes.
 */
int
runnet_up(struct runnet *rn, const char *image)
{
	const struct netplan *p = rn->plan;
	bool tap = p->mode == NET_TAP || p->mode == NET_BRIDGE;
	char why[512];
	int r;

	if (tap && access_check(rn->priv, p->tap, p->mode == NET_BRIDGE ?
	    p->bridge : NULL, why, sizeof(why)) < 0) {
		warnx("%s", why);
		return EXIT_QRUN;
	}
	priv_net(rn->priv, true);
	rn->state = state_dir(rn->priv->for_other);
	if ((r = journal_open(rn->state, &rn->journal)) < 0) {
		warnx("%s: cannot open the journal: %s", rn->state,
		    strerror(-r));
		return EXIT_QRUN;
	}
	runnet_info(rn, image);
	return tap ? runnet_tap(rn) : 0;
}

/* Undo what the journal says (or keep it: net.keep), unlock, close. */
void
runnet_down(struct runnet *rn)
{
	int r;

	priv_net(rn->priv, true);
	if (rn->journal && rn->plan->keep)
		journal_close(rn->journal);
	else if (rn->journal && (r = journal_undo(rn->journal, rn->net)) < 0)
		warnx("%s: undo incomplete (%s); run qrun cleanup",
		    rn->plan->tap, strerror(-r));
	rn->journal = NULL;
	/* Closed after the undo: detaching the last queue of a tap that is
	 * about to go is one more netdev event for the kernel to process. */
	if (rn->tap_fd >= 0)
		close(rn->tap_fd);
	rn->tap_fd = -1;
	if (rn->lock_fd >= 0)
		unlock_tap(rn->lock_fd);
	rn->lock_fd = -1;
	if (rn->net)
		net_close(rn->net);
	rn->net = NULL;
	free(rn->state);
	rn->state = NULL;
	priv_net(rn->priv, false);
}
