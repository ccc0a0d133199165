/*
 * vocab - the bounce classification vocabulary of DESIGN.md.
 *
 * A classified failure has a reason (userunknown, mailboxfull, blocked ...)
 * and the reason belongs to one category (recipient, mailbox, reputation
 * ...), which policy acts on. Some are permanent by default: the address
 * itself is dead, so a failure with that reason is hard unless its codes say
 * it was temporary (classify.h decides with the codes). Today that is the
 * recipient category, except suspend: disabled accounts come back.
 *
 * Pure and immutable: every string returned is a pointer to, not a copy of,
 * a static name, the same pointer for the same name. Lookups are exact and
 * case-sensitive; NULL is never a name.
 */
#ifndef EGRESS_VOCAB_H
#define EGRESS_VOCAB_H

#include <stddef.h>

/* The canonical string of a reason, or NULL if it is not one. */
const char	*vocab_reason_lookup(const char *name);
/* The category of a reason ("recipient", "mailbox", ...), or NULL. */
const char	*vocab_reason_category(const char *reason);
/* Non-zero when a failure with this reason is permanent by default. */
int		 vocab_reason_is_permanent(const char *reason);

/* The canonical string of a category, or NULL if it is not one. */
const char	*vocab_category_lookup(const char *name);
/* Non-zero when name is a category. */
int		 vocab_category_is_known(const char *name);
/* Non-zero when the category's failures are permanent by default. */
int		 vocab_category_is_permanent(const char *category);

/* The reasons in table order: vocab_reason_at(i) for i < vocab_reason_count(). */
size_t		 vocab_reason_count(void);
const char	*vocab_reason_at(size_t i);

#endif
