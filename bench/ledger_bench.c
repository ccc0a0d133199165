/*
 * ledger_bench - what the ledger costs per message: the time the milter's
 * call (store_ledger_put) takes, the time until the entries are committed,
 * and the bytes an entry occupies, for LMDB and Redis, with 1 and with 10
 * recipients per message. Prints figures, asserts nothing.
 *
 *   ledger_bench [-n MESSAGES] [-b lmdb|redis|both]
 *
 * LMDB: a temporary directory under $TMPDIR or /tmp; bytes are the pages
 * of the ledger's databases ("lg", "lgt") over the entries. Redis: a
 * redis-server started here on a unix socket (posix_spawn, never fork);
 * bytes are the growth of used_memory over the entries.
 */
#include <sys/types.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "egress/ledger.h"
#include "egress/sender.h"
#include "egress/store.h"

extern char **environ;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
quiet_log(void *arg, int level, const char *msg)
{
	(void)arg;
	if (level <= STORE_LOG_WARNING)
		fprintf(stderr, "store: %s\n", msg);
}

/* Bytes of the pages of one LMDB database. */
static double
lmdb_db_bytes(MDB_txn *txn, const char *name)
{
	MDB_dbi dbi;
	MDB_stat ms;

	if (mdb_dbi_open(txn, name, 0, &dbi) != 0 || mdb_stat(txn, dbi, &ms) != 0)
		return 0;
	return (double)(ms.ms_branch_pages + ms.ms_leaf_pages + ms.ms_overflow_pages) *
	    ms.ms_psize;
}

static double
lmdb_bytes(const char *dir)
{
	MDB_env *env;
	MDB_txn *txn;
	double b = 0;

	if (mdb_env_create(&env) != 0)
		return 0;
	mdb_env_set_maxdbs(env, 12);
	if (mdb_env_open(env, dir, MDB_RDONLY, 0640) == 0 &&
	    mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) == 0) {
		b = lmdb_db_bytes(txn, "lg") + lmdb_db_bytes(txn, "lgt");
		mdb_txn_abort(txn);
	}
	mdb_env_close(env);
	return b;
}

static long long
redis_used_memory(const char *sock)
{
	char cmd[600], line[256];
	long long v = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "redis-cli -s %s info memory", sock);
	if ((p = popen(cmd, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), p) != NULL)
		if (strncmp(line, "used_memory:", 12) == 0)
			v = atoll(line + 12);
	pclose(p);
	return v;
}

/* One run: n messages of nrcpt recipients each. */
static void
run(struct store_conf *c, const char *name, const char *sock, int n, int nrcpt)
{
	static struct ledger_entry e;
	struct sender_keys k;
	struct store *st;
	char err[256], id[128], rc[64], qid[32];
	double *lat, t0, t1, t2, sum = 0, bytes = 0;
	long long mem0 = 0;
	int i, j, errors = 0, reclen = 0;
	char *rec;

	if ((st = store_open(c, quiet_log, NULL, err, sizeof(err))) == NULL) {
		printf("%s: %s\n", name, err);
		return;
	}
	if (!store_ledger_ready(st)) {
		printf("%s: ledger not ready\n", name);
		store_close(st);
		return;
	}
	if (sock != NULL)
		mem0 = redis_used_memory(sock);
	lat = calloc((size_t)n, sizeof(*lat));
	rec = malloc(LEDGER_REC_MAX);
	memset(&k, 0, sizeof(k));
	t0 = now_s();
	for (i = 0; i < n && lat != NULL && rec != NULL; i++) {
		snprintf(k.env, sizeof(k.env), "env:sender%d@example.org", i % 1000);
		snprintf(k.dom, sizeof(k.dom), "dom:example.org");
		/* the shape of a generated Message-ID and a Postfix queue id */
		snprintf(id, sizeof(id), "%lld.%016x%08x@example.org",
		    (long long)time(NULL), (unsigned)(i * 2654435761u), (unsigned)i);
		snprintf(qid, sizeof(qid), "4R%09X", (unsigned)i);
		ledger_entry_init(&e, id, qid, &k, (int64_t)time(NULL), LEDGER_ACCEPTED);
		for (j = 0; j < nrcpt; j++) {
			snprintf(rc, sizeof(rc), "rcpt%d.%d@dest%d.example", i, j, j);
			ledger_entry_add_rcpt(&e, store_ledger_key(st), rc);
		}
		if (i == 0)
			reclen = ledger_encode(&e, rec, LEDGER_REC_MAX);
		t1 = now_s();
		if (store_ledger_put(st, &e) != STORE_OK)
			errors++;
		lat[i] = (now_s() - t1) * 1e6;
		sum += lat[i];
	}
	t1 = now_s();
	if (store_flush(st) != STORE_OK)
		errors++;
	t2 = now_s();
	qsort(lat, (size_t)n, sizeof(*lat), cmp_d);
	if (sock != NULL)
		bytes = (double)(redis_used_memory(sock) - mem0);
	store_close(st);
	if (sock == NULL)
		bytes = lmdb_bytes(c->state_dir);
	printf("%-5s %2d rcpt: put mean %6.2f us p50 %6.2f p99 %7.2f max %8.1f; "
	    "%d in %.2f s + flush %.2f s = %.0f msg/s committed; record %d B, "
	    "store %.0f B/msg%s\n", name, nrcpt, sum / n, lat[n / 2],
	    lat[(size_t)((double)n * 0.99)], lat[n - 1], n, t1 - t0, t2 - t1,
	    n / (t2 - t0), reclen, bytes / n, errors ? " (errors)" : "");
	free(lat);
	free(rec);
}

int
main(int argc, char **argv)
{
	struct store_conf c;
	const char *which = "both";
	char dir[256], path[400], sock[300], cmd[600];
	int n = 50000, opt, i, k;
	pid_t pid = -1;

	while ((opt = getopt(argc, argv, "n:b:")) != -1) {
		switch (opt) {
		case 'n': n = atoi(optarg); break;
		case 'b': which = optarg; break;
		default:
			fprintf(stderr, "usage: ledger_bench [-n MESSAGES] [-b lmdb|redis|both]\n");
			return 64;
		}
	}
	if (n < 100)
		return 64;
	snprintf(dir, sizeof(dir), "%s/egress-lbench-XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		return 2;
	printf("ledger_bench: %d messages per run, one thread\n", n);
	for (k = 0; k < 2; k++) {
		int nrcpt = k == 0 ? 1 : 10;

		if (strcmp(which, "redis") != 0) {
			if (store_conf_default(&c) != 0)
				return 2;
			free(c.state_dir);
			snprintf(path, sizeof(path), "%s/lmdb%d", dir, nrcpt);
			c.state_dir = strdup(path);
			c.ledger.max_entries = n + 1000;
			c.queue_max = 10000000;
			run(&c, "lmdb", NULL, n, nrcpt);
			store_conf_fini(&c);
		}
		if (strcmp(which, "lmdb") != 0) {
			const char *av[] = { "redis-server", "--port", "0", "--unixsocket",
			    sock, "--save", "", "--appendonly", "no", NULL };
			posix_spawn_file_actions_t fa;

			snprintf(sock, sizeof(sock), "%s/redis%d.sock", dir, nrcpt);
			posix_spawn_file_actions_init(&fa);
			posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
			posix_spawn_file_actions_adddup2(&fa, 1, 2);
			if (posix_spawnp(&pid, av[0], &fa, NULL, (char *const *)av, environ) != 0)
				pid = -1;
			posix_spawn_file_actions_destroy(&fa);
			snprintf(cmd, sizeof(cmd), "redis-cli -s %s ping >/dev/null 2>&1", sock);
			for (i = 0; pid > 0 && i < 100 && system(cmd) != 0; i++)
				usleep(50000);
			if (pid > 0 && i < 100 && store_conf_default(&c) == 0) {
				free(c.redis);
				c.redis = malloc(strlen(sock) + 6);
				sprintf(c.redis, "unix:%s", sock);
				c.backend = STORE_REDIS;
				c.redis_timeout_ms = 1000;
				snprintf(path, sizeof(path), "%s/redis.key", dir);
				c.ledger.key_file = strdup(path);
				c.ledger.max_entries = n + 1000;
				run(&c, "redis", sock, n, nrcpt);
				store_conf_fini(&c);
			} else
				printf("redis: redis-server not available, skipped\n");
			if (pid > 0) {
				kill(pid, SIGTERM);
				waitpid(pid, NULL, 0);
			}
		}
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return 0;
}
