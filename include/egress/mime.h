/*
 * mime - the one streaming MIME reader of the project.
 *
 * Push API. The top-level header fields are handed over one at a time
 * (already split and unfolded by the caller, as the MTA delivers them), then
 * the body is pushed in chunks of any size. The parser never holds the whole
 * message: memory is bounded by the limits it is given.
 *
 * What it emits, through a mime_handler:
 *   header      every header field of every part, including the top-level
 *               message (part id 0) and the headers of message/rfc822 parts;
 *   part_begin  after a part's header section, with its parsed info;
 *   part_data   decoded content of leaf parts (base64 and quoted-printable
 *               undone), in chunks; a leaf is anything that is neither
 *               multipart/ nor message/rfc822|global. message/delivery-status
 *               and text/rfc822-headers are leaves;
 *   part_tail   (optional) the decoded content of a leaf past
 *               limits.decoded_bytes, streamed in chunks as it is decoded
 *               and never held; it follows that part's part_data bytes;
 *   part_end    when the part is over (also for containers).
 * Results are identical whatever the chunking of the body.
 *
 * Structure rules, for consumers walking the tree:
 *   - parts nest by parent id; a message/rfc822|global part has one child,
 *     its inner entity, one level deeper (none when the part is empty;
 *     empty lines before the inner header section are skipped);
 *   - a line is a boundary delimiter when it is "--" boundary, optionally
 *     "--", then only white space; the innermost open multipart wins when
 *     boundaries repeat (mime.boundary_duplicate), and an outer delimiter
 *     also ends every part inside it;
 *   - a part header section ends at an empty line, or at the first line
 *     that is neither a header field nor a continuation (that line is then
 *     content, as in Postfix); children of multipart/digest default to
 *     message/rfc822, other parts to text/plain (also for an invalid
 *     Content-Type); the first Content-Type, -Transfer-Encoding and
 *     -Disposition field of a section counts;
 *   - the line end before a delimiter belongs to the delimiter; content
 *     bytes are otherwise passed as they came (CRLF or LF).
 *
 * Malformed structure is not an error: it becomes findings (mime.*) added to
 * the findings list given at creation, and parsing goes on. Handler callbacks
 * and feed functions return 0, or -1 for a resource failure only (part_tail
 * may also return 1, see struct mime_handler).
 */
#ifndef EGRESS_MIME_H
#define EGRESS_MIME_H

#include <stddef.h>

#include "egress/buf.h"
#include "egress/findings.h"

/*
 * Defaults used for a limit given as 0. The config's limits block documents
 * the same values.
 */
#define MIME_DEFAULT_DEPTH		20
#define MIME_DEFAULT_PARTS		500
#define MIME_DEFAULT_BOUNDARY_LENGTH	70	/* RFC 2046 5.1.1 maximum */
#define MIME_DEFAULT_PART_HEADER_BYTES	65536
#define MIME_DEFAULT_DECODED_BYTES	(1024 * 1024)
/* Longest boundary honoured whatever the limit (RFC 5322 line length). */
#define MIME_BOUNDARY_MAX		998

/*
 * What reaching each limit does (all are findings, never errors):
 *   depth       a container (multipart, message/rfc822|global) whose
 *               children would be deeper than depth is delivered as an
 *               opaque leaf (is_opaque set): mime.depth_exceeded;
 *   parts       no part is created past the count (the message counts as
 *               one); the content where it would have been is skipped:
 *               mime.parts_exceeded;
 *   boundary_length  a longer boundary is reported (mime.limit) but still
 *               honoured up to MIME_BOUNDARY_MAX, so content cannot hide
 *               behind a long boundary; past that the multipart is an
 *               opaque leaf;
 *   part_header_bytes  the rest of that header section is skipped (the field
 *               being read is cut there): mime.limit;
 *   decoded_bytes  part_data stops there; the rest of the part goes to
 *               part_tail when a handler has one, else it is skipped;
 *               decoded_size keeps counting either way.
 */
struct mime_limits {
	size_t	depth;			/* nesting, multipart and message/rfc822 alike */
	size_t	parts;			/* total parts */
	size_t	boundary_length;
	size_t	part_header_bytes;	/* per part header section */
	size_t	decoded_bytes;		/* part_data delivered per part; rest to part_tail */
};

/*
 * Everything here points into parser memory valid until part_end.
 * During header callbacks only id, parent and depth are final (the header
 * section is still being read); the other fields hold their defaults.
 */
struct mime_part_info {
	unsigned	 id;		/* 0 = the message itself, then document order */
	unsigned	 parent;	/* id of the enclosing part (0 for top) */
	unsigned	 depth;		/* 0 for the message */
	const char	*type;		/* lowercased "type/subtype"; default text/plain */
	const char	*charset;	/* or NULL */
	const char	*boundary;	/* multipart only, or NULL */
	const char	*cte;		/* lowercased, default "7bit" */
	const char	*disposition;	/* lowercased "attachment"/"inline" or NULL */
	const char	*filename;	/* decoded filename (2231/2047) or name=, or NULL */
	const char	*report_type;	/* multipart/report report-type, or NULL */
	int		 is_multipart;
	int		 is_message;	/* message/rfc822 or message/global */
	size_t		 decoded_size;	/* valid at part_end: decoded bytes seen */
	/* Extension: a container delivered as a leaf (depth or part limit,
	 * missing or over-long boundary, encoded message/rfc822): is_multipart and
	 * is_message are 0 although type says multipart/ or message/. */
	int		 is_opaque;
};

struct mime_handler {
	void	*ctx;
	int	(*header)(void *ctx, const struct mime_part_info *,
		    const char *name, const char *value);
	int	(*part_begin)(void *ctx, const struct mime_part_info *);
	int	(*part_data)(void *ctx, const struct mime_part_info *,
		    const char *p, size_t n);
	int	(*part_end)(void *ctx, const struct mime_part_info *);
	/*
	 * Extension, compatible: NULL keeps the behaviour without it, so a
	 * handler that is zeroed (memset, calloc, = { 0 } or designated
	 * initialisers) before its callbacks are set needs no change.
	 * Receives the decoded bytes of a leaf past limits.decoded_bytes, in
	 * order, after every part_data byte of that part and before its
	 * part_end; for each part the bytes of part_data then part_tail are the
	 * whole decoded content, whatever the chunking of the body. Nothing is
	 * buffered for it and the amount is not bounded by the parser: the
	 * consumer keeps its own work bounded (e.g. a fixed window). It may
	 * return 1 (only this callback) when it wants no more of that part:
	 * it is then not called again for it, and once no handler wants the
	 * rest the parser only counts it.
	 */
	int	(*part_tail)(void *ctx, const struct mime_part_info *,
		    const char *p, size_t n);
};

struct mime_parser;

/*
 * handlers: array of nhandlers; each callback may be NULL. Borrowed, as are
 * the findings list (must outlive the parser). Limits are copied; a zero
 * limit means its MIME_DEFAULT_*. Returns NULL on allocation failure.
 * Every handler sees every event, in array order; a callback returning
 * non-zero makes the feed function return -1 and the parser unusable.
 */
struct mime_parser *mime_parser_new(const struct mime_limits *,
		    const struct mime_handler *handlers, size_t nhandlers,
		    struct findings *);
void	mime_parser_free(struct mime_parser *);

/*
 * One top-level header field. value may be folded with "\n" or "\r\n"
 * followed by white space (as the MTA delivers it); it is unfolded and its
 * leading and trailing white space dropped before the header handlers see it.
 */
EGRESS_WUR int	mime_parser_header(struct mime_parser *, const char *name,
		    const char *value);
/* End of the top-level header section (implied by _body and _finish). */
EGRESS_WUR int	mime_parser_eoh(struct mime_parser *);
/* Body bytes, any chunking; CRLF or bare LF line ends. */
EGRESS_WUR int	mime_parser_body(struct mime_parser *, const char *, size_t);
/* End of the message: closes every open part (part_end of part 0 last). */
EGRESS_WUR int	mime_parser_finish(struct mime_parser *);

/* Decoders, usable on their own. Each appends to out; returns buf status. */
/* RFC 2047 encoded words in a header value; charset is not converted. */
EGRESS_WUR int	mime_decode_words(struct buf *out, const char *value);

#endif
