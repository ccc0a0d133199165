/*
 * fuzz_prom - what egressctl stats does with a page a server sent: every
 * line through prom_parse_line(), the whole page through the summary and
 * its text. Checks: a sample's name and label values are NUL-terminated
 * within their bounds, a sample written back by the writer reads back the
 * same, and the summary never fails but for memory.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "egress/buf.h"
#include "egress/metrics.h"
#include "egress/prom.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Write l back with the writer and read it again: the same sample. */
static void
round_trip(const struct prom_line *l)
{
	struct prom_label labels[PROM_LABELS_MAX];
	struct prom_line again;
	struct buf b;
	size_t i;

	for (i = 0; i < l->nlabels; i++) {
		if (memchr(l->labels[i].value, '\0', PROM_VALUE_MAX) == NULL ||
		    memchr(l->labels[i].name, '\0', PROM_NAME_MAX) == NULL)
			abort();
		labels[i].name = l->labels[i].name;
		labels[i].value = l->labels[i].value;
	}
	buf_init(&b, 0);
	if (prom_sample_f(&b, l->name, labels, l->nlabels, l->value) != BUF_OK) {
		buf_fini(&b);
		return;
	}
	/* an escaped value may be longer than a line the reader takes; the
	 * reader's bounds are on unescaped values, so it must still fit */
	if (prom_parse_line(b.data, b.len - 1, &again) != PROM_SAMPLE ||
	    strcmp(again.name, l->name) != 0 || again.nlabels != l->nlabels)
		abort();
	for (i = 0; i < l->nlabels; i++)
		if (strcmp(again.labels[i].value, l->labels[i].value) != 0)
			abort();
	if (again.value != l->value && !(again.value != again.value &&
	    l->value != l->value))
		abort();
	buf_fini(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *nl;
	struct metrics_summary *s;
	struct prom_line l;
	struct buf out;

	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (prom_parse_line(p, (size_t)(nl - p), &l) == PROM_SAMPLE) {
			if (memchr(l.name, '\0', PROM_NAME_MAX) == NULL)
				abort();
			round_trip(&l);
		}
		p = nl + (nl < end);
	}
	if ((s = metrics_summary_new()) == NULL)
		return 0;
	metrics_summary_feed(s, (const char *)data, size);
	buf_init(&out, 0);
	if (metrics_summary_format(s, &out) == BUF_ERR_LIMIT)
		abort();
	buf_fini(&out);
	metrics_summary_free(s);
	return 0;
}
