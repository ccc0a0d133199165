/*
 * fuzz_scan.c - libFuzzer target for the whole outbound scan.
 *
 * The input is a raw message fed through scan_raw() in chunks whose sizes
 * come from the first input byte, then the verdict, the tag header value and
 * the log line are built, as the daemon does. The same bytes are fed a
 * second time in one piece and must give the same set of findings: the
 * result may not depend on the chunking (the order may: body and MIME
 * checks see a chunk one after the other). A bounce-candidate envelope (null sender)
 * makes the DSN parser run as well.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "egress/config.h"
#include "egress/policy.h"
#include "egress/scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct config *cfg;

static int
cmp_id(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Run one scan; returns the sorted finding ids, comma-joined (malloc'd). */
static char *
run(const uint8_t *data, size_t size, size_t chunk, const struct envelope *env)
{
	struct scan *s = scan_new(cfg, env);
	struct findings *f;
	struct verdict v;
	struct buf out;
	const char **ids;
	size_t off, i;

	assert(s != NULL);
	for (off = 0; off < size; off += chunk)
		if (scan_raw(s, (const char *)data + off,
		    size - off < chunk ? size - off : chunk) != 0)
			abort();
	if (scan_finish(s) != 0)
		abort();
	f = scan_findings(s);
	policy_decide(cfg, env, f, scan_is_bounce(s), &v);
	buf_init(&out, 0);
	if (policy_tag_value(f, &v, &out) != 0 ||
	    policy_log_line(env, f, &v, &out) != 0)
		abort();
	buf_reset(&out);
	if ((ids = calloc(f->n + 1, sizeof(*ids))) == NULL)
		abort();
	for (i = 0; i < f->n; i++)
		ids[i] = f->v[i].id;
	qsort(ids, f->n, sizeof(*ids), cmp_id);
	for (i = 0; i < f->n; i++)
		if (buf_printf(&out, "%s%s", i ? "," : "", ids[i]) != 0)
			abort();
	free(ids);
	scan_free(s);
	return buf_steal(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct envelope env = { .mail_from = "", .now = 1795000000LL,
	    .esmtp_size = -1 };
	char *a, *b;
	size_t chunk;

	if (cfg == NULL && (cfg = config_default()) == NULL)
		abort();
	if (size < 1)
		return 0;
	chunk = (size_t)data[0] % 97 + 1;
	data++;
	size--;
	a = run(data, size, chunk, &env);
	b = run(data, size, size ? size : 1, &env);
	assert(strcmp(a, b) == 0);
	free(a);
	free(b);
	return 0;
}
