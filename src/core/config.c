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
 * modules; the MODULE-SECTIONS markers below show where they plug in.
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

/* ---- error collection ---- */

void
cfg_errors_init(struct cfg_errors *e, const char *file)
{
	buf_init(&e->text, 64 * 1024);
	e->count = 0;
	e->file = file ? file : "(config)";
}

void
cfg_errors_fini(struct cfg_errors *e)
{
	buf_fini(&e->text);
}

/*
 * The dotted path of a setting, e.g. "limits.mime_depth" or "checks.[2].id",
 * so an error names the key even when the same name occurs in several groups.
 */
static void
cfg_path(const config_setting_t *s, char *out, size_t outsz)
{
	const config_setting_t *chain[16];
	size_t n = 0, len = 0;
	int i;

	out[0] = '\0';
	for (; s != NULL && config_setting_parent(s) != NULL && n < 16;
	    s = config_setting_parent(s))
		chain[n++] = s;
	for (i = (int)n - 1; i >= 0 && len < outsz; i--) {
		const char *name = config_setting_name(chain[i]);
		int w;

		if (name)
			w = snprintf(out + len, outsz - len, "%s%s", len ? "." : "", name);
		else
			w = snprintf(out + len, outsz - len, "[%d]",
			    config_setting_index(chain[i]));
		if (w < 0)
			break;
		len += (size_t)w;
	}
}

void
cfg_error(struct cfg_errors *e, const config_setting_t *where, const char *key,
    const char *fmt, ...)
{
	char msg[512], path[256];
	va_list ap;
	int line = where ? (int)config_setting_source_line(where) : 0;
	/* A setting read from an @include file names that file. */
	const char *file = where && config_setting_source_file(where) ?
	    config_setting_source_file(where) : e->file;

	e->count++;
	if (e->count > CFG_MAX_ERRORS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Prefer the full path of the setting when it names this key. */
	if (where != NULL) {
		const char *name = config_setting_name(where);

		cfg_path(where, path, sizeof(path));
		if (path[0] && (key == NULL || name == NULL ||
		    strcmp(name, key) == 0 || strchr(key, '.') != NULL))
			key = path;
	}
	/* A full error buffer only loses text, never the count. */
	if (buf_printf(&e->text, "%s:%d: %s: %s\n", file, line,
	    key ? key : "-", msg) != BUF_OK)
		return;
}

/* ---- typed getters ---- */

static const config_setting_t *
cfg_member(const config_setting_t *grp, const char *key)
{
	if (grp == NULL)
		return NULL;
	return config_setting_get_member(grp, key);
}

static const char *
cfg_type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP:	 return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:	 return "an integer";
	case CONFIG_TYPE_FLOAT:	 return "a float";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL:	 return "a boolean";
	case CONFIG_TYPE_ARRAY:	 return "an array";
	case CONFIG_TYPE_LIST:	 return "a list";
	default:		 return "an unknown type";
	}
}

/*
 * A member that must be a group: anything else is an error (a scalar in
 * place of a group would otherwise be ignored silently, leaving every key
 * of that group at its default). Returns the group or NULL.
 */
static const config_setting_t *
cfg_group(const config_setting_t *parent, const char *key, struct cfg_errors *e)
{
	const config_setting_t *g = cfg_member(parent, key);

	if (g != NULL && config_setting_type(g) != CONFIG_TYPE_GROUP) {
		cfg_error(e, g, key, "expected a group { ... }, found %s",
		    cfg_type_name(config_setting_type(g)));
		return NULL;
	}
	return g;
}

int
cfg_int(const config_setting_t *grp, const char *key, long long min,
    long long max, long long *out, struct cfg_errors *e)
{
	const config_setting_t *s;
	long long v;
	int t;

	if ((s = cfg_member(grp, key)) == NULL)
		return 0;
	t = config_setting_type(s);
	if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
		cfg_error(e, s, key, "expected an integer, found %s",
		    cfg_type_name(t));
		return -1;
	}
	v = config_setting_get_int64(s);
	if (v < min || v > max) {
		cfg_error(e, s, key, "value %lld out of range [%lld, %lld]",
		    v, min, max);
		return -1;
	}
	*out = v;
	return 1;
}

int
cfg_bool(const config_setting_t *grp, const char *key, int *out,
    struct cfg_errors *e)
{
	const config_setting_t *s;

	if ((s = cfg_member(grp, key)) == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		cfg_error(e, s, key, "expected true or false, found %s",
		    cfg_type_name(config_setting_type(s)));
		return -1;
	}
	*out = config_setting_get_bool(s);
	return 1;
}

int
cfg_string(const config_setting_t *grp, const char *key, char **out,
    struct cfg_errors *e)
{
	const config_setting_t *s;
	char *copy;

	if ((s = cfg_member(grp, key)) == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		cfg_error(e, s, key, "expected a string, found %s",
		    cfg_type_name(config_setting_type(s)));
		return -1;
	}
	if ((copy = strdup(config_setting_get_string(s))) == NULL) {
		cfg_error(e, s, key, "out of memory");
		return -1;
	}
	free(*out);
	*out = copy;
	return 1;
}

/* Parse "123", "123s", "5m", "2h", "7d", "2w" into seconds. */
static int
parse_scaled(const char *s, int durations, long long *out)
{
	char *end;
	long long v, mul = 1;

	/* digits first: strtoll would also take " 30m", "+30m" and "-0" */
	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || errno || v < 0)
		return -1;
	if (*end != '\0') {
		switch (durations ? *end : toupper((unsigned char)*end)) {
		case 's': mul = durations ? 1 : -1; break;
		case 'm': mul = 60; break;
		case 'h': mul = 3600; break;
		case 'd': mul = 86400; break;
		case 'w': mul = 7 * 86400; break;
		case 'K': mul = 1024; break;
		case 'M': mul = 1024LL * 1024; break;
		case 'G': mul = 1024LL * 1024 * 1024; break;
		default: return -1;
		}
		if (mul < 0 || end[1] != '\0')
			return -1;
		/* Size units are matched upper-cased, so only K, M, G reach
		 * here for sizes; keep them out of durations. */
		if (durations && (*end == 'K' || *end == 'M' || *end == 'G'))
			return -1;
	}
	if (v > LLONG_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

static int
cfg_scaled(const config_setting_t *grp, const char *key, long long min,
    long long max, long long *out, struct cfg_errors *e, int durations)
{
	const config_setting_t *s;
	long long v;
	int t;

	if ((s = cfg_member(grp, key)) == NULL)
		return 0;
	t = config_setting_type(s);
	if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64)
		v = config_setting_get_int64(s);
	else if (t == CONFIG_TYPE_STRING) {
		if (parse_scaled(config_setting_get_string(s), durations, &v) != 0) {
			cfg_error(e, s, key, durations ?
			    "invalid duration \"%s\" (use 90, 90s, 30m, 12h, 7d, 2w)" :
			    "invalid size \"%s\" (use 512, 64K, 25M, 1G)",
			    config_setting_get_string(s));
			return -1;
		}
	} else {
		cfg_error(e, s, key, "expected a %s, found %s",
		    durations ? "duration" : "size", cfg_type_name(t));
		return -1;
	}
	if (v < min || v > max) {
		cfg_error(e, s, key, "value %lld out of range [%lld, %lld]",
		    v, min, max);
		return -1;
	}
	*out = v;
	return 1;
}

int
cfg_duration(const config_setting_t *grp, const char *key, long long min,
    long long max, long long *out, struct cfg_errors *e)
{
	return cfg_scaled(grp, key, min, max, out, e, 1);
}

int
cfg_size(const config_setting_t *grp, const char *key, long long min,
    long long max, long long *out, struct cfg_errors *e)
{
	return cfg_scaled(grp, key, min, max, out, e, 0);
}

void
cfg_allow_keys(const config_setting_t *grp, const char *const *keys,
    struct cfg_errors *e)
{
	int i, n;
	size_t k;

	if (grp == NULL)
		return;
	n = config_setting_length(grp);
	for (i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(grp, (unsigned)i);
		const char *name = config_setting_name(m);

		if (name == NULL)
			continue;
		for (k = 0; keys[k] != NULL; k++)
			if (strcmp(keys[k], name) == 0)
				break;
		if (keys[k] == NULL)
			cfg_error(e, m, name, "unknown key");
	}
}

void
strlist_free(struct strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int
strlist_has_ci(const struct strlist *l, const char *s)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcasecmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

int
cfg_strlist(const config_setting_t *grp, const char *key, struct strlist *out,
    struct cfg_errors *e)
{
	const config_setting_t *s;
	struct strlist l = { NULL, 0 };
	int i, n, t;

	if ((s = cfg_member(grp, key)) == NULL)
		return 0;
	t = config_setting_type(s);
	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
		cfg_error(e, s, key, "expected a list of strings [\"a\", \"b\"], found %s",
		    cfg_type_name(t));
		return -1;
	}
	n = config_setting_length(s);
	if ((l.v = calloc((size_t)n + 1, sizeof(char *))) == NULL) {
		cfg_error(e, s, key, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(s, (unsigned)i);

		if (config_setting_type(m) != CONFIG_TYPE_STRING) {
			cfg_error(e, m, key, "element %d is not a string", i);
			strlist_free(&l);
			return -1;
		}
		if ((l.v[l.n] = strdup(config_setting_get_string(m))) == NULL) {
			cfg_error(e, m, key, "out of memory");
			strlist_free(&l);
			return -1;
		}
		l.n++;
	}
	strlist_free(out);
	*out = l;
	return 1;
}

/* ---- CIDR ---- */

int
cidr_parse(const char *s, struct cidr *c)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	long prefix;
	char *end;

	if (alen == 0 || alen >= sizeof(addr))
		return -1;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	memset(c, 0, sizeof(*c));
	if (inet_pton(AF_INET, addr, c->addr) == 1) {
		c->family = AF_INET;
		c->prefix = 32;
	} else if (inet_pton(AF_INET6, addr, c->addr) == 1) {
		c->family = AF_INET6;
		c->prefix = 128;
	} else
		return -1;
	if (slash) {
		if (!isdigit((unsigned char)slash[1]))	/* not " 8", "+8" */
			return -1;
		errno = 0;
		prefix = strtol(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end != '\0' || prefix < 0 ||
		    prefix > c->prefix)
			return -1;
		c->prefix = (int)prefix;
	}
	return 0;
}

int
cidr_match(const struct cidr *c, const char *s)
{
	uint8_t a[16];
	int family, bits, i;
	char tmp[INET6_ADDRSTRLEN + 1];
	size_t n = strlen(s);

	/* Postfix/Sendmail give "[192.0.2.1]" or "IPv6:..." forms at times. */
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']' && n - 2 < sizeof(tmp)) {
		memcpy(tmp, s + 1, n - 2);
		tmp[n - 2] = '\0';
		s = tmp;
	}
	if (strncasecmp(s, "IPv6:", 5) == 0)
		s += 5;
	if (inet_pton(AF_INET, s, a) == 1)
		family = AF_INET;
	else if (inet_pton(AF_INET6, s, a) == 1)
		family = AF_INET6;
	else
		return 0;
	/* An IPv4 client on a dual-stack socket may be shown as ::ffff:a.b.c.d. */
	if (family == AF_INET6 && c->family == AF_INET &&
	    memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
		memmove(a, a + 12, 4);
		family = AF_INET;
	}
	if (family != c->family)
		return 0;
	bits = c->prefix;
	for (i = 0; bits > 0; i++, bits -= 8) {
		uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));

		if ((a[i] & mask) != (c->addr[i] & mask))
			return 0;
	}
	return 1;
}

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
	if ((c->tag_header = strdup("X-Egress-Findings")) == NULL ||
	    (c->hold_reason = strdup("milter-egress")) == NULL ||
	    (c->milter.socket = strdup("unix:/run/milter-egress/milter-egress.sock")) == NULL ||
	    (c->milter.syslog_facility = strdup("mail")) == NULL ||
	    (c->milter.syslog_ident = strdup("milter-egress")) == NULL)
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
	/* MODULE-SECTIONS: defaults */
	if (store_conf_default(&c->store) != 0 ||
	    policy_conf_default(&c->policy) != 0 ||
	    bounce_conf_default(&c->bounce) != 0 ||
	    content_config_defaults(&c->content) != 0)
		return -1;
	return 0;
}

void
config_free(struct config *c)
{
	size_t i;

	if (c == NULL)
		return;
	/* MODULE-SECTIONS: fini */
	store_conf_fini(&c->store);
	policy_conf_fini(&c->policy);
	bounce_conf_fini(&c->bounce);
	content_config_fini(&c->content);
	free(c->path);
	free(c->tag_header);
	free(c->hold_reason);
	free(c->repair_msgid_domain);
	free(c->milter.socket);
	free(c->milter.socket_group);
	free(c->milter.user);
	free(c->milter.pidfile);
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
	    "timeout", "backlog", NULL };
	static const char *const facilities[] = { "mail", "daemon", "user",
	    "local0", "local1", "local2", "local3", "local4", "local5",
	    "local6", "local7", NULL };
	size_t i;

	if (g == NULL)
		return;
	cfg_allow_keys(g, keys, e);
	if (cfg_string(g, "socket", &m->socket, e) > 0 &&
	    strncmp(m->socket, "unix:", 5) != 0 &&
	    strncmp(m->socket, "local:", 6) != 0 &&
	    strncmp(m->socket, "inet:", 5) != 0 &&
	    strncmp(m->socket, "inet6:", 6) != 0)
		cfg_error(e, cfg_member(g, "socket"), "milter.socket",
		    "\"%s\" is not unix:PATH, inet:PORT@HOST or inet6:PORT@HOST",
		    m->socket);
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
	cfg_string(g, "user", &m->user, e);
	cfg_string(g, "pidfile", &m->pidfile, e);
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
	static const char *const top_keys[] = { "mode", "fail_mode",
	    "tag_header", "hold_reason", "repair", "date", "scores", "limits",
	    "milter", "exempt", "checks",
	    /* MODULE-SECTIONS: top-level keys */
	    "content", "bounce", "store", "policy", NULL };
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
	if (cfg_string(root, "tag_header", &c->tag_header, e) > 0) {
		if (!rfc5322_field_name_is_valid(c->tag_header,
		    strlen(c->tag_header)))
			cfg_error(e, cfg_member(root, "tag_header"), "tag_header",
			    "\"%s\" is not a valid header field name", c->tag_header);
	}
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
	/* MODULE-SECTIONS: load (each module: X_config_load(&c->X, cfg_member(root, "X"), confdir, ..., e)) */
	store_config_load(&c->store, cfg_member(root, "store"), e);
	policy_config_load(&c->policy, cfg_member(root, "policy"), e);
	if (bounce_config_load(&c->bounce, cfg_member(root, "bounce"), confdir,
	    &c->limits, e) != 0 && e->count == 0)
		cfg_error(e, NULL, "bounce", "cannot load");
	(void)content_config_load(&c->content, cfg_member(root, "content"),
	    confdir, &c->limits, e);
	(void)confdir;
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
