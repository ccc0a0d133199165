/*
 * recog - the bounce recogniser: what a message's header fields say about
 * whether it is a bounce, a report or an auto-reply.
 *
 * One set of words serves two readers. The DSN parser (dsn.h) weighs them
 * with what the body says: a From naming a mailer daemon, a bounce subject
 * and the text's marker lines together make a plain-text bounce. The scan
 * (scan.h) asks recog_field_hint() of each top-level field whether the
 * message may be a bounce at all, and attaches the DSN parser only then,
 * whatever the envelope sender. The hint is looser than the parser: a
 * message it lets through that is not a bounce costs one parse and is
 * reported as ordinary mail.
 *
 * Words are matched case-insensitively (ASCII). Pure: no allocation, no
 * state; NULL values give 0. Time is linear in the value for each word.
 */
#ifndef EGRESS_RECOG_H
#define EGRESS_RECOG_H

/*
 * Non-zero when a From value names a mailer daemon or postmaster, or is
 * the null path "<>".
 */
int	recog_from_daemon(const char *from);

/* Non-zero when a Subject value holds a bounce's words ("Undeliverable"). */
int	recog_bounce_subject(const char *subject);

/*
 * Non-zero when a Subject value starts like an auto-reply's ("Out of
 * Office: ...", "[Automatic reply] ..."); "Re: out of office" is a person.
 */
int	recog_autoreply_subject(const char *subject);

/*
 * Non-zero when the field marks an auto-reply by itself (RFC 3834
 * "Auto-Submitted: auto-replied" but not "auto-replied (rejected)", a
 * Sieve reject; X-Autoreply, X-Autorespond,
 * X-Autoresponder, X-Vacation, "Precedence: auto_reply"). name is compared
 * case-insensitively.
 */
int	recog_autoreply_field(const char *name, const char *value);

/*
 * Non-zero when this top-level field makes the message a possible bounce,
 * report or auto-reply: a multipart/report Content-Type, any Auto-Submitted
 * other than "no", X-Failed-Recipients, a From naming a mailer daemon, a
 * bounce subject, an auto-reply field or an auto-reply word anywhere in the
 * subject.
 */
int	recog_field_hint(const char *name, const char *value);

#endif
