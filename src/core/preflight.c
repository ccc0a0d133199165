/*
 * preflight.c - the DMARC preflight decision (see preflight.h).
 *
 * The DNS part is the diagnosis of an authentication failure narrowed to
 * SPF and DMARC (diagnose_run with the "preflight" plan), read back: a
 * failed DMARC line is WILL_FAIL, SPF that could not be evaluated for any
 * egress IP or an unanswered DMARC lookup is UNKNOWN.
 */
#include <libpsl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "egress/preflight.h"

const char *
preflight_verdict_name(enum preflight_verdict v)
{
	switch (v) {
	case PREFLIGHT_PASS: return "pass";
	case PREFLIGHT_WILL_FAIL: return "dmarc-will-fail";
	case PREFLIGHT_UNKNOWN: return "unknown";
	}
	return "unknown";
}

void
preflight_evaluate(struct dns_client *dns, const struct diag_conf *cf,
    const char *from_domain, const char *mailfrom_domain,
    struct preflight_result *r)
{
	struct diag_subject s;
	struct diag_result *res;
	size_t i;
	int spf_checked = 0, dmarc_seen = 0;

	memset(r, 0, sizeof(*r));
	r->v = PREFLIGHT_UNKNOWN;
	if ((res = malloc(sizeof(*res))) == NULL)
		return;
	memset(&s, 0, sizeof(s));
	s.category = "preflight";
	s.from_domain = from_domain;
	s.mailfrom_domain = mailfrom_domain ? mailfrom_domain : from_domain;
	s.copy_returned = 1;	/* the message is at hand: its signatures count apart */
	diagnose_run(dns, cf, &s, res);
	for (i = 0; i < res->n; i++) {
		const struct diag_check *c = &res->checks[i];

		if (strcmp(c->name, "spf") == 0 && c->verdict != DIAG_UNCHECKED)
			spf_checked = 1;
		if (strcmp(c->name, "dmarc") != 0)
			continue;
		dmarc_seen = 1;
		if (c->verdict == DIAG_UNCHECKED) {
			r->v = PREFLIGHT_UNKNOWN;
			snprintf(r->why, sizeof(r->why), "%s", c->answer);
		} else if (c->verdict == DIAG_FAIL && c->fix[0]) {
			r->v = PREFLIGHT_WILL_FAIL;
			snprintf(r->why, sizeof(r->why), "%s", c->fix);
		} else {
			r->v = PREFLIGHT_PASS;
			snprintf(r->why, sizeof(r->why), "%s", c->answer);
		}
	}
	if (!dmarc_seen) {
		r->v = PREFLIGHT_UNKNOWN;
		snprintf(r->why, sizeof(r->why), "no DMARC verdict");
	} else if (r->v == PREFLIGHT_WILL_FAIL && !spf_checked) {
		/* SPF never answered: do not claim a failure we did not see */
		r->v = PREFLIGHT_UNKNOWN;
		snprintf(r->why, sizeof(r->why), "SPF could not be evaluated");
	}
	free(res);
}

static const char *
org(const struct psl_ctx_st *psl, const char *d)
{
	const char *o = psl ? psl_registrable_domain(psl, d) : NULL;

	return o ? o : d;
}

static int
in_or_under(const char *d, const char *parent)
{
	size_t dl = strlen(d), pl = strlen(parent);

	return strcasecmp(d, parent) == 0 || (dl > pl && d[dl - pl - 1] == '.' &&
	    strcasecmp(d + dl - pl, parent) == 0);
}

int
preflight_signed(const struct diagnose_conf *dc, const struct psl_ctx_st *psl,
    const char *from_domain, const char *sig_d)
{
	size_t i;

	if (from_domain == NULL || from_domain[0] == '\0')
		return 0;
	if (sig_d != NULL && sig_d[0] != '\0' &&
	    (strcasecmp(sig_d, from_domain) == 0 ||
	    strcasecmp(org(psl, sig_d), org(psl, from_domain)) == 0))
		return 1;
	for (i = 0; i < dc->dkim_signed_domains.n; i++)
		if (in_or_under(from_domain, dc->dkim_signed_domains.v[i]))
			return 1;
	return 0;
}
