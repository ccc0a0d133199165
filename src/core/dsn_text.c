/*
 * dsn_text - failed recipients from human-readable bounce text.
 *
 * Many MTAs do not send RFC 3464 reports, and those that do put the most
 * useful wording in the human part. Rather than one parser per product this
 * reads the shapes they share:
 *
 *   an address alone on a line, diagnostic lines below it
 *       (qmail, Exim, Yahoo, Gmail, Mail.ru, Sendmail's fatal-errors list);
 *   "address: diagnostic" and "address... diagnostic"
 *       (Postfix, OpenSMTPD, Sendmail transcripts);
 *   "address on DATE" with indented lines (Exchange 2003);
 *   "address [diagnostic]";
 *   a sentence naming the address ("error delivering your mail to <a>",
 *       "Your message to a couldn't be delivered"), diagnostic paragraph next;
 *   SMTP transcripts ("RCPT TO:<a>" then "<<< 550 ...").
 *
 * Text after a returned-message marker ("This is a copy of the message",
 * "Below this line is a copy", "Original message follows", ...) is never
 * read for recipients. Work is linear in the text size; every recipient's
 * diagnostic is bounded to DSN_TEXT_RCPT_LINES lines.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "egress/assert.h"
#include "egress/dsn.h"
#include "egress/smtpcode.h"

#include "dsn_int.h"
#include "bytescan.h"

/* ---- small string helpers ---- */

int
dsn_has_prefix_ci(const char *s, const char *prefix)
{
	for (; *prefix; s++, prefix++)
		if (tolower((unsigned char)*s) != tolower((unsigned char)*prefix))
			return 0;
	return 1;
}

static inline int
fold(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/*
 * Caseless (ASCII) search. The candidates are the positions whose first
 * and last bytes match the needle's, 16 at a time (bytescan.h's way); only
 * those are compared in full. The first match in s is returned.
 */
const char *
dsn_memstr_ci(const char *s, size_t n, const char *needle)
{
	size_t m = strlen(needle), i = 0, j;
	int f0, fl;

	if (m == 0)
		return s;
	if (n < m)
		return NULL;
	f0 = fold((unsigned char)needle[0]);
	fl = fold((unsigned char)needle[m - 1]);
#ifdef __SSE2__
	{
		const __m128i lo0 = _mm_set1_epi8((char)f0),
		    up0 = _mm_set1_epi8((char)toupper(f0)),
		    lol = _mm_set1_epi8((char)fl),
		    upl = _mm_set1_epi8((char)toupper(fl));

		/*
		 * Blocks of 16 positions; the last block is moved back to end
		 * at the last position (its positions already seen masked).
		 */
		while (n >= m + 15 && i <= n - m) {
			size_t base = i <= n - m - 15 ? i : n - m - 15;
			__m128i a = _mm_loadu_si128((const __m128i *)(const void *)(s + base));
			__m128i z = _mm_loadu_si128((const __m128i *)(const void *)(s + base + m - 1));
			unsigned mask = (unsigned)_mm_movemask_epi8(_mm_and_si128(
			    _mm_or_si128(_mm_cmpeq_epi8(a, lo0), _mm_cmpeq_epi8(a, up0)),
			    _mm_or_si128(_mm_cmpeq_epi8(z, lol), _mm_cmpeq_epi8(z, upl))));

			mask &= ~((1u << (i - base)) - 1);
			i = base;
			while (mask != 0) {
				size_t k = i + (size_t)__builtin_ctz(mask);

				for (j = 1; j + 1 < m; j++)
					if (fold((unsigned char)s[k + j]) !=
					    fold((unsigned char)needle[j]))
						break;
				if (j + 1 >= m)
					return s + k;
				mask &= mask - 1;
			}
			i += 16;
		}
	}
#endif
	for (; i + m <= n; i++) {
		if (fold((unsigned char)s[i]) != f0 ||
		    fold((unsigned char)s[i + m - 1]) != fl)
			continue;
		for (j = 1; j + 1 < m; j++)
			if (fold((unsigned char)s[i + j]) != fold((unsigned char)needle[j]))
				break;
		if (j + 1 >= m)
			return s + i;
	}
	return NULL;
}

#define WS_TOKEN_MAX	64	/* longest anchor word of a dsn_memstr_ws_ci needle */

static int
is_wrap_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Does s[..h) end with needle[0..a), a needle space matching a blank run? */
static int
ws_match_back(const char *s, size_t h, const char *needle, size_t a,
    size_t *start)
{
	while (a > 0) {
		if (needle[a - 1] == ' ') {
			if (h == 0 || !is_wrap_space((unsigned char)s[h - 1]))
				return 0;
			while (h > 0 && is_wrap_space((unsigned char)s[h - 1]))
				h--;
		} else {
			if (h == 0 || fold((unsigned char)s[h - 1]) !=
			    fold((unsigned char)needle[a - 1]))
				return 0;
			h--;
		}
		a--;
	}
	*start = h;
	return 1;
}

/* Does s[i..n) start with needle (NUL-ended), spaces matching blank runs? */
static int
ws_match_fwd(const char *s, size_t n, size_t i, const char *q)
{
	while (*q != '\0') {
		if (*q == ' ') {
			if (i >= n || !is_wrap_space((unsigned char)s[i]))
				return 0;
			while (i < n && is_wrap_space((unsigned char)s[i]))
				i++;
		} else {
			if (i >= n || fold((unsigned char)s[i]) !=
			    fold((unsigned char)*q))
				return 0;
			i++;
		}
		q++;
	}
	return 1;
}

/*
 * Like dsn_memstr_ci, but a space of the needle matches any run of blanks
 * and line breaks: a notice wrapped at another column ("(in reply to end
 * of\n    DATA command)") still names its phrase. The needle's longest word
 * is found by dsn_memstr_ci (short words such as "in" and "to" are
 * everywhere), the words around it compared from there. Returns a match
 * (the one whose longest word comes first), or NULL.
 */
const char *
dsn_memstr_ws_ci(const char *s, size_t n, const char *needle)
{
	char tok[WS_TOKEN_MAX + 1];
	const char *hit;
	size_t a = 0, alen = 0, i = 0, j, off = 0, h, start;

	while (needle[i] != '\0') {
		j = strcspn(needle + i, " ");
		if (j > alen) {
			a = i;
			alen = j;
		}
		i += j;
		while (needle[i] == ' ')
			i++;
	}
	if (alen == 0 || alen > WS_TOKEN_MAX)
		return dsn_memstr_ci(s, n, needle);
	memcpy(tok, needle + a, alen);
	tok[alen] = '\0';
	while (off < n && (hit = dsn_memstr_ci(s + off, n - off, tok)) != NULL) {
		h = (size_t)(hit - s);
		if (ws_match_back(s, h, needle, a, &start) &&
		    ws_match_fwd(s, n, h + alen, needle + a + alen))
			return s + start;
		off = h + 1;
	}
	return NULL;
}

/*
 * Whether any needle of the NULL-ended list occurs, spaces matching blank
 * runs, where every needle holds the word anchor (caseless): one scan for
 * the anchor, each needle compared around each hit ("data" for "after
 * data", "in reply to end of data", ">>> data" ...).
 */
int
dsn_memstr_ws_group_ci(const char *s, size_t n, const char *anchor,
    const char *const *list)
{
	const char *hit;
	size_t alen = strlen(anchor), off = 0, h, k, a, start;

	if (alen == 0)
		return dsn_memstr_ws_any_ci(s, n, list);
	while (off < n && (hit = dsn_memstr_ci(s + off, n - off, anchor)) != NULL) {
		h = (size_t)(hit - s);
		for (k = 0; list[k] != NULL; k++) {
			const char *in = dsn_memstr_ci(list[k], strlen(list[k]), anchor);

			if (in == NULL)
				continue;	/* not of the group: never matches */
			a = (size_t)(in - list[k]);
			if (ws_match_back(s, h, list[k], a, &start) &&
			    ws_match_fwd(s, n, h + alen, list[k] + a + alen))
				return 1;
		}
		off = h + 1;
	}
	return 0;
}

int
dsn_memstr_ws_any_ci(const char *s, size_t n, const char *const *list)
{
	size_t i;

	for (i = 0; list[i] != NULL; i++)
		if (dsn_memstr_ws_ci(s, n, list[i]) != NULL)
			return 1;
	return 0;
}

static int
local_char(int c)
{
	return isalnum(c) || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~.", c) != NULL);
}

static int
domain_char(int c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_';
}

/*
 * Find an address around the '@' at s[at]. Returns its length and sets
 * *start, or 0 when the '@' does not sit in a plausible address.
 */
static size_t
addr_around(const char *s, size_t n, size_t at, size_t *start)
{
	size_t b = at, e = at + 1, dots = 0;

	if (at > 1 && s[at - 1] == '"') {
		/* a quoted local part ('"a..b"@host', RFC 5321): no blanks */
		for (b = at - 1; b > 0 && at - b < DSN_ADDR_MAX; b--) {
			unsigned char c = (unsigned char)s[b - 1];

			if (c == '"' || c <= ' ' || c == '\\' || c >= 0x7f)
				break;
		}
		if (b == 0 || s[b - 1] != '"' || b == at - 1)
			return 0;
		b--;
	} else {
		while (b > 0 && local_char((unsigned char)s[b - 1]))
			b--;
		while (b < at && s[b] == '.')
			b++;
		if (b == at)
			return 0;
	}
	while (e < n && domain_char((unsigned char)s[e])) {
		if (s[e] == '.')
			dots++;
		e++;
	}
	while (e > at + 1 && (s[e - 1] == '.' || s[e - 1] == '-')) {
		if (s[e - 1] == '.')
			dots--;
		e--;
	}
	if (e == at + 1 || e - b > DSN_ADDR_MAX)
		return 0;
	/* "user@host" without a dot is accepted only when bracketed */
	if (dots == 0 && !(b > 0 && s[b - 1] == '<' && e < n && s[e] == '>'))
		return 0;
	*start = b;
	return e - b;
}

static char *
lower_dup(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	size_t i;

	if (d == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		d[i] = (char)tolower((unsigned char)s[i]);
	d[n] = '\0';
	return d;
}

char *
dsn_addr_extract(const char *s, size_t n)
{
	size_t i, start, len;

	for (i = 0; i < n; i++)
		if (s[i] == '@' && (len = addr_around(s, n, i, &start)) > 0)
			return lower_dup(s + start, len);
	return NULL;
}

/* ---- diagnostics ---- */

/* The status buffers of dsn.h hold any status code. */
_Static_assert(SMTP_STATUS_LEN_MAX < 16, "status buffer too small");

void
dsn_diag_codes(const char *diag, char status[16], int *reply)
{
	size_t n, i, len;
	int weak = 0, code, ok_reply = 0;
	char ok_status[16] = "";

	status[0] = '\0';
	*reply = 0;
	if (diag == NULL)
		return;
	n = strlen(diag);
	/*
	 * A failure's codes are 4xx and 5xx. A success code before them is
	 * a transcript's earlier step ("In: 250 2.1.0 Ok", then the RCPT
	 * reply): it is kept only when the text has no failure code at all
	 * (a report of delivery).
	 */
	for (i = 0; i < n; i++) {
		/* every code and status starts 2, 4 or 5 */
		if (diag[i] != '2' && diag[i] != '4' && diag[i] != '5')
			continue;
		if (status[0] == '\0' && (len = smtp_status_at(diag, n, i)) > 0) {
			if (diag[i] != '2') {
				memcpy(status, diag + i, len);
				status[len] = '\0';
			} else if (ok_status[0] == '\0') {
				memcpy(ok_status, diag + i, len);
				ok_status[len] = '\0';
			}
		}
		if (*reply == 0 && (code = smtp_reply_at(diag, n, i)) != 0) {
			/* strong: "550 5.1.1" / "550-5.1.1"; weak: any code */
			if (code < 400) {
				if (ok_reply == 0 && i + 4 < n &&
				    smtp_status_at(diag, n, i + 4) > 0)
					ok_reply = code;
			} else if (i + 4 < n && smtp_status_at(diag, n, i + 4) > 0)
				*reply = code;
			else if (weak == 0) {
				/* Sendmail: "554 <a>... 550 Host unknown" */
				const char *dots = strstr(diag + i, ">... ");

				weak = code;
				if (dots && dots - (diag + i) < DSN_ADDR_MAX + 8 &&
				    (code = smtp_reply_at(diag, n,
				    (size_t)(dots + 5 - diag))) != 0)
					weak = code;
			}
		}
		if (status[0] && *reply)
			break;
	}
	if (*reply == 0)
		*reply = weak;
	if (*reply == 0)
		*reply = ok_reply;
	if (status[0] == '\0')
		memcpy(status, ok_status, sizeof(ok_status));
	/*
	 * Amazon SES and WorkMail give up with their own code and append the
	 * remote server's last reply in angle brackets: "554 4.4.7 Message
	 * expired: unable to deliver in 840 minutes.<421 4.4.2 Connection
	 * timed out>". That enclosed reply is what the remote said.
	 */
	for (i = 1; i + 4 < n; i++) {
		const char *lt = memchr(diag + i - 1, '<', n - 4 - i);

		if (lt == NULL)
			break;
		i = (size_t)(lt - diag) + 1;
		if ((code = smtp_reply_at(diag, n, i)) != 0 &&
		    (len = smtp_status_at(diag, n, i + 4)) > 0) {
			*reply = code;
			memcpy(status, diag + i + 4, len);
			status[len] = '\0';
		}
	}
}

int
dsn_diag_failed(const char *diag)
{
	char st[16];
	int reply;

	dsn_diag_codes(diag, st, &reply);
	return reply >= 400 || st[0] == '4' || st[0] == '5';
}

/* Does s[i..] start "CODE-" or "CODE STATUS " with the given code/status? */
static size_t
cont_prefix_len(const char *s, size_t n, size_t i, const char *code,
    const char *st)
{
	size_t cl = strlen(code), sl = strlen(st), j;

	if (i + cl + 1 > n || memcmp(s + i, code, cl) != 0)
		return 0;
	j = i + cl;
	if (s[j] != '-' && s[j] != ' ')
		return 0;
	if (sl && j + 1 + sl <= n && memcmp(s + j + 1, st, sl) == 0 &&
	    (j + 1 + sl == n || s[j + 1 + sl] == ' '))
		return j + 1 + sl + (j + 1 + sl < n ? 1 : 0) - i;
	if (s[j] == '-')
		return j + 1 - i;
	return 0;
}

char *
dsn_diag_clean(const char *s, size_t n, size_t max)
{
	struct buf b;
	char code[4] = "", st[16] = "";
	char *t, *out;
	size_t i, m, first = (size_t)-1, len;
	int sp = 1;

	buf_init(&b, max + 64);
	/* collapse whitespace */
	for (i = 0; i < n && b.len < max; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			sp = 1;
			continue;
		}
		if (sp && b.len > 0 && buf_putc(&b, ' ') != BUF_OK)
			goto fail;
		sp = 0;
		if (c < 32 || c == 127) {
			if (buf_putc(&b, ' ') != BUF_OK)
				goto fail;
		} else {
			/* the run of printable bytes, up to max */
			size_t j = i + 1, lim = i + (max - b.len);

			while (j < n && j < lim && (unsigned char)s[j] > ' ' &&
			    s[j] != 127)
				j++;
			if (buf_append(&b, s + i, j - i) != BUF_OK)
				goto fail;
			i = j - 1;
		}
	}
	t = b.data;
	m = b.len;
	if (t == NULL)
		return strdup("");
	/* find the first "CODE-STATUS"/"CODE STATUS"/"CODE-" prefix */
	for (i = 0; i + 4 <= m; i++) {
		if ((t[i] != '2' && t[i] != '4' && t[i] != '5') ||
		    (i > 0 && t[i - 1] != ' ') || !smtp_reply_at(t, m, i))
			continue;
		if (i + 4 < m && (len = smtp_status_at(t, m, i + 4)) > 0) {
			memcpy(st, t + i + 4, len);
			st[len] = '\0';
		} else if (t[i + 3] != '-')
			continue;
		memcpy(code, t + i, 3);
		code[3] = '\0';
		first = i;
		break;
	}
	if (first != (size_t)-1) {
		size_t w, r;

		if (t[first + 3] == '-')
			t[first + 3] = ' ';
		/* drop the later continuation prefixes in place */
		w = r = first + 4;
		while (r < m) {
			size_t pl;

			if (t[r - 1] == ' ' &&
			    (pl = cont_prefix_len(t, m, r, code, st)) > 0) {
				r += pl;
				continue;
			}
			t[w++] = t[r++];
		}
		m = w;
		while (m > 0 && t[m - 1] == ' ')
			m--;
		t[m] = '\0';
		b.len = m;
	}
	out = buf_steal(&b);
	return out ? out : strdup("");
fail:
	buf_fini(&b);
	return NULL;
}

/* ---- line model ---- */

struct line {
	const char	*p;	/* first non-blank byte */
	size_t		 n;	/* length without leading/trailing blanks */
	size_t		 indent;
	size_t		 off;	/* offset of the line in the text */
	int		 part_end;	/* DSN_PART_BREAK alone: part_break() */
};

static int
line_blank(const struct line *l)
{
	return l->n == 0;
}

/*
 * The line dsn_main_text() ends each text part with: what follows is
 * another part (a gateway's footer, the returned text), never the
 * paragraph a recipient's line announces.
 */
static int
part_break(const struct line *l)
{
	return l->part_end;
}

#define HDR_NAME_MAX		64
#define HDR_BLOCK_FIELDS	3
#define HDR_BLOCK_KNOWN		2
#define HDR_SENT_FIELDS		4

/*
 * The length of the field name opening l ("Received" of "Received: from"),
 * 0 when l does not open a header field: a name of letters, digits and
 * hyphens at the margin, then ':' (and a blank or the end of the line).
 */
static size_t
field_name_len(const struct line *l)
{
	size_t k;

	if (l->indent != 0 || l->n == 0 || !isalpha((unsigned char)l->p[0]))
		return 0;
	for (k = 1; k < l->n && k < HDR_NAME_MAX; k++)
		if (!isalnum((unsigned char)l->p[k]) && l->p[k] != '-')
			break;
	if (k >= l->n || l->p[k] != ':' ||
	    (k + 1 < l->n && l->p[k + 1] != ' ' && l->p[k + 1] != '\t'))
		return 0;
	return k;
}

/*
 * Whether l opens a delivery-status field (RFC 3464 2.2, 2.3: a report's
 * fields pasted into the notice, or its delivery-status part sent as
 * text): the notice's own, never a recipient's diagnostic text nor the
 * returned message's header.
 */
static int
report_field(const struct line *l)
{
	static const char *const names[] = { "final-recipient",
	    "original-recipient", "action", "status", "diagnostic-code",
	    "reporting-mta", "remote-mta", "arrival-date",
	    "last-attempt-date", "will-retry-until", "received-from-mta",
	    "x-original-message-id", "original-envelope-id", "dsn-gateway",
	    "x-actual-recipient", "x-postfix-queue-id", "x-postfix-sender",
	    NULL };
	size_t k = field_name_len(l), w;

	if (k == 0)
		return 0;
	for (w = 0; names[w]; w++)
		if (k == strlen(names[w]) && dsn_has_prefix_ci(l->p, names[w]))
			return 1;
	return 0;
}

/*
 * Whether lines[i..] open the header of a message, as a copy of the
 * returned message quoted in the notice does when no marker line
 * announces it (or one in words no list here knows): at least
 * HDR_BLOCK_FIELDS fields at the margin, one after another (folded lines
 * go with their field), HDR_BLOCK_KNOWN of them the fields every message
 * carries, and no delivery-status field among them (a report's fields
 * pasted into the notice, "Final-Recipient:", "Action:", are the notice's
 * own). Structure, not wording: it holds in any language. 2 when the
 * block carries a field only a sent message has (Received, Return-Path,
 * Message-ID, DKIM-Signature: not a mail program's view of a message,
 * "To: / CC: / Date: / Subject:"), 1 for another block, 0 for none.
 */
static int
header_block_at(const struct line *lines, size_t nl, size_t i)
{
	/* the first HDR_SENT_FIELDS are the sent message's */
	static const char *const known[] = { "received", "return-path",
	    "message-id", "dkim-signature", "date", "from", "to", "subject",
	    "mime-version", "x-received", "content-type", "cc", "reply-to",
	    "delivered-to", "authentication-results", "arc-seal", "x-mailer",
	    "user-agent", NULL };
	size_t fields = 0, hits = 0, k, w;
	int sent = 0;

	for (; i < nl && !line_blank(&lines[i]); i++) {
		if ((k = field_name_len(&lines[i])) == 0) {
			if (lines[i].indent > 0 && fields > 0)
				continue;	/* a folded line */
			break;
		}
		fields++;
		if (report_field(&lines[i]))
			return 0;
		for (w = 0; known[w]; w++)
			if (k == strlen(known[w]) &&
			    dsn_has_prefix_ci(lines[i].p, known[w])) {
				hits++;
				if (w < HDR_SENT_FIELDS)
					sent = 1;
				break;
			}
	}
	if (fields < HDR_BLOCK_FIELDS || hits < HDR_BLOCK_KNOWN)
		return 0;
	return sent ? 2 : 1;
}

/* A line opening a field of message identifiers ("Message-ID: <a@b>"). */
static int
id_field(const struct line *l)
{
	static const char *const names[] = { "message-id", "in-reply-to",
	    "references", "content-id", "resent-message-id",
	    "x-message-id", "original-message-id", "x-original-message-id",
	    NULL };
	size_t i, k;

	for (i = 0; names[i] != NULL; i++) {
		k = strlen(names[i]);
		if (l->n > k && l->p[k] == ':' && dsn_has_prefix_ci(l->p, names[i]))
			return 1;
	}
	return 0;
}

/*
 * "____..." (20 or more, which line_split() made a blank line) or "--",
 * "-- ": a footer or a signature opens.
 */
static int
footer_rule(const struct line *l)
{
	if (l->n == 2 && l->p[0] == '-' && l->p[1] == '-')
		return 1;
	return l->n == 0 && l->p != NULL && strspn(l->p, "_") >= 20;
}

/* Markers after which the returned message follows. */
static const char *const returned_markers[] = {
	"this is a copy of the message",
	"below this line is a copy of the message",
	"original message follows",
	"----- original message -----",
	"message headers follow",
	"below is a copy of the original message",
	"copy of the original message",
	"----- unsent message below",
	"original message headers",
	"the header of the original message",
	"----- message header follows",
	"headers of the original message",
	"original message header",
	"rfc822 headers of the original",
	"returned mail follows",
	"message text follows",
	"your message reads",
	"content-type: message/rfc822",
	"------ original message",
	"--- original message",
	"-- original message",
	/* Lotus Notes / Domino: "------- Returned Message --------" */
	"--- returned message",
	/* XMail: "Here is listed the initial part of the message:" */
	"initial part of the message",
	NULL
};

/*
 * "Not delivered yet" in Dutch, Portuguese, Polish, Russian, Japanese and
 * Swedish: a bounce marker (below) and a delay notice's warning-only words
 * (dsn_heuristics.c) at once.
 */
const char *const dsn_not_yet_words[] = {
	"nog niet afgeleverd",
	"ainda n\xc3\xa3o foi entregue",	/* ainda não foi entregue */
	"nie zosta\xc5\x82" "a jeszcze dostarczona",	/* nie została jeszcze dostarczona */
	"\xd0\xb5\xd1\x89\xd0\xb5 \xd0\xbd\xd0\xb5 \xd0\xb4\xd0\xbe\xd1\x81\xd1\x82\xd0\xb0\xd0\xb2\xd0\xbb\xd0\xb5\xd0\xbd\xd0\xbe",	/* еще не доставлено */
	"\xd0\xb5\xd1\x89\xd1\x91 \xd0\xbd\xd0\xb5 \xd0\xb4\xd0\xbe\xd1\x81\xd1\x82\xd0\xb0\xd0\xb2\xd0\xbb\xd0\xb5\xd0\xbd\xd0\xbe",	/* ещё не доставлено */
	"\xe3\x81\xbe\xe3\x81\xa0\xe9\x85\x8d\xe4\xbf\xa1\xe3\x81\x95\xe3\x82\x8c\xe3\x81\xa6\xe3\x81\x84\xe3\x81\xbe\xe3\x81\x9b\xe3\x82\x93",	/* まだ配信されていません */
	"har \xc3\xa4nnu inte levererats",	/* har ännu inte levererats */
	NULL
};

/* Marker lines that say "this is a bounce". */
/* bytes of each line joined to find a marker a notice wrapped */
#define WRAP_JOIN_MAX	72

static const char *const strong_markers[] = {
	"this is the qmail-send program",
	"this message was created automatically by mail delivery software",
	"could not be delivered to one or more of its recipients",
	"the following addresses had permanent fatal errors",
	"the following address(es) failed",
	"delivery to the following recipient failed",
	"delivery to the following recipients failed",
	"i'm afraid i wasn't able to deliver your message",
	"we were unable to deliver your message",
	"unable to deliver message to the following",
	"did not reach the following recipient",
	"your message did not reach some or all of the intended recipients",
	"delivery has failed to these recipients",
	"error has occurred while attempting to deliver a message",
	"there was an error delivering your mail",
	"your message could not be delivered",
	"your message couldn't be delivered",
	"message could not be delivered",
	"was undeliverable",
	"undeliverable to the following",
	"the following addresses had delivery errors",
	"permanent error",
	"delivery failed",
	"could not be delivered",
	"message not delivered",
	"returned mail",
	"transcript of session follows",
	"an error occurred while trying to deliver the mail",
	"sorry, your message",
	"you weren't able to post",
	"trouble delivering",
	"error sending your",
	"could not be delivered to",
	"cannot be delivered to",
	"can't be delivered to",
	"could not be reached",
	/* amavis: its non-delivery report, its spam and virus notices */
	"was not relayed to",
	"delivery of the email was stopped",
	"considered unsolicited bulk e-mail",
	/* delay warnings (Sendmail, Exim, Exchange, Domino, Postfix) */
	"could not send message for past",
	"has not yet been delivered",
	"has not been delivered yet",
	"held for retry",
	"delivery delayed report",
	"delivery is delayed to",
	"delivery has been delayed",
	"has been delayed in delivery",
	"this is a warning only",
	"this is a warning message only",
	"this is just a warning",
	"this is an advisory-only email",
	/* Japanese, Chinese, German, French, Spanish, Russian notices */
	"\xe9\x85\x8d\xe4\xbf\xa1\xe3\x81\xa7\xe3\x81\x8d\xe3\x81\xbe\xe3\x81\x9b\xe3\x82\x93",	/* 配信できません */
	"\xe9\x85\x8d\xe4\xbf\xa1\xe3\x81\xab\xe5\xa4\xb1\xe6\x95\x97",	/* 配信に失敗 */
	"\xe9\x80\x81\xe4\xbf\xa1\xe3\x81\xab\xe5\xa4\xb1\xe6\x95\x97",	/* 送信に失敗 */
	"\xeb\xb0\x9c\xec\x86\xa1\xec\x97\x90\x20\xec\x8b\xa4\xed\x8c\xa8",	/* 발송에 실패 */
	"\xec\xa0\x84\xec\x86\xa1\xec\x97\x90\x20\xec\x8b\xa4\xed\x8c\xa8",	/* 전송에 실패 */
	"\xec\xa0\x84\xeb\x8b\xac\xeb\x90\x98\xec\xa7\x80\x20\xec\x95\x8a\xec\x95\x98\xec\x8a\xb5\xeb\x8b\x88\xeb\x8b\xa4",	/* 전달되지 않았습니다 */
	"\xec\xa0\x84\xeb\x8b\xac\xed\x95\xa0\x20\xec\x88\x98\x20\xec\x97\x86\xec\x8a\xb5\xeb\x8b\x88\xeb\x8b\xa4",	/* 전달할 수 없습니다 */
	"\xe6\x97\xa0\xe6\xb3\x95\xe6\x8a\x95\xe9\x80\x92",	/* 无法投递 */
	"\xe6\x8a\x95\xe9\x80\x92\xe5\xa4\xb1\xe8\xb4\xa5",	/* 投递失败 */
	"konnte nicht zugestellt werden",
	"noch nicht zugestellt",
	"bisher nicht zugestellt",
	"\xe9\x85\x8d\xe4\xbf\xa1\xe3\x81\x8c\xe9\x81\x85\xe5\xbb\xb6",	/* 配信が遅延 */
	"kunde inte levereras",
	"kunne ikke leveres",
	"teslim edilemedi",
	"todav\xc3\xad" "a no ha sido entregado",	/* todavía no ha sido entregado */
	"a \xc3\xa9t\xc3\xa9 retard\xc3\xa9" "e",	/* a été retardée */
	"non \xc3\xa8 stato recapitato",	/* non è stato recapitato */
	"n'a pas pu \xc3\xaatre distribu\xc3\xa9",
	"no se ha podido entregar",
	"no se pudo entregar",
	"n'a pas pu \xc3\xaatre remis",	/* n'a pas pu être remis */
	"non \xc3\xa8 stato possibile consegnare",	/* non è stato possibile consegnare */
	"n\xc3\xa3o p\xc3\xb4" "de ser entregue",	/* não pôde ser entregue */
	"kon niet worden afgeleverd",
	"kon niet worden bezorgd",
	"nie mog\xc5\x82" "a zosta\xc4\x87 dostarczona",	/* nie mogła zostać dostarczona */
	"nie zosta\xc5\x82" "a dostarczona",	/* nie została dostarczona */
	"\xd0\xbd\xd0\xb5 \xd0\xbc\xd0\xbe\xd0\xb6\xd0\xb5\xd1\x82 \xd0\xb1\xd1\x8b\xd1\x82\xd1\x8c \xd0\xb4\xd0\xbe\xd1\x81\xd1\x82\xd0\xb0\xd0\xb2\xd0\xbb\xd0\xb5\xd0\xbd\xd0\xbe",	/* не может быть доставлено */
	"\xd0\xbd\xd0\xb5 \xd0\xb1\xd1\x8b\xd0\xbb\xd0\xbe \xd0\xb4\xd0\xbe\xd1\x81\xd1\x82\xd0\xb0\xd0\xb2\xd0\xbb\xd0\xb5\xd0\xbd\xd0\xbe",	/* не было доставлено */
	"message was not accepted",
	NULL
};

/*
 * Word lists matched in one pass (caseless, ASCII). Each word is chained in
 * a bucket by a hash of its last two bytes (word endings are shared less
 * than openings: "the", "de", "re" open half the words of a notice), so
 * that most positions of a text find an empty bucket and are left after
 * one table look-up. Each word carries the bit of its list, so
 * that one pass over a line answers for several lists at once. Prepared
 * once per text, then used line by line. Lists with a word shorter than
 * two bytes, or too many words, go word by word (dsn_memstr_ci), the same
 * answer.
 */
#define WS_WORDS_MAX	128
#define WS_LISTS_MAX	3
#define WS_BUCKETS	1024

struct wordset {
	const char *const *lists[WS_LISTS_MAX];
	size_t		 nlists;
	unsigned	 all;		/* the bits of every list */
	unsigned	 slow;		/* lists matched word by word */
	unsigned	 always;	/* lists with an empty word */
	const char	*word[WS_WORDS_MAX];
	size_t		 len[WS_WORDS_MAX];
	size_t		 anchor[WS_WORDS_MAX];	/* offset of the hashed pair */
	unsigned char	 bit[WS_WORDS_MAX];
	unsigned char	 next[WS_WORDS_MAX];	/* word index + 1, 0 ends */
	unsigned char	 head[WS_BUCKETS];	/* word index + 1, 0: none */
};

static inline unsigned
ws_fold(unsigned c)
{
	return c | (unsigned)(c - 'A' < 26u) << 5;
}

/*
 * The bucket of the pair at p. Both bytes OR 0x20 (letters folded, a few
 * punctuation bytes folded onto others: the bucket only sorts, the words
 * are compared in full), loaded as one 16-bit value on any byte order.
 */
static inline unsigned
ws_hash(const unsigned char *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return ((unsigned)(v | 0x2020u) * 40503u >> 6) & (WS_BUCKETS - 1);
}

/* lists[0..nl): list l answers with bit 1 << l */
static void
wordset_init_lists(struct wordset *ws, const char *const *const *lists,
    size_t nl)
{
	size_t k, l, nw = 0, w, best;
	unsigned h;

	EGRESS_ASSERT(nl >= 1 && nl <= WS_LISTS_MAX);
	memset(ws->head, 0, sizeof(ws->head));
	ws->nlists = nl;
	ws->all = (1u << nl) - 1;
	ws->slow = ws->always = 0;
	for (l = 0; l < nl; l++) {
		ws->lists[l] = lists[l];
		for (w = 0; lists[l][w] != NULL; w++)
			if (lists[l][w][0] == '\0')
				ws->always |= 1u << l;
			else if (lists[l][w][1] == '\0' || nw == WS_WORDS_MAX)
				ws->slow |= 1u << l;
			else {
				ws->word[nw] = lists[l][w];
				ws->bit[nw] = (unsigned char)(1u << l);
				nw++;
			}
	}
	for (k = nw; k-- > 0;) {
		const unsigned char *wd = (const unsigned char *)ws->word[k];

		if (((ws->slow | ws->always) & ws->bit[k]) != 0)
			continue;
		ws->len[k] = strlen(ws->word[k]);
		/* the last pair: endings share their pair less than openings */
		best = ws->len[k] - 2;
		ws->anchor[k] = best;
		h = ws_hash(wd + best);
		ws->next[k] = ws->head[h];
		ws->head[h] = (unsigned char)(k + 1);
	}
}

static void
wordset_init(struct wordset *ws, const char *const *list)
{
	wordset_init_lists(ws, &list, 1);
}

/* The bits of the lists with a word in s[0..n). */
static unsigned
wordset_bits(const struct wordset *ws, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	const char *w;
	size_t i, j, k, l, at;
	unsigned t, got = ws->always;

	for (l = 0; l < ws->nlists; l++)
		if ((ws->slow & ~got & (1u << l)) != 0)
			for (k = 0; ws->lists[l][k] != NULL; k++)
				if (dsn_memstr_ci(s, n, ws->lists[l][k]) != NULL) {
					got |= 1u << l;
					break;
				}
	for (i = 0; i + 1 < n && got != ws->all; i++) {
		if ((t = ws->head[ws_hash(u + i)]) == 0)
			continue;
		for (; t != 0; t = ws->next[t - 1]) {
			k = t - 1;
			if (ws->anchor[k] > i || (got & ws->bit[k]) != 0)
				continue;
			at = i - ws->anchor[k];
			if (ws->len[k] > n - at)
				continue;
			w = ws->word[k];
			for (j = 0; j < ws->len[k]; j++)
				if (ws_fold(u[at + j]) !=
				    ws_fold((unsigned char)w[j]))
					break;
			if (j == ws->len[k])
				got |= ws->bit[k];
		}
	}
	return got;
}

static int
wordset_find(const struct wordset *ws, const char *s, size_t n)
{
	return wordset_bits(ws, s, n) != 0;
}

/*
 * Whether any word of the NULL-ended list occurs in s[0..n), caseless.
 * dsn_memstr_ci() passes over 16 bytes in a few instructions and a word
 * set costs about ten a byte plus its set-up, so a short list goes word
 * by word and only a long one (more than WS_SHORT_LIST words) in one pass.
 */
#define WS_SHORT_LIST	16

int
dsn_memstr_any_ci(const char *s, size_t n, const char *const *list)
{
	struct wordset ws;
	size_t i;

	for (i = 0; list[i] != NULL && i <= WS_SHORT_LIST; i++)
		;
	if (i <= WS_SHORT_LIST) {
		for (i = 0; list[i] != NULL; i++)
			if (dsn_memstr_ci(s, n, list[i]) != NULL)
				return 1;
		return 0;
	}
	wordset_init(&ws, list);
	return wordset_find(&ws, s, n);
}

/*
 * 2: never a failed recipient (the daemon itself); 1: the bounce's own
 * sender or recipient, dropped only when other recipients were found (a
 * message bounced back to its own author is real).
 */
static int
excluded(const char *addr, const char *const *exclude)
{
	size_t i;

	static const char *const list_roles[] = { "-request@", "-owner@",
	    "-bounces@", "-bounce@", "-unsubscribe@", "-subscribe@",
	    "-help@", NULL };
	static const char *const list_servers[] = { "owner-", "listserv@",
	    "majordomo@", "mailman@", "sympa@", "lyris@", NULL };

	if (dsn_has_prefix_ci(addr, "mailer-daemon@") ||
	    dsn_has_prefix_ci(addr, "postmaster@") ||
	    dsn_has_prefix_ci(addr, "mailer_daemon@"))
		return 2;
	for (i = 0; exclude && exclude[i]; i++)
		if (strcmp(exclude[i], addr) == 0)
			return 1;
	/* a mailing list's administrative addresses (digest footers) */
	for (i = 0; list_roles[i]; i++)
		if (strstr(addr, list_roles[i]) != NULL)
			return 1;
	for (i = 0; list_servers[i]; i++)
		if (dsn_has_prefix_ci(addr, list_servers[i]))
			return 1;
	return 0;
}

enum rest_kind {
	REST_NONE,	/* not a recipient line */
	REST_BELOW,	/* address alone: diagnostic below */
	REST_INLINE,	/* diagnostic follows on the line (and maybe below) */
	REST_ADDR,	/* an address, the diagnostic is elsewhere */
};

/* Words that make "address some text" a recipient line. */
int
dsn_failure_words(const char *p, size_t n)
{
	static const char *const w[] = { "error", "invalid", "unknown",
	    "rejected", "failed", "full", "denied", "not exist", "no such",
	    "quota", "refused", "blocked", "disabled", "unavailable",
	    "not found", "expired", "undeliverable",
	    "\xe6\x8b\x92\xe5\x90\xa6",	/* refused (ja) */
	    "\xe6\x8b\x92\xe7\xbb\x9d",	/* refused (zh) */
	    "\xe5\xa4\xb1\xe6\x95\x97",	/* failed (ja) */
	    "\xe5\xa4\xb1\xe8\xb4\xa5",	/* failed (zh) */
	    "\xe5\xad\x98\xe5\x9c\xa8\xe3\x81\x97\xe3\x81\xbe\xe3\x81\x9b\xe3\x82\x93",	/* does not exist (ja) */
	    "\xe4\xb8\x8d\xe5\xad\x98\xe5\x9c\xa8",	/* does not exist (zh) */
	    NULL };
	size_t i;

	if (dsn_memstr_any_ci(p, n, w))
		return 1;
	for (i = 0; i + 3 <= n; i++)
		if ((p[i] == '4' || p[i] == '5') && (i == 0 || !isalnum((unsigned char)p[i - 1])) &&
		    isdigit((unsigned char)p[i + 1]) && isdigit((unsigned char)p[i + 2]) &&
		    (i + 3 == n || !isalnum((unsigned char)p[i + 3])))
			return 1;
	return 0;
}

/*
 * Labels of the field or line that names a failed recipient in a notice
 * (English, German, French, Spanish, Italian, Portuguese, Japanese,
 * Chinese, Korean, Russian). "To" is read only when the field holds one address.
 */
static const char *const rcpt_labels[] = {
	"original recipient", "recipient address", "failed recipient",
	"intended recipient", "final recipient", "recipient", "recipients",
	"addressed to", "message to", "mail to", "email to", "e-mail to",
	"delivery to", "to", "unable to deliver to", "undeliverable to",
	"bad address", "failed address", "invalid address",
	"undeliverable address", "bad recipient", "invalid recipient",
	"empf\xc3\xa4nger", "destinataire", "destinatario", "destinat\xc3\xa1rio",
	"\xe5\xae\x9b\xe5\x85\x88",			/* 宛先 */
	"\xe5\x8f\x97\xe4\xbf\xa1\xe8\x80\x85",		/* 受信者 */
	"\xe6\x94\xb6\xe4\xbb\xb6\xe4\xba\xba",		/* 收件人 */
	"\xeb\xb0\x9b\xeb\x8a\x94\x20\xec\x82\xac\xeb\x9e\x8c",	/* 받는 사람 */
	"\xec\x88\x98\xec\x8b\xa0\xec\x9e\x90",	/* 수신자 */
	"\xd0\xbf\xd0\xbe\xd0\xbb\xd1\x83\xd1\x87\xd0\xb0\xd1\x82\xd0\xb5\xd0\xbb\xd1\x8c", /* получатель */
	/* the matching is ASCII-caseless: Cyrillic capitals spelt out */
	"\xd0\x9f\xd0\xbe\xd0\xbb\xd1\x83\xd1\x87\xd0\xb0\xd1\x82\xd0\xb5\xd0\xbb\xd1\x8c", /* Получатель */
	NULL
};

/*
 * When the line is "LABEL: value" (blanks allowed before the colon, a
 * full-width colon too), the start of the value; else NULL.
 */
static const char *
labelled_value(const char *p, const char *e)
{
	size_t i;

	for (i = 0; rcpt_labels[i]; i++) {
		size_t n = strlen(rcpt_labels[i]);
		const char *q = p + n;

		if ((size_t)(e - p) <= n || !dsn_has_prefix_ci(p, rcpt_labels[i]))
			continue;
		while (q < e && *q == ' ')
			q++;
		if (q < e && *q == ':')
			q++;
		else if (e - q >= 3 && memcmp(q, "\xef\xbc\x9a", 3) == 0)
			q += 3;	/* U+FF1A FULLWIDTH COLON */
		else
			continue;
		while (q < e && (*q == ' ' || *q == '\t'))
			q++;
		return q < e ? q : NULL;
	}
	return NULL;
}

#define DISPLAY_NAME_MAX	64	/* bytes of a name before "<a>" */
#define DISPLAY_NAME_WORDS	4	/* words of an unquoted one */

/*
 * A display name opening a recipient line: '"Carl Ek" <', or up to four
 * words before '<', each capitalised or UTF-8 ("Carl Ek", "Jörg Beck"),
 * short particles aside ("Anna van Dijk"), of letters, dots, hyphens and
 * apostrophes. Returns where the '<' is, or p when the line does not open
 * so: not a field ("To: Name <a>", ':' is no name's), not a sentence or
 * a reply ("550 Verification failed for <a>", "for <a>; date").
 */
static const char *
skip_display_name(const char *p, const char *e)
{
	size_t lim = (size_t)(e - p) < DISPLAY_NAME_MAX ? (size_t)(e - p) :
	    DISPLAY_NAME_MAX;
	const char *lt = memchr(p, '<', lim), *q;
	int words = 0, letters = 0;

	if (lt == NULL || lt == p || lt[-1] != ' ' ||
	    memchr(p, '@', (size_t)(lt - p)) != NULL)
		return p;
	if (*p == '"') {
		q = memchr(p + 1, '"', (size_t)(lt - p - 1));
		if (q == NULL || q == p + 1)
			return p;
		for (q++; q < lt; q++)
			if (*q != ' ')
				return p;
		return lt;
	}
	for (q = p; q < lt; ) {
		const char *w = q;
		unsigned char c0 = (unsigned char)*q;

		while (q < lt && *q != ' ') {
			unsigned char c = (unsigned char)*q;

			if (isalpha(c) || c >= 0x80)
				letters++;
			else if (c != '.' && c != '-' && c != '\'')
				return p;
			q++;
		}
		/* a capitalised or UTF-8 word, or a particle of three letters */
		if (!(isupper(c0) || c0 >= 0x80 || (q - w <= 3 && w > p)))
			return p;
		if (++words > DISPLAY_NAME_WORDS)
			return p;
		while (q < lt && *q == ' ')
			q++;
	}
	return letters > 0 ? lt : p;
}

/*
 * Is this line a recipient line? Returns the kind, the address (malloc'd
 * in *addr) and where the inline diagnostic starts.
 */
static int same_ci(const char *, const char *, size_t);

static enum rest_kind
recipient_line(const struct line *l, char **addr, const char **rest,
    size_t *restn)
{
	const char *p = l->p, *e = l->p + l->n;
	size_t start, len, i;
	int br = 0;

	*addr = NULL;
	/* "RCPT TO:<a>" transcript lines */
	if (p < e && (*p == '>' || *p == '<' || *p == 'R' || *p == 'r')) {
		const char *q = p;

		while (q < e && (*q == '>' || *q == '<' || *q == ' '))
			q++;
		if (e - q > 8 && dsn_has_prefix_ci(q, "rcpt to:")) {
			if ((*addr = dsn_addr_extract(q, (size_t)(e - q))) == NULL)
				return REST_NONE;
			*rest = e;
			*restn = 0;
			/* in a transcript the reply follows; elsewhere it is a summary */
			return q > p ? REST_BELOW : REST_ADDR;
		}
	}
	/*
	 * Transcripts with a time stamp or an arrow first (MDaemon "Mon
	 * 2023-03-20 10:05:59: --> RCPT To:<a>", "-> RCPT TO:<a>"): the
	 * command after "--> " or "->", the reply on the next line.
	 */
	{
		const char *r = dsn_memstr_ci(p, (size_t)(e - p), "rcpt to:");

		if (r != NULL && r - p >= 2 && r - p < 64 && r[-1] == ' ' &&
		    (r[-2] == '>' || r[-2] == ':') && e - r > 8) {
			if ((*addr = dsn_addr_extract(r, (size_t)(e - r))) == NULL)
				return REST_NONE;
			*rest = e;
			*restn = 0;
			return REST_BELOW;
		}
	}
	/* XMail "[<00>] XMail bounce: Rcpt=[a];Error=[550 ...]" */
	{
		const char *r = dsn_memstr_ci(p, (size_t)(e - p), "rcpt=[");

		if (r != NULL && (*addr = dsn_addr_extract(r + 6,
		    (size_t)(e - r - 6))) != NULL) {
			const char *er = dsn_memstr_ci(r, (size_t)(e - r), "error=[");

			if (er == NULL) {
				*rest = e;
				*restn = 0;
				return REST_BELOW;
			}
			*rest = er + 7;
			*restn = (size_t)(e - *rest);
			if (*restn > 0 && (*rest)[*restn - 1] == ']')
				(*restn)--;
			return REST_INLINE;
		}
	}
	/* "Original recipient: a", "Recipient address: <a>", "To: a" */
	{
		const char *q = labelled_value(p, e);

		if (q != NULL) {
			const char *a0;

			if (dsn_has_prefix_ci(q, "rfc822;"))
				q += 7;
			while (q < e && *q == ' ')
				q++;
			/*
			 * 'To: "Vera Lind" <a>': a quoted name before the
			 * address; an unquoted one is left to the copies of
			 * header fields ("To: Kijitora <a>") it most often is.
			 */
			if (*q == '"')
				q = skip_display_name(q, e);
			while (q < e && (*q == ' ' || *q == '<' || *q == '"' ||
			    *q == '['))
				q++;
			/* "[SMTP:a]": the address type of Exchange and MailEnable */
			if (e - q > 5 && dsn_has_prefix_ci(q, "smtp:"))
				q += 5;
			a0 = memchr(q, '@', (size_t)(e - q));
			/* one address only: a list is a quoted header field */
			if (a0 == NULL || memchr(a0 + 1, '@', (size_t)(e - a0 - 1)))
				return REST_NONE;
			for (i = 0; q + i < a0; i++)
				if (!local_char((unsigned char)q[i]))
					return REST_NONE;
			if ((len = addr_around(l->p, l->n, (size_t)(a0 - l->p), &start)) == 0 ||
			    l->p + start != q)
				return REST_NONE;
			if ((*addr = lower_dup(q, len)) == NULL)
				return REST_NONE;
			q += len;
			while (q < e && (*q == ' ' || *q == '>' || *q == '"' ||
			    *q == ',' || *q == ';' || *q == ']'))
				q++;
			*rest = q;
			*restn = (size_t)(e - q);
			return *restn > 0 && dsn_failure_words(q, *restn) ?
			    REST_INLINE : REST_BELOW;
		}
	}
	/* list bullets: "* a", "*** a" (Mercury), "-- a", "-> a", "\xe2\x80\xa2 a" */
	if (e - p > 2 && (*p == '*' || *p == '-' || *p == '+')) {
		const char *q = p;

		while (q < e && q - p < 3 && *q == *p)
			q++;
		/* amavis lists recipients as "-> a" */
		if (q - p == 1 && *p == '-' && q < e && *q == '>')
			q++;
		if (q < e && *q == ' ') {
			p = q;
			while (p < e && *p == ' ')
				p++;
		}
	} else if (e - p > 4 && memcmp(p, "\xe2\x80\xa2 ", 4) == 0) {
		p += 4;
		while (p < e && *p == ' ')
			p++;
	}
	/*
	 * Domino: "User Name (a) not listed in Domino Directory", "User a
	 * (a) not listed in public Name & Address Book": the address in the
	 * parentheses (or after "User "), the line its diagnostic.
	 */
	if (e - p > 5 && dsn_has_prefix_ci(p, "user ") &&
	    dsn_memstr_ci(p, (size_t)(e - p), "not listed")) {
		const char *lp = memchr(p, '(', (size_t)(e - p)), *a0;

		if (lp != NULL && (a0 = memchr(lp, '@', (size_t)(e - lp))) != NULL &&
		    (len = addr_around(l->p, l->n, (size_t)(a0 - l->p), &start)) > 0 &&
		    l->p + start == lp + 1) {
			if ((*addr = lower_dup(lp + 1, len)) == NULL)
				return REST_NONE;
			*rest = p;
			*restn = (size_t)(e - p);
			return REST_INLINE;
		}
	}
	/* "Unknown user: a", "Mailbox full: <a>": a failure, then the address */
	{
		const char *c = memchr(p, ':', (size_t)(e - p));

		if (c != NULL && c - p >= 6 && c - p < 96 &&
		    memchr(p, '@', (size_t)(c - p)) == NULL &&
		    !smtp_reply_at(p, (size_t)(e - p), 0) &&
		    dsn_failure_words(p, (size_t)(c - p))) {
			const char *q = c + 1, *a0;

			while (q < e && (*q == ' ' || *q == '<' || *q == '"' ||
			    *q == '\''))
				q++;
			a0 = memchr(q, '@', (size_t)(e - q));
			if (a0 != NULL && q < a0 &&
			    (len = addr_around(l->p, l->n, (size_t)(a0 - l->p), &start)) > 0 &&
			    l->p + start == q) {
				const char *t = q + len;

				while (t < e && (*t == '>' || *t == '"' ||
				    *t == '\'' || *t == ' ' || *t == '.'))
					t++;
				/* the address ends the line: else it is prose */
				if (t == e) {
					if ((*addr = lower_dup(q, len)) == NULL)
						return REST_NONE;
					*rest = p;
					*restn = (size_t)(c - p);
					return REST_INLINE;
				}
			}
		}
	}
	/* "550 5.1.1 <a>... User unknown" */
	if (l->n > 6 && smtp_reply_at(p, l->n, 0) && p[3] == ' ') {
		const char *q = p + 4, *lt;

		if ((len = smtp_status_at(p, l->n, 4)) > 0)
			q = p + 4 + len + 1;
		if (q < e && *q == '<' && (lt = memchr(q, '>', (size_t)(e - q))) &&
		    lt + 4 <= e && memcmp(lt + 1, "...", 3) == 0) {
			if ((*addr = dsn_addr_extract(q, (size_t)(lt - q))) == NULL)
				return REST_NONE;
			*rest = p;
			*restn = l->n;
			return REST_INLINE;
		}
	}
	i = 0;
	/* "[SMTP:a]" alone: Exchange's and MailEnable's address type */
	if (e - p > 7 && *p == '[' && dsn_has_prefix_ci(p + 1, "smtp:")) {
		const char *cb = memchr(p, ']', (size_t)(e - p));

		if (cb != NULL && (*addr = dsn_addr_extract(p + 6,
		    (size_t)(cb - p - 6))) != NULL) {
			*rest = cb + 1;
			while (*rest < e && **rest == ' ')
				(*rest)++;
			*restn = (size_t)(e - *rest);
			return *restn > 0 ? REST_INLINE : REST_BELOW;
		}
	}
	/*
	 * "Carl Ek<mailto:a>": a display name and its link, as Exchange
	 * writes its recipients when its HTML notice becomes text.
	 */
	{
		const char *mt = (size_t)(e - p) > 9 ? dsn_memstr_ci(p,
		    (size_t)(e - p) < DISPLAY_NAME_MAX + 8 ? (size_t)(e - p) :
		    DISPLAY_NAME_MAX + 8, "<mailto:") : NULL;

		if (mt != NULL && mt > p && e[-1] == '>' &&
		    memchr(p, '@', (size_t)(mt - p)) == NULL &&
		    memchr(mt + 8, '>', (size_t)(e - mt - 8)) == e - 1 &&
		    (*addr = dsn_addr_extract(mt + 8, (size_t)(e - 1 - mt - 8))) != NULL) {
			*rest = e;
			*restn = 0;
			return REST_BELOW;
		}
	}
	/*
	 * SendGrid: "name:00000:<a> : reason", the local part and a number
	 * before the address (with a relay's reply echoing the address
	 * further on, reply_echo_recipient() keeps only the reply).
	 */
	{
		const char *c1 = memchr(p, ':', (size_t)(e - p) < 65 ?
		    (size_t)(e - p) : 65), *q;

		if (c1 != NULL && c1 > p && memchr(p, '@', (size_t)(c1 - p)) == NULL &&
		    memchr(p, ' ', (size_t)(c1 - p)) == NULL) {
			for (q = c1 + 1; q < e && isdigit((unsigned char)*q); q++)
				;
			if (q - c1 > 3 && q + 1 < e && *q == ':' && q[1] == '<' &&
			    dsn_memstr_ci(q, (size_t)(e - q), ">...") == NULL)
				p = q + 1;
		}
	}
	/* "\"Carl Ek\" <a> - mailbox full", "Carl Ek <a>": a name first */
	p = skip_display_name(p, e);
	if (p < e && (*p == '<' || *p == '"' || *p == '\'')) {
		br = 1;
		p++;
	}
	/* the address must start the line */
	{
		const char *at = memchr(p, '@', (size_t)(e - p));

		if (at == NULL)
			return REST_NONE;
		/* a quoted local part ("<\"a..b\"@host>") is checked by addr_around() */
		if (!(at - p >= 3 && *p == '"' && at[-1] == '"'))
			for (i = 0; p + i < at; i++)
				if (!local_char((unsigned char)p[i]))
					return REST_NONE;
		if ((len = addr_around(l->p, l->n, (size_t)(at - l->p), &start)) == 0)
			return REST_NONE;
		/*
		 * Exchange 2000/2003 "'a' on 12/2/2026 12:05 PM": "'" may
		 * be part of a local part, here it is the quotes around it.
		 */
		if (br && p[-1] == '\'' && l->p + start == p - 1 && len > 2) {
			start++;
			len--;
			if (l->p[start + len - 1] == '\'')
				len--;
		}
		if (l->p + start != p)
			return REST_NONE;
		start = (size_t)(p - l->p);
		p += len;
	}
	if (br && p < e && (*p == '>' || *p == '"' || *p == '\''))
		p++;
	while (p < e && *p == ' ')
		p++;
	/*
	 * "a<mailto:a>", "a [mailto:a]": a mail program's link to the
	 * address, written out when an HTML notice became text (Exchange).
	 */
	if ((size_t)(e - p) >= 9 + len && (*p == '<' || *p == '[') &&
	    dsn_has_prefix_ci(p + 1, "mailto:") &&
	    same_ci(p + 8, l->p + start, len) &&
	    p[8 + len] == (*p == '<' ? '>' : ']')) {
		p += 9 + len;
		while (p < e && *p == ' ')
			p++;
	}
	if (p >= e || (*p == ':' && p + 1 >= e)) {
		*addr = lower_dup(l->p + start, len);
		*rest = e;
		*restn = 0;
		return *addr ? REST_BELOW : REST_NONE;
	}
	if (*p == ':' || (e - p >= 3 && memcmp(p, "...", 3) == 0)) {
		p += *p == ':' ? 1 : 3;
		while (p < e && *p == ' ')
			p++;
		*addr = lower_dup(l->p + start, len);
		*rest = p;
		*restn = (size_t)(e - p);
		return *addr ? REST_INLINE : REST_NONE;
	}
	if (e - p > 3 && dsn_has_prefix_ci(p, "on ") ) {
		*addr = lower_dup(l->p + start, len);
		*rest = e;
		*restn = 0;
		return *addr ? REST_BELOW : REST_NONE;
	}
	/*
	 * Postfix "<a> (expanded from <b>): text": the alias is no reason.
	 * Wrapped before the ')' ("<a> (expanded from\n    <b>): text"):
	 * the diagnostic is below, after the ')' (open_alias()).
	 */
	if (e - p >= 14 && dsn_has_prefix_ci(p, "(expanded from")) {
		const char *cp = memchr(p, ')', (size_t)(e - p));

		if (cp == NULL) {
			*addr = lower_dup(l->p + start, len);
			*rest = e;
			*restn = 0;
			return *addr ? REST_INLINE : REST_NONE;
		}
		p = cp + 1;
		while (p < e && *p == ' ')
			p++;
		if (p >= e || (*p == ':' && p + 1 >= e)) {
			*addr = lower_dup(l->p + start, len);
			*rest = e;
			*restn = 0;
			return *addr ? REST_BELOW : REST_NONE;
		}
	}
	/* "a: text"; "a; Action: Delayed" (a status list of one MTA) */
	if ((*p == ':' || *p == ';') && p + 1 < e) {
		p++;
		while (p < e && *p == ' ')
			p++;
		*addr = lower_dup(l->p + start, len);
		*rest = p;
		*restn = (size_t)(e - p);
		return *addr ? REST_INLINE : REST_NONE;
	}
	if (*p == '[' || *p == '(') {
		/*
		 * "a [User unknown]", "a (550 5.1.1 <a>: ...)"; "a (a)" is
		 * the address again, a name or nothing with a cause
		 */
		if (memchr(p, '@', (size_t)(e - p)) != NULL &&
		    !dsn_failure_words(p, (size_t)(e - p))) {
			*addr = lower_dup(l->p + start, len);
			*rest = e;
			*restn = 0;
			return *addr ? REST_BELOW : REST_NONE;
		}
		*addr = lower_dup(l->p + start, len);
		*rest = p + 1;
		*restn = (size_t)(e - p - 1);
		if (*restn > 0 && (p[*restn] == ']' || p[*restn] == ')'))
			(*restn)--;
		return *addr ? REST_INLINE : REST_NONE;
	}
	/* "a Invalid Address, ERROR_CODE :550" */
	if (dsn_failure_words(p, (size_t)(e - p))) {
		*addr = lower_dup(l->p + start, len);
		*rest = p;
		*restn = (size_t)(e - p);
		return *addr ? REST_INLINE : REST_NONE;
	}
	return REST_NONE;
}

/*
 * "x:000000:<a> : 192.0.2.1 : mx:[192.0.2.2] : 550 5.1.1 <a>... User
 * Unknown": a 4xx/5xx reply echoing the address Sendmail's way ("<a>...")
 * further in the line, after a relay's own fields. Only for a notice whose
 * other forms named no recipient: inside a recipient's lines such a reply
 * names whom the server refused (the sender, "<s>... Access denied").
 */
static int
reply_echo_recipient(const struct line *l, char **addr, const char **rest,
    size_t *restn)
{
	const char *p = l->p, *e = l->p + l->n;
	const char *dots = dsn_memstr_ci(p, l->n, ">..."), *lt, *q;
	size_t k, sl;

	*addr = NULL;
	if (dots == NULL)
		return 0;
	lt = dots;
	while (lt > p && lt[-1] != '<' && lt[-1] != ' ')
		lt--;
	q = lt > p && lt[-1] == '<' ? lt - 1 : NULL;
	/* "550 <a>..." or "550 5.1.1 <a>..." before it */
	if (q == NULL || q - p < 5 || q[-1] != ' ')
		return 0;
	k = (size_t)(q - 1 - p);
	while (k > 0 && p[k - 1] != ' ')
		k--;
	if ((sl = smtp_status_at(p, l->n, k)) > 0 &&
	    k + sl == (size_t)(q - 1 - p) && k >= 4 && p[k - 1] == ' ')
		k -= 4;
	if (smtp_reply_at(p, l->n, k) < 400 || p[k + 3] != ' ' ||
	    (*addr = dsn_addr_extract(q, (size_t)(dots + 1 - q))) == NULL)
		return 0;
	*rest = p + k;
	*restn = (size_t)(e - *rest);
	return 1;
}

/* Are a[0..n) and b[0..n) the same, ASCII case aside? */
static int
same_ci(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (fold((unsigned char)a[i]) != fold((unsigned char)b[i]))
			return 0;
	return 1;
}

/*
 * The verbs of a sentence that names a failed recipient: English, then
 * those of the notices of other languages.
 */
static const char *const sentence_verbs[] = { "deliver", "undeliverable",
	"couldn't be", "could not be", "failed", "rejected", "unable",
	"was not", "bounced", "unavailable", "been blocked", "zugestellt",
	"remis", "distribu", "entregar", "entregad", "entregue", "recapitat",
	"consegn", "afgeleverd", "bezorgd", "dostarcz", "does not exist",
	"doesn't exist", "not found",
	/* the noun, as delay sentences put it ("Bei der Zustellung ... an") */
	"zustell", "entrega", "livraison", "bezorging", "aflevering",
	"recapito", "dor\xc4\x99" "cz",	/* doręcz */
	NULL };

/*
 * Exim's entry for a file or a pipe an address led to:
 *
 *	  save to /var/mail/spool/k
 *	    generated by k@example.jp
 *	    mailbox is full: retry timeout exceeded
 *
 * The recipient is the address on the "generated by" line (i), its
 * diagnostic the lines below, to the blank line (not the paragraph after
 * it, Exim's heading of the delivery's own output). Under an address (an
 * alias expanded) the address above is the recipient and this line its
 * text. With a delivery-status part, path_recipients() (dsn_heuristics.c)
 * reads the same block for a Final-Recipient that is the path.
 */
static int
exim_generated(const struct line *lines, size_t i, char **addr,
    const char **rest, size_t *restn)
{
	const struct line *up;

	if (i == 0 || !dsn_has_prefix_ci(lines[i].p, "generated by "))
		return 0;
	up = &lines[i - 1];
	if (up->indent > lines[i].indent || !(dsn_has_prefix_ci(up->p,
	    "save to ") || dsn_has_prefix_ci(up->p, "pipe to ") ||
	    up->p[0] == '/' || up->p[0] == '|'))
		return 0;
	if ((*addr = dsn_addr_extract(lines[i].p + 13, lines[i].n - 13)) == NULL)
		return 0;
	*rest = lines[i].p + lines[i].n;
	*restn = 0;
	return 1;
}

/*
 * Sendmail's entry for a program or a file an alias led to:
 *
 *	"|/home/k/mail/catch.pl"
 *	    (reason: 255)
 *	    (expanded from: <k@example.jp>)
 *
 * The recipient is the address the alias expanded from (line i), its
 * diagnostic the "(reason: ...)" line between.
 */
static int
program_alias(const struct line *lines, size_t i, char **addr,
    const char **rest, size_t *restn)
{
	size_t j;

	if (!dsn_has_prefix_ci(lines[i].p, "(expanded from:"))
		return 0;
	for (j = i; j-- > 0 && i - j <= 3 && !line_blank(&lines[j]);) {
		const char *q = lines[j].p;

		if (q[0] == '"')
			q++;
		if (q[0] != '|' && q[0] != '/')
			continue;
		if ((*addr = dsn_addr_extract(lines[i].p, lines[i].n)) == NULL)
			return 0;
		*rest = lines[i].p + lines[i].n;
		*restn = 0;
		for (j++; j < i; j++)
			if (dsn_has_prefix_ci(lines[j].p, "(reason:")) {
				*rest = lines[j].p;
				*restn = lines[j].n;
			}
		return 1;
	}
	return 0;
}

/* Does the line end inside Postfix's "(expanded from <b>)"? */
static int
open_alias(const struct line *l)
{
	const char *x = dsn_memstr_ci(l->p, l->n, "(expanded from");

	return x != NULL && memchr(x, ')', l->n - (size_t)(x - l->p)) == NULL;
}

/* Does the line close what it says ('.', '!', or a closing ')')? */
static int
line_closes(const struct line *l)
{
	char c = l->n > 0 ? l->p[l->n - 1] : '.';

	return c == '.' || c == '!' || c == ')';
}

/* Does the line end a sentence ('.', ':', '!', or a closing ')')? */
static int
sentence_ends(const struct line *l)
{
	char c = l->n > 0 ? l->p[l->n - 1] : '.';

	return c == '.' || c == ':' || c == '!' || c == ')';
}

/*
 * "error delivering your mail to <a>", "Your message to a couldn't be ...";
 * the verb may be on the next line of the paragraph (next, or NULL) when
 * the notice wraps right after the address ("Your message to <a> was\n
 * automatically rejected").
 */
static char *
sentence_recipient(const struct line *l, const struct line *next)
{
	/* what stands before the address: English, then other languages */
	static const char *const preps[] = { " to", " to:", "recipient",
	    "mailbox", " address", " \xc3\xa0" /* fr "à" */, " a", " an",
	    " bij", " aan", " do", " para" };
	const char *at_p;
	size_t start, len;

	/*
	 * Each address of the line: what stands before it (past '<', quotes
	 * and blanks) must be one of the words above.
	 */
	for (at_p = memchr(l->p, '@', l->n); at_p != NULL; at_p = memchr(at_p + 1,
	    '@', (size_t)(l->p + l->n - at_p - 1))) {
		const char *q, *b;
		size_t k, at = (size_t)(at_p - l->p);

		if ((len = addr_around(l->p, l->n, at, &start)) == 0)
			continue;
		/* "delivery to 'a' delayed": the quotes are no part of it */
		if (l->p[start] == '\'' && len > 2) {
			start++;
			len--;
			if (l->p[start + len - 1] == '\'')
				len--;
		}
		q = l->p + start;
		for (b = q; b > l->p && (b[-1] == '<' || b[-1] == '"' ||
		    b[-1] == ' ' || b[-1] == '\''); b--)
			;
		for (k = 0; k < sizeof(preps) / sizeof(preps[0]); k++) {
			size_t pn = strlen(preps[k]);

			/* a word before a blank ("to a"), or "to:" right before */
			if ((size_t)(b - l->p) < pn || !same_ci(b - pn, preps[k], pn) ||
			    (preps[k][pn - 1] != ':' && (b == q || *b != ' ')))
				continue;
			/*
			 * A verb says it failed; the two lines are one stretch
			 * of the text, so a verb may span them.
			 */
			if (!dsn_memstr_any_ci(l->p, l->n, sentence_verbs) &&
			    (next == NULL || sentence_ends(l) ||
			    !dsn_memstr_ws_any_ci(l->p,
			    (size_t)(next->p + next->n - l->p), sentence_verbs)))
				return NULL;
			{
				/* Cisco's "domain/a": the domain before a slash */
				const char *sl = memchr(q, '/', (size_t)(at_p - q));
				const char *dom = at_p + 1;
				size_t dl = len - (size_t)(at_p - q) - 1;

				if (sl != NULL && (size_t)(sl - q) == dl &&
				    same_ci(q, dom, dl))
					return lower_dup(sl + 1,
					    len - (size_t)(sl + 1 - q));
			}
			return lower_dup(q, len);
		}
	}
	return NULL;
}

/*
 * "There was an error delivering your mail to\n    <a>.": a sentence whose
 * line ends in "to" (prev) and the address opening the line after it (l).
 */
static char *
wrapped_sentence_recipient(const struct line *prev, const struct line *l)
{
	const char *q = l->p, *e = l->p + l->n;
	size_t at, len, start;

	if (prev->n < 4 || !(dsn_memstr_ci(prev->p + prev->n - 3, 3, " to") ||
	    dsn_memstr_ci(prev->p + prev->n - 4, 4, " to:")) ||
	    !dsn_memstr_any_ci(prev->p, prev->n, sentence_verbs))
		return NULL;
	while (q < e && (*q == '<' || *q == '"' || *q == '\''))
		q++;
	for (at = (size_t)(q - l->p); at < l->n && l->p[at] != '@' &&
	    local_char((unsigned char)l->p[at]); at++)
		;
	if (at < l->n && l->p[at] == '@' &&
	    (len = addr_around(l->p, l->n, at, &start)) > 0 &&
	    l->p + start == q)
		return lower_dup(q, len);
	return NULL;
}

/* Is the diagnostic so far only a heading ("because:", "Reason:")? */
static int
heading_only(const char *d)
{
	size_t n;

	if (d == NULL || strchr(d, '\n') != NULL)
		return 0;
	n = strlen(d);
	return n > 1 && n < 40 && d[n - 1] == ':';
}

/*
 * Sendmail's transcript opens each destination's lines with one of its
 * own: "While talking to host:" or "550 host (smtp)... text", the host's
 * status before its recipients' ("554 <a>... text"). Such a line belongs
 * to the recipients below it, never to the one above.
 */
static int
transcript_host_line(const struct line *l)
{
	const char *p = l->p, *e = l->p + l->n, *q;

	if (dsn_has_prefix_ci(p, "while talking to "))
		return 1;
	if (l->n < 6 || !isdigit((unsigned char)p[0]) ||
	    !isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]) ||
	    p[3] != ' ')
		return 0;
	/* "NNN host (mailer)... " */
	for (q = p + 4; q < e && *q != ' ' && *q != '<' && *q != '@'; q++)
		;
	if (q == p + 4 || q >= e || *q != ' ' || ++q >= e || *q != '(')
		return 0;
	while (q < e && *q != ')' && *q != ' ')
		q++;
	return e - q >= 4 && memcmp(q, ")...", 4) == 0;
}

/*
 * Where a notice quotes the remote server after its own sentences: Gmail
 * "The error that the other server returned was:", "The response from the
 * remote server was:", "The response was:". Returns what follows, or NULL.
 */
static const char *
remote_said(const char *d)
{
	static const char *const intro[] = { "server returned was:",
	    "response from the remote server was:", "the response was:", NULL };
	const char *ret;
	size_t i;

	for (i = 0; intro[i]; i++)
		if ((ret = dsn_memstr_ci(d, strlen(d), intro[i])) != NULL &&
		    ret[strlen(intro[i]) + strspn(ret + strlen(intro[i]),
		    " \t\r\n")] != '\0')
			return ret + strlen(intro[i]);
	return NULL;
}

/* "<<< 250 2.1.5 Ok", "250 Accepted": a success reply in a transcript */
static int
transcript_ok_reply(const struct line *l)
{
	const char *p = l->p;
	size_t n = l->n;

	if (n >= 4 && memcmp(p, "<<< ", 4) == 0) {
		p += 4;
		n -= 4;
	}
	return n >= 3 && p[0] == '2' && isdigit((unsigned char)p[1]) &&
	    isdigit((unsigned char)p[2]) && (n == 3 || p[3] == ' ' || p[3] == '-');
}

/*
 * A failure reply in a session transcript: "<-- 451 4.3.2 ..." (MDaemon,
 * after a time stamp), "<<< 550 ...", "In: 552 ..." (GroupWise), "S: 550
 * ...", or what Exchange quotes of one ("Remote Server returned '550
 * ..."). Returns where the reply starts, or NULL.
 */
static const char *
transcript_fail_reply(const struct line *l)
{
	const char *e = l->p + l->n, *q = NULL, *m;
	size_t head = l->n < 64 ? l->n : 64;

	/* the arrows may follow a stamp; "In:" and "S:" open the line */
	if (memchr(l->p, '<', head) != NULL &&
	    ((m = dsn_memstr_ci(l->p, head, "<-- ")) != NULL ||
	    (m = dsn_memstr_ci(l->p, head, "<<< ")) != NULL))
		q = m + 4;
	else if (head >= 4 && dsn_has_prefix_ci(l->p, "In: "))
		q = l->p + 4;
	else if (head >= 3 && dsn_has_prefix_ci(l->p, "S: "))
		q = l->p + 3;
	/* Exchange: "Remote Server [at host (ip)] returned '550 5.1.10 ...'" */
	if (q == NULL && dsn_has_prefix_ci(l->p, "remote server") &&
	    (q = dsn_memstr_ci(l->p, l->n, "returned '")) != NULL)
		q += 10;
	if (q == NULL)
		return NULL;
	while (q < e && *q == ' ')
		q++;
	if (smtp_reply_at(q, (size_t)(e - q), 0) >= 400)
		return q;
	return NULL;
}

/*
 * The DATA command in a session transcript: ">>> DATA", "--> DATA",
 * "Out: DATA", "C: DATA" (after a time stamp or not).
 */
static int
transcript_data_cmd(const struct line *l)
{
	const char *e = l->p + l->n, *q = NULL, *m;
	size_t head = l->n < 64 ? l->n : 64;

	if ((m = dsn_memstr_ci(l->p, head, ">>> ")) != NULL ||
	    (m = dsn_memstr_ci(l->p, head, "--> ")) != NULL)
		q = m + 4;
	else if (dsn_has_prefix_ci(l->p, "Out: "))
		q = l->p + 5;
	else if (dsn_has_prefix_ci(l->p, "C: "))
		q = l->p + 3;
	if (q == NULL)
		return 0;
	while (q < e && *q == ' ')
		q++;
	while (e > q && (e[-1] == ' ' || e[-1] == '\r'))
		e--;
	return e - q == 4 && strncasecmp(q, "DATA", 4) == 0;
}

/*
 * A transcript of one session (one DATA command in lines [0, end)) whose
 * DATA was answered, then or after the message, by a failure and by no
 * success before it: the recipients accepted before it failed with the
 * message. Transcripts of several sessions are left alone: which session
 * accepted which recipient is not certain.
 */
static int
transcript_refused_data(const struct line *lines, size_t end)
{
	size_t i, at = end;

	for (i = 0; i < end; i++)
		if (transcript_data_cmd(&lines[i])) {
			if (at != end)
				return 0;
			at = i;
		}
	for (i = at + 1; i < end; i++) {
		if (transcript_ok_reply(&lines[i]))
			return 0;
		if (transcript_fail_reply(&lines[i]) != NULL)
			return 1;
	}
	return 0;
}

const char *
dsn_text_mailer_reply(const char *t, size_t n, size_t *len)
{
	const char *s = dsn_memstr_ci(t, n, "transcript of session follows");
	const char *e = t + n, *last = NULL, *nl;
	size_t lastn = 0;

	if (s == NULL)
		return NULL;
	for (s = memchr(s, '\n', (size_t)(e - s)); s != NULL && s < e; s = nl) {
		const char *b = s + 1;
		size_t k;

		nl = memchr(b, '\n', (size_t)(e - b));
		k = (size_t)((nl ? nl : e) - b);
		while (k > 0 && (b[k - 1] == '\r' || b[k - 1] == ' '))
			k--;
		/*
		 * The section ends at the next part or the returned message
		 * ("--boundary", "   ----- Unsent message follows -----").
		 */
		{
			size_t sp = 0;

			while (sp < k && b[sp] == ' ')
				sp++;
			if (k - sp >= 2 && b[sp] == '-' && b[sp + 1] == '-')
				break;
		}
		if (k > 4 && smtp_reply_at(b, k, 0) >= 400 && b[3] == ' ') {
			last = b;
			lastn = k;
		}
	}
	*len = lastn;
	return last;
}

static int
result_add(struct dsn_text_result *res, char *addr, size_t max)
{
	struct dsn_text_rcpt *nv;
	size_t i;

	for (i = 0; i < res->n; i++)
		if (strcmp(res->v[i].addr, addr) == 0) {
			free(addr);
			return (int)i;
		}
	if (res->n >= max) {
		free(addr);
		return -2;
	}
	if (res->n == res->cap) {
		size_t ncap = res->cap ? res->cap * 2 : 8;

		if ((nv = realloc(res->v, ncap * sizeof(*nv))) == NULL) {
			free(addr);
			return -1;
		}
		res->v = nv;
		res->cap = ncap;
	}
	memset(&res->v[res->n], 0, sizeof(res->v[0]));
	res->v[res->n].addr = addr;
	return (int)res->n++;
}

static int
diag_append(struct dsn_text_rcpt *r, const char *p, size_t n)
{
	size_t old = r->diag ? strlen(r->diag) : 0;
	char *d;

	if (n == 0 || old > 8192)
		return 0;
	if ((d = realloc(r->diag, old + n + 2)) == NULL)
		return -1;
	if (old)
		d[old++] = '\n';
	memcpy(d + old, p, n);
	d[old + n] = '\0';
	r->diag = d;
	return 0;
}

/*
 * Remote MTA named in a diagnostic: "host X[ip] said", "host X [ip]", the
 * name on the next line when the notice wrapped after the key ("host\n
 *    mx.example.com[192.0.2.1] said:").
 */
static char *
remote_from_diag(const char *d)
{
	static const char *const keys[] = { "host", "talking to",
	    "remote host", "server", NULL };
	size_t n = strlen(d), k;

	for (k = 0; keys[k]; k++) {
		const char *p = d;

		while ((p = dsn_memstr_ci(p, (size_t)(d + n - p), keys[k])) != NULL) {
			const char *q = p + strlen(keys[k]), *s;
			size_t dots = 0;

			if (*q != ' ' && *q != '\n' && *q != '\t') {
				p = q;
				continue;
			}
			while (*q == ' ' || *q == '\n' || *q == '\t')
				q++;
			s = q;

			while (*q && (isalnum((unsigned char)*q) || *q == '-' || *q == '.')) {
				if (*q == '.')
					dots++;
				q++;
			}
			if (dots >= 1 && q - s > 3 && q[-1] != '.' &&
			    (*q == '[' || *q == ' ' || *q == ':' || *q == '\0' ||
			    *q == '\n' || *q == '('))
				return lower_dup(s, (size_t)(q - s));
			p = q;
		}
	}
	return NULL;
}

static void
line_split(const char *text, size_t n, struct line *lines, size_t *nl,
    size_t max)
{
	size_t i = 0, k = 0;

	while (i < n && k < max) {
		size_t b = i, e;

		i += bytescan_any3(text + i, n - i, '\n', '\r', '\n');
		e = i;
		if (i < n && text[i] == '\r' && i + 1 < n && text[i + 1] == '\n')
			i += 2;
		else if (i < n)
			i++;
		lines[k].off = b;
		lines[k].indent = 0;
		while (b < e && (text[b] == ' ' || text[b] == '\t')) {
			b++;
			lines[k].indent++;
		}
		while (e > b && (text[e - 1] == ' ' || text[e - 1] == '\t'))
			e--;
		lines[k].p = text + b;
		lines[k].n = e - b;
		/* rules of "=", "*", "_" are decoration: read them as blank */
		if (e - b >= 3 && strspn(text + b, "=*_~#") >= e - b)
			lines[k].n = 0;
		/* the end of a MIME part (dsn_main_text()): blank too */
		lines[k].part_end = e - b == 1 && text[b] == DSN_PART_BREAK;
		if (lines[k].part_end)
			lines[k].n = 0;
		k++;
	}
	*nl = k;
}

#define DSN_TEXT_LINES_MAX	20000	/* lines of human text examined */

/* How many '@' s[0..n) holds. */
static size_t
count_at(const char *s, size_t n)
{
	size_t c = 0;
	const char *p;

	for (p = memchr(s, '@', n); p != NULL; p = memchr(p + 1, '@',
	    n - (size_t)(p + 1 - s)))
		c++;
	return c;
}

/* dsn_says_delivery() with the marker lists of ws set up already. */
static int
says_delivery(const char *s, size_t n, const struct wordset *ws)
{
	return n > 0 && (memchr(s, '@', n) != NULL ||
	    dsn_failure_words(s, n) || wordset_bits(ws, s, n) != 0);
}

static void
marker_set(struct wordset *ws)
{
	const char *const *const markers[] = { strong_markers,
	    returned_markers, dsn_not_yet_words };

	wordset_init_lists(ws, markers, 3);
}

int
dsn_says_delivery(const char *s, size_t n)
{
	struct wordset ws;

	if (n == 0)
		return 0;
	if (memchr(s, '@', n) != NULL || dsn_failure_words(s, n))
		return 1;
	marker_set(&ws);	/* only now: it costs more than the text */
	return wordset_bits(&ws, s, n) != 0;
}

/*
 * Whether the text part whose lines start at lines[b] (to the next part
 * break, or lines[e]) says something of a delivery: its text in one
 * piece through says_delivery(). text[0..n) holds the lines.
 */
static int
part_says(const char *text, size_t n, const struct line *lines, size_t nl,
    size_t b, size_t e, const struct wordset *ws)
{
	size_t i, to;

	for (i = b; i < e && !part_break(&lines[i]); i++)
		;
	to = i < nl ? lines[i].off : n;
	return says_delivery(text + lines[b].off, to - lines[b].off, ws);
}

int
dsn_text_scan(const char *text, size_t n, const char *const *exclude,
    size_t max_rcpts, int text_only, struct dsn_text_result *res)
{
	struct line *lines;
	struct wordset ws_markers;
	size_t nl, i, end, marker_at, id_indent = 0;
	int rc = 0, in_id = 0, id_wait = 0, in_footer = 0, section = 0;
	int named = 0, echo_only = 0;

	memset(res, 0, sizeof(*res));
	res->returned_at = n;
	if (n == 0)
		return 0;
	{
		size_t cnt = 1, k;

		for (k = 0; (k += bytescan_any3(text + k, n - k, '\n', '\r',
		    '\n')) < n; k++)
			if (text[k] == '\n' || k + 1 == n || text[k + 1] != '\n')
				cnt++;
		if (cnt > DSN_TEXT_LINES_MAX)
			cnt = DSN_TEXT_LINES_MAX;
		if ((lines = calloc(cnt, sizeof(*lines))) == NULL)
			return -1;
		line_split(text, n, lines, &nl, cnt);
	}

	/* where does the returned message start? */
	marker_set(&ws_markers);
	end = nl;
	marker_at = nl;
	for (i = 0; i < nl; i++) {
		unsigned bits = wordset_bits(&ws_markers, lines[i].p,
		    lines[i].n);

		if (bits & 5) {		/* a strong marker, "not yet" words */
			res->strong = 1;
			if (marker_at == nl && memchr(lines[i].p, '@', lines[i].n))
				marker_at = i;
		}
		if (bits & 2) {
			end = i;
			break;
		}
		/*
		 * A header block after a blank line: once a bounce was seen,
		 * one that opens with the trace fields; once the notice named
		 * an address, any that is a message's header by its fields;
		 * before, only a sent message's (a webmail view of the notice
		 * opens with the notice's own "To:", "Date:", "Subject:").
		 */
		if (i > 0 && line_blank(&lines[i - 1]) &&
		    lines[i].indent == 0) {
			int block = header_block_at(lines, nl, i);

			if ((res->strong && (dsn_has_prefix_ci(lines[i].p,
			    "Received: ") || dsn_has_prefix_ci(lines[i].p,
			    "Return-Path: ")) && i + 1 < nl &&
			    lines[i + 1].n > 0) || block == 2 ||
			    (block == 1 && (res->strong || named))) {
				end = i;
				break;
			}
		}
		if (memchr(lines[i].p, '@', lines[i].n) != NULL)
			named = 1;
	}
	/*
	 * No marker on any one line of a notice that has only its text to
	 * show it is a bounce (text_only): one the notice wrapped ("could
	 * not be\n    delivered"), the end of a line and the start of the
	 * next with one space between.
	 */
	for (i = 0; text_only && !res->strong && i + 1 < end; i++) {
		char jb[2 * WRAP_JOIN_MAX + 1];
		size_t a = lines[i].n < WRAP_JOIN_MAX ? lines[i].n : WRAP_JOIN_MAX;
		size_t b = lines[i + 1].n < WRAP_JOIN_MAX ? lines[i + 1].n :
		    WRAP_JOIN_MAX;

		if (a == 0 || b == 0)
			continue;
		memcpy(jb, lines[i].p + lines[i].n - a, a);
		jb[a] = ' ';
		memcpy(jb + a + 1, lines[i + 1].p, b);
		if (wordset_bits(&ws_markers, jb, a + 1 + b) & 1)
			res->strong = 1;
	}
	if (end < nl)
		res->returned_at = lines[end].off;

	for (i = 0; i < end && rc == 0; i++) {
		char *addr = NULL;
		const char *rest = NULL;
		size_t restn = 0, j, taken = 0;
		enum rest_kind k;
		int idx, ex, paras = 0, lined, echo = 0;

		/*
		 * A message identifier quoted by the notice ("Message-ID:" and
		 * "<id@host>" on the next, indented line, as amavis and others
		 * wrap it; not indented once an HTML notice lost the blanks)
		 * names no recipient.
		 */
		if (line_blank(&lines[i])) {
			if (!id_wait)
				in_id = 0;
		} else if (id_wait) {
			id_wait = 0;	/* the value of "Message-ID:" */
			in_id = 1;
		} else if (id_field(&lines[i])) {
			in_id = 1;
			id_indent = lines[i].indent;
			id_wait = lines[i].p[lines[i].n - 1] == ':';
		} else if (lines[i].indent <= id_indent)
			in_id = 0;
		if (in_id)
			continue;
		/*
		 * A footer below a rule of underscores (a mailing list's:
		 * "____\nlist mailing list\nlist@host\nhttps://...") or a
		 * signature ("--"), to the end of its paragraph, names no
		 * recipient.
		 */
		if (footer_rule(&lines[i]))
			in_footer = 1;
		else if (line_blank(&lines[i]))
			in_footer = 0;
		if (in_footer)
			continue;
		/*
		 * Sendmail heads its lists "----- The following addresses had
		 * permanent fatal errors -----" and "... transient non-fatal
		 * errors -----" (one notice may carry both): each recipient's
		 * action is its heading's, whatever the rest of the notice says.
		 */
		if (lines[i].n > 0 && lines[i].p[0] == '-')
			section = dsn_memstr_ci(lines[i].p, lines[i].n,
			    "permanent fatal error") ? 1 :
			    dsn_memstr_ci(lines[i].p, lines[i].n,
			    "transient non-fatal error") ? 2 :
			    dsn_memstr_ci(lines[i].p, lines[i].n,
			    "transcript of session") ? 0 : section;
		/* every form below names the address with its '@' */
		if (line_blank(&lines[i]) ||
		    memchr(lines[i].p, '@', lines[i].n) == NULL)
			continue;
		k = exim_generated(lines, i, &addr, &rest, &restn) ?
		    REST_INLINE : recipient_line(&lines[i], &addr, &rest, &restn);
		/* a recipient line proper, not a reply echoing an address */
		lined = k == REST_INLINE || k == REST_BELOW;
		if (k == REST_NONE && (res->n == 0 || echo_only) &&
		    reply_echo_recipient(&lines[i], &addr, &rest, &restn)) {
			k = REST_INLINE;
			echo = 1;
		}
		if (k == REST_NONE && program_alias(lines, i, &addr, &rest,
		    &restn))
			k = REST_INLINE;
		if (k == REST_NONE && (addr = sentence_recipient(&lines[i],
		    i + 1 < end && !line_blank(&lines[i + 1]) ? &lines[i + 1] :
		    NULL)) == NULL && (i == 0 || line_blank(&lines[i - 1]) ||
		    (addr = wrapped_sentence_recipient(&lines[i - 1],
		    &lines[i])) == NULL))
			continue;
		if ((ex = excluded(addr, exclude)) == 2) {
			free(addr);
			continue;
		}
		if ((idx = result_add(res, addr, max_rcpts)) < 0) {
			rc = idx == -1 ? -1 : 0;
			break;
		}
		/* a list of such replies, one per recipient: read them all */
		echo_only = echo && (res->n == 1 || echo_only);
		if (ex)
			res->v[idx].excluded = 1;
		if (lined)
			res->v[idx].lined = 1;
		if (res->v[idx].section == 0)
			res->v[idx].section = section;
		if (res->v[idx].prov == DSN_PROV_NONE && k != REST_NONE &&
		    labelled_value(lines[i].p, lines[i].p + lines[i].n) != NULL)
			res->v[idx].field = 1;
		/* "To: a" alone: the notice's field, or a quoted header */
		if (k != REST_NONE && dsn_has_prefix_ci(lines[i].p, "to") &&
		    labelled_value(lines[i].p, lines[i].p + lines[i].n) != NULL) {
			if (res->v[idx].prov == DSN_PROV_NONE)
				res->v[idx].weak = 1;
		} else
			res->v[idx].weak = 0;
		if (res->v[idx].prov == DSN_PROV_NONE)
			res->v[idx].prov = k == REST_ADDR || dsn_memstr_ci(
			    lines[i].p, lines[i].n, "rcpt to:") ? DSN_PROV_TRANSCRIPT :
			    k == REST_BELOW ? DSN_PROV_LABELLED : DSN_PROV_REASON;
		if (k == REST_ADDR)
			continue;
		if (k == REST_NONE) {
			/* a sentence: itself, then the next paragraph */
			if (diag_append(&res->v[idx], lines[i].p, lines[i].n) < 0) {
				rc = -1;
				break;
			}
			j = i + 1;
			/* the rest of a sentence the notice wrapped */
			while (j < end && !line_blank(&lines[j]) &&
			    taken < DSN_TEXT_RCPT_LINES && !sentence_ends(&lines[j - 1])) {
				if (diag_append(&res->v[idx], lines[j].p, lines[j].n) < 0)
					rc = -1;
				j++;
				taken++;
			}
			while (j < end && line_blank(&lines[j]) &&
			    !part_break(&lines[j]))
				j++;
			for (; j < end && !line_blank(&lines[j]) &&
			    !report_field(&lines[j]) &&
			    taken < DSN_TEXT_RCPT_LINES; j++, taken++)
				if (diag_append(&res->v[idx], lines[j].p, lines[j].n) < 0)
					rc = -1;
			continue;
		}
		if (k == REST_INLINE && restn > 0 &&
		    diag_append(&res->v[idx], rest, restn) < 0) {
			rc = -1;
			break;
		}
		/* lines below: until a blank line or the next recipient */
		for (j = i + 1; j < end && taken < DSN_TEXT_RCPT_LINES; j++) {
			char *a2 = NULL;
			const char *r2;
			size_t r2n;
			enum rest_kind k2;

			if (line_blank(&lines[j])) {
				/*
				 * "address\n\nparagraph" (Gmail): take one paragraph;
				 * "address\n\nbecause:\n\nparagraph" (Domino): and
				 * the one the heading announces.
				 */
				if (k == REST_BELOW && ((res->v[idx].diag == NULL &&
				    taken == 0) || (heading_only(res->v[idx].diag) &&
				    paras++ < 1))) {
					size_t q = j;

					while (q < end && line_blank(&lines[q]) &&
					    !part_break(&lines[q]))
						q++;
					if (q < end && !line_blank(&lines[q]) &&
					    !dsn_has_prefix_ci(lines[q].p,
					    "technical details") &&
					    !report_field(&lines[q]) &&
					    recipient_line(&lines[q], &a2,
					    &r2, &r2n) == REST_NONE) {
						j = q - 1;
						taken++;
						continue;
					}
					free(a2);
				}
				break;
			}
			if (transcript_host_line(&lines[j]))
				break;
			k2 = recipient_line(&lines[j], &a2, &r2, &r2n);
			if (k2 != REST_NONE) {
				/* Sendmail repeats "550 5.1.1 <a>... User unknown" */
				int same = a2 && strcmp(a2, res->v[idx].addr) == 0;

				free(a2);
				/*
				 * A line indented deeper than the recipient's that
				 * goes on with an unclosed sentence (a colon too: "the
				 * following identities failed:") is its text
				 * wrapped where an address began (Postfix "(expanded
				 * from\n    <alias>): ...", "554 Mail from\n    <s>
				 * rejected"), not the next recipient.
				 */
				if (!same && !(lines[j].indent > lines[i].indent &&
				    !line_closes(&lines[j - 1])))
					break;
			}
			if (taken == 0 && open_alias(&lines[i])) {
				/* "<b>): text": the rest of the alias, then text */
				const char *cp = memchr(lines[j].p, ')', lines[j].n);
				size_t o = cp ? (size_t)(cp - lines[j].p) + 1 : 0;

				while (o < lines[j].n && (lines[j].p[o] == ':' ||
				    lines[j].p[o] == ' '))
					o++;
				if (o < lines[j].n && diag_append(&res->v[idx],
				    lines[j].p + o, lines[j].n - o) < 0) {
					rc = -1;
					break;
				}
			} else if (diag_append(&res->v[idx], lines[j].p,
			    lines[j].n) < 0) {
				rc = -1;
				break;
			}
			/* ">>> RCPT TO:<a>" answered "<<< 250 ...": accepted */
			if (taken == 0 && res->v[idx].prov == DSN_PROV_TRANSCRIPT &&
			    transcript_ok_reply(&lines[j]))
				res->v[idx].accepted = 1;
			taken++;
		}
		i = j > i ? j - 1 : i;
	}

	/*
	 * Drop the recipients a transcript shows accepted, unless the
	 * transcript's DATA was refused: then they failed with the message,
	 * and the last failure reply (given below to recipients whose lines
	 * carry no failure code) is theirs. Then drop the bounce's own
	 * addresses and lone "To:" fields when real recipients were found.
	 */
	if (rc == 0) {
		size_t w = 0, keep = 0;
		int data_refused = -1;

		for (i = 0; i < res->n; i++) {
			if (res->v[i].accepted && res->v[i].prov == DSN_PROV_TRANSCRIPT) {
				if (data_refused < 0)
					data_refused = transcript_refused_data(lines,
					    end);
				free(res->v[i].diag);
				res->v[i].diag = NULL;
				if (data_refused) {
					res->v[i].accepted = 0;
					res->v[w++] = res->v[i];
				} else
					free(res->v[i].addr);
				continue;
			}
			res->v[w++] = res->v[i];
		}
		res->n = w;
		w = 0;
		/*
		 * A recipient line of the notice naming an excluded address
		 * with a failure reply ("<a>: host x said: 550 ...", "<a>\n
		 * (reason: 550 ...)") is the notice's own report of it: a
		 * message its author sent to himself, an alias that led back
		 * to him, a Cc of the returned message that failed too.
		 */
		for (i = 0; i < res->n; i++)
			if (res->v[i].excluded && res->v[i].lined &&
			    !res->v[i].weak && dsn_diag_failed(res->v[i].diag))
				res->v[i].excluded = 0;
		for (i = 0; i < res->n; i++)
			if (!res->v[i].excluded && !res->v[i].weak)
				keep++;
		for (i = 0; i < res->n; i++) {
			if (keep > 0 && (res->v[i].excluded || res->v[i].weak)) {
				free(res->v[i].addr);
				free(res->v[i].diag);
				continue;
			}
			/* kept for its words, never as a failed recipient */
			if (res->v[i].excluded)
				res->v[i].prov = DSN_PROV_RETURNED;
			res->v[w++] = res->v[i];
		}
		res->n = w;
	}

	/*
	 * "Technical details of permanent failure:", "The response from the
	 * remote server was:" (Gmail and others put the server's words in a
	 * paragraph of their own, the HTML part in a <p> of its own): give it
	 * to recipients whose own lines carry no SMTP code, up to the first
	 * such paragraph that carries one.
	 */
	for (i = 0; rc == 0 && i < end; i++) {
		static const char *const heads[] = { "technical details",
		    "technical report", "the response from the remote server",
		    "the error that the other server returned", NULL };
		size_t j, taken = 0, r, h;
		struct buf para;

		for (h = 0; heads[h] != NULL &&
		    !dsn_has_prefix_ci(lines[i].p, heads[h]); h++)
			;
		if (heads[h] == NULL)
			continue;
		buf_init(&para, 8192);
		for (j = i; j < end && !line_blank(&lines[j]) &&
		    taken < DSN_TEXT_RCPT_LINES; j++, taken++)
			if (buf_append(&para, lines[j].p, lines[j].n) == BUF_ERR_NOMEM ||
			    buf_putc(&para, '\n') == BUF_ERR_NOMEM)
				rc = -1;
		/* a heading alone ("Technical details:"): its paragraph follows */
		if (j == i + 1) {
			while (j < end && line_blank(&lines[j]) &&
			    !part_break(&lines[j]))
				j++;
			for (; j < end && !line_blank(&lines[j]) &&
			    !report_field(&lines[j]) &&
			    taken < DSN_TEXT_RCPT_LINES; j++, taken++)
				if (buf_append(&para, lines[j].p, lines[j].n) == BUF_ERR_NOMEM ||
				    buf_putc(&para, '\n') == BUF_ERR_NOMEM)
					rc = -1;
		}
		for (r = 0; rc == 0 && r < res->n; r++) {
			char st[16];
			int code;

			dsn_diag_codes(res->v[r].diag, st, &code);
			if (code == 0 && st[0] == '\0' && para.len > 0 &&
			    diag_append(&res->v[r], buf_cstr(&para), para.len) < 0)
				rc = -1;
		}
		/*
		 * Gmail's older notice puts the server's words under a second
		 * heading ("Technical details of permanent failure: Google
		 * tried ...", then "The error that the other server returned
		 * was:"): read on while the paragraph carried no code.
		 */
		{
			char st[16];
			int code;

			dsn_diag_codes(buf_cstr(&para), st, &code);
			buf_fini(&para);
			if (code != 0 || st[0] != '\0')
				break;
		}
		i = j > i ? j - 1 : i;
	}

	/*
	 * No form above named a recipient, and the line with the first bounce
	 * marker names one address ("Сообщение не может быть доставлено по
	 * адресу a", "您发送到 a 的邮件无法投递", "a 宛のメールは配信できません"):
	 * the sentence of a notice whose language puts the address where
	 * the forms above do not look. That line is its diagnostic.
	 */
	if (rc == 0 && res->n == 0 && marker_at < end &&
	    count_at(lines[marker_at].p, lines[marker_at].n) == 1) {
		char *a = dsn_addr_extract(lines[marker_at].p, lines[marker_at].n);
		int idx;

		if (a != NULL && excluded(a, exclude) == 0) {
			if ((idx = result_add(res, a, max_rcpts)) == -1)
				rc = -1;
			else if (idx >= 0) {
				res->v[idx].prov = DSN_PROV_REASON;
				if (diag_append(&res->v[idx], lines[marker_at].p,
				    lines[marker_at].n) < 0)
					rc = -1;
			}
		} else
			free(a);
	}

	/*
	 * A transcript apart from the recipient list: its last failure reply
	 * ended the attempt. Give it to recipients whose own lines carry no
	 * SMTP code.
	 */
	if (rc == 0) {
		const char *last = NULL;
		size_t lastn = 0, r;

		for (i = 0; i < end; i++) {
			const char *q = transcript_fail_reply(&lines[i]);

			if (q != NULL) {
				last = q;
				lastn = (size_t)(lines[i].p + lines[i].n - q);
			}
		}
		for (r = 0; last != NULL && rc == 0 && r < res->n; r++) {
			char st[16];
			int code;

			dsn_diag_codes(res->v[r].diag, st, &code);
			if (code == 0 && st[0] == '\0' &&
			    diag_append(&res->v[r], last, lastn) < 0)
				rc = -1;
		}
	}

	/* remote MTA and qmail-style "(#5.1.1)" */
	for (i = 0; rc == 0 && i < res->n; i++) {
		struct dsn_text_rcpt *r = &res->v[i];
		const char *d = r->diag, *ret;

		if (d == NULL)
			continue;
		r->remote = remote_from_diag(d);
		/*
		 * Gmail: keep what the remote server said, not the notice's
		 * own sentence around it ("There was a temporary problem
		 * delivering your message to ...": words about the notice).
		 */
		if ((ret = remote_said(d)) != NULL) {
			char *nd = strdup(ret);

			if (nd) {
				free(r->diag);
				r->diag = nd;
			}
		}
	}

	/*
	 * The whole human text, for recipients without wording of their own:
	 * not the paragraphs of delivery-status fields (a report's pasted
	 * into the notice, or its part sent as text), and of several text
	 * parts only those that say something of a delivery (a gateway's
	 * footer or banner part, a part holding only "This is a multi-part
	 * message in MIME format." say nothing); the first part with text
	 * when none does.
	 */
	if (rc == 0) {
		{
			struct buf g;
			int in_report = 0, says = 0, any = 0;
			size_t b;

			/* each part once: from its first line to its break */
			for (b = 0; b < end && !any; b++) {
				any = part_says(text, n, lines, nl, b, end,
				    &ws_markers);
				while (b < end && !part_break(&lines[b]))
					b++;
			}
			buf_init(&g, 8192);
			for (i = 0; i < end; i++) {
				if (i == 0 || part_break(&lines[i - 1])) {
					/* none says anything: the first part */
					if (!any && g.len > 0)
						break;
					says = !any || part_says(text, n, lines,
					    nl, i, end, &ws_markers);
				}
				if (!says)
					continue;
				if (line_blank(&lines[i])) {
					in_report = 0;
					continue;
				}
				if ((i == 0 || line_blank(&lines[i - 1])) &&
				    report_field(&lines[i]))
					in_report = 1;
				if (in_report)
					continue;
				if (buf_append(&g, lines[i].p, lines[i].n) != BUF_OK ||
				    buf_putc(&g, '\n') != BUF_OK)
					break;
			}
			res->general_diag = buf_steal(&g);
			buf_fini(&g);
		}
	}
	free(lines);
	return rc;
}

void
dsn_text_result_fini(struct dsn_text_result *res)
{
	size_t i;

	for (i = 0; i < res->n; i++) {
		free(res->v[i].addr);
		free(res->v[i].diag);
		free(res->v[i].remote);
		free(res->v[i].status);
	}
	free(res->v);
	free(res->general_diag);
	memset(res, 0, sizeof(*res));
}
