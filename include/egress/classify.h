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
 * A loaded classifier is immutable and may be shared by threads: classify()
 * allocates its own PCRE2 match data per call.
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
 * "FILE:LINE: ..." and NULL is returned. limits may be NULL.
 * The caller owns the result (classifier_free).
 */
struct classifier	*classifier_load(const char *path,
			    const struct classify_limits *limits,
			    struct cfg_errors *errs);
/* Same, from a string (tests, the built-in fallback); name labels errors. */
struct classifier	*classifier_load_string(const char *text,
			    const char *name,
			    const struct classify_limits *limits,
			    struct cfg_errors *errs);
void			 classifier_free(struct classifier *);
/* Number of compiled pattern entries. */
size_t			 classifier_count(const struct classifier *);

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
