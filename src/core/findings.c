/*
 * findings.c - bounded list of findings, action names, log escaping.
 *
 * Memory: the list owns the detail strings; ids are borrowed. At most `max`
 * entries (set from the config); extras are counted, not stored. On a full
 * list a check id not yet listed replaces a repeat of another one, so
 * every distinct check found is kept (the policy acts per id).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "egress/assert.h"
#include "egress/findings.h"

#define FINDINGS_DEFAULT_MAX	256

static const char *const action_names[ACT__COUNT] = {
	"accept", "tag", "repair", "hold", "tempfail", "reject",
};

void
findings_init(struct findings *f, size_t max)
{
	EGRESS_ASSERT(f != NULL);
	memset(f, 0, sizeof(*f));
	f->max = max ? max : FINDINGS_DEFAULT_MAX;
}

void
findings_reset(struct findings *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		free(f->v[i].detail);
	f->n = 0;
	f->dropped = 0;
}

void
findings_fini(struct findings *f)
{
	findings_reset(f);
	free(f->v);
	f->v = NULL;
	f->cap = 0;
}

/*
 * The last entry whose check id is also listed before it, or NULL when every
 * entry names a different check. Only called on a full list: each new id
 * makes one call, and the ids are the registry's and the operator rules'.
 */
static struct finding *
repeated_slot(struct findings *f)
{
	size_t i, j;

	for (i = f->n; i-- > 1;)
		for (j = 0; j < i; j++)
			if (strcmp(f->v[i].id, f->v[j].id) == 0)
				return &f->v[i];
	return NULL;
}

/*
 * Room for a finding of id? On a full list it is counted as dropped, and a
 * check not yet listed takes the place of a repeat of another one, so a
 * severe finding is never the one lost (the policy acts per check id).
 * Returns 1 when the finding may be appended.
 */
static int
make_room(struct findings *f, const char *id)
{
	struct finding *slot;

	if (f->n < f->max)
		return 1;
	f->dropped++;
	if (findings_has(f, id) || (slot = repeated_slot(f)) == NULL)
		return 0;
	free(slot->detail);
	memmove(slot, slot + 1, (size_t)(f->v + f->n - (slot + 1)) * sizeof(*slot));
	f->n--;
	return 1;
}

int
findings_take(struct findings *dst, struct findings *src)
{
	size_t i;

	for (i = 0; i < src->n; i++) {
		if (!make_room(dst, src->v[i].id)) {
			free(src->v[i].detail);
			continue;
		}
		if (dst->n == dst->cap) {
			size_t ncap = dst->cap ? dst->cap * 2 : 8;
			struct finding *nv;

			if ((nv = realloc(dst->v, ncap * sizeof(*nv))) == NULL) {
				/* the rest stays in src and is freed with it */
				memmove(src->v, src->v + i, (src->n - i) * sizeof(*nv));
				src->n -= i;
				return -1;
			}
			dst->v = nv;
			dst->cap = ncap;
		}
		dst->v[dst->n++] = src->v[i];
	}
	dst->dropped += src->dropped;
	src->n = 0;
	src->dropped = 0;
	return 0;
}

int
findings_add(struct findings *f, const char *id, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = findings_vadd(f, id, fmt, ap);
	va_end(ap);
	return rc;
}

int
findings_vadd(struct findings *f, const char *id, const char *fmt, va_list ap)
{
	char raw[FINDING_DETAIL_MAX + 1];
	struct buf esc;
	struct finding *nv;
	int n;

	/* the id is a check id, a string constant, never input */
	EGRESS_ASSERT(f != NULL && id != NULL);
	EGRESS_ASSERT(f->n <= f->cap);
	if (!make_room(f, id))
		return 0;
	if (f->n == f->cap) {
		size_t ncap = f->cap ? f->cap * 2 : 8;

		if ((nv = realloc(f->v, ncap * sizeof(*nv))) == NULL)
			return -1;
		f->v = nv;
		f->cap = ncap;
	}
	raw[0] = '\0';
	n = 0;
	if (fmt != NULL) {
		n = vsnprintf(raw, sizeof(raw), fmt, ap);
		if (n < 0)
			n = 0;
		if ((size_t)n > FINDING_DETAIL_MAX)
			n = FINDING_DETAIL_MAX;
	}
	buf_init(&esc, 4 * FINDING_DETAIL_MAX + 1);
	if (log_escape(&esc, raw, (size_t)n, FINDING_DETAIL_MAX) != BUF_OK) {
		buf_fini(&esc);
		return -1;
	}
	f->v[f->n].id = id;
	f->v[f->n].score = 0;
	f->v[f->n].detail = buf_steal(&esc);
	if (f->v[f->n].detail == NULL)
		return -1;
	f->n++;
	return 0;
}

int
findings_has(const struct findings *f, const char *id)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->v[i].id, id) == 0)
			return 1;
	return 0;
}

const char *
action_name(enum action a)
{
	return (unsigned)a < ACT__COUNT ? action_names[a] : "?";
}

int
action_parse(const char *s, enum action *out)
{
	int i;

	for (i = 0; i < ACT__COUNT; i++)
		if (strcmp(s, action_names[i]) == 0) {
			*out = (enum action)i;
			return 0;
		}
	return -1;
}

int
log_escape(struct buf *out, const char *p, size_t n, size_t limit)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;
	int rc = BUF_OK;

	if (n > limit)
		n = limit;
	for (i = 0; i < n && rc == BUF_OK; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\\' || c == '"') {
			char e[2] = { '\\', (char)c };
			rc = buf_append(out, e, 2);
		} else if (c >= 0x20 && c < 0x7f) {
			/* the run of bytes that stand for themselves, at once */
			size_t j = i + 1;

			while (j < n && (unsigned char)p[j] >= 0x20 &&
			    (unsigned char)p[j] < 0x7f && p[j] != '\\' &&
			    p[j] != '"')
				j++;
			rc = buf_append(out, p + i, j - i);
			i = j - 1;
		} else {
			char e[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };
			rc = buf_append(out, e, 4);
		}
	}
	return rc;
}
