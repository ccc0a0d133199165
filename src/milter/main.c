/*
 * main.c - milter-egress daemon: start-up, configuration reload, shutdown.
 *
 * usage: milter-egress [-c FILE] [-p SOCKET] [-f] [-n] [-V] [-h]
 *
 * Start-up: load and validate the config (exit 78 on any error, before
 * anything is opened). Without -f the process forks at once and the parent
 * waits on a pipe: the child does every check and opens everything, then
 * writes one byte ("ready") and detaches from the terminal; the parent
 * exits 0 on that byte, else with the child's exit status, so a failure is
 * printed on the terminal (by the child, to the inherited stderr) and
 * reported by the exit status, never left to a background process that
 * dies later. The checks, in order: user and group, the state directory
 * (exists, is a directory, writable by milter.user: probed by creating a
 * file as that user), the socket (its directory exists, nobody answers on
 * it, it binds), the pid file (created with O_EXCL|O_NOFOLLOW after
 * removing one that names a dead process; a symbolic link is refused),
 * then the privilege drop, the log file and the store. Any failure prints
 * the reason with strerror(), removes what was created and exits 71
 * (EX_OSERR). Fatal exits happen only here; once serving, nothing exits
 * but a stop signal.
 *
 * Signals: libmilter owns SIGHUP, SIGTERM and SIGINT (all three stop the
 * filter: it closes the listener and smfi_main() returns). SIGUSR1 reopens
 * the log file (for logrotate) and reloads the config: a dedicated thread
 * waits for it with sigwait(). A reload that fails keeps the old snapshot
 * and logs why; connections keep the snapshot they started with.
 *
 * Shutdown: after smfi_main() returns, no new callback enters the filter
 * and the daemon waits up to milter.shutdown_timeout for the running ones
 * to return (a counter under a mutex, signalled by the last one), and only
 * then closes the store; callbacks still running at the deadline leave the
 * store open (LMDB is crash-safe: the process exits with it open), which
 * is logged. See "sessions and callbacks" below for why callbacks and not
 * connections are waited for. The pid file and the unix
 * socket are removed at exit; after the privilege drop that needs their
 * directory to be writable by milter.user (the packaged /run/milter-egress
 * is), else the pid file is emptied instead and a warning is logged.
 *
 * libmilter's worker pool can hang its own stop: its pool controller
 * destroys the task lock when it sees the stop, and a connection accepted
 * in that moment makes the listener wait on the destroyed lock forever, so
 * smfi_main() never returns (seen under load: Postfix keeps connecting
 * while the daemon stops). A watchdog thread asks libmilter whether it is
 * stopping (mi_stop(), found with dlsym(); without it there is no
 * watchdog) and, when smfi_main() has not returned SMFI_MAIN_RETURN_MAX
 * seconds after the stop began, runs the same shutdown itself and exits.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <netdb.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "egress/assert.h"
#include "egress/classify.h"
#include "egress/config.h"
#include "egress/store.h"
#include "egress/version.h"
#include "shell.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG	SYSCONFDIR "/milter-egress/milter-egress.conf"
#define EXIT_STARTUP	71	/* EX_OSERR: a start-up check failed */
#define PATH_BUF	4096

/* ---- shared state of the shell (the core has none) ---- */

static pthread_mutex_t	 cfg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct config	*cfg_current;
static int		 log_to_stderr;	/* -f: stderr stays the terminal */
static struct store	*store_handle;	/* opened at start, closed at exit */

/* seconds from libmilter's stop to smfi_main() returning, at most */
#define SMFI_MAIN_RETURN_MAX	10
/* how often the watchdog asks libmilter whether it is stopping */
#define STOP_POLL_MS		200

static long long	 shutdown_timeout;	/* milter.shutdown_timeout at start */
static pthread_mutex_t	 finish_lock = PTHREAD_MUTEX_INITIALIZER;
static int		 finish_begun;		/* under finish_lock */
static char		 log_ident[64] = "milter-egress";

struct config *
shell_config_get(void)
{
	struct config *c;

	pthread_mutex_lock(&cfg_lock);
	c = cfg_current;
	c->refs++;
	pthread_mutex_unlock(&cfg_lock);
	return c;
}

void
shell_config_put(struct config *c)
{
	int last;

	if (c == NULL)
		return;
	pthread_mutex_lock(&cfg_lock);
	last = --c->refs == 0;
	pthread_mutex_unlock(&cfg_lock);
	if (last)
		config_free(c);
}

void
shell_config_set(struct config *c)
{
	struct config *old;

	pthread_mutex_lock(&cfg_lock);
	old = cfg_current;
	cfg_current = c;
	pthread_mutex_unlock(&cfg_lock);
	shell_config_put(old);
}

static int
facility_code(const char *name)
{
	static const struct { const char *name; int code; } tab[] = {
		{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON }, { "user", LOG_USER },
		{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
		{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
		{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
		{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(tab[i].name, name) == 0)
			return tab[i].code;
	return LOG_MAIL;
}

/*
 * True when stderr is the systemd journal (systemd sets JOURNAL_STREAM to
 * the device and inode of the stream it connects). A foreground daemon
 * under systemd then logs as without -f (log file or syslog, with the
 * configured facility and real priorities), so its lines reach mail.log.
 */
static int
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st) != 0)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

/*
* Log sinks: stderr in the foreground (-f), else the log file when
 * milter.log_file is set, else syslog. stderr and file lines carry an RFC
 * 3339 time stamp; each line is one write(2) under log_lock, so threads
 * never interleave and a reopen (SIGUSR1) never loses a line.
 */
enum log_sink { SINK_SYSLOG = 0, SINK_STDERR, SINK_FILE };
static enum log_sink	 log_sink = SINK_STDERR;	/* until shell_log_open */
static pthread_mutex_t	 log_lock = PTHREAD_MUTEX_INITIALIZER;
static int		 log_fd = -1;
static char		 log_path[PATH_BUF];

static int
log_file_open(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0640);
}

/* "2026-12-03T05:35:13.123456+00:00" in local time. */
static void
log_timestamp(char *out, size_t outsz)
{
	struct timespec ts;
	struct tm tm;
	long off;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	n = strftime(out, outsz, "%Y-%m-%dT%H:%M:%S", &tm);
	off = tm.tm_gmtoff / 60;
	snprintf(out + n, outsz - n, ".%06ld%c%02ld:%02ld", ts.tv_nsec / 1000,
	    off < 0 ? '-' : '+', (off < 0 ? -off : off) / 60,
	    (off < 0 ? -off : off) % 60);
}

int
shell_log_open(const struct config *c, int foreground)
{
	snprintf(log_ident, sizeof(log_ident), "%s",
	    c->milter.syslog_ident ? c->milter.syslog_ident : "milter-egress");
	tzset();
	if (foreground && !stderr_is_journal()) {
		log_sink = SINK_STDERR;
		log_to_stderr = 1;
		return 0;
	}
	if (c->milter.log_file != NULL) {
		snprintf(log_path, sizeof(log_path), "%s", c->milter.log_file);
		if ((log_fd = log_file_open(log_path)) < 0)
			return -1;
		log_sink = SINK_FILE;
		return 0;
	}
	log_sink = SINK_SYSLOG;
	openlog(log_ident, LOG_PID | LOG_NDELAY,
	    facility_code(c->milter.syslog_facility));
	return 0;
}

void
shell_log_reopen(void)
{
	int fd, err = 0;

	if (log_sink != SINK_FILE)
		return;
	pthread_mutex_lock(&log_lock);
	if ((fd = log_file_open(log_path)) < 0)
		err = errno;	/* keep writing to the old file */
	else {
		(void)dup2(fd, log_fd);
		close(fd);
	}
	pthread_mutex_unlock(&log_lock);
	if (err)
		shell_log(LOG_ERR, "cannot reopen the log file %s: %s (still "
		    "writing to the old one)", log_path, strerror(err));
}

void
shell_log(int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (log_sink == SINK_SYSLOG)
		vsyslog(priority, fmt, ap);
	else {
		char line[8192], ts[64];
		int n, m;

		log_timestamp(ts, sizeof(ts));
		n = snprintf(line, sizeof(line), "%s %s[%ld]: ", ts, log_ident,
		    (long)getpid());
		m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
		if (m < 0)
			m = 0;
		if ((size_t)n + (size_t)m > sizeof(line) - 2)
			m = (int)(sizeof(line) - 2 - (size_t)n);
		line[n + m] = '\n';
		pthread_mutex_lock(&log_lock);
		/* A failed log write has nowhere to be reported. */
		if (write(log_sink == SINK_FILE ? log_fd : STDERR_FILENO, line,
		    (size_t)(n + m + 1)) < 0)
			errno = 0;
		pthread_mutex_unlock(&log_lock);
	}
	va_end(ap);
}

/* ---- sessions and callbacks: counted so that shutdown can wait ---- */

/*
 * libmilter (8.14 and later, as built in Debian, with its worker pool)
 * stops dispatching commands once it is told to stop: a session in the
 * middle of a message is then never served again nor closed, so waiting
 * for open sessions would always run into the deadline. What must not
 * overlap store_close() is a callback running inside the filter; those are
 * counted (cb_active) by wrappers around every callback, under one mutex
 * with the stopping flag. A callback that would start after the stop has
 * begun does not run the filter: it answers tempfail (the MTA keeps the
 * mail), so nothing can reach the store once the wait is over. Open
 * sessions (sess_active) are counted for the log only.
 */
static pthread_mutex_t	 sess_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 sess_done;
static unsigned		 sess_active;	/* open connections */
static unsigned		 cb_active;	/* callbacks running in the filter */
static int		 stopping;

void
shell_session_begin(void)
{
	pthread_mutex_lock(&sess_lock);
	sess_active++;
	pthread_mutex_unlock(&sess_lock);
}

void
shell_session_end(void)
{
	pthread_mutex_lock(&sess_lock);
	if (sess_active > 0)
		sess_active--;
	pthread_mutex_unlock(&sess_lock);
}

/* Enter a callback: 0 when stopping (the filter must not run). */
static int
cb_enter(void)
{
	int ok;

	pthread_mutex_lock(&sess_lock);
	if ((ok = !stopping))
		cb_active++;
	pthread_mutex_unlock(&sess_lock);
	return ok;
}

static void
cb_leave(void)
{
	pthread_mutex_lock(&sess_lock);
	if (--cb_active == 0 && stopping)
		pthread_cond_broadcast(&sess_done);
	pthread_mutex_unlock(&sess_lock);
}

/*
 * Stop new callbacks and wait up to secs for the running ones to return.
 * Returns how many are still running; *open gets the open sessions.
 */
static unsigned
callbacks_drain(long long secs, unsigned *open)
{
	struct timespec deadline;
	unsigned left;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += (time_t)secs;
	pthread_mutex_lock(&sess_lock);
	stopping = 1;
	while (cb_active > 0 &&
	    pthread_cond_timedwait(&sess_done, &sess_lock, &deadline) != ETIMEDOUT)
		;
	left = cb_active;
	*open = sess_active;
	pthread_mutex_unlock(&sess_lock);
	return left;
}

/* The filter registered with libmilter: egress_filter, every callback wrapped. */
static struct smfiDesc	 wrapped;

#define WRAP(name, stopped, params, args)				\
static sfsistat								\
w_##name params								\
{									\
	sfsistat r;							\
									\
	if (!cb_enter())						\
		return (stopped);					\
	r = egress_filter.xxfi_##name args;				\
	cb_leave();							\
	return r;							\
}

WRAP(connect, SMFIS_TEMPFAIL, (SMFICTX *c, char *h, _SOCK_ADDR *a), (c, h, a))
WRAP(envfrom, SMFIS_TEMPFAIL, (SMFICTX *c, char **v), (c, v))
WRAP(envrcpt, SMFIS_TEMPFAIL, (SMFICTX *c, char **v), (c, v))
WRAP(header, SMFIS_TEMPFAIL, (SMFICTX *c, char *n, char *v), (c, n, v))
WRAP(eoh, SMFIS_TEMPFAIL, (SMFICTX *c), (c))
WRAP(body, SMFIS_TEMPFAIL, (SMFICTX *c, unsigned char *p, size_t n), (c, p, n))
WRAP(eom, SMFIS_TEMPFAIL, (SMFICTX *c), (c))
WRAP(abort, SMFIS_CONTINUE, (SMFICTX *c), (c))
WRAP(close, SMFIS_CONTINUE, (SMFICTX *c), (c))
WRAP(negotiate, SMFIS_REJECT, (SMFICTX *c, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *p0, unsigned long *p1,
    unsigned long *p2, unsigned long *p3), (c, f0, f1, f2, f3, p0, p1, p2, p3))

static void
wrap_filter(void)
{
	wrapped = egress_filter;
#define SET(name)	if (egress_filter.xxfi_##name != NULL) wrapped.xxfi_##name = w_##name
	SET(connect);
	SET(envfrom);
	SET(envrcpt);
	SET(header);
	SET(eoh);
	SET(body);
	SET(eom);
	SET(abort);
	SET(close);
	SET(negotiate);
#undef SET
	/* no helo, unknown or data callbacks: the filter has none */
	EGRESS_ASSERT(egress_filter.xxfi_helo == NULL && egress_filter.xxfi_unknown == NULL &&
	    egress_filter.xxfi_data == NULL);
}

static pthread_mutex_t	 json_lock = PTHREAD_MUTEX_INITIALIZER;

void
shell_json_append(const char *path, const char *line)
{
	static int warned;
	FILE *fp;

	pthread_mutex_lock(&json_lock);
	if ((fp = fopen(path, "a")) == NULL) {
		if (!warned)
			shell_log(LOG_ERR, "cannot append to %s: %s (logged once)",
			    path, strerror(errno));
		warned = 1;
	} else {
		fprintf(fp, "%s\n", line);
		if (fclose(fp) != 0 && !warned) {
			shell_log(LOG_ERR, "cannot write %s: %s (logged once)", path,
			    strerror(errno));
			warned = 1;
		}
	}
	pthread_mutex_unlock(&json_lock);
}

struct store *
shell_store(void)
{
	return store_handle;
}

static void
store_log(void *arg, int level, const char *msg)
{
	(void)arg;
	shell_log(level, "store: %s", msg);
}

/* ---- reload ---- */

/*
 * Build the bounce patterns' one-pass database with the snapshot, so that
 * no message waits for it, and say what the engine could not take (a
 * pattern PCRE2 matches alone, a stale serialized database).
 */
static void
patterns_prepare(const struct config *c, int to_stderr)
{
	const char *w, *nl;

	if (c->bounce.classifier == NULL)
		return;
	(void)classifier_prepare(c->bounce.classifier);
	for (w = classifier_warnings(c->bounce.classifier);
	    (nl = strchr(w, '\n')) != NULL; w = nl + 1) {
		if (to_stderr)
			fprintf(stderr, "milter-egress: warning: %.*s\n",
			    (int)(nl - w), w);
		else
			shell_log(LOG_WARNING, "bounce patterns: %.*s",
			    (int)(nl - w), w);
	}
}

static void *
reload_thread(void *arg)
{
	const char *path = arg;
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SHELL_RELOAD_SIGNAL);
	for (;;) {
		struct cfg_errors errs;
		struct config *c;

		if (sigwait(&set, &sig) != 0)
			continue;
		shell_log_reopen();
		cfg_errors_init(&errs, path);
		if ((c = config_load(path, &errs)) == NULL) {
			char *line, *save = NULL;
			char *text = strdup(buf_cstr(&errs.text));

			shell_log(LOG_ERR, "reload failed, keeping the running configuration (%d error%s)",
			    errs.count, errs.count == 1 ? "" : "s");
			for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
			    line = strtok_r(NULL, "\n", &save))
				shell_log(LOG_ERR, "reload: %s", line);
			free(text);
			metrics_reload(shell_metrics(), 0);
		} else {
			patterns_prepare(c, 0);
			shell_config_set(c);	/* c stays alive: it is current */
			shell_log(LOG_INFO, "configuration reloaded from %s", path);
			shell_metrics_reloaded(c);
		}
		cfg_errors_fini(&errs);
	}
	return NULL;
}

/* ---- start-up ---- */

/*
 * What start-up created, so that a failure (or the exit) removes exactly
 * that and nothing else: the unix socket (by device and inode, never a
 * file somebody put there since) and the pid file (through the descriptor
 * kept open, so that it can be emptied when it cannot be removed).
 */
static char		 run_sock[PATH_BUF];
static dev_t		 run_sock_dev;
static ino_t		 run_sock_ino;
static char		 run_pid[PATH_BUF];
static int		 run_pid_fd = -1;
static int		 ready_fd = -1;	/* the pipe to the waiting parent */

static void
usage(FILE *fp, int status)
{
	fprintf(fp, "usage: milter-egress [-c FILE] [-p SOCKET] [-f] [-n] [-V] [-h]\n"
	    "  -c FILE    configuration file (default %s)\n"
	    "  -p SOCKET  listen on unix:PATH, inet:PORT@HOST or inet6:PORT@HOST\n"
	    "             (overrides milter.socket)\n"
	    "  -f         stay in the foreground and log to stderr (as without -f\n"
	    "             when stderr is the systemd journal)\n"
	    "  -n         check the configuration and exit (0 valid, 78 invalid)\n"
	    "  -V, --version  print the version, the configuration file and the\n"
	    "             library versions, and exit\n"
	    "  -h, --help print this help and exit\n", DEFAULT_CONFIG);
	exit(status);
}

static void
print_version(const char *path, int given)
{
	char libs[512];
	unsigned maj = 0, min = 0, pl = 0;

	printf("milter-egress %s\n", PACKAGE_VERSION);
	printf("configuration %s%s\n", path, given ? " (-c)" : " (default)");
	if (smfi_version(&maj, &min, &pl) == MI_SUCCESS)
		printf("libmilter %u.%u.%u\n", maj, min, pl);
	version_core_libs(libs, sizeof(libs));
	fputs(libs, stdout);
	store_lib_versions(libs, sizeof(libs));
	fputs(libs, stdout);
}

/* Remove what start-up created; safe to call more than once. */
static void
run_files_remove(void)
{
	struct stat st;

	if (run_sock[0] != '\0') {
		if (lstat(run_sock, &st) == 0 && S_ISSOCK(st.st_mode) &&
		    st.st_dev == run_sock_dev && st.st_ino == run_sock_ino &&
		    unlink(run_sock) != 0)
			shell_log(LOG_WARNING, "cannot remove the socket %s: %s "
			    "(give its directory to milter.user)", run_sock,
			    strerror(errno));
		run_sock[0] = '\0';
	}
	if (run_pid[0] != '\0') {
		if (unlink(run_pid) != 0 && errno != ENOENT) {
			int err = errno;

			/* An empty pid file names no process. */
			if (run_pid_fd < 0 || ftruncate(run_pid_fd, 0) != 0)
				shell_log(LOG_WARNING, "cannot remove the pid file "
				    "%s: %s", run_pid, strerror(err));
			else
				shell_log(LOG_WARNING, "cannot remove the pid file "
				    "%s: %s; emptied it (give its directory to "
				    "milter.user)", run_pid, strerror(err));
		}
		run_pid[0] = '\0';
	}
	if (run_pid_fd >= 0) {
		close(run_pid_fd);
		run_pid_fd = -1;
	}
}

/*
 * The shutdown once libmilter stopped serving: stop the side threads,
 * wait for the callbacks, close the store, remove the run files. Runs
 * once, in the main thread after smfi_main() or in the watchdog; a second
 * caller waits for the first to exit the process.
 */
static int
serving_finish(int rc, const char *why)
{
	unsigned left, open_sessions;

	pthread_mutex_lock(&finish_lock);
	if (finish_begun) {
		pthread_mutex_unlock(&finish_lock);
		for (;;)
			pause();
	}
	finish_begun = 1;
	pthread_mutex_unlock(&finish_lock);
	shell_log(LOG_INFO, "stopping milter-egress (%s)", why);
	shell_preflight_stop();
	shell_metrics_stop();
	if ((left = callbacks_drain(shutdown_timeout, &open_sessions)) == 0) {
		filter_free_open();
		store_close(store_handle);
	} else
		shell_log(LOG_WARNING, "%u callback%s still running after %llds: "
		    "exiting without closing the store", left, left == 1 ? "" : "s",
		    shutdown_timeout);
	if (open_sessions > 0)
		shell_log(LOG_INFO, "%u connection%s still open at exit: the MTA "
		    "applies its milter_default_action", open_sessions,
		    open_sessions == 1 ? "" : "s");
	store_handle = NULL;
	run_files_remove();
	shell_log(LOG_INFO, "stopped");
	return rc;
}

/* libmilter's own "is the filter stopping?" (0: serving), if it has one */
typedef int (*milter_stop_fn)(void);
static milter_stop_fn	 milter_stopping;

/*
 * Ask libmilter every STOP_POLL_MS whether it is stopping; when it is and
 * smfi_main() has not returned within SMFI_MAIN_RETURN_MAX seconds, finish
 * here and exit (see the top of this file).
 */
static void *
stop_watchdog(void *arg)
{
	const struct timespec tick = { 0, STOP_POLL_MS * 1000000L };
	struct timespec since = { 0, 0 }, now;

	(void)arg;
	for (;;) {
		nanosleep(&tick, NULL);
		pthread_mutex_lock(&finish_lock);
		if (finish_begun) {
			pthread_mutex_unlock(&finish_lock);
			return NULL;
		}
		pthread_mutex_unlock(&finish_lock);
		if (milter_stopping() == 0)
			continue;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (since.tv_sec == 0 && since.tv_nsec == 0) {
			since = now;
			continue;
		}
		if (now.tv_sec - since.tv_sec < SMFI_MAIN_RETURN_MAX)
			continue;
		shell_log(LOG_WARNING, "smfi_main() has not returned %ds after "
		    "libmilter began to stop (its worker pool can hang its own "
		    "shutdown): finishing without it", SMFI_MAIN_RETURN_MAX);
		(void)serving_finish(0, "by the watchdog");
		fflush(NULL);
		_exit(0);
	}
}

/* Start the watchdog when libmilter lets us ask it; else say so. */
static void
stop_watchdog_start(void)
{
	pthread_t tid;
	void *sym = dlsym(RTLD_DEFAULT, "mi_stop");

	if (sym == NULL) {
		shell_log(LOG_INFO, "libmilter has no mi_stop(): no stop watchdog");
		return;
	}
	/* POSIX: a dlsym() result may be converted to a function pointer */
	memcpy(&milter_stopping, &sym, sizeof(milter_stopping));
	if (pthread_create(&tid, NULL, stop_watchdog, NULL) != 0) {
		shell_log(LOG_WARNING, "cannot start the stop watchdog: %s",
		    strerror(errno));
		return;
	}
	pthread_detach(tid);
}

/*
 * A start-up failure: say why on stderr (the terminal until "ready"; the
 * parent waits for this process) and in the log once it is open, remove
 * what was created, exit non-zero.
 */
static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "milter-egress: %s\n", msg);
	if (log_sink != SINK_STDERR)
		shell_log(LOG_ERR, "not starting: %s", msg);
	run_files_remove();
	exit(EXIT_STARTUP);
}

/*
 * Without -f: fork now, before anything is opened or any thread exists.
 * The parent waits for one byte on the pipe: the child writes it when it
 * serves; a child that fails has printed why and exits, the pipe closes
 * and the parent exits with the child's status.
 */
static void
fork_and_wait(void)
{
	int fds[2], status;
	pid_t pid;
	char b;
	ssize_t n;

	if (pipe2(fds, O_CLOEXEC) != 0)
		die("pipe: %s", strerror(errno));
	if ((pid = fork()) < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		close(fds[0]);
		ready_fd = fds[1];
		if (setsid() < 0)
			die("setsid: %s", strerror(errno));
		return;
	}
	close(fds[1]);
	while ((n = read(fds[0], &b, 1)) < 0 && errno == EINTR)
		;
	if (n == 1)
		_exit(0);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			fprintf(stderr, "milter-egress: waitpid: %s\n", strerror(errno));
			_exit(EXIT_STARTUP);
		}
	if (WIFEXITED(status))
		_exit(WEXITSTATUS(status) != 0 ? WEXITSTATUS(status) : EXIT_STARTUP);
	fprintf(stderr, "milter-egress: the daemon died during start-up (signal %d)\n",
	    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	_exit(EXIT_STARTUP);
}

/* Serving: tell the waiting parent, let go of the terminal. */
static void
notify_ready(int foreground)
{
	int fd;

	if (ready_fd >= 0) {
		char b = 'R';

		if (write(ready_fd, &b, 1) != 1)
			shell_log(LOG_WARNING, "cannot tell the parent: %s",
			    strerror(errno));
		close(ready_fd);
		ready_fd = -1;
	}
	if (!foreground && (fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

/*
 * The state directory must be a directory the user the daemon will run as
 * can write; a missing one is created (as that user, mode 0750, its
 * parent must exist), as the LMDB store would. Probed by creating and
 * removing a file with that user's effective ids (the real uid stays
 * root, so the switch back works; no thread exists yet, so the switch
 * applies to the whole process).
 */
static void
check_state_dir(const char *dir, const struct passwd *pw)
{
	char probe[PATH_BUF];
	const char *what = NULL;
	struct stat st;
	int fd, err = 0, switched = 0, found;

	if (!(found = stat(dir, &st) == 0) && errno != ENOENT)
		die("state directory %s (store.state_dir): %s", dir, strerror(errno));
	if (found && !S_ISDIR(st.st_mode))
		die("state directory %s (store.state_dir): %s", dir, strerror(ENOTDIR));
	if (pw != NULL && geteuid() == 0) {
		if (setegid(pw->pw_gid) != 0 || seteuid(pw->pw_uid) != 0)
			die("cannot switch to user %s: %s", pw->pw_name, strerror(errno));
		switched = 1;
	}
	if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
		err = errno;
		what = "cannot be created by";
	} else {
		snprintf(probe, sizeof(probe), "%s/.milter-egress-probe.XXXXXX", dir);
		if ((fd = mkstemp(probe)) < 0) {
			err = errno;
			what = "is not writable by";
		} else {
			close(fd);
			(void)unlink(probe);
		}
	}
	if (switched && (seteuid(0) != 0 || setegid(0) != 0))
		die("cannot switch back to root: %s", strerror(errno));
	if (err != 0) {
		struct passwd *me = pw ? NULL : getpwuid(geteuid());

		die("state directory %s (store.state_dir) %s %s: %s", dir, what,
		    pw ? pw->pw_name : me ? me->pw_name : "this user", strerror(err));
	}
}

/* "inet:PORT@HOST" -> a test bind, so that the reason has an errno. */
static void
check_inet(const char *sock)
{
	char host[256] = "", port[8];
	const char *p = strchr(sock, ':') + 1, *at = strchr(p, '@');
	struct addrinfo hints, *res = NULL, *ai;
	int fd, rc, one = 1, err = 0;

	snprintf(port, sizeof(port), "%.*s", (int)(at ? (size_t)(at - p) : strlen(p)), p);
	if (at != NULL)
		snprintf(host, sizeof(host), "%s", at + 1);
	/* libmilter takes "[addr]" too */
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = strncmp(sock, "inet6:", 6) == 0 ? AF_INET6 : AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res)) != 0)
		die("socket %s: %s", sock, gai_strerror(rc));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0)) < 0) {
			err = errno;
			continue;
		}
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		rc = bind(fd, ai->ai_addr, ai->ai_addrlen);
		err = rc == 0 ? 0 : errno;
		close(fd);
		if (rc == 0)
			break;
	}
	freeaddrinfo(res);
	if (err != 0)
		die("cannot listen on %s: %s", sock, strerror(err));
}

/*
 * "unix:PATH": the directory must exist and be writable, and nobody may be
 * answering on PATH (libmilter would remove a live socket of another
 * daemon and take its place). A stale socket is left for libmilter to
 * remove; anything else at PATH is refused.
 */
static void
check_unix(const char *path)
{
	char tmp[PATH_BUF], dir[PATH_BUF];
	struct sockaddr_un sun;
	struct stat st;
	int fd;

	snprintf(tmp, sizeof(tmp), "%s", path);
	snprintf(dir, sizeof(dir), "%s", dirname(tmp));
	if (stat(dir, &st) != 0)
		die("socket directory %s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		die("socket directory %s: %s", dir, strerror(ENOTDIR));
	if (access(dir, W_OK | X_OK) != 0)
		die("socket directory %s: %s", dir, strerror(errno));
	if (lstat(path, &st) != 0) {
		if (errno != ENOENT)
			die("socket %s: %s", path, strerror(errno));
		return;
	}
	if (!S_ISSOCK(st.st_mode))
		die("socket %s: exists and is not a socket; not removing it", path);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		die("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		close(fd);
		die("socket %s is in use (is another milter-egress running?)", path);
	}
	close(fd);
}

/*
 * Create the pid file and write this process's pid. O_EXCL|O_NOFOLLOW: a
 * symbolic link (planted in a run directory the service user can write)
 * is never followed, so no root-owned file is ever overwritten through it.
 * An existing file naming a live process stops the start; one naming a
 * dead process (or nothing) is stale and removed first.
 */
static void
create_pidfile(const char *path)
{
	char buf[32], line[32];
	int fd, tries, len;
	ssize_t n;
	long pid;

	for (tries = 0; tries < 2; tries++) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    0644);
		if (fd >= 0)
			break;
		if (errno != EEXIST)
			die("cannot create the pid file %s: %s", path, strerror(errno));
		if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)) < 0)
			die("pid file %s: %s%s", path, strerror(errno),
			    errno == ELOOP ? " (a symbolic link: not following it)" : "");
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = '\0';
		pid = strtol(buf, NULL, 10);
		if (pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM))
			die("pid file %s names pid %ld, which is running "
			    "(is another milter-egress running?)", path, pid);
		if (unlink(path) != 0)
			die("cannot remove the stale pid file %s: %s", path,
			    strerror(errno));
	}
	if (fd < 0)
		die("cannot create the pid file %s: %s", path, strerror(EEXIST));
	snprintf(run_pid, sizeof(run_pid), "%s", path);
	run_pid_fd = fd;
	len = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	if (write(fd, line, (size_t)len) != len)
		die("cannot write the pid file %s: %s", path, strerror(errno));
}

/* After the drop: warn now if the run files cannot be removed at exit. */
static void
check_removable(const char *path, const char *what)
{
	char tmp[PATH_BUF], dir[PATH_BUF];

	snprintf(tmp, sizeof(tmp), "%s", path);
	snprintf(dir, sizeof(dir), "%s", dirname(tmp));
	if (access(dir, W_OK | X_OK) != 0)
		shell_log(LOG_WARNING, "the %s %s cannot be removed at exit: %s is "
		    "not writable by this user (%s)", what, path, dir,
		    strerror(errno));
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_CONFIG, *sockopt = NULL, *sock, *upath, *errtext;
	static char *abspath;	/* lives as long as the process (the reload thread uses it) */
	int foreground = 0, check_only = 0, version = 0, ch, rc, given = 0;
	struct cfg_errors errs;
	struct config *cfg;
	struct passwd *pw = NULL;
	struct group *gr = NULL;
	pthread_condattr_t ca;
	pthread_t tid;
	sigset_t set;
	struct stat st;
	char why[160];

	while ((ch = getopt_long(argc, argv, "c:p:fnVh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': path = optarg; given = 1; break;
		case 'p': sockopt = optarg; break;
		case 'f': foreground = 1; break;
		case 'n': check_only = 1; break;
		case 'V': version = 1; break;
		case 'h': usage(stdout, 0); break;
		default: usage(stderr, 64);
		}
	}
	if (optind != argc)
		usage(stderr, 64);
	if (version) {
		print_version(path, given);
		return 0;
	}
	if (sockopt != NULL && cfg_socket_check(sockopt, why, sizeof(why)) != 0) {
		fprintf(stderr, "milter-egress: -p %s: %s\n", sockopt, why);
		return 64;
	}
	/*
	 * The daemon reloads from / (it detaches with chdir("/")): keep an
	 * absolute path, or a relative -c (and the data files named relative
	 * to it) would not be found again at the first reload.
	 */
	if (!check_only && path[0] != '/' && (abspath = realpath(path, NULL)) != NULL)
		path = abspath;

	cfg_errors_init(&errs, path);
	if ((cfg = config_load(path, &errs)) == NULL) {
		fputs(buf_cstr(&errs.text), stderr);
		if (errs.count > CFG_MAX_ERRORS)
			fprintf(stderr, "%s: (%d more errors not shown)\n", path,
			    errs.count - CFG_MAX_ERRORS);
		fprintf(stderr, "milter-egress: %s: configuration invalid, not starting\n", path);
		cfg_errors_fini(&errs);
		return EX_CONFIG_STATUS;
	}
	cfg_errors_fini(&errs);
	patterns_prepare(cfg, 1);
	if (check_only) {
		printf("%s: configuration valid\n", path);
		config_free(cfg);
		return 0;
	}
	sock = sockopt ? sockopt : cfg->milter.socket;

	/* Every check below runs in the process that will serve. */
	if (!foreground)
		fork_and_wait();

	/* Resolve the user and group now: fail before serving, not after. */
	if (cfg->milter.user && cfg->milter.user[0] &&
	    (pw = getpwnam(cfg->milter.user)) == NULL)
		die("unknown user \"%s\" (milter.user)", cfg->milter.user);
	if (cfg->milter.socket_group && cfg->milter.socket_group[0] &&
	    (gr = getgrnam(cfg->milter.socket_group)) == NULL)
		die("unknown group \"%s\" (milter.socket_group)", cfg->milter.socket_group);
	if (pw != NULL && getuid() == 0 &&
	    (setgroups(0, NULL) != 0 || initgroups(pw->pw_name, pw->pw_gid) != 0))
		die("cannot set the groups of %s: %s", pw->pw_name, strerror(errno));
	if (getuid() != 0)
		pw = NULL;	/* nothing to drop to */
	if (cfg->store.enabled && cfg->store.backend == STORE_LMDB)
		check_state_dir(cfg->store.state_dir, pw);

	/* The socket: parse, check, bind. */
	upath = NULL;
	if (strncmp(sock, "unix:", 5) == 0 || strncmp(sock, "local:", 6) == 0) {
		upath = strchr(sock, ':') + 1;
		check_unix(upath);
	} else
		check_inet(sock);
	if (smfi_setconn((char *)sock) != MI_SUCCESS)
		die("invalid socket \"%s\"", sock);
	if (smfi_settimeout((int)cfg->milter.timeout) != MI_SUCCESS ||
	    smfi_setbacklog((int)cfg->milter.backlog) != MI_SUCCESS)
		die("cannot set libmilter timeout or backlog");
	wrap_filter();
	if (smfi_register(wrapped) != MI_SUCCESS)
		die("smfi_register failed");
	errno = 0;
	if (smfi_opensocket(1) != MI_SUCCESS)
		die("cannot open socket %s: %s", sock,
		    errno ? strerror(errno) : "libmilter gave no reason (see syslog)");
	if (upath != NULL) {
		if (lstat(upath, &st) != 0)
			die("socket %s: %s", upath, strerror(errno));
		snprintf(run_sock, sizeof(run_sock), "%s", upath);
		run_sock_dev = st.st_dev;
		run_sock_ino = st.st_ino;
		if (chmod(upath, (mode_t)cfg->milter.socket_mode) != 0)
			die("chmod %s: %s", upath, strerror(errno));
		if ((gr || pw) && chown(upath, pw ? pw->pw_uid : (uid_t)-1,
		    gr ? gr->gr_gid : (gid_t)-1) != 0)
			die("chown %s: %s", upath, strerror(errno));
	}
	/* The metrics port is bound here too, as the starting user (served
	 * once the daemon runs). */
	if ((errtext = shell_metrics_listen(cfg)) != NULL)
		die("%s", errtext);
	if (cfg->milter.pidfile != NULL && cfg->milter.pidfile[0] != '\0')
		create_pidfile(cfg->milter.pidfile);
	if (pw != NULL) {
		if (setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
			die("cannot drop privileges to %s: %s", pw->pw_name, strerror(errno));
	}
	if (chdir("/") != 0)
		die("chdir /: %s", strerror(errno));
	/* As the final user, so that a reopen later behaves the same. */
	if (shell_log_open(cfg, foreground) != 0)
		die("cannot open the log file %s (milter.log_file): %s",
		    cfg->milter.log_file, strerror(errno));
	if (run_sock[0] != '\0')
		check_removable(run_sock, "socket");
	if (run_pid[0] != '\0')
		check_removable(run_pid, "pid file");
	cfg_current = cfg;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&sess_done, &ca);
	pthread_condattr_destroy(&ca);

	/*
	 * Every thread inherits the blocked reload signal; one waits for it.
	 * libmilter's stop signals are blocked here too: libmilter blocks them
	 * only when smfi_main() starts, after this thread exists, and a thread
	 * that does not block SIGTERM would take it with the default action
	 * (immediate death) instead of libmilter's graceful stop.
	 */
	sigemptyset(&set);
	sigaddset(&set, SHELL_RELOAD_SIGNAL);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0 ||
	    pthread_create(&tid, NULL, reload_thread, (void *)path) != 0)
		die("cannot start the reload thread");
	pthread_detach(tid);

	/*
	 * The store starts threads (LMDB group commit), so it opens after the
	 * fork, as the final user, and once the signals above are blocked in
	 * this thread (its threads inherit the mask). Its settings are read
	 * once: a change to the store section takes effect at the next start.
	 */
	if (cfg->store.enabled) {
		char err[256];

		if ((store_handle = store_open(&cfg->store, store_log, NULL, err,
		    sizeof(err))) == NULL)
			die("cannot open the sender store: %s", err);
	}

	if ((errtext = shell_metrics_start()) != NULL)
		die("%s", errtext);

	if ((errtext = shell_preflight_start(cfg)) != NULL) {
		shell_log(LOG_ERR, "%s", errtext);
		fprintf(stderr, "milter-egress: %s\n", errtext);
		return 71;
	}

	shell_log(LOG_INFO, "starting milter-egress %s on %s (mode=%s, config %s)",
	    PACKAGE_VERSION, sock, cfg->mode == MODE_MONITOR ? "monitor" : "enforce",
	    path);
	/*
	 * After a reload this first snapshot may be freed while smfi_main()
	 * runs: keep what is needed at exit in a copy of our own.
	 */
	shutdown_timeout = cfg->milter.shutdown_timeout;
	cfg = NULL;
	stop_watchdog_start();
	notify_ready(foreground);
	rc = smfi_main();
	snprintf(why, sizeof(why), "smfi_main returned %d", rc);
	return serving_finish(rc == MI_SUCCESS ? 0 : 1, why);
}
