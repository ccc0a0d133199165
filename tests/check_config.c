/*
 * check_config.c - unit tests for the configuration loader.
 *
 * Table-driven: every bad file under tests/data/config/ must fail to load
 * with errors that start with the exact "FILE:LINE: KEY: " prefix (and the
 * number of errors is checked, so a single mistake never produces noise);
 * every good file must load with the typed values expected. The cfg_*
 * helpers, the CIDR parser/matcher and the reply syntax are exercised
 * directly from small in-memory libconfig documents. The shipped sample
 * (conf/milter-egress.conf) must load and must show the documented defaults.
 *
 * Data files are found through $top_srcdir (set by the test harness),
 * falling back to the current directory.
 */
#include <sys/socket.h>
#include <check.h>
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libconfig.h>

#include "egress/checks.h"
#include "egress/config.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define MAX_WANT	5

static char *
data_path(const char *rel)
{
	const char *top = getenv("top_srcdir");
	char *p;

	if (top == NULL || top[0] == '\0')
		top = ".";
	ck_assert(asprintf(&p, "%s/%s", top, rel) > 0);
	return p;
}

/* Number of lines in s that start with prefix. */
static int
count_prefixed(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);
	int count = 0;

	while (*s) {
		if (strncmp(s, prefix, n) == 0)
			count++;
		if ((s = strchr(s, '\n')) == NULL)
			break;
		s++;
	}
	return count;
}

/* ---------- bad files: NULL, exact prefixes, nothing else ---------- */

struct want {
	int		 line;
	const char	*key;		/* "KEY" of "FILE:LINE: KEY: " */
	const char	*text;		/* substring of the message, or NULL */
};

static const struct {
	const char	*file;
	int		 nerrors;
	struct want	 want[MAX_WANT];
} bad_cases[] = {
	{ "bad_unknown_top.conf", 1, { { 3, "fail_mdoe", "unknown key" } } },
	{ "bad_unknown_limits.conf", 1, { { 4, "limits.mime_dpeth", "unknown key" } } },
	{ "bad_type.conf", 1,
	  { { 3, "limits.recipients", "expected an integer, found a string" } } },
	{ "bad_type_string.conf", 1, { { 2, "mode", "expected a string, found an integer" } } },
	{ "bad_type_float.conf", 1, { { 3, "scores.tag", "expected an integer, found a float" } } },
	{ "bad_range.conf", 1,
	  { { 5, "limits.mime_depth", "value 1000 out of range [1, 100]" } } },
	{ "bad_range_low.conf", 1,
	  { { 3, "limits.line_length", "value 77 out of range [78, 1000000]" } } },
	{ "bad_duration.conf", 1, { { 3, "date.max_future", "invalid duration \"5x\"" } } },
	{ "bad_duration_unit.conf", 1, { { 3, "milter.timeout", "invalid duration \"25M\"" } } },
	{ "bad_size.conf", 1, { { 3, "limits.message_size", "invalid size \"25Q\"" } } },
	{ "bad_size_unit.conf", 2,
	  { { 3, "limits.header_bytes", "invalid size \"2h\"" },
	    { 4, "limits.decoded_bytes", "invalid size \"10KB\"" } } },
	{ "bad_socket_mode.conf", 1,
	  { { 4, "milter.socket_mode", "\"0980\" is not an octal mode" } } },
	{ "bad_socket_mode_int.conf", 1,
	  { { 3, "milter.socket_mode", "expected a string, found an integer" } } },
	{ "bad_socket.conf", 1, { { 3, "milter.socket", "\"tcp:25@localhost\": not unix:PATH" } } },
	{ "bad_socket_empty.conf", 1,
	  { { 3, "milter.socket", "\"unix:\": the socket path must be absolute" } } },
	{ "bad_socket_port.conf", 1,
	  { { 3, "milter.socket", "the port must be a number from 1 to 65535" } } },
	{ "bad_redis_addr.conf", 1,
	  { { 3, "store.redis", "the port must be a number from 1 to 65535" } } },
	{ "bad_int_overflow.conf", 3,
	  { { 3, "limits.recipients",
	      "value 99999999999999999999 out of range [1, 100000] (too large for a 64-bit integer)" },
	    { 4, "limits.header_count", "value 4294967297 out of range" },
	    { 5, "limits.urls", "value 99999999999999999999L out of range" } } },
	{ "bad_section_type.conf", 5,
	  { { 2, "store", "expected a group { ... }, found an integer" },
	    { 3, "policy", "expected a group { ... }, found a string" },
	    { 4, "bounce", "expected a group { ... }, found a boolean" },
	    { 5, "content", "expected a group { ... }, found an array" },
	    { 6, "roles", "expected a group { ... }, found an integer" } } },
	{ "bad_nested_type.conf", 1,
	  { { 3, "policy.warmup", "expected a group { ... }, found an integer" } } },
	{ "bad_header_names.conf", 2,
	  { { 3, "policy.tag_header", "\"X-Status\\x0d\\x0aBcc: victim@example.org\" is not a header field name" },
	    { 6, "bounce.header_name", "is not a header field name" } } },
	{ "bad_check_id.conf", 1,
	  { { 4, "checks[1].id", "unknown check id \"rfc5322.date.mising\"" } } },
	{ "bad_check_action.conf", 1, { { 4, "checks[0].action", "unknown action \"block\"" } } },
	{ "bad_check_missing_id.conf", 1, { { 3, "checks[0]", "no \"id\" key" } } },
	{ "bad_check_key.conf", 1, { { 3, "checks[0].severity", "unknown key" } } },
	{ "bad_check_score.conf", 1,
	  { { 3, "checks[0].score", "value 5000 out of range [-1000, 1000]" } } },
	{ "bad_checks_group.conf", 1, { { 2, "checks", "expected a list of groups" } } },
	{ "bad_reply_class.conf", 1, { { 5, "checks[0].reply", "\"554 4.6.0 x\" is not" } } },
	{ "bad_reply_text.conf", 1, { { 3, "checks[0].reply", "\"hello\" is not" } } },
	{ "bad_cidr.conf", 1,
	  { { 5, "exempt.clients[1]", "\"192.0.2.0/33\" is not an address or address/prefix" } } },
	{ "bad_exempt_type.conf", 1,
	  { { 3, "exempt.senders", "expected a list of strings" } } },
	{ "bad_facility.conf", 1,
	  { { 3, "milter.syslog_facility", "unknown facility \"mail2\"" } } },
	{ "bad_mode.conf", 1, { { 2, "mode", "\"enforcing\" is neither" } } },
	{ "bad_fail_mode.conf", 1, { { 2, "fail_mode", "\"hold\" is not accept, tempfail or reject" } } },
	{ "bad_tag_header.conf", 1, { { 2, "tag_header", "\"X Egress\" is not a header field name" } } },
	{ "bad_group_type.conf", 3,
	  { { 2, "limits", "expected a group { ... }, found an integer" },
	    { 3, "milter", "expected a group { ... }, found a string" },
	    { 4, "exempt", "expected a group { ... }, found a list" } } },
	{ "bad_syntax.conf", 1, { { 5, "syntax", "syntax error" } } },
	{ "bad_ledger.conf", 3,
	  { { 3, "ledger.ttl", "out of range" },
	    { 4, "ledger.require_match", "\"lenient\": use \"strict\"" },
	    { 5, "ledger.max_entriez", "unknown key" } } },
	{ "bad_deferrals.conf", 4,
	  { { 3, "policy.deferrals.count", "\"nonsense\" is neither a category nor a reason" },
	    { 5, "policy.deferrals.rate", "needs a rate" },
	    { 6, "policy.deferrals.colour", "unknown key" } } },
	{ "bad_duplicate.conf", 1, { { 3, "syntax", "duplicate setting name" } } },
	{ "bad_include_missing.conf", 1, { { 4, "syntax", "cannot open include file" } } },
	{ "bad_many.conf", 4,
	  { { 2, "mode", "\"loud\"" },
	    { 5, "limits.urlz", "unknown key" },
	    { 4, "limits.recipients", "value 0 out of range" } } },
};

START_TEST(test_bad_file)
{
	char rel[256], prefix[512];
	char *path;
	struct cfg_errors errs;
	struct config *c;
	const char *text;
	size_t i;

	snprintf(rel, sizeof(rel), "tests/data/config/%s", bad_cases[_i].file);
	path = data_path(rel);
	cfg_errors_init(&errs, path);
	c = config_load(path, &errs);
	text = buf_cstr(&errs.text);
	ck_assert_msg(c == NULL, "%s loaded", bad_cases[_i].file);
	ck_assert_msg(errs.count == bad_cases[_i].nerrors, "%s: %d errors, want %d:\n%s",
	    bad_cases[_i].file, errs.count, bad_cases[_i].nerrors, text);
	/* Every line names this file. */
	snprintf(prefix, sizeof(prefix), "%s:", path);
	ck_assert_msg(count_prefixed(text, prefix) == errs.count, "%s: stray lines:\n%s",
	    bad_cases[_i].file, text);
	for (i = 0; i < MAX_WANT && bad_cases[_i].want[i].key; i++) {
		const struct want *w = &bad_cases[_i].want[i];
		const char *at;

		snprintf(prefix, sizeof(prefix), "%s:%d: %s: ", path, w->line, w->key);
		ck_assert_msg(count_prefixed(text, prefix) == 1, "%s: want \"%s\" in:\n%s",
		    bad_cases[_i].file, prefix, text);
		at = strstr(text, prefix);
		ck_assert_ptr_nonnull(at);
		if (w->text) {
			const char *eol = strchr(at, '\n');
			char *msg;

			ck_assert_ptr_nonnull(eol);
			msg = strndup(at, (size_t)(eol - at));
			ck_assert_msg(strstr(msg, w->text) != NULL, "%s: want \"%s\" in \"%s\"",
			    bad_cases[_i].file, w->text, msg);
			free(msg);
		}
	}
	cfg_errors_fini(&errs);
	free(path);
}
END_TEST

/* Errors come in file order within a group, and every one is reported. */
START_TEST(test_bad_many_order)
{
	char *path = data_path("tests/data/config/bad_many.conf");
	struct cfg_errors errs;
	const char *t, *a, *b, *f;

	cfg_errors_init(&errs, path);
	ck_assert_ptr_null(config_load(path, &errs));
	t = buf_cstr(&errs.text);
	a = strstr(t, ": mode: ");
	b = strstr(t, ": limits.");
	f = strstr(t, ": milter.syslog_facility: unknown facility \"kern\"");
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(f);
	ck_assert(a < b && b < f);
	cfg_errors_fini(&errs);
	free(path);
}
END_TEST

/* An error inside an @include file names that file and its own line. */
START_TEST(test_bad_include)
{
	char *path = data_path("tests/data/config/bad_include.conf");
	struct cfg_errors errs;

	cfg_errors_init(&errs, path);
	ck_assert_ptr_null(config_load(path, &errs));
	ck_assert_int_eq(errs.count, 1);
	ck_assert_str_eq(buf_cstr(&errs.text),
	    "include_bad.inc:4: milter.backlog: value 0 out of range [1, 65535]\n");
	cfg_errors_fini(&errs);
	free(path);
}
END_TEST

START_TEST(test_missing_file)
{
	struct cfg_errors errs;
	const char *path = "/nonexistent/milter-egress.conf";

	cfg_errors_init(&errs, path);
	ck_assert_ptr_null(config_load(path, &errs));
	ck_assert_int_eq(errs.count, 1);
	ck_assert_str_eq(buf_cstr(&errs.text),
	    "/nonexistent/milter-egress.conf:0: -: cannot read file: No such file or directory\n");
	cfg_errors_fini(&errs);

	cfg_errors_init(&errs, "/");
	ck_assert_ptr_null(config_load("/", &errs));
	ck_assert_int_eq(errs.count, 1);
	ck_assert_str_eq(buf_cstr(&errs.text), "/:0: -: cannot read file: Is a directory\n");
	cfg_errors_fini(&errs);
}
END_TEST

/* ---------- good files ---------- */

static struct config *
load_good(const char *file)
{
	char rel[256];
	char *path;
	struct cfg_errors errs;
	struct config *c;

	snprintf(rel, sizeof(rel), "tests/data/config/%s", file);
	path = data_path(rel);
	cfg_errors_init(&errs, path);
	c = config_load(path, &errs);
	ck_assert_msg(c != NULL, "%s: %s", file, buf_cstr(&errs.text));
	ck_assert_int_eq(errs.count, 0);
	ck_assert_str_eq(buf_cstr(&errs.text), "");
	ck_assert_str_eq(c->path, path);
	ck_assert_uint_eq(c->refs, 1);
	cfg_errors_fini(&errs);
	free(path);
	return c;
}

static const char *
nz(const char *s)
{
	return s ? s : "";
}

/* Everything but the path equals the built-in defaults. */
static void
assert_same_as_default(const struct config *c, int with_checks)
{
	struct config *d = config_default();
	size_t i;

	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(c->mode, d->mode);
	ck_assert_int_eq(c->fail_action, d->fail_action);
	ck_assert_str_eq(c->tag_header, d->tag_header);
	ck_assert_str_eq(c->hold_reason, d->hold_reason);
	ck_assert_str_eq(nz(c->repair_msgid_domain), nz(d->repair_msgid_domain));
	ck_assert_int_eq(c->date_max_future, d->date_max_future);
	ck_assert_int_eq(c->date_max_past, d->date_max_past);
	ck_assert_int_eq(c->score_tag, d->score_tag);
	ck_assert_int_eq(c->score_hold, d->score_hold);
	ck_assert_int_eq(c->score_reject, d->score_reject);
	ck_assert(memcmp(&c->limits, &d->limits, sizeof(c->limits)) == 0);
	ck_assert_str_eq(c->milter.socket, d->milter.socket);
	ck_assert_int_eq(c->milter.socket_mode, d->milter.socket_mode);
	ck_assert_str_eq(nz(c->milter.socket_group), nz(d->milter.socket_group));
	ck_assert_str_eq(nz(c->milter.user), nz(d->milter.user));
	ck_assert_str_eq(nz(c->milter.pidfile), nz(d->milter.pidfile));
	ck_assert_str_eq(c->milter.syslog_facility, d->milter.syslog_facility);
	ck_assert_str_eq(c->milter.syslog_ident, d->milter.syslog_ident);
	ck_assert_int_eq(c->milter.timeout, d->milter.timeout);
	ck_assert_int_eq(c->milter.backlog, d->milter.backlog);
	ck_assert_uint_eq(c->exempt.senders.n, 0);
	ck_assert_uint_eq(c->exempt.auth_users.n, 0);
	ck_assert_uint_eq(c->exempt.nclients, 0);
	ck_assert_uint_eq(c->exempt.recipient_domains.n, 0);
	ck_assert_uint_eq(c->nchecks, d->nchecks);
	for (i = 0; with_checks && i < c->nchecks; i++) {
		ck_assert_int_eq(c->checks[i].action, d->checks[i].action);
		ck_assert_int_eq(c->checks[i].score, d->checks[i].score);
		ck_assert_str_eq(nz(c->checks[i].reply), nz(d->checks[i].reply));
	}
	config_free(d);
}

START_TEST(test_defaults)
{
	struct config *d = config_default();
	const struct check_def *defs;
	size_t n, i;

	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_null(d->path);
	ck_assert_uint_eq(d->refs, 1);
	ck_assert_int_eq(d->mode, MODE_ENFORCE);
	ck_assert_int_eq(d->fail_action, ACT_TEMPFAIL);
	ck_assert_str_eq(d->tag_header, "X-Egress-Findings");
	ck_assert_str_eq(d->hold_reason, "milter-egress");
	ck_assert_ptr_null(d->repair_msgid_domain);
	ck_assert_int_eq(d->date_max_future, 7200);
	ck_assert_int_eq(d->date_max_past, 30 * 86400);
	ck_assert_int_eq(d->score_tag, 3);
	ck_assert_int_eq(d->score_hold, 0);
	ck_assert_int_eq(d->score_reject, 10);
	ck_assert_int_eq(d->limits.message_size, 50LL * 1024 * 1024);
	ck_assert_int_eq(d->limits.recipients, 1000);
	ck_assert_int_eq(d->limits.header_bytes, 256 * 1024);
	ck_assert_int_eq(d->limits.line_length, 998);
	ck_assert_int_eq(d->limits.mime_depth, 20);
	ck_assert_int_eq(d->limits.decoded_bytes, 1024 * 1024);
	ck_assert_int_eq(d->limits.pcre2_heap_limit, 20480);
	ck_assert_str_eq(d->milter.socket, "unix:/run/milter-egress/milter-egress.sock");
	ck_assert_int_eq(d->milter.socket_mode, 0660);
	ck_assert_str_eq(d->milter.syslog_facility, "mail");
	ck_assert_str_eq(d->milter.syslog_ident, "milter-egress");
	ck_assert_int_eq(d->milter.timeout, 600);
	ck_assert_int_eq(d->milter.backlog, 128);
	/* Every registry id has its registry defaults. */
	n = checks_table(&defs);
	ck_assert_uint_eq(d->nchecks, n);
	for (i = 0; i < n; i++) {
		const struct check_conf *cc = config_check(d, defs[i].id);

		ck_assert_ptr_eq(cc, &d->checks[i]);
		ck_assert_int_eq(cc->action, defs[i].action);
		ck_assert_int_eq(cc->score, defs[i].score);
		ck_assert_str_eq(nz(cc->reply), nz(defs[i].reply));
		if (defs[i].reply)
			ck_assert_ptr_ne(cc->reply, defs[i].reply);	/* a copy */
	}
	ck_assert_ptr_null(config_check(d, "no.such.check"));
	ck_assert_ptr_null(config_check(d, ""));
	config_free(d);
	config_free(NULL);
}
END_TEST

START_TEST(test_good_empty)
{
	struct config *c = load_good("good_empty.conf");

	assert_same_as_default(c, 1);
	config_free(c);
}
END_TEST

START_TEST(test_good_sections)
{
	struct config *c = load_good("good_sections.conf");

	assert_same_as_default(c, 1);
	config_free(c);
}
END_TEST

START_TEST(test_good_partial)
{
	struct config *c = load_good("good_partial.conf");
	struct config *d = config_default();

	ck_assert_int_eq(c->limits.recipients, 20);
	ck_assert_int_eq(c->limits.message_size, d->limits.message_size);
	ck_assert_int_eq(c->limits.header_bytes, d->limits.header_bytes);
	ck_assert_int_eq(c->limits.line_length, 998);
	ck_assert_str_eq(c->milter.socket, "unix:/var/spool/postfix/egress/egress.sock");
	ck_assert_int_eq(c->milter.socket_mode, 0640);
	ck_assert_str_eq(c->milter.syslog_facility, "mail");
	ck_assert_int_eq(c->date_max_past, 86400);
	ck_assert_int_eq(c->date_max_future, 7200);
	ck_assert_int_eq(c->mode, MODE_ENFORCE);
	ck_assert_int_eq(config_check(c, "body.bare_lf")->action, ACT_TAG);
	config_free(d);
	config_free(c);
}
END_TEST

/*
 * @include is resolved from the directory of the configuration file, not
 * from the working directory: the daemon runs in / and reloads from there.
 */
START_TEST(test_good_include)
{
	int cwd = open(".", O_RDONLY | O_DIRECTORY);
	const char *top = getenv("top_srcdir");
	struct config *c;

	ck_assert_int_ge(cwd, 0);
	if (top != NULL && top[0] == '/')
		ck_assert_int_eq(chdir("/"), 0);
	c = load_good("good_include.conf");
	ck_assert_int_eq(fchdir(cwd), 0);
	close(cwd);
	ck_assert_int_eq(c->mode, MODE_MONITOR);
	ck_assert_int_eq(c->limits.recipients, 77);
	ck_assert_int_eq(c->limits.mime_depth, 20);
	config_free(c);
}
END_TEST

START_TEST(test_good_full)
{
	struct config *c = load_good("good_full.conf");
	const struct check_conf *cc;
	const struct check_def *def;

	ck_assert_int_eq(c->mode, MODE_MONITOR);
	ck_assert_int_eq(c->fail_action, ACT_ACCEPT);
	ck_assert_str_eq(c->tag_header, "X-Outbound-Findings");
	ck_assert_str_eq(c->hold_reason, "outbound-review");
	ck_assert_str_eq(c->repair_msgid_domain, "mail.example.com");
	ck_assert_int_eq(c->date_max_future, 1800);		/* "30m" */
	ck_assert_int_eq(c->date_max_past, 14 * 86400);		/* "2w" */
	ck_assert_int_eq(c->score_tag, 4);
	ck_assert_int_eq(c->score_hold, 8);
	ck_assert_int_eq(c->score_reject, 12);

	ck_assert_int_eq(c->limits.message_size, 25LL * 1024 * 1024);	/* "25M" */
	ck_assert_int_eq(c->limits.recipients, 50);
	ck_assert_int_eq(c->limits.header_bytes, 64 * 1024);		/* "64K" */
	ck_assert_int_eq(c->limits.header_count, 200);
	ck_assert_int_eq(c->limits.line_length, 2000);
	ck_assert_int_eq(c->limits.mime_depth, 10);
	ck_assert_int_eq(c->limits.mime_parts, 100);
	ck_assert_int_eq(c->limits.boundary_length, 998);
	ck_assert_int_eq(c->limits.part_header_bytes, 8192);		/* integer */
	ck_assert_int_eq(c->limits.decoded_bytes, 2 * 1024 * 1024);	/* "2m" */
	ck_assert_int_eq(c->limits.urls, 30);
	ck_assert_int_eq(c->limits.findings, 64);
	ck_assert_int_eq(c->limits.pcre2_match_limit, 5000);
	ck_assert_int_eq(c->limits.pcre2_depth_limit, 300);
	ck_assert_int_eq(c->limits.pcre2_heap_limit, 4096);

	ck_assert_str_eq(c->milter.socket, "inet:8891@127.0.0.1");
	ck_assert_int_eq(c->milter.socket_mode, 0600);			/* "0600" */
	ck_assert_str_eq(c->milter.socket_group, "postfix");
	ck_assert_str_eq(c->milter.user, "milter");
	ck_assert_str_eq(c->milter.pidfile, "/run/milter-egress/milter-egress.pid");
	ck_assert_str_eq(c->milter.syslog_facility, "local3");
	ck_assert_str_eq(c->milter.syslog_ident, "egress");
	ck_assert_int_eq(c->milter.timeout, 90);			/* integer seconds */
	ck_assert_int_eq(c->milter.backlog, 16);

	ck_assert_uint_eq(c->exempt.senders.n, 2);
	ck_assert_str_eq(c->exempt.senders.v[0], "noreply@example.com");
	ck_assert_str_eq(c->exempt.senders.v[1], "@example.org");
	ck_assert_ptr_null(c->exempt.senders.v[2]);
	ck_assert(strlist_has_ci(&c->exempt.senders, "NoReply@Example.COM"));
	ck_assert(!strlist_has_ci(&c->exempt.senders, "reply@example.com"));
	ck_assert_uint_eq(c->exempt.auth_users.n, 1);
	ck_assert_str_eq(c->exempt.auth_users.v[0], "monitoring");
	ck_assert_uint_eq(c->exempt.recipient_domains.n, 1);
	ck_assert_uint_eq(c->exempt.nclients, 3);
	ck_assert_int_eq(c->exempt.clients[0].family, AF_INET);
	ck_assert_int_eq(c->exempt.clients[0].prefix, 24);
	ck_assert_int_eq(c->exempt.clients[1].family, AF_INET6);
	ck_assert_int_eq(c->exempt.clients[1].prefix, 32);
	ck_assert_int_eq(c->exempt.clients[2].prefix, 32);
	ck_assert(cidr_match(&c->exempt.clients[0], "192.0.2.77"));
	ck_assert(cidr_match(&c->exempt.clients[1], "2001:db8:1::5"));
	ck_assert(cidr_match(&c->exempt.clients[2], "127.0.0.1"));

	/* Overrides: action, reply and score; untouched fields keep defaults. */
	cc = config_check(c, "rfc5322.date.missing");
	ck_assert_int_eq(cc->action, ACT_REJECT);
	ck_assert_str_eq(cc->reply, "550 5.6.0 No Date");
	ck_assert_int_eq(cc->score, 0);
	cc = config_check(c, "rfc5322.message_id.missing");
	ck_assert_int_eq(cc->action, ACT_TEMPFAIL);
	ck_assert_str_eq(cc->reply, "451 4.6.0 No Message-ID, try later");
	ck_assert_int_eq(cc->score, 7);
	cc = config_check(c, "content.url.shortener");
	def = checks_lookup("content.url.shortener");
	ck_assert_int_eq(cc->action, def->action);
	ck_assert_int_eq(cc->score, -2);
	ck_assert_str_eq(cc->reply, def->reply);
	/* reply = "" removes the reply (the MTA's generic one is used). */
	cc = config_check(c, "size.message");
	ck_assert_ptr_null(cc->reply);
	ck_assert_int_eq(cc->action, ACT_REJECT);
	/* A later entry for the same id wins. */
	cc = config_check(c, "body.bare_lf");
	ck_assert_int_eq(cc->action, ACT_ACCEPT);
	/* An id not mentioned keeps its defaults. */
	cc = config_check(c, "body.nul");
	def = checks_lookup("body.nul");
	ck_assert_int_eq(cc->action, def->action);
	ck_assert_str_eq(cc->reply, def->reply);
	config_free(c);
}
END_TEST

/* The shipped sample loads and shows the built-in defaults it documents. */
START_TEST(test_sample)
{
	char *path = data_path("conf/milter-egress.conf");
	struct cfg_errors errs;
	struct config *c;

	cfg_errors_init(&errs, path);
	c = config_load(path, &errs);
	ck_assert_msg(c != NULL, "sample: %s", buf_cstr(&errs.text));
	ck_assert_int_eq(errs.count, 0);
	/* The check entries of the sample may differ from the registry on
	 * purpose (they are examples); every other value is the default. */
	assert_same_as_default(c, 0);
	cfg_errors_fini(&errs);
	config_free(c);
	free(path);
}
END_TEST

/*
 * The sample is the reference the documentation promises: every core key
 * is present in it (with its default), and every key it holds, including
 * those of the module sections, is described in milter-egress.conf(5).
 */
static const char *const sample_core_keys[] = {
	"mode", "fail_mode", "tag_header", "hold_reason",
	"repair.message_id_domain", "date.max_future", "date.max_past",
	"scores.tag", "scores.hold", "scores.reject",
	"limits.message_size", "limits.recipients", "limits.header_bytes",
	"limits.header_count", "limits.line_length", "limits.mime_depth",
	"limits.mime_parts", "limits.boundary_length", "limits.part_header_bytes",
	"limits.decoded_bytes", "limits.urls", "limits.findings",
	"limits.pcre2_match_limit", "limits.pcre2_depth_limit",
	"limits.pcre2_heap_limit",
	"milter.socket", "milter.socket_mode", "milter.socket_group", "milter.user",
	"milter.pidfile", "milter.syslog_facility", "milter.syslog_ident",
	"milter.timeout", "milter.backlog",
	"exempt.senders", "exempt.auth_users", "exempt.clients",
	"exempt.recipient_domains", "checks",
};

START_TEST(test_sample_has_core_keys)
{
	char *path = data_path("conf/milter-egress.conf");
	config_t lc;
	size_t i;

	config_init(&lc);
	ck_assert_msg(config_read_file(&lc, path) == CONFIG_TRUE, "%s:%d: %s", path,
	    config_error_line(&lc), config_error_text(&lc));
	for (i = 0; i < NELEM(sample_core_keys); i++)
		ck_assert_msg(config_lookup(&lc, sample_core_keys[i]) != NULL,
		    "conf/milter-egress.conf lacks %s", sample_core_keys[i]);
	config_destroy(&lc);
	free(path);
}
END_TEST

/* The man page source, with "\-" unescaped, or NULL. */
static char *
read_man(const char *rel)
{
	char *path = data_path(rel), *text, *w;
	const char *r;
	FILE *fp;
	long n;

	ck_assert_ptr_nonnull(fp = fopen(path, "r"));
	ck_assert(fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) > 0);
	rewind(fp);
	ck_assert_ptr_nonnull(text = malloc((size_t)n + 1));
	ck_assert(fread(text, 1, (size_t)n, fp) == (size_t)n);
	text[n] = '\0';
	fclose(fp);
	free(path);
	for (r = w = text; *r; r++) {
		if (r[0] == '\\' && r[1] == '-')
			r++;
		*w++ = *r;
	}
	*w = '\0';
	return text;
}

/*
 * Every named setting of grp must be documented: a top-level key as a
 * ".B key" line, a top-level group as a section (".SH STORE"), a key of a
 * group by its dotted path ("store.redis"), and
 * the keys of a group nested in a group or of the entries of a list by
 * name in a ".B key" line (they are described under their parent).
 */
static void
assert_documented(const char *man, const config_setting_t *grp,
    const char *prefix, int nested)
{
	unsigned i, n = (unsigned)config_setting_length(grp);

	for (i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(grp, i);
		const char *name = config_setting_name(m);
		char full[256], line[256];
		int t = config_setting_type(m);

		if (name == NULL) {
			/* an entry of a list: its keys are described by name */
			if (t == CONFIG_TYPE_GROUP)
				assert_documented(man, m, prefix, 1);
			continue;
		}
		snprintf(full, sizeof(full), "%s%s%s", prefix, prefix[0] ? "." : "",
		    name);
		if (nested) {
			char line2[256];

			snprintf(line, sizeof(line), "\n.B %s\n", name);
			snprintf(line2, sizeof(line2), "\n.BR %s ", name);
			ck_assert_msg(strstr(man, line) != NULL || strstr(man, line2) != NULL ||
			    strstr(man, full) != NULL,
			    "%s (in conf/milter-egress.conf) is not described in "
			    "man/milter-egress.conf.5", full);
		} else if (prefix[0] == '\0' && t == CONFIG_TYPE_GROUP) {
			/* a top-level group has a section: ".SH LIMITS" */
			size_t k;

			snprintf(line, sizeof(line), "\n.SH %s", name);
			for (k = 5; line[k]; k++)
				line[k] = (char)toupper((unsigned char)line[k]);
			ck_assert_msg(strstr(man, line) != NULL,
			    "%s (in conf/milter-egress.conf) has no section in "
			    "man/milter-egress.conf.5", full);
		} else if (prefix[0] == '\0') {
			snprintf(line, sizeof(line), "\n.B %s\n", name);
			ck_assert_msg(strstr(man, line) != NULL,
			    "%s (in conf/milter-egress.conf) is not described in "
			    "man/milter-egress.conf.5", full);
		} else
			ck_assert_msg(strstr(man, full) != NULL,
			    "%s (in conf/milter-egress.conf) is not described in "
			    "man/milter-egress.conf.5", full);
		if (t == CONFIG_TYPE_GROUP || t == CONFIG_TYPE_LIST)
			assert_documented(man, m, full, prefix[0] != '\0');
	}
}

START_TEST(test_sample_documented)
{
	char *path = data_path("conf/milter-egress.conf");
	char *man = read_man("man/milter-egress.conf.5");
	config_t lc;

	config_init(&lc);
	ck_assert_msg(config_read_file(&lc, path) == CONFIG_TRUE, "%s:%d: %s", path,
	    config_error_line(&lc), config_error_text(&lc));
	assert_documented(man, config_root_setting(&lc), "", 0);
	config_destroy(&lc);
	free(man);
	free(path);
}
END_TEST

/* Every registered check id has its entry in milter-egress.conf(5). */
START_TEST(test_checks_documented)
{
	char *man = read_man("man/milter-egress.conf.5");
	const struct check_def *defs;
	size_t i, n = checks_table(&defs);

	for (i = 0; i < n; i++) {
		char line[128];

		snprintf(line, sizeof(line), "\n.B %s\n", defs[i].id);
		ck_assert_msg(strstr(man, line) != NULL,
		    "check id %s is not listed in man/milter-egress.conf.5 (CHECK IDS)",
		    defs[i].id);
	}
	free(man);
}
END_TEST

/* ---------- reply syntax, through the loader ---------- */

static const struct {
	const char	*reply;
	int		 ok;
} reply_cases[] = {
	{ "554 5.6.0 Message-ID header missing (RFC 5322 3.6.4)", 1 },
	{ "550 5.7.1 x", 1 },
	{ "451 4.7.1 try again later", 1 },
	{ "421 4.3.2 shutting down", 1 },
	{ "552 5.3.4 Message size exceeds fixed limit", 1 },
	{ "554 5.123.456 long enhanced code", 1 },
	{ "", 1 },				/* removes the reply */
	{ "554 4.6.0 x", 0 },			/* class mismatch */
	{ "451 5.7.1 x", 0 },			/* class mismatch */
	{ "hello", 0 },
	{ "250 2.0.0 ok", 0 },			/* not a failure */
	{ "354 3.0.0 go", 0 },
	{ "554", 0 },
	{ "554 ", 0 },
	{ "554 5.6.0", 0 },			/* no text */
	{ "554 5.6.0 ", 0 },			/* empty text */
	{ "554 5.6 text", 0 },
	{ "554 5..0 text", 0 },
	{ "554 5.6. text", 0 },
	{ "554-5.6.0 text", 0 },		/* multi-line marker */
	{ "55 5.6.0 text", 0 },
	{ "5544 5.6.0 text", 0 },
	{ "554 5.6.0 100% sure", 0 },		/* % is a libmilter format */
	{ "554 5.6.0 bad\\ttab", 0 },		/* control character */
	{ "554 5.6.0 caf\303\251", 0 },		/* not ASCII */
	{ "554 x.6.0 text", 0 },
	{ "554 5.1234.0 text", 0 },		/* RFC 3463: at most 3 digits */
	{ "554 5.1.1234 text", 0 },
	{ "554 5.1.1.1 text", 0 },
};

START_TEST(test_reply)
{
	char tmpl[] = "/tmp/check_config.XXXXXX";
	struct cfg_errors errs;
	struct config *c;
	FILE *fp;
	int fd;

	ck_assert((fd = mkstemp(tmpl)) >= 0);
	ck_assert_ptr_nonnull(fp = fdopen(fd, "w"));
	fprintf(fp, "checks = (\n  { id = \"rfc5322.from.missing\";\n    reply = \"%s\"; }\n);\n",
	    reply_cases[_i].reply);
	fclose(fp);
	cfg_errors_init(&errs, tmpl);
	c = config_load(tmpl, &errs);
	unlink(tmpl);
	if (reply_cases[_i].ok) {
		ck_assert_msg(c != NULL, "\"%s\": %s", reply_cases[_i].reply,
		    buf_cstr(&errs.text));
		if (reply_cases[_i].reply[0])
			ck_assert_str_eq(config_check(c, "rfc5322.from.missing")->reply,
			    reply_cases[_i].reply);
		else
			ck_assert_ptr_null(config_check(c, "rfc5322.from.missing")->reply);
	} else {
		char prefix[128];

		ck_assert_msg(c == NULL, "\"%s\" accepted", reply_cases[_i].reply);
		ck_assert_int_eq(errs.count, 1);
		snprintf(prefix, sizeof(prefix), "%s:3: checks[0].reply: ", tmpl);
		ck_assert_msg(strncmp(buf_cstr(&errs.text), prefix, strlen(prefix)) == 0,
		    "%s", buf_cstr(&errs.text));
	}
	config_free(c);
	cfg_errors_fini(&errs);
}
END_TEST

/* ---------- milter.socket_mode, through the loader ---------- */

static const struct {
	const char	*mode;
	long long	 want;		/* -1: refused */
} mode_cases[] = {
	{ "0660", 0660 },
	{ "0600", 0600 },
	{ "660", 0660 },
	{ "0777", 0777 },
	{ "0", 0 },
	{ "0000", 0 },
	{ "00660", 0660 },
	{ "0980", -1 },
	{ "0668", -1 },
	{ "1000", -1 },
	{ "01000", -1 },
	{ "", -1 },
	{ "-1", -1 },
	{ "-0", -1 },
	{ "+660", -1 },
	{ " 0660", -1 },
	{ "0660 ", -1 },
	{ "0x1b0", -1 },
	{ "rw-rw----", -1 },
};

START_TEST(test_socket_mode)
{
	char tmpl[] = "/tmp/check_config.XXXXXX";
	struct cfg_errors errs;
	struct config *c;
	FILE *fp;
	int fd;

	ck_assert((fd = mkstemp(tmpl)) >= 0);
	ck_assert_ptr_nonnull(fp = fdopen(fd, "w"));
	fprintf(fp, "milter = {\n  socket_mode = \"%s\";\n};\n", mode_cases[_i].mode);
	fclose(fp);
	cfg_errors_init(&errs, tmpl);
	c = config_load(tmpl, &errs);
	unlink(tmpl);
	if (mode_cases[_i].want >= 0) {
		ck_assert_msg(c != NULL, "\"%s\": %s", mode_cases[_i].mode,
		    buf_cstr(&errs.text));
		ck_assert_int_eq(c->milter.socket_mode, mode_cases[_i].want);
	} else {
		char prefix[128];

		ck_assert_msg(c == NULL, "\"%s\" accepted", mode_cases[_i].mode);
		ck_assert_int_eq(errs.count, 1);
		snprintf(prefix, sizeof(prefix), "%s:2: milter.socket_mode: ", tmpl);
		ck_assert_msg(strncmp(buf_cstr(&errs.text), prefix, strlen(prefix)) == 0,
		    "%s", buf_cstr(&errs.text));
	}
	config_free(c);
	cfg_errors_fini(&errs);
}
END_TEST

/* ---------- the cfg_* helpers on in-memory documents ---------- */

/* Parse "v = ...;" and return the root group (the caller destroys lc). */
static const config_setting_t *
doc(config_t *lc, const char *text)
{
	config_init(lc);
	ck_assert_msg(config_read_string(lc, text) == CONFIG_TRUE, "%s: %s", text,
	    config_error_text(lc));
	return config_root_setting(lc);
}

enum helper { H_INT, H_DURATION, H_SIZE };

static const struct {
	const char	*label;
	enum helper	 h;
	const char	*doc;
	long long	 min, max;
	int		 rc;		/* 0 absent, 1 set, -1 error */
	long long	 want;		/* when rc == 1 */
	const char	*err;		/* message substring when rc == -1 */
} scalar_cases[] = {
	{ "int", H_INT, "v = 42;", 0, 100, 1, 42, NULL },
	{ "int min", H_INT, "v = -5;", -5, 5, 1, -5, NULL },
	{ "int max", H_INT, "v = 5;", -5, 5, 1, 5, NULL },
	{ "int below", H_INT, "v = -6;", -5, 5, -1, 0, "value -6 out of range [-5, 5]" },
	{ "int above", H_INT, "v = 6;", -5, 5, -1, 0, "value 6 out of range [-5, 5]" },
	{ "int64", H_INT, "v = 5000000000L;", 0, 10000000000LL, 1, 5000000000LL, NULL },
	{ "int hex", H_INT, "v = 0x1F;", 0, 100, 1, 31, NULL },
	{ "int absent", H_INT, "w = 1;", 0, 100, 0, 7, NULL },
	{ "int string", H_INT, "v = \"42\";", 0, 100, -1, 0, "expected an integer, found a string" },
	{ "int bool", H_INT, "v = true;", 0, 100, -1, 0, "found a boolean" },
	{ "int float", H_INT, "v = 4.0;", 0, 100, -1, 0, "found a float" },
	{ "int group", H_INT, "v = { };", 0, 100, -1, 0, "found a group" },
	{ "int array", H_INT, "v = [ 1 ];", 0, 100, -1, 0, "found an array" },
	{ "int list", H_INT, "v = ( 1 );", 0, 100, -1, 0, "found a list" },

	{ "dur int", H_DURATION, "v = 90;", 0, 1000000, 1, 90, NULL },
	{ "dur plain string", H_DURATION, "v = \"90\";", 0, 1000000, 1, 90, NULL },
	{ "dur s", H_DURATION, "v = \"90s\";", 0, 1000000, 1, 90, NULL },
	{ "dur m", H_DURATION, "v = \"30m\";", 0, 1000000, 1, 1800, NULL },
	{ "dur h", H_DURATION, "v = \"12h\";", 0, 1000000, 1, 43200, NULL },
	{ "dur d", H_DURATION, "v = \"7d\";", 0, 1000000, 1, 604800, NULL },
	{ "dur w", H_DURATION, "v = \"2w\";", 0, 10000000, 1, 1209600, NULL },
	{ "dur zero", H_DURATION, "v = \"0s\";", 0, 10, 1, 0, NULL },
	{ "dur 5x", H_DURATION, "v = \"5x\";", 0, 1000000, -1, 0, "invalid duration \"5x\"" },
	{ "dur empty", H_DURATION, "v = \"\";", 0, 1000000, -1, 0, "invalid duration" },
	{ "dur unit only", H_DURATION, "v = \"m\";", 0, 1000000, -1, 0, "invalid duration" },
	{ "dur negative", H_DURATION, "v = \"-5m\";", 0, 1000000, -1, 0, "invalid duration" },
	{ "dur negative int", H_DURATION, "v = -5;", 0, 1000000, -1, 0, "value -5 out of range" },
	{ "dur leading space", H_DURATION, "v = \" 30m\";", 0, 1000000, -1, 0, "invalid duration" },
	{ "dur plus", H_DURATION, "v = \"+30m\";", 0, 1000000, -1, 0, "invalid duration" },
	{ "dur minus zero", H_DURATION, "v = \"-0\";", 0, 1000000, -1, 0, "invalid duration" },
	{ "dur trailing space", H_DURATION, "v = \"30m \";", 0, 1000000, -1, 0, "invalid duration" },
	{ "dur space before unit", H_DURATION, "v = \"30 m\";", 0, 1000000, -1, 0,
	  "invalid duration" },
	{ "dur two units", H_DURATION, "v = \"5mm\";", 0, 1000000, -1, 0, "invalid duration" },
	{ "dur fraction", H_DURATION, "v = \"1.5h\";", 0, 1000000, -1, 0, "invalid duration" },
	{ "dur upper M", H_DURATION, "v = \"5M\";", 0, 1000000, -1, 0, "invalid duration" },
	{ "dur upper S", H_DURATION, "v = \"5S\";", 0, 1000000, -1, 0, "invalid duration" },
	{ "dur K", H_DURATION, "v = \"5K\";", 0, 1000000, -1, 0, "invalid duration" },
	{ "dur overflow", H_DURATION, "v = \"99999999999999999w\";", 0, 1000000, -1, 0,
	  "invalid duration" },
	{ "dur too long", H_DURATION, "v = \"2d\";", 0, 86400, -1, 0,
	  "value 172800 out of range [0, 86400]" },
	{ "dur float", H_DURATION, "v = 1.5;", 0, 1000000, -1, 0,
	  "expected a duration, found a float" },
	{ "dur bool", H_DURATION, "v = false;", 0, 1000000, -1, 0,
	  "expected a duration, found a boolean" },

	{ "size int", H_SIZE, "v = 4096;", 0, 1LL << 40, 1, 4096, NULL },
	{ "size plain string", H_SIZE, "v = \"512\";", 0, 1LL << 40, 1, 512, NULL },
	{ "size K", H_SIZE, "v = \"64K\";", 0, 1LL << 40, 1, 65536, NULL },
	{ "size k", H_SIZE, "v = \"64k\";", 0, 1LL << 40, 1, 65536, NULL },
	{ "size M", H_SIZE, "v = \"25M\";", 0, 1LL << 40, 1, 26214400, NULL },
	{ "size m", H_SIZE, "v = \"25m\";", 0, 1LL << 40, 1, 26214400, NULL },
	{ "size G", H_SIZE, "v = \"1G\";", 0, 1LL << 40, 1, 1073741824, NULL },
	{ "size g", H_SIZE, "v = \"4g\";", 0, 1LL << 40, 1, 4294967296LL, NULL },
	{ "size big int64", H_SIZE, "v = 4294967296L;", 0, 1LL << 40, 1, 4294967296LL, NULL },
	{ "size Q", H_SIZE, "v = \"25Q\";", 0, 1LL << 40, -1, 0, "invalid size \"25Q\"" },
	{ "size plus", H_SIZE, "v = \"+1K\";", 0, 1LL << 40, -1, 0, "invalid size" },
	{ "size leading space", H_SIZE, "v = \" 1K\";", 0, 1LL << 40, -1, 0, "invalid size" },
	{ "size hex", H_SIZE, "v = \"0x10\";", 0, 1LL << 40, -1, 0, "invalid size" },
	{ "size KB", H_SIZE, "v = \"10KB\";", 0, 1LL << 40, -1, 0, "invalid size" },
	{ "size s", H_SIZE, "v = \"10s\";", 0, 1LL << 40, -1, 0, "invalid size" },
	{ "size h", H_SIZE, "v = \"2h\";", 0, 1LL << 40, -1, 0, "invalid size" },
	{ "size d", H_SIZE, "v = \"2d\";", 0, 1LL << 40, -1, 0, "invalid size" },
	{ "size w", H_SIZE, "v = \"2w\";", 0, 1LL << 40, -1, 0, "invalid size" },
	{ "size negative", H_SIZE, "v = \"-1K\";", 0, 1LL << 40, -1, 0, "invalid size" },
	{ "size overflow", H_SIZE, "v = \"9999999999999G\";", 0, 1LL << 40, -1, 0,
	  "invalid size" },
	{ "size above", H_SIZE, "v = \"2G\";", 0, 1LL << 30, -1, 0,
	  "value 2147483648 out of range [0, 1073741824]" },
	{ "size below", H_SIZE, "v = 512;", 1024, 1LL << 30, -1, 0,
	  "value 512 out of range [1024, 1073741824]" },
	{ "size list", H_SIZE, "v = ( \"1K\" );", 0, 1LL << 30, -1, 0,
	  "expected a size, found a list" },
	{ "size absent", H_SIZE, "", 0, 1LL << 30, 0, 7, NULL },
};

START_TEST(test_scalar)
{
	config_t lc;
	const config_setting_t *root = doc(&lc, scalar_cases[_i].doc);
	struct cfg_errors errs;
	long long v = 7;
	int rc = 0;

	cfg_errors_init(&errs, "t.conf");
	switch (scalar_cases[_i].h) {
	case H_INT:
		rc = cfg_int(root, "v", scalar_cases[_i].min, scalar_cases[_i].max, &v, &errs);
		break;
	case H_DURATION:
		rc = cfg_duration(root, "v", scalar_cases[_i].min, scalar_cases[_i].max, &v, &errs);
		break;
	case H_SIZE:
		rc = cfg_size(root, "v", scalar_cases[_i].min, scalar_cases[_i].max, &v, &errs);
		break;
	}
	ck_assert_msg(rc == scalar_cases[_i].rc, "%s: rc %d, want %d (%s)",
	    scalar_cases[_i].label, rc, scalar_cases[_i].rc, buf_cstr(&errs.text));
	if (rc >= 0) {
		ck_assert_int_eq(errs.count, 0);
		ck_assert_msg(v == scalar_cases[_i].want, "%s: %lld, want %lld",
		    scalar_cases[_i].label, v, scalar_cases[_i].want);
	} else {
		ck_assert_int_eq(errs.count, 1);
		ck_assert_int_eq(v, 7);		/* untouched on error */
		ck_assert_msg(strncmp(buf_cstr(&errs.text), "t.conf:1: v: ", 13) == 0,
		    "%s: %s", scalar_cases[_i].label, buf_cstr(&errs.text));
		ck_assert_msg(strstr(buf_cstr(&errs.text), scalar_cases[_i].err) != NULL,
		    "%s: want \"%s\" in %s", scalar_cases[_i].label, scalar_cases[_i].err,
		    buf_cstr(&errs.text));
	}
	cfg_errors_fini(&errs);
	config_destroy(&lc);
}
END_TEST

START_TEST(test_helpers_null_group)
{
	struct cfg_errors errs;
	struct strlist l = { NULL, 0 };
	long long v = 3;
	int b = 2;
	char *s = NULL;

	cfg_errors_init(&errs, NULL);
	ck_assert_int_eq(cfg_int(NULL, "v", 0, 10, &v, &errs), 0);
	ck_assert_int_eq(cfg_duration(NULL, "v", 0, 10, &v, &errs), 0);
	ck_assert_int_eq(cfg_size(NULL, "v", 0, 10, &v, &errs), 0);
	ck_assert_int_eq(cfg_bool(NULL, "v", &b, &errs), 0);
	ck_assert_int_eq(cfg_string(NULL, "v", &s, &errs), 0);
	ck_assert_int_eq(cfg_strlist(NULL, "v", &l, &errs), 0);
	cfg_allow_keys(NULL, (const char *const[]){ NULL }, &errs);
	ck_assert_int_eq(v, 3);
	ck_assert_int_eq(b, 2);
	ck_assert_ptr_null(s);
	ck_assert_ptr_null(l.v);
	ck_assert_int_eq(errs.count, 0);
	ck_assert_str_eq(errs.file, "(config)");
	cfg_errors_fini(&errs);
}
END_TEST

START_TEST(test_bool)
{
	config_t lc;
	const config_setting_t *root = doc(&lc, "t = true;\nf = false;\nu = TRUE;\ns = \"yes\";\ni = 1;\n");
	struct cfg_errors errs;
	int b = 5;

	cfg_errors_init(&errs, "b.conf");
	ck_assert_int_eq(cfg_bool(root, "t", &b, &errs), 1);
	ck_assert_int_eq(b, 1);
	ck_assert_int_eq(cfg_bool(root, "f", &b, &errs), 1);
	ck_assert_int_eq(b, 0);
	ck_assert_int_eq(cfg_bool(root, "u", &b, &errs), 1);
	ck_assert_int_eq(b, 1);
	ck_assert_int_eq(cfg_bool(root, "x", &b, &errs), 0);
	ck_assert_int_eq(errs.count, 0);
	ck_assert_int_eq(cfg_bool(root, "s", &b, &errs), -1);
	ck_assert_int_eq(cfg_bool(root, "i", &b, &errs), -1);
	ck_assert_int_eq(b, 1);
	ck_assert_int_eq(errs.count, 2);
	ck_assert_str_eq(buf_cstr(&errs.text),
	    "b.conf:4: s: expected true or false, found a string\n"
	    "b.conf:5: i: expected true or false, found an integer\n");
	cfg_errors_fini(&errs);
	config_destroy(&lc);
}
END_TEST

START_TEST(test_string)
{
	config_t lc;
	const config_setting_t *root = doc(&lc,
	    "g = { a = \"one\"; b = \"\"; n = 3; };\n");
	const config_setting_t *g = config_setting_get_member(root, "g");
	struct cfg_errors errs;
	char *s = strdup("old");

	cfg_errors_init(&errs, "s.conf");
	ck_assert_int_eq(cfg_string(g, "a", &s, &errs), 1);	/* frees "old" */
	ck_assert_str_eq(s, "one");
	ck_assert_int_eq(cfg_string(g, "b", &s, &errs), 1);
	ck_assert_str_eq(s, "");
	ck_assert_int_eq(cfg_string(g, "z", &s, &errs), 0);
	ck_assert_str_eq(s, "");
	ck_assert_int_eq(cfg_string(g, "n", &s, &errs), -1);
	ck_assert_str_eq(s, "");
	ck_assert_str_eq(buf_cstr(&errs.text),
	    "s.conf:1: g.n: expected a string, found an integer\n");
	free(s);
	cfg_errors_fini(&errs);
	config_destroy(&lc);
}
END_TEST

START_TEST(test_strlist)
{
	config_t lc;
	const config_setting_t *root = doc(&lc,
	    "a = [ \"x\", \"Y\" ];\n"
	    "l = ( \"p\" );\n"
	    "e = [ ];\n"
	    "bad = ( \"ok\",\n  7 );\n"
	    "s = \"x\";\n");
	struct cfg_errors errs;
	struct strlist l = { NULL, 0 };

	cfg_errors_init(&errs, "l.conf");
	ck_assert_int_eq(cfg_strlist(root, "a", &l, &errs), 1);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_str_eq(l.v[0], "x");
	ck_assert_str_eq(l.v[1], "Y");
	ck_assert_ptr_null(l.v[2]);
	ck_assert(strlist_has_ci(&l, "y"));
	ck_assert(strlist_has_ci(&l, "X"));
	ck_assert(!strlist_has_ci(&l, "z"));
	ck_assert(!strlist_has_ci(&l, ""));
	/* Replaces (and frees) the previous list. */
	ck_assert_int_eq(cfg_strlist(root, "l", &l, &errs), 1);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_str_eq(l.v[0], "p");
	ck_assert_int_eq(cfg_strlist(root, "e", &l, &errs), 1);
	ck_assert_uint_eq(l.n, 0);
	ck_assert(!strlist_has_ci(&l, "p"));
	ck_assert_int_eq(errs.count, 0);
	/* Errors leave the list as it was. */
	ck_assert_int_eq(cfg_strlist(root, "a", &l, &errs), 1);
	ck_assert_int_eq(cfg_strlist(root, "bad", &l, &errs), -1);
	ck_assert_int_eq(cfg_strlist(root, "s", &l, &errs), -1);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_int_eq(errs.count, 2);
	ck_assert_str_eq(buf_cstr(&errs.text),
	    "l.conf:5: bad[1]: element 1 is not a string\n"
	    "l.conf:6: s: expected a list of strings [\"a\", \"b\"], found a string\n");
	strlist_free(&l);
	ck_assert_ptr_null(l.v);
	ck_assert_uint_eq(l.n, 0);
	strlist_free(&l);	/* twice is harmless */
	cfg_errors_fini(&errs);
	config_destroy(&lc);
}
END_TEST

START_TEST(test_allow_keys)
{
	static const char *const keys[] = { "alpha", "beta", NULL };
	config_t lc;
	const config_setting_t *root = doc(&lc,
	    "g = {\n  alpha = 1;\n  gamma = 2;\n  beta = 3;\n  Alpha = 4;\n};\n");
	struct cfg_errors errs;

	cfg_errors_init(&errs, "k.conf");
	cfg_allow_keys(config_setting_get_member(root, "g"), keys, &errs);
	ck_assert_int_eq(errs.count, 2);
	/* Names are case-sensitive, as libconfig's are. */
	ck_assert_str_eq(buf_cstr(&errs.text),
	    "k.conf:3: g.gamma: unknown key\n"
	    "k.conf:5: g.Alpha: unknown key\n");
	cfg_errors_fini(&errs);
	config_destroy(&lc);
}
END_TEST

START_TEST(test_cfg_error)
{
	config_t lc;
	const config_setting_t *root = doc(&lc,
	    "outer = {\n  inner = {\n    leaf = 1;\n  };\n};\n"
	    "list = ( { id = \"x\"; } );\n");
	const config_setting_t *leaf = config_lookup(&lc, "outer.inner.leaf");
	const config_setting_t *id = config_lookup(&lc, "list.[0].id");
	struct cfg_errors errs;
	int i;

	(void)root;
	ck_assert_ptr_nonnull(leaf);
	ck_assert_ptr_nonnull(id);
	cfg_errors_init(&errs, "e.conf");
	cfg_error(&errs, NULL, "some.key", "no place %d", 1);
	cfg_error(&errs, NULL, NULL, "no key");
	cfg_error(&errs, leaf, "leaf", "named by its path");
	cfg_error(&errs, leaf, "other", "a different key keeps its name");
	cfg_error(&errs, leaf, "a.b", "a dotted key takes the path");
	cfg_error(&errs, id, "id", "inside a list");
	ck_assert_int_eq(errs.count, 6);
	ck_assert_str_eq(buf_cstr(&errs.text),
	    "e.conf:0: some.key: no place 1\n"
	    "e.conf:0: -: no key\n"
	    "e.conf:3: outer.inner.leaf: named by its path\n"
	    "e.conf:3: other: a different key keeps its name\n"
	    "e.conf:3: outer.inner.leaf: a dotted key takes the path\n"
	    "e.conf:6: list[0].id: inside a list\n");
	/* Past CFG_MAX_ERRORS the count goes on but the text stops. */
	for (i = 0; i < CFG_MAX_ERRORS + 10; i++)
		cfg_error(&errs, NULL, "k", "error %d", i);
	ck_assert_int_eq(errs.count, 6 + CFG_MAX_ERRORS + 10);
	ck_assert_int_eq(count_prefixed(buf_cstr(&errs.text), "e.conf:"), CFG_MAX_ERRORS);
	cfg_errors_fini(&errs);
	config_destroy(&lc);
}
END_TEST

/* ---------- CIDR ---------- */

static const struct {
	const char	*input;
	int		 ok;
	int		 family;
	int		 prefix;
} cidr_parse_cases[] = {
	{ "192.0.2.0/24", 1, AF_INET, 24 },
	{ "10.1.2.3", 1, AF_INET, 32 },
	{ "0.0.0.0/0", 1, AF_INET, 0 },
	{ "192.0.2.1/32", 1, AF_INET, 32 },
	{ "::1", 1, AF_INET6, 128 },
	{ "2001:db8::/32", 1, AF_INET6, 32 },
	{ "::/0", 1, AF_INET6, 0 },
	{ "2001:db8::1/128", 1, AF_INET6, 128 },
	{ "::ffff:192.0.2.1", 1, AF_INET6, 128 },
	{ "192.0.2.0/33", 0, 0, 0 },
	{ "2001:db8::/129", 0, 0, 0 },
	{ "192.0.2.0/", 0, 0, 0 },
	{ "192.0.2.0/-1", 0, 0, 0 },
	{ "192.0.2.0/+8", 0, 0, 0 },
	{ "192.0.2.0/ 8", 0, 0, 0 },
	{ "192.0.2.0/08", 1, AF_INET, 8 },
	{ "192.0.2.0/24x", 0, 0, 0 },
	{ "192.0.2.0/24/8", 0, 0, 0 },
	{ "/24", 0, 0, 0 },
	{ "", 0, 0, 0 },
	{ "192.0.2", 0, 0, 0 },
	{ "192.0.2.256", 0, 0, 0 },
	{ "example.com", 0, 0, 0 },
	{ "2001:db8:::1", 0, 0, 0 },
	{ "192.0.2.1 ", 0, 0, 0 },
	{ "2001:0db8:0000:0000:0000:0000:0000:0001:0001/64", 0, 0, 0 },
};

START_TEST(test_cidr_parse)
{
	struct cidr c;
	int rc = cidr_parse(cidr_parse_cases[_i].input, &c);

	ck_assert_msg((rc == 0) == cidr_parse_cases[_i].ok, "\"%s\": rc %d",
	    cidr_parse_cases[_i].input, rc);
	if (rc == 0) {
		ck_assert_int_eq(c.family, cidr_parse_cases[_i].family);
		ck_assert_int_eq(c.prefix, cidr_parse_cases[_i].prefix);
	}
}
END_TEST

static const struct {
	const char	*net;
	const char	*addr;
	int		 match;
} cidr_match_cases[] = {
	{ "192.0.2.0/24", "192.0.2.0", 1 },
	{ "192.0.2.0/24", "192.0.2.255", 1 },
	{ "192.0.2.0/24", "192.0.3.0", 0 },
	{ "192.0.2.0/24", "192.0.1.255", 0 },
	{ "192.0.2.1", "192.0.2.1", 1 },
	{ "192.0.2.1", "192.0.2.2", 0 },
	{ "192.0.2.1/24", "192.0.2.200", 1 },		/* host bits ignored */
	{ "10.0.0.0/8", "10.255.255.255", 1 },
	{ "10.0.0.0/8", "11.0.0.0", 0 },
	{ "172.16.0.0/12", "172.31.255.1", 1 },
	{ "172.16.0.0/12", "172.32.0.1", 0 },
	{ "192.0.2.128/25", "192.0.2.129", 1 },
	{ "192.0.2.128/25", "192.0.2.127", 0 },
	{ "192.0.2.0/31", "192.0.2.1", 1 },
	{ "192.0.2.0/31", "192.0.2.2", 0 },
	{ "0.0.0.0/0", "203.0.113.9", 1 },
	{ "0.0.0.0/0", "2001:db8::1", 0 },		/* families differ */
	{ "192.0.2.0/24", "[192.0.2.7]", 1 },		/* Postfix/Sendmail literal */
	{ "192.0.2.0/24", "[192.0.3.7]", 0 },
	{ "192.0.2.0/24", "[192.0.2.7", 0 },
	{ "192.0.2.0/24", "::ffff:192.0.2.7", 1 },	/* IPv4-mapped */
	{ "192.0.2.0/24", "IPv6:::ffff:192.0.2.7", 1 },
	{ "192.0.2.0/24", "::ffff:192.0.3.7", 0 },
	{ "192.0.2.0/24", "::192.0.2.7", 0 },		/* not mapped */
	{ "::ffff:192.0.2.0/120", "::ffff:192.0.2.9", 1 },
	{ "2001:db8::/32", "2001:db8::1", 1 },
	{ "2001:db8::/32", "2001:db8:ffff:ffff::1", 1 },
	{ "2001:db8::/32", "2001:db9::1", 0 },
	{ "2001:db8::/32", "IPv6:2001:db8::25", 1 },	/* Sendmail form */
	{ "2001:db8::/32", "ipv6:2001:db8::25", 1 },
	{ "2001:db8::/32", "[IPv6:2001:db8::25]", 1 },
	{ "2001:db8::/32", "[2001:db8::25]", 1 },
	{ "2001:db8::/32", "IPv6:2001:db9::25", 0 },
	{ "2001:db8::/33", "2001:db8:7fff::1", 1 },
	{ "2001:db8::/33", "2001:db8:8000::1", 0 },
	{ "2001:db8::1/127", "2001:db8::0", 1 },
	{ "2001:db8::1/127", "2001:db8::2", 0 },
	{ "::1", "::1", 1 },
	{ "::1", "::2", 0 },
	{ "::1", "127.0.0.1", 0 },
	{ "::/0", "fe80::1", 1 },
	{ "::/0", "192.0.2.1", 0 },
	{ "192.0.2.0/24", "", 0 },
	{ "192.0.2.0/24", "[]", 0 },
	{ "192.0.2.0/24", "unknown", 0 },
	{ "192.0.2.0/24", "192.0.2.7 ", 0 },
	{ "192.0.2.0/24", "IPv6:", 0 },
};

START_TEST(test_cidr_match)
{
	struct cidr c;
	int got;

	ck_assert_int_eq(cidr_parse(cidr_match_cases[_i].net, &c), 0);
	got = cidr_match(&c, cidr_match_cases[_i].addr) != 0;
	ck_assert_msg(got == cidr_match_cases[_i].match, "%s in %s: %d, want %d",
	    cidr_match_cases[_i].addr, cidr_match_cases[_i].net, got,
	    cidr_match_cases[_i].match);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tcase_create("bad files");
	tcase_add_loop_test(tc, test_bad_file, 0, NELEM(bad_cases));
	tcase_add_test(tc, test_bad_many_order);
	tcase_add_test(tc, test_bad_include);
	tcase_add_test(tc, test_missing_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("good files");
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_good_empty);
	tcase_add_test(tc, test_good_sections);
	tcase_add_test(tc, test_good_partial);
	tcase_add_test(tc, test_good_full);
	tcase_add_test(tc, test_good_include);
	tcase_add_test(tc, test_sample);
	tcase_add_test(tc, test_sample_has_core_keys);
	tcase_add_test(tc, test_sample_documented);
	tcase_add_test(tc, test_checks_documented);
	suite_add_tcase(s, tc);

	tc = tcase_create("replies");
	tcase_add_loop_test(tc, test_reply, 0, NELEM(reply_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("socket mode");
	tcase_add_loop_test(tc, test_socket_mode, 0, NELEM(mode_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("helpers");
	tcase_add_loop_test(tc, test_scalar, 0, NELEM(scalar_cases));
	tcase_add_test(tc, test_helpers_null_group);
	tcase_add_test(tc, test_bool);
	tcase_add_test(tc, test_string);
	tcase_add_test(tc, test_strlist);
	tcase_add_test(tc, test_allow_keys);
	tcase_add_test(tc, test_cfg_error);
	suite_add_tcase(s, tc);

	tc = tcase_create("cidr");
	tcase_add_loop_test(tc, test_cidr_parse, 0, NELEM(cidr_parse_cases));
	tcase_add_loop_test(tc, test_cidr_match, 0, NELEM(cidr_match_cases));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
