/*
 * commands.h - egressctl subcommands. Each takes the arguments after the
 * command name (argv[0] is the command name) and returns the exit status.
 */
#ifndef EGRESS_CLI_COMMANDS_H
#define EGRESS_CLI_COMMANDS_H

/* Exit statuses shared by the commands. */
#define CTL_EXIT_OK		0	/* accepted / nothing to report */
#define CTL_EXIT_BLOCK		1	/* a message would be held, tempfailed or rejected */
#define CTL_EXIT_USAGE		64	/* EX_USAGE */
#define CTL_EXIT_DATAERR	65	/* EX_DATAERR: unreadable input */
#define CTL_EXIT_SOFTWARE	70	/* EX_SOFTWARE: internal failure */
#define CTL_EXIT_CONFIG		78	/* EX_CONFIG */

/* Global options parsed by egressctl before the command. */
struct ctl_opts {
	const char	*config_path;	/* -c FILE, or NULL for the default */
};

int	cmd_check(const struct ctl_opts *, int argc, char **argv);
int	cmd_checks(const struct ctl_opts *, int argc, char **argv);

/* Load -c FILE, else the installed config if present, else built-in defaults;
 * on failure returns NULL with the exit status in *status. */
struct config;
struct config	*ctl_load_config(const struct ctl_opts *, int *status);
/*
 * Print the document finished in w (written onto b) and a newline, then
 * free b. Returns 0, or CTL_EXIT_SOFTWARE after saying so on stderr when
 * the writer ran out of memory (nothing is printed then).
 */
struct json;
struct buf;
int	ctl_json_print(struct json *w, struct buf *b);
/* COMMANDS: declarations (add yours here) */
/* sender record (cmd_admin.c) */
int	cmd_senders(const struct ctl_opts *, int argc, char **argv);
int	cmd_sender(const struct ctl_opts *, int argc, char **argv);
int	cmd_release(const struct ctl_opts *, int argc, char **argv);
int	cmd_hold(const struct ctl_opts *, int argc, char **argv);
int	cmd_suspend(const struct ctl_opts *, int argc, char **argv);
int	cmd_suppress(const struct ctl_opts *, int argc, char **argv);
int	cmd_report(const struct ctl_opts *, int argc, char **argv);
int	cmd_classify(const struct ctl_opts *, int argc, char **argv);
int	cmd_classify_log(const struct ctl_opts *, int argc, char **argv);
int	cmd_compile_patterns(const struct ctl_opts *, int argc, char **argv);
/* diagnose (cmd_diagnose.c) */
int	cmd_diagnose(const struct ctl_opts *, int argc, char **argv);
/* the daemon's counters (cmd_stats.c) */
int	cmd_stats(const struct ctl_opts *, int argc, char **argv);
/* the delivery-log follower (cmd_follow.c) */
int	cmd_follow(const struct ctl_opts *, int argc, char **argv);

#endif
