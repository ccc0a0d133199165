/*
 * check_ledger - the ledger's pure half: SipHash-2-4 against the reference
 * vectors, the recipient hash, Message-ID normalisation, the record codec
 * (round trip, and every malformed record refused), the matching rule and
 * the key file format.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "egress/ledger.h"

static const unsigned char key0[LEDGER_KEY_LEN] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
};

/* SipHash-2-4 paper, appendix A: key 00..0f, message 00..(n-1). */
static const struct { size_t len; uint64_t want; } sip_cases[] = {
	{ 0, 0x726fdb47dd0e0e31ULL },
	{ 1, 0x74f839c593dc67fdULL },
	{ 7, 0xab0200f58b01d137ULL },
	{ 8, 0x93f5f5799a932462ULL },
	{ 15, 0xa129ca6149be45e5ULL },
	{ 63, 0x958a324ceb064572ULL },
};

START_TEST(test_siphash)
{
	unsigned char msg[64];
	size_t i;

	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (unsigned char)i;
	ck_assert_msg(ledger_siphash(key0, msg, sip_cases[_i].len) == sip_cases[_i].want,
	    "len %zu: %016llx", sip_cases[_i].len,
	    (unsigned long long)ledger_siphash(key0, msg, sip_cases[_i].len));
}
END_TEST

START_TEST(test_rcpt_hash)
{
	unsigned char k2[LEDGER_KEY_LEN];

	ck_assert(ledger_rcpt_hash(key0, "Bob@Example.ORG") ==
	    ledger_rcpt_hash(key0, "<bob@example.org>"));
	ck_assert(ledger_rcpt_hash(key0, "bob@example.org") !=
	    ledger_rcpt_hash(key0, "bob@example.com"));
	memcpy(k2, key0, sizeof(k2));
	k2[0] ^= 1;
	ck_assert(ledger_rcpt_hash(key0, "bob@example.org") !=
	    ledger_rcpt_hash(k2, "bob@example.org"));
}
END_TEST

static const struct { const char *in; const char *want; } msgid_cases[] = {
	{ "<abc@example.com>", "abc@example.com" },
	{ "  <abc@example.com> (added)", "abc@example.com" },
	{ "abc@example.com", "abc@example.com" },
	{ " \tabc@example.com\r\n", "abc@example.com" },
	{ "<>", NULL },
	{ "", NULL },
	{ "<a b@example.com>", NULL },
	{ "<a\x1b@example.com>", NULL },
	{ "a b", NULL },
};

START_TEST(test_msgid_norm)
{
	char out[LEDGER_MSGID_MAX + 1];
	int rc = ledger_msgid_norm(msgid_cases[_i].in, out, sizeof(out));

	if (msgid_cases[_i].want == NULL) {
		ck_assert_int_eq(rc, -1);
		ck_assert_str_eq(out, "");
	} else {
		ck_assert_int_eq(rc, 0);
		ck_assert_str_eq(out, msgid_cases[_i].want);
	}
}
END_TEST

START_TEST(test_msgid_long)
{
	char in[LEDGER_MSGID_MAX + 10], out[LEDGER_MSGID_MAX + 1];

	memset(in, 'a', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	ck_assert_int_eq(ledger_msgid_norm(in, out, sizeof(out)), -1);
	in[LEDGER_MSGID_MAX] = '\0';
	ck_assert_int_eq(ledger_msgid_norm(in, out, sizeof(out)), 0);
}
END_TEST

static struct ledger_entry ea, eb;
static char rec[LEDGER_REC_MAX];

START_TEST(test_codec)
{
	struct sender_keys k;
	int n, i;

	memset(&k, 0, sizeof(k));
	strcpy(k.env, "env:a@example.com");
	strcpy(k.auth, "auth:alice");
	ledger_entry_init(&ea, "m1@example.com", "4XyzAB", &k, 1764740000,
	    LEDGER_HELD);
	for (i = 0; i < LEDGER_RCPTS_MAX + 5; i++) {
		char a[64];

		snprintf(a, sizeof(a), "r%d@example.org", i);
		ledger_entry_add_rcpt(&ea, key0, a);
	}
	ledger_entry_add_rcpt(&ea, key0, "R0@example.org");	/* already in */
	ck_assert_uint_eq(ea.nrcpt, LEDGER_RCPTS_MAX);
	ck_assert_int_eq(ea.truncated, 1);
	n = ledger_encode(&ea, rec, sizeof(rec));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(ledger_decode(rec, (size_t)n, &eb), 0);
	ck_assert_int_eq(eb.when, 1764740000);
	ck_assert_int_eq(eb.verdict, LEDGER_HELD);
	ck_assert_str_eq(eb.msgid, "m1@example.com");
	ck_assert_str_eq(eb.qid, "4XyzAB");
	ck_assert_str_eq(eb.env, "env:a@example.com");
	ck_assert_str_eq(eb.auth, "auth:alice");
	ck_assert_str_eq(eb.dom, "");
	ck_assert_int_eq(eb.truncated, 1);
	ck_assert_uint_eq(eb.nrcpt, LEDGER_RCPTS_MAX);
	ck_assert(memcmp(ea.rcpt, eb.rcpt, sizeof(ea.rcpt)) == 0);
	/* too small a buffer is a failure, not a truncated record */
	ck_assert_int_eq(ledger_encode(&ea, rec, 100), -1);
	/* a field with a tab cannot be encoded */
	strcpy(ea.qid, "a\tb");
	ck_assert_int_eq(ledger_encode(&ea, rec, sizeof(rec)), -1);
}
END_TEST

static const char *const bad_records[] = {
	"",
	"L1",
	"L2\t1\taccepted\tq\tm@x\t\t\t\t0\t",
	"L1\t1\tsent\tq\tm@x\t\t\t\t0\t",
	"L1\tx1\taccepted\tq\tm@x\t\t\t\t0\t",
	"L1\t\taccepted\tq\tm@x\t\t\t\t0\t",
	"L1\t1\taccepted\tq\tm@x\t\t\t\t2\t",
	"L1\t1\taccepted\tq\tm@x\t\t\t\t0\t0123",
	"L1\t1\taccepted\tq\tm@x\t\t\t\t0\t0123456789abcdeX",
	"L1\t1\taccepted\tq\tm@x\t\t\t\t0\t0123456789ABCDEF",
	"L1\t1\taccepted\tq\tm@x\t\t\t0\t",
	"L1\t1\taccepted\tq\x01\tm@x\t\t\t\t0\t",
};

START_TEST(test_decode_bad)
{
	const char *r = bad_records[_i];

	ck_assert_msg(ledger_decode(r, strlen(r), &eb) == -1, "accepted: %s", r);
}
END_TEST

START_TEST(test_decode_good)
{
	const char *r = "L1\t-5\trejected\t\tx@y\t\t\t\t0\t";

	ck_assert_int_eq(ledger_decode(r, strlen(r), &eb), 0);
	ck_assert_int_eq(eb.when, -5);
	ck_assert_int_eq(eb.verdict, LEDGER_REJECTED);
	ck_assert_uint_eq(eb.nrcpt, 0);
	/* the length given is the end, not a NUL */
	ck_assert_int_eq(ledger_decode(r, strlen(r) - 3, &eb), -1);
}
END_TEST

START_TEST(test_match)
{
	struct sender_keys k;
	uint64_t h = ledger_rcpt_hash(key0, "r@y.test");

	memset(&k, 0, sizeof(k));
	strcpy(k.env, "env:s@x.test");
	ledger_entry_init(&ea, "m@x", "Q", &k, 1, LEDGER_ACCEPTED);
	ledger_entry_add_rcpt(&ea, key0, "r@y.test");
	ck_assert_int_eq(ledger_match(&ea, "env:s@x.test", h), LEDGER_MATCHED);
	ck_assert_int_eq(ledger_match(&ea, NULL, h), LEDGER_MATCHED);
	ck_assert_int_eq(ledger_match(&ea, "env:o@x.test", h), LEDGER_SENDER_MISMATCH);
	ck_assert_int_eq(ledger_match(&ea, "env:s@x.test",
	    ledger_rcpt_hash(key0, "q@y.test")), LEDGER_RCPT_NOT_IN_MESSAGE);
	ea.verdict = LEDGER_REJECTED;
	ck_assert_int_eq(ledger_match(&ea, "env:s@x.test", h), LEDGER_OWN_REJECTION);
	ck_assert_str_eq(ledger_reason_name(LEDGER_RCPT_NOT_IN_MESSAGE),
	    "recipient-not-in-message");
	ck_assert_str_eq(ledger_reason_name(LEDGER__REASONS), "?");
}
END_TEST

START_TEST(test_mark)
{
	char a[LEDGER_MARK_MAX], b[LEDGER_MARK_MAX], c[LEDGER_MARK_MAX];

	ledger_mark(key0, "m@x", "R@y.test", "5.1.1", a);
	ledger_mark(key0, "m@x", "r@y.test", "5.1.1", b);
	ledger_mark(key0, "m@x", "r@y.test", "5.1.2", c);
	ck_assert_uint_eq(strlen(a), 32);
	ck_assert_str_eq(a, b);
	ck_assert_str_ne(a, c);
}
END_TEST

START_TEST(test_key_parse)
{
	unsigned char k[LEDGER_KEY_LEN];
	const char *good = "000102030405060708090a0B0c0d0e0f\n";

	ck_assert_int_eq(ledger_key_parse(good, strlen(good), k), 0);
	ck_assert(memcmp(k, key0, sizeof(k)) == 0);
	ck_assert_int_eq(ledger_key_parse("0001", 4, k), -1);
	ck_assert_int_eq(ledger_key_parse("000102030405060708090a0b0c0d0e0fff", 34, k), -1);
	ck_assert_int_eq(ledger_key_parse("g00102030405060708090a0b0c0d0e0f", 32, k), -1);
}
END_TEST

static Suite *
ledger_suite(void)
{
	Suite *s = suite_create("ledger");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_siphash, 0, sizeof(sip_cases) / sizeof(sip_cases[0]));
	tcase_add_test(tc, test_rcpt_hash);
	tcase_add_loop_test(tc, test_msgid_norm, 0,
	    sizeof(msgid_cases) / sizeof(msgid_cases[0]));
	tcase_add_test(tc, test_msgid_long);
	tcase_add_test(tc, test_codec);
	tcase_add_loop_test(tc, test_decode_bad, 0,
	    sizeof(bad_records) / sizeof(bad_records[0]));
	tcase_add_test(tc, test_decode_good);
	tcase_add_test(tc, test_match);
	tcase_add_test(tc, test_mark);
	tcase_add_test(tc, test_key_parse);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(ledger_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
