/*
 * egressctl - command line tool: runs the same core as the daemon on files
 * and administers the sender store.
 *
 * usage: egressctl [-c CONFIG] COMMAND [ARGS...]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"

struct command {
	const char	*name;
	int		(*fn)(const struct ctl_opts *, int, char **);
	const char	*usage;
};

static const struct command commands[] = {
	{ "check", cmd_check, "check [--format text|json] FILE.eml...   run the outbound checks" },
	{ "checks", cmd_checks, "checks                                 list check ids and defaults" },
	/* COMMANDS: table (add yours here) */
	{ "senders", cmd_senders, "senders [--json]                       list recorded senders and their status" },
	{ "sender", cmd_sender, "sender [--json] ADDR                   a sender's record, status and failures" },
	{ "release", cmd_release, "release ADDR                           lift a sender's hold, throttle or suspension" },
	{ "hold", cmd_hold, "hold ADDR [--for D] [--why TEXT]       quarantine new mail from a sender" },
	{ "suspend", cmd_suspend, "suspend ADDR [--for D] [--why TEXT]    refuse new mail from a sender (550 5.7.1)" },
	{ "suppress", cmd_suppress, "suppress list|add|remove [ADDR]        recipients refused at RCPT" },
	{ "report", cmd_report, "report [--since 24h] [--top N] [--json] failures by category, reason, domain, sender" },
	{ "classify", cmd_classify, "classify [--format text|json] FILE.eml...  recognise and classify bounces" },
	{ "diagnose", cmd_diagnose, "diagnose [--json] FILE.eml|ADDR|@DOMAIN  DNS lists, rDNS, SPF, DMARC, DKIM, MX behind a failure" },
	{ "compile-patterns", cmd_compile_patterns, "compile-patterns [-o OUT] FILE          build FILE's one-pass database (FILE.hsdb)" },
	{ "classify-log", cmd_classify_log, "classify-log [--follow] [--format text|json] FILE|-  classify failures in MTA logs" },
	{ "stats", cmd_stats, "stats [--url URL] [--raw]                what the running daemon counted (its /metrics)" },
	{ NULL, NULL, NULL },
};

static void
usage(FILE *fp)
{
	const struct command *c;

	fprintf(fp, "usage: egressctl [-c CONFIG] COMMAND [ARGS...]\ncommands:\n");
	for (c = commands; c->name; c++)
		fprintf(fp, "  %s\n", c->usage);
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
		if (strcmp(c->name, argv[i]) == 0)
			return c->fn(&opts, argc - i, argv + i);
	fprintf(stderr, "egressctl: unknown command \"%s\"\n", argv[i]);
	usage(stderr);
	return CTL_EXIT_USAGE;
}
