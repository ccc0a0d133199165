/*
 * dns_unbound.c - dns_query_fn over libunbound.
 *
 * One context per egressctl run; queries are asynchronous (worker thread,
 * ub_ctx_async(ctx, 1), so libunbound never forks) so each can be given up
 * after diagnose.timeout_ms: a timeout is DNS_TIMEOUT, never an answer.
 * libunbound caches answers by their TTL for the life of the context.
 *
 * With stubs configured, libunbound's built-in local zones that would hide
 * them (it answers NXDOMAIN itself for "test." and the RFC 5737
 * documentation reverse zones) are removed for each stub zone and its
 * parents, and queries to loopback are allowed.
 *
 * Answers are decoded from the wire rdata libunbound returns: addresses as
 * text, names uncompressed in presentation form, TXT strings concatenated.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unbound.h>

#include "dns_unbound.h"

struct dns_unbound {
	struct ub_ctx	*ctx;
	long long	 timeout_ms;
};

struct pending {
	int		 done;
	int		 err;
	struct ub_result *res;
};

static void
on_result(void *arg, int err, struct ub_result *res)
{
	struct pending *p = arg;

	p->done = 1;
	p->err = err;
	p->res = res;
}

struct dns_unbound *
dns_unbound_new(const struct diagnose_conf *dc, char *err, size_t errlen)
{
	struct dns_unbound *u;
	size_t i;
	int r;

	if ((u = calloc(1, sizeof(*u))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	u->timeout_ms = dc->timeout_ms;
	if ((u->ctx = ub_ctx_create()) == NULL) {
		snprintf(err, errlen, "cannot create the libunbound context");
		free(u);
		return NULL;
	}
	if ((r = ub_ctx_async(u->ctx, 1)) != 0)
		goto fail;
	if (dc->trust_anchor && (r = ub_ctx_add_ta_file(u->ctx, dc->trust_anchor)) != 0)
		goto fail;
	if (dc->stubs.n > 0 &&
	    (r = ub_ctx_set_option(u->ctx, "do-not-query-localhost:", "no")) != 0)
		goto fail;
	for (i = 0; i < dc->stubs.n; i++) {
		char zone[DNS_NAME_MAX + 2];
		const char *eq = strchr(dc->stubs.v[i], '=');

		snprintf(zone, sizeof(zone), "%.*s", (int)(eq - dc->stubs.v[i]),
		    dc->stubs.v[i]);
		if ((r = ub_ctx_set_stub(u->ctx, zone, eq + 1, 0)) != 0)
			goto fail;
	}
	/* Last: removing a zone finalizes the context's settings. */
	for (i = 0; i < dc->stubs.n; i++) {
		char zone[DNS_NAME_MAX + 2];
		const char *eq = strchr(dc->stubs.v[i], '='), *z;

		snprintf(zone, sizeof(zone), "%.*s", (int)(eq - dc->stubs.v[i]),
		    dc->stubs.v[i]);
		for (z = zone; z != NULL && *z != '\0';
		    z = strchr(z, '.') ? strchr(z, '.') + 1 : NULL) {
			char dotted[DNS_NAME_MAX + 3];

			snprintf(dotted, sizeof(dotted), "%s.", z);
			(void)ub_ctx_zone_remove(u->ctx, dotted);	/* absent: fine */
		}
	}
	return u;
fail:
	snprintf(err, errlen, "resolver setup: %s", ub_strerror(r));
	ub_ctx_delete(u->ctx);
	free(u);
	return NULL;
}

void
dns_unbound_free(struct dns_unbound *u)
{
	if (u == NULL)
		return;
	ub_ctx_delete(u->ctx);
	free(u);
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Uncompressed wire name at p (len bytes) into presentation form. */
static int
wire_name(const unsigned char *p, size_t len, size_t off, char *out, size_t outlen)
{
	size_t n = 0;

	while (off < len) {
		size_t l = p[off++], i;

		if (l == 0) {
			if (n == 0 && outlen > 1) {
				out[n++] = '.';	/* the root: a null MX */
			}
			out[n] = '\0';
			return 0;
		}
		if (l > 63 || off + l > len)
			return -1;
		if (n > 0) {
			if (n + 1 >= outlen)
				return -1;
			out[n++] = '.';
		}
		for (i = 0; i < l; i++) {
			unsigned char ch = p[off + i];

			if (n + 1 >= outlen)
				return -1;
			out[n++] = ch > ' ' && ch < 0x7f ? (char)ch : '?';
		}
		off += l;
	}
	return -1;
}

static void
decode(enum dns_type type, const unsigned char *d, size_t len, struct dns_rr *rr,
    int *truncated)
{
	size_t n = 0, off = 0;

	rr->pref = 0;
	rr->data[0] = '\0';
	switch (type) {
	case DNS_T_A:
		if (len == 4)
			inet_ntop(AF_INET, d, rr->data, sizeof(rr->data));
		break;
	case DNS_T_AAAA:
		if (len == 16)
			inet_ntop(AF_INET6, d, rr->data, sizeof(rr->data));
		break;
	case DNS_T_MX:
		if (len >= 3) {
			rr->pref = (uint16_t)(d[0] << 8 | d[1]);
			if (wire_name(d, len, 2, rr->data, sizeof(rr->data)) != 0)
				rr->data[0] = '\0';
		}
		break;
	case DNS_T_PTR:
	case DNS_T_CNAME:
	case DNS_T_NS:
		if (wire_name(d, len, 0, rr->data, sizeof(rr->data)) != 0)
			rr->data[0] = '\0';
		break;
	case DNS_T_TXT:
		while (off < len) {
			size_t l = d[off++];

			if (off + l > len)
				break;
			if (n + l >= sizeof(rr->data)) {
				*truncated = 1;
				l = sizeof(rr->data) - 1 - n;
			}
			memcpy(rr->data + n, d + off, l);
			n += l;
			off += l;
		}
		rr->data[n] = '\0';
		break;
	}
}

int
dns_unbound_query(void *arg, const char *name, enum dns_type type,
    struct dns_answer *out)
{
	struct dns_unbound *u = arg;
	struct pending p = { 0, 0, NULL };
	long long deadline = now_ms() + u->timeout_ms;
	int id, i;

	out->nrr = 0;
	out->ttl = 0;
	if (ub_resolve_async(u->ctx, name, (int)type, 1, &p, on_result, &id) != 0) {
		out->status = DNS_ERROR;
		return 0;
	}
	while (!p.done) {
		struct pollfd pfd = { ub_fd(u->ctx), POLLIN, 0 };
		long long left = deadline - now_ms();

		if (left <= 0) {
			(void)ub_cancel(u->ctx, id);
			out->status = DNS_TIMEOUT;
			return 0;
		}
		if (poll(&pfd, 1, (int)(left > 1000 ? 1000 : left)) < 0 && errno != EINTR) {
			(void)ub_cancel(u->ctx, id);
			out->status = DNS_ERROR;
			return 0;
		}
		if (ub_process(u->ctx) != 0) {
			out->status = DNS_ERROR;
			return 0;
		}
	}
	if (p.err != 0 || p.res == NULL) {
		out->status = DNS_SERVFAIL;
		if (p.res)
			ub_resolve_free(p.res);
		return 0;
	}
	if (p.res->nxdomain)
		out->status = DNS_NXDOMAIN;
	else if (p.res->rcode == 2)
		out->status = DNS_SERVFAIL;
	else if (p.res->rcode != 0)
		out->status = DNS_REFUSED;
	else
		out->status = DNS_OK;
	out->ttl = (uint32_t)(p.res->ttl > 0 ? p.res->ttl : 0);
	for (i = 0; p.res->havedata && p.res->data && p.res->data[i]; i++) {
		if (out->nrr == DNS_MAX_RR) {
			out->truncated = 1;
			break;
		}
		decode(type, (const unsigned char *)p.res->data[i], (size_t)p.res->len[i],
		    &out->rr[out->nrr], &out->truncated);
		if (out->rr[out->nrr].data[0] != '\0' || type == DNS_T_MX)
			out->nrr++;
	}
	ub_resolve_free(p.res);
	return 0;
}
