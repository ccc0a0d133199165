/*
 * authrec - the DNS records of mail authentication other than SPF: DMARC
 * policy records (RFC 7489, with the DMARCbis tags np/psd/t read when
 * present), DKIM key records (RFC 6376 section 3.6.1) and the tags of a
 * DKIM-Signature header field (section 3.5) that name the key.
 *
 * Parsers only, pure and allocation-free: the lookups and the verdicts are
 * the diagnosis code's (diagnose.c). Tag lists are "tag=value" pairs
 * separated by ';' with folding whitespace allowed around both; an unknown
 * tag is ignored, as both RFCs require; a repeated tag makes the record
 * invalid (RFC 6376 section 3.2).
 */
#ifndef EGRESS_AUTHREC_H
#define EGRESS_AUTHREC_H

#include <stddef.h>

#define AUTHREC_TAG_MAX		1024	/* bytes kept per tag value */

enum dmarc_policy { DMARC_P_NONE = 0, DMARC_P_QUARANTINE, DMARC_P_REJECT,
	DMARC_P_UNSET };

struct dmarc_record {
	enum dmarc_policy p;		/* required: a record without p is invalid */
	enum dmarc_policy sp;		/* DMARC_P_UNSET when absent */
	enum dmarc_policy np;		/* DMARCbis; DMARC_P_UNSET when absent */
	char		 adkim;		/* 'r' (default) or 's' */
	char		 aspf;
	int		 pct;		/* 0..100, default 100 */
	int		 testing;	/* DMARCbis t=y */
	char		 rua[256];
	char		 error[128];	/* why invalid, "" when valid */
};

/* Is TXT a DMARC record ("v=DMARC1" first, caseless)? */
int	dmarc_is_record(const char *txt);
/* Parse; returns 0, or -1 with rec->error set. */
int	dmarc_record_parse(const char *txt, struct dmarc_record *rec);
const char *dmarc_policy_name(enum dmarc_policy);

enum dkim_key_type { DKIM_K_RSA = 0, DKIM_K_ED25519, DKIM_K_OTHER };

struct dkim_key {
	enum dkim_key_type k;
	int		 revoked;	/* p= empty */
	int		 testing;	/* t=y */
	unsigned	 bits;		/* key size, 0 when it did not parse */
	char		 error[128];
};

/*
 * Parse a DKIM key record and measure its key: RSA keys as
 * SubjectPublicKeyInfo or bare RSAPublicKey DER (the modulus length, leading
 * zero octets not counted), Ed25519 keys as 32 raw octets. Returns 0 (a
 * revoked key parses), or -1 with key->error set.
 */
int	dkim_key_parse(const char *txt, struct dkim_key *key);

struct dkim_sig {
	char	d[256];		/* signing domain */
	char	s[128];		/* selector */
	char	a[32];		/* algorithm */
};

/* The d=, s= and a= tags of a DKIM-Signature field value; 0 or -1. */
int	dkim_sig_parse(const char *value, struct dkim_sig *sig);

/*
 * Tag-list walker shared by the three parsers: calls fn for each tag with
 * its name and value (whitespace removed around both, inner folding
 * whitespace removed from the value when strip_ws is set). Stops and
 * returns fn's non-zero result; -1 on a syntax error (no '=', empty name).
 */
typedef int authrec_tag_fn(void *arg, const char *name, const char *value);
int	authrec_tags(const char *list, int strip_ws, authrec_tag_fn *fn, void *arg);

#endif
