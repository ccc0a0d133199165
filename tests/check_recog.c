/*
 * check_recog - the bounce recogniser: the From, Subject and auto-reply
 * words the scan and the DSN parser share, and, as much as the positives,
 * the ordinary mail it must leave alone.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "egress/recog.h"

struct value_case {
	const char	*label;
	const char	*value;
	int		 want;
};

static const struct value_case from_cases[] = {
	{ "sendmail", "Mail Delivery Subsystem <MAILER-DAEMON@mx.example.org>", 1 },
	{ "display name only", "Mail Delivery Subsystem <bounce@mx.example.org>", 1 },
	{ "bare address", "MAILER-DAEMON@mx.example.org", 1 },
	{ "underscore", "MAILER_DAEMON@mx.example.org", 1 },
	{ "postmaster", "Postmaster <postmaster@example.net>", 1 },
	{ "post_master", "post_master@vtext.com", 1 },
	{ "mail system", "Mail System <noreply@example.net>", 1 },
	{ "exchange", "Microsoft Outlook <MicrosoftExchange329e71ec88ae@example.com>", 1 },
	{ "mail administrator", "Mail Administrator <root@example.net>", 1 },
	{ "person", "Alice <alice@example.com>", 0 },
	{ "daemon in a domain", "Daemon Tools <info@daemon-tools.example>", 0 },
	{ "mail order", "Mail Order Team <orders@shop.example>", 0 },
	{ "newsletter", "Delivery Hero News <news@deliveryhero.example>", 0 },
	{ "post office", "Post Office <po@example.com>", 0 },
	{ "empty", "", 0 },
	{ "null path as author", "<>", 1 },
	{ "null path with blanks", " <> ", 1 },
	{ "courier null author", "Courier mail server at mx.example <@>", 1 },
	{ "mail server", "FirstClass Mail Server <mailer@fc.example>", 1 },
	{ "null", NULL, 0 },
};

static const struct value_case bounce_subject_cases[] = {
	{ "german", "Unzustellbar: Angebot", 1 },
	{ "exchange", "Undeliverable: quarterly report", 1 },
	{ "sendmail", "Returned mail: see transcript for details", 1 },
	{ "exim", "Mail delivery failed: returning message to sender", 1 },
	{ "qmail", "failure notice", 1 },
	{ "gmail", "Delivery Status Notification (Failure)", 1 },
	{ "french", "Non remis : Rendez-vous", 1 },
	{ "spanish", "No entregado: hola", 1 },
	{ "case", "UNDELIVERED MAIL RETURNED TO SENDER", 1 },
	{ "postfix delay", "Delayed Mail (still being retried)", 1 },
	{ "exchange delay", "Delivery delayed:Quarterly figures", 1 },
	{ "domino delay", "DELAYED: Quarterly figures", 1 },
	{ "japanese", "\xe9\x85\x8d\xe4\xbf\xa1\xe3\x82\xa8\xe3\x83\xa9\xe3\x83\xbc", 1 },
	{ "parcel", "Re: delivery of the chairs", 0 },
	{ "returned items", "Returned items and refunds", 0 },
	{ "report", "Quarterly report", 0 },
	{ "failure in prose", "Post-mortem of the failure", 0 },
	{ "status", "Project status", 0 },
	{ "empty", "", 0 },
	{ "null", NULL, 0 },
};

static const struct value_case autoreply_subject_cases[] = {
	{ "outlook", "Automatic reply: hello", 1 },
	{ "out of office", "Out of Office: Re: budget", 1 },
	{ "bracketed", "[Auto-Reply] hello", 1 },
	{ "leading space", "  Vacation", 1 },
	{ "german", "Abwesenheit bis Montag", 1 },
	{ "french", "R\xc3\xa9ponse automatique : bonjour", 1 },
	{ "a reply to one", "Re: out of office", 0 },
	{ "in the middle", "Plans for the vacation", 0 },
	{ "ordinary", "Lunch on Friday?", 0 },
	{ "empty", "", 0 },
	{ "null", NULL, 0 },
};

struct field_case {
	const char	*label;
	const char	*name;
	const char	*value;
	int		 autoreply;	/* recog_autoreply_field() */
	int		 hint;		/* recog_field_hint() */
};

static const struct field_case field_cases[] = {
	{ "rfc 3834 reply", "Auto-Submitted", "auto-replied", 1, 1 },
	{ "rfc 3834 case", "auto-submitted", " Auto-Replied (vacation)", 1, 1 },
	{ "sieve reject", "Auto-Submitted", "auto-replied (rejected)", 0, 1 },
	{ "auto-generated", "Auto-Submitted", "auto-generated", 0, 1 },
	{ "auto-submitted no", "Auto-Submitted", "no", 0, 0 },
	{ "auto-submitted no comment", "Auto-Submitted", "no (person)", 0, 0 },
	{ "auto-submitted not no", "Auto-Submitted", "notified", 0, 1 },
	{ "x-autoreply", "X-Autoreply", "yes", 1, 1 },
	{ "x-autorespond", "X-Autorespond", "", 1, 1 },
	{ "x-autoresponder", "X-Autoresponder", "yes", 1, 1 },
	{ "x-vacation", "X-Vacation", "on", 1, 1 },
	{ "precedence auto_reply", "Precedence", "auto_reply", 1, 1 },
	{ "precedence bulk", "Precedence", "bulk", 0, 0 },
	{ "precedence list", "Precedence", "list", 0, 0 },
	{ "report", "Content-Type", "multipart/report; report-type=delivery-status", 0, 1 },
	{ "mixed", "Content-Type", "multipart/mixed; boundary=x", 0, 0 },
	{ "failed recipients", "X-Failed-Recipients", "bob@example.net", 0, 1 },
	{ "daemon from", "From", "Mail Delivery Subsystem <MAILER-DAEMON@example.org>", 0, 1 },
	{ "person from", "From", "Alice <alice@example.com>", 0, 0 },
	{ "bounce subject", "Subject", "Unzustellbar: hello", 0, 1 },
	{ "report subject", "Subject", "Delivery Status: relayed", 0, 1 },
	{ "auto-reply word", "Subject", "Re: out of office", 0, 1 },
	{ "ordinary subject", "Subject", "Meeting notes", 0, 0 },
	{ "parcel subject", "Subject", "Your parcel is on its way", 0, 0 },
	{ "other field", "X-Mailer", "Mail Delivery Subsystem 1.0", 0, 0 },
	{ "to", "To", "postmaster@example.org", 0, 0 },
	{ "null value", "Subject", NULL, 0, 0 },
};

#define NELEM(a)	((int)(sizeof(a) / sizeof((a)[0])))

START_TEST(test_from)
{
	const struct value_case *c = &from_cases[_i];

	ck_assert_msg((recog_from_daemon(c->value) != 0) == c->want, "%s",
	    c->label);
}
END_TEST

START_TEST(test_bounce_subject)
{
	const struct value_case *c = &bounce_subject_cases[_i];

	ck_assert_msg((recog_bounce_subject(c->value) != 0) == c->want, "%s",
	    c->label);
}
END_TEST

START_TEST(test_autoreply_subject)
{
	const struct value_case *c = &autoreply_subject_cases[_i];

	ck_assert_msg((recog_autoreply_subject(c->value) != 0) == c->want, "%s",
	    c->label);
}
END_TEST

START_TEST(test_field)
{
	const struct field_case *c = &field_cases[_i];

	ck_assert_msg((recog_autoreply_field(c->name, c->value) != 0) ==
	    c->autoreply, "%s: autoreply", c->label);
	ck_assert_msg((recog_field_hint(c->name, c->value) != 0) == c->hint,
	    "%s: hint", c->label);
}
END_TEST

/*
 * The hint never misses what the parser's words recognise: every positive
 * From and Subject above is a hint too.
 */
START_TEST(test_hint_covers_parser)
{
	int i;

	for (i = 0; i < NELEM(from_cases); i++)
		if (from_cases[i].want)
			ck_assert_msg(recog_field_hint("From", from_cases[i].value),
			    "From %s", from_cases[i].label);
	for (i = 0; i < NELEM(bounce_subject_cases); i++)
		if (bounce_subject_cases[i].want)
			ck_assert_msg(recog_field_hint("Subject",
			    bounce_subject_cases[i].value), "Subject %s",
			    bounce_subject_cases[i].label);
	for (i = 0; i < NELEM(autoreply_subject_cases); i++)
		if (autoreply_subject_cases[i].want)
			ck_assert_msg(recog_field_hint("Subject",
			    autoreply_subject_cases[i].value), "Subject %s",
			    autoreply_subject_cases[i].label);
}
END_TEST

static Suite *
recog_suite(void)
{
	Suite *s = suite_create("recog");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_from, 0, NELEM(from_cases));
	tcase_add_loop_test(tc, test_bounce_subject, 0,
	    NELEM(bounce_subject_cases));
	tcase_add_loop_test(tc, test_autoreply_subject, 0,
	    NELEM(autoreply_subject_cases));
	tcase_add_loop_test(tc, test_field, 0, NELEM(field_cases));
	tcase_add_test(tc, test_hint_covers_parser);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(recog_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
