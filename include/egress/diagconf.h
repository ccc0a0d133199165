/*
 * diagconf - the settings of `egressctl diagnose` (`diagnose` section).
 *
 * Parsed and validated in the core; read by egressctl diagnose and by the
 * daemon's optional background thread (preflight, self-check), which own
 * the resolver. Strings are malloc'd and owned by the struct
 * (diagnose_conf_fini). No milter callback makes a DNS query.
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
	/* in the daemon, both off by default */
	enum preflight_mode { PREFLIGHT_OFF = 0, PREFLIGHT_TAG, PREFLIGHT_HOLD } preflight;
	long long	preflight_ttl;	/* seconds a domain's answer is kept */
	char		*preflight_header;	/* the tag header's name */
	struct strlist	dkim_signed_domains;	/* signed by a later filter */
	long long	selfcheck_interval;	/* seconds; 0 = off */
};

__attribute__((warn_unused_result))
int	diagnose_conf_default(struct diagnose_conf *);
void	diagnose_conf_fini(struct diagnose_conf *);
/* Parse the `diagnose` group (may be NULL) over the defaults; 0 or -1. */
int	diagnose_config_load(struct diagnose_conf *, const config_setting_t *grp,
	    struct cfg_errors *errs);

#endif
