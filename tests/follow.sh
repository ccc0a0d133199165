#!/bin/sh
# follow.sh - egressctl follow on generated Postfix logs, on LMDB and (when
# redis-server is installed) on a Redis the script starts: deferrals throttle
# the sender towards that domain only; a restart, a crash inside a batch,
# rotation (create and copytruncate, while stopped and while running) and
# stdin never count a line twice; SIGTERM stops it with the cursor saved.
# With --senders log the log's qmgr lines name the sender; with the ledger
# (the default) only queue ids and recipients of messages in the ledger
# count, each (message, recipient, status) once, and an interrupted batch is
# read again without counting anything twice.
set -u
builddir=${top_builddir:-.}
ctl=$builddir/egressctl
rec=$builddir/tests/store_record
[ -x "$ctl" ] && [ -x "$rec" ] || { echo "SKIP: egressctl or store_record not built"; exit 77; }
tmp=$(mktemp -d /tmp/egress-follow-XXXXXX) || exit 99
redis_pid= fpid=
cleanup() {
	[ -n "$fpid" ] && kill "$fpid" 2>/dev/null && wait "$fpid" 2>/dev/null
	[ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL [$backend]: $*"; exit 1; }

# lines QID-PREFIX N: N messages from alice, each deferred by yahoo.example
# (TSS04) and delivered to other.example, plus the qmgr sender line
lines() {
	# the current time: the record counts deferrals in their hour
	now=$(LC_ALL=C date '+%b %e %H:%M:%S')
	i=0
	while [ "$i" -lt "$2" ]; do
		q=$(printf '%s%04X' "$1" "$i")
		printf '%s mx1 postfix/qmgr[700]: %s: from=<alice@example.org>, size=100, nrcpt=2 (queue active)\n' "$now" "$q"
		printf '%s mx1 postfix/smtp[812]: %s: to=<u%d@yahoo.example>, relay=mta5.yahoo.example[192.0.2.5]:25, delay=1.1, dsn=4.7.0, status=deferred (host mta5.yahoo.example[192.0.2.5] said: 421 4.7.0 [TSS04] Messages from 198.51.100.4 temporarily deferred due to unexpected volume or user complaints (in reply to MAIL FROM command))\n' "$now" "$q" "$i"
		printf '%s mx1 postfix/smtp[812]: %s: to=<v%d@other.example>, relay=mx.other.example[192.0.2.6]:25, delay=1.1, dsn=2.0.0, status=sent (250 ok)\n' "$now" "$q" "$i"
		i=$((i + 1))
	done
}

# the record's deferral counter for alice towards yahoo.example
count() {
	"$rec" "$conf" events env:alice@example.org | awk '$1 == "qd/yahoo.example" { n += $2 } END { print n + 0 }'
}

want_count() {	# want_count N LABEL
	got=$(count)
	[ "$got" = "$1" ] || fail "$2: counted $got deferrals, want $1"
}

# wait until the record holds N deferrals (bounded polling, not a sleep)
wait_count() {
	i=0
	while [ "$(count)" != "$1" ]; do
		i=$((i + 1))
		[ "$i" -lt 200 ] || fail "waited for $1 deferrals, have $(count)"
		sleep 0.05
	done
}

F() { "$ctl" -c "$conf" follow --senders log --interval 0.05 "$@"; }

run_suite() {
	conf=$1
	log=$tmp/$backend.log
	name="follow:$(hostname):$log"
	lines A 3 >"$log"
	# without --from-start a new follower starts at the end
	F --once "$log" >/dev/null || fail "first run"
	want_count 0 "start at the end"
	F --once --from-start --name other "$log" >/dev/null || fail "from start"
	want_count 3 "from start"
	# more lines, then a restart: only the new ones count
	lines B 2 >>"$log"
	out=$(F --once "$log") || fail "second run"
	printf '%s\n' "$out" | grep -q "deferrals=2 failures=0 unmatched=0" || fail "summary: $out"
	want_count 5 "restart"
	F --once "$log" >/dev/null || fail "third run"
	want_count 5 "nothing new"
	# five TSS04 deferrals in the hour: throttled towards yahoo.example only
	"$rec" "$conf" mail alice@example.org yahoo.example | grep -q "header=throttled; reason=rejected; domain=yahoo.example; deferrals=5/1h" ||
	    fail "not throttled towards yahoo.example"
	"$rec" "$conf" mail alice@example.org other.example | grep -q "^action=accept" ||
	    fail "other.example does not flow"
	"$rec" "$conf" mail alice@example.org | grep -q "^action=accept" ||
	    fail "deferrals changed the sender-wide status"
	"$ctl" -c "$conf" sender alice@example.org >"$tmp/sender.out" 2>&1; grep -q "deferred by yahoo.example: 5" "$tmp/sender.out" ||
	    fail "egressctl sender does not show the deferrals: $(cat "$tmp/sender.out")"
	"$ctl" -c "$conf" sender alice@example.org | grep -q "failures in the last 1h: 0" ||
	    fail "deferrals shown as failures"
	# a crash while a batch was counted: that batch is skipped, not recounted
	lines C 2 >>"$log"
	size=$(wc -c <"$log")
	"$rec" "$conf" cursor "$name" "$size" >/dev/null || fail "set pending"
	out=$(F --once "$log" 2>&1) || fail "run after a crash"
	printf '%s\n' "$out" | grep -q "skipping bytes" || fail "no skip: $out"
	want_count 5 "interrupted batch"
	# rotation while stopped (create): PATH.1 is finished, PATH read from 0
	lines D 1 >>"$log"
	mv "$log" "$log.1"
	lines E 2 >"$log"
	F --once "$log" >/dev/null || fail "after rotation"
	want_count 8 "rotation while stopped"
	rm -f "$log.1"
	# copytruncate while stopped: the same inode, new lines only
	: >"$log"
	lines G 1 >>"$log"
	F --once "$log" >/dev/null || fail "after copytruncate"
	want_count 9 "copytruncate while stopped"
	# a running follower: appended lines, rotation, truncation, SIGTERM
	"$ctl" -c "$conf" follow --senders log --interval 0.05 "$log" >"$tmp/run.out" 2>&1 &
	fpid=$!
	lines H 1 >>"$log"
	wait_count 10
	mv "$log" "$log.1"
	lines I 1 >>"$log.1"	# still written to the old file
	lines J 2 >"$log"
	wait_count 13
	: >"$log"
	lines K 1 >>"$log"
	wait_count 14
	kill -TERM "$fpid"
	wait "$fpid"
	st=$?
	fpid=
	[ "$st" = 0 ] || fail "SIGTERM exit status $st: $(cat "$tmp/run.out")"
	grep -q "^follow: lines=" "$tmp/run.out" || fail "no summary after SIGTERM"
	F --once "$log" >/dev/null || fail "after the running follower"
	want_count 14 "resume after SIGTERM"
	rm -f "$log.1"
	# stdin: no cursor, every line counts once
	lines L 2 | F - >"$tmp/stdin.out" || fail "stdin"
	grep -q "deferrals=2" "$tmp/stdin.out" || fail "stdin summary: $(cat "$tmp/stdin.out")"
	want_count 16 "stdin"
	# hostile lines: not events, no crash, escaped when shown
	printf 'Dec  3 05:35:13 mx1 postfix/smtp[1]: Q1: to=<a\033[31m@yahoo.example>, status=deferred (x)\n\0\0\0\nnonsense\n' |
	    F -v - >"$tmp/bad.out" || fail "hostile lines"
	grep -q "$(printf '\033')" "$tmp/bad.out" && fail "an escape byte reached the output"
	printf 'Dec  3 05:35:13 mx1 postfix/smtp[1]: NOQID: to=<z@yahoo.example>, status=deferred (421 4.7.0 [TSS04] x)\n' |
	    F -v - | grep -q "unmatched queue_id=NOQID" || fail "unknown queue id not unmatched"
	want_count 16 "unmatched"
	# usage and errors
	"$ctl" -c "$conf" follow >/dev/null 2>&1; [ $? = 64 ] || fail "no file: not 64"
	"$ctl" -c "$conf" follow --senders log /nonexistent/log >/dev/null 2>&1; [ $? = 65 ] || fail "missing file: not 65"
	echo "ok [$backend] senders from the log"
}

# the ledger: entries as the milter writes them, then the log
ledger_suite() {
	conf=$1
	log=$tmp/$backend-ledger.log
	name="follow:$(hostname):$log"
	L() { "$ctl" -c "$conf" follow --interval 0.05 "$@"; }
	alice=env:alice@example.org
	lines M 3 >"$log"
	for q in M0000 M0001 M0002; do
		"$rec" "$conf" ledger "$q" "<$q@example.org>" alice@example.org \
		    u0@yahoo.example u1@yahoo.example u2@yahoo.example v0@other.example || fail "ledger put"
	done
	# a queue id in the ledger whose recipient is not one of the message's
	"$rec" "$conf" ledger N0000 "<N0000@example.org>" alice@example.org v@other.example || fail "ledger put"
	lines N 1 >>"$log"
	# an unknown queue id
	lines O 1 >>"$log"
	out=$(L --once --from-start "$log") || fail "ledger run: $out"
	printf '%s\n' "$out" | grep -q "deferrals=3 failures=0 unmatched=2" || fail "ledger summary: $out"
	want_count 3 "ledger"
	"$rec" "$conf" events ledger:unmatched | grep -q "u/unknown-message 1" || fail "unknown message not counted apart"
	"$rec" "$conf" events ledger:unmatched | grep -q "u/recipient-not-in-message 1" || fail "recipient miss not counted apart"
	# the MTA retries: the same message, recipient and reply count once
	lines M 3 >>"$log"
	out=$(L --once "$log") || fail "ledger retry run"
	printf '%s\n' "$out" | grep -q "deferrals=0 .*repeated=3" || fail "retries: $out"
	want_count 3 "retries"
	# an interrupted batch is read again: counted lines are duplicates
	"$rec" "$conf" ledger P0000 "<P0000@example.org>" alice@example.org u0@yahoo.example || fail "ledger put"
	lines P 1 >>"$log"
	off=$("$rec" "$conf" cursor "$name" | sed 's/^offset=\([0-9]*\) .*/\1/')
	"$rec" "$conf" cursor "$name" "$(wc -c <"$log")" >/dev/null || fail "set pending"
	out=$(L --once "$log" 2>&1) || fail "replay run"
	printf '%s\n' "$out" | grep -q "re-reading bytes $off-" || fail "no replay: $out"
	want_count 4 "replayed batch"
	"$rec" "$conf" cursor "$name" "$(wc -c <"$log")" >/dev/null || fail "set pending"
	"$rec" "$conf" cursor "$name" | grep -q "pending=$(wc -c <"$log")" || fail "pending not set"
	L --once "$log" >/dev/null 2>&1 || fail "second replay run"
	want_count 4 "replayed twice"
	# the ledger off: --senders ledger is a configuration error
	printf 'store = { state_dir = "%s/state-off"; ledger = { enabled = false; }; };\n' "$tmp" >"$tmp/off.conf"
	"$ctl" -c "$tmp/off.conf" follow --once "$log" >/dev/null 2>&1
	[ $? = 78 ] || fail "--senders ledger with the ledger off: not 78"
	echo "ok [$backend] senders from the ledger"
}

backend=lmdb
printf 'store = { state_dir = "%s/state"; };\n' "$tmp" >"$tmp/lmdb.conf"
run_suite "$tmp/lmdb.conf"
printf 'store = { state_dir = "%s/state2"; };\n' "$tmp" >"$tmp/lmdb2.conf"
ledger_suite "$tmp/lmdb2.conf"

backend=redis
if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
	redis-server --port 0 --unixsocket "$tmp/redis.sock" --unixsocketperm 700 \
	    --save "" --appendonly no >/dev/null 2>&1 &
	redis_pid=$!
	i=0
	until redis-cli -s "$tmp/redis.sock" ping >/dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -lt 100 ] || fail "redis-server did not start"
		sleep 0.05
	done
	printf 'store = { backend = "redis"; redis = "unix:%s/redis.sock"; };\n' "$tmp" >"$tmp/redis.conf"
	run_suite "$tmp/redis.conf"
	redis-cli -s "$tmp/redis.sock" flushall >/dev/null
	printf 'store = { backend = "redis"; redis = "unix:%s/redis.sock"; state_dir = "%s/state3"; };\n' "$tmp" "$tmp" >"$tmp/redis2.conf"
	ledger_suite "$tmp/redis2.conf"
elif [ "${EGRESS_TESTS_REQUIRED:-0}" = 1 ]; then
	fail "redis-server not installed"
else
	echo "SKIP [redis]: redis-server not installed"
fi
exit 0
