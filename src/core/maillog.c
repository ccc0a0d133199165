/*
 * maillog.c - MTA delivery-log lines: syslog prefixes, Postfix, Sendmail
 * and Exim delivery records, and a bounded queue-id map.
 *
 * Pure and allocation-free for parsing (maillog_parse only sets spans into
 * the caller's line); maillog_classify and the queue-id map allocate and say
 * who owns what. Each step moves forward through the line, so parsing is
 * linear: the only scans are for a fixed delimiter from the current
 * position. Bounds: a queue id over MAILLOG_QID_MAX or an address over
 * MAILLOG_ADDR_MAX makes the line not an event (a cut address would be a
 * different address); host names, Message-IDs and texts are cut at their
 * bounds. Threading: no state; a qmap belongs to one thread.
 */
#include <stdlib.h>
#include <string.h>

#include "egress/assert.h"
#include "egress/classify.h"
#include "egress/dsn.h"
#include "egress/maillog.h"

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A cursor over [p, e). */
struct cur {
	const char	*p;
	const char	*e;
};

static int
at(const struct cur *c, const char *lit)
{
	size_t n = strlen(lit);

	return (size_t)(c->e - c->p) >= n && memcmp(c->p, lit, n) == 0;
}

static void
skip_spaces(struct cur *c)
{
	while (c->p < c->e && *c->p == ' ')
		c->p++;
}

/* n digits as a number, or -1. */
static int
digits(struct cur *c, int n)
{
	int v = 0, i;

	if (c->e - c->p < n)
		return -1;
	for (i = 0; i < n; i++) {
		if (!is_digit(c->p[i]))
			return -1;
		v = v * 10 + (c->p[i] - '0');
	}
	c->p += n;
	return v;
}

static int
expect(struct cur *c, char ch)
{
	if (c->p < c->e && *c->p == ch) {
		c->p++;
		return 1;
	}
	return 0;
}

/* The token up to the next space (at least one byte). */
static int
token(struct cur *c, struct maillog_span *out)
{
	const char *s = c->p;

	while (c->p < c->e && *c->p != ' ')
		c->p++;
	out->p = s;
	out->n = (size_t)(c->p - s);
	return out->n > 0;
}

static void
span_cut(struct maillog_span *s, size_t max)
{
	if (s->n > max)
		s->n = max;
}

/* ---- time ---- */

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int64_t
year_of(int64_t t)
{
	int64_t z = (t >= 0 ? t : t - 86399) / 86400 + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;

	return yoe + era * 400 + (mp >= 10);
}

/* "hh:mm:ss" and an optional ".fraction"; seconds of the day or -1. */
static int
clock_time(struct cur *c)
{
	int h, m, s;

	if ((h = digits(c, 2)) < 0 || !expect(c, ':') || (m = digits(c, 2)) < 0 ||
	    !expect(c, ':') || (s = digits(c, 2)) < 0 || h > 23 || m > 59 || s > 60)
		return -1;
	if (expect(c, '.') || expect(c, ','))
		while (c->p < c->e && is_digit(*c->p))
			c->p++;
	return h * 3600 + m * 60 + s;
}

/* "YYYY-MM-DD" into y, m, d; 0 or -1. */
static int
civil_date(struct cur *c, int *y, int *m, int *d)
{
	if ((*y = digits(c, 4)) < 0 || !expect(c, '-') || (*m = digits(c, 2)) < 1 ||
	    *m > 12 || !expect(c, '-') || (*d = digits(c, 2)) < 1 || *d > 31)
		return -1;
	return 0;
}

/* A zone "Z", "+hh:mm", "+hhmm": offset seconds east, or 1 when absent. */
static int
zone(struct cur *c, int *off)
{
	int sign, h, m;

	if (expect(c, 'Z') || expect(c, 'z')) {
		*off = 0;
		return 1;
	}
	if (c->p >= c->e || (*c->p != '+' && *c->p != '-'))
		return 0;
	sign = *c->p == '-' ? -1 : 1;
	c->p++;
	if ((h = digits(c, 2)) < 0)
		return -1;
	(void)expect(c, ':');
	if ((m = digits(c, 2)) < 0 || h > 23 || m > 59)
		return -1;
	*off = sign * (h * 3600 + m * 60);
	return 1;
}

/* RFC 3339 "YYYY-MM-DDTHH:MM:SS[.f](Z|+hh:mm)" (also with a space for T). */
static int
iso_time(struct cur *c, struct maillog_event *ev, int need_zone)
{
	int y, m, d, s, off = 0, z;

	if (civil_date(c, &y, &m, &d) != 0 || c->p >= c->e ||
	    (*c->p != 'T' && *c->p != ' '))
		return -1;
	c->p++;
	if ((s = clock_time(c)) < 0)
		return -1;
	if (need_zone) {
		if (zone(c, &off) != 1)
			return -1;
	} else {
		struct cur save = *c;

		/* Exim: an optional " +hhmm" after the time */
		skip_spaces(c);
		if ((z = zone(c, &off)) != 1) {
			*c = save;
			if (z < 0)
				return -1;
			ev->time_kind = 2;
			ev->mon = m;
			ev->mday = d;
			ev->sec_of_day = s;
			ev->time = (int64_t)y;	/* the year, for the caller */
			return 0;
		}
	}
	ev->time_kind = 1;
	ev->time = days_from_civil(y, m, d) * 86400 + s - off;
	return 0;
}

static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

/* RFC 3164 "Mmm dd hh:mm:ss" (day space-padded or not). */
static int
bsd_time(struct cur *c, struct maillog_event *ev)
{
	int i, d, s;

	if (c->e - c->p < 4)
		return -1;
	for (i = 0; i < 12; i++)
		if (memcmp(c->p, months + 3 * i, 3) == 0)
			break;
	if (i == 12 || c->p[3] != ' ')
		return -1;
	c->p += 4;
	skip_spaces(c);
	if ((d = digits(c, 2)) < 0) {
		if ((d = digits(c, 1)) < 0)
			return -1;
	}
	if (d < 1 || d > 31 || !expect(c, ' ') || (s = clock_time(c)) < 0)
		return -1;
	ev->time_kind = 2;
	ev->mon = i + 1;
	ev->mday = d;
	ev->sec_of_day = s;
	ev->time = 0;
	return 0;
}

int64_t
maillog_event_time(const struct maillog_event *ev, int64_t now, int utcoff)
{
	int64_t y, t;

	if (ev->time_kind == 1)
		return ev->time;
	if (ev->time_kind != 2)
		return now;
	if (ev->time > 0)	/* Exim without a zone: the year is known */
		return days_from_civil(ev->time, ev->mon, ev->mday) * 86400 +
		    ev->sec_of_day - utcoff;
	y = year_of(now + utcoff);
	t = days_from_civil(y, ev->mon, ev->mday) * 86400 + ev->sec_of_day - utcoff;
	if (t > now + 86400)
		t = days_from_civil(y - 1, ev->mon, ev->mday) * 86400 +
		    ev->sec_of_day - utcoff;
	return t;
}

/* ---- prefixes ---- */

/* "prog[pid]: " or "prog: " at c; leaves c after it. */
static int
prog_tag(struct cur *c, struct maillog_event *ev)
{
	const char *s = c->p;

	while (c->p < c->e && (is_alnum(*c->p) || *c->p == '/' || *c->p == '_' ||
	    *c->p == '-' || *c->p == '.'))
		c->p++;
	if (c->p == s || (size_t)(c->p - s) > MAILLOG_PROG_MAX)
		return -1;
	ev->prog.p = s;
	ev->prog.n = (size_t)(c->p - s);
	if (expect(c, '[')) {
		while (c->p < c->e && is_digit(*c->p))
			c->p++;
		if (!expect(c, ']'))
			return -1;
	}
	if (!expect(c, ':') || !expect(c, ' '))
		return -1;
	return 0;
}

/* RFC 5424 after "<PRI>1 ": TIMESTAMP HOST APP PROCID MSGID SD MSG. */
static int
rfc5424(struct cur *c, struct maillog_event *ev)
{
	struct maillog_span procid, msgid;

	if (at(c, "- "))
		c->p += 2;
	else if (iso_time(c, ev, 1) != 0 || !expect(c, ' '))
		return -1;
	if (!token(c, &ev->host) || !expect(c, ' ') || !token(c, &ev->prog) ||
	    !expect(c, ' ') || !token(c, &procid) || !expect(c, ' ') ||
	    !token(c, &msgid) || !expect(c, ' '))
		return -1;
	if (ev->prog.n > MAILLOG_PROG_MAX)
		return -1;
	if (at(c, "-"))
		c->p++;
	else {
		/* structured data: [id k="v" ...]..., quotes may escape ] */
		while (expect(c, '[')) {
			int q = 0;

			while (c->p < c->e && (q || *c->p != ']')) {
				if (q && *c->p == '\\' && c->p + 1 < c->e)
					c->p++;
				else if (*c->p == '"')
					q = !q;
				c->p++;
			}
			if (!expect(c, ']'))
				return -1;
		}
	}
	if (c->p < c->e && !expect(c, ' '))
		return -1;
	/* a BOM may start the message */
	if (at(c, "\xef\xbb\xbf"))
		c->p += 3;
	return 0;
}

/* ---- fields of Postfix and Sendmail records ---- */

/* A queue id then ": ". Postfix: hex or long alphanumeric ids; Sendmail. */
static int
queue_id(struct cur *c, struct maillog_span *q)
{
	const char *s = c->p;

	while (c->p < c->e && is_alnum(*c->p))
		c->p++;
	q->p = s;
	q->n = (size_t)(c->p - s);
	if (q->n == 0 || q->n > MAILLOG_QID_MAX || !expect(c, ':') ||
	    !expect(c, ' '))
		return -1;
	return 0;
}

/*
 * An address value "<...>" (or bare up to ',' for Sendmail): the span
 * without brackets. -1 when it is unterminated, too long or has a control
 * byte.
 */
static int
addr_value(struct cur *c, struct maillog_span *out)
{
	const char *s, *q;

	if (expect(c, '<')) {
		s = c->p;
		if ((q = memchr(s, '>', (size_t)(c->e - s))) == NULL)
			return -1;
		c->p = q + 1;
	} else {
		s = c->p;
		while (c->p < c->e && *c->p != ',' && *c->p != ' ')
			c->p++;
		q = c->p;
	}
	out->p = s;
	out->n = (size_t)(q - s);
	if (out->n > MAILLOG_ADDR_MAX)
		return -1;
	for (; s < q; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return -1;
	return 0;
}

/* The host of a relay= value: up to '[', ' ', ':' or ','; no final dot. */
static void
relay_host(const char *p, size_t n, struct maillog_span *out)
{
	size_t k;

	for (k = 0; k < n && p[k] != '[' && p[k] != ' ' && p[k] != ':' &&
	    p[k] != ','; k++)
		;
	if (k > 0 && p[k - 1] == '.')
		k--;
	if (k == 4 && memcmp(p, "none", 4) == 0)
		k = 0;
	out->p = p;
	out->n = k;
	span_cut(out, MAILLOG_HOST_MAX);
}

/* "word (text)": the text inside the outer parentheses, to the line's end. */
static void
paren_text(const char *p, const char *e, struct maillog_span *out)
{
	const char *o = memchr(p, '(', (size_t)(e - p));

	out->n = 0;
	if (o == NULL)
		return;
	o++;
	while (e > o && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (e > o && e[-1] == ')')
		e--;
	out->p = o;
	out->n = (size_t)(e - o);
	span_cut(out, MAILLOG_DIAG_MAX);
}

static int
word_is(const char *p, size_t n, const char *w)
{
	size_t k = strlen(w);

	return n >= k && memcmp(p, w, k) == 0 && (n == k || !is_alnum(p[k]));
}

/*
 * "key=value, key=value, ..." for Postfix and Sendmail. status= (Postfix)
 * and stat= (Sendmail) run to the end of the line.
 */
static enum maillog_kind
kv_record(struct cur *c, struct maillog_event *ev)
{
	int have_to = 0, have_from = 0, have_status = 0;

	while (c->p < c->e) {
		const char *k = c->p, *v;
		size_t kn;

		while (c->p < c->e && (is_alnum(*c->p) || *c->p == '_' || *c->p == '-'))
			c->p++;
		kn = (size_t)(c->p - k);
		if (kn == 0 || !expect(c, '='))
			break;	/* "(queue active)", "removed", text: done */
		v = c->p;
		if (kn == 2 && memcmp(k, "to", 2) == 0) {
			if (have_to || addr_value(c, &ev->rcpt) != 0 ||
			    ev->rcpt.n == 0)
				return MAILLOG_NONE;
			have_to = 1;
			/* Sendmail lists further recipients: ",<b@x>,c@y" */
			while (c->p < c->e && *c->p == ',' && c->p + 1 < c->e &&
			    c->p[1] != ' ') {
				struct maillog_span more;

				c->p++;
				if (addr_value(c, &more) != 0)
					return MAILLOG_NONE;
			}
		} else if (kn == 7 && memcmp(k, "orig_to", 7) == 0) {
			if (addr_value(c, &ev->orig_rcpt) != 0)
				return MAILLOG_NONE;
		} else if (kn == 4 && memcmp(k, "from", 4) == 0) {
			if (addr_value(c, &ev->sender) != 0)
				return MAILLOG_NONE;
			ev->null_sender = ev->sender.n == 0;
			have_from = 1;
		} else if ((kn == 10 && memcmp(k, "message-id", 10) == 0) ||
		    (kn == 5 && memcmp(k, "msgid", 5) == 0)) {
			while (c->p < c->e && *c->p != ',' && *c->p != ' ')
				c->p++;
			ev->msgid.p = v;
			ev->msgid.n = (size_t)(c->p - v);
			span_cut(&ev->msgid, MAILLOG_MSGID_MAX);
		} else if (kn == 6 && memcmp(k, "status", 6) == 0) {
			size_t n = (size_t)(c->e - v);

			if (word_is(v, n, "sent") || word_is(v, n, "deliverable"))
				ev->status = MAILLOG_SENT;
			else if (word_is(v, n, "deferred"))
				ev->status = MAILLOG_DEFERRED;
			else if (word_is(v, n, "bounced") ||
			    word_is(v, n, "undeliverable"))
				ev->status = MAILLOG_BOUNCED;
			else if (word_is(v, n, "expired"))
				ev->status = MAILLOG_EXPIRED;
			else
				return MAILLOG_NONE;
			have_status = 1;
			paren_text(v, c->e, &ev->diag);
			ev->cached = ev->status == MAILLOG_DEFERRED &&
			    ev->diag.n >= 31 &&
			    memcmp(ev->diag.p, "delivery temporarily suspended", 30) == 0;
			c->p = c->e;
		} else if (kn == 4 && memcmp(k, "stat", 4) == 0) {
			size_t n = (size_t)(c->e - v);

			ev->mta = MAILLOG_SENDMAIL;
			if (word_is(v, n, "Sent"))
				ev->status = MAILLOG_SENT;
			else if (word_is(v, n, "Deferred"))
				ev->status = MAILLOG_DEFERRED;
			else if (word_is(v, n, "queued") || n == 0)
				return MAILLOG_NONE;
			else
				ev->status = MAILLOG_BOUNCED;
			have_status = 1;
			ev->diag.p = v;
			ev->diag.n = n;
			span_cut(&ev->diag, MAILLOG_DIAG_MAX);
			c->p = c->e;
		} else {
			/* a plain value: to ", " or the end */
			const char *q = v;

			while (q < c->e && !(*q == ',' && q + 1 < c->e && q[1] == ' '))
				q++;
			if (kn == 3 && memcmp(k, "dsn", 3) == 0) {
				ev->dsn.p = v;
				ev->dsn.n = (size_t)(q - v);
				if (ev->dsn.n > 15)
					ev->dsn.n = 0;
			} else if (kn == 5 && memcmp(k, "relay", 5) == 0)
				relay_host(v, (size_t)(q - v), &ev->relay);
			c->p = q;
		}
		if (c->p < c->e && !(expect(c, ',') && expect(c, ' ')))
			break;
	}
	if (have_to && have_status)
		return MAILLOG_DELIVERY;
	if (have_to || have_status)
		return MAILLOG_NONE;	/* e.g. qmgr "from=<>, status=expired" */
	if (have_from)
		return MAILLOG_SENDER;
	if (ev->msgid.n > 0)
		return MAILLOG_MSGID;
	return MAILLOG_NONE;
}

/* ---- Exim ---- */

/* "ID <= s ...", "ID => r ...", "ID -> r", "ID == r ...", "ID ** r ..." */
static enum maillog_kind
exim_record(struct cur *c, struct maillog_event *ev)
{
	const char *s = c->p, *ae, *q, *msg;
	char f0, f1;

	ev->mta = MAILLOG_EXIM;
	while (c->p < c->e && (is_alnum(*c->p) || *c->p == '-'))
		c->p++;
	ev->qid.p = s;
	ev->qid.n = (size_t)(c->p - s);
	if (ev->qid.n < 8 || ev->qid.n > MAILLOG_QID_MAX || !expect(c, ' ') ||
	    c->e - c->p < 3 || c->p[2] != ' ')
		return MAILLOG_NONE;
	f0 = c->p[0];
	f1 = c->p[1];
	c->p += 3;
	if (f0 == '<' && f1 == '=') {
		if (at(c, "<>")) {
			ev->sender.p = c->p;
			ev->sender.n = 0;
			ev->null_sender = 1;
			c->p += 2;
		} else if (!token(c, &ev->sender) || ev->sender.n > MAILLOG_ADDR_MAX)
			return MAILLOG_NONE;
		/* " id=MSGID" (without brackets) */
		while (c->p < c->e) {
			skip_spaces(c);
			if (at(c, "id=")) {
				c->p += 3;
				(void)token(c, &ev->msgid);
				span_cut(&ev->msgid, MAILLOG_MSGID_MAX);
				break;
			}
			while (c->p < c->e && *c->p != ' ')
				c->p++;
		}
		return MAILLOG_SENDER;
	}
	if (f0 == '=' && f1 == '>')
		ev->status = MAILLOG_SENT;
	else if (f0 == '-' && f1 == '>')
		ev->status = MAILLOG_SENT;
	else if (f0 == '=' && f1 == '=')
		ev->status = MAILLOG_DEFERRED;
	else if (f0 == '*' && f1 == '*')
		ev->status = MAILLOG_BOUNCED;
	else
		return MAILLOG_NONE;
	s = c->p;
	for (ae = s; ae < c->e && *ae != ' ' && *ae != ':'; ae++)
		;
	if (ae == s || (size_t)(ae - s) > MAILLOG_ADDR_MAX ||
	    memchr(s, '@', (size_t)(ae - s)) == NULL)
		return MAILLOG_NONE;
	ev->rcpt.p = s;
	ev->rcpt.n = (size_t)(ae - s);
	c->p = ae;
	/* " H=host [ip]..." then ": message"; without H=, ": message" */
	msg = NULL;
	for (q = ae; q + 3 <= c->e; q++)
		if (q[0] == ' ' && q[1] == 'H' && q[2] == '=') {
			relay_host(q + 3, (size_t)(c->e - q - 3), &ev->relay);
			ae = q + 3;
			break;
		}
	for (q = ae; q + 2 <= c->e; q++)
		if (q[0] == ':' && q[1] == ' ') {
			msg = q + 2;
			break;
		}
	ev->diag.p = msg != NULL ? msg : ae;
	ev->diag.n = ev->status == MAILLOG_SENT ? 0 : (size_t)(c->e - ev->diag.p);
	while (ev->diag.n > 0 && ev->diag.p[0] == ' ') {
		ev->diag.p++;
		ev->diag.n--;
	}
	span_cut(&ev->diag, MAILLOG_DIAG_MAX);
	return MAILLOG_DELIVERY;
}

/* ---- the line ---- */

static int
prog_is(const struct maillog_span *p, const char *name)
{
	size_t n = strlen(name);

	return p->n >= n && memcmp(p->p, name, n) == 0;
}

static int
prog_has(const struct maillog_span *p, const char *name)
{
	size_t n = strlen(name), i;

	for (i = 0; i + n <= p->n; i++)
		if (memcmp(p->p + i, name, n) == 0)
			return 1;
	return 0;
}

/* After the prefix: the program's message. */
static enum maillog_kind
body(struct cur *c, struct maillog_event *ev)
{
	if (prog_has(&ev->prog, "exim")) {
		struct cur save = *c;
		int y, m, d;

		/* Exim through syslog may keep its own time stamp */
		if (civil_date(c, &y, &m, &d) == 0 && expect(c, ' ') &&
		    clock_time(c) >= 0 && expect(c, ' '))
			;
		else
			*c = save;
		return exim_record(c, ev);
	}
	if (prog_is(&ev->prog, "sm-") || prog_is(&ev->prog, "sendmail"))
		ev->mta = MAILLOG_SENDMAIL;
	else
		ev->mta = MAILLOG_POSTFIX;
	if (queue_id(c, &ev->qid) != 0)
		return MAILLOG_NONE;
	return kv_record(c, ev);
}

static enum maillog_kind
parse_line(const char *line, size_t n, struct maillog_event *ev)
{
	struct cur c;
	enum maillog_kind k;

	if (line == NULL)
		return MAILLOG_NONE;
	if (n > MAILLOG_LINE_MAX)
		n = MAILLOG_LINE_MAX;
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	if (memchr(line, '\0', n) != NULL)
		return MAILLOG_NONE;
	c.p = line;
	c.e = line + n;

	if (at(&c, "<")) {
		/* a priority: RFC 5424 ("<PRI>1 ") or RFC 3164 with PRI */
		const char *q = c.p + 1;

		while (q < c.e && q - c.p <= 4 && is_digit(*q))
			q++;
		if (q >= c.e || *q != '>' || q == c.p + 1)
			return MAILLOG_NONE;
		c.p = q + 1;
		if (at(&c, "1 ")) {
			c.p += 2;
			if (rfc5424(&c, ev) != 0)
				return MAILLOG_NONE;
			goto message;
		}
	}
	if (c.p < c.e && is_digit(*c.p)) {
		/* "YYYY-MM-DDT..." syslog, or Exim's "YYYY-MM-DD HH:MM:SS" */
		if (c.e - c.p > 10 && c.p[10] == 'T') {
			if (iso_time(&c, ev, 1) != 0 || !expect(&c, ' '))
				return MAILLOG_NONE;
		} else {
			if (iso_time(&c, ev, 0) != 0 || !expect(&c, ' '))
				return MAILLOG_NONE;
			/* Exim "[pid] " with log_selector +pid */
			if (expect(&c, '[')) {
				while (c.p < c.e && is_digit(*c.p))
					c.p++;
				if (!expect(&c, ']') || !expect(&c, ' '))
					return MAILLOG_NONE;
			}
			k = exim_record(&c, ev);
			goto done;
		}
	} else if (bsd_time(&c, ev) == 0) {
		if (!expect(&c, ' '))
			return MAILLOG_NONE;
	} else
		memset(ev, 0, sizeof(*ev));
	/* HOST then TAG; or, without a host, TAG right away */
	{
		struct cur save = c;

		if (!token(&c, &ev->host) || !expect(&c, ' ') ||
		    prog_tag(&c, ev) != 0) {
			c = save;
			ev->host.n = 0;
			if (prog_tag(&c, ev) != 0)
				return MAILLOG_NONE;
		}
		span_cut(&ev->host, MAILLOG_HOST_MAX);
	}
message:
	k = body(&c, ev);
done:
	return k;
}

enum maillog_kind
maillog_parse(const char *line, size_t n, struct maillog_event *ev)
{
	enum maillog_kind k;

	memset(ev, 0, sizeof(*ev));
	/* not an event: no half-set fields either */
	if ((k = parse_line(line, n, ev)) == MAILLOG_NONE)
		memset(ev, 0, sizeof(*ev));
	ev->kind = k;
	return k;
}

const char *
maillog_status_name(enum maillog_status s)
{
	switch (s) {
	case MAILLOG_SENT: return "sent";
	case MAILLOG_DEFERRED: return "deferred";
	case MAILLOG_BOUNCED: return "bounced";
	case MAILLOG_EXPIRED: return "expired";
	}
	return "?";
}

const char *
maillog_mta_name(enum maillog_mta m)
{
	switch (m) {
	case MAILLOG_POSTFIX: return "postfix";
	case MAILLOG_SENDMAIL: return "sendmail";
	case MAILLOG_EXIM: return "exim";
	}
	return "?";
}

void
maillog_span_copy(const struct maillog_span *s, char *out, size_t outlen)
{
	size_t n = s->n;

	EGRESS_ASSERT(outlen > 0);
	if (n >= outlen)
		n = outlen - 1;
	if (n > 0)
		memcpy(out, s->p, n);
	out[n] = '\0';
}

/* ---- classification ---- */

static char *
span_dup(const struct maillog_span *s)
{
	char *d = malloc(s->n + 1);

	if (d != NULL)
		maillog_span_copy(s, d, s->n + 1);
	return d;
}

int
maillog_classify(const struct classifier *cl, const struct maillog_event *ev,
    struct maillog_rcpt *out)
{
	struct dsn_recipient *r = &out->r;
	char st[16];
	int reply = 0;

	memset(out, 0, sizeof(*out));
	EGRESS_ASSERT(ev->kind == MAILLOG_DELIVERY);
	if ((r->final_rcpt = span_dup(&ev->rcpt)) == NULL)
		goto fail;
	if (ev->relay.n > 0 && (r->remote_mta = span_dup(&ev->relay)) == NULL)
		goto fail;
	if (ev->diag.n > 0 &&
	    (r->diag = dsn_diag_clean(ev->diag.p, ev->diag.n, DSN_FIELD_MAX)) == NULL)
		goto fail;
	dsn_diag_codes(r->diag != NULL ? r->diag : "", st, &reply);
	if (ev->dsn.n > 0)
		maillog_span_copy(&ev->dsn, out->status, sizeof(out->status));
	else
		memcpy(out->status, st, sizeof(out->status));
	r->status = out->status[0] != '\0' ? out->status : NULL;
	r->reply_code = reply;
	/* a static string: the report never frees action */
	r->action = (char *)(ev->status == MAILLOG_DEFERRED ? "delayed" :
	    ev->status == MAILLOG_SENT ? "delivered" : "failed");
	classify(cl, r->status, r->reply_code, r->diag, &r->cls);
	if (ev->status == MAILLOG_EXPIRED && strcmp(r->cls.source, "text") != 0) {
		r->cls.reason = "expired";
		r->cls.category = reason_category("expired");
		r->cls.hard = 0;
	}
	if (ev->status == MAILLOG_DEFERRED)
		r->cls.hard = 0;	/* the MTA retries: never permanent */
	return 0;
fail:
	maillog_rcpt_fini(out);
	return -1;
}

void
maillog_rcpt_fini(struct maillog_rcpt *m)
{
	if (m == NULL)
		return;
	free(m->r.final_rcpt);
	free(m->r.remote_mta);
	free(m->r.diag);
	memset(m, 0, sizeof(*m));
}

/* ---- queue-id map ---- */

#define QNIL	((size_t)-1)

struct qent {
	char	 qid[MAILLOG_QID_MAX + 1];
	char	*sender;	/* "" for <>; NULL unknown */
	char	*msgid;
	size_t	 next;		/* hash chain */
	int	 used;
};

struct maillog_qmap {
	struct qent	*e;
	size_t		*head;
	size_t		 cap, nb, ring;
};

static size_t
qhash(const char *q, size_t n, size_t nb)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)q[i];
		h *= 16777619u;
	}
	return h % nb;
}

struct maillog_qmap *
maillog_qmap_new(size_t cap)
{
	struct maillog_qmap *m;
	size_t i;

	if (cap == 0 || cap > ((size_t)1 << 24))
		cap = 4096;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->cap = cap;
	m->nb = cap * 2 + 1;
	m->e = calloc(cap, sizeof(*m->e));
	m->head = malloc(m->nb * sizeof(*m->head));
	if (m->e == NULL || m->head == NULL) {
		maillog_qmap_free(m);
		return NULL;
	}
	for (i = 0; i < m->nb; i++)
		m->head[i] = QNIL;
	return m;
}

void
maillog_qmap_free(struct maillog_qmap *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; m->e != NULL && i < m->cap; i++) {
		free(m->e[i].sender);
		free(m->e[i].msgid);
	}
	free(m->e);
	free(m->head);
	free(m);
}

static size_t
qfind(const struct maillog_qmap *m, const char *q, size_t n)
{
	size_t i;

	if (n == 0 || n > MAILLOG_QID_MAX)
		return QNIL;
	for (i = m->head[qhash(q, n, m->nb)]; i != QNIL; i = m->e[i].next)
		if (strlen(m->e[i].qid) == n && memcmp(m->e[i].qid, q, n) == 0)
			return i;
	return QNIL;
}

/* Forget slot i: unlink it from its chain and free its strings. */
static void
qevict(struct maillog_qmap *m, size_t i)
{
	struct qent *x = &m->e[i];
	size_t *pp = &m->head[qhash(x->qid, strlen(x->qid), m->nb)];

	while (*pp != QNIL && *pp != i)
		pp = &m->e[*pp].next;
	if (*pp == i)
		*pp = x->next;
	free(x->sender);
	free(x->msgid);
	memset(x, 0, sizeof(*x));
}

int
maillog_qmap_learn(struct maillog_qmap *m, const struct maillog_event *ev)
{
	char *sender = NULL, *msgid = NULL;
	struct qent *x;
	size_t i, h;

	if ((ev->kind != MAILLOG_SENDER && ev->kind != MAILLOG_MSGID) ||
	    ev->qid.n == 0 || ev->qid.n > MAILLOG_QID_MAX)
		return 0;
	if ((ev->sender.n > 0 || ev->null_sender) &&
	    (sender = span_dup(&ev->sender)) == NULL)
		return -1;
	if (ev->msgid.n > 0 && (msgid = span_dup(&ev->msgid)) == NULL) {
		free(sender);
		return -1;
	}
	if ((i = qfind(m, ev->qid.p, ev->qid.n)) == QNIL) {
		i = m->ring;
		m->ring = (m->ring + 1) % m->cap;
		if (m->e[i].used)
			qevict(m, i);
		x = &m->e[i];
		maillog_span_copy(&ev->qid, x->qid, sizeof(x->qid));
		x->used = 1;
		h = qhash(x->qid, ev->qid.n, m->nb);
		x->next = m->head[h];
		m->head[h] = i;
	}
	x = &m->e[i];
	if (sender != NULL) {
		free(x->sender);
		x->sender = sender;
	}
	if (msgid != NULL) {
		free(x->msgid);
		x->msgid = msgid;
	}
	return 0;
}

int
maillog_qmap_get(const struct maillog_qmap *m, const char *qid, size_t qn,
    const char **sender, const char **msgid)
{
	size_t i = qfind(m, qid, qn);

	if (sender != NULL)
		*sender = i != QNIL ? m->e[i].sender : NULL;
	if (msgid != NULL)
		*msgid = i != QNIL ? m->e[i].msgid : NULL;
	return i != QNIL;
}
