/*
 * dsn - the bounce parser: its lifetime, its result, and the whole-message
 * convenience that files, egressctl and the fuzzers use.
 *
 * The parser is a mime_handler (dsn_collect.c). While the message streams it
 * keeps:
 *   - the top-level header fields it reads later (at most DSN_HEADERS_MAX,
 *     each cut at DSN_FIELD_MAX bytes);
 *   - the first Message-ID/From/Return-Path/To/Date seen in an enclosed
 *     part's header (the returned message);
 *   - the decoded text of text parts, message/delivery-status,
 *     message/global-delivery-status, message/feedback-report and
 *     text/rfc822-headers leaves, each up to text_limit bytes (the rest of a
 *     part is dropped: the useful text of a bounce comes first), for at most
 *     DSN_MAX_PARTS parts and DSN_TEXT_PARTS_BUDGET * text_limit bytes in
 *     all.
 * Nothing is decided until dsn_parser_result(), which runs once over what
 * was kept (dsn_build() in dsn_heuristics.c); its cost is linear in the kept
 * text.
 *
 * Decision order: a delivery-status part (RFC 3464, also when the report is
 * not wrapped in multipart/report, or when its fields sit in a text part),
 * then an ARF feedback report, then the human-readable bounce formats (only
 * when the message comes from a mailer daemon, the null sender, carries
 * X-Failed-Recipients, or says so in a marker line), then auto-replies.
 * Anything else is ordinary mail.
 *
 * Ownership: the report and all its strings belong to the parser (or, from
 * dsn_parse_bytes, to the caller through dsn_report_free). Not thread-safe:
 * one parser per message at a time.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "egress/classify.h"
#include "egress/dsn.h"
#include "egress/findings.h"
#include "egress/mime.h"

#include "dsn_int.h"

/* ---- utilities ---- */

char *
dsn_dup_n(const char *s, size_t n)
{
	char *d;

	if (n > DSN_FIELD_MAX)
		n = DSN_FIELD_MAX;
	if ((d = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *
dsn_dup_s(const char *s)
{
	return s ? dsn_dup_n(s, strlen(s)) : NULL;
}

char *
dsn_trim_dup(const char *s, size_t n)
{
	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	return dsn_dup_n(s, n);
}

int
dsn_streq_ci(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return 0;
	return *a == *b;
}

const char *
dsn_top_header(const struct dsn_parser *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->ntop; i++)
		if (dsn_streq_ci(p->top[i].name, name))
			return p->top[i].value;
	return NULL;
}

const char *
dsn_kind_name(enum dsn_kind k)
{
	switch (k) {
	case DSN_KIND_DSN:	 return "dsn";
	case DSN_KIND_FEEDBACK:	 return "feedback";
	case DSN_KIND_AUTOREPLY: return "autoreply";
	case DSN_KIND_DELIVERED: return "delivered";
	default:		 return "none";
	}
}

/* ---- report memory ---- */

static void
rcpt_fini(struct dsn_recipient *r)
{
	free(r->final_rcpt);
	free(r->orig_rcpt);
	free(r->action);
	free(r->status);
	free(r->remote_mta);
	free(r->diag);
}

static void
report_fini(struct dsn_report *rep)
{
	size_t i;

	for (i = 0; i < rep->nrcpts; i++)
		rcpt_fini(&rep->rcpts[i]);
	free(rep->rcpts);
	free(rep->reporting_mta);
	free(rep->date);
	free(rep->sender);
	free(rep->message_id);
	free(rep->subject);
	free(rep->feedback_type);
	memset(rep, 0, sizeof(*rep));
}

void
dsn_report_free(struct dsn_report *rep)
{
	if (rep == NULL)
		return;
	report_fini(rep);
	free(rep);
}

struct dsn_recipient *
dsn_rcpt_new(struct dsn_report *rep)
{
	struct dsn_recipient *nv;

	if (rep->nrcpts >= DSN_MAX_RECIPIENTS)
		return NULL;
	if ((nv = realloc(rep->rcpts, (rep->nrcpts + 1) * sizeof(*nv))) == NULL)
		return NULL;
	rep->rcpts = nv;
	memset(&nv[rep->nrcpts], 0, sizeof(*nv));
	return &nv[rep->nrcpts++];
}

/* ---- parser lifetime ---- */

struct dsn_parser *
dsn_parser_new(const struct classifier *cl, size_t text_limit)
{
	struct dsn_parser *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->cl = cl;
	p->text_limit = text_limit ? text_limit : DSN_TEXT_LIMIT;
	dsn_collect_init(p);
	return p;
}

void
dsn_parser_reset(struct dsn_parser *p)
{
	size_t i;

	for (i = 0; i < p->ntop; i++) {
		free(p->top[i].name);
		free(p->top[i].value);
	}
	p->ntop = 0;
	for (i = 0; i < p->nparts; i++)
		buf_fini(&p->parts[i].text);
	free(p->parts);
	p->parts = NULL;
	p->nparts = p->capparts = 0;
	p->kept = p->nkept = 0;
	free(p->top_type);
	free(p->top_report_type);
	free(p->ret_msgid);
	free(p->ret_from);
	free(p->ret_return_path);
	free(p->ret_to);
	free(p->env_from);
	free(p->env_rcpt);
	p->top_type = p->top_report_type = NULL;
	p->ret_msgid = p->ret_from = p->ret_return_path = p->ret_to = NULL;
	p->env_from = p->env_rcpt = NULL;
	p->oom = 0;
	p->stage_data = 0;
	p->stage_rcpt = 0;
	for (i = 0; i < p->ndata_addrs; i++)
		free(p->data_addrs[i]);
	p->ndata_addrs = 0;
	report_fini(&p->rep);
	p->built = 0;
}

void
dsn_parser_free(struct dsn_parser *p)
{
	if (p == NULL)
		return;
	dsn_parser_reset(p);
	free(p);
}

int
dsn_parser_set_envelope(struct dsn_parser *p, const char *mail_from,
    const char *rcpt_to)
{
	free(p->env_from);
	free(p->env_rcpt);
	p->env_from = p->env_rcpt = NULL;
	if (mail_from) {
		size_t n = strlen(mail_from);

		if (n >= 2 && mail_from[0] == '<' && mail_from[n - 1] == '>')
			p->env_from = dsn_dup_n(mail_from + 1, n - 2);
		else
			p->env_from = dsn_dup_s(mail_from);
		if (p->env_from == NULL)
			return -1;
	}
	/* an unusable address is simply unknown */
	if (rcpt_to)
		p->env_rcpt = dsn_addr_extract(rcpt_to, strlen(rcpt_to));
	return 0;
}

const struct mime_handler *
dsn_parser_handler(struct dsn_parser *p)
{
	return &p->h;
}

const struct dsn_report *
dsn_parser_result(struct dsn_parser *p)
{
	if (p->oom)
		return NULL;
	if (!p->built) {
		report_fini(&p->rep);
		if (dsn_build(p) < 0) {
			report_fini(&p->rep);
			return NULL;
		}
		p->built = 1;
	}
	return &p->rep;
}

/* ---- whole-message convenience ---- */

#define DSN_RAW_HEADER_MAX	(1024 * 1024)	/* header section of a file */

static void
default_limits(struct mime_limits *ml, size_t text_limit)
{
	ml->depth = 20;
	ml->parts = 1000;
	ml->boundary_length = 256;
	ml->part_header_bytes = 64 * 1024;
	ml->decoded_bytes = text_limit;
}

/*
 * Normalise line endings to LF (CRLF and lone CR alike), so the three
 * conventions give the same result. Returns a malloc'd copy.
 */
static char *
to_lf(const char *d, size_t n, size_t *outn)
{
	char *o = malloc(n + 1);
	size_t i, k = 0;

	if (o == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (d[i] == '\r') {
			o[k++] = '\n';
			if (i + 1 < n && d[i + 1] == '\n')
				i++;
		} else
			o[k++] = d[i];
	}
	o[k] = '\0';
	*outn = k;
	return o;
}

/* A multipart whose boundary never occurs is read as plain text. */
static int
put_header(struct mime_parser *mp, struct buf *name, struct buf *value,
    int force_text)
{
	if (force_text && dsn_streq_ci(buf_cstr(name), "Content-Type"))
		return mime_parser_header(mp, "Content-Type", "text/plain");
	return mime_parser_header(mp, buf_cstr(name), buf_cstr(value));
}

static int
parse_once(const struct classifier *cl, const char *d, size_t n,
    const char *envelope_from, size_t chunk, int force_text,
    struct dsn_report **out, int *no_parts)
{
	struct dsn_parser *p = NULL;
	struct mime_parser *mp = NULL;
	struct mime_limits ml;
	struct findings fs;
	struct buf name, value;
	const struct dsn_report *r;
	size_t i = 0;
	int rc = -1, have = 0;

	*out = NULL;
	*no_parts = 0;
	findings_init(&fs, 64);
	buf_init(&name, 1024);
	buf_init(&value, DSN_RAW_HEADER_MAX);
	if ((p = dsn_parser_new(cl, 0)) == NULL)
		goto out;
	if (envelope_from && dsn_parser_set_envelope(p, envelope_from, NULL) < 0)
		goto out;
	default_limits(&ml, p->text_limit);
	if ((mp = mime_parser_new(&ml, dsn_parser_handler(p), 1, &fs)) == NULL)
		goto out;
	/* mbox "From " line */
	if (n > 5 && memcmp(d, "From ", 5) == 0)
		while (i < n && d[i++] != '\n')
			;
	/* header section: unfold into "\n"-joined values as an MTA delivers */
	while (i < n) {
		size_t b = i, e, c;

		while (i < n && d[i] != '\n')
			i++;
		e = i;
		if (i < n)
			i++;
		if (e == b)
			break;		/* end of header */
		if ((d[b] == ' ' || d[b] == '\t') && have) {
			if (buf_putc(&value, '\n') == BUF_ERR_NOMEM ||
			    buf_append(&value, d + b, e - b) == BUF_ERR_NOMEM)
				goto out;
			continue;
		}
		if (have && put_header(mp, &name, &value, force_text) != 0)
			goto out;
		have = 0;
		for (c = b; c < e && d[c] != ':'; c++)
			;
		if (c == e || c == b) {
			/* not a field: a body without a header section? */
			if (b == 0) {
				i = 0;
				break;
			}
			continue;
		}
		buf_reset(&name);
		buf_reset(&value);
		if (buf_append(&name, d + b, c - b) == BUF_ERR_NOMEM)
			goto out;
		while (name.len > 0 && (name.data[name.len - 1] == ' ' ||
		    name.data[name.len - 1] == '\t'))
			name.data[--name.len] = '\0';
		c++;
		while (c < e && (d[c] == ' ' || d[c] == '\t'))
			c++;
		if (buf_append(&value, d + c, e - c) == BUF_ERR_NOMEM)
			goto out;
		have = 1;
	}
	if (have && put_header(mp, &name, &value, force_text) != 0)
		goto out;
	if (mime_parser_eoh(mp) != 0)
		goto out;
	if (chunk == 0)
		chunk = n - i > 0 ? n - i : 1;
	while (i < n) {
		size_t k = n - i < chunk ? n - i : chunk;

		if (mime_parser_body(mp, d + i, k) != 0)
			goto out;
		i += k;
	}
	if (mime_parser_finish(mp) != 0)
		goto out;
	if ((r = dsn_parser_result(p)) == NULL)
		goto out;
	*no_parts = p->top_type && strncmp(p->top_type, "multipart/", 10) == 0 &&
	    p->nparts <= 1;
	if ((*out = calloc(1, sizeof(**out))) == NULL)
		goto out;
	/* move the report out of the parser */
	**out = *r;
	memset(&p->rep, 0, sizeof(p->rep));
	rc = 0;
out:
	mime_parser_free(mp);
	dsn_parser_free(p);
	buf_fini(&name);
	buf_fini(&value);
	findings_fini(&fs);
	return rc;
}


int
dsn_parse_bytes(const struct classifier *cl, const char *data, size_t len,
    const char *envelope_from, size_t chunk, struct dsn_report **out)
{
	char *d;
	size_t n;
	int rc, no_parts = 0;

	*out = NULL;
	if ((d = to_lf(data, len, &n)) == NULL)
		return -1;
	rc = parse_once(cl, d, n, envelope_from, chunk, 0, out, &no_parts);
	/*
	 * A report whose boundary is missing from the body (broken
	 * generators, careless anonymisation) is still worth reading.
	 */
	if (rc == 0 && no_parts && ((*out)->kind == DSN_KIND_NONE ||
	    ((*out)->nrcpts == 1 && (*out)->rcpts[0].diag == NULL &&
	    (*out)->rcpts[0].status == NULL))) {
		struct dsn_report *again = NULL;

		if (parse_once(cl, d, n, envelope_from, chunk, 1, &again,
		    &no_parts) == 0 && again->kind != DSN_KIND_NONE) {
			dsn_report_free(*out);
			*out = again;
		} else
			dsn_report_free(again);
	}
	free(d);
	return rc;
}

/* ---- output ---- */

/* Header-safe copy of a short token: printable ASCII only. */
static int
put_escaped_hdr(struct buf *out, const char *s)
{
	int rc = BUF_OK;

	for (; *s && rc == BUF_OK; s++)
		if (*s > 32 && *s < 127 && *s != ';')
			rc = buf_putc(out, *s);
	return rc;
}

/* Length of a well-formed UTF-8 sequence at p, or 0. */
static size_t
utf8_seq(const unsigned char *p)
{
	size_t n, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

int
json_put_string(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	int rc;

	if (s == NULL)
		return buf_puts(out, "null");
	if ((rc = buf_putc(out, '"')) != BUF_OK)
		return rc;
	while (*u) {
		char esc[7];
		size_t n;

		if (*u >= 0x80 && (n = utf8_seq(u)) > 0) {
			/* well-formed UTF-8 passes through */
			if ((rc = buf_append(out, u, n)) != BUF_OK)
				return rc;
			u += n;
			continue;
		}
		if (*u == '"' || *u == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*u;
			esc[2] = '\0';
		} else if (*u == '\n') {
			memcpy(esc, "\\n", 3);
		} else if (*u == '\t') {
			memcpy(esc, "\\t", 3);
		} else if (*u < 0x20 || *u >= 0x7f) {
			/* control bytes and stray 8-bit bytes: \u00XX */
			esc[0] = '\\';
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[*u >> 4];
			esc[5] = hex[*u & 15];
			esc[6] = '\0';
		} else {
			esc[0] = (char)*u;
			esc[1] = '\0';
		}
		if ((rc = buf_puts(out, esc)) != BUF_OK)
			return rc;
		u++;
	}
	return buf_putc(out, '"');
}

/* "reason=blocked; category=reputation; status=5.7.1" for a header. */
int
dsn_format_header(struct buf *out, const struct dsn_report *rep)
{
	const struct dsn_recipient *r = rep->nrcpts ? &rep->rcpts[0] : NULL;
	int rc;

	if ((rc = buf_printf(out, "kind=%s; reason=%s; category=%s",
	    dsn_kind_name(rep->kind), r ? r->cls.reason : "none",
	    r && r->cls.category ? r->cls.category : "none")) != BUF_OK)
		return rc;
	if (r && r->status && r->status[0] &&
	    (rc = buf_puts(out, "; status=")) == BUF_OK)
		rc = put_escaped_hdr(out, r->status);
	if (rc == BUF_OK && rep->nrcpts > 1)
		rc = buf_printf(out, "; recipients=%zu", rep->nrcpts);
	return rc;
}

#define DSN_LOG_DIAG_MAX	512	/* diagnostic bytes in a log line */

static int
put_escaped(struct buf *out, const char *s, size_t limit)
{
	if (s == NULL)
		return BUF_OK;
	return log_escape(out, s, strlen(s), limit);
}

int
dsn_format_log(struct buf *out, const struct dsn_report *rep, size_t idx)
{
	const struct dsn_recipient *r = idx < rep->nrcpts ? &rep->rcpts[idx] : NULL;
	char reply[16] = "";
	int rc;

	if (r && r->reply_code)
		snprintf(reply, sizeof(reply), "%d", r->reply_code);
	if ((rc = buf_puts(out, rep->kind == DSN_KIND_DSN ? (r && r->action &&
	    dsn_has_prefix_ci(r->action, "delayed") ? "defer sender=<" :
	    "bounce sender=<") :
	    rep->kind == DSN_KIND_FEEDBACK ? "feedback sender=<" :
	    rep->kind == DSN_KIND_AUTOREPLY ? "autoreply sender=<" :
	    rep->kind == DSN_KIND_DELIVERED ? "delivered sender=<" :
	    "notbounce sender=<")) != BUF_OK ||
	    (rc = put_escaped(out, rep->sender ? rep->sender : "?", 320)) != BUF_OK ||
	    (rc = buf_puts(out, "> rcpt=<")) != BUF_OK ||
	    (rc = put_escaped(out, r ? r->final_rcpt : NULL, 320)) != BUF_OK ||
	    (rc = buf_puts(out, "> status=")) != BUF_OK ||
	    (rc = put_escaped(out, r && r->status && r->status[0] ? r->status :
	    "-", 16)) != BUF_OK ||
	    (rc = buf_printf(out, " reply=%s reason=%s category=%s remote=",
	    reply[0] ? reply : "-", r ? r->cls.reason : "none",
	    r && r->cls.category ? r->cls.category : "none")) != BUF_OK ||
	    (rc = put_escaped(out, r && r->remote_mta ? r->remote_mta : "-",
	    256)) != BUF_OK ||
	    (rc = buf_puts(out, " diag=\"")) != BUF_OK ||
	    (rc = put_escaped(out, r && r->diag ? r->diag : "",
	    DSN_LOG_DIAG_MAX)) != BUF_OK)
		return rc;
	return buf_putc(out, '"');
}

int
dsn_format_json(struct buf *out, const struct dsn_report *rep, size_t idx,
    const char *file)
{
	const struct dsn_recipient *r = idx < rep->nrcpts ? &rep->rcpts[idx] : NULL;
	const char *reason = r ? r->cls.reason : "none";
	const char *cat = r && r->cls.category ? r->cls.category : NULL;
	int rc;

	if (rep->kind == DSN_KIND_NONE) {
		reason = "none";
		cat = NULL;
	}
	if ((rc = buf_putc(out, '{')) != BUF_OK)
		return rc;
	if (file && ((rc = buf_puts(out, "\"file\":")) != BUF_OK ||
	    (rc = json_put_string(out, file)) != BUF_OK ||
	    (rc = buf_putc(out, ',')) != BUF_OK))
		return rc;
	if ((rc = buf_printf(out, "\"rcpt_index\":%zu,\"kind\":", idx)) != BUF_OK ||
	    (rc = json_put_string(out, dsn_kind_name(rep->kind))) != BUF_OK ||
	    (rc = buf_puts(out, ",\"format\":")) != BUF_OK ||
	    (rc = json_put_string(out, rep->format)) != BUF_OK ||
	    (rc = buf_puts(out, ",\"recipient\":")) != BUF_OK ||
	    (rc = json_put_string(out, r ? r->final_rcpt : NULL)) != BUF_OK ||
	    (rc = buf_puts(out, ",\"original_recipient\":")) != BUF_OK ||
	    (rc = json_put_string(out, r ? r->orig_rcpt : NULL)) != BUF_OK ||
	    (rc = buf_puts(out, ",\"action\":")) != BUF_OK ||
	    (rc = json_put_string(out, r ? r->action : NULL)) != BUF_OK ||
	    (rc = buf_puts(out, ",\"status\":")) != BUF_OK ||
	    (rc = json_put_string(out, r && r->status && r->status[0] ?
	    r->status : NULL)) != BUF_OK)
		return rc;
	if (r && r->reply_code)
		rc = buf_printf(out, ",\"reply_code\":%d", r->reply_code);
	else
		rc = buf_puts(out, ",\"reply_code\":null");
	if (rc != BUF_OK ||
	    (rc = buf_puts(out, ",\"reason\":")) != BUF_OK ||
	    (rc = json_put_string(out, reason)) != BUF_OK ||
	    (rc = buf_puts(out, ",\"category\":")) != BUF_OK ||
	    (rc = json_put_string(out, cat)) != BUF_OK ||
	    (rc = buf_printf(out, ",\"hard\":%s", r && r->cls.hard ? "true" :
	    "false")) != BUF_OK ||
	    (rc = buf_puts(out, ",\"remote_mta\":")) != BUF_OK ||
	    (rc = json_put_string(out, r ? r->remote_mta : NULL)) != BUF_OK ||
	    (rc = buf_puts(out, ",\"diagnostic\":")) != BUF_OK ||
	    (rc = json_put_string(out, r ? r->diag : NULL)) != BUF_OK ||
	    (rc = buf_puts(out, ",\"sender\":")) != BUF_OK ||
	    (rc = json_put_string(out, rep->sender)) != BUF_OK ||
	    (rc = buf_puts(out, ",\"message_id\":")) != BUF_OK ||
	    (rc = json_put_string(out, rep->message_id)) != BUF_OK ||
	    (rc = buf_puts(out, ",\"reporting_mta\":")) != BUF_OK ||
	    (rc = json_put_string(out, rep->reporting_mta)) != BUF_OK ||
	    (rc = buf_puts(out, ",\"date\":")) != BUF_OK ||
	    (rc = json_put_string(out, rep->date)) != BUF_OK)
		return rc;
	if (rep->feedback_type && ((rc = buf_puts(out, ",\"feedback_type\":")) != BUF_OK ||
	    (rc = json_put_string(out, rep->feedback_type)) != BUF_OK))
		return rc;
	return buf_putc(out, '}');
}
