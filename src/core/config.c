/*
 * config.c - load and validate the libconfig file into an immutable snapshot.
 *
 * Every key is looked up through the typed cfg_* helpers, which record
 * "FILE:LINE: KEY: text" errors and keep going, so one run reports every
 * mistake. Unknown keys are errors too (a typo must not silently fall back to
 * a default). The snapshot is built completely before it is returned; a
 * failed load returns NULL and never a half-built config.
 *
 * Module sections (content, bounce, store, policy) are parsed by their own
 * modules through the cfg_* plumbing (cfg.c); the table `sections` below is
 * the one place they plug in.
 *
 * Threading: config_load() is re-entrant; a snapshot is read-only after load.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libconfig.h>

#include "egress/checks.h"
#include "egress/config.h"
#include "egress/rfc5322.h"


/* ---- the module sections ---- */

/*
 * Each section with a module of its own: its top-level key, how to fill its
 * defaults, free it and load it over the defaults. One table, so adding a
 * section is one row and the key list, the defaults, the loading and the
 * freeing cannot disagree. Rows run in order: `limits` is loaded before any
 * of them (bounce and content read it).
 */
struct section {
	const char	*key;
	int		(*defaults)(struct config *);
	void		(*fini)(struct config *);
	int		(*load)(struct config *, const config_setting_t *,
			    const char *confdir, struct cfg_errors *);
};

static int  store_defaults(struct config *c) { return store_conf_default(&c->store); }
static void store_fini(struct config *c) { store_conf_fini(&c->store); }
static int
store_load(struct config *c, const config_setting_t *g, const char *dir,
    struct cfg_errors *e)
{
	(void)dir;
	return store_config_load(&c->store, g, e);
}

/* `ledger` fills a part of the store settings: defaults and freeing are theirs. */
static int  ledger_defaults(struct config *c) { (void)c; return 0; }
static void ledger_fini(struct config *c) { (void)c; }
static int
ledger_load(struct config *c, const config_setting_t *g, const char *dir,
    struct cfg_errors *e)
{
	(void)dir;
	return ledger_config_load(&c->store.ledger, g, e);
}

static int  policy_defaults(struct config *c) { return policy_conf_default(&c->policy); }
static void policy_fini(struct config *c) { policy_conf_fini(&c->policy); }
static int
policy_load(struct config *c, const config_setting_t *g, const char *dir,
    struct cfg_errors *e)
{
	(void)dir;
	return policy_config_load(&c->policy, g, e);
}

static int  bounce_defaults(struct config *c) { return bounce_conf_default(&c->bounce); }
static void bounce_fini(struct config *c) { bounce_conf_fini(&c->bounce); }
static int
bounce_load(struct config *c, const config_setting_t *g, const char *dir,
    struct cfg_errors *e)
{
	if (bounce_config_load(&c->bounce, g, dir, &c->limits, e) == 0)
		return 0;
	if (e->count == 0)
		cfg_error(e, NULL, "bounce", "cannot load");
	return -1;
}

static int  content_defaults(struct config *c) { return content_config_defaults(&c->content); }
static void content_fini(struct config *c) { content_config_fini(&c->content); }
static int
content_load(struct config *c, const config_setting_t *g, const char *dir,
    struct cfg_errors *e)
{
	return content_config_load(&c->content, g, dir, &c->limits, e);
}

static int  diagnose_defaults(struct config *c) { return diagnose_conf_default(&c->diagnose); }
static void diagnose_fini(struct config *c) { diagnose_conf_fini(&c->diagnose); }
static int
diagnose_load(struct config *c, const config_setting_t *g, const char *dir,
    struct cfg_errors *e)
{
	(void)dir;
	return diagnose_config_load(&c->diagnose, g, e);
}

static int  metrics_defaults(struct config *c) { return metrics_conf_default(&c->metrics); }
static void metrics_fini(struct config *c) { metrics_conf_fini(&c->metrics); }
static int
metrics_load(struct config *c, const config_setting_t *g, const char *dir,
    struct cfg_errors *e)
{
	(void)dir;
	return metrics_config_load(&c->metrics, g, e);
}

static int  roles_defaults(struct config *c) { return roles_conf_default(&c->roles); }
static void roles_fini(struct config *c) { roles_conf_fini(&c->roles); }
static int
roles_load(struct config *c, const config_setting_t *g, const char *dir,
    struct cfg_errors *e)
{
	(void)dir;
	return roles_config_load(&c->roles, g, e);
}

static int  batv_defaults(struct config *c) { batv_conf_default(&c->batv); return 0; }
static void batv_fini(struct config *c) { batv_conf_fini(&c->batv); }
static int
batv_load(struct config *c, const config_setting_t *g, const char *dir,
    struct cfg_errors *e)
{
	(void)dir;
	return batv_config_load(&c->batv, g, e);
}

static const struct section sections[] = {
	{ "store",   store_defaults,   store_fini,   store_load },
	{ "ledger",  ledger_defaults,  ledger_fini,  ledger_load },
	{ "policy",  policy_defaults,  policy_fini,  policy_load },
	{ "bounce",  bounce_defaults,  bounce_fini,  bounce_load },
	{ "content", content_defaults, content_fini, content_load },
	{ "diagnose", diagnose_defaults, diagnose_fini, diagnose_load },
	{ "metrics", metrics_defaults, metrics_fini, metrics_load },
	{ "roles",   roles_defaults,   roles_fini,   roles_load },
	{ "batv",    batv_defaults,    batv_fini,    batv_load },
};
#define NSECTIONS	(sizeof(sections) / sizeof(sections[0]))

/* ---- the snapshot ---- */

static const struct limits default_limits = {
	.message_size = 50LL * 1024 * 1024,
	.recipients = 1000,
	.header_bytes = 256 * 1024,
	.header_count = 1000,
	.line_length = 998,
	.mime_depth = 20,
	.mime_parts = 500,
	.boundary_length = 70,
	.part_header_bytes = 64 * 1024,
	.decoded_bytes = 1024 * 1024,
	.urls = 200,
	.findings = 256,
	.pcre2_match_limit = 100000,
	.pcre2_depth_limit = 5000,
	.pcre2_heap_limit = 20 * 1024,
};

static int
config_set_defaults(struct config *c)
{
	const struct check_def *defs;
	size_t i;

	c->refs = 1;
	c->mode = MODE_ENFORCE;
	c->fail_action = ACT_TEMPFAIL;
	c->date_max_future = 2 * 3600;
	c->date_max_past = 30 * 86400;
	c->score_tag = 3;
	c->score_hold = 0;
	c->score_reject = 10;
	c->limits = default_limits;
	c->milter.socket_mode = 0660;
	c->milter.timeout = 600;
	c->milter.backlog = 128;
	c->milter.shutdown_timeout = 30;
	if ((c->tag_header = strdup("X-Egress-Findings")) == NULL ||
	    (c->hold_reason = strdup("milter-egress")) == NULL ||
	    (c->milter.socket = strdup("unix:/run/milter-egress/milter-egress.sock")) == NULL ||
	    (c->milter.syslog_facility = strdup("mail")) == NULL ||
	    (c->milter.syslog_ident = strdup("milter-egress")) == NULL ||
	    (c->milter.spool_dir = strdup("/tmp")) == NULL)
		return -1;
	c->nchecks = checks_table(&defs);
	if ((c->checks = calloc(c->nchecks, sizeof(*c->checks))) == NULL)
		return -1;
	for (i = 0; i < c->nchecks; i++) {
		c->checks[i].action = defs[i].action;
		c->checks[i].score = defs[i].score;
		if (defs[i].reply && (c->checks[i].reply = strdup(defs[i].reply)) == NULL)
			return -1;
	}
	for (i = 0; i < NSECTIONS; i++)
		if (sections[i].defaults(c) != 0)
			return -1;
	return 0;
}

void
config_free(struct config *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < NSECTIONS; i++)
		sections[i].fini(c);
	free(c->path);
	free(c->tag_header);
	free(c->hold_reason);
	free(c->repair_msgid_domain);
	free(c->milter.socket);
	free(c->milter.socket_group);
	free(c->milter.spool_dir);
	free(c->milter.user);
	free(c->milter.pidfile);
	free(c->milter.log_file);
	free(c->milter.syslog_facility);
	free(c->milter.syslog_ident);
	strlist_free(&c->exempt.senders);
	strlist_free(&c->exempt.auth_users);
	strlist_free(&c->exempt.recipient_domains);
	free(c->exempt.clients);
	if (c->checks)
		for (i = 0; i < c->nchecks; i++)
			free(c->checks[i].reply);
	free(c->checks);
	free(c);
}

/* Every plain default, nothing loaded (config_load loads the rest). */
static struct config *
config_new(void)
{
	struct config *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (config_set_defaults(c) != 0) {
		config_free(c);
		return NULL;
	}
	return c;
}

struct config *
config_default(void)
{
	struct cfg_errors e;
	struct config *c;
	int rc;

	if ((c = config_new()) == NULL)
		return NULL;
	/* Sections whose defaults need loading: the bounce patterns. */
	cfg_errors_init(&e, "(defaults)");
	rc = bounce_config_load(&c->bounce, NULL, NULL, &c->limits, &e);
	cfg_errors_fini(&e);
	if (rc != 0) {
		config_free(c);
		return NULL;
	}
	return c;
}

const struct check_conf *
config_check(const struct config *c, const char *id)
{
	int i = checks_index(id);

	return i < 0 ? NULL : &c->checks[i];
}

/*
 * A reply must look like "554 5.6.0 text": a 4xx/5xx code, an enhanced
 * status whose class matches the code's, then text. libmilter refuses other
 * shapes at run time, so catch them here.
 */
int config_reply_valid(const char *r);

int
config_reply_valid(const char *r)
{
	size_t n;

	if (!(r[0] == '4' || r[0] == '5') || !isdigit((unsigned char)r[1]) ||
	    !isdigit((unsigned char)r[2]) || r[3] != ' ')
		return 0;
	if (r[4] != r[0] || r[5] != '.')
		return 0;
	/* subject and detail: 1 to 3 digits each (RFC 3463 section 2) */
	r += 6;
	n = strspn(r, "0123456789");
	if (n < 1 || n > 3 || r[n] != '.')
		return 0;
	r += n + 1;
	n = strspn(r, "0123456789");
	if (n < 1 || n > 3)
		return 0;
	r += n;
	if (*r != ' ' || r[1] == '\0')
		return 0;
	for (r++; *r; r++)
		if ((unsigned char)*r < 0x20 || (unsigned char)*r > 0x7e ||
		    *r == '%')
			return 0;
	return 1;
}

static void
load_checks(struct config *c, const config_setting_t *list, struct cfg_errors *e)
{
	static const char *const keys[] = { "id", "action", "reply", "score", NULL };
	int i, n;

	/* "checks = [];" (an empty array) is no override, like "()" */
	if (list == NULL || (config_setting_type(list) == CONFIG_TYPE_ARRAY &&
	    config_setting_length(list) == 0))
		return;
	if (config_setting_type(list) != CONFIG_TYPE_LIST) {
		cfg_error(e, list, "checks",
		    "expected a list of groups ( { id = \"...\"; action = \"...\"; }, ... )");
		return;
	}
	n = config_setting_length(list);
	for (i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
		char *id = NULL, *act = NULL, *reply = NULL;
		long long score = 0;
		int idx, has_score;
		enum action a;

		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			cfg_error(e, g, "checks", "element %d is not a group", i);
			continue;
		}
		cfg_allow_keys(g, keys, e);
		if (cfg_string(g, "id", &id, e) <= 0) {
			if (id == NULL && cfg_member(g, "id") == NULL)
				cfg_error(e, g, "checks.id", "no \"id\" key in this entry");
			goto next;
		}
		if ((idx = checks_index(id)) < 0) {
			cfg_error(e, cfg_member(g, "id"), "checks.id",
			    "unknown check id \"%s\" (see egressctl checks)", id);
			goto next;
		}
		if (cfg_string(g, "action", &act, e) > 0) {
			if (action_parse(act, &a) != 0)
				cfg_error(e, cfg_member(g, "action"), "checks.action",
				    "unknown action \"%s\" (accept, tag, repair, hold, tempfail, reject)",
				    act);
			else
				c->checks[idx].action = a;
		}
		if (cfg_string(g, "reply", &reply, e) > 0) {
			if (reply[0] != '\0' && !config_reply_valid(reply))
				cfg_error(e, cfg_member(g, "reply"), "checks.reply",
				    "\"%s\" is not \"4xx|5xx X.Y.Z text\" with matching classes and no %% or control characters",
				    reply);
			else {
				free(c->checks[idx].reply);
				c->checks[idx].reply = reply[0] ? reply : NULL;
				if (reply[0] == '\0')
					free(reply);
				reply = NULL;
			}
		}
		has_score = cfg_int(g, "score", -1000, 1000, &score, e);
		if (has_score > 0)
			c->checks[idx].score = (int)score;
next:
		free(id);
		free(act);
		free(reply);
	}
}

static void
load_exempt(struct config *c, const config_setting_t *g, struct cfg_errors *e)
{
	static const char *const keys[] = { "senders", "auth_users", "clients",
	    "recipient_domains", NULL };
	struct strlist clients = { NULL, 0 };
	size_t i;

	if (g == NULL)
		return;
	cfg_allow_keys(g, keys, e);
	cfg_strlist(g, "senders", &c->exempt.senders, e);
	cfg_strlist(g, "auth_users", &c->exempt.auth_users, e);
	cfg_strlist(g, "recipient_domains", &c->exempt.recipient_domains, e);
	if (cfg_strlist(g, "clients", &clients, e) > 0 && clients.n > 0) {
		if ((c->exempt.clients = calloc(clients.n, sizeof(struct cidr))) == NULL)
			cfg_error(e, g, "exempt.clients", "out of memory");
		for (i = 0; c->exempt.clients && i < clients.n; i++) {
			if (cidr_parse(clients.v[i], &c->exempt.clients[c->exempt.nclients]) != 0)
				/* the element itself, for the line of a long list */
				cfg_error(e, config_setting_get_elem(cfg_member(g,
				    "clients"), (unsigned)i), "exempt.clients",
				    "\"%s\" is not an address or address/prefix",
				    clients.v[i]);
			else
				c->exempt.nclients++;
		}
	}
	strlist_free(&clients);
}

static void
load_limits(struct limits *l, const config_setting_t *g, struct cfg_errors *e)
{
	static const char *const keys[] = { "message_size", "recipients",
	    "header_bytes", "header_count", "line_length", "mime_depth",
	    "mime_parts", "boundary_length", "part_header_bytes",
	    "decoded_bytes", "urls", "findings", "pcre2_match_limit",
	    "pcre2_depth_limit", "pcre2_heap_limit", NULL };
	const long long G = 1024LL * 1024 * 1024;

	if (g == NULL)
		return;
	cfg_allow_keys(g, keys, e);
	cfg_size(g, "message_size", 0, 4 * G, &l->message_size, e);
	cfg_int(g, "recipients", 1, 100000, &l->recipients, e);
	cfg_size(g, "header_bytes", 1024, 64LL * 1024 * 1024, &l->header_bytes, e);
	cfg_int(g, "header_count", 10, 100000, &l->header_count, e);
	cfg_int(g, "line_length", 78, 1000000, &l->line_length, e);
	cfg_int(g, "mime_depth", 1, 100, &l->mime_depth, e);
	cfg_int(g, "mime_parts", 1, 100000, &l->mime_parts, e);
	cfg_int(g, "boundary_length", 1, 998, &l->boundary_length, e);
	cfg_size(g, "part_header_bytes", 1024, 16LL * 1024 * 1024, &l->part_header_bytes, e);
	cfg_size(g, "decoded_bytes", 1024, 1 * G, &l->decoded_bytes, e);
	cfg_int(g, "urls", 1, 1000000, &l->urls, e);
	cfg_int(g, "findings", 8, 100000, &l->findings, e);
	cfg_int(g, "pcre2_match_limit", 1000, 100000000, &l->pcre2_match_limit, e);
	cfg_int(g, "pcre2_depth_limit", 100, 10000000, &l->pcre2_depth_limit, e);
	cfg_int(g, "pcre2_heap_limit", 64, 4 * 1024 * 1024, &l->pcre2_heap_limit, e);
}

static void
load_milter(struct milter_conf *m, const config_setting_t *g, struct cfg_errors *e)
{
	static const char *const keys[] = { "socket", "socket_mode",
	    "socket_group", "user", "pidfile", "syslog_facility", "syslog_ident",
	    "timeout", "backlog", "spool_dir", "log_file", "shutdown_timeout",
	    NULL };
	static const char *const facilities[] = { "mail", "daemon", "user",
	    "local0", "local1", "local2", "local3", "local4", "local5",
	    "local6", "local7", NULL };
	size_t i;

	if (g == NULL)
		return;
	cfg_allow_keys(g, keys, e);
	cfg_socket(g, "socket", &m->socket, e);
	{
		char *mode = NULL, *end;

		/* libconfig has no octal integers: the mode is a string "0660". */
		if (cfg_string(g, "socket_mode", &mode, e) > 0) {
			errno = 0;
			m->socket_mode = strtoll(mode, &end, 8);
			/* octal digits only: strtoll would take " +0660" too */
			if (errno || end == mode || *end != '\0' || m->socket_mode < 0 ||
			    m->socket_mode > 0777 ||
			    mode[strspn(mode, "01234567")] != '\0')
				cfg_error(e, cfg_member(g, "socket_mode"), "socket_mode",
				    "\"%s\" is not an octal mode such as \"0660\"", mode);
		}
		free(mode);
	}
	cfg_string(g, "socket_group", &m->socket_group, e);
	if (cfg_string(g, "spool_dir", &m->spool_dir, e) > 0 &&
	    m->spool_dir[0] != '/')
		cfg_error(e, cfg_member(g, "spool_dir"), "spool_dir",
		    "\"%s\" is not an absolute path", m->spool_dir);
	cfg_string(g, "user", &m->user, e);
	if (cfg_string(g, "pidfile", &m->pidfile, e) > 0 && m->pidfile[0] != '\0' &&
	    m->pidfile[0] != '/')
		cfg_error(e, cfg_member(g, "pidfile"), "pidfile",
		    "\"%s\" is not an absolute path", m->pidfile);
	if (cfg_string(g, "log_file", &m->log_file, e) > 0) {
		if (m->log_file[0] == '\0') {
			free(m->log_file);
			m->log_file = NULL;
		} else if (m->log_file[0] != '/')
			cfg_error(e, cfg_member(g, "log_file"), "log_file",
			    "\"%s\" is not an absolute path", m->log_file);
	}
	cfg_duration(g, "shutdown_timeout", 0, 3600, &m->shutdown_timeout, e);
	cfg_string(g, "syslog_ident", &m->syslog_ident, e);
	if (cfg_string(g, "syslog_facility", &m->syslog_facility, e) > 0) {
		for (i = 0; facilities[i]; i++)
			if (strcmp(facilities[i], m->syslog_facility) == 0)
				break;
		if (facilities[i] == NULL)
			cfg_error(e, cfg_member(g, "syslog_facility"),
			    "milter.syslog_facility",
			    "unknown facility \"%s\" (mail, daemon, user, local0..local7)",
			    m->syslog_facility);
	}
	cfg_duration(g, "timeout", 1, 86400, &m->timeout, e);
	cfg_int(g, "backlog", 1, 65535, &m->backlog, e);
}

/* The directory part of path, for resolving relative data file names. */
static char *
config_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *d;

	if (slash == NULL)
		return strdup(".");
	if ((d = strndup(path, (size_t)(slash - path))) != NULL && d[0] == '\0') {
		free(d);
		d = strdup("/");
	}
	return d;
}

struct config *
config_load(const char *path, struct cfg_errors *e)
{
	static const char *const own_keys[] = { "mode", "fail_mode",
	    "tag_header", "hold_reason", "repair", "date", "scores", "limits",
	    "milter", "exempt", "checks", NULL };
	const char *top_keys[sizeof(own_keys) / sizeof(own_keys[0]) + NSECTIONS];
	size_t i, n;
	config_t lc;
	struct config *c = NULL;
	const config_setting_t *root, *g;
	char *s = NULL, *confdir = NULL;

	config_init(&lc);
	/* @include "FILE" is read from the directory of this file, not from
	 * the working directory (the daemon runs in /). */
	if ((confdir = config_dir(path)) == NULL) {
		cfg_error(e, NULL, "-", "out of memory");
		goto out;
	}
	config_set_include_dir(&lc, confdir);
	if (config_read_file(&lc, path) != CONFIG_TRUE) {
		if (config_error_type(&lc) == CONFIG_ERR_FILE_IO) {
			int err = errno;
			struct stat st;

			/* fopen() takes a directory; the read then fails quietly */
			if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
				err = EISDIR;
			cfg_error(e, NULL, "-", "cannot read file: %s",
			    err ? strerror(err) : "read error");
		} else {
			e->count++;
			if (buf_printf(&e->text, "%s:%d: syntax: %s\n",
			    config_error_file(&lc) ? config_error_file(&lc) : path,
			    config_error_line(&lc), config_error_text(&lc)) != BUF_OK)
				e->count++;
		}
		goto out;
	}
	if ((c = config_new()) == NULL || (c->path = strdup(path)) == NULL) {
		cfg_error(e, NULL, "-", "out of memory");
		goto out;
	}
	root = config_root_setting(&lc);
	for (n = 0; own_keys[n] != NULL; n++)
		top_keys[n] = own_keys[n];
	for (i = 0; i < NSECTIONS; i++)
		top_keys[n++] = sections[i].key;
	top_keys[n] = NULL;
	cfg_allow_keys(root, top_keys, e);

	if (cfg_string(root, "mode", &s, e) > 0) {
		if (strcmp(s, "enforce") == 0)
			c->mode = MODE_ENFORCE;
		else if (strcmp(s, "monitor") == 0)
			c->mode = MODE_MONITOR;
		else
			cfg_error(e, cfg_member(root, "mode"), "mode",
			    "\"%s\" is neither \"enforce\" nor \"monitor\"", s);
	}
	if (cfg_string(root, "fail_mode", &s, e) > 0) {
		if (strcmp(s, "accept") == 0)
			c->fail_action = ACT_ACCEPT;
		else if (strcmp(s, "tempfail") == 0)
			c->fail_action = ACT_TEMPFAIL;
		else if (strcmp(s, "reject") == 0)
			c->fail_action = ACT_REJECT;
		else
			cfg_error(e, cfg_member(root, "fail_mode"), "fail_mode",
			    "\"%s\" is not accept, tempfail or reject", s);
	}
	cfg_header_name(root, "tag_header", &c->tag_header, e);
	cfg_string(root, "hold_reason", &c->hold_reason, e);

	if ((g = cfg_group(root, "repair", e)) != NULL) {
		static const char *const keys[] = { "message_id_domain", NULL };

		cfg_allow_keys(g, keys, e);
		cfg_string(g, "message_id_domain", &c->repair_msgid_domain, e);
		if (c->repair_msgid_domain && c->repair_msgid_domain[0] == '\0') {
			free(c->repair_msgid_domain);
			c->repair_msgid_domain = NULL;
		}
	}
	if ((g = cfg_group(root, "date", e)) != NULL) {
		static const char *const keys[] = { "max_future", "max_past", NULL };

		cfg_allow_keys(g, keys, e);
		cfg_duration(g, "max_future", 0, 3650LL * 86400, &c->date_max_future, e);
		cfg_duration(g, "max_past", 0, 36500LL * 86400, &c->date_max_past, e);
	}
	if ((g = cfg_group(root, "scores", e)) != NULL) {
		static const char *const keys[] = { "tag", "hold", "reject", NULL };

		cfg_allow_keys(g, keys, e);
		cfg_int(g, "tag", 0, 100000, &c->score_tag, e);
		cfg_int(g, "hold", 0, 100000, &c->score_hold, e);
		cfg_int(g, "reject", 0, 100000, &c->score_reject, e);
	}
	load_limits(&c->limits, cfg_group(root, "limits", e), e);
	load_milter(&c->milter, cfg_group(root, "milter", e), e);
	load_exempt(c, cfg_group(root, "exempt", e), e);
	load_checks(c, cfg_member(root, "checks"), e);
	for (i = 0; i < NSECTIONS; i++)
		(void)sections[i].load(c, cfg_group(root, sections[i].key, e),
		    confdir, e);
out:
	free(s);
	free(confdir);
	config_destroy(&lc);
	if (e->count > 0) {
		config_free(c);
		return NULL;
	}
	return c;
}
