/*
 * scan - one message through every outbound check.
 *
 * The scan is the single entry point the daemon, egressctl, the tests, the
 * benchmarks and the fuzzers share. It takes the envelope, then the header
 * fields (either pre-split as the MTA delivers them, or as raw bytes that the
 * scan splits itself), then body bytes in chunks of any size, and collects
 * findings. It never holds the whole message; memory is bounded by the
 * configured limits. Malformed input only produces findings.
 *
 * The header and body checks live here (RFC 5322 fields, header syntax and
 * size, body line length and line endings, message size). The scan also
 * drives the streaming MIME parser and the consumers attached to it.
 *
 * Every function that can fail returns 0 or -1; -1 means a resource failure
 * (out of memory), which the caller maps to the configured fail mode.
 */
#ifndef EGRESS_SCAN_H
#define EGRESS_SCAN_H

#include <stddef.h>

#include "egress/buf.h"
#include "egress/config.h"
#include "egress/findings.h"

/* What is known about the transaction. All strings are borrowed. */
struct envelope {
	const char		*queue_id;	/* or NULL */
	const char		*mail_from;	/* envelope sender without <>, "" = null sender */
	const char		*auth_user;	/* {auth_authen} or NULL */
	const char		*client_addr;	/* textual address or NULL */
	const char *const	*rcpts;		/* recipients without <> */
	size_t			 nrcpt;
	long long		 esmtp_size;	/* SIZE= at MAIL FROM, -1 unknown */
	int			 smtputf8;	/* SMTPUTF8 given at MAIL FROM */
	long long		 now;		/* UTC seconds, injected */
};

struct scan;

/* The config and the envelope are borrowed and must outlive the scan. */
struct scan	*scan_new(const struct config *, const struct envelope *);
void		 scan_free(struct scan *);

/* One header field as the MTA delivers it: value folded with "\n". */
EGRESS_WUR int	scan_header(struct scan *, const char *name, const char *value);
EGRESS_WUR int	scan_eoh(struct scan *);
EGRESS_WUR int	scan_body(struct scan *, const char *, size_t);

/*
 * Raw message bytes (header section and body, as in a .eml file), in chunks.
 * The scan splits the header section itself and checks it exactly (raw line
 * lengths, bare LF/CR, NUL), then feeds the body. Do not mix with
 * scan_header/scan_eoh/scan_body on one scan.
 */
EGRESS_WUR int	scan_raw(struct scan *, const char *, size_t);

/* End of message: whole-message checks. Call once, after the last byte. */
EGRESS_WUR int	scan_finish(struct scan *);

/* The findings so far; a pointer to, not a copy of, the scan's list. */
struct findings	*scan_findings(struct scan *);

/* Facts the shell needs for repairs and logging. */
int		 scan_has_date(const struct scan *);
int		 scan_has_message_id(const struct scan *);
/* The From domain seen in the header, or NULL. Pointer into the scan. */
const char	*scan_from_domain(const struct scan *);
/* Total message bytes seen (headers as delivered + body). */
unsigned long long scan_size(const struct scan *);
/* Null envelope sender, or a recognised DSN, report or auto-reply. */
int		 scan_is_bounce(const struct scan *);
/*
 * The bounce report after scan_finish(), or NULL when the message was not
 * a bounce candidate. A pointer to, not a copy of, the scan's result.
 */
struct dsn_report;
const struct dsn_report *scan_dsn(const struct scan *);

#endif
