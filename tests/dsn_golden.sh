#!/bin/sh
# Golden reports: every message under tests/data/dsn (corpus, extra,
# regress, classes) through "egressctl classify --format json", compared with
# tests/data/dsn/reports.want, one JSON object per recipient. A change in
# any extracted field shows up here as a diff.
#
# After an intended change: tests/dsn_golden.sh --update, and review the diff.
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
ctl=$(cd "$top_builddir" && pwd)/egressctl
pat=$(cd "$top_srcdir/conf" && pwd)/bounce-patterns.conf
data="$top_srcdir/tests/data/dsn"
want="$data/reports.want"
out=$(mktemp "${TMPDIR:-/tmp}/dsn-golden.XXXXXX")
trap 'rm -f "$out"' EXIT INT TERM

(cd "$data" && "$ctl" classify --patterns "$pat" --format json \
	$(ls *.eml extra/*.eml regress/*.eml classes/*/*.eml | LC_ALL=C sort)) >"$out" || exit 1
if [ "$1" = "--update" ]; then
	cp "$out" "$want"
	echo "updated $want ($(wc -l <"$want") objects)"
	exit 0
fi
if ! cmp -s "$out" "$want"; then
	diff "$want" "$out" | head -40
	echo "FAIL: reports differ from $want (tests/dsn_golden.sh --update after review)"
	exit 1
fi
echo "$(wc -l <"$want") reports as expected"
