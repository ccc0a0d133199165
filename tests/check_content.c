/*
 * check_content - subject checks and the content_scan glue, driven through
 * its mime_handler exactly as the MIME reader drives it.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "egress/config.h"
#include "egress/content.h"
#include "egress/mime.h"
#include "mime_collect.h"

static const size_t chunk_sizes[] = { 1, 2, 3, 7, 64, 4096, 0 /* whole */ };
#define NCHUNK (sizeof(chunk_sizes) / sizeof(chunk_sizes[0]))

static struct content_config cc;
static struct limits lim;

static void
setup(void)
{
	ck_assert_int_eq(content_config_defaults(&cc), 0);
	ck_assert_int_eq(content_shorteners_read(&cc, SRCDIR "/conf/shorteners.txt"), 0);
	memset(&lim, 0, sizeof(lim));
	lim.urls = 3;
	lim.pcre2_match_limit = 100000;
	lim.pcre2_depth_limit = 5000;
	lim.pcre2_heap_limit = 20 * 1024;
}

static void
teardown(void)
{
	content_config_fini(&cc);
}

/* ---- subject ---- */

static const struct {
	const char	*subject;
	const char	*want;		/* ids, comma separated, "" for none */
} subject_cases[] = {
	{ "URGENT ACTION REQUIRED NOW", "content.subject.all_caps" },
	{ "FINAL NOTICE: Pay", "content.subject.all_caps" },	/* 12/14 */
	{ "Urgent action required", "" },
	{ "HI THERE", "" },					/* 7 letters */
	{ "Meeting at 10:00 (room B)", "" },
	{ "Win a prize!!!", "content.subject.punctuation" },
	{ "Really?!?", "content.subject.punctuation" },
	{ "FREE MONEY FOR YOU!!!!", "content.subject.all_caps,content.subject.punctuation" },
	{ "Hi! How are you?", "" },
	{ "", "" },
};

static void
ids(const struct findings *f, char *out, size_t outsz)
{
	size_t i, l;

	out[0] = '\0';
	for (i = 0; i < f->n; i++) {
		l = strlen(out);
		snprintf(out + l, outsz - l, "%s%s", i ? "," : "", f->v[i].id);
	}
}

START_TEST(test_subject)
{
	struct findings f;
	char got[512];

	findings_init(&f, 0);
	ck_assert_int_eq(content_subject_check(&cc, &f, subject_cases[_i].subject), 0);
	ids(&f, got, sizeof(got));
	ck_assert_msg(strcmp(got, subject_cases[_i].want) == 0, "\"%s\": got %s",
	    subject_cases[_i].subject, got);
	findings_fini(&f);
}
END_TEST

START_TEST(test_subject_ratio_config)
{
	struct findings f;
	char got[512];

	cc.subject_punct_ratio = 0.2;
	cc.subject_caps_ratio = 0.5;
	cc.subject_min_length = 4;
	findings_init(&f, 0);
	ck_assert_int_eq(content_subject_check(&cc, &f, "Why? Now!"), 0);
	ck_assert_int_eq(content_subject_check(&cc, &f, "ABCd"), 0);
	ids(&f, got, sizeof(got));
	ck_assert_str_eq(got, "content.subject.punctuation,content.subject.all_caps");
	findings_fini(&f);
}
END_TEST

/* ---- driving the handler ---- */

struct msg {
	struct findings		 f;
	struct content_scan	*cs;
	struct mime_handler	 h;
	unsigned		 next_id;
};

static void
msg_begin(struct msg *m)
{
	findings_init(&m->f, 0);
	ck_assert_ptr_nonnull(m->cs = content_scan_new(&cc, &lim, &m->f));
	content_scan_handler(m->cs, &m->h);
	m->next_id = 1;
}

static void
msg_header(struct msg *m, const char *name, const char *value)
{
	struct mime_part_info pi;

	memset(&pi, 0, sizeof(pi));
	pi.type = "multipart/mixed";
	ck_assert_int_eq(m->h.header(m->h.ctx, &pi, name, value), 0);
}

static void
msg_container(struct msg *m, const char *type, int begin)
{
	struct mime_part_info pi;

	memset(&pi, 0, sizeof(pi));
	pi.type = type;
	pi.is_multipart = 1;
	if (begin)
		ck_assert_int_eq(m->h.part_begin(m->h.ctx, &pi), 0);
	else
		ck_assert_int_eq(m->h.part_end(m->h.ctx, &pi), 0);
}

static void
msg_part(struct msg *m, const char *type, const char *disp, const char *name,
    const char *data, size_t len, size_t chunk)
{
	struct mime_part_info pi;
	size_t i;

	memset(&pi, 0, sizeof(pi));
	pi.id = m->next_id++;
	pi.depth = 1;
	pi.type = type;
	pi.cte = "7bit";
	pi.disposition = disp;
	pi.filename = name;
	ck_assert_int_eq(m->h.part_begin(m->h.ctx, &pi), 0);
	if (chunk == 0)
		chunk = len ? len : 1;
	for (i = 0; i < len; i += chunk)
		ck_assert_int_eq(m->h.part_data(m->h.ctx, &pi, data + i,
		    len - i < chunk ? len - i : chunk), 0);
	pi.decoded_size = len;
	ck_assert_int_eq(m->h.part_end(m->h.ctx, &pi), 0);
}

static void
msg_end(struct msg *m, char *got, size_t gotsz)
{
	size_t i, l;

	ck_assert_int_eq(content_scan_finish(m->cs), 0);
	got[0] = '\0';
	for (i = 0; i < m->f.n; i++) {
		l = strlen(got);
		snprintf(got + l, gotsz - l, "%s%s=%s", i ? ";" : "", m->f.v[i].id,
		    m->f.v[i].detail);
	}
	content_scan_free(m->cs);
	findings_fini(&m->f);
}

#define S(x) x, sizeof(x) - 1

START_TEST(test_scan_links_chunks)
{
	static const char html[] =
	    "<html><body><p>Dear customer, please <a href=\"https://bit.ly/3xYz\">"
	    "confirm</a> at <a href=\"http://198.51.100.7/login\">"
	    "https://www.bank.example/login</a>.</p></body></html>";
	char got[2048];
	size_t k;

	for (k = 0; k < NCHUNK; k++) {
		struct msg m;

		msg_begin(&m);
		msg_container(&m, "multipart/alternative", 1);
		msg_part(&m, "text/plain", NULL, NULL,
		    S("Dear customer, see the HTML part."), chunk_sizes[k]);
		msg_part(&m, "text/html", NULL, NULL, S(html), chunk_sizes[k]);
		msg_container(&m, "multipart/alternative", 0);
		msg_end(&m, got, sizeof(got));
		ck_assert_msg(strcmp(got,
		    "content.url.shortener=bit.ly;"
		    "content.url.ip_literal=198.51.100.7;"
		    "content.url.text_mismatch=bank.example -> 198.51.100.7") == 0,
		    "chunk %zu: %s", chunk_sizes[k], got);
	}
}
END_TEST

START_TEST(test_scan_url_count)
{
	char got[1024];
	struct msg m;

	msg_begin(&m);
	msg_part(&m, "text/plain", NULL, NULL,
	    S("http://a.example/ http://b.example/ http://c.example/"), 0);
	msg_end(&m, got, sizeof(got));
	ck_assert_str_eq(got, "");
	msg_begin(&m);
	msg_part(&m, "text/plain", NULL, NULL,
	    S("http://a.example/ http://b.example/ http://c.example/ www.d.example"), 0);
	msg_end(&m, got, sizeof(got));
	ck_assert_str_eq(got, "content.url.count=4 links");
}
END_TEST

START_TEST(test_scan_html_only)
{
	char got[1024];
	struct msg m;

	msg_begin(&m);
	msg_part(&m, "text/html", NULL, NULL, S("<p>Hello there, this is a letter.</p>"), 0);
	msg_end(&m, got, sizeof(got));
	ck_assert_str_eq(got, "content.html_only=text/html");
	/* with an alternative: fine */
	msg_begin(&m);
	msg_container(&m, "multipart/alternative", 1);
	msg_part(&m, "text/plain", NULL, NULL, S("Hello there, this is a letter."), 0);
	msg_part(&m, "text/html", NULL, NULL, S("<p>Hello there, this is a letter.</p>"), 0);
	msg_container(&m, "multipart/alternative", 0);
	msg_end(&m, got, sizeof(got));
	ck_assert_str_eq(got, "");
	/* a meeting invitation: the calendar is the text alternative */
	msg_begin(&m);
	msg_container(&m, "multipart/alternative", 1);
	msg_part(&m, "text/html", NULL, NULL, S("<p>Meeting on Monday at ten.</p>"), 0);
	msg_part(&m, "text/calendar", NULL, "invite.ics", S("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"), 0);
	msg_container(&m, "multipart/alternative", 0);
	msg_end(&m, got, sizeof(got));
	ck_assert_str_eq(got, "");
	/* related HTML with pictures inside the alternative, plain text named */
	msg_begin(&m);
	msg_container(&m, "multipart/alternative", 1);
	msg_part(&m, "text/plain", "inline", "body.txt", S("Hello there, this is a letter."), 0);
	msg_container(&m, "multipart/related", 1);
	msg_part(&m, "text/html", NULL, NULL, S("<p>Hello there, this is a letter.</p>"), 0);
	msg_container(&m, "multipart/related", 0);
	msg_container(&m, "multipart/alternative", 0);
	msg_end(&m, got, sizeof(got));
	ck_assert_str_eq(got, "");
	/* an attached .html file is not the body */
	msg_begin(&m);
	msg_part(&m, "text/plain", NULL, NULL, S("See the attached page, it has all."), 0);
	msg_part(&m, "text/html", "attachment", "page.html", S("<p>x</p>"), 0);
	msg_end(&m, got, sizeof(got));
	ck_assert_str_eq(got, "");
}
END_TEST

START_TEST(test_scan_image_only)
{
	char got[1024];
	struct msg m;

	msg_begin(&m);
	msg_part(&m, "text/html", NULL, NULL,
	    S("<html><body><img src=\"cid:1\"> <p>&nbsp;</p></body></html>"), 0);
	msg_part(&m, "image/png", "inline", "1.png", S("\x89PNG\r\n\x1a\n"), 0);
	msg_end(&m, got, sizeof(got));
	ck_assert_str_eq(got, "content.html_only=text/html;"
	    "content.image_only=0 text characters");
	/* remote images only, no image part */
	msg_begin(&m);
	msg_container(&m, "multipart/alternative", 1);
	msg_part(&m, "text/plain", NULL, NULL, S(" \r\n"), 0);
	msg_part(&m, "text/html", NULL, NULL,
	    S("<a href=\"http://shop.example/\"><img src=\"http://img.example/"
	    "offer.png\" alt=\"Big offer\"></a>"), 0);
	msg_container(&m, "multipart/alternative", 0);
	msg_end(&m, got, sizeof(got));
	ck_assert_str_eq(got, "content.image_only=0 text characters");
	msg_begin(&m);
	msg_part(&m, "text/plain", NULL, NULL,
	    S("Here are the photos from the weekend, enjoy."), 0);
	msg_part(&m, "image/jpeg", "attachment", "a.jpg", S("\xff\xd8\xff\xe0"), 0);
	msg_end(&m, got, sizeof(got));
	ck_assert_str_eq(got, "");
}
END_TEST

START_TEST(test_scan_attachments)
{
	static const char pe[] = "MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0"
	    "This program cannot be run in DOS mode.";
	char got[1024];
	struct msg m;

	msg_begin(&m);
	msg_part(&m, "text/plain", NULL, NULL, S("invoice attached"), 0);
	msg_part(&m, "application/pdf", "attachment", "invoice.pdf.exe", S(pe), 0);
	msg_end(&m, got, sizeof(got));
	ck_assert_str_eq(got, "attachment.double_extension=invoice.pdf.exe;"
	    "attachment.extension=invoice.pdf.exe;"
	    "attachment.executable=invoice.pdf.exe");
	/* an executable in an inline, unnamed part is still sniffed */
	msg_begin(&m);
	msg_part(&m, "application/octet-stream", NULL, NULL, S(pe), 0);
	msg_end(&m, got, sizeof(got));
	ck_assert_str_eq(got, "attachment.executable=(unnamed part)");
}
END_TEST

START_TEST(test_scan_subject_header)
{
	char got[1024];
	struct msg m;

	msg_begin(&m);
	/* "URGENT PAYMENT NEEDED" as an encoded word */
	msg_header(&m, "Subject", "=?UTF-8?B?VVJHRU5UIFBBWU1FTlQgTkVFREVE?=");
	msg_header(&m, "Subject", "second subject is ignored!!!");
	msg_part(&m, "text/plain", NULL, NULL, S("Please pay the invoice today."), 0);
	msg_end(&m, got, sizeof(got));
	ck_assert_str_eq(got, "content.subject.all_caps=19/19 capitals");
}
END_TEST

START_TEST(test_scan_rules)
{
	static const char conf[] =
	    "content = { rules = (\n"
	    " { id = \"mailer\"; target = \"header:X-Mailer\"; pattern = \"Blaster\"; },\n"
	    " { id = \"subj\"; target = \"subject\"; pattern = \"caf\xc3\xa9\"; },\n"
	    " { id = \"body\"; target = \"body\"; pattern = \"seed phrase\"; },\n"
	    " { id = \"url\"; target = \"url\"; pattern = \"\\\\.tk/\"; },\n"
	    " { id = \"name\"; target = \"attachment_name\"; pattern = \"^scan\"; }\n"
	    "); };";
	struct cfg_errors e;
	config_t lc;
	char got[1024];
	size_t k;

	config_init(&lc);
	ck_assert(config_read_string(&lc, conf) == CONFIG_TRUE);
	cfg_errors_init(&e, "t");
	ck_assert_int_eq(content_config_load(&cc, config_lookup(&lc, "content"),
	    NULL, &lim, &e), 0);
	cfg_errors_fini(&e);
	config_destroy(&lc);
	for (k = 0; k < NCHUNK; k++) {
		struct msg m;

		msg_begin(&m);
		msg_header(&m, "X-Mailer", "MailBlaster 3");
		msg_header(&m, "Subject", "=?ISO-8859-1?Q?caf=C3=A9?=");
		msg_part(&m, "text/plain", NULL, NULL,
		    S("Send your wallet seed phrase to http://x.tk/claim now"),
		    chunk_sizes[k]);
		msg_part(&m, "application/pdf", "attachment", "scan001.pdf",
		    S("%PDF-1.4 seed phrase"), chunk_sizes[k]);
		msg_end(&m, got, sizeof(got));
		ck_assert_msg(strcmp(got, "rule.mailer=mailer;rule.subj=subj;"
		    "rule.url=url;rule.body=body;rule.name=name") == 0,
		    "chunk %zu: %s", chunk_sizes[k], got);
	}
	/* body rules do not look into attachments */
	{
		struct msg m;

		msg_begin(&m);
		msg_part(&m, "text/plain", "attachment", "notes.txt",
		    S("seed phrase"), 0);
		msg_end(&m, got, sizeof(got));
		ck_assert_str_eq(got, "");
	}
}
END_TEST

/* ---- through the real MIME reader ---- */

static const char e2e_body[] =
    "This is a MIME message.\r\n"
    "--b1\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "<p>Dear customer, <a href=3D\"https://bit.ly/ab=\r\n"
    "cdef\">confirm your account</a>.</p>\r\n"
    "--b1\r\n"
    "Content-Type: application/zip; name=\"docs.zip\"\r\n"
    "Content-Disposition: attachment; filename*=UTF-8''do%63s.zip\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "UEsDBBQAAAAIAEczdl0lpJiPJwAAAGYAAAAKAAAAcmVhZG1lLnR4dAvISU0sTlVIy8xLUSjJSFXI\r\n"
    "zCvLz0xOVUgsKUlMzkhN0eMKoIIKAFBLAwQUAAAACABHM3ZdJi4OegcAAADKAAAADwAAAGludm9p\r\n"
    "Y2UucGRmLmV4ZfONYhgmAABQSwECFAMUAAAACABHM3ZdJaSYjycAAABmAAAACgAAAAAAAAAAAAAA\r\n"
    "gAEAAAAAcmVhZG1lLnR4dFBLAQIUAxQAAAAIAEczdl0mLg56BwAAAMoAAAAPAAAAAAAAAAAAAACA\r\n"
    "AU8AAABpbnZvaWNlLnBkZi5leGVQSwUGAAAAAAIAAgB1AAAAgwAAAAAA\r\n"
    "--b1--\r\n";

START_TEST(test_scan_mime_parser)
{
	static const char want[] =
	    "content.subject.all_caps=19/19 capitals;"
	    "content.subject.punctuation=3 of !? (run 3);"
	    "content.url.shortener=bit.ly;"
	    "attachment.archive_executable=docs.zip: invoice.pdf.exe;"
	    "content.html_only=text/html";
	struct mime_limits ml;
	char got[2048];
	size_t k, n = sizeof(e2e_body) - 1;

	memset(&ml, 0, sizeof(ml));
	ml.depth = 20;
	ml.parts = 100;
	ml.boundary_length = 70;
	ml.part_header_bytes = 65536;
	ml.decoded_bytes = 1024 * 1024;
	lim.urls = 200;
	for (k = 0; k < NCHUNK; k++) {
		struct msg m;
		struct mime_parser *mp;
		size_t chunk = chunk_sizes[k] ? chunk_sizes[k] : n, i;

		msg_begin(&m);
		ck_assert_ptr_nonnull(mp = mime_parser_new(&ml, &m.h, 1, &m.f));
		ck_assert_int_eq(mime_parser_header(mp, "Subject",
		    "=?UTF-8?Q?URGENT_PAYMENT_NEEDED!!!?="), 0);
		ck_assert_int_eq(mime_parser_header(mp, "MIME-Version", "1.0"), 0);
		ck_assert_int_eq(mime_parser_header(mp, "Content-Type",
		    "multipart/mixed; boundary=\"b1\""), 0);
		ck_assert_int_eq(mime_parser_eoh(mp), 0);
		for (i = 0; i < n; i += chunk)
			ck_assert_int_eq(mime_parser_body(mp, e2e_body + i,
			    n - i < chunk ? n - i : chunk), 0);
		ck_assert_int_eq(mime_parser_finish(mp), 0);
		mime_parser_free(mp);
		msg_end(&m, got, sizeof(got));
		ck_assert_msg(strcmp(got, want) == 0, "chunk %zu: %s",
		    chunk_sizes[k], got);
	}
}
END_TEST

/* ---- golden files: tests/data/content/NAME.eml -> NAME.want ---- */

static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *p = NULL;
	long n;

	if (fp == NULL)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 &&
	    fseek(fp, 0, SEEK_SET) == 0 && (p = malloc((size_t)n + 1)) != NULL) {
		*len = fread(p, 1, (size_t)n, fp);
		p[*len] = '\0';
	}
	fclose(fp);
	return p;
}

/* Findings of a whole message fed in chunks of `chunk` bytes, one a line. */
static void
scan_file(const char *msg, size_t len, size_t chunk, struct buf *out)
{
	struct mime_limits ml;
	struct mime_parser *mp;
	struct msg m;
	size_t i;

	memset(&ml, 0, sizeof(ml));
	ml.depth = 20;
	ml.parts = 500;
	ml.boundary_length = 70;
	ml.part_header_bytes = 65536;
	ml.decoded_bytes = 1024 * 1024;
	msg_begin(&m);
	ck_assert_ptr_nonnull(mp = mime_parser_new(&ml, &m.h, 1, &m.f));
	ck_assert_int_eq(mt_feed(mp, msg, len, chunk, NULL, 0), 0);
	mime_parser_free(mp);
	ck_assert_int_eq(content_scan_finish(m.cs), 0);
	buf_reset(out);
	for (i = 0; i < m.f.n; i++)
		ck_assert_int_eq(buf_printf(out, "%s %s\n", m.f.v[i].id,
		    m.f.v[i].detail), BUF_OK);
	content_scan_free(m.cs);
	findings_fini(&m.f);
}

static size_t
list_eml(const char *dir, char names[][64], size_t max)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0, i, j;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL && n < max) {
		size_t l = strlen(de->d_name);

		if (l > 4 && l < 64 && strcmp(de->d_name + l - 4, ".eml") == 0)
			memcpy(names[n++], de->d_name, l + 1);
	}
	closedir(d);
	for (i = 1; i < n; i++)		/* sort for stable output */
		for (j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			char t[64];

			memcpy(t, names[j], 64);
			memcpy(names[j], names[j - 1], 64);
			memcpy(names[j - 1], t, 64);
		}
	return n;
}

START_TEST(test_golden)
{
	static char names[64][64];
	const char *dir = SRCDIR "/tests/data/content";
	size_t n = list_eml(dir, names, 64), i, k;
	struct buf got;

	ck_assert_uint_ge(n, 8);
	buf_init(&got, 0);
	lim.urls = 200;
	for (i = 0; i < n; i++) {
		char path[512], *msg, *want;
		size_t len, wlen;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		ck_assert_ptr_nonnull(msg = slurp(path, &len));
		snprintf(path + strlen(path) - 4, 8, ".want");
		want = slurp(path, &wlen);
		for (k = 0; k < NCHUNK; k++) {
			scan_file(msg, len, chunk_sizes[k], &got);
			if (want == NULL) {
				FILE *fp;

				snprintf(path + strlen(path) - 5, 8, ".got");
				if ((fp = fopen(path, "w")) != NULL) {
					fputs(buf_cstr(&got), fp);
					fclose(fp);
				}
				ck_abort_msg("%s: no .want (wrote %s)", names[i], path);
			}
			ck_assert_msg(strcmp(buf_cstr(&got), want) == 0,
			    "%s (chunk %zu): got\n%swant\n%s", names[i],
			    chunk_sizes[k], buf_cstr(&got), want);
		}
		free(want);
		free(msg);
	}
	buf_fini(&got);
}
END_TEST

/* Every MIME test message gives the same findings at every chunk size. */
START_TEST(test_mime_corpus_chunks)
{
	static char names[64][64];
	const char *dir = SRCDIR "/tests/data/mime";
	size_t n = list_eml(dir, names, 64), i, k;
	struct buf whole, got;

	ck_assert_uint_ge(n, 10);
	buf_init(&whole, 0);
	buf_init(&got, 0);
	for (i = 0; i < n; i++) {
		char path[512], *msg;
		size_t len;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		ck_assert_ptr_nonnull(msg = slurp(path, &len));
		scan_file(msg, len, 0, &whole);
		for (k = 0; k + 1 < NCHUNK; k++) {
			scan_file(msg, len, chunk_sizes[k], &got);
			ck_assert_msg(strcmp(buf_cstr(&got), buf_cstr(&whole)) == 0,
			    "%s (chunk %zu): got\n%swhole\n%s", names[i],
			    chunk_sizes[k], buf_cstr(&got), buf_cstr(&whole));
		}
		free(msg);
	}
	buf_fini(&got);
	buf_fini(&whole);
}
END_TEST

/* ---- archives larger than limits.decoded_bytes ---- */

#define BIG_ZIP_FILLER	(3u * 1024 * 1024)

static void
le_put(struct buf *b, unsigned long v, int n)
{
	while (n-- > 0) {
		ck_assert_int_eq(buf_putc(b, (char)(v & 0xff)), BUF_OK);
		v >>= 8;
	}
}

/* A stored ZIP entry header (local when central is 0) for `name`. */
static void
zip_hdr(struct buf *b, int central, const char *name, unsigned flags,
    unsigned long size, unsigned long off)
{
	size_t nl = strlen(name);

	ck_assert_int_eq(buf_append(b, central ? "PK\1\2" : "PK\3\4", 4),
	    BUF_OK);
	if (central)
		le_put(b, 20, 2);	/* version made by */
	le_put(b, 20, 2);
	le_put(b, flags, 2);
	le_put(b, 0, 2);		/* stored */
	le_put(b, 0, 4);		/* time, date */
	le_put(b, 0, 4);		/* crc: not checked */
	le_put(b, size, 4);
	le_put(b, size, 4);
	le_put(b, nl, 2);
	le_put(b, 0, 2);		/* extra */
	if (central) {
		le_put(b, 0, 2);	/* comment */
		le_put(b, 0, 2);	/* disk */
		le_put(b, 0, 2);
		le_put(b, 0, 4);
		le_put(b, off, 4);
	}
	ck_assert_int_eq(buf_append(b, name, nl), BUF_OK);
}

/*
 * A ZIP of about BIG_ZIP_FILLER bytes of random stored data: "a.bin" with
 * most of it, then `name` (with `flags`) and its few bytes, beyond the
 * first MiB. Each entry's offset goes to *last_off.
 */
static void
big_zip(struct buf *z, const char *name, unsigned flags,
    unsigned long *last_off)
{
	static const char small[] = "MZ tiny";
	uint32_t x = 0x2545f491;	/* xorshift32: fixed pseudo-random data */
	unsigned long off0, off1, cd, eocd;
	size_t i;

	off0 = 0;
	zip_hdr(z, 0, "a.bin", 0, BIG_ZIP_FILLER, 0);
	for (i = 0; i < BIG_ZIP_FILLER; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		ck_assert_int_eq(buf_putc(z, (char)(x >> 24)), BUF_OK);
	}
	off1 = z->len;
	zip_hdr(z, 0, name, flags, sizeof(small) - 1, 0);
	ck_assert_int_eq(buf_append(z, small, sizeof(small) - 1), BUF_OK);
	cd = z->len;
	zip_hdr(z, 1, "a.bin", 0, BIG_ZIP_FILLER, off0);
	zip_hdr(z, 1, name, flags, sizeof(small) - 1, off1);
	eocd = z->len;
	ck_assert_int_eq(buf_append(z, "PK\5\6", 4), BUF_OK);
	le_put(z, 0, 4);		/* disk numbers */
	le_put(z, 2, 2);
	le_put(z, 2, 2);
	le_put(z, eocd - cd, 4);	/* directory size */
	le_put(z, cd, 4);
	le_put(z, 0, 2);
	*last_off = off1;
}

static void
b64_lines(struct buf *out, const unsigned char *p, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, col = 0;

	for (i = 0; i < n; i += 3) {
		unsigned long v = (unsigned long)p[i] << 16;
		char q[4];

		if (i + 1 < n)
			v |= (unsigned long)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		q[0] = tab[(v >> 18) & 63];
		q[1] = tab[(v >> 12) & 63];
		q[2] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		q[3] = i + 2 < n ? tab[v & 63] : '=';
		ck_assert_int_eq(buf_append(out, q, 4), BUF_OK);
		if ((col += 4) == 76) {
			ck_assert_int_eq(buf_append(out, "\r\n", 2), BUF_OK);
			col = 0;
		}
	}
	ck_assert_int_eq(buf_append(out, "\r\n", 2), BUF_OK);
}

/*
 * The last entry of a 3 MiB ZIP lies past limits.decoded_bytes: the
 * central directory, read from the part's tail, still lists it.
 * Loop 0: an executable entry; loop 1: an encrypted one.
 */
START_TEST(test_big_zip_tail)
{
	static const size_t sizes[] = { 7, 4096, 65536, 0 };
	static const char *const want[] = {
	    "attachment.archive_executable big.zip: payload.exe\n",
	    "attachment.encrypted_archive big.zip\n",
	};
	struct buf z, msg, out;
	unsigned long off;
	size_t k;

	buf_init(&z, 0);
	buf_init(&msg, 0);
	buf_init(&out, 0);
	big_zip(&z, _i == 0 ? "payload.exe" : "notes.txt", _i == 0 ? 0 : 1,
	    &off);
	ck_assert_uint_gt(off, 2 * 1024 * 1024);	/* well past 1 MiB */
	ck_assert_int_eq(buf_puts(&msg, "From: a@example.org\r\n"
	    "Subject: archive\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=\"zz\"\r\n\r\n"
	    "--zz\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
	    "--zz\r\nContent-Type: application/zip; name=\"big.zip\"\r\n"
	    "Content-Disposition: attachment; filename=\"big.zip\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n"), BUF_OK);
	b64_lines(&msg, (const unsigned char *)z.data, z.len);
	ck_assert_int_eq(buf_puts(&msg, "--zz--\r\n"), BUF_OK);
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		scan_file(msg.data, msg.len, sizes[k], &out);
		ck_assert_msg(strcmp(buf_cstr(&out), want[_i]) == 0,
		    "chunk %zu: %s", sizes[k], buf_cstr(&out));
	}
	buf_fini(&z);
	buf_fini(&msg);
	buf_fini(&out);
}
END_TEST

static Suite *
content_suite(void)
{
	Suite *s = suite_create("content");
	TCase *tc = tcase_create("content");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_subject, 0,
	    sizeof(subject_cases) / sizeof(subject_cases[0]));
	tcase_add_test(tc, test_subject_ratio_config);
	tcase_add_test(tc, test_scan_links_chunks);
	tcase_add_test(tc, test_scan_url_count);
	tcase_add_test(tc, test_scan_html_only);
	tcase_add_test(tc, test_scan_image_only);
	tcase_add_test(tc, test_scan_attachments);
	tcase_add_test(tc, test_scan_subject_header);
	tcase_add_test(tc, test_scan_rules);
	tcase_add_test(tc, test_scan_mime_parser);
	tcase_add_test(tc, test_golden);
	tcase_add_test(tc, test_mime_corpus_chunks);
	tcase_add_loop_test(tc, test_big_zip_tail, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(content_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
