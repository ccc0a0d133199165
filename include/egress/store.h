/*
 * store - the sender-record state store: one interface, two backends.
 *
 * LMDB (default, embedded, a file in the state directory) and Redis (shared
 * by a cluster of MTAs, via hiredis) keep the same records with the same
 * semantics; tests/check_store.c runs one suite against both.
 *
 * Records, by sender key ("env:a@b", "auth:user", "dom:b", "rcpt:x@y"):
 *  - events: counters by field in time buckets (bucket width from the
 *    config), kept for `retention`; the sender record uses fields
 *    "c/CAT", "r/CAT/REASON", "d/DEST/CAT", "e/DEST/CAT/REASON";
 *  - meta: first and last seen, message and failure counts, last release;
 *  - statuses: per key and per (key, destination domain), the action in
 *    force (tag, throttle, hold, suspend) with since/until/who/why;
 *  - suppressions: per recipient address, reason, source, created, expires;
 *  - rate buckets: GCRA state per key and bucket name;
 *  - links: which SASL login last sent as an envelope address;
 *  - the ledger (ledger.h): one entry per message the milter passed or
 *    refused, found by Message-ID or queue id, kept ledger.ttl and at most
 *    ledger.max_entries (the oldest go first); one-time markers that make a
 *    failure count once.
 *
 * Durability. Suppressions, statuses and releases are committed durably
 * before the call returns. Counters (events, meta touches, rate state) are
 * applied asynchronously: LMDB batches them in one writer thread per process
 * (group commit every commit_interval_ms), so the per-message path never
 * waits on fsync; reads in the same process see queued counters at once.
 * Redis applies every write atomically (Lua) when the call is made; its own
 * persistence settings decide durability.
 *
 * Failures. Functions return STORE_OK, STORE_NOTFOUND, STORE_UNAVAILABLE
 * (Redis down or timed out: the caller falls back to a local decision, i.e.
 * allows) or STORE_ERROR (resource failure). Redis outages are logged once
 * through the log callback and retried with backoff; no call blocks longer
 * than the configured timeouts.
 *
 * Expiry needs no cron: Redis keys carry PEXPIRE/PEXPIREAT; LMDB ignores
 * expired records on read and its writer thread deletes a bounded number of
 * them per commit.
 *
 * Threading: a struct store is safe to share between threads. The LMDB file
 * may be opened by several processes at once (daemon and egressctl).
 */
#ifndef EGRESS_STORE_H
#define EGRESS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

#include "egress/buf.h"
#include "egress/ledger.h"
#include "egress/sender.h"
#include "egress/storeconf.h"

struct cfg_errors;
struct store;

#define STORE_FIELD_MAX		400	/* bytes of one event field name */
#define STORE_FIELDS_MAX	8	/* fields per event add */
#define STORE_ADDR_MAX		320

enum store_rc {
	STORE_OK = 0,
	STORE_NOTFOUND = 1,
	STORE_ERROR = -1,
	STORE_UNAVAILABLE = -2,
};


enum supp_source { SUPP_BOUNCE = 0, SUPP_COMPLAINT, SUPP_MANUAL };

enum store_loglevel { STORE_LOG_ERR = 3, STORE_LOG_WARNING = 4, STORE_LOG_INFO = 6 };

/* Log sink: the store never writes to syslog itself. msg is not owned. */
typedef void store_log_fn(void *arg, int level, const char *msg);


struct store_meta {
	int64_t		first_seen;		/* seconds */
	int64_t		last_seen;
	int64_t		last_failure;
	int64_t		released_at;		/* last operator release */
	uint64_t	messages;
	uint64_t	failures;
};

struct store_supp {
	char		reason[SENDER_NAME_MAX];
	enum supp_source source;
	int64_t		created;
	int64_t		expires;		/* 0 = never */
	char		who[SENDER_WHO_MAX];
};

const char	*supp_source_name(enum supp_source);
int		 supp_source_parse(const char *, enum supp_source *);

/* ---- lifetime ---- */

/*
 * Open the configured backend. The store copies what it needs from conf.
 * log may be NULL. On failure returns NULL and writes a reason to err.
 * LMDB: creates the directory's data file, clears stale readers, starts the
 * writer thread. Redis: connects lazily; an unreachable server is not an
 * error here (calls return STORE_UNAVAILABLE until it answers).
 */
struct store	*store_open(const struct store_conf *conf, store_log_fn *log,
		    void *logarg, char *err, size_t errlen);
/* Flush queued counters and close; NULL is a no-op. */
void		 store_close(struct store *);
/* Wait until every counter queued so far is committed. */
__attribute__((warn_unused_result)) int store_flush(struct store *);
const char	*store_backend_name(const struct store *);
/* "LMDB VERSION\nhiredis VERSION\n" (run-time LMDB, hiredis headers). */
void		 store_lib_versions(char *out, size_t outsz);
/* Bucket width and retention in force (seconds). */
int64_t		 store_bucket(const struct store *);
int64_t		 store_retention(const struct store *);

/* ---- events ---- */

/* Add 1 to each field of key in the bucket of now (asynchronous). */
__attribute__((warn_unused_result))
int	store_event_add(struct store *, const char *key, int64_t now,
	    const char *const *fields, size_t nfields);
/* Called per (bucket, field) with count > 0; non-zero return stops. */
typedef int store_event_cb(void *arg, int64_t bucket, const char *field,
	    uint64_t count);
/* Buckets of key whose start lies in [since, now], within retention. */
__attribute__((warn_unused_result))
int	store_event_scan(struct store *, const char *key, int64_t since,
	    int64_t now, store_event_cb *cb, void *arg);

/* ---- sender meta ---- */

/* first_seen = min, last_seen = max, counters += (asynchronous). */
__attribute__((warn_unused_result))
int	store_meta_touch(struct store *, const char *key, int64_t now,
	    unsigned messages, unsigned failures);
__attribute__((warn_unused_result))
int	store_meta_get(struct store *, const char *key, int64_t now,
	    struct store_meta *out);
typedef int store_meta_cb(void *arg, const char *key, const struct store_meta *);
__attribute__((warn_unused_result))
int	store_meta_each(struct store *, int64_t now, store_meta_cb *cb, void *arg);

/* ---- statuses (durable) ---- */

/* dest "" is the sender-wide status. */
__attribute__((warn_unused_result))
int	store_status_put(struct store *, const char *key, const char *dest,
	    const struct sender_status *s);
/* STORE_NOTFOUND when absent or no longer active at now. */
__attribute__((warn_unused_result))
int	store_status_get(struct store *, const char *key, const char *dest,
	    int64_t now, struct sender_status *out);
typedef int store_status_cb(void *arg, const char *key, const char *dest,
	    const struct sender_status *);
/* Every active status of key (key NULL: of every key). */
__attribute__((warn_unused_result))
int	store_status_each(struct store *, const char *key, int64_t now,
	    store_status_cb *cb, void *arg);
/* Remove every status of key and set its meta released_at = now. */
__attribute__((warn_unused_result))
int	store_release(struct store *, const char *key, int64_t now);

/* ---- suppressions (durable) ---- */

__attribute__((warn_unused_result))
int	store_supp_put(struct store *, const char *addr, const struct store_supp *);
__attribute__((warn_unused_result))
int	store_supp_get(struct store *, const char *addr, int64_t now,
	    struct store_supp *out);
/* STORE_NOTFOUND when there was none. */
__attribute__((warn_unused_result))
int	store_supp_del(struct store *, const char *addr);
typedef int store_supp_cb(void *arg, const char *addr, const struct store_supp *);
__attribute__((warn_unused_result))
int	store_supp_each(struct store *, int64_t now, store_supp_cb *cb, void *arg);

/* ---- links from envelope address to SASL login ---- */

/*
 * Remember that auth_key ("auth:LOGIN") last sent as addr_key ("env:ADDR");
 * asynchronous like the counters, kept sender_ttl after it was last set.
 */
__attribute__((warn_unused_result))
int	store_link_put(struct store *, const char *addr_key, const char *auth_key,
	    int64_t now);
/* The login linked to addr_key into out, or STORE_NOTFOUND. */
__attribute__((warn_unused_result))
int	store_link_get(struct store *, const char *addr_key, int64_t now,
	    char *out, size_t outlen);

/* ---- rate buckets ---- */

/*
 * Take one token from the GCRA bucket (key, name) at now_ms. A missing
 * bucket starts at init_tat (0: full). *allowed is set to 1 or 0; *retry_ms
 * (may be NULL) to the wait when refused.
 */
__attribute__((warn_unused_result))
int	store_rate_take(struct store *, const char *key, const char *name,
	    int64_t now_ms, const struct rate *r, int64_t init_tat,
	    int *allowed, int64_t *retry_ms);

/* ---- the ledger (DESIGN.md "Evidence") ---- */

/*
 * Is the ledger in use? It is when enabled and the key could be read (or
 * created: STATE_DIR/ledger.key, or ledger.key_file, 32 hex digits, made
 * once from getrandom(2) with mode 0600 when absent). The key is read at
 * the first ledger call, once per store; without one every ledger call
 * returns STORE_UNAVAILABLE and why has been logged once.
 */
int	store_ledger_ready(struct store *);
/* The installation's hash key; NULL when the ledger is not ready. */
const unsigned char *store_ledger_key(struct store *);
/* Settings in force (a copy of the configuration's). */
const struct ledger_conf *store_ledger_conf(const struct store *);

/*
 * Record entry e (its msgid must be set; its qid may be ""), replacing an
 * entry of the same Message-ID. Asynchronous like the counters on LMDB
 * (group commit; reads in this process see it at once), one atomic script
 * on Redis. The entry is kept ledger.ttl after e->when.
 */
__attribute__((warn_unused_result))
int	store_ledger_put(struct store *, const struct ledger_entry *e);
/* The entry of a Message-ID (normalised, ledger_msgid_norm) or queue id. */
__attribute__((warn_unused_result))
int	store_ledger_get(struct store *, const char *msgid, int64_t now,
	    struct ledger_entry *out);
__attribute__((warn_unused_result))
int	store_ledger_get_qid(struct store *, const char *qid, int64_t now,
	    struct ledger_entry *out);
/*
 * Set the one-time marker (ledger_mark()); *first is 1 when it was not set
 * before (then the failure counts), 0 when it was. Durable before it
 * returns, atomic across processes and nodes. Kept ledger.ttl.
 */
__attribute__((warn_unused_result))
int	store_ledger_once(struct store *, const char *marker, int64_t now,
	    int *first);

/* ================================================================
 * The sender record: what the milter and egressctl call.
 * Implemented in src/store/record.c over the calls above and the pure
 * policy in sender.h.
 * ================================================================ */

/*
 * Find what the record holds about a message from these sender keys: facts
 * (sender.h), never actions; the caller's policy (policy_decide_facts)
 * decides what they mean. At MAIL FROM pass dest NULL: this counts the
 * message (first/last seen), reads sender-wide statuses, takes a token of
 * the static rate and the warm-up ramp. At RCPT pass the recipient's
 * domain: per-destination statuses and throttles. A suspension ends the
 * search (no tokens are taken for a suspended sender). now_ms is the wall
 * clock in milliseconds. On store failure out has no facts and degraded
 * set, and the return value says why (STORE_UNAVAILABLE or STORE_ERROR);
 * the caller may map STORE_ERROR to its fail mode.
 */
__attribute__((warn_unused_result))
int	sender_check(struct store *, const struct policy_conf *,
	    const struct sender_keys *, const char *dest, int64_t now_ms,
	    struct sender_facts *out);

/*
 * Is rcpt suppressed? Do not ask for mail from the null sender: a bounce
 * must never be refused. Adds the fact "recipient.suppressed" with the
 * wording "550 5.1.1 <rcpt>: Recipient previously bounced: REASON" (or
 * complained, or suppressed by the postmaster) when it is.
 */
__attribute__((warn_unused_result))
int	recipient_check(struct store *, const char *rcpt, int64_t now_ms,
	    struct sender_facts *out);

/*
 * Record one classified failure (category/reason strings as classified;
 * a known reason's category comes from the DESIGN.md table, the category
 * given is used only for reasons outside it). Counts it for every sender key, the
 * (key, dest) pair and the recipient, evaluates the rules and stores the
 * statuses and suppressions they trigger (durably). hard: permanent failure.
 * rcpt and dest may be NULL. Complaints are reason "feedback".
 */
__attribute__((warn_unused_result))
int	sender_record_failure(struct store *, const struct policy_conf *,
	    const struct sender_keys *, const char *dest, const char *category,
	    const char *reason, int hard, const char *rcpt, int64_t now_ms);

/*
 * One failed recipient of a bounce, with what the bounce says about the
 * message it returns (sender_bounce_evidence).
 */
struct bounce_evidence {
	const char	*message_id;	/* the returned message's, or NULL */
	/* X-Postfix-Queue-ID of this MTA's own report, or NULL; when set it
	 * alone finds the entry (a Message-ID given must then agree) */
	const char	*queue_id;
	const char	*sender;	/* original envelope sender, or NULL */
	const char	*rcpt;		/* the failed recipient */
	const char	*status;	/* "5.1.1", or NULL */
	int		 local;		/* from an authenticated client */
	/*
	 * Reached the milter outside SMTP: the MTA's own report, or a local
	 * user's sendmail(1) submission, which the MTA does not tell apart.
	 * Then only a queue id in the ledger counts; any other such bounce is
	 * a local submission.
	 */
	int		 nonsmtp;
};

/*
 * Weigh one failure against the ledger. *why is LEDGER_MATCHED when it
 * counts: then *entry is the message it names (whose sender keys should be
 * charged) and the failure's one-time marker is now set. Otherwise *why
 * says why not (ledger.h); for the unknown-message, no-original-id,
 * recipient-not-in-message and sender-mismatch reasons *counts is 1 under
 * require_match = relaxed (and off), 0 otherwise; local submissions, own
 * rejections and duplicates never count. Returns a store status; on
 * STORE_UNAVAILABLE or STORE_ERROR nothing counts.
 */
__attribute__((warn_unused_result))
int	sender_bounce_evidence(struct store *, const struct bounce_evidence *,
	    int64_t now, struct ledger_entry *entry, enum ledger_reason *why,
	    int *counts);

/*
 * Count a failure that did not count (asynchronous): event field
 * "u/REASON" for each sender key of keys (may be NULL) and for the global
 * key LEDGER_UNMATCHED_KEY, which egressctl report reads.
 */
#define LEDGER_UNMATCHED_KEY	"ledger:unmatched"
__attribute__((warn_unused_result))
int	sender_record_unmatched(struct store *, const struct sender_keys *keys,
	    enum ledger_reason why, int64_t now_ms);

/*
 * Record one classified deferral (a 4xx the MTA will retry, from the
 * delivery log) for every sender key: counted apart from failures (no
 * failure rule sees it), and when the policy's deferral throttle counts
 * its category or reason and the count for (key, dest) within the window
 * reaches the threshold, the key is throttled towards dest (durably).
 * dest may be NULL (counted, never throttles).
 */
__attribute__((warn_unused_result))
int	sender_record_deferral(struct store *, const struct policy_conf *,
	    const struct sender_keys *, const char *dest, const char *category,
	    const char *reason, int64_t now_ms);

/* Operator actions (egressctl): durable before they return. */
__attribute__((warn_unused_result))
int	sender_hold(struct store *, const char *key, int64_t now,
	    int64_t duration, const char *who, const char *why);
__attribute__((warn_unused_result))
int	sender_suspend(struct store *, const char *key, int64_t now,
	    int64_t duration, const char *who, const char *why);

/* ---- health (Redis outages), for operators and tests ---- */

/*
 * What the backend's outage handling has done since the store opened.
 * LMDB has no outages: all zero. probe_overlaps counts probes let through
 * while another was in flight (the design says never: 0).
 */
struct store_health {
	int		down;		/* answering STORE_UNAVAILABLE now */
	int64_t		backoff_ms;	/* the current retry interval */
	int64_t		next_probe_ms;	/* ms until a probe may go (0: now) */
	uint64_t	outages;	/* times the store went down */
	uint64_t	probes;		/* calls let through while down */
	uint64_t	probe_failures;	/* of those, failed (each doubles) */
	uint64_t	probe_overlaps;
	uint64_t	backoff_steps;	/* times the backoff doubled */
	uint64_t	recoveries;	/* times it came back */
};

void	store_health(struct store *, struct store_health *out);

/* ---- follower cursors (durable) ---- */

/*
 * Where a delivery-log follower stands in its file: the file's identity
 * (device, inode, and a hash of its first bytes, so a file recreated with
 * a recycled inode is told apart) and the offset of the first line not yet
 * counted. pending is the end of a batch being counted (0 when none): a
 * cursor found with pending > offset means the follower stopped while
 * counting [offset, pending), and the follower skips that range rather
 * than count any of it twice.
 */
#define STORE_CURSOR_NAME_MAX	300

struct store_cursor {
	uint64_t	dev;
	uint64_t	ino;
	uint64_t	head_hash;	/* of the first head_len bytes */
	uint32_t	head_len;
	int64_t		offset;
	int64_t		pending;
	int64_t		updated;	/* seconds */
	uint64_t	lines;		/* lines counted so far in this file */
};

/* Store the cursor of follower name (durable before it returns). */
__attribute__((warn_unused_result))
int	store_cursor_put(struct store *, const char *name,
	    const struct store_cursor *c);
/* The cursor of follower name, or STORE_NOTFOUND. */
__attribute__((warn_unused_result))
int	store_cursor_get(struct store *, const char *name,
	    struct store_cursor *out);

/* Normalise an address for keys and suppressions (lower-case, no <>). */
void	store_addr_norm(const char *in, char *out, size_t outlen);

#endif
