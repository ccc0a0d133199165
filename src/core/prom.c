/*
 * prom.c - Prometheus text exposition format 0.0.4: writer and line reader.
 *
 * The writer appends to a struct buf and returns its status; a buffer that
 * reaches its maximum keeps what was written before (the caller decides
 * whether a cut page is worth serving: the daemon's is not cut, its bound
 * is far above what the fixed metric set needs).
 *
 * The reader is linear in the line, allocation-free and bounded by the
 * fixed sizes of struct prom_line; it reads what this writer and the
 * Prometheus client libraries write (labels in braces, escaped values, an
 * optional trailing comma, an optional timestamp).
 *
 * Threading: no state; re-entrant.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "egress/assert.h"
#include "egress/prom.h"

/* ---- names ---- */

static int
name_start(int c, int colon)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    (colon && c == ':');
}

static int
name_char(int c, int colon)
{
	return name_start(c, colon) || (c >= '0' && c <= '9');
}

static int
name_is_valid(const char *s, int colon)
{
	size_t i;

	if (s == NULL || !name_start((unsigned char)s[0], colon))
		return 0;
	for (i = 1; s[i] != '\0'; i++)
		if (!name_char((unsigned char)s[i], colon))
			return 0;
	return 1;
}

/* ---- writer ---- */

/* Escape s: backslash and line feed always, double quote when quote. */
static int
put_escaped(struct buf *out, const char *s, int quote)
{
	const char *run = s;
	int rc;

	for (; *s != '\0'; s++) {
		const char *esc = *s == '\\' ? "\\\\" : *s == '\n' ? "\\n" :
		    quote && *s == '"' ? "\\\"" : NULL;

		if (esc == NULL)
			continue;
		if ((rc = buf_append(out, run, (size_t)(s - run))) != BUF_OK ||
		    (rc = buf_puts(out, esc)) != BUF_OK)
			return rc;
		run = s + 1;
	}
	return buf_append(out, run, (size_t)(s - run));
}

int
prom_put_double(struct buf *out, double v)
{
	char tmp[40];

	if (isnan(v))
		return buf_puts(out, "NaN");
	if (isinf(v))
		return buf_puts(out, v > 0 ? "+Inf" : "-Inf");
	/* the shortest of %.15g .. %.17g that reads back as v */
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	return buf_puts(out, tmp);
}

int
prom_family(struct buf *out, const char *name, const char *type,
    const char *help)
{
	int rc;

	EGRESS_ASSERT(name_is_valid(name, 1));
	EGRESS_ASSERT(strcmp(type, "counter") == 0 || strcmp(type, "gauge") == 0 ||
	    strcmp(type, "histogram") == 0 || strcmp(type, "untyped") == 0);
	if ((rc = buf_printf(out, "# HELP %s ", name)) != BUF_OK ||
	    (rc = put_escaped(out, help, 0)) != BUF_OK)
		return rc;
	return buf_printf(out, "\n# TYPE %s %s\n", name, type);
}

/* name[suffix]{labels[,le="..."]} and the space before the value. */
static int
put_series(struct buf *out, const char *name, const char *suffix,
    const struct prom_label *labels, size_t n, const char *le)
{
	size_t i;
	int rc;

	EGRESS_ASSERT(name_is_valid(name, 1));
	if ((rc = buf_puts(out, name)) != BUF_OK ||
	    (suffix && (rc = buf_puts(out, suffix)) != BUF_OK))
		return rc;
	if (n > 0 || le != NULL) {
		if ((rc = buf_putc(out, '{')) != BUF_OK)
			return rc;
		for (i = 0; i < n; i++) {
			EGRESS_ASSERT(name_is_valid(labels[i].name, 0));
			if ((rc = buf_printf(out, "%s%s=\"", i ? "," : "",
			    labels[i].name)) != BUF_OK ||
			    (rc = put_escaped(out, labels[i].value ? labels[i].value :
			    "", 1)) != BUF_OK || (rc = buf_putc(out, '"')) != BUF_OK)
				return rc;
		}
		if (le != NULL && (rc = buf_printf(out, "%sle=\"%s\"", n ? "," : "",
		    le)) != BUF_OK)
			return rc;
		if ((rc = buf_putc(out, '}')) != BUF_OK)
			return rc;
	}
	return buf_putc(out, ' ');
}

int
prom_sample_u64(struct buf *out, const char *name,
    const struct prom_label *labels, size_t n, uint64_t v)
{
	int rc;

	if ((rc = put_series(out, name, NULL, labels, n, NULL)) != BUF_OK)
		return rc;
	return buf_printf(out, "%llu\n", (unsigned long long)v);
}

int
prom_sample_i64(struct buf *out, const char *name,
    const struct prom_label *labels, size_t n, int64_t v)
{
	int rc;

	if ((rc = put_series(out, name, NULL, labels, n, NULL)) != BUF_OK)
		return rc;
	return buf_printf(out, "%lld\n", (long long)v);
}

int
prom_sample_f(struct buf *out, const char *name,
    const struct prom_label *labels, size_t n, double v)
{
	int rc;

	if ((rc = put_series(out, name, NULL, labels, n, NULL)) != BUF_OK ||
	    (rc = prom_put_double(out, v)) != BUF_OK)
		return rc;
	return buf_putc(out, '\n');
}

int
prom_histogram(struct buf *out, const char *name,
    const struct prom_label *labels, size_t n, const double *bounds,
    size_t nbounds, const uint64_t *counts, double sum)
{
	struct buf le;
	uint64_t cum = 0;
	size_t i;
	int rc = BUF_OK;

	buf_init(&le, 64);
	for (i = 0; i <= nbounds && rc == BUF_OK; i++) {
		EGRESS_ASSERT(i == 0 || i == nbounds || bounds[i] > bounds[i - 1]);
		cum += counts[i];
		buf_reset(&le);
		if ((rc = i < nbounds ? prom_put_double(&le, bounds[i]) :
		    buf_puts(&le, "+Inf")) != BUF_OK ||
		    (rc = put_series(out, name, "_bucket", labels, n,
		    buf_cstr(&le))) != BUF_OK)
			break;
		rc = buf_printf(out, "%llu\n", (unsigned long long)cum);
	}
	buf_fini(&le);
	if (rc != BUF_OK ||
	    (rc = put_series(out, name, "_sum", labels, n, NULL)) != BUF_OK ||
	    (rc = prom_put_double(out, sum)) != BUF_OK ||
	    (rc = buf_putc(out, '\n')) != BUF_OK ||
	    (rc = put_series(out, name, "_count", labels, n, NULL)) != BUF_OK)
		return rc;
	return buf_printf(out, "%llu\n", (unsigned long long)cum);
}

/* ---- reader ---- */

struct cursor {
	const char	*p;
	const char	*end;
};

static void
skip_blanks(struct cursor *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
		c->p++;
}

/* A name into dst (size PROM_NAME_MAX); 0 or -1. */
static int
read_name(struct cursor *c, char *dst, int colon)
{
	size_t n = 0;

	if (c->p >= c->end || !name_start((unsigned char)*c->p, colon))
		return -1;
	while (c->p < c->end && name_char((unsigned char)*c->p, colon)) {
		if (n + 1 >= PROM_NAME_MAX)
			return -1;
		dst[n++] = *c->p++;
	}
	dst[n] = '\0';
	return 0;
}

/* A quoted, escaped label value into dst (size PROM_VALUE_MAX). */
static int
read_value(struct cursor *c, char *dst)
{
	size_t n = 0;

	if (c->p >= c->end || *c->p++ != '"')
		return -1;
	while (c->p < c->end && *c->p != '"') {
		char ch = *c->p++;

		if (ch == '\\') {
			if (c->p >= c->end)
				return -1;
			ch = *c->p++;
			if (ch == 'n')
				ch = '\n';
			else if (ch != '\\' && ch != '"')
				return -1;
		} else if (ch == '\n' || ch == '\0')
			return -1;
		if (n + 1 >= PROM_VALUE_MAX)
			return -1;
		dst[n++] = ch;
	}
	if (c->p >= c->end)
		return -1;	/* unterminated */
	c->p++;
	dst[n] = '\0';
	return 0;
}

/* The token up to the next blank, as a double (strtod's syntax, whole). */
static int
read_double(struct cursor *c, double *out)
{
	char tmp[64], *e;
	size_t n = 0;

	while (c->p + n < c->end && c->p[n] != ' ' && c->p[n] != '\t')
		n++;
	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, c->p, n);
	tmp[n] = '\0';
	errno = 0;
	*out = strtod(tmp, &e);
	/* strtod takes a leading blank and hex floats: the format has neither
	 * blanks inside a token, and hex is harmless; overflow gives +-Inf */
	if (e != tmp + n)
		return -1;
	c->p += n;
	return 0;
}

static int
read_timestamp(struct cursor *c, int64_t *out)
{
	int neg = 0;
	int64_t v = 0;
	size_t digits = 0;

	if (c->p < c->end && (*c->p == '-' || *c->p == '+'))
		neg = *c->p++ == '-';
	while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
		if (++digits > 18)
			return -1;	/* no overflow: 18 digits fit */
		v = v * 10 + (*c->p++ - '0');
	}
	if (digits == 0)
		return -1;
	*out = neg ? -v : v;
	return 0;
}

int
prom_parse_line(const char *line, size_t len, struct prom_line *out)
{
	struct cursor c = { line, line + len };
	const char *after_name;

	if (len > 0 && line[len - 1] == '\r')
		c.end--;
	skip_blanks(&c);
	if (c.p == c.end || *c.p == '#')
		return PROM_SKIP;
	out->nlabels = 0;
	out->has_timestamp = 0;
	out->timestamp = 0;
	if (read_name(&c, out->name, 1) != 0)
		return PROM_BAD;
	after_name = c.p;
	skip_blanks(&c);
	if (c.p < c.end && *c.p == '{') {
		c.p++;
		for (;;) {
			skip_blanks(&c);
			if (c.p < c.end && *c.p == '}')
				break;
			if (out->nlabels == PROM_LABELS_MAX ||
			    read_name(&c, out->labels[out->nlabels].name, 0) != 0)
				return PROM_BAD;
			skip_blanks(&c);
			if (c.p >= c.end || *c.p++ != '=')
				return PROM_BAD;
			skip_blanks(&c);
			if (read_value(&c, out->labels[out->nlabels].value) != 0)
				return PROM_BAD;
			out->nlabels++;
			skip_blanks(&c);
			if (c.p < c.end && *c.p == ',') {
				c.p++;
				continue;
			}
			if (c.p < c.end && *c.p == '}')
				break;
			return PROM_BAD;
		}
		c.p++;	/* '}' */
		after_name = c.p;
		skip_blanks(&c);
	}
	/* at least one blank before the value */
	if (c.p == after_name)
		return PROM_BAD;
	if (read_double(&c, &out->value) != 0)
		return PROM_BAD;
	skip_blanks(&c);
	if (c.p < c.end) {
		if (read_timestamp(&c, &out->timestamp) != 0)
			return PROM_BAD;
		out->has_timestamp = 1;
		skip_blanks(&c);
		if (c.p < c.end)
			return PROM_BAD;
	}
	return PROM_SAMPLE;
}

const char *
prom_line_label(const struct prom_line *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->nlabels; i++)
		if (strcmp(l->labels[i].name, name) == 0)
			return l->labels[i].value;
	return NULL;
}
