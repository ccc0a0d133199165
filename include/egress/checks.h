/*
 * checks - the registry of check ids.
 *
 * Every finding the core can produce has an entry here with its default
 * action, score and SMTP reply. Ids are public: users name them in the
 * config, and renaming one is a breaking change. The table is constant
 * (read-only after build), so it is not shared mutable state.
 *
 * Operator rules add ids of their own at config load ("rule.<name>"); those
 * live in the config snapshot, not here.
 */
#ifndef EGRESS_CHECKS_H
#define EGRESS_CHECKS_H

#include <stddef.h>

#include "egress/findings.h"

struct check_def {
	const char	*id;
	enum action	 action;	/* default action */
	int		 score;		/* default score (content checks) */
	const char	*reply;		/* default "554 5.6.0 text", or NULL */
	const char	*summary;	/* one line for docs and egressctl */
};

/* Returns the number of registered checks; *defs points at the table. */
size_t	checks_table(const struct check_def **defs);

/* Returns the index of id in the table, or -1. */
int	checks_index(const char *id);

/* Returns the registry entry for id (a pointer to, not a copy of), or NULL. */
const struct check_def *checks_lookup(const char *id);

#endif
