/*
 * buf - the one growable byte buffer of the project.
 *
 * A buf owns its storage. It grows geometrically up to a hard maximum set at
 * init; growth past the maximum fails with BUF_ERR_LIMIT and leaves the buffer
 * unchanged, so callers can turn the overflow into a finding. The data is
 * always NUL-terminated (the NUL is not counted in len) so it can be handed to
 * string functions, but it may also contain NULs of its own.
 */
#ifndef EGRESS_BUF_H
#define EGRESS_BUF_H

#include <stddef.h>

#define EGRESS_WUR __attribute__((warn_unused_result))

enum buf_status {
	BUF_OK = 0,
	BUF_ERR_LIMIT = -1,	/* would exceed the buffer's maximum */
	BUF_ERR_NOMEM = -2,	/* allocation failed */
};

struct buf {
	char	*data;		/* NUL-terminated, may be NULL while empty */
	size_t	 len;
	size_t	 cap;
	size_t	 max;		/* hard maximum of len */
};

/* Embedded-struct lifetime; buf_fini() frees the storage. max 0 = SIZE_MAX/2. */
void	buf_init(struct buf *, size_t max);
void	buf_fini(struct buf *);
/* Empty the buffer, keep the storage. */
void	buf_reset(struct buf *);

EGRESS_WUR int	buf_append(struct buf *, const void *, size_t);
EGRESS_WUR int	buf_putc(struct buf *, int);
EGRESS_WUR int	buf_puts(struct buf *, const char *);
EGRESS_WUR int	buf_printf(struct buf *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* Returns a pointer to, not a copy of, the contents ("" when empty). */
const char	*buf_cstr(const struct buf *);

/* Takes ownership of the contents (caller frees); the buf is left empty. */
char		*buf_steal(struct buf *);

#endif
