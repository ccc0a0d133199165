/*
 * dsn_int.h - what the parts of the bounce parser share. Not installed.
 *
 * The parser is split along its seams:
 *   dsn.c            lifetime, the result, whole-message convenience, output
 *   dsn_collect.c    the MIME event handlers: top-level fields, part
 *                    ancestry, the bounded text of the parts that are read
 *   dsn_fields.c     RFC 3464 delivery-status and ARF feedback-report fields
 *   dsn_heuristics.c recognising a bounce, per-recipient adjustments (SMTP
 *                    stage, retries, local delivery), building the report
 *   dsn_text.c       the human-readable bounce formats
 *   dsn_ses.c        Amazon SES notifications
 * Everything here runs on one parser, for one message, in one thread.
 */
#ifndef EGRESS_DSN_INT_H
#define EGRESS_DSN_INT_H

#include <stddef.h>

#include "egress/buf.h"
#include "egress/dsn.h"
#include "egress/mime.h"

/* ---- the parser (dsn.c owns it, dsn_collect.c fills it) ---- */

#define DSN_PART_TYPE_MAX	96
#define DSN_PART_META_MAX	4096	/* parts whose ancestry is tracked */
#define DSN_DATA_ADDRS		32	/* addresses kept from DATA replies */
#define DSN_TEXT_PARTS_BUDGET	4	/* text kept per message, in text_limits */
#define DSN_LIST_ADDRS		16	/* mailing-list and returned addresses */

struct dsn_hdr {
	char	*name;
	char	*value;
};

struct dsn_part {
	unsigned	 id;
	unsigned	 parent;
	char		 type[DSN_PART_TYPE_MAX];
	int		 is_message;	/* message/rfc822 or message/global */
	int		 enclosed;	/* inside a returned message */
	int		 keep;
	int		 attached;	/* Content-Disposition: attachment */
	char		 charset[40];	/* lower case, or "" */
	struct buf	 text;
};

/*
 * Every pointer is malloc'd and owned by the parser, except cl (borrowed).
 * dsn_parser_reset() frees all of it; rep is built once, by dsn_build().
 */
struct dsn_parser {
	const struct classifier	*cl;
	size_t			 text_limit;
	struct mime_handler	 h;
	char			*env_from;	/* NULL: unknown */
	char			*env_rcpt;
	size_t			 ntop;		/* top[0..ntop) are set */
	char			*top_type;
	char			*top_report_type;
	char			*ret_msgid, *ret_from, *ret_return_path, *ret_to;
	/*
	 * Addresses of mailing-list fields (List-Post, List-Owner ...) and
	 * Sender, Cc, Reply-To of the returned message, and the bounce's
	 * own List-* fields: never failed recipients on their own.
	 */
	char			*list_addrs[DSN_LIST_ADDRS];
	size_t			 nlist_addrs;
	struct dsn_part		*parts;
	size_t			 nparts;
	size_t			 capparts;
	size_t			 kept;		/* text bytes kept, all parts */
	size_t			 nkept;		/* parts whose text is kept */
	int			 oom;
	int			 stage_data;	/* transcript: refused after DATA */
	int			 stage_rcpt;	/* text names the RCPT stage */
	int			 stage_data_text; /* text names the DATA stage */
	const char		*main_text;	/* the notice's text, while built */
	size_t			 main_text_len;
	char			*data_addrs[DSN_DATA_ADDRS];	/* named there */
	size_t			 ndata_addrs;
	struct dsn_report	 rep;
	int			 built;
	/* last: dsn_parser_new() clears the members above it only */
	struct dsn_hdr		 top[DSN_HEADERS_MAX];
};

/* ---- dsn.c: small helpers (every copy is cut at DSN_FIELD_MAX) ---- */

/* malloc'd copies; NULL when out of memory (dsn_dup_s: also for NULL). */
char	*dsn_dup_n(const char *s, size_t n);
char	*dsn_dup_s(const char *s);
/* Copy without leading and trailing whitespace. */
char	*dsn_trim_dup(const char *s, size_t n);
/* Case-insensitive equality. */
int	 dsn_streq_ci(const char *a, const char *b);
/* First kept top-level field of that name: a pointer into p, or NULL. */
const char *dsn_top_header(const struct dsn_parser *p, const char *name);
const char *dsn_subject(const struct dsn_parser *p);
/*
 * A new zeroed recipient at the end of rep, or NULL when out of memory or
 * DSN_MAX_RECIPIENTS are there.
 */
struct dsn_recipient *dsn_rcpt_new(struct dsn_report *rep);

/* ---- dsn_collect.c ---- */

/* Point p->h at the collecting MIME handlers. */
void	dsn_collect_init(struct dsn_parser *p);
/*
 * Append the human-readable text of the report to out: kept text parts
 * outside the returned message, HTML only when there is no plain text (its
 * tags stripped). Returns 0 or -1 (out of memory).
 */
int	dsn_main_text(struct dsn_parser *p, struct buf *out);
/*
 * The byte dsn_main_text() puts alone on the line that ends each text
 * part (a form feed): the text scan reads that line as blank, and as a
 * boundary no paragraph continues across.
 */
#define DSN_PART_BREAK	'\f'
/*
 * Whether s[0..n) says something of a delivery: an address, failure words
 * or a reply code (dsn_failure_words()), or a bounce marker line's words.
 * A gateway's banner or footer, "This is a multi-part message in MIME
 * format.", say nothing.
 */
int	dsn_says_delivery(const char *s, size_t n);
/*
 * The last line of a Sendmail transcript ("----- Transcript of session
 * follows -----") that opens with a 4xx/5xx reply: its own status line
 * for a local mailer ("554 5.3.0 unknown mailer error 255"). Points into t
 * (*len bytes), or NULL.
 */
const char *dsn_text_mailer_reply(const char *t, size_t n, size_t *len);

/* ---- dsn_charset.c ---- */

/*
 * Append s[0..n), written in charset (NULL or "": ASCII/UTF-8), to out as
 * UTF-8. Invalid input becomes U+FFFD; an unknown charset keeps valid
 * UTF-8 and replaces the rest. Returns a buf status (BUF_ERR_LIMIT: out
 * is full, what fitted is there).
 */
int	dsn_to_utf8(struct buf *out, const char *charset, const char *s,
	    size_t n);
/* A header value with its RFC 2047 encoded words decoded to UTF-8. */
int	dsn_words_to_utf8(struct buf *out, const char *value);

/* ---- dsn_fields.c ---- */

/*
 * Each returns 0 or -1 (out of memory) and fills p->rep (recipients,
 * reporting MTA, dates, sender, Message-ID) from the text t[0..n).
 */
int	dsn_parse_delivery_status(struct dsn_parser *p, const char *t, size_t n);
int	dsn_parse_feedback(struct dsn_parser *p, const char *t, size_t n);
/* The returned message's Message-ID, From, Return-Path and To, if unset. */
int	dsn_returned_headers(struct dsn_parser *p, const char *t, size_t n);
/*
 * Remember the address of a mailing-list field (List-*), or of Sender, Cc
 * or Reply-To of the returned message (returned non-zero). Other fields
 * are ignored. Returns 0 or -1 (out of memory).
 */
int	dsn_note_list_field(struct dsn_parser *p, const char *name,
	    const char *value, int returned);
/*
 * "rfc822; a@b" -> "a@b": the type stripped, then the address (address
 * non-zero) or the value without <> and blanks. malloc'd, or NULL.
 */
char	*dsn_typed_value(const char *v, int address);

/* ---- dsn_heuristics.c ---- */

/* Set the reason, its category and hard/soft of r. */
void	dsn_set_reason(struct dsn_recipient *r, const char *reason);
/*
 * Clean r's diagnostic, take the codes in it, classify r and apply the
 * adjustments (SMTP stage, retries ran out, local delivery agent).
 * diag_type is the Diagnostic-Code type ("smtp", "x-unix") or NULL.
 * Returns 0 or -1 (out of memory).
 */
int	dsn_rcpt_finish(struct dsn_parser *p, struct dsn_recipient *r,
	    const char *diag_type);
/* Build p->rep from what was collected. Returns 0 or -1 (out of memory). */
int	dsn_build(struct dsn_parser *p);

/* ---- dsn_text.c, dsn_ses.c ---- */

#define DSN_TEXT_RCPT_LINES	40	/* diagnostic lines taken per recipient */
#define DSN_ADDR_MAX		320	/* RFC 5321 path limit, with slack */

/* One recipient found in a human-readable bounce. Strings are malloc'd. */
struct dsn_text_rcpt {
	char	*addr;
	char	*diag;		/* raw (unfolded later), or NULL */
	char	*remote;	/* remote MTA if the text names one, or NULL */
	char	*status;	/* "5.1.1" when the text says so (qmail "#5.1.1") */
	int	 excluded;	/* the bounce's own address: a last resort */
	enum dsn_provenance prov;	/* which shape of the text named it */
	int	 weak;		/* only a "To:" field named it: a last resort */
	int	 field;		/* first named by a "Label: address" field */
	int	 accepted;	/* a transcript shows its RCPT accepted (2xx) */
	int	 lined;		/* named by a recipient line, not a sentence */
	int	 section;	/* 1: under Sendmail's "permanent fatal errors"
				   heading, 2: its "transient non-fatal" one */
};

struct dsn_text_result {
	struct dsn_text_rcpt	*v;
	size_t			 n;
	size_t			 cap;
	const char		*format;	/* static family name or NULL */
	int			 strong;	/* a bounce marker line was seen */
	char			*general_diag;	/* text when no recipient had any */
	size_t			 returned_at;	/* offset of the returned message */
};

/*
 * Scan the human-readable text of a bounce. `exclude` is a NULL-ended list
 * of addresses that are not failed recipients (the bounce's own sender and
 * recipient). text_only: the message has no delivery-status part, so the
 * text alone shows it is a bounce (markers the notice wrapped are looked
 * for too). Returns 0 or -1 (out of memory); res owns what it holds.
 */
int	dsn_text_scan(const char *text, size_t n, const char *const *exclude,
	    size_t max_rcpts, int text_only, struct dsn_text_result *res);
void	dsn_text_result_fini(struct dsn_text_result *);

/* Non-zero when diag (or NULL) carries a 4xx/5xx reply or status code. */
int	dsn_diag_failed(const char *diag);
/* Non-zero when s[0..n) says something failed (words or an SMTP code). */
int	dsn_failure_words(const char *s, size_t n);
/* "not delivered yet" in several languages: a marker and a warning word */
extern const char *const dsn_not_yet_words[];

/* Lower-cased copy of the first address in s (no <>), or NULL. */
char	*dsn_addr_extract(const char *s, size_t n);

/* Case-insensitive prefix test. */
int	dsn_has_prefix_ci(const char *s, const char *prefix);
/* Case-insensitive substring search in s[0..n), or NULL. */
const char *dsn_memstr_ci(const char *s, size_t n, const char *needle);
/* Whether any word of the NULL-ended list occurs (dsn_memstr_ci each). */
int	dsn_memstr_any_ci(const char *s, size_t n, const char *const *list);
/* Same, a needle's space matching any run of blanks and line breaks. */
const char *dsn_memstr_ws_ci(const char *s, size_t n, const char *needle);
int	dsn_memstr_ws_any_ci(const char *s, size_t n, const char *const *list);
/* Same for needles that all hold the word anchor: one scan for it. */
int	dsn_memstr_ws_group_ci(const char *s, size_t n, const char *anchor,
	    const char *const *list);

/* Amazon SES notifications (dsn_ses.c). */
#define DSN_SES_MAX	100	/* recipients read from one notification */

enum dsn_ses_kind { SES_NONE = 0, SES_BOUNCE, SES_COMPLAINT, SES_DELIVERY };

struct dsn_ses_rcpt {
	char	*addr, *status, *action, *diag;
};

struct dsn_ses {
	enum dsn_ses_kind	 kind;
	char			*source;	/* envelope sender */
	char			*message_id;
	char			*reporting_mta;
	char			*feedback_type;
	char			*smtp_response;	/* Delivery */
	struct dsn_ses_rcpt	 v[DSN_SES_MAX];
	size_t			 n;
};

/* Returns 1 when text holds an SES notification (out filled), else 0. */
int	dsn_ses_scan(const char *text, size_t n, struct dsn_ses *out);
void	dsn_ses_fini(struct dsn_ses *);

#endif
