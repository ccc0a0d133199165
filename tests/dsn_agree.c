/*
 * dsn_agree - agreement of the bounce parser and classifier with a labelled
 * corpus.
 *
 * usage: dsn_agree [-q] [-m MIN_REASON_PERCENT] PATTERNS LABELS.tsv DIR...
 *
 * LABELS.tsv: "file rcpt_index status replycode reason hardbounce" with a
 * header line, tab separated. Each DIR is searched for the file. Prints
 * the percentage of labelled recipients on which reason, category,
 * enhanced status and reply code agree (and hard/soft), then every mismatch. Status
 * agreement is also given over labels carrying a real status: labels of
 * the form x.0.9xx are pseudo codes of other tools, not from the message.
 * Exit status 1 when reason agreement is below MIN_REASON_PERCENT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "egress/classify.h"
#include "egress/config.h"
#include "egress/dsn.h"

#define AGREE_FILE_MAX	(16 * 1024 * 1024)

static char *
slurp(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "rb");
	char *d;
	long sz;

	if (fp == NULL)
		return NULL;
	if (fseek(fp, 0, SEEK_END) != 0 || (sz = ftell(fp)) < 0 ||
	    sz > AGREE_FILE_MAX || fseek(fp, 0, SEEK_SET) != 0 ||
	    (d = malloc((size_t)sz + 1)) == NULL) {
		fclose(fp);
		return NULL;
	}
	*n = fread(d, 1, (size_t)sz, fp);
	d[*n] = '\0';
	fclose(fp);
	return d;
}

static int
pseudo_status(const char *s)
{
	/* "5.0.9xx": a code no MTA sent */
	return strlen(s) == 7 && s[1] == '.' && s[2] == '0' && s[3] == '.' &&
	    s[4] == '9';
}

int
main(int argc, char **argv)
{
	struct cfg_errors errs;
	struct classifier *cl;
	FILE *lf;
	char line[4096], cur[1024] = "";
	struct dsn_report *rep = NULL;
	long total = 0, ok_reason = 0, ok_cat = 0, ok_status = 0, ok_reply = 0;
	long real_status = 0, ok_real_status = 0, ok_hard = 0, soft_as_hard = 0;
	double min_reason = 0, pct;
	int quiet = 0, argi = 1, dirs, first = 1;
	struct buf mism;

	while (argi < argc && argv[argi][0] == '-') {
		if (strcmp(argv[argi], "-q") == 0)
			quiet = 1;
		else if (strcmp(argv[argi], "-m") == 0 && argi + 1 < argc)
			min_reason = atof(argv[++argi]);
		else
			break;
		argi++;
	}
	if (argc - argi < 3) {
		fprintf(stderr, "usage: dsn_agree [-q] [-m MIN] PATTERNS LABELS DIR...\n");
		return 2;
	}
	cfg_errors_init(&errs, argv[argi]);
	if ((cl = classifier_load(argv[argi], NULL, &errs)) == NULL) {
		fprintf(stderr, "%s", buf_cstr(&errs.text));
		return 2;
	}
	cfg_errors_fini(&errs);
	if ((lf = fopen(argv[argi + 1], "r")) == NULL) {
		perror(argv[argi + 1]);
		return 2;
	}
	dirs = argi + 2;
	buf_init(&mism, 0);
	while (fgets(line, sizeof(line), lf)) {
		char *f[6], *s = line, *t;
		int nf = 0, idx, i, reply_want;
		const struct dsn_recipient *r;
		const char *got_reason, *got_status, *want_cat, *got_cat;
		int got_reply, got_hard, want_hard;

		line[strcspn(line, "\r\n")] = '\0';
		if (first) {
			first = 0;
			if (strncmp(line, "file\t", 5) == 0)
				continue;
		}
		while (nf < 6 && (t = strsep(&s, "\t")) != NULL)
			f[nf++] = t;
		if (nf < 6)
			continue;
		if (strcmp(cur, f[0]) != 0) {
			char path[4096];
			char *data = NULL;
			size_t n = 0;

			dsn_report_free(rep);
			rep = NULL;
			for (i = dirs; i < argc && data == NULL; i++) {
				snprintf(path, sizeof(path), "%s/%s", argv[i], f[0]);
				data = slurp(path, &n);
			}
			snprintf(cur, sizeof(cur), "%s", f[0]);
			if (data == NULL) {
				fprintf(stderr, "dsn_agree: %s: not found\n", f[0]);
			} else if (dsn_parse_bytes(cl, data, n, NULL, 0, &rep) != 0) {
				fprintf(stderr, "dsn_agree: %s: out of memory\n", f[0]);
				rep = NULL;
			}
			free(data);
		}
		idx = atoi(f[1]);
		reply_want = atoi(f[3]);
		r = rep && (size_t)idx < rep->nrcpts ? &rep->rcpts[idx] : NULL;
		got_reason = r && rep->kind != DSN_KIND_NONE ? r->cls.reason : "none";
		got_status = r && r->status ? r->status : "";
		got_reply = r ? r->reply_code : 0;
		want_cat = reason_category(f[4]);
		got_cat = reason_category(got_reason);
		total++;
		if (strcmp(got_reason, f[4]) == 0)
			ok_reason++;
		if ((want_cat && got_cat && strcmp(want_cat, got_cat) == 0) ||
		    (want_cat == NULL && got_cat == NULL &&
		    strcmp(got_reason, f[4]) == 0))
			ok_cat++;
		if (strcmp(got_status, f[2]) == 0)
			ok_status++;
		if (f[2][0] && !pseudo_status(f[2]) && strcmp(f[2], "feedback") &&
		    strcmp(f[2], "vacation")) {
			real_status++;
			if (strcmp(got_status, f[2]) == 0)
				ok_real_status++;
		}
		if (got_reply == reply_want)
			ok_reply++;
		got_hard = r && rep->kind != DSN_KIND_NONE && r->cls.hard;
		want_hard = strcmp(f[5], "true") == 0;
		if (got_hard == want_hard)
			ok_hard++;
		else if (got_hard)
			soft_as_hard++;
		if (strcmp(got_reason, f[4]) != 0 || strcmp(got_status, f[2]) != 0 ||
		    got_reply != reply_want || got_hard != want_hard) {
			if (buf_printf(&mism, "%s#%d want %s/%s/%s/%s got %s/%s/%d/%s rcpt=%s diag=%.160s\n",
			    f[0], idx, f[4], f[2][0] ? f[2] : "-", f[3][0] ? f[3] : "-",
			    want_hard ? "hard" : "soft",
			    got_reason, got_status[0] ? got_status : "-", got_reply,
			    got_hard ? "hard" : "soft",
			    r && r->final_rcpt ? r->final_rcpt : "-",
			    r && r->diag ? r->diag : "") != BUF_OK)
				break;
		}
	}
	fclose(lf);
	dsn_report_free(rep);
	classifier_free(cl);
	if (total == 0) {
		fprintf(stderr, "dsn_agree: no labels\n");
		return 2;
	}
	pct = 100.0 * (double)ok_reason / (double)total;
	printf("recipients: %ld\n", total);
	printf("reason:     %5.1f%% (%ld)\n", pct, ok_reason);
	printf("category:   %5.1f%% (%ld)\n", 100.0 * (double)ok_cat / (double)total, ok_cat);
	printf("status:     %5.1f%% (%ld)  on real codes: %5.1f%% (%ld/%ld)\n",
	    100.0 * (double)ok_status / (double)total, ok_status,
	    real_status ? 100.0 * (double)ok_real_status / (double)real_status : 0.0,
	    ok_real_status, real_status);
	printf("reply code: %5.1f%% (%ld)\n", 100.0 * (double)ok_reply / (double)total, ok_reply);
	printf("hard/soft:  %5.1f%% (%ld)  soft called hard: %ld\n",
	    100.0 * (double)ok_hard / (double)total, ok_hard, soft_as_hard);
	if (!quiet && mism.len) {
		printf("mismatches (want reason/status/reply/hard, got ...):\n");
		fputs(buf_cstr(&mism), stdout);
	}
	buf_fini(&mism);
	return pct + 1e-9 < min_reason ? 1 : 0;
}
