/*
 * reencode.c - re-encode the parts that hold over-long lines (see
 * reencode.h for what is repaired and what is refused).
 *
 * One line walker serves both passes, so the plan and the rewrite number
 * the parts identically: lines are assembled whole (bounded by
 * REENCODE_LINE_MAX: past it the body is not repaired), then each line is
 * a delimiter of an open multipart, a line of a header section, a content
 * line of a leaf, or a preamble/epilogue line. Pass 1 marks leaves with an
 * identity transfer encoding (7bit, 8bit, binary, none) that hold a line
 * longer than line_max; pass 2 writes every byte as it came except the
 * marked parts: their Content-Transfer-Encoding field is replaced and
 * their content encoded.
 *
 * The line end before a delimiter belongs to the delimiter (RFC 2046
 * 5.1.1): an encoded part holds its last line end back and writes it only
 * when more content follows, so the decoded content is what the original
 * content was. In quoted-printable, line ends of the text become hard line
 * breaks (CRLF) and lines are cut with soft breaks at 76 columns; in
 * base64 every byte, line ends included, is encoded in lines of 76.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "egress/assert.h"
#include "egress/buf.h"
#include "egress/reencode.h"
#include "egress/rfc5322.h"

#define QP_COLS		76	/* RFC 2045 6.7 (5): encoded line length */
#define BOUNDARY_MAX	998	/* longest boundary (one line) */
#define B64_COLS	76

enum state { ST_HDR, ST_LEAF, ST_OTHER };
enum pass { PASS_PLAN = 1, PASS_REWRITE };

struct reencode {
	enum pass	 pass;
	enum reencode_result err;	/* first reason it cannot be repaired */
	int		 any_long;	/* an over-long line was seen */
	int		 signed_part;	/* multipart/signed or encrypted seen */
	int		 dkim;
	size_t		 line_max;
	size_t		 parts_max;
	/* the message itself */
	char		*top_type;
	char		*top_cte;
	/* line assembly */
	struct buf	 line;
	int		 line_over;	/* longer than REENCODE_LINE_MAX */
	int		 cr;		/* the last byte fed was CR */
	/* structure */
	char		*bounds[REENCODE_DEPTH_MAX];
	char		 digest[REENCODE_DEPTH_MAX];	/* multipart/digest */
	size_t		 nb;
	enum state	 state;
	struct buf	 hdr;		/* raw lines of the section being read */
	int		 hdr_over;
	unsigned	 part;		/* the part being read */
	int		 digest_child;	/* its section is a multipart/digest child's */
	unsigned	 nparts;
	unsigned char	*mark;		/* per part: 0, 'q' or 'b' */
	size_t		 nmarked;
	/* the leaf being read */
	int		 identity;	/* its transfer encoding is the identity */
	int		 is_text;
	int		 enc;		/* pass 2: 0, 'q' or 'b' */
	int		 held;		/* a line end is held back */
	char		 held_eol[2];
	size_t		 held_len;
	size_t		 col;		/* output column of the encoded line */
	unsigned char	 b64[3];
	size_t		 b64n;
	/* pass 2 output */
	reencode_sink	*sink;
	void		*arg;
	int		 sink_failed;
	struct buf	 out;		/* small write-behind buffer */
};

#define OUT_FLUSH	(16 * 1024)

static int	start_top(struct reencode *);

/* ---- output ---- */

static int
out_flush(struct reencode *r)
{
	if (r->out.len > 0 && !r->sink_failed &&
	    r->sink(r->arg, r->out.data, r->out.len) != 0)
		r->sink_failed = 1;
	buf_reset(&r->out);
	return r->sink_failed ? -1 : 0;
}

static int
out(struct reencode *r, const char *p, size_t n)
{
	if (r->pass != PASS_REWRITE || n == 0)
		return 0;
	if (r->out.len + n > OUT_FLUSH && out_flush(r) != 0)
		return -1;
	if (n > OUT_FLUSH)
		return r->sink(r->arg, p, n) == 0 ? 0 : (r->sink_failed = 1, -1);
	return buf_append(&r->out, p, n) == BUF_OK ? 0 : -1;
}

static int
outs(struct reencode *r, const char *s)
{
	return out(r, s, strlen(s));
}

/* ---- encoders ---- */

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
b64_group(struct reencode *r, const unsigned char *g, size_t n)
{
	char q[4];

	q[0] = b64chars[g[0] >> 2];
	q[1] = b64chars[((g[0] & 3) << 4) | (n > 1 ? g[1] >> 4 : 0)];
	q[2] = n > 1 ? b64chars[((g[1] & 15) << 2) | (n > 2 ? g[2] >> 6 : 0)] : '=';
	q[3] = n > 2 ? b64chars[g[2] & 63] : '=';
	if (out(r, q, 4) != 0)
		return -1;
	r->col += 4;
	if (r->col >= B64_COLS) {
		r->col = 0;
		return out(r, "\r\n", 2);
	}
	return 0;
}

static int
b64_bytes(struct reencode *r, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		r->b64[r->b64n++] = (unsigned char)p[i];
		if (r->b64n == 3) {
			r->b64n = 0;
			if (b64_group(r, r->b64, 3) != 0)
				return -1;
		}
	}
	return 0;
}

static int
b64_end(struct reencode *r)
{
	if (r->b64n > 0 && b64_group(r, r->b64, r->b64n) != 0)
		return -1;
	r->b64n = 0;
	if (r->col > 0) {
		r->col = 0;
		return out(r, "\r\n", 2);
	}
	return 0;
}

/* One content line (without its line end) in quoted-printable. */
static int
qp_line(struct reencode *r, const char *p, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		char e[3];
		size_t w = 1;

		/* '-' starting an encoded line could make a new delimiter */
		if ((c >= 33 && c <= 126 && c != '=' && !(c == '-' && r->col == 0)) ||
		    ((c == ' ' || c == '\t') && i + 1 < n))
			e[0] = (char)c;
		else {
			e[0] = '=';
			e[1] = hex[c >> 4];
			e[2] = hex[c & 15];
			w = 3;
		}
		/* room for the soft break "=" at the end of the line */
		if (r->col + w > QP_COLS - 1) {
			if (out(r, "=\r\n", 3) != 0)
				return -1;
			r->col = 0;
		}
		if (out(r, e, w) != 0)
			return -1;
		r->col += w;
	}
	return 0;
}

/* Content of the current leaf: the held line end first, then the line. */
static int
leaf_content(struct reencode *r, const char *p, size_t n, const char *eol,
    size_t eollen)
{
	if (r->enc == 0)
		return out(r, p, n) != 0 || out(r, eol, eollen) != 0 ? -1 : 0;
	if (r->held) {
		if (r->enc == 'q') {
			if (out(r, "\r\n", 2) != 0)
				return -1;
			r->col = 0;
		} else if (b64_bytes(r, r->held_eol, r->held_len) != 0)
			return -1;
		r->held = 0;
	}
	if ((r->enc == 'q' ? qp_line(r, p, n) : b64_bytes(r, p, n)) != 0)
		return -1;
	if (eollen > 0) {
		r->held = 1;
		memcpy(r->held_eol, eol, eollen);
		r->held_len = eollen;
	}
	return 0;
}

/*
 * The leaf ends. At a delimiter its held line end belongs to the delimiter
 * (written with it); at the end of the body it is content.
 */
static int
leaf_end(struct reencode *r, int at_delimiter)
{
	int rc = 0;

	if (r->state != ST_LEAF || r->enc == 0) {
		r->enc = 0;
		return 0;
	}
	if (r->enc == 'q') {
		/* at the end of the body a last line without an end stays so:
		 * a soft break decodes to nothing */
		if (r->held || (r->col > 0 && at_delimiter))
			rc = out(r, "\r\n", 2);
		else if (r->col > 0)
			rc = out(r, "=\r\n", 3);
	} else {
		if (!at_delimiter && r->held)
			rc = b64_bytes(r, r->held_eol, r->held_len);
		if (rc == 0)
			rc = b64_end(r);
	}
	r->held = 0;
	r->col = 0;
	r->enc = 0;
	return rc;
}

/* ---- header sections ---- */

static int
is_identity(const char *cte)
{
	return cte == NULL || strcasecmp(cte, "7bit") == 0 ||
	    strcasecmp(cte, "8bit") == 0 || strcasecmp(cte, "binary") == 0;
}

static int
type_is(const char *type, const char *want)
{
	return type != NULL && strcasecmp(type, want) == 0;
}

static int
type_is_signed(const char *type)
{
	return type_is(type, "multipart/signed") ||
	    type_is(type, "multipart/encrypted") ||
	    type_is(type, "application/pkcs7-mime") ||
	    type_is(type, "application/x-pkcs7-mime") ||
	    type_is(type, "application/pgp-encrypted");
}

/*
 * "type/subtype; boundary=..." -> lowercased type into tbuf and the
 * boundary (unquoted) into bbuf ("" when absent).
 */
static void
parse_ctype(const char *v, size_t n, char *tbuf, size_t tlen, char *bbuf,
    size_t blen)
{
	size_t i = 0, k = 0;

	tbuf[0] = bbuf[0] = '\0';
	while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == '\r' || v[i] == '\n'))
		i++;
	while (i < n && v[i] != ';' && v[i] != ' ' && v[i] != '\t' &&
	    v[i] != '\r' && v[i] != '\n' && v[i] != '(' && k + 1 < tlen) {
		char c = v[i++];

		tbuf[k++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	tbuf[k] = '\0';
	if (strchr(tbuf, '/') == NULL)
		tbuf[0] = '\0';
	/* parameters: find boundary= */
	while (i < n) {
		size_t j;

		if (v[i] != ';') {
			i++;
			continue;
		}
		i++;
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == '\r' ||
		    v[i] == '\n'))
			i++;
		if (n - i < 9 || strncasecmp(v + i, "boundary", 8) != 0)
			continue;
		j = i + 8;
		while (j < n && (v[j] == ' ' || v[j] == '\t'))
			j++;
		if (j >= n || v[j] != '=')
			continue;
		j++;
		while (j < n && (v[j] == ' ' || v[j] == '\t'))
			j++;
		k = 0;
		if (j < n && v[j] == '"') {
			for (j++; j < n && v[j] != '"' && k + 1 < blen; j++) {
				if (v[j] == '\\' && j + 1 < n)
					j++;
				bbuf[k++] = v[j];
			}
		} else {
			for (; j < n && v[j] != ';' && v[j] != ' ' && v[j] != '\t' &&
			    v[j] != '\r' && v[j] != '\n' && k + 1 < blen; j++)
				bbuf[k++] = v[j];
		}
		bbuf[k] = '\0';
		return;
	}
}

/* Length of the field name of a raw header line, or 0 if it is none. */
static size_t
field_name_len(const char *p, size_t n)
{
	const char *c = memchr(p, ':', n);
	size_t l;

	if (c == NULL)
		return 0;
	l = (size_t)(c - p);
	while (l > 0 && (p[l - 1] == ' ' || p[l - 1] == '\t'))
		l--;	/* obsolete: white space before the colon */
	return l > 0 && rfc5322_field_name_is_valid(p, l) ? l : 0;
}

/* Is this raw line (without its end) a header field or a continuation? */
static int
is_header_line(const char *p, size_t n)
{
	return (n > 0 && (p[0] == ' ' || p[0] == '\t')) || field_name_len(p, n) > 0;
}

/*
 * The value (folded, raw) of the first field `name` in the section:
 * pointer into r->hdr and its length, or NULL.
 */
static const char *
hdr_field(const struct reencode *r, const char *name, size_t *vlen)
{
	const char *p = r->hdr.data, *end = p + r->hdr.len;
	size_t nl = strlen(name);

	while (p < end) {
		const char *e = memchr(p, '\n', (size_t)(end - p));
		const char *le = e ? e + 1 : end;
		size_t fl = field_name_len(p, (size_t)(le - p));

		if (fl == nl && strncasecmp(p, name, nl) == 0) {
			const char *v = (const char *)memchr(p, ':', (size_t)(le - p)) + 1;
			const char *ve = le;

			/* continuation lines belong to the value */
			while (ve < end && (*ve == ' ' || *ve == '\t')) {
				const char *e2 = memchr(ve, '\n', (size_t)(end - ve));

				ve = e2 ? e2 + 1 : end;
			}
			*vlen = (size_t)(ve - v);
			return v;
		}
		p = le;
	}
	return NULL;
}

/* Write the section with the marked part's transfer encoding replaced. */
static int
hdr_write(struct reencode *r, int mark)
{
	const char *p = r->hdr.data, *end = p + r->hdr.len;
	int skipping = 0;

	if (!mark)
		return out(r, r->hdr.data, r->hdr.len);
	while (p < end) {
		const char *e = memchr(p, '\n', (size_t)(end - p));
		const char *le = e ? e + 1 : end;
		size_t fl;

		if (*p == ' ' || *p == '\t') {
			if (!skipping && out(r, p, (size_t)(le - p)) != 0)
				return -1;
		} else {
			fl = field_name_len(p, (size_t)(le - p));
			skipping = fl == 25 &&
			    strncasecmp(p, "Content-Transfer-Encoding", 25) == 0;
			if (!skipping && out(r, p, (size_t)(le - p)) != 0)
				return -1;
		}
		p = le;
	}
	return outs(r, mark == 'q' ? "Content-Transfer-Encoding: quoted-printable\r\n" :
	    "Content-Transfer-Encoding: base64\r\n");
}

static void
fail(struct reencode *r, enum reencode_result why)
{
	if (r->err == REENCODE_NONE)
		r->err = why;
}

static int
push_boundary(struct reencode *r, const char *b, int digest)
{
	if (r->nb == REENCODE_DEPTH_MAX) {
		fail(r, REENCODE_LIMIT);
		return 0;
	}
	if ((r->bounds[r->nb] = strdup(b)) == NULL)
		return -1;
	r->digest[r->nb] = (char)digest;
	r->nb++;
	return 0;
}

static void
pop_to(struct reencode *r, size_t n)
{
	while (r->nb > n)
		free(r->bounds[--r->nb]);
}

static int
new_part(struct reencode *r)
{
	if (r->nparts >= r->parts_max) {
		fail(r, REENCODE_LIMIT);
		r->part = 0;
		return 0;
	}
	r->part = r->nparts++;
	return 1;
}

/* Enter the content of an entity of this type and encoding. */
static int
enter(struct reencode *r, const char *type, const char *boundary,
    const char *cte)
{
	if (type_is_signed(type))
		r->signed_part = 1;
	if (strncmp(type, "multipart/", 10) == 0 && boundary[0] != '\0' &&
	    is_identity(cte)) {
		r->state = ST_OTHER;	/* the preamble */
		return push_boundary(r, boundary, type_is(type, "multipart/digest"));
	}
	if ((type_is(type, "message/rfc822") || type_is(type, "message/global")) &&
	    is_identity(cte)) {
		r->state = ST_HDR;
		buf_reset(&r->hdr);
		r->hdr_over = 0;
		(void)new_part(r);
		return 0;
	}
	r->state = ST_LEAF;
	r->identity = is_identity(cte);
	r->is_text = strncmp(type, "text/", 5) == 0 || type[0] == '\0';
	r->enc = r->pass == PASS_REWRITE ? r->mark[r->part] : 0;
	r->held = 0;
	r->col = 0;
	r->b64n = 0;
	return 0;
}

/* The header section ends (the terminating line not yet written). */
static int
hdr_end(struct reencode *r)
{
	char type[128], boundary[BOUNDARY_MAX + 1], cte[32];
	const char *v;
	size_t vl, k = 0;

	type[0] = boundary[0] = cte[0] = '\0';
	if ((v = hdr_field(r, "Content-Type", &vl)) != NULL)
		parse_ctype(v, vl, type, sizeof(type), boundary, sizeof(boundary));
	if ((v = hdr_field(r, "Content-Transfer-Encoding", &vl)) != NULL) {
		while (vl > 0 && (*v == ' ' || *v == '\t')) {
			v++;
			vl--;
		}
		while (k < vl && k + 1 < sizeof(cte) && v[k] != ' ' &&
		    v[k] != '\t' && v[k] != '\r' && v[k] != '\n' && v[k] != ';' &&
		    v[k] != '(') {
			cte[k] = v[k];
			k++;
		}
		cte[k] = '\0';
	}
	if (type[0] == '\0')	/* RFC 2046 5.1.5: digest parts are messages */
		strcpy(type, r->digest_child ? "message/rfc822" : "text/plain");
	r->digest_child = 0;
	if (r->hdr_over)
		fail(r, REENCODE_LIMIT);
	if (hdr_write(r, r->pass == PASS_REWRITE ? r->mark[r->part] : 0) != 0)
		return -1;
	buf_reset(&r->hdr);
	return enter(r, type, boundary, cte[0] ? cte : NULL);
}

/* ---- the walker ---- */

/* Is the line a delimiter of open multipart i? Sets *close. */
static int
is_delimiter(const char *p, size_t n, const char *b, int *close)
{
	size_t bl = strlen(b), i;

	if (n < 2 + bl || p[0] != '-' || p[1] != '-' || memcmp(p + 2, b, bl) != 0)
		return 0;
	i = 2 + bl;
	*close = n >= i + 2 && p[i] == '-' && p[i + 1] == '-';
	if (*close)
		i += 2;
	for (; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t')
			return 0;
	return 1;
}

static int
line(struct reencode *r, const char *p, size_t n, const char *eol,
    size_t eollen)
{
	int longline = r->line_over || n > r->line_max;
	int close;
	size_t i;

	if (longline)
		r->any_long = 1;
	if (r->line_over)
		fail(r, REENCODE_STRUCTURE);	/* only counted, not kept */
	if (n >= 2 && p[0] == '-' && p[1] == '-') {
		for (i = r->nb; i-- > 0;) {
			if (!is_delimiter(p, n, r->bounds[i], &close))
				continue;
			if (r->state == ST_HDR) {
				/* a section cut short by a delimiter */
				if (hdr_end(r) != 0)
					return -1;
			}
			if (leaf_end(r, 1) != 0 || out(r, p, n) != 0 ||
			    out(r, eol, eollen) != 0)
				return -1;
			pop_to(r, close ? i : i + 1);
			if (close)
				r->state = ST_OTHER;
			else {
				r->state = ST_HDR;
				buf_reset(&r->hdr);
				r->hdr_over = 0;
				r->digest_child = r->digest[i];
				(void)new_part(r);
			}
			return 0;
		}
	}
	switch (r->state) {
	case ST_HDR:
		if (n == 0 || !is_header_line(p, n)) {
			if (hdr_end(r) != 0)
				return -1;
			if (n == 0)	/* the empty line ends the section */
				return out(r, eol, eollen);
			return line(r, p, n, eol, eollen);	/* content */
		}
		if (longline)
			fail(r, REENCODE_HEADER);
		if (r->hdr.len + n + eollen > REENCODE_HEADER_MAX) {
			r->hdr_over = 1;	/* the plan fails; the rest is dropped */
			return 0;
		}
		if (buf_append(&r->hdr, p, n) != BUF_OK ||
		    buf_append(&r->hdr, eol, eollen) != BUF_OK)
			return -1;
		return 0;
	case ST_LEAF:
		if (longline && r->pass == PASS_PLAN) {
			if (r->line_over)
				fail(r, REENCODE_STRUCTURE);
			else if (!r->identity)
				fail(r, REENCODE_ENCODED);
			else if (r->mark[r->part] == 0) {
				r->mark[r->part] = r->is_text ? 'q' : 'b';
				r->nmarked++;
			}
		}
		return leaf_content(r, p, n, eol, eollen);
	case ST_OTHER:
	default:
		if (longline)
			fail(r, REENCODE_STRUCTURE);
		return out(r, p, n) != 0 || out(r, eol, eollen) != 0 ? -1 : 0;
	}
}

/* The assembled line with its end ("\r\n", "\n" or "" at the end). */
static int
line_done(struct reencode *r, const char *eol, size_t eollen)
{
	int rc = line(r, r->line.data ? r->line.data : "", r->line.len, eol, eollen);

	buf_reset(&r->line);
	r->line_over = 0;
	return rc;
}

static int
feed(struct reencode *r, const char *p, size_t n)
{
	size_t i, start = 0;

	for (i = 0; i < n; i++) {
		if (p[i] != '\n')
			continue;
		/* the bytes before the LF, without a CR that ends the line */
		if (!r->line_over && buf_append(&r->line, p + start, i - start) != BUF_OK) {
			if (r->line.len + (i - start) <= REENCODE_LINE_MAX)
				return -1;
			r->line_over = 1;
		}
		if (r->line.len > 0 && r->line.data[r->line.len - 1] == '\r') {
			r->line.len--;
			if (line_done(r, "\r\n", 2) != 0)
				return -1;
		} else if (line_done(r, "\n", 1) != 0)
			return -1;
		start = i + 1;
	}
	if (start < n && !r->line_over &&
	    buf_append(&r->line, p + start, n - start) != BUF_OK) {
		if (r->line.len + (n - start) <= REENCODE_LINE_MAX)
			return -1;
		r->line_over = 1;
		buf_reset(&r->line);
	}
	return 0;
}

static int
finish(struct reencode *r)
{
	if ((r->line.len > 0 || r->line_over) && line_done(r, "", 0) != 0)
		return -1;
	if (r->state == ST_HDR && hdr_end(r) != 0)
		return -1;
	if (leaf_end(r, 0) != 0)
		return -1;
	return r->pass == PASS_REWRITE ? out_flush(r) : 0;
}

/* ---- lifetime ---- */

static char *
dup_or_null(const char *s, int *bad)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*bad = 1;
	return d;
}

struct reencode *
reencode_new(const struct reencode_top *top, size_t line_max, size_t parts_max)
{
	struct reencode *r;
	int bad = 0;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->line_max = line_max > 0 ? line_max : 998;
	r->parts_max = parts_max > 0 ? parts_max : 500;
	r->dkim = top->dkim_signed;
	r->top_type = dup_or_null(top->content_type, &bad);
	r->top_cte = dup_or_null(top->cte, &bad);
	buf_init(&r->line, REENCODE_LINE_MAX);
	buf_init(&r->hdr, REENCODE_HEADER_MAX);
	buf_init(&r->out, OUT_FLUSH);
	if (bad || (r->mark = calloc(r->parts_max, 1)) == NULL ||
	    start_top(r) != 0) {
		reencode_free(r);
		return NULL;
	}
	return r;
}

/* Reset the walker to the start of the body. */
static int
start_top(struct reencode *r)
{
	char type[128], boundary[BOUNDARY_MAX + 1], cte[32];
	size_t k = 0;

	pop_to(r, 0);
	buf_reset(&r->line);
	buf_reset(&r->hdr);
	r->line_over = r->hdr_over = 0;
	r->nparts = 1;
	r->part = 0;
	r->held = 0;
	r->enc = 0;
	type[0] = boundary[0] = cte[0] = '\0';
	if (r->top_type != NULL)
		parse_ctype(r->top_type, strlen(r->top_type), type, sizeof(type),
		    boundary, sizeof(boundary));
	if (type[0] == '\0')
		strcpy(type, "text/plain");
	if (r->top_cte != NULL) {
		const char *v = r->top_cte;

		while (*v == ' ' || *v == '\t')
			v++;
		while (v[k] && k + 1 < sizeof(cte) && v[k] != ' ' && v[k] != '\t' &&
		    v[k] != ';' && v[k] != '(' && v[k] != '\r' && v[k] != '\n') {
			cte[k] = v[k];
			k++;
		}
		cte[k] = '\0';
	}
	return enter(r, type, boundary, cte[0] ? cte : NULL);
}

void
reencode_free(struct reencode *r)
{
	if (r == NULL)
		return;
	pop_to(r, 0);
	buf_fini(&r->line);
	buf_fini(&r->hdr);
	buf_fini(&r->out);
	free(r->mark);
	free(r->top_type);
	free(r->top_cte);
	free(r);
}

/* ---- passes ---- */

int
reencode_plan_feed(struct reencode *r, const char *p, size_t n)
{
	EGRESS_ASSERT(r->pass == 0 || r->pass == PASS_PLAN);
	r->pass = PASS_PLAN;
	return feed(r, p, n);
}

enum reencode_result
reencode_plan_finish(struct reencode *r)
{
	EGRESS_ASSERT(r->pass == 0 || r->pass == PASS_PLAN);
	r->pass = PASS_PLAN;
	if (finish(r) != 0)
		fail(r, REENCODE_LIMIT);
	if (!r->any_long)
		return REENCODE_NONE;
	if (r->dkim)
		return REENCODE_DKIM;
	if (r->signed_part)
		return REENCODE_SIGNED;
	if (r->err != REENCODE_NONE)
		return r->err;
	return r->nmarked > 0 ? REENCODE_OK : REENCODE_STRUCTURE;
}

int
reencode_rewrite_start(struct reencode *r, reencode_sink *sink, void *arg)
{
	EGRESS_ASSERT(r->pass == PASS_PLAN && sink != NULL);
	r->pass = PASS_REWRITE;
	r->sink = sink;
	r->arg = arg;
	return start_top(r);
}

int
reencode_rewrite_feed(struct reencode *r, const char *p, size_t n)
{
	EGRESS_ASSERT(r->pass == PASS_REWRITE);
	return feed(r, p, n) != 0 || r->sink_failed ? -1 : 0;
}

int
reencode_rewrite_finish(struct reencode *r)
{
	EGRESS_ASSERT(r->pass == PASS_REWRITE);
	return finish(r) != 0 || r->sink_failed ? -1 : 0;
}

const char *
reencode_top_cte(const struct reencode *r)
{
	return r->mark[0] == 'q' ? "quoted-printable" :
	    r->mark[0] == 'b' ? "base64" : NULL;
}

size_t
reencode_parts(const struct reencode *r)
{
	return r->nmarked;
}

const char *
reencode_result_text(enum reencode_result res)
{
	switch (res) {
	case REENCODE_NONE:	 return "no over-long line";
	case REENCODE_OK:	 return "repairable";
	case REENCODE_DKIM:	 return "the message is DKIM-signed";
	case REENCODE_SIGNED:	 return "the line is in a signed or encrypted part";
	case REENCODE_HEADER:	 return "the line is in a part header";
	case REENCODE_ENCODED:	 return "the line is in encoded content";
	case REENCODE_STRUCTURE: return "the line is outside any part";
	case REENCODE_LIMIT:	 return "the structure exceeds the repair limits";
	}
	return "unknown";
}
