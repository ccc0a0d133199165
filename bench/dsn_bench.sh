#!/bin/sh
# bench/dsn_bench.sh - bounce parsing and classification throughput beside
# Sisimai (Debian package libsisimai-perl) on the same files, in the same
# run. Prints figures, asserts nothing.
#
#   bench/dsn_bench.sh [ROUNDS]      (run from the build directory)
#
# The files are every tests/data/dsn/*.eml and tests/data/dsn/extra/*.eml.
#   process   one `egressctl classify` over the files repeated ROUNDS times
#             (start-up, pattern loading, reading the files and printing
#             included), against one perl process running Sisimai->make
#             over the same list (perl and module start-up included);
#   in-process bench/dsn_bench (the files in memory, parse + classify) against
#             Sisimai->make in one warmed-up perl process.
# The figures are files/s; the ratios are ours over Sisimai's.
rounds=${1:-10}
top_srcdir=${top_srcdir:-$(dirname "$0")/..}
top_builddir=${top_builddir:-.}
files=$(ls "$top_srcdir"/tests/data/dsn/*.eml "$top_srcdir"/tests/data/dsn/extra/*.eml)
n=$(echo "$files" | wc -l)
patterns=$top_srcdir/conf/bounce-patterns.conf
have_sisimai=0
perl -MSisimai -e 1 2>/dev/null && have_sisimai=1

now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "-" }'; }

list=$(mktemp "${TMPDIR:-/tmp}/dsn_bench.XXXXXX")
trap 'rm -f "$list"' EXIT
r=0
while [ $r -lt "$rounds" ]; do echo "$files" >>"$list"; r=$((r + 1)); done
total=$((n * rounds))

echo "== $n files x $rounds rounds ($total classifications)"
echo "-- process: one run over all of them, start-up included"
# warm the page cache for both
"$top_builddir/egressctl" classify --patterns "$patterns" $files >/dev/null 2>&1
t0=$(now)
xargs "$top_builddir/egressctl" classify --patterns "$patterns" <"$list" >/dev/null 2>&1
t1=$(now)
ours=$(rate "$total" "$t0" "$t1")
echo "egressctl classify: $ours files/s"
if [ $have_sisimai = 1 ]; then
	perl "$top_srcdir/bench/sisimai_bench.pl" $files >/dev/null 2>&1
	t0=$(now)
	xargs perl "$top_srcdir/bench/sisimai_bench.pl" <"$list" >/dev/null 2>&1
	t1=$(now)
	theirs=$(rate "$total" "$t0" "$t1")
	echo "Sisimai $(perl -MSisimai -e 'print $Sisimai::VERSION'): $theirs files/s"
	echo "ratio (process): $(ratio "$ours" "$theirs")x"
fi

echo "-- in-process: files in memory, warmed up"
out=$("$top_builddir/bench/dsn_bench" "$patterns" "$rounds" $files) || exit 1
echo "$out"
ours=$(echo "$out" | sed -n 's/^parse+classify: \([0-9]*\) messages.*/\1/p')
if [ $have_sisimai = 1 ]; then
	theirs=$(perl "$top_srcdir/bench/sisimai_bench.pl" -r "$rounds" $files)
	echo "Sisimai: $theirs"
	t=$(echo "$theirs" | sed -n 's/^parse+classify: \([0-9]*\) messages.*/\1/p')
	echo "ratio (in-process): $(ratio "$ours" "$t")x"
else
	echo "== Sisimai not installed (Debian package libsisimai-perl): no ratio"
fi
