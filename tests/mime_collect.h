/*
 * mime_collect - test-only helpers for the MIME parser: a handler that
 * writes the part tree, headers, decoded data and findings as text, and a
 * feeder that splits a whole message file into top-level header fields and
 * body chunks of a given size. Used by the unit suite, the dump program and
 * the fuzz target, so all three see the same thing.
 */
#ifndef EGRESS_TESTS_MIME_COLLECT_H
#define EGRESS_TESTS_MIME_COLLECT_H

#include <stddef.h>

#include "egress/buf.h"
#include "egress/findings.h"
#include "egress/mime.h"

#define MT_DATA_SHOWN	96	/* decoded bytes shown per part */

struct mt_collect {
	struct buf	out;		/* the dump */
	int		headers;	/* show header events */
	/* the leaf being read */
	unsigned long long hash;	/* FNV-1a 64 of the delivered bytes */
	size_t		delivered;
	struct buf	shown;		/* first MT_DATA_SHOWN bytes */
};

void	mt_collect_init(struct mt_collect *, int headers);
void	mt_collect_fini(struct mt_collect *);
/* A handler writing into c. */
struct mime_handler mt_collect_handler(struct mt_collect *c);
/* Append the findings to the dump. */
int	mt_collect_findings(struct mt_collect *, const struct findings *);

/*
 * Feed a whole message (header section, then the body in chunks of `chunk`
 * bytes; 0 = all at once) and finish. `chunks`, when not NULL, is a list of
 * chunk sizes used in turn instead (nchunks entries). Returns 0 or -1.
 */
int	mt_feed(struct mime_parser *, const char *msg, size_t len,
	    size_t chunk, const size_t *chunks, size_t nchunks);

/*
 * Parse msg with limits and return the dump (with findings) in out.
 * Returns 0 or -1.
 */
int	mt_dump(struct buf *out, const char *msg, size_t len,
	    const struct mime_limits *, size_t chunk, int headers);

#endif
