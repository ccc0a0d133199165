#!/bin/sh
# tests/e2e/long_line.sh - a 1,200-octet body line (RFC 5322 allows 998).
# Postfix hands it to the milter whole (POSTFIX.md), so the check fires:
#  - default action repair: the part is re-encoded as quoted-printable
#    (smfi_replacebody); delivered with no line over 998 octets, and its
#    content decodes to exactly the original;
#  - the same message with a DKIM-Signature cannot be re-encoded: refused
#    with a 5xx reply that says why;
#  - action reject: refused; action tag: delivered as it was, and
#    Postfix's SMTP client then folds the line itself on the way out
#    (smtp_line_length_limit = 998), which the test records.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"
DATA=$top_srcdir/tests/data/e2e
DUMP=$top_builddir/tests/mime_dump

e2e_require milter
[ -x "$DUMP" ] || e2e_skip "tests/mime_dump not built"
e2e_up

longest() { tr -d '\r' <"$1" | awk 'length > m { m = length } END { print m + 0 }'; }
# the decoded content of every part: size and hash
content() { tr -d '\r' <"$1" >"$1.lf" && "$DUMP" -n "$1.lf" | sed -n 's/^end \([0-9]*\) size=\([0-9]*\) .*fnv=\([0-9a-f]*\).*/\1 \2 \3/p'; }

e2e_write_milter_config "$E2E_DIR/repair.conf" enforce
e2e_start_milter "$E2E_DIR/repair.conf"
e2e_send repair "$DATA/long_line.eml" || e2e_fail "repair: $(e2e_reply repair)"
f=$(e2e_wait_delivered "e2e over-long line") || e2e_fail "repaired message not delivered"
echo "repair: Content-Transfer-Encoding: $(e2e_header "$f" Content-Transfer-Encoding)"
e2e_header "$f" Content-Transfer-Encoding | grep -qi 'quoted-printable' ||
	e2e_fail "the repaired message does not say quoted-printable"
n=$(longest "$f")
echo "repair: longest delivered line: $n octets"
[ "$n" -le 998 ] || e2e_fail "repaired message has a line of $n octets"
cp "$DATA/long_line.eml" "$E2E_DIR/orig.eml"
was=$(content "$E2E_DIR/orig.eml")
# the sink ends what it captured with one more line end
tr -d '\r' <"$f" | sed '$ { /^$/d; }' >"$E2E_DIR/got.eml"
now=$(content "$E2E_DIR/got.eml")
echo "repair: decoded before: $was / after: $now"
[ -n "$was" ] && [ "$was" = "$now" ] || e2e_fail "the repaired content decodes differently"
e2e_wait_log 'repaired: 1 part' 5 "$E2E_MILTER_LOG" || e2e_fail "milter log does not say it repaired"

e2e_send signed "$DATA/long_line_dkim.eml" && e2e_fail "a DKIM-signed message was modified or passed"
r=$(e2e_reply signed)
echo "signed: $r"
case $r in 554" "*DKIM*) ;; *) e2e_fail "expected 554 naming DKIM, got: $r" ;; esac
e2e_wait_log 'body\.line_too_long_unrepairable' 5 "$E2E_MILTER_LOG" ||
	e2e_fail "milter log does not name the unrepairable check"
e2e_stop_milter

e2e_write_milter_config "$E2E_DIR/reject.conf" enforce \
	'{ id = "body.line_too_long"; action = "reject"; }'
e2e_start_milter "$E2E_DIR/reject.conf"
e2e_send reject "$DATA/long_line.eml" && e2e_fail "accepted with action reject"
r=$(e2e_reply reject)
echo "reject: $r"
case $r in 5[0-9][0-9]" "*) ;; *) e2e_fail "expected 5xx, got: $r" ;; esac
e2e_stop_milter

rm -rf "$E2E_DIR/sink"/* 2>/dev/null
e2e_write_milter_config "$E2E_DIR/tag.conf" enforce \
	'{ id = "body.line_too_long"; action = "tag"; }'
e2e_start_milter "$E2E_DIR/tag.conf"
e2e_send tag "$DATA/long_line.eml" || e2e_fail "tag: $(e2e_reply tag)"
f=$(e2e_wait_delivered "e2e over-long line") || e2e_fail "tagged message not delivered"
tag=$(e2e_header "$f" X-Egress-Findings)
echo "tag: X-Egress-Findings: $tag"
printf '%s\n' "$tag" | grep -q 'body\.line_too_long' || e2e_fail "tag does not name body.line_too_long"
# what left Postfix: no line over 998 octets any more (the SMTP client folded it)
n=$(longest "$f")
echo "tag: longest delivered line: $n octets (folded by Postfix)"
[ "$n" -le 998 ] || e2e_fail "Postfix delivered a line of $n octets"
echo "PASS: long_line"
