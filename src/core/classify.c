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
 * Each line is compiled on its own (so an error names its line and offset);
 * runs of consecutive lines with the same tier and reason are then matched
 * as one alternation, which gives the same answers with far fewer matches.
 *
 * Threading: a classifier is immutable after load; classify() uses per-call
 * match data and is safe to call from many threads at once.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "egress/cfg.h"
#include "egress/classify.h"
#include "egress/smtpcode.h"
#include "egress/vocab.h"

enum tier { TIER_SPECIFIC = 0, TIER_GENERIC = 1 };

struct entry {
	const char	*reason;	/* static vocabulary string */
	enum tier	 tier;
	pcre2_code	*re;
	char		*src;		/* pattern text, kept until merged */
};

struct classifier {
	struct entry		*v;	/* one per line: validation, count */
	size_t			 n;
	struct entry		*m;	/* what is matched: runs merged */
	size_t			 nm;
	pcre2_match_context	*mctx;
};

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
	{ "5.0", "syntaxerror", 0 },
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

void
classifier_free(struct classifier *cl)
{
	size_t i;

	if (cl == NULL)
		return;
	for (i = 0; i < cl->n; i++) {
		pcre2_code_free(cl->v[i].re);
		free(cl->v[i].src);
	}
	for (i = 0; i < cl->nm; i++)
		pcre2_code_free(cl->m[i].re);
	free(cl->v);
	free(cl->m);
	pcre2_match_context_free(cl->mctx);
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
	    PCRE2_CASELESS | PCRE2_UTF | PCRE2_MATCH_INVALID_UTF,
	    &errcode, &erroff, NULL);
	if (re == NULL) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(errcode, msg, sizeof(msg));
		load_error(errs, name, lineno, "pattern offset %zu: %s",
		    (size_t)erroff, (const char *)msg);
		return -1;
	}
	/* JIT is an optimisation: failure to JIT just means the interpreter. */
	(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
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
 * A run that cannot be merged is matched line by line.
 */
static int
merge_runs(struct classifier *cl)
{
	size_t i = 0, j, k;

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
			    PCRE2_CASELESS | PCRE2_UTF | PCRE2_MATCH_INVALID_UTF,
			    &errcode, &erroff, NULL);
			buf_fini(&b);
		}
		if (re != NULL) {
			(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
			cl->m[cl->nm].reason = cl->v[i].reason;
			cl->m[cl->nm].tier = cl->v[i].tier;
			cl->m[cl->nm++].re = re;
		}
		if (re == NULL) {
			/* one line, or a run that did not compile merged */
			for (k = i; k < j; k++) {
				/* the line's own code moves over */
				cl->m[cl->nm] = cl->v[k];
				cl->m[cl->nm++].src = NULL;
				cl->v[k].re = NULL;
			}
		} else {
			/* the lines' own codes are no longer needed */
			for (k = i; k < j; k++) {
				pcre2_code_free(cl->v[k].re);
				cl->v[k].re = NULL;
			}
		}
		i = j;
	}
	for (i = 0; i < cl->n; i++) {
		free(cl->v[i].src);
		cl->v[i].src = NULL;
	}
	return 0;
}

static struct classifier *
classifier_new(const struct classify_limits *limits)
{
	struct classifier *cl;

	if ((cl = calloc(1, sizeof(*cl))) == NULL)
		return NULL;
	if ((cl->mctx = pcre2_match_context_create(NULL)) == NULL) {
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
	if (merge_runs(cl) < 0) {
		load_error(errs, name, lineno, "out of memory");
		classifier_free(cl);
		return NULL;
	}
	return cl;
}

struct classifier *
classifier_load(const char *path, const struct classify_limits *limits,
    struct cfg_errors *errs)
{
	FILE *fp;
	struct buf b;
	struct classifier *cl = NULL;
	char chunk[8192];
	size_t n;

	if ((fp = fopen(path, "r")) == NULL) {
		load_error(errs, path, 0, "cannot open pattern file: %s",
		    strerror(errno));
		return NULL;
	}
	buf_init(&b, (size_t)CLASSIFY_PATTERNS_MAX * CLASSIFY_LINE_MAX);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (buf_append(&b, chunk, n) != BUF_OK) {
			load_error(errs, path, 0, "pattern file too large");
			goto out;
		}
	if (ferror(fp)) {
		load_error(errs, path, 0, "read error: %s", strerror(errno));
		goto out;
	}
	if (memchr(buf_cstr(&b), '\0', b.len) != NULL) {
		load_error(errs, path, 0, "pattern file contains NUL bytes");
		goto out;
	}
	cl = classifier_load_string(buf_cstr(&b), path, limits, errs);
out:
	fclose(fp);
	buf_fini(&b);
	return cl;
}

/* ---- classification ---- */

static const char *
match_tier(const struct classifier *cl, enum tier tier, const char *s,
    size_t n, pcre2_match_data *md)
{
	size_t i;

	for (i = 0; i < cl->nm; i++) {
		if (cl->m[i].tier != tier)
			continue;
		if (pcre2_match(cl->m[i].re, (PCRE2_SPTR)s, n, 0, 0, md,
		    cl->mctx) >= 0)
			return cl->m[i].reason;
	}
	return NULL;
}

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

void
classify(const struct classifier *cl, const char *status, int reply_code,
    const char *diag, struct classification *out)
{
	static char empty[] = "";
	const struct status_def *sd;
	const char *r = NULL;
	char text[CLASSIFY_DIAG_MAX + 1] = "";
	size_t n = 0;
	int klass;
	pcre2_match_data *md = NULL;

	if (status == NULL)
		status = empty;
	sd = status_find(status, &klass);
	if (klass == 2 || (sd == NULL && reply_code >= 200 && reply_code < 300)) {
		set_out(out, "delivered", "status", status, reply_code);
		return;
	}
	if (cl && cl->n > 0 && diag && *diag) {
		n = diag_normalise(text, diag);
		md = pcre2_match_data_create(1, NULL);
	}
	if (md && (r = match_tier(cl, TIER_SPECIFIC, text, n, md)) != NULL) {
		set_out(out, r, "text", status, reply_code);
		goto done;
	}
	if (sd && sd->specific) {
		set_out(out, sd->reason, "status", status, reply_code);
		goto done;
	}
	if (md && (r = match_tier(cl, TIER_GENERIC, text, n, md)) != NULL) {
		set_out(out, r, "text", status, reply_code);
		goto done;
	}
	if (sd && !(strcmp(sd->code, "0.0") == 0 || strcmp(sd->code, "7.1") == 0 ||
	    strcmp(sd->code, "7.0") == 0) ) {
		set_out(out, sd->reason, "status", status, reply_code);
		goto done;
	}
	if ((r = reply_reason(reply_code)) != NULL) {
		set_out(out, r, "reply", status, reply_code);
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
