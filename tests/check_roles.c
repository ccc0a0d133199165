/*
 * check_roles - the per-listener role decision and the `roles` section.
 *
 * One configuration (the Debian-like split: submission services named
 * ORIGINATING/submission/smtps, port 25 watching bounces, an internal
 * network) and a table of {label, facts, want} cases over it; the default
 * (no section) keeps "both" for everything; bad sections name file, line
 * and key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "egress/config.h"
#include "egress/roles.h"

static const char split_conf[] =
    "roles = {\n"
    "  default = \"bounces\";\n"
    "  outbound = [ \"ORIGINATING\", \"submission\", \"smtps\" ];\n"
    "  off = [ \"relay-only\" ];\n"
    "  both = [ \"legacy\" ];\n"
    "  internal_networks = [ \"10.0.0.0/8\", \"2001:db8::/32\" ];\n"
    "};\n";

/* Write text to a temporary file and load it; NULL with errors in *errs. */
static struct config *
load_text(const char *text, char *path, size_t pathsz, struct cfg_errors *errs)
{
	FILE *fp;
	int fd;

	snprintf(path, pathsz, "/tmp/check_roles.XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	fp = fdopen(fd, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	ck_assert_int_eq(fclose(fp), 0);
	cfg_errors_init(errs, path);
	return config_load(path, errs);
}

static const struct {
	const char	*label;
	struct role_facts facts;
	enum role_mode	 listener;
	int		 outbound, bounces;
	const char	*why;
} cases[] = {
	{ "submission listener", { "ORIGINATING", NULL, "198.51.100.7", 0 },
	  ROLE_MODE_OUTBOUND, 1, 0, "listener" },
	{ "daemon name case-insensitive", { "originating", NULL, NULL, 0 },
	  ROLE_MODE_OUTBOUND, 1, 0, "listener" },
	{ "smtps listener", { "smtps", "alice", "198.51.100.7", 0 },
	  ROLE_MODE_OUTBOUND, 1, 0, "listener" },
	{ "port 25 stranger", { "mx.example.org", NULL, "198.51.100.7", 0 },
	  ROLE_MODE_BOUNCES, 0, 1, "stranger" },
	{ "port 25 SASL user", { "mx.example.org", "alice", "198.51.100.7", 0 },
	  ROLE_MODE_BOUNCES, 1, 1, "sasl" },
	{ "port 25 empty auth is no auth", { "mx.example.org", "", "198.51.100.7", 0 },
	  ROLE_MODE_BOUNCES, 0, 1, "stranger" },
	{ "port 25 internal v4", { "mx.example.org", NULL, "10.1.2.3", 0 },
	  ROLE_MODE_BOUNCES, 1, 1, "internal" },
	{ "port 25 internal v6", { "mx.example.org", NULL, "2001:db8::25", 0 },
	  ROLE_MODE_BOUNCES, 1, 1, "internal" },
	{ "port 25 internal bracketed", { "mx.example.org", NULL, "[10.9.9.9]", 0 },
	  ROLE_MODE_BOUNCES, 1, 1, "internal" },
	{ "port 25 outside v6", { "mx.example.org", NULL, "2001:db9::1", 0 },
	  ROLE_MODE_BOUNCES, 0, 1, "stranger" },
	{ "non-SMTP submission", { "mx.example.org", NULL, NULL, 1 },
	  ROLE_MODE_BOUNCES, 1, 1, "nonsmtp" },
	{ "no daemon name: default", { NULL, NULL, "198.51.100.7", 0 },
	  ROLE_MODE_BOUNCES, 0, 1, "stranger" },
	{ "unparsable client address", { NULL, NULL, "unknown", 0 },
	  ROLE_MODE_BOUNCES, 0, 1, "stranger" },
	{ "off listener", { "relay-only", "alice", "10.1.2.3", 0 },
	  ROLE_MODE_OFF, 0, 0, "off" },
	{ "both listener", { "legacy", NULL, "198.51.100.7", 0 },
	  ROLE_MODE_BOTH, 1, 1, "listener" },
	{ "prefix of a name is not the name", { "ORIGINATING2", NULL, NULL, 0 },
	  ROLE_MODE_BOUNCES, 0, 1, "stranger" },
};

START_TEST(test_decide)
{
	struct cfg_errors errs;
	struct config *c;
	struct role r;
	char path[64];

	c = load_text(split_conf, path, sizeof(path), &errs);
	ck_assert_msg(c != NULL, "%s", buf_cstr(&errs.text));
	role_decide(&c->roles, &cases[_i].facts, &r);
	ck_assert_msg(r.listener == cases[_i].listener, "%s: listener %s",
	    cases[_i].label, role_mode_name(r.listener));
	ck_assert_msg(r.outbound == cases[_i].outbound, "%s: outbound %d",
	    cases[_i].label, r.outbound);
	ck_assert_msg(r.bounces == cases[_i].bounces, "%s: bounces %d",
	    cases[_i].label, r.bounces);
	ck_assert_str_eq(r.why, cases[_i].why);
	config_free(c);
	cfg_errors_fini(&errs);
	unlink(path);
}
END_TEST

/* Without a section every message gets both jobs, as before roles. */
START_TEST(test_default_both)
{
	struct config *c = config_default();
	struct role_facts f = { "mx.example.org", NULL, "198.51.100.7", 0 };
	struct role r;

	ck_assert_ptr_nonnull(c);
	role_decide(&c->roles, &f, &r);
	ck_assert_int_eq(r.listener, ROLE_MODE_BOTH);
	ck_assert_int_eq(r.outbound, 1);
	ck_assert_int_eq(r.bounces, 1);
	config_free(c);
}
END_TEST

static const struct {
	const char	*text;
	const char	*want;		/* ":LINE: KEY: text" substring */
} bad[] = {
	{ "roles = { default = \"inbound\"; };\n",
	  ":1: roles.default: \"inbound\" is not both, outbound, bounces or off" },
	{ "roles = {\n outbound = [ \"a\" ];\n bounces = [ \"A\" ];\n};\n",
	  ":3: roles.bounces: daemon name \"a\" is listed under outbound too" },
	{ "roles = {\n internal_networks = [ \"10.0.0.0/33\" ];\n};\n",
	  ":2: roles.internal_networks[0]: \"10.0.0.0/33\" is not an address" },
	{ "roles = { outbound = \"ORIGINATING\"; };\n",
	  ":1: roles.outbound: expected a list of strings" },
	{ "roles = { submission = [ \"x\" ]; };\n",
	  ":1: roles.submission: unknown key" },
	{ "roles = \"outbound\";\n",
	  ":1: roles: expected a group { ... }, found a string" },
	{ "roles = { outbound = [ \"\" ]; };\n",
	  ":1: roles.outbound[0]: an empty daemon name" },
};

START_TEST(test_bad)
{
	struct cfg_errors errs;
	struct config *c;
	char path[64];

	c = load_text(bad[_i].text, path, sizeof(path), &errs);
	ck_assert_msg(c == NULL, "loaded: %s", bad[_i].text);
	ck_assert_msg(strstr(buf_cstr(&errs.text), bad[_i].want) != NULL,
	    "want \"%s\" in \"%s\"", bad[_i].want, buf_cstr(&errs.text));
	ck_assert_msg(strncmp(buf_cstr(&errs.text), path, strlen(path)) == 0,
	    "no file name: %s", buf_cstr(&errs.text));
	cfg_errors_fini(&errs);
	unlink(path);
}
END_TEST

START_TEST(test_mode_names)
{
	enum role_mode m;

	ck_assert_int_eq(role_mode_parse("outbound", &m), 0);
	ck_assert_int_eq(m, ROLE_MODE_OUTBOUND);
	ck_assert_str_eq(role_mode_name(ROLE_MODE_BOUNCES), "bounces");
	ck_assert_int_eq(role_mode_parse("Outbound", &m), -1);
}
END_TEST

static Suite *
roles_suite(void)
{
	Suite *s = suite_create("roles");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_decide, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_default_both);
	tcase_add_loop_test(tc, test_bad, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, test_mode_names);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(roles_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
