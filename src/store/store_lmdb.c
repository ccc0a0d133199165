/*
 * store_lmdb.c - the embedded state store backend (LMDB).
 *
 * One environment (data.mdb, lock.mdb) in the state directory with six
 * named databases: "ev" (event buckets, key = sender key NUL bucket as 8
 * big-endian bytes), "meta", "st" (key = sender key NUL destination),
 * "sup" (key = address), "rate" (key = sender key NUL bucket name) and
 * "link" (key = "env:ADDRESS", value = when + "auth:LOGIN"), and three for
 * the ledger: "lg" (key "m:MESSAGE-ID" = the encoded entry, "q:QUEUE-ID" =
 * the Message-ID), "lgt" (key = when as 8 big-endian bytes + Message-ID:
 * the entries in time order, oldest first) and "lgx" (key = one-time
 * marker, value = when).
 *
 * Writes come in two kinds.
 *  - Durable (statuses, releases, suppressions): the calling thread commits
 *    its own write transaction; LMDB's commit is synchronous, so the record
 *    is on disk when the call returns.
 *  - Counters (events, meta touches, rate state, links) and ledger
 *    entries: queued in memory and
 *    applied by one writer thread per process in one transaction per
 *    commit_interval_ms (group commit). The caller never waits on fsync.
 *    Reads in this process add the queued counters to what they read, so a
 *    count includes the failure recorded a moment ago. To add exactly once,
 *    a reader starts its read transaction under the queue lock and skips the
 *    in-flight batch when its snapshot already contains that batch's
 *    transaction id.
 *
 * Readers never block on writers (MVCC); MDB_NOTLS lets any thread use a
 * read transaction. The only wait is map growth: on MDB_MAP_FULL the map is
 * doubled (up to map_max) with mdb_env_set_mapsize, which LMDB allows only
 * with no transaction open in the process, so every transaction runs under
 * a read lock of `resize` and growth takes it exclusively. Another process
 * growing the map shows up as MDB_MAP_RESIZED and is adopted. Stale reader
 * slots of dead processes are cleared at open (mdb_reader_check).
 *
 * Expiry (the rules: store_expire.c): reads ignore expired records
 * (store.c), iterators skip them, and the writer thread deletes
 * at most sweep_batch expired records per database per commit, resuming
 * where the previous sweep stopped. Ledger entries leave in time order:
 * after each batch the writer deletes, oldest first, the entries past
 * ledger.ttl and those beyond ledger.max_entries (with their queue-id
 * index); one-time markers ("lgx") and stale queue-id records are swept.
 * One-time markers are durable writes (a synchronous transaction).
 *
 * Rate buckets (GCRA) are taken in an in-memory table under one mutex and
 * written behind through the queue, so a restart keeps them. Only the
 * daemon takes tokens; egressctl only reads.
 *
 * Limits: LMDB keys are at most 511 bytes (sender key + destination must
 * fit); queue_max queued counters, beyond which counters are dropped and
 * that is logged (never blocking the mail path).
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "egress/store.h"
#include "egress/sender.h"
#include "store_int.h"

#define LMDB_KEY_MAX		511
#define LMDB_RATE_TABLE_MAX	100000	/* in-memory buckets before a purge */
#define LMDB_RATE_HASH		4096
#define LMDB_GROW_TRIES		16
#define META_VERSION		1
#define PEND_HASH		4096	/* pending-index buckets */

enum op_type { OP_EVENT, OP_META, OP_RATE, OP_LINK, OP_LEDGER, OP_LEDGER_Q };

#define NSWEEP	8	/* databases the sweep visits */

struct op {
	struct op	*next;
	struct op	*hnext;		/* same-key chain in the pending index */
	enum op_type	 type;
	int64_t		 t;		/* bucket, now, or tat (ms) */
	unsigned	 messages;
	unsigned	 failures;
	size_t		 keylen;	/* encoded LMDB key */
	size_t		 nfields;
	size_t		 datalen;	/* fields, NUL-separated */
	char		 buf[];		/* key then fields */
};

struct rate_ent {
	struct rate_ent	*next;
	int64_t		 tat;
	size_t		 keylen;
	char		 key[];
};

struct meta_rec {
	uint32_t	version;
	uint32_t	pad;
	int64_t		first_seen, last_seen, last_failure, released_at;
	uint64_t	messages, failures;
};

struct lmdb {
	MDB_env		*env;
	MDB_dbi		 ev, meta, st, sup, rate, link, lg, lgt, lgx;
	MDB_dbi		 cur;		/* follower cursors (never swept) */
	pthread_rwlock_t resize;

	pthread_mutex_t	 mu;		/* queue, inflight, generations */
	pthread_cond_t	 wake;		/* writer waits */
	pthread_cond_t	 done;		/* flushers wait */
	struct op	*qhead, *qtail;
	size_t		 qlen;
	struct op	*inflight;
	size_t		 inflight_txnid;	/* 0: not yet in a txn */
	/* pending index by sender key: queued and in-flight ops */
	struct op	**qidx, **fidx;
	uint64_t	 gen_queued, gen_done;
	int		 flushing;
	int		 stop;
	int		 dropping;	/* logged the drop once */
	pthread_t	 writer;
	int		 writer_started;

	pthread_mutex_t	 ratemu;
	struct rate_ent	*ratetab[LMDB_RATE_HASH];
	size_t		 nrate;

	/* sweep positions, writer thread only */
	char		 sweep_pos[NSWEEP][LMDB_KEY_MAX + 1];
	size_t		 sweep_len[NSWEEP];
};

#define L(st)	((struct lmdb *)(st)->impl)

/* ---- helpers ---- */

static int64_t
wall_now(void)
{
	return (int64_t)time(NULL);
}

static int
map_rc(int rc)
{
	if (rc == 0)
		return STORE_OK;
	if (rc == MDB_NOTFOUND)
		return STORE_NOTFOUND;
	return STORE_ERROR;
}

static size_t
key2(char *out, const char *a, const char *b, size_t blen)
{
	size_t al = strlen(a);

	if (al + 1 + blen > LMDB_KEY_MAX)
		return 0;
	memcpy(out, a, al);
	out[al] = '\0';
	memcpy(out + al + 1, b, blen);
	return al + 1 + blen;
}

static void
be64_put(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

static uint64_t
be64_get(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* Event key: sender key NUL bucket (big-endian, offset so order is numeric). */
static size_t
ev_key(char *out, const char *key, int64_t bucket)
{
	unsigned char b[8];

	be64_put(b, (uint64_t)bucket ^ (1ULL << 63));
	return key2(out, key, (const char *)b, 8);
}

static int64_t
ev_key_bucket(const char *k, size_t klen)
{
	if (klen < 9)
		return 0;
	return (int64_t)(be64_get((const unsigned char *)k + klen - 8) ^ (1ULL << 63));
}

static void
st_log(struct store *st, int level, const char *what, int rc)
{
	store_logf(st, level, "lmdb: %s: %s", what, mdb_strerror(rc));
}

/* Index hash: the bytes of an op key up to its first NUL (the sender key). */
static uint32_t
pend_hash(const char *k, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n && k[i] != '\0'; i++) {
		h ^= (unsigned char)k[i];
		h *= 16777619u;
	}
	return h % PEND_HASH;
}

/* ---- transactions with map growth ---- */

static int
grow_map(struct store *st)
{
	struct lmdb *l = L(st);
	MDB_envinfo info;
	size_t nsize;
	int rc;

	pthread_rwlock_wrlock(&l->resize);
	mdb_env_info(l->env, &info);
	nsize = info.me_mapsize * 2;
	if ((long long)nsize > st->conf.map_max)
		nsize = (size_t)st->conf.map_max;
	if (nsize <= info.me_mapsize) {
		pthread_rwlock_unlock(&l->resize);
		store_logf(st, STORE_LOG_ERR, "lmdb: map full at map_max %lld bytes",
		    st->conf.map_max);
		return -1;
	}
	rc = mdb_env_set_mapsize(l->env, nsize);
	pthread_rwlock_unlock(&l->resize);
	if (rc != 0) {
		st_log(st, STORE_LOG_ERR, "set_mapsize", rc);
		return -1;
	}
	store_logf(st, STORE_LOG_INFO, "lmdb: map grown to %zu bytes", nsize);
	return 0;
}

static void
adopt_map(struct lmdb *l)
{
	pthread_rwlock_wrlock(&l->resize);
	(void)mdb_env_set_mapsize(l->env, 0);
	pthread_rwlock_unlock(&l->resize);
}

/* Begin a read transaction; on success the resize read lock is held. */
static int
rtxn_begin(struct store *st, MDB_txn **txn)
{
	struct lmdb *l = L(st);
	int rc, tries;

	for (tries = 0; tries < 4; tries++) {
		pthread_rwlock_rdlock(&l->resize);
		rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, txn);
		if (rc == 0)
			return 0;
		pthread_rwlock_unlock(&l->resize);
		if (rc != MDB_MAP_RESIZED)
			break;
		adopt_map(l);
	}
	st_log(st, STORE_LOG_ERR, "read txn", rc);
	return rc;
}

static void
rtxn_end(struct store *st, MDB_txn *txn)
{
	mdb_txn_abort(txn);
	pthread_rwlock_unlock(&L(st)->resize);
}

typedef int write_fn(struct store *, MDB_txn *, void *);

/* Run fn in a write transaction and commit (synchronously). MDB codes. */
static int
wtxn_run(struct store *st, write_fn *fn, void *arg)
{
	struct lmdb *l = L(st);
	MDB_txn *txn;
	int rc = 0, tries;

	for (tries = 0; tries < LMDB_GROW_TRIES; tries++) {
		pthread_rwlock_rdlock(&l->resize);
		rc = mdb_txn_begin(l->env, NULL, 0, &txn);
		if (rc == MDB_MAP_RESIZED) {
			pthread_rwlock_unlock(&l->resize);
			adopt_map(l);
			continue;
		}
		if (rc != 0) {
			pthread_rwlock_unlock(&l->resize);
			break;
		}
		rc = fn(st, txn, arg);
		if (rc == 0 || rc == MDB_NOTFOUND) {
			int crc = mdb_txn_commit(txn);

			if (crc != 0)
				rc = crc;
		} else
			mdb_txn_abort(txn);
		pthread_rwlock_unlock(&l->resize);
		if (rc == MDB_MAP_FULL) {
			if (grow_map(st) != 0)
				break;
			continue;
		}
		if (rc == MDB_MAP_RESIZED) {
			adopt_map(l);
			continue;
		}
		break;
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		st_log(st, STORE_LOG_ERR, "write txn", rc);
	return rc;
}

/* ---- record codecs ---- */

/* Event value: repeated [u16 len][name][u64 count]. */
typedef int ev_visit_fn(void *, const char *name, size_t len, uint64_t count);

static int
ev_walk(const unsigned char *p, size_t n, ev_visit_fn *fn, void *arg)
{
	size_t off = 0;
	uint16_t len;
	uint64_t cnt;

	while (off + 2 <= n) {
		memcpy(&len, p + off, 2);
		if (off + 2 + len + 8 > n)
			return -1;
		memcpy(&cnt, p + off + 2 + len, 8);
		if (fn(arg, (const char *)p + off + 2, len, cnt) != 0)
			return 1;
		off += 2 + (size_t)len + 8;
	}
	return 0;
}

static int
ev_append(struct buf *b, const char *name, size_t len, uint64_t cnt)
{
	uint16_t l16 = (uint16_t)len;

	if (buf_append(b, &l16, 2) != BUF_OK || buf_append(b, name, len) != BUF_OK ||
	    buf_append(b, &cnt, 8) != BUF_OK)
		return -1;
	return 0;
}

struct ev_merge {
	struct buf	 out;
	const char	*fields[STORE_FIELDS_MAX];
	size_t		 n;
	int		 seen[STORE_FIELDS_MAX];
	int		 err;
};

static int
ev_merge_visit(void *arg, const char *name, size_t len, uint64_t cnt)
{
	struct ev_merge *m = arg;
	size_t i;

	for (i = 0; i < m->n; i++)
		if (!m->seen[i] && strlen(m->fields[i]) == len &&
		    memcmp(m->fields[i], name, len) == 0) {
			m->seen[i] = 1;
			cnt++;
			break;
		}
	if (ev_append(&m->out, name, len, cnt) != 0)
		m->err = 1;
	return 0;
}

/* ---- applying queued ops (writer thread) ---- */

static int
apply_event(struct lmdb *l, MDB_txn *txn, const struct op *o)
{
	MDB_val k = { o->keylen, (void *)o->buf }, v;
	struct ev_merge m;
	const char *f = o->buf + o->keylen;
	size_t i;
	int rc;

	memset(&m, 0, sizeof(m));
	buf_init(&m.out, 1 << 20);
	m.n = o->nfields;
	for (i = 0; i < o->nfields; i++) {
		m.fields[i] = f;
		f += strlen(f) + 1;
	}
	rc = mdb_get(txn, l->ev, &k, &v);
	if (rc == 0)
		(void)ev_walk(v.mv_data, v.mv_size, ev_merge_visit, &m);
	else if (rc != MDB_NOTFOUND)
		goto out;
	for (i = 0; i < m.n; i++)
		if (!m.seen[i] && ev_append(&m.out, m.fields[i], strlen(m.fields[i]), 1) != 0)
			m.err = 1;
	if (m.err) {
		rc = ENOMEM;
		goto out;
	}
	v.mv_size = m.out.len;
	v.mv_data = m.out.data;
	rc = mdb_put(txn, l->ev, &k, &v, 0);
out:
	buf_fini(&m.out);
	return rc;
}

static void
meta_merge(struct meta_rec *r, int64_t now, unsigned messages, unsigned failures)
{
	if (r->first_seen == 0 || now < r->first_seen)
		r->first_seen = now;
	if (now > r->last_seen)
		r->last_seen = now;
	if (failures > 0 && now > r->last_failure)
		r->last_failure = now;
	r->messages += messages;
	r->failures += failures;
}

static int
meta_read(struct lmdb *l, MDB_txn *txn, const char *key, size_t klen,
    struct meta_rec *r)
{
	MDB_val k = { klen, (void *)key }, v;
	int rc;

	memset(r, 0, sizeof(*r));
	r->version = META_VERSION;
	rc = mdb_get(txn, l->meta, &k, &v);
	if (rc == 0) {
		if (v.mv_size != sizeof(*r))
			return MDB_CORRUPTED;
		memcpy(r, v.mv_data, sizeof(*r));
	}
	return rc;
}

static int
apply_meta(struct lmdb *l, MDB_txn *txn, const struct op *o)
{
	struct meta_rec r;
	MDB_val k = { o->keylen, (void *)o->buf }, v;
	int rc;

	rc = meta_read(l, txn, o->buf, o->keylen, &r);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	meta_merge(&r, o->t, o->messages, o->failures);
	v.mv_size = sizeof(r);
	v.mv_data = &r;
	return mdb_put(txn, l->meta, &k, &v, 0);
}

/* Link value: [int64 when][target key, NUL-terminated]. */
static int
apply_link(struct lmdb *l, MDB_txn *txn, const struct op *o)
{
	char v[sizeof(int64_t) + SENDER_KEY_MAX];
	MDB_val k = { o->keylen, (void *)o->buf }, mv;

	if (o->datalen > SENDER_KEY_MAX)
		return 0;
	memcpy(v, &o->t, sizeof(int64_t));
	memcpy(v + sizeof(int64_t), o->buf + o->keylen, o->datalen);
	mv.mv_size = sizeof(int64_t) + o->datalen;
	mv.mv_data = v;
	return mdb_put(txn, l->link, &k, &mv, 0);
}

static int
apply_rate(struct lmdb *l, MDB_txn *txn, const struct op *o)
{
	MDB_val k = { o->keylen, (void *)o->buf }, v = { sizeof(int64_t), (void *)&o->t };

	return mdb_put(txn, l->rate, &k, &v, 0);
}

static void	meta_out(const struct meta_rec *, struct store_meta *);

/* ---- the ledger (writer thread) ---- */

/* Time-index key: when (big-endian, offset so order is numeric) + msgid. */
static size_t
lgt_key(char *out, int64_t when, const char *msgid, size_t mlen)
{
	unsigned char b[8];

	if (8 + mlen > LMDB_KEY_MAX)
		return 0;
	be64_put(b, (uint64_t)when ^ (1ULL << 63));
	memcpy(out, b, 8);
	memcpy(out + 8, msgid, mlen);
	return 8 + mlen;
}

/* "q:QID" -> MSGID whose entry is gone or names another queue id. */
static int
ledger_q_stale(struct lmdb *l, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	char mk[LMDB_KEY_MAX];
	struct ledger_entry *e;
	MDB_val ek, ev;
	int stale;

	if (k->mv_size < 2 || memcmp(k->mv_data, "q:", 2) != 0)
		return 0;
	if (v->mv_size == 0 || v->mv_size + 2 > sizeof(mk))
		return 1;
	memcpy(mk, "m:", 2);
	memcpy(mk + 2, v->mv_data, v->mv_size);
	ek.mv_size = v->mv_size + 2;
	ek.mv_data = mk;
	if (mdb_get(txn, l->lg, &ek, &ev) != 0)
		return 1;
	if ((e = malloc(sizeof(*e))) == NULL)
		return 0;
	stale = ledger_decode(ev.mv_data, ev.mv_size, e) != 0 ||
	    strlen(e->qid) != k->mv_size - 2 ||
	    memcmp(e->qid, (char *)k->mv_data + 2, k->mv_size - 2) != 0;
	free(e);
	return stale;
}

/* Delete entry "m:msgid" (its queue id too, when it still points here). */
static int
ledger_drop(struct lmdb *l, MDB_txn *txn, const char *msgid, size_t mlen,
    struct ledger_entry *e)
{
	char k[LMDB_KEY_MAX];
	MDB_val mk, mv, qk, qv;
	int rc;

	if (mlen + 2 > sizeof(k))
		return 0;
	memcpy(k, "m:", 2);
	memcpy(k + 2, msgid, mlen);
	mk.mv_size = mlen + 2;
	mk.mv_data = k;
	if ((rc = mdb_get(txn, l->lg, &mk, &mv)) != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	if (ledger_decode(mv.mv_data, mv.mv_size, e) == 0 && e->qid[0] != '\0') {
		char q[LMDB_KEY_MAX];
		size_t ql = strlen(e->qid);

		memcpy(q, "q:", 2);
		memcpy(q + 2, e->qid, ql);
		qk.mv_size = ql + 2;
		qk.mv_data = q;
		if (mdb_get(txn, l->lg, &qk, &qv) == 0 && qv.mv_size == mlen &&
		    memcmp(qv.mv_data, msgid, mlen) == 0 &&
		    (rc = mdb_del(txn, l->lg, &qk, NULL)) != 0)
			return rc;
	}
	rc = mdb_del(txn, l->lg, &mk, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int
apply_ledger(struct lmdb *l, MDB_txn *txn, const struct op *o)
{
	MDB_val k = { o->keylen, (void *)o->buf }, v, tk, tv;
	const char *msgid = o->buf + 2;
	size_t mlen = o->keylen - 2;
	char t[LMDB_KEY_MAX];
	struct ledger_entry *e;
	int rc;

	if (o->type == OP_LEDGER_Q) {
		v.mv_size = o->datalen;
		v.mv_data = (void *)(o->buf + o->keylen);
		return mdb_put(txn, l->lg, &k, &v, 0);
	}
	if ((e = malloc(sizeof(*e))) == NULL)
		return ENOMEM;
	/* a Message-ID recorded again: its old place in time goes */
	rc = mdb_get(txn, l->lg, &k, &v);
	if (rc == 0 && ledger_decode(v.mv_data, v.mv_size, e) == 0 &&
	    (tk.mv_size = lgt_key(t, e->when, msgid, mlen)) > 0) {
		tk.mv_data = t;
		rc = mdb_del(txn, l->lgt, &tk, NULL);
		if (rc == MDB_NOTFOUND)
			rc = 0;
	} else if (rc == MDB_NOTFOUND || rc == 0)
		rc = 0;
	free(e);
	if (rc != 0)
		return rc;
	v.mv_size = o->datalen;
	v.mv_data = (void *)(o->buf + o->keylen);
	if ((rc = mdb_put(txn, l->lg, &k, &v, 0)) != 0)
		return rc;
	if ((tk.mv_size = lgt_key(t, o->t, msgid, mlen)) == 0)
		return 0;
	tk.mv_data = t;
	tv.mv_size = 1;
	tv.mv_data = (void *)"";
	return mdb_put(txn, l->lgt, &tk, &tv, 0);
}

/*
 * Oldest first: drop entries past the TTL, and entries beyond max_entries.
 * At most sweep_batch expired ones per commit; every excess one (a batch
 * adds at most queue_max entries, so the excess is bounded too).
 */
static int
ledger_evict(struct store *st, MDB_txn *txn, int64_t now)
{
	struct lmdb *l = L(st);
	struct ledger_entry *e;
	MDB_cursor *c;
	MDB_stat ms;
	MDB_val k, v;
	long long expired = 0;
	size_t n;
	int rc;

	if ((rc = mdb_stat(txn, l->lgt, &ms)) != 0)
		return rc;
	n = ms.ms_entries;
	if ((e = malloc(sizeof(*e))) == NULL)
		return ENOMEM;
	if ((rc = mdb_cursor_open(txn, l->lgt, &c)) != 0) {
		free(e);
		return rc;
	}
	rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	while (rc == 0 && k.mv_size >= 8) {
		int64_t when = (int64_t)(be64_get(k.mv_data) ^ (1ULL << 63));
		int over = (long long)n > st->conf.ledger.max_entries;

		if (!over && (!store_expired_ledger(st, when, now) ||
		    expired >= st->conf.sweep_batch))
			break;
		if (!over)
			expired++;
		if ((rc = ledger_drop(l, txn, (char *)k.mv_data + 8, k.mv_size - 8, e))
		    != 0 || (rc = mdb_cursor_del(c, 0)) != 0)
			break;
		n--;
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	free(e);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/*
 * Delete expired records of one database, at most sweep_batch examined;
 * what is expired is store_expire.c's to say.
 */
static int
sweep_db(struct store *st, MDB_txn *txn, int which, MDB_dbi dbi, int64_t now)
{
	struct lmdb *l = L(st);
	MDB_cursor *c;
	MDB_val k, v;
	long long n = 0;
	int rc, del;

	if ((rc = mdb_cursor_open(txn, dbi, &c)) != 0)
		return rc;
	k.mv_size = l->sweep_len[which];
	k.mv_data = l->sweep_pos[which];
	rc = k.mv_size > 0 ? mdb_cursor_get(c, &k, &v, MDB_SET_RANGE) :
	    mdb_cursor_get(c, &k, &v, MDB_FIRST);
	while (rc == 0 && n++ < st->conf.sweep_batch) {
		del = 0;
		switch (which) {
		case 0:
			del = store_expired_event(st, ev_key_bucket(k.mv_data, k.mv_size),
			    now);
			break;
		case 1: {
			struct meta_rec r;
			struct store_meta m;

			if (v.mv_size == sizeof(r)) {
				memcpy(&r, v.mv_data, sizeof(r));
				meta_out(&r, &m);
				del = store_expired_meta(st, &m, now);
			} else
				del = 1;
			break;
		}
		case 2: {
			struct sender_status s;

			del = status_decode(v.mv_data, v.mv_size, &s) != 0 ||
			    store_expired_status(st, &s, now);
			break;
		}
		case 3: {
			struct store_supp s;

			del = supp_decode(v.mv_data, v.mv_size, &s) != 0 ||
			    store_expired_supp(st, &s, now);
			break;
		}
		case 4: {
			int64_t tat;

			if (v.mv_size == sizeof(tat)) {
				memcpy(&tat, v.mv_data, sizeof(tat));
				del = store_expired_rate(st, tat, now);
			} else
				del = 1;
			break;
		}
		case 5: {
			int64_t when;

			/* WHEN, then the target with its NUL */
			if (v.mv_size > sizeof(when) &&
			    ((char *)v.mv_data)[v.mv_size - 1] == '\0') {
				memcpy(&when, v.mv_data, sizeof(when));
				del = store_expired_link(st, when,
				    (char *)v.mv_data + sizeof(when), now);
			} else
				del = 1;
			break;
		}
		case 6: {	/* lgx: one-time markers */
			int64_t when;

			if (v.mv_size == sizeof(when)) {
				memcpy(&when, v.mv_data, sizeof(when));
				del = store_expired_ledger(st, when, now);
			} else
				del = 1;
			break;
		}
		case 7:		/* lg: a queue id whose entry has gone */
			del = ledger_q_stale(l, txn, &k, &v);
			break;
		}
		if (del && (rc = mdb_cursor_del(c, 0)) != 0)
			break;
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	if (rc == 0) {
		l->sweep_len[which] = k.mv_size;
		memcpy(l->sweep_pos[which], k.mv_data, k.mv_size);
	} else
		l->sweep_len[which] = 0;	/* at the end: start over */
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

struct batch_arg {
	struct op	*ops;
};

static int
apply_batch(struct store *st, MDB_txn *txn, void *arg)
{
	struct lmdb *l = L(st);
	struct batch_arg *b = arg;
	const struct op *o;
	int64_t now = wall_now();
	int rc = 0;

	pthread_mutex_lock(&l->mu);
	l->inflight_txnid = mdb_txn_id(txn);
	pthread_mutex_unlock(&l->mu);
	for (o = b->ops; o != NULL && rc == 0; o = o->next) {
		switch (o->type) {
		case OP_EVENT: rc = apply_event(l, txn, o); break;
		case OP_META: rc = apply_meta(l, txn, o); break;
		case OP_RATE: rc = apply_rate(l, txn, o); break;
		case OP_LINK: rc = apply_link(l, txn, o); break;
		case OP_LEDGER:
		case OP_LEDGER_Q: rc = apply_ledger(l, txn, o); break;
		}
	}
	if (rc == 0)
		rc = ledger_evict(st, txn, now);
	if (rc == 0 && st->conf.sweep_batch > 0) {
		MDB_dbi dbis[NSWEEP] = { l->ev, l->meta, l->st, l->sup, l->rate,
		    l->link, l->lgx, l->lg };
		int i;

		for (i = 0; i < NSWEEP && rc == 0; i++)
			rc = sweep_db(st, txn, i, dbis[i], now);
	}
	if (rc != 0) {
		pthread_mutex_lock(&l->mu);
		l->inflight_txnid = 0;
		pthread_mutex_unlock(&l->mu);
	}
	return rc;
}

static void
ops_free(struct op *o)
{
	struct op *n;

	for (; o != NULL; o = n) {
		n = o->next;
		free(o);
	}
}

static void *
writer_main(void *arg)
{
	struct store *st = arg;
	struct lmdb *l = L(st);
	struct batch_arg b;
	struct timespec ts;
	uint64_t gen;
	int rc;

	pthread_mutex_lock(&l->mu);
	for (;;) {
		while (l->qhead == NULL && !l->stop)
			pthread_cond_wait(&l->wake, &l->mu);
		if (l->qhead == NULL && l->stop)
			break;
		/* group commit: gather for one interval unless someone waits */
		if (!l->flushing && !l->stop) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += (long)(st->conf.commit_interval_ms % 1000) * 1000000L;
			ts.tv_sec += (time_t)(st->conf.commit_interval_ms / 1000) +
			    ts.tv_nsec / 1000000000L;
			ts.tv_nsec %= 1000000000L;
			while (!l->flushing && !l->stop &&
			    pthread_cond_timedwait(&l->wake, &l->mu, &ts) == 0)
				;
		}
		b.ops = l->qhead;
		l->inflight = l->qhead;
		l->inflight_txnid = 0;
		l->qhead = l->qtail = NULL;
		{
			struct op **t = l->fidx;

			l->fidx = l->qidx;
			l->qidx = t;	/* emptied after the previous commit */
		}
		l->qlen = 0;
		gen = l->gen_queued;
		pthread_mutex_unlock(&l->mu);

		rc = wtxn_run(st, apply_batch, &b);
		if (rc != 0)
			store_logf(st, STORE_LOG_ERR,
			    "lmdb: counter batch lost: %s", mdb_strerror(rc));

		pthread_mutex_lock(&l->mu);
		l->inflight = NULL;
		l->inflight_txnid = 0;
		memset(l->fidx, 0, PEND_HASH * sizeof(*l->fidx));
		l->gen_done = gen;
		pthread_cond_broadcast(&l->done);
		pthread_mutex_unlock(&l->mu);
		ops_free(b.ops);
		pthread_mutex_lock(&l->mu);
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

static int
enqueue(struct store *st, struct op *o)
{
	struct lmdb *l = L(st);

	pthread_mutex_lock(&l->mu);
	if ((long long)l->qlen >= st->conf.queue_max) {
		int first = !l->dropping;

		l->dropping = 1;
		pthread_mutex_unlock(&l->mu);
		free(o);
		if (first)
			store_logf(st, STORE_LOG_WARNING,
			    "lmdb: counter queue full (%lld): dropping counter updates",
			    st->conf.queue_max);
		return STORE_OK;	/* counters are best effort */
	}
	l->dropping = 0;
	o->next = NULL;
	if (l->qtail != NULL)
		l->qtail->next = o;
	else
		l->qhead = o;
	l->qtail = o;
	{
		uint32_t h = pend_hash(o->buf, o->keylen);

		o->hnext = l->qidx[h];
		l->qidx[h] = o;
	}
	l->qlen++;
	l->gen_queued++;
	if (l->qlen == 1)
		pthread_cond_signal(&l->wake);
	pthread_mutex_unlock(&l->mu);
	return STORE_OK;
}

static struct op *
op_new(enum op_type type, const char *k, size_t klen, size_t datalen)
{
	struct op *o;

	if ((o = calloc(1, sizeof(*o) + klen + datalen)) == NULL)
		return NULL;
	o->type = type;
	o->keylen = klen;
	o->datalen = datalen;
	memcpy(o->buf, k, klen);
	return o;
}

/*
 * Start a read transaction and collect the queued ops of kind `type` with
 * this key prefix that the snapshot does not contain. *pend is a
 * malloc'd array of pointers to copies (caller frees with pend_free).
 */
struct pending {
	struct op	**v;
	size_t		  n;
};

static void
pend_free(struct pending *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
	p->v = NULL;
	p->n = 0;
}

static int
pend_match(const struct op *o, enum op_type type, const char *key, size_t klen,
    int prefix)
{
	if (o->type != type)
		return 0;
	if (prefix)
		return o->keylen >= klen && memcmp(o->buf, key, klen) == 0;
	return o->keylen == klen && memcmp(o->buf, key, klen) == 0;
}

static int
rtxn_begin_pending(struct store *st, MDB_txn **txn, enum op_type type,
    const char *key, size_t klen, int prefix, struct pending *pend)
{
	struct lmdb *l = L(st);
	const struct op *o;
	size_t cap = 0, rid;
	uint32_t h = pend_hash(key, klen);
	int rc, pass;

	memset(pend, 0, sizeof(*pend));
	/* lock order everywhere: resize, then mu */
	for (pass = 0;; pass++) {
		pthread_rwlock_rdlock(&l->resize);
		pthread_mutex_lock(&l->mu);
		rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, txn);
		if (rc == 0)
			break;
		pthread_mutex_unlock(&l->mu);
		pthread_rwlock_unlock(&l->resize);
		if (rc != MDB_MAP_RESIZED || pass > 3) {
			st_log(st, STORE_LOG_ERR, "read txn", rc);
			return rc;
		}
		adopt_map(l);
	}
	rid = mdb_txn_id(*txn);
	for (pass = 0; pass < 2; pass++) {
		o = pass == 0 ? l->fidx[h] : l->qidx[h];
		if (pass == 0 && l->inflight_txnid != 0 && rid >= l->inflight_txnid)
			continue;	/* the snapshot has this batch */
		for (; o != NULL; o = o->hnext) {
			struct op *c;

			if (!pend_match(o, type, key, klen, prefix))
				continue;
			if (pend->n == cap) {
				struct op **nv;

				cap = cap ? cap * 2 : 16;
				if ((nv = realloc(pend->v, cap * sizeof(*nv))) == NULL)
					goto nomem;
				pend->v = nv;
			}
			if ((c = malloc(sizeof(*c) + o->keylen + o->datalen)) == NULL)
				goto nomem;
			memcpy(c, o, sizeof(*c) + o->keylen + o->datalen);
			c->next = NULL;
			pend->v[pend->n++] = c;
		}
	}
	pthread_mutex_unlock(&l->mu);
	return 0;
nomem:
	pthread_mutex_unlock(&l->mu);
	rtxn_end(st, *txn);
	pend_free(pend);
	return ENOMEM;
}

/* ---- backend ops ---- */

static int
lm_event_add(struct store *st, const char *key, int64_t bucket,
    const char *const *fields, size_t n)
{
	char k[LMDB_KEY_MAX];
	size_t klen, i, dl = 0;
	struct op *o;
	char *p;

	if ((klen = ev_key(k, key, bucket)) == 0)
		return STORE_ERROR;
	for (i = 0; i < n; i++)
		dl += strlen(fields[i]) + 1;
	if ((o = op_new(OP_EVENT, k, klen, dl)) == NULL)
		return STORE_ERROR;
	o->t = bucket;
	o->nfields = n;
	p = o->buf + klen;
	for (i = 0; i < n; i++) {
		size_t fl = strlen(fields[i]) + 1;

		memcpy(p, fields[i], fl);
		p += fl;
	}
	return enqueue(st, o);
}

struct scan_visit {
	store_event_cb	*cb;
	void		*arg;
	int64_t		 bucket;
	int		 stop;
};

static int
scan_visit_fn(void *arg, const char *name, size_t len, uint64_t cnt)
{
	struct scan_visit *sv = arg;
	char f[STORE_FIELD_MAX];

	if (len >= sizeof(f) || cnt == 0)
		return 0;
	memcpy(f, name, len);
	f[len] = '\0';
	if (sv->cb(sv->arg, sv->bucket, f, cnt) != 0) {
		sv->stop = 1;
		return 1;
	}
	return 0;
}

static int
lm_event_scan(struct store *st, const char *key, int64_t from, int64_t to,
    store_event_cb *cb, void *arg)
{
	struct lmdb *l = L(st);
	char k[LMDB_KEY_MAX];
	size_t klen, plen = strlen(key) + 1, i;
	struct pending pend;
	struct scan_visit sv = { cb, arg, 0, 0 };
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val mk, mv;
	int rc;

	if ((klen = ev_key(k, key, from)) == 0)
		return STORE_ERROR;
	if (rtxn_begin_pending(st, &txn, OP_EVENT, k, plen, 1, &pend) != 0)
		return STORE_ERROR;
	if ((rc = mdb_cursor_open(txn, l->ev, &c)) != 0)
		goto out;
	mk.mv_size = klen;
	mk.mv_data = k;
	rc = mdb_cursor_get(c, &mk, &mv, MDB_SET_RANGE);
	while (rc == 0 && !sv.stop) {
		if (mk.mv_size != plen + 8 || memcmp(mk.mv_data, k, plen) != 0)
			break;
		sv.bucket = ev_key_bucket(mk.mv_data, mk.mv_size);
		if (sv.bucket > to)
			break;
		(void)ev_walk(mv.mv_data, mv.mv_size, scan_visit_fn, &sv);
		rc = mdb_cursor_get(c, &mk, &mv, MDB_NEXT);
	}
	mdb_cursor_close(c);
	rc = 0;
	/* queued increments not in the snapshot yet */
	for (i = 0; i < pend.n && !sv.stop; i++) {
		const struct op *o = pend.v[i];
		const char *f = o->buf + o->keylen;
		size_t j;

		if (o->keylen != plen + 8 || o->t < from || o->t > to)
			continue;
		for (j = 0; j < o->nfields && !sv.stop; j++) {
			if (cb(arg, o->t, f, 1) != 0)
				sv.stop = 1;
			f += strlen(f) + 1;
		}
	}
out:
	rtxn_end(st, txn);
	pend_free(&pend);
	return rc == 0 ? STORE_OK : STORE_ERROR;
}

static int
lm_meta_touch(struct store *st, const char *key, int64_t now,
    unsigned messages, unsigned failures)
{
	struct op *o;

	if ((o = op_new(OP_META, key, strlen(key), 0)) == NULL)
		return STORE_ERROR;
	o->t = now;
	o->messages = messages;
	o->failures = failures;
	return enqueue(st, o);
}

static void
meta_out(const struct meta_rec *r, struct store_meta *out)
{
	out->first_seen = r->first_seen;
	out->last_seen = r->last_seen;
	out->last_failure = r->last_failure;
	out->released_at = r->released_at;
	out->messages = r->messages;
	out->failures = r->failures;
}

static int
lm_meta_get(struct store *st, const char *key, struct store_meta *out)
{
	struct pending pend;
	struct meta_rec r;
	MDB_txn *txn;
	size_t klen = strlen(key), i;
	int rc;

	if (rtxn_begin_pending(st, &txn, OP_META, key, klen, 0, &pend) != 0)
		return STORE_ERROR;
	rc = meta_read(L(st), txn, key, klen, &r);
	rtxn_end(st, txn);
	if (rc != 0 && rc != MDB_NOTFOUND) {
		pend_free(&pend);
		return STORE_ERROR;
	}
	for (i = 0; i < pend.n; i++)
		meta_merge(&r, pend.v[i]->t, pend.v[i]->messages, pend.v[i]->failures);
	if (rc == MDB_NOTFOUND && pend.n > 0)
		rc = 0;
	pend_free(&pend);
	if (rc != 0)
		return STORE_NOTFOUND;
	meta_out(&r, out);
	return STORE_OK;
}

static int
lm_meta_each(struct store *st, int64_t now, store_meta_cb *cb, void *arg)
{
	struct lmdb *l = L(st);
	char key[SENDER_KEY_MAX];
	struct store_meta m;
	struct meta_rec r;
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	if (rtxn_begin(st, &txn) != 0)
		return STORE_ERROR;
	if ((rc = mdb_cursor_open(txn, l->meta, &c)) == 0) {
		rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
		while (rc == 0) {
			if (v.mv_size == sizeof(r) && k.mv_size < sizeof(key)) {
				memcpy(&r, v.mv_data, sizeof(r));
				memcpy(key, k.mv_data, k.mv_size);
				key[k.mv_size] = '\0';
				meta_out(&r, &m);
				if (!store_expired_meta(st, &m, now) &&
				    cb(arg, key, &m) != 0)
					break;
			}
			rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
		}
		mdb_cursor_close(c);
		rc = rc == MDB_NOTFOUND ? 0 : rc;
	}
	rtxn_end(st, txn);
	return rc == 0 ? STORE_OK : STORE_ERROR;
}

struct put_arg {
	MDB_dbi		 dbi;
	const char	*k;
	size_t		 klen;
	const char	*v;
	size_t		 vlen;
};

static int
put_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct put_arg *p = arg;
	MDB_val k = { p->klen, (void *)p->k }, v = { p->vlen, (void *)p->v };

	(void)st;
	return mdb_put(txn, p->dbi, &k, &v, 0);
}

static int
del_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct put_arg *p = arg;
	MDB_val k = { p->klen, (void *)p->k };

	(void)st;
	return mdb_del(txn, p->dbi, &k, NULL);
}

static int
lm_status_put(struct store *st, const char *key, const char *dest,
    const struct sender_status *s)
{
	char k[LMDB_KEY_MAX], v[STORE_REC_MAX];
	struct put_arg p;
	int n;

	p.klen = key2(k, key, dest, strlen(dest));
	if (p.klen == 0 || (n = status_encode(s, v, sizeof(v))) < 0)
		return STORE_ERROR;
	p.dbi = L(st)->st;
	p.k = k;
	p.v = v;
	p.vlen = (size_t)n;
	return map_rc(wtxn_run(st, put_fn, &p));
}

static int
get_rec(struct store *st, MDB_dbi dbi, const char *k, size_t klen,
    char *out, size_t outlen, size_t *len)
{
	MDB_txn *txn;
	MDB_val mk = { klen, (void *)k }, mv;
	int rc;

	if (rtxn_begin(st, &txn) != 0)
		return STORE_ERROR;
	rc = mdb_get(txn, dbi, &mk, &mv);
	if (rc == 0) {
		if (mv.mv_size >= outlen)
			rc = MDB_CORRUPTED;
		else {
			memcpy(out, mv.mv_data, mv.mv_size);
			*len = mv.mv_size;
		}
	}
	rtxn_end(st, txn);
	return map_rc(rc);
}

static int
lm_status_get(struct store *st, const char *key, const char *dest,
    struct sender_status *out)
{
	char k[LMDB_KEY_MAX], v[STORE_REC_MAX];
	size_t klen, vlen = 0;
	int rc;

	if ((klen = key2(k, key, dest, strlen(dest))) == 0)
		return STORE_NOTFOUND;
	rc = get_rec(st, L(st)->st, k, klen, v, sizeof(v), &vlen);
	if (rc == STORE_OK && status_decode(v, vlen, out) != 0)
		rc = STORE_ERROR;
	return rc;
}

static int
lm_status_each(struct store *st, const char *key, int64_t now,
    store_status_cb *cb, void *arg)
{
	struct lmdb *l = L(st);
	char kb[LMDB_KEY_MAX + 1];
	size_t plen = key != NULL ? strlen(key) + 1 : 0;
	struct sender_status s;
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	if (rtxn_begin(st, &txn) != 0)
		return STORE_ERROR;
	if ((rc = mdb_cursor_open(txn, l->st, &c)) == 0) {
		if (key != NULL) {
			k.mv_size = plen;
			k.mv_data = (void *)key;	/* includes the NUL */
			rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		} else
			rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
		while (rc == 0) {
			const char *dest;

			if (key != NULL && (k.mv_size < plen ||
			    memcmp(k.mv_data, key, plen) != 0))
				break;
			memcpy(kb, k.mv_data, k.mv_size);
			kb[k.mv_size] = '\0';
			dest = kb + strlen(kb) + 1;
			if (status_decode(v.mv_data, v.mv_size, &s) == 0 &&
			    !store_expired_status(st, &s, now) && cb(arg, kb, dest, &s) != 0)
				break;
			rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
		}
		mdb_cursor_close(c);
		rc = rc == MDB_NOTFOUND ? 0 : rc;
	}
	rtxn_end(st, txn);
	return rc == 0 ? STORE_OK : STORE_ERROR;
}

struct release_arg {
	const char	*key;
	int64_t		 now;
};

static int
release_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct lmdb *l = L(st);
	struct release_arg *a = arg;
	size_t plen = strlen(a->key) + 1;
	struct meta_rec r;
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	if ((rc = mdb_cursor_open(txn, l->st, &c)) != 0)
		return rc;
	k.mv_size = plen;
	k.mv_data = (void *)a->key;
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && k.mv_size >= plen && memcmp(k.mv_data, a->key, plen) == 0) {
		if ((rc = mdb_cursor_del(c, 0)) != 0)
			break;
		/* after a delete, MDB_NEXT yields the record that followed */
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	rc = meta_read(l, txn, a->key, plen - 1, &r);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	r.released_at = a->now;
	if (r.first_seen == 0)
		r.first_seen = r.last_seen = a->now;
	k.mv_size = plen - 1;
	k.mv_data = (void *)a->key;
	v.mv_size = sizeof(r);
	v.mv_data = &r;
	return mdb_put(txn, l->meta, &k, &v, 0);
}

static int
lm_release(struct store *st, const char *key, int64_t now)
{
	struct release_arg a = { key, now };

	return map_rc(wtxn_run(st, release_fn, &a));
}

static int
lm_supp_put(struct store *st, const char *addr, const struct store_supp *s)
{
	char v[STORE_REC_MAX];
	struct put_arg p;
	int n;

	if ((n = supp_encode(s, v, sizeof(v))) < 0 || strlen(addr) > LMDB_KEY_MAX)
		return STORE_ERROR;
	p.dbi = L(st)->sup;
	p.k = addr;
	p.klen = strlen(addr);
	p.v = v;
	p.vlen = (size_t)n;
	return map_rc(wtxn_run(st, put_fn, &p));
}

static int
lm_supp_get(struct store *st, const char *addr, struct store_supp *out)
{
	char v[STORE_REC_MAX];
	size_t vlen = 0;
	int rc;

	if (strlen(addr) > LMDB_KEY_MAX)
		return STORE_NOTFOUND;
	rc = get_rec(st, L(st)->sup, addr, strlen(addr), v, sizeof(v), &vlen);
	if (rc == STORE_OK && supp_decode(v, vlen, out) != 0)
		rc = STORE_ERROR;
	return rc;
}

static int
lm_supp_del(struct store *st, const char *addr)
{
	struct put_arg p;

	if (strlen(addr) > LMDB_KEY_MAX)
		return STORE_NOTFOUND;
	p.dbi = L(st)->sup;
	p.k = addr;
	p.klen = strlen(addr);
	return map_rc(wtxn_run(st, del_fn, &p));
}

static int
lm_supp_each(struct store *st, int64_t now, store_supp_cb *cb, void *arg)
{
	struct lmdb *l = L(st);
	char addr[STORE_ADDR_MAX + 1];
	struct store_supp s;
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	if (rtxn_begin(st, &txn) != 0)
		return STORE_ERROR;
	if ((rc = mdb_cursor_open(txn, l->sup, &c)) == 0) {
		rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
		while (rc == 0) {
			if (k.mv_size < sizeof(addr) &&
			    supp_decode(v.mv_data, v.mv_size, &s) == 0 &&
			    !store_expired_supp(st, &s, now)) {
				memcpy(addr, k.mv_data, k.mv_size);
				addr[k.mv_size] = '\0';
				if (cb(arg, addr, &s) != 0)
					break;
			}
			rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
		}
		mdb_cursor_close(c);
		rc = rc == MDB_NOTFOUND ? 0 : rc;
	}
	rtxn_end(st, txn);
	return rc == 0 ? STORE_OK : STORE_ERROR;
}

/* ---- links ---- */

static int
lm_link_put(struct store *st, const char *from, const char *to, int64_t now)
{
	size_t tl = strlen(to) + 1;
	struct op *o;

	if ((o = op_new(OP_LINK, from, strlen(from), tl)) == NULL)
		return STORE_ERROR;
	memcpy(o->buf + o->keylen, to, tl);
	o->t = now;
	return enqueue(st, o);
}

static int
lm_link_get(struct store *st, const char *from, int64_t *when, char *out,
    size_t outlen)
{
	struct pending pend;
	MDB_txn *txn;
	MDB_val k = { strlen(from), (void *)from }, v;
	size_t i;
	int rc;

	if (rtxn_begin_pending(st, &txn, OP_LINK, from, strlen(from), 0, &pend) != 0)
		return STORE_ERROR;
	rc = mdb_get(txn, L(st)->link, &k, &v);
	if (rc == 0 && v.mv_size > sizeof(int64_t) &&
	    v.mv_size - sizeof(int64_t) <= outlen) {
		memcpy(when, v.mv_data, sizeof(int64_t));
		memcpy(out, (char *)v.mv_data + sizeof(int64_t), v.mv_size - sizeof(int64_t));
		out[v.mv_size - sizeof(int64_t) - 1] = '\0';
	} else if (rc == 0)
		rc = MDB_NOTFOUND;
	rtxn_end(st, txn);
	/* a link queued since wins over the committed one */
	for (i = 0; i < pend.n; i++)
		if (pend.v[i]->t >= *when && pend.v[i]->datalen <= outlen) {
			*when = pend.v[i]->t;
			memcpy(out, pend.v[i]->buf + pend.v[i]->keylen, pend.v[i]->datalen);
			rc = 0;
		}
	pend_free(&pend);
	return rc == 0 ? STORE_OK : rc == MDB_NOTFOUND ? STORE_NOTFOUND : STORE_ERROR;
}

/* ---- rate buckets ---- */

static uint32_t
fnv1a(const char *p, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 16777619u;
	}
	return h;
}

/* Drop buckets that are full again (tat in the past): exact, see the top. */
static void
rate_purge(struct lmdb *l, int64_t now_ms)
{
	struct rate_ent **pp, *e;
	size_t i;

	for (i = 0; i < LMDB_RATE_HASH; i++)
		for (pp = &l->ratetab[i]; (e = *pp) != NULL;) {
			if (e->tat <= now_ms) {
				*pp = e->next;
				free(e);
				l->nrate--;
			} else
				pp = &e->next;
		}
}

static int
lm_rate_take(struct store *st, const char *key, const char *name,
    int64_t now_ms, const struct rate *r, int64_t init_tat, int *allowed,
    int64_t *retry_ms)
{
	struct lmdb *l = L(st);
	char k[LMDB_KEY_MAX];
	size_t klen;
	uint32_t h;
	struct rate_ent *e;
	struct op *o;
	int64_t tat;

	if ((klen = key2(k, key, name, strlen(name))) == 0)
		return STORE_ERROR;
	h = fnv1a(k, klen) % LMDB_RATE_HASH;
	pthread_mutex_lock(&l->ratemu);
	for (e = l->ratetab[h]; e != NULL; e = e->next)
		if (e->keylen == klen && memcmp(e->key, k, klen) == 0)
			break;
	if (e == NULL) {
		MDB_txn *txn;
		MDB_val mk = { klen, k }, mv;

		tat = init_tat;
		/* the written-behind state of an earlier run */
		if (rtxn_begin(st, &txn) == 0) {
			if (mdb_get(txn, l->rate, &mk, &mv) == 0 &&
			    mv.mv_size == sizeof(tat))
				memcpy(&tat, mv.mv_data, sizeof(tat));
			rtxn_end(st, txn);
		}
		if (l->nrate >= LMDB_RATE_TABLE_MAX)
			rate_purge(l, now_ms);
		if ((e = malloc(sizeof(*e) + klen)) == NULL) {
			pthread_mutex_unlock(&l->ratemu);
			return STORE_ERROR;
		}
		e->tat = tat;
		e->keylen = klen;
		memcpy(e->key, k, klen);
		e->next = l->ratetab[h];
		l->ratetab[h] = e;
		l->nrate++;
	}
	*allowed = rate_take(&e->tat, now_ms, r->interval_ms, r->burst, retry_ms);
	tat = e->tat;
	pthread_mutex_unlock(&l->ratemu);
	if (*allowed && (o = op_new(OP_RATE, k, klen, 0)) != NULL) {
		o->t = tat;
		(void)enqueue(st, o);
	}
	return STORE_OK;
}

/* ---- the ledger ---- */

static int
lm_ledger_put(struct store *st, const struct ledger_entry *e, const char *rec,
    size_t reclen)
{
	char k[LMDB_KEY_MAX];
	size_t ml = strlen(e->msgid), ql = strlen(e->qid);
	struct op *o, *q = NULL;

	if (ml + 2 > LMDB_KEY_MAX || ql + 2 > LMDB_KEY_MAX)
		return STORE_ERROR;
	memcpy(k, "m:", 2);
	memcpy(k + 2, e->msgid, ml);
	if ((o = op_new(OP_LEDGER, k, ml + 2, reclen)) == NULL)
		return STORE_ERROR;
	memcpy(o->buf + o->keylen, rec, reclen);
	o->t = e->when;
	if (ql > 0) {
		memcpy(k, "q:", 2);
		memcpy(k + 2, e->qid, ql);
		if ((q = op_new(OP_LEDGER_Q, k, ql + 2, ml)) == NULL) {
			free(o);
			return STORE_ERROR;
		}
		memcpy(q->buf + q->keylen, e->msgid, ml);
		q->t = e->when;
	}
	(void)enqueue(st, o);
	if (q != NULL)
		(void)enqueue(st, q);
	return STORE_OK;
}

/*
 * The committed value of "PREFIX:ID" in lg, unless a queued op of type
 * has a newer one. out gets a malloc'd copy (caller frees), *outlen its size.
 */
static int
ledger_read(struct store *st, enum op_type type, const char *prefix,
    const char *id, char **out, size_t *outlen)
{
	char k[LMDB_KEY_MAX];
	size_t il = strlen(id), i;
	struct pending pend;
	MDB_txn *txn;
	MDB_val mk, mv;
	int64_t best = INT64_MIN;
	int rc;

	*out = NULL;
	if (il + 2 > LMDB_KEY_MAX)
		return STORE_NOTFOUND;
	memcpy(k, prefix, 2);
	memcpy(k + 2, id, il);
	mk.mv_size = il + 2;
	mk.mv_data = k;
	if (rtxn_begin_pending(st, &txn, type, k, il + 2, 0, &pend) != 0)
		return STORE_ERROR;
	rc = mdb_get(txn, L(st)->lg, &mk, &mv);
	if (rc == 0) {
		if ((*out = malloc(mv.mv_size + 1)) == NULL)
			rc = ENOMEM;
		else {
			memcpy(*out, mv.mv_data, mv.mv_size);
			*outlen = mv.mv_size;
		}
	}
	rtxn_end(st, txn);
	/* queued since the snapshot: the newest wins */
	for (i = 0; i < pend.n && rc != ENOMEM; i++) {
		const struct op *o = pend.v[i];

		if (o->t < best)
			continue;
		best = o->t;
		free(*out);
		if ((*out = malloc(o->datalen + 1)) == NULL) {
			rc = ENOMEM;
			break;
		}
		memcpy(*out, o->buf + o->keylen, o->datalen);
		*outlen = o->datalen;
		rc = 0;
	}
	pend_free(&pend);
	if (rc != 0) {
		free(*out);
		*out = NULL;
	}
	return rc == 0 ? STORE_OK : rc == MDB_NOTFOUND ? STORE_NOTFOUND : STORE_ERROR;
}

static int
lm_ledger_get(struct store *st, const char *msgid, struct ledger_entry *out)
{
	char *v;
	size_t len = 0;
	int rc;

	if ((rc = ledger_read(st, OP_LEDGER, "m:", msgid, &v, &len)) != STORE_OK)
		return rc;
	rc = ledger_decode(v, len, out) == 0 ? STORE_OK : STORE_ERROR;
	free(v);
	return rc;
}

static int
lm_ledger_qid(struct store *st, const char *qid, char *msgid, size_t msgidlen)
{
	char *v;
	size_t len = 0;
	int rc;

	if ((rc = ledger_read(st, OP_LEDGER_Q, "q:", qid, &v, &len)) != STORE_OK)
		return rc;
	if (len == 0 || len >= msgidlen || memchr(v, '\0', len) != NULL)
		rc = STORE_ERROR;
	else {
		memcpy(msgid, v, len);
		msgid[len] = '\0';
	}
	free(v);
	return rc;
}

struct once_arg {
	const char	*marker;
	int64_t		 now;
	int		 first;
};

static int
once_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct once_arg *a = arg;
	MDB_val k = { strlen(a->marker), (void *)a->marker }, v;
	int64_t when;
	int rc;

	rc = mdb_get(txn, L(st)->lgx, &k, &v);
	if (rc == 0 && v.mv_size == sizeof(when)) {
		memcpy(&when, v.mv_data, sizeof(when));
		if (!store_expired_ledger(st, when, a->now)) {
			a->first = 0;
			return 0;
		}
	} else if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	a->first = 1;
	v.mv_size = sizeof(a->now);
	v.mv_data = &a->now;
	return mdb_put(txn, L(st)->lgx, &k, &v, 0);
}

static int
lm_ledger_once(struct store *st, const char *marker, int64_t now, int *first)
{
	struct once_arg a = { marker, now, 0 };
	int rc = map_rc(wtxn_run(st, once_fn, &a));

	*first = rc == STORE_OK ? a.first : 0;
	return rc;
}

/* ---- lifetime ---- */

static int
lm_flush(struct store *st)
{
	struct lmdb *l = L(st);
	uint64_t target;

	pthread_mutex_lock(&l->mu);
	target = l->gen_queued;
	l->flushing++;
	pthread_cond_signal(&l->wake);
	while (l->gen_done < target)
		pthread_cond_wait(&l->done, &l->mu);
	l->flushing--;
	pthread_mutex_unlock(&l->mu);
	return STORE_OK;
}

static void
lm_close(struct store *st)
{
	struct lmdb *l = L(st);
	size_t i;

	if (l == NULL)
		return;
	if (l->writer_started) {
		pthread_mutex_lock(&l->mu);
		l->stop = 1;
		pthread_cond_signal(&l->wake);
		pthread_mutex_unlock(&l->mu);
		pthread_join(l->writer, NULL);
	}
	ops_free(l->qhead);
	free(l->qidx);
	free(l->fidx);
	if (l->env != NULL)
		mdb_env_close(l->env);
	for (i = 0; i < LMDB_RATE_HASH; i++) {
		struct rate_ent *e, *n;

		for (e = l->ratetab[i]; e != NULL; e = n) {
			n = e->next;
			free(e);
		}
	}
	pthread_mutex_destroy(&l->ratemu);
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->wake);
	pthread_cond_destroy(&l->done);
	pthread_rwlock_destroy(&l->resize);
	free(l);
	st->impl = NULL;
}

/*
 * egressctl run by root on the daemon's state directory must not leave
 * root-owned data.mdb/lock.mdb behind (the daemon, running as its own user,
 * could not open them): give the files the directory's owner.
 */
static void
keep_owner(struct store *st, const char *dir)
{
	static const char *const files[] = { "data.mdb", "lock.mdb" };
	struct stat sb;
	char path[4096];
	size_t i;

	if (geteuid() != 0 || stat(dir, &sb) != 0 || sb.st_uid == 0)
		return;
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (chown(path, sb.st_uid, sb.st_gid) != 0 && errno != ENOENT)
			store_logf(st, STORE_LOG_WARNING, "lmdb: chown %s: %s", path,
			    strerror(errno));
	}
}

static int
lm_open(struct store *st, char *err, size_t errlen)
{
	struct lmdb *l;
	MDB_txn *txn;
	int rc, dead = 0;
	const char *dir = st->conf.state_dir;

	if (dir == NULL || *dir == '\0') {
		snprintf(err, errlen, "lmdb: no state_dir");
		return -1;
	}
	if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "lmdb: mkdir %s: %s", dir, strerror(errno));
		return -1;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	st->impl = l;
	l->qidx = calloc(PEND_HASH, sizeof(*l->qidx));
	l->fidx = calloc(PEND_HASH, sizeof(*l->fidx));
	pthread_mutex_init(&l->mu, NULL);
	pthread_mutex_init(&l->ratemu, NULL);
	pthread_cond_init(&l->wake, NULL);
	pthread_cond_init(&l->done, NULL);
	pthread_rwlock_init(&l->resize, NULL);
	if (l->qidx == NULL || l->fidx == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if ((rc = mdb_env_create(&l->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(l->env, 12)) != 0 ||
	    (rc = mdb_env_set_maxreaders(l->env, 1022)) != 0 ||
	    (rc = mdb_env_set_mapsize(l->env, (size_t)st->conf.map_size)) != 0 ||
	    (rc = mdb_env_open(l->env, dir, MDB_NOTLS, 0640)) != 0) {
		snprintf(err, errlen, "lmdb: open %s: %s", dir, mdb_strerror(rc));
		goto fail;
	}
	keep_owner(st, dir);
	/* adopt a larger map another process has grown to */
	(void)mdb_env_set_mapsize(l->env, 0);
	if (mdb_reader_check(l->env, &dead) == 0 && dead > 0)
		store_logf(st, STORE_LOG_INFO, "lmdb: cleared %d stale readers", dead);
	if ((rc = mdb_txn_begin(l->env, NULL, 0, &txn)) != 0) {
		snprintf(err, errlen, "lmdb: %s", mdb_strerror(rc));
		goto fail;
	}
	if ((rc = mdb_dbi_open(txn, "ev", MDB_CREATE, &l->ev)) != 0 ||
	    (rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &l->meta)) != 0 ||
	    (rc = mdb_dbi_open(txn, "st", MDB_CREATE, &l->st)) != 0 ||
	    (rc = mdb_dbi_open(txn, "sup", MDB_CREATE, &l->sup)) != 0 ||
	    (rc = mdb_dbi_open(txn, "rate", MDB_CREATE, &l->rate)) != 0 ||
	    (rc = mdb_dbi_open(txn, "link", MDB_CREATE, &l->link)) != 0 ||
	    (rc = mdb_dbi_open(txn, "lg", MDB_CREATE, &l->lg)) != 0 ||
	    (rc = mdb_dbi_open(txn, "lgt", MDB_CREATE, &l->lgt)) != 0 ||
	    (rc = mdb_dbi_open(txn, "lgx", MDB_CREATE, &l->lgx)) != 0) {
		mdb_txn_abort(txn);
		snprintf(err, errlen, "lmdb: open databases: %s", mdb_strerror(rc));
		goto fail;
	}
	if ((rc = mdb_dbi_open(txn, "cur", MDB_CREATE, &l->cur)) != 0) {
		mdb_txn_abort(txn);
		snprintf(err, errlen, "lmdb: open databases: %s", mdb_strerror(rc));
		goto fail;
	}
	if ((rc = mdb_txn_commit(txn)) != 0) {
		snprintf(err, errlen, "lmdb: open databases: %s", mdb_strerror(rc));
		goto fail;
	}
	if (pthread_create(&l->writer, NULL, writer_main, st) != 0) {
		snprintf(err, errlen, "lmdb: cannot start the writer thread");
		goto fail;
	}
	l->writer_started = 1;
	return 0;
fail:
	lm_close(st);
	return -1;
}

/* ---- follower cursors ---- */

/* Written in its own committed transaction: durable when it returns. */
static int
lm_cursor_put(struct store *st, const char *name, const char *rec, size_t len)
{
	struct put_arg p;

	if (strlen(name) > LMDB_KEY_MAX)
		return STORE_ERROR;
	p.dbi = L(st)->cur;
	p.k = name;
	p.klen = strlen(name);
	p.v = rec;
	p.vlen = len;
	return map_rc(wtxn_run(st, put_fn, &p));
}

static int
lm_cursor_get(struct store *st, const char *name, char *out, size_t outlen,
    size_t *len)
{
	if (strlen(name) > LMDB_KEY_MAX)
		return STORE_NOTFOUND;
	return get_rec(st, L(st)->cur, name, strlen(name), out, outlen, len);
}

const struct store_ops store_lmdb_ops = {
	.name = "lmdb",
	.open = lm_open,
	.close = lm_close,
	.flush = lm_flush,
	.event_add = lm_event_add,
	.event_scan = lm_event_scan,
	.meta_touch = lm_meta_touch,
	.meta_get = lm_meta_get,
	.meta_each = lm_meta_each,
	.status_put = lm_status_put,
	.status_get = lm_status_get,
	.status_each = lm_status_each,
	.release = lm_release,
	.supp_put = lm_supp_put,
	.supp_get = lm_supp_get,
	.supp_del = lm_supp_del,
	.supp_each = lm_supp_each,
	.link_put = lm_link_put,
	.link_get = lm_link_get,
	.rate_take = lm_rate_take,
	.ledger_put = lm_ledger_put,
	.ledger_get = lm_ledger_get,
	.ledger_qid = lm_ledger_qid,
	.ledger_once = lm_ledger_once,
	.cursor_put = lm_cursor_put,
	.cursor_get = lm_cursor_get,
};
