/*
 * rfc5322 - pure syntax helpers for RFC 5322 header values.
 *
 * Dates, Message-IDs, address lists, field names and domains, as the outbound
 * header checks need them. Every function is pure: no allocation, no globals,
 * no locale, no clock. Inputs are untrusted NUL-terminated strings and may
 * hold any other byte; each function runs in time linear in its input.
 *
 * Folding: values may contain folds as "\n" + WSP (as Postfix hands header
 * values to a milter) or "\r\n" + WSP (raw files); a single line ending at the
 * very end of a value is tolerated. A CR or LF anywhere else is invalid.
 *
 * Internationalised mail (RFC 6532): bytes >= 0x80 are accepted wherever RFC
 * 6532 admits UTF-8 (atext, qtext, ctext, dtext). Their well-formedness is not
 * verified here; the header.8bit check judges raw 8-bit separately.
 *
 * Comments nest at most RFC5322_COMMENT_DEPTH_MAX deep; deeper is invalid,
 * so no input can make the parsers recurse or loop without bound.
 */
#ifndef EGRESS_RFC5322_H
#define EGRESS_RFC5322_H

#include <stddef.h>

#ifndef EGRESS_WUR
#define EGRESS_WUR __attribute__((warn_unused_result))
#endif

#define RFC5322_COMMENT_DEPTH_MAX	32	/* nested "(...)" levels accepted */
#define RFC5322_ADDR_MAX	320	/* local 64 + "@" + domain 255 (RFC 5321) */
#define RFC5322_DOMAIN_MAX	255	/* RFC 5321 4.5.3.1.2 */

/*
 * rfc5322_date_parse - parse a Date: field value (RFC 5322 3.3 date-time,
 * including the obsolete syntax of 4.3) and convert it to UTC.
 *
 * Accepts: optional day-of-week (its agreement with the date is not checked;
 * receivers do not reject a wrong one), 1-2 digit day, case-insensitive month
 * name, 4-digit year 1900..9999 or an obsolete 2-digit (< 50 -> 20xx, else
 * 19xx) or 3-digit (+ 1900) year, hh:mm with optional :ss (ss <= 60 for a leap
 * second), and a zone: +hhmm/-hhmm (hh <= 23, mm <= 59) or an obsolete name
 * (UT, GMT, EST, EDT, CST, CDT, MST, MDT, PST, PDT, or a military letter
 * other than J, taken as +0000 as RFC 5322 4.3 advises). CFWS, comments
 * included, may appear between any two tokens and at either end, so a
 * "(UTC)" trailer is fine; a bare "UTC" zone, common though not RFC 5322, is
 * read as +0000.
 * The day is checked against the month length, leap years included.
 *
 * On success stores the UTC seconds since 1970-01-01 in *epoch_out and
 * returns 0. Returns -1 on any syntax or range error (*epoch_out untouched).
 */
EGRESS_WUR int	rfc5322_date_parse(const char *value, long long *epoch_out);

/*
 * rfc5322_date_parse_lenient - as rfc5322_date_parse, and also the forms
 * outside RFC 5322 that large receivers accept: a one-digit hour
 * ("Tue, 20 Aug 2002 9:39:22 +0100") and a zone given only as a comment
 * ("Mon, 16 Sep 2002 03:27:38 (GMT)", read as +0000). *lenient (may be
 * NULL) is set to 1 when one of them was used, else 0.
 */
EGRESS_WUR int	rfc5322_date_parse_lenient(const char *value, long long *epoch_out,
		    int *lenient);

/*
 * rfc5322_msgid_parse - validate a field value holding exactly one msg-id,
 * "[CFWS] < id-left @ id-right > [CFWS]" (RFC 5322 3.6.4).
 *
 * id-left may be dot-atom-text or the obsolete local-part forms (quoted
 * strings, CFWS around words). id-right must be dot-atom-text or a
 * no-fold-literal "[...]", with no CFWS inside the brackets.
 *
 * On success copies id-right as written (brackets of a literal included)
 * into `right`, truncated to rightsz - 1 bytes and always NUL-terminated when
 * rightsz > 0 (right may be NULL when rightsz is 0), and returns 0.
 * Returns -1 when the value is not a single valid msg-id; `right` then holds
 * "" when rightsz > 0.
 */
EGRESS_WUR int	rfc5322_msgid_parse(const char *value, char *right, size_t rightsz);

/*
 * rfc5322_domain_is_fqdn - predicate: is `domain` a fully qualified host
 * name? True when it has at least two labels, every label is 1..63 letters,
 * digits and hyphens (no underscore) neither starting nor ending with a
 * hyphen, the last label is not all digits, and the whole is at most 253
 * characters. A trailing root dot, address literals "[...]" and NULL give 0.
 */
int	rfc5322_domain_is_fqdn(const char *domain);

/* Result of rfc5322_addrlist_parse(); a plain value, nothing to free. */
struct rfc5322_addrlist {
	size_t	count;		/* well-formed mailboxes, group members included */
	int	invalid;	/* non-zero: some part of the value is malformed */
	int	truncated;	/* non-zero: first or first_domain was cut short */
	char	first[RFC5322_ADDR_MAX + 1];		/* "local@domain" or "" */
	char	first_domain[RFC5322_DOMAIN_MAX + 1];	/* domain of first or "" */
};

/*
 * rfc5322_addrlist_parse - parse an address-list or mailbox-list value
 * (From, Sender, Reply-To, To, Cc, Bcc; RFC 5322 3.4 and the obsolete forms
 * of 4.4): display names (quoted or not, obs-phrase dots), comments,
 * angle-addr with optional obs-route, groups "name: a@b, c@d;" (empty groups
 * too; groups do not nest), obs-local-part, domain literals, and the empty
 * list elements of obs-addr-list.
 *
 * Always fills *out and returns 0; the verdict is in the struct:
 * - count: mailboxes that parsed; malformed ones are skipped up to the next
 *   list separator and not counted.
 * - invalid: set when any element is malformed (missing "@" or domain, bad
 *   local part or domain, unbalanced quote/comment/bracket, stray character,
 *   trailing garbage, unterminated group), or when the value holds no address
 *   at all (only CFWS or commas). A value of just empty groups is valid with
 *   count 0. After an unterminated quote or comment the rest of the value is
 *   unusable and parsing stops there.
 * - first / first_domain: the first well-formed mailbox's addr-spec with CFWS
 *   and folds removed (quoted local parts keep their quotes) and its domain,
 *   as written (case kept). Longer ones are cut and `truncated` is set.
 * Linear time; the only nesting is comments, bounded as described above.
 */
int	rfc5322_addrlist_parse(const char *value, struct rfc5322_addrlist *out);

/*
 * rfc5322_char_is_ftext - predicate: may byte c appear in a field name
 * (RFC 5322 3.6.8 ftext: printable US-ASCII 33..126 other than ':')? The
 * one definition of a field-name character; everything that judges or
 * splits header field names uses it.
 */
static inline int
rfc5322_char_is_ftext(unsigned char c)
{
	return c >= 33 && c <= 126 && c != ':';
}

/*
 * rfc5322_field_name_is_valid - predicate: is name[0..len) a field name
 * (one or more ftext characters)? The name need not be NUL-terminated;
 * NULL or len 0 gives 0.
 */
int	rfc5322_field_name_is_valid(const char *name, size_t len);

/*
 * rfc5322_addr_domain - extract the domain of an envelope address such as
 * "<user@example.com>", "user@example.com", "<\"a@b\"@example.com>" or
 * "<@relay.example:user@example.com>" (the route is skipped). Surrounding
 * spaces are ignored. The domain must be dot-atom-text or a "[...]" literal.
 *
 * On success copies the domain as written into dom (NUL-terminated) and
 * returns 0. Returns -1 for the null sender "<>", a missing or malformed
 * domain, or a domain that does not fit in domsz - 1 bytes (it is never
 * truncated, since callers key state on it); dom then holds "" if domsz > 0.
 */
EGRESS_WUR int	rfc5322_addr_domain(const char *addr, char *dom, size_t domsz);

#endif
