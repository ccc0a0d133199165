/*
 * smtpcode - recognising SMTP reply codes (RFC 5321) and enhanced status
 * codes (RFC 3463) in text.
 *
 * One place for the syntax, so the bounce parser, its text scanner and the
 * classifier read "550 5.1.1" the same way. The rules for a code standing
 * alone in prose are in smtpcode.h; each test looks at a fixed number of
 * bytes around the code, so scanning a text for codes stays linear.
 *
 * Pure: no allocation, no locale (digits are '0'..'9' only), no state.
 */
#include <stddef.h>

#include "egress/smtpcode.h"

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int
smtp_status_class(const char *s)
{
	if (s == NULL || !(s[0] == '2' || s[0] == '4' || s[0] == '5') ||
	    s[1] != '.')
		return 0;
	return s[0] - '0';
}

/* Digits at s[*j..n), at most 3 of them: returns 1 and moves *j, or 0. */
static int
part(const char *s, size_t n, size_t *j)
{
	size_t d;

	for (d = 0; *j < n && is_digit(s[*j]) && d < 4; (*j)++, d++)
		;
	return d >= 1 && d <= 3;
}

size_t
smtp_status_at(const char *s, size_t n, size_t i)
{
	size_t j = i;

	if (i >= n || (i > 0 && (is_digit(s[i - 1]) || s[i - 1] == '.')))
		return 0;
	if (i + 1 >= n || !(s[i] == '2' || s[i] == '4' || s[i] == '5') ||
	    s[i + 1] != '.')
		return 0;
	j += 2;
	if (!part(s, n, &j) || j >= n || s[j] != '.')
		return 0;
	j++;
	if (!part(s, n, &j))
		return 0;
	if (j < n && (is_digit(s[j]) ||
	    (s[j] == '.' && j + 1 < n && is_digit(s[j + 1]))))
		return 0;
	return j - i;
}

int
smtp_reply_code(const char *s, size_t n)
{
	if (n < 3 || s[0] < '2' || s[0] > '5' || s[1] < '0' || s[1] > '5' ||
	    !is_digit(s[2]))
		return 0;
	return (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
}

int
smtp_reply_at(const char *s, size_t n, size_t i)
{
	int code;
	char b, a;

	if (i >= n || (code = smtp_reply_code(s + i, n - i)) == 0 ||
	    code / 100 == 3)
		return 0;
	if (i > 0) {
		b = s[i - 1];
		if (is_alnum(b) || b == '.' || b == '-' || b == '#' || b == '_' ||
		    b == '/' || b == '=')
			return 0;
	}
	if (i + 3 < n) {
		a = s[i + 3];
		if (!(a == ' ' || a == '-' || a == '\t' || a == '\n' || a == ',' ||
		    (a == ':' && (i + 4 == n || s[i + 4] == ' '))))
			return 0;
	}
	return code;
}
