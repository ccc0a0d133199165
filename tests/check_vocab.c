/*
 * check_vocab - the classification vocabulary: every reason of DESIGN.md
 * with its category and whether it is permanent by default, the
 * categories, unknown names, and the canonical pointers lookups return.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "egress/vocab.h"

struct reason_case {
	const char	*reason;
	const char	*category;
	int		 permanent;
};

/* DESIGN.md, "Bounce classification vocabulary", every row. */
static const struct reason_case reason_cases[] = {
	{ "userunknown", "recipient", 1 },
	{ "hostunknown", "recipient", 1 },
	{ "hasmoved", "recipient", 1 },
	{ "suspend", "recipient", 0 },
	{ "notaccept", "recipient", 1 },
	{ "mailboxfull", "mailbox", 0 },
	{ "exceedlimit", "mailbox", 0 },
	{ "blocked", "reputation", 0 },
	{ "badreputation", "reputation", 0 },
	{ "requireptr", "reputation", 0 },
	{ "authfailure", "authentication", 0 },
	{ "spamdetected", "content", 0 },
	{ "virusdetected", "content", 0 },
	{ "contenterror", "content", 0 },
	{ "notcompliantrfc", "content", 0 },
	{ "mesgtoobig", "content", 0 },
	{ "filtered", "content", 0 },
	{ "policyviolation", "policy", 0 },
	{ "securityerror", "policy", 0 },
	{ "rejected", "policy", 0 },
	{ "norelaying", "policy", 0 },
	{ "speeding", "rate", 0 },
	{ "toomanyconn", "rate", 0 },
	{ "expired", "transient", 0 },
	{ "networkerror", "transient", 0 },
	{ "systemerror", "transient", 0 },
	{ "systemfull", "transient", 0 },
	{ "mailererror", "transient", 0 },
	{ "syntaxerror", "transient", 0 },
	{ "failedstarttls", "transient", 0 },
	{ "onhold", "transient", 0 },
	{ "undefined", "transient", 0 },
	{ "delivered", "report", 0 },
	{ "vacation", "report", 0 },
	{ "feedback", "report", 0 },
};
#define NREASON_CASES	(sizeof(reason_cases) / sizeof(reason_cases[0]))

struct category_case {
	const char	*category;
	int		 permanent;
};

static const struct category_case category_cases[] = {
	{ "recipient", 1 }, { "mailbox", 0 }, { "reputation", 0 },
	{ "authentication", 0 }, { "content", 0 }, { "policy", 0 },
	{ "rate", 0 }, { "transient", 0 }, { "report", 0 },
};

/* Not names: other spellings, near misses, the empty string. */
static const char *const unknown_names[] = {
	"UserUnknown", "userunknown ", " userunknown", "user_unknown",
	"Recipient", "hard", "none", "", "nosuchreason",
};

START_TEST(test_reason)
{
	const struct reason_case *c = &reason_cases[_i];
	char copy[64];

	ck_assert_str_eq(vocab_reason_category(c->reason), c->category);
	ck_assert_int_eq(vocab_reason_is_permanent(c->reason), c->permanent);
	/* the canonical string, whatever copy the caller holds */
	snprintf(copy, sizeof(copy), "%s", c->reason);
	ck_assert_ptr_eq(vocab_reason_lookup(copy), vocab_reason_lookup(c->reason));
	ck_assert_str_eq(vocab_reason_lookup(copy), c->reason);
	ck_assert_ptr_eq(vocab_reason_category(copy),
	    vocab_category_lookup(c->category));
	/* a permanent reason lives in a permanent category */
	if (c->permanent)
		ck_assert(vocab_category_is_permanent(c->category));
}
END_TEST

START_TEST(test_category)
{
	const struct category_case *c = &category_cases[_i];

	ck_assert(vocab_category_is_known(c->category));
	ck_assert_str_eq(vocab_category_lookup(c->category), c->category);
	ck_assert_int_eq(vocab_category_is_permanent(c->category), c->permanent);
}
END_TEST

START_TEST(test_unknown)
{
	const char *s = unknown_names[_i];

	ck_assert_ptr_null(vocab_reason_lookup(s));
	ck_assert_ptr_null(vocab_reason_category(s));
	ck_assert_int_eq(vocab_reason_is_permanent(s), 0);
	ck_assert_ptr_null(vocab_category_lookup(s));
	ck_assert_int_eq(vocab_category_is_known(s), 0);
	ck_assert_int_eq(vocab_category_is_permanent(s), 0);
}
END_TEST

START_TEST(test_null)
{
	ck_assert_ptr_null(vocab_reason_lookup(NULL));
	ck_assert_ptr_null(vocab_reason_category(NULL));
	ck_assert_int_eq(vocab_reason_is_permanent(NULL), 0);
	ck_assert_ptr_null(vocab_category_lookup(NULL));
	ck_assert_int_eq(vocab_category_is_known(NULL), 0);
	ck_assert_int_eq(vocab_category_is_permanent(NULL), 0);
}
END_TEST

/* The table here and the module's hold the same reasons. */
START_TEST(test_enumeration)
{
	size_t i, j;

	ck_assert_uint_eq(vocab_reason_count(), NREASON_CASES);
	for (i = 0; i < vocab_reason_count(); i++) {
		const char *r = vocab_reason_at(i);

		ck_assert_ptr_eq(vocab_reason_lookup(r), r);
		for (j = 0; j < NREASON_CASES; j++)
			if (strcmp(reason_cases[j].reason, r) == 0)
				break;
		ck_assert_msg(j < NREASON_CASES, "%s is not in DESIGN.md", r);
	}
	ck_assert_ptr_null(vocab_reason_at(vocab_reason_count()));
}
END_TEST

static Suite *
vocab_suite(void)
{
	Suite *s = suite_create("vocab");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_reason, 0, (int)NREASON_CASES);
	tcase_add_loop_test(tc, test_category, 0,
	    (int)(sizeof(category_cases) / sizeof(category_cases[0])));
	tcase_add_loop_test(tc, test_unknown, 0,
	    (int)(sizeof(unknown_names) / sizeof(unknown_names[0])));
	tcase_add_test(tc, test_null);
	tcase_add_test(tc, test_enumeration);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(vocab_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
