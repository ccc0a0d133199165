#!/bin/sh
# bench/sendmail_bench.sh - what milter-egress costs a real Sendmail.
#
#   bench/sendmail_bench.sh [-m MESSAGES] [-s SESSIONS] [-l BYTES] [-r ROUNDS]
#
# One private Sendmail on loopback (tests/e2e/sendmail_lib.sh, the same
# instance as tests/e2e/sendmail.sh) relaying to smtp-sink, with two daemons:
# one with milter-egress (the README's INPUT_MAIL_FILTER line, unix socket)
# and one without (DAEMON_OPTIONS InputMailFilters= empty). smtp-source
# sends MESSAGES messages of BYTES payload over SESSIONS parallel sessions to
# each in turn; Sendmail delivers each message before it answers the DATA
# (DeliveryMode=interactive), so a run is over when smtp-source is, and the
# queue must then be empty. The variants alternate (the order swaps every
# round); the figures are messages/s end to end and the ratio to the run
# without milter. Asserts nothing but that every message was delivered.
#
# The daemon runs with its default configuration (every check with its
# default action); smtp-source's messages carry From, To, Date and
# Message-ID, so they pass.
#
# Needs root (private Sendmail). MILTER_EGRESS overrides the daemon path.
set -u
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
top_srcdir=${top_srcdir:-$SRCDIR}
top_builddir=${top_builddir:-}
if [ -z "$top_builddir" ]; then
	for d in "$SRCDIR/build-plain" "$SRCDIR"; do
		if [ -x "$d/milter-egress" ] || [ -x "$d/src/milter/milter-egress" ]; then
			top_builddir=$d; break
		fi
	done
	: "${top_builddir:=$SRCDIR}"
fi
. "$SRCDIR/tests/e2e/lib.sh"
. "$SRCDIR/tests/e2e/sendmail_lib.sh"

MESSAGES=1000 SESSIONS=10 LENGTH=5120 ROUNDS=3
while getopts m:s:l:r:h o; do
	case $o in
	m) MESSAGES=$OPTARG ;;
	s) SESSIONS=$OPTARG ;;
	l) LENGTH=$OPTARG ;;
	r) ROUNDS=$OPTARG ;;
	*) sed -n '2,21p' "$0"; exit 2 ;;
	esac
done

EGRESS_TESTS_REQUIRED=1	# a benchmark that cannot run is an error
sm_require
command -v smtp-source >/dev/null 2>&1 || e2e_fail "smtp-source not installed"

e2e_init
trap 'sm_cleanup $?' EXIT
# no per-message capture at the sink: it only accepts
smtp-sink -u postfix "127.0.0.1:$E2E_SINK_PORT" 256 >"$E2E_DIR/log/sink.log" 2>&1 &
E2E_SINK_PID=$!
e2e_wait_port "$E2E_SINK_PORT" 10 || e2e_fail "smtp-sink did not start"
e2e_write_milter_config "$E2E_DIR/milter.conf" enforce
e2e_start_milter "$E2E_DIR/milter.conf"
PLAIN_PORT=$(e2e_free_port)
sm_write_config \
	"DAEMON_OPTIONS(\`Port=$PLAIN_PORT, Addr=127.0.0.1, Name=NoFilter, InputMailFilters=')dnl" \
	"define(\`confMAX_DAEMON_CHILDREN', \`0')dnl" \
	"define(\`confCONNECTION_RATE_THROTTLE', \`0')dnl"
sm_start
e2e_wait_port "$PLAIN_PORT" 30 || e2e_fail "the daemon without filter did not listen"

now() { date +%s.%N; }

# run PORT: send MESSAGES messages to PORT; print messages/s.
run() {
	_t0=$(now)
	smtp-source -s "$SESSIONS" -m "$MESSAGES" -l "$LENGTH" -M client.example.org \
		-f sender@example.org -t rcpt@example.net -S "bench" \
		"127.0.0.1:$1" >"$E2E_DIR/log/source.log" 2>&1 ||
		{ cat "$E2E_DIR/log/source.log" >&2; e2e_fail "smtp-source failed"; }
	_t1=$(now)
	# a message refused, queued or deferred would make the figures meaningless
	if [ -s "$E2E_DIR/log/source.log" ]; then
		head -n 3 "$E2E_DIR/log/source.log" >&2
		e2e_fail "smtp-source reported errors (port $1)"
	fi
	_q=$(find "$SM_DIR/mqueue" -type f -name 'qf*' | wc -l)
	[ "$_q" -eq 0 ] || e2e_fail "$_q message(s) left in Sendmail's queue (port $1)"
	awk -v n="$MESSAGES" -v a="$_t0" -v b="$_t1" 'BEGIN { printf "%.1f\n", n / (b - a) }'
}

echo "milter-egress behind Sendmail $(cat "$SM_ROOT/VERSION" 2>/dev/null): $MESSAGES messages x ${LENGTH} B, $SESSIONS sessions, $ROUNDS rounds"
# warm-up
MESSAGES_SAVE=$MESSAGES; MESSAGES=$((SESSIONS * 2))
run "$PLAIN_PORT" >/dev/null; run "$SM_PORT" >/dev/null
MESSAGES=$MESSAGES_SAVE

printf '%-6s %12s %12s\n' round "no milter" "unix socket"
: >"$E2E_DIR/results"
r=1
while [ $r -le "$ROUNDS" ]; do
	if [ $((r % 2)) = 1 ]; then
		res_plain=$(run "$PLAIN_PORT"); res_unix=$(run "$SM_PORT")
	else
		res_unix=$(run "$SM_PORT"); res_plain=$(run "$PLAIN_PORT")
	fi
	printf '%-6s %12s %12s\n' "$r" "$res_plain" "$res_unix"
	echo "$res_plain $res_unix" >>"$E2E_DIR/results"
	r=$((r + 1))
done

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
m_plain=$(awk '{ print $1 }' "$E2E_DIR/results" | median)
m_unix=$(awk '{ print $2 }' "$E2E_DIR/results" | median)
printf '%-6s %12s %12s  msg/s\n' median "$m_plain" "$m_unix"
awk -v p="$m_plain" -v u="$m_unix" 'BEGIN { printf "ratio to no milter: %.2f\n", u / p }'
n=$(grep -c 'action=accept' "$E2E_MILTER_LOG" 2>/dev/null || echo 0)
echo "messages accepted by the milter: $n"
