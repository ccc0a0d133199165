/*
 * fuzz_maillog - maillog_parse on arbitrary lines: every span lies inside
 * the line and within its bound, a delivery has a queue id and a
 * recipient, and classification and the queue-id map accept whatever the
 * parser returns.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "egress/maillog.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct maillog_qmap *map;

static void
inside(const struct maillog_span *s, const char *line, size_t n, size_t max)
{
	if (s->n == 0)
		return;
	if (s->p < line || s->p + s->n > line + n || s->n > max)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data;
	struct maillog_event ev;
	struct maillog_rcpt r;
	enum maillog_kind k;

	if (map == NULL && (map = maillog_qmap_new(64)) == NULL)
		return 0;
	k = maillog_parse(line, size, &ev);
	inside(&ev.qid, line, size, MAILLOG_QID_MAX);
	inside(&ev.rcpt, line, size, MAILLOG_ADDR_MAX);
	inside(&ev.orig_rcpt, line, size, MAILLOG_ADDR_MAX);
	inside(&ev.sender, line, size, MAILLOG_ADDR_MAX);
	inside(&ev.msgid, line, size, MAILLOG_MSGID_MAX);
	inside(&ev.relay, line, size, MAILLOG_HOST_MAX);
	inside(&ev.diag, line, size, MAILLOG_DIAG_MAX);
	inside(&ev.host, line, size, MAILLOG_HOST_MAX);
	inside(&ev.prog, line, size, MAILLOG_PROG_MAX);
	inside(&ev.dsn, line, size, 15);
	(void)maillog_event_time(&ev, 1796276113, 3600);
	if (k == MAILLOG_DELIVERY) {
		if (ev.qid.n == 0 || ev.rcpt.n == 0)
			abort();
		if (maillog_classify(NULL, &ev, &r) == 0) {
			if (r.r.final_rcpt == NULL || strlen(r.r.final_rcpt) != ev.rcpt.n)
				abort();
			maillog_rcpt_fini(&r);
		}
		(void)maillog_qmap_get(map, ev.qid.p, ev.qid.n, NULL, NULL);
	} else if (k != MAILLOG_NONE && maillog_qmap_learn(map, &ev) != 0)
		return 0;
	return 0;
}
