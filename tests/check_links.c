/*
 * check_links - URL extraction (at every chunk size) and content.url.*.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "egress/content.h"
#include "../src/core/bytescan.h"

static const size_t chunk_sizes[] = { 1, 2, 3, 7, 64, 4096, 0 /* whole */ };
#define NCHUNK (sizeof(chunk_sizes) / sizeof(chunk_sizes[0]))

static struct content_config cc;

static void
setup(void)
{
	ck_assert_int_eq(content_config_defaults(&cc), 0);
	ck_assert_int_eq(content_shorteners_read(&cc, SRCDIR "/conf/shorteners.txt"), 0);
}

static void
teardown(void)
{
	content_config_fini(&cc);
}

/* ---- extraction ---- */

struct collect {
	char	out[8192];
};

static int
collect_cb(void *ctx, const char *url, size_t len, const char *anchor,
    const char *attr)
{
	struct collect *c = ctx;
	size_t l = strlen(c->out);

	snprintf(c->out + l, sizeof(c->out) - l, "%.*s|%s|%s\n", (int)len, url,
	    anchor ? anchor : "-", attr ? attr : "-");
	return 0;
}

/* in fed to ls in chunks of chunk bytes (0: whole), then finished. */
static void
feed_all(struct link_scanner *ls, const char *in, size_t chunk)
{
	size_t n = strlen(in), i;

	if (chunk == 0)
		chunk = n ? n : 1;
	for (i = 0; i < n; i += chunk)
		ck_assert_int_eq(link_scanner_feed(ls, in + i,
		    n - i < chunk ? n - i : chunk), 0);
	ck_assert_int_eq(link_scanner_finish(ls), 0);
}

static void
extract(int html, const char *in, size_t chunk, struct collect *c)
{
	struct link_scanner *ls;

	c->out[0] = '\0';
	ck_assert_ptr_nonnull(ls = link_scanner_new(html, collect_cb, c));
	feed_all(ls, in, chunk);
	link_scanner_free(ls);
}

static const struct {
	const char	*label;
	int		 html;
	const char	*in;
	const char	*want;
} ex_cases[] = {
	{ "plain bare", 0, "see http://example.com/a?b=1 now",
	  "http://example.com/a?b=1|-|-\n" },
	{ "plain https www ftp", 0,
	  "https://a.example/x, www.b.example. ftp://c.example/f.txt!",
	  "https://a.example/x|-|-\nwww.b.example|-|-\nftp://c.example/f.txt|-|-\n" },
	{ "plain angle brackets", 0, "<http://example.com/x>",
	  "http://example.com/x|-|-\n" },
	{ "plain parens balanced", 0,
	  "(see https://en.wikipedia.org/wiki/Foo_(bar))",
	  "https://en.wikipedia.org/wiki/Foo_(bar)|-|-\n" },
	{ "plain no url", 0, "nothing here: wwwx.example and http:/ broken", "" },
	{ "plain email is not www", 0, "mail me at info@www.example.com", "" },
	{ "plain crlf lines", 0, "line one\r\nhttp://example.org/\r\nbye\r\n",
	  "http://example.org/|-|-\n" },
	{ "html href with anchor", 1,
	  "<p>Hi <a href=\"https://evil.example/login\">www.bank.example</a></p>",
	  "www.bank.example|-|-\nhttps://evil.example/login|www.bank.example|href\n" },
	{ "html entities in href", 1,
	  "<a href='http://x.example/?a=1&amp;b=2&#x2F;c'>go</a>",
	  "http://x.example/?a=1&b=2/c|go|href\n" },
	{ "html bare legacy entity in query", 1,
	  "<a href=\"http://q.example/?a=1&lt=2&amp;b&gt;3&ampx\">q</a>",
	  "http://q.example/?a=1&lt=2&b>3&ampx|q|href\n" },
	{ "html unquoted and src", 1,
	  "<img src=http://img.example/p.png alt=x><A HREF=http://y.example>Y</A>",
	  "http://img.example/p.png|-|src\nhttp://y.example|Y|href\n" },
	{ "html javascript obfuscated", 1,
	  "<a href=\"java&#x09;script&colon;alert(1)\">x</a>",
	  "javascript:alert(1)|x|href\n" },
	{ "html comment and script skipped", 1,
	  "<!-- http://hidden.example/ --><script>var u='http://js.example/';</script>"
	  "<style>a{background:url(http://css.example/)}</style>ok",
	  "" },
	{ "html nested tags in anchor", 1,
	  "<a href=\"https://t.example/r\"><span>Pay</span> <b>Pal</b></a>",
	  "https://t.example/r|Pay Pal|href\n" },
	{ "html text url with entity", 1, "<div>go to https://a.example/&amp;x</div>",
	  "https://a.example/&x|-|-\n" },
	{ "html lt not a tag", 1, "a < b http://c.example", "http://c.example|-|-\n" },
	{ "html unclosed anchor", 1, "<a href=\"http://u.example\">text",
	  "http://u.example|text|href\n" },
	{ "html anchor without href", 1, "<a name=top>top</a>", "" },
	{ "html form action", 1,
	  "<form method=post action=\"http://203.0.113.9/p.php\"><input "
	  "type=submit formaction='https://x.example/'></form>",
	  "http://203.0.113.9/p.php|-|action\nhttps://x.example/|-|action\n" },
	{ "html closing tag attrs ignored", 1, "</a href=\"http://x.example\">", "" },
	{ "plain stops and colons before urls", 0,
	  "End. Note: time 10:30. Then:HTTP://A.example/x. (WWW.b.example) "
	  "see.www.c.example x:https://d.example/ w.",
	  "HTTP://A.example/x|-|-\nWWW.b.example|-|-\n"
	  "https://d.example/|-|-\n" },
	{ "html stops and entity colon", 1,
	  "<p>Done. Time: 9:00. http&#58;//e.example/ ok.</p><p>www.f.example.</p>",
	  "http://e.example/|-|-\nwww.f.example|-|-\n" },
};

START_TEST(test_extract)
{
	struct collect c;
	size_t k;

	for (k = 0; k < NCHUNK; k++) {
		extract(ex_cases[_i].html, ex_cases[_i].in, chunk_sizes[k], &c);
		ck_assert_msg(strcmp(c.out, ex_cases[_i].want) == 0,
		    "%s (chunk %zu): got\n%swant\n%s", ex_cases[_i].label,
		    chunk_sizes[k], c.out, ex_cases[_i].want);
	}
}
END_TEST

/* A long text with a URL placed across every chunk boundary. */
START_TEST(test_extract_split_everywhere)
{
	char in[300];
	struct collect c;
	size_t pos, k;

	for (pos = 0; pos < 80; pos++) {
		memset(in, 'x', pos);
		in[pos] = ' ';
		snprintf(in + pos + 1, sizeof(in) - pos - 1,
		    "https://split.example/path/%zu end", pos);
		for (k = 0; k < NCHUNK; k++) {
			char want[128];

			snprintf(want, sizeof(want),
			    "https://split.example/path/%zu|-|-\n", pos);
			extract(_i, in, chunk_sizes[k], &c);
			ck_assert_str_eq(c.out, want);
		}
	}
}
END_TEST

START_TEST(test_extract_long_token_bounded)
{
	size_t n = 3 * CONTENT_URL_MAX, k;
	char *in = malloc(n + 40);
	struct collect c;

	ck_assert_ptr_nonnull(in);
	memcpy(in, "http://long.example/", 20);
	memset(in + 20, 'a', n - 20);
	strcpy(in + n, " http://next.example/");
	for (k = 0; k < NCHUNK; k++) {
		const char *nl;

		extract(0, in, chunk_sizes[k], &c);
		nl = strchr(c.out, '\n');
		ck_assert_ptr_nonnull(nl);
		/* cut at the bound, and the next URL is still found */
		ck_assert_uint_eq((size_t)(nl - c.out), CONTENT_URL_MAX + 4);
		ck_assert_str_eq(nl + 1, "http://next.example/|-|-\n");
	}
	free(in);
}
END_TEST

/* ---- host helpers ---- */

static const struct {
	const char	*url;
	const char	*host;	/* NULL: no host */
	int		 userinfo;
} host_cases[] = {
	{ "http://Example.COM/x", "example.com", 0 },
	{ "https://bank.example@evil.example/", "evil.example", 1 },
	{ "https://u:p@h.example:8080/", "h.example", 1 },
	{ "www.example.org/path", "www.example.org", 0 },
	{ "//cdn.example/x.js", "cdn.example", 0 },
	{ "http://[2001:db8::1]:80/", "[2001:db8::1]", 0 },
	{ "http:\\\\back.example\\x", "back.example", 0 },
	{ "http://%65vil.example./", "evil.example", 0 },
	{ "mailto:a@b.example", NULL, 0 },
	{ "/relative/path", NULL, 0 },
	{ "javascript:alert(1)", NULL, 0 },
};

START_TEST(test_url_host)
{
	char host[256];
	int ui, got;

	got = link_url_host(host_cases[_i].url, strlen(host_cases[_i].url),
	    host, sizeof(host), &ui);
	if (host_cases[_i].host == NULL) {
		ck_assert_int_eq(got, 0);
		return;
	}
	ck_assert_int_eq(got, 1);
	ck_assert_str_eq(host, host_cases[_i].host);
	ck_assert_int_eq(ui, host_cases[_i].userinfo);
}
END_TEST

static const struct {
	const char	*host;
	int		 ip;
} ip_cases[] = {
	{ "192.0.2.1", 1 }, { "3221225985", 1 }, { "0xc0000201", 1 },
	{ "0300.0.02.01", 1 }, { "0xc0.0.2.1", 1 }, { "[::1]", 1 },
	{ "127.1", 1 }, { "example.com", 0 }, { "1.2.3.4.nip.io", 0 },
	{ "1.2.3.4.5", 0 }, { "123abc", 0 }, { "", 0 }, { "a1.example", 0 },
};

START_TEST(test_is_ip)
{
	ck_assert_int_eq(link_host_is_ip(ip_cases[_i].host), ip_cases[_i].ip);
}
END_TEST

static const struct {
	const char	*host;
	int		 hit;
} puny_cases[] = {
	{ "xn--pple-43d.com", 1 },		/* Cyrillic a + "pple" */
	{ "www.xn--pple-43d.com", 1 },
	{ "xn--80ak6aa92e.com", 1 },		/* all-Cyrillic "apple" lookalike */
	{ "xn--e1awd7f.com", 1 },		/* all-Cyrillic "epic" lookalike */
	{ "xn--zz-.com", 1 },			/* invalid punycode */
	{ "xn--mnchen-3ya.de", 0 },		/* münchen: Latin with umlaut */
	{ "xn--fiqs8s.cn", 0 },			/* Chinese */
	{ "xn--80ak6aa92e.xn--p1ai", 0 },	/* Cyrillic under .рф */
	{ "xn--d1acufc.xn--p1ai", 0 },		/* домен.рф */
	{ "example.com", 0 },
	{ "bücher.example", 0 },
};

START_TEST(test_punycode)
{
	ck_assert_msg(link_host_is_punycode_mixed(puny_cases[_i].host) ==
	    puny_cases[_i].hit, "%s", puny_cases[_i].host);
}
END_TEST

/* ---- link_check: every finding, hit and miss ---- */

static const struct {
	const char	*label;
	const char	*url;
	const char	*anchor;
	const char	*attr;
	const char	*want;		/* finding id, or NULL for none */
	const char	*detail;	/* expected detail when want != NULL */
} check_cases[] = {
	{ "shortener hit", "https://bit.ly/abc", NULL, NULL,
	  "content.url.shortener", "bit.ly" },
	{ "shortener subdomain", "http://www.tinyurl.com/x", NULL, NULL,
	  "content.url.shortener", "www.tinyurl.com" },
	{ "shortener miss", "https://notbit.ly.example/abc", NULL, NULL, NULL, NULL },
	{ "shortener lookalike miss", "https://abit.ly/abc", NULL, NULL, NULL, NULL },
	{ "ip dotted", "http://192.0.2.7/login", NULL, NULL,
	  "content.url.ip_literal", "192.0.2.7" },
	{ "ip decimal", "http://3221225985/", NULL, NULL,
	  "content.url.ip_literal", "3221225985" },
	{ "ip hex", "http://0xC0000201/", NULL, NULL,
	  "content.url.ip_literal", "0xc0000201" },
	{ "ip octal", "http://0300.0000.0002.0001/", NULL, NULL,
	  "content.url.ip_literal", "0300.0000.0002.0001" },
	{ "ip v6", "http://[2001:db8::7]/", NULL, NULL,
	  "content.url.ip_literal", "[2001:db8::7]" },
	{ "ip miss", "http://192.example/", NULL, NULL, NULL, NULL },
	{ "userinfo hit", "https://bank.example@evil.example/", NULL, NULL,
	  "content.url.userinfo", "evil.example" },
	{ "userinfo miss (@ in path)", "https://evil.example/@bank", NULL, NULL,
	  NULL, NULL },
	{ "scheme javascript", "javascript:alert(1)", "click", "href",
	  "content.url.scheme", "javascript" },
	{ "scheme vbscript", "VBScript:msgbox", NULL, "href",
	  "content.url.scheme", "vbscript" },
	{ "scheme file", "file:///c:/x.exe", NULL, "href",
	  "content.url.scheme", "file" },
	{ "scheme data href", "data:text/html;base64,PHNjcmlwdD4=", NULL, "href",
	  "content.url.scheme", "data" },
	{ "scheme data image src miss", "data:image/png;base64,iVBORw0=", NULL,
	  "src", NULL, NULL },
	{ "scheme mailto miss", "mailto:a@b.example", NULL, "href", NULL, NULL },
	{ "mismatch domain", "https://evil.example/x", "www.paypal.com", "href",
	  "content.url.text_mismatch", "paypal.com -> evil.example" },
	{ "mismatch url text", "https://login.evil.example/",
	  "https://www.bank.co.uk/login", "href",
	  "content.url.text_mismatch", "bank.co.uk -> evil.example" },
	{ "mismatch url in sentence", "http://track.example.net/c/1",
	  "Log in at https://secure.bank.example now", "href",
	  "content.url.text_mismatch", "bank.example -> example.net" },
	{ "mismatch same registrable miss", "https://secure.paypal.com/x",
	  "www.paypal.com", "href", NULL, NULL },
	{ "mismatch psl suffix miss", "https://shop.bank.co.uk/",
	  "bank.co.uk", "href", NULL, NULL },
	{ "mismatch idn same domain miss", "https://www.xn--bcher-kva.de/",
	  "www.b\xc3\xbc" "cher.de", "href", NULL, NULL },
	{ "mismatch idn other domain", "https://www.xn--bcher-kva.de/",
	  "www.buecher.de", "href", "content.url.text_mismatch",
	  "buecher.de -> xn--bcher-kva.de" },
	{ "mismatch domain then words miss", "https://www.example.com/x",
	  "www.example.com report 8", "href", NULL, NULL },
	{ "mismatch url then words", "https://evil.example/",
	  "https://www.paypal.com login", "href",
	  "content.url.text_mismatch", "paypal.com -> evil.example" },
	{ "mismatch brand across suffixes miss", "https://www.example.com/za",
	  "www.example.co.za", "href", NULL, NULL },
	{ "mismatch tracking wrapper miss",
	  "https://click.mailer.example/c?u=https%3A%2F%2Fwww.shop.example%2Fsale&id=7",
	  "www.shop.example", "href", NULL, NULL },
	{ "mismatch wrapper encoded twice miss",
	  "https://t.news.example/r/?url=https%253A%252F%252Fshop.example%252F",
	  "https://shop.example/", "href", NULL, NULL },
	{ "mismatch wrapper of another host", "https://click.mailer.example/c?u=https%3A%2F%2Fevil.example%2F",
	  "www.paypal.com", "href", "content.url.text_mismatch",
	  "paypal.com -> mailer.example" },
	{ "mismatch look-alike brand", "https://paypal-secure.example/",
	  "www.paypal.com", "href", "content.url.text_mismatch",
	  "paypal.com -> paypal-secure.example" },
	{ "mismatch plain words miss", "https://evil.example/", "Click here",
	  "href", NULL, NULL },
	{ "mismatch file name miss", "https://evil.example/", "invoice.pdf",
	  "href", NULL, NULL },
	{ "punycode hit", "https://xn--pple-43d.com/", NULL, NULL,
	  "content.url.punycode_mixed", "xn--pple-43d.com" },
	{ "punycode miss", "https://xn--mnchen-3ya.de/", NULL, NULL, NULL, NULL },
	{ "plain url miss", "https://www.example.com/path?q=1", NULL, NULL,
	  NULL, NULL },
};

START_TEST(test_check)
{
	struct findings f;
	struct link_state st = { 0, 0 };
	const char *url = check_cases[_i].url;

	findings_init(&f, 0);
	ck_assert_int_eq(link_check(&cc, &st, &f, url, strlen(url),
	    check_cases[_i].anchor, check_cases[_i].attr), 0);
	if (check_cases[_i].want == NULL) {
		ck_assert_msg(f.n == 0, "%s: unexpected %s (%s)",
		    check_cases[_i].label, f.n ? f.v[0].id : "",
		    f.n ? f.v[0].detail : "");
	} else {
		ck_assert_msg(f.n == 1, "%s: %zu findings", check_cases[_i].label,
		    f.n);
		ck_assert_str_eq(f.v[0].id, check_cases[_i].want);
		ck_assert_str_eq(f.v[0].detail, check_cases[_i].detail);
	}
	findings_fini(&f);
}
END_TEST

START_TEST(test_check_fires_once)
{
	struct findings f;
	struct link_state st = { 0, 0 };
	static const char *const urls[] = { "https://bit.ly/a", "https://bit.ly/b",
	    "http://t.co/c" };
	size_t i;

	findings_init(&f, 0);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(link_check(&cc, &st, &f, urls[i], strlen(urls[i]),
		    NULL, NULL), 0);
	ck_assert_uint_eq(f.n, 1);
	ck_assert_uint_eq(st.count, 3);
	findings_fini(&f);
}
END_TEST

START_TEST(test_shortener_file)
{
	struct content_config c2;
	char path[] = "/tmp/check_links_XXXXXX";
	int fd = mkstemp(path);
	FILE *fp;
	struct findings f;
	struct link_state st = { 0, 0 };

	ck_assert_int_ge(fd, 0);
	ck_assert_ptr_nonnull(fp = fdopen(fd, "w"));
	fputs("# comment\n  Short.Example.  # trailing comment\n\nbit.ly\n", fp);
	fclose(fp);
	ck_assert_int_eq(content_config_defaults(&c2), 0);
	ck_assert_int_eq(content_shorteners_read(&c2, path), 0);
	ck_assert_uint_eq(c2.nshorteners, 2);
	findings_init(&f, 0);
	ck_assert_int_eq(link_check(&c2, &st, &f, "http://go.short.example/x", 25,
	    NULL, NULL), 0);
	ck_assert(findings_has(&f, "content.url.shortener"));
	findings_fini(&f);
	ck_assert_int_ne(content_shorteners_read(&c2, "/nonexistent/x"), 0);
	content_config_fini(&c2);
	unlink(path);
}
END_TEST

/* Text characters of in (fed in chunks of chunk, 0: whole) with a cap. */
static size_t
text_count(int html, const char *in, size_t chunk, size_t cap)
{
	struct collect c;
	struct link_scanner *ls;
	size_t got;

	c.out[0] = '\0';
	ck_assert_ptr_nonnull(ls = link_scanner_new(html, collect_cb, &c));
	if (cap > 0)
		link_scanner_text_cap(ls, cap);
	feed_all(ls, in, chunk);
	got = link_scanner_text_chars(ls);
	link_scanner_free(ls);
	return got;
}

/*
 * The visible text count: letters and digits outside tags, scripts and
 * styles, entities decoded, the same at every chunk size; with a cap it is
 * exact below the cap and at least the cap above it.
 */
START_TEST(test_text_count)
{
	static const struct { int html; const char *in; size_t want; } t[] = {
		{ 1, "<p>ab 12</p><script>xyz</script>&amp;c", 5 },
		{ 1, "<a href=\"http://x.example/\">go here</a> see "
		  "www.example.com/a?b=1 &lt;ok&gt;", 6 + 3 + 16 + 2 },
		{ 0, "plain text, 3 words and http://example.org/x", 33 },
	};
	size_t i, k, cap;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		for (k = 0; k < NCHUNK; k++) {
			size_t full = text_count(t[i].html, t[i].in,
			    chunk_sizes[k], 0);

			ck_assert_msg(full == t[i].want, "case %zu chunk %zu: %zu, "
			    "want %zu", i, chunk_sizes[k], full, t[i].want);
			for (cap = 1; cap < full + 3; cap += 2) {
				size_t got = text_count(t[i].html, t[i].in,
				    chunk_sizes[k], cap);

				ck_assert_msg(full < cap ? got == full :
				    got >= cap && got <= full,
				    "case %zu chunk %zu cap %zu: %zu of %zu", i,
				    chunk_sizes[k], cap, got, full);
			}
		}
}
END_TEST

/*
 * bytescan_text_stats() against a byte loop over random text of every
 * length to 200: the count exactly, and the longest run without white
 * space whenever it is 16 or more (shorter runs inside a block of 16 are
 * not looked for); it never reports more than there is. bytescan_has_run()
 * says exactly whether a run of each length is there.
 */
START_TEST(test_text_stats)
{
	static const char alpha[] = "aZ09 \t\r\n\v\f.:-<&\200\377";
	char buf[256];
	unsigned long long x = 0x9e3779b97f4a7c15ULL;
	size_t n, i, round;

	for (round = 0; round < 20000; round++) {
		size_t count = 0, run = 0, best = 0, got, longest;
		unsigned rate;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		n = (size_t)(x % 201);
		rate = 2 + (unsigned)(x >> 20) % 40;	/* 1 in rate is odd */
		for (i = 0; i < n; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			buf[i] = (x >> 8) % rate ? "abcXYZ019"[(x >> 16) % 9] :
			    alpha[(x >> 24) % (sizeof(alpha) - 1)];
		}
		for (i = 0; i < n; i++) {
			unsigned char c = (unsigned char)buf[i];

			if (c == ' ' || (c >= 9 && c <= 13)) {
				best = run > best ? run : best;
				run = 0;
				continue;
			}
			run++;
			count += ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
			    (c >= '0' && c <= '9') || c >= 0x80;
		}
		best = run > best ? run : best;
		got = bytescan_text_stats(buf, n, &longest);
		ck_assert_msg(got == count, "length %zu: count %zu, want %zu",
		    n, got, count);
		ck_assert_msg(longest <= best && (best < 16 || longest == best),
		    "length %zu: longest %zu, want %zu", n, longest, best);
		for (i = 1; i < 40; i += 1 + round % 5)
			ck_assert_msg(bytescan_has_run(buf, n, i) == (best >= i),
			    "length %zu: a run of %zu? longest %zu", n, i, best);
	}
}
END_TEST

static Suite *
links_suite(void)
{
	Suite *s = suite_create("links");
	TCase *tc = tcase_create("links");

	/* a bound for a hung test, not a measure: a loaded machine is slow */
	tcase_set_timeout(tc, 120);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_extract, 0,
	    sizeof(ex_cases) / sizeof(ex_cases[0]));
	tcase_add_loop_test(tc, test_extract_split_everywhere, 0, 2);
	tcase_add_test(tc, test_extract_long_token_bounded);
	tcase_add_loop_test(tc, test_url_host, 0,
	    sizeof(host_cases) / sizeof(host_cases[0]));
	tcase_add_loop_test(tc, test_is_ip, 0,
	    sizeof(ip_cases) / sizeof(ip_cases[0]));
	tcase_add_loop_test(tc, test_punycode, 0,
	    sizeof(puny_cases) / sizeof(puny_cases[0]));
	tcase_add_loop_test(tc, test_check, 0,
	    sizeof(check_cases) / sizeof(check_cases[0]));
	tcase_add_test(tc, test_check_fires_once);
	tcase_add_test(tc, test_shortener_file);
	tcase_add_test(tc, test_text_stats);
	tcase_add_test(tc, test_text_count);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(links_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
