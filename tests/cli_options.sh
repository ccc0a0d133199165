#!/bin/sh
# cli_options.sh - help and version of both programs: -h/--help print the
# usage on stdout and exit 0, for egressctl and every one of its commands;
# a usage mistake prints on stderr and exits 64; -V/--version show the
# version, the configuration file that would be read and the library
# versions.
set -u
builddir=${top_builddir:-.}
ctl=$builddir/egressctl
daemon=$builddir/milter-egress
[ -x "$ctl" ] && [ -x "$daemon" ] || { echo "SKIP: egressctl or milter-egress not built"; exit 77; }
tmp=$(mktemp -d /tmp/egress-cli-XXXXXX) || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM
fail=0
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; fail=1; }

# run WANT_STATUS STREAM(out|err) PATTERN CMD...: status, the usage on the
# stream named and nothing on the other one.
run() {
	want=$1 stream=$2 pat=$3; shift 3
	"$@" >"$tmp/out" 2>"$tmp/err"; st=$?
	other=err; [ "$stream" = err ] && other=out
	if [ "$st" -eq "$want" ] && grep -q -- "$pat" "$tmp/$stream" && [ ! -s "$tmp/$other" ]; then
		ok "$*: exit $st, $stream: $(head -n 1 "$tmp/$stream" | cut -c1-70)"
	else
		not_ok "$*: exit $st (want $want), want \"$pat\" on $stream only"
		sed 's/^/#  out: /' "$tmp/out"; sed 's/^/#  err: /' "$tmp/err"
	fi
}

run 0 out '^usage: egressctl' "$ctl" --help
run 0 out '^usage: egressctl' "$ctl" -h
run 64 err '^usage: egressctl' "$ctl"
run 64 err '^usage: egressctl' "$ctl" --bogus
# every command listed in the help
cmds=$("$ctl" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
[ -n "$cmds" ] || not_ok "no commands in egressctl --help"
for c in $cmds; do
	run 0 out "^usage: egressctl \[-c CONFIG\] $c" "$ctl" "$c" --help
	run 0 out "^usage: egressctl \[-c CONFIG\] $c" "$ctl" "$c" -h
done
# help anywhere among a command's options, and after -c
run 0 out '^usage: egressctl \[-c CONFIG\] check' "$ctl" check --format json --help
run 0 out '^usage: egressctl \[-c CONFIG\] suppress' "$ctl" -c /nonexistent suppress add --help
# "--" ends the options: a file named --help is a file
run 65 err 'help' "$ctl" -c /dev/null check -- --help
# usage mistakes stay 64 on stderr
run 64 err 'egressctl check' "$ctl" check
run 64 err 'needs a value' "$ctl" check --format
run 64 err 'usage: egressctl suppress' "$ctl" suppress frobnicate x@example.org

# versions
for v in -V --version; do
	run 0 out "^egressctl [0-9]" "$ctl" "$v"
	for lib in 'PCRE2 ' 'libconfig ' 'LMDB ' 'hiredis ' 'libmilter'; do
		grep -q "^$lib" "$tmp/out" || not_ok "egressctl $v: no $lib line"
	done
	run 0 out "^milter-egress [0-9]" "$daemon" "$v"
	for lib in 'PCRE2 ' 'libconfig ' 'LMDB ' 'hiredis ' 'libmilter '; do
		grep -q "^$lib[0-9]" "$tmp/out" || not_ok "milter-egress $v: no $lib version"
	done
done
run 0 out "^configuration /x/y.conf (-c)" "$ctl" -c /x/y.conf --version
run 0 out "^configuration /x/y.conf (-c)" "$daemon" -c /x/y.conf -V
run 0 out "^configuration .*/milter-egress/milter-egress.conf" "$daemon" --version

# the daemon's help
run 0 out '^usage: milter-egress' "$daemon" -h
run 0 out '^usage: milter-egress' "$daemon" --help
run 64 err '^usage: milter-egress' "$daemon" --bogus
run 64 err '^usage: milter-egress' "$daemon" -n extra

[ "$fail" = 0 ] || { echo "FAIL: cli_options"; exit 1; }
echo "PASS: cli_options"
