/*
 * dns - the DNS interface the diagnosis code asks through.
 *
 * The core never opens a socket: the caller hands it a query function (the
 * CLI's is libunbound, see src/cli/dns_unbound.c; unit tests inject answers).
 * A dns_client wraps that function with the per-diagnosis bound on queries
 * and keeps a trace of what was asked and what came back, so every check can
 * print its evidence. Caching by TTL belongs to the resolver behind the
 * function (libunbound caches); the client keeps no cache of its own.
 *
 * Answers are flattened to text: A/AAAA as printable addresses, PTR/MX/CNAME
 * /NS as names without the trailing dot, TXT as the concatenation of its
 * character-strings (RFC 7208 section 3.3, RFC 6376 section 3.6.2.2). Every
 * record is cut at DNS_RR_MAX bytes, every answer at DNS_MAX_RR records; a
 * cut is flagged, never silent.
 *
 * Threading: a dns_client is used by one thread at a time.
 */
#ifndef EGRESS_DNS_H
#define EGRESS_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "egress/buf.h"

#define DNS_NAME_MAX		255	/* presentation form, no trailing dot */
#define DNS_RR_MAX		2048	/* bytes kept per record */
#define DNS_MAX_RR		16	/* records kept per answer */
#define DNS_TRACE_MAX		64	/* queries remembered per client */
#define DNS_DEFAULT_BUDGET	60	/* queries per diagnosis */

enum dns_type {
	DNS_T_A = 1,
	DNS_T_NS = 2,
	DNS_T_CNAME = 5,
	DNS_T_PTR = 12,
	DNS_T_MX = 15,
	DNS_T_TXT = 16,
	DNS_T_AAAA = 28,
};

enum dns_status {
	DNS_OK = 0,		/* records in the answer (maybe none: NODATA) */
	DNS_NXDOMAIN,		/* the name does not exist */
	DNS_SERVFAIL,		/* the resolver could not get an answer */
	DNS_TIMEOUT,		/* no answer in time */
	DNS_REFUSED,		/* refused or another error rcode */
	DNS_BUDGET,		/* not asked: the query bound was reached */
	DNS_ERROR,		/* local failure (memory, resolver setup) */
};

struct dns_rr {
	uint16_t	pref;		/* MX preference, else 0 */
	char		data[DNS_RR_MAX];
};

struct dns_answer {
	enum dns_status	status;
	uint32_t	ttl;		/* smallest TTL of the records */
	int		truncated;	/* records or bytes were cut */
	size_t		nrr;
	struct dns_rr	rr[DNS_MAX_RR];
};

/*
 * The resolver: fills *out (status, records) for NAME and TYPE and returns
 * 0, or -1 on a local failure (out->status is then DNS_ERROR). NAME is in
 * presentation form without the trailing dot.
 */
typedef int dns_query_fn(void *arg, const char *name, enum dns_type type,
    struct dns_answer *out);

struct dns_trace {
	char		name[DNS_NAME_MAX + 1];
	enum dns_type	type;
	enum dns_status	status;
	size_t		nrr;
	char		first[128];	/* first record, cut, printable */
};

struct dns_client {
	dns_query_fn	*query;
	void		*arg;
	unsigned	 budget;	/* queries left */
	unsigned	 asked;		/* queries made */
	size_t		 ntrace;
	struct dns_trace trace[DNS_TRACE_MAX];
};

/* Embedded-struct lifetime; budget 0 = DNS_DEFAULT_BUDGET. */
void		 dns_client_init(struct dns_client *, dns_query_fn *, void *arg,
		    unsigned budget);

/*
 * Ask NAME/TYPE through the client. Returns out->status; a name longer than
 * DNS_NAME_MAX or with empty labels is not asked (DNS_NXDOMAIN, as a
 * resolver would answer). Past the budget nothing is asked (DNS_BUDGET).
 */
enum dns_status	 dns_ask(struct dns_client *, const char *name,
		    enum dns_type type, struct dns_answer *out);

/* "could not check" statuses: everything but DNS_OK and DNS_NXDOMAIN. */
int		 dns_status_is_failure(enum dns_status);
const char	*dns_status_name(enum dns_status);
const char	*dns_type_name(enum dns_type);

/*
 * Write the reverse-lookup name of a printable IPv4 or IPv6 address under
 * ZONE ("in-addr.arpa"/"ip6.arpa" for PTR, a DNSBL zone for a list).
 * Returns 0, or -1 when ADDR is not an address or the name does not fit.
 */
EGRESS_WUR int	 dns_reverse_name(const char *addr, const char *zone,
		    char *out, size_t outlen);

/*
 * Canonical printable form of an IPv4/IPv6 address (inet_ntop of
 * inet_pton) into out; returns 4 or 6, or 0 when it is not an address.
 */
int		 dns_addr_canon(const char *addr, char *out, size_t outlen);

#endif
