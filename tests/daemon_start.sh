#!/bin/sh
# daemon_start.sh - milter-egress fails before it detaches, says why (with
# the errno text) and leaves nothing behind; a clean start and stop leaves
# nothing behind either, also after dropping privileges; the log file has
# RFC 3339 time stamps and is reopened on SIGUSR1; a stop that libmilter
# hangs is finished by the daemon's watchdog.
#
# Each case starts the real daemon (detaching, as in production, unless
# the case is about -f) and asserts the exit status, the message and the
# files left in its run directory. Waits are bounded polls on a condition
# (a file, a process), never fixed sleeps. Needs root (the privilege drop,
# directories of another user); skips (77) otherwise, or fails when
# EGRESS_TESTS_REQUIRED=1.
set -u

top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
bin=$top_builddir/milter-egress

skip() {
	if [ "${EGRESS_TESTS_REQUIRED:-0}" = 1 ]; then
		echo "FAIL: required but cannot run: $*"; exit 1
	fi
	echo "SKIP: $*"; exit 77
}
[ -x "$bin" ] || skip "$bin not built"
[ "$(id -u)" = 0 ] || skip "needs root (privilege drop, other users' directories)"
getent passwd nobody >/dev/null || skip "no user nobody"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/egress-start.XXXXXX") || exit 99
chmod 755 "$tmp"
pids=
cleanup() {
	for p in $pids; do kill -KILL "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail=0
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; fail=1; }

# conf NAME [LINES...]: a config whose milter section is built from
# $sock, $pidf and $extra_milter, the store section from $state.
conf() {
	_f=$tmp/$1.conf
	{
		printf 'milter = {\n  socket = "%s";\n' "$sock"
		[ -n "$pidf" ] && printf '  pidfile = "%s";\n' "$pidf"
		[ -n "$extra_milter" ] && printf '%s\n' "$extra_milter"
		printf '};\nstore = {\n  state_dir = "%s";\n};\n' "$state"
	} >"$_f"
	echo "$_f"
}

# start CONF [ARGS...]: run the daemon (it detaches), status in $st,
# stderr in $tmp/err, stdout in $tmp/out.
start() {
	_c=$1; shift
	"$bin" -c "$_c" "$@" >"$tmp/out" 2>"$tmp/err"
	st=$?
}

# expect STATUS TEXT LABEL: the last start exited STATUS with TEXT on stderr.
expect() {
	if [ "$st" -eq "$1" ] && grep -qF -- "$2" "$tmp/err"; then
		ok "$3: exit $st, \"$(head -n 1 "$tmp/err")\""
	else
		not_ok "$3: exit $st (want $1), stderr:"; sed 's/^/#   /' "$tmp/err"
		echo "#   want: $2"
	fi
}

# empty_dir DIR LABEL: nothing left in DIR.
empty_dir() {
	if [ -z "$(ls -A "$1")" ]; then
		ok "$2: nothing left in $(basename "$1")"
	else
		not_ok "$2: left in $1: $(ls -A "$1" | tr '\n' ' ')"
	fi
}

# wait_gone PID: until the process has exited (bounded: 30 s).
wait_gone() {
	_t=300
	while [ $_t -gt 0 ] && kill -0 "$1" 2>/dev/null; do
		sleep 0.1; _t=$((_t - 1))
	done
	! kill -0 "$1" 2>/dev/null
}

# wait_file FILE: until FILE exists and is not empty (bounded: 30 s).
wait_file() {
	_t=300
	while [ $_t -gt 0 ] && [ ! -s "$1" ]; do sleep 0.1; _t=$((_t - 1)); done
	[ -s "$1" ]
}

# stop PIDFILE_OR_PID LABEL: SIGTERM and wait until it has exited.
stop() {
	case $1 in
	/*) _p=$(cat "$1") ;;
	*) _p=$1 ;;
	esac
	kill -TERM "$_p" 2>/dev/null
	if wait_gone "$_p"; then ok "$2: stopped on SIGTERM"; else
		not_ok "$2: still running 30 s after SIGTERM"; kill -KILL "$_p"; fi
}

run=$tmp/run
state=$tmp/state
mkdir -p "$run" "$state"
sock=unix:$run/milter.sock
pidf=$run/milter.pid
extra_milter=

# -- 1. A clean start detaches (exit 0 once serving) and a stop leaves nothing.
c=$(conf clean)
start "$c"
if [ "$st" -eq 0 ] && [ -S "$run/milter.sock" ] && [ -s "$pidf" ] &&
    kill -0 "$(cat "$pidf")" 2>/dev/null; then
	ok "clean start: exit 0, socket and pid file of a live process ($(cat "$pidf"))"
else
	not_ok "clean start: exit $st"; cat "$tmp/err"
fi
[ -s "$tmp/err" ] && { not_ok "clean start: stderr not empty"; cat "$tmp/err"; }
pid=$(cat "$pidf" 2>/dev/null); pids="$pids $pid"

# -- 2. The socket in use: a second daemon refuses, the first keeps serving.
pidf=$run/second.pid
c2=$(conf second)
start "$c2"
expect 71 "socket $run/milter.sock is in use" "socket in use"
[ ! -e "$run/second.pid" ] && ok "socket in use: no pid file" || not_ok "socket in use: pid file left"
if [ -S "$run/milter.sock" ] && kill -0 "$pid" 2>/dev/null; then
	ok "socket in use: the first daemon still serves"
else
	not_ok "socket in use: the first daemon lost its socket"
fi
pidf=$run/milter.pid

# -- 3. A pid file naming a running process stops the start.
sock=unix:$run/other.sock
c3=$(conf running)
start "$c3"
expect 71 "names pid $pid, which is running" "pid file of a running daemon"
[ ! -e "$run/other.sock" ] && ok "pid file of a running daemon: no socket left" ||
	not_ok "pid file of a running daemon: socket left"
[ "$(cat "$pidf")" = "$pid" ] && ok "pid file of a running daemon: untouched" ||
	not_ok "pid file of a running daemon: overwritten"
sock=unix:$run/milter.sock
stop "$pid" "clean stop"
empty_dir "$run" "clean stop"

# -- 4. A stale pid file (dead process) is replaced.
echo 2147483646 >"$pidf"
start "$c"
if [ "$st" -eq 0 ] && [ "$(cat "$pidf")" != 2147483646 ]; then
	ok "stale pid file replaced (now $(cat "$pidf"))"
else
	not_ok "stale pid file: exit $st"; cat "$tmp/err"
fi
pid=$(cat "$pidf"); pids="$pids $pid"
stop "$pid" "stale pid file"
empty_dir "$run" "stale pid file"

# -- 5. A symbolic link at the pid file is never followed.
echo "keep me" >"$tmp/victim"
ln -s "$tmp/victim" "$pidf"
start "$c"
expect 71 "pid file $pidf: Too many levels of symbolic links (a symbolic link: not following it)" "pid file symlink"
[ "$(cat "$tmp/victim")" = "keep me" ] && ok "pid file symlink: target untouched" ||
	not_ok "pid file symlink: target overwritten"
[ ! -e "$run/milter.sock" ] && ok "pid file symlink: no socket left" || not_ok "pid file symlink: socket left"
rm -f "$pidf"

# -- 6. No run directory: the reason has the errno text; nothing created.
sock=unix:$tmp/absent/milter.sock
c6=$(conf norun)
start "$c6"
expect 71 "socket directory $tmp/absent: No such file or directory" "missing run directory"
empty_dir "$run" "missing run directory"
sock=unix:$run/milter.sock

# -- 7. A state directory that cannot be created, one that is created, a
# file as state directory.
state=$tmp/absent/state
c7=$(conf nostate)
start "$c7"
expect 71 "state directory $tmp/absent/state (store.state_dir) cannot be created by root: No such file or directory" "missing state directory"
empty_dir "$run" "missing state directory"
state=$tmp/newstate
c7a=$(conf newstate)
start "$c7a"
pid=$(cat "$pidf" 2>/dev/null); pids="$pids $pid"
[ "$st" -eq 0 ] && [ -d "$tmp/newstate" ] && ok "missing state directory with a parent: created" ||
	{ not_ok "missing state directory with a parent: exit $st"; cat "$tmp/err"; }
stop "$pid" "created state directory"
empty_dir "$run" "created state directory"
: >"$tmp/statefile"
state=$tmp/statefile
c7b=$(conf statefile)
"$bin" -n -c "$c7b" >"$tmp/out" 2>"$tmp/err"; st=$?
expect 78 "$c7b:6: store.state_dir: $tmp/statefile: Not a directory" "state_dir is a file (-n)"
start "$c7b"
expect 78 "store.state_dir: $tmp/statefile: Not a directory" "state_dir is a file (start)"
empty_dir "$run" "state_dir is a file"
state=$tmp/state

# -- 8. A state directory milter.user cannot write (root-owned 0755).
chown root:root "$state"; chmod 755 "$state"
extra_milter='  user = "nobody";'
c8=$(conf notwritable)
start "$c8"
expect 71 "state directory $state (store.state_dir) is not writable by nobody: Permission denied" "state directory not writable"
empty_dir "$run" "state directory not writable"

# -- 8b. The directory is the user's but its data files (made by root
# above) are not: the store fails after the socket and the pid file were
# made, and both are removed again (the run directory is the user's).
chown nobody "$state" "$run"
start "$c8"
expect 71 "cannot open the sender store: lmdb: open $state: Permission denied" "store cannot open"
empty_dir "$run" "store cannot open"

# -- 9. With the drop: a run directory of the user is cleaned at exit.
# the data files the earlier cases created as root too
chown -R nobody "$state" "$run"
start "$c8"
if [ "$st" -eq 0 ] && [ "$(stat -c %U "/proc/$(cat "$pidf")")" = nobody ]; then
	ok "privilege drop: serving as nobody"
else
	not_ok "privilege drop: exit $st"; cat "$tmp/err"
fi
pid=$(cat "$pidf"); pids="$pids $pid"
stop "$pid" "privilege drop"
empty_dir "$run" "privilege drop, run directory of the user"

# -- 10. With the drop and a root-owned run directory: the pid file is
# emptied (it names no process) and the log says why.
chown root "$run"
extra_milter='  user = "nobody";
  log_file = "'"$tmp"'/log/milter.log";'
mkdir -p "$tmp/log"; chown nobody "$tmp/log"
c10=$(conf rootrun)
start "$c10"
pid=$(cat "$pidf" 2>/dev/null); pids="$pids $pid"
[ "$st" -eq 0 ] && ok "root-owned run directory: started" || { not_ok "root-owned run directory: exit $st"; cat "$tmp/err"; }
grep -q "cannot be removed at exit" "$tmp/log/milter.log" &&
	ok "root-owned run directory: warned at start" || not_ok "root-owned run directory: no warning"
stop "$pid" "root-owned run directory"
if [ -e "$pidf" ] && [ ! -s "$pidf" ]; then
	ok "root-owned run directory: pid file emptied"
else
	not_ok "root-owned run directory: pid file $(cat "$pidf" 2>/dev/null || echo absent)"
fi
grep -q "cannot remove the pid file $pidf: Permission denied; emptied it" "$tmp/log/milter.log" &&
	ok "root-owned run directory: logged" || { not_ok "root-owned run directory: not logged"; cat "$tmp/log/milter.log"; }
rm -f "$pidf" "$run/milter.sock"
chown nobody "$run"

# -- 11. The log file: RFC 3339 time stamps, reopened on SIGUSR1.
start "$c10"
pid=$(cat "$pidf"); pids="$pids $pid"
ts='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}[+-][0-9]{2}:[0-9]{2}'
if grep -Eq "^$ts milter-egress\[$pid\]: starting milter-egress" "$tmp/log/milter.log"; then
	ok "log file: $(grep -m 1 'starting' "$tmp/log/milter.log" | cut -c1-90)"
else
	not_ok "log file: no time-stamped start line"; cat "$tmp/log/milter.log"
fi
mv "$tmp/log/milter.log" "$tmp/log/milter.log.1"
kill -USR1 "$pid"
if wait_file "$tmp/log/milter.log" && grep -q "configuration reloaded" "$tmp/log/milter.log"; then
	ok "log file: reopened on SIGUSR1"
else
	not_ok "log file: not reopened"
fi
stop "$pid" "log file"
grep -q "stopped" "$tmp/log/milter.log" && ok "log file: stop logged in the new file" ||
	not_ok "log file: stop not logged"
empty_dir "$run" "log file"
extra_milter=

# -- 12. -f: stderr lines carry the time stamp.
c12=$(conf foreground)
"$bin" -f -c "$c12" >"$tmp/fg.out" 2>"$tmp/fg.err" &
fgpid=$!; pids="$pids $fgpid"
wait_file "$pidf"
kill -TERM "$fgpid"; wait "$fgpid"; st=$?
if [ "$st" -eq 0 ] && grep -Eq "^$ts milter-egress\[$fgpid\]: starting" "$tmp/fg.err"; then
	ok "-f: time-stamped stderr, exit 0 on SIGTERM"
else
	not_ok "-f: exit $st"; cat "$tmp/fg.err"
fi
empty_dir "$run" "-f"

# -- 13. An inet port in use: the bind error text.
port=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 12000 ))
sock=inet:$port@127.0.0.1
c13=$(conf inet)
start "$c13"
pid=$(cat "$pidf" 2>/dev/null); pids="$pids $pid"
if [ "$st" -eq 0 ]; then
	pidf=$run/inet2.pid
	c13b=$(conf inet2)
	start "$c13b"
	expect 71 "cannot listen on inet:$port@127.0.0.1: Address already in use" "inet port in use"
	[ ! -e "$pidf" ] && ok "inet port in use: no pid file" || not_ok "inet port in use: pid file left"
	pidf=$run/milter.pid
	stop "$pid" "inet"
else
	# the random port was taken by somebody else: the same assertion
	expect 71 "Address already in use" "inet port in use (by another process)"
fi
empty_dir "$run" "inet"
sock=unix:$run/milter.sock

# -- 14. Bad socket specifications and an unknown user.
"$bin" -c "$c" -p "inet:99999@127.0.0.1" >"$tmp/out" 2>"$tmp/err"; st=$?
expect 64 "-p inet:99999@127.0.0.1: the port must be a number from 1 to 65535" "-p with a bad port"
extra_milter='  user = "no-such-user-egress";'
c14=$(conf nouser)
start "$c14"
expect 71 "unknown user \"no-such-user-egress\" (milter.user)" "unknown user"
empty_dir "$run" "unknown user"

# -- 15. libmilter stops but smfi_main() never returns (its worker pool can
# hang its own shutdown under load; injected here by an LD_PRELOAD wrapper
# around the real smfi_main()): the watchdog finishes the shutdown after
# 10 s, exit 0, "stopped", nothing left.
cc=${CC:-cc}
if "$cc" -shared -fPIC -o "$tmp/hang.so" \
    "$top_srcdir/tests/data/milter/hang_smfi_main.c" 2>"$tmp/cc.err"; then
	extra_milter="  log_file = \"$tmp/wd.log\";"
	c15=$(conf watchdog)
	# ASan wants its runtime first in the list; the wrapper comes before it
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
	    LD_PRELOAD="$tmp/hang.so" "$bin" -c "$c15" >"$tmp/out" 2>"$tmp/err"
	st=$?
	pid=$(cat "$pidf" 2>/dev/null); pids="$pids $pid"
	if [ "$st" -eq 0 ] && [ -n "$pid" ]; then
		stop "$pid" "watchdog"
		if grep -q 'has not returned .* finishing without it' "$tmp/wd.log" &&
		    grep -q ': stopped$' "$tmp/wd.log"; then
			ok "watchdog: finished the shutdown smfi_main() did not return to"
		else
			not_ok "watchdog: log:"; sed 's/^/#   /' "$tmp/wd.log"
		fi
	else
		not_ok "watchdog: start exit $st"; cat "$tmp/err"
	fi
	empty_dir "$run" "watchdog"
	extra_milter=
else
	not_ok "watchdog: cannot build the wrapper"; cat "$tmp/cc.err"
fi

[ "$fail" = 0 ] || { echo "FAIL: daemon_start"; exit 1; }
echo "PASS: daemon_start"
