/*
 * check_reencode - the long-line repair: which bodies it repairs, which it
 * refuses and why, and that a repaired body decodes (with the project's MIME
 * reader) to exactly the content of the original, with no line over 76
 * octets in a re-encoded part and none over 998 anywhere. Both passes are
 * fed at chunk sizes 1, 2, 7, 4096 and whole, and must give one result.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "egress/buf.h"
#include "egress/findings.h"
#include "egress/mime.h"
#include "egress/reencode.h"

#define LONG_MARK	"@LONG@"	/* replaced by a 2,000-octet line */

struct rcase {
	const char	*label;
	const char	*ctype;		/* top-level Content-Type or NULL */
	const char	*cte;		/* top-level CTE or NULL */
	int		 dkim;
	const char	*body;		/* \n is written as CRLF */
	enum reencode_result want;
	const char	*want_top_cte;	/* NULL: the top header is unchanged */
	size_t		 want_parts;
};

static const struct rcase cases[] = {
	{ "plain text", "text/plain; charset=utf-8", "8bit", 0,
	  "Hello,\n" LONG_MARK "\nBye.  \n-- \nsig\n", REENCODE_OK, "quoted-printable", 1 },
	{ "no MIME headers at all", NULL, NULL, 0,
	  LONG_MARK "\n", REENCODE_OK, "quoted-printable", 1 },
	{ "nothing too long", "text/plain", NULL, 0, "short\nlines\n",
	  REENCODE_NONE, NULL, 0 },
	{ "html alternative", "multipart/alternative; boundary=\"b1\"", NULL, 0,
	  "preamble\n--b1\nContent-Type: text/plain\n\nshort text\n--b1\n"
	  "Content-Type: text/html; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\n"
	  "<p>" LONG_MARK "</p>\n--b1--\nepilogue\n", REENCODE_OK, NULL, 1 },
	{ "binary leaf gets base64", "multipart/mixed; boundary=x", NULL, 0,
	  "--x\nContent-Type: application/octet-stream\n\n" LONG_MARK "\n--x--\n",
	  REENCODE_OK, NULL, 1 },
	{ "nested message", "multipart/mixed; boundary=outer", NULL, 0,
	  "--outer\nContent-Type: text/plain\n\nsee below\n--outer\n"
	  "Content-Type: message/rfc822\n\nFrom: a@b.example\nSubject: fwd\n"
	  "Content-Type: multipart/alternative; boundary=inner\n\n"
	  "--inner\nContent-Type: text/html\n\n" LONG_MARK "\n--inner--\n--outer--\n",
	  REENCODE_OK, NULL, 1 },
	{ "two long parts", "multipart/mixed; boundary=x", NULL, 0,
	  "--x\n\n" LONG_MARK "\n--x\nContent-Type: text/csv\n\n" LONG_MARK "\nend\n--x--\n",
	  REENCODE_OK, NULL, 2 },
	{ "dkim signed", "text/plain", NULL, 1, LONG_MARK "\n",
	  REENCODE_DKIM, NULL, 0 },
	{ "inside multipart/signed", "multipart/signed; boundary=s; protocol=\"application/pgp-signature\"",
	  NULL, 0, "--s\nContent-Type: text/plain\n\n" LONG_MARK "\n--s\n"
	  "Content-Type: application/pgp-signature\n\nsig\n--s--\n", REENCODE_SIGNED, NULL, 0 },
	{ "smime opaque", "application/pkcs7-mime; smime-type=enveloped-data", "8bit", 0,
	  LONG_MARK "\n", REENCODE_SIGNED, NULL, 0 },
	{ "long part header line", "multipart/mixed; boundary=x", NULL, 0,
	  "--x\nX-Long: " LONG_MARK "\n\ntext\n--x--\n", REENCODE_HEADER, NULL, 0 },
	{ "long base64 line", "multipart/mixed; boundary=x", NULL, 0,
	  "--x\nContent-Transfer-Encoding: base64\n\n" LONG_MARK "\n--x--\n",
	  REENCODE_ENCODED, NULL, 0 },
	{ "long preamble line", "multipart/mixed; boundary=x", NULL, 0,
	  LONG_MARK "\n--x\n\ntext\n--x--\n", REENCODE_STRUCTURE, NULL, 0 },
	{ "no final line end", "text/plain", NULL, 0, "a\n" LONG_MARK,
	  REENCODE_OK, "quoted-printable", 1 },
	{ "section cut by a line that is no field", "multipart/mixed; boundary=x", NULL, 0,
	  "--x\nContent-Type: text/plain\n" LONG_MARK "\n--x--\n", REENCODE_OK, NULL, 1 },
	{ "digest parts default to messages", "multipart/digest; boundary=d", NULL, 0,
	  "--d\n\nFrom: a@b.example\nSubject: one\n\n" LONG_MARK "\n--d--\n",
	  REENCODE_OK, NULL, 1 },
};

/* The body of a case: CRLF line ends, LONG_MARK expanded. */
static char *
make_body(const char *tmpl, size_t *len)
{
	struct buf b;
	const char *p;
	size_t i;
	char *out;

	buf_init(&b, 1 << 20);
	for (p = tmpl; *p; p++) {
		if (strncmp(p, LONG_MARK, strlen(LONG_MARK)) == 0) {
			/* words, '=' signs, trailing-space traps, a fake delimiter */
			for (i = 0; i < 2000; i++)
				ck_assert_int_eq(buf_putc(&b, "ab=c d-\t--b1 x"[i % 14]), BUF_OK);
			p += strlen(LONG_MARK) - 1;
		} else if (*p == '\n')
			ck_assert_int_eq(buf_puts(&b, "\r\n"), BUF_OK);
		else
			ck_assert_int_eq(buf_putc(&b, *p), BUF_OK);
	}
	*len = b.len;
	out = malloc(b.len + 1);
	memcpy(out, b.data ? b.data : "", b.len);
	out[b.len] = '\0';
	buf_fini(&b);
	return out;
}

/* ---- decoding with the MIME reader ---- */

struct dump {
	struct buf	out;
};

static int
d_begin(void *ctx, const struct mime_part_info *info)
{
	struct dump *d = ctx;

	return buf_printf(&d->out, "[%u %s %s]", info->id, info->type,
	    info->is_multipart ? "multi" : info->is_message ? "msg" : "leaf") == BUF_OK ? 0 : -1;
}

static int
d_data(void *ctx, const struct mime_part_info *info, const char *p, size_t n)
{
	struct dump *d = ctx;

	(void)info;
	return buf_append(&d->out, p, n) == BUF_OK ? 0 : -1;
}

static int
d_end(void *ctx, const struct mime_part_info *info)
{
	struct dump *d = ctx;

	return buf_printf(&d->out, "[/%u]", info->id) == BUF_OK ? 0 : -1;
}

/* Structure and decoded content of a body under a top-level header. */
static char *
decode(const char *ctype, const char *cte, const char *body, size_t len)
{
	struct mime_limits ml = { 0, 0, 0, 0, 16 << 20 };
	struct mime_handler h;
	struct findings f;
	struct dump d;
	struct mime_parser *mp;
	char *s;

	memset(&h, 0, sizeof(h));
	h.ctx = &d;
	h.part_begin = d_begin;
	h.part_data = d_data;
	h.part_end = d_end;
	buf_init(&d.out, 64 << 20);
	findings_init(&f, 256);
	ck_assert_ptr_nonnull(mp = mime_parser_new(&ml, &h, 1, &f));
	ck_assert_int_eq(mime_parser_header(mp, "MIME-Version", "1.0"), 0);
	if (ctype)
		ck_assert_int_eq(mime_parser_header(mp, "Content-Type", ctype), 0);
	if (cte)
		ck_assert_int_eq(mime_parser_header(mp, "Content-Transfer-Encoding", cte), 0);
	ck_assert_int_eq(mime_parser_body(mp, body, len), 0);
	ck_assert_int_eq(mime_parser_finish(mp), 0);
	mime_parser_free(mp);
	findings_fini(&f);
	s = strdup(d.out.data ? d.out.data : "");
	buf_fini(&d.out);
	return s;
}

/* ---- running both passes ---- */

static int
sink(void *arg, const char *p, size_t n)
{
	return buf_append(arg, p, n) == BUF_OK ? 0 : -1;
}

static enum reencode_result
run(const struct rcase *c, const char *body, size_t len, size_t chunk,
    struct buf *out, const char **top_cte, size_t *parts)
{
	struct reencode_top top = { c->ctype, c->cte, c->dkim };
	struct reencode *r;
	enum reencode_result res;
	size_t i;

	ck_assert_ptr_nonnull(r = reencode_new(&top, 998, 500));
	for (i = 0; i < len; i += chunk)
		ck_assert_int_eq(reencode_plan_feed(r, body + i,
		    len - i < chunk ? len - i : chunk), 0);
	res = reencode_plan_finish(r);
	*top_cte = reencode_top_cte(r);
	*parts = reencode_parts(r);
	if (res == REENCODE_OK) {
		ck_assert_int_eq(reencode_rewrite_start(r, sink, out), 0);
		for (i = 0; i < len; i += chunk)
			ck_assert_int_eq(reencode_rewrite_feed(r, body + i,
			    len - i < chunk ? len - i : chunk), 0);
		ck_assert_int_eq(reencode_rewrite_finish(r), 0);
	}
	reencode_free(r);
	return res;
}

static const size_t chunks[] = { 1, 2, 7, 4096, 0 };

START_TEST(test_repair)
{
	const struct rcase *c = &cases[_i];
	size_t len, k, parts;
	char *body = make_body(c->body, &len), *first = NULL;

	for (k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
		size_t chunk = chunks[k] ? chunks[k] : len + 1;
		struct buf out;
		const char *top_cte;
		enum reencode_result res;

		buf_init(&out, 64 << 20);
		res = run(c, body, len, chunk, &out, &top_cte, &parts);
		ck_assert_msg(res == c->want, "%s (chunk %zu): result %s, want %s",
		    c->label, chunk, reencode_result_text(res),
		    reencode_result_text(c->want));
		if (res == REENCODE_OK) {
			const char *p = out.data, *end = out.data + out.len;
			char *was, *now;

			ck_assert_uint_eq(parts, c->want_parts);
			if (c->want_top_cte)
				ck_assert_str_eq(top_cte ? top_cte : "(none)", c->want_top_cte);
			else
				ck_assert_ptr_null(top_cte);
			/* every line of the result fits */
			while (p < end) {
				const char *e = memchr(p, '\n', (size_t)(end - p));
				size_t l = (size_t)((e ? e : end) - p);

				ck_assert_msg(l <= 999, "%s: line of %zu", c->label, l);
				p = e ? e + 1 : end;
			}
			/* the same content, decoded */
			was = decode(c->ctype, c->cte, body, len);
			now = decode(c->ctype, top_cte ? top_cte : c->cte, out.data, out.len);
			ck_assert_msg(strcmp(was, now) == 0, "%s (chunk %zu): decoded differs\n"
			    "was: %.300s\nnow: %.300s", c->label, chunk, was, now);
			free(was);
			free(now);
			/* identical whatever the chunking */
			if (first == NULL)
				first = strdup(out.data);
			else
				ck_assert_msg(strcmp(first, out.data) == 0,
				    "%s: chunk %zu changes the output", c->label, chunk);
		}
		buf_fini(&out);
	}
	free(first);
	free(body);
}
END_TEST

/* The re-encoded part says so in its own header; others keep theirs. */
START_TEST(test_part_header)
{
	const struct rcase *c = &cases[3];	/* html alternative */
	struct buf out;
	const char *top_cte;
	size_t len, parts;
	char *body = make_body(c->body, &len);

	buf_init(&out, 64 << 20);
	ck_assert_int_eq(run(c, body, len, len, &out, &top_cte, &parts), REENCODE_OK);
	ck_assert_ptr_nonnull(strstr(out.data,
	    "Content-Type: text/html; charset=iso-8859-1\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n<p>"));
	ck_assert_ptr_null(strstr(out.data, "Content-Transfer-Encoding: 8bit"));
	ck_assert_ptr_nonnull(strstr(out.data, "preamble\r\n--b1\r\n"
	    "Content-Type: text/plain\r\n\r\nshort text\r\n--b1\r\n"));
	ck_assert_ptr_nonnull(strstr(out.data, "--b1--\r\nepilogue\r\n"));
	buf_fini(&out);
	free(body);
}
END_TEST

static Suite *
reencode_suite(void)
{
	Suite *s = suite_create("reencode");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_repair, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_part_header);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(reencode_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
