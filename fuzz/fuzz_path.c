/*
 * fuzz_path - path_parse on arbitrary arguments: the result is always
 * NUL-terminated within the buffer, PATH_NULL only for "<>", and an
 * accepted path is a substring of the argument.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "egress/path.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[1024], out[300];
	enum path_kind k;

	if (size >= sizeof(in))
		size = sizeof(in) - 1;
	memcpy(in, data, size);
	in[size] = '\0';
	memset(out, 'X', sizeof(out));
	k = path_parse(in, out, sizeof(out));
	if (memchr(out, '\0', sizeof(out)) == NULL)
		abort();
	if (k == PATH_NULL && strcmp(in, "<>") != 0)
		abort();
	if (k == PATH_OK && strstr(in, out) == NULL)
		abort();
	return 0;
}
