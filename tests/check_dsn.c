/*
 * check_dsn - bounce recognition and extraction.
 *
 *  - every labelled corpus message is recognised as its kind, with the
 *    labelled number of recipients;
 *  - every corpus and extra message gives the same report at body chunk
 *    sizes 1, 2, 3, 7, 64, 4096 and whole, and with LF, CRLF and CR line
 *    endings, and through the streaming (milter) path as through files;
 *  - extracted fields, checked one by one on known messages;
 *  - ordinary mail is never a bounce;
 *  - the log line and JSON formats; limits; parser reuse.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "egress/classify.h"
#include "egress/config.h"
#include "egress/dsn.h"
#include "egress/findings.h"
#include "egress/mime.h"
#include "../src/core/dsn_int.h"

#define DATA	SRCDIR "/tests/data/dsn"
#define MAX_FILES	1024

static struct classifier *cl;

struct labelled {
	char	name[128];
	int	nrows;
	char	kind[16];	/* "dsn", "feedback", "autoreply", "delivered", "none" */
};

static struct labelled corpus[MAX_FILES];
static size_t ncorpus;
static char *all_files[MAX_FILES];	/* corpus and extra, paths */
static size_t nall;

static char *
slurp(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "rb");
	char *d = NULL;
	long sz;

	if (fp == NULL)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (sz = ftell(fp)) >= 0 &&
	    fseek(fp, 0, SEEK_SET) == 0 && (d = malloc((size_t)sz + 1)) != NULL) {
		*n = fread(d, 1, (size_t)sz, fp);
		d[*n] = '\0';
	}
	fclose(fp);
	return d;
}

static void
load_labels(const char *path, const char *prefix)
{
	FILE *fp = fopen(path, "r");
	char line[2048];

	if (fp == NULL)
		return;
	while (fgets(line, sizeof(line), fp)) {
		char *tab = strchr(line, '\t'), *reason;
		struct labelled *l = NULL;
		size_t i;
		int k;

		if (tab == NULL || strncmp(line, "file\t", 5) == 0)
			continue;
		char full[256];

		*tab = '\0';
		if (strlen(prefix) + strlen(line) >= sizeof(corpus[0].name))
			continue;
		strcpy(full, prefix);
		strcat(full, line);
		for (i = 0; i < ncorpus; i++)
			if (strcmp(corpus[i].name, full) == 0)
				l = &corpus[i];
		if (l == NULL && ncorpus < MAX_FILES) {
			l = &corpus[ncorpus++];
			memcpy(l->name, full, strlen(full) + 1);
		}
		if (l == NULL)
			continue;
		l->nrows++;
		/* column 5 is the reason */
		reason = tab + 1;
		for (k = 0; k < 3 && reason; k++)
			if ((reason = strchr(reason, '\t')) != NULL)
				reason++;
		if (reason == NULL)
			continue;
		reason[strcspn(reason, "\t\n")] = '\0';
		snprintf(l->kind, sizeof(l->kind), "%s",
		    strcmp(reason, "feedback") == 0 ? "feedback" :
		    strcmp(reason, "vacation") == 0 ? "autoreply" :
		    strcmp(reason, "delivered") == 0 ? "delivered" :
		    strcmp(reason, "none") == 0 ? "none" : "dsn");
	}
	fclose(fp);
}

static void
list_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL && nall < MAX_FILES) {
		size_t n = strlen(e->d_name);
		char path[1024];

		if (n < 5 || strcmp(e->d_name + n - 4, ".eml") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		all_files[nall++] = strdup(path);
	}
	closedir(d);
}

static void
setup(void)
{
	struct cfg_errors errs;

	cfg_errors_init(&errs, "patterns");
	cl = classifier_load(SRCDIR "/conf/bounce-patterns.conf", NULL, &errs);
	cfg_errors_fini(&errs);
	ck_assert_ptr_nonnull(cl);
}

static void
teardown(void)
{
	classifier_free(cl);
	cl = NULL;
}

/* Every field of every recipient, as the JSON formatter prints them. */
static char *
report_text(const struct dsn_report *rep)
{
	struct buf b;
	size_t i, n = rep->nrcpts ? rep->nrcpts : 1;

	buf_init(&b, 0);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(dsn_format_json(&b, rep, i, NULL), BUF_OK);
		ck_assert_int_eq(buf_putc(&b, '\n'), BUF_OK);
	}
	return buf_steal(&b);
}

static char *
parse_text(const char *data, size_t n, size_t chunk)
{
	struct dsn_report *rep = NULL;
	char *t;

	ck_assert_int_eq(dsn_parse_bytes(cl, data, n, NULL, chunk, &rep), 0);
	t = report_text(rep);
	dsn_report_free(rep);
	return t;
}

/*
 * The milter path: header fields handed over one by one (folded values
 * joined by "\n", as Postfix delivers them), then the raw body in chunks,
 * with no line-ending normalisation at all.
 */
static char *
stream_text(const char *d, size_t n, size_t chunk, const char *env_from,
    const char *env_rcpt)
{
	struct dsn_parser *p;
	struct mime_parser *mp;
	struct mime_limits ml = { 20, 1000, 256, 65536, DSN_TEXT_LIMIT };
	struct findings fs;
	struct buf name, value;
	const struct dsn_report *rep;
	size_t i = 0;
	int have = 0;
	char *t;

	findings_init(&fs, 64);
	buf_init(&name, 0);
	buf_init(&value, 0);
	ck_assert_ptr_nonnull(p = dsn_parser_new(cl, 0));
	ck_assert_int_eq(dsn_parser_set_envelope(p, env_from, env_rcpt), 0);
	ck_assert_ptr_nonnull(mp = mime_parser_new(&ml, dsn_parser_handler(p), 1, &fs));
	while (i < n) {
		size_t b = i, e, c;

		while (i < n && d[i] != '\n' && d[i] != '\r')
			i++;
		e = i;
		if (i < n && d[i] == '\r' && i + 1 < n && d[i + 1] == '\n')
			i += 2;
		else if (i < n)
			i++;
		if (e == b)
			break;
		if ((d[b] == ' ' || d[b] == '\t') && have) {
			ck_assert_int_eq(buf_putc(&value, '\n'), BUF_OK);
			ck_assert_int_eq(buf_append(&value, d + b, e - b), BUF_OK);
			continue;
		}
		if (have)
			ck_assert_int_eq(mime_parser_header(mp, buf_cstr(&name),
			    buf_cstr(&value)), 0);
		have = 0;
		for (c = b; c < e && d[c] != ':'; c++)
			;
		if (c == e)
			continue;
		buf_reset(&name);
		buf_reset(&value);
		ck_assert_int_eq(buf_append(&name, d + b, c - b), BUF_OK);
		for (c++; c < e && (d[c] == ' ' || d[c] == '\t'); c++)
			;
		ck_assert_int_eq(buf_append(&value, d + c, e - c), BUF_OK);
		have = 1;
	}
	if (have)
		ck_assert_int_eq(mime_parser_header(mp, buf_cstr(&name),
		    buf_cstr(&value)), 0);
	ck_assert_int_eq(mime_parser_eoh(mp), 0);
	if (chunk == 0)
		chunk = n > i ? n - i : 1;
	for (; i < n; i += chunk)
		ck_assert_int_eq(mime_parser_body(mp, d + i,
		    n - i < chunk ? n - i : chunk), 0);
	ck_assert_int_eq(mime_parser_finish(mp), 0);
	ck_assert_ptr_nonnull(rep = dsn_parser_result(p));
	t = report_text(rep);
	mime_parser_free(mp);
	dsn_parser_free(p);
	findings_fini(&fs);
	buf_fini(&name);
	buf_fini(&value);
	return t;
}

/* Rewrite line endings: to "\n", "\r\n" or "\r". */
static char *
endings(const char *d, size_t n, const char *eol, size_t *outn)
{
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	for (i = 0; i < n; i++) {
		if (d[i] == '\r' || d[i] == '\n') {
			if (d[i] == '\r' && i + 1 < n && d[i + 1] == '\n')
				i++;
			ck_assert_int_eq(buf_puts(&b, eol), BUF_OK);
		} else
			ck_assert_int_eq(buf_putc(&b, d[i]), BUF_OK);
	}
	*outn = b.len;
	return buf_steal(&b);
}

/*
 * Does the top-level boundary occur in the body? A report whose boundary
 * never occurs is re-read as plain text from a file, which the streaming
 * path cannot do (it never holds the body).
 */
static int
boundary_present(const char *d, size_t n)
{
	const char *eoh = strstr(d, "\n\n"), *b, *e;
	char delim[300];

	if (eoh == NULL || (b = strcasestr(d, "boundary=")) == NULL || b > eoh)
		return 1;
	b += 9;
	if (*b == '"')
		b++;
	for (e = b; *e && *e != '"' && *e != ';' && *e != '\n' && *e != '\r'; e++)
		;
	if (e - b > 250)
		return 1;
	snprintf(delim, sizeof(delim), "\n--%.*s", (int)(e - b), b);
	return memmem(eoh, n - (size_t)(eoh - d), delim, strlen(delim)) != NULL;
}

/* ---- corpus: recognised, with the labelled recipients ---- */

START_TEST(test_corpus_recognised)
{
	const struct labelled *l = &corpus[_i];
	struct dsn_report *rep = NULL;
	char path[1024], *d;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/%s", DATA, l->name);
	ck_assert_ptr_nonnull(d = slurp(path, &n));
	ck_assert_int_eq(dsn_parse_bytes(cl, d, n, NULL, 0, &rep), 0);
	/*
	 * XXX known gaps: a mailing-list loop alert (fml) is no failure report
	 * we read, and a bounce forwarded by a person ("Fwd:") is deliberately
	 * not taken for one.
	 */
	if (strcmp(l->name, "lhost-fml-03.eml") == 0 ||
	    strcmp(l->name, "lhost-sendmail-14.eml") == 0) {
		ck_assert_int_eq(rep->kind, DSN_KIND_NONE);
		dsn_report_free(rep);
		free(d);
		return;
	}
	ck_assert_msg(strcmp(dsn_kind_name(rep->kind), l->kind) == 0 ||
	    (strcmp(l->kind, "dsn") == 0 && rep->kind == DSN_KIND_DSN),
	    "%s: kind %s, labelled %s", l->name, dsn_kind_name(rep->kind), l->kind);
	if (strcmp(l->kind, "none") != 0) {
		size_t i;

		ck_assert_msg(rep->nrcpts == (size_t)l->nrows,
		    "%s: %zu recipients, labelled %d", l->name, rep->nrcpts,
		    l->nrows);
		for (i = 0; i < rep->nrcpts; i++) {
			const struct dsn_recipient *r = &rep->rcpts[i];

			ck_assert_ptr_nonnull(r->cls.reason);
			ck_assert_ptr_nonnull(r->cls.category);
			ck_assert_ptr_nonnull(reason_category(r->cls.reason));
			ck_assert_msg(r->final_rcpt == NULL || strchr(r->final_rcpt, '@'),
			    "%s: recipient %s", l->name, r->final_rcpt);
		}
	} else
		ck_assert_uint_eq(rep->nrcpts, 0);
	dsn_report_free(rep);
	free(d);
}
END_TEST

/* ---- the same report whatever the chunking and line endings ---- */

static const size_t chunks[] = { 1, 2, 3, 7, 64, 4096 };

START_TEST(test_chunk_invariance)
{
	char *d, *whole, *t;
	size_t n = 0, k;

	ck_assert_ptr_nonnull(d = slurp(all_files[_i], &n));
	whole = parse_text(d, n, 0);
	for (k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
		t = parse_text(d, n, chunks[k]);
		ck_assert_msg(strcmp(t, whole) == 0, "%s: chunk %zu differs:\n%s\nvs\n%s",
		    all_files[_i], chunks[k], t, whole);
		free(t);
	}
	free(whole);
	free(d);
}
END_TEST

START_TEST(test_line_endings)
{
	char *d, *lf, *crlf, *cr, *a, *b, *c, *s1, *s2;
	size_t n = 0, nlf, ncrlf, ncr;

	ck_assert_ptr_nonnull(d = slurp(all_files[_i], &n));
	lf = endings(d, n, "\n", &nlf);
	crlf = endings(d, n, "\r\n", &ncrlf);
	cr = endings(d, n, "\r", &ncr);
	a = parse_text(lf, nlf, 0);
	b = parse_text(crlf, ncrlf, 0);
	c = parse_text(cr, ncr, 0);
	ck_assert_msg(strcmp(a, b) == 0, "%s: CRLF differs", all_files[_i]);
	ck_assert_msg(strcmp(a, c) == 0, "%s: CR differs", all_files[_i]);
	/* the milter path with CRLF and with LF, chunked as an MTA sends it */
	if (!boundary_present(lf, nlf)) {
		/* XXX known gap: see boundary_present() */
		free(a);
		free(b);
		free(c);
		free(lf);
		free(crlf);
		free(cr);
		free(d);
		return;
	}
	s1 = stream_text(crlf, ncrlf, 65535, NULL, NULL);
	s2 = stream_text(lf, nlf, 7, NULL, NULL);
	ck_assert_msg(strcmp(s1, a) == 0, "%s: streaming CRLF differs:\n%s\nvs\n%s",
	    all_files[_i], s1, a);
	ck_assert_msg(strcmp(s2, a) == 0, "%s: streaming LF differs",
	    all_files[_i]);
	free(s1);
	free(s2);
	free(a);
	free(b);
	free(c);
	free(lf);
	free(crlf);
	free(cr);
	free(d);
}
END_TEST

/* ---- fields ---- */

static struct dsn_report *
parse_file(const char *name)
{
	struct dsn_report *rep = NULL;
	char path[1024], *d;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/%s", DATA, name);
	ck_assert_ptr_nonnull(d = slurp(path, &n));
	ck_assert_int_eq(dsn_parse_bytes(cl, d, n, NULL, 0, &rep), 0);
	free(d);
	return rep;
}

START_TEST(test_fields_rfc3464)
{
	struct dsn_report *rep = parse_file("extra/postfix-gmail-dmarc.eml");
	const struct dsn_recipient *r;

	ck_assert_int_eq(rep->kind, DSN_KIND_DSN);
	ck_assert_str_eq(rep->format, "rfc3464");
	ck_assert_str_eq(rep->reporting_mta, "mx1.example.org");
	ck_assert_str_eq(rep->sender, "alice@example.org");
	ck_assert_str_eq(rep->message_id, "<report-2026-11@example.org>");
	ck_assert_str_eq(rep->date, "Sun, 22 Nov 2026 06:00:00 +0000 (UTC)");
	ck_assert_uint_eq(rep->nrcpts, 1);
	r = &rep->rcpts[0];
	ck_assert_str_eq(r->final_rcpt, "bob@gmail.example");
	ck_assert_str_eq(r->action, "failed");
	ck_assert_str_eq(r->status, "5.7.26");
	ck_assert_int_eq(r->reply_code, 550);
	ck_assert_str_eq(r->remote_mta, "gmail-smtp-in.l.google.example");
	/* unfolded, continuation prefixes gone */
	ck_assert_str_eq(r->diag, "550 5.7.26 Unauthenticated email from "
	    "example.org is not accepted due to domain's DMARC policy. Please "
	    "contact the administrator of example.org domain if this was a "
	    "legitimate mail. To learn about the DMARC initiative, go to "
	    "https://support.google.com/mail/?p=DmarcRejection x1si123 - gsmtp");
	ck_assert_str_eq(r->cls.reason, "authfailure");
	ck_assert_str_eq(r->cls.category, "authentication");
	ck_assert_int_eq(r->cls.hard, 0);
	dsn_report_free(rep);
}
END_TEST

START_TEST(test_fields_two_recipients)
{
	struct dsn_report *rep = parse_file("extra/two-recipients.eml");

	ck_assert_uint_eq(rep->nrcpts, 2);
	ck_assert_str_eq(rep->rcpts[0].final_rcpt, "hank@example.com");
	ck_assert_str_eq(rep->rcpts[0].orig_rcpt, "hank@example.com");
	ck_assert_str_eq(rep->rcpts[0].cls.reason, "spamdetected");
	ck_assert_str_eq(rep->rcpts[1].final_rcpt, "ivy@example.com");
	ck_assert_ptr_null(rep->rcpts[1].orig_rcpt);
	ck_assert_str_eq(rep->rcpts[1].diag, "550 5.1.1 <ivy@example.com>: "
	    "Recipient address rejected: User unknown in virtual mailbox table");
	ck_assert_str_eq(rep->rcpts[1].cls.reason, "userunknown");
	ck_assert_int_eq(rep->rcpts[1].cls.hard, 1);
	dsn_report_free(rep);
}
END_TEST

/* What the ledger matches on: Postfix's queue id, the returned Message-ID. */
START_TEST(test_fields_postfix_ids)
{
	struct dsn_report *rep = parse_file("extra/postfix-queue-id.eml");

	ck_assert_int_eq(rep->kind, DSN_KIND_DSN);
	ck_assert_str_eq(rep->queue_id, "4QabcD12");
	ck_assert_str_eq(rep->returned_message_id, "<plans-7@example.net>");
	ck_assert_str_eq(rep->message_id, "<plans-7@example.net>");
	ck_assert_str_eq(rep->sender, "carol@example.net");
	ck_assert_uint_eq(rep->nrcpts, 1);
	ck_assert_str_eq(rep->rcpts[0].final_rcpt, "dan@example.com");
	dsn_report_free(rep);
}
END_TEST

START_TEST(test_fields_exim_text)
{
	struct dsn_report *rep = parse_file("extra/exim-poor-reputation.eml");
	const struct dsn_recipient *r;

	ck_assert_int_eq(rep->kind, DSN_KIND_DSN);
	ck_assert_str_eq(rep->format, "text");
	ck_assert_str_eq(rep->sender, "alice@example.org");
	ck_assert_str_eq(rep->message_id, "<hello-1@example.org>");
	ck_assert_uint_eq(rep->nrcpts, 1);
	r = &rep->rcpts[0];
	ck_assert_str_eq(r->final_rcpt, "mona@example.com");
	ck_assert_str_eq(r->remote_mta, "mx.example.com");
	ck_assert_int_eq(r->reply_code, 554);
	ck_assert_ptr_null(r->status);
	ck_assert_str_eq(r->cls.reason, "badreputation");
	ck_assert_str_eq(r->cls.category, "reputation");
	dsn_report_free(rep);
}
END_TEST

START_TEST(test_fields_arf)
{
	struct dsn_report *rep = parse_file("extra/arf-abuse.eml");

	ck_assert_int_eq(rep->kind, DSN_KIND_FEEDBACK);
	ck_assert_str_eq(rep->feedback_type, "abuse");
	ck_assert_str_eq(rep->sender, "news@example.org");
	ck_assert_str_eq(rep->message_id, "<offer-9@example.org>");
	ck_assert_uint_eq(rep->nrcpts, 1);
	ck_assert_str_eq(rep->rcpts[0].final_rcpt, "quinn@isp.example");
	ck_assert_str_eq(rep->rcpts[0].cls.reason, "feedback");
	ck_assert_str_eq(rep->rcpts[0].cls.category, "report");
	dsn_report_free(rep);
}
END_TEST

START_TEST(test_fields_vacation)
{
	struct dsn_report *rep = parse_file("extra/vacation-ooo.eml");

	ck_assert_int_eq(rep->kind, DSN_KIND_AUTOREPLY);
	ck_assert_str_eq(rep->sender, "alice@example.org");
	ck_assert_str_eq(rep->rcpts[0].final_rcpt, "paul@example.com");
	ck_assert_str_eq(rep->rcpts[0].cls.reason, "vacation");
	dsn_report_free(rep);
}
END_TEST

/* The DSN's envelope recipient is the original sender. */
/*
 * Without an envelope, a stored message's Return-Path stands for it: a
 * gateway's notice from a no-reply address is a bounce by its null
 * Return-Path; told another envelope sender, it is not.
 */
START_TEST(test_return_path_envelope)
{
	static const char msg[] =
	    "Return-Path: <>\nFrom: Secure Gateway <no-reply@gw.example.net>\n"
	    "To: a@example.org\nSubject: Message undeliverable: forms\n\n"
	    "This message was returned by gw.example.net.\n\n"
	    "Recipient: r@example.net\n"
	    "Reason:    550 5.7.1 Message rejected: attachment type not allowed\n";
	struct dsn_report *rep = NULL;

	ck_assert_int_eq(dsn_parse_bytes(cl, msg, sizeof(msg) - 1, NULL, 0,
	    &rep), 0);
	ck_assert_int_eq(rep->kind, DSN_KIND_DSN);
	ck_assert_uint_eq(rep->nrcpts, 1);
	ck_assert_str_eq(rep->rcpts[0].final_rcpt, "r@example.net");
	ck_assert_str_eq(rep->rcpts[0].cls.reason, "policyviolation");
	dsn_report_free(rep);
	rep = NULL;
	ck_assert_int_eq(dsn_parse_bytes(cl, msg, sizeof(msg) - 1,
	    "<news@example.org>", 0, &rep), 0);
	ck_assert_int_eq(rep->kind, DSN_KIND_NONE);
	dsn_report_free(rep);
}
END_TEST

/*
 * A mailing list's footer below its rule of underscores names no failed
 * recipient, when no returned message tells the list's address either.
 */
START_TEST(test_list_footer)
{
	static const char msg[] =
	    "From: MAILER-DAEMON@mx.example.net\nTo: dev-bounces@lists.example.org\n"
	    "Subject: failure notice\n\n"
	    "The message below could not be delivered and has been discarded.\n"
	    "Reason: 550 5.7.1 Message rejected due to local policy\n\n"
	    "_______________________________________________\n"
	    "dev mailing list\ndev@lists.example.org\n"
	    "https://lists.example.org/mailman/listinfo/dev\n";
	struct dsn_report *rep = NULL;
	size_t i;

	ck_assert_int_eq(dsn_parse_bytes(cl, msg, sizeof(msg) - 1, NULL, 0,
	    &rep), 0);
	ck_assert_int_eq(rep->kind, DSN_KIND_DSN);
	for (i = 0; i < rep->nrcpts; i++)
		ck_assert_msg(rep->rcpts[i].final_rcpt == NULL ||
		    strcmp(rep->rcpts[i].action, "failed") != 0,
		    "%s failed", rep->rcpts[i].final_rcpt);
	dsn_report_free(rep);
}
END_TEST

/*
 * The returned message quoted in the notice's text: its author, named by
 * the notice's opening ("A message sent by <a>"), is no failed recipient
 * once the copy's From shows who wrote it, as when the copy is attached.
 */
START_TEST(test_inline_copy_author)
{
	static const char msg[] =
	    "From: Mail Delivery System <Mailer-Daemon@mx.example.org>\n"
	    "To: relay@example.org\nSubject: Mail delivery failed\n\n"
	    "A message sent by\n\n  <author@example.com>\n\n"
	    "could not be delivered to one or more of its recipients. The "
	    "following\naddress(es) failed:\n\n  friend@far.example\n"
	    "    SMTP error from remote mail server after RCPT TO:"
	    "<friend@far.example>:\n    550 5.1.1 No such user here\n\n"
	    "------ This is a copy of the message, including all the "
	    "headers. ------\n\n"
	    "Message-Id: <m1@example.com>\nFrom: author@example.com\n"
	    "To: friend@far.example\nSubject: hello\n\nhi\n";
	struct dsn_report *rep = NULL;

	ck_assert_int_eq(dsn_parse_bytes(cl, msg, sizeof(msg) - 1, NULL, 0,
	    &rep), 0);
	ck_assert_int_eq(rep->kind, DSN_KIND_DSN);
	ck_assert_uint_eq(rep->nrcpts, 1);
	ck_assert_str_eq(rep->rcpts[0].final_rcpt, "friend@far.example");
	ck_assert_str_eq(rep->rcpts[0].cls.reason, "userunknown");
	dsn_report_free(rep);
}
END_TEST

/*
 * The returned message quoted after the notice with no separator line (or
 * one in words no list knows): its header, known by its fields, ends the
 * notice, so the copy's Cc is no recipient and its header words are no
 * diagnostic. A mail program's view of the notice, opening with the
 * notice's own "To:" and "Subject:", does not end it.
 */
START_TEST(test_inline_copy_header_block)
{
	static const char msg[] =
	    "From: MAILER-DAEMON@mx.example.net\nTo: a@example.org\n"
	    "Subject: Undelivered Mail\n\n"
	    "Die Nachricht an kim@far.example konnte nicht zugestellt "
	    "werden.\n550 5.1.1 <kim@far.example>: Recipient address "
	    "rejected\n\n"
	    "DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=k1;\n"
	    "\tb=AbCdEf==\n"
	    "Message-ID: <m2@example.org>\nFrom: a@example.org\n"
	    "To: kim@far.example\nCc: boss@example.org\n"
	    "X-Spam-Status: spam, virus found, blacklisted\n"
	    "Subject: quote\n\nbody\n";
	static const char view[] =
	    "From: MAILER-DAEMON@mx.example.net\nTo: a@example.org\n"
	    "Subject: Undeliverable Mail\n\n"
	    "To: a@example.org\nCC:\nDate: Monday\n"
	    "Subject: Undeliverable Mail\n\n"
	    "undeliverable to kim@far.example\n\n"
	    "550 5.1.1 Mailbox unknown\n";
	struct dsn_report *rep = NULL;

	ck_assert_int_eq(dsn_parse_bytes(cl, msg, sizeof(msg) - 1, NULL, 0,
	    &rep), 0);
	ck_assert_int_eq(rep->kind, DSN_KIND_DSN);
	ck_assert_uint_eq(rep->nrcpts, 1);
	ck_assert_str_eq(rep->rcpts[0].final_rcpt, "kim@far.example");
	ck_assert_str_eq(rep->rcpts[0].cls.reason, "userunknown");
	ck_assert_ptr_null(strstr(rep->rcpts[0].diag, "X-Spam"));
	dsn_report_free(rep);
	rep = NULL;
	ck_assert_int_eq(dsn_parse_bytes(cl, view, sizeof(view) - 1, NULL, 0,
	    &rep), 0);
	ck_assert_uint_eq(rep->nrcpts, 1);
	ck_assert_str_eq(rep->rcpts[0].final_rcpt, "kim@far.example");
	ck_assert_str_eq(rep->rcpts[0].action, "failed");
	dsn_report_free(rep);
}
END_TEST

/*
 * Recipient forms of other MTAs, two recipients each, both read: Exchange
 * notices turned from HTML to text ("a<mailto:a>", "Name<mailto:a>"),
 * SendGrid's lines of relay fields and the reply echoing the address
 * ("x:000:<a> : ... : 550 5.1.1 <a>... User unknown", read after the first
 * as well), Exim's file and pipe deliveries ("save to /path" / "generated
 * by a").
 */
START_TEST(test_two_recipient_forms)
{
	static const char *const msgs[] = {
	    "From: postmaster@example.org\nTo: a@example.org\n"
	    "Subject: Undeliverable: hi\n\n"
	    "Delivery has failed to these recipients or groups:\n\n"
	    "one@far.example<mailto:one@far.example>\n"
	    "The recipient's mailbox is full and can't accept messages now.\n\n"
	    "Two Person<mailto:two@far.example>\n"
	    "The recipient's mailbox is full and can't accept messages now.\n",
	    "From: MAILER-DAEMON@mx.example.net\nTo: a@example.org\n"
	    "Subject: Undelivered Mail Returned to Sender\n\n"
	    "your message was not able to be delivered to its recipients.\n\n"
	    "one:000000:<one@far.example> : 192.0.2.1 : mx.far.example:"
	    "[192.0.2.2] : 550 5.1.1 <one@far.example>... User unknown\n\n"
	    "two:000000:<two@far.example> : 192.0.2.1 : mx.far.example:"
	    "[192.0.2.2] : 550 5.1.1 <two@far.example>... User unknown\n",
	    "From: Mail Delivery System <Mailer-Daemon@mx.example.org>\n"
	    "To: a@example.org\nSubject: Mail delivery failed\n\n"
	    "A message that you sent could not be delivered to one or more "
	    "of its\nrecipients. This is a permanent error. The following "
	    "address(es) failed:\n\n"
	    "  save to /var/spool/mail/one\n    generated by one@far.example\n"
	    "    mailbox is full: retry timeout exceeded\n\n"
	    "  save to /var/spool/mail/two\n    generated by two@far.example\n"
	    "    mailbox is full: retry timeout exceeded\n",
	};
	size_t m;

	for (m = 0; m < sizeof(msgs) / sizeof(msgs[0]); m++) {
		struct dsn_report *rep = NULL;

		ck_assert_int_eq(dsn_parse_bytes(cl, msgs[m], strlen(msgs[m]),
		    NULL, 0, &rep), 0);
		ck_assert_msg(rep->nrcpts == 2, "message %zu: %zu recipients",
		    m, rep->nrcpts);
		ck_assert_str_eq(rep->rcpts[0].final_rcpt, "one@far.example");
		ck_assert_str_eq(rep->rcpts[1].final_rcpt, "two@far.example");
		ck_assert_str_eq(rep->rcpts[1].action, "failed");
		ck_assert_str_eq(rep->rcpts[1].cls.reason,
		    rep->rcpts[0].cls.reason);
		dsn_report_free(rep);
	}
}
END_TEST

/*
 * Delivery-status fields as some MTAs write them: a Diagnostic-Code
 * without its type, whose text has a ';' of its own (the diagnostic is
 * all of it), and blanks before the colon (RFC 5322's obsolete syntax).
 */
START_TEST(test_ds_field_forms)
{
	static const char msg[] =
	    "From: MAILER-DAEMON@mx.example.net\nTo: a@example.org\n"
	    "Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/report; report-type=delivery-status; "
	    "boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nnotice\n\n"
	    "--b\nContent-Type: message/delivery-status\n\n"
	    "Reporting-MTA: dns; mx.example.net\n\n"
	    "Final-Recipient : rfc822; one@far.example\nAction : failed\n"
	    "Status : 5.7.1\n"
	    "Diagnostic-Code: 550 5.7.1 Message rejected as spam; see "
	    "https://far.example/help\n--b--\n";
	struct dsn_report *rep = NULL;

	ck_assert_int_eq(dsn_parse_bytes(cl, msg, sizeof(msg) - 1, NULL, 0,
	    &rep), 0);
	ck_assert_uint_eq(rep->nrcpts, 1);
	ck_assert_str_eq(rep->rcpts[0].final_rcpt, "one@far.example");
	ck_assert_str_eq(rep->rcpts[0].action, "failed");
	ck_assert_int_eq(rep->rcpts[0].reply_code, 550);
	ck_assert_str_eq(rep->rcpts[0].cls.reason, "spamdetected");
	dsn_report_free(rep);
}
END_TEST

/*
 * The delivery-status part sent as text/plain (some gateways): its fields
 * are the report's, a recipient named by an Original-Recipient alone too;
 * the per-message fields before it are the report's own and never the
 * diagnostic of a recipient the notice lists above them.
 */
START_TEST(test_ds_part_as_text)
{
	static const char msg[] =
	    "From: MAILER-DAEMON@mx.example.net\nTo: a@example.org\n"
	    "Subject: Delivery Status Notification (Failure)\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/report; report-type=delivery-status; "
	    "boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\n"
	    "Delivery to the following recipients failed.\n\n"
	    "       one@far.example\n\n\n"
	    "--b\nContent-Type: text/plain\n\n"
	    "Reporting-MTA: dns; mx.example.net\n"
	    "Arrival-Date: Tue, 8 Dec 2026 01:02:03 +0000\n\n"
	    "Original-Recipient: rfc822; one@far.example\nAction: failed\n"
	    "Diagnostic-Code: smtp; 550 5.1.1 <one@far.example>... User "
	    "unknown\n--b--\n";
	struct dsn_report *rep = NULL;

	ck_assert_int_eq(dsn_parse_bytes(cl, msg, sizeof(msg) - 1, NULL, 0,
	    &rep), 0);
	ck_assert_uint_eq(rep->nrcpts, 1);
	ck_assert_str_eq(rep->format, "rfc3464");
	ck_assert_str_eq(rep->rcpts[0].final_rcpt, "one@far.example");
	ck_assert_int_eq(rep->rcpts[0].reply_code, 550);
	ck_assert_str_eq(rep->rcpts[0].cls.reason, "userunknown");
	ck_assert_ptr_nonnull(rep->reporting_mta);
	ck_assert_str_eq(rep->reporting_mta, "mx.example.net");
	ck_assert_ptr_null(strstr(rep->rcpts[0].diag, "Reporting-MTA"));
	dsn_report_free(rep);
}
END_TEST

/*
 * A message dressed as a notice: a daemon's name in From, a bounce
 * subject, failure words, but sent from an envelope sender of its own
 * (not the null path, not a daemon's), returning nothing and naming no
 * refused recipient: no bounce. The same text from the null path is one.
 */
START_TEST(test_dressed_as_notice)
{
	static const char body[] =
	    "From: \"Mail Delivery System\" <no-reply@mailer.example>\n"
	    "To: victim@corp.example\n"
	    "Subject: Mail Delivery Failure: 4 incoming messages are pending\n\n"
	    "4 incoming messages could not be delivered to your inbox due to "
	    "a temporary error.\nRelease them at https://release.example/\n";
	char msg[sizeof(body) + 64];
	struct dsn_report *rep = NULL;

	snprintf(msg, sizeof(msg), "Return-Path: <bounce-1@mailer.example>\n%s",
	    body);
	ck_assert_int_eq(dsn_parse_bytes(cl, msg, strlen(msg), NULL, 0, &rep),
	    0);
	ck_assert_int_eq(rep->kind, DSN_KIND_NONE);
	dsn_report_free(rep);
	snprintf(msg, sizeof(msg), "Return-Path: <>\n%s", body);
	ck_assert_int_eq(dsn_parse_bytes(cl, msg, strlen(msg), NULL, 0, &rep),
	    0);
	ck_assert_int_eq(rep->kind, DSN_KIND_DSN);
	dsn_report_free(rep);
	/* a daemon's own From address, an ESP's envelope sender: a notice */
	snprintf(msg, sizeof(msg), "Return-Path: <apps@esp.example>\n"
	    "From: MAILER-DAEMON@mx.example\n%s", strchr(body, '\n') + 1);
	ck_assert_int_eq(dsn_parse_bytes(cl, msg, strlen(msg), NULL, 0, &rep),
	    0);
	ck_assert_int_eq(rep->kind, DSN_KIND_DSN);
	dsn_report_free(rep);
}
END_TEST

/*
 * A text part that says nothing of a delivery before the notice ("This is
 * a multi-part message in MIME format." as a part of its own, a gateway's
 * banner) neither hides the HTML notice after it nor becomes the text
 * the recipient's reason is read from.
 */
START_TEST(test_part_saying_nothing)
{
	static const char msg[] =
	    "Return-Path: <>\nFrom: postmaster@contoso.example\n"
	    "To: a@example.org\nSubject: Undeliverable: report\n"
	    "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n"
	    "--b\nContent-Type: text/plain\n\nThis is a multi-part message "
	    "in MIME format.\n\n--b\nContent-Type: text/html\n\n<html><body>"
	    "<p>Your message to <b>bob@contoso.example</b> couldn't be "
	    "delivered.</p><p>Remote Server returned '550 5.1.10 "
	    "RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP "
	    "address lookup'</p></body></html>\n--b--\n";
	struct dsn_report *rep = NULL;

	ck_assert_int_eq(dsn_parse_bytes(cl, msg, sizeof(msg) - 1, NULL, 0,
	    &rep), 0);
	ck_assert_uint_eq(rep->nrcpts, 1);
	ck_assert_ptr_nonnull(rep->rcpts[0].final_rcpt);
	ck_assert_str_eq(rep->rcpts[0].final_rcpt, "bob@contoso.example");
	ck_assert_str_eq(rep->rcpts[0].action, "failed");
	ck_assert_str_eq(rep->rcpts[0].cls.reason, "userunknown");
	dsn_report_free(rep);
}
END_TEST

/*
 * Gmail's older text notice: the address, "Technical details of permanent
 * failure:" with Google's own sentence, then the server's words under
 * "The error that the other server returned was:". The server's reply is
 * the diagnostic.
 */
START_TEST(test_gmail_two_headings)
{
	static const char msg[] =
	    "Return-Path: <>\nFrom: Mail Delivery Subsystem "
	    "<mailer-daemon@googlemail.com>\nTo: s@example.com\n"
	    "Subject: Delivery Status Notification (Failure)\n\n"
	    "Delivery to the following recipient failed permanently:\n\n"
	    "     a@far.example\n\n"
	    "Technical details of permanent failure:\nGoogle tried to deliver "
	    "your message, but it was rejected by the server for the "
	    "recipient domain far.example by mx.far.example. [192.0.2.1].\n\n"
	    "The error that the other server returned was:\n550 5.1.1 "
	    "<a@far.example>: Recipient address rejected: User unknown in "
	    "virtual alias table (state 14).\n";
	struct dsn_report *rep = NULL;

	ck_assert_int_eq(dsn_parse_bytes(cl, msg, sizeof(msg) - 1, NULL, 0,
	    &rep), 0);
	ck_assert_uint_eq(rep->nrcpts, 1);
	ck_assert_int_eq(rep->rcpts[0].reply_code, 550);
	ck_assert_str_eq(rep->rcpts[0].cls.reason, "userunknown");
	ck_assert_ptr_nonnull(strstr(rep->rcpts[0].diag, "User unknown"));
	dsn_report_free(rep);
}
END_TEST

/*
 * A report whose recipients lack the Action field (RFC 3464 requires it,
 * some gateways leave it out): a success status reads delivered, a
 * temporary status in a final failure notice reads failed with its
 * retries run out (expired), as it would with "Action: failed".
 */
START_TEST(test_ds_without_action)
{
	static const char msg[] =
	    "From: MAILER-DAEMON@mx.example.net\nTo: a@example.org\n"
	    "Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/report; report-type=delivery-status; "
	    "boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\n"
	    "I'm sorry to have to inform you that your message could not be "
	    "delivered to one or more recipients.\n\n"
	    "--b\nContent-Type: message/delivery-status\n\n"
	    "Reporting-MTA: dns; mx.example.net\n\n"
	    "Final-Recipient: rfc822; ok@far.example\nStatus: 2.0.0\n\n"
	    "Final-Recipient: rfc822; slow@far.example\nStatus: 4.4.1\n"
	    "Diagnostic-Code: smtp; connect to mx.far.example: Connection "
	    "timed out\n--b--\n";
	struct dsn_report *rep = NULL;

	ck_assert_int_eq(dsn_parse_bytes(cl, msg, sizeof(msg) - 1, NULL, 0,
	    &rep), 0);
	ck_assert_uint_eq(rep->nrcpts, 2);
	ck_assert_str_eq(rep->rcpts[0].action, "delivered");
	ck_assert_str_eq(rep->rcpts[1].action, "failed");
	ck_assert_str_eq(rep->rcpts[1].cls.reason, "expired");
	dsn_report_free(rep);
}
END_TEST

/*
 * A recipient named by a labelled line of the notice: a quoted display
 * name before the address ('To: "Vera Lind" <a>'), and the "Message to:"
 * label of a delay warning, whose action is the notice's.
 */
START_TEST(test_labelled_recipient)
{
	static const char *const msgs[] = {
	    "From: MAILER-DAEMON@scx.example\nTo: a@example.org\n"
	    "Subject: Non-delivery notification: agenda\n\n"
	    "Your message was not delivered.\n\n  Subject: agenda\n"
	    "  To: \"Vera Lind\" <vera@scx.example>\n\n"
	    "Reason: The recipient's mailbox could not be found on this "
	    "server (No such user).\n",
	    "From: postmaster@sm.example\nTo: a@example.org\n"
	    "Subject: Delivery delayed (still trying)\n\n"
	    "This is a warning only, your message has not yet been "
	    "delivered.\n\nMessage to: vera@scx.example\nLast error: 451 "
	    "4.3.0 Temporary lookup failure\n\n--- Original message headers "
	    "---\nFrom: a@example.org\nTo: vera@scx.example\nSubject: x\n",
	};
	static const char *const action[] = { "failed", "delayed" };
	size_t m;

	for (m = 0; m < sizeof(msgs) / sizeof(msgs[0]); m++) {
		struct dsn_report *rep = NULL;

		ck_assert_int_eq(dsn_parse_bytes(cl, msgs[m], strlen(msgs[m]),
		    NULL, 0, &rep), 0);
		ck_assert_msg(rep->nrcpts == 1, "message %zu: %zu recipients",
		    m, rep->nrcpts);
		ck_assert_ptr_nonnull(rep->rcpts[0].final_rcpt);
		ck_assert_str_eq(rep->rcpts[0].final_rcpt, "vera@scx.example");
		ck_assert_str_eq(rep->rcpts[0].action, action[m]);
		dsn_report_free(rep);
	}
}
END_TEST

/*
 * A receiving gateway's tag before the Subject ("[EXTERNAL] ") changes
 * nothing the Subject tells: a person forwarding a bounce is no bounce,
 * an out-of-office reply is one, and a gateway's footer added as a part
 * of its own is never the paragraph a listed recipient's line announces.
 */
START_TEST(test_gateway_marks)
{
	static const char fwd[] =
	    "From: Carol <carol@example.org>\nTo: help@example.org\n"
	    "Subject: [EXTERNAL] Fwd: Undeliverable: report\n\n"
	    "Can you look at this?\n\n"
	    "Delivery has failed to these recipients or groups:\n\n"
	    "dan@far.example\nThe email address you entered couldn't be "
	    "found.\n";
	static const char ooo[] =
	    "From: Erin <erin@far.example>\nTo: a@example.org\n"
	    "Subject: [EXTERNAL] [Ext] Out of Office: report\n"
	    "Auto-Submitted: auto-replied\n\n"
	    "I am away until Monday.\n";
	static const char footer[] =
	    "From: MAILER-DAEMON@mx.example.net\nTo: a@example.org\n"
	    "Subject: Delivery Status Notification (Delay)\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"b\"\n\n"
	    "--b\nContent-Type: text/plain\n\n"
	    "Delivery to the following recipients has been delayed.\n\n"
	    "       one@far.example\n\n\n"
	    "--b\nContent-Type: text/plain\n\n"
	    "This email has been checked by the gateway and no virus was "
	    "found, see https://gw.example/policy\n--b--\n";
	struct dsn_report *rep = NULL;

	ck_assert_int_eq(dsn_parse_bytes(cl, fwd, sizeof(fwd) - 1, NULL, 0,
	    &rep), 0);
	ck_assert_int_eq(rep->kind, DSN_KIND_NONE);
	dsn_report_free(rep);
	ck_assert_int_eq(dsn_parse_bytes(cl, ooo, sizeof(ooo) - 1, NULL, 0,
	    &rep), 0);
	ck_assert_int_eq(rep->kind, DSN_KIND_AUTOREPLY);
	dsn_report_free(rep);
	ck_assert_int_eq(dsn_parse_bytes(cl, footer, sizeof(footer) - 1, NULL,
	    0, &rep), 0);
	ck_assert_int_eq(rep->kind, DSN_KIND_DSN);
	ck_assert_uint_eq(rep->nrcpts, 1);
	ck_assert_str_eq(rep->rcpts[0].final_rcpt, "one@far.example");
	ck_assert_str_eq(rep->rcpts[0].action, "delayed");
	ck_assert(rep->rcpts[0].diag == NULL ||
	    strstr(rep->rcpts[0].diag, "virus") == NULL);
	dsn_report_free(rep);
}
END_TEST

/*
 * Exim's X-Failed-Recipients names every failed address: each is failed
 * when the text names none, up to DSN_MAX_RECIPIENTS of a hostile list.
 */
START_TEST(test_failed_recipients_header)
{
	static const char head[] =
	    "Return-Path: <>\nFrom: Mail Delivery System <Mailer-Daemon@mx.example.org>\n"
	    "To: o@example.org\nSubject: Mail delivery failed\nX-Failed-Recipients: ";
	static const char body[] = "\n\nA message that you sent could not be "
	    "delivered to all of its recipients.\n";
	struct dsn_report *rep = NULL;
	struct buf b;
	size_t i;

	buf_init(&b, 1 << 20);
	ck_assert_int_eq(buf_puts(&b, head), BUF_OK);
	ck_assert_int_eq(buf_puts(&b, "p@far.example, k@far.example"), BUF_OK);
	ck_assert_int_eq(buf_puts(&b, body), BUF_OK);
	ck_assert_int_eq(dsn_parse_bytes(cl, b.data, b.len, NULL, 0, &rep), 0);
	ck_assert_uint_eq(rep->nrcpts, 2);
	ck_assert_str_eq(rep->rcpts[0].final_rcpt, "p@far.example");
	ck_assert_str_eq(rep->rcpts[1].final_rcpt, "k@far.example");
	ck_assert_str_eq(rep->rcpts[1].action, "failed");
	dsn_report_free(rep);
	rep = NULL;
	buf_reset(&b);
	ck_assert_int_eq(buf_puts(&b, head), BUF_OK);
	for (i = 0; i < DSN_MAX_RECIPIENTS + 200; i++) {
		char a[32];

		snprintf(a, sizeof(a), "%su%zu@x.example", i ? ", " : "", i);
		ck_assert_int_eq(buf_puts(&b, a), BUF_OK);
	}
	ck_assert_int_eq(buf_puts(&b, body), BUF_OK);
	ck_assert_int_eq(dsn_parse_bytes(cl, b.data, b.len, NULL, 0, &rep), 0);
	ck_assert_uint_le(rep->nrcpts, DSN_MAX_RECIPIENTS);
	dsn_report_free(rep);
	buf_fini(&b);
}
END_TEST

/*
 * A transcript whose one DATA was refused: the recipients it accepted
 * failed with the message. Accepted at RCPT and then delivered, or in a
 * transcript of two sessions, they are not counted.
 */
START_TEST(test_transcript_data_refused)
{
	static const char head[] =
	    "From: Content Filter <postmaster@filter.example.net>\n"
	    "To: a@example.org\nSubject: Undeliverable mail\n\n"
	    "The message you sent was refused. Session transcript:\n\n"
	    ">>> MAIL FROM:<a@example.org>\n<<< 250 2.1.0 Ok\n"
	    ">>> RCPT TO:<x@example.net>\n<<< 550 5.1.1 <x@example.net>: "
	    "Recipient address rejected: User unknown\n"
	    ">>> RCPT TO:<y@example.net>\n<<< 250 2.1.5 Ok\n>>> DATA\n"
	    "<<< 354 End data with <CR><LF>.<CR><LF>\n";
	static const char refused[] = "<<< 554 5.7.0 Reject - INFECTED: Eicar\n";
	static const char queued[] = "<<< 250 2.0.0 Ok: queued as 4F2\n";
	static const char again[] = ">>> RCPT TO:<z@example.net>\n"
	    "<<< 250 2.1.5 Ok\n>>> DATA\n<<< 554 5.7.1 spam\n";
	struct dsn_report *rep = NULL;
	char msg[2048];

	snprintf(msg, sizeof(msg), "%s%s", head, refused);
	ck_assert_int_eq(dsn_parse_bytes(cl, msg, strlen(msg), "", 0, &rep), 0);
	ck_assert_int_eq(rep->kind, DSN_KIND_DSN);
	ck_assert_uint_eq(rep->nrcpts, 2);
	ck_assert_str_eq(rep->rcpts[0].final_rcpt, "x@example.net");
	/* refused at RCPT, not with the message */
	ck_assert_str_eq(rep->rcpts[0].cls.reason, "userunknown");
	ck_assert_str_eq(rep->rcpts[1].final_rcpt, "y@example.net");
	ck_assert_str_eq(rep->rcpts[1].cls.reason, "virusdetected");
	ck_assert_str_eq(rep->rcpts[1].status, "5.7.0");
	dsn_report_free(rep);
	rep = NULL;
	snprintf(msg, sizeof(msg), "%s%s", head, queued);
	ck_assert_int_eq(dsn_parse_bytes(cl, msg, strlen(msg), "", 0, &rep), 0);
	ck_assert_uint_eq(rep->nrcpts, 1);
	ck_assert_str_eq(rep->rcpts[0].final_rcpt, "x@example.net");
	dsn_report_free(rep);
	rep = NULL;
	snprintf(msg, sizeof(msg), "%s%s%s", head, queued, again);
	ck_assert_int_eq(dsn_parse_bytes(cl, msg, strlen(msg), "", 0, &rep), 0);
	ck_assert_uint_eq(rep->nrcpts, 1);
	ck_assert_str_eq(rep->rcpts[0].final_rcpt, "x@example.net");
	dsn_report_free(rep);
}
END_TEST

/* "The response from the remote server was:" and its paragraph apart. */
START_TEST(test_response_paragraph)
{
	static const char msg[] =
	    "From: Mail Delivery Subsystem <mailer-daemon@m.example.net>\n"
	    "To: a@example.org\nSubject: Delivery Status Notification (Failure)\n\n"
	    "Address not found\n\nYour message wasn't delivered to r@example.net "
	    "because the address couldn't be found.\n\n"
	    "The response from the remote server was:\n\n"
	    "552 5.2.2 The recipient's inbox is out of storage space.\n";
	struct dsn_report *rep = NULL;

	ck_assert_int_eq(dsn_parse_bytes(cl, msg, sizeof(msg) - 1, "", 0,
	    &rep), 0);
	ck_assert_uint_eq(rep->nrcpts, 1);
	ck_assert_str_eq(rep->rcpts[0].final_rcpt, "r@example.net");
	ck_assert_str_eq(rep->rcpts[0].status, "5.2.2");
	ck_assert_int_eq(rep->rcpts[0].reply_code, 552);
	dsn_report_free(rep);
}
END_TEST

START_TEST(test_envelope)
{
	char *d, *t;
	size_t n = 0;

	ck_assert_ptr_nonnull(d = slurp(DATA "/extra/exim-virus.eml", &n));
	t = stream_text(d, n, 4096, "", "<owner@example.net>");
	ck_assert_ptr_nonnull(strstr(t, "\"sender\":\"owner@example.net\""));
	free(t);
	free(d);
}
END_TEST

/* ---- provenance, action, permanence ---- */

#define DS_HEAD "From: MAILER-DAEMON@mx.example.org\nTo: a@example.org\n" \
	"Subject: Delivery Status Notification (Failure)\nMIME-Version: 1.0\n" \
	"Content-Type: multipart/report; report-type=delivery-status; boundary=B\n\n"

/*
 * Each case: the recipients the report must give (in order, NULL-ended;
 * a leading "!" marks one that must be there as action "unknown" with
 * provenance "returned"), the first one's action, permanence and hard.
 */
struct pcase {
	const char	*label;
	const char	*msg;
	enum dsn_kind	 kind;
	const char	*rcpts[4];
	const char	*action0;
	int		 permanent0;
	int		 hard0;
};

#define TXT_HEAD(subj) "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\n" \
	"To: a@example.org\nSubject: " subj "\nMIME-Version: 1.0\n"
#define RET_PART(to) "--R\nContent-Type: message/rfc822\n\nFrom: a@example.org\n" \
	"To: " to "\nCc: cc1@example.net\nSubject: hi\n" \
	"List-Post: <mailto:list@lists.example.org>\n\nhello\n--R--\n"

#define OWN_HEAD "Return-Path: <>\nFrom: Erik Lund <erik@example.net>\n" \
	"To: a@example.org\n" \
	"Subject: Undeliverable: hi\nMIME-Version: 1.0\n\n" \
	"Your message did not reach some or all of the intended recipients.\n\n" \
	"The following recipient(s) cannot be reached:\n\n"

static const struct pcase pcases[] = {
	{ "a notice in the failed mailbox's own name, with a code, is failed",
	  OWN_HEAD "      erik@example.net on 1/12/2026 10:00 AM\n"
	  "            The e-mail account does not exist.\n"
	  "            <mx.example.net #5.1.1 smtp;550 5.1.1 User unknown>\n",
	  DSN_KIND_DSN, { "erik@example.net", NULL }, "failed", 1, 1 },
	{ "the notice's From named without a code is kept for its words only",
	  OWN_HEAD "      erik@example.net on 1/12/2026 10:00 AM\n"
	  "            The e-mail account does not exist.\n",
	  DSN_KIND_DSN, { "!erik@example.net", NULL }, "unknown", 1, 0 },
	{ "the Subject naming the returned To makes it the failed recipient",
	  TXT_HEAD("Delivery failure to x@example.net")
	  "Content-Type: multipart/mixed; boundary=R\n\n--R\nContent-Type: text/plain\n\n"
	  "Your message could not be delivered.\n"
	  "The mailbox you addressed does not exist on this server.\n\n"
	  RET_PART("x@example.net"), DSN_KIND_DSN, { "x@example.net", NULL },
	  "failed", 1, 1 },
	{ "a Subject naming a longer address does not name the returned To",
	  TXT_HEAD("Delivery failure to xx@example.net.example")
	  "Content-Type: multipart/mixed; boundary=R\n\n--R\nContent-Type: text/plain\n\n"
	  "Your message could not be delivered.\n"
	  "The mailbox you addressed does not exist on this server.\n\n"
	  RET_PART("x@example.net"), DSN_KIND_DSN, { "!x@example.net", NULL },
	  "unknown", 1, 0 },
	{ "no recipient in the notice: the returned To is not failed",
	  TXT_HEAD("Undelivered Mail Returned to Sender")
	  "Content-Type: multipart/mixed; boundary=R\n\n--R\nContent-Type: text/plain\n\n"
	  "Your message could not be delivered.\n554 5.7.1 Message refused: spam\n\n"
	  RET_PART("x@example.net"), DSN_KIND_DSN, { "!x@example.net", NULL },
	  "unknown", 1, 0 },
	{ "the returned To named by the notice is failed",
	  TXT_HEAD("Undelivered Mail Returned to Sender")
	  "Content-Type: multipart/mixed; boundary=R\n\n--R\nContent-Type: text/plain\n\n"
	  "Your message could not be delivered.\n\n"
	  "<x@example.net>: host mx.example.net[192.0.2.1] said: 550 5.1.1 User unknown\n"
	  "    (in reply to RCPT TO command)\n\n"
	  RET_PART("x@example.net"), DSN_KIND_DSN, { "x@example.net", NULL },
	  "failed", 1, 1 },
	{ "a list address alone on a footer line is not failed",
	  TXT_HEAD("failure notice")
	  "Content-Type: multipart/mixed; boundary=R\n\n--R\nContent-Type: text/plain\n\n"
	  "The message could not be delivered: 550 5.7.1 rejected by local policy\n\n"
	  "____\nlist mailing list\nlist@lists.example.org\nhttps://lists.example.org/\n\n"
	  RET_PART("list@lists.example.org"), DSN_KIND_DSN,
	  { "!list@lists.example.org", NULL }, "unknown", 1, 0 },
	{ "a -request address next to a real recipient is dropped",
	  TXT_HEAD("Undelivered Mail Returned to Sender") "\n"
	  "Your message could not be delivered.\n\n"
	  "<m@example.com>: host s.example.com[192.0.2.2] said: 552 5.2.2 Mailbox full\n\n"
	  "To unsubscribe:\nlist-request@lists.example.org\n    failed to read this\n",
	  DSN_KIND_DSN, { "m@example.com", NULL }, "failed", 1, 0 },
	{ "a sentence naming the bounce's own address alone is not failed",
	  TXT_HEAD("Returned mail: see transcript for details") "\n"
	  "Your message to a@example.org could not be delivered.\n",
	  DSN_KIND_DSN, { "!a@example.org", NULL }, "unknown", 1, 0 },
	{ "the sender's own address on a reason line failed (sent to himself)",
	  TXT_HEAD("Returned mail: see transcript for details") "\n"
	  "The original message was received from a@example.org\n"
	  "----- The following addresses had permanent fatal errors -----\n"
	  "a@example.org\n    (reason: 550 5.1.1 user unknown)\n",
	  DSN_KIND_DSN, { "a@example.org", NULL }, "failed", 1, 1 },
	{ "a Cc of the returned message on a reason line failed too",
	  TXT_HEAD("Returned mail: see transcript for details")
	  "Content-Type: multipart/mixed; boundary=R\n\n--R\nContent-Type: text/plain\n\n"
	  "----- The following addresses had permanent fatal errors -----\n"
	  "<b@example.net>\n    (reason: 550 5.1.1 user unknown)\n"
	  "<cc1@example.net>\n    (reason: 550 5.1.1 user unknown)\n\n"
	  RET_PART("b@example.net"), DSN_KIND_DSN,
	  { "b@example.net", "cc1@example.net", NULL }, "failed", 1, 1 },
	{ "a daemon's auto-replied rejection returning nothing is a bounce",
	  "From: MAILER-DAEMON@mx.example.pl\nTo: a@example.org\n"
	  "Subject: Message rejected\nAuto-Submitted: auto-replied\n\n"
	  "Your message to adam@example.pl was rejected by the receiving server.\n\n"
	  "adam@example.pl: 550 5.1.1 No such user here\n",
	  DSN_KIND_DSN, { "adam@example.pl", NULL }, "failed", 1, 1 },
	{ "the sender a transcript's MAIL FROM refusal echoes is not failed",
	  TXT_HEAD("Returned mail: see transcript for details") "\n"
	  "   ----- Transcript of session follows -----\n"
	  ">>> MAIL From:<a@example.org> SIZE=1200\n"
	  "<<< 553 5.1.8 <a@example.org>... Domain of sender address does not exist\n"
	  "501 5.6.0 Data format error\n",
	  DSN_KIND_DSN, { "!a@example.org", NULL }, "unknown", 1, 0 },
	{ "a quoted local part is the recipient's",
	  TXT_HEAD("Undelivered Mail Returned to Sender") "\n"
	  "<\"ann..lee.\"@example.net>: host mx.example.net[192.0.2.9] said: 550 5.1.1\n"
	  "    <\"ann..lee.\"@example.net>... User Unknown (in reply to RCPT TO command)\n",
	  DSN_KIND_DSN, { "\"ann..lee.\"@example.net", NULL }, "failed", 1, 1 },
	{ "an alias wrapped onto the next line is no recipient",
	  TXT_HEAD("Undelivered Mail Returned to Sender") "\n"
	  "<karl@example.net> (expanded from\n"
	  "    <sales@example.net>): host mx.example.net[192.0.2.9] said: 550\n"
	  "    5.1.1 <karl@example.net>: Recipient address rejected: no such user\n"
	  "    (in reply to RCPT TO command)\n",
	  DSN_KIND_DSN, { "karl@example.net", NULL }, "failed", 1, 1 },
	{ "an address wrapped to the start of a line is the reply's",
	  TXT_HEAD("Undelivered Mail Returned to Sender") "\n"
	  "<k@example.com>: host 192.0.2.2[192.0.2.2] said: 554 Mail from\n"
	  "    s@example.net rejected for policy reasons. (in reply to MAIL FROM\n"
	  "    command)\n",
	  DSN_KIND_DSN, { "k@example.com", NULL }, "failed", 1, 0 },
	{ "a Cc of the returned message named without a reply is dropped",
	  TXT_HEAD("Undelivered Mail Returned to Sender")
	  "Content-Type: multipart/mixed; boundary=R\n\n--R\nContent-Type: text/plain\n\n"
	  "<b@example.net>: host mx.example.net[192.0.2.9] said: 550 5.1.1 no such user\n\n"
	  "Copies went to: cc1@example.net (not affected)\n\n"
	  RET_PART("b@example.net"), DSN_KIND_DSN,
	  { "b@example.net", NULL }, "failed", 1, 1 },
	{ "a transcript's accepted RCPT is not failed",
	  TXT_HEAD("Returned mail: see transcript for details") "\n"
	  "   ----- Transcript of session follows -----\n"
	  ">>> RCPT TO:<ok@example.com>\n<<< 250 2.1.5 Ok\n"
	  ">>> RCPT TO:<bad@example.com>\n<<< 550 5.1.1 <bad@example.com>... User unknown\n",
	  DSN_KIND_DSN, { "bad@example.com", NULL }, "failed", 1, 1 },
	{ "Original recipient: field",
	  TXT_HEAD("Delivery failure") "\n"
	  "Your message could not be delivered.\n\n"
	  "  Original recipient: o@example.com\n  Reason: 550 5.1.1 Mailbox does not exist\n",
	  DSN_KIND_DSN, { "o@example.com", NULL }, "failed", 1, 1 },
	{ "a quoted To: list is no recipient field",
	  TXT_HEAD("Delivery failure") "\n"
	  "Your message could not be delivered.\n\n  To: t1@example.com, t2@example.com\n"
	  "  Recipient address: t2@example.com\n  Reason: 550 5.1.1 no such user\n",
	  DSN_KIND_DSN, { "t2@example.com", NULL }, "failed", 1, 1 },
	{ "Exim delay warning: delayed, never hard",
	  TXT_HEAD("Warning: message 1abc-00 delayed 24 hours") "\n"
	  "This message was created automatically by mail delivery software.\n"
	  "A message that you sent has not yet been delivered to one or more of its\n"
	  "recipients after more than 24 hours on the queue on mx.example.org.\n\n"
	  "  d@example.com\n    Delay reason: SMTP error from remote mail server after RCPT TO:<d@example.com>:\n"
	  "    550 5.1.1 user unknown\n\n"
	  "No action is required on your part. Delivery attempts will continue for\nsome time.\n",
	  DSN_KIND_DSN, { "d@example.com", NULL }, "delayed", 0, 0 },
	{ "qmail gave up: failed, permanent",
	  TXT_HEAD("failure notice") "\n"
	  "Hi. This is the qmail-send program at mx.example.org.\n"
	  "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
	  "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
	  "<q@example.com>:\nI'm not going to try again; this message has been in the queue too long.\n",
	  DSN_KIND_DSN, { "q@example.com", NULL }, "failed", 1, 0 },
	{ "Action: delayed with a 5.1.1 status is never hard", DS_HEAD
	  "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; m\n\n"
	  "Final-Recipient: rfc822; y@example.com\nAction: delayed\nStatus: 5.1.1\n"
	  "--B--\n", DSN_KIND_DSN, { "y@example.com", NULL }, "delayed", 0, 0 },
	{ "temporary words in a 5xx make no hard failure", DS_HEAD
	  "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; m\n\n"
	  "Final-Recipient: rfc822; z@example.com\nAction: failed\nStatus: 5.1.1\n"
	  "Diagnostic-Code: smtp; 550 5.1.1 user unknown, try again later\n"
	  "--B--\n", DSN_KIND_DSN, { "z@example.com", NULL }, "failed", 1, 0 },
	{ "a mailer daemon's auto-replied rejection is a bounce",
	  "From: MAILER-DAEMON@mx.example.org\nTo: a@example.org\n"
	  "Subject: Message rejected\nAuto-Submitted: auto-replied\nMIME-Version: 1.0\n"
	  "Content-Type: multipart/mixed; boundary=R\n\n--R\nContent-Type: text/plain\n\n"
	  "r@example.net: 550 5.1.1 No such user here\n\n" RET_PART("r@example.net"),
	  DSN_KIND_DSN, { "r@example.net", NULL }, "failed", 1, 1 },
	{ "a person's auto-reply stays one",
	  "From: Pat <pat@example.net>\nTo: a@example.org\nSubject: Automatic reply: hi\n"
	  "Auto-Submitted: auto-replied\n\nI am away until Monday; my colleague\n"
	  "is at office@example.net.\n", DSN_KIND_AUTOREPLY, { "pat@example.net", NULL },
	  NULL, 0, 0 },
	{ "X.400 Final-Recipient: the plain Original-Recipient", DS_HEAD
	  "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; m\n\n"
	  "Original-Recipient: rfc822;ian@example.de\n"
	  "Final-Recipient: X400;\"/C=DE/ADMD= /PRMD=EX/O=EXCH/S=Jones/G=Ian/\"\n"
	  "Action: failed\nStatus: 5.1.1\n--B--\n", DSN_KIND_DSN,
	  { "ian@example.de", NULL }, "failed", 1, 1 },
	{ "X.400 Final-Recipient with a gateway @: the Original-Recipient", DS_HEAD
	  "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; m\n\n"
	  "Final-Recipient: rfc822;\"/C=US/O=CORP/S=Roe/G=Jo/\"@gw.example.com\n"
	  "Original-Recipient: rfc822;jo.roe@example.com\n"
	  "Action: failed\nStatus: 5.1.1\n--B--\n", DSN_KIND_DSN,
	  { "jo.roe@example.com", NULL }, "failed", 1, 1 },
	{ "HTML-only notice with character references",
	  TXT_HEAD("Undeliverable: hi")
	  "Content-Type: text/html\n\n<html><body><p>Your message to <b>h&#64;example.com</b>"
	  " couldn't be delivered.</p><p>Remote Server returned '550 5.1.10 "
	  "RESOLVER.ADR.RecipientNotFound; Recipient not found'</p></body></html>\n",
	  DSN_KIND_DSN, { "h@example.com", NULL }, "failed", 1, 1 },
};

START_TEST(test_provenance)
{
	const struct pcase *c = &pcases[_i];
	struct dsn_report *rep = NULL;
	size_t k, n = 0;

	ck_assert_int_eq(dsn_parse_bytes(cl, c->msg, strlen(c->msg), NULL, 0, &rep), 0);
	ck_assert_msg(rep->kind == c->kind, "%s: kind %s", c->label,
	    dsn_kind_name(rep->kind));
	while (n < 4 && c->rcpts[n])
		n++;
	ck_assert_msg(rep->nrcpts == n, "%s: %zu recipients (first %s)", c->label,
	    rep->nrcpts, rep->nrcpts ? rep->rcpts[0].final_rcpt : "-");
	for (k = 0; k < n; k++) {
		const struct dsn_recipient *r = &rep->rcpts[k];
		const char *want = c->rcpts[k];
		int returned = want[0] == '!';

		ck_assert_str_eq(r->final_rcpt, want + returned);
		if (c->kind != DSN_KIND_DSN)
			continue;
		ck_assert_msg((r->provenance == DSN_PROV_RETURNED) == returned,
		    "%s: %s provenance %s", c->label, r->final_rcpt,
		    dsn_provenance_name(r->provenance));
		if (returned) {
			ck_assert_str_eq(r->action, "unknown");
			ck_assert_int_eq(r->cls.hard, 0);
		}
	}
	if (c->action0) {
		ck_assert_msg(rep->rcpts[0].action && strcmp(rep->rcpts[0].action,
		    c->action0) == 0, "%s: action %s", c->label,
		    rep->rcpts[0].action ? rep->rcpts[0].action : "NULL");
		ck_assert_msg(rep->rcpts[0].permanent == c->permanent0,
		    "%s: permanent %d", c->label, rep->rcpts[0].permanent);
		ck_assert_msg(rep->rcpts[0].cls.hard == c->hard0, "%s: hard %d (%s)",
		    c->label, rep->rcpts[0].cls.hard, rep->rcpts[0].cls.reason);
	}
	dsn_report_free(rep);
}
END_TEST

/* ---- charsets ---- */

struct ccase {
	const char	*label;
	const char	*msg;
	const char	*diag_has;	/* UTF-8 the diagnostic must hold */
	const char	*subject;	/* the report's subject, or NULL */
};

static const struct ccase ccases[] = {
	{ "KOI8-R quoted-printable",
	  TXT_HEAD("x") "Content-Type: text/plain; charset=KOI8-R\n"
	  "Content-Transfer-Encoding: quoted-printable\n\n"
	  "  u@example.ru\n    554 5.7.1 =F3=D0=C1=CD spam\n",
	  "\xd0\xa1\xd0\xbf\xd0\xb0\xd0\xbc", NULL },	/* Спам */
	{ "Latin-1 8bit and an encoded-word subject",
	  "From: MAILER-DAEMON@mx.example.de\nTo: a@example.org\n"
	  "Subject: =?ISO-8859-1?Q?Unzustellbar=3A_f=FCr_dich?=\n"
	  "Content-Type: text/plain; charset=ISO-8859-1\n\n"
	  "u@example.de: 550 5.1.1 Empf\xe4nger unbekannt\n",
	  "Empf\xc3\xa4nger", "Unzustellbar: f\xc3\xbcr dich" },
	{ "ISO-2022-JP with a cut escape sequence",
	  TXT_HEAD("x") "Content-Type: text/plain; charset=ISO-2022-JP\n\n"
	  "u@example.jp: 550 5.1.1 \x1b$B%f!<%6\x1b(B unknown \x1b$",
	  "\xe3\x83\xa6\xe3\x83\xbc\xe3\x82\xb6", NULL },	/* ユーザ */
	{ "invalid UTF-8 is replaced, not passed on",
	  TXT_HEAD("x") "Content-Type: text/plain; charset=UTF-8\n\n"
	  "u@example.com: 550 5.1.1 bad \xff\xfe bytes \xc3(\n",
	  "bad \xef\xbf\xbd\xef\xbf\xbd bytes \xef\xbf\xbd(", NULL },
	{ "an unknown charset keeps ASCII, replaces the rest",
	  TXT_HEAD("x") "Content-Type: text/plain; charset=x-no-such-charset\n\n"
	  "u@example.com: 550 5.1.1 gone \xa4\n",
	  "gone \xef\xbf\xbd", NULL },
	{ "GB2312 base64",
	  TXT_HEAD("x") "Content-Type: text/plain; charset=gb2312\n"
	  "Content-Transfer-Encoding: base64\n\n"
	  "dUBleGFtcGxlLmNuOiA1NTIgNS4yLjIg08O7p8L6\n",	/* "u@example.cn: 552 5.2.2 " + 用户满 (GB2312) */
	  "\xe7\x94\xa8", NULL },	/* 用 */
};

START_TEST(test_charsets)
{
	const struct ccase *c = &ccases[_i];
	struct dsn_report *rep = NULL;

	ck_assert_int_eq(dsn_parse_bytes(cl, c->msg, strlen(c->msg), NULL, 0, &rep), 0);
	ck_assert_msg(rep->kind == DSN_KIND_DSN && rep->nrcpts == 1, "%s: kind %s, %zu",
	    c->label, dsn_kind_name(rep->kind), rep->nrcpts);
	ck_assert_msg(rep->rcpts[0].diag && strstr(rep->rcpts[0].diag, c->diag_has),
	    "%s: diag %s", c->label, rep->rcpts[0].diag ? rep->rcpts[0].diag : "NULL");
	if (c->subject)
		ck_assert_str_eq(rep->subject, c->subject);
	dsn_report_free(rep);
}
END_TEST

/* ---- inline messages: shapes and decisions ---- */

struct icase {
	const char	*label;
	const char	*msg;
	enum dsn_kind	 kind;
	size_t		 nrcpts;
	const char	*rcpt0;
	const char	*reason0;
	const char	*status0;
};


static const struct icase icases[] = {
	{ "recipients without blank lines", DS_HEAD
	  "--B\nContent-Type: text/plain\n\nfailed\n--B\n"
	  "Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\n"
	  "Final-Recipient: rfc822; x@example.com\nAction: failed\nStatus: 5.1.1\n"
	  "Final-Recipient: rfc822; y@example.com\nAction: failed\nStatus: 5.2.2\n"
	  "--B--\n", DSN_KIND_DSN, 2, "x@example.com", "userunknown", "5.1.1" },
	{ "diagnostic before recipient", DS_HEAD
	  "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; m\n\n"
	  "Diagnostic-Code: smtp; 550 5.7.1 listed at zen.spamhaus.org\n"
	  "Status: 5.7.1\nFinal-Recipient: rfc822; x@example.com\nAction: failed\n"
	  "--B--\n", DSN_KIND_DSN, 1, "x@example.com", "blocked", "5.7.1" },
	{ "global delivery status", DS_HEAD
	  "--B\nContent-Type: message/global-delivery-status\n\nReporting-MTA: dns; m\n\n"
	  "Final-Recipient: utf-8; x@example.com\nAction: failed\nStatus: 5.1.2\n"
	  "--B--\n", DSN_KIND_DSN, 1, "x@example.com", "hostunknown", "5.1.2" },
	{ "success DSN", DS_HEAD
	  "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; m\n\n"
	  "Final-Recipient: rfc822; x@example.com\nAction: delivered\nStatus: 2.0.0\n"
	  "--B--\n", DSN_KIND_DELIVERED, 1, "x@example.com", "delivered", "2.0.0" },
	{ "action with a comment", DS_HEAD
	  "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; m\n\n"
	  "Final-Recipient: rfc822; x@example.com\n"
	  "Action: relayed (to non-DSN-aware mailer)\nStatus: 2.0.0\n"
	  "--B--\n", DSN_KIND_DELIVERED, 1, "x@example.com", "delivered", "2.0.0" },
	/* a bare "unknown user" nothing places at RCPT: a filter's words */
	{ "unknown user, no stage", DS_HEAD
	  "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; m\n\n"
	  "Final-Recipient: rfc822; x@example.com\nAction: failed\nStatus: 5.0.0\n"
	  "Diagnostic-Code: smtp; 554 Unknown user x@example.com, message refused\n"
	  "--B--\n", DSN_KIND_DSN, 1, "x@example.com", "filtered", "5.0.0" },
	/* the same words echoing the address the RCPT way: userunknown */
	{ "unknown user, address echoed", DS_HEAD
	  "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; m\n\n"
	  "Final-Recipient: rfc822; x@example.com\nAction: failed\nStatus: 5.0.0\n"
	  "Diagnostic-Code: smtp; 550 <x@example.com>: User unknown\n"
	  "--B--\n", DSN_KIND_DSN, 1, "x@example.com", "userunknown", "5.0.0" },
	/* a mailer's exit status only: Sendmail's own transcript line has the codes */
	{ "x-unix exit status, transcript line", DS_HEAD
	  "--B\nContent-Type: text/plain\n\n   ----- Transcript of session follows -----\n"
	  "DBI connect failed: too many clients\n554 5.3.0 unknown mailer error 255\n\n"
	  "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; m\n\n"
	  "Final-Recipient: rfc822; x@example.com\nAction: failed\nStatus: 5.0.0\n"
	  "Diagnostic-Code: X-Unix; 255\n"
	  "--B--\n", DSN_KIND_DSN, 1, "x@example.com", "mailererror", "5.3.0" },
	/* Postfix local(8) looked the user up itself: userunknown */
	{ "local delivery unknown user", "From: MAILER-DAEMON@m.example.com\n"
	  "To: a@example.org\nSubject: Undelivered Mail Returned to Sender\n\n"
	  "This is the mail system at host m.example.com.\n\n"
	  "<karl@m.example.com>: unknown user: \"karl\"\n",
	  DSN_KIND_DSN, 1, "karl@m.example.com", "userunknown", NULL },
	/* the notice gives the DATA stage: a content filter's words */
	{ "unknown user at end of DATA in the notice", DS_HEAD
	  "--B\nContent-Type: text/plain\n\n<x@example.com>: host mx.example.com said:\n"
	  "    550 Unknown user x@example.com (in reply to end of DATA\n    command)\n--B\n"
	  "Content-Type: message/delivery-status\n\nReporting-MTA: dns; m\n\n"
	  "Final-Recipient: rfc822; x@example.com\nAction: failed\nStatus: 5.0.0\n"
	  "Diagnostic-Code: smtp; 550 Unknown user x@example.com\n"
	  "--B--\n", DSN_KIND_DSN, 1, "x@example.com", "filtered", "5.0.0" },
	{ "unknown user at RCPT in the text part", DS_HEAD
	  "--B\nContent-Type: text/plain\n\n<x@example.com>: host mx.example.com said:\n"
	  "    550 Unknown user x@example.com (in reply to RCPT TO command)\n--B\n"
	  "Content-Type: message/delivery-status\n\nReporting-MTA: dns; m\n\n"
	  "Final-Recipient: rfc822; x@example.com\nAction: failed\nStatus: 5.0.0\n"
	  "Diagnostic-Code: smtp; 550 Unknown user x@example.com\n"
	  "--B--\n", DSN_KIND_DSN, 1, "x@example.com", "userunknown", "5.0.0" },
	{ "gmail relays an RCPT reply (state 14)", DS_HEAD
	  "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; m\n\n"
	  "Final-Recipient: rfc822; x@example.com\nAction: failed\nStatus: 5.0.0\n"
	  "Diagnostic-Code: smtp; 550 550 <x@example.com>... User unknown (state 14).\n"
	  "--B--\n", DSN_KIND_DSN, 1, "x@example.com", "userunknown", "5.0.0" },
	{ "gmail relays an EHLO reply (state 13)", DS_HEAD
	  "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; m\n\n"
	  "Final-Recipient: rfc822; x@example.com\nAction: failed\nStatus: 5.0.0\n"
	  "Diagnostic-Code: smtp; 550 550 Transaction refused (state 13).\n"
	  "--B--\n", DSN_KIND_DSN, 1, "x@example.com", "blocked", "5.0.0" },
	/* words nothing recognises: held for a person, not of an unknown kind */
	{ "unrecognised diagnostic", DS_HEAD
	  "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; m\n\n"
	  "Final-Recipient: rfc822; x@example.com\nAction: failed\nStatus: 5.0.0\n"
	  "Diagnostic-Code: X-Notes; Gateway ZZ declined the item\n"
	  "--B--\n", DSN_KIND_DSN, 1, "x@example.com", "onhold", "5.0.0" },
	{ "no diagnostic at all", DS_HEAD
	  "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; m\n\n"
	  "Final-Recipient: rfc822; x@example.com\nAction: failed\nStatus: 5.0.0\n"
	  "--B--\n", DSN_KIND_DSN, 1, "x@example.com", "undefined", "5.0.0" },
	{ "unknown user with a mailbox status", DS_HEAD
	  "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; m\n\n"
	  "Final-Recipient: rfc822; x@example.com\nAction: failed\nStatus: 5.1.1\n"
	  "Diagnostic-Code: smtp; 550 5.1.1 x@example.com: user unknown\n"
	  "--B--\n", DSN_KIND_DSN, 1, "x@example.com", "userunknown", "5.1.1" },
	/* SES: the remote's last reply in angle brackets is the code */
	{ "ses enclosed remote reply", DS_HEAD
	  "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; m\n\n"
	  "Final-Recipient: rfc822; x@example.com\nAction: failed\nStatus: 4.4.7\n"
	  "Diagnostic-Code: smtp; 554 4.4.7 Message expired: unable to deliver in "
	  "1440 minutes.<451 4.3.0 Temporary server error. Please try again later>\n"
	  "--B--\n", DSN_KIND_DSN, 1, "x@example.com", "expired", "4.3.0" },
	/* PowerMTA's own category decides where it is precise */
	{ "powermta category", DS_HEAD
	  "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; m\n"
	  "X-PowerMTA-VirtualMTA: pool1\n\n"
	  "Final-Recipient: rfc822;x@example.com\nAction: failed\n"
	  "Status: 5.0.0 (undefined status)\n"
	  "Diagnostic-Code: smtp;552 delivery refused - mx2.example.com\n"
	  "X-PowerMTA-BounceCategory: quota-issues\n"
	  "--B--\n", DSN_KIND_DSN, 1, "x@example.com", "mailboxfull", "5.0.0" },
	{ "powermta category other", DS_HEAD
	  "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; m\n\n"
	  "Final-Recipient: rfc822;x@example.com\nAction: failed\nStatus: 5.1.1\n"
	  "Diagnostic-Code: smtp;550 5.1.1 no such user\n"
	  "X-PowerMTA-BounceCategory: other\n"
	  "--B--\n", DSN_KIND_DSN, 1, "x@example.com", "userunknown", "5.1.1" },
	{ "postfix plain text", "From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\n"
	  "To: a@example.org\nSubject: Undelivered Mail Returned to Sender\n\n"
	  "This is the mail system at host mx.example.org.\n\n"
	  "<x@example.com>: host mx.example.com[192.0.2.1] said: 550 5.1.1 <x@example.com>:\n"
	  "    Recipient address rejected: User unknown (in reply to RCPT TO command)\n",
	  DSN_KIND_DSN, 1, "x@example.com", "userunknown", "5.1.1" },
	{ "exim two addresses", "From: Mail Delivery System <Mailer-Daemon@mx.example.org>\n"
	  "To: a@example.org\nSubject: Mail delivery failed: returning message to sender\n\n"
	  "This message was created automatically by mail delivery software.\n\n"
	  "A message that you sent could not be delivered to one or more of its\n"
	  "recipients. This is a permanent error. The following address(es) failed:\n\n"
	  "  x@example.com\n    Unrouteable address\n\n"
	  "  y@example.net\n    host mx.example.net [192.0.2.2]\n"
	  "    SMTP error from remote mail server after RCPT TO:<y@example.net>:\n"
	  "    550 5.2.2 Mailbox full\n",
	  DSN_KIND_DSN, 2, "x@example.com", "hostunknown", NULL },
	/* refused at the greeting: only the client can be meant */
	{ "exim refused at connection", "From: Mail Delivery System "
	  "<Mailer-Daemon@mx.example.org>\n"
	  "To: a@example.org\nSubject: Mail delivery failed: returning message to sender\n\n"
	  "This message was created automatically by mail delivery software.\n\n"
	  "A message that you sent could not be delivered to one or more of its\n"
	  "recipients. This is a permanent error. The following address(es) failed:\n\n"
	  "  z@example.com\n    host mx.example.com [192.0.2.3]\n"
	  "    SMTP error from remote mail server after initial connection:\n"
	  "    554 mx.example.com: too many messages from your network today\n",
	  DSN_KIND_DSN, 1, "z@example.com", "blocked", NULL },
	{ "exim refused at EHLO", "From: Mail Delivery System "
	  "<Mailer-Daemon@mx.example.org>\n"
	  "To: a@example.org\nSubject: Mail delivery failed: returning message to sender\n\n"
	  "This message was created automatically by mail delivery software.\n\n"
	  "A message that you sent could not be delivered to one or more of its\n"
	  "recipients. This is a permanent error. The following address(es) failed:\n\n"
	  "  w@example.com\n    host mx.example.com [192.0.2.3]\n"
	  "    SMTP error from remote mail server after EHLO mx.example.org:\n"
	  "    550 Access refused, policy reasons\n",
	  DSN_KIND_DSN, 1, "w@example.com", "blocked", NULL },
	{ "auto-replied bounce stays a bounce", "From: MAILER-DAEMON@mx.example.org\n"
	  "To: a@example.org\nSubject: failure notice\nAuto-Submitted: auto-replied\n\n"
	  "Hi. This is the qmail-send program at mx.example.org.\n\n"
	  "<x@example.com>:\nSorry, no mailbox here by that name. (#5.1.1)\n",
	  DSN_KIND_DSN, 1, "x@example.com", "userunknown", "5.1.1" },
	{ "X-Autoreply vacation", "From: b@example.com\nTo: a@example.org\n"
	  "Subject: Re: hello\nX-Autoreply: yes\n\nI am away.\n",
	  DSN_KIND_AUTOREPLY, 1, "b@example.com", "vacation", NULL },
	{ "automatic reply subject", "From: b@example.com\nTo: a@example.org\n"
	  "Subject: Automatic reply: hello\n\nI am away.\n",
	  DSN_KIND_AUTOREPLY, 1, "b@example.com", "vacation", NULL },
	{ "ordinary mail mentioning a bounce", "From: b@example.com\nTo: a@example.org\n"
	  "Subject: your 554 question\n\nThe reply was 554 5.7.1 rejected, user unknown.\n",
	  DSN_KIND_NONE, 0, NULL, NULL, NULL },
	{ "ordinary mail with an address line", "From: b@example.com\nTo: a@example.org\n"
	  "Subject: contacts\n\nnew addresses:\n\nc@example.com\nd@example.com\n",
	  DSN_KIND_NONE, 0, NULL, NULL, NULL },
	{ "list mail from a bounce address", "From: News <news-bounces@example.org>\n"
	  "To: a@example.org\nSubject: weekly digest\n\nWrite to us:\n\n"
	  "editor@example.org\n\nunsubscribe: x@example.org\n",
	  DSN_KIND_NONE, 0, NULL, NULL, NULL },
	{ "postmaster notice with a contact line", "From: postmaster@example.org\n"
	  "To: a@example.org\nSubject: new mail server\n\nQuestions go to:\n\n"
	  "help@example.org\n\nThank you.\n", DSN_KIND_NONE, 0, NULL, NULL, NULL },
	{ "empty message", "\n", DSN_KIND_NONE, 0, NULL, NULL, NULL },
	{ "headers only", "From: b@example.com\nSubject: x\n", DSN_KIND_NONE, 0,
	  NULL, NULL, NULL },
};

START_TEST(test_inline)
{
	const struct icase *c = &icases[_i];
	struct dsn_report *rep = NULL;

	ck_assert_int_eq(dsn_parse_bytes(cl, c->msg, strlen(c->msg), NULL, 0, &rep), 0);
	ck_assert_msg(rep->kind == c->kind, "%s: kind %s", c->label,
	    dsn_kind_name(rep->kind));
	ck_assert_msg(rep->nrcpts == c->nrcpts, "%s: %zu recipients", c->label,
	    rep->nrcpts);
	if (c->rcpt0) {
		ck_assert_str_eq(rep->rcpts[0].final_rcpt, c->rcpt0);
		ck_assert_msg(strcmp(rep->rcpts[0].cls.reason, c->reason0) == 0,
		    "%s: reason %s", c->label, rep->rcpts[0].cls.reason);
		if (c->status0)
			ck_assert_str_eq(rep->rcpts[0].status, c->status0);
	}
	dsn_report_free(rep);
}
END_TEST

/* The null sender alone makes no bounce: auto-replies use it too. */
START_TEST(test_null_sender_autoreply)
{
	const char *msg = "From: b@example.com\nTo: a@example.org\n"
	    "Subject: Out of office\nAuto-Submitted: auto-replied\n\n"
	    "I am away. In urgent cases write to:\n\nc@example.com\n";
	const char *plain = "From: b@example.com\nTo: a@example.org\n"
	    "Subject: hello\n\nnew address:\nc@example.com\n";
	struct dsn_report *rep = NULL;

	ck_assert_int_eq(dsn_parse_bytes(cl, msg, strlen(msg), "", 0, &rep), 0);
	ck_assert_int_eq(rep->kind, DSN_KIND_AUTOREPLY);
	ck_assert_str_eq(rep->rcpts[0].final_rcpt, "b@example.com");
	dsn_report_free(rep);
	/* null sender, no bounce wording, no auto-reply: a recipient line is not enough */
	ck_assert_int_eq(dsn_parse_bytes(cl, plain, strlen(plain), "<>", 0, &rep), 0);
	ck_assert_int_eq(rep->kind, DSN_KIND_NONE);
	dsn_report_free(rep);
}
END_TEST

/* ---- output ---- */

START_TEST(test_log_line)
{
	struct dsn_report *rep = parse_file("extra/client-host-blocked.eml");
	struct buf b;

	buf_init(&b, 0);
	ck_assert_int_eq(dsn_format_log(&b, rep, 0), BUF_OK);
	ck_assert_str_eq(buf_cstr(&b), "bounce sender=<alice@example.org> "
	    "rcpt=<kate@example.com> status=5.7.1 reply=554 reason=blocked "
	    "category=reputation remote=mx.example.com "
	    "diag=\"554 5.7.1 client host blocked\"");
	buf_reset(&b);
	ck_assert_int_eq(dsn_format_header(&b, rep), BUF_OK);
	ck_assert_str_eq(buf_cstr(&b), "kind=dsn; reason=blocked; "
	    "category=reputation; status=5.7.1; reply=554; recipients=1");
	buf_fini(&b);
	dsn_report_free(rep);
}
END_TEST

/* A report's relayed recipient logs as delivered, its failed one as a bounce. */
START_TEST(test_log_relayed_recipient)
{
	struct dsn_report *rep =
	    parse_file("classes/blind23/dsn-one-delivered-one-failed.eml");
	struct buf b;

	ck_assert_uint_eq(rep->nrcpts, 2);
	buf_init(&b, 0);
	ck_assert_int_eq(dsn_format_log(&b, rep, 0), BUF_OK);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&b),
	    "delivered sender=<board@sender.example> rcpt=<hugo.b@partner.example>"));
	buf_reset(&b);
	ck_assert_int_eq(dsn_format_log(&b, rep, 1), BUF_OK);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&b),
	    "bounce sender=<board@sender.example> rcpt=<greta.m@oldfirm.example>"));
	buf_fini(&b);
	dsn_report_free(rep);
}
END_TEST

START_TEST(test_log_escaping)
{
	const char *msg = "From: MAILER-DAEMON@m.example\nTo: a@example.org\n"
	    "Subject: failure notice\n\n<x@example.com>:\n"
	    "550 evil \"quote\" \x01 and \xff byte\n";
	struct dsn_report *rep = NULL;
	struct buf b;

	ck_assert_int_eq(dsn_parse_bytes(cl, msg, strlen(msg), NULL, 0, &rep), 0);
	ck_assert_uint_eq(rep->nrcpts, 1);
	buf_init(&b, 0);
	ck_assert_int_eq(dsn_format_log(&b, rep, 0), BUF_OK);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&b), "evil \\\"quote\\\""));
	ck_assert_ptr_null(strchr(buf_cstr(&b), '\x01'));
	ck_assert_ptr_null(strchr(buf_cstr(&b), '\xff'));
	buf_reset(&b);
	ck_assert_int_eq(dsn_format_json(&b, rep, 0, "f\"1"), BUF_OK);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&b), "\"file\":\"f\\\"1\""));
	/* invalid UTF-8 is replaced by U+FFFD, never passed through */
	ck_assert_ptr_nonnull(strstr(buf_cstr(&b), "\xef\xbf\xbd byte"));
	ck_assert_ptr_null(strchr(buf_cstr(&b), '\xff'));
	buf_fini(&b);
	dsn_report_free(rep);
}
END_TEST

START_TEST(test_json_none)
{
	struct dsn_report *rep = parse_file("extra/normal-personal.eml");
	struct buf b;

	ck_assert_int_eq(rep->kind, DSN_KIND_NONE);
	buf_init(&b, 0);
	ck_assert_int_eq(dsn_format_json(&b, rep, 0, "normal-personal.eml"), BUF_OK);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&b), "\"file\":\"normal-personal.eml\""));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&b), "\"rcpt_index\":0"));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&b), "\"reason\":\"none\""));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&b), "\"recipient\":null"));
	buf_fini(&b);
	dsn_report_free(rep);
}
END_TEST

/* ---- limits and reuse ---- */

START_TEST(test_recipient_limit)
{
	struct buf m;
	struct dsn_report *rep = NULL;
	int i;

	buf_init(&m, 0);
	ck_assert_int_eq(buf_puts(&m, DS_HEAD "--B\nContent-Type: message/delivery-status\n\n"
	    "Reporting-MTA: dns; m\n"), BUF_OK);
	for (i = 0; i < DSN_MAX_RECIPIENTS + 500; i++)
		ck_assert_int_eq(buf_printf(&m, "\nFinal-Recipient: rfc822; u%d@example.com\n"
		    "Action: failed\nStatus: 5.1.1\n", i), BUF_OK);
	ck_assert_int_eq(buf_puts(&m, "--B--\n"), BUF_OK);
	ck_assert_int_eq(dsn_parse_bytes(cl, buf_cstr(&m), m.len, NULL, 0, &rep), 0);
	ck_assert_uint_eq(rep->nrcpts, DSN_MAX_RECIPIENTS);
	ck_assert_str_eq(rep->rcpts[DSN_MAX_RECIPIENTS - 1].final_rcpt, "u999@example.com");
	dsn_report_free(rep);
	buf_fini(&m);
}
END_TEST

START_TEST(test_text_limit)
{
	struct buf m;
	struct dsn_report *rep = NULL;
	size_t i;

	/* 4 MB of text before the recipient: only the first DSN_TEXT_LIMIT is kept */
	buf_init(&m, 0);
	ck_assert_int_eq(buf_puts(&m, "From: MAILER-DAEMON@m.example\nTo: a@example.org\n"
	    "Subject: failure notice\n\nThis is the qmail-send program at m.example.\n\n"
	    "<x@example.com>:\n550 5.1.1 no such user\n\n"), BUF_OK);
	for (i = 0; i < 4 * 1024 * 1024 / 64; i++)
		ck_assert_int_eq(buf_puts(&m, "filler filler filler filler filler filler filler fi\n"), BUF_OK);
	ck_assert_int_eq(buf_puts(&m, "\n<late@example.com>:\n550 5.1.1 too late\n"), BUF_OK);
	ck_assert_int_eq(dsn_parse_bytes(cl, buf_cstr(&m), m.len, NULL, 65536, &rep), 0);
	ck_assert_uint_eq(rep->nrcpts, 1);
	ck_assert_str_eq(rep->rcpts[0].final_rcpt, "x@example.com");
	dsn_report_free(rep);
	buf_fini(&m);
}
END_TEST

START_TEST(test_reuse)
{
	struct dsn_parser *p;
	struct mime_parser *mp;
	struct mime_limits ml = { 20, 1000, 256, 65536, DSN_TEXT_LIMIT };
	struct findings fs;
	const struct dsn_report *rep;
	int round;

	ck_assert_ptr_nonnull(p = dsn_parser_new(cl, 1024));
	for (round = 0; round < 2; round++) {
		findings_init(&fs, 16);
		dsn_parser_reset(p);
		ck_assert_ptr_nonnull(mp = mime_parser_new(&ml, dsn_parser_handler(p), 1, &fs));
		ck_assert_int_eq(mime_parser_header(mp, "From", "MAILER-DAEMON@m.example"), 0);
		ck_assert_int_eq(mime_parser_header(mp, "Subject",
		    round ? "failure notice" : "hello"), 0);
		ck_assert_int_eq(mime_parser_eoh(mp), 0);
		ck_assert_int_eq(mime_parser_body(mp, "<x@example.com>:\r\n"
		    "552 5.2.2 mailbox full\r\n", 42), 0);
		ck_assert_int_eq(mime_parser_finish(mp), 0);
		ck_assert_ptr_nonnull(rep = dsn_parser_result(p));
		ck_assert_int_eq(rep->kind, DSN_KIND_DSN);
		ck_assert_uint_eq(rep->nrcpts, 1);
		ck_assert_str_eq(rep->rcpts[0].cls.reason, "mailboxfull");
		/* a second call returns the same report */
		ck_assert_ptr_eq(dsn_parser_result(p), rep);
		mime_parser_free(mp);
		findings_fini(&fs);
	}
	dsn_parser_free(p);
	dsn_parser_free(NULL);
}
END_TEST

START_TEST(test_fuzz_regressions)
{
	/* inputs that once misbehaved, kept as regression cases */
	static const char *const inputs[] = {
		"From: mailer-daemon@x\n\n<@>:\n",
		"From: mailer-daemon@x\n\n<a@b.c>...\n550 ",
		"Content-Type: multipart/report; boundary=\"\"\n\n--\n",
		("From: mailer-daemon@x\n\n{\"notificationType\":\"Bounce\",\"bounce\":"
		    "{\"bouncedRecipients\":[{\"emailAddress\":\"\\"),
		"From: mailer-daemon@x\n\n550-5.1.1 550-5.1.1 550-",
		"From: mailer-daemon@x\n\n>>> DATA\n<<< 503 x\n<<< 550 @\n",
	};
	size_t i;

	for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		struct dsn_report *rep = NULL;
		size_t c;

		for (c = 0; c < 3; c++) {
			ck_assert_int_eq(dsn_parse_bytes(cl, inputs[i], strlen(inputs[i]),
			    NULL, c, &rep), 0);
			dsn_report_free(rep);
		}
	}
}
END_TEST

/* ---- one-pass rewrites against what they replace ----------------------- */

static unsigned long long fast_seed;

static unsigned
fast_rand(unsigned n)
{
	fast_seed ^= fast_seed << 13;
	fast_seed ^= fast_seed >> 7;
	fast_seed ^= fast_seed << 17;
	return (unsigned)(fast_seed % n);
}

/* Random text of fragments of the words, case changed, and random bytes. */
static size_t
fast_text(char *t, size_t cap, const char *const *words, size_t nw)
{
	size_t n = 0, len = fast_rand((unsigned)cap), k, m;

	while (n < len) {
		if (fast_rand(3) == 0) {
			const char *w = words[fast_rand((unsigned)nw)];

			m = strlen(w);
			m = fast_rand(4) == 0 ? fast_rand((unsigned)m + 1) : m;
			for (k = 0; k < m && n < len; k++) {
				char c = w[k];

				if (fast_rand(2) && c >= 'a' && c <= 'z')
					c = (char)(c - 'a' + 'A');
				t[n++] = c;
			}
		} else if (fast_rand(4) != 0) {
			static const char some[] = " aeXZ-@\xc3\xe9";

			t[n++] = some[fast_rand(sizeof(some) - 1)];
		} else
			t[n++] = (char)fast_rand(256);
	}
	return n;
}

START_TEST(test_memstr_any)
{
	static const char *const words[] = { "delivery failed", "undeliverable",
	    "returned", "Mail Delivery", "x", "to", "\xc3\xa9t\xc3\xa9",
	    "@", "err", "error", "errors-to", NULL };
	static const char *const none[] = { NULL };
	static const char *const empty[] = { "abc", "", NULL };
	char t[300];
	size_t n, k, i, nw = sizeof(words) / sizeof(words[0]) - 1;
	/* up to three times the list (repeats), past the one-pass threshold */
	const char *sub[3 * (sizeof(words) / sizeof(words[0]))];
	int want;

	fast_seed = 0x2545f4914f6cdd1dULL;
	for (i = 0; i < 20000; i++) {
		/* a random sub-list in a random order */
		size_t ns = 1 + fast_rand(3 * (unsigned)nw);

		for (k = 0; k < ns; k++)
			sub[k] = words[fast_rand((unsigned)nw)];
		sub[ns] = NULL;
		n = fast_text(t, sizeof(t), words, nw);
		for (want = 0, k = 0; k < ns && !want; k++)
			want = dsn_memstr_ci(t, n, sub[k]) != NULL;
		ck_assert_int_eq(dsn_memstr_any_ci(t, n, sub), want);
		ck_assert_int_eq(dsn_memstr_any_ci(t, n, none), 0);
		ck_assert_int_eq(dsn_memstr_any_ci(t, n, empty), 1);
	}
}
END_TEST

/*
 * dsn_memstr_ws_ci against a reference: the text with every run of blanks
 * and line breaks collapsed to one space, searched by dsn_memstr_ci. Both
 * must agree on whether there is a match, and where ours is the collapsed
 * text must match too.
 */
START_TEST(test_memstr_ws)
{
	static const char *const frag[] = { "in", "reply", "to", "end", "of",
	    "DATA", "data", "rcpt", "RCPT", "x", "after", "command)", "(in",
	    NULL };
	static const char *const gaps[] = { " ", "\t", "\n", "\r\n",
	    "  \n    ", " \t", "", NULL };
	static const char *const needles[] = { "in reply to end of data",
	    "rcpt to", "after data", "x x", "to", "data command)",
	    "reply to rcpt", NULL };
	char t[400], c[400];
	size_t map[400], n, m, i, j, k, nf = 13, ng = 7;
	int round;

	fast_seed = 0x9e3779b97f4a7c15ULL;
	for (round = 0; round < 20000; round++) {
		n = 0;
		while (n < 300) {
			const char *f = frag[fast_rand((unsigned)nf)];
			const char *g = gaps[fast_rand((unsigned)ng)];

			memcpy(t + n, f, strlen(f));
			n += strlen(f);
			memcpy(t + n, g, strlen(g));
			n += strlen(g);
		}
		for (i = 0, m = 0; i < n; i++) {
			int ws = t[i] == ' ' || t[i] == '\t' || t[i] == '\r' ||
			    t[i] == '\n';

			if (ws && m > 0 && c[m - 1] == ' ')
				continue;
			map[m] = i;
			c[m++] = ws ? ' ' : t[i];
		}
		for (k = 0; needles[k] != NULL; k++) {
			const char *want = dsn_memstr_ci(c, m, needles[k]);
			const char *got = dsn_memstr_ws_ci(t, n, needles[k]);

			if (want == NULL)
				ck_assert_ptr_null(got);
			else {
				/* a match: where the collapsed text has one */
				ck_assert_ptr_nonnull(got);
				for (j = 0; j < m && map[j] != (size_t)(got - t); j++)
					;
				ck_assert_uint_lt(j, m);
				ck_assert_ptr_eq(dsn_memstr_ci(c + j, m - j,
				    needles[k]), c + j);
			}
		}
		/* one scan per anchor: the same answer as needle by needle */
		{
			static const char *const dl[] = { "in reply to end of data",
			    "after data", "data command)", "DATA", NULL };
			static const char *const rl[] = { "rcpt to", "reply to rcpt",
			    "x rcpt x", NULL };

			ck_assert_int_eq(dsn_memstr_ws_group_ci(t, n, "data", dl),
			    dsn_memstr_ws_any_ci(t, n, dl));
			ck_assert_int_eq(dsn_memstr_ws_group_ci(t, n, "RCPT", rl),
			    dsn_memstr_ws_any_ci(t, n, rl));
		}
		/* cut anywhere: never reads past n */
		j = fast_rand((unsigned)n);
		for (k = 0; needles[k] != NULL; k++) {
			const char *got = dsn_memstr_ws_ci(t, j, needles[k]);

			if (got != NULL)
				ck_assert_uint_le((size_t)(got - t) + 2, j);
		}
	}
	ck_assert_int_eq(dsn_memstr_ws_any_ci("after\n   DATA", 14,
	    needles), 1);
	ck_assert_int_eq(dsn_memstr_ws_any_ci("afterDATA", 9, needles), 0);
}
END_TEST

/* The copy a sequence at a time that dsn_to_utf8() batches. */
static int
utf8_ref(struct buf *out, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, len, j;
	int rc;

	while (i < n) {
		len = u[i] < 0x80 ? 1 : u[i] >= 0xc2 && u[i] <= 0xdf ? 2 :
		    u[i] >= 0xe0 && u[i] <= 0xef ? 3 :
		    u[i] >= 0xf0 && u[i] <= 0xf4 ? 4 : 0;
		if (len > n - i)
			len = 0;
		for (j = 1; j < len; j++)
			if ((u[i + j] & 0xc0) != 0x80)
				len = 0;
		if (len > 1 && ((u[i] == 0xe0 && u[i + 1] < 0xa0) ||
		    (u[i] == 0xed && u[i + 1] >= 0xa0) ||
		    (u[i] == 0xf0 && u[i + 1] < 0x90) ||
		    (u[i] == 0xf4 && u[i + 1] >= 0x90)))
			len = 0;
		if (len == 0) {
			if ((rc = buf_puts(out, "\xef\xbf\xbd")) != BUF_OK)
				return rc;
			i++;
			continue;
		}
		if ((rc = buf_append(out, s + i, len)) != BUF_OK)
			return rc;
		i += len;
	}
	return BUF_OK;
}

/*
 * The codes of a diagnostic: a failure's (4xx, 5xx) over a transcript's
 * earlier success steps; a success code only when there is no failure.
 */
START_TEST(test_diag_codes)
{
	static const struct {
		const char *diag, *status;
		int reply;
	} c[] = {
		{ "Out: MAIL FROM:<a@x.example> In: 250 2.1.0 Ok Out: RCPT "
		  "TO:<b@y.example> In: 552 5.2.2 <b@y.example>: Mailbox full",
		  "5.2.2", 552 },
		{ "<<< 220 mx ESMTP <<< 250 ok <<< 550 5.1.1 unknown", "5.1.1", 550 },
		{ "smtp; 250 2.0.0 OK queued as 4Xyz", "2.0.0", 250 },
		{ "451 4.3.2 Please try again later", "4.3.2", 451 },
		{ "554 <a@x.example>... 550 Host unknown", "", 550 },
		{ "nothing here", "", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char st[16];
		int reply;

		dsn_diag_codes(c[i].diag, st, &reply);
		ck_assert_msg(strcmp(st, c[i].status) == 0 && reply == c[i].reply,
		    "%s: got %s/%d, want %s/%d", c[i].diag, st, reply,
		    c[i].status, c[i].reply);
	}
}
END_TEST

START_TEST(test_utf8_copy)
{
	static const char *const words[] = { "\xc3\xa9", "\xe2\x82\xac",
	    "\xf0\x9f\x98\x80", "\xed\xa0\x80", "\xe0\x80\x80", "\xc0\xaf",
	    "\xf4\x90\x80\x80", "plain ascii text ", "\xe2\x82", NULL };
	char t[300];
	struct buf a, b;
	size_t n, max;
	int i, ra, rb;

	fast_seed = 0x9e3779b97f4a7c15ULL;
	for (i = 0; i < 20000; i++) {
		n = fast_text(t, sizeof(t), words, 9);
		max = fast_rand(3) == 0 ? 1 + fast_rand(400) : 0;
		buf_init(&a, max);
		buf_init(&b, max);
		ra = dsn_to_utf8(&a, fast_rand(2) ? "utf-8" : NULL, t, n);
		rb = utf8_ref(&b, t, n);
		ck_assert_int_eq(ra, rb);
		ck_assert_uint_eq(a.len, b.len);
		ck_assert(a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
		buf_fini(&a);
		buf_fini(&b);
	}
}
END_TEST

static Suite *
dsn_suite(void)
{
	Suite *s = suite_create("dsn");
	TCase *tc;

	tc = tcase_create("corpus");
	tcase_set_timeout(tc, 600);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_corpus_recognised, 0, (int)ncorpus);
	tcase_add_loop_test(tc, test_chunk_invariance, 0, (int)nall);
	tcase_add_loop_test(tc, test_line_endings, 0, (int)nall);
	suite_add_tcase(s, tc);

	tc = tcase_create("fields");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_fields_rfc3464);
	tcase_add_test(tc, test_fields_two_recipients);
	tcase_add_test(tc, test_fields_exim_text);
	tcase_add_test(tc, test_fields_postfix_ids);
	tcase_add_test(tc, test_fields_arf);
	tcase_add_test(tc, test_fields_vacation);
	tcase_add_test(tc, test_envelope);
	tcase_add_test(tc, test_return_path_envelope);
	tcase_add_test(tc, test_failed_recipients_header);
	tcase_add_test(tc, test_list_footer);
	tcase_add_test(tc, test_inline_copy_author);
	tcase_add_test(tc, test_inline_copy_header_block);
	tcase_add_test(tc, test_two_recipient_forms);
	tcase_add_test(tc, test_ds_field_forms);
	tcase_add_test(tc, test_ds_part_as_text);
	tcase_add_test(tc, test_gateway_marks);
	tcase_add_test(tc, test_labelled_recipient);
	tcase_add_test(tc, test_ds_without_action);
	tcase_add_test(tc, test_dressed_as_notice);
	tcase_add_test(tc, test_gmail_two_headings);
	tcase_add_test(tc, test_part_saying_nothing);
	tcase_add_test(tc, test_transcript_data_refused);
	tcase_add_test(tc, test_response_paragraph);
	tcase_add_loop_test(tc, test_inline, 0,
	    (int)(sizeof(icases) / sizeof(icases[0])));
	tcase_add_loop_test(tc, test_provenance, 0,
	    (int)(sizeof(pcases) / sizeof(pcases[0])));
	tcase_add_loop_test(tc, test_charsets, 0,
	    (int)(sizeof(ccases) / sizeof(ccases[0])));
	tcase_add_test(tc, test_null_sender_autoreply);
	tcase_add_test(tc, test_log_line);
	tcase_add_test(tc, test_log_relayed_recipient);
	tcase_add_test(tc, test_log_escaping);
	tcase_add_test(tc, test_json_none);
	tcase_add_test(tc, test_recipient_limit);
	tcase_add_test(tc, test_text_limit);
	tcase_add_test(tc, test_reuse);
	tcase_add_test(tc, test_fuzz_regressions);
	tcase_add_test(tc, test_memstr_any);
	tcase_add_test(tc, test_memstr_ws);
	tcase_add_test(tc, test_utf8_copy);
	tcase_add_test(tc, test_diag_codes);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;
	size_t i;

	load_labels(DATA "/labels.tsv", "");
	load_labels(DATA "/extra/labels.tsv", "extra/");
	list_files(DATA);
	list_files(DATA "/extra");
	list_files(DATA "/regress");	/* inputs the fuzzer found */
	{
		/* every class of our own labelled messages */
		DIR *cd = opendir(DATA "/classes");
		struct dirent *e;
		char dir[1024];

		while (cd != NULL && (e = readdir(cd)) != NULL)
			if (e->d_name[0] != '.') {
				snprintf(dir, sizeof(dir), "%s/classes/%s", DATA,
				    e->d_name);
				list_files(dir);	/* no-op on a file */
			}
		if (cd != NULL)
			closedir(cd);
	}
	if (ncorpus < 200 || nall < 200) {
		fprintf(stderr, "check_dsn: corpus missing (%zu labelled, %zu files)\n",
		    ncorpus, nall);
		return EXIT_FAILURE;
	}
	sr = srunner_create(dsn_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	for (i = 0; i < nall; i++)
		free(all_files[i]);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
