/*
 * store_record - test-only helper: drives the sender record the way the
 * milter does, with the store and policy of a config file, so shell tests
 * can pair it with egressctl.
 *
 *   store_record CONF fail FROM DEST REASON HARD RCPT [COUNT]
 *   store_record CONF mail FROM [DEST]	  sender_check at MAIL (or RCPT)
 *   store_record CONF rcpt ADDR		  recipient_check
 *   store_record CONF events KEY		  "FIELD COUNT" per event field
 *   store_record CONF ledger QID MSGID FROM RCPT...  a ledger entry, as the
 *					  milter writes one at end of message
 *   store_record CONF cursor NAME [PENDING] print a follower cursor (and
 *					  set its pending end: a crash)
 *
 * mail and rcpt print "action=NAME check=ID reply=TEXT header=TEXT".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "egress/config.h"
#include "egress/findings.h"
#include "egress/policy.h"
#include "egress/sender.h"
#include "egress/store.h"

static void
log_stderr(void *arg, int level, const char *msg)
{
	(void)arg;
	(void)level;
	fprintf(stderr, "store: %s\n", msg);
}

static int64_t
now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static int
event_cb(void *arg, int64_t bucket, const char *field, uint64_t count)
{
	(void)arg;
	(void)bucket;
	printf("%s %llu\n", field, (unsigned long long)count);
	return 0;
}

/* What the daemon's policy makes of the facts, with this config. */
static void
print_decision(const struct config *cfg, const char *from,
    const struct sender_facts *d)
{
	struct envelope env;
	struct verdict v;

	memset(&env, 0, sizeof(env));
	env.mail_from = from;
	policy_decide_facts(cfg, &env, d, &v);
	printf("action=%s check=%s reply=%s header=%s\n", action_name(v.action),
	    v.decided_by != NULL ? v.decided_by : "-",
	    v.reply != NULL ? v.reply : "", d->header);
}

int
main(int argc, char **argv)
{
	struct cfg_errors errs;
	struct config *cfg;
	struct store *st;
	struct sender_keys k;
	struct sender_facts d;
	char err[256];
	int rc = 0, i, n;

	if (argc < 4) {
		fprintf(stderr, "usage: store_record CONF fail|mail|rcpt ...\n");
		return 64;
	}
	cfg_errors_init(&errs, argv[1]);
	if ((cfg = config_load(argv[1], &errs)) == NULL) {
		fputs(buf_cstr(&errs.text), stderr);
		return 78;
	}
	cfg_errors_fini(&errs);
	if ((st = store_open(&cfg->store, log_stderr, NULL, err, sizeof(err))) == NULL) {
		fprintf(stderr, "store_open: %s\n", err);
		return 70;
	}
	if (strcmp(argv[2], "fail") == 0 && argc >= 8) {
		n = argc > 8 ? atoi(argv[8]) : 1;
		(void)sender_keys_make(&cfg->policy, argv[3], NULL, &k);
		for (i = 0; i < n && rc == 0; i++)
			rc = sender_record_failure(st, &cfg->policy, &k, argv[4], NULL,
			    argv[5], atoi(argv[6]), argv[7], now_ms()) != STORE_OK;
	} else if (strcmp(argv[2], "mail") == 0) {
		(void)sender_keys_make(&cfg->policy, argv[3], NULL, &k);
		rc = sender_check(st, &cfg->policy, &k, argc > 4 ? argv[4] : NULL,
		    now_ms(), &d) != STORE_OK;
		print_decision(cfg, argv[3], &d);
	} else if (strcmp(argv[2], "events") == 0) {
		int64_t now = now_ms() / 1000;

		rc = store_event_scan(st, argv[3], now - store_retention(st), now,
		    event_cb, NULL) != STORE_OK;
	} else if (strcmp(argv[2], "ledger") == 0 && argc >= 7) {
		static struct ledger_entry e;
		char id[LEDGER_MSGID_MAX + 1];
		const unsigned char *key = store_ledger_key(st);

		(void)sender_keys_make(&cfg->policy, argv[5], NULL, &k);
		rc = key == NULL || ledger_msgid_norm(argv[4], id, sizeof(id)) != 0;
		if (rc == 0) {
			ledger_entry_init(&e, id, argv[3], &k, now_ms() / 1000,
			    LEDGER_ACCEPTED);
			for (i = 6; i < argc; i++)
				ledger_entry_add_rcpt(&e, key, argv[i]);
			rc = store_ledger_put(st, &e) != STORE_OK;
		}
	} else if (strcmp(argv[2], "cursor") == 0) {
		struct store_cursor c;

		rc = store_cursor_get(st, argv[3], &c) != STORE_OK;
		if (rc == 0 && argc > 4) {
			c.pending = atoll(argv[4]);
			rc = store_cursor_put(st, argv[3], &c) != STORE_OK;
		}
		if (rc == 0)
			printf("offset=%lld pending=%lld lines=%llu head_len=%u\n",
			    (long long)c.offset, (long long)c.pending,
			    (unsigned long long)c.lines, (unsigned)c.head_len);
	} else if (strcmp(argv[2], "rcpt") == 0) {
		rc = recipient_check(st, argv[3], now_ms(), &d) != STORE_OK;
		print_decision(cfg, "sender@example.com", &d);
	} else {
		fprintf(stderr, "usage: store_record CONF fail|mail|rcpt ...\n");
		rc = 64;
	}
	if (store_flush(st) != STORE_OK)
		rc = 70;
	store_close(st);
	config_free(cfg);
	return rc;
}
