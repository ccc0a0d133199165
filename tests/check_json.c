/*
 * check_json - the JSON writer: string escaping and UTF-8 repair byte for
 * byte, documents composed with the object/array calls, the first buf
 * error kept, and misuse aborting.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "egress/buf.h"
#include "egress/json.h"

#define WHOLE	((size_t)-1)	/* n = strlen(in) */
#define FFFD	"\xef\xbf\xbd"

struct str_case {
	const char	*label;
	const char	*in;
	size_t		 n;		/* bytes given, or WHOLE */
	const char	*want;		/* the literal, quotes included */
};

static const struct str_case str_cases[] = {
	{ "empty", "", WHOLE, "\"\"" },
	{ "plain", "a@example.org", WHOLE, "\"a@example.org\"" },
	{ "quote and backslash", "a\"b\\c", WHOLE, "\"a\\\"b\\\\c\"" },
	{ "slash kept", "a/b", WHOLE, "\"a/b\"" },
	{ "LF and TAB", "a\nb\tc", WHOLE, "\"a\\nb\\tc\"" },
	{ "CR", "a\rb", WHOLE, "\"a\\u000db\"" },
	{ "ESC", "\x1b[31m", WHOLE, "\"\\u001b[31m\"" },
	{ "C0 first and last", "\x01\x1f", WHOLE, "\"\\u0001\\u001f\"" },
	{ "NUL inside", "a\0b", 3, "\"a\\u0000b\"" },
	{ "DEL", "\x7f", WHOLE, "\"\\u007f\"" },
	{ "2-byte", "caf\xc3\xa9", WHOLE, "\"caf\xc3\xa9\"" },
	{ "3-byte", "\xe2\x82\xac", WHOLE, "\"\xe2\x82\xac\"" },
	{ "4-byte", "\xf0\x9f\x98\x80", WHOLE, "\"\xf0\x9f\x98\x80\"" },
	{ "U+10FFFF", "\xf4\x8f\xbf\xbf", WHOLE, "\"\xf4\x8f\xbf\xbf\"" },
	{ "U+D7FF", "\xed\x9f\xbf", WHOLE, "\"\xed\x9f\xbf\"" },
	{ "U+E000", "\xee\x80\x80", WHOLE, "\"\xee\x80\x80\"" },
	{ "U+2028", "a\xe2\x80\xa8z", WHOLE, "\"a\\u2028z\"" },
	{ "U+2029", "\xe2\x80\xa9", WHOLE, "\"\\u2029\"" },
	{ "U+2027 kept", "\xe2\x80\xa7", WHOLE, "\"\xe2\x80\xa7\"" },
	{ "overlong C0 80", "\xc0\x80", WHOLE, "\"" FFFD FFFD "\"" },
	{ "overlong C1 BF", "\xc1\xbf", WHOLE, "\"" FFFD FFFD "\"" },
	{ "overlong E0 80 80", "\xe0\x80\x80", WHOLE,
	    "\"" FFFD FFFD FFFD "\"" },
	{ "overlong F0 80 80 80", "\xf0\x80\x80\x80", WHOLE,
	    "\"" FFFD FFFD FFFD FFFD "\"" },
	{ "surrogate ED A0 80", "\xed\xa0\x80", WHOLE,
	    "\"" FFFD FFFD FFFD "\"" },
	{ "surrogate ED BF BF", "\xed\xbf\xbf", WHOLE,
	    "\"" FFFD FFFD FFFD "\"" },
	{ "above U+10FFFF", "\xf4\x90\x80\x80", WHOLE,
	    "\"" FFFD FFFD FFFD FFFD "\"" },
	{ "lead F5", "\xf5\x80", WHOLE, "\"" FFFD FFFD "\"" },
	{ "lead FF", "a\xffz", WHOLE, "\"a" FFFD "z\"" },
	{ "lead FE", "\xfe", WHOLE, "\"" FFFD "\"" },
	{ "stray continuation", "a\x80z", WHOLE, "\"a" FFFD "z\"" },
	{ "two continuations", "\xbf\x80", WHOLE, "\"" FFFD FFFD "\"" },
	{ "2-byte cut at end", "a\xc3", WHOLE, "\"a" FFFD "\"" },
	{ "3-byte cut at end", "\xe2\x82", WHOLE, "\"" FFFD "\"" },
	{ "4-byte cut at end", "\xf0\x9f\x98", WHOLE, "\"" FFFD "\"" },
	{ "3-byte cut by ASCII", "\xe2\x82z", WHOLE, "\"" FFFD "z\"" },
	{ "4-byte cut by a lead", "\xf0\x9f\xc3\xa9", WHOLE,
	    "\"" FFFD "\xc3\xa9\"" },
	{ "cut by a quote", "\xc3\"", WHOLE, "\"" FFFD "\\\"\"" },
	{ "cut by n", "\xc3\xa9", 1, "\"" FFFD "\"" },
	{ "latin-1", "caf\xe9!", WHOLE, "\"caf" FFFD "!\"" },
	{ "mixed", "\x1b\xe2\x80\xa8\xff\xc3\xa9\n", WHOLE,
	    "\"\\u001b\\u2028" FFFD "\xc3\xa9\\n\"" },
};

START_TEST(test_string)
{
	const struct str_case *c = &str_cases[_i];
	size_t n = c->n == WHOLE ? strlen(c->in) : c->n;
	struct buf b;

	buf_init(&b, 0);
	ck_assert_int_eq(json_put_stringn(&b, c->in, n), BUF_OK);
	ck_assert_msg(b.len == strlen(c->want) &&
	    memcmp(b.data, c->want, b.len) == 0, "%s: got [%s] want [%s]",
	    c->label, buf_cstr(&b), c->want);
	buf_fini(&b);
}
END_TEST

START_TEST(test_string_null)
{
	struct buf b;

	buf_init(&b, 0);
	ck_assert_int_eq(json_put_string(&b, NULL), BUF_OK);
	ck_assert_int_eq(json_put_string(&b, "x\xff"), BUF_OK);
	ck_assert_str_eq(buf_cstr(&b), "null\"x" FFFD "\"");
	buf_fini(&b);
}
END_TEST

/* A document as a list of writer calls. */
enum op { END = 0, OB, OE, AB, AE, K, S, I, U, T, F, N, KS, KI, KB };

struct step {
	enum op		 op;
	const char	*s;		/* key or string */
	long long	 v;
};

struct doc_case {
	const char	*label;
	struct step	 steps[16];
	const char	*want;
};

static const struct doc_case doc_cases[] = {
	{ "empty object", { { OB, NULL, 0 }, { OE, NULL, 0 } }, "{}" },
	{ "empty array", { { AB, NULL, 0 }, { AE, NULL, 0 } }, "[]" },
	{ "a scalar", { { S, "x", 0 } }, "\"x\"" },
	{ "null string", { { S, NULL, 0 } }, "null" },
	{ "members", { { OB, NULL, 0 }, { KS, "a", 0 }, { KI, "n", -3 }, { KB, "t", 1 },
	    { KB, "f", 0 }, { K, "z", 0 }, { N, NULL, 0 }, { OE, NULL, 0 } },
	    "{\"a\":\"\",\"n\":-3,\"t\":true,\"f\":false,\"z\":null}" },
	{ "kv_str", { { OB, NULL, 0 }, { KS, "a", 0 }, { OE, NULL, 0 } }, "{\"a\":\"\"}" },
	{ "array items", { { AB, NULL, 0 }, { I, NULL, 1 }, { U, NULL, 2 }, { T, NULL, 0 },
	    { F, NULL, 0 }, { N, NULL, 0 }, { S, "s", 0 }, { AE, NULL, 0 } }, "[1,2,true,false,null,\"s\"]" },
	{ "nested", { { OB, NULL, 0 }, { K, "list", 0 }, { AB, NULL, 0 }, { OB, NULL, 0 }, { KI, "i", 0 },
	    { OE, NULL, 0 }, { OB, NULL, 0 }, { OE, NULL, 0 }, { AB, NULL, 0 }, { AE, NULL, 0 }, { AE, NULL, 0 }, { KS, "after", 0 },
	    { OE, NULL, 0 } },
	    "{\"list\":[{\"i\":0},{},[]],\"after\":\"\"}" },
	{ "escaped key", { { OB, NULL, 0 }, { K, "a\"\n\xff", 0 }, { I, NULL, 7 }, { OE, NULL, 0 } },
	    "{\"a\\\"\\n" FFFD "\":7}" },
	{ "int limits", { { AB, NULL, 0 }, { I, NULL, -9223372036854775807LL - 1 },
	    { I, NULL, 9223372036854775807LL }, { AE, NULL, 0 } },
	    "[-9223372036854775808,9223372036854775807]" },
};

static void
run_steps(struct json *w, const struct step *st)
{
	for (; st->op != END; st++)
		switch (st->op) {
		case OB: json_obj_begin(w); break;
		case OE: json_obj_end(w); break;
		case AB: json_arr_begin(w); break;
		case AE: json_arr_end(w); break;
		case K: json_key(w, st->s); break;
		case S: json_str(w, st->s); break;
		case I: json_int(w, st->v); break;
		case U: json_uint(w, (unsigned long long)st->v); break;
		case T: json_bool(w, 1); break;
		case F: json_bool(w, 0); break;
		case N: json_null(w); break;
		case KS: json_kv_str(w, st->s, st->s ? "" : NULL); break;
		case KI: json_kv_int(w, st->s, st->v); break;
		case KB: json_kv_bool(w, st->s, (int)st->v); break;
		case END: break;
		}
}

START_TEST(test_doc)
{
	const struct doc_case *c = &doc_cases[_i];
	struct json w;
	struct buf b;

	buf_init(&b, 0);
	json_init(&w, &b);
	run_steps(&w, c->steps);
	ck_assert_int_eq(json_finish(&w), BUF_OK);
	ck_assert_msg(strcmp(buf_cstr(&b), c->want) == 0,
	    "%s: got [%s] want [%s]", c->label, buf_cstr(&b), c->want);
	buf_fini(&b);
}
END_TEST

/* What the buf held before the document stays; nothing is read back. */
START_TEST(test_prefix_and_reset)
{
	struct json w;
	struct buf b;

	buf_init(&b, 0);
	ck_assert_int_eq(buf_puts(&b, "x="), BUF_OK);
	json_init(&w, &b);
	json_arr_begin(&w);
	json_int(&w, 1);
	ck_assert_str_eq(buf_cstr(&b), "x=[1");
	buf_reset(&b);
	json_int(&w, 2);
	json_arr_end(&w);
	ck_assert_int_eq(json_finish(&w), BUF_OK);
	ck_assert_str_eq(buf_cstr(&b), ",2]");
	buf_fini(&b);
}
END_TEST

/* The first buf error is kept; later calls write nothing. */
START_TEST(test_limit)
{
	struct json w;
	struct buf b;

	buf_init(&b, 8);
	json_init(&w, &b);
	json_obj_begin(&w);
	json_kv_str(&w, "key", "a long value");
	ck_assert_int_eq(json_status(&w), BUF_ERR_LIMIT);
	json_kv_int(&w, "n", 1);
	json_obj_end(&w);
	ck_assert_int_eq(json_finish(&w), BUF_ERR_LIMIT);
	ck_assert_uint_le(b.len, 8);
	buf_fini(&b);
}
END_TEST

static const struct step misuse_cases[][8] = {
	{ { OB, NULL, 0 }, { S, "value without key", 0 } },
	{ { AB, NULL, 0 }, { K, "key in an array", 0 } },
	{ { K, "key at top level", 0 } },
	{ { OB, NULL, 0 }, { K, "a", 0 }, { K, "b", 0 } },
	{ { OB, NULL, 0 }, { AE, NULL, 0 } },
	{ { AB, NULL, 0 }, { OE, NULL, 0 } },
	{ { OE, NULL, 0 } },
	{ { OB, NULL, 0 }, { K, "a", 0 }, { OE, NULL, 0 } },
	{ { S, "one", 0 }, { S, "two", 0 } },
	{ { OB, NULL, 0 }, { OE, NULL, 0 }, { AB, NULL, 0 } },
};

START_TEST(test_misuse)
{
	struct json w;
	struct buf b;

	buf_init(&b, 0);
	json_init(&w, &b);
	run_steps(&w, misuse_cases[_i]);
	buf_fini(&b);
}
END_TEST

START_TEST(test_finish_unfinished)
{
	struct json w;
	struct buf b;

	buf_init(&b, 0);
	json_init(&w, &b);
	json_obj_begin(&w);
	ck_assert_int_eq(json_finish(&w), BUF_OK);	/* not reached */
}
END_TEST

START_TEST(test_too_deep)
{
	struct json w;
	struct buf b;
	int i;

	buf_init(&b, 0);
	json_init(&w, &b);
	for (i = 0; i < JSON_DEPTH_MAX; i++)
		json_arr_begin(&w);
	ck_assert_int_eq(json_status(&w), BUF_OK);
	json_arr_begin(&w);
}
END_TEST

#define NELEM(a)	((int)(sizeof(a) / sizeof((a)[0])))

static Suite *
json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("json");

	tcase_add_loop_test(tc, test_string, 0, NELEM(str_cases));
	tcase_add_test(tc, test_string_null);
	tcase_add_loop_test(tc, test_doc, 0, NELEM(doc_cases));
	tcase_add_test(tc, test_prefix_and_reset);
	tcase_add_test(tc, test_limit);
	tcase_add_loop_test_raise_signal(tc, test_misuse, SIGABRT, 0,
	    NELEM(misuse_cases));
	tcase_add_test_raise_signal(tc, test_finish_unfinished, SIGABRT);
	tcase_add_test_raise_signal(tc, test_too_deep, SIGABRT);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(json_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
