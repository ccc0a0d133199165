/*
 * metrics - the daemon's counters and histograms, and the `metrics` section.
 *
 * A registry of atomic counters with labels from fixed, small sets only:
 * actions, the check ids of the registry (checks.h; every operator rule is
 * counted under the one value "rule.*"), the bounce vocabulary (vocab.h),
 * the sender-record actions (sender.h), the store operations and the milter
 * callback stages named below. Nothing is ever labelled by an address, a
 * domain or any other value a message brings, so the number of series is
 * fixed when the registry is made (metrics_series() says how many).
 *
 * Pure: the caller measures (durations are handed in as nanoseconds) and
 * serves the page (metrics_write() fills a buffer); no clock, no socket.
 *
 * Threading: every metrics_* update is a relaxed atomic add and may be
 * called from any thread at once; metrics_write() may run at the same time
 * and sees each counter at some recent value (a histogram's buckets, sum
 * and count are read one after another, not as one snapshot; the count is
 * the sum of the buckets read, so the page is always self-consistent about
 * buckets and count). Every update accepts a NULL registry and does nothing:
 * that is the metrics-off path.
 */
#ifndef EGRESS_METRICS_H
#define EGRESS_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

#include "egress/buf.h"
#include "egress/findings.h"
#include "egress/sender.h"

struct cfg_errors;
struct dsn_report;

/* The milter callbacks whose latency is measured. */
enum metrics_stage {
	MSTAGE_CONNECT = 0,
	MSTAGE_ENVFROM,
	MSTAGE_ENVRCPT,
	MSTAGE_EOH,
	MSTAGE_BODY,
	MSTAGE_EOM,
	MSTAGE__COUNT
};

/* The sender-record calls of the milter (store.h) whose latency is measured. */
enum metrics_store_op {
	MSTORE_SENDER_CHECK = 0,	/* sender_check(), MAIL and RCPT */
	MSTORE_RECIPIENT_CHECK,		/* recipient_check(), RCPT */
	MSTORE_RECORD_FAILURE,		/* sender_record_failure(), bounces */
	MSTORE__COUNT
};

/* Did a bounce match a message this MTA sent (the ledger)? */
enum metrics_match {
	MMATCH_UNKNOWN = 0,		/* not looked up */
	MMATCH_YES,
	MMATCH_NO,
	MMATCH__COUNT
};

struct metrics;

/* A registry with every counter at zero, or NULL when out of memory. */
struct metrics	*metrics_new(void);
void		 metrics_free(struct metrics *);

/*
 * One message decided: action is what was done; in monitor mode would is
 * what enforce mode would have done, counted apart.
 */
void	metrics_message(struct metrics *, enum action action, enum action would,
	    int monitor);
/* Every finding of a message, by check id. */
void	metrics_findings(struct metrics *, const struct findings *);
/* One failed recipient or report of a bounce; reason from the vocabulary
 * (anything else is counted as "undefined"), its category follows. */
void	metrics_bounce(struct metrics *, const char *reason, enum metrics_match);
/*
 * A recognised report (dsn.h): every failed recipient of a DSN by its
 * reason (a recipient whose Action is delayed, delivered, relayed or
 * expanded is no failure), every recipient of a complaint as "feedback",
 * an auto-reply as "vacation" and a success DSN as "delivered" (once per
 * report when it names no recipient).
 */
void	metrics_report(struct metrics *, const struct dsn_report *,
	    enum metrics_match);
/* The sender-record facts applied to a message or recipient, by action
 * (sender.throttled, .rate and .warmup are all "throttle"). */
void	metrics_sender_facts(struct metrics *, const struct sender_facts *);
void	metrics_sender_fact(struct metrics *, const char *check_id);
/* A store call took ns nanoseconds and returned rc (enum store_rc values:
 * STORE_ERROR -1 and STORE_UNAVAILABLE -2 count as errors). */
void	metrics_store(struct metrics *, enum metrics_store_op, uint64_t ns, int rc);
/* A milter callback took ns nanoseconds. */
void	metrics_stage(struct metrics *, enum metrics_stage, uint64_t ns);
/* Sessions (milter connections) opened (+1) or closed (-1). */
void	metrics_session(struct metrics *, int delta);
/* A configuration reload succeeded (ok) or failed. */
void	metrics_reload(struct metrics *, int ok);
/* The DMARC preflight looked at a message: enum preflight_verdict. */
void	metrics_preflight(struct metrics *, int verdict);
/* A self-check ran: pairs (egress IP, list) listed and not checked now. */
void	metrics_selfcheck(struct metrics *, unsigned listed, unsigned unchecked);

/*
 * The exposition (prom.h, text format 0.0.4) of every metric, with
 * milter_egress_build_info{version="version"} 1. Returns a buf status.
 */
EGRESS_WUR int	metrics_write(const struct metrics *, const char *version,
		    struct buf *out);
/* Number of series metrics_write() writes (histograms count each line). */
size_t	metrics_series(const struct metrics *);

const char	*metrics_stage_name(enum metrics_stage);
const char	*metrics_store_op_name(enum metrics_store_op);
const char	*metrics_match_name(enum metrics_match);

/* ---- reading a page back: egressctl stats ---- */

/*
 * A summary of an exposition page (any page: what a server sent is
 * untrusted). metrics_summary_feed() reads the page line by line with
 * prom_parse_line() and keeps the milter_egress_* series it knows: messages
 * and monitor-mode decisions by action, findings by check (at most
 * METRICS_SUMMARY_KEYS distinct ones), bounces by category and match,
 * sender actions, store and callback latency histograms (at most
 * METRICS_SUMMARY_BUCKETS buckets each), store errors, sessions, reloads
 * and the version. Anything else is ignored; a malformed line is counted.
 * metrics_summary_format() writes the text egressctl prints: label values
 * are escaped (log_escape), latencies are estimated p50 and p99 (linear
 * inside the bucket that holds the rank, as Prometheus'
 * histogram_quantile() does).
 */
#define METRICS_SUMMARY_KEYS	256
#define METRICS_SUMMARY_BUCKETS	64
struct metrics_summary;
struct metrics_summary	*metrics_summary_new(void);
void			 metrics_summary_free(struct metrics_summary *);
/* Feed a whole page (or consecutive pieces that end at line ends). */
void	metrics_summary_feed(struct metrics_summary *, const char *text,
	    size_t len);
/* Lines that were not comments, blank or samples. */
size_t	metrics_summary_bad_lines(const struct metrics_summary *);
/* Samples of milter_egress_* series read. */
size_t	metrics_summary_samples(const struct metrics_summary *);
EGRESS_WUR int	metrics_summary_format(const struct metrics_summary *,
		    struct buf *out);
/*
 * The q-quantile (0 < q < 1) of a histogram given as n cumulative buckets
 * (upper bounds le ascending, the last one +Inf, counts cum): linear
 * interpolation inside the bucket holding rank q * total; the highest
 * finite bound when the rank falls in +Inf. Returns NaN when empty.
 */
double	metrics_quantile(double q, const double *le, const double *cum,
	    size_t n);

/* ---- the `metrics` section ---- */

#define METRICS_HOST_MAX	64

struct metrics_conf {
	char	*listen;	/* "ADDR:PORT", "[V6]:PORT"; NULL: off (default) */
	int	 allow_remote;	/* a non-loopback listen address is allowed */
};

int	metrics_conf_default(struct metrics_conf *);
void	metrics_conf_fini(struct metrics_conf *);
/*
 * Parse the `metrics` group (may be NULL) over the defaults. listen = ""
 * is off. An address that is not a loopback one is an error unless
 * allow_remote = true. Errors go to errs; returns 0 or -1.
 */
int	metrics_config_load(struct metrics_conf *, const config_setting_t *grp,
	    struct cfg_errors *errs);

/*
 * Split "127.0.0.1:9464", "[::1]:9464" or "localhost:9464" into a numeric
 * host (localhost becomes 127.0.0.1), its family (4 or 6) and the port.
 * Returns 0, or -1 when s is none of these (host names other than
 * localhost are not resolved: the address must be a literal).
 */
int	metrics_listen_parse(const char *s, char host[METRICS_HOST_MAX],
	    int *family, unsigned *port);
/* Non-zero when the numeric host of a parsed address is a loopback one. */
int	metrics_host_is_loopback(const char *host, int family);

#endif
