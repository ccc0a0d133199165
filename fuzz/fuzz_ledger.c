/*
 * fuzz_ledger - the ledger's parsers on arbitrary bytes: ledger_decode (a
 * record from the store), ledger_msgid_norm (a Message-ID from a bounce)
 * and ledger_key_parse (a key file). A decoded entry encodes again and
 * decodes to the same entry; a normalised id is bounded and has no white
 * space or control bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "egress/ledger.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct ledger_entry e1, e2;
static char rec[LEDGER_REC_MAX];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[4096], id[LEDGER_MSGID_MAX + 1];
	unsigned char key[LEDGER_KEY_LEN];
	size_t i;
	int n;

	if (ledger_decode((const char *)data, size, &e1) == 0) {
		if ((n = ledger_encode(&e1, rec, sizeof(rec))) < 0)
			abort();
		if (ledger_decode(rec, (size_t)n, &e2) != 0 || e1.when != e2.when ||
		    e1.verdict != e2.verdict || e1.nrcpt != e2.nrcpt ||
		    strcmp(e1.msgid, e2.msgid) != 0 || strcmp(e1.qid, e2.qid) != 0 ||
		    strcmp(e1.env, e2.env) != 0 ||
		    memcmp(e1.rcpt, e2.rcpt, e1.nrcpt * sizeof(e1.rcpt[0])) != 0)
			abort();
	}
	(void)ledger_key_parse((const char *)data, size, key);
	if (size >= sizeof(in))
		size = sizeof(in) - 1;
	memcpy(in, data, size);
	in[size] = '\0';
	if (ledger_msgid_norm(in, id, sizeof(id)) == 0) {
		if (strlen(id) == 0 || strlen(id) > LEDGER_MSGID_MAX)
			abort();
		for (i = 0; id[i] != '\0'; i++)
			if ((unsigned char)id[i] <= 0x20 || id[i] == 0x7f)
				abort();
	}
	return 0;
}
