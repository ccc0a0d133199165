/*
 * store_stall - a short Redis stall under load: the store goes down once,
 * probes one call at a time, and is back within one probe interval of the
 * server answering again.
 *
 * A real redis-server (started here with posix_spawn, before any thread)
 * serves a store with redis_pool = 4; six threads call the store without
 * pause. The server is stopped (SIGSTOP) for STALL_MS, then continued. The
 * figure measured is the time from SIGCONT to the first successful call.
 * What is asserted does not depend on the machine's speed:
 *  - one outage, one recovery, no probe overlapping another;
 *  - at most one failed probe after the server answered again (a probe
 *    already waiting on the stopped server when it continued), so the
 *    store never backs off further once Redis answers;
 *  - the measured recovery is within the probe interval in force when the
 *    server continued plus one command timeout, plus a margin derived from
 *    the configured timeouts (scheduling on a loaded machine), never a fixed
 *    number of seconds.
 * Prints "stall: ..." with the figures. Exit 0 pass, 1 fail, 77 skip.
 *
 *   store_stall [STALL_MS]
 */
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "egress/store.h"

#define THREADS		6
#define RETRY_MS	200
#define RETRY_MAX_MS	3200
#define TIMEOUT_MS	100

extern char **environ;

static struct store *st;
static atomic_int stop_threads;
static atomic_llong last_ok_ms;		/* monotonic ms of the latest success */
static atomic_llong calls_ok, calls_unavail, calls_err;

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
log_quiet(void *arg, int level, const char *msg)
{
	(void)arg;
	(void)level;
	fprintf(stderr, "store: %s\n", msg);
}

static void *
worker(void *arg)
{
	const char *fields[1] = { "c/reputation" };
	struct timespec pace = { 0, 2 * 1000000L };
	char key[64];
	long id = (long)arg;
	int64_t n = 0;

	snprintf(key, sizeof(key), "env:load%ld@example.org", id);
	while (!atomic_load(&stop_threads)) {
		struct store_supp s;
		int rc;

		rc = (n++ & 1) ? store_event_add(st, key, time(NULL), fields, 1) :
		    store_supp_get(st, "nobody@example.org", time(NULL), &s);
		if (rc == STORE_OK || rc == STORE_NOTFOUND) {
			atomic_fetch_add(&calls_ok, 1);
			atomic_store(&last_ok_ms, (long long)mono_ms());
		} else if (rc == STORE_UNAVAILABLE)
			atomic_fetch_add(&calls_unavail, 1);
		else
			atomic_fetch_add(&calls_err, 1);
		/* pacing, not synchronisation: a store that answers "down" at
		 * once would otherwise spin the CPU the server needs */
		nanosleep(&pace, NULL);
	}
	return NULL;
}

static int
wait_for(int (*cond)(void), int64_t limit_ms)
{
	int64_t end = mono_ms() + limit_ms;
	struct timespec ts = { 0, 5 * 1000000L };

	while (!cond()) {
		if (mono_ms() > end)
			return -1;
		nanosleep(&ts, NULL);
	}
	return 0;
}

static int
is_down(void)
{
	struct store_health h;

	store_health(st, &h);
	return h.down;
}

static int64_t cont_ms;

static int
ok_after_cont(void)
{
	return atomic_load(&last_ok_ms) >= cont_ms && !is_down();
}

static int
warmed(void)
{
	return atomic_load(&calls_ok) >= 200;
}

int
main(int argc, char **argv)
{
	char dir[] = "/tmp/egress-stall-XXXXXX", sock[300], err[256], cmd[400];
	const char *rargv[] = { "redis-server", "--port", "0", "--unixsocket", sock,
	    "--unixsocketperm", "700", "--save", "", "--appendonly", "no", NULL };
	struct store_conf c;
	struct store_health h0, hc, h1;
	posix_spawn_file_actions_t fa;
	pthread_t t[THREADS];
	pid_t pid;
	int64_t stall_ms = argc > 1 ? atoll(argv[1]) : 1000, stop_ms, back_ms, bound;
	int i, fail = 0;

	if (system("command -v redis-server >/dev/null 2>&1") != 0) {
		printf("SKIP: redis-server not installed\n");
		return getenv("EGRESS_TESTS_REQUIRED") != NULL &&
		    strcmp(getenv("EGRESS_TESTS_REQUIRED"), "1") == 0 ? 1 : 77;
	}
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(sock, sizeof(sock), "%s/redis.sock", dir);
	if (posix_spawn_file_actions_init(&fa) != 0 ||
	    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0) != 0 ||
	    posix_spawnp(&pid, "redis-server", &fa, NULL, (char *const *)rargv,
	    environ) != 0) {
		printf("FAIL: cannot start redis-server\n");
		return 1;
	}
	posix_spawn_file_actions_destroy(&fa);
	snprintf(cmd, sizeof(cmd), "redis-cli -s %s ping 2>/dev/null | grep -q PONG", sock);
	for (i = 0; i < 200 && system(cmd) != 0; i++)
		usleep(50000);
	if (i == 200) {
		printf("FAIL: redis-server did not answer\n");
		kill(pid, SIGKILL);
		return 1;
	}
	if (store_conf_default(&c) != 0)
		return 1;
	c.backend = STORE_REDIS;
	free(c.redis);
	if (asprintf(&c.redis, "unix:%s", sock) < 0)
		return 1;
	c.redis_pool = 4;
	c.redis_timeout_ms = TIMEOUT_MS;
	c.redis_connect_timeout_ms = TIMEOUT_MS;
	c.redis_retry_ms = RETRY_MS;
	c.redis_retry_max_ms = RETRY_MAX_MS;
	if ((st = store_open(&c, log_quiet, NULL, err, sizeof(err))) == NULL) {
		printf("FAIL: store_open: %s\n", err);
		kill(pid, SIGKILL);
		return 1;
	}
	for (i = 0; i < THREADS; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)(long)i) != 0)
			return 1;
	if (wait_for(warmed, 30000) != 0) {
		printf("FAIL: no load before the stall\n");
		fail = 1;
		goto out;
	}
	store_health(st, &h0);
	/* the stall: the length is the test's input, not a synchronisation */
	stop_ms = mono_ms();
	kill(pid, SIGSTOP);
	if (wait_for(is_down, 30000) != 0) {
		printf("FAIL: the store did not notice the stall\n");
		kill(pid, SIGCONT);
		fail = 1;
		goto out;
	}
	while (mono_ms() < stop_ms + stall_ms)
		usleep(10000);
	store_health(st, &hc);	/* the probe interval in force when it answers */
	cont_ms = mono_ms();
	kill(pid, SIGCONT);
	if (wait_for(ok_after_cont, 120000) != 0) {
		printf("FAIL: the store did not come back\n");
		fail = 1;
		goto out;
	}
	back_ms = atomic_load(&last_ok_ms) - cont_ms;
	store_health(st, &h1);
	/*
	 * Bound: the next probe was due hc.next_probe_ms after SIGCONT at the
	 * latest; it takes at most one connect and one command timeout; a probe
	 * blocked on the stopped server may fail once more first (one more
	 * interval at the doubled backoff, capped). Margin for a loaded
	 * machine: the worker's pacing and two timeouts.
	 */
	bound = hc.next_probe_ms + 2 * TIMEOUT_MS +
	    (hc.backoff_ms * 2 < RETRY_MAX_MS ? hc.backoff_ms * 2 : RETRY_MAX_MS) +
	    2 * TIMEOUT_MS + 10;
	printf("stall: stopped %lld ms; back %lld ms after SIGCONT (bound %lld ms: "
	    "probe interval then %lld ms, next probe due in %lld ms); outages %llu, "
	    "probes %llu (failed %llu, overlapping %llu), backoff doublings %llu, "
	    "recoveries %llu; calls "
	    "ok %lld, unavailable %lld, errors %lld\n",
	    (long long)stall_ms, (long long)back_ms, (long long)bound,
	    (long long)hc.backoff_ms, (long long)hc.next_probe_ms,
	    (unsigned long long)(h1.outages - h0.outages),
	    (unsigned long long)(h1.probes - h0.probes),
	    (unsigned long long)(h1.probe_failures - h0.probe_failures),
	    (unsigned long long)h1.probe_overlaps,
	    (unsigned long long)(h1.backoff_steps - h0.backoff_steps),
	    (unsigned long long)(h1.recoveries - h0.recoveries),
	    (long long)atomic_load(&calls_ok), (long long)atomic_load(&calls_unavail),
	    (long long)atomic_load(&calls_err));
	if (h1.outages - h0.outages != 1) {
		printf("FAIL: %llu outages for one stall\n",
		    (unsigned long long)(h1.outages - h0.outages));
		fail = 1;
	}
	if (h1.recoveries - h0.recoveries != 1) {
		printf("FAIL: %llu recoveries for one stall\n",
		    (unsigned long long)(h1.recoveries - h0.recoveries));
		fail = 1;
	}
	if (h1.probe_overlaps != 0) {
		printf("FAIL: %llu probes overlapped\n",
		    (unsigned long long)h1.probe_overlaps);
		fail = 1;
	}
	if (h1.probe_failures - hc.probe_failures > 1) {
		printf("FAIL: %llu probes failed after the server answered again\n",
		    (unsigned long long)(h1.probe_failures - hc.probe_failures));
		fail = 1;
	}
	/* doublings: one per failed probe (below the cap), none for the
	 * calls that were in flight when the server stopped */
	if (h1.backoff_steps - h0.backoff_steps > h1.probe_failures - h0.probe_failures) {
		printf("FAIL: the backoff doubled %llu times for %llu failed probes\n",
		    (unsigned long long)(h1.backoff_steps - h0.backoff_steps),
		    (unsigned long long)(h1.probe_failures - h0.probe_failures));
		fail = 1;
	}
	if (back_ms > bound) {
		printf("FAIL: back %lld ms after the server answered, over %lld\n",
		    (long long)back_ms, (long long)bound);
		fail = 1;
	}
	if (atomic_load(&calls_err) != 0) {
		printf("FAIL: store errors (not unavailability) during the stall\n");
		fail = 1;
	}
out:
	atomic_store(&stop_threads, 1);
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	store_close(st);
	store_conf_fini(&c);
	kill(pid, SIGCONT);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	unlink(sock);
	rmdir(dir);
	if (!fail)
		printf("PASS: store_stall\n");
	return fail;
}
