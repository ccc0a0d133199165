/*
 * links.c - URL extraction from decoded text/plain and text/html, and the
 * content.url.* checks on each URL.
 *
 * Extraction is a byte-at-a-time state machine, so its output depends only
 * on the byte stream, never on how it was chunked: a URL split across two
 * part_data chunks is carried in the scanner's token buffer. Text outside
 * tags (all of text/plain) takes a faster road to the same result: a
 * vectorised search finds the next whitespace (or '<'), a token that ends
 * inside the chunk is looked at where it lies, and only a token with a
 * ':' or '.' (every bare URL has one) is searched for URLs. Bounds: a text
 * token, an attribute value and a URL are cut at CONTENT_URL_MAX bytes (the
 * rest of an over-long token is skipped up to the next delimiter); anchor
 * text is cut at CONTENT_ANCHOR_MAX. Memory per scanner is fixed (about
 * 7 KiB), whatever the input.
 *
 * What is extracted:
 *   text/plain  bare URLs: http://, https://, ftp:// and www. at a word
 *               start, up to whitespace or one of <>"'`; trailing .,;:!?*_
 *               and unbalanced ) ] are not part of the URL;
 *   text/html   href=, src=, action= and formaction= (form targets: a form
 *               in a mail is how credentials get posted) attribute values of
 *               any tag (quoted or not, entities decoded, tabs and newlines
 *               removed as browsers do),
 *               bare URLs in text nodes (entities decoded), and for <a> the
 *               visible anchor text (tags inside the anchor ignored).
 *               Comments, <!DOCTYPE>, <script> and <style> content are
 *               skipped.
 *
 * The punycode lookalike rule (content.url.punycode_mixed): every "xn--"
 * label of the host is decoded (RFC 3492). The host is flagged when a
 * decoded label
 *   (a) mixes ASCII letters with letters of a script that has Latin
 *       lookalikes (Cyrillic, Greek, Armenian, Cherokee), e.g. "xn--pple-43d"
 *       = Cyrillic "а" + "pple"; or
 *   (b) is made only of such lookalike letters (plus digits and hyphens)
 *       while the public suffix is plain ASCII, e.g. "аррӏе.com"; or
 *   (c) is not valid punycode, or decodes to plain ASCII (which IDNA
 *       forbids, and which only a crafted link contains).
 * Labels that mix ASCII with other scripts (Latin with diacritics such as
 * "münchen", CJK, Arabic) are not flagged: those are ordinary IDNs.
 *
 * Threading: a scanner belongs to one scan; the check functions only read
 * the config (libpsl lookups on a shared context are read-only).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libpsl.h>

#include "egress/content.h"
#include "bytescan.h"

#define TAG_MAX		16
#define ATTR_NAME_MAX	16
#define SCHEME_MAX	16
#define HOST_MAX	256

enum ls_state {
	S_TEXT = 0,
	S_LT,		/* after '<' */
	S_BANG,		/* after "<!" */
	S_BANG_DASH,	/* after "<!-" */
	S_COMMENT,	/* inside <!-- --> */
	S_DECL,		/* <!DOCTYPE ...>, <?xml ...?> */
	S_TAGNAME,
	S_ATTRS,	/* between attributes */
	S_ANAME,
	S_AFTER_ANAME,
	S_BEFORE_VAL,
	S_VAL_DQ,
	S_VAL_SQ,
	S_VAL_UQ,
	S_RAW,		/* <script>/<style> content */
};

/* The tags the scanner acts on; TK_BREAK: those that break anchor text. */
enum tag_kind { TK_OTHER, TK_A, TK_IMG, TK_SCRIPT, TK_STYLE, TK_BREAK };

struct link_scanner {
	int		 html;
	link_cb		 cb;
	void		*ctx;
	enum ls_state	 state;
	size_t		 text_chars;	/* counted up to text_cap */
	size_t		 text_cap;
	size_t		 images;	/* <img> tags */
	/* text token */
	char		 tok[CONTENT_URL_MAX];
	size_t		 toklen;
	/* tag */
	char		 tag[TAG_MAX];
	size_t		 taglen;
	enum tag_kind	 tagkind;	/* of tag, once its name is complete */
	int		 tag_close;
	char		 aname[ATTR_NAME_MAX];
	size_t		 anamelen;
	char		 aval[CONTENT_URL_MAX];
	size_t		 avallen;
	size_t		 comment_dashes;
	size_t		 raw_match;	/* bytes of "</script" matched */
	/* <a> */
	int		 in_a;
	char		 href[CONTENT_URL_MAX];
	size_t		 hreflen;
	int		 have_href;
	char		 anchor[CONTENT_ANCHOR_MAX];
	size_t		 anchorlen;
	int		 failed;
};

static inline int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
	    c == '\v';
}

static inline int
is_alnum(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

static inline int
lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

/* ---- HTML character references ---- */

static size_t
put_utf8(char *out, uint32_t cp)
{
	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Named references that matter for URLs; nbsp becomes a plain space. */
static const struct {
	const char	*name;
	uint32_t	 cp;
} entities[] = {
	{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' },
	{ "apos", '\'' }, { "nbsp", ' ' }, { "colon", ':' }, { "sol", '/' },
	{ "period", '.' }, { "commat", '@' }, { "quest", '?' },
	{ "equals", '=' }, { "num", '#' }, { "percnt", '%' }, { "lpar", '(' },
	{ "rpar", ')' }, { "bsol", '\\' }, { "Tab", '\t' },
	{ "NewLine", '\n' }, { "hyphen", '-' }, { "dash", '-' },
};

/*
 * Decode character references of in[0..n) into out (size outsz > 4).
 * Numeric references without ';' and the legacy names amp/lt/gt/quot
 * without ';' are accepted, as browsers do. Returns the output length.
 */
static size_t
entity_decode(const char *in, size_t n, char *out, size_t outsz)
{
	size_t i = 0, o = 0, run;

	while (i < n && o + 4 < outsz) {
		if (in[i] != '&') {
			/* the run up to the next '&', as far as out has room */
			const char *amp = memchr(in + i, '&', n - i);

			run = (amp != NULL ? (size_t)(amp - in) : n) - i;
			if (run > outsz - 4 - o)
				run = outsz - 4 - o;
			memcpy(out + o, in + i, run);
			o += run;
			i += run;
			continue;
		}
		if (i + 1 < n && in[i + 1] == '#') {
			size_t j = i + 2;
			uint32_t cp = 0;
			int hex = 0, digits = 0;

			if (j < n && (in[j] == 'x' || in[j] == 'X')) {
				hex = 1;
				j++;
			}
			for (; j < n; j++) {
				int c = (unsigned char)in[j], d;

				if (c >= '0' && c <= '9')
					d = c - '0';
				else if (hex && c >= 'a' && c <= 'f')
					d = c - 'a' + 10;
				else if (hex && c >= 'A' && c <= 'F')
					d = c - 'A' + 10;
				else
					break;
				digits++;
				if (cp <= 0x10ffff)
					cp = cp * (hex ? 16 : 10) + (uint32_t)d;
			}
			if (digits == 0) {
				out[o++] = in[i++];
				continue;
			}
			if (j < n && in[j] == ';')
				j++;
			o += put_utf8(out + o, cp);
			i = j;
			continue;
		} else {
			size_t k, j = i + 1;

			while (j < n && j - i <= 10 && is_alnum((unsigned char)in[j]))
				j++;
			for (k = 0; k < sizeof(entities) / sizeof(entities[0]); k++) {
				size_t l = strlen(entities[k].name);
				int semi = (i + 1 + l < n && in[i + 1 + l] == ';');

				if (j - i - 1 < l || strncmp(in + i + 1,
				    entities[k].name, l) != 0)
					continue;
				/*
				 * Only the legacy names go without ';', and not
				 * before a letter, digit or '=' ("?a=1&lt=2" in
				 * a URL stays as it is, as in browsers).
				 */
				if (!semi && (k > 3 || (i + 1 + l < n &&
				    (is_alnum((unsigned char)in[i + 1 + l]) ||
				    in[i + 1 + l] == '='))))
					continue;
				o += put_utf8(out + o, entities[k].cp);
				i += 1 + l + (size_t)semi;
				break;
			}
			if (k == sizeof(entities) / sizeof(entities[0]))
				out[o++] = in[i++];
		}
	}
	return o;
}

/* ---- bare URLs in text ---- */

static int
is_url_delim(int c)
{
	return c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == '"' ||
	    c == '\'' || c == '`';
}

static int
prefix_ci(const char *p, size_t n, const char *pre)
{
	size_t l = strlen(pre);

	return n >= l && strncasecmp(p, pre, l) == 0;
}

/* prefix_ci() for a lowercase ASCII pre of length l, inline. */
static inline int
prefix_lc(const char *p, size_t n, const char *pre, size_t l)
{
	size_t i;

	if (n < l)
		return 0;
	for (i = 0; i < l; i++)
		if (lower((unsigned char)p[i]) != pre[i])
			return 0;
	return 1;
}

/* Length of the URL scheme prefix at p that starts a bare URL, or 0. */
static size_t
bare_url_start(const char *p, size_t n)
{
	int c = n > 0 ? lower((unsigned char)p[0]) : 0;

	if (c != 'h' && c != 'f' && c != 'w')
		return 0;
	if (prefix_lc(p, n, "http://", 7))
		return 7;
	if (prefix_lc(p, n, "https://", 8))
		return 8;
	if (prefix_lc(p, n, "ftp://", 6))
		return 6;
	if (prefix_lc(p, n, "www.", 4) && n > 4 && is_alnum((unsigned char)p[4]))
		return 4;
	return 0;
}

/*
 * Find bare URLs in t[0..n) and call back for each. Balanced parentheses
 * and brackets stay in the URL (Wikipedia-style links).
 */
static int
find_bare_urls(struct link_scanner *ls, const char *t, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t pre, end, j;
		int paren = 0, bracket = 0;

		if (i > 0) {
			int b = (unsigned char)t[i - 1];

			if (is_alnum(b) || b == '.' || b == '-' || b == '@' ||
			    b == '_' || b == '/') {
				i++;
				continue;
			}
		}
		if ((pre = bare_url_start(t + i, n - i)) == 0) {
			i++;
			continue;
		}
		for (end = i; end < n && !is_url_delim((unsigned char)t[end]); end++)
			;
		for (j = i; j < end; j++) {
			if (t[j] == '(')
				paren++;
			else if (t[j] == ')')
				paren--;
			else if (t[j] == '[')
				bracket++;
			else if (t[j] == ']')
				bracket--;
		}
		while (end > i + pre) {
			int c = (unsigned char)t[end - 1];

			if (strchr(".,;:!?*_", c) != NULL)
				end--;
			else if (c == ')' && paren < 0) {
				paren++;
				end--;
			} else if (c == ']' && bracket < 0) {
				bracket++;
				end--;
			} else
				break;
		}
		if (end > i + pre && ls->cb(ls->ctx, t + i, end - i, NULL, NULL) != 0)
			return -1;
		i = end > i ? end : i + 1;
	}
	return 0;
}

/* ---- the scanner ---- */

struct link_scanner *
link_scanner_new(int html, link_cb cb, void *ctx)
{
	struct link_scanner *ls;

	if ((ls = calloc(1, sizeof(*ls))) == NULL)
		return NULL;
	ls->html = html;
	ls->cb = cb;
	ls->ctx = ctx;
	ls->text_cap = (size_t)-1;
	return ls;
}

void
link_scanner_text_cap(struct link_scanner *ls, size_t cap)
{
	ls->text_cap = cap;
}

void
link_scanner_free(struct link_scanner *ls)
{
	free(ls);
}

size_t
link_scanner_text_chars(const struct link_scanner *ls)
{
	return ls->text_chars;
}

size_t
link_scanner_images(const struct link_scanner *ls)
{
	return ls->images;
}

/*
 * A whole (decoded) text token t[0..n): count its letters and digits, look
 * for bare URLs. Every bare URL start ("http://", "https://", "ftp://",
 * "www.") holds a ':' or a '.', so a token without either has none.
 */
static int
token_text(struct link_scanner *ls, const char *t, size_t n)
{
	size_t longest;

	if (ls->text_chars < ls->text_cap)
		ls->text_chars += bytescan_text_stats(t, n, &longest);
	return bytescan_any3(t, n, ':', '.', '.') < n ?
	    find_bare_urls(ls, t, n) : 0;
}

static int
flush_token(struct link_scanner *ls)
{
	char dec[CONTENT_URL_MAX];
	const char *t = ls->tok;
	size_t n = ls->toklen;

	if (n == 0)
		return 0;
	ls->toklen = 0;
	/* decoding is the identity without '&', up to its output bound */
	if (ls->html && (n + 4 >= sizeof(dec) || memchr(ls->tok, '&', n) != NULL)) {
		n = entity_decode(ls->tok, n, dec, sizeof(dec));
		t = dec;
	}
	return token_text(ls, t, n);
}

static inline void
tok_add(struct link_scanner *ls, int c)
{
	/* Over-long tokens are cut; the rest up to a delimiter is skipped. */
	if (ls->toklen < sizeof(ls->tok))
		ls->tok[ls->toklen++] = (char)c;
}

/* Append p[0..n) to buf (*len bytes of cap): as much as there is room for. */
static inline void
append_cut(char *buf, size_t cap, size_t *len, const char *p, size_t n)
{
	if (n > cap - *len)
		n = cap - *len;
	memcpy(buf + *len, p, n);
	*len += n;
}

/* tok_add() for n bytes. */
static inline void
tok_add_bytes(struct link_scanner *ls, const char *p, size_t n)
{
	append_cut(ls->tok, sizeof(ls->tok), &ls->toklen, p, n);
}

/*
 * One whole token t[0..k) of a run (k > 0): what tok_add() byte by byte
 * and flush_token() would do. Tokens the plain path cannot take as they
 * lie (cut at the token limit, or with entities to decode in HTML) go
 * through tok. counted: RT_SELF, the token is counted here; RT_COUNTED, the
 * caller counted its text already (a decoded token is counted as decoded
 * instead); RT_CAPPED, the count had reached its cap. With either of the
 * last two the token holds a ':', a '.' or an '&'.
 */
enum { RT_SELF, RT_COUNTED, RT_CAPPED };

static int
run_token(struct link_scanner *ls, const char *t, size_t k, int counted)
{
	size_t longest;

	if ((ls->html && (k + 4 >= sizeof(ls->tok) ||
	    memchr(t, '&', k) != NULL)) || k > sizeof(ls->tok)) {
		if (counted == RT_COUNTED)
			ls->text_chars -= bytescan_text_stats(t, k, &longest);
		tok_add_bytes(ls, t, k);
		return flush_token(ls);
	}
	return counted != RT_SELF ? find_bare_urls(ls, t, k) :
	    token_text(ls, t, k);
}

/*
 * Complete tokens p[0..n) separated by whitespace, with no '<' in HTML.
 * The count is taken over the whole run at once (whitespace counts for
 * nothing, so it is the sum over the tokens), and only the tokens holding
 * a ':' or a '.' (every bare URL start has one) or, in HTML, a '&' are
 * looked at one by one. A run with a token near the token limit is taken
 * token by token instead: cutting it changes what is counted.
 */
static int
run_tokens(struct link_scanner *ls, const char *p, size_t n)
{
	size_t i = 0, from, k, longest = 0, chars = 0;
	int mode = ls->text_chars < ls->text_cap ? RT_COUNTED : RT_CAPPED;

	/* a run shorter than the token limit has no token near it */
	if (mode == RT_COUNTED)
		chars = bytescan_text_stats(p, n, &longest);
	else if (n + 8 >= sizeof(ls->tok) &&
	    bytescan_has_run(p, n, sizeof(ls->tok) - 8))
		longest = sizeof(ls->tok);
	if (longest + 8 >= sizeof(ls->tok)) {
		while (i < n) {
			k = bytescan_space(p + i, n - i, 0);
			if (k > 0 && run_token(ls, p + i, k, RT_SELF) != 0)
				return -1;
			i += k + (i + k < n);
		}
		return 0;
	}
	if (mode == RT_COUNTED)
		ls->text_chars += chars;
	/* i: where a token may start (the run's start or after a token
	 * looked at); from: where to search for the next ':', '.' or '&' */
	for (from = 0; from < n; ) {
		size_t q = from + bytescan_any3(p + from, n - from, ':', '.',
		    ls->html ? '&' : ':'), a;

		if (q == n)
			break;
		/*
		 * A bare URL start has "://" or "www.": a ':' not before a
		 * '/' or a '.' not after a 'w' (a sentence's full stop) is
		 * no reason to look at its token. An '&' may decode to
		 * either, so it always is.
		 */
		if ((p[q] == ':' && (q + 1 == n || p[q + 1] != '/')) ||
		    (p[q] == '.' && (q == 0 || lower((unsigned char)p[q - 1]) !=
		    'w'))) {
			from = q + 1;
			continue;
		}
		/* the token around q: back to whitespace (or i), then forward */
		for (a = q; a > i && !is_space((unsigned char)p[a - 1]); a--)
			;
		k = bytescan_space(p + a, n - a, 0);
		if (run_token(ls, p + a, k, mode) != 0)
			return -1;
		i = from = a + k;
	}
	return 0;
}

/*
 * Text outside tags and anchors, p[0..n): what tok_add() byte by byte and
 * flush_token() at each whitespace would do. Stops before a '<' in HTML
 * (the caller steps into the tag); returns the bytes consumed, or
 * (size_t)-1 when a callback failed. A token carried from the previous
 * chunk is completed first; one reaching the end of the chunk is carried
 * in tok; the complete tokens between are read where they lie.
 */
static size_t
text_run(struct link_scanner *ls, const char *p, size_t n)
{
	const char *lt;
	size_t i = 0, e = n, t, k;

	if (ls->html && (lt = memchr(p, '<', n)) != NULL)
		e = (size_t)(lt - p);
	if (ls->toklen > 0) {
		k = bytescan_space(p, e, 0);
		tok_add_bytes(ls, p, k);
		if (k == n)
			return n;	/* still not complete */
		if (flush_token(ls) != 0)
			return (size_t)-1;
		i = k < e ? k + 1 : k;
	}
	/* a last token reaching the end of the chunk is carried */
	t = e;
	if (e == n)
		while (t > i && !is_space((unsigned char)p[t - 1]))
			t--;
	if (t > i && run_tokens(ls, p + i, t - i) != 0)
		return (size_t)-1;
	if (t < e)
		tok_add_bytes(ls, p + t, e - t);
	return e;
}

static inline void
anchor_add(struct link_scanner *ls, int c)
{
	if (!ls->in_a)
		return;
	if (is_space(c)) {
		if (ls->anchorlen == 0 || ls->anchor[ls->anchorlen - 1] == ' ')
			return;
		c = ' ';
	}
	if (ls->anchorlen < sizeof(ls->anchor) - 1)
		ls->anchor[ls->anchorlen++] = (char)c;
}

/* anchor_add() for n bytes: only while there is room for them. */
static void
anchor_add_bytes(struct link_scanner *ls, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n && ls->in_a &&
	    ls->anchorlen < sizeof(ls->anchor) - 1; i++)
		anchor_add(ls, (unsigned char)p[i]);
}

/*
 * Normalise an attribute value as a browser does before parsing a URL:
 * decode references, strip leading/trailing C0 and space, drop tab/CR/LF.
 */
static size_t
attr_url(const char *in, size_t n, char *out, size_t outsz)
{
	char dec[CONTENT_URL_MAX];
	size_t dn, i, o = 0, s = 0;

	dn = entity_decode(in, n, dec, sizeof(dec));
	while (s < dn && (unsigned char)dec[s] <= ' ')
		s++;
	while (dn > s && (unsigned char)dec[dn - 1] <= ' ')
		dn--;
	for (i = s; i < dn && o + 1 < outsz; i++)
		if (dec[i] != '\t' && dec[i] != '\r' && dec[i] != '\n')
			out[o++] = dec[i];
	out[o] = '\0';
	return o;
}

static int
anchor_end(struct link_scanner *ls)
{
	char text[CONTENT_ANCHOR_MAX * 2];
	size_t n;
	int rc = 0;

	if (ls->in_a && ls->have_href) {
		n = entity_decode(ls->anchor, ls->anchorlen, text, sizeof(text));
		while (n > 0 && text[n - 1] == ' ')
			n--;
		text[n] = '\0';
		rc = ls->cb(ls->ctx, ls->href, ls->hreflen, text, "href");
	}
	ls->in_a = 0;
	ls->have_href = 0;
	ls->hreflen = 0;
	ls->anchorlen = 0;
	return rc;
}

static int
attr_done(struct link_scanner *ls)
{
	char url[CONTENT_URL_MAX];
	size_t n;
	int is_href, is_src, is_action;

	is_href = ls->anamelen == 4 && memcmp(ls->aname, "href", 4) == 0;
	is_src = ls->anamelen == 3 && memcmp(ls->aname, "src", 3) == 0;
	is_action = (ls->anamelen == 6 && memcmp(ls->aname, "action", 6) == 0) ||
	    (ls->anamelen == 10 && memcmp(ls->aname, "formaction", 10) == 0);
	ls->anamelen = 0;
	if (ls->tag_close || (!is_href && !is_src && !is_action)) {
		ls->avallen = 0;
		return 0;
	}
	n = attr_url(ls->aval, ls->avallen, url, sizeof(url));
	ls->avallen = 0;
	if (n == 0)
		return 0;
	if (is_href && ls->tagkind == TK_A) {
		/* Reported with the anchor text at </a>; the first href wins. */
		if (!ls->have_href) {
			memcpy(ls->href, url, n + 1);
			ls->hreflen = n;
			ls->have_href = 1;
		}
		return 0;
	}
	return ls->cb(ls->ctx, url, n, NULL, is_href ? "href" : is_src ? "src" :
	    "action");
}

/* What a (lowercased) tag name t[0..n) is to the scanner. */
static enum tag_kind
tag_kind(const char *t, size_t n)
{
	switch (n) {
	case 1:
		return t[0] == 'a' ? TK_A : t[0] == 'p' ? TK_BREAK : TK_OTHER;
	case 2:
		return memcmp(t, "br", 2) == 0 || memcmp(t, "td", 2) == 0 ||
		    memcmp(t, "li", 2) == 0 || memcmp(t, "tr", 2) == 0 ?
		    TK_BREAK : TK_OTHER;
	case 3:
		return memcmp(t, "img", 3) == 0 ? TK_IMG :
		    memcmp(t, "div", 3) == 0 ? TK_BREAK : TK_OTHER;
	case 5:
		return memcmp(t, "style", 5) == 0 ? TK_STYLE : TK_OTHER;
	case 6:
		return memcmp(t, "script", 6) == 0 ? TK_SCRIPT : TK_OTHER;
	}
	return TK_OTHER;
}

/* Called at the start of a tag's attributes (the name is complete). */
static int
tag_start(struct link_scanner *ls)
{
	ls->tagkind = tag_kind(ls->tag, ls->taglen);
	if (ls->tagkind == TK_A) {
		int rc = anchor_end(ls);	/* <a> does not nest */

		if (!ls->tag_close)
			ls->in_a = 1;
		return rc;
	}
	if (!ls->tag_close && ls->tagkind == TK_IMG)
		ls->images++;
	return 0;
}

static void
tag_end(struct link_scanner *ls)
{
	if (!ls->tag_close && (ls->tagkind == TK_SCRIPT ||
	    ls->tagkind == TK_STYLE)) {
		ls->state = S_RAW;
		ls->raw_match = 0;
		return;
	}
	if (ls->tagkind == TK_BREAK)
		anchor_add(ls, ' ');
	ls->state = S_TEXT;
}

/* Bytes of an attribute value, up to its limit (the rest is dropped). */
static inline void
aval_add(struct link_scanner *ls, const char *p, size_t n)
{
	append_cut(ls->aval, sizeof(ls->aval), &ls->avallen, p, n);
}

static int
step_html(struct link_scanner *ls, int c)
{
	switch (ls->state) {
	case S_TEXT:
		if (c == '<') {
			ls->state = S_LT;
			return flush_token(ls);
		}
		anchor_add(ls, c);
		if (is_space(c))
			return flush_token(ls);
		tok_add(ls, c);
		return 0;
	case S_LT:
		ls->taglen = 0;
		ls->tag_close = 0;
		if (c == '/') {
			ls->tag_close = 1;
			ls->state = S_TAGNAME;
		} else if (c == '!') {
			ls->state = S_BANG;
		} else if (c == '?') {
			ls->state = S_DECL;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			ls->tag[ls->taglen++] = (char)lower(c);
			ls->state = S_TAGNAME;
		} else {
			/* "a < b": not a tag, the '<' is text. */
			ls->state = S_TEXT;
			anchor_add(ls, '<');
			tok_add(ls, '<');
			return step_html(ls, c);
		}
		return 0;
	case S_BANG:
		ls->state = c == '-' ? S_BANG_DASH : c == '>' ? S_TEXT : S_DECL;
		return 0;
	case S_BANG_DASH:
		if (c == '-') {
			ls->state = S_COMMENT;
			ls->comment_dashes = 0;
		} else
			ls->state = c == '>' ? S_TEXT : S_DECL;
		return 0;
	case S_COMMENT:
		if (c == '>' && ls->comment_dashes >= 2)
			ls->state = S_TEXT;
		else
			ls->comment_dashes = c == '-' ? ls->comment_dashes + 1 : 0;
		return 0;
	case S_DECL:
		if (c == '>')
			ls->state = S_TEXT;
		return 0;
	case S_TAGNAME:
		if (is_alnum(c)) {
			if (ls->taglen < sizeof(ls->tag))
				ls->tag[ls->taglen++] = (char)lower(c);
			return 0;
		}
		ls->state = S_ATTRS;
		if (tag_start(ls) != 0)
			return -1;
		if (c == '>')
			tag_end(ls);
		return 0;
	case S_ATTRS:
		if (c == '>') {
			tag_end(ls);
		} else if (!is_space(c) && c != '/') {
			ls->anamelen = 0;
			ls->aname[ls->anamelen++] = (char)lower(c);
			ls->state = S_ANAME;
		}
		return 0;
	case S_ANAME:
		if (c == '=') {
			ls->state = S_BEFORE_VAL;
		} else if (is_space(c)) {
			ls->state = S_AFTER_ANAME;
		} else if (c == '>' || c == '/') {
			ls->avallen = 0;
			if (attr_done(ls) != 0)
				return -1;
			ls->state = S_ATTRS;
			if (c == '>')
				tag_end(ls);
		} else if (ls->anamelen < sizeof(ls->aname)) {
			ls->aname[ls->anamelen++] = (char)lower(c);
		}
		return 0;
	case S_AFTER_ANAME:
		if (is_space(c))
			return 0;
		if (c == '=') {
			ls->state = S_BEFORE_VAL;
			return 0;
		}
		ls->avallen = 0;
		if (attr_done(ls) != 0)
			return -1;
		ls->state = S_ATTRS;
		return step_html(ls, c);
	case S_BEFORE_VAL:
		ls->avallen = 0;
		if (is_space(c))
			return 0;
		if (c == '"')
			ls->state = S_VAL_DQ;
		else if (c == '\'')
			ls->state = S_VAL_SQ;
		else if (c == '>') {
			if (attr_done(ls) != 0)
				return -1;
			tag_end(ls);
		} else {
			ls->aval[ls->avallen++] = (char)c;
			ls->state = S_VAL_UQ;
		}
		return 0;
	case S_VAL_DQ:
	case S_VAL_SQ:
		if (c == (ls->state == S_VAL_DQ ? '"' : '\'')) {
			ls->state = S_ATTRS;
			return attr_done(ls);
		}
		if (ls->avallen < sizeof(ls->aval))
			ls->aval[ls->avallen++] = (char)c;
		return 0;
	case S_VAL_UQ:
		if (is_space(c) || c == '>') {
			ls->state = S_ATTRS;
			if (attr_done(ls) != 0)
				return -1;
			if (c == '>')
				tag_end(ls);
			return 0;
		}
		if (ls->avallen < sizeof(ls->aval))
			ls->aval[ls->avallen++] = (char)c;
		return 0;
	case S_RAW: {
		/* Skip to "</script" or "</style", whichever opened it. */
		const char *want = ls->tagkind == TK_SCRIPT ? "</script" :
		    "</style";
		size_t wl = strlen(want);

		if (lower(c) == want[ls->raw_match]) {
			if (++ls->raw_match == wl) {
				ls->tag_close = 1;
				ls->state = S_TAGNAME;
			}
		} else
			ls->raw_match = c == '<' ? 1 : 0;
		return 0;
	}
	}
	return 0;
}

/*
 * At a '<' in text: a whole tag of only a name ("<p>", "</td>") in p[0..n)
 * taken in one step, as step_html() byte by byte would take it. Returns
 * the bytes taken, 0 when it is another kind of tag (or not all in p),
 * (size_t)-1 when a callback failed.
 */
static size_t
whole_tag(struct link_scanner *ls, const char *p, size_t n)
{
	size_t j = 1, a;
	int close = 0;

	if (n > 1 && p[1] == '/') {
		close = 1;
		j = 2;
	} else if (n < 2 || !((p[1] >= 'a' && p[1] <= 'z') ||
	    (p[1] >= 'A' && p[1] <= 'Z')))
		return 0;
	for (a = j; j < n && j - a < sizeof(ls->tag) &&
	    is_alnum((unsigned char)p[j]); j++)
		ls->tag[j - a] = (char)lower((unsigned char)p[j]);
	if (j == a || j == n || p[j] != '>')
		return 0;
	if (flush_token(ls) != 0)
		return (size_t)-1;
	ls->taglen = j - a;
	ls->tag_close = close;
	if (tag_start(ls) != 0)
		return (size_t)-1;
	tag_end(ls);
	return j + 1;
}

int
link_scanner_feed(struct link_scanner *ls, const char *p, size_t n)
{
	size_t i = 0, k;

	if (ls->failed)
		return -1;
	while (i < n) {
		int rc;

		if (!ls->html || ls->state == S_TEXT) {
			if ((k = text_run(ls, p + i, n - i)) == (size_t)-1) {
				ls->failed = 1;
				return -1;
			}
			anchor_add_bytes(ls, p + i, k);
			if ((i += k) == n)
				break;
			/* text_run() stopped at a '<' */
			if ((k = whole_tag(ls, p + i, n - i)) == (size_t)-1) {
				ls->failed = 1;
				return -1;
			}
			if (k > 0) {
				i += k;
				continue;
			}
			/* step_html() opens the tag */
		} else if (ls->state == S_VAL_DQ || ls->state == S_VAL_SQ) {
			/* a quoted value up to its quote, in one step */
			const char *q = memchr(p + i, ls->state == S_VAL_DQ ?
			    '"' : '\'', n - i);

			k = q != NULL ? (size_t)(q - (p + i)) : n - i;
			aval_add(ls, p + i, k);
			if ((i += k) == n)
				break;
		}
		rc = step_html(ls, (unsigned char)p[i++]);
		if (rc != 0) {
			ls->failed = 1;
			return -1;
		}
	}
	return 0;
}

int
link_scanner_finish(struct link_scanner *ls)
{
	if (ls->failed)
		return -1;
	if (ls->state == S_TEXT && flush_token(ls) != 0)
		return -1;
	ls->toklen = 0;
	if (anchor_end(ls) != 0)
		return -1;
	ls->state = S_TEXT;
	return 0;
}

/* ---- URL anatomy ---- */

/* Scheme of url (lowercased into out), or 0 when there is none. */
static int
url_scheme(const char *url, size_t len, char *out, size_t outsz)
{
	size_t i;

	if (len == 0 || !isalpha((unsigned char)url[0]))
		return 0;
	for (i = 0; i < len && i + 1 < outsz; i++) {
		int c = (unsigned char)url[i];

		if (c == ':') {
			out[i] = '\0';
			return 1;
		}
		if (!is_alnum(c) && c != '+' && c != '-' && c != '.')
			return 0;
		out[i] = (char)lower(c);
	}
	return 0;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
link_url_host(const char *url, size_t len, char *out, size_t outsz,
    int *userinfo)
{
	char scheme[SCHEME_MAX];
	size_t i = 0, a, e, h, o = 0;

	*userinfo = 0;
	if (outsz == 0)
		return 0;
	out[0] = '\0';
	if (url_scheme(url, len, scheme, sizeof(scheme))) {
		i = strlen(scheme) + 1;
		if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0 &&
		    strcmp(scheme, "ftp") != 0)
			return 0;
		/* Browsers accept any mix of / and \ (and their number). */
		while (i < len && (url[i] == '/' || url[i] == '\\'))
			i++;
	} else if (len >= 2 && url[0] == '/' && url[1] == '/') {
		i = 2;
	} else if (!prefix_ci(url, len, "www.")) {
		return 0;
	}
	a = i;
	/* the authority's end, and its userinfo: up to the last '@' in it */
	for (e = h = a; e < len; e++) {
		char c = url[e];

		if (c == '/' || c == '\\' || c == '?' || c == '#')
			break;
		if (c == '@')
			h = e + 1;
	}
	if (h > a)
		*userinfo = 1;
	if (h < e && url[h] == '[') {
		for (i = h; i < e && url[i] != ']'; i++)
			;
		e = i < e ? i + 1 : e;
	} else {
		for (i = h; i < e && url[i] != ':'; i++)
			;
		e = i;
	}
	for (i = h; i < e && o + 1 < outsz; i++) {
		int c = (unsigned char)url[i];

		if (c == '%' && i + 2 < e && hexval(url[i + 1]) >= 0 &&
		    hexval(url[i + 2]) >= 0) {
			c = hexval(url[i + 1]) * 16 + hexval(url[i + 2]);
			i += 2;
		}
		out[o++] = (char)lower(c);
	}
	while (o > 0 && out[o - 1] == '.')
		o--;
	out[o] = '\0';
	return o > 0;
}

int
link_host_is_ip(const char *host)
{
	const char *p = host;
	int parts = 0;

	if (host[0] == '[')
		return 1;
	if (*p == '\0')
		return 0;
	while (*p) {
		const char *s = p;

		if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
			p += 2;
			while (isxdigit((unsigned char)*p))
				p++;
		} else {
			while (*p >= '0' && *p <= '9')
				p++;
			if (p == s)
				return 0;
		}
		if (*p != '.' && *p != '\0')
			return 0;
		if (++parts > 4)
			return 0;
		if (*p == '.')
			p++;
	}
	return 1;
}

/* ---- punycode ---- */

/*
 * RFC 3492 decoder for one label without its "xn--" prefix. Writes up to
 * outmax code points; returns the count, or -1 for invalid input.
 */
static int
punycode_decode(const char *in, size_t n, uint32_t *out, size_t outmax)
{
	const uint32_t base = 36, tmin = 1, tmax = 26, skew = 38, damp = 700;
	uint32_t nn = 128, bias = 72, i = 0;
	size_t b = 0, j, in_pos, outlen = 0;

	for (j = 0; j < n; j++)
		if (in[j] == '-')
			b = j;
	if (b > outmax)
		return -1;
	for (j = 0; j < b; j++) {
		if ((unsigned char)in[j] >= 0x80)
			return -1;
		out[outlen++] = (unsigned char)in[j];
	}
	for (in_pos = b > 0 ? b + 1 : 0; in_pos < n;) {
		uint32_t oldi = i, w = 1, k, delta, numpoints;

		for (k = base;; k += base) {
			int c, digit;
			uint32_t t;

			if (in_pos >= n)
				return -1;
			c = lower((unsigned char)in[in_pos++]);
			if (c >= 'a' && c <= 'z')
				digit = c - 'a';
			else if (c >= '0' && c <= '9')
				digit = c - '0' + 26;
			else
				return -1;
			if ((uint32_t)digit > (UINT32_MAX - i) / w)
				return -1;
			i += (uint32_t)digit * w;
			t = k <= bias ? tmin : k >= bias + tmax ? tmax : k - bias;
			if ((uint32_t)digit < t)
				break;
			if (w > UINT32_MAX / (base - t))
				return -1;
			w *= base - t;
		}
		numpoints = (uint32_t)outlen + 1;
		delta = oldi == 0 ? (i - oldi) / damp : (i - oldi) / 2;
		delta += delta / numpoints;
		for (k = 0; delta > ((base - tmin) * tmax) / 2; k += base)
			delta /= base - tmin;
		bias = k + (base - tmin + 1) * delta / (delta + skew);
		if (i / numpoints > 0x10ffff - nn)
			return -1;
		nn += i / numpoints;
		i %= numpoints;
		if (outlen >= outmax || nn > 0x10ffff)
			return -1;
		memmove(out + i + 1, out + i, (outlen - i) * sizeof(*out));
		out[i++] = nn;
		outlen++;
	}
	return (int)outlen;
}

/* Scripts with letters that pass for Latin ones. */
static int
cp_confusable_script(uint32_t cp)
{
	return (cp >= 0x0370 && cp <= 0x03ff) ||	/* Greek */
	    (cp >= 0x0400 && cp <= 0x052f) ||		/* Cyrillic */
	    (cp >= 0x0530 && cp <= 0x058f) ||		/* Armenian */
	    (cp >= 0x13a0 && cp <= 0x13ff);		/* Cherokee */
}

/* Letters of those scripts that look like a Latin letter. */
static int
cp_latin_lookalike(uint32_t cp)
{
	static const uint32_t set[] = {
		/* Cyrillic а в е к м н о р с т у х ѕ і ј һ ӏ ԁ ԛ ԝ ү ѡ */
		0x0430, 0x0432, 0x0435, 0x043a, 0x043c, 0x043d, 0x043e, 0x0440,
		0x0441, 0x0442, 0x0443, 0x0445, 0x0455, 0x0456, 0x0458, 0x04bb,
		0x04cf, 0x0501, 0x051b, 0x051d, 0x04af, 0x0461,
		/* Greek α ι κ ν ο ρ τ υ χ */
		0x03b1, 0x03b9, 0x03ba, 0x03bd, 0x03bf, 0x03c1, 0x03c4, 0x03c5,
		0x03c7,
		/* Armenian օ ս ց */
		0x0585, 0x057d, 0x0581,
	};
	size_t i;

	for (i = 0; i < sizeof(set) / sizeof(set[0]); i++)
		if (set[i] == cp)
			return 1;
	return 0;
}

int
link_host_is_punycode_mixed(const char *host)
{
	uint32_t cps[64];
	const char *p = host, *last;
	int ascii_tld;

	/* nearly every host has no A-label at all */
	for (; *p != '\0'; p++)
		if ((p[0] | 0x20) == 'x' && (p[1] | 0x20) == 'n' &&
		    p[2] == '-' && p[3] == '-')
			break;
	if (*p == '\0')
		return 0;
	p = host;
	last = strrchr(host, '.');
	ascii_tld = last != NULL && strncmp(last + 1, "xn--", 4) != 0;

	while (*p) {
		const char *end = strchr(p, '.');
		size_t l = end ? (size_t)(end - p) : strlen(p);

		if (l > 4 && strncasecmp(p, "xn--", 4) == 0) {
			int n = punycode_decode(p + 4, l - 4, cps, 64), k;
			int ascii_letters = 0, confusable = 0, lookalike = 0;
			int other = 0;

			if (n <= 0)
				return 1;		/* (c) */
			for (k = 0; k < n; k++) {
				uint32_t cp = cps[k];

				if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z'))
					ascii_letters++;
				else if ((cp >= '0' && cp <= '9') || cp == '-')
					;
				else if (cp_confusable_script(cp)) {
					confusable++;
					lookalike += cp_latin_lookalike(cp);
				} else
					other++;
			}
			if (confusable == 0 && other == 0)
				return 1;		/* (c) all ASCII: not an A-label */
			if (ascii_letters > 0 && confusable > 0)
				return 1;		/* (a) */
			if (ascii_letters == 0 && other == 0 && confusable > 0 &&
			    lookalike == confusable && ascii_tld && end != NULL)
				return 1;		/* (b) */
		}
		p += l;
		if (*p == '.')
			p++;
	}
	return 0;
}

/*
 * host with its valid "xn--" labels decoded to UTF-8, into out (cut at
 * outsz). Other labels are copied as they are.
 */
static void
host_utf8(const char *host, char *out, size_t outsz)
{
	uint32_t cps[64];
	const char *p = host;
	size_t o = 0;

	while (*p && o + 1 < outsz) {
		const char *end = strchr(p, '.');
		size_t l = end ? (size_t)(end - p) : strlen(p), k;
		int n = -1;

		if (l > 4 && strncasecmp(p, "xn--", 4) == 0)
			n = punycode_decode(p + 4, l - 4, cps, 64);
		if (n > 0) {
			for (k = 0; k < (size_t)n && o + 5 < outsz; k++)
				o += put_utf8(out + o, cps[k] < 0x80 ?
				    (uint32_t)lower((int)cps[k]) : cps[k]);
		} else {
			for (k = 0; k < l && o + 1 < outsz; k++)
				out[o++] = p[k];
		}
		p += l;
		if (*p == '.' && o + 1 < outsz) {
			out[o++] = '.';
			p++;
		}
	}
	out[o] = '\0';
}

/* ---- the checks ---- */

enum {
	FIRE_SHORTENER = 1u << 0,
	FIRE_IP = 1u << 1,
	FIRE_USERINFO = 1u << 2,
	FIRE_MISMATCH = 1u << 3,
	FIRE_SCHEME = 1u << 4,
	FIRE_PUNY = 1u << 5,
};

static int
fire(struct link_state *st, struct findings *f, unsigned bit, const char *id,
    const char *detail)
{
	if (st->fired & bit)
		return 0;
	st->fired |= bit;
	return findings_add(f, id, "%s", detail);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
is_shortener(const struct content_config *cc, const char *host)
{
	const char *p = host;

	if (cc->nshorteners == 0)
		return 0;
	for (;;) {
		if (bsearch(&p, cc->shorteners, cc->nshorteners, sizeof(char *),
		    cmp_str) != NULL)
			return 1;
		if ((p = strchr(p, '.')) == NULL)
			return 0;
		p++;
	}
}

/* Registrable domain of host (a pointer into host). */
static const char *
registrable(const struct content_config *cc, const char *host)
{
	const char *r = NULL;

	if (host[0] == '[' || link_host_is_ip(host))
		return host;
	if (cc->psl != NULL)
		r = psl_registrable_domain(cc->psl, host);
	return r ? r : host;
}

/*
 * The label a registrable domain has before its public suffix: "example"
 * for "example.co.za" and "example.com", copied into out. One brand across
 * public suffixes ("example.co.za" shown, "example.com" linked) is one
 * sender, not a disguise.
 */
static void
brand_label(const char *reg, char *out, size_t outsz)
{
	const char *dot = strchr(reg, '.');
	size_t n = dot != NULL ? (size_t)(dot - reg) : strlen(reg);

	if (n >= outsz)
		n = outsz - 1;
	memcpy(out, reg, n);
	out[n] = '\0';
}

/*
 * Does the link carry the shown host in its path or query, percent-decoded
 * (once or twice)? Only the part after the authority counts (a user name
 * "www.bank.example@evil.example" is a disguise). Tracking wrappers do: "https://click.mailer.example/
 * ?u=https%3A%2F%2Fwww.shop.example%2F" shown as "www.shop.example".
 */
static int
url_carries_host(const char *url, size_t len, const char *host)
{
	char a[2048], b[2048];
	size_t i, o, hl = strlen(host);
	int pass;

	const char *sep = memmem(url, len, "://", 3);

	if (hl == 0)
		return 0;
	/* only the path, query and fragment: the authority is what links */
	if (sep != NULL) {
		const char *q = sep + 3, *end = url + len;

		while (q < end && *q != '/' && *q != '?' && *q != '#')
			q++;
		len = (size_t)(end - q);
		url = q;
	}
	if (len >= sizeof(a))
		len = sizeof(a) - 1;
	memcpy(a, url, len);
	a[len] = '\0';
	for (pass = 0; pass < 2; pass++) {
		if (strcasestr(a, host) != NULL)
			return 1;
		for (i = o = 0; a[i] != '\0' && o + 1 < sizeof(b); i++) {
			if (a[i] == '%' && isxdigit((unsigned char)a[i + 1]) &&
			    isxdigit((unsigned char)a[i + 2])) {
				char hx[3] = { a[i + 1], a[i + 2], '\0' };

				b[o++] = (char)strtol(hx, NULL, 16);
				i += 2;
			} else
				b[o++] = a[i] == '+' ? ' ' : a[i];
		}
		b[o] = '\0';
		memcpy(a, b, o + 1);
	}
	return strcasestr(a, host) != NULL;
}

/*
 * The host anchor text shows, when the whole text looks like a URL or a
 * domain name ("www.bank.example", "bank.example/login"), or when it holds
 * an http(s)/www URL somewhere. Returns 1 and fills out.
 */
static int
anchor_host(const struct content_config *cc, const char *text, char *out,
    size_t outsz)
{
	char t[CONTENT_ANCHOR_MAX * 2];
	size_t n = strlen(text), s = 0, i, o, dots = 0;
	int ui;
	const char *suffix;

	/* every host read below has a '.' (a name) or a ':' (a scheme, an
	 * IPv6 literal): most anchor texts are words */
	if (strpbrk(text, ".:") == NULL)
		return 0;
	if (n >= sizeof(t))
		n = sizeof(t) - 1;
	while (s < n && strchr(" <([\"'", text[s]) != NULL)
		s++;
	while (n > s && strchr(" >)]\"'.,:;!", text[n - 1]) != NULL)
		n--;
	for (i = s, o = 0; i < n; i++)
		t[o++] = (char)lower((unsigned char)text[i]);
	t[o] = '\0';
	if (bare_url_start(t, o) > 0) {
		/* "www.example.com report 8": the URL ends at white space. */
		for (i = 0; i < o && !isspace((unsigned char)t[i]); i++)
			;
		return link_url_host(t, i, out, outsz, &ui);
	}
	/* a bare domain name, optionally followed by a path */
	for (i = 0; i < o && t[i] != '/'; i++) {
		int c = (unsigned char)t[i];

		if (c == '.')
			dots++;
		else if (!is_alnum(c) && c != '-' && c < 0x80)
			break;
	}
	if (i == o || t[i] == '/') {
		if (dots == 0 || i >= outsz || t[0] == '.' || t[i - 1] == '.')
			goto search;
		memcpy(out, t, i);
		out[i] = '\0';
		if (link_host_is_ip(out))
			return 1;
		if (cc->psl == NULL)
			goto search;
		suffix = psl_unregistrable_domain(cc->psl, out);
		if (suffix != NULL && suffix != out &&
		    psl_is_public_suffix2(cc->psl, suffix,
		    PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE))
			return 1;
	}
search:
	for (i = 0; i < o; i++) {
		size_t e;

		if (i > 0 && (is_alnum((unsigned char)t[i - 1]) || t[i - 1] == '.'))
			continue;
		if (bare_url_start(t + i, o - i) == 0)
			continue;
		for (e = i; e < o && t[e] != ' '; e++)
			;
		return link_url_host(t + i, e - i, out, outsz, &ui);
	}
	return 0;
}

int
link_check(const struct content_config *cc, struct link_state *st,
    struct findings *f, const char *url, size_t len, const char *anchor,
    const char *attr)
{
	char scheme[SCHEME_MAX], host[HOST_MAX], ahost[HOST_MAX];
	int userinfo;

	if (url_scheme(url, len, scheme, sizeof(scheme))) {
		int bad = strcmp(scheme, "javascript") == 0 ||
		    strcmp(scheme, "vbscript") == 0 ||
		    strcmp(scheme, "file") == 0;

		/* data: images in src= are how HTML mail inlines pictures. */
		if (strcmp(scheme, "data") == 0)
			bad = !(attr != NULL && strcmp(attr, "src") == 0 &&
			    prefix_ci(url + 5, len - 5, "image/"));
		if (bad && fire(st, f, FIRE_SCHEME, "content.url.scheme",
		    scheme) != 0)
			return -1;
	}
	if (!link_url_host(url, len, host, sizeof(host), &userinfo))
		return 0;
	st->count++;
	if (userinfo && fire(st, f, FIRE_USERINFO, "content.url.userinfo",
	    host) != 0)
		return -1;
	if (link_host_is_ip(host) && fire(st, f, FIRE_IP,
	    "content.url.ip_literal", host) != 0)
		return -1;
	if (is_shortener(cc, host) && fire(st, f, FIRE_SHORTENER,
	    "content.url.shortener", host) != 0)
		return -1;
	if (link_host_is_punycode_mixed(host) && fire(st, f, FIRE_PUNY,
	    "content.url.punycode_mixed", host) != 0)
		return -1;
	if (anchor != NULL && anchor[0] != '\0' &&
	    anchor_host(cc, anchor, ahost, sizeof(ahost))) {
		char ut[HOST_MAX * 2], uh[HOST_MAX * 2];
		const char *rt, *rh;

		/* compare IDNs in one form: "bücher.example" = "xn--bcher-kva..." */
		host_utf8(ahost, ut, sizeof(ut));
		host_utf8(host, uh, sizeof(uh));
		rt = registrable(cc, ut);
		rh = registrable(cc, uh);

		if (strcmp(rt, rh) != 0) {
			char bt[HOST_MAX], bh[HOST_MAX];

			brand_label(rt, bt, sizeof(bt));
			brand_label(rh, bh, sizeof(bh));
			/* one brand on two suffixes, or a tracking wrapper */
			if (strcmp(bt, bh) == 0 && bt[0] != '\0')
				return 0;
			if (url_carries_host(url, len, registrable(cc, ahost)))
				return 0;
		}
		if (strcmp(rt, rh) != 0) {
			if ((st->fired & FIRE_MISMATCH) == 0) {
				st->fired |= FIRE_MISMATCH;
				/* the detail shows the hosts as written */
				if (findings_add(f, "content.url.text_mismatch",
				    "%s -> %s", registrable(cc, ahost),
				    registrable(cc, host)) != 0)
					return -1;
			}
		}
	}
	return 0;
}
