#!/bin/sh
# bench/rss_bench.sh - the daemon's peak memory under concurrent large messages.
#
#   bench/rss_bench.sh [-n CONNECTIONS] [-l BYTES] [-c MILTER_CONFIG]
#
# One private Postfix on loopback (tests/e2e/lib.sh) with milter-egress on a
# unix socket, relaying to an smtp-sink that counts and stores nothing.
# smtp-source opens CONNECTIONS (default 50) sessions at once and sends one
# message of BYTES (default 25 MiB) payload on each; Postfix hands every
# message to the daemon in 64 KiB body chunks, so CONNECTIONS milter
# connections scan concurrently. message_size_limit of the instance is raised
# to fit.
#
# The daemon's VmRSS and VmHWM are read from /proc/PID/status after a small
# warm-up message (baseline) and after the run; VmHWM is the peak (or the
# largest sampled VmRSS, when that is higher: see below). While the
# run lasts, VmRSS, the sockets the daemon holds (one per milter connection,
# plus the listener) and its threads are sampled every 0.2 s: the sockets
# show how many connections were open at once, the threads how many libmilter
# workers were busy (Debian's libmilter runs a worker pool, not a thread per
# connection). Postfix's cleanup streams a body to the milter once the message
# is queued, so the body scans overlap less than the connections do.
# Printed: baseline RSS, peak RSS, peak minus baseline, that difference per
# connection, messages/s end to end, and the deliveries at the sink. Asserts
# nothing about the figures; fails only when the run itself goes wrong (a
# message not delivered, rejected or deferred).
#
# The daemon runs with the e2e config (enforce, every check at its default
# action) unless -c names another one (used as it is, store section
# included; the socket is this instance's). Needs root (private Postfix).
# MILTER_EGRESS overrides the daemon path. Takes under a minute.
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

CONNS=50 LENGTH=26214400 CONFIG=
while getopts n:l:c:h o; do
	case $o in
	n) CONNS=$OPTARG ;;
	l) LENGTH=$OPTARG ;;
	c) CONFIG=$OPTARG ;;
	*) sed -n '2,30p' "$0"; exit 2 ;;
	esac
done

EGRESS_TESTS_REQUIRED=1	# a benchmark that cannot run is an error
e2e_require milter
command -v smtp-source >/dev/null 2>&1 || e2e_fail "smtp-source not installed"

e2e_init
e2e_write_postfix_config
# room for the payload and Postfix's own headers; CONNS sessions at once
postconf -c "$E2E_DIR/etc" -e \
	"message_size_limit = $((LENGTH + 1048576))" \
	"default_process_limit = $((CONNS * 2 + 20))" \
	"smtpd_client_connection_count_limit = 0" \
	"smtpd_client_connection_rate_limit = 0" \
	"smtpd_client_message_rate_limit = 0" \
	"default_destination_concurrency_limit = $CONNS" \
	"milter_command_timeout = 60s" \
	"milter_content_timeout = 600s" || e2e_fail "postconf"

# the next hop: counts, stores nothing
smtp-sink -c -u postfix "127.0.0.1:$E2E_SINK_PORT" 256 >"$E2E_DIR/log/sink.log" 2>&1 &
E2E_SINK_PID=$!
e2e_wait_own_port "$E2E_SINK_PORT" "$E2E_SINK_PID" 10 || e2e_fail "smtp-sink did not start"

if [ -n "$CONFIG" ]; then
	# the given config, with this instance's socket (-p wins over the file)
	cp "$CONFIG" "$E2E_DIR/milter.conf" || e2e_fail "cannot read $CONFIG"
else
	e2e_write_milter_config "$E2E_DIR/milter.conf" enforce
fi
e2e_start_milter "$E2E_DIR/milter.conf"
PID=$E2E_MILTER_PID
e2e_start_postfix

# status FIELD: a field of the daemon's /proc status, in kB (or a count)
status() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$PID/status"; }
now() { date +%s.%N; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f MB", k / 1024 }'; }

# send N SIZE NAME: N sessions at once, one message of SIZE each; wait until
# the maillog shows them delivered. Sets SECS to the seconds it took (no
# command substitution: e2e_fail must end the script, not a subshell).
send() {
	_before=$(e2e_sent_count)
	_t0=$(now)
	smtp-source -c -s "$1" -m "$1" -l "$2" -M client.example.org \
		-f sender@example.org -t rcpt@example.net -S "$3" \
		"127.0.0.1:$E2E_SMTP_PORT" >"$E2E_DIR/log/source.$3" 2>&1 &
	E2E_EXTRA_PIDS=$!
	_want=$((_before + $1))
	_t=3000	# 600 s
	while [ "$(e2e_sent_count)" -lt "$_want" ]; do
		kill -0 "$PID" 2>/dev/null || e2e_fail "milter-egress died"
		if [ "$3" = run ]; then
			_r=$(status VmRSS); _th=$(status Threads)
			_fd=$(find "/proc/$PID/fd" -lname 'socket:*' 2>/dev/null | wc -l)
			echo "$_r $_th $_fd" >>"$E2E_DIR/samples"
		fi
		if grep -q 'milter-reject\|status=deferred\|status=bounced' "$E2E_MAILLOG"; then
			grep -m 3 'milter-reject\|status=deferred\|status=bounced' "$E2E_MAILLOG" >&2
			e2e_fail "messages were rejected or deferred"
		fi
		_t=$((_t - 1))
		[ $_t -gt 0 ] || e2e_fail "only $(($(e2e_sent_count) - _before)) of $1 delivered"
		sleep 0.2
	done
	_t1=$(now)
	wait "$E2E_EXTRA_PIDS" || { cat "$E2E_DIR/log/source.$3" >&2; e2e_fail "smtp-source failed"; }
	E2E_EXTRA_PIDS=
	SECS=$(awk -v a="$_t0" -v b="$_t1" 'BEGIN { printf "%.2f\n", b - a }')
}

echo "milter-egress behind Postfix $(postconf -c "$E2E_DIR/etc" -h mail_version): $CONNS concurrent connections x $LENGTH B, config ${CONFIG:-e2e default (enforce)}"
# warm-up: one small message, so what the first message loads is loaded
send 1 5120 warmup
base_rss=$(status VmRSS); base_hwm=$(status VmHWM); base_th=$(status Threads)
base_fd=$(find "/proc/$PID/fd" -lname 'socket:*' 2>/dev/null | wc -l)
: >"$E2E_DIR/samples"
send "$CONNS" "$LENGTH" run
secs=$SECS
hwm=$(status VmHWM); after=$(status VmRSS)
max_th=$(awk '$2 > m { m = $2 } END { print m + 0 }' "$E2E_DIR/samples")
max_fd=$(awk '$3 > m { m = $3 } END { print m + 0 }' "$E2E_DIR/samples")
max_rss=$(awk '$1 > m { m = $1 } END { print m + 0 }' "$E2E_DIR/samples")
nsamp=$(wc -l <"$E2E_DIR/samples")
# the kernel updates VmHWM lazily (at unmap and exit), so a sampled VmRSS can
# exceed it when glibc gave pages back with madvise: take the larger
peak=$hwm; [ "$max_rss" -gt "$peak" ] && peak=$max_rss
sent=$(grep -c "relay=127.0.0.1\[127.0.0.1\]:$E2E_SINK_PORT.*status=sent" "$E2E_MAILLOG" || true)
sink_msgs=$(tr '\r' '\n' <"$E2E_DIR/log/sink.log" | awk 'NF { l = $0 } END { print l }')
logged=$(grep -c 'action=' "$E2E_MILTER_LOG" 2>/dev/null || echo 0)
actions=$(grep -o 'action=[a-z]*' "$E2E_MILTER_LOG" | sort | uniq -c |
	awk '{ printf "%s%s x%s", sep, $2, $1; sep = ", " }')

printf 'baseline RSS (after warm-up)  %s  (VmHWM %s, %s threads)\n' \
	"$(mb "$base_rss")" "$(mb "$base_hwm")" "$base_th"
printf 'peak RSS                      %s  (VmHWM after the run %s, sampled max VmRSS %s over %s samples; VmRSS after %s)\n' \
	"$(mb "$peak")" "$(mb "$hwm")" "$(mb "$max_rss")" "$nsamp" "$(mb "$after")"
printf 'peak minus baseline           %s\n' "$(mb $((peak - base_rss)))"
awk -v d=$((peak - base_rss)) -v n="$CONNS" 'BEGIN {
	printf "per connection                %.1f KB (%.2f MB)\n", d / n, d / n / 1024 }'
printf 'milter connections at most    %s (sockets open in the daemon, %s at baseline; threads at most %s, %s at baseline)\n' \
	"$((max_fd - base_fd))" "$base_fd" "$max_th" "$base_th"
awk -v n="$CONNS" -v s="$secs" -v l="$LENGTH" 'BEGIN {
	printf "throughput                    %d messages in %.1f s: %.2f msg/s, %.1f MB/s of payload\n",
		n, s, n / s, n * l / s / 1048576 }'
printf 'delivered to the sink         %s of %s (status=sent to the sink, warm-up included: %s)\n' \
	"$((sent - 1))" "$CONNS" "$sent"
printf 'smtp-sink counters            %s\n' "$sink_msgs"
printf 'messages logged by the daemon %s (%s)\n' "$logged" "$actions"
