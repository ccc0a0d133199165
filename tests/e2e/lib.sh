# tests/e2e/lib.sh - a private Postfix on loopback for end-to-end tests.
#
# Sourced (POSIX sh) by tests/e2e/*.sh, scripts/demo and bench/postfix_bench.sh.
# Everything lives in one temporary directory: Postfix's config, queue and data
# directories, its maillog, the capture directory of an smtp-sink that plays
# the next hop, and milter-egress's socket, config and log. The system Postfix
# is never touched. e2e_cleanup (installed as an EXIT trap by e2e_init) stops
# whatever was started, even when a test fails half-way.
#
# Layout under $E2E_DIR:
#   etc/       main.cf, master.cf          spool/   queue_directory
#   data/      data_directory (postfix)    sink/    one file per delivered message
#   run/       milter socket and pid       log/     maillog, milter.log, swaks.*
#
# Environment read: top_srcdir, top_builddir (set by `make check`), MILTER_EGRESS
# (path of the daemon, found in $top_builddir otherwise), E2E_KEEP=1 (keep the
# directory for inspection), E2E_VERBOSE=1 (print diagnostics even on success).

PATH=/usr/sbin:/sbin:$PATH
export PATH

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"

E2E_DIR=
E2E_SINK_PID=
E2E_MILTER_PID=
E2E_POSTFIX_UP=0
E2E_SENDER=sender@example.org
E2E_RCPT=rcpt@example.net

e2e_log() { printf '%s\n' "e2e: $*" >&2; }
e2e_fail() { printf '%s\n' "FAIL: $*" >&2; exit 1; }
# Skip (exit 77) - or fail when the caller demands every test really runs
# (scripts/test sets EGRESS_TESTS_REQUIRED=1 when it runs as root).
e2e_skip() {
	if [ "${EGRESS_TESTS_REQUIRED:-0}" = 1 ]; then
		printf '%s\n' "FAIL: required but cannot run: $*" >&2; exit 1
	fi
	printf '%s\n' "SKIP: $*" >&2; exit 77
}

# e2e_require [milter]: exit 77 unless we can run a private Postfix (root,
# postfix, smtp-sink, swaks present) and, with "milter", the daemon is built.
e2e_require() {
	# ./configure --disable-e2e-tests (make distcheck): skip, even when
	# tests are required - the build asked for it
	if [ "${EGRESS_E2E:-yes}" = no ]; then
		printf '%s\n' "SKIP: end-to-end tests disabled (configure --disable-e2e-tests)" >&2
		exit 77
	fi
	[ "$(id -u)" = 0 ] || e2e_skip "needs root to start a private Postfix"
	for _p in postfix postconf smtp-sink swaks; do
		command -v "$_p" >/dev/null 2>&1 || e2e_skip "$_p not installed"
	done
	getent passwd postfix >/dev/null || e2e_skip "no postfix user"
	if [ "${1:-}" = milter ]; then
		e2e_find_milter || e2e_skip "milter-egress not built"
	fi
}

# e2e_find_milter: set MILTER_EGRESS to the daemon binary (and EGRESSCTL).
e2e_find_milter() {
	if [ -z "${MILTER_EGRESS:-}" ]; then
		for _c in "$top_builddir/milter-egress" \
			"$top_builddir/src/milter/milter-egress"; do
			if [ -x "$_c" ]; then MILTER_EGRESS=$_c; break; fi
		done
	fi
	if [ -z "${EGRESSCTL:-}" ]; then
		for _c in "$top_builddir/egressctl" "$top_builddir/src/cli/egressctl"; do
			if [ -x "$_c" ]; then EGRESSCTL=$_c; break; fi
		done
	fi
	[ -n "${MILTER_EGRESS:-}" ] && [ -x "$MILTER_EGRESS" ]
}

# e2e_listening PORT: true when something listens on TCP PORT of 127.0.0.1
# (ss from iproute2; without it, a connection attempt with perl).
e2e_listening() {
	if command -v ss >/dev/null 2>&1; then
		ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
	else
		perl -MIO::Socket::INET -e 'exit(IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $ARGV[0], Timeout => 1) ? 0 : 1)' "$1"
	fi
}

# e2e_free_port: print a TCP port nobody listens on (random, 20000-31999).
e2e_free_port() {
	_i=0
	while [ $_i -lt 100 ]; do
		_n=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
		# below the kernel's ephemeral range (32768-60999 by default):
		# a client socket there, even in TIME-WAIT, makes bind() fail
		_port=$((20000 + _n % 12000))
		if ! e2e_listening "$_port"; then
			# not one we handed out already in this run
			case " ${E2E_PORTS:-} " in
			*" $_port "*) ;;
			*) E2E_PORTS="${E2E_PORTS:-} $_port"; echo "$_port"; return 0 ;;
			esac
		fi
		_i=$((_i + 1))
	done
	e2e_fail "no free port found"
}

# e2e_wait_port PORT [SECONDS]: wait until something listens on 127.0.0.1:PORT.
e2e_wait_port() {
	_t=$(( ${2:-10} * 10 ))
	while [ "$_t" -gt 0 ]; do
		e2e_listening "$1" && return 0
		sleep 0.1; _t=$((_t - 1))
	done
	return 1
}

# e2e_wait_own_port PORT PID [SECONDS]: wait until process PID listens on
# PORT; false when it died first (e.g. the port was taken) or on timeout.
e2e_wait_own_port() {
	_t=$(( ${3:-10} * 10 ))
	while [ "$_t" -gt 0 ]; do
		kill -0 "$2" 2>/dev/null || return 1
		if command -v ss >/dev/null 2>&1; then
			ss -Hltnp "sport = :$1" 2>/dev/null | grep -q "pid=$2," && return 0
		elif e2e_listening "$1"; then
			sleep 1	# still alive a second later: the listener is ours
			kill -0 "$2" 2>/dev/null
			return
		fi
		sleep 0.1; _t=$((_t - 1))
	done
	return 1
}

# e2e_init: create the directory tree, pick ports, install the cleanup trap.
# Sets E2E_DIR, E2E_SMTP_PORT (listener with the milter), E2E_PLAIN_PORT
# (listener without), E2E_SINK_PORT, E2E_MILTER_SOCKET.
e2e_init() {
	E2E_DIR=$(mktemp -d "${TMPDIR:-/tmp}/egress-e2e.XXXXXX") || e2e_fail "mktemp"
	chmod 755 "$E2E_DIR"
	trap 'e2e_cleanup $?' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	mkdir -p "$E2E_DIR/etc" "$E2E_DIR/spool" "$E2E_DIR/data" "$E2E_DIR/sink" \
		"$E2E_DIR/run" "$E2E_DIR/log"
	chown postfix "$E2E_DIR/data" "$E2E_DIR/sink"
	chmod 755 "$E2E_DIR/run" "$E2E_DIR/log"
	E2E_SMTP_PORT=$(e2e_free_port)
	E2E_PLAIN_PORT=$(e2e_free_port)
	E2E_SINK_PORT=$(e2e_free_port)
	: "${E2E_MILTER_SOCKET:=unix:$E2E_DIR/run/milter.sock}"
	E2E_MAILLOG=$E2E_DIR/log/maillog
	E2E_MILTER_LOG=$E2E_DIR/log/milter.log
}

# e2e_write_postfix_config [EXTRA_MAIN_CF_LINE...]: write main.cf and master.cf.
# smtpd on $E2E_SMTP_PORT and pickup (non_smtpd) use $E2E_MILTER_SOCKET;
# smtpd on $E2E_PLAIN_PORT has no milter. $E2E_EXTRA_MASTER (lines) is
# appended to master.cf.
e2e_write_postfix_config() {
	cat >"$E2E_DIR/etc/main.cf" <<MAINCF
compatibility_level = 3.6
config_directory = $E2E_DIR/etc
queue_directory = $E2E_DIR/spool
data_directory = $E2E_DIR/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mta.e2e.test
mydomain = e2e.test
myorigin = e2e.test
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
relayhost = [127.0.0.1]:$E2E_SINK_PORT
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
alias_maps =
alias_database =
local_transport = error:no local delivery
in_flow_delay = 0
maillog_file = $E2E_MAILLOG
maillog_file_prefixes = $E2E_DIR
local_header_rewrite_clients =
smtpd_milters = $E2E_MILTER_SOCKET
non_smtpd_milters = $E2E_MILTER_SOCKET
milter_default_action = tempfail
milter_connect_timeout = 5s
milter_command_timeout = 10s
queue_run_delay = 2s
minimal_backoff_time = 2s
maximal_backoff_time = 4s
smtp_connect_timeout = 5s
biff = no
MAINCF
	: >"$E2E_DIR/etc/main.extra"	# kept for a rewrite with other ports
	for _l in "$@"; do
		printf '%s\n' "$_l" >>"$E2E_DIR/etc/main.cf"
		printf '%s\n' "$_l" >>"$E2E_DIR/etc/main.extra"
	done
	cat >"$E2E_DIR/etc/master.cf" <<MASTERCF
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:$E2E_SMTP_PORT inet n - n - - smtpd
  -o syslog_name=postfix/milter
127.0.0.1:$E2E_PLAIN_PORT inet n - n - - smtpd
  -o syslog_name=postfix/plain -o smtpd_milters=
pickup    unix  n       -       n       2       1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
MASTERCF
	# more services (e.g. listeners with other milters), one per line
	[ -n "${E2E_EXTRA_MASTER:-}" ] && printf '%s\n' "$E2E_EXTRA_MASTER" >>"$E2E_DIR/etc/master.cf"
	return 0
}

# e2e_start_sink: smtp-sink on $E2E_SINK_PORT, one file per message in sink/.
e2e_start_sink() {
	_try=1
	while :; do
		smtp-sink -u postfix -d "$E2E_DIR/sink/msg." "127.0.0.1:$E2E_SINK_PORT" 64 \
			>"$E2E_DIR/log/sink.log" 2>&1 &
		E2E_SINK_PID=$!
		if e2e_wait_own_port "$E2E_SINK_PORT" "$E2E_SINK_PID" 30; then
			return 0
		fi
		kill "$E2E_SINK_PID" 2>/dev/null
		wait "$E2E_SINK_PID" 2>/dev/null
		E2E_SINK_PID=
		if [ $_try -ge 3 ]; then
			cat "$E2E_DIR/log/sink.log" >&2
			e2e_fail "smtp-sink did not start"
		fi
		# somebody took the port meanwhile: another one, and tell Postfix
		e2e_log "smtp-sink on $E2E_SINK_PORT: $(cat "$E2E_DIR/log/sink.log"); retrying"
		E2E_SINK_PORT=$(e2e_free_port)
		if [ -f "$E2E_DIR/etc/main.cf" ]; then
			postconf -c "$E2E_DIR/etc" -e "relayhost = [127.0.0.1]:$E2E_SINK_PORT"
		fi
		_try=$((_try + 1))
	done
}

# e2e_start_postfix: start the private instance and wait for its listeners.
e2e_start_postfix() {
	_try=1
	while ! postfix -c "$E2E_DIR/etc" start >"$E2E_DIR/log/postfix-start.log" 2>&1; do
		if [ $_try -lt 3 ] && grep -q 'Address already in use' "$E2E_MAILLOG" 2>/dev/null; then
			# a listener port was taken meanwhile: new ones, same config
			e2e_log "postfix: $(grep -m 1 'Address already in use' "$E2E_MAILLOG" | sed 's/^.*fatal: //'); retrying"
			mv "$E2E_MAILLOG" "$E2E_MAILLOG.failed.$_try"
			E2E_SMTP_PORT=$(e2e_free_port)
			E2E_PLAIN_PORT=$(e2e_free_port)
			_oldifs=$IFS; IFS='
'
			set -f
			# shellcheck disable=SC2046
			e2e_write_postfix_config $(cat "$E2E_DIR/etc/main.extra")
			set +f
			IFS=$_oldifs
			_try=$((_try + 1))
			continue
		fi
		cat "$E2E_DIR/log/postfix-start.log" >&2
		[ -f "$E2E_MAILLOG" ] && tail -n 20 "$E2E_MAILLOG" >&2
		e2e_fail "postfix did not start"
	done
	E2E_POSTFIX_UP=1
	e2e_wait_port "$E2E_SMTP_PORT" 30 || e2e_fail "smtpd did not listen"
}

e2e_stop_postfix() {
	if [ "$E2E_POSTFIX_UP" = 1 ]; then
		postfix -c "$E2E_DIR/etc" stop >/dev/null 2>&1 ||
			postfix -c "$E2E_DIR/etc" abort >/dev/null 2>&1
		E2E_POSTFIX_UP=0
	fi
}

# e2e_postqueue ARGS: postqueue for this instance (e.g. -f, -p).
e2e_postqueue() { postqueue -c "$E2E_DIR/etc" "$@"; }

# e2e_write_milter_config FILE [MODE] [CHECK_LINES...]: a milter-egress config
# for this instance. Each CHECK_LINE is one libconfig group, e.g.
#   '{ id = "body.line_too_long"; action = "tag"; }'
e2e_write_milter_config() {
	_f=$1; _mode=${2:-enforce}
	shift; [ $# -gt 0 ] && shift
	{
		printf 'mode = "%s";\n' "$_mode"
		# socket_mode 0666: Postfix's smtpd and cleanup connect as
		# user postfix to a socket the daemon (root here) creates
		printf 'milter = {\n  socket = "%s";\n  socket_mode = "0666";\n  pidfile = "%s";\n};\n' \
			"$E2E_MILTER_SOCKET" "$E2E_DIR/run/milter.pid"
		# the sender record of this instance only, never the system's
		printf 'store = {\n  state_dir = "%s";\n};\n' "$E2E_DIR/state"
		if [ $# -gt 0 ]; then
			printf 'checks = (\n'
			_sep=
			for _c in "$@"; do printf '%s  %s\n' "$_sep" "$_c"; _sep=,; done
			printf ');\n'
		fi
	} >"$_f"
}

# e2e_socket_ready: true when the milter socket accepts connections.
e2e_socket_ready() {
	case $E2E_MILTER_SOCKET in
	unix:*) [ -S "${E2E_MILTER_SOCKET#unix:}" ] ;;
	inet:*) _p=${E2E_MILTER_SOCKET#inet:}; _p=${_p%%@*}
		e2e_listening "$_p" ;;
	*) return 1 ;;
	esac
}

# e2e_start_milter CONFIG: run milter-egress in the foreground (backgrounded
# here), logging to $E2E_MILTER_LOG (appended), and wait for its socket.
e2e_start_milter() {
	e2e_find_milter || e2e_fail "milter-egress not built"
	"$MILTER_EGRESS" -f -c "$1" -p "$E2E_MILTER_SOCKET" >>"$E2E_MILTER_LOG" 2>&1 &
	E2E_MILTER_PID=$!
	_t=100
	while [ $_t -gt 0 ]; do
		e2e_socket_ready && break
		kill -0 "$E2E_MILTER_PID" 2>/dev/null || {
			cat "$E2E_MILTER_LOG" >&2; e2e_fail "milter-egress exited"; }
		sleep 0.1; _t=$((_t - 1))
	done
	e2e_socket_ready || e2e_fail "milter-egress socket did not appear"
	case $E2E_MILTER_SOCKET in
	unix:*) chmod 666 "${E2E_MILTER_SOCKET#unix:}" ;;   # postfix must connect
	esac
}

# e2e_stop_milter: SIGTERM the daemon and wait until it has exited; its
# exit status is left in E2E_MILTER_STATUS.
e2e_stop_milter() {
	[ -n "$E2E_MILTER_PID" ] || return 0
	kill -TERM "$E2E_MILTER_PID" 2>/dev/null
	_t=100
	while [ $_t -gt 0 ] && kill -0 "$E2E_MILTER_PID" 2>/dev/null; do
		sleep 0.1; _t=$((_t - 1))
	done
	kill -KILL "$E2E_MILTER_PID" 2>/dev/null
	wait "$E2E_MILTER_PID" 2>/dev/null
	E2E_MILTER_STATUS=$?	# 0 when SIGTERM stopped it gracefully
	E2E_MILTER_PID=
	case $E2E_MILTER_SOCKET in
	unix:*) rm -f "${E2E_MILTER_SOCKET#unix:}" ;;
	esac
}

# e2e_smtp_data IN OUT [raw]: turn a message file into the exact DATA bytes
# swaks sends with --no-data-fixup: lines end in CRLF, leading dots doubled,
# final "." line (swaks adds the last CRLF). With "raw", IN is taken as it is
# (it must already be CRLF terminated and dot-stuffed) - for bare LF/CR tests.
e2e_smtp_data() {
	if [ "${3:-}" = raw ]; then
		{ cat "$1"; printf '.'; } >"$2"
	else
		sed 's/\r$//' "$1" | awk '{
			if (substr($0, 1, 1) == ".") $0 = "." $0
			printf "%s\r\n", $0 } END { printf "." }' >"$2"
	fi
}

# e2e_send NAME FILE [PORT] [SWAKS_ARGS...]: send FILE over SMTP with swaks
# (byte-exact, see e2e_smtp_data; set E2E_RAW=1 to send FILE unconverted);
# the transcript goes to log/swaks.NAME (see e2e_reply). Returns swaks' status.
e2e_send() {
	_name=$1; _file=$2; _port=${3:-$E2E_SMTP_PORT}
	shift 2; [ $# -gt 0 ] && shift
	_data=$E2E_DIR/log/data.$_name
	if [ "${E2E_RAW:-0}" = 1 ]; then
		e2e_smtp_data "$_file" "$_data" raw
	else
		e2e_smtp_data "$_file" "$_data"
	fi
	swaks --server 127.0.0.1 --port "$_port" --helo client.e2e.test \
		--from "$E2E_SENDER" --to "$E2E_RCPT" --data "$_data" --no-data-fixup \
		--timeout 60 "$@" >"$E2E_DIR/log/swaks.$_name" 2>&1
}

# e2e_reply NAME: print the server reply that decided the transaction: the
# reply to the final "." when the message data was sent, else the first 4xx or
# 5xx reply (e.g. 451 at MAIL FROM when the milter is unreachable).
e2e_reply() {
	awk '/^ -> \.$/ { dot = 1; next }
		dot && /^<[-*~]+ / { sub(/^<[-*~]+ +/, ""); print; found = 1; exit }
		!err && /^<[-*~]+ +[45][0-9][0-9][ -]/ { err = $0; sub(/^<[-*~]+ +/, "", err) }
		END { if (!found && err != "") print err }' "$E2E_DIR/log/swaks.$1"
}

# e2e_queue_count: number of messages in the queue (any state).
e2e_queue_count() {
	find "$E2E_DIR/spool/incoming" "$E2E_DIR/spool/active" \
		"$E2E_DIR/spool/deferred" "$E2E_DIR/spool/maildrop" \
		"$E2E_DIR/spool/hold" -type f 2>/dev/null | wc -l
}

# e2e_wait_queue_empty [SECONDS]: wait until the queue is empty. Two empty
# readings 0.1 s apart: a file moving between queue directories can be missed
# by one directory walk.
e2e_wait_queue_empty() {
	_t=$(( ${1:-30} * 10 ))
	_z=0
	while [ "$_t" -gt 0 ]; do
		if [ "$(e2e_queue_count)" -eq 0 ]; then
			_z=$((_z + 1))
			[ "$_z" -ge 2 ] && return 0
		else
			_z=0
		fi
		sleep 0.1; _t=$((_t - 1))
	done
	return 1
}

# e2e_sent_count: deliveries logged with status=sent.
e2e_sent_count() {
	grep -c 'status=sent' "$E2E_MAILLOG" 2>/dev/null || true
}

# e2e_wait_log PATTERN [SECONDS] [FILE]: wait until an ERE matches in FILE
# (default the maillog).
e2e_wait_log() {
	_t=$(( ${2:-30} * 10 ))
	while [ "$_t" -gt 0 ]; do
		grep -Eq "$1" "${3:-$E2E_MAILLOG}" 2>/dev/null && return 0
		sleep 0.1; _t=$((_t - 1))
	done
	return 1
}

# e2e_delivered MARKER: print the path of the sink file holding MARKER
# (a unique string in the message, e.g. its Subject). Nothing if none.
e2e_delivered() {
	grep -rlF -- "$1" "$E2E_DIR/sink" 2>/dev/null | head -n 1
}

# e2e_wait_delivered MARKER [SECONDS]: wait for the message; print its path.
e2e_wait_delivered() {
	_t=$(( ${2:-30} * 10 ))
	while [ "$_t" -gt 0 ]; do
		_f=$(e2e_delivered "$1")
		if [ -n "$_f" ] && e2e_wait_queue_empty 5; then echo "$_f"; return 0; fi
		sleep 0.1; _t=$((_t - 1))
	done
	return 1
}

# e2e_strip_transport FILE: print a delivered message without what transport
# added: smtp-sink's X-Client-Addr/X-Client-Proto/X-Helo-Args/X-Mail-Args/
# X-Rcpt-Args records, every Received: field (with its continuation lines)
# and smtp-sink's final empty line. Line ends are normalised to LF.
e2e_strip_transport() {
	tr -d '\r' <"$1" | awk '
		BEGIN { inhdr = 1 }
		inhdr && /^$/ { inhdr = 0; print; next }
		inhdr && /^[ \t]/ { if (!skip) print; next }
		inhdr {
			skip = ($0 ~ /^(Received|X-Client-Addr|X-Client-Proto|X-Helo-Args|X-Mail-Args|X-Rcpt-Args):/)
			if (!skip) print
			next
		}
		{ body[++n] = $0 }
		END {
			if (n > 0 && body[n] == "") n--
			for (i = 1; i <= n; i++) print body[i]
		}'
}

# e2e_header FILE NAME: print the values of header NAME in FILE (unfolded,
# one per line, case-insensitive name).
e2e_header() {
	tr -d '\r' <"$1" | awk -v want="$2" '
		BEGIN { want = tolower(want) }
		/^$/ { if (cur != "") print cur; exit }
		/^[ \t]/ { if (cur != "") cur = cur $0; next }
		{
			if (cur != "") print cur
			cur = ""
			i = index($0, ":")
			if (i > 0 && tolower(substr($0, 1, i - 1)) == want) {
				cur = substr($0, i + 1); sub(/^[ \t]+/, "", cur)
			}
		}'
}

# e2e_header_count FILE NAME: number of NAME fields in FILE's header.
e2e_header_count() {
	tr -d '\r' <"$1" | awk -v want="$2" '
		BEGIN { want = tolower(want) }
		/^$/ { exit }
		{ i = index($0, ":"); if (i > 0 && tolower(substr($0, 1, i - 1)) == want) n++ }
		END { print n + 0 }'
}

# e2e_queue_id FILE: the Postfix queue id of a delivered message, from the
# Received: field Postfix added ("by mta.e2e.test (Postfix...) ... id QID").
e2e_queue_id() {
	tr -d '\r' <"$1" | awk '
		/^$/ { exit }
		/^Received:/ { r = $0; inr = 1; next }
		/^[ \t]/ && inr { r = r $0; next }
		{ inr = 0 }
		# " id QID", not the "id 0" of "(Postfix, from userid 0)" (pickup)
		r != "" && r ~ /\(Postfix/ { if (match(r, /[ \t]id [0-9A-Za-z]+/)) { print substr(r, RSTART + 4, RLENGTH - 4); exit } }
		{ r = "" }'
}

# e2e_diagnostics: dump what helps to understand a failure.
e2e_diagnostics() {
	[ -n "$E2E_DIR" ] || return 0
	echo "---- e2e diagnostics ($E2E_DIR) ----" >&2
	for _f in "$E2E_DIR"/log/swaks.*; do
		[ -f "$_f" ] || continue
		echo "-- $_f" >&2; tail -n 15 "$_f" >&2
	done
	if [ -f "$E2E_MAILLOG" ]; then echo "-- maillog" >&2; tail -n 40 "$E2E_MAILLOG" >&2; fi
	if [ -s "$E2E_DIR/log/sink.log" ]; then echo "-- sink.log" >&2; tail -n 10 "$E2E_DIR/log/sink.log" >&2; fi
	if [ -f "$E2E_MILTER_LOG" ]; then echo "-- milter.log" >&2; tail -n 40 "$E2E_MILTER_LOG" >&2; fi
	echo "-- sink: $(ls "$E2E_DIR/sink" 2>/dev/null | wc -l) message(s)" >&2
}

# e2e_cleanup STATUS: stop everything started, remove the directory.
e2e_cleanup() {
	_st=${1:-0}
	trap - EXIT INT TERM HUP
	if [ "$_st" != 0 ] && [ "$_st" != 77 ] || [ "${E2E_VERBOSE:-0}" = 1 ]; then
		e2e_diagnostics
	fi
	e2e_stop_postfix
	e2e_stop_milter
	# a sanitizer report from the daemon (ASan/UBSan builds) fails the test
	if [ -f "${E2E_MILTER_LOG:-}" ] &&
		grep -q 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|WARNING: ThreadSanitizer\|runtime error:' "$E2E_MILTER_LOG"; then
		echo "FAIL: sanitizer report in the milter log:" >&2
		grep -A 30 -m 1 'Sanitizer\|runtime error:' "$E2E_MILTER_LOG" >&2
		[ "$_st" = 0 ] && _st=1
	fi
	for _p in ${E2E_EXTRA_PIDS:-}; do	# other processes a caller started
		kill -TERM "$_p" 2>/dev/null
		wait "$_p" 2>/dev/null
	done
	E2E_EXTRA_PIDS=
	if [ -n "$E2E_SINK_PID" ]; then
		kill "$E2E_SINK_PID" 2>/dev/null
		wait "$E2E_SINK_PID" 2>/dev/null
		E2E_SINK_PID=
	fi
	if [ -n "$E2E_DIR" ] && [ -d "$E2E_DIR" ]; then
		if [ "${E2E_KEEP:-0}" = 1 ]; then
			echo "e2e: kept $E2E_DIR" >&2
		else
			rm -rf "$E2E_DIR"
		fi
	fi
	exit "$_st"
}

# e2e_up: the usual start: init, Postfix config, sink, Postfix. Start the
# milter with e2e_write_milter_config + e2e_start_milter (before or after).
e2e_up() {
	e2e_init
	e2e_write_postfix_config
	e2e_start_sink
	e2e_start_postfix
}
