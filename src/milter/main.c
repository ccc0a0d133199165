/*
 * main.c - milter-egress daemon: start-up, configuration reload, shutdown.
 *
 * usage: milter-egress [-c FILE] [-p SOCKET] [-f] [-n] [-V]
 *
 * Start-up order: load and validate the config (exit 78 on any error, before
 * anything is opened), open the listening socket (removing a stale unix
 * socket), set its mode and group, write the pid file, then drop to the
 * configured user and hand over to libmilter. Fatal exits happen only here;
 * once serving, nothing exits but a stop signal.
 *
 * Signals: libmilter owns SIGHUP, SIGTERM and SIGINT (all three stop the
 * filter: it closes the listener and smfi_main() returns). SIGUSR1 reloads
 * the config: a dedicated thread waits for it with sigwait(). A reload that
 * fails keeps the old snapshot and logs why; connections keep the snapshot
 * they started with.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "egress/classify.h"
#include "egress/config.h"
#include "egress/store.h"
#include "shell.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG	SYSCONFDIR "/milter-egress/milter-egress.conf"

/* ---- shared state of the shell (the core has none) ---- */

static pthread_mutex_t	 cfg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct config	*cfg_current;
static int		 log_to_stderr;
static struct store	*store_handle;	/* opened at start, closed at exit */
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

void
shell_log_open(const struct config *c, int foreground)
{
	log_to_stderr = foreground;
	snprintf(log_ident, sizeof(log_ident), "%s",
	    c->milter.syslog_ident ? c->milter.syslog_ident : "milter-egress");
	if (!foreground)
		openlog(log_ident, LOG_PID | LOG_NDELAY,
		    facility_code(c->milter.syslog_facility));
}

void
shell_log(int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (log_to_stderr) {
		char line[8192];

		vsnprintf(line, sizeof(line), fmt, ap);
		/* One write per line so threads do not interleave. */
		fprintf(stderr, "%s[%ld]: %s\n", log_ident, (long)getpid(), line);
		fflush(stderr);
	} else
		vsyslog(priority, fmt, ap);
	va_end(ap);
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

static void
usage(void)
{
	fprintf(stderr, "usage: milter-egress [-c FILE] [-p SOCKET] [-f] [-n] [-V]\n"
	    "  -c FILE    configuration file (default %s)\n"
	    "  -p SOCKET  listen on unix:PATH or inet:PORT@HOST (overrides milter.socket)\n"
	    "  -f         stay in the foreground and log to stderr\n"
	    "  -n         check the configuration and exit (0 valid, 78 invalid)\n"
	    "  -V         print the version and exit\n", DEFAULT_CONFIG);
	exit(64);
}

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "milter-egress: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(71);	/* EX_OSERR */
}

static const char *
unix_path(const char *sock)
{
	if (strncmp(sock, "unix:", 5) == 0)
		return sock + 5;
	if (strncmp(sock, "local:", 6) == 0)
		return sock + 6;
	if (strchr(sock, ':') == NULL)
		return sock;
	return NULL;
}

/* Open the pid file while errors can still reach the terminal. */
static FILE *
open_pidfile(const char *path)
{
	FILE *fp;

	if (path == NULL || path[0] == '\0')
		return NULL;
	if ((fp = fopen(path, "w")) == NULL)
		die("cannot write pid file %s: %s", path, strerror(errno));
	return fp;
}

/* Write the final pid (after the fork); a failure here can only be logged. */
static void
write_pidfile(FILE *fp, const char *path)
{
	if (fp == NULL)
		return;
	if (fprintf(fp, "%ld\n", (long)getpid()) < 0 || fclose(fp) != 0)
		shell_log(LOG_ERR, "cannot write pid file %s: %s", path,
		    strerror(errno));
}

static void
daemonize(void)
{
	pid_t pid;
	int fd;

	if ((pid = fork()) < 0)
		die("fork: %s", strerror(errno));
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		die("setsid: %s", strerror(errno));
	if ((pid = fork()) < 0)
		die("fork: %s", strerror(errno));
	if (pid > 0)
		_exit(0);
	if (chdir("/") != 0)
		die("chdir /: %s", strerror(errno));
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

int
main(int argc, char **argv)
{
	const char *path = DEFAULT_CONFIG, *sockopt = NULL, *sock, *upath, *errtext;
	static char *abspath;	/* lives as long as the process (the reload thread uses it) */
	int foreground = 0, check_only = 0, ch, rc;
	struct cfg_errors errs;
	struct config *cfg;
	struct passwd *pw = NULL;
	struct group *gr = NULL;
	pthread_t tid;
	sigset_t set;
	char pidfile[4096] = "";
	FILE *pidfp;

	while ((ch = getopt(argc, argv, "c:p:fnVh")) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 'p': sockopt = optarg; break;
		case 'f': foreground = 1; break;
		case 'n': check_only = 1; break;
		case 'V': printf("milter-egress %s\n", PACKAGE_VERSION); return 0;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
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

	/* Resolve the user and group now: fail before serving, not after. */
	if (cfg->milter.user && cfg->milter.user[0] &&
	    (pw = getpwnam(cfg->milter.user)) == NULL)
		die("unknown user \"%s\" (milter.user)", cfg->milter.user);
	if (cfg->milter.socket_group && cfg->milter.socket_group[0] &&
	    (gr = getgrnam(cfg->milter.socket_group)) == NULL)
		die("unknown group \"%s\" (milter.socket_group)", cfg->milter.socket_group);

	if (smfi_setconn((char *)sock) != MI_SUCCESS)
		die("invalid socket \"%s\"", sock);
	if (smfi_settimeout((int)cfg->milter.timeout) != MI_SUCCESS ||
	    smfi_setbacklog((int)cfg->milter.backlog) != MI_SUCCESS)
		die("cannot set libmilter timeout or backlog");
	if (smfi_register(egress_filter) != MI_SUCCESS)
		die("smfi_register failed");
	upath = unix_path(sock);
	if (smfi_opensocket(1) != MI_SUCCESS)
		die("cannot open socket %s", sock);
	if (upath != NULL) {
		if (chmod(upath, (mode_t)cfg->milter.socket_mode) != 0)
			die("chmod %s: %s", upath, strerror(errno));
		if ((gr || pw) && chown(upath, pw ? pw->pw_uid : (uid_t)-1,
		    gr ? gr->gr_gid : (gid_t)-1) != 0)
			die("chown %s: %s", upath, strerror(errno));
	}

	/* The metrics port is bound here too (served after the fork). */
	if ((errtext = shell_metrics_listen(cfg)) != NULL)
		die("%s", errtext);

	/*
	 * Everything that can fail is done before detaching, so the error
	 * reaches the terminal and the exit status: the pid file is opened
	 * (as root, where it usually lives) and privileges are dropped; only
	 * the pid itself is written after the fork.
	 */
	pidfp = open_pidfile(cfg->milter.pidfile);
	if (pw != NULL && getuid() == 0) {
		if (setgroups(0, NULL) != 0 || initgroups(pw->pw_name, pw->pw_gid) != 0 ||
		    setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
			die("cannot drop privileges to %s: %s", pw->pw_name, strerror(errno));
	}
	if (!foreground)
		daemonize();
	shell_log_open(cfg, foreground);
	write_pidfile(pidfp, cfg->milter.pidfile);
	cfg_current = cfg;

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
		    sizeof(err))) == NULL) {
			shell_log(LOG_ERR, "cannot open the sender store: %s", err);
			fprintf(stderr, "milter-egress: cannot open the sender store: %s\n", err);
			return 71;
		}
	}

	if ((errtext = shell_metrics_start()) != NULL) {
		shell_log(LOG_ERR, "%s", errtext);
		fprintf(stderr, "milter-egress: %s\n", errtext);
		return 71;
	}

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
	if (cfg->milter.pidfile != NULL && cfg->milter.pidfile[0] != '\0')
		snprintf(pidfile, sizeof(pidfile), "%s", cfg->milter.pidfile);
	cfg = NULL;
	rc = smfi_main();
	shell_log(LOG_INFO, "stopping milter-egress (smfi_main returned %d)", rc);
	shell_preflight_stop();
	shell_metrics_stop();
	store_close(store_handle);
	if (pidfile[0] != '\0')
		(void)unlink(pidfile);
	return rc == MI_SUCCESS ? 0 : 1;
}
