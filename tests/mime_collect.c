/*
 * mime_collect.c - test-only dump handler and message feeder for the MIME
 * parser (see mime_collect.h). Not linked into the daemon.
 */
#include <stdio.h>
#include <string.h>

#include "egress/buf.h"
#include "egress/findings.h"
#include "egress/mime.h"
#include "mime_collect.h"

#define MT_VALUE_SHOWN	120

void
mt_collect_init(struct mt_collect *c, int headers)
{
	memset(c, 0, sizeof(*c));
	buf_init(&c->out, 0);
	buf_init(&c->shown, MT_DATA_SHOWN);
	c->headers = headers;
}

void
mt_collect_fini(struct mt_collect *c)
{
	buf_fini(&c->out);
	buf_fini(&c->shown);
}

static int
put_str(struct buf *b, const char *label, const char *s)
{
	if (s == NULL)
		return 0;
	if (buf_printf(b, " %s=\"", label) != BUF_OK ||
	    log_escape(b, s, strlen(s), MT_VALUE_SHOWN) != BUF_OK ||
	    buf_putc(b, '"') != BUF_OK)
		return -1;
	return 0;
}

static int
on_header(void *ctx, const struct mime_part_info *in, const char *name,
    const char *value)
{
	struct mt_collect *c = ctx;

	if (!c->headers)
		return 0;
	if (buf_printf(&c->out, "header %u ", in->id) != BUF_OK ||
	    log_escape(&c->out, name, strlen(name), 60) != BUF_OK ||
	    buf_puts(&c->out, ": ") != BUF_OK ||
	    log_escape(&c->out, value, strlen(value), MT_VALUE_SHOWN) !=
	    BUF_OK || buf_putc(&c->out, '\n') != BUF_OK)
		return -1;
	return 0;
}

static int
on_begin(void *ctx, const struct mime_part_info *in)
{
	struct mt_collect *c = ctx;
	struct buf *b = &c->out;

	if (buf_printf(b, "begin %u parent=%u depth=%u type=%s cte=%s",
	    in->id, in->parent, in->depth, in->type, in->cte) != BUF_OK ||
	    put_str(b, "charset", in->charset) != 0 ||
	    put_str(b, "boundary", in->boundary) != 0 ||
	    put_str(b, "disposition", in->disposition) != 0 ||
	    put_str(b, "filename", in->filename) != 0 ||
	    put_str(b, "report_type", in->report_type) != 0 ||
	    buf_printf(b, "%s%s%s\n", in->is_multipart ? " multipart" : "",
	    in->is_message ? " message" : "",
	    in->is_opaque ? " opaque" : "") != BUF_OK)
		return -1;
	c->hash = 1469598103934665603ULL;
	c->delivered = 0;
	buf_reset(&c->shown);
	return 0;
}

static int
on_data(void *ctx, const struct mime_part_info *in, const char *p, size_t n)
{
	struct mt_collect *c = ctx;
	size_t i, room;

	(void)in;
	for (i = 0; i < n; i++) {
		c->hash ^= (unsigned char)p[i];
		c->hash *= 1099511628211ULL;
	}
	c->delivered += n;
	room = c->shown.max - c->shown.len;
	if (buf_append(&c->shown, p, n < room ? n : room) != BUF_OK)
		return -1;
	return 0;
}

static int
on_end(void *ctx, const struct mime_part_info *in)
{
	struct mt_collect *c = ctx;
	struct buf *b = &c->out;

	if (in->is_multipart || in->is_message)
		return buf_printf(b, "end %u\n", in->id) == BUF_OK ? 0 : -1;
	if (buf_printf(b, "end %u size=%zu delivered=%zu fnv=%016llx data=\"",
	    in->id, in->decoded_size, c->delivered, c->hash) != BUF_OK ||
	    log_escape(b, buf_cstr(&c->shown), c->shown.len, MT_DATA_SHOWN) !=
	    BUF_OK || buf_puts(b, "\"\n") != BUF_OK)
		return -1;
	return 0;
}

struct mime_handler
mt_collect_handler(struct mt_collect *c)
{
	struct mime_handler h;

	memset(&h, 0, sizeof(h));
	h.ctx = c;
	h.header = on_header;
	h.part_begin = on_begin;
	h.part_data = on_data;
	h.part_end = on_end;
	return h;
}

int
mt_collect_findings(struct mt_collect *c, const struct findings *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (buf_printf(&c->out, "finding %s \"%s\"\n", f->v[i].id,
		    f->v[i].detail) != BUF_OK)
			return -1;
	return 0;
}

/* Length of the line at p (up to and including its LF). */
static size_t
line_len(const char *p, const char *e)
{
	const char *nl = memchr(p, '\n', (size_t)(e - p));

	return nl ? (size_t)(nl - p) + 1 : (size_t)(e - p);
}

static int
is_blank(const char *p, size_t n)
{
	return (n == 1 && p[0] == '\n') || (n == 2 && p[0] == '\r' &&
	    p[1] == '\n') || n == 0;
}

/* Hand one field (name: raw value with its folds) to the parser. */
static int
feed_field(struct mime_parser *mp, const char *f, size_t n)
{
	struct buf name, value;
	const char *colon = memchr(f, ':', n);
	size_t k;
	int rc = -1;

	buf_init(&name, 0);
	buf_init(&value, 0);
	/* Drop the final line end; inner folds stay as the MTA sends them. */
	while (n > 0 && (f[n - 1] == '\n' || f[n - 1] == '\r'))
		n--;
	k = (size_t)(colon - f);
	while (k > 0 && (f[k - 1] == ' ' || f[k - 1] == '\t'))
		k--;
	if (buf_append(&name, f, k) == BUF_OK &&
	    buf_append(&value, colon + 1, n - (size_t)(colon + 1 - f)) ==
	    BUF_OK)
		rc = mime_parser_header(mp, buf_cstr(&name), buf_cstr(&value));
	buf_fini(&name);
	buf_fini(&value);
	return rc;
}

int
mt_feed(struct mime_parser *mp, const char *msg, size_t len, size_t chunk,
    const size_t *chunks, size_t nchunks)
{
	const char *p = msg, *e = msg + len, *fs = NULL;
	size_t n, k, ci = 0;

	/* An mbox "From " line before the header section. */
	if (len >= 5 && memcmp(p, "From ", 5) == 0)
		p += line_len(p, e);
	while (p < e) {
		n = line_len(p, e);
		if (fs != NULL && (p[0] == ' ' || p[0] == '\t')) {
			p += n;
			continue;
		}
		if (fs != NULL && feed_field(mp, fs, (size_t)(p - fs)) != 0)
			return -1;
		fs = NULL;
		if (is_blank(p, n)) {
			p += n;
			break;
		}
		if (memchr(p, ':', n) == NULL)
			break;		/* not a field: the body starts here */
		fs = p;
		p += n;
	}
	if (fs != NULL && feed_field(mp, fs, (size_t)(p - fs)) != 0)
		return -1;
	if (mime_parser_eoh(mp) != 0)
		return -1;
	while (p < e) {
		k = (size_t)(e - p);
		if (chunks != NULL && nchunks > 0) {
			n = chunks[ci++ % nchunks];
			if (n > 0 && n < k)
				k = n;
		} else if (chunk > 0 && chunk < k)
			k = chunk;
		if (mime_parser_body(mp, p, k) != 0)
			return -1;
		p += k;
	}
	return mime_parser_finish(mp);
}

int
mt_dump(struct buf *out, const char *msg, size_t len,
    const struct mime_limits *lim, size_t chunk, int headers)
{
	struct mt_collect c;
	struct mime_handler h;
	struct findings f;
	struct mime_parser *mp;
	int rc = -1;

	mt_collect_init(&c, headers);
	findings_init(&f, 0);
	h = mt_collect_handler(&c);
	if ((mp = mime_parser_new(lim, &h, 1, &f)) != NULL &&
	    mt_feed(mp, msg, len, chunk, NULL, 0) == 0 &&
	    mt_collect_findings(&c, &f) == 0 &&
	    buf_append(out, c.out.data ? c.out.data : "", c.out.len) == BUF_OK)
		rc = 0;
	mime_parser_free(mp);
	findings_fini(&f);
	mt_collect_fini(&c);
	return rc;
}
