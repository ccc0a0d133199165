#!/bin/sh
# tests/dsn_textonly.sh - the notice's text alone: every labelled bounce
# with a delivery-status part (tests/data/dsn/*.eml) is read again with
# that part removed (tests/dsn_textonly.py), and the failed recipients,
# final/temporary and reasons the text gives are set beside those of the
# full report. These notices are the real ones of many MTAs, so the
# figures say how text-only bounces of the same systems will read. A
# difference is not always a fault: the anonymised test messages often
# name one address in the report and another in the text, and many
# notices name no recipient or no cause at all. Fails below the floors
# (DSN_TEXTONLY_PRECISION, _RECALL, _PERMANENT). Then the same text-alone
# notices once more with their returned message quoted in the text
# instead of attached (after a separator line, and after none): these
# must read as the attached ones (floors DSN_INLINE_PRECISION, _RECALL,
# _PERMANENT). Last, each notice with one failed recipient lists a second
# one the same way; both must read alike (floor DSN_SECOND_AGREE percent).
# Needs python3 (skipped without).
#
# usage: tests/dsn_textonly.sh            (top_srcdir/top_builddir from make)
name=dsn_textonly
. "${top_srcdir:-.}/tests/dsn_py.sh"
rc=0
mkdir "$work/text" || exit 1
# shellcheck disable=SC2086
python3 "$py" strip "$work/text" "$data"/*.eml || { echo "FAIL: strip"; exit 1; }
set -- "$work/text"/*.eml
[ -e "$1" ] || { echo "FAIL: no message had a delivery-status part"; exit 1; }
full=
for f in "$@"; do full="$full $data/$(basename "$f")"; done
# shellcheck disable=SC2086
"$egressctl" classify --format json --patterns "$pat" $full >"$work/full.json" ||
	{ echo "FAIL: egressctl classify"; exit 1; }
"$egressctl" classify --format json --patterns "$pat" "$@" >"$work/text.json" ||
	{ echo "FAIL: egressctl classify (text alone)"; exit 1; }
echo "== the corpus without its delivery-status parts"
python3 "$py" compare "$work/full.json" "$work/text.json" \
	"${DSN_TEXTONLY_PRECISION:-0.93}" "${DSN_TEXTONLY_RECALL:-0.86}" \
	"${DSN_TEXTONLY_PERMANENT:-99}" || rc=1
#
# The same notices with the returned message quoted in the text after
# them instead of attached, after qmail's separator line and after none:
# they must read as the attached ones do (the reference is now the text
# alone), none of the copy's addresses or header words taken for the
# notice's.
for sep in "--- Below this line is a copy of the message." ""; do
	rm -rf "$work/inline" && mkdir "$work/inline" || exit 1
	python3 "$py" inline "$work/inline" "$sep" "$@" ||
		{ echo "FAIL: inline"; exit 1; }
	set -- "$work/inline"/*.eml
	[ -e "$1" ] || { echo "FAIL: no notice with a returned message"; exit 1; }
	att=
	for f in "$@"; do att="$att $work/text/$(basename "$f")"; done
	# shellcheck disable=SC2086
	"$egressctl" classify --format json --patterns "$pat" $att \
		>"$work/att.json" || { echo "FAIL: egressctl classify"; exit 1; }
	"$egressctl" classify --format json --patterns "$pat" "$@" \
		>"$work/inl.json" || { echo "FAIL: egressctl classify (inline)"; exit 1; }
	echo "== the returned message quoted after ${sep:-no separator line}"
	python3 "$py" compare "$work/att.json" "$work/inl.json" \
		"${DSN_INLINE_PRECISION:-0.97}" "${DSN_INLINE_RECALL:-0.98}" \
		"${DSN_INLINE_PERMANENT:-99}" || rc=1
	set -- "$work/text"/*.eml
done
#
# A second recipient like the first: each text-alone notice with one
# failed recipient gets the paragraph naming it twice, the second time for
# another address, as notices list several; both must read alike.
mkdir "$work/second" || exit 1
python3 "$py" second "$work/text.json" "$work/second" ||
	{ echo "FAIL: second"; exit 1; }
set -- "$work/second"/*.eml
[ -e "$1" ] || { echo "FAIL: no notice to write twice"; exit 1; }
"$egressctl" classify --format json --patterns "$pat" "$@" >"$work/second.json" ||
	{ echo "FAIL: egressctl classify (second recipient)"; exit 1; }
echo "== a second recipient like the first"
python3 "$py" compare-second "$work/second/expect.json" "$work/second.json" \
	"${DSN_SECOND_AGREE:-95}" || rc=1
exit $rc
