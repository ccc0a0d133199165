/*
 * maillog - one line of an MTA's log, as the delivery-log follower and
 * `egressctl classify-log` read it.
 *
 * Recognised, after an optional syslog prefix (RFC 3164 "Mmm dd hh:mm:ss
 * host", RFC 3339 "2026-11-22T06:00:01.123456+00:00 host" as Debian 12's
 * rsyslog writes, RFC 5424 "<PRI>1 TIMESTAMP host app procid msgid SD"):
 *
 *   Postfix   "postfix/smtp[pid]: QID: to=<r>, relay=..., dsn=4.7.0,
 *             status=deferred (text)" from smtp, lmtp, local, virtual,
 *             error, retry, discard (any program with a status= field);
 *             "postfix/qmgr[pid]: QID: from=<s>, size=..." (the sender);
 *             "postfix/cleanup[pid]: QID: message-id=<m>";
 *   Sendmail  "sm-mta[pid]: QID: to=<r>, ..., dsn=4.0.0, stat=Deferred:
 *             421 ..." and "QID: from=<s>, ..., msgid=<m>, ...";
 *   Exim      "DATE TIME [TZ] [[pid]] ID == r R=... T=... defer (-44) ...:
 *             421 ...", "ID ** r ...: 550 ..." and "ID <= s ... id=m".
 *
 * A Sendmail line listing several recipients ("to=<a@x>,<b@y>") yields its
 * first recipient only (XXX: one event per line; Sendmail writes one line
 * per delivery attempt and mailer, so the others share its reply).
 *
 * Everything in the line is untrusted: fields are spans into the caller's
 * line (never copies), each cut at the MAILLOG_*_MAX bound of its kind, and
 * a field that would break the syntax (an address with a space, a queue id
 * with punctuation) makes the line "not an event", never an error. The
 * parser is pure, allocation-free and linear in the line length.
 *
 * The queue-id map (maillog_qmap) remembers what the log itself says about
 * a queue id (sender, Message-ID) for a bounded number of recent queue ids;
 * it is a fallback and a display aid, the outbound ledger is the authority
 * on who sent what.
 */
#ifndef EGRESS_MAILLOG_H
#define EGRESS_MAILLOG_H

#include <stddef.h>
#include <stdint.h>

#include "egress/buf.h"
#include "egress/dsn.h"

struct classifier;

#define MAILLOG_LINE_MAX	(64 * 1024)	/* bytes of a line looked at */
#define MAILLOG_QID_MAX		63	/* queue id bytes */
#define MAILLOG_ADDR_MAX	320	/* address bytes (RFC 5321 path) */
#define MAILLOG_MSGID_MAX	998	/* Message-ID bytes */
#define MAILLOG_HOST_MAX	255	/* relay host name bytes */
#define MAILLOG_DIAG_MAX	4096	/* diagnostic text bytes */
#define MAILLOG_PROG_MAX	64	/* program name bytes */

enum maillog_kind {
	MAILLOG_NONE = 0,	/* not a line the follower uses */
	MAILLOG_DELIVERY,	/* a delivery attempt for one recipient */
	MAILLOG_SENDER,		/* queue id -> envelope sender */
	MAILLOG_MSGID,		/* queue id -> Message-ID */
};

enum maillog_mta { MAILLOG_POSTFIX = 0, MAILLOG_SENDMAIL, MAILLOG_EXIM };

enum maillog_status {
	MAILLOG_SENT = 0,	/* delivered (also "deliverable") */
	MAILLOG_DEFERRED,	/* temporary failure, the MTA retries */
	MAILLOG_BOUNCED,	/* permanent failure at delivery time */
	MAILLOG_EXPIRED,	/* gave up at the end of the queue lifetime */
};

/* A span of the caller's line; n 0 means absent. Not NUL-terminated. */
struct maillog_span {
	const char	*p;
	size_t		 n;
};

struct maillog_event {
	enum maillog_kind	 kind;
	enum maillog_mta	 mta;
	enum maillog_status	 status;	/* MAILLOG_DELIVERY only */
	/* Time from the prefix. time_kind 0: none; 1: time is seconds since
	 * the epoch (the prefix had a year and zone); 2: no year (RFC 3164,
	 * Exim without a zone): mon (1..12), mday, sec_of_day are set, time
	 * is the year when the prefix had one (Exim) or 0, and
	 * maillog_event_time() completes it. */
	int			 time_kind;
	int64_t			 time;
	int			 mon, mday;
	int			 sec_of_day;
	struct maillog_span	 host;		/* syslog host, if any */
	struct maillog_span	 prog;		/* "postfix/smtp", "sm-mta", "exim" */
	struct maillog_span	 qid;
	struct maillog_span	 rcpt;		/* to=, without <> */
	struct maillog_span	 orig_rcpt;	/* Postfix orig_to=, without <> */
	struct maillog_span	 sender;	/* from=, without <> ("" for <>) */
	int			 null_sender;	/* from=<> */
	struct maillog_span	 msgid;		/* with its <> */
	struct maillog_span	 dsn;		/* "4.7.0" */
	struct maillog_span	 relay;		/* host name, no [ip], no final dot */
	struct maillog_span	 diag;		/* the reply or reason text */
	/* Postfix "deferred (delivery temporarily suspended: ...)": the MTA
	 * repeats an earlier reply for the rest of its queue; nothing new was
	 * said by the remote side. */
	int			 cached;
};

/*
 * Parse one line (n bytes, a final LF/CRLF allowed; NULs end nothing but
 * make the line not an event). Returns ev->kind. ev's spans point into
 * line: the caller keeps line alive while it uses them.
 */
enum maillog_kind maillog_parse(const char *line, size_t n,
	    struct maillog_event *ev);

/*
 * The event's time in seconds since the epoch, given the current time and
 * the offset (seconds east of UTC) of the zone year-less local times are
 * written in: a year-less time gets the year that puts it before now (a
 * line at most a day "in the future" stays in this year: clocks differ).
 * Returns now when the line had no time.
 */
int64_t	maillog_event_time(const struct maillog_event *ev, int64_t now,
	    int utcoff);

const char *maillog_status_name(enum maillog_status);	/* "deferred", ... */
const char *maillog_mta_name(enum maillog_mta);		/* "postfix", ... */

/* Copy a span into out (outlen > 0), NUL-terminated, cut to fit. */
void	maillog_span_copy(const struct maillog_span *s, char *out, size_t outlen);

/*
 * A delivery event classified with the bounce classifier, exactly as a DSN
 * recipient would be: the diagnostic is cleaned (dsn_diag_clean), the
 * status and reply code come from dsn= or the text, an expiry without a
 * specific text reason is "expired". The recipient's strings are owned by
 * the result (maillog_rcpt_fini); cl may be NULL (codes only).
 */
struct maillog_rcpt {
	struct dsn_recipient	 r;	/* r.final_rcpt, r.diag ... owned here */
	char			 status[16];
};

EGRESS_WUR int	maillog_classify(const struct classifier *cl,
		    const struct maillog_event *ev, struct maillog_rcpt *out);
void		maillog_rcpt_fini(struct maillog_rcpt *);

/* ---- queue id -> what the log said about it ---- */

struct maillog_qmap;

/* A map of at most cap queue ids (the oldest is forgotten); NULL on ENOMEM. */
struct maillog_qmap *maillog_qmap_new(size_t cap);
void	maillog_qmap_free(struct maillog_qmap *);
/*
 * Learn from a MAILLOG_SENDER or MAILLOG_MSGID event (others are ignored).
 * Returns 0, or -1 when out of memory (the map is unchanged).
 */
EGRESS_WUR int	maillog_qmap_learn(struct maillog_qmap *,
		    const struct maillog_event *ev);
/*
 * What is known about qid: pointers to, not copies of, the stored sender
 * ("" for the null sender) and Message-ID, valid until the next learn;
 * NULL when not known. Returns 1 when qid is in the map, else 0.
 */
int	maillog_qmap_get(const struct maillog_qmap *, const char *qid, size_t qn,
	    const char **sender, const char **msgid);

#endif
