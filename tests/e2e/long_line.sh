#!/bin/sh
# tests/e2e/long_line.sh - a 1,200-octet body line (RFC 5322 allows 998).
# Postfix hands it to the milter whole (POSTFIX.md), so the check fires:
#  - default action reject: the SMTP client gets a 5xx reply, nothing delivered;
#  - action tag: delivered with the findings header naming body.line_too_long.
#    Postfix's SMTP client then folds the line itself on the way out
#    (smtp_line_length_limit = 998), which the test records.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"
DATA=$top_srcdir/tests/data/e2e

e2e_require milter
e2e_up

e2e_write_milter_config "$E2E_DIR/reject.conf" enforce
e2e_start_milter "$E2E_DIR/reject.conf"
e2e_send reject "$DATA/long_line.eml" && e2e_fail "accepted with the default action"
r=$(e2e_reply reject)
echo "reject: $r"
case $r in 5[0-9][0-9]" "*) ;; *) e2e_fail "expected 5xx, got: $r" ;; esac
e2e_wait_queue_empty 10 || e2e_fail "queue not empty"
[ -z "$(e2e_delivered 'e2e over-long line')" ] || e2e_fail "rejected message delivered"
e2e_wait_log 'body\.line_too_long' 5 "$E2E_MILTER_LOG" || e2e_fail "milter log does not name the check"
e2e_stop_milter

e2e_write_milter_config "$E2E_DIR/tag.conf" enforce \
	'{ id = "body.line_too_long"; action = "tag"; }'
e2e_start_milter "$E2E_DIR/tag.conf"
e2e_send tag "$DATA/long_line.eml" || e2e_fail "tag: $(e2e_reply tag)"
f=$(e2e_wait_delivered "e2e over-long line") || e2e_fail "tagged message not delivered"
tag=$(e2e_header "$f" X-Egress-Findings)
echo "tag: X-Egress-Findings: $tag"
printf '%s\n' "$tag" | grep -q 'body\.line_too_long' || e2e_fail "tag does not name body.line_too_long"
# what left Postfix: no line over 998 octets any more (the SMTP client folded it)
longest=$(tr -d '\r' <"$f" | awk 'length > m { m = length } END { print m + 0 }')
echo "longest delivered line: $longest octets"
[ "$longest" -le 998 ] || e2e_fail "Postfix delivered a line of $longest octets"
echo "PASS: long_line"
