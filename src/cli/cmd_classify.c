/*
 * cmd_classify.c - egressctl classify and classify-log.
 *
 * classify FILE.eml...: each file through the same DSN parser and
 * classifier the daemon uses. Text output is the daemon's log line per
 * failed recipient; JSON output is one object per recipient per file (one
 * object with reason "none" for a message that is not a bounce).
 *
 * classify-log FILE|-: delivery failures recorded in MTA logs (parsed by
 * the core's maillog module, which the follower shares), classified with
 * the same classifier and printed the same way:
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
#include <fcntl.h>
#include <stdint.h>
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
#include "egress/maillog.h"
#include "commands.h"

#define CLASSIFY_FILE_MAX	(64 * 1024 * 1024)	/* bytes read per message file */
#define CLASSIFY_LOG_LINE_MAX	MAILLOG_LINE_MAX
#define CLASSIFY_SENDERS	4096	/* queue id -> sender entries remembered */

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
	struct buf b;
	struct stat st;
	char chunk[65536];
	off_t size = -1;
	ssize_t k;
	int fd;

	if (strcmp(file, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	/* a regular file ends at a short read that reached its size */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		size = st.st_size;
	buf_init(&b, CLASSIFY_FILE_MAX);
	for (;;) {
		k = read(fd, chunk, sizeof(chunk));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		if (buf_append(&b, chunk, (size_t)k) != BUF_OK)
			break;	/* over the limit: classify what was read */
		if (size >= 0 && (size_t)k < sizeof(chunk) &&
		    (uintmax_t)b.len >= (uintmax_t)size)
			break;
	}
	if (fd != STDIN_FILENO)
		close(fd);
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

/* Classify one delivery event and print it through the shared formatters. */
static int
print_event(const struct classifier *cl, const struct maillog_event *ev,
    const struct maillog_qmap *m, const char *file, unsigned long lineno,
    enum fmt fmt)
{
	struct dsn_report rep;
	struct maillog_rcpt mr;
	struct buf out;
	const char *sender = NULL;
	int rc = 0;

	if (maillog_classify(cl, ev, &mr) != 0)
		return -1;
	(void)maillog_qmap_get(m, ev->qid.p, ev->qid.n, &sender, NULL);
	memset(&rep, 0, sizeof(rep));
	rep.kind = DSN_KIND_DSN;
	rep.format = "log";
	rep.sender = (char *)sender;
	rep.rcpts = &mr.r;
	rep.nrcpts = 1;
	buf_init(&out, 0);
	if (fmt == FMT_TEXT) {
		if (buf_printf(&out, "%.*s: ", (int)ev->qid.n, ev->qid.p) != BUF_OK ||
		    dsn_format_log(&out, &rep, 0) != BUF_OK)
			rc = -1;
	} else {
		char qid[MAILLOG_QID_MAX + 1];
		struct json w;

		maillog_span_copy(&ev->qid, qid, sizeof(qid));
		json_init(&w, &out);
		json_obj_begin(&w);
		json_kv_uint(&w, "line", lineno);
		json_kv_str(&w, "queue_id", qid);
		json_kv_str(&w, "event", maillog_status_name(ev->status));
		dsn_format_json_members(&w, &rep, 0, file);
		json_obj_end(&w);
		if (json_finish(&w) != BUF_OK)
			rc = -1;
	}
	if (rc == 0)
		puts(buf_cstr(&out));
	buf_fini(&out);
	maillog_rcpt_fini(&mr);
	return rc;
}

int
cmd_classify_log(const struct ctl_opts *o, int argc, char **argv)
{
	const struct classifier *cl;
	struct classifier *owned = NULL;
	struct config *cfg = NULL;
	struct maillog_qmap *m = NULL;
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
	if ((m = maillog_qmap_new(CLASSIFY_SENDERS)) == NULL ||
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
		struct maillog_event ev;
		enum maillog_kind k;

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
		k = maillog_parse(line, strlen(line), &ev);
		if (k == MAILLOG_SENDER || k == MAILLOG_MSGID) {
			if (maillog_qmap_learn(m, &ev) != 0) {
				status = CTL_EXIT_SOFTWARE;
				break;
			}
		} else if (k == MAILLOG_DELIVERY && ev.status != MAILLOG_SENT &&
		    print_event(cl, &ev, m, file, lineno, fmt) < 0) {
			status = CTL_EXIT_SOFTWARE;
			break;
		}
	}
	fflush(stdout);
out:
	if (fp && fp != stdin)
		fclose(fp);
	maillog_qmap_free(m);
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
