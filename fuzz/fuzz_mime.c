/*
 * fuzz_mime - libFuzzer target for the streaming MIME parser.
 *
 * Input: two bytes of settings (chunking seed, small limits or defaults),
 * then a whole message. The message is parsed once in one body chunk and
 * once in chunks of pseudo-random sizes from the seed; the two dumps (part
 * tree, decoded data hashes, findings) must be identical, else abort().
 * Small limits are used for half of the inputs so the limit paths are hit.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "egress/buf.h"
#include "egress/findings.h"
#include "egress/mime.h"
#include "mime_collect.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
run(struct buf *out, const char *msg, size_t len,
    const struct mime_limits *lim, const size_t *pattern, size_t npattern,
    int headers)
{
	struct mt_collect col;
	struct mime_handler h;
	struct findings f;
	struct mime_parser *mp;
	int rc = -1;

	mt_collect_init(&col, headers);
	findings_init(&f, 0);
	h = mt_collect_handler(&col);
	if ((mp = mime_parser_new(lim, &h, 1, &f)) != NULL &&
	    mt_feed(mp, msg, len, 0, pattern, npattern) == 0 &&
	    mt_collect_findings(&col, &f) == 0 &&
	    buf_append(out, buf_cstr(&col.out), col.out.len) == BUF_OK)
		rc = 0;
	mime_parser_free(mp);
	findings_fini(&f);
	mt_collect_fini(&col);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_limits lim;
	struct buf a, b;
	size_t pattern[16], i;
	unsigned seed;

	if (size < 2)
		return 0;
	seed = data[0];
	memset(&lim, 0, sizeof(lim));
	if (data[1] & 1) {
		lim.depth = 1 + (data[1] >> 1 & 3);
		lim.parts = 2 + (data[1] >> 3 & 7);
		lim.boundary_length = 8 + (data[1] >> 6) * 8;
		lim.part_header_bytes = 64 + (data[1] >> 4) * 16;
		lim.decoded_bytes = 32 + data[1];
	}
	for (i = 0; i < 16; i++) {
		seed = seed * 1103515245u + 12345u;
		pattern[i] = 1 + (seed >> 16) % ((i & 3) == 3 ? 300 : 9);
	}
	buf_init(&a, 0);
	buf_init(&b, 0);
	data += 2;
	size -= 2;
	if (run(&a, (const char *)data, size, &lim, NULL, 0, 1) != 0 ||
	    run(&b, (const char *)data, size, &lim, pattern, 16, 1) != 0)
		abort();	/* no allocation failure expected here */
	if (a.len != b.len || memcmp(buf_cstr(&a), buf_cstr(&b), a.len) != 0)
		abort();	/* chunking changed the result */
	buf_fini(&a);
	buf_fini(&b);
	return 0;
}
