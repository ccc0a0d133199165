/*
 * cmd_check.c - egressctl check: the outbound checks on raw message files.
 *
 * Runs the same scan and policy as the daemon, on the raw bytes of each file
 * (so line-ending checks are exact here, unlike behind Postfix, which
 * normalises bare LF before a milter sees the message). Files are read in
 * chunks, never whole.
 *
 * Exit status: 0 when every message would be accepted (possibly tagged or
 * repaired), 1 when one would be held, tempfailed or rejected, 65 when a
 * file cannot be read, 70 on an internal failure, 78 on a bad config.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "egress/checks.h"
#include "egress/config.h"
#include "egress/dsn.h"
#include "egress/json.h"
#include "egress/policy.h"
#include "egress/scan.h"
#include "commands.h"

#define CHECK_CHUNK	65536	/* what an MTA sends at most per body call */
#define CHECK_MAX_RCPT	64

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

struct config *
ctl_load_config(const struct ctl_opts *o, int *status)
{
	const char *path = o->config_path;
	struct cfg_errors errs;
	struct config *c;

	*status = 0;
	if (path == NULL) {
		/*
		 * Without -c: the daemon's default file when it exists (one
		 * that exists but cannot be read is an error, not a reason to
		 * fall back), else the built-in defaults. Either way say so on
		 * stderr: results differ with the configuration.
		 */
		path = SYSCONFDIR "/milter-egress/milter-egress.conf";
		if (access(path, F_OK) != 0 && errno == ENOENT) {
			fprintf(stderr, "egressctl: no %s, using the built-in defaults "
			    "(-c FILE names a configuration)\n", path);
			if ((c = config_default()) == NULL)
				*status = CTL_EXIT_SOFTWARE;
			return c;
		}
		fprintf(stderr, "egressctl: using %s\n", path);
	}
	cfg_errors_init(&errs, path);
	if ((c = config_load(path, &errs)) == NULL) {
		fputs(buf_cstr(&errs.text), stderr);
		*status = CTL_EXIT_CONFIG;
	}
	cfg_errors_fini(&errs);
	return c;
}

static void
print_text(const char *file, const struct findings *f, const struct verdict *v,
    const struct config *cfg, const struct dsn_report *r)
{
	size_t i;

	printf("%s: action=%s", file, action_name(v->action));
	if (v->would != v->action)
		printf(" would=%s", action_name(v->would));
	printf(" score=%d", v->score);
	if (v->exempt)
		printf(" exempt");
	if (v->bounce)
		printf(" bounce");
	printf("\n");
	for (i = 0; i < f->n; i++) {
		const struct check_conf *cc = config_check(cfg, f->v[i].id);

		printf("  %-34s %-8s score=%-3d %s\n", f->v[i].id,
		    cc ? action_name(cc->action) : "-", f->v[i].score,
		    f->v[i].detail);
	}
	if (f->dropped)
		printf("  (%zu more findings not kept)\n", f->dropped);
	if (v->add_date)
		printf("  repair: add Date\n");
	if (v->add_message_id)
		printf("  repair: add Message-ID\n");
	if (v->replace_message_id)
		printf("  repair: replace the Message-ID\n");
	if (v->repair_lines)
		printf("  repair: re-encode the parts with over-long lines "
		    "(the daemon refuses a message it cannot re-encode)\n");
	if (v->reply && v->would >= ACT_TEMPFAIL)
		printf("  reply: %s\n", v->reply);
	if (r != NULL && r->kind != DSN_KIND_NONE) {
		struct buf line;

		printf("  report: kind=%s format=%s recipients=%zu\n",
		    dsn_kind_name(r->kind), r->format ? r->format : "-", r->nrcpts);
		buf_init(&line, 8192);
		for (i = 0; i < r->nrcpts; i++) {
			buf_reset(&line);
			if (dsn_format_log(&line, r, i) == BUF_OK)
				printf("  %s\n", buf_cstr(&line));
		}
		buf_fini(&line);
	}
}

int
ctl_json_print(struct json *w, struct buf *b)
{
	int rc = json_finish(w);

	if (rc == BUF_OK) {
		fputs(buf_cstr(b), stdout);
		putchar('\n');
	} else
		fprintf(stderr, "egressctl: internal failure (out of memory)\n");
	buf_fini(b);
	return rc == BUF_OK ? 0 : CTL_EXIT_SOFTWARE;
}

static int
print_json(const char *file, const struct findings *f, const struct verdict *v,
    const struct config *cfg, const struct dsn_report *r)
{
	struct json w;
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	json_init(&w, &b);
	json_obj_begin(&w);
	json_kv_str(&w, "file", file);
	json_kv_str(&w, "action", action_name(v->action));
	json_kv_str(&w, "would", action_name(v->would));
	json_kv_int(&w, "score", v->score);
	json_kv_str(&w, "reply", v->would >= ACT_TEMPFAIL ? v->reply : NULL);
	json_kv_str(&w, "decided_by", v->decided_by);
	json_kv_bool(&w, "exempt", v->exempt);
	json_kv_bool(&w, "bounce", v->bounce);
	json_kv_bool(&w, "repair_date", v->add_date);
	json_kv_bool(&w, "repair_message_id", v->add_message_id);
	json_kv_bool(&w, "repair_lines", v->repair_lines);
	json_kv_str(&w, "report", r ? dsn_kind_name(r->kind) : NULL);
	json_key(&w, "findings");
	json_arr_begin(&w);
	for (i = 0; i < f->n; i++) {
		const struct check_conf *cc = config_check(cfg, f->v[i].id);

		json_obj_begin(&w);
		json_kv_str(&w, "id", f->v[i].id);
		json_kv_str(&w, "action", cc ? action_name(cc->action) : NULL);
		json_kv_int(&w, "score", f->v[i].score);
		json_kv_str(&w, "detail", f->v[i].detail);
		json_obj_end(&w);
	}
	json_arr_end(&w);
	json_obj_end(&w);
	return ctl_json_print(&w, &b);
}

/*
 * Feed a chunk of a file written with LF line ends as the MTA would hand it
 * over: CRLF. A CR already before the LF is kept as it is.
 */
static int
feed_lf(struct scan *s, const char *p, size_t n, int *prev_cr)
{
	size_t i, start = 0;

	for (i = 0; i < n; i++) {
		if (p[i] != '\n' || (i > 0 ? p[i - 1] == '\r' : *prev_cr))
			continue;
		if (scan_raw(s, p + start, i - start) != 0 || scan_raw(s, "\r\n", 2) != 0)
			return -1;
		start = i + 1;
	}
	*prev_cr = n > 0 && p[n - 1] == '\r';
	return start < n ? scan_raw(s, p + start, n - start) : 0;
}

static int
check_one(const struct config *cfg, struct envelope *env, const char *file,
    int json)
{
	int lf_only = -1, prev_cr = 0;
	char *chunk;
	FILE *fp;
	struct scan *s;
	struct verdict v;
	size_t n;
	int rc = 0;

	if (strcmp(file, "-") == 0)
		fp = stdin;
	else if ((fp = fopen(file, "rb")) == NULL) {
		fprintf(stderr, "egressctl: %s: %s\n", file, strerror(errno));
		return CTL_EXIT_DATAERR;
	}
	if ((chunk = malloc(CHECK_CHUNK)) == NULL || (s = scan_new(cfg, env)) == NULL) {
		free(chunk);
		if (fp != stdin)
			fclose(fp);
		fprintf(stderr, "egressctl: out of memory\n");
		return CTL_EXIT_SOFTWARE;
	}
	while ((n = fread(chunk, 1, CHECK_CHUNK, fp)) > 0) {
		/* A file with no CRLF in its first chunk was saved with LF line
		 * ends (a Unix mail file): read it as the CRLF an MTA sends, and
		 * say so once, instead of a body.bare_lf on every message. */
		const char *p = chunk;

		if (lf_only < 0) {
			const char *nl;

			/* An mbox file starts with a "From " envelope line,
			 * which is no header field: skip it, say so once. */
			if (n >= 5 && memcmp(chunk, "From ", 5) == 0 &&
			    (nl = memchr(chunk, '\n', n)) != NULL) {
				fprintf(stderr, "egressctl: %s: mbox \"From \" line "
				    "skipped\n", file);
				n -= (size_t)(nl + 1 - chunk);
				p = nl + 1;
			}
			lf_only = memmem(p, n, "\r\n", 2) == NULL &&
			    memchr(p, '\n', n) != NULL;
			if (lf_only && !json)
				fprintf(stderr, "egressctl: %s: LF line ends only, "
				    "read as CRLF\n", file);
		}
		if ((lf_only ? feed_lf(s, p, n, &prev_cr) :
		    scan_raw(s, p, n)) != 0) {
			rc = CTL_EXIT_SOFTWARE;
			break;
		}
	}
	if (rc == 0 && ferror(fp)) {
		fprintf(stderr, "egressctl: %s: read error\n", file);
		rc = CTL_EXIT_DATAERR;
	}
	if (rc == 0 && scan_finish(s) != 0)
		rc = CTL_EXIT_SOFTWARE;
	if (rc == CTL_EXIT_SOFTWARE)
		fprintf(stderr, "egressctl: %s: internal failure (out of memory)\n", file);
	if (rc == 0) {
		policy_decide(cfg, env, scan_findings(s), scan_is_bounce(s), &v);
		if (json)
			rc = print_json(file, scan_findings(s), &v, cfg, scan_dsn(s));
		else
			print_text(file, scan_findings(s), &v, cfg, scan_dsn(s));
		/* What enforce mode would do; a bounce is passed on (tagged at
		 * most) whatever its findings, as the daemon does. */
		if (rc == 0)
			rc = (v.bounce ? v.action : v.would) >= ACT_HOLD ?
			    CTL_EXIT_BLOCK : CTL_EXIT_OK;
	}
	scan_free(s);
	free(chunk);
	if (fp != stdin)
		fclose(fp);
	return rc;
}

int
cmd_check(const struct ctl_opts *o, int argc, char **argv)
{
	const char *rcpts[CHECK_MAX_RCPT];
	struct envelope env;
	struct config *cfg;
	int i, json = 0, status = 0, rc, nfiles = 0;

	memset(&env, 0, sizeof(env));
	env.esmtp_size = -1;
	env.now = (long long)time(NULL);
	env.rcpts = rcpts;
	/* each option takes a value: two arguments a step */
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i += 2) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(opt, "--") == 0) {
			i++;
			break;
		}
		if (val == NULL) {
			fprintf(stderr, "egressctl check: %s needs a value\n", opt);
			return CTL_EXIT_USAGE;
		}
		if (strcmp(opt, "--format") == 0 && (strcmp(val, "json") == 0 ||
		    strcmp(val, "text") == 0))
			json = strcmp(val, "json") == 0;
		else if (strcmp(opt, "--from") == 0)
			env.mail_from = val;
		else if (strcmp(opt, "--rcpt") == 0 && env.nrcpt < CHECK_MAX_RCPT)
			rcpts[env.nrcpt++] = val;
		else if (strcmp(opt, "--auth") == 0)
			env.auth_user = val;
		else if (strcmp(opt, "--client") == 0)
			env.client_addr = val;
		else if (strcmp(opt, "--now") == 0)
			env.now = strtoll(val, NULL, 10);
		else {
			fprintf(stderr, "usage: egressctl check [--format text|json] [--from ADDR] [--rcpt ADDR]... [--auth USER] [--client ADDR] [--now EPOCH] FILE.eml...\n");
			return CTL_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "egressctl check: no message file given (use - for stdin)\n");
		return CTL_EXIT_USAGE;
	}
	if ((cfg = ctl_load_config(o, &rc)) == NULL)
		return rc;
	for (; i < argc; i++, nfiles++) {
		rc = check_one(cfg, &env, argv[i], json);
		if (rc > status)
			status = rc;
	}
	config_free(cfg);
	return status;
}

int
cmd_checks(const struct ctl_opts *o, int argc, char **argv)
{
	const struct check_def *defs;
	struct config *cfg;
	size_t i, n;
	int rc;

	(void)argc;
	(void)argv;
	if ((cfg = ctl_load_config(o, &rc)) == NULL)
		return rc;
	n = checks_table(&defs);
	for (i = 0; i < n; i++)
		printf("%-34s %-8s score=%-3d %s\n", defs[i].id,
		    action_name(cfg->checks[i].action), cfg->checks[i].score,
		    cfg->checks[i].reply ? cfg->checks[i].reply : "-");
	config_free(cfg);
	return CTL_EXIT_OK;
}
