/*
 * checks.c - the constant registry of check ids with their defaults.
 *
 * Defaults follow one rule: a defect that receivers commonly reject outright
 * is rejected here first, with a reply that names the defect, so the sender
 * learns of it before the receiver's reputation system does; a defect that
 * can be mended safely (missing Date, missing Message-ID) is repaired; the
 * rest is tagged or only scored. Content checks carry scores and leave the
 * decision to the score thresholds.
 */
#include <string.h>

#include "egress/checks.h"

static const struct check_def check_defs[] = {
	/* RFC 5322 3.6.1: Date */
	{ "rfc5322.date.missing", ACT_REPAIR, 0,
	  "554 5.6.0 Date header missing (RFC 5322 3.6)", "no Date header" },
	{ "rfc5322.date.invalid", ACT_REJECT, 0,
	  "554 5.6.0 Date header is not a valid RFC 5322 date-time (RFC 5322 3.3)",
	  "Date not parsable as RFC 5322 date-time" },
	{ "rfc5322.date.lenient", ACT_TAG, 0,
	  "554 5.6.0 Date header is not a valid RFC 5322 date-time (RFC 5322 3.3)",
	  "Date in a form outside RFC 5322 that receivers accept" },
	{ "rfc5322.date.duplicate", ACT_REJECT, 0,
	  "554 5.6.0 More than one Date header (RFC 5322 3.6)", "several Date headers" },
	{ "rfc5322.date.future", ACT_TAG, 0,
	  "554 5.6.0 Date header lies in the future", "Date too far in the future" },
	{ "rfc5322.date.past", ACT_TAG, 0,
	  "554 5.6.0 Date header lies too far in the past", "Date too far in the past" },
	/* RFC 5322 3.6.4: Message-ID */
	{ "rfc5322.message_id.missing", ACT_REPAIR, 0,
	  "554 5.6.0 Message-ID header missing (RFC 5322 3.6.4)", "no Message-ID header" },
	{ "rfc5322.message_id.invalid", ACT_REPAIR, 0,
	  "554 5.6.0 Message-ID header is not a valid msg-id (RFC 5322 3.6.4)",
	  "Message-ID not a valid msg-id (repair: replace it)" },
	{ "rfc5322.message_id.unrepairable", ACT_REJECT, 0,
	  "554 5.6.0 Message-ID header is not a valid msg-id (RFC 5322 3.6.4) and cannot be replaced",
	  "invalid Message-ID in a DKIM-signed message" },
	{ "rfc5322.message_id.obsolete", ACT_TAG, 0,
	  "554 5.6.0 Message-ID header is not a valid msg-id (RFC 5322 3.6.4)",
	  "Message-ID in the obsolete form (CFWS inside the brackets)" },
	{ "rfc5322.message_id.duplicate", ACT_REJECT, 0,
	  "554 5.6.0 More than one Message-ID header (RFC 5322 3.6)", "several Message-ID headers" },
	{ "rfc5322.message_id.not_fqdn", ACT_TAG, 0,
	  "554 5.6.0 Message-ID domain is not a fully qualified domain name",
	  "Message-ID right-hand side is not an FQDN" },
	/* RFC 5322 3.6.2: From */
	{ "rfc5322.from.missing", ACT_REJECT, 0,
	  "554 5.6.0 From header missing (RFC 5322 3.6)", "no From header" },
	{ "rfc5322.from.duplicate", ACT_REJECT, 0,
	  "554 5.6.0 More than one From header (RFC 5322 3.6)", "several From headers" },
	{ "rfc5322.from.multiple_addresses", ACT_REJECT, 0,
	  "554 5.6.0 From header lists several mailboxes but there is no Sender header (RFC 5322 3.6.2)",
	  "several From mailboxes without Sender" },
	{ "rfc5322.from.unquoted_display", ACT_TAG, 0,
	  "554 5.1.7 From header address is not valid (RFC 5322 3.4)",
	  "From display name with unquoted @ or . before a valid address" },
	{ "rfc5322.from.invalid", ACT_REJECT, 0,
	  "554 5.1.7 From header address is not valid (RFC 5322 3.4)",
	  "From address or domain unparsable" },
	{ "rfc5322.header.duplicate", ACT_REJECT, 0,
	  "554 5.6.0 Header field that may occur only once occurs more than once (RFC 5322 3.6)",
	  "single-instance header repeated" },
	/* header syntax and size */
	{ "header.name.invalid", ACT_REJECT, 0,
	  "554 5.6.0 Header field name contains invalid characters (RFC 5322 2.2)",
	  "invalid header field name" },
	{ "header.8bit", ACT_TAG, 0,
	  "554 5.6.7 Raw 8-bit header without SMTPUTF8 (RFC 6532)", "8-bit bytes in a header" },
	{ "header.nul", ACT_REJECT, 0,
	  "554 5.6.0 NUL byte in a header", "NUL in a header" },
	{ "header.blank_line_whitespace", ACT_TAG, 0,
	  "554 5.6.0 Header section ends with a line of white space (RFC 5322 2.1)",
	  "white-space-only line taken as the end of the header" },
	{ "header.line_too_long", ACT_REJECT, 0,
	  "554 5.6.0 Header line longer than 998 octets (RFC 5322 2.1.1)",
	  "header line over the line limit" },
	{ "size.headers", ACT_REJECT, 0,
	  "552 5.3.4 Message header too large", "header section over the size limit" },
	/* body lines */
	{ "body.line_too_long", ACT_REPAIR, 0,
	  "554 5.6.0 Line longer than 998 octets (RFC 5322 2.1.1)",
	  "body line over the line limit (repair: re-encode the part)" },
	{ "body.line_too_long_unrepairable", ACT_REJECT, 0,
	  "554 5.6.0 Line longer than 998 octets (RFC 5322 2.1.1) in a message that cannot be re-encoded",
	  "over-long line the repair cannot fix (signed, in a header, encoded)" },
	{ "body.bare_lf", ACT_TAG, 0,
	  "554 5.6.0 Bare LF line ending (RFC 5322 2.3)", "LF without CR in the body" },
	{ "body.bare_cr", ACT_TAG, 0,
	  "554 5.6.0 Bare CR in the body (RFC 5322 2.3)", "CR without LF in the body" },
	{ "body.nul", ACT_REJECT, 0,
	  "554 5.6.0 NUL byte in the body", "NUL in the body" },
	/* sizes */
	{ "size.message", ACT_REJECT, 0,
	  "552 5.3.4 Message size exceeds fixed limit", "message over the size limit" },
	{ "size.recipients", ACT_REJECT, 0,
	  "452 4.5.3 Too many recipients", "too many recipients" },
	/* MIME structure */
	{ "mime.version_missing", ACT_TAG, 1,
	  "554 5.6.0 MIME-Version header missing on a MIME message (RFC 2045 4)",
	  "MIME content without MIME-Version" },
	{ "mime.boundary_missing", ACT_REJECT, 0,
	  "554 5.6.0 multipart without boundary parameter (RFC 2046 5.1.1)",
	  "multipart without boundary" },
	{ "mime.boundary_unterminated", ACT_TAG, 1,
	  "554 5.6.0 multipart not closed by its final boundary (RFC 2046 5.1.1)",
	  "multipart not terminated" },
	{ "mime.boundary_duplicate", ACT_TAG, 2,
	  "554 5.6.0 nested multipart reuses an enclosing boundary (RFC 2046 5.1.2)",
	  "ambiguous MIME structure: inner boundary equals an outer one" },
	{ "mime.cte_invalid", ACT_TAG, 1,
	  "554 5.6.0 Invalid Content-Transfer-Encoding (RFC 2045 6)", "unknown or misplaced CTE" },
	{ "mime.base64_invalid", ACT_TAG, 1,
	  "554 5.6.0 Invalid base64 content (RFC 2045 6.8)", "garbage in base64 content" },
	{ "mime.depth_exceeded", ACT_REJECT, 0,
	  "554 5.6.0 MIME nesting too deep", "MIME nesting over the limit" },
	{ "mime.parts_exceeded", ACT_REJECT, 0,
	  "554 5.6.0 Too many MIME parts", "MIME parts over the limit" },
	{ "mime.8bit_undeclared", ACT_TAG, 1,
	  "554 5.6.0 8-bit content not declared by Content-Transfer-Encoding (RFC 2045 6)",
	  "8-bit bytes in a 7bit part" },
	{ "mime.limit", ACT_TAG, 1,
	  "554 5.6.0 MIME structure exceeds a parser limit", "a MIME parser limit was reached" },
	/* links */
	{ "content.url.shortener", ACT_ACCEPT, 3,
	  "554 5.7.1 URL shortener links are not accepted", "link through a URL shortener" },
	{ "content.url.ip_literal", ACT_ACCEPT, 4,
	  "554 5.7.1 Links to IP addresses are not accepted", "link to an IP literal" },
	{ "content.url.userinfo", ACT_ACCEPT, 5,
	  "554 5.7.1 Disguised link (userinfo) not accepted", "link with user@host disguise" },
	{ "content.url.text_mismatch", ACT_ACCEPT, 4,
	  "554 5.7.1 Link text shows a different domain than its target",
	  "anchor text domain differs from href domain" },
	{ "content.url.scheme", ACT_ACCEPT, 5,
	  "554 5.7.1 Link scheme not accepted", "javascript:, data: or file: link" },
	{ "content.url.punycode_mixed", ACT_ACCEPT, 3,
	  "554 5.7.1 Link host mixes punycode and ASCII labels", "punycode lookalike host" },
	{ "content.url.count", ACT_ACCEPT, 2,
	  "554 5.7.1 Too many links", "more links than the limit" },
	/* attachments */
	{ "attachment.extension", ACT_REJECT, 0,
	  "554 5.7.1 Attachment type not accepted", "dangerous attachment extension" },
	{ "attachment.extension_risky", ACT_ACCEPT, 3,
	  "554 5.7.1 Attachment type not accepted",
	  "attachment type that runs or links when opened (scored)" },
	{ "attachment.double_extension", ACT_REJECT, 0,
	  "554 5.7.1 Attachment with a disguised (double) extension not accepted",
	  "double extension such as .pdf.exe" },
	{ "attachment.executable", ACT_REJECT, 0,
	  "554 5.7.1 Executable attachment not accepted", "executable content by magic bytes" },
	{ "attachment.script", ACT_ACCEPT, 3,
	  "554 5.7.1 Script attachment not accepted", "script attachment (#! line)" },
	{ "attachment.macro", ACT_ACCEPT, 4,
	  "554 5.7.1 Macro-enabled document not accepted", "macro-enabled office document" },
	{ "attachment.archive_executable", ACT_REJECT, 0,
	  "554 5.7.1 Archive containing an executable not accepted",
	  "archive lists an executable or nested archive" },
	{ "attachment.encrypted_archive", ACT_ACCEPT, 4,
	  "554 5.7.1 Encrypted archive not accepted", "password-protected archive" },
	{ "size.attachment", ACT_REJECT, 0,
	  "552 5.3.4 Attachment too large", "attachment over the size limit" },
	/* subject and text */
	{ "content.subject.all_caps", ACT_ACCEPT, 2,
	  "554 5.7.1 Subject in capitals", "subject mostly capitals" },
	{ "content.subject.punctuation", ACT_ACCEPT, 2,
	  "554 5.7.1 Subject with excessive punctuation", "subject with !!! or ???" },
	{ "content.html_only", ACT_ACCEPT, 1,
	  "554 5.7.1 HTML without a text alternative", "HTML part without text/plain" },
	{ "content.image_only", ACT_ACCEPT, 2,
	  "554 5.7.1 Message consists only of images", "only image content, no text" },
	{ "content.rule_limit", ACT_TAG, 1,
	  "554 5.7.1 Message content could not be fully checked",
	  "an operator rule stopped at a PCRE2 limit" },
	{ "content.score", ACT_ACCEPT, 0,
	  "554 5.7.1 Message content scored too high", "content score over a threshold" },
	/* sender record (store policies) */
	{ "sender.tagged", ACT_TAG, 0, NULL, "sender has recent failures" },
	{ "sender.throttled", ACT_TEMPFAIL, 0,
	  "451 4.7.1 Sender temporarily rate limited after recent delivery failures, try again later",
	  "sender over its lowered rate" },
	{ "sender.held", ACT_HOLD, 0, NULL, "sender on hold" },
	{ "sender.suspended", ACT_REJECT, 0,
	  "550 5.7.1 Sender suspended after repeated delivery failures", "sender suspended" },
	{ "sender.rate", ACT_TEMPFAIL, 0,
	  "451 4.7.1 Sender rate limit exceeded, try again later", "static sender rate limit" },
	{ "sender.warmup", ACT_TEMPFAIL, 0,
	  "451 4.7.1 New sender warming up, try again later", "warm-up ramp for a new sender" },
	{ "recipient.suppressed", ACT_REJECT, 0,
	  "550 5.1.1 Recipient previously bounced", "recipient on the suppression list" },
	/* the milter's own failures */
	{ "internal.error", ACT_TEMPFAIL, 0,
	  "451 4.3.0 Temporary filter failure, try again later", "resource failure in the filter" },
};

size_t
checks_table(const struct check_def **defs)
{
	*defs = check_defs;
	return sizeof(check_defs) / sizeof(check_defs[0]);
}

int
checks_index(const char *id)
{
	size_t i;

	for (i = 0; i < sizeof(check_defs) / sizeof(check_defs[0]); i++)
		if (strcmp(check_defs[i].id, id) == 0)
			return (int)i;
	return -1;
}

const struct check_def *
checks_lookup(const char *id)
{
	int i = checks_index(id);

	return i < 0 ? NULL : &check_defs[i];
}
