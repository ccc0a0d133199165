/*
 * cmd_diagnose.c - egressctl diagnose FILE.eml|ADDR|@DOMAIN [--json]
 *
 * For a bounce file: every failed recipient is classified as `classify`
 * does, and each distinct (category, reason, named IP, recipient domain)
 * is diagnosed once with the checks its bucket calls for. For an address:
 * its sender record (as `egressctl sender` prints it) and every check for
 * its domain; for @DOMAIN every check for the domain.
 *
 * What the returned copy says about authentication is read from the
 * bounce's body as lines: the last "From:" header line (the returned
 * message's author; the domain DMARC is about), "Return-Path:" (the
 * envelope domain SPF is about; else the report's original sender), and
 * every "DKIM-Signature:" field with its continuation lines.
 *
 * DNS goes through libunbound (dns_unbound.c), bounded by
 * diagnose.max_queries per diagnosis and diagnose.timeout_ms per query.
 */
#include <ctype.h>
#include <errno.h>
#include <libpsl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "egress/config.h"
#include "egress/diagnose.h"
#include "egress/dsn.h"
#include "egress/json.h"
#include "egress/store.h"

#include "commands.h"
#include "../dns/dns_unbound.h"

#define DIAG_FILE_MAX	(16 * 1024 * 1024)
#define DIAG_FIELD_MAX	8192	/* bytes of one unfolded header field */

struct returned {
	char		from_addr[320];
	char		from_domain[256];
	char		rp_domain[256];
	struct dkim_sig	sigs[DIAG_MAX_SIGS];
	size_t		nsigs;
	int		copy;		/* header lines of a returned copy seen */
};

static char *
slurp(const char *file, size_t *n)
{
	FILE *fp = strcmp(file, "-") == 0 ? stdin : fopen(file, "rb");
	struct buf b;
	char chunk[65536];
	size_t k;

	if (fp == NULL)
		return NULL;
	buf_init(&b, DIAG_FILE_MAX);
	while ((k = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (buf_append(&b, chunk, k) != BUF_OK)
			break;
	if (fp != stdin)
		fclose(fp);
	*n = b.len;
	return b.data ? buf_steal(&b) : strdup("");
}

/* The domain of the last address in a header value ("A <a@b.example>"). */
static void
addr_domain(const char *v, char *out, size_t outlen)
{
	const char *at = NULL, *p, *end;

	out[0] = '\0';
	for (p = v; *p; p++)
		if (*p == '@')
			at = p;
	if (at == NULL)
		return;
	for (end = at + 1; *end && (isalnum((unsigned char)*end) || *end == '.' ||
	    *end == '-' || *end == '_'); end++)
		;
	while (end > at + 1 && end[-1] == '.')
		end--;
	if (end > at + 1)
		snprintf(out, outlen, "%.*s", (int)(end - at - 1), at + 1);
	for (char *q = out; *q; q++)
		*q = (char)tolower((unsigned char)*q);
}

/* Read the returned copy's From, Return-Path and DKIM-Signature lines. */
static void
scan_returned(const char *data, size_t n, struct returned *r)
{
	const char *p = data, *end = data + n, *body;
	char field[DIAG_FIELD_MAX];

	memset(r, 0, sizeof(*r));
	/* skip the bounce's own header block */
	body = NULL;
	for (; p < end; ) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (nl ? (size_t)(nl - p) : (size_t)(end - p));

		if (len == 0 || (len == 1 && p[0] == '\r')) {
			body = nl ? nl + 1 : end;
			break;
		}
		p = nl ? nl + 1 : end;
	}
	if (body == NULL)
		return;
	for (p = body; p < end; ) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl ? nl + 1 : end;
		size_t fl = 0;
		int which = 0;

		if (strncasecmp(p, "From:", 5) == 0)
			which = 1;
		else if (strncasecmp(p, "Return-Path:", 12) == 0)
			which = 2;
		else if (strncasecmp(p, "DKIM-Signature:", 15) == 0)
			which = 3;
		if (which == 0) {
			p = next;
			continue;
		}
		/* unfold: the line and its continuation lines */
		for (const char *q = p; q < end; ) {
			const char *qn = memchr(q, '\n', (size_t)(end - q));
			const char *qe = qn ? qn : end;

			if (q != p && *q != ' ' && *q != '\t')
				break;
			for (const char *c = q; c < qe; c++)
				if (*c != '\r' && fl + 1 < sizeof(field))
					field[fl++] = *c == '\t' ? ' ' : *c;
			q = qn ? qn + 1 : end;
			next = q;
		}
		field[fl] = '\0';
		r->copy = 1;
		if (which == 1) {
			const char *lt = strrchr(field + 5, '<');

			addr_domain(field + 5, r->from_domain, sizeof(r->from_domain));
			snprintf(r->from_addr, sizeof(r->from_addr), "%.300s", lt ? lt : field + 5);
		}
		else if (which == 2)
			addr_domain(field + 12, r->rp_domain, sizeof(r->rp_domain));
		else if (r->nsigs < DIAG_MAX_SIGS &&
		    dkim_sig_parse(field + 15, &r->sigs[r->nsigs]) == 0)
			r->nsigs++;
		p = next;
	}
}

struct run {
	struct dns_unbound	*ub;
	struct store		*st;		/* evidence goes here, or NULL */
	unsigned		 recorded;	/* evidence fields written */
	struct diag_conf	 dc;
	const struct diagnose_conf *conf;
	int			 json;
	struct json		 jw;
	struct buf		 jb;
};

static int
emit(struct run *run, const char *label, const struct diag_result *res,
    const char *const *extra)
{
	if (run->json) {
		json_obj_begin(&run->jw);
		json_kv_str(&run->jw, "subject", label);
		for (; extra && extra[0]; extra += 2)
			json_kv_str(&run->jw, extra[0], extra[1]);
		diag_format_json_members(&run->jw, res);
		json_obj_end(&run->jw);
		return 0;
	} else {
		struct buf b;
		int rc;

		buf_init(&b, 0);
		printf("== %s\n", label);
		for (; extra && extra[0]; extra += 2)
			printf("  %-6s %s\n", extra[0], extra[1]);
		rc = diag_format_text(&b, res);
		if (rc == 0)
			fputs(buf_cstr(&b), stdout);
		buf_fini(&b);
		return rc;
	}
}

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Diagnose; *queries and *ms get what it cost. */
static void
run_one(struct run *run, const struct diag_subject *s, struct diag_result *res,
    unsigned *queries, long long *ms)
{
	struct dns_client dns;
	long long t0 = mono_ms();

	dns_client_init(&dns, dns_unbound_query, run->ub, (unsigned)run->conf->max_queries);
	diagnose_run(&dns, &run->dc, s, res);
	*queries = dns.asked;
	*ms = mono_ms() - t0;
}

/*
 * The sender record gains the evidence: every failed check of a bounce's
 * diagnosis is counted under the original sender as "x/BUCKET/CHECK TEXT"
 * (egressctl sender lists them). Evidence never triggers a policy rule.
 */
static void
record_evidence(struct run *run, const char *sender, const struct diag_result *res)
{
	char norm[STORE_ADDR_MAX], key[STORE_ADDR_MAX + 8];
	char fields[DIAG_MAX_CHECKS][STORE_FIELD_MAX];
	const char *fv[DIAG_MAX_CHECKS];
	size_t i, n = 0;
	int rc;

	if (run->st == NULL || sender == NULL)
		return;
	store_addr_norm(sender, norm, sizeof(norm));
	if (norm[0] == '\0' || strchr(norm, '@') == NULL || norm[0] == '@')
		return;
	snprintf(key, sizeof(key), "env:%s", norm);
	for (i = 0; i < res->n; i++) {
		const struct diag_check *c = &res->checks[i];

		if (c->verdict != DIAG_FAIL || c->evidence[0] == '\0')
			continue;
		snprintf(fields[n], sizeof(fields[n]), "x/%s/%s %s", res->bucket,
		    c->name, c->evidence);
		fv[n] = fields[n];
		n++;
	}
	if (n == 0)
		return;
	rc = store_event_add(run->st, key, (int64_t)time(NULL), fv, n);
	if (rc == STORE_OK)
		rc = store_flush(run->st);
	if (rc != STORE_OK)
		fprintf(stderr, "egressctl diagnose: %s: evidence not recorded (store error)\n", key);
	else
		run->recorded += (unsigned)n;
}

/* printable copy of untrusted text for the "bounce" line */
static void
printable(const char *in, char *out, size_t outlen)
{
	size_t n = 0;

	for (; in && *in && n + 1 < outlen; in++)
		out[n++] = (unsigned char)*in >= ' ' && (unsigned char)*in < 0x7f ? *in : '?';
	out[n] = '\0';
}

static int
diagnose_file(struct run *run, const struct config *cfg, const char *file)
{
	struct dsn_report *rep = NULL;
	struct returned ret;
	struct diag_result *res;
	char *data;
	size_t n, i, j;
	int status = 0;
	char seen[DIAG_MAX_CHECKS][400];
	size_t nseen = 0;

	if ((data = slurp(file, &n)) == NULL) {
		fprintf(stderr, "egressctl diagnose: %s: %s\n", file, strerror(errno));
		return CTL_EXIT_DATAERR;
	}
	if (dsn_parse_bytes(cfg->bounce.classifier, data, n, NULL, 0, &rep) != 0) {
		fprintf(stderr, "egressctl diagnose: %s: out of memory\n", file);
		free(data);
		return CTL_EXIT_SOFTWARE;
	}
	scan_returned(data, n, &ret);
	if ((res = malloc(sizeof(*res))) == NULL) {
		dsn_report_free(rep);
		free(data);
		return CTL_EXIT_SOFTWARE;
	}
	if (rep->kind != DSN_KIND_DSN || rep->nrcpts == 0) {
		fprintf(stderr, "egressctl diagnose: %s: not a bounce (%s)\n", file,
		    dsn_kind_name(rep->kind));
		status = CTL_EXIT_DATAERR;
	}
	for (i = 0; status == 0 && i < rep->nrcpts; i++) {
		const struct dsn_recipient *r = &rep->rcpts[i];
		struct diag_subject s;
		char ip[64], rdom[256], key[400], label[600], line[400], hard[8];
		char diag[300], cost[64], sdom[256];
		const char *extra[9];
		unsigned queries;
		long long ms;

		memset(&s, 0, sizeof(s));
		s.category = r->cls.category;
		s.reason = r->cls.reason;
		if (diag_find_ip(r->diag, ip, sizeof(ip)))
			s.named_ip = ip;
		addr_domain(r->final_rcpt ? r->final_rcpt : "", rdom, sizeof(rdom));
		s.rcpt_domain = rdom[0] ? rdom : NULL;
		s.from_domain = ret.from_domain[0] ? ret.from_domain : NULL;
		if (ret.rp_domain[0])
			s.mailfrom_domain = ret.rp_domain;
		else if (rep->sender) {
			addr_domain(rep->sender, sdom, sizeof(sdom));
			s.mailfrom_domain = sdom[0] ? sdom : NULL;
		}
		if (s.from_domain == NULL)
			s.from_domain = s.mailfrom_domain;
		s.sigs = ret.sigs;
		s.nsigs = ret.nsigs;
		s.copy_returned = ret.copy;
		/* one diagnosis per distinct failure */
		snprintf(key, sizeof(key), "%s|%s|%s|%s", s.category ? s.category : "",
		    s.reason ? s.reason : "", s.named_ip ? s.named_ip : "", rdom);
		for (j = 0; j < nseen; j++)
			if (strcmp(seen[j], key) == 0)
				break;
		if (j < nseen)
			continue;
		if (nseen < DIAG_MAX_CHECKS)
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", key);
		run_one(run, &s, res, &queries, &ms);
		record_evidence(run, rep->sender ? rep->sender : ret.from_addr[0] ?
		    ret.from_addr : NULL, res);
		printable(r->diag, diag, sizeof(diag));
		printable(r->final_rcpt, line, sizeof(line));
		snprintf(label, sizeof(label), "%s: %s", file, line);
		snprintf(line, sizeof(line), "%s %d %s reason=%s category=%s",
		    r->status ? r->status : "-", r->reply_code, r->action ? r->action : "",
		    s.reason ? s.reason : "-", s.category ? s.category : "-");
		snprintf(hard, sizeof(hard), "%s", r->cls.hard ? "yes" : "no");
		extra[0] = "bounce"; extra[1] = line;
		extra[2] = "hard"; extra[3] = hard;
		extra[4] = "diag"; extra[5] = diag;
		snprintf(cost, sizeof(cost), "%u queries, %lld ms", queries, ms);
		extra[6] = "dns"; extra[7] = cost;
		extra[8] = NULL;
		if (emit(run, label, res, extra) != 0)
			status = CTL_EXIT_SOFTWARE;
	}
	free(res);
	dsn_report_free(rep);
	free(data);
	return status;
}

static int
diagnose_domain(struct run *run, const char *label, const char *domain)
{
	struct diag_subject s;
	struct diag_result *res;
	const char *extra[3];
	char cost[64];
	unsigned queries;
	long long ms;
	int rc;

	if ((res = malloc(sizeof(*res))) == NULL)
		return CTL_EXIT_SOFTWARE;
	memset(&s, 0, sizeof(s));
	s.from_domain = s.mailfrom_domain = s.rcpt_domain = domain;
	run_one(run, &s, res, &queries, &ms);
	snprintf(cost, sizeof(cost), "%u queries, %lld ms", queries, ms);
	extra[0] = "dns"; extra[1] = cost; extra[2] = NULL;
	rc = emit(run, label, res, extra) == 0 ? 0 : CTL_EXIT_SOFTWARE;
	free(res);
	return rc;
}

int
cmd_diagnose(const struct ctl_opts *o, int argc, char **argv)
{
	struct config *cfg;
	struct run run;
	psl_ctx_t *psl;
	int status = 0, i, rc, nargs = 0, psl_owned = 0, record = 1;

	memset(&run, 0, sizeof(run));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			run.json = 1;
		else if (strcmp(argv[i], "--no-record") == 0)
			record = 0;
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			printf("usage: egressctl diagnose [--json] [--no-record] FILE.eml|ADDR|@DOMAIN...\n");
			return CTL_EXIT_OK;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "usage: egressctl diagnose [--json] [--no-record] FILE.eml|ADDR|@DOMAIN...\n");
			return CTL_EXIT_USAGE;
		} else
			nargs++;
	}
	if (nargs == 0) {
		fprintf(stderr, "usage: egressctl diagnose [--json] [--no-record] FILE.eml|ADDR|@DOMAIN...\n");
		return CTL_EXIT_USAGE;
	}
	if ((cfg = ctl_load_config(o, &status)) == NULL)
		return status;
	run.conf = &cfg->diagnose;
	{
		char err[256];

		if ((run.ub = dns_unbound_new(&cfg->diagnose, err, sizeof(err))) == NULL)
			fprintf(stderr, "egressctl diagnose: %s\n", err);
	}
	if (run.ub == NULL) {
		config_free(cfg);
		return CTL_EXIT_SOFTWARE;
	}
	if (record && cfg->store.enabled) {
		char err[256];

		/* without a store the diagnosis still runs; only recording is lost */
		if ((run.st = store_open(&cfg->store, NULL, NULL, err, sizeof(err))) == NULL)
			fprintf(stderr, "egressctl diagnose: evidence will not be recorded: %s\n", err);
	}
	if ((psl = psl_latest(NULL)) != NULL)
		psl_owned = 1;
	else
		psl = (psl_ctx_t *)psl_builtin();
	run.dc.egress_ips = (const char *const *)cfg->diagnose.egress_ips.v;
	run.dc.n_egress = cfg->diagnose.egress_ips.n;
	run.dc.helo = cfg->diagnose.helo;
	run.dc.dnsbl = (const char *const *)cfg->diagnose.dnsbl.v;
	run.dc.n_dnsbl = cfg->diagnose.dnsbl.n;
	run.dc.dnswl = (const char *const *)cfg->diagnose.dnswl.v;
	run.dc.n_dnswl = cfg->diagnose.dnswl.n;
	run.dc.psl = psl;
	if (run.json) {
		buf_init(&run.jb, 0);
		json_init(&run.jw, &run.jb);
		json_arr_begin(&run.jw);
	}
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *at;

		if (strcmp(a, "--json") == 0 || strcmp(a, "--no-record") == 0)
			continue;
		if (a[0] == '@' && a[1] != '\0') {
			rc = diagnose_domain(&run, a, a + 1);
		} else if ((at = strchr(a, '@')) != NULL && at[1] != '\0' &&
		    strchr(a, '/') == NULL) {
			if (!run.json) {
				char *sargv[] = { "sender", (char *)a, NULL };

				fflush(stdout);
				(void)cmd_sender(o, 2, sargv);
				fflush(stdout);
			}
			rc = diagnose_domain(&run, a, at + 1);
		} else {
			rc = diagnose_file(&run, cfg, a);
		}
		if (rc != 0 && status == 0)
			status = rc;
	}
	if (run.json) {
		json_arr_end(&run.jw);
		if (ctl_json_print(&run.jw, &run.jb) != 0 && status == 0)
			status = CTL_EXIT_SOFTWARE;
	}
	fflush(stdout);
	if (psl_owned)
		psl_free(psl);
	store_close(run.st);
	dns_unbound_free(run.ub);
	config_free(cfg);
	return status;
}
