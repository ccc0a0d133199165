/*
 * diagnose.c - the postmaster's checks after a rejection (see diagnose.h).
 *
 * Bounds: DIAG_MAX_IPS addresses, DIAG_MAX_SIGS signatures, DIAG_MAX_CHECKS
 * lines; the DNS budget of the client bounds the queries (a check past it
 * is "unchecked: query-limit"). DNS answers are untrusted: the formatters
 * print them with every byte outside printable ASCII replaced.
 *
 * Memory: answers are heap-allocated per check (struct dns_answer is tens
 * of KiB). Pure: no I/O but the caller's DNS client.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <libpsl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "egress/diagnose.h"
#include "egress/dnsbl.h"
#include "egress/json.h"
#include "egress/spf.h"

const char *
diag_verdict_name(enum diag_verdict v)
{
	switch (v) {
	case DIAG_OK: return "ok";
	case DIAG_INFO: return "info";
	case DIAG_WARN: return "warn";
	case DIAG_FAIL: return "fail";
	case DIAG_UNCHECKED: return "unchecked";
	}
	return "unchecked";
}

struct diag_check *
diag_add(struct diag_result *res, const char *name, enum diag_verdict v)
{
	struct diag_check *c;

	if (res->n >= DIAG_MAX_CHECKS)
		return NULL;
	c = &res->checks[res->n++];
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->verdict = v;
	return c;
}

/*
 * printf into a check field, ignoring a NULL check (the table is full).
 * Fields are bounded on purpose: a long DNS answer is cut, not an error.
 */
static void ck_printf(char *dst, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
ck_printf(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(dst, n, fmt, ap);
	va_end(ap);
}

#define CK_SET(c, field, ...) \
	do { if ((c) != NULL) ck_printf((c)->field, sizeof((c)->field), __VA_ARGS__); } while (0)

int
diag_find_ip(const char *text, char *out, size_t outlen)
{
	const char *p;

	if (text == NULL)
		return 0;
	for (p = text; *p; p++) {
		char cand[64];
		size_t n = 0;
		const char *q = p;

		if (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '.' ||
		    p[-1] == ':'))
			continue;
		while (*q && (isxdigit((unsigned char)*q) || *q == '.' || *q == ':') &&
		    n + 1 < sizeof(cand))
			cand[n++] = *q++;
		while (n > 0 && (cand[n - 1] == '.' || cand[n - 1] == ':'))
			n--;	/* "[192.0.2.1]." or "ip 192.0.2.1:" */
		cand[n] = '\0';
		if (n < 7 || isalnum((unsigned char)*q))
			continue;
		if (strchr(cand, ':') != NULL && strchr(cand, '.') == NULL &&
		    strstr(cand, "::") == NULL && strlen(cand) < 15)
			continue;	/* "12:34:56" times, not addresses */
		if (dns_addr_canon(cand, out, outlen) != 0)
			return 1;
	}
	return 0;
}

static int
in_list(const char *s, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(s, list[i]) == 0)
			return 1;
	return 0;
}

/* ------------------------------------------------------------ the checks */

static void
check_lists(struct dns_client *dns, const struct diag_conf *cf,
    const char *ip, struct diag_result *res)
{
	struct dnsbl_result r;
	struct diag_check *c;
	size_t i;

	for (i = 0; i < cf->n_dnsbl; i++) {
		enum dnsbl_verdict v = dnsbl_check(dns, ip, cf->dnsbl[i], 0, &r);

		c = diag_add(res, "dnsbl", v == DNSBL_CLEAN ? DIAG_OK :
		    v == DNSBL_LISTED ? DIAG_FAIL : DIAG_UNCHECKED);
		CK_SET(c, asked, "%s on %s (A %s)", ip, cf->dnsbl[i], r.query);
		if (v == DNSBL_LISTED) {
			CK_SET(c, answer, "listed: %s (%s)%s%s", r.code, r.meaning,
			    r.txt[0] ? " " : "", r.txt);
			CK_SET(c, fix, "%s is listed on %s (%s: %s): stop the source "
			    "first, then request removal at the list's own page",
			    ip, cf->dnsbl[i], r.code, r.meaning);
			CK_SET(c, evidence, "%s listed on %s (%s)", ip, cf->dnsbl[i], r.code);
		} else if (v == DNSBL_UNCHECKED) {
			CK_SET(c, answer, "NOT CHECKED: %s%s%s", r.meaning,
			    r.code[0] ? " " : "", r.code);
		} else {
			CK_SET(c, answer, "%s", r.meaning);
		}
	}
	for (i = 0; i < cf->n_dnswl; i++) {
		enum dnsbl_verdict v = dnsbl_check(dns, ip, cf->dnswl[i], 1, &r);

		c = diag_add(res, "dnswl", v == DNSBL_UNCHECKED ? DIAG_UNCHECKED : DIAG_INFO);
		CK_SET(c, asked, "%s on %s", ip, cf->dnswl[i]);
		CK_SET(c, answer, "%s%s%s", r.meaning, r.code[0] ? " " : "", r.code);
	}
}

/* Does NAME have an A/AAAA record equal to IP (canonical)? -1 DNS failure. */
static int
name_resolves_to(struct dns_client *dns, const char *name, const char *ip,
    struct dns_answer *a, char *seen, size_t seenlen)
{
	char canon[64];
	enum dns_status st;
	size_t i;
	int fam = dns_addr_canon(ip, canon, sizeof(canon));

	st = dns_ask(dns, name, fam == 6 ? DNS_T_AAAA : DNS_T_A, a);
	if (dns_status_is_failure(st))
		return -1;
	if (seen)
		ck_printf(seen, seenlen, "%s", st == DNS_OK && a->nrr ? a->rr[0].data : "none");
	for (i = 0; st == DNS_OK && i < a->nrr; i++) {
		char c2[64];

		if (dns_addr_canon(a->rr[i].data, c2, sizeof(c2)) && strcmp(c2, canon) == 0)
			return 1;
	}
	return 0;
}

static void
check_rdns(struct dns_client *dns, const struct diag_conf *cf, const char *ip,
    int egress, struct diag_result *res, struct dns_answer *a)
{
	char rev[DNS_NAME_MAX + 1], name[DNS_NAME_MAX + 1], seen[80];
	struct diag_check *c;
	enum dns_status st;
	int r;

	if (dns_reverse_name(ip, strchr(ip, ':') ? "ip6.arpa" : "in-addr.arpa",
	    rev, sizeof(rev)) != 0)
		return;
	st = dns_ask(dns, rev, DNS_T_PTR, a);
	if (dns_status_is_failure(st)) {
		c = diag_add(res, "rdns", DIAG_UNCHECKED);
		CK_SET(c, asked, "PTR %s", rev);
		CK_SET(c, answer, "could not check: %s", dns_status_name(st));
		return;
	}
	if (st != DNS_OK || a->nrr == 0) {
		c = diag_add(res, "rdns", DIAG_FAIL);
		CK_SET(c, asked, "PTR %s", rev);
		CK_SET(c, answer, "no PTR record");
		CK_SET(c, evidence, "%s has no PTR record", ip);
		CK_SET(c, fix, "ask the owner of %s (your provider) for a PTR record "
		    "naming a host whose A/AAAA record points back to it; Gmail, "
		    "Microsoft and Yahoo reject mail from IPs without one", ip);
		return;
	}
	ck_printf(name, sizeof(name), "%s", a->rr[0].data);
	r = name_resolves_to(dns, name, ip, a, seen, sizeof(seen));
	c = diag_add(res, "rdns", r == 1 ? DIAG_OK : r < 0 ? DIAG_UNCHECKED : DIAG_FAIL);
	CK_SET(c, asked, "PTR %s, then the address of %s", rev, name);
	if (r == 1)
		CK_SET(c, answer, "%s -> %s -> %s: forward-confirmed", ip, name, ip);
	else if (r < 0)
		CK_SET(c, answer, "%s -> %s -> could not check", ip, name);
	else {
		CK_SET(c, answer, "%s -> %s -> %s: not forward-confirmed", ip, name, seen);
		CK_SET(c, evidence, "%s -> %s not forward-confirmed", ip, name);
		CK_SET(c, fix, "make %s resolve to %s (or change the PTR of %s to a "
		    "name that does)", name, ip, ip);
	}
	if (egress && cf->helo != NULL && cf->helo[0] != '\0') {
		r = name_resolves_to(dns, cf->helo, ip, a, seen, sizeof(seen));
		c = diag_add(res, "helo", r == 1 ? DIAG_OK : r < 0 ? DIAG_UNCHECKED : DIAG_WARN);
		CK_SET(c, asked, "address of HELO name %s", cf->helo);
		if (r == 1)
			CK_SET(c, answer, "%s resolves to %s%s", cf->helo, ip,
			    strcasecmp(cf->helo, name) == 0 ? " and matches the PTR" : "");
		else if (r < 0)
			CK_SET(c, answer, "could not check");
		else {
			CK_SET(c, answer, "%s resolves to %s, not %s", cf->helo, seen, ip);
			CK_SET(c, fix, "set the HELO name (Postfix smtp_helo_name) to a "
			    "name that resolves to %s, ideally its PTR name %s", ip, name);
		}
	}
}

struct auth_state {
	int	spf_pass_aligned;	/* some egress IP passes SPF, aligned */
	int	spf_checked;		/* some SPF verdict was reached */
	int	dkim_aligned_key;	/* an aligned signature's key exists */
	char	spf_summary[256];
};

static const char *
org_domain(const struct diag_conf *cf, const char *d)
{
	const char *o = cf->psl ? psl_registrable_domain(cf->psl, d) : NULL;

	return o ? o : d;
}

static int
aligned(const struct diag_conf *cf, char mode, const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return 0;
	if (strcasecmp(a, b) == 0)
		return 1;
	return mode != 's' && strcasecmp(org_domain(cf, a), org_domain(cf, b)) == 0;
}

static void
check_spf(struct dns_client *dns, const struct diag_conf *cf,
    const struct diag_subject *s, const char *const *ips, size_t nips,
    struct diag_result *res, struct auth_state *st, char aspf)
{
	const char *dom = s->mailfrom_domain ? s->mailfrom_domain : s->from_domain;
	struct spf_eval ev;
	struct diag_check *c;
	size_t i;

	if (dom == NULL)
		return;
	for (i = 0; i < nips; i++) {
		enum spf_result r = spf_check_host(dns, ips[i], dom, NULL, cf->helo, &ev);
		enum diag_verdict v = r == SPF_PASS ? DIAG_OK :
		    r == SPF_TEMPERROR ? DIAG_UNCHECKED :
		    r == SPF_NEUTRAL || r == SPF_NONE ? DIAG_WARN : DIAG_FAIL;

		c = diag_add(res, "spf", v);
		CK_SET(c, asked, "SPF of %s for %s (%u DNS terms)", dom, ips[i], ev.dns_terms);
		if (r == SPF_PASS || r == SPF_FAIL || r == SPF_SOFTFAIL || r == SPF_NEUTRAL)
			CK_SET(c, answer, "%s (%s%s%s) record \"%.200s\"", spf_result_name(r),
			    ev.matched[0] ? ev.matched : "no term matched",
			    strcasecmp(ev.domain, dom) ? " in " : "",
			    strcasecmp(ev.domain, dom) ? ev.domain : "", ev.record);
		else
			CK_SET(c, answer, "%s: %s", spf_result_name(r), ev.why);
		if (r != SPF_TEMPERROR)
			st->spf_checked = 1;
		if (r == SPF_PASS && aligned(cf, aspf, dom, s->from_domain ? s->from_domain : dom))
			st->spf_pass_aligned = 1;
		switch (r) {
		case SPF_FAIL:
		case SPF_SOFTFAIL:
		case SPF_NEUTRAL:
			CK_SET(c, evidence, "SPF %s for %s: %s", dom, ips[i], spf_result_name(r));
			CK_SET(c, fix, "add %s:%s to the SPF record of %s (or an include: "
			    "of the provider that sends for it)", strchr(ips[i], ':') ?
			    "ip6" : "ip4", ips[i], dom);
			snprintf(st->spf_summary, sizeof(st->spf_summary), "SPF for %s %s "
			    "(record has no term covering it)", ips[i], r == SPF_NEUTRAL ?
			    "is neutral" : "fails");
			break;
		case SPF_NONE:
			CK_SET(c, fix, "publish an SPF record for %s, e.g. \"v=spf1 %s:%s "
			    "-all\"", dom, strchr(ips[i], ':') ? "ip6" : "ip4", ips[i]);
			snprintf(st->spf_summary, sizeof(st->spf_summary),
			    "%s publishes no SPF record", dom);
			break;
		case SPF_PERMERROR:
			CK_SET(c, evidence, "SPF %s: permerror", dom);
			CK_SET(c, fix, "fix the SPF record of %s: %s (receivers treat a "
			    "permerror as a failure)", dom, ev.why);
			ck_printf(st->spf_summary, sizeof(st->spf_summary),
			    "the SPF record of %s is broken (%s)", dom, ev.why);
			break;
		default:
			break;
		}
	}
}

static void
check_dkim(struct dns_client *dns, const struct diag_conf *cf,
    const struct diag_subject *s, struct diag_result *res,
    struct auth_state *st, char adkim, struct dns_answer *a)
{
	struct diag_check *c;
	size_t i;

	if (s->nsigs == 0) {
		if (s->copy_returned) {
			c = diag_add(res, "dkim", DIAG_WARN);
			CK_SET(c, asked, "DKIM-Signature on the returned copy");
			CK_SET(c, answer, "none: the message carried no DKIM signature");
			CK_SET(c, fix, "sign outgoing mail with DKIM for %s (e.g. OpenDKIM "
			    "before milter-egress)", s->from_domain ? s->from_domain : "the From domain");
		}
		return;
	}
	for (i = 0; i < s->nsigs && i < DIAG_MAX_SIGS; i++) {
		const struct dkim_sig *sig = &s->sigs[i];
		char name[DNS_NAME_MAX + 1];
		struct dkim_key key;
		enum dns_status ds;
		int w = snprintf(name, sizeof(name), "%s._domainkey.%s", sig->s, sig->d);

		if (w < 0 || (size_t)w >= sizeof(name))
			continue;
		ds = dns_ask(dns, name, DNS_T_TXT, a);
		if (dns_status_is_failure(ds)) {
			c = diag_add(res, "dkim", DIAG_UNCHECKED);
			CK_SET(c, asked, "key TXT %s", name);
			CK_SET(c, answer, "could not check: %s", dns_status_name(ds));
			continue;
		}
		if (ds != DNS_OK || a->nrr == 0) {
			c = diag_add(res, "dkim", DIAG_FAIL);
			CK_SET(c, asked, "key TXT %s", name);
			CK_SET(c, answer, "no key record: every receiver fails this signature");
			CK_SET(c, evidence, "DKIM key %s missing", name);
			CK_SET(c, fix, "publish the public key of selector %s at %s", sig->s, name);
			continue;
		}
		if (dkim_key_parse(a->rr[0].data, &key) != 0) {
			c = diag_add(res, "dkim", DIAG_FAIL);
			CK_SET(c, asked, "key TXT %s", name);
			CK_SET(c, answer, "key record does not parse: %s", key.error);
			CK_SET(c, evidence, "DKIM key %s does not parse", name);
			CK_SET(c, fix, "republish the key record at %s (%s)", name, key.error);
			continue;
		}
		if (key.revoked) {
			c = diag_add(res, "dkim", DIAG_FAIL);
			CK_SET(c, asked, "key TXT %s", name);
			CK_SET(c, answer, "key revoked (empty p=)");
			CK_SET(c, evidence, "DKIM key %s revoked", name);
			CK_SET(c, fix, "the signer uses revoked selector %s: switch it to "
			    "the current selector", sig->s);
			continue;
		}
		c = diag_add(res, "dkim", key.k == DKIM_K_RSA && key.bits < 1024 ?
		    DIAG_FAIL : DIAG_OK);
		CK_SET(c, asked, "key TXT %s (d=%s s=%s)", name, sig->d, sig->s);
		CK_SET(c, answer, "%s key, %u bits%s%s", key.k == DKIM_K_ED25519 ?
		    "ed25519" : "rsa", key.bits, key.testing ? ", testing (t=y)" : "",
		    aligned(cf, adkim, sig->d, s->from_domain) ? ", aligned with From" :
		    ", not aligned with From");
		if (key.k == DKIM_K_RSA && key.bits < 1024)
			CK_SET(c, evidence, "DKIM key %s has %u bits", name, key.bits);
		if (key.k == DKIM_K_RSA && key.bits < 1024)
			CK_SET(c, fix, "replace the %u-bit key of %s with a 2048-bit key "
			    "(receivers ignore keys under 1024 bits)", key.bits, name);
		else if (aligned(cf, adkim, sig->d, s->from_domain))
			st->dkim_aligned_key = 1;
	}
}

static void
check_dmarc(struct dns_client *dns, const struct diag_conf *cf,
    const struct diag_subject *s, const char *const *ips, size_t nips,
    struct diag_result *res, struct dns_answer *a)
{
	char name[DNS_NAME_MAX + 1], policy_dom[DNS_NAME_MAX + 1];
	struct dmarc_record rec;
	struct auth_state st;
	struct diag_check *c;
	const char *txt = NULL;
	enum dns_status ds;
	size_t i, found = 0;
	int org_lookup = 0;

	memset(&st, 0, sizeof(st));
	if (s->from_domain == NULL) {
		check_spf(dns, cf, s, ips, nips, res, &st, 'r');
		check_dkim(dns, cf, s, res, &st, 'r', a);
		return;
	}
	snprintf(policy_dom, sizeof(policy_dom), "%s", s->from_domain);
	for (;;) {
		ck_printf(name, sizeof(name), "_dmarc.%s", policy_dom);
		ds = dns_ask(dns, name, DNS_T_TXT, a);
		if (dns_status_is_failure(ds))
			break;
		for (i = found = 0; ds == DNS_OK && i < a->nrr; i++)
			if (dmarc_is_record(a->rr[i].data) && found++ == 0)
				txt = a->rr[i].data;
		if (found > 0 || org_lookup)
			break;
		/* RFC 7489 section 6.6.3: fall back to the organisational domain */
		if (strcasecmp(org_domain(cf, s->from_domain), s->from_domain) == 0)
			break;
		snprintf(policy_dom, sizeof(policy_dom), "%s", org_domain(cf, s->from_domain));
		org_lookup = 1;
	}
	if (dns_status_is_failure(ds)) {
		c = diag_add(res, "dmarc", DIAG_UNCHECKED);
		CK_SET(c, asked, "TXT %s", name);
		CK_SET(c, answer, "could not check: %s", dns_status_name(ds));
		check_spf(dns, cf, s, ips, nips, res, &st, 'r');
		check_dkim(dns, cf, s, res, &st, 'r', a);
		return;
	}
	if (found == 0) {
		c = diag_add(res, "dmarc", DIAG_WARN);
		CK_SET(c, asked, "TXT _dmarc.%s%s%s", s->from_domain,
		    org_lookup ? " and " : "", org_lookup ? name : "");
		CK_SET(c, answer, "no DMARC record");
		CK_SET(c, fix, "publish a DMARC record for %s (at least \"v=DMARC1; "
		    "p=none\"): Gmail and Yahoo require one from bulk senders",
		    org_domain(cf, s->from_domain));
		check_spf(dns, cf, s, ips, nips, res, &st, 'r');
		check_dkim(dns, cf, s, res, &st, 'r', a);
		return;
	}
	if (found > 1 || dmarc_record_parse(txt, &rec) != 0) {
		c = diag_add(res, "dmarc", DIAG_FAIL);
		CK_SET(c, asked, "TXT %s", name);
		CK_SET(c, answer, "%s", found > 1 ? "more than one DMARC record" : rec.error);
		CK_SET(c, fix, "publish exactly one valid DMARC record at %s", name);
		check_spf(dns, cf, s, ips, nips, res, &st, 'r');
		check_dkim(dns, cf, s, res, &st, 'r', a);
		return;
	}
	{
		enum dmarc_policy p = org_lookup && rec.sp != DMARC_P_UNSET ? rec.sp : rec.p;

		check_spf(dns, cf, s, ips, nips, res, &st, rec.aspf);
		check_dkim(dns, cf, s, res, &st, rec.adkim, a);
		c = diag_add(res, "dmarc", DIAG_INFO);
		CK_SET(c, asked, "TXT %s%s", name, org_lookup ? " (organisational domain)" : "");
		if (st.spf_pass_aligned || st.dkim_aligned_key) {
			if (c)
				c->verdict = DIAG_OK;
			CK_SET(c, answer, "%s publishes p=%s adkim=%c aspf=%c; aligned %s%s%s",
			    policy_dom, dmarc_policy_name(p), rec.adkim, rec.aspf,
			    st.spf_pass_aligned ? "SPF pass" : "",
			    st.spf_pass_aligned && st.dkim_aligned_key ? " and " : "",
			    st.dkim_aligned_key ? "DKIM signature (key present)" : "");
		} else if (p == DMARC_P_NONE) {
			if (c)
				c->verdict = DIAG_WARN;
			CK_SET(c, answer, "%s publishes p=none; nothing aligned passes",
			    policy_dom);
			CK_SET(c, fix, "before moving %s to p=quarantine or p=reject, make "
			    "SPF pass aligned or sign with DKIM d=%s", policy_dom,
			    s->from_domain);
		} else if (!st.spf_checked && s->nsigs == 0 && !s->copy_returned) {
			if (c)
				c->verdict = DIAG_UNCHECKED;
			CK_SET(c, answer, "%s publishes p=%s; alignment could not be checked",
			    policy_dom, dmarc_policy_name(p));
		} else {
			if (c)
				c->verdict = DIAG_FAIL;
			CK_SET(c, answer, "%s publishes p=%s and neither SPF nor DKIM "
			    "passes aligned", policy_dom, dmarc_policy_name(p));
			CK_SET(c, evidence, "DMARC %s p=%s: nothing aligned passes",
			    policy_dom, dmarc_policy_name(p));
			CK_SET(c, fix, "%s publishes DMARC p=%s; %s%s: add the IP to SPF "
			    "or sign with DKIM d=%s", policy_dom, dmarc_policy_name(p),
			    st.spf_summary[0] ? st.spf_summary : "SPF does not pass aligned",
			    s->nsigs == 0 ? " and the message carried no DKIM signature" :
			    " and no aligned DKIM key was found", s->from_domain);
		}
	}
}

static void
check_mx(struct dns_client *dns, const char *domain, struct diag_result *res,
    struct dns_answer *a)
{
	struct diag_check *c;
	enum dns_status ds = dns_ask(dns, domain, DNS_T_MX, a);
	char first[DNS_NAME_MAX + 1], seen[80];
	size_t i;
	int null_mx = 0;

	if (dns_status_is_failure(ds)) {
		c = diag_add(res, "mx", DIAG_UNCHECKED);
		CK_SET(c, asked, "MX %s", domain);
		CK_SET(c, answer, "could not check: %s", dns_status_name(ds));
		return;
	}
	if (ds == DNS_NXDOMAIN) {
		c = diag_add(res, "mx", DIAG_FAIL);
		CK_SET(c, asked, "MX %s", domain);
		CK_SET(c, answer, "%s does not exist (NXDOMAIN)", domain);
		CK_SET(c, fix, "the recipient domain %s does not exist: correct the "
		    "address (a typo?) or remove it from the list", domain);
		return;
	}
	for (i = 0; i < a->nrr; i++)
		if (a->rr[i].data[0] == '\0' || strcmp(a->rr[i].data, ".") == 0)
			null_mx = 1;
	if (null_mx) {
		c = diag_add(res, "mx", DIAG_FAIL);
		CK_SET(c, asked, "MX %s", domain);
		CK_SET(c, answer, "null MX (RFC 7505): %s accepts no mail", domain);
		CK_SET(c, fix, "%s accepts no mail: remove the recipient", domain);
		return;
	}
	if (a->nrr == 0) {
		int r;

		c = diag_add(res, "mx", DIAG_WARN);
		CK_SET(c, asked, "MX %s", domain);
		r = name_resolves_to(dns, domain, "0.0.0.0", a, seen, sizeof(seen));
		if (r < 0) {
			if (c)
				c->verdict = DIAG_UNCHECKED;
			CK_SET(c, answer, "no MX; the address record could not be checked");
		} else if (strcmp(seen, "none") == 0) {
			if (c)
				c->verdict = DIAG_FAIL;
			CK_SET(c, answer, "no MX and no address record: %s takes no mail", domain);
			CK_SET(c, fix, "%s has no mail server: correct or remove the recipient", domain);
		} else {
			CK_SET(c, answer, "no MX; mail goes to the address record %s", seen);
		}
		return;
	}
	ck_printf(first, sizeof(first), "%s", a->rr[0].data);
	{
		unsigned best = a->rr[0].pref;

		for (i = 1; i < a->nrr; i++)
			if (a->rr[i].pref < best) {
				best = a->rr[i].pref;
				ck_printf(first, sizeof(first), "%s", a->rr[i].data);
			}
	}
	c = diag_add(res, "mx", DIAG_OK);
	CK_SET(c, asked, "MX %s", domain);
	CK_SET(c, answer, "%zu MX record(s), preferred %s", a->nrr, first);
	if (name_resolves_to(dns, first, "0.0.0.0", a, seen, sizeof(seen)) == 0 &&
	    strcmp(seen, "none") == 0 && c != NULL) {
		c->verdict = DIAG_FAIL;
		CK_SET(c, answer, "MX %s has no address record", first);
		CK_SET(c, fix, "the mail server %s of %s does not resolve: the domain's "
		    "mail is broken on their side; retry later or contact them", first, domain);
	}
}

/* ------------------------------------------------------------- the plan */

enum { B_LISTS = 1, B_RDNS = 2, B_AUTH = 4, B_MX = 8 };

static unsigned
bucket_plan(const struct diag_subject *s, char *bucket, size_t blen)
{
	const char *cat = s->category;

	if (cat == NULL) {
		snprintf(bucket, blen, "all");
		return B_LISTS | B_RDNS | B_AUTH | (s->rcpt_domain ? B_MX : 0);
	}
	snprintf(bucket, blen, "%s", cat);
	if (strcmp(cat, "reputation") == 0 || strcmp(cat, "rate") == 0)
		return B_LISTS | B_RDNS;
	if (strcmp(cat, "authentication") == 0)
		return B_AUTH | B_RDNS;
	if (strcmp(cat, "preflight") == 0)
		return B_AUTH;	/* the daemon's DMARC preflight: SPF and DMARC */
	if (strcmp(cat, "content") == 0 || strcmp(cat, "policy") == 0)
		return B_AUTH | B_LISTS;
	if (strcmp(cat, "recipient") == 0)
		return s->reason && strcmp(s->reason, "hostunknown") == 0 ? B_MX : 0;
	if (strcmp(cat, "transient") == 0 && s->reason &&
	    strcmp(s->reason, "networkerror") == 0)
		return B_MX;
	return 0;
}

/*
 * Which failure's fix leads: a listing first (nothing else matters while
 * listed), then DMARC (its fix names the SPF and DKIM remedy together),
 * then the rest in the order a receiver evaluates them.
 */
static int
fix_rank(const char *check)
{
	static const char *const order[] = { "dnsbl", "dmarc", "mx", "dkim", "spf",
	    "rdns", "helo", NULL };
	int i;

	for (i = 0; order[i]; i++)
		if (strcmp(order[i], check) == 0)
			return i;
	return i;
}

static void
pick_fix(struct diag_result *res, unsigned plan)
{
	size_t i;
	int unchecked = 0, warn = -1, best = -1;

	for (i = 0; i < res->n; i++)
		if (res->checks[i].verdict == DIAG_FAIL && res->checks[i].fix[0] &&
		    (best < 0 || fix_rank(res->checks[i].name) <
		    fix_rank(res->checks[best].name)))
			best = (int)i;
	if (best >= 0) {
		snprintf(res->fix, sizeof(res->fix), "%s", res->checks[best].fix);
		return;
	}
	for (i = 0; i < res->n; i++) {
		if (res->checks[i].verdict == DIAG_UNCHECKED)
			unchecked++;
		if (res->checks[i].verdict == DIAG_WARN && warn < 0 && res->checks[i].fix[0])
			warn = (int)i;
	}
	if (unchecked)
		snprintf(res->fix, sizeof(res->fix), "%d check(s) could not be made; "
		    "nothing found is the cause so far: re-run when DNS answers", unchecked);
	else if (warn >= 0)
		snprintf(res->fix, sizeof(res->fix), "%s", res->checks[warn].fix);
	else if (plan == 0)
		snprintf(res->fix, sizeof(res->fix), "no DNS check bears on this "
		    "failure: act on the recipient (suppress, retry later) as classified");
	else
		snprintf(res->fix, sizeof(res->fix), "DNS records and lists are not the "
		    "cause: look at the message content and the sender's list hygiene");
}

void
diagnose_run(struct dns_client *dns, const struct diag_conf *cf,
    const struct diag_subject *s, struct diag_result *res)
{
	const char *ips[DIAG_MAX_IPS];
	int egress[DIAG_MAX_IPS];
	char named[64];
	struct dns_answer *a;
	struct diag_check *c;
	size_t nips = 0, i;
	unsigned plan;

	memset(res, 0, sizeof(*res));
	plan = bucket_plan(s, res->bucket, sizeof(res->bucket));
	if ((a = malloc(sizeof(*a))) == NULL) {
		c = diag_add(res, "diagnose", DIAG_UNCHECKED);
		CK_SET(c, answer, "out of memory");
		pick_fix(res, plan);
		return;
	}
	named[0] = '\0';
	if (s->named_ip && dns_addr_canon(s->named_ip, named, sizeof(named))) {
		int ours = in_list(named, cf->egress_ips, cf->n_egress);

		c = diag_add(res, "ip", DIAG_INFO);
		CK_SET(c, asked, "IP named in the bounce");
		CK_SET(c, answer, "%s %s", named, ours ? "= an egress IP" :
		    cf->n_egress ? "is not one of diagnose.egress_ips (the submitting "
		    "client from Received, or another relay?)" : "(no egress IPs configured)");
		ips[nips] = named;
		egress[nips++] = ours || cf->n_egress == 0;
	}
	for (i = 0; i < cf->n_egress && nips < DIAG_MAX_IPS; i++) {
		char canon[64];

		if (named[0] && dns_addr_canon(cf->egress_ips[i], canon, sizeof(canon)) &&
		    strcmp(canon, named) == 0)
			continue;
		ips[nips] = cf->egress_ips[i];
		egress[nips++] = 1;
	}
	if (nips == 0 && (plan & (B_LISTS | B_RDNS | B_AUTH))) {
		c = diag_add(res, "ip", DIAG_UNCHECKED);
		CK_SET(c, asked, "which IP sent the message");
		CK_SET(c, answer, "the bounce names none and diagnose.egress_ips is empty");
		CK_SET(c, fix, "set diagnose.egress_ips to the server's outbound addresses");
	}
	for (i = 0; i < nips; i++) {
		if (plan & B_LISTS)
			check_lists(dns, cf, ips[i], res);
		if (plan & B_RDNS)
			check_rdns(dns, cf, ips[i], egress[i], res, a);
	}
	if (plan & B_AUTH) {
		const char *spf_ips[DIAG_MAX_IPS];
		size_t n = 0;

		/* SPF is about the IPs this server sends from */
		for (i = 0; i < nips; i++)
			if (egress[i])
				spf_ips[n++] = ips[i];
		check_dmarc(dns, cf, s, spf_ips, n, res, a);
	}
	if ((plan & B_MX) && s->rcpt_domain)
		check_mx(dns, s->rcpt_domain, res, a);
	free(a);
	pick_fix(res, plan);
}

/* ----------------------------------------------------------- formatting */

static int
put_printable(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (buf_putc(b, ch >= ' ' && ch < 0x7f ? ch : '?') != BUF_OK)
			return -1;
	}
	return 0;
}

int
diag_format_text(struct buf *b, const struct diag_result *res)
{
	size_t i;

	if (buf_printf(b, "bucket: %s\n", res->bucket) != BUF_OK)
		return -1;
	for (i = 0; i < res->n; i++) {
		const struct diag_check *c = &res->checks[i];

		if (buf_printf(b, "  %-6s %-9s ", c->name, diag_verdict_name(c->verdict)) != BUF_OK ||
		    put_printable(b, c->asked) != 0 || buf_puts(b, ": ") != BUF_OK ||
		    put_printable(b, c->answer) != 0 || buf_putc(b, '\n') != BUF_OK)
			return -1;
	}
	if (buf_puts(b, "fix: ") != BUF_OK || put_printable(b, res->fix) != 0 ||
	    buf_putc(b, '\n') != BUF_OK)
		return -1;
	return 0;
}

void
diag_format_json_members(struct json *w, const struct diag_result *res)
{
	size_t i;

	json_kv_str(w, "bucket", res->bucket);
	json_key(w, "checks");
	json_arr_begin(w);
	for (i = 0; i < res->n; i++) {
		const struct diag_check *c = &res->checks[i];

		json_obj_begin(w);
		json_kv_str(w, "check", c->name);
		json_kv_str(w, "asked", c->asked);
		json_kv_str(w, "answer", c->answer);
		json_kv_str(w, "verdict", diag_verdict_name(c->verdict));
		if (c->fix[0])
			json_kv_str(w, "fix", c->fix);
		if (c->evidence[0])
			json_kv_str(w, "evidence", c->evidence);
		json_obj_end(w);
	}
	json_arr_end(w);
	json_kv_str(w, "fix", res->fix);
}
