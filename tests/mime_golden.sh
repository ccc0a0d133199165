#!/bin/sh
# Golden files for the MIME parser: tests/data/mime/NAME.eml must dump as
# NAME.want (options from NAME.opts) at every chunk size. Then every bounce
# of the DSN corpus must parse at chunk sizes 1 and 4096 to identical dumps.
# Regenerate a golden file after a deliberate change with:
#   tests/mime_dump $(cat NAME.opts) NAME.eml > NAME.want
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
dump="$top_builddir/tests/mime_dump"
data="$top_srcdir/tests/data/mime"
tmp=$(mktemp) || exit 99
trap 'rm -f "$tmp"' EXIT
fail=0 n=0

for eml in "$data"/*.eml; do
	name=${eml%.eml}
	[ -f "$name.want" ] || { echo "missing $name.want"; fail=1; continue; }
	opts=$(cat "$name.opts" 2>/dev/null || true)
	for c in 0 1 2 3 7 64 4096; do
		# shellcheck disable=SC2086
		if ! "$dump" $opts -c "$c" "$eml" > "$tmp"; then
			echo "FAIL $(basename "$eml") chunk $c: dump failed"
			fail=1
		elif ! cmp -s "$tmp" "$name.want"; then
			echo "FAIL $(basename "$eml") chunk $c:"
			diff -u "$name.want" "$tmp" | head -20
			fail=1
		fi
		n=$((n + 1))
	done
done
echo "golden: $n runs"

# The bounce corpus: the project copy if present, else the shared one.
corpus=
for d in "$top_srcdir/tests/data/dsn" "$top_srcdir/../shared/corpus/dsn"; do
	if ls "$d"/*.eml >/dev/null 2>&1; then corpus=$d; break; fi
done
if [ -z "$corpus" ]; then
	echo "SKIP corpus: no DSN corpus found"
else
	m=0
	for eml in "$corpus"/*.eml; do
		# -a compares chunk sizes 1, 2, 3, 7, 64 and 4096 with the whole
		if ! "$dump" -a "$eml"; then
			echo "FAIL corpus $(basename "$eml")"
			fail=1
		fi
		m=$((m + 1))
	done
	echo "corpus: $m messages from $corpus"
fi
exit $fail
