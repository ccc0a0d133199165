/*
 * json.c - JSON string escaping for egressctl output.
 *
 * Bytes from messages are untrusted: control characters and bytes that are
 * not part of well-formed UTF-8 are written as \u00XX escapes so the output
 * is always valid JSON.
 */
#include <stdio.h>
#include <string.h>

#include "json.h"

/* Length of a well-formed UTF-8 sequence at p, or 0. */
static size_t
utf8_len(const unsigned char *p)
{
	size_t n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

void
json_str(FILE *fp, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n;

	fputc('"', fp);
	while (*p) {
		if (*p == '"' || *p == '\\') {
			fputc('\\', fp);
			fputc(*p++, fp);
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(fp, "\\u%04x", *p++);
		} else if ((n = utf8_len(p)) == 0) {
			fprintf(fp, "\\u%04x", *p++);
		} else {
			fwrite(p, 1, n, fp);
			p += n;
		}
	}
	fputc('"', fp);
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
