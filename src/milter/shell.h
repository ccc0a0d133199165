/*
 * shell.h - the libmilter shell: shared state of the daemon.
 *
 * The shell is the only place that talks to libmilter, syslog and the
 * process environment. It owns the current configuration snapshot; every
 * connection takes a reference to the snapshot current when it starts and
 * keeps it to the end, so a reload never changes the rules mid-connection.
 */
#ifndef EGRESS_MILTER_SHELL_H
#define EGRESS_MILTER_SHELL_H

#include <sys/types.h>
#include <stdarg.h>
#include <stdint.h>

#include <libmilter/mfapi.h>

#include "egress/config.h"
#include "egress/metrics.h"
#include "egress/preflight.h"

/* Reload signal: libmilter takes SIGHUP, SIGTERM and SIGINT for itself. */
#define SHELL_RELOAD_SIGNAL	SIGUSR1

/*
 * Logging sink: stderr in the foreground, else milter.log_file, else
 * syslog; stderr and file lines start with an RFC 3339 time stamp.
 * shell_log_open returns -1 with errno when the log file cannot be opened;
 * shell_log_reopen reopens it (SIGUSR1, after logrotate moved it).
 */
int	shell_log_open(const struct config *, int foreground);
void	shell_log_reopen(void);
void	shell_log(int priority, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * Sessions (one per MTA connection) are counted so that shutdown can wait
 * for them before it closes the store: begin when the connection context
 * is created, end when it is freed.
 */
void	shell_session_begin(void);
void	shell_session_end(void);

/* The sender-record store, or NULL when store.enabled is false. */
struct store;
struct store	*shell_store(void);

/* Append one line to a JSON-lines file (serialised; errors are logged). */
void	shell_json_append(const char *path, const char *line);

/* Current snapshot with one more reference; never NULL after start-up. */
struct config	*shell_config_get(void);
void		 shell_config_put(struct config *);
/* Install a new snapshot (takes over the caller's reference). */
void		 shell_config_set(struct config *);

/*
 * A private copy of one message body (spool.c): in memory up to
 * SPOOL_MEM_MAX bytes, then in an unlinked file in dir. max bounds the copy
 * (0: none). spool_write fails (errno set) and the copy becomes unusable
 * when the bound is passed or the disk fails. Read back after spool_rewind.
 */
#define SPOOL_MEM_MAX	(1024 * 1024)
struct spool;
struct spool	*spool_new(const char *dir, long long max);
void		 spool_free(struct spool *);
int		 spool_write(struct spool *, const void *, size_t);
int		 spool_is_usable(const struct spool *);
int		 spool_rewind(struct spool *);
/* Bytes read (0 at the end), or -1. */
ssize_t		 spool_read(struct spool *, void *, size_t);

/*
 * Metrics (metrics_http.c). shell_metrics_listen() binds metrics.listen
 * before the daemon detaches; shell_metrics_start() serves it after the
 * fork. Both return NULL, or an error text (static) the caller reports
 * before exiting non-zero. Off (metrics.listen unset): both do nothing and
 * shell_metrics() is NULL, which every metrics_* update accepts.
 */
const char	*shell_metrics_listen(const struct config *);
const char	*shell_metrics_start(void);
void		 shell_metrics_stop(void);
struct metrics	*shell_metrics(void);
/* A monotonic time in ns for shell_metrics_stage/since; 0 when off. */
uint64_t	 shell_metrics_clock(void);
uint64_t	 shell_metrics_since(uint64_t t0);
/* Observe the callback stage that started at t0 (no-op for t0 0). */
void		 shell_metrics_stage(enum metrics_stage, uint64_t t0);
/* A reload installed c: counted, and a changed
 * metrics section is said to wait for the next start. */
void		 shell_metrics_reloaded(const struct config *c);
/* Observe a store call that started at t0 and returned rc. */
void		 shell_metrics_store(enum metrics_store_op, uint64_t t0, int rc);
/*
 * The DMARC preflight and the egress self-check (preflight.c): a thread
 * started after the fork when diagnose.preflight or selfcheck_interval is
 * set (NULL, or an error text), stopped and joined at shutdown.
 * shell_preflight_lookup() never waits on DNS: a miss queues the pair and
 * returns PREFLIGHT_UNKNOWN; *first is set for the first WILL_FAIL of an
 * answer (log it once).
 */
const char	*shell_preflight_start(const struct config *);
void		 shell_preflight_stop(void);
enum preflight_verdict shell_preflight_lookup(const char *from_domain,
		    const char *mailfrom_domain, char *why, size_t whylen,
		    int *first);
int		 shell_preflight_signed(const struct config *, const char *from_domain,
		    const char *sig_d);

/* A message decided at end of message: its action, findings, record facts. */
struct verdict;
void		 shell_metrics_verdict(const struct verdict *, int monitor,
		    const struct findings *, const struct sender_facts *);

/*
 * Free the connection contexts still open (libmilter abandons the open
 * sessions at a stop). Only once no callback can run any more.
 */
void	filter_free_open(void);

/* The filter description given to smfi_register(). */
extern struct smfiDesc	egress_filter;

#endif
