/*
 * store.c - the state store's front: dispatch to the
 * backend, argument checks, lazy expiry on read, and the record codecs both
 * backends use.
 *
 * Everything past argument checking is the backend's (store_lmdb.c,
 * store_redis.c). Functions here add the semantics both must share, so the
 * backends cannot drift: keys and fields are bounded (SENDER_KEY_MAX,
 * STORE_FIELD_MAX), expired statuses and suppressions are NOTFOUND whatever
 * the backend still holds, event scans are clamped to the retention.
 *
 * Threading: stateless apart from the struct store, which the backends
 * guard themselves.
 */
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <lmdb.h>

#include "egress/assert.h"
#include "egress/path.h"
#include "egress/store.h"
#include "store_int.h"

static const char *const supp_sources[] = { "bounce", "complaint", "manual" };

const char *
supp_source_name(enum supp_source s)
{
	return (unsigned)s < 3 ? supp_sources[s] : "?";
}

int
supp_source_parse(const char *s, enum supp_source *out)
{
	int i;

	for (i = 0; i < 3; i++)
		if (strcmp(s, supp_sources[i]) == 0) {
			*out = (enum supp_source)i;
			return 0;
		}
	return -1;
}

void
store_addr_norm(const char *in, char *out, size_t outlen)
{
	char path[STORE_ADDR_MAX + 1];
	size_t n, i;

	if (outlen == 0)
		return;
	out[0] = '\0';
	if (in == NULL)
		return;
	while (*in == ' ')
		in++;
	/* The exact path syntax (path.h): a quoted local part may hold '>';
	 * anything that is not one path is no address to store. */
	if (path_parse(in, path, sizeof(path)) != PATH_OK)
		return;
	n = strlen(path);
	if (n + 1 > outlen || n >= sizeof(path) - 1)
		return;		/* too long to be an address: empty */
	for (i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)path[i]);
	out[n] = '\0';
}

/* ---- logging ---- */

void
store_logf(struct store *st, int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (st->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	st->log(st->logarg, level, msg);
}

/* ---- codecs ---- */

/* Copy s into out without tabs and line breaks (they separate fields). */
static void
clean_copy(char *out, size_t outlen, const char *s)
{
	size_t i;

	snprintf(out, outlen, "%s", s);
	for (i = 0; out[i] != '\0'; i++)
		if (out[i] == '\t' || out[i] == '\n' || out[i] == '\r')
			out[i] = ' ';
}

int
status_encode(const struct sender_status *s, char *out, size_t outlen)
{
	char cat[SENDER_NAME_MAX], rea[SENDER_NAME_MAX], who[SENDER_WHO_MAX],
	    why[SENDER_WHY_MAX];
	int n;

	clean_copy(cat, sizeof(cat), s->category);
	clean_copy(rea, sizeof(rea), s->reason);
	clean_copy(who, sizeof(who), s->who);
	clean_copy(why, sizeof(why), s->why);
	n = snprintf(out, outlen, "1\t%d\t%lld\t%lld\t%u\t%u\t%lld\t%lld\t%d\t%s\t%s\t%s\t%s",
	    (int)s->action, (long long)s->since, (long long)s->until, s->count,
	    s->window, (long long)s->interval_ms, (long long)s->burst, s->manual,
	    cat, rea, who, why);
	return n < 0 || (size_t)n >= outlen ? -1 : n;
}

/* Split in[0..len) at tabs into at most max fields (NUL-terminated copies). */
static int
split_tabs(const char *in, size_t len, char *copy, size_t copylen,
    char **f, int max)
{
	int n = 0;
	size_t i;

	if (len + 1 > copylen)
		return -1;
	memcpy(copy, in, len);
	copy[len] = '\0';
	f[n++] = copy;
	for (i = 0; i < len && n < max; i++)
		if (copy[i] == '\t') {
			copy[i] = '\0';
			f[n++] = copy + i + 1;
		}
	return n;
}

int
status_decode(const char *in, size_t len, struct sender_status *s)
{
	char copy[STORE_REC_MAX], *f[13];
	int n;

	memset(s, 0, sizeof(*s));
	n = split_tabs(in, len, copy, sizeof(copy), f, 13);
	if (n != 13 || strcmp(f[0], "1") != 0)
		return -1;
	s->action = (enum sender_action)atoi(f[1]);
	if ((unsigned)s->action >= SACT__COUNT)
		return -1;
	s->since = strtoll(f[2], NULL, 10);
	s->until = strtoll(f[3], NULL, 10);
	s->count = (uint32_t)strtoul(f[4], NULL, 10);
	s->window = (uint32_t)strtoul(f[5], NULL, 10);
	s->interval_ms = strtoll(f[6], NULL, 10);
	s->burst = strtoll(f[7], NULL, 10);
	s->manual = atoi(f[8]);
	snprintf(s->category, sizeof(s->category), "%s", f[9]);
	snprintf(s->reason, sizeof(s->reason), "%s", f[10]);
	snprintf(s->who, sizeof(s->who), "%s", f[11]);
	snprintf(s->why, sizeof(s->why), "%s", f[12]);
	return 0;
}

int
supp_encode(const struct store_supp *s, char *out, size_t outlen)
{
	char rea[SENDER_NAME_MAX], who[SENDER_WHO_MAX];
	int n;

	clean_copy(rea, sizeof(rea), s->reason);
	clean_copy(who, sizeof(who), s->who);
	n = snprintf(out, outlen, "1\t%s\t%d\t%lld\t%lld\t%s", rea, (int)s->source,
	    (long long)s->created, (long long)s->expires, who);
	return n < 0 || (size_t)n >= outlen ? -1 : n;
}

int
supp_decode(const char *in, size_t len, struct store_supp *s)
{
	char copy[STORE_REC_MAX], *f[6];
	int n;

	memset(s, 0, sizeof(*s));
	n = split_tabs(in, len, copy, sizeof(copy), f, 6);
	if (n != 6 || strcmp(f[0], "1") != 0)
		return -1;
	snprintf(s->reason, sizeof(s->reason), "%s", f[1]);
	s->source = (enum supp_source)atoi(f[2]);
	s->created = strtoll(f[3], NULL, 10);
	s->expires = strtoll(f[4], NULL, 10);
	snprintf(s->who, sizeof(s->who), "%s", f[5]);
	return 0;
}

/* ---- dispatch ---- */

/*
 * Keys, addresses, destinations and fields come from SMTP and from remote
 * bounces: no control characters (they would reach logs and the operator's
 * terminal through egressctl), bounded length.
 */
static int
text_ok(const char *s, size_t max)
{
	size_t n;

	if (s == NULL)
		return 0;
	for (n = 0; s[n] != '\0'; n++)
		if ((unsigned char)s[n] < 0x20 || (unsigned char)s[n] == 0x7f)
			return 0;
	return n < max;
}

static int
key_ok(const char *key)
{
	return key != NULL && key[0] != '\0' && text_ok(key, SENDER_KEY_MAX);
}

static char *
dup_or_null(const char *s, int *bad)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*bad = 1;
	return d;
}

/*
 * The ledger's hash key: read the key file, or create it when it does not
 * exist (32 hex digits from getrandom, mode 0600, O_EXCL so that two
 * processes starting at once agree on one key: the loser reads the
 * winner's). Created by root in a directory of another owner, the file is
 * given to that owner (the daemon runs as its own user). Failure is not
 * fatal: the ledger stays off and that is logged.
 */
static void
ledger_key_load(struct store *st)
{
	char path[4096], text[128], dir[4096], *slash;
	unsigned char key[LEDGER_KEY_LEN];
	struct stat sb;
	ssize_t n;
	size_t i;
	int fd, tries;

	if (st->conf.ledger.key_file != NULL)
		snprintf(path, sizeof(path), "%s", st->conf.ledger.key_file);
	else if (st->conf.state_dir != NULL && st->conf.state_dir[0] != '\0')
		snprintf(path, sizeof(path), "%s/ledger.key", st->conf.state_dir);
	else {
		store_logf(st, STORE_LOG_WARNING, "ledger: no key_file and no state_dir: "
		    "ledger off, bounces are not matched");
		return;
	}
	for (tries = 0; tries < 2; tries++) {
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
			n = read(fd, text, sizeof(text) - 1);
			close(fd);
			if (n < 0 || ledger_key_parse(text, (size_t)n, st->ledger_key) != 0) {
				store_logf(st, STORE_LOG_ERR, "ledger: %s: not 32 hex digits: "
				    "ledger off, bounces are not matched", path);
				return;
			}
			st->ledger_ready = 1;
			return;
		}
		if (errno != ENOENT)
			break;
		snprintf(dir, sizeof(dir), "%s", path);
		if ((slash = strrchr(dir, '/')) != NULL && slash != dir)
			*slash = '\0';
		else
			snprintf(dir, sizeof(dir), ".");
		(void)mkdir(dir, 0750);
		if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key)) {
			store_logf(st, STORE_LOG_ERR, "ledger: getrandom: %s", strerror(errno));
			return;
		}
		for (i = 0; i < LEDGER_KEY_LEN; i++)
			snprintf(text + 2 * i, 3, "%02x", key[i]);
		text[2 * LEDGER_KEY_LEN] = '\n';
		if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
			if (errno == EEXIST)
				continue;	/* another process made it: read that */
			break;
		}
		n = write(fd, text, 2 * LEDGER_KEY_LEN + 1);
		if (n != 2 * LEDGER_KEY_LEN + 1 || fsync(fd) != 0) {
			close(fd);
			(void)unlink(path);
			break;
		}
		close(fd);
		if (geteuid() == 0 && stat(dir, &sb) == 0 && sb.st_uid != 0 &&
		    chown(path, sb.st_uid, sb.st_gid) != 0)
			store_logf(st, STORE_LOG_WARNING, "ledger: chown %s: %s", path,
			    strerror(errno));
		store_logf(st, STORE_LOG_INFO, "ledger: created the key %s", path);
		memcpy(st->ledger_key, key, sizeof(key));
		st->ledger_ready = 1;
		return;
	}
	store_logf(st, STORE_LOG_ERR, "ledger: key %s: %s: ledger off, bounces are "
	    "not matched", path, strerror(errno));
}

struct store *
store_open(const struct store_conf *conf, store_log_fn *log, void *logarg,
    char *err, size_t errlen)
{
	struct store *st;
	int bad = 0;

	EGRESS_ASSERT(conf != NULL);
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	st->conf = *conf;
	st->conf.state_dir = dup_or_null(conf->state_dir, &bad);
	st->conf.redis = dup_or_null(conf->redis, &bad);
	st->conf.key_prefix = dup_or_null(conf->key_prefix, &bad);
	st->conf.redis_password = dup_or_null(conf->redis_password, &bad);
	st->conf.ledger.key_file = dup_or_null(conf->ledger.key_file, &bad);
	if (st->conf.bucket <= 0)
		st->conf.bucket = 300;
	if (st->conf.retention < st->conf.bucket)
		st->conf.retention = st->conf.bucket;
	st->log = log;
	st->logarg = logarg;
	st->ledger_once = (pthread_once_t)PTHREAD_ONCE_INIT;
	st->ops = conf->backend == STORE_REDIS ? &store_redis_ops : &store_lmdb_ops;
	if (bad) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (st->ops->open(st, err, errlen) != 0)
		goto fail;
	return st;
fail:
	store_conf_fini(&st->conf);
	free(st);
	return NULL;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	st->ops->close(st);
	store_conf_fini(&st->conf);
	free(st);
}

int
store_flush(struct store *st)
{
	EGRESS_ASSERT(st != NULL);
	return st->ops->flush(st);
}

const char *
store_backend_name(const struct store *st)
{
	EGRESS_ASSERT(st != NULL);
	return st->ops->name;
}

int64_t
store_bucket(const struct store *st)
{
	EGRESS_ASSERT(st != NULL);
	return st->conf.bucket;
}

int64_t
store_retention(const struct store *st)
{
	EGRESS_ASSERT(st != NULL);
	return st->conf.retention;
}

int
store_event_add(struct store *st, const char *key, int64_t now,
    const char *const *fields, size_t nfields)
{
	size_t i;

	EGRESS_ASSERT(st != NULL && (fields != NULL || nfields == 0));
	if (!key_ok(key) || nfields == 0 || nfields > STORE_FIELDS_MAX)
		return STORE_ERROR;
	for (i = 0; i < nfields; i++)
		if (!text_ok(fields[i], STORE_FIELD_MAX))
			return STORE_ERROR;
	return st->ops->event_add(st, key, store_bucket_of(st, now), fields, nfields);
}

int
store_event_scan(struct store *st, const char *key, int64_t since, int64_t now,
    store_event_cb *cb, void *arg)
{
	int64_t oldest;

	EGRESS_ASSERT(st != NULL && cb != NULL);
	oldest = now - st->conf.retention;
	if (!key_ok(key))
		return STORE_ERROR;
	if (since < oldest)
		since = oldest;
	/* a bucket counts when its start lies in the window */
	since = store_bucket_of(st, since + st->conf.bucket - 1);
	if (since > now)
		return STORE_OK;
	return st->ops->event_scan(st, key, since, store_bucket_of(st, now), cb, arg);
}

int
store_meta_touch(struct store *st, const char *key, int64_t now,
    unsigned messages, unsigned failures)
{
	EGRESS_ASSERT(st != NULL);
	if (!key_ok(key))
		return STORE_ERROR;
	return st->ops->meta_touch(st, key, now, messages, failures);
}

int
store_meta_get(struct store *st, const char *key, int64_t now,
    struct store_meta *out)
{
	int rc;

	EGRESS_ASSERT(st != NULL && out != NULL);
	if (!key_ok(key))
		return STORE_ERROR;
	memset(out, 0, sizeof(*out));
	rc = st->ops->meta_get(st, key, out);
	if (rc == STORE_OK && store_expired_meta(st, out, now))
		rc = STORE_NOTFOUND;
	return rc;
}

int
store_meta_each(struct store *st, int64_t now, store_meta_cb *cb, void *arg)
{
	EGRESS_ASSERT(st != NULL && cb != NULL);
	return st->ops->meta_each(st, now, cb, arg);
}

int
store_status_put(struct store *st, const char *key, const char *dest,
    const struct sender_status *s)
{
	EGRESS_ASSERT(st != NULL && s != NULL);
	if (!key_ok(key) || !text_ok(dest, STORE_ADDR_MAX))
		return STORE_ERROR;
	return st->ops->status_put(st, key, dest, s);
}

int
store_status_get(struct store *st, const char *key, const char *dest,
    int64_t now, struct sender_status *out)
{
	int rc;

	EGRESS_ASSERT(st != NULL && out != NULL);
	if (!key_ok(key) || dest == NULL)
		return STORE_ERROR;
	rc = st->ops->status_get(st, key, dest, out);
	if (rc == STORE_OK && store_expired_status(st, out, now))
		rc = STORE_NOTFOUND;
	return rc;
}

int
store_status_each(struct store *st, const char *key, int64_t now,
    store_status_cb *cb, void *arg)
{
	EGRESS_ASSERT(st != NULL && cb != NULL);
	if (key != NULL && !key_ok(key))
		return STORE_ERROR;
	return st->ops->status_each(st, key, now, cb, arg);
}

int
store_release(struct store *st, const char *key, int64_t now)
{
	EGRESS_ASSERT(st != NULL);
	if (!key_ok(key))
		return STORE_ERROR;
	return st->ops->release(st, key, now);
}

static int
addr_ok(const char *addr)
{
	return addr != NULL && addr[0] != '\0' && text_ok(addr, STORE_ADDR_MAX);
}

int
store_supp_put(struct store *st, const char *addr, const struct store_supp *s)
{
	EGRESS_ASSERT(st != NULL && s != NULL);
	if (!addr_ok(addr))
		return STORE_ERROR;
	return st->ops->supp_put(st, addr, s);
}

int
store_supp_get(struct store *st, const char *addr, int64_t now,
    struct store_supp *out)
{
	int rc;

	EGRESS_ASSERT(st != NULL && out != NULL);
	if (!addr_ok(addr))
		return STORE_ERROR;
	rc = st->ops->supp_get(st, addr, out);
	if (rc == STORE_OK && store_expired_supp(st, out, now))
		rc = STORE_NOTFOUND;
	return rc;
}

int
store_supp_del(struct store *st, const char *addr)
{
	EGRESS_ASSERT(st != NULL);
	if (!addr_ok(addr))
		return STORE_ERROR;
	return st->ops->supp_del(st, addr);
}

int
store_supp_each(struct store *st, int64_t now, store_supp_cb *cb, void *arg)
{
	EGRESS_ASSERT(st != NULL && cb != NULL);
	return st->ops->supp_each(st, now, cb, arg);
}

int
store_link_put(struct store *st, const char *addr_key, const char *auth_key,
    int64_t now)
{
	EGRESS_ASSERT(st != NULL);
	if (!key_ok(addr_key) || !key_ok(auth_key))
		return STORE_ERROR;
	return st->ops->link_put(st, addr_key, auth_key, now);
}

int
store_link_get(struct store *st, const char *addr_key, int64_t now, char *out,
    size_t outlen)
{
	int64_t when = 0;
	int rc;

	EGRESS_ASSERT(st != NULL && out != NULL);
	if (!key_ok(addr_key) || outlen == 0)
		return STORE_ERROR;
	out[0] = '\0';
	rc = st->ops->link_get(st, addr_key, &when, out, outlen);
	if (rc == STORE_OK && store_expired_link(st, when, out, now)) {
		out[0] = '\0';
		rc = STORE_NOTFOUND;
	}
	return rc;
}

int
store_rate_take(struct store *st, const char *key, const char *name,
    int64_t now_ms, const struct rate *r, int64_t init_tat, int *allowed,
    int64_t *retry_ms)
{
	EGRESS_ASSERT(st != NULL && r != NULL && allowed != NULL);
	*allowed = 1;
	if (retry_ms != NULL)
		*retry_ms = 0;
	if (!key_ok(key) || name == NULL || strlen(name) >= STORE_ADDR_MAX)
		return STORE_ERROR;
	if (r->interval_ms <= 0)
		return STORE_OK;
	return st->ops->rate_take(st, key, name, now_ms, r, init_tat, allowed,
	    retry_ms);
}

void
store_lib_versions(char *out, size_t outsz)
{
	int maj, min, pat;

	(void)mdb_version(&maj, &min, &pat);
	snprintf(out, outsz, "LMDB %d.%d.%d\nhiredis %d.%d.%d (headers)\n",
	    maj, min, pat, HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH);
}

/* ---- the ledger ---- */

/*
 * pthread_once takes no argument: the store being keyed is handed over in
 * a thread-local slot for the length of the call.
 */
static _Thread_local struct store *keying;

static void
ledger_key_once(void)
{
	ledger_key_load(keying);
}

int
store_ledger_ready(struct store *st)
{
	EGRESS_ASSERT(st != NULL);
	if (!st->conf.ledger.enabled)
		return 0;
	keying = st;
	(void)pthread_once(&st->ledger_once, ledger_key_once);
	keying = NULL;
	return st->ledger_ready;
}

const unsigned char *
store_ledger_key(struct store *st)
{
	return store_ledger_ready(st) ? st->ledger_key : NULL;
}

const struct ledger_conf *
store_ledger_conf(const struct store *st)
{
	EGRESS_ASSERT(st != NULL);
	return &st->conf.ledger;
}

/* An id as the backends key it: printable, no white space, bounded. */
static int
id_ok(const char *s, size_t max)
{
	size_t n;

	if (s == NULL || s[0] == '\0')
		return 0;
	for (n = 0; s[n] != '\0'; n++)
		if ((unsigned char)s[n] <= 0x20 || (unsigned char)s[n] == 0x7f)
			return 0;
	return n <= max;
}

int
store_ledger_put(struct store *st, const struct ledger_entry *e)
{
	char *rec;
	int n, rc;

	EGRESS_ASSERT(st != NULL && e != NULL);
	if (!store_ledger_ready(st))
		return STORE_UNAVAILABLE;
	if (!id_ok(e->msgid, LEDGER_MSGID_MAX) ||
	    (e->qid[0] != '\0' && !id_ok(e->qid, LEDGER_QID_MAX)))
		return STORE_ERROR;
	if ((rec = malloc(LEDGER_REC_MAX)) == NULL)
		return STORE_ERROR;
	if ((n = ledger_encode(e, rec, LEDGER_REC_MAX)) < 0)
		rc = STORE_ERROR;
	else
		rc = st->ops->ledger_put(st, e, rec, (size_t)n);
	free(rec);
	return rc;
}

int
store_ledger_get(struct store *st, const char *msgid, int64_t now,
    struct ledger_entry *out)
{
	int rc;

	EGRESS_ASSERT(st != NULL && out != NULL);
	if (!store_ledger_ready(st))
		return STORE_UNAVAILABLE;
	if (!id_ok(msgid, LEDGER_MSGID_MAX))
		return STORE_NOTFOUND;
	rc = st->ops->ledger_get(st, msgid, out);
	if (rc == STORE_OK && (strcmp(out->msgid, msgid) != 0 ||
	    store_expired_ledger(st, out->when, now)))
		rc = STORE_NOTFOUND;
	return rc;
}

int
store_ledger_get_qid(struct store *st, const char *qid, int64_t now,
    struct ledger_entry *out)
{
	char msgid[LEDGER_MSGID_MAX + 1];
	int rc;

	EGRESS_ASSERT(st != NULL && out != NULL);
	if (!store_ledger_ready(st))
		return STORE_UNAVAILABLE;
	if (!id_ok(qid, LEDGER_QID_MAX))
		return STORE_NOTFOUND;
	rc = st->ops->ledger_qid(st, qid, msgid, sizeof(msgid));
	if (rc != STORE_OK)
		return rc;
	rc = store_ledger_get(st, msgid, now, out);
	/* the Message-ID was recorded again for another queue id */
	if (rc == STORE_OK && strcmp(out->qid, qid) != 0)
		rc = STORE_NOTFOUND;
	return rc;
}

int
store_ledger_once(struct store *st, const char *marker, int64_t now, int *first)
{
	size_t n;

	EGRESS_ASSERT(st != NULL && first != NULL);
	*first = 0;
	if (!store_ledger_ready(st))
		return STORE_UNAVAILABLE;
	if (marker == NULL || (n = strlen(marker)) == 0 || n >= LEDGER_MARK_MAX)
		return STORE_ERROR;
	for (; *marker != '\0'; marker++)
		if (!isxdigit((unsigned char)*marker))
			return STORE_ERROR;
	return st->ops->ledger_once(st, marker - n, now, first);
}
