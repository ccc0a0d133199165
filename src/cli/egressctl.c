/*
 * egressctl - command line tool: runs the same core as the daemon on files
 * and administers the sender store.
 *
 * usage: egressctl [-c CONFIG] COMMAND [ARGS...]
 *        egressctl -h | --help | -V | --version
 *        egressctl COMMAND -h | --help
 *
 * Help is asked for, so it goes to stdout with status 0, for egressctl and
 * for every command (the -h or --help anywhere before a "--" argument;
 * commands never see it). A usage mistake goes to stderr with status 64.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "egress/store.h"
#include "egress/version.h"
#include "commands.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

struct command {
	const char	*name;
	int		(*fn)(const struct ctl_opts *, int, char **);
	const char	*usage;
};

static const struct command commands[] = {
	{ "check", cmd_check, "check [--format text|json] [--from ADDR] [--rcpt ADDR]... [--auth USER]\n"
	    "        [--client ADDR] [--now EPOCH] FILE.eml|-...       run the outbound checks" },
	{ "checks", cmd_checks, "checks                                 list check ids and defaults" },
	/* COMMANDS: table (add yours here) */
	{ "senders", cmd_senders, "senders [--json]                       list recorded senders and their status" },
	{ "sender", cmd_sender, "sender [--json] ADDR                   a sender's record, status and failures" },
	{ "release", cmd_release, "release ADDR                           lift a sender's hold, throttle or suspension" },
	{ "hold", cmd_hold, "hold ADDR [--for D] [--why TEXT]       quarantine new mail from a sender" },
	{ "suspend", cmd_suspend, "suspend ADDR [--for D] [--why TEXT]    refuse new mail from a sender (550 5.7.1)" },
	{ "suppress", cmd_suppress, "suppress list [--json] | add ADDR [--reason R] [--for D] | remove ADDR\n"
	    "                                         recipients refused at RCPT" },
	{ "report", cmd_report, "report [--since 24h] [--top N] [--json] failures by category, reason, domain, sender" },
	{ "classify", cmd_classify, "classify [--format text|json] FILE.eml...  recognise and classify bounces" },
	{ "diagnose", cmd_diagnose, "diagnose [--json] FILE.eml|ADDR|@DOMAIN  DNS lists, rDNS, SPF, DMARC, DKIM, MX behind a failure" },
	{ "compile-patterns", cmd_compile_patterns, "compile-patterns [-o OUT] FILE          build FILE's one-pass database (FILE.hsdb)" },
	{ "classify-log", cmd_classify_log, "classify-log [--follow] [--format text|json] FILE|-  classify failures in MTA logs" },
	{ "stats", cmd_stats, "stats [--url URL] [--raw]                what the running daemon counted (its /metrics)" },
	{ "follow", cmd_follow, "follow [--from-start] [--once] [--senders ledger|log] FILE|-  feed deferrals and delivery failures from the MTA log into the sender record" },
	{ NULL, NULL, NULL },
};

static void
usage(FILE *fp)
{
	const struct command *c;

	fprintf(fp, "usage: egressctl [-c CONFIG] COMMAND [ARGS...]\n"
	    "       egressctl -h|--help | -V|--version | COMMAND --help\ncommands:\n");
	for (c = commands; c->name; c++)
		fprintf(fp, "  %s\n", c->usage);
}

/* True when -h or --help is among the arguments (before a "--"). */
static int
wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return 0;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return 1;
	}
	return 0;
}

static int
print_version(const struct ctl_opts *o)
{
	const char *path = o->config_path;
	char libs[512];

	printf("egressctl %s\n", PACKAGE_VERSION);
	if (path != NULL)
		printf("configuration %s (-c)\n", path);
	else {
		path = SYSCONFDIR "/milter-egress/milter-egress.conf";
		printf("configuration %s%s\n", path, access(path, R_OK) == 0 ?
		    " (default)" : " (default; not readable: built-in defaults are used)");
	}
	printf("libmilter (not linked by egressctl)\n");
	version_core_libs(libs, sizeof(libs));
	fputs(libs, stdout);
	store_lib_versions(libs, sizeof(libs));
	fputs(libs, stdout);
	return CTL_EXIT_OK;
}

int
main(int argc, char **argv)
{
	struct ctl_opts opts = { NULL };
	const struct command *c;
	int i = 1;

	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			opts.config_path = argv[i + 1];
			i += 2;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return CTL_EXIT_OK;
		} else if (strcmp(argv[i], "-V") == 0 || strcmp(argv[i], "--version") == 0) {
			return print_version(&opts);
		} else {
			usage(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return CTL_EXIT_USAGE;
	}
	for (c = commands; c->name; c++)
		if (strcmp(c->name, argv[i]) == 0) {
			if (wants_help(argc - i, argv + i)) {
				printf("usage: egressctl [-c CONFIG] %s\n", c->usage);
				return CTL_EXIT_OK;
			}
			return c->fn(&opts, argc - i, argv + i);
		}
	fprintf(stderr, "egressctl: unknown command \"%s\"\n", argv[i]);
	usage(stderr);
	return CTL_EXIT_USAGE;
}
