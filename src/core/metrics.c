/*
 * metrics.c - the registry of the daemon's metrics and the `metrics` section.
 *
 * Every series exists from metrics_new() on, at zero, so a scrape always
 * shows the same set of lines (rate() works from the first scrape, and a
 * dashboard never meets a missing series). The sets are fixed: actions
 * (6), check ids (the registry's, plus "rule.*" for every operator rule and
 * "other" for an id the registry does not know), bounce reasons (the
 * vocabulary, ~40) times three match outcomes, sender actions (5), store
 * operations (3) and callback stages (6); about 450 lines in all.
 *
 * Updates are relaxed atomic adds (C11 <stdatomic.h>): a counter needs no
 * ordering with anything else, and on x86-64 and arm64 a relaxed 64-bit add
 * is one instruction with no fence. Histograms keep one counter per bucket
 * (not cumulative: an observation touches one bucket, its sum and nothing
 * else); the writer makes them cumulative. Bucket bounds are kept in
 * nanoseconds so an observation compares integers only.
 *
 * Ownership: the registry owns its arrays; labels written are static names.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "egress/assert.h"
#include "egress/cfg.h"
#include "egress/checks.h"
#include "egress/dsn.h"
#include "egress/metrics.h"
#include "egress/prom.h"
#include "egress/vocab.h"

#define NS_PER_S	1e9

/* Store calls: LMDB reads take microseconds, Redis round trips milliseconds. */
static const double store_bounds[] = {
	0.000002, 0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025,
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
};
#define NSTORE_BOUNDS	(sizeof(store_bounds) / sizeof(store_bounds[0]))

/* Callbacks: a header or body chunk in microseconds, end of message with
 * the content scan and a repair up to seconds. */
static const double stage_bounds[] = {
	0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};
#define NSTAGE_BOUNDS	(sizeof(stage_bounds) / sizeof(stage_bounds[0]))
#define NBOUNDS_MAX	(NSTAGE_BOUNDS > NSTORE_BOUNDS ? NSTAGE_BOUNDS : NSTORE_BOUNDS)

static const char *const stage_names[MSTAGE__COUNT] = {
	"connect", "envfrom", "envrcpt", "eoh", "body", "eom",
};
static const char *const store_op_names[MSTORE__COUNT] = {
	"sender_check", "recipient_check", "record_failure",
};
static const char *const match_names[MMATCH__COUNT] = {
	"unknown", "yes", "no",
};
/* Store failures counted: STORE_ERROR (-1) and STORE_UNAVAILABLE (-2). */
static const char *const store_err_names[2] = { "error", "unavailable" };
/* The sender actions a fact can stand for (enum sender_action order). */
#define SACT_FIRST	SACT_TAG
#define NSACT		(SACT__COUNT - SACT_FIRST)

struct hist {
	_Atomic uint64_t	 bucket[NBOUNDS_MAX + 1];
	_Atomic uint64_t	 sum_ns;
};

struct metrics {
	_Atomic uint64_t	 messages[ACT__COUNT];
	_Atomic uint64_t	 would[ACT__COUNT];
	_Atomic uint64_t	*findings;	/* nchecks + 2: "rule.*", "other" */
	size_t			 nchecks;
	_Atomic uint64_t	*bounces;	/* reason * MMATCH__COUNT + match */
	size_t			 nreasons;
	size_t			 undefined;	/* index of reason "undefined" */
	_Atomic uint64_t	 sender_actions[NSACT];
	struct hist		 store[MSTORE__COUNT];
	_Atomic uint64_t	 store_errors[MSTORE__COUNT][2];
	struct hist		 stage[MSTAGE__COUNT];
	_Atomic int64_t		 sessions;
	_Atomic uint64_t	 reloads[2];	/* failure, success */
	_Atomic uint64_t	 preflight[3];	/* enum preflight_verdict */
	_Atomic uint64_t	 selfcheck_runs;
	_Atomic int64_t		 selfcheck[2];	/* listed, unchecked pairs now */
	uint64_t		 store_ns[NSTORE_BOUNDS];
	uint64_t		 stage_ns[NSTAGE_BOUNDS];
};

static inline void
inc(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static inline uint64_t
get(const _Atomic uint64_t *c)
{
	return atomic_load_explicit((_Atomic uint64_t *)(uintptr_t)c,
	    memory_order_relaxed);
}

struct metrics *
metrics_new(void)
{
	const struct check_def *defs;
	struct metrics *m;
	size_t i;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->nchecks = checks_table(&defs);
	m->nreasons = vocab_reason_count();
	m->findings = calloc(m->nchecks + 2, sizeof(*m->findings));
	m->bounces = calloc(m->nreasons * MMATCH__COUNT, sizeof(*m->bounces));
	if (m->findings == NULL || m->bounces == NULL) {
		metrics_free(m);
		return NULL;
	}
	m->undefined = m->nreasons;
	for (i = 0; i < m->nreasons; i++)
		if (strcmp(vocab_reason_at(i), "undefined") == 0)
			m->undefined = i;
	EGRESS_ASSERT(m->undefined < m->nreasons);
	for (i = 0; i < NSTORE_BOUNDS; i++)
		m->store_ns[i] = (uint64_t)(store_bounds[i] * NS_PER_S + 0.5);
	for (i = 0; i < NSTAGE_BOUNDS; i++)
		m->stage_ns[i] = (uint64_t)(stage_bounds[i] * NS_PER_S + 0.5);
	return m;
}

void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	free(m->findings);
	free(m->bounces);
	free(m);
}

/* ---- updates ---- */

void
metrics_message(struct metrics *m, enum action action, enum action would,
    int monitor)
{
	if (m == NULL)
		return;
	if ((unsigned)action < ACT__COUNT)
		inc(&m->messages[action], 1);
	if (monitor && (unsigned)would < ACT__COUNT)
		inc(&m->would[would], 1);
}

static size_t
finding_slot(const struct metrics *m, const char *id)
{
	int i;

	if (strncmp(id, "rule.", 5) == 0)
		return m->nchecks;
	if ((i = checks_index(id)) >= 0)
		return (size_t)i;
	return m->nchecks + 1;
}

void
metrics_findings(struct metrics *m, const struct findings *f)
{
	size_t i;

	if (m == NULL || f == NULL)
		return;
	for (i = 0; i < f->n; i++)
		inc(&m->findings[finding_slot(m, f->v[i].id)], 1);
}

static size_t
reason_slot(const struct metrics *m, const char *reason)
{
	size_t i;

	if (reason != NULL)
		for (i = 0; i < m->nreasons; i++)
			if (strcmp(vocab_reason_at(i), reason) == 0)
				return i;
	return m->undefined;
}

void
metrics_bounce(struct metrics *m, const char *reason, enum metrics_match match)
{
	if (m == NULL)
		return;
	if ((unsigned)match >= MMATCH__COUNT)
		match = MMATCH_UNKNOWN;
	inc(&m->bounces[reason_slot(m, reason) * MMATCH__COUNT + match], 1);
}

/* The sender action a fact's check stands for, or SACT_NONE. */
static enum sender_action
fact_action(const char *check_id)
{
	static const struct { const char *id; enum sender_action a; } tab[] = {
		{ "sender.tagged", SACT_TAG },
		{ "sender.throttled", SACT_THROTTLE },
		{ "sender.rate", SACT_THROTTLE },
		{ "sender.warmup", SACT_THROTTLE },
		{ "sender.held", SACT_HOLD },
		{ "sender.suspended", SACT_SUSPEND },
		{ "recipient.suppressed", SACT_SUPPRESS },
	};
	size_t i;

	for (i = 0; check_id != NULL && i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(tab[i].id, check_id) == 0)
			return tab[i].a;
	return SACT_NONE;
}

void
metrics_sender_fact(struct metrics *m, const char *check_id)
{
	enum sender_action a;

	if (m != NULL && (a = fact_action(check_id)) != SACT_NONE)
		inc(&m->sender_actions[a - SACT_FIRST], 1);
}

void
metrics_sender_facts(struct metrics *m, const struct sender_facts *f)
{
	size_t i;

	if (m == NULL || f == NULL)
		return;
	for (i = 0; i < f->n; i++)
		metrics_sender_fact(m, f->v[i].check_id);
}

void
metrics_report(struct metrics *m, const struct dsn_report *r,
    enum metrics_match match)
{
	const char *fixed = NULL;
	size_t i;

	if (m == NULL || r == NULL)
		return;
	switch (r->kind) {
	case DSN_KIND_DSN:
		break;
	case DSN_KIND_FEEDBACK:
		fixed = "feedback";
		break;
	case DSN_KIND_AUTOREPLY:
		fixed = "vacation";
		break;
	case DSN_KIND_DELIVERED:
		fixed = "delivered";
		break;
	default:
		return;
	}
	if (r->nrcpts == 0 && fixed != NULL)
		metrics_bounce(m, fixed, match);
	for (i = 0; i < r->nrcpts; i++) {
		const struct dsn_recipient *d = &r->rcpts[i];

		if (fixed != NULL)
			metrics_bounce(m, fixed, match);
		else if (d->action == NULL || strcasecmp(d->action, "failed") == 0)
			metrics_bounce(m, d->cls.reason, match);
	}
}

static void
observe(struct hist *h, const uint64_t *bounds_ns, size_t nbounds, uint64_t ns)
{
	size_t i = 0;

	/* le: an observation equal to a bound belongs to that bucket */
	while (i < nbounds && ns > bounds_ns[i])
		i++;
	inc(&h->bucket[i], 1);
	inc(&h->sum_ns, ns);
}

void
metrics_store(struct metrics *m, enum metrics_store_op op, uint64_t ns, int rc)
{
	if (m == NULL || (unsigned)op >= MSTORE__COUNT)
		return;
	observe(&m->store[op], m->store_ns, NSTORE_BOUNDS, ns);
	if (rc == -1 || rc == -2)
		inc(&m->store_errors[op][-rc - 1], 1);
}

void
metrics_stage(struct metrics *m, enum metrics_stage s, uint64_t ns)
{
	if (m == NULL || (unsigned)s >= MSTAGE__COUNT)
		return;
	observe(&m->stage[s], m->stage_ns, NSTAGE_BOUNDS, ns);
}

void
metrics_session(struct metrics *m, int delta)
{
	if (m != NULL)
		atomic_fetch_add_explicit(&m->sessions, delta, memory_order_relaxed);
}

void
metrics_reload(struct metrics *m, int ok)
{
	if (m != NULL)
		inc(&m->reloads[ok ? 1 : 0], 1);
}

void
metrics_preflight(struct metrics *m, int verdict)
{
	if (m != NULL && verdict >= 0 && verdict < 3)
		inc(&m->preflight[verdict], 1);
}

void
metrics_selfcheck(struct metrics *m, unsigned listed, unsigned unchecked)
{
	if (m == NULL)
		return;
	inc(&m->selfcheck_runs, 1);
	atomic_store_explicit(&m->selfcheck[0], (int64_t)listed, memory_order_relaxed);
	atomic_store_explicit(&m->selfcheck[1], (int64_t)unchecked, memory_order_relaxed);
}

/* ---- exposition ---- */

#define PFX	"milter_egress_"

static int
write_hist(struct buf *out, const char *name, const char *label,
    const char *value, const struct hist *h, const double *bounds,
    size_t nbounds)
{
	uint64_t counts[NBOUNDS_MAX + 1];
	struct prom_label l = { label, value };
	size_t i;

	for (i = 0; i <= nbounds; i++)
		counts[i] = get(&h->bucket[i]);
	return prom_histogram(out, name, &l, 1, bounds, nbounds, counts,
	    (double)get(&h->sum_ns) / NS_PER_S);
}

int
metrics_write(const struct metrics *m, const char *version, struct buf *out)
{
	const struct check_def *defs;
	struct prom_label l[3];
	size_t i, j;
	int rc;

	EGRESS_ASSERT(m != NULL);
	(void)checks_table(&defs);
#define TRY(x)	do { if ((rc = (x)) != BUF_OK) return rc; } while (0)
	TRY(prom_family(out, PFX "build_info", "gauge",
	    "Always 1; the version of the running daemon is its label."));
	l[0] = (struct prom_label){ "version", version ? version : "" };
	TRY(prom_sample_u64(out, PFX "build_info", l, 1, 1));

	TRY(prom_family(out, PFX "messages_total", "counter",
	    "Messages decided, by the action taken."));
	for (i = 0; i < ACT__COUNT; i++) {
		l[0] = (struct prom_label){ "action", action_name((enum action)i) };
		TRY(prom_sample_u64(out, PFX "messages_total", l, 1,
		    get(&m->messages[i])));
	}
	TRY(prom_family(out, PFX "messages_would_total", "counter",
	    "Messages decided in monitor mode, by the action enforce mode would have taken."));
	for (i = 0; i < ACT__COUNT; i++) {
		l[0] = (struct prom_label){ "action", action_name((enum action)i) };
		TRY(prom_sample_u64(out, PFX "messages_would_total", l, 1,
		    get(&m->would[i])));
	}

	TRY(prom_family(out, PFX "findings_total", "counter",
	    "Findings in decided messages, by check id (operator rules as rule.*)."));
	for (i = 0; i < m->nchecks + 2; i++) {
		l[0] = (struct prom_label){ "check", i < m->nchecks ? defs[i].id :
		    i == m->nchecks ? "rule.*" : "other" };
		TRY(prom_sample_u64(out, PFX "findings_total", l, 1,
		    get(&m->findings[i])));
	}

	TRY(prom_family(out, PFX "bounces_total", "counter",
	    "Failed recipients and reports of recognised bounces, by reason, its category, and whether the bounce matched mail sent from here."));
	for (i = 0; i < m->nreasons; i++) {
		const char *cat = vocab_reason_category(vocab_reason_at(i));

		l[0] = (struct prom_label){ "reason", vocab_reason_at(i) };
		l[1] = (struct prom_label){ "category", cat ? cat : "transient" };
		for (j = 0; j < MMATCH__COUNT; j++) {
			l[2] = (struct prom_label){ "matched", match_names[j] };
			TRY(prom_sample_u64(out, PFX "bounces_total", l, 3,
			    get(&m->bounces[i * MMATCH__COUNT + j])));
		}
	}

	TRY(prom_family(out, PFX "sender_actions_total", "counter",
	    "Sender-record statuses met by messages or recipients, by action."));
	for (i = 0; i < NSACT; i++) {
		l[0] = (struct prom_label){ "action",
		    sender_action_name((enum sender_action)(i + SACT_FIRST)) };
		TRY(prom_sample_u64(out, PFX "sender_actions_total", l, 1,
		    get(&m->sender_actions[i])));
	}

	TRY(prom_family(out, PFX "store_duration_seconds", "histogram",
	    "Time the milter waited for a sender-record call, by operation."));
	for (i = 0; i < MSTORE__COUNT; i++)
		TRY(write_hist(out, PFX "store_duration_seconds", "op",
		    store_op_names[i], &m->store[i], store_bounds, NSTORE_BOUNDS));
	TRY(prom_family(out, PFX "store_errors_total", "counter",
	    "Sender-record calls that failed, by operation and error (error: resource failure; unavailable: Redis down or timed out)."));
	for (i = 0; i < MSTORE__COUNT; i++)
		for (j = 0; j < 2; j++) {
			l[0] = (struct prom_label){ "op", store_op_names[i] };
			l[1] = (struct prom_label){ "error", store_err_names[j] };
			TRY(prom_sample_u64(out, PFX "store_errors_total", l, 2,
			    get(&m->store_errors[i][j])));
		}

	TRY(prom_family(out, PFX "callback_duration_seconds", "histogram",
	    "Time spent in a milter callback, by stage."));
	for (i = 0; i < MSTAGE__COUNT; i++)
		TRY(write_hist(out, PFX "callback_duration_seconds", "stage",
		    stage_names[i], &m->stage[i], stage_bounds, NSTAGE_BOUNDS));

	TRY(prom_family(out, PFX "sessions_active", "gauge",
	    "Milter connections open now."));
	TRY(prom_sample_i64(out, PFX "sessions_active", NULL, 0,
	    atomic_load_explicit((_Atomic int64_t *)(uintptr_t)&m->sessions,
	    memory_order_relaxed)));

	TRY(prom_family(out, PFX "config_reloads_total", "counter",
	    "Configuration reloads (SIGUSR1), by result."));
	l[0] = (struct prom_label){ "result", "success" };
	TRY(prom_sample_u64(out, PFX "config_reloads_total", l, 1, get(&m->reloads[1])));
	l[0] = (struct prom_label){ "result", "failure" };
	TRY(prom_sample_u64(out, PFX "config_reloads_total", l, 1, get(&m->reloads[0])));

	TRY(prom_family(out, PFX "preflight_total", "counter",
	    "Messages the DMARC preflight looked at, by verdict "
	    "(unknown: not cached yet or DNS did not answer)."));
	{
		static const char *const pv[] = { "pass", "dmarc-will-fail", "unknown" };
		int k;

		for (k = 0; k < 3; k++) {
			l[0] = (struct prom_label){ "verdict", pv[k] };
			TRY(prom_sample_u64(out, PFX "preflight_total", l, 1, get(&m->preflight[k])));
		}
	}
	TRY(prom_family(out, PFX "selfcheck_runs_total", "counter",
	    "Block-list self-checks of the egress IPs run."));
	TRY(prom_sample_u64(out, PFX "selfcheck_runs_total", NULL, 0, get(&m->selfcheck_runs)));
	TRY(prom_family(out, PFX "selfcheck_listed", "gauge",
	    "(egress IP, block list) pairs listed at the last self-check."));
	TRY(prom_sample_i64(out, PFX "selfcheck_listed", NULL, 0,
	    atomic_load_explicit((_Atomic int64_t *)(uintptr_t)&m->selfcheck[0],
	    memory_order_relaxed)));
	TRY(prom_family(out, PFX "selfcheck_unchecked", "gauge",
	    "(egress IP, block list) pairs that could not be checked at the last self-check."));
	TRY(prom_sample_i64(out, PFX "selfcheck_unchecked", NULL, 0,
	    atomic_load_explicit((_Atomic int64_t *)(uintptr_t)&m->selfcheck[1],
	    memory_order_relaxed)));
#undef TRY
	return BUF_OK;
}

size_t
metrics_series(const struct metrics *m)
{
	return 1 + 2 * ACT__COUNT + m->nchecks + 2 +
	    m->nreasons * MMATCH__COUNT + NSACT +
	    MSTORE__COUNT * (NSTORE_BOUNDS + 3) + MSTORE__COUNT * 2 +
	    MSTAGE__COUNT * (NSTAGE_BOUNDS + 3) + 1 + 2 +
	    3 + 1 + 2;	/* preflight, self-check */
}

const char *
metrics_stage_name(enum metrics_stage s)
{
	return (unsigned)s < MSTAGE__COUNT ? stage_names[s] : "?";
}

const char *
metrics_store_op_name(enum metrics_store_op op)
{
	return (unsigned)op < MSTORE__COUNT ? store_op_names[op] : "?";
}

const char *
metrics_match_name(enum metrics_match mm)
{
	return (unsigned)mm < MMATCH__COUNT ? match_names[mm] : "?";
}

/* ---- the `metrics` section ---- */

int
metrics_conf_default(struct metrics_conf *c)
{
	memset(c, 0, sizeof(*c));
	return 0;
}

void
metrics_conf_fini(struct metrics_conf *c)
{
	free(c->listen);
	c->listen = NULL;
}

int
metrics_listen_parse(const char *s, char host[METRICS_HOST_MAX], int *family,
    unsigned *port)
{
	unsigned char addr[sizeof(struct in6_addr)];
	const char *colon, *h;
	size_t hlen;
	unsigned long p = 0;
	const char *d;

	if (s == NULL)
		return -1;
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || rb[1] != ':')
			return -1;
		h = s + 1;
		hlen = (size_t)(rb - h);
		colon = rb + 1;
		*family = 6;
	} else {
		if ((colon = strrchr(s, ':')) == NULL || strchr(s, ':') != colon)
			return -1;	/* an IPv6 address needs brackets */
		h = s;
		hlen = (size_t)(colon - s);
		*family = 4;
	}
	if (hlen == 0 || hlen >= METRICS_HOST_MAX)
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	/* the port: 1..65535, digits only */
	for (d = colon + 1; *d >= '0' && *d <= '9' && d - colon <= 5; d++)
		p = p * 10 + (unsigned long)(*d - '0');
	if (d == colon + 1 || *d != '\0' || p == 0 || p > 65535)
		return -1;
	*port = (unsigned)p;
	if (*family == 4 && strcmp(host, "localhost") == 0)
		snprintf(host, METRICS_HOST_MAX, "127.0.0.1");
	if (inet_pton(*family == 6 ? AF_INET6 : AF_INET, host, addr) != 1)
		return -1;
	return 0;
}

int
metrics_host_is_loopback(const char *host, int family)
{
	unsigned char a[sizeof(struct in6_addr)];
	static const unsigned char v6_loop[16] = { [15] = 1 };

	if (family == 6)
		return inet_pton(AF_INET6, host, a) == 1 &&
		    memcmp(a, v6_loop, 16) == 0;
	return inet_pton(AF_INET, host, a) == 1 && a[0] == 127;
}

int
metrics_config_load(struct metrics_conf *c, const config_setting_t *g,
    struct cfg_errors *e)
{
	static const char *const keys[] = { "listen", "allow_remote", NULL };
	char host[METRICS_HOST_MAX];
	unsigned port;
	int family, before = e->count;

	if (g == NULL)
		return 0;
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		cfg_error(e, g, "metrics", "expected a group { listen = \"...\"; }");
		return -1;
	}
	cfg_allow_keys(g, keys, e);
	cfg_bool(g, "allow_remote", &c->allow_remote, e);
	if (cfg_string(g, "listen", &c->listen, e) > 0) {
		if (c->listen[0] == '\0') {
			free(c->listen);
			c->listen = NULL;
		} else if (metrics_listen_parse(c->listen, host, &family, &port) != 0)
			cfg_error(e, cfg_member(g, "listen"), "metrics.listen",
			    "\"%s\" is not ADDRESS:PORT (127.0.0.1:9464, [::1]:9464, localhost:9464)",
			    c->listen);
		else if (!c->allow_remote && !metrics_host_is_loopback(host, family))
			cfg_error(e, cfg_member(g, "listen"), "metrics.listen",
			    "\"%s\" is not a loopback address; set metrics.allow_remote = true to serve metrics to other hosts",
			    c->listen);
	}
	return e->count > before ? -1 : 0;
}
