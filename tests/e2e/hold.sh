#!/bin/sh
# tests/e2e/hold.sh - action hold behind Postfix: the SMTP client gets 250,
# Postfix puts the message in its hold queue (maillog "milter-hold: ...
# milter triggers HOLD action": Postfix 3.7 does not log the quarantine
# reason text, milter-egress's own log line names the check), nothing is
# delivered; released with postsuper -H it is delivered.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"
DATA=$top_srcdir/tests/data/e2e

e2e_require milter
e2e_up
e2e_write_milter_config "$E2E_DIR/milter.conf" enforce \
	'{ id = "rfc5322.header.duplicate"; action = "hold"; }'
e2e_start_milter "$E2E_DIR/milter.conf"

awk '{ print } /^Subject:/ { print "Subject: a second subject" }' "$DATA/clean.eml" \
	| sed 's/e2e clean message/e2e held message/' >"$E2E_DIR/held.eml"
e2e_send held "$E2E_DIR/held.eml" || e2e_fail "not accepted: $(e2e_reply held)"
case $(e2e_reply held) in 250*) ;; *) e2e_fail "reply: $(e2e_reply held)" ;; esac
e2e_wait_log 'milter-hold: END-OF-MESSAGE' 10 || e2e_fail "no milter-hold in the maillog"
echo "maillog: $(grep -m 1 'milter-hold' "$E2E_MAILLOG" | sed 's/^.*milter-hold/milter-hold/')"
[ -n "$(find "$E2E_DIR/spool/hold" -type f)" ] || e2e_fail "not in the hold queue"
e2e_wait_log 'action=hold' 5 "$E2E_MILTER_LOG" || e2e_fail "milter log does not say hold"
grep 'action=hold' "$E2E_MILTER_LOG" | grep -q 'rfc5322\.header\.duplicate' ||
	e2e_fail "milter log does not name the check"
sleep 2  # a queue run later it is still held
[ -z "$(e2e_delivered 'e2e held message')" ] || e2e_fail "held message delivered"

postsuper -c "$E2E_DIR/etc" -H ALL 2>/dev/null || e2e_fail "postsuper -H failed"
e2e_postqueue -f
e2e_wait_delivered "e2e held message" >/dev/null || e2e_fail "released message not delivered"
echo "PASS: hold"
