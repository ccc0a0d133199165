#!/bin/sh
# tests/e2e/from_duplicate.sh - two From fields: rejected with the default
# 554 5.6.0 reply seen by the SMTP client, nothing delivered, and the
# milter's log line names the check.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"
DATA=$top_srcdir/tests/data/e2e

e2e_require milter
e2e_up
e2e_write_milter_config "$E2E_DIR/milter.conf" enforce
e2e_start_milter "$E2E_DIR/milter.conf"

e2e_send dup "$DATA/dup_from.eml" && e2e_fail "accepted"
r=$(e2e_reply dup)
echo "reply: $r"
case $r in "554 5.6.0 "*) ;; *) e2e_fail "expected 554 5.6.0, got: $r" ;; esac
e2e_wait_queue_empty 10 || e2e_fail "queue not empty"
[ -z "$(e2e_delivered 'e2e duplicate From')" ] || e2e_fail "delivered"
grep -q 'milter-reject: END-OF-MESSAGE' "$E2E_MAILLOG" || e2e_fail "no milter-reject in maillog"
e2e_wait_log 'rfc5322\.from\.duplicate' 5 "$E2E_MILTER_LOG" || e2e_fail "milter log does not name the check"
echo "PASS: from_duplicate"
