/*
 * storeconf - the settings of the sender record's store (`store` section).
 *
 * Parsed and validated in the core (no backend needed), read by store_open()
 * in the store library. Strings are malloc'd and owned by the struct
 * (store_conf_fini).
 */
#ifndef EGRESS_STORECONF_H
#define EGRESS_STORECONF_H

#include <libconfig.h>

#include "egress/ledger.h"

struct cfg_errors;

enum store_backend { STORE_LMDB = 0, STORE_REDIS };

struct store_conf {
	int		 enabled;		/* false: no sender record at all */
	enum store_backend backend;
	char		*state_dir;		/* LMDB directory */
	long long	 map_size;		/* LMDB initial map size, bytes */
	long long	 map_max;		/* LMDB growth limit, bytes */
	long long	 commit_interval_ms;	/* LMDB group commit */
	long long	 queue_max;		/* LMDB queued counter updates */
	long long	 sweep_batch;		/* LMDB expired records per commit */
	long long	 bucket;		/* event bucket width, seconds */
	long long	 retention;		/* events kept, seconds */
	long long	 sender_ttl;		/* meta kept after last seen */
	char		*redis;			/* "HOST:PORT" or "unix:PATH" */
	long long	 redis_connect_timeout_ms;
	long long	 redis_timeout_ms;
	long long	 redis_pool;		/* connections */
	long long	 redis_retry_ms;	/* first reconnect backoff */
	long long	 redis_retry_max_ms;
	char		*key_prefix;		/* Redis key prefix */
	char		*redis_password;	/* AUTH, or NULL */
	long long	 redis_db;		/* SELECT (not with Cluster) */
	struct ledger_conf ledger;		/* `ledger` section (ledger.h) */
};

__attribute__((warn_unused_result))
int	store_conf_default(struct store_conf *c);
void	store_conf_fini(struct store_conf *c);
/*
 * Parse the `store` group (may be NULL) over c, which holds the defaults
 * (store_conf_default). Errors go to errs; returns 0 or -1.
 */
int	store_config_load(struct store_conf *c, const config_setting_t *grp,
	    struct cfg_errors *errs);

#endif
