#!/bin/sh
# tests/e2e/deferrals.sh - deferrals in the MTA's log throttle the sender
# towards the deferring domain, behind the real Postfix.
#
# Postfix writes its log to a file (maillog_file, postlogd). Mail to
# yahoo.example goes (transport_maps) to tests/e2e/defer_sink.pl, which
# answers every RCPT with "421 4.7.0 [TSS04] ... temporarily deferred due to
# unexpected volume or user complaints"; everything else goes to smtp-sink.
# `egressctl follow` reads the maillog into the milter's store; the queue
# ids map to senders through the ledger the milter writes at end of
# message, and each (message, recipient, reply) counts once however often
# Postfix retries.
#
# Policy of this test (explicit): 5 counted deferrals to one domain within
# 1h throttle the sender towards that domain to 1/d for 1h; the bucket
# starts empty, so the first message after the throttle gets 451 4.7.1 at
# RCPT, deterministically.
#  1. S sends 5 messages to yahoo.example (accepted, then deferred by the
#     next hop, again at every retry) and one to other.example (delivered);
#  2. the follower is stopped (SIGTERM) and started again mid-log;
#  3. once the record holds 5 deferrals: S -> yahoo.example gets 451 4.7.1
#     at RCPT; S -> other.example and S2 -> yahoo.example are accepted;
#  4. stopped again: the record's counter equals the number of S's
#     messages with a deferral line to yahoo.example in the bytes the
#     follower has read (its cursor): nothing was counted twice across the
#     restart or the retries.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"
DATA=$top_srcdir/tests/data/e2e
S=s1@example.org
OTHER=s2@example.org
REC=$top_builddir/tests/store_record

e2e_require milter
[ -n "${EGRESSCTL:-}" ] || e2e_fail "egressctl not built"
[ -x "$REC" ] || e2e_fail "tests/store_record not built"
command -v perl >/dev/null 2>&1 || e2e_skip "perl not installed"
e2e_init
DEFER_PORT=$(e2e_free_port)
# one failed delivery must not make Postfix skip the rest of the queue
# ("delivery temporarily suspended"): each attempt reaches the next hop
e2e_write_postfix_config \
	"transport_maps = inline:{yahoo.example=smtp:[127.0.0.1]:$DEFER_PORT}" \
	"default_destination_concurrency_failed_cohort_limit = 1000"
e2e_start_sink
perl "$top_srcdir/tests/e2e/defer_sink.pl" "$DEFER_PORT" >"$E2E_DIR/log/defer.log" 2>&1 &
E2E_EXTRA_PIDS="$!"
e2e_wait_own_port "$DEFER_PORT" "$!" 30 || e2e_fail "defer_sink did not start"
e2e_start_postfix

CONF=$E2E_DIR/milter.conf
e2e_write_milter_config "$CONF" enforce
cat >>"$CONF" <<EOF
bounce = {
  patterns = "$top_srcdir/conf/bounce-patterns.conf";
};
policy = {
  keys = [ "envelope" ];
  deferrals = {
    threshold = 5;
    window = "1h";
    duration = "1h";
    rate = "1/d";
  };
};
EOF
e2e_start_milter "$CONF"
FOLLOW_PID=
start_follower() {
	"$EGRESSCTL" -c "$CONF" follow --interval 0.1 $1 "$E2E_MAILLOG" \
		>>"$E2E_DIR/log/follow.out" 2>&1 &
	FOLLOW_PID=$!
	E2E_EXTRA_PIDS="$E2E_EXTRA_PIDS $FOLLOW_PID"
}
stop_follower() {
	kill -TERM "$FOLLOW_PID"
	wait "$FOLLOW_PID" || e2e_fail "follower exited $? on SIGTERM: $(cat "$E2E_DIR/log/follow.out")"
	E2E_EXTRA_PIDS=$(echo " $E2E_EXTRA_PIDS " | sed "s/ $FOLLOW_PID / /")
	FOLLOW_PID=
}
# deferrals the record holds for S towards yahoo.example
counted() {
	"$REC" "$CONF" events "env:$S" | awk '$1 == "qd/yahoo.example" { n += $2 } END { print n + 0 }'
}
wait_counted() {	# wait_counted N: at least N (bounded polling)
	_t=600
	while [ "$(counted)" -lt "$1" ]; do
		_t=$((_t - 1)); [ $_t -gt 0 ] || e2e_fail "waited for $1 counted deferrals, have $(counted)"
		sleep 0.1
	done
}

msg() {	# msg NAME FROM TO
	sed -e "s/e2e clean message/e2e $1/" -e "s/^From: .*/From: <$2>/" \
		-e "s/^To: .*/To: <$3>/" -e "s/^Message-ID: <clean\./Message-ID: <$1./" \
		"$DATA/clean.eml" >"$E2E_DIR/$1.eml"
}
# wait_sink MARKER: delivered to the sink (the queue stays busy with the
# deferred mail, so not e2e_wait_delivered, which waits for an empty queue)
wait_sink() {
	_t=300
	until [ -n "$(e2e_delivered "$1")" ]; do
		_t=$((_t - 1)); [ $_t -gt 0 ] || return 1
		sleep 0.1
	done
}
send_accepted() {	# send_accepted NAME FROM TO
	msg "$@"
	e2e_send "$1" "$E2E_DIR/$1.eml" "" --from "$2" --to "$3" ||
		e2e_fail "$1: refused: $(e2e_reply "$1")"
	echo "$1: $2 -> $3 accepted"
}

# 1. five messages the next hop defers, one it takes
start_follower --from-start
for n in 1 2 3 4 5; do
	send_accepted "d$n" "$S" "u$n@yahoo.example"
done
send_accepted ok1 "$S" v@other.example
wait_sink "e2e ok1" || e2e_fail "ok1: not delivered"
echo "ok1: delivered"
e2e_wait_log 'to=<u5@yahoo.example>.*status=deferred.*TSS04' 60 || e2e_fail "no deferral logged"
grep 'status=deferred' "$E2E_MAILLOG" | head -n 1

# 2. restart the follower mid-log
wait_counted 2
stop_follower
echo "follower stopped at $(counted) counted deferrals; restarting"
start_follower
wait_counted 5

# 3. throttled towards yahoo.example only
msg throttled "$S" new@yahoo.example
e2e_send throttled "$E2E_DIR/throttled.eml" "" --from "$S" --to new@yahoo.example &&
	e2e_fail "throttled: accepted, expected 451 4.7.1"
r=$(e2e_reply throttled)
case $r in "451 4.7.1"*) ;; *) e2e_fail "throttled: reply was: $r" ;; esac
grep -B1 -F "$r" "$E2E_DIR/log/swaks.throttled" | grep -q '^ -> RCPT TO' ||
	e2e_fail "throttled: not refused at RCPT TO"
echo "throttled: $S -> new@yahoo.example refused at RCPT TO: $r"
send_accepted ok2 "$S" w@other.example
wait_sink "e2e ok2" || e2e_fail "ok2: not delivered"
echo "ok2: delivered (other destinations flow)"
send_accepted other_sender "$OTHER" x@yahoo.example
"$REC" "$CONF" mail "$S" | grep -q '^action=accept' ||
	e2e_fail "the deferrals changed S's sender-wide status"
"$EGRESSCTL" -c "$CONF" sender "$S" | grep -i 'yahoo.example' || true

# 4. nothing counted twice: the record equals the log up to the cursor
stop_follower
cursor=$("$REC" "$CONF" cursor "follow:$(hostname):$E2E_MAILLOG") || e2e_fail "no cursor"
offset=$(printf '%s\n' "$cursor" | sed -n 's/^offset=\([0-9]*\) .*/\1/p')
want=$(head -c "$offset" "$E2E_MAILLOG" | awk -v s="$S" '
	/postfix\/qmgr.*: from=</ { q = $0; sub(/^.*qmgr\[[0-9]+\]: /, "", q); sub(/:.*/, "", q)
		if (index($0, "from=<" s ">")) mine[q] = 1 }
	/status=deferred/ && /to=<[^>]*@yahoo\.example>/ && !/delivery temporarily suspended/ {
		q = $0; sub(/^.*\]: /, "", q); sub(/:.*/, "", q); if (q in mine) seen[q] = 1 }
	END { for (q in seen) n++; print n + 0 }')
got=$(counted)
echo "messages of $S deferred by yahoo.example in the log up to offset $offset: $want; counted in the record: $got"
[ "$got" = "$want" ] || e2e_fail "record has $got deferrals, the log $want"
grep '^follow:' "$E2E_DIR/log/follow.out"
echo "PASS: deferrals"
