/*
 * preflight.c - the daemon's one DNS thread: the DMARC preflight cache and
 * the block-list self-check of the egress IPs (both off by default).
 *
 * No milter callback waits on DNS. A callback asks the cache
 * (shell_preflight_lookup): a fresh answer is returned at once; a miss or a
 * stale entry queues the (From domain, envelope domain) pair for this
 * thread and is answered "unknown", so that message passes untagged (fail
 * open). The thread evaluates queued pairs through libunbound and keeps
 * the answer diagnose.preflight_ttl seconds (an "unknown" answer, DNS not
 * answering, only PREFLIGHT_RETRY seconds). Every
 * diagnose.selfcheck_interval seconds (0: never) it looks each egress IP
 * up on each block list, logs what changed and sets the metrics.
 *
 * Bounds: PREFLIGHT_CACHE entries (the oldest answer of a full probe run
 * is replaced), PREFLIGHT_QUEUE queued pairs (more are dropped and asked
 * again by a later message), diagnose.max_queries per evaluation.
 * Threading: one mutex guards the cache and the queue; the thread takes a
 * configuration reference per task, so a reload's lists and IPs apply at
 * the next task; the resolver (stub zones, timeout) is the start-up one.
 * Started after the fork (shell_preflight_start), stopped and joined
 * before the store closes.
 */
#include <errno.h>
#include <libpsl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#include "egress/dnsbl.h"
#include "egress/preflight.h"

#include "../dns/dns_unbound.h"
#include "shell.h"

#define PREFLIGHT_CACHE		4096	/* cached (From, envelope) answers */
#define PREFLIGHT_PROBE		8	/* slots tried per key */
#define PREFLIGHT_QUEUE		256	/* pairs waiting for the thread */
#define PREFLIGHT_RETRY		60	/* seconds an "unknown" answer is kept */
#define PREFLIGHT_KEY_MAX	(2 * DNS_NAME_MAX + 2)
#define SELFCHECK_PAIRS		64	/* (IP, list) states remembered */

struct pf_entry {
	char			 key[PREFLIGHT_KEY_MAX];	/* "from|mailfrom" */
	int64_t			 expires;	/* 0: queued, no answer yet */
	enum preflight_verdict	 v;
	int			 logged;	/* WILL_FAIL said once per answer */
	char			 why[512];
};

static pthread_mutex_t pf_mu = PTHREAD_MUTEX_INITIALIZER;	/* guards pf */
static pthread_cond_t pf_cv = PTHREAD_COND_INITIALIZER;

static struct {
	pthread_t		 tid;
	int			 running;
	int			 stop;
	struct pf_entry		*cache;
	char			 queue[PREFLIGHT_QUEUE][PREFLIGHT_KEY_MAX];
	size_t			 qhead, qlen;
	struct dns_unbound	*ub;
	psl_ctx_t		*psl;
	int64_t			 next_selfcheck;	/* monotonic seconds */
	char			 pair[SELFCHECK_PAIRS][DNS_NAME_MAX * 2];
	int			 pair_state[SELFCHECK_PAIRS];	/* enum dnsbl_verdict + 1 */
	size_t			 npairs;
} pf;

static int64_t
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

static uint32_t
key_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The slot of key, or the slot to take for it (*found 0). Lock held. */
static struct pf_entry *
slot_of(const char *key, int *found)
{
	uint32_t h = key_hash(key);
	struct pf_entry *victim = NULL;
	size_t i;

	for (i = 0; i < PREFLIGHT_PROBE; i++) {
		struct pf_entry *e = &pf.cache[(h + i) % PREFLIGHT_CACHE];

		if (strcmp(e->key, key) == 0) {
			*found = 1;
			return e;
		}
		if (e->key[0] == '\0') {
			*found = 0;
			return e;
		}
		/* a queued entry (expires 0) is never the victim */
		if (e->expires != 0 && (victim == NULL || e->expires < victim->expires))
			victim = e;
	}
	*found = 0;
	return victim;
}

static void
make_key(char *key, const char *from, const char *mailfrom)
{
	size_t i;

	snprintf(key, PREFLIGHT_KEY_MAX, "%.255s|%.255s", from,
	    mailfrom ? mailfrom : from);
	for (i = 0; key[i]; i++)
		if (key[i] >= 'A' && key[i] <= 'Z')
			key[i] = (char)(key[i] - 'A' + 'a');
}

enum preflight_verdict
shell_preflight_lookup(const char *from_domain, const char *mailfrom_domain,
    char *why, size_t whylen, int *first)
{
	char key[PREFLIGHT_KEY_MAX];
	struct pf_entry *e;
	enum preflight_verdict v = PREFLIGHT_UNKNOWN;
	int found;

	*first = 0;
	if (why && whylen)
		why[0] = '\0';
	if (from_domain == NULL || from_domain[0] == '\0')
		return PREFLIGHT_UNKNOWN;
	make_key(key, from_domain, mailfrom_domain);
	pthread_mutex_lock(&pf_mu);
	if (!pf.running) {
		pthread_mutex_unlock(&pf_mu);
		return PREFLIGHT_UNKNOWN;
	}
	e = slot_of(key, &found);
	if (found && e->expires != 0 && e->expires > mono_s()) {
		v = e->v;
		if (why)
			snprintf(why, whylen, "%s", e->why);
		if (v == PREFLIGHT_WILL_FAIL && !e->logged)
			*first = e->logged = 1;
	} else if (found && e->expires == 0) {
		/* queued already: the thread will answer */
	} else if (e != NULL && pf.qlen < PREFLIGHT_QUEUE) {
		memset(e, 0, sizeof(*e));
		snprintf(e->key, sizeof(e->key), "%s", key);
		snprintf(pf.queue[(pf.qhead + pf.qlen++) % PREFLIGHT_QUEUE],
		    PREFLIGHT_KEY_MAX, "%s", key);
		pthread_cond_signal(&pf_cv);
	}
	pthread_mutex_unlock(&pf_mu);
	return v;
}

static void
diag_conf_from(const struct config *cfg, struct diag_conf *dc)
{
	memset(dc, 0, sizeof(*dc));
	dc->egress_ips = (const char *const *)cfg->diagnose.egress_ips.v;
	dc->n_egress = cfg->diagnose.egress_ips.n;
	dc->helo = cfg->diagnose.helo;
	dc->dnsbl = (const char *const *)cfg->diagnose.dnsbl.v;
	dc->n_dnsbl = cfg->diagnose.dnsbl.n;
	dc->dnswl = (const char *const *)cfg->diagnose.dnswl.v;
	dc->n_dnswl = cfg->diagnose.dnswl.n;
	dc->psl = pf.psl;
}

static void
evaluate(const char *key)
{
	char from[DNS_NAME_MAX + 1], mailfrom[DNS_NAME_MAX + 1];
	const char *bar = strchr(key, '|');
	struct preflight_result r;
	struct dns_client dns;
	struct diag_conf dc;
	struct config *cfg = shell_config_get();
	struct pf_entry *e;
	int found;
	int64_t ttl;

	if (bar == NULL) {
		shell_config_put(cfg);
		return;
	}
	snprintf(from, sizeof(from), "%.*s", (int)(bar - key), key);
	snprintf(mailfrom, sizeof(mailfrom), "%s", bar + 1);
	diag_conf_from(cfg, &dc);
	dns_client_init(&dns, dns_unbound_query, pf.ub, (unsigned)cfg->diagnose.max_queries);
	preflight_evaluate(&dns, &dc, from, mailfrom, &r);
	ttl = r.v == PREFLIGHT_UNKNOWN ? PREFLIGHT_RETRY : cfg->diagnose.preflight_ttl;
	shell_log(LOG_INFO, "preflight: From domain %s, envelope domain %s: %s "
	    "(%u DNS queries)%s%s", from, mailfrom, preflight_verdict_name(r.v),
	    dns.asked, r.why[0] ? ": " : "", r.why);
	shell_config_put(cfg);
	pthread_mutex_lock(&pf_mu);
	e = slot_of(key, &found);
	if (e != NULL) {
		if (!found) {
			memset(e, 0, sizeof(*e));
			snprintf(e->key, sizeof(e->key), "%s", key);
		}
		e->v = r.v;
		e->logged = 0;
		snprintf(e->why, sizeof(e->why), "%s", r.why);
		e->expires = mono_s() + ttl;
	}
	pthread_mutex_unlock(&pf_mu);
}

/* The remembered state of (ip, zone); appends it when new. */
static int *
pair_state(const char *ip, const char *zone)
{
	char name[DNS_NAME_MAX * 2];
	size_t i;

	snprintf(name, sizeof(name), "%.64s %.255s", ip, zone);
	for (i = 0; i < pf.npairs; i++)
		if (strcmp(pf.pair[i], name) == 0)
			return &pf.pair_state[i];
	if (pf.npairs == SELFCHECK_PAIRS)
		return NULL;
	snprintf(pf.pair[pf.npairs], sizeof(pf.pair[0]), "%s", name);
	pf.pair_state[pf.npairs] = 0;
	return &pf.pair_state[pf.npairs++];
}

static void
selfcheck(void)
{
	struct config *cfg = shell_config_get();
	struct dns_client dns;
	struct dnsbl_result r;
	unsigned listed = 0, unchecked = 0;
	size_t i, j;

	dns_client_init(&dns, dns_unbound_query, pf.ub,
	    (unsigned)(cfg->diagnose.egress_ips.n * cfg->diagnose.dnsbl.n * 2 + 1));
	for (i = 0; i < cfg->diagnose.egress_ips.n; i++)
		for (j = 0; j < cfg->diagnose.dnsbl.n; j++) {
			const char *ip = cfg->diagnose.egress_ips.v[i];
			const char *zone = cfg->diagnose.dnsbl.v[j];
			enum dnsbl_verdict v = dnsbl_check(&dns, ip, zone, 0, &r);
			int *state = pair_state(ip, zone);
			int changed = state == NULL || *state != (int)v + 1;

			if (state != NULL)
				*state = (int)v + 1;
			if (v == DNSBL_LISTED) {
				listed++;
				/* a listing is said at every check, not only when new */
				shell_log(LOG_WARNING, "selfcheck: egress IP %s is listed on %s "
				    "(%s: %s)%s%s", ip, zone, r.code, r.meaning,
				    r.txt[0] ? " " : "", r.txt);
			} else if (v == DNSBL_UNCHECKED) {
				unchecked++;
				if (changed)
					shell_log(LOG_NOTICE, "selfcheck: egress IP %s on %s "
					    "not checked: %s", ip, zone, r.meaning);
			} else if (changed) {
				shell_log(LOG_INFO, "selfcheck: egress IP %s is not listed on %s",
				    ip, zone);
			}
		}
	shell_log(LOG_INFO, "selfcheck: %u listing(s), %u not checked, %zu IP(s) x "
	    "%zu list(s)", listed, unchecked, cfg->diagnose.egress_ips.n,
	    cfg->diagnose.dnsbl.n);
	metrics_selfcheck(shell_metrics(), listed, unchecked);
	pf.next_selfcheck = cfg->diagnose.selfcheck_interval > 0 ?
	    mono_s() + cfg->diagnose.selfcheck_interval : 0;
	shell_config_put(cfg);
}

static void *
preflight_thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&pf_mu);
	while (!pf.stop) {
		char key[PREFLIGHT_KEY_MAX];

		if (pf.qlen > 0) {
			snprintf(key, sizeof(key), "%s", pf.queue[pf.qhead]);
			pf.qhead = (pf.qhead + 1) % PREFLIGHT_QUEUE;
			pf.qlen--;
			pthread_mutex_unlock(&pf_mu);
			evaluate(key);
			pthread_mutex_lock(&pf_mu);
			continue;
		}
		if (pf.next_selfcheck != 0 && mono_s() >= pf.next_selfcheck) {
			pthread_mutex_unlock(&pf_mu);
			selfcheck();
			pthread_mutex_lock(&pf_mu);
			continue;
		}
		if (pf.next_selfcheck != 0) {
			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += pf.next_selfcheck - mono_s() > 0 ?
			    pf.next_selfcheck - mono_s() : 1;
			(void)pthread_cond_timedwait(&pf_cv, &pf_mu, &ts);
		} else {
			pthread_cond_wait(&pf_cv, &pf_mu);
		}
	}
	pthread_mutex_unlock(&pf_mu);
	return NULL;
}

const char *
shell_preflight_start(const struct config *cfg)
{
	static char err[160];
	pthread_condattr_t ca;

	if (cfg->diagnose.preflight == PREFLIGHT_OFF && cfg->diagnose.selfcheck_interval == 0)
		return NULL;
	if ((pf.cache = calloc(PREFLIGHT_CACHE, sizeof(*pf.cache))) == NULL)
		return "preflight: out of memory";
	if ((pf.ub = dns_unbound_new(&cfg->diagnose, err + 11, sizeof(err) - 11)) == NULL) {
		memcpy(err, "preflight: ", 11);
		free(pf.cache);
		pf.cache = NULL;
		return err;
	}
	/* the list compiled into libpsl: read-only, never freed */
	pf.psl = (psl_ctx_t *)psl_builtin();
	/* the condition variable waits on the monotonic clock */
	pthread_cond_destroy(&pf_cv);
	if (pthread_condattr_init(&ca) != 0 ||
	    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&pf_cv, &ca) != 0) {
		snprintf(err, sizeof(err), "preflight: cannot set up the thread's clock");
		return err;
	}
	pthread_condattr_destroy(&ca);
	pf.next_selfcheck = cfg->diagnose.selfcheck_interval > 0 ? mono_s() : 0;
	pf.stop = 0;
	if ((errno = pthread_create(&pf.tid, NULL, preflight_thread, NULL)) != 0) {
		snprintf(err, sizeof(err), "preflight: cannot start the thread: %s",
		    strerror(errno));
		return err;
	}
	pthread_mutex_lock(&pf_mu);
	pf.running = 1;
	pthread_mutex_unlock(&pf_mu);
	shell_log(LOG_INFO, "preflight: %s, self-check %s",
	    cfg->diagnose.preflight == PREFLIGHT_TAG ? "tag" :
	    cfg->diagnose.preflight == PREFLIGHT_HOLD ? "hold" : "off",
	    cfg->diagnose.selfcheck_interval > 0 ? "on" : "off");
	return NULL;
}

void
shell_preflight_stop(void)
{
	pthread_mutex_lock(&pf_mu);
	if (!pf.running) {
		pthread_mutex_unlock(&pf_mu);
		return;
	}
	pf.stop = 1;
	pf.running = 0;
	pthread_cond_signal(&pf_cv);
	pthread_mutex_unlock(&pf_mu);
	pthread_join(pf.tid, NULL);
	dns_unbound_free(pf.ub);
	pf.ub = NULL;
	pthread_mutex_lock(&pf_mu);
	free(pf.cache);
	pf.cache = NULL;
	pthread_mutex_unlock(&pf_mu);
	/* the psl context stays: a session may still ask shell_preflight_signed */
}

int
shell_preflight_signed(const struct config *cfg, const char *from_domain,
    const char *sig_d)
{
	return preflight_signed(&cfg->diagnose, pf.psl, from_domain, sig_d);
}
