/*
 * check_metrics - the Prometheus exposition writer (escaping, histograms
 * cumulative with +Inf equal to _count, _sum), its line reader (round trip
 * of what the writer writes, malformed lines refused), the registry (every
 * update lands in its one series, bounded label sets, concurrent updates
 * add up) and the `metrics` section (loopback rule, errors with line).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "egress/buf.h"
#include "egress/cfg.h"
#include "egress/config.h"
#include "egress/findings.h"
#include "egress/metrics.h"
#include "egress/prom.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* ---- writer: escaping ---- */

struct esc_case {
	const char	*label;
	const char	*value;		/* a label value */
	const char	*want;		/* the sample line */
};

static const struct esc_case esc_cases[] = {
	{ "plain", "accept", "m{l=\"accept\"} 7\n" },
	{ "empty", "", "m{l=\"\"} 7\n" },
	{ "backslash", "a\\b", "m{l=\"a\\\\b\"} 7\n" },
	{ "double quote", "say \"hi\"", "m{l=\"say \\\"hi\\\"\"} 7\n" },
	{ "line feed", "a\nb", "m{l=\"a\\nb\"} 7\n" },
	{ "all three", "\\\"\n", "m{l=\"\\\\\\\"\\n\"} 7\n" },
	{ "UTF-8 kept", "caf\xc3\xa9", "m{l=\"caf\xc3\xa9\"} 7\n" },
	{ "CR and TAB kept", "a\rb\tc", "m{l=\"a\rb\tc\"} 7\n" },
};

START_TEST(test_escape)
{
	const struct esc_case *c = &esc_cases[_i];
	struct prom_label l = { "l", c->value };
	struct buf b;

	buf_init(&b, 0);
	ck_assert_int_eq(prom_sample_u64(&b, "m", &l, 1, 7), BUF_OK);
	ck_assert_msg(strcmp(buf_cstr(&b), c->want) == 0, "%s: got [%s] want [%s]",
	    c->label, buf_cstr(&b), c->want);
	buf_fini(&b);
}
END_TEST

START_TEST(test_help_escape)
{
	struct buf b;

	buf_init(&b, 0);
	/* HELP escapes backslash and line feed, not the double quote */
	ck_assert_int_eq(prom_family(&b, "x_total", "counter",
	    "a \"q\" \\ b\nc"), BUF_OK);
	ck_assert_str_eq(buf_cstr(&b),
	    "# HELP x_total a \"q\" \\\\ b\\nc\n# TYPE x_total counter\n");
	buf_fini(&b);
}
END_TEST

START_TEST(test_no_labels_and_values)
{
	struct prom_label two[2] = { { "a", "1" }, { "b", "2" } };
	struct buf b;

	buf_init(&b, 0);
	ck_assert_int_eq(prom_sample_i64(&b, "g", NULL, 0, -3), BUF_OK);
	ck_assert_int_eq(prom_sample_u64(&b, "c", two, 2, 18446744073709551615ULL),
	    BUF_OK);
	ck_assert_int_eq(prom_sample_f(&b, "f", NULL, 0, 0.1), BUF_OK);
	ck_assert_int_eq(prom_sample_f(&b, "f", NULL, 0, 1.0 / 0.0), BUF_OK);
	ck_assert_int_eq(prom_sample_f(&b, "f", NULL, 0, -1.0 / 0.0), BUF_OK);
	ck_assert_int_eq(prom_sample_f(&b, "f", NULL, 0, 0.0 / 0.0), BUF_OK);
	ck_assert_int_eq(prom_sample_f(&b, "f", NULL, 0, 2.5e-6), BUF_OK);
	ck_assert_str_eq(buf_cstr(&b), "g -3\nc{a=\"1\",b=\"2\"} 18446744073709551615\n"
	    "f 0.1\nf +Inf\nf -Inf\nf NaN\nf 2.5e-06\n");
	buf_fini(&b);
}
END_TEST

/* ---- writer: histograms ---- */

START_TEST(test_histogram)
{
	static const double bounds[] = { 0.001, 0.01, 0.1 };
	const uint64_t counts[] = { 2, 0, 5, 1 };	/* last: over 0.1 */
	struct prom_label l = { "op", "get" };
	struct buf b;

	buf_init(&b, 0);
	ck_assert_int_eq(prom_histogram(&b, "h_seconds", &l, 1, bounds, 3,
	    counts, 1.25), BUF_OK);
	ck_assert_str_eq(buf_cstr(&b),
	    "h_seconds_bucket{op=\"get\",le=\"0.001\"} 2\n"
	    "h_seconds_bucket{op=\"get\",le=\"0.01\"} 2\n"
	    "h_seconds_bucket{op=\"get\",le=\"0.1\"} 7\n"
	    "h_seconds_bucket{op=\"get\",le=\"+Inf\"} 8\n"
	    "h_seconds_sum{op=\"get\"} 1.25\n"
	    "h_seconds_count{op=\"get\"} 8\n");
	buf_reset(&b);
	/* no labels: le alone */
	ck_assert_int_eq(prom_histogram(&b, "h", NULL, 0, bounds, 1, counts, 0),
	    BUF_OK);
	ck_assert_str_eq(buf_cstr(&b), "h_bucket{le=\"0.001\"} 2\n"
	    "h_bucket{le=\"+Inf\"} 2\nh_sum 0\nh_count 2\n");
	buf_fini(&b);
}
END_TEST

START_TEST(test_limit)
{
	struct buf b;

	buf_init(&b, 8);
	ck_assert_int_eq(prom_sample_u64(&b, "long_metric_name", NULL, 0, 1),
	    BUF_ERR_LIMIT);
	buf_fini(&b);
}
END_TEST

START_TEST(test_bad_name_aborts)
{
	struct buf b;

	buf_init(&b, 0);
	if (prom_sample_u64(&b, "9bad", NULL, 0, 1) == BUF_OK)
		buf_fini(&b);
}
END_TEST

START_TEST(test_bad_label_name_aborts)
{
	struct prom_label l = { "a:b", "x" };	/* ':' only in metric names */
	struct buf b;

	buf_init(&b, 0);
	if (prom_sample_u64(&b, "m", &l, 1, 1) == BUF_OK)
		buf_fini(&b);
}
END_TEST

/* ---- reader ---- */

struct parse_case {
	const char	*label;
	const char	*line;
	int		 want;		/* enum prom_parse_rc */
	const char	*name;
	size_t		 nlabels;
	const char	*l0, *v0;	/* first label */
	double		 value;
};

static const struct parse_case parse_cases[] = {
	{ "blank", "", PROM_SKIP, NULL, 0, NULL, NULL, 0 },
	{ "blanks", " \t ", PROM_SKIP, NULL, 0, NULL, NULL, 0 },
	{ "help", "# HELP a b", PROM_SKIP, NULL, 0, NULL, NULL, 0 },
	{ "plain", "up 1", PROM_SAMPLE, "up", 0, NULL, NULL, 1 },
	{ "CR end", "up 1\r", PROM_SAMPLE, "up", 0, NULL, NULL, 1 },
	{ "labels", "m{a=\"x\",b=\"y\"} 2.5", PROM_SAMPLE, "m", 2, "a", "x", 2.5 },
	{ "trailing comma", "m{a=\"x\",} 3", PROM_SAMPLE, "m", 1, "a", "x", 3 },
	{ "blanks in braces", "m{ a = \"x\" , b=\"\" } 3", PROM_SAMPLE, "m", 2,
	    "a", "x", 3 },
	{ "empty braces", "m{} 4", PROM_SAMPLE, "m", 0, NULL, NULL, 4 },
	{ "escapes", "m{a=\"q\\\"b\\\\n\\n\"} 1", PROM_SAMPLE, "m", 1, "a",
	    "q\"b\\n\n", 1 },
	{ "timestamp", "m 1 1700000000000", PROM_SAMPLE, "m", 0, NULL, NULL, 1 },
	{ "+Inf", "m +Inf", PROM_SAMPLE, "m", 0, NULL, NULL, 1.0 / 0.0 },
	{ "exponent", "m 2.5e-06", PROM_SAMPLE, "m", 0, NULL, NULL, 2.5e-6 },
	{ "colon name", "a:b_c 1", PROM_SAMPLE, "a:b_c", 0, NULL, NULL, 1 },
	{ "no value", "m", PROM_BAD, NULL, 0, NULL, NULL, 0 },
	{ "no blank", "m{a=\"x\"}1", PROM_BAD, NULL, 0, NULL, NULL, 0 },
	{ "bad value", "m one", PROM_BAD, NULL, 0, NULL, NULL, 0 },
	{ "digit first", "1m 1", PROM_BAD, NULL, 0, NULL, NULL, 0 },
	{ "unterminated", "m{a=\"x} 1", PROM_BAD, NULL, 0, NULL, NULL, 0 },
	{ "unknown escape", "m{a=\"\\t\"} 1", PROM_BAD, NULL, 0, NULL, NULL, 0 },
	{ "no equals", "m{a\"x\"} 1", PROM_BAD, NULL, 0, NULL, NULL, 0 },
	{ "unquoted", "m{a=x} 1", PROM_BAD, NULL, 0, NULL, NULL, 0 },
	{ "junk after", "m 1 2 3", PROM_BAD, NULL, 0, NULL, NULL, 0 },
	{ "bad timestamp", "m 1 x", PROM_BAD, NULL, 0, NULL, NULL, 0 },
	{ "too many labels", "m{a=\"\",b=\"\",c=\"\",d=\"\",e=\"\",f=\"\",g=\"\","
	    "h=\"\",i=\"\"} 1", PROM_BAD, NULL, 0, NULL, NULL, 0 },
};

START_TEST(test_parse)
{
	const struct parse_case *c = &parse_cases[_i];
	struct prom_line l;
	int rc = prom_parse_line(c->line, strlen(c->line), &l);

	ck_assert_msg(rc == c->want, "%s: rc %d want %d", c->label, rc, c->want);
	if (rc != PROM_SAMPLE)
		return;
	ck_assert_str_eq(l.name, c->name);
	ck_assert_uint_eq(l.nlabels, c->nlabels);
	if (c->l0 != NULL) {
		ck_assert_str_eq(l.labels[0].name, c->l0);
		ck_assert_str_eq(l.labels[0].value, c->v0);
		ck_assert_ptr_nonnull(prom_line_label(&l, c->l0));
	}
	ck_assert_msg(l.value == c->value, "%s: value %g", c->label, l.value);
}
END_TEST

START_TEST(test_parse_long_value)
{
	char line[PROM_VALUE_MAX + 32];
	struct prom_line l;

	snprintf(line, sizeof(line), "m{a=\"%0*d\"} 1", PROM_VALUE_MAX, 0);
	ck_assert_int_eq(prom_parse_line(line, strlen(line), &l), PROM_BAD);
	snprintf(line, sizeof(line), "m{a=\"%0*d\"} 1", PROM_VALUE_MAX - 1, 0);
	ck_assert_int_eq(prom_parse_line(line, strlen(line), &l), PROM_SAMPLE);
	ck_assert_uint_eq(strlen(l.labels[0].value), PROM_VALUE_MAX - 1);
}
END_TEST

/* Every line the writer writes reads back to the same values. */
START_TEST(test_round_trip)
{
	struct prom_label l = { "v", "a\\b\"c\nd" };
	struct buf b;
	struct prom_line pl;
	const char *p;
	size_t n = 0;

	buf_init(&b, 0);
	ck_assert_int_eq(prom_sample_f(&b, "x", &l, 1, 0.000123456789), BUF_OK);
	p = buf_cstr(&b);
	ck_assert_int_eq(prom_parse_line(p, strlen(p) - 1, &pl), PROM_SAMPLE);
	ck_assert_str_eq(pl.labels[0].value, l.value);
	ck_assert(pl.value == 0.000123456789);
	(void)n;
	buf_fini(&b);
}
END_TEST

/* ---- the registry ---- */

/* The value of the series "name{labels}" in the page, or -1. */
static double
series(const char *page, const char *name, const char *lname, const char *lval)
{
	const char *p = page, *nl;
	struct prom_line l;

	for (; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		ck_assert_ptr_nonnull(nl);
		if (prom_parse_line(p, (size_t)(nl - p), &l) != PROM_SAMPLE)
			continue;
		if (strcmp(l.name, name) != 0)
			continue;
		if (lname == NULL ||
		    (prom_line_label(&l, lname) != NULL &&
		    strcmp(prom_line_label(&l, lname), lval) == 0))
			return l.value;
	}
	return -1;
}

/* Every line of the page is a comment or a valid sample. */
static size_t
check_page(const char *page)
{
	const char *p = page, *nl;
	struct prom_line l;
	size_t n = 0;
	int rc;

	for (; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		ck_assert_ptr_nonnull(nl);
		rc = prom_parse_line(p, (size_t)(nl - p), &l);
		ck_assert_msg(rc != PROM_BAD, "bad line: %.*s", (int)(nl - p), p);
		n += rc == PROM_SAMPLE;
	}
	return n;
}

START_TEST(test_registry)
{
	struct metrics *m = metrics_new();
	struct findings f;
	struct sender_facts sf;
	struct buf b;
	const char *page;

	ck_assert_ptr_nonnull(m);
	metrics_message(m, ACT_ACCEPT, ACT_ACCEPT, 0);
	metrics_message(m, ACT_REJECT, ACT_REJECT, 0);
	metrics_message(m, ACT_REJECT, ACT_REJECT, 0);
	metrics_message(m, ACT_TAG, ACT_REJECT, 1);	/* monitor */
	findings_init(&f, 0);
	ck_assert_int_eq(findings_add(&f, "rfc5322.from.duplicate", "x"), 0);
	ck_assert_int_eq(findings_add(&f, "rule.mine", "x"), 0);
	ck_assert_int_eq(findings_add(&f, "rule.other", "x"), 0);
	metrics_findings(m, &f);
	findings_fini(&f);
	metrics_bounce(m, "userunknown", MMATCH_UNKNOWN);
	metrics_bounce(m, "blocked", MMATCH_YES);
	metrics_bounce(m, "not-a-reason", MMATCH_NO);
	metrics_bounce(m, NULL, MMATCH_NO);
	sender_facts_init(&sf, NULL);
	ck_assert_ptr_nonnull(sender_facts_add(&sf, "sender.rate", "env:a", 0, NULL));
	ck_assert_ptr_nonnull(sender_facts_add(&sf, "recipient.suppressed", "x", 0, NULL));
	metrics_sender_facts(m, &sf);
	metrics_store(m, MSTORE_SENDER_CHECK, 3000, 0);		/* 3 us */
	metrics_store(m, MSTORE_SENDER_CHECK, 2000000, -2);	/* 2 ms, down */
	metrics_stage(m, MSTAGE_EOM, 10000);			/* = 1e-5: le */
	metrics_session(m, 1);
	metrics_session(m, 1);
	metrics_session(m, -1);
	metrics_reload(m, 1);
	metrics_reload(m, 0);
	metrics_reload(m, 0);

	buf_init(&b, 0);
	ck_assert_int_eq(metrics_write(m, "1.2\"3", &b), BUF_OK);
	page = buf_cstr(&b);
	ck_assert_uint_eq(check_page(page), metrics_series(m));
	ck_assert(strstr(page, "milter_egress_build_info{version=\"1.2\\\"3\"} 1\n"));
#define S(n, l, v)	series(page, "milter_egress_" n, l, v)
	ck_assert(S("messages_total", "action", "accept") == 1);
	ck_assert(S("messages_total", "action", "reject") == 2);
	ck_assert(S("messages_total", "action", "tag") == 1);
	ck_assert(S("messages_total", "action", "hold") == 0);
	ck_assert(S("messages_would_total", "action", "reject") == 1);
	ck_assert(S("messages_would_total", "action", "accept") == 0);
	ck_assert(S("findings_total", "check", "rfc5322.from.duplicate") == 1);
	ck_assert(S("findings_total", "check", "rule.*") == 2);
	ck_assert(S("findings_total", "check", "rfc5322.date.missing") == 0);
	ck_assert(strstr(page, "bounces_total{reason=\"userunknown\",category=\"recipient\",matched=\"unknown\"} 1\n"));
	ck_assert(strstr(page, "bounces_total{reason=\"blocked\",category=\"reputation\",matched=\"yes\"} 1\n"));
	ck_assert(strstr(page, "bounces_total{reason=\"undefined\",category=\"transient\",matched=\"no\"} 2\n"));
	ck_assert(S("sender_actions_total", "action", "throttle") == 1);
	ck_assert(S("sender_actions_total", "action", "suppress") == 1);
	ck_assert(S("sender_actions_total", "action", "tag") == 0);
	ck_assert(strstr(page, "store_duration_seconds_bucket{op=\"sender_check\",le=\"2e-06\"} 0\n"));
	ck_assert(strstr(page, "store_duration_seconds_bucket{op=\"sender_check\",le=\"5e-06\"} 1\n"));
	ck_assert(strstr(page, "store_duration_seconds_bucket{op=\"sender_check\",le=\"0.001\"} 1\n"));
	ck_assert(strstr(page, "store_duration_seconds_bucket{op=\"sender_check\",le=\"0.0025\"} 2\n"));
	ck_assert(strstr(page, "store_duration_seconds_bucket{op=\"sender_check\",le=\"+Inf\"} 2\n"));
	ck_assert(strstr(page, "store_duration_seconds_count{op=\"sender_check\"} 2\n"));
	ck_assert(strstr(page, "store_duration_seconds_sum{op=\"sender_check\"} 0.002003\n"));
	ck_assert(strstr(page, "store_errors_total{op=\"sender_check\",error=\"unavailable\"} 1\n"));
	ck_assert(strstr(page, "store_errors_total{op=\"sender_check\",error=\"error\"} 0\n"));
	ck_assert(strstr(page, "callback_duration_seconds_bucket{stage=\"eom\",le=\"1e-05\"} 1\n"));
	ck_assert(S("sessions_active", NULL, NULL) == 1);
	ck_assert(S("config_reloads_total", "result", "success") == 1);
	ck_assert(S("config_reloads_total", "result", "failure") == 2);
#undef S
	buf_fini(&b);
	metrics_free(m);
}
END_TEST

START_TEST(test_null_registry)
{
	/* metrics off: every update is a no-op */
	metrics_message(NULL, ACT_ACCEPT, ACT_ACCEPT, 0);
	metrics_findings(NULL, NULL);
	metrics_bounce(NULL, "blocked", MMATCH_YES);
	metrics_sender_facts(NULL, NULL);
	metrics_store(NULL, MSTORE_SENDER_CHECK, 1, 0);
	metrics_stage(NULL, MSTAGE_EOM, 1);
	metrics_session(NULL, 1);
	metrics_reload(NULL, 1);
	metrics_free(NULL);
}
END_TEST

#define NTHREADS	4
#define NROUNDS		100000

static void *
hammer(void *arg)
{
	struct metrics *m = arg;
	int i;

	for (i = 0; i < NROUNDS; i++) {
		metrics_message(m, ACT_ACCEPT, ACT_ACCEPT, 0);
		metrics_stage(m, MSTAGE_BODY, (uint64_t)i);
	}
	return NULL;
}

START_TEST(test_concurrent)
{
	struct metrics *m = metrics_new();
	pthread_t t[NTHREADS];
	struct buf b;
	int i;

	for (i = 0; i < NTHREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, m), 0);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	buf_init(&b, 0);
	ck_assert_int_eq(metrics_write(m, "x", &b), BUF_OK);
	ck_assert(series(buf_cstr(&b), "milter_egress_messages_total", "action",
	    "accept") == NTHREADS * NROUNDS);
	ck_assert(strstr(buf_cstr(&b),
	    "callback_duration_seconds_count{stage=\"body\"} 400000\n"));
	buf_fini(&b);
	metrics_free(m);
}
END_TEST

/* ---- reading a page back (egressctl stats) ---- */

struct q_case {
	const char	*label;
	double		 q;
	size_t		 n;
	double		 le[4], cum[4];
	double		 want;		/* NaN: NaN */
};

#define INF	(1.0 / 0.0)
static const struct q_case q_cases[] = {
	{ "empty", 0.5, 0, { 0 }, { 0 }, 0.0 / 0.0 },
	{ "all zero", 0.5, 2, { 1, INF }, { 0, 0 }, 0.0 / 0.0 },
	{ "middle of first", 0.5, 2, { 1, INF }, { 10, 10 }, 0.5 },
	{ "second bucket", 0.5, 3, { 1, 2, INF }, { 2, 10, 10 }, 1.375 },
	{ "p99 in +Inf", 0.99, 3, { 1, 2, INF }, { 2, 8, 10 }, 2 },
	{ "only +Inf", 0.5, 1, { INF }, { 4 }, 0.0 / 0.0 },
	{ "exact bound", 1.0, 2, { 1, INF }, { 3, 3 }, 1 },
};

START_TEST(test_quantile)
{
	const struct q_case *c = &q_cases[_i];
	double v = metrics_quantile(c->q, c->le, c->cum, c->n);

	if (c->want != c->want)
		ck_assert_msg(v != v, "%s: %g, want NaN", c->label, v);
	else
		ck_assert_msg(v > c->want - 1e-9 && v < c->want + 1e-9,
		    "%s: %g, want %g", c->label, v, c->want);
}
END_TEST

/* The daemon's own page read back: the summary egressctl prints. */
START_TEST(test_summary)
{
	struct metrics *m = metrics_new();
	struct metrics_summary *s = metrics_summary_new();
	struct findings f;
	struct buf page, out;
	const char *t;
	int i;

	findings_init(&f, 0);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(findings_add(&f, "rfc5322.date.missing", "x"), 0);
	ck_assert_int_eq(findings_add(&f, "body.line_too_long", "x"), 0);
	metrics_findings(m, &f);
	findings_fini(&f);
	metrics_message(m, ACT_REJECT, ACT_REJECT, 0);
	metrics_message(m, ACT_ACCEPT, ACT_HOLD, 1);
	metrics_bounce(m, "userunknown", MMATCH_YES);
	metrics_bounce(m, "hostunknown", MMATCH_UNKNOWN);
	metrics_bounce(m, "blocked", MMATCH_NO);
	/* 100 store calls: 50 at 3 us, 49 at 40 us, 1 at 0.7 s */
	for (i = 0; i < 50; i++)
		metrics_store(m, MSTORE_SENDER_CHECK, 3000, 0);
	for (i = 0; i < 49; i++)
		metrics_store(m, MSTORE_SENDER_CHECK, 40000, 0);
	metrics_store(m, MSTORE_SENDER_CHECK, 700000000, -1);
	buf_init(&page, 0);
	ck_assert_int_eq(metrics_write(m, "9.9", &page), BUF_OK);
	/* fed in two pieces that end at a line end */
	t = strchr(page.data + page.len / 2, '\n') + 1;
	metrics_summary_feed(s, page.data, (size_t)(t - page.data));
	metrics_summary_feed(s, t, page.len - (size_t)(t - page.data));
	ck_assert_uint_eq(metrics_summary_bad_lines(s), 0);
	ck_assert_uint_eq(metrics_summary_samples(s), metrics_series(m));
	buf_init(&out, 0);
	ck_assert_int_eq(metrics_summary_format(s, &out), BUF_OK);
	t = buf_cstr(&out);
	ck_assert_msg(strstr(t, "milter-egress 9.9: 0 session(s) active; reloads 0 ok, 0 failed\n"), "%s", t);
	ck_assert_msg(strstr(t, "\nmessages: accept 1 tag 0 repair 0 hold 0 tempfail 0 reject 1 (total 2)\n"), "%s", t);
	ck_assert_msg(strstr(t, "\nmonitor mode would have: accept 0 tag 0 repair 0 hold 1 tempfail 0 reject 0 (total 1)\n"), "%s", t);
	/* sorted by count */
	ck_assert_msg(strstr(t, "top findings:\n         3  rfc5322.date.missing\n         1  body.line_too_long\n"), "%s", t);
	ck_assert_msg(strstr(t, "\n  recipient              2  (1 / 0 / 1)\n"), "%s", t);
	ck_assert_msg(strstr(t, "\n  reputation             1  (0 / 1 / 0)\n"), "%s", t);
	/* p50 in the 2-5 us bucket, p99 in 25-50 us, the one slow call past it */
	ck_assert_msg(strstr(t, "\n  sender_check     p50 5us  p99 50us  (100 calls, 1 errors)\n"), "%s", t);
	buf_fini(&out);
	buf_fini(&page);
	metrics_summary_free(s);
	metrics_free(m);
}
END_TEST

/* A hostile page: bounded tables, escaped labels, malformed lines counted. */
START_TEST(test_summary_hostile)
{
	struct metrics_summary *s = metrics_summary_new();
	struct buf page, out;
	int i;

	buf_init(&page, 0);
	for (i = 0; i < 2 * METRICS_SUMMARY_KEYS; i++)
		ck_assert_int_eq(buf_printf(&page,
		    "milter_egress_findings_total{check=\"c%d\"} %d\n", i, i), BUF_OK);
	for (i = 0; i < 2 * METRICS_SUMMARY_BUCKETS; i++)
		ck_assert_int_eq(buf_printf(&page,
		    "milter_egress_store_duration_seconds_bucket{op=\"x\",le=\"%d\"} %d\n",
		    2 * METRICS_SUMMARY_BUCKETS - i, i), BUF_OK);
	ck_assert_int_eq(buf_puts(&page,
	    "milter_egress_build_info{version=\"\x1b[31m\\nred\"} 1\n"
	    "milter_egress_messages_total{action=\"nope\"} 5\n"
	    "milter_egress_messages_total{action=\"reject\"} NaN\n"
	    "garbage {{{\n"), BUF_OK);
	ck_assert_int_eq(buf_append(&page, "\0\n", 2), BUF_OK);	/* a NUL line */
	metrics_summary_feed(s, page.data, page.len);
	ck_assert_uint_eq(metrics_summary_bad_lines(s), 2);
	buf_init(&out, 0);
	ck_assert_int_eq(metrics_summary_format(s, &out), BUF_OK);
	/* the version's ESC and LF are escaped, never printed raw */
	ck_assert_ptr_null(strchr(buf_cstr(&out), '\x1b'));
	ck_assert_msg(strstr(buf_cstr(&out), "milter-egress \\x1b[31m\\x0ared; "), "%s", buf_cstr(&out));
	ck_assert_msg(strstr(buf_cstr(&out), " reject nan "), "%s", buf_cstr(&out));
	/* the top ten of what fitted */
	ck_assert_msg(strstr(buf_cstr(&out), "       255  c255\n"), "%s", buf_cstr(&out));
	buf_fini(&out);
	buf_fini(&page);
	metrics_summary_free(s);
}
END_TEST

/* ---- the `metrics` section ---- */

struct conf_case {
	const char	*label;
	const char	*text;
	const char	*want_err;	/* NULL: valid; else a substring */
	const char	*want_listen;	/* NULL: off */
};

static const struct conf_case conf_cases[] = {
	{ "absent", "", NULL, NULL },
	{ "empty is off", "metrics = { listen = \"\"; };", NULL, NULL },
	{ "v4 loopback", "metrics = { listen = \"127.0.0.1:9464\"; };", NULL,
	    "127.0.0.1:9464" },
	{ "127/8", "metrics = { listen = \"127.0.0.2:1\"; };", NULL, "127.0.0.2:1" },
	{ "v6 loopback", "metrics = { listen = \"[::1]:9464\"; };", NULL, "[::1]:9464" },
	{ "localhost", "metrics = { listen = \"localhost:9464\"; };", NULL,
	    "localhost:9464" },
	{ "remote refused", "metrics = {\n listen = \"0.0.0.0:9464\"; };",
	    ":2: metrics.listen: \"0.0.0.0:9464\" is not a loopback address", NULL },
	{ "remote v6 refused", "metrics = { listen = \"[::]:9464\"; };",
	    "not a loopback address", NULL },
	{ "remote allowed", "metrics = { listen = \"192.0.2.1:9464\"; allow_remote = true; };",
	    NULL, "192.0.2.1:9464" },
	{ "no port", "metrics = { listen = \"127.0.0.1\"; };", "is not ADDRESS:PORT", NULL },
	{ "port 0", "metrics = { listen = \"127.0.0.1:0\"; };", "is not ADDRESS:PORT", NULL },
	{ "port too big", "metrics = { listen = \"127.0.0.1:65536\"; };",
	    "is not ADDRESS:PORT", NULL },
	{ "host name", "metrics = { listen = \"metrics.example:9464\"; };",
	    "is not ADDRESS:PORT", NULL },
	{ "v6 without brackets", "metrics = { listen = \"::1:9464\"; };",
	    "is not ADDRESS:PORT", NULL },
	{ "unknown key", "metrics = {\n\n port = 9464; };", ":3: metrics.port: unknown key", NULL },
	{ "wrong type", "metrics = { allow_remote = \"yes\"; };", "allow_remote", NULL },
	{ "not a group", "metrics = 1;", "metrics: expected a group", NULL },
};

START_TEST(test_conf)
{
	const struct conf_case *c = &conf_cases[_i];
	char path[] = "/tmp/check_metrics.XXXXXX";
	struct cfg_errors e;
	struct config *cfg;
	FILE *fp;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_ptr_nonnull(fp = fdopen(fd, "w"));
	fprintf(fp, "%s\n", c->text);
	fclose(fp);
	cfg_errors_init(&e, path);
	cfg = config_load(path, &e);
	unlink(path);
	if (c->want_err == NULL) {
		ck_assert_msg(cfg != NULL, "%s: %s", c->label, buf_cstr(&e.text));
		if (c->want_listen == NULL)
			ck_assert_ptr_null(cfg->metrics.listen);
		else
			ck_assert_str_eq(cfg->metrics.listen, c->want_listen);
	} else {
		ck_assert_msg(cfg == NULL, "%s: accepted", c->label);
		ck_assert_msg(strstr(buf_cstr(&e.text), c->want_err) != NULL,
		    "%s: got %s", c->label, buf_cstr(&e.text));
		ck_assert_msg(strncmp(buf_cstr(&e.text), path, strlen(path)) == 0,
		    "%s: error does not name the file: %s", c->label,
		    buf_cstr(&e.text));
	}
	cfg_errors_fini(&e);
	config_free(cfg);
}
END_TEST

START_TEST(test_listen_parse)
{
	char host[METRICS_HOST_MAX];
	unsigned port;
	int fam;

	ck_assert_int_eq(metrics_listen_parse("localhost:80", host, &fam, &port), 0);
	ck_assert_str_eq(host, "127.0.0.1");
	ck_assert_int_eq(fam, 4);
	ck_assert_uint_eq(port, 80);
	ck_assert_int_eq(metrics_listen_parse("[::1]:65535", host, &fam, &port), 0);
	ck_assert_str_eq(host, "::1");
	ck_assert_int_eq(fam, 6);
	ck_assert_uint_eq(port, 65535);
	ck_assert(metrics_host_is_loopback("::1", 6));
	ck_assert(!metrics_host_is_loopback("::", 6));
	ck_assert(metrics_host_is_loopback("127.255.0.1", 4));
	ck_assert(!metrics_host_is_loopback("128.0.0.1", 4));
	ck_assert_int_eq(metrics_listen_parse("127.0.0.1:9x", host, &fam, &port), -1);
	ck_assert_int_eq(metrics_listen_parse("[::1]9464", host, &fam, &port), -1);
	ck_assert_int_eq(metrics_listen_parse(":9464", host, &fam, &port), -1);
	ck_assert_int_eq(metrics_listen_parse("127.0.0.1:00000000000000009464",
	    host, &fam, &port), -1);
}
END_TEST

static Suite *
metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("metrics");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_escape, 0, NELEM(esc_cases));
	tcase_add_test(tc, test_help_escape);
	tcase_add_test(tc, test_no_labels_and_values);
	tcase_add_test(tc, test_histogram);
	tcase_add_test(tc, test_limit);
	tcase_add_test_raise_signal(tc, test_bad_name_aborts, SIGABRT);
	tcase_add_test_raise_signal(tc, test_bad_label_name_aborts, SIGABRT);
	tcase_add_loop_test(tc, test_parse, 0, NELEM(parse_cases));
	tcase_add_test(tc, test_parse_long_value);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_registry);
	tcase_add_test(tc, test_null_registry);
	tcase_add_test(tc, test_concurrent);
	tcase_add_loop_test(tc, test_quantile, 0, NELEM(q_cases));
	tcase_add_test(tc, test_summary);
	tcase_add_test(tc, test_summary_hostile);
	tcase_add_loop_test(tc, test_conf, 0, NELEM(conf_cases));
	tcase_add_test(tc, test_listen_parse);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(metrics_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
