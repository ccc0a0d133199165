/*
 * mime_decode.c - MIME decoders: base64 and quoted-printable (streaming, with
 * a fixed-size state so any chunking gives the same bytes), RFC 2047 encoded
 * words, and header-field helpers for Content-Type style values with RFC 2231
 * parameters.
 *
 * Hostile input is never an error here: bad base64 is skipped and flagged,
 * bad quoted-printable escapes pass through literally, malformed encoded
 * words are kept as they are. Charsets are not converted; decoded bytes are
 * passed through. The only failures are those of the output buffer.
 *
 * No globals besides constant tables; reentrant.
 */
#include <stdint.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__) && !defined(EGRESS_NO_AVX2)
#include <immintrin.h>
#define B64_AVX2	1	/* built in; used where the CPU has AVX2 */
#endif

#include "egress/buf.h"
#include "egress/mime.h"
#include "mime_int.h"
#include "bytescan.h"


/* Sections of one RFC 2231 continued parameter that are kept. */
#define PARAM_SECTIONS_MAX	64
#define PARAM_SECTION_INDEX_MAX	999

/* base64 alphabet value + B64_OFF; B64_T_WS, B64_T_PAD; 0 for garbage */
#define B64_OFF		4
#define B64_T_WS	2
#define B64_T_PAD	3

static const unsigned char b64_tab[256] = {
	['A'] = 4, ['B'] = 5, ['C'] = 6, ['D'] = 7, ['E'] = 8, ['F'] = 9,
	['G'] = 10, ['H'] = 11, ['I'] = 12, ['J'] = 13, ['K'] = 14,
	['L'] = 15, ['M'] = 16, ['N'] = 17, ['O'] = 18, ['P'] = 19,
	['Q'] = 20, ['R'] = 21, ['S'] = 22, ['T'] = 23, ['U'] = 24,
	['V'] = 25, ['W'] = 26, ['X'] = 27, ['Y'] = 28, ['Z'] = 29,
	['a'] = 30, ['b'] = 31, ['c'] = 32, ['d'] = 33, ['e'] = 34,
	['f'] = 35, ['g'] = 36, ['h'] = 37, ['i'] = 38, ['j'] = 39,
	['k'] = 40, ['l'] = 41, ['m'] = 42, ['n'] = 43, ['o'] = 44,
	['p'] = 45, ['q'] = 46, ['r'] = 47, ['s'] = 48, ['t'] = 49,
	['u'] = 50, ['v'] = 51, ['w'] = 52, ['x'] = 53, ['y'] = 54,
	['z'] = 55, ['0'] = 56, ['1'] = 57, ['2'] = 58, ['3'] = 59,
	['4'] = 60, ['5'] = 61, ['6'] = 62, ['7'] = 63, ['8'] = 64,
	['9'] = 65, ['+'] = 66, ['/'] = 67, [' '] = 2, ['\t'] = 2, ['\r'] = 2,
	['\n'] = 2, ['='] = 3,
};

static int
hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int
is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static unsigned char
lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* ---- base64 ---------------------------------------------------------- */

#ifdef __SSE2__
/* 0xff in each byte of x within [lo, hi] (both below 0x80), else 0 */
static inline __m128i
b64_in_range(__m128i x, char lo, char hi)
{
	return _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8((char)(lo - 1))),
	    _mm_cmpgt_epi8(_mm_set1_epi8((char)(hi + 1)), x));
}

/* Two 24-bit groups in the low halves of x's 32-bit lanes: 6 bytes. */
static inline void
b64_put6(char *out, uint64_t x)
{
	uint64_t w = (x & 0xffffff) << 24 | (x >> 32 & 0xffffff);

	w = __builtin_bswap64(w << 16);		/* x86 is little-endian */
	memcpy(out, &w, 6);
}

/*
 * 16 base64 data characters at p into 12 bytes at out, 16 at a time with
 * SSE2 (in every x86-64 CPU). Returns 0, writing nothing, when any of the
 * 16 is not a data character (white space, "=", garbage): the byte-wise
 * code below takes over there.
 */
static inline int
b64_block16(const unsigned char *p, char *out)
{
	const __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
	const __m128i up = b64_in_range(x, 'A', 'Z'),
	    lo = b64_in_range(x, 'a', 'z'), dg = b64_in_range(x, '0', '9'),
	    pl = _mm_cmpeq_epi8(x, _mm_set1_epi8('+')),
	    sl = _mm_cmpeq_epi8(x, _mm_set1_epi8('/'));
	__m128i v, w;

	if (_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(up, lo),
	    _mm_or_si128(_mm_or_si128(dg, pl), sl))) != 0xffff)
		return 0;
	/* the value: A-Z 0..25, a-z 26..51, 0-9 52..61, + 62, / 63 */
	v = _mm_add_epi8(x, _mm_or_si128(_mm_or_si128(
	    _mm_and_si128(up, _mm_set1_epi8(-'A')),
	    _mm_and_si128(lo, _mm_set1_epi8(26 - 'a'))),
	    _mm_or_si128(_mm_or_si128(
	    _mm_and_si128(dg, _mm_set1_epi8(52 - '0')),
	    _mm_and_si128(pl, _mm_set1_epi8(62 - '+'))),
	    _mm_and_si128(sl, _mm_set1_epi8(63 - '/')))));
	/* pairs of 6 bits into 12 in each 16-bit lane, first one high */
	w = _mm_or_si128(_mm_slli_epi16(_mm_and_si128(v,
	    _mm_set1_epi16(0x00ff)), 6), _mm_srli_epi16(v, 8));
	/* pairs of 12 into 24 in each 32-bit lane: first * 4096 + second */
	w = _mm_madd_epi16(w, _mm_set1_epi32(0x00011000));
	b64_put6(out, (uint64_t)_mm_cvtsi128_si64(w));
	b64_put6(out + 6, (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(w, w)));
	return 1;
}
#endif

#ifdef B64_AVX2
/*
 * Whole blocks of 32 data characters at p (at most n of them) into 24
 * bytes each at out, with AVX2; returns the characters used, stopping
 * before the first block holding anything else. Only called where
 * __builtin_cpu_supports("avx2"). Each block stores 32 bytes (the last 8
 * are overwritten by the next block or left beyond the output: out has
 * room for as many bytes as there are characters in, see mime_int.h).
 *
 * Validity: a byte is a data character when its low nibble's set of
 * forbidden high nibbles (lo_bad) misses its high nibble (hi_bit):
 *   high 2: "+" (low B) and "/" (low F); high 3: digits (low 0-9);
 *   high 4 and 6: letters (low 1-F); high 5 and 7: letters (low 0-A);
 *   high 0, 1 and 8-F: never (bit 0x10, in every lo_bad entry).
 * The value: the byte plus an offset picked by its high nibble, "/" moved
 * down one slot so "+" (19) and "/" (16) get their own.
 */
__attribute__((target("avx2"))) static size_t
b64_blocks32(const unsigned char *p, size_t n, char *out)
{
	const __m256i lo_bad = _mm256_setr_epi8(
	    0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	    0x11, 0x11, 0x13, 0x1a, 0x1b, 0x1b, 0x1b, 0x1a,
	    0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	    0x11, 0x11, 0x13, 0x1a, 0x1b, 0x1b, 0x1b, 0x1a);
	const __m256i hi_bit = _mm256_setr_epi8(
	    0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08,
	    0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10,
	    0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08,
	    0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10);
	const __m256i shift = _mm256_setr_epi8(
	    0, 63 - '/', 62 - '+', 52 - '0', -'A', -'A', 26 - 'a', 26 - 'a',
	    0, 0, 0, 0, 0, 0, 0, 0,
	    0, 63 - '/', 62 - '+', 52 - '0', -'A', -'A', 26 - 'a', 26 - 'a',
	    0, 0, 0, 0, 0, 0, 0, 0);
	/* per 128-bit lane: the three bytes of each 32-bit group, high first */
	const __m256i order = _mm256_setr_epi8(
	    2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1,
	    2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
	const __m256i nib = _mm256_set1_epi8(0x0f), slash = _mm256_set1_epi8('/');
	const __m256i pack = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7);
	size_t i = 0;

	for (; i + 32 <= n; i += 32) {
		__m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(p + i));
		__m256i hi = _mm256_and_si256(_mm256_srli_epi32(x, 4), nib);
		__m256i bad = _mm256_and_si256(
		    _mm256_shuffle_epi8(lo_bad, _mm256_and_si256(x, nib)),
		    _mm256_shuffle_epi8(hi_bit, hi));

		if (!_mm256_testz_si256(bad, bad))
			break;
		x = _mm256_add_epi8(x, _mm256_shuffle_epi8(shift,
		    _mm256_add_epi8(hi, _mm256_cmpeq_epi8(x, slash))));
		/* 6+6 bits into 12 per 16-bit lane, 12+12 into 24 per 32 */
		x = _mm256_maddubs_epi16(x, _mm256_set1_epi32(0x01400140));
		x = _mm256_madd_epi16(x, _mm256_set1_epi32(0x00011000));
		x = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(x, order),
		    pack);
		_mm256_storeu_si256((__m256i *)(void *)(out + i / 4 * 3), x);
	}
	return i;
}
#endif

void
mime_b64_init(struct mime_b64 *d)
{
	memset(d, 0, sizeof(*d));
}

/*
 * Base64 a line at a time leaves the block decoders a line's worth of data
 * each (76 characters: two AVX2 blocks, then the scalar tail, then CRLF
 * byte by byte). Line ends are no-ops to the decoder in every state, so
 * mime_b64_step() gathers the data between them into runs of up to
 * B64_GATHER characters and decodes each run whole: same bytes out, same
 * state after. Lines are taken to be as long as the one before when a CRLF
 * stands there; a line end the guess lets through inside a run is still a
 * no-op to the decoder.
 */
#define B64_GATHER	2048
#define B64_GATHER_MIN	128	/* shorter inputs are decoded as they are */
/* a line up to this long is copied as this many bytes: a few vector moves
 * instead of a call (the bytes past it are overwritten or never read) */
#define B64_LINE_COPY	96

static size_t	b64_flat(struct mime_b64 *, const char *, size_t, char *);

size_t
mime_b64_step(struct mime_b64 *d, const char *in, size_t n, char *out)
{
	char run[B64_GATHER + B64_LINE_COPY];
	const char *p = in, *e = in + n;
	size_t o = 0, t = 0, seg, line = 0;

	if (n < B64_GATHER_MIN)
		return b64_flat(d, in, n, out);
	while (p < e) {
		if (line > 0 && (size_t)(e - p) > line + 1 && p[line] == '\r' &&
		    p[line + 1] == '\n')
			seg = line;
		else {
			seg = bytescan_any3(p, (size_t)(e - p), '\r', '\n', '\n');
			line = seg;
		}
		if (seg > B64_GATHER - t)
			seg = B64_GATHER - t;
		if (seg <= B64_LINE_COPY && (size_t)(e - p) >= B64_LINE_COPY)
			memcpy(run + t, p, B64_LINE_COPY);	/* a fixed size */
		else
			memcpy(run + t, p, seg);
		t += seg;
		p += seg;
		if (t == B64_GATHER) {
			o += b64_flat(d, run, t, out + o);
			t = 0;
		}
		while (p < e && (*p == '\r' || *p == '\n'))
			p++;
	}
	if (t > 0)
		o += b64_flat(d, run, t, out + o);
	return o;
}

/* mime_b64_step() over input as it stands. */
static size_t
b64_flat(struct mime_b64 *d, const char *in, size_t n, char *out)
{
	const unsigned char *p = (const unsigned char *)in, *e = p + n;
	size_t o = 0;
	unsigned t, a, b, c, v;

	while (p < e) {
		/*
		 * Fastest path: two whole quads of data characters at once. A
		 * data character's table value less B64_OFF is 0..63; anything
		 * else wraps to a value with higher bits set.
		 */
		/* d->n and d->done stay as they are in here: tested once */
		if (d->n == 0 && !d->done) {
#ifdef B64_AVX2
			if (e - p >= 32 && __builtin_cpu_supports("avx2")) {
				size_t k = b64_blocks32(p, (size_t)(e - p),
				    out + o);

				o += k / 4 * 3;
				p += k;
			}
#endif
#ifdef __SSE2__
			while (e - p >= 16 && b64_block16(p, out + o)) {
				o += 12;
				p += 16;
			}
#endif
			while (e - p >= 8) {
				unsigned t0 = (unsigned)b64_tab[p[0]] - B64_OFF,
				    t1 = (unsigned)b64_tab[p[1]] - B64_OFF,
				    t2 = (unsigned)b64_tab[p[2]] - B64_OFF,
				    t3 = (unsigned)b64_tab[p[3]] - B64_OFF,
				    t4 = (unsigned)b64_tab[p[4]] - B64_OFF,
				    t5 = (unsigned)b64_tab[p[5]] - B64_OFF,
				    t6 = (unsigned)b64_tab[p[6]] - B64_OFF,
				    t7 = (unsigned)b64_tab[p[7]] - B64_OFF;

				if (((t0 | t1 | t2 | t3 | t4 | t5 | t6 | t7) & ~63u) != 0)
					break;
				v = t0 << 18 | t1 << 12 | t2 << 6 | t3;
				out[o] = (char)(v >> 16);
				out[o + 1] = (char)(v >> 8);
				out[o + 2] = (char)v;
				v = t4 << 18 | t5 << 12 | t6 << 6 | t7;
				out[o + 3] = (char)(v >> 16);
				out[o + 4] = (char)(v >> 8);
				out[o + 5] = (char)v;
				o += 6;
				p += 8;
			}
		}
		if (p == e)
			break;
		/* Fast path: a whole quad of data characters. */
		if (d->n == 0 && !d->done && e - p >= 4 &&
		    (a = b64_tab[p[0]]) >= B64_OFF &&
		    (b = b64_tab[p[1]]) >= B64_OFF &&
		    (c = b64_tab[p[2]]) >= B64_OFF &&
		    (v = b64_tab[p[3]]) >= B64_OFF) {
			v = (a - B64_OFF) << 18 | (b - B64_OFF) << 12 |
			    (c - B64_OFF) << 6 | (v - B64_OFF);
			out[o++] = (char)(v >> 16);
			out[o++] = (char)(v >> 8);
			out[o++] = (char)v;
			p += 4;
			continue;
		}
		t = b64_tab[*p++];
		if (t == B64_T_WS)
			continue;
		if (d->done) {
			/* RFC 2045 6.8: "=" marks the end of the data. */
			if (t != B64_T_PAD)
				d->bad = 1;
			continue;
		}
		if (t == 0) {
			d->bad = 1;
			continue;
		}
		if (t == B64_T_PAD) {
			if (d->n == 2) {
				out[o++] = (char)(d->acc >> 4);
				d->done = 1;
			} else if (d->n == 3) {
				out[o++] = (char)(d->acc >> 10);
				out[o++] = (char)(d->acc >> 2);
				d->done = 1;
			} else
				d->bad = 1;	/* stray "=" */
			d->n = 0;
			d->acc = 0;
			continue;
		}
		d->acc = (d->acc << 6) | (t - B64_OFF);
		if (++d->n == 4) {
			out[o++] = (char)(d->acc >> 16);
			out[o++] = (char)(d->acc >> 8);
			out[o++] = (char)d->acc;
			d->n = 0;
			d->acc = 0;
		}
	}
	return o;
}

size_t
mime_b64_finish(struct mime_b64 *d, char *out)
{
	size_t o = 0;

	/* Missing padding is tolerated; a lone sixth of a byte is not. */
	if (d->n == 1)
		d->bad = 1;
	else if (d->n == 2)
		out[o++] = (char)(d->acc >> 4);
	else if (d->n == 3) {
		out[o++] = (char)(d->acc >> 10);
		out[o++] = (char)(d->acc >> 2);
	}
	d->n = 0;
	d->acc = 0;
	return o;
}

/* ---- quoted-printable ------------------------------------------------ */

enum {
	QP_TEXT = 0,
	QP_EQ,		/* "=" */
	QP_HEX,		/* "=H" */
	QP_WS,		/* "=" then white space: maybe a padded soft break */
	QP_CR,		/* "=" [ws] CR */
};

void
mime_qp_init(struct mime_qp *d)
{
	memset(d, 0, sizeof(*d));
}

static size_t
qp_flush_hold(struct mime_qp *d, char *out)
{
	size_t n = d->hlen;

	memcpy(out, d->hold, n);
	d->hlen = 0;
	d->state = QP_TEXT;
	return n;
}

size_t
mime_qp_step(struct mime_qp *d, const char *in, size_t n, char *out)
{
	size_t i, o = 0;
	unsigned char c;
	int h;

	for (i = 0; i < n; i++) {
		if (d->state == QP_TEXT && in[i] != '=') {
			/* plain text up to the next '=' is copied as it is */
			const char *eq = memchr(in + i, '=', n - i);
			size_t run = eq ? (size_t)(eq - (in + i)) : n - i;

			memcpy(out + o, in + i, run);
			o += run;
			i += run;
			if (i == n)
				break;
		}
		c = (unsigned char)in[i];
again:
		switch (d->state) {
		case QP_TEXT:
			if (c == '=') {
				d->hold[0] = '=';
				d->hlen = 1;
				d->state = QP_EQ;
			} else
				out[o++] = (char)c;
			break;
		case QP_EQ:
			if (hex_value(c) >= 0) {
				d->hold[d->hlen++] = (char)c;
				d->state = QP_HEX;
			} else if (c == '\n') {
				d->hlen = 0;		/* soft line break */
				d->state = QP_TEXT;
			} else if (c == '\r') {
				d->hold[d->hlen++] = (char)c;
				d->state = QP_CR;
			} else if (is_wsp(c)) {
				d->hold[d->hlen++] = (char)c;
				d->state = QP_WS;
			} else {
				/* Bad escape: pass "=" through, then c. */
				o += qp_flush_hold(d, out + o);
				goto again;
			}
			break;
		case QP_HEX:
			if ((h = hex_value(c)) >= 0) {
				out[o++] = (char)(hex_value((unsigned char)
				    d->hold[1]) << 4 | h);
				d->hlen = 0;
				d->state = QP_TEXT;
			} else {
				o += qp_flush_hold(d, out + o);
				goto again;
			}
			break;
		case QP_WS:
			if (is_wsp(c) && d->hlen < MIME_QP_HOLD_MAX) {
				d->hold[d->hlen++] = (char)c;
			} else if (c == '\r') {
				d->hold[d->hlen++] = (char)c;
				d->state = QP_CR;
			} else if (c == '\n') {
				d->hlen = 0;
				d->state = QP_TEXT;
			} else {
				o += qp_flush_hold(d, out + o);
				goto again;
			}
			break;
		case QP_CR:
			if (c == '\n') {
				d->hlen = 0;
				d->state = QP_TEXT;
			} else {
				o += qp_flush_hold(d, out + o);
				goto again;
			}
			break;
		}
	}
	return o;
}

size_t
mime_qp_finish(struct mime_qp *d, char *out)
{
	size_t o = 0;

	/*
	 * A trailing "=" (with padding) is a soft break whose line end went to
	 * the boundary delimiter: drop it. A cut "=H" is kept literally.
	 */
	if (d->state == QP_HEX)
		o = qp_flush_hold(d, out);
	d->hlen = 0;
	d->state = QP_TEXT;
	return o;
}

/* ---- RFC 2047 encoded words ------------------------------------------ */

/*
 * Recognise "=?charset[*lang]?B|Q?text?=" at p. On success sets the encoding,
 * the text span and the end, and returns 1.
 */
static int
ew_parse(const char *p, int *enc, const char **text, size_t *tlen,
    const char **end)
{
	const char *q = p + 2, *t;

	if (p[0] != '=' || p[1] != '?')
		return 0;
	while (*q && *q != '?' && !is_wsp((unsigned char)*q) &&
	    *q != '\r' && *q != '\n')
		q++;
	if (*q != '?' || q == p + 2)
		return 0;
	q++;
	if (*q != 'B' && *q != 'b' && *q != 'Q' && *q != 'q')
		return 0;
	*enc = lower((unsigned char)*q);
	q++;
	if (*q != '?')
		return 0;
	t = ++q;
	while (*q && *q != '?' && !is_wsp((unsigned char)*q) &&
	    *q != '\r' && *q != '\n')
		q++;
	if (q[0] != '?' || q[1] != '=')
		return 0;
	*text = t;
	*tlen = (size_t)(q - t);
	*end = q + 2;
	return 1;
}

static int
ew_decode(struct buf *out, int enc, const char *t, size_t n)
{
	char tmp[256 + 4];
	struct mime_b64 b;
	size_t i, k, o;
	int rc, h1, h2;

	if (enc == 'b') {
		mime_b64_init(&b);
		for (i = 0; i < n; i += k) {
			k = n - i < 256 ? n - i : 256;
			o = mime_b64_step(&b, t + i, k, tmp);
			if ((rc = buf_append(out, tmp, o)) != BUF_OK)
				return rc;
		}
		o = mime_b64_finish(&b, tmp);
		return buf_append(out, tmp, o);
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t[i];

		if (c == '_')
			c = ' ';
		else if (c == '=' && i + 2 < n &&
		    (h1 = hex_value((unsigned char)t[i + 1])) >= 0 &&
		    (h2 = hex_value((unsigned char)t[i + 2])) >= 0) {
			c = (unsigned char)(h1 << 4 | h2);
			i += 2;
		}
		if ((rc = buf_putc(out, c)) != BUF_OK)
			return rc;
	}
	return BUF_OK;
}

int
mime_decode_words(struct buf *out, const char *value)
{
	const char *p = value, *ws = NULL, *text, *end;
	size_t wslen = 0, tlen;
	int last_ew = 0, enc, rc;

	while (*p) {
		unsigned char c = (unsigned char)*p;

		if (is_wsp(c) || c == '\r' || c == '\n') {
			if (ws == NULL)
				ws = p;
			wslen++;
			p++;
			continue;
		}
		if (c == '=' && ew_parse(p, &enc, &text, &tlen, &end)) {
			/* White space between two encoded words is dropped. */
			if (ws != NULL && !last_ew &&
			    (rc = buf_append(out, ws, wslen)) != BUF_OK)
				return rc;
			ws = NULL;
			wslen = 0;
			if ((rc = ew_decode(out, enc, text, tlen)) != BUF_OK)
				return rc;
			last_ew = 1;
			p = end;
			continue;
		}
		if (ws != NULL && (rc = buf_append(out, ws, wslen)) != BUF_OK)
			return rc;
		ws = NULL;
		wslen = 0;
		if ((rc = buf_putc(out, c)) != BUF_OK)
			return rc;
		last_ew = 0;
		p++;
	}
	if (ws != NULL)
		return buf_append(out, ws, wslen);
	return BUF_OK;
}

/* ---- Content-Type style fields (RFC 2045, 2231) ---------------------- */

static const char *
skip_comment(const char *p)
{
	int level = 0;

	/* p at "(": comments nest and may hold quoted pairs. */
	for (; *p; p++) {
		if (*p == '\\' && p[1] != '\0')
			p++;
		else if (*p == '(')
			level++;
		else if (*p == ')' && --level == 0)
			return p + 1;
	}
	return p;
}

static const char *
skip_quoted(const char *p)
{
	/* p at the opening quote; an unterminated string runs to the end. */
	for (p++; *p; p++) {
		if (*p == '\\' && p[1] != '\0')
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return p;
}

static const char *
skip_cfws(const char *p)
{
	for (;;) {
		if (is_wsp((unsigned char)*p) || *p == '\r' || *p == '\n')
			p++;
		else if (*p == '(')
			p = skip_comment(p);
		else
			return p;
	}
}

static int
is_token_char(unsigned char c)
{
	if (c <= ' ' || c >= 0x7f)
		return 0;
	return strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

static int
append_lower(struct buf *out, const char *p, size_t n)
{
	size_t start = out->len, i;
	int rc;

	if ((rc = buf_append(out, p, n)) != BUF_OK)
		return rc;
	for (i = start; i < out->len; i++)
		out->data[i] = (char)lower((unsigned char)out->data[i]);
	return BUF_OK;
}

int
mime_ct_parse(const char *value, struct buf *out, const char **rest)
{
	const char *p, *t1, *t2;
	size_t l1, l2;
	int rc;

	p = skip_cfws(value);
	for (t1 = p; is_token_char((unsigned char)*p); p++)
		;
	l1 = (size_t)(p - t1);
	p = skip_cfws(p);
	*rest = p;
	if (*p != '/' || l1 == 0)
		return BUF_OK;
	p = skip_cfws(p + 1);
	for (t2 = p; is_token_char((unsigned char)*p); p++)
		;
	l2 = (size_t)(p - t2);
	*rest = p;
	if (l2 == 0)
		return BUF_OK;
	if ((rc = append_lower(out, t1, l1)) != BUF_OK ||
	    (rc = buf_putc(out, '/')) != BUF_OK)
		return rc;
	return append_lower(out, t2, l2);
}

int
mime_token_parse(const char *value, struct buf *out, const char **rest)
{
	const char *p, *t;

	p = skip_cfws(value);
	for (t = p; is_token_char((unsigned char)*p); p++)
		;
	*rest = p;
	return append_lower(out, t, (size_t)(p - t));
}

struct pval {
	const char	*p;		/* raw value, quotes included */
	size_t		 n;
	int		 quoted;
	int		 ext;		/* RFC 2231 "*": percent-encoded */
	unsigned	 idx;		/* continuation section number */
};

/* Append the value with quotes and quoted pairs undone. */
static int
pval_unquote(struct buf *out, const struct pval *v)
{
	const char *p = v->p, *e = v->p + v->n;
	int rc;

	if (!v->quoted)
		return buf_append(out, p, v->n);
	for (p++; p < e; p++) {
		if (*p == '\\' && p + 1 < e)
			p++;
		else if (*p == '"')
			break;
		if ((rc = buf_putc(out, *p)) != BUF_OK)
			return rc;
	}
	return BUF_OK;
}

/* Percent-decode src into out; with `lang`, drop a charset'lang' prefix. */
static int
pct_decode(struct buf *out, const char *s, size_t n, int lang)
{
	const char *e = s + n, *q1, *q2;
	int rc, h1, h2;

	if (lang && (q1 = memchr(s, '\'', n)) != NULL &&
	    (q2 = memchr(q1 + 1, '\'', (size_t)(e - q1 - 1))) != NULL)
		s = q2 + 1;
	for (; s < e; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '%' && e - s >= 3 &&
		    (h1 = hex_value((unsigned char)s[1])) >= 0 &&
		    (h2 = hex_value((unsigned char)s[2])) >= 0) {
			c = (unsigned char)(h1 << 4 | h2);
			s += 2;
		}
		if ((rc = buf_putc(out, c)) != BUF_OK)
			return rc;
	}
	return BUF_OK;
}

static int
pval_emit(struct buf *out, const struct pval *v, int first)
{
	struct buf tmp;
	int rc;

	if (!v->ext)
		return pval_unquote(out, v);
	buf_init(&tmp, 0);
	if ((rc = pval_unquote(&tmp, v)) == BUF_OK)
		rc = pct_decode(out, buf_cstr(&tmp), tmp.len, first);
	buf_fini(&tmp);
	return rc;
}

/*
 * Does attribute a (length n) name `name` (length nl)? Returns 0 for no,
 * 1 plain, 2 extended, 3 section (idx set, ext set when "*N*").
 */
static int
attr_match(const char *a, size_t n, const char *name, size_t nl,
    unsigned *idx, int *ext)
{
	size_t i;
	unsigned v = 0;

	if (n < nl)
		return 0;
	for (i = 0; i < nl; i++)
		if (lower((unsigned char)a[i]) != (unsigned char)name[i])
			return 0;
	if (n == nl)
		return 1;
	if (a[nl] != '*')
		return 0;
	if (n == nl + 1)
		return 2;
	for (i = nl + 1; i < n && a[i] >= '0' && a[i] <= '9'; i++) {
		if (v > PARAM_SECTION_INDEX_MAX)
			return 0;
		v = v * 10 + (unsigned)(a[i] - '0');
	}
	if (i == nl + 1)
		return 0;
	*ext = 0;
	if (i < n && a[i] == '*' && i + 1 == n)
		*ext = 1;
	else if (i != n)
		return 0;
	*idx = v;
	return 3;
}

int
mime_param_get(const char *params, const char *name, unsigned flags,
    struct buf *out, int *found)
{
	struct pval plain, ext, sec[PARAM_SECTIONS_MAX], v;
	const char *p = params, *a, *q;
	size_t alen, nl = strlen(name), nsec = 0, start = out->len, i, j;
	int have_plain = 0, have_ext = 0, any_ext = 0, kind, e, rc = BUF_OK;
	unsigned idx, want;
	struct buf tmp;

	*found = 0;
	for (;;) {
		/* Seek the next ";" outside quoted strings and comments. */
		while (*p && *p != ';') {
			if (*p == '"')
				p = skip_quoted(p);
			else if (*p == '(')
				p = skip_comment(p);
			else
				p++;
		}
		if (*p == '\0')
			break;
		p = skip_cfws(p + 1);
		for (a = p; *p && *p != '=' && *p != ';' && *p != '"' &&
		    *p != '(' && !is_wsp((unsigned char)*p) && *p != '\r' &&
		    *p != '\n'; p++)
			;
		alen = (size_t)(p - a);
		p = skip_cfws(p);
		if (*p != '=' || alen == 0)
			continue;
		p = skip_cfws(p + 1);
		memset(&v, 0, sizeof(v));
		v.p = p;
		if (*p == '"') {
			p = skip_quoted(p);
			v.quoted = 1;
			v.n = (size_t)(p - v.p);
		} else {
			while (*p && *p != ';' && *p != '"' &&
			    !is_wsp((unsigned char)*p) && *p != '\r' &&
			    *p != '\n')
				p++;
			v.n = (size_t)(p - v.p);
			q = skip_cfws(p);
			if (*q != '\0' && *q != ';') {
				/* Lenient: an unquoted value with spaces. */
				while (*q && *q != ';')
					q++;
				p = q;
				while (q > v.p && (is_wsp((unsigned char)q[-1]) ||
				    q[-1] == '\r' || q[-1] == '\n'))
					q--;
				v.n = (size_t)(q - v.p);
			}
		}
		e = 0;
		idx = 0;
		kind = attr_match(a, alen, name, nl, &idx, &e);
		if (kind == 1 && !have_plain) {
			plain = v;
			have_plain = 1;
		} else if (kind == 2 && !have_ext) {
			ext = v;
			ext.ext = 1;
			have_ext = 1;
		} else if (kind == 3 && nsec < PARAM_SECTIONS_MAX) {
			v.ext = e;
			v.idx = idx;
			sec[nsec++] = v;
		}
	}

	if (nsec > 0) {
		/* Sections in order from 0; stop at the first gap. */
		buf_init(&tmp, 0);
		for (want = 0; rc == BUF_OK; want++) {
			for (j = 0; j < nsec && sec[j].idx != want; j++)
				;
			if (j == nsec)
				break;
			*found = 1;
			any_ext |= sec[j].ext;
			rc = pval_emit(&tmp, &sec[j], want == 0);
		}
		if (rc == BUF_OK && *found) {
			if (!any_ext && (flags & MIME_PARAM_WORDS))
				rc = mime_decode_words(out, buf_cstr(&tmp));
			else
				rc = buf_append(out, tmp.data ? tmp.data : "",
				    tmp.len);
		}
		buf_fini(&tmp);
		if (rc != BUF_OK)
			return rc;
	}
	if (!*found && have_ext) {
		*found = 1;
		if ((rc = pval_emit(out, &ext, 1)) != BUF_OK)
			return rc;
	}
	if (!*found && have_plain) {
		*found = 1;
		if (flags & MIME_PARAM_WORDS) {
			buf_init(&tmp, 0);
			rc = pval_unquote(&tmp, &plain);
			if (rc == BUF_OK)
				rc = mime_decode_words(out, buf_cstr(&tmp));
			buf_fini(&tmp);
		} else
			rc = pval_unquote(out, &plain);
		if (rc != BUF_OK)
			return rc;
	}
	if (flags & MIME_PARAM_LOWER)
		for (i = start; i < out->len; i++)
			out->data[i] = (char)lower((unsigned char)out->data[i]);
	return BUF_OK;
}
