/*
 * store_crash_writer - test-only helper for tests/store_crash.sh.
 *
 *   store_crash_writer write DIR START
 *	Writes suppressions (durably) to the LMDB store in DIR, printing each
 *	address on stdout once store_supp_put() has returned STORE_OK, while
 *	a second thread queues counters, statuses and rate takes. Runs until
 *	killed. The map starts small so it also grows while being killed.
 *   store_crash_writer verify DIR FILE
 *	Opens the store (as after a crash) and checks that every complete
 *	line of FILE is a suppression present in it, that every record reads
 *	back and decodes, and that the store still takes writes. Prints the
 *	counts; exits 0 when all is well, 1 otherwise.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "egress/sender.h"
#include "egress/store.h"

static struct store_conf conf;

static void *
counters(void *arg)
{
	struct store *st = arg;
	const char *f[] = { "c/reputation", "r/reputation/blocked", "d/x.test/reputation" };
	struct rate r = { 10, 5 };
	struct sender_status s;
	char key[64];
	unsigned long i, errors = 0;
	int ok;

	memset(&s, 0, sizeof(s));
	s.action = SACT_TAG;
	for (i = 0;; i++) {
		int64_t now = (int64_t)time(NULL);

		snprintf(key, sizeof(key), "env:s%lu@crash.test", i % 5000);
		errors += store_event_add(st, key, now, f, 3) != STORE_OK;
		errors += store_meta_touch(st, key, now, 1, 1) != STORE_OK;
		errors += store_rate_take(st, key, "rate", now * 1000, &r, 0, &ok,
		    NULL) != STORE_OK;
		if (i % 50 == 0) {
			s.since = now;
			s.until = now + 3600;
			errors += store_status_put(st, key, "x.test", &s) != STORE_OK;
		}
		if (errors == 1) {
			fprintf(stderr, "counter thread: a store call failed\n");
			errors++;
		}
	}
	return NULL;
}

static int
do_write(const char *dir, long start)
{
	struct store *st;
	struct store_supp s;
	pthread_t t;
	char err[256], addr[64];
	long i;

	conf.map_size = 256 << 10;
	st = store_open(&conf, NULL, NULL, err, sizeof(err));
	if (st == NULL) {
		fprintf(stderr, "store_open %s: %s\n", dir, err);
		return 2;
	}
	if (pthread_create(&t, NULL, counters, st) != 0)
		return 2;
	memset(&s, 0, sizeof(s));
	snprintf(s.reason, sizeof(s.reason), "userunknown");
	for (i = start;; i++) {
		snprintf(addr, sizeof(addr), "u%ld@crash.test", i);
		s.created = (int64_t)time(NULL);
		if (store_supp_put(st, addr, &s) == STORE_OK) {
			printf("%s\n", addr);
			fflush(stdout);
		}
	}
	return 0;
}

static int
count_cb(void *arg, const char *addr, const struct store_supp *s)
{
	(void)addr;
	(void)s;
	(*(long *)arg)++;
	return 0;
}

static int
meta_cb(void *arg, const char *key, const struct store_meta *m)
{
	(void)key;
	if (m->first_seen > m->last_seen)
		(*(long *)arg) = -1000000;	/* inconsistent record */
	else
		(*(long *)arg)++;
	return 0;
}

static int
do_verify(const char *dir, const char *file)
{
	struct store *st;
	struct store_supp s;
	char err[256], line[256];
	long acked = 0, missing = 0, total = 0, senders = 0;
	FILE *fp;
	int64_t now = (int64_t)time(NULL);

	st = store_open(&conf, NULL, NULL, err, sizeof(err));
	if (st == NULL) {
		fprintf(stderr, "store_open %s after crash: %s\n", dir, err);
		return 1;
	}
	if ((fp = fopen(file, "r")) == NULL) {
		perror(file);
		return 1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		size_t n = strlen(line);

		if (n == 0 || line[n - 1] != '\n')
			continue;	/* cut by the kill: never acknowledged */
		line[n - 1] = '\0';
		acked++;
		if (store_supp_get(st, line, now, &s) != STORE_OK ||
		    strcmp(s.reason, "userunknown") != 0) {
			fprintf(stderr, "acknowledged suppression lost: %s\n", line);
			missing++;
		}
	}
	fclose(fp);
	if (store_supp_each(st, now, count_cb, &total) != STORE_OK ||
	    store_meta_each(st, now, meta_cb, &senders) != STORE_OK || senders < 0) {
		fprintf(stderr, "store unreadable or inconsistent after crash\n");
		return 1;
	}
	/* and it still takes durable writes */
	memset(&s, 0, sizeof(s));
	snprintf(s.reason, sizeof(s.reason), "manual");
	s.created = now;
	if (store_supp_put(st, "after@crash.test", &s) != STORE_OK ||
	    store_supp_del(st, "after@crash.test") != STORE_OK) {
		fprintf(stderr, "store does not take writes after crash\n");
		return 1;
	}
	store_close(st);
	printf("acknowledged=%ld missing=%ld stored=%ld senders=%ld\n", acked, missing,
	    total, senders);
	return missing == 0 && total >= acked ? 0 : 1;
}

int
main(int argc, char **argv)
{
	if (argc != 4 || store_conf_default(&conf) != 0) {
		fprintf(stderr, "usage: store_crash_writer write DIR START | verify DIR FILE\n");
		return 64;
	}
	free(conf.state_dir);
	conf.state_dir = strdup(argv[2]);
	conf.commit_interval_ms = 5;
	if (strcmp(argv[1], "write") == 0)
		return do_write(argv[2], atol(argv[3]));
	if (strcmp(argv[1], "verify") == 0)
		return do_verify(argv[2], argv[3]);
	return 64;
}
