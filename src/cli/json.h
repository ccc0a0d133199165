/*
 * json.h - minimal JSON output helpers for egressctl.
 */
#ifndef EGRESS_CLI_JSON_H
#define EGRESS_CLI_JSON_H

#include <stdio.h>

/* Print s as a JSON string (quotes included), escaped by json_put_string(). */
void	json_str(FILE *, const char *s);
/* Print "key": and the string value, with a leading comma unless first. */
void	json_kv_str(FILE *, int first, const char *key, const char *value);
void	json_kv_int(FILE *, int first, const char *key, long long value);
void	json_kv_bool(FILE *, int first, const char *key, int value);

#endif
