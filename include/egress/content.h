/*
 * content - risky-content checks fed by the streaming MIME reader.
 *
 * Four checkers share this header:
 *   links    URLs in text/plain and text/html (bare URLs, href/src,
 *            anchor text) and what is wrong with them (content.url.*);
 *   attach   attachment names, declared and sniffed types, archive
 *            listings (attachment.*, size.attachment);
 *   subject  capitals and punctuation in the decoded Subject;
 *   rules    operator PCRE2 rules (ids "rule.<name>").
 * content_scan ties them to a mime_handler and adds the whole-message
 * findings (content.html_only, content.image_only, content.url.count).
 *
 * Lifetimes: a content_config lives in the config snapshot and is read-only
 * after content_config_load() (compiled patterns and the public suffix list
 * are shared between threads); a content_scan lives for one message and is
 * used by one thread. Memory per scan is bounded by the named constants
 * below, independent of the message size.
 */
#ifndef EGRESS_CONTENT_H
#define EGRESS_CONTENT_H

#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

#include "egress/buf.h"
#include "egress/findings.h"
#include "egress/mime.h"

struct cfg_errors;
struct limits;
struct mime_handler;
struct pcre2_real_code_8;
struct pcre2_real_match_context_8;
struct psl_ctx_st;

/* Bounds (bytes) of the per-scan state. */
#define CONTENT_URL_MAX		2048	/* longest URL kept; longer ones are cut */
#define CONTENT_ANCHOR_MAX	256	/* anchor text kept per <a> */
#define CONTENT_SNIFF_MAX	4096	/* leading bytes kept for magic sniffing */
#define CONTENT_ZIP_TAIL	(64 * 1024 + 22)	/* archive tail window */
#define CONTENT_ARCHIVE_HDR_MAX	1024	/* one local/RAR header with its name */
#define CONTENT_RULE_WINDOW	(16 * 1024)	/* body rule match window */
#define CONTENT_RULE_OVERLAP	1024	/* guaranteed longest body match */

enum content_target {
	TARGET_HEADER = 0,	/* header:NAME, top-level header fields */
	TARGET_SUBJECT,		/* decoded Subject */
	TARGET_BODY,		/* decoded text parts */
	TARGET_URL,		/* each extracted URL */
	TARGET_ATTACHMENT_NAME,	/* each attachment file name */
};

/* One operator rule. Everything is owned by the content_config. */
struct content_rule {
	char			*id;		/* "rule.<name>": the finding id */
	enum content_target	 target;
	char			*header;	/* TARGET_HEADER: field name */
	char			*pattern;
	uint32_t		 options;	/* PCRE2 compile options */
	int			 score;
	int			 has_action;
	enum action		 action;	/* valid when has_action */
	struct pcre2_real_code_8 *code;
};

struct content_config {
	char		 *shorteners_file;	/* as configured, or NULL */
	char		**shorteners;		/* sorted lowercase hosts */
	size_t		  nshorteners;
	char		**extensions;		/* attachment.extension, lowercase */
	size_t		  nextensions;
	char		**risky_extensions;	/* attachment.extension_risky */
	size_t		  nrisky_extensions;
	char		**macro_extensions;	/* attachment.macro, lowercase */
	size_t		  nmacro_extensions;
	long long	  attachment_max_size;	/* decoded bytes; 0 = off */
	double		  subject_caps_ratio;	/* capitals / letters */
	long long	  subject_min_length;	/* letters before caps counts */
	long long	  subject_punct_run;	/* run of ! or ? that flags */
	double		  subject_punct_ratio;	/* !? over visible chars; 0 = off */
	long long	  image_only_text_min;	/* alphanumerics that are "text" */
	struct content_rule *rules;
	size_t		  nrules;
	struct pcre2_real_match_context_8 *mctx; /* limits for every match */
	struct psl_ctx_st *psl;			/* public suffix list, or NULL */
	int		  psl_owned;		/* psl must be psl_free()d */
};

/* ---- configuration ---- */

/*
 * Fill an uninitialised cc with the defaults: the built-in extension lists,
 * the installed shortener list (DATADIR/shorteners.txt, else a small
 * built-in one) and the public suffix list (libpsl's installed file, else
 * its built-in copy). Returns 0, or -1 on allocation failure (call
 * content_config_fini() either way).
 */
EGRESS_WUR int	content_config_defaults(struct content_config *);
/* Free what cc owns; cc may then be passed to _defaults again. */
void		content_config_fini(struct content_config *);

/*
 * Parse the `content` section (section may be NULL: defaults stay). Relative
 * file names resolve against confdir. Rules are compiled here with the PCRE2
 * limits of `limits`. Errors are recorded in errs; returns -1 if any.
 */
int	content_config_load(struct content_config *,
	    const config_setting_t *section, const char *confdir,
	    const struct limits *, struct cfg_errors *errs);

/*
 * Read a shortener list (one host a line, # comments) into cc, replacing
 * the current one. Returns 0, or -1 with errno set.
 */
EGRESS_WUR int	content_shorteners_read(struct content_config *,
		    const char *path);

/*
 * Compile the `rules` list into cc->rules (replacing any), with the PCRE2
 * limits of `limits`. Called by content_config_load(); returns -1 after
 * recording errors that name the rule id and the pattern offset.
 */
int	content_rules_load(struct content_config *, const config_setting_t *list,
	    const struct limits *, struct cfg_errors *errs);
void	content_rules_fini(struct content_config *);

/* The operator rule with this finding id ("rule.x"), or NULL. Borrowed. */
const struct content_rule *content_rule_lookup(const struct content_config *,
		    const char *id);

/* ---- the per-message scan ---- */

struct content_scan;

/*
 * New scan for one message. cc, limits and findings are borrowed and must
 * outlive the scan. Returns NULL on allocation failure.
 */
struct content_scan *content_scan_new(const struct content_config *,
		    const struct limits *, struct findings *);
/*
 * Fill *out with callbacks whose ctx is the scan, for mime_parser_new().
 * The callbacks return -1 only on allocation failure; after one, every
 * later call fails too.
 */
void	content_scan_handler(struct content_scan *, struct mime_handler *out);
/*
 * After mime_parser_finish(): emit whole-message findings (url count,
 * html_only, image_only). Returns 0, or -1 on resource failure.
 */
EGRESS_WUR int	content_scan_finish(struct content_scan *);
void	content_scan_free(struct content_scan *);

/* ---- building blocks, exposed for tests, fuzzing and egressctl ---- */

/*
 * URL extraction. A link_scanner is fed decoded text in chunks of any size
 * and calls back once per URL; the results do not depend on the chunking.
 * `anchor` is the decoded, whitespace-collapsed text of the enclosing <a>
 * (NULL for bare URLs and other attributes), `attr` is "href", "src",
 * "action" (form targets) or NULL for URLs found in text. Callbacks return 0, or -1 to abort the feed with -1.
 */
typedef int (*link_cb)(void *ctx, const char *url, size_t len,
	    const char *anchor, const char *attr);

struct link_scanner;

struct link_scanner *link_scanner_new(int html, link_cb, void *ctx);
EGRESS_WUR int	link_scanner_feed(struct link_scanner *, const char *, size_t);
EGRESS_WUR int	link_scanner_finish(struct link_scanner *);
/* Alphanumerics in visible text so far (HTML: outside tags/script/style). */
size_t	link_scanner_text_chars(const struct link_scanner *);
/*
 * Stop counting them once there are cap (link_scanner_text_chars() then
 * says cap or more); the default counts all.
 */
void	link_scanner_text_cap(struct link_scanner *, size_t cap);
/* <img> tags seen so far (HTML). */
size_t	link_scanner_images(const struct link_scanner *);
void	link_scanner_free(struct link_scanner *);

/* Per-message URL verdict state: each content.url.* id fires once. */
struct link_state {
	size_t	count;		/* URLs with a host seen */
	unsigned fired;		/* bit per URL finding (internal) */
};

/*
 * Check one URL (as extracted) and its anchor text; add content.url.*
 * findings not yet fired in st. Returns 0 or -1 (allocation).
 */
EGRESS_WUR int	link_check(const struct content_config *, struct link_state *,
		    struct findings *, const char *url, size_t len,
		    const char *anchor, const char *attr);

/*
 * Host of an absolute or protocol-relative URL (or www. form), lowercased,
 * %XX-decoded, into out (NUL-terminated, cut at outsz). Returns 1 when a
 * host was found; *userinfo is set when an '@' precedes it.
 */
int	link_url_host(const char *url, size_t len, char *out, size_t outsz,
	    int *userinfo);
/* Non-zero for IPv4 in any inet_aton form (dec/hex/octal) or [IPv6]. */
int	link_host_is_ip(const char *host);
/* Non-zero when a label of host decodes to a lookalike (see links.c). */
int	link_host_is_punycode_mixed(const char *host);

/*
 * Attachments. One attach_scan per leaf part; feed the decoded data.
 */
struct attach_scan;

struct attach_scan *attach_scan_new(const struct content_config *,
		    struct findings *, const char *filename, const char *type,
		    const char *disposition);
EGRESS_WUR int	attach_scan_feed(struct attach_scan *, const char *, size_t);
/*
 * Bytes of the part past what the MIME reader delivers (its part_tail),
 * after every attach_scan_feed(): they are counted and kept only in the
 * archive tail window (ZIP central directory, 7z end header); no sniffing,
 * header walk or macro search sees them. Returns 0, 1 when the part is no
 * archive read from its end (more bytes are not needed; the size then comes
 * from attach_scan_finish's decoded_size), or -1 on allocation failure.
 */
EGRESS_WUR int	attach_scan_tail(struct attach_scan *, const char *, size_t);
/* decoded_size: the parser's count of decoded bytes (0 = use our own). */
EGRESS_WUR int	attach_scan_finish(struct attach_scan *, size_t decoded_size);
/* Sniffed kind name: "pe", "elf", "macho", "script", "ole", "zip", ... */
const char *attach_scan_kind(const struct attach_scan *);
void	attach_scan_free(struct attach_scan *);

/* Name checks on their own (non-zero on hit). */
int	attach_name_dangerous(const struct content_config *, const char *name);
/* Non-zero when the last extension is on the scored (risky) list. */
int	attach_name_risky(const struct content_config *, const char *name);
int	attach_name_double_ext(const struct content_config *, const char *name);
int	attach_name_macro(const struct content_config *, const char *name);

/* Subject checks on an already decoded subject. */
EGRESS_WUR int	content_subject_check(const struct content_config *,
		    struct findings *, const char *subject);

/*
 * Rules. A rule_matcher holds per-scan match data. rule_match_text() runs
 * every rule of `target` (and, for TARGET_HEADER, of that header name) on
 * text and adds "rule.<name>" once per rule per matcher.
 */
struct rule_matcher;

struct rule_matcher *rule_matcher_new(const struct content_config *,
		    struct findings *);
EGRESS_WUR int	rule_match_text(struct rule_matcher *, enum content_target,
		    const char *header, const char *text, size_t len);
/* Streamed body text: windows of CONTENT_RULE_WINDOW with overlap. */
EGRESS_WUR int	rule_body_feed(struct rule_matcher *, const char *, size_t);
EGRESS_WUR int	rule_body_end(struct rule_matcher *);
/* Where the next rule findings go (the list given at creation by default). */
void	rule_matcher_set_findings(struct rule_matcher *, struct findings *);
/* Matches given up on a PCRE2 match/depth/heap limit so far. */
size_t	rule_matcher_limit_hits(const struct rule_matcher *);
void	rule_matcher_free(struct rule_matcher *);

#endif
