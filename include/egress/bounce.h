/*
 * bounce - the `bounce` configuration section.
 *
 *   bounce = {
 *     enabled = true;          # recognise and classify bounces in the milter
 *     patterns = "bounce-patterns.conf";  # relative: to the config's directory
 *     log_json = "";           # JSON-lines file, one object per recipient
 *     add_header = false;      # X-Egress-Bounce on recognised bounces
 *     header_name = "X-Egress-Bounce";
 *     text_limit = "256K";     # text kept per part of a bounce
 *   };
 *
 * The pattern file is compiled at load, so a bad pattern is a config error
 * (file, line, offset) and the daemon never starts with it. The compiled
 * classifier belongs to the snapshot and is freed with it.
 */
#ifndef EGRESS_BOUNCE_H
#define EGRESS_BOUNCE_H

#include <libconfig.h>

struct cfg_errors;
struct classifier;
struct limits;

#define BOUNCE_PATTERNS_FILE	"bounce-patterns.conf"
#define BOUNCE_HEADER_DEFAULT	"X-Egress-Bounce"

struct bounce_conf {
	int			 enabled;
	char			*patterns;	/* resolved path, or NULL: built in */
	char			*log_json;	/* NULL: no JSON-lines file */
	int			 add_header;
	char			*header_name;
	long long		 text_limit;
	int			 pcre2_only;	/* engine = "pcre2" */
	struct classifier	*classifier;	/* owned; NULL: codes only */
};

/* Defaults; no pattern file is read. Returns 0 or -1 (out of memory). */
int	bounce_conf_default(struct bounce_conf *);
void	bounce_conf_fini(struct bounce_conf *);
/*
 * Parse the section (grp may be NULL: defaults) and compile the patterns.
 * An explicit `patterns` that cannot be loaded is an error; without one the
 * installed file is used when present (SYSCONFDIR, then DATADIR), else only
 * status and reply codes classify. limits may be NULL. Returns 0 or -1.
 */
int	bounce_config_load(struct bounce_conf *, const config_setting_t *grp,
	    const char *confdir, const struct limits *limits,
	    struct cfg_errors *errs) __attribute__((warn_unused_result));

/* The pattern file egressctl uses without a config: first readable of the
 * installed copies, or NULL. Returns a pointer to a static string. */
const char	*bounce_default_patterns(void);

#endif
