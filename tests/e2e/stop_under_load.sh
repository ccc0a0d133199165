#!/bin/sh
# tests/e2e/stop_under_load.sh - SIGTERM while Postfix feeds the milter
# from many SMTP sessions at once, then a restart: the daemon exits 0
# (after draining the callbacks that were running), leaves no socket or
# pid file, and no message is lost - what could not be filtered stayed in
# a queue (milter_default_action = tempfail) and is delivered once the
# milter is back. Run with a ThreadSanitizer build (MILTER_EGRESS=...,
# TSAN_OPTIONS=suppressions=tests/tsan.supp) this is the race check of the
# shutdown; any sanitizer report in the milter log fails the test.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"
N=300		# messages
S=10		# parallel SMTP sessions

e2e_require milter
command -v smtp-source >/dev/null 2>&1 || e2e_skip "smtp-source not installed"
e2e_up
CONF=$E2E_DIR/milter.conf
e2e_write_milter_config "$CONF" enforce
e2e_start_milter "$CONF"
pid1=$E2E_MILTER_PID

smtp-source -s "$S" -m "$N" -l 2000 -f "$E2E_SENDER" -t "$E2E_RCPT" \
	"127.0.0.1:$E2E_SMTP_PORT" >"$E2E_DIR/log/smtp-source.log" 2>&1 &
src=$!
E2E_EXTRA_PIDS=$src
# stop once the milter has passed a first part of the load
e2e_wait_log 'action=' 60 "$E2E_MILTER_LOG" || e2e_fail "the milter saw no message"
_t=600
while [ $_t -gt 0 ] && [ "$(grep -c 'action=' "$E2E_MILTER_LOG")" -lt 30 ]; do
	sleep 0.1; _t=$((_t - 1))
done
seen=$(grep -c 'action=' "$E2E_MILTER_LOG")
kill -TERM "$pid1"
_t=600
while [ $_t -gt 0 ] && kill -0 "$pid1" 2>/dev/null; do sleep 0.1; _t=$((_t - 1)); done
wait "$pid1"; st=$?
E2E_MILTER_PID=
[ "$st" = 0 ] || e2e_fail "milter exited $st on SIGTERM under load"
grep -q ': stopped$' "$E2E_MILTER_LOG" || e2e_fail "no 'stopped' line"
grep -q 'still running' "$E2E_MILTER_LOG" && e2e_fail "callbacks still running at the deadline"
[ -e "${E2E_MILTER_SOCKET#unix:}" ] && e2e_fail "socket left behind"
[ -e "$E2E_DIR/run/milter.pid" ] && e2e_fail "pid file left behind"
echo "stopped after $seen message(s): $(grep -o 'stopping.*' "$E2E_MILTER_LOG")"
grep -o '[0-9]* connections\{0,1\} still open at exit.*' "$E2E_MILTER_LOG" || true

# Postfix refused what it could not filter with 451 (smtp-source gives up
# at the first one); every message it did accept must be delivered once
# the milter is back, none lost in the stop
e2e_start_milter "$CONF"
wait "$src"
E2E_EXTRA_PIDS=
_t=1200
while [ $_t -gt 0 ]; do
	e2e_postqueue -f >/dev/null 2>&1
	e2e_wait_queue_empty 5 && break
	_t=$((_t - 50))
done
e2e_wait_queue_empty 5 || e2e_fail "the queue did not drain"
accepted=$(sed -n 's/.*qmgr\[[0-9]*\]: \([0-9A-F]*\): from=<.*nrcpt=.*/\1/p' "$E2E_MAILLOG" | sort -u | wc -l)
sent=$(sed -n 's/.* \([0-9A-F]*\): to=<.*status=sent.*/\1/p' "$E2E_MAILLOG" | sort -u | wc -l)
tempfailed=$(grep -c 'milter-reject: .*4\.7\.1\|Service unavailable' "$E2E_MAILLOG" || true)
echo "accepted by Postfix: $accepted, delivered: $sent, sink: $(ls "$E2E_DIR/sink" | wc -l), refused with 4xx while the milter was down: $tempfailed"
[ "$accepted" -gt "$seen" ] || [ "$accepted" -ge 30 ] || e2e_fail "too few messages accepted ($accepted)"
[ "$sent" -eq "$accepted" ] || e2e_fail "messages lost: $sent delivered of $accepted accepted"
echo "PASS: stop_under_load"
