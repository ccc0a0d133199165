#!/bin/sh
# tests/e2e/milter_down.sh - milter-egress not running, milter_default_action
# = tempfail: nothing is lost.
#  - SMTP: the client gets a 4xx reply, Postfix keeps nothing; when the
#    client retries after the milter is back, the message is delivered.
#  - sendmail (non_smtpd_milters): the message stays in the maildrop queue;
#    pickup delivers it once the milter is back (pickup rescans maildrop
#    every 2 s in this instance - master.cf wakeup; 60 s by default).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"
DATA=$top_srcdir/tests/data/e2e

e2e_require milter
e2e_up
e2e_write_milter_config "$E2E_DIR/milter.conf" enforce
e2e_start_milter "$E2E_DIR/milter.conf"

# sanity: with the milter up a message goes through
e2e_send up "$DATA/clean.eml" || e2e_fail "milter up: $(e2e_reply up)"
e2e_wait_delivered "e2e clean message" >/dev/null || e2e_fail "not delivered with the milter up"

e2e_stop_milter
sed 's/e2e clean message/e2e while the milter is down/' "$DATA/clean.eml" >"$E2E_DIR/down.eml"
sed 's/e2e clean message/e2e local while the milter is down/' "$DATA/clean.eml" >"$E2E_DIR/local.eml"

# SMTP: temporary failure seen by the client
e2e_send down "$E2E_DIR/down.eml" && e2e_fail "accepted while the milter is down"
r=$(e2e_reply down)
echo "SMTP with the milter down: $r"
case $r in 4[0-9][0-9]" "*) ;; *) e2e_fail "expected 4xx, got: $r" ;; esac

# non-SMTP: stays queued
sendmail -C "$E2E_DIR/etc" -f "$E2E_SENDER" "$E2E_RCPT" <"$E2E_DIR/local.eml" ||
	e2e_fail "sendmail failed"
e2e_wait_log 'cleanup.*milter-reject: .*4\.7\.1' 10 || e2e_fail "cleanup did not tempfail"
sleep 3  # at least one more pickup scan
# The file moves between queue directories while pickup retries it: count
# until one stable reading, and report that same reading.
n=-1; t=50
while [ "$t" -gt 0 ]; do
	n=$(e2e_queue_count)
	[ "$n" -eq 1 ] && break
	sleep 0.1; t=$((t - 1))
done
[ "$n" -eq 1 ] || e2e_fail "expected 1 queued message, found $n"
[ -n "$(find "$E2E_DIR/spool/maildrop" -type f)" ] || e2e_fail "message not in maildrop"
[ -z "$(e2e_delivered 'milter is down')" ] || e2e_fail "delivered without the milter"
echo "sendmail with the milter down: queued in maildrop"
e2e_postqueue -p

# milter back: the client retries; pickup takes the queued one
e2e_start_milter "$E2E_DIR/milter.conf"
e2e_send retry "$E2E_DIR/down.eml" || e2e_fail "retry: $(e2e_reply retry)"
e2e_wait_delivered "e2e while the milter is down" >/dev/null || e2e_fail "retried message not delivered"
e2e_wait_delivered "e2e local while the milter is down" 30 >/dev/null ||
	e2e_fail "queued local message not delivered after the milter came back"
e2e_wait_queue_empty 10 || e2e_fail "queue not empty"
[ "$(ls "$E2E_DIR/sink" | wc -l)" -eq 3 ] || e2e_fail "expected 3 deliveries, got $(ls "$E2E_DIR/sink" | wc -l)"
echo "PASS: milter_down"
