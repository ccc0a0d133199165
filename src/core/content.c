/*
 * content.c - the `content` config section, the subject checks, and the
 * content_scan glue that consumes the MIME reader's events.
 *
 * A content_scan sees one message. Leaf parts never overlap in a streaming
 * parse, so it keeps the state of one leaf at a time: a link scanner for
 * inline text/plain and text/html, the body-rule window for inline text
 * parts, and an attach_scan for every leaf (executables are sniffed even
 * when they are not declared as attachments). The decoded bytes past
 * limits.decoded_bytes (the reader's part_tail) go to the attach_scan's
 * archive tail window only. Whole-message facts (HTML
 * without a text alternative, images (image parts or <img> tags) without
 * text, URL count) are settled
 * in content_scan_finish().
 *
 * Order: the findings of a leaf are held back until its end and then added
 * as links (with URL rules), body rules, attachment; each checker reports
 * in stream order, so the list comes out in the same order whatever the
 * chunking (checkers fire at different byte positions inside one chunk).
 *
 * Bounds: see content.h; the scan itself adds a fixed-size struct, the
 * decoded Subject (bounded by the header size limit of the caller) and the
 * held-back findings of one leaf (bounded by the findings limit).
 * Threading: one scan per thread; the config is shared read-only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libpsl.h>

#include "egress/cfg.h"
#include "egress/limits.h"
#include "egress/content.h"
#include "egress/mime.h"

#ifndef DATADIR
#define DATADIR "/usr/local/share/milter-egress"
#endif

#define SHORTENERS_MAX		100000	/* lines read from a shortener list */
#define SHORTENER_LINE_MAX	256

/*
 * Refused (attachment.extension): the file types Gmail publishes as blocked
 * (support.google.com/mail/answer/6590, as of 2026). A receiver that large
 * bounces such a message whatever else it holds, so sending it only costs
 * reputation. Keep in step with conf/milter-egress.conf and
 * milter-egress.conf(5).
 */
static const char *const default_extensions[] = {
	"ade", "adp", "apk", "appx", "appxbundle", "bat", "cab", "chm", "cmd",
	"com", "cpl", "diagcab", "diagcfg", "diagpkg", "dll", "dmg", "ex", "ex_",
	"exe", "hta", "img", "ins", "iso", "isp", "jar", "jnlp", "js", "jse",
	"lib", "lnk", "mde", "mjs", "msc", "msi", "msix", "msixbundle", "msp",
	"mst", "nsh", "pif", "ps1", "scr", "sct", "shb", "sys", "vb", "vbe",
	"vbs", "vhd", "vxd", "wsc", "wsf", "wsh", "xll", NULL,
};

/*
 * Scored, not refused (attachment.extension_risky): types that run code or
 * point elsewhere when opened but that large receivers deliver, e.g. an
 * Outlook Internet Shortcut (.url) or a PowerShell module.
 */
static const char *const default_risky_extensions[] = {
	"ws", "vhdx", "psm1", "psd1", "reg", "scf", "shs", "application",
	"gadget", "appref-ms", "hlp", "ocx", "drv", "inf", "url", "xbap",
	"settingcontent-ms", "library-ms", "one", "website", "search-ms", NULL,
};

static const char *const default_macro_extensions[] = {
	"docm", "xlsm", "pptm", "dotm", "xltm", "potm", "ppsm", "sldm", "xlam",
	"ppam", NULL,
};

/* Used only when the shipped list cannot be read and none is configured. */
static const char *const builtin_shorteners[] = {
	"bit.ly", "bitly.com", "tinyurl.com", "t.co", "goo.gl", "ow.ly",
	"is.gd", "buff.ly", "rebrand.ly", "cutt.ly", "shorturl.at", "t.ly",
	"rb.gy", "tiny.cc", "s.id", "v.gd", NULL,
};

/* ---- string arrays ---- */

static void
strv_free(char ***v, size_t *n)
{
	size_t i;

	for (i = 0; i < *n; i++)
		free((*v)[i]);
	free(*v);
	*v = NULL;
	*n = 0;
}

static int
strv_dup(char ***v, size_t *n, const char *const *src)
{
	size_t k = 0, i;
	char **nv;

	while (src[k] != NULL)
		k++;
	if ((nv = calloc(k + 1, sizeof(char *))) == NULL)
		return -1;
	for (i = 0; i < k; i++)
		if ((nv[i] = strdup(src[i])) == NULL) {
			strv_free(&nv, &i);
			return -1;
		}
	strv_free(v, n);
	*v = nv;
	*n = k;
	return 0;
}

static void
lowercase(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s + 32);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
shorteners_sort(struct content_config *cc)
{
	size_t i, o = 0;

	for (i = 0; i < cc->nshorteners; i++)
		lowercase(cc->shorteners[i]);
	qsort(cc->shorteners, cc->nshorteners, sizeof(char *), cmp_str);
	for (i = 0; i < cc->nshorteners; i++) {
		if (o > 0 && strcmp(cc->shorteners[o - 1], cc->shorteners[i]) == 0)
			free(cc->shorteners[i]);
		else
			cc->shorteners[o++] = cc->shorteners[i];
	}
	cc->nshorteners = o;
}

int
content_shorteners_read(struct content_config *cc, const char *path)
{
	char line[SHORTENER_LINE_MAX + 2], **v = NULL, **nv;
	size_t n = 0, cap = 0;
	FILE *fp;
	int err;

	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL && n < SHORTENERS_MAX) {
		char *s = line, *e;

		if ((e = strchr(s, '#')) != NULL)
			*e = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		for (e = s; *e && *e != ' ' && *e != '\t' && *e != '\r' &&
		    *e != '\n'; e++)
			;
		*e = '\0';
		while (e > s && e[-1] == '.')
			*--e = '\0';
		if (*s == '\0')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nv = realloc(v, cap * sizeof(char *))) == NULL)
				goto nomem;
			v = nv;
		}
		if ((v[n] = strdup(s)) == NULL)
			goto nomem;
		n++;
	}
	if (ferror(fp)) {
		err = errno;
		strv_free(&v, &n);
		fclose(fp);
		errno = err;
		return -1;
	}
	fclose(fp);
	strv_free(&cc->shorteners, &cc->nshorteners);
	cc->shorteners = v;
	cc->nshorteners = n;
	shorteners_sort(cc);
	return 0;
nomem:
	strv_free(&v, &n);
	fclose(fp);
	errno = ENOMEM;
	return -1;
}

/* ---- config ---- */

int
content_config_defaults(struct content_config *cc)
{
	memset(cc, 0, sizeof(*cc));
	cc->attachment_max_size = 25LL * 1024 * 1024;
	cc->subject_caps_ratio = 0.8;
	cc->subject_min_length = 10;
	cc->subject_punct_run = 3;
	cc->subject_punct_ratio = 0;
	cc->image_only_text_min = 20;
	if (strv_dup(&cc->extensions, &cc->nextensions, default_extensions) != 0 ||
	    strv_dup(&cc->risky_extensions, &cc->nrisky_extensions,
	    default_risky_extensions) != 0 ||
	    strv_dup(&cc->macro_extensions, &cc->nmacro_extensions,
	    default_macro_extensions) != 0)
		return -1;
	if (content_shorteners_read(cc, DATADIR "/shorteners.txt") != 0) {
		if (errno == ENOMEM || strv_dup(&cc->shorteners,
		    &cc->nshorteners, builtin_shorteners) != 0)
			return -1;
		shorteners_sort(cc);
	}
	/* The list installed with libpsl, else the one compiled into it. */
	if ((cc->psl = psl_latest(NULL)) != NULL)
		cc->psl_owned = 1;
	else
		cc->psl = (struct psl_ctx_st *)psl_builtin();
	return 0;
}

void
content_config_fini(struct content_config *cc)
{
	free(cc->shorteners_file);
	cc->shorteners_file = NULL;
	strv_free(&cc->shorteners, &cc->nshorteners);
	strv_free(&cc->extensions, &cc->nextensions);
	strv_free(&cc->risky_extensions, &cc->nrisky_extensions);
	strv_free(&cc->macro_extensions, &cc->nmacro_extensions);
	content_rules_fini(cc);
	if (cc->psl_owned)
		psl_free(cc->psl);
	cc->psl = NULL;
	cc->psl_owned = 0;
}

/* A ratio in [0, 1], written as a float (0.8) or an integer (0 or 1). */
static int
cfg_ratio(const config_setting_t *g, const char *key, double *out,
    struct cfg_errors *e)
{
	const config_setting_t *s;
	double v;

	if (g == NULL || (s = config_setting_get_member(g, key)) == NULL)
		return 0;
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_FLOAT:
		v = config_setting_get_float(s);
		break;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		v = (double)config_setting_get_int64(s);
		break;
	default:
		cfg_error(e, s, key, "expected a number between 0 and 1");
		return -1;
	}
	if (!(v >= 0 && v <= 1)) {
		cfg_error(e, s, key, "%g is not between 0 and 1", v);
		return -1;
	}
	*out = v;
	return 1;
}

/* An extension list: lowercased, leading dots dropped. */
static int
cfg_exts(const config_setting_t *g, const char *key, char ***v, size_t *n,
    struct cfg_errors *e)
{
	struct strlist l = { NULL, 0 };
	size_t i;
	int rc;

	if ((rc = cfg_strlist(g, key, &l, e)) <= 0)
		return rc;
	for (i = 0; i < l.n; i++) {
		char *s = l.v[i];

		while (*s == '.')
			memmove(s, s + 1, strlen(s));
		lowercase(s);
		if (*s == '\0' || strchr(s, '.') != NULL || strchr(s, '/') != NULL)
			cfg_error(e, config_setting_get_member(g, key), key,
			    "\"%s\" is not a file name extension", l.v[i]);
	}
	strv_free(v, n);
	*v = l.v;
	*n = l.n;
	return 1;
}

int
content_config_load(struct content_config *cc, const config_setting_t *g,
    const char *confdir, const struct limits *lim, struct cfg_errors *e)
{
	static const char *const keys[] = { "shorteners_file",
	    "attachment_extensions", "risky_extensions", "macro_extensions", "attachment_max_size",
	    "subject_caps_ratio", "subject_min_length", "subject_punct_run",
	    "subject_punct_ratio", "image_only_text_min", "rules", NULL };
	int n0 = e->count;

	if (g == NULL)
		return 0;
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		cfg_error(e, g, "content", "expected a group content = { ... }");
		return -1;
	}
	cfg_allow_keys(g, keys, e);
	if (cfg_string(g, "shorteners_file", &cc->shorteners_file, e) > 0 &&
	    cc->shorteners_file[0] == '\0') {
		/* "" turns the list off */
		strv_free(&cc->shorteners, &cc->nshorteners);
	} else if (cc->shorteners_file != NULL) {
		const char *f = cc->shorteners_file;
		char *path = NULL;

		if (f[0] != '/' && confdir != NULL) {
			size_t l = strlen(confdir) + strlen(f) + 2;

			if ((path = malloc(l)) != NULL)
				snprintf(path, l, "%s/%s", confdir, f);
		}
		if (content_shorteners_read(cc, path ? path : f) != 0)
			cfg_error(e, config_setting_get_member(g, "shorteners_file"),
			    "content.shorteners_file", "%s: %s", path ? path : f,
			    strerror(errno));
		free(path);
	}
	cfg_exts(g, "attachment_extensions", &cc->extensions, &cc->nextensions, e);
	cfg_exts(g, "risky_extensions", &cc->risky_extensions,
	    &cc->nrisky_extensions, e);
	cfg_exts(g, "macro_extensions", &cc->macro_extensions,
	    &cc->nmacro_extensions, e);
	cfg_size(g, "attachment_max_size", 0, 4LL * 1024 * 1024 * 1024,
	    &cc->attachment_max_size, e);
	cfg_ratio(g, "subject_caps_ratio", &cc->subject_caps_ratio, e);
	cfg_int(g, "subject_min_length", 1, 998, &cc->subject_min_length, e);
	cfg_int(g, "subject_punct_run", 2, 998, &cc->subject_punct_run, e);
	cfg_ratio(g, "subject_punct_ratio", &cc->subject_punct_ratio, e);
	cfg_int(g, "image_only_text_min", 0, 1000000, &cc->image_only_text_min, e);
	content_rules_load(cc, config_setting_get_member(g, "rules"), lim, e);
	return e->count > n0 ? -1 : 0;
}

/* ---- subject ---- */

int
content_subject_check(const struct content_config *cc, struct findings *f,
    const char *s)
{
	size_t letters = 0, caps = 0, marks = 0, visible = 0, run = 0, best = 0;
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++) {
		if (*p >= 'A' && *p <= 'Z')
			caps++;
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
			letters++;
		if (*p != ' ' && *p != '\t')
			visible++;
		if (*p == '!' || *p == '?') {
			marks++;
			if (++run > best)
				best = run;
		} else
			run = 0;
	}
	if (letters >= (size_t)cc->subject_min_length && letters > 0 &&
	    (double)caps / (double)letters >= cc->subject_caps_ratio &&
	    findings_add(f, "content.subject.all_caps", "%zu/%zu capitals",
	    caps, letters) != 0)
		return -1;
	if ((best >= (size_t)cc->subject_punct_run ||
	    (cc->subject_punct_ratio > 0 && marks >= 2 &&
	    (double)marks / (double)visible > cc->subject_punct_ratio)) &&
	    findings_add(f, "content.subject.punctuation", "%zu of !? (run %zu)",
	    marks, best) != 0)
		return -1;
	return 0;
}

/* ---- the scan ---- */

struct content_scan {
	const struct content_config *cc;
	const struct limits *lim;
	struct findings	*f;
	struct link_state links;
	struct rule_matcher *rules;
	struct findings	 pend_text;	/* the open leaf's findings, by kind */
	struct findings	 pend_body;
	struct findings	 pend_attach;
	struct buf	 tmp;
	int		 seen_subject;
	/* the open leaf */
	int		 in_leaf;
	unsigned	 leaf_id;
	struct link_scanner *ls;
	int		 body_rules;
	struct attach_scan *as;
	/* message-wide */
	int		 has_html, has_plain, has_image;
	size_t		 text_chars;
	int		 failed;
};

struct content_scan *
content_scan_new(const struct content_config *cc, const struct limits *lim,
    struct findings *f)
{
	struct content_scan *cs;

	if ((cs = calloc(1, sizeof(*cs))) == NULL)
		return NULL;
	cs->cc = cc;
	cs->lim = lim;
	cs->f = f;
	findings_init(&cs->pend_text, f->max);
	findings_init(&cs->pend_body, f->max);
	findings_init(&cs->pend_attach, f->max);
	buf_init(&cs->tmp, 1024 * 1024);
	if ((cs->rules = rule_matcher_new(cc, f)) == NULL) {
		content_scan_free(cs);
		return NULL;
	}
	return cs;
}

static void
leaf_close(struct content_scan *cs)
{
	link_scanner_free(cs->ls);
	cs->ls = NULL;
	attach_scan_free(cs->as);
	cs->as = NULL;
	cs->body_rules = 0;
	cs->in_leaf = 0;
}

void
content_scan_free(struct content_scan *cs)
{
	if (cs == NULL)
		return;
	leaf_close(cs);
	rule_matcher_free(cs->rules);
	findings_fini(&cs->pend_text);
	findings_fini(&cs->pend_body);
	findings_fini(&cs->pend_attach);
	buf_fini(&cs->tmp);
	free(cs);
}

static int
pending_flush(struct content_scan *cs)
{
	if (findings_take(cs->f, &cs->pend_text) != 0 ||
	    findings_take(cs->f, &cs->pend_body) != 0 ||
	    findings_take(cs->f, &cs->pend_attach) != 0)
		return -1;
	return 0;
}

static int
on_link(void *ctx, const char *url, size_t len, const char *anchor,
    const char *attr)
{
	struct content_scan *cs = ctx;
	int rc;

	if (link_check(cs->cc, &cs->links, &cs->pend_text, url, len, anchor,
	    attr) != 0)
		return -1;
	rule_matcher_set_findings(cs->rules, &cs->pend_text);
	rc = rule_match_text(cs->rules, TARGET_URL, NULL, url, len);
	rule_matcher_set_findings(cs->rules, cs->f);
	return rc;
}

static int
on_header(void *ctx, const struct mime_part_info *pi, const char *name,
    const char *value)
{
	struct content_scan *cs = ctx;
	int rc;

	if (cs->failed)
		return -1;
	if (pi->id != 0)
		return 0;
	buf_reset(&cs->tmp);
	rc = mime_decode_words(&cs->tmp, value);
	if (rc == BUF_ERR_NOMEM)
		goto fail;
	/* A value over the buffer limit is checked as far as it was decoded. */
	if (rule_match_text(cs->rules, TARGET_HEADER, name, cs->tmp.data ?
	    cs->tmp.data : "", cs->tmp.len) != 0)
		goto fail;
	if (strcasecmp(name, "Subject") != 0 || cs->seen_subject)
		return 0;
	cs->seen_subject = 1;
	if (content_subject_check(cs->cc, cs->f, buf_cstr(&cs->tmp)) != 0 ||
	    rule_match_text(cs->rules, TARGET_SUBJECT, NULL, buf_cstr(&cs->tmp),
	    cs->tmp.len) != 0)
		goto fail;
	return 0;
fail:
	cs->failed = 1;
	return -1;
}

static int
is_type(const char *type, const char *want)
{
	return type != NULL && strcasecmp(type, want) == 0;
}

static int
on_part_begin(void *ctx, const struct mime_part_info *pi)
{
	struct content_scan *cs = ctx;
	const char *type = pi->type ? pi->type : "text/plain";
	int attachment;

	if (cs->failed)
		return -1;
	if (pi->is_multipart || pi->is_message)
		return 0;
	leaf_close(cs);
	if (pending_flush(cs) != 0)
		goto fail;
	cs->in_leaf = 1;
	cs->leaf_id = pi->id;
	attachment = pi->filename != NULL || (pi->disposition != NULL &&
	    strcmp(pi->disposition, "attachment") == 0);
	/*
	 * A text alternative to the HTML: plain, enriched or a calendar
	 * (meeting invitations send text/calendar beside text/html), unless it
	 * is declared an attachment; a name= on it does not make it one.
	 */
	if ((is_type(type, "text/plain") || is_type(type, "text/calendar") ||
	    is_type(type, "text/enriched")) && (pi->disposition == NULL ||
	    strcmp(pi->disposition, "attachment") != 0))
		cs->has_plain = 1;
	if (!attachment) {
		int html = is_type(type, "text/html");

		if (html || is_type(type, "text/plain")) {
			if (html)
				cs->has_html = 1;
			else
				cs->has_plain = 1;
			if ((cs->ls = link_scanner_new(html, on_link, cs)) == NULL)
				goto fail;
			/* the count matters only below image_only_text_min */
			link_scanner_text_cap(cs->ls,
			    (size_t)cs->cc->image_only_text_min);
		}
		cs->body_rules = strncasecmp(type, "text/", 5) == 0;
	}
	if (strncasecmp(type, "image/", 6) == 0)
		cs->has_image = 1;
	if (pi->filename != NULL && rule_match_text(cs->rules,
	    TARGET_ATTACHMENT_NAME, NULL, pi->filename,
	    strlen(pi->filename)) != 0)
		goto fail;
	if ((cs->as = attach_scan_new(cs->cc, &cs->pend_attach, pi->filename,
	    type, pi->disposition)) == NULL)
		goto fail;
	return 0;
fail:
	cs->failed = 1;
	return -1;
}

static int
on_part_data(void *ctx, const struct mime_part_info *pi, const char *p,
    size_t n)
{
	struct content_scan *cs = ctx;

	if (cs->failed)
		return -1;
	if (!cs->in_leaf || pi->id != cs->leaf_id)
		return 0;
	if (cs->ls != NULL && link_scanner_feed(cs->ls, p, n) != 0)
		goto fail;
	if (cs->body_rules) {
		int rc;

		rule_matcher_set_findings(cs->rules, &cs->pend_body);
		rc = rule_body_feed(cs->rules, p, n);
		rule_matcher_set_findings(cs->rules, cs->f);
		if (rc != 0)
			goto fail;
	}
	if (cs->as != NULL && attach_scan_feed(cs->as, p, n) != 0)
		goto fail;
	return 0;
fail:
	cs->failed = 1;
	return -1;
}

/*
 * Decoded bytes past limits.decoded_bytes: only the archive tail sees them.
 * Returns 1 (no more wanted) once the part is known not to need them.
 */
static int
on_part_tail(void *ctx, const struct mime_part_info *pi, const char *p,
    size_t n)
{
	struct content_scan *cs = ctx;
	int rc;

	if (cs->failed)
		return -1;
	if (!cs->in_leaf || pi->id != cs->leaf_id || cs->as == NULL)
		return 1;	/* no more of this part */
	if ((rc = attach_scan_tail(cs->as, p, n)) < 0) {
		cs->failed = 1;
		return -1;
	}
	return rc;
}

static int
on_part_end(void *ctx, const struct mime_part_info *pi)
{
	struct content_scan *cs = ctx;
	int rc = 0;

	if (cs->failed)
		return -1;
	if (!cs->in_leaf || pi->id != cs->leaf_id)
		return 0;
	if (cs->ls != NULL) {
		rc |= link_scanner_finish(cs->ls);
		cs->text_chars += link_scanner_text_chars(cs->ls);
		/* remote images (<img src=http...>) are images too */
		if (link_scanner_images(cs->ls) > 0)
			cs->has_image = 1;
	}
	if (cs->body_rules) {
		rule_matcher_set_findings(cs->rules, &cs->pend_body);
		rc |= rule_body_end(cs->rules);
		rule_matcher_set_findings(cs->rules, cs->f);
	}
	if (cs->as != NULL)
		rc |= attach_scan_finish(cs->as, pi->decoded_size);
	leaf_close(cs);
	rc |= pending_flush(cs);
	if (rc != 0) {
		cs->failed = 1;
		return -1;
	}
	return 0;
}

void
content_scan_handler(struct content_scan *cs, struct mime_handler *out)
{
	memset(out, 0, sizeof(*out));
	out->ctx = cs;
	out->header = on_header;
	out->part_begin = on_part_begin;
	out->part_data = on_part_data;
	out->part_end = on_part_end;
	out->part_tail = on_part_tail;
}

int
content_scan_finish(struct content_scan *cs)
{
	if (cs->failed)
		return -1;
	leaf_close(cs);
	if (pending_flush(cs) != 0)
		return -1;
	if (cs->links.count > (size_t)cs->lim->urls &&
	    findings_add(cs->f, "content.url.count", "%zu links", cs->links.count) != 0)
		return -1;
	if (cs->has_html && !cs->has_plain &&
	    findings_add(cs->f, "content.html_only", "%s", "text/html") != 0)
		return -1;
	if (cs->has_image && cs->text_chars < (size_t)cs->cc->image_only_text_min &&
	    findings_add(cs->f, "content.image_only", "%zu text characters",
	    cs->text_chars) != 0)
		return -1;
	return 0;
}
