/*
 * dsn_charset - bounce text in other charsets, read as UTF-8.
 *
 * Bounces from Japanese, Chinese, Russian and European servers are written
 * in ISO-2022-JP, GB2312, Shift_JIS, KOI8-R, Latin-1 and the like, in the
 * text parts and in RFC 2047 encoded words of the notice's fields. The
 * classifier's patterns and the log and JSON output are UTF-8, so the text
 * is converted first, with iconv(3) from the C library.
 *
 * iconv is pure in the sense the core needs (DESIGN.md): a library call
 * that does no I/O, reads no clock and keeps no state visible to us
 * between calls; each conversion opens and closes its own descriptor, so
 * threads share nothing. Output is bounded by the buffer's own maximum:
 * reaching it ends the conversion (the text is cut, never overrun).
 * Invalid or unconvertible input becomes U+FFFD and the conversion goes on
 * at the next byte; an unknown charset leaves the bytes as they are, with
 * every byte that is not printable ASCII made U+FFFD (valid UTF-8 is kept).
 */
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "egress/buf.h"

#include "bytescan.h"
#include "dsn_int.h"

#define REPLACEMENT	"\xef\xbf\xbd"	/* U+FFFD */
#define CONV_SLICE	4096		/* bytes converted per iconv() call */

/* Charset labels that mean plain ASCII or UTF-8 already. */
static int
is_utf8_or_ascii(const char *cs)
{
	return cs == NULL || cs[0] == '\0' || dsn_streq_ci(cs, "utf-8") ||
	    dsn_streq_ci(cs, "utf8") || dsn_streq_ci(cs, "us-ascii") ||
	    dsn_streq_ci(cs, "ascii") || dsn_streq_ci(cs, "ansi_x3.4-1968");
}

/*
 * The name to give iconv: supersets where senders mislabel (GB2312 text is
 * often GBK, Latin-1 text often Windows-1252, Shift_JIS often CP932).
 */
static const char *
iconv_name(const char *cs)
{
	static const struct {
		const char	*label;
		const char	*name;
	} map[] = {
		{ "gb2312", "GB18030" }, { "gbk", "GB18030" },
		{ "x-gbk", "GB18030" }, { "cp936", "GB18030" },
		{ "iso-8859-1", "CP1252" }, { "latin1", "CP1252" },
		{ "iso_8859-1", "CP1252" }, { "shift_jis", "CP932" },
		{ "shift-jis", "CP932" }, { "x-sjis", "CP932" },
		{ "sjis", "CP932" }, { "iso-2022-jp", "ISO-2022-JP-3" },
		{ "ks_c_5601-1987", "CP949" }, { "euc-kr", "CP949" },
		{ "big5", "BIG5-HKSCS" },
		/* Exchange 2000/2003 label their notices so; iconv knows UTF-7 */
		{ "unicode-1-1-utf-7", "UTF-7" }, { "x-unicode-2-0-utf-7", "UTF-7" },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (dsn_streq_ci(cs, map[i].label))
			return map[i].name;
	return cs;
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* overlongs and surrogates */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return len;
}

/* copy_utf8() a sequence at a time: what a run that did not fit gets. */
static int
copy_seqs(struct buf *out, const char *s, size_t n)
{
	size_t i = 0;
	int rc;

	while (i < n) {
		size_t k = utf8_seq((const unsigned char *)s + i, n - i);

		if (k == 0) {
			if ((rc = buf_puts(out, REPLACEMENT)) != BUF_OK)
				return rc;
			i++;
			continue;
		}
		if ((rc = buf_append(out, s + i, k)) != BUF_OK)
			return rc;
		i += k;
	}
	return BUF_OK;
}

/*
 * Copy s keeping valid UTF-8 and replacing every invalid byte. A run of
 * valid sequences (ASCII skipped 16 bytes at a time) goes in one append;
 * when that append fails the buffer is as before it, and the run goes again
 * a sequence at a time, so a limit cuts it at the same sequence as always.
 */
static int
copy_utf8(struct buf *out, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, j, k;
	int rc;

	while (i < n) {
		for (j = i;;) {
			j += bytescan_high(s + j, n - j);
			if (j == n || (k = utf8_seq(u + j, n - j)) == 0)
				break;
			j += k;
		}
		if (j > i) {
			if (buf_append(out, s + i, j - i) != BUF_OK &&
			    (rc = copy_seqs(out, s + i, j - i)) != BUF_OK)
				return rc;
			i = j;
			continue;
		}
		if ((rc = buf_puts(out, REPLACEMENT)) != BUF_OK)
			return rc;
		i++;
	}
	return BUF_OK;
}

/*
 * Any byte that needs converting (8-bit, ESC for ISO-2022, '+' opening a
 * UTF-7 run: "kijitora+AEA-example.com")?
 */
static int
needs_conversion(const char *cs, const char *s, size_t n)
{
	return bytescan_high(s, n) < n || memchr(s, 0x1b, n) != NULL ||
	    (cs != NULL && dsn_streq_ci(iconv_name(cs), "UTF-7") &&
	    memchr(s, '+', n) != NULL);
}

int
dsn_to_utf8(struct buf *out, const char *charset, const char *s, size_t n)
{
	char slice[CONV_SLICE];
	iconv_t cd;
	char *in = (char *)(uintptr_t)s;
	size_t left = n;
	int rc = BUF_OK;

	if (!needs_conversion(charset, s, n) || is_utf8_or_ascii(charset))
		return copy_utf8(out, s, n);
	if ((cd = iconv_open("UTF-8", iconv_name(charset))) == (iconv_t)-1)
		return copy_utf8(out, s, n);	/* unknown charset */
	while (left > 0 && rc == BUF_OK) {
		char *o = slice;
		size_t room = sizeof(slice), r;

		r = iconv(cd, &in, &left, &o, &room);
		if (o > slice)
			rc = buf_append(out, slice, (size_t)(o - slice));
		if (r != (size_t)-1 || rc != BUF_OK)
			continue;
		if (errno == E2BIG)
			continue;	/* the slice was full: go on */
		/* EILSEQ, or EINVAL (cut short): mark it, skip one byte */
		rc = buf_puts(out, REPLACEMENT);
		in++;
		left--;
		/* reset the shift state after a bad sequence */
		(void)iconv(cd, NULL, NULL, NULL, NULL);
	}
	/* flush a stateful encoding's final shift sequence */
	if (rc == BUF_OK) {
		char *o = slice;
		size_t room = sizeof(slice);

		(void)iconv(cd, NULL, NULL, &o, &room);
		if (o > slice)
			rc = buf_append(out, slice, (size_t)(o - slice));
	}
	iconv_close(cd);
	return rc;
}

/* ---- RFC 2047 encoded words ---- */

static int
b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int
hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode the text of one word into raw (at most n bytes come out). */
static size_t
word_decode(char *raw, int enc, const char *t, size_t n)
{
	size_t i, k = 0;
	unsigned acc = 0;
	int bits = 0;

	for (i = 0; i < n; i++) {
		if (enc == 'B') {
			int v = b64_value((unsigned char)t[i]);

			if (v < 0)
				continue;
			acc = (acc << 6) | (unsigned)v;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				raw[k++] = (char)((acc >> bits) & 0xff);
			}
		} else if (t[i] == '_')
			raw[k++] = ' ';
		else if (t[i] == '=' && i + 2 < n && hex_value((unsigned char)t[i + 1]) >= 0 &&
		    hex_value((unsigned char)t[i + 2]) >= 0) {
			raw[k++] = (char)(hex_value((unsigned char)t[i + 1]) * 16 +
			    hex_value((unsigned char)t[i + 2]));
			i += 2;
		} else
			raw[k++] = t[i];
	}
	return k;
}

/*
 * "=?charset[*lang]?B|Q?text?=" at s: sets the parts and returns the
 * length of the word, or 0.
 */
static size_t
word_at(const char *s, size_t n, const char **cs, size_t *csn, int *enc,
    const char **text, size_t *textn)
{
	size_t i = 2, c0;

	if (n < 8 || s[0] != '=' || s[1] != '?')
		return 0;
	c0 = i;
	while (i < n && s[i] != '?' && s[i] != ' ' && i - c0 < 64)
		i++;
	if (i + 3 >= n || s[i] != '?' || i == c0)
		return 0;
	*cs = s + c0;
	*csn = i - c0;
	*enc = s[i + 1] == 'b' || s[i + 1] == 'B' ? 'B' :
	    s[i + 1] == 'q' || s[i + 1] == 'Q' ? 'Q' : 0;
	if (*enc == 0 || s[i + 2] != '?')
		return 0;
	i += 3;
	*text = s + i;
	while (i + 1 < n && !(s[i] == '?' && s[i + 1] == '='))
		i++;
	if (i + 1 >= n)
		return 0;
	*textn = (size_t)(s + i - *text);
	return i + 2;
}

int
dsn_words_to_utf8(struct buf *out, const char *value)
{
	size_t n = strlen(value), i = 0, plain = 0;
	int rc = BUF_OK, last_word = 0;

	while (i < n && rc == BUF_OK) {
		const char *cs, *text;
		size_t csn, textn, wl;
		int enc;

		if (value[i] != '=' || (wl = word_at(value + i, n - i, &cs, &csn,
		    &enc, &text, &textn)) == 0) {
			i++;
			continue;
		}
		/* text before the word; blanks between two words vanish */
		if (i > plain && !(last_word &&
		    strspn(value + plain, " \t\r\n") >= i - plain))
			rc = copy_utf8(out, value + plain, i - plain);
		if (rc == BUF_OK) {
			char name[65], *raw;
			size_t k;

			memcpy(name, cs, csn);
			name[csn] = '\0';
			/* RFC 2231 language suffix */
			if (strchr(name, '*'))
				*strchr(name, '*') = '\0';
			if ((raw = malloc(textn + 1)) == NULL)
				return BUF_ERR_NOMEM;
			k = word_decode(raw, enc, text, textn);
			rc = dsn_to_utf8(out, name, raw, k);
			free(raw);
		}
		i += wl;
		plain = i;
		last_word = 1;
	}
	if (rc == BUF_OK && plain < n)
		rc = copy_utf8(out, value + plain, n - plain);
	return rc;
}
