/*
 * store_cursor.c - follower cursors: the record and the dispatch to the
 * backends.
 *
 * A cursor is one short tab-separated text record, versioned like the
 * other store records ("1\tDEV\tINO\tHASH\tHEADLEN\tOFFSET\tPENDING\t
 * UPDATED\tLINES"), under the follower's name. Both backends write it
 * durably (LMDB: its own committed transaction; Redis: SET, whose
 * durability is the server's persistence setting) and never expire it.
 * Also store_health(), the backends' outage counters.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

static int
name_ok(const char *name)
{
	size_t n;

	if (name == NULL || (n = strlen(name)) == 0 || n > STORE_CURSOR_NAME_MAX)
		return 0;
	for (; *name != '\0'; name++)
		if ((unsigned char)*name < 0x21 || (unsigned char)*name == 0x7f)
			return 0;
	return 1;
}

void
store_health(struct store *st, struct store_health *out)
{
	memset(out, 0, sizeof(*out));
	if (st->ops->health != NULL)
		st->ops->health(st, out);
}

int
store_cursor_put(struct store *st, const char *name, const struct store_cursor *c)
{
	char rec[256];
	int n;

	if (!name_ok(name) || c->offset < 0 || c->pending < 0)
		return STORE_ERROR;
	n = snprintf(rec, sizeof(rec), "1\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64
	    "\t%" PRIu32 "\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%" PRIu64,
	    c->dev, c->ino, c->head_hash, c->head_len, c->offset, c->pending,
	    c->updated, c->lines);
	if (n <= 0 || (size_t)n >= sizeof(rec))
		return STORE_ERROR;
	return st->ops->cursor_put(st, name, rec, (size_t)n);
}

int
store_cursor_get(struct store *st, const char *name, struct store_cursor *out)
{
	char rec[256], *p, *e;
	uint64_t v[9];
	size_t len = 0, i;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!name_ok(name))
		return STORE_NOTFOUND;
	rc = st->ops->cursor_get(st, name, rec, sizeof(rec), &len);
	if (rc != STORE_OK)
		return rc;
	rec[len] = '\0';
	p = rec;
	for (i = 0; i < 9; i++) {
		if (i > 0 && *p++ != '\t')
			return STORE_ERROR;
		if (*p < '0' || *p > '9')
			return STORE_ERROR;
		v[i] = strtoull(p, &e, 10);
		p = e;
	}
	if (*p != '\0' || v[0] != 1 || v[4] > UINT32_MAX || v[5] > INT64_MAX ||
	    v[6] > INT64_MAX || v[7] > INT64_MAX)
		return STORE_ERROR;
	out->dev = v[1];
	out->ino = v[2];
	out->head_hash = v[3];
	out->head_len = (uint32_t)v[4];
	out->offset = (int64_t)v[5];
	out->pending = (int64_t)v[6];
	out->updated = (int64_t)v[7];
	out->lines = v[8];
	return STORE_OK;
}
