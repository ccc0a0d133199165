/*
 * check_maillog - MTA log lines (maillog.h): prefixes, the three MTAs,
 * hostile lines, times, classification and the queue-id map.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "egress/bounce.h"
#include "egress/cfg.h"
#include "egress/classify.h"
#include "egress/maillog.h"

static const struct {
	const char		*label;
	const char		*line;
	enum maillog_kind	 kind;
	const char		*qid;
	const char		*rcpt;		/* or sender / Message-ID */
	enum maillog_status	 status;
	const char		*dsn;
	const char		*relay;
	const char		*diag;
} cases[] = {
	{ "postfix 3164 deferred TSS04",
	  "Dec  3 05:35:13 mx1 postfix/smtp[812]: 4QmZ1k2Hj9z9: to=<u@yahoo.example>, relay=mta5.am0.yahoodns.example[192.0.2.5]:25, delay=1.1, delays=0.01/0/0.6/0.5, dsn=4.7.0, status=deferred (host mta5.am0.yahoodns.example[192.0.2.5] said: 421 4.7.0 [TSS04] Messages from 198.51.100.4 temporarily deferred due to unexpected volume or user complaints (in reply to MAIL FROM command))\n",
	  MAILLOG_DELIVERY, "4QmZ1k2Hj9z9", "u@yahoo.example", MAILLOG_DEFERRED, "4.7.0",
	  "mta5.am0.yahoodns.example",
	  "host mta5.am0.yahoodns.example[192.0.2.5] said: 421 4.7.0 [TSS04] Messages from 198.51.100.4 temporarily deferred due to unexpected volume or user complaints (in reply to MAIL FROM command)" },
	{ "postfix ISO (Debian 12 rsyslog) bounced",
	  "2026-12-03T05:35:13.123456+00:00 mx1 postfix/smtp[812]: 3F2A1B: to=<b@example.com>, orig_to=<alias@example.org>, relay=mx.example.com[192.0.2.1]:25, delay=1, delays=0/0/0.5/0.5, dsn=5.1.1, status=bounced (host mx.example.com[192.0.2.1] said: 550 5.1.1 no such user (in reply to RCPT TO command))",
	  MAILLOG_DELIVERY, "3F2A1B", "b@example.com", MAILLOG_BOUNCED, "5.1.1", "mx.example.com",
	  "host mx.example.com[192.0.2.1] said: 550 5.1.1 no such user (in reply to RCPT TO command)" },
	{ "postfix sent", "Dec 03 05:35:13 mx1 postfix/lmtp[9]: ABC123: to=<c@example.net>, relay=lmtp.example.net[192.0.2.3]:24, delay=0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok)",
	  MAILLOG_DELIVERY, "ABC123", "c@example.net", MAILLOG_SENT, "2.0.0", "lmtp.example.net", "250 2.0.0 Ok" },
	{ "postfix local, relay=local", "Dec 3 05:35:13 mx1 postfix/local[9]: ABC124: to=<root@mx1.example>, relay=local, delay=0.1, dsn=5.2.2, status=bounced (cannot update mailbox: quota exceeded)",
	  MAILLOG_DELIVERY, "ABC124", "root@mx1.example", MAILLOG_BOUNCED, "5.2.2", "local", "cannot update mailbox: quota exceeded" },
	{ "postfix error, relay=none", "Dec  3 05:35:13 mx1 postfix/error[9]: ABC125: to=<d@example.org>, relay=none, delay=0, dsn=4.4.1, status=deferred (delivery temporarily suspended: connect to example.org[192.0.2.9]:25: Connection timed out)",
	  MAILLOG_DELIVERY, "ABC125", "d@example.org", MAILLOG_DEFERRED, "4.4.1", "",
	  "delivery temporarily suspended: connect to example.org[192.0.2.9]:25: Connection timed out" },
	{ "postfix multi-instance name", "Dec  3 05:35:13 mx1 postfix-out/smtp[9]: ABC126: to=<e@example.org>, relay=mx.example.org[192.0.2.4]:25, dsn=4.7.28, status=deferred (host mx.example.org[192.0.2.4] said: 421-4.7.28 unusual rate 421 4.7.28 of mail (in reply to end of DATA command))",
	  MAILLOG_DELIVERY, "ABC126", "e@example.org", MAILLOG_DEFERRED, "4.7.28", "mx.example.org",
	  "host mx.example.org[192.0.2.4] said: 421-4.7.28 unusual rate 421 4.7.28 of mail (in reply to end of DATA command)" },
	{ "postfix qmgr from", "Dec  3 05:35:12 mx1 postfix/qmgr[700]: 4QmZ1k2Hj9z9: from=<Alice@Example.org>, size=1234, nrcpt=1 (queue active)",
	  MAILLOG_SENDER, "4QmZ1k2Hj9z9", "Alice@Example.org", 0, "", "", "" },
	{ "postfix qmgr null sender", "Dec  3 05:35:12 mx1 postfix/qmgr[700]: 4QmZ1k2Hj9zA: from=<>, size=2000, nrcpt=1 (queue active)",
	  MAILLOG_SENDER, "4QmZ1k2Hj9zA", "", 0, "", "", "" },
	{ "postfix qmgr expired is not an event", "Dec  3 05:35:12 mx1 postfix/qmgr[700]: 4QmZ1k2Hj9zA: from=<a@example.org>, status=expired, returned to sender",
	  MAILLOG_NONE, "", "", 0, "", "", "" },
	{ "postfix cleanup message-id", "Dec  3 05:35:12 mx1 postfix/cleanup[701]: 4QmZ1k2Hj9z9: message-id=<20261203.1@example.org>",
	  MAILLOG_MSGID, "4QmZ1k2Hj9z9", "<20261203.1@example.org>", 0, "", "", "" },
	{ "postfix smtpd client line", "Dec  3 05:35:12 mx1 postfix/smtpd[702]: 4QmZ1k2Hj9z9: client=localhost[127.0.0.1]",
	  MAILLOG_NONE, "", "", 0, "", "", "" },
	{ "postfix removed", "Dec  3 05:35:12 mx1 postfix/qmgr[700]: 4QmZ1k2Hj9z9: removed",
	  MAILLOG_NONE, "", "", 0, "", "", "" },
	{ "postfix maillog_file microseconds", "Dec  3 05:35:13.482913 mx1 postfix/smtp[812]: 1A2B3C: to=<f@example.com>, relay=127.0.0.1[127.0.0.1]:2525, delay=0.1, dsn=4.7.0, status=deferred (host 127.0.0.1[127.0.0.1] said: 421 4.7.0 go away (in reply to RCPT TO command))",
	  MAILLOG_DELIVERY, "1A2B3C", "f@example.com", MAILLOG_DEFERRED, "4.7.0", "127.0.0.1",
	  "host 127.0.0.1[127.0.0.1] said: 421 4.7.0 go away (in reply to RCPT TO command)" },
	{ "RFC 5424", "<22>1 2026-12-03T05:35:13.1Z mx1 postfix/smtp 812 - [meta x=\"a]b\"] 1A2B3D: to=<g@example.com>, relay=none, dsn=4.4.1, status=deferred (connect to example.com[192.0.2.8]:25: Connection refused)",
	  MAILLOG_DELIVERY, "1A2B3D", "g@example.com", MAILLOG_DEFERRED, "4.4.1", "",
	  "connect to example.com[192.0.2.8]:25: Connection refused" },
	{ "3164 with a priority", "<22>Dec  3 05:35:13 mx1 postfix/smtp[1]: 1A2B3E: to=<h@example.com>, relay=none, dsn=4.4.1, status=deferred (x)",
	  MAILLOG_DELIVERY, "1A2B3E", "h@example.com", MAILLOG_DEFERRED, "4.4.1", "", "x" },
	{ "sendmail deferred", "Dec  3 05:35:13 mx1 sm-mta[2002]: 5B35ZD12345: to=<i@example.com>, ctladdr=<a@example.org> (1000/1000), delay=00:00:01, xdelay=00:00:01, mailer=esmtp, pri=120100, relay=mx.example.com. [192.0.2.1], dsn=4.0.0, stat=Deferred: 421 4.7.0 Try again later",
	  MAILLOG_DELIVERY, "5B35ZD12345", "i@example.com", MAILLOG_DEFERRED, "4.0.0", "mx.example.com",
	  "Deferred: 421 4.7.0 Try again later" },
	{ "sendmail two recipients: the first", "Dec  3 05:35:13 mx1 sm-mta[2002]: 5B35ZD12346: to=<j@example.com>,<k@example.com>, delay=00:00:01, mailer=esmtp, relay=mx.example.com. [192.0.2.1], dsn=5.1.1, stat=User unknown",
	  MAILLOG_DELIVERY, "5B35ZD12346", "j@example.com", MAILLOG_BOUNCED, "5.1.1", "mx.example.com", "User unknown" },
	{ "sendmail from with msgid", "Dec  3 05:35:12 mx1 sm-mta[2001]: 5B35ZD12345: from=<gina@example.org>, size=100, class=0, nrcpts=1, msgid=<x@example.org>, proto=ESMTP, daemon=MTA, relay=localhost [127.0.0.1]",
	  MAILLOG_SENDER, "5B35ZD12345", "gina@example.org", 0, "", "", "" },
	{ "sendmail queued is not a delivery", "Dec  3 05:35:12 mx1 sm-mta[2001]: 5B35ZD12345: to=<l@example.org>, delay=00:00:00, mailer=esmtp, stat=queued",
	  MAILLOG_NONE, "", "", 0, "", "", "" },
	{ "exim defer", "2026-12-03 05:35:13 1wAbCd-000123-AB == m@example.net R=dnslookup T=remote_smtp defer (-44) H=mx.example.net [192.0.2.2]: SMTP error from remote mail server after RCPT TO:<m@example.net>: 421 4.7.0 Try again later",
	  MAILLOG_DELIVERY, "1wAbCd-000123-AB", "m@example.net", MAILLOG_DEFERRED, "", "mx.example.net",
	  "SMTP error from remote mail server after RCPT TO:<m@example.net>: 421 4.7.0 Try again later" },
	{ "exim bounce with TLS and pid", "2026-12-03 05:35:13.123 +0100 [4711] 1wAbCd-00000000123-ABCD ** n@example.com R=dnslookup T=remote_smtp H=mx.example.com [192.0.2.1] X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes: SMTP error from remote mail server after RCPT TO:<n@example.com>: 550 5.1.1 unknown",
	  MAILLOG_DELIVERY, "1wAbCd-00000000123-ABCD", "n@example.com", MAILLOG_BOUNCED, "", "mx.example.com",
	  "SMTP error from remote mail server after RCPT TO:<n@example.com>: 550 5.1.1 unknown" },
	{ "exim unrouteable", "2026-12-03 05:35:13 1wAbCd-000124-AB ** o@nowhere.example: Unrouteable address",
	  MAILLOG_DELIVERY, "1wAbCd-000124-AB", "o@nowhere.example", MAILLOG_BOUNCED, "", "", "Unrouteable address" },
	{ "exim arrival", "2026-12-03 05:35:10 1wAbCd-000123-AB <= jack@example.org H=(client.example.org) [198.51.100.1] P=esmtpa A=login:jack S=1234 id=m1@example.org",
	  MAILLOG_SENDER, "1wAbCd-000123-AB", "jack@example.org", 0, "", "", "" },
	{ "exim delivered", "2026-12-03 05:35:11 1wAbCd-000123-AB => p@example.com R=dnslookup T=remote_smtp H=mx.example.com [192.0.2.1] C=\"250 OK\"",
	  MAILLOG_DELIVERY, "1wAbCd-000123-AB", "p@example.com", MAILLOG_SENT, "", "mx.example.com", "" },
	{ "exim through syslog", "Dec  3 05:35:13 mx1 exim[99]: 2026-12-03 05:35:13 1wAbCd-000125-AB == q@example.net R=dnslookup T=remote_smtp defer (-45) H=mx.example.net [192.0.2.2]: SMTP error from remote mail server after MAIL FROM:<a@example.org>: 450 4.7.1 slow down",
	  MAILLOG_DELIVERY, "1wAbCd-000125-AB", "q@example.net", MAILLOG_DEFERRED, "", "mx.example.net",
	  "SMTP error from remote mail server after MAIL FROM:<a@example.org>: 450 4.7.1 slow down" },
	/* hostile or malformed lines: not events, never crashes */
	{ "empty", "", MAILLOG_NONE, "", "", 0, "", "", "" },
	{ "only a prefix", "Dec  3 05:35:13 mx1", MAILLOG_NONE, "", "", 0, "", "", "" },
	{ "unterminated address", "Dec  3 05:35:13 mx1 postfix/smtp[1]: ABC: to=<x@example.com, relay=none, status=deferred (x)",
	  MAILLOG_NONE, "", "", 0, "", "", "" },
	{ "control byte in the address", "Dec  3 05:35:13 mx1 postfix/smtp[1]: ABC: to=<x\x1b@example.com>, relay=none, status=deferred (x)",
	  MAILLOG_NONE, "", "", 0, "", "", "" },
	{ "queue id with punctuation", "Dec  3 05:35:13 mx1 postfix/smtp[1]: A.B: to=<x@example.com>, status=deferred (x)",
	  MAILLOG_NONE, "", "", 0, "", "", "" },
	{ "unknown status word", "Dec  3 05:35:13 mx1 postfix/smtp[1]: ABC: to=<x@example.com>, status=maybe (x)",
	  MAILLOG_NONE, "", "", 0, "", "", "" },
	{ "two to= fields", "Dec  3 05:35:13 mx1 postfix/smtp[1]: ABC: to=<x@example.com>, to=<y@example.com>, status=deferred (x)",
	  MAILLOG_NONE, "", "", 0, "", "", "" },
	{ "bad month", "Foo  3 05:35:13 mx1 postfix/smtp[1]: ABC: to=<x@example.com>, status=deferred (x)",
	  MAILLOG_NONE, "", "", 0, "", "", "" },
	{ "bad ISO time", "2026-13-03T05:35:13Z mx1 postfix/smtp[1]: ABC: to=<x@example.com>, status=deferred (x)",
	  MAILLOG_NONE, "", "", 0, "", "", "" },
	{ "bare text", "hello world", MAILLOG_NONE, "", "", 0, "", "", "" },
	/* found by fuzz_maillog: an empty first recipient */
	{ "sendmail empty to=", "Dec  3 05:35:13 mx1 sm-mta[2002]: 5B35ZD12346: to=,<k@example.com>, delay=00:00:01, mailer=esmtp, relay=mx.example.com. [192.0.2.1], dsn=5.1.1, stat=User unknown",
	  MAILLOG_NONE, "", "", 0, "", "", "" },
	{ "postfix empty to=<>", "Dec  3 05:35:13 mx1 postfix/smtp[1]: ABC: to=<>, status=deferred (x)",
	  MAILLOG_NONE, "", "", 0, "", "", "" },
	/* found by fuzz_maillog: a bad RFC 5424 program name left fields set */
	{ "RFC 5424 program too long", "<22>1 2026-12-03T05:35:13.1Z mx1 pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppostfix/smtp 812 - - 1A2B3D: to=<g@example.com>, dsn=4.4.1, status=deferred (x)",
	  MAILLOG_NONE, "", "", 0, "", "", "" },
	{ "exim short id", "2026-12-03 05:35:13 abc == q@example.net defer", MAILLOG_NONE, "", "", 0, "", "", "" },
};

static void
span_is(const struct maillog_span *s, const char *want, const char *label,
    const char *what)
{
	ck_assert_msg(s->n == strlen(want) && (s->n == 0 || memcmp(s->p, want, s->n) == 0),
	    "%s: %s: got \"%.*s\" want \"%s\"", label, what, (int)s->n,
	    s->p ? s->p : "", want);
}

START_TEST(test_lines)
{
	struct maillog_event ev;
	enum maillog_kind k;

	k = maillog_parse(cases[_i].line, strlen(cases[_i].line), &ev);
	ck_assert_msg(k == cases[_i].kind, "%s: kind %d", cases[_i].label, (int)k);
	ck_assert_int_eq(ev.kind, k);
	if (k == MAILLOG_NONE) {
		ck_assert_msg(ev.qid.n == 0 && ev.prog.n == 0 && ev.host.n == 0 &&
		    ev.rcpt.n == 0 && ev.diag.n == 0, "%s: fields left set",
		    cases[_i].label);
		return;
	}
	span_is(&ev.qid, cases[_i].qid, cases[_i].label, "qid");
	if (k == MAILLOG_DELIVERY) {
		span_is(&ev.rcpt, cases[_i].rcpt, cases[_i].label, "rcpt");
		ck_assert_msg(ev.status == cases[_i].status, "%s: status",
		    cases[_i].label);
		span_is(&ev.dsn, cases[_i].dsn, cases[_i].label, "dsn");
		span_is(&ev.relay, cases[_i].relay, cases[_i].label, "relay");
		span_is(&ev.diag, cases[_i].diag, cases[_i].label, "diag");
	} else if (k == MAILLOG_SENDER)
		span_is(&ev.sender, cases[_i].rcpt, cases[_i].label, "sender");
	else
		span_is(&ev.msgid, cases[_i].rcpt, cases[_i].label, "msgid");
}
END_TEST

START_TEST(test_fields)
{
	struct maillog_event ev;
	const char *l;

	l = cases[1].line;
	ck_assert_int_eq(maillog_parse(l, strlen(l), &ev), MAILLOG_DELIVERY);
	span_is(&ev.orig_rcpt, "alias@example.org", "orig_to", "orig_rcpt");
	span_is(&ev.host, "mx1", "host", "host");
	span_is(&ev.prog, "postfix/smtp", "prog", "prog");
	ck_assert_int_eq(ev.mta, MAILLOG_POSTFIX);
	ck_assert_int_eq(ev.cached, 0);
	l = cases[4].line;	/* "delivery temporarily suspended" */
	ck_assert_int_eq(maillog_parse(l, strlen(l), &ev), MAILLOG_DELIVERY);
	ck_assert_int_eq(ev.cached, 1);
	l = cases[7].line;
	ck_assert_int_eq(maillog_parse(l, strlen(l), &ev), MAILLOG_SENDER);
	ck_assert_int_eq(ev.null_sender, 1);
	l = cases[17].line;
	ck_assert_int_eq(maillog_parse(l, strlen(l), &ev), MAILLOG_SENDER);
	ck_assert_int_eq(ev.mta, MAILLOG_SENDMAIL);
	span_is(&ev.msgid, "<x@example.org>", "sendmail msgid", "msgid");
	l = cases[22].line;
	ck_assert_int_eq(maillog_parse(l, strlen(l), &ev), MAILLOG_SENDER);
	ck_assert_int_eq(ev.mta, MAILLOG_EXIM);
	span_is(&ev.msgid, "m1@example.org", "exim id", "msgid");
}
END_TEST

START_TEST(test_times)
{
	struct maillog_event ev;
	const char *l;
	int64_t now = 1796276113;	/* 2026-12-03T05:35:13Z */

	l = cases[1].line;	/* ISO with zone */
	(void)maillog_parse(l, strlen(l), &ev);
	ck_assert_int_eq(ev.time_kind, 1);
	ck_assert_int_eq(maillog_event_time(&ev, 0, 0), now);
	l = "2026-12-03T06:35:13+01:00 mx1 postfix/smtp[1]: ABC: to=<x@example.com>, status=deferred (x)";
	(void)maillog_parse(l, strlen(l), &ev);
	ck_assert_int_eq(maillog_event_time(&ev, 0, 0), now);
	l = cases[0].line;	/* RFC 3164: the year from now, the zone given */
	(void)maillog_parse(l, strlen(l), &ev);
	ck_assert_int_eq(ev.time_kind, 2);
	ck_assert_int_eq(maillog_event_time(&ev, now + 60, 0), now);
	ck_assert_int_eq(maillog_event_time(&ev, now + 60, 3600), now - 3600);
	/* on New Year's Day a December line is last year's */
	ck_assert_int_lt(maillog_event_time(&ev, 1798761600 + 100, 0), 1798761600);
	ck_assert_int_eq(maillog_event_time(&ev, 1798761600 + 100, 0), now);
	l = "2026-12-03 05:35:13 +0000 1wAbCd-000124-AB ** o@nowhere.example: x";
	(void)maillog_parse(l, strlen(l), &ev);
	ck_assert_int_eq(ev.time_kind, 1);
	ck_assert_int_eq(maillog_event_time(&ev, 0, 0), now);
	l = cases[21].line;	/* Exim without a zone: local time */
	(void)maillog_parse(l, strlen(l), &ev);
	ck_assert_int_eq(ev.time_kind, 2);
	ck_assert_int_eq(maillog_event_time(&ev, 5, 0), now);
	l = "ABC: to=<x@example.com>, status=deferred (x)";
	(void)maillog_parse(l, strlen(l), &ev);
	ck_assert_int_eq(maillog_event_time(&ev, 42, 0), 42);
}
END_TEST

START_TEST(test_bounds)
{
	struct maillog_event ev;
	struct buf b;
	char *big;
	size_t i;

	/* an address over the bound: not an event */
	buf_init(&b, 0);
	ck_assert_int_eq(buf_puts(&b, "Dec  3 05:35:13 mx1 postfix/smtp[1]: ABC: to=<"), BUF_OK);
	for (i = 0; i < MAILLOG_ADDR_MAX; i++)
		ck_assert_int_eq(buf_puts(&b, "a"), BUF_OK);
	ck_assert_int_eq(buf_puts(&b, "@x>, status=deferred (x)"), BUF_OK);
	ck_assert_int_eq(maillog_parse(b.data, b.len, &ev), MAILLOG_NONE);
	/* a long text is cut */
	buf_reset(&b);
	ck_assert_int_eq(buf_puts(&b, "Dec  3 05:35:13 mx1 postfix/smtp[1]: ABC: to=<a@x>, status=deferred ("), BUF_OK);
	for (i = 0; i < 2 * MAILLOG_DIAG_MAX; i++)
		ck_assert_int_eq(buf_puts(&b, "z"), BUF_OK);
	ck_assert_int_eq(buf_puts(&b, ")"), BUF_OK);
	ck_assert_int_eq(maillog_parse(b.data, b.len, &ev), MAILLOG_DELIVERY);
	ck_assert_uint_eq(ev.diag.n, MAILLOG_DIAG_MAX);
	/* a NUL inside: not an event */
	{
		static const char nul[] = "Dec  3 05:35:13 mx1 postfix/smtp[1]: ABC: to=<a@x>,\0 status=sent (x)";

		ck_assert_int_eq(maillog_parse(nul, sizeof(nul) - 1, &ev), MAILLOG_NONE);
	}
	/* longer than the line bound: only MAILLOG_LINE_MAX bytes are read */
	big = malloc(MAILLOG_LINE_MAX + 10);
	ck_assert_ptr_nonnull(big);
	memset(big, 'A', MAILLOG_LINE_MAX + 10);
	ck_assert_int_eq(maillog_parse(big, MAILLOG_LINE_MAX + 10, &ev), MAILLOG_NONE);
	free(big);
	ck_assert_int_eq(maillog_parse(NULL, 0, &ev), MAILLOG_NONE);
	buf_fini(&b);
}
END_TEST

static struct classifier *
load_patterns(void)
{
	struct cfg_errors errs;
	struct classifier *cl;
	const char *top = getenv("top_srcdir");
	char path[4096];

	snprintf(path, sizeof(path), "%s/conf/bounce-patterns.conf", top ? top : ".");
	cfg_errors_init(&errs, path);
	cl = classifier_load(path, NULL, &errs);
	cfg_errors_fini(&errs);
	return cl;
}

START_TEST(test_classify)
{
	static const struct {
		int		 idx;
		const char	*reason;
		const char	*category;
		int		 hard;
		int		 reply;
	} want[] = {
		{ 0, "rejected", "policy", 0, 421 },	/* TSS04, as the classifier says */
		{ 1, "userunknown", "recipient", 1, 550 },
		{ 5, "speeding", "rate", 0, 421 },		/* unusual rate */
		{ 15, NULL, NULL, 0, 421 },
		{ 19, NULL, NULL, 0, 421 },
	};
	struct classifier *cl = load_patterns();
	struct maillog_event ev;
	struct maillog_rcpt r;
	size_t i;

	ck_assert_ptr_nonnull(cl);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const char *l = cases[want[i].idx].line;

		ck_assert_int_eq(maillog_parse(l, strlen(l), &ev), MAILLOG_DELIVERY);
		ck_assert_int_eq(maillog_classify(cl, &ev, &r), 0);
		if (want[i].reason != NULL) {
			ck_assert_msg(strcmp(r.r.cls.reason, want[i].reason) == 0,
			    "%s: reason %s", cases[want[i].idx].label, r.r.cls.reason);
			ck_assert_str_eq(r.r.cls.category, want[i].category);
		}
		ck_assert_int_eq(r.r.cls.hard, want[i].hard);
		ck_assert_int_eq(r.r.reply_code, want[i].reply);
		if (ev.status == MAILLOG_DEFERRED)
			ck_assert_str_eq(r.r.action, "delayed");
		maillog_rcpt_fini(&r);
	}
	classifier_free(cl);
}
END_TEST

START_TEST(test_qmap)
{
	struct maillog_qmap *m = maillog_qmap_new(3);
	struct maillog_event ev;
	const char *s, *id;
	char line[256];
	int i;

	ck_assert_ptr_nonnull(m);
	for (i = 0; i < 5; i++) {
		snprintf(line, sizeof(line), "Dec  3 05:35:12 mx1 postfix/qmgr[1]: Q%d: from=<s%d@example.org>, size=1, nrcpt=1 (queue active)", i, i);
		ck_assert_int_eq(maillog_parse(line, strlen(line), &ev), MAILLOG_SENDER);
		ck_assert_int_eq(maillog_qmap_learn(m, &ev), 0);
	}
	/* the two oldest were forgotten */
	ck_assert_int_eq(maillog_qmap_get(m, "Q0", 2, &s, &id), 0);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(maillog_qmap_get(m, "Q1", 2, &s, &id), 0);
	ck_assert_int_eq(maillog_qmap_get(m, "Q4", 2, &s, &id), 1);
	ck_assert_str_eq(s, "s4@example.org");
	ck_assert_ptr_null(id);
	snprintf(line, sizeof(line), "Dec  3 05:35:12 mx1 postfix/cleanup[1]: Q4: message-id=<m4@example.org>");
	ck_assert_int_eq(maillog_parse(line, strlen(line), &ev), MAILLOG_MSGID);
	ck_assert_int_eq(maillog_qmap_learn(m, &ev), 0);
	ck_assert_int_eq(maillog_qmap_get(m, "Q4", 2, &s, &id), 1);
	ck_assert_str_eq(s, "s4@example.org");
	ck_assert_str_eq(id, "<m4@example.org>");
	ck_assert_int_eq(maillog_qmap_get(m, "Q2", 2, &s, NULL), 1);
	ck_assert_int_eq(maillog_qmap_get(m, "Q", 1, &s, NULL), 0);
	/* a delivery event teaches nothing */
	ck_assert_int_eq(maillog_parse(cases[0].line, strlen(cases[0].line), &ev), MAILLOG_DELIVERY);
	ck_assert_int_eq(maillog_qmap_learn(m, &ev), 0);
	maillog_qmap_free(m);
	maillog_qmap_free(NULL);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("maillog");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_lines, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_fields);
	tcase_add_test(tc, test_times);
	tcase_add_test(tc, test_bounds);
	tcase_add_test(tc, test_classify);
	tcase_add_test(tc, test_qmap);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
