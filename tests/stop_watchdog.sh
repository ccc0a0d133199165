#!/bin/sh
# stop_watchdog.sh - when libmilter has stopped but smfi_main() does not
# return (its worker pool can hang its own shutdown under load), the
# daemon's watchdog finishes the shutdown itself: "stopped" is logged,
# the socket and the pid file are removed and the exit status is 0.
#
# The hang is injected with LD_PRELOAD (tests/data/milter/hang_smfi_main.c
# wraps the real smfi_main() and never returns after it); the daemon and
# libmilter are the real ones. Waits are bounded polls on a condition,
# never fixed sleeps; the watchdog takes SMFI_MAIN_RETURN_MAX (10 s).
set -u

top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
bin=$top_builddir/milter-egress

skip() {
	if [ "${EGRESS_TESTS_REQUIRED:-0}" = 1 ]; then
		echo "FAIL: required but cannot run: $*"; exit 1
	fi
	echo "SKIP: $*"; exit 77
}
[ -x "$bin" ] || skip "$bin not built"
cc=${CC:-cc}
command -v "$cc" >/dev/null 2>&1 || skip "no C compiler to build the shim"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/egress-wd.XXXXXX") || exit 99
pid=
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# no sanitizer flags: the shim only forwards and waits
"$cc" -shared -fPIC -o "$tmp/hang.so" \
	"$top_srcdir/tests/data/milter/hang_smfi_main.c" || exit 99
printf 'milter = {\n  socket = "unix:%s/m.sock";\n  pidfile = "%s/m.pid";\n};\nstore = { enabled = false; };\n' \
	"$tmp" "$tmp" >"$tmp/m.conf"

# ASan wants its runtime first; the shim comes before it here
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
LD_PRELOAD="$tmp/hang.so" "$bin" -f -c "$tmp/m.conf" >"$tmp/log" 2>&1 &
pid=$!

t=600	# 60 s for the pid file
while [ $t -gt 0 ] && [ ! -s "$tmp/m.pid" ]; do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1; t=$((t - 1))
done
[ -s "$tmp/m.pid" ] || { cat "$tmp/log"; echo "FAIL: the daemon did not start"; exit 1; }
kill -TERM "$pid"
t=1200	# 120 s for the watchdog (10 s) on a loaded machine
while [ $t -gt 0 ] && kill -0 "$pid" 2>/dev/null; do
	sleep 0.1; t=$((t - 1))
done
if kill -0 "$pid" 2>/dev/null; then
	cat "$tmp/log"; echo "FAIL: still running 120 s after SIGTERM"; exit 1
fi
wait "$pid"; st=$?
pid=
cat "$tmp/log"
fail=0
[ "$st" = 0 ] || { echo "not ok - exit status $st"; fail=1; }
grep -q 'has not returned .* finishing without it' "$tmp/log" ||
	{ echo "not ok - no watchdog line"; fail=1; }
grep -q ': stopped$' "$tmp/log" || { echo "not ok - no 'stopped' line"; fail=1; }
[ -e "$tmp/m.sock" ] && { echo "not ok - socket left behind"; fail=1; }
[ -e "$tmp/m.pid" ] && { echo "not ok - pid file left behind"; fail=1; }
[ $fail = 0 ] && echo "PASS: stop_watchdog"
exit $fail
