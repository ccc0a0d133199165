/*
 * config - the immutable, typed configuration snapshot.
 *
 * config_load() parses a libconfig file into a struct config. Every key is
 * typed and range-checked; unknown keys, wrong types and out-of-range values
 * are errors that name the file, the line and the key. A snapshot is never
 * modified after load; the daemon shares it between connections by reference
 * count (the `refs` field; the daemon's shell_config_get/shell_config_put),
 * taking the reference under its own lock.
 *
 * Modules with sections of their own (content, bounce, store) parse them with
 * the cfg_* helpers below from their own X_config_load() function, which
 * config_load() calls.
 */
#ifndef EGRESS_CONFIG_H
#define EGRESS_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

#include "egress/bounce.h"
#include "egress/buf.h"
#include "egress/content.h"
#include "egress/findings.h"
#include "egress/sender.h"
#include "egress/store.h"

#define EX_CONFIG_STATUS	78	/* sysexits.h EX_CONFIG */
#define CFG_MAX_ERRORS		50

/* Collected configuration errors, one per line: "FILE:LINE: KEY: text". */
struct cfg_errors {
	struct buf	 text;
	int		 count;
	const char	*file;		/* not owned */
};

void	cfg_errors_init(struct cfg_errors *, const char *file);
void	cfg_errors_fini(struct cfg_errors *);
/* Record an error at the line of `where` (may be NULL) naming `key`. */
void	cfg_error(struct cfg_errors *, const config_setting_t *where,
	    const char *key, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));

/*
 * Typed getters on a group setting (which may be NULL: then nothing is set).
 * Each returns 0 when the key is absent (the out value keeps its default),
 * 1 when it was set, -1 after recording an error.
 */
int	cfg_int(const config_setting_t *grp, const char *key, long long min,
	    long long max, long long *out, struct cfg_errors *);
int	cfg_bool(const config_setting_t *grp, const char *key, int *out,
	    struct cfg_errors *);
/* *out is replaced by a malloc'd copy (the old value is freed). */
int	cfg_string(const config_setting_t *grp, const char *key, char **out,
	    struct cfg_errors *);
/* Durations: integer seconds or a string "90s", "30m", "12h", "7d", "2w". */
int	cfg_duration(const config_setting_t *grp, const char *key,
	    long long min, long long max, long long *out, struct cfg_errors *);
/* Sizes: integer bytes or a string "512", "64K", "25M", "1G". */
int	cfg_size(const config_setting_t *grp, const char *key,
	    long long min, long long max, long long *out, struct cfg_errors *);
/* Report every member of grp whose name is not in the NULL-ended list. */
void	cfg_allow_keys(const config_setting_t *grp, const char *const *keys,
	    struct cfg_errors *);

/* A NULL-terminated array of malloc'd strings. */
struct strlist {
	char	**v;
	size_t	  n;
};
int	cfg_strlist(const config_setting_t *grp, const char *key,
	    struct strlist *out, struct cfg_errors *);
void	strlist_free(struct strlist *);
int	strlist_has_ci(const struct strlist *, const char *);

/* A parsed IPv4/IPv6 network for exemptions. */
struct cidr {
	int		family;		/* AF_INET or AF_INET6 */
	uint8_t		addr[16];
	int		prefix;
};
/* Returns 0 on success; accepts "192.0.2.0/24", "::1", "10.1.2.3". */
int	cidr_parse(const char *, struct cidr *);
/* Non-zero when the textual address is inside the network. */
int	cidr_match(const struct cidr *, const char *addr);

enum mode { MODE_ENFORCE = 0, MODE_MONITOR };

/* Per-check settings, indexed like the registry in checks.h. */
struct check_conf {
	enum action	 action;
	int		 score;
	char		*reply;		/* "554 5.6.0 text" or NULL (no reply) */
};

struct limits {
	long long	message_size;		/* bytes; 0 = unlimited */
	long long	recipients;
	long long	header_bytes;		/* whole header section */
	long long	header_count;
	long long	line_length;		/* octets without CRLF (998) */
	long long	mime_depth;
	long long	mime_parts;
	long long	boundary_length;
	long long	part_header_bytes;
	long long	decoded_bytes;		/* inspected per part */
	long long	urls;
	long long	findings;
	long long	pcre2_match_limit;
	long long	pcre2_depth_limit;
	long long	pcre2_heap_limit;	/* KiB */
};

struct milter_conf {
	char		*socket;		/* unix:PATH or inet:PORT@HOST */
	long long	 socket_mode;
	char		*socket_group;
	char		*user;
	char		*pidfile;
	char		*syslog_facility;
	char		*syslog_ident;
	long long	 timeout;		/* libmilter I/O timeout, seconds */
	long long	 backlog;
};

struct exempt_conf {
	struct strlist	 senders;		/* addresses or @domain */
	struct strlist	 auth_users;
	struct cidr	*clients;
	size_t		 nclients;
	struct strlist	 recipient_domains;
};

struct config {
	char		*path;
	unsigned	 refs;			/* guarded by the owner's lock */
	enum mode	 mode;
	enum action	 fail_action;		/* on internal failure */
	char		*tag_header;		/* e.g. X-Egress-Findings */
	char		*hold_reason;		/* quarantine text prefix */
	char		*repair_msgid_domain;	/* NULL: the sender's domain */
	long long	 date_max_future;	/* seconds */
	long long	 date_max_past;		/* seconds */
	long long	 score_tag;		/* content thresholds; 0 = off */
	long long	 score_hold;
	long long	 score_reject;
	struct limits	 limits;
	struct milter_conf milter;
	struct exempt_conf exempt;
	struct check_conf *checks;		/* checks_table() entries */
	size_t		 nchecks;
	struct store_conf store;		/* `store` section (store.h) */
	struct policy_conf policy;		/* `policy` section (sender.h) */
	struct bounce_conf bounce;		/* `bounce` section (bounce.h) */
	struct content_config content;		/* `content` section (content.h) */
};

/*
 * Load and validate path. Returns a snapshot with one reference, or NULL
 * with the errors in errs (init'ed by the caller with the file name).
 */
struct config	*config_load(const char *path, struct cfg_errors *errs);
/* A snapshot with every default and no file (tests, egressctl fallback). */
struct config	*config_default(void);
void		 config_free(struct config *);

/* The settings of a registered check id (never NULL for a registry id). */
const struct check_conf *config_check(const struct config *, const char *id);

#endif
