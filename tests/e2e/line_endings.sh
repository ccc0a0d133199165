#!/bin/sh
# tests/e2e/line_endings.sh - what the milter really sees of bare LF and
# bare CR. A message whose body holds a bare LF and a bare CR is sent
# byte-exact over SMTP. egressctl on the raw file reports body.bare_lf and
# body.bare_cr; behind Postfix the milter, configured to reject both, does
# not see them and accepts: Postfix turned the bare LF into a line end (CRLF)
# and the bare CR into a space before the milter got the body
# (cleanup_replace_stray_cr_lf). The delivered copy shows both changes.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"

e2e_require milter
[ -n "${EGRESSCTL:-}" ] || e2e_skip "egressctl not built"
e2e_up

raw=$E2E_DIR/bare.eml
printf '%s\r\n' 'From: Alice Sender <sender@example.org>' \
	'To: Bob Receiver <rcpt@example.net>' \
	'Subject: e2e bare line endings' \
	'Date: Sun, 22 Nov 2026 06:00:00 +0000' \
	'Message-ID: <bare.20261122060000@example.org>' '' >"$raw"
printf 'before a bare LF\nafter the bare LF\r\nbefore a bare CR\rafter the bare CR\r\nend\r\n' >>"$raw"

conf=$E2E_DIR/milter.conf
e2e_write_milter_config "$conf" enforce \
	'{ id = "body.bare_lf"; action = "reject"; reply = "554 5.6.0 bare LF in body"; }' \
	'{ id = "body.bare_cr"; action = "reject"; reply = "554 5.6.0 bare CR in body"; }'

# on the raw file the checks are exact
out=$("$EGRESSCTL" -c "$conf" check "$raw" 2>&1)
echo "egressctl check (raw file):"; printf '%s\n' "$out" | sed 's/^/  /'
printf '%s\n' "$out" | grep -q 'body\.bare_lf' || e2e_fail "egressctl missed body.bare_lf"
printf '%s\n' "$out" | grep -q 'body\.bare_cr' || e2e_fail "egressctl missed body.bare_cr"

# behind Postfix the milter never sees them
e2e_start_milter "$conf"
E2E_RAW=1 e2e_send bare "$raw" || e2e_fail "rejected behind Postfix: $(e2e_reply bare)"
f=$(e2e_wait_delivered "e2e bare line endings") || e2e_fail "not delivered"
qid=$(e2e_queue_id "$f")
e2e_wait_log "$qid" 5 "$E2E_MILTER_LOG" || e2e_fail "milter did not log $qid"
grep "$qid" "$E2E_MILTER_LOG" | grep -q 'body\.bare_' && e2e_fail "milter saw a bare line ending"
echo "milter log: $(grep "$qid" "$E2E_MILTER_LOG")"
# delivered: the bare LF became a line end, the bare CR a space
body=$(tr -d '\r' <"$f" | sed -n '/^$/,$p')
printf '%s\n' "$body" | grep -qx 'before a bare LF' || e2e_fail "bare LF not a line end"
printf '%s\n' "$body" | grep -qx 'after the bare LF' || e2e_fail "bare LF not a line end"
printf '%s\n' "$body" | grep -qx 'before a bare CR after the bare CR' || e2e_fail "bare CR not a space"
grep -q "$(printf '\r')" "$f" && e2e_fail "CR in the delivered copy"
echo "PASS: line_endings"
