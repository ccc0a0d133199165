/*
 * reencode - make a body with over-long lines legal for SMTP again.
 *
 * RFC 5322 2.1.1 allows 998 octets a line. Left alone, Postfix's SMTP client
 * folds a longer line by inserting CRLF SPACE, which changes the text and
 * breaks any signature. Instead, the leaf parts that hold such lines are
 * re-encoded: quoted-printable for text/ parts, base64 for anything else;
 * every other byte of the body is kept as it came.
 *
 * Two passes over the same body bytes, both streaming (push, any chunking,
 * identical results): the plan finds the parts to re-encode and whether the
 * body can be repaired at all; the rewrite produces the new body through a
 * sink. What cannot be repaired, with the reason:
 *   REENCODE_DKIM        the message carries a DKIM-Signature: re-encoding
 *                        would break it;
 *   REENCODE_SIGNED      a multipart/signed or an encrypted part
 *                        (multipart/encrypted, application/pkcs7-mime ...):
 *                        its bytes are signed or opaque;
 *   REENCODE_HEADER      an over-long line in a part's header section
 *                        (header lines are not repaired);
 *   REENCODE_ENCODED     an over-long line inside base64 or quoted-printable
 *                        content (already encoded, wrongly);
 *   REENCODE_STRUCTURE   an over-long line outside any part (preamble,
 *                        epilogue), or one longer than REENCODE_LINE_MAX;
 *   REENCODE_LIMIT       more parts, deeper nesting or a larger part header
 *                        than the bounds below.
 * The structure is read as the MIME reader (mime.h) reads it: delimiters of
 * every open multipart, the innermost first; a header section ends at an
 * empty line or at the first line that is neither a field nor a
 * continuation; message/rfc822|global parts nest.
 *
 * Memory: one line (at most REENCODE_LINE_MAX), one part header section (at
 * most REENCODE_HEADER_MAX), the open boundaries and one byte per part.
 * Threading: one object per message, one thread at a time.
 */
#ifndef EGRESS_REENCODE_H
#define EGRESS_REENCODE_H

#include <stddef.h>

#include "egress/buf.h"

#define REENCODE_LINE_MAX	(1024 * 1024)	/* longest line handled */
#define REENCODE_HEADER_MAX	(64 * 1024)	/* one part header section */
#define REENCODE_DEPTH_MAX	64		/* open multiparts */

enum reencode_result {
	REENCODE_NONE = 0,	/* no over-long line: nothing to do */
	REENCODE_OK,		/* repairable */
	REENCODE_DKIM,
	REENCODE_SIGNED,
	REENCODE_HEADER,
	REENCODE_ENCODED,
	REENCODE_STRUCTURE,
	REENCODE_LIMIT,
};

/* What the top-level header says; strings are copied. */
struct reencode_top {
	const char	*content_type;	/* field value, or NULL */
	const char	*cte;		/* Content-Transfer-Encoding value, or NULL */
	int		 dkim_signed;	/* a DKIM-Signature field is present */
};

/* Receives the new body in order; returns 0, or -1 to stop (resource). */
typedef int reencode_sink(void *arg, const char *p, size_t n);

struct reencode;

/*
 * line_max: longest line allowed, octets without CRLF (limits.line_length);
 * parts_max: parts counted, the message included (limits.mime_parts).
 * Returns NULL when out of memory.
 */
struct reencode	*reencode_new(const struct reencode_top *, size_t line_max,
		    size_t parts_max);
void		 reencode_free(struct reencode *);

/* Pass 1: the body in chunks, then the verdict. 0 or -1 (out of memory). */
EGRESS_WUR int	reencode_plan_feed(struct reencode *, const char *p, size_t n);
enum reencode_result reencode_plan_finish(struct reencode *);

/*
 * Pass 2, only after a plan that returned REENCODE_OK: feed the same body
 * bytes again; the new body goes to sink. Returns 0, or -1 when the sink
 * failed or memory ran out.
 */
EGRESS_WUR int	reencode_rewrite_start(struct reencode *, reencode_sink *, void *arg);
EGRESS_WUR int	reencode_rewrite_feed(struct reencode *, const char *p, size_t n);
EGRESS_WUR int	reencode_rewrite_finish(struct reencode *);

/*
 * After the plan: the new Content-Transfer-Encoding of the message itself
 * ("quoted-printable" or "base64") when the top-level entity is the part
 * re-encoded (the shell changes that header field), else NULL. Static.
 */
const char	*reencode_top_cte(const struct reencode *);
/* Parts the plan marked for re-encoding. */
size_t		 reencode_parts(const struct reencode *);

/* Why a body cannot be repaired, for replies and logs (static text). */
const char	*reencode_result_text(enum reencode_result);

#endif
