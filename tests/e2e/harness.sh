#!/bin/sh
# tests/e2e/harness.sh - the private Postfix itself, without milter-egress:
# a clean message sent to the listener without a milter reaches the sink
# byte for byte (only Received: and the sink's own records added) and the
# queue empties; the listener whose milter is not running answers 451, so
# nothing is accepted while the filter is missing (milter_default_action).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"
DATA=$top_srcdir/tests/data/e2e

e2e_require
e2e_up

e2e_send plain "$DATA/clean.eml" "$E2E_PLAIN_PORT" || e2e_fail "swaks failed on the plain listener"
case $(e2e_reply plain) in 250*) ;; *) e2e_fail "plain listener: $(e2e_reply plain)" ;; esac
f=$(e2e_wait_delivered "e2e clean message") || e2e_fail "clean message not delivered"
e2e_strip_transport "$f" | diff -u "$DATA/clean.eml" - || e2e_fail "delivered message differs"
e2e_wait_queue_empty 10 || e2e_fail "queue not empty"
qid=$(e2e_queue_id "$f")
grep -q "queued as $qid\$" "$E2E_DIR/log/swaks.plain" || e2e_fail "queue id '$qid' not the one swaks saw"

e2e_send nomilter "$DATA/clean.eml" && e2e_fail "accepted with the milter down"
case $(e2e_reply nomilter) in
451*) ;;
*) e2e_fail "expected 451 with the milter down, got: $(e2e_reply nomilter)" ;;
esac
[ "$(ls "$E2E_DIR/sink" | wc -l)" -eq 1 ] || e2e_fail "unexpected delivery"
echo "PASS: harness"
