#!/bin/sh
# bench/postfix_bench.sh - what milter-egress costs a real Postfix.
#
#   bench/postfix_bench.sh [-m MESSAGES] [-s SESSIONS] [-l BYTES] [-r ROUNDS]
#
# One private Postfix on loopback (tests/e2e/lib.sh) relaying to smtp-sink,
# with four smtpd listeners: no milter, bench/null_milter (a libmilter filter
# that answers "continue" to everything: the cost of the protocol alone) on a
# unix socket, milter-egress on a unix socket, and milter-egress on an inet
# socket (a second daemon, same config). smtp-source
# sends MESSAGES messages of BYTES payload over SESSIONS parallel sessions to
# each listener in turn; a run lasts until every message has been delivered
# to the sink. The variants are interleaved (the order rotates every round)
# so drift hits all of them alike; the figures are messages/s end to end and
# the ratio to the run without milter. Asserts nothing. A quick run:
# -m 200 -r 1.
#
# The daemon runs with its default configuration: every check registered,
# each with its default action. smtp-source's messages carry From, To, Date
# and Message-ID, so they pass.
#
# Note (Postfix 3.7): over inet: milter sockets Postfix does not set
# TCP_NODELAY; Nagle plus delayed ACKs can add about 40 ms to a message when
# the milter answers nothing between two MTA writes. Unix sockets do not
# have it. The inet figure shows what that costs.
#
# Needs root (private Postfix). MILTER_EGRESS overrides the daemon path.
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

MESSAGES=2000 SESSIONS=10 LENGTH=5120 ROUNDS=5
while getopts m:s:l:r:h o; do
	case $o in
	m) MESSAGES=$OPTARG ;;
	s) SESSIONS=$OPTARG ;;
	l) LENGTH=$OPTARG ;;
	r) ROUNDS=$OPTARG ;;
	*) sed -n '2,27p' "$0"; exit 2 ;;
	esac
done

EGRESS_TESTS_REQUIRED=1	# a benchmark that cannot run is an error
e2e_require milter
command -v smtp-source >/dev/null 2>&1 || e2e_fail "smtp-source not installed"

NULL_MILTER=${NULL_MILTER:-$top_builddir/bench/null_milter}
[ -x "$NULL_MILTER" ] || e2e_fail "$NULL_MILTER not built (make bench/null_milter)"

e2e_init
INET_MILTER_PORT=$(e2e_free_port)
INET_SMTP_PORT=$(e2e_free_port)
NULL_SMTP_PORT=$(e2e_free_port)
NULL_SOCKET=$E2E_DIR/run/null.sock
E2E_EXTRA_MASTER="127.0.0.1:$INET_SMTP_PORT inet n - n - - smtpd
  -o syslog_name=postfix/inet -o smtpd_milters=inet:127.0.0.1:$INET_MILTER_PORT
127.0.0.1:$NULL_SMTP_PORT inet n - n - - smtpd
  -o syslog_name=postfix/null -o smtpd_milters=unix:$NULL_SOCKET"
e2e_write_postfix_config \
	"default_process_limit = 200" \
	"smtpd_client_connection_count_limit = 0" \
	"smtpd_client_message_rate_limit = 0" \
	"default_destination_concurrency_limit = 20"
# no per-message capture at the sink: it only counts
smtp-sink -u postfix "127.0.0.1:$E2E_SINK_PORT" 256 >"$E2E_DIR/log/sink.log" 2>&1 &
E2E_SINK_PID=$!
e2e_wait_port "$E2E_SINK_PORT" 10 || e2e_fail "smtp-sink did not start"

e2e_write_milter_config "$E2E_DIR/milter.conf" enforce
e2e_start_milter "$E2E_DIR/milter.conf"
# the second daemon: the same config with a pid file of its own (the
# daemon refuses to start beside a running one that holds its pid file)
sed "s|$E2E_DIR/run/milter.pid|$E2E_DIR/run/milter-inet.pid|" \
	"$E2E_DIR/milter.conf" >"$E2E_DIR/milter-inet.conf" ||
	e2e_fail "cannot write the inet daemon's config"
"$MILTER_EGRESS" -f -c "$E2E_DIR/milter-inet.conf" -p "inet:$INET_MILTER_PORT@127.0.0.1" \
	>>"$E2E_DIR/log/milter-inet.log" 2>&1 &
E2E_EXTRA_PIDS=$!
e2e_wait_port "$INET_MILTER_PORT" 10 || e2e_fail "inet milter did not start"
"$NULL_MILTER" "unix:$NULL_SOCKET" >>"$E2E_DIR/log/null-milter.log" 2>&1 &
NULL_PID=$!
E2E_EXTRA_PIDS="$E2E_EXTRA_PIDS $NULL_PID"
_t=100
while [ ! -S "$NULL_SOCKET" ] && [ $_t -gt 0 ]; do sleep 0.1; _t=$((_t - 1)); done
[ -S "$NULL_SOCKET" ] || e2e_fail "null milter socket did not appear"
chmod 666 "$NULL_SOCKET"
e2e_start_postfix

now() { date +%s.%N; }
# cpu PID: user and system CPU seconds of a process so far ("U S")
cpu() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.3f %.3f\n", $12 / hz, $13 / hz }' \
		"/proc/$1/stat"
}

# run PORT: send MESSAGES messages to PORT, wait until all are delivered;
# print messages/s.
run() {
	_before=$(e2e_sent_count)
	_t0=$(now)
	smtp-source -s "$SESSIONS" -m "$MESSAGES" -l "$LENGTH" -M client.example.org \
		-f sender@example.org -t rcpt@example.net -S "bench" \
		"127.0.0.1:$1" >"$E2E_DIR/log/source.log" 2>&1 ||
		{ cat "$E2E_DIR/log/source.log" >&2; e2e_fail "smtp-source failed"; }
	_want=$((_before + MESSAGES))
	_t=6000
	while [ "$(e2e_sent_count)" -lt "$_want" ]; do
		_t=$((_t - 1))
		[ $_t -gt 0 ] || e2e_fail "only $(($(e2e_sent_count) - _before)) of $MESSAGES delivered (port $1)"
		sleep 0.05
	done
	_t1=$(now)
	# a rejected or deferred message would make the comparison meaningless
	if grep -q 'milter-reject\|status=deferred\|status=bounced' "$E2E_MAILLOG"; then
		grep -m 3 'milter-reject\|status=deferred\|status=bounced' "$E2E_MAILLOG" >&2
		e2e_fail "messages were rejected or deferred"
	fi
	awk -v n="$MESSAGES" -v a="$_t0" -v b="$_t1" 'BEGIN { printf "%.1f\n", n / (b - a) }'
}

echo "milter-egress behind Postfix $(postconf -c "$E2E_DIR/etc" -h mail_version): $MESSAGES messages x ${LENGTH} B, $SESSIONS sessions, $ROUNDS rounds"
# warm-up: start the smtpd/cleanup/smtp processes of every listener
MESSAGES_SAVE=$MESSAGES; MESSAGES=$((SESSIONS * 2))
for p in "$E2E_PLAIN_PORT" "$NULL_SMTP_PORT" "$E2E_SMTP_PORT" "$INET_SMTP_PORT"; do run "$p" >/dev/null; done
MESSAGES=$MESSAGES_SAVE

cpu0_unix=$(cpu "$E2E_MILTER_PID")
cpu0_null=$(cpu "$NULL_PID")
printf '%-6s %12s %12s %12s %12s\n' round "no milter" "null milter" "unix socket" "inet socket"
: >"$E2E_DIR/results"
r=1
while [ $r -le "$ROUNDS" ]; do
	# rotate the order every round
	case $((r % 4)) in
	1) order="plain null unix inet" ;;
	2) order="null unix inet plain" ;;
	3) order="unix inet plain null" ;;
	0) order="inet plain null unix" ;;
	esac
	for v in $order; do
		case $v in
		plain) port=$E2E_PLAIN_PORT ;;
		null) port=$NULL_SMTP_PORT ;;
		unix) port=$E2E_SMTP_PORT ;;
		inet) port=$INET_SMTP_PORT ;;
		esac
		eval "res_$v=\$(run $port)"
	done
	# shellcheck disable=SC2154
	printf '%-6s %12s %12s %12s %12s\n' "$r" "$res_plain" "$res_null" "$res_unix" "$res_inet"
	echo "$res_plain $res_unix $res_inet $res_null" >>"$E2E_DIR/results"
	r=$((r + 1))
done

# medians and ratios
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
m_plain=$(awk '{ print $1 }' "$E2E_DIR/results" | median)
m_unix=$(awk '{ print $2 }' "$E2E_DIR/results" | median)
m_inet=$(awk '{ print $3 }' "$E2E_DIR/results" | median)
m_null=$(awk '{ print $4 }' "$E2E_DIR/results" | median)
printf '%-6s %12s %12s %12s %12s  msg/s\n' median "$m_plain" "$m_null" "$m_unix" "$m_inet"
awk -v p="$m_plain" -v u="$m_unix" -v i="$m_inet" -v z="$m_null" 'BEGIN {
	printf "ratio to no milter: null milter %.3f, milter-egress unix %.3f, inet %.3f\n", z / p, u / p, i / p }'
# CPU per message over the timed rounds: each variant took ROUNDS x MESSAGES
cpu_per() {
	awk -v a="$1" -v b="$2" -v n=$((ROUNDS * MESSAGES)) 'BEGIN {
		split(a, x, " "); split(b, y, " ")
		printf "%.3f ms (user %.3f ms)", (y[1] + y[2] - x[1] - x[2]) * 1000 / n,
		    (y[1] - x[1]) * 1000 / n }'
}
echo "CPU per message: milter-egress unix $(cpu_per "$cpu0_unix" "$(cpu "$E2E_MILTER_PID")"), null milter $(cpu_per "$cpu0_null" "$(cpu "$NULL_PID")")"
n=$(grep -c 'action=' "$E2E_MILTER_LOG" 2>/dev/null || echo 0)
f=$(grep -o 'findings=[^ ]*' "$E2E_MILTER_LOG" | sort | uniq -c | sort -rn | head -3 |
	awk '{ printf "%s%s x%s", sep, $2, $1; sep = ", " }')
echo "messages logged by the unix-socket daemon: $n ($f)"
