/*
 * findings - what the checks found in one message.
 *
 * A finding is {check id, score, detail}. The id is a stable public string
 * (see checks.h); findings_add() stores the id pointer as given, so it must
 * outlive the list (a registry entry or a config-owned rule id). The detail
 * is copied and bounded. The list holds at most `max` findings; further adds
 * are counted in `dropped` and otherwise ignored, so hostile input cannot grow
 * it without bound.
 */
#ifndef EGRESS_FINDINGS_H
#define EGRESS_FINDINGS_H

#include <stdarg.h>
#include <stddef.h>

#include "egress/buf.h"

#define FINDING_DETAIL_MAX	200	/* bytes of detail kept per finding */

/* Ordered by severity: the verdict is the most severe action. */
enum action {
	ACT_ACCEPT = 0,
	ACT_TAG,
	ACT_REPAIR,
	ACT_HOLD,
	ACT_TEMPFAIL,
	ACT_REJECT,
	ACT__COUNT
};

struct finding {
	const char	*id;		/* not owned */
	int		 score;		/* filled by policy from the config */
	char		*detail;	/* owned, printable ASCII, may be "" */
};

struct findings {
	struct finding	*v;
	size_t		 n;
	size_t		 cap;
	size_t		 max;
	size_t		 dropped;
};

void	findings_init(struct findings *, size_t max);
void	findings_fini(struct findings *);
void	findings_reset(struct findings *);

/*
 * Add a finding. The formatted detail is escaped to printable ASCII and cut
 * at FINDING_DETAIL_MAX. Returns 0, or -1 on allocation failure (the caller
 * maps that to the fail mode).
 */
EGRESS_WUR int	findings_add(struct findings *, const char *id,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

EGRESS_WUR int	findings_vadd(struct findings *, const char *id,
		    const char *fmt, va_list) __attribute__((format(printf, 3, 0)));

/*
 * Move every finding of src to the end of dst (same bound and rule as
 * findings_add) and empty src. Returns 0, or -1 when out of memory (what
 * was not moved stays in src).
 */
EGRESS_WUR int	findings_take(struct findings *dst, struct findings *src);

/* Non-zero when a finding with this id is present. */
int	findings_has(const struct findings *, const char *id);

const char	*action_name(enum action);
/* Returns 0 and sets *out, or -1 for an unknown name. */
int	action_parse(const char *, enum action *out);

/*
 * Escape untrusted bytes for a log line or a header: printable ASCII is kept
 * (backslash and double quote are escaped), everything else becomes \xNN.
 * Appends at most `limit` input bytes to `out`; returns a buf status.
 */
EGRESS_WUR int	log_escape(struct buf *out, const char *p, size_t n, size_t limit);

#endif
