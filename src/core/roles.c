/*
 * roles.c - the `roles` section and the per-message role decision.
 *
 * The decision is a table lookup and at most one CIDR walk: no allocation,
 * no clock, no I/O. A daemon name is matched case-insensitively and whole
 * (Postfix and Sendmail pass it as the operator wrote it). A name listed
 * under two modes is a configuration error, so the lookup order never
 * decides anything.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libconfig.h>

#include "egress/cfg.h"
#include "egress/roles.h"

static const char *const mode_names[] = { "both", "outbound", "bounces", "off" };
#define NMODES	(sizeof(mode_names) / sizeof(mode_names[0]))

const char *
role_mode_name(enum role_mode m)
{
	return (size_t)m < NMODES ? mode_names[m] : "?";
}

int
role_mode_parse(const char *s, enum role_mode *out)
{
	size_t i;

	for (i = 0; i < NMODES; i++)
		if (strcmp(s, mode_names[i]) == 0) {
			*out = (enum role_mode)i;
			return 0;
		}
	return -1;
}

static int
is_internal(const struct roles_conf *rc, const char *addr)
{
	size_t i;

	if (addr == NULL || addr[0] == '\0')
		return 0;
	for (i = 0; i < rc->ninternal; i++)
		if (cidr_match(&rc->internal[i], addr))
			return 1;
	return 0;
}

void
role_decide(const struct roles_conf *rc, const struct role_facts *f,
    struct role *r)
{
	size_t m;

	r->listener = rc->default_mode;
	if (f->daemon_name != NULL && f->daemon_name[0] != '\0')
		for (m = 0; m < NMODES; m++)
			if (strlist_has_ci(&rc->names[m], f->daemon_name)) {
				r->listener = (enum role_mode)m;
				break;
			}
	r->outbound = 0;
	r->bounces = 0;
	switch (r->listener) {
	case ROLE_MODE_OFF:
		r->why = "off";
		return;
	case ROLE_MODE_OUTBOUND:
		r->outbound = 1;
		r->why = "listener";
		return;
	case ROLE_MODE_BOTH:
		r->outbound = 1;
		r->bounces = 1;
		r->why = "listener";
		return;
	case ROLE_MODE_BOUNCES:
		break;
	}
	r->bounces = 1;
	r->outbound = 1;
	if (f->nonsmtp)
		r->why = "nonsmtp";
	else if (f->auth_user != NULL && f->auth_user[0] != '\0')
		r->why = "sasl";
	else if (is_internal(rc, f->client_addr))
		r->why = "internal";
	else {
		r->outbound = 0;
		r->why = "stranger";
	}
}

int
roles_conf_default(struct roles_conf *rc)
{
	memset(rc, 0, sizeof(*rc));
	rc->default_mode = ROLE_MODE_BOTH;
	return 0;
}

void
roles_conf_fini(struct roles_conf *rc)
{
	size_t m;

	for (m = 0; m < NMODES; m++)
		strlist_free(&rc->names[m]);
	free(rc->internal);
	rc->internal = NULL;
	rc->ninternal = 0;
}

int
roles_config_load(struct roles_conf *rc, const config_setting_t *grp,
    struct cfg_errors *e)
{
	static const char *const keys[] = { "default", "both", "outbound",
	    "bounces", "off", "internal_networks", NULL };
	struct strlist nets = { NULL, 0 };
	char *s = NULL;
	size_t m, k, i;
	int before = e->count;

	if (grp == NULL)
		return 0;
	cfg_allow_keys(grp, keys, e);
	if (cfg_string(grp, "default", &s, e) > 0 &&
	    role_mode_parse(s, &rc->default_mode) != 0)
		cfg_error(e, cfg_member(grp, "default"), "roles.default",
		    "\"%s\" is not both, outbound, bounces or off", s);
	free(s);
	for (m = 0; m < NMODES; m++)
		cfg_strlist(grp, mode_names[m], &rc->names[m], e);
	/* One mode per daemon name. */
	for (m = 0; m < NMODES; m++)
		for (i = 0; i < rc->names[m].n; i++) {
			const char *name = rc->names[m].v[i];

			if (name[0] == '\0')
				cfg_error(e, config_setting_get_elem(cfg_member(grp,
				    mode_names[m]), (unsigned)i), mode_names[m],
				    "an empty daemon name");
			for (k = m + 1; k < NMODES; k++)
				if (strlist_has_ci(&rc->names[k], name))
					cfg_error(e, cfg_member(grp, mode_names[k]),
					    mode_names[k],
					    "daemon name \"%s\" is listed under %s too",
					    name, mode_names[m]);
		}
	if (cfg_strlist(grp, "internal_networks", &nets, e) > 0 && nets.n > 0) {
		if ((rc->internal = calloc(nets.n, sizeof(*rc->internal))) == NULL)
			cfg_error(e, grp, "roles.internal_networks", "out of memory");
		for (i = 0; rc->internal != NULL && i < nets.n; i++) {
			if (cidr_parse(nets.v[i], &rc->internal[rc->ninternal]) != 0)
				cfg_error(e, config_setting_get_elem(cfg_member(grp,
				    "internal_networks"), (unsigned)i),
				    "roles.internal_networks",
				    "\"%s\" is not an address or address/prefix",
				    nets.v[i]);
			else
				rc->ninternal++;
		}
	}
	strlist_free(&nets);
	return e->count > before ? -1 : 0;
}
