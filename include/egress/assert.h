/*
 * assert.h - assertions for programming errors (API misuse), on in every
 * build.
 *
 * EGRESS_ASSERT(cond) evaluates cond once; when it is false it prints
 * "FILE:LINE: assertion failed: COND" to stderr and calls abort(). It does
 * not depend on NDEBUG. Use it only for what a caller of the API can get
 * wrong (a call out of order, a NULL where an object is required), never
 * for anything that input from the network or a file can reach: that is a
 * finding or a returned status, not a crash.
 */
#ifndef EGRESS_ASSERT_H
#define EGRESS_ASSERT_H

#include <stdio.h>
#include <stdlib.h>

#define EGRESS_ASSERT(cond) ((cond) ? (void)0 : egress_assert_fail(__FILE__, \
	__LINE__, #cond))

__attribute__((noreturn, cold)) static inline void
egress_assert_fail(const char *file, int line, const char *expr)
{
	fprintf(stderr, "%s:%d: assertion failed: %s\n", file, line, expr);
	fflush(stderr);
	abort();
}

#endif
