/*
 * check_smtpcode - SMTP reply codes and enhanced status codes in text:
 * the syntax (RFC 5321 4.2.1, RFC 3463) and the rules for a code standing
 * alone in a diagnostic.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "egress/smtpcode.h"

#define WHOLE	((size_t)-1)	/* n = strlen(text) */

struct at_case {
	const char	*label;
	const char	*text;
	size_t		 n;		/* bytes given, or WHOLE */
	size_t		 i;		/* where to look */
	int		 want;		/* length (status) or code (reply) */
};

static size_t
case_n(const struct at_case *c)
{
	return c->n == WHOLE ? strlen(c->text) : c->n;
}

static const struct at_case status_cases[] = {
	{ "alone", "5.1.1", WHOLE, 0, 5 },
	{ "after a reply", "550 5.1.1 User unknown", WHOLE, 4, 5 },
	{ "success", "2.0.0 Ok", WHOLE, 0, 5 },
	{ "temporary", "4.4.7 expired", WHOLE, 0, 5 },
	{ "two-digit detail", "5.7.26", WHOLE, 0, 6 },
	{ "three-digit detail", "5.2.122 limit", WHOLE, 0, 7 },
	{ "longest", "5.123.456", WHOLE, 0, 9 },
	{ "leading zero", "5.01.1", WHOLE, 0, 6 },
	{ "end of a sentence", "5.1.1.", WHOLE, 0, 5 },
	{ "before a comma", "5.1.1, rejected", WHOLE, 0, 5 },
	{ "after a letter", "x5.1.1", WHOLE, 1, 5 },
	{ "in angle brackets", "<4.4.2>", WHOLE, 1, 5 },
	{ "class 3", "3.1.1", WHOLE, 0, 0 },
	{ "class 6", "6.6.0", WHOLE, 0, 0 },
	{ "class 1 of a version", "1.5.1.1", WHOLE, 0, 0 },
	{ "inside a version", "1.5.1.1", WHOLE, 2, 0 },
	{ "followed by a dot and digit", "5.1.1.2", WHOLE, 0, 0 },
	{ "followed by a digit", "5.1.1234", WHOLE, 0, 0 },
	{ "four-digit subject", "5.1234.1", WHOLE, 0, 0 },
	{ "after a digit", "15.1.1", WHOLE, 1, 0 },
	{ "after a dot", "1.5.1.1", WHOLE, 2, 0 },
	{ "empty subject", "5..1", WHOLE, 0, 0 },
	{ "no detail", "5.1.", WHOLE, 0, 0 },
	{ "two parts", "5.1", WHOLE, 0, 0 },
	{ "class only", "5", WHOLE, 0, 0 },
	{ "empty", "", WHOLE, 0, 0 },
	{ "letters", "a.b.c", WHOLE, 0, 0 },
	{ "cut short", "5.1.1", 4, 0, 0 },
	{ "cut at the detail", "5.1.12", 5, 0, 5 },
	{ "past the end", "5.1.1", WHOLE, 5, 0 },
};

static const struct at_case reply_cases[] = {
	{ "with status", "550 5.1.1 User unknown", WHOLE, 0, 550 },
	{ "continued", "550-5.1.1 The email account", WHOLE, 0, 550 },
	{ "alone", "550", WHOLE, 0, 550 },
	{ "colon at end", "550:", WHOLE, 0, 550 },
	{ "colon and space", "550: rejected", WHOLE, 0, 550 },
	{ "colon and letter", "550:rejected", WHOLE, 0, 0 },
	{ "comma", "550, rejected", WHOLE, 0, 550 },
	{ "tab", "421\ttry later", WHOLE, 0, 421 },
	{ "newline", "452\n", WHOLE, 0, 452 },
	{ "success", "250 ok", WHOLE, 0, 250 },
	{ "after a space", "said: 554 denied", WHOLE, 6, 554 },
	{ "after a parenthesis", "(550 x)", WHOLE, 1, 550 },
	{ "in angle brackets", "<421 4.4.2 timed out>", WHOLE, 1, 421 },
	{ "intermediate 354", "354 go ahead", WHOLE, 0, 0 },
	{ "second digit 6", "560 x", WHOLE, 0, 0 },
	{ "first digit 6", "650 x", WHOLE, 0, 0 },
	{ "first digit 1", "150 x", WHOLE, 0, 0 },
	{ "four digits", "5500 x", WHOLE, 0, 0 },
	{ "followed by a letter", "550a", WHOLE, 0, 0 },
	{ "followed by a dot", "550.3", WHOLE, 0, 0 },
	{ "after a letter", "x550 y", WHOLE, 1, 0 },
	{ "after a digit", "1550 y", WHOLE, 1, 0 },
	{ "after a hash", "#550 y", WHOLE, 1, 0 },
	{ "after an equals sign", "id=550 y", WHOLE, 3, 0 },
	{ "after a hyphen", "a-550 y", WHOLE, 2, 0 },
	{ "after a dot", "1.550 y", WHOLE, 2, 0 },
	{ "after a slash", "/550 y", WHOLE, 1, 0 },
	{ "after an underscore", "_550 y", WHOLE, 1, 0 },
	{ "too short", "55", WHOLE, 0, 0 },
	{ "cut short", "550", 2, 0, 0 },
	{ "cut before what follows", "550x", 3, 0, 550 },
	{ "past the end", "550", WHOLE, 3, 0 },
};

static const struct at_case code_cases[] = {
	{ "permanent", "550", WHOLE, 0, 550 },
	{ "highest", "559", WHOLE, 0, 559 },
	{ "lowest", "200", WHOLE, 0, 200 },
	{ "intermediate", "354", WHOLE, 0, 354 },
	{ "only three bytes read", "5501", WHOLE, 0, 550 },
	{ "second digit 9", "599", WHOLE, 0, 0 },
	{ "first digit 1", "199", WHOLE, 0, 0 },
	{ "first digit 6", "600", WHOLE, 0, 0 },
	{ "letter", "5a0", WHOLE, 0, 0 },
	{ "cut short", "550", 2, 0, 0 },
	{ "empty", "", WHOLE, 0, 0 },
};

struct class_case {
	const char	*text;		/* NULL: NULL */
	int		 want;
};

static const struct class_case class_cases[] = {
	{ "5.1.1", 5 }, { "4.", 4 }, { "2.0.0", 2 }, { "5.anything", 5 },
	{ "3.1.1", 0 }, { "6.6.0", 0 }, { "5", 0 }, { "51.1", 0 }, { "", 0 },
	{ NULL, 0 },
};

START_TEST(test_status_at)
{
	const struct at_case *c = &status_cases[_i];
	size_t got = smtp_status_at(c->text, case_n(c), c->i);

	ck_assert_msg(got == (size_t)c->want, "%s: got %zu want %d", c->label,
	    got, c->want);
	ck_assert_uint_le(got, SMTP_STATUS_LEN_MAX);
	if (got > 0)
		ck_assert_int_eq(smtp_status_class(c->text + c->i),
		    c->text[c->i] - '0');
}
END_TEST

START_TEST(test_reply_at)
{
	const struct at_case *c = &reply_cases[_i];
	int got = smtp_reply_at(c->text, case_n(c), c->i);

	ck_assert_msg(got == c->want, "%s: got %d want %d", c->label, got,
	    c->want);
}
END_TEST

START_TEST(test_reply_code)
{
	const struct at_case *c = &code_cases[_i];
	int got = smtp_reply_code(c->text, case_n(c));

	ck_assert_msg(got == c->want, "%s: got %d want %d", c->label, got,
	    c->want);
}
END_TEST

START_TEST(test_status_class)
{
	const struct class_case *c = &class_cases[_i];

	ck_assert_int_eq(smtp_status_class(c->text), c->want);
}
END_TEST

static Suite *
smtpcode_suite(void)
{
	Suite *s = suite_create("smtpcode");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_status_at, 0,
	    (int)(sizeof(status_cases) / sizeof(status_cases[0])));
	tcase_add_loop_test(tc, test_reply_at, 0,
	    (int)(sizeof(reply_cases) / sizeof(reply_cases[0])));
	tcase_add_loop_test(tc, test_reply_code, 0,
	    (int)(sizeof(code_cases) / sizeof(code_cases[0])));
	tcase_add_loop_test(tc, test_status_class, 0,
	    (int)(sizeof(class_cases) / sizeof(class_cases[0])));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(smtpcode_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
