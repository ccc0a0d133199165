#!/bin/sh
# tests/e2e/sender_record.sh - the sender record behind the real Postfix:
#  - three "554 5.7.1 ... blocked" DSNs for sender@example.org from
#    dest.example arrive over SMTP (MAIL FROM:<>) and are delivered;
#  - the next message from that sender to dest.example is tempfailed at RCPT
#    (451 4.7.1: the reputation throttle starts empty) while mail to another
#    domain flows;
#  - a recipient that bounced "550 5.1.1 user unknown" is refused at RCPT on
#    the next attempt (550 5.1.1 ... previously bounced: userunknown);
#  - egressctl report shows the failures by category and domain, egressctl
#    suppress list the suppressed recipient;
#  - egressctl suspend refuses the sender at MAIL FROM (550 5.7.1) and
#    egressctl release lifts the suspension.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"
DATA=$top_srcdir/tests/data/e2e
ORIG=$E2E_SENDER

e2e_require milter
CTL=${EGRESSCTL:-$top_builddir/egressctl}
[ -x "$CTL" ] || e2e_skip "egressctl not built"
e2e_up
CONF=$E2E_DIR/milter.conf
e2e_write_milter_config "$CONF" enforce
printf 'bounce = { patterns = "%s"; };\n' "$top_srcdir/conf/bounce-patterns.conf" >>"$CONF"
e2e_start_milter "$CONF"

# dsn NAME RCPT DOMAIN STATUS DIAG: a Postfix-style RFC 3464 report about
# RCPT, sent back to $ORIG with the null sender.
dsn() {
	{
		printf 'From: MAILER-DAEMON@mx.%s (Mail Delivery System)\n' "$3"
		printf 'To: %s\n' "$ORIG"
		printf 'Subject: Undelivered Mail Returned to Sender (%s)\n' "$1"
		printf 'Date: Sun, 22 Nov 2026 06:00:00 +0000\n'
		printf 'Auto-Submitted: auto-replied\n'
		printf 'MIME-Version: 1.0\n'
		printf 'Content-Type: multipart/report; report-type=delivery-status;\n'
		printf '\tboundary="b-%s"\n\n' "$1"
		printf -- '--b-%s\nContent-Type: text/plain; charset=us-ascii\n\n' "$1"
		printf '<%s>: host in1.%s[198.51.100.25] said: %s (in reply to RCPT TO command)\n\n' \
			"$2" "$3" "$5"
		printf -- '--b-%s\nContent-Type: message/delivery-status\n\n' "$1"
		printf 'Reporting-MTA: dns; mx.%s\n' "$3"
		printf 'X-Postfix-Sender: rfc822; %s\n' "$ORIG"
		printf 'Arrival-Date: Sun, 22 Nov 2026 05:59:58 +0000\n\n'
		printf 'Final-Recipient: rfc822; %s\n' "$2"
		printf 'Original-Recipient: rfc822;%s\n' "$2"
		printf 'Action: failed\nStatus: %s\n' "$4"
		printf 'Remote-MTA: dns; in1.%s\n' "$3"
		printf 'Diagnostic-Code: smtp; %s\n\n' "$5"
		printf -- '--b-%s\nContent-Type: text/rfc822-headers\n\n' "$1"
		printf 'From: %s\nTo: %s\nSubject: hello (%s)\n' "$ORIG" "$2" "$1"
		printf 'Message-ID: <%s.orig@example.org>\n\n' "$1"
		printf -- '--b-%s--\n' "$1"
	} >"$E2E_DIR/$1.eml"
	e2e_send "$1" "$E2E_DIR/$1.eml" "" --from '<>' --to "$ORIG" ||
		e2e_fail "DSN $1 not accepted: $(e2e_reply "$1")"
	e2e_wait_delivered "Undelivered Mail Returned to Sender ($1)" >/dev/null ||
		e2e_fail "DSN $1 not delivered"
}

# msg NAME RCPT: an ordinary message from $ORIG to RCPT; sets REPLY.
msg() {
	sed "s/e2e clean message/e2e sender record $1/" "$DATA/clean.eml" >"$E2E_DIR/$1.eml"
	e2e_send "$1" "$E2E_DIR/$1.eml" "" --from "$ORIG" --to "$2"
	REPLY=$(e2e_reply "$1")
}

BLOCKED="554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org"
for i in 1 2 3; do
	dsn "rep$i" "user$i@dest.example" dest.example 5.7.1 "$BLOCKED"
done
e2e_wait_log 'reason=blocked category=reputation' 10 "$E2E_MILTER_LOG" ||
	e2e_fail "bounces not classified as reputation"

# the next message to dest.example waits; another domain flows
msg to_dest friend@dest.example
case $REPLY in "451 4.7.1 "*) ;; *) e2e_fail "to dest.example: $REPLY" ;; esac
echo "to dest.example: $REPLY"
msg to_other rcpt@example.net
case $REPLY in 250*) ;; *) e2e_fail "to example.net: $REPLY" ;; esac
e2e_wait_delivered "e2e sender record to_other" >/dev/null || e2e_fail "to_other not delivered"
echo "to example.net: $REPLY"

# a user that does not exist is refused on the next attempt
dsn gone gone@dest2.example dest2.example 5.1.1 \
	"550 5.1.1 <gone@dest2.example>: Recipient address rejected: User unknown in virtual mailbox table"
msg to_gone gone@dest2.example
case $REPLY in "550 5.1.1 <gone@dest2.example>: Recipient previously bounced: userunknown"*) ;;
*) e2e_fail "to gone@dest2.example: $REPLY" ;; esac
echo "to gone@dest2.example: $REPLY"

# the operator's view
out=$("$CTL" -c "$CONF" report --since 1h) || e2e_fail "egressctl report: $out"
printf '%s\n' "$out" | grep -q ' 3  reputation$' || e2e_fail "report: $out"
printf '%s\n' "$out" | grep -q ' 3  dest.example$' || e2e_fail "report: $out"
"$CTL" -c "$CONF" suppress list | grep -q '^gone@dest2.example .*userunknown' ||
	e2e_fail "suppression not listed"

# suspend, then release
"$CTL" -c "$CONF" suspend "$ORIG" --why "e2e" >/dev/null || e2e_fail "egressctl suspend"
msg suspended rcpt@example.net
case $REPLY in "550 5.7.1 "*) ;; *) e2e_fail "suspended sender: $REPLY" ;; esac
echo "suspended: $REPLY"
"$CTL" -c "$CONF" release "$ORIG" >/dev/null || e2e_fail "egressctl release"
msg released rcpt@example.net
case $REPLY in 250*) ;; *) e2e_fail "released sender: $REPLY" ;; esac
e2e_wait_delivered "e2e sender record released" >/dev/null || e2e_fail "released not delivered"
echo "released: $REPLY"
echo "PASS: sender record"
