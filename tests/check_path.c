/* check_path - the address of a MAIL FROM / RCPT TO argument (path.h). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "egress/path.h"

static const struct {
	const char	*label;
	const char	*in;
	enum path_kind	 want;
	const char	*out;
} cases[] = {
	{ "null sender", "<>", PATH_NULL, "" },
	{ "plain", "<a@example.org>", PATH_OK, "a@example.org" },
	{ "bare mailbox", "a@example.org", PATH_OK, "a@example.org" },
	{ "junk after the path", "<a@example.org>junk", PATH_BAD, "<a@example.org>junk" },
	{ "space before the null sender", " <>", PATH_BAD, " <>" },
	{ "nested brackets", "<<>>", PATH_BAD, "<<>>" },
	{ "quoted > in the local part", "<\"a>b\"@example.org>", PATH_OK, "\"a>b\"@example.org" },
	{ "quoted pair", "<\"a\\\"b\"@example.org>", PATH_OK, "\"a\\\"b\"@example.org" },
	{ "open quote", "<\"a>@example.org>", PATH_BAD, "<\"a>@example.org>" },
	{ "source route", "<@r1.example,@r2.example:a@example.org>", PATH_OK, "a@example.org" },
	{ "empty route target", "<@r1.example:>", PATH_BAD, "<@r1.example:>" },
	{ "no closing bracket", "<a@example.org", PATH_BAD, "<a@example.org" },
	{ "space inside", "<a @example.org>", PATH_BAD, "<a @example.org>" },
	{ "CRLF inside", "<a@example.org>\r\nX", PATH_BAD, "<a@example.org>\r\nX" },
	{ "empty", "", PATH_BAD, "" },
	{ "bare with bracket", "a>@example.org", PATH_BAD, "a>@example.org" },
};

START_TEST(test_path)
{
	char out[256];

	ck_assert_msg(path_parse(cases[_i].in, out, sizeof(out)) == cases[_i].want,
	    "%s: kind", cases[_i].label);
	ck_assert_msg(strcmp(out, cases[_i].out) == 0, "%s: got \"%s\"",
	    cases[_i].label, out);
}
END_TEST

START_TEST(test_path_cut)
{
	char out[8];

	ck_assert_int_eq(path_parse("<abcdefghij@example.org>", out, sizeof(out)), PATH_OK);
	ck_assert_str_eq(out, "abcdefg");
	ck_assert_int_eq(path_parse(NULL, out, sizeof(out)), PATH_BAD);
	ck_assert_str_eq(out, "");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("path");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_path, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_path_cut);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
