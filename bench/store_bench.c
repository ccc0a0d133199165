/*
 * store_bench - operations per second and latency (p50, p99) of the sender
 * store under 4 threads, for LMDB and for Redis. Prints figures, asserts
 * nothing.
 *
 *   store_bench [-t THREADS] [-s SECONDS] [-b lmdb|redis|both]
 *
 * LMDB runs in a temporary directory (on the file system of /tmp, or of
 * $TMPDIR). Redis: $EGRESS_BENCH_REDIS ("HOST:PORT" or "unix:PATH") if set,
 * else a redis-server started here on a unix socket (and stopped).
 *
 * Operations, as the milter uses them:
 *   mail     sender_check at MAIL FROM (count the message, read statuses)
 *   rcpt     recipient_check + sender_check for the destination
 *   fail     sender_record_failure (count, evaluate the rules)
 *   rate     store_rate_take on a per-sender bucket
 *   supp     store_supp_put (a durable write: fsync with LMDB)
 */
#include <sys/types.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "egress/findings.h"
#include "egress/sender.h"
#include "egress/store.h"

#define SENDERS		1000
#define MAX_SAMPLES	4000000

enum op { OP_MAIL, OP_RCPT, OP_FAIL, OP_RATE, OP_SUPP, OP__COUNT };
static const char *const op_names[OP__COUNT] = { "mail", "rcpt", "fail", "rate", "supp" };

struct shared {
	struct store		*st;
	struct policy_conf	 pol;
	enum op			 op;
	double			 seconds;
	int			 go;		/* atomic */
};

struct worker {
	struct shared	*sh;
	int		 id;
	double		*lat;		/* microseconds */
	size_t		 n, cap;
	long		 errors;
};

static long log_lines;
static char log_first[256];

/* Store log: counted; the first line is shown with the figures. */
static void
bench_log(void *arg, int level, const char *msg)
{
	(void)arg;
	(void)level;
	if (__atomic_fetch_add(&log_lines, 1, __ATOMIC_RELAXED) == 0)
		snprintf(log_first, sizeof(log_first), "%s", msg);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
one_op(struct worker *w, unsigned long i)
{
	struct shared *sh = w->sh;
	struct sender_keys k;
	struct sender_facts d;
	struct store_supp s;
	struct rate r = { 10, 1000000 };
	char from[64], rcpt[64], key[80];
	int allowed, rc = STORE_OK;
	unsigned long n = i * 4 + (unsigned long)w->id;

	snprintf(from, sizeof(from), "user%lu@sender%lu.example", n % SENDERS,
	    n % 37);
	snprintf(rcpt, sizeof(rcpt), "r%lu@dest%lu.example", n, n % 50);
	switch (sh->op) {
	case OP_MAIL:
		(void)sender_keys_make(&sh->pol, from, NULL, &k);
		rc = sender_check(sh->st, &sh->pol, &k, NULL, wall_ms(), &d);
		break;
	case OP_RCPT:
		rc = recipient_check(sh->st, rcpt, wall_ms(), &d);
		if (rc == STORE_OK) {
			(void)sender_keys_make(&sh->pol, from, NULL, &k);
			rc = sender_check(sh->st, &sh->pol, &k, strchr(rcpt, '@') + 1,
			    wall_ms(), &d);
		}
		break;
	case OP_FAIL:
		(void)sender_keys_make(&sh->pol, from, NULL, &k);
		rc = sender_record_failure(sh->st, &sh->pol, &k, strchr(rcpt, '@') + 1,
		    NULL, n % 3 ? "blocked" : "mailboxfull", 1, rcpt, wall_ms());
		break;
	case OP_RATE:
		snprintf(key, sizeof(key), "env:%s", from);
		rc = store_rate_take(sh->st, key, "rate", wall_ms(), &r, 0, &allowed, NULL);
		break;
	case OP_SUPP:
		memset(&s, 0, sizeof(s));
		snprintf(s.reason, sizeof(s.reason), "userunknown");
		s.created = wall_ms() / 1000;
		s.expires = s.created + 86400;
		rc = store_supp_put(sh->st, rcpt, &s);
		break;
	default:
		break;
	}
	return rc;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	double t0, t1, end;
	unsigned long i;

	while (!__atomic_load_n(&w->sh->go, __ATOMIC_ACQUIRE))
		;
	end = now_s() + w->sh->seconds;
	for (i = 0;; i++) {
		t0 = now_s();
		if (t0 >= end)
			break;
		if (one_op(w, i) != STORE_OK)
			w->errors++;
		t1 = now_s();
		if (w->n < w->cap)
			w->lat[w->n++] = (t1 - t0) * 1e6;
	}
	return NULL;
}

static int
msgs_cb(void *arg, const char *key, const struct store_meta *m)
{
	(void)key;
	*(uint64_t *)arg += m->messages;
	return 0;
}

static int
dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
run_op(struct shared *sh, const char *backend, int threads)
{
	struct worker *w = calloc((size_t)threads, sizeof(*w));
	pthread_t *t = calloc((size_t)threads, sizeof(*t));
	double *all, t0, t1;
	size_t total = 0, k = 0;
	long errors = 0;
	int i;

	if (w == NULL || t == NULL)
		exit(2);
	__atomic_store_n(&sh->go, 0, __ATOMIC_RELEASE);
	for (i = 0; i < threads; i++) {
		w[i].sh = sh;
		w[i].id = i;
		w[i].cap = MAX_SAMPLES / (size_t)threads;
		if ((w[i].lat = malloc(w[i].cap * sizeof(double))) == NULL)
			exit(2);
		pthread_create(&t[i], NULL, worker_main, &w[i]);
	}
	t0 = now_s();
	__atomic_store_n(&sh->go, 1, __ATOMIC_RELEASE);
	for (i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		total += w[i].n;
		errors += w[i].errors;
	}
	t1 = now_s();
	if (store_flush(sh->st) != STORE_OK)
		errors++;
	all = malloc((total ? total : 1) * sizeof(double));
	for (i = 0; i < threads; i++) {
		memcpy(all + k, w[i].lat, w[i].n * sizeof(double));
		k += w[i].n;
		free(w[i].lat);
	}
	qsort(all, total, sizeof(double), dbl_cmp);
	printf("%-6s %-5s %2d threads %10.0f ops/s   p50 %8.1f us   p99 %8.1f us   "
	    "max %9.1f us   errors %ld\n", backend, op_names[sh->op], threads,
	    (double)total / (t1 - t0), total ? all[total / 2] : 0.0,
	    total ? all[(size_t)((double)total * 0.99)] : 0.0,
	    total ? all[total - 1] : 0.0, errors);
	if (sh->op == OP_MAIL) {
		uint64_t msgs = 0;

		/* how many of the message counts the writer committed */
		if (store_meta_each(sh->st, wall_ms() / 1000, msgs_cb, &msgs) == STORE_OK)
			printf("%-6s mail   message counts committed: %llu of %zu "
			    "(%.0f/s)\n", backend, (unsigned long long)msgs, total,
			    (double)msgs / (t1 - t0));
	}
	fflush(stdout);
	free(all);
	free(w);
	free(t);
}

static void
bench_backend(struct store_conf *c, const char *name, int threads, double secs)
{
	struct shared sh;
	char err[256];
	int o;

	memset(&sh, 0, sizeof(sh));
	if (policy_conf_default(&sh.pol) != 0)
		exit(2);
	log_lines = 0;
	if ((sh.st = store_open(c, bench_log, NULL, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s: %s\n", name, err);
		exit(2);
	}
	sh.seconds = secs;
	for (o = 0; o < OP__COUNT; o++) {
		sh.op = (enum op)o;
		run_op(&sh, name, threads);
	}
	store_close(sh.st);
	policy_conf_fini(&sh.pol);
	if (log_lines > 0)
		printf("%s: %ld store log lines, the first: %s\n", name, log_lines,
		    log_first);
}

int
main(int argc, char **argv)
{
	struct store_conf c;
	const char *which = "both", *redis = getenv("EGRESS_BENCH_REDIS");
	char dir[256], sock[300], cmd[600];
	double secs = 2;
	int threads = 4, opt, i;
	pid_t pid = -1;

	while ((opt = getopt(argc, argv, "t:s:b:")) != -1) {
		switch (opt) {
		case 't': threads = atoi(optarg); break;
		case 's': secs = atof(optarg); break;
		case 'b': which = optarg; break;
		default:
			fprintf(stderr, "usage: store_bench [-t THREADS] [-s SECONDS] "
			    "[-b lmdb|redis|both]\n");
			return 64;
		}
	}
	if (threads < 1 || threads > 256 || secs <= 0)
		return 64;
	snprintf(dir, sizeof(dir), "%s/egress-bench-XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		return 2;
	printf("store_bench: %d threads, %.1f s per operation, %d senders\n",
	    threads, secs, SENDERS);
	if (strcmp(which, "redis") != 0) {
		if (store_conf_default(&c) != 0)
			return 2;
		free(c.state_dir);
		snprintf(sock, sizeof(sock), "%s/lmdb", dir);
		c.state_dir = strdup(sock);
		bench_backend(&c, "lmdb", threads, secs);
		store_conf_fini(&c);
	}
	if (strcmp(which, "lmdb") != 0) {
		if (store_conf_default(&c) != 0)
			return 2;
		free(c.redis);
		if (redis != NULL)
			c.redis = strdup(redis);
		else {
			snprintf(sock, sizeof(sock), "%s/redis.sock", dir);
			if ((pid = fork()) == 0) {
				int fd = open("/dev/null", O_WRONLY);

				dup2(fd, 1);
				dup2(fd, 2);
				execlp("redis-server", "redis-server", "--port", "0",
				    "--unixsocket", sock, "--save", "", "--appendonly",
				    "no", (char *)NULL);
				_exit(127);
			}
			snprintf(cmd, sizeof(cmd), "redis-cli -s %s ping >/dev/null 2>&1", sock);
			for (i = 0; i < 100 && system(cmd) != 0; i++)
				usleep(50000);
			if (i == 100) {
				printf("redis: redis-server not available, skipped\n");
				goto out;
			}
			c.redis = malloc(strlen(sock) + 6);
			sprintf(c.redis, "unix:%s", sock);
		}
		c.backend = STORE_REDIS;
		c.redis_pool = threads;
		c.redis_timeout_ms = 1000;
		bench_backend(&c, "redis", threads, secs);
out:
		store_conf_fini(&c);
	}
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return 0;
}
