/*
 * cfg.c - configuration plumbing: error collection and typed getters.
 *
 * A leaf of the core: it knows libconfig and struct buf, nothing of the
 * sections that use it. Every getter records "FILE:LINE: KEY: text" errors
 * and returns, so one run reports every mistake; the callers (the section
 * loaders, then the snapshot assembly in config.c) decide what a missing key
 * means.
 *
 * Threading: re-entrant; nothing is shared between calls.
 */
#include <sys/socket.h>
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

#include "egress/cfg.h"
/* ---- error collection ---- */

void
cfg_errors_init(struct cfg_errors *e, const char *file)
{
	buf_init(&e->text, 64 * 1024);
	e->count = 0;
	e->file = file ? file : "(config)";
	e->src_name = NULL;
	e->src_text = NULL;
}

void
cfg_errors_fini(struct cfg_errors *e)
{
	buf_fini(&e->text);
	free(e->src_name);
	free(e->src_text);
	e->src_name = NULL;
	e->src_text = NULL;
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

const config_setting_t *
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
const config_setting_t *
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

/* ---- integers as written ---- */

/*
 * libconfig 1.5 keeps an integer literal that does not fit its type without
 * a word: 4294967297 becomes 1 and 99999999999999999999 becomes -1 (or
 * LLONG_MAX with an L suffix). The value a setting really had is read back
 * from its source line: the literal after "NAME =" or "NAME:". The file is
 * read once per error collection (src_name, src_text) and at most
 * CFG_SRC_MAX bytes of it.
 */
#define CFG_SRC_MAX	(16 * 1024 * 1024)

static const char *
cfg_source_line(struct cfg_errors *e, const char *file, int line)
{
	const char *p;
	int n;

	if (file == NULL || line <= 0)
		return NULL;
	if (e->src_name == NULL || strcmp(e->src_name, file) != 0) {
		FILE *fp;
		size_t len;

		free(e->src_name);
		free(e->src_text);
		e->src_name = NULL;
		e->src_text = NULL;
		if ((fp = fopen(file, "r")) == NULL)
			return NULL;
		if ((e->src_text = malloc(CFG_SRC_MAX + 1)) == NULL) {
			fclose(fp);
			return NULL;
		}
		len = fread(e->src_text, 1, CFG_SRC_MAX, fp);
		fclose(fp);
		e->src_text[len] = '\0';
		if ((e->src_name = strdup(file)) == NULL) {
			free(e->src_text);
			e->src_text = NULL;
			return NULL;
		}
	}
	for (p = e->src_text, n = 1; n < line && p != NULL; n++)
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	return p;
}

static int
cfg_is_name_char(int ch)
{
	return isalnum(ch) || ch == '_' || ch == '-' || ch == '*';
}

/*
 * The literal of the named setting s on its source line, copied to lit.
 * Returns 0, or -1 when it cannot be found (an array element, a file that
 * changed since it was parsed): the caller then trusts libconfig's value.
 */
static int
cfg_literal(const config_setting_t *s, struct cfg_errors *e, char *lit,
    size_t litsz)
{
	const char *name = config_setting_name(s), *file, *p, *end;
	size_t nlen, k;

	if (name == NULL)
		return -1;
	file = config_setting_source_file(s) ? config_setting_source_file(s) :
	    e->file;
	if ((p = cfg_source_line(e, file, (int)config_setting_source_line(s))) == NULL)
		return -1;
	end = strchr(p, '\n');
	if (end == NULL)
		end = p + strlen(p);
	nlen = strlen(name);
	for (; p + nlen <= end; p++) {
		const char *q = p + nlen;

		if (strncmp(p, name, nlen) != 0 ||
		    (p > e->src_text && cfg_is_name_char((unsigned char)p[-1])) ||
		    (q < end && cfg_is_name_char((unsigned char)*q)))
			continue;
		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		if (q >= end || (*q != '=' && *q != ':'))
			continue;
		for (q++; q < end && (*q == ' ' || *q == '\t'); q++)
			;
		for (k = 0; q < end && k + 1 < litsz &&
		    (isalnum((unsigned char)*q) || *q == '-' || *q == '+'); q++)
			lit[k++] = *q;
		lit[k] = '\0';
		return k > 0 ? 0 : -1;
	}
	return -1;
}

/*
 * The value of integer setting s as the file wrote it: 1 with *v set, 0
 * when it does not fit in 64 bits (lit names it), -1 when the literal could
 * not be read (*v is libconfig's value).
 */
static int
cfg_int_value(const config_setting_t *s, struct cfg_errors *e,
    long long *v, char *lit, size_t litsz)
{
	const char *d;
	char *end;
	int neg, hex;

	*v = config_setting_get_int64(s);
	if (cfg_literal(s, e, lit, litsz) != 0)
		return -1;
	d = lit;
	neg = *d == '-';
	if (*d == '-' || *d == '+')
		d++;
	hex = d[0] == '0' && (d[1] == 'x' || d[1] == 'X');
	errno = 0;
	if (hex) {
		unsigned long long u = strtoull(d + 2, &end, 16);

		if (end == d + 2)
			return -1;
		if (errno == ERANGE || u > (unsigned long long)LLONG_MAX)
			return 0;
		*v = neg ? -(long long)u : (long long)u;
	} else {
		if (!isdigit((unsigned char)*d))
			return -1;
		*v = strtoll(lit, &end, 10);
		if (errno == ERANGE)
			return 0;
	}
	/* what may follow: the L or LL suffix of a 64-bit literal */
	if (strcmp(end, "") != 0 && strcmp(end, "L") != 0 && strcmp(end, "LL") != 0) {
		*v = config_setting_get_int64(s);
		return -1;
	}
	return 1;
}

/* Read an integer-typed setting s with the range check; *out on success. */
static int
cfg_int_checked(const config_setting_t *s, const char *key, long long min,
    long long max, long long *out, struct cfg_errors *e)
{
	char lit[64];
	long long v;

	if (cfg_int_value(s, e, &v, lit, sizeof(lit)) == 0) {
		cfg_error(e, s, key,
		    "value %s out of range [%lld, %lld] (too large for a 64-bit integer)",
		    lit, min, max);
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
cfg_int(const config_setting_t *grp, const char *key, long long min,
    long long max, long long *out, struct cfg_errors *e)
{
	const config_setting_t *s;
	int t;

	if ((s = cfg_member(grp, key)) == NULL)
		return 0;
	t = config_setting_type(s);
	if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
		cfg_error(e, s, key, "expected an integer, found %s",
		    cfg_type_name(t));
		return -1;
	}
	return cfg_int_checked(s, key, min, max, out, e);
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

/*
 * RFC 5322 section 3.6.8: a field name is 1*ftext, printable US-ASCII but
 * the colon. CFG_HEADER_NAME_MAX keeps "NAME: value" on one line.
 */
#define CFG_HEADER_NAME_MAX	76

int
cfg_header_name_is_valid(const char *name)
{
	size_t i;

	for (i = 0; name[i] != '\0'; i++)
		if ((unsigned char)name[i] < 33 || (unsigned char)name[i] > 126 ||
		    name[i] == ':')
			return 0;
	return i > 0 && i <= CFG_HEADER_NAME_MAX;
}

int
cfg_header_name(const config_setting_t *grp, const char *key, char **out,
    struct cfg_errors *e)
{
	char *v = NULL;
	int rc;

	if ((rc = cfg_string(grp, key, &v, e)) <= 0)
		return rc;
	if (!cfg_header_name_is_valid(v)) {
		char shown[4 * 80 + 1];
		size_t i, o = 0;

		/* the value may hold CR, LF or worse: show it escaped */
		for (i = 0; v[i] != '\0' && o + 5 < sizeof(shown); i++) {
			unsigned char ch = (unsigned char)v[i];

			if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\')
				o += (size_t)snprintf(shown + o, sizeof(shown) - o,
				    "\\x%02x", ch);
			else
				shown[o++] = (char)ch;
		}
		shown[o] = '\0';
		cfg_error(e, cfg_member(grp, key), key,
		    "\"%s\" is not a header field name (1 to %d printable "
		    "characters, no colon, no white space)", shown,
		    CFG_HEADER_NAME_MAX);
		free(v);
		return -1;
	}
	free(*out);
	*out = v;
	return 1;
}

/* A TCP port: 1 to 65535, digits only. */
static int
cfg_port_is_valid(const char *s, size_t n)
{
	long v = 0;
	size_t i;

	if (n == 0 || n > 5)
		return 0;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

/* A host name (letters, digits, hyphens, dots) or an address literal. */
static int
cfg_host_is_valid(const char *h, int family)
{
	unsigned char a[16];
	size_t i;

	if (h[0] == '\0' || strlen(h) > 255)
		return 0;
	if (family != AF_INET6 && inet_pton(AF_INET, h, a) == 1)
		return 1;
	if (family != AF_INET && inet_pton(AF_INET6, h, a) == 1)
		return 1;
	for (i = 0; h[i] != '\0'; i++)
		if (!isalnum((unsigned char)h[i]) && h[i] != '-' && h[i] != '.')
			return 0;
	/* not all digits and dots: "999.1.1.1" is no host name */
	return strspn(h, "0123456789.") != i;
}

int
cfg_socket_check(const char *spec, char *why, size_t whysz)
{
	const char *p, *at;
	int family;

	if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0) {
		p = strchr(spec, ':') + 1;
		if (p[0] != '/') {
			snprintf(why, whysz, "the socket path must be absolute");
			return -1;
		}
		/* sockaddr_un.sun_path holds 108 bytes with the NUL */
		if (strlen(p) > 107) {
			snprintf(why, whysz, "the socket path is longer than 107 bytes");
			return -1;
		}
		if (p[strlen(p) - 1] == '/') {
			snprintf(why, whysz, "the socket path names a directory");
			return -1;
		}
		return 0;
	}
	if (strncmp(spec, "inet:", 5) == 0) {
		family = AF_INET;
		p = spec + 5;
	} else if (strncmp(spec, "inet6:", 6) == 0) {
		family = AF_INET6;
		p = spec + 6;
	} else {
		snprintf(why, whysz, "not unix:PATH, inet:PORT@HOST or inet6:PORT@HOST");
		return -1;
	}
	at = strchr(p, '@');
	if (!cfg_port_is_valid(p, at ? (size_t)(at - p) : strlen(p))) {
		snprintf(why, whysz, "the port must be a number from 1 to 65535");
		return -1;
	}
	if (at != NULL && !cfg_host_is_valid(at + 1, family)) {
		snprintf(why, whysz, "\"%s\" is not a host name or %s address",
		    at + 1, family == AF_INET ? "IPv4" : "IPv6");
		return -1;
	}
	return 0;
}

int
cfg_socket(const config_setting_t *grp, const char *key, char **out,
    struct cfg_errors *e)
{
	char *v = NULL, why[160];
	int rc;

	if ((rc = cfg_string(grp, key, &v, e)) <= 0)
		return rc;
	if (cfg_socket_check(v, why, sizeof(why)) != 0) {
		cfg_error(e, cfg_member(grp, key), key, "\"%s\": %s", v, why);
		free(v);
		return -1;
	}
	free(*out);
	*out = v;
	return 1;
}

int
cfg_hostport_check(const char *spec, char *why, size_t whysz)
{
	const char *colon;
	char host[256];
	size_t hl;

	if (strncmp(spec, "unix:", 5) == 0) {
		if (spec[5] != '/') {
			snprintf(why, whysz, "the socket path must be absolute");
			return -1;
		}
		return 0;
	}
	if ((colon = strrchr(spec, ':')) == NULL || colon == spec) {
		snprintf(why, whysz, "not HOST:PORT or unix:PATH");
		return -1;
	}
	hl = (size_t)(colon - spec);
	if (spec[0] == '[' && hl >= 2 && spec[hl - 1] == ']') {
		spec++;
		hl -= 2;
	}
	if (hl >= sizeof(host)) {
		snprintf(why, whysz, "the host name is too long");
		return -1;
	}
	memcpy(host, spec, hl);
	host[hl] = '\0';
	if (!cfg_host_is_valid(host, 0)) {
		snprintf(why, whysz, "\"%s\" is not a host name or address", host);
		return -1;
	}
	if (!cfg_port_is_valid(colon + 1, strlen(colon + 1))) {
		snprintf(why, whysz, "the port must be a number from 1 to 65535");
		return -1;
	}
	return 0;
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
		return cfg_int_checked(s, key, min, max, out, e);
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
	/*
	 * A scalar or list where a group belongs ("store = 5;") would leave
	 * every key of the group at its default without a word: refuse it.
	 */
	if (config_setting_type(grp) != CONFIG_TYPE_GROUP) {
		cfg_error(e, grp, config_setting_name(grp),
		    "expected a group { ... }, found %s",
		    cfg_type_name(config_setting_type(grp)));
		return;
	}
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
