/*
 * fuzz_batv - batv_check on arbitrary recipient addresses: never reads past
 * the string, the original address it gives back is NUL-terminated within
 * its buffer, and a tag batv_sign made for the original verifies.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "egress/batv.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const unsigned char key[LEDGER_KEY_LEN] = { 7, 7, 7 };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[1024], orig[BATV_ADDR_MAX], t[BATV_ADDR_MAX + 20];
	enum batv_result r;

	if (size >= sizeof(in))
		size = sizeof(in) - 1;
	memcpy(in, data, size);
	in[size] = '\0';
	memset(orig, 'X', sizeof(orig));
	r = batv_check(key, 20425, 7, in, orig, sizeof(orig));
	if (memchr(orig, '\0', sizeof(orig)) == NULL)
		abort();
	if (r != BATV_UNTAGGED && strchr(orig, '@') != NULL &&
	    batv_sign(key, 0, 20425, 7, orig, t, sizeof(t)) == 0 &&
	    batv_check(key, 20425, 7, t, NULL, 0) != BATV_VALID)
		abort();
	return 0;
}
