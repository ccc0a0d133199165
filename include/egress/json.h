/*
 * json - a small JSON writer onto a buf.
 *
 * Strings. Whatever bytes a string holds, what is written is well-formed
 * UTF-8 and a valid JSON string literal (RFC 8259):
 *   - '"' and '\' are escaped; LF and TAB as \n and \t; every other C0
 *     control and DEL as \u00XX (lower-case hex);
 *   - U+2028 and U+2029 as \u2028 and \u2029: JSON allows them raw, but
 *     JavaScript before ES2019 ends a line there, so a record pasted into a
 *     script would break;
 *   - well-formed UTF-8 (RFC 3629: shortest form, no UTF-16 surrogates, at
 *     most U+10FFFF) passes through unchanged;
 *   - anything else is replaced, never passed through: each maximal
 *     ill-formed subsequence (Unicode 3.9, "U+FFFD substitution of maximal
 *     subparts", the same count WHATWG decoders give) becomes one U+FFFD,
 *     written as its UTF-8 bytes EF BF BD. So a stray continuation byte, a
 *     lead byte C0, C1 or F5..FF, the lead of an overlong form (E0 80 80
 *     gives three), of a surrogate (ED A0 80: three) or of a code point
 *     above U+10FFFF (F4 90 80 80: four) each count alone, and a sequence
 *     cut short (E2 82 followed by ASCII, or the end) gives one.
 *
 * Documents. A struct json keeps the nesting and comma state of one
 * document being written onto a buf it borrows:
 *
 *	json_init(&w, &out);
 *	json_obj_begin(&w);
 *	json_kv_str(&w, "queue_id", qid);
 *	json_key(&w, "findings");
 *	json_arr_begin(&w);
 *	...
 *	json_arr_end(&w);
 *	json_obj_end(&w);
 *	if (json_finish(&w) != BUF_OK) ... out holds a truncated document
 *
 * The first buf error (BUF_ERR_LIMIT, BUF_ERR_NOMEM) is kept; later calls
 * then write nothing, so a caller checks once, with json_status() or
 * json_finish(). The writer never reads back what it wrote: the caller may
 * print the buf and buf_reset() it between calls (to stream a long array).
 * Misuse is a programming error and aborts, also in release builds: a value
 * in an object without its key, a key outside an object or twice, an end
 * that does not match its begin, more than JSON_DEPTH_MAX levels, a second
 * top-level value, json_finish() on an unfinished document.
 *
 * Keys are escaped like any string. Not thread-safe: one writer per thread.
 */
#ifndef EGRESS_JSON_H
#define EGRESS_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "egress/buf.h"

#define JSON_DEPTH_MAX	32	/* nesting levels of one document */

struct json {
	struct buf	*out;		/* borrowed */
	int		 status;	/* first buf error, or BUF_OK */
	unsigned	 depth;		/* open objects and arrays */
	uint32_t	 is_obj;	/* bit d: level d+1 is an object */
	uint32_t	 has_item;	/* bit d: level d+1 has a member already */
	int		 key_pending;	/* a key is written, its value is next */
	int		 done;		/* the top-level value is complete */
};

/* Start a document on out (borrowed; what is in it already stays). */
void	json_init(struct json *, struct buf *out);

void	json_obj_begin(struct json *);
void	json_obj_end(struct json *);
void	json_arr_begin(struct json *);
void	json_arr_end(struct json *);
/* The name of the next member of the open object. */
void	json_key(struct json *, const char *key);

/* Values: a string (NULL gives null), a number, true/false, null. */
void	json_str(struct json *, const char *s);
void	json_strn(struct json *, const char *s, size_t n);
void	json_int(struct json *, long long);
void	json_uint(struct json *, unsigned long long);
void	json_bool(struct json *, int);
void	json_null(struct json *);

/* A member: json_key() and the value. */
void	json_kv_str(struct json *, const char *key, const char *s);
void	json_kv_int(struct json *, const char *key, long long);
void	json_kv_uint(struct json *, const char *key, unsigned long long);
void	json_kv_bool(struct json *, const char *key, int);

/* The first buf error so far, or BUF_OK. */
EGRESS_WUR int	json_status(const struct json *);
/* The document must be complete (aborts otherwise); returns json_status(). */
EGRESS_WUR int	json_finish(struct json *);

/*
 * Append s as one JSON string literal (with its quotes), escaped and
 * repaired as above; NULL gives null. For writing outside a document.
 * Returns a buf status; on error out may hold part of the literal.
 */
EGRESS_WUR int	json_put_string(struct buf *out, const char *s);
EGRESS_WUR int	json_put_stringn(struct buf *out, const char *s, size_t n);

#endif
