#!/bin/sh
# journal_log.sh - "milter-egress -f" logs to stderr, except when stderr is
# the systemd journal (JOURNAL_STREAM names stderr's device and inode, as
# systemd sets it for a service): then it logs to syslog like a detached
# daemon, so the unit's lines reach mail.log with real priorities. Checked
# with stderr redirected to a file: JOURNAL_STREAM naming that file silences
# stderr, naming another file does not.
set -u
top_builddir=${top_builddir:-.}
bin=$top_builddir/milter-egress
[ -x "$bin" ] || { echo "SKIP: $bin not built"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/egress-journal.XXXXXX") || exit 99
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
printf 'store = {\n  enabled = false;\n};\n' >"$tmp/conf"
fail=0

# run NAME JOURNAL_STREAM_FILE: start the daemon with stderr in $tmp/NAME.err
# and JOURNAL_STREAM naming FILE's device:inode, wait for its socket, stop it
run() {
	: >"$tmp/$1.err"; : >"$tmp/other"
	js=$(stat -c '%d:%i' "$2")
	JOURNAL_STREAM=$js "$bin" -f -c "$tmp/conf" -p "unix:$tmp/$1.sock" 2>>"$tmp/$1.err" &
	pid=$!
	n=100
	while [ $n -gt 0 ] && [ ! -S "$tmp/$1.sock" ]; do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1; n=$((n - 1))
	done
	[ -S "$tmp/$1.sock" ] || { echo "not ok - $1: no socket"; cat "$tmp/$1.err"; fail=1; }
	# the start-up line is written before smfi_main(), i.e. before the
	# socket accepts; wait for the process to stop, then read
	kill -TERM "$pid"; wait "$pid"; pid=
}

run other "$tmp/other"
if grep -q 'starting milter-egress' "$tmp/other.err"; then
	echo "ok - JOURNAL_STREAM of another file: logs on stderr"
else
	echo "not ok - no start-up line on stderr"; cat "$tmp/other.err"; fail=1
fi
: >"$tmp/journal.err"
run journal "$tmp/journal.err"
if [ -s "$tmp/journal.err" ]; then
	echo "not ok - stderr is the journal, yet the daemon wrote to it:"; cat "$tmp/journal.err"; fail=1
else
	echo "ok - JOURNAL_STREAM naming stderr: nothing on stderr (syslog)"
fi
exit $fail
