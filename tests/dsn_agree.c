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
 *
 * -s dev|held: read only the labels of one half of the corpus, split by
 * the parity of an FNV-1a hash of the file name (stable across runs and
 * machines), so that wordings are studied on one half and the result
 * is judged on the other (tests/dsn_split.sh). Works in both modes.
 *
 * usage: dsn_agree -r [-q] [-m MIN_REASON] [-p MIN_PRECISION] [-c MIN_RECALL]
 *            [-t MIN_PERMANENT] PATTERNS LABELS.tsv DIR...
 *
 * Recipient mode. LABELS.tsv: "file failed action permanent reason", tab
 * separated, failed a comma-separated list of the recipients the notice
 * reports undelivered (failed or delayed; empty when it names none),
 * action "failed", "delayed", "unknown" (no recipient named) or "none"
 * (not a bounce), permanent y/n, reason that of the first one (or of the
 * message), or a comma-separated list of one per failed recipient (the
 * first is the one compared; each decides whether its recipient may be
 * hard). Action and permanent may be such lists too. A recipient counts as reported when the report is a DSN, its
 * action is failed or delayed and its provenance is not "returned".
 * Prints precision and recall of those recipients, agreement of action and
 * permanence on the labelled ones, and of the reason; exit 1 below a floor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* 0: development half, 1: held-back half */
static int
split_half(const char *name)
{
	unsigned long h = 2166136261UL;
	const unsigned char *p;

	for (p = (const unsigned char *)name; *p; p++)
		h = ((h ^ *p) * 16777619UL) & 0xffffffffUL;
	return (int)((h >> 7) & 1);
}

/* -1: every label; otherwise only those of this half */
static int split_want = -1;

static int
in_split(const char *name)
{
	return split_want < 0 || split_half(name) == split_want;
}

static int
in_list(const char *list, const char *addr)
{
	size_t n = strlen(addr);
	const char *p = list;

	while (*p) {
		const char *c = strchr(p, ',');
		size_t k = c ? (size_t)(c - p) : strlen(p);

		if (k == n && strncasecmp(p, addr, n) == 0)
			return 1;
		p += k;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int
reported(const struct dsn_report *rep, const struct dsn_recipient *r)
{
	return rep->kind == DSN_KIND_DSN && r->final_rcpt && r->action &&
	    (strcasecmp(r->action, "failed") == 0 ||
	    strcasecmp(r->action, "delayed") == 0) &&
	    r->provenance != DSN_PROV_RETURNED && r->provenance != DSN_PROV_NONE;
}

/* Index of addr in the comma-separated list, or -1. */
static int
list_pos(const char *list, const char *addr)
{
	size_t n = strlen(addr);
	const char *p = list;
	int i = 0;

	while (*p) {
		const char *c = strchr(p, ',');
		size_t k = c ? (size_t)(c - p) : strlen(p);

		if (k == n && strncasecmp(p, addr, n) == 0)
			return i;
		p += k;
		if (*p == ',')
			p++;
		i++;
	}
	return -1;
}

/* Item i of a comma-separated list into out (the first when there are
 * fewer items). */
static void
list_item(const char *list, int i, char *out, size_t outsz)
{
	const char *p = list, *c;
	size_t k;

	for (; i > 0 && (c = strchr(p, ',')) != NULL; i--)
		p = c + 1;
	if (i > 0)
		p = list;
	c = strchr(p, ',');
	k = c ? (size_t)(c - p) : strlen(p);
	if (k >= outsz)
		k = outsz - 1;
	memcpy(out, p, k);
	out[k] = '\0';
}

/* Does a hard failure fit this reason? */
static int
hard_reason(const char *r)
{
	return strcmp(r, "userunknown") == 0 || strcmp(r, "hostunknown") == 0 ||
	    strcmp(r, "hasmoved") == 0 || strcmp(r, "notaccept") == 0;
}

static int
recipients_mode(const struct classifier *cl, FILE *lf, char **dirs, int ndirs,
    int quiet, double min_reason, double min_prec, double min_rec,
    double min_perm)
{
	char line[8192];
	long tp = 0, fp = 0, fn = 0, msgs = 0, ok_reason = 0, labelled = 0;
	long ok_action = 0, ok_perm = 0, soft_as_hard = 0;
	double prec, rec, perm, reason;
	struct buf mism;
	int i, rc = 0;

	buf_init(&mism, 0);
	while (fgets(line, sizeof(line), lf)) {
		char *f[5], *s = line, *t, *data = NULL, path[4096];
		struct dsn_report *rep = NULL;
		const char *got_reason = "none";
		char rsn[64];
		size_t n = 0, k;
		int nf = 0, first_done = 0;

		line[strcspn(line, "\r\n")] = '\0';
		if (strncmp(line, "file\t", 5) == 0 || line[0] == '\0')
			continue;
		while (nf < 5 && (t = strsep(&s, "\t")) != NULL)
			f[nf++] = t;
		if (nf < 5 || !in_split(f[0]))
			continue;
		for (i = 0; i < ndirs && data == NULL; i++) {
			snprintf(path, sizeof(path), "%s/%s", dirs[i], f[0]);
			data = slurp(path, &n);
		}
		if (data == NULL || dsn_parse_bytes(cl, data, n, NULL, 0, &rep) != 0) {
			fprintf(stderr, "dsn_agree: %s: not read\n", f[0]);
			free(data);
			rc = 2;
			continue;
		}
		free(data);
		msgs++;
		for (k = 0; k < rep->nrcpts; k++) {
			const struct dsn_recipient *r = &rep->rcpts[k];
			int want = r->final_rcpt && in_list(f[1], r->final_rcpt);

			if (!reported(rep, r)) {
				if (want) {
					/* counted below as missed */
				}
				continue;
			}
			if (want) {
				tp++;
				labelled++;
				char act[32], prm[8];
				int at = list_pos(f[1], r->final_rcpt);

				/* action and permanence: one, or one per recipient */
				list_item(f[2], at, act, sizeof(act));
				list_item(f[3], at, prm, sizeof(prm));
				if (strcasecmp(r->action, act) == 0)
					ok_action++;
				else if (buf_printf(&mism, "%s: %s action want %s got %s\n",
				    f[0], r->final_rcpt, act, r->action) != BUF_OK)
					break;
				if ((prm[0] == 'y') == (r->permanent != 0))
					ok_perm++;
				else if (buf_printf(&mism, "%s: %s permanent want %s got %d (action %s)\n",
				    f[0], r->final_rcpt, prm, r->permanent, r->action) != BUF_OK)
					break;
			} else {
				fp++;
				if (buf_printf(&mism, "%s: %s reported, not labelled (provenance %s)\n",
				    f[0], r->final_rcpt, dsn_provenance_name(r->provenance)) != BUF_OK)
					break;
			}
			/* the reason column may give one reason per recipient */
			list_item(f[4], want ? list_pos(f[1], r->final_rcpt) : 0,
			    rsn, sizeof(rsn));
			if (r->cls.hard && !hard_reason(rsn))
				soft_as_hard++;
			if (!first_done && want) {
				got_reason = r->cls.reason;
				first_done = 1;
			}
		}
		/* labelled recipients the report did not give as reported */
		{
			const char *p = f[1];

			while (*p) {
				const char *c = strchr(p, ',');
				size_t len = c ? (size_t)(c - p) : strlen(p);
				int found = 0;

				for (k = 0; k < rep->nrcpts; k++)
					if (reported(rep, &rep->rcpts[k]) &&
					    strlen(rep->rcpts[k].final_rcpt) == len &&
					    strncasecmp(rep->rcpts[k].final_rcpt, p, len) == 0)
						found = 1;
				if (!found) {
					fn++;
					labelled++;
					if (buf_printf(&mism, "%s: %.*s missed\n", f[0],
					    (int)len, p) != BUF_OK)
						break;
				}
				p += len;
				if (*p == ',')
					p++;
			}
		}
		if (!first_done) {
			if (rep->kind == DSN_KIND_NONE)
				got_reason = "none";
			else if (rep->nrcpts > 0)
				got_reason = rep->rcpts[0].cls.reason;
		}
		list_item(f[4], 0, rsn, sizeof(rsn));
		if (strcmp(got_reason, rsn) == 0)
			ok_reason++;
		else if (buf_printf(&mism, "%s: reason want %s got %s\n", f[0], rsn,
		    got_reason) != BUF_OK)
			break;
		dsn_report_free(rep);
	}
	prec = tp + fp ? (double)tp / (double)(tp + fp) : 1.0;
	rec = tp + fn ? (double)tp / (double)(tp + fn) : 1.0;
	perm = labelled ? 100.0 * (double)ok_perm / (double)labelled : 100.0;
	reason = msgs ? 100.0 * (double)ok_reason / (double)msgs : 0.0;
	printf("messages:   %ld, labelled recipients %ld\n", msgs, labelled);
	printf("failed recipients: precision %.3f (%ld/%ld)  recall %.3f (%ld/%ld)\n",
	    prec, tp, tp + fp, rec, tp, tp + fn);
	printf("action:     %5.1f%% (%ld)\n", labelled ? 100.0 * (double)ok_action /
	    (double)labelled : 100.0, ok_action);
	printf("permanent:  %5.1f%% (%ld)\n", perm, ok_perm);
	printf("reason:     %5.1f%% (%ld)\n", reason, ok_reason);
	printf("hard on a soft reason: %ld\n", soft_as_hard);
	if (!quiet && mism.len) {
		printf("mismatches:\n");
		fputs(buf_cstr(&mism), stdout);
	}
	buf_fini(&mism);
	if (rc)
		return rc;
	return prec + 1e-9 < min_prec || rec + 1e-9 < min_rec ||
	    perm + 1e-9 < min_perm || reason + 1e-9 < min_reason ||
	    soft_as_hard > 0 ? 1 : 0;
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
	double min_reason = 0, pct, min_prec = 0, min_rec = 0, min_perm = 0;
	int rmode = 0;
	int quiet = 0, argi = 1, dirs, first = 1;
	struct buf mism;

	while (argi < argc && argv[argi][0] == '-') {
		if (strcmp(argv[argi], "-q") == 0)
			quiet = 1;
		else if (strcmp(argv[argi], "-r") == 0)
			rmode = 1;
		else if (strcmp(argv[argi], "-m") == 0 && argi + 1 < argc)
			min_reason = atof(argv[++argi]);
		else if (strcmp(argv[argi], "-p") == 0 && argi + 1 < argc)
			min_prec = atof(argv[++argi]);
		else if (strcmp(argv[argi], "-c") == 0 && argi + 1 < argc)
			min_rec = atof(argv[++argi]);
		else if (strcmp(argv[argi], "-t") == 0 && argi + 1 < argc)
			min_perm = atof(argv[++argi]);
		else if (strcmp(argv[argi], "-s") == 0 && argi + 1 < argc) {
			argi++;
			if (strcmp(argv[argi], "dev") == 0)
				split_want = 0;
			else if (strcmp(argv[argi], "held") == 0)
				split_want = 1;
			else {
				fprintf(stderr, "dsn_agree: -s dev or -s held\n");
				return 2;
			}
		}
		else
			break;
		argi++;
	}
	if (argc - argi < 3) {
		fprintf(stderr, "usage: dsn_agree [-q] [-s dev|held] [-m MIN] PATTERNS LABELS DIR...\n");
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
	if (rmode) {
		int rc = recipients_mode(cl, lf, argv + dirs, argc - dirs, quiet,
		    min_reason, min_prec, min_rec, min_perm);

		fclose(lf);
		classifier_free(cl);
		return rc;
	}
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
		if (nf < 6 || !in_split(f[0]))
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
