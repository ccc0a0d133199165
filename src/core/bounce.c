/*
 * bounce - the `bounce` configuration section and its compiled patterns.
 *
 * Loaded once per configuration snapshot, from config_load(); the
 * classifier it compiles is immutable and shared by every connection that
 * holds the snapshot. Nothing here runs per message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "egress/bounce.h"
#include "egress/classify.h"
#include "egress/cfg.h"
#include "egress/limits.h"
#include "egress/dsn.h"
#include "egress/rfc5322.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#ifndef DATADIR
#define DATADIR "/usr/share/milter-egress"
#endif

#define BOUNCE_TEXT_LIMIT_MAX	(16LL * 1024 * 1024)

/* src/core/bounce_builtin.c, generated from conf/bounce-patterns.conf. */
extern const char bounce_builtin_patterns[];

int
bounce_conf_default(struct bounce_conf *b)
{
	memset(b, 0, sizeof(*b));
	b->enabled = 1;
	b->add_header = 0;
	b->text_limit = DSN_TEXT_LIMIT;
	if ((b->header_name = strdup(BOUNCE_HEADER_DEFAULT)) == NULL)
		return -1;
	return 0;
}

void
bounce_conf_fini(struct bounce_conf *b)
{
	free(b->patterns);
	free(b->log_json);
	free(b->header_name);
	classifier_free(b->classifier);
	memset(b, 0, sizeof(*b));
}

const char *
bounce_default_patterns(void)
{
	static const char *const paths[] = {
		SYSCONFDIR "/milter-egress/" BOUNCE_PATTERNS_FILE,
		DATADIR "/" BOUNCE_PATTERNS_FILE,
		NULL
	};
	size_t i;

	for (i = 0; paths[i]; i++)
		if (access(paths[i], R_OK) == 0)
			return paths[i];
	return NULL;
}

/*
 * engine: "vectorscan" (the default: one scan of a diagnostic for every
 * line, PCRE2 confirming, PCRE2 alone where Vectorscan cannot take a line)
 * or "pcre2" (every line tried in file order). The second exists because
 * Vectorscan 5.4.9, the version Debian 12 ships, has accelerator defects
 * that miss matches past the first 64 bytes of a text for some sets of
 * patterns; the shipped set is checked against PCRE2 in the tests, an
 * operator's own set is not.
 */
static void
engine_key(const config_setting_t *grp, int *pcre2_only, struct cfg_errors *e)
{
	char *s = NULL;

	if (cfg_string(grp, "engine", &s, e) == 1) {
		if (strcmp(s, "pcre2") == 0)
			*pcre2_only = 1;
		else if (strcmp(s, "vectorscan") == 0)
			*pcre2_only = 0;
		else {
			cfg_error(e, config_setting_get_member(grp, "engine"),
			    "bounce.engine", "\"%s\": use \"vectorscan\" or "
			    "\"pcre2\"", s);
		}
	}
	free(s);
}

int
bounce_config_load(struct bounce_conf *b, const config_setting_t *grp,
    const char *confdir, const struct limits *limits, struct cfg_errors *e)
{
	static const char *const keys[] = { "enabled", "patterns", "log_json",
	    "add_header", "header_name", "text_limit", "engine", NULL };
	struct classify_limits cl, *clp = NULL;
	char *pat = NULL;
	const char *path;
	int explicit = 0, before = e->count;

	if (grp) {
		cfg_allow_keys(grp, keys, e);
		cfg_bool(grp, "enabled", &b->enabled, e);
		cfg_bool(grp, "add_header", &b->add_header, e);
		cfg_header_name(grp, "header_name", &b->header_name, e);
		if (cfg_string(grp, "log_json", &b->log_json, e) > 0 &&
		    b->log_json[0] == '\0') {
			free(b->log_json);
			b->log_json = NULL;
		}
		cfg_size(grp, "text_limit", 1024, BOUNCE_TEXT_LIMIT_MAX,
		    &b->text_limit, e);
		if (cfg_string(grp, "patterns", &pat, e) > 0)
			explicit = 1;
		engine_key(grp, &b->pcre2_only, e);
	}
	if (e->count > before) {
		free(pat);
		return -1;
	}
	/* relative paths are relative to the configuration file */
	if (explicit && pat[0] != '/' && confdir) {
		size_t n = strlen(confdir) + strlen(pat) + 2;
		char *full = malloc(n);

		if (full == NULL) {
			free(pat);
			cfg_error(e, NULL, "bounce.patterns", "out of memory");
			return -1;
		}
		snprintf(full, n, "%s/%s", confdir, pat);
		free(pat);
		pat = full;
	}
	if (!explicit) {
		/* next to the config file first, then the installed copies */
		if (confdir) {
			size_t n = strlen(confdir) + sizeof(BOUNCE_PATTERNS_FILE) + 2;

			if ((pat = malloc(n)) == NULL) {
				cfg_error(e, NULL, "bounce.patterns", "out of memory");
				return -1;
			}
			snprintf(pat, n, "%s/%s", confdir, BOUNCE_PATTERNS_FILE);
			if (access(pat, R_OK) != 0) {
				free(pat);
				pat = NULL;
			}
		}
		if (pat == NULL && (path = bounce_default_patterns()) != NULL &&
		    (pat = strdup(path)) == NULL) {
			cfg_error(e, NULL, "bounce.patterns", "out of memory");
			return -1;
		}
	}
	free(b->patterns);
	b->patterns = pat;
	if (limits) {
		cl.match_limit = (unsigned long)limits->pcre2_match_limit;
		cl.depth_limit = (unsigned long)limits->pcre2_depth_limit;
		cl.heap_limit_kib = (unsigned long)limits->pcre2_heap_limit;
		clp = &cl;
	}
	classifier_free(b->classifier);
	/* No file anywhere: the shipped patterns compiled into the binary. */
	if (pat == NULL)
		b->classifier = classifier_load_string(bounce_builtin_patterns,
		    "(built-in bounce-patterns.conf)", clp, e);
	else
		b->classifier = classifier_load(pat, clp, e);
	if (b->classifier && b->pcre2_only)
		classifier_use_pcre2(b->classifier);
	return b->classifier == NULL ? -1 : 0;
}
