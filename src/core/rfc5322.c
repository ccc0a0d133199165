/*
 * rfc5322.c - pure RFC 5322 syntax helpers: dates, msg-ids, address lists,
 * field names, domains.
 *
 * One small lexer serves every parser. It skips CFWS (folds and comments)
 * and hands out atoms, quoted strings, domain literals and single special
 * characters, each flagged with whether CFWS preceded it. The parsers above
 * it are flat loops with one token of lookahead: nothing recurses, and each
 * byte is lexed at most twice (the second time only to copy out the first
 * address), so work is linear in the input whatever its size. Comment
 * nesting is the one nested construct; it is counted, not recursed, and
 * capped at RFC5322_COMMENT_DEPTH_MAX.
 *
 * No locale: character classes and case folding are ASCII tables of our
 * own, and the date conversion is plain arithmetic (days from civil), not
 * timegm(). Stateless and thread-safe; nothing is allocated, callers own
 * every buffer passed in.
 */
#include <stddef.h>
#include <string.h>

#include "egress/rfc5322.h"

#define FQDN_LABEL_MAX	63	/* RFC 1035 2.3.4 */
#define FQDN_NAME_MAX	253	/* presentation form without the root dot */

/* ---------- character classes (ASCII only, no locale) ---------- */

static inline int
is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

static inline int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static inline int
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline int
to_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/* atext (RFC 5322 3.2.3) widened by RFC 6532 to bytes >= 0x80. */
static inline int
is_atext(int c)
{
	if (c >= 0x80 || is_alpha(c) || is_digit(c))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* dtext (RFC 5322 3.4.1) widened by RFC 6532; no WSP, no quoted-pair. */
static inline int
is_dtext(int c)
{
	return (c >= 33 && c <= 90) || (c >= 94 && c <= 126) || c >= 0x80;
}

/* Case-insensitive compare of p[0..len) with the lower-case word w. */
static int
word_eq(const char *p, size_t len, const char *w)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (w[i] == '\0' || to_lower((unsigned char)p[i]) != w[i])
			return 0;
	return w[len] == '\0';
}

/*
 * Length of the fold or blank at p, 0 if there is none. A line ending counts
 * only when WSP follows (a fold) or when it ends the value.
 */
static size_t
fws_len(const char *p)
{
	if (is_wsp(p[0]))
		return 1;
	if (p[0] == '\r' && p[1] == '\n' && (is_wsp(p[2]) || p[2] == '\0'))
		return 2;
	if (p[0] == '\n' && (is_wsp(p[1]) || p[1] == '\0'))
		return 1;
	return 0;
}

/* ---------- lexer ---------- */

enum tok_type {
	T_END,		/* end of value */
	T_ERR,		/* malformed; the lexer stays here */
	T_ATOM,		/* 1*atext */
	T_QSTR,		/* quoted-string, quotes included */
	T_LIT,		/* domain literal, brackets included */
	T_SPECIAL,	/* one of . < > @ , ; : in `ch` */
};

struct tok {
	enum tok_type	 type;
	int		 ch;	/* T_SPECIAL: the character */
	int		 ws;	/* CFWS came before the token */
	const char	*p;	/* the token's bytes in the value, not a copy */
	size_t		 len;
};

struct lex {
	const char	*p;	/* next unread byte */
	struct tok	 la;	/* lookahead, valid when have_la */
	int		 have_la;
	int		 err;	/* sticky: a T_ERR was produced */
};

static void
lex_init(struct lex *lx, const char *value)
{
	lx->p = value;
	lx->have_la = 0;
	lx->err = 0;
}

/*
 * Skip one comment starting at *pp == '('. Nesting is counted, not recursed;
 * deeper than RFC5322_COMMENT_DEPTH_MAX, unbalanced, or a CR/LF that is not a
 * fold is an error (-1).
 */
static int
skip_comment(const char **pp)
{
	const char	*p = *pp;
	int		 depth = 0;
	size_t		 n;

	for (;;) {
		switch (*p) {
		case '\0':
			return -1;
		case '(':
			if (++depth > RFC5322_COMMENT_DEPTH_MAX)
				return -1;
			p++;
			break;
		case ')':
			p++;
			if (--depth == 0) {
				*pp = p;
				return 0;
			}
			break;
		case '\\':
			if (p[1] == '\0')
				return -1;
			p += 2;
			break;
		case '\r':
		case '\n':
			if ((n = fws_len(p)) == 0)
				return -1;
			p += n;
			break;
		default:
			p++;
			break;
		}
	}
}

/* Skip "[...]" or "\"...\"" starting at *pp; `close` is the final byte. */
static int
skip_delimited(const char **pp, int close)
{
	const char	*p = *pp + 1;
	size_t		 n;

	for (;;) {
		if (*p == '\0')
			return -1;
		if (*p == close) {
			*pp = p + 1;
			return 0;
		}
		if (*p == '\\') {
			if (p[1] == '\0')
				return -1;
			p += 2;
		} else if (*p == '\r' || *p == '\n') {
			if ((n = fws_len(p)) == 0)
				return -1;
			p += n;
		} else if (close == ']' && *p == '[') {
			return -1;
		} else {
			p++;
		}
	}
}

static struct tok
lex_scan(struct lex *lx)
{
	struct tok	 t = { T_ERR, 0, 0, NULL, 0 };
	const char	*p = lx->p;
	size_t		 n;

	if (lx->err)
		return t;
	for (;;) {
		if ((n = fws_len(p)) > 0) {
			p += n;
			t.ws = 1;
		} else if (*p == '(') {
			if (skip_comment(&p) < 0)
				goto err;
			t.ws = 1;
		} else {
			break;
		}
	}
	t.p = p;
	switch (*p) {
	case '\0':
		t.type = T_END;
		break;
	case '"':
		if (skip_delimited(&p, '"') < 0)
			goto err;
		t.type = T_QSTR;
		break;
	case '[':
		if (skip_delimited(&p, ']') < 0)
			goto err;
		t.type = T_LIT;
		break;
	case '.': case '<': case '>': case '@': case ',': case ';': case ':':
		t.type = T_SPECIAL;
		t.ch = *p++;
		break;
	default:
		if (!is_atext((unsigned char)*p))
			goto err;
		while (is_atext((unsigned char)*p))
			p++;
		t.type = T_ATOM;
		break;
	}
	t.len = (size_t)(p - t.p);
	lx->p = p;
	return t;
err:
	lx->err = 1;
	t.type = T_ERR;
	t.p = p;
	return t;
}

static struct tok
lex_peek(struct lex *lx)
{
	if (!lx->have_la) {
		lx->la = lex_scan(lx);
		lx->have_la = 1;
	}
	return lx->la;
}

static struct tok
lex_next(struct lex *lx)
{
	struct tok t = lex_peek(lx);

	/* T_END and T_ERR are sticky: stay in the lookahead. */
	if (t.type != T_END && t.type != T_ERR)
		lx->have_la = 0;
	return t;
}

static inline int
tok_is(const struct tok *t, int ch)
{
	return t->type == T_SPECIAL && t->ch == ch;
}

static inline int
tok_is_word(const struct tok *t)
{
	return t->type == T_ATOM || t->type == T_QSTR;
}

/* ---------- bounded output ---------- */

struct out {
	char	*s;
	size_t	 size;	/* bytes available, NUL included */
	size_t	 len;
	int	 trunc;
};

static void
out_init(struct out *o, char *s, size_t size)
{
	o->s = s;
	o->size = size;
	o->len = 0;
	o->trunc = 0;
	if (size > 0)
		s[0] = '\0';
}

/* Append p[0..n) minus CR and LF (unfolding); truncate, never overflow. */
static void
out_put(struct out *o, const char *p, size_t n)
{
	size_t i;

	if (o == NULL)
		return;
	for (i = 0; i < n; i++) {
		if (p[i] == '\r' || p[i] == '\n')
			continue;
		if (o->len + 1 >= o->size) {
			o->trunc = 1;
			break;
		}
		o->s[o->len++] = p[i];
	}
	if (o->size > 0)
		o->s[o->len] = '\0';
}

/* ---------- date-time ---------- */

static const char *const month_names[12] = {
	"jan", "feb", "mar", "apr", "may", "jun",
	"jul", "aug", "sep", "oct", "nov", "dec",
};

static const char *const day_names[7] = {
	"mon", "tue", "wed", "thu", "fri", "sat", "sun",
};

static const struct {
	const char	*name;
	int		 minutes;
} zone_names[] = {
	{ "ut", 0 }, { "gmt", 0 },
	/*
	 * "UTC" is not in RFC 5322's obs-zone, but common mailers write it
	 * and receivers accept it; rejecting mail over it would only hurt the
	 * sender, so it is read as +0000.
	 */
	{ "utc", 0 },
	{ "est", -5 * 60 }, { "edt", -4 * 60 },
	{ "cst", -6 * 60 }, { "cdt", -5 * 60 },
	{ "mst", -7 * 60 }, { "mdt", -6 * 60 },
	{ "pst", -8 * 60 }, { "pdt", -7 * 60 },
};

/* Value of an all-digit token of minlen..maxlen digits, -1 otherwise. */
static long
tok_number(const struct tok *t, size_t minlen, size_t maxlen)
{
	long	v = 0;
	size_t	i;

	if (t->type != T_ATOM || t->len < minlen || t->len > maxlen)
		return -1;
	for (i = 0; i < t->len; i++) {
		if (!is_digit((unsigned char)t->p[i]))
			return -1;
		v = v * 10 + (t->p[i] - '0');
	}
	return v;
}

static int
is_leap(long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
month_days(long y, int m)
{
	static const int days[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/*
 * Days since 1970-01-01 of the proleptic Gregorian date y-m-d (the well-known
 * era-of-400-years construction; exact for every year, no tables, no libc).
 */
static long long
days_from_civil(long long y, int m, int d)
{
	long long	era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* Zone token -> offset east of UTC in minutes; 0 ok, -1 invalid. */
static int
parse_zone(const struct tok *t, int *minutes)
{
	size_t	i;
	long	hh, mm;
	int	c;

	if (t->type != T_ATOM)
		return -1;
	if (t->len == 5 && (t->p[0] == '+' || t->p[0] == '-')) {
		for (i = 1; i < 5; i++)
			if (!is_digit((unsigned char)t->p[i]))
				return -1;
		hh = (t->p[1] - '0') * 10 + (t->p[2] - '0');
		mm = (t->p[3] - '0') * 10 + (t->p[4] - '0');
		if (hh > 23 || mm > 59)
			return -1;
		*minutes = (int)(hh * 60 + mm) * (t->p[0] == '-' ? -1 : 1);
		return 0;
	}
	for (i = 0; i < sizeof(zone_names) / sizeof(zone_names[0]); i++) {
		if (word_eq(t->p, t->len, zone_names[i].name)) {
			*minutes = zone_names[i].minutes;
			return 0;
		}
	}
	/* Military zones: RFC 5322 4.3 says treat them as -0000 (unknown). */
	c = to_lower((unsigned char)t->p[0]);
	if (t->len == 1 && c >= 'a' && c <= 'z' && c != 'j') {
		*minutes = 0;
		return 0;
	}
	return -1;
}

/*
 * The date-time parser; with lenient non-NULL it also takes the forms
 * outside RFC 5322 that receivers accept (a one-digit hour, a zone given
 * only as a comment) and sets *lenient when it did.
 */
static int
date_parse(const char *value, long long *epoch_out, int *lenient)
{
	struct lex	 lx;
	struct tok	 t;
	long		 day, year, hour, min, sec = 0;
	int		 month = 0, zone, i;

	if (value == NULL || epoch_out == NULL)
		return -1;
	if (lenient != NULL)
		*lenient = 0;
	lex_init(&lx, value);

	t = lex_next(&lx);
	if (t.type == T_ATOM && is_alpha((unsigned char)t.p[0])) {
		for (i = 0; i < 7; i++)
			if (word_eq(t.p, t.len, day_names[i]))
				break;
		if (i == 7)
			return -1;
		t = lex_next(&lx);
		if (!tok_is(&t, ','))
			return -1;
		t = lex_next(&lx);
	}
	if ((day = tok_number(&t, 1, 2)) < 1)
		return -1;

	t = lex_next(&lx);
	if (t.type != T_ATOM)
		return -1;
	for (i = 0; i < 12; i++)
		if (word_eq(t.p, t.len, month_names[i]))
			month = i + 1;
	if (month == 0)
		return -1;

	t = lex_next(&lx);
	if ((year = tok_number(&t, 2, 4)) < 0)
		return -1;
	if (t.len == 2)
		year += year < 50 ? 2000 : 1900;
	else if (t.len == 3)
		year += 1900;
	else if (year < 1900)
		return -1;
	if (day > month_days(year, month))
		return -1;

	t = lex_next(&lx);
	if ((hour = tok_number(&t, lenient != NULL ? 1 : 2, 2)) < 0 || hour > 23)
		return -1;
	if (t.len == 1 && lenient != NULL)
		*lenient = 1;	/* "9:39:22" (sendEmail, some newsletters) */
	t = lex_next(&lx);
	if (!tok_is(&t, ':'))
		return -1;
	t = lex_next(&lx);
	if ((min = tok_number(&t, 2, 2)) < 0 || min > 59)
		return -1;
	t = lex_next(&lx);
	if (tok_is(&t, ':')) {
		t = lex_next(&lx);
		if ((sec = tok_number(&t, 2, 2)) < 0 || sec > 60)
			return -1;
		t = lex_next(&lx);
	}
	if (t.type == T_END && lenient != NULL) {
		/* no zone but a comment, "03:27:38 (GMT)": the comment was
		 * skipped as CFWS; taken as +0000 */
		zone = 0;
		*lenient = 1;
	} else {
		if (parse_zone(&t, &zone) < 0)
			return -1;
		t = lex_next(&lx);
	}
	if (t.type != T_END)
		return -1;

	*epoch_out = days_from_civil(year, month, (int)day) * 86400LL +
	    hour * 3600LL + min * 60LL + sec - zone * 60LL;
	return 0;
}

int
rfc5322_date_parse(const char *value, long long *epoch_out)
{
	return date_parse(value, epoch_out, NULL);
}

int
rfc5322_date_parse_lenient(const char *value, long long *epoch_out,
    int *lenient)
{
	int dummy;

	return date_parse(value, epoch_out, lenient != NULL ? lenient : &dummy);
}

/* ---------- addr-spec pieces shared by msg-id and address lists ---------- */

/*
 * Consume a local-part, word *("." word) with optional CFWS around the words
 * (dot-atom or obs-local-part), and the "@" after it. 0 ok, -1 invalid.
 */
static int
parse_local(struct lex *lx)
{
	struct tok	t;
	int		prev_word = 0;

	for (;;) {
		t = lex_next(lx);
		if (tok_is_word(&t)) {
			if (prev_word)
				return -1;
			prev_word = 1;
		} else if (tok_is(&t, '.')) {
			if (!prev_word)
				return -1;
			prev_word = 0;
		} else {
			return tok_is(&t, '@') && prev_word ? 0 : -1;
		}
	}
}

/* Copy the words and dots of a local-part, re-lexed from a saved state. */
static void
render_local(struct lex lx, struct out *o)
{
	struct tok t;

	for (;;) {
		t = lex_next(&lx);
		if (!tok_is_word(&t) && !tok_is(&t, '.'))
			return;
		out_put(o, t.p, t.len);
	}
}

/*
 * Consume a domain: a domain literal or atom *("." atom), CFWS allowed
 * around the atoms (obs-domain). The unfolded text goes to o1 and o2 (either
 * may be NULL). 0 ok, -1 invalid.
 */
static int
parse_domain(struct lex *lx, struct out *o1, struct out *o2)
{
	struct tok t = lex_next(lx);

	if (t.type == T_LIT) {
		out_put(o1, t.p, t.len);
		out_put(o2, t.p, t.len);
		return 0;
	}
	for (;;) {
		if (t.type != T_ATOM)
			return -1;
		out_put(o1, t.p, t.len);
		out_put(o2, t.p, t.len);
		t = lex_peek(lx);
		if (!tok_is(&t, '.'))
			return 0;
		(void)lex_next(lx);
		out_put(o1, ".", 1);
		out_put(o2, ".", 1);
		t = lex_next(lx);
	}
}

/* ---------- msg-id ---------- */

int
rfc5322_msgid_parse(const char *value, char *right, size_t rightsz)
{
	struct lex	 lx;
	struct tok	 t;
	const char	*start, *end = NULL;
	size_t		 i, n;

	if (right != NULL && rightsz > 0)
		right[0] = '\0';
	if (value == NULL)
		return -1;
	lex_init(&lx, value);

	t = lex_next(&lx);
	if (!tok_is(&t, '<') || parse_local(&lx) < 0)
		return -1;

	/* id-right: no CFWS anywhere from "@" to ">". */
	t = lex_next(&lx);
	if (t.ws)
		return -1;
	start = t.p;
	if (t.type == T_LIT) {
		for (i = 1; i + 1 < t.len; i++)
			if (!is_dtext((unsigned char)t.p[i]))
				return -1;
		end = t.p + t.len;
	} else {
		for (;;) {
			if (t.type != T_ATOM || t.ws)
				return -1;
			end = t.p + t.len;
			t = lex_peek(&lx);
			if (!tok_is(&t, '.') || t.ws)
				break;
			(void)lex_next(&lx);
			t = lex_next(&lx);
		}
	}
	t = lex_next(&lx);
	if (!tok_is(&t, '>') || t.ws)
		return -1;
	t = lex_next(&lx);
	if (t.type != T_END)
		return -1;

	if (right != NULL && rightsz > 0) {
		n = (size_t)(end - start);
		if (n > rightsz - 1)
			n = rightsz - 1;
		memcpy(right, start, n);
		right[n] = '\0';
	}
	return 0;
}

/* ---------- FQDN ---------- */

int
rfc5322_domain_is_fqdn(const char *domain)
{
	const char	*p, *label;
	size_t		 len, labels = 0;
	int		 all_digits = 1;

	if (domain == NULL)
		return 0;
	len = strlen(domain);
	if (len == 0 || len > FQDN_NAME_MAX)
		return 0;
	for (p = label = domain;; p++) {
		if (*p == '.' || *p == '\0') {
			len = (size_t)(p - label);
			if (len == 0 || len > FQDN_LABEL_MAX ||
			    label[0] == '-' || p[-1] == '-')
				return 0;
			labels++;
			if (*p == '\0')
				break;
			label = p + 1;
			all_digits = 1;
		} else if (is_alpha((unsigned char)*p) || *p == '-') {
			all_digits = 0;
		} else if (!is_digit((unsigned char)*p)) {
			return 0;
		}
	}
	return labels >= 2 && !all_digits;
}

/* ---------- address lists ---------- */

struct al_ctx {
	struct rfc5322_addrlist	*res;
	int			 want_first;	/* first not found yet */
	char			 addr[RFC5322_ADDR_MAX + 1];
	char			 dom[RFC5322_DOMAIN_MAX + 1];
	struct out		 oaddr;
	struct out		 odom;
};

/* Parse "@" domain after a local-part; render into the scratch if wanted. */
static int
al_addr_spec(struct lex *lx, struct lex local, struct al_ctx *c)
{
	struct out *oa = NULL, *od = NULL;

	if (c->want_first) {
		out_init(&c->oaddr, c->addr, sizeof(c->addr));
		out_init(&c->odom, c->dom, sizeof(c->dom));
		render_local(local, &c->oaddr);
		out_put(&c->oaddr, "@", 1);
		oa = &c->oaddr;
		od = &c->odom;
	}
	return parse_domain(lx, oa, od);
}

/* After "<": [obs-route] addr-spec ">". */
static int
al_angle(struct lex *lx, struct al_ctx *c)
{
	struct lex	local;
	struct tok	t = lex_peek(lx);
	int		hops = 0;

	if (tok_is(&t, '@') || tok_is(&t, ',')) {
		/* obs-route: *(CFWS / ",") "@" domain *("," [CFWS] ["@" domain]) ":" */
		for (;;) {
			t = lex_next(lx);
			if (tok_is(&t, ','))
				continue;
			if (tok_is(&t, ':') && hops > 0)
				break;
			if (!tok_is(&t, '@') || parse_domain(lx, NULL, NULL) < 0)
				return -1;
			hops++;
			t = lex_peek(lx);
			if (!tok_is(&t, ',') && !tok_is(&t, ':'))
				return -1;
		}
	}
	local = *lx;
	if (parse_local(lx) < 0 || al_addr_spec(lx, local, c) < 0)
		return -1;
	t = lex_next(lx);
	return tok_is(&t, '>') ? 0 : -1;
}

/*
 * One list element up to (not including) its separator: a mailbox (returns
 * 0), the "display-name :" that opens a group (returns 1), or -1 invalid.
 */
static int
al_element(struct lex *lx, struct al_ctx *c, int in_group)
{
	struct lex	start = *lx;
	struct tok	t;
	size_t		ntok = 0;
	int		prev_word = 0, local_ok = 1, phrase_ok = 0;

	/* Words and dots: a phrase or a local-part, the next token decides. */
	for (;; ntok++) {
		t = lex_peek(lx);
		if (tok_is_word(&t)) {
			if (prev_word)
				local_ok = 0;
			if (ntok == 0)
				phrase_ok = 1;
			prev_word = 1;
		} else if (tok_is(&t, '.')) {
			if (!prev_word)
				local_ok = 0;
			prev_word = 0;
		} else {
			break;
		}
		(void)lex_next(lx);
	}
	if (!prev_word)
		local_ok = 0;

	if (tok_is(&t, '@')) {
		if (!local_ok)
			return -1;
		(void)lex_next(lx);
		return al_addr_spec(lx, start, c);
	}
	if (tok_is(&t, '<')) {
		if (ntok > 0 && !phrase_ok)
			return -1;
		(void)lex_next(lx);
		return al_angle(lx, c);
	}
	if (tok_is(&t, ':') && !in_group && phrase_ok) {
		(void)lex_next(lx);
		return 1;
	}
	return -1;
}

/* An address ends at ",", at the end, or at ";" inside a group. */
static int
al_separator(struct lex *lx, int in_group)
{
	struct tok t = lex_peek(lx);

	if (tok_is(&t, ',')) {
		(void)lex_next(lx);
		return 0;
	}
	if (t.type == T_END || (in_group && tok_is(&t, ';')))
		return 0;
	return -1;
}

static void
al_commit_first(struct al_ctx *c)
{
	struct rfc5322_addrlist *r = c->res;

	if (!c->want_first)
		return;
	memcpy(r->first, c->addr, sizeof(r->first));
	memcpy(r->first_domain, c->dom, sizeof(r->first_domain));
	r->truncated = c->oaddr.trunc || c->odom.trunc;
	c->want_first = 0;
}

int
rfc5322_addrlist_parse(const char *value, struct rfc5322_addrlist *out)
{
	struct al_ctx	 c;
	struct lex	 lx;
	struct tok	 t;
	size_t		 addresses = 0;
	int		 in_group = 0, r;

	memset(out, 0, sizeof(*out));
	if (value == NULL) {
		out->invalid = 1;
		return 0;
	}
	memset(&c, 0, sizeof(c));
	c.res = out;
	c.want_first = 1;
	lex_init(&lx, value);

	for (;;) {
		t = lex_peek(&lx);
		if (t.type == T_END || t.type == T_ERR)
			break;
		if (tok_is(&t, ',')) {
			/* obs-addr-list: empty elements are allowed */
			(void)lex_next(&lx);
			continue;
		}
		if (tok_is(&t, ';') && in_group) {
			(void)lex_next(&lx);
			in_group = 0;
			addresses++;
			if (al_separator(&lx, 0) < 0)
				goto bad;
			continue;
		}
		r = al_element(&lx, &c, in_group);
		if (r == 1) {
			in_group = 1;
			continue;
		}
		if (r == 0 && al_separator(&lx, in_group) == 0) {
			out->count++;
			addresses++;
			al_commit_first(&c);
			continue;
		}
bad:
		/* Skip the rest of this element; every path here consumed a
		 * token or stops at one the loop above consumes. */
		out->invalid = 1;
		for (;;) {
			t = lex_peek(&lx);
			if (t.type == T_END || t.type == T_ERR ||
			    tok_is(&t, ',') || (in_group && tok_is(&t, ';')))
				break;
			(void)lex_next(&lx);
		}
	}
	if (lx.err || in_group || addresses == 0)
		out->invalid = 1;
	return 0;
}

/* ---------- field names ---------- */

int
rfc5322_field_name_is_valid(const char *name, size_t len)
{
	size_t i;

	if (name == NULL || len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (!rfc5322_char_is_ftext((unsigned char)name[i]))
			return 0;
	return 1;
}

/* ---------- envelope address domain ---------- */

/* dot-atom-text or a "[...]" of dtext, exactly p[0..n). */
static int
domain_text_ok(const char *p, size_t n)
{
	size_t	i;
	int	prev_dot = 1;

	if (n == 0)
		return 0;
	if (p[0] == '[') {
		if (n < 2 || p[n - 1] != ']')
			return 0;
		for (i = 1; i + 1 < n; i++)
			if (!is_dtext((unsigned char)p[i]))
				return 0;
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (p[i] == '.') {
			if (prev_dot)
				return 0;
			prev_dot = 1;
		} else if (is_atext((unsigned char)p[i])) {
			prev_dot = 0;
		} else {
			return 0;
		}
	}
	return !prev_dot;
}

int
rfc5322_addr_domain(const char *addr, char *dom, size_t domsz)
{
	const char	*p, *end, *at = NULL;
	int		 in_quote = 0, in_lit = 0;
	size_t		 n;

	if (dom != NULL && domsz > 0)
		dom[0] = '\0';
	if (addr == NULL || dom == NULL || domsz == 0)
		return -1;
	p = addr;
	end = addr + strlen(addr);
	while (p < end && is_wsp((unsigned char)*p))
		p++;
	while (end > p && (is_wsp((unsigned char)end[-1]) ||
	    end[-1] == '\r' || end[-1] == '\n'))
		end--;
	if (p < end && *p == '<') {
		if (end - p < 2 || end[-1] != '>')
			return -1;
		p++;
		end--;
	}
	/* The last "@" outside quotes and literals separates the domain. */
	for (const char *q = p; q < end; q++) {
		if (in_quote) {
			if (*q == '\\' && q + 1 < end)
				q++;
			else if (*q == '"')
				in_quote = 0;
		} else if (in_lit) {
			if (*q == ']')
				in_lit = 0;
		} else if (*q == '"') {
			in_quote = 1;
		} else if (*q == '[') {
			in_lit = 1;
		} else if (*q == '@') {
			at = q;
		}
	}
	if (at == NULL || at == p)
		return -1;
	n = (size_t)(end - (at + 1));
	if (!domain_text_ok(at + 1, n) || n >= domsz)
		return -1;
	memcpy(dom, at + 1, n);
	dom[n] = '\0';
	return 0;
}
