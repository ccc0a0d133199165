/*
 * fuzz_reencode - the long-line repair on arbitrary bodies. The first byte
 * picks the top-level Content-Type and the chunk size; the rest is the
 * body. Both passes run; when the plan says repairable, the rewrite must
 * succeed and leave no line longer than 998 octets in what it wrote.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "egress/buf.h"
#include "egress/reencode.h"

static const char *const types[] = {
	NULL, "text/plain", "multipart/mixed; boundary=b", "message/rfc822",
	"multipart/digest; boundary=\"b\"", "application/octet-stream",
	"multipart/alternative; boundary=b; x=y", "multipart/signed; boundary=b",
};

struct out {
	size_t	col;
	size_t	longest;
};

static int
sink(void *arg, const char *p, size_t n)
{
	struct out *o = arg;
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\n') {
			o->col = 0;
			continue;
		}
		if (++o->col > o->longest)
			o->longest = o->col;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reencode_top top = { NULL, NULL, 0 };
	struct reencode *r;
	struct out o = { 0, 0 };
	const char *body;
	size_t n, chunk, i;

	if (size < 1)
		return 0;
	top.content_type = types[data[0] & 7];
	chunk = (size_t)(data[0] >> 3) + 1;
	body = (const char *)data + 1;
	n = size - 1;
	/* a short line limit, so small inputs reach the repair */
	if ((r = reencode_new(&top, 40, 50)) == NULL)
		return 0;
	for (i = 0; i < n; i += chunk)
		if (reencode_plan_feed(r, body + i, n - i < chunk ? n - i : chunk) != 0)
			abort();
	if (reencode_plan_finish(r) == REENCODE_OK) {
		if (reencode_rewrite_start(r, sink, &o) != 0)
			abort();
		for (i = 0; i < n; i += chunk)
			if (reencode_rewrite_feed(r, body + i,
			    n - i < chunk ? n - i : chunk) != 0)
				abort();
		if (reencode_rewrite_finish(r) != 0)
			abort();
		/* encoded lines are 76 at most (+CR); others were <= 40 */
		if (o.longest > 77)
			abort();
	}
	reencode_free(r);
	return 0;
}
