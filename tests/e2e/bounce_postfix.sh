#!/bin/sh
# tests/e2e/bounce_postfix.sh - a bounce made by Postfix itself passes
# milter-egress and is not lost.
#
# Setup: internal_mail_filter_classes = bounce, non_smtpd_milters = the
# daemon (lib.sh sets it), and transport_maps sending remote.test to a second
# smtp-sink that refuses every RCPT with a 554 5.7.1 blocklist reply. The
# sender's domain goes through relayhost to the capturing smtp-sink.
#  - a message from $E2E_SENDER to victim@ and victim2@remote.test is refused
#    there; Postfix logs status=bounced for both and its bounce daemon writes
#    one non-delivery notice naming both;
#  - cleanup hands that notice to milter-egress (a non-SMTP session, null
#    sender), which classifies it: one bounce log line per recipient carries
#    5.7.1, reply 554, reason blocked, category reputation, and one
#    JSON-lines record per recipient too;
#  - the notice is delivered to the capture sink, carrying X-Egress-Bounce;
#  - both failures are in the sender record;
#  - with the milter down (milter_default_action = tempfail) Postfix cannot
#    write the notice: the original stays queued ("bounce failed"), and the
#    notice is classified and delivered once the milter is back: not lost.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"
DATA=$top_srcdir/tests/data/e2e
VICTIM=victim@remote.test
VICTIM2=victim2@remote.test
REJECT_REPLY="554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org"

e2e_require milter
e2e_init
# the next hop for remote.test: refuses every recipient with a hard 554
# (started first: a port taken meanwhile means another port, same config)
try=1
while :; do
	E2E_REJECT_PORT=$(e2e_free_port)
	smtp-sink -u postfix -f rcpt -B "$REJECT_REPLY" "127.0.0.1:$E2E_REJECT_PORT" 64 \
		>"$E2E_DIR/log/reject-sink.log" 2>&1 &
	pid=$!
	E2E_EXTRA_PIDS="${E2E_EXTRA_PIDS:-} $pid"
	e2e_wait_own_port "$E2E_REJECT_PORT" "$pid" 10 && break
	[ $try -lt 3 ] || e2e_fail "rejecting smtp-sink did not start: $(cat "$E2E_DIR/log/reject-sink.log")"
	try=$((try + 1))
done
e2e_write_postfix_config \
	"internal_mail_filter_classes = bounce" \
	"transport_maps = inline:{remote.test=smtp:[127.0.0.1]:$E2E_REJECT_PORT}"
grep -q '^non_smtpd_milters = unix:' "$E2E_DIR/etc/main.cf" || e2e_fail "no non_smtpd_milters"
e2e_start_sink
e2e_start_postfix

CONF=$E2E_DIR/milter.conf
JSON=$E2E_DIR/log/bounces.jsonl
e2e_write_milter_config "$CONF" enforce
cat >>"$CONF" <<EOF
bounce = {
  patterns = "$top_srcdir/conf/bounce-patterns.conf";
  log_json = "$JSON";
  add_header = true;
};
EOF
e2e_start_milter "$CONF"

sed 's/e2e clean message/e2e bounced by remote.test/' "$DATA/clean.eml" >"$E2E_DIR/orig.eml"
e2e_send orig "$E2E_DIR/orig.eml" "" --to "$VICTIM,$VICTIM2" || e2e_fail "original refused: $(e2e_reply orig)"
orig_qid=$(sed -n 's/^<-  250 .*queued as \([0-9A-Za-z]*\).*/\1/p' "$E2E_DIR/log/swaks.orig")
[ -n "$orig_qid" ] || e2e_fail "no queue id for the original"

# Postfix bounced it and made a notice
for v in "$VICTIM" "$VICTIM2"; do
	e2e_wait_log "$orig_qid: to=<$v>.*status=bounced" 20 ||
		e2e_fail "original not bounced by remote.test for $v"
	grep -F "$orig_qid: to=<$v>" "$E2E_MAILLOG" | grep -qF "said: $REJECT_REPLY" ||
		e2e_fail "bounce reason for $v is not the 554 of remote.test"
done
e2e_wait_log "$orig_qid: sender non-delivery notification: " 10 || e2e_fail "no non-delivery notification"
bqid=$(sed -n "s/.*$orig_qid: sender non-delivery notification: \([0-9A-Za-z]*\).*/\1/p" "$E2E_MAILLOG" | head -n 1)
echo "original $orig_qid bounced; notification $bqid"

# the notice reached the capture sink (not lost, not held, not refused)
f=$(e2e_wait_delivered "e2e bounced by remote.test" 30) || e2e_fail "bounce not delivered"
e2e_wait_log "$bqid: to=<$E2E_SENDER>.*status=sent" 10 || e2e_fail "bounce $bqid not logged as sent"
grep -q "^Subject: Undelivered Mail Returned to Sender" "$f" || e2e_fail "delivered message is not the bounce"
grep -q "^X-Mail-Args: <> " "$f" || e2e_fail "bounce not sent with the null sender"
grep -q "with ESMTP id $bqid\|id $bqid" "$f" || e2e_fail "delivered copy is not $bqid"
! grep -q "$bqid: milter-\(reject\|hold\|discard\)" "$E2E_MAILLOG" || e2e_fail "milter acted on the bounce"
echo "bounce $bqid delivered to the capture sink"

# milter-egress saw Postfix's own bounce and classified it
e2e_wait_log "$bqid: bounce " 10 "$E2E_MILTER_LOG" || e2e_fail "no bounce line for $bqid"
[ "$(grep -cF "$bqid: bounce " "$E2E_MILTER_LOG")" -eq 2 ] || e2e_fail "expected 2 bounce lines for $bqid"
[ "$(grep -cF "\"queue_id\":\"$bqid\"" "$JSON")" -eq 2 ] || e2e_fail "expected 2 JSON records for $bqid"
for v in "$VICTIM" "$VICTIM2"; do
	line=$(grep -F "$bqid: bounce " "$E2E_MILTER_LOG" | grep -F "rcpt=<$v>") ||
		e2e_fail "no bounce line for $v"
	echo "logged: $line"
	for kv in "sender=<$E2E_SENDER>" "status=5.7.1" "reply=554" "reason=blocked" \
		"category=reputation" "Client host [127.0.0.1] blocked using zen.spamhaus.org"; do
		case $line in *"$kv"*) ;; *) e2e_fail "bounce line for $v lacks $kv" ;; esac
	done
	rec=$(grep -F "\"queue_id\":\"$bqid\"" "$JSON" | grep -F "\"recipient\":\"$v\"") ||
		e2e_fail "no JSON record for $v"
	for kv in '"status":"5.7.1"' '"reply_code":554' '"reason":"blocked"' \
		'"category":"reputation"' "\"sender\":\"$E2E_SENDER\""; do
		case $rec in *"$kv"*) ;; *) e2e_fail "JSON record lacks $kv: $rec" ;; esac
	done
done
grep -F "$bqid: sender=<> " "$E2E_MILTER_LOG" | grep -q 'action=accept\|action=tag\|action=repair' ||
	e2e_fail "verdict on the bounce is not an accept: $(grep -F "$bqid: sender=<> " "$E2E_MILTER_LOG")"
h=$(e2e_header "$f" X-Egress-Bounce)
echo "delivered with X-Egress-Bounce: $h"
[ "$h" = "kind=dsn; reason=blocked; category=reputation; status=5.7.1; reply=554; recipients=2" ] ||
	e2e_fail "X-Egress-Bounce: $h"
# both failures reached the sender record (the writer commits every 200 ms)
e2e_find_milter && [ -n "${EGRESSCTL:-}" ] || e2e_fail "egressctl not built"
t=50
until "$EGRESSCTL" -c "$CONF" sender "$E2E_SENDER" 2>&1 | grep -q 'to remote.test: 2'; do
	t=$((t - 1)); [ $t -gt 0 ] || e2e_fail "failures not recorded: $("$EGRESSCTL" -c "$CONF" sender "$E2E_SENDER" 2>&1)"
	sleep 0.1
done
echo "sender record: $("$EGRESSCTL" -c "$CONF" sender "$E2E_SENDER" | grep -m 1 'failures in the last 1h')"
e2e_wait_queue_empty 10 || e2e_fail "queue not empty"

# the milter down when Postfix bounces (milter_default_action = tempfail):
# the notice cannot be written yet, the original waits in the queue, and the
# notice goes out once the milter is back
e2e_stop_milter
sed 's/e2e clean message/e2e bounced while the milter is down/' "$DATA/clean.eml" >"$E2E_DIR/down.eml"
e2e_send down "$E2E_DIR/down.eml" "$E2E_PLAIN_PORT" --to "$VICTIM" ||
	e2e_fail "original refused on the plain port: $(e2e_reply down)"
down_qid=$(sed -n 's/^<-  250 .*queued as \([0-9A-Za-z]*\).*/\1/p' "$E2E_DIR/log/swaks.down")
e2e_wait_log "$down_qid: to=<$VICTIM>.*status=bounced" 20 || e2e_fail "down: original not bounced"
e2e_wait_log "$down_qid: status=deferred \(bounce failed\)" 10 || e2e_fail "down: no failed bounce logged"
sleep 2		# another queue run
[ -z "$(e2e_delivered 'e2e bounced while the milter is down')" ] || e2e_fail "down: notice delivered without the milter"
[ "$(e2e_queue_count)" -ge 1 ] || e2e_fail "down: nothing queued: the bounce is lost"
e2e_start_milter "$CONF"
f=$(e2e_wait_delivered "e2e bounced while the milter is down" 40) || e2e_fail "down: notice not delivered after the milter came back"
dqid=$(sed -n "s/.*$down_qid: sender non-delivery notification: \([0-9A-Za-z]*\).*/\1/p" "$E2E_MAILLOG" | head -n 1)
grep -q "$dqid: bounce sender=<$E2E_SENDER> rcpt=<$VICTIM> status=5.7.1 reply=554 reason=blocked " "$E2E_MILTER_LOG" ||
	e2e_fail "down: late notice $dqid not classified"
echo "milter down: $down_qid deferred (bounce failed) $(grep -c "$down_qid: status=deferred (bounce failed)" "$E2E_MAILLOG") time(s); notice $dqid delivered once it was back"
echo "PASS: bounce_postfix"
