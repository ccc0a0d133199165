/*
 * cfg - configuration plumbing shared by every section loader.
 *
 * Error collection ("FILE:LINE: KEY: text", one per line, counted even when
 * the text no longer fits) and typed getters on libconfig groups. A leaf:
 * it includes no other module's header, so a section loader (bounce,
 * content, sender policy, store settings) depends on it and config.c, the
 * snapshot assembly, depends on the loaders, never the other way round.
 *
 * Ownership: strings a getter returns are malloc'd and owned by the caller;
 * settings passed in belong to the libconfig tree of the caller.
 */
#ifndef EGRESS_CFG_H
#define EGRESS_CFG_H

#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

#include "egress/buf.h"

#define EX_CONFIG_STATUS	78	/* sysexits.h EX_CONFIG */
#define CFG_MAX_ERRORS		50

/* Collected configuration errors, one per line: "FILE:LINE: KEY: text". */
struct cfg_errors {
	struct buf	 text;
	int		 count;
	const char	*file;		/* not owned */
	/* the source text last read back (integer literals), owned */
	char		*src_name;
	char		*src_text;
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
 * 1 when it was set, -1 after recording an error. Integers are checked as
 * written in the file: a literal libconfig wrapped or clamped (4294967297,
 * 99999999999999999999) is reported with its own text.
 */
int	cfg_int(const config_setting_t *grp, const char *key, long long min,
	    long long max, long long *out, struct cfg_errors *);
int	cfg_bool(const config_setting_t *grp, const char *key, int *out,
	    struct cfg_errors *);
/* *out is replaced by a malloc'd copy (the old value is freed). */
int	cfg_string(const config_setting_t *grp, const char *key, char **out,
	    struct cfg_errors *);
/*
 * A header field name (RFC 5322 1*ftext, at most 76 characters): anything
 * else, a CR or LF above all, is an error that shows the value escaped.
 */
int	cfg_header_name(const config_setting_t *grp, const char *key,
	    char **out, struct cfg_errors *);
int	cfg_header_name_is_valid(const char *name);
/*
 * A milter socket: unix:/ABSOLUTE/PATH (local: too), inet:PORT[@HOST] or
 * inet6:PORT[@HOST] with PORT 1..65535. cfg_socket_check() returns 0 or -1
 * with the reason in why (for a -p given on the command line).
 */
int	cfg_socket(const config_setting_t *grp, const char *key, char **out,
	    struct cfg_errors *);
int	cfg_socket_check(const char *spec, char *why, size_t whysz);
/* A client address: HOST:PORT, [V6]:PORT or unix:/PATH (Redis). */
int	cfg_hostport_check(const char *spec, char *why, size_t whysz);
/* Durations: integer seconds or a string "90s", "30m", "12h", "7d", "2w". */
int	cfg_duration(const config_setting_t *grp, const char *key,
	    long long min, long long max, long long *out, struct cfg_errors *);
/* Sizes: integer bytes or a string "512", "64K", "25M", "1G". */
int	cfg_size(const config_setting_t *grp, const char *key,
	    long long min, long long max, long long *out, struct cfg_errors *);
/* Report every member of grp whose name is not in the NULL-ended list. */
void	cfg_allow_keys(const config_setting_t *grp, const char *const *keys,
	    struct cfg_errors *);

/* The member key of grp (grp may be NULL), or NULL. */
const config_setting_t *cfg_member(const config_setting_t *grp, const char *key);
/*
 * The member key of parent that must be a group: anything else is recorded
 * as an error and NULL is returned (NULL too when absent).
 */
const config_setting_t *cfg_group(const config_setting_t *parent,
	    const char *key, struct cfg_errors *);

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

#endif
