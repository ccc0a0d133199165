#!/bin/sh
# tests/e2e/ledger.sh - only bounces of mail this server sent change the
# sender record (the ledger, ledger.require_match = strict, the default),
# behind the real Postfix with internal_mail_filter_classes = bounce.
#  a. forged DSNs for mail this server never sent: one submitted by a local
#     user with sendmail(1) (null sender), one by a remote client over SMTP
#     with MAIL FROM:<>; both are delivered (a bounce is never refused),
#     logged "unmatched bounce" (local-submission, unknown-message), counted
#     apart (egressctl sender and report show them), and the sender record
#     is unchanged;
#  b. a real message from S through the milter listener, its Message-ID
#     read from the capture sink; a remote DSN returning it counts once,
#     although it is delivered twice (the second is logged as a duplicate);
#     a DSN for a recipient the message did not have does not count;
#  c. a message milter-egress rejects at end of message, submitted with
#     sendmail: Postfix returns it to S with a bounce of its own, which
#     milter-egress recognises as its own rejection (own-rejection), and
#     the sender record is unchanged.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"
DATA=$top_srcdir/tests/data/e2e
S=ledger-s@example.org
VICTIM=victim@example.org
DIAG="550 5.1.1 <gone@dest.example>: Recipient address rejected: User unknown"

e2e_require milter
[ -n "${EGRESSCTL:-}" ] || e2e_fail "egressctl not built"
e2e_init
e2e_write_postfix_config "internal_mail_filter_classes = bounce"
e2e_start_sink
e2e_start_postfix
CONF=$E2E_DIR/milter.conf
e2e_write_milter_config "$CONF" enforce
cat >>"$CONF" <<EOF
bounce = {
  patterns = "$top_srcdir/conf/bounce-patterns.conf";
};
policy = {
  keys = [ "envelope" ];
};
EOF
e2e_start_milter "$CONF"
ctl() { "$EGRESSCTL" -c "$CONF" "$@"; }

# dsn NAME SENDER FAILED_RCPT MESSAGE-ID: a remote-style DSN returning the
# headers of a message with that Message-ID
dsn() {
	sed -e "s|@SENDER@|$2|g" -e "s|@RCPT@|$3|g" -e "s|@DEST@|${3#*@}|g" \
		-e "s|@STATUS@|5.1.1|g" -e "s|@DIAG@|$DIAG|g" -e "s|@TAG@|$1|g" \
		-e "s|^Message-ID: <orig\\..*|Message-ID: $4|" \
		"$DATA/dsn_remote.eml" >"$E2E_DIR/$1.eml"
}
# remote_dsn NAME SENDER FAILED_RCPT MESSAGE-ID: sent with MAIL FROM:<>
remote_dsn() {
	dsn "$@"
	e2e_send "$1" "$E2E_DIR/$1.eml" "" --from '<>' --to "$2" ||
		e2e_fail "$1: DSN refused: $(e2e_reply "$1")"
	e2e_wait_delivered "($1)" 20 >/dev/null || e2e_fail "$1: DSN not delivered"
	e2e_wait_log "bounce sender=<$2> rcpt=<$3> " 10 "$E2E_MILTER_LOG" ||
		e2e_fail "$1: bounce not logged"
}
# failures ADDR: the 7-day failure count of the sender record
failures() {
	ctl sender "$1" | sed -n 's/^failures in the last 7d: \([0-9]*\).*/\1/p'
}
# wait_sender ADDR ERE: until "egressctl sender ADDR" output matches
wait_sender() {
	_t=50
	while [ $_t -gt 0 ]; do
		ctl sender "$1" >"$E2E_DIR/log/sender.txt" 2>&1 &&
			grep -Eq "$2" "$E2E_DIR/log/sender.txt" && return 0
		sleep 0.1; _t=$((_t - 1))
	done
	cat "$E2E_DIR/log/sender.txt" >&2
	return 1
}

# a. forged: a local user's sendmail submission ...
dsn forged_local "$VICTIM" gone@dest.example "<never-sent-1@example.org>"
sendmail -C "$E2E_DIR/etc" -f '<>' "$VICTIM" <"$E2E_DIR/forged_local.eml" ||
	e2e_fail "sendmail failed"
e2e_wait_delivered "(forged_local)" 20 >/dev/null || e2e_fail "forged_local: not delivered"
e2e_wait_log "unmatched bounce sender=<$VICTIM> rcpt=<gone@dest.example> status=5.1.1 reason=local-submission " \
	10 "$E2E_MILTER_LOG" || e2e_fail "forged_local: not logged as local-submission"
grep -F "reason=local-submission" "$E2E_MILTER_LOG" | sed 's/^[^:]*: //;s/^/logged: /'
# ... and a remote client's, for a message this server never sent
remote_dsn forged_remote "$VICTIM" gone2@dest.example "<never-sent-2@example.org>"
e2e_wait_log "unmatched bounce sender=<$VICTIM> rcpt=<gone2@dest.example> status=5.1.1 reason=unknown-message msgid=<never-sent-2@example.org> " \
	10 "$E2E_MILTER_LOG" || e2e_fail "forged_remote: not logged as unknown-message"
grep -F "reason=unknown-message" "$E2E_MILTER_LOG" | sed 's/^[^:]*: //;s/^/logged: /'
wait_sender "$VICTIM" 'unmatched bounces in the last 7d: 2 \(local-submission=1, unknown-message=1\)' ||
	e2e_fail "unmatched bounces not counted apart"
[ "$(failures "$VICTIM")" = 0 ] || e2e_fail "forged DSNs changed the sender record"
ctl suppress list | grep -q 'gone' && e2e_fail "a forged DSN suppressed a recipient"
echo "forged: $VICTIM: $(grep -E '^(failures|unmatched) .*7d' "$E2E_DIR/log/sender.txt" | tr '\n' ';')"
ctl report >"$E2E_DIR/log/report.txt" 2>&1 || e2e_fail "egressctl report: $(cat "$E2E_DIR/log/report.txt")"
grep -q 'unmatched bounces in the last' "$E2E_DIR/log/report.txt" || e2e_fail "report: no unmatched count"
grep -A3 '^unmatched' "$E2E_DIR/log/report.txt"

# b. a real message, and its DSN twice
sed -e "s/e2e clean message/e2e ledger real/" -e "s/^From: .*/From: <$S>/" \
	-e "s/^To: .*/To: <gone@dest.example>/" -e "s/^Message-ID: .*/Message-ID: <real.1@example.org>/" \
	"$DATA/clean.eml" >"$E2E_DIR/real.eml"
e2e_send real "$E2E_DIR/real.eml" "" --from "$S" --to gone@dest.example ||
	e2e_fail "real: refused: $(e2e_reply real)"
f=$(e2e_wait_delivered "e2e ledger real" 20) || e2e_fail "real: not delivered"
mid=$(sed -n 's/^Message-I[Dd]: *//p' "$f" | tr -d '\r' | head -n 1)
[ -n "$mid" ] || e2e_fail "real: no Message-ID at the sink"
echo "real: $S -> gone@dest.example delivered with Message-ID $mid"
remote_dsn real_dsn1 "$S" gone@dest.example "$mid"
e2e_wait_log "matched bounce sender=<$S> rcpt=<gone@dest.example> status=5.1.1 " 10 "$E2E_MILTER_LOG" ||
	e2e_fail "real_dsn1: not matched"
remote_dsn real_dsn2 "$S" gone@dest.example "$mid"
e2e_wait_log "unmatched bounce sender=<$S> rcpt=<gone@dest.example> status=5.1.1 reason=duplicate " \
	10 "$E2E_MILTER_LOG" || e2e_fail "real_dsn2: not a duplicate"
# a recipient the message did not have
remote_dsn real_other "$S" other@dest.example "$mid"
e2e_wait_log "unmatched bounce sender=<$S> rcpt=<other@dest.example> status=5.1.1 reason=recipient-not-in-message " \
	10 "$E2E_MILTER_LOG" || e2e_fail "real_other: not recipient-not-in-message"
grep -F "sender=<$S>" "$E2E_MILTER_LOG" | grep -F 'matched bounce' | sed 's/^[^:]*: //;s/^/logged: /'
wait_sender "$S" 'failures in the last 7d: 1 \(userunknown=1\)' || e2e_fail "real: the failure did not count once"
wait_sender "$S" 'unmatched bounces in the last 7d: 2' || e2e_fail "real: misses not counted apart"
ctl suppress list | grep -q 'gone@dest.example' || e2e_fail "real: the matched hard bounce did not suppress"
ctl suppress list | grep -q 'other@dest.example' && e2e_fail "real: an unmatched bounce suppressed"
echo "real: $(grep -E '^(failures|unmatched) .*7d' "$E2E_DIR/log/sender.txt" | tr '\n' ';')"

# c. milter-egress rejects a sendmail submission (two From fields); Postfix
# bounces it to S; that bounce is recognised as milter-egress's own
sed -e "s/e2e duplicate From/e2e ledger own rejection/" "$DATA/dup_from.eml" >"$E2E_DIR/own.eml"
grep -q 'e2e ledger own rejection' "$E2E_DIR/own.eml" || e2e_fail "own: no subject marker"
sendmail -C "$E2E_DIR/etc" -f "$S" someone@dest.example <"$E2E_DIR/own.eml" ||
	e2e_fail "sendmail failed"
e2e_wait_log 'cleanup.*milter-reject: END-OF-MESSAGE ' 20 || e2e_fail "own: not rejected"
oqid=$(grep 'cleanup.*milter-reject: END-OF-MESSAGE ' "$E2E_MAILLOG" | tail -n 1 |
	sed -n 's/.*: \([0-9A-F]*\): milter-reject.*/\1/p')
echo "own: $oqid rejected: $(grep -o 'milter-reject: .*' "$E2E_MAILLOG" | tail -n 1)"
e2e_wait_log "unmatched bounce sender=<$S> rcpt=<someone@dest.example> .*reason=own-rejection .*queue_id=$oqid " \
	30 "$E2E_MILTER_LOG" || e2e_fail "own: Postfix's bounce not recognised as own-rejection"
grep -F "reason=own-rejection" "$E2E_MILTER_LOG" | sed 's/^[^:]*: //;s/^/logged: /'
e2e_wait_delivered "e2e ledger own rejection" 20 >/dev/null || e2e_fail "own: the bounce was not delivered"
wait_sender "$S" 'failures in the last 7d: 1 \(userunknown=1\)' || e2e_fail "own: the sender record changed"
wait_sender "$S" 'unmatched bounces in the last 7d: 3' || e2e_fail "own: not counted apart"
e2e_wait_queue_empty 10 || e2e_fail "queue not empty"
echo "PASS: ledger"
