/*
 * spf - Sender Policy Framework (RFC 7208): record parsing and check_host().
 *
 * spf_record_parse() splits a TXT record into terms and reports syntax
 * errors (permerror) without touching DNS. spf_check_host() evaluates the
 * policy of a domain for an IP address through a dns_client, with the
 * limits of RFC 7208 section 4.6.4: at most SPF_DNS_LIMIT terms that cause
 * DNS queries (include, a, mx, ptr, exists, redirect), at most
 * SPF_VOID_LIMIT lookups that return no records, at most SPF_MX_LIMIT MX or
 * PTR names looked up per term. Exceeding one is a permerror, as the RFC
 * says. A resolver failure is a temperror, never a pass or a fail.
 *
 * Macros (section 7) are expanded for the letters s l o d i p h v c r t
 * with the digit and 'r' transformers and the delimiters; "p" expands to
 * "unknown" (the RFC allows it, and it avoids the PTR queries).
 */
#ifndef EGRESS_SPF_H
#define EGRESS_SPF_H

#include <stddef.h>

#include "egress/dns.h"

#define SPF_MAX_TERMS	64	/* terms kept per record */
#define SPF_TERM_MAX	512	/* bytes per term */
#define SPF_DNS_LIMIT	10
#define SPF_VOID_LIMIT	2
#define SPF_MX_LIMIT	10

enum spf_result {
	SPF_NONE = 0,
	SPF_NEUTRAL,
	SPF_PASS,
	SPF_FAIL,
	SPF_SOFTFAIL,
	SPF_TEMPERROR,
	SPF_PERMERROR,
};

enum spf_mech {
	SPF_M_ALL, SPF_M_INCLUDE, SPF_M_A, SPF_M_MX, SPF_M_PTR, SPF_M_IP4,
	SPF_M_IP6, SPF_M_EXISTS, SPF_M_REDIRECT, SPF_M_EXP, SPF_M_UNKNOWN_MOD,
};

struct spf_term {
	enum spf_mech	mech;
	char		qual;		/* '+', '-', '~', '?' */
	char		arg[SPF_TERM_MAX];	/* domain-spec or address, unexpanded */
	int		cidr4;		/* -1 when absent */
	int		cidr6;
};

struct spf_record {
	size_t		nterms;
	struct spf_term	terms[SPF_MAX_TERMS];
	char		error[128];	/* syntax problem, "" when none */
};

/*
 * Parse TXT (one record, already chosen as "v=spf1 ..."). Returns 0, or -1
 * with rec->error set (a permerror per RFC 7208 section 4.6).
 */
int	spf_record_parse(const char *txt, struct spf_record *rec);

/* Is TXT an SPF record ("v=spf1" then space or end, caseless)? */
int	spf_is_record(const char *txt);

struct spf_eval {
	enum spf_result	result;
	char		domain[DNS_NAME_MAX + 1];	/* whose record decided */
	char		record[512];	/* that record, cut */
	char		matched[SPF_TERM_MAX + 2];	/* the term that matched, or "" */
	char		why[256];	/* for none/permerror/temperror */
	unsigned	dns_terms;	/* DNS-querying terms used */
	unsigned	void_lookups;
};

/*
 * check_host(IP, DOMAIN, SENDER) of RFC 7208 section 4. SENDER is the
 * MAIL FROM address (or "postmaster@HELO" for a HELO check), HELO the
 * client's EHLO name or NULL. Fills *ev and returns ev->result.
 */
enum spf_result	spf_check_host(struct dns_client *, const char *ip,
		    const char *domain, const char *sender, const char *helo,
		    struct spf_eval *ev);

const char	*spf_result_name(enum spf_result);

#endif
