/*
 * dsn_format - the output of a bounce report: the log line, the JSON object
 * and the header value, shared by the daemon and egressctl.
 *
 * Every string of a report comes from the bounce, so from a remote party:
 * the log line passes each one through log_escape() (findings.h) with a
 * bound per field, the JSON object through the JSON writer (json.h, which
 * also repairs invalid UTF-8), and the header keeps printable ASCII only.
 * The vocabulary words (kind, reason, category) are static strings of the
 * program and are printed as they are.
 *
 * Ownership: nothing is allocated here but through the buf or the JSON
 * writer the caller passes. No state; thread-safe for distinct outputs.
 */
#include <stdio.h>
#include <string.h>

#include "egress/dsn.h"
#include "egress/findings.h"
#include "egress/json.h"

#include "dsn_int.h"

#define DSN_LOG_DIAG_MAX	512	/* diagnostic bytes in a log line */

/* Header-safe copy of a short token: printable ASCII but ';' only. */
static int
put_escaped_hdr(struct buf *out, const char *s)
{
	int rc = BUF_OK;

	for (; *s && rc == BUF_OK; s++)
		if (*s > 32 && *s < 127 && *s != ';')
			rc = buf_putc(out, *s);
	return rc;
}

int
dsn_format_header(struct buf *out, const struct dsn_report *rep)
{
	const struct dsn_recipient *r = rep->nrcpts ? &rep->rcpts[0] : NULL;
	int rc;

	if ((rc = buf_printf(out, "kind=%s; reason=%s; category=%s; status=",
	    dsn_kind_name(rep->kind),
	    r == NULL ? "none" : r->cls.reason ? r->cls.reason : "undefined",
	    r == NULL ? "none" : r->cls.category ? r->cls.category :
	    "transient")) != BUF_OK)
		return rc;
	if (r && r->status && r->status[0])
		rc = put_escaped_hdr(out, r->status);
	else
		rc = buf_putc(out, '-');
	if (rc == BUF_OK)
		rc = buf_printf(out, "; reply=%d; recipients=%zu",
		    r ? r->reply_code : 0, rep->nrcpts);
	return rc;
}

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
	/* a report's recipient delivered, relayed or expanded is no bounce */
	if ((rc = buf_puts(out, rep->kind == DSN_KIND_DSN ? (r && r->action &&
	    dsn_has_prefix_ci(r->action, "delayed") ? "defer sender=<" :
	    r && r->action && (dsn_has_prefix_ci(r->action, "delivered") ||
	    dsn_has_prefix_ci(r->action, "relayed") ||
	    dsn_has_prefix_ci(r->action, "expanded")) ? "delivered sender=<" :
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

void
dsn_format_json_members(struct json *w, const struct dsn_report *rep,
    size_t idx, const char *file)
{
	const struct dsn_recipient *r = idx < rep->nrcpts ? &rep->rcpts[idx] : NULL;
	const char *reason = r ? r->cls.reason : "none";
	const char *cat = r && r->cls.category ? r->cls.category : NULL;

	if (rep->kind == DSN_KIND_NONE) {
		reason = "none";
		cat = NULL;
	}
	if (file)
		json_kv_str(w, "file", file);
	json_kv_uint(w, "rcpt_index", idx);
	json_kv_str(w, "kind", dsn_kind_name(rep->kind));
	json_kv_str(w, "format", rep->format);
	json_kv_str(w, "recipient", r ? r->final_rcpt : NULL);
	json_kv_str(w, "original_recipient", r ? r->orig_rcpt : NULL);
	json_kv_str(w, "action", r ? r->action : NULL);
	json_kv_str(w, "status", r && r->status && r->status[0] ? r->status :
	    NULL);
	json_key(w, "reply_code");
	if (r && r->reply_code)
		json_int(w, r->reply_code);
	else
		json_null(w);
	json_kv_str(w, "reason", reason);
	json_kv_str(w, "category", cat);
	json_kv_bool(w, "hard", r && r->cls.hard);
	if (r && rep->kind == DSN_KIND_DSN) {
		json_kv_bool(w, "permanent", r->permanent);
		json_kv_str(w, "provenance", dsn_provenance_name(r->provenance));
	}
	json_kv_str(w, "remote_mta", r ? r->remote_mta : NULL);
	json_kv_str(w, "diagnostic", r ? r->diag : NULL);
	json_kv_str(w, "sender", rep->sender);
	json_kv_str(w, "message_id", rep->message_id);
	json_kv_str(w, "reporting_mta", rep->reporting_mta);
	json_kv_str(w, "date", rep->date);
	if (rep->feedback_type)
		json_kv_str(w, "feedback_type", rep->feedback_type);
}

int
dsn_format_json(struct buf *out, const struct dsn_report *rep, size_t idx,
    const char *file)
{
	struct json w;

	json_init(&w, out);
	json_obj_begin(&w);
	dsn_format_json_members(&w, rep, idx, file);
	json_obj_end(&w);
	return json_finish(&w);
}
