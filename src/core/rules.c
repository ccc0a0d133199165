/*
 * rules.c - operator rules: PCRE2 patterns on headers, subject, body text,
 * URLs and attachment names, each producing the finding "rule.<name>".
 *
 * Patterns are compiled once at config load (JIT when the library supports
 * it) and are read-only afterwards; every match runs under the match, depth
 * and heap limits of the limits block through one shared match context.
 * Match data belongs to a rule_matcher, one per scan, so scans on several
 * threads never share mutable PCRE2 state. A rule fires at most once per
 * message, whatever the number of matches. A match that hits a PCRE2 limit
 * counts as no match for its rule and adds content.rule_limit (once per
 * message, naming the first rule), so hostile input cannot quietly switch
 * a rule off.
 *
 * Body text is streamed, so body rules see it through a sliding window:
 * windows of CONTENT_RULE_WINDOW bytes (16 KiB), each starting
 * CONTENT_RULE_WINDOW - CONTENT_RULE_OVERLAP bytes after the previous one,
 * per text part. Any match of at most CONTENT_RULE_OVERLAP (1 KiB) bytes is
 * therefore found wherever it lies; longer matches are found only inside
 * one window. Windows are cut at fixed stream offsets, so results do not
 * depend on the chunking. ^ and $ (with the m flag) may also match at a
 * window edge, and lookbehind does not reach into the previous window.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "egress/cfg.h"
#include "egress/limits.h"
#include "egress/content.h"
#include "egress/rfc5322.h"

#define RULE_NAME_MAX	64

struct rule_matcher {
	const struct content_config *cc;
	struct findings	*f;
	pcre2_match_data *md;
	unsigned char	*fired;		/* one per rule */
	char		*win;		/* body window, or NULL: no body rules */
	size_t		 winlen;
	size_t		 fresh;		/* bytes not yet matched */
	size_t		 limit_hits;
};

/* ---- load ---- */

static int
parse_target(const char *s, struct content_rule *r)
{
	if (strncasecmp(s, "header:", 7) == 0 && s[7] != '\0') {
		if (!rfc5322_field_name_is_valid(s + 7, strlen(s + 7)))
			return -1;
		r->target = TARGET_HEADER;
		return (r->header = strdup(s + 7)) == NULL ? -2 : 0;
	}
	if (strcmp(s, "subject") == 0)
		r->target = TARGET_SUBJECT;
	else if (strcmp(s, "body") == 0)
		r->target = TARGET_BODY;
	else if (strcmp(s, "url") == 0)
		r->target = TARGET_URL;
	else if (strcmp(s, "attachment_name") == 0)
		r->target = TARGET_ATTACHMENT_NAME;
	else
		return -1;
	return 0;
}

static int
parse_flags(const char *s, uint32_t *out)
{
	*out = 0;
	for (; *s; s++) {
		switch (*s) {
		case 'i': *out |= PCRE2_CASELESS; break;
		case 'm': *out |= PCRE2_MULTILINE; break;
		case 's': *out |= PCRE2_DOTALL; break;
		case 'x': *out |= PCRE2_EXTENDED; break;
		case 'u': *out |= PCRE2_UTF | PCRE2_MATCH_INVALID_UTF; break;
		default: return -1;
		}
	}
	return 0;
}

static int
name_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-' ||
		    s[i] == '.'))
			return 0;
	return i > 0 && i <= RULE_NAME_MAX;
}

static void
rule_fini(struct content_rule *r)
{
	free(r->id);
	free(r->header);
	free(r->pattern);
	pcre2_code_free(r->code);
	memset(r, 0, sizeof(*r));
}

/* Parse and compile one rule group; returns 0, or -1 after cfg_error. */
static int
rule_load(struct content_rule *r, const config_setting_t *g,
    struct cfg_errors *e)
{
	static const char *const keys[] = { "id", "target", "pattern", "flags",
	    "score", "action", NULL };
	char *name = NULL, *target = NULL, *flags = NULL, *action = NULL;
	long long score = 0;
	int errcode, rc = -1, n0 = e->count;
	PCRE2_SIZE erroff;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		cfg_error(e, g, "content.rules", "each rule is a group { id = ...; }");
		return -1;
	}
	cfg_allow_keys(g, keys, e);
	if (cfg_string(g, "id", &name, e) == 0)
		cfg_error(e, g, NULL, "rule without \"id\"");
	if (cfg_string(g, "target", &target, e) == 0)
		cfg_error(e, g, NULL, "rule %s without \"target\"", name ? name : "?");
	if (cfg_string(g, "pattern", &r->pattern, e) == 0)
		cfg_error(e, g, NULL, "rule %s without \"pattern\"", name ? name : "?");
	cfg_string(g, "flags", &flags, e);
	cfg_int(g, "score", -1000, 1000, &score, e);
	cfg_string(g, "action", &action, e);
	if (e->count > n0)
		goto out;
	if (!name_ok(name)) {
		cfg_error(e, config_setting_get_member(g, "id"), "id",
		    "\"%s\": use 1-%d of A-Z a-z 0-9 _ - .", name, RULE_NAME_MAX);
		goto out;
	}
	if ((r->id = malloc(strlen(name) + 6)) == NULL) {
		cfg_error(e, g, "content.rules", "out of memory");
		goto out;
	}
	memcpy(r->id, "rule.", 5);
	memcpy(r->id + 5, name, strlen(name) + 1);
	switch (parse_target(target, r)) {
	case 0:
		break;
	case -1:
		cfg_error(e, config_setting_get_member(g, "target"),
		    "target", "rule %s: \"%s\" is not header:NAME, "
		    "subject, body, url or attachment_name", r->id, target);
		goto out;
	default:
		cfg_error(e, g, "content.rules", "out of memory");
		goto out;
	}
	if (flags != NULL && parse_flags(flags, &r->options) != 0) {
		cfg_error(e, config_setting_get_member(g, "flags"),
		    "flags", "rule %s: \"%s\": flags are i, m, s, x, u",
		    r->id, flags);
		goto out;
	}
	r->score = (int)score;
	if (action != NULL) {
		if (action_parse(action, &r->action) != 0) {
			cfg_error(e, config_setting_get_member(g, "action"),
			    "action", "rule %s: unknown action \"%s\"",
			    r->id, action);
			goto out;
		}
		r->has_action = 1;
	}
	r->code = pcre2_compile((PCRE2_SPTR)r->pattern, PCRE2_ZERO_TERMINATED,
	    r->options, &errcode, &erroff, NULL);
	if (r->code == NULL) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(errcode, msg, sizeof(msg));
		cfg_error(e, config_setting_get_member(g, "pattern"),
		    "pattern", "rule %s: %s at offset %zu",
		    r->id, (const char *)msg, (size_t)erroff);
		goto out;
	}
	/* JIT is an optimisation: without it the interpreter runs. */
	(void)pcre2_jit_compile(r->code, PCRE2_JIT_COMPLETE);
	rc = 0;
out:
	free(name);
	free(target);
	free(flags);
	free(action);
	return rc;
}

int
content_rules_load(struct content_config *cc, const config_setting_t *list,
    const struct limits *lim, struct cfg_errors *e)
{
	int i, n, t, rc = 0;

	content_rules_fini(cc);
	if (list == NULL)
		return 0;
	t = config_setting_type(list);
	if (t != CONFIG_TYPE_LIST && t != CONFIG_TYPE_ARRAY) {
		cfg_error(e, list, "content.rules", "expected a list ( { ... }, ... )");
		return -1;
	}
	n = config_setting_length(list);
	if (n == 0)
		return 0;
	if ((cc->rules = calloc((size_t)n, sizeof(*cc->rules))) == NULL ||
	    (cc->mctx = pcre2_match_context_create(NULL)) == NULL) {
		cfg_error(e, list, "content.rules", "out of memory");
		return -1;
	}
	pcre2_set_match_limit(cc->mctx, (uint32_t)lim->pcre2_match_limit);
	pcre2_set_depth_limit(cc->mctx, (uint32_t)lim->pcre2_depth_limit);
	pcre2_set_heap_limit(cc->mctx, (uint32_t)lim->pcre2_heap_limit);
	for (i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(list,
		    (unsigned)i);
		struct content_rule *r = &cc->rules[cc->nrules];

		if (rule_load(r, g, e) != 0) {
			rule_fini(r);
			rc = -1;
			continue;
		}
		if (content_rule_lookup(cc, r->id) != NULL) {
			cfg_error(e, config_setting_get_member(g, "id"),
			    "id", "rule %s defined twice", r->id);
			rule_fini(r);
			rc = -1;
			continue;
		}
		cc->nrules++;
	}
	return rc;
}

void
content_rules_fini(struct content_config *cc)
{
	size_t i;

	for (i = 0; i < cc->nrules; i++)
		rule_fini(&cc->rules[i]);
	free(cc->rules);
	cc->rules = NULL;
	cc->nrules = 0;
	pcre2_match_context_free(cc->mctx);
	cc->mctx = NULL;
}

const struct content_rule *
content_rule_lookup(const struct content_config *cc, const char *id)
{
	size_t i;

	for (i = 0; i < cc->nrules; i++)
		if (cc->rules[i].id != NULL && strcmp(cc->rules[i].id, id) == 0)
			return &cc->rules[i];
	return NULL;
}

/* ---- matching ---- */

struct rule_matcher *
rule_matcher_new(const struct content_config *cc, struct findings *f)
{
	struct rule_matcher *m;
	size_t i;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->cc = cc;
	m->f = f;
	if (cc->nrules == 0)
		return m;
	if ((m->md = pcre2_match_data_create(1, NULL)) == NULL ||
	    (m->fired = calloc(cc->nrules, 1)) == NULL)
		goto fail;
	for (i = 0; i < cc->nrules; i++)
		if (cc->rules[i].target == TARGET_BODY)
			break;
	if (i < cc->nrules && (m->win = malloc(CONTENT_RULE_WINDOW)) == NULL)
		goto fail;
	return m;
fail:
	rule_matcher_free(m);
	return NULL;
}

void
rule_matcher_free(struct rule_matcher *m)
{
	if (m == NULL)
		return;
	pcre2_match_data_free(m->md);
	free(m->fired);
	free(m->win);
	free(m);
}

void
rule_matcher_set_findings(struct rule_matcher *m, struct findings *f)
{
	m->f = f;
}

size_t
rule_matcher_limit_hits(const struct rule_matcher *m)
{
	return m->limit_hits;
}

int
rule_match_text(struct rule_matcher *m, enum content_target target,
    const char *header, const char *text, size_t len)
{
	const struct content_config *cc = m->cc;
	size_t i;

	for (i = 0; i < cc->nrules; i++) {
		const struct content_rule *r = &cc->rules[i];
		int rc;

		if (m->fired[i] || r->target != target)
			continue;
		if (target == TARGET_HEADER && (header == NULL ||
		    strcasecmp(header, r->header) != 0))
			continue;
		rc = pcre2_match(r->code, (PCRE2_SPTR)text, len, 0, 0, m->md,
		    cc->mctx);
		if (rc >= 0) {
			m->fired[i] = 1;
			if (findings_add(m->f, r->id, "%s", r->id + 5) != 0)
				return -1;
		} else if (rc == PCRE2_ERROR_NOMEMORY) {
			return -1;
		} else if (rc != PCRE2_ERROR_NOMATCH) {
			/* A stopped match is no match, but not silently. */
			if (m->limit_hits++ == 0 && findings_add(m->f,
			    "content.rule_limit", "%s", r->id + 5) != 0)
				return -1;
		}
	}
	return 0;
}

int
rule_body_feed(struct rule_matcher *m, const char *p, size_t n)
{
	if (m->win == NULL)
		return 0;
	while (n > 0) {
		size_t take = CONTENT_RULE_WINDOW - m->winlen;

		if (take > n)
			take = n;
		memcpy(m->win + m->winlen, p, take);
		m->winlen += take;
		m->fresh += take;
		p += take;
		n -= take;
		if (m->winlen == CONTENT_RULE_WINDOW) {
			if (rule_match_text(m, TARGET_BODY, NULL, m->win,
			    m->winlen) != 0)
				return -1;
			memmove(m->win, m->win + CONTENT_RULE_WINDOW -
			    CONTENT_RULE_OVERLAP, CONTENT_RULE_OVERLAP);
			m->winlen = CONTENT_RULE_OVERLAP;
			m->fresh = 0;
		}
	}
	return 0;
}

int
rule_body_end(struct rule_matcher *m)
{
	int rc = 0;

	if (m->win == NULL)
		return 0;
	if (m->fresh > 0)
		rc = rule_match_text(m, TARGET_BODY, NULL, m->win, m->winlen);
	m->winlen = 0;
	m->fresh = 0;
	return rc;
}
