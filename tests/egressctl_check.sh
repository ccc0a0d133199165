#!/bin/sh
# egressctl_check.sh - egressctl check on files as people keep them:
# LF-only files are read as CRLF (said once on stderr, no body.bare_lf),
# and the exit status follows what the daemon would do: a bounce (null
# sender) is passed on whatever its findings, so it exits 0.
set -u
builddir=${top_builddir:-.}
srcdir=${top_srcdir:-..}
ctl=$builddir/egressctl
[ -x "$ctl" ] || { echo "SKIP: egressctl not built"; exit 77; }
tmp=$(mktemp -d /tmp/egress-check-XXXXXX) || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }
conf=$tmp/empty.conf
: >"$conf"
data=$srcdir/tests/data/e2e

# an LF-only file: read as CRLF
out=$("$ctl" -c "$conf" check "$data/clean.eml" 2>"$tmp/err"); st=$?
echo "$out"; cat "$tmp/err"
[ "$st" -eq 0 ] || fail "clean LF file: exit $st"
grep -q 'LF line ends only' "$tmp/err" || fail "no note about LF line ends"
printf '%s\n' "$out" | grep -q 'body\.bare_lf' && fail "LF file reported as bare LF"
# the same file with CRLF: no note, same verdict
sed 's/$/\r/' "$data/clean.eml" >"$tmp/crlf.eml"
"$ctl" -c "$conf" check "$tmp/crlf.eml" >/dev/null 2>"$tmp/err2" || fail "CRLF copy refused"
[ -s "$tmp/err2" ] && fail "note printed for a CRLF file: $(cat "$tmp/err2")"
# a mixed file keeps its bare LF finding
{ printf 'From: a@example.org\r\nDate: Wed, 02 Dec 2026 10:00:00 +0000\r\n'
  printf 'Message-ID: <m@example.org>\r\n\r\nbare\nthen crlf\r\n'; } >"$tmp/mixed.eml"
"$ctl" -c "$conf" check "$tmp/mixed.eml" 2>/dev/null | grep -q 'body\.bare_lf' ||
	fail "bare LF in a CRLF file not reported"

# an mbox file: the "From " line is skipped, said once
{ printf 'From sender@example.org Wed Dec  2 10:00:00 2026\n'; cat "$data/clean.eml"; } >"$tmp/mbox.eml"
out=$("$ctl" -c "$conf" check "$tmp/mbox.eml" 2>"$tmp/err3"); st=$?
[ "$st" -eq 0 ] || fail "mbox file: exit $st: $out"
grep -q 'mbox "From " line skipped' "$tmp/err3" || fail "no note about the mbox line"
printf '%s\n' "$out" | grep -q 'header.name.invalid' && fail "mbox line read as a field"

# exit status: refused from a sender, passed on as a bounce
"$ctl" -c "$conf" check "$data/double_extension.eml" >/dev/null 2>&1; st=$?
[ "$st" -eq 1 ] || fail "double extension from a sender: exit $st, want 1"
out=$("$ctl" -c "$conf" check --from "" "$data/double_extension.eml" 2>/dev/null); st=$?
echo "$out" | head -1
[ "$st" -eq 0 ] || fail "the same as a bounce: exit $st, want 0"
printf '%s\n' "$out" | head -1 | grep -q 'would=reject .*bounce' || fail "bounce verdict not shown"
echo "PASS: egressctl_check"
