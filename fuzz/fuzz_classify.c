/*
 * fuzz_classify - libFuzzer target for the bounce pattern file and the two
 * matching engines.
 *
 * Input: a pattern file, a NUL byte, then a diagnostic text (without a NUL,
 * the input is the pattern file and its lines are the diagnostics). The
 * file is loaded twice, one copy with the one-pass (Vectorscan) engine and
 * one with PCRE2 alone; every diagnostic is classified by both and the two
 * answers must be the same, else abort(). A serialized database of the
 * first copy must load back for the same text, and random bytes handed in
 * as a database must be refused without harm.
 *
 * An abort can be Vectorscan's own: 5.4.9 (Debian 12) misses matches past
 * the first 64 bytes of a text for some pattern sets, depending on where
 * the text lies in memory (README, bounce.engine). Such a finding is
 * reduced and, when it is the library's, documented rather than fixed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "egress/buf.h"
#include "egress/cfg.h"
#include "egress/classify.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
same(const struct classifier *a, const struct classifier *b, const char *diag)
{
	static const char *const statuses[] = { "5.0.0", "5.1.1", "" };
	size_t i;

	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		struct classification x, y;

		classify(a, statuses[i], 550, diag, &x);
		classify(b, statuses[i], 550, diag, &y);
		if (strcmp(x.reason, y.reason) != 0 ||
		    strcmp(x.source, y.source) != 0) {
			fprintf(stderr, "engines differ on \"%s\": %s/%s vs %s/%s\n",
			    diag, x.reason, x.source, y.reason, y.source);
			abort();
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_errors errs;
	struct classifier *a, *b, *c;
	struct buf db;
	char *text, *diag, *line, *save = NULL;
	const char *nul;

	if (size > 8192)
		return 0;
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	nul = memchr(data, '\0', size);
	diag = nul ? text + (nul - (const char *)data) + 1 : NULL;
	cfg_errors_init(&errs, "fuzz");
	a = classifier_load_string(text, "fuzz", NULL, &errs);
	b = classifier_load_string(text, "fuzz", NULL, &errs);
	cfg_errors_fini(&errs);
	if (a == NULL || b == NULL) {
		classifier_free(a);
		classifier_free(b);
		free(text);
		return 0;
	}
	classifier_use_pcre2(b);
	(void)classifier_prepare(a);
	if (diag != NULL)
		same(a, b, diag);
	else {
		char *copy = strdup(text);

		for (line = copy ? strtok_r(copy, "\n", &save) : NULL; line;
		    line = strtok_r(NULL, "\n", &save))
			same(a, b, line);
		free(copy);
	}
	buf_init(&db, CLASSIFY_DB_MAX);
	cfg_errors_init(&errs, "fuzz");
	if (classifier_db_serialize(a, &db) == 0) {
		c = classifier_load_string_db(text, "fuzz", NULL, db.data, db.len,
		    &errs);
		if (c == NULL || strcmp(classifier_engine(c), "vectorscan") != 0)
			abort();
		classifier_free(c);
	}
	/* the input itself as a database: refused, never read by Vectorscan */
	c = classifier_load_string_db(text, "fuzz", NULL, data, size, &errs);
	classifier_free(c);
	cfg_errors_fini(&errs);
	buf_fini(&db);
	classifier_free(a);
	classifier_free(b);
	free(text);
	return 0;
}
