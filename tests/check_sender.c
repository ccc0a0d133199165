/*
 * check_sender.c - the pure sender policy: GCRA rate arithmetic with an
 * injected clock, the warm-up ramp, rule matching, the conservative
 * defaults, sender keys, tag header text and the `policy` config section.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <libconfig.h>

#include "egress/buf.h"
#include "egress/checks.h"
#include "egress/config.h"
#include "egress/policy.h"
#include "egress/sender.h"

/* ---- rates ---- */

static const struct {
	const char	*in;
	int		 ok;
	int64_t		 interval_ms;
} rate_cases[] = {
	{ "60/h", 1, 60000 }, { "10/m", 1, 6000 }, { "2/s", 1, 500 },
	{ "1000/d", 1, 86400 }, { "off", 1, 0 }, { "0", 1, 0 },
	{ "7/h", 1, 514285 }, { "fast", 0, 0 }, { "10", 0, 0 },
	{ "10/w", 0, 0 }, { "-1/h", 0, 0 }, { "10/hh", 0, 0 }, { "2000/s", 0, 0 },
};

START_TEST(test_rate_parse)
{
	int64_t iv = -1;
	int rc = rate_parse(rate_cases[_i].in, &iv);

	ck_assert_msg((rc == 0) == rate_cases[_i].ok, "%s", rate_cases[_i].in);
	if (rate_cases[_i].ok)
		ck_assert_int_eq(iv, rate_cases[_i].interval_ms);
}
END_TEST

/*
 * Over time T at rate R and burst B, with a request every `step` ms from a
 * full bucket at t = 0 up to and including T, exactly B + floor(T / (1/R))
 * requests pass.
 */
static const struct {
	const char	*rate;
	int64_t		 burst;
	int64_t		 T_ms;
	int64_t		 step_ms;
	int		 want;
} gcra_cases[] = {
	{ "60/h", 5, 3600000, 1000, 5 + 60 },
	{ "60/h", 1, 3600000, 1000, 1 + 60 },
	{ "10/m", 1, 60000, 1000, 1 + 10 },
	{ "1/s", 10, 100000, 100, 10 + 100 },
	{ "3/h", 3, 7200000, 60000, 3 + 6 },
	{ "100/s", 1, 1000, 1, 1 + 100 },
	{ "6/h", 2, 86400000, 1000, 2 + 144 },
	/* requests slower than the rate: every one passes */
	{ "60/m", 1, 60000, 2000, 31 },
};

START_TEST(test_gcra_exact)
{
	int64_t iv, tat = 0, t, t0 = 1795000000000LL, retry;
	int n = 0, allowed;

	ck_assert_int_eq(rate_parse(gcra_cases[_i].rate, &iv), 0);
	for (t = 0; t <= gcra_cases[_i].T_ms; t += gcra_cases[_i].step_ms) {
		retry = -1;
		allowed = rate_take(&tat, t0 + t, iv, gcra_cases[_i].burst, &retry);
		n += allowed;
		if (!allowed) {
			/* the advertised wait is exact: a retry then passes */
			int64_t copy = tat;

			ck_assert_int_gt(retry, 0);
			ck_assert_int_le(retry, iv);
			ck_assert_int_eq(rate_take(&copy, t0 + t + retry - 1, iv,
			    gcra_cases[_i].burst, NULL), 0);
			ck_assert_int_eq(rate_take(&copy, t0 + t + retry, iv,
			    gcra_cases[_i].burst, NULL), 1);
		}
	}
	ck_assert_int_eq(n, gcra_cases[_i].want);
}
END_TEST

START_TEST(test_gcra_idle_refill)
{
	int64_t tat = 0, t0 = 1000000;
	int i, n = 0;

	/* burst 4 at 1/s: drain, wait 2.5 s, two pass, not three */
	for (i = 0; i < 10; i++)
		n += rate_take(&tat, t0, 1000, 4, NULL);
	ck_assert_int_eq(n, 4);
	n = 0;
	for (i = 0; i < 10; i++)
		n += rate_take(&tat, t0 + 2500, 1000, 4, NULL);
	ck_assert_int_eq(n, 2);
	/* a long idle time never stores more than the burst */
	n = 0;
	for (i = 0; i < 10; i++)
		n += rate_take(&tat, t0 + 10000000, 1000, 4, NULL);
	ck_assert_int_eq(n, 4);
	/* unlimited */
	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(rate_take(&tat, t0, 0, 1, NULL), 1);
	/* an empty bucket: the first passes one interval after the start */
	tat = rate_empty_tat(t0, 600000, 1);
	ck_assert_int_eq(rate_take(&tat, t0, 600000, 1, NULL), 0);
	ck_assert_int_eq(rate_take(&tat, t0 + 599999, 600000, 1, NULL), 0);
	ck_assert_int_eq(rate_take(&tat, t0 + 600000, 600000, 1, NULL), 1);
	ck_assert_int_eq(rate_take(&tat, t0 + 600001, 600000, 1, NULL), 0);
	tat = rate_empty_tat(t0, 1000, 3);
	n = 0;
	for (i = 0; i <= 3000; i += 100)
		n += rate_take(&tat, t0 + i, 1000, 3, NULL);
	ck_assert_int_eq(n, 3);
}
END_TEST

/* ---- warm-up ---- */

static const struct {
	int64_t	age;		/* seconds since first seen */
	int64_t	interval_ms;
} warm_cases[] = {
	{ 0, 180000 },			/* day 0: 20/h */
	{ 86399, 180000 },
	{ 86400, 120000 },		/* day 1: 30/h */
	{ 2 * 86400, 80000 },		/* day 2: 45/h */
	{ 3 * 86400, 3600000 / 67 },	/* day 3: 67/h (integer growth) */
	{ 13 * 86400 + 5, -1 },		/* the last day of the ramp: limited */
	{ 14 * 86400, 0 },		/* ramp over */
	{ 400 * 86400, 0 },
	{ -100, 180000 },		/* clock skew: treated as day 0 */
};

START_TEST(test_warmup)
{
	struct policy_conf p;
	int64_t first = 1795000000, iv;

	ck_assert_int_eq(policy_conf_default(&p), 0);
	ck_assert_int_eq(sender_warmup_interval(&p, first, first + 10), 0);	/* off */
	p.warmup.enabled = 1;
	iv = sender_warmup_interval(&p, first, first + warm_cases[_i].age);
	if (warm_cases[_i].interval_ms < 0)
		ck_assert_int_gt(iv, 0);
	else
		ck_assert_int_eq(iv, warm_cases[_i].interval_ms);
	/* never seen: no ramp */
	ck_assert_int_eq(sender_warmup_interval(&p, 0, first), 0);
	policy_conf_fini(&p);
}
END_TEST

START_TEST(test_warmup_monotonic)
{
	struct policy_conf p;
	int64_t first = 1795000000, prev = INT64_MAX, iv;
	int d;

	ck_assert_int_eq(policy_conf_default(&p), 0);
	p.warmup.enabled = 1;
	p.warmup.growth_pct = 100;
	p.warmup.start_per_hour = 1;
	p.warmup.days = 60;
	/* the allowed rate only grows, and never overflows into "no limit" early */
	for (d = 0; d < 60; d++) {
		iv = sender_warmup_interval(&p, first, first + d * 86400LL);
		ck_assert_int_gt(iv, 0);
		ck_assert_int_le(iv, prev);
		prev = iv;
	}
	ck_assert_int_eq(sender_warmup_interval(&p, first, first + 60 * 86400LL), 0);
	policy_conf_fini(&p);
}
END_TEST

/* ---- categories and rules ---- */

static const char *const all_reasons[] = {
	"userunknown", "hostunknown", "mailboxfull", "suspend", "hasmoved",
	"notaccept", "blocked", "badreputation", "requireptr", "authfailure",
	"spamdetected", "virusdetected", "contenterror", "notcompliantrfc",
	"mesgtoobig", "exceedlimit", "policyviolation", "securityerror",
	"rejected", "norelaying", "speeding", "toomanyconn", "filtered",
	"expired", "networkerror", "systemerror", "systemfull", "mailererror",
	"syntaxerror", "failedstarttls", "onhold", "undefined", "delivered",
	"vacation", "feedback",
};

START_TEST(test_categories)
{
	size_t i;

	for (i = 0; i < sizeof(all_reasons) / sizeof(all_reasons[0]); i++) {
		const char *c = sender_reason_category(all_reasons[i]);

		ck_assert_msg(c != NULL, "%s has no category", all_reasons[i]);
		ck_assert(sender_category_is_known(c));
	}
	ck_assert_str_eq(sender_reason_category("userunknown"), "recipient");
	ck_assert_str_eq(sender_reason_category("requireptr"), "reputation");
	ck_assert_str_eq(sender_reason_category("feedback"), "report");
	ck_assert_str_eq(sender_reason_category("exceedlimit"), "mailbox");
	ck_assert_ptr_null(sender_reason_category("nosuchreason"));
	ck_assert_ptr_null(sender_reason_category(NULL));
}
END_TEST

/*
 * A fresh install never holds or suspends a sender on one bounce: for
 * every reason, hard or soft, a count of 1 triggers no rule stronger than
 * throttle, and only recipient-scope rules trigger at all.
 */
START_TEST(test_defaults_conservative)
{
	struct policy_conf p;
	size_t i, r;
	int hard;

	ck_assert_int_eq(policy_conf_default(&p), 0);
	ck_assert_uint_gt(p.nrules, 0);
	for (i = 0; i < sizeof(all_reasons) / sizeof(all_reasons[0]); i++)
		for (hard = 0; hard < 2; hard++)
			for (r = 0; r < p.nrules; r++) {
				const struct policy_rule *rule = &p.rules[r];

				if (!policy_rule_matches(rule,
				    sender_reason_category(all_reasons[i]),
				    all_reasons[i], hard))
					continue;
				if (rule->threshold <= 1)
					ck_assert_msg(rule->scope == SCOPE_RECIPIENT,
					    "%s triggers a sender action at once",
					    all_reasons[i]);
				if (rule->action >= SACT_HOLD &&
				    rule->action != SACT_SUPPRESS)
					ck_assert_int_ge(rule->threshold, 25);
			}
	/* static limits and the ramp are off */
	ck_assert_int_eq(p.rate.interval_ms, 0);
	ck_assert_int_eq(p.warmup.enabled, 0);
	ck_assert_uint_eq(p.keys, SK_ENVELOPE);
	policy_conf_fini(&p);
}
END_TEST

START_TEST(test_rule_matches)
{
	struct policy_rule r;

	memset(&r, 0, sizeof(r));
	r.category = "recipient";
	ck_assert(policy_rule_matches(&r, "recipient", "userunknown", 0));
	ck_assert(!policy_rule_matches(&r, "mailbox", "mailboxfull", 1));
	ck_assert(!policy_rule_matches(&r, NULL, "userunknown", 1));
	r.hard_only = 1;
	ck_assert(!policy_rule_matches(&r, "recipient", "userunknown", 0));
	ck_assert(policy_rule_matches(&r, "recipient", "userunknown", 1));
	r.reason = "hostunknown";
	ck_assert(!policy_rule_matches(&r, "recipient", "userunknown", 1));
	ck_assert(policy_rule_matches(&r, "recipient", "hostunknown", 1));
}
END_TEST

/* ---- keys ---- */

static const struct {
	unsigned	 keys;
	const char	*from;
	const char	*auth;
	int		 n;
	const char	*env, *au, *dom, *addr;
} key_cases[] = {
	{ SK_ENVELOPE, "<Alice@Example.COM>", NULL, 1, "env:alice@example.com", "", "",
	  "alice@example.com" },
	{ SK_ENVELOPE, "alice@example.com", "bob", 1, "env:alice@example.com", "", "",
	  "alice@example.com" },
	{ SK_ENVELOPE | SK_DOMAIN, "a@B.example", NULL, 2, "env:a@b.example", "",
	  "dom:b.example", "a@b.example" },
	{ SK_AUTH, "a@b.example", "Bob", 1, "", "auth:bob", "", "a@b.example" },
	{ SK_ENVELOPE | SK_AUTH | SK_DOMAIN, "<>", NULL, 0, "", "", "", "" },
	{ SK_ENVELOPE | SK_AUTH | SK_DOMAIN, "<>", "bob", 1, "", "auth:bob", "", "" },
	{ SK_ENVELOPE | SK_DOMAIN, "", NULL, 0, "", "", "", "" },
	{ SK_ENVELOPE | SK_DOMAIN, NULL, NULL, 0, "", "", "", "" },
	{ SK_DOMAIN, "nodomain", NULL, 0, "", "", "", "nodomain" },
	{ SK_DOMAIN, "a@", NULL, 0, "", "", "", "a@" },
	/* the exact path syntax: junk after the path is not that address */
	{ SK_ENVELOPE | SK_DOMAIN, "<a@example.org>junk", NULL, 1,
	  "env:<a@example.org>junk", "", "", "" },
	{ SK_ENVELOPE | SK_DOMAIN, "<\"a>b\"@example.org>", NULL, 2,
	  "env:\"a>b\"@example.org", "", "dom:example.org", "\"a>b\"@example.org" },
	{ SK_ENVELOPE, "<\"a>b\"@example.org>", NULL, 1,
	  "env:\"a>b\"@example.org", "", "", "\"a>b\"@example.org" },
	{ SK_ENVELOPE, " <>", NULL, 1, "env: <>", "", "", "" },
	{ SK_ENVELOPE, "<<>>", NULL, 1, "env:<<>>", "", "", "" },
	{ SK_ENVELOPE | SK_AUTH, "<a\r\nb@example.org>", "bob", 1, "", "auth:bob", "", "" },
	{ SK_ENVELOPE | SK_DOMAIN, "<@relay.example:a@example.org>", NULL, 2,
	  "env:a@example.org", "", "dom:example.org", "a@example.org" },
};

START_TEST(test_keys)
{
	struct policy_conf p;
	struct sender_keys k;

	ck_assert_int_eq(policy_conf_default(&p), 0);
	p.keys = key_cases[_i].keys;
	ck_assert_int_eq(sender_keys_make(&p, key_cases[_i].from, key_cases[_i].auth, &k),
	    key_cases[_i].n > 0 || key_cases[_i].addr[0] != '\0' ? 0 : -1);
	ck_assert_int_eq(sender_keys_count(&k), key_cases[_i].n);
	ck_assert_str_eq(k.env, key_cases[_i].env);
	ck_assert_str_eq(k.auth, key_cases[_i].au);
	ck_assert_str_eq(k.dom, key_cases[_i].dom);
	ck_assert_str_eq(k.addr, key_cases[_i].addr);
	policy_conf_fini(&p);
}
END_TEST

START_TEST(test_key_too_long)
{
	struct policy_conf p;
	struct sender_keys k;
	char from[600];

	ck_assert_int_eq(policy_conf_default(&p), 0);
	memset(from, 'a', sizeof(from) - 1);
	from[sizeof(from) - 1] = '\0';
	from[10] = '@';
	ck_assert_int_eq(sender_keys_make(&p, from, NULL, &k), -1);
	ck_assert_int_eq(sender_keys_count(&k), 0);
	ck_assert_ptr_null(sender_keys_at(&k, 0));
	policy_conf_fini(&p);
}
END_TEST

/* ---- header text ---- */

START_TEST(test_header)
{
	struct policy_conf p;
	struct sender_status s;
	struct buf b;

	ck_assert_int_eq(policy_conf_default(&p), 0);
	buf_init(&b, 256);
	/* the reputation throttle rule */
	sender_status_from_rule(&p.rules[3], "reputation", "blocked", 3, 1000, &s);
	ck_assert_int_eq(s.action, SACT_THROTTLE);
	ck_assert_int_eq(s.until, 1000 + 3600);
	ck_assert_int_eq(s.interval_ms, 600000);
	ck_assert_int_eq(sender_status_header(&s, NULL, &b), BUF_OK);
	ck_assert_str_eq(buf_cstr(&b), "throttled; reason=reputation; rejections=3/1h");
	buf_reset(&b);
	ck_assert_int_eq(sender_status_header(&s, "gmail.com", &b), BUF_OK);
	ck_assert_str_eq(buf_cstr(&b),
	    "throttled; reason=reputation; domain=gmail.com; rejections=3/1h");
	ck_assert(sender_status_active(&s, 1000 + 3599));
	ck_assert(!sender_status_active(&s, 1000 + 3600));
	s.until = 0;
	ck_assert(sender_status_active(&s, 1LL << 40));
	buf_fini(&b);
	policy_conf_fini(&p);
}
END_TEST

/* ---- deferrals ---- */

static int	load_policy(const char *text, struct policy_conf *p,
		    struct cfg_errors *e);

START_TEST(test_deferrals)
{
	struct policy_conf p;
	struct sender_status s;
	struct cfg_errors e;
	struct buf b;

	ck_assert_int_eq(policy_conf_default(&p), 0);
	/* the defaults: reputation, rate and TSS04's "rejected"; 5 in 1h */
	ck_assert_int_eq(p.deferral.enabled, 1);
	ck_assert_int_eq(p.deferral.threshold, 5);
	ck_assert_int_eq(p.deferral.window, 3600);
	ck_assert_int_eq(p.deferral.duration, 3600);
	ck_assert_int_eq(p.deferral.rate.interval_ms, 300000);
	ck_assert(policy_deferral_counts(&p, "reputation", "blocked"));
	ck_assert(policy_deferral_counts(&p, "rate", "speeding"));
	ck_assert(policy_deferral_counts(&p, "policy", "rejected"));
	ck_assert(!policy_deferral_counts(&p, "policy", "policyviolation"));
	ck_assert(!policy_deferral_counts(&p, "transient", "systemerror"));
	ck_assert(!policy_deferral_counts(&p, NULL, NULL));
	/* no default rule counts what the deferral throttle counts apart */
	sender_status_from_deferrals(&p, "reputation", "badreputation", 5, 1000, &s);
	ck_assert_int_eq(s.action, SACT_THROTTLE);
	ck_assert_int_eq(s.since, 1000);
	ck_assert_int_eq(s.until, 1000 + 3600);
	ck_assert_int_eq(s.interval_ms, 300000);
	ck_assert_int_eq(s.manual, 0);
	buf_init(&b, 256);
	ck_assert_int_eq(sender_status_header(&s, "yahoo.example", &b), BUF_OK);
	ck_assert_str_eq(buf_cstr(&b),
	    "throttled; reason=badreputation; domain=yahoo.example; deferrals=5/1h");
	buf_fini(&b);
	policy_conf_fini(&p);
	/* configured: a list replaces the defaults; off counts nothing */
	cfg_errors_init(&e, "test.conf");
	ck_assert_int_eq(load_policy("policy = { deferrals = { count = [\"speeding\"]; }; };",
	    &p, &e), 0);
	ck_assert(policy_deferral_counts(&p, "rate", "speeding"));
	ck_assert(!policy_deferral_counts(&p, "rate", "toomanyconn"));
	ck_assert(!policy_deferral_counts(&p, "reputation", "blocked"));
	policy_conf_fini(&p);
	ck_assert_int_eq(load_policy("policy = { deferrals = { enabled = false; }; };",
	    &p, &e), 0);
	ck_assert(!policy_deferral_counts(&p, "reputation", "blocked"));
	policy_conf_fini(&p);
	cfg_errors_fini(&e);
}
END_TEST

/* ---- the policy section ---- */

static int
load_policy(const char *text, struct policy_conf *p, struct cfg_errors *e)
{
	config_t lc;
	int rc;

	config_init(&lc);
	ck_assert_msg(config_read_string(&lc, text) == CONFIG_TRUE, "%s",
	    config_error_text(&lc));
	ck_assert_int_eq(policy_conf_default(p), 0);
	rc = policy_config_load(p, config_lookup(&lc, "policy"), e);
	config_destroy(&lc);
	return rc;
}

static const struct {
	const char	*text;
	int		 ok;
	const char	*error;		/* substring of the error text */
} conf_cases[] = {
	{ "policy = { };", 1, NULL },
	{ "policy = { keys = [\"envelope\", \"auth\", \"domain\"]; };", 1, NULL },
	{ "policy = { keys = [\"ip\"]; };", 0, "\"ip\"" },
	{ "policy = { rate = \"100/h\"; rate_burst = 10; };", 1, NULL },
	{ "policy = { rate = \"lots\"; };", 0, "not a rate" },
	{ "policy = { warmup = { enabled = true; start = \"5/h\"; days = 7; }; };", 1, NULL },
	{ "policy = { warmup = { start = \"off\"; }; };", 0, "cannot be off" },
	{ "policy = { warmup = { speed = 1; }; };", 0, "speed" },
	{ "policy = { rules = ( { category = \"reputation\"; scope = \"destination\";"
	  " action = \"throttle\"; rate = \"2/h\"; threshold = 2; window = \"30m\"; } ); };",
	  1, NULL },
	{ "policy = { rules = ( { category = \"reputation\"; action = \"throttle\"; } ); };",
	  0, "needs a rate" },
	{ "policy = { rules = ( { category = \"reputation\"; action = \"suppress\"; } ); };",
	  0, "suppress goes with scope" },
	{ "policy = { rules = ( { category = \"recipient\"; scope = \"recipient\"; } ); };",
	  0, "suppress goes with scope" },
	{ "policy = { rules = ( { category = \"mailbox\"; reason = \"blocked\";"
	  " action = \"tag\"; } ); };", 0, "not a reason of category" },
	{ "policy = { rules = ( { category = \"spam\"; } ); };", 0, "unknown category" },
	{ "policy = { rules = ( { action = \"tag\"; } ); };", 0, "needs a category" },
	{ "policy = { rules = ( { category = \"content\"; action = \"explode\"; } ); };",
	  0, "explode" },
	{ "policy = { rules = ( { category = \"content\"; window = \"1s\"; } ); };",
	  0, "window" },
	{ "policy = { colour = \"red\"; };", 0, "colour" },
	{ "policy = { deferrals = { threshold = 10; window = \"2h\"; duration = \"30m\";"
	  " rate = \"6/h\"; burst = 2; count = [\"reputation\", \"speeding\"]; }; };",
	  1, NULL },
	{ "policy = { deferrals = { enabled = false; }; };", 1, NULL },
	{ "policy = { deferrals = { count = [\"greylisted\"]; }; };", 0,
	  "neither a category nor a reason" },
	{ "policy = { deferrals = { count = []; }; };", 0, "name 1 to 16" },
	{ "policy = { deferrals = { rate = \"off\"; }; };", 0, "needs a rate" },
	{ "policy = { deferrals = { window = \"10d\"; }; };", 0, "window" },
	{ "policy = { deferrals = { speed = 1; }; };", 0, "speed" },
	{ "policy = { deferrals = 5; };", 0, "must be a group" },
};

START_TEST(test_config)
{
	struct policy_conf p;
	struct cfg_errors e;
	int rc;

	cfg_errors_init(&e, "test.conf");
	rc = load_policy(conf_cases[_i].text, &p, &e);
	if (conf_cases[_i].ok) {
		ck_assert_msg(rc == 0 && e.count == 0, "%s: %s", conf_cases[_i].text,
		    buf_cstr(&e.text));
	} else {
		ck_assert_msg(rc != 0 || e.count > 0, "%s accepted", conf_cases[_i].text);
		ck_assert_msg(strstr(buf_cstr(&e.text), conf_cases[_i].error) != NULL,
		    "%s: errors: %s", conf_cases[_i].text, buf_cstr(&e.text));
	}
	policy_conf_fini(&p);
	cfg_errors_fini(&e);
}
END_TEST

START_TEST(test_config_rules_replace)
{
	struct policy_conf p;
	struct cfg_errors e;

	cfg_errors_init(&e, "test.conf");
	ck_assert_int_eq(load_policy("policy = { keys = [\"auth\"]; rules = ( "
	    "{ category = \"reputation\"; scope = \"destination\"; action = \"throttle\";"
	    "  rate = \"2/h\"; burst = 2; threshold = 2; window = \"30m\"; duration = 0; } ); };",
	    &p, &e), 0);
	ck_assert_uint_eq(p.keys, SK_AUTH);
	ck_assert_uint_eq(p.nrules, 1);
	ck_assert_str_eq(p.rules[0].category, "reputation");
	ck_assert_ptr_null(p.rules[0].reason);
	ck_assert_int_eq(p.rules[0].scope, SCOPE_DEST);
	ck_assert_int_eq(p.rules[0].rate.interval_ms, 1800000);
	ck_assert_int_eq(p.rules[0].rate.burst, 2);
	ck_assert_int_eq(p.rules[0].threshold, 2);
	ck_assert_int_eq(p.rules[0].window, 1800);
	ck_assert_int_eq(p.rules[0].duration, 0);
	ck_assert_int_eq(policy_max_window(&p), 1800);
	policy_conf_fini(&p);
	cfg_errors_fini(&e);
}
END_TEST


/* ---- facts of the record, decided by the policy ---- */

struct fact_case {
	const char	*label;
	const char	*id;		/* the fact */
	const char	*fact_reply;	/* the record's wording or "" */
	const char	*set_action;	/* configured action or NULL */
	const char	*set_reply;	/* configured reply or NULL */
	int		 monitor;
	const char	*from;		/* envelope sender */
	enum action	 want;
	enum action	 want_would;
	const char	*want_reply;	/* NULL: none */
};

static const struct fact_case fact_cases[] = {
	{ "suspended, defaults", "sender.suspended", "", NULL, NULL, 0, "a@x.test",
	  ACT_REJECT, ACT_REJECT, "550 5.7.1 Sender suspended after repeated delivery failures" },
	{ "suspended by the postmaster", "sender.suspended",
	  "550 5.7.1 Sender suspended by the postmaster", NULL, NULL, 0, "a@x.test",
	  ACT_REJECT, ACT_REJECT, "550 5.7.1 Sender suspended by the postmaster" },
	{ "suspended, configured tag", "sender.suspended", "", "tag", NULL, 0, "a@x.test",
	  ACT_TAG, ACT_TAG, NULL },
	{ "suspended, configured accept", "sender.suspended", "", "accept", NULL, 0,
	  "a@x.test", ACT_TAG, ACT_TAG, NULL },
	{ "suspended, configured tempfail", "sender.suspended", "", "tempfail", NULL, 0,
	  "a@x.test", ACT_TEMPFAIL, ACT_TEMPFAIL,
	  "451 4.7.1 Sender suspended after repeated delivery failures" },
	{ "operator's reply wins over the wording", "recipient.suppressed",
	  "550 5.1.1 <b@y.test>: Recipient previously bounced: userunknown", NULL,
	  "550 5.1.0 Not here", 0, "a@x.test", ACT_REJECT, ACT_REJECT, "550 5.1.0 Not here" },
	{ "the record's wording", "recipient.suppressed",
	  "550 5.1.1 <b@y.test>: Recipient previously bounced: userunknown", NULL, NULL, 0,
	  "a@x.test", ACT_REJECT, ACT_REJECT,
	  "550 5.1.1 <b@y.test>: Recipient previously bounced: userunknown" },
	{ "monitor mode never refuses", "sender.suspended", "", NULL, NULL, 1, "a@x.test",
	  ACT_TAG, ACT_REJECT, NULL },
	{ "a bounce is never refused", "sender.held", "", NULL, NULL, 0, "",
	  ACT_TAG, ACT_HOLD, NULL },
	{ "held", "sender.held", "", NULL, NULL, 0, "a@x.test", ACT_HOLD, ACT_HOLD, NULL },
	{ "throttled", "sender.throttled", "", NULL, NULL, 0, "a@x.test",
	  ACT_TEMPFAIL, ACT_TEMPFAIL,
	  "451 4.7.1 Sender temporarily rate limited after recent delivery failures, try again later" },
};

START_TEST(test_facts_policy)
{
	const struct fact_case *tc = &fact_cases[_i];
	struct config *cfg = config_default();
	struct sender_facts f;
	struct envelope env;
	struct verdict v;
	struct check_conf *cc;

	ck_assert_ptr_nonnull(cfg);
	cc = &cfg->checks[checks_index(tc->id)];
	if (tc->set_action != NULL)
		ck_assert_int_eq(action_parse(tc->set_action, &cc->action), 0);
	if (tc->set_reply != NULL) {
		free(cc->reply);
		cc->reply = strdup(tc->set_reply);
	}
	cfg->mode = tc->monitor ? MODE_MONITOR : MODE_ENFORCE;
	sender_facts_init(&f, &cfg->policy);
	/* a weaker fact first: the most severe decides, whatever the order */
	ck_assert_ptr_nonnull(sender_facts_add(&f, "sender.tagged", "env:a@x.test", 0, NULL));
	ck_assert_ptr_nonnull(sender_facts_add(&f, tc->id, "env:a@x.test", 0, tc->fact_reply));
	ck_assert_ptr_null(sender_facts_add(&f, tc->id, "env:other", 0, NULL));
	memset(&env, 0, sizeof(env));
	env.mail_from = tc->from;
	policy_decide_facts(cfg, &env, &f, &v);
	ck_assert_msg(v.action == tc->want, "%s: action %s", tc->label, action_name(v.action));
	ck_assert_msg(v.would == tc->want_would, "%s: would %s", tc->label,
	    action_name(v.would));
	if (tc->want_reply == NULL)
		ck_assert_msg(v.action < ACT_TEMPFAIL, "%s", tc->label);
	else
		ck_assert_msg(v.reply != NULL && strcmp(v.reply, tc->want_reply) == 0,
		    "%s: reply %s", tc->label, v.reply ? v.reply : "(none)");
	config_free(cfg);
}
END_TEST

static Suite *
sender_suite(void)
{
	Suite *s = suite_create("sender");
	TCase *tc = tcase_create("policy");

	tcase_add_loop_test(tc, test_rate_parse, 0, sizeof(rate_cases) / sizeof(rate_cases[0]));
	tcase_add_loop_test(tc, test_gcra_exact, 0, sizeof(gcra_cases) / sizeof(gcra_cases[0]));
	tcase_add_test(tc, test_gcra_idle_refill);
	tcase_add_loop_test(tc, test_warmup, 0, sizeof(warm_cases) / sizeof(warm_cases[0]));
	tcase_add_test(tc, test_warmup_monotonic);
	tcase_add_test(tc, test_categories);
	tcase_add_test(tc, test_defaults_conservative);
	tcase_add_test(tc, test_rule_matches);
	tcase_add_loop_test(tc, test_keys, 0, sizeof(key_cases) / sizeof(key_cases[0]));
	tcase_add_test(tc, test_key_too_long);
	tcase_add_test(tc, test_header);
	tcase_add_test(tc, test_deferrals);
	tcase_add_loop_test(tc, test_config, 0, sizeof(conf_cases) / sizeof(conf_cases[0]));
	tcase_add_test(tc, test_config_rules_replace);
	tcase_add_loop_test(tc, test_facts_policy, 0,
	    sizeof(fact_cases) / sizeof(fact_cases[0]));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(sender_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
