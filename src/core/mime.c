/*
 * mime.c - the streaming MIME parser (push API, see egress/mime.h).
 *
 * One pass over the body, line by line, without ever buffering a whole line.
 * When a line may be a delimiter (it starts with "-" while a multipart is
 * open) or belongs to a header section, its first bytes are held, at most
 * `lookmax` (the longest boundary honoured, MIME_BOUNDARY_MAX, plus "--",
 * "--" and transport padding; also the longest header field name
 * recognised), until it is known whether the line is a delimiter, a header
 * field, a continuation, the end of a header section or content. The rest
 * of a long line then streams through without copying.
 *
 * Nesting is an explicit stack of open parts (no recursion in C), at most
 * limits.depth + 1 entries: a container whose children would be deeper is
 * delivered as an opaque leaf. Every recursive path (multipart, message/rfc822
 * and message/global) charges the same depth.
 *
 * Boundaries (RFC 2046 5.1.1): a line is a delimiter when it starts with
 * "--" and the boundary of an open multipart, optionally "--" (close), then
 * only white space. The innermost open multipart wins when boundaries repeat;
 * an outer boundary also closes every part inside it (inner multiparts not
 * closed become mime.boundary_unterminated). The line end before a delimiter
 * belongs to the delimiter, so each data line's end is held back until the
 * next line is known not to be a delimiter.
 *
 * Memory per parser: one look-ahead buffer (about 1 KiB), one output batch
 * (shared by part_data and, past decoded_bytes, part_tail: the batch is
 * handed on whenever it changes owner or kind) and one decoder slice
 * (12 KiB), one byte per handler (part_tail declined), the header field being read and the raw
 * Content-* fields of the part being read (each within part_header_bytes),
 * and per open part (at most depth + 1) its parsed strings: tokens cut at
 * TOKEN_SHOWN_MAX, the filename within part_header_bytes. Nothing grows
 * with the size of the message or the length of a line.
 *
 * Not thread-safe: one parser per message. Hostile input only ever makes
 * findings; the feed functions fail only on allocation failure or when a
 * handler fails, after which the parser refuses further input.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "egress/assert.h"
#include "egress/buf.h"
#include "egress/findings.h"
#include "egress/mime.h"
#include "egress/rfc5322.h"
#include "mime_int.h"
#include "bytescan.h"

#define OBUF_SIZE	8192	/* part_data batch */
#define DBUF_SIZE	4096	/* decoder output slice */
#define LOOK_PAD	64	/* transport padding looked at after a boundary */
#define CTE_SHOWN_MAX	64	/* bytes of an unknown CTE kept in info.cte */
#define TOKEN_SHOWN_MAX	255	/* bytes kept of type, charset, disposition */
#define RAW_KEEP_MAX	4096	/* raw field storage kept for reuse */

#define ID_DUPLICATE	"mime.boundary_duplicate"

enum emode {
	EM_HEADERS,	/* reading the part's header section */
	EM_BODY,	/* leaf content */
	EM_SKIP,	/* container between children: preamble, gap, epilogue */
	EM_MSGWAIT,	/* message/rfc822 whose inner entity has not begun */
};

enum ekind { EK_LEAF, EK_MULTIPART, EK_MESSAGE };
enum edec { DEC_IDENT, DEC_B64, DEC_QP };

struct mime_entry {
	struct mime_part_info info;
	enum emode	 mode;
	enum ekind	 kind;
	int		 open;		/* multipart whose boundary is live */
	int		 digest;	/* children default to message/rfc822 */
	int		 default_msg;	/* own default type is message/rfc822 */
	/* header section */
	struct buf	 ct_raw, cte_raw, cd_raw;
	int		 have_ct, have_cte, have_cd, have_version;
	int		 hdr_started;	/* a field was seen: continuations valid */
	int		 hdr_over;	/* part_header_bytes reached */
	size_t		 hdr_bytes;
	/* storage behind info's strings */
	struct buf	 s_type, s_charset, s_boundary, s_cte, s_disp,
			 s_filename, s_report;
	/* leaf content */
	enum edec	 dec;
	int		 check8;	/* declared (or default) 7bit */
	int		 b64_reported;
	struct mime_b64	 b64;
	struct mime_qp	 qp;
	size_t		 delivered;
	const char	*eol;		/* held-back line end, or NULL */
};

enum lstate { L_START, L_MID, L_SKIP };

struct mime_parser {
	struct mime_limits	 lim;
	const struct mime_handler *h;
	size_t			 nh;
	struct findings		*f;

	struct mime_entry	**stack;	/* entries kept for reuse */
	size_t			 sp;		/* entries in use */
	size_t			 salloc;	/* entries allocated */
	size_t			 scap;		/* slots in stack */
	unsigned		 next_id;
	size_t			 nparts;
	size_t			 nopen;		/* multiparts with live boundary */

	enum lstate		 lstate;
	char			*look;
	size_t			 looklen, lookmax;
	int			 look_complete;	/* look holds a whole line */
	int			 pending_cr;	/* CR at a chunk end, in L_MID */

	struct buf		 field;		/* header field being read */
	int			 have_field;

	struct mime_entry	*oown;		/* owner of obuf's bytes */
	size_t			 olen;
	int			 otail;		/* obuf holds bytes past the limit */
	size_t			 ntail;		/* handlers with part_tail */
	unsigned char		*tail_off;	/* per handler: declined this part */
	size_t			 tail_live;	/* handlers still taking it */
	unsigned		 tail_id;	/* part the tail state is for */
	int			 tail_on;	/* tail_id is valid */

	int			 eoh, finished, failed;
	int			 saw_8bit, depth_reported, parts_reported;
	int			 line_mode;	/* no runs: every line on its own */

	/*
	 * Scratch, written before it is read: last, so that a new parser
	 * clears only what comes before (mime_parser_new).
	 */
	char			 obuf[OBUF_SIZE];
	char			 dbuf[DBUF_SIZE + MIME_QP_HOLD_MAX + 8];
};

enum dec { D_MORE, D_BOUNDARY, D_EMPTY, D_FIELD, D_CONT, D_DATA };

static int	part_end_headers(struct mime_parser *);

/* ---- handlers and findings ------------------------------------------- */

static int
fail(struct mime_parser *p)
{
	p->failed = 1;
	return -1;
}

/* Hand s[0..n) of e to every part_data (tail: part_tail) callback. */
static int
out_call(struct mime_parser *p, struct mime_entry *e, int tail, const char *s,
    size_t n)
{
	int (*cb)(void *, const struct mime_part_info *, const char *, size_t);
	size_t i;
	int r;

	for (i = 0; i < p->nh; i++) {
		cb = tail ? p->h[i].part_tail : p->h[i].part_data;
		if (cb == NULL || (tail && p->tail_off[i]))
			continue;
		if ((r = cb(p->h[i].ctx, &e->info, s, n)) < 0 ||
		    (r > 0 && !tail))
			return fail(p);
		if (r > 0) {		/* no more of this part's tail */
			p->tail_off[i] = 1;
			p->tail_live--;
		}
	}
	return 0;
}

static int
out_flush(struct mime_parser *p)
{
	struct mime_entry *e = p->oown;
	size_t n = p->olen;

	p->olen = 0;
	if (n == 0 || e == NULL)
		return 0;
	return out_call(p, e, p->otail, p->obuf, n);
}

static int
cb_header(struct mime_parser *p, struct mime_entry *e, const char *name,
    const char *value)
{
	size_t i;

	if (out_flush(p) != 0)
		return -1;
	for (i = 0; i < p->nh; i++)
		if (p->h[i].header != NULL &&
		    p->h[i].header(p->h[i].ctx, &e->info, name, value) != 0)
			return fail(p);
	return 0;
}

static int
cb_begin(struct mime_parser *p, struct mime_entry *e)
{
	size_t i;

	if (out_flush(p) != 0)
		return -1;
	for (i = 0; i < p->nh; i++)
		if (p->h[i].part_begin != NULL &&
		    p->h[i].part_begin(p->h[i].ctx, &e->info) != 0)
			return fail(p);
	return 0;
}

static int
cb_end(struct mime_parser *p, struct mime_entry *e)
{
	size_t i;

	if (out_flush(p) != 0)
		return -1;
	for (i = 0; i < p->nh; i++)
		if (p->h[i].part_end != NULL &&
		    p->h[i].part_end(p->h[i].ctx, &e->info) != 0)
			return fail(p);
	return 0;
}

#define FINDING(p, ...)							\
	(findings_add((p)->f, __VA_ARGS__) != 0 ? fail(p) : 0)

/* Batch s[0..n) of e in obuf (or hand it on directly when large). */
static int
out_put(struct mime_parser *p, struct mime_entry *e, int tail, const char *s,
    size_t n)
{
	if (p->olen > 0 && (p->oown != e || p->otail != tail ||
	    n > OBUF_SIZE - p->olen) && out_flush(p) != 0)
		return -1;
	p->oown = e;
	p->otail = tail;
	if (n >= OBUF_SIZE)
		return out_call(p, e, tail, s, n);
	memcpy(p->obuf + p->olen, s, n);
	p->olen += n;
	return 0;
}

/*
 * Hand decoded bytes on: to part_data within decoded_bytes per part, the
 * rest to part_tail (when a handler has one). Where the split falls depends
 * only on the count of decoded bytes, so not on the chunking.
 */
static int
deliver(struct mime_parser *p, struct mime_entry *e, const char *s, size_t n)
{
	size_t k = 0;

	e->info.decoded_size += n;
	if (n == 0)
		return 0;
	if (e->delivered < p->lim.decoded_bytes) {
		k = p->lim.decoded_bytes - e->delivered;
		if (k > n)
			k = n;
		e->delivered += k;
		if (out_put(p, e, 0, s, k) != 0)
			return -1;
	}
	if (k == n || p->ntail == 0)
		return 0;
	if (!p->tail_on || p->tail_id != e->info.id) {
		/* a new part's tail: every part_tail handler takes it again */
		if (p->olen > 0 && out_flush(p) != 0)
			return -1;
		memset(p->tail_off, 0, p->nh);
		p->tail_live = p->ntail;
		p->tail_id = e->info.id;
		p->tail_on = 1;
	}
	if (p->tail_live == 0)
		return 0;
	return out_put(p, e, 1, s + k, n - k);
}

/* ---- stack ----------------------------------------------------------- */

static struct mime_entry *
top(struct mime_parser *p)
{
	return p->stack[p->sp - 1];
}

static void
entry_fini(struct mime_entry *e)
{
	buf_fini(&e->ct_raw);
	buf_fini(&e->cte_raw);
	buf_fini(&e->cd_raw);
	buf_fini(&e->s_type);
	buf_fini(&e->s_charset);
	buf_fini(&e->s_boundary);
	buf_fini(&e->s_cte);
	buf_fini(&e->s_disp);
	buf_fini(&e->s_filename);
	buf_fini(&e->s_report);
}

static void
entry_reset(struct mime_entry *e)
{
	struct buf keep[10];

	keep[0] = e->ct_raw;
	keep[1] = e->cte_raw;
	keep[2] = e->cd_raw;
	keep[3] = e->s_type;
	keep[4] = e->s_charset;
	keep[5] = e->s_boundary;
	keep[6] = e->s_cte;
	keep[7] = e->s_disp;
	keep[8] = e->s_filename;
	keep[9] = e->s_report;
	memset(e, 0, sizeof(*e));
	e->ct_raw = keep[0];
	e->cte_raw = keep[1];
	e->cd_raw = keep[2];
	e->s_type = keep[3];
	e->s_charset = keep[4];
	e->s_boundary = keep[5];
	e->s_cte = keep[6];
	e->s_disp = keep[7];
	e->s_filename = keep[8];
	e->s_report = keep[9];
	buf_reset(&e->ct_raw);
	buf_reset(&e->cte_raw);
	buf_reset(&e->cd_raw);
	buf_reset(&e->s_type);
	buf_reset(&e->s_charset);
	buf_reset(&e->s_boundary);
	buf_reset(&e->s_cte);
	buf_reset(&e->s_disp);
	buf_reset(&e->s_filename);
	buf_reset(&e->s_report);
	e->info.type = "text/plain";
	e->info.cte = "7bit";
}

/*
 * Open a new part on top of the stack, in header mode. The caller has
 * checked the depth and parts limits. Returns 0 or -1 (no memory).
 */
static int
push(struct mime_parser *p, int default_msg)
{
	struct mime_entry *e, *parent = p->sp ? top(p) : NULL;
	size_t hmax = p->lim.part_header_bytes;

	if (p->sp == p->scap) {
		size_t ncap = p->scap ? p->scap * 2 : 8;
		struct mime_entry **ns;

		if ((ns = realloc(p->stack, ncap * sizeof(*ns))) == NULL)
			return fail(p);
		p->stack = ns;
		p->scap = ncap;
	}
	if (p->sp == p->salloc) {
		if ((e = calloc(1, sizeof(*e))) == NULL)
			return fail(p);
		buf_init(&e->ct_raw, hmax);
		buf_init(&e->cte_raw, hmax);
		buf_init(&e->cd_raw, hmax);
		buf_init(&e->s_type, 0);
		buf_init(&e->s_charset, 0);
		buf_init(&e->s_boundary, 0);
		buf_init(&e->s_cte, 0);
		buf_init(&e->s_disp, 0);
		buf_init(&e->s_filename, 0);
		buf_init(&e->s_report, 0);
		p->stack[p->salloc++] = e;
	}
	e = p->stack[p->sp];
	entry_reset(e);
	e->default_msg = default_msg;
	if (default_msg)
		e->info.type = "message/rfc822";
	e->mode = EM_HEADERS;
	e->kind = EK_LEAF;
	if (parent != NULL) {
		e->info.id = p->next_id++;
		e->info.parent = parent->info.id;
		e->info.depth = parent->info.depth + 1;
	}
	p->nparts++;
	p->sp++;
	buf_reset(&p->field);
	p->have_field = 0;
	return 0;
}

/* ---- leaf content ---------------------------------------------------- */

static int
leaf_note_b64(struct mime_parser *p, struct mime_entry *e)
{
	if (e->b64.bad && !e->b64_reported) {
		e->b64_reported = 1;
		return FINDING(p, "mime.base64_invalid",
		    "part %u: invalid base64 content", e->info.id);
	}
	return 0;
}

/* Raw content bytes of the top leaf, already checked: decode, deliver. */
static int
leaf_decode(struct mime_parser *p, struct mime_entry *e, const char *s,
    size_t n)
{
	size_t i, k, o;

	switch (e->dec) {
	case DEC_IDENT:
		return deliver(p, e, s, n);
	case DEC_B64:
		for (i = 0; i < n; i += k) {
			k = n - i < DBUF_SIZE ? n - i : DBUF_SIZE;
			o = mime_b64_step(&e->b64, s + i, k, p->dbuf);
			if (deliver(p, e, p->dbuf, o) != 0)
				return -1;
		}
		return leaf_note_b64(p, e);
	case DEC_QP:
		for (i = 0; i < n; i += k) {
			k = n - i < DBUF_SIZE ? n - i : DBUF_SIZE;
			o = mime_qp_step(&e->qp, s + i, k, p->dbuf);
			if (deliver(p, e, p->dbuf, o) != 0)
				return -1;
		}
		return 0;
	}
	return 0;
}

/* Raw content bytes of the top leaf: check, decode, deliver. */
static int
leaf_raw(struct mime_parser *p, struct mime_entry *e, const char *s,
    size_t n)
{
	if (n == 0)
		return 0;
	if (e->check8 && !p->saw_8bit) {
		if (bytescan_high(s, n) < n) {
			p->saw_8bit = 1;
			if (FINDING(p, "mime.8bit_undeclared",
			    "part %u: 8-bit data in a 7bit part", e->info.id))
				return -1;
		}
	}
	return leaf_decode(p, e, s, n);
}

static int
leaf_finish(struct mime_parser *p, struct mime_entry *e)
{
	size_t o = 0;

	if (e->dec == DEC_B64) {
		o = mime_b64_finish(&e->b64, p->dbuf);
		if (deliver(p, e, p->dbuf, o) != 0)
			return -1;
		return leaf_note_b64(p, e);
	}
	if (e->dec == DEC_QP) {
		o = mime_qp_finish(&e->qp, p->dbuf);
		return deliver(p, e, p->dbuf, o);
	}
	return 0;
}

/* ---- header sections ------------------------------------------------- */

static int
str_eq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static int
is_identity_cte(const char *cte)
{
	return str_eq(cte, "7bit") || str_eq(cte, "8bit") ||
	    str_eq(cte, "binary");
}

/* Remember a Content-* field (the first of each wins). */
static int
field_note(struct mime_parser *p, struct mime_entry *e, const char *name,
    const char *value)
{
	struct buf *dst = NULL;
	int *have = NULL;
	size_t n;

	if (strcasecmp(name, "content-type") == 0) {
		dst = &e->ct_raw;
		have = &e->have_ct;
	} else if (strcasecmp(name, "content-transfer-encoding") == 0) {
		dst = &e->cte_raw;
		have = &e->have_cte;
	} else if (strcasecmp(name, "content-disposition") == 0) {
		dst = &e->cd_raw;
		have = &e->have_cd;
	} else if (strcasecmp(name, "mime-version") == 0)
		e->have_version = 1;
	if (dst == NULL || *have)
		return 0;
	*have = 1;
	n = strlen(value);
	if (n > dst->max)
		n = dst->max;
	if (buf_append(dst, value, n) != BUF_OK)
		return fail(p);
	return 0;
}

static int
is_fws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The field in p->field is complete: split, hand on, remember. */
static int
field_finish(struct mime_parser *p)
{
	struct mime_entry *e = top(p);
	char *s, *colon, *v, *end;

	if (!p->have_field)
		return 0;
	p->have_field = 0;
	if (p->field.len == 0)
		return 0;
	s = p->field.data;
	if ((colon = memchr(s, ':', p->field.len)) == NULL)
		return 0;
	end = colon;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*end = '\0';
	v = colon + 1;
	while (is_fws(*v))
		v++;
	end = s + p->field.len;
	while (end > v && is_fws(end[-1]))
		end--;
	*end = '\0';
	if (cb_header(p, e, s, v) != 0)
		return -1;
	return field_note(p, e, s, v);
}

/* Count header section bytes; past the limit the section is skipped. */
static int
hdr_charge(struct mime_parser *p, struct mime_entry *e, size_t n)
{
	size_t lim = p->lim.part_header_bytes;

	if (e->hdr_over)
		return 0;
	if (n <= lim - e->hdr_bytes) {
		e->hdr_bytes += n;
		return 0;
	}
	e->hdr_bytes = lim;
	e->hdr_over = 1;
	return FINDING(p, "mime.limit",
	    "part %u: header section over part_header_bytes %zu",
	    e->info.id, lim);
}

static int
hdr_append(struct mime_parser *p, struct mime_entry *e, const char *s,
    size_t n)
{
	size_t room;

	if (e->hdr_over)
		return 0;
	room = p->lim.part_header_bytes - e->hdr_bytes;
	/* Past the limit the field is cut; hdr_charge() reports it. */
	if (p->have_field && buf_append(&p->field, s, n < room ? n : room) !=
	    BUF_OK)
		return fail(p);
	return hdr_charge(p, e, n);
}

static int
set_str(struct mime_parser *p, struct buf *b, const char *s, size_t n,
    const char **dst)
{
	buf_reset(b);
	if (buf_append(b, s, n) != BUF_OK)
		return fail(p);
	*dst = buf_cstr(b);
	return 0;
}

static int
param(struct mime_parser *p, const char *params, const char *name,
    unsigned flags, struct buf *b, const char **dst)
{
	int found;

	buf_reset(b);
	if (mime_param_get(params, name, flags, b, &found) != BUF_OK)
		return fail(p);
	if (found && b->len > 0)
		*dst = buf_cstr(b);
	return 0;
}

static void
cut(struct buf *b, size_t max)
{
	if (b->len > max) {
		b->len = max;
		b->data[max] = '\0';
	}
}

static void
raw_release(struct buf *b)
{
	if (b->cap > RAW_KEEP_MAX)
		buf_fini(b);
	else
		buf_reset(b);
}

/* Parse the noted Content-* fields of e into its info. */
static int
info_parse(struct mime_parser *p, struct mime_entry *e)
{
	struct mime_part_info *in = &e->info;
	const char *rest = "", *cd_rest = "";
	const char *deftype = e->default_msg ? "message/rfc822" : "text/plain";

	buf_reset(&e->s_type);
	if (e->have_ct &&
	    mime_ct_parse(buf_cstr(&e->ct_raw), &e->s_type, &rest) != BUF_OK)
		return fail(p);
	if (e->s_type.len > 0)
		in->type = buf_cstr(&e->s_type);
	else
		in->type = deftype;	/* RFC 2045 5.2 */
	if (param(p, rest, "charset", MIME_PARAM_LOWER, &e->s_charset,
	    &in->charset) != 0 ||
	    param(p, rest, "boundary", 0, &e->s_boundary, &in->boundary) != 0 ||
	    param(p, rest, "report-type", MIME_PARAM_LOWER, &e->s_report,
	    &in->report_type) != 0)
		return -1;

	buf_reset(&e->s_cte);
	if (e->have_cte) {
		const char *r;

		if (mime_token_parse(buf_cstr(&e->cte_raw), &e->s_cte, &r) !=
		    BUF_OK)
			return fail(p);
		cut(&e->s_cte, CTE_SHOWN_MAX);
	}
	if (e->s_cte.len == 0 && set_str(p, &e->s_cte, "7bit", 4, &in->cte))
		return -1;
	in->cte = buf_cstr(&e->s_cte);

	buf_reset(&e->s_disp);
	if (e->have_cd) {
		if (mime_token_parse(buf_cstr(&e->cd_raw), &e->s_disp,
		    &cd_rest) != BUF_OK)
			return fail(p);
		if (e->s_disp.len > 0)
			in->disposition = buf_cstr(&e->s_disp);
		if (param(p, cd_rest, "filename", MIME_PARAM_WORDS,
		    &e->s_filename, &in->filename) != 0)
			return -1;
	}
	if (in->filename == NULL && param(p, rest, "name", MIME_PARAM_WORDS,
	    &e->s_filename, &in->filename) != 0)
		return -1;
	/*
	 * Only the part being read needs its raw fields: large ones are let
	 * go so that open parts above hold their parsed strings only. Tokens
	 * are cut (the filename is not: its end is what checks look at).
	 */
	cut(&e->s_type, TOKEN_SHOWN_MAX);
	cut(&e->s_charset, TOKEN_SHOWN_MAX);
	cut(&e->s_report, TOKEN_SHOWN_MAX);
	cut(&e->s_disp, TOKEN_SHOWN_MAX);
	raw_release(&e->ct_raw);
	raw_release(&e->cte_raw);
	raw_release(&e->cd_raw);
	return 0;
}

static int
depth_exceeded(struct mime_parser *p, struct mime_entry *e)
{
	if ((size_t)e->info.depth + 1 <= p->lim.depth)
		return 0;
	if (!p->depth_reported) {
		p->depth_reported = 1;
		if (FINDING(p, "mime.depth_exceeded",
		    "part %u: nesting deeper than depth %zu", e->info.id,
		    p->lim.depth))
			return -1;
	}
	return 1;
}

static int
parts_exceeded(struct mime_parser *p, unsigned id)
{
	if (p->nparts < p->lim.parts)
		return 0;
	if (!p->parts_reported) {
		p->parts_reported = 1;
		if (FINDING(p, "mime.parts_exceeded",
		    "part %u: more than parts %zu", id, p->lim.parts))
			return -1;
	}
	return 1;
}

/*
 * The top part's header section is over: parse it, announce the part and
 * set up its content (leaf decoding, a live boundary, or the header section
 * of an encapsulated message).
 */
static int
part_end_headers(struct mime_parser *p)
{
	struct mime_entry *e = top(p);
	struct mime_part_info *in = &e->info;
	int is_mp, is_msg, known, ident, opaque = 0, r;
	size_t i, blen;

	if (field_finish(p) != 0 || info_parse(p, e) != 0)
		return -1;
	is_mp = strncmp(in->type, "multipart/", 10) == 0;
	is_msg = str_eq(in->type, "message/rfc822") ||
	    str_eq(in->type, "message/global");
	ident = is_identity_cte(in->cte);
	known = ident || str_eq(in->cte, "base64") ||
	    str_eq(in->cte, "quoted-printable");
	if (!known) {
		if (FINDING(p, "mime.cte_invalid",
		    "part %u: unknown Content-Transfer-Encoding", in->id))
			return -1;
	} else if ((is_mp || is_msg) && !ident) {
		if (FINDING(p, "mime.cte_invalid",
		    "part %u: %s encoding on %s", in->id, in->cte, in->type))
			return -1;
	}
	if (is_mp) {
		blen = in->boundary ? strlen(in->boundary) : 0;
		if (blen == 0) {
			if (FINDING(p, "mime.boundary_missing",
			    "part %u: %s without boundary", in->id, in->type))
				return -1;
			opaque = 1;
		} else if (blen > MIME_BOUNDARY_MAX) {
			if (FINDING(p, "mime.limit",
			    "part %u: boundary of %zu bytes over %d", in->id,
			    blen, MIME_BOUNDARY_MAX))
				return -1;
			opaque = 1;
		} else if (blen > p->lim.boundary_length &&
		    FINDING(p, "mime.limit", "part %u: boundary of %zu bytes "
		    "over boundary_length %zu", in->id, blen,
		    p->lim.boundary_length))
			return -1;
		if (!opaque && (r = depth_exceeded(p, e)) != 0) {
			if (r < 0)
				return -1;
			opaque = 1;
		}
	} else if (is_msg) {
		if (!ident)
			opaque = 1;
		else if ((r = depth_exceeded(p, e)) != 0) {
			if (r < 0)
				return -1;
			opaque = 1;
		} else if ((r = parts_exceeded(p, in->id)) != 0) {
			if (r < 0)
				return -1;
			opaque = 1;
		}
	}
	if (opaque) {
		in->is_opaque = 1;
		in->boundary = NULL;
		is_mp = is_msg = 0;
	}
	if (!is_mp)
		in->boundary = NULL;
	if (!str_eq(in->type, "multipart/report"))
		in->report_type = NULL;
	in->is_multipart = is_mp;
	in->is_message = is_msg;

	if (is_mp) {
		e->kind = EK_MULTIPART;
		e->mode = EM_SKIP;			/* preamble */
		e->digest = str_eq(in->type, "multipart/digest");
		for (i = 0; i + 1 < p->sp; i++) {
			struct mime_entry *o = p->stack[i];

			if (o->open && str_eq(o->info.boundary, in->boundary)) {
				if (FINDING(p, ID_DUPLICATE,
				    "part %u: boundary reused from part %u",
				    in->id, o->info.id))
					return -1;
				break;
			}
		}
		if (cb_begin(p, e) != 0)
			return -1;
		e->open = 1;
		p->nopen++;
		return 0;
	}
	if (is_msg) {
		/*
		 * The inner entity begins with the first line that is neither
		 * a delimiter nor empty: an empty message/rfc822 has none, and
		 * blank lines some bounces put before the returned header
		 * section do not hide it (a message cannot lack header fields).
		 */
		e->kind = EK_MESSAGE;
		e->mode = EM_MSGWAIT;
		return cb_begin(p, e);
	}
	e->kind = EK_LEAF;
	e->mode = EM_BODY;
	e->eol = NULL;
	e->check8 = str_eq(in->cte, "7bit");
	if (str_eq(in->cte, "base64")) {
		e->dec = DEC_B64;
		mime_b64_init(&e->b64);
	} else if (str_eq(in->cte, "quoted-printable")) {
		e->dec = DEC_QP;
		mime_qp_init(&e->qp);
	} else
		e->dec = DEC_IDENT;
	return cb_begin(p, e);
}

/* Close the top part (its line end, if any, was already dealt with). */
static int
part_close(struct mime_parser *p)
{
	struct mime_entry *e = top(p);

	if (e->kind == EK_LEAF && e->mode == EM_BODY &&
	    leaf_finish(p, e) != 0)
		return -1;
	if (e->kind == EK_MULTIPART && e->open) {
		e->open = 0;
		p->nopen--;
		if (FINDING(p, "mime.boundary_unterminated",
		    "part %u: %s not closed", e->info.id, e->info.type))
			return -1;
	}
	if (cb_end(p, e) != 0)
		return -1;
	p->sp--;
	if (p->sp > 0)
		top(p)->mode = EM_SKIP;
	return 0;
}

/* Close parts until `keep` remain; header sections still open end first. */
static int
close_to(struct mime_parser *p, size_t keep)
{
	while (p->sp > keep) {
		if (top(p)->mode == EM_HEADERS) {
			if (part_end_headers(p) != 0)
				return -1;
			continue;
		}
		if (part_close(p) != 0)
			return -1;
	}
	return 0;
}

static int
on_boundary(struct mime_parser *p, size_t k, int close)
{
	struct mime_entry *e;
	int r;

	if (close_to(p, k + 1) != 0)
		return -1;
	e = p->stack[k];
	if (close) {
		e->open = 0;
		p->nopen--;
		if (k == 0) {
			e->mode = EM_SKIP;	/* epilogue up to finish */
			return 0;
		}
		return part_close(p);
	}
	if ((r = parts_exceeded(p, p->next_id)) != 0) {
		e->mode = EM_SKIP;
		return r < 0 ? -1 : 0;
	}
	return push(p, e->digest);
}

/* ---- lines ----------------------------------------------------------- */

/*
 * Is s (len bytes) the delimiter "--b" [--] [white space]? 0 no, 1 yes,
 * -1 not known yet. fin: no more bytes of this line will be looked at.
 */
static int
boundary_match(const char *s, size_t len, int fin, const char *b, size_t blen,
    int *close)
{
	size_t i, need = 2 + blen, cmp = len < need ? len : need;

	for (i = 0; i < cmp; i++)
		if (s[i] != (i < 2 ? '-' : b[i - 2]))
			return 0;
	if (len < need)
		return fin ? 0 : -1;
	*close = 0;
	i = need;
	if (i < len && s[i] == '-') {
		if (i + 1 == len)
			return fin ? 0 : -1;
		if (s[i + 1] != '-')
			return 0;
		*close = 1;
		i += 2;
	}
	for (; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return fin ? 1 : -1;
}

/*
 * What is the line held in look? Depends only on the bytes held (and on
 * whether more can come), so any chunking reaches the same answer.
 */
static enum dec
decide(struct mime_parser *p, int fin, size_t *k, int *close)
{
	const char *s = p->look;
	size_t len = p->looklen, clen, i, j;
	struct mime_entry *e;
	int r;

	if (p->nopen > 0 && (len == 0 || s[0] == '-')) {
		for (i = p->sp; i-- > 0;) {
			e = p->stack[i];
			if (!e->open)
				continue;
			r = boundary_match(s, len, fin, e->info.boundary,
			    strlen(e->info.boundary), close);
			if (r < 0)
				return D_MORE;
			if (r > 0) {
				*k = i;
				return D_BOUNDARY;
			}
		}
	}
	e = top(p);
	if (e->mode == EM_MSGWAIT) {
		/* Empty lines before an inner header section are skipped. */
		if (p->look_complete && (len == 0 || (len == 1 && s[0] == '\r')))
			return D_EMPTY;
		return len == 1 && s[0] == '\r' && !fin ? D_MORE : D_DATA;
	}
	if (e->mode != EM_HEADERS)
		return D_DATA;
	clen = len;
	if (p->look_complete && clen > 0 && s[clen - 1] == '\r')
		clen--;
	if (p->look_complete && clen == 0)
		return D_EMPTY;
	if (len == 0 || (len == 1 && s[0] == '\r' && !fin))
		return fin ? D_DATA : D_MORE;
	if (s[0] == ' ' || s[0] == '\t')
		return e->hdr_started ? D_CONT : D_DATA;
	for (i = 0; i < clen && rfc5322_char_is_ftext((unsigned char)s[i]); i++)
		;
	if (i == 0 && clen > 0)
		return D_DATA;
	for (j = i; j < clen && (s[j] == ' ' || s[j] == '\t'); j++)
		;
	if (j == clen)
		return fin ? D_DATA : D_MORE;
	return s[j] == ':' ? D_FIELD : D_DATA;
}

/* A data line starts: the previous line end was not a delimiter's. */
static int
line_begin(struct mime_parser *p)
{
	struct mime_entry *e = top(p);
	const char *eol = e->eol;

	if (e->mode != EM_BODY || eol == NULL)
		return 0;
	e->eol = NULL;
	return leaf_raw(p, e, eol, strlen(eol));
}

static int
line_content(struct mime_parser *p, const char *s, size_t n)
{
	struct mime_entry *e = top(p);

	if (e->mode == EM_BODY)
		return leaf_raw(p, e, s, n);
	if (e->mode == EM_HEADERS)
		return hdr_append(p, e, s, n);
	return 0;
}

static int
line_end(struct mime_parser *p, const char *eol)
{
	struct mime_entry *e = top(p);

	if (e->mode == EM_BODY)
		e->eol = eol;
	else if (e->mode == EM_HEADERS)
		return hdr_charge(p, e, strlen(eol));
	return 0;
}

/* Hand on the line (or its first part) held in look. */
static int
look_content(struct mime_parser *p)
{
	size_t n = p->looklen;
	const char *eol = NULL;

	if (p->look_complete) {
		eol = "\n";
		if (n > 0 && p->look[n - 1] == '\r') {
			n--;
			eol = "\r\n";
		}
	} else if (n > 0 && p->look[n - 1] == '\r') {
		n--;
		p->pending_cr = 1;
	}
	p->looklen = 0;
	if (line_content(p, p->look, n) != 0)
		return -1;
	if (eol != NULL) {
		p->lstate = L_START;
		return line_end(p, eol);
	}
	p->lstate = L_MID;
	return 0;
}

/*
 * Decide about the line in look and act on it. fin: the line will not grow
 * (end of input). Returns 0 (possibly still undecided) or -1.
 */
static int
look_process(struct mime_parser *p, int fin)
{
	struct mime_entry *e;
	size_t k = 0;
	int close = 0;
	enum dec d;

	for (;;) {
		d = decide(p, fin || p->look_complete ||
		    p->looklen == p->lookmax, &k, &close);
		switch (d) {
		case D_MORE:
			return 0;
		case D_BOUNDARY:
			p->lstate = p->look_complete ? L_START : L_SKIP;
			p->looklen = 0;
			p->pending_cr = 0;
			return on_boundary(p, k, close);
		case D_EMPTY:
			p->lstate = L_START;
			p->looklen = 0;
			if (top(p)->mode == EM_MSGWAIT)
				return 0;
			return part_end_headers(p);
		case D_FIELD:
			e = top(p);
			if (field_finish(p) != 0)
				return -1;
			e->hdr_started = 1;
			if (!e->hdr_over) {
				buf_reset(&p->field);
				p->have_field = 1;
			}
			return look_content(p);
		case D_CONT:
			return look_content(p);
		case D_DATA:
			if (top(p)->mode == EM_MSGWAIT) {
				if (push(p, 0) != 0)
					return -1;
				continue;
			}
			if (top(p)->mode == EM_HEADERS) {
				/* A line that is no header field: body. */
				if (part_end_headers(p) != 0)
					return -1;
				continue;
			}
			if (line_begin(p) != 0)
				return -1;
			return look_content(p);
		}
	}
}

/*
 * Runs of body lines in one step. Between two line starts that cannot be
 * delimiters, a leaf's line path hands on the held line end, the content and
 * holds the next line end; over several such lines that is the raw bytes as
 * they stand. So a run of whole lines, each followed by a line start that is
 * no delimiter candidate (not "-" while a multipart is open), goes to the
 * leaf in one piece from the first line's start to the last line's content,
 * and that line's end is held as the line path would. Only line ends are
 * looked for (memchr); nothing is copied into look. What the parser finds
 * keeps the line path's order: a run stops before the first line with an
 * 8-bit byte while that finding is pending, and base64 found bad within a
 * run is re-read line by line so the finding follows its line.
 */

/*
 * Raw content of whole lines of the top leaf, with no 8-bit byte while that
 * finding is pending (body_run stops before one).
 */
static int
leaf_run(struct mime_parser *p, struct mime_entry *e, const char *s,
    size_t n)
{
	struct mime_b64 save;
	const char *nl;
	size_t i, k, o, j, q;

	if (e->dec != DEC_B64 || e->b64_reported)
		return leaf_decode(p, e, s, n);
	for (i = 0; i < n; i += k) {
		k = n - i < DBUF_SIZE ? n - i : DBUF_SIZE;
		save = e->b64;
		o = mime_b64_step(&e->b64, s + i, k, p->dbuf);
		if (!e->b64.bad) {
			if (deliver(p, e, p->dbuf, o) != 0)
				return -1;
			continue;
		}
		/* Gone bad in this slice: again, a line at a time. */
		e->b64 = save;
		for (j = i; j < i + k; j = q) {
			nl = memchr(s + j, '\n', i + k - j);
			q = nl != NULL ? (size_t)(nl - s) + 1 : i + k;
			o = mime_b64_step(&e->b64, s + j, q - j, p->dbuf);
			if (deliver(p, e, p->dbuf, o) != 0 ||
			    leaf_note_b64(p, e) != 0)
				return -1;
		}
	}
	return 0;
}

/*
 * At a line start in the body of a leaf or between a container's children,
 * the line known to be no delimiter candidate: take the run of whole lines
 * from data. *used is set to the bytes taken, 0 when there is no whole line
 * (or a run does not apply). Returns 0 or -1.
 */
static int
body_run(struct mime_parser *p, const char *data, size_t n, size_t *used)
{
	struct mime_entry *e = top(p);
	const char *nl, *eol = "\n";
	size_t end = 0, cl;
	int open = p->nopen > 0;

	*used = 0;
	if (p->line_mode || (e->mode != EM_BODY && e->mode != EM_SKIP))
		return 0;
	/* to the first line that starts with '-' (a delimiter candidate)
	 * when a multipart is open, else to the last whole line */
	if (open && (end = bytescan_pair(data, n, '\n', '-')) < n)
		end++;
	else if ((nl = memrchr(data, '\n', n)) != NULL)
		end = (size_t)(nl - data) + 1;
	else
		return 0;
	if (e->mode == EM_SKIP) {	/* the line path keeps none of it */
		*used = end;
		return 0;
	}
	if (e->check8 && !p->saw_8bit &&
	    (cl = bytescan_high(data, end)) < end) {
		if ((nl = memrchr(data, '\n', cl)) == NULL)
			return 0;
		end = (size_t)(nl - data) + 1;
	}
	cl = end - 1;
	if (cl > 0 && data[cl - 1] == '\r') {
		cl--;
		eol = "\r\n";
	}
	if (line_begin(p) != 0 || leaf_run(p, e, data, cl) != 0)
		return -1;
	e->eol = eol;
	*used = end;
	return 0;
}

static int
need_look(struct mime_parser *p)
{
	enum emode m = top(p)->mode;

	return p->nopen > 0 || m == EM_HEADERS || m == EM_MSGWAIT;
}

/* ---- public ---------------------------------------------------------- */

void
mime_parser_line_mode(struct mime_parser *p, int on)
{
	p->line_mode = on;
}

struct mime_parser *
mime_parser_new(const struct mime_limits *lim, const struct mime_handler *h,
    size_t nh, struct findings *f)
{
	struct mime_parser *p;
	size_t i;

	if ((p = malloc(sizeof(*p))) == NULL)
		return NULL;
	memset(p, 0, offsetof(struct mime_parser, obuf));
	if (lim != NULL)
		p->lim = *lim;
	if (p->lim.depth == 0)
		p->lim.depth = MIME_DEFAULT_DEPTH;
	if (p->lim.parts == 0)
		p->lim.parts = MIME_DEFAULT_PARTS;
	if (p->lim.boundary_length == 0)
		p->lim.boundary_length = MIME_DEFAULT_BOUNDARY_LENGTH;
	if (p->lim.part_header_bytes == 0)
		p->lim.part_header_bytes = MIME_DEFAULT_PART_HEADER_BYTES;
	if (p->lim.decoded_bytes == 0)
		p->lim.decoded_bytes = MIME_DEFAULT_DECODED_BYTES;
	/* Keep the look-ahead (and the stack below) of sane size. */
	if (p->lim.boundary_length > MIME_BOUNDARY_MAX)
		p->lim.boundary_length = MIME_BOUNDARY_MAX;
	if (p->lim.part_header_bytes > SIZE_MAX / 4)
		p->lim.part_header_bytes = SIZE_MAX / 4;
	p->h = h;
	p->nh = nh;
	for (i = 0; i < nh; i++)
		if (h[i].part_tail != NULL)
			p->ntail++;
	p->f = f;
	p->lookmax = 2 + MIME_BOUNDARY_MAX + 2 + LOOK_PAD;
	buf_init(&p->field, p->lim.part_header_bytes);
	p->next_id = 1;
	if ((p->look = malloc(p->lookmax)) == NULL ||
	    (p->ntail > 0 && (p->tail_off = calloc(nh, 1)) == NULL) ||
	    push(p, 0) != 0) {
		mime_parser_free(p);
		return NULL;
	}
	p->failed = 0;
	return p;
}

void
mime_parser_free(struct mime_parser *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->salloc; i++) {
		entry_fini(p->stack[i]);
		free(p->stack[i]);
	}
	free(p->stack);
	free(p->look);
	free(p->tail_off);
	buf_fini(&p->field);
	free(p);
}

int
mime_parser_header(struct mime_parser *p, const char *name,
    const char *value)
{
	struct mime_entry *e;
	const char *s;
	size_t max = p->lim.part_header_bytes, k;
	char *v, *end;
	int cut = 0;

	/* feeding a finished parser is a programming error */
	EGRESS_ASSERT(p != NULL && !p->finished);
	EGRESS_ASSERT(name != NULL && value != NULL);
	if (p->failed)
		return -1;
	if (p->eoh)
		return 0;
	e = p->stack[0];
	/*
	 * Unfold: drop the line ends, keep the white space after them. The
	 * bytes between line ends go in one append each, cut where the
	 * field reaches part_header_bytes.
	 */
	buf_reset(&p->field);
	for (s = value; *s != '\0' && !cut; s += k) {
		if (*s == '\r' || *s == '\n') {
			k = 1;
			continue;
		}
		k = strcspn(s, "\r\n");
		if (k > max - p->field.len) {
			k = max - p->field.len;
			cut = 1;
		}
		if (k > 0 && buf_append(&p->field, s, k) != BUF_OK)
			return fail(p);
	}
	if (cut && FINDING(p, "mime.limit",
	    "part 0: header field over part_header_bytes %zu", max))
		return -1;
	v = p->field.data ? p->field.data : (char *)"";
	while (is_fws(*v))
		v++;
	end = v + strlen(v);
	while (end > v && is_fws(end[-1]))
		end--;
	if (*end != '\0')
		*end = '\0';
	if (cb_header(p, e, name, v) != 0)
		return -1;
	return field_note(p, e, name, v);
}

int
mime_parser_eoh(struct mime_parser *p)
{
	struct mime_entry *e;
	int multi, encoded;

	if (p->failed)
		return -1;
	if (p->eoh)
		return 0;
	p->eoh = 1;
	e = p->stack[0];
	p->have_field = 0;
	if (part_end_headers(p) != 0)
		return -1;
	/* RFC 2045 4: MIME structure without MIME-Version. */
	multi = e->have_ct && strncmp(e->info.type, "multipart/", 10) == 0;
	encoded = e->have_cte && !str_eq(e->info.cte, "7bit");
	if (!e->have_version && (multi || encoded) &&
	    FINDING(p, "mime.version_missing", "part 0: %s%s%s without "
	    "MIME-Version", multi ? e->info.type : "",
	    multi && encoded ? ", " : "",
	    encoded ? e->info.cte : ""))
		return -1;
	return 0;
}

int
mime_parser_body(struct mime_parser *p, const char *data, size_t n)
{
	const char *nl;
	size_t take, m, span, cl;

	EGRESS_ASSERT(p != NULL && !p->finished);
	EGRESS_ASSERT(data != NULL || n == 0);
	if (p->failed)
		return -1;
	if (!p->eoh && mime_parser_eoh(p) != 0)
		return -1;
	while (n > 0) {
		switch (p->lstate) {
		case L_START:
			if (p->looklen == 0 && (!need_look(p) ||
			    (data[0] != '-' && (top(p)->mode == EM_BODY ||
			    top(p)->mode == EM_SKIP)))) {
				/* Cannot be a delimiter: as decide() says. */
				if (body_run(p, data, n, &take) != 0)
					return -1;
				if (take > 0) {
					data += take;
					n -= take;
					break;
				}
				if (line_begin(p) != 0)
					return -1;
				p->lstate = L_MID;
				break;
			}
			m = p->lookmax - p->looklen;
			if (m > n)
				m = n;
			nl = memchr(data, '\n', m);
			take = nl ? (size_t)(nl - data) : m;
			memcpy(p->look + p->looklen, data, take);
			p->looklen += take;
			p->look_complete = nl != NULL;
			if (nl)
				take++;
			data += take;
			n -= take;
			if (look_process(p, 0) != 0)
				return -1;
			break;
		case L_MID:
			nl = memchr(data, '\n', n);
			if (p->pending_cr) {
				p->pending_cr = 0;
				if (nl == data) {
					data++;
					n--;
					p->lstate = L_START;
					if (line_end(p, "\r\n") != 0)
						return -1;
					break;
				}
				if (line_content(p, "\r", 1) != 0)
					return -1;
			}
			span = nl ? (size_t)(nl - data) : n;
			cl = span;
			if (nl) {
				const char *eol = "\n";

				if (cl > 0 && data[cl - 1] == '\r') {
					cl--;
					eol = "\r\n";
				}
				if (line_content(p, data, cl) != 0)
					return -1;
				p->lstate = L_START;
				if (line_end(p, eol) != 0)
					return -1;
				span++;
			} else {
				if (cl > 0 && data[cl - 1] == '\r') {
					cl--;
					p->pending_cr = 1;
				}
				if (line_content(p, data, cl) != 0)
					return -1;
			}
			data += span;
			n -= span;
			break;
		case L_SKIP:
			nl = memchr(data, '\n', n);
			span = nl ? (size_t)(nl - data) + 1 : n;
			if (nl)
				p->lstate = L_START;
			data += span;
			n -= span;
			break;
		}
	}
	return out_flush(p);
}

int
mime_parser_finish(struct mime_parser *p)
{
	if (p->failed)
		return -1;
	if (p->finished)
		return 0;
	if (!p->eoh && mime_parser_eoh(p) != 0)
		return -1;
	p->finished = 1;
	if (p->lstate == L_START && p->looklen > 0) {
		p->look_complete = 0;
		if (look_process(p, 1) != 0)
			return -1;
	}
	if (p->lstate == L_MID && p->pending_cr) {
		p->pending_cr = 0;
		if (line_content(p, "\r", 1) != 0)
			return -1;
	}
	/* Header sections cut by the end of input end here. */
	while (top(p)->mode == EM_HEADERS)
		if (part_end_headers(p) != 0)
			return -1;
	/* No delimiter follows: the last line end is content. */
	if (line_begin(p) != 0)
		return -1;
	if (close_to(p, 0) != 0)
		return -1;
	return out_flush(p);
}
