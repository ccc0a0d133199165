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
#include <stddef.h>
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

/*
 * The notice's Subject without the tags a receiving gateway puts before
 * it ("[EXTERNAL] ", "[SPAM] [Ext] "): bracketed words of up to
 * DSN_SUBJECT_TAG_MAX bytes at its start, with the blanks around them.
 * What the sender wrote is the rest; NULL when there is no Subject.
 */
#define DSN_SUBJECT_TAG_MAX	40

const char *
dsn_subject(const struct dsn_parser *p)
{
	const char *s = dsn_top_header(p, "Subject"), *e;

	if (s == NULL)
		return NULL;
	for (;;) {
		s += strspn(s, " \t");
		if (*s != '[' || (e = strchr(s, ']')) == NULL ||
		    e - s > DSN_SUBJECT_TAG_MAX || memchr(s + 1, '[',
		    (size_t)(e - s - 1)) != NULL || e[1] == '\0')
			return s;
		s = e + 1;
	}
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

const char *
dsn_provenance_name(enum dsn_provenance v)
{
	switch (v) {
	case DSN_PROV_REPORT:		return "report";
	case DSN_PROV_HEADER:		return "header";
	case DSN_PROV_REASON:		return "reason";
	case DSN_PROV_LABELLED:		return "labelled";
	case DSN_PROV_TRANSCRIPT:	return "transcript";
	case DSN_PROV_RETURNED:		return "returned";
	default:			return "none";
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
	free(rep->returned_message_id);
	free(rep->queue_id);
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

	/* top[] (4 KB) is written before it is read: not cleared */
	if ((p = malloc(sizeof(*p))) == NULL)
		return NULL;
	memset(p, 0, offsetof(struct dsn_parser, top));
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
	p->stage_data_text = 0;
	for (i = 0; i < p->ndata_addrs; i++)
		free(p->data_addrs[i]);
	p->ndata_addrs = 0;
	for (i = 0; i < p->nlist_addrs; i++)
		free(p->list_addrs[i]);
	p->nlist_addrs = 0;
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
	size_t i = 0, k = 0;

	if (o == NULL)
		return NULL;
	/* the runs between CRs are copied whole */
	while (i < n) {
		const char *cr = memchr(d + i, '\r', n - i);
		size_t run = cr ? (size_t)(cr - (d + i)) : n - i;

		memcpy(o + k, d + i, run);
		k += run;
		i += run;
		if (i == n)
			break;
		o[k++] = '\n';
		i++;
		if (i < n && d[i] == '\n')
			i++;
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
		const char *nl = memchr(d + i, '\n', n - i);

		i = nl ? (size_t)(nl - d) : n;
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
		{
			const char *colon = memchr(d + b, ':', e - b);

			c = colon ? (size_t)(colon - d) : e;
		}
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
