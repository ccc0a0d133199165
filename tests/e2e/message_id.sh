#!/bin/sh
# tests/e2e/message_id.sh - a message without Message-ID (Postfix adds none:
# local_header_rewrite_clients is empty, as for SASL submitters):
#  - action reject: the SMTP client sees the configured 554 reply, nothing
#    is delivered;
#  - action repair (the default): delivered with exactly one Message-ID
#    added and nothing else changed (but the findings header recording it);
#  - an invalid Message-ID (default action repair): replaced, the old value
#    kept in X-Egress-Original-Message-ID; with a DKIM-Signature refused;
#  - mode monitor with action reject: delivered, tagged, not blocked.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"
DATA=$top_srcdir/tests/data/e2e
REPLY="554 5.6.0 Message-ID header missing (RFC 5322 3.6.4)"

e2e_require milter
e2e_up

# reject
e2e_write_milter_config "$E2E_DIR/reject.conf" enforce \
	"{ id = \"rfc5322.message_id.missing\"; action = \"reject\"; reply = \"$REPLY\"; }"
e2e_start_milter "$E2E_DIR/reject.conf"
e2e_send reject "$DATA/no_message_id.eml" && e2e_fail "accepted"
[ "$(e2e_reply reject)" = "$REPLY" ] || e2e_fail "reply was: $(e2e_reply reject)"
e2e_wait_queue_empty 10 || e2e_fail "queue not empty after reject"
[ -z "$(e2e_delivered 'e2e missing Message-ID')" ] || e2e_fail "rejected message delivered"
e2e_stop_milter

# repair (the default action)
e2e_write_milter_config "$E2E_DIR/repair.conf" enforce
e2e_start_milter "$E2E_DIR/repair.conf"
e2e_send repair "$DATA/no_message_id.eml" || e2e_fail "repair: $(e2e_reply repair)"
f=$(e2e_wait_delivered "e2e missing Message-ID") || e2e_fail "repaired message not delivered"
[ "$(e2e_header_count "$f" Message-ID)" -eq 1 ] || e2e_fail "not exactly one Message-ID"
mid=$(e2e_header "$f" Message-ID)
echo "added: Message-ID: $mid"
printf '%s\n' "$mid" | grep -Eq '^<[^<>@ ]+@[^<>@ ]+>$' || e2e_fail "bad Message-ID: $mid"
tag=$(e2e_header "$f" X-Egress-Findings)
[ -n "$tag" ] && echo "added: X-Egress-Findings: $tag"
# apart from the added Message-ID (and the findings header) nothing changed
e2e_strip_transport "$f" | grep -iv '^Message-ID:\|^X-Egress-Findings:' |
	diff -u "$DATA/no_message_id.eml" - || e2e_fail "repair changed more than the Message-ID"
e2e_stop_milter

# an invalid Message-ID is replaced, the old one kept
e2e_start_milter "$E2E_DIR/repair.conf"
e2e_send invalid "$DATA/bad_message_id.eml" || e2e_fail "invalid: $(e2e_reply invalid)"
f=$(e2e_wait_delivered "e2e invalid Message-ID") || e2e_fail "message with a replaced Message-ID not delivered"
[ "$(e2e_header_count "$f" Message-ID)" -eq 1 ] || e2e_fail "not exactly one Message-ID"
mid=$(e2e_header "$f" Message-ID)
old=$(e2e_header "$f" X-Egress-Original-Message-ID)
echo "replaced: Message-ID: $mid (was: $old)"
printf '%s\n' "$mid" | grep -Eq '^<[^<>@ ]+@[^<>@ ]+>$' || e2e_fail "bad Message-ID: $mid"
[ "$old" = "not a msg-id@example.org" ] || e2e_fail "old value not kept: $old"
# signed: refused, the reply says why
{ printf 'DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=s; h=from:message-id; bh=A; b=B\n'
  sed 's/e2e invalid Message-ID/e2e signed invalid Message-ID/' "$DATA/bad_message_id.eml"; } >"$E2E_DIR/signed.eml"
e2e_send signed "$E2E_DIR/signed.eml" && e2e_fail "signed message with an invalid Message-ID passed"
r=$(e2e_reply signed)
echo "signed: $r"
case $r in 554" "*DKIM*) ;; *) e2e_fail "expected 554 naming DKIM, got: $r" ;; esac
e2e_stop_milter

# monitor: would reject, but only tags
e2e_write_milter_config "$E2E_DIR/monitor.conf" monitor \
	"{ id = \"rfc5322.message_id.missing\"; action = \"reject\"; reply = \"$REPLY\"; }"
e2e_start_milter "$E2E_DIR/monitor.conf"
sed 's/e2e missing Message-ID/e2e monitor missing Message-ID/' "$DATA/no_message_id.eml" >"$E2E_DIR/monitor.eml"
e2e_send monitor "$E2E_DIR/monitor.eml" || e2e_fail "monitor mode blocked: $(e2e_reply monitor)"
f=$(e2e_wait_delivered "e2e monitor missing Message-ID") || e2e_fail "monitor: not delivered"
e2e_header "$f" X-Egress-Findings | grep -q 'rfc5322.message_id.missing' ||
	e2e_fail "monitor: no findings header naming the check"
echo "PASS: message_id"
