/*
 * classify - reason, category and hard/soft for one delivery failure.
 *
 * The pattern file is line based: "REASON PATTERN", blank lines and '#'
 * comments ignored, "[specific]" and "[generic]" lines switch the tier of
 * the entries that follow (specific by default). Patterns are PCRE2,
 * caseless, compiled once at load with JIT where available; every match runs
 * with the configured match/depth/heap limits, and a match that hits a limit
 * counts as no match. Within a tier the first matching entry in file order
 * wins, so operators put their own lines first.
 *
 * Status codes are RFC 3463 plus the IANA "Enumerated Status Codes"
 * registry; which of them count as specific is the table below. The
 * diagnostic is cut at CLASSIFY_DIAG_MAX bytes and its whitespace collapsed
 * before matching.
 *
 * Each line is compiled on its own with PCRE2 (so an error names its line
 * and offset). Two engines then find the first matching line of a tier:
 *
 *   one pass (Vectorscan builds): every line in one multi-pattern database,
 *     caseless, over bytes (not UTF-8), one report per line; a scan marks
 *     the lines that match anywhere, and the lowest marked line of the
 *     tier whose own PCRE2 code also matches wins. PCRE2 has the last word, so the answer
 *     is PCRE2's; Vectorscan only saves trying the lines that cannot match.
 *     A line it rejects exactly is compiled as a prefilter (a superset of
 *     its matches); one it rejects even so is "always tried" with PCRE2 in
 *     its place in file order and named in the warnings. Text with bytes
 *     above 0x7f is scanned as a copy of one ASCII byte per character,
 *     with the lines that copy cannot stand for tried as well; text that
 *     is not valid UTF-8 is tried line by line with PCRE2 (see
 *     utf_folds and onepass_scan).
 *   PCRE2 alone (no Vectorscan, or its build failed): runs of consecutive
 *     lines with the same tier and reason are matched as one alternation
 *     (JIT), which gives the same answers with far fewer matches.
 *
 * The database is built once per classifier: from a serialized copy
 * handed to the loader (checked against a hash of the pattern text;
 * Vectorscan itself refuses one of another version or platform), by
 * classifier_prepare(), or else by the first classify() that needs it.
 *
 * Threading: the patterns are immutable after load. The engine state is
 * atomic; building it and the pool of Vectorscan scratch spaces are under
 * the classifier's mutex. classify() uses per-call match data and is safe
 * to call from many threads at once.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#ifdef EGRESS_VECTORSCAN
#include <pthread.h>

#include <hs.h>
#endif

#include "egress/cfg.h"
#include "egress/classify.h"
#include "egress/smtpcode.h"
#include "egress/vocab.h"

enum tier { TIER_SPECIFIC = 0, TIER_GENERIC = 1 };

struct entry {
	const char	*reason;	/* static vocabulary string */
	enum tier	 tier;
	pcre2_code	*re;
	char		*src;		/* pattern text */
	unsigned	 line;		/* in the pattern file */
	int		 borrowed;	/* m[] only: re belongs to a v[] entry */
};

enum engine { ENGINE_PENDING, ENGINE_ONEPASS, ENGINE_PCRE2 };

/* How a line takes part in the one-pass database. */
enum mode { MODE_EXACT = 0, MODE_PREFILTER = 1, MODE_PCRE2 = 2 };

#define BITWORDS	((CLASSIFY_PATTERNS_MAX + 63) / 64)

struct classifier {
	struct entry		*v;	/* one per line, file order */
	size_t			 n;
	struct entry		*m;	/* PCRE2 alone: runs merged */
	size_t			 nm;
	pcre2_match_context	*mctx;
	char			*name;	/* labels warnings */
	uint64_t		 text_hash;
	struct buf		 warnings;
	atomic_int		 engine;	/* enum engine */
#ifdef EGRESS_VECTORSCAN
	pthread_mutex_t		 lock;	/* build, pool */
	int			 built;	/* a build was tried (under lock) */
	atomic_int		 merged; /* one pass: m was built on demand */
	hs_database_t		*db;
	hs_scratch_t		*proto;	/* never scanned with: cloned */
	hs_scratch_t		**pool;
	size_t			 npool, cappool;
	unsigned char		*mode;	/* enum mode, per v[] entry */
	uint64_t		 always[BITWORDS];	/* MODE_PCRE2 lines */
	/* and on text that is not ASCII, the lines utf_folds() cannot take */
	uint64_t		 always_utf[BITWORDS];
#endif
};

/* ---- UTF-8 ---- */

/*
 * The UTF-8 character at p (left > 0 bytes, p[0] >= 0x80): its length,
 * with the code point in *cp, or 0 when the bytes are no valid UTF-8
 * (overlong forms, surrogates and values past U+10FFFF included).
 */
static size_t
utf8_char(const unsigned char *p, size_t left, uint32_t *cp)
{
	uint32_t c = p[0], min;
	size_t k, j;

	if (c >= 0xc2 && c <= 0xdf)
		k = 1, c &= 0x1f, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		k = 2, c &= 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		k = 3, c &= 0x07, min = 0x10000;
	else
		return 0;
	if (left <= k)
		return 0;
	for (j = 1; j <= k; j++) {
		if ((p[j] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[j] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return k + 1;
}

/*
 * Each byte of s[0..n) that is no part of a valid UTF-8 character becomes
 * '?', so that the patterns match valid UTF-8 only: PCRE2 10.42's JIT with
 * PCRE2_MATCH_INVALID_UTF has \W, \S and \D miss characters above 0x7f,
 * which the interpreter matches. Returns whether any byte was replaced
 * (such text is matched with PCRE2 alone, as it was before the repair).
 */
static int
utf_repair(char *s, size_t n)
{
	unsigned char *p = (unsigned char *)s, *e = p + n;
	uint32_t c;
	size_t k;
	int any = 0;

	while (p < e) {
		if (*p < 0x80)
			p++;
		else if ((k = utf8_char(p, (size_t)(e - p), &c)) > 0)
			p += k;
		else {
			*p++ = '?';
			any = 1;
		}
	}
	return any;
}

/* ---- hard or soft ---- */

/*
 * Hard: the address itself is dead (a reason permanent by default, see
 * vocab.h) and the failure was permanent. A 4xx reply or a 4.x.x status
 * is never hard, whatever the text said.
 */
int
reason_is_hard(const char *reason, const char *status, int reply_code)
{
	if (!vocab_reason_is_permanent(reason))
		return 0;
	if (status && status[0] == '4')
		return 0;
	if (reply_code >= 400 && reply_code < 500)
		return 0;
	return 1;
}

/* ---- status codes ---- */

struct status_def {
	const char	*code;		/* subject.detail, class stripped */
	const char	*reason;
	int		 specific;
};

/*
 * RFC 3463 and the IANA registry. "specific" codes name the failure well
 * enough to beat generic text; the others only decide when no text does.
 */
static const struct status_def statuses[] = {
	{ "0.0", "undefined", 0 },
	{ "1.0", "userunknown", 0 },
	{ "1.1", "userunknown", 1 },	/* bad destination mailbox */
	{ "1.2", "hostunknown", 1 },	/* bad destination system */
	{ "1.3", "userunknown", 1 },	/* bad destination mailbox syntax */
	{ "1.4", "userunknown", 0 },	/* ambiguous destination */
	{ "1.5", "delivered", 0 },	/* destination valid */
	{ "1.6", "hasmoved", 1 },	/* mailbox moved, no forwarding */
	{ "1.7", "rejected", 1 },	/* bad sender mailbox syntax */
	{ "1.8", "rejected", 1 },	/* bad sender system address */
	{ "1.9", "undefined", 0 },	/* message relayed to non-compliant mailer */
	{ "1.10", "hostunknown", 1 },	/* RFC 7505 null MX */
	{ "2.0", "undefined", 0 },
	{ "2.1", "suspend", 0 },	/* mailbox disabled */
	{ "2.2", "mailboxfull", 1 },
	{ "2.3", "exceedlimit", 1 },	/* message length exceeds limit */
	{ "2.4", "systemerror", 0 },	/* mailing list expansion problem */
	{ "3.0", "systemerror", 0 },
	{ "3.1", "systemfull", 1 },	/* mail system full */
	{ "3.2", "notaccept", 0 },	/* system not accepting messages */
	{ "3.3", "contenterror", 0 },	/* system not capable of features */
	{ "3.4", "mesgtoobig", 1 },	/* message too big for system */
	{ "3.5", "systemerror", 0 },	/* system incorrectly configured */
	{ "3.6", "contenterror", 0 },	/* requested priority changed */
	{ "4.0", "networkerror", 0 },
	{ "4.1", "expired", 0 },	/* no answer from host */
	{ "4.2", "networkerror", 0 },	/* bad connection */
	{ "4.3", "systemerror", 0 },	/* directory server failure */
	{ "4.4", "hostunknown", 0 },	/* unable to route */
	{ "4.5", "systemfull", 0 },	/* mail system congestion */
	{ "4.6", "networkerror", 1 },	/* routing loop */
	{ "4.7", "expired", 1 },	/* delivery time expired */
	{ "4.8", "networkerror", 0 },	/* RFC 7504 */
	{ "5.0", "systemerror", 0 },	/* other or undefined protocol status */
	{ "5.1", "syntaxerror", 0 },
	{ "5.2", "syntaxerror", 0 },
	{ "5.3", "syntaxerror", 0 },
	{ "5.4", "syntaxerror", 0 },
	{ "5.5", "syntaxerror", 0 },
	{ "5.6", "syntaxerror", 0 },	/* RFC 6531 address type */
	{ "6.0", "contenterror", 0 },
	{ "6.1", "contenterror", 1 },	/* media not supported */
	{ "6.2", "contenterror", 0 },	/* conversion required, prohibited */
	{ "6.3", "contenterror", 0 },
	{ "6.4", "contenterror", 0 },
	{ "6.5", "contenterror", 0 },
	{ "6.6", "contenterror", 0 },
	{ "6.7", "contenterror", 0 },	/* RFC 6531 non-ASCII address */
	{ "6.8", "contenterror", 0 },
	{ "6.9", "contenterror", 0 },
	{ "6.10", "contenterror", 0 },
	{ "7.0", "securityerror", 0 },
	{ "7.1", "rejected", 0 },	/* delivery not authorized */
	{ "7.2", "policyviolation", 0 },	/* list expansion prohibited */
	{ "7.3", "securityerror", 0 },
	{ "7.4", "securityerror", 0 },
	{ "7.5", "securityerror", 0 },
	{ "7.6", "securityerror", 0 },
	{ "7.7", "securityerror", 0 },
	{ "7.8", "securityerror", 0 },	/* authentication credentials invalid */
	{ "7.9", "policyviolation", 0 },	/* mechanism too weak; also "policy reasons" */
	{ "7.10", "failedstarttls", 1 },	/* encryption needed */
	{ "7.11", "failedstarttls", 1 },	/* encryption required */
	{ "7.12", "securityerror", 0 },
	{ "7.13", "suspend", 1 },	/* user account disabled */
	{ "7.14", "securityerror", 0 },	/* trust relationship required */
	{ "7.15", "policyviolation", 0 },	/* priority level too low */
	{ "7.16", "mesgtoobig", 1 },	/* too big for the priority */
	{ "7.17", "hasmoved", 1 },	/* mailbox owner has changed */
	{ "7.18", "hasmoved", 1 },	/* domain owner has changed */
	{ "7.19", "hasmoved", 0 },	/* RRVS cannot be completed */
	{ "7.20", "authfailure", 1 },	/* no passing DKIM signature */
	{ "7.21", "authfailure", 1 },	/* no acceptable DKIM signature */
	{ "7.22", "authfailure", 1 },	/* no author-matched DKIM signature */
	{ "7.23", "authfailure", 1 },	/* SPF validation failed */
	{ "7.24", "authfailure", 1 },	/* SPF validation error */
	{ "7.25", "requireptr", 1 },	/* reverse DNS validation failed */
	{ "7.26", "authfailure", 1 },	/* multiple authentication checks failed */
	{ "7.27", "notaccept", 1 },	/* sender address has null MX */
	{ "7.28", "speeding", 1 },	/* mail flood detected */
	{ "7.29", "authfailure", 1 },	/* ARC validation failure */
	{ "7.30", "failedstarttls", 1 },	/* REQUIRETLS support required */
};

/*
 * The status def for "C.S.D", or NULL. *klass gets C (smtpcode.h), 0 when
 * status does not start like a status code. The lookup key is the digits
 * and dots after "C.", so a detail the table does not list falls back to
 * its subject's ".0" entry.
 */
static const struct status_def *
status_find(const char *status, int *klass)
{
	char key[16];
	const char *p = status;
	size_t i, n;

	if ((*klass = smtp_status_class(status)) == 0)
		return NULL;
	p += 2;
	for (n = 0; p[n] && n < sizeof(key) - 1; n++) {
		if (!isdigit((unsigned char)p[n]) && p[n] != '.')
			break;
		key[n] = p[n];
	}
	key[n] = '\0';
	/* strip the detail to match "S.D" exactly, keep it for 7.x lookup */
	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (strcmp(statuses[i].code, key) == 0)
			return &statuses[i];
	/* unknown detail: fall back to the subject's ".0" entry */
	{
		char *dot = strchr(key, '.');

		if (dot == NULL)
			return NULL;
		strcpy(dot, ".0");
		for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
			if (strcmp(statuses[i].code, key) == 0)
				return &statuses[i];
	}
	return NULL;
}

static const char *
reply_reason(int code)
{
	switch (code) {
	case 421: return "systemerror";
	case 450: return "onhold";
	case 451: return "systemerror";
	case 452: return "systemfull";
	case 500: case 501: case 502: case 503: case 504:
		return "syntaxerror";
	case 521: case 556: return "notaccept";	/* RFC 7504 */
	case 550: return "rejected";
	case 551: return "hasmoved";
	case 552: return "mailboxfull";
	case 553: return "rejected";
	case 554: return "rejected";
	default: return NULL;
	}
}

/* ---- loading ---- */

static void
load_error(struct cfg_errors *errs, const char *name, unsigned line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
load_error(struct cfg_errors *errs, const char *name, unsigned line,
    const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (errs == NULL)
		return;
	errs->count++;
	if (errs->count > CFG_MAX_ERRORS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (buf_printf(&errs->text, "%s:%u: %s\n", name, line, msg) != BUF_OK)
		return;
}

#ifdef EGRESS_VECTORSCAN
static void
load_warning(struct classifier *cl, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Warnings are advisory: one that does not fit is dropped. */
static void
load_warning(struct classifier *cl, unsigned line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (buf_printf(&cl->warnings, "%s:%u: %s\n", cl->name ? cl->name : "-",
	    line, msg) != BUF_OK)
		return;
}

#endif

static void	onepass_free(struct classifier *);

static void
merged_free(struct classifier *cl)
{
	size_t i;

	for (i = 0; i < cl->nm; i++)
		if (!cl->m[i].borrowed)
			pcre2_code_free(cl->m[i].re);
	free(cl->m);
	cl->m = NULL;
	cl->nm = 0;
}

void
classifier_free(struct classifier *cl)
{
	size_t i;

	if (cl == NULL)
		return;
	onepass_free(cl);
#ifdef EGRESS_VECTORSCAN
	pthread_mutex_destroy(&cl->lock);
#endif
	merged_free(cl);
	for (i = 0; i < cl->n; i++) {
		pcre2_code_free(cl->v[i].re);
		free(cl->v[i].src);
	}
	free(cl->v);
	pcre2_match_context_free(cl->mctx);
	buf_fini(&cl->warnings);
	free(cl->name);
	free(cl);
}

size_t
classifier_count(const struct classifier *cl)
{
	return cl ? cl->n : 0;
}

/* Parse one line; returns 0 (also for blank/comment), -1 on error recorded. */
static int
load_line(struct classifier *cl, char *s, const char *name, unsigned lineno,
    enum tier *tier, struct cfg_errors *errs)
{
	char *end, *reason, *pat;
	const char *r;
	int errcode;
	PCRE2_SIZE erroff;
	pcre2_code *re;
	struct entry *nv;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '\r' || end[-1] == '\n'))
		*--end = '\0';
	if (*s == '\0' || *s == '#')
		return 0;
	if (strcmp(s, "[specific]") == 0) {
		*tier = TIER_SPECIFIC;
		return 0;
	}
	if (strcmp(s, "[generic]") == 0) {
		*tier = TIER_GENERIC;
		return 0;
	}
	if (*s == '[') {
		load_error(errs, name, lineno, "unknown section %s "
		    "(expected [specific] or [generic])", s);
		return -1;
	}
	reason = s;
	while (*s && *s != ' ' && *s != '\t')
		s++;
	if (*s == '\0') {
		load_error(errs, name, lineno, "\"%s\": missing pattern after "
		    "the reason", reason);
		return -1;
	}
	*s++ = '\0';
	while (*s == ' ' || *s == '\t')
		s++;
	pat = s;
	if ((r = vocab_reason_lookup(reason)) == NULL) {
		load_error(errs, name, lineno, "unknown reason \"%s\"", reason);
		return -1;
	}
	if (cl->n >= CLASSIFY_PATTERNS_MAX) {
		load_error(errs, name, lineno, "more than %d patterns",
		    CLASSIFY_PATTERNS_MAX);
		return -1;
	}
	re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
	    PCRE2_CASELESS | PCRE2_UTF, &errcode, &erroff, NULL);
	if (re == NULL) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(errcode, msg, sizeof(msg));
		load_error(errs, name, lineno, "pattern offset %zu: %s",
		    (size_t)erroff, (const char *)msg);
		return -1;
	}
	if ((cl->n & (cl->n + 1)) == 0 || cl->n == 0) {
		size_t ncap = cl->n ? (cl->n + 1) * 2 : 16;

		if ((nv = realloc(cl->v, ncap * sizeof(*nv))) == NULL) {
			pcre2_code_free(re);
			load_error(errs, name, lineno, "out of memory");
			return -1;
		}
		cl->v = nv;
	}
	cl->v[cl->n].reason = r;
	cl->v[cl->n].tier = *tier;
	cl->v[cl->n].re = re;
	cl->v[cl->n].line = lineno;
	cl->v[cl->n].borrowed = 0;
	if ((cl->v[cl->n].src = strdup(pat)) == NULL) {
		pcre2_code_free(re);
		load_error(errs, name, lineno, "out of memory");
		return -1;
	}
	cl->n++;
	return 0;
}

/* Can this pattern sit inside "(?:...)|(?:...)" unchanged? */
static int
mergeable(const struct entry *e)
{
	uint32_t backrefs = 1, names = 1;

	if (e->src == NULL || strncmp(e->src, "(*", 2) == 0)
		return 0;
	if (pcre2_pattern_info(e->re, PCRE2_INFO_BACKREFMAX, &backrefs) != 0 ||
	    pcre2_pattern_info(e->re, PCRE2_INFO_NAMECOUNT, &names) != 0)
		return 0;
	return backrefs == 0 && names == 0;
}

/*
 * Consecutive lines of one tier and one reason give the same answer
 * whichever of them matches, so each such run is compiled once more as
 * one alternation: the first-line-wins order between reasons is kept and
 * a classification runs a few dozen matches instead of a few hundred.
 * A run that cannot be merged is matched line by line (the lines' own
 * codes, borrowed). What m[] matches is JIT-compiled.
 */
static int
merge_runs(struct classifier *cl)
{
	size_t i = 0, j, k;

	merged_free(cl);
	if ((cl->m = calloc(cl->n ? cl->n : 1, sizeof(*cl->m))) == NULL)
		return -1;
	while (i < cl->n) {
		struct buf b;
		pcre2_code *re = NULL;
		int errcode;
		PCRE2_SIZE erroff;

		for (j = i + 1; j < cl->n && cl->v[j].reason == cl->v[i].reason &&
		    cl->v[j].tier == cl->v[i].tier && mergeable(&cl->v[j]); j++)
			;
		if (!mergeable(&cl->v[i]))
			j = i + 1;
		if (j - i > 1) {
			buf_init(&b, 0);
			for (k = i; k < j; k++)
				if (buf_printf(&b, "%s(?:%s)", k > i ? "|" : "",
				    cl->v[k].src) != BUF_OK) {
					buf_fini(&b);
					return -1;
				}
			re = pcre2_compile((PCRE2_SPTR)buf_cstr(&b), b.len,
			    PCRE2_CASELESS | PCRE2_UTF, &errcode, &erroff, NULL);
			buf_fini(&b);
		}
		if (re != NULL) {
			/* JIT is an optimisation: without it, the interpreter */
			(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
			cl->m[cl->nm].reason = cl->v[i].reason;
			cl->m[cl->nm].tier = cl->v[i].tier;
			cl->m[cl->nm].line = cl->v[i].line;
			cl->m[cl->nm++].re = re;
		} else {
			/* one line, or a run that did not compile merged */
			for (k = i; k < j; k++) {
				(void)pcre2_jit_compile(cl->v[k].re, PCRE2_JIT_COMPLETE);
				cl->m[cl->nm] = cl->v[k];
				cl->m[cl->nm].src = NULL;
				cl->m[cl->nm++].borrowed = 1;
			}
		}
		i = j;
	}
	return 0;
}

/*
 * FNV-1a, 64 bits: identifies the pattern text a serialized database is
 * for, and catches a damaged database before Vectorscan reads it.
 */
static uint64_t
bytes_hash(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t
text_hash(const char *s)
{
	return bytes_hash(s, strlen(s));
}

/* ---- the one-pass engine ---- */

#define DB_MAGIC	"EGRESSHS"
#define DB_FORMAT	3u	/* 2: for bytes, without SINGLEMATCH; 3: one-byte lines to PCRE2 */

/* Serialized: this header, n mode bytes, then Vectorscan's own bytes. */
struct db_header {
	char		magic[8];
	uint32_t	format;
	uint32_t	n;
	uint64_t	hash;		/* of the pattern text */
	uint64_t	payload;	/* of what follows the header */
};

#ifdef EGRESS_VECTORSCAN

#ifndef CLASSIFY_NO_BUILTIN_DB
/*
 * src/core/bounce_builtin_db.c, generated at build time by src/cli/dbgen
 * from conf/bounce-patterns.conf: the shipped patterns' database, used for
 * any pattern text with the same hash (the installed file, a copy in /etc).
 */
extern const unsigned char	bounce_builtin_db[];
extern const size_t		bounce_builtin_db_len;
#endif

static void
onepass_free(struct classifier *cl)
{
	size_t i;

	for (i = 0; i < cl->npool; i++)
		hs_free_scratch(cl->pool[i]);
	free(cl->pool);
	cl->pool = NULL;
	cl->npool = cl->cappool = 0;
	hs_free_scratch(cl->proto);
	cl->proto = NULL;
	hs_free_database(cl->db);
	cl->db = NULL;
	free(cl->mode);
	cl->mode = NULL;
}

/*
 * Text that is not ASCII is scanned as a copy with one byte per character
 * (utf_fold): ASCII as it is, KELVIN SIGN and LONG S as the 'k' and 's'
 * that PCRE2's caseless UTF mode takes them for, any other character as
 * DEL (0x7f). Without PCRE2_UCP, a character above 0x7f and DEL are alike
 * to a pattern of ASCII words, '.', classes of ASCII and the escapes \w
 * \d \s \b (and their negations): neither is a word character, a digit,
 * white space or a letter of another case, and both are one character.
 * Lines that may tell them apart are tried with PCRE2 on such text: any
 * byte of 0x7f or above, POSIX classes, verbs, back references and octal,
 * and the escapes for code points, properties, controls and Unicode
 * spaces (\x \o \N \p \P \X \C \c \h \H \v \V \R \g \k and digits).
 */
static int
utf_folds(const char *src)
{
	const unsigned char *p = (const unsigned char *)src;

	for (; *p != '\0'; p++) {
		if (*p >= 0x7f || (p[0] == '[' && p[1] == ':') ||
		    (p[0] == '(' && p[1] == '*'))
			return 0;
		if (*p == '\\') {
			if (p[1] == '\0')
				return 0;
			if (strchr("xoNpPXCchHvVRgk0123456789", p[1]) != NULL)
				return 0;
			p++;
		}
	}
	return 1;
}

/*
 * utf_folds()'s copy of valid UTF-8 in[0..n) into out (room for n + 1):
 * its length, or (size_t)-1 when in is not valid UTF-8.
 */
static size_t
utf_fold(const char *in, size_t n, char *out)
{
	const unsigned char *p = (const unsigned char *)in, *e = p + n;
	size_t o = 0, k;
	uint32_t c;

	while (p < e) {
		if (*p < 0x80) {
			out[o++] = (char)*p++;
			continue;
		}
		if ((k = utf8_char(p, (size_t)(e - p), &c)) == 0)
			return (size_t)-1;
		out[o++] = c == 0x212a ? 'k' : c == 0x017f ? 's' : 0x7f;
		p += k;
	}
	out[o] = '\0';
	return o;
}

/* db and mode are set: the scratch prototype, the always-tried lines. */
static int
onepass_ready(struct classifier *cl)
{
	size_t i;

	if (hs_alloc_scratch(cl->db, &cl->proto) != HS_SUCCESS) {
		cl->proto = NULL;
		return -1;
	}
	memset(cl->always, 0, sizeof(cl->always));
	memset(cl->always_utf, 0, sizeof(cl->always_utf));
	for (i = 0; i < cl->n; i++) {
		if (cl->mode[i] == MODE_PCRE2)
			cl->always[i / 64] |= (uint64_t)1 << (i % 64);
		if (cl->mode[i] == MODE_PCRE2 || !utf_folds(cl->v[i].src))
			cl->always_utf[i / 64] |= (uint64_t)1 << (i % 64);
	}
	return 0;
}

/*
 * Compile every line into one database. A line Vectorscan refuses is
 * retried as a prefilter, then left to PCRE2 (a warning); Vectorscan
 * reports the first expression it refuses, so each refusal is one retry
 * and stops at the parse of that expression. Lock held.
 */
static int
onepass_compile(struct classifier *cl)
{
	const char **pats = NULL;
	unsigned *flags = NULL, *ids = NULL;
	hs_compile_error_t *ce = NULL;
	hs_database_t *db = NULL;
	/*
	 * Built for any CPU Vectorscan runs on, not for this one: a database
	 * serialized here (at build time, by compile-patterns) must load on
	 * the machine that runs it, and the diagnostics scanned are short.
	 */
	hs_platform_info_t generic;
	size_t i, m, tries;
	int rc = -1;

	memset(&generic, 0, sizeof(generic));
	generic.tune = HS_TUNE_FAMILY_GENERIC;
	generic.cpu_features = 0;

	if (hs_valid_platform() != HS_SUCCESS) {
		load_warning(cl, 0, "Vectorscan does not run on this CPU: "
		    "patterns matched with PCRE2 alone");
		return -1;
	}
	if ((cl->mode = calloc(cl->n ? cl->n : 1, 1)) == NULL ||
	    (pats = calloc(cl->n ? cl->n : 1, sizeof(*pats))) == NULL ||
	    (flags = calloc(cl->n ? cl->n : 1, sizeof(*flags))) == NULL ||
	    (ids = calloc(cl->n ? cl->n : 1, sizeof(*ids))) == NULL)
		goto out;
	/*
	 * A line that can match one byte or none is always tried with PCRE2:
	 * Vectorscan 5.4.9 misses a one-byte literal 64 bytes or more into
	 * the text when another line starts with the same byte ("x" beside
	 * "xn"; found by fuzz_classify, seed regress-short-literal). Real
	 * bounce patterns are words, so this costs nothing.
	 */
	for (i = 0; i < cl->n; i++) {
		hs_expr_info_t *info = NULL;

		if (hs_expression_info(cl->v[i].src, HS_FLAG_CASELESS |
		    HS_FLAG_ALLOWEMPTY, &info, &ce) == HS_SUCCESS) {
			if (info->min_width <= 1) {
				cl->mode[i] = MODE_PCRE2;
				load_warning(cl, cl->v[i].line, "pattern can "
				    "match a single byte: matched with PCRE2 "
				    "alone");
			}
			free(info);
		} else {
			hs_free_compile_error(ce);
			ce = NULL;
		}
	}
	for (tries = 0; tries <= 2 * cl->n; tries++) {
		for (i = m = 0; i < cl->n; i++) {
			if (cl->mode[i] == MODE_PCRE2)
				continue;
			pats[m] = cl->v[i].src;
			/*
			 * No HS_FLAG_UTF8: see onepass_scan. No
			 * HS_FLAG_SINGLEMATCH either: Vectorscan 5.4.9 with
			 * it misses a one-byte literal ("]") 65 bytes or
			 * more into the text (found by fuzz_classify; seed
			 * regress-singlematch-offset). on_match() only sets
			 * a bit, so a pattern reported twice costs a call.
			 */
			flags[m] = HS_FLAG_CASELESS | HS_FLAG_ALLOWEMPTY;
			if (cl->mode[i] == MODE_PREFILTER)
				flags[m] |= HS_FLAG_PREFILTER;
			ids[m++] = (unsigned)i;
		}
		if (m == 0)
			goto out;	/* nothing for Vectorscan */
		if (hs_compile_multi(pats, flags, ids, (unsigned)m, HS_MODE_BLOCK,
		    &generic, &db, &ce) == HS_SUCCESS)
			break;
		db = NULL;
		if (ce == NULL || ce->expression < 0 || (size_t)ce->expression >= m) {
			load_warning(cl, 0, "Vectorscan database not built (%s): "
			    "patterns matched with PCRE2 alone",
			    ce && ce->message ? ce->message : "unknown error");
			goto out;
		}
		i = ids[ce->expression];
		if (cl->mode[i] == MODE_EXACT)
			cl->mode[i] = MODE_PREFILTER;
		else {
			cl->mode[i] = MODE_PCRE2;
			load_warning(cl, cl->v[i].line, "pattern not supported by "
			    "Vectorscan (%s): matched with PCRE2 in its place",
			    ce->message);
		}
		hs_free_compile_error(ce);
		ce = NULL;
	}
	if (db == NULL)
		goto out;
	cl->db = db;
	rc = onepass_ready(cl);
out:
	if (ce)
		hs_free_compile_error(ce);
	free(pats);
	free(flags);
	free(ids);
	if (rc != 0)
		onepass_free(cl);
	return rc;
}

/*
 * A serialized database for this text, or -1 (with a warning). trusted:
 * the built-in one, whose payload hash need not be checked.
 */
static int
onepass_deserialize(struct classifier *cl, const void *data, size_t len,
    int trusted)
{
	struct db_header h;
	const unsigned char *p = data;
	size_t i;
	hs_error_t e;

	if (len < sizeof(h)) {
		load_warning(cl, 0, "serialized pattern database truncated");
		return -1;
	}
	memcpy(&h, p, sizeof(h));
	if (memcmp(h.magic, DB_MAGIC, sizeof(h.magic)) != 0 ||
	    h.format != DB_FORMAT) {
		load_warning(cl, 0, "serialized pattern database: not one "
		    "(or of another format)");
		return -1;
	}
	if (h.n != cl->n || h.hash != cl->text_hash ||
	    len - sizeof(h) < (size_t)h.n) {
		load_warning(cl, 0, "serialized pattern database built from "
		    "other patterns: ignored (egressctl compile-patterns "
		    "rebuilds it)");
		return -1;
	}
	if (!trusted && bytes_hash(p + sizeof(h), len - sizeof(h)) != h.payload) {
		load_warning(cl, 0, "serialized pattern database damaged: "
		    "ignored");
		return -1;
	}
	if ((cl->mode = malloc(cl->n ? cl->n : 1)) == NULL)
		return -1;
	memcpy(cl->mode, p + sizeof(h), cl->n);
	for (i = 0; i < cl->n; i++)
		if (cl->mode[i] > MODE_PCRE2) {
			load_warning(cl, 0, "serialized pattern database corrupt");
			onepass_free(cl);
			return -1;
		}
	e = hs_deserialize_database((const char *)p + sizeof(h) + cl->n,
	    len - sizeof(h) - cl->n, &cl->db);
	if (e != HS_SUCCESS) {
		cl->db = NULL;
		load_warning(cl, 0, "serialized pattern database not usable "
		    "(%s): ignored", e == HS_DB_VERSION_ERROR ? "another "
		    "Vectorscan version" : e == HS_DB_PLATFORM_ERROR ? "another "
		    "platform" : "corrupt");
		onepass_free(cl);
		return -1;
	}
	if (onepass_ready(cl) != 0) {
		onepass_free(cl);
		return -1;
	}
	for (i = 0; i < cl->n; i++)
		if (cl->mode[i] == MODE_PCRE2)
			load_warning(cl, cl->v[i].line, "pattern not supported "
			    "by Vectorscan: matched with PCRE2 in its place");
	return 0;
}

int
classifier_prepare(struct classifier *cl)
{
	int e;

	if (cl == NULL)
		return -1;
	if ((e = atomic_load(&cl->engine)) != ENGINE_PENDING)
		return e == ENGINE_ONEPASS ? 0 : -1;
	pthread_mutex_lock(&cl->lock);
	if (!cl->built) {
		cl->built = 1;
		if (onepass_compile(cl) == 0)
			atomic_store(&cl->engine, ENGINE_ONEPASS);
		else if (merge_runs(cl) == 0)
			atomic_store(&cl->engine, ENGINE_PCRE2);
		else {
			/* out of memory merging: PCRE2 line by line */
			merged_free(cl);
			atomic_store(&cl->engine, ENGINE_PCRE2);
		}
	}
	pthread_mutex_unlock(&cl->lock);
	return atomic_load(&cl->engine) == ENGINE_ONEPASS ? 0 : -1;
}

/*
 * The one-pass engine leaves the text it cannot scan (not ASCII) to
 * PCRE2; the merged runs that make that fast are built the first time,
 * not at load, so start-up stays cheap. After this returns, cl->m is
 * either built or NULL (line by line) and no longer changes.
 */
static void
merged_on_demand(struct classifier *cl)
{
	if (atomic_load(&cl->merged))
		return;
	pthread_mutex_lock(&cl->lock);
	if (!atomic_load(&cl->merged)) {
		if (cl->m == NULL && merge_runs(cl) != 0)
			merged_free(cl);
		atomic_store(&cl->merged, 1);
	}
	pthread_mutex_unlock(&cl->lock);
}

void
classifier_use_pcre2(struct classifier *cl)
{
	pthread_mutex_lock(&cl->lock);
	cl->built = 1;
	onepass_free(cl);
	if (cl->m == NULL && merge_runs(cl) != 0)
		merged_free(cl);
	atomic_store(&cl->engine, ENGINE_PCRE2);
	pthread_mutex_unlock(&cl->lock);
}

int
classifier_db_serialize(struct classifier *cl, struct buf *out)
{
	struct db_header h;
	char *bytes = NULL;
	size_t len = 0;
	int rc = -1;

	if (classifier_prepare(cl) != 0)
		return -1;
	if (hs_serialize_database(cl->db, &bytes, &len) != HS_SUCCESS)
		return -1;
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, DB_MAGIC, sizeof(h.magic));
	h.format = DB_FORMAT;
	h.n = (uint32_t)cl->n;
	h.hash = cl->text_hash;
	h.payload = bytes_hash(cl->mode, cl->n);
	{
		/* FNV-1a continues over the concatenation */
		const unsigned char *q = (const unsigned char *)bytes;
		size_t i;

		for (i = 0; i < len; i++) {
			h.payload ^= q[i];
			h.payload *= 0x100000001b3ULL;
		}
	}
	if (buf_append(out, &h, sizeof(h)) == BUF_OK &&
	    buf_append(out, cl->mode, cl->n) == BUF_OK &&
	    buf_append(out, bytes, len) == BUF_OK)
		rc = 0;
	free(bytes);	/* hs_serialize_database allocates with malloc */
	return rc;
}

static hs_scratch_t *
scratch_get(struct classifier *cl)
{
	hs_scratch_t *s = NULL;

	pthread_mutex_lock(&cl->lock);
	if (cl->npool > 0)
		s = cl->pool[--cl->npool];
	else if (hs_clone_scratch(cl->proto, &s) != HS_SUCCESS)
		s = NULL;
	pthread_mutex_unlock(&cl->lock);
	return s;
}

static void
scratch_put(struct classifier *cl, hs_scratch_t *s)
{
	pthread_mutex_lock(&cl->lock);
	if (cl->npool == cl->cappool) {
		size_t cap = cl->cappool ? cl->cappool * 2 : 4;
		hs_scratch_t **np = realloc(cl->pool, cap * sizeof(*np));

		if (np == NULL) {
			pthread_mutex_unlock(&cl->lock);
			hs_free_scratch(s);
			return;
		}
		cl->pool = np;
		cl->cappool = cap;
	}
	cl->pool[cl->npool++] = s;
	pthread_mutex_unlock(&cl->lock);
}

static int
on_match(unsigned int id, unsigned long long from, unsigned long long to,
    unsigned int flags, void *ctx)
{
	uint64_t *hit = ctx;

	(void)from; (void)to; (void)flags;
	if (id < CLASSIFY_PATTERNS_MAX)
		hit[id / 64] |= (uint64_t)1 << (id % 64);
	return 0;
}

/*
 * Scan text (n bytes, NUL-terminated) once; set hit bits for every line
 * that may match, the always-tried lines included. -1 when no scratch
 * space could be had (the caller tries every line).
 */
static int
onepass_scan(struct classifier *cl, const char *text, size_t n, uint64_t *hit)
{
	/* aligned as text is in classify() */
	_Alignas(64) char fold[CLASSIFY_DIAG_MAX + 1];
	hs_scratch_t *s;
	size_t i;
	int rc = 0;

	/*
	 * Vectorscan 5.4.9 (Debian 12) compiled with HS_FLAG_UTF8 |
	 * HS_FLAG_CASELESS misses short literals that start 64 bytes or more
	 * into the text (" sp" in 64 'a's and " Spamhaus", found by
	 * fuzz_classify), so the database is compiled for bytes: on ASCII
	 * text that is the same language as PCRE2's UTF mode. Other text is
	 * scanned as utf_fold()'s ASCII copy, with the lines that copy cannot
	 * stand for tried as well; text that is not valid UTF-8 is left to
	 * the caller (every line with PCRE2). Every hit is confirmed with
	 * PCRE2 on the text itself.
	 */
	const uint64_t *always = cl->always;

	for (i = 0; i < n; i++)
		if ((unsigned char)text[i] >= 0x80)
			break;
	if (i < n) {
		if (n > CLASSIFY_DIAG_MAX ||
		    (n = utf_fold(text, n, fold)) == (size_t)-1)
			return -1;
		text = fold;
		always = cl->always_utf;
	}
	if ((s = scratch_get(cl)) == NULL)
		return -1;
	memcpy(hit, always, sizeof(cl->always));
	if (hs_scan(cl->db, text, (unsigned)n, 0, s, on_match, hit) != HS_SUCCESS)
		rc = -1;
	scratch_put(cl, s);
	return rc;
}

#else /* !EGRESS_VECTORSCAN */

static void
onepass_free(struct classifier *cl)
{
	(void)cl;
}

int
classifier_prepare(struct classifier *cl)
{
	(void)cl;
	return -1;
}

void
classifier_use_pcre2(struct classifier *cl)
{
	(void)cl;
}

int
classifier_db_serialize(struct classifier *cl, struct buf *out)
{
	(void)cl; (void)out;
	return -1;
}

#endif /* EGRESS_VECTORSCAN */

const char *
classifier_warnings(const struct classifier *cl)
{
	return cl ? buf_cstr(&cl->warnings) : "";
}

const char *
classifier_engine(const struct classifier *cl)
{
	int e;

	if (cl == NULL)
		return "pcre2";
	e = atomic_load(&((struct classifier *)cl)->engine);
	return e == ENGINE_ONEPASS ? "vectorscan" : e == ENGINE_PCRE2 ?
	    "pcre2" : "pending";
}

static struct classifier *
classifier_new(const struct classify_limits *limits)
{
	struct classifier *cl;

	if ((cl = calloc(1, sizeof(*cl))) == NULL)
		return NULL;
	buf_init(&cl->warnings, 64 * 1024);
	atomic_init(&cl->engine, ENGINE_PENDING);
#ifdef EGRESS_VECTORSCAN
	atomic_init(&cl->merged, 0);
	if (pthread_mutex_init(&cl->lock, NULL) != 0) {
		free(cl);
		return NULL;
	}
#endif
	if ((cl->mctx = pcre2_match_context_create(NULL)) == NULL) {
#ifdef EGRESS_VECTORSCAN
		pthread_mutex_destroy(&cl->lock);
#endif
		free(cl);
		return NULL;
	}
	if (limits) {
		if (limits->match_limit)
			pcre2_set_match_limit(cl->mctx, (uint32_t)limits->match_limit);
		if (limits->depth_limit)
			pcre2_set_depth_limit(cl->mctx, (uint32_t)limits->depth_limit);
		if (limits->heap_limit_kib)
			pcre2_set_heap_limit(cl->mctx, (uint32_t)limits->heap_limit_kib);
	} else {
		pcre2_set_match_limit(cl->mctx, 100000);
		pcre2_set_depth_limit(cl->mctx, 10000);
		pcre2_set_heap_limit(cl->mctx, 4096);
	}
	return cl;
}

struct classifier *
classifier_load_string(const char *text, const char *name,
    const struct classify_limits *limits, struct cfg_errors *errs)
{
	return classifier_load_string_db(text, name, limits, NULL, 0, errs);
}

struct classifier *
classifier_load_string_db(const char *text, const char *name,
    const struct classify_limits *limits, const void *db, size_t dblen,
    struct cfg_errors *errs)
{
	struct classifier *cl;
	enum tier tier = TIER_SPECIFIC;
	unsigned lineno = 0;
	char line[CLASSIFY_LINE_MAX];
	const char *p = text, *nl;
	int bad = 0;

	if ((cl = classifier_new(limits)) == NULL) {
		load_error(errs, name, 0, "out of memory");
		return NULL;
	}
	while (p && *p) {
		size_t n;

		lineno++;
		nl = strchr(p, '\n');
		n = nl ? (size_t)(nl - p) : strlen(p);
		if (n >= sizeof(line)) {
			load_error(errs, name, lineno, "line longer than %d bytes",
			    CLASSIFY_LINE_MAX - 1);
			bad = 1;
		} else {
			memcpy(line, p, n);
			line[n] = '\0';
			if (load_line(cl, line, name, lineno, &tier, errs) < 0)
				bad = 1;
		}
		p = nl ? nl + 1 : NULL;
	}
	if (bad) {
		classifier_free(cl);
		return NULL;
	}
	if ((cl->name = strdup(name ? name : "-")) == NULL) {
		load_error(errs, name, lineno, "out of memory");
		classifier_free(cl);
		return NULL;
	}
	cl->text_hash = text_hash(text ? text : "");
#ifdef EGRESS_VECTORSCAN
	/*
	 * A fitting serialized database is ready now: the one handed in, else
	 * the built-in one when this is the shipped text; else it is built
	 * when first needed.
	 */
	if (db != NULL && onepass_deserialize(cl, db, dblen, 0) == 0) {
		cl->built = 1;
		atomic_store(&cl->engine, ENGINE_ONEPASS);
	}
#ifndef CLASSIFY_NO_BUILTIN_DB
	if (!cl->built && bounce_builtin_db_len >= sizeof(struct db_header)) {
		struct db_header h;

		memcpy(&h, bounce_builtin_db, sizeof(h));
		if (h.hash == cl->text_hash && h.n == cl->n &&
		    onepass_deserialize(cl, bounce_builtin_db,
		    bounce_builtin_db_len, 1) == 0) {
			cl->built = 1;
			atomic_store(&cl->engine, ENGINE_ONEPASS);
		}
	}
#endif
	if (cl->n == 0) {
		cl->built = 1;
		atomic_store(&cl->engine, ENGINE_PCRE2);
	}
#else
	(void)db; (void)dblen;
	if (merge_runs(cl) < 0) {
		load_error(errs, name, lineno, "out of memory");
		classifier_free(cl);
		return NULL;
	}
	atomic_store(&cl->engine, ENGINE_PCRE2);
#endif
	return cl;
}

/*
 * Read a whole file into b (at most b's limit). 0, or -1 with errno set
 * (EFBIG when over the limit).
 */
static int
read_file(const char *path, struct buf *b)
{
	FILE *fp;
	char chunk[8192];
	size_t n;
	int rc = 0;

	if ((fp = fopen(path, "rb")) == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (buf_append(b, chunk, n) != BUF_OK) {
			errno = EFBIG;
			rc = -1;
			break;
		}
	if (rc == 0 && ferror(fp)) {
		errno = EIO;
		rc = -1;
	}
	fclose(fp);
	return rc;
}

struct classifier *
classifier_load(const char *path, const struct classify_limits *limits,
    struct cfg_errors *errs)
{
	struct buf b, db;
	struct classifier *cl = NULL;
	char *dbpath = NULL;
	size_t n;

	buf_init(&b, (size_t)CLASSIFY_PATTERNS_MAX * CLASSIFY_LINE_MAX);
	buf_init(&db, CLASSIFY_DB_MAX);
	if (read_file(path, &b) != 0) {
		if (errno == EFBIG)
			load_error(errs, path, 0, "pattern file too large");
		else
			load_error(errs, path, 0, "cannot open pattern file: %s",
			    strerror(errno));
		goto out;
	}
	if (memchr(buf_cstr(&b), '\0', b.len) != NULL) {
		load_error(errs, path, 0, "pattern file contains NUL bytes");
		goto out;
	}
	/* the serialized database beside it, if any: a missing one is normal */
	n = strlen(path) + sizeof(CLASSIFY_DB_SUFFIX);
	if ((dbpath = malloc(n)) == NULL) {
		load_error(errs, path, 0, "out of memory");
		goto out;
	}
	snprintf(dbpath, n, "%s%s", path, CLASSIFY_DB_SUFFIX);
	if (read_file(dbpath, &db) != 0)
		buf_reset(&db);
	cl = classifier_load_string_db(buf_cstr(&b), path, limits,
	    db.len ? db.data : NULL, db.len, errs);
out:
	free(dbpath);
	buf_fini(&db);
	buf_fini(&b);
	return cl;
}

/* ---- classification ---- */

/* Collapse whitespace runs to one space, cut at CLASSIFY_DIAG_MAX. */
static size_t
diag_normalise(char *dst, const char *src)
{
	size_t n = 0;
	int sp = 1;

	for (; *src && n < CLASSIFY_DIAG_MAX; src++) {
		unsigned char c = (unsigned char)*src;

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			if (!sp)
				dst[n++] = ' ';
			sp = 1;
		} else {
			dst[n++] = (char)c;
			sp = 0;
		}
	}
	while (n > 0 && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
	return n;
}

static void
set_out(struct classification *out, const char *reason, const char *source,
    const char *status, int reply_code)
{
	out->reason = reason;
	out->category = vocab_reason_category(reason);
	out->hard = reason_is_hard(reason, status, reply_code);
	out->source = source;
}

#ifdef EGRESS_VECTORSCAN
/*
 * The one-pass answer for both tiers: the lowest line of each tier that
 * the scan marked and PCRE2 confirms. Returns -1 when the scan could not
 * run (the caller matches with PCRE2 alone).
 */
static int
match_onepass(struct classifier *cl, const char *s, size_t n,
    pcre2_match_data *md, const char **spec, const char **gen)
{
	uint64_t hit[BITWORDS];
	size_t w, words = (cl->n + 63) / 64;

	*spec = *gen = NULL;
	if (onepass_scan(cl, s, n, hit) != 0)
		return -1;
	for (w = 0; w < words && *spec == NULL; w++) {
		uint64_t bits = hit[w];

		while (bits && *spec == NULL) {
			size_t i = w * 64 + (size_t)__builtin_ctzll(bits);
			const struct entry *e = &cl->v[i];

			bits &= bits - 1;
			if (e->tier == TIER_SPECIFIC && *spec == NULL &&
			    pcre2_match(e->re, (PCRE2_SPTR)s, n, 0,
			    PCRE2_NO_UTF_CHECK, md, cl->mctx) >= 0)
				*spec = e->reason;
			else if (e->tier == TIER_GENERIC && *gen == NULL &&
			    pcre2_match(e->re, (PCRE2_SPTR)s, n, 0,
			    PCRE2_NO_UTF_CHECK, md, cl->mctx) >= 0)
				*gen = e->reason;
		}
	}
	return 0;
}
#endif

/*
 * PCRE2 alone: the merged runs when there are any, else every line in
 * file order (their own codes).
 */
static void
match_pcre2(const struct classifier *cl, const char *s, size_t n,
    pcre2_match_data *md, const char **spec, const char **gen)
{
	const struct entry *v = cl->m ? cl->m : cl->v;
	size_t i, nv = cl->m ? cl->nm : cl->n;

	*spec = *gen = NULL;
	for (i = 0; i < nv && *spec == NULL; i++) {
		const char **slot = v[i].tier == TIER_SPECIFIC ? spec : gen;

		if (*slot == NULL && pcre2_match(v[i].re, (PCRE2_SPTR)s, n, 0,
		    PCRE2_NO_UTF_CHECK, md, cl->mctx) >= 0)
			*slot = v[i].reason;
	}
}

/*
 * Where the cause ends and the advice begins. Providers follow the refusal
 * with what the sender may do about it ("To address this issue: ... set
 * up SPF records", "For more information ...", "To request removal from
 * this list ..."), and the advice names causes that were not this one.
 * The length of the text before the first advice sentence, or n.
 */
static size_t
advice_cut(const char *s, size_t n)
{
	static const char *const advice[] = { "to address this issue",
	    "for more information", "for more info", "to learn more",
	    "learn more at", "to request removal", "please visit",
	    "please see", "please refer to", "see also", "instructions for",
	    NULL };
	size_t at, i;

	/* only at a sentence start: after ". ", "! ", "? ", ") " */
	for (at = 2; at < n; at++) {
		char c = s[at - 2];

		if (s[at - 1] != ' ' || (c != '.' && c != '!' && c != '?' &&
		    c != ')'))
			continue;
		for (i = 0; advice[i] != NULL; i++) {
			size_t k = strlen(advice[i]);

			if (k <= n - at && strncasecmp(s + at, advice[i], k) == 0)
				return at - 1;
		}
	}
	return n;
}

/*
 * Whether s[0..n) holds a word (caseless) of the NULL-ended list.
 */
static int
has_word_ci(const char *s, size_t n, const char *const *list)
{
	size_t i, at, k;

	for (i = 0; list[i] != NULL; i++)
		for (k = strlen(list[i]), at = 0; k <= n && at <= n - k; at++)
			if (strncasecmp(s + at, list[i], k) == 0)
				return 1;
	return 0;
}

/*
 * The length of a virus scanner's footer opening at s ("This email has
 * been scanned", "No virus found "), 0 when none opens there.
 */
static size_t
footer_opening(const char *s)
{
	static const char *const nouns[] = { "email ", "e-mail ", "message ",
	    "mail ", NULL };
	static const char *const verbs[] = { "has been ", "was ", "is ",
	    "have been ", NULL };
	static const char *const acts[] = { "scanned", "checked", "swept",
	    NULL };
	const char *const *const steps[] = { nouns, verbs, acts };
	size_t q, st, w;

	if (strncasecmp(s, "no virus found ", 15) == 0)
		return 15;	/* AVG's "No virus found in this message." */
	if (strncasecmp(s, "this ", 5) != 0)
		return 0;
	for (q = 5, st = 0; st < 3; st++) {
		for (w = 0; steps[st][w] && strncasecmp(s + q, steps[st][w],
		    strlen(steps[st][w])) != 0; w++)
			;
		if (steps[st][w] == NULL)
			return 0;
		q += strlen(steps[st][w]);
		/* "this email message has been ..." */
		if (st == 0 && strncasecmp(s + q, "message ", 8) == 0)
			q += 8;
	}
	return q;
}

/*
 * Take the virus scanner's footer out of s[0..n) (NUL-terminated): a
 * sentence a gateway or a mail program adds to the mail it passes on
 * ("This email has been scanned for viruses and malware by ...", "This
 * message has been checked for viruses ... and is believed to be clean",
 * "No virus found in this message") says nothing of why delivery failed,
 * and its "virus" is no finding. A sentence opening so that reports a
 * finding ("... was scanned and found to contain a virus") stays, unless
 * it calls the message clean. Returns the new length.
 */
static size_t
footer_strip(char *s, size_t n)
{
	static const char *const finding[] = { "found", "infect", "contain",
	    "detect", "reject", "block", "quarantin", "denied", "refused",
	    "threat", "not deliver", "undeliver", NULL };
	static const char *const clean[] = { "no virus", "virus-free",
	    "virus free", "believed to be clean", "is clean", NULL };
	size_t at, q, k, e;

	for (at = 0; at + 5 < n; at++) {
		/* "this ..." or "no virus ...", at a word's start */
		if ((at > 0 && s[at - 1] != ' ') || ((s[at] | 0x20) != 't' &&
		    (s[at] | 0x20) != 'n') || (q = footer_opening(s + at)) == 0)
			continue;
		/* to the sentence's end: ". " or the end of the text */
		for (e = at + q; e < n && !(s[e] == '.' && (e + 1 == n ||
		    s[e + 1] == ' ')); e++)
			;
		if (e < n)
			e++;
		if (has_word_ci(s + at, e - at, finding) &&
		    !has_word_ci(s + at, e - at, clean))
			continue;
		k = e < n && s[e] == ' ' ? e + 1 : e;
		memmove(s + at, s + k, n - k + 1);
		n -= k - at;
		while (n > 0 && s[n - 1] == ' ')
			s[--n] = '\0';
		at = at > 0 ? at - 1 : 0;
	}
	return n;
}

/*
 * Both tiers over s[0..n): the one-pass engine where it is ready, PCRE2
 * alone otherwise.
 */
static void
match_tiers(const struct classifier *cl, const char *s, size_t n,
    int repaired, pcre2_match_data *md, const char **spec, const char **gen)
{
#ifdef EGRESS_VECTORSCAN
	/* classify() is logically const: only the engine's cache changes */
	struct classifier *mut = (struct classifier *)cl;

	if (atomic_load(&mut->engine) == ENGINE_PENDING)
		(void)classifier_prepare(mut);
	if (atomic_load(&mut->engine) != ENGINE_ONEPASS)
		match_pcre2(cl, s, n, md, spec, gen);
	else if (repaired || match_onepass(mut, s, n, md, spec, gen) != 0) {
		merged_on_demand(mut);
		match_pcre2(cl, s, n, md, spec, gen);
	}
#else
	(void)repaired;
	match_pcre2(cl, s, n, md, spec, gen);
#endif
}

void
classify(const struct classifier *cl, const char *status, int reply_code,
    const char *diag, struct classification *out)
{
	static char empty[] = "";
	const struct status_def *sd;
	const char *spec = NULL, *gen = NULL;
	/*
	 * Vectorscan 5.4.9 misses some matches depending on where the text
	 * lies in memory (see onepass_scan): the text is always scanned from
	 * a 64-byte boundary, so the answer does not depend on the stack's
	 * placement and the tests that shift the words across 64 positions
	 * see every case there is.
	 */
	_Alignas(64) char text[CLASSIFY_DIAG_MAX + 1] = "";
	size_t n = 0;
	int klass, repaired = 0;
	pcre2_match_data *md = NULL;

	if (status == NULL)
		status = empty;
	sd = status_find(status, &klass);
	if (klass == 2 || (sd == NULL && reply_code >= 200 && reply_code < 300)) {
		set_out(out, "delivered", "status", status, reply_code);
		return;
	}
	if (cl && cl->n > 0 && diag && *diag) {
		n = footer_strip(text, diag_normalise(text, diag));
		repaired = utf_repair(text, n);
		md = pcre2_match_data_create(1, NULL);
	}
	if (md) {
		/*
		 * The cause first: a specific line matched there wins; the
		 * whole text (advice included) answers only when it did not.
		 */
		size_t cause = advice_cut(text, n);

		if (cause < n)
			match_tiers(cl, text, cause, repaired, md, &spec,
			    &gen);
		if (spec == NULL) {
			const char *g = gen;

			match_tiers(cl, text, n, repaired, md, &spec, &gen);
			if (g != NULL)
				gen = g;
		}
	}
	if (spec != NULL) {
		set_out(out, spec, "text", status, reply_code);
		goto done;
	}
	if (sd && sd->specific) {
		set_out(out, sd->reason, "status", status, reply_code);
		goto done;
	}
	if (gen != NULL) {
		set_out(out, gen, "text", status, reply_code);
		goto done;
	}
	if (sd && !(strcmp(sd->code, "0.0") == 0 || strcmp(sd->code, "7.1") == 0 ||
	    strcmp(sd->code, "7.0") == 0) ) {
		set_out(out, sd->reason, "status", status, reply_code);
		goto done;
	}
	if ((spec = reply_reason(reply_code)) != NULL) {	/* reused */
		set_out(out, spec, "reply", status, reply_code);
		goto done;
	}
	if (sd) {
		set_out(out, sd->reason, "status", status, reply_code);
		goto done;
	}
	set_out(out, "undefined", "none", status, reply_code);
done:
	pcre2_match_data_free(md);
}

int
classifier_scan_miss(struct classifier *cl, const char *diag, unsigned *line)
{
#ifdef EGRESS_VECTORSCAN
	_Alignas(64) char text[CLASSIFY_DIAG_MAX + 1] = "";
	uint64_t hit[BITWORDS];
	pcre2_match_data *md;
	size_t n, cut, len[2], k, i;
	int rc = 0;

	if (cl == NULL || cl->n == 0 || diag == NULL || *diag == '\0' ||
	    classifier_prepare(cl) != 0)
		return -1;
	n = footer_strip(text, diag_normalise(text, diag));
	if (utf_repair(text, n) || (md = pcre2_match_data_create(1, NULL)) ==
	    NULL)
		return -1;
	cut = advice_cut(text, n);
	len[0] = cut;
	len[1] = n;
	for (k = cut < n ? 0 : 1; k < 2 && rc == 0; k++) {
		if (onepass_scan(cl, text, len[k], hit) != 0) {
			rc = -1;
			break;
		}
		for (i = 0; i < cl->n; i++)
			if (!(hit[i / 64] >> (i % 64) & 1) &&
			    pcre2_match(cl->v[i].re, (PCRE2_SPTR)text, len[k], 0,
			    PCRE2_NO_UTF_CHECK, md, cl->mctx) >= 0) {
				*line = cl->v[i].line;
				rc = 1;
				break;
			}
	}
	pcre2_match_data_free(md);
	return rc;
#else
	(void)cl; (void)diag; (void)line;
	return -1;
#endif
}
