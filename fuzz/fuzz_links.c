/*
 * fuzz_links - libFuzzer target for URL extraction and the URL checks.
 *
 * Input: one byte of settings (bit 0: HTML, the rest seeds the chunking),
 * then decoded part text. The text is scanned once whole and once in chunks
 * of pseudo-random sizes; every URL goes through link_check(). The two runs
 * must report the same URLs and findings, else abort(): extraction must not
 * depend on how the MIME reader chunks a part.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "egress/buf.h"
#include "egress/content.h"
#include "egress/findings.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct run {
	const struct content_config *cc;
	struct findings	 f;
	struct link_state st;
	struct buf	 out;
};

static int
on_url(void *ctx, const char *url, size_t len, const char *anchor,
    const char *attr)
{
	struct run *r = ctx;

	if (buf_append(&r->out, url, len) != BUF_OK ||
	    buf_printf(&r->out, "|%s|%s\n", anchor ? anchor : "-",
	    attr ? attr : "-") != BUF_OK)
		return -1;
	return link_check(r->cc, &r->st, &r->f, url, len, anchor, attr);
}

static int
scan(struct run *r, int html, const char *p, size_t n, unsigned seed)
{
	struct link_scanner *ls;
	size_t i, k;
	int rc = -1;

	if ((ls = link_scanner_new(html, on_url, r)) == NULL)
		return -1;
	for (i = 0; i < n; i += k) {
		k = seed ? 1 + (seed = seed * 1103515245u + 12345u) % 97 : n - i;
		if (k > n - i)
			k = n - i;
		if (link_scanner_feed(ls, p + i, k) != 0)
			goto out;
	}
	if (link_scanner_finish(ls) != 0)
		goto out;
	for (i = 0; i < r->f.n; i++)
		if (buf_printf(&r->out, "%s=%s\n", r->f.v[i].id,
		    r->f.v[i].detail) != BUF_OK)
			goto out;
	rc = 0;
out:
	link_scanner_free(ls);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct content_config cc;
	static int ready;
	struct run a, b;
	int ra, rb;

	if (!ready) {
		if (content_config_defaults(&cc) != 0)
			abort();
		ready = 1;
	}
	if (size < 1)
		return 0;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.cc = b.cc = &cc;
	findings_init(&a.f, 0);
	findings_init(&b.f, 0);
	buf_init(&a.out, 0);
	buf_init(&b.out, 0);
	ra = scan(&a, data[0] & 1, (const char *)data + 1, size - 1, 0);
	rb = scan(&b, data[0] & 1, (const char *)data + 1, size - 1,
	    (unsigned)(data[0] >> 1) + 1);
	if (ra != rb || (ra == 0 && (a.out.len != b.out.len ||
	    memcmp(buf_cstr(&a.out), buf_cstr(&b.out), a.out.len) != 0)))
		abort();
	buf_fini(&a.out);
	buf_fini(&b.out);
	findings_fini(&a.f);
	findings_fini(&b.f);
	return 0;
}
