#!/bin/sh
# egressctl_stats.sh - egressctl stats without the daemon: the page of a
# stand-in HTTP server on loopback (the page tests/metrics_page writes,
# then a hostile one) is summarised, --raw passes it through; no
# metrics.listen, a non-loopback URL, a closed port and an HTTP error each
# exit with their documented status and say why.
set -u
builddir=${top_builddir:-.}
srcdir=${top_srcdir:-..}
ctl=$builddir/egressctl
[ -x "$ctl" ] || { echo "SKIP: egressctl not built"; exit 77; }
command -v python3 >/dev/null 2>&1 || {
	[ "${EGRESS_TESTS_REQUIRED:-0}" = 1 ] && { echo "FAIL: python3 missing"; exit 1; }
	echo "SKIP: python3 missing"; exit 77; }
tmp=$(mktemp -d /tmp/egress-stats-XXXXXX) || exit 99
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }

# no metrics.listen: 78, and the way out
: >"$tmp/empty.conf"
"$ctl" -c "$tmp/empty.conf" stats >/dev/null 2>"$tmp/err"; st=$?
[ "$st" -eq 78 ] || fail "no metrics.listen: exit $st"
grep -q 'metrics are off (metrics.listen is not set in' "$tmp/err" || fail "no reason: $(cat "$tmp/err")"
# not loopback, not http: 64 before any connection
"$ctl" stats --url http://192.0.2.1:9464/metrics >/dev/null 2>"$tmp/err"; st=$?
[ "$st" -eq 64 ] && grep -q 'not a loopback address' "$tmp/err" || fail "remote URL: exit $st $(cat "$tmp/err")"
"$ctl" stats --url https://127.0.0.1:9464/metrics >/dev/null 2>&1; st=$?
[ "$st" -eq 64 ] || fail "https URL: exit $st"

# a stand-in server: serves $tmp/www on a port of its choosing (written to
# $tmp/port once it listens)
mkdir "$tmp/www"
"$builddir/tests/metrics_page" >"$tmp/www/metrics" || fail "metrics_page"
python3 - "$tmp/www" "$tmp/port" <<'PY' >"$tmp/server.log" 2>&1 &
import functools, http.server, os, sys
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
srv = http.server.HTTPServer(("127.0.0.1", 0), handler)
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
srv.serve_forever()
PY
server=$!
t=100
while [ $t -gt 0 ] && [ ! -s "$tmp/port" ]; do
	kill -0 "$server" 2>/dev/null || fail "stand-in server died: $(cat "$tmp/server.log")"
	sleep 0.1; t=$((t - 1))
done
[ -s "$tmp/port" ] || fail "stand-in server did not start"
port=$(cat "$tmp/port")
url=http://127.0.0.1:$port/metrics

"$ctl" stats --url "$url" >"$tmp/out" 2>"$tmp/err" || fail "stats: $(cat "$tmp/err")"
cat "$tmp/out"
grep -q '^milter-egress test: 1 session(s) active; reloads 0 ok, 0 failed$' "$tmp/out" || fail "header line"
grep -q '^messages: accept 0 tag 0 repair 0 hold 0 tempfail 0 reject 1 (total 1)$' "$tmp/out" || fail "messages"
grep -Eq '^  reputation +1  \(0 / 0 / 1\)$' "$tmp/out" || fail "bounces"
grep -Eq '^  sender_check +p50 [0-9]+us  p99 [0-9]+us  \(1 calls, 0 errors\)$' "$tmp/out" || fail "store"
"$ctl" stats --url "$url" --raw | cmp -s - "$tmp/www/metrics" || fail "--raw differs from the page"
# the same through the config's metrics.listen
printf 'metrics = { listen = "127.0.0.1:%s"; };\n' "$port" >"$tmp/m.conf"
"$ctl" -c "$tmp/m.conf" stats | cmp -s - "$tmp/out" || fail "-c CONF gives another summary"
"$ctl" stats -c "$tmp/m.conf" | cmp -s - "$tmp/out" || fail "stats -c CONF gives another summary"

# a hostile page: control bytes escaped, malformed lines counted, no crash
printf 'milter_egress_build_info{version="\033[2J"} 1\nmilter_egress_findings_total{check="x\\n\033"} 7\n{{{\n' \
	>"$tmp/www/metrics"
"$ctl" stats --url "$url" >"$tmp/out" 2>"$tmp/err" || fail "hostile page: $(cat "$tmp/err")"
grep -q "$(printf '\033')" "$tmp/out" && fail "ESC printed raw"
grep -q '^milter-egress \\x1b\[2J;' "$tmp/out" || fail "version not escaped: $(cat "$tmp/out")"
grep -q '(1 malformed line(s) ignored)' "$tmp/out" || fail "malformed line not counted"
# a page without our metrics: 65; a missing path (404): 70
echo 'up 1' >"$tmp/www/metrics"
"$ctl" stats --url "$url" >/dev/null 2>&1; st=$?
[ "$st" -eq 65 ] || fail "foreign page: exit $st"
"$ctl" stats --url "http://127.0.0.1:$port/nope" >/dev/null 2>"$tmp/err"; st=$?
[ "$st" -eq 70 ] && grep -q 'HTTP status 404' "$tmp/err" || fail "404: exit $st $(cat "$tmp/err")"
# nobody listening: 70 and why
kill "$server"; wait "$server" 2>/dev/null; server=
"$ctl" stats --url "$url" >/dev/null 2>"$tmp/err"; st=$?
[ "$st" -eq 70 ] && grep -q 'cannot connect to' "$tmp/err" || fail "closed port: exit $st $(cat "$tmp/err")"
echo "PASS: egressctl_stats"
