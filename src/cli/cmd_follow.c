/*
 * cmd_follow.c - egressctl follow: the delivery-log follower.
 *
 * Reads the MTA's log (maillog.h parses each line) and feeds the sender
 * record with what never comes back as a DSN: deferrals (status=deferred,
 * which Postfix retries for days before it returns anything) and failures
 * at delivery time (status=bounced). Each event is classified with the
 * configured bounce patterns, exactly as classify-log and the milter do.
 *
 * Why a command and not a thread of the daemon: the log is readable by the
 * adm group, the milter runs as its own user and needs no such right; a
 * crash or a stall on a huge log never touches mail flow; and there is one
 * log per host, so exactly one follower per host, whatever number of
 * milter processes runs. Run it under the service manager (README).
 *
 * Evidence. A line counts only when its queue id maps to a sender: through
 * the outbound ledger (the authority), or, with --senders log, through the
 * log's own qmgr/cleanup lines (hosts without the ledger). A line whose
 * queue id has no sender is counted as unmatched and changes nothing; mail
 * from the null sender changes nothing.
 *
 * Never counted twice. The follower keeps, in the store, the file's
 * identity (device, inode, a hash of the first line) and the offset of the
 * first line not yet counted. Each batch of lines is counted in two
 * durable steps: first "pending = end of batch", then the records, a
 * flush, then "offset = end of batch, pending = 0". A follower that stops
 * between the two finds pending > offset at start. With the ledger (and
 * require_match = strict) every line that counts has set a one-time marker
 * first, so the batch is simply read again: what was counted is a
 * duplicate now, what was not counts (exactly once, but for a crash between
 * a marker and its record). Otherwise the batch is skipped: at most one
 * batch (FOLLOW_BATCH_BYTES) is lost, and nothing is counted twice. The
 * choice is deliberate: the record throttles and suspends, so double
 * counting would punish a sender for mail it did not send, while a lost
 * deferral only delays a throttle.
 *
 * Rotation. At the end of the file the follower polls (a bounded sleep,
 * --interval): a new inode at the path (logrotate "create", Postfix's
 * postlog with a renamed file) makes it read the old file to its end, then
 * open the new one from its start; the same inode with a size below the
 * offset or a different first line (logrotate "copytruncate") makes it
 * start over at 0. After a restart, a cursor that names the file now at
 * PATH.1 is finished there first. Standard input has no cursor.
 *
 * Signals: SIGTERM, SIGINT and SIGHUP stop it after the current batch, the
 * cursor saved. Exit status: 0, 64 usage, 65 unreadable file, 70 store or
 * internal failure, 78 bad configuration.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "egress/bounce.h"
#include "egress/classify.h"
#include "egress/config.h"
#include "egress/dsn.h"
#include "egress/maillog.h"
#include "egress/sender.h"
#include "egress/store.h"
#include "commands.h"

#define FOLLOW_BATCH_BYTES	(1024 * 1024)	/* read and counted per batch */
#define FOLLOW_HEAD_MAX		256	/* bytes of the first line hashed */
#define FOLLOW_WARM_BYTES	(4 * 1024 * 1024)	/* read back for senders */
#define FOLLOW_QMAP		65536	/* queue ids remembered from the log */
#define FOLLOW_IDLE_SAVE	5	/* seconds between cursor saves when idle */

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/*
 * A delivery event -> the sender keys to charge. Returns STORE_OK with keys
 * filled when the event counts, STORE_NOTFOUND when it does not (*why says
 * why: unmatched, or a failure counted before), or a store error.
 */
struct follower;
typedef int follow_lookup_fn(struct follower *f, const struct maillog_event *ev,
	    const struct maillog_rcpt *r, int64_t now, int may_wait,
	    struct sender_keys *keys, enum ledger_reason *why);

/*
 * A message the MTA tries to deliver a moment after the milter passed it
 * may not be in the ledger yet: the milter writes it through the store's
 * group commit (commit_interval_ms, Redis at once). A queue id the ledger
 * does not know, on a line this recent, is asked again once the commit
 * interval has passed (one wait per batch at most).
 */
#define FOLLOW_RECENT		5	/* seconds: a line this old may be that */
#define FOLLOW_AGAIN		(-100)	/* lookup: wait, then ask again */

struct follower {
	struct config		*cfg;
	struct store		*st;
	const struct classifier	*cl;
	struct maillog_qmap	*qmap;
	follow_lookup_fn	*lookup;
	int			 use_ledger;	/* --senders ledger */
	const char		*path;
	char			 name[STORE_CURSOR_NAME_MAX + 1];
	int			 fd;
	int			 is_stdin;
	int			 verbose;
	int			 utcoff;
	int			 waited;	/* waited for the ledger in this batch */
	struct store_cursor	 cur;
	time_t			 saved_at;
	/* what it did, for the summary */
	unsigned long long	 lines, deliveries, deferrals, bounces, sent;
	unsigned long long	 unmatched, skipped, errors, overlong, repeated;
};

/* ---- which sender: the ledger, or the log itself ---- */

/* The sender the log's qmgr line named for the event's queue id. */
static int
named_keys(struct follower *f, const struct maillog_event *ev,
    struct sender_keys *keys, const char **sender)
{
	*sender = NULL;
	if (!maillog_qmap_get(f->qmap, ev->qid.p, ev->qid.n, sender, NULL) ||
	    *sender == NULL || (*sender)[0] == '\0')
		return 0;	/* unknown, or the null sender */
	return sender_keys_make(&f->cfg->policy, *sender, NULL, keys) == 0 &&
	    sender_keys_count(keys) > 0;
}

/* --senders log: the log's own sender lines (hosts without the ledger). */
static int
lookup_log(struct follower *f, const struct maillog_event *ev,
    const struct maillog_rcpt *r, int64_t now, int may_wait,
    struct sender_keys *keys, enum ledger_reason *why)
{
	const char *sender;

	(void)r;
	(void)now;
	(void)may_wait;
	*why = LEDGER_UNKNOWN_MESSAGE;
	return named_keys(f, ev, keys, &sender) ? STORE_OK : STORE_NOTFOUND;
}

/*
 * --senders ledger: the queue id must name a message of the ledger and the
 * recipient must be one of its recipients (sender_bounce_evidence, the
 * milter's rule for DSNs); each (message, recipient, status) counts once,
 * with deferrals marked apart from failures ("defer:4.7.0") so that the
 * final failure of a message deferred before still counts. A failure the
 * MTA also returns as a DSN is marked with the same status the DSN carries,
 * so the two count once together. Misses count under require_match =
 * relaxed with the sender the log names, as for DSNs.
 */
static int
lookup_ledger(struct follower *f, const struct maillog_event *ev,
    const struct maillog_rcpt *r, int64_t now, int may_wait,
    struct sender_keys *keys, enum ledger_reason *why)
{
	const struct ledger_conf *lc = store_ledger_conf(f->st);
	struct bounce_evidence b;
	struct ledger_entry *e;
	struct sender_keys named;
	char qid[MAILLOG_QID_MAX + 1], status[32];
	const char *sender;
	int have_named, counts = 0, rc;

	have_named = named_keys(f, ev, &named, &sender);
	if (lc->require == LEDGER_OFF) {
		*why = LEDGER_UNKNOWN_MESSAGE;
		if (!have_named)
			return STORE_NOTFOUND;
		*keys = named;
		return STORE_OK;
	}
	maillog_span_copy(&ev->qid, qid, sizeof(qid));
	snprintf(status, sizeof(status), "%s%s",
	    ev->status == MAILLOG_DEFERRED ? "defer:" : "",
	    r->r.status != NULL ? r->r.status : "-");
	memset(&b, 0, sizeof(b));
	b.queue_id = qid;
	b.sender = have_named ? sender : NULL;
	b.rcpt = r->r.final_rcpt;
	b.status = status;
	if ((e = malloc(sizeof(*e))) == NULL)
		return STORE_ERROR;
	rc = sender_bounce_evidence(f->st, &b, now, e, why, &counts);
	if (rc == STORE_OK && *why == LEDGER_MATCHED)
		ledger_entry_keys(e, keys);
	free(e);
	if (rc != STORE_OK || *why == LEDGER_MATCHED)
		return rc;
	if (may_wait && *why == LEDGER_UNKNOWN_MESSAGE)
		return FOLLOW_AGAIN;
	if (*why != LEDGER_DUPLICATE &&
	    (rc = sender_record_unmatched(f->st, have_named ? &named : NULL, *why,
	    now * 1000)) != STORE_OK)
		return rc;
	if (counts && have_named) {
		*keys = named;
		return STORE_OK;
	}
	return STORE_NOTFOUND;
}

/* ---- file identity ---- */

static uint64_t
fnv64(const char *p, size_t n)
{
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/*
 * The head of fd: its first line (to and with the LF), at most
 * FOLLOW_HEAD_MAX bytes. *len 0 when the file has no complete head yet.
 */
static int
file_head(int fd, uint64_t *hash, uint32_t *len)
{
	char b[FOLLOW_HEAD_MAX];
	ssize_t n;
	char *lf;

	*hash = 0;
	*len = 0;
	if ((n = pread(fd, b, sizeof(b), 0)) < 0)
		return -1;
	if ((lf = memchr(b, '\n', (size_t)n)) != NULL)
		n = lf - b + 1;
	else if ((size_t)n < sizeof(b))
		return 0;
	*hash = fnv64(b, (size_t)n);
	*len = (uint32_t)n;
	return 0;
}

/* Does fd's head still match the cursor's? (No head recorded: yes.) */
static int
head_matches(int fd, const struct store_cursor *c)
{
	char b[FOLLOW_HEAD_MAX];
	ssize_t n;

	if (c->head_len == 0 || c->head_len > sizeof(b))
		return 1;
	n = pread(fd, b, c->head_len, 0);
	return n == (ssize_t)c->head_len && fnv64(b, (size_t)n) == c->head_hash;
}

static void
identity(struct follower *f, const struct stat *sb)
{
	f->cur.dev = (uint64_t)sb->st_dev;
	f->cur.ino = (uint64_t)sb->st_ino;
	(void)file_head(f->fd, &f->cur.head_hash, &f->cur.head_len);
}

/* ---- the cursor ---- */

static int
save_cursor(struct follower *f)
{
	int rc;

	if (f->is_stdin)
		return STORE_OK;
	if (f->cur.head_len == 0)
		(void)file_head(f->fd, &f->cur.head_hash, &f->cur.head_len);
	f->cur.updated = time(NULL);
	/* retry while the store is unreachable, unless told to stop */
	while ((rc = store_cursor_put(f->st, f->name, &f->cur)) == STORE_UNAVAILABLE &&
	    !stop_requested)
		sleep(1);
	if (rc == STORE_OK)
		f->saved_at = time(NULL);
	return rc;
}

static void	nap(long ms);

/* ---- one line ---- */

static void
say(const struct follower *f, const char *what, const struct maillog_event *ev,
    const struct maillog_rcpt *r)
{
	struct buf b;

	if (!f->verbose)
		return;
	buf_init(&b, 0);
	if (buf_printf(&b, "%s queue_id=", what) == BUF_OK &&
	    log_escape(&b, ev->qid.p, ev->qid.n, MAILLOG_QID_MAX) == BUF_OK &&
	    buf_puts(&b, " rcpt=<") == BUF_OK &&
	    log_escape(&b, ev->rcpt.p, ev->rcpt.n, MAILLOG_ADDR_MAX) == BUF_OK &&
	    buf_printf(&b, "> event=%s", maillog_status_name(ev->status)) == BUF_OK &&
	    (r == NULL || buf_printf(&b, " reason=%s category=%s",
	    r->r.cls.reason, r->r.cls.category) == BUF_OK))
		puts(buf_cstr(&b));
	buf_fini(&b);
}

/* Count one line; returns a store status (STORE_OK for lines that change nothing). */
static int
one_line(struct follower *f, const char *line, size_t n, int learn_only)
{
	struct maillog_event ev;
	struct maillog_rcpt r;
	struct sender_keys keys;
	enum ledger_reason why = LEDGER_UNKNOWN_MESSAGE;
	const char *dest;
	int64_t now = time(NULL), t;
	int rc;

	switch (maillog_parse(line, n, &ev)) {
	case MAILLOG_SENDER:
	case MAILLOG_MSGID:
		return maillog_qmap_learn(f->qmap, &ev) == 0 ? STORE_OK : STORE_ERROR;
	case MAILLOG_DELIVERY:
		break;
	default:
		return STORE_OK;
	}
	if (learn_only)
		return STORE_OK;
	f->deliveries++;
	if (ev.status == MAILLOG_SENT) {
		f->sent++;
		return STORE_OK;
	}
	if (ev.cached) {
		/* Postfix repeating an earlier reply: nothing new was said */
		f->skipped++;
		return STORE_OK;
	}
	if (maillog_classify(f->cl, &ev, &r) != 0)
		return STORE_ERROR;
	t = maillog_event_time(&ev, now, f->utcoff);
	rc = f->lookup(f, &ev, &r, now, !f->waited && now - t <= FOLLOW_RECENT,
	    &keys, &why);
	if (rc == FOLLOW_AGAIN) {
		nap(f->cfg->store.commit_interval_ms * 2 + 100);
		f->waited = 1;
		rc = f->lookup(f, &ev, &r, time(NULL), 0, &keys, &why);
	}
	if (rc == STORE_NOTFOUND) {
		if (why == LEDGER_DUPLICATE) {
			f->repeated++;	/* a retry with the same reply */
			say(f, "repeated", &ev, &r);
		} else {
			f->unmatched++;
			say(f, "unmatched", &ev, &r);
		}
		maillog_rcpt_fini(&r);
		return STORE_OK;
	}
	if (rc != STORE_OK) {
		maillog_rcpt_fini(&r);
		return rc;
	}
	/* the log's time unless it is in the future or too old to count */
	if (t > now || t < now - store_retention(f->st))
		t = now;
	dest = strrchr(r.r.final_rcpt, '@');
	dest = dest != NULL && dest[1] != '\0' ? dest + 1 : NULL;
	if (ev.status == MAILLOG_DEFERRED) {
		rc = sender_record_deferral(f->st, &f->cfg->policy, &keys, dest,
		    r.r.cls.category, r.r.cls.reason, t * 1000);
		f->deferrals++;
		say(f, "deferral", &ev, &r);
	} else {
		rc = sender_record_failure(f->st, &f->cfg->policy, &keys, dest,
		    r.r.cls.category, r.r.cls.reason, r.r.cls.hard,
		    r.r.final_rcpt, t * 1000);
		f->bounces++;
		say(f, "failure", &ev, &r);
	}
	maillog_rcpt_fini(&r);
	return rc;
}

/* ---- reading ---- */

struct reader {
	char	*buf;
	size_t	 cap, len;	/* bytes held; buf[0] is at file offset base */
	int64_t	 base;
	int	 discard;	/* inside an over-long line */
};

/*
 * Count the complete lines in r (from file offset r->base), leaving a
 * partial last line in the buffer. Two-phase commit around the records
 * (see the top of the file). Returns 0, or a store status.
 */
static int
drain(struct follower *f, struct reader *r, int final, int learn_only)
{
	char *p = r->buf, *e = r->buf + r->len, *lf;
	int64_t end;
	size_t used;
	int rc = STORE_OK, counting;

	/* the batch is [base, end): up to the last LF (or all when final) */
	for (lf = e; lf > p && lf[-1] != '\n'; lf--)
		;
	if (final)
		lf = e;
	used = (size_t)(lf - p);
	if (used == 0)
		return STORE_OK;
	end = r->base + (int64_t)used;
	counting = !learn_only && !f->is_stdin;
	f->waited = 0;
	if (counting) {
		f->cur.offset = r->base;
		f->cur.pending = end;
		if ((rc = save_cursor(f)) != STORE_OK)
			return rc;
	}
	while (p < lf) {
		char *nl = memchr(p, '\n', (size_t)(lf - p));
		size_t n = (size_t)((nl != NULL ? nl : lf) - p);

		if (r->discard)
			r->discard = 0;	/* the tail of an over-long line */
		else if (n > 0) {
			int lrc;

			if (!learn_only)
				f->lines++;
			lrc = one_line(f, p, n, learn_only);
			if (lrc == STORE_UNAVAILABLE || lrc == STORE_ERROR) {
				f->errors++;
				if (rc == STORE_OK)
					rc = lrc;
			}
		}
		p = nl != NULL ? nl + 1 : lf;
	}
	if (!learn_only) {
		if (store_flush(f->st) != STORE_OK && rc == STORE_OK)
			rc = STORE_ERROR;
		f->cur.lines = f->lines;
	}
	memmove(r->buf, lf, (size_t)(e - lf));
	r->len = (size_t)(e - lf);
	r->base = end;
	if (counting) {
		f->cur.offset = end;
		f->cur.pending = 0;
		if (save_cursor(f) != STORE_OK && rc == STORE_OK)
			rc = STORE_ERROR;
	}
	if (rc != STORE_OK)
		fprintf(stderr, "egressctl follow: the store failed in a batch "
		    "ending at offset %lld; lines of it may be uncounted\n",
		    (long long)end);
	return STORE_OK;	/* a failed batch is reported, never retried */
}

/*
 * Read what fd has, up to a batch at a time, and count it. Returns 1 when
 * something was read, 0 at the end, -1 on a read error.
 */
static int
read_some(struct follower *f, struct reader *r, int learn_only, int64_t stop_at)
{
	size_t room;
	ssize_t n;

	if (r->len >= MAILLOG_LINE_MAX && memchr(r->buf, '\n', r->len) == NULL) {
		/* an over-long line: count it as such, skip to its end */
		f->overlong++;
		r->base += (int64_t)r->len;
		r->len = 0;
		r->discard = 1;
	}
	room = r->cap - r->len;
	if (stop_at >= 0 && (int64_t)room > stop_at - (r->base + (int64_t)r->len))
		room = (size_t)(stop_at - (r->base + (int64_t)r->len));
	if (room == 0)
		return 0;
	n = read(f->fd, r->buf + r->len, room);
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	if (n == 0)
		return 0;
	r->len += (size_t)n;
	if (r->discard) {
		char *lf = memchr(r->buf, '\n', r->len);

		if (lf == NULL) {
			r->base += (int64_t)r->len;
			r->len = 0;
			return 1;
		}
		r->base += lf + 1 - r->buf;
		r->len -= (size_t)(lf + 1 - r->buf);
		memmove(r->buf, lf + 1, r->len);
		r->discard = 0;
	}
	if (drain(f, r, 0, learn_only) != STORE_OK)
		return -1;
	return 1;
}

/* Reopen the path as a new file: offset 0, new identity. */
static int
open_new(struct follower *f, struct reader *r)
{
	struct stat sb;
	int fd;

	if ((fd = open(f->path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(fd, &sb) != 0) {
		close(fd);
		return -1;
	}
	close(f->fd);
	f->fd = fd;
	memset(&f->cur, 0, sizeof(f->cur));
	identity(f, &sb);
	r->len = 0;
	r->base = 0;
	r->discard = 0;
	return save_cursor(f) == STORE_OK ? 0 : -1;
}

/*
 * At the end of the file: has it been rotated or truncated? Returns 1 when
 * f now reads another file (or the same one from 0), 0 when nothing
 * changed.
 */
static int
check_rotation(struct follower *f, struct reader *r)
{
	struct stat now, cur;

	if (f->is_stdin || fstat(f->fd, &cur) != 0)
		return 0;
	if (stat(f->path, &now) != 0)
		return 0;	/* renamed, the new one not created yet */
	if ((uint64_t)now.st_dev != f->cur.dev || (uint64_t)now.st_ino != f->cur.ino) {
		/* "create": finish the old file, then the new one from 0 */
		while (read_some(f, r, 0, -1) > 0)
			;
		(void)drain(f, r, 1, 0);
		if (f->verbose)
			printf("rotated: %s is a new file, reading it from the start\n",
			    f->path);
		return open_new(f, r) == 0 ? 1 : 0;
	}
	if (cur.st_size < r->base + (int64_t)r->len || !head_matches(f->fd, &f->cur)) {
		/* "copytruncate": the same file, started over */
		if (lseek(f->fd, 0, SEEK_SET) < 0)
			return 0;
		memset(&f->cur, 0, sizeof(f->cur));
		identity(f, &cur);
		r->len = 0;
		r->base = 0;
		r->discard = 0;
		if (f->verbose)
			printf("truncated: reading %s from the start\n", f->path);
		(void)save_cursor(f);
		return 1;
	}
	return 0;
}

/* Sleep up to ms, waking early on a stop request. */
static void
nap(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (!stop_requested && nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- start: where to begin ---- */

/* Learn the senders of the bytes before off, counting nothing. */
static void
warm_up(struct follower *f, int64_t off)
{
	struct reader r;
	int64_t from = off > FOLLOW_WARM_BYTES ? off - FOLLOW_WARM_BYTES : 0;

	if (from >= off || (r.buf = malloc(FOLLOW_BATCH_BYTES)) == NULL)
		return;
	r.cap = FOLLOW_BATCH_BYTES;
	r.len = 0;
	r.base = from;
	r.discard = from > 0;	/* the first line is probably cut */
	if (lseek(f->fd, from, SEEK_SET) >= 0)
		while (read_some(f, &r, 1, off) > 0)
			;
	free(r.buf);
	(void)lseek(f->fd, off, SEEK_SET);
}

/*
 * May an interrupted batch be read again? Only when every line that can
 * count is deduplicated by a ledger marker: --senders ledger with
 * require_match = strict (misses never count there).
 */
static int
replay_safe(const struct follower *f)
{
	return f->use_ledger && store_ledger_conf(f->st)->require == LEDGER_STRICT;
}

static int
same_file(const struct stat *sb, const struct store_cursor *c)
{
	return (uint64_t)sb->st_dev == c->dev && (uint64_t)sb->st_ino == c->ino;
}

/*
 * Position f->fd from the stored cursor: resume, finish PATH.1 first, or
 * start at the end (or the start with --from-start) of a new file.
 * *old_fd gets an open PATH.1 to finish first, or -1.
 */
static int
position(struct follower *f, int from_start, int *old_fd, struct store_cursor *old)
{
	struct store_cursor c;
	struct stat sb, rb;
	char rotated[4096];
	int rc, fd;

	*old_fd = -1;
	if (fstat(f->fd, &sb) != 0)
		return -1;
	rc = store_cursor_get(f->st, f->name, &c);
	if (rc != STORE_OK && rc != STORE_NOTFOUND) {
		fprintf(stderr, "egressctl follow: cannot read the cursor: %s\n",
		    rc == STORE_UNAVAILABLE ? "store unavailable" : "store error");
		return -1;
	}
	if (rc == STORE_OK && same_file(&sb, &c) && head_matches(f->fd, &c) &&
	    sb.st_size >= c.offset) {
		f->cur = c;
		if (c.pending > c.offset && replay_safe(f)) {
			fprintf(stderr, "egressctl follow: re-reading bytes %lld-%lld "
			    "of %s, a batch interrupted while it was counted (the "
			    "ledger's markers keep counted lines from counting again)\n",
			    (long long)c.offset, (long long)c.pending, f->path);
			f->cur.pending = 0;
		} else if (c.pending > c.offset) {
			fprintf(stderr, "egressctl follow: skipping bytes %lld-%lld "
			    "of %s: a batch interrupted while it was counted\n",
			    (long long)c.offset, (long long)c.pending, f->path);
			f->cur.offset = c.pending;
			f->cur.pending = 0;
		}
		if (f->cur.offset > sb.st_size)
			f->cur.offset = sb.st_size;
		warm_up(f, f->cur.offset);
		if (lseek(f->fd, f->cur.offset, SEEK_SET) < 0)
			return -1;
		f->lines = f->cur.lines;
		return 0;
	}
	/* rotated while stopped: finish PATH.1 if the cursor names it */
	if (rc == STORE_OK &&
	    (size_t)snprintf(rotated, sizeof(rotated), "%s.1", f->path) < sizeof(rotated) &&
	    stat(rotated, &rb) == 0 && same_file(&rb, &c) && rb.st_size >= c.offset &&
	    (fd = open(rotated, O_RDONLY | O_CLOEXEC)) >= 0) {
		if (head_matches(fd, &c)) {
			*old_fd = fd;
			*old = c;
			if (old->pending > old->offset)
				old->offset = old->pending;
			old->pending = 0;
		} else
			close(fd);
	}
	memset(&f->cur, 0, sizeof(f->cur));
	identity(f, &sb);
	/* copytruncate while stopped: the same inode holds new lines only */
	if (rc == STORE_OK && same_file(&sb, &c))
		from_start = 1;
	f->cur.offset = from_start || *old_fd >= 0 ? 0 : sb.st_size;
	/* start at a line boundary */
	if (f->cur.offset > 0) {
		char ch;

		if (pread(f->fd, &ch, 1, f->cur.offset - 1) == 1 && ch != '\n') {
			/* the last line is still being written: take it whole */
			while (f->cur.offset > 0 &&
			    pread(f->fd, &ch, 1, f->cur.offset - 1) == 1 && ch != '\n')
				f->cur.offset--;
		}
	}
	warm_up(f, f->cur.offset);
	if (lseek(f->fd, f->cur.offset, SEEK_SET) < 0)
		return -1;
	return *old_fd >= 0 ? 0 : save_cursor(f) == STORE_OK ? 0 : -1;
}

/* Count the rest of a rotated file (PATH.1) from the stored cursor. */
static void
finish_old(struct follower *f, int fd, const struct store_cursor *c)
{
	struct store_cursor keep = f->cur;
	struct reader r;
	int keep_fd = f->fd;

	if ((r.buf = malloc(FOLLOW_BATCH_BYTES)) == NULL) {
		close(fd);
		return;
	}
	r.cap = FOLLOW_BATCH_BYTES;
	r.len = 0;
	r.discard = 0;
	f->fd = fd;
	f->cur = *c;
	f->lines = c->lines;
	warm_up(f, c->offset);
	r.base = c->offset;
	if (lseek(fd, c->offset, SEEK_SET) >= 0) {
		if (f->verbose)
			printf("finishing %s.1 from offset %lld\n", f->path,
			    (long long)c->offset);
		while (!stop_requested && read_some(f, &r, 0, -1) > 0)
			;
		(void)drain(f, &r, 1, 0);
	}
	free(r.buf);
	close(fd);
	f->fd = keep_fd;
	f->cur = keep;
	(void)save_cursor(f);
}

/* ---- the command ---- */

static void
usage(void)
{
	fprintf(stderr, "usage: egressctl [-c CONF] follow [-c CONF] [--from-start] "
	    "[--once] [--senders ledger|log] [--interval SECONDS] [--name NAME] "
	    "[-v] FILE|-\n");
}

static void
follower_name(struct follower *f, const char *name)
{
	char host[256], *p;

	if (name == NULL) {
		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		snprintf(f->name, sizeof(f->name), "follow:%s:%s", host, f->path);
	} else
		snprintf(f->name, sizeof(f->name), "%s", name);
	for (p = f->name; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p == 0x7f)
			*p = '_';
}

static int
local_utcoff(void)
{
	time_t t = time(NULL);
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL)
		return 0;
	return (int)tm.tm_gmtoff;
}

static void
log_stderr(void *arg, int level, const char *msg)
{
	(void)arg;
	(void)level;
	fprintf(stderr, "egressctl follow: %s\n", msg);
}

int
cmd_follow(const struct ctl_opts *o, int argc, char **argv)
{
	struct ctl_opts opts = *o;
	struct follower f;
	struct reader r = { NULL, 0, 0, 0, 0 };
	struct sigaction sa;
	struct store_cursor old;
	const char *file = NULL, *name = NULL, *senders = "ledger";
	char err[512];
	long interval_ms = 1000;
	int i, from_start = 0, once = 0, status = CTL_EXIT_OK, old_fd = -1, st;

	memset(&f, 0, sizeof(f));
	f.fd = -1;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			opts.config_path = argv[++i];
		else if (strcmp(argv[i], "--from-start") == 0)
			from_start = 1;
		else if (strcmp(argv[i], "--once") == 0)
			once = 1;
		else if (strcmp(argv[i], "-v") == 0)
			f.verbose = 1;
		else if (strcmp(argv[i], "--senders") == 0 && i + 1 < argc &&
		    (strcmp(argv[i + 1], "ledger") == 0 || strcmp(argv[i + 1], "log") == 0))
			senders = argv[++i];
		else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
			name = argv[++i];
		else if (strcmp(argv[i], "--interval") == 0 && i + 1 < argc) {
			char *end;
			double s = strtod(argv[++i], &end);

			if (*end != '\0' || !(s >= 0.01 && s <= 60)) {
				fprintf(stderr, "egressctl follow: --interval: "
				    "0.01 to 60 seconds\n");
				return CTL_EXIT_USAGE;
			}
			interval_ms = (long)(s * 1000);
		} else if (file == NULL && (argv[i][0] != '-' || argv[i][1] == '\0'))
			file = argv[i];
		else {
			usage();
			return CTL_EXIT_USAGE;
		}
	}
	if (file == NULL) {
		usage();
		return CTL_EXIT_USAGE;
	}
	if ((f.cfg = ctl_load_config(&opts, &st)) == NULL)
		return st;
	f.use_ledger = strcmp(senders, "ledger") == 0;
	if (f.use_ledger && !f.cfg->store.ledger.enabled) {
		fprintf(stderr, "egressctl follow: the ledger is off in the "
		    "configuration (store.ledger.enabled); use --senders log\n");
		config_free(f.cfg);
		return CTL_EXIT_CONFIG;
	}
	f.cl = f.cfg->bounce.classifier;
	if (f.cl == NULL)
		fprintf(stderr, "egressctl follow: no bounce patterns loaded; "
		    "classifying by status and reply codes only\n");
	f.path = file;
	f.is_stdin = strcmp(file, "-") == 0;
	f.utcoff = local_utcoff();
	f.lookup = f.use_ledger ? lookup_ledger : lookup_log;
	follower_name(&f, name);
	if ((f.qmap = maillog_qmap_new(FOLLOW_QMAP)) == NULL ||
	    (r.buf = malloc(FOLLOW_BATCH_BYTES)) == NULL) {
		status = CTL_EXIT_SOFTWARE;
		goto out;
	}
	r.cap = FOLLOW_BATCH_BYTES;
	if ((f.st = store_open(&f.cfg->store, log_stderr, NULL, err, sizeof(err))) == NULL) {
		fprintf(stderr, "egressctl follow: cannot open the store: %s\n", err);
		status = CTL_EXIT_SOFTWARE;
		goto out;
	}
	if (f.use_ledger && !store_ledger_ready(f.st)) {
		fprintf(stderr, "egressctl follow: the ledger cannot be used (its "
		    "key file is unreadable?); use --senders log\n");
		status = CTL_EXIT_SOFTWARE;
		goto out;
	}
	if (f.is_stdin)
		f.fd = STDIN_FILENO;
	else if ((f.fd = open(file, O_RDONLY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "egressctl follow: %s: %s\n", file, strerror(errno));
		status = CTL_EXIT_DATAERR;
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: a blocked read returns */
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGHUP, &sa, NULL);
	if (!f.is_stdin) {
		if (position(&f, from_start, &old_fd, &old) != 0) {
			status = CTL_EXIT_SOFTWARE;
			goto out;
		}
		if (old_fd >= 0)
			finish_old(&f, old_fd, &old);
		r.base = f.cur.offset;
	}
	while (!stop_requested) {
		int got = read_some(&f, &r, 0, -1);

		if (got < 0) {
			fprintf(stderr, "egressctl follow: %s: read: %s\n", file,
			    strerror(errno));
			status = CTL_EXIT_DATAERR;
			break;
		}
		if (got > 0)
			continue;
		if (f.is_stdin) {
			(void)drain(&f, &r, 1, 0);
			break;	/* stdin: the end is the end */
		}
		if (check_rotation(&f, &r))
			continue;
		if (once)
			break;
		if (time(NULL) - f.saved_at >= FOLLOW_IDLE_SAVE)
			(void)save_cursor(&f);
		fflush(stdout);
		nap(interval_ms);
	}
	if (!f.is_stdin && save_cursor(&f) != STORE_OK)
		status = CTL_EXIT_SOFTWARE;
	printf("follow: lines=%llu deliveries=%llu sent=%llu deferrals=%llu "
	    "failures=%llu unmatched=%llu repeated=%llu suspended=%llu "
	    "overlong=%llu errors=%llu offset=%lld\n", f.lines, f.deliveries,
	    f.sent, f.deferrals, f.bounces, f.unmatched, f.repeated, f.skipped,
	    f.overlong, f.errors, (long long)f.cur.offset);
	fflush(stdout);
	if (f.errors > 0 && status == CTL_EXIT_OK)
		status = CTL_EXIT_SOFTWARE;
out:
	if (f.st != NULL) {
		if (store_flush(f.st) != STORE_OK && status == CTL_EXIT_OK)
			status = CTL_EXIT_SOFTWARE;
		store_close(f.st);
	}
	if (f.fd >= 0 && !f.is_stdin)
		close(f.fd);
	free(r.buf);
	maillog_qmap_free(f.qmap);
	config_free(f.cfg);
	return status;
}
