#!/bin/sh
# egressctl_admin.sh - egressctl senders/sender/release/hold/suspend/
# suppress/report against a store the sender record filled, on LMDB and
# (when redis-server is installed) on a Redis the script starts and stops.
set -u
builddir=${top_builddir:-.}
ctl=$builddir/egressctl
rec=$builddir/tests/store_record
[ -x "$ctl" ] && [ -x "$rec" ] || { echo "SKIP: egressctl or store_record not built"; exit 77; }
tmp=$(mktemp -d /tmp/egress-admin-XXXXXX) || exit 99
redis_pid=
cleanup() {
	[ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL [$backend]: $*"; exit 1; }
expect() {	# expect PATTERN COMMAND...: run, show, grep
	pat=$1; shift
	out=$("$@" 2>&1) || fail "$* exited $?: $out"
	printf '%s\n' "$out" | grep -q -- "$pat" || fail "$*: no \"$pat\" in: $out"
}

run_suite() {
	conf=$1
	E="$ctl -c $conf"
	# three reputation bounces to gmail.com, one unknown user
	$rec "$conf" fail alice@example.com gmail.com blocked 1 bob@gmail.com 3 || fail "record"
	$rec "$conf" fail alice@example.com example.org userunknown 1 gone@example.org || fail "record"
	expect "action=tempfail check=sender.throttled reply=451 4.7.1" $rec "$conf" mail alice@example.com gmail.com
	expect "action=accept" $rec "$conf" mail alice@example.com example.net
	expect "reply=550 5.1.1 <gone@example.org>: Recipient previously bounced: userunknown" \
	    $rec "$conf" rcpt gone@example.org
	expect "env:alice@example.com .* throttled; reason=reputation; domain=gmail.com; rejections=3/1h" $E senders
	expect '"sender":"env:alice@example.com"' $E senders --json
	expect "failures in the last 1h: 4 (blocked=3, userunknown=1)" $E sender alice@example.com
	expect "to gmail.com: 3" $E sender alice@example.com
	expect '"statuses":\[{"action":"throttle","destination":"gmail.com"' $E sender --json alice@example.com
	expect "failures in the last 1d: 4" $E report
	expect "       3  reputation" $E report --since 24h
	expect '"destinations":\[{"name":"gmail.com","count":3}' $E report --json --top 1
	expect "gone@example.org .*userunknown .*bounce" $E suppress list
	expect "^RECIPIENT  *REASON  *SOURCE  *CREATED  *EXPIRES  *BY$" $E suppress list
	# operator actions
	expect "suspended until" $E suspend alice@example.com --for 1h --why "abuse report"
	expect "action=reject check=sender.suspended reply=550 5.7.1 Sender suspended by the postmaster" \
	    $rec "$conf" mail alice@example.com
	# the check's configured action decides, not the record
	{ cat "$conf"; printf 'checks = ({ id = "sender.suspended"; action = "tag"; });\n'; } >"$conf.tag"
	expect "action=tag check=sender.suspended reply= " $rec "$conf.tag" mail alice@example.com
	{ cat "$conf"; printf 'checks = ({ id = "sender.suspended"; reply = "550 5.7.0 Ask the postmaster"; });\n'; } >"$conf.reply"
	expect "action=reject check=sender.suspended reply=550 5.7.0 Ask the postmaster" \
	    $rec "$conf.reply" mail alice@example.com
	expect "released by" $E release alice@example.com
	expect "action=accept" $rec "$conf" mail alice@example.com
	expect "action=accept" $rec "$conf" mail alice@example.com gmail.com
	expect "held until released" $E hold @example.com
	expect "dom:example.com" $E senders
	expect "released" $E release @example.com
	expect "suppressed (test)" $E suppress add Carol@Example.NET --reason test --for 2d
	expect "reply=550 5.1.1 <carol@example.net>: Recipient suppressed by the postmaster: test" \
	    $rec "$conf" rcpt carol@example.net
	expect '"address":"carol@example.net","reason":"test","source":"manual"' $E suppress list --json
	expect "no longer suppressed" $E suppress remove carol@example.net
	expect "action=accept" $rec "$conf" rcpt carol@example.net
	$E suppress remove carol@example.net >/dev/null 2>&1 && fail "removing twice succeeded"
	$E release not-an-address >/dev/null 2>&1 && fail "bad address accepted"
	echo "ok [$backend]"
}

backend=lmdb
printf 'store = { state_dir = "%s/state"; };\n' "$tmp" >"$tmp/lmdb.conf"
run_suite "$tmp/lmdb.conf"

backend=redis
if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
	redis-server --port 0 --unixsocket "$tmp/redis.sock" --unixsocketperm 700 \
	    --save "" --appendonly no >/dev/null 2>&1 &
	redis_pid=$!
	i=0
	until redis-cli -s "$tmp/redis.sock" ping >/dev/null 2>&1; do
		i=$((i + 1)); [ $i -gt 100 ] && fail "redis-server did not start"
		sleep 0.05
	done
	printf 'store = { backend = "redis"; redis = "unix:%s/redis.sock"; };\n' "$tmp" >"$tmp/redis.conf"
	run_suite "$tmp/redis.conf"
else
	echo "SKIP redis: redis-server not installed"
fi
