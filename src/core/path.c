/*
 * path.c - the address of a MAIL FROM / RCPT TO argument (see path.h).
 *
 * Linear, allocation-free; quoted pairs and quoted strings are honoured so
 * that a ">" inside a quoted local part does not end the path.
 */
#include <string.h>

#include "egress/path.h"

static void
copy(char *out, size_t outlen, const char *s, size_t n)
{
	if (outlen == 0)
		return;
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, s, n);
	out[n] = '\0';
}

enum path_kind
path_parse(const char *arg, char *out, size_t outlen)
{
	size_t n, i, start;
	int quoted = 0;

	if (arg == NULL)
		arg = "";
	n = strlen(arg);
	if (n == 2 && arg[0] == '<' && arg[1] == '>') {
		copy(out, outlen, "", 0);
		return PATH_NULL;
	}
	if (n == 0 || arg[0] != '<') {
		/* a bare mailbox (some MTAs and tools pass one): no brackets,
		 * no white space, no angle bracket anywhere */
		if (n > 0 && strpbrk(arg, "<> \t\r\n") == NULL) {
			copy(out, outlen, arg, n);
			return PATH_OK;
		}
		copy(out, outlen, arg, n);
		return PATH_BAD;
	}
	/* a source route "@a,@b:" before the mailbox is dropped */
	start = 1;
	if (arg[1] == '@') {
		const char *colon = memchr(arg + 1, ':', n - 1);

		if (colon != NULL)
			start = (size_t)(colon - arg) + 1;
	}
	for (i = start; i < n; i++) {
		char c = arg[i];

		if (quoted) {
			if (c == '\\' && i + 1 < n)
				i++;
			else if (c == '"')
				quoted = 0;
			continue;
		}
		if (c == '"')
			quoted = 1;
		else if (c == '<' || c == ' ' || c == '\t' || c == '\r' || c == '\n')
			break;
		else if (c == '>') {
			if (i + 1 != n || i == start)
				break;		/* text after it, or "<@a:>" */
			copy(out, outlen, arg + start, i - start);
			return PATH_OK;
		}
	}
	copy(out, outlen, arg, n);
	return PATH_BAD;
}
