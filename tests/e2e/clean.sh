#!/bin/sh
# tests/e2e/clean.sh - a clean message passes milter-egress unchanged, over
# SMTP (smtpd_milters) and through sendmail/pickup (non_smtpd_milters): at
# the sink it is byte for byte what was sent, apart from Received: fields
# (and no findings header is added).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"
DATA=$top_srcdir/tests/data/e2e

e2e_require milter
e2e_up
e2e_write_milter_config "$E2E_DIR/milter.conf" enforce
e2e_start_milter "$E2E_DIR/milter.conf"

# SMTP, through the listener with the milter
e2e_send clean "$DATA/clean.eml" || e2e_fail "swaks: $(e2e_reply clean)"
case $(e2e_reply clean) in 250*) ;; *) e2e_fail "reply: $(e2e_reply clean)" ;; esac
f=$(e2e_wait_delivered "e2e clean message") || e2e_fail "not delivered"
e2e_strip_transport "$f" | diff -u "$DATA/clean.eml" - || e2e_fail "SMTP: message changed"
qid_smtp=$(e2e_queue_id "$f")
[ "$(e2e_header_count "$f" X-Egress-Findings)" -eq 0 ] || e2e_fail "findings header added"
grep -q 'milter-' "$E2E_MAILLOG" && e2e_fail "milter action logged for a clean message"

# sendmail -> pickup -> cleanup, the non_smtpd_milters path
sed 's/e2e clean message/e2e clean local submission/' "$DATA/clean.eml" >"$E2E_DIR/local.eml"
sendmail -C "$E2E_DIR/etc" -f "$E2E_SENDER" "$E2E_RCPT" <"$E2E_DIR/local.eml" ||
	e2e_fail "sendmail failed"
f=$(e2e_wait_delivered "e2e clean local submission") || e2e_fail "local submission not delivered"
e2e_strip_transport "$f" | diff -u "$E2E_DIR/local.eml" - || e2e_fail "non-SMTP: message changed"
qid_local=$(e2e_queue_id "$f")
# the milter really saw both messages: its log line starts with the queue id
for q in "$qid_smtp" "$qid_local"; do
	[ -n "$q" ] || e2e_fail "no queue id in the delivered message"
	e2e_wait_log "$q" 5 "$E2E_MILTER_LOG" || e2e_fail "milter did not log message $q"
done
echo "PASS: clean"
