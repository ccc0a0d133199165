/*
 * dns.c - the query bound and trace around a caller-supplied resolver, and
 * the address helpers the checks share (reverse names, canonical forms).
 *
 * Pure: the only I/O is whatever the caller's query function does.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "egress/dns.h"

void
dns_client_init(struct dns_client *c, dns_query_fn *fn, void *arg,
    unsigned budget)
{
	memset(c, 0, sizeof(*c));
	c->query = fn;
	c->arg = arg;
	c->budget = budget ? budget : DNS_DEFAULT_BUDGET;
}

/* A name a resolver could be asked for: 1..255 bytes, no empty label. */
static int
name_ok(const char *name)
{
	size_t n = strlen(name), label = 0, i;

	if (n == 0 || n > DNS_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];

		if (ch == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if (ch <= ' ' || ch >= 0x7f) {
			return 0;
		} else if (++label > 63) {
			return 0;
		}
	}
	return label > 0;
}

static void
trace_add(struct dns_client *c, const char *name, enum dns_type type,
    const struct dns_answer *a)
{
	struct dns_trace *t;
	size_t i, j;

	if (c->ntrace >= DNS_TRACE_MAX)
		return;
	t = &c->trace[c->ntrace++];
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->type = type;
	t->status = a->status;
	t->nrr = a->nrr;
	t->first[0] = '\0';
	if (a->nrr > 0) {
		for (i = j = 0; a->rr[0].data[i] && j + 1 < sizeof(t->first); i++) {
			unsigned char ch = (unsigned char)a->rr[0].data[i];

			t->first[j++] = ch >= ' ' && ch < 0x7f ? (char)ch : '?';
		}
		t->first[j] = '\0';
	}
}

enum dns_status
dns_ask(struct dns_client *c, const char *name, enum dns_type type,
    struct dns_answer *out)
{
	memset(out, 0, offsetof(struct dns_answer, rr));
	if (!name_ok(name)) {
		out->status = DNS_NXDOMAIN;
		return out->status;
	}
	if (c->budget == 0) {
		out->status = DNS_BUDGET;
		trace_add(c, name, type, out);
		return out->status;
	}
	c->budget--;
	c->asked++;
	if (c->query(c->arg, name, type, out) != 0)
		out->status = DNS_ERROR;
	if (out->nrr > DNS_MAX_RR)
		out->nrr = DNS_MAX_RR;
	trace_add(c, name, type, out);
	return out->status;
}

int
dns_status_is_failure(enum dns_status st)
{
	return st != DNS_OK && st != DNS_NXDOMAIN;
}

const char *
dns_status_name(enum dns_status st)
{
	switch (st) {
	case DNS_OK: return "ok";
	case DNS_NXDOMAIN: return "nxdomain";
	case DNS_SERVFAIL: return "servfail";
	case DNS_TIMEOUT: return "timeout";
	case DNS_REFUSED: return "refused";
	case DNS_BUDGET: return "query-limit";
	case DNS_ERROR: return "error";
	}
	return "error";
}

const char *
dns_type_name(enum dns_type t)
{
	switch (t) {
	case DNS_T_A: return "A";
	case DNS_T_NS: return "NS";
	case DNS_T_CNAME: return "CNAME";
	case DNS_T_PTR: return "PTR";
	case DNS_T_MX: return "MX";
	case DNS_T_TXT: return "TXT";
	case DNS_T_AAAA: return "AAAA";
	}
	return "?";
}

int
dns_addr_canon(const char *addr, char *out, size_t outlen)
{
	unsigned char bin[sizeof(struct in6_addr)];

	if (inet_pton(AF_INET, addr, bin) == 1)
		return inet_ntop(AF_INET, bin, out, (socklen_t)outlen) ? 4 : 0;
	if (inet_pton(AF_INET6, addr, bin) == 1)
		return inet_ntop(AF_INET6, bin, out, (socklen_t)outlen) ? 6 : 0;
	return 0;
}

int
dns_reverse_name(const char *addr, const char *zone, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char bin[sizeof(struct in6_addr)];
	char tmp[DNS_NAME_MAX + 2];
	size_t n = 0;
	int i, w;

	if (inet_pton(AF_INET, addr, bin) == 1) {
		w = snprintf(tmp, sizeof(tmp), "%u.%u.%u.%u.%s", bin[3], bin[2],
		    bin[1], bin[0], zone);
		if (w < 0 || (size_t)w >= sizeof(tmp))
			return -1;
		n = (size_t)w;
	} else if (inet_pton(AF_INET6, addr, bin) == 1) {
		for (i = 15; i >= 0; i--) {
			tmp[n++] = hex[bin[i] & 0xf];
			tmp[n++] = '.';
			tmp[n++] = hex[bin[i] >> 4];
			tmp[n++] = '.';
		}
		w = snprintf(tmp + n, sizeof(tmp) - n, "%s", zone);
		if (w < 0 || (size_t)w >= sizeof(tmp) - n)
			return -1;
		n += (size_t)w;
	} else {
		return -1;
	}
	if (n > DNS_NAME_MAX || n + 1 > outlen)
		return -1;
	memcpy(out, tmp, n + 1);
	return 0;
}
