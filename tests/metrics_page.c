/*
 * metrics_page - print the exposition of a registry with a few updates, for
 * tests/grafana_dashboard.sh (every metric the dashboard names exists;
 * promtool accepts the page) without a running daemon.
 */
#include <stdio.h>
#include <stdlib.h>

#include "egress/buf.h"
#include "egress/metrics.h"

int
main(void)
{
	struct metrics *m = metrics_new();
	struct buf b;

	if (m == NULL)
		return 1;
	metrics_message(m, ACT_REJECT, ACT_REJECT, 0);
	metrics_bounce(m, "blocked", MMATCH_UNKNOWN);
	metrics_store(m, MSTORE_SENDER_CHECK, 12000, 0);
	metrics_stage(m, MSTAGE_EOM, 250000);
	metrics_session(m, 1);
	buf_init(&b, 0);
	if (metrics_write(m, "test", &b) != BUF_OK)
		return 1;
	fputs(buf_cstr(&b), stdout);
	buf_fini(&b);
	metrics_free(m);
	return 0;
}
