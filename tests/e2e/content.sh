#!/bin/sh
# tests/e2e/content.sh - risky content behind the real Postfix:
#  - a message with a bit.ly link is delivered tagged: content.url.shortener
#    scores 3, the tag threshold is 3, so X-Egress-Findings lists it;
#  - a message with the attachment invoice.pdf.exe is rejected at end of DATA
#    with attachment.double_extension's 554 5.7.1 reply seen by the client
#    (the name also fires attachment.extension and the MZ content
#    attachment.executable, which reject too: the more specific finding's
#    reply decides), and nothing is delivered.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"
DATA=$top_srcdir/tests/data/e2e
DOUBLE_REPLY="554 5.7.1 Attachment with a disguised (double) extension not accepted"

e2e_require milter
e2e_up

# milter_conf FILE [CHECK_LINES...]: enforce, the shipped shortener list
milter_conf() {
	e2e_write_milter_config "$@"
	printf 'content = {\n  shorteners_file = "%s";\n};\n' \
		"$top_srcdir/conf/shorteners.txt" >>"$1"
}

milter_conf "$E2E_DIR/default.conf" enforce
e2e_start_milter "$E2E_DIR/default.conf"

# a shortened link: tagged, delivered
e2e_send short "$DATA/shortener.eml" || e2e_fail "shortener: refused: $(e2e_reply short)"
f=$(e2e_wait_delivered "e2e shortened link") || e2e_fail "shortener: not delivered"
tag=$(e2e_header "$f" X-Egress-Findings)
echo "delivered with X-Egress-Findings: $tag"
[ "$(e2e_header_count "$f" X-Egress-Findings)" -eq 1 ] || e2e_fail "not exactly one X-Egress-Findings"
case $tag in *"content.url.shortener(3)"*"score=3; action=tag"*) ;;
*) e2e_fail "findings header does not list content.url.shortener(3) with score 3: $tag" ;; esac
grep -q 'findings=content.url.shortener(bit.ly) score=3 action=tag' "$E2E_MILTER_LOG" ||
	e2e_fail "verdict not logged"
e2e_strip_transport "$f" | grep -v '^X-Egress-Findings:' | diff -u "$DATA/shortener.eml" - ||
	e2e_fail "tagging changed more than the findings header"

# a double extension: rejected at end of DATA with its own 554 reply
e2e_send double "$DATA/double_extension.eml" && e2e_fail "double extension accepted"
r=$(e2e_reply double)
echo "invoice.pdf.exe: $r"
[ "$r" = "$DOUBLE_REPLY" ] || e2e_fail "double extension reply: $r"
grep -q '^ -> \.$' "$E2E_DIR/log/swaks.double" || e2e_fail "refused before the end of DATA"
grep 'findings=' "$E2E_MILTER_LOG" | grep 'attachment.double_extension(invoice.pdf.exe)' |
	grep -q "action=reject reply=\"$DOUBLE_REPLY\"" || e2e_fail "rejection not logged"

e2e_wait_queue_empty 10 || e2e_fail "queue not empty"
[ -z "$(e2e_delivered 'e2e invoice attached')" ] || e2e_fail "rejected message delivered"
[ "$(ls "$E2E_DIR/sink" | wc -l)" -eq 1 ] || e2e_fail "expected 1 delivery, got $(ls "$E2E_DIR/sink" | wc -l)"
echo "PASS: content"
