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

#include <stdarg.h>

#include <libmilter/mfapi.h>

#include "egress/config.h"

/* Reload signal: libmilter takes SIGHUP, SIGTERM and SIGINT for itself. */
#define SHELL_RELOAD_SIGNAL	SIGUSR1

/* Logging sink: syslog, or stderr in the foreground. */
void	shell_log_open(const struct config *, int foreground);
void	shell_log(int priority, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

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

/* The filter description given to smfi_register(). */
extern struct smfiDesc	egress_filter;

#endif
