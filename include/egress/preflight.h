/*
 * preflight - will this message fail DMARC at the receiver?
 *
 * The daemon's optional check (diagnose.preflight): a message whose From
 * domain publishes DMARC p=reject or p=quarantine, while SPF of its
 * envelope domain fails (or is not aligned) for every egress IP and nothing
 * will DKIM-sign it aligned, is tagged (or held) before it leaves, with the
 * reason. The DNS part (preflight_evaluate) runs in a background thread
 * and is cached per (From domain, envelope domain); the per-message part
 * (preflight_signed) reads only the message and the configuration.
 * Pure: DNS through the client handed in; a DNS failure is "unknown",
 * which lets the message pass untagged (fail open).
 */
#ifndef EGRESS_PREFLIGHT_H
#define EGRESS_PREFLIGHT_H

#include <stddef.h>

#include "egress/diagconf.h"
#include "egress/diagnose.h"

enum preflight_verdict {
	PREFLIGHT_PASS = 0,	/* no enforcing policy, or SPF passes aligned */
	PREFLIGHT_WILL_FAIL,	/* unless the message is DKIM-signed aligned */
	PREFLIGHT_UNKNOWN,	/* DNS did not answer: pass untagged */
};

struct preflight_result {
	enum preflight_verdict	v;
	char			why[512];	/* the diagnosis' fix line */
};

/*
 * Evaluate FROM_DOMAIN's DMARC policy and SPF of MAILFROM_DOMAIN (NULL:
 * the From domain) for the egress IPs of cf. Fills *r.
 */
void	preflight_evaluate(struct dns_client *, const struct diag_conf *cf,
	    const char *from_domain, const char *mailfrom_domain,
	    struct preflight_result *r);

/*
 * Will the message be DKIM-signed aligned with FROM_DOMAIN? SIG_D is the
 * d= of a DKIM-Signature already in the message (NULL when none); a domain
 * of dc->dkim_signed_domains (a signer that runs after the milter) counts,
 * subdomains included. Alignment is relaxed (organisational domains via
 * psl, which may be NULL: exact match only).
 */
int	preflight_signed(const struct diagnose_conf *dc,
	    const struct psl_ctx_st *psl, const char *from_domain,
	    const char *sig_d);

const char *preflight_verdict_name(enum preflight_verdict);

#endif
