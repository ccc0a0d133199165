/*
 * fuzz_rfc5322.c - libFuzzer target for the RFC 5322 syntax helpers.
 *
 * The input is copied to a NUL-terminated buffer (the helpers take C
 * strings) and handed to every helper. Besides memory errors, which the
 * sanitizers catch, it asserts the documented output invariants: outputs
 * are always terminated and within their bounds, a valid address list with
 * mailboxes names a first address, a parsed date lies in the range the
 * grammar allows.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "egress/rfc5322.h"

/* Earliest and latest instants a valid date-time can denote. */
#define DATE_MIN	(-2208988800LL - 24 * 3600LL)	/* 1900-01-01 -2359 */
#define DATE_MAX	(253402300800LL + 24 * 3600LL)	/* 9999-12-31 24:00 +2359 */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rfc5322_addrlist	 al;
	char			*s, right[32], dom[32];
	long long		 epoch;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	if (rfc5322_date_parse(s, &epoch) == 0)
		assert(epoch >= DATE_MIN && epoch <= DATE_MAX);

	if (rfc5322_msgid_parse(s, right, sizeof(right)) == 0)
		assert(memchr(right, '\0', sizeof(right)) != NULL);
	else
		assert(right[0] == '\0');

	(void)rfc5322_domain_is_fqdn(s);
	(void)rfc5322_field_name_is_valid((const char *)data, size);

	if (rfc5322_addr_domain(s, dom, sizeof(dom)) == 0)
		assert(dom[0] != '\0' && strlen(dom) < sizeof(dom));
	else
		assert(dom[0] == '\0');

	(void)rfc5322_addrlist_parse(s, &al);
	assert(memchr(al.first, '\0', sizeof(al.first)) != NULL);
	assert(memchr(al.first_domain, '\0', sizeof(al.first_domain)) != NULL);
	if (al.count > 0)
		assert(strchr(al.first, '@') != NULL || al.truncated);
	else
		assert(al.first[0] == '\0');
	if (!al.invalid)
		assert(al.count > 0 || strchr(s, ':') != NULL);

	free(s);
	return 0;
}
