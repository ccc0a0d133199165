/*
 * policy - turn findings into a verdict.
 *
 * Each finding gets the action and score its check has in the config; the
 * content score is summed and compared with the thresholds; the most severe
 * action wins and its reply is the one the client sees. Monitor mode keeps
 * the decision as `would` and never blocks. Exempt transactions are accepted.
 * A bounce (null envelope sender) is never rejected or tempfailed, whatever
 * the config says: the MTA could not return it and it would be lost.
 */
#ifndef EGRESS_POLICY_H
#define EGRESS_POLICY_H

#include "egress/buf.h"
#include "egress/config.h"
#include "egress/findings.h"
#include "egress/scan.h"
#include "egress/sender.h"

#define POLICY_REPLY_REJECT	"554 5.7.1 Message rejected by local policy"
#define POLICY_REPLY_TEMPFAIL	"451 4.7.1 Message deferred by local policy, try again later"

struct verdict {
	enum action	 action;	/* what the shell must do */
	enum action	 would;		/* what enforce mode would do */
	const char	*reply;		/* "554 5.6.0 text" or NULL; points into the config */
	const char	*decided_by;	/* check id behind the action, or NULL */
	int		 score;		/* content score */
	int		 add_date;	/* repairs the shell must apply */
	int		 add_message_id;
	int		 repair_lines;	/* re-encode parts with over-long lines */
	int		 replace_message_id;	/* replace an invalid Message-ID */
	int		 tag;		/* add the tag header */
	int		 exempt;
	int		 bounce;	/* capped because the message is a bounce */
	char		 reply_buf[512];	/* a reply rewritten by policy_set_reply */
};

/* Is the transaction exempt (sender, auth user, client, recipient domains)? */
int	policy_is_exempt(const struct config *, const struct envelope *);

/* Decide; also fills each finding's score. */
void	policy_decide(const struct config *, const struct envelope *,
	    struct findings *, int is_bounce, struct verdict *);

/*
 * Decide for a single check outside a message scan (e.g. SIZE= at MAIL FROM,
 * too many recipients at RCPT): same action/reply/monitor/bounce rules.
 */
void	policy_decide_one(const struct config *, const struct envelope *,
	    const char *id, struct verdict *);

/*
 * Decide on the facts of the sender record (sender.h) found at MAIL or RCPT:
 * each fact's check has its configured action, the most severe wins (the
 * first on a tie), with monitor mode, exemptions and the bounce rule of
 * policy_decide_one(). A check the operator set to accept decides nothing.
 * The reply is the check's configured one unless the operator kept the
 * registry's default and the fact has a more precise wording
 * (policy_fact_reply). v must not be copied afterwards (policy_set_reply).
 */
void	policy_decide_facts(const struct config *, const struct envelope *,
	    const struct sender_facts *, struct verdict *);

/*
 * When v was decided by f's check and refuses, give it f's wording unless
 * the operator configured a reply of their own for that check.
 */
void	policy_fact_reply(const struct config *, struct verdict *,
	    const struct sender_fact *f);

/*
 * Set the reply of a refusing verdict so that its codes agree with the
 * action: a 4xx reply makes a reject a tempfail (the MTA would treat it so),
 * and a tempfail with a 5xx text is sent as "451 4.x.x text" (a check set to
 * tempfail keeps its text). v->reply may then point into v->reply_buf, so
 * the verdict must not be copied after this.
 */
void	policy_set_reply(struct verdict *, const char *reply);

/* The tag header value: "id(score) detail; ...; score=N; action=X". */
EGRESS_WUR int	policy_tag_value(const struct findings *, const struct verdict *,
		    struct buf *out);

/*
 * The per-message log line (without the queue id prefix the shell adds):
 * sender=<...> nrcpt=N findings=... score=N action=X [would=Y] [reply="..."]
 * Untrusted bytes are escaped.
 */
EGRESS_WUR int	policy_log_line(const struct envelope *, const struct findings *,
		    const struct verdict *, struct buf *out);

/* Split "554 5.6.0 text" into its parts; pointers into a caller buffer. */
int	policy_reply_split(const char *reply, char *rcode, char *xcode,
	    const char **text);

#endif
