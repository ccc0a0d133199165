/*
 * batv.c - prvs tags (batv.h): sign, check, and the `batv` section.
 *
 * Pure apart from reading the key file at configuration load (as the
 * bounce section reads its pattern file). Linear in the address; nothing
 * is allocated but the configuration's strings.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libconfig.h>

#include "egress/batv.h"
#include "egress/cfg.h"

static const char *const result_names[] = { "untagged", "valid", "bad", "expired" };

const char *
batv_result_name(enum batv_result r)
{
	return (unsigned)r < 4 ? result_names[r] : "?";
}

/* Six hex digits of the keyed hash of K, DDD and the lower-cased address. */
static void
tag_hash(const unsigned char key[LEDGER_KEY_LEN], int keynum, int day,
    const char *addr, size_t alen, char out[7])
{
	char buf[BATV_ADDR_MAX + 8];
	size_t n, i;
	uint64_t h;

	n = (size_t)snprintf(buf, sizeof(buf), "%d%03d ", keynum, day);
	for (i = 0; i < alen && n + 1 < sizeof(buf); i++)
		buf[n++] = (char)tolower((unsigned char)addr[i]);
	h = ledger_siphash(key, buf, n);
	snprintf(out, 7, "%06x", (unsigned)(h >> 40));
}

int
batv_sign(const unsigned char key[LEDGER_KEY_LEN], int keynum, long long today,
    long long validity, const char *addr, char *out, size_t outlen)
{
	char h[7];
	size_t alen;
	int day, n;

	if (addr == NULL || strchr(addr, '@') == NULL || keynum < 0 || keynum > 9 ||
	    today < 0 || validity < 0)
		return -1;
	alen = strlen(addr);
	day = (int)((today + validity) % 1000);
	tag_hash(key, keynum, day, addr, alen, h);
	n = snprintf(out, outlen, "prvs=%d%03d%s=%s", keynum, day, h, addr);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

enum batv_result
batv_check(const unsigned char key[LEDGER_KEY_LEN], long long today,
    long long validity, const char *addr, char *orig, size_t origlen)
{
	const char *p, *a;
	char h[7];
	int keynum, day, i, diff;

	if (orig != NULL && origlen > 0)
		snprintf(orig, origlen, "%s", addr != NULL ? addr : "");
	if (addr == NULL || strncasecmp(addr, "prvs=", 5) != 0)
		return BATV_UNTAGGED;
	p = addr + 5;
	/* K DDD HHHHHH '=' then the address */
	for (i = 0; i < 4; i++)
		if (!isdigit((unsigned char)p[i]))
			return BATV_BAD;
	for (i = 4; i < 10; i++)
		if (!isxdigit((unsigned char)p[i]))
			return BATV_BAD;
	if (p[10] != '=')
		return BATV_BAD;
	a = p + 11;
	if (strchr(a, '@') == NULL || strlen(a) + 1 > BATV_ADDR_MAX)
		return BATV_BAD;
	if (orig != NULL && origlen > 0)
		snprintf(orig, origlen, "%s", a);
	keynum = p[0] - '0';
	day = (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
	tag_hash(key, keynum, day, a, strlen(a), h);
	if (strncasecmp(h, p + 4, 6) != 0)
		return BATV_BAD;
	/* days left until the tag's last day, on the 1000-day circle */
	diff = (int)(((day - today % 1000) % 1000 + 1000) % 1000);
	return diff <= validity ? BATV_VALID : BATV_EXPIRED;
}

int
batv_is_sender(const struct batv_conf *c, const char *addr)
{
	const char *at;

	if (addr == NULL || (at = strrchr(addr, '@')) == NULL)
		return 0;
	return strlist_has_ci(&c->senders, at + 1);
}

void
batv_conf_default(struct batv_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->validity = 7;
}

void
batv_conf_fini(struct batv_conf *c)
{
	if (c == NULL)
		return;
	free(c->key_file);
	strlist_free(&c->senders);
	memset(c, 0, sizeof(*c));
}

static const char *const batv_keys[] = {
	"enabled", "key_file", "key_number", "senders", "validity", "refuse_untagged",
	NULL
};

int
batv_config_load(struct batv_conf *c, const config_setting_t *grp,
    struct cfg_errors *errs)
{
	long long days = c->validity * 86400, keynum = c->keynum;
	char text[128];
	size_t i, n;
	FILE *fp;
	int bad = 0;

	if (grp == NULL)
		return 0;
	cfg_allow_keys(grp, batv_keys, errs);
	if (cfg_bool(grp, "enabled", &c->enabled, errs) < 0 ||
	    cfg_string(grp, "key_file", &c->key_file, errs) < 0 ||
	    cfg_int(grp, "key_number", 0, 9, &keynum, errs) < 0 ||
	    cfg_strlist(grp, "senders", &c->senders, errs) < 0 ||
	    cfg_duration(grp, "validity", 86400, 30 * 86400LL, &days, errs) < 0 ||
	    cfg_bool(grp, "refuse_untagged", &c->refuse_untagged, errs) < 0)
		return -1;
	c->keynum = (int)keynum;
	c->validity = days / 86400;
	for (i = 0; i < c->senders.n; i++) {
		char *d = c->senders.v[i];

		if (d[0] == '\0' || strchr(d, '@') != NULL || strpbrk(d, " \t") != NULL) {
			cfg_error(errs, config_setting_get_member(grp, "senders"), "senders",
			    "\"%s\" is not a domain", d);
			bad = 1;
		}
		for (; *d != '\0'; d++)
			*d = (char)tolower((unsigned char)*d);
	}
	if (!c->enabled)
		return bad ? -1 : 0;
	if (c->senders.n == 0) {
		const config_setting_t *w = config_setting_get_member(grp, "senders");

		cfg_error(errs, w != NULL ? w : grp, w != NULL ? "senders" : "batv.senders",
		    "BATV is enabled but no sender domain is listed");
		bad = 1;
	}
	if (c->key_file == NULL || c->key_file[0] == '\0') {
		cfg_error(errs, grp, "batv.key_file",
		    "BATV is enabled but no key_file is given");
		return -1;
	}
	if ((fp = fopen(c->key_file, "r")) == NULL) {
		cfg_error(errs, config_setting_get_member(grp, "key_file"), "key_file",
		    "%s: %s", c->key_file, strerror(errno));
		return -1;
	}
	n = fread(text, 1, sizeof(text) - 1, fp);
	fclose(fp);
	if (ledger_key_parse(text, n, c->key) != 0) {
		cfg_error(errs, config_setting_get_member(grp, "key_file"), "key_file",
		    "%s: not 32 hex digits", c->key_file);
		return -1;
	}
	return bad ? -1 : 0;
}
