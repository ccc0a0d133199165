/*
 * dsn - bounce and report recognition on top of the streaming MIME parser.
 *
 * The parser is a mime_handler. While the message streams it keeps:
 *   - the top-level header fields (at most DSN_HEADERS_MAX, each cut at
 *     DSN_FIELD_MAX bytes);
 *   - the first Message-ID/From/Return-Path/To/Date seen in an enclosed
 *     part's header (the returned message);
 *   - the decoded text of text parts, message/delivery-status,
 *     message/global-delivery-status, message/feedback-report and
 *     text/rfc822-headers leaves, each up to text_limit bytes (the rest of a
 *     part is dropped: the useful text of a bounce comes first), for at most
 *     DSN_MAX_PARTS parts and DSN_TEXT_PARTS_BUDGET * text_limit bytes in
 *     all.
 * Nothing is decided until dsn_parser_result(), which runs once over what
 * was kept; its cost is linear in the kept text.
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

#define DSN_PART_TYPE_MAX	96
#define DSN_PART_META_MAX	4096	/* parts whose ancestry is tracked */
#define DSN_DATA_ADDRS		32	/* addresses kept from DATA replies */
#define DSN_TEXT_PARTS_BUDGET	4	/* text kept per message, in text_limits */

struct dsn_hdr {
	char	*name;
	char	*value;
};

struct dsn_part {
	unsigned	 id;
	unsigned	 parent;
	char		 type[DSN_PART_TYPE_MAX];
	int		 is_message;	/* message/rfc822 or message/global */
	int		 enclosed;	/* inside a returned message */
	int		 keep;
	struct buf	 text;
};

struct dsn_parser {
	const struct classifier	*cl;
	size_t			 text_limit;
	struct mime_handler	 h;
	char			*env_from;	/* NULL: unknown */
	char			*env_rcpt;
	struct dsn_hdr		 top[DSN_HEADERS_MAX];
	size_t			 ntop;
	char			*top_type;
	char			*top_report_type;
	char			*ret_msgid, *ret_from, *ret_return_path, *ret_to;
	struct dsn_part		*parts;
	size_t			 nparts;
	size_t			 capparts;
	size_t			 kept;		/* text bytes kept, all parts */
	size_t			 nkept;		/* parts whose text is kept */
	int			 oom;
	int			 stage_data;	/* transcript: refused after DATA */
	int			 stage_rcpt;	/* text names the RCPT stage */
	char			*data_addrs[DSN_DATA_ADDRS];	/* named there */
	size_t			 ndata_addrs;
	struct dsn_report	 rep;
	int			 built;
};

/* ---- utilities ---- */

static char *
dup_n(const char *s, size_t n)
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

static char *
dup_s(const char *s)
{
	return s ? dup_n(s, strlen(s)) : NULL;
}

static char *
trim_dup(const char *s, size_t n)
{
	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	return dup_n(s, n);
}

static int
streq_ci(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return 0;
	return *a == *b;
}

static const char *
top_header(const struct dsn_parser *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->ntop; i++)
		if (streq_ci(p->top[i].name, name))
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

static struct dsn_recipient *
rcpt_new(struct dsn_report *rep)
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

static int h_header(void *, const struct mime_part_info *, const char *,
    const char *);
static int h_part_begin(void *, const struct mime_part_info *);
static int h_part_data(void *, const struct mime_part_info *, const char *,
    size_t);
static int h_part_end(void *, const struct mime_part_info *);

struct dsn_parser *
dsn_parser_new(const struct classifier *cl, size_t text_limit)
{
	struct dsn_parser *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->cl = cl;
	p->text_limit = text_limit ? text_limit : DSN_TEXT_LIMIT;
	p->h.ctx = p;
	p->h.header = h_header;
	p->h.part_begin = h_part_begin;
	p->h.part_data = h_part_data;
	p->h.part_end = h_part_end;
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
			p->env_from = dup_n(mail_from + 1, n - 2);
		else
			p->env_from = dup_s(mail_from);
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
		    "X-Failed-Recipients", "Content-Type", NULL };
		size_t w;

		/* only the fields read later: a long Received chain costs nothing */
		for (w = 0; wanted[w] && !streq_ci(name, wanted[w]); w++)
			;
		if (wanted[w] == NULL || p->ntop >= DSN_HEADERS_MAX)
			return 0;
		if ((p->top[p->ntop].name = dup_s(name)) == NULL ||
		    (p->top[p->ntop].value = dup_s(value)) == NULL) {
			free(p->top[p->ntop].name);
			p->top[p->ntop].name = NULL;
			p->oom = 1;
			return -1;
		}
		p->ntop++;
		return 0;
	}
	if (streq_ci(name, "Message-ID"))
		slot = &p->ret_msgid;
	else if (streq_ci(name, "From"))
		slot = &p->ret_from;
	else if (streq_ci(name, "Return-Path"))
		slot = &p->ret_return_path;
	else if (streq_ci(name, "To"))
		slot = &p->ret_to;
	if (slot && *slot == NULL && (*slot = trim_dup(value, strlen(value))) == NULL) {
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
		p->top_type = dup_s(type);
		p->top_report_type = info->report_type ? dup_s(info->report_type) : NULL;
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
	pt->is_message = info->is_message;
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

/* ---- field blocks (delivery-status, feedback-report, headers) ---- */

struct field {
	const char	*name;
	size_t		 namelen;
	struct buf	 value;		/* unfolded */
	int		 block;		/* blank-line separated block index */
};

struct fields {
	struct field	*v;
	size_t		 n;
	size_t		 cap;
};

#define DSN_FIELDS_MAX	4096

static void
fields_fini(struct fields *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		buf_fini(&f->v[i].value);
	free(f->v);
	f->v = NULL;
	f->n = 0;
}

/*
 * Parse "Name: value" lines with folding; blank lines separate blocks.
 * Lines that are not fields end the current field. stop_at_body: stop at
 * the first blank line after at least one field (a header section).
 */
static int
fields_parse(const char *t, size_t n, struct fields *f, int stop_at_body)
{
	size_t i = 0;
	int block = 0, inblock = 0;
	struct field *cur = NULL;

	memset(f, 0, sizeof(*f));
	{
		/* at most one field per line */
		size_t cnt = 1, k;

		for (k = 0; k < n; k++)
			if (t[k] == '\n' || t[k] == '\r')
				cnt++;
		if (cnt > DSN_FIELDS_MAX)
			cnt = DSN_FIELDS_MAX;
		if ((f->v = calloc(cnt, sizeof(*f->v))) == NULL)
			return -1;
		f->cap = cnt;
	}
	while (i < n) {
		size_t b = i, e, c;

		while (i < n && t[i] != '\n' && t[i] != '\r')
			i++;
		e = i;
		if (i < n && t[i] == '\r' && i + 1 < n && t[i + 1] == '\n')
			i += 2;
		else if (i < n)
			i++;
		while (e > b && (t[e - 1] == ' ' || t[e - 1] == '\t'))
			e--;
		if (e == b) {
			if (inblock) {
				if (stop_at_body)
					break;
				block++;
			}
			inblock = 0;
			cur = NULL;
			continue;
		}
		if ((t[b] == ' ' || t[b] == '\t') && cur) {
			while (b < e && (t[b] == ' ' || t[b] == '\t'))
				b++;
			if (buf_putc(&cur->value, ' ') == BUF_ERR_NOMEM ||
			    buf_append(&cur->value, t + b, e - b) == BUF_ERR_NOMEM)
				return -1;
			continue;
		}
		for (c = b; c < e && t[c] != ':' && t[c] != ' ' && t[c] != '\t'; c++)
			;
		if (c == e || t[c] != ':' || c == b || f->n >= f->cap) {
			cur = NULL;
			continue;
		}
		cur = &f->v[f->n++];
		cur->name = t + b;
		cur->namelen = c - b;
		cur->block = block;
		inblock = 1;
		buf_init(&cur->value, DSN_FIELD_MAX);
		c++;
		while (c < e && (t[c] == ' ' || t[c] == '\t'))
			c++;
		if (buf_append(&cur->value, t + c, e - c) == BUF_ERR_NOMEM)
			return -1;
	}
	return 0;
}

static int
field_is(const struct field *fl, const char *name)
{
	return fl->namelen == strlen(name) &&
	    dsn_has_prefix_ci(fl->name, name);
}

/* "rfc822; a@b" -> "a@b" (type stripped, <> stripped, trimmed). */
static char *
typed_value(const char *v, int address)
{
	const char *semi = strchr(v, ';');

	if (semi)
		v = semi + 1;
	if (address) {
		char *a = dsn_addr_extract(v, strlen(v));

		if (a)
			return a;
	}
	while (*v == ' ' || *v == '<')
		v++;
	{
		size_t n = strlen(v);

		while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '>'))
			n--;
		return dup_n(v, n);
	}
}

/* ---- classification of one recipient ---- */

/*
 * Sendmail transcripts: ">>> DATA" answered by "<<< 5xx ...". Remember the
 * addresses those replies name; when they name none, the refusal at DATA
 * concerns every recipient. With PIPELINING the RCPT replies are printed
 * after ">>> DATA" too; a "<<< 503 ... Need RCPT" or "no valid recipients"
 * among them shows that DATA itself was never accepted, so those were
 * recipient refusals.
 */
static int
transcript_data_stage(struct dsn_parser *p, const char *t, size_t n)
{
	size_t i = 0;
	int after_data = 0;

	while (i < n) {
		size_t b = i, e;

		while (i < n && t[i] != '\n')
			i++;
		e = i++;
		if (e - b >= 4 && memcmp(t + b, ">>> ", 4) == 0) {
			after_data = e - b >= 8 && dsn_has_prefix_ci(t + b + 4, "DATA");
			continue;
		}
		if (!after_data || e - b < 5 || memcmp(t + b, "<<< 5", 5) != 0)
			continue;
		if ((e - b >= 7 && memcmp(t + b, "<<< 503", 7) == 0) ||
		    dsn_memstr_ci(t + b, e - b, "no valid recipient") ||
		    dsn_memstr_ci(t + b, e - b, "need rcpt")) {
			size_t k;

			for (k = 0; k < p->ndata_addrs; k++)
				free(p->data_addrs[k]);
			p->ndata_addrs = 0;
			p->stage_data = 0;
			after_data = 0;
			continue;
		}
		p->stage_data = 1;
		if (p->ndata_addrs < DSN_DATA_ADDRS) {
			char *a = dsn_addr_extract(t + b, e - b);

			if (a)
				p->data_addrs[p->ndata_addrs++] = a;
		}
	}
	return 0;
}

static int
refused_at_data(const struct dsn_parser *p, const struct dsn_recipient *r)
{
	size_t i;

	if (!p->stage_data)
		return 0;
	if (p->ndata_addrs == 0)
		return 1;
	for (i = 0; i < p->ndata_addrs && r->final_rcpt; i++)
		if (strcmp(p->data_addrs[i], r->final_rcpt) == 0)
			return 1;
	return 0;
}

static void
set_reason(struct dsn_recipient *r, const char *reason)
{
	r->cls.reason = reason;
	r->cls.category = reason_category(reason);
	r->cls.hard = reason_is_hard(reason, r->status, r->reply_code);
}

/*
 * Does the text name the RCPT stage? Postfix "(in reply to RCPT TO
 * command)", Exim "after RCPT TO:", qmail "does not like recipient",
 * Sendmail ">>> RCPT To:", Yahoo "[RCPT_TO]", "Error following RCPT
 * command", Gmail relaying the remote's reply "(state 14)".
 */
static int
names_rcpt_stage(const char *t, size_t n)
{
	static const char *const rcpt_words[] = { "rcpt to", "rcpt command",
	    "[rcpt_to]", "does not like recipient", ">>> rcpt", "(state 14)",
	    NULL };
	size_t i;

	for (i = 0; rcpt_words[i]; i++)
		if (dsn_memstr_ci(t, n, rcpt_words[i]))
			return 1;
	return 0;
}

/* x.1.0, x.1.1, x.1.3: the status itself says the mailbox is bad */
static int
status_names_mailbox(const char *st)
{
	return st && st[0] && st[1] == '.' && st[2] == '1' && st[3] == '.' &&
	    (strcmp(st + 4, "0") == 0 || strcmp(st + 4, "1") == 0 ||
	    strcmp(st + 4, "3") == 0);
}

/*
 * The bare "user unknown" wordings a recipient check and a content filter
 * share (Sendmail "... User unknown", "Unknown user", "User not exist",
 * "This user doesn't have a X account").
 */
static int
bare_unknown_user(const char *d)
{
	static const char *const words[] = { "user unknown", "unknown user",
	    "user not exist", "user not found", "user doesn't have a",
	    "user doesnt have a", NULL };
	size_t i, n = strlen(d);

	for (i = 0; words[i]; i++)
		if (dsn_memstr_ci(d, n, words[i]))
			return 1;
	return 0;
}

/*
 * Refused before any command or at EHLO: Exim "after initial connection"
 * and "after EHLO", Postfix "refused to talk to me", qmail "greeting
 * failed", Gmail "(state 13)". Nothing about the recipient or the message was known yet, only
 * the client.
 */
static int
refused_at_greeting(const char *d, size_t n)
{
	return dsn_memstr_ci(d, n, "after initial connection") ||
	    dsn_memstr_ci(d, n, "after ehlo") ||
	    dsn_memstr_ci(d, n, "after helo") ||
	    dsn_memstr_ci(d, n, "(state 13)") ||
	    dsn_memstr_ci(d, n, "refused to talk to me") ||
	    dsn_memstr_ci(d, n, "greeting failed");
}

/*
 * Reasons that cannot be right for a refusal at the greeting: the words
 * spoke of a quota, a policy, a recipient or nothing precise. Reasons that
 * name the client (PTR, reputation, connections, TLS ...) stay.
 */
static int
greeting_means_blocked(const char *reason)
{
	static const char *const v[] = { "speeding", "rejected",
	    "policyviolation", "systemerror", "undefined", "onhold",
	    "userunknown", "suspend", "filtered", "hasmoved", NULL };
	size_t i;

	for (i = 0; v[i]; i++)
		if (strcmp(reason, v[i]) == 0)
			return 1;
	return 0;
}

/*
 * The SMTP stage says who was refused. "User unknown" in reply to DATA,
 * after the recipients were accepted, is a content filter wearing a
 * recipient error's words; an address error in reply to MAIL FROM is
 * about the sender, not the recipient. A bare "user unknown" that no
 * RCPT reply and no mailbox status (x.1.1) backs is taken the same way:
 * recipient checks happen at RCPT and say so, filters that refuse with
 * those words do not.
 */
static void
stage_adjust(struct dsn_recipient *r, int stage_data, int stage_rcpt)
{
	static const char *const data_words[] = { "end of data", "after data",
	    "final data", "after end of data", ">>> data", "data command",
	    "(state 15)", "(state 18)", NULL };
	static const char *const mail_words[] = { "after mail from",
	    "to mail from", "mail from command", NULL };
	const char *d = r->diag;
	size_t i, n;
	int data = stage_data, mail = 0, rcpt;

	if (d == NULL)
		return;
	n = strlen(d);
	for (i = 0; data_words[i]; i++)
		if (dsn_memstr_ci(d, n, data_words[i]))
			data = 1;
	for (i = 0; mail_words[i]; i++)
		if (dsn_memstr_ci(d, n, mail_words[i]))
			mail = 1;
	rcpt = names_rcpt_stage(d, n);
	if (data && !dsn_memstr_ci(d, n, "rcpt to") &&
	    strcmp(r->cls.reason, "userunknown") == 0)
		set_reason(r, "filtered");
	else if (mail && strcmp(r->cls.category ? r->cls.category : "",
	    "recipient") == 0)
		set_reason(r, "rejected");
	else if (refused_at_greeting(d, n) &&
	    greeting_means_blocked(r->cls.reason))
		set_reason(r, "blocked");
	else if (!rcpt && !stage_rcpt && !mail &&
	    strcmp(r->cls.reason, "userunknown") == 0 &&
	    strcmp(r->cls.source, "text") == 0 &&
	    !status_names_mailbox(r->status) && bare_unknown_user(d))
		set_reason(r, "filtered");
}

static int
rcpt_finish(struct dsn_parser *p, struct dsn_recipient *r, const char *diag_type)
{
	char st[16];
	int reply;

	if (r->diag) {
		char *c = dsn_diag_clean(r->diag, strlen(r->diag), DSN_FIELD_MAX);

		if (c == NULL)
			return -1;
		free(r->diag);
		r->diag = c;
		dsn_diag_codes(r->diag, st, &reply);
		if (r->reply_code == 0)
			r->reply_code = reply;
		/*
		 * The remote server's own code beats the reporting MTA's
		 * Status (often a generic or remapped one), within a class.
		 */
		if (st[0] && (r->status == NULL || r->status[0] == '\0' ||
		    (st[0] == r->status[0] && strcmp(st, r->status) != 0 &&
		    strcmp(st + 1, ".0.0") != 0))) {
			free(r->status);
			if ((r->status = dup_s(st)) == NULL)
				return -1;
		}
	}
	if (r->action && (streq_ci(r->action, "delivered") ||
	    streq_ci(r->action, "relayed") || streq_ci(r->action, "expanded"))) {
		r->cls.reason = "delivered";
		r->cls.category = reason_category("delivered");
		r->cls.hard = 0;
		r->cls.source = "status";
		return 0;
	}
	classify(p->cl, r->status, r->reply_code, r->diag, &r->cls);
	if (strcmp(r->cls.reason, "delivered") == 0 && r->action &&
	    !streq_ci(r->action, "delivered")) {
		/* a 2xx code in a failure report is a quoted greeting: ignore */
		classify(p->cl, NULL, 0, r->diag, &r->cls);
	}
	/* "x-unix; ..." is a local delivery agent talking */
	if (diag_type && streq_ci(diag_type, "x-unix") &&
	    (strcmp(r->cls.source, "text") != 0 ||
	    strcmp(r->cls.category, "transient") == 0))
		set_reason(r, "mailererror");
	/*
	 * A temporary status on a final failure: retries ran out. Timeouts
	 * that lasted until the queue lifetime ended are expiry too.
	 */
	if (r->action && streq_ci(r->action, "failed") && r->status &&
	    r->status[0] == '4' && (strcmp(r->cls.source, "text") != 0 ||
	    (strcmp(r->cls.reason, "networkerror") == 0 && r->diag &&
	    (dsn_memstr_ci(r->diag, strlen(r->diag), "timed out") ||
	    dsn_memstr_ci(r->diag, strlen(r->diag), "timeout")))))
		set_reason(r, "expired");
	/*
	 * A delay notice (or "Action: expired") whose text names no cause,
	 * only a transient status or reply code: the message is waiting out
	 * its queue lifetime.
	 */
	if (r->action && (streq_ci(r->action, "delayed") ||
	    streq_ci(r->action, "expired")) &&
	    strcmp(r->cls.source, "text") != 0 &&
	    strcmp(r->cls.category, "transient") == 0)
		set_reason(r, "expired");
	stage_adjust(r, refused_at_data(p, r), p->stage_rcpt);
	/*
	 * The server said something nothing here recognises: the failure is
	 * on hold for a person to read, not of an unknown kind. Postfix's
	 * bounce template ("This is the mail system at host ...") is no
	 * diagnostic.
	 */
	if (strcmp(r->cls.reason, "undefined") == 0 && r->diag &&
	    r->diag[strspn(r->diag, " \t\r\n")] != '\0' &&
	    !dsn_has_prefix_ci(r->diag + strspn(r->diag, " \t\r\n"),
	    "This is the mail system at host"))
		set_reason(r, "onhold");
	return 0;
}

/* ---- RFC 3464 ---- */

static int
is_rcpt_field(const struct field *fl)
{
	return field_is(fl, "Final-Recipient") || field_is(fl, "Original-Recipient");
}

/*
 * PowerMTA names its own bounce category per recipient
 * ("X-PowerMTA-BounceCategory: bad-mailbox"): it saw the whole SMTP
 * dialogue, so where the category is precise it decides. "other" and the
 * vague ones leave the text's answer alone.
 */
static void
pmta_category(struct dsn_recipient *r, const char *v)
{
	static const struct { const char *cat, *reason; } map[] = {
		{ "bad-domain", "hostunknown" },
		{ "bad-mailbox", "userunknown" },
		{ "inactive-mailbox", "suspend" },
		{ "message-expired", "expired" },
		{ "no-answer-from-host", "networkerror" },
		{ "policy-related", "policyviolation" },
		{ "quota-issues", "mailboxfull" },
		{ "routing-errors", "systemerror" },
		{ "spam-related", "spamdetected" },
		{ "virus-related", "virusdetected" },
	};
	size_t i, n;

	while (*v == ' ' || *v == '\t')
		v++;
	for (n = 0; v[n] && v[n] != ' ' && v[n] != '\t' && v[n] != ';'; n++)
		;
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strlen(map[i].cat) == n && dsn_has_prefix_ci(v, map[i].cat)) {
			set_reason(r, map[i].reason);
			r->cls.source = "status";
			return;
		}
}

/* One recipient from fields [b, e) of a block, in any order. */
static int
ds_recipient(struct dsn_parser *p, struct fields *f, size_t b, size_t e)
{
	struct dsn_recipient *r;
	char *diag_type = NULL;
	size_t i;
	int rc = 0;

	if ((r = rcpt_new(&p->rep)) == NULL)
		return 0;	/* limit reached: keep what we have */
	for (i = b; i < e && rc == 0; i++) {
		struct field *fl = &f->v[i];
		const char *v = buf_cstr(&fl->value);
		char **slot = NULL;

		if (field_is(fl, "Final-Recipient")) {
			const char *semi = strchr(v, ';');

			slot = &r->final_rcpt;
			/* "|command": a local pipe delivery, its agent failed */
			if (semi && semi[1 + strspn(semi + 1, " ")] == '|' &&
			    diag_type == NULL && (diag_type = dup_s("x-unix")) == NULL)
				rc = -1;
		}
		else if (field_is(fl, "Original-Recipient"))
			slot = &r->orig_rcpt;
		if (slot) {
			if (*slot == NULL && (*slot = typed_value(v, 1)) == NULL)
				rc = -1;
		} else if (field_is(fl, "Action")) {
			free(r->action);
			if ((r->action = trim_dup(v, strlen(v))) == NULL)
				rc = -1;
		} else if (field_is(fl, "Status")) {
			char st[16];
			int reply;

			dsn_diag_codes(v, st, &reply);
			free(r->status);
			if ((r->status = dup_s(st)) == NULL)
				rc = -1;
		} else if (field_is(fl, "Remote-MTA")) {
			free(r->remote_mta);
			if ((r->remote_mta = typed_value(v, 0)) == NULL)
				rc = -1;
		} else if (field_is(fl, "Diagnostic-Code") && r->diag == NULL) {
			const char *semi = strchr(v, ';');

			free(diag_type);
			diag_type = semi ? dup_n(v, (size_t)(semi - v)) : NULL;
			if ((r->diag = trim_dup(semi ? semi + 1 : v,
			    strlen(semi ? semi + 1 : v))) == NULL)
				rc = -1;
		}
	}
	if (rc == 0 && r->final_rcpt == NULL && r->orig_rcpt &&
	    (r->final_rcpt = dup_s(r->orig_rcpt)) == NULL)
		rc = -1;
	if (rc == 0)
		rc = rcpt_finish(p, r, diag_type);
	if (rc == 0)
		for (i = b; i < e; i++)
			if (field_is(&f->v[i], "X-PowerMTA-BounceCategory"))
				pmta_category(r, buf_cstr(&f->v[i].value));
	free(diag_type);
	return rc;
}

/*
 * RFC 3464 section 2: per-message fields, then one block of per-recipient
 * fields per recipient, blocks separated by blank lines. Reporters that
 * omit the blank lines are split at each further Final-Recipient.
 */
static int
parse_delivery_status(struct dsn_parser *p, const char *t, size_t n)
{
	struct fields f;
	size_t i = 0, j, k;
	int rc = 0;

	if (fields_parse(t, n, &f, 0) < 0) {
		fields_fini(&f);
		return -1;
	}
	while (i < f.n && rc == 0) {
		int has_rcpt = 0;

		for (j = i; j < f.n && f.v[j].block == f.v[i].block; j++)
			if (is_rcpt_field(&f.v[j]))
				has_rcpt = 1;
		if (!has_rcpt) {
			for (k = i; k < j && rc == 0; k++) {
				struct field *fl = &f.v[k];
				const char *v = buf_cstr(&fl->value);

				if (field_is(fl, "Reporting-MTA") && p->rep.reporting_mta == NULL) {
					if ((p->rep.reporting_mta = typed_value(v, 0)) == NULL)
						rc = -1;
				} else if (field_is(fl, "Arrival-Date") && p->rep.date == NULL) {
					if ((p->rep.date = dup_s(v)) == NULL)
						rc = -1;
				} else if ((field_is(fl, "X-Postfix-Sender") ||
				    field_is(fl, "X-Original-Sender")) && p->rep.sender == NULL) {
					if ((p->rep.sender = typed_value(v, 1)) == NULL)
						rc = -1;
				} else if ((field_is(fl, "X-Original-Message-ID") ||
				    field_is(fl, "Original-Message-ID")) &&
				    p->rep.message_id == NULL) {
					if ((p->rep.message_id = trim_dup(v, strlen(v))) == NULL)
						rc = -1;
				}
			}
		} else {
			size_t b = i;
			int seen_final = 0;

			/* split at a second Final-Recipient (or Original- after Final-) */
			for (k = i; k < j && rc == 0; k++) {
				if (field_is(&f.v[k], "Final-Recipient")) {
					if (seen_final) {
						size_t cut = k;

						if (k > b && field_is(&f.v[k - 1], "Original-Recipient"))
							cut = k - 1;
						rc = ds_recipient(p, &f, b, cut);
						b = cut;
					}
					seen_final = 1;
				}
			}
			if (rc == 0)
				rc = ds_recipient(p, &f, b, j);
		}
		i = j;
	}
	fields_fini(&f);
	return rc;
}

/* ---- ARF (RFC 5965) ---- */

static int
parse_feedback(struct dsn_parser *p, const char *t, size_t n)
{
	struct fields f;
	size_t i;
	int rc = 0;

	if (fields_parse(t, n, &f, 0) < 0) {
		fields_fini(&f);
		return -1;
	}
	for (i = 0; i < f.n && rc == 0; i++) {
		struct field *fl = &f.v[i];
		const char *v = buf_cstr(&fl->value);

		if (field_is(fl, "Feedback-Type") && p->rep.feedback_type == NULL) {
			if ((p->rep.feedback_type = trim_dup(v, strlen(v))) == NULL)
				rc = -1;
		} else if (field_is(fl, "Original-Mail-From") && p->rep.sender == NULL) {
			p->rep.sender = dsn_addr_extract(v, strlen(v));
		} else if (field_is(fl, "Reporting-MTA") && p->rep.reporting_mta == NULL) {
			if ((p->rep.reporting_mta = typed_value(v, 0)) == NULL)
				rc = -1;
		} else if (field_is(fl, "Arrival-Date") && p->rep.date == NULL) {
			if ((p->rep.date = dup_s(v)) == NULL)
				rc = -1;
		} else if (field_is(fl, "Original-Rcpt-To") ||
		    field_is(fl, "Removal-Recipient")) {
			struct dsn_recipient *r = rcpt_new(&p->rep);

			if (r == NULL)
				break;
			if ((r->final_rcpt = dsn_addr_extract(v, strlen(v))) == NULL &&
			    (r->final_rcpt = trim_dup(v, strlen(v))) == NULL)
				rc = -1;
		}
	}
	fields_fini(&f);
	return rc;
}

/* ---- returned headers in text ---- */

static int
returned_headers_from_text(struct dsn_parser *p, const char *t, size_t n)
{
	struct fields f;
	int rc = 0;
	size_t i;

	if (fields_parse(t, n, &f, 1) < 0) {
		fields_fini(&f);
		return -1;
	}
	for (i = 0; i < f.n && rc == 0; i++) {
		struct field *fl = &f.v[i];
		const char *v = buf_cstr(&fl->value);
		char **slot = NULL;

		if (field_is(fl, "Message-ID"))
			slot = &p->ret_msgid;
		else if (field_is(fl, "From"))
			slot = &p->ret_from;
		else if (field_is(fl, "Return-Path"))
			slot = &p->ret_return_path;
		else if (field_is(fl, "To"))
			slot = &p->ret_to;
		if (slot && *slot == NULL && (*slot = trim_dup(v, strlen(v))) == NULL)
			rc = -1;
	}
	fields_fini(&f);
	return rc;
}

/* ---- signals ---- */

/*
 * 1: the From field names a mailer daemon or postmaster; 2: only the
 * envelope sender is null (auto-replies use it too); 0: neither.
 */
static int
from_daemon(const struct dsn_parser *p)
{
	static const char *const names[] = { "mailer-daemon", "mailer_daemon",
	    "mailerdaemon", "postmaster", "post_master", "mail delivery",
	    "mail administrator", "maildelivery", "mail.delivery", "mdaemon",
	    "mail system", "mail deliver", "microsoftexchange", "daemon@",
	    NULL };
	const char *from = top_header(p, "From");
	size_t i;

	for (i = 0; from && names[i]; i++)
		if (dsn_memstr_ci(from, strlen(from), names[i]))
			return 1;
	if (p->env_from && p->env_from[0] == '\0')
		return 2;
	return 0;
}

static int
bounce_subject(const char *s)
{
	static const char *const subj[] = { "undeliver", "undelivered",
	    "delivery status notification", "delivery failure",
	    "delivery failed", "mail delivery failed", "failure notice",
	    "returned mail", "returned to sender", "mail could not be delivered",
	    "delivery notification", "non remis", "nondeliverable",
	    "non-deliverable", "delivery problem", "could not send message",
	    "mail failure", "message not delivered", "delivery error",
	    "rejected:", "warning: could not", "unzustellbar", "no entregado",
	    "delivery has failed", "failed delivery", "message delivery failure",
	    "error sending message", "mail system error", NULL };
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; subj[i]; i++)
		if (dsn_memstr_ci(s, strlen(s), subj[i]))
			return 1;
	return 0;
}

static int
autoreply(const struct dsn_parser *p)
{
	static const char *const subj[] = { "auto:", "automatic reply",
	    "auto reply", "auto-reply", "autoreply", "auto response",
	    "auto-response", "autoresponse", "automatic response",
	    "out of office", "out of the office", "out-of-office", "vacation",
	    "abwesenheit", "absence", "réponse automatique",
	    "respuesta automática", "risposta automatica", "on leave",
	    "away from", NULL };
	const char *v;
	size_t i;

	if ((v = top_header(p, "Auto-Submitted")) &&
	    dsn_has_prefix_ci(v + strspn(v, " \t"), "auto-replied"))
		return 1;
	if (top_header(p, "X-Autoreply") || top_header(p, "X-Autorespond") ||
	    top_header(p, "X-Autoresponder") || top_header(p, "X-Vacation"))
		return 1;
	if ((v = top_header(p, "Precedence")) &&
	    dsn_memstr_ci(v, strlen(v), "auto_reply"))
		return 1;
	if ((v = top_header(p, "Subject")) != NULL) {
		size_t n = strlen(v);

		/* only at the start of the subject: "Re: out of office" is a person */
		while (n > 0 && (*v == ' ' || *v == '['))
			v++, n--;
		for (i = 0; subj[i]; i++)
			if (dsn_has_prefix_ci(v, subj[i]))
				return 1;
	}
	return 0;
}

/*
 * A List-Unsubscribe mailto request sent by a mail client on the user's
 * behalf (Apple Mail: Auto-Submitted, Subject "unsubscribe"): the
 * recipient opts out, which policy treats like a complaint.
 */
static int
unsubscribe_request(const struct dsn_parser *p)
{
	const char *as = top_header(p, "Auto-Submitted");
	const char *subj = top_header(p, "Subject");

	if (as == NULL || subj == NULL)
		return 0;
	while (*subj == ' ')
		subj++;
	return dsn_has_prefix_ci(as + strspn(as, " \t"), "auto-") &&
	    streq_ci(subj, "unsubscribe");
}

/* ---- building the report ---- */

/* Some letters, not just rules of "=" or a bullet. */
static int
has_words(const char *s)
{
	int letters = 0;

	for (; s && *s; s++)
		if (isalpha((unsigned char)*s) && ++letters >= 4)
			return 1;
	return 0;
}

/* Some recipient's lines, or the text as a whole, report a failure. */
static int
text_says_failure(const struct dsn_text_result *tr)
{
	size_t i;

	for (i = 0; i < tr->n; i++)
		if (tr->v[i].diag && dsn_failure_words(tr->v[i].diag,
		    strlen(tr->v[i].diag)))
			return 1;
	return tr->general_diag && dsn_failure_words(tr->general_diag,
	    strlen(tr->general_diag));
}

/* "Fwd: Undeliverable: ..." from a person is about a bounce, not one. */
static int
human_forward(const struct dsn_parser *p)
{
	const char *s = top_header(p, "Subject");

	if (s == NULL)
		return 0;
	s += strspn(s, " \t");
	return dsn_has_prefix_ci(s, "fwd:") || dsn_has_prefix_ci(s, "fw:") ||
	    dsn_has_prefix_ci(s, "re:") || dsn_has_prefix_ci(s, "aw:") ||
	    dsn_has_prefix_ci(s, "wg:") || dsn_has_prefix_ci(s, "tr:");
}

/* An enclosed message or its headers: the returned original. */
static int
has_returned_message(const struct dsn_parser *p)
{
	size_t i;

	for (i = 0; i < p->nparts; i++)
		if (p->parts[i].is_message ||
		    strcmp(p->parts[i].type, "text/rfc822-headers") == 0)
			return 1;
	return 0;
}

static char *
first_addr(const char *v)
{
	return v ? dsn_addr_extract(v, strlen(v)) : NULL;
}

/* Merge text-found diagnostics into DSN recipients that lack them. */
static int
enrich_from_text(struct dsn_parser *p, const struct dsn_text_result *tr)
{
	size_t i, j;

	for (i = 0; i < p->rep.nrcpts; i++) {
		struct dsn_recipient *r = &p->rep.rcpts[i];
		int weak = r->diag == NULL || r->diag[0] == '\0';

		if (!weak || r->final_rcpt == NULL)
			continue;
		for (j = 0; j < tr->n; j++) {
			if (strcmp(tr->v[j].addr, r->final_rcpt) != 0 &&
			    !(r->orig_rcpt && strcmp(tr->v[j].addr, r->orig_rcpt) == 0))
				continue;
			if (tr->v[j].diag == NULL)
				break;
			free(r->diag);
			if ((r->diag = dup_s(tr->v[j].diag)) == NULL)
				return -1;
			if (r->remote_mta == NULL && tr->v[j].remote &&
			    (r->remote_mta = dup_s(tr->v[j].remote)) == NULL)
				return -1;
			if (rcpt_finish(p, r, NULL) < 0)
				return -1;
			break;
		}
		/* one recipient, one text diagnostic: take it */
		if (j == tr->n && p->rep.nrcpts == 1 && tr->n == 1 &&
		    tr->v[0].diag && (r->diag == NULL || r->diag[0] == '\0')) {
			free(r->diag);
			if ((r->diag = dup_s(tr->v[0].diag)) == NULL)
				return -1;
			if (rcpt_finish(p, r, NULL) < 0)
				return -1;
		}
	}
	return 0;
}

/* Amazon SES notification mailed by SNS. Returns 1 when it was one. */
static int
from_ses(struct dsn_parser *p, const char *t, size_t n)
{
	struct dsn_report *rep = &p->rep;
	struct dsn_ses ses;
	size_t i;
	int rc = 1;

	if (dsn_ses_scan(t, n, &ses) == 0) {
		dsn_ses_fini(&ses);
		return 0;
	}
	rep->kind = ses.kind == SES_COMPLAINT ? DSN_KIND_FEEDBACK :
	    ses.kind == SES_DELIVERY ? DSN_KIND_DELIVERED : DSN_KIND_DSN;
	rep->format = "amazonses";
	rep->sender = ses.source ? first_addr(ses.source) : NULL;
	if (ses.message_id)
		rep->message_id = dup_s(ses.message_id);
	if (ses.reporting_mta)
		rep->reporting_mta = typed_value(ses.reporting_mta, 0);
	if (ses.feedback_type)
		rep->feedback_type = dup_s(ses.feedback_type);
	for (i = 0; i < ses.n && rc == 1; i++) {
		struct dsn_recipient *r = rcpt_new(rep);
		const char *d = ses.v[i].diag;

		if (r == NULL)
			break;
		r->final_rcpt = dsn_addr_extract(ses.v[i].addr, strlen(ses.v[i].addr));
		if (r->final_rcpt == NULL)
			r->final_rcpt = dup_s(ses.v[i].addr);
		if (ses.kind == SES_COMPLAINT) {
			set_reason(r, "feedback");
			r->cls.source = "report";
			continue;
		}
		if (ses.kind == SES_DELIVERY) {
			r->action = dup_s("delivered");
			d = ses.smtp_response;
		} else if (ses.v[i].action)
			r->action = dup_s(ses.v[i].action);
		if (ses.v[i].status)
			r->status = dup_s(ses.v[i].status);
		if (d) {
			const char *semi = strchr(d, ';');

			/* "smtp; 550 ..." as in Diagnostic-Code */
			if (semi && semi - d < 16)
				d = semi + 1;
			r->diag = trim_dup(d, strlen(d));
		}
		if (r->final_rcpt == NULL || rcpt_finish(p, r, NULL) < 0)
			rc = -1;
		if (rc == 1 && ses.kind == SES_DELIVERY) {
			r->cls.reason = "delivered";
			r->cls.category = reason_category("delivered");
		}
	}
	dsn_ses_fini(&ses);
	return rc;
}

/* The human-readable text of the report: kept text parts, not enclosed. */
static int
main_text(struct dsn_parser *p, struct buf *out)
{
	size_t i;
	int have_plain = 0;

	for (i = 0; i < p->nparts; i++)
		if (p->parts[i].keep && !p->parts[i].enclosed &&
		    strcmp(p->parts[i].type, "text/plain") == 0)
			have_plain = 1;
	for (i = 0; i < p->nparts; i++) {
		struct dsn_part *pt = &p->parts[i];

		if (!pt->keep || pt->enclosed || strncmp(pt->type, "text/", 5) != 0 ||
		    strcmp(pt->type, "text/rfc822-headers") == 0)
			continue;
		if (strcmp(pt->type, "text/html") == 0) {
			const char *s = buf_cstr(&pt->text);
			size_t k;
			int tag = 0;

			if (have_plain)
				continue;
			/* crude tag stripping: enough to read the words */
			for (k = 0; k < pt->text.len; k++) {
				if (s[k] == '<') {
					tag = 1;
					if (dsn_has_prefix_ci(s + k, "<br") ||
					    dsn_has_prefix_ci(s + k, "<p") ||
					    dsn_has_prefix_ci(s + k, "</p") ||
					    dsn_has_prefix_ci(s + k, "<div") ||
					    dsn_has_prefix_ci(s + k, "</div") ||
					    dsn_has_prefix_ci(s + k, "<tr") ||
					    dsn_has_prefix_ci(s + k, "</tr"))
						if (buf_putc(out, '\n') == BUF_ERR_NOMEM)
							return -1;
				} else if (s[k] == '>' && tag)
					tag = 0;
				else if (!tag && buf_putc(out, s[k]) == BUF_ERR_NOMEM)
					return -1;
			}
		} else if (buf_append(out, buf_cstr(&pt->text), pt->text.len) ==
		    BUF_ERR_NOMEM)
			return -1;
		if (buf_puts(out, "\n\n") == BUF_ERR_NOMEM)
			return -1;
	}
	return 0;
}

static int
set_sender_and_msgid(struct dsn_parser *p)
{
	struct dsn_report *rep = &p->rep;

	if (rep->sender == NULL && p->env_rcpt)
		rep->sender = dup_s(p->env_rcpt);
	if (rep->sender == NULL)
		rep->sender = first_addr(top_header(p, "To"));
	if (rep->sender == NULL)
		rep->sender = first_addr(p->ret_return_path);
	if (rep->sender == NULL)
		rep->sender = first_addr(p->ret_from);
	if (rep->message_id == NULL && p->ret_msgid)
		rep->message_id = dup_s(p->ret_msgid);
	if (rep->date == NULL && top_header(p, "Date"))
		rep->date = dup_s(top_header(p, "Date"));
	if (rep->subject == NULL && top_header(p, "Subject"))
		rep->subject = dup_s(top_header(p, "Subject"));
	return 0;
}

static int
build(struct dsn_parser *p)
{
	struct dsn_report *rep = &p->rep;
	struct dsn_text_result tr;
	struct buf text;
	const char *excl[5];
	char *x_from = NULL, *x_to = NULL;
	size_t i, nex = 0;
	int has_ds = 0, has_fb = 0, rc = 0, daemon, subj;

	memset(&tr, 0, sizeof(tr));
	buf_init(&text, (DSN_TEXT_PARTS_BUDGET + 1) * p->text_limit + 4096);

	/* returned headers in text/rfc822-headers parts */
	for (i = 0; i < p->nparts; i++)
		if (p->parts[i].keep && (strcmp(p->parts[i].type,
		    "text/rfc822-headers") == 0 || strcmp(p->parts[i].type,
		    "message/global-headers") == 0) &&
		    returned_headers_from_text(p, buf_cstr(&p->parts[i].text),
		    p->parts[i].text.len) < 0)
			goto oom;

	if (main_text(p, &text) < 0)
		goto oom;
	if (transcript_data_stage(p, buf_cstr(&text), text.len) < 0)
		goto oom;
	p->stage_rcpt = names_rcpt_stage(buf_cstr(&text), text.len);

	/* 1. delivery-status parts */
	for (i = 0; i < p->nparts; i++) {
		struct dsn_part *pt = &p->parts[i];

		if (!pt->keep || pt->enclosed)
			continue;
		if (strcmp(pt->type, "message/delivery-status") == 0 ||
		    strcmp(pt->type, "message/global-delivery-status") == 0) {
			has_ds = 1;
			if (parse_delivery_status(p, buf_cstr(&pt->text),
			    pt->text.len) < 0)
				goto oom;
		} else if (strcmp(pt->type, "message/feedback-report") == 0) {
			has_fb = 1;
			if (parse_feedback(p, buf_cstr(&pt->text), pt->text.len) < 0)
				goto oom;
		}
	}
	if (p->top_report_type && streq_ci(p->top_report_type, "feedback-report"))
		has_fb = 1;

	/* delivery-status fields pasted into a text part (some gateways) */
	if (!has_ds && !has_fb && rep->nrcpts == 0) {
		const char *fr = dsn_memstr_ci(buf_cstr(&text), text.len,
		    "\nFinal-Recipient:");
		const char *act = dsn_memstr_ci(buf_cstr(&text), text.len,
		    "\nAction:");

		if (fr && act) {
			const char *s = dsn_memstr_ci(buf_cstr(&text), text.len,
			    "Reporting-MTA:");

			if (s == NULL || s > fr)
				s = fr + 1;
			has_ds = 1;
			if (parse_delivery_status(p, s,
			    text.len - (size_t)(s - buf_cstr(&text))) < 0)
				goto oom;
		}
	}

	/* addresses that are never failed recipients */
	x_to = first_addr(top_header(p, "To"));
	x_from = first_addr(top_header(p, "From"));
	if (p->env_rcpt)
		excl[nex++] = p->env_rcpt;
	if (x_to)
		excl[nex++] = x_to;
	if (x_from)
		excl[nex++] = x_from;
	excl[nex] = NULL;

	if (has_fb) {
		rep->kind = DSN_KIND_FEEDBACK;
		rep->format = "arf";
		if (rep->nrcpts == 0) {
			struct dsn_recipient *r = rcpt_new(rep);

			if (r == NULL)
				goto oom;
			r->final_rcpt = first_addr(p->ret_to);
		}
		for (i = 0; i < rep->nrcpts; i++) {
			rep->rcpts[i].cls.reason = "feedback";
			rep->rcpts[i].cls.category = reason_category("feedback");
			rep->rcpts[i].cls.hard = 0;
			rep->rcpts[i].cls.source = "report";
		}
		goto done;
	}

	if (!has_ds && rep->nrcpts == 0 && dsn_memstr_ci(buf_cstr(&text),
	    text.len < 4096 ? text.len : 4096, "\"notificationType\"")) {
		int r = from_ses(p, buf_cstr(&text), text.len);

		if (r < 0)
			goto oom;
		if (r > 0)
			goto done;
	}
	if (dsn_text_scan(buf_cstr(&text), text.len, excl, DSN_MAX_RECIPIENTS,
	    &tr) < 0)
		goto oom;
	/* returned headers quoted in the text */
	if (tr.returned_at < text.len) {
		const char *s = buf_cstr(&text) + tr.returned_at;
		const char *nl = memchr(s, '\n', text.len - tr.returned_at);

		if (nl && returned_headers_from_text(p, nl + 1,
		    text.len - (size_t)(nl + 1 - buf_cstr(&text))) < 0)
			goto oom;
	}

	if (has_ds && rep->nrcpts > 0) {
		int all_ok = 1;

		rep->kind = DSN_KIND_DSN;
		rep->format = "rfc3464";
		if (enrich_from_text(p, &tr) < 0)
			goto oom;
		for (i = 0; i < rep->nrcpts; i++)
			if (strcmp(rep->rcpts[i].cls.reason, "delivered") != 0)
				all_ok = 0;
		if (all_ok)
			rep->kind = DSN_KIND_DELIVERED;
		goto done;
	}

	/*
	 * Evidence for a plain-text bounce, strongest first: X-Failed-Recipients;
	 * a mailer daemon (or the null sender) saying so in a marker line or
	 * the subject; a mailer daemon naming recipients in the shapes bounces
	 * use (but not an auto-reply, which also comes from the null sender);
	 * anyone with a bounce marker, a bounce subject or the returned
	 * message attached, unless a person forwards it.
	 */
	daemon = from_daemon(p);
	subj = bounce_subject(top_header(p, "Subject"));
	if (has_ds || top_header(p, "X-Failed-Recipients") != NULL ||
	    (daemon && (tr.strong || subj)) ||
	    (daemon == 1 && tr.n > 0 && !autoreply(p) && text_says_failure(&tr)) ||
	    (tr.strong && !human_forward(p) && (subj || has_returned_message(p)))) {
		rep->kind = DSN_KIND_DSN;
		rep->format = "text";
		for (i = 0; i < tr.n; i++) {
			struct dsn_recipient *r = rcpt_new(rep);

			if (r == NULL)
				break;
			r->final_rcpt = dup_s(tr.v[i].addr);
			r->diag = has_words(tr.v[i].diag) ? dup_s(tr.v[i].diag) :
			    tr.general_diag ? dup_s(tr.general_diag) : NULL;
			r->remote_mta = tr.v[i].remote ? dup_s(tr.v[i].remote) : NULL;
			if (r->final_rcpt == NULL || rcpt_finish(p, r, NULL) < 0)
				goto oom;
		}
		if (rep->nrcpts == 0) {
			const char *xf = top_header(p, "X-Failed-Recipients");
			struct dsn_recipient *r;

			if ((r = rcpt_new(rep)) == NULL)
				goto oom;
			r->final_rcpt = xf ? first_addr(xf) : first_addr(p->ret_to);
			if (tr.general_diag && (r->diag = dup_s(tr.general_diag)) == NULL)
				goto oom;
			if (rcpt_finish(p, r, NULL) < 0)
				goto oom;
		}
		goto done;
	}
	if (unsubscribe_request(p)) {
		struct dsn_recipient *r;

		rep->kind = DSN_KIND_FEEDBACK;
		rep->format = "unsubscribe";
		if ((rep->feedback_type = dup_s("unsubscribe")) == NULL ||
		    (r = rcpt_new(rep)) == NULL)
			goto oom;
		r->final_rcpt = first_addr(top_header(p, "From"));
		r->cls.reason = "feedback";
		r->cls.category = reason_category("feedback");
		r->cls.hard = 0;
		r->cls.source = "report";
		goto done;
	}
	if (autoreply(p)) {
		struct dsn_recipient *r;

		rep->kind = DSN_KIND_AUTOREPLY;
		rep->format = "rfc3834";
		if ((r = rcpt_new(rep)) == NULL)
			goto oom;
		r->final_rcpt = first_addr(top_header(p, "From"));
		r->cls.reason = "vacation";
		r->cls.category = reason_category("vacation");
		r->cls.hard = 0;
		r->cls.source = "report";
		goto done;
	}
	rep->kind = DSN_KIND_NONE;
	rep->format = NULL;
done:
	if (set_sender_and_msgid(p) < 0)
		goto oom;
	goto out;
oom:
	rc = -1;
out:
	free(x_to);
	free(x_from);
	dsn_text_result_fini(&tr);
	buf_fini(&text);
	return rc;
}

const struct dsn_report *
dsn_parser_result(struct dsn_parser *p)
{
	if (p->oom)
		return NULL;
	if (!p->built) {
		report_fini(&p->rep);
		if (build(p) < 0) {
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
	if (force_text && streq_ci(buf_cstr(name), "Content-Type"))
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
