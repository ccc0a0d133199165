/*
 * fuzz_spf - SPF record parsing and check_host() over answers taken from
 * the input: the first line is the record of the domain asked, each further
 * line answers the next query (TXT, A, MX, PTR alike), "-" is NXDOMAIN and
 * "!" a SERVFAIL. Bounded by the RFC's lookup limits and the client budget.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "egress/spf.h"

struct feed {
	const char	*lines[64];
	size_t		 n, next;
};

static int
q(void *arg, const char *name, enum dns_type type, struct dns_answer *out)
{
	struct feed *f = arg;
	const char *l;

	(void)name;
	(void)type;
	out->nrr = 0;
	if (f->next >= f->n) {
		out->status = DNS_NXDOMAIN;
		return 0;
	}
	l = f->lines[f->next++];
	if (strcmp(l, "-") == 0) {
		out->status = DNS_NXDOMAIN;
	} else if (strcmp(l, "!") == 0) {
		out->status = DNS_SERVFAIL;
	} else {
		out->status = DNS_OK;
		snprintf(out->rr[0].data, sizeof(out->rr[0].data), "%s", l);
		out->nrr = 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char text[8192];
	static struct spf_record rec;
	struct feed f;
	struct dns_client c;
	struct spf_eval ev;
	char *p, *save = NULL;

	if (size >= sizeof(text))
		size = sizeof(text) - 1;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&f, 0, sizeof(f));
	for (p = strtok_r(text, "\n", &save); p && f.n < 64; p = strtok_r(NULL, "\n", &save))
		f.lines[f.n++] = p;
	if (f.n == 0)
		return 0;
	(void)spf_record_parse(f.lines[0], &rec);
	dns_client_init(&c, q, &f, 0);
	(void)spf_check_host(&c, size % 2 ? "192.0.2.10" : "2001:db8::1", "example.test",
	    "user@example.test", "mx.example.test", &ev);
	return 0;
}
