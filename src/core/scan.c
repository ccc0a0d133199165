/*
 * scan.c - one message through the header, body and MIME checks.
 *
 * Header checks (RFC 5322 3.6 field counts, Date/Message-ID/From syntax,
 * field-name syntax, raw 8-bit, header size and count, line length) run as
 * each field arrives; the "missing" checks run at end of headers. Body checks
 * (line length, bare LF, bare CR, NUL) run on the raw bytes as they stream,
 * one state machine that carries the line length and the previous byte across
 * chunks, so the result does not depend on how the body is cut.
 *
 * In raw mode (scan_raw) the header section is split here: each physical
 * line is checked exactly as it came (length, line ending, NUL), then fields
 * are unfolded into the "\n"-joined form an MTA delivers and handed to the
 * same checks as in milter mode. A field is held until the next line shows
 * whether it is folded; it is bounded by limits.header_bytes.
 *
 * Each defect is reported once per message (the first occurrence, with its
 * line number or field name): a thousand long lines are one finding.
 *
 * The MIME parser and its consumers (content checks, the DSN parser) are
 * created at end of headers: only then is it known whether the message may
 * be a bounce, and the DSN parser, which buffers text, is attached only to
 * such messages: a null or unknown (egressctl) envelope sender, or a
 * top-level field the bounce recogniser (recog.h) points at, whatever the
 * sender: multipart/report, Auto-Submitted, X-Failed-Recipients, a
 * mailer-daemon From, a bounce or auto-reply subject. Until then
 * the top-level fields are kept in one buffer bounded by
 * limits.header_bytes.
 *
 * Memory: bounded by limits.header_bytes (one pending field in raw mode,
 * plus the top-level fields until end of headers) and the MIME parser's and
 * consumers' own limits. Not thread-safe: a scan belongs to one
 * message.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "egress/assert.h"
#include "egress/bounce.h"
#include "egress/config.h"
#include "egress/content.h"
#include "egress/dsn.h"
#include "egress/findings.h"
#include "egress/mime.h"
#include "egress/recog.h"
#include "egress/rfc5322.h"
#include "egress/scan.h"
#include "bytescan.h"

#define SCAN_MAX_HANDLERS	4

/* RFC 5322 3.6: fields that may occur at most once (besides Date, From, Message-ID). */
static const char *const single_fields[] = {
	"Sender", "Reply-To", "To", "Cc", "Bcc", "Subject", "In-Reply-To",
	"References",
};
#define NSINGLE	(sizeof(single_fields) / sizeof(single_fields[0]))

/* Once-per-message flags. */
enum {
	SEEN_LINE_LONG = 1 << 0,
	SEEN_BARE_LF = 1 << 1,
	SEEN_BARE_CR = 1 << 2,
	SEEN_NUL = 1 << 3,
	SEEN_HDR_LONG = 1 << 4,
	SEEN_HDR_8BIT = 1 << 5,
	SEEN_HDR_NUL = 1 << 6,
	SEEN_HDR_SIZE = 1 << 7,
	SEEN_HDR_NAME = 1 << 8,
};

enum raw_state { RAW_HEADER, RAW_BODY };

struct scan {
	const struct config	*cfg;
	const struct envelope	*env;
	struct findings		 findings;
	struct mime_parser	*mime;
	struct mime_handler	 handlers[SCAN_MAX_HANDLERS];
	size_t			 nhandlers;
	struct content_scan	*content;	/* links, attachments, rules */
	struct dsn_parser	*dsn;		/* only for bounce candidates */
	const struct dsn_report	*dsn_result;	/* after finish, or NULL */
	struct buf		 tophdrs;	/* "name\0value\0"... until eoh */
	int			 tophdrs_cut;	/* some fields did not fit */
	int			 candidate;	/* header says: may be a bounce/report */
	unsigned		 seen;
	int			 failed;	/* a resource failure happened */
	int			 finished;	/* scan_finish was called */

	/* header section */
	unsigned		 ndate, nmsgid, nfrom;
	unsigned		 nsingle[NSINGLE];
	size_t			 from_count;
	int			 eoh_done;
	unsigned long long	 header_bytes;
	unsigned long long	 header_count;
	char			 from_domain[RFC5322_DOMAIN_MAX + 1];

	/* raw mode */
	int			 raw;
	enum raw_state		 raw_state;
	struct buf		 line;		/* current physical header line */
	struct buf		 field;		/* pending unfolded field */
	int			 field_dropped;	/* pending field over the limit */
	unsigned long long	 hdr_lineno;
	unsigned long long	 field_lineno;	/* where the pending field began */
	int			 line_cr;	/* the line's last byte, kept or not, is CR */

	/* body line state, carried across chunks */
	unsigned long long	 body_bytes;
	unsigned long long	 lineno;
	unsigned long long	 linelen;
	int			 prev_cr;
};

static int scan_add(struct scan *, const char *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static int
scan_add(struct scan *s, const char *id, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = findings_vadd(&s->findings, id, fmt, ap);
	va_end(ap);
	if (rc != 0) {
		s->failed = 1;
		return -1;
	}
	return 0;
}

struct scan *
scan_new(const struct config *cfg, const struct envelope *env)
{
	struct scan *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->cfg = cfg;
	s->env = env;
	findings_init(&s->findings, (size_t)cfg->limits.findings);
	buf_init(&s->line, (size_t)cfg->limits.header_bytes);
	buf_init(&s->field, (size_t)cfg->limits.header_bytes);
	buf_init(&s->tophdrs, (size_t)cfg->limits.header_bytes);
	s->lineno = 1;
	s->hdr_lineno = 0;
	/* Null or unknown envelope sender: possibly a bounce. */
	s->candidate = env->mail_from == NULL || env->mail_from[0] == '\0';
	return s;
}

/* Create the MIME parser and its consumers, replay the top-level fields. */
static int
scan_start_mime(struct scan *s)
{
	const struct config *cfg = s->cfg;
	struct mime_limits ml;
	const char *p, *end, *name, *value;

	if (s->candidate && cfg->bounce.enabled) {
		if ((s->dsn = dsn_parser_new(cfg->bounce.classifier,
		    (size_t)cfg->bounce.text_limit)) == NULL ||
		    dsn_parser_set_envelope(s->dsn, s->env->mail_from,
		    s->env->nrcpt > 0 ? s->env->rcpts[0] : NULL) != 0)
			return -1;
		s->handlers[s->nhandlers++] = *dsn_parser_handler(s->dsn);
	}
	if ((s->content = content_scan_new(&cfg->content, &cfg->limits,
	    &s->findings)) == NULL)
		return -1;
	content_scan_handler(s->content, &s->handlers[s->nhandlers++]);
	ml.depth = (size_t)cfg->limits.mime_depth;
	ml.parts = (size_t)cfg->limits.mime_parts;
	ml.boundary_length = (size_t)cfg->limits.boundary_length;
	ml.part_header_bytes = (size_t)cfg->limits.part_header_bytes;
	ml.decoded_bytes = (size_t)cfg->limits.decoded_bytes;
	s->mime = mime_parser_new(&ml, s->handlers, s->nhandlers, &s->findings);
	if (s->mime == NULL)
		return -1;
	p = s->tophdrs.data;
	end = p != NULL ? p + s->tophdrs.len : NULL;
	while (p != NULL && p < end) {
		name = p;
		value = name + strlen(name) + 1;
		p = value + strlen(value) + 1;
		if (mime_parser_header(s->mime, name, value) != 0)
			return -1;
	}
	buf_fini(&s->tophdrs);
	return 0;
}

void
scan_free(struct scan *s)
{
	if (s == NULL)
		return;
	mime_parser_free(s->mime);
	dsn_parser_free(s->dsn);
	content_scan_free(s->content);
	buf_fini(&s->tophdrs);
	findings_fini(&s->findings);
	buf_fini(&s->line);
	buf_fini(&s->field);
	free(s);
}

struct findings *
scan_findings(struct scan *s)
{
	return &s->findings;
}

int
scan_has_date(const struct scan *s)
{
	return s->ndate > 0;
}

int
scan_has_message_id(const struct scan *s)
{
	return s->nmsgid > 0;
}

const char *
scan_from_domain(const struct scan *s)
{
	return s->from_domain[0] ? s->from_domain : NULL;
}

unsigned long long
scan_size(const struct scan *s)
{
	return s->header_bytes + s->body_bytes;
}

int
scan_is_bounce(const struct scan *s)
{
	if (s->env->mail_from != NULL && s->env->mail_from[0] == '\0')
		return 1;
	/* A recognised report or auto-reply is treated as a bounce too. */
	return s->dsn_result != NULL && s->dsn_result->kind != DSN_KIND_NONE;
}

const struct dsn_report *
scan_dsn(const struct scan *s)
{
	return s->dsn_result;
}

/* ---- header checks ---- */

static int
check_date(struct scan *s, const char *value)
{
	long long t;
	int lenient;

	if (++s->ndate > 1)
		return s->ndate == 2 ?
		    scan_add(s, "rfc5322.date.duplicate", "Date") : 0;
	if (rfc5322_date_parse_lenient(value, &t, &lenient) != 0)
		return scan_add(s, "rfc5322.date.invalid", "Date: %.80s", value);
	if (lenient && scan_add(s, "rfc5322.date.lenient", "Date: %.80s", value) != 0)
		return -1;
	if (s->cfg->date_max_future > 0 && t > s->env->now + s->cfg->date_max_future)
		return scan_add(s, "rfc5322.date.future", "Date %llds ahead",
		    t - s->env->now);
	if (s->cfg->date_max_past > 0 && t < s->env->now - s->cfg->date_max_past)
		return scan_add(s, "rfc5322.date.past", "Date %llds old",
		    s->env->now - t);
	return 0;
}

#define SCAN_MSGID_MAX	998	/* a Message-ID value kept for the obsolete form */

/*
 * The value without CFWS: white space, folds and comments (nested up to
 * RFC5322_COMMENT_DEPTH_MAX) dropped, quoted strings kept as they are.
 * Returns -1 when a comment or quote is left open or out is too small.
 */
static int
strip_cfws(const char *in, char *out, size_t outsz)
{
	size_t o = 0;
	int depth = 0, quoted = 0;

	for (; *in != '\0'; in++) {
		char c = *in;

		if (depth > 0) {
			if (c == '\\' && in[1] != '\0')
				in++;
			else if (c == '(' && ++depth > RFC5322_COMMENT_DEPTH_MAX)
				return -1;
			else if (c == ')')
				depth--;
			continue;
		}
		if (!quoted && c == '(') {
			depth = 1;
			continue;
		}
		if (!quoted && (c == ' ' || c == '\t' || c == '\r' || c == '\n'))
			continue;
		if (o + 2 >= outsz)
			return -1;
		if (quoted && c == '\\' && in[1] != '\0') {
			out[o++] = c;
			c = *++in;
		} else if (c == '"')
			quoted = !quoted;
		out[o++] = c;
	}
	out[o] = '\0';
	return depth == 0 && !quoted ? 0 : -1;
}

static int
check_msgid(struct scan *s, const char *value)
{
	char right[RFC5322_DOMAIN_MAX + 1], bare[SCAN_MSGID_MAX + 1];

	if (++s->nmsgid > 1)
		return s->nmsgid == 2 ? scan_add(s, "rfc5322.message_id.duplicate",
		    "Message-ID") : 0;
	/* The obsolete form (RFC 5322 4.5.4, A.6.3) puts CFWS inside the
	 * brackets, "<1234 @ local(blah) .machine .example>": valid once
	 * it is stripped, and reported apart. */
	if (rfc5322_msgid_parse(value, right, sizeof(right)) != 0 &&
	    strip_cfws(value, bare, sizeof(bare)) == 0 &&
	    rfc5322_msgid_parse(bare, right, sizeof(right)) == 0) {
		if (scan_add(s, "rfc5322.message_id.obsolete", "Message-ID: %.80s",
		    value) != 0)
			return -1;
	} else if (rfc5322_msgid_parse(value, right, sizeof(right)) != 0)
		return scan_add(s, "rfc5322.message_id.invalid",
		    "Message-ID: %.80s", value);
	if (right[0] != '[' && !rfc5322_domain_is_fqdn(right))
		return scan_add(s, "rfc5322.message_id.not_fqdn",
		    "Message-ID domain %.80s", right);
	return 0;
}

/*
 * "john@example.com <john@example.com>": display words holding specials
 * ("@", ".") unquoted, as some mailers write them, before one proper
 * angle-addr. Only that shape: nothing after the brackets, no quote,
 * comment, bracket or list separator in the words. Fills *al from the
 * angle-addr alone.
 */
static int
from_unquoted_display(const char *value, struct rfc5322_addrlist *al)
{
	char addr[RFC5322_ADDR_MAX + 8];
	const char *lt = strrchr(value, '<'), *gt, *p;
	int words = 0;

	if (lt == NULL || (gt = strchr(lt, '>')) == NULL ||
	    (size_t)(gt - lt) + 2 > sizeof(addr))
		return 0;
	for (p = gt + 1; *p != '\0'; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			return 0;
	for (p = value; p < lt; p++) {
		if (strchr("<>\",;:()\\", *p) != NULL ||
		    ((unsigned char)*p < 0x20 && *p != '\t' && *p != '\r' && *p != '\n'))
			return 0;
		words |= *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n';
	}
	if (!words)
		return 0;
	memcpy(addr, lt, (size_t)(gt - lt) + 1);
	addr[gt - lt + 1] = '\0';
	(void)rfc5322_addrlist_parse(addr, al);
	return !al->invalid && al->count == 1;
}

static int
check_from(struct scan *s, const char *value)
{
	struct rfc5322_addrlist al;

	if (++s->nfrom > 1)
		return s->nfrom == 2 ?
		    scan_add(s, "rfc5322.from.duplicate", "From") : 0;
	(void)rfc5322_addrlist_parse(value, &al);
	if ((al.invalid || al.count == 0) && from_unquoted_display(value, &al)) {
		s->from_count = al.count;
		memcpy(s->from_domain, al.first_domain, sizeof(s->from_domain));
		return scan_add(s, "rfc5322.from.unquoted_display", "From: %.80s",
		    value);
	}
	s->from_count = al.count;
	memcpy(s->from_domain, al.first_domain, sizeof(s->from_domain));
	if (al.invalid || al.count == 0)
		return scan_add(s, "rfc5322.from.invalid", "From: %.80s", value);
	return 0;
}

/* Length of the longest physical line of a "\n"-folded value. */
static size_t
longest_line(const char *name, const char *value)
{
	size_t best, cur;
	const char *p;

	cur = strlen(name) + 2;
	best = 0;
	for (p = value; *p; p++) {
		if (*p == '\n') {
			if (cur > 0 && p > value && p[-1] == '\r')
				cur--;
			if (cur > best)
				best = cur;
			cur = 0;
		} else
			cur++;
	}
	return cur > best ? cur : best;
}

static int
has_8bit(const char *p)
{
	for (; *p; p++)
		if ((unsigned char)*p >= 0x80)
			return 1;
	return 0;
}

static int
scan_field(struct scan *s, const char *name, const char *value)
{
	const struct limits *l = &s->cfg->limits;
	size_t i, nlen = strlen(name);

	s->header_count++;
	s->header_bytes += nlen + 2 + strlen(value) + 2;
	if (!(s->seen & SEEN_HDR_SIZE) && ((l->header_bytes > 0 &&
	    s->header_bytes > (unsigned long long)l->header_bytes) ||
	    (l->header_count > 0 && s->header_count > (unsigned long long)l->header_count))) {
		s->seen |= SEEN_HDR_SIZE;
		if (scan_add(s, "size.headers", "over the limit at field %llu",
		    s->header_count) != 0)
			return -1;
	}
	if (!rfc5322_field_name_is_valid(name, nlen)) {
		if (!(s->seen & SEEN_HDR_NAME)) {
			s->seen |= SEEN_HDR_NAME;
			if (scan_add(s, "header.name.invalid", "field name \"%.60s\"",
			    name) != 0)
				return -1;
		}
		return 0;
	}
	if (!(s->seen & SEEN_HDR_8BIT) && !s->env->smtputf8 &&
	    (has_8bit(name) || has_8bit(value))) {
		s->seen |= SEEN_HDR_8BIT;
		if (scan_add(s, "header.8bit", "in %.60s", name) != 0)
			return -1;
	}
	/* In raw mode the physical lines were measured as they came. */
	if (!s->raw && !(s->seen & SEEN_HDR_LONG) && l->line_length > 0 &&
	    longest_line(name, value) > (size_t)l->line_length) {
		s->seen |= SEEN_HDR_LONG;
		if (scan_add(s, "header.line_too_long", "in %.60s", name) != 0)
			return -1;
	}
	if (strcasecmp(name, "Date") == 0)
		return check_date(s, value);
	if (strcasecmp(name, "Message-ID") == 0)
		return check_msgid(s, value);
	if (strcasecmp(name, "From") == 0)
		return check_from(s, value);
	for (i = 0; i < NSINGLE; i++)
		if (strcasecmp(name, single_fields[i]) == 0) {
			if (++s->nsingle[i] == 2 && scan_add(s,
			    "rfc5322.header.duplicate", "%s", single_fields[i]) != 0)
				return -1;
			break;
		}
	return 0;
}

static int
header_in(struct scan *s, const char *name, const char *value)
{
	if (s->failed)
		return -1;
	if (scan_field(s, name, value) != 0)
		return -1;
	if (s->eoh_done)
		return 0;	/* a field after the header section: ignore */
	if (!s->candidate && recog_field_hint(name, value))
		s->candidate = 1;
	/* Keep the field for the MIME parser, created at end of headers. */
	if (!s->tophdrs_cut) {
		size_t save = s->tophdrs.len;
		int rc = buf_append(&s->tophdrs, name, strlen(name) + 1);

		if (rc == BUF_OK)
			rc = buf_append(&s->tophdrs, value, strlen(value) + 1);
		if (rc == BUF_ERR_NOMEM) {
			s->failed = 1;
			return -1;
		}
		if (rc != BUF_OK) {
			/* Over limits.header_bytes: size.headers reports it. */
			s->tophdrs.len = save;
			s->tophdrs_cut = 1;
		}
	}
	return 0;
}

static int
eoh_in(struct scan *s)
{
	if (s->failed)
		return -1;
	if (s->eoh_done)
		return 0;
	s->eoh_done = 1;
	if (s->ndate == 0 && scan_add(s, "rfc5322.date.missing", NULL) != 0)
		return -1;
	if (s->nmsgid == 0 &&
	    scan_add(s, "rfc5322.message_id.missing", NULL) != 0)
		return -1;
	if (s->nfrom == 0 && scan_add(s, "rfc5322.from.missing", NULL) != 0)
		return -1;
	/* RFC 5322 3.6.2: several From mailboxes require a Sender field. */
	if (s->nfrom > 0 && s->from_count > 1 && s->nsingle[0] == 0 &&
	    scan_add(s, "rfc5322.from.multiple_addresses", "%llu mailboxes",
	    (unsigned long long)s->from_count) != 0)
		return -1;
	if (scan_start_mime(s) != 0 || mime_parser_eoh(s->mime) != 0) {
		s->failed = 1;
		return -1;
	}
	return 0;
}

/* ---- body checks ---- */

/* The line in progress is longer than the limit: say so, once. */
static int
body_long(struct scan *s, unsigned long long maxlen)
{
	if (s->linelen <= maxlen || (s->seen & SEEN_LINE_LONG))
		return 0;
	s->seen |= SEEN_LINE_LONG;
	return scan_add(s, "body.line_too_long", "line %llu", s->lineno);
}

/* One body byte through the line state machine. */
static int
body_byte(struct scan *s, unsigned char c, unsigned long long maxlen)
{
	if (c == '\n') {
		if (!s->prev_cr && !(s->seen & SEEN_BARE_LF)) {
			s->seen |= SEEN_BARE_LF;
			if (scan_add(s, "body.bare_lf", "line %llu", s->lineno) != 0)
				return -1;
		}
		s->lineno++;
		s->linelen = 0;
		s->prev_cr = 0;
		return 0;
	}
	if (s->prev_cr) {
		/* The CR was not part of a CRLF: it counts in the line. */
		if (!(s->seen & SEEN_BARE_CR)) {
			s->seen |= SEEN_BARE_CR;
			if (scan_add(s, "body.bare_cr", "line %llu", s->lineno) != 0)
				return -1;
		}
		s->linelen++;
	}
	if (c == '\r') {
		s->prev_cr = 1;
		return 0;
	}
	s->prev_cr = 0;
	if (c == '\0' && !(s->seen & SEEN_NUL)) {
		s->seen |= SEEN_NUL;
		if (scan_add(s, "body.nul", "line %llu", s->lineno) != 0)
			return -1;
	}
	s->linelen++;
	return body_long(s, maxlen);
}

/*
 * 64 bytes of body in one step, when they hold only CRLF line ends and no
 * NUL: LF, CR and NUL as bit masks; every CR right before an LF of the
 * block and every LF right after a CR of it. Lines wholly inside the block
 * are shorter than 64, so only the line running in (to the first LF) can
 * pass a limit of 64 or more. Returns 1 when the block was taken, 0 when
 * it needs the byte path (state untouched), -1 on error.
 */
static inline int
body_block(struct scan *s, uint64_t lf, uint64_t cr, uint64_t nul,
    unsigned long long maxlen)
{
	unsigned first, last;

	if (nul != 0 || cr != lf >> 1 || (lf & 1) != 0)
		return 0;
	if (lf == 0) {
		s->linelen += 64;
		return body_long(s, maxlen) != 0 ? -1 : 1;
	}
	first = (unsigned)__builtin_ctzll(lf);
	last = 63 - (unsigned)__builtin_clzll(lf);
	s->linelen += first - 1;	/* the CR is no part of the line */
	if (body_long(s, maxlen) != 0)
		return -1;
	s->lineno += (unsigned long long)__builtin_popcountll(lf);
	s->linelen = 63 - last;
	return 1;
}

/* Blocks of p[0..n) while body_block() takes them, masks from eol(): the
 * bytes taken, or (size_t)-1 on error. Inlined into each variant below. */
static inline __attribute__((always_inline)) size_t
body_blocks_with(struct scan *s, const char *p, size_t n,
    unsigned long long maxlen,
    void (*eol)(const char *, uint64_t *, uint64_t *, uint64_t *))
{
	uint64_t lf, cr, nul;
	size_t i;
	int r = 1;

	for (i = 0; n - i >= 64; i += 64) {
		eol(p + i, &lf, &cr, &nul);
		if ((r = body_block(s, lf, cr, nul, maxlen)) <= 0)
			break;
	}
	return r < 0 ? (size_t)-1 : i;
}

static size_t
body_blocks(struct scan *s, const char *p, size_t n,
    unsigned long long maxlen)
{
	return body_blocks_with(s, p, n, maxlen, bytescan_eol64);
}

#ifdef BYTESCAN_AVX2
/* With AVX2 masks (and POPCNT, which every AVX2 CPU has). */
__attribute__((target("avx2,popcnt"))) static size_t
body_blocks_avx2(struct scan *s, const char *p, size_t n,
    unsigned long long maxlen)
{
	return body_blocks_with(s, p, n, maxlen, bytescan_eol64_avx2);
}
#endif

/*
 * The body line checks. Runs of 64 bytes with CRLF line ends only are
 * taken a block at a time (body_block). Otherwise one vectorised search
 * (bytescan_any3) finds the next LF, CR or NUL, the bytes before it are
 * counted in one step, and a CRLF ends the line at once. Anything else (a
 * bare CR or LF, a NUL, a CR last in the chunk) goes through body_byte()
 * one byte at a time, so the work stays linear and the findings are those
 * of the byte-by-byte machine.
 */
static int
body_lines(struct scan *s, const char *p, size_t n)
{
	const unsigned long long maxlen = s->cfg->limits.line_length > 0 ?
	    (unsigned long long)s->cfg->limits.line_length : ~0ULL;
	size_t i = 0, j, noblock = 0;

	while (i < n) {
		if (!s->prev_cr && maxlen >= 64 && i >= noblock &&
		    n - i >= 64) {
#ifdef BYTESCAN_AVX2
			if (bytescan_avx2())
				j = body_blocks_avx2(s, p + i, n - i, maxlen);
			else
#endif
				j = body_blocks(s, p + i, n - i, maxlen);
			if (j == (size_t)-1)
				return -1;
			i += j;
			if (i == n)
				break;
			/* not before these 64 bytes are behind: linear work
			 * on a body of bare line ends too */
			noblock = i + 64;
		}
		if (!s->prev_cr) {
			j = i + bytescan_any3(p + i, n - i, '\n', '\r', '\0');
			if (j > i) {
				s->linelen += j - i;
				if (body_long(s, maxlen) != 0)
					return -1;
				i = j;
				if (i == n)
					break;
			}
			if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n') {
				/* what body_byte() does for CR then LF */
				s->lineno++;
				s->linelen = 0;
				i += 2;
				continue;
			}
		}
		if (body_byte(s, (unsigned char)p[i], maxlen) != 0)
			return -1;
		i++;
	}
	return 0;
}

static int
body_in(struct scan *s, const char *p, size_t n)
{
	if (s->failed)
		return -1;
	if (!s->eoh_done && eoh_in(s) != 0)
		return -1;
	s->body_bytes += n;
	if (body_lines(s, p, n) != 0)
		return -1;
	if (mime_parser_body(s->mime, p, n) != 0) {
		s->failed = 1;
		return -1;
	}
	return 0;
}

/* ---- raw mode: split the header section ourselves ---- */

/* Hand the pending unfolded field to the checks. */
static int
raw_flush_field(struct scan *s)
{
	char *colon, *name, *value, *end;

	if (s->field.len == 0) {
		s->field_dropped = 0;
		return 0;
	}
	name = s->field.data;
	colon = memchr(name, ':', s->field.len);
	if (colon == NULL) {
		if (!(s->seen & SEEN_HDR_NAME)) {
			s->seen |= SEEN_HDR_NAME;
			if (scan_add(s, "header.name.invalid",
			    "header line %llu has no colon", s->field_lineno) != 0)
				return -1;
		}
		buf_reset(&s->field);
		return 0;
	}
	*colon = '\0';
	/* obs-optional: WSP between the name and the colon. */
	for (end = colon; end > name && (end[-1] == ' ' || end[-1] == '\t'); end--)
		end[-1] = '\0';
	value = colon + 1;
	while (*value == ' ' || *value == '\t')
		value++;
	if (header_in(s, name, value) != 0)
		return -1;
	buf_reset(&s->field);
	return 0;
}

/* One complete physical header line (without its line ending). */
static int
raw_header_line(struct scan *s, const char *line, size_t len, int bare_lf)
{
	const struct limits *l = &s->cfg->limits;
	size_t i;

	s->hdr_lineno++;
	if (bare_lf && !(s->seen & SEEN_BARE_LF)) {
		s->seen |= SEEN_BARE_LF;
		if (scan_add(s, "body.bare_lf", "header line %llu",
		    s->hdr_lineno) != 0)
			return -1;
	}
	for (i = 0; i < len; i++) {
		if (line[i] == '\0' && !(s->seen & SEEN_HDR_NUL)) {
			s->seen |= SEEN_HDR_NUL;
			if (scan_add(s, "header.nul", "header line %llu",
			    s->hdr_lineno) != 0)
				return -1;
		} else if (line[i] == '\r' && !(s->seen & SEEN_BARE_CR)) {
			s->seen |= SEEN_BARE_CR;
			if (scan_add(s, "body.bare_cr", "header line %llu",
			    s->hdr_lineno) != 0)
				return -1;
		}
	}
	if (l->line_length > 0 && len > (size_t)l->line_length &&
	    !(s->seen & SEEN_HDR_LONG)) {
		s->seen |= SEEN_HDR_LONG;
		if (scan_add(s, "header.line_too_long", "header line %llu",
		    s->hdr_lineno) != 0)
			return -1;
	}
	/* A line of white space only ends the header too, as receivers
	 * (Rspamd among them) read it: the body would otherwise be taken for
	 * header fields. Reported apart. */
	for (i = 0; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
		;
	if (len > 0 && i == len && scan_add(s, "header.blank_line_whitespace",
	    "header line %llu", s->hdr_lineno) != 0)
		return -1;
	if (len == 0 || i == len) {
		if (raw_flush_field(s) != 0 || eoh_in(s) != 0)
			return -1;
		s->raw_state = RAW_BODY;
		return 0;
	}
	if (line[0] == ' ' || line[0] == '\t') {
		if (s->field.len == 0 && !s->field_dropped) {
			/* A continuation with nothing to continue. */
			if (!(s->seen & SEEN_HDR_NAME)) {
				s->seen |= SEEN_HDR_NAME;
				if (scan_add(s, "header.name.invalid",
				    "header line %llu continues nothing",
				    s->hdr_lineno) != 0)
					return -1;
			}
			return 0;
		}
	} else if (raw_flush_field(s) != 0)
		return -1;
	else
		s->field_lineno = s->hdr_lineno;
	if (s->field_dropped)
		return 0;
	/* NULs would cut the C string the checks see: make them spaces. */
	if ((s->field.len > 0 && buf_putc(&s->field, '\n') != BUF_OK) ||
	    buf_append(&s->field, line, len) != BUF_OK) {
		buf_reset(&s->field);
		s->field_dropped = 1;
		if (!(s->seen & SEEN_HDR_SIZE)) {
			s->seen |= SEEN_HDR_SIZE;
			if (scan_add(s, "size.headers", "over the limit: field at header line %llu",
			    s->hdr_lineno) != 0)
				return -1;
		}
		return 0;
	}
	for (i = s->field.len - len; i < s->field.len; i++)
		if (s->field.data[i] == '\0')
			s->field.data[i] = ' ';
	return 0;
}

/*
 * The feeding entry points: feeding a scan that was finished is a
 * programming error (the milter starts a new scan per message).
 */
int
scan_header(struct scan *s, const char *name, const char *value)
{
	EGRESS_ASSERT(s != NULL && !s->finished);
	EGRESS_ASSERT(name != NULL && value != NULL);
	return header_in(s, name, value);
}

int
scan_eoh(struct scan *s)
{
	EGRESS_ASSERT(s != NULL && !s->finished);
	return eoh_in(s);
}

int
scan_body(struct scan *s, const char *p, size_t n)
{
	EGRESS_ASSERT(s != NULL && !s->finished);
	EGRESS_ASSERT(p != NULL || n == 0);
	return body_in(s, p, n);
}

int
scan_raw(struct scan *s, const char *p, size_t n)
{
	const char *nl;
	size_t take;

	EGRESS_ASSERT(s != NULL && !s->finished);
	EGRESS_ASSERT(p != NULL || n == 0);
	if (s->failed)
		return -1;
	s->raw = 1;
	while (n > 0 && s->raw_state == RAW_HEADER) {
		nl = memchr(p, '\n', n);
		take = nl ? (size_t)(nl - p) : n;
		if (s->line.len + take <= s->line.max) {
			if (buf_append(&s->line, p, take) != BUF_OK) {
				s->failed = 1;
				return -1;
			}
		} else if (!(s->seen & SEEN_HDR_SIZE)) {
			/* One physical line over the whole header budget. */
			s->seen |= SEEN_HDR_SIZE;
			if (scan_add(s, "size.headers", "line over the limit: header line %llu",
			    s->hdr_lineno + 1) != 0)
				return -1;
		}
		/* the line end is judged on the line's real last byte, also
		 * when the line was too long to keep */
		if (take > 0)
			s->line_cr = p[take - 1] == '\r';
		if (nl == NULL)
			return 0;
		{
			size_t len = s->line.len;
			int bare = !s->line_cr;

			if (!bare && len > 0 && s->line.data[len - 1] == '\r')
				len--;
			s->line_cr = 0;
			if (raw_header_line(s, s->line.data ? s->line.data : "",
			    len, bare) != 0)
				return -1;
			/* Header bytes count as delivered: CRLF per line. */
		}
		buf_reset(&s->line);
		p = nl + 1;
		n -= take + 1;
	}
	if (n > 0)
		return body_in(s, p, n);
	return 0;
}

int
scan_finish(struct scan *s)
{
	const struct limits *l;

	/* Twice would add the message-level findings twice. */
	EGRESS_ASSERT(s != NULL && !s->finished);
	s->finished = 1;
	l = &s->cfg->limits;
	if (s->failed)
		return -1;
	if (s->raw && s->raw_state == RAW_HEADER) {
		/* The file ended inside the header section. */
		if (s->line.len > 0) {
			int bare = 0;
			size_t len = s->line.len;

			if (s->line.data[len - 1] == '\r')
				len--;
			if (raw_header_line(s, s->line.data, len, bare) != 0)
				return -1;
			buf_reset(&s->line);
		}
		if (s->raw_state == RAW_HEADER && (raw_flush_field(s) != 0 ||
		    eoh_in(s) != 0))
			return -1;
	}
	if (!s->eoh_done && eoh_in(s) != 0)
		return -1;
	/* A CR as the very last byte was never followed by its LF. */
	if (s->prev_cr && !(s->seen & SEEN_BARE_CR)) {
		s->seen |= SEEN_BARE_CR;
		if (scan_add(s, "body.bare_cr", "line %llu", s->lineno) != 0)
			return -1;
	}
	if (mime_parser_finish(s->mime) != 0) {
		s->failed = 1;
		return -1;
	}
	if (s->dsn != NULL && (s->dsn_result = dsn_parser_result(s->dsn)) == NULL) {
		s->failed = 1;
		return -1;
	}
	if (l->message_size > 0 && scan_size(s) > (unsigned long long)l->message_size &&
	    scan_add(s, "size.message", "%llu bytes", scan_size(s)) != 0)
		return -1;
	if (l->recipients > 0 && s->env->nrcpt > (size_t)l->recipients &&
	    scan_add(s, "size.recipients", "%llu recipients",
	    (unsigned long long)s->env->nrcpt) != 0)
		return -1;
	if (s->content != NULL && content_scan_finish(s->content) != 0) {
		s->failed = 1;
		return -1;
	}
	return s->failed ? -1 : 0;
}
