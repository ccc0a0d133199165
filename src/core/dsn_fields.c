/*
 * dsn_fields - the machine-readable parts of a report: RFC 3464
 * message/delivery-status (and global-delivery-status), RFC 5965
 * message/feedback-report, and returned header sections.
 *
 * A field block is "Name: value" lines with folding, blocks separated by
 * blank lines; lines that are not fields are skipped. At most DSN_FIELDS_MAX
 * fields per block text (and one per line), each value cut at
 * DSN_FIELD_MAX bytes. Every recipient found is finished (cleaned,
 * classified, adjusted) by dsn_rcpt_finish() as it is read.
 *
 * Strings stored in the report are malloc'd and owned by it; each function
 * returns 0 or -1 (out of memory).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "egress/buf.h"
#include "egress/dsn.h"

#include "dsn_int.h"
#include "bytescan.h"

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

		for (k = 0; (k += bytescan_any3(t + k, n - k, '\n', '\r',
		    '\n')) < n; k++)
			cnt++;
		if (cnt > DSN_FIELDS_MAX)
			cnt = DSN_FIELDS_MAX;
		if ((f->v = calloc(cnt, sizeof(*f->v))) == NULL)
			return -1;
		f->cap = cnt;
	}
	while (i < n) {
		size_t b = i, e, c, name_end;

		i += bytescan_any3(t + i, n - i, '\n', '\r', '\n');
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
		name_end = c;
		/* RFC 5322 4.5.2's obsolete blanks before the colon */
		while (c < e && (t[c] == ' ' || t[c] == '\t'))
			c++;
		if (c == e || t[c] != ':' || name_end == b || f->n >= f->cap) {
			cur = NULL;
			continue;
		}
		cur = &f->v[f->n++];
		cur->name = t + b;
		cur->namelen = name_end - b;
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

/*
 * The ';' that ends the type of a typed field ("smtp; 550 ...", "rfc822;
 * a@b", "X-Postfix; ..."), or NULL when the value has no type: RFC 3464's
 * types are atoms, so a ';' after blanks or a reply code is the text's own
 * ("Diagnostic-Code: 421 4.7.0 ... 4.16.55.1; see https://...", written
 * without its type by some MTAs).
 */
#define DSN_TYPE_MAX	32

static const char *
type_end(const char *v)
{
	const char *q = v;

	while (*q == ' ' || *q == '\t')
		q++;
	if (!isalpha((unsigned char)*q))
		return NULL;
	for (; *q && (isalnum((unsigned char)*q) || *q == '-' || *q == '.' ||
	    *q == '_') && q - v < DSN_TYPE_MAX; q++)
		;
	while (*q == ' ' || *q == '\t')
		q++;
	return *q == ';' ? q : NULL;
}

/* "rfc822; a@b" -> "a@b" (type stripped, <> stripped, trimmed). */
char *
dsn_typed_value(const char *v, int address)
{
	const char *semi = type_end(v);

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
		return dsn_dup_n(v, n);
	}
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
			dsn_set_reason(r, map[i].reason);
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

	if ((r = dsn_rcpt_new(&p->rep)) == NULL)
		return 0;	/* limit reached: keep what we have */
	r->provenance = DSN_PROV_REPORT;
	for (i = b; i < e && rc == 0; i++) {
		struct field *fl = &f->v[i];
		const char *v = buf_cstr(&fl->value);
		char **slot = NULL;

		if (field_is(fl, "Final-Recipient")) {
			const char *semi = strchr(v, ';');

			slot = &r->final_rcpt;
			/* "|command": a local pipe delivery, its agent failed */
			if (semi && semi[1 + strspn(semi + 1, " ")] == '|' &&
			    diag_type == NULL && (diag_type = dsn_dup_s("x-unix")) == NULL)
				rc = -1;
		}
		else if (field_is(fl, "Original-Recipient"))
			slot = &r->orig_rcpt;
		if (slot) {
			if (*slot == NULL && (*slot = dsn_typed_value(v, 1)) == NULL)
				rc = -1;
		} else if (field_is(fl, "Action")) {
			/*
			 * RFC 3464 2.3.3: one word ("failed", "delayed",
			 * "delivered", "relayed", "expanded"); a comment may
			 * follow it: "relayed (to non-DSN-aware mailer)".
			 */
			const char *a = v + strspn(v, " \t");
			size_t k = strcspn(a, " \t(;");

			free(r->action);
			if ((r->action = dsn_trim_dup(a, k)) == NULL)
				rc = -1;
		} else if (field_is(fl, "Status")) {
			char st[16];
			int reply;

			dsn_diag_codes(v, st, &reply);
			free(r->status);
			if ((r->status = dsn_dup_s(st)) == NULL)
				rc = -1;
		} else if (field_is(fl, "Remote-MTA")) {
			free(r->remote_mta);
			if ((r->remote_mta = dsn_typed_value(v, 0)) == NULL)
				rc = -1;
		} else if (field_is(fl, "Diagnostic-Code") && r->diag == NULL) {
			const char *semi = type_end(v);

			free(diag_type);
			diag_type = semi ? dsn_dup_n(v, (size_t)(semi - v)) : NULL;
			if ((r->diag = dsn_trim_dup(semi ? semi + 1 : v,
			    strlen(semi ? semi + 1 : v))) == NULL)
				rc = -1;
		}
	}
	if (rc == 0 && r->final_rcpt == NULL && r->orig_rcpt &&
	    (r->final_rcpt = dsn_dup_s(r->orig_rcpt)) == NULL)
		rc = -1;
	/*
	 * "Diagnostic-Code: X-Unix; 255": only a local mailer's exit status.
	 * Sendmail's transcript has its own status line for it, "554 5.3.0
	 * unknown mailer error 255", with the SMTP codes.
	 */
	if (rc == 0 && diag_type && dsn_streq_ci(diag_type, "x-unix") &&
	    r->diag && r->diag[0] && strspn(r->diag, "0123456789") ==
	    strlen(r->diag) && p->main_text) {
		size_t len;
		const char *m = dsn_text_mailer_reply(p->main_text,
		    p->main_text_len, &len);

		if (m != NULL) {
			char *d = dsn_dup_n(m, len);

			if (d == NULL)
				rc = -1;
			else {
				free(r->diag);
				r->diag = d;
			}
		}
	}
	if (rc == 0)
		rc = dsn_rcpt_finish(p, r, diag_type);
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
int
dsn_parse_delivery_status(struct dsn_parser *p, const char *t, size_t n)
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
					if ((p->rep.reporting_mta = dsn_typed_value(v, 0)) == NULL)
						rc = -1;
				} else if (field_is(fl, "Arrival-Date") && p->rep.date == NULL) {
					if ((p->rep.date = dsn_dup_s(v)) == NULL)
						rc = -1;
				} else if ((field_is(fl, "X-Postfix-Sender") ||
				    field_is(fl, "X-Original-Sender")) && p->rep.sender == NULL) {
					if ((p->rep.sender = dsn_typed_value(v, 1)) == NULL)
						rc = -1;
				} else if (field_is(fl, "X-Postfix-Queue-ID") &&
				    p->rep.queue_id == NULL) {
					if ((p->rep.queue_id = dsn_trim_dup(v, strlen(v))) == NULL)
						rc = -1;
				} else if ((field_is(fl, "X-Original-Message-ID") ||
				    field_is(fl, "Original-Message-ID")) &&
				    p->rep.message_id == NULL) {
					if ((p->rep.message_id = dsn_trim_dup(v, strlen(v))) == NULL)
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

int
dsn_parse_feedback(struct dsn_parser *p, const char *t, size_t n)
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
			if ((p->rep.feedback_type = dsn_trim_dup(v, strlen(v))) == NULL)
				rc = -1;
		} else if (field_is(fl, "Original-Mail-From") && p->rep.sender == NULL) {
			p->rep.sender = dsn_addr_extract(v, strlen(v));
		} else if (field_is(fl, "Reporting-MTA") && p->rep.reporting_mta == NULL) {
			if ((p->rep.reporting_mta = dsn_typed_value(v, 0)) == NULL)
				rc = -1;
		} else if (field_is(fl, "Arrival-Date") && p->rep.date == NULL) {
			if ((p->rep.date = dsn_dup_s(v)) == NULL)
				rc = -1;
		} else if (field_is(fl, "Original-Rcpt-To") ||
		    field_is(fl, "Removal-Recipient")) {
			struct dsn_recipient *r = dsn_rcpt_new(&p->rep);

			if (r == NULL)
				break;
			r->provenance = DSN_PROV_REPORT;
			if ((r->final_rcpt = dsn_addr_extract(v, strlen(v))) == NULL &&
			    (r->final_rcpt = dsn_trim_dup(v, strlen(v))) == NULL)
				rc = -1;
		}
	}
	fields_fini(&f);
	return rc;
}

/* ---- returned headers in text ---- */

int
dsn_returned_headers(struct dsn_parser *p, const char *t, size_t n)
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
		else if (fl->namelen < 32) {
			char nm[32];

			memcpy(nm, fl->name, fl->namelen);
			nm[fl->namelen] = '\0';
			if (dsn_note_list_field(p, nm, v, 1) < 0)
				rc = -1;
		}
		if (slot && *slot == NULL && (*slot = dsn_trim_dup(v, strlen(v))) == NULL)
			rc = -1;
	}
	fields_fini(&f);
	return rc;
}

int
dsn_note_list_field(struct dsn_parser *p, const char *name, const char *value,
    int returned)
{
	char *a;

	if (!dsn_has_prefix_ci(name, "List-") && !(returned &&
	    (dsn_streq_ci(name, "Sender") || dsn_streq_ci(name, "Cc") ||
	    dsn_streq_ci(name, "Reply-To"))))
		return 0;
	if (p->nlist_addrs >= DSN_LIST_ADDRS || value == NULL)
		return 0;
	if ((a = dsn_addr_extract(value, strlen(value))) == NULL)
		return 0;	/* no address, or out of memory: nothing to note */
	p->list_addrs[p->nlist_addrs++] = a;
	return 0;
}
