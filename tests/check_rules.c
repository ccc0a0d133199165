/*
 * check_rules - the content config section and operator PCRE2 rules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <libconfig.h>

#include "egress/config.h"
#include "egress/content.h"

static const size_t chunk_sizes[] = { 1, 2, 3, 7, 64, 4096, 0 /* whole */ };
#define NCHUNK (sizeof(chunk_sizes) / sizeof(chunk_sizes[0]))

static struct limits lim;

static void
lim_init(void)
{
	memset(&lim, 0, sizeof(lim));
	lim.urls = 200;
	lim.pcre2_match_limit = 100000;
	lim.pcre2_depth_limit = 5000;
	lim.pcre2_heap_limit = 20 * 1024;
}

/*
 * Load `text` (a whole config file holding a content section) into cc.
 * Returns the error count; the error text goes to errbuf.
 */
static int
load(const char *text, struct content_config *cc, char *errbuf, size_t errsz)
{
	config_t lc;
	struct cfg_errors e;
	int n;

	lim_init();
	config_init(&lc);
	ck_assert_msg(config_read_string(&lc, text) == CONFIG_TRUE, "syntax: %s",
	    config_error_text(&lc));
	cfg_errors_init(&e, "test.conf");
	ck_assert_int_eq(content_config_defaults(cc), 0);
	(void)content_config_load(cc, config_lookup(&lc, "content"), SRCDIR "/conf",
	    &lim, &e);
	n = e.count;
	snprintf(errbuf, errsz, "%s", buf_cstr(&e.text));
	cfg_errors_fini(&e);
	config_destroy(&lc);
	return n;
}

/* ---- config keys ---- */

START_TEST(test_defaults)
{
	struct content_config cc;
	char err[2048];

	ck_assert_int_eq(load("content = { };", &cc, err, sizeof(err)), 0);
	ck_assert(attach_name_dangerous(&cc, "a.exe"));
	ck_assert(attach_name_macro(&cc, "a.docm"));
	ck_assert(cc.nshorteners > 0);
	ck_assert_ptr_nonnull(cc.psl);
	ck_assert_uint_eq(cc.nrules, 0);
	content_config_fini(&cc);
}
END_TEST

START_TEST(test_keys)
{
	struct content_config cc;
	char err[2048];

	ck_assert_int_eq(load("content = {\n"
	    " shorteners_file = \"shorteners.txt\";\n"
	    " attachment_extensions = [ \".EXE\", \"foo\" ];\n"
	    " macro_extensions = [ \"bar\" ];\n"
	    " attachment_max_size = \"10M\";\n"
	    " subject_caps_ratio = 0.5;\n"
	    " subject_min_length = 4;\n"
	    " subject_punct_run = 2;\n"
	    " subject_punct_ratio = 0.3;\n"
	    " image_only_text_min = 5;\n"
	    "};", &cc, err, sizeof(err)), 0);
	ck_assert(attach_name_dangerous(&cc, "x.foo"));
	ck_assert(attach_name_dangerous(&cc, "x.exe"));
	ck_assert(!attach_name_dangerous(&cc, "x.scr"));
	ck_assert(attach_name_macro(&cc, "x.bar"));
	ck_assert(!attach_name_macro(&cc, "x.docm"));
	ck_assert_int_eq(cc.attachment_max_size, 10 * 1024 * 1024);
	ck_assert(cc.subject_caps_ratio == 0.5);
	ck_assert_int_eq(cc.subject_min_length, 4);
	ck_assert_int_eq(cc.subject_punct_run, 2);
	ck_assert_int_eq(cc.image_only_text_min, 5);
	ck_assert(cc.nshorteners > 20);
	content_config_fini(&cc);
}
END_TEST

START_TEST(test_shorteners_off)
{
	struct content_config cc;
	char err[2048];

	ck_assert_int_eq(load("content = { shorteners_file = \"\"; };", &cc, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(cc.nshorteners, 0);
	content_config_fini(&cc);
}
END_TEST

static const struct {
	const char	*label;
	const char	*conf;
	const char	*want;		/* substring of the error text */
} bad_cases[] = {
	{ "unknown key", "content = { shortener_file = \"x\"; };",
	  "test.conf:1: content.shortener_file: unknown key" },
	{ "missing file", "content = { shorteners_file = \"/nonexistent/s.txt\"; };",
	  "content.shorteners_file: /nonexistent/s.txt: No such file" },
	{ "ratio range", "content = { subject_caps_ratio = 1.5; };",
	  "subject_caps_ratio: 1.5 is not between 0 and 1" },
	{ "ratio type", "content = { subject_caps_ratio = \"high\"; };",
	  "subject_caps_ratio: expected a number" },
	{ "extension with dot", "content = { attachment_extensions = [ \"tar.gz\" ]; };",
	  "is not a file name extension" },
	{ "bad pattern", "content = {\n rules = ( { id = \"paren\"; target = \"body\";\n"
	  "   pattern = \"abc(def\"; } );\n};",
	  "test.conf:3: content.rules[0].pattern: rule rule.paren: missing closing "
	  "parenthesis at offset 7" },
	{ "bad target", "content = { rules = ( { id = \"t\"; target = \"headers\";"
	  " pattern = \"x\"; } ); };", "rule rule.t: \"headers\" is not header:NAME" },
	{ "bad flags", "content = { rules = ( { id = \"f\"; target = \"url\";"
	  " pattern = \"x\"; flags = \"iq\"; } ); };", "flags are i, m, s, x, u" },
	{ "bad action", "content = { rules = ( { id = \"a\"; target = \"url\";"
	  " pattern = \"x\"; action = \"drop\"; } ); };",
	  "rule rule.a: unknown action \"drop\"" },
	{ "bad id", "content = { rules = ( { id = \"has space\"; target = \"url\";"
	  " pattern = \"x\"; } ); };", "content.rules[0].id: \"has space\"" },
	{ "missing pattern", "content = { rules = ( { id = \"m\"; target = \"url\"; } ); };",
	  "content.rules[0]: rule m without \"pattern\"" },
	{ "duplicate id", "content = { rules = ( { id = \"d\"; target = \"url\";"
	  " pattern = \"x\"; }, { id = \"d\"; target = \"body\"; pattern = \"y\"; } ); };",
	  "rule rule.d defined twice" },
	{ "unknown rule key", "content = { rules = ( { id = \"k\"; target = \"url\";"
	  " pattern = \"x\"; weight = 3; } ); };", "weight: unknown key" },
	{ "score range", "content = { rules = ( { id = \"s\"; target = \"url\";"
	  " pattern = \"x\"; score = 5000; } ); };", "out of range" },
};

START_TEST(test_bad)
{
	struct content_config cc;
	char err[4096];
	int n = load(bad_cases[_i].conf, &cc, err, sizeof(err));

	ck_assert_msg(n > 0, "%s: no error", bad_cases[_i].label);
	ck_assert_msg(strstr(err, bad_cases[_i].want) != NULL, "%s: got %s",
	    bad_cases[_i].label, err);
	content_config_fini(&cc);
}
END_TEST

/* ---- rules ---- */

static const char rules_conf[] =
    "content = { rules = (\n"
    " { id = \"mailer\"; target = \"header:X-Mailer\"; pattern = \"^BulkBlaster\";"
    "   flags = \"i\"; score = 7; action = \"hold\"; },\n"
    " { id = \"subj\"; target = \"subject\"; pattern = \"free\\\\s+money\"; flags = \"i\"; score = 3; },\n"
    " { id = \"crypto\"; target = \"body\"; pattern = \"wallet seed phrase\"; score = 4; },\n"
    " { id = \"multi\"; target = \"body\"; pattern = \"^unsubscribe$\"; flags = \"mi\"; },\n"
    " { id = \"tracker\"; target = \"url\"; pattern = \"^https?://[^/]*\\\\.tk(/|$)\"; },\n"
    " { id = \"zipname\"; target = \"attachment_name\"; pattern = \"\\\\.zip$\"; flags = \"i\"; },\n"
    " { id = \"ext\"; target = \"body\"; pattern = \"a b\"; flags = \"x\"; }\n"
    "); };";

START_TEST(test_lookup)
{
	struct content_config cc;
	const struct content_rule *r;
	char err[2048];

	ck_assert_int_eq(load(rules_conf, &cc, err, sizeof(err)), 0);
	ck_assert_uint_eq(cc.nrules, 7);
	ck_assert_ptr_nonnull(r = content_rule_lookup(&cc, "rule.mailer"));
	ck_assert_int_eq(r->score, 7);
	ck_assert_int_eq(r->has_action, 1);
	ck_assert_int_eq(r->action, ACT_HOLD);
	ck_assert_str_eq(r->header, "X-Mailer");
	ck_assert_ptr_nonnull(r = content_rule_lookup(&cc, "rule.subj"));
	ck_assert_int_eq(r->has_action, 0);
	ck_assert_ptr_null(content_rule_lookup(&cc, "mailer"));
	ck_assert_ptr_null(content_rule_lookup(&cc, "rule.none"));
	content_config_fini(&cc);
}
END_TEST

static const struct {
	const char		*label;
	enum content_target	 target;
	const char		*header;
	const char		*text;
	const char		*want;	/* finding id or NULL */
} match_cases[] = {
	{ "header hit", TARGET_HEADER, "x-mailer", "bulkblaster 2.0", "rule.mailer" },
	{ "header other name", TARGET_HEADER, "User-Agent", "BulkBlaster", NULL },
	{ "header anchored miss", TARGET_HEADER, "X-Mailer", "not BulkBlaster", NULL },
	{ "subject hit", TARGET_SUBJECT, NULL, "Get FREE   money now", "rule.subj" },
	{ "subject miss", TARGET_SUBJECT, NULL, "free lunch", NULL },
	{ "url hit", TARGET_URL, NULL, "http://win.prize.tk/claim", "rule.tracker" },
	{ "url miss", TARGET_URL, NULL, "http://win.tkx.example/", NULL },
	{ "name hit", TARGET_ATTACHMENT_NAME, NULL, "Files.ZIP", "rule.zipname" },
	{ "name miss", TARGET_ATTACHMENT_NAME, NULL, "zip.txt", NULL },
	{ "body multiline hit", TARGET_BODY, NULL, "hello\nUnsubscribe\nbye", "rule.multi" },
	{ "body extended hit", TARGET_BODY, NULL, "xxabyy", "rule.ext" },
	{ "body miss", TARGET_BODY, NULL, "nothing to see", NULL },
	{ "subject rule not on body", TARGET_BODY, NULL, "free money", NULL },
};

START_TEST(test_match)
{
	struct content_config cc;
	struct findings f;
	struct rule_matcher *m;
	char err[2048];
	const char *t = match_cases[_i].text;

	ck_assert_int_eq(load(rules_conf, &cc, err, sizeof(err)), 0);
	findings_init(&f, 0);
	ck_assert_ptr_nonnull(m = rule_matcher_new(&cc, &f));
	ck_assert_int_eq(rule_match_text(m, match_cases[_i].target,
	    match_cases[_i].header, t, strlen(t)), 0);
	/* a second match of the same rule does not add a finding */
	ck_assert_int_eq(rule_match_text(m, match_cases[_i].target,
	    match_cases[_i].header, t, strlen(t)), 0);
	if (match_cases[_i].want == NULL)
		ck_assert_msg(f.n == 0, "%s: %s", match_cases[_i].label,
		    f.n ? f.v[0].id : "");
	else {
		ck_assert_uint_eq(f.n, 1);
		ck_assert_str_eq(f.v[0].id, match_cases[_i].want);
		ck_assert_str_eq(f.v[0].detail, match_cases[_i].want + 5);
	}
	rule_matcher_free(m);
	findings_fini(&f);
	content_config_fini(&cc);
}
END_TEST

/* Body text streamed in chunks: a phrase at any offset, across windows. */
static int
body_hits(struct content_config *cc, const char *text, size_t n, size_t chunk)
{
	struct findings f;
	struct rule_matcher *m;
	size_t i;
	int hit;

	findings_init(&f, 0);
	ck_assert_ptr_nonnull(m = rule_matcher_new(cc, &f));
	if (chunk == 0)
		chunk = n;
	for (i = 0; i < n; i += chunk)
		ck_assert_int_eq(rule_body_feed(m, text + i,
		    n - i < chunk ? n - i : chunk), 0);
	ck_assert_int_eq(rule_body_end(m), 0);
	hit = findings_has(&f, "rule.crypto");
	rule_matcher_free(m);
	findings_fini(&f);
	return hit;
}

START_TEST(test_body_windows)
{
	static const char phrase[] = "wallet seed phrase";
	static const size_t offsets[] = { 0, 100, CONTENT_RULE_WINDOW - 10,
	    CONTENT_RULE_WINDOW - 1, CONTENT_RULE_WINDOW,
	    2 * CONTENT_RULE_WINDOW - CONTENT_RULE_OVERLAP - 5,
	    3 * CONTENT_RULE_WINDOW };
	struct content_config cc;
	char err[2048], *text;
	size_t n = 4 * CONTENT_RULE_WINDOW, o, k;

	ck_assert_int_eq(load(rules_conf, &cc, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(text = malloc(n));
	for (o = 0; o < sizeof(offsets) / sizeof(offsets[0]); o++) {
		memset(text, '.', n);
		memcpy(text + offsets[o], phrase, sizeof(phrase) - 1);
		for (k = 0; k < NCHUNK; k++)
			ck_assert_msg(body_hits(&cc, text, n, chunk_sizes[k]),
			    "offset %zu chunk %zu", offsets[o], chunk_sizes[k]);
	}
	memset(text, '.', n);
	for (k = 0; k < NCHUNK; k++)
		ck_assert(!body_hits(&cc, text, n, chunk_sizes[k]));
	free(text);
	content_config_fini(&cc);
}
END_TEST

START_TEST(test_match_limit)
{
	struct content_config cc;
	struct findings f;
	struct rule_matcher *m;
	char err[2048], text[64];

	ck_assert_int_eq(load("content = { rules = ( { id = \"slow\"; "
	    "target = \"subject\"; pattern = \"^(a+)+$\"; } ); };", &cc, err,
	    sizeof(err)), 0);
	memset(text, 'a', sizeof(text) - 2);
	text[sizeof(text) - 2] = 'b';
	text[sizeof(text) - 1] = '\0';
	findings_init(&f, 0);
	ck_assert_ptr_nonnull(m = rule_matcher_new(&cc, &f));
	ck_assert_int_eq(rule_match_text(m, TARGET_SUBJECT, NULL, text,
	    strlen(text)), 0);
	ck_assert_uint_eq(f.n, 1);
	ck_assert_str_eq(f.v[0].id, "content.rule_limit");
	ck_assert_str_eq(f.v[0].detail, "slow");
	ck_assert_uint_eq(rule_matcher_limit_hits(m), 1);
	/* once per message */
	ck_assert_int_eq(rule_match_text(m, TARGET_SUBJECT, NULL, text,
	    strlen(text)), 0);
	ck_assert_uint_eq(f.n, 1);
	ck_assert_uint_eq(rule_matcher_limit_hits(m), 2);
	rule_matcher_free(m);
	findings_fini(&f);
	content_config_fini(&cc);
}
END_TEST

static Suite *
rules_suite(void)
{
	Suite *s = suite_create("rules");
	TCase *tc = tcase_create("rules");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_keys);
	tcase_add_test(tc, test_shorteners_off);
	tcase_add_loop_test(tc, test_bad, 0, sizeof(bad_cases) / sizeof(bad_cases[0]));
	tcase_add_test(tc, test_lookup);
	tcase_add_loop_test(tc, test_match, 0,
	    sizeof(match_cases) / sizeof(match_cases[0]));
	tcase_add_test(tc, test_body_windows);
	tcase_add_test(tc, test_match_limit);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(rules_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
