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
 * Assembly only: the sections with a module of their own (content, bounce,
 * policy, store) are parsed by that module's X_config_load() with the cfg_*
 * plumbing of cfg.h; config.c runs them from one table of sections. The
 * dependencies point one way: config -> section loaders -> cfg.
 */
#ifndef EGRESS_CONFIG_H
#define EGRESS_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

#include "egress/batv.h"
#include "egress/bounce.h"
#include "egress/buf.h"
#include "egress/cfg.h"
#include "egress/content.h"
#include "egress/diagconf.h"
#include "egress/findings.h"
#include "egress/limits.h"
#include "egress/metrics.h"
#include "egress/roles.h"
#include "egress/sender.h"
#include "egress/storeconf.h"

enum mode { MODE_ENFORCE = 0, MODE_MONITOR };

/* Per-check settings, indexed like the registry in checks.h. */
struct check_conf {
	enum action	 action;
	int		 score;
	char		*reply;		/* "554 5.6.0 text" or NULL (no reply) */
};


struct milter_conf {
	char		*socket;		/* unix:PATH or inet:PORT@HOST */
	long long	 socket_mode;
	char		*socket_group;
	char		*spool_dir;		/* body copies for the line repair */
	char		*user;
	char		*pidfile;
	char		*syslog_facility;
	char		*syslog_ident;
	long long	 timeout;		/* libmilter I/O timeout, seconds */
	long long	 backlog;
	char		*log_file;		/* NULL: syslog */
	long long	 shutdown_timeout;	/* seconds to wait for sessions */
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
	struct diagnose_conf diagnose;		/* `diagnose` section (diagconf.h) */
	struct metrics_conf metrics;		/* `metrics` section (metrics.h) */
	struct roles_conf roles;		/* `roles` section (roles.h) */
	struct batv_conf batv;			/* `batv` section (batv.h) */
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
