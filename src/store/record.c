/*
 * record.c - the sender record: what the milter calls at MAIL FROM, RCPT and
 * when a bounce has been classified, and the operator's hold and suspend.
 *
 * This is the I/O half of the sender policy: it reads and writes the store
 * and leaves every decision to the pure core: the rules' arithmetic to
 * src/core/sender.c, what a status means for a message (reject, tag, ...)
 * to the policy (policy_decide_facts), which reads the configured action of
 * each check. The record reports facts; it never picks an action or reply.
 *
 * Counting. A failure adds 1 to these event fields of each sender key:
 * "c/CAT", "r/CAT/REASON", and with a destination "d/DEST/CAT",
 * "e/DEST/CAT/REASON"; hard failures also "h/CAT", "H/CAT/REASON",
 * "dh/DEST/CAT", "eh/DEST/CAT/REASON". The recipient ("rcpt:ADDR") gets the
 * sender-scope fields. A rule counts the field of its scope, reason and
 * hardness over its window, from the first bucket after the key's last
 * release, and stores its action when the count reaches the threshold. A
 * stored action is only replaced by a more severe one or extended by the
 * same one; operator decisions are never replaced by the policy.
 *
 * Failure handling: the store's STORE_UNAVAILABLE (Redis down) gives an
 * "accept, degraded" decision; mail is never refused because the store is
 * unreachable.
 */
#include <stdio.h>
#include <string.h>

#include "egress/sender.h"
#include "egress/store.h"

#define FIELD_SZ	STORE_FIELD_MAX

/* No control characters: such text from a bounce is not recorded. */
static int
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return 0;
	return 1;
}

static void
lower_dest(const char *in, char *out, size_t outlen)
{
	store_addr_norm(in, out, outlen);
}

/* Keep the header of the most severe status seen. */
static void
set_header(struct sender_facts *d, const struct sender_status *s,
    const char *dest)
{
	struct buf b;

	if ((int)s->action <= d->header_sev)
		return;
	buf_init(&b, sizeof(d->header) - 1);
	if (sender_status_header(s, dest, &b) == BUF_OK) {
		snprintf(d->header, sizeof(d->header), "%s", buf_cstr(&b));
		d->header_sev = (int)s->action;
	}
	buf_fini(&b);
}

static const char *
rate_name(char *out, size_t outlen, const char *dest, int64_t since)
{
	snprintf(out, outlen, "thr:%s:%lld", dest, (long long)since);
	return out;
}

/*
 * Bounces name the envelope sender only: remember which SASL login sends as
 * which address, so their failures also count for the login. Written only
 * when it changes.
 */
static int
link_auth(struct store *st, const struct policy_conf *p,
    const struct sender_keys *k, int64_t now)
{
	char from[SENDER_KEY_MAX + 8], cur[SENDER_KEY_MAX];
	int rc;

	if (!(p->keys & SK_AUTH) || k->auth[0] == '\0' || k->addr[0] == '\0')
		return STORE_OK;
	snprintf(from, sizeof(from), "env:%s", k->addr);
	rc = store_link_get(st, from, now, cur, sizeof(cur));
	if (rc == STORE_OK && strcmp(cur, k->auth) == 0)
		return STORE_OK;
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	return store_link_put(st, from, k->auth, now);
}

int
sender_check(struct store *st, const struct policy_conf *p,
    const struct sender_keys *keys, const char *dest_in, int64_t now_ms,
    struct sender_facts *d)
{
	struct sender_status sts[3];
	int have[3] = { 0, 0, 0 };
	char dest[STORE_ADDR_MAX], name[STORE_ADDR_MAX + 32];
	const char *key;
	int64_t now = now_ms / 1000, retry;
	int i, rc, allowed, stop = 0;

	sender_facts_init(d, p);
	dest[0] = '\0';
	if (dest_in != NULL)
		lower_dest(dest_in, dest, sizeof(dest));
	if (dest_in == NULL) {
		rc = link_auth(st, p, keys, now);
		if (rc == STORE_UNAVAILABLE)
			goto degraded;
	}
	/* statuses first: a suspension or hold takes no tokens */
	for (i = 0; i < 3; i++) {
		if ((key = sender_keys_at(keys, i)) == NULL)
			continue;
		if (dest_in == NULL) {
			rc = store_meta_touch(st, key, now, 1, 0);
			if (rc == STORE_UNAVAILABLE)
				goto degraded;
		}
		rc = store_status_get(st, key, dest, now, &sts[i]);
		if (rc == STORE_UNAVAILABLE || rc == STORE_ERROR)
			goto degraded_rc;
		if (rc != STORE_OK)
			continue;
		have[i] = 1;
		set_header(d, &sts[i], dest);
		switch (sts[i].action) {
		case SACT_SUSPEND:
			/* The default text blames failures: say who decided. */
			(void)sender_facts_add(d, "sender.suspended", key, 0,
			    sts[i].manual ?
			    "550 5.7.1 Sender suspended by the postmaster" : NULL);
			stop = 1;
			break;
		case SACT_HOLD:
			(void)sender_facts_add(d, "sender.held", key, 0, NULL);
			break;
		case SACT_TAG:
		case SACT_THROTTLE:
			(void)sender_facts_add(d, "sender.tagged", key, 0, NULL);
			break;
		default:
			break;
		}
	}
	if (stop)
		return STORE_OK;
	for (i = 0; i < 3; i++) {
		if ((key = sender_keys_at(keys, i)) == NULL)
			continue;
		if (have[i] && sts[i].action == SACT_THROTTLE) {
			struct rate r = { sts[i].interval_ms, sts[i].burst };

			rc = store_rate_take(st, key, rate_name(name, sizeof(name),
			    dest, sts[i].since), now_ms, &r,
			    rate_empty_tat(sts[i].since * 1000, r.interval_ms, r.burst),
			    &allowed, &retry);
			if (rc != STORE_OK)
				goto degraded_rc;
			if (!allowed)
				(void)sender_facts_add(d, "sender.throttled", key, retry, NULL);
		}
		if (dest_in != NULL)
			continue;
		if (p->rate.interval_ms > 0) {
			rc = store_rate_take(st, key, "rate", now_ms, &p->rate, 0,
			    &allowed, &retry);
			if (rc != STORE_OK)
				goto degraded_rc;
			if (!allowed)
				(void)sender_facts_add(d, "sender.rate", key, retry, NULL);
		}
		if (p->warmup.enabled) {
			struct store_meta m;
			struct rate r;

			rc = store_meta_get(st, key, now, &m);
			if (rc == STORE_UNAVAILABLE || rc == STORE_ERROR)
				goto degraded_rc;
			r.interval_ms = rc == STORE_OK ?
			    sender_warmup_interval(p, m.first_seen, now) : 0;
			r.burst = p->warmup.burst;
			if (r.interval_ms > 0) {
				rc = store_rate_take(st, key, "warm", now_ms, &r, 0,
				    &allowed, &retry);
				if (rc != STORE_OK)
					goto degraded_rc;
				if (!allowed)
					(void)sender_facts_add(d, "sender.warmup", key, retry, NULL);
			}
		}
	}
	return STORE_OK;
degraded:
	rc = STORE_UNAVAILABLE;
degraded_rc:
	sender_facts_init(d, p);
	d->degraded = 1;
	return rc;
}

int
recipient_check(struct store *st, const char *rcpt, int64_t now_ms,
    struct sender_facts *d)
{
	char addr[STORE_ADDR_MAX], reply[SENDER_REPLY_MAX];
	struct store_supp s;
	int rc;

	sender_facts_init(d, NULL);
	store_addr_norm(rcpt, addr, sizeof(addr));
	if (addr[0] == '\0' || !printable(addr))
		return STORE_OK;	/* never stored, so never suppressed */
	rc = store_supp_get(st, addr, now_ms / 1000, &s);
	if (rc == STORE_NOTFOUND)
		return STORE_OK;
	if (rc != STORE_OK) {
		d->degraded = 1;
		return rc;
	}
	switch (s.source) {
	case SUPP_COMPLAINT:
		snprintf(reply, sizeof(reply),
		    "550 5.7.1 <%s>: Recipient previously complained: %s", addr,
		    s.reason);
		break;
	case SUPP_MANUAL:
		snprintf(reply, sizeof(reply),
		    "550 5.1.1 <%s>: Recipient suppressed by the postmaster: %s",
		    addr, s.reason[0] != '\0' ? s.reason : "manual");
		break;
	default:
		snprintf(reply, sizeof(reply),
		    "550 5.1.1 <%s>: Recipient previously bounced: %s", addr,
		    s.reason);
		break;
	}
	(void)sender_facts_add(d, "recipient.suppressed", addr, 0, reply);
	return STORE_OK;
}

/* ---- counting ---- */

struct sum_arg {
	const char	*field;
	uint64_t	 total;
};

static int
sum_cb(void *arg, int64_t bucket, const char *field, uint64_t count)
{
	struct sum_arg *a = arg;

	(void)bucket;
	if (strcmp(field, a->field) == 0)
		a->total += count;
	return 0;
}

/* The event field a rule counts for this failure. */
static int
rule_field(const struct policy_rule *r, const char *cat, const char *reason,
    const char *dest, char *out, size_t outlen)
{
	int n;

	if (r->scope == SCOPE_DEST) {
		if (r->reason != NULL)
			n = snprintf(out, outlen, "%s/%s/%s/%s",
			    r->hard_only ? "eh" : "e", dest, cat, reason);
		else
			n = snprintf(out, outlen, "%s/%s/%s",
			    r->hard_only ? "dh" : "d", dest, cat);
	} else if (r->reason != NULL)
		n = snprintf(out, outlen, "%s/%s/%s", r->hard_only ? "H" : "r",
		    cat, reason);
	else
		n = snprintf(out, outlen, "%s/%s", r->hard_only ? "h" : "c", cat);
	return n > 0 && (size_t)n < outlen ? 0 : -1;
}

static int
count_field(struct store *st, const char *key, const char *field,
    int64_t since, int64_t now, uint64_t *total)
{
	struct sum_arg a = { field, 0 };
	int rc;

	rc = store_event_scan(st, key, since, now, sum_cb, &a);
	*total = a.total;
	return rc;
}

/* Store the status a rule triggered unless something as severe is in force. */
static int
apply_status(struct store *st, const char *key, const char *dest,
    const struct sender_status *ns, int64_t now)
{
	struct sender_status cur;
	int rc;

	rc = store_status_get(st, key, dest, now, &cur);
	if (rc == STORE_OK) {
		if (cur.manual || cur.action > ns->action)
			return STORE_OK;
		if (cur.action == ns->action &&
		    (cur.until == 0 || (ns->until != 0 && ns->until <= cur.until)))
			return STORE_OK;
	} else if (rc != STORE_NOTFOUND)
		return rc;
	return store_status_put(st, key, dest, ns);
}

static int
apply_suppress(struct store *st, const struct policy_rule *r, const char *rcpt,
    const char *reason, int64_t now)
{
	struct store_supp cur, s;
	int rc;

	rc = store_supp_get(st, rcpt, now, &cur);
	if (rc == STORE_OK && (cur.expires == 0 ||
	    (r->duration != 0 && cur.expires >= now + r->duration)))
		return STORE_OK;
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	memset(&s, 0, sizeof(s));
	snprintf(s.reason, sizeof(s.reason), "%s", reason);
	s.source = strcmp(reason, "feedback") == 0 ? SUPP_COMPLAINT : SUPP_BOUNCE;
	s.created = now;
	s.expires = r->duration > 0 ? now + r->duration : 0;
	snprintf(s.who, sizeof(s.who), "policy");
	return store_supp_put(st, rcpt, &s);
}

static int
worst_rc(int a, int b)
{
	/* errors are negative; keep the first one */
	return a < 0 ? a : b;
}

int
sender_record_failure(struct store *st, const struct policy_conf *p,
    const struct sender_keys *keys, const char *dest_in, const char *category,
    const char *reason, int hard, const char *rcpt_in, int64_t now_ms)
{
	char dest[STORE_ADDR_MAX], rcpt[STORE_ADDR_MAX], rkey[STORE_ADDR_MAX + 8] = "";
	char f[8][FIELD_SZ], rf[FIELD_SZ];
	const char *fields[8], *key;
	struct sender_keys lk;
	struct store_meta m;
	int64_t now = now_ms / 1000, released[3] = { 0, 0, 0 };
	size_t nf = 0, ns, r, i;
	int rc = STORE_OK, rc2;
	uint64_t count;

	if (reason == NULL || *reason == '\0')
		reason = "undefined";
	/* the DESIGN.md table decides; the caller's category is a fallback */
	if (sender_reason_category(reason) != NULL)
		category = sender_reason_category(reason);
	if (category == NULL || *category == '\0')
		category = "transient";
	if (strlen(category) >= SENDER_NAME_MAX || strlen(reason) >= SENDER_NAME_MAX ||
	    strpbrk(category, "/\t") != NULL || strpbrk(reason, "/\t") != NULL)
		return STORE_ERROR;
	dest[0] = rcpt[0] = '\0';
	if (dest_in != NULL)
		lower_dest(dest_in, dest, sizeof(dest));
	if (!printable(dest) || strchr(dest, '/') != NULL)
		dest[0] = '\0';	/* count for the sender, not for that domain */
	if (rcpt_in != NULL)
		store_addr_norm(rcpt_in, rcpt, sizeof(rcpt));
	if (!printable(rcpt))
		rcpt[0] = '\0';	/* nothing to suppress */
	/* the login that last sent as this envelope sender */
	lk = *keys;
	keys = &lk;
	if ((p->keys & SK_AUTH) && lk.auth[0] == '\0' && lk.addr[0] != '\0') {
		char from[SENDER_KEY_MAX + 8];

		snprintf(from, sizeof(from), "env:%s", lk.addr);
		rc2 = store_link_get(st, from, now, lk.auth, sizeof(lk.auth));
		if (rc2 == STORE_UNAVAILABLE)
			return rc2;
	}

	snprintf(f[nf++], FIELD_SZ, "c/%s", category);
	snprintf(f[nf++], FIELD_SZ, "r/%s/%s", category, reason);
	if (hard) {
		snprintf(f[nf++], FIELD_SZ, "h/%s", category);
		snprintf(f[nf++], FIELD_SZ, "H/%s/%s", category, reason);
	}
	ns = nf;		/* the sender-scope fields, also the recipient's */
	if (dest[0] != '\0') {
		snprintf(f[nf++], FIELD_SZ, "d/%s/%s", dest, category);
		snprintf(f[nf++], FIELD_SZ, "e/%s/%s/%s", dest, category, reason);
		if (hard) {
			snprintf(f[nf++], FIELD_SZ, "dh/%s/%s", dest, category);
			snprintf(f[nf++], FIELD_SZ, "eh/%s/%s/%s", dest, category, reason);
		}
	}
	for (i = 0; i < nf; i++)
		fields[i] = f[i];

	for (i = 0; i < 3; i++) {
		if ((key = sender_keys_at(keys, i)) == NULL)
			continue;
		rc2 = store_event_add(st, key, now, fields, nf);
		if (rc2 == STORE_OK)
			rc2 = store_meta_touch(st, key, now, 0, 1);
		if (rc2 == STORE_OK && store_meta_get(st, key, now, &m) == STORE_OK)
			released[i] = m.released_at;
		if (rc2 == STORE_UNAVAILABLE)
			return rc2;
		rc = worst_rc(rc, rc2);
	}
	if (rcpt[0] != '\0') {
		snprintf(rkey, sizeof(rkey), "rcpt:%s", rcpt);
		rc2 = store_event_add(st, rkey, now, fields, ns);
		if (rc2 == STORE_UNAVAILABLE)
			return rc2;
		rc = worst_rc(rc, rc2);
	}

	for (r = 0; r < p->nrules; r++) {
		const struct policy_rule *rule = &p->rules[r];
		struct sender_status s;

		if (!policy_rule_matches(rule, category, reason, hard))
			continue;
		if (rule->scope == SCOPE_DEST && dest[0] == '\0')
			continue;
		if (rule_field(rule, category, reason, dest, rf, sizeof(rf)) != 0)
			continue;
		if (rule->scope == SCOPE_RECIPIENT) {
			if (rcpt[0] == '\0')
				continue;
			rc2 = count_field(st, rkey, rf, now - rule->window, now, &count);
			if (rc2 == STORE_OK && count >= (uint64_t)rule->threshold)
				rc2 = apply_suppress(st, rule, rcpt, reason, now);
			if (rc2 == STORE_UNAVAILABLE)
				return rc2;
			rc = worst_rc(rc, rc2);
			continue;
		}
		for (i = 0; i < 3; i++) {
			int64_t since = now - rule->window;

			if ((key = sender_keys_at(keys, i)) == NULL)
				continue;
			if (released[i] > since)
				since = released[i];
			rc2 = count_field(st, key, rf, since, now, &count);
			if (rc2 == STORE_OK && count >= (uint64_t)rule->threshold) {
				sender_status_from_rule(rule, category, reason,
				    (uint32_t)count, now, &s);
				rc2 = apply_status(st, key, rule->scope == SCOPE_DEST ?
				    dest : "", &s, now);
			}
			if (rc2 == STORE_UNAVAILABLE)
				return rc2;
			rc = worst_rc(rc, rc2);
		}
	}
	return rc;
}

static int
manual_status(struct store *st, const char *key, enum sender_action a,
    int64_t now, int64_t duration, const char *who, const char *why)
{
	struct sender_status s;

	memset(&s, 0, sizeof(s));
	s.action = a;
	s.since = now;
	s.until = duration > 0 ? now + duration : 0;
	s.manual = 1;
	snprintf(s.who, sizeof(s.who), "%s", who != NULL ? who : "operator");
	snprintf(s.why, sizeof(s.why), "%s", why != NULL ? why : "");
	return store_status_put(st, key, "", &s);
}

int
sender_hold(struct store *st, const char *key, int64_t now, int64_t duration,
    const char *who, const char *why)
{
	return manual_status(st, key, SACT_HOLD, now, duration, who, why);
}

int
sender_suspend(struct store *st, const char *key, int64_t now,
    int64_t duration, const char *who, const char *why)
{
	return manual_status(st, key, SACT_SUSPEND, now, duration, who, why);
}

/* ---- evidence: does a bounce name a message this server sent? ---- */

/*
 * The ledger misses that relaxed (and off) still count; local submissions,
 * own rejections and duplicates never do (DESIGN.md "Evidence").
 */
static int
miss_counts(const struct ledger_conf *lc, enum ledger_reason why)
{
	if (why == LEDGER_LOCAL_SUBMISSION || why == LEDGER_OWN_REJECTION ||
	    why == LEDGER_DUPLICATE || why == LEDGER_BATV_INVALID ||
	    why == LEDGER_BATV_EXPIRED)
		return 0;
	return lc->require != LEDGER_STRICT;
}

int
sender_bounce_evidence(struct store *st, const struct bounce_evidence *b,
    int64_t now, struct ledger_entry *e, enum ledger_reason *why, int *counts)
{
	const struct ledger_conf *lc = store_ledger_conf(st);
	const unsigned char *key = store_ledger_key(st);
	char msgid[LEDGER_MSGID_MAX + 1], senv[SENDER_KEY_MAX + 8];
	char addr[STORE_ADDR_MAX], mark[LEDGER_MARK_MAX];
	int rc = STORE_NOTFOUND, first;

	*counts = 0;
	*why = LEDGER_UNKNOWN_MESSAGE;
	if (b->local) {
		*why = LEDGER_LOCAL_SUBMISSION;
		return STORE_OK;
	}
	if (key == NULL)
		return STORE_UNAVAILABLE;
	if (ledger_msgid_norm(b->message_id, msgid, sizeof(msgid)) != 0)
		msgid[0] = '\0';
	/*
	 * A queue id (only this MTA's own reports are given one) decides
	 * alone which message it was: a Message-ID can be shared by several
	 * messages, a queue id is this MTA's name for one. Queue ids are
	 * reused in time, so a Message-ID the report returns must agree.
	 */
	if (b->queue_id != NULL && b->queue_id[0] != '\0') {
		rc = store_ledger_get_qid(st, b->queue_id, now, e);
		if (rc == STORE_OK && msgid[0] != '\0' && strcmp(msgid, e->msgid) != 0)
			rc = STORE_NOTFOUND;
	} else if (msgid[0] != '\0' && !b->nonsmtp)
		rc = store_ledger_get(st, msgid, now, e);
	if (rc == STORE_NOTFOUND) {
		*why = b->nonsmtp ? LEDGER_LOCAL_SUBMISSION :
		    msgid[0] == '\0' && (b->queue_id == NULL || b->queue_id[0] == '\0') ?
		    LEDGER_NO_ORIGINAL_ID : LEDGER_UNKNOWN_MESSAGE;
		*counts = miss_counts(lc, *why);
		return STORE_OK;
	}
	if (rc != STORE_OK)
		return rc;
	senv[0] = '\0';
	store_addr_norm(b->sender, addr, sizeof(addr));
	if (addr[0] != '\0')
		snprintf(senv, sizeof(senv), "env:%s", addr);
	*why = ledger_match(e, senv, ledger_rcpt_hash(key, b->rcpt));
	if (*why != LEDGER_MATCHED) {
		*counts = miss_counts(lc, *why);
		return STORE_OK;
	}
	ledger_mark(key, e->msgid, b->rcpt, b->status, mark);
	if ((rc = store_ledger_once(st, mark, now, &first)) != STORE_OK)
		return rc;
	if (!first)
		*why = LEDGER_DUPLICATE;
	else
		*counts = 1;
	return STORE_OK;
}

int
sender_record_unmatched(struct store *st, const struct sender_keys *keys,
    enum ledger_reason why, int64_t now_ms)
{
	char field[64];
	const char *f[1] = { field };
	const char *key;
	int64_t now = now_ms / 1000;
	int i, rc, worst = STORE_OK;

	snprintf(field, sizeof(field), "u/%s", ledger_reason_name(why));
	for (i = 0; keys != NULL && i < 3; i++)
		if ((key = sender_keys_at(keys, i)) != NULL &&
		    (rc = store_event_add(st, key, now, f, 1)) != STORE_OK)
			worst = rc;
	if ((rc = store_event_add(st, LEDGER_UNMATCHED_KEY, now, f, 1)) != STORE_OK)
		worst = rc;
	return worst;
}

/* ---- deferrals (the delivery-log follower) ---- */

/*
 * Deferrals are counted in fields of their own, "q/CAT/REASON" for every
 * deferral and "qd/DEST" for those the deferral throttle counts, so no
 * failure rule ever sees them: a sender is throttled towards the domain
 * that defers it, and nothing else happens to it.
 */
int
sender_record_deferral(struct store *st, const struct policy_conf *p,
    const struct sender_keys *keys, const char *dest_in, const char *category,
    const char *reason, int64_t now_ms)
{
	char dest[STORE_ADDR_MAX], f[2][FIELD_SZ];
	const char *fields[2], *key;
	struct store_meta m;
	struct sender_status s;
	int64_t now = now_ms / 1000, since;
	size_t nf = 0;
	int i, rc = STORE_OK, rc2, counts;
	uint64_t count;

	if (reason == NULL || *reason == '\0')
		reason = "undefined";
	if (sender_reason_category(reason) != NULL)
		category = sender_reason_category(reason);
	if (category == NULL || *category == '\0')
		category = "transient";
	if (strlen(category) >= SENDER_NAME_MAX || strlen(reason) >= SENDER_NAME_MAX ||
	    strpbrk(category, "/\t") != NULL || strpbrk(reason, "/\t") != NULL)
		return STORE_ERROR;
	dest[0] = '\0';
	if (dest_in != NULL)
		lower_dest(dest_in, dest, sizeof(dest));
	if (!printable(dest) || strchr(dest, '/') != NULL)
		dest[0] = '\0';
	counts = dest[0] != '\0' && policy_deferral_counts(p, category, reason);
	snprintf(f[nf++], FIELD_SZ, "q/%s/%s", category, reason);
	if (counts && snprintf(f[nf], FIELD_SZ, "qd/%s", dest) < FIELD_SZ)
		nf++;
	else
		counts = 0;
	fields[0] = f[0];
	fields[1] = f[1];
	for (i = 0; i < 3; i++) {
		if ((key = sender_keys_at(keys, i)) == NULL)
			continue;
		rc2 = store_event_add(st, key, now, fields, nf);
		if (rc2 == STORE_UNAVAILABLE)
			return rc2;
		rc = worst_rc(rc, rc2);
		if (rc2 != STORE_OK || !counts)
			continue;
		/*
		 * A throttle in force for at least half its duration more is
		 * left alone: extending it at every deferral would be one
		 * durable write per log line while a domain defers everything.
		 */
		rc2 = store_status_get(st, key, dest, now, &s);
		if (rc2 == STORE_OK && s.action >= SACT_THROTTLE &&
		    (s.until == 0 || s.until - now >= p->deferral.duration / 2))
			continue;
		if (rc2 != STORE_OK && rc2 != STORE_NOTFOUND)
			return rc2;
		since = now - p->deferral.window;
		rc2 = store_meta_get(st, key, now, &m);
		if (rc2 == STORE_OK && m.released_at > since)
			since = m.released_at;
		else if (rc2 != STORE_OK && rc2 != STORE_NOTFOUND)
			return rc2;
		rc2 = count_field(st, key, f[1], since, now, &count);
		if (rc2 == STORE_OK && count >= (uint64_t)p->deferral.threshold) {
			sender_status_from_deferrals(p, category, reason,
			    (uint32_t)count, now, &s);
			rc2 = apply_status(st, key, dest, &s, now);
		}
		if (rc2 == STORE_UNAVAILABLE)
			return rc2;
		rc = worst_rc(rc, rc2);
	}
	return rc;
}
