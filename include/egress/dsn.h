/*
 * dsn - recognise bounces and reports, extract every failed recipient.
 *
 * The DSN parser is a consumer of the streaming MIME parser (mime.h): it
 * fills a mime_handler, collects the top-level header fields, the fields of
 * message/delivery-status and message/feedback-report parts, the headers of
 * the returned message, and a bounded copy of the text parts. After
 * mime_parser_finish() the result is built in one go:
 *
 *   RFC 3464 multipart/report (delivery-status, global-delivery-status)
 *   ARF feedback reports (RFC 5965)                    -> kind FEEDBACK
 *   non-standard plain-text bounces (Exim, qmail, Sendmail, Postfix,
 *   Exchange/Office 365, Gmail, Yahoo, Amazon SES ...) -> kind DSN
 *   auto-replies (RFC 3834, vacation subjects)         -> kind AUTOREPLY
 *   anything else                                      -> kind NONE
 *
 * Every failed recipient is classified with the classifier it was given.
 * Memory is bounded: DSN_TEXT_LIMIT (or the size given) per text part, four
 * times that for all parts together, DSN_MAX_PARTS kept parts,
 * DSN_MAX_RECIPIENTS recipients, DSN_FIELD_MAX bytes per field.
 * LF, CRLF and CR line endings give the same result.
 */
#ifndef EGRESS_DSN_H
#define EGRESS_DSN_H

#include <stddef.h>

#include "egress/buf.h"
#include "egress/classify.h"
#include "egress/json.h"
#include "egress/mime.h"

#define DSN_TEXT_LIMIT		(256 * 1024)	/* bytes buffered per text part */
#define DSN_MAX_RECIPIENTS	1000
#define DSN_MAX_PARTS		256		/* parts whose text is kept */
#define DSN_FIELD_MAX		4096		/* bytes kept per field value */
#define DSN_HEADERS_MAX		256		/* top-level fields kept */

enum dsn_kind {
	DSN_KIND_NONE = 0,	/* ordinary mail */
	DSN_KIND_DSN,		/* a failure (or delay) report */
	DSN_KIND_FEEDBACK,	/* ARF complaint */
	DSN_KIND_AUTOREPLY,	/* vacation / out of office */
	DSN_KIND_DELIVERED,	/* a success DSN: every recipient delivered */
};

/*
 * Where a recipient's address was read. Only the notice itself names
 * failed recipients: an address known only from the returned message's
 * own header fields (its To, Cc, From, List-* fields) or only as the
 * bounce's own sender is never a failed recipient. Such a recipient gets
 * action "unknown" (the sender record counts only "failed") and is never
 * hard.
 */
enum dsn_provenance {
	DSN_PROV_NONE = 0,	/* no address at all */
	DSN_PROV_REPORT,	/* a delivery-status or feedback-report field */
	DSN_PROV_HEADER,	/* X-Failed-Recipients of the bounce itself */
	DSN_PROV_REASON,	/* the line or sentence that gives the reason */
	DSN_PROV_LABELLED,	/* a labelled field or list of the notice */
	DSN_PROV_TRANSCRIPT,	/* "RCPT TO:<a>" of an SMTP transcript */
	DSN_PROV_RETURNED,	/* only the returned message or the bounce's
				   own addresses name it: not a failure */
};

struct dsn_recipient {
	char	*final_rcpt;	/* address, no "rfc822;" */
	char	*orig_rcpt;	/* or NULL */
	char	*action;	/* "failed", "delayed", ... or NULL */
	char	*status;	/* "5.1.1" or NULL */
	int	 reply_code;	/* 550, or 0 */
	char	*remote_mta;	/* or NULL */
	char	*diag;		/* unfolded diagnostic text, or NULL */
	struct classification cls;
	/*
	 * Set for every recipient of a DSN: action is then "failed",
	 * "delayed" (a delay warning: retries go on), "delivered",
	 * "relayed", "expanded", or "unknown" (provenance
	 * DSN_PROV_RETURNED). From the Action field, else from the words of
	 * the notice. permanent: the MTA gave up (action "failed"; for
	 * "unknown", the notice is no delay warning).
	 */
	enum dsn_provenance provenance;
	int	 permanent;
};

struct dsn_report {
	enum dsn_kind	 kind;
	const char	*format;	/* "rfc3464", "exim", "qmail", ... static */
	char		*reporting_mta;	/* or NULL */
	char		*date;		/* Arrival-Date or Date, or NULL */
	char		*sender;	/* original envelope sender, or NULL */
	char		*message_id;	/* of the returned message, or NULL */
	/*
	 * The Message-ID field of the returned message's own header (the
	 * headers a report returns), where message_id may come from a report
	 * field (X-Original-Message-ID) instead; and the MTA's queue id of the
	 * original message (Postfix: X-Postfix-Queue-ID). NULL when absent.
	 */
	char		*returned_message_id;
	char		*queue_id;
	char		*subject;	/* of the report itself, or NULL */
	char		*feedback_type;	/* ARF Feedback-Type, or NULL */
	struct dsn_recipient *rcpts;
	size_t		 nrcpts;
};

struct dsn_parser;

/*
 * cl is borrowed (may be NULL: codes only) and must outlive the parser.
 * text_limit 0 means DSN_TEXT_LIMIT. Returns NULL when out of memory.
 */
struct dsn_parser	*dsn_parser_new(const struct classifier *cl,
			    size_t text_limit);
void			 dsn_parser_free(struct dsn_parser *);
/* Forget everything about the previous message; keep the classifier. */
void			 dsn_parser_reset(struct dsn_parser *);
/* The envelope sender (MAIL FROM, without <>); "" for the null sender. */
EGRESS_WUR int		 dsn_parser_set_envelope(struct dsn_parser *,
			    const char *mail_from, const char *rcpt_to);
/* A handler to give mime_parser_new(); points into the parser. */
const struct mime_handler *dsn_parser_handler(struct dsn_parser *);
/*
 * Build the report; call after mime_parser_finish(). Returns a pointer to,
 * not a copy of, the parser's result (valid until reset or free), or NULL
 * when out of memory.
 */
const struct dsn_report	*dsn_parser_result(struct dsn_parser *);

/*
 * Whole-message convenience for files, egressctl and fuzzers: splits the
 * raw header section itself, runs the MIME parser with default limits and
 * feeds the body in chunks of `chunk` bytes (0 = all at once). envelope_from
 * may be NULL (unknown). On success *out is a report the caller frees with
 * dsn_report_free(). Returns 0, or -1 when out of memory.
 */
EGRESS_WUR int	dsn_parse_bytes(const struct classifier *cl, const char *data,
		    size_t len, const char *envelope_from, size_t chunk,
		    struct dsn_report **out);
void		dsn_report_free(struct dsn_report *);

const char	*dsn_kind_name(enum dsn_kind);
/* "report", "header", "reason", "labelled", "transcript", "returned", "none". */
const char	*dsn_provenance_name(enum dsn_provenance);

/*
 * Unfold a diagnostic: line breaks and whitespace runs become one space,
 * SMTP continuation prefixes ("550-5.7.1 ") after the first are removed,
 * and the first prefix's hyphen becomes a space. Returns a malloc'd string
 * (at most max bytes), or NULL when out of memory.
 */
char	*dsn_diag_clean(const char *s, size_t n, size_t max);

/*
 * Find the SMTP reply code and enhanced status in a diagnostic. status gets
 * "" when none; *reply 0 when none.
 */
void	dsn_diag_codes(const char *diag, char status[16], int *reply);


/*
 * Output shared by the daemon and egressctl. Each appends to out and
 * returns a buf status. Untrusted bytes are escaped.
 *
 * dsn_format_log: one line per recipient
 *   bounce sender=<a> rcpt=<b> status=5.7.1 reply=554 reason=blocked
 *   category=reputation remote=mx.example diag="..."
 * (no queue id and no newline; the caller prefixes and terminates it).
 * An unknown sender prints as "<?>" (never "<>", the null sender).
 * The first word is "defer" for a delay notice, "feedback", "autoreply",
 * "delivered" or "notbounce" for the other kinds.
 */
EGRESS_WUR int	dsn_format_log(struct buf *out, const struct dsn_report *,
		    size_t rcpt_index);
/*
 * The members of the JSON object for recipient rcpt_index, written into the
 * object open in w: the caller begins and ends the object and may add
 * members of its own before or after (a queue id, a line number). file may
 * be NULL (then omitted). For a report without recipients pass rcpt_index
 * 0: the object says reason "none" (or the report kind's reason). Errors
 * stay in w (json_status()).
 */
void		dsn_format_json_members(struct json *w, const struct dsn_report *,
		    size_t rcpt_index, const char *file);
/* The same members as one whole JSON object (no newline) appended to out. */
EGRESS_WUR int	dsn_format_json(struct buf *out, const struct dsn_report *,
		    size_t rcpt_index, const char *file);
/*
 * The value of the optional bounce header, for the first recipient:
 * "kind=dsn; reason=blocked; category=reputation; status=5.7.1; reply=554;
 * recipients=2" (status "-" and reply 0 when unknown; recipients counts
 * them all). Printable ASCII only.
 */
EGRESS_WUR int	dsn_format_header(struct buf *out, const struct dsn_report *);

#endif
