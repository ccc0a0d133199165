#!/bin/sh
# tests/e2e/metrics.sh - the /metrics endpoint behind a real Postfix:
#  - metrics.listen on a free loopback port; a second daemon asking for the
#    same port exits non-zero before serving and says why;
#  - a clean mail, a rejected one (duplicate From) and a remote DSN move the
#    counters by exactly what they did: messages by action, findings by
#    check, bounces by reason/category (matched="no": the DSN returns a
#    message never sent here; the ledger runs relaxed so that it is still
#    recorded), callback and
#    store histograms, sessions back to 0, a reload counted;
#  - a reload that changes metrics.listen is said to wait for the next
#    start, one that fails (a non-loopback address) is counted as failed;
#  - every scrape passes `promtool check metrics`;
#  - other paths are 404, other methods 405;
#  - egressctl stats prints the summary, --raw the page;
#  - the Grafana dashboard names only metrics the page has.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"
DATA=$top_srcdir/tests/data/e2e
ORIG=sender@example.org

e2e_require milter
command -v curl >/dev/null 2>&1 || e2e_skip "curl not installed"
command -v promtool >/dev/null 2>&1 || e2e_skip "promtool not installed (Debian package prometheus)"
e2e_up

MPORT=$(e2e_free_port)
CONF=$E2E_DIR/milter.conf
URL=http://127.0.0.1:$MPORT/metrics
e2e_write_milter_config "$CONF" enforce
printf 'metrics = {\n  listen = "127.0.0.1:%s";\n};\n' "$MPORT" >>"$CONF"
printf 'ledger = {\n  require_match = "relaxed";\n};\n' >>"$CONF"
e2e_start_milter "$CONF"
e2e_wait_own_port "$MPORT" "$E2E_MILTER_PID" 10 || e2e_fail "metrics port $MPORT not served"

# scrape N: the page into log/scrape.N, checked by promtool
scrape() {
	curl -sS --max-time 10 -o "$E2E_DIR/log/scrape.$1" -w '%{http_code} %{content_type}' "$URL" \
		>"$E2E_DIR/log/scrape.$1.status" || e2e_fail "scrape $1: curl failed"
	read -r code ctype <"$E2E_DIR/log/scrape.$1.status"
	[ "$code" = 200 ] || e2e_fail "scrape $1: HTTP $code"
	case $ctype in "text/plain; version=0.0.4"*) ;; *) e2e_fail "scrape $1: Content-Type $ctype" ;; esac
	promtool check metrics <"$E2E_DIR/log/scrape.$1" >"$E2E_DIR/log/promtool.$1" 2>&1 ||
		e2e_fail "scrape $1: promtool: $(cat "$E2E_DIR/log/promtool.$1")"
}
# value N SERIES: the value of the exact series (name{labels}) in scrape N
value() {
	awk -v s="$2" 'index($0, s " ") == 1 { print $2; found = 1; exit }
		END { if (!found) print "missing" }' "$E2E_DIR/log/scrape.$1"
}
# delta SERIES WANT: the series moved by WANT between scrape 0 and scrape 1
delta() {
	_a=$(value 0 "$1"); _b=$(value 1 "$1")
	[ "$_a" != missing ] && [ "$_b" != missing ] || e2e_fail "series $1 missing"
	_d=$(awk -v a="$_a" -v b="$_b" 'BEGIN { print b - a }')
	[ "$_d" = "$2" ] || e2e_fail "$1 moved by $_d, want $2 ($_a -> $_b)"
	echo "ok: $1 +$_d"
}
P=milter_egress_

scrape 0
[ "$(value 0 "${P}build_info{version=\"$("$MILTER_EGRESS" -V | head -n 1 | cut -d' ' -f2)\"}")" = 1 ] ||
	e2e_fail "build_info does not carry the version"

# the port is taken: a second daemon says so and exits non-zero, before serving
# (bounded: a second daemon that did start would serve until killed)
if timeout 30 "$MILTER_EGRESS" -f -c "$CONF" -p "unix:$E2E_DIR/run/second.sock" \
	>"$E2E_DIR/log/second.log" 2>&1; then
	e2e_fail "a second daemon on the same metrics port started"
fi
grep -q "metrics: cannot listen on 127.0.0.1:$MPORT: Address already in use" "$E2E_DIR/log/second.log" ||
	e2e_fail "second daemon did not say why: $(cat "$E2E_DIR/log/second.log")"
grep -q 'starting milter-egress' "$E2E_DIR/log/second.log" && e2e_fail "second daemon started serving"
echo "ok: port in use reported: $(cat "$E2E_DIR/log/second.log")"

# the traffic: one clean mail, one rejected, one DSN
e2e_send clean "$DATA/clean.eml" || e2e_fail "clean mail refused: $(e2e_reply clean)"
e2e_wait_delivered "e2e clean message" >/dev/null || e2e_fail "clean mail not delivered"
e2e_send dup "$DATA/dup_from.eml" && e2e_fail "duplicate From accepted"
case $(e2e_reply dup) in "554 5.6.0 "*) ;; *) e2e_fail "dup reply: $(e2e_reply dup)" ;; esac
sed -e "s|@SENDER@|$ORIG|g" -e "s|@RCPT@|bob@dest.example|g" -e "s|@DEST@|dest.example|g" \
	-e "s|@STATUS@|5.7.1|g" -e "s|@DIAG@|554 5.7.1 Client host blocked|g" -e "s|@TAG@|e2e-metrics|g" \
	"$DATA/dsn_remote.eml" >"$E2E_DIR/dsn.eml"
e2e_send dsn "$E2E_DIR/dsn.eml" "" --from '<>' --to "$ORIG" || e2e_fail "DSN refused: $(e2e_reply dsn)"
e2e_wait_delivered "Undelivered Mail Returned to Sender (e2e-metrics)" >/dev/null ||
	e2e_fail "DSN not delivered"
e2e_wait_log 'bounce sender=<sender@example.org> rcpt=<bob@dest.example>' 10 "$E2E_MILTER_LOG" ||
	e2e_fail "DSN not classified"

# the sessions close when Postfix hangs up: wait for the gauge, bounded
t=100
while [ $t -gt 0 ]; do
	scrape 1
	[ "$(value 1 "${P}sessions_active")" = 0 ] &&
		[ "$(value 1 "${P}callback_duration_seconds_count{stage=\"eom\"}")" = 3 ] && break
	sleep 0.1; t=$((t - 1))
done
[ $t -gt 0 ] || e2e_fail "sessions_active $(value 1 "${P}sessions_active"), eom count $(value 1 "${P}callback_duration_seconds_count{stage=\"eom\"}")"

delta "${P}messages_total{action=\"accept\"}" 1		# the clean mail
delta "${P}messages_total{action=\"repair\"}" 1		# the DSN: Message-ID added
delta "${P}messages_total{action=\"reject\"}" 1
delta "${P}messages_total{action=\"tag\"}" 0
delta "${P}messages_would_total{action=\"reject\"}" 0	# enforce mode
delta "${P}findings_total{check=\"rfc5322.from.duplicate\"}" 1
delta "${P}findings_total{check=\"rfc5322.message_id.missing\"}" 1
delta "${P}bounces_total{reason=\"blocked\",category=\"reputation\",matched=\"no\"}" 1
delta "${P}bounces_total{reason=\"blocked\",category=\"reputation\",matched=\"yes\"}" 0
delta "${P}bounces_total{reason=\"blocked\",category=\"reputation\",matched=\"unknown\"}" 0
delta "${P}callback_duration_seconds_count{stage=\"connect\"}" 3
delta "${P}callback_duration_seconds_count{stage=\"envfrom\"}" 3
delta "${P}callback_duration_seconds_count{stage=\"eom\"}" 3
delta "${P}callback_duration_seconds_bucket{stage=\"eom\",le=\"+Inf\"}" 3
# the sender record: MAIL and RCPT of the two mails from a sender (the DSN
# comes from <>: no lookups), one failure recorded from the DSN
delta "${P}store_duration_seconds_count{op=\"sender_check\"}" 4
delta "${P}store_duration_seconds_count{op=\"recipient_check\"}" 2
delta "${P}store_duration_seconds_count{op=\"record_failure\"}" 1
delta "${P}store_errors_total{op=\"sender_check\",error=\"error\"}" 0
# the histogram is cumulative: every bucket at most the next, +Inf = count
awk -v n="${P}store_duration_seconds_bucket{op=\"sender_check\"," '
	index($0, n) == 1 { if ($2 + 0 < prev + 0) bad = 1; prev = $2 }
	END { exit bad }' "$E2E_DIR/log/scrape.1" || e2e_fail "buckets not cumulative"
[ "$(value 1 "${P}store_duration_seconds_bucket{op=\"sender_check\",le=\"+Inf\"}")" = \
  "$(value 1 "${P}store_duration_seconds_count{op=\"sender_check\"}")" ] || e2e_fail "+Inf bucket != count"

# a reload is counted
kill -USR1 "$E2E_MILTER_PID"
t=100
while [ $t -gt 0 ]; do
	scrape 2
	[ "$(value 2 "${P}config_reloads_total{result=\"success\"}")" = 1 ] && break
	sleep 0.1; t=$((t - 1))
done
[ $t -gt 0 ] || e2e_fail "reload not counted"
echo "ok: reload counted"
# a changed metrics.listen waits for the next start (said once), the old
# port keeps serving, and a reload that fails is counted as a failure
NPORT=$(e2e_free_port)
sed -i "s/127.0.0.1:$MPORT/127.0.0.1:$NPORT/" "$CONF"
kill -USR1 "$E2E_MILTER_PID"
e2e_wait_log "metrics.listen changed to \"127.0.0.1:$NPORT\": it takes effect at the next start \(still 127.0.0.1:$MPORT\)" \
	10 "$E2E_MILTER_LOG" || e2e_fail "changed metrics.listen not reported"
sed -i "s/127.0.0.1:$NPORT/0.0.0.0:1/" "$CONF"
kill -USR1 "$E2E_MILTER_PID"
t=100
while [ $t -gt 0 ]; do
	scrape 2
	[ "$(value 2 "${P}config_reloads_total{result=\"failure\"}")" = 1 ] && break
	sleep 0.1; t=$((t - 1))
done
[ $t -gt 0 ] || e2e_fail "failed reload not counted"
[ "$(value 2 "${P}config_reloads_total{result=\"success\"}")" = 2 ] || e2e_fail "second reload not counted"
grep -q 'reload: .*metrics.listen: "0.0.0.0:1" is not a loopback address' "$E2E_MILTER_LOG" ||
	e2e_fail "the failed reload does not say why"
e2e_listening "$NPORT" && e2e_fail "the new port is served before a restart"
echo "ok: metrics.listen change deferred, failed reload counted"
sed -i "s/0.0.0.0:1/127.0.0.1:$MPORT/" "$CONF"	# as the daemon runs it

# only GET /metrics
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/")
[ "$code" = 404 ] || e2e_fail "GET / gave $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d x=1 "$URL")
[ "$code" = 405 ] || e2e_fail "POST /metrics gave $code"
echo "ok: / is 404, POST is 405"

# egressctl stats
"$EGRESSCTL" -c "$CONF" stats >"$E2E_DIR/log/stats.txt" 2>&1 || e2e_fail "egressctl stats: $(cat "$E2E_DIR/log/stats.txt")"
cat "$E2E_DIR/log/stats.txt"
grep -q '^messages: accept 1 tag 0 repair 1 hold 0 tempfail 0 reject 1 (total 3)$' "$E2E_DIR/log/stats.txt" ||
	e2e_fail "stats: messages line"
grep -Eq '^ +1  rfc5322\.from\.duplicate$' "$E2E_DIR/log/stats.txt" || e2e_fail "stats: top findings"
grep -Eq '^  reputation +1  \(0 / 1 / 0\)$' "$E2E_DIR/log/stats.txt" || e2e_fail "stats: bounces"
grep -Eq '^  sender_check +p50 [0-9.]+(us|ms|s)  p99 [0-9.]+(us|ms|s)  \(4 calls, 0 errors\)$' \
	"$E2E_DIR/log/stats.txt" || e2e_fail "stats: store latency"
"$EGRESSCTL" stats --url "$URL" --raw >"$E2E_DIR/log/raw.txt" || e2e_fail "stats --raw"
promtool check metrics <"$E2E_DIR/log/raw.txt" >/dev/null 2>&1 || e2e_fail "stats --raw: not the page"
"$EGRESSCTL" stats --url "http://192.0.2.1:$MPORT/metrics" >/dev/null 2>&1 &&
	e2e_fail "stats talked to a non-loopback address"

# the dashboard names only metrics the page has
sh "$top_srcdir/tests/grafana_dashboard.sh" "$E2E_DIR/log/scrape.1" || e2e_fail "dashboard"
echo "PASS: metrics"
