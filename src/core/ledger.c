/*
 * ledger.c - the ledger entry, its codec, the keyed recipient hash, the
 * matching rule and the `ledger` section (ledger.h).
 *
 * Pure and allocation-free apart from the configuration strings: every
 * function works on what it is handed; the key comes from the store, which
 * reads the key file. The decoder is the only parser here and meets bytes
 * from the store (another process, another node): it bounds every field and
 * rejects what it does not recognise, never reading past the length given.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libconfig.h>

#include "egress/cfg.h"
#include "egress/ledger.h"

static const char *const verdict_names[LEDGER__COUNT] = {
	"accepted", "tagged", "repaired", "held", "rejected"
};

static const char *const reason_names[LEDGER__REASONS] = {
	"matched", "no-original-id", "unknown-message", "recipient-not-in-message",
	"sender-mismatch", "local-submission", "own-rejection", "duplicate",
	"batv-invalid", "batv-expired"
};

static const char *const require_names[] = { "strict", "relaxed", "off" };

const char *
ledger_verdict_name(enum ledger_verdict v)
{
	return (unsigned)v < LEDGER__COUNT ? verdict_names[v] : "?";
}

const char *
ledger_reason_name(enum ledger_reason r)
{
	return (unsigned)r < LEDGER__REASONS ? reason_names[r] : "?";
}

const char *
ledger_require_name(enum ledger_require r)
{
	return (unsigned)r < 3 ? require_names[r] : "?";
}

int
ledger_msgid_norm(const char *in, char *out, size_t outlen)
{
	const char *p, *e;
	size_t n, i;

	if (outlen == 0)
		return -1;
	out[0] = '\0';
	if (in == NULL)
		return -1;
	if ((p = strchr(in, '<')) != NULL && (e = strchr(p + 1, '>')) != NULL)
		p++;
	else {
		p = in;
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		e = p + strlen(p);
		while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
		    e[-1] == '\n'))
			e--;
	}
	n = (size_t)(e - p);
	if (n == 0 || n > LEDGER_MSGID_MAX || n + 1 > outlen)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch <= 0x20 || ch == 0x7f || ch == '<' || ch == '>') {
			out[0] = '\0';
			return -1;
		}
		out[i] = (char)ch;
	}
	out[n] = '\0';
	return 0;
}

/* ---- SipHash-2-4 (Aumasson, Bernstein), written from the paper ---- */

static inline uint64_t
rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static inline uint64_t
le64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

#define SIPROUND(v0, v1, v2, v3) do { \
	v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32); \
	v2 += v3; v3 = rotl(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = rotl(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32); \
} while (0)

uint64_t
ledger_siphash(const unsigned char key[LEDGER_KEY_LEN], const void *data,
    size_t len)
{
	const unsigned char *p = data;
	uint64_t k0 = le64(key), k1 = le64(key + 8), m, b;
	uint64_t v0 = k0 ^ 0x736f6d6570736575ULL, v1 = k1 ^ 0x646f72616e646f6dULL;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;
	size_t i, left = len & 7;

	for (i = 0; i + 8 <= len; i += 8) {
		m = le64(p + i);
		v3 ^= m;
		SIPROUND(v0, v1, v2, v3);
		SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	b = (uint64_t)(len & 0xff) << 56;
	for (; left > 0; left--)
		b |= (uint64_t)p[i + left - 1] << (8 * (left - 1));
	v3 ^= b;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t
ledger_rcpt_hash(const unsigned char key[LEDGER_KEY_LEN], const char *addr)
{
	char norm[SENDER_KEY_MAX];
	size_t n = 0;

	if (addr == NULL)
		addr = "";
	while (*addr == ' ' || *addr == '<')
		addr++;
	for (; *addr != '\0' && *addr != '>' && n + 1 < sizeof(norm); addr++)
		norm[n++] = (char)tolower((unsigned char)*addr);
	return ledger_siphash(key, norm, n);
}

/* ---- entries ---- */

static void
copy_bounded(char *dst, size_t dstsz, const char *src)
{
	size_t n;

	dst[0] = '\0';
	if (src == NULL)
		return;
	n = strlen(src);
	if (n >= dstsz)
		return;		/* too long to be what it claims: nothing */
	memcpy(dst, src, n + 1);
}

void
ledger_entry_init(struct ledger_entry *e, const char *msgid_norm,
    const char *qid, const struct sender_keys *keys, int64_t when,
    enum ledger_verdict verdict)
{
	memset(e, 0, offsetof(struct ledger_entry, rcpt));
	copy_bounded(e->msgid, sizeof(e->msgid), msgid_norm);
	copy_bounded(e->qid, sizeof(e->qid), qid);
	if (keys != NULL) {
		copy_bounded(e->env, sizeof(e->env), keys->env);
		copy_bounded(e->auth, sizeof(e->auth), keys->auth);
		copy_bounded(e->dom, sizeof(e->dom), keys->dom);
	}
	e->when = when;
	e->verdict = verdict;
}

void
ledger_entry_add_rcpt(struct ledger_entry *e,
    const unsigned char key[LEDGER_KEY_LEN], const char *addr)
{
	uint64_t h = ledger_rcpt_hash(key, addr);

	if (ledger_entry_has_rcpt(e, h))
		return;
	if (e->nrcpt >= LEDGER_RCPTS_MAX) {
		e->truncated = 1;
		return;
	}
	e->rcpt[e->nrcpt++] = h;
}

int
ledger_entry_has_rcpt(const struct ledger_entry *e, uint64_t hash)
{
	size_t i;

	for (i = 0; i < e->nrcpt; i++)
		if (e->rcpt[i] == hash)
			return 1;
	return 0;
}

/* A field of the codec: printable, no tab. */
static int
field_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return 0;
	return 1;
}

int
ledger_encode(const struct ledger_entry *e, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o;
	int n, j;

	if ((unsigned)e->verdict >= LEDGER__COUNT || e->nrcpt > LEDGER_RCPTS_MAX ||
	    !field_ok(e->msgid) || !field_ok(e->qid) || !field_ok(e->env) ||
	    !field_ok(e->auth) || !field_ok(e->dom))
		return -1;
	n = snprintf(out, outlen, "L1\t%lld\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t",
	    (long long)e->when, verdict_names[e->verdict], e->qid, e->msgid,
	    e->env, e->auth, e->dom, e->truncated ? 1 : 0);
	if (n < 0 || (size_t)n >= outlen)
		return -1;
	o = (size_t)n;
	if (o + 16 * e->nrcpt >= outlen)
		return -1;
	for (i = 0; i < e->nrcpt; i++)
		for (j = 60; j >= 0; j -= 4)
			out[o++] = hex[(e->rcpt[i] >> j) & 0xf];
	out[o] = '\0';
	return (int)o;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Copy in[0..n) to a NUL-terminated dst of dstsz: -1 when it does not fit. */
static int
take(char *dst, size_t dstsz, const char *in, size_t n)
{
	size_t i;

	if (n >= dstsz)
		return -1;
	for (i = 0; i < n; i++)
		if ((unsigned char)in[i] < 0x20 || (unsigned char)in[i] == 0x7f)
			return -1;
	memcpy(dst, in, n);
	dst[n] = '\0';
	return 0;
}

int
ledger_decode(const char *in, size_t len, struct ledger_entry *e)
{
	const char *f[10];
	size_t fl[10], i, k, start = 0;
	char num[24];
	int nf = 0, v, d;

	memset(e, 0, offsetof(struct ledger_entry, rcpt));
	if (in == NULL)
		return -1;
	for (i = 0; i <= len && nf < 10; i++)
		if (i == len || in[i] == '\t') {
			if (nf == 9 && i != len)
				continue;	/* the last field runs to the end */
			f[nf] = in + start;
			fl[nf++] = i - start;
			start = i + 1;
		}
	if (nf != 10 || fl[0] != 2 || memcmp(f[0], "L1", 2) != 0)
		return -1;
	if (fl[1] == 0 || take(num, sizeof(num), f[1], fl[1]) != 0)
		return -1;
	for (i = 0; num[i] != '\0'; i++)
		if (!isdigit((unsigned char)num[i]) && !(i == 0 && num[i] == '-'))
			return -1;
	e->when = strtoll(num, NULL, 10);
	for (v = 0; v < LEDGER__COUNT; v++)
		if (strlen(verdict_names[v]) == fl[2] &&
		    memcmp(verdict_names[v], f[2], fl[2]) == 0)
			break;
	if (v == LEDGER__COUNT)
		return -1;
	e->verdict = (enum ledger_verdict)v;
	if (take(e->qid, sizeof(e->qid), f[3], fl[3]) != 0 ||
	    take(e->msgid, sizeof(e->msgid), f[4], fl[4]) != 0 ||
	    take(e->env, sizeof(e->env), f[5], fl[5]) != 0 ||
	    take(e->auth, sizeof(e->auth), f[6], fl[6]) != 0 ||
	    take(e->dom, sizeof(e->dom), f[7], fl[7]) != 0)
		return -1;
	if (fl[8] != 1 || (f[8][0] != '0' && f[8][0] != '1'))
		return -1;
	e->truncated = f[8][0] == '1';
	if (fl[9] % 16 != 0 || fl[9] / 16 > LEDGER_RCPTS_MAX)
		return -1;
	e->nrcpt = fl[9] / 16;
	for (i = 0; i < e->nrcpt; i++) {
		uint64_t h = 0;

		for (k = 0; k < 16; k++) {
			if ((d = hexval((unsigned char)f[9][16 * i + k])) < 0)
				return -1;
			h = h << 4 | (uint64_t)d;
		}
		e->rcpt[i] = h;
	}
	return 0;
}

enum ledger_reason
ledger_match(const struct ledger_entry *e, const char *sender_env,
    uint64_t rcpt_hash)
{
	if (e->verdict == LEDGER_REJECTED)
		return LEDGER_OWN_REJECTION;
	if (sender_env != NULL && sender_env[0] != '\0' &&
	    strcasecmp(sender_env, e->env) != 0)
		return LEDGER_SENDER_MISMATCH;
	if (!ledger_entry_has_rcpt(e, rcpt_hash))
		return LEDGER_RCPT_NOT_IN_MESSAGE;
	return LEDGER_MATCHED;
}

void
ledger_entry_keys(const struct ledger_entry *e, struct sender_keys *k)
{
	memset(k, 0, sizeof(*k));
	snprintf(k->env, sizeof(k->env), "%s", e->env);
	snprintf(k->auth, sizeof(k->auth), "%s", e->auth);
	snprintf(k->dom, sizeof(k->dom), "%s", e->dom);
	if (strncmp(e->env, "env:", 4) == 0)
		snprintf(k->addr, sizeof(k->addr), "%s", e->env + 4);
}

void
ledger_mark(const unsigned char key[LEDGER_KEY_LEN], const char *msgid,
    const char *rcpt, const char *status, char out[LEDGER_MARK_MAX])
{
	char buf[LEDGER_MSGID_MAX + 2 * SENDER_KEY_MAX + 32];
	uint64_t h1, h2;
	unsigned char k2[LEDGER_KEY_LEN];
	size_t i;
	int n;

	n = snprintf(buf, sizeof(buf), "%s\n%016llx\n%s", msgid ? msgid : "",
	    (unsigned long long)ledger_rcpt_hash(key, rcpt), status ? status : "");
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(buf))
		n = (int)sizeof(buf) - 1;
	h1 = ledger_siphash(key, buf, (size_t)n);
	/* a second, independent hash: the key with every byte flipped */
	for (i = 0; i < LEDGER_KEY_LEN; i++)
		k2[i] = (unsigned char)(key[i] ^ 0xa5);
	h2 = ledger_siphash(k2, buf, (size_t)n);
	snprintf(out, LEDGER_MARK_MAX, "%016llx%016llx", (unsigned long long)h1,
	    (unsigned long long)h2);
}

int
ledger_key_parse(const char *text, size_t len, unsigned char key[LEDGER_KEY_LEN])
{
	size_t i = 0, k;
	int hi, lo;

	while (i < len && isspace((unsigned char)text[i]))
		i++;
	if (len - i < 2 * LEDGER_KEY_LEN)
		return -1;
	for (k = 0; k < LEDGER_KEY_LEN; k++) {
		hi = hexval(tolower((unsigned char)text[i + 2 * k]));
		lo = hexval(tolower((unsigned char)text[i + 2 * k + 1]));
		if (hi < 0 || lo < 0)
			return -1;
		key[k] = (unsigned char)(hi << 4 | lo);
	}
	for (i += 2 * LEDGER_KEY_LEN; i < len; i++)
		if (!isspace((unsigned char)text[i]))
			return -1;
	return 0;
}

/* ---- the `ledger` section ---- */

void
ledger_conf_default(struct ledger_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->enabled = 1;
	c->ttl = 7 * 86400;
	c->max_entries = 1000000;
	c->key_file = NULL;
	c->require = LEDGER_STRICT;
}

void
ledger_conf_fini(struct ledger_conf *c)
{
	if (c == NULL)
		return;
	free(c->key_file);
	c->key_file = NULL;
}

static const char *const ledger_keys[] = {
	"enabled", "ttl", "max_entries", "key_file", "require_match", NULL
};

int
ledger_config_load(struct ledger_conf *c, const config_setting_t *grp,
    struct cfg_errors *errs)
{
	char *s = NULL;
	int bad = 0, rc, i;

	if (grp == NULL)
		return 0;
	cfg_allow_keys(grp, ledger_keys, errs);
	if (cfg_bool(grp, "enabled", &c->enabled, errs) < 0 ||
	    cfg_duration(grp, "ttl", 3600, 400 * 86400LL, &c->ttl, errs) < 0 ||
	    cfg_int(grp, "max_entries", 1000, 1000000000LL, &c->max_entries, errs) < 0 ||
	    cfg_string(grp, "key_file", &c->key_file, errs) < 0)
		bad = 1;
	if (c->key_file != NULL && c->key_file[0] == '\0') {
		free(c->key_file);
		c->key_file = NULL;
	}
	rc = cfg_string(grp, "require_match", &s, errs);
	if (rc == 1) {
		for (i = 0; i < 3; i++)
			if (strcmp(s, require_names[i]) == 0)
				break;
		if (i == 3) {
			cfg_error(errs, config_setting_get_member(grp, "require_match"),
			    "require_match", "\"%s\": use \"strict\", \"relaxed\" or \"off\"",
			    s);
			bad = 1;
		} else
			c->require = (enum ledger_require)i;
	} else if (rc < 0)
		bad = 1;
	free(s);
	return bad ? -1 : 0;
}
