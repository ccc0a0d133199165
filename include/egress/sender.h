/*
 * sender - the sender-record policy: pure evaluation, no I/O.
 *
 * The policy turns classified delivery failures (category and reason strings
 * from the bounce classifier, DESIGN.md vocabulary) into actions on the
 * sender: tag, throttle, hold, suspend, and into recipient suppressions.
 * Everything here works on values it is handed (counts, stored statuses, the
 * time): the store and the milter-facing calls that read and write it live
 * in store.h (src/store/record.c).
 *
 * Rules. Each rule names a category (and optionally a reason), a scope
 * (sender key, sender key + destination domain, or recipient), a threshold
 * (count within a window) and an action with a duration. When a failure is
 * recorded and a rule's count reaches its threshold, the action is stored as
 * the sender's status (or the recipient's suppression) until it expires or an
 * operator releases it. Counting starts again after a release.
 *
 * Rates are GCRA token buckets in milliseconds: a rate of N per unit is an
 * emission interval of unit/N; a burst of B lets B requests pass at once from
 * a full bucket. From a full bucket, over any period D at most
 * B + floor(D / interval) requests pass.
 *
 * Defaults (policy_conf_default) are conservative: no default rule suspends
 * or holds a sender on fewer than 25 failures, the warm-up ramp and static
 * rate limits are off, and one hard recipient bounce suppresses only that
 * recipient.
 */
#ifndef EGRESS_SENDER_H
#define EGRESS_SENDER_H

#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

#include "egress/buf.h"

struct cfg_errors;

#define SENDER_KEY_MAX		320	/* "env:" + address (RFC 5321 path) */
#define SENDER_NAME_MAX		32	/* category / reason strings */
#define SENDER_WHY_MAX		200	/* operator note on hold / release */
#define SENDER_WHO_MAX		64
#define SENDER_HEADER_MAX	256	/* X-Egress-Sender-Status value */
#define SENDER_REPLY_MAX	512
#define POLICY_RULES_MAX	64

/* Sender key types, a bit set: several may be configured at once. */
enum sender_keytype {
	SK_ENVELOPE = 1 << 0,	/* "env:" envelope sender (MAIL FROM), lower-cased */
	SK_AUTH = 1 << 1,	/* "auth:" SASL login ({auth_authen}) */
	SK_DOMAIN = 1 << 2,	/* "dom:" domain of the envelope sender */
};

/* Stored sender actions, ordered by severity. */
enum sender_action {
	SACT_NONE = 0,
	SACT_TAG,
	SACT_THROTTLE,
	SACT_HOLD,
	SACT_SUSPEND,
	SACT_SUPPRESS,		/* recipient scope only */
	SACT__COUNT
};

enum rule_scope {
	SCOPE_SENDER = 0,	/* per sender key, all destinations */
	SCOPE_DEST,		/* per (sender key, destination domain) */
	SCOPE_RECIPIENT,	/* per recipient address (suppression) */
};

/* A rate as a GCRA emission interval; interval_ms 0 = unlimited. */
struct rate {
	int64_t	interval_ms;
	int64_t	burst;
};

struct policy_rule {
	char		*category;	/* DESIGN.md category, owned */
	char		*reason;	/* NULL: any reason of the category */
	int		 hard_only;	/* count only permanent (5xx) failures */
	enum rule_scope	 scope;
	long long	 threshold;	/* count within window that triggers */
	long long	 window;	/* seconds */
	enum sender_action action;
	long long	 duration;	/* seconds the action lasts; 0 = until released */
	struct rate	 rate;		/* throttle: the lowered rate */
};

struct warmup_conf {
	int		 enabled;
	long long	 days;		/* ramp length after first seen */
	long long	 start_per_hour;/* allowed rate on day 0 */
	long long	 growth_pct;	/* rate grows by this much per day */
	long long	 burst;
};

/*
 * Deferrals (4xx replies the MTA logs as status=deferred and retries; read
 * by the delivery-log follower) count apart from failures: they never
 * reach a failure rule, so nothing suspends, holds or tags a sender on
 * deferrals alone. `threshold` deferrals whose category or reason is in
 * `count`, from one sender key to one destination domain within `window`,
 * throttle that key to that domain at `rate` for `duration`; mail to other
 * domains flows.
 */
#define DEFERRAL_MATCH_MAX	16

struct deferral_conf {
	int		 enabled;
	char		*count[DEFERRAL_MATCH_MAX];	/* categories or reasons, owned */
	size_t		 ncount;
	long long	 threshold;
	long long	 window;	/* seconds */
	long long	 duration;	/* seconds */
	struct rate	 rate;		/* the throttled rate */
};

struct policy_conf {
	unsigned	 keys;		/* enum sender_keytype bits */
	char		*tag_header;	/* "X-Egress-Sender-Status" */
	struct rate	 rate;		/* static per-key limit (MAIL FROM) */
	struct warmup_conf warmup;
	struct deferral_conf deferral;
	struct policy_rule *rules;
	size_t		 nrules;
};

/* A stored decision about a sender key (or key + destination). */
struct sender_status {
	enum sender_action action;
	int64_t		 since;		/* seconds */
	int64_t		 until;		/* seconds; 0 = until released */
	uint32_t	 count;		/* failures that triggered it */
	uint32_t	 window;	/* seconds */
	int64_t		 interval_ms;	/* throttle rate */
	int64_t		 burst;
	int		 manual;	/* set by an operator */
	char		 category[SENDER_NAME_MAX];
	char		 reason[SENDER_NAME_MAX];
	char		 who[SENDER_WHO_MAX];
	char		 why[SENDER_WHY_MAX];
};

/*
 * The sender keys of one message, "type:value" strings (may be ""), and
 * the envelope address itself (lower-cased, whatever keys are configured):
 * a bounce names only the envelope sender, so failures reach the SASL login
 * through the link the store keeps from address to login.
 */
struct sender_keys {
	char	env[SENDER_KEY_MAX];
	char	auth[SENDER_KEY_MAX];
	char	dom[SENDER_KEY_MAX];
	char	addr[SENDER_KEY_MAX];
};

/*
 * What the sender record found about one message: facts, not actions. Each
 * fact names a registry check (checks.h: sender.suspended, sender.held,
 * sender.tagged, sender.throttled, sender.rate, sender.warmup,
 * recipient.suppressed); the policy (policy_decide_facts) gives it the
 * action, reply, monitor mode, exemptions and bounce rule configured for
 * that check, exactly as for a content finding.
 */
#define SENDER_FACTS_MAX	8

struct sender_fact {
	const char	*check_id;	/* registry id (static) */
	char		 key[SENDER_KEY_MAX];	/* the key (or recipient) it is about */
	/* The record's precise wording ("550 5.1.1 <a@b>: Recipient previously
	 * bounced: userunknown") or "": used unless the operator configured a
	 * reply of their own for the check; codes then follow the action. */
	char		 reply[SENDER_REPLY_MAX];
	int64_t		 retry_ms;	/* throttles: time to the next token */
};

struct sender_facts {
	struct sender_fact v[SENDER_FACTS_MAX];
	size_t		 n;
	char		 header[SENDER_HEADER_MAX];	/* status header value or "" */
	int		 header_sev;	/* enum sender_action behind header */
	const char	*header_name;	/* policy tag_header (not owned) */
	int		 degraded;	/* store unavailable: nothing could be read */
};

/* Empty f; header_name from p (p may be NULL). */
void	sender_facts_init(struct sender_facts *f, const struct policy_conf *p);
/*
 * Add a fact (reply may be NULL). A check already present keeps its first
 * fact; a full set drops the new one. Returns the fact added or NULL.
 */
struct sender_fact *sender_facts_add(struct sender_facts *f, const char *check_id,
	    const char *key, int64_t retry_ms, const char *reply);
/* The fact of check_id, or NULL. Returns a pointer into f. */
const struct sender_fact *sender_facts_find(const struct sender_facts *f,
	    const char *check_id);
/* Add every fact of from to into (sender_facts_add rules); the header of the
 * more severe status wins (into's on a tie). */
void	sender_facts_merge(struct sender_facts *into, const struct sender_facts *from);

/* ---- configuration ---- */

/* Fill p with the documented defaults (owned strings; policy_conf_fini). */
__attribute__((warn_unused_result))
int	policy_conf_default(struct policy_conf *p);
void	policy_conf_fini(struct policy_conf *p);
/*
 * Parse the `policy` group (may be NULL) over p, which holds the defaults
 * (policy_conf_default); configured rules replace the default rules.
 * Errors are recorded in errs; returns 0 or -1.
 */
int	policy_config_load(struct policy_conf *p, const config_setting_t *grp,
	    struct cfg_errors *errs);
/* The longest rule window, seconds. */
long long policy_max_window(const struct policy_conf *p);

/* Parse "600/h", "10/m", "2/s", "1000/d"; returns 0 or -1. */
int	rate_parse(const char *s, int64_t *interval_ms);

const char	*sender_action_name(enum sender_action);
int		 sender_action_parse(const char *, enum sender_action *);
/* The DESIGN.md category of a reason string, or NULL if unknown. */
const char	*sender_reason_category(const char *reason);
int		 sender_category_is_known(const char *category);

/* ---- keys ---- */

/*
 * Build the configured keys of a message. mail_from is the envelope sender
 * (brackets allowed; NULL or "" for the null sender: no key), auth may be
 * NULL. Returns 0 when the message has a sender the record can follow (a
 * key, or the envelope address for the SASL-login link), -1 for the null
 * sender without a login; sender_keys_count() tells how many keys.
 */
int	sender_keys_make(const struct policy_conf *p, const char *mail_from,
	    const char *auth, struct sender_keys *out);
int	sender_keys_count(const struct sender_keys *k);
/* The i-th key (0..2) or NULL when that key is empty. */
const char *sender_keys_at(const struct sender_keys *k, int i);

/* ---- evaluation ---- */

/*
 * GCRA take at now_ms. *tat is the theoretical arrival time (0 for a new,
 * full bucket). Returns 1 and advances *tat when allowed; returns 0 and sets
 * *retry_ms (if not NULL) when over the rate. interval_ms 0 always allows.
 */
int	rate_take(int64_t *tat, int64_t now_ms, int64_t interval_ms,
	    int64_t burst, int64_t *retry_ms);
/* The tat of a bucket that starts empty at start_ms (first pass at +interval). */
int64_t	rate_empty_tat(int64_t start_ms, int64_t interval_ms, int64_t burst);

/*
 * The warm-up interval for a sender first seen at first_seen (seconds) at
 * now (seconds): 0 when the ramp is off or over.
 */
int64_t	sender_warmup_interval(const struct policy_conf *p, int64_t first_seen,
	    int64_t now);

/* Non-zero when the deferral throttle counts a deferral of this class. */
int	policy_deferral_counts(const struct policy_conf *p, const char *category,
	    const char *reason);

/*
 * The status the deferral throttle stores for (key, destination) after
 * count deferrals: a throttle at the configured rate until now + duration,
 * category/reason of the deferral that triggered it.
 */
void	sender_status_from_deferrals(const struct policy_conf *p,
	    const char *category, const char *reason, uint32_t count, int64_t now,
	    struct sender_status *out);

/* Non-zero when rule r counts a failure of this category/reason/hardness. */
int	policy_rule_matches(const struct policy_rule *r, const char *category,
	    const char *reason, int hard);

/* Non-zero when status s is in force at now (not expired, not NONE). */
int	sender_status_active(const struct sender_status *s, int64_t now);

/*
 * The status a triggered rule stores: action, since now, until
 * now + duration (0 = until released), the count and window.
 */
void	sender_status_from_rule(const struct policy_rule *r, const char *category,
	    const char *reason, uint32_t count, int64_t now,
	    struct sender_status *out);

/*
 * Format the tag header value for a status, e.g.
 * "throttled; reason=reputation; rejections=3/1h". Appends to out.
 */
__attribute__((warn_unused_result))
int	sender_status_header(const struct sender_status *s, const char *dest,
	    struct buf *out);

/* "30s", "5m", "1h", "2d": the shortest exact form of a duration. */
void	duration_format(int64_t secs, char *out, size_t outlen);

#endif
