/*
 * store_redis.c - the shared state store backend (Redis, via hiredis).
 *
 * Keys (P = key_prefix, SK = sender key); every key of a sender carries the
 * hash tag {SK}, so Redis Cluster keeps a sender's keys in one slot and the
 * Lua scripts below touch one slot only:
 *   P:{SK}:ev:BUCKET   hash field -> count, PEXPIRE retention
 *   P:{SK}:evidx       sorted set of the buckets that exist
 *   P:{SK}:meta        hash first, last, lastf, rel, msgs, fails
 *   P:{SK}:st          hash destination ("" = all) -> encoded status
 *   P:{SK}:rt:NAME     GCRA theoretical arrival time (ms)
 *   P:{env:ADDR}:auth  "WHEN<TAB>auth:LOGIN", the login's address link
 *   P:sup:{ADDR}       encoded suppression, PEXPIRE until it expires
 *   P:{ledger}:m:MSGID encoded ledger entry, PEXPIRE ledger.ttl
 *   P:{ledger}:q:QID   the Message-ID of a queue id, PEXPIRE ledger.ttl
 *   P:{ledger}:t       sorted set MSGID by time: the size bound, oldest first
 *   P:{ledger}:x:MARK  one-time marker (SET NX), PEXPIRE ledger.ttl
 * The ledger's keys share one hash tag, so its script stays in one slot
 * (in a Cluster the ledger lives on one shard).
 * Expiry is relative (PEXPIRE from the record's own times), so the store
 * behaves the same under an injected clock; reads and iterators also check
 * the times with store_expire.c's rules, which decide, the key deadlines
 * being never earlier than those rules.
 *
 * Every read-modify-write is one Lua script (EVALSHA, loaded per
 * connection, EVAL when the server lost it), so concurrent milters on
 * several hosts update atomically.
 *
 * One server: Cluster redirections (MOVED, ASK) are not followed; the hash
 * tags make the keys Cluster-ready for a client or proxy that does.
 *
 * Connections: a pool of at most redis_pool connections shared by all
 * threads; a caller waits at most redis_timeout_ms for a free one. Connect
 * and command timeouts come from the config (200 ms by default), well under
 * the MTA's milter timeouts. When the server fails to answer, the store
 * logs once, answers STORE_UNAVAILABLE at once (no network) until the
 * backoff expires, then lets one call through as the probe (the others
 * still answer at once); only a failed probe doubles the backoff, up to
 * redis_retry_max_ms, so an outage costs one backoff step per retry
 * whatever the number of calls in flight; the first success logs the
 * recovery.
 */
#include <sys/time.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "egress/store.h"
#include "store_int.h"

#define REDIS_KEY_MAX	1024
#define REDIS_ARGS_MAX	(STORE_FIELDS_MAX + 8)
#define SCAN_COUNT	"1000"

enum script_id { SC_EV_ADD, SC_EV_SCAN, SC_META, SC_RELEASE, SC_STATUS, SC_RATE,
    SC_LEDGER, SC__COUNT };

static const char *const scripts[SC__COUNT] = {
	/* SC_EV_ADD: KEYS idx, bucket key; ARGV bucket, ttl, oldest, fields... */
	"for i = 4, #ARGV do redis.call('HINCRBY', KEYS[2], ARGV[i], 1) end\n"
	"redis.call('PEXPIRE', KEYS[2], ARGV[2])\n"
	"redis.call('ZADD', KEYS[1], ARGV[1], ARGV[1])\n"
	"redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])\n"
	"redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
	"return 1\n",
	/* SC_EV_SCAN: KEYS idx; ARGV from, to, bucket key prefix */
	"local out = {}\n"
	"for _, b in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[2])) do\n"
	"  local h = redis.call('HGETALL', ARGV[3] .. b)\n"
	"  if #h > 0 then out[#out + 1] = b; out[#out + 1] = h end\n"
	"end\n"
	"return out\n",
	/* SC_META: KEYS meta; ARGV now, messages, failures, ttl */
	"local now = tonumber(ARGV[1])\n"
	"local f = tonumber(redis.call('HGET', KEYS[1], 'first') or '0')\n"
	"if f == 0 or now < f then redis.call('HSET', KEYS[1], 'first', ARGV[1]) end\n"
	"local l = tonumber(redis.call('HGET', KEYS[1], 'last') or '0')\n"
	"if now > l then redis.call('HSET', KEYS[1], 'last', ARGV[1]) end\n"
	"if tonumber(ARGV[3]) > 0 then\n"
	"  local lf = tonumber(redis.call('HGET', KEYS[1], 'lastf') or '0')\n"
	"  if now > lf then redis.call('HSET', KEYS[1], 'lastf', ARGV[1]) end\n"
	"  redis.call('HINCRBY', KEYS[1], 'fails', ARGV[3])\n"
	"end\n"
	"if tonumber(ARGV[2]) > 0 then redis.call('HINCRBY', KEYS[1], 'msgs', ARGV[2]) end\n"
	"redis.call('PEXPIRE', KEYS[1], ARGV[4])\n"
	"return 1\n",
	/* SC_RELEASE: KEYS st, meta; ARGV now, ttl */
	"redis.call('DEL', KEYS[1])\n"
	"redis.call('HSET', KEYS[2], 'rel', ARGV[1])\n"
	"if not redis.call('HGET', KEYS[2], 'first') then\n"
	"  redis.call('HSET', KEYS[2], 'first', ARGV[1], 'last', ARGV[1])\n"
	"end\n"
	"redis.call('PEXPIRE', KEYS[2], ARGV[2])\n"
	"return 1\n",
	/* SC_STATUS: KEYS st; ARGV dest, value, ttl (0 = none) */
	"redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])\n"
	"local ttl = tonumber(ARGV[3])\n"
	"if ttl == 0 then redis.call('PERSIST', KEYS[1]) else\n"
	"  local cur = redis.call('PTTL', KEYS[1])\n"
	"  if (cur == -1 and redis.call('HLEN', KEYS[1]) == 1) or (cur >= 0 and cur < ttl) then\n"
	"    redis.call('PEXPIRE', KEYS[1], ARGV[3])\n"
	"  end\n"
	"end\n"
	"return 1\n",
	/* SC_RATE: KEYS bucket; ARGV now, interval, burst, init tat (GCRA, ms) */
	"local now = tonumber(ARGV[1])\n"
	"local iv = tonumber(ARGV[2])\n"
	"local burst = tonumber(ARGV[3])\n"
	"if burst < 1 then burst = 1 end\n"
	"local t = tonumber(redis.call('GET', KEYS[1]) or ARGV[4])\n"
	"if t < now then t = now end\n"
	"local tau = (burst - 1) * iv\n"
	"if t - now > tau then return {0, string.format('%.0f', t - now - tau)} end\n"
	"t = t + iv\n"
	"redis.call('SET', KEYS[1], string.format('%.0f', t), 'PX', string.format('%.0f', t - now + 1000))\n"
	"return {1, '0'}\n",
	/*
	 * SC_LEDGER: KEYS entry, qid key ("" none), time index; ARGV record,
	 * msgid, when, ttl ms, max entries, oldest kept when, entry key prefix
	 */
	"redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4])\n"
	"if KEYS[2] ~= '' then redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[4]) end\n"
	"redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])\n"
	"redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[6])\n"
	"local over = redis.call('ZCARD', KEYS[3]) - tonumber(ARGV[5])\n"
	"if over > 0 then\n"
	"  for _, m in ipairs(redis.call('ZRANGE', KEYS[3], 0, over - 1)) do\n"
	"    redis.call('DEL', ARGV[7] .. m)\n"
	"  end\n"
	"  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, over - 1)\n"
	"end\n"
	"redis.call('PEXPIRE', KEYS[3], ARGV[4])\n"
	"return 1\n",
};

struct redis {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	redisContext	**idle;		/* free connections */
	size_t		 nidle;
	size_t		 nconn;		/* open, idle or lent */
	size_t		 max;
	int		 down;		/* last attempt failed */
	int		 probing;	/* one call is trying while down */
	int64_t		 next_try;	/* ms, while down */
	int64_t		 backoff;	/* ms */
	/* store_health() counters, under mu */
	uint64_t	 n_outages, n_probes, n_probe_fail, n_overlap, n_recover;
	uint64_t	 n_steps;
	int		 probes_out;	/* probes in flight */
	char		 sha[SC__COUNT][41];
	char		 host[256];
	int		 port;
	int		 is_unix;
};

#define R(st)	((struct redis *)(st)->impl)

static redisReply *command_nosigpipe(redisContext *, int, const char **,
    const size_t *);

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct timeval
ms_tv(long long ms)
{
	struct timeval tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	return tv;
}

/* ---- connections ---- */

/*
 * A call failed. The first failure of an outage starts the backoff; while
 * down only one call (the probe) is let through at a time, and only its
 * failure doubles the backoff: calls that were in flight when the server
 * stopped answering fail too, and must not push the next probe further
 * out (one backoff step per retry, not per failing call).
 */
static void
mark_down(struct store *st, const char *why, int probe)
{
	struct redis *r = R(st);
	int first;

	pthread_mutex_lock(&r->mu);
	first = !r->down;
	r->down = 1;
	if (probe) {
		r->n_probe_fail++;
		r->probes_out--;
	}
	if (first) {
		r->n_outages++;
		r->backoff = st->conf.redis_retry_ms;
		r->next_try = mono_ms() + r->backoff;
	} else if (probe) {
		if (r->backoff < st->conf.redis_retry_max_ms) {
			r->backoff = r->backoff * 2 > st->conf.redis_retry_max_ms ?
			    st->conf.redis_retry_max_ms : r->backoff * 2;
			r->n_steps++;
		}
		r->next_try = mono_ms() + r->backoff;
	}
	if (probe)
		r->probing = 0;
	pthread_mutex_unlock(&r->mu);
	if (first)
		store_logf(st, STORE_LOG_WARNING,
		    "redis: %s unavailable (%s): falling back to local decisions, "
		    "retrying every %lld..%lld ms", st->conf.redis, why,
		    st->conf.redis_retry_ms, st->conf.redis_retry_max_ms);
}

static void
mark_up(struct store *st, int probe)
{
	struct redis *r = R(st);
	int was;

	pthread_mutex_lock(&r->mu);
	was = r->down;
	r->down = 0;
	r->probing = 0;
	if (probe)
		r->probes_out--;
	if (was)
		r->n_recover++;
	pthread_mutex_unlock(&r->mu);
	if (was)
		store_logf(st, STORE_LOG_INFO, "redis: %s available again",
		    st->conf.redis);
}

static int
load_scripts(struct store *st, redisContext *c, char *why, size_t whylen)
{
	struct redis *r = R(st);
	redisReply *rep;
	int i;

	for (i = 0; i < SC__COUNT; i++) {
		const char *argv[3] = { "SCRIPT", "LOAD", scripts[i] };

		rep = command_nosigpipe(c, 3, argv, NULL);
		if (rep == NULL)
			return -1;
		if (rep->type != REDIS_REPLY_STRING || rep->len != 40) {
			snprintf(why, whylen, "SCRIPT LOAD: %.100s",
			    rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
			freeReplyObject(rep);
			return -1;
		}
		pthread_mutex_lock(&r->mu);
		memcpy(r->sha[i], rep->str, 40);
		r->sha[i][40] = '\0';
		pthread_mutex_unlock(&r->mu);
		freeReplyObject(rep);
	}
	return 0;
}

/* AUTH and SELECT on a new connection; *why is set when the server refused. */
static int
select_auth(struct store *st, redisContext *c, char *why, size_t whylen)
{
	char db[24];
	const char *argv[2];
	redisReply *rep;
	int i;

	for (i = 0; i < 2; i++) {
		if (i == 0) {
			if (st->conf.redis_password == NULL)
				continue;
			argv[0] = "AUTH";
			argv[1] = st->conf.redis_password;
		} else {
			if (st->conf.redis_db == 0)
				continue;
			snprintf(db, sizeof(db), "%lld", st->conf.redis_db);
			argv[0] = "SELECT";
			argv[1] = db;
		}
		if ((rep = command_nosigpipe(c, 2, argv, NULL)) == NULL)
			return -1;
		if (rep->type == REDIS_REPLY_ERROR) {
			snprintf(why, whylen, "%s: %.100s", argv[0], rep->str);
			freeReplyObject(rep);
			return -1;
		}
		freeReplyObject(rep);
	}
	return 0;
}

static redisContext *
connect_one(struct store *st, char *why, size_t whylen)
{
	struct redis *r = R(st);
	struct timeval ct = ms_tv(st->conf.redis_connect_timeout_ms);
	redisContext *c;

	why[0] = '\0';
	c = r->is_unix ? redisConnectUnixWithTimeout(r->host, ct) :
	    redisConnectWithTimeout(r->host, r->port, ct);
	if (c == NULL) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	if (c->err) {
		snprintf(why, whylen, "%s", c->errstr);
		redisFree(c);
		return NULL;
	}
	if (redisSetTimeout(c, ms_tv(st->conf.redis_timeout_ms)) != REDIS_OK ||
	    select_auth(st, c, why, whylen) != 0 || load_scripts(st, c, why, whylen) != 0) {
		if (why[0] != '\0') {
			redisFree(c);
			return NULL;
		}
		snprintf(why, whylen, "%s", c->err ? c->errstr : "connection setup failed");
		redisFree(c);
		return NULL;
	}
	return c;
}

/*
 * Borrow a connection; NULL means unavailable (logged). While the server
 * is down, one call at a time is let through once the backoff has run
 * out: *probe is then set, and conn_put/mark_down must be told.
 */
static redisContext *
conn_get(struct store *st, int *probe)
{
	struct redis *r = R(st);
	redisContext *c = NULL;
	struct timespec ts;
	char why[256];

	*probe = 0;
	pthread_mutex_lock(&r->mu);
	if (r->down && (r->probing || mono_ms() < r->next_try)) {
		pthread_mutex_unlock(&r->mu);
		return NULL;
	}
	if (r->down) {
		*probe = r->probing = 1;
		r->n_probes++;
		if (r->probes_out++ > 0)
			r->n_overlap++;
	}
	if (r->nidle == 0 && r->nconn >= r->max) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += (time_t)(st->conf.redis_timeout_ms / 1000);
		ts.tv_nsec += (long)(st->conf.redis_timeout_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		while (r->nidle == 0 && r->nconn >= r->max)
			if (pthread_cond_timedwait(&r->cv, &r->mu, &ts) != 0)
				break;
	}
	if (r->nidle > 0) {
		c = r->idle[--r->nidle];
		pthread_mutex_unlock(&r->mu);
		return c;
	}
	if (r->nconn >= r->max) {
		if (*probe) {
			r->probing = 0;	/* no answer either way: the next call tries */
			r->probes_out--;
		}
		pthread_mutex_unlock(&r->mu);
		return NULL;	/* pool busy past the timeout */
	}
	r->nconn++;
	pthread_mutex_unlock(&r->mu);
	if ((c = connect_one(st, why, sizeof(why))) == NULL) {
		pthread_mutex_lock(&r->mu);
		r->nconn--;
		pthread_cond_signal(&r->cv);
		pthread_mutex_unlock(&r->mu);
		mark_down(st, why, *probe);
		return NULL;
	}
	return c;
}

static void
conn_put(struct store *st, redisContext *c, int broken, int probe)
{
	struct redis *r = R(st);

	if (broken || c->err) {
		char why[160];

		snprintf(why, sizeof(why), "%s", c->err ? c->errstr : "protocol error");
		redisFree(c);
		pthread_mutex_lock(&r->mu);
		r->nconn--;
		pthread_cond_signal(&r->cv);
		pthread_mutex_unlock(&r->mu);
		mark_down(st, why, probe);
		return;
	}
	pthread_mutex_lock(&r->mu);
	r->idle[r->nidle++] = c;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	mark_up(st, probe);
}

/*
 * A write to a connection the server has closed raises SIGPIPE; the store
 * must not kill a process that has not ignored it. Block it in this thread
 * for the command and consume one that became pending.
 */
static redisReply *
command_nosigpipe(redisContext *c, int argc, const char **argv,
    const size_t *lens)
{
	sigset_t pipe_set, old, pending;
	struct timespec zero = { 0, 0 };
	redisReply *rep;
	int was_pending;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	rep = redisCommandArgv(c, argc, argv, lens);
	if (!was_pending) {
		sigpending(&pending);
		if (sigismember(&pending, SIGPIPE))
			while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
				;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rep;
}

/*
 * Run one command (argv) and return its reply, or NULL with *rc set to
 * STORE_UNAVAILABLE. Error replies are returned as replies.
 */
static redisReply *
run(struct store *st, int argc, const char **argv, const size_t *lens, int *rc)
{
	redisContext *c;
	redisReply *rep;
	int probe;

	if ((c = conn_get(st, &probe)) == NULL) {
		*rc = STORE_UNAVAILABLE;
		return NULL;
	}
	rep = command_nosigpipe(c, argc, argv, lens);
	conn_put(st, c, rep == NULL, probe);
	*rc = rep != NULL ? STORE_OK : STORE_UNAVAILABLE;
	return rep;
}

/*
 * Run a command whose answer is one string (GET, HGET). Returns the reply
 * when it is a string (the caller frees it); otherwise NULL with *rc
 * STORE_NOTFOUND for nil, STORE_ERROR for another type, or run()'s code.
 */
static redisReply *
run_string(struct store *st, int argc, const char **argv, int *rc)
{
	redisReply *rep;

	if ((rep = run(st, argc, argv, NULL, rc)) == NULL)
		return NULL;
	if (rep->type == REDIS_REPLY_STRING)
		return rep;
	*rc = rep->type == REDIS_REPLY_NIL ? STORE_NOTFOUND : STORE_ERROR;
	freeReplyObject(rep);
	return NULL;
}

/* Run a script by sha; on NOSCRIPT send its text (which loads it). */
static redisReply *
run_script(struct store *st, enum script_id id, int nkeys, int argc,
    const char **argv, size_t *lens, int *rc)
{
	const char *a[REDIS_ARGS_MAX + 4];
	size_t l[REDIS_ARGS_MAX + 4];
	char sha[41], nk[12];
	redisReply *rep;
	int i;

	if (argc + 3 > REDIS_ARGS_MAX + 4) {
		*rc = STORE_ERROR;
		return NULL;
	}
	pthread_mutex_lock(&R(st)->mu);
	memcpy(sha, R(st)->sha[id], sizeof(sha));
	pthread_mutex_unlock(&R(st)->mu);
	snprintf(nk, sizeof(nk), "%d", nkeys);
	a[0] = sha[0] != '\0' ? "EVALSHA" : "EVAL";
	a[1] = sha[0] != '\0' ? sha : scripts[id];
	a[2] = nk;
	for (i = 0; i < argc; i++) {
		a[3 + i] = argv[i];
		l[3 + i] = lens != NULL ? lens[i] : strlen(argv[i]);
	}
	l[0] = strlen(a[0]);
	l[1] = strlen(a[1]);
	l[2] = strlen(a[2]);
	rep = run(st, argc + 3, a, l, rc);
	if (rep != NULL && rep->type == REDIS_REPLY_ERROR &&
	    strncmp(rep->str, "NOSCRIPT", 8) == 0) {
		freeReplyObject(rep);
		a[0] = "EVAL";
		a[1] = scripts[id];
		l[0] = 4;
		l[1] = strlen(scripts[id]);
		rep = run(st, argc + 3, a, l, rc);
	}
	if (rep != NULL && rep->type == REDIS_REPLY_ERROR) {
		store_logf(st, STORE_LOG_ERR, "redis: script error: %.200s", rep->str);
		freeReplyObject(rep);
		*rc = STORE_ERROR;
		return NULL;
	}
	return rep;
}

/* ---- key names ---- */

static int
skey(struct store *st, char *out, const char *key, const char *suffix)
{
	int n = snprintf(out, REDIS_KEY_MAX, "%s:{%s}:%s", st->conf.key_prefix,
	    key, suffix);

	return n > 0 && n < REDIS_KEY_MAX ? 0 : -1;
}

static int
supkey(struct store *st, char *out, const char *addr)
{
	int n = snprintf(out, REDIS_KEY_MAX, "%s:sup:{%s}", st->conf.key_prefix, addr);

	return n > 0 && n < REDIS_KEY_MAX ? 0 : -1;
}

/* Escape glob characters of the prefix for SCAN MATCH. */
static void
glob_escape(char *out, size_t outlen, const char *s)
{
	size_t j = 0;

	for (; *s != '\0' && j + 3 < outlen; s++) {
		if (strchr("*?[]\\", *s) != NULL)
			out[j++] = '\\';
		out[j++] = *s;
	}
	out[j] = '\0';
}

static int64_t
num(const redisReply *r)
{
	if (r->type == REDIS_REPLY_INTEGER)
		return r->integer;
	if (r->type == REDIS_REPLY_STRING)
		return strtoll(r->str, NULL, 10);
	return 0;
}

/* ---- ops ---- */

static int
rd_event_add(struct store *st, const char *key, int64_t bucket,
    const char *const *fields, size_t n)
{
	char idx[REDIS_KEY_MAX], bk[REDIS_KEY_MAX], sfx[40], b[24], ttl[24], old[24];
	const char *argv[REDIS_ARGS_MAX];
	redisReply *rep;
	size_t i;
	int rc;

	snprintf(sfx, sizeof(sfx), "ev:%lld", (long long)bucket);
	if (skey(st, idx, key, "evidx") != 0 || skey(st, bk, key, sfx) != 0)
		return STORE_ERROR;
	snprintf(b, sizeof(b), "%lld", (long long)bucket);
	snprintf(ttl, sizeof(ttl), "%lld", (st->conf.retention + st->conf.bucket) * 1000);
	snprintf(old, sizeof(old), "%lld", (long long)store_expire_event_before(st, bucket));
	argv[0] = idx;
	argv[1] = bk;
	argv[2] = b;
	argv[3] = ttl;
	argv[4] = old;
	for (i = 0; i < n; i++)
		argv[5 + i] = fields[i];
	rep = run_script(st, SC_EV_ADD, 2, (int)(5 + n), argv, NULL, &rc);
	if (rep != NULL)
		freeReplyObject(rep);
	return rc;
}

static int
rd_event_scan(struct store *st, const char *key, int64_t from, int64_t to,
    store_event_cb *cb, void *arg)
{
	char idx[REDIS_KEY_MAX], pfx[REDIS_KEY_MAX], f[24], t[24], field[STORE_FIELD_MAX];
	const char *argv[4];
	redisReply *rep;
	size_t i, j;
	int rc;

	if (skey(st, idx, key, "evidx") != 0 || skey(st, pfx, key, "ev:") != 0)
		return STORE_ERROR;
	snprintf(f, sizeof(f), "%lld", (long long)from);
	snprintf(t, sizeof(t), "%lld", (long long)to);
	argv[0] = idx;
	argv[1] = f;
	argv[2] = t;
	argv[3] = pfx;
	if ((rep = run_script(st, SC_EV_SCAN, 1, 4, argv, NULL, &rc)) == NULL)
		return rc;
	if (rep->type != REDIS_REPLY_ARRAY) {
		freeReplyObject(rep);
		return STORE_ERROR;
	}
	for (i = 0; i + 1 < rep->elements; i += 2) {
		int64_t bucket = num(rep->element[i]);
		redisReply *h = rep->element[i + 1];

		if (h->type != REDIS_REPLY_ARRAY)
			continue;
		for (j = 0; j + 1 < h->elements; j += 2) {
			uint64_t cnt = (uint64_t)num(h->element[j + 1]);

			if (h->element[j]->type != REDIS_REPLY_STRING ||
			    h->element[j]->len >= sizeof(field) || cnt == 0)
				continue;
			memcpy(field, h->element[j]->str, h->element[j]->len);
			field[h->element[j]->len] = '\0';
			if (cb(arg, bucket, field, cnt) != 0)
				goto out;
		}
	}
out:
	freeReplyObject(rep);
	return STORE_OK;
}

static int
rd_meta_touch(struct store *st, const char *key, int64_t now,
    unsigned messages, unsigned failures)
{
	char k[REDIS_KEY_MAX], n[24], m[16], f[16], ttl[24];
	const char *argv[5];
	redisReply *rep;
	int rc;

	if (skey(st, k, key, "meta") != 0)
		return STORE_ERROR;
	snprintf(n, sizeof(n), "%lld", (long long)now);
	snprintf(m, sizeof(m), "%u", messages);
	snprintf(f, sizeof(f), "%u", failures);
	snprintf(ttl, sizeof(ttl), "%lld", st->conf.sender_ttl * 1000);
	argv[0] = k;
	argv[1] = n;
	argv[2] = m;
	argv[3] = f;
	argv[4] = ttl;
	rep = run_script(st, SC_META, 1, 5, argv, NULL, &rc);
	if (rep != NULL)
		freeReplyObject(rep);
	return rc;
}

static void
meta_parse(const redisReply *h, struct store_meta *m)
{
	size_t j;

	memset(m, 0, sizeof(*m));
	for (j = 0; j + 1 < h->elements; j += 2) {
		const char *name = h->element[j]->str;
		int64_t v = num(h->element[j + 1]);

		if (name == NULL)
			continue;
		if (strcmp(name, "first") == 0)
			m->first_seen = v;
		else if (strcmp(name, "last") == 0)
			m->last_seen = v;
		else if (strcmp(name, "lastf") == 0)
			m->last_failure = v;
		else if (strcmp(name, "rel") == 0)
			m->released_at = v;
		else if (strcmp(name, "msgs") == 0)
			m->messages = (uint64_t)v;
		else if (strcmp(name, "fails") == 0)
			m->failures = (uint64_t)v;
	}
}

static int
rd_meta_get(struct store *st, const char *key, struct store_meta *out)
{
	char k[REDIS_KEY_MAX];
	const char *argv[2] = { "HGETALL", k };
	redisReply *rep;
	int rc;

	if (skey(st, k, key, "meta") != 0)
		return STORE_ERROR;
	if ((rep = run(st, 2, argv, NULL, &rc)) == NULL)
		return rc;
	if (rep->type != REDIS_REPLY_ARRAY)
		rc = STORE_ERROR;
	else if (rep->elements == 0)
		rc = STORE_NOTFOUND;
	else
		meta_parse(rep, out);
	freeReplyObject(rep);
	return rc;
}

typedef int scan_key_fn(struct store *, const char *rkey, size_t len, void *arg);

/* SCAN the keyspace for pattern; fn per key; non-zero return stops. */
static int
scan_keys(struct store *st, const char *pattern, scan_key_fn *fn, void *arg)
{
	char cursor[32] = "0";
	const char *argv[6];
	redisReply *rep;
	size_t i;
	int rc, stop = 0;

	do {
		argv[0] = "SCAN";
		argv[1] = cursor;
		argv[2] = "MATCH";
		argv[3] = pattern;
		argv[4] = "COUNT";
		argv[5] = SCAN_COUNT;
		if ((rep = run(st, 6, argv, NULL, &rc)) == NULL)
			return rc;
		if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
		    rep->element[0]->type != REDIS_REPLY_STRING) {
			freeReplyObject(rep);
			return STORE_ERROR;
		}
		snprintf(cursor, sizeof(cursor), "%s", rep->element[0]->str);
		for (i = 0; i < rep->element[1]->elements && !stop; i++) {
			redisReply *k = rep->element[1]->element[i];

			if (k->type == REDIS_REPLY_STRING)
				stop = fn(st, k->str, k->len, arg);
		}
		freeReplyObject(rep);
	} while (!stop && strcmp(cursor, "0") != 0);
	return stop < 0 ? STORE_ERROR : STORE_OK;
}

/* The sender key inside "P:{SK}:suffix". */
static int
key_from(struct store *st, const char *rkey, size_t len, const char *suffix,
    char *out, size_t outlen)
{
	size_t pl = strlen(st->conf.key_prefix) + 2, sl = strlen(suffix) + 2;

	if (len < pl + sl || len - pl - sl >= outlen)
		return -1;
	memcpy(out, rkey + pl, len - pl - sl);
	out[len - pl - sl] = '\0';
	return 0;
}

struct meta_each_arg {
	store_meta_cb	*cb;
	void		*arg;
	int64_t		 now;
};

static int
meta_each_fn(struct store *st, const char *rkey, size_t len, void *arg)
{
	struct meta_each_arg *a = arg;
	char key[SENDER_KEY_MAX];
	struct store_meta m;

	if (key_from(st, rkey, len, "meta", key, sizeof(key)) != 0)
		return 0;
	if (rd_meta_get(st, key, &m) != STORE_OK)
		return 0;
	if (store_expired_meta(st, &m, a->now))
		return 0;
	return a->cb(a->arg, key, &m) != 0;
}

static int
rd_meta_each(struct store *st, int64_t now, store_meta_cb *cb, void *arg)
{
	char pat[REDIS_KEY_MAX], pe[256];
	struct meta_each_arg a = { cb, arg, now };

	glob_escape(pe, sizeof(pe), st->conf.key_prefix);
	snprintf(pat, sizeof(pat), "%s:{*}:meta", pe);
	return scan_keys(st, pat, meta_each_fn, &a);
}

static int
rd_status_put(struct store *st, const char *key, const char *dest,
    const struct sender_status *s)
{
	char k[REDIS_KEY_MAX], v[STORE_REC_MAX], ttl[24];
	const char *argv[4];
	redisReply *rep;
	int rc, n;

	if (skey(st, k, key, "st") != 0 || (n = status_encode(s, v, sizeof(v))) < 0)
		return STORE_ERROR;
	snprintf(ttl, sizeof(ttl), "%lld", s->until == 0 ? 0LL :
	    (long long)((s->until > s->since ? s->until - s->since : 1) * 1000));
	argv[0] = k;
	argv[1] = dest;
	argv[2] = v;
	argv[3] = ttl;
	rep = run_script(st, SC_STATUS, 1, 4, argv, NULL, &rc);
	if (rep != NULL)
		freeReplyObject(rep);
	return rc;
}

static int
rd_status_get(struct store *st, const char *key, const char *dest,
    struct sender_status *out)
{
	char k[REDIS_KEY_MAX];
	const char *argv[3] = { "HGET", k, dest };
	redisReply *rep;
	int rc;

	if (skey(st, k, key, "st") != 0)
		return STORE_ERROR;
	if ((rep = run_string(st, 3, argv, &rc)) == NULL)
		return rc;
	if (status_decode(rep->str, rep->len, out) != 0)
		rc = STORE_ERROR;
	freeReplyObject(rep);
	return rc;
}

struct status_each_arg {
	store_status_cb	*cb;
	void		*arg;
	int64_t		 now;
};

static int
status_of_key(struct store *st, const char *key, struct status_each_arg *a)
{
	char k[REDIS_KEY_MAX], dest[STORE_ADDR_MAX];
	const char *argv[2] = { "HGETALL", k };
	struct sender_status s;
	redisReply *rep;
	size_t j;
	int rc, stop = 0;

	if (skey(st, k, key, "st") != 0)
		return STORE_ERROR;
	if ((rep = run(st, 2, argv, NULL, &rc)) == NULL)
		return rc;
	for (j = 0; rep->type == REDIS_REPLY_ARRAY && j + 1 < rep->elements && !stop;
	    j += 2) {
		redisReply *d = rep->element[j], *v = rep->element[j + 1];

		if (d->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING ||
		    d->len >= sizeof(dest))
			continue;
		memcpy(dest, d->str, d->len);
		dest[d->len] = '\0';
		if (status_decode(v->str, v->len, &s) == 0 &&
		    !store_expired_status(st, &s, a->now))
			stop = a->cb(a->arg, key, dest, &s) != 0;
	}
	freeReplyObject(rep);
	return stop ? 1 : STORE_OK;
}

static int
status_each_fn(struct store *st, const char *rkey, size_t len, void *arg)
{
	char key[SENDER_KEY_MAX];

	if (key_from(st, rkey, len, "st", key, sizeof(key)) != 0)
		return 0;
	return status_of_key(st, key, arg) == 1;
}

static int
rd_status_each(struct store *st, const char *key, int64_t now,
    store_status_cb *cb, void *arg)
{
	char pat[REDIS_KEY_MAX], pe[256];
	struct status_each_arg a = { cb, arg, now };
	int rc;

	if (key != NULL) {
		rc = status_of_key(st, key, &a);
		return rc == 1 ? STORE_OK : rc;
	}
	glob_escape(pe, sizeof(pe), st->conf.key_prefix);
	snprintf(pat, sizeof(pat), "%s:{*}:st", pe);
	return scan_keys(st, pat, status_each_fn, &a);
}

static int
rd_release(struct store *st, const char *key, int64_t now)
{
	char sk[REDIS_KEY_MAX], mk[REDIS_KEY_MAX], n[24], ttl[24];
	const char *argv[4];
	redisReply *rep;
	int rc;

	if (skey(st, sk, key, "st") != 0 || skey(st, mk, key, "meta") != 0)
		return STORE_ERROR;
	snprintf(n, sizeof(n), "%lld", (long long)now);
	snprintf(ttl, sizeof(ttl), "%lld", st->conf.sender_ttl * 1000);
	argv[0] = sk;
	argv[1] = mk;
	argv[2] = n;
	argv[3] = ttl;
	rep = run_script(st, SC_RELEASE, 2, 4, argv, NULL, &rc);
	if (rep != NULL)
		freeReplyObject(rep);
	return rc;
}

static int
rd_supp_put(struct store *st, const char *addr, const struct store_supp *s)
{
	char k[REDIS_KEY_MAX], v[STORE_REC_MAX], ttl[24];
	const char *argv[5];
	redisReply *rep;
	int rc, n, argc = 3;

	if (supkey(st, k, addr) != 0 || (n = supp_encode(s, v, sizeof(v))) < 0)
		return STORE_ERROR;
	argv[0] = "SET";
	argv[1] = k;
	argv[2] = v;
	if (s->expires != 0) {
		snprintf(ttl, sizeof(ttl), "%lld", (long long)((s->expires > s->created ?
		    s->expires - s->created : 1) * 1000));
		argv[3] = "PX";
		argv[4] = ttl;
		argc = 5;
	}
	if ((rep = run(st, argc, argv, NULL, &rc)) == NULL)
		return rc;
	if (rep->type == REDIS_REPLY_ERROR)
		rc = STORE_ERROR;
	freeReplyObject(rep);
	return rc;
}

static int
rd_supp_get(struct store *st, const char *addr, struct store_supp *out)
{
	char k[REDIS_KEY_MAX];
	const char *argv[2] = { "GET", k };
	redisReply *rep;
	int rc;

	if (supkey(st, k, addr) != 0)
		return STORE_NOTFOUND;
	if ((rep = run_string(st, 2, argv, &rc)) == NULL)
		return rc;
	if (supp_decode(rep->str, rep->len, out) != 0)
		rc = STORE_ERROR;
	freeReplyObject(rep);
	return rc;
}

static int
rd_supp_del(struct store *st, const char *addr)
{
	char k[REDIS_KEY_MAX];
	const char *argv[2] = { "DEL", k };
	redisReply *rep;
	int rc;

	if (supkey(st, k, addr) != 0)
		return STORE_NOTFOUND;
	if ((rep = run(st, 2, argv, NULL, &rc)) == NULL)
		return rc;
	if (rep->type != REDIS_REPLY_INTEGER)
		rc = STORE_ERROR;
	else if (rep->integer == 0)
		rc = STORE_NOTFOUND;
	freeReplyObject(rep);
	return rc;
}

struct supp_each_arg {
	store_supp_cb	*cb;
	void		*arg;
	int64_t		 now;
};

static int
supp_each_fn(struct store *st, const char *rkey, size_t len, void *arg)
{
	struct supp_each_arg *a = arg;
	size_t pl = strlen(st->conf.key_prefix) + strlen(":sup:{");
	char addr[STORE_ADDR_MAX];
	struct store_supp s;

	if (len < pl + 1 || len - pl - 1 >= sizeof(addr))
		return 0;
	memcpy(addr, rkey + pl, len - pl - 1);
	addr[len - pl - 1] = '\0';
	if (rd_supp_get(st, addr, &s) != STORE_OK ||
	    store_expired_supp(st, &s, a->now))
		return 0;
	return a->cb(a->arg, addr, &s) != 0;
}

static int
rd_supp_each(struct store *st, int64_t now, store_supp_cb *cb, void *arg)
{
	char pat[REDIS_KEY_MAX], pe[256];
	struct supp_each_arg a = { cb, arg, now };

	glob_escape(pe, sizeof(pe), st->conf.key_prefix);
	snprintf(pat, sizeof(pat), "%s:sup:{*}", pe);
	return scan_keys(st, pat, supp_each_fn, &a);
}

/* P:{ADDRKEY}:auth = "WHEN\tTARGET", PEXPIRE sender_ttl. */
static int
rd_link_put(struct store *st, const char *from, const char *to, int64_t now)
{
	char k[REDIS_KEY_MAX], v[SENDER_KEY_MAX + 32], ttl[24];
	const char *argv[5] = { "SET", k, v, "PX", ttl };
	redisReply *rep;
	int rc;

	if (skey(st, k, from, "auth") != 0)
		return STORE_ERROR;
	snprintf(v, sizeof(v), "%lld\t%s", (long long)now, to);
	snprintf(ttl, sizeof(ttl), "%lld", st->conf.sender_ttl * 1000);
	if ((rep = run(st, 5, argv, NULL, &rc)) == NULL)
		return rc;
	if (rep->type == REDIS_REPLY_ERROR)
		rc = STORE_ERROR;
	freeReplyObject(rep);
	return rc;
}

static int
rd_link_get(struct store *st, const char *from, int64_t *when, char *out,
    size_t outlen)
{
	char k[REDIS_KEY_MAX];
	const char *argv[2] = { "GET", k }, *tab;
	redisReply *rep;
	int rc;

	if (skey(st, k, from, "auth") != 0)
		return STORE_ERROR;
	if ((rep = run_string(st, 2, argv, &rc)) == NULL)
		return rc;
	if ((tab = memchr(rep->str, '\t', rep->len)) == NULL ||
	    (size_t)(rep->str + rep->len - tab) > outlen)
		rc = STORE_ERROR;
	else {
		*when = strtoll(rep->str, NULL, 10);
		memcpy(out, tab + 1, (size_t)(rep->str + rep->len - tab - 1));
		out[rep->str + rep->len - tab - 1] = '\0';
	}
	freeReplyObject(rep);
	return rc;
}

static int
rd_rate_take(struct store *st, const char *key, const char *name,
    int64_t now_ms, const struct rate *r, int64_t init_tat, int *allowed,
    int64_t *retry_ms)
{
	char k[REDIS_KEY_MAX], sfx[STORE_ADDR_MAX + 8], n[24], iv[24], b[24], it[24];
	const char *argv[5];
	redisReply *rep;
	int rc;

	snprintf(sfx, sizeof(sfx), "rt:%s", name);
	if (skey(st, k, key, sfx) != 0)
		return STORE_ERROR;
	snprintf(n, sizeof(n), "%lld", (long long)now_ms);
	snprintf(iv, sizeof(iv), "%lld", (long long)r->interval_ms);
	snprintf(b, sizeof(b), "%lld", (long long)r->burst);
	snprintf(it, sizeof(it), "%lld", (long long)init_tat);
	argv[0] = k;
	argv[1] = n;
	argv[2] = iv;
	argv[3] = b;
	argv[4] = it;
	if ((rep = run_script(st, SC_RATE, 1, 5, argv, NULL, &rc)) == NULL)
		return rc;
	if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2) {
		*allowed = num(rep->element[0]) != 0;
		if (retry_ms != NULL)
			*retry_ms = num(rep->element[1]);
	} else
		rc = STORE_ERROR;
	freeReplyObject(rep);
	return rc;
}

/* ---- the ledger ---- */

static int
lkey(struct store *st, char *out, const char *kind, const char *id)
{
	int n = snprintf(out, REDIS_KEY_MAX, "%s:{ledger}:%s%s", st->conf.key_prefix,
	    kind, id);

	return n > 0 && n < REDIS_KEY_MAX ? 0 : -1;
}

static int
rd_ledger_put(struct store *st, const struct ledger_entry *e, const char *rec,
    size_t reclen)
{
	char mk[REDIS_KEY_MAX], qk[REDIS_KEY_MAX], tk[REDIS_KEY_MAX], pfx[REDIS_KEY_MAX];
	char when[24], ttl[24], max[24], oldest[24];
	const char *argv[10];
	size_t lens[10];
	redisReply *rep;
	int rc, i;

	qk[0] = '\0';
	if (lkey(st, mk, "m:", e->msgid) != 0 || lkey(st, tk, "t", "") != 0 ||
	    lkey(st, pfx, "m:", "") != 0 ||
	    (e->qid[0] != '\0' && lkey(st, qk, "q:", e->qid) != 0))
		return STORE_ERROR;
	snprintf(when, sizeof(when), "%lld", (long long)e->when);
	snprintf(ttl, sizeof(ttl), "%lld", st->conf.ledger.ttl * 1000);
	snprintf(max, sizeof(max), "%lld", st->conf.ledger.max_entries);
	snprintf(oldest, sizeof(oldest), "%lld", (long long)(e->when - st->conf.ledger.ttl));
	argv[0] = mk;
	argv[1] = qk;
	argv[2] = tk;
	argv[3] = rec;
	argv[4] = e->msgid;
	argv[5] = when;
	argv[6] = ttl;
	argv[7] = max;
	argv[8] = oldest;
	argv[9] = pfx;
	for (i = 0; i < 10; i++)
		lens[i] = i == 3 ? reclen : strlen(argv[i]);
	rep = run_script(st, SC_LEDGER, 3, 10, argv, lens, &rc);
	if (rep != NULL)
		freeReplyObject(rep);
	return rc;
}

/* GET key into a malloc'd string (caller frees). */
static int
get_str(struct store *st, const char *key, char **out, size_t *len)
{
	const char *argv[2] = { "GET", key };
	redisReply *rep;
	int rc;

	*out = NULL;
	if ((rep = run_string(st, 2, argv, &rc)) == NULL)
		return rc;
	if ((*out = malloc(rep->len + 1)) == NULL)
		rc = STORE_ERROR;
	else {
		memcpy(*out, rep->str, rep->len);
		(*out)[rep->len] = '\0';
		*len = rep->len;
	}
	freeReplyObject(rep);
	return rc;
}

static int
rd_ledger_get(struct store *st, const char *msgid, struct ledger_entry *out)
{
	char k[REDIS_KEY_MAX], *v;
	size_t len = 0;
	int rc;

	if (lkey(st, k, "m:", msgid) != 0)
		return STORE_NOTFOUND;
	if ((rc = get_str(st, k, &v, &len)) != STORE_OK)
		return rc;
	rc = ledger_decode(v, len, out) == 0 ? STORE_OK : STORE_ERROR;
	free(v);
	return rc;
}

static int
rd_ledger_qid(struct store *st, const char *qid, char *msgid, size_t msgidlen)
{
	char k[REDIS_KEY_MAX], *v;
	size_t len = 0;
	int rc;

	if (lkey(st, k, "q:", qid) != 0)
		return STORE_NOTFOUND;
	if ((rc = get_str(st, k, &v, &len)) != STORE_OK)
		return rc;
	if (len == 0 || len >= msgidlen || memchr(v, '\0', len) != NULL)
		rc = STORE_ERROR;
	else
		memcpy(msgid, v, len + 1);
	free(v);
	return rc;
}

static int
rd_ledger_once(struct store *st, const char *marker, int64_t now, int *first)
{
	char k[REDIS_KEY_MAX], when[24], ttl[24];
	const char *argv[6] = { "SET", k, when, "NX", "PX", ttl };
	redisReply *rep;
	int rc;

	*first = 0;
	if (lkey(st, k, "x:", marker) != 0)
		return STORE_ERROR;
	snprintf(when, sizeof(when), "%lld", (long long)now);
	snprintf(ttl, sizeof(ttl), "%lld", st->conf.ledger.ttl * 1000);
	if ((rep = run(st, 6, argv, NULL, &rc)) == NULL)
		return rc;
	if (rep->type == REDIS_REPLY_STATUS)
		*first = 1;
	else if (rep->type != REDIS_REPLY_NIL)
		rc = STORE_ERROR;
	freeReplyObject(rep);
	return rc;
}

static int
rd_flush(struct store *st)
{
	(void)st;
	return STORE_OK;	/* every write is applied when made */
}

static void
rd_close(struct store *st)
{
	struct redis *r = R(st);
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nidle; i++)
		redisFree(r->idle[i]);
	free(r->idle);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	free(r);
	st->impl = NULL;
}

static int
rd_open(struct store *st, char *err, size_t errlen)
{
	struct redis *r;
	const char *a = st->conf.redis, *colon;

	if (a == NULL || *a == '\0' || st->conf.key_prefix == NULL) {
		snprintf(err, errlen, "redis: no address");
		return -1;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->idle = calloc((size_t)st->conf.redis_pool, sizeof(*r->idle))) == NULL) {
		free(r);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	st->impl = r;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	r->max = (size_t)st->conf.redis_pool;
	if (strncmp(a, "unix:", 5) == 0) {
		r->is_unix = 1;
		snprintf(r->host, sizeof(r->host), "%s", a + 5);
	} else {
		colon = strrchr(a, ':');
		if (colon == NULL || colon == a || (r->port = atoi(colon + 1)) <= 0 ||
		    r->port > 65535) {
			snprintf(err, errlen, "redis: address \"%s\" is not HOST:PORT or unix:PATH", a);
			rd_close(st);
			return -1;
		}
		if (*a == '[' && colon[-1] == ']')
			snprintf(r->host, sizeof(r->host), "%.*s", (int)(colon - a - 2), a + 1);
		else
			snprintf(r->host, sizeof(r->host), "%.*s", (int)(colon - a), a);
	}
	return 0;
}

/* ---- follower cursors ---- */

/* "PREFIX:cur:{NAME}", no expiry: a cursor lives as long as its follower. */
static int
curkey(struct store *st, char *out, const char *name)
{
	int n = snprintf(out, REDIS_KEY_MAX, "%s:cur:{%s}", st->conf.key_prefix, name);

	return n > 0 && n < REDIS_KEY_MAX ? 0 : -1;
}

static int
rd_cursor_put(struct store *st, const char *name, const char *rec, size_t len)
{
	char k[REDIS_KEY_MAX];
	const char *argv[3] = { "SET", k, rec };
	size_t lens[3];
	redisReply *rep;
	int rc;

	if (curkey(st, k, name) != 0)
		return STORE_ERROR;
	lens[0] = 3;
	lens[1] = strlen(k);
	lens[2] = len;
	if ((rep = run(st, 3, argv, lens, &rc)) == NULL)
		return rc;
	if (rep->type == REDIS_REPLY_ERROR)
		rc = STORE_ERROR;
	freeReplyObject(rep);
	return rc;
}

static int
rd_cursor_get(struct store *st, const char *name, char *out, size_t outlen,
    size_t *len)
{
	char k[REDIS_KEY_MAX];
	const char *argv[2] = { "GET", k };
	redisReply *rep;
	int rc;

	if (curkey(st, k, name) != 0)
		return STORE_NOTFOUND;
	if ((rep = run_string(st, 2, argv, &rc)) == NULL)
		return rc;
	if (rep->len >= outlen)
		rc = STORE_ERROR;
	else {
		memcpy(out, rep->str, rep->len);
		out[rep->len] = '\0';
		*len = rep->len;
	}
	freeReplyObject(rep);
	return rc;
}

static void
rd_health(struct store *st, struct store_health *h)
{
	struct redis *r = R(st);
	int64_t now = mono_ms();

	pthread_mutex_lock(&r->mu);
	h->down = r->down;
	h->backoff_ms = r->down ? r->backoff : 0;
	h->next_probe_ms = r->down && r->next_try > now ? r->next_try - now : 0;
	h->outages = r->n_outages;
	h->probes = r->n_probes;
	h->probe_failures = r->n_probe_fail;
	h->probe_overlaps = r->n_overlap;
	h->backoff_steps = r->n_steps;
	h->recoveries = r->n_recover;
	pthread_mutex_unlock(&r->mu);
}

const struct store_ops store_redis_ops = {
	.name = "redis",
	.open = rd_open,
	.close = rd_close,
	.flush = rd_flush,
	.event_add = rd_event_add,
	.event_scan = rd_event_scan,
	.meta_touch = rd_meta_touch,
	.meta_get = rd_meta_get,
	.meta_each = rd_meta_each,
	.status_put = rd_status_put,
	.status_get = rd_status_get,
	.status_each = rd_status_each,
	.release = rd_release,
	.supp_put = rd_supp_put,
	.supp_get = rd_supp_get,
	.supp_del = rd_supp_del,
	.supp_each = rd_supp_each,
	.link_put = rd_link_put,
	.link_get = rd_link_get,
	.rate_take = rd_rate_take,
	.ledger_put = rd_ledger_put,
	.ledger_get = rd_ledger_get,
	.ledger_qid = rd_ledger_qid,
	.ledger_once = rd_ledger_once,
	.health = rd_health,
	.cursor_put = rd_cursor_put,
	.cursor_get = rd_cursor_get,
};
