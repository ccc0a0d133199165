/*
 * sender.c - the sender-record policy: rules, rates, warm-up, tag text.
 *
 * Pure: every function works on the values it is handed, including the
 * time. No I/O, no globals, no clock. The store (src/store) reads counts and
 * statuses, calls into this module to decide, and writes the results.
 *
 * Rates use GCRA (the generic cell rate algorithm) with one int64 of state,
 * the theoretical arrival time (tat) in milliseconds: a request at `now` is
 * allowed when tat - now <= (burst - 1) * interval, and then tat advances by
 * one interval. The same arithmetic runs as a Lua script in the Redis
 * backend (store_redis.c); both are tested for the same counts.
 *
 * Limits: POLICY_RULES_MAX rules; names and texts are cut at the sizes in
 * sender.h. Ownership: policy_conf owns its strings and rules.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "egress/assert.h"
#include "egress/cfg.h"
#include "egress/limits.h"
#include "egress/path.h"
#include "egress/sender.h"
#include "egress/vocab.h"

static const char *const action_names[SACT__COUNT] = {
	"none", "tag", "throttle", "hold", "suspend", "suppress"
};

/* Words for the tag header: what state the sender is in. */
static const char *const action_states[SACT__COUNT] = {
	"ok", "tagged", "throttled", "held", "suspended", "suppressed"
};

/* The vocabulary is vocab.h's; these answer from it. */
const char *
sender_reason_category(const char *reason)
{
	return vocab_reason_category(reason);
}

int
sender_category_is_known(const char *category)
{
	return vocab_category_is_known(category);
}

const char *
sender_action_name(enum sender_action a)
{
	return (unsigned)a < SACT__COUNT ? action_names[a] : "?";
}

int
sender_action_parse(const char *s, enum sender_action *out)
{
	int i;

	for (i = 0; i < SACT__COUNT; i++)
		if (strcmp(action_names[i], s) == 0) {
			*out = (enum sender_action)i;
			return 0;
		}
	return -1;
}

int
rate_parse(const char *s, int64_t *interval_ms)
{
	char *end;
	long long n, unit;

	if (strcmp(s, "0") == 0 || strcmp(s, "") == 0 || strcmp(s, "off") == 0) {
		*interval_ms = 0;
		return 0;
	}
	n = strtoll(s, &end, 10);
	if (end == s || n <= 0 || *end != '/')
		return -1;
	switch (end[1]) {
	case 's': unit = 1000LL; break;
	case 'm': unit = 60LL * 1000; break;
	case 'h': unit = 3600LL * 1000; break;
	case 'd': unit = 86400LL * 1000; break;
	default: return -1;
	}
	if (end[2] != '\0' || n > unit)
		return -1;
	*interval_ms = unit / n;
	return 0;
}

void
duration_format(int64_t secs, char *out, size_t outlen)
{
	if (secs > 0 && secs % 86400 == 0)
		snprintf(out, outlen, "%lldd", (long long)(secs / 86400));
	else if (secs > 0 && secs % 3600 == 0)
		snprintf(out, outlen, "%lldh", (long long)(secs / 3600));
	else if (secs > 0 && secs % 60 == 0)
		snprintf(out, outlen, "%lldm", (long long)(secs / 60));
	else
		snprintf(out, outlen, "%llds", (long long)secs);
}

/* ---- defaults ---- */

struct rule_def {
	const char	*category;
	const char	*reason;
	int		 hard_only;
	enum rule_scope	 scope;
	long long	 threshold;
	long long	 window;
	enum sender_action action;
	long long	 duration;
	const char	*rate;
	long long	 burst;
};

#define H	3600LL
#define D	86400LL

/*
 * The conservative defaults documented in conf/milter-egress.conf. Nothing
 * here holds or suspends a sender on fewer than 25 failures in an hour.
 */
static const struct rule_def default_rules[] = {
	/* a hard "no such user" suppresses that recipient for 30 days */
	{ "recipient", NULL, 1, SCOPE_RECIPIENT, 1, 30 * D, SACT_SUPPRESS, 30 * D, NULL, 0 },
	/* a full mailbox three times in a week: suppress for a week */
	{ "mailbox", NULL, 0, SCOPE_RECIPIENT, 3, 7 * D, SACT_SUPPRESS, 7 * D, NULL, 0 },
	/* a complaint suppresses the complaining recipient for 180 days */
	{ "report", "feedback", 0, SCOPE_RECIPIENT, 1, 30 * D, SACT_SUPPRESS, 180 * D, NULL, 0 },
	/* reputation: slow down towards the domain that complains */
	{ "reputation", NULL, 0, SCOPE_DEST, 3, H, SACT_THROTTLE, H, "6/h", 1 },
	{ "rate", NULL, 0, SCOPE_DEST, 3, H, SACT_THROTTLE, H, "30/h", 1 },
	/* many reputation failures everywhere: stop, an operator looks */
	{ "reputation", NULL, 0, SCOPE_SENDER, 25, H, SACT_SUSPEND, 4 * H, NULL, 0 },
	{ "authentication", NULL, 0, SCOPE_SENDER, 3, H, SACT_TAG, D, NULL, 0 },
	{ "content", NULL, 0, SCOPE_SENDER, 3, H, SACT_TAG, D, NULL, 0 },
	{ "policy", NULL, 0, SCOPE_SENDER, 5, H, SACT_TAG, D, NULL, 0 },
};

static int	deferral_default(struct deferral_conf *);
static void	deferral_fini(struct deferral_conf *);

static int
rule_from_def(struct policy_rule *r, const struct rule_def *d)
{
	memset(r, 0, sizeof(*r));
	r->category = strdup(d->category);
	r->reason = d->reason != NULL ? strdup(d->reason) : NULL;
	if (r->category == NULL || (d->reason != NULL && r->reason == NULL))
		return -1;
	r->hard_only = d->hard_only;
	r->scope = d->scope;
	r->threshold = d->threshold;
	r->window = d->window;
	r->action = d->action;
	r->duration = d->duration;
	if (d->rate != NULL && rate_parse(d->rate, &r->rate.interval_ms) != 0)
		return -1;
	r->rate.burst = d->burst > 0 ? d->burst : 1;
	return 0;
}

int
policy_conf_default(struct policy_conf *p)
{
	size_t i, n = sizeof(default_rules) / sizeof(default_rules[0]);

	memset(p, 0, sizeof(*p));
	p->keys = SK_ENVELOPE;
	p->tag_header = strdup("X-Egress-Sender-Status");
	p->rate.interval_ms = 0;
	p->rate.burst = 20;
	p->warmup.enabled = 0;
	p->warmup.days = 14;
	p->warmup.start_per_hour = 20;
	p->warmup.growth_pct = 50;
	p->warmup.burst = 5;
	p->rules = calloc(n, sizeof(*p->rules));
	if (p->tag_header == NULL || p->rules == NULL)
		goto fail;
	if (deferral_default(&p->deferral) != 0)
		goto fail;
	for (i = 0; i < n; i++) {
		p->nrules++;
		if (rule_from_def(&p->rules[i], &default_rules[i]) != 0)
			goto fail;
	}
	return 0;
fail:
	policy_conf_fini(p);
	return -1;
}

/*
 * Deferral defaults. A receiver that answers 4xx for reputation or rate
 * ("421 4.7.0 [TSS04] ... unexpected volume or user complaints", "421
 * 4.7.28 ... unusual rate", "450 4.7.1 ... try again later" with a
 * reputation text) is asking for less mail now. Five such replies from one
 * domain within an hour is a pattern, not one busy MX (Postfix itself
 * retries a deferred message every 5 to 67 minutes, so five distinct
 * deferrals in an hour means several messages or several tries were
 * refused); throttle that sender towards that domain to one message every
 * five minutes for an hour, which is about as long as the big providers'
 * "come back later" windows last. "rejected" is counted because the
 * classifier files TSS04 under it. Greylisting and network errors are
 * transient and never counted.
 */
static int
deferral_default(struct deferral_conf *d)
{
	static const char *const count[] = { "reputation", "rate", "rejected" };
	size_t i;

	memset(d, 0, sizeof(*d));
	d->enabled = 1;
	d->threshold = 5;
	d->window = H;
	d->duration = H;
	d->rate.burst = 1;
	if (rate_parse("12/h", &d->rate.interval_ms) != 0)
		return -1;
	for (i = 0; i < sizeof(count) / sizeof(count[0]); i++)
		if ((d->count[d->ncount++] = strdup(count[i])) == NULL)
			return -1;
	return 0;
}

static void
deferral_fini(struct deferral_conf *d)
{
	size_t i;

	for (i = 0; i < d->ncount; i++)
		free(d->count[i]);
	d->ncount = 0;
}

int
policy_deferral_counts(const struct policy_conf *p, const char *category,
    const char *reason)
{
	size_t i;

	if (!p->deferral.enabled)
		return 0;
	for (i = 0; i < p->deferral.ncount; i++)
		if ((category != NULL && strcmp(p->deferral.count[i], category) == 0) ||
		    (reason != NULL && strcmp(p->deferral.count[i], reason) == 0))
			return 1;
	return 0;
}

void
sender_status_from_deferrals(const struct policy_conf *p, const char *category,
    const char *reason, uint32_t count, int64_t now, struct sender_status *out)
{
	memset(out, 0, sizeof(*out));
	out->action = SACT_THROTTLE;
	out->since = now;
	out->until = now + p->deferral.duration;
	out->count = count;
	out->window = (uint32_t)p->deferral.window;
	out->interval_ms = p->deferral.rate.interval_ms;
	out->burst = p->deferral.rate.burst;
	snprintf(out->category, sizeof(out->category), "%s", category);
	snprintf(out->reason, sizeof(out->reason), "%s", reason);
	snprintf(out->who, sizeof(out->who), "deferrals");
}

static void
rules_free(struct policy_rule *rules, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(rules[i].category);
		free(rules[i].reason);
	}
	free(rules);
}

void
policy_conf_fini(struct policy_conf *p)
{
	if (p == NULL)
		return;
	free(p->tag_header);
	rules_free(p->rules, p->nrules);
	deferral_fini(&p->deferral);
	memset(p, 0, sizeof(*p));
}

long long
policy_max_window(const struct policy_conf *p)
{
	long long w = 0;
	size_t i;

	for (i = 0; i < p->nrules; i++)
		if (p->rules[i].window > w)
			w = p->rules[i].window;
	return w;
}

/* ---- config ---- */

static int
load_rate(const config_setting_t *grp, const char *key, int64_t *out,
    struct cfg_errors *errs)
{
	char *s = NULL;
	int rc;

	rc = cfg_string(grp, key, &s, errs);
	if (rc == 1 && rate_parse(s, out) != 0) {
		cfg_error(errs, config_setting_get_member(grp, key), key,
		    "not a rate: \"%s\" (use N/s, N/m, N/h or N/d, or \"off\")", s);
		rc = -1;
	}
	free(s);
	return rc;
}

static const char *const rule_keys[] = {
	"category", "reason", "hard_only", "scope", "threshold", "window",
	"action", "duration", "rate", "burst", NULL
};

static int
load_rule(const config_setting_t *rs, struct policy_rule *r,
    struct cfg_errors *errs)
{
	char *s = NULL;
	int bad = 0, rc;
	long long v;

	memset(r, 0, sizeof(*r));
	r->scope = SCOPE_SENDER;
	r->threshold = 3;
	r->window = 3600;
	r->action = SACT_TAG;
	r->duration = 86400;
	r->rate.burst = 1;
	cfg_allow_keys(rs, rule_keys, errs);
	if (cfg_string(rs, "category", &r->category, errs) != 1) {
		if (r->category == NULL)
			cfg_error(errs, rs, "category", "each rule needs a category");
		return -1;
	}
	if (!sender_category_is_known(r->category)) {
		cfg_error(errs, config_setting_get_member(rs, "category"), "category",
		    "unknown category \"%s\"", r->category);
		bad = 1;
	}
	if (cfg_string(rs, "reason", &r->reason, errs) == 1) {
		const char *c = sender_reason_category(r->reason);

		if (c == NULL || strcmp(c, r->category) != 0) {
			cfg_error(errs, config_setting_get_member(rs, "reason"),
			    "reason", "\"%s\" is not a reason of category \"%s\"",
			    r->reason, r->category);
			bad = 1;
		}
	}
	if (cfg_bool(rs, "hard_only", &r->hard_only, errs) < 0)
		bad = 1;
	rc = cfg_string(rs, "scope", &s, errs);
	if (rc == 1) {
		if (strcmp(s, "sender") == 0)
			r->scope = SCOPE_SENDER;
		else if (strcmp(s, "destination") == 0)
			r->scope = SCOPE_DEST;
		else if (strcmp(s, "recipient") == 0)
			r->scope = SCOPE_RECIPIENT;
		else {
			cfg_error(errs, config_setting_get_member(rs, "scope"), "scope",
			    "\"%s\": use sender, destination or recipient", s);
			bad = 1;
		}
	} else if (rc < 0)
		bad = 1;
	free(s);
	s = NULL;
	if (cfg_int(rs, "threshold", 1, 1000000, &r->threshold, errs) < 0)
		bad = 1;
	if (cfg_duration(rs, "window", 60, 366 * 86400LL, &r->window, errs) < 0)
		bad = 1;
	if (cfg_duration(rs, "duration", 0, 3660 * 86400LL, &r->duration, errs) < 0)
		bad = 1;
	rc = cfg_string(rs, "action", &s, errs);
	if (rc == 1 && (sender_action_parse(s, &r->action) != 0 ||
	    r->action == SACT_NONE)) {
		cfg_error(errs, config_setting_get_member(rs, "action"), "action",
		    "\"%s\": use tag, throttle, hold, suspend or suppress", s);
		bad = 1;
	} else if (rc < 0)
		bad = 1;
	free(s);
	if (load_rate(rs, "rate", &r->rate.interval_ms, errs) < 0)
		bad = 1;
	v = r->rate.burst;
	if (cfg_int(rs, "burst", 1, 1000000, &v, errs) < 0)
		bad = 1;
	r->rate.burst = v;
	if (bad)
		return -1;
	if ((r->action == SACT_SUPPRESS) != (r->scope == SCOPE_RECIPIENT)) {
		cfg_error(errs, rs, "action",
		    "suppress goes with scope = \"recipient\", and only it");
		return -1;
	}
	if (r->action == SACT_THROTTLE && r->rate.interval_ms == 0) {
		cfg_error(errs, rs, "rate", "a throttle rule needs a rate");
		return -1;
	}
	return 0;
}

static const char *const policy_keys[] = {
	"keys", "tag_header", "rate", "rate_burst", "warmup", "rules",
	"deferrals", NULL
};
static const char *const deferral_keys[] = {
	"enabled", "count", "threshold", "window", "duration", "rate", "burst",
	NULL
};

static int
load_deferrals(struct deferral_conf *d, const config_setting_t *g,
    struct cfg_errors *errs)
{
	struct strlist l = { NULL, 0 };
	long long b = d->rate.burst;
	int bad = 0, rc;
	size_t i;

	cfg_allow_keys(g, deferral_keys, errs);
	/* every key checked, so one run names every mistake */
	if (cfg_bool(g, "enabled", &d->enabled, errs) < 0)
		bad = 1;
	if (cfg_int(g, "threshold", 1, 1000000, &d->threshold, errs) < 0)
		bad = 1;
	if (cfg_duration(g, "window", 60, 7 * 86400LL, &d->window, errs) < 0)
		bad = 1;
	if (cfg_duration(g, "duration", 60, 30 * 86400LL, &d->duration, errs) < 0)
		bad = 1;
	if (cfg_int(g, "burst", 1, 1000000, &b, errs) < 0)
		bad = 1;
	d->rate.burst = b;
	rc = load_rate(g, "rate", &d->rate.interval_ms, errs);
	if (rc < 0)
		bad = 1;
	else if (rc == 1 && d->rate.interval_ms == 0) {
		cfg_error(errs, config_setting_get_member(g, "rate"), "rate",
		    "a deferral throttle needs a rate (use enabled = false to turn it off)");
		bad = 1;
	}
	rc = cfg_strlist(g, "count", &l, errs);
	if (rc == 1) {
		int lbad = 0;

		if (l.n == 0 || l.n > DEFERRAL_MATCH_MAX) {
			cfg_error(errs, config_setting_get_member(g, "count"), "count",
			    "name 1 to %d categories or reasons", DEFERRAL_MATCH_MAX);
			lbad = 1;
		}
		for (i = 0; !lbad && i < l.n; i++)
			if (!sender_category_is_known(l.v[i]) &&
			    sender_reason_category(l.v[i]) == NULL) {
				cfg_error(errs, config_setting_get_member(g, "count"),
				    "count", "\"%s\" is neither a category nor a reason",
				    l.v[i]);
				lbad = 1;
			}
		if (lbad)
			bad = 1;
		else {
			deferral_fini(d);
			for (i = 0; i < l.n; i++) {
				d->count[i] = l.v[i];
				l.v[i] = NULL;
			}
			d->ncount = l.n;
		}
	} else if (rc < 0)
		bad = 1;
	strlist_free(&l);
	return bad ? -1 : 0;
}
static const char *const warmup_keys[] = {
	"enabled", "days", "start", "growth", "burst", NULL
};

int
policy_config_load(struct policy_conf *p, const config_setting_t *grp,
    struct cfg_errors *errs)
{
	struct strlist keys = { NULL, 0 };
	const config_setting_t *w, *rules;
	int bad = 0, rc;
	size_t i;
	int64_t iv;

	if (grp == NULL)
		return 0;
	cfg_allow_keys(grp, policy_keys, errs);
	rc = cfg_strlist(grp, "keys", &keys, errs);
	if (rc == 1) {
		p->keys = 0;
		for (i = 0; i < keys.n; i++) {
			if (strcmp(keys.v[i], "envelope") == 0)
				p->keys |= SK_ENVELOPE;
			else if (strcmp(keys.v[i], "auth") == 0)
				p->keys |= SK_AUTH;
			else if (strcmp(keys.v[i], "domain") == 0)
				p->keys |= SK_DOMAIN;
			else {
				cfg_error(errs, config_setting_get_member(grp, "keys"),
				    "keys", "\"%s\": use envelope, auth or domain",
				    keys.v[i]);
				bad = 1;
			}
		}
		if (p->keys == 0 && !bad) {
			cfg_error(errs, config_setting_get_member(grp, "keys"), "keys",
			    "name at least one key type");
			bad = 1;
		}
	} else if (rc < 0)
		bad = 1;
	strlist_free(&keys);
	if (cfg_header_name(grp, "tag_header", &p->tag_header, errs) < 0)
		bad = 1;
	if (load_rate(grp, "rate", &p->rate.interval_ms, errs) < 0)
		bad = 1;
	{
		long long b = p->rate.burst;

		if (cfg_int(grp, "rate_burst", 1, 1000000, &b, errs) < 0)
			bad = 1;
		p->rate.burst = b;
	}
	w = cfg_group(grp, "warmup", errs);
	if (w != NULL) {
		cfg_allow_keys(w, warmup_keys, errs);
		if (cfg_bool(w, "enabled", &p->warmup.enabled, errs) < 0 ||
		    cfg_int(w, "days", 1, 365, &p->warmup.days, errs) < 0 ||
		    cfg_int(w, "growth", 0, 1000, &p->warmup.growth_pct, errs) < 0 ||
		    cfg_int(w, "burst", 1, 100000, &p->warmup.burst, errs) < 0)
			bad = 1;
		rc = load_rate(w, "start", &iv, errs);
		if (rc == 1) {
			if (iv == 0) {
				cfg_error(errs, config_setting_get_member(w, "start"),
				    "start", "the warm-up start rate cannot be off");
				bad = 1;
			} else
				p->warmup.start_per_hour = 3600000LL / iv > 0 ?
				    3600000LL / iv : 1;
		} else if (rc < 0)
			bad = 1;
	}
	w = config_setting_get_member(grp, "deferrals");
	if (w != NULL) {
		if (!config_setting_is_group(w)) {
			cfg_error(errs, w, "deferrals", "must be a group { ... }");
			bad = 1;
		} else if (load_deferrals(&p->deferral, w, errs) != 0)
			bad = 1;
	}
	rules = config_setting_get_member(grp, "rules");
	if (rules != NULL) {
		int n = config_setting_length(rules);
		struct policy_rule *v;

		if (!config_setting_is_list(rules) && !config_setting_is_array(rules)) {
			cfg_error(errs, rules, "rules", "must be a list of groups");
			return -1;
		}
		if (n > POLICY_RULES_MAX) {
			cfg_error(errs, rules, "rules", "at most %d rules", POLICY_RULES_MAX);
			return -1;
		}
		v = calloc(n > 0 ? (size_t)n : 1, sizeof(*v));
		if (v == NULL)
			return -1;
		/* configured rules replace the defaults entirely */
		rules_free(p->rules, p->nrules);
		p->rules = v;
		p->nrules = 0;
		for (i = 0; i < (size_t)n; i++) {
			const config_setting_t *rs = config_setting_get_elem(rules, i);

			if (!config_setting_is_group(rs)) {
				cfg_error(errs, rs, "rules", "each rule is a group { ... }");
				bad = 1;
				continue;
			}
			p->nrules++;
			if (load_rule(rs, &p->rules[p->nrules - 1], errs) != 0)
				bad = 1;
		}
	}
	return bad ? -1 : 0;
}

/* ---- keys ---- */

static void
lower_copy(char *dst, size_t dstlen, const char *prefix, const char *s,
    size_t n)
{
	size_t i, j = 0, pl = strlen(prefix);

	if (pl + n + 1 > dstlen) {
		dst[0] = '\0';	/* too long to be a key: no key */
		return;
	}
	memcpy(dst, prefix, pl);
	j = pl;
	for (i = 0; i < n; i++) {
		/* control bytes make no key: hostile input is no store error */
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f) {
			dst[0] = '\0';
			return;
		}
		dst[j++] = (char)tolower((unsigned char)s[i]);
	}
	dst[j] = '\0';
}

int
sender_keys_make(const struct policy_conf *p, const char *mail_from,
    const char *auth, struct sender_keys *out)
{
	char path[4 * SENDER_KEY_MAX];	/* longer than any key: cut is seen */
	const char *at;
	enum path_kind kind;
	size_t n;
	int count = 0;

	memset(out, 0, sizeof(*out));
	/*
	 * The exact path syntax: "<a@example.org>junk" is not a@example.org,
	 * so it is keyed whole (and gets no domain key); only "<>" is null.
	 */
	kind = mail_from != NULL && *mail_from != '\0' ?
	    path_parse(mail_from, path, sizeof(path)) : PATH_NULL;
	mail_from = path;
	n = kind == PATH_NULL ? 0 : strlen(path);
	if (n + 1 >= sizeof(path))
		n = 0;		/* too long to be a key: no key */
	if (n > 0 && kind == PATH_OK)
		lower_copy(out->addr, sizeof(out->addr), "", mail_from, n);
	if (n > 0 && (p->keys & SK_ENVELOPE)) {
		lower_copy(out->env, sizeof(out->env), "env:", mail_from, n);
		count += out->env[0] != '\0';
	}
	if (n > 0 && kind == PATH_OK && (p->keys & SK_DOMAIN)) {
		at = memrchr(mail_from, '@', n);	/* a quoted local part may hold one */
		if (at != NULL && at + 1 < mail_from + n) {
			lower_copy(out->dom, sizeof(out->dom), "dom:", at + 1,
			    (size_t)(mail_from + n - at - 1));
			count += out->dom[0] != '\0';
		}
	}
	if (auth != NULL && *auth != '\0' && (p->keys & SK_AUTH)) {
		lower_copy(out->auth, sizeof(out->auth), "auth:", auth, strlen(auth));
		count += out->auth[0] != '\0';
	}
	return count > 0 || out->addr[0] != '\0' ? 0 : -1;
}

int
sender_keys_count(const struct sender_keys *k)
{
	return (k->env[0] != '\0') + (k->auth[0] != '\0') + (k->dom[0] != '\0');
}

const char *
sender_keys_at(const struct sender_keys *k, int i)
{
	const char *s = i == 0 ? k->env : i == 1 ? k->auth : i == 2 ? k->dom : "";

	return *s != '\0' ? s : NULL;
}

/* ---- evaluation ---- */

int
rate_take(int64_t *tat, int64_t now_ms, int64_t interval_ms, int64_t burst,
    int64_t *retry_ms)
{
	int64_t t, tau;

	if (interval_ms <= 0)
		return 1;
	if (burst < 1)
		burst = 1;
	tau = (burst - 1) * interval_ms;
	t = *tat > now_ms ? *tat : now_ms;
	if (t - now_ms > tau) {
		if (retry_ms != NULL)
			*retry_ms = t - now_ms - tau;
		return 0;
	}
	*tat = t + interval_ms;
	return 1;
}

int64_t
rate_empty_tat(int64_t start_ms, int64_t interval_ms, int64_t burst)
{
	if (burst < 1)
		burst = 1;
	/* the first request passes at start + interval */
	return start_ms + burst * interval_ms;
}

int64_t
sender_warmup_interval(const struct policy_conf *p, int64_t first_seen,
    int64_t now)
{
	int64_t days, rate, i;

	if (!p->warmup.enabled || first_seen <= 0)
		return 0;
	days = now > first_seen ? (now - first_seen) / 86400 : 0;
	if (days >= p->warmup.days)
		return 0;
	rate = p->warmup.start_per_hour > 0 ? p->warmup.start_per_hour : 1;
	for (i = 0; i < days && rate < 3600000LL; i++)
		rate += rate * p->warmup.growth_pct / 100;
	if (rate >= 3600000LL)
		return 1;
	return 3600000LL / rate;
}

int
policy_rule_matches(const struct policy_rule *r, const char *category,
    const char *reason, int hard)
{
	if (category == NULL || strcmp(r->category, category) != 0)
		return 0;
	if (r->reason != NULL && (reason == NULL || strcmp(r->reason, reason) != 0))
		return 0;
	if (r->hard_only && !hard)
		return 0;
	return 1;
}

int
sender_status_active(const struct sender_status *s, int64_t now)
{
	if (s->action == SACT_NONE)
		return 0;
	return s->until == 0 || s->until > now;
}

static void
copy_name(char *dst, size_t n, const char *src)
{
	if (src == NULL)
		src = "";
	snprintf(dst, n, "%s", src);
}

void
sender_status_from_rule(const struct policy_rule *r, const char *category,
    const char *reason, uint32_t count, int64_t now, struct sender_status *out)
{
	memset(out, 0, sizeof(*out));
	out->action = r->action;
	out->since = now;
	out->until = r->duration > 0 ? now + r->duration : 0;
	out->count = count;
	out->window = (uint32_t)r->window;
	out->interval_ms = r->rate.interval_ms;
	out->burst = r->rate.burst;
	copy_name(out->category, sizeof(out->category), category);
	copy_name(out->reason, sizeof(out->reason), r->reason != NULL ? reason : "");
	copy_name(out->who, sizeof(out->who), "policy");
}

int
sender_status_header(const struct sender_status *s, const char *dest,
    struct buf *out)
{
	char w[24];
	int rc;

	rc = buf_printf(out, "%s", action_states[(unsigned)s->action < SACT__COUNT ?
	    s->action : 0]);
	if (rc == 0 && s->manual)
		rc = buf_printf(out, "; by=operator");
	if (rc == 0 && s->category[0] != '\0')
		rc = buf_printf(out, "; reason=%s", s->reason[0] != '\0' ?
		    s->reason : s->category);
	if (rc == 0 && dest != NULL && *dest != '\0')
		rc = buf_printf(out, "; domain=%s", dest);
	if (rc == 0 && s->count > 0) {
		duration_format(s->window, w, sizeof(w));
		/* a throttle the deferral policy set counts deferrals */
		rc = buf_printf(out, "; %s=%u/%s",
		    strcmp(s->who, "deferrals") == 0 ? "deferrals" : "rejections",
		    s->count, w);
	}
	return rc;
}

/* ---- facts ---- */

void
sender_facts_init(struct sender_facts *f, const struct policy_conf *p)
{
	memset(f, 0, sizeof(*f));
	f->header_name = p != NULL ? p->tag_header : NULL;
}

struct sender_fact *
sender_facts_add(struct sender_facts *f, const char *check_id, const char *key,
    int64_t retry_ms, const char *reply)
{
	struct sender_fact *x;

	EGRESS_ASSERT(f != NULL && check_id != NULL && key != NULL);
	if (sender_facts_find(f, check_id) != NULL || f->n == SENDER_FACTS_MAX)
		return NULL;
	x = &f->v[f->n++];
	x->check_id = check_id;
	x->retry_ms = retry_ms;
	snprintf(x->key, sizeof(x->key), "%s", key);
	snprintf(x->reply, sizeof(x->reply), "%s", reply != NULL ? reply : "");
	return x;
}

const struct sender_fact *
sender_facts_find(const struct sender_facts *f, const char *check_id)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->v[i].check_id, check_id) == 0)
			return &f->v[i];
	return NULL;
}

void
sender_facts_merge(struct sender_facts *into, const struct sender_facts *from)
{
	size_t i;

	for (i = 0; i < from->n; i++)
		(void)sender_facts_add(into, from->v[i].check_id, from->v[i].key,
		    from->v[i].retry_ms, from->v[i].reply);
	if (from->header[0] != '\0' &&
	    (into->header[0] == '\0' || from->header_sev > into->header_sev)) {
		memcpy(into->header, from->header, sizeof(into->header));
		into->header_sev = from->header_sev;
		into->header_name = from->header_name;
	}
	into->degraded |= from->degraded;
}
