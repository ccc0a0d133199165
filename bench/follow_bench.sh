#!/bin/sh
# follow_bench.sh [-n LINES] [-b BUILDDIR] - egressctl follow on a generated
# Postfix maillog of LINES lines (default 1000000): a mix of smtpd, cleanup,
# qmgr, smtp sent/deferred/bounced and removed lines, 1 in 10 messages
# deferred (TSS04) and 1 in 50 bounced. Prints lines/s with the senders from
# the log (--senders log) into a fresh LMDB store; the time goes mostly to
# the durable writes the counted events cause (suppressions, statuses,
# cursors), not to parsing. KEEP=1 keeps the files. Asserts nothing; not
# run by make check.
set -u
n=1000000
b=${top_builddir:-.}
while getopts n:b: o; do
	case $o in n) n=$OPTARG ;; b) b=$OPTARG ;; *) exit 64 ;; esac
done
tmp=$(mktemp -d /tmp/follow-bench-XXXXXX) || exit 1
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
# six lines per message on average
awk -v n="$n" 'BEGIN {
	for (i = 0; c < n; i++) {
		q = sprintf("4Q%08X", i); s = sprintf("user%d@example.org", i % 5000)
		t = sprintf("Dec  3 06:%02d:%02d", int(i / 60) % 60, i % 60)
		print t " mx1 postfix/smtpd[1201]: " q ": client=client.example.org[192.0.2.10], sasl_method=PLAIN, sasl_username=" s; c++
		print t " mx1 postfix/cleanup[1202]: " q ": message-id=<" i ".bench@example.org>"; c++
		print t " mx1 postfix/qmgr[700]: " q ": from=<" s ">, size=4120, nrcpt=1 (queue active)"; c++
		if (i % 10 == 3)
			print t " mx1 postfix/smtp[1300]: " q ": to=<r" i "@yahoo.example>, relay=mta5.am0.yahoodns.example[192.0.2.5]:25, delay=1.1, delays=0.01/0/0.6/0.5, dsn=4.7.0, status=deferred (host mta5.am0.yahoodns.example[192.0.2.5] said: 421 4.7.0 [TSS04] Messages from 198.51.100.4 temporarily deferred due to unexpected volume or user complaints (in reply to MAIL FROM command))"
		else if (i % 50 == 7)
			print t " mx1 postfix/smtp[1300]: " q ": to=<r" i "@example.net>, relay=mx.example.net[192.0.2.6]:25, delay=0.4, delays=0.01/0/0.2/0.2, dsn=5.1.1, status=bounced (host mx.example.net[192.0.2.6] said: 550 5.1.1 <r" i "@example.net>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command))"
		else
			print t " mx1 postfix/smtp[1300]: " q ": to=<r" i "@example.com>, relay=mx.example.com[192.0.2.7]:25, delay=0.3, delays=0.01/0/0.1/0.2, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4Z" i ")"
		c++
		print t " mx1 postfix/qmgr[700]: " q ": removed"; c++
	}
}' >"$tmp/maillog"
lines=$(wc -l <"$tmp/maillog")
bytes=$(wc -c <"$tmp/maillog")
printf 'store = { state_dir = "%s/state"; };\n' "$tmp" >"$tmp/conf"
now() { date +%s.%N; }
t0=$(now)
"$b/egressctl" -c "$tmp/conf" follow --once --from-start --senders log "$tmp/maillog" >"$tmp/out" || exit 1
t1=$(now)
cat "$tmp/out"
awk -v l="$lines" -v by="$bytes" -v a="$t0" -v z="$t1" 'BEGIN {
	printf "follow --senders log: %d lines (%.0f MB) in %.2f s: %.0f lines/s\n", l, by / 1e6, z - a, l / (z - a) }'
