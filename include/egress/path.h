/*
 * path - the address in a MAIL FROM or RCPT TO argument, as the MTA hands
 * it to a milter ("<a@example.org>", "<>").
 *
 * RFC 5321 4.1.2: a path is "<" [A-d-l ":"] Mailbox ">"; the local part
 * may be a quoted string, which may hold ">" or "@". Only exactly "<>" is
 * the null sender (Postfix normalises what the client sent to that form).
 * Anything that is not one bracketed path (text after the closing bracket,
 * nested brackets, an open quote) is kept whole, so it can never be taken
 * for, or keyed as, the valid address it starts with.
 */
#ifndef EGRESS_PATH_H
#define EGRESS_PATH_H

#include <stddef.h>

enum path_kind {
	PATH_NULL = 0,	/* exactly "<>" */
	PATH_OK,	/* one bracketed path, or a bare mailbox */
	PATH_BAD,	/* anything else: out holds the argument as given */
};

/*
 * Parse arg (NULL is taken as ""). out receives the mailbox without its
 * brackets and source route (PATH_OK), "" (PATH_NULL), or the whole
 * argument (PATH_BAD); it is cut at outlen - 1 bytes. An empty argument is
 * PATH_BAD.
 */
enum path_kind	path_parse(const char *arg, char *out, size_t outlen);

#endif
