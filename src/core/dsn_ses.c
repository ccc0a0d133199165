/*
 * dsn_ses - Amazon SES event notifications delivered by mail (SNS email
 * subscriptions): a JSON document in a text part,
 *   {"notificationType":"Bounce","bounce":{"bouncedRecipients":[{...}],...},
 *    "mail":{"source":"...","headers":[...]}}
 * also "Complaint" (complainedRecipients) and "Delivery" (delivery.recipients,
 * smtpResponse). Only the fields named here are read, with a small scanner
 * that respects strings and nesting; anything malformed just stops it.
 * Bounded by the text it is given (one kept text part).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "egress/dsn.h"

#include "dsn_int.h"

/* Skip a JSON string starting at p ('"'); returns the byte after it. */
static const char *
skip_string(const char *p, const char *e)
{
	for (p++; p < e; p++) {
		if (*p == '\\')
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return e;
}

/* The end of the value (object, array, string, scalar) starting at p. */
static const char *
skip_value(const char *p, const char *e)
{
	int depth = 0;

	while (p < e && isspace((unsigned char)*p))
		p++;
	if (p < e && *p == '"')
		return skip_string(p, e);
	for (; p < e; p++) {
		if (*p == '"') {
			p = skip_string(p, e) - 1;
			continue;
		}
		if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']') {
			if (depth == 0)
				return p;
			if (--depth == 0)
				return p + 1;
		} else if (depth == 0 && *p == ',')
			return p;
	}
	return e;
}

/* Find "key": at this object level of [p, e); returns the value start. */
static const char *
find_key(const char *p, const char *e, const char *key)
{
	size_t kl = strlen(key);

	if (p < e && *p == '{')
		p++;
	while (p < e) {
		while (p < e && (isspace((unsigned char)*p) || *p == ','))
			p++;
		if (p >= e || *p != '"')
			return NULL;
		{
			const char *ks = p + 1, *ke = skip_string(p, e) - 1;

			p = ke + 1;
			while (p < e && isspace((unsigned char)*p))
				p++;
			if (p >= e || *p != ':')
				return NULL;
			p++;
			while (p < e && isspace((unsigned char)*p))
				p++;
			if ((size_t)(ke - ks) == kl && memcmp(ks, key, kl) == 0)
				return p;
			p = skip_value(p, e);
		}
	}
	return NULL;
}

/* A malloc'd copy of the string value at p (escapes undone), or NULL. */
static char *
string_at(const char *p, const char *e)
{
	const char *end;
	char *d, *w;

	if (p == NULL || p >= e || *p != '"')
		return NULL;
	end = skip_string(p, e);
	if ((d = malloc((size_t)(end - p) + 1)) == NULL)
		return NULL;
	for (w = d, p++; p < end - 1; p++) {
		if (*p == '\\' && p + 1 < end - 1) {
			p++;
			*w++ = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
		} else
			*w++ = *p;
	}
	*w = '\0';
	return d;
}

static char *
get_string(const char *obj, const char *e, const char *key)
{
	return string_at(find_key(obj, e, key), e);
}

static int	dsn_ses_scan_json(const char *, size_t, struct dsn_ses *);

int
dsn_ses_scan(const char *text, size_t n, struct dsn_ses *out)
{
	const char *e = text + n, *p, *type;
	char *t;

	memset(out, 0, sizeof(*out));
	p = memchr(text, '{', n);
	if (p != NULL && find_key(p, e, "notificationType") == NULL &&
	    (type = find_key(p, e, "Message")) != NULL && *type == '"') {
		/*
		 * The SNS envelope: the notification is the JSON text of its
		 * "Message" string. One level only: the unescaped copy is
		 * scanned without this step.
		 */
		int rc = 0;

		if ((t = string_at(type, e)) != NULL && strstr(t,
		    "\"notificationType\"") != NULL)
			rc = dsn_ses_scan_json(t, strlen(t), out);
		free(t);
		return rc;
	}
	return dsn_ses_scan_json(text, n, out);
}

static int
dsn_ses_scan_json(const char *text, size_t n, struct dsn_ses *out)
{
	const char *e = text + n, *p, *type, *sub, *arr;
	char *t;

	memset(out, 0, sizeof(*out));
	p = memchr(text, '{', n);
	if (p == NULL || (type = find_key(p, e, "notificationType")) == NULL ||
	    (t = string_at(type, e)) == NULL)
		return 0;
	if (strcmp(t, "Bounce") == 0)
		out->kind = SES_BOUNCE;
	else if (strcmp(t, "Complaint") == 0)
		out->kind = SES_COMPLAINT;
	else if (strcmp(t, "Delivery") == 0)
		out->kind = SES_DELIVERY;
	free(t);
	if (out->kind == SES_NONE)
		return 0;
	if ((sub = find_key(p, e, "mail")) != NULL) {
		const char *se = skip_value(sub, e), *h;

		out->source = get_string(sub, se, "source");
		/* the original Message-ID from the copied headers */
		if ((h = find_key(sub, se, "commonHeaders")) != NULL)
			out->message_id = get_string(h, skip_value(h, se), "messageId");
	}
	sub = find_key(p, e, out->kind == SES_BOUNCE ? "bounce" :
	    out->kind == SES_COMPLAINT ? "complaint" : "delivery");
	if (sub == NULL)
		return 1;
	{
		const char *se = skip_value(sub, e);

		out->reporting_mta = get_string(sub, se, "reportingMTA");
		out->feedback_type = get_string(sub, se, "complaintFeedbackType");
		out->smtp_response = get_string(sub, se, "smtpResponse");
		arr = find_key(sub, se, out->kind == SES_BOUNCE ? "bouncedRecipients" :
		    out->kind == SES_COMPLAINT ? "complainedRecipients" : "recipients");
		if (arr == NULL || *arr != '[')
			return 1;
		for (p = arr + 1; p < se && out->n < DSN_SES_MAX; ) {
			struct dsn_ses_rcpt *r = &out->v[out->n];
			const char *ve;

			while (p < se && (isspace((unsigned char)*p) || *p == ','))
				p++;
			if (p >= se || *p == ']')
				break;
			ve = skip_value(p, se);
			if (*p == '"')
				r->addr = string_at(p, se);
			else if (*p == '{') {
				r->addr = get_string(p, ve, "emailAddress");
				r->status = get_string(p, ve, "status");
				r->action = get_string(p, ve, "action");
				r->diag = get_string(p, ve, "diagnosticCode");
			}
			if (r->addr)
				out->n++;
			else {
				free(r->status);
				free(r->action);
				free(r->diag);
				memset(r, 0, sizeof(*r));
			}
			if (ve <= p)
				break;
			p = ve;
		}
	}
	return 1;
}

void
dsn_ses_fini(struct dsn_ses *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->v[i].addr);
		free(s->v[i].status);
		free(s->v[i].action);
		free(s->v[i].diag);
	}
	free(s->source);
	free(s->message_id);
	free(s->reporting_mta);
	free(s->feedback_type);
	free(s->smtp_response);
	memset(s, 0, sizeof(*s));
}
