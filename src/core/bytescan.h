/*
 * bytescan.h - find the next interesting byte, 16 bytes at a time.
 *
 * The body checks, the MIME leaf and the link scanner spend most of their
 * bytes looking for a few delimiters (line ends, whitespace, '<', bytes
 * above 0x7f). These helpers compare 16 bytes per step with SSE2 (every
 * x86-64 CPU has it; the compiler builtins need no library) and finish, or
 * run entirely where SSE2 is absent, with a plain loop giving the same
 * answer. Internal to the core: static inline, no state.
 */
#ifndef EGRESS_BYTESCAN_H
#define EGRESS_BYTESCAN_H

#include <stddef.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Index of the first byte of p[0..n) equal to a, b or c; n if none. */
static inline size_t
bytescan_any3(const char *p, size_t n, char a, char b, char c)
{
	size_t i = 0;

#ifdef __SSE2__
	const __m128i va = _mm_set1_epi8(a), vb = _mm_set1_epi8(b),
	    vc = _mm_set1_epi8(c);

	for (; i + 16 <= n; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		int m = _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(
		    _mm_cmpeq_epi8(x, va), _mm_cmpeq_epi8(x, vb)),
		    _mm_cmpeq_epi8(x, vc)));

		if (m != 0)
			return i + (size_t)__builtin_ctz((unsigned)m);
	}
	if (i < n && n >= 16) {
		/* the last block moved back to end at n: no byte-wise tail */
		size_t base = n - 16;
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + base));
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(
		    _mm_cmpeq_epi8(x, va), _mm_cmpeq_epi8(x, vb)),
		    _mm_cmpeq_epi8(x, vc))) >> (i - base);

		return m != 0 ? i + (size_t)__builtin_ctz(m) : n;
	}
#endif
	for (; i < n; i++)
		if (p[i] == a || p[i] == b || p[i] == c)
			return i;
	return n;
}

/* Index of the first byte of p[0..n) at or above 0x80; n if none. */
static inline size_t
bytescan_high(const char *p, size_t n)
{
	size_t i = 0;

#ifdef __SSE2__
	for (; i + 16 <= n; i += 16) {
		int m = _mm_movemask_epi8(_mm_loadu_si128(
		    (const __m128i *)(const void *)(p + i)));

		if (m != 0)
			return i + (size_t)__builtin_ctz((unsigned)m);
	}
	if (i < n && n >= 16) {
		size_t base = n - 16;
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_loadu_si128(
		    (const __m128i *)(const void *)(p + base))) >> (i - base);

		return m != 0 ? i + (size_t)__builtin_ctz(m) : n;
	}
#endif
	for (; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			return i;
	return n;
}

/*
 * Index of the first whitespace byte of p[0..n) (space, \t \n \v \f \r),
 * or of '<' when lt is set; n if none.
 */
static inline size_t
bytescan_space(const char *p, size_t n, int lt)
{
	size_t i = 0;

#ifdef __SSE2__
	const __m128i sp = _mm_set1_epi8(' '), nine = _mm_set1_epi8(9),
	    four = _mm_set1_epi8(4), vlt = _mm_set1_epi8(lt ? '<' : ' ');

	for (; i + 16 <= n; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		/* 9..13: x - 9 is at most 4, unsigned */
		__m128i d = _mm_sub_epi8(x, nine);
		__m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(d, four), d);
		int m = _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(
		    _mm_cmpeq_epi8(x, sp), _mm_cmpeq_epi8(x, vlt)), ctl));

		if (m != 0)
			return i + (size_t)__builtin_ctz((unsigned)m);
	}
#endif
	for (; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == ' ' || (c >= 9 && c <= 13) || (lt && c == '<'))
			return i;
	}
	return n;
}

/*
 * Over p[0..n): the number of ASCII letters and digits and of bytes at or
 * above 0x80 (what the link scanner counts as text), and in *longest the
 * longest run without whitespace (space, \t \n \v \f \r), counting a
 * run that touches either end of p.
 */
static inline size_t
bytescan_text_stats(const char *p, size_t n, size_t *longest)
{
	size_t i = 0, count = 0, run = 0, best = 0;

#ifdef __SSE2__
	const __m128i sp = _mm_set1_epi8(' '), nine = _mm_set1_epi8(9),
	    four = _mm_set1_epi8(4), lca = _mm_set1_epi8('a'),
	    z25 = _mm_set1_epi8(25), zero = _mm_set1_epi8('0'),
	    bit5 = _mm_set1_epi8(0x20), nil = _mm_setzero_si128();
	/* per-byte-lane counters, folded into count before they can wrap */
	__m128i acc = nil;
	unsigned steps = 0;

	for (; i + 16 <= n; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		__m128i l = _mm_sub_epi8(_mm_or_si128(x, bit5), lca);
		__m128i d = _mm_sub_epi8(x, zero);
		__m128i cc = _mm_sub_epi8(x, nine);
		__m128i alpha = _mm_cmpeq_epi8(_mm_min_epu8(l, z25), l);
		__m128i digit = _mm_cmpeq_epi8(_mm_min_epu8(d, nine), d);
		__m128i ws = _mm_or_si128(_mm_cmpeq_epi8(x, sp),
		    _mm_cmpeq_epi8(_mm_min_epu8(cc, four), cc));
		__m128i text = _mm_or_si128(_mm_or_si128(alpha, digit),
		    _mm_cmplt_epi8(x, nil));
		unsigned w = (unsigned)_mm_movemask_epi8(ws);

		acc = _mm_sub_epi8(acc, text);	/* -(-1) per text byte */
		if (++steps == 255) {
			__m128i s2 = _mm_sad_epu8(acc, nil);

			count += (size_t)_mm_cvtsi128_si32(s2) +
			    (size_t)_mm_cvtsi128_si32(_mm_srli_si128(s2, 8));
			acc = nil;
			steps = 0;
		}
		if (w == 0) {
			run += 16;
			continue;
		}
		/*
		 * The run reaching the block's first whitespace ends there;
		 * runs between two whitespace bytes of the block are shorter
		 * than 16 (too short to matter to a caller asking about the
		 * token limit); the block's tail starts the next run.
		 */
		run += (size_t)__builtin_ctz(w);
		if (run > best)
			best = run;
		run = 15 - (size_t)(31 - __builtin_clz(w));
	}
	{
		__m128i s2 = _mm_sad_epu8(acc, nil);

		count += (size_t)_mm_cvtsi128_si32(s2) +
		    (size_t)_mm_cvtsi128_si32(_mm_srli_si128(s2, 8));
	}
#endif
	for (; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == ' ' || (c >= 9 && c <= 13)) {
			if (run > best)
				best = run;
			run = 0;
			continue;
		}
		run++;
		count += ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
		    (c >= '0' && c <= '9') || c >= 0x80;
	}
	if (run > best)
		best = run;
	*longest = best;
	return count;
}

#endif
