/*
 * recog - the words by which a bounce or an auto-reply is known from its
 * header fields, kept in one place for the DSN parser and the scan.
 *
 * The lists come from the bounces and auto-replies of the MTAs and
 * providers in the test corpus; a word added here is seen by both readers,
 * so the scan never drops a message the parser would have recognised by
 * these fields. Matching is ASCII case-insensitive (the process runs in
 * the C locale), one pass over the value per word.
 */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "egress/recog.h"

/* In a From field: the mailer daemon, the postmaster, the mail system. */
static const char *const daemon_names[] = {
	"mailer-daemon", "mailer_daemon", "mailerdaemon", "postmaster",
	"post_master", "mail delivery", "mail administrator", "maildelivery",
	"mail.delivery", "mdaemon", "mail system", "mail deliver",
	"microsoftexchange", "daemon@", "mail server", NULL
};

/* Anywhere in a bounce's subject. */
static const char *const bounce_subjects[] = {
	"undeliver", "undelivered", "delivery status notification",
	"delivery failure", "delivery failed", "mail delivery failed",
	"failure notice", "returned mail", "returned to sender",
	"mail could not be delivered", "delivery notification", "non remis",
	"nondeliverable", "non-deliverable", "delivery problem",
	"could not send message", "mail failure", "message not delivered",
	"delivery error", "rejected:", "warning: could not", "unzustellbar",
	"no entregado", "delivery has failed", "failed delivery",
	"message delivery failure", "error sending message",
	"mail system error", "delayed mail", "delivery delayed",
	"delayed:", "delivery delay", "warning: message",
	"delivery status notification (delay)",
	"zustellung verz\xc3\xb6gert",	/* Zustellung verzögert */
	"remise du message retard", "remise retard",
	"entrega retrasada", "consegna ritardata", "non recapitato",
	/*
	 * Exchange's translated subject prefixes ("Vertraagd: ...", "Onbestelbaar:
	 * ..."), colon included: the bare words head parcel and order notices too
	 */
	"vertraagd:", "onbestelbaar:", "atrasada:",
	"n\xc3\xa3o entregue:",		/* não entregue: */
	"op\xc3\xb3\xc5\xbanione:",	/* opóźnione: */
	"\xd0\xb0\xd0\xb4\xd0\xb5\xd1\x80\xd0\xb6\xd0\xb0\xd0\xbd\xd0\xbe:",	/* адержано: */
	"\xe9\x81\x85\xe5\xbb\xb6:",		/* 遅延: */
	"f\xc3\xb6rdr\xc3\xb6jd:", "olevererbart:",	/* fördröjd: */
	"nedoru\xc4\x8ditel",		/* nedoručitelné: (its stem) */
	"\xe9\x85\x8d\xe4\xbf\xa1\xe3\x82\xa8\xe3\x83\xa9\xe3\x83\xbc",	/* 配信エラー */
	"\xe9\x80\x80\xe4\xbf\xa1",				/* 退信 */
	"\xeb\xb0\x9c\xec\x86\xa1\x20\xec\x8b\xa4\xed\x8c\xa8",	/* 발송 실패 */
	"\xec\xa0\x84\xec\x86\xa1\x20\xec\x8b\xa4\xed\x8c\xa8",	/* 전송 실패 */
	"\xeb\xb0\x9c\xec\x86\xa1\xec\x97\x90\x20\xec\x8b\xa4\xed\x8c\xa8",	/* 발송에 실패 */
	"\xd0\xbd\xd0\xb5 \xd0\xb4\xd0\xbe\xd1\x81\xd1\x82\xd0\xb0\xd0\xb2\xd0\xbb\xd0\xb5\xd0\xbd\xd0\xbe",	/* не доставлено */
	/* "Недоставленное сообщение": the stem, either case of its first letter */
	"\xd0\xb5\xd0\xb4\xd0\xbe\xd1\x81\xd1\x82\xd0\xb0\xd0\xb2\xd0\xbb\xd0\xb5\xd0\xbd",	/* едоставлен */
	NULL
};

/* At the start of an auto-reply's subject. */
static const char *const autoreply_subjects[] = {
	"auto:", "automatic reply", "auto reply", "auto-reply", "autoreply",
	"auto response", "auto-response", "autoresponse",
	"automatic response", "out of office", "out of the office",
	"out-of-office", "vacation", "abwesenheit", "absence",
	"r\xc3\xa9ponse automatique", "respuesta autom\xc3\xa1tica",
	"risposta automatica", "on leave", "away from", NULL
};

/* Fields whose presence alone marks an auto-reply. */
static const char *const autoreply_fields[] = {
	"X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Vacation", NULL
};

static int
has_any(const char *s, const char *const *words)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; words[i] != NULL; i++)
		if (strcasestr(s, words[i]) != NULL)
			return 1;
	return 0;
}

static int
has_prefix(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

int
recog_from_daemon(const char *from)
{
	size_t n;

	if (from == NULL)
		return 0;
	/* "From: <>": the null path written as an author, daemons only */
	from += strspn(from, " \t");
	n = strlen(from);
	while (n > 0 && (from[n - 1] == ' ' || from[n - 1] == '\t'))
		n--;
	if (n == 2 && from[0] == '<' && from[1] == '>')
		return 1;
	/* Courier: "Courier mail server at host <@>" */
	if (n >= 3 && memcmp(from + n - 3, "<@>", 3) == 0)
		return 1;
	return has_any(from, daemon_names);
}

int
recog_bounce_subject(const char *subject)
{
	return has_any(subject, bounce_subjects);
}

int
recog_autoreply_subject(const char *subject)
{
	size_t i;

	if (subject == NULL)
		return 0;
	subject += strspn(subject, " [");
	for (i = 0; autoreply_subjects[i] != NULL; i++)
		if (has_prefix(subject, autoreply_subjects[i]))
			return 1;
	return 0;
}

int
recog_autoreply_field(const char *name, const char *value)
{
	size_t i;

	if (name == NULL || value == NULL)
		return 0;
	if (strcasecmp(name, "Auto-Submitted") == 0) {
		/*
		 * "auto-replied (rejected)": a Sieve reject (RFC 5429, as
		 * Pigeonhole sends it) refuses the message: a bounce.
		 */
		value += strspn(value, " \t");
		return has_prefix(value, "auto-replied") &&
		    strcasestr(value, "(rejected)") == NULL;
	}
	if (strcasecmp(name, "Precedence") == 0)
		return strcasestr(value, "auto_reply") != NULL;
	for (i = 0; autoreply_fields[i] != NULL; i++)
		if (strcasecmp(name, autoreply_fields[i]) == 0)
			return 1;
	return 0;
}

int
recog_field_hint(const char *name, const char *value)
{
	if (name == NULL || value == NULL)
		return 0;
	if (strcasecmp(name, "Content-Type") == 0)
		return strcasestr(value, "multipart/report") != NULL;
	if (strcasecmp(name, "Auto-Submitted") == 0) {
		/* anything but "no": auto-generated, auto-replied, auto-notified */
		value += strspn(value, " \t");
		return strncasecmp(value, "no", 2) != 0 ||
		    (value[2] != '\0' && value[2] != ' ' && value[2] != ';' &&
		    value[2] != '(');
	}
	if (strcasecmp(name, "X-Failed-Recipients") == 0)
		return 1;
	if (strcasecmp(name, "From") == 0)
		return recog_from_daemon(value);
	if (strcasecmp(name, "Subject") == 0)
		/*
		 * Looser than the parser: an auto-reply word anywhere, and
		 * "delivery status" of any report, read for its parts.
		 */
		return recog_bounce_subject(value) ||
		    has_any(value, autoreply_subjects) ||
		    strcasestr(value, "delivery status") != NULL;
	return recog_autoreply_field(name, value);
}
