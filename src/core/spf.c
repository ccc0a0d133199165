/*
 * spf.c - RFC 7208 record parser and check_host() evaluation.
 *
 * Limits: the RFC's own (SPF_DNS_LIMIT DNS-querying terms, SPF_VOID_LIMIT
 * void lookups, SPF_MX_LIMIT names per mx/ptr term) shared across includes
 * and redirects of one evaluation, so recursion depth is bounded by them;
 * SPF_MAX_TERMS terms and SPF_TERM_MAX bytes per term (more is a permerror:
 * no real record comes near).
 *
 * Memory: each evaluation level allocates one record and one DNS answer on
 * the heap (tens of KiB; not on the stack because includes recurse).
 * Pure: DNS only through the dns_client handed in.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "egress/spf.h"

struct spf_ctx {
	struct dns_client *dns;
	unsigned char	 ip[16];
	int		 family;	/* 4 or 6 */
	char		 ipstr[64];
	const char	*sender;	/* full MAIL FROM address */
	const char	*helo;
	unsigned	 dns_terms;
	unsigned	 voids;
	struct spf_eval	*ev;
};

const char *
spf_result_name(enum spf_result r)
{
	switch (r) {
	case SPF_NONE: return "none";
	case SPF_NEUTRAL: return "neutral";
	case SPF_PASS: return "pass";
	case SPF_FAIL: return "fail";
	case SPF_SOFTFAIL: return "softfail";
	case SPF_TEMPERROR: return "temperror";
	case SPF_PERMERROR: return "permerror";
	}
	return "permerror";
}

int
spf_is_record(const char *txt)
{
	return strncasecmp(txt, "v=spf1", 6) == 0 &&
	    (txt[6] == '\0' || txt[6] == ' ');
}

/* ------------------------------------------------------------------ parse */

static const struct {
	const char	*name;
	enum spf_mech	 mech;
} mechs[] = {
	{ "all", SPF_M_ALL }, { "include", SPF_M_INCLUDE }, { "a", SPF_M_A },
	{ "mx", SPF_M_MX }, { "ptr", SPF_M_PTR }, { "ip4", SPF_M_IP4 },
	{ "ip6", SPF_M_IP6 }, { "exists", SPF_M_EXISTS },
};

/* Parse "/N" or "//N" suffixes of a/mx into the term; returns 0 or -1. */
static int
parse_cidr(char *arg, struct spf_term *t)
{
	char *p, *end;
	long v;

	t->cidr4 = t->cidr6 = -1;
	if ((p = strstr(arg, "//")) != NULL) {
		v = strtol(p + 2, &end, 10);
		if (end == p + 2 || *end != '\0' || v < 0 || v > 128)
			return -1;
		t->cidr6 = (int)v;
		*p = '\0';
	}
	if ((p = strrchr(arg, '/')) != NULL) {
		v = strtol(p + 1, &end, 10);
		if (end == p + 1 || *end != '\0' || v < 0 || v > 32)
			return -1;
		t->cidr4 = (int)v;
		*p = '\0';
	}
	return 0;
}

/* A macro-string is printable ASCII without spaces (RFC 7208 section 7.1). */
static int
macro_string_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

static int
parse_error(struct spf_record *rec, const char *what, const char *term)
{
	snprintf(rec->error, sizeof(rec->error), "%s: \"%.60s\"", what, term);
	return -1;
}

int
spf_record_parse(const char *txt, struct spf_record *rec)
{
	char tok[SPF_TERM_MAX];
	const char *p = txt, *q;
	int have_redirect = 0, have_exp = 0;

	memset(rec, 0, sizeof(*rec));
	if (!spf_is_record(txt))
		return parse_error(rec, "not an SPF record", txt);
	p += 6;
	for (;;) {
		struct spf_term *t;
		char *eq, *colon, *name = tok;
		size_t n, i;

		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		for (q = p; *q && *q != ' '; q++)
			;
		n = (size_t)(q - p);
		if (n >= sizeof(tok))
			return parse_error(rec, "term too long", p);
		memcpy(tok, p, n);
		tok[n] = '\0';
		p = q;
		if (rec->nterms >= SPF_MAX_TERMS)
			return parse_error(rec, "too many terms", tok);
		t = &rec->terms[rec->nterms];
		memset(t, 0, sizeof(*t));
		t->qual = '+';
		t->cidr4 = t->cidr6 = -1;

		/* modifier: name "=" macro-string, name starts with a letter */
		eq = strchr(tok, '=');
		colon = strchr(tok, ':');
		if (eq && (!colon || eq < colon) && isalpha((unsigned char)tok[0])) {
			*eq = '\0';
			for (i = 0; tok[i]; i++)
				if (!isalnum((unsigned char)tok[i]) && strchr("-_.", tok[i]) == NULL)
					return parse_error(rec, "bad modifier name", tok);
			if (!macro_string_ok(eq + 1))
				return parse_error(rec, "bad modifier value", tok);
			if (strcasecmp(tok, "redirect") == 0) {
				if (have_redirect++ || eq[1] == '\0')
					return parse_error(rec, "bad or repeated redirect", tok);
				t->mech = SPF_M_REDIRECT;
			} else if (strcasecmp(tok, "exp") == 0) {
				if (have_exp++ || eq[1] == '\0')
					return parse_error(rec, "bad or repeated exp", tok);
				t->mech = SPF_M_EXP;
			} else {
				t->mech = SPF_M_UNKNOWN_MOD;	/* ignored (section 6) */
			}
			snprintf(t->arg, sizeof(t->arg), "%s", eq + 1);
			rec->nterms++;
			continue;
		}
		if (strchr("+-~?", name[0]) != NULL && name[0] != '\0') {
			t->qual = name[0];
			name++;
		}
		/* the mechanism name ends at ':' or '/' */
		n = strcspn(name, ":/");
		for (i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++)
			if (strlen(mechs[i].name) == n &&
			    strncasecmp(mechs[i].name, name, n) == 0)
				break;
		if (i == sizeof(mechs) / sizeof(mechs[0]))
			return parse_error(rec, "unknown mechanism", tok);
		t->mech = mechs[i].mech;
		name += n;
		switch (t->mech) {
		case SPF_M_ALL:
			if (*name != '\0')
				return parse_error(rec, "all takes no argument", tok);
			break;
		case SPF_M_INCLUDE:
		case SPF_M_EXISTS:
			if (*name != ':' || name[1] == '\0' || !macro_string_ok(name + 1))
				return parse_error(rec, "missing domain", tok);
			snprintf(t->arg, sizeof(t->arg), "%s", name + 1);
			break;
		case SPF_M_A:
		case SPF_M_MX:
		case SPF_M_PTR:
			if (*name == ':') {
				if (name[1] == '\0')
					return parse_error(rec, "empty domain", tok);
				snprintf(t->arg, sizeof(t->arg), "%s", name + 1);
			} else if (*name == '/' && t->mech != SPF_M_PTR) {
				snprintf(t->arg, sizeof(t->arg), "%s", name);
			} else if (*name != '\0') {
				return parse_error(rec, "bad argument", tok);
			}
			if (t->mech != SPF_M_PTR && parse_cidr(t->arg, t) != 0)
				return parse_error(rec, "bad prefix length", tok);
			if (!macro_string_ok(t->arg))
				return parse_error(rec, "bad domain", tok);
			break;
		case SPF_M_IP4:
		case SPF_M_IP6: {
			unsigned char bin[16];
			char *slash;
			long v = t->mech == SPF_M_IP4 ? 32 : 128;

			if (*name != ':' || name[1] == '\0')
				return parse_error(rec, "missing address", tok);
			snprintf(t->arg, sizeof(t->arg), "%s", name + 1);
			if ((slash = strchr(t->arg, '/')) != NULL) {
				char *end;
				long max = v;

				v = strtol(slash + 1, &end, 10);
				if (end == slash + 1 || *end != '\0' || v < 0 || v > max)
					return parse_error(rec, "bad prefix length", tok);
				*slash = '\0';
			}
			if (inet_pton(t->mech == SPF_M_IP4 ? AF_INET : AF_INET6,
			    t->arg, bin) != 1)
				return parse_error(rec, "bad address", tok);
			if (t->mech == SPF_M_IP4)
				t->cidr4 = (int)v;
			else
				t->cidr6 = (int)v;
			break;
		}
		default:
			break;
		}
		rec->nterms++;
	}
	return 0;
}

/* ----------------------------------------------------------------- macros */

static int
url_unreserved(int ch)
{
	return isalnum(ch) || strchr("-._~", ch) != NULL;
}

/* Expand one macro letter's value, with transformers, onto out. */
static int
macro_value(const struct spf_ctx *c, const char *domain, char letter,
    char *val, size_t vlen)
{
	const char *at;

	switch (tolower((unsigned char)letter)) {
	case 's':
		snprintf(val, vlen, "%s", c->sender);
		return 0;
	case 'l':
		at = strrchr(c->sender, '@');
		if (at == NULL || at == c->sender)
			snprintf(val, vlen, "postmaster");
		else
			snprintf(val, vlen, "%.*s", (int)(at - c->sender), c->sender);
		return 0;
	case 'o':
		at = strrchr(c->sender, '@');
		snprintf(val, vlen, "%s", at ? at + 1 : c->sender);
		return 0;
	case 'd':
		snprintf(val, vlen, "%s", domain);
		return 0;
	case 'i':
		if (c->family == 4) {
			snprintf(val, vlen, "%u.%u.%u.%u", c->ip[0], c->ip[1],
			    c->ip[2], c->ip[3]);
		} else {
			static const char hex[] = "0123456789abcdef";
			size_t n = 0;
			int i;

			for (i = 0; i < 16 && n + 4 < vlen; i++) {
				val[n++] = hex[c->ip[i] >> 4];
				val[n++] = '.';
				val[n++] = hex[c->ip[i] & 0xf];
				val[n++] = i < 15 ? '.' : '\0';
			}
			val[n ? n - 1 : 0] = '\0';
		}
		return 0;
	case 'p':
		snprintf(val, vlen, "unknown");
		return 0;
	case 'v':
		snprintf(val, vlen, "%s", c->family == 4 ? "in-addr" : "ip6");
		return 0;
	case 'h':
		snprintf(val, vlen, "%s", c->helo ? c->helo : "unknown");
		return 0;
	case 'c':
		snprintf(val, vlen, "%s", c->ipstr);
		return 0;
	case 'r':
		snprintf(val, vlen, "unknown");
		return 0;
	case 't':
		snprintf(val, vlen, "0");
		return 0;
	}
	return -1;
}

/*
 * Split VAL at DELIMS, optionally reverse, keep the rightmost KEEP parts
 * (0 = all), join with '.', append to out. Returns 0 or -1 on overflow.
 */
static int
macro_transform(const char *val, const char *delims, int keep, int rev,
    char *out, size_t *n, size_t outlen)
{
	const char *parts[128];
	size_t lens[128], np = 0, i, first;
	const char *p = val;

	for (;;) {
		size_t l = strcspn(p, delims);

		if (np == 128)
			return -1;
		parts[np] = p;
		lens[np++] = l;
		if (p[l] == '\0')
			break;
		p += l + 1;
	}
	if (rev)
		for (i = 0; i < np / 2; i++) {
			const char *tp = parts[i];
			size_t tl = lens[i];

			parts[i] = parts[np - 1 - i];
			lens[i] = lens[np - 1 - i];
			parts[np - 1 - i] = tp;
			lens[np - 1 - i] = tl;
		}
	first = keep > 0 && (size_t)keep < np ? np - (size_t)keep : 0;
	for (i = first; i < np; i++) {
		if (*n + lens[i] + 2 > outlen)
			return -1;
		if (i > first)
			out[(*n)++] = '.';
		memcpy(out + *n, parts[i], lens[i]);
		*n += lens[i];
	}
	out[*n] = '\0';
	return 0;
}

/* Expand a domain-spec; returns 0, or -1 on a syntax error (permerror). */
static int
macro_expand(const struct spf_ctx *c, const char *domain, const char *spec,
    char *out, size_t outlen)
{
	size_t n = 0;
	const char *p;

	for (p = spec; *p; p++) {
		if (*p != '%') {
			if (n + 2 > outlen)
				return -1;
			out[n++] = *p;
			continue;
		}
		p++;
		if (*p == '%' || *p == '_' || *p == '-') {
			const char *lit = *p == '%' ? "%" : *p == '_' ? " " : "%20";
			size_t l = strlen(lit);

			if (n + l + 1 > outlen)
				return -1;
			memcpy(out + n, lit, l);
			n += l;
			continue;
		}
		if (*p != '{')
			return -1;
		{
			char val[DNS_NAME_MAX * 2 + 64], delims[8] = "";
			char letter = *++p, tmp[DNS_NAME_MAX * 4];
			int keep = 0, rev = 0;
			size_t nd = 0, tn = 0, i;

			if (letter == '\0' || macro_value(c, domain, letter, val,
			    sizeof(val)) != 0)
				return -1;
			p++;
			while (isdigit((unsigned char)*p)) {
				keep = keep * 10 + (*p - '0');
				if (keep > 128)
					return -1;
				p++;
			}
			if (*p == 'r' || *p == 'R') {
				rev = 1;
				p++;
			}
			while (*p && strchr(".-+,/_=", *p) != NULL && nd + 1 < sizeof(delims))
				delims[nd++] = *p++;
			delims[nd] = '\0';
			if (*p != '}')
				return -1;
			if (macro_transform(val, nd ? delims : ".", keep, rev, tmp,
			    &tn, sizeof(tmp)) != 0)
				return -1;
			for (i = 0; i < tn; i++) {
				unsigned char ch = (unsigned char)tmp[i];

				if (isupper((unsigned char)letter) && !url_unreserved(ch)) {
					if (n + 4 > outlen)
						return -1;
					snprintf(out + n, 4, "%%%02X", ch);
					n += 3;
				} else {
					if (n + 2 > outlen)
						return -1;
					out[n++] = (char)ch;
				}
			}
		}
	}
	out[n] = '\0';
	/* Longer than a domain name: drop labels from the left (section 7.3). */
	while (strlen(out) > 253) {
		char *dot = strchr(out, '.');

		if (dot == NULL)
			return -1;
		memmove(out, dot + 1, strlen(dot + 1) + 1);
	}
	return 0;
}

/* ----------------------------------------------------------------- match */

static int
prefix_match(const unsigned char *a, const unsigned char *b, int bits)
{
	int full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((a[full] ^ b[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

/* Does printable address S fall in our IP's network of the given prefixes? */
static int
addr_match(const struct spf_ctx *c, const char *s, int cidr4, int cidr6)
{
	unsigned char bin[16];

	if (c->family == 4) {
		if (inet_pton(AF_INET, s, bin) != 1)
			return 0;
		return prefix_match(bin, c->ip, cidr4 < 0 ? 32 : cidr4);
	}
	if (inet_pton(AF_INET6, s, bin) != 1)
		return 0;
	return prefix_match(bin, c->ip, cidr6 < 0 ? 128 : cidr6);
}

enum { M_NO = 0, M_YES = 1, M_TEMP = -1, M_PERM = -2 };

static int
count_term(struct spf_ctx *c)
{
	if (++c->dns_terms > SPF_DNS_LIMIT) {
		snprintf(c->ev->why, sizeof(c->ev->why),
		    "more than %d DNS-querying terms", SPF_DNS_LIMIT);
		return M_PERM;
	}
	return M_NO;
}

/* Classify an answer of a term's own lookup; counts void lookups. */
static int
lookup_status(struct spf_ctx *c, enum dns_status st, size_t nrr, const char *name)
{
	if (dns_status_is_failure(st)) {
		snprintf(c->ev->why, sizeof(c->ev->why), "%s: %s", name,
		    dns_status_name(st));
		return M_TEMP;
	}
	if (st == DNS_NXDOMAIN || nrr == 0) {
		if (++c->voids > SPF_VOID_LIMIT) {
			snprintf(c->ev->why, sizeof(c->ev->why),
			    "more than %d void lookups", SPF_VOID_LIMIT);
			return M_PERM;
		}
	}
	return M_NO;
}

/* Any address record of NAME matching (a / mx names). */
static int
name_has_addr(struct spf_ctx *c, const char *name, int cidr4, int cidr6,
    struct dns_answer *a, int count_void)
{
	enum dns_status st;
	size_t i;
	int r;

	st = dns_ask(c->dns, name, c->family == 4 ? DNS_T_A : DNS_T_AAAA, a);
	if (count_void) {
		if ((r = lookup_status(c, st, a->nrr, name)) != M_NO)
			return r;
	} else if (dns_status_is_failure(st)) {
		snprintf(c->ev->why, sizeof(c->ev->why), "%s: %s", name,
		    dns_status_name(st));
		return M_TEMP;
	}
	if (st != DNS_OK)
		return M_NO;
	for (i = 0; i < a->nrr; i++)
		if (addr_match(c, a->rr[i].data, cidr4, cidr6))
			return M_YES;
	return M_NO;
}

static enum spf_result check_host(struct spf_ctx *, const char *domain, int depth);

static enum spf_result
qual_result(char q)
{
	switch (q) {
	case '-': return SPF_FAIL;
	case '~': return SPF_SOFTFAIL;
	case '?': return SPF_NEUTRAL;
	}
	return SPF_PASS;
}

static int
domain_syntax_ok(const char *d)
{
	const char *dot = strrchr(d, '.');
	size_t n = strlen(d);

	return n > 0 && n <= 253 && dot != NULL && dot[1] != '\0' &&
	    strspn(d, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._") == n;
}

/* Evaluate one mechanism: M_YES/M_NO/M_TEMP/M_PERM. */
static int
eval_mech(struct spf_ctx *c, const char *domain, const struct spf_term *t,
    struct dns_answer *a, int depth)
{
	char target[DNS_NAME_MAX * 2];
	enum dns_status st;
	size_t i;
	int r;

	if (t->mech == SPF_M_IP4)
		return c->family == 4 && addr_match(c, t->arg, t->cidr4, -1) ? M_YES : M_NO;
	if (t->mech == SPF_M_IP6)
		return c->family == 6 && addr_match(c, t->arg, -1, t->cidr6) ? M_YES : M_NO;
	if (t->mech == SPF_M_ALL)
		return M_YES;
	if ((r = count_term(c)) != M_NO)
		return r;
	if (t->arg[0] != '\0' && t->arg[0] != '/') {
		if (macro_expand(c, domain, t->arg, target, sizeof(target)) != 0) {
			snprintf(c->ev->why, sizeof(c->ev->why), "bad macro in \"%.60s\"", t->arg);
			return M_PERM;
		}
	} else {
		snprintf(target, sizeof(target), "%s", domain);
	}
	switch (t->mech) {
	case SPF_M_INCLUDE: {
		enum spf_result sub = check_host(c, target, depth + 1);

		switch (sub) {
		case SPF_PASS: return M_YES;
		case SPF_FAIL: case SPF_SOFTFAIL: case SPF_NEUTRAL: return M_NO;
		case SPF_TEMPERROR: return M_TEMP;
		case SPF_NONE:
			snprintf(c->ev->why, sizeof(c->ev->why),
			    "include:%.200s has no SPF record", target);
			return M_PERM;
		default: return M_PERM;
		}
	}
	case SPF_M_A:
		return name_has_addr(c, target, t->cidr4, t->cidr6, a, 1);
	case SPF_M_EXISTS:
		st = dns_ask(c->dns, target, DNS_T_A, a);
		if ((r = lookup_status(c, st, a->nrr, target)) != M_NO)
			return r;
		return st == DNS_OK && a->nrr > 0 ? M_YES : M_NO;
	case SPF_M_MX: {
		char names[SPF_MX_LIMIT][DNS_NAME_MAX + 1];
		size_t nn = 0;

		st = dns_ask(c->dns, target, DNS_T_MX, a);
		if ((r = lookup_status(c, st, a->nrr, target)) != M_NO)
			return r;
		if (st != DNS_OK)
			return M_NO;
		if (a->nrr > SPF_MX_LIMIT) {
			snprintf(c->ev->why, sizeof(c->ev->why),
			    "%s: more than %d MX records", target, SPF_MX_LIMIT);
			return M_PERM;
		}
		for (i = 0; i < a->nrr; i++)
			if (a->rr[i].data[0] != '\0' && strcmp(a->rr[i].data, ".") != 0)
				snprintf(names[nn++], sizeof(names[0]), "%s", a->rr[i].data);
		for (i = 0; i < nn; i++)
			if ((r = name_has_addr(c, names[i], t->cidr4, t->cidr6, a, 0)) != M_NO)
				return r;
		return M_NO;
	}
	case SPF_M_PTR: {
		char rev[DNS_NAME_MAX + 1], names[SPF_MX_LIMIT][DNS_NAME_MAX + 1];
		size_t nn = 0, tl = strlen(target);

		if (dns_reverse_name(c->ipstr, c->family == 4 ? "in-addr.arpa" :
		    "ip6.arpa", rev, sizeof(rev)) != 0)
			return M_NO;
		st = dns_ask(c->dns, rev, DNS_T_PTR, a);
		if (st != DNS_OK)
			return M_NO;	/* section 5.5: a PTR failure is no match */
		for (i = 0; i < a->nrr && nn < SPF_MX_LIMIT; i++)
			snprintf(names[nn++], sizeof(names[0]), "%s", a->rr[i].data);
		for (i = 0; i < nn; i++) {
			size_t nl = strlen(names[i]);

			if (!(strcasecmp(names[i], target) == 0 ||
			    (nl > tl && names[i][nl - tl - 1] == '.' &&
			    strcasecmp(names[i] + nl - tl, target) == 0)))
				continue;
			if (name_has_addr(c, names[i], -1, -1, a, 0) == M_YES)
				return M_YES;
		}
		return M_NO;
	}
	default:
		return M_NO;
	}
}

static void
note_record(struct spf_ctx *c, const char *domain, const char *txt)
{
	snprintf(c->ev->domain, sizeof(c->ev->domain), "%s", domain);
	snprintf(c->ev->record, sizeof(c->ev->record), "%s", txt);
}

static enum spf_result
check_host(struct spf_ctx *c, const char *domain, int depth)
{
	struct dns_answer *a;
	struct spf_record *rec;
	enum spf_result res = SPF_NEUTRAL;
	enum dns_status st;
	const struct spf_term *redirect = NULL;
	const char *txt = NULL;
	size_t i, found = 0;

	if (!domain_syntax_ok(domain)) {
		if (depth == 0)
			snprintf(c->ev->why, sizeof(c->ev->why), "\"%.60s\" is not a domain", domain);
		return SPF_NONE;
	}
	if ((a = malloc(sizeof(*a))) == NULL || (rec = malloc(sizeof(*rec))) == NULL) {
		free(a);
		snprintf(c->ev->why, sizeof(c->ev->why), "out of memory");
		return SPF_TEMPERROR;
	}
	st = dns_ask(c->dns, domain, DNS_T_TXT, a);
	if (dns_status_is_failure(st)) {
		snprintf(c->ev->why, sizeof(c->ev->why), "TXT %s: %s", domain,
		    dns_status_name(st));
		res = SPF_TEMPERROR;
		goto out;
	}
	for (i = 0; st == DNS_OK && i < a->nrr; i++)
		if (spf_is_record(a->rr[i].data)) {
			if (found++ == 0)
				txt = a->rr[i].data;
		}
	if (found == 0) {
		snprintf(c->ev->why, sizeof(c->ev->why), "%s publishes no SPF record", domain);
		res = SPF_NONE;
		goto out;
	}
	note_record(c, domain, txt);
	if (found > 1) {
		snprintf(c->ev->why, sizeof(c->ev->why), "%s publishes %zu SPF records", domain, found);
		res = SPF_PERMERROR;
		goto out;
	}
	if (spf_record_parse(txt, rec) != 0) {
		snprintf(c->ev->why, sizeof(c->ev->why), "%s: %s", domain, rec->error);
		res = SPF_PERMERROR;
		goto out;
	}
	for (i = 0; i < rec->nterms; i++) {
		const struct spf_term *t = &rec->terms[i];
		int m;

		if (t->mech == SPF_M_REDIRECT) {
			redirect = t;
			continue;
		}
		if (t->mech == SPF_M_EXP || t->mech == SPF_M_UNKNOWN_MOD)
			continue;
		m = eval_mech(c, domain, t, a, depth);
		if (m == M_TEMP) {
			res = SPF_TEMPERROR;
			goto out;
		}
		if (m == M_PERM) {
			res = SPF_PERMERROR;
			goto out;
		}
		if (m == M_YES) {
			res = qual_result(t->qual);
			if (depth == 0 || c->ev->matched[0] == '\0') {
				note_record(c, domain, txt);
				snprintf(c->ev->matched, sizeof(c->ev->matched), "%s%s%s%s",
				    t->qual == '+' ? "" : (char[]){ t->qual, '\0' },
				    t->mech == SPF_M_ALL ? "all" : t->mech == SPF_M_INCLUDE ? "include:" :
				    t->mech == SPF_M_A ? "a" : t->mech == SPF_M_MX ? "mx" :
				    t->mech == SPF_M_PTR ? "ptr" : t->mech == SPF_M_IP4 ? "ip4:" :
				    t->mech == SPF_M_IP6 ? "ip6:" : "exists:",
				    (t->mech == SPF_M_A || t->mech == SPF_M_MX || t->mech == SPF_M_PTR) &&
				    t->arg[0] ? ":" : "", t->arg);
			}
			goto out;
		}
	}
	if (redirect != NULL) {
		char target[DNS_NAME_MAX * 2];
		int r;

		if ((r = count_term(c)) != M_NO) {
			res = SPF_PERMERROR;
			goto out;
		}
		if (macro_expand(c, domain, redirect->arg, target, sizeof(target)) != 0) {
			snprintf(c->ev->why, sizeof(c->ev->why), "bad macro in redirect");
			res = SPF_PERMERROR;
			goto out;
		}
		res = check_host(c, target, depth + 1);
		if (res == SPF_NONE) {
			snprintf(c->ev->why, sizeof(c->ev->why),
			    "redirect=%.200s has no SPF record", target);
			res = SPF_PERMERROR;
		}
		goto out;
	}
	res = SPF_NEUTRAL;	/* no match, no redirect: section 4.7 */
out:
	free(rec);
	free(a);
	return res;
}

enum spf_result
spf_check_host(struct dns_client *dns, const char *ip, const char *domain,
    const char *sender, const char *helo, struct spf_eval *ev)
{
	struct spf_ctx c;
	char sbuf[DNS_NAME_MAX + 80];

	memset(ev, 0, sizeof(*ev));
	memset(&c, 0, sizeof(c));
	c.dns = dns;
	c.ev = ev;
	c.helo = helo;
	if (inet_pton(AF_INET, ip, c.ip) == 1) {
		c.family = 4;
	} else if (inet_pton(AF_INET6, ip, c.ip) == 1) {
		/* An IPv4-mapped address is evaluated as IPv4 (section 5). */
		static const unsigned char mapped[12] = { 0,0,0,0,0,0,0,0,0,0,0xff,0xff };

		c.family = 6;
		if (memcmp(c.ip, mapped, 12) == 0) {
			memmove(c.ip, c.ip + 12, 4);
			c.family = 4;
		}
	} else {
		snprintf(ev->why, sizeof(ev->why), "\"%.60s\" is not an IP address", ip);
		ev->result = SPF_PERMERROR;
		return ev->result;
	}
	inet_ntop(c.family == 4 ? AF_INET : AF_INET6, c.ip, c.ipstr, sizeof(c.ipstr));
	if (sender == NULL || sender[0] == '\0' || strchr(sender, '@') == NULL) {
		/* RFC 7208 section 4.3: no local part means "postmaster" */
		snprintf(sbuf, sizeof(sbuf), "postmaster@%s", sender && sender[0] ? sender : domain);
		sender = sbuf;
	}
	c.sender = sender;
	ev->result = check_host(&c, domain, 0);
	ev->dns_terms = c.dns_terms;
	ev->void_lookups = c.voids;
	return ev->result;
}
