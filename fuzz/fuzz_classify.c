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
 * Vectorscan 5.4.9 (Debian 12) misses matches past the first 64 bytes of
 * a text for some pattern sets, and for some single patterns
 * ("-(?:P[12]|T1)\b", caseless, in 72 'a's then " POL-P2"; README,
 * bounce.engine). A difference is taken for that, and not aborted on, only
 * when the scan left out a line that PCRE2 matches (so the combining of
 * the answers is not at fault) and either the diagnostic is longer than
 * 64 bytes or a database of that line alone does report it. Every other
 * difference aborts: one the scan did not cause, or a line missed in a
 * short text (what a wrong fold of non-ASCII text would give).
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

/*
 * Whether the one-pass scan of a file holding only line `line` of text
 * finds that line in diag: when it does, and the whole file's database
 * missed it, the miss is Vectorscan's (5.4.9 loses matches of some pattern
 * sets that it finds for each pattern alone), not this program's.
 */
static int
found_alone(const char *text, unsigned line, const char *diag)
{
	struct cfg_errors errs;
	struct classifier *one;
	struct buf b;
	const char *p = text, *e;
	unsigned l, dummy;
	int rc = 0;

	for (l = 1; l < line && p != NULL; l++)
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	if (p == NULL)
		return 0;
	e = strchr(p, '\n');
	buf_init(&b, 0);
	if (buf_puts(&b, "[specific]\n") != BUF_OK ||
	    buf_append(&b, p, e ? (size_t)(e - p) : strlen(p)) != BUF_OK) {
		buf_fini(&b);
		return 0;
	}
	cfg_errors_init(&errs, "fuzz");
	one = classifier_load_string(buf_cstr(&b), "fuzz", NULL, &errs);
	cfg_errors_fini(&errs);
	if (one != NULL)
		rc = classifier_scan_miss(one, diag, &dummy) == 0;
	classifier_free(one);
	buf_fini(&b);
	return rc;
}

static void
same(struct classifier *a, const struct classifier *b, const char *diag,
    const char *text)
{
	static const char *const statuses[] = { "5.0.0", "5.1.1", "" };
	size_t i;
	unsigned line;

	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		struct classification x, y;

		classify(a, statuses[i], 550, diag, &x);
		classify(b, statuses[i], 550, diag, &y);
		if (strcmp(x.reason, y.reason) == 0 &&
		    strcmp(x.source, y.source) == 0)
			continue;
		if (classifier_scan_miss(a, diag, &line) == 1 &&
		    (strlen(diag) > 64 || found_alone(text, line, diag))) {
			fprintf(stderr, "Vectorscan's own miss: line %u (past "
			    "the first 64 bytes, or found alone)\n", line);
			return;
		}
		fprintf(stderr, "engines differ on \"%s\": %s/%s vs %s/%s\n",
		    diag, x.reason, x.source, y.reason, y.source);
		abort();
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
		same(a, b, diag, text);
	else {
		char *copy = strdup(text);

		for (line = copy ? strtok_r(copy, "\n", &save) : NULL; line;
		    line = strtok_r(NULL, "\n", &save))
			same(a, b, line, text);
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
