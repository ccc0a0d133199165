/*
 * classify - turn a delivery failure into a reason, a category and hard/soft.
 *
 * Three inputs are weighed together: the enhanced status code (RFC 3463 and
 * the IANA registry), the SMTP reply code and the diagnostic text. The text
 * patterns are data: a PCRE2 pattern file (conf/bounce-patterns.conf) that
 * operators can extend, compiled once at load. Precedence, highest first:
 *
 *   1. [specific] text patterns     ("mailbox full", "SPF", "Spamhaus" ...)
 *   2. specific status codes         (5.1.1, 5.2.2, 5.7.26, 5.3.4 ...)
 *   3. [generic] text patterns       ("rejected", "not allowed" ...)
 *   4. generic status codes          (5.0.0, 5.7.1, 5.5.0 ...)
 *   5. the reply code alone          (552, 551, 421 ...)
 *
 * so specific text beats a generic code, and a specific code beats vague
 * text. Reasons and their categories are the vocabulary of DESIGN.md
 * (vocab.h).
 *
 * Matching engine: built with Vectorscan, every pattern of the file goes
 * into one multi-pattern database and a diagnostic is scanned once; the
 * lowest matching line of a tier (file order) is then confirmed with its
 * own PCRE2 code, so the answers are PCRE2's. A pattern Vectorscan cannot
 * take even as a prefilter (a construct it lacks) is matched with PCRE2 in
 * its place in file order, and named by classifier_warnings(). Without
 * Vectorscan (configure --without-vectorscan, or a CPU it does not run on)
 * PCRE2 matches the lines one after another: the same classifications.
 *
 * The database costs about a second to compile for the shipped file, so it
 * is compiled once, never per message: loaded ready from a serialized file
 * (classifier_db_serialize(), `egressctl compile-patterns`; ignored when it
 * was built from other patterns or by another Vectorscan), built by
 * classifier_prepare() (the daemon, on every load and reload), or else
 * built by the first classify() that needs it.
 *
 * A loaded classifier may be shared by threads: classify() allocates its
 * own PCRE2 match data per call and takes a Vectorscan scratch space from
 * the classifier's pool under a lock.
 */
#ifndef EGRESS_CLASSIFY_H
#define EGRESS_CLASSIFY_H

#include <stddef.h>

#include "egress/buf.h"
#include "egress/vocab.h"

struct cfg_errors;

#define CLASSIFY_DIAG_MAX	4096	/* diagnostic bytes matched */
#define CLASSIFY_PATTERNS_MAX	4096	/* entries per pattern file */
#define CLASSIFY_LINE_MAX	2048	/* bytes per pattern-file line */
#define CLASSIFY_DB_SUFFIX	".hsdb"	/* serialized database: FILE + this */
#define CLASSIFY_DB_MAX		(64 * 1024 * 1024)	/* bytes read of it */

struct classification {
	const char	*reason;	/* static vocabulary string */
	const char	*category;	/* static, vocab_reason_category() */
	int		 hard;		/* permanent, recipient-level failure */
	const char	*source;	/* "text", "status", "reply", "none" */
};

/* PCRE2 limits applied to every match; 0 keeps the library default. */
struct classify_limits {
	unsigned long	match_limit;
	unsigned long	depth_limit;
	unsigned long	heap_limit_kib;
};

struct classifier;

/*
 * Load and compile the pattern file at path. Errors (unknown reason, bad
 * pattern with its offset, unreadable file) are recorded in errs as
 * "FILE:LINE: ..." and NULL is returned. limits may be NULL. A serialized
 * database at path + CLASSIFY_DB_SUFFIX is read too when there is one
 * (see classifier_load_string_db()). The caller owns the result
 * (classifier_free).
 */
struct classifier	*classifier_load(const char *path,
			    const struct classify_limits *limits,
			    struct cfg_errors *errs);
/* Same, from a string (tests, the built-in fallback); name labels errors. */
struct classifier	*classifier_load_string(const char *text,
			    const char *name,
			    const struct classify_limits *limits,
			    struct cfg_errors *errs);
/*
 * Same, with a serialized database (db, dblen bytes; NULL for none) that
 * classifier_db_serialize() wrote for the same text. One that does not fit
 * is not an error: it is noted in classifier_warnings() and the database
 * is compiled when first needed. db is read, not kept.
 */
struct classifier	*classifier_load_string_db(const char *text,
			    const char *name, const struct classify_limits *limits,
			    const void *db, size_t dblen, struct cfg_errors *errs);
void			 classifier_free(struct classifier *);
/* Number of compiled pattern entries. */
size_t			 classifier_count(const struct classifier *);

/*
 * Build the one-pass database now unless it is ready (idempotent, safe
 * while other threads classify). Returns 0 when classify() will use it,
 * -1 when it runs on PCRE2 alone (no Vectorscan, or the build failed: see
 * classifier_warnings()); either way classifications are the same.
 */
int			 classifier_prepare(struct classifier *);
/*
 * What the engine has to say, one "NAME:LINE: ..." line each (patterns
 * matched by PCRE2 instead of Vectorscan, a serialized database that did
 * not fit, a failed build); "" when nothing. Complete after
 * classifier_prepare(). Returns a pointer to, not a copy of, the
 * classifier's text, valid until the next classifier call on it.
 */
const char		*classifier_warnings(const struct classifier *);
/* "vectorscan", "pcre2" or "pending" (not built yet): what classify() uses. */
const char		*classifier_engine(const struct classifier *);
/*
 * Append the one-pass database, serialized with what identifies the
 * pattern text it was built from, to out (building it first). Returns 0,
 * or -1 when there is no database (no Vectorscan, build failed, out of
 * memory or out over its limit).
 */
int			 classifier_db_serialize(struct classifier *, struct buf *out);
/*
 * Give up the one-pass database and match with PCRE2 alone, line after line
 * (what a build without Vectorscan does). For tests that compare the two
 * engines; call before the classifier is shared.
 */
void			 classifier_use_pcre2(struct classifier *);
/*
 * For fuzzing the engines against each other: 1 when a line whose PCRE2
 * code matches diag (normalised as classify() does, over the cause or the
 * whole text) was not reported by the one-pass scan, with its line in the
 * pattern text in *line; 0 when the scan reported every such line; -1 when
 * no one-pass scan runs on this text (PCRE2 alone).
 */
int			 classifier_scan_miss(struct classifier *,
			    const char *diag, unsigned *line);

/*
 * Classify one failure. status ("5.7.1", may be NULL/""), reply_code
 * (0 if unknown), diag (may be NULL). cl may be NULL: then only codes are
 * used. Never fails: the worst answer is reason "undefined".
 */
void	classify(const struct classifier *cl, const char *status,
	    int reply_code, const char *diag, struct classification *out);

/*
 * The category of a reason ("recipient", "mailbox", ...), and the canonical
 * static string for a reason name; NULL if unknown. The same as
 * vocab_reason_category() and vocab_reason_lookup().
 */
static inline const char *
reason_category(const char *reason)
{
	return vocab_reason_category(reason);
}

static inline const char *
reason_lookup(const char *reason)
{
	return vocab_reason_lookup(reason);
}

/*
 * Non-zero when a failure with this reason and codes is hard: the reason is
 * permanent by default (vocab.h) and neither the status nor the reply code
 * is temporary (4xx).
 */
int		 reason_is_hard(const char *reason, const char *status,
		    int reply_code);

#endif
