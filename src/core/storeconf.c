/*
 * storeconf.c - the `store` section: which backend keeps the sender record
 * and its settings.
 *
 * Part of the core so that `milter-egress -n` and egressctl validate the
 * whole file without linking a backend; the store library (src/store/)
 * reads the result when it opens. Defaults are documented in
 * milter-egress.conf(5).
 */
#include <sys/stat.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "egress/cfg.h"
#include "egress/storeconf.h"

int
store_conf_default(struct store_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->enabled = 1;
	c->backend = STORE_LMDB;
	c->map_size = 64LL << 20;
	c->map_max = 4LL << 30;
	c->commit_interval_ms = 200;
	c->queue_max = 100000;
	c->sweep_batch = 1000;
	c->bucket = 300;
	c->retention = 7 * 86400;
	c->sender_ttl = 90 * 86400;
	c->redis_connect_timeout_ms = 200;
	c->redis_timeout_ms = 200;
	c->redis_pool = 4;
	c->redis_retry_ms = 1000;
	c->redis_retry_max_ms = 30000;
	c->state_dir = strdup("/var/lib/milter-egress");
	c->redis = strdup("127.0.0.1:6379");
	c->key_prefix = strdup("egress");
	ledger_conf_default(&c->ledger);
	if (c->state_dir == NULL || c->redis == NULL || c->key_prefix == NULL) {
		store_conf_fini(c);
		return -1;
	}
	return 0;
}

void
store_conf_fini(struct store_conf *c)
{
	if (c == NULL)
		return;
	free(c->state_dir);
	free(c->redis);
	free(c->key_prefix);
	free(c->redis_password);
	ledger_conf_fini(&c->ledger);
	memset(c, 0, sizeof(*c));
}

static const char *const store_keys[] = {
	"enabled", "backend", "state_dir", "map_size", "map_max", "commit_interval_ms",
	"queue_max", "sweep_batch", "bucket", "retention", "sender_ttl",
	"redis", "redis_connect_timeout_ms", "redis_timeout_ms", "redis_pool",
	"redis_retry_ms", "redis_retry_max_ms", "key_prefix", "redis_password",
	"redis_db", NULL
};

int
store_config_load(struct store_conf *c, const config_setting_t *grp,
    struct cfg_errors *errs)
{
	char *s = NULL;
	int bad = 0, rc;

	if (grp == NULL)
		return 0;
	cfg_allow_keys(grp, store_keys, errs);
	if (cfg_bool(grp, "enabled", &c->enabled, errs) < 0)
		bad = 1;
	rc = cfg_string(grp, "backend", &s, errs);
	if (rc == 1) {
		if (strcmp(s, "lmdb") == 0)
			c->backend = STORE_LMDB;
		else if (strcmp(s, "redis") == 0)
			c->backend = STORE_REDIS;
		else {
			cfg_error(errs, config_setting_get_member(grp, "backend"),
			    "backend", "\"%s\": use \"lmdb\" or \"redis\"", s);
			bad = 1;
		}
	} else if (rc < 0)
		bad = 1;
	free(s);
	if (cfg_string(grp, "state_dir", &c->state_dir, errs) < 0 ||
	    cfg_size(grp, "map_size", 1LL << 20, 1LL << 40, &c->map_size, errs) < 0 ||
	    cfg_size(grp, "map_max", 1LL << 20, 1LL << 42, &c->map_max, errs) < 0 ||
	    cfg_int(grp, "commit_interval_ms", 1, 60000, &c->commit_interval_ms, errs) < 0 ||
	    cfg_int(grp, "queue_max", 100, 10000000, &c->queue_max, errs) < 0 ||
	    cfg_int(grp, "sweep_batch", 0, 1000000, &c->sweep_batch, errs) < 0 ||
	    cfg_duration(grp, "bucket", 10, 3600, &c->bucket, errs) < 0 ||
	    cfg_duration(grp, "retention", 3600, 400 * 86400LL, &c->retention, errs) < 0 ||
	    cfg_duration(grp, "sender_ttl", 86400, 3660 * 86400LL, &c->sender_ttl, errs) < 0 ||
	    cfg_string(grp, "redis", &c->redis, errs) < 0 ||
	    cfg_int(grp, "redis_connect_timeout_ms", 1, 60000,
		&c->redis_connect_timeout_ms, errs) < 0 ||
	    cfg_int(grp, "redis_timeout_ms", 1, 60000, &c->redis_timeout_ms, errs) < 0 ||
	    cfg_int(grp, "redis_pool", 1, 256, &c->redis_pool, errs) < 0 ||
	    cfg_int(grp, "redis_retry_ms", 1, 3600000, &c->redis_retry_ms, errs) < 0 ||
	    cfg_int(grp, "redis_retry_max_ms", 1, 3600000, &c->redis_retry_max_ms, errs) < 0 ||
	    cfg_string(grp, "key_prefix", &c->key_prefix, errs) < 0 ||
	    cfg_string(grp, "redis_password", &c->redis_password, errs) < 0 ||
	    cfg_int(grp, "redis_db", 0, 1000, &c->redis_db, errs) < 0)
		bad = 1;
	if (c->redis_password != NULL && c->redis_password[0] == '\0') {
		free(c->redis_password);
		c->redis_password = NULL;
	}
	if (c->state_dir != NULL) {
		const config_setting_t *sd = config_setting_get_member(grp, "state_dir");
		struct stat st;

		/*
		 * Absent is fine here (the daemon creates nothing, but a
		 * package may create it after checking the file); something
		 * that is not a directory can never work.
		 */
		if (c->state_dir[0] != '/') {
			cfg_error(errs, sd, "state_dir", "\"%s\" is not an absolute path",
			    c->state_dir);
			bad = 1;
		} else if (sd != NULL && stat(c->state_dir, &st) == 0 &&
		    !S_ISDIR(st.st_mode)) {
			cfg_error(errs, sd, "state_dir", "%s: %s", c->state_dir,
			    strerror(ENOTDIR));
			bad = 1;
		}
	}
	if (c->redis != NULL) {
		char why[160];

		if (cfg_hostport_check(c->redis, why, sizeof(why)) != 0) {
			cfg_error(errs, config_setting_get_member(grp, "redis"), "redis",
			    "\"%s\": %s", c->redis, why);
			bad = 1;
		}
	}
	if (!bad && c->map_max < c->map_size) {
		cfg_error(errs, config_setting_get_member(grp, "map_max"), "map_max",
		    "smaller than map_size");
		bad = 1;
	}
	if (!bad && c->key_prefix != NULL && strpbrk(c->key_prefix, "{} \t\r\n") != NULL) {
		cfg_error(errs, config_setting_get_member(grp, "key_prefix"),
		    "key_prefix", "must not contain braces or white space");
		bad = 1;
	}
	return bad ? -1 : 0;
}

