/*
 * mime_int.h - internals shared by mime.c and mime_decode.c (not public).
 *
 * Streaming transfer decoders with a fixed-size state, and the header-field
 * helpers (Content-Type, parameters with RFC 2231 and RFC 2047). Nothing here
 * allocates except through the caller's struct buf.
 */
#ifndef EGRESS_MIME_INT_H
#define EGRESS_MIME_INT_H

#include <stddef.h>

#include "egress/buf.h"

/* Longest run of white space held after "=" while waiting for a line end. */
#define MIME_QP_HOLD_MAX	64

struct mime_b64 {
	unsigned	acc;		/* bits of the quad being read */
	int		n;		/* base64 characters in acc (0..3) */
	int		done;		/* padding seen: the rest is ignored */
	int		bad;		/* garbage seen since the last take */
};

struct mime_qp {
	int		state;		/* QP_* in mime_decode.c */
	size_t		hlen;		/* bytes held in hold */
	char		hold[MIME_QP_HOLD_MAX + 4];
};

void	mime_b64_init(struct mime_b64 *);
/* Decodes n bytes; out must have room for n bytes. Returns bytes written. */
size_t	mime_b64_step(struct mime_b64 *, const char *in, size_t n, char *out);
/* End of data; out must have room for 2 bytes. Returns bytes written. */
size_t	mime_b64_finish(struct mime_b64 *, char *out);

void	mime_qp_init(struct mime_qp *);
/* out must have room for n + MIME_QP_HOLD_MAX + 4 bytes. */
size_t	mime_qp_step(struct mime_qp *, const char *in, size_t n, char *out);
/* End of data; out must have room for MIME_QP_HOLD_MAX + 4 bytes. */
size_t	mime_qp_finish(struct mime_qp *, char *out);

/*
 * Content-Type "type/subtype" (lowercased) into out, or nothing when the
 * value has no valid type. *rest is set to the parameter list.
 */
EGRESS_WUR int	mime_ct_parse(const char *value, struct buf *out,
		    const char **rest);
/* A single token (CTE, disposition), comments skipped, lowercased. */
EGRESS_WUR int	mime_token_parse(const char *value, struct buf *out,
		    const char **rest);

#define MIME_PARAM_WORDS	0x01	/* decode RFC 2047 words in plain values */
#define MIME_PARAM_LOWER	0x02	/* lowercase the result */

/*
 * Parameter `name` (lowercase) from a parameter list: RFC 2231 extended and
 * continued values win over a plain one. The value is appended to out;
 * *found is set to 1 when the parameter is present (possibly empty).
 */
EGRESS_WUR int	mime_param_get(const char *params, const char *name,
		    unsigned flags, struct buf *out, int *found);

/*
 * Tests only: on != 0 turns off the runs of body lines, so every line takes
 * the line-at-a-time path (what the runs must be identical to).
 */
struct mime_parser;
void	mime_parser_line_mode(struct mime_parser *, int on);

#endif
