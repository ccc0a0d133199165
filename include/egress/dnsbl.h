/*
 * dnsbl - DNS block and allow list lookups (RFC 5782) for IPv4 and IPv6,
 * with the return codes the big lists document.
 *
 * A list answers an A record in 127.0.0.0/8 for a listed address. Some
 * answers are not listings but the list refusing to answer: Spamhaus's
 * 127.255.255.252 (zone typo), .254 (query through a public or open
 * resolver) and .255 (over the free quota), DNSWL's 127.0.0.255 (query
 * limit). Those, answers outside 127/8 (a resolver that rewrites NXDOMAIN)
 * and DNS failures are "could not check", never "listed" nor "clean".
 */
#ifndef EGRESS_DNSBL_H
#define EGRESS_DNSBL_H

#include "egress/dns.h"

enum dnsbl_verdict {
	DNSBL_CLEAN = 0,	/* NXDOMAIN: not on the list */
	DNSBL_LISTED,		/* a listing code */
	DNSBL_UNCHECKED,	/* a refusal code, a bogus answer or a DNS failure */
};

struct dnsbl_result {
	enum dnsbl_verdict v;
	char	query[DNS_NAME_MAX + 1];
	char	code[48];	/* the A record(s) answered, "" when none */
	char	meaning[160];	/* what the code means, or why unchecked */
	char	txt[256];	/* the list's TXT reason for a listing, cut */
};

/*
 * Look ADDR (printable IPv4 or IPv6) up on ZONE. allow_list: the zone is an
 * allow list (DNSWL): the meanings say "trusted" instead of "listed".
 * Asks the A record and, when listed, the TXT record. Returns r->v.
 */
enum dnsbl_verdict dnsbl_check(struct dns_client *, const char *addr,
		    const char *zone, int allow_list, struct dnsbl_result *r);

/*
 * Meaning of answer CODE (printable IPv4) from ZONE: sets *refusal when the
 * code is an error of the list rather than a listing. Returns a static
 * string ("listed" for codes of lists it has no table for).
 */
const char	*dnsbl_code_meaning(const char *zone, const char *code,
		    int *refusal);

const char	*dnsbl_verdict_name(enum dnsbl_verdict);

#endif
