/*
 * check_mime - unit suite for the streaming MIME parser and its decoders.
 *
 * Table-driven: each case is a whole message, parsed at every chunk size
 * (whole, 1, 2, 3, 7, 64, 4096 and an irregular pattern); the dumps must be
 * identical, and must contain (or, with a leading "!", not contain) each
 * expected line fragment. Findings have a hit and a miss case each.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "egress/buf.h"
#include "egress/findings.h"
#include "egress/mime.h"
#include "mime_collect.h"
#include "../src/core/mime_int.h"

#define WANT_MAX	8

struct mcase {
	const char		*label;
	const char		*msg;
	struct mime_limits	 lim;
	const char		*want[WANT_MAX];
};

#define HDR	"From: a@example.org\r\nMIME-Version: 1.0\r\n"
#define B10	"0123456789"
#define B100	B10 B10 B10 B10 B10 B10 B10 B10 B10 B10
#define B999	B100 B100 B100 B100 B100 B100 B100 B100 B100 \
		B10 B10 B10 B10 B10 B10 B10 B10 B10 "012345678"
#define MP(b)	HDR "Content-Type: multipart/mixed; boundary=\"" b "\"\r\n\r\n"

static const struct mcase cases[] = {
	/* structure */
	{ "plain text", "Subject: x\r\n\r\nhello\r\nworld\r\n", { 0 },
	  { "begin 0 parent=0 depth=0 type=text/plain cte=7bit\n",
	    "size=14 ", "data=\"hello\\x0d\\x0aworld\\x0d\\x0a\"",
	    "!finding" } },
	{ "no body", "Subject: x\r\n", { 0 },
	  { "begin 0 ", "end 0 size=0 ", "!finding" } },
	{ "body without final line end", "Subject: x\n\nabc", { 0 },
	  { "data=\"abc\"" } },
	{ "multipart two parts", MP("b")
	  "preamble\r\n--b\r\n\r\none\r\n--b\r\nContent-Type: text/html\r\n\r\n"
	  "<p>two</p>\r\n--b--\r\nepilogue\r\n", { 0 },
	  { "begin 1 parent=0 depth=1 type=text/plain", "data=\"one\"",
	    "begin 2 parent=0 depth=1 type=text/html",
	    "data=\"<p>two</p>\"", "!preamble", "!epilogue", "!finding" } },
	{ "empty line before boundary kept as data", MP("b")
	  "--b\r\n\r\none\r\n\r\n--b--\r\n", { 0 },
	  { "data=\"one\\x0d\\x0a\"" } },
	{ "LF only", "Content-Type: multipart/mixed; boundary=b\nMIME-Version: 1.0\n\n"
	  "--b\n\nl1\nl2\n--b--\n", { 0 },
	  { "data=\"l1\\x0al2\"", "!finding" } },
	{ "bare CR stays data", "Subject: x\r\n\r\na\rb\r\r\n", { 0 },
	  { "data=\"a\\x0db\\x0d\\x0d\\x0a\"" } },
	{ "boundary prefix is not a boundary", MP("abc")
	  "--abc\r\n\r\nx\r\n--abcd\r\n--abc-\r\n--abc --\r\n--abc--\r\n", { 0 },
	  { "data=\"x\\x0d\\x0a--abcd\\x0d\\x0a--abc-\\x0d\\x0a--abc --\"" } },
	{ "transport padding", MP("p")
	  "--p \t \r\n\r\nx\r\n--p--\t\r\n", { 0 },
	  { "data=\"x\"", "!finding" } },
	{ "close delimiter without line end", MP("p") "--p\r\n\r\nx\r\n--p--",
	  { 0 }, { "data=\"x\"", "!finding" } },
	{ "outer boundary closes inner", MP("o")
	  "--o\r\nContent-Type: multipart/alternative; boundary=i\r\n\r\n"
	  "--i\r\n\r\nin\r\n--o\r\n\r\nnext\r\n--o--\r\n", { 0 },
	  { "begin 2 parent=1 depth=2", "data=\"in\"",
	    "begin 3 parent=0 depth=1", "data=\"next\"",
	    "finding mime.boundary_unterminated \"part 1: "
	    "multipart/alternative not closed\"" } },
	{ "message/rfc822 headers and body", MP("m")
	  "--m\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n"
	  "Content-Type: text/plain; charset=ISO-8859-1\r\n\r\nbody\r\n--m--\r\n",
	  { 0 },
	  { "begin 1 parent=0 depth=1 type=message/rfc822 cte=7bit message",
	    "begin 2 parent=1 depth=2 type=text/plain cte=7bit "
	    "charset=\"iso-8859-1\"", "data=\"body\"", "end 1\n" } },
	{ "empty message/rfc822 has no inner entity", MP("m")
	  "--m\r\nContent-Type: message/rfc822\r\n\r\n--m--\r\n", { 0 },
	  { "begin 1 parent=0 depth=1 type=message/rfc822", "!begin 2",
	    "!finding" } },
	{ "blank lines before inner headers skipped", MP("m")
	  "--m\r\nContent-Type: message/rfc822\r\n\r\n\r\n\r\n"
	  "Subject: s\r\nContent-Type: text/html\r\n\r\nx\r\n--m--\r\n", { 0 },
	  { "begin 2 parent=1 depth=2 type=text/html", "data=\"x\"" } },
	{ "blank-only message/rfc822", MP("m")
	  "--m\r\nContent-Type: message/rfc822\r\n\r\n\r\n\n\r\n--m--\r\n",
	  { 0 }, { "!begin 2", "!finding" } },
	{ "inner message without header section", MP("m")
	  "--m\r\nContent-Type: message/rfc822\r\n\r\n[original message]\r\n"
	  "--m--\r\n", { 0 },
	  { "begin 2 parent=1 depth=2 type=text/plain",
	    "data=\"[original message]\"" } },
	{ "message/rfc822 at top level",
	  "Content-Type: message/rfc822\r\nMIME-Version: 1.0\r\n\r\n"
	  "Subject: x\r\n\r\ninside\r\n", { 0 },
	  { "begin 1 parent=0 depth=1 type=text/plain", "data=\"inside\\x0d\\x0a\"" } },
	{ "part without header section", MP("b")
	  "--b\r\nplain line\r\n--b--\r\n", { 0 },
	  { "begin 1 parent=0 depth=1 type=text/plain", "data=\"plain line\"" } },
	{ "header section cut by boundary", MP("b")
	  "--b\r\nContent-Type: text/html\r\n--b--\r\n", { 0 },
	  { "begin 1 parent=0 depth=1 type=text/html", "end 1 size=0" } },
	{ "folded part header", MP("b")
	  "--b\r\nContent-Type: application/pdf;\r\n\tname=\"a.pdf\"\r\n\r\nx\r\n"
	  "--b--\r\n", { 0 }, { "filename=\"a.pdf\"" } },
	{ "content-type comments and case", MP("b")
	  "--b\r\nContent-Type: (c) Text/HTML (x) ; (y) CharSet = \"UTF-8\" (z)\r\n"
	  "\r\nx\r\n--b--\r\n", { 0 },
	  { "type=text/html cte=7bit charset=\"utf-8\"" } },
	{ "invalid content-type defaults to text/plain", MP("b")
	  "--b\r\nContent-Type: garbage\r\n\r\nx\r\n--b--\r\n", { 0 },
	  { "begin 1 parent=0 depth=1 type=text/plain" } },
	{ "first content-type wins", MP("b")
	  "--b\r\nContent-Type: text/html\r\nContent-Type: application/x-foo\r\n"
	  "\r\nx\r\n--b--\r\n", { 0 }, { "type=text/html" } },
	{ "digest default type", HDR
	  "Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\n"
	  "Subject: s\r\n\r\nb\r\n--d--\r\n", { 0 },
	  { "begin 1 parent=0 depth=1 type=message/rfc822", "data=\"b\"" } },
	{ "report type", HDR "Content-Type: multipart/report; "
	  "report-type=Delivery-Status; boundary=r\r\n\r\n--r\r\n"
	  "Content-Type: message/delivery-status\r\n\r\nAction: failed\r\n"
	  "--r--\r\n", { 0 },
	  { "report_type=\"delivery-status\"",
	    "type=message/delivery-status cte=7bit\n",
	    "data=\"Action: failed\"" } },

	/* decoders */
	{ "base64 across lines", HDR "Content-Transfer-Encoding: base64\r\n\r\n"
	  "SGVs\r\nbG8s\r\nIHdv\r\ncmxk\r\n", { 0 },
	  { "data=\"Hello, world\"", "!finding" } },
	{ "base64 padding ends data", HDR "Content-Transfer-Encoding: Base64\r\n\r\n"
	  "YQ==\r\n", { 0 }, { "data=\"a\"", "!finding" } },
	{ "base64 data after padding", HDR "Content-Transfer-Encoding: base64\r\n"
	  "\r\nYWI=YWJj\r\n", { 0 },
	  { "data=\"ab\"", "finding mime.base64_invalid \"part 0: invalid base64 "
	    "content\"" } },
	{ "base64 missing padding", HDR "Content-Transfer-Encoding: base64\r\n\r\n"
	  "YWI\r\n", { 0 }, { "data=\"ab\"", "!finding" } },
	{ "base64 garbage once per part", MP("b")
	  "--b\r\nContent-Transfer-Encoding: base64\r\n\r\nY!W*J\r\nj#\r\n"
	  "--b\r\nContent-Transfer-Encoding: base64\r\n\r\nYW.Jj\r\n--b--\r\n",
	  { 0 },
	  { "data=\"abc\"", "finding mime.base64_invalid \"part 1: ",
	    "finding mime.base64_invalid \"part 2: " } },
	{ "base64 lone char", HDR "Content-Transfer-Encoding: base64\r\n\r\n"
	  "YWJjZ\r\n", { 0 },
	  { "data=\"abc\"", "finding mime.base64_invalid" } },
	{ "quoted-printable", HDR "Content-Type: text/plain\r\n"
	  "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	  "a=3Db=\r\nc =E9=e9\r\nsoft with pad= \t\r\nend=\r\n", { 0 },
	  { "data=\"a=bc \\xe9\\xe9\\x0d\\x0asoft with padend\"" } },
	{ "quoted-printable bad escapes pass", HDR
	  "Content-Transfer-Encoding: quoted-printable\r\n\r\n=ZZ=4x=\r=\r\n", { 0 },
	  { "data=\"=ZZ=4x=\\x0d\"" } },
	{ "quoted-printable part end", MP("b")
	  "--b\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nab=\r\n"
	  "--b\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncd=4\r\n"
	  "--b--\r\n", { 0 },
	  { "data=\"ab\"", "data=\"cd=4\"" } },

	/* parameters */
	{ "rfc2231 continuations out of order", MP("b")
	  "--b\r\nContent-Disposition: attachment; filename*1*=%2Eexe;\r\n"
	  " filename*0*=us-ascii'en'evil%20file; filename=\"decoy.txt\"\r\n\r\n"
	  "x\r\n--b--\r\n", { 0 },
	  { "disposition=\"attachment\" filename=\"evil file.exe\"" } },
	{ "rfc2231 gap stops", MP("b")
	  "--b\r\nContent-Type: a/b; name*0=one; name*2=three\r\n\r\nx\r\n--b--\r\n",
	  { 0 }, { "filename=\"one\"" } },
	{ "rfc2231 extended single", MP("b")
	  "--b\r\nContent-Disposition: inline; filename*=UTF-8''%E2%82%AC.txt\r\n"
	  "\r\nx\r\n--b--\r\n", { 0 },
	  { "disposition=\"inline\" filename=\"\\xe2\\x82\\xac.txt\"" } },
	{ "rfc2047 in name", MP("b")
	  "--b\r\nContent-Type: a/b; name=\"=?utf-8?q?a_b=2Eexe?=\"\r\n\r\nx\r\n"
	  "--b--\r\n", { 0 }, { "filename=\"a b.exe\"" } },
	{ "filename wins over name", MP("b")
	  "--b\r\nContent-Type: a/b; name=n.txt\r\nContent-Disposition: "
	  "attachment; filename=f.txt\r\n\r\nx\r\n--b--\r\n", { 0 },
	  { "filename=\"f.txt\"" } },
	{ "quoted pair in filename", MP("b")
	  "--b\r\nContent-Disposition: attachment; filename=\"a\\\"b;c\"\r\n\r\n"
	  "x\r\n--b--\r\n", { 0 }, { "filename=\"a\\\"b;c\"" } },
	{ "boundary with specials unquoted", HDR
	  "Content-Type: multipart/mixed; boundary=----=_Part_1_2.3\r\n\r\n"
	  "------=_Part_1_2.3\r\n\r\nx\r\n------=_Part_1_2.3--\r\n", { 0 },
	  { "boundary=\"----=_Part_1_2.3\"", "data=\"x\"", "!finding" } },

	/* findings: hit and miss */
	{ "version missing multipart", "Content-Type: multipart/mixed; boundary=b\r\n"
	  "\r\n--b\r\n\r\nx\r\n--b--\r\n", { 0 },
	  { "finding mime.version_missing" } },
	{ "version missing encoded", "Content-Transfer-Encoding: base64\r\n\r\n"
	  "YQ==\r\n", { 0 }, { "finding mime.version_missing" } },
	{ "version not needed for plain text", "Content-Type: text/plain\r\n"
	  "Content-Transfer-Encoding: 7bit\r\n\r\nx\r\n", { 0 },
	  { "!finding" } },
	{ "boundary missing", HDR "Content-Type: multipart/mixed\r\n\r\n--x\r\n\r\n"
	  "y\r\n--x--\r\n", { 0 },
	  { "opaque", "data=\"--x", "finding mime.boundary_missing" } },
	{ "boundary empty", HDR "Content-Type: multipart/mixed; boundary=\"\"\r\n"
	  "\r\nz\r\n", { 0 }, { "finding mime.boundary_missing" } },
	{ "unterminated", MP("b") "--b\r\n\r\nx\r\n", { 0 },
	  { "data=\"x\\x0d\\x0a\"", "finding mime.boundary_unterminated" } },
	{ "duplicate boundary", MP("s")
	  "--s\r\nContent-Type: multipart/mixed; boundary=s\r\n\r\n--s\r\n\r\n"
	  "in\r\n--s--\r\n--s\r\n\r\nout\r\n--s--\r\n", { 0 },
	  { "begin 2 parent=1 depth=2", "begin 3 parent=0 depth=1",
	    "finding mime.boundary_duplicate", "!unterminated" } },
	{ "cte unknown", HDR "Content-Transfer-Encoding: x-uue\r\n\r\nabc\r\n",
	  { 0 }, { "cte=x-uue", "data=\"abc\\x0d\\x0a\"",
		   "finding mime.cte_invalid" } },
	{ "cte on multipart", HDR "Content-Type: multipart/mixed; boundary=b\r\n"
	  "Content-Transfer-Encoding: quoted-printable\r\n\r\n--b\r\n\r\nx\r\n"
	  "--b--\r\n", { 0 },
	  { "multipart", "data=\"x\"", "finding mime.cte_invalid" } },
	{ "cte 8bit on multipart is fine", HDR
	  "Content-Type: multipart/mixed; boundary=b\r\n"
	  "Content-Transfer-Encoding: 8bit\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n",
	  { 0 }, { "!finding" } },
	{ "8bit undeclared once", MP("b")
	  "--b\r\n\r\n\xc3\xa9\r\n--b\r\n\r\n\xff\r\n--b--\r\n", { 0 },
	  { "finding mime.8bit_undeclared \"part 1: " } },
	{ "8bit declared", MP("b")
	  "--b\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\xc3\xa9\r\n--b--\r\n",
	  { 0 }, { "!finding" } },
	{ "8bit inside base64 is not raw", HDR
	  "Content-Transfer-Encoding: base64\r\n\r\nw6k=\r\n", { 0 },
	  { "data=\"\\xc3\\xa9\"", "!finding" } },

	/* limits */
	{ "depth limit on multipart", MP("a")
	  "--a\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n"
	  "--b--\r\n--a--\r\n", { .depth = 1 },
	  { "begin 1 parent=0 depth=1 type=multipart/mixed cte=7bit opaque",
	    "data=\"--b\\x0d\\x0a\\x0d\\x0ax\\x0d\\x0a--b--\"",
	    "finding mime.depth_exceeded", "!unterminated" } },
	{ "depth limit on message/rfc822", MP("a")
	  "--a\r\nContent-Type: message/rfc822\r\n\r\nSubject: s\r\n\r\nx\r\n"
	  "--a--\r\n", { .depth = 1 },
	  { "type=message/rfc822 cte=7bit opaque", "data=\"Subject: s",
	    "finding mime.depth_exceeded" } },
	{ "depth within limit", MP("a")
	  "--a\r\nContent-Type: message/rfc822\r\n\r\nSubject: s\r\n\r\nx\r\n"
	  "--a--\r\n", { .depth = 2 }, { "!finding", "!opaque" } },
	{ "parts limit", MP("p")
	  "--p\r\n\r\n1\r\n--p\r\n\r\n2\r\n--p\r\n\r\n3\r\n--p--\r\n",
	  { .parts = 3 },
	  { "data=\"1\"", "data=\"2\"", "!data=\"3\"", "!begin 3",
	    "finding mime.parts_exceeded", "!unterminated" } },
	{ "parts limit on message/rfc822", MP("p")
	  "--p\r\nContent-Type: message/rfc822\r\n\r\nSubject: s\r\n\r\nx\r\n"
	  "--p--\r\n", { .parts = 2 },
	  { "opaque", "finding mime.parts_exceeded" } },
	{ "boundary length limit: reported, still honoured", HDR
	  "Content-Type: multipart/mixed; boundary=0123456789\r\n\r\n"
	  "--0123456789\r\n\r\nx\r\n--0123456789--\r\n",
	  { .boundary_length = 9 },
	  { "!opaque", "data=\"x\"",
	    "finding mime.limit \"part 0: boundary of 10 bytes" } },
	{ "boundary within length limit", HDR
	  "Content-Type: multipart/mixed; boundary=0123456789\r\n\r\n"
	  "--0123456789\r\n\r\nx\r\n--0123456789--\r\n",
	  { .boundary_length = 10 }, { "!finding" } },
	{ "boundary over the hard maximum", HDR
	  "Content-Type: multipart/mixed; boundary=" B999 "\r\n\r\n"
	  "--" B999 "\r\n\r\nx\r\n", { 0 },
	  { "opaque", "finding mime.limit \"part 0: boundary of 999 bytes" } },
	{ "part header limit", MP("b")
	  "--b\r\nContent-Type: text/html\r\nX-A: 0123456789012345678901234567890"
	  "\r\nContent-Type: image/gif\r\n\r\nbody\r\n--b--\r\n",
	  { .part_header_bytes = 40 },
	  { "type=text/html", "data=\"body\"",
	    "finding mime.limit \"part 1: header section" } },
	{ "part header limit cuts field", MP("b")
	  "--b\r\nContent-Disposition: attachment; filename=abcdefghijklmnop\r\n"
	  "\r\nbody\r\n--b--\r\n", { .part_header_bytes = 50 },
	  { "filename=\"abcdefgh\"", "finding mime.limit" } },
	{ "decoded bytes limit", HDR "\r\n0123456789", { .decoded_bytes = 4 },
	  { "size=10 delivered=4", "data=\"0123\"", "!finding" } },
	{ "long line through", "Subject: x\r\n\r\n"
	  "----------------------------------------------------------------"
	  "----------------------------------------------------------------"
	  "----------------------------------------------------------------"
	  "----------------------------------------------------------------"
	  "----------------------------------------------------------------"
	  "x\r\n", { 0 }, { "size=323 " } },
	{ "boundary with long padding", MP("b")
	  "--b\r\n\r\nx\r\n--b                                                  "
	  "                                                                   "
	  "        \r\n\r\ny\r\n--b--\r\n", { 0 },
	  { "data=\"x\"", "data=\"y\"", "!finding" } },
};

static const size_t chunk_sizes[] = { 1, 2, 3, 7, 64, 4096 };

static void
dump_chunks(struct buf *out, const struct mcase *c, size_t chunk,
    const size_t *pattern, size_t npattern)
{
	struct mt_collect col;
	struct mime_handler h;
	struct findings f;
	struct mime_parser *mp;

	mt_collect_init(&col, 0);
	findings_init(&f, 0);
	h = mt_collect_handler(&col);
	mp = mime_parser_new(&c->lim, &h, 1, &f);
	ck_assert_ptr_nonnull(mp);
	ck_assert_int_eq(mt_feed(mp, c->msg, strlen(c->msg), chunk, pattern,
	    npattern), 0);
	ck_assert_int_eq(mt_collect_findings(&col, &f), 0);
	ck_assert_int_eq(buf_append(out, buf_cstr(&col.out), col.out.len),
	    BUF_OK);
	mime_parser_free(mp);
	findings_fini(&f);
	mt_collect_fini(&col);
}

START_TEST(test_case)
{
	static const size_t pattern[] = { 5, 1, 13, 2, 1, 64, 3 };
	const struct mcase *c = &cases[_i];
	struct buf whole, other;
	size_t i;

	buf_init(&whole, 0);
	buf_init(&other, 0);
	dump_chunks(&whole, c, 0, NULL, 0);
	for (i = 0; i < WANT_MAX && c->want[i] != NULL; i++) {
		const char *w = c->want[i];

		if (w[0] == '!')
			ck_assert_msg(strstr(buf_cstr(&whole), w + 1) == NULL,
			    "%s: unexpected \"%s\" in:\n%s", c->label, w + 1,
			    buf_cstr(&whole));
		else
			ck_assert_msg(strstr(buf_cstr(&whole), w) != NULL,
			    "%s: missing \"%s\" in:\n%s", c->label, w,
			    buf_cstr(&whole));
	}
	for (i = 0; i <= sizeof(chunk_sizes) / sizeof(chunk_sizes[0]); i++) {
		buf_reset(&other);
		if (i < sizeof(chunk_sizes) / sizeof(chunk_sizes[0]))
			dump_chunks(&other, c, chunk_sizes[i], NULL, 0);
		else
			dump_chunks(&other, c, 0, pattern,
			    sizeof(pattern) / sizeof(pattern[0]));
		ck_assert_msg(strcmp(buf_cstr(&whole), buf_cstr(&other)) == 0,
		    "%s: chunking %zu differs:\n%s\n---\n%s", c->label, i,
		    buf_cstr(&whole), buf_cstr(&other));
	}
	buf_fini(&whole);
	buf_fini(&other);
}
END_TEST

/* ---- mime_decode_words ----------------------------------------------- */

struct wcase {
	const char	*in;
	const char	*want;
};

static const struct wcase words[] = {
	{ "plain text", "plain text" },
	{ "=?UTF-8?B?Y2Fmw6k=?=", "caf\xc3\xa9" },
	{ "=?iso-8859-1?q?caf=E9_au_lait?=", "caf\xe9 au lait" },
	{ "=?utf-8?q?a?= =?utf-8?q?b?=", "ab" },
	{ "=?utf-8?q?a?=\r\n =?utf-8?q?b?=", "ab" },
	{ "x =?utf-8?q?a?= y", "x a y" },
	{ "=?utf-8*en?Q?hi?=", "hi" },
	{ "=?utf-8?x?bad?=", "=?utf-8?x?bad?=" },
	{ "=?utf-8?q?unterminated", "=?utf-8?q?unterminated" },
	{ "=?utf-8?q?with space?=", "=?utf-8?q?with space?=" },
	{ "pre=?utf-8?q?X?=post", "preXpost" },
	{ "=?utf-8?q?=ZZ?=", "=ZZ" },
	{ "", "" },
};

START_TEST(test_words)
{
	struct buf out;

	buf_init(&out, 0);
	ck_assert_int_eq(mime_decode_words(&out, words[_i].in), BUF_OK);
	ck_assert_msg(out.len == strlen(words[_i].want) &&
	    memcmp(buf_cstr(&out), words[_i].want, out.len) == 0,
	    "\"%s\" gave \"%s\"", words[_i].in, buf_cstr(&out));
	buf_fini(&out);
}
END_TEST

/* ---- top-level headers and handlers ---------------------------------- */

struct hrec {
	struct buf	 log;
	int		 fail_at;	/* fail the n-th callback (0 = never) */
	int		 calls;
};

static int
rec_header(void *ctx, const struct mime_part_info *in, const char *name,
    const char *value)
{
	struct hrec *r = ctx;

	ck_assert_int_eq(buf_printf(&r->log, "%u|%s|%s\n", in->id, name,
	    value), BUF_OK);
	return ++r->calls == r->fail_at ? -1 : 0;
}

static int
rec_data(void *ctx, const struct mime_part_info *in, const char *p, size_t n)
{
	struct hrec *r = ctx;

	(void)in;
	(void)p;
	(void)n;
	return ++r->calls == r->fail_at ? -1 : 0;
}

static int
body_str(struct mime_parser *mp, const char *s)
{
	return mime_parser_body(mp, s, strlen(s));
}

START_TEST(test_header_unfold)
{
	struct hrec r;
	struct mime_handler h = { 0 };
	struct findings f;
	struct mime_parser *mp;

	memset(&r, 0, sizeof(r));
	buf_init(&r.log, 0);
	h.ctx = &r;
	h.header = rec_header;
	findings_init(&f, 0);
	mp = mime_parser_new(NULL, &h, 1, &f);
	ck_assert_ptr_nonnull(mp);
	ck_assert_int_eq(mime_parser_header(mp, "Subject", " a\n\tb\r\n c "), 0);
	ck_assert_int_eq(mime_parser_header(mp, "Content-Type",
	    "multipart/mixed;\n boundary=\"q\""), 0);
	ck_assert_int_eq(mime_parser_header(mp, "MIME-Version", "1.0"), 0);
	ck_assert_int_eq(body_str(mp, "--q\r\nX-A: 1\r\n\t2\r\n\r\n"), 0);
	ck_assert_int_eq(body_str(mp, "--q--\r\n"), 0);
	ck_assert_int_eq(mime_parser_finish(mp), 0);
	ck_assert_str_eq(buf_cstr(&r.log),
	    "0|Subject|a\tb c\n"
	    "0|Content-Type|multipart/mixed; boundary=\"q\"\n"
	    "0|MIME-Version|1.0\n"
	    "1|X-A|1\t2\n");
	ck_assert_int_eq((int)f.n, 0);
	mime_parser_free(mp);
	findings_fini(&f);
	buf_fini(&r.log);
}
END_TEST

START_TEST(test_handler_failure)
{
	struct hrec r;
	struct mime_handler h[2];
	struct findings f;
	struct mime_parser *mp;

	memset(&r, 0, sizeof(r));
	memset(h, 0, sizeof(h));
	buf_init(&r.log, 0);
	h[0].ctx = &r;
	h[0].header = rec_header;
	h[1].ctx = &r;
	h[1].part_data = rec_data;
	r.fail_at = 3;		/* second handler's first data callback */
	findings_init(&f, 0);
	mp = mime_parser_new(NULL, h, 2, &f);
	ck_assert_ptr_nonnull(mp);
	ck_assert_int_eq(mime_parser_header(mp, "Subject", "x"), 0);
	ck_assert_int_eq(mime_parser_header(mp, "To", "y"), 0);
	ck_assert_int_eq(body_str(mp, "data\r\n"), -1);
	ck_assert_int_eq(body_str(mp, "more\r\n"), -1);
	ck_assert_int_eq(mime_parser_finish(mp), -1);
	mime_parser_free(mp);
	findings_fini(&f);
	buf_fini(&r.log);
}
END_TEST

/* A line of 8 MiB in 64 KiB chunks streams through without being held. */
START_TEST(test_huge_line)
{
	struct mt_collect col;
	struct mime_handler h;
	struct findings f;
	struct mime_parser *mp;
	static char chunk[65536];
	static const char head[] = "--b\r\nContent-Type: text/plain\r\n\r\n";
	size_t i;

	memset(chunk, 'A', sizeof(chunk));
	mt_collect_init(&col, 0);
	findings_init(&f, 0);
	h = mt_collect_handler(&col);
	mp = mime_parser_new(&(struct mime_limits){ .decoded_bytes = SIZE_MAX },
	    &h, 1, &f);
	ck_assert_ptr_nonnull(mp);
	ck_assert_int_eq(mime_parser_header(mp, "Content-Type",
	    "multipart/mixed; boundary=b"), 0);
	ck_assert_int_eq(mime_parser_header(mp, "MIME-Version", "1.0"), 0);
	ck_assert_int_eq(mime_parser_body(mp, head, sizeof(head) - 1), 0);
	for (i = 0; i < 128; i++)
		ck_assert_int_eq(mime_parser_body(mp, chunk, sizeof(chunk)), 0);
	ck_assert_int_eq(body_str(mp, "\r\n--b--\r\n"), 0);
	ck_assert_int_eq(mime_parser_finish(mp), 0);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&col.out),
	    "end 1 size=8388608 delivered=8388608"));
	ck_assert_int_eq((int)f.n, 0);
	mime_parser_free(mp);
	findings_fini(&f);
	mt_collect_fini(&col);
}
END_TEST

/* Hostile nesting far past the limit: bounded, one finding, no recursion. */
START_TEST(test_deep_hostile)
{
	struct buf msg, out;
	size_t i;

	buf_init(&msg, 0);
	buf_init(&out, 0);
	ck_assert_int_eq(buf_puts(&msg, "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=b0\r\n\r\n"), BUF_OK);
	for (i = 1; i < 5000; i++) {
		ck_assert_int_eq(buf_printf(&msg, "--b%zu\r\n", i - 1), BUF_OK);
		ck_assert_int_eq(buf_printf(&msg, i % 2 ?
		    "Content-Type: message/rfc822\r\n\r\n"
		    "Content-Type: multipart/mixed; boundary=b%zu\r\n\r\n" :
		    "Content-Type: multipart/mixed; boundary=b%zu\r\n\r\n", i),
		    BUF_OK);
	}
	ck_assert_int_eq(mt_dump(&out, buf_cstr(&msg), msg.len,
	    &(struct mime_limits){ .depth = 10 }, 4096, 0), 0);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&out),
	    "finding mime.depth_exceeded"));
	ck_assert_ptr_null(strstr(buf_cstr(&out), "depth=11"));
	buf_fini(&msg);
	buf_fini(&out);
}
END_TEST

/* ---- part_tail: the bytes past decoded_bytes ---- */

struct trec {
	struct buf	 data, tail;	/* per part, appended in order */
	unsigned	 id;		/* part the bytes belong to */
	int		 in_tail;	/* tail started: no more data allowed */
	struct buf	 log;		/* "id data tail size" per leaf */
};

static int
t_data(void *ctx, const struct mime_part_info *in, const char *p, size_t n)
{
	struct trec *r = ctx;

	ck_assert_uint_eq(in->id, r->id);
	ck_assert_int_eq(r->in_tail, 0);
	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(buf_append(&r->data, p, n), BUF_OK);
	return 0;
}

static int
t_tail(void *ctx, const struct mime_part_info *in, const char *p, size_t n)
{
	struct trec *r = ctx;

	ck_assert_uint_eq(in->id, r->id);
	ck_assert_uint_gt(n, 0);
	r->in_tail = 1;
	ck_assert_int_eq(buf_append(&r->tail, p, n), BUF_OK);
	return 0;
}

static int
t_begin(void *ctx, const struct mime_part_info *in)
{
	struct trec *r = ctx;

	r->id = in->id;
	r->in_tail = 0;
	buf_reset(&r->data);
	buf_reset(&r->tail);
	return 0;
}

/* Declines every part's tail at once: called once per part with a tail. */
static int
t_decline(void *ctx, const struct mime_part_info *in, const char *p,
    size_t n)
{
	(void)in;
	(void)p;
	(void)n;
	++*(int *)ctx;
	return 1;
}

static unsigned long long
fnv(const struct buf *a, const struct buf *b)
{
	unsigned long long h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < a->len; i++)
		h = (h ^ (unsigned char)a->data[i]) * 1099511628211ULL;
	for (i = 0; i < b->len; i++)
		h = (h ^ (unsigned char)b->data[i]) * 1099511628211ULL;
	return h;
}

static int
t_end(void *ctx, const struct mime_part_info *in)
{
	struct trec *r = ctx;

	if (in->is_multipart || in->is_message || in->id != r->id)
		return 0;
	ck_assert_int_eq(buf_printf(&r->log, "%u data=%zu tail=%zu size=%zu "
	    "hash=%llx\n", in->id, r->data.len, r->tail.len, in->decoded_size,
	    fnv(&r->data, &r->tail)), BUF_OK);
	return 0;
}

/*
 * Two leaves over a 1000-byte decoded_bytes: 5000 bytes in base64 and
 * 3000 in 8bit. part_data gets the first 1000, part_tail the rest, in
 * order; together they are the whole content at every chunk size. A second
 * handler without part_tail sees only the first 1000; a third that declines
 * the tail (returns 1) is called once per part and does not stop the first.
 */
START_TEST(test_part_tail)
{
	static const size_t sizes[] = { 1, 2, 3, 7, 64, 4096, 0 };
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct buf msg, want, plain;
	struct trec r;
	struct mt_collect col;
	struct mime_handler h[3];
	struct mime_limits lim = { .decoded_bytes = 1000 };
	int declined;
	struct findings f;
	struct mime_parser *mp;
	size_t i, k;

	buf_init(&msg, 0);
	buf_init(&want, 0);
	buf_init(&plain, 0);
	for (i = 0; i < 5000; i++)
		ck_assert_int_eq(buf_putc(&plain, (char)(i * 7 % 251)), BUF_OK);
	ck_assert_int_eq(buf_puts(&msg, "--b\r\nContent-Type: application/"
	    "octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"),
	    BUF_OK);
	for (i = 0; i < plain.len; i += 3) {
		unsigned v = (unsigned char)plain.data[i] << 16 |
		    (i + 1 < plain.len ? (unsigned char)plain.data[i + 1] << 8 : 0) |
		    (i + 2 < plain.len ? (unsigned char)plain.data[i + 2] : 0);

		ck_assert_int_eq(buf_putc(&msg, b64[v >> 18 & 63]), BUF_OK);
		ck_assert_int_eq(buf_putc(&msg, b64[v >> 12 & 63]), BUF_OK);
		ck_assert_int_eq(buf_putc(&msg, i + 1 < plain.len ?
		    b64[v >> 6 & 63] : '='), BUF_OK);
		ck_assert_int_eq(buf_putc(&msg, i + 2 < plain.len ?
		    b64[v & 63] : '='), BUF_OK);
		if (i % 57 == 54)
			ck_assert_int_eq(buf_puts(&msg, "\r\n"), BUF_OK);
	}
	ck_assert_int_eq(buf_puts(&msg, "\r\n--b\r\nContent-Type: text/plain"
	    "\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"), BUF_OK);
	for (i = 0; i < 3000; i++)
		ck_assert_int_eq(buf_putc(&msg, i % 100 == 99 ? '\n' : 'x'),
		    BUF_OK);
	ck_assert_int_eq(buf_puts(&msg, "\r\n--b--\r\n"), BUF_OK);

	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t chunk = sizes[k] ? sizes[k] : msg.len;

		memset(&r, 0, sizeof(r));
		buf_init(&r.data, 0);
		buf_init(&r.tail, 0);
		buf_init(&r.log, 0);
		mt_collect_init(&col, 0);
		memset(h, 0, sizeof(h));
		h[0].ctx = &r;
		h[0].part_begin = t_begin;
		h[0].part_data = t_data;
		h[0].part_tail = t_tail;
		h[0].part_end = t_end;
		h[1] = mt_collect_handler(&col);
		declined = 0;
		h[2].ctx = &declined;
		h[2].part_tail = t_decline;
		findings_init(&f, 0);
		ck_assert_ptr_nonnull(mp = mime_parser_new(&lim, h, 3, &f));
		ck_assert_int_eq(mime_parser_header(mp, "MIME-Version", "1.0"), 0);
		ck_assert_int_eq(mime_parser_header(mp, "Content-Type",
		    "multipart/mixed; boundary=b"), 0);
		for (i = 0; i < msg.len; i += chunk)
			ck_assert_int_eq(mime_parser_body(mp, msg.data + i,
			    msg.len - i < chunk ? msg.len - i : chunk), 0);
		ck_assert_int_eq(mime_parser_finish(mp), 0);
		if (k == 0) {
			struct buf none;

			buf_init(&none, 0);
			ck_assert_int_eq(buf_printf(&want, "1 data=1000 tail=4000 "
			    "size=5000 hash=%llx\n", fnv(&plain, &none)),
			    BUF_OK);
			ck_assert_ptr_nonnull(strstr(buf_cstr(&r.log),
			    buf_cstr(&want)));
			ck_assert_ptr_nonnull(strstr(buf_cstr(&r.log),
			    "2 data=1000 tail=2000 size=3000 "));
			buf_reset(&want);
			ck_assert_int_eq(buf_append(&want, r.log.data, r.log.len),
			    BUF_OK);
			ck_assert_int_eq(buf_append(&want, col.out.data,
			    col.out.len), BUF_OK);
		} else {
			ck_assert_int_eq(buf_append(&r.log, col.out.data,
			    col.out.len), BUF_OK);
			ck_assert_msg(strcmp(buf_cstr(&r.log), buf_cstr(&want)) ==
			    0, "chunk %zu:\n%s", sizes[k], buf_cstr(&r.log));
		}
		ck_assert_ptr_nonnull(strstr(buf_cstr(&col.out),
		    "end 1 size=5000 delivered=1000"));
		ck_assert_int_eq(declined, 2);
		mime_parser_free(mp);
		findings_fini(&f);
		mt_collect_fini(&col);
		buf_fini(&r.data);
		buf_fini(&r.tail);
		buf_fini(&r.log);
	}
	buf_fini(&msg);
	buf_fini(&want);
	buf_fini(&plain);
}
END_TEST

/* ---- runs of body lines against the line path ------------------------ */

/*
 * Random messages built from fragments that reach every branch of the body
 * reader: delimiters and near misses, nested multiparts, part headers,
 * base64 with and without garbage, quoted-printable, 8-bit bytes in 7bit
 * parts, lines of "-", CRLF, LF and bare CR line ends, long lines. Each is
 * parsed once line by line (mime_parser_line_mode), whole, and then with
 * runs at several chunk sizes; every dump (parts, decoded bytes, findings in
 * their order) must be the same.
 */
static const char *const run_heads[] = {
	"Content-Type: multipart/mixed; boundary=b1\r\nMIME-Version: 1.0\r\n",
	"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n",
	"Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n",
	"Content-Type: text/plain\r\n",
	"Content-Type: message/rfc822\r\n",
};

static const char *const run_frags[] = {
	"--b1", "--b1--", "--b1  ", "--b1x", "--b2", "--b2--", "-", "--", "-x",
	"", "plain words of text", "SGVsbG8gd29ybGQh", "QUJD", "QUJD*REVG",
	"QQ==", "=", "soft=\r", "caf=C3=A9=", "=4", "\xc3\xa9t\xc3\xa9",
	"\x80\xff", "\t folded", "From: a@b.example",
	"Content-Type: text/plain",
	"Content-Type: multipart/alternative; boundary=b2",
	"Content-Type: text/html; charset=utf-8",
	"Content-Transfer-Encoding: base64",
	"Content-Transfer-Encoding: quoted-printable",
	"Content-Transfer-Encoding: 8bit",
	"Content-Type: message/rfc822",
	"<a href=\"http://x.example/\">x</a>",
};

static unsigned long long run_seed;

static unsigned
run_rand(unsigned n)
{
	run_seed ^= run_seed << 13;
	run_seed ^= run_seed >> 7;
	run_seed ^= run_seed << 17;
	return (unsigned)(run_seed % n);
}

static void
run_gen(struct buf *m)
{
	static const char *const eols[] = { "\r\n", "\r\n", "\r\n", "\n", "\r",
	    "" };
	size_t nlines = 1 + run_rand(120), i, k;
	unsigned r;

	buf_reset(m);
	ck_assert_int_eq(buf_puts(m,
	    run_heads[run_rand(sizeof(run_heads) / sizeof(run_heads[0]))]),
	    BUF_OK);
	ck_assert_int_eq(buf_puts(m, "\r\n"), BUF_OK);
	for (i = 0; i < nlines; i++) {
		r = run_rand(20);
		if (r == 0) {		/* a long line */
			for (k = 1 + run_rand(3000); k > 0; k--)
				ck_assert_int_eq(buf_append(m, &"QUJD"[run_rand(4)],
				    1), BUF_OK);
		} else if (r == 1) {	/* random bytes */
			for (k = run_rand(40); k > 0; k--) {
				char c = (char)run_rand(256);

				ck_assert_int_eq(buf_append(m, &c, 1), BUF_OK);
			}
		} else
			ck_assert_int_eq(buf_puts(m, run_frags[run_rand(
			    sizeof(run_frags) / sizeof(run_frags[0]))]), BUF_OK);
		ck_assert_int_eq(buf_puts(m,
		    eols[run_rand(sizeof(eols) / sizeof(eols[0]))]), BUF_OK);
	}
}

static void
run_dump(struct buf *out, const struct buf *m, const struct mime_limits *lim,
    int line_mode, size_t chunk)
{
	struct mt_collect col;
	struct mime_handler h;
	struct findings f;
	struct mime_parser *mp;

	buf_reset(out);
	mt_collect_init(&col, 1);
	findings_init(&f, 0);
	h = mt_collect_handler(&col);
	mp = mime_parser_new(lim, &h, 1, &f);
	ck_assert_ptr_nonnull(mp);
	mime_parser_line_mode(mp, line_mode);
	ck_assert_int_eq(mt_feed(mp, buf_cstr(m), m->len, chunk, NULL, 0), 0);
	ck_assert_int_eq(mt_collect_findings(&col, &f), 0);
	ck_assert_int_eq(buf_append(out, buf_cstr(&col.out), col.out.len),
	    BUF_OK);
	mime_parser_free(mp);
	findings_fini(&f);
	mt_collect_fini(&col);
}

START_TEST(test_runs_random)
{
	static const size_t sizes[] = { 1, 2, 7, 16, 4096, 0 };
	struct mime_limits lim;
	struct buf m, want, got;
	size_t k;
	int i;

	buf_init(&m, 0);
	buf_init(&want, 0);
	buf_init(&got, 0);
	run_seed = 0x9e3779b97f4a7c15ULL;
	for (i = 0; i < 400; i++) {
		run_gen(&m);
		memset(&lim, 0, sizeof(lim));
		if (i % 3 == 1)
			lim.decoded_bytes = 1 + run_rand(200);
		if (i % 5 == 2)
			lim.depth = 1 + run_rand(3);
		run_dump(&want, &m, &lim, 1, 0);
		for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			run_dump(&got, &m, &lim, 0, sizes[k]);
			ck_assert_msg(strcmp(buf_cstr(&want), buf_cstr(&got)) == 0,
			    "message %d, chunk %zu: runs differ from lines:\n%s\n"
			    "---\n%s", i, sizes[k], buf_cstr(&want),
			    buf_cstr(&got));
		}
	}
	buf_fini(&m);
	buf_fini(&want);
	buf_fini(&got);
}
END_TEST

/*
 * The base64 decoder reads whole blocks of data characters at a time where
 * it can. Fed one byte per call it never can: that is the reference. Random
 * text of data characters broken by line ends, spaces, "=", garbage and
 * bytes above 0x7f at random places (or in 76-column CRLF lines, some
 * longer than the decoder's gathered run) must decode to the same bytes,
 * with the same garbage flag, fed whole and in random slices.
 */
START_TEST(test_b64_blocks)
{
	static const char alpha[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	static const char odd[] = { '\r', '\n', ' ', '\t', '=', '!', '-', '.',
	    '@', '[', '`', '{', (char)0x80, (char)0xc3, (char)0xff, '\0' };
	char in[5000], want[5000 + 8], got[5000 + 8];
	struct mime_b64 a, b;
	size_t n, i, k, nw, ng;
	int round;

	run_seed = 0x2545f4914f6cdd1dULL;
	for (round = 0; round < 3000; round++) {
		unsigned rate = 1 + run_rand(round % 4 == 0 ? 4 : 200);

		/* mostly short; every eighth longer than a gathered run */
		n = run_rand(round % 8 == 0 ? sizeof(in) : 600);
		for (i = 0; i < n; i++)
			in[i] = run_rand(rate) == 0 ?
			    odd[run_rand(sizeof(odd))] : alpha[run_rand(64)];
		/* every third in lines of 76 ending in CRLF, as mailers send */
		for (i = 76; round % 3 == 0 && i + 1 < n; i += 78) {
			in[i] = '\r';
			in[i + 1] = '\n';
		}
		mime_b64_init(&a);
		for (i = 0, nw = 0; i < n; i++)
			nw += mime_b64_step(&a, in + i, 1, want + nw);
		nw += mime_b64_finish(&a, want + nw);
		mime_b64_init(&b);
		for (i = 0, ng = 0; i < n; i += k) {
			k = round % 2 ? n - i : 1 + run_rand(40);
			if (k > n - i)
				k = n - i;
			ng += mime_b64_step(&b, in + i, k, got + ng);
		}
		ng += mime_b64_finish(&b, got + ng);
		ck_assert_msg(nw == ng && memcmp(want, got, nw) == 0,
		    "round %d: %zu bytes decoded whole, %zu byte by byte",
		    round, ng, nw);
		ck_assert_int_eq(a.bad, b.bad);
		ck_assert_int_eq(a.done, b.done);
	}
}
END_TEST

static Suite *
mime_suite(void)
{
	Suite *s = suite_create("mime");
	TCase *tc = tcase_create("parser");

	tcase_add_loop_test(tc, test_case, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_loop_test(tc, test_words, 0,
	    (int)(sizeof(words) / sizeof(words[0])));
	tcase_add_test(tc, test_header_unfold);
	tcase_add_test(tc, test_handler_failure);
	tcase_add_test(tc, test_huge_line);
	tcase_add_test(tc, test_part_tail);
	tcase_add_test(tc, test_deep_hostile);
	tcase_add_test(tc, test_runs_random);
	tcase_add_test(tc, test_b64_blocks);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(mime_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
