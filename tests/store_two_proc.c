/*
 * store_two_proc - test-only helper for check_store's two-process case: a
 * second, separate process (egressctl beside the daemon) on the same LMDB
 * file. check_store runs it with posix_spawn instead of forking itself,
 * since an LMDB environment must not cross a fork and the caller has the
 * store's writer thread running.
 *
 *   store_two_proc DIR NOW write
 *	Puts a manual suppression for x@example.org and holds
 *	env:a@example.com as of NOW.
 *   store_two_proc DIR NOW released
 *	Checks that env:a@example.com has no status at NOW.
 *
 * Exits 0 when all is well; 10-13 name the step that failed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "egress/sender.h"
#include "egress/store.h"

int
main(int argc, char **argv)
{
	struct store_conf c;
	struct store *s;
	struct store_supp sp;
	struct sender_status ss;
	char err[256];
	int64_t now;
	int rc = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: store_two_proc DIR NOW write|released\n");
		return 2;
	}
	now = strtoll(argv[2], NULL, 10);
	if (store_conf_default(&c) != 0)
		return 10;
	free(c.state_dir);
	if ((c.state_dir = strdup(argv[1])) == NULL)
		return 10;
	if ((s = store_open(&c, NULL, NULL, err, sizeof(err))) == NULL) {
		fprintf(stderr, "store_open %s: %s\n", argv[1], err);
		store_conf_fini(&c);
		return 11;
	}
	if (strcmp(argv[3], "write") == 0) {
		memset(&sp, 0, sizeof(sp));
		strcpy(sp.reason, "manual");
		sp.source = SUPP_MANUAL;
		sp.created = now;
		if (store_supp_put(s, "x@example.org", &sp) != STORE_OK ||
		    sender_hold(s, "env:a@example.com", now, 0, "root", "x") != STORE_OK)
			rc = 12;
	} else if (store_status_get(s, "env:a@example.com", "", now, &ss) != STORE_NOTFOUND)
		rc = 13;
	store_close(s);
	store_conf_fini(&c);
	return rc;
}
