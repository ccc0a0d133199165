#!/bin/sh
# tests/e2e/bounce_remote.sh - a remote RFC 3464 DSN arriving over SMTP with
# MAIL FROM:<> at the smtpd listener that runs milter-egress:
#  - it is delivered, although it has no Message-ID and the instance rejects
#    ordinary mail without one (shown first with an ordinary message);
#  - the daemon logged the bounce line (queue id first) with the status,
#    reply code, reason, category, remote MTA and diagnostic;
#  - the JSON-lines file (bounce.log_json) holds the same record;
#  - the delivered copy carries the X-Egress-Bounce header (bounce.add_header),
#    once: a forged copy the DSN brought is removed;
#  - the failure reached the sender record (egressctl sender): this test
#    is about reading the DSN, whose message was never sent here, so it
#    runs with ledger.require_match = "relaxed" (the miss is logged and
#    counted all the same; tests/e2e/ledger.sh has the strict default);
#  - a DSN returning the whole original, with an attachment invoice.pdf.exe
#    that ordinary mail is rejected for, is delivered too.
# The DSN is tests/data/e2e/dsn_remote.eml, a Postfix-style report (text
# part, message/delivery-status, returned headers) filled in with sed.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"
DATA=$top_srcdir/tests/data/e2e
REPLY="554 5.6.0 Message-ID header missing (RFC 5322 3.6.4)"
ORIG=sender@example.org
FAILED=bob@dest.example
DIAG="554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org"

e2e_require milter
e2e_up

CONF=$E2E_DIR/milter.conf
JSON=$E2E_DIR/log/bounces.jsonl
e2e_write_milter_config "$CONF" enforce \
	"{ id = \"rfc5322.message_id.missing\"; action = \"reject\"; reply = \"$REPLY\"; }"
cat >>"$CONF" <<EOF
bounce = {
  patterns = "$top_srcdir/conf/bounce-patterns.conf";
  log_json = "$JSON";
  add_header = true;
};
ledger = {
  require_match = "relaxed";
};
EOF
e2e_start_milter "$CONF"

# control: ordinary mail without Message-ID is rejected by this instance
e2e_send plain "$DATA/no_message_id.eml" && e2e_fail "ordinary mail without Message-ID accepted"
[ "$(e2e_reply plain)" = "$REPLY" ] || e2e_fail "control reply was: $(e2e_reply plain)"

# the DSN: no Message-ID in its own header, sent with the null sender
sed -e "s|@SENDER@|$ORIG|g" -e "s|@RCPT@|$FAILED|g" -e "s|@DEST@|dest.example|g" \
	-e "s|@STATUS@|5.7.1|g" -e "s|@DIAG@|$DIAG|g" -e "s|@TAG@|e2e-remote|g" \
	-e "s|^Auto-Submitted: auto-replied\$|&\\
X-Egress-Bounce: kind=feedback; reason=delivered; category=report|" \
	"$DATA/dsn_remote.eml" >"$E2E_DIR/dsn.eml"
# a forged X-Egress-Bounce arrives with it: removed, only ours is delivered
[ "$(e2e_header_count "$E2E_DIR/dsn.eml" X-Egress-Bounce)" -eq 1 ] || e2e_fail "no forged header"
[ "$(e2e_header_count "$E2E_DIR/dsn.eml" Message-ID)" -eq 0 ] || e2e_fail "test DSN has a Message-ID"
e2e_send dsn "$E2E_DIR/dsn.eml" "" --from '<>' --to "$ORIG" ||
	e2e_fail "DSN not accepted: $(e2e_reply dsn)"
grep -q '^ -> MAIL FROM:<>$' "$E2E_DIR/log/swaks.dsn" || e2e_fail "not sent with MAIL FROM:<>"
case $(e2e_reply dsn) in 250" "*) ;; *) e2e_fail "DSN reply: $(e2e_reply dsn)" ;; esac
f=$(e2e_wait_delivered "Undelivered Mail Returned to Sender (e2e-remote)") ||
	e2e_fail "DSN not delivered"
# the queue id from the reply to DATA (the DSN carries Received: fields of
# its own, so the delivered copy's first Received: is not the only one)
qid=$(sed -n 's/^<-  250 .*queued as \([0-9A-Za-z]*\).*/\1/p' "$E2E_DIR/log/swaks.dsn")
[ -n "$qid" ] || e2e_fail "no queue id in the reply to DATA"
grep -q "with ESMTP id $qid" "$f" || e2e_fail "delivered copy is not $qid"
echo "DSN delivered, queue id $qid"

# the log line, queue id first
line="$qid: bounce sender=<$ORIG> rcpt=<$FAILED> status=5.7.1 reply=554 reason=blocked category=reputation remote=in1.dest.example diag=\"$DIAG\""
e2e_wait_log "$qid: bounce " 10 "$E2E_MILTER_LOG" || e2e_fail "no bounce line logged"
grep -F -- "$line" "$E2E_MILTER_LOG" >/dev/null ||
	e2e_fail "bounce line differs; expected: $line"
echo "logged: $line"

# the JSON-lines record
[ -f "$JSON" ] || e2e_fail "no JSON-lines file"
[ "$(grep -c . "$JSON")" -eq 1 ] || e2e_fail "expected 1 JSON line, got $(grep -c . "$JSON")"
rec=$(cat "$JSON")
for kv in "\"queue_id\":\"$qid\"" '"kind":"dsn"' "\"recipient\":\"$FAILED\"" \
	'"action":"failed"' '"status":"5.7.1"' '"reply_code":554' '"reason":"blocked"' \
	'"category":"reputation"' '"remote_mta":"in1.dest.example"' \
	"\"sender\":\"$ORIG\"" '"message_id":"<orig.e2e-remote@example.org>"'; do
	case $rec in *"$kv"*) ;; *) e2e_fail "JSON record lacks $kv: $rec" ;; esac
done
if command -v python3 >/dev/null 2>&1; then
	python3 -c 'import json, sys; json.loads(sys.stdin.read())' <"$JSON" ||
		e2e_fail "JSON record does not parse: $rec"
fi
echo "JSON: $rec"

# the header on the delivered copy
h=$(e2e_header "$f" X-Egress-Bounce)
echo "delivered with X-Egress-Bounce: $h"
[ "$(e2e_header_count "$f" X-Egress-Bounce)" -eq 1 ] || e2e_fail "not exactly one X-Egress-Bounce"
[ "$h" = "kind=dsn; reason=blocked; category=reputation; status=5.7.1; reply=554; recipients=1" ] ||
	e2e_fail "X-Egress-Bounce: $h"
# the report itself arrived whole
grep -q '^Diagnostic-Code: smtp; 554 5.7.1 Service unavailable' "$f" || e2e_fail "report part altered"

# the failure is in the sender record: relaxed counts the ledger's miss
grep -qF "$qid: unmatched bounce sender=<$ORIG> rcpt=<$FAILED> status=5.7.1 reason=unknown-message msgid=<orig.e2e-remote@example.org> queue_id=- counted=yes" \
	"$E2E_MILTER_LOG" || e2e_fail "the ledger's miss not logged as counted"
[ -n "${EGRESSCTL:-}" ] || e2e_fail "egressctl not built"
{
	# counters are committed by the store's writer every 200 ms
	t=50
	while [ $t -gt 0 ]; do
		"$EGRESSCTL" -c "$CONF" sender "$ORIG" >"$E2E_DIR/log/sender.txt" 2>&1 ||
			e2e_fail "egressctl sender: $(cat "$E2E_DIR/log/sender.txt")"
		grep -q 'failures in the last 1h: 1 (blocked=1)' "$E2E_DIR/log/sender.txt" &&
			grep -q 'to dest.example: 1' "$E2E_DIR/log/sender.txt" && break
		sleep 0.1; t=$((t - 1))
	done
	[ $t -gt 0 ] || e2e_fail "failure not recorded: $(cat "$E2E_DIR/log/sender.txt")"
	cat "$E2E_DIR/log/sender.txt"
}

# a DSN returning the whole original, whose attachment invoice.pdf.exe would
# be rejected in ordinary mail: delivered all the same, and classified
{
	sed -n '1,/^Content-Description: Undelivered Message Headers/p' "$DATA/dsn_remote.eml" | sed '$d'
	printf 'Content-Description: Undelivered Message\nContent-Type: message/rfc822\n\n'
	cat "$DATA/double_extension.eml"
	printf '\n--4Bq7Yw2kZRz9sWq.1795845492/mx.@DEST@--\n'
} | sed -e "s|@SENDER@|$ORIG|g" -e "s|@RCPT@|carol@dest2.example|g" -e "s|@DEST@|dest2.example|g" \
	-e "s|@STATUS@|5.7.1|g" -e "s|@DIAG@|554 5.7.1 Message rejected due to content restrictions|g" \
	-e "s|@TAG@|e2e-returned|g" >"$E2E_DIR/returned.eml"
e2e_send returned "$E2E_DIR/returned.eml" "" --from '<>' --to "$ORIG" ||
	e2e_fail "DSN with the returned original refused: $(e2e_reply returned)"
f=$(e2e_wait_delivered "Undelivered Mail Returned to Sender (e2e-returned)") ||
	e2e_fail "DSN with the returned original not delivered"
grep -q 'filename="invoice.pdf.exe"' "$f" || e2e_fail "returned original cut"
qid=$(sed -n 's/^<-  250 .*queued as \([0-9A-Za-z]*\).*/\1/p' "$E2E_DIR/log/swaks.returned")
grep -F "$qid: sender=<> " "$E2E_MILTER_LOG" | grep 'attachment.double_extension' |
	grep -q 'would=reject bounce=yes' || e2e_fail "verdict on the returned original not logged as capped"
grep -q "$qid: bounce sender=<$ORIG> rcpt=<carol@dest2.example> status=5.7.1 reply=554 " "$E2E_MILTER_LOG" ||
	e2e_fail "DSN with the returned original not classified"
echo "DSN returning invoice.pdf.exe: delivered; $(grep -F "$qid: sender=<> " "$E2E_MILTER_LOG" | sed 's/^[^:]*: //')"
echo "PASS: bounce_remote"
