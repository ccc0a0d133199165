/*
 * smtpcode - SMTP reply codes and enhanced status codes in text.
 *
 * Reply codes are RFC 5321 4.2.1: three digits, the first 2-5, the second
 * 0-5. Enhanced status codes are RFC 3463: "class.subject.detail", class 2,
 * 4 or 5, subject and detail 1 to 3 digits each ("5.1.1", "4.7.26",
 * "5.2.122").
 *
 * The *_at functions find a code standing on its own in free text (a
 * diagnostic, a bounce's human part), so that version numbers, addresses,
 * IP addresses and identifiers that happen to hold digits are not read as
 * codes. Every function is pure, reads only the bytes it is given (s[0..n)
 * need not be NUL-terminated) and runs in constant time.
 */
#ifndef EGRESS_SMTPCODE_H
#define EGRESS_SMTPCODE_H

#include <stddef.h>

#define SMTP_STATUS_LEN_MAX	9	/* "5.123.456" */

/*
 * The class of an enhanced status code: 2, 4 or 5 when s starts with that
 * digit and a dot ("4.", "5.7.1"), else 0 (also for NULL). The rest of s is
 * not looked at.
 */
int	smtp_status_class(const char *s);

/*
 * The length of the enhanced status code at s[i], or 0 when none starts
 * there. The code must stand alone: not preceded by a digit or a dot, not
 * followed by a digit or by a dot and a digit ("1.5.1.1" and "5.1.1.2" hold
 * none; "5.1.1." at the end of a sentence holds one, of length 5).
 */
size_t	smtp_status_at(const char *s, size_t n, size_t i);

/*
 * The reply code s[0..n) starts with (200..559), or 0 when its first three
 * bytes are not one. What follows them is for the caller to judge.
 */
int	smtp_reply_code(const char *s, size_t n);

/*
 * The completion reply code (2xx, 4xx or 5xx; 3xx are intermediate) at s[i]
 * as it appears in a diagnostic, or 0. It must start a word (not after a
 * letter, digit, '.', '-', '#', '_', '/' or '=') and end one: at the end of
 * the text, or before a space, tab, newline, ',', the '-' of a multi-line
 * reply, or a ':' that ends the text or is followed by a space.
 */
int	smtp_reply_at(const char *s, size_t n, size_t i);

#endif
