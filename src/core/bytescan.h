/*
 * bytescan.h - find the next interesting byte, 16 bytes at a time.
 *
 * The body checks, the MIME leaf and the link scanner spend most of their
 * bytes looking for a few delimiters (line ends, whitespace, '<', bytes
 * above 0x7f). These helpers compare 16 bytes per step with SSE2 (every
 * x86-64 CPU has it; the compiler builtins need no library), some 32 with
 * AVX2 where the CPU has it, and finish, or run entirely where SSE2 is
 * absent, with a plain loop giving the same answer. Internal to the core:
 * static inline, no state.
 */
#ifndef EGRESS_BYTESCAN_H
#define EGRESS_BYTESCAN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif
/*
 * 32-byte variants built in on x86-64; bytescan_avx2() says whether the CPU
 * runs them. -DEGRESS_NO_AVX2 leaves them out (the sanitizer build does, so
 * that the tests run the 16-byte paths too).
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(EGRESS_NO_AVX2)
#include <immintrin.h>
#define BYTESCAN_AVX2	1
#endif

#ifdef BYTESCAN_AVX2
static inline int
bytescan_avx2(void)
{
	return __builtin_cpu_supports("avx2");
}

/* bytescan_any3() 32 bytes a step, to the last whole block; *at: where it
 * stopped. Returns the index of a match, or n if none before *at. */
__attribute__((target("avx2"))) static inline size_t
bytescan_any3_avx2(const char *p, size_t n, char a, char b, char c,
    size_t *at)
{
	const __m256i va = _mm256_set1_epi8(a), vb = _mm256_set1_epi8(b),
	    vc = _mm256_set1_epi8(c);
	size_t i = 0;

	for (; i + 32 <= n; i += 32) {
		__m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(p + i));
		unsigned m = (unsigned)_mm256_movemask_epi8(_mm256_or_si256(
		    _mm256_or_si256(_mm256_cmpeq_epi8(x, va),
		    _mm256_cmpeq_epi8(x, vb)), _mm256_cmpeq_epi8(x, vc)));

		if (m != 0)
			return i + (size_t)__builtin_ctz(m);
	}
	*at = i;
	return n;
}
#endif

/* Index of the first byte of p[0..n) equal to a, b or c; n if none. */
static inline size_t
bytescan_any3(const char *p, size_t n, char a, char b, char c)
{
	size_t i = 0;

#ifdef BYTESCAN_AVX2
	if (n >= 64 && bytescan_avx2()) {
		size_t r = bytescan_any3_avx2(p, n, a, b, c, &i);

		if (r < n)
			return r;
	}
#endif
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

#ifdef __SSE2__
/*
 * The 16 bytes at p as two byte masks: *ws, whitespace (space, \t \n \v \f
 * \r); *text, ASCII letters and digits and bytes at or above 0x80.
 */
static inline void
bytescan_text_block(const char *p, __m128i *ws, __m128i *text)
{
	const __m128i sp = _mm_set1_epi8(' '), nine = _mm_set1_epi8(9),
	    four = _mm_set1_epi8(4), lca = _mm_set1_epi8('a'),
	    z25 = _mm_set1_epi8(25), zero = _mm_set1_epi8('0'),
	    bit5 = _mm_set1_epi8(0x20), nil = _mm_setzero_si128();
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
	/* 9..13: x - 9 is at most 4, unsigned; letters: (x | 0x20) - 'a' */
	__m128i l = _mm_sub_epi8(_mm_or_si128(x, bit5), lca);
	__m128i d = _mm_sub_epi8(x, zero);
	__m128i cc = _mm_sub_epi8(x, nine);

	*ws = _mm_or_si128(_mm_cmpeq_epi8(x, sp),
	    _mm_cmpeq_epi8(_mm_min_epu8(cc, four), cc));
	*text = _mm_or_si128(_mm_or_si128(
	    _mm_cmpeq_epi8(_mm_min_epu8(l, z25), l),
	    _mm_cmpeq_epi8(_mm_min_epu8(d, nine), d)), _mm_cmplt_epi8(x, nil));
}
#endif

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
	const __m128i nil = _mm_setzero_si128();
	/* per-byte-lane counters, folded into count before they can wrap */
	__m128i acc = nil;
	unsigned steps = 0;

	for (; i + 16 <= n; i += 16) {
		__m128i ws, text;
		unsigned w;

		bytescan_text_block(p + i, &ws, &text);
		w = (unsigned)_mm_movemask_epi8(ws);

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
	if (i < n && n >= 16) {
		/* the last block moved back to end at n; its first i - base
		 * lanes were read above and are shifted out */
		size_t base = n - 16, k = n - i;
		__m128i ws, text;
		unsigned w, t;

		bytescan_text_block(p + base, &ws, &text);
		w = (unsigned)_mm_movemask_epi8(ws) >> (i - base);
		t = (unsigned)_mm_movemask_epi8(text) >> (i - base);

		count += (size_t)__builtin_popcount(t);
		if (w == 0)
			run += k;
		else {
			run += (size_t)__builtin_ctz(w);
			if (run > best)
				best = run;
			run = k - 1 - (size_t)(31 - __builtin_clz(w));
		}
		i = n;
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

#ifdef BYTESCAN_AVX2
/* bytescan_eol64() with two 32-byte compares per byte value. */
__attribute__((target("avx2"))) static inline void
bytescan_eol64_avx2(const char *p, uint64_t *lf, uint64_t *cr, uint64_t *nul)
{
	const __m256i vlf = _mm256_set1_epi8('\n'), vcr = _mm256_set1_epi8('\r'),
	    vz = _mm256_setzero_si256();
	__m256i x = _mm256_loadu_si256((const __m256i *)(const void *)p);
	__m256i y = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));

	*lf = (uint64_t)(unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi8(x, vlf)) |
	    (uint64_t)(unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi8(y, vlf)) << 32;
	*cr = (uint64_t)(unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi8(x, vcr)) |
	    (uint64_t)(unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi8(y, vcr)) << 32;
	*nul = (uint64_t)(unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi8(x, vz)) |
	    (uint64_t)(unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi8(y, vz)) << 32;
}
#endif

/*
 * The 64 bytes at p as three bit masks (bit i for p[i]): LF, CR and NUL.
 * Four 16-byte compares per byte value; the caller reads at least 64 bytes.
 */
static inline void
bytescan_eol64(const char *p, uint64_t *lf, uint64_t *cr, uint64_t *nul)
{
#ifdef __SSE2__
	const __m128i vlf = _mm_set1_epi8('\n'), vcr = _mm_set1_epi8('\r'),
	    vz = _mm_setzero_si128();
	uint64_t l = 0, c = 0, z = 0;
	int k;

	for (k = 0; k < 64; k += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + k));

		l |= (uint64_t)(unsigned)_mm_movemask_epi8(
		    _mm_cmpeq_epi8(x, vlf)) << k;
		c |= (uint64_t)(unsigned)_mm_movemask_epi8(
		    _mm_cmpeq_epi8(x, vcr)) << k;
		z |= (uint64_t)(unsigned)_mm_movemask_epi8(
		    _mm_cmpeq_epi8(x, vz)) << k;
	}
	*lf = l;
	*cr = c;
	*nul = z;
#else
	uint64_t l = 0, c = 0, z = 0;
	int k;

	for (k = 0; k < 64; k++) {
		l |= (uint64_t)(p[k] == '\n') << k;
		c |= (uint64_t)(p[k] == '\r') << k;
		z |= (uint64_t)(p[k] == '\0') << k;
	}
	*lf = l;
	*cr = c;
	*nul = z;
#endif
}

#ifdef BYTESCAN_AVX2
/* bytescan_pair() 32 pairs a step; *at: where it stopped. Returns the index
 * of a match, or n if none before *at. */
__attribute__((target("avx2"))) static inline size_t
bytescan_pair_avx2(const char *p, size_t n, char a, char b, size_t *at)
{
	const __m256i va = _mm256_set1_epi8(a), vb = _mm256_set1_epi8(b);
	size_t i = 0;

	for (; i + 33 <= n; i += 32) {
		__m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(p + i));
		__m256i y = _mm256_loadu_si256((const __m256i *)(const void *)(p + i + 1));
		unsigned m = (unsigned)_mm256_movemask_epi8(_mm256_and_si256(
		    _mm256_cmpeq_epi8(x, va), _mm256_cmpeq_epi8(y, vb)));

		if (m != 0)
			return i + (size_t)__builtin_ctz(m);
	}
	*at = i;
	return n;
}
#endif

/*
 * Index of the first i in p[0..n-1) with p[i] == a and p[i + 1] == b; n if
 * none (a pair that would end past n is not looked for).
 */
static inline size_t
bytescan_pair(const char *p, size_t n, char a, char b)
{
	size_t i = 0;

#ifdef BYTESCAN_AVX2
	if (n >= 64 && bytescan_avx2()) {
		size_t r = bytescan_pair_avx2(p, n, a, b, &i);

		if (r < n)
			return r;
	}
#endif
#ifdef __SSE2__
	const __m128i va = _mm_set1_epi8(a), vb = _mm_set1_epi8(b);

	for (; i + 17 <= n; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		__m128i y = _mm_loadu_si128((const __m128i *)(const void *)(p + i + 1));
		int m = _mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(x, va),
		    _mm_cmpeq_epi8(y, vb)));

		if (m != 0)
			return i + (size_t)__builtin_ctz((unsigned)m);
	}
#endif
	for (; i + 1 < n; i++)
		if (p[i] == a && p[i + 1] == b)
			return i;
	return n;
}

/*
 * Whether p[0..n) holds a run of at least l (> 0) bytes without whitespace
 * (space, \t \n \v \f \r). Steps a window of l bytes and reads it from its
 * end back to its last whitespace, where the next window starts: ordinary
 * text costs a few bytes per window, and no byte is read more than twice.
 */
static inline int
bytescan_has_run(const char *p, size_t n, size_t l)
{
	size_t i = 0, k;

	while (n - i >= l) {
		for (k = i + l; k > i; k--) {
			unsigned char c = (unsigned char)p[k - 1];

			if (c == ' ' || (c >= 9 && c <= 13))
				break;
		}
		if (k == i)
			return 1;
		i = k;
	}
	return 0;
}

#endif
