#!/bin/sh
# store_crash.sh - kill -9 a process writing to the LMDB store, repeatedly;
# after every kill the store must open consistently and every suppression
# the writer acknowledged (printed after store_supp_put returned) must be
# there. ROUNDS (default 12) sets the repetitions.
set -u
builddir=${top_builddir:-.}
writer=$builddir/tests/store_crash_writer
[ -x "$writer" ] || { echo "SKIP: $writer not built"; exit 77; }
rounds=${ROUNDS:-12}
dir=$(mktemp -d /tmp/egress-crash-XXXXXX) || exit 99
trap 'rm -rf "$dir"' EXIT INT TERM
acked=$dir/acked
: >"$acked"
i=0
while [ "$i" -lt "$rounds" ]; do
	"$writer" write "$dir/db" $((i * 1000000)) >>"$acked" 2>"$dir/err" &
	pid=$!
	# let it write for 100..600 ms, a different moment every round
	sleep "0.$(( (i * 37) % 5 + 1 ))"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	out=$("$writer" verify "$dir/db" "$acked") || {
		echo "FAIL round $i: $out"
		cat "$dir/err"
		exit 1
	}
	echo "round $i: $out"
	i=$((i + 1))
done
n=$(grep -c . "$acked")
[ "$n" -gt 0 ] || { echo "FAIL: the writer acknowledged nothing"; exit 1; }
echo "ok: $rounds kills, $n acknowledged suppressions intact"
