#!/bin/sh
# tests/milter_proto.sh - milter-egress over the real milter protocol, driven
# by Debian's miltertest (the MTA side) with the Lua scripts in
# tests/milter_proto/: replies, added headers, quarantine, monitor mode.
# enforce_*.lua run against a daemon started with the enforce config below,
# monitor_*.lua against one in monitor mode. Needs no root and no Postfix.
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
{ id = "rfc5322.from.missing"; action = "tempfail"; }
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
		_name=$(basename "$_s" .lua)
		if miltertest -D sock="$E2E_MILTER_SOCKET" -D lib="$SCRIPTS/lib.lua" \
			-s "$_s" >"$E2E_DIR/log/$_name.out" 2>&1; then
			echo "ok   $_name"
		else
			echo "FAIL $_name"; sed 's/^/     /' "$E2E_DIR/log/$_name.out"
			failed=1
		fi
	done
	e2e_stop_milter
}

run_group enforce
run_group monitor
# SIGTERM stops the daemon gracefully (exit 0; libmilter owns the signal)
[ "$E2E_MILTER_STATUS" = 0 ] || { failed=1
	echo "FAIL sigterm: milter-egress exited with status $E2E_MILTER_STATUS on SIGTERM"; }
[ "$failed" = 0 ] || e2e_fail "milter protocol tests failed"
echo "PASS: milter_proto"
