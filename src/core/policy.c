/*
 * policy.c - findings to verdict.
 *
 * Order of precedence, most severe first: reject > tempfail > hold > repair
 * > tag > accept. Each finding contributes its check's configured action;
 * the summed content score contributes the threshold action (reject, hold or
 * tag). Repairs are collected separately: a missing Date or Message-ID is
 * added whatever else happens to the message, unless it is blocked.
 *
 * Two caps apply last: monitor mode turns anything stronger than repair into
 * a tag (and skips repairs: monitor never changes the message content beyond
 * the tag header), and a bounce (null envelope sender) is never rejected,
 * tempfailed or held, because the MTA could not return it.
 *
 * Pure: config, envelope and findings in, verdict out.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "egress/checks.h"
#include "egress/content.h"
#include "egress/policy.h"

#define POLICY_LOG_DETAIL_MAX	120	/* bytes of each finding detail in a log line */

/* An address matches "user@dom", "@dom" or "dom" entries, case-insensitively. */
static int
addr_matches(const struct strlist *l, const char *addr)
{
	const char *at;
	size_t i;

	if (addr == NULL)
		return 0;
	at = strrchr(addr, '@');
	for (i = 0; i < l->n; i++) {
		const char *e = l->v[i];

		if (strcasecmp(e, addr) == 0)
			return 1;
		if (at != NULL && e[0] == '@' && strcasecmp(e + 1, at + 1) == 0)
			return 1;
		if (at != NULL && e[0] != '@' && strchr(e, '@') == NULL &&
		    strcasecmp(e, at + 1) == 0)
			return 1;
	}
	return 0;
}

int
policy_is_exempt(const struct config *cfg, const struct envelope *env)
{
	const struct exempt_conf *x = &cfg->exempt;
	size_t i;

	if (env->mail_from && env->mail_from[0] && addr_matches(&x->senders, env->mail_from))
		return 1;
	if (env->auth_user && env->auth_user[0] &&
	    strlist_has_ci(&x->auth_users, env->auth_user))
		return 1;
	if (env->client_addr)
		for (i = 0; i < x->nclients; i++)
			if (cidr_match(&x->clients[i], env->client_addr))
				return 1;
	if (x->recipient_domains.n > 0 && env->nrcpt > 0) {
		for (i = 0; i < env->nrcpt; i++)
			if (!addr_matches(&x->recipient_domains, env->rcpts[i]))
				break;
		if (i == env->nrcpt)
			return 1;
	}
	return 0;
}

static const char *
default_reply(enum action a)
{
	if (a == ACT_REJECT)
		return POLICY_REPLY_REJECT;
	if (a == ACT_TEMPFAIL)
		return POLICY_REPLY_TEMPFAIL;
	return NULL;
}

/* Apply monitor mode, exemptions and the bounce cap to a raw decision. */
static void
policy_cap(const struct config *cfg, struct verdict *v)
{
	v->would = v->action;
	if (v->exempt) {
		v->action = ACT_ACCEPT;
		v->add_date = v->add_message_id = v->repair_lines =
		    v->replace_message_id = 0;
		v->tag = 0;
		return;
	}
	if (cfg->mode == MODE_MONITOR) {
		if (v->action != ACT_ACCEPT)
			v->tag = 1;
		v->action = v->action == ACT_ACCEPT ? ACT_ACCEPT : ACT_TAG;
		v->add_date = v->add_message_id = v->repair_lines =
		    v->replace_message_id = 0;
		return;
	}
	if (v->bounce && v->action >= ACT_HOLD) {
		v->action = ACT_TAG;
		v->tag = 1;
	}
	if (v->action == ACT_TAG || v->action == ACT_REPAIR)
		v->tag = 1;
	if (v->action >= ACT_HOLD && v->action != ACT_HOLD)
		v->add_date = v->add_message_id = v->repair_lines =
		    v->replace_message_id = 0;
	if (v->reply == NULL)
		v->reply = default_reply(v->action);
	if (v->action < ACT_TEMPFAIL)
		v->reply = v->action == ACT_HOLD ? v->reply : NULL;
	else
		policy_set_reply(v, v->reply);
}

void
policy_set_reply(struct verdict *v, const char *reply)
{
	char rcode[4], xcode[16];
	const char *text;

	v->reply = reply;
	if (reply == NULL || v->action < ACT_TEMPFAIL)
		return;
	if (reply[0] == '4' && v->action == ACT_REJECT) {
		v->action = ACT_TEMPFAIL;
		if (v->would == ACT_REJECT)
			v->would = ACT_TEMPFAIL;
	}
	if (v->action == ACT_TEMPFAIL && reply[0] == '5' &&
	    policy_reply_split(reply, rcode, xcode, &text) == 0) {
		snprintf(v->reply_buf, sizeof(v->reply_buf), "451 4%s %s",
		    xcode + 1, text);
		v->reply = v->reply_buf;
	}
}

void
policy_decide(const struct config *cfg, const struct envelope *env,
    struct findings *f, int is_bounce, struct verdict *v)
{
	const struct check_conf *cc;
	enum action a, best = ACT_ACCEPT;
	const char *best_reply = NULL, *best_id = NULL;
	size_t i;
	int score = 0;

	memset(v, 0, sizeof(*v));
	v->exempt = policy_is_exempt(cfg, env);
	v->bounce = is_bounce;
	for (i = 0; i < f->n; i++) {
		struct finding *fi = &f->v[i];

		if ((cc = config_check(cfg, fi->id)) == NULL) {
			/* An operator rule: its own score and optional action. */
			const struct content_rule *r =
			    content_rule_lookup(&cfg->content, fi->id);

			if (r == NULL)
				continue;
			fi->score = r->score;
			score += r->score;
			if (r->has_action && r->action > best) {
				best = r->action == ACT_REPAIR ? ACT_TAG : r->action;
				best_reply = NULL;
				best_id = fi->id;
			}
			continue;
		}
		fi->score = cc->score;
		score += cc->score;
		a = cc->action;
		if (a == ACT_REPAIR) {
			if (strcmp(fi->id, "rfc5322.date.missing") == 0)
				v->add_date = 1;
			else if (strcmp(fi->id, "rfc5322.message_id.missing") == 0)
				v->add_message_id = 1;
			else if (strcmp(fi->id, "body.line_too_long") == 0)
				v->repair_lines = 1;
			else if (strcmp(fi->id, "rfc5322.message_id.invalid") == 0)
				v->replace_message_id = 1;
			else
				a = ACT_TAG;	/* nothing to repair: say so in the tag */
		}
		if (a > best) {
			best = a;
			best_reply = cc->reply;
			best_id = fi->id;
		}
	}
	v->score = score;
	/* Thresholds on the summed score (0 disables a threshold). */
	cc = config_check(cfg, "content.score");
	if (cfg->score_reject > 0 && score >= cfg->score_reject) {
		a = ACT_REJECT;
	} else if (cfg->score_hold > 0 && score >= cfg->score_hold) {
		a = ACT_HOLD;
	} else if (cfg->score_tag > 0 && score >= cfg->score_tag) {
		a = ACT_TAG;
	} else
		a = ACT_ACCEPT;
	if (a > best) {
		best = a;
		best_reply = cc ? cc->reply : NULL;
		best_id = "content.score";
	}
	v->action = best;
	v->reply = best_reply;
	v->decided_by = best_id;
	policy_cap(cfg, v);
}

void
policy_decide_one(const struct config *cfg, const struct envelope *env,
    const char *id, struct verdict *v)
{
	const struct check_conf *cc = config_check(cfg, id);

	memset(v, 0, sizeof(*v));
	v->exempt = policy_is_exempt(cfg, env);
	v->bounce = env->mail_from != NULL && env->mail_from[0] == '\0';
	if (cc == NULL)
		return;
	v->action = cc->action == ACT_REPAIR ? ACT_TAG : cc->action;
	v->reply = cc->reply;
	v->decided_by = id;
	policy_cap(cfg, v);
}

void
policy_fact_reply(const struct config *cfg, struct verdict *v,
    const struct sender_fact *f)
{
	const struct check_conf *cc;
	const struct check_def *def;

	if (f == NULL || f->reply[0] == '\0' || v->action < ACT_TEMPFAIL ||
	    v->decided_by == NULL || strcmp(v->decided_by, f->check_id) != 0)
		return;
	cc = config_check(cfg, f->check_id);
	def = checks_lookup(f->check_id);
	/* A reply the operator wrote wins over the record's wording. */
	if (cc != NULL && cc->reply != NULL &&
	    (def == NULL || def->reply == NULL || strcmp(cc->reply, def->reply) != 0))
		return;
	policy_set_reply(v, f->reply);
}

void
policy_decide_facts(const struct config *cfg, const struct envelope *env,
    const struct sender_facts *f, struct verdict *v)
{
	const struct sender_fact *best = NULL;
	enum action a, best_a = ACT_ACCEPT;
	size_t i;

	for (i = 0; i < f->n; i++) {
		const struct check_conf *cc = config_check(cfg, f->v[i].check_id);

		if (cc == NULL)
			continue;
		a = cc->action == ACT_REPAIR ? ACT_TAG : cc->action;
		if (best == NULL || a > best_a) {
			best = &f->v[i];
			best_a = a;
		}
	}
	if (best == NULL || best_a == ACT_ACCEPT) {
		memset(v, 0, sizeof(*v));
		v->exempt = policy_is_exempt(cfg, env);
		v->bounce = env->mail_from != NULL && env->mail_from[0] == '\0';
		return;
	}
	policy_decide_one(cfg, env, best->check_id, v);
	policy_fact_reply(cfg, v, best);
}

int
policy_tag_value(const struct findings *f, const struct verdict *v,
    struct buf *out)
{
	size_t i;
	int rc = BUF_OK;

	for (i = 0; i < f->n && rc == BUF_OK; i++)
		rc = buf_printf(out, "%s%s(%d)", i ? ", " : "", f->v[i].id,
		    f->v[i].score);
	if (rc == BUF_OK && f->dropped)
		rc = buf_printf(out, ", +%zu more", f->dropped);
	if (rc == BUF_OK)
		rc = buf_printf(out, "%sscore=%d; action=%s", f->n ? "; " : "",
		    v->score, action_name(v->would));
	return rc;
}

int
policy_log_line(const struct envelope *env, const struct findings *f,
    const struct verdict *v, struct buf *out)
{
	const char *from = env->mail_from ? env->mail_from : "";
	size_t i;
	int rc;

	rc = buf_puts(out, "sender=<");
	if (rc == BUF_OK)
		rc = log_escape(out, from, strlen(from), 320);
	if (rc == BUF_OK)
		rc = buf_printf(out, "> nrcpt=%zu", env->nrcpt);
	if (rc == BUF_OK && env->auth_user && env->auth_user[0]) {
		rc = buf_puts(out, " sasl_username=");
		if (rc == BUF_OK)
			rc = log_escape(out, env->auth_user, strlen(env->auth_user), 128);
	}
	if (rc == BUF_OK)
		rc = buf_puts(out, " findings=");
	if (rc == BUF_OK && f->n == 0)
		rc = buf_puts(out, "none");
	for (i = 0; i < f->n && rc == BUF_OK; i++) {
		rc = buf_printf(out, "%s%s", i ? "," : "", f->v[i].id);
		/* Details are already escaped when the finding is added. */
		if (rc == BUF_OK && f->v[i].detail[0])
			rc = buf_printf(out, "(%.*s)", POLICY_LOG_DETAIL_MAX,
			    f->v[i].detail);
	}
	if (rc == BUF_OK && f->dropped)
		rc = buf_printf(out, ",+%zu", f->dropped);
	if (rc == BUF_OK)
		rc = buf_printf(out, " score=%d action=%s", v->score,
		    action_name(v->action));
	if (rc == BUF_OK && v->would != v->action)
		rc = buf_printf(out, " would=%s%s", action_name(v->would),
		    v->exempt ? " exempt=yes" : v->bounce ? " bounce=yes" : "");
	if (rc == BUF_OK && v->add_date)
		rc = buf_puts(out, " repair=date");
	if (rc == BUF_OK && v->add_message_id)
		rc = buf_puts(out, " repair=message-id");
	if (rc == BUF_OK && v->reply && v->action >= ACT_TEMPFAIL)
		rc = buf_printf(out, " reply=\"%s\"", v->reply);
	return rc;
}

int
policy_reply_split(const char *reply, char *rcode, char *xcode,
    const char **text)
{
	size_t n;

	if (reply == NULL || strlen(reply) < 10 || reply[3] != ' ')
		return -1;
	memcpy(rcode, reply, 3);
	rcode[3] = '\0';
	reply += 4;
	n = strcspn(reply, " ");
	if (n == 0 || n > 15 || reply[n] != ' ')
		return -1;
	memcpy(xcode, reply, n);
	xcode[n] = '\0';
	*text = reply + n + 1;
	return 0;
}
