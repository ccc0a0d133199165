/*
 * json.c - JSON string escaping for egressctl output.
 *
 * Bytes from messages are untrusted: json_put_string() (dsn.h) escapes
 * control characters and bytes outside well-formed UTF-8, so the output is
 * always valid JSON.
 */
#include <stdio.h>
#include <string.h>

#include "egress/buf.h"
#include "egress/dsn.h"
#include "json.h"

void
json_str(FILE *fp, const char *s)
{
	struct buf b;

	/* One escaper for the project: the core's, shared with the daemon. */
	buf_init(&b, 0);
	if (json_put_string(&b, s ? s : "") == BUF_OK)
		fputs(buf_cstr(&b), fp);
	else
		fputs("null", fp);
	buf_fini(&b);
}

void
json_kv_str(FILE *fp, int first, const char *key, const char *value)
{
	fprintf(fp, "%s\"%s\":", first ? "" : ",", key);
	if (value == NULL)
		fputs("null", fp);
	else
		json_str(fp, value);
}

void
json_kv_int(FILE *fp, int first, const char *key, long long value)
{
	fprintf(fp, "%s\"%s\":%lld", first ? "" : ",", key, value);
}

void
json_kv_bool(FILE *fp, int first, const char *key, int value)
{
	fprintf(fp, "%s\"%s\":%s", first ? "" : ",", key, value ? "true" : "false");
}
