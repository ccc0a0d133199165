/*
 * store_int.h - what the store backends share with the dispatcher.
 *
 * Not installed, not included outside src/store and tests of the store.
 */
#ifndef EGRESS_STORE_INT_H
#define EGRESS_STORE_INT_H

#include <pthread.h>
#include <stdarg.h>

#include "egress/store.h"

struct store_ops {
	const char	*name;
	int	(*open)(struct store *, char *err, size_t errlen);
	void	(*close)(struct store *);
	int	(*flush)(struct store *);
	int	(*event_add)(struct store *, const char *key, int64_t bucket,
		    const char *const *fields, size_t n);
	int	(*event_scan)(struct store *, const char *key, int64_t from,
		    int64_t to, store_event_cb *, void *);
	int	(*meta_touch)(struct store *, const char *key, int64_t now,
		    unsigned messages, unsigned failures);
	int	(*meta_get)(struct store *, const char *key, struct store_meta *);
	int	(*meta_each)(struct store *, int64_t now, store_meta_cb *, void *);
	int	(*status_put)(struct store *, const char *key, const char *dest,
		    const struct sender_status *);
	int	(*status_get)(struct store *, const char *key, const char *dest,
		    struct sender_status *);
	int	(*status_each)(struct store *, const char *key, int64_t now,
		    store_status_cb *, void *);
	int	(*release)(struct store *, const char *key, int64_t now);
	int	(*supp_put)(struct store *, const char *addr, const struct store_supp *);
	int	(*supp_get)(struct store *, const char *addr, struct store_supp *);
	int	(*supp_del)(struct store *, const char *addr);
	int	(*supp_each)(struct store *, int64_t now, store_supp_cb *, void *);
	int	(*link_put)(struct store *, const char *from, const char *to,
		    int64_t now);
	int	(*link_get)(struct store *, const char *from, int64_t *when,
		    char *out, size_t outlen);
	int	(*rate_take)(struct store *, const char *key, const char *name,
		    int64_t now_ms, const struct rate *, int64_t init_tat,
		    int *allowed, int64_t *retry_ms);
	/* the ledger: rec is the encoded entry (ledger_encode) */
	int	(*ledger_put)(struct store *, const struct ledger_entry *,
		    const char *rec, size_t reclen);
	int	(*ledger_get)(struct store *, const char *msgid,
		    struct ledger_entry *);
	/* the Message-ID recorded for a queue id */
	int	(*ledger_qid)(struct store *, const char *qid, char *msgid,
		    size_t msgidlen);
	int	(*ledger_once)(struct store *, const char *marker, int64_t now,
		    int *first);
	/* outage counters (NULL: the backend has no outages) */
	void	(*health)(struct store *, struct store_health *);
	/* follower cursors: an opaque text record under a name (durable) */
	int	(*cursor_put)(struct store *, const char *name, const char *rec,
		    size_t len);
	int	(*cursor_get)(struct store *, const char *name, char *out,
		    size_t outlen, size_t *len);
};

struct store {
	const struct store_ops	*ops;
	struct store_conf	 conf;		/* deep copy */
	store_log_fn		*log;
	void			*logarg;
	void			*impl;		/* backend state */
	pthread_once_t		 ledger_once;	/* the key is read once */
	int			 ledger_ready;	/* enabled and keyed */
	unsigned char		 ledger_key[LEDGER_KEY_LEN];
};

extern const struct store_ops store_lmdb_ops;
extern const struct store_ops store_redis_ops;

void	store_logf(struct store *, int level, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* Text codecs shared by the backends (tab-separated, versioned). */
#define STORE_REC_MAX	1024
int	status_encode(const struct sender_status *, char *out, size_t outlen);
int	status_decode(const char *in, size_t len, struct sender_status *);
int	supp_encode(const struct store_supp *, char *out, size_t outlen);
int	supp_decode(const char *in, size_t len, struct store_supp *);

/*
 * Expiry, one rule per kind (store_expire.c, where each rule is spelled
 * out). Each returns nonzero when the record has expired at now (seconds);
 * both backends and the read paths use these and nothing else.
 */
int64_t	store_expire_event_before(const struct store *, int64_t now);
int	store_expired_event(const struct store *, int64_t bucket, int64_t now);
int	store_expired_meta(const struct store *, const struct store_meta *,
	    int64_t now);
int	store_expired_status(const struct store *, const struct sender_status *,
	    int64_t now);
int	store_expired_supp(const struct store *, const struct store_supp *,
	    int64_t now);
int	store_expired_link(const struct store *, int64_t when, const char *target,
	    int64_t now);
int	store_expired_rate(const struct store *, int64_t tat_ms, int64_t now);
/* A ledger entry or one-time marker made at `when`. */
int	store_expired_ledger(const struct store *, int64_t when, int64_t now);

/* Sum of an event field list used by the backends' expiry: bucket start. */
static inline int64_t
store_bucket_of(const struct store *st, int64_t t)
{
	int64_t b = st->conf.bucket > 0 ? st->conf.bucket : 300;

	return t - (t % b + b) % b;
}

#endif
