/*
 * buf.c - growable byte buffer with a hard maximum.
 *
 * All growth goes through buf_reserve(), the one place that checks for size_t
 * overflow and for the configured maximum. Not thread-safe; a buf belongs to
 * one message or one connection.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "egress/assert.h"
#include "egress/buf.h"

#define BUF_MIN_CAP	256

void
buf_init(struct buf *b, size_t max)
{
	EGRESS_ASSERT(b != NULL);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max ? max : SIZE_MAX / 2;
}

void
buf_fini(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

/* Make room for n more bytes plus the terminating NUL. */
static int
buf_reserve(struct buf *b, size_t n)
{
	size_t need, ncap;
	char *p;

	EGRESS_ASSERT(b->len <= b->max);
	if (n > b->max - b->len)
		return BUF_ERR_LIMIT;
	need = b->len + n + 1;
	if (need <= b->cap)
		return BUF_OK;
	ncap = b->cap ? b->cap : BUF_MIN_CAP;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2) {
			ncap = need;
			break;
		}
		ncap *= 2;
	}
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	if ((p = realloc(b->data, ncap)) == NULL)
		return BUF_ERR_NOMEM;
	b->data = p;
	b->cap = ncap;
	return BUF_OK;
}

int
buf_append(struct buf *b, const void *p, size_t n)
{
	int rc;

	EGRESS_ASSERT(b != NULL && (p != NULL || n == 0));
	/* room already there (the common case): no growth to check */
	if (!(n < b->cap - b->len && b->len + n <= b->max) &&
	    (rc = buf_reserve(b, n)) != BUF_OK)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return BUF_OK;
}

int
buf_putc(struct buf *b, int c)
{
	char ch = (char)c;

	if (b->len + 1 < b->cap && b->len < b->max) {
		b->data[b->len++] = ch;
		b->data[b->len] = '\0';
		return BUF_OK;
	}
	return buf_append(b, &ch, 1);
}

int
buf_puts(struct buf *b, const char *s)
{
	EGRESS_ASSERT(s != NULL);
	return buf_append(b, s, strlen(s));
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, rc;

	EGRESS_ASSERT(b != NULL && fmt != NULL);
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return BUF_ERR_NOMEM;
	if ((rc = buf_reserve(b, (size_t)n)) != BUF_OK)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return BUF_OK;
}

const char *
buf_cstr(const struct buf *b)
{
	return b->data ? b->data : "";
}

char *
buf_steal(struct buf *b)
{
	char *p = b->data;

	if (p == NULL)
		p = calloc(1, 1);
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}
