/*
 * check_scan.c - the outbound header and body checks and the verdict.
 *
 * Each case is a raw message and the exact set of check ids it must produce;
 * every case runs at several chunk sizes and must give the same findings.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "egress/checks.h"
#include "egress/config.h"
#include "egress/dsn.h"
#include "egress/policy.h"
#include "egress/scan.h"

#define NOW	1795000000LL	/* 2026-11-18 */
#define CLEAN_HDRS \
	"From: Alice <alice@example.com>\r\n" \
	"To: bob@example.org\r\n" \
	"Subject: hello\r\n" \
	"Date: Wed, 18 Nov 2026 09:00:00 +0000\r\n" \
	"Message-ID: <abc.123@example.com>\r\n"

struct scan_case {
	const char	*label;
	const char	*msg;
	const char	*want;		/* sorted, comma-separated ids; "" = none */
	enum action	 action;	/* with the built-in defaults */
};

static const size_t chunk_sizes[] = { 1, 2, 3, 7, 64, 4096, 0 };

static const struct scan_case cases[] = {
	{ "clean", CLEAN_HDRS "\r\nbody\r\n", "", ACT_ACCEPT },
	{ "no body at all", CLEAN_HDRS, "", ACT_ACCEPT },
	{ "missing date and message-id",
	  "From: a@example.com\r\nTo: b@example.org\r\n\r\nx\r\n",
	  "rfc5322.date.missing,rfc5322.message_id.missing", ACT_REPAIR },
	{ "missing from",
	  "To: b@example.org\r\nDate: Wed, 18 Nov 2026 09:00:00 +0000\r\n"
	  "Message-ID: <a@example.com>\r\n\r\nx\r\n",
	  "rfc5322.from.missing", ACT_REJECT },
	{ "duplicate from", CLEAN_HDRS "From: c@example.com\r\n\r\nx\r\n",
	  "rfc5322.from.duplicate", ACT_REJECT },
	{ "duplicate date", CLEAN_HDRS "Date: Wed, 18 Nov 2026 09:00:01 +0000\r\n\r\n",
	  "rfc5322.date.duplicate", ACT_REJECT },
	{ "duplicate message-id", CLEAN_HDRS "Message-Id: <b@example.com>\r\n\r\n",
	  "rfc5322.message_id.duplicate", ACT_REJECT },
	{ "duplicate subject and to", CLEAN_HDRS "Subject: again\r\nTO: x@example.net\r\n\r\n",
	  "rfc5322.header.duplicate,rfc5322.header.duplicate", ACT_REJECT },
	{ "received may repeat", CLEAN_HDRS "Received: a\r\nReceived: b\r\n\r\n", "", ACT_ACCEPT },
	{ "invalid date",
	  "From: a@example.com\r\nDate: yesterday\r\nMessage-ID: <a@example.com>\r\n\r\n",
	  "rfc5322.date.invalid", ACT_REJECT },
	{ "future date",
	  "From: a@example.com\r\nDate: Wed, 18 Nov 2027 09:00:00 +0000\r\nMessage-ID: <a@example.com>\r\n\r\n",
	  "rfc5322.date.future", ACT_TAG },
	{ "past date",
	  "From: a@example.com\r\nDate: Wed, 18 Nov 2020 09:00:00 +0000\r\nMessage-ID: <a@example.com>\r\n\r\n",
	  "rfc5322.date.past", ACT_TAG },
	{ "obsolete date with comment is fine",
	  "From: a@example.com\r\nDate: 18 Nov 26 09:00 GMT (UTC)\r\nMessage-ID: <a@example.com>\r\n\r\n",
	  "", ACT_ACCEPT },
	{ "one-digit hour is lenient",
	  "From: a@example.com\r\nDate: Wed, 18 Nov 2026 9:00:00 +0000\r\nMessage-ID: <a@example.com>\r\n\r\n",
	  "rfc5322.date.lenient", ACT_TAG },
	{ "zone as a comment is lenient",
	  "From: a@example.com\r\nDate: Wed, 18 Nov 2026 09:00:00 (GMT)\r\nMessage-ID: <a@example.com>\r\n\r\n",
	  "rfc5322.date.lenient", ACT_TAG },
	{ "from with an unquoted address as display name",
	  "From: john@example.com <john@example.com>\r\nDate: Wed, 18 Nov 2026 09:00:00 +0000\r\nMessage-ID: <a@example.com>\r\n\r\n",
	  "rfc5322.from.unquoted_display", ACT_TAG },
	{ "from with dots in unquoted display words",
	  "From: J. R. Smith, Jr <jrs@example.com>\r\nDate: Wed, 18 Nov 2026 09:00:00 +0000\r\nMessage-ID: <a@example.com>\r\n\r\n",
	  "rfc5322.from.invalid", ACT_REJECT },
	{ "from with no mailbox stays invalid",
	  "From: john@example.com <>\r\nDate: Wed, 18 Nov 2026 09:00:00 +0000\r\nMessage-ID: <a@example.com>\r\n\r\n",
	  "rfc5322.from.invalid", ACT_REJECT },
	{ "from with text after the address stays invalid",
	  "From: a@b.example <a@b.example> x\r\nDate: Wed, 18 Nov 2026 09:00:00 +0000\r\nMessage-ID: <a@example.com>\r\n\r\n",
	  "rfc5322.from.invalid", ACT_REJECT },
	{ "obsolete message-id",
	  "From: a@example.com\r\nDate: Wed, 18 Nov 2026 09:00:00 +0000\r\nMessage-ID: <1234 @ local(blah) .machine .example>\r\n\r\n",
	  "rfc5322.message_id.obsolete", ACT_TAG },
	{ "message-id with an open comment stays invalid",
	  "From: a@example.com\r\nDate: Wed, 18 Nov 2026 09:00:00 +0000\r\nMessage-ID: <1234 @ local(blah .machine.example>\r\n\r\n",
	  "rfc5322.message_id.invalid", ACT_REPAIR },
	{ "white-space line ends the header",
	  CLEAN_HDRS " \t\r\nbody: not a field\r\n", "header.blank_line_whitespace", ACT_TAG },
	{ "invalid message-id",
	  "From: a@example.com\r\nDate: Wed, 18 Nov 2026 09:00:00 +0000\r\nMessage-ID: no brackets\r\n\r\n",
	  "rfc5322.message_id.invalid", ACT_REPAIR },
	{ "message-id not fqdn",
	  "From: a@example.com\r\nDate: Wed, 18 Nov 2026 09:00:00 +0000\r\nMessage-ID: <a@localhost>\r\n\r\n",
	  "rfc5322.message_id.not_fqdn", ACT_TAG },
	{ "several from mailboxes without sender",
	  "From: a@example.com, b@example.com\r\nDate: Wed, 18 Nov 2026 09:00:00 +0000\r\n"
	  "Message-ID: <a@example.com>\r\n\r\n",
	  "rfc5322.from.multiple_addresses", ACT_REJECT },
	{ "several from mailboxes with sender",
	  "From: a@example.com, b@example.com\r\nSender: a@example.com\r\n"
	  "Date: Wed, 18 Nov 2026 09:00:00 +0000\r\nMessage-ID: <a@example.com>\r\n\r\n",
	  "", ACT_ACCEPT },
	{ "invalid from",
	  "From: not an address\r\nDate: Wed, 18 Nov 2026 09:00:00 +0000\r\n"
	  "Message-ID: <a@example.com>\r\n\r\n",
	  "rfc5322.from.invalid", ACT_REJECT },
	{ "folded header is one field",
	  "From: Alice\r\n <alice@example.com>\r\nSubject: a\r\n\tb\r\n"
	  "Date: Wed, 18 Nov 2026\r\n 09:00:00 +0000\r\nMessage-ID: <a@example.com>\r\n\r\n",
	  "", ACT_ACCEPT },
	{ "invalid field name", CLEAN_HDRS "Bad Name: x\r\n\r\n", "header.name.invalid", ACT_REJECT },
	{ "line without colon", CLEAN_HDRS "garbage line\r\n\r\n", "header.name.invalid", ACT_REJECT },
	{ "8bit header", CLEAN_HDRS "X-Note: caf\xc3\xa9\r\n\r\n", "header.8bit", ACT_TAG },
	{ "nul in header", CLEAN_HDRS "X-Note: a\0b\r\n\r\n", "header.nul", ACT_REJECT },
	{ "bare lf everywhere",
	  "From: a@example.com\nDate: Wed, 18 Nov 2026 09:00:00 +0000\nMessage-ID: <a@example.com>\n\nx\n",
	  "body.bare_lf", ACT_TAG },
	{ "bare lf in body", CLEAN_HDRS "\r\nline one\nline two\r\n", "body.bare_lf", ACT_TAG },
	{ "bare cr in body", CLEAN_HDRS "\r\nline\rone\r\n", "body.bare_cr", ACT_TAG },
	{ "cr at end of body is bare", CLEAN_HDRS "\r\nline\r", "body.bare_cr", ACT_TAG },
	{ "nul in body", CLEAN_HDRS "\r\nli\0ne\r\n", "body.nul", ACT_REJECT },
	/* Regression (fuzz_scan): no header fields at all. */
	{ "empty input", "",
	  "rfc5322.date.missing,rfc5322.from.missing,rfc5322.message_id.missing", ACT_REJECT },
	{ "body without headers", "\r\nbody\r\n",
	  "rfc5322.date.missing,rfc5322.from.missing,rfc5322.message_id.missing", ACT_REJECT },
	{ "body line of 998 is fine", NULL, "", ACT_ACCEPT },
	{ "body line of 999 is repaired", NULL, "body.line_too_long", ACT_REPAIR },
	{ "header line of 999 is too long", NULL, "header.line_too_long", ACT_REJECT },
};

/* Cases with long lines are built at run time. */
static char *
case_message(int i)
{
	const struct scan_case *c = &cases[i];
	size_t n;
	char *m;

	if (strcmp(c->label, "nul in header") == 0) {
		m = malloc(sizeof(CLEAN_HDRS "X-Note: a\0b\r\n\r\n"));
		memcpy(m, CLEAN_HDRS "X-Note: a\0b\r\n\r\n", sizeof(CLEAN_HDRS "X-Note: a\0b\r\n\r\n"));
		return m;
	}
	if (strcmp(c->label, "nul in body") == 0) {
		m = malloc(sizeof(CLEAN_HDRS "\r\nli\0ne\r\n"));
		memcpy(m, CLEAN_HDRS "\r\nli\0ne\r\n", sizeof(CLEAN_HDRS "\r\nli\0ne\r\n"));
		return m;
	}
	if (c->msg != NULL)
		return strdup(c->msg);
	m = malloc(4096);
	ck_assert_ptr_nonnull(m);
	if (strstr(c->label, "header line") != NULL) {
		n = (size_t)sprintf(m, "%s", CLEAN_HDRS "X-Long: ");
		memset(m + n, 'h', 999 - 8);
		n += 999 - 8;
		strcpy(m + n, "\r\n\r\nbody\r\n");
		return m;
	}
	n = (size_t)sprintf(m, "%s", CLEAN_HDRS "\r\n");
	memset(m + n, 'b', strstr(c->label, "999") ? 999 : 998);
	n += strstr(c->label, "999") ? 999 : 998;
	strcpy(m + n, "\r\nend\r\n");
	return m;
}

static size_t
case_length(int i, const char *m)
{
	/* Messages with NULs in them: the literal length. */
	if (strcmp(cases[i].label, "nul in header") == 0)
		return sizeof(CLEAN_HDRS "X-Note: a\0b\r\n\r\n") - 1;
	if (strcmp(cases[i].label, "nul in body") == 0)
		return sizeof(CLEAN_HDRS "\r\nli\0ne\r\n") - 1;
	return strlen(m);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The finding ids, sorted and comma-joined, into out. */
static void
findings_ids(const struct findings *f, char *out, size_t outsz)
{
	const char *ids[64];
	size_t i, n = f->n < 64 ? f->n : 64, len = 0;

	for (i = 0; i < n; i++)
		ids[i] = f->v[i].id;
	qsort(ids, n, sizeof(ids[0]), cmp_str);
	out[0] = '\0';
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(out + len, outsz - len, "%s%s", i ? "," : "", ids[i]);
}

START_TEST(test_scan_cases)
{
	struct config *cfg = config_default();
	struct envelope env = { .mail_from = "alice@example.com", .now = NOW,
	    .esmtp_size = -1 };
	char *msg = case_message(_i), got[2048], first[2048];
	size_t len = case_length(_i, msg), k, off, chunk;

	ck_assert_ptr_nonnull(cfg);
	for (k = 0; k < sizeof(chunk_sizes) / sizeof(chunk_sizes[0]); k++) {
		struct scan *s = scan_new(cfg, &env);
		struct verdict v;

		ck_assert_ptr_nonnull(s);
		chunk = chunk_sizes[k] ? chunk_sizes[k] : len ? len : 1;
		for (off = 0; off < len; off += chunk)
			ck_assert_int_eq(scan_raw(s, msg + off,
			    len - off < chunk ? len - off : chunk), 0);
		ck_assert_int_eq(scan_finish(s), 0);
		findings_ids(scan_findings(s), got, sizeof(got));
		ck_assert_msg(strcmp(got, cases[_i].want) == 0,
		    "%s (chunk %zu): got \"%s\", want \"%s\"", cases[_i].label,
		    chunk, got, cases[_i].want);
		if (k == 0)
			strcpy(first, got);
		ck_assert_str_eq(got, first);
		policy_decide(cfg, &env, scan_findings(s), scan_is_bounce(s), &v);
		ck_assert_msg(v.would == cases[_i].action, "%s: action %s, want %s",
		    cases[_i].label, action_name(v.would),
		    action_name(cases[_i].action));
		scan_free(s);
	}
	free(msg);
	config_free(cfg);
}
END_TEST

/* The body findings with their details, in order, joined. */
static void
findings_details(const struct findings *f, char *out, size_t outsz)
{
	size_t i, len = 0;

	out[0] = '\0';
	for (i = 0; i < f->n && len < outsz; i++)
		len += (size_t)snprintf(out + len, outsz - len, "%s%s:%s",
		    i ? "," : "", f->v[i].id, f->v[i].detail);
}

static unsigned long long
xorshift(unsigned long long *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/*
 * The body line checks take 64 bytes a step where a block holds CRLF line
 * ends only; fed one byte at a time they run the byte machine alone. Random
 * bodies of lines from empty to past the limit, with a bare LF, a bare CR,
 * a NUL or a CRLF split across blocks at random places (often none), must
 * give the same findings with the same line numbers at every chunk size.
 */
START_TEST(test_scan_body_blocks)
{
	static const size_t chunks[] = { 1, 5, 63, 64, 65, 127, 4096, 0 };
	static const int limits[] = { 78, 100, 998 };
	struct config *cfg = config_default();
	struct envelope env = { .mail_from = "alice@example.com", .now = NOW,
	    .esmtp_size = -1 };
	unsigned long long seed = 0x2545f4914f6cdd1dULL;
	char *msg = malloc(70000), want[1024], got[1024];
	int iter, long_seen = 0;

	ck_assert_ptr_nonnull(cfg);
	ck_assert_ptr_nonnull(msg);
	for (iter = 0; iter < 80; iter++) {
		size_t len = (size_t)sprintf(msg, "%s", CLEAN_HDRS "\r\n"), k, off;
		int lines = (int)(xorshift(&seed) % 160), l;

		cfg->limits.line_length = limits[iter % 3];
		for (l = 0; l < lines && len < 60000; l++) {
			unsigned long long r = xorshift(&seed);
			size_t w = r % 8 == 0 ? (size_t)(r >> 8) % 1100 :
			    (size_t)(r >> 8) % 90, c;

			for (c = 0; c < w; c++)
				msg[len++] = (char)('a' + (r >> (c % 40)) % 26);
			switch ((r >> 40) % 97) {
			case 0:
				msg[len++] = '\n';		/* bare LF */
				continue;
			case 1:
				msg[len++] = '\r';		/* bare CR */
				break;
			case 2:
				msg[len++] = '\0';
				break;
			}
			msg[len++] = '\r';
			msg[len++] = '\n';
		}
		want[0] = '\0';
		for (k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
			size_t chunk = chunks[k] ? chunks[k] : len;
			struct scan *sc = scan_new(cfg, &env);

			ck_assert_ptr_nonnull(sc);
			for (off = 0; off < len; off += chunk)
				ck_assert_int_eq(scan_raw(sc, msg + off,
				    len - off < chunk ? len - off : chunk), 0);
			ck_assert_int_eq(scan_finish(sc), 0);
			findings_details(scan_findings(sc), got, sizeof(got));
			if (k == 0) {
				strcpy(want, got);
				long_seen += strstr(got, "line_too_long") != NULL;
			}
			ck_assert_msg(strcmp(got, want) == 0,
			    "body %d, chunk %zu: \"%s\", byte at a time \"%s\"",
			    iter, chunk, got, want);
			scan_free(sc);
		}
	}
	/* the bodies did reach the limit, and not every time */
	ck_assert_int_gt(long_seen, 5);
	ck_assert_int_lt(long_seen, 80);
	free(msg);
	config_free(cfg);
}
END_TEST

/* The milter path: fields arrive split, folded values joined by "\n". */
START_TEST(test_scan_milter_fields)
{
	struct config *cfg = config_default();
	struct envelope env = { .mail_from = "a@example.com", .now = NOW, .esmtp_size = -1 };
	struct scan *s = scan_new(cfg, &env);
	char got[512];

	ck_assert_int_eq(scan_header(s, "From", "Alice\n <a@example.com>"), 0);
	ck_assert_int_eq(scan_header(s, "Date", "Wed, 18 Nov 2026\n 09:00:00 +0000"), 0);
	ck_assert_int_eq(scan_header(s, "Subject", "x"), 0);
	ck_assert_int_eq(scan_header(s, "Subject", "y"), 0);
	ck_assert_int_eq(scan_eoh(s), 0);
	ck_assert_int_eq(scan_body(s, "line\r\n", 6), 0);
	ck_assert_int_eq(scan_finish(s), 0);
	findings_ids(scan_findings(s), got, sizeof(got));
	ck_assert_str_eq(got, "rfc5322.header.duplicate,rfc5322.message_id.missing");
	ck_assert_int_eq(scan_has_date(s), 1);
	ck_assert_int_eq(scan_has_message_id(s), 0);
	ck_assert_str_eq(scan_from_domain(s), "example.com");
	scan_free(s);
	config_free(cfg);
}
END_TEST

START_TEST(test_scan_sizes)
{
	struct config *cfg = config_default();
	const char *rcpts[3] = { "a@x.example", "b@x.example", "c@x.example" };
	struct envelope env = { .mail_from = "a@example.com", .now = NOW,
	    .esmtp_size = -1, .rcpts = rcpts, .nrcpt = 3 };
	struct scan *s;
	char got[512];

	cfg->limits.message_size = 150;
	cfg->limits.recipients = 2;
	s = scan_new(cfg, &env);
	ck_assert_int_eq(scan_raw(s, CLEAN_HDRS "\r\n", strlen(CLEAN_HDRS "\r\n")), 0);
	ck_assert_int_eq(scan_raw(s, "0123456789012345678901234567890123456789\r\n", 42), 0);
	ck_assert_int_eq(scan_finish(s), 0);
	findings_ids(scan_findings(s), got, sizeof(got));
	ck_assert_str_eq(got, "size.message,size.recipients");
	scan_free(s);
	config_free(cfg);
}
END_TEST

/* Which messages reach the bounce parser, and what it makes of them. */
START_TEST(test_scan_bounce_candidates)
{
	static const struct {
		const char	*from;	/* envelope sender */
		const char	*msg;
		int		 parsed;	/* scan_dsn() != NULL */
		enum dsn_kind	 kind;
	} t[] = {
		{ "bob@example.net", CLEAN_HDRS "\r\nhello\r\n", 0, DSN_KIND_NONE },
		{ "", CLEAN_HDRS "\r\nhello\r\n", 1, DSN_KIND_NONE },
		{ "bob@example.net", "From: bob@example.net\r\nTo: alice@example.com\r\n"
		  "Subject: Automatic reply: hello\r\n\r\nI am away.\r\n", 1,
		  DSN_KIND_AUTOREPLY },
		{ "bob@example.net", "From: bob@example.net\r\nAuto-Submitted: auto-replied\r\n"
		  "Subject: away\r\n\r\nI am away.\r\n", 1, DSN_KIND_AUTOREPLY },
		{ "bob@example.net", "From: bob@example.net\r\nAuto-Submitted: no\r\n"
		  "Subject: hi\r\n\r\nhello\r\n", 0, DSN_KIND_NONE },
	};
	struct config *cfg = config_default();
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct envelope env = { .mail_from = t[i].from, .now = NOW,
		    .esmtp_size = -1 };
		struct scan *s = scan_new(cfg, &env);
		const struct dsn_report *r;

		ck_assert_int_eq(scan_raw(s, t[i].msg, strlen(t[i].msg)), 0);
		ck_assert_int_eq(scan_finish(s), 0);
		r = scan_dsn(s);
		ck_assert_msg((r != NULL) == t[i].parsed, "case %zu: parsed %d", i, r != NULL);
		if (r != NULL)
			ck_assert_msg(r->kind == t[i].kind, "case %zu: kind %s", i,
			    dsn_kind_name(r->kind));
		ck_assert_int_eq(scan_is_bounce(s), t[i].from[0] == '\0' ||
		    t[i].kind != DSN_KIND_NONE);
		scan_free(s);
	}
	config_free(cfg);
}
END_TEST

/*
 * Bounces that arrive with a non-null envelope sender (a forwarding
 * gateway, a mailer that does not use <>) are known by their header
 * fields: the scan hands them to the DSN parser and gets the report
 * dsn_parse_bytes() gives, at every chunk size. Ordinary mail that shares
 * a word with them stays ordinary mail.
 */
#define BOUNCE_HDRS(from, subject) \
	"From: " from "\r\n" \
	"To: alice@example.com\r\n" \
	"Subject: " subject "\r\n" \
	"Date: Wed, 18 Nov 2026 09:00:00 +0000\r\n" \
	"Message-ID: <b1.42@mx.example.org>\r\n"
#define BOUNCE_BODY \
	"\r\nYour message could not be delivered to one or more recipients.\r\n" \
	"\r\nbob@example.net: 550 5.1.1 User unknown\r\n"

START_TEST(test_scan_bounce_nonnull_sender)
{
	static const struct {
		const char	*label;
		const char	*msg;
		enum dsn_kind	 kind;
		const char	*reason;	/* of the first recipient */
		const char	*rcpt;
	} t[] = {
		{ "mailer-daemon, german subject",
		  BOUNCE_HDRS("Mail Delivery Subsystem <MAILER-DAEMON@mx.example.org>",
		  "Unzustellbar: Angebot") BOUNCE_BODY,
		  DSN_KIND_DSN, "userunknown", "bob@example.net" },
		{ "mail delivery display name",
		  BOUNCE_HDRS("Mail Delivery Subsystem <bounce@mx.example.org>",
		  "Unzustellbar: Angebot") BOUNCE_BODY,
		  DSN_KIND_DSN, "userunknown", "bob@example.net" },
		{ "mailer_daemon",
		  BOUNCE_HDRS("MAILER_DAEMON@mx.example.org", "failure notice")
		  BOUNCE_BODY, DSN_KIND_DSN, "userunknown", "bob@example.net" },
		{ "bounce subject and marker, any sender",
		  BOUNCE_HDRS("IT Helpdesk <helpdesk@example.org>",
		  "Unzustellbar: Angebot") BOUNCE_BODY,
		  DSN_KIND_DSN, "userunknown", "bob@example.net" },
		{ "precedence auto_reply",
		  BOUNCE_HDRS("Bob <bob@example.net>", "Re: Angebot")
		  "Precedence: auto_reply\r\n\r\nI am away until Monday.\r\n",
		  DSN_KIND_AUTOREPLY, "vacation", "bob@example.net" },
		/* ordinary mail */
		{ "a parcel's delivery",
		  BOUNCE_HDRS("Alice <alice@example.com>", "Re: delivery of the chairs")
		  "\r\nThey said 550 chairs arrive on Monday.\r\n",
		  DSN_KIND_NONE, NULL, NULL },
		{ "a welcome from the postmaster",
		  BOUNCE_HDRS("Postmaster <postmaster@example.com>", "Welcome to the team")
		  "\r\nHello Bob,\r\nwelcome aboard.\r\n",
		  DSN_KIND_NONE, NULL, NULL },
		{ "a person forwards a bounce",
		  BOUNCE_HDRS("Alice <alice@example.com>", "Fwd: Undeliverable: Angebot")
		  "\r\nCan you check this?\r\n" BOUNCE_BODY,
		  DSN_KIND_NONE, NULL, NULL },
		{ "a newsletter about deliveries",
		  BOUNCE_HDRS("Delivery Hero <news@deliveryhero.example>",
		  "Your delivery is on its way") "\r\nTrack it here.\r\n",
		  DSN_KIND_NONE, NULL, NULL },
	};
	static const char *const rcpts[] = { "alice@example.com" };
	struct config *cfg = config_default();
	size_t i, c;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct dsn_report *want = NULL;
		size_t len = strlen(t[i].msg);

		ck_assert_int_eq(dsn_parse_bytes(cfg->bounce.classifier, t[i].msg,
		    len, "bounces@mx.example.org", 0, &want), 0);
		ck_assert_msg(want->kind == t[i].kind, "%s: dsn_parse_bytes says %s",
		    t[i].label, dsn_kind_name(want->kind));
		for (c = 0; c < sizeof(chunk_sizes) / sizeof(chunk_sizes[0]); c++) {
			struct envelope env = { .mail_from = "bounces@mx.example.org",
			    .rcpts = rcpts, .nrcpt = 1, .now = NOW, .esmtp_size = -1 };
			struct scan *s = scan_new(cfg, &env);
			size_t step = chunk_sizes[c] ? chunk_sizes[c] : len, k;
			const struct dsn_report *r;

			for (k = 0; k < len; k += step)
				ck_assert_int_eq(scan_raw(s, t[i].msg + k,
				    len - k < step ? len - k : step), 0);
			ck_assert_int_eq(scan_finish(s), 0);
			r = scan_dsn(s);
			ck_assert_msg(scan_is_bounce(s) == (t[i].kind != DSN_KIND_NONE),
			    "%s: bounce %d at chunk %zu", t[i].label,
			    scan_is_bounce(s), chunk_sizes[c]);
			if (t[i].kind == DSN_KIND_NONE) {
				ck_assert_msg(r == NULL || r->kind == DSN_KIND_NONE,
				    "%s: read as %s", t[i].label, dsn_kind_name(r->kind));
				scan_free(s);
				continue;
			}
			ck_assert_msg(r != NULL, "%s: the scan has no report", t[i].label);
			ck_assert_int_eq(r->kind, t[i].kind);
			ck_assert_uint_eq(r->nrcpts, want->nrcpts);
			ck_assert_uint_ge(r->nrcpts, 1);
			ck_assert_str_eq(r->rcpts[0].final_rcpt, t[i].rcpt);
			ck_assert_str_eq(r->rcpts[0].cls.reason, t[i].reason);
			ck_assert_str_eq(r->rcpts[0].cls.reason, want->rcpts[0].cls.reason);
			ck_assert_str_eq(r->rcpts[0].cls.category,
			    want->rcpts[0].cls.category);
			scan_free(s);
		}
		dsn_report_free(want);
	}
	config_free(cfg);
}
END_TEST

START_TEST(test_policy_monitor_bounce_exempt)
{
	struct config *cfg = config_default();
	struct envelope env = { .mail_from = "a@example.com", .now = NOW, .esmtp_size = -1,
	    .client_addr = "192.0.2.7" };
	struct findings f;
	struct verdict v;
	struct buf b;

	findings_init(&f, 16);
	ck_assert_int_eq(findings_add(&f, "rfc5322.from.duplicate", "From"), 0);
	policy_decide(cfg, &env, &f, 0, &v);
	ck_assert_int_eq(v.action, ACT_REJECT);
	ck_assert_str_eq(v.reply, "554 5.6.0 More than one From header (RFC 5322 3.6)");

	/* A bounce is never rejected. */
	policy_decide(cfg, &env, &f, 1, &v);
	ck_assert_int_eq(v.action, ACT_TAG);
	ck_assert_int_eq(v.would, ACT_REJECT);

	/* Monitor mode tags what it would have done. */
	cfg->mode = MODE_MONITOR;
	policy_decide(cfg, &env, &f, 0, &v);
	ck_assert_int_eq(v.action, ACT_TAG);
	ck_assert_int_eq(v.would, ACT_REJECT);
	ck_assert_int_eq(v.tag, 1);
	buf_init(&b, 4096);
	ck_assert_int_eq(policy_tag_value(&f, &v, &b), 0);
	ck_assert_str_eq(buf_cstr(&b), "rfc5322.from.duplicate(0); score=0; action=reject");
	buf_reset(&b);
	ck_assert_int_eq(policy_log_line(&env, &f, &v, &b), 0);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&b), "action=tag would=reject"));
	buf_fini(&b);

	/* An exempt client is accepted. */
	cfg->mode = MODE_ENFORCE;
	cfg->exempt.clients = calloc(1, sizeof(struct cidr));
	ck_assert_int_eq(cidr_parse("192.0.2.0/24", cfg->exempt.clients), 0);
	cfg->exempt.nclients = 1;
	policy_decide(cfg, &env, &f, 0, &v);
	ck_assert_int_eq(v.action, ACT_ACCEPT);
	ck_assert_int_eq(v.exempt, 1);
	findings_fini(&f);
	config_free(cfg);
}
END_TEST

/* The reply's codes always agree with the action the shell takes. */
START_TEST(test_policy_reply_codes)
{
	struct config *cfg = config_default();
	struct envelope env = { .mail_from = "a@example.com", .now = NOW, .esmtp_size = -1 };
	struct findings f;
	struct verdict v;
	struct buf b;
	int i = checks_index("rfc5322.from.duplicate");

	findings_init(&f, 16);
	ck_assert_int_eq(findings_add(&f, "rfc5322.from.duplicate", "From"), 0);
	cfg->checks[i].action = ACT_TEMPFAIL;	/* keeps its 554 5.6.0 text */
	policy_decide(cfg, &env, &f, 0, &v);
	ck_assert_int_eq(v.action, ACT_TEMPFAIL);
	ck_assert_str_eq(v.reply, "451 4.6.0 More than one From header (RFC 5322 3.6)");
	buf_init(&b, 4096);
	ck_assert_int_eq(policy_log_line(&env, &f, &v, &b), 0);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&b), "reply=\"451 4.6.0 "));
	buf_fini(&b);
	/* A reject whose reply is 4xx is a tempfail. */
	cfg->checks[i].action = ACT_REJECT;
	policy_set_reply(&v, NULL);
	v.action = v.would = ACT_REJECT;
	policy_set_reply(&v, "452 4.5.3 Too many recipients");
	ck_assert_int_eq(v.action, ACT_TEMPFAIL);
	ck_assert_int_eq(v.would, ACT_TEMPFAIL);
	ck_assert_str_eq(v.reply, "452 4.5.3 Too many recipients");
	findings_fini(&f);
	config_free(cfg);
}
END_TEST

START_TEST(test_policy_scores)
{
	struct config *cfg = config_default();
	struct envelope env = { .mail_from = "a@example.com", .now = NOW, .esmtp_size = -1 };
	struct findings f;
	struct verdict v;

	findings_init(&f, 16);
	ck_assert_int_eq(findings_add(&f, "content.url.shortener", "bit.ly"), 0);
	policy_decide(cfg, &env, &f, 0, &v);	/* 3 >= tag threshold 3 */
	ck_assert_int_eq(v.score, 3);
	ck_assert_int_eq(v.action, ACT_TAG);
	ck_assert_int_eq(findings_add(&f, "content.url.userinfo", "x"), 0);
	ck_assert_int_eq(findings_add(&f, "content.url.scheme", "javascript"), 0);
	policy_decide(cfg, &env, &f, 0, &v);	/* 13 >= reject threshold 10 */
	ck_assert_int_eq(v.score, 13);
	ck_assert_int_eq(v.action, ACT_REJECT);
	ck_assert_str_eq(v.decided_by, "content.score");
	findings_fini(&f);
	config_free(cfg);
}
END_TEST


/*
 * The raw header splitter on broken lines, at every chunk size: a line
 * longer than the header budget keeps its CRLF (no bare LF), and a line
 * without a colon is named by its own number, not the next one's.
 */
START_TEST(test_scan_raw_broken_lines)
{
	struct config *cfg = config_default();
	struct envelope env = { .mail_from = "alice@example.com", .now = NOW,
	    .esmtp_size = -1 };
	struct buf m;
	size_t k, off, chunk, i;
	const struct findings *f;

	ck_assert_ptr_nonnull(cfg);
	cfg->limits.header_bytes = 4096;
	for (int which = 0; which < 2; which++) {
		buf_init(&m, 1 << 20);
		ck_assert_int_eq(buf_puts(&m, CLEAN_HDRS), BUF_OK);
		if (which == 0) {
			ck_assert_int_eq(buf_puts(&m, "X-Long: "), BUF_OK);
			for (i = 0; i < 6000; i++)
				ck_assert_int_eq(buf_putc(&m, 'a' + (int)(i % 26)), BUF_OK);
			ck_assert_int_eq(buf_puts(&m, "\r\n\r\nbody\r\n"), BUF_OK);
		} else
			ck_assert_int_eq(buf_puts(&m, "no colon here\r\nX-Next: 1\r\n\r\nbody\r\n"),
			    BUF_OK);
		for (k = 0; k < sizeof(chunk_sizes) / sizeof(chunk_sizes[0]); k++) {
			struct scan *s = scan_new(cfg, &env);

			ck_assert_ptr_nonnull(s);
			chunk = chunk_sizes[k] ? chunk_sizes[k] : m.len;
			for (off = 0; off < m.len; off += chunk)
				ck_assert_int_eq(scan_raw(s, m.data + off,
				    m.len - off < chunk ? m.len - off : chunk), 0);
			ck_assert_int_eq(scan_finish(s), 0);
			f = scan_findings(s);
			ck_assert_msg(!findings_has(f, "body.bare_lf"),
			    "case %d chunk %zu: bare LF reported", which, chunk);
			if (which == 0)
				ck_assert(findings_has(f, "size.headers"));
			for (i = 0; which == 1 && i < f->n; i++)
				if (strcmp(f->v[i].id, "header.name.invalid") == 0)
					break;
			if (which == 1) {
				ck_assert_msg(i < f->n, "no header.name.invalid");
				ck_assert_msg(strstr(f->v[i].detail, "header line 6 ") != NULL,
				    "detail: %s", f->v[i].detail);
			}
			scan_free(s);
		}
		buf_fini(&m);
	}
	config_free(cfg);
}
END_TEST

START_TEST(test_log_escape)
{
	struct buf b;

	buf_init(&b, 100);
	ck_assert_int_eq(log_escape(&b, "a\"b\\c\n\x01\xff", 8, 100), 0);
	ck_assert_str_eq(buf_cstr(&b), "a\\\"b\\\\c\\x0a\\x01\\xff");
	buf_fini(&b);
	buf_init(&b, 4);
	ck_assert_int_eq(buf_append(&b, "abcd", 4), BUF_OK);
	ck_assert_int_eq(buf_append(&b, "e", 1), BUF_ERR_LIMIT);
	ck_assert_uint_eq(b.len, 4);
	buf_fini(&b);
}
END_TEST

/* buf: the no-growth fast paths keep the maximum and the NUL. */
START_TEST(test_buf_limits)
{
	struct buf b;
	size_t i, max;

	for (max = 1; max < 1100; max += 37) {
		buf_init(&b, max);
		for (i = 0; i < max; i++)
			ck_assert_int_eq(buf_putc(&b, 'a' + (int)(i % 26)), BUF_OK);
		ck_assert_int_eq(buf_putc(&b, 'z'), BUF_ERR_LIMIT);
		ck_assert_int_eq(buf_append(&b, "z", 1), BUF_ERR_LIMIT);
		ck_assert_uint_eq(b.len, max);
		ck_assert_uint_eq(strlen(buf_cstr(&b)), max);
		ck_assert_int_eq(buf_cstr(&b)[max - 1], 'a' + (int)((max - 1) % 26));
		buf_reset(&b);
		/* appends of every size up to the maximum, then one byte over */
		for (i = 0; b.len + i + 1 <= max; i++)
			ck_assert_int_eq(buf_append(&b, "0123456789abcdefghij", i % 21),
			    BUF_OK);
		ck_assert_uint_eq(strlen(buf_cstr(&b)), b.len);
		ck_assert_int_eq(buf_append(&b, "0123456789", 1 + max - b.len),
		    BUF_ERR_LIMIT);
		buf_fini(&b);
	}
}
END_TEST

/* API misuse aborts, in every build: finishing twice would add the
 * message-level findings (content.html_only, size.*) a second time. */
static const char html_only_msg[] =
    "From: a@example.com\r\nDate: Wed, 18 Nov 2026 09:00:00 +0000\r\n"
    "Message-ID: <1@example.com>\r\nMIME-Version: 1.0\r\n"
    "Content-Type: text/html\r\n\r\n<p>hello</p>\r\n";

START_TEST(test_scan_finish_twice)
{
	struct config *cfg = config_default();
	struct envelope env = { .mail_from = "a@example.com", .now = NOW, .esmtp_size = -1 };
	struct scan *s = scan_new(cfg, &env);

	ck_assert_int_eq(scan_raw(s, html_only_msg, sizeof(html_only_msg) - 1), 0);
	ck_assert_int_eq(scan_finish(s), 0);
	ck_assert_int_eq(scan_finish(s), 0);	/* aborts */
	ck_abort_msg("scan_finish twice returned");
}
END_TEST

START_TEST(test_scan_feed_after_finish)
{
	struct config *cfg = config_default();
	struct envelope env = { .mail_from = "a@example.com", .now = NOW, .esmtp_size = -1 };
	struct scan *s = scan_new(cfg, &env);

	ck_assert_int_eq(scan_raw(s, html_only_msg, sizeof(html_only_msg) - 1), 0);
	ck_assert_int_eq(scan_finish(s), 0);
	ck_assert_int_eq(scan_body(s, "more\r\n", 6), 0);	/* aborts */
	ck_abort_msg("scan_body after scan_finish returned");
}
END_TEST

static Suite *
scan_suite(void)
{
	Suite *s = suite_create("scan");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_scan_cases, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_scan_milter_fields);
	tcase_add_test(tc, test_scan_body_blocks);
	tcase_add_test(tc, test_scan_sizes);
	tcase_add_test(tc, test_scan_bounce_candidates);
	tcase_add_test(tc, test_scan_bounce_nonnull_sender);
	tcase_add_test(tc, test_policy_monitor_bounce_exempt);
	tcase_add_test(tc, test_policy_scores);
	tcase_add_test(tc, test_policy_reply_codes);
	tcase_add_test(tc, test_log_escape);
	tcase_add_test(tc, test_buf_limits);
	tcase_add_test(tc, test_scan_raw_broken_lines);
	tcase_add_test_raise_signal(tc, test_scan_finish_twice, SIGABRT);
	tcase_add_test_raise_signal(tc, test_scan_feed_after_finish, SIGABRT);
	/* a bound for a hung test, not a measure: a loaded machine is slow */
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(scan_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
