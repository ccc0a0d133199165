/*
 * diagnose - the checks a postmaster runs by hand after a rejection, done
 * through the DNS interface: block and allow lists for the IPs involved,
 * reverse DNS and the HELO name, SPF for the envelope domain, DMARC policy
 * and alignment for the From domain, the DKIM keys the returned copy's
 * signatures name, and MX for "host unknown" failures.
 *
 * The bucket (which checks bear on a failure) follows the classification
 * category: reputation and rate -> lists and reverse DNS; authentication ->
 * SPF, DMARC, DKIM; content and policy -> both; recipient host unknown ->
 * MX. A subject without a failure (a domain or an address asked directly)
 * gets every check; the category "preflight" gets SPF and DMARC only.
 *
 * Every check is one line: what was asked, what came back, the verdict and,
 * for a failure, the fix. A DNS failure or a list's refusal is "unchecked"
 * and never counts as a pass. Pure: DNS through the client handed in, the
 * organisational domain through the libpsl context handed in.
 */
#ifndef EGRESS_DIAGNOSE_H
#define EGRESS_DIAGNOSE_H

#include <stddef.h>

#include "egress/authrec.h"
#include "egress/buf.h"
#include "egress/dns.h"

struct json;
struct psl_ctx_st;

#define DIAG_MAX_CHECKS		48
#define DIAG_MAX_IPS		4	/* IPs looked at per diagnosis */
#define DIAG_MAX_SIGS		4	/* DKIM signatures looked at */

enum diag_verdict {
	DIAG_OK = 0,
	DIAG_INFO,		/* a fact, no judgement */
	DIAG_WARN,		/* not the cause by itself, worth fixing */
	DIAG_FAIL,		/* a cause: the fix says what to do */
	DIAG_UNCHECKED,		/* DNS failure or a list's refusal */
};

struct diag_check {
	char			name[16];	/* "dnsbl", "spf", "dmarc", ... */
	char			asked[256];
	char			answer[384];
	enum diag_verdict	verdict;
	char			fix[384];	/* "" unless verdict is FAIL/WARN */
	char			evidence[160];	/* FAIL: what the record keeps */
};

struct diag_conf {
	const char *const	*egress_ips;	/* the server's outbound IPs */
	size_t			 n_egress;
	const char		*helo;		/* its HELO name, or NULL */
	const char *const	*dnsbl;		/* block list zones */
	size_t			 n_dnsbl;
	const char *const	*dnswl;		/* allow list zones */
	size_t			 n_dnswl;
	const struct psl_ctx_st	*psl;		/* for organisational domains */
};

struct diag_subject {
	const char	*category;	/* classification category, NULL = all */
	const char	*reason;	/* classification reason, or NULL */
	const char	*named_ip;	/* the IP the bounce names, or NULL */
	const char	*from_domain;	/* RFC 5322 From domain, or NULL */
	const char	*mailfrom_domain; /* envelope sender domain, or NULL */
	const char	*rcpt_domain;	/* the failed recipient's domain */
	const struct dkim_sig *sigs;	/* signatures on the returned copy */
	size_t		 nsigs;
	int		 copy_returned;	/* the bounce returned headers at least */
};

struct diag_result {
	char			bucket[32];	/* "reputation", ..., "all" */
	size_t			n;
	struct diag_check	checks[DIAG_MAX_CHECKS];
	char			fix[512];	/* the summary fix line */
};

/* Run the checks the subject's bucket calls for; fills *res. */
void	diagnose_run(struct dns_client *, const struct diag_conf *,
	    const struct diag_subject *, struct diag_result *res);

/* Append a check line to res (for checks run outside, e.g. content). */
struct diag_check *diag_add(struct diag_result *, const char *name,
		    enum diag_verdict);

/*
 * The first IPv4 or IPv6 literal in TEXT (a diagnostic: "[192.0.2.10]",
 * "ip=192.0.2.10", "query/ip/192.0.2.10"), canonical, into out; returns 1,
 * or 0 when there is none. Version strings such as "1.2.3.4.5" are skipped.
 */
int	diag_find_ip(const char *text, char *out, size_t outlen);

const char *diag_verdict_name(enum diag_verdict);

/* Human-readable lines, one per check, then "fix: ...". */
EGRESS_WUR int	diag_format_text(struct buf *, const struct diag_result *);
/* Members "bucket", "checks" [...], "fix" into an open JSON object. */
void		diag_format_json_members(struct json *, const struct diag_result *);

#endif
