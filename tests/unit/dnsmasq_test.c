/*
 * dnsmasq_test.c - net.dhcp's pure half: the plan (net.dhcp, net.dns and
 * whether they were asked for) and the configuration text and argv of
 * the tap's dnsmasq.
 */
#include <stdlib.h>
#include <string.h>

#include "qrun.h"
#include "unit.h"

static void
cfg_tap(struct config *c)
{
	config_init(c);
	free(c->net_tap);
	c->net_tap = xstrdup("tap1");
	c->net_mode = NET_TAP;
}

/* Say key k was set by "-o KEY". */
static void
set_where(struct config *c, enum cfg_key k, const char *w)
{
	free(c->where[k]);
	c->where[k] = xstrdup(w);
}

/* The defaults: DHCP and DNS on, not asked for (so skippable). */
START_TEST(test_plan_defaults)
{
	struct config c;
	struct netplan p;
	struct strv d = { 0 };

	cfg_tap(&c);
	ck_assert_int_eq(netplan_make(&c, "jack", &p, &d), 0);
	ck_assert(p.nic[0].dhcp && p.nic[0].dns && !p.nic[0].dhcp_asked);
	ck_assert_str_eq(p.nic[0].dhcp_off, "");
	set_where(&c, K_NET_DHCP, "-o net.dhcp");
	ck_assert_int_eq(netplan_make(&c, "jack", &p, &d), 0);
	ck_assert(p.nic[0].dhcp_asked);
	strv_free(&d);
	config_free(&c);
}
END_TEST

/* net.dns alone: off with dhcp; set true with dhcp false: an error. */
START_TEST(test_plan_dns_without_dhcp)
{
	struct config c;
	struct netplan p;
	struct strv d = { 0 };

	cfg_tap(&c);
	c.net_dhcp = false;
	set_where(&c, K_NET_DHCP, "-o net.dhcp");
	ck_assert_int_eq(netplan_make(&c, "jack", &p, &d), 0);
	ck_assert(!p.nic[0].dhcp && !p.nic[0].dns);
	set_where(&c, K_NET_DNS, "-o net.dns");
	ck_assert_int_eq(netplan_make(&c, "jack", &p, &d), -EINVAL);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_str_eq(d.v[0], "-o net.dns: net.dns: needs net.dhcp = "
	    "true (the guest learns its DNS server by DHCP)");
	strv_free(&d);
	config_free(&c);
}
END_TEST

static struct dnsmasq_host guest;

static void
conf_tap1(struct dnsmasq_conf *c, bool v6, bool dns)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };

	memset(c, 0, sizeof(*c));
	memset(&guest, 0, sizeof(guest));
	snprintf(c->link, sizeof(c->link), "tap1");
	ck_assert_int_eq(ipaddr_parse("172.21.0.1/16", IPA_PREFIX, &c->host),
	    0);
	if (v6)
		ck_assert_int_eq(ipaddr_parse("fd00:172:21::1/64", IPA_PREFIX,
		    &c->host6), 0);
	c->dns = dns;
	memcpy(guest.mac, mac, 6);
	ck_assert_int_eq(ipaddr_parse("172.21.0.2", 0, &guest.v4), 0);
	if (v6)
		ck_assert_int_eq(ipaddr_parse("fd00:172:21:0:5054:ff:fe12:3456",
		    0, &guest.v6), 0);
	snprintf(guest.name, sizeof(guest.name), "guest");
	c->hosts = &guest;
	c->nhosts = 1;
}

/* The whole file for tap1 with IPv6 and DNS: bound to tap1, static
 * leases, router advertisements, names. */
START_TEST(test_conf_full)
{
	struct dnsmasq_conf c;
	char *t;

	conf_tap1(&c, true, true);
	t = dnsmasq_conf_text(&c);
	ck_assert_str_eq(t,
	    "# qrun: dnsmasq for tap1; removed when the run ends\n"
	    "interface=tap1\n"
	    "except-interface=lo\n"
	    "bind-dynamic\n"
	    "no-hosts\n"
	    "resolv-file=/etc/resolv.conf\n"
	    "domain-needed\n"
	    "bogus-priv\n"
	    "local=/qrun/\n"
	    "domain=qrun\n"
	    "host-record=host.qrun,172.21.0.1,fd00:172:21::1\n"
	    "dhcp-option=option6:dns-server,[fd00:172:21::1]\n"
	    "dhcp-range=172.21.0.0,static,255.255.0.0,12h\n"
	    "dhcp-option=option:router,172.21.0.1\n"
	    "dhcp-authoritative\n"
	    "no-ping\n"
	    "quiet-dhcp\n"
	    "enable-ra\n"
	    "dhcp-range=fd00:172:21::,static,slaac,64,12h\n"
	    "quiet-dhcp6\n"
	    "quiet-ra\n"
	    "host-record=guest.qrun,172.21.0.2,fd00:172:21:0:5054:ff:fe12:3456\n"
	    "dhcp-host=52:54:00:12:34:56,172.21.0.2,"
	    "[fd00:172:21:0:5054:ff:fe12:3456],12h\n");
	free(t);
}
END_TEST

/* No IPv6: no RA, no DHCPv6; no DNS: port 0, no DNS server handed out,
 * no names. */
START_TEST(test_conf_v4_nodns)
{
	struct dnsmasq_conf c;
	char *t;

	conf_tap1(&c, false, false);
	c.mtu = 1400;
	t = dnsmasq_conf_text(&c);
	ck_assert_ptr_nonnull(strstr(t, "\nport=0\ndhcp-option=option:"
	    "dns-server\n"));
	ck_assert_ptr_nonnull(strstr(t, "\ndhcp-option=option:mtu,1400\n"));
	ck_assert_ptr_null(strstr(t, "enable-ra"));
	ck_assert_ptr_null(strstr(t, "host-record"));
	ck_assert_ptr_null(strstr(t, "option6"));
	ck_assert_ptr_nonnull(strstr(t,
	    "\ndhcp-host=52:54:00:12:34:56,172.21.0.2,12h\n"));
	free(t);
}
END_TEST

/* Its command line: foreground, qrun's files only, logs to stderr. */
START_TEST(test_argv)
{
	struct strv a = { 0 };

	dnsmasq_argv("/s/c", "/s/p", "/s/l", "dnsmasq", "nogroup", &a);
	ck_assert_uint_eq(a.n, 8);
	ck_assert_str_eq(a.v[1], "--keep-in-foreground");
	ck_assert_str_eq(a.v[2], "--conf-file=/s/c");
	ck_assert_str_eq(a.v[3], "--pid-file=/s/p");
	ck_assert_str_eq(a.v[4], "--dhcp-leasefile=/s/l");
	ck_assert_str_eq(a.v[5], "--log-facility=-");
	ck_assert_str_eq(a.v[6], "--user=dnsmasq");
	ck_assert_str_eq(a.v[7], "--group=nogroup");
	strv_free(&a);
	dnsmasq_argv("/dev/fd/3", "/s/p", "/s/l", NULL, NULL, &a);
	ck_assert_uint_eq(a.n, 6);
	strv_free(&a);
}
END_TEST

Suite *
dnsmasq_suite(void)
{
	Suite *s = suite_create("dnsmasq");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_plan_defaults);
	tcase_add_test(tc, test_plan_dns_without_dhcp);
	tcase_add_test(tc, test_conf_full);
	tcase_add_test(tc, test_conf_v4_nodns);
	tcase_add_test(tc, test_argv);
	suite_add_tcase(s, tc);
	return s;
}
