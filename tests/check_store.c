/*
 * check_store.c - one suite for the state store, run against both backends:
 * LMDB in a fresh temporary directory and a real redis-server that this
 * program starts on a unix socket in a temporary directory (and stops).
 * When redis-server is not installed the Redis runs are skipped with a
 * message; every other case runs on both.
 *
 * Every test is a loop test: _i == 0 is LMDB, _i == 1 is Redis. Redis tests
 * get a fresh key prefix instead of a fresh server.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <lmdb.h>

#include "egress/checks.h"
#include "egress/config.h"
#include "egress/findings.h"
#include "egress/ledger.h"
#include "egress/policy.h"
#include "egress/sender.h"
#include "egress/store.h"

/* The tests' clock: the wall clock at start, so the LMDB writer's sweep
 * (which runs on the wall clock) agrees with what the tests expect. */
static int64_t now_base;
#define NOW	now_base
#define REDIS_BIN	"redis-server"

static char redis_dir[256];
static char redis_sock[300];
static pid_t redis_pid = -1;
static int have_redis;
extern char **environ;

/* ---- redis-server for the run ---- */

static int redis_start_pw(const char *sock, const char *password, pid_t *pid);

static int
redis_start(const char *sock, pid_t *pid)
{
	return redis_start_pw(sock, NULL, pid);
}

/*
 * Programs are started with posix_spawn, never fork: a test may have a
 * store open (the LMDB writer thread running), and a forked copy of a
 * threaded process may only call async-signal-safe functions.
 */
static int
spawn(pid_t *pid, const char *const argv[], int quiet)
{
	posix_spawn_file_actions_t fa;
	int rc;

	if (posix_spawn_file_actions_init(&fa) != 0)
		return -1;
	if (quiet && (posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0) != 0 ||
	    posix_spawn_file_actions_adddup2(&fa, 1, 2) != 0)) {
		posix_spawn_file_actions_destroy(&fa);
		return -1;
	}
	rc = posix_spawnp(pid, argv[0], &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		*pid = -1;
		return -1;
	}
	return 0;
}

static int
redis_start_pw(const char *sock, const char *password, pid_t *pid)
{
	const char *argv[] = { REDIS_BIN, "--port", "0", "--unixsocket", sock,
	    "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
	    "--daemonize", "no", password != NULL ? "--requirepass" : NULL,
	    password, NULL };
	char cmd[600];
	int i;

	if (spawn(pid, argv, 1) != 0)
		return -1;
	/* wait until it answers */
	snprintf(cmd, sizeof(cmd), "redis-cli -s %s %s%s ping 2>/dev/null | grep -q PONG",
	    sock, password != NULL ? "--no-auth-warning -a " : "",
	    password != NULL ? password : "");
	for (i = 0; i < 100; i++) {
		if (system(cmd) == 0)
			return 0;
		usleep(50000);
	}
	return -1;
}

static void
redis_stop(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGTERM);
		waitpid(*pid, NULL, 0);
		*pid = -1;
	}
}

static int
have_binary(const char *name)
{
	char cmd[200];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", name);
	return system(cmd) == 0;
}

/* ---- a store per test ---- */

struct logcap {
	char	text[8192];
	int	lines;
};

static void
logcap_fn(void *arg, int level, const char *msg)
{
	struct logcap *l = arg;
	size_t n = strlen(l->text);

	(void)level;
	snprintf(l->text + n, sizeof(l->text) - n, "%s\n", msg);
	l->lines++;
}

static struct logcap logs;
/* Settings a test wants before its store opens (reset after each open). */
static long long tweak_max_entries;
static int tweak_relaxed;
static char lmdb_dir[256];
static int prefix_seq;

static struct store *
open_backend(int backend, struct store_conf *c)
{
	char err[256];
	struct store *st;

	ck_assert_int_eq(store_conf_default(c), 0);
	memset(&logs, 0, sizeof(logs));
	c->retention = 30 * 86400;
	if (backend == 0) {
		free(c->state_dir);
		snprintf(lmdb_dir, sizeof(lmdb_dir), "/tmp/egress-store-XXXXXX");
		ck_assert_ptr_nonnull(mkdtemp(lmdb_dir));
		c->state_dir = strdup(lmdb_dir);
		c->backend = STORE_LMDB;
		c->commit_interval_ms = 20;
	} else {
		free(c->redis);
		free(c->key_prefix);
		c->backend = STORE_REDIS;
		if (asprintf(&c->redis, "unix:%s", redis_sock) < 0 ||
		    asprintf(&c->key_prefix, "t%d-%d", (int)getpid(), ++prefix_seq) < 0 ||
		    asprintf(&c->ledger.key_file, "%s/ledger.key", redis_dir) < 0)
			ck_abort();
	}
	if (tweak_max_entries > 0)
		c->ledger.max_entries = tweak_max_entries;
	if (tweak_relaxed)
		c->ledger.require = LEDGER_RELAXED;
	tweak_max_entries = 0;
	tweak_relaxed = 0;
	st = store_open(c, logcap_fn, &logs, err, sizeof(err));
	ck_assert_msg(st != NULL, "store_open: %s", err);
	return st;
}

static int
skip_redis(int backend)
{
	if (backend == 1 && !have_redis) {
		fprintf(stderr, "SKIP redis case: redis-server is not installed\n");
		return 1;
	}
	return 0;
}

static void
close_backend(struct store *st, struct store_conf *c)
{
	char cmd[300];

	store_close(st);
	if (c->backend == STORE_LMDB) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", lmdb_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", lmdb_dir);
	}
	store_conf_fini(c);
}

#define BEGIN(name) \
	struct store_conf conf; \
	struct store *st; \
	if (skip_redis(_i)) \
		return; \
	st = open_backend(_i, &conf); \
	(void)name
#define END()	close_backend(st, &conf)

/* ---- events ---- */

struct sum {
	const char	*field;
	uint64_t	 total;
	int		 calls;
};

static int
sum_cb(void *arg, int64_t bucket, const char *field, uint64_t count)
{
	struct sum *s = arg;

	(void)bucket;
	s->calls++;
	if (s->field == NULL || strcmp(field, s->field) == 0)
		s->total += count;
	return 0;
}

static uint64_t
sum_of(struct store *st, const char *key, const char *field, int64_t since,
    int64_t now)
{
	struct sum s = { field, 0, 0 };

	ck_assert_int_eq(store_event_scan(st, key, since, now, sum_cb, &s), STORE_OK);
	return s.total;
}

START_TEST(test_events)
{
	const char *f1[] = { "c/reputation", "r/reputation/blocked" };
	const char *f2[] = { "c/reputation" };
	int64_t t0 = NOW - NOW % 300;

	BEGIN("events");
	ck_assert_int_eq(store_event_add(st, "env:a@x.test", t0, f1, 2), STORE_OK);
	ck_assert_int_eq(store_event_add(st, "env:a@x.test", t0 + 10, f2, 1), STORE_OK);
	ck_assert_int_eq(store_event_add(st, "env:a@x.test", t0 + 3600, f2, 1), STORE_OK);
	ck_assert_int_eq(store_event_add(st, "env:b@x.test", t0, f2, 1), STORE_OK);
	/* visible at once, before any commit */
	ck_assert_uint_eq(sum_of(st, "env:a@x.test", "c/reputation", t0, t0 + 3600), 3);
	ck_assert_uint_eq(sum_of(st, "env:a@x.test", "r/reputation/blocked", t0, t0 + 3600), 1);
	ck_assert_int_eq(store_flush(st), STORE_OK);
	/* and exactly once after it */
	ck_assert_uint_eq(sum_of(st, "env:a@x.test", "c/reputation", t0, t0 + 3600), 3);
	/* a window that starts after the first bucket */
	ck_assert_uint_eq(sum_of(st, "env:a@x.test", "c/reputation", t0 + 1, t0 + 3600), 1);
	/* a window that ends before the last one */
	ck_assert_uint_eq(sum_of(st, "env:a@x.test", "c/reputation", t0, t0 + 3599), 2);
	/* keys do not mix, not even as prefixes */
	ck_assert_uint_eq(sum_of(st, "env:b@x.test", "c/reputation", t0, t0 + 3600), 1);
	ck_assert_uint_eq(sum_of(st, "env:a@x.tes", "c/reputation", t0, t0 + 3600), 0);
	/* beyond retention nothing counts */
	ck_assert_uint_eq(sum_of(st, "env:a@x.test", "c/reputation", t0,
	    t0 + store_retention(st) + 3600 + 600), 0);
	/* bad input is refused, not stored */
	ck_assert_int_eq(store_event_add(st, "", t0, f2, 1), STORE_ERROR);
	ck_assert_int_eq(store_event_add(st, "env:a@x.test", t0, f2, 0), STORE_ERROR);
	END();
}
END_TEST

/* ---- meta ---- */

START_TEST(test_meta)
{
	struct store_meta m;

	BEGIN("meta");
	ck_assert_int_eq(store_meta_get(st, "env:new@x.test", NOW, &m), STORE_NOTFOUND);
	ck_assert_int_eq(store_meta_touch(st, "env:a@x.test", NOW + 100, 1, 0), STORE_OK);
	ck_assert_int_eq(store_meta_touch(st, "env:a@x.test", NOW, 1, 0), STORE_OK);
	ck_assert_int_eq(store_meta_touch(st, "env:a@x.test", NOW + 50, 0, 2), STORE_OK);
	ck_assert_int_eq(store_meta_get(st, "env:a@x.test", NOW + 100, &m), STORE_OK);
	ck_assert_int_eq(m.first_seen, NOW);
	ck_assert_int_eq(m.last_seen, NOW + 100);
	ck_assert_int_eq(m.last_failure, NOW + 50);
	ck_assert_uint_eq(m.messages, 2);
	ck_assert_uint_eq(m.failures, 2);
	ck_assert_int_eq(store_flush(st), STORE_OK);
	ck_assert_int_eq(store_meta_get(st, "env:a@x.test", NOW + 100, &m), STORE_OK);
	ck_assert_uint_eq(m.messages, 2);
	ck_assert_int_eq(m.released_at, 0);
	ck_assert_int_eq(store_release(st, "env:a@x.test", NOW + 200), STORE_OK);
	ck_assert_int_eq(store_meta_get(st, "env:a@x.test", NOW + 200, &m), STORE_OK);
	ck_assert_int_eq(m.released_at, NOW + 200);
	ck_assert_int_eq(m.first_seen, NOW);
	END();
}
END_TEST

/* ---- statuses ---- */

struct count_arg {
	int	n;
	char	last[400];
};

static int
status_count_cb(void *arg, const char *key, const char *dest,
    const struct sender_status *s)
{
	struct count_arg *a = arg;

	(void)s;
	a->n++;
	snprintf(a->last, sizeof(a->last), "%s|%s", key, dest);
	return 0;
}

START_TEST(test_status)
{
	struct sender_status s, got;
	struct count_arg ca = { 0, "" };

	BEGIN("status");
	memset(&s, 0, sizeof(s));
	s.action = SACT_THROTTLE;
	s.since = NOW;
	s.until = NOW + 3600;
	s.count = 3;
	s.window = 3600;
	s.interval_ms = 600000;
	s.burst = 1;
	strcpy(s.category, "reputation");
	strcpy(s.who, "policy");
	strcpy(s.why, "tab\there");
	ck_assert_int_eq(store_status_put(st, "env:a@x.test", "gmail.com", &s), STORE_OK);
	s.action = SACT_HOLD;
	s.until = 0;
	s.manual = 1;
	ck_assert_int_eq(store_status_put(st, "env:a@x.test", "", &s), STORE_OK);
	ck_assert_int_eq(store_status_get(st, "env:a@x.test", "gmail.com", NOW + 1, &got), STORE_OK);
	ck_assert_int_eq(got.action, SACT_THROTTLE);
	ck_assert_int_eq(got.interval_ms, 600000);
	ck_assert_str_eq(got.category, "reputation");
	ck_assert_str_eq(got.why, "tab here");
	ck_assert_int_eq(store_status_get(st, "env:a@x.test", "yahoo.com", NOW + 1, &got),
	    STORE_NOTFOUND);
	/* expired: gone for readers */
	ck_assert_int_eq(store_status_get(st, "env:a@x.test", "gmail.com", NOW + 3600, &got),
	    STORE_NOTFOUND);
	ck_assert_int_eq(store_status_get(st, "env:a@x.test", "", NOW + 86400 * 365, &got),
	    STORE_OK);
	ck_assert_int_eq(got.manual, 1);
	ck_assert_int_eq(store_status_each(st, "env:a@x.test", NOW + 1, status_count_cb, &ca),
	    STORE_OK);
	ck_assert_int_eq(ca.n, 2);
	ca.n = 0;
	ck_assert_int_eq(store_status_each(st, NULL, NOW + 3601, status_count_cb, &ca),
	    STORE_OK);
	ck_assert_int_eq(ca.n, 1);
	ck_assert_str_eq(ca.last, "env:a@x.test|");
	ck_assert_int_eq(store_release(st, "env:a@x.test", NOW + 10), STORE_OK);
	ck_assert_int_eq(store_status_get(st, "env:a@x.test", "", NOW + 11, &got), STORE_NOTFOUND);
	ck_assert_int_eq(store_status_get(st, "env:a@x.test", "gmail.com", NOW + 11, &got),
	    STORE_NOTFOUND);
	END();
}
END_TEST

/* ---- suppressions ---- */

static int
supp_count_cb(void *arg, const char *addr, const struct store_supp *s)
{
	struct count_arg *a = arg;

	(void)s;
	a->n++;
	snprintf(a->last, sizeof(a->last), "%s", addr);
	return 0;
}

START_TEST(test_supp)
{
	struct store_supp s, got;
	struct count_arg ca = { 0, "" };

	BEGIN("supp");
	memset(&s, 0, sizeof(s));
	strcpy(s.reason, "userunknown");
	s.source = SUPP_BOUNCE;
	s.created = NOW;
	s.expires = NOW + 86400;
	ck_assert_int_eq(store_supp_put(st, "gone@example.org", &s), STORE_OK);
	strcpy(s.reason, "manual");
	s.source = SUPP_MANUAL;
	s.expires = 0;
	strcpy(s.who, "root");
	ck_assert_int_eq(store_supp_put(st, "never@example.org", &s), STORE_OK);
	ck_assert_int_eq(store_supp_get(st, "gone@example.org", NOW + 5, &got), STORE_OK);
	ck_assert_str_eq(got.reason, "userunknown");
	ck_assert_int_eq(got.source, SUPP_BOUNCE);
	ck_assert_int_eq(got.expires, NOW + 86400);
	ck_assert_int_eq(store_supp_get(st, "gone@example.org", NOW + 86400, &got), STORE_NOTFOUND);
	ck_assert_int_eq(store_supp_get(st, "other@example.org", NOW, &got), STORE_NOTFOUND);
	ck_assert_int_eq(store_supp_each(st, NOW, supp_count_cb, &ca), STORE_OK);
	ck_assert_int_eq(ca.n, 2);
	ca.n = 0;
	ck_assert_int_eq(store_supp_each(st, NOW + 86400, supp_count_cb, &ca), STORE_OK);
	ck_assert_int_eq(ca.n, 1);
	ck_assert_str_eq(ca.last, "never@example.org");
	ck_assert_int_eq(store_supp_del(st, "never@example.org"), STORE_OK);
	ck_assert_int_eq(store_supp_del(st, "never@example.org"), STORE_NOTFOUND);
	ck_assert_int_eq(store_supp_get(st, "never@example.org", NOW, &got), STORE_NOTFOUND);
	END();
}
END_TEST

/* ---- rate buckets ---- */

START_TEST(test_rate_exact)
{
	struct rate r;
	int64_t t, tat = 0, retry;
	int allowed, n = 0, want = 0;

	BEGIN("rate");
	/* 60 per hour, burst 5, one request a second for an hour */
	ck_assert_int_eq(rate_parse("60/h", &r.interval_ms), 0);
	r.burst = 5;
	for (t = 0; t <= 3600; t++) {
		ck_assert_int_eq(store_rate_take(st, "env:a@x.test", "rate",
		    NOW * 1000 + t * 1000, &r, 0, &allowed, &retry), STORE_OK);
		n += allowed;
		want += rate_take(&tat, NOW * 1000 + t * 1000, r.interval_ms, r.burst, NULL);
		if (!allowed)
			ck_assert_int_gt(retry, 0);
	}
	ck_assert_int_eq(n, 5 + 3600 / 60);
	ck_assert_int_eq(n, want);
	/* a bucket that starts empty lets the first one pass after an interval */
	ck_assert_int_eq(store_rate_take(st, "env:a@x.test", "thr", NOW * 1000, &r,
	    rate_empty_tat(NOW * 1000, r.interval_ms, r.burst), &allowed, &retry), STORE_OK);
	ck_assert_int_eq(allowed, 0);
	ck_assert_int_eq(retry, 60000);
	ck_assert_int_eq(store_rate_take(st, "env:a@x.test", "thr", NOW * 1000 + 60000, &r,
	    rate_empty_tat(NOW * 1000, r.interval_ms, r.burst), &allowed, &retry), STORE_OK);
	ck_assert_int_eq(allowed, 1);
	END();
}
END_TEST

struct thr_arg {
	struct store	*st;
	int		 allowed;
	int		 errors;
};

static void *
rate_thread(void *p)
{
	struct thr_arg *a = p;
	struct rate r = { 1000, 50 };
	const char *f[] = { "c/rate" };
	int i, ok;

	for (i = 0; i < 200; i++) {
		if (store_rate_take(a->st, "env:shared@x.test", "rate", NOW * 1000, &r, 0,
		    &ok, NULL) != STORE_OK)
			a->errors++;
		a->allowed += ok;
		if (store_event_add(a->st, "env:shared@x.test", NOW, f, 1) != STORE_OK)
			a->errors++;
	}
	return NULL;
}

START_TEST(test_concurrent)
{
	struct thr_arg a[4];
	pthread_t t[4];
	int i, total = 0;

	BEGIN("concurrent");
	for (i = 0; i < 4; i++) {
		memset(&a[i], 0, sizeof(a[i]));
		a[i].st = st;
		ck_assert_int_eq(pthread_create(&t[i], NULL, rate_thread, &a[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(a[i].errors, 0);
		total += a[i].allowed;
	}
	/* 800 takes at one instant: exactly the burst passes */
	ck_assert_int_eq(total, 50);
	ck_assert_int_eq(store_flush(st), STORE_OK);
	ck_assert_uint_eq(sum_of(st, "env:shared@x.test", "c/rate", NOW - 300, NOW), 800);
	END();
}
END_TEST

/* ---- the sender record over the store ---- */

/*
 * What the daemon makes of the record's facts: the policy of the default
 * configuration (every check at its registry action) decides.
 */
struct decided {
	int		 action;
	const char	*check_id;
	char		 reply[SENDER_REPLY_MAX];
	char		 header[SENDER_HEADER_MAX];
	const char	*header_name;
	char		 key[SENDER_KEY_MAX];
	int64_t		 retry_ms;
	int		 degraded;
};

static void
decide(const struct sender_facts *f, struct decided *d)
{
	static struct config *cfg;
	const struct sender_fact *x;
	struct envelope env;
	struct verdict v;

	if (cfg == NULL)
		ck_assert_ptr_nonnull(cfg = config_default());
	memset(&env, 0, sizeof(env));
	env.mail_from = "sender@example.com";
	policy_decide_facts(cfg, &env, f, &v);
	memset(d, 0, sizeof(*d));
	d->action = (int)v.action;
	d->check_id = v.decided_by;
	snprintf(d->reply, sizeof(d->reply), "%s", v.reply != NULL ? v.reply : "");
	snprintf(d->header, sizeof(d->header), "%s", f->header);
	d->header_name = f->header_name;
	d->degraded = f->degraded;
	if (v.decided_by != NULL && (x = sender_facts_find(f, v.decided_by)) != NULL) {
		snprintf(d->key, sizeof(d->key), "%s", x->key);
		d->retry_ms = x->retry_ms;
	}
}

static int
rec_sender(struct store *s, const struct policy_conf *p,
    const struct sender_keys *k, const char *dest, int64_t now_ms,
    struct decided *d)
{
	struct sender_facts f;
	int rc = sender_check(s, p, k, dest, now_ms, &f);

	decide(&f, d);
	return rc;
}

static int
rec_rcpt(struct store *s, const char *rcpt, int64_t now_ms, struct decided *d)
{
	struct sender_facts f;
	int rc = recipient_check(s, rcpt, now_ms, &f);

	decide(&f, d);
	return rc;
}

static void
keys_for(const struct policy_conf *p, const char *from, struct sender_keys *k)
{
	ck_assert_int_eq(sender_keys_make(p, from, NULL, k), 0);
	ck_assert_int_ge(sender_keys_count(k), 1);
}

START_TEST(test_record_reputation)
{
	struct policy_conf p;
	struct sender_keys k;
	struct decided d;
	int64_t t = NOW * 1000;
	int i;

	BEGIN("record");
	ck_assert_int_eq(policy_conf_default(&p), 0);
	keys_for(&p, "<Alice@Example.COM>", &k);
	ck_assert_str_eq(k.env, "env:alice@example.com");
	/* two bounces: nothing yet */
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(sender_record_failure(st, &p, &k, "gmail.com", "reputation",
		    "blocked", 1, "bob@gmail.com", t + i * 1000), STORE_OK);
	ck_assert_int_eq(rec_sender(st, &p, &k, "gmail.com", t + 5000, &d), STORE_OK);
	ck_assert_int_eq(d.action, ACT_ACCEPT);
	/* the third reputation bounce to gmail.com throttles that destination */
	ck_assert_int_eq(sender_record_failure(st, &p, &k, "Gmail.com", NULL,
	    "badreputation", 1, "carol@gmail.com", t + 6000), STORE_OK);
	ck_assert_int_eq(rec_sender(st, &p, &k, "gmail.com", t + 7000, &d), STORE_OK);
	ck_assert_int_eq(d.action, ACT_TEMPFAIL);
	ck_assert_str_eq(d.check_id, "sender.throttled");
	ck_assert_str_eq(d.reply, checks_lookup("sender.throttled")->reply);
	ck_assert_msg(strncmp(d.reply, "451 4.7.1 ", 10) == 0, "reply %s", d.reply);
	ck_assert_str_eq(d.header, "throttled; reason=reputation; domain=gmail.com; "
	    "rejections=3/1h");
	ck_assert_str_eq(d.header_name, "X-Egress-Sender-Status");
	ck_assert_int_gt(d.retry_ms, 0);
	/* mail to other domains flows, and MAIL FROM is not affected */
	ck_assert_int_eq(rec_sender(st, &p, &k, "example.net", t + 7000, &d), STORE_OK);
	ck_assert_int_eq(d.action, ACT_ACCEPT);
	ck_assert_int_eq(rec_sender(st, &p, &k, NULL, t + 7000, &d), STORE_OK);
	ck_assert_int_eq(d.action, ACT_ACCEPT);
	/* the lowered rate (6/h): one message per 10 minutes passes, tagged */
	ck_assert_int_eq(rec_sender(st, &p, &k, "gmail.com", t + 6000 + 600000, &d), STORE_OK);
	ck_assert_int_eq(d.action, ACT_TAG);
	ck_assert_str_eq(d.check_id, "sender.tagged");
	ck_assert_int_eq(rec_sender(st, &p, &k, "gmail.com", t + 6000 + 601000, &d), STORE_OK);
	ck_assert_int_eq(d.action, ACT_TEMPFAIL);
	/* after the hour the throttle has expired */
	ck_assert_int_eq(rec_sender(st, &p, &k, "gmail.com", t + 6000 + 3600000, &d), STORE_OK);
	ck_assert_int_eq(d.action, ACT_ACCEPT);
	policy_conf_fini(&p);
	END();
}
END_TEST

/* Deferrals throttle (sender, destination) and do nothing else. */
START_TEST(test_record_deferrals)
{
	struct policy_conf p;
	struct sender_keys k;
	struct store_cursor c, got;
	struct decided d;
	int64_t t = NOW * 1000;
	int i;

	BEGIN("record");
	ck_assert_int_eq(policy_conf_default(&p), 0);
	keys_for(&p, "alice@example.com", &k);
	/* four: nothing yet; greylisting never counts */
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(sender_record_deferral(st, &p, &k, "yahoo.example",
		    "policy", "rejected", t + i * 1000), STORE_OK);
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(sender_record_deferral(st, &p, &k, "yahoo.example",
		    "transient", "systemerror", t + i * 1000), STORE_OK);
	ck_assert_int_eq(rec_sender(st, &p, &k, "yahoo.example", t + 5000, &d), STORE_OK);
	ck_assert_int_eq(d.action, ACT_ACCEPT);
	/* the fifth throttles that destination; the bucket starts empty */
	ck_assert_int_eq(sender_record_deferral(st, &p, &k, "Yahoo.Example",
	    "reputation", "badreputation", t + 6000), STORE_OK);
	ck_assert_int_eq(rec_sender(st, &p, &k, "yahoo.example", t + 7000, &d), STORE_OK);
	ck_assert_int_eq(d.action, ACT_TEMPFAIL);
	ck_assert_str_eq(d.check_id, "sender.throttled");
	ck_assert_str_eq(d.header, "throttled; reason=badreputation; "
	    "domain=yahoo.example; deferrals=5/1h");
	/* thirty more (over the 25 that suspend on reputation failures):
	 * still only that destination, never the sender */
	for (i = 0; i < 30; i++)
		ck_assert_int_eq(sender_record_deferral(st, &p, &k, "yahoo.example",
		    "reputation", "blocked", t + 8000 + i * 1000), STORE_OK);
	ck_assert_int_eq(rec_sender(st, &p, &k, NULL, t + 60000, &d), STORE_OK);
	ck_assert_int_eq(d.action, ACT_ACCEPT);
	ck_assert_int_eq(rec_sender(st, &p, &k, "example.net", t + 60000, &d), STORE_OK);
	ck_assert_int_eq(d.action, ACT_ACCEPT);
	/* the lowered rate (12/h): one message after five minutes */
	ck_assert_int_eq(rec_sender(st, &p, &k, "yahoo.example", t + 6000 + 300000, &d),
	    STORE_OK);
	ck_assert_int_eq(d.action, ACT_TAG);
	/* no destination: counted, never throttles */
	ck_assert_int_eq(sender_record_deferral(st, &p, &k, NULL, "reputation",
	    "blocked", t), STORE_OK);
	/* hostile names are refused, not stored */
	ck_assert_int_eq(sender_record_deferral(st, &p, &k, "x.example", "a/b",
	    "c/d", t), STORE_ERROR);
	/* the follower's cursor: durable, read back, absent for other names */
	memset(&c, 0, sizeof(c));
	c.dev = 2049;
	c.ino = 1234567;
	c.head_hash = 0xfedcba9876543210ULL;
	c.head_len = 120;
	c.offset = 1 << 20;
	c.pending = (1 << 20) + 4096;
	c.updated = NOW;
	c.lines = 9999;
	ck_assert_int_eq(store_cursor_put(st, "follow:mx1:/var/log/mail.log", &c), STORE_OK);
	ck_assert_int_eq(store_cursor_get(st, "follow:mx1:/var/log/mail.log", &got), STORE_OK);
	ck_assert(memcmp(&c, &got, sizeof(c)) == 0);
	ck_assert_int_eq(store_cursor_get(st, "follow:mx2:/var/log/mail.log", &got),
	    STORE_NOTFOUND);
	ck_assert_int_eq(store_cursor_put(st, "bad name", &c), STORE_ERROR);
	c.offset = -1;
	ck_assert_int_eq(store_cursor_put(st, "follow:x", &c), STORE_ERROR);
	policy_conf_fini(&p);
	END();
}
END_TEST

START_TEST(test_record_suppress)
{
	struct policy_conf p;
	struct sender_keys k;
	struct decided d;
	int64_t t = NOW * 1000;

	BEGIN("suppress");
	ck_assert_int_eq(policy_conf_default(&p), 0);
	keys_for(&p, "alice@example.com", &k);
	ck_assert_int_eq(rec_rcpt(st, "<Gone@Example.org>", t, &d), STORE_OK);
	ck_assert_int_eq(d.action, ACT_ACCEPT);
	/* a soft failure of the recipient category does not suppress */
	ck_assert_int_eq(sender_record_failure(st, &p, &k, "example.org", "recipient",
	    "userunknown", 0, "gone@example.org", t), STORE_OK);
	ck_assert_int_eq(rec_rcpt(st, "gone@example.org", t + 1000, &d), STORE_OK);
	ck_assert_int_eq(d.action, ACT_ACCEPT);
	/* a hard userunknown does */
	ck_assert_int_eq(sender_record_failure(st, &p, &k, "example.org", NULL,
	    "userunknown", 1, "Gone@example.org", t + 2000), STORE_OK);
	ck_assert_int_eq(rec_rcpt(st, "<Gone@Example.org>", t + 3000, &d), STORE_OK);
	ck_assert_int_eq(d.action, ACT_REJECT);
	ck_assert_str_eq(d.check_id, "recipient.suppressed");
	ck_assert_str_eq(d.reply,
	    "550 5.1.1 <gone@example.org>: Recipient previously bounced: userunknown");
	/* it expires after the rule's 30 days */
	ck_assert_int_eq(rec_rcpt(st, "gone@example.org", t + 2000 + 30LL * 86400000,
	    &d), STORE_OK);
	ck_assert_int_eq(d.action, ACT_ACCEPT);
	/* mailbox full: only the third time in a week */
	ck_assert_int_eq(sender_record_failure(st, &p, &k, "example.org", NULL,
	    "mailboxfull", 0, "full@example.org", t), STORE_OK);
	ck_assert_int_eq(sender_record_failure(st, &p, &k, "example.org", NULL,
	    "mailboxfull", 0, "full@example.org", t + 86400000), STORE_OK);
	ck_assert_int_eq(rec_rcpt(st, "full@example.org", t + 86400000, &d), STORE_OK);
	ck_assert_int_eq(d.action, ACT_ACCEPT);
	ck_assert_int_eq(sender_record_failure(st, &p, &k, "example.org", NULL,
	    "mailboxfull", 0, "full@example.org", t + 2 * 86400000LL), STORE_OK);
	ck_assert_int_eq(rec_rcpt(st, "full@example.org", t + 2 * 86400000LL, &d),
	    STORE_OK);
	ck_assert_int_eq(d.action, ACT_REJECT);
	/* a complaint */
	ck_assert_int_eq(sender_record_failure(st, &p, &k, NULL, "report", "feedback", 0,
	    "angry@example.net", t), STORE_OK);
	ck_assert_int_eq(rec_rcpt(st, "angry@example.net", t, &d), STORE_OK);
	ck_assert_int_eq(d.action, ACT_REJECT);
	ck_assert_msg(strstr(d.reply, "complained") != NULL, "%s", d.reply);
	policy_conf_fini(&p);
	END();
}
END_TEST

START_TEST(test_record_suspend_release)
{
	struct policy_conf p;
	struct sender_keys k;
	struct decided d;
	int64_t t = NOW * 1000;
	char dom[64];
	int i;

	BEGIN("suspend");
	ck_assert_int_eq(policy_conf_default(&p), 0);
	keys_for(&p, "spam@example.com", &k);
	/* one bounce of every category never suspends nor holds */
	{
		static const char *const reasons[] = {
			"userunknown", "mailboxfull", "blocked", "authfailure",
			"spamdetected", "policyviolation", "speeding", "expired",
			"feedback", NULL
		};

		for (i = 0; reasons[i] != NULL; i++)
			ck_assert_int_eq(sender_record_failure(st, &p, &k, "one.test", NULL,
			    reasons[i], 1, "x@one.test", t), STORE_OK);
		ck_assert_int_eq(rec_sender(st, &p, &k, NULL, t, &d), STORE_OK);
		ck_assert_int_lt(d.action, ACT_HOLD);
	}
	/* 25 reputation failures within the hour over many domains: suspended */
	for (i = 0; i < 24; i++) {
		snprintf(dom, sizeof(dom), "d%d.test", i);
		ck_assert_int_eq(sender_record_failure(st, &p, &k, dom, "reputation",
		    "blocked", 1, NULL, t + i * 1000), STORE_OK);
	}
	ck_assert_int_eq(rec_sender(st, &p, &k, NULL, t + 30000, &d), STORE_OK);
	ck_assert_int_eq(d.action, ACT_REJECT);
	ck_assert_str_eq(d.check_id, "sender.suspended");
	ck_assert_msg(strncmp(d.reply, "550 5.7.1 ", 10) == 0, "%s", d.reply);
	ck_assert_str_eq(d.key, "env:spam@example.com");
	/* the operator releases it */
	ck_assert_int_eq(store_release(st, k.env, NOW + 40), STORE_OK);
	ck_assert_int_eq(rec_sender(st, &p, &k, NULL, t + 41000, &d), STORE_OK);
	ck_assert_int_eq(d.action, ACT_ACCEPT);
	/* counting starts again after the release */
	ck_assert_int_eq(sender_record_failure(st, &p, &k, "d0.test", "reputation",
	    "blocked", 1, NULL, t + 400000), STORE_OK);
	ck_assert_int_eq(rec_sender(st, &p, &k, NULL, t + 401000, &d), STORE_OK);
	ck_assert_int_eq(d.action, ACT_ACCEPT);
	/* manual hold and suspend */
	ck_assert_int_eq(sender_hold(st, k.env, NOW + 500, 0, "root", "looking"), STORE_OK);
	ck_assert_int_eq(rec_sender(st, &p, &k, NULL, t + 501000, &d), STORE_OK);
	ck_assert_int_eq(d.action, ACT_HOLD);
	ck_assert_str_eq(d.check_id, "sender.held");
	ck_assert_str_eq(d.header, "held; by=operator");
	ck_assert_int_eq(sender_suspend(st, k.env, NOW + 600, 3600, "root", "abuse"), STORE_OK);
	ck_assert_int_eq(rec_sender(st, &p, &k, NULL, t + 601000, &d), STORE_OK);
	ck_assert_int_eq(d.action, ACT_REJECT);
	ck_assert_int_eq(rec_sender(st, &p, &k, NULL, t + 4201000, &d), STORE_OK);
	ck_assert_int_eq(d.action, ACT_ACCEPT);
	policy_conf_fini(&p);
	END();
}
END_TEST

START_TEST(test_record_static_rate_and_keys)
{
	struct policy_conf p;
	struct sender_keys k;
	struct decided d;
	int64_t t = NOW * 1000;
	int i, pass = 0;

	BEGIN("static");
	ck_assert_int_eq(policy_conf_default(&p), 0);
	p.keys = SK_ENVELOPE | SK_AUTH | SK_DOMAIN;
	ck_assert_int_eq(rate_parse("10/h", &p.rate.interval_ms), 0);
	p.rate.burst = 3;
	ck_assert_int_eq(sender_keys_make(&p, "a@example.com", "AliceLogin", &k), 0);
	ck_assert_int_eq(sender_keys_count(&k), 3);
	ck_assert_str_eq(k.auth, "auth:alicelogin");
	ck_assert_str_eq(k.dom, "dom:example.com");
	for (i = 0; i < 10; i++) {
		ck_assert_int_eq(rec_sender(st, &p, &k, NULL, t + i, &d), STORE_OK);
		if (d.action == ACT_ACCEPT)
			pass++;
		else
			ck_assert_str_eq(d.check_id, "sender.rate");
	}
	ck_assert_int_eq(pass, 3);
	/* the domain key is shared: another user of the domain is limited too */
	ck_assert_int_eq(sender_keys_make(&p, "b@example.com", NULL, &k), 0);
	ck_assert_int_eq(sender_keys_count(&k), 2);
	ck_assert_int_eq(rec_sender(st, &p, &k, NULL, t + 20, &d), STORE_OK);
	ck_assert_int_eq(d.action, ACT_TEMPFAIL);
	ck_assert_str_eq(d.key, "dom:example.com");
	policy_conf_fini(&p);
	END();
}
END_TEST

START_TEST(test_record_warmup)
{
	struct policy_conf p;
	struct sender_keys k;
	struct decided d;
	int64_t t = NOW * 1000;
	int i, pass = 0;

	BEGIN("warmup");
	ck_assert_int_eq(policy_conf_default(&p), 0);
	p.warmup.enabled = 1;
	p.warmup.start_per_hour = 10;
	p.warmup.burst = 2;
	p.warmup.days = 3;
	keys_for(&p, "new@example.com", &k);
	/* day 0: 10 per hour, burst 2, one attempt a minute for an hour */
	for (i = 0; i < 60; i++) {
		ck_assert_int_eq(rec_sender(st, &p, &k, NULL, t + i * 60000LL, &d), STORE_OK);
		if (d.action == ACT_ACCEPT)
			pass++;
		else
			ck_assert_str_eq(d.check_id, "sender.warmup");
	}
	ck_assert_int_eq(pass, 2 + 59 / 6);
	/* after the ramp: no limit */
	for (i = 0; i < 50; i++) {
		ck_assert_int_eq(rec_sender(st, &p, &k, NULL, t + 4 * 86400000LL + i, &d),
		    STORE_OK);
		ck_assert_int_eq(d.action, ACT_ACCEPT);
	}
	policy_conf_fini(&p);
	END();
}
END_TEST

START_TEST(test_record_auth_link)
{
	struct policy_conf p;
	struct sender_keys k, b;
	struct decided d;
	char login[SENDER_KEY_MAX];
	int64_t t = NOW * 1000;

	BEGIN("auth link");
	ck_assert_int_eq(policy_conf_default(&p), 0);
	p.keys = SK_AUTH;
	/* MAIL FROM by a SASL user links the address to the login */
	ck_assert_int_eq(sender_keys_make(&p, "<Shared@Example.com>", "Mallory", &k), 0);
	ck_assert_int_eq(sender_keys_count(&k), 1);
	ck_assert_str_eq(k.addr, "shared@example.com");
	ck_assert_int_eq(rec_sender(st, &p, &k, NULL, t, &d), STORE_OK);
	ck_assert_int_eq(store_link_get(st, "env:shared@example.com", NOW, login,
	    sizeof(login)), STORE_OK);
	ck_assert_str_eq(login, "auth:mallory");
	/* the bounces name only the envelope sender */
	/* no key, but the address to follow */
	ck_assert_int_eq(sender_keys_make(&p, "shared@example.com", NULL, &b), 0);
	ck_assert_int_eq(sender_keys_count(&b), 0);
	ck_assert_int_eq(sender_record_failure(st, &p, &b, "gmail.com", NULL, "blocked", 1,
	    NULL, t + 1000), STORE_OK);
	ck_assert_int_eq(sender_record_failure(st, &p, &b, "gmail.com", NULL, "blocked", 1,
	    NULL, t + 2000), STORE_OK);
	ck_assert_int_eq(sender_record_failure(st, &p, &b, "gmail.com", NULL, "blocked", 1,
	    NULL, t + 3000), STORE_OK);
	/* ... and still reach the login */
	ck_assert_int_eq(rec_sender(st, &p, &k, "gmail.com", t + 4000, &d), STORE_OK);
	ck_assert_int_eq(d.action, ACT_TEMPFAIL);
	ck_assert_str_eq(d.key, "auth:mallory");
	/* another login now sends as that address: the link follows */
	ck_assert_int_eq(sender_keys_make(&p, "shared@example.com", "trent", &k), 0);
	ck_assert_int_eq(sender_keys_count(&k), 1);
	ck_assert_int_eq(rec_sender(st, &p, &k, NULL, t + 5000, &d), STORE_OK);
	ck_assert_int_eq(store_link_get(st, "env:shared@example.com", NOW + 5, login,
	    sizeof(login)), STORE_OK);
	ck_assert_str_eq(login, "auth:trent");
	ck_assert_int_eq(store_flush(st), STORE_OK);
	ck_assert_int_eq(store_link_get(st, "env:shared@example.com", NOW + 5, login,
	    sizeof(login)), STORE_OK);
	ck_assert_str_eq(login, "auth:trent");
	/* unknown address, and links forgotten after sender_ttl */
	ck_assert_int_eq(store_link_get(st, "env:other@example.com", NOW, login,
	    sizeof(login)), STORE_NOTFOUND);
	ck_assert_int_eq(store_link_get(st, "env:shared@example.com",
	    NOW + 5 + conf.sender_ttl + 1, login, sizeof(login)), STORE_NOTFOUND);
	policy_conf_fini(&p);
	END();
}
END_TEST

START_TEST(test_hostile_text)
{
	struct policy_conf p;
	struct sender_keys k;
	struct decided d;
	struct store_supp sp;
	struct sum all = { NULL, 0, 0 };
	const char *f[] = { "c/reputation" }, *bad[] = { "d/x\x1b[2J/reputation" };

	BEGIN("hostile");
	ck_assert_int_eq(policy_conf_default(&p), 0);
	memset(&sp, 0, sizeof(sp));
	/* control characters never reach the store */
	ck_assert_int_eq(store_supp_put(st, "a\x1b[31m@example.org", &sp), STORE_ERROR);
	ck_assert_int_eq(store_event_add(st, "env:a\x07@x.test", NOW, f, 1), STORE_ERROR);
	ck_assert_int_eq(store_event_add(st, "env:a@x.test", NOW, bad, 1), STORE_ERROR);
	ck_assert_int_eq(store_release(st, "env:\x7f", NOW), STORE_ERROR);
	/* a bounce naming such a domain or recipient counts for the sender only */
	keys_for(&p, "a@x.test", &k);
	ck_assert_int_eq(sender_record_failure(st, &p, &k, "evil\x1b[2J.example", NULL,
	    "userunknown", 1, "v\x01@evil.example", NOW * 1000), STORE_OK);
	ck_assert_int_eq(store_event_scan(st, "env:a@x.test", NOW - 300, NOW, sum_cb, &all),
	    STORE_OK);
	ck_assert_uint_eq(sum_of(st, "env:a@x.test", "c/recipient", NOW - 300, NOW), 1);
	ck_assert_int_eq(all.calls, 4);		/* c, r, h, H: no destination fields */
	ck_assert_int_eq(rec_rcpt(st, "v\x01@evil.example", NOW * 1000, &d), STORE_OK);
	ck_assert_int_eq(d.action, ACT_ACCEPT);
	policy_conf_fini(&p);
	END();
}
END_TEST

/* ---- the ledger ---- */

static struct ledger_entry *
entry_for(struct store *st, const char *msgid, const char *qid, const char *from,
    int64_t when, enum ledger_verdict v, const char *const *rcpts)
{
	static struct ledger_entry e;
	struct policy_conf p;
	struct sender_keys k;

	ck_assert_int_eq(policy_conf_default(&p), 0);
	keys_for(&p, from, &k);
	ledger_entry_init(&e, msgid, qid, &k, when, v);
	for (; *rcpts != NULL; rcpts++)
		ledger_entry_add_rcpt(&e, store_ledger_key(st), *rcpts);
	policy_conf_fini(&p);
	return &e;
}

START_TEST(test_ledger)
{
	static struct ledger_entry got;
	const char *rcpts[] = { "r1@y.test", "<R2@Y.test>", NULL };
	const char *key;
	int first;

	BEGIN("ledger");
	ck_assert(store_ledger_ready(st));
	ck_assert_ptr_nonnull(store_ledger_key(st));
	ck_assert_int_eq(store_ledger_put(st, entry_for(st, "a1.b@x.test", "4ABC12",
	    "s@x.test", NOW, LEDGER_REPAIRED, rcpts)), STORE_OK);
	/* visible at once, by either id, before any commit */
	ck_assert_int_eq(store_ledger_get(st, "a1.b@x.test", NOW, &got), STORE_OK);
	ck_assert_str_eq(got.qid, "4ABC12");
	ck_assert_str_eq(got.env, "env:s@x.test");
	ck_assert_int_eq(got.verdict, LEDGER_REPAIRED);
	ck_assert_uint_eq(got.nrcpt, 2);
	ck_assert(ledger_entry_has_rcpt(&got, ledger_rcpt_hash(store_ledger_key(st),
	    "r2@y.test")));
	ck_assert(!ledger_entry_has_rcpt(&got, ledger_rcpt_hash(store_ledger_key(st),
	    "r3@y.test")));
	memset(&got, 0, sizeof(got));
	ck_assert_int_eq(store_ledger_get_qid(st, "4ABC12", NOW, &got), STORE_OK);
	ck_assert_str_eq(got.msgid, "a1.b@x.test");
	ck_assert_int_eq(store_flush(st), STORE_OK);
	/* and after the commit */
	ck_assert_int_eq(store_ledger_get_qid(st, "4ABC12", NOW, &got), STORE_OK);
	ck_assert_int_eq(store_ledger_get(st, "a1.b@x.test", NOW, &got), STORE_OK);
	ck_assert_int_eq(got.when, NOW);
	/* unknown ids; ids that cannot be keys */
	ck_assert_int_eq(store_ledger_get(st, "a1.b@x.tes", NOW, &got), STORE_NOTFOUND);
	ck_assert_int_eq(store_ledger_get_qid(st, "4ABC1", NOW, &got), STORE_NOTFOUND);
	ck_assert_int_eq(store_ledger_get(st, "a b@x", NOW, &got), STORE_NOTFOUND);
	ck_assert_int_eq(store_ledger_put(st, entry_for(st, "bad\x1b@x", "", "s@x.test",
	    NOW, LEDGER_ACCEPTED, rcpts)), STORE_ERROR);
	/* kept ttl */
	ck_assert_int_eq(store_ledger_get(st, "a1.b@x.test", NOW + conf.ledger.ttl, &got),
	    STORE_OK);
	ck_assert_int_eq(store_ledger_get(st, "a1.b@x.test", NOW + conf.ledger.ttl + 1,
	    &got), STORE_NOTFOUND);
	/* the same Message-ID again under another queue id replaces the entry */
	ck_assert_int_eq(store_ledger_put(st, entry_for(st, "a1.b@x.test", "5DEF",
	    "s@x.test", NOW + 1, LEDGER_ACCEPTED, rcpts)), STORE_OK);
	ck_assert_int_eq(store_flush(st), STORE_OK);
	ck_assert_int_eq(store_ledger_get_qid(st, "4ABC12", NOW + 1, &got), STORE_NOTFOUND);
	ck_assert_int_eq(store_ledger_get_qid(st, "5DEF", NOW + 1, &got), STORE_OK);
	ck_assert_int_eq(got.verdict, LEDGER_ACCEPTED);
	/* one-time markers */
	key = "0123456789abcdef0123456789abcdef";
	ck_assert_int_eq(store_ledger_once(st, key, NOW, &first), STORE_OK);
	ck_assert_int_eq(first, 1);
	ck_assert_int_eq(store_ledger_once(st, key, NOW + 5, &first), STORE_OK);
	ck_assert_int_eq(first, 0);
	ck_assert_int_eq(store_ledger_once(st, "not hex", NOW, &first), STORE_ERROR);
	END();
}
END_TEST

/* Every answer of sender_bounce_evidence, on both backends. */
START_TEST(test_ledger_evidence)
{
	static struct ledger_entry got;
	const char *rcpts[] = { "r1@y.test", NULL };
	struct bounce_evidence b;
	enum ledger_reason why;
	int counts;

	BEGIN("evidence");
	ck_assert_int_eq(store_ledger_put(st, entry_for(st, "m1@x.test", "Q1",
	    "s@x.test", NOW, LEDGER_ACCEPTED, rcpts)), STORE_OK);
	ck_assert_int_eq(store_ledger_put(st, entry_for(st, "m2@x.test", "Q2",
	    "s@x.test", NOW, LEDGER_REJECTED, rcpts)), STORE_OK);
	memset(&b, 0, sizeof(b));
	b.message_id = "<m1@x.test>";
	b.sender = "S@x.test";
	b.rcpt = "R1@y.test";
	b.status = "5.1.1";
	/* matched, once */
	ck_assert_int_eq(sender_bounce_evidence(st, &b, NOW, &got, &why, &counts), STORE_OK);
	ck_assert_str_eq(ledger_reason_name(why), "matched");
	ck_assert_int_eq(counts, 1);
	ck_assert_str_eq(got.env, "env:s@x.test");
	ck_assert_int_eq(sender_bounce_evidence(st, &b, NOW, &got, &why, &counts), STORE_OK);
	ck_assert_str_eq(ledger_reason_name(why), "duplicate");
	ck_assert_int_eq(counts, 0);
	/* another status of the same recipient is another failure */
	b.status = "5.2.2";
	ck_assert_int_eq(sender_bounce_evidence(st, &b, NOW, &got, &why, &counts), STORE_OK);
	ck_assert_int_eq(why, LEDGER_MATCHED);
	/* by queue id (Postfix's own report), with or without the Message-ID */
	b.message_id = NULL;
	b.queue_id = "Q1";
	b.status = "5.7.1";
	ck_assert_int_eq(sender_bounce_evidence(st, &b, NOW, &got, &why, &counts), STORE_OK);
	ck_assert_int_eq(why, LEDGER_MATCHED);
	/* a queue id and a Message-ID that disagree: the Message-ID decides */
	b.message_id = "<m9@x.test>";
	ck_assert_int_eq(sender_bounce_evidence(st, &b, NOW, &got, &why, &counts), STORE_OK);
	ck_assert_str_eq(ledger_reason_name(why), "unknown-message");
	ck_assert_int_eq(counts, 0);
	/* nothing to look up */
	b.message_id = b.queue_id = NULL;
	ck_assert_int_eq(sender_bounce_evidence(st, &b, NOW, &got, &why, &counts), STORE_OK);
	ck_assert_str_eq(ledger_reason_name(why), "no-original-id");
	/* another recipient, another sender */
	b.message_id = "m1@x.test";
	b.rcpt = "r2@y.test";
	ck_assert_int_eq(sender_bounce_evidence(st, &b, NOW, &got, &why, &counts), STORE_OK);
	ck_assert_str_eq(ledger_reason_name(why), "recipient-not-in-message");
	b.rcpt = "r1@y.test";
	b.sender = "victim@x.test";
	ck_assert_int_eq(sender_bounce_evidence(st, &b, NOW, &got, &why, &counts), STORE_OK);
	ck_assert_str_eq(ledger_reason_name(why), "sender-mismatch");
	/* the milter's own rejection, returned */
	b.sender = "s@x.test";
	b.message_id = "m2@x.test";
	ck_assert_int_eq(sender_bounce_evidence(st, &b, NOW, &got, &why, &counts), STORE_OK);
	ck_assert_str_eq(ledger_reason_name(why), "own-rejection");
	ck_assert_int_eq(counts, 0);
	/* outside SMTP: a queue id in the ledger, or else a local submission */
	b.sender = "s@x.test";
	b.message_id = "m1@x.test";
	b.status = "4.4.7";
	b.nonsmtp = 1;
	b.queue_id = "Q1";
	ck_assert_int_eq(sender_bounce_evidence(st, &b, NOW, &got, &why, &counts), STORE_OK);
	ck_assert_int_eq(why, LEDGER_MATCHED);
	b.queue_id = "Q404";
	ck_assert_int_eq(sender_bounce_evidence(st, &b, NOW, &got, &why, &counts), STORE_OK);
	ck_assert_str_eq(ledger_reason_name(why), "local-submission");
	b.queue_id = NULL;
	ck_assert_int_eq(sender_bounce_evidence(st, &b, NOW, &got, &why, &counts), STORE_OK);
	ck_assert_str_eq(ledger_reason_name(why), "local-submission");
	ck_assert_int_eq(counts, 0);
	b.nonsmtp = 0;
	/* a local client's bounce, whatever it names */
	b.message_id = "m1@x.test";
	b.status = "5.0.0";
	b.local = 1;
	ck_assert_int_eq(sender_bounce_evidence(st, &b, NOW, &got, &why, &counts), STORE_OK);
	ck_assert_str_eq(ledger_reason_name(why), "local-submission");
	ck_assert_int_eq(counts, 0);
	/* strict: a miss does not count */
	b.local = 0;
	b.message_id = "m7@x.test";
	ck_assert_int_eq(sender_bounce_evidence(st, &b, NOW, &got, &why, &counts), STORE_OK);
	ck_assert_int_eq(why, LEDGER_UNKNOWN_MESSAGE);
	ck_assert_int_eq(counts, 0);
	/* unmatched counts: per sender key and globally */
	{
		struct policy_conf p;
		struct sender_keys k;

		ck_assert_int_eq(policy_conf_default(&p), 0);
		keys_for(&p, "s@x.test", &k);
		ck_assert_int_eq(sender_record_unmatched(st, &k, LEDGER_UNKNOWN_MESSAGE,
		    NOW * 1000), STORE_OK);
		ck_assert_int_eq(sender_record_unmatched(st, NULL, LEDGER_DUPLICATE,
		    NOW * 1000), STORE_OK);
		ck_assert_uint_eq(sum_of(st, "env:s@x.test", "u/unknown-message", NOW - 300,
		    NOW), 1);
		ck_assert_uint_eq(sum_of(st, LEDGER_UNMATCHED_KEY, NULL, NOW - 300, NOW), 2);
		policy_conf_fini(&p);
	}
	END();
}
END_TEST

/* relaxed: ledger misses count, local, own rejections and duplicates never */
START_TEST(test_ledger_relaxed)
{
	static struct ledger_entry got;
	const char *rcpts[] = { "r1@y.test", NULL };
	struct bounce_evidence b;
	enum ledger_reason why;
	int counts;

	tweak_relaxed = 1;
	BEGIN("relaxed");
	ck_assert_int_eq(store_ledger_put(st, entry_for(st, "m2@x.test", "Q2",
	    "s@x.test", NOW, LEDGER_REJECTED, rcpts)), STORE_OK);
	memset(&b, 0, sizeof(b));
	b.message_id = "m7@x.test";
	b.sender = "s@x.test";
	b.rcpt = "r1@y.test";
	ck_assert_int_eq(sender_bounce_evidence(st, &b, NOW, &got, &why, &counts), STORE_OK);
	ck_assert_int_eq(why, LEDGER_UNKNOWN_MESSAGE);
	ck_assert_int_eq(counts, 1);
	b.message_id = "m2@x.test";
	ck_assert_int_eq(sender_bounce_evidence(st, &b, NOW, &got, &why, &counts), STORE_OK);
	ck_assert_int_eq(why, LEDGER_OWN_REJECTION);
	ck_assert_int_eq(counts, 0);
	b.local = 1;
	b.message_id = "m7@x.test";
	ck_assert_int_eq(sender_bounce_evidence(st, &b, NOW, &got, &why, &counts), STORE_OK);
	ck_assert_int_eq(why, LEDGER_LOCAL_SUBMISSION);
	ck_assert_int_eq(counts, 0);
	END();
}
END_TEST

/* The size bound: beyond max_entries the oldest entries go first. */
START_TEST(test_ledger_bound)
{
	static struct ledger_entry got;
	const char *rcpts[] = { "r@y.test", NULL };
	char id[64];
	int i, n = 0;

	tweak_max_entries = 1000;
	BEGIN("bound");
	for (i = 0; i < 1100; i++) {
		snprintf(id, sizeof(id), "n%04d@x.test", i);
		ck_assert_int_eq(store_ledger_put(st, entry_for(st, id, "", "s@x.test",
		    NOW - 2000 + i, LEDGER_ACCEPTED, rcpts)), STORE_OK);
		if (i % 200 == 199)
			ck_assert_int_eq(store_flush(st), STORE_OK);
	}
	ck_assert_int_eq(store_flush(st), STORE_OK);
	/* an extra commit, so the writer has evicted after the last batch */
	ck_assert_int_eq(store_meta_touch(st, "env:s@x.test", NOW, 1, 0), STORE_OK);
	ck_assert_int_eq(store_flush(st), STORE_OK);
	for (i = 0; i < 1100; i++) {
		snprintf(id, sizeof(id), "n%04d@x.test", i);
		if (store_ledger_get(st, id, NOW, &got) == STORE_OK) {
			n++;
			ck_assert_int_ge(i, 100);	/* the oldest went */
		}
	}
	ck_assert_int_eq(n, 1000);
	END();
}
END_TEST

/* ---- expiry: one scenario, both backends, one answer ---- */

static int
meta_names_cb(void *arg, const char *key, const struct store_meta *m)
{
	struct count_arg *a = arg;

	(void)m;
	a->n++;
	snprintf(a->last + strlen(a->last), sizeof(a->last) - strlen(a->last), "%s;", key);
	return 0;
}

static int
status_names_cb(void *arg, const char *key, const char *dest,
    const struct sender_status *s)
{
	struct count_arg *a = arg;

	(void)key;
	(void)s;
	a->n++;
	snprintf(a->last + strlen(a->last), sizeof(a->last) - strlen(a->last), "%s;", dest);
	return 0;
}

static int
supp_names_cb(void *arg, const char *addr, const struct store_supp *s)
{
	struct count_arg *a = arg;

	(void)s;
	a->n++;
	snprintf(a->last + strlen(a->last), sizeof(a->last) - strlen(a->last), "%s;", addr);
	return 0;
}

/*
 * Records of every kind on both sides of their expiry, read back at NOW
 * with the getters and the iterators; the answer as one line. Iteration
 * order differs between the backends, so the iterators report counts and
 * whether each expected name was seen.
 */
static void
expiry_answer(int backend, char *out, size_t outlen)
{
	struct store_conf conf;
	struct store *st;
	struct store_meta m;
	struct sender_status ss;
	struct store_supp sp;
	struct count_arg ma = { 0, "" }, sa = { 0, "" }, pa = { 0, "" };
	char login[SENDER_KEY_MAX];
	const char *f[] = { "c/reputation" };
	int64_t ttl, ret;
	int rc[12];

	st = open_backend(backend, &conf);
	ttl = conf.sender_ttl;
	ret = conf.retention;
	/* meta: quiet too long; released lately after going quiet; released
	 * long ago; seen now */
	ck_assert_int_eq(store_meta_touch(st, "env:old@x.test", NOW - ttl - 10, 1, 0), STORE_OK);
	ck_assert_int_eq(store_meta_touch(st, "env:rel@x.test", NOW - ttl - 10, 1, 0), STORE_OK);
	ck_assert_int_eq(store_meta_touch(st, "env:relold@x.test", NOW - 2 * ttl, 1, 0),
	    STORE_OK);
	ck_assert_int_eq(store_meta_touch(st, "env:fresh@x.test", NOW, 1, 0), STORE_OK);
	ck_assert_int_eq(store_flush(st), STORE_OK);
	ck_assert_int_eq(store_release(st, "env:rel@x.test", NOW - 100), STORE_OK);
	ck_assert_int_eq(store_release(st, "env:relold@x.test", NOW - ttl - 10), STORE_OK);
	/* statuses: limit passed, no limit, limit ahead */
	memset(&ss, 0, sizeof(ss));
	ss.action = SACT_THROTTLE;
	ss.since = NOW - 200;
	ss.until = NOW - 1;
	ck_assert_int_eq(store_status_put(st, "env:fresh@x.test", "past.test", &ss), STORE_OK);
	ss.until = NOW;
	ck_assert_int_eq(store_status_put(st, "env:fresh@x.test", "edge.test", &ss), STORE_OK);
	ss.until = NOW + 100;
	ck_assert_int_eq(store_status_put(st, "env:fresh@x.test", "ahead.test", &ss), STORE_OK);
	ss.action = SACT_HOLD;
	ss.until = 0;
	ck_assert_int_eq(store_status_put(st, "env:fresh@x.test", "", &ss), STORE_OK);
	/* suppressions: expired, at the instant, forever, ahead */
	memset(&sp, 0, sizeof(sp));
	strcpy(sp.reason, "userunknown");
	sp.created = NOW - 200;
	sp.expires = NOW - 1;
	ck_assert_int_eq(store_supp_put(st, "past@example.org", &sp), STORE_OK);
	sp.expires = NOW;
	ck_assert_int_eq(store_supp_put(st, "edge@example.org", &sp), STORE_OK);
	sp.expires = 0;
	ck_assert_int_eq(store_supp_put(st, "ever@example.org", &sp), STORE_OK);
	sp.expires = NOW + 100;
	ck_assert_int_eq(store_supp_put(st, "ahead@example.org", &sp), STORE_OK);
	/* links: set too long ago, set now */
	ck_assert_int_eq(store_link_put(st, "env:old@x.test", "auth:old", NOW - ttl - 10),
	    STORE_OK);
	ck_assert_int_eq(store_link_put(st, "env:fresh@x.test", "auth:fresh", NOW), STORE_OK);
	/* events: beyond retention, now */
	ck_assert_int_eq(store_event_add(st, "env:fresh@x.test", NOW - ret - 600, f, 1),
	    STORE_OK);
	ck_assert_int_eq(store_event_add(st, "env:fresh@x.test", NOW, f, 1), STORE_OK);
	ck_assert_int_eq(store_flush(st), STORE_OK);

	rc[0] = store_meta_get(st, "env:old@x.test", NOW, &m);
	rc[1] = store_meta_get(st, "env:rel@x.test", NOW, &m);
	rc[2] = store_meta_get(st, "env:relold@x.test", NOW, &m);
	rc[3] = store_meta_get(st, "env:fresh@x.test", NOW, &m);
	rc[4] = store_status_get(st, "env:fresh@x.test", "past.test", NOW, &ss);
	rc[5] = store_status_get(st, "env:fresh@x.test", "edge.test", NOW, &ss);
	rc[6] = store_status_get(st, "env:fresh@x.test", "ahead.test", NOW, &ss);
	rc[7] = store_supp_get(st, "past@example.org", NOW, &sp);
	rc[8] = store_supp_get(st, "edge@example.org", NOW, &sp);
	rc[9] = store_supp_get(st, "ever@example.org", NOW, &sp);
	rc[10] = store_link_get(st, "env:old@x.test", NOW, login, sizeof(login));
	rc[11] = store_link_get(st, "env:fresh@x.test", NOW, login, sizeof(login));
	ck_assert_int_eq(store_meta_each(st, NOW, meta_names_cb, &ma), STORE_OK);
	ck_assert_int_eq(store_status_each(st, NULL, NOW, status_names_cb, &sa), STORE_OK);
	ck_assert_int_eq(store_supp_each(st, NOW, supp_names_cb, &pa), STORE_OK);
	snprintf(out, outlen, "get %d%d%d%d %d%d%d %d%d%d %d%d "
	    "meta %d/%d%d status %d/%d%d supp %d/%d%d events %llu",
	    rc[0], rc[1], rc[2], rc[3], rc[4], rc[5], rc[6], rc[7], rc[8], rc[9],
	    rc[10], rc[11],
	    ma.n, strstr(ma.last, "env:rel@") != NULL, strstr(ma.last, "env:fresh@") != NULL,
	    sa.n, strstr(sa.last, "ahead.test;") != NULL, strstr(sa.last, ";;") != NULL ||
	    strncmp(sa.last, ";", 1) == 0,
	    pa.n, strstr(pa.last, "ever@") != NULL, strstr(pa.last, "ahead@") != NULL,
	    (unsigned long long)sum_of(st, "env:fresh@x.test", "c/reputation",
	    NOW - 2 * ret, NOW));
	close_backend(st, &conf);
}

START_TEST(test_expiry_agrees)
{
	char lmdb[512], redis[512];
	char want[512];

	snprintf(want, sizeof(want), "get %d%d%d%d %d%d%d %d%d%d %d%d "
	    "meta 2/11 status 2/11 supp 2/11 events 1",
	    STORE_NOTFOUND, STORE_OK, STORE_NOTFOUND, STORE_OK,
	    STORE_NOTFOUND, STORE_NOTFOUND, STORE_OK,
	    STORE_NOTFOUND, STORE_NOTFOUND, STORE_OK,
	    STORE_NOTFOUND, STORE_OK);
	expiry_answer(0, lmdb, sizeof(lmdb));
	ck_assert_str_eq(lmdb, want);
	if (!have_redis) {
		fprintf(stderr, "SKIP redis expiry case: redis-server is not installed\n");
		return;
	}
	expiry_answer(1, redis, sizeof(redis));
	ck_assert_str_eq(redis, lmdb);
}
END_TEST

/* ---- backend specifics ---- */

START_TEST(test_lmdb_map_growth)
{
	struct store_conf c;
	struct store *s;
	struct store_supp sp, got;
	char err[256], addr[64], cmd[300];
	int i;

	ck_assert_int_eq(store_conf_default(&c), 0);
	free(c.state_dir);
	snprintf(lmdb_dir, sizeof(lmdb_dir), "/tmp/egress-grow-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(lmdb_dir));
	c.state_dir = strdup(lmdb_dir);
	c.map_size = 128 << 10;
	c.map_max = 64 << 20;
	memset(&logs, 0, sizeof(logs));
	s = store_open(&c, logcap_fn, &logs, err, sizeof(err));
	ck_assert_msg(s != NULL, "%s", err);
	/* counters through the writer thread fill the small map */
	for (i = 0; i < 20000; i++) {
		const char *f[] = { "c/recipient", "r/recipient/userunknown" };

		snprintf(addr, sizeof(addr), "rcpt:user%06d@example.org", i);
		ck_assert_int_eq(store_event_add(s, addr, NOW, f, 2), STORE_OK);
	}
	ck_assert_int_eq(store_flush(s), STORE_OK);
	ck_assert_msg(strstr(logs.text, "map grown") != NULL, "log: %s", logs.text);
	ck_assert_msg(strstr(logs.text, "lost") == NULL, "log: %s", logs.text);
	ck_assert_uint_eq(sum_of(s, "rcpt:user000000@example.org", "c/recipient", NOW - 300, NOW), 1);
	ck_assert_uint_eq(sum_of(s, "rcpt:user019999@example.org", "c/recipient", NOW - 300, NOW), 1);
	/* durable writes keep growing it */
	memset(&sp, 0, sizeof(sp));
	strcpy(sp.reason, "userunknown");
	sp.created = NOW;
	memset(&logs, 0, sizeof(logs));
	for (i = 0; i < 200; i++) {
		char why[200];

		snprintf(addr, sizeof(addr), "user%06d@example.org", i);
		memset(why, 'x', sizeof(why) - 1);
		why[sizeof(why) - 1] = '\0';
		snprintf(sp.who, sizeof(sp.who), "%.60s", why);
		ck_assert_int_eq(store_supp_put(s, addr, &sp), STORE_OK);
	}
	ck_assert_int_eq(store_supp_get(s, "user000000@example.org", NOW, &got), STORE_OK);
	ck_assert_int_eq(store_supp_get(s, "user000199@example.org", NOW, &got), STORE_OK);
	store_close(s);
	/* reopen with the small configured size: the grown map is adopted */
	s = store_open(&c, logcap_fn, &logs, err, sizeof(err));
	ck_assert_msg(s != NULL, "%s", err);
	ck_assert_int_eq(store_supp_get(s, "user000199@example.org", NOW, &got), STORE_OK);
	snprintf(addr, sizeof(addr), "after@example.org");
	ck_assert_int_eq(store_supp_put(s, addr, &sp), STORE_OK);
	store_close(s);
	store_conf_fini(&c);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", lmdb_dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/*
 * A second process (egressctl beside the daemon) on the same file: the
 * separate program tests/store_two_proc, spawned while this process has
 * the store and its writer thread open. Returns its exit status, or -1.
 */
static int
child_run(const char *dir, const char *step)
{
	char now[32];
	const char *argv[] = { BUILDDIR "/tests/store_two_proc", dir, now, step, NULL };
	pid_t pid;
	int status;

	snprintf(now, sizeof(now), "%lld", (long long)NOW);
	if (spawn(&pid, argv, 0) != 0)
		return -1;
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

START_TEST(test_lmdb_two_processes)
{
	struct store_conf c;
	struct store *a;
	struct store_supp got;
	struct sender_status s;
	struct store_meta m;
	char err[256], cmd[300];

	ck_assert_int_eq(store_conf_default(&c), 0);
	free(c.state_dir);
	snprintf(lmdb_dir, sizeof(lmdb_dir), "/tmp/egress-two-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(lmdb_dir));
	c.state_dir = strdup(lmdb_dir);
	a = store_open(&c, NULL, NULL, err, sizeof(err));
	ck_assert_msg(a != NULL, "%s", err);
	/* the daemon has counters queued while the other process writes */
	ck_assert_int_eq(store_meta_touch(a, "env:a@example.com", NOW, 1, 0), STORE_OK);
	ck_assert_int_eq(child_run(lmdb_dir, "write"), 0);
	ck_assert_int_eq(store_supp_get(a, "x@example.org", NOW, &got), STORE_OK);
	ck_assert_int_eq(got.source, SUPP_MANUAL);
	ck_assert_int_eq(store_status_get(a, "env:a@example.com", "", NOW, &s), STORE_OK);
	ck_assert_int_eq(s.action, SACT_HOLD);
	ck_assert_int_eq(store_release(a, "env:a@example.com", NOW + 1), STORE_OK);
	ck_assert_int_eq(child_run(lmdb_dir, "released"), 0);
	ck_assert_int_eq(store_flush(a), STORE_OK);
	ck_assert_int_eq(store_meta_get(a, "env:a@example.com", NOW + 1, &m), STORE_OK);
	ck_assert_uint_eq(m.messages, 1);
	ck_assert_int_eq(m.released_at, NOW + 1);
	store_close(a);
	store_conf_fini(&c);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", lmdb_dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* Entries of a named database, read with LMDB directly (store closed). */
static size_t
raw_count(const char *dir, const char *name)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_stat ms;
	size_t n = (size_t)-1;

	ck_assert_int_eq(mdb_env_create(&env), 0);
	ck_assert_int_eq(mdb_env_set_maxdbs(env, 8), 0);
	ck_assert_int_eq(mdb_env_open(env, dir, MDB_RDONLY, 0640), 0);
	ck_assert_int_eq(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	if (mdb_dbi_open(txn, name, 0, &dbi) == 0 && mdb_stat(txn, dbi, &ms) == 0)
		n = ms.ms_entries;
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return n;
}

/* The writer deletes expired records without being asked (no cron). */
START_TEST(test_lmdb_sweep)
{
	struct store_conf c;
	struct store *s;
	struct store_supp sp;
	struct sender_status ss;
	char err[256], cmd[300];
	const char *f[] = { "c/reputation" };
	int64_t w = (int64_t)time(NULL);

	ck_assert_int_eq(store_conf_default(&c), 0);
	free(c.state_dir);
	snprintf(lmdb_dir, sizeof(lmdb_dir), "/tmp/egress-sweep-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(lmdb_dir));
	c.state_dir = strdup(lmdb_dir);
	s = store_open(&c, NULL, NULL, err, sizeof(err));
	ck_assert_msg(s != NULL, "%s", err);
	memset(&sp, 0, sizeof(sp));
	strcpy(sp.reason, "userunknown");
	sp.created = w - 100;
	sp.expires = w - 10;
	ck_assert_int_eq(store_supp_put(s, "old@example.org", &sp), STORE_OK);
	sp.expires = w + 1000;
	ck_assert_int_eq(store_supp_put(s, "new@example.org", &sp), STORE_OK);
	memset(&ss, 0, sizeof(ss));
	ss.action = SACT_THROTTLE;
	ss.since = w - 100;
	ss.until = w - 5;
	ck_assert_int_eq(store_status_put(s, "env:a@example.com", "x.test", &ss), STORE_OK);
	ss.until = 0;
	ss.action = SACT_HOLD;
	ck_assert_int_eq(store_status_put(s, "env:a@example.com", "", &ss), STORE_OK);
	ck_assert_int_eq(store_event_add(s, "env:a@example.com",
	    w - c.retention - 3 * c.bucket, f, 1), STORE_OK);
	ck_assert_int_eq(store_event_add(s, "env:a@example.com", w, f, 1), STORE_OK);
	ck_assert_int_eq(store_meta_touch(s, "env:gone@example.com",
	    w - c.sender_ttl - 100, 1, 0), STORE_OK);
	ck_assert_int_eq(store_meta_touch(s, "env:a@example.com", w, 1, 0), STORE_OK);
	ck_assert_int_eq(store_flush(s), STORE_OK);
	store_close(s);
	ck_assert_uint_eq(raw_count(lmdb_dir, "sup"), 1);
	ck_assert_uint_eq(raw_count(lmdb_dir, "st"), 1);
	ck_assert_uint_eq(raw_count(lmdb_dir, "ev"), 1);
	ck_assert_uint_eq(raw_count(lmdb_dir, "meta"), 1);
	store_conf_fini(&c);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", lmdb_dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static int
count_substr(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

START_TEST(test_redis_outage)
{
	struct store_conf c;
	struct store *s;
	struct policy_conf p;
	struct sender_keys k;
	struct decided d;
	struct store_supp sp;
	char err[256], dir[256], sock[300];
	pid_t pid = -1;
	int i, rc;

	if (!have_redis) {
		fprintf(stderr, "SKIP redis outage case: redis-server is not installed\n");
		return;
	}
	snprintf(dir, sizeof(dir), "/tmp/egress-outage-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/redis.sock", dir);
	ck_assert_int_eq(store_conf_default(&c), 0);
	c.backend = STORE_REDIS;
	free(c.redis);
	ck_assert_int_ge(asprintf(&c.redis, "unix:%s", sock), 0);
	c.redis_retry_ms = 50;
	c.redis_retry_max_ms = 100;
	memset(&logs, 0, sizeof(logs));
	/* the server is not there: opening is fine, calls are unavailable */
	s = store_open(&c, logcap_fn, &logs, err, sizeof(err));
	ck_assert_msg(s != NULL, "%s", err);
	ck_assert_int_eq(policy_conf_default(&p), 0);
	keys_for(&p, "a@example.com", &k);
	for (i = 0; i < 20; i++) {
		rc = rec_sender(s, &p, &k, NULL, NOW * 1000, &d);
		ck_assert_int_eq(rc, STORE_UNAVAILABLE);
		ck_assert_int_eq(d.action, ACT_ACCEPT);
		ck_assert_int_eq(d.degraded, 1);
		rc = rec_rcpt(s, "x@example.org", NOW * 1000, &d);
		ck_assert_int_eq(rc, STORE_UNAVAILABLE);
		ck_assert_int_eq(d.action, ACT_ACCEPT);
	}
	/* logged once, not per call */
	ck_assert_int_eq(count_substr(logs.text, "unavailable"), 1);
	/* the server comes up: after the backoff the store recovers */
	ck_assert_int_eq(redis_start(sock, &pid), 0);
	usleep(150000);
	memset(&sp, 0, sizeof(sp));
	strcpy(sp.reason, "userunknown");
	sp.created = NOW;
	ck_assert_int_eq(store_supp_put(s, "x@example.org", &sp), STORE_OK);
	ck_assert_int_eq(rec_rcpt(s, "x@example.org", NOW * 1000, &d), STORE_OK);
	ck_assert_int_eq(d.action, ACT_REJECT);
	ck_assert_int_eq(count_substr(logs.text, "available again"), 1);
	/* and it goes away again mid-use */
	redis_stop(&pid);
	rc = rec_rcpt(s, "x@example.org", NOW * 1000, &d);
	ck_assert_int_eq(rc, STORE_UNAVAILABLE);
	ck_assert_int_eq(d.action, ACT_ACCEPT);
	ck_assert_int_eq(count_substr(logs.text, "unavailable"), 2);
	store_close(s);
	policy_conf_fini(&p);
	store_conf_fini(&c);
	unlink(sock);
	rmdir(dir);
}
END_TEST

START_TEST(test_redis_auth_db)
{
	struct store_conf c;
	struct store *s;
	struct store_supp sp, got;
	char err[256], dir[256], sock[300], cmd[600];
	pid_t pid = -1;

	if (!have_redis) {
		fprintf(stderr, "SKIP redis auth case: redis-server is not installed\n");
		return;
	}
	snprintf(dir, sizeof(dir), "/tmp/egress-auth-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/redis.sock", dir);
	ck_assert_int_eq(redis_start_pw(sock, "s3cret", &pid), 0);
	ck_assert_int_eq(store_conf_default(&c), 0);
	c.backend = STORE_REDIS;
	free(c.redis);
	ck_assert_int_ge(asprintf(&c.redis, "unix:%s", sock), 0);
	memset(&sp, 0, sizeof(sp));
	strcpy(sp.reason, "userunknown");
	sp.created = NOW;
	/* no password: refused, logged with the reason, unavailable */
	memset(&logs, 0, sizeof(logs));
	s = store_open(&c, logcap_fn, &logs, err, sizeof(err));
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(store_supp_put(s, "x@example.org", &sp), STORE_UNAVAILABLE);
	ck_assert_msg(strstr(logs.text, "NOAUTH") != NULL || strstr(logs.text, "AUTH") != NULL,
	    "%s", logs.text);
	store_close(s);
	/* the right password and database 3 */
	c.redis_password = strdup("s3cret");
	c.redis_db = 3;
	s = store_open(&c, logcap_fn, &logs, err, sizeof(err));
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(store_supp_put(s, "x@example.org", &sp), STORE_OK);
	ck_assert_int_eq(store_supp_get(s, "x@example.org", NOW, &got), STORE_OK);
	store_close(s);
	snprintf(cmd, sizeof(cmd), "redis-cli -s %s --no-auth-warning -a s3cret -n 3 "
	    "exists 'egress:sup:{x@example.org}' | grep -q 1", sock);
	ck_assert_int_eq(system(cmd), 0);
	redis_stop(&pid);
	store_conf_fini(&c);
	unlink(sock);
	rmdir(dir);
}
END_TEST

static Suite *
store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("both backends");
	TCase *tb = tcase_create("backend specifics");

	tcase_set_timeout(tc, 60);
	tcase_set_timeout(tb, 120);
	tcase_add_loop_test(tc, test_events, 0, 2);
	tcase_add_loop_test(tc, test_meta, 0, 2);
	tcase_add_loop_test(tc, test_status, 0, 2);
	tcase_add_loop_test(tc, test_supp, 0, 2);
	tcase_add_loop_test(tc, test_rate_exact, 0, 2);
	tcase_add_loop_test(tc, test_concurrent, 0, 2);
	tcase_add_loop_test(tc, test_record_reputation, 0, 2);
	tcase_add_loop_test(tc, test_record_suppress, 0, 2);
	tcase_add_loop_test(tc, test_record_deferrals, 0, 2);
	tcase_add_loop_test(tc, test_record_suspend_release, 0, 2);
	tcase_add_loop_test(tc, test_record_static_rate_and_keys, 0, 2);
	tcase_add_loop_test(tc, test_record_warmup, 0, 2);
	tcase_add_loop_test(tc, test_record_auth_link, 0, 2);
	tcase_add_loop_test(tc, test_hostile_text, 0, 2);
	tcase_add_loop_test(tc, test_ledger, 0, 2);
	tcase_add_loop_test(tc, test_ledger_evidence, 0, 2);
	tcase_add_loop_test(tc, test_ledger_relaxed, 0, 2);
	tcase_add_loop_test(tc, test_ledger_bound, 0, 2);
	suite_add_tcase(s, tc);
	tcase_add_test(tb, test_lmdb_map_growth);
	tcase_add_test(tb, test_lmdb_two_processes);
	tcase_add_test(tb, test_lmdb_sweep);
	tcase_add_test(tb, test_expiry_agrees);
	tcase_add_test(tb, test_redis_outage);
	tcase_add_test(tb, test_redis_auth_db);
	suite_add_tcase(s, tb);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	now_base = (int64_t)time(NULL);
	have_redis = have_binary(REDIS_BIN) && have_binary("redis-cli");
	if (have_redis) {
		snprintf(redis_dir, sizeof(redis_dir), "/tmp/egress-redis-XXXXXX");
		if (mkdtemp(redis_dir) == NULL)
			return 99;
		snprintf(redis_sock, sizeof(redis_sock), "%s/redis.sock", redis_dir);
		if (redis_start(redis_sock, &redis_pid) != 0) {
			fprintf(stderr, "redis-server is installed but did not start\n");
			redis_stop(&redis_pid);
			return 99;
		}
	} else
		fprintf(stderr, "SKIP: redis-server not installed: Redis cases skipped\n");
	sr = srunner_create(store_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (have_redis) {
		redis_stop(&redis_pid);
		unlink(redis_sock);
		rmdir(redis_dir);
	}
	return failed == 0 ? 0 : 1;
}
