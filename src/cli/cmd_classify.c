/*
 * cmd_classify.c - egressctl classify and classify-log.
 *
 * classify FILE.eml...: each file through the same DSN parser and
 * classifier the daemon uses. Text output is the daemon's log line per
 * failed recipient; JSON output is one object per recipient per file (one
 * object with reason "none" for a message that is not a bounce).
 *
 * classify-log FILE|-: delivery failures recorded in MTA logs, classified
 * with the same classifier and printed the same way:
 *   Postfix   "QID: to=<r>, relay=..., dsn=5.7.1, status=bounced (host X
 *             said: 554 ...)" (also deferred and expired), sender from the
 *             qmgr "QID: from=<s>" line;
 *   Sendmail  "QID: to=<r>, ..., dsn=5.1.1, stat=User unknown", sender from
 *             "QID: from=<s>";
 *   Exim      "ID ** r R=... T=... H=host [ip]: SMTP error ...: 550 ..."
 *             (and "==" deferrals), sender from "ID <= s".
 * --follow keeps reading as the file grows (and starts over when it is
 * truncated or replaced by rotation).
 *
 * compile-patterns [-o OUT] FILE: the one-pass (Vectorscan) database of a
 * pattern file, serialized to OUT (default FILE.hsdb, where the loader
 * looks for it), so that egressctl and the daemon need not compile it at
 * start-up. The shipped file's database is built in already.
 *
 * Exit status: 0, 64 usage, 65 unreadable input, 70 internal failure,
 * 78 bad configuration or pattern file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "egress/bounce.h"
#include "egress/classify.h"
#include "egress/config.h"
#include "egress/dsn.h"
#include "egress/json.h"
#include "commands.h"

#define CLASSIFY_FILE_MAX	(64 * 1024 * 1024)	/* bytes read per message file */
#define CLASSIFY_LOG_LINE_MAX	(64 * 1024)
#define CLASSIFY_SENDERS	4096	/* queue id -> sender entries remembered */
#define CLASSIFY_QID_MAX	64

enum fmt { FMT_TEXT, FMT_JSON };

/* ---- classifier from the options ---- */

/* What the matching engine said at load, one "warning:" line each. */
static void
print_warnings(const struct classifier *cl)
{
	const char *w = classifier_warnings(cl), *nl;

	for (; w && *w; w = nl + 1) {
		if ((nl = strchr(w, '\n')) == NULL)
			nl = w + strlen(w) - 1;
		fprintf(stderr, "egressctl: warning: %.*s\n", (int)(nl - w), w);
		if (nl[1] == '\0')
			break;
	}
}

/*
 * --patterns FILE wins; else the config's compiled patterns (the config is
 * loaded only when given with -c or installed); else the installed file.
 * *owned gets what the caller must free.
 */
static const struct classifier *
get_classifier(const struct ctl_opts *o, const char *patterns,
    struct config **cfgp, struct classifier **owned, int *status)
{
	struct cfg_errors errs;
	const char *path = patterns;

	*owned = NULL;
	*cfgp = NULL;
	*status = 0;
	if (path == NULL) {
		if ((*cfgp = ctl_load_config(o, status)) == NULL)
			return NULL;
		if ((*cfgp)->bounce.classifier)
			return (*cfgp)->bounce.classifier;
		path = bounce_default_patterns();
	}
	if (path == NULL) {
		fprintf(stderr, "egressctl: no bounce pattern file found; "
		    "classifying by status and reply codes only\n");
		return NULL;
	}
	cfg_errors_init(&errs, path);
	if ((*owned = classifier_load(path, NULL, &errs)) == NULL) {
		fputs(buf_cstr(&errs.text), stderr);
		*status = CTL_EXIT_CONFIG;
	} else {
		/* built now (the shipped file's is built in), never silently */
		(void)classifier_prepare(*owned);
		print_warnings(*owned);
	}
	cfg_errors_fini(&errs);
	return *owned;
}

/* ---- classify FILE.eml... ---- */

static char *
read_all(const char *file, size_t *n)
{
	FILE *fp;
	struct buf b;
	char chunk[65536];
	size_t k;

	if (strcmp(file, "-") == 0)
		fp = stdin;
	else if ((fp = fopen(file, "rb")) == NULL)
		return NULL;
	buf_init(&b, CLASSIFY_FILE_MAX);
	while ((k = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (buf_append(&b, chunk, k) != BUF_OK)
			break;	/* over the limit: classify what was read */
	if (fp != stdin)
		fclose(fp);
	*n = b.len;
	if (b.data == NULL)
		return strdup("");
	return buf_steal(&b);
}

static int
print_report(const char *file, const struct dsn_report *rep, enum fmt fmt)
{
	struct buf out;
	size_t i, n = rep->nrcpts ? rep->nrcpts : 1;
	int rc = 0;

	buf_init(&out, 0);
	if (fmt == FMT_TEXT) {
		printf("%s: kind=%s", file, dsn_kind_name(rep->kind));
		if (rep->format)
			printf(" format=%s", rep->format);
		if (rep->kind != DSN_KIND_NONE) {
			buf_reset(&out);
			if (buf_puts(&out, " message_id=") != BUF_OK ||
			    log_escape(&out, rep->message_id ? rep->message_id : "-",
			    rep->message_id ? strlen(rep->message_id) : 1, 256) != BUF_OK)
				rc = -1;
			fputs(buf_cstr(&out), stdout);
		}
		putchar('\n');
		for (i = 0; rep->kind != DSN_KIND_NONE && i < rep->nrcpts; i++) {
			buf_reset(&out);
			if (dsn_format_log(&out, rep, i) != BUF_OK) {
				rc = -1;
				break;
			}
			printf("  %s\n", buf_cstr(&out));
		}
	} else {
		for (i = 0; i < n; i++) {
			buf_reset(&out);
			if (dsn_format_json(&out, rep, i, file) != BUF_OK) {
				rc = -1;
				break;
			}
			puts(buf_cstr(&out));
		}
	}
	buf_fini(&out);
	return rc;
}

static int
parse_format(const char *v, enum fmt *fmt)
{
	if (strcmp(v, "text") == 0)
		*fmt = FMT_TEXT;
	else if (strcmp(v, "json") == 0)
		*fmt = FMT_JSON;
	else
		return -1;
	return 0;
}

int
cmd_classify(const struct ctl_opts *o, int argc, char **argv)
{
	const struct classifier *cl;
	struct classifier *owned = NULL;
	struct config *cfg = NULL;
	const char *patterns = NULL, *from = NULL;
	enum fmt fmt = FMT_TEXT;
	int i, status = CTL_EXIT_OK, first_file = 0, st;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--format") == 0 && i + 1 < argc &&
		    parse_format(argv[i + 1], &fmt) == 0)
			i++;
		else if (strcmp(argv[i], "--patterns") == 0 && i + 1 < argc)
			patterns = argv[++i];
		else if (strcmp(argv[i], "--from") == 0 && i + 1 < argc)
			from = argv[++i];
		else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "usage: egressctl classify [--format text|json] "
			    "[--patterns FILE] [--from ENVELOPE-SENDER] FILE.eml...\n");
			return CTL_EXIT_USAGE;
		} else
			break;
	}
	first_file = i;
	if (first_file >= argc) {
		fprintf(stderr, "egressctl classify: no message file given "
		    "(use - for stdin)\n");
		return CTL_EXIT_USAGE;
	}
	cl = get_classifier(o, patterns, &cfg, &owned, &st);
	if (st != 0)
		return st;
	for (i = first_file; i < argc; i++) {
		struct dsn_report *rep = NULL;
		size_t n = 0;
		char *data = read_all(argv[i], &n);

		if (data == NULL) {
			fprintf(stderr, "egressctl classify: %s: %s\n", argv[i],
			    strerror(errno));
			status = CTL_EXIT_DATAERR;
			continue;
		}
		if (dsn_parse_bytes(cl, data, n, from, 0, &rep) != 0) {
			fprintf(stderr, "egressctl classify: %s: out of memory\n",
			    argv[i]);
			free(data);
			status = CTL_EXIT_SOFTWARE;
			break;
		}
		if (print_report(argv[i], rep, fmt) != 0)
			status = CTL_EXIT_SOFTWARE;
		dsn_report_free(rep);
		free(data);
	}
	fflush(stdout);
	classifier_free(owned);
	config_free(cfg);
	return status;
}

/* ---- classify-log ---- */

struct sender_map {
	char	qid[CLASSIFY_SENDERS][CLASSIFY_QID_MAX];
	char	*sender[CLASSIFY_SENDERS];
	size_t	 next;		/* ring: the oldest entry is replaced */
};

static void
senders_put(struct sender_map *m, const char *qid, size_t qn, const char *s,
    size_t sn)
{
	size_t i = m->next;
	char *d;

	if (qn == 0 || qn >= CLASSIFY_QID_MAX || (d = malloc(sn + 1)) == NULL)
		return;
	memcpy(d, s, sn);
	d[sn] = '\0';
	free(m->sender[i]);
	memcpy(m->qid[i], qid, qn);
	m->qid[i][qn] = '\0';
	m->sender[i] = d;
	m->next = (i + 1) % CLASSIFY_SENDERS;
}

static const char *
senders_get(const struct sender_map *m, const char *qid, size_t qn)
{
	size_t k, i;

	/* newest first */
	for (k = 0; k < CLASSIFY_SENDERS; k++) {
		i = (m->next + CLASSIFY_SENDERS - 1 - k) % CLASSIFY_SENDERS;
		if (m->sender[i] == NULL)
			return NULL;
		if (strlen(m->qid[i]) == qn && memcmp(m->qid[i], qid, qn) == 0)
			return m->sender[i];
	}
	return NULL;
}

/* The value of "key=" up to ", " or end; <> stripped. */
static int
kv(const char *line, const char *key, const char **v, size_t *n)
{
	const char *p = line;
	size_t kl = strlen(key);

	while ((p = strstr(p, key)) != NULL) {
		if (p == line || p[-1] == ' ' || p[-1] == ',') {
			const char *e;

			p += kl;
			e = p;
			if (*e == '<') {
				const char *gt = strchr(e, '>');

				if (gt) {
					*v = e + 1;
					*n = (size_t)(gt - e - 1);
					return 1;
				}
			}
			while (*e && *e != ',' && *e != '\n')
				e++;
			*v = p;
			*n = (size_t)(e - p);
			return 1;
		}
		p += kl;
	}
	return 0;
}

/* The queue id: the token before ": " that follows "prog[pid]: ". */
static int
queue_id(const char *line, const char **q, size_t *n)
{
	const char *p = strstr(line, "]: ");
	const char *e;

	if (p == NULL)
		return 0;
	p += 3;
	for (e = p; *e && *e != ':' && *e != ' '; e++)
		;
	if (*e != ':' || e == p || e - p >= CLASSIFY_QID_MAX)
		return 0;
	*q = p;
	*n = (size_t)(e - p);
	return 1;
}

struct log_event {
	const char	*qid;
	size_t		 qidn;
	char		*rcpt;
	char		*status;
	char		*remote;
	char		*diag;
	const char	*what;		/* bounced, deferred, expired, failed */
};

static char *
dupn(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

/* Returns 1 with ev filled for a failure line, 0 for other lines. */
static int
parse_log_line(const char *line, struct sender_map *m, struct log_event *ev)
{
	const char *v, *q, *p;
	size_t n, qn;

	memset(ev, 0, sizeof(*ev));
	/* Exim: "DATE TIME ID ** addr ...: message" / "== addr ... defer" */
	if ((p = strstr(line, " ** ")) != NULL || (p = strstr(line, " == ")) != NULL) {
		const char *id = p, *a = p + 4, *ae, *msg;

		while (id > line && id[-1] != ' ')
			id--;
		ev->qid = id;
		ev->qidn = (size_t)(p - id);
		for (ae = a; *ae && *ae != ' ' && *ae != ':'; ae++)
			;
		if (ae == a || memchr(a, '@', (size_t)(ae - a)) == NULL)
			return 0;
		ev->rcpt = dupn(a, (size_t)(ae - a));
		ev->what = p[1] == '*' ? "bounced" : "deferred";
		if ((q = strstr(ae, " H=")) != NULL) {
			const char *he = q + 3;

			while (*he && *he != ' ' && *he != ':')
				he++;
			ev->remote = dupn(q + 3, (size_t)(he - q - 3));
			msg = strstr(he, ": ");
		} else
			msg = strstr(ae, ": ");
		ev->diag = strdup(msg ? msg + 2 : ae);
		if (ev->rcpt == NULL || ev->diag == NULL)
			return -1;
		return 1;
	}
	/* Exim arrival: "ID <= sender H=..." */
	if ((p = strstr(line, " <= ")) != NULL) {
		const char *id = p, *s = p + 4, *se;

		while (id > line && id[-1] != ' ')
			id--;
		for (se = s; *se && *se != ' '; se++)
			;
		senders_put(m, id, (size_t)(p - id), s, (size_t)(se - s));
		return 0;
	}
	if (!queue_id(line, &q, &qn))
		return 0;
	/* Postfix qmgr and Sendmail: "QID: from=<s>, size=..." */
	if (kv(line, "from=", &v, &n) && !strstr(line, " to=")) {
		senders_put(m, q, qn, v, n);
		return 0;
	}
	if (!kv(line, "to=", &v, &n))
		return 0;
	ev->qid = q;
	ev->qidn = qn;
	/* Postfix: status=bounced (text) */
	if (kv(line, "status=", &p, &n)) {
		const char *paren;

		if (strncmp(p, "bounced", 7) == 0)
			ev->what = "bounced";
		else if (strncmp(p, "deferred", 8) == 0)
			ev->what = "deferred";
		else if (strncmp(p, "expired", 7) == 0)
			ev->what = "expired";
		else if (strncmp(p, "undeliverable", 13) == 0)
			ev->what = "bounced";
		else
			return 0;	/* sent, deliverable, ... */
		paren = strchr(p, '(');
		if (paren) {
			size_t dl = strlen(paren + 1);

			while (dl > 0 && (paren[1 + dl - 1] == '\n' ||
			    paren[1 + dl - 1] == '\r' || paren[1 + dl - 1] == ' '))
				dl--;
			if (dl > 0 && paren[1 + dl - 1] == ')')
				dl--;	/* the one that closes "(" */
			ev->diag = dupn(paren + 1, dl);
		}
	} else if (kv(line, "stat=", &p, &n)) {
		/* Sendmail: stat= runs to the end of the line */
		size_t dl = strlen(p);

		if (strncmp(p, "Sent", 4) == 0)
			return 0;
		ev->what = strncmp(p, "Deferred", 8) == 0 ? "deferred" : "bounced";
		while (dl > 0 && (p[dl - 1] == '\n' || p[dl - 1] == '\r'))
			dl--;
		ev->diag = dupn(p, dl);
	} else
		return 0;
	if (kv(line, "to=", &v, &n))
		ev->rcpt = dupn(v, n);
	if (kv(line, "dsn=", &p, &n))
		ev->status = dupn(p, n);
	if (kv(line, "relay=", &p, &n)) {
		size_t k;

		for (k = 0; k < n && p[k] != '[' && p[k] != ' ' && p[k] != ':'; k++)
			;
		if (k > 0 && !(k == 4 && strncmp(p, "none", 4) == 0)) {
			ev->remote = dupn(p, k);
			if (ev->remote && ev->remote[k - 1] == '.')
				ev->remote[k - 1] = '\0';
		}
	}
	if (ev->rcpt == NULL)
		return -1;
	return 1;
}

static void
log_event_fini(struct log_event *ev)
{
	free(ev->rcpt);
	free(ev->status);
	free(ev->remote);
	free(ev->diag);
}

/* Classify one event and print it through the shared formatters. */
static int
print_event(const struct classifier *cl, const struct log_event *ev,
    const struct sender_map *m, const char *file, unsigned long lineno,
    enum fmt fmt)
{
	struct dsn_report rep;
	struct dsn_recipient r;
	struct buf out;
	char st[16], *clean = NULL;
	const char *sender;
	int reply = 0, rc = 0;

	memset(&rep, 0, sizeof(rep));
	memset(&r, 0, sizeof(r));
	if (ev->diag && (clean = dsn_diag_clean(ev->diag, strlen(ev->diag),
	    DSN_FIELD_MAX)) == NULL)
		return -1;
	dsn_diag_codes(clean, st, &reply);
	r.final_rcpt = ev->rcpt;
	r.status = ev->status && ev->status[0] ? ev->status : st[0] ? st : NULL;
	r.reply_code = reply;
	r.remote_mta = ev->remote;
	r.diag = clean;
	r.action = (char *)(strcmp(ev->what, "deferred") == 0 ? "delayed" : "failed");
	classify(cl, r.status, r.reply_code, r.diag, &r.cls);
	if (strcmp(ev->what, "expired") == 0 && strcmp(r.cls.source, "text") != 0) {
		r.cls.reason = "expired";
		r.cls.category = reason_category("expired");
		r.cls.hard = 0;
	}
	sender = senders_get(m, ev->qid, ev->qidn);
	rep.kind = DSN_KIND_DSN;
	rep.format = "log";
	rep.sender = (char *)sender;
	rep.rcpts = &r;
	rep.nrcpts = 1;
	buf_init(&out, 0);
	if (fmt == FMT_TEXT) {
		if (buf_printf(&out, "%.*s: ", (int)ev->qidn, ev->qid) != BUF_OK ||
		    dsn_format_log(&out, &rep, 0) != BUF_OK)
			rc = -1;
	} else {
		char qid[CLASSIFY_QID_MAX];
		struct json w;

		snprintf(qid, sizeof(qid), "%.*s", (int)ev->qidn, ev->qid);
		json_init(&w, &out);
		json_obj_begin(&w);
		json_kv_uint(&w, "line", lineno);
		json_kv_str(&w, "queue_id", qid);
		json_kv_str(&w, "event", ev->what);
		dsn_format_json_members(&w, &rep, 0, file);
		json_obj_end(&w);
		if (json_finish(&w) != BUF_OK)
			rc = -1;
	}
	if (rc == 0)
		puts(buf_cstr(&out));
	buf_fini(&out);
	free(clean);
	return rc;
}

int
cmd_classify_log(const struct ctl_opts *o, int argc, char **argv)
{
	const struct classifier *cl;
	struct classifier *owned = NULL;
	struct config *cfg = NULL;
	struct sender_map *m = NULL;
	const char *patterns = NULL, *file = NULL;
	enum fmt fmt = FMT_TEXT;
	FILE *fp = NULL;
	char *line = NULL;
	unsigned long lineno = 0;
	int i, follow = 0, st, status = CTL_EXIT_OK;
	struct stat sb;
	ino_t ino = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--format") == 0 && i + 1 < argc &&
		    parse_format(argv[i + 1], &fmt) == 0)
			i++;
		else if (strcmp(argv[i], "--patterns") == 0 && i + 1 < argc)
			patterns = argv[++i];
		else if (strcmp(argv[i], "--follow") == 0 || strcmp(argv[i], "-f") == 0)
			follow = 1;
		else if (file == NULL && (argv[i][0] != '-' || argv[i][1] == '\0'))
			file = argv[i];
		else {
			fprintf(stderr, "usage: egressctl classify-log [--follow] "
			    "[--format text|json] [--patterns FILE] FILE|-\n");
			return CTL_EXIT_USAGE;
		}
	}
	if (file == NULL) {
		fprintf(stderr, "egressctl classify-log: no log file given (use - for stdin)\n");
		return CTL_EXIT_USAGE;
	}
	cl = get_classifier(o, patterns, &cfg, &owned, &st);
	if (st != 0)
		return st;
	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (line = malloc(CLASSIFY_LOG_LINE_MAX)) == NULL) {
		status = CTL_EXIT_SOFTWARE;
		goto out;
	}
	if (strcmp(file, "-") == 0)
		fp = stdin;
	else if ((fp = fopen(file, "r")) == NULL) {
		fprintf(stderr, "egressctl classify-log: %s: %s\n", file, strerror(errno));
		status = CTL_EXIT_DATAERR;
		goto out;
	}
	if (fp != stdin && fstat(fileno(fp), &sb) == 0)
		ino = sb.st_ino;
	for (;;) {
		struct log_event ev;
		int r;

		if (fgets(line, CLASSIFY_LOG_LINE_MAX, fp) == NULL) {
			if (!follow || ferror(fp))
				break;
			/* at the end: wait, then handle truncation and rotation */
			fflush(stdout);
			sleep(1);
			clearerr(fp);
			if (fp != stdin && stat(file, &sb) == 0) {
				long pos = ftell(fp);

				if (sb.st_ino != ino) {
					FILE *nf = fopen(file, "r");

					if (nf) {
						fclose(fp);
						fp = nf;
						ino = sb.st_ino;
						lineno = 0;
					}
				} else if (pos >= 0 && sb.st_size < pos) {
					rewind(fp);
					lineno = 0;
				}
			}
			continue;
		}
		lineno++;
		if ((r = parse_log_line(line, m, &ev)) < 0 ||
		    (r > 0 && print_event(cl, &ev, m, file, lineno, fmt) < 0)) {
			log_event_fini(&ev);
			status = CTL_EXIT_SOFTWARE;
			break;
		}
		log_event_fini(&ev);
	}
	fflush(stdout);
out:
	if (fp && fp != stdin)
		fclose(fp);
	if (m)
		for (i = 0; i < CLASSIFY_SENDERS; i++)
			free(m->sender[i]);
	free(m);
	free(line);
	classifier_free(owned);
	config_free(cfg);
	return status;
}

/* ---- compile-patterns [-o OUT] FILE ---- */

int
cmd_compile_patterns(const struct ctl_opts *o, int argc, char **argv)
{
	struct cfg_errors errs;
	struct classifier *cl;
	struct buf db, path;
	const char *out = NULL, *file = NULL;
	FILE *fp;
	int i, status = CTL_EXIT_OK;

	(void)o;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			out = argv[++i];
		else if (argv[i][0] == '-' || file != NULL) {
			file = NULL;
			break;
		} else
			file = argv[i];
	}
	if (file == NULL) {
		fprintf(stderr, "usage: egressctl compile-patterns [-o OUT] FILE\n");
		return CTL_EXIT_USAGE;
	}
	cfg_errors_init(&errs, file);
	if ((cl = classifier_load(file, NULL, &errs)) == NULL) {
		fputs(buf_cstr(&errs.text), stderr);
		cfg_errors_fini(&errs);
		return CTL_EXIT_CONFIG;
	}
	cfg_errors_fini(&errs);
	buf_init(&db, CLASSIFY_DB_MAX);
	buf_init(&path, 0);
	if (classifier_prepare(cl) != 0 || classifier_db_serialize(cl, &db) != 0) {
		print_warnings(cl);
		fprintf(stderr, "egressctl compile-patterns: %s: no one-pass "
		    "database (built without Vectorscan, or it cannot take "
		    "these patterns): PCRE2 matches them alone\n", file);
		status = CTL_EXIT_SOFTWARE;
		goto done;
	}
	print_warnings(cl);
	if (out == NULL) {
		if (buf_printf(&path, "%s%s", file, CLASSIFY_DB_SUFFIX) != BUF_OK) {
			status = CTL_EXIT_SOFTWARE;
			goto done;
		}
		out = buf_cstr(&path);
	}
	if ((fp = fopen(out, "wb")) != NULL) {
		size_t w = fwrite(db.data, 1, db.len, fp);

		if (fclose(fp) != 0 || w != db.len)
			fp = NULL;
	}
	if (fp == NULL) {
		fprintf(stderr, "egressctl compile-patterns: %s: %s\n", out,
		    strerror(errno));
		status = CTL_EXIT_SOFTWARE;
		goto done;
	}
	printf("%s: %zu patterns, %zu bytes\n", out, classifier_count(cl), db.len);
done:
	buf_fini(&db);
	buf_fini(&path);
	classifier_free(cl);
	return status;
}
