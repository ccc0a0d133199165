/*
 * json.c - JSON writer: string escaping with UTF-8 repair, nesting state.
 *
 * The string escaper is linear and allocation-free apart from the buf's own
 * growth; runs of plain ASCII and of well-formed UTF-8 are appended in one
 * piece. UTF-8 is checked against the table of well-formed byte sequences
 * (Unicode 3.9, table 3-7), which rules out overlong forms, surrogates and
 * code points above U+10FFFF by the range allowed for the second byte, so
 * no code point is ever computed for validation.
 *
 * The writer holds the nesting of one document in two bit sets (object or
 * array, first member written or not), JSON_DEPTH_MAX levels deep. Misuse
 * aborts (see json.h). Ownership: the buf is borrowed; nothing is allocated
 * here. Not thread-safe; no global state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "egress/json.h"

/* Stays on in release builds: a malformed document is a programming error. */
#define JSON_ASSERT(c)	((c) ? (void)0 : json_abort(#c, __FILE__, __LINE__))

static void json_abort(const char *, const char *, int)
    __attribute__((noreturn));

static void
json_abort(const char *what, const char *file, int line)
{
	fprintf(stderr, "%s:%d: json writer misuse: %s\n", file, line, what);
	abort();
}

/* ---- strings ---- */

/*
 * Length of the well-formed UTF-8 sequence at p (n > 0 bytes available,
 * p[0] >= 0x80), or 0 with *bad set to the length of the maximal ill-formed
 * subpart to replace (at least 1).
 */
static size_t
utf8_len(const unsigned char *p, size_t n, size_t *bad)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;	/* below: overlong */
		else if (p[0] == 0xed)
			hi = 0x9f;	/* above: a surrogate */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		if (p[0] == 0xf0)
			lo = 0x90;	/* below: overlong */
		else if (p[0] == 0xf4)
			hi = 0x8f;	/* above: over U+10FFFF */
	} else {
		*bad = 1;		/* continuation, C0, C1, F5..FF */
		return 0;
	}
	for (i = 1; i < len; i++) {
		if (i >= n || p[i] < lo || p[i] > hi) {
			*bad = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xbf;
	}
	return len;
}

int
json_put_stringn(struct buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run, len, bad = 1;
	int rc;

	if ((rc = buf_putc(out, '"')) != BUF_OK)
		return rc;
	while (i < n) {
		char esc[6];

		/* a run of bytes that stay as they are */
		for (run = i; run < n; ) {
			if (u[run] >= 0x20 && u[run] < 0x7f && u[run] != '"' &&
			    u[run] != '\\')
				run++;
			else if (u[run] >= 0x80 &&
			    (len = utf8_len(u + run, n - run, &bad)) > 0 &&
			    !(len == 3 && u[run] == 0xe2 && u[run + 1] == 0x80 &&
			    (u[run + 2] == 0xa8 || u[run + 2] == 0xa9)))
				run += len;
			else
				break;
		}
		if (run > i && (rc = buf_append(out, u + i, run - i)) != BUF_OK)
			return rc;
		if ((i = run) >= n)
			break;
		if (u[i] == '"' || u[i] == '\\') {
			esc[0] = '\\';
			esc[1] = (char)u[i];
			rc = buf_append(out, esc, 2);
			i++;
		} else if (u[i] == '\n') {
			rc = buf_append(out, "\\n", 2);
			i++;
		} else if (u[i] == '\t') {
			rc = buf_append(out, "\\t", 2);
			i++;
		} else if (u[i] < 0x80) {
			/* other C0 controls and DEL */
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[u[i] >> 4];
			esc[5] = hex[u[i] & 15];
			rc = buf_append(out, esc, 6);
			i++;
		} else if (utf8_len(u + i, n - i, &bad) > 0) {
			/*
			 * Well-formed but not in the run: only U+2028 LINE
			 * SEPARATOR and U+2029 PARAGRAPH SEPARATOR stop it.
			 */
			rc = buf_append(out, u[i + 2] == 0xa8 ? "\\u2028" :
			    "\\u2029", 6);
			i += 3;
		} else {
			rc = buf_append(out, "\xef\xbf\xbd", 3);	/* U+FFFD */
			i += bad;
		}
		if (rc != BUF_OK)
			return rc;
	}
	return buf_putc(out, '"');
}

int
json_put_string(struct buf *out, const char *s)
{
	if (s == NULL)
		return buf_puts(out, "null");
	return json_put_stringn(out, s, strlen(s));
}

/* ---- documents ---- */

void
json_init(struct json *w, struct buf *out)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
	w->status = BUF_OK;
}

static void
emit(struct json *w, const char *p, size_t n)
{
	if (w->status == BUF_OK)
		w->status = buf_append(w->out, p, n);
}

static int
top_is_obj(const struct json *w)
{
	return (w->is_obj >> (w->depth - 1)) & 1;
}

/* Before any value: the comma, or the check that its key was written. */
static void
value_begin(struct json *w)
{
	uint32_t bit;

	if (w->depth == 0) {
		JSON_ASSERT(!w->done);
		return;
	}
	if (top_is_obj(w)) {
		JSON_ASSERT(w->key_pending);
		w->key_pending = 0;
		return;
	}
	bit = (uint32_t)1 << (w->depth - 1);
	if (w->has_item & bit)
		emit(w, ",", 1);
	w->has_item |= bit;
}

static void
value_end(struct json *w)
{
	if (w->depth == 0)
		w->done = 1;
}

static void
open_level(struct json *w, int obj)
{
	uint32_t bit;

	value_begin(w);
	JSON_ASSERT(w->depth < JSON_DEPTH_MAX);
	bit = (uint32_t)1 << w->depth;
	w->depth++;
	if (obj)
		w->is_obj |= bit;
	else
		w->is_obj &= ~bit;
	w->has_item &= ~bit;
	emit(w, obj ? "{" : "[", 1);
}

static void
close_level(struct json *w, int obj)
{
	JSON_ASSERT(w->depth > 0);
	JSON_ASSERT(top_is_obj(w) == obj);
	JSON_ASSERT(!w->key_pending);
	emit(w, obj ? "}" : "]", 1);
	w->depth--;
	value_end(w);
}

void
json_obj_begin(struct json *w)
{
	open_level(w, 1);
}

void
json_obj_end(struct json *w)
{
	close_level(w, 1);
}

void
json_arr_begin(struct json *w)
{
	open_level(w, 0);
}

void
json_arr_end(struct json *w)
{
	close_level(w, 0);
}

void
json_key(struct json *w, const char *key)
{
	uint32_t bit;

	JSON_ASSERT(key != NULL);
	JSON_ASSERT(w->depth > 0 && top_is_obj(w));
	JSON_ASSERT(!w->key_pending);
	bit = (uint32_t)1 << (w->depth - 1);
	if (w->has_item & bit)
		emit(w, ",", 1);
	w->has_item |= bit;
	if (w->status == BUF_OK)
		w->status = json_put_string(w->out, key);
	emit(w, ":", 1);
	w->key_pending = 1;
}

void
json_strn(struct json *w, const char *s, size_t n)
{
	value_begin(w);
	if (w->status == BUF_OK)
		w->status = s ? json_put_stringn(w->out, s, n) :
		    buf_puts(w->out, "null");
	value_end(w);
}

void
json_str(struct json *w, const char *s)
{
	json_strn(w, s, s ? strlen(s) : 0);
}

void
json_int(struct json *w, long long v)
{
	value_begin(w);
	if (w->status == BUF_OK)
		w->status = buf_printf(w->out, "%lld", v);
	value_end(w);
}

void
json_uint(struct json *w, unsigned long long v)
{
	value_begin(w);
	if (w->status == BUF_OK)
		w->status = buf_printf(w->out, "%llu", v);
	value_end(w);
}

void
json_bool(struct json *w, int v)
{
	value_begin(w);
	if (v)
		emit(w, "true", 4);
	else
		emit(w, "false", 5);
	value_end(w);
}

void
json_null(struct json *w)
{
	value_begin(w);
	emit(w, "null", 4);
	value_end(w);
}

void
json_kv_str(struct json *w, const char *key, const char *s)
{
	json_key(w, key);
	json_str(w, s);
}

void
json_kv_int(struct json *w, const char *key, long long v)
{
	json_key(w, key);
	json_int(w, v);
}

void
json_kv_uint(struct json *w, const char *key, unsigned long long v)
{
	json_key(w, key);
	json_uint(w, v);
}

void
json_kv_bool(struct json *w, const char *key, int v)
{
	json_key(w, key);
	json_bool(w, v);
}

int
json_status(const struct json *w)
{
	return w->status;
}

int
json_finish(struct json *w)
{
	JSON_ASSERT(w->depth == 0 && !w->key_pending && w->done);
	return w->status;
}
