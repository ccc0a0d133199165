#!/bin/sh
# Bounce classification throughput over the corpus, single thread, and the
# same files through Debian's libsisimai-perl in the same run for a ratio.
# Prints figures, asserts nothing.
#
# usage: bench/dsn_bench.sh [ROUNDS]     (run from the build directory)
rounds=${1:-20}
top_srcdir=${top_srcdir:-$(dirname "$0")/..}
top_builddir=${top_builddir:-.}
files=$(ls "$top_srcdir"/tests/data/dsn/*.eml)
n=$(echo "$files" | wc -l)

echo "== milter-egress (bench/dsn_bench)"
out=$("$top_builddir/bench/dsn_bench" "$top_srcdir/conf/bounce-patterns.conf" "$rounds" $files) || exit 1
echo "$out"
ours=$(echo "$out" | sed -n 's/^parse+classify: \([0-9]*\) messages.*/\1/p')

if perl -MSisimai -e 1 2>/dev/null; then
	echo "== Sisimai $(perl -MSisimai -e 'print $Sisimai::VERSION') (libsisimai-perl), same files"
	theirs=$(perl -MSisimai -MTime::HiRes=time -e '
		my ($rounds, @f) = @ARGV; my ($n, $r) = (0, 0);
		Sisimai->make($_) for @f;	# warm up
		my $t = time;
		for (1 .. $rounds) { for (@f) { my $d = Sisimai->make($_); $r += scalar @{ $d || [] }; $n++ } }
		my $dt = time - $t;
		printf "parse+classify: %.0f messages/s, %.0f recipients/s, %.1f us/message\n",
		    $n / $dt, $r / $dt, $dt * 1e6 / $n;
		' "$rounds" $files)
	echo "$theirs"
	t=$(echo "$theirs" | sed -n 's/^parse+classify: \([0-9]*\) messages.*/\1/p')
	[ -n "$ours" ] && [ -n "$t" ] && [ "$t" -gt 0 ] &&
		echo "ratio: $(awk -v a="$ours" -v b="$t" 'BEGIN { printf "%.1f", a / b }')x messages/s over $n files"
else
	echo "== Sisimai not installed (Debian package libsisimai-perl): no ratio"
fi
