/*
 * dsn_int.h - shared between dsn.c (MIME side, RFC 3464, ARF, output) and
 * dsn_text.c (the human-readable bounce formats). Not installed.
 */
#ifndef EGRESS_DSN_INT_H
#define EGRESS_DSN_INT_H

#include <stddef.h>

#include "egress/buf.h"

#define DSN_TEXT_RCPT_LINES	40	/* diagnostic lines taken per recipient */
#define DSN_ADDR_MAX		320	/* RFC 5321 path limit, with slack */

/* One recipient found in a human-readable bounce. Strings are malloc'd. */
struct dsn_text_rcpt {
	char	*addr;
	char	*diag;		/* raw (unfolded later), or NULL */
	char	*remote;	/* remote MTA if the text names one, or NULL */
	char	*status;	/* "5.1.1" when the text says so (qmail "#5.1.1") */
	int	 excluded;	/* the bounce's own address: a last resort */
};

struct dsn_text_result {
	struct dsn_text_rcpt	*v;
	size_t			 n;
	size_t			 cap;
	const char		*format;	/* static family name or NULL */
	int			 strong;	/* a bounce marker line was seen */
	char			*general_diag;	/* text when no recipient had any */
	size_t			 returned_at;	/* offset of the returned message */
};

/*
 * Scan the human-readable text of a bounce. `exclude` is a NULL-ended list
 * of addresses that are not failed recipients (the bounce's own sender and
 * recipient). Returns 0 or -1 (out of memory); res owns what it holds.
 */
int	dsn_text_scan(const char *text, size_t n, const char *const *exclude,
	    size_t max_rcpts, struct dsn_text_result *res);
void	dsn_text_result_fini(struct dsn_text_result *);

/* Non-zero when s[0..n) says something failed (words or an SMTP code). */
int	dsn_failure_words(const char *s, size_t n);

/* Lower-cased copy of the first address in s (no <>), or NULL. */
char	*dsn_addr_extract(const char *s, size_t n);

/* Case-insensitive prefix test. */
int	dsn_has_prefix_ci(const char *s, const char *prefix);
/* Case-insensitive substring search in s[0..n), or NULL. */
const char *dsn_memstr_ci(const char *s, size_t n, const char *needle);

/* Amazon SES notifications (dsn_ses.c). */
#define DSN_SES_MAX	100	/* recipients read from one notification */

enum dsn_ses_kind { SES_NONE = 0, SES_BOUNCE, SES_COMPLAINT, SES_DELIVERY };

struct dsn_ses_rcpt {
	char	*addr, *status, *action, *diag;
};

struct dsn_ses {
	enum dsn_ses_kind	 kind;
	char			*source;	/* envelope sender */
	char			*message_id;
	char			*reporting_mta;
	char			*feedback_type;
	char			*smtp_response;	/* Delivery */
	struct dsn_ses_rcpt	 v[DSN_SES_MAX];
	size_t			 n;
};

/* Returns 1 when text holds an SES notification (out filled), else 0. */
int	dsn_ses_scan(const char *text, size_t n, struct dsn_ses *out);
void	dsn_ses_fini(struct dsn_ses *);

#endif
