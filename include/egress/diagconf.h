/*
 * diagconf - the settings of `egressctl diagnose` (`diagnose` section).
 *
 * Parsed and validated in the core; read by the CLI, which owns the
 * resolver. Strings are malloc'd and owned by the struct (diag_conf_fini).
 * Nothing here is used on the milter's path: the daemon makes no DNS
 * queries.
 */
#ifndef EGRESS_DIAGCONF_H
#define EGRESS_DIAGCONF_H

#include <libconfig.h>

#include "egress/cfg.h"

struct diagnose_conf {
	struct strlist	egress_ips;	/* the server's outbound addresses */
	char		*helo;		/* its HELO name, or NULL */
	struct strlist	dnsbl;		/* block list zones */
	struct strlist	dnswl;		/* allow list zones */
	struct strlist	stubs;		/* "ZONE=ADDR@PORT": ask ADDR for ZONE */
	long long	timeout_ms;	/* per query */
	long long	max_queries;	/* per diagnosis */
	char		*trust_anchor;	/* DNSSEC root key file, or NULL */
};

__attribute__((warn_unused_result))
int	diagnose_conf_default(struct diagnose_conf *);
void	diagnose_conf_fini(struct diagnose_conf *);
/* Parse the `diagnose` group (may be NULL) over the defaults; 0 or -1. */
int	diagnose_config_load(struct diagnose_conf *, const config_setting_t *grp,
	    struct cfg_errors *errs);

#endif
