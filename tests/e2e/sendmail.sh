#!/bin/sh
# tests/e2e/sendmail.sh - milter-egress behind a real Sendmail (8.17, the
# Debian package unpacked into a private root: tests/e2e/sendmail_lib.sh),
# configured with the INPUT_MAIL_FILTER line of the README (F=T, timeouts),
# relaying everything to an smtp-sink on loopback. Shown over SMTP:
#  1. a clean message is delivered unchanged (apart from Received: fields),
#     and the milter logged it under Sendmail's queue id: the "i" macro of
#     Sendmail's default Milter.macros.envfrom reached the milter;
#  2. a duplicate From is refused with 554 5.6.0 at the client;
#  3. repairs reach the delivered copy: a missing Message-ID is added by the
#     milter (not Sendmail's own at delivery), and a 1,200-octet line is
#     re-encoded as quoted-printable, decoding to the original (also with
#     400 such lines, a body Sendmail passes in several 64 KiB chunks);
#  4. a suppressed recipient is refused at RCPT TO, not after DATA:
#     Sendmail has a queue id at MAIL in every SMTP session, which must not
#     make the milter treat the session as Postfix's non-SMTP path;
#  5. with the milter stopped, F=T makes Sendmail answer 4xx (nothing
#     lost: the same message is delivered once the milter is back);
#  6. a Sendmail-style DSN (MAIL FROM:<>, multipart/report) is accepted and
#     classified: the milter's bounce line shows reason and category;
#  7. the client address reaches the milter through "_" (Sendmail's default
#     connect macros have no {client_addr}): an exemption for 127.0.0.1
#     lets the message of step 2 through;
#  8. control: with the check set to tag, Sendmail itself breaks a line
#     over its relay mailer's L=2040 at delivery ("!" and a line end);
#  9. local programs: `sendmail -t` through Sendmail's MSP (submit.cf,
#     queue in clientmqueue as user smmsp, created when missing) reaches
#     the milter over SMTP with the Date and Message-Id the MSP added; a
#     refused submission comes back as the MSP's DSN, accepted and
#     classified;
# 10. action hold: Sendmail quarantines the message (queue file hf*, with
#     the reason), delivers it once released with -Q and a queue run;
# 11. a bare LF or bare CR in the body: Sendmail itself answers 421 4.5.0,
#     the milter never sees it.
# Prints how long the whole run took.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/sendmail_lib.sh"
DATA=$top_srcdir/tests/data/e2e
DUMP=$top_builddir/tests/mime_dump
t0=$(date +%s.%N)

sm_require
[ -x "$DUMP" ] || e2e_skip "tests/mime_dump not built"
[ -n "${EGRESSCTL:-}" ] || e2e_skip "egressctl not built"
sm_up
CONF=$E2E_DIR/milter.conf
e2e_write_milter_config "$CONF" enforce
e2e_start_milter "$CONF"
sm_write_config
sm_start
echo "sendmail $(cat "$SM_ROOT/VERSION" 2>/dev/null) on 127.0.0.1:$SM_PORT, sink on $E2E_SINK_PORT"

# 1. clean
sm_send clean "$DATA/clean.eml" || e2e_fail "clean: $(e2e_reply clean)"
case $(e2e_reply clean) in 250" "*) ;; *) e2e_fail "clean: $(e2e_reply clean)" ;; esac
qid=$(sm_queue_id clean)
[ -n "$qid" ] || e2e_fail "clean: no queue id in the reply to DATA"
f=$(e2e_wait_delivered "e2e clean message") || e2e_fail "clean: not delivered"
e2e_strip_transport "$f" | diff -u "$DATA/clean.eml" - || e2e_fail "clean: message changed"
grep -q "by $SM_HOST (8\.[0-9.]*/[0-9.]*) with ESMTP id $qid" "$f" ||
	e2e_fail "clean: delivered copy is not Sendmail's $qid"
e2e_wait_log "^([0-9T:.+-]+ )?milter-egress\[[0-9]*\]: $qid: sender=<sender@example.org> nrcpt=1 findings=none .*action=accept" \
	5 "$E2E_MILTER_LOG" || e2e_fail "clean: no accept line under queue id $qid"
echo "1. clean: delivered unchanged, milter logged it as $qid"

# 2. duplicate From
sm_send dup "$DATA/dup_from.eml" && e2e_fail "dup: accepted"
r=$(e2e_reply dup)
case $r in "554 5.6.0 "*) ;; *) e2e_fail "dup: expected 554 5.6.0, got: $r" ;; esac
grep -q '^ -> \.$' "$E2E_DIR/log/swaks.dup" || e2e_fail "dup: refused before the end of data"
[ -z "$(e2e_delivered 'e2e duplicate From')" ] || e2e_fail "dup: delivered"
e2e_wait_log 'rfc5322\.from\.duplicate.*action=reject' 5 "$E2E_MILTER_LOG" ||
	e2e_fail "dup: milter log does not name the check"
echo "2. duplicate From: $r"

# 3a. missing Message-ID: the milter's, delivered once
sm_send nomsgid "$DATA/no_message_id.eml" || e2e_fail "nomsgid: $(e2e_reply nomsgid)"
qid=$(sm_queue_id nomsgid)
f=$(e2e_wait_delivered "e2e missing Message-ID") || e2e_fail "nomsgid: not delivered"
[ "$(e2e_header_count "$f" Message-ID)" -eq 1 ] ||
	e2e_fail "nomsgid: $(e2e_header_count "$f" Message-ID) Message-ID fields delivered"
mid=$(e2e_header "$f" Message-ID)
# Sendmail's own would be <YYYYMMDDhhmm.QID@mta.e2e.test>
case $mid in *"$qid@$SM_HOST>") e2e_fail "nomsgid: Sendmail added it, not the milter: $mid" ;;
"<"*"@example.org>") ;; *) e2e_fail "nomsgid: unexpected Message-ID $mid" ;; esac
e2e_wait_log "$qid: .*rfc5322\.message_id\.missing .*action=repair repair=message-id" 5 "$E2E_MILTER_LOG" ||
	e2e_fail "nomsgid: milter log does not show the repair"
echo "3. missing Message-ID: delivered with $mid"

# 3b. over-long line: re-encoded, same content
longest() { tr -d '\r' <"$1" | awk 'length > m { m = length } END { print m + 0 }'; }
content() { tr -d '\r' <"$1" >"$1.lf" && "$DUMP" -n "$1.lf" | sed -n 's/^end \([0-9]*\) size=\([0-9]*\) .*fnv=\([0-9a-f]*\).*/\1 \2 \3/p'; }
sm_send long "$DATA/long_line.eml" || e2e_fail "long: $(e2e_reply long)"
f=$(e2e_wait_delivered "e2e over-long line") || e2e_fail "long: not delivered"
e2e_header "$f" Content-Transfer-Encoding | grep -qi 'quoted-printable' ||
	e2e_fail "long: not re-encoded: $(e2e_header "$f" Content-Transfer-Encoding)"
n=$(longest "$f")
[ "$n" -le 998 ] || e2e_fail "long: a delivered line has $n octets"
cp "$DATA/long_line.eml" "$E2E_DIR/orig.eml"
tr -d '\r' <"$f" | sed '$ { /^$/d; }' >"$E2E_DIR/got.eml"
was=$(content "$E2E_DIR/orig.eml"); now=$(content "$E2E_DIR/got.eml")
[ -n "$was" ] && [ "$was" = "$now" ] || e2e_fail "long: decodes to '$now', sent '$was'"
e2e_wait_log 'repaired: 1 part' 5 "$E2E_MILTER_LOG" || e2e_fail "long: milter log does not say it repaired"
echo "3. long line: quoted-printable, longest line $n octets, content unchanged ($now)"

# 3c. the same over many body chunks: Sendmail hands the body over in
# chunks of at most 64 KiB and takes the replaced body back the same way;
# 400 lines of 1,200 octets (480 KB) are repaired whole.
{
	printf 'From: Alice Sender <sender@example.org>\nTo: <rcpt@example.net>\n'
	printf 'Subject: e2e many long lines\nDate: Sun, 22 Nov 2026 06:00:00 +0000\n'
	printf 'Message-ID: <many.e2e@example.org>\nMIME-Version: 1.0\n'
	printf 'Content-Type: text/plain; charset=us-ascii\n\n'
	awk 'BEGIN { for (i = 0; i < 400; i++) { s = sprintf("%04d ", i)
		while (length(s) < 1200) s = s "0123456789"; print substr(s, 1, 1200) } }'
} >"$E2E_DIR/many.eml"
sm_send many "$E2E_DIR/many.eml" || e2e_fail "many: $(e2e_reply many)"
qid=$(sm_queue_id many)
f=$(e2e_wait_delivered "e2e many long lines") || e2e_fail "many: not delivered"
n=$(longest "$f")
[ "$n" -le 998 ] || e2e_fail "many: a delivered line has $n octets"
tr -d '\r' <"$f" | sed '$ { /^$/d; }' >"$E2E_DIR/many-got.eml"
was=$(content "$E2E_DIR/many.eml"); now=$(content "$E2E_DIR/many-got.eml")
[ -n "$was" ] && [ "$was" = "$now" ] || e2e_fail "many: decodes to '$now', sent '$was'"
e2e_wait_log "$qid: repaired: 1 part" 5 "$E2E_MILTER_LOG" || e2e_fail "many: milter log does not say it repaired"
echo "3. 400 long lines ($(wc -c <"$E2E_DIR/many.eml") octets): repaired, longest line $n, content unchanged ($now)"

# 4. a suppressed recipient: refused at RCPT TO (the milter decides there)
"$EGRESSCTL" -c "$CONF" suppress add carol@example.net --reason e2e --for 1d \
	>"$E2E_DIR/log/suppress.txt" 2>&1 || e2e_fail "suppress: $(cat "$E2E_DIR/log/suppress.txt")"
sed 's/e2e clean message/e2e suppressed recipient/' "$DATA/clean.eml" >"$E2E_DIR/supp.eml"
sm_send supp "$E2E_DIR/supp.eml" --to carol@example.net && e2e_fail "supp: accepted"
r=$(e2e_reply supp)
grep -q '^ -> DATA$' "$E2E_DIR/log/swaks.supp" && e2e_fail "supp: refused only after DATA ($r)"
grep -F -x -B 1 "<** $r" "$E2E_DIR/log/swaks.supp" | grep -q '^ -> RCPT TO:<carol@example.net>$' ||
	e2e_fail "supp: the refusal is not the reply to RCPT TO: $r"
case $r in "550 5.1.1 "*"suppressed"*) ;; *) e2e_fail "supp: expected 550 5.1.1, got: $r" ;; esac
[ -z "$(e2e_delivered 'e2e suppressed recipient')" ] || e2e_fail "supp: delivered"
echo "4. suppressed recipient, at RCPT TO: $r"

# 5. milter down: 4xx because of F=T; delivered once it is back
e2e_stop_milter
sed 's/e2e clean message/e2e while the milter is down/' "$DATA/clean.eml" >"$E2E_DIR/down.eml"
sm_send down "$E2E_DIR/down.eml" && e2e_fail "down: accepted without the milter"
r=$(e2e_reply down)
case $r in 4[0-9][0-9]" "*) ;; *) e2e_fail "down: expected 4xx, got: $r" ;; esac
[ -z "$(e2e_delivered 'milter is down')" ] || e2e_fail "down: delivered without the milter"
[ -z "$(find "$SM_DIR/mqueue" -type f -name 'qf*')" ] || e2e_fail "down: Sendmail queued it"
echo "5. milter stopped: $r"
e2e_start_milter "$CONF"
sm_send back "$E2E_DIR/down.eml" || e2e_fail "back: $(e2e_reply back)"
e2e_wait_delivered "e2e while the milter is down" >/dev/null || e2e_fail "back: not delivered"
echo "5. milter back: the retried message is delivered"

# 6. a DSN from a Sendmail host: accepted, classified
sm_send dsn "$DATA/dsn_sendmail.eml" --from '<>' --to sender@example.org ||
	e2e_fail "dsn: refused: $(e2e_reply dsn)"
grep -q '^ -> MAIL FROM:<>$' "$E2E_DIR/log/swaks.dsn" || e2e_fail "dsn: not sent with MAIL FROM:<>"
case $(e2e_reply dsn) in 250" "*) ;; *) e2e_fail "dsn: reply $(e2e_reply dsn)" ;; esac
qid=$(sm_queue_id dsn)
e2e_wait_delivered "Returned mail: see transcript for details (e2e-sendmail-dsn)" >/dev/null ||
	e2e_fail "dsn: not delivered"
line="$qid: bounce sender=<sender@example.org> rcpt=<nobody@dest.example> status=5.1.1 reply=550 reason=userunknown category=recipient remote=mail.dest.example"
e2e_wait_log "$qid: bounce " 10 "$E2E_MILTER_LOG" || e2e_fail "dsn: no bounce line"
grep -qF -- "$line" "$E2E_MILTER_LOG" || e2e_fail "dsn: bounce line differs; expected: $line"
grep -F "$qid: sender=<> " "$E2E_MILTER_LOG" | grep -q 'action=accept' ||
	e2e_fail "dsn: the verdict is not accept"
echo "6. DSN: $(grep -F -- "$qid: bounce " "$E2E_MILTER_LOG" | sed 's/^[^:]*: //')"

# 7. the client address reaches the milter although Sendmail's default
# Milter.macros.connect has no {client_addr}: from "_" ("localhost
# [127.0.0.1]"). An exemption for 127.0.0.1 lets the message of step 2 pass.
# (the running daemon reloads its config on SIGUSR1)
printf 'exempt = {\n  clients = [ "127.0.0.1" ];\n};\n' >>"$CONF"
kill -USR1 "$E2E_MILTER_PID"
e2e_wait_log 'configuration reloaded' 10 "$E2E_MILTER_LOG" || e2e_fail "exempt: no reload"
sm_send exempt "$DATA/dup_from.eml" || e2e_fail "exempt: refused: $(e2e_reply exempt)"
qid=$(sm_queue_id exempt)
e2e_wait_log "$qid: .*rfc5322\.from\.duplicate.* exempt=yes" 5 "$E2E_MILTER_LOG" ||
	e2e_fail "exempt: the milter did not see the client as 127.0.0.1"
e2e_wait_delivered "e2e duplicate From" >/dev/null || e2e_fail "exempt: not delivered"
echo "7. client 127.0.0.1 exempt: $(grep -F "$qid: sender=" "$E2E_MILTER_LOG" | sed 's/^[^:]*: //')"

# 8. why the repair matters behind Sendmail: with body.line_too_long set to
# tag, a 2,100-octet line passes the milter unchanged and Sendmail's relay
# mailer (L=2040) breaks it itself at delivery, inserting "!" and a line end.
e2e_write_milter_config "$CONF" enforce '{ id = "body.line_too_long"; action = "tag"; }'
kill -USR1 "$E2E_MILTER_PID"
t=100
while [ "$(grep -c 'configuration reloaded' "$E2E_MILTER_LOG")" -lt 2 ]; do
	t=$((t - 1)); [ $t -gt 0 ] || e2e_fail "tag: no second reload"
	sleep 0.1
done
{
	printf 'From: Alice Sender <sender@example.org>\nTo: <rcpt@example.net>\n'
	printf 'Subject: e2e line broken by Sendmail\nDate: Sun, 22 Nov 2026 06:00:00 +0000\n'
	printf 'Message-ID: <broken.e2e@example.org>\n\n'
	awk 'BEGIN { s = ""; for (i = 0; i < 2100; i++) s = s "a"; print s; print "end" }'
} >"$E2E_DIR/broken.eml"
sm_send broken "$E2E_DIR/broken.eml" || e2e_fail "tag: refused: $(e2e_reply broken)"
f=$(e2e_wait_delivered "e2e line broken by Sendmail") || e2e_fail "tag: not delivered"
n=$(longest "$f")
tr -d '\r' <"$f" | grep -q '^a*!$' || e2e_fail "tag: Sendmail did not break the line (longest $n)"
echo "8. control, action tag: Sendmail broke the 2,100-octet line itself (longest line now $n octets, ends in \"!\")"

# 9. local programs: `sendmail -t` runs the MSP (submit.cf), which relays
# over SMTP to the daemon, so the milter sees such mail as an SMTP session
# from 127.0.0.1 - after the MSP added Date and Message-Id.
e2e_write_milter_config "$CONF" enforce
kill -USR1 "$E2E_MILTER_PID"
t=100
while [ "$(grep -c 'configuration reloaded' "$E2E_MILTER_LOG")" -lt 3 ]; do
	t=$((t - 1)); [ $t -gt 0 ] || e2e_fail "msp: no third reload"
	sleep 0.1
done
sm_write_submit_config
printf 'From: Alice Sender <sender@example.org>\nTo: Bob <rcpt@example.net>\nSubject: e2e local submission\n\nfrom a local program, no Date, no Message-ID\n' \
	>"$E2E_DIR/local.eml"
sm_submit "$E2E_DIR/local.eml" -f sender@example.org -t >"$E2E_DIR/log/msp.out" 2>&1 ||
	e2e_fail "msp: sendmail -t failed: $(cat "$E2E_DIR/log/msp.out")"
f=$(e2e_wait_delivered "e2e local submission") || e2e_fail "msp: not delivered"
mid=$(e2e_header "$f" Message-ID)
case $mid in "<"*"@$SM_HOST>") ;; *) e2e_fail "msp: Message-Id not the MSP's: $mid" ;; esac
[ -n "$(e2e_header "$f" Date)" ] || e2e_fail "msp: no Date delivered"
qid=$(tr -d '\r' <"$f" | sed -n "s/^.*by $SM_HOST (8\.[0-9.]*\/[0-9.]*) with ESMTP id \([0-9A-Za-z]*\)\$/\1/p" | head -n 1)
[ -n "$qid" ] || e2e_fail "msp: no queue id of the daemon in the delivered copy"
e2e_wait_log "$qid: sender=<sender@example.org> nrcpt=1 findings=none .*action=accept" 5 "$E2E_MILTER_LOG" ||
	e2e_fail "msp: the milter did not accept $qid without findings"
echo "9. MSP submission: delivered as $qid with the MSP's Message-Id $mid"
# ... and when the milter refuses it, the MSP returns a DSN to the sender,
# which comes back through the milter: accepted and classified.
printf 'From: Alice Sender <sender@example.org>\nFrom: Second Author <second@example.org>\nTo: Bob <rcpt@example.net>\nSubject: e2e local duplicate From\n\ntwo From fields\n' \
	>"$E2E_DIR/localdup.eml"
# (sendmail -t exits non-zero, EX_UNAVAILABLE, and says nothing: it mails)
st=0
sm_submit "$E2E_DIR/localdup.eml" -f sender@example.org -t >"$E2E_DIR/log/msp-dup.out" 2>&1 || st=$?
[ "$st" -ne 0 ] || e2e_fail "msp: the refused submission reported success"
f=$(e2e_wait_delivered "Subject: e2e local duplicate From") || e2e_fail "msp: no DSN delivered"
grep -q '^X-Mail-Args: <>' "$f" || e2e_fail "msp: the DSN was not sent with MAIL FROM:<>"
e2e_wait_log 'bounce sender=<sender@example.org> rcpt=<rcpt@example.net> status=5\.6\.0 reply=554 ' 10 "$E2E_MILTER_LOG" ||
	e2e_fail "msp: the DSN was not classified"
echo "9. MSP submission refused (sendmail -t exit $st); its DSN: $(grep 'bounce sender=<sender@example.org> rcpt=<rcpt@example.net> status=5.6.0' "$E2E_MILTER_LOG" | sed 's/^[^:]*: [^:]*: //')"

# 10. action hold: Sendmail quarantines the message (smfi_quarantine): the
# client gets 250, the queue file carries the reason, nothing is delivered;
# released with -Q (no reason) and a queue run, it is delivered.
e2e_write_milter_config "$CONF" enforce '{ id = "rfc5322.header.duplicate"; action = "hold"; }'
kill -USR1 "$E2E_MILTER_PID"
t=100
while [ "$(grep -c 'configuration reloaded' "$E2E_MILTER_LOG")" -lt 4 ]; do
	t=$((t - 1)); [ $t -gt 0 ] || e2e_fail "hold: no fourth reload"
	sleep 0.1
done
awk '{ print } /^Subject:/ { print "Subject: a second subject" }' "$DATA/clean.eml" |
	sed 's/e2e clean message/e2e held message/' >"$E2E_DIR/held.eml"
sm_send held "$E2E_DIR/held.eml" || e2e_fail "hold: refused: $(e2e_reply held)"
qid=$(sm_queue_id held)
[ -n "$qid" ] || e2e_fail "hold: no queue id"
e2e_wait_log "$qid: .*rfc5322\.header\.duplicate.*action=hold" 5 "$E2E_MILTER_LOG" ||
	e2e_fail "hold: milter log does not say hold"
# Sendmail names a quarantined queue file hf (qf while it is not)
qf=$SM_DIR/mqueue/hf$qid
[ -f "$qf" ] || e2e_fail "hold: no quarantined queue file hf$qid ($(ls "$SM_DIR/mqueue"))"
reason=$(sed -n 's/^q//p' "$qf")
case $reason in *rfc5322.header.duplicate*) ;; *) e2e_fail "hold: quarantine reason: $reason" ;; esac
[ -z "$(e2e_delivered 'e2e held message')" ] || e2e_fail "hold: delivered"
echo "10. hold: quarantined by Sendmail as $qid, reason \"$reason\""
sm_run -C "$SM_DIR/etc/sendmail.cf" -qQ -qI"$qid" -Q >"$E2E_DIR/log/unquarantine.out" 2>&1 ||
	e2e_fail "hold: unquarantine failed: $(cat "$E2E_DIR/log/unquarantine.out")"
[ -f "$SM_DIR/mqueue/qf$qid" ] || e2e_fail "hold: not released ($(ls "$SM_DIR/mqueue"))"
sm_run -C "$SM_DIR/etc/sendmail.cf" -qI"$qid" >"$E2E_DIR/log/queuerun.out" 2>&1 ||
	e2e_fail "hold: queue run failed: $(cat "$E2E_DIR/log/queuerun.out")"
e2e_wait_delivered "e2e held message" >/dev/null || e2e_fail "hold: released message not delivered"
echo "10. hold: released with -Q and delivered by a queue run"

# 11. bare LF and bare CR never reach the milter: this Sendmail (Debian's
# 8.17.1.9 with the SMTP smuggling fix) refuses them itself with 421.
for kind in LF CR; do
	raw=$E2E_DIR/bare$kind.eml
	printf '%s\r\n' 'From: Alice Sender <sender@example.org>' \
		'To: Bob Receiver <rcpt@example.net>' "Subject: e2e bare $kind" \
		'Date: Sun, 22 Nov 2026 06:00:00 +0000' \
		"Message-ID: <bare$kind.e2e@example.org>" '' >"$raw"
	if [ $kind = LF ]; then
		printf 'before a bare LF\nafter it\r\n' >>"$raw"
	else
		printf 'before a bare CR\rafter it\r\n' >>"$raw"
	fi
	E2E_RAW=1 sm_send "bare$kind" "$raw" && e2e_fail "bare $kind: accepted"
	r=$(e2e_reply "bare$kind")
	case $r in "421 4.5.0 Bare "*"($kind) not allowed"*) ;;
	*) e2e_fail "bare $kind: expected Sendmail's 421 4.5.0, got: $r" ;; esac
	[ -z "$(e2e_delivered "e2e bare $kind")" ] || e2e_fail "bare $kind: delivered"
	echo "11. bare $kind: $r (Sendmail, before the milter)"
done

sm_stop
echo "elapsed: $(echo "$(date +%s.%N) - $t0" | bc 2>/dev/null || awk "BEGIN { print $(date +%s.%N) - $t0 }") s"
echo "PASS: sendmail"
