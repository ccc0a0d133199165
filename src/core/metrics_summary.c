/*
 * metrics_summary.c - read a /metrics page back into the summary that
 * `egressctl stats` prints.
 *
 * The page comes from the network, so it is untrusted like mail: every
 * line goes through prom_parse_line() (bounded), every table here has a
 * fixed size (a page with more distinct label values than fit is summed
 * as far as it fits, the rest ignored), values are doubles whatever they
 * say (NaN and infinities included: arithmetic on them is defined), and
 * every label value printed is escaped. Series this summary does not know
 * are skipped, so a page of a newer daemon still reads.
 *
 * Ownership: the summary owns its tables; nothing points into the page.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "egress/findings.h"
#include "egress/metrics.h"
#include "egress/prom.h"
#include "egress/sender.h"

#define PFX		"milter_egress_"
#define KEY_MAX		64
#define HISTS_MAX	16
#define CATS_MAX	32
#define TOP_FINDINGS	10

struct hsum {
	char	 key[KEY_MAX];		/* op or stage */
	size_t	 n;
	double	 le[METRICS_SUMMARY_BUCKETS];
	double	 cum[METRICS_SUMMARY_BUCKETS];
	double	 sum;
	double	 count;
	double	 errors;		/* store errors of this op */
};

struct keyed {
	char	 key[KEY_MAX];
	double	 v[3];
};

struct metrics_summary {
	char		 version[KEY_MAX];
	double		 messages[ACT__COUNT];
	double		 would[ACT__COUNT];
	struct keyed	 findings[METRICS_SUMMARY_KEYS];
	size_t		 nfindings;
	struct keyed	 cats[CATS_MAX];	/* v: matched unknown, yes, no */
	size_t		 ncats;
	double		 sender[SACT__COUNT];
	struct hsum	 store[HISTS_MAX];
	size_t		 nstore;
	struct hsum	 stage[HISTS_MAX];
	size_t		 nstage;
	double		 sessions;
	int		 have_sessions;
	double		 reloads[2];		/* failure, success */
	size_t		 bad;
	size_t		 samples;
	struct prom_line line;			/* scratch, ~2 KiB */
};

struct metrics_summary *
metrics_summary_new(void)
{
	return calloc(1, sizeof(struct metrics_summary));
}

void
metrics_summary_free(struct metrics_summary *s)
{
	free(s);
}

size_t
metrics_summary_bad_lines(const struct metrics_summary *s)
{
	return s->bad;
}

size_t
metrics_summary_samples(const struct metrics_summary *s)
{
	return s->samples;
}

/* The entry of key in tab (added when there is room), or NULL. */
static struct keyed *
keyed_get(struct keyed *tab, size_t *n, size_t max, const char *key)
{
	size_t i;

	if (key == NULL || strlen(key) >= KEY_MAX)
		return NULL;
	for (i = 0; i < *n; i++)
		if (strcmp(tab[i].key, key) == 0)
			return &tab[i];
	if (*n == max)
		return NULL;
	memset(&tab[*n], 0, sizeof(tab[*n]));
	snprintf(tab[*n].key, KEY_MAX, "%s", key);
	return &tab[(*n)++];
}

static struct hsum *
hist_get(struct hsum *tab, size_t *n, const char *key)
{
	size_t i;

	if (key == NULL || strlen(key) >= KEY_MAX)
		return NULL;
	for (i = 0; i < *n; i++)
		if (strcmp(tab[i].key, key) == 0)
			return &tab[i];
	if (*n == HISTS_MAX)
		return NULL;
	memset(&tab[*n], 0, sizeof(tab[*n]));
	snprintf(tab[*n].key, KEY_MAX, "%s", key);
	return &tab[(*n)++];
}

/* A bucket line: keep the buckets sorted by le (a repeated le is replaced). */
static void
hist_bucket(struct hsum *h, const char *le_text, double v)
{
	char *end;
	double le;
	size_t i;

	if (le_text == NULL)
		return;
	le = strtod(le_text, &end);
	if (end == le_text || *end != '\0' || isnan(le))
		return;
	for (i = 0; i < h->n && h->le[i] < le; i++)
		;
	if (i < h->n && h->le[i] == le) {
		h->cum[i] = v;
		return;
	}
	if (h->n == METRICS_SUMMARY_BUCKETS)
		return;
	memmove(&h->le[i + 1], &h->le[i], (h->n - i) * sizeof(h->le[0]));
	memmove(&h->cum[i + 1], &h->cum[i], (h->n - i) * sizeof(h->cum[0]));
	h->le[i] = le;
	h->cum[i] = v;
	h->n++;
}

/* name is PFX + base + suffix? Returns the suffix ("" for none) or NULL. */
static const char *
series_of(const char *name, const char *base)
{
	size_t n = strlen(base);

	if (strncmp(name, base, n) != 0)
		return NULL;
	return name + n;
}

static void
hist_line(struct hsum *tab, size_t *n, const struct prom_line *l,
    const char *suffix, const char *label)
{
	struct hsum *h = hist_get(tab, n, prom_line_label(l, label));

	if (h == NULL)
		return;
	if (strcmp(suffix, "_bucket") == 0)
		hist_bucket(h, prom_line_label(l, "le"), l->value);
	else if (strcmp(suffix, "_sum") == 0)
		h->sum = l->value;
	else if (strcmp(suffix, "_count") == 0)
		h->count = l->value;
}

static void
take_sample(struct metrics_summary *s, const struct prom_line *l)
{
	const char *name, *suf, *v;
	enum action a;
	enum sender_action sa;
	struct keyed *k;
	struct hsum *h;

	if (strncmp(l->name, PFX, sizeof(PFX) - 1) != 0)
		return;
	s->samples++;
	name = l->name + sizeof(PFX) - 1;
	if (strcmp(name, "build_info") == 0 &&
	    (v = prom_line_label(l, "version")) != NULL)
		snprintf(s->version, sizeof(s->version), "%s", v);
	else if (strcmp(name, "messages_total") == 0 &&
	    (v = prom_line_label(l, "action")) != NULL && action_parse(v, &a) == 0)
		s->messages[a] = l->value;
	else if (strcmp(name, "messages_would_total") == 0 &&
	    (v = prom_line_label(l, "action")) != NULL && action_parse(v, &a) == 0)
		s->would[a] = l->value;
	else if (strcmp(name, "findings_total") == 0 &&
	    (k = keyed_get(s->findings, &s->nfindings, METRICS_SUMMARY_KEYS,
	    prom_line_label(l, "check"))) != NULL)
		k->v[0] = l->value;
	else if (strcmp(name, "bounces_total") == 0 &&
	    (k = keyed_get(s->cats, &s->ncats, CATS_MAX,
	    prom_line_label(l, "category"))) != NULL) {
		v = prom_line_label(l, "matched");
		/* each series is one reason: categories add their reasons up */
		k->v[v && strcmp(v, "yes") == 0 ? 1 : v && strcmp(v, "no") == 0 ?
		    2 : 0] += l->value;
	} else if (strcmp(name, "sender_actions_total") == 0 &&
	    (v = prom_line_label(l, "action")) != NULL &&
	    sender_action_parse(v, &sa) == 0)
		s->sender[sa] = l->value;
	else if ((suf = series_of(name, "store_duration_seconds")) != NULL)
		hist_line(s->store, &s->nstore, l, suf, "op");
	else if ((suf = series_of(name, "callback_duration_seconds")) != NULL)
		hist_line(s->stage, &s->nstage, l, suf, "stage");
	else if (strcmp(name, "store_errors_total") == 0 &&
	    (h = hist_get(s->store, &s->nstore, prom_line_label(l, "op"))) != NULL)
		h->errors += l->value;
	else if (strcmp(name, "sessions_active") == 0) {
		s->sessions = l->value;
		s->have_sessions = 1;
	} else if (strcmp(name, "config_reloads_total") == 0 &&
	    (v = prom_line_label(l, "result")) != NULL)
		s->reloads[strcmp(v, "success") == 0] = l->value;
}

void
metrics_summary_feed(struct metrics_summary *s, const char *text, size_t len)
{
	const char *p = text, *end = text + len, *nl;

	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		switch (prom_parse_line(p, (size_t)(nl - p), &s->line)) {
		case PROM_SAMPLE:
			take_sample(s, &s->line);
			break;
		case PROM_BAD:
			s->bad++;
			break;
		default:
			break;
		}
		p = nl + (nl < end);
	}
}

double
metrics_quantile(double q, const double *le, const double *cum, size_t n)
{
	double total, rank, lo, lo_c;
	size_t i;

	if (n == 0 || !(cum[n - 1] > 0))
		return NAN;
	total = cum[n - 1];
	rank = q * total;
	for (i = 0; i < n; i++) {
		if (!(cum[i] >= rank))
			continue;
		if (isinf(le[i]))
			return i > 0 ? le[i - 1] : NAN;
		if (i == 0 && le[0] <= 0)
			return le[0];
		lo = i > 0 ? le[i - 1] : 0;
		lo_c = i > 0 ? cum[i - 1] : 0;
		if (!(cum[i] > lo_c))
			return le[i];
		return lo + (le[i] - lo) * (rank - lo_c) / (cum[i] - lo_c);
	}
	return NAN;
}

/* ---- the text ---- */

/* An escaped copy of an untrusted label value (KEY_MAX bytes at most). */
static const char *
esc(char dst[4 * KEY_MAX + 1], const char *s)
{
	struct buf b;

	buf_init(&b, 4 * KEY_MAX);
	if (log_escape(&b, s, strlen(s), KEY_MAX) != BUF_OK && b.len == 0)
		dst[0] = '\0';
	else
		snprintf(dst, 4 * KEY_MAX + 1, "%s", buf_cstr(&b));
	buf_fini(&b);
	return dst;
}

static int
put_seconds(struct buf *out, double v)
{
	if (isnan(v))
		return buf_puts(out, "-");
	if (v < 0.001)
		return buf_printf(out, "%.0fus", v * 1e6);
	if (v < 1)
		return buf_printf(out, "%.2fms", v * 1e3);
	return buf_printf(out, "%.2fs", v);
}

static int
put_hists(struct buf *out, const char *title, const struct hsum *h, size_t n,
    int errors)
{
	char e[4 * KEY_MAX + 1];
	size_t i;
	int rc;

	if ((rc = buf_printf(out, "%s:\n", title)) != BUF_OK)
		return rc;
	for (i = 0; i < n; i++) {
		if ((rc = buf_printf(out, "  %-16s p50 ", esc(e, h[i].key))) != BUF_OK ||
		    (rc = put_seconds(out, metrics_quantile(0.5, h[i].le, h[i].cum,
		    h[i].n))) != BUF_OK || (rc = buf_puts(out, "  p99 ")) != BUF_OK ||
		    (rc = put_seconds(out, metrics_quantile(0.99, h[i].le, h[i].cum,
		    h[i].n))) != BUF_OK ||
		    (rc = buf_printf(out, "  (%.0f calls", h[i].count)) != BUF_OK ||
		    (errors && (rc = buf_printf(out, ", %.0f errors",
		    h[i].errors)) != BUF_OK) || (rc = buf_puts(out, ")\n")) != BUF_OK)
			return rc;
	}
	return BUF_OK;
}

static int
by_value_desc(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;

	if (x->v[0] != y->v[0])
		return x->v[0] < y->v[0] ? 1 : -1;
	return strcmp(x->key, y->key);
}

static int
put_actions(struct buf *out, const char *title, const double *v)
{
	double total = 0;
	int i, rc;

	if ((rc = buf_printf(out, "%s:", title)) != BUF_OK)
		return rc;
	for (i = 0; i < ACT__COUNT; i++) {
		total += v[i];
		if ((rc = buf_printf(out, " %s %.0f", action_name((enum action)i),
		    v[i])) != BUF_OK)
			return rc;
	}
	return buf_printf(out, " (total %.0f)\n", total);
}

int
metrics_summary_format(const struct metrics_summary *s, struct buf *out)
{
	struct keyed *top;
	char e[4 * KEY_MAX + 1];
	size_t i, shown;
	int rc, any;

#define TRY(x)	do { if ((rc = (x)) != BUF_OK) goto out; } while (0)
	top = NULL;
	TRY(buf_printf(out, "milter-egress %s", s->version[0] ?
	    esc(e, s->version) : "(version unknown)"));
	if (s->have_sessions)
		TRY(buf_printf(out, ": %.0f session(s) active", s->sessions));
	TRY(buf_printf(out, "; reloads %.0f ok, %.0f failed\n", s->reloads[1],
	    s->reloads[0]));
	TRY(put_actions(out, "messages", s->messages));
	for (i = 0, any = 0; i < ACT__COUNT; i++)
		any |= s->would[i] > 0;
	if (any)
		TRY(put_actions(out, "monitor mode would have", s->would));

	TRY(buf_puts(out, "top findings:"));
	if ((top = malloc(sizeof(*top) * (s->nfindings ? s->nfindings : 1))) == NULL) {
		rc = BUF_ERR_NOMEM;
		goto out;
	}
	memcpy(top, s->findings, sizeof(*top) * s->nfindings);
	qsort(top, s->nfindings, sizeof(*top), by_value_desc);
	for (i = 0, shown = 0; i < s->nfindings && shown < TOP_FINDINGS; i++)
		if (top[i].v[0] > 0) {
			TRY(buf_printf(out, "\n  %8.0f  %s", top[i].v[0],
			    esc(e, top[i].key)));
			shown++;
		}
	TRY(buf_puts(out, shown ? "\n" : " none\n"));

	TRY(buf_puts(out, "bounces by category (matched yes / no / unknown):"));
	for (i = 0, shown = 0; i < s->ncats; i++) {
		double t = s->cats[i].v[0] + s->cats[i].v[1] + s->cats[i].v[2];

		if (!(t > 0))
			continue;
		TRY(buf_printf(out, "\n  %-15s %8.0f  (%.0f / %.0f / %.0f)",
		    esc(e, s->cats[i].key), t, s->cats[i].v[1], s->cats[i].v[2],
		    s->cats[i].v[0]));
		shown++;
	}
	TRY(buf_puts(out, shown ? "\n" : " none\n"));

	TRY(buf_puts(out, "sender record:"));
	for (i = SACT_TAG; i < SACT__COUNT; i++)
		TRY(buf_printf(out, " %s %.0f",
		    sender_action_name((enum sender_action)i), s->sender[i]));
	TRY(buf_putc(out, '\n'));
	TRY(put_hists(out, "store latency", s->store, s->nstore, 1));
	TRY(put_hists(out, "callback latency", s->stage, s->nstage, 0));
	if (s->bad > 0)
		TRY(buf_printf(out, "(%zu malformed line(s) ignored)\n", s->bad));
	rc = BUF_OK;
out:
#undef TRY
	free(top);
	return rc;
}
