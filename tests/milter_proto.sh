#!/bin/sh
# tests/milter_proto.sh - milter-egress over the real milter protocol, driven
# by Debian's miltertest (the MTA side) with the Lua scripts in
# tests/milter_proto/: replies, added headers, quarantine, monitor mode.
# enforce_*.lua run against a daemon started with the enforce config below,
# monitor_*.lua against one in monitor mode; reload_*.lua around a SIGUSR1
# reload. Also: -n on good and bad files, SIGTERM stops gracefully.
# Needs no root and no Postfix.
. "${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}/tests/e2e/lib.sh"
SCRIPTS=$top_srcdir/tests/milter_proto

command -v miltertest >/dev/null 2>&1 || e2e_skip "miltertest not installed"
e2e_find_milter || e2e_skip "milter-egress not built"

E2E_DIR=$(mktemp -d "${TMPDIR:-/tmp}/egress-proto.XXXXXX") || e2e_fail "mktemp"
trap 'e2e_cleanup $?' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir -p "$E2E_DIR/run" "$E2E_DIR/log"
E2E_MILTER_SOCKET=unix:$E2E_DIR/run/milter.sock
E2E_MILTER_LOG=$E2E_DIR/log/milter.log
E2E_MAILLOG=/dev/null

CHECKS_ENFORCE='{ id = "rfc5322.message_id.missing"; action = "reject"; reply = "554 5.6.0 Message-ID header missing (RFC 5322 3.6.4)"; }
{ id = "rfc5322.date.missing"; action = "repair"; }
{ id = "rfc5322.header.duplicate"; action = "hold"; }
{ id = "body.line_too_long"; action = "tag"; }
{ id = "rfc5322.from.missing"; action = "tempfail"; reply = "554 5.6.0 From header missing"; }
{ id = "rfc5322.from.duplicate"; action = "reject"; reply = "554 5.6.0 More than one From header field (RFC 5322 3.6)"; }'

failed=0
run_group() {	# run_group MODE: scripts MODE_*.lua against a daemon in MODE
	_mode=$1
	_conf=$E2E_DIR/$_mode.conf
	# one check group per line of $CHECKS_ENFORCE, passed as arguments
	_oldifs=$IFS; IFS='
'
	# shellcheck disable=SC2086
	e2e_write_milter_config "$_conf" "$_mode" $CHECKS_ENFORCE
	IFS=$_oldifs
	e2e_start_milter "$_conf"
	for _s in "$SCRIPTS/${_mode}"_*.lua; do
		miltertest_run "$(basename "$_s" .lua)"
	done
	e2e_stop_milter
}

# miltertest_run NAME [ARGS...]: run tests/milter_proto/NAME.lua
miltertest_run() {
	_name=$1; shift
	if miltertest -D sock="$E2E_MILTER_SOCKET" -D lib="$SCRIPTS/lib.lua" "$@" \
		-s "$SCRIPTS/$_name.lua" >"$E2E_DIR/log/$_name.out" 2>&1; then
		echo "ok   $_name"
	else
		echo "FAIL $_name"; sed 's/^/     /' "$E2E_DIR/log/$_name.out"
		failed=1
		return 1
	fi
}

# -n: a valid file exits 0; an invalid one exits 78 naming file, line, key
check_config() {
	e2e_write_milter_config "$E2E_DIR/good.conf" enforce
	printf 'mode = "enforce";\nmilter = {\n  socket = "unix:/x";\n  bogus_key = 1;\n};\n' \
		>"$E2E_DIR/bad.conf"
	if "$MILTER_EGRESS" -n -c "$E2E_DIR/good.conf" >"$E2E_DIR/log/n-good" 2>&1; then
		echo "ok   -n on a valid file"
	else
		echo "FAIL -n on a valid file: $(cat "$E2E_DIR/log/n-good")"; failed=1
	fi
	"$MILTER_EGRESS" -n -c "$E2E_DIR/bad.conf" >"$E2E_DIR/log/n-bad" 2>&1
	_st=$?
	if [ "$_st" = 78 ] && grep -q "bad.conf:4:.*bogus_key" "$E2E_DIR/log/n-bad"; then
		echo "ok   -n on an invalid file: 78, $(head -n 1 "$E2E_DIR/log/n-bad")"
	else
		echo "FAIL -n on an invalid file: status $_st: $(cat "$E2E_DIR/log/n-bad")"; failed=1
	fi
}

# SIGUSR1 reloads: open connections keep their snapshot, new ones get the
# new file; an invalid file is refused and the running configuration stays.
check_reload() {
	_conf=$E2E_DIR/reload.conf
	_hs=$E2E_DIR/handshake
	mkdir -p "$_hs"
	e2e_write_milter_config "$_conf" enforce \
		'{ id = "rfc5322.message_id.missing"; action = "reject"; }'
	e2e_start_milter "$_conf"
	miltertest_run reload_pinned -D dir="$_hs" &
	_mt=$!
	_t=100
	while [ ! -f "$_hs/connected" ] && [ $_t -gt 0 ]; do sleep 0.1; _t=$((_t - 1)); done
	e2e_write_milter_config "$_conf" enforce \
		'{ id = "rfc5322.message_id.missing"; action = "repair"; }'
	kill -USR1 "$E2E_MILTER_PID"
	e2e_wait_log 'reloaded' 10 "$E2E_MILTER_LOG" || echo "FAIL reload: not logged"
	touch "$_hs/reloaded"
	wait "$_mt" || failed=1
	printf 'mode = "sideways";\n' >"$_conf"
	kill -USR1 "$E2E_MILTER_PID"
	if e2e_wait_log 'reload failed' 10 "$E2E_MILTER_LOG"; then
		echo "ok   reload of an invalid file refused: $(grep -m 1 'reload failed' "$E2E_MILTER_LOG" | sed 's/^[^:]*: //')"
	else
		echo "FAIL reload of an invalid file: not logged"; failed=1
	fi
	kill -0 "$E2E_MILTER_PID" 2>/dev/null || { echo "FAIL daemon died on a bad reload"; failed=1; }
	miltertest_run reload_kept
	e2e_stop_milter
}

# check_shutdown: SIGTERM with a connection in the middle of a message.
# The daemon logs the stop, drains the callbacks running at that moment,
# closes the store, says that one connection was still open, removes its
# socket and exits 0 well before milter.shutdown_timeout (set to 1 hour:
# a wait for the idle connection would hang the test); the connection is
# closed under the client. Its own log file, checked for sanitizer reports.
check_shutdown() {
	_conf=$E2E_DIR/shutdown.conf
	_hs=$E2E_DIR/shutdown
	_keeplog=$E2E_MILTER_LOG
	E2E_MILTER_LOG=$E2E_DIR/log/shutdown.log
	mkdir -p "$_hs"
	e2e_write_milter_config "$_conf" enforce
	sed -i 's|^  pidfile = .*|&\n  shutdown_timeout = "1h";|' "$_conf"
	e2e_start_milter "$_conf"
	_pid=$E2E_MILTER_PID
	miltertest -D sock="$E2E_MILTER_SOCKET" -D lib="$SCRIPTS/lib.lua" \
		-D dir="$_hs" -s "$SCRIPTS/shutdown_wait.lua" \
		>"$E2E_DIR/log/shutdown_wait.out" 2>&1 &
	_mt=$!
	_t=300
	while [ $_t -gt 0 ] && [ ! -e "$_hs/connected" ]; do sleep 0.1; _t=$((_t - 1)); done
	[ -e "$_hs/connected" ] || { echo "FAIL shutdown: the session did not start"; failed=1; }
	kill -TERM "$_pid"
	_t=600
	while [ $_t -gt 0 ] && kill -0 "$_pid" 2>/dev/null; do sleep 0.1; _t=$((_t - 1)); done
	wait "$_pid"; _st=$?
	E2E_MILTER_PID=
	touch "$_hs/stopped"
	if [ "$_st" = 0 ] && grep -q 'stopping milter-egress' "$E2E_MILTER_LOG" &&
	    grep -q ': 1 connection still open at exit' "$E2E_MILTER_LOG" &&
	    grep -q ': stopped$' "$E2E_MILTER_LOG" &&
	    ! grep -q 'still running' "$E2E_MILTER_LOG" &&
	    [ ! -e "${E2E_MILTER_SOCKET#unix:}" ]; then
		echo "ok   shutdown: exit 0, store closed, 1 open connection dropped, socket removed"
	else
		echo "FAIL shutdown: exit $_st"; sed 's/^/     /' "$E2E_MILTER_LOG"
		failed=1
	fi
	# the client held its connection across the stop
	_t=300
	while [ $_t -gt 0 ] && [ ! -e "$_hs/released" ]; do sleep 0.1; _t=$((_t - 1)); done
	if [ -e "$_hs/released" ]; then
		echo "ok   shutdown_wait: the connection was held across the stop"
	else
		echo "FAIL shutdown_wait"; sed 's/^/     /' "$E2E_DIR/log/shutdown_wait.out"; failed=1
	fi
	kill "$_mt" 2>/dev/null
	wait "$_mt" 2>/dev/null
	if grep -q 'Sanitizer\|runtime error:' "$E2E_MILTER_LOG"; then
		echo "FAIL shutdown: sanitizer report"; grep -A 30 -m 1 'Sanitizer\|runtime error:' "$E2E_MILTER_LOG"
		failed=1
	fi
	E2E_MILTER_LOG=$_keeplog
}

run_group enforce
# enforce_log_escape.lua: the untrusted envelope sender is logged escaped
if grep -q 'forged\\x0d\\x0amilter-egress\[1\]: 4FAKE' "$E2E_MILTER_LOG" &&
    ! grep -q '^milter-egress\[1\]: 4FAKE' "$E2E_MILTER_LOG" &&
    [ "$(tr -dc '\r\033' <"$E2E_MILTER_LOG" | wc -c)" -eq 0 ] &&
    grep -q '\\x1b\[31m\\xe9@example.org' "$E2E_MILTER_LOG"; then
	echo "ok   log_escape: $(grep -m 1 'forged' "$E2E_MILTER_LOG" | cut -c1-160)"
else
	echo "FAIL log_escape: the forged sender reached the log raw:"
	grep -a 'forged\|4FAKE' "$E2E_MILTER_LOG" | cat -v | sed 's/^/     /'
	failed=1
fi
# enforce_bounce_sasl.lua: a SASL client's DSN never counts
if grep -q '4SASLDSN: unmatched bounce sender=<victim@example.org> rcpt=<gone@dest.example> status=5.1.1 reason=local-submission msgid=<sasl-fake.1@example.org> ' \
    "$E2E_MILTER_LOG"; then
	echo "ok   bounce_sasl: $(grep -m 1 '4SASLDSN: unmatched' "$E2E_MILTER_LOG" | sed 's/^[^:]*: //' | cut -c1-150)"
else
	echo "FAIL bounce_sasl: no local-submission line:"
	grep -a '4SASLDSN' "$E2E_MILTER_LOG" | sed 's/^/     /'
	failed=1
fi
run_group monitor
check_config
check_reload
check_shutdown
# SIGTERM stops the daemon gracefully (exit 0; libmilter owns the signal)
[ "$E2E_MILTER_STATUS" = 0 ] || { failed=1
	echo "FAIL sigterm: milter-egress exited with status $E2E_MILTER_STATUS on SIGTERM"; }
[ "$failed" = 0 ] || e2e_fail "milter protocol tests failed"
echo "PASS: milter_proto"
