/*
 * cmd_admin.c - egressctl commands on the sender record: senders, sender,
 * release, hold, suspend, suppress, report.
 *
 * They open the store the config names (the same LMDB file or Redis the
 * daemon uses, while it runs) and read or change it. Changes (release,
 * hold, suspend, suppress add/remove) are durable when the command returns.
 * The operator is recorded as SUDO_USER or the login name.
 *
 * Addresses: "a@example.com" is the envelope-sender key, "@example.com" the
 * sender-domain key, "auth:LOGIN" the SASL login key; "env:...", "dom:..."
 * are accepted as they are.
 */
#include <sys/types.h>
#include <ctype.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "egress/config.h"
#include "egress/json.h"
#include "egress/sender.h"
#include "egress/store.h"
#include "commands.h"

#define REPORT_TOP_DEFAULT	10
#define AGG_MAX			100000	/* distinct names kept per table */

/* ---- common ---- */

static void
log_stderr(void *arg, int level, const char *msg)
{
	(void)arg;
	(void)level;
	fprintf(stderr, "egressctl: %s\n", msg);
}

static struct store *
open_store(const struct ctl_opts *o, struct config **cfgp, int *status)
{
	struct config *cfg;
	struct store *st;
	char err[512];

	if ((cfg = ctl_load_config(o, status)) == NULL)
		return NULL;
	st = store_open(&cfg->store, log_stderr, NULL, err, sizeof(err));
	if (st == NULL) {
		fprintf(stderr, "egressctl: cannot open the %s store: %s\n",
		    cfg->store.backend == STORE_REDIS ? "redis" : "lmdb", err);
		config_free(cfg);
		*status = CTL_EXIT_SOFTWARE;
		return NULL;
	}
	*cfgp = cfg;
	return st;
}

static int
close_store(struct store *st, struct config *cfg, int status)
{
	if (store_flush(st) != STORE_OK && status == CTL_EXIT_OK)
		status = CTL_EXIT_SOFTWARE;
	store_close(st);
	config_free(cfg);
	return status;
}

static int
store_failed(int rc, const char *what)
{
	fprintf(stderr, "egressctl: %s: %s\n", what, rc == STORE_UNAVAILABLE ?
	    "store unavailable" : "store error");
	return CTL_EXIT_SOFTWARE;
}

/* ADDR -> store key. */
static int
key_of(const char *arg, char *out, size_t outlen)
{
	char norm[STORE_ADDR_MAX];
	int n;

	if (strncmp(arg, "env:", 4) == 0 || strncmp(arg, "auth:", 5) == 0 ||
	    strncmp(arg, "dom:", 4) == 0) {
		size_t i, len = strlen(arg);

		if (len >= outlen)
			return -1;
		for (i = 0; i <= len; i++)
			out[i] = (char)tolower((unsigned char)arg[i]);
		return 0;
	}
	store_addr_norm(arg, norm, sizeof(norm));
	if (norm[0] == '\0')
		return -1;
	if (norm[0] == '@')
		n = snprintf(out, outlen, "dom:%s", norm + 1);
	else if (strchr(norm, '@') != NULL)
		n = snprintf(out, outlen, "env:%s", norm);
	else
		return -1;
	return n > 0 && (size_t)n < outlen ? 0 : -1;
}

static const char *
operator_name(void)
{
	const char *s = getenv("SUDO_USER");
	struct passwd *pw;

	if (s != NULL && *s != '\0')
		return s;
	if ((pw = getpwuid(getuid())) != NULL)
		return pw->pw_name;
	return "operator";
}

/* "90s", "30m", "24h", "7d", "2w" or seconds; returns -1 when invalid. */
static long long
parse_duration(const char *s)
{
	char *end;
	long long v = strtoll(s, &end, 10), mul = 1;

	if (end == s || v < 0)
		return -1;
	switch (*end) {
	case '\0': break;
	case 's': mul = 1; end++; break;
	case 'm': mul = 60; end++; break;
	case 'h': mul = 3600; end++; break;
	case 'd': mul = 86400; end++; break;
	case 'w': mul = 7 * 86400; end++; break;
	default: return -1;
	}
	if (*end != '\0' || v > 100LL * 365 * 86400 / mul)
		return -1;
	return v * mul;
}

static void
fmt_time(int64_t t, char *out, size_t outlen)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0) {
		snprintf(out, outlen, "-");
		return;
	}
	gmtime_r(&tt, &tm);
	strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- aggregation tables ---- */

struct agg_ent {
	char		*name;
	uint64_t	 count;
};

struct agg {
	struct agg_ent	*v;
	size_t		 n, cap;
};

static int
agg_add(struct agg *a, const char *name, uint64_t count)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i].name, name) == 0) {
			a->v[i].count += count;
			return 0;
		}
	if (a->n >= AGG_MAX)
		return 0;
	if (a->n == a->cap) {
		size_t ncap = a->cap ? a->cap * 2 : 32;
		struct agg_ent *nv = realloc(a->v, ncap * sizeof(*nv));

		if (nv == NULL)
			return -1;
		a->v = nv;
		a->cap = ncap;
	}
	if ((a->v[a->n].name = strdup(name)) == NULL)
		return -1;
	a->v[a->n++].count = count;
	return 0;
}

static int
agg_cmp(const void *x, const void *y)
{
	const struct agg_ent *a = x, *b = y;

	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return strcmp(a->name, b->name);
}

static void
agg_sort(struct agg *a)
{
	if (a->n > 1)
		qsort(a->v, a->n, sizeof(*a->v), agg_cmp);
}

static void
agg_free(struct agg *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->v[i].name);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

static uint64_t
agg_total(const struct agg *a)
{
	uint64_t t = 0;
	size_t i;

	for (i = 0; i < a->n; i++)
		t += a->v[i].count;
	return t;
}

/*
 * Fold one event field into the tables: "c/CAT" by category (and sender),
 * "r/CAT/REASON" by reason, "d/DEST/CAT" by destination domain.
 */
struct fold {
	struct agg	 cat, reason, dest, sender;
	struct agg	 evidence;	/* "x/BUCKET/CHECK TEXT" from diagnose */
	struct agg	 deferred;	/* "qd/DEST": counted deferrals (follow) */
	struct agg	 unmatched;	/* "u/REASON": bounces that did not count */
	const char	*key;
	int		 skip_totals;	/* count this key only in `sender` */
	int		 want_unmatched;	/* fold "u/" fields into `unmatched` */
	int		 err;
};

static int
fold_cb(void *arg, int64_t bucket, const char *field, uint64_t count)
{
	struct fold *f = arg;
	char tmp[STORE_FIELD_MAX], *slash;

	(void)bucket;
	if (strncmp(field, "x/", 2) == 0)
		return f->err |= agg_add(&f->evidence, field + 2, count), 0;
	if (strncmp(field, "qd/", 3) == 0)
		return f->err |= agg_add(&f->deferred, field + 3, count), 0;
	if (strncmp(field, "q/", 2) == 0)
		return 0;	/* every deferral by class: not a failure */
	if (strncmp(field, "u/", 2) == 0) {
		if (f->want_unmatched)
			f->err |= agg_add(&f->unmatched, field + 2, count);
		return 0;
	}
	if (strncmp(field, "c/", 2) == 0 && f->key != NULL)
		f->err |= agg_add(&f->sender, f->key, count);
	if (f->skip_totals)
		return 0;
	if (strncmp(field, "c/", 2) == 0) {
		f->err |= agg_add(&f->cat, field + 2, count);
	} else if (strncmp(field, "r/", 2) == 0) {
		/* "r/CAT/REASON": reasons belong to one category each */
		const char *rs = strchr(field + 2, '/');

		f->err |= agg_add(&f->reason, rs != NULL ? rs + 1 : field + 2, count);
	} else if (strncmp(field, "d/", 2) == 0) {
		snprintf(tmp, sizeof(tmp), "%s", field + 2);
		if ((slash = strrchr(tmp, '/')) != NULL)
			*slash = '\0';
		f->err |= agg_add(&f->dest, tmp, count);
	}
	return 0;
}

static void
fold_free(struct fold *f)
{
	agg_free(&f->cat);
	agg_free(&f->reason);
	agg_free(&f->dest);
	agg_free(&f->sender);
	agg_free(&f->evidence);
	agg_free(&f->deferred);
	agg_free(&f->unmatched);
}

/* "unmatched bounces in the last 7d: 2 (unknown-message=1, ...)" */
static void
print_unmatched_text(const char *wname, const struct agg *a)
{
	size_t j;

	printf("unmatched bounces in the last %s: %llu", wname,
	    (unsigned long long)agg_total(a));
	for (j = 0; j < a->n; j++)
		printf("%s%s=%llu", j ? ", " : " (", a->v[j].name,
		    (unsigned long long)a->v[j].count);
	printf("%s\n", a->n ? ")" : "");
}

static void
print_agg_text(const char *title, const struct agg *a, size_t top)
{
	size_t i;

	printf("%s:\n", title);
	if (a->n == 0)
		printf("  (none)\n");
	for (i = 0; i < a->n && i < top; i++)
		printf("  %8llu  %s\n", (unsigned long long)a->v[i].count, a->v[i].name);
	if (a->n > top)
		printf("  ... %zu more\n", a->n - top);
}

/* Member name: [{"name":..., "count":N}, ...] of the first top entries. */
static void
print_agg_json(struct json *w, const char *name, const struct agg *a,
    size_t top)
{
	size_t i;

	json_key(w, name);
	json_arr_begin(w);
	for (i = 0; i < a->n && i < top; i++) {
		json_obj_begin(w);
		json_kv_str(w, "name", a->v[i].name);
		json_kv_uint(w, "count", a->v[i].count);
		json_obj_end(w);
	}
	json_arr_end(w);
}

/* ---- senders ---- */

struct sender_row {
	char			key[SENDER_KEY_MAX];
	struct store_meta	m;
	enum sender_action	worst;
	char			state[SENDER_HEADER_MAX];
};

struct rows {
	struct sender_row	*v;
	size_t			 n, cap;
};

static int
rows_cb(void *arg, const char *key, const struct store_meta *m)
{
	struct rows *r = arg;

	if (r->n == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 64;
		struct sender_row *nv = realloc(r->v, ncap * sizeof(*nv));

		if (nv == NULL)
			return 1;
		r->v = nv;
		r->cap = ncap;
	}
	memset(&r->v[r->n], 0, sizeof(r->v[r->n]));
	snprintf(r->v[r->n].key, sizeof(r->v[r->n].key), "%s", key);
	r->v[r->n].m = *m;
	r->n++;
	return 0;
}

static int
rows_status_cb(void *arg, const char *key, const char *dest,
    const struct sender_status *s)
{
	struct rows *r = arg;
	struct store_meta none;
	struct buf b;
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->v[i].key, key) == 0)
			break;
	if (i == r->n) {
		/* an operator may hold a sender never seen: list it too */
		memset(&none, 0, sizeof(none));
		if (rows_cb(arg, key, &none) != 0)
			return 1;
	}
	if (s->action <= r->v[i].worst)
		return 0;
	r->v[i].worst = s->action;
	buf_init(&b, SENDER_HEADER_MAX - 1);
	if (sender_status_header(s, dest, &b) == BUF_OK)
		snprintf(r->v[i].state, sizeof(r->v[i].state), "%s", buf_cstr(&b));
	buf_fini(&b);
	return 0;
}

static int
row_cmp(const void *x, const void *y)
{
	const struct sender_row *a = x, *b = y;

	if (a->worst != b->worst)
		return a->worst > b->worst ? -1 : 1;
	if (a->m.failures != b->m.failures)
		return a->m.failures > b->m.failures ? -1 : 1;
	return strcmp(a->key, b->key);
}

int
cmd_senders(const struct ctl_opts *o, int argc, char **argv)
{
	struct config *cfg;
	struct store *st;
	struct rows rows = { NULL, 0, 0 };
	int64_t now = (int64_t)time(NULL);
	char first[32], last[32];
	int json = 0, status = 0, rc, i;
	struct json jw;
	struct buf jb;
	size_t j;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else {
			fprintf(stderr, "usage: egressctl senders [--json]\n");
			return CTL_EXIT_USAGE;
		}
	}
	if ((st = open_store(o, &cfg, &status)) == NULL)
		return status;
	if ((rc = store_meta_each(st, now, rows_cb, &rows)) != STORE_OK ||
	    (rc = store_status_each(st, NULL, now, rows_status_cb, &rows)) != STORE_OK) {
		status = store_failed(rc, "senders");
		goto out;
	}
	if (rows.n > 1)
		qsort(rows.v, rows.n, sizeof(*rows.v), row_cmp);
	if (json) {
		buf_init(&jb, 0);
		json_init(&jw, &jb);
		json_arr_begin(&jw);
	} else if (rows.n > 0)
		printf("%-40s %-20s %-20s %8s %8s  %s\n", "SENDER", "FIRST SEEN",
		    "LAST SEEN", "MESSAGES", "FAILURES", "STATUS");
	for (j = 0; j < rows.n; j++) {
		const struct sender_row *r = &rows.v[j];

		fmt_time(r->m.first_seen, first, sizeof(first));
		fmt_time(r->m.last_seen, last, sizeof(last));
		if (json) {
			json_obj_begin(&jw);
			json_kv_str(&jw, "sender", r->key);
			json_kv_str(&jw, "first_seen", first);
			json_kv_str(&jw, "last_seen", last);
			json_kv_uint(&jw, "messages", r->m.messages);
			json_kv_uint(&jw, "failures", r->m.failures);
			json_kv_str(&jw, "action", sender_action_name(r->worst));
			json_kv_str(&jw, "status", r->state[0] ? r->state : "ok");
			json_obj_end(&jw);
		} else
			printf("%-40s %-20s %-20s %8llu %8llu  %s\n", r->key, first, last,
			    (unsigned long long)r->m.messages,
			    (unsigned long long)r->m.failures, r->state[0] ? r->state : "ok");
	}
	if (json) {
		json_arr_end(&jw);
		status = ctl_json_print(&jw, &jb);
	} else if (rows.n == 0)
		printf("no senders recorded\n");
out:
	free(rows.v);
	return close_store(st, cfg, status);
}

/* ---- sender ADDR ---- */

struct status_list {
	int		 n;
	int		 json;
	struct json	*w;		/* the document, when json */
};

static int
print_status_cb(void *arg, const char *key, const char *dest,
    const struct sender_status *s)
{
	struct status_list *l = arg;
	char since[32], until[32];
	struct buf b;

	(void)key;
	fmt_time(s->since, since, sizeof(since));
	if (s->until == 0)
		snprintf(until, sizeof(until), "released");
	else
		fmt_time(s->until, until, sizeof(until));
	buf_init(&b, SENDER_HEADER_MAX - 1);
	if (sender_status_header(s, dest, &b) != BUF_OK)
		buf_reset(&b);
	if (l->json) {
		json_obj_begin(l->w);
		json_kv_str(l->w, "action", sender_action_name(s->action));
		json_kv_str(l->w, "destination", dest);
		json_kv_str(l->w, "since", since);
		json_kv_str(l->w, "until", until);
		json_kv_str(l->w, "category", s->category);
		json_kv_str(l->w, "reason", s->reason);
		json_kv_int(l->w, "count", s->count);
		json_kv_int(l->w, "window", s->window);
		json_kv_bool(l->w, "manual", s->manual);
		json_kv_str(l->w, "who", s->who);
		json_kv_str(l->w, "why", s->why);
		json_kv_str(l->w, "header", buf_cstr(&b));
		json_obj_end(l->w);
	} else
		printf("  %-9s %-24s since %s until %s by %s%s%s\n    %s\n",
		    sender_action_name(s->action), dest[0] ? dest : "(all destinations)",
		    since, until, s->who, s->why[0] ? ": " : "", s->why, buf_cstr(&b));
	buf_fini(&b);
	l->n++;
	return 0;
}

int
cmd_sender(const struct ctl_opts *o, int argc, char **argv)
{
	static const int64_t windows[] = { 3600, 86400, 7 * 86400 };
	struct config *cfg;
	struct store *st;
	struct store_meta m;
	struct status_list sl = { 0, 0, NULL };
	struct json jw;
	struct buf jb;
	char key[SENDER_KEY_MAX], first[32], last[32], lastf[32], rel[32];
	int64_t now = (int64_t)time(NULL);
	const char *addr = NULL;
	int status = 0, rc, i, w;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			sl.json = 1;
		else if (addr == NULL && argv[i][0] != '-')
			addr = argv[i];
		else
			addr = NULL, i = argc + 1;
	}
	if (addr == NULL || i > argc || key_of(addr, key, sizeof(key)) != 0) {
		fprintf(stderr, "usage: egressctl sender [--json] ADDR|@DOMAIN|auth:LOGIN\n");
		return CTL_EXIT_USAGE;
	}
	if ((st = open_store(o, &cfg, &status)) == NULL)
		return status;
	rc = store_meta_get(st, key, now, &m);
	if (rc == STORE_NOTFOUND)
		memset(&m, 0, sizeof(m));
	else if (rc != STORE_OK) {
		status = store_failed(rc, key);
		goto out;
	}
	fmt_time(m.first_seen, first, sizeof(first));
	fmt_time(m.last_seen, last, sizeof(last));
	fmt_time(m.last_failure, lastf, sizeof(lastf));
	fmt_time(m.released_at, rel, sizeof(rel));
	if (sl.json) {
		buf_init(&jb, 0);
		json_init(&jw, &jb);
		sl.w = &jw;
		json_obj_begin(&jw);
		json_kv_str(&jw, "sender", key);
		json_kv_bool(&jw, "known", rc == STORE_OK);
		json_kv_str(&jw, "first_seen", first);
		json_kv_str(&jw, "last_seen", last);
		json_kv_str(&jw, "last_failure", lastf);
		json_kv_str(&jw, "released_at", rel);
		json_kv_uint(&jw, "messages", m.messages);
		json_kv_uint(&jw, "failures", m.failures);
		json_key(&jw, "statuses");
		json_arr_begin(&jw);
	} else {
		printf("%s%s\n  first seen %s, last seen %s, last failure %s, released %s\n"
		    "  messages %llu, failures %llu\nstatus:\n", key,
		    rc == STORE_OK ? "" : " (not recorded)", first, last, lastf, rel,
		    (unsigned long long)m.messages, (unsigned long long)m.failures);
	}
	rc = store_status_each(st, key, now, print_status_cb, &sl);
	if (rc != STORE_OK) {
		status = store_failed(rc, key);
		goto out;
	}
	if (sl.json) {
		json_arr_end(&jw);
		json_key(&jw, "by_window");
		json_obj_begin(&jw);
	} else if (sl.n == 0)
		printf("  ok (no action in force)\n");
	for (w = 0; w < 3; w++) {
		struct fold f;
		char wname[16];

		memset(&f, 0, sizeof(f));
		f.want_unmatched = 1;
		duration_format(windows[w], wname, sizeof(wname));
		if ((rc = store_event_scan(st, key, now - windows[w], now, fold_cb, &f))
		    != STORE_OK || f.err) {
			fold_free(&f);
			status = store_failed(rc, key);
			goto out;
		}
		agg_sort(&f.cat);
		agg_sort(&f.reason);
		agg_sort(&f.dest);
		if (sl.json) {
			json_key(&jw, wname);
			json_obj_begin(&jw);
			json_kv_uint(&jw, "total", agg_total(&f.cat));
			print_agg_json(&jw, "categories", &f.cat, 100);
			print_agg_json(&jw, "reasons", &f.reason, 100);
			print_agg_json(&jw, "destinations", &f.dest, 20);
			agg_sort(&f.evidence);
			print_agg_json(&jw, "evidence", &f.evidence, 20);
			agg_sort(&f.deferred);
			print_agg_json(&jw, "deferred_by", &f.deferred, 20);
			agg_sort(&f.unmatched);
			json_kv_uint(&jw, "unmatched", agg_total(&f.unmatched));
			print_agg_json(&jw, "unmatched_reasons", &f.unmatched, 100);
			json_obj_end(&jw);
		} else {
			size_t j;

			printf("failures in the last %s: %llu", wname,
			    (unsigned long long)agg_total(&f.cat));
			for (j = 0; j < f.reason.n; j++)
				printf("%s%s=%llu", j ? ", " : " (", f.reason.v[j].name,
				    (unsigned long long)f.reason.v[j].count);
			printf("%s\n", f.reason.n ? ")" : "");
			for (j = 0; j < f.dest.n && j < 5; j++)
				printf("  to %s: %llu\n", f.dest.v[j].name,
				    (unsigned long long)f.dest.v[j].count);
			/* deferrals the follower counted, by destination */
			agg_sort(&f.deferred);
			for (j = 0; j < f.deferred.n && j < 5; j++)
				printf("  deferred by %s: %llu\n", f.deferred.v[j].name,
				    (unsigned long long)f.deferred.v[j].count);
			/* what egressctl diagnose found, over the longest window */
			agg_sort(&f.evidence);
			for (j = 0; w == 2 && j < f.evidence.n && j < 10; j++)
				printf("  evidence: %s (%llu)\n", f.evidence.v[j].name,
				    (unsigned long long)f.evidence.v[j].count);
			/* shown when there were some: most senders have none */
			if (f.unmatched.n > 0) {
				agg_sort(&f.unmatched);
				print_unmatched_text(wname, &f.unmatched);
			}
		}
		fold_free(&f);
	}
	if (sl.json) {
		json_obj_end(&jw);
		json_obj_end(&jw);
		status = ctl_json_print(&jw, &jb);
		sl.w = NULL;
	}
out:
	if (sl.w != NULL)
		buf_fini(&jb);
	return close_store(st, cfg, status);
}

/* ---- release / hold / suspend ---- */

static int
parse_admin_args(int argc, char **argv, const char **addr, long long *dur,
    const char **why)
{
	int i;

	*addr = NULL;
	*why = "";
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--why") == 0 && i + 1 < argc)
			*why = argv[++i];
		else if (strcmp(argv[i], "--for") == 0 && i + 1 < argc && dur != NULL) {
			if ((*dur = parse_duration(argv[++i])) < 0)
				return -1;
		} else if (*addr == NULL && argv[i][0] != '-')
			*addr = argv[i];
		else
			return -1;
	}
	return *addr != NULL ? 0 : -1;
}

int
cmd_release(const struct ctl_opts *o, int argc, char **argv)
{
	struct config *cfg;
	struct store *st;
	const char *addr, *why;
	char key[SENDER_KEY_MAX];
	int status = 0, rc;

	if (parse_admin_args(argc, argv, &addr, NULL, &why) != 0 ||
	    key_of(addr, key, sizeof(key)) != 0) {
		fprintf(stderr, "usage: egressctl release ADDR|@DOMAIN|auth:LOGIN\n");
		return CTL_EXIT_USAGE;
	}
	if ((st = open_store(o, &cfg, &status)) == NULL)
		return status;
	if ((rc = store_release(st, key, (int64_t)time(NULL))) != STORE_OK)
		status = store_failed(rc, key);
	else
		printf("%s: released by %s; failures count again from now\n", key,
		    operator_name());
	return close_store(st, cfg, status);
}

static int
manual(const struct ctl_opts *o, int argc, char **argv, enum sender_action a)
{
	struct config *cfg;
	struct store *st;
	const char *addr, *why;
	char key[SENDER_KEY_MAX], until[32];
	long long dur = 0;
	int64_t now = (int64_t)time(NULL);
	int status = 0, rc;

	if (parse_admin_args(argc, argv, &addr, &dur, &why) != 0 ||
	    key_of(addr, key, sizeof(key)) != 0) {
		fprintf(stderr, "usage: egressctl %s ADDR|@DOMAIN|auth:LOGIN "
		    "[--for DURATION] [--why TEXT]\n", argv[0]);
		return CTL_EXIT_USAGE;
	}
	if ((st = open_store(o, &cfg, &status)) == NULL)
		return status;
	rc = a == SACT_HOLD ? sender_hold(st, key, now, dur, operator_name(), why) :
	    sender_suspend(st, key, now, dur, operator_name(), why);
	if (rc != STORE_OK)
		status = store_failed(rc, key);
	else {
		if (dur > 0)
			fmt_time(now + dur, until, sizeof(until));
		else
			snprintf(until, sizeof(until), "released");
		printf("%s: %s until %s\n", key, a == SACT_HOLD ? "held" : "suspended",
		    until);
	}
	return close_store(st, cfg, status);
}

int
cmd_hold(const struct ctl_opts *o, int argc, char **argv)
{
	return manual(o, argc, argv, SACT_HOLD);
}

int
cmd_suspend(const struct ctl_opts *o, int argc, char **argv)
{
	return manual(o, argc, argv, SACT_SUSPEND);
}

/* ---- suppress ---- */

struct supp_list {
	int		 n;
	int		 json;
	struct json	*w;		/* the document, when json */
};

static int
supp_print_cb(void *arg, const char *addr, const struct store_supp *s)
{
	struct supp_list *l = arg;
	char created[32], expires[32];

	fmt_time(s->created, created, sizeof(created));
	if (s->expires == 0)
		snprintf(expires, sizeof(expires), "never");
	else
		fmt_time(s->expires, expires, sizeof(expires));
	if (l->json) {
		json_obj_begin(l->w);
		json_kv_str(l->w, "address", addr);
		json_kv_str(l->w, "reason", s->reason);
		json_kv_str(l->w, "source", supp_source_name(s->source));
		json_kv_str(l->w, "created", created);
		json_kv_str(l->w, "expires", expires);
		json_kv_str(l->w, "who", s->who);
		json_obj_end(l->w);
	} else {
		/* The header row, over the first one (nothing when empty). */
		if (l->n == 0)
			printf("%-40s %-14s %-9s %-20s %-20s %s\n", "RECIPIENT",
			    "REASON", "SOURCE", "CREATED", "EXPIRES", "BY");
		printf("%-40s %-14s %-9s %-20s %-20s %s\n", addr, s->reason,
		    supp_source_name(s->source), created, expires, s->who);
	}
	l->n++;
	return 0;
}

int
cmd_suppress(const struct ctl_opts *o, int argc, char **argv)
{
	static const char usage[] =
	    "usage: egressctl suppress list [--json]\n"
	    "       egressctl suppress add ADDR [--reason R] [--for DURATION]\n"
	    "       egressctl suppress remove ADDR\n";
	struct config *cfg;
	struct store *st;
	struct supp_list l = { 0, 0, NULL };
	struct json jw;
	struct buf jb;
	struct store_supp s;
	char addr[STORE_ADDR_MAX];
	const char *reason = "manual", *target = NULL, *verb;
	long long dur = 0;
	int64_t now = (int64_t)time(NULL);
	int status = 0, rc, i;

	if (argc < 2) {
		fputs(usage, stderr);
		return CTL_EXIT_USAGE;
	}
	verb = argv[1];
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			l.json = 1;
		else if (strcmp(argv[i], "--reason") == 0 && i + 1 < argc)
			reason = argv[++i];
		else if (strcmp(argv[i], "--for") == 0 && i + 1 < argc) {
			if ((dur = parse_duration(argv[++i])) < 0) {
				fputs(usage, stderr);
				return CTL_EXIT_USAGE;
			}
		} else if (target == NULL && argv[i][0] != '-')
			target = argv[i];
		else {
			fputs(usage, stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (strcmp(verb, "list") != 0) {
		if (target == NULL) {
			fputs(usage, stderr);
			return CTL_EXIT_USAGE;
		}
		store_addr_norm(target, addr, sizeof(addr));
		if (addr[0] == '\0' || strchr(addr, '@') == NULL) {
			fprintf(stderr, "egressctl: \"%s\" is not an address\n", target);
			return CTL_EXIT_USAGE;
		}
	}
	if (strcmp(verb, "list") != 0 && strcmp(verb, "add") != 0 &&
	    strcmp(verb, "remove") != 0) {
		fputs(usage, stderr);
		return CTL_EXIT_USAGE;
	}
	if ((st = open_store(o, &cfg, &status)) == NULL)
		return status;
	if (strcmp(verb, "list") == 0) {
		if (l.json) {
			buf_init(&jb, 0);
			json_init(&jw, &jb);
			l.w = &jw;
			json_arr_begin(&jw);
		}
		rc = store_supp_each(st, now, supp_print_cb, &l);
		if (l.json) {
			json_arr_end(&jw);
			status = ctl_json_print(&jw, &jb);
		} else if (l.n == 0)
			printf("no suppressed recipients\n");
		if (rc != STORE_OK)
			status = store_failed(rc, "suppress list");
	} else if (strcmp(verb, "add") == 0) {
		memset(&s, 0, sizeof(s));
		snprintf(s.reason, sizeof(s.reason), "%s", reason);
		s.source = SUPP_MANUAL;
		s.created = now;
		s.expires = dur > 0 ? now + dur : 0;
		snprintf(s.who, sizeof(s.who), "%s", operator_name());
		if ((rc = store_supp_put(st, addr, &s)) != STORE_OK)
			status = store_failed(rc, addr);
		else
			printf("%s: suppressed (%s)\n", addr, reason);
	} else {
		rc = store_supp_del(st, addr);
		if (rc == STORE_NOTFOUND) {
			fprintf(stderr, "egressctl: %s is not suppressed\n", addr);
			status = CTL_EXIT_DATAERR;
		} else if (rc != STORE_OK)
			status = store_failed(rc, addr);
		else
			printf("%s: no longer suppressed\n", addr);
	}
	return close_store(st, cfg, status);
}

/* ---- report ---- */

struct report {
	struct store	*st;
	struct fold	 f;
	int64_t		 since, now;
	const char	*primary;	/* key type whose failures make the totals */
	int		 rc;
};

static int
report_sender_cb(void *arg, const char *key, const struct store_meta *m)
{
	struct report *r = arg;

	if (m->last_failure != 0 && m->last_failure < r->since)
		return 0;	/* no failure in the period: nothing to read */
	r->f.key = key;
	/* with several key types a failure is counted under each: total once */
	r->f.skip_totals = strncmp(key, r->primary, strlen(r->primary)) != 0;
	r->rc = store_event_scan(r->st, key, r->since, r->now, fold_cb, &r->f);
	r->f.key = NULL;
	return r->rc != STORE_OK || r->f.err;
}

struct supp_count {
	uint64_t	by_source[3];
	uint64_t	actions[SACT__COUNT];
};

static int
count_supp_cb(void *arg, const char *addr, const struct store_supp *s)
{
	struct supp_count *c = arg;

	(void)addr;
	if ((unsigned)s->source < 3)
		c->by_source[s->source]++;
	return 0;
}

static int
count_status_cb(void *arg, const char *key, const char *dest,
    const struct sender_status *s)
{
	struct supp_count *c = arg;

	(void)key;
	(void)dest;
	if ((unsigned)s->action < SACT__COUNT)
		c->actions[s->action]++;
	return 0;
}

int
cmd_report(const struct ctl_opts *o, int argc, char **argv)
{
	struct config *cfg;
	struct store *st;
	struct report r;
	struct supp_count sc;
	struct fold um;
	long long since = 86400, top = REPORT_TOP_DEFAULT;
	char sname[16];
	int json = 0, status = 0, rc, i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--since") == 0 && i + 1 < argc &&
		    (since = parse_duration(argv[i + 1])) > 0)
			i++;
		else if (strcmp(argv[i], "--top") == 0 && i + 1 < argc &&
		    (top = atoll(argv[i + 1])) > 0)
			i++;
		else {
			fprintf(stderr, "usage: egressctl report [--since 24h] [--top N] [--json]\n");
			return CTL_EXIT_USAGE;
		}
	}
	if ((st = open_store(o, &cfg, &status)) == NULL)
		return status;
	memset(&r, 0, sizeof(r));
	memset(&sc, 0, sizeof(sc));
	r.st = st;
	r.now = (int64_t)time(NULL);
	r.since = r.now - since;
	r.primary = (cfg->policy.keys & SK_ENVELOPE) ? "env:" :
	    (cfg->policy.keys & SK_AUTH) ? "auth:" : "dom:";
	rc = store_meta_each(st, r.now, report_sender_cb, &r);
	if (rc == STORE_OK)
		rc = r.rc;
	if (rc == STORE_OK)
		rc = store_supp_each(st, r.now, count_supp_cb, &sc);
	if (rc == STORE_OK)
		rc = store_status_each(st, NULL, r.now, count_status_cb, &sc);
	/* bounces that did not count, all senders together */
	memset(&um, 0, sizeof(um));
	um.want_unmatched = 1;
	if (rc == STORE_OK)
		rc = store_event_scan(st, LEDGER_UNMATCHED_KEY, r.since, r.now, fold_cb,
		    &um);
	agg_sort(&um.unmatched);
	if (rc != STORE_OK || r.f.err || um.err) {
		status = store_failed(rc, "report");
		goto out;
	}
	agg_sort(&r.f.cat);
	agg_sort(&r.f.reason);
	agg_sort(&r.f.dest);
	agg_sort(&r.f.sender);
	duration_format(since, sname, sizeof(sname));
	if (json) {
		struct json jw;
		struct buf jb;

		buf_init(&jb, 0);
		json_init(&jw, &jb);
		json_obj_begin(&jw);
		json_kv_str(&jw, "since", sname);
		json_kv_str(&jw, "store", store_backend_name(st));
		json_kv_uint(&jw, "failures", agg_total(&r.f.cat));
		print_agg_json(&jw, "categories", &r.f.cat, (size_t)top);
		print_agg_json(&jw, "reasons", &r.f.reason, (size_t)top);
		print_agg_json(&jw, "destinations", &r.f.dest, (size_t)top);
		print_agg_json(&jw, "senders", &r.f.sender, (size_t)top);
		json_kv_uint(&jw, "unmatched", agg_total(&um.unmatched));
		print_agg_json(&jw, "unmatched_reasons", &um.unmatched, (size_t)top);
		json_key(&jw, "suppressed");
		json_obj_begin(&jw);
		json_kv_uint(&jw, "bounce", sc.by_source[SUPP_BOUNCE]);
		json_kv_uint(&jw, "complaint", sc.by_source[SUPP_COMPLAINT]);
		json_kv_uint(&jw, "manual", sc.by_source[SUPP_MANUAL]);
		json_obj_end(&jw);
		json_key(&jw, "actions");
		json_obj_begin(&jw);
		for (i = SACT_TAG; i < SACT_SUPPRESS; i++)
			json_kv_uint(&jw, sender_action_name((enum sender_action)i),
			    sc.actions[i]);
		json_obj_end(&jw);
		json_obj_end(&jw);
		status = ctl_json_print(&jw, &jb);
	} else {
		printf("failures in the last %s: %llu (store: %s)\n", sname,
		    (unsigned long long)agg_total(&r.f.cat), store_backend_name(st));
		print_agg_text("by category", &r.f.cat, (size_t)top);
		print_agg_text("by reason", &r.f.reason, (size_t)top);
		print_agg_text("by destination domain", &r.f.dest, (size_t)top);
		print_agg_text("by sender", &r.f.sender, (size_t)top);
		print_unmatched_text(sname, &um.unmatched);
		printf("in force now: %llu tagged, %llu throttled, %llu held, %llu suspended; "
		    "suppressed recipients: %llu bounced, %llu complained, %llu manual\n",
		    (unsigned long long)sc.actions[SACT_TAG],
		    (unsigned long long)sc.actions[SACT_THROTTLE],
		    (unsigned long long)sc.actions[SACT_HOLD],
		    (unsigned long long)sc.actions[SACT_SUSPEND],
		    (unsigned long long)sc.by_source[SUPP_BOUNCE],
		    (unsigned long long)sc.by_source[SUPP_COMPLAINT],
		    (unsigned long long)sc.by_source[SUPP_MANUAL]);
	}
out:
	fold_free(&r.f);
	fold_free(&um);
	return close_store(st, cfg, status);
}
