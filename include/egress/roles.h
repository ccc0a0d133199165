/*
 * roles - which job the milter does for a message: outbound checks, bounce
 * watching, both or neither, decided per listener and per client.
 *
 * A listener is told apart by the MTA's {daemon_name} macro (Postfix:
 * milter_macro_daemon_name, e.g. "-o milter_macro_daemon_name=ORIGINATING"
 * on the submission services; Sendmail: the DaemonPortOptions Name=). The
 * `roles` section maps daemon names to a mode; a listener not named gets
 * roles.default.
 *
 * Modes: "outbound" checks what local users submit and watches no bounces
 * (a DSN submitted by a local client must never count); "bounces" watches
 * DSNs and leaves strangers' mail alone (never checked, repaired, refused
 * or recorded), but a message on it that is SASL-authenticated, from a
 * client in roles.internal_networks, or submitted without SMTP (Postfix's
 * cleanup for sendmail(1) and pickup) is still a submission and checked;
 * "both" does both for every message (the behaviour without a `roles`
 * section); "off" accepts everything untouched.
 *
 * role_decide() is pure: it reads the settings and the facts it is given.
 * Ownership: the settings own their strings (roles_conf_fini); a role's
 * `why` points to static text.
 */
#ifndef EGRESS_ROLES_H
#define EGRESS_ROLES_H

#include <stddef.h>

#include <libconfig.h>

#include "egress/cfg.h"

enum role_mode {
	ROLE_MODE_BOTH = 0,
	ROLE_MODE_OUTBOUND,
	ROLE_MODE_BOUNCES,
	ROLE_MODE_OFF,
};

struct roles_conf {
	enum role_mode	 default_mode;
	struct strlist	 names[4];	/* daemon names, indexed by mode */
	struct cidr	*internal;	/* roles.internal_networks */
	size_t		 ninternal;
};

/* What the MTA told about the message (any field may be NULL/0). */
struct role_facts {
	const char	*daemon_name;	/* {daemon_name} */
	const char	*auth_user;	/* {auth_authen} */
	const char	*client_addr;	/* {client_addr} */
	int		 nonsmtp;	/* submitted without SMTP */
};

struct role {
	enum role_mode	 listener;	/* the listener's mode */
	int		 outbound;	/* check, act, keep the sender record */
	int		 bounces;	/* recognise and record bounces */
	const char	*why;		/* static: listener, sasl, internal,
					 * nonsmtp, stranger, off */
};

void	role_decide(const struct roles_conf *, const struct role_facts *,
	    struct role *);
/* "both", "outbound", "bounces", "off". */
const char *role_mode_name(enum role_mode);
/* Parse a mode name; 0 or -1. */
int	role_mode_parse(const char *, enum role_mode *);

__attribute__((warn_unused_result))
int	roles_conf_default(struct roles_conf *);
void	roles_conf_fini(struct roles_conf *);
/* Load the `roles` group (may be NULL) over the defaults; 0 or -1. */
int	roles_config_load(struct roles_conf *, const config_setting_t *grp,
	    struct cfg_errors *);

#endif
