/*
 * dsn_collect - the bounce parser's MIME event handlers.
 *
 * They gather, as the message streams, what dsn_build() reads later: the
 * top-level fields named in h_header() (at most DSN_HEADERS_MAX), the first
 * Message-ID/From/Return-Path/To of the returned message, the type and
 * ancestry of every part (at most DSN_PART_META_MAX), and the decoded text
 * of the parts worth reading: up to text_limit bytes per part, DSN_MAX_PARTS
 * parts and DSN_TEXT_PARTS_BUDGET * text_limit bytes per message. The rest
 * is dropped, never buffered. A text part inside the returned message is
 * the original's, not the bounce's, and is not kept.
 *
 * A handler fails only when out of memory (p->oom is then set). All memory
 * belongs to the parser and goes with dsn_parser_reset().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "egress/buf.h"
#include "egress/dsn.h"
#include "egress/mime.h"

#include "dsn_int.h"

/* ---- MIME callbacks ---- */

static struct dsn_part *
part_find(struct dsn_parser *p, unsigned id)
{
	size_t i;

	/* parts arrive in document order: search from the end */
	for (i = p->nparts; i > 0; i--)
		if (p->parts[i - 1].id == id)
			return &p->parts[i - 1];
	return NULL;
}

static int
keep_type(const char *t)
{
	return strncmp(t, "text/", 5) == 0 ||
	    strcmp(t, "message/delivery-status") == 0 ||
	    strcmp(t, "message/global-delivery-status") == 0 ||
	    strcmp(t, "message/feedback-report") == 0 ||
	    strcmp(t, "message/global-headers") == 0 ||
	    strcmp(t, "message/disposition-notification") == 0;
}

static int
h_header(void *ctx, const struct mime_part_info *info, const char *name,
    const char *value)
{
	struct dsn_parser *p = ctx;
	char **slot = NULL;

	if (info->id == 0) {
		static const char *const wanted[] = { "From", "To", "Subject",
		    "Date", "Auto-Submitted", "X-Autoreply", "X-Autorespond",
		    "X-Autoresponder", "X-Vacation", "Precedence",
		    "X-Failed-Recipients", "Content-Type", "List-Id",
		    "List-Unsubscribe", "Return-Path", NULL };
		size_t w;

		if (dsn_note_list_field(p, name, value, 0) < 0) {
			p->oom = 1;
			return -1;
		}
		/* only the fields read later: a long Received chain costs nothing */
		/* a first letter that differs (not by case alone) is no match */
		for (w = 0; wanted[w] && (((name[0] ^ wanted[w][0]) & ~0x20) != 0 ||
		    !dsn_streq_ci(name, wanted[w])); w++)
			;
		if (wanted[w] == NULL || p->ntop >= DSN_HEADERS_MAX)
			return 0;
		{
			/* the notice's own fields, read as UTF-8 */
			struct buf u;

			buf_init(&u, DSN_FIELD_MAX);
			if (dsn_words_to_utf8(&u, value) == BUF_ERR_NOMEM) {
				buf_fini(&u);
				p->oom = 1;
				return -1;
			}
			p->top[p->ntop].value = buf_steal(&u);
			buf_fini(&u);
		}
		if (p->top[p->ntop].value == NULL)
			p->top[p->ntop].value = dsn_dup_s("");
		if ((p->top[p->ntop].name = dsn_dup_s(name)) == NULL ||
		    p->top[p->ntop].value == NULL) {
			free(p->top[p->ntop].value);
			p->top[p->ntop].value = NULL;
			free(p->top[p->ntop].name);
			p->top[p->ntop].name = NULL;
			p->oom = 1;
			return -1;
		}
		p->ntop++;
		return 0;
	}
	if (dsn_streq_ci(name, "Message-ID"))
		slot = &p->ret_msgid;
	else if (dsn_streq_ci(name, "From"))
		slot = &p->ret_from;
	else if (dsn_streq_ci(name, "Return-Path"))
		slot = &p->ret_return_path;
	else if (dsn_streq_ci(name, "To"))
		slot = &p->ret_to;
	else if (dsn_note_list_field(p, name, value, 1) < 0) {
		p->oom = 1;
		return -1;
	}
	if (slot && *slot == NULL && (*slot = dsn_trim_dup(value, strlen(value))) == NULL) {
		p->oom = 1;
		return -1;
	}
	return 0;
}

static int
h_part_begin(void *ctx, const struct mime_part_info *info)
{
	struct dsn_parser *p = ctx;
	struct dsn_part *pt, *parent;
	const char *type = info->type ? info->type : "text/plain";

	if (info->id == 0) {
		free(p->top_type);
		free(p->top_report_type);
		p->top_type = dsn_dup_s(type);
		p->top_report_type = info->report_type ? dsn_dup_s(info->report_type) : NULL;
		if (p->top_type == NULL ||
		    (info->report_type && p->top_report_type == NULL)) {
			p->oom = 1;
			return -1;
		}
	}
	if (p->nparts >= DSN_PART_META_MAX)
		return 0;
	if (p->nparts == p->capparts) {
		size_t ncap = p->capparts ? p->capparts * 2 : 16;
		struct dsn_part *nv = realloc(p->parts, ncap * sizeof(*nv));

		if (nv == NULL) {
			p->oom = 1;
			return -1;
		}
		p->parts = nv;
		p->capparts = ncap;
	}
	parent = info->id ? part_find(p, info->parent) : NULL;
	pt = &p->parts[p->nparts++];
	memset(pt, 0, sizeof(*pt));
	pt->id = info->id;
	pt->parent = info->parent;
	snprintf(pt->type, sizeof(pt->type), "%s", type);
	snprintf(pt->charset, sizeof(pt->charset), "%s",
	    info->charset ? info->charset : "");
	pt->is_message = info->is_message;
	pt->attached = info->disposition != NULL &&
	    strcmp(info->disposition, "attachment") == 0;
	pt->enclosed = parent ? (parent->is_message || parent->enclosed) : 0;
	/* a text part inside the returned message is not the bounce's text */
	pt->keep = !info->is_multipart && !info->is_message && keep_type(pt->type) &&
	    (!pt->enclosed || strcmp(pt->type, "text/rfc822-headers") == 0);
	/* a multipart whose boundary was lost arrives as opaque data: read it */
	if (info->is_opaque && strncmp(pt->type, "multipart/", 10) == 0 &&
	    !pt->enclosed) {
		pt->keep = 1;
		snprintf(pt->type, sizeof(pt->type), "text/plain");
	}
	if (pt->keep && p->nkept++ >= DSN_MAX_PARTS)
		pt->keep = 0;
	buf_init(&pt->text, p->text_limit);
	return 0;
}

static int
h_part_data(void *ctx, const struct mime_part_info *info, const char *data,
    size_t n)
{
	struct dsn_parser *p = ctx;
	struct dsn_part *pt = part_find(p, info->id);
	size_t room;

	if (pt == NULL || !pt->keep)
		return 0;
	room = p->text_limit - pt->text.len;
	if (n > room)
		n = room;
	/* and the whole message's budget */
	if (n > DSN_TEXT_PARTS_BUDGET * p->text_limit - p->kept)
		n = DSN_TEXT_PARTS_BUDGET * p->text_limit - p->kept;
	if (n == 0)
		return 0;
	if (buf_append(&pt->text, data, n) == BUF_ERR_NOMEM) {
		p->oom = 1;
		return -1;
	}
	p->kept += n;
	return 0;
}

static int
h_part_end(void *ctx, const struct mime_part_info *info)
{
	(void)ctx;
	(void)info;
	return 0;
}

void
dsn_collect_init(struct dsn_parser *p)
{
	p->h.ctx = p;
	p->h.header = h_header;
	p->h.part_begin = h_part_begin;
	p->h.part_data = h_part_data;
	p->h.part_end = h_part_end;
}

/* ---- the report's text ---- */

/* An HTML character reference at s ("&lt;", "&#64;", "&#x40;"): its UTF-8. */
static size_t
html_entity(const char *s, size_t n, char out[8], size_t *outn)
{
	static const struct {
		const char	*name;
		const char	*utf8;
	} named[] = {
		{ "lt", "<" }, { "gt", ">" }, { "amp", "&" }, { "quot", "\"" },
		{ "apos", "'" }, { "nbsp", " " }, { "#160", " " },
	};
	size_t i, e;
	unsigned long cp = 0;

	for (e = 1; e < n && e < 12 && s[e] != ';'; e++)
		;
	if (e >= n || s[e] != ';' || e == 1)
		return 0;
	for (i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (strlen(named[i].name) == e - 1 &&
		    dsn_has_prefix_ci(s + 1, named[i].name)) {
			*outn = strlen(named[i].utf8);
			memcpy(out, named[i].utf8, *outn);
			return e + 1;
		}
	if (s[1] != '#')
		return 0;
	if (s[2] == 'x' || s[2] == 'X')
		cp = strtoul(s + 3, NULL, 16);
	else
		cp = strtoul(s + 2, NULL, 10);
	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	if (cp < 0x20 || cp == 0x7f)
		cp = ' ';
	if (cp < 0x80) {
		out[0] = (char)cp;
		*outn = 1;
	} else if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		*outn = 2;
	} else if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		*outn = 3;
	} else {
		out[0] = (char)(0xf0 | (cp >> 18));
		out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[3] = (char)(0x80 | (cp & 0x3f));
		*outn = 4;
	}
	return e + 1;
}

/*
 * The words of an HTML part: tags dropped (<br> and block-level ones end
 * a line, so a closing and an opening one leave a blank line between two
 * paragraphs; line breaks of the source are blanks),
 * the content of <style>, <script> and <head> dropped, character
 * references decoded. Linear in n.
 */
static int
html_text(struct buf *out, const char *s, size_t n)
{
	static const char *const breaks[] = { "<br", "<p", "</p", "<div",
	    "</div", "<tr", "</tr", "<li", "</li", "<table", "</table",
	    "<h1", "<h2", "<h3", "</h1", "</h2", "</h3", NULL };
	size_t k = 0;

	while (k < n) {
		if (s[k] == '<') {
			const char *skip_to = NULL;
			const char *gt;
			size_t b;

			for (b = 0; breaks[b]; b++)
				if (dsn_has_prefix_ci(s + k, breaks[b]) &&
				    k + strlen(breaks[b]) < n &&
				    strchr(" >/\t\r\n", s[k + strlen(breaks[b])]))
					break;
			if (breaks[b] && buf_putc(out, '\n') == BUF_ERR_NOMEM)
				return BUF_ERR_NOMEM;
			if (dsn_has_prefix_ci(s + k, "<style"))
				skip_to = "</style";
			else if (dsn_has_prefix_ci(s + k, "<script"))
				skip_to = "</script";
			else if (dsn_has_prefix_ci(s + k, "<head"))
				skip_to = "</head";
			if (skip_to) {
				const char *end = dsn_memstr_ci(s + k, n - k, skip_to);

				k = end ? (size_t)(end - s) : n;
			}
			gt = k < n ? memchr(s + k, '>', n - k) : NULL;
			k = gt ? (size_t)(gt - s) + 1 : n;
			continue;
		}
		if (s[k] == '&') {
			char u[8];
			size_t un = 0, used = html_entity(s + k, n - k, u, &un);

			if (used > 0) {
				if (buf_append(out, u, un) == BUF_ERR_NOMEM)
					return BUF_ERR_NOMEM;
				k += used;
				continue;
			}
		}
		/*
		 * Line breaks in the source are blanks: the tags make lines.
		 * One right after a tag's line break ("<br>\n  text") opens no
		 * blank: the line keeps the indentation it has.
		 */
		if ((s[k] == '\n' || s[k] == '\r') && out->len > 0 &&
		    out->data[out->len - 1] == '\n') {
			k++;
			continue;
		}
		if (buf_putc(out, s[k] == '\n' || s[k] == '\r' || s[k] == '\t' ?
		    ' ' : s[k]) == BUF_ERR_NOMEM)
			return BUF_ERR_NOMEM;
		k++;
	}
	return BUF_OK;
}

/* Has part pt a kept plain-text sibling in a multipart/alternative? */
static int
plain_alternative(struct dsn_parser *p, const struct dsn_part *pt)
{
	const struct dsn_part *up = part_find(p, pt->parent);
	size_t i;

	if (up == NULL || pt->id == 0 ||
	    strcmp(up->type, "multipart/alternative") != 0)
		return 0;
	for (i = 0; i < p->nparts; i++)
		if (p->parts[i].parent == pt->parent && p->parts[i].id != 0 &&
		    p->parts[i].keep && strcmp(p->parts[i].type, "text/plain") == 0)
			return 1;
	return 0;
}

/*
 * Is part pt a notice's own text in plain form: kept, not enclosed, not an
 * attachment, and saying something of a delivery (a plain part that says
 * nothing, a gateway's banner, "This is a multi-part message in MIME
 * format.", leaves an HTML notice after it in).
 */
static int
plain_notice(const struct dsn_part *pt)
{
	return pt->keep && !pt->enclosed && !pt->attached &&
	    strcmp(pt->type, "text/plain") == 0 &&
	    dsn_says_delivery(buf_cstr(&pt->text), pt->text.len);
}

/*
 * The human-readable text of the report: kept text parts, not enclosed,
 * each followed by a line of DSN_PART_BREAK alone.
 */
int
dsn_main_text(struct dsn_parser *p, struct buf *out)
{
	static const char part_end[] = { '\n', DSN_PART_BREAK, '\n', '\0' };
	size_t i, checked = 0;
	int seen_plain = 0;

	for (i = 0; i < p->nparts; i++) {
		struct dsn_part *pt = &p->parts[i];
		struct buf u;
		int rc;

		if (!pt->keep || pt->enclosed || strncmp(pt->type, "text/", 5) != 0 ||
		    strcmp(pt->type, "text/rfc822-headers") == 0)
			continue;
		/*
		 * An HTML notice is left out for the plain text before it or
		 * beside it in a multipart/alternative; a plain attachment
		 * (the returned headers as a .txt file) or a plain part after
		 * it (a footer, the returned text) is no such text.
		 */
		if (strcmp(pt->type, "text/html") == 0) {
			/* the plain parts before it, each read once */
			for (; checked < i && !seen_plain; checked++)
				seen_plain = plain_notice(&p->parts[checked]);
			if (seen_plain || plain_alternative(p, pt))
				continue;
		}
		/* as UTF-8, at most twice its size (Latin-1 doubles) */
		buf_init(&u, 2 * pt->text.len + 16);
		rc = dsn_to_utf8(&u, pt->charset, buf_cstr(&pt->text), pt->text.len);
		if (rc == BUF_ERR_NOMEM) {
			buf_fini(&u);
			return -1;
		}
		if (strcmp(pt->type, "text/html") == 0)
			rc = html_text(out, buf_cstr(&u), u.len);
		else
			rc = buf_append(out, buf_cstr(&u), u.len);
		buf_fini(&u);
		if (rc == BUF_ERR_NOMEM || buf_puts(out, part_end) == BUF_ERR_NOMEM)
			return -1;
	}
	return 0;
}
