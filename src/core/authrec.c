/*
 * authrec.c - DMARC record, DKIM key record and DKIM-Signature tag parsers.
 *
 * Bounded: every value is cut at AUTHREC_TAG_MAX bytes (a cut key fails to
 * parse, it is never measured wrong); the DER walk of a key checks every
 * length against the bytes it has. No allocation.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "egress/authrec.h"

int
authrec_tags(const char *list, int strip_ws, authrec_tag_fn *fn, void *arg)
{
	char name[64], value[AUTHREC_TAG_MAX];
	const char *p = list;
	int r;

	for (;;) {
		size_t n = 0, v = 0;

		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p == '\0')
			return 0;
		if (*p == ';') {	/* empty element, e.g. a trailing ';' */
			p++;
			continue;
		}
		while (*p && *p != '=' && *p != ';') {
			if (!isspace((unsigned char)*p) && n + 1 < sizeof(name))
				name[n++] = *p;
			else if (!isspace((unsigned char)*p))
				return -1;
			p++;
		}
		name[n] = '\0';
		if (*p != '=' || n == 0)
			return -1;
		p++;
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		while (*p && *p != ';') {
			if (!(strip_ws && isspace((unsigned char)*p)) && v + 1 < sizeof(value))
				value[v++] = *p;
			p++;
		}
		while (v > 0 && isspace((unsigned char)value[v - 1]))
			v--;
		value[v] = '\0';
		if ((r = fn(arg, name, value)) != 0)
			return r;
		if (*p == ';')
			p++;
	}
}

/* ------------------------------------------------------------------ DMARC */

int
dmarc_is_record(const char *txt)
{
	while (*txt == ' ' || *txt == '\t')
		txt++;
	if (strncasecmp(txt, "v", 1) != 0)
		return 0;
	txt++;
	while (*txt == ' ' || *txt == '\t')
		txt++;
	if (*txt++ != '=')
		return 0;
	while (*txt == ' ' || *txt == '\t')
		txt++;
	return strncasecmp(txt, "DMARC1", 6) == 0 &&
	    (txt[6] == '\0' || txt[6] == ';' || txt[6] == ' ' || txt[6] == '\t');
}

const char *
dmarc_policy_name(enum dmarc_policy p)
{
	switch (p) {
	case DMARC_P_NONE: return "none";
	case DMARC_P_QUARANTINE: return "quarantine";
	case DMARC_P_REJECT: return "reject";
	case DMARC_P_UNSET: break;
	}
	return "unset";
}

static int
policy_parse(const char *v, enum dmarc_policy *out)
{
	if (strcasecmp(v, "none") == 0)
		*out = DMARC_P_NONE;
	else if (strcasecmp(v, "quarantine") == 0)
		*out = DMARC_P_QUARANTINE;
	else if (strcasecmp(v, "reject") == 0)
		*out = DMARC_P_REJECT;
	else
		return -1;
	return 0;
}

struct dmarc_walk {
	struct dmarc_record *rec;
	unsigned	 seen;	/* bit per known tag, for repeats */
	int		 first;
};

static int
dmarc_tag(void *arg, const char *name, const char *value)
{
	static const char *const known[] = { "v", "p", "sp", "np", "adkim",
	    "aspf", "pct", "t", "rua", NULL };
	struct dmarc_walk *w = arg;
	struct dmarc_record *r = w->rec;
	unsigned i;

	if (w->first) {
		w->first = 0;
		if (strcasecmp(name, "v") != 0 || strcasecmp(value, "DMARC1") != 0) {
			snprintf(r->error, sizeof(r->error), "v=DMARC1 is not the first tag");
			return -2;
		}
	}
	for (i = 0; known[i]; i++)
		if (strcasecmp(name, known[i]) == 0)
			break;
	if (known[i] == NULL)
		return 0;	/* ri, rf, fo, ruf, psd...: not needed here */
	if (w->seen & (1u << i)) {
		snprintf(r->error, sizeof(r->error), "tag %s repeated", known[i]);
		return -2;
	}
	w->seen |= 1u << i;
	switch (i) {
	case 1:
		if (policy_parse(value, &r->p) != 0)
			goto bad;
		break;
	case 2:
		if (policy_parse(value, &r->sp) != 0)
			goto bad;
		break;
	case 3:
		if (policy_parse(value, &r->np) != 0)
			goto bad;
		break;
	case 4:
	case 5:
		if ((value[0] != 'r' && value[0] != 's') || value[1] != '\0')
			goto bad;
		if (i == 4)
			r->adkim = value[0];
		else
			r->aspf = value[0];
		break;
	case 6: {
		char *end;
		long v = strtol(value, &end, 10);

		if (end == value || *end != '\0' || v < 0 || v > 100)
			goto bad;
		r->pct = (int)v;
		break;
	}
	case 7:
		r->testing = value[0] == 'y' || value[0] == 'Y';
		break;
	case 8:
		snprintf(r->rua, sizeof(r->rua), "%s", value);
		break;
	}
	return 0;
bad:
	snprintf(r->error, sizeof(r->error), "bad value for %s: \"%.40s\"", known[i], value);
	return -2;
}

int
dmarc_record_parse(const char *txt, struct dmarc_record *rec)
{
	struct dmarc_walk w = { rec, 0, 1 };
	int r;

	memset(rec, 0, sizeof(*rec));
	rec->p = rec->sp = rec->np = DMARC_P_UNSET;
	rec->adkim = rec->aspf = 'r';
	rec->pct = 100;
	r = authrec_tags(txt, 0, dmarc_tag, &w);
	if (r == -1)
		snprintf(rec->error, sizeof(rec->error), "not a tag list");
	if (r != 0)
		return -1;
	if (w.first) {
		snprintf(rec->error, sizeof(rec->error), "empty record");
		return -1;
	}
	if (rec->p == DMARC_P_UNSET) {
		/* RFC 7489 section 6.6.3: a record without p is not a policy */
		snprintf(rec->error, sizeof(rec->error), "no p= tag");
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------- DKIM */

static int
b64val(int ch)
{
	if (ch >= 'A' && ch <= 'Z') return ch - 'A';
	if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9') return ch - '0' + 52;
	if (ch == '+') return 62;
	if (ch == '/') return 63;
	return -1;
}

/* Decode base64 (no whitespace left); returns bytes or -1. */
static long
b64_decode(const char *s, unsigned char *out, size_t outlen)
{
	unsigned long acc = 0;
	size_t n = 0;
	int bits = 0, pad = 0;

	for (; *s; s++) {
		int v;

		if (*s == '=') {
			pad++;
			continue;
		}
		if (pad || (v = b64val((unsigned char)*s)) < 0)
			return -1;
		acc = (acc << 6) | (unsigned long)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= outlen)
				return -1;
			out[n++] = (unsigned char)(acc >> bits);
			acc &= (1ul << bits) - 1;
		}
	}
	return pad > 2 ? -1 : (long)n;
}

/* Read a DER tag and length at *p; sets *len; returns the tag or -1. */
static int
der_next(const unsigned char **p, const unsigned char *end, size_t *len)
{
	int tag;
	size_t l, i, nb;

	if (end - *p < 2)
		return -1;
	tag = *(*p)++;
	l = *(*p)++;
	if (l & 0x80) {
		nb = l & 0x7f;
		if (nb == 0 || nb > 4 || (size_t)(end - *p) < nb)
			return -1;
		for (l = 0, i = 0; i < nb; i++)
			l = (l << 8) | *(*p)++;
	}
	if (l > (size_t)(end - *p))
		return -1;
	*len = l;
	return tag;
}

/* Modulus bits of an RSAPublicKey SEQUENCE { INTEGER n, INTEGER e }. */
static unsigned
rsa_pubkey_bits(const unsigned char *p, const unsigned char *end)
{
	size_t len;
	unsigned bits;

	if (der_next(&p, end, &len) != 0x30)
		return 0;
	end = p + len;
	if (der_next(&p, end, &len) != 0x02 || len == 0)
		return 0;
	while (len > 0 && *p == 0) {
		p++;
		len--;
	}
	if (len == 0)
		return 0;
	bits = (unsigned)(len - 1) * 8;
	for (unsigned char top = *p; top; top >>= 1)
		bits++;
	return bits;
}

static unsigned
rsa_key_bits(const unsigned char *der, size_t n)
{
	const unsigned char *p = der, *end = der + n;
	size_t len;
	unsigned bits;

	/* bare RSAPublicKey first (some records carry it) */
	if ((bits = rsa_pubkey_bits(der, end)) >= 256)
		return bits;
	/* SubjectPublicKeyInfo: SEQUENCE { AlgorithmIdentifier, BIT STRING } */
	if (der_next(&p, end, &len) != 0x30)
		return 0;
	end = p + len;
	if (der_next(&p, end, &len) != 0x30)
		return 0;
	p += len;	/* skip the algorithm identifier */
	if (der_next(&p, end, &len) != 0x03 || len < 1 || *p != 0)
		return 0;
	return rsa_pubkey_bits(p + 1, p + len);
}

struct dkim_walk {
	struct dkim_key	*key;
	char		 p[AUTHREC_TAG_MAX];
	int		 have_p;
	int		 first;
};

static int
dkim_key_tag(void *arg, const char *name, const char *value)
{
	struct dkim_walk *w = arg;

	if (w->first) {
		w->first = 0;
		if (strcmp(name, "v") == 0 && strcmp(value, "DKIM1") != 0) {
			snprintf(w->key->error, sizeof(w->key->error), "v=%.20s is not DKIM1", value);
			return -2;
		}
	}
	if (strcmp(name, "k") == 0) {
		w->key->k = strcasecmp(value, "rsa") == 0 ? DKIM_K_RSA :
		    strcasecmp(value, "ed25519") == 0 ? DKIM_K_ED25519 : DKIM_K_OTHER;
	} else if (strcmp(name, "p") == 0) {
		if (w->have_p++) {
			snprintf(w->key->error, sizeof(w->key->error), "tag p repeated");
			return -2;
		}
		snprintf(w->p, sizeof(w->p), "%s", value);
	} else if (strcmp(name, "t") == 0) {
		w->key->testing = strchr(value, 'y') != NULL;
	}
	return 0;
}

int
dkim_key_parse(const char *txt, struct dkim_key *key)
{
	static struct dkim_walk zero;
	struct dkim_walk w = zero;
	unsigned char der[AUTHREC_TAG_MAX];
	long n;
	int r;

	memset(key, 0, sizeof(*key));
	w.key = key;
	w.first = 1;
	if ((r = authrec_tags(txt, 1, dkim_key_tag, &w)) != 0) {
		if (r == -1)
			snprintf(key->error, sizeof(key->error), "not a tag list");
		return -1;
	}
	if (!w.have_p) {
		snprintf(key->error, sizeof(key->error), "no p= tag");
		return -1;
	}
	if (w.p[0] == '\0') {
		key->revoked = 1;
		return 0;
	}
	if (strlen(w.p) + 1 >= sizeof(w.p)) {
		snprintf(key->error, sizeof(key->error), "key longer than %d bytes", AUTHREC_TAG_MAX);
		return -1;
	}
	if ((n = b64_decode(w.p, der, sizeof(der))) < 0) {
		snprintf(key->error, sizeof(key->error), "p= is not base64");
		return -1;
	}
	switch (key->k) {
	case DKIM_K_ED25519:
		if (n != 32) {
			snprintf(key->error, sizeof(key->error), "ed25519 key is %ld octets, not 32", n);
			return -1;
		}
		key->bits = 256;
		return 0;
	case DKIM_K_RSA:
		if ((key->bits = rsa_key_bits(der, (size_t)n)) == 0) {
			snprintf(key->error, sizeof(key->error), "p= is not an RSA public key");
			return -1;
		}
		return 0;
	default:
		snprintf(key->error, sizeof(key->error), "unknown key type");
		return -1;
	}
}

static int
sig_tag(void *arg, const char *name, const char *value)
{
	struct dkim_sig *s = arg;

	if (strcmp(name, "d") == 0)
		snprintf(s->d, sizeof(s->d), "%s", value);
	else if (strcmp(name, "s") == 0)
		snprintf(s->s, sizeof(s->s), "%s", value);
	else if (strcmp(name, "a") == 0)
		snprintf(s->a, sizeof(s->a), "%s", value);
	return 0;
}

int
dkim_sig_parse(const char *value, struct dkim_sig *sig)
{
	memset(sig, 0, sizeof(*sig));
	if (authrec_tags(value, 1, sig_tag, sig) != 0)
		return -1;
	return sig->d[0] && sig->s[0] ? 0 : -1;
}
