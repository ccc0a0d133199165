/*
 * metrics_bench - what the metrics cost on the hot path (prints figures,
 * asserts nothing).
 *
 * Runs N small messages (a 0.6 KB clean message with ten header fields,
 * the common case where fixed costs weigh most) through what the daemon
 * runs per transaction: scan_new, scan_header per field, scan_eoh,
 * scan_body, scan_finish, policy_decide, scan_free. "off" is that alone
 * (metrics.listen unset: a NULL registry, no clock read). "on" adds what
 * the shell does with metrics on: a monotonic clock read before and after
 * each of the six measured callbacks (connect, envfrom, envrcpt, eoh, body,
 * eom) and around two store calls (MAIL and RCPT; the calls themselves are
 * not made), the histogram observations, and at end of message
 * metrics_message, metrics_findings and metrics_sender_facts. Rounds of
 * both alternate; the figures are the best and the median ns per message.
 * For exact figures count instructions instead of time: -m off and -m on
 * run one side only, e.g. under valgrind --tool=callgrind -n 2000 -r 1;
 * the difference of the two totals over 2000 * 1 is the cost per message.
 *
 * usage: metrics_bench [-n MESSAGES] [-r ROUNDS] [-m both|off|on]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "egress/buf.h"
#include "egress/config.h"
#include "egress/metrics.h"
#include "egress/policy.h"
#include "egress/scan.h"

#define MAX_ROUNDS	50

static const char *const names[] = {
	"Received", "From", "To", "Subject", "Date", "Message-ID",
	"MIME-Version", "Content-Type", "Content-Transfer-Encoding", "X-Mailer",
};
static const char *const values[] = {
	"from client.example.org (client.example.org [192.0.2.10])\n\tby mta.example.org (Postfix) with ESMTPSA id 4XyzAbC1d2\n\tfor <rcpt@example.net>; Sun, 22 Nov 2026 06:00:00 +0000 (UTC)",
	"Alice Sender <sender@example.org>",
	"Bob Receiver <rcpt@example.net>",
	"quarterly figures",
	"Sun, 22 Nov 2026 06:00:00 +0000",
	"<clean.20261122060000@example.org>",
	"1.0",
	"text/plain; charset=us-ascii",
	"7bit",
	"bench 1.0",
};
static const char body[] =
	"Hello Bob,\r\n\r\nthe figures for the quarter are in the shared folder;\r\n"
	"the summary follows below.\r\n\r\nrevenue up 3%, costs flat, margin up.\r\n"
	"\r\nAlice\r\n";

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
die(const char *what)
{
	fprintf(stderr, "metrics_bench: %s\n", what);
	exit(1);
}

/* A clock read as the shell does it: none while off. */
static inline uint64_t
clk(const struct metrics *m)
{
	return m != NULL ? now_ns() + 1 : 0;
}

static inline void
stage(struct metrics *m, enum metrics_stage s, uint64_t t0)
{
	if (t0 != 0)
		metrics_stage(m, s, now_ns() + 1 - t0);
}

static unsigned sink;

static void
one(const struct config *cfg, struct metrics *m)
{
	const char *rcpts[] = { "rcpt@example.net" };
	struct envelope env = {
		.queue_id = "4XyzAbC1d2", .mail_from = "sender@example.org",
		.client_addr = "192.0.2.10", .rcpts = rcpts, .nrcpt = 1,
		.esmtp_size = -1, .now = 1795330860LL,
	};
	static const struct sender_facts facts;	/* none: the shell's is filled at MAIL */
	struct verdict v;
	struct scan *s;
	uint64_t t, ts;
	size_t i;

	t = clk(m);
	stage(m, MSTAGE_CONNECT, t);
	t = clk(m);
	ts = clk(m);
	if (ts != 0)
		metrics_store(m, MSTORE_SENDER_CHECK, now_ns() + 1 - ts, 0);
	stage(m, MSTAGE_ENVFROM, t);
	t = clk(m);
	ts = clk(m);
	if (ts != 0)
		metrics_store(m, MSTORE_RECIPIENT_CHECK, now_ns() + 1 - ts, 0);
	stage(m, MSTAGE_ENVRCPT, t);
	if ((s = scan_new(cfg, &env)) == NULL)
		die("scan_new");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (scan_header(s, names[i], values[i]) != 0)
			die("scan_header");
	t = clk(m);
	if (scan_eoh(s) != 0)
		die("scan_eoh");
	stage(m, MSTAGE_EOH, t);
	t = clk(m);
	if (scan_body(s, body, sizeof(body) - 1) != 0)
		die("scan_body");
	stage(m, MSTAGE_BODY, t);
	t = clk(m);
	if (scan_finish(s) != 0)
		die("scan_finish");
	policy_decide(cfg, &env, scan_findings(s), scan_is_bounce(s), &v);
	if (m != NULL) {
		metrics_message(m, v.action, v.would, 0);
		metrics_findings(m, scan_findings(s));
		metrics_sender_facts(m, &facts);
	}
	sink += (unsigned)v.action;
	scan_free(s);
	stage(m, MSTAGE_EOM, t);
}

static double
run(const struct config *cfg, struct metrics *m, long n)
{
	uint64_t t0 = now_ns();
	long i;

	for (i = 0; i < n; i++)
		one(cfg, m);
	return (double)(now_ns() - t0) / (double)n;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	double off[MAX_ROUNDS], on[MAX_ROUNDS];
	struct config *cfg;
	struct metrics *m;
	struct buf page;
	long n = 100000;
	int rounds = 7, r, ch, do_off = 1, do_on = 1;

	while ((ch = getopt(argc, argv, "n:r:m:")) != -1) {
		switch (ch) {
		case 'n': n = atol(optarg); break;
		case 'r': rounds = atoi(optarg); break;
		case 'm':
			do_off = strcmp(optarg, "on") != 0;
			do_on = strcmp(optarg, "off") != 0;
			break;
		default:
			fprintf(stderr, "usage: metrics_bench [-n MESSAGES] [-r ROUNDS] [-m both|off|on]\n");
			return 64;
		}
	}
	if (n < 1 || rounds < 1 || rounds > MAX_ROUNDS)
		die("bad -n or -r");
	if ((cfg = config_default()) == NULL || (m = metrics_new()) == NULL)
		die("out of memory");
	(void)run(cfg, NULL, n / 10 + 1);	/* warm up */
	for (r = 0; r < rounds; r++) {
		off[r] = do_off ? run(cfg, NULL, n) : 0;
		on[r] = do_on ? run(cfg, m, n) : 0;
	}
	qsort(off, (size_t)rounds, sizeof(off[0]), cmp);
	qsort(on, (size_t)rounds, sizeof(on[0]), cmp);
	printf("metrics_bench: %ld messages x %d rounds, %zu-byte body, %zu header fields\n",
	    n, rounds, sizeof(body) - 1, sizeof(names) / sizeof(names[0]));
	if (do_off)
		printf("  off: best %.0f ns/message, median %.0f\n", off[0],
		    off[rounds / 2]);
	if (do_on)
		printf("  on:  best %.0f ns/message, median %.0f\n", on[0],
		    on[rounds / 2]);
	if (do_off && do_on)
		printf("  cost of metrics: %+.0f ns/message (best), %+.1f%%\n",
		    on[0] - off[0], 100.0 * (on[0] - off[0]) / off[0]);
	buf_init(&page, 0);
	if (metrics_write(m, "bench", &page) != BUF_OK)
		die("metrics_write");
	printf("  page: %zu series, %zu bytes (sink %u)\n", metrics_series(m),
	    page.len, sink);
	buf_fini(&page);
	metrics_free(m);
	config_free(cfg);
	return 0;
}
