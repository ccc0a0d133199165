#!/bin/sh
# tests/e2e/sender_record.sh - what comes back changes what may leave, behind
# the real Postfix (smtpd_milters: refusals at MAIL and RCPT).
#
# Policy of this test (explicit, so the outcome does not depend on defaults):
#  - reputation failures, scope destination: 3 within 1h throttle the sender
#    towards that domain to 1/d with burst 1 for 1h. The lowered bucket starts
#    empty, so the first message after the third bounce is already over the
#    rate: 451 4.7.1 at RCPT, deterministically;
#  - hard recipient failures (userunknown...): 1 suppresses that recipient.
# (The shipped defaults throttle after 3 reputation failures too, at 6/h.)
#
# Bounces are injected as remote DSNs over SMTP (MAIL FROM:<>, RCPT TO the
# original sender), built from tests/data/e2e/dsn_remote.eml. Each returns a
# message S really sent to the failed recipient through the milter listener
# (its Message-ID read at the capture sink): only such bounces count
# (the ledger, tests/e2e/ledger.sh).
#  1. S -> x@blocked.example is accepted before any bounce;
#  2. three "554 5.7.1 ... blocked using zen.spamhaus.org" DSNs for S to
#     blocked.example: S's next message there gets 451 4.7.1 at RCPT, while
#     S's mail to other.example and another sender's mail to blocked.example
#     flow;
#  3. a "550 5.1.1 User unknown" DSN for S to nobody@gone.example: the next
#     attempt at that recipient gets 550 5.1.1 at RCPT; submitted with
#     sendmail (non_smtpd_milters, where the simulated RCPT must not be
#     refused) it is removed at end of message (the delivered copy carries
#     X-Egress-Suppressed: <addr>; removed: REPLY), and a submission to it alone
#     is refused at end of message with the same 550 5.1.1 reply;
#  4. egressctl suspend S: S's mail is refused (550 5.7.1 at MAIL FROM);
#     egressctl release S: it is accepted and delivered again, to
#     blocked.example as well (the release lifts the throttle too);
#  5. egressctl hold S2: S2's mail is accepted into Postfix's hold queue;
#     postsuper -H frees the held one and, released, S2's mail flows again.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"
DATA=$top_srcdir/tests/data/e2e
S=s1@example.org
OTHER=s2@example.org
REP_DIAG="554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org"
UU_DIAG="550 5.1.1 <nobody@gone.example>: Recipient address rejected: User unknown in virtual mailbox table"

e2e_require milter
[ -n "${EGRESSCTL:-}" ] || e2e_fail "egressctl not built"
e2e_up
CONF=$E2E_DIR/milter.conf
e2e_write_milter_config "$CONF" enforce
cat >>"$CONF" <<EOF
bounce = {
  patterns = "$top_srcdir/conf/bounce-patterns.conf";
};
policy = {
  keys = [ "envelope" ];
  rules = (
    { category = "recipient"; hard_only = true; scope = "recipient";
      threshold = 1; window = "30d"; action = "suppress"; duration = "30d"; },
    { category = "reputation"; scope = "destination"; threshold = 3;
      window = "1h"; action = "throttle"; rate = "1/d"; burst = 1;
      duration = "1h"; }
  );
};
EOF
e2e_start_milter "$CONF"
ctl() { "$EGRESSCTL" -c "$CONF" "$@"; }

# msg NAME FROM TO: a small message with the unique subject "e2e NAME"
msg() {
	sed -e "s/e2e clean message/e2e $1/" -e "s/^From: .*/From: <$2>/" \
		-e "s/^To: .*/To: <$3>/" -e "s/^Message-ID: <clean\./Message-ID: <$1./" \
		"$DATA/clean.eml" >"$E2E_DIR/$1.eml"
}
# send_ok NAME FROM TO: accepted and delivered
send_ok() {
	msg "$@"
	e2e_send "$1" "$E2E_DIR/$1.eml" "" --from "$2" --to "$3" ||
		e2e_fail "$1: refused: $(e2e_reply "$1")"
	e2e_wait_delivered "e2e $1" 20 >/dev/null || e2e_fail "$1: not delivered"
	echo "$1: $2 -> $3 accepted and delivered"
}
# send_refused NAME FROM TO STAGE REPLY_PREFIX: refused at STAGE (MAIL/RCPT)
send_refused() {
	msg "$1" "$2" "$3"
	e2e_send "$1" "$E2E_DIR/$1.eml" "" --from "$2" --to "$3" &&
		e2e_fail "$1: accepted, expected $5"
	_r=$(e2e_reply "$1")
	case $_r in "$5"*) ;; *) e2e_fail "$1: reply was: $_r (expected $5...)" ;; esac
	grep -B1 -F "$_r" "$E2E_DIR/log/swaks.$1" | grep -q "^ -> $4" ||
		e2e_fail "$1: not refused at $4"
	echo "$1: $2 -> $3 refused at $4: $_r"
}
# dsn NAME FAILED_RCPT STATUS DIAG: a remote DSN for S, for the message S
# has just sent to FAILED_RCPT
dsn() {
	send_ok "sent_$1" "$S" "$2"
	_mid=$(sed -n 's/^Message-I[Dd]: *//p' "$(e2e_delivered "e2e sent_$1")" |
		tr -d '\r' | head -n 1)
	[ -n "$_mid" ] || e2e_fail "$1: no Message-ID at the sink"
	sed -e "s|@SENDER@|$S|g" -e "s|@RCPT@|$2|g" -e "s|@DEST@|${2#*@}|g" \
		-e "s|@STATUS@|$3|g" -e "s|@DIAG@|$4|g" -e "s|@TAG@|$1|g" \
		-e "s|^Message-ID: <orig\\..*|Message-ID: $_mid|" \
		"$DATA/dsn_remote.eml" >"$E2E_DIR/$1.eml"
	e2e_send "$1" "$E2E_DIR/$1.eml" "" --from '<>' --to "$S" ||
		e2e_fail "$1: DSN refused: $(e2e_reply "$1")"
	e2e_wait_delivered "($1)" 20 >/dev/null || e2e_fail "$1: DSN not delivered"
	e2e_wait_log "bounce sender=<$S> rcpt=<$2> " 10 "$E2E_MILTER_LOG" ||
		e2e_fail "$1: bounce not logged"
	e2e_wait_log "matched bounce sender=<$S> rcpt=<$2> " 10 "$E2E_MILTER_LOG" ||
		e2e_fail "$1: bounce not matched to the message S sent"
}
# wait_sender ERE: wait until "egressctl sender S" output matches
wait_sender() {
	_t=50
	while [ $_t -gt 0 ]; do
		ctl sender "$S" >"$E2E_DIR/log/sender.txt" 2>&1 &&
			grep -Eq "$1" "$E2E_DIR/log/sender.txt" && return 0
		sleep 0.1; _t=$((_t - 1))
	done
	cat "$E2E_DIR/log/sender.txt" >&2
	return 1
}

# 1. before any bounce
send_ok before "$S" x@blocked.example

# 2. three reputation bounces from blocked.example
for n in 1 2 3; do
	dsn "rep$n" "user$n@blocked.example" 5.7.1 "$REP_DIAG"
	grep -q "bounce sender=<$S> rcpt=<user$n@blocked.example> status=5.7.1 reply=554 reason=blocked category=reputation " \
		"$E2E_MILTER_LOG" || e2e_fail "rep$n: not classified as reputation"
done
wait_sender 'to blocked.example: 3' || e2e_fail "three failures not recorded"
wait_sender 'throttle' || e2e_fail "no throttle in the sender record"
grep -A3 '^status:' "$E2E_DIR/log/sender.txt"
send_refused throttled "$S" y@blocked.example "RCPT TO" "451 4.7.1"
grep -q "destination sender=<$S> rcpt=<y@blocked.example> action=tempfail" "$E2E_MILTER_LOG" ||
	e2e_fail "throttle decision not logged"
send_ok elsewhere "$S" z@other.example
send_ok other_sender "$OTHER" w@blocked.example

# 3. a userunknown bounce suppresses that recipient
dsn uu nobody@gone.example 5.1.1 "$UU_DIAG"
grep -q "bounce sender=<$S> rcpt=<nobody@gone.example> status=5.1.1 reply=550 reason=userunknown category=recipient " \
	"$E2E_MILTER_LOG" || e2e_fail "uu: not classified as userunknown"
t=50
until ctl suppress list 2>&1 | grep -q 'nobody@gone.example'; do
	t=$((t - 1)); [ $t -gt 0 ] || e2e_fail "nobody@gone.example not suppressed"
	sleep 0.1
done
ctl suppress list
send_refused suppressed "$S" nobody@gone.example "RCPT TO" \
	"550 5.1.1 <nobody@gone.example>: Recipient previously bounced: userunknown"
send_ok alive "$S" somebody@gone.example
# non-SMTP submission (sendmail, non_smtpd_milters): Postfix forbids refusing
# the simulated RCPT, so the suppressed recipient is removed at end of message
msg local "$S" somebody@gone.example
sendmail -C "$E2E_DIR/etc" -f "$S" nobody@gone.example somebody@gone.example \
	<"$E2E_DIR/local.eml" || e2e_fail "sendmail failed"
f=$(e2e_wait_delivered "e2e local" 20) || e2e_fail "local: not delivered"
grep -q '^X-Rcpt-Args: <somebody@gone.example>' "$f" || e2e_fail "local: somebody@ not a recipient"
! grep -q '^X-Rcpt-Args: <nobody@gone.example>' "$f" || e2e_fail "local: delivered to the suppressed recipient"
grep -q "recipient sender=<$S> rcpt=<nobody@gone.example> action=remove" "$E2E_MILTER_LOG" ||
	e2e_fail "local: removal not logged"
# the delivered copy says which recipient was removed and why
note=$(e2e_header "$f" X-Egress-Suppressed)
[ "$note" = "<nobody@gone.example>; removed: 550 5.1.1 <nobody@gone.example>: Recipient previously bounced: userunknown" ] ||
	e2e_fail "local: X-Egress-Suppressed is \"$note\""
echo "local: X-Egress-Suppressed: $note"
echo "local: sendmail $S -> nobody@, somebody@gone.example: delivered to somebody@ only"
# ... and a submission whose every recipient is suppressed is refused
msg local_all "$S" nobody@gone.example
sendmail -C "$E2E_DIR/etc" -f "$S" nobody@gone.example <"$E2E_DIR/local_all.eml" ||
	e2e_fail "sendmail failed"
e2e_wait_log 'cleanup.*milter-reject: END-OF-MESSAGE .*5\.1\.1 <nobody@gone.example>: Recipient previously bounced' 20 ||
	e2e_fail "local_all: not refused"
e2e_wait_queue_empty 10 || e2e_fail "local_all: queue not empty"
# (the sink also holds the message sent_uu delivered to nobody@ before its
# bounce, and Postfix's notice returning local_all to S)
for _f in $(grep -l '^X-Rcpt-Args: <nobody@gone.example>' "$E2E_DIR"/sink/* 2>/dev/null); do
	! grep -q '^Subject: e2e local_all' "$_f" ||
		e2e_fail "local_all: delivered to the suppressed recipient"
done
echo "local_all: sendmail $S -> nobody@gone.example only: refused at end of message"
echo "  $(grep -o 'milter-reject: .*' "$E2E_MAILLOG" | tail -n 1)"

# 4. suspend, then release
ctl suspend "$S" --why "e2e suspension" || e2e_fail "egressctl suspend failed"
ctl sender "$S" | grep -A3 '^status:'
send_refused suspended "$S" z2@other.example "MAIL FROM" "550 5.7.1"
ctl release "$S" || e2e_fail "egressctl release failed"
send_ok released "$S" z3@other.example
send_ok released_dest "$S" y2@blocked.example

# 5. hold, then release: held mail waits in Postfix's hold queue
ctl hold "$OTHER" --why "e2e hold" || e2e_fail "egressctl hold failed"
msg held "$OTHER" h@other.example
e2e_send held "$E2E_DIR/held.eml" "" --from "$OTHER" --to h@other.example ||
	e2e_fail "held: refused: $(e2e_reply held)"
e2e_wait_log "postfix/cleanup.*milter-hold: .*from=<$OTHER>" 10 || e2e_fail "held: not held"
[ "$(find "$E2E_DIR/spool/hold" -type f | wc -l)" -eq 1 ] || e2e_fail "held: not in the hold queue"
sleep 1
[ -z "$(e2e_delivered 'e2e held')" ] || e2e_fail "held: delivered"
echo "held: $OTHER -> h@other.example accepted into the hold queue"
ctl release "$OTHER" || e2e_fail "egressctl release failed"
postsuper -c "$E2E_DIR/etc" -H ALL 2>/dev/null || e2e_fail "postsuper -H failed"
e2e_wait_delivered "e2e held" 20 >/dev/null || e2e_fail "held: not delivered after postsuper -H"
echo "held: delivered after postsuper -H"
send_ok released_hold "$OTHER" h2@other.example
e2e_wait_queue_empty 10 || e2e_fail "queue not empty"
echo "PASS: sender_record"
