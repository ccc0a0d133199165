/*
 * filter.c - libmilter callbacks: thin adapters around the core scan.
 *
 * Connection context: the config snapshot (referenced), client address and
 * the MTA's host name. Message context: envelope, recipients, the scan.
 * Header and body callbacks only feed the scan; everything is decided at end
 * of message, where the verdict is applied: reply, quarantine, tag header,
 * repairs. When the MTA allows it we negotiate "no reply" for headers and
 * body chunks, which saves a round trip per call.
 *
 * Failure of the filter itself (allocation, a limit on resources) never
 * aborts the process: the message gets the configured fail mode, except a
 * bounce, which is always accepted (the MTA could not return it).
 *
 * Every string from the client or a remote bounce (envelope addresses, the
 * recipients and diagnostics of a report, sender keys and replies built
 * from them) reaches a log line through log_escape(), the core's escaper,
 * so CR, LF or ESC in an address cannot forge or garble a line.
 *
 * Threading: libmilter runs one thread per connection; the private data of
 * a connection is touched only by its thread. The only shared state is the
 * config snapshot, reached through shell_config_get(), and the metrics
 * registry (shell_metrics(), atomic counters; NULL when metrics are off):
 * each callback is timed by a timed_* wrapper, store calls and verdicts by
 * one-line hooks.
 */
#include <sys/random.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#include <libmilter/mfapi.h>

#include "egress/authrec.h"
#include "egress/batv.h"
#include "egress/bounce.h"
#include "egress/buf.h"
#include "egress/checks.h"
#include "egress/config.h"
#include "egress/dsn.h"
#include "egress/findings.h"
#include "egress/json.h"
#include "egress/ledger.h"
#include "egress/path.h"
#include "egress/policy.h"
#include "egress/reencode.h"
#include "egress/rfc5322.h"
#include "egress/roles.h"
#include "egress/scan.h"
#include "egress/sender.h"
#include "egress/store.h"
#include "shell.h"

#define FILTER_QID_MAX		64
#define FILTER_ADDR_MAX		512
#define FILTER_HOST_MAX		256
#define FILTER_LOG_MAX		8192	/* one log line */
/* Where a replaced Message-ID is kept (milter-egress.conf(5)). */
#define FILTER_ORIG_MSGID_HEADER	"X-Egress-Original-Message-ID"
/* What a removed (suppressed) recipient of a non-SMTP submission leaves on
 * the delivered copy, one field per recipient (milter-egress.conf(5)). */
#define FILTER_SUPPRESSED_HEADER	"X-Egress-Suppressed"
#define FILTER_LOG_FIELD	320	/* input bytes of one untrusted log field */
#define FILTER_LOG_ESC		(4 * FILTER_LOG_FIELD + 1)	/* escaped, NUL */

struct msgctx {
	char		  mail_from[FILTER_ADDR_MAX];
	char		  auth_user[FILTER_ADDR_MAX];
	char		  qid[FILTER_QID_MAX];
	char		**rcpts;
	size_t		  nrcpt;
	size_t		  rcpt_cap;
	struct envelope	  env;
	struct scan	 *scan;
	unsigned	  tag_headers;	/* tag headers already in the message */
	int		  failed;	/* resource failure: apply the fail mode */
	/* sender record */
	int		  nonsmtp;	/* Postfix cleanup: see egress_envfrom() */
	int		  have_keys;
	struct sender_keys keys;
	struct sender_facts facts;	/* what the record found, MAIL and RCPT */
	char		**drop_rcpts;	/* suppressed, to remove at eom (non-SMTP) */
	char		**drop_whys;	/* the reply of each, for the notice */
	size_t		  ndrop;
	unsigned	  supp_hdrs;	/* notice fields already present */
	struct role	  role;		/* outbound checks, bounces, or both */
	char		  drop_reply[SENDER_REPLY_MAX];	/* the first one's */
	unsigned	  sender_hdrs;	/* sender-status headers already present */
	/* the long-line repair */
	int		  dkim_signed;	/* a DKIM-Signature field is present */
	int		  mime_version;	/* a MIME-Version field is present */
	unsigned	  cte_hdrs;	/* Content-Transfer-Encoding fields */
	char		 *top_ctype;	/* first Content-Type value, or NULL */
	char		 *top_cte;	/* first Content-Transfer-Encoding, or NULL */
	char		 *msgid;	/* first Message-ID value, or NULL */
	struct spool	 *spool;	/* the body, while a repair is possible */
	struct reencode	 *repair;	/* the planned repair, at end of message */
	unsigned	  bounce_hdrs;	/* bounce headers already present */
	/* the DMARC preflight */
	char		  from_domain[256];	/* of the first From field, or "" */
	char		  dkim_d[256];		/* d= of the first DKIM-Signature */
	/* the ledger */
	char		  final_msgid[LEDGER_MSGID_MAX + 1];	/* generated one */
	/* BATV */
	char		  mail_args[FILTER_ADDR_MAX];	/* ESMTP MAIL parameters */
	enum batv_result  batv;		/* of a bounce's recipients: the worst */
};

struct connctx {
	struct config	*cfg;
	char		 client_addr[FILTER_HOST_MAX];
	char		 client_name[FILTER_HOST_MAX];
	char		 myhostname[FILTER_HOST_MAX];
	char		 daemon_name[FILTER_HOST_MAX];	/* {daemon_name} */
	int		 noreply_hdr;	/* negotiated SMFIP_NR_HDR */
	int		 noreply_body;
	int		 noreply_eoh;
	int		 mta_postfix;	/* the "v" macro names Postfix */
	int		 tcp_client;	/* connect gave a TCP client port */
	struct msgctx	*msg;
	struct connctx	*prev, *next;	/* the open list (conn_open) */
};

/*
 * Every open connection context, so that those libmilter abandons at a
 * stop (it never calls close for a session it stopped serving) are freed
 * at exit (filter_free_open) instead of leaking.
 */
static pthread_mutex_t	 open_lock = PTHREAD_MUTEX_INITIALIZER;
static struct connctx	*open_head;

static void
conn_open(struct connctx *c)
{
	shell_session_begin();
	pthread_mutex_lock(&open_lock);
	c->prev = NULL;
	if ((c->next = open_head) != NULL)
		open_head->prev = c;
	open_head = c;
	pthread_mutex_unlock(&open_lock);
}

static void
conn_closed(struct connctx *c)
{
	pthread_mutex_lock(&open_lock);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		open_head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&open_lock);
	shell_session_end();
}

static struct connctx *
conn_get(SMFICTX *ctx)
{
	return smfi_getpriv(ctx);
}

/*
 * An escaped copy of untrusted s (NULL gives "") for a log line: log_escape()
 * of at most FILTER_LOG_FIELD bytes into dst, which has FILTER_LOG_ESC bytes,
 * so the copy always fits. Returns dst. Out of memory gives a shorter copy,
 * escaped all the same.
 */
static const char *
log_str(char dst[FILTER_LOG_ESC], const char *s)
{
	struct buf b;

	if (s == NULL)
		s = "";
	buf_init(&b, FILTER_LOG_ESC - 1);
	if (log_escape(&b, s, strlen(s), FILTER_LOG_FIELD) != BUF_OK &&
	    b.len == 0) {
		buf_fini(&b);
		dst[0] = '\0';
		return dst;
	}
	snprintf(dst, FILTER_LOG_ESC, "%s", buf_cstr(&b));
	buf_fini(&b);
	return dst;
}

static void
copy_str(char *dst, size_t dstsz, const char *src)
{
	snprintf(dst, dstsz, "%s", src ? src : "");
}

/* Strip one pair of angle brackets: "<a@b>" -> "a@b". */
static void
copy_addr(char *dst, size_t dstsz, const char *src)
{
	/* Only exactly "<>" is the null sender; a malformed path is kept
	 * whole (path.h), so it is never the address it starts with. */
	(void)path_parse(src, dst, dstsz);
}

static void
msg_free(struct msgctx *m)
{
	size_t i;

	if (m == NULL)
		return;
	scan_free(m->scan);
	for (i = 0; i < m->nrcpt; i++)
		free(m->rcpts[i]);
	free(m->rcpts);
	for (i = 0; i < m->ndrop; i++) {
		free(m->drop_rcpts[i]);
		free(m->drop_whys[i]);
	}
	free(m->drop_rcpts);
	free(m->drop_whys);
	free(m->top_ctype);
	free(m->top_cte);
	free(m->msgid);
	spool_free(m->spool);
	reencode_free(m->repair);
	free(m);
}

static const char *msg_qid(SMFICTX *, struct msgctx *);

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Decide on facts of the sender record at MAIL or RCPT (the policy gives each
 * its configured action; monitor mode, exemptions and bounces never refuse)
 * and refuse now when the verdict says so. A decision that refuses, or would,
 * is logged. Returns SMFIS_CONTINUE when nothing is refused.
 */
static sfsistat
facts_refuse(SMFICTX *ctx, struct connctx *c, struct msgctx *m,
    const struct sender_facts *f, const char *stage, const char *rcpt)
{
	const struct sender_fact *x;
	char rcode[4], xcode[16];
	char e_from[FILTER_LOG_ESC], e_rcpt[FILTER_LOG_ESC];
	char e_key[FILTER_LOG_ESC], e_reply[FILTER_LOG_ESC];
	const char *text;
	struct verdict v;

	policy_decide_facts(c->cfg, &m->env, f, &v);
	if (v.would < ACT_TEMPFAIL || v.decided_by == NULL ||
	    (x = sender_facts_find(f, v.decided_by)) == NULL)
		return SMFIS_CONTINUE;
	shell_log(LOG_INFO, "%s: %s sender=<%s>%s%s%s %s=%s key=%s reply=\"%s\"",
	    msg_qid(ctx, m), stage, log_str(e_from, m->mail_from),
	    rcpt ? " rcpt=<" : "", rcpt ? log_str(e_rcpt, rcpt) : "",
	    rcpt ? ">" : "",
	    v.action >= ACT_TEMPFAIL ? "action" : "would", action_name(v.would),
	    log_str(e_key, x->key[0] ? x->key : "-"),
	    log_str(e_reply, v.action >= ACT_TEMPFAIL && v.reply ? v.reply :
	    x->reply[0] ? x->reply : v.reply ? v.reply : ""));
	if (v.action < ACT_TEMPFAIL || v.reply == NULL ||
	    policy_reply_split(v.reply, rcode, xcode, &text) != 0)
		return SMFIS_CONTINUE;
	metrics_sender_fact(shell_metrics(), x->check_id);
	smfi_setreply(ctx, rcode, xcode, (char *)text);
	return v.action == ACT_TEMPFAIL ? SMFIS_TEMPFAIL : SMFIS_REJECT;
}

static const char *
msg_qid(SMFICTX *ctx, struct msgctx *m)
{
	const char *q;

	if (m->qid[0] == '\0' && (q = smfi_getsymval(ctx, "i")) != NULL)
		copy_str(m->qid, sizeof(m->qid), q);
	return m->qid[0] ? m->qid : "NOQUEUE";
}

static sfsistat
fail_status(struct connctx *c, SMFICTX *ctx, const char *where)
{
	const struct check_conf *cc = config_check(c->cfg, "internal.error");
	struct msgctx *m = c->msg;
	char rcode[4], xcode[16];
	const char *text;
	int bounce = m && m->mail_from[0] == '\0' && m->env.mail_from != NULL;

	shell_log(LOG_ERR, "%s: internal failure in %s: fail_mode=%s%s",
	    m ? msg_qid(ctx, m) : "NOQUEUE", where,
	    action_name(c->cfg->fail_action), bounce ? " (bounce: accepted)" : "");
	if (bounce || c->cfg->fail_action == ACT_ACCEPT)
		return SMFIS_ACCEPT;
	if (c->cfg->fail_action == ACT_REJECT) {
		smfi_setreply(ctx, "554", "5.3.0", "Filter failure, message rejected");
		return SMFIS_REJECT;
	}
	if (cc && cc->reply && policy_reply_split(cc->reply, rcode, xcode, &text) == 0 &&
	    rcode[0] == '4')
		smfi_setreply(ctx, rcode, xcode, (char *)text);
	return SMFIS_TEMPFAIL;
}

static sfsistat
egress_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	unsigned long want = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE |
	    SMFIF_DELRCPT | SMFIF_CHGBODY | SMFIF_CHGFROM;
	unsigned long proto = 0;
	struct connctx *c;

	(void)f2;
	(void)f3;
	/*
	 * The connection context is born here so that it can remember which
	 * no-reply steps the MTA granted; connect fills in the rest.
	 */
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return SMFIS_ALL_OPTS;
	conn_open(c);
	*pf0 = want & f0;
	/* Steps we do not use. */
	proto |= f1 & (SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_NODATA);
	/* No reply needed after each header and body chunk. */
	proto |= f1 & (SMFIP_NR_HDR | SMFIP_NR_BODY | SMFIP_NR_EOH);
	c->noreply_hdr = (proto & SMFIP_NR_HDR) != 0;
	c->noreply_body = (proto & SMFIP_NR_BODY) != 0;
	c->noreply_eoh = (proto & SMFIP_NR_EOH) != 0;
	*pf1 = proto;
	*pf2 = 0;
	*pf3 = 0;
	smfi_setpriv(ctx, c);
	return SMFIS_CONTINUE;
}

static sfsistat
egress_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *sa)
{
	struct connctx *c;
	const char *addr, *j, *v;

	if ((c = conn_get(ctx)) == NULL) {
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			shell_log(LOG_ERR, "connect: out of memory: tempfail");
			return SMFIS_TEMPFAIL;
		}
		conn_open(c);
	}
	c->cfg = shell_config_get();
	metrics_session(shell_metrics(), 1);
	copy_str(c->client_name, sizeof(c->client_name), hostname);
	if ((addr = smfi_getsymval(ctx, "{client_addr}")) != NULL ||
	    (addr = smfi_getsymval(ctx, "_")) != NULL)
		copy_str(c->client_addr, sizeof(c->client_addr), addr);
	if ((j = smfi_getsymval(ctx, "j")) != NULL)
		copy_str(c->myhostname, sizeof(c->myhostname), j);
	/* Facts that tell Postfix's cleanup(8) apart (egress_envfrom()). */
	v = smfi_getsymval(ctx, "v");
	c->mta_postfix = v != NULL && strncmp(v, "Postfix", 7) == 0;
	c->tcp_client = 0;
	if (sa != NULL && sa->sa_family == AF_INET)
		c->tcp_client = ((struct sockaddr_in *)(void *)sa)->sin_port != 0;
	else if (sa != NULL && sa->sa_family == AF_INET6)
		c->tcp_client = ((struct sockaddr_in6 *)(void *)sa)->sin6_port != 0;
	if ((j = smfi_getsymval(ctx, "{daemon_name}")) != NULL)
		copy_str(c->daemon_name, sizeof(c->daemon_name), j);
	smfi_setpriv(ctx, c);
	return SMFIS_CONTINUE;
}

/* Postfix's "_" macro is "name [addr]": keep the address only. */
static void
clean_client_addr(struct connctx *c)
{
	char *lb = strrchr(c->client_addr, '['), *rb;

	if (lb != NULL && (rb = strchr(lb, ']')) != NULL) {
		memmove(c->client_addr, lb + 1, (size_t)(rb - lb - 1));
		c->client_addr[rb - lb - 1] = '\0';
	}
}

static sfsistat
egress_envfrom(SMFICTX *ctx, char **argv)
{
	struct connctx *c = conn_get(ctx);
	struct msgctx *m;
	struct verdict v;
	const char *auth;
	char **a;
	char rcode[4], xcode[16];
	const char *text;

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	clean_client_addr(c);
	msg_free(c->msg);
	if ((c->msg = m = calloc(1, sizeof(*m))) == NULL)
		return fail_status(c, ctx, "mail");
	copy_addr(m->mail_from, sizeof(m->mail_from), argv[0]);
	if ((auth = smfi_getsymval(ctx, "{auth_authen}")) != NULL)
		copy_str(m->auth_user, sizeof(m->auth_user), auth);
	m->env.mail_from = m->mail_from;
	m->env.auth_user = m->auth_user[0] ? m->auth_user : NULL;
	m->env.client_addr = c->client_addr[0] ? c->client_addr : NULL;
	m->env.esmtp_size = -1;
	for (a = argv + 1; *a; a++) {
		size_t al = strlen(m->mail_args);

		/* kept for smfi_chgfrom (BATV), which replaces them too */
		snprintf(m->mail_args + al, sizeof(m->mail_args) - al, "%s%s",
		    al > 0 ? " " : "", *a);
		if (strncasecmp(*a, "SIZE=", 5) == 0)
			m->env.esmtp_size = strtoll(*a + 5, NULL, 10);
		else if (strcasecmp(*a, "SMTPUTF8") == 0)
			m->env.smtputf8 = 1;
	}
	/*
	 * Postfix's cleanup(8), which runs non_smtpd_milters, has a queue id
	 * before MAIL; smtpd(8) gets one only after the first accepted RCPT.
	 * A simulated RCPT must never be refused (Postfix would keep the mail
	 * as a configuration error), so such sessions act at end of message.
	 * Sendmail assigns its queue id at MAIL in every SMTP session and can
	 * refuse a RCPT, so the queue id alone is not enough: the session must
	 * also come from Postfix (its "v" macro, in milter_connect_macros by
	 * default; Sendmail does not send "v" by default, and its value there
	 * is a bare version number) or have no TCP client port (cleanup
	 * reports local submissions and its own bounces as 127.0.0.1 port 0;
	 * Sendmail's TCP sessions have a real one, and a `sendmail -bs` session
	 * on standard input, which has none, merely gets its refusals at end
	 * of message).
	 */
	m->nonsmtp = smfi_getsymval(ctx, "i") != NULL &&
	    (c->mta_postfix || !c->tcp_client);
	(void)msg_qid(ctx, m);
	/* Which jobs apply: a stranger's mail on a bounces listener is only
	 * watched for bounces, never checked, refused or recorded. */
	{
		struct role_facts rf = { c->daemon_name[0] ? c->daemon_name : NULL,
		    m->env.auth_user, m->env.client_addr, m->nonsmtp };

		role_decide(&c->cfg->roles, &rf, &m->role);
	}
	if (m->role.listener == ROLE_MODE_OFF) {
		msg_free(m);
		c->msg = NULL;
		return SMFIS_ACCEPT;
	}
	if (!m->role.outbound)
		return SMFIS_CONTINUE;
	/* Refuse early when the client announces a size over the limit. */
	if (m->env.esmtp_size > 0 && c->cfg->limits.message_size > 0 &&
	    m->env.esmtp_size > c->cfg->limits.message_size) {
		policy_decide_one(c->cfg, &m->env, "size.message", &v);
		char e_from[FILTER_LOG_ESC];

		shell_log(LOG_INFO, "%s: sender=<%s> SIZE=%lld over limit %lld action=%s%s%s",
		    msg_qid(ctx, m), log_str(e_from, m->mail_from),
		    m->env.esmtp_size,
		    c->cfg->limits.message_size, action_name(v.action),
		    v.would != v.action ? " would=" : "",
		    v.would != v.action ? action_name(v.would) : "");
		if (v.action >= ACT_TEMPFAIL && v.reply &&
		    policy_reply_split(v.reply, rcode, xcode, &text) == 0) {
			smfi_setreply(ctx, rcode, xcode, (char *)text);
			return v.action == ACT_TEMPFAIL ? SMFIS_TEMPFAIL : SMFIS_REJECT;
		}
	}
	/* The sender record: statuses, static rate, warm-up. */
	if (shell_store() != NULL && m->mail_from[0] != '\0' &&
	    sender_keys_make(&c->cfg->policy, m->mail_from, m->env.auth_user,
	    &m->keys) == 0) {
		struct sender_facts d;
		uint64_t t0;
		int rc;

		m->have_keys = 1;
		t0 = shell_metrics_clock();
		rc = sender_check(shell_store(), &c->cfg->policy, &m->keys, NULL,
		    now_ms(), &d);
		shell_metrics_store(MSTORE_SENDER_CHECK, t0, rc);
		if (rc != STORE_OK && rc != STORE_NOTFOUND && rc != STORE_UNAVAILABLE)
			return fail_status(c, ctx, "sender record");
		if (!m->nonsmtp) {
			sfsistat st = facts_refuse(ctx, c, m, &d, "sender", NULL);

			if (st != SMFIS_CONTINUE)
				return st;
		}
		/* Not refused now: the facts join the findings at end of message. */
		sender_facts_merge(&m->facts, &d);
	}
	return SMFIS_CONTINUE;
}

/* ---- BATV (batv.h) ---- */

static long long
batv_today(void)
{
	return (long long)(time(NULL) / 86400);
}

/*
 * A recipient of a bounce: remember how its tag checks (the worst of the
 * message's recipients is kept). With refuse_untagged, a remote bounce to
 * an untagged address of a signing domain is refused here; never outside
 * SMTP, where Postfix hands over its own bounces (which must not be lost).
 */
static sfsistat
batv_rcpt(SMFICTX *ctx, struct connctx *c, struct msgctx *m, const char *addr)
{
	const struct batv_conf *bc = &c->cfg->batv;
	enum batv_result r = batv_check(bc->key, batv_today(), bc->validity, addr,
	    NULL, 0);
	char e_rcpt[FILTER_LOG_ESC];

	if (r > m->batv)
		m->batv = r;
	if (r != BATV_UNTAGGED || !bc->refuse_untagged || m->nonsmtp ||
	    !batv_is_sender(bc, addr))
		return SMFIS_CONTINUE;
	shell_log(LOG_INFO, "%s: batv rcpt=<%s> result=untagged action=%s",
	    msg_qid(ctx, m), log_str(e_rcpt, addr),
	    c->cfg->mode == MODE_ENFORCE ? "reject" : "accept would=reject");
	if (c->cfg->mode != MODE_ENFORCE)
		return SMFIS_CONTINUE;
	smfi_setreply(ctx, "550", "5.7.1",
	    "This address sends no mail without a BATV tag: bounce refused");
	return SMFIS_REJECT;
}

/* Sign the envelope sender of an accepted message of a signing domain. */
static sfsistat
batv_sign_from(SMFICTX *ctx, struct connctx *c, struct msgctx *m)
{
	const struct batv_conf *bc = &c->cfg->batv;
	char tagged[BATV_ADDR_MAX + 2], e_from[FILTER_LOG_ESC];

	if (!bc->enabled || m->mail_from[0] == '\0' ||
	    strncasecmp(m->mail_from, "prvs=", 5) == 0 ||
	    !batv_is_sender(bc, m->mail_from))
		return SMFIS_ACCEPT;
	tagged[0] = '<';
	if (batv_sign(bc->key, bc->keynum, batv_today(), bc->validity, m->mail_from,
	    tagged + 1, sizeof(tagged) - 2) != 0)
		return SMFIS_ACCEPT;	/* too long to tag: sent as it is */
	strcat(tagged, ">");
	if (smfi_chgfrom(ctx, tagged, m->mail_args[0] ? m->mail_args : NULL) !=
	    MI_SUCCESS)
		return fail_status(c, ctx, "BATV sender");
	shell_log(LOG_INFO, "%s: batv sender=<%s> signed=%s", msg_qid(ctx, m),
	    log_str(e_from, m->mail_from), tagged);
	return SMFIS_ACCEPT;
}

static sfsistat
egress_envrcpt(SMFICTX *ctx, char **argv)
{
	struct connctx *c = conn_get(ctx);
	struct msgctx *m = c ? c->msg : NULL;
	char addr[FILTER_ADDR_MAX];

	if (m == NULL)
		return SMFIS_CONTINUE;
	/* Keep the recipients we need; count the rest. */
	if (m->nrcpt == m->rcpt_cap) {
		size_t ncap = m->rcpt_cap ? m->rcpt_cap * 2 : 8;
		char **nv;

		if ((nv = realloc(m->rcpts, ncap * sizeof(*nv))) == NULL) {
			m->failed = 1;
			return SMFIS_CONTINUE;
		}
		m->rcpts = nv;
		m->rcpt_cap = ncap;
	}
	copy_addr(addr, sizeof(addr), argv[0]);
	if (m->mail_from[0] == '\0' && c->cfg->batv.enabled) {
		sfsistat st = batv_rcpt(ctx, c, m, addr);

		if (st != SMFIS_CONTINUE)
			return st;
	}
	if (shell_store() != NULL && m->mail_from[0] != '\0' && m->role.outbound) {
		struct sender_facts d;
		struct verdict v;
		char dom[RFC5322_DOMAIN_MAX + 1];
		sfsistat st;
		uint64_t t0;
		int rc;

		/* A suppressed recipient (hard bounce, complaint, manual). */
		t0 = shell_metrics_clock();
		rc = recipient_check(shell_store(), addr, now_ms(), &d);
		shell_metrics_store(MSTORE_RECIPIENT_CHECK, t0, rc);
		if (rc == STORE_OK && d.n > 0) {
			policy_decide_facts(c->cfg, &m->env, &d, &v);
			if (!m->nonsmtp) {
				st = facts_refuse(ctx, c, m, &d, "recipient", addr);
				if (st != SMFIS_CONTINUE)
					return st;
			} else if (v.action >= ACT_TEMPFAIL && v.reply != NULL) {
				/* Non-SMTP: removed at end of message. */
				char **nv = realloc(m->drop_rcpts,
				    (m->ndrop + 1) * sizeof(*nv));
				char **nw = nv == NULL ? NULL : realloc(m->drop_whys,
				    (m->ndrop + 1) * sizeof(*nw));

				if (nv != NULL)
					m->drop_rcpts = nv;
				if (nw != NULL)
					m->drop_whys = nw;
				if (nv == NULL || nw == NULL ||
				    (nv[m->ndrop] = strdup(addr)) == NULL) {
					m->failed = 1;
					return SMFIS_CONTINUE;
				}
				if ((nw[m->ndrop] = strdup(v.reply)) == NULL) {
					free(nv[m->ndrop]);
					m->failed = 1;
					return SMFIS_CONTINUE;
				}
				if (m->ndrop++ == 0)
					copy_str(m->drop_reply, sizeof(m->drop_reply),
					    v.reply);
				char e_from[FILTER_LOG_ESC], e_rcpt[FILTER_LOG_ESC];
				char e_reply[FILTER_LOG_ESC];

				shell_log(LOG_INFO, "%s: recipient sender=<%s> rcpt=<%s> action=remove reply=\"%s\"",
				    msg_qid(ctx, m), log_str(e_from, m->mail_from),
				    log_str(e_rcpt, addr), log_str(e_reply, v.reply));
			}
		}
		/* Statuses and throttles per destination domain. */
		if (m->have_keys && rfc5322_addr_domain(addr, dom, sizeof(dom)) == 0) {
			t0 = shell_metrics_clock();
			rc = sender_check(shell_store(), &c->cfg->policy, &m->keys,
			    dom, now_ms(), &d);
			shell_metrics_store(MSTORE_SENDER_CHECK, t0, rc);
			if (rc == STORE_ERROR) {
				m->failed = 1;
				return SMFIS_CONTINUE;
			}
			if (!m->nonsmtp) {
				st = facts_refuse(ctx, c, m, &d, "destination", addr);
				if (st != SMFIS_CONTINUE)
					return st;
			}
			sender_facts_merge(&m->facts, &d);
		}
	}
	if ((m->rcpts[m->nrcpt] = strdup(addr)) == NULL) {
		m->failed = 1;
		return SMFIS_CONTINUE;
	}
	m->nrcpt++;
	(void)msg_qid(ctx, m);
	return SMFIS_CONTINUE;
}

static sfsistat
hdr_status(struct connctx *c)
{
	return c->noreply_hdr ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* Create the scan once the envelope is complete (first header or body). */
static int
msg_start_scan(struct connctx *c)
{
	struct msgctx *m = c->msg;

	if (m->scan != NULL || m->failed)
		return m->failed ? -1 : 0;
	m->env.rcpts = (const char *const *)m->rcpts;
	m->env.nrcpt = m->nrcpt;
	m->env.now = (long long)time(NULL);
	if ((m->scan = scan_new(c->cfg, &m->env)) == NULL) {
		m->failed = 1;
		return -1;
	}
	return 0;
}

/*
 * The domain of the (last) address of a From value, lower-cased, into out
 * ("" when there is none): what the DMARC preflight looks up. A value
 * with several addresses is a finding of its own; the last one is taken.
 */
static void
from_domain_of(const char *v, char *out, size_t outlen)
{
	const char *at = strrchr(v, '@'), *end;
	size_t n = 0;

	out[0] = '\0';
	if (at == NULL)
		return;
	for (end = at + 1; *end && strchr(">,; \t\r\n)", *end) == NULL; end++)
		;
	for (at++; at < end && n + 1 < outlen; at++)
		out[n++] = (char)(*at >= 'A' && *at <= 'Z' ? *at - 'A' + 'a' : *at);
	out[n] = '\0';
}

static sfsistat
egress_header(SMFICTX *ctx, char *name, char *value)
{
	struct connctx *c = conn_get(ctx);
	struct msgctx *m = c ? c->msg : NULL;

	if (m == NULL || m->failed)
		return c ? hdr_status(c) : SMFIS_CONTINUE;
	if (strcasecmp(name, c->cfg->tag_header) == 0)
		m->tag_headers++;
	if (c->cfg->policy.tag_header != NULL &&
	    strcasecmp(name, c->cfg->policy.tag_header) == 0)
		m->sender_hdrs++;
	if (c->cfg->bounce.add_header &&
	    strcasecmp(name, c->cfg->bounce.header_name) == 0)
		m->bounce_hdrs++;
	if (strcasecmp(name, FILTER_SUPPRESSED_HEADER) == 0)
		m->supp_hdrs++;
	if (strcasecmp(name, "DKIM-Signature") == 0) {
		struct dkim_sig sig;

		if (!m->dkim_signed && dkim_sig_parse(value, &sig) == 0)
			copy_str(m->dkim_d, sizeof(m->dkim_d), sig.d);
		m->dkim_signed = 1;
	} else if (strcasecmp(name, "From") == 0 && m->from_domain[0] == '\0')
		from_domain_of(value, m->from_domain, sizeof(m->from_domain));
	else if (strcasecmp(name, "MIME-Version") == 0)
		m->mime_version = 1;
	else if (strcasecmp(name, "Content-Type") == 0 && m->top_ctype == NULL &&
	    (m->top_ctype = strdup(value)) == NULL)
		m->failed = 1;
	else if (strcasecmp(name, "Message-ID") == 0 && m->msgid == NULL &&
	    (m->msgid = strdup(value)) == NULL)
		m->failed = 1;
	else if (strcasecmp(name, "Content-Transfer-Encoding") == 0 &&
	    m->cte_hdrs++ == 0 && (m->top_cte = strdup(value)) == NULL)
		m->failed = 1;
	if (msg_start_scan(c) != 0 || scan_header(m->scan, name, value) != 0)
		m->failed = 1;
	return hdr_status(c);
}

/*
 * Can this message's over-long lines be repaired? Only when the check is set
 * to repair, in enforce mode (monitor mode changes nothing), for a sender
 * that is not the null sender (a bounce is passed on as it is) and without a
 * DKIM signature (re-encoding would break it).
 */
static int
repair_possible(const struct connctx *c, const struct msgctx *m)
{
	const struct check_conf *cc = config_check(c->cfg, "body.line_too_long");

	return cc != NULL && cc->action == ACT_REPAIR &&
	    c->cfg->mode == MODE_ENFORCE && m->mail_from[0] != '\0' &&
	    !m->dkim_signed;
}

static sfsistat
egress_eoh(SMFICTX *ctx)
{
	struct connctx *c = conn_get(ctx);
	struct msgctx *m = c ? c->msg : NULL;

	if (m != NULL && !m->failed &&
	    (msg_start_scan(c) != 0 || scan_eoh(m->scan) != 0))
		m->failed = 1;
	/* Keep a copy of the body while the long-line repair may need it. */
	if (m != NULL && !m->failed && repair_possible(c, m) &&
	    (m->spool = spool_new(c->cfg->milter.spool_dir,
	    c->cfg->limits.message_size)) == NULL)
		m->failed = 1;
	return c && c->noreply_eoh ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
egress_body(SMFICTX *ctx, unsigned char *p, size_t n)
{
	struct connctx *c = conn_get(ctx);
	struct msgctx *m = c ? c->msg : NULL;

	if (m != NULL && !m->failed &&
	    (msg_start_scan(c) != 0 || scan_body(m->scan, (const char *)p, n) != 0))
		m->failed = 1;
	if (m != NULL && m->spool != NULL && spool_is_usable(m->spool) &&
	    spool_write(m->spool, p, n) != 0)
		shell_log(LOG_WARNING, "%s: cannot keep a copy of the body for the "
		    "line repair: %s", msg_qid(ctx, m), strerror(errno));
	return c && c->noreply_body ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* RFC 5322 date-time of now, in UTC. */
static void
make_date(char *out, size_t outsz)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, outsz, "%s, %d %s %d %02d:%02d:%02d +0000",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void
make_message_id(struct connctx *c, struct msgctx *m, char *out, size_t outsz)
{
	char dom[RFC5322_DOMAIN_MAX + 1];
	const char *d = c->cfg->repair_msgid_domain;
	uint64_t r[2] = { 0, 0 };
	const char *fromdom;

	if (d == NULL && rfc5322_addr_domain(m->mail_from, dom, sizeof(dom)) == 0)
		d = dom;
	if (d == NULL && (fromdom = scan_from_domain(m->scan)) != NULL &&
	    rfc5322_domain_is_fqdn(fromdom))
		d = fromdom;
	if (d == NULL && c->myhostname[0])
		d = c->myhostname;
	if (d == NULL)
		d = "localhost.localdomain";
	if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
		r[0] ^= (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)m;
		r[1] ^= (uint64_t)clock();
	}
	snprintf(out, outsz, "<%lld.%016llx%08llx@%s>", (long long)time(NULL),
	    (unsigned long long)r[0], (unsigned long long)(r[1] & 0xffffffffu), d);
}

/* ---- the long-line repair ---- */

/*
 * A repair the verdict asks for cannot be done: add the finding of check id
 * (whose default action refuses), decide again, and give the reply the
 * reason (unless the operator wrote a reply of their own for id), e.g.
 * "...: the message is DKIM-signed". why holds the text and must outlive v.
 * Returns -1 when out of memory.
 */
static int
unrepairable(struct connctx *c, struct msgctx *m, struct verdict *v,
    const char *id, const char *reason, char *why, size_t whylen)
{
	const struct check_conf *cc;
	const struct check_def *def = checks_lookup(id);

	if (findings_add(scan_findings(m->scan), id, "%s", reason) != 0)
		return -1;
	policy_decide(c->cfg, &m->env, scan_findings(m->scan),
	    scan_is_bounce(m->scan), v);
	if (v->decided_by != NULL)
		policy_fact_reply(c->cfg, v, sender_facts_find(&m->facts,
		    v->decided_by));
	cc = config_check(c->cfg, id);
	if (v->decided_by == NULL || strcmp(v->decided_by, id) != 0 ||
	    v->action < ACT_TEMPFAIL || cc == NULL || cc->reply == NULL ||
	    def == NULL || def->reply == NULL || strcmp(cc->reply, def->reply) != 0)
		return 0;
	snprintf(why, whylen, "%s: %s", cc->reply, reason);
	policy_set_reply(v, why);
	return 0;
}

/* Feed the copy of the body to the plan or the rewrite. */
static int
repair_feed(struct msgctx *m, int rewrite)
{
	char b[65536];
	ssize_t n;

	if (spool_rewind(m->spool) != 0)
		return -1;
	while ((n = spool_read(m->spool, b, sizeof(b))) > 0)
		if ((rewrite ? reencode_rewrite_feed(m->repair, b, (size_t)n) :
		    reencode_plan_feed(m->repair, b, (size_t)n)) != 0)
			return -1;
	return n < 0 ? -1 : 0;
}

/*
 * The verdict asks for the repair: can it be done? Sets *res (REENCODE_NONE
 * when the message was not copied because no repair is possible for it,
 * e.g. a bounce) and keeps a repairable plan in m->repair. Returns -1 on a
 * resource failure (the copy or memory failed): the fail mode applies.
 */
static int
repair_plan(struct connctx *c, struct msgctx *m, enum reencode_result *res)
{
	struct reencode_top top = { m->top_ctype, m->top_cte, m->dkim_signed };

	*res = REENCODE_NONE;
	if (m->dkim_signed) {
		*res = REENCODE_DKIM;
		return 0;
	}
	if (m->spool == NULL)
		return 0;
	if (!spool_is_usable(m->spool) || (m->repair = reencode_new(&top,
	    (size_t)c->cfg->limits.line_length,
	    (size_t)c->cfg->limits.mime_parts)) == NULL || repair_feed(m, 0) != 0)
		return -1;
	*res = reencode_plan_finish(m->repair);
	if (*res != REENCODE_OK) {
		reencode_free(m->repair);
		m->repair = NULL;
	}
	return 0;
}

static int
repair_sink(void *arg, const char *p, size_t n)
{
	return smfi_replacebody(arg, (unsigned char *)(uintptr_t)p, (int)n) ==
	    MI_SUCCESS ? 0 : -1;
}

/* Replace the body with the re-encoded one and fix the top-level header. */
static int
repair_apply(SMFICTX *ctx, struct msgctx *m)
{
	const char *cte;

	if (reencode_rewrite_start(m->repair, repair_sink, ctx) != 0 ||
	    repair_feed(m, 1) != 0 || reencode_rewrite_finish(m->repair) != 0)
		return -1;
	if ((cte = reencode_top_cte(m->repair)) != NULL) {
		if ((m->cte_hdrs > 0 ?
		    smfi_chgheader(ctx, "Content-Transfer-Encoding", 1, (char *)cte) :
		    smfi_addheader(ctx, "Content-Transfer-Encoding", (char *)cte)) !=
		    MI_SUCCESS)
			return -1;
		if (!m->mime_version &&
		    smfi_addheader(ctx, "MIME-Version", "1.0") != MI_SUCCESS)
			return -1;
	}
	shell_log(LOG_INFO, "%s: repaired: %zu part(s) with lines over the limit "
	    "re-encoded%s%s", msg_qid(ctx, m), reencode_parts(m->repair),
	    cte ? " as " : "", cte ? cte : "");
	return 0;
}

/* Make a header value of one line of printable US-ASCII (in place). */
static void
hdr_printable(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
}

static sfsistat
apply_verdict(SMFICTX *ctx, struct connctx *c, struct msgctx *m,
    const struct verdict *v)
{
	char rcode[4], xcode[16], hdr[RFC5322_DOMAIN_MAX + 128];
	const char *text;
	struct buf tag;
	unsigned i;

	/* policy_set_reply() made the reply's codes agree with the action. */
	if (v->action == ACT_REJECT || v->action == ACT_TEMPFAIL) {
		if (v->reply && policy_reply_split(v->reply, rcode, xcode, &text) == 0)
			smfi_setreply(ctx, rcode, xcode, (char *)text);
		return v->action == ACT_TEMPFAIL ? SMFIS_TEMPFAIL : SMFIS_REJECT;
	}
	if (v->action == ACT_HOLD) {
		snprintf(hdr, sizeof(hdr), "%s: %s", c->cfg->hold_reason,
		    v->decided_by ? v->decided_by : "policy");
		if (smfi_quarantine(ctx, hdr) != MI_SUCCESS)
			return fail_status(c, ctx, "quarantine");
	}
	if (v->add_date) {
		make_date(hdr, sizeof(hdr));
		if (smfi_addheader(ctx, "Date", hdr) != MI_SUCCESS)
			return fail_status(c, ctx, "add Date");
	}
	if (v->add_message_id) {
		make_message_id(c, m, hdr, sizeof(hdr));
		if (smfi_addheader(ctx, "Message-ID", hdr) != MI_SUCCESS)
			return fail_status(c, ctx, "add Message-ID");
		(void)ledger_msgid_norm(hdr, m->final_msgid, sizeof(m->final_msgid));
	}
	if (v->replace_message_id && m->msgid != NULL) {
		char old[RFC5322_DOMAIN_MAX + 128];
		size_t k, o = 0;

		/* the old value, kept printable and on one line */
		for (k = 0; m->msgid[k] != '\0' && o + 1 < sizeof(old); k++) {
			unsigned char ch = (unsigned char)m->msgid[k];

			if (ch == '\r' || ch == '\n' || ch == '\t')
				ch = ' ';
			old[o++] = ch < 0x20 || ch >= 0x7f ? '?' : (char)ch;
		}
		old[o] = '\0';
		make_message_id(c, m, hdr, sizeof(hdr));
		if (smfi_chgheader(ctx, "Message-ID", 1, hdr) != MI_SUCCESS ||
		    smfi_addheader(ctx, FILTER_ORIG_MSGID_HEADER, old) != MI_SUCCESS)
			return fail_status(c, ctx, "replace Message-ID");
		(void)ledger_msgid_norm(hdr, m->final_msgid, sizeof(m->final_msgid));
	}
	if (v->repair_lines && m->repair != NULL && repair_apply(ctx, m) != 0)
		return fail_status(c, ctx, "line repair");
	/* Tag headers the sender brought cannot be trusted: remove them. */
	for (i = m->tag_headers; i > 0; i--)
		(void)smfi_chgheader(ctx, c->cfg->tag_header, (int)i, NULL);
	if (c->cfg->policy.tag_header != NULL)
		for (i = m->sender_hdrs; i > 0; i--)
			(void)smfi_chgheader(ctx, c->cfg->policy.tag_header, (int)i, NULL);
	/* Nor can a bounce header when we add our own (at end of message). */
	for (i = m->bounce_hdrs; i > 0; i--)
		(void)smfi_chgheader(ctx, c->cfg->bounce.header_name, (int)i, NULL);
	if (m->facts.header[0] != '\0' && m->facts.header_name != NULL &&
	    (c->cfg->mode == MODE_ENFORCE || v->tag) &&
	    smfi_addheader(ctx, (char *)m->facts.header_name, m->facts.header) != MI_SUCCESS)
		return fail_status(c, ctx, "add sender status header");
	/*
	 * Suppressed recipients of a non-SMTP submission: removed, and the
	 * delivered copy says which and why (the sender could not be told at
	 * RCPT time; the remaining recipients, and a sender who reads the
	 * copy or a Bcc of it, can see what happened). A notice the sender
	 * brought is removed first: it cannot be trusted.
	 */
	if (v->action <= ACT_HOLD && m->ndrop > 0) {
		for (i = m->supp_hdrs; i > 0; i--)
			(void)smfi_chgheader(ctx, FILTER_SUPPRESSED_HEADER, (int)i, NULL);
		for (i = 0; i < m->ndrop; i++) {
			char quoted[FILTER_ADDR_MAX + 2];
			char note[FILTER_ADDR_MAX + SENDER_REPLY_MAX + 16];

			snprintf(quoted, sizeof(quoted), "<%s>", m->drop_rcpts[i]);
			if (smfi_delrcpt(ctx, quoted) != MI_SUCCESS)
				return fail_status(c, ctx, "remove suppressed recipient");
			snprintf(note, sizeof(note), "<%s>; removed: %s",
			    m->drop_rcpts[i], m->drop_whys[i]);
			hdr_printable(note);
			if (smfi_addheader(ctx, FILTER_SUPPRESSED_HEADER, note) != MI_SUCCESS)
				return fail_status(c, ctx, "add suppressed notice");
		}
	}
	if (v->tag) {
		buf_init(&tag, 4096);
		if (policy_tag_value(scan_findings(m->scan), v, &tag) != BUF_OK &&
		    tag.len == 0) {
			buf_fini(&tag);
			return fail_status(c, ctx, "tag");
		}
		/* A tag is advisory: a truncated list is still useful. */
		if (smfi_addheader(ctx, c->cfg->tag_header, tag.data) != MI_SUCCESS) {
			buf_fini(&tag);
			return fail_status(c, ctx, "add tag header");
		}
		buf_fini(&tag);
	}
	return SMFIS_ACCEPT;
}

/*
 * A recognised bounce or report: one log line per recipient, the optional
 * JSON-lines record, the optional header. Never changes the verdict.
 */
static void
report_bounce(SMFICTX *ctx, struct connctx *c, struct msgctx *m,
    const struct dsn_report *r, int may_add_header)
{
	const struct bounce_conf *bc = &c->cfg->bounce;
	struct buf line, hdr;
	size_t i, n = r->nrcpts ? r->nrcpts : 1;
	const char *qid = msg_qid(ctx, m);

	buf_init(&line, FILTER_LOG_MAX);
	for (i = 0; i < n; i++) {
		buf_reset(&line);
		if (dsn_format_log(&line, r, i) != BUF_OK && line.len == 0)
			continue;
		shell_log(LOG_INFO, "%s: %s", qid, buf_cstr(&line));
		if (bc->log_json != NULL) {
			struct json w;

			buf_reset(&line);
			json_init(&w, &line);
			json_obj_begin(&w);
			json_kv_str(&w, "queue_id", qid);
			dsn_format_json_members(&w, r, i, NULL);
			json_obj_end(&w);
			if (json_finish(&w) == BUF_OK)
				shell_json_append(bc->log_json, buf_cstr(&line));
		}
	}
	buf_fini(&line);
	if (!may_add_header || !bc->add_header || r->nrcpts == 0)
		return;
	buf_init(&hdr, 1024);
	if (dsn_format_header(&hdr, r) == BUF_OK &&
	    smfi_addheader(ctx, bc->header_name, hdr.data) != MI_SUCCESS)
		shell_log(LOG_WARNING, "%s: cannot add %s header", qid,
		    bc->header_name);
	buf_fini(&hdr);
}

/*
 * The ledger: record what was passed (with its final Message-ID) or
 * refused, so that a bounce can later be matched to it (DESIGN.md
 * "Evidence"). Only mail with a sender key; a tempfail is not recorded
 * (the client tries again). The write is queued (LMDB group commit), so
 * the message never waits on it.
 */
static void
ledger_record(SMFICTX *ctx, struct msgctx *m, const struct verdict *v,
    sfsistat st)
{
	struct store *s = shell_store();
	const unsigned char *key;
	struct ledger_entry *e;
	char msgid[LEDGER_MSGID_MAX + 1];
	const char *qid;
	enum ledger_verdict lv;
	size_t i;
	int rc;

	if (s == NULL || !m->have_keys || (key = store_ledger_key(s)) == NULL)
		return;
	if (st == SMFIS_REJECT)
		lv = LEDGER_REJECTED;
	else if (st != SMFIS_ACCEPT)
		return;
	else if (v->action == ACT_HOLD)
		lv = LEDGER_HELD;
	else if (m->final_msgid[0] != '\0' || v->add_date ||
	    (v->repair_lines && m->repair != NULL))
		lv = LEDGER_REPAIRED;
	else
		lv = v->tag ? LEDGER_TAGGED : LEDGER_ACCEPTED;
	qid = msg_qid(ctx, m);
	if (strcmp(qid, "NOQUEUE") == 0)
		qid = "";
	if (m->final_msgid[0] != '\0')
		snprintf(msgid, sizeof(msgid), "%s", m->final_msgid);
	else if (ledger_msgid_norm(m->msgid, msgid, sizeof(msgid)) != 0) {
		/* no usable Message-ID: the queue id alone finds the entry */
		if (qid[0] == '\0' || strlen(qid) + 20 > sizeof(msgid))
			return;
		snprintf(msgid, sizeof(msgid), "%s@queue-id.invalid", qid);
	}
	if ((e = malloc(sizeof(*e))) == NULL) {
		shell_log(LOG_WARNING, "%s: ledger: out of memory", msg_qid(ctx, m));
		return;
	}
	ledger_entry_init(e, msgid, strlen(qid) <= LEDGER_QID_MAX ? qid : "",
	    &m->keys, (int64_t)time(NULL), lv);
	for (i = 0; i < m->nrcpt; i++)
		ledger_entry_add_rcpt(e, key, m->rcpts[i]);
	rc = store_ledger_put(s, e);
	free(e);
	if (rc != STORE_OK) {
		char e_id[FILTER_LOG_ESC];

		shell_log(LOG_WARNING, "%s: ledger: message <%s> not recorded (%s)",
		    msg_qid(ctx, m), log_str(e_id, msgid),
		    rc == STORE_UNAVAILABLE ? "store unavailable" : "store error");
	}
}

static int
is_loopback(const char *addr)
{
	return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0 ||
	    strcasecmp(addr, "IPv6:::1") == 0;
}

/* The sender keys of a ledger entry: the ones charged when a bounce matches. */
/*
 * May this failure change the sender record? Logs the answer when it is
 * not a plain match ("unmatched bounce ... reason=..."), counts misses
 * apart, and sets *keys to the keys to charge (the ledger entry's on a
 * match). Returns 1 when the failure counts.
 */
static int
ledger_consulted(const struct connctx *c)
{
	return shell_store() != NULL && c->cfg->store.ledger.enabled &&
	    c->cfg->store.ledger.require != LEDGER_OFF;
}

static int
bounce_counts(SMFICTX *ctx, struct connctx *c, struct msgctx *m,
    const struct dsn_report *r, const struct dsn_recipient *d,
    const struct sender_keys *named, int have_named, const char *sender,
    struct sender_keys *keys)
{
	struct store *s = shell_store();
	struct bounce_evidence b;
	struct ledger_entry *e;
	enum ledger_reason why;
	char e_from[FILTER_LOG_ESC], e_rcpt[FILTER_LOG_ESC], e_id[FILTER_LOG_ESC];
	char e_st[FILTER_LOG_ESC], e_q[FILTER_LOG_ESC];
	int counts, rc;

	if (have_named)
		*keys = *named;
	if (c->cfg->store.ledger.require == LEDGER_OFF || !c->cfg->store.ledger.enabled)
		return have_named && m->batv != BATV_BAD && m->batv != BATV_EXPIRED;
	memset(&b, 0, sizeof(b));
	b.message_id = r->returned_message_id != NULL ? r->returned_message_id :
	    r->message_id;
	/*
	 * Outside SMTP (Postfix's cleanup, "localhost [127.0.0.1]") come both
	 * Postfix's own reports and what local users submit with sendmail(1);
	 * the milter sees the same macros for both. Only this MTA's reports
	 * name one of its queue ids, so there the queue id decides, and a
	 * report without a known one is taken for a local submission.
	 */
	b.nonsmtp = m->nonsmtp && is_loopback(c->client_addr);
	b.queue_id = b.nonsmtp ? r->queue_id : NULL;
	b.sender = sender;
	b.rcpt = d->final_rcpt;
	b.status = d->status;
	b.local = m->auth_user[0] != '\0';
	if ((e = malloc(sizeof(*e))) == NULL)
		return 0;
	/* a bounce to a BATV-tagged address: the tag must hold */
	if (m->batv == BATV_BAD || m->batv == BATV_EXPIRED) {
		why = m->batv == BATV_BAD ? LEDGER_BATV_INVALID : LEDGER_BATV_EXPIRED;
		counts = 0;
		rc = STORE_OK;
	} else
		rc = sender_bounce_evidence(s, &b, (int64_t)time(NULL), e, &why, &counts);
	if (rc != STORE_OK) {
		metrics_bounce(shell_metrics(), d->cls.reason, MMATCH_UNKNOWN);
		shell_log(LOG_WARNING, "%s: sender record not updated for <%s> (ledger %s)",
		    msg_qid(ctx, m), log_str(e_rcpt, d->final_rcpt),
		    rc == STORE_UNAVAILABLE ? "unavailable" : "error");
		free(e);
		return 0;
	}
	metrics_bounce(shell_metrics(), d->cls.reason,
	    why == LEDGER_MATCHED ? MMATCH_YES : MMATCH_NO);
	if (why == LEDGER_MATCHED) {
		ledger_entry_keys(e, keys);
		shell_log(LOG_INFO, "%s: matched bounce sender=<%s> rcpt=<%s> status=%s "
		    "ledger=%s msgid=<%s> verdict=%s", msg_qid(ctx, m),
		    log_str(e_from, e->env + (strncmp(e->env, "env:", 4) == 0 ? 4 : 0)),
		    log_str(e_rcpt, d->final_rcpt), log_str(e_st, d->status ? d->status : "-"),
		    e->qid[0] ? e->qid : "-", log_str(e_id, e->msgid),
		    ledger_verdict_name(e->verdict));
		free(e);
		return 1;
	}
	/* the id as the ledger knows it (escaped all the same) */
	if (ledger_msgid_norm(b.message_id, e->msgid, sizeof(e->msgid)) != 0)
		snprintf(e->msgid, sizeof(e->msgid), "-");
	shell_log(LOG_INFO, "%s: unmatched bounce sender=<%s> rcpt=<%s> status=%s "
	    "reason=%s msgid=%s%s%s queue_id=%s counted=%s", msg_qid(ctx, m),
	    log_str(e_from, sender), log_str(e_rcpt, d->final_rcpt),
	    log_str(e_st, d->status ? d->status : "-"), ledger_reason_name(why),
	    e->msgid[0] != '-' ? "<" : "", log_str(e_id, e->msgid),
	    e->msgid[0] != '-' ? ">" : "", log_str(e_q, b.queue_id ? b.queue_id : "-"),
	    counts && have_named ? "yes" : "no");
	free(e);
	if (sender_record_unmatched(s, have_named ? named : NULL, why, now_ms()) !=
	    STORE_OK)
		shell_log(LOG_WARNING, "%s: unmatched count not updated", msg_qid(ctx, m));
	return counts && have_named;
}

/*
 * Hand every failed recipient of a bounce (and every complaint) to the
 * sender record. The original sender is the report's, else the bounce's
 * envelope recipient (a bounce goes back to the original MAIL FROM).
 * A DSN's failure counts only when the ledger vouches for it
 * (bounce_counts; ledger.require_match).
 */
static void
record_bounce(SMFICTX *ctx, struct connctx *c, struct msgctx *m,
    const struct dsn_report *r)
{
	struct sender_keys named, keys;
	char untagged[BATV_ADDR_MAX];
	const char *sender;
	int have_named;
	size_t i;

	/*
	 * Recorded in monitor mode too: the record shows what enforcing would
	 * do, and monitor mode never acts on it (see facts_refuse, policy).
	 */
	if (shell_store() == NULL ||
	    (r->kind != DSN_KIND_DSN && r->kind != DSN_KIND_FEEDBACK))
		return;
	sender = r->sender != NULL && r->sender[0] ? r->sender :
	    m->nrcpt > 0 ? m->rcpts[0] : NULL;
	/* the address a BATV tag was put on */
	if (sender != NULL && c->cfg->batv.enabled &&
	    batv_check(c->cfg->batv.key, batv_today(), c->cfg->batv.validity, sender,
	    untagged, sizeof(untagged)) != BATV_UNTAGGED && untagged[0] != '\0')
		sender = untagged;
	have_named = sender != NULL &&
	    sender_keys_make(&c->cfg->policy, sender, NULL, &named) == 0;
	if (!have_named && r->kind != DSN_KIND_DSN)
		return;
	for (i = 0; i < r->nrcpts; i++) {
		const struct dsn_recipient *d = &r->rcpts[i];
		char dom[RFC5322_DOMAIN_MAX + 1];
		uint64_t t0;
		int rc;

		if (r->kind == DSN_KIND_DSN && d->action != NULL &&
		    strcasecmp(d->action, "failed") != 0)
			continue;	/* delayed, delivered, relayed, expanded */
		if (r->kind == DSN_KIND_DSN) {
			if (!bounce_counts(ctx, c, m, r, d, &named, have_named, sender,
			    &keys))
				continue;
		} else
			keys = named;
		if (d->final_rcpt == NULL ||
		    rfc5322_addr_domain(d->final_rcpt, dom, sizeof(dom)) != 0)
			dom[0] = '\0';
		t0 = shell_metrics_clock();
		rc = sender_record_failure(shell_store(), &c->cfg->policy, &keys,
		    dom[0] ? dom : NULL, d->cls.category,
		    r->kind == DSN_KIND_FEEDBACK ? "feedback" : d->cls.reason,
		    d->cls.hard, d->final_rcpt, now_ms());
		shell_metrics_store(MSTORE_RECORD_FAILURE, t0, rc);
		if (rc != STORE_OK) {
			char e_rcpt[FILTER_LOG_ESC];

			shell_log(LOG_WARNING, "%s: sender record not updated for <%s> (%s)",
			    msg_qid(ctx, m), log_str(e_rcpt, d->final_rcpt),
			    rc == STORE_UNAVAILABLE ? "store unavailable" : "store error");
		}
	}
}

/*
 * The DMARC preflight (diagnose.preflight): a message that will leave, from
 * a user (not the null sender), whose From domain's cached answer says
 * DMARC will fail and which carries no aligned DKIM signature (nor will
 * get one: diagnose.dkim_signed_domains) is tagged, or held. A cache miss
 * lets it pass untagged. Monitor mode only logs. Failures of the milter
 * calls are logged; the message is never refused for them.
 */
static void
preflight_apply(SMFICTX *ctx, struct connctx *c, struct msgctx *m,
    const struct verdict *v)
{
	const struct diagnose_conf *dc = &c->cfg->diagnose;
	const char *at = strrchr(m->mail_from, '@');
	char why[512], hdr[400], esc[FILTER_LOG_ESC];
	enum preflight_verdict pv;
	size_t i, n;
	int first;

	if (dc->preflight == PREFLIGHT_OFF || m->mail_from[0] == '\0' ||
	    m->from_domain[0] == '\0' || v->action > ACT_REPAIR ||
	    scan_is_bounce(m->scan))
		return;
	pv = shell_preflight_lookup(m->from_domain, at ? at + 1 : NULL, why,
	    sizeof(why), &first);
	if (pv == PREFLIGHT_WILL_FAIL &&
	    shell_preflight_signed(c->cfg, m->from_domain, m->dkim_d))
		pv = PREFLIGHT_PASS;	/* signed, or to be signed, aligned */
	metrics_preflight(shell_metrics(), (int)pv);
	if (pv != PREFLIGHT_WILL_FAIL)
		return;
	if (first)
		shell_log(LOG_WARNING, "%s: preflight: mail from %s will fail DMARC: %s",
		    msg_qid(ctx, m), log_str(esc, m->from_domain), why);
	if (c->cfg->mode == MODE_MONITOR)
		return;
	/* header value: printable ASCII only, bounded (why holds DNS data) */
	n = (size_t)snprintf(hdr, sizeof(hdr), "dmarc-will-fail; from=%s; ", m->from_domain);
	for (i = 0; why[i] && n + 1 < sizeof(hdr); i++)
		hdr[n++] = (unsigned char)why[i] >= ' ' && (unsigned char)why[i] < 0x7f ?
		    why[i] : '?';
	hdr[n < sizeof(hdr) ? n : sizeof(hdr) - 1] = '\0';
	if (dc->preflight == PREFLIGHT_HOLD) {
		if (smfi_quarantine(ctx, hdr) != MI_SUCCESS)
			shell_log(LOG_WARNING, "%s: preflight: quarantine failed", msg_qid(ctx, m));
	} else if (smfi_addheader(ctx, dc->preflight_header, hdr) != MI_SUCCESS) {
		shell_log(LOG_WARNING, "%s: preflight: adding %s failed", msg_qid(ctx, m),
		    dc->preflight_header);
	}
}

static sfsistat
egress_eom(SMFICTX *ctx)
{
	const struct dsn_report *r;
	struct connctx *c = conn_get(ctx);
	struct msgctx *m = c ? c->msg : NULL;
	struct verdict v;
	struct buf line;
	char why[512];
	sfsistat st;
	size_t i;

	if (m == NULL)
		return SMFIS_CONTINUE;
	if (m->failed || msg_start_scan(c) != 0 || scan_finish(m->scan) != 0) {
		st = fail_status(c, ctx, "scan");
		msg_free(m);
		c->msg = NULL;
		return st;
	}
	/*
	 * Not a submission (a stranger on a bounces listener): accept as it
	 * is; only a bounce is reported and recorded.
	 */
	if (!m->role.outbound) {
		if ((r = scan_dsn(m->scan)) != NULL && r->kind != DSN_KIND_NONE) {
			metrics_report(shell_metrics(), r, MMATCH_UNKNOWN);
			report_bounce(ctx, c, m, r, 1);
			record_bounce(ctx, c, m, r);
		} else {
			char e_from[FILTER_LOG_ESC], e_dn[FILTER_LOG_ESC];

			shell_log(LOG_INFO, "%s: not checked: role=%s why=%s daemon=%s sender=<%s>",
			    msg_qid(ctx, m), role_mode_name(m->role.listener),
			    m->role.why, log_str(e_dn, c->daemon_name[0] ?
			    c->daemon_name : "-"), log_str(e_from, m->mail_from));
		}
		msg_free(m);
		c->msg = NULL;
		return SMFIS_ACCEPT;
	}
	/* The sender record's facts join the findings (and the policy). */
	for (i = 0; i < m->facts.n; i++)
		if (findings_add(scan_findings(m->scan), m->facts.v[i].check_id,
		    "%s", m->facts.v[i].key[0] ? m->facts.v[i].key : "-") != 0)
			m->failed = 1;
	if (m->ndrop > 0 && m->ndrop >= m->nrcpt &&
	    findings_add(scan_findings(m->scan), "recipient.suppressed",
	    "%zu of %zu recipients", m->ndrop, m->nrcpt) != 0)
		m->failed = 1;
	if (m->failed) {
		st = fail_status(c, ctx, "sender record");
		msg_free(m);
		c->msg = NULL;
		return st;
	}
	policy_decide(c->cfg, &m->env, scan_findings(m->scan),
	    scan_is_bounce(m->scan), &v);
	/* The record's wording says more than the generic reply of its check. */
	if (v.decided_by != NULL)
		policy_fact_reply(c->cfg, &v, sender_facts_find(&m->facts,
		    v.decided_by));
	/* The repairs the verdict asks for must be possible; else say why. */
	if (v.repair_lines) {
		enum reencode_result res;

		if (repair_plan(c, m, &res) != 0 ||
		    (res != REENCODE_OK && res != REENCODE_NONE &&
		    unrepairable(c, m, &v, "body.line_too_long_unrepairable",
		    reencode_result_text(res), why, sizeof(why)) != 0)) {
			st = fail_status(c, ctx, "line repair");
			msg_free(m);
			c->msg = NULL;
			return st;
		}
	}
	/* A signed Message-ID is not replaced (the signature would break). */
	if (v.replace_message_id && m->dkim_signed &&
	    unrepairable(c, m, &v, "rfc5322.message_id.unrepairable",
	    "the message is DKIM-signed", why, sizeof(why)) != 0) {
		st = fail_status(c, ctx, "Message-ID repair");
		msg_free(m);
		c->msg = NULL;
		return st;
	}
	/* Every recipient suppressed (non-SMTP): say which and why, as at RCPT. */
	if (v.decided_by != NULL && strcmp(v.decided_by, "recipient.suppressed") == 0 &&
	    m->drop_reply[0] && v.action >= ACT_TEMPFAIL)
		policy_set_reply(&v, m->drop_reply);
	buf_init(&line, FILTER_LOG_MAX);
	if (policy_log_line(&m->env, scan_findings(m->scan), &v, &line) != BUF_OK &&
	    line.len == 0)
		shell_log(LOG_WARNING, "%s: log line too long", msg_qid(ctx, m));
	else
		shell_log(LOG_INFO, "%s: %s", msg_qid(ctx, m), buf_cstr(&line));
	buf_fini(&line);
	shell_metrics_verdict(&v, c->cfg->mode == MODE_MONITOR,
	    scan_findings(m->scan), &m->facts);
	preflight_apply(ctx, c, m, &v);
	st = apply_verdict(ctx, c, m, &v);
	if (st == SMFIS_ACCEPT)
		st = batv_sign_from(ctx, c, m);
	ledger_record(ctx, m, &v, st);
	/* An outbound-only listener watches no bounces (local clients' DSNs). */
	if (m->role.bounces &&
	    (r = scan_dsn(m->scan)) != NULL && r->kind != DSN_KIND_NONE) {
		/* a DSN weighed against the ledger is counted by record_bounce */
		if (r->kind != DSN_KIND_DSN || !ledger_consulted(c))
			metrics_report(shell_metrics(), r, MMATCH_UNKNOWN);
		report_bounce(ctx, c, m, r, st == SMFIS_ACCEPT);
		record_bounce(ctx, c, m, r);
	}
	msg_free(m);
	c->msg = NULL;
	return st;
}

static sfsistat
egress_abort(SMFICTX *ctx)
{
	struct connctx *c = conn_get(ctx);

	if (c != NULL) {
		msg_free(c->msg);
		c->msg = NULL;
	}
	return SMFIS_CONTINUE;
}

static sfsistat
egress_close(SMFICTX *ctx)
{
	struct connctx *c = conn_get(ctx);

	if (c != NULL) {
		msg_free(c->msg);
		if (c->cfg != NULL)
			metrics_session(shell_metrics(), -1);
		shell_config_put(c->cfg);
		conn_closed(c);
		free(c);
		smfi_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

/* ---- callback latency (milter_egress_callback_duration_seconds) ---- */

static sfsistat
timed_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *sa)
{
	uint64_t t0 = shell_metrics_clock();
	sfsistat st = egress_connect(ctx, hostname, sa);

	shell_metrics_stage(MSTAGE_CONNECT, t0);
	return st;
}

static sfsistat
timed_envfrom(SMFICTX *ctx, char **argv)
{
	uint64_t t0 = shell_metrics_clock();
	sfsistat st = egress_envfrom(ctx, argv);

	shell_metrics_stage(MSTAGE_ENVFROM, t0);
	return st;
}

static sfsistat
timed_envrcpt(SMFICTX *ctx, char **argv)
{
	uint64_t t0 = shell_metrics_clock();
	sfsistat st = egress_envrcpt(ctx, argv);

	shell_metrics_stage(MSTAGE_ENVRCPT, t0);
	return st;
}

static sfsistat
timed_eoh(SMFICTX *ctx)
{
	uint64_t t0 = shell_metrics_clock();
	sfsistat st = egress_eoh(ctx);

	shell_metrics_stage(MSTAGE_EOH, t0);
	return st;
}

static sfsistat
timed_body(SMFICTX *ctx, unsigned char *p, size_t n)
{
	uint64_t t0 = shell_metrics_clock();
	sfsistat st = egress_body(ctx, p, n);

	shell_metrics_stage(MSTAGE_BODY, t0);
	return st;
}

static sfsistat
timed_eom(SMFICTX *ctx)
{
	uint64_t t0 = shell_metrics_clock();
	sfsistat st = egress_eom(ctx);

	shell_metrics_stage(MSTAGE_EOM, t0);
	return st;
}

void
filter_free_open(void)
{
	struct connctx *c, *next;

	pthread_mutex_lock(&open_lock);
	for (c = open_head; c != NULL; c = next) {
		next = c->next;
		msg_free(c->msg);
		shell_config_put(c->cfg);
		free(c);
	}
	open_head = NULL;
	pthread_mutex_unlock(&open_lock);
}

struct smfiDesc egress_filter = {
	.xxfi_name = "milter-egress",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE |
	    SMFIF_DELRCPT | SMFIF_CHGBODY | SMFIF_CHGFROM,
	.xxfi_connect = timed_connect,
	.xxfi_helo = NULL,
	.xxfi_envfrom = timed_envfrom,
	.xxfi_envrcpt = timed_envrcpt,
	.xxfi_header = egress_header,
	.xxfi_eoh = timed_eoh,
	.xxfi_body = timed_body,
	.xxfi_eom = timed_eom,
	.xxfi_abort = egress_abort,
	.xxfi_close = egress_close,
	.xxfi_unknown = NULL,
	.xxfi_data = NULL,
	.xxfi_negotiate = egress_negotiate,
};
