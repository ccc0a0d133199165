/*
 * prom - the Prometheus text exposition format, version 0.0.4.
 *
 * A writer (the daemon's /metrics page) and a line reader (egressctl stats).
 * Both are pure: values and names come from the caller, output goes to a
 * struct buf, input is a caller's line. Nothing here knows which metrics
 * exist (metrics.h does).
 *
 * Writer. One family at a time: prom_family() writes its # HELP and # TYPE
 * lines, then samples follow. Metric and label names are the caller's
 * constants and must be valid names ([a-zA-Z_:][a-zA-Z0-9_:]*, labels
 * without ':'): anything else is a programming error (asserted). Label
 * values and HELP text are escaped as the format says: backslash, double
 * quote (label values only) and line feed become \\, \" and \n. Values are
 * written so that they read back exactly (counters as integers; floats in
 * the shortest form that parses back; +Inf, -Inf, NaN).
 *
 * Reader. prom_parse_line() reads one line of an exposition: a comment or
 * blank line is skipped, a sample gives its name, its labels (unescaped)
 * and its value. Names, label counts and label values are bounded
 * (PROM_NAME_MAX, PROM_LABELS_MAX, PROM_VALUE_MAX); a line over a bound or
 * not in the format is PROM_BAD, never a crash.
 */
#ifndef EGRESS_PROM_H
#define EGRESS_PROM_H

#include <stddef.h>
#include <stdint.h>

#include "egress/buf.h"

struct prom_label {
	const char	*name;
	const char	*value;		/* any bytes but NUL: escaped on output */
};

/* # HELP and # TYPE lines; type is "counter", "gauge" or "histogram". */
EGRESS_WUR int	prom_family(struct buf *out, const char *name,
		    const char *type, const char *help);
/* One sample line: name{labels} value. */
EGRESS_WUR int	prom_sample_u64(struct buf *out, const char *name,
		    const struct prom_label *labels, size_t nlabels, uint64_t value);
EGRESS_WUR int	prom_sample_i64(struct buf *out, const char *name,
		    const struct prom_label *labels, size_t nlabels, int64_t value);
EGRESS_WUR int	prom_sample_f(struct buf *out, const char *name,
		    const struct prom_label *labels, size_t nlabels, double value);
/*
 * The samples of one histogram: name_bucket{labels,le="B"} for each bound in
 * bounds (ascending) and le="+Inf", then name_sum and name_count. counts has
 * nbounds + 1 entries, the observations of each bucket alone (the last one
 * those over the highest bound); the writer makes them cumulative, so the
 * +Inf bucket equals _count.
 */
EGRESS_WUR int	prom_histogram(struct buf *out, const char *name,
		    const struct prom_label *labels, size_t nlabels,
		    const double *bounds, size_t nbounds, const uint64_t *counts,
		    double sum);

/* Append value the way the format writes it (also for "le" values). */
EGRESS_WUR int	prom_put_double(struct buf *out, double value);

#define PROM_NAME_MAX	128	/* bytes of a metric or label name, with NUL */
#define PROM_VALUE_MAX	256	/* bytes of a label value (unescaped), with NUL */
#define PROM_LABELS_MAX	8

struct prom_line {
	char	 name[PROM_NAME_MAX];
	size_t	 nlabels;
	struct {
		char	name[PROM_NAME_MAX];
		char	value[PROM_VALUE_MAX];
	}	 labels[PROM_LABELS_MAX];
	double	 value;
	int	 has_timestamp;
	int64_t	 timestamp;	/* milliseconds, when has_timestamp */
};

enum prom_parse_rc {
	PROM_SAMPLE = 0,	/* *out holds a sample */
	PROM_SKIP = 1,		/* blank line or comment (# HELP, # TYPE, # ...) */
	PROM_BAD = -1,		/* not a line of the format, or over a bound */
};

/*
 * Parse line[0..len) (without its line feed; a trailing CR is accepted).
 * Returns an enum prom_parse_rc; out is filled only for PROM_SAMPLE.
 */
int	prom_parse_line(const char *line, size_t len, struct prom_line *out);

/* The value of label name in l, or NULL. Returns a pointer into l. */
const char	*prom_line_label(const struct prom_line *l, const char *name);

#endif
