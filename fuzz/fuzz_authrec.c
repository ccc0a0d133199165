/*
 * fuzz_authrec - the DMARC record, DKIM key record and DKIM-Signature tag
 * parsers, and the IP finder of diagnostics, on arbitrary text.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "egress/authrec.h"
#include "egress/diagnose.h"
#include "egress/dnsbl.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char text[16384];
	struct dmarc_record dr;
	struct dkim_key k;
	struct dkim_sig s;
	char ip[64];
	int refusal;

	if (size >= sizeof(text))
		size = sizeof(text) - 1;
	memcpy(text, data, size);
	text[size] = '\0';
	(void)dmarc_is_record(text);
	(void)dmarc_record_parse(text, &dr);
	(void)dkim_key_parse(text, &k);
	(void)dkim_sig_parse(text, &s);
	(void)diag_find_ip(text, ip, sizeof(ip));
	(void)dnsbl_code_meaning("zen.spamhaus.org", text, &refusal);
	return 0;
}
