/*
 * dsn_bench - bounce parsing and classification throughput, single thread.
 *
 * usage: bench/dsn_bench PATTERNS ROUNDS FILE.eml...
 *
 * The files are read into memory first; each round parses every file from
 * its bytes (header split, streaming MIME, DSN extraction, classification)
 * and frees the report. Prints messages/s, recipients/s and the time per
 * message, and the classify() rate alone over the extracted diagnostics.
 * Prints figures, asserts nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "egress/classify.h"
#include "egress/config.h"
#include "egress/dsn.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	struct cfg_errors errs;
	struct classifier *cl;
	char **data;
	size_t *len, nfiles, i, bytes = 0, rcpts = 0, ndiag = 0;
	char **diags, **stats;
	int *replies;
	long rounds, r;
	double t0, t1, t2;

	if (argc < 4) {
		fprintf(stderr, "usage: dsn_bench PATTERNS ROUNDS FILE.eml...\n");
		return 2;
	}
	cfg_errors_init(&errs, argv[1]);
	if ((cl = classifier_load(argv[1], NULL, &errs)) == NULL) {
		fputs(buf_cstr(&errs.text), stderr);
		return 2;
	}
	cfg_errors_fini(&errs);
	rounds = atol(argv[2]);
	nfiles = (size_t)argc - 3;
	data = calloc(nfiles, sizeof(*data));
	len = calloc(nfiles, sizeof(*len));
	diags = calloc(nfiles * 16, sizeof(*diags));
	stats = calloc(nfiles * 16, sizeof(*stats));
	replies = calloc(nfiles * 16, sizeof(*replies));
	if (!data || !len || !diags || !stats || !replies)
		return 1;
	for (i = 0; i < nfiles; i++) {
		FILE *fp = fopen(argv[3 + i], "rb");
		long sz;

		if (fp == NULL || fseek(fp, 0, SEEK_END) != 0 || (sz = ftell(fp)) < 0 ||
		    fseek(fp, 0, SEEK_SET) != 0 || (data[i] = malloc((size_t)sz)) == NULL)
			return 1;
		len[i] = fread(data[i], 1, (size_t)sz, fp);
		bytes += len[i];
		fclose(fp);
	}
	/* warm up, and collect diagnostics for the classify()-only figure */
	for (i = 0; i < nfiles; i++) {
		struct dsn_report *rep;
		size_t k;

		if (dsn_parse_bytes(cl, data[i], len[i], NULL, 0, &rep) != 0)
			return 1;
		for (k = 0; k < rep->nrcpts && ndiag < nfiles * 16; k++) {
			diags[ndiag] = rep->rcpts[k].diag ? strdup(rep->rcpts[k].diag) : NULL;
			stats[ndiag] = rep->rcpts[k].status ? strdup(rep->rcpts[k].status) : NULL;
			replies[ndiag++] = rep->rcpts[k].reply_code;
		}
		dsn_report_free(rep);
	}
	t0 = now();
	for (r = 0; r < rounds; r++)
		for (i = 0; i < nfiles; i++) {
			struct dsn_report *rep;

			if (dsn_parse_bytes(cl, data[i], len[i], NULL, 0, &rep) != 0)
				return 1;
			rcpts += rep->nrcpts;
			dsn_report_free(rep);
		}
	t1 = now();
	for (r = 0; r < rounds; r++)
		for (i = 0; i < ndiag; i++) {
			struct classification c;

			classify(cl, stats[i], replies[i], diags[i], &c);
		}
	t2 = now();
	printf("files: %zu (%.1f KiB), rounds: %ld, pattern entries: %zu\n",
	    nfiles, (double)bytes / 1024, rounds, classifier_count(cl));
	printf("parse+classify: %.0f messages/s, %.0f recipients/s, %.1f us/message, %.1f MB/s\n",
	    (double)(nfiles * (size_t)rounds) / (t1 - t0), (double)rcpts / (t1 - t0),
	    (t1 - t0) * 1e6 / (double)(nfiles * (size_t)rounds),
	    (double)bytes * (double)rounds / (t1 - t0) / 1e6);
	printf("classify() alone: %.0f classifications/s (%zu diagnostics)\n",
	    (double)(ndiag * (size_t)rounds) / (t2 - t1), ndiag);
	classifier_free(cl);
	return 0;
}
