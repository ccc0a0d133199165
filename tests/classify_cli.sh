#!/bin/sh
# egressctl classify and classify-log end to end: output formats, the
# "none" object for ordinary mail, exit statuses, and the log formats of
# Postfix, Sendmail and Exim against golden files.
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
ctl="$top_builddir/egressctl"
pat="$top_srcdir/conf/bounce-patterns.conf"
data="$top_srcdir/tests/data/dsn"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/classify-cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
fail=0

check() {	# check LABEL COMMAND... : the command must succeed
	label=$1
	shift
	if ! "$@"; then
		echo "FAIL: $label"
		fail=1
	fi
}

# JSON: one object per recipient per file, "none" for ordinary mail
"$ctl" classify --patterns "$pat" --format json \
	"$data/extra/two-recipients.eml" "$data/extra/normal-personal.eml" \
	>"$tmp/out.json"
check "exit status 0" test $? -eq 0
check "three objects" test "$(wc -l <"$tmp/out.json")" -eq 3
check "rcpt_index 1" grep -q '"file":"[^"]*two-recipients.eml","rcpt_index":1' "$tmp/out.json"
check "reason none" grep -q '"file":"[^"]*normal-personal.eml","rcpt_index":0,"kind":"none".*"reason":"none"' "$tmp/out.json"
for key in file rcpt_index recipient status reply_code reason category hard \
    remote_mta diagnostic sender message_id; do
	n=$(grep -c "\"$key\":" "$tmp/out.json")
	check "key $key in every object" test "$n" -eq 3
done
if command -v python3 >/dev/null 2>&1; then
	check "valid JSON lines" python3 -c 'import json,sys
for l in open(sys.argv[1]): json.loads(l)' "$tmp/out.json"
fi

# text: the daemon's log line
"$ctl" classify --patterns "$pat" "$data/extra/client-host-blocked.eml" >"$tmp/out.txt"
check "log line" grep -q '^  bounce sender=<alice@example.org> rcpt=<kate@example.com> status=5.7.1 reply=554 reason=blocked category=reputation remote=mx.example.com diag="554 5.7.1 client host blocked"$' "$tmp/out.txt"

# stdin, and an unreadable file
"$ctl" classify --patterns "$pat" --format json - <"$data/extra/qmail-554-30.eml" >"$tmp/stdin.json"
check "stdin" grep -q '"reason":"suspend"' "$tmp/stdin.json"
"$ctl" classify --patterns "$pat" /nonexistent/x.eml >/dev/null 2>&1
check "unreadable file exits 65" test $? -eq 65
"$ctl" classify --bogus >/dev/null 2>&1
check "usage exits 64" test $? -eq 64
printf 'userunknown (\n' >"$tmp/bad.conf"
"$ctl" classify --patterns "$tmp/bad.conf" "$data/extra/qmail-554-30.eml" >/dev/null 2>"$tmp/err"
check "bad patterns exit 78" test $? -eq 78
check "bad patterns named" grep -q "bad.conf:1: pattern offset" "$tmp/err"

# logs: golden text and JSON output
"$ctl" classify-log --patterns "$pat" "$data/logs/mail.log" >"$tmp/log.txt"
check "classify-log text" cmp -s "$tmp/log.txt" "$data/logs/mail.log.want"
[ $fail = 0 ] || diff "$data/logs/mail.log.want" "$tmp/log.txt"
"$ctl" classify-log --patterns "$pat" --format json - <"$data/logs/mail.log" >"$tmp/log.json"
sed 's/"file":"-"/"file":"'"$(printf '%s' "$data/logs/mail.log" | sed 's/[\/&]/\\&/g')"'"/' \
	"$tmp/log.json" >"$tmp/log2.json"
check "classify-log json lines" test "$(wc -l <"$tmp/log.json")" -eq "$(wc -l <"$data/logs/mail.log.want")"
check "classify-log json reasons" test "$(grep -o '"reason":"[a-z]*"' "$tmp/log.json" | tr '\n' ' ')" = \
	"$(grep -o '"reason":"[a-z]*"' "$data/logs/mail.log.json.want" | tr '\n' ' ')"

# --follow picks up lines appended later
: >"$tmp/grow.log"
"$ctl" classify-log --patterns "$pat" --follow "$tmp/grow.log" >"$tmp/follow.txt" &
pid=$!
sleep 1
head -3 "$data/logs/mail.log" >>"$tmp/grow.log"
i=0
while [ $i -lt 50 ] && [ "$(wc -l <"$tmp/follow.txt")" -lt 2 ]; do
	sleep 0.2
	i=$((i + 1))
done
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
check "follow" test "$(wc -l <"$tmp/follow.txt")" -eq 2

# compile-patterns: a pattern file's one-pass database beside it. A line
# Vectorscan cannot take is named (file:line) and still matched, in its
# place in file order, with or without the database; a database of other
# text is refused with a warning, never used. Without Vectorscan the
# command says so (exit 70) and classification is the same.
cat >"$tmp/pat.conf" <<'PATS'
# local additions first
mailboxfull box (?|(full)|(over quota))
blocked blocked by policy
PATS
printf 'From: MAILER-DAEMON@example.org\nTo: a@example.org\nSubject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\nContent-Type: text/plain\n\nThis is the mail system at host mx.example.org.\n\n<u@example.net>: host mx.example.net[192.0.2.1] said: 552 5.2.2 box over\n    quota, blocked by policy (in reply to RCPT TO command)\n' >"$tmp/full.eml"
"$ctl" compile-patterns "$tmp/pat.conf" >"$tmp/cp.out" 2>"$tmp/cp.err"
st=$?
if [ $st -eq 0 ]; then
	check "database written" test -s "$tmp/pat.conf.hsdb"
	check "refused line named" grep -q "pat.conf:2: pattern not supported by Vectorscan" "$tmp/cp.err"
	"$ctl" classify --patterns "$tmp/pat.conf" "$tmp/full.eml" >"$tmp/cl.out" 2>"$tmp/cl.err"
	check "classified with the database" grep -q "reason=mailboxfull" "$tmp/cl.out"
	check "warning at classify" grep -q "pat.conf:2: pattern not supported" "$tmp/cl.err"
	echo "blocked other" >>"$tmp/pat.conf"
	"$ctl" classify --patterns "$tmp/pat.conf" "$tmp/full.eml" >"$tmp/cl2.out" 2>"$tmp/cl2.err"
	check "stale database refused" grep -q "built from other patterns" "$tmp/cl2.err"
	check "same answer compiled" grep -q "reason=mailboxfull" "$tmp/cl2.out"
else
	check "no Vectorscan: exit 70" test $st -eq 70
	"$ctl" classify --patterns "$tmp/pat.conf" "$tmp/full.eml" >"$tmp/cl.out" 2>&1
	check "classified with PCRE2" grep -q "reason=mailboxfull" "$tmp/cl.out"
fi

exit $fail
