/*
 * fuzz_dsn - libFuzzer target for the DSN parser and classifier.
 *
 * Input: a whole message (the test messages under tests/data/dsn are the
 * seeds). It is parsed from a file image in one body chunk and in chunks
 * of 1 + size % 61 bytes; the two reports, printed through the JSON, log
 * and header formatters, must be identical, else abort(). The shipped
 * pattern file is compiled once, so the PCRE2 limits are exercised too.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "egress/buf.h"
#include "egress/classify.h"
#include "egress/config.h"
#include "egress/dsn.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct classifier *cl;

static int
run(struct buf *out, const char *msg, size_t len, size_t chunk)
{
	struct dsn_report *rep = NULL;
	size_t i, n;

	if (dsn_parse_bytes(cl, msg, len, NULL, chunk, &rep) != 0)
		return -1;
	n = rep->nrcpts ? rep->nrcpts : 1;
	for (i = 0; i < n; i++)
		if (dsn_format_json(out, rep, i, "f") != BUF_OK ||
		    dsn_format_log(out, rep, i) != BUF_OK) {
			dsn_report_free(rep);
			return -1;
		}
	if (dsn_format_header(out, rep) != BUF_OK) {
		dsn_report_free(rep);
		return -1;
	}
	dsn_report_free(rep);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf a, b;

	if (cl == NULL) {
		struct cfg_errors errs;

		cfg_errors_init(&errs, "bounce-patterns.conf");
		cl = classifier_load(SRCDIR "/conf/bounce-patterns.conf", NULL, &errs);
		cfg_errors_fini(&errs);
		if (cl == NULL)
			abort();
	}
	buf_init(&a, 0);
	buf_init(&b, 0);
	if (run(&a, (const char *)data, size, 0) != 0 ||
	    run(&b, (const char *)data, size, 1 + size % 61) != 0)
		abort();	/* no allocation failure expected here */
	if (a.len != b.len || memcmp(buf_cstr(&a), buf_cstr(&b), a.len) != 0)
		abort();	/* chunking changed the result */
	buf_fini(&a);
	buf_fini(&b);
	return 0;
}
