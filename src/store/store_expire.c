/*
 * store_expire.c - when a stored record has expired, decided in one place
 * for every kind and both backends.
 *
 * The read paths (store.c) treat an expired record as not found; the
 * iterators of both backends skip it; the LMDB writer's sweep deletes it;
 * the Redis backend trims its event index with the same cutoff and gives
 * every key a server-side deadline that is never earlier than the rule
 * here (so Redis can only forget a record the rule already calls expired).
 *
 * Pure functions of the record, the store's configuration and the caller's
 * clock; no locking, callable from any thread.
 */
#include "egress/sender.h"
#include "egress/store.h"
#include "store_int.h"

/*
 * Events: a bucket is expired once no scan can count it. store_event_scan
 * clamps a window to [now - retention, now] and counts a bucket when its
 * start lies in that window, so a bucket that starts before
 * now - retention is already invisible; one bucket length of slack is kept
 * so that a bucket still being added to is never deleted under the scan.
 * Returns the cutoff: buckets starting before it are expired.
 */
int64_t
store_expire_event_before(const struct store *st, int64_t now)
{
	return now - st->conf.retention - st->conf.bucket;
}

int
store_expired_event(const struct store *st, int64_t bucket, int64_t now)
{
	return bucket < store_expire_event_before(st, now);
}

/*
 * Meta: a sender's record is kept sender_ttl after its latest activity,
 * which is the later of last_seen (mail) and released_at (an operator
 * release). A released sender that sends nothing more therefore expires
 * sender_ttl after the release, not sender_ttl after its last message;
 * the release is remembered as long as the sender record is. A record
 * with neither time has nothing to keep it and is expired.
 */
int
store_expired_meta(const struct store *st, const struct store_meta *m,
    int64_t now)
{
	int64_t t = m->last_seen > m->released_at ? m->last_seen : m->released_at;

	return t <= 0 || t + st->conf.sender_ttl < now;
}

/*
 * Statuses: expired when no longer active: no action, or a time limit
 * (until != 0) that has been reached. A status without a limit (a manual
 * hold) never expires; only store_release removes it.
 */
int
store_expired_status(const struct store *st, const struct sender_status *s,
    int64_t now)
{
	(void)st;
	return !sender_status_active(s, now);
}

/*
 * Suppressions: expired once expires (when not 0) has been reached;
 * expires == 0 is forever, until deleted.
 */
int
store_expired_supp(const struct store *st, const struct store_supp *s,
    int64_t now)
{
	(void)st;
	return s->expires != 0 && s->expires <= now;
}

/*
 * Links (address -> login): kept sender_ttl after they were last set
 * (when); a link with an empty target is no link.
 */
int
store_expired_link(const struct store *st, int64_t when, const char *target,
    int64_t now)
{
	return target == NULL || target[0] == '\0' || when + st->conf.sender_ttl < now;
}

/*
 * Rate buckets: a bucket whose theoretical arrival time (milliseconds) has
 * passed is full again, so it says nothing a fresh bucket would not.
 */
int
store_expired_rate(const struct store *st, int64_t tat_ms, int64_t now)
{
	(void)st;
	return tat_ms <= now * 1000;
}

/*
 * Ledger entries and one-time markers: kept ledger.ttl after they were made
 * (an entry is made when its message passed the milter). The size bound
 * (ledger.max_entries) is the backends', oldest first.
 */
int
store_expired_ledger(const struct store *st, int64_t when, int64_t now)
{
	return when + st->conf.ledger.ttl < now;
}
