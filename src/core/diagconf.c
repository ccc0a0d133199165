/*
 * diagconf.c - the `diagnose` section: defaults, keys, validation.
 *
 * Default lists: Spamhaus ZEN, SpamCop and Barracuda as block lists (the
 * ones large receivers use; Barracuda answers only registered resolvers and
 * Spamhaus refuses public resolvers, both reported as "unchecked", never as
 * listed), DNSWL as allow list. SORBS closed in 2024 and is not listed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "egress/diagconf.h"
#include "egress/dns.h"

static const char *const default_dnsbl[] = {
	"zen.spamhaus.org", "bl.spamcop.net", "b.barracudacentral.org", NULL
};
static const char *const default_dnswl[] = { "list.dnswl.org", NULL };

static int
strlist_from(struct strlist *l, const char *const *v)
{
	size_t n = 0, i;

	while (v[n])
		n++;
	if ((l->v = calloc(n + 1, sizeof(*l->v))) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if ((l->v[i] = strdup(v[i])) == NULL) {
			l->n = i;
			strlist_free(l);
			return -1;
		}
	l->n = n;
	return 0;
}

int
diagnose_conf_default(struct diagnose_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->timeout_ms = 5000;
	c->max_queries = DNS_DEFAULT_BUDGET;
	c->preflight_ttl = 3600;
	if ((c->preflight_header = strdup("X-Egress-Preflight")) == NULL ||
	    strlist_from(&c->dnsbl, default_dnsbl) != 0 ||
	    strlist_from(&c->dnswl, default_dnswl) != 0) {
		diagnose_conf_fini(c);
		return -1;
	}
	return 0;
}

void
diagnose_conf_fini(struct diagnose_conf *c)
{
	if (c == NULL)
		return;
	strlist_free(&c->egress_ips);
	strlist_free(&c->dnsbl);
	strlist_free(&c->dnswl);
	strlist_free(&c->stubs);
	strlist_free(&c->dkim_signed_domains);
	free(c->preflight_header);
	free(c->helo);
	free(c->trust_anchor);
	memset(c, 0, sizeof(*c));
}

static const char *const diagnose_keys[] = {
	"egress_ips", "helo", "dnsbl", "dnswl", "stubs", "timeout_ms",
	"max_queries", "trust_anchor", "preflight", "preflight_ttl",
	"preflight_header", "dkim_signed_domains", "selfcheck_interval", NULL
};

/* An RFC 5322 field name: printable ASCII but ':' (section 3.6.8). */
static int
field_name_ok(const char *s)
{
	if (*s == '\0' || strlen(s) > 76)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f || *s == ':')
			return 0;
	return 1;
}

/* A zone or host name: letters, digits, '-', '_', dots, no empty label. */
static int
zone_ok(const char *z)
{
	size_t n = strlen(z), label = 0, i;

	if (n == 0 || n > DNS_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		if (z[i] == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", z[i]) == NULL) {
			return 0;
		} else {
			label++;
		}
	}
	return label > 0;
}

/* "ZONE=ADDR@PORT" or "ZONE=ADDR" */
static int
stub_ok(const char *s)
{
	char zone[DNS_NAME_MAX + 1], addr[64], canon[64];
	const char *eq = strchr(s, '='), *at;
	size_t zl;

	if (eq == NULL || (zl = (size_t)(eq - s)) == 0 || zl > DNS_NAME_MAX)
		return 0;
	memcpy(zone, s, zl);
	zone[zl] = '\0';
	if (!zone_ok(zone))
		return 0;
	at = strchr(eq + 1, '@');
	if ((at ? (size_t)(at - eq - 1) : strlen(eq + 1)) >= sizeof(addr))
		return 0;
	snprintf(addr, sizeof(addr), "%.*s", at ? (int)(at - eq - 1) : 63, eq + 1);
	if (dns_addr_canon(addr, canon, sizeof(canon)) == 0)
		return 0;
	if (at) {
		char *end;
		long p = strtol(at + 1, &end, 10);

		if (end == at + 1 || *end != '\0' || p < 1 || p > 65535)
			return 0;
	}
	return 1;
}

int
diagnose_config_load(struct diagnose_conf *c, const config_setting_t *grp,
    struct cfg_errors *errs)
{
	int bad = 0;
	size_t i;

	if (grp == NULL)
		return 0;
	cfg_allow_keys(grp, diagnose_keys, errs);
	if (cfg_strlist(grp, "egress_ips", &c->egress_ips, errs) < 0)
		bad = 1;
	for (i = 0; i < c->egress_ips.n; i++) {
		char canon[64];

		if (dns_addr_canon(c->egress_ips.v[i], canon, sizeof(canon)) == 0) {
			cfg_error(errs, cfg_member(grp, "egress_ips"), "egress_ips",
			    "\"%s\" is not an IPv4 or IPv6 address", c->egress_ips.v[i]);
			bad = 1;
		}
	}
	if (cfg_string(grp, "helo", &c->helo, errs) < 0)
		bad = 1;
	else if (c->helo != NULL && !zone_ok(c->helo)) {
		cfg_error(errs, cfg_member(grp, "helo"), "helo", "\"%s\" is not a host name", c->helo);
		bad = 1;
	}
	if (cfg_member(grp, "dnsbl") != NULL) {
		strlist_free(&c->dnsbl);
		if (cfg_strlist(grp, "dnsbl", &c->dnsbl, errs) < 0)
			bad = 1;
	}
	if (cfg_member(grp, "dnswl") != NULL) {
		strlist_free(&c->dnswl);
		if (cfg_strlist(grp, "dnswl", &c->dnswl, errs) < 0)
			bad = 1;
	}
	for (i = 0; i < c->dnsbl.n + c->dnswl.n; i++) {
		const char *z = i < c->dnsbl.n ? c->dnsbl.v[i] : c->dnswl.v[i - c->dnsbl.n];

		if (!zone_ok(z)) {
			cfg_error(errs, cfg_member(grp, i < c->dnsbl.n ? "dnsbl" : "dnswl"),
			    i < c->dnsbl.n ? "dnsbl" : "dnswl", "\"%s\" is not a zone name", z);
			bad = 1;
		}
	}
	if (cfg_strlist(grp, "stubs", &c->stubs, errs) < 0)
		bad = 1;
	for (i = 0; i < c->stubs.n; i++)
		if (!stub_ok(c->stubs.v[i])) {
			cfg_error(errs, cfg_member(grp, "stubs"), "stubs",
			    "\"%s\" is not ZONE=ADDRESS[@PORT]", c->stubs.v[i]);
			bad = 1;
		}
	if (cfg_int(grp, "timeout_ms", 100, 60000, &c->timeout_ms, errs) < 0)
		bad = 1;
	if (cfg_int(grp, "max_queries", 1, 1000, &c->max_queries, errs) < 0)
		bad = 1;
	if (cfg_string(grp, "trust_anchor", &c->trust_anchor, errs) < 0)
		bad = 1;
	{
		char *mode = NULL;
		int rc = cfg_string(grp, "preflight", &mode, errs);

		if (rc < 0)
			bad = 1;
		else if (rc == 1) {
			if (strcmp(mode, "off") == 0)
				c->preflight = PREFLIGHT_OFF;
			else if (strcmp(mode, "tag") == 0)
				c->preflight = PREFLIGHT_TAG;
			else if (strcmp(mode, "hold") == 0)
				c->preflight = PREFLIGHT_HOLD;
			else {
				cfg_error(errs, cfg_member(grp, "preflight"), "preflight",
				    "\"%s\" is not off, tag or hold", mode);
				bad = 1;
			}
		}
		free(mode);
	}
	if (cfg_duration(grp, "preflight_ttl", 60, 7 * 86400, &c->preflight_ttl, errs) < 0)
		bad = 1;
	if (cfg_string(grp, "preflight_header", &c->preflight_header, errs) < 0)
		bad = 1;
	else if (!field_name_ok(c->preflight_header)) {
		cfg_error(errs, cfg_member(grp, "preflight_header"), "preflight_header",
		    "\"%s\" is not a header field name", c->preflight_header);
		bad = 1;
	}
	if (cfg_strlist(grp, "dkim_signed_domains", &c->dkim_signed_domains, errs) < 0)
		bad = 1;
	for (i = 0; i < c->dkim_signed_domains.n; i++)
		if (!zone_ok(c->dkim_signed_domains.v[i])) {
			cfg_error(errs, cfg_member(grp, "dkim_signed_domains"),
			    "dkim_signed_domains", "\"%s\" is not a domain",
			    c->dkim_signed_domains.v[i]);
			bad = 1;
		}
	if (cfg_duration(grp, "selfcheck_interval", 0, 7 * 86400, &c->selfcheck_interval,
	    errs) < 0)
		bad = 1;
	if (c->preflight != PREFLIGHT_OFF && c->egress_ips.n == 0) {
		cfg_error(errs, cfg_member(grp, "preflight"), "preflight",
		    "needs diagnose.egress_ips (the addresses SPF is evaluated for)");
		bad = 1;
	}
	if (c->selfcheck_interval > 0 && c->egress_ips.n == 0) {
		cfg_error(errs, cfg_member(grp, "selfcheck_interval"), "selfcheck_interval",
		    "needs diagnose.egress_ips (the addresses to look up)");
		bad = 1;
	}
	return bad ? -1 : 0;
}
