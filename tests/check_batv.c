/*
 * check_batv - prvs tags: what batv_sign writes, that batv_check accepts
 * it for `validity` days and no longer, refuses every altered tag, and
 * gives back the original address; the `batv` section's errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "egress/batv.h"
#include "egress/cfg.h"

static const unsigned char key[LEDGER_KEY_LEN] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16
};
#define TODAY	20425LL		/* 2025-12-03 in days since the epoch */

START_TEST(test_sign_form)
{
	char t[BATV_ADDR_MAX];

	ck_assert_int_eq(batv_sign(key, 3, TODAY, 7, "Alice@Example.ORG", t, sizeof(t)), 0);
	/* prvs=K DDD HHHHHH = address; DDD the last day, mod 1000 */
	ck_assert_uint_eq(strlen(t), strlen("prvs=3432abcdef=Alice@Example.ORG"));
	ck_assert(strncmp(t, "prvs=3432", 9) == 0);
	ck_assert_str_eq(t + 16, "Alice@Example.ORG");
	ck_assert_int_eq(batv_sign(key, 3, TODAY, 7, "no-at-sign", t, sizeof(t)), -1);
	ck_assert_int_eq(batv_sign(key, 3, TODAY, 7, "a@b", t, 10), -1);
	ck_assert_int_eq(batv_sign(key, 10, TODAY, 7, "a@b", t, sizeof(t)), -1);
}
END_TEST

/* Signed on day TODAY with validity 7: checked on day TODAY + _i. */
START_TEST(test_lifetime)
{
	char t[BATV_ADDR_MAX], orig[BATV_ADDR_MAX];
	enum batv_result r;

	ck_assert_int_eq(batv_sign(key, 0, TODAY, 7, "a@example.org", t, sizeof(t)), 0);
	r = batv_check(key, TODAY + _i, 7, t, orig, sizeof(orig));
	ck_assert_str_eq(orig, "a@example.org");
	if (_i <= 7)
		ck_assert_int_eq(r, BATV_VALID);
	else
		ck_assert_int_eq(r, BATV_EXPIRED);
}
END_TEST

START_TEST(test_across_1000)
{
	char t[BATV_ADDR_MAX];

	/* the day number wraps: signed on day 998, valid on day 1004 */
	ck_assert_int_eq(batv_sign(key, 0, 20998, 7, "a@example.org", t, sizeof(t)), 0);
	ck_assert_int_eq(batv_check(key, 21004, 7, t, NULL, 0), BATV_VALID);
	ck_assert_int_eq(batv_check(key, 21006, 7, t, NULL, 0), BATV_EXPIRED);
	/* the day before it was made is out of its range too */
	ck_assert_int_eq(batv_check(key, 20996, 7, t, NULL, 0), BATV_EXPIRED);
}
END_TEST

START_TEST(test_altered)
{
	char t[BATV_ADDR_MAX], u[BATV_ADDR_MAX];
	unsigned char k2[LEDGER_KEY_LEN];
	size_t i;

	ck_assert_int_eq(batv_sign(key, 1, TODAY, 7, "a@example.org", t, sizeof(t)), 0);
	/* the local part and domain compare case-insensitively */
	snprintf(u, sizeof(u), "%.16sA@EXAMPLE.org", t);
	ck_assert_int_eq(batv_check(key, TODAY, 7, u, NULL, 0), BATV_VALID);
	/* every character of the tag, changed, is refused */
	for (i = 5; i < 15; i++) {
		snprintf(u, sizeof(u), "%s", t);
		u[i] = u[i] == '0' ? '1' : '0';
		ck_assert_msg(batv_check(key, TODAY, 7, u, NULL, 0) != BATV_VALID,
		    "changed at %zu: %s", i, u);
	}
	/* another address under the same tag */
	snprintf(u, sizeof(u), "%.16sb@example.org", t);
	ck_assert_int_eq(batv_check(key, TODAY, 7, u, NULL, 0), BATV_BAD);
	/* another key */
	memcpy(k2, key, sizeof(k2));
	k2[5] ^= 0x40;
	ck_assert_int_eq(batv_check(k2, TODAY, 7, t, NULL, 0), BATV_BAD);
}
END_TEST

static const char *const malformed[] = {
	"prvs=", "prvs=1234abcdef", "prvs=1234abcdef=", "prvs=1234abcdef=nodomain",
	"prvs=x234abcdef=a@b", "prvs=1234abcdeg=a@b", "prvs=1234abcdef+a@b",
	"prvs=123abcdef=a@b",
};

START_TEST(test_malformed)
{
	ck_assert_int_eq(batv_check(key, TODAY, 7, malformed[_i], NULL, 0), BATV_BAD);
}
END_TEST

START_TEST(test_untagged)
{
	char orig[BATV_ADDR_MAX];

	ck_assert_int_eq(batv_check(key, TODAY, 7, "a@example.org", orig, sizeof(orig)),
	    BATV_UNTAGGED);
	ck_assert_str_eq(orig, "a@example.org");
	ck_assert_int_eq(batv_check(key, TODAY, 7, "", NULL, 0), BATV_UNTAGGED);
	ck_assert_int_eq(batv_check(key, TODAY, 7, NULL, NULL, 0), BATV_UNTAGGED);
}
END_TEST

/* The section: a key file of 32 hex digits, senders when enabled. */
static int
load(const char *text, struct batv_conf *c, struct cfg_errors *e)
{
	config_t cfg;
	int rc;

	config_init(&cfg);
	ck_assert_int_eq(config_read_string(&cfg, text), CONFIG_TRUE);
	batv_conf_default(c);
	rc = batv_config_load(c, config_lookup(&cfg, "batv"), e);
	config_destroy(&cfg);
	return rc;
}

START_TEST(test_config)
{
	char path[] = "/tmp/egress-batv-XXXXXX", text[512];
	struct cfg_errors e;
	struct batv_conf c;
	FILE *fp;
	int fd;

	ck_assert_int_ge(fd = mkstemp(path), 0);
	ck_assert_ptr_nonnull(fp = fdopen(fd, "w"));
	fputs("0102030405060708090a0b0c0d0e0f10\n", fp);
	fclose(fp);
	cfg_errors_init(&e, "t.conf");
	snprintf(text, sizeof(text), "batv = { enabled = true; key_file = \"%s\";\n"
	    "  senders = [ \"Example.ORG\" ]; validity = \"3d\"; key_number = 2; };", path);
	ck_assert_int_eq(load(text, &c, &e), 0);
	ck_assert(memcmp(c.key, key, sizeof(key)) == 0);
	ck_assert_int_eq(c.validity, 3);
	ck_assert_int_eq(c.keynum, 2);
	ck_assert(batv_is_sender(&c, "x@example.org"));
	ck_assert(!batv_is_sender(&c, "x@example.com"));
	batv_conf_fini(&c);
	/* enabled without senders; a key file that is not a key; none at all */
	ck_assert_int_eq(load("batv = { enabled = true; key_file = \"/nonexistent/k\";\n"
	    "  senders = [ ]; };", &c, &e), -1);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&e.text), "t.conf:2: batv.senders:"));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&e.text), "t.conf:1: batv.key_file: /nonexistent/k"));
	batv_conf_fini(&c);
	fp = fopen(path, "w");
	fputs("not a key\n", fp);
	fclose(fp);
	snprintf(text, sizeof(text), "batv = { enabled = true;\n key_file = \"%s\";"
	    " senders = [ \"a.example\" ]; };", path);
	ck_assert_int_eq(load(text, &c, &e), -1);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&e.text), "t.conf:2: batv.key_file:"));
	batv_conf_fini(&c);
	ck_assert_int_eq(load("batv = { validity = \"60d\"; };", &c, &e), -1);
	batv_conf_fini(&c);
	/* off by default, and off needs nothing */
	ck_assert_int_eq(load("batv = { senders = [ \"a.example\" ]; };", &c, &e), 0);
	ck_assert_int_eq(c.enabled, 0);
	batv_conf_fini(&c);
	cfg_errors_fini(&e);
	unlink(path);
}
END_TEST

static Suite *
batv_suite(void)
{
	Suite *s = suite_create("batv");
	TCase *tc = tcase_create("prvs");

	tcase_add_test(tc, test_sign_form);
	tcase_add_loop_test(tc, test_lifetime, 0, 12);
	tcase_add_test(tc, test_across_1000);
	tcase_add_test(tc, test_altered);
	tcase_add_loop_test(tc, test_malformed, 0, sizeof(malformed) / sizeof(malformed[0]));
	tcase_add_test(tc, test_untagged);
	tcase_add_test(tc, test_config);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(batv_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
