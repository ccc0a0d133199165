/*
 * check_findings - the bounded findings list keeps every distinct check:
 * a full list drops repeats, never the first finding of a new check, so
 * 300 macro attachments cannot hide the executable that follows them.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "egress/buf.h"
#include "egress/config.h"
#include "egress/findings.h"
#include "egress/policy.h"
#include "egress/scan.h"

START_TEST(test_full_list_keeps_new_ids)
{
	struct findings f;
	size_t i;

	findings_init(&f, 4);
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(findings_add(&f, "attachment.macro", "a%zu.docm", i), 0);
	ck_assert_uint_eq(f.n, 4);
	ck_assert_uint_eq(f.dropped, 6);
	ck_assert_int_eq(findings_add(&f, "attachment.executable", "x.exe"), 0);
	ck_assert(findings_has(&f, "attachment.executable"));
	ck_assert(findings_has(&f, "attachment.macro"));
	ck_assert_uint_eq(f.n, 4);
	ck_assert_uint_eq(f.dropped, 7);
	/* a full list of distinct ids drops the newcomer */
	ck_assert_int_eq(findings_add(&f, "a.one", "-"), 0);
	ck_assert_int_eq(findings_add(&f, "a.two", "-"), 0);
	ck_assert(findings_has(&f, "a.one") && findings_has(&f, "a.two"));
	ck_assert_int_eq(findings_add(&f, "a.three", "-"), 0);
	ck_assert(!findings_has(&f, "a.three"));
	ck_assert(findings_has(&f, "attachment.executable"));
	findings_fini(&f);
}
END_TEST

/* The whole scan: 300 macro documents, then invoice.exe; thresholds off. */
START_TEST(test_scan_executable_after_many)
{
	struct config *cfg = config_default();
	struct envelope env;
	struct verdict v;
	struct scan *s;
	struct buf m;
	int i;

	ck_assert_ptr_nonnull(cfg);
	cfg->score_tag = cfg->score_hold = cfg->score_reject = 0;
	memset(&env, 0, sizeof(env));
	env.mail_from = "a@example.org";
	env.esmtp_size = -1;
	buf_init(&m, 8 << 20);
	ck_assert_int_eq(buf_puts(&m, "From: a@example.org\r\nTo: b@example.net\r\n"
	    "Date: Wed, 02 Dec 2026 10:00:00 +0000\r\nMessage-ID: <m1@example.org>\r\n"
	    "Subject: docs\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=b\r\n\r\n"), BUF_OK);
	for (i = 0; i < 300; i++)
		ck_assert_int_eq(buf_printf(&m, "--b\r\nContent-Type: application/octet-stream\r\n"
		    "Content-Disposition: attachment; filename=\"r%d.docm\"\r\n\r\nx\r\n", i), BUF_OK);
	ck_assert_int_eq(buf_puts(&m, "--b\r\nContent-Type: application/octet-stream\r\n"
	    "Content-Disposition: attachment; filename=\"invoice.exe\"\r\n\r\nx\r\n--b--\r\n"),
	    BUF_OK);
	cfg->limits.mime_parts = 1000;
	ck_assert_ptr_nonnull(s = scan_new(cfg, &env));
	ck_assert_int_eq(scan_raw(s, m.data, m.len), 0);
	ck_assert_int_eq(scan_finish(s), 0);
	ck_assert(findings_has(scan_findings(s), "attachment.extension"));
	policy_decide(cfg, &env, scan_findings(s), 0, &v);
	ck_assert_msg(v.action == ACT_REJECT, "action %s", action_name(v.action));
	scan_free(s);
	buf_fini(&m);
	config_free(cfg);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("findings");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_full_list_keeps_new_ids);
	tcase_add_test(tc, test_scan_executable_after_many);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
