/*
 * dnsbl.c - block/allow list lookups and the lists' documented codes.
 *
 * Sources for the code tables (cited, facts only):
 *  - Spamhaus ZEN return codes and the 127.255.255.x error codes:
 *    https://docs.spamhaus.com/datasets/docs/source/10-data-type-documentation/datasets/040-zones.html
 *    and https://www.spamhaus.org/news/article/788/ (open resolvers).
 *  - SpamCop and Barracuda answer 127.0.0.2 for every listing.
 *  - DNSWL.org answers 127.0.C.T (C category, T trust 0-3) and 127.0.0.255
 *    when the querier is over its limit.
 * SORBS closed in June 2024; a configured SORBS zone is queried like any
 * other (its answers now mean nothing) and the docs say to drop it.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "egress/dnsbl.h"

struct code_meaning {
	const char	*code;
	const char	*meaning;
	int		 refusal;
};

static const struct code_meaning zen_codes[] = {
	{ "127.0.0.2", "SBL: Spamhaus block list (spam source or operation)", 0 },
	{ "127.0.0.3", "SBL CSS: snowshoe or low-reputation sending", 0 },
	{ "127.0.0.4", "XBL: exploited host (malware, open proxy)", 0 },
	{ "127.0.0.5", "XBL: exploited host", 0 },
	{ "127.0.0.6", "XBL: exploited host", 0 },
	{ "127.0.0.7", "XBL: exploited host", 0 },
	{ "127.0.0.9", "SBL DROP: hijacked or criminal network", 0 },
	{ "127.0.0.10", "PBL: end-user range, the ISP says it should not send direct", 0 },
	{ "127.0.0.11", "PBL: end-user range, listed by Spamhaus", 0 },
	{ "127.255.255.252", "refused: the query named a zone that does not exist (typo)", 1 },
	{ "127.255.255.254", "refused: query through a public or open resolver", 1 },
	{ "127.255.255.255", "refused: over the free query quota", 1 },
	{ NULL, NULL, 0 },
};

static const struct code_meaning dnswl_codes[] = {
	{ "127.0.0.255", "refused: over the query limit", 1 },
	{ NULL, NULL, 0 },
};

static int
zone_is(const char *zone, const char *suffix)
{
	size_t zl = strlen(zone), sl = strlen(suffix);

	return zl >= sl && strcasecmp(zone + zl - sl, suffix) == 0 &&
	    (zl == sl || zone[zl - sl - 1] == '.');
}

const char *
dnsbl_code_meaning(const char *zone, const char *code, int *refusal)
{
	const struct code_meaning *t = NULL;
	struct in_addr a;

	*refusal = 0;
	if (inet_pton(AF_INET, code, &a) != 1 || (ntohl(a.s_addr) >> 24) != 127) {
		*refusal = 1;
		return "not a list answer (outside 127.0.0.0/8: a resolver rewriting NXDOMAIN?)";
	}
	if (zone_is(zone, "spamhaus.org") || zone_is(zone, "spamhaus.net"))
		t = zen_codes;
	else if (zone_is(zone, "dnswl.org"))
		t = dnswl_codes;
	for (; t && t->code; t++)
		if (strcmp(t->code, code) == 0) {
			*refusal = t->refusal;
			return t->meaning;
		}
	/* Every list reserves 127.255.255.0/24 for errors in practice. */
	if ((ntohl(a.s_addr) >> 8) == 0x7fffff) {
		*refusal = 1;
		return "refused: an error code of the list";
	}
	return "listed";
}

const char *
dnsbl_verdict_name(enum dnsbl_verdict v)
{
	switch (v) {
	case DNSBL_CLEAN: return "clean";
	case DNSBL_LISTED: return "listed";
	case DNSBL_UNCHECKED: return "unchecked";
	}
	return "unchecked";
}

enum dnsbl_verdict
dnsbl_check(struct dns_client *dns, const char *addr, const char *zone,
    int allow_list, struct dnsbl_result *r)
{
	struct dns_answer a;
	enum dns_status st;
	size_t i, n = 0;
	int any_listing = 0;
	const char *meaning = NULL;

	memset(r, 0, sizeof(*r));
	if (dns_reverse_name(addr, zone, r->query, sizeof(r->query)) != 0) {
		r->v = DNSBL_UNCHECKED;
		snprintf(r->meaning, sizeof(r->meaning), "not an IP address");
		return r->v;
	}
	st = dns_ask(dns, r->query, DNS_T_A, &a);
	if (st == DNS_NXDOMAIN || (st == DNS_OK && a.nrr == 0)) {
		r->v = DNSBL_CLEAN;
		snprintf(r->meaning, sizeof(r->meaning), allow_list ?
		    "not on the allow list" : "not listed");
		return r->v;
	}
	if (st != DNS_OK) {
		r->v = DNSBL_UNCHECKED;
		snprintf(r->meaning, sizeof(r->meaning), "could not check: %s",
		    dns_status_name(st));
		return r->v;
	}
	for (i = 0; i < a.nrr; i++) {
		int refusal;
		const char *m = dnsbl_code_meaning(zone, a.rr[i].data, &refusal);
		int w = snprintf(r->code + n, sizeof(r->code) - n, "%s%s",
		    i ? "," : "", a.rr[i].data);

		if (w > 0 && (size_t)w < sizeof(r->code) - n)
			n += (size_t)w;
		if (refusal) {
			if (!any_listing)
				meaning = m;
		} else if (!any_listing) {
			any_listing = 1;
			meaning = m;
		}
	}
	if (!any_listing) {
		r->v = DNSBL_UNCHECKED;
		snprintf(r->meaning, sizeof(r->meaning), "could not check: %s",
		    meaning ? meaning : "refused");
		return r->v;
	}
	r->v = DNSBL_LISTED;
	snprintf(r->meaning, sizeof(r->meaning), "%s%s", allow_list ? "trusted: " : "",
	    meaning);
	if (dns_ask(dns, r->query, DNS_T_TXT, &a) == DNS_OK && a.nrr > 0) {
		for (i = n = 0; a.rr[0].data[i] && n + 1 < sizeof(r->txt); i++) {
			unsigned char ch = (unsigned char)a.rr[0].data[i];

			r->txt[n++] = ch >= ' ' && ch < 0x7f ? (char)ch : '?';
		}
		r->txt[n] = '\0';
	}
	return r->v;
}
