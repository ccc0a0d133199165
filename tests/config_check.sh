#!/bin/sh
# config_check.sh - "milter-egress -n -c FILE" checks a configuration:
# exit 0 for the shipped sample, exit 78 (EX_CONFIG) with "FILE:LINE: KEY:"
# errors on stderr for a bad file, before anything is opened.
# Skips (77) when the daemon has not been built.
set -u

top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
bin=$top_builddir/milter-egress
data=$top_srcdir/tests/data/config
sample=$top_srcdir/conf/milter-egress.conf

if [ ! -x "$bin" ]; then
	echo "SKIP: $bin not built"
	exit 77
fi

tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM
fail=0

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; fail=1; }

# check FILE WANT_STATUS: run the check, keep stdout/stderr in $tmp.
check() {
	"$bin" -n -c "$1" >"$tmp/out" 2>"$tmp/err"
	status=$?
	if [ "$status" -eq "$2" ]; then
		ok "$1: exit $status"
	else
		not_ok "$1: exit $status, want $2"
		sed 's/^/# /' "$tmp/out" "$tmp/err"
	fi
}

# has FILE FIXED-STRING: FILE contains the string.
has() {
	if grep -qF -- "$2" "$1"; then
		ok "$(basename "$1") has: $2"
	else
		not_ok "$(basename "$1") lacks: $2"
		sed 's/^/# /' "$1"
	fi
}

# The sample loads cleanly and says so on stdout, nothing on stderr.
check "$sample" 0
has "$tmp/out" "$sample: configuration valid"
if [ -s "$tmp/err" ]; then
	not_ok "sample: unexpected stderr"
	sed 's/^/# /' "$tmp/err"
else
	ok "sample: stderr empty"
fi

# Good test configurations load too.
for f in "$data"/good_*.conf; do
	check "$f" 0
done

# A bad value: exit 78, stderr names file:line:key, and the daemon refuses.
check "$data/bad_range.conf" 78
has "$tmp/err" "$data/bad_range.conf:5: limits.mime_depth: value 1000 out of range"
has "$tmp/err" "configuration invalid, not starting"
if [ -s "$tmp/out" ]; then not_ok "bad: stdout not empty"; else ok "bad: stdout empty"; fi

# Every error of a file is reported in one run.
check "$data/bad_many.conf" 78
has "$tmp/err" "$data/bad_many.conf:2: mode: "
has "$tmp/err" "$data/bad_many.conf:5: limits.urlz: unknown key"
has "$tmp/err" "$data/bad_many.conf:4: limits.recipients: "
has "$tmp/err" "$data/bad_many.conf:8: milter.syslog_facility: "

# A libconfig syntax error names its line.
check "$data/bad_syntax.conf" 78
has "$tmp/err" "$data/bad_syntax.conf:5: syntax: "

# Every bad file is refused with EX_CONFIG, never accepted or crashed on.
for f in "$data"/bad_*.conf; do
	check "$f" 78
	has "$tmp/err" "$f:"
done

# The holes a new user found: each is refused by -n with FILE:LINE: KEY.
# bad_one TEXT WANT: a file of TEXT is refused (78) and stderr has WANT.
bad_one() {
	printf '%s\n' "$1" >"$tmp/one.conf"
	check "$tmp/one.conf" 78
	has "$tmp/err" "$tmp/one.conf:$2"
}
bad_one 'store = 5;' '1: store: expected a group { ... }, found an integer'
bad_one 'policy = "x";' '1: policy: expected a group { ... }, found a string'
bad_one 'bounce = true;' '1: bounce: expected a group { ... }, found a boolean'
bad_one 'policy = { tag_header = "X-A\r\nBcc: x@example.org"; };' \
	'1: policy.tag_header: "X-A\x0d\x0aBcc: x@example.org" is not a header field name'
bad_one 'milter = { socket = "unix:"; };' '1: milter.socket: "unix:": the socket path must be absolute'
bad_one 'milter = { socket = "inet:99999@127.0.0.1"; };' \
	'1: milter.socket: "inet:99999@127.0.0.1": the port must be a number from 1 to 65535'
bad_one 'limits = { recipients = 99999999999999999999; };' \
	'1: limits.recipients: value 99999999999999999999 out of range [1, 100000] (too large for a 64-bit integer)'
bad_one 'limits = { recipients = 4294967297; };' '1: limits.recipients: value 4294967297 out of range'
: >"$tmp/afile"
bad_one "store = { state_dir = \"$tmp/afile\"; };" "1: store.state_dir: $tmp/afile: Not a directory"
bad_one 'milter = { log_file = "relative.log"; };' '1: milter.log_file: "relative.log" is not an absolute path'
bad_one 'roles = { default = "inbound"; };' '1: roles.default: "inbound" is not both, outbound, bounces or off'

# Past 50 errors the rest are counted, not shown.
{
	echo "limits = {"
	i=1
	while [ $i -le 60 ]; do
		echo "  unknown_$i = 1;"
		i=$((i + 1))
	done
	echo "};"
} >"$tmp/many.conf"
check "$tmp/many.conf" 78
n=$(grep -c "^$tmp/many.conf:[0-9]*: limits.unknown_[0-9]*: unknown key\$" "$tmp/err")
[ "$n" -eq 50 ] && ok "50 errors shown" || not_ok "$n errors shown, want 50"
has "$tmp/err" "$tmp/many.conf: (10 more errors not shown)"

# A missing file is a configuration error too.
check "$tmp/absent.conf" 78
has "$tmp/err" "$tmp/absent.conf:0: -: cannot read file"

# Without -n a bad file still exits 78 before opening any socket.
"$bin" -f -c "$data/bad_range.conf" -p "unix:$tmp/never.sock" >/dev/null 2>&1
status=$?
if [ "$status" -eq 78 ] && [ ! -e "$tmp/never.sock" ]; then
	ok "daemon refuses a bad config (exit 78, no socket)"
else
	not_ok "daemon with a bad config: exit $status"
fi

# Usage errors are EX_USAGE.
"$bin" -n -c "$sample" extra >/dev/null 2>&1
status=$?
[ "$status" -eq 64 ] && ok "extra argument: exit 64" || not_ok "extra argument: exit $status, want 64"
"$bin" -Z >/dev/null 2>&1
status=$?
[ "$status" -eq 64 ] && ok "unknown option: exit 64" || not_ok "unknown option: exit $status, want 64"

# egressctl reads the same file the same way.
ctl=$top_builddir/egressctl
if [ -x "$ctl" ]; then
	"$ctl" -c "$data/good_full.conf" checks >"$tmp/out" 2>"$tmp/err"
	status=$?
	[ "$status" -eq 0 ] && ok "egressctl checks: exit 0" ||
	    not_ok "egressctl checks: exit $status"
	# overrides of good_full.conf: action and reply, reply removed
	if grep -Eq '^rfc5322\.date\.missing +reject +score=0 +550 5\.6\.0 No Date$' "$tmp/out" &&
	    grep -Eq '^size\.message +reject +score=0 +-$' "$tmp/out" &&
	    grep -Eq '^content\.url\.shortener +accept +score=-2 ' "$tmp/out"; then
		ok "egressctl checks shows the overrides"
	else
		not_ok "egressctl checks does not show the overrides"
		sed 's/^/# /' "$tmp/out"
	fi
	"$ctl" -c "$data/bad_range.conf" checks >"$tmp/out" 2>"$tmp/err"
	status=$?
	[ "$status" -eq 78 ] && ok "egressctl with a bad config: exit 78" ||
	    not_ok "egressctl with a bad config: exit $status, want 78"
	has "$tmp/err" "$data/bad_range.conf:5: limits.mime_depth: "
	# Every command egressctl lists has its own part in egressctl(8).
	man8=$top_srcdir/man/egressctl.8
	"$ctl" -h | sed -n 's/^  \([a-z][a-z-]*\).*/\1/p' >"$tmp/cmds"
	[ -s "$tmp/cmds" ] || not_ok "egressctl -h lists no commands"
	while read -r cmd; do
		rcmd=$(printf '%s' "$cmd" | sed 's/-/\\\\-/g')
		if grep -Eq "^\.SS \"?([a-z, ]*[ ,])?$rcmd([ ,][a-z, ]*)?\"?\$" "$man8"; then
			ok "egressctl.8 describes $cmd"
		else
			not_ok "egressctl $cmd is not described in man/egressctl.8"
		fi
	done <"$tmp/cmds"
else
	echo "# $ctl not built: egressctl cases skipped"
fi

# Every option of the daemon is described in milter-egress(8).
"$bin" -h 2>&1 | sed -n 's/^  -\([A-Za-z]\).*/\1/p' >"$tmp/opts"
[ -s "$tmp/opts" ] || not_ok "milter-egress -h lists no options"
while read -r opt; do
	if grep -Eq "^\.(B|BI|BR) \\\\-$opt( |\$)" "$top_srcdir/man/milter-egress.8"; then
		ok "milter-egress.8 describes -$opt"
	else
		not_ok "milter-egress -$opt is not described in man/milter-egress.8"
	fi
done <"$tmp/opts"

exit $fail
