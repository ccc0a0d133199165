#!/bin/sh
# tests/dsn_variants.sh - a bounce read twice must read the same: every
# labelled and class message (tests/data/dsn) is rewritten in ways that
# change nothing a reader may rely on (tests/dsn_variants.py: CRLF line
# ends, header names in lower and upper case, the notice re-encoded as
# base64 and as quoted-printable, indentation by tabs, another MIME
# boundary, the returned message cut to its headers, an RFC 2047 Subject,
# and more: see the list in tests/dsn_variants.py) and "egressctl
# classify --format json" must report the same recipients, actions,
# codes, reasons, diagnostics and fields for each. Held-out
# bounces of the same families differ from ours in exactly such ways.
# Fails on any difference, printing it. Needs python3 (skipped without).
#
# usage: tests/dsn_variants.sh            (top_srcdir/top_builddir from make)
name=dsn_variants
. "${top_srcdir:-.}/tests/dsn_py.sh"
files=$(ls "$data"/*.eml "$data"/extra/*.eml "$data"/regress/*.eml \
	"$data"/classes/*/*.eml | LC_ALL=C sort)
# shellcheck disable=SC2086
"$egressctl" classify --format json --patterns "$pat" $files \
	>"$work/base.json" || { echo "FAIL: egressctl classify"; exit 1; }
fails=0
for v in $(python3 "$py" --list); do
	mkdir "$work/$v" || exit 1
	# shellcheck disable=SC2086
	python3 "$py" "$work/$v" "$v" $files || { echo "FAIL: $v: rewrite"; exit 1; }
	set -- "$work/$v"/*.eml
	[ -e "$1" ] || { echo "FAIL: $v rewrote no file"; fails=$((fails + 1)); continue; }
	"$egressctl" classify --format json --patterns "$pat" "$@" \
		>"$work/$v.json" || { echo "FAIL: $v: egressctl classify"; exit 1; }
	python3 "$py" --compare "$work/base.json" "$work/$v.json" "$v" ||
		fails=$((fails + 1))
done
[ "$fails" -eq 0 ] || { echo "FAIL: $fails variants read differently"; exit 1; }
echo "PASS: every variant reads the same"
