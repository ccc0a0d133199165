# tests/e2e/sendmail_lib.sh - a private Sendmail on loopback for end-to-end
# tests. Sourced (POSIX sh) after tests/e2e/lib.sh, whose directory layout,
# smtp-sink, milter start/stop, swaks client and cleanup trap it reuses.
#
# Debian's sendmail-bin conflicts with postfix, which the other tests need,
# so Sendmail is never installed: sm_fetch downloads sendmail-bin and
# sendmail-cf with `apt-get download` and unpacks them with `dpkg-deb -x`
# into a private root, cached for later runs (default
# /var/cache/milter-egress-tests/sendmail; EGRESS_SENDMAIL_ROOT names another
# root, e.g. one made by hand on a machine without apt). The binary's
# libraries (libwrap0, liblockfile1, libdb5.3, libldap, libsasl2, libnsl2)
# come from scripts/lib.sh install_deps.
#
# The instance: sendmail.cf built with the package's m4 files from a .mc
# written here (sm_write_config), one daemon on 127.0.0.1:$SM_PORT (no MSA
# on 587, no port 25), its queue, pid file and statistics under
# $E2E_DIR/sm, the milter through INPUT_MAIL_FILTER with F=T, everything
# relayed to the smtp-sink of lib.sh as [127.0.0.1]:$E2E_SINK_PORT, no DNS
# (hosts from /etc/hosts only, service.switch of its own, nocanonify).
# /etc/mail is never read or written. The MTA daemon runs as root; the mail
# submission program (sm_write_submit_config, what `sendmail -t` runs) runs
# as user smmsp, which is created (with its group) when missing, as
# Debian's sendmail-base would.
#
# The daemon runs in the foreground (-bD) in a session of its own (setsid),
# so that sm_stop can wait for it and every child it forked; sm_up's EXIT
# trap stops it before lib.sh's e2e_cleanup stops the rest. Sendmail sleeps a minute at start
# when the host name has no dot (`vm`): it then runs in a UTS namespace of
# its own (unshare --uts) whose host name is mta.e2e.test.
#
# Layout under $E2E_DIR/sm:
#   etc/      sendmail.mc, sendmail.cf, submit.mc, submit.cf, service.switch
#   mqueue/   the daemon's queue     clientmqueue/  the MSP's (smmsp, 0770)
#   run/      pid files
#   trace     SMTP transcript of every session (sendmail -X), diagnostics

: "${EGRESS_SENDMAIL_CACHE:=/var/cache/milter-egress-tests}"
SM_PID=
SM_UTS=
SM_HOST=mta.e2e.test

# sm_bin: the sendmail binary of the private root.
sm_bin() { printf '%s\n' "$SM_ROOT/usr/libexec/sendmail/sendmail"; }

# sm_root_ok DIR: true when DIR holds the binary and the m4 files.
sm_root_ok() {
	[ -x "$1/usr/libexec/sendmail/sendmail" ] &&
		[ -f "$1/usr/share/sendmail/cf/m4/cf.m4" ]
}

# sm_fetch: set SM_ROOT, downloading and unpacking the packages once.
# Concurrent runs (two build directories) serialise on a lock file.
sm_fetch() {
	if [ -n "${EGRESS_SENDMAIL_ROOT:-}" ]; then
		SM_ROOT=$EGRESS_SENDMAIL_ROOT
		sm_root_ok "$SM_ROOT" || e2e_skip "EGRESS_SENDMAIL_ROOT=$SM_ROOT has no sendmail binary and cf files"
		return 0
	fi
	SM_ROOT=$EGRESS_SENDMAIL_CACHE/sendmail
	sm_root_ok "$SM_ROOT" && return 0
	for _p in apt-get dpkg-deb flock; do
		command -v "$_p" >/dev/null 2>&1 || e2e_skip "no $_p to fetch Sendmail (set EGRESS_SENDMAIL_ROOT)"
	done
	mkdir -p "$EGRESS_SENDMAIL_CACHE" || e2e_skip "cannot create $EGRESS_SENDMAIL_CACHE"
	(
		flock 9 || exit 1
		sm_root_ok "$SM_ROOT" && exit 0
		_tmp=$(mktemp -d "$EGRESS_SENDMAIL_CACHE/fetch.XXXXXX") || exit 1
		# apt's download sandbox user must be able to write there
		getent passwd _apt >/dev/null && chown _apt "$_tmp"
		(cd "$_tmp" && apt-get download sendmail-bin sendmail-cf) \
			>"$_tmp/download.log" 2>&1 || {
			cat "$_tmp/download.log" >&2; rm -rf "$_tmp"; exit 1; }
		for _d in "$_tmp"/*.deb; do
			dpkg-deb -x "$_d" "$_tmp/root" || { rm -rf "$_tmp"; exit 1; }
		done
		dpkg-deb -f "$_tmp"/sendmail-bin_*.deb Version >"$_tmp/root/VERSION"
		sm_root_ok "$_tmp/root" || { rm -rf "$_tmp"; exit 1; }
		rm -rf "$SM_ROOT"
		mv "$_tmp/root" "$SM_ROOT" && rm -rf "$_tmp"
	) 9>"$EGRESS_SENDMAIL_CACHE/.lock" ||
		e2e_skip "could not fetch sendmail-bin/sendmail-cf with apt-get download"
	sm_root_ok "$SM_ROOT" || e2e_skip "no Sendmail in $SM_ROOT"
}

# sm_require: what lib.sh's e2e_require checks, plus a Sendmail to run
# (fetched when missing) whose shared libraries are all installed, and m4.
sm_require() {
	[ "$(id -u)" = 0 ] || e2e_skip "needs root to run a private Sendmail daemon"
	e2e_require milter
	command -v m4 >/dev/null 2>&1 || e2e_skip "m4 not installed (needed to build sendmail.cf)"
	sm_fetch
	_miss=$(ldd "$(sm_bin)" 2>/dev/null | sed -n 's/^[[:space:]]*\([^ ]*\) => not found.*/\1/p' | tr '\n' ' ')
	[ -z "$_miss" ] || e2e_skip "sendmail needs libraries not installed: $_miss(scripts/test installs them)"
}

# sm_write_config [MC_LINE...]: write sendmail.mc and build sendmail.cf from
# it; each MC_LINE is appended before the MAILER lines. Picks SM_PORT.
sm_write_config() {
	SM_DIR=$E2E_DIR/sm
	mkdir -p "$SM_DIR/etc" "$SM_DIR/mqueue" "$SM_DIR/run"
	chmod 700 "$SM_DIR/mqueue"
	: "${SM_PORT:=$(e2e_free_port)}"
	printf 'hosts files\naliases files\n' >"$SM_DIR/etc/service.switch"
	: >"$SM_DIR/etc/extra.mc"	# kept for a rebuild with another port
	for _l in "$@"; do printf '%s\n' "$_l" >>"$SM_DIR/etc/extra.mc"; done
	sm_build_cf
}

# sm_build_cf: sendmail.mc for $SM_PORT plus etc/extra.mc, then sendmail.cf.
sm_build_cf() {
	_cf=$SM_ROOT/usr/share/sendmail/cf
	{
		cat <<MC
divert(-1)
dnl A private Sendmail for milter-egress's tests: loopback only, no DNS,
dnl nothing under /etc/mail, everything relayed to the test's sink.
divert(0)dnl
OSTYPE(\`linux')dnl
dnl files that default to /etc/mail/* live here instead
define(\`MAIL_SETTINGS_DIR', \`$SM_DIR/etc/')dnl
undefine(\`confCR_FILE')dnl
define(\`ALIAS_FILE', \`')dnl
define(\`HELP_FILE', \`')dnl
define(\`STATUS_FILE', \`$SM_DIR/etc/statistics')dnl
define(\`QUEUE_DIR', \`$SM_DIR/mqueue')dnl
define(\`confPID_FILE', \`$SM_DIR/run/sendmail.pid')dnl
define(\`confHOST_STATUS_DIRECTORY', \`')dnl
dnl the test directory sits in /tmp (sticky, world-writable)
define(\`confDONT_BLAME_SENDMAIL', \`TrustStickyBit')dnl
dnl no DNS: own name given, hosts from /etc/hosts, no interface probing
define(\`confDOMAIN_NAME', \`$SM_HOST')dnl
define(\`confSERVICE_SWITCH_FILE', \`$SM_DIR/etc/service.switch')dnl
define(\`confBIND_OPTS', \`-DNSRCH -DEFNAMES')dnl
define(\`confDONT_PROBE_INTERFACES', \`true')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`accept_unresolvable_domains')dnl
define(\`confTO_IDENT', \`0')dnl
dnl deliver before the reply to DATA; never refuse for load
define(\`confDELIVERY_MODE', \`interactive')dnl
define(\`confQUEUE_LA', \`1000')dnl
define(\`confREFUSE_LA', \`1000')dnl
define(\`confDELAY_LA', \`0')dnl
dnl one listener on loopback, no MSA on port 587
FEATURE(\`no_default_msa')dnl
DAEMON_OPTIONS(\`Port=$SM_PORT, Addr=127.0.0.1, Name=MTA')dnl
dnl every recipient goes to the sink, by address, on its port
define(\`SMART_HOST', \`relay:[127.0.0.1]')dnl
define(\`RELAY_MAILER_ARGS', \`TCP \$h $E2E_SINK_PORT')dnl
dnl the filter under test, as the README documents it
INPUT_MAIL_FILTER(\`egress', \`S=$E2E_MILTER_SOCKET, F=T, T=S:10s;R:10s;E:5m')dnl
define(\`confMILTER_LOG_LEVEL', \`2')dnl
MC
		cat "$SM_DIR/etc/extra.mc"
		printf 'MAILER(`smtp'"'"')dnl\n'
	} >"$SM_DIR/etc/sendmail.mc"
	m4 -D_CF_DIR_="$_cf/" "$_cf/m4/cf.m4" "$SM_DIR/etc/sendmail.mc" \
		>"$SM_DIR/etc/sendmail.cf" 2>"$SM_DIR/etc/m4.err" || {
		cat "$SM_DIR/etc/m4.err" >&2; e2e_fail "m4 could not build sendmail.cf"; }
	[ -s "$SM_DIR/etc/m4.err" ] && { cat "$SM_DIR/etc/m4.err" >&2; e2e_fail "m4 warnings"; }
	return 0
}

# sm_write_submit_config: submit.cf for Sendmail's mail submission program
# (MSP), what `sendmail -t` runs for local programs: it queues in
# $SM_DIR/clientmqueue as user smmsp and relays at once over SMTP to the
# daemon on $SM_PORT, where the milter sees it. The smmsp user and group
# are created when missing (as Debian's sendmail-base would; root only).
sm_write_submit_config() {
	if ! getent group smmsp >/dev/null; then
		groupadd --system smmsp || e2e_fail "cannot create group smmsp"
		e2e_log "created group smmsp (Sendmail's MSP runs as smmsp)"
	fi
	if ! getent passwd smmsp >/dev/null; then
		useradd --system -g smmsp -d /nonexistent -M -s /usr/sbin/nologin \
			-c "Sendmail Message Submission Program" smmsp ||
			e2e_fail "cannot create user smmsp"
		e2e_log "created user smmsp (Sendmail's MSP runs as smmsp)"
	fi
	mkdir -p "$SM_DIR/clientmqueue"
	chown smmsp:smmsp "$SM_DIR/clientmqueue"
	chmod 770 "$SM_DIR/clientmqueue"
	_cf=$SM_ROOT/usr/share/sendmail/cf
	cat >"$SM_DIR/etc/submit.mc" <<MC
divert(-1)
dnl The private MSP: relays to the test's daemon, no DNS, no /etc/mail.
divert(0)dnl
define(\`confCF_VERSION', \`Submit')dnl
define(\`__OSTYPE__', \`')dnl
define(\`MAIL_SETTINGS_DIR', \`$SM_DIR/etc/')dnl
undefine(\`confCR_FILE')dnl
define(\`MSP_QUEUE_DIR', \`$SM_DIR/clientmqueue')dnl
define(\`STATUS_FILE', \`$SM_DIR/clientmqueue/sm-client.st')dnl
define(\`confPID_FILE', \`$SM_DIR/run/sm-client.pid')dnl
define(\`confDONT_BLAME_SENDMAIL', \`TrustStickyBit')dnl
define(\`confDOMAIN_NAME', \`$SM_HOST')dnl
define(\`confSERVICE_SWITCH_FILE', \`$SM_DIR/etc/service.switch')dnl
define(\`confBIND_OPTS', \`-DNSRCH -DEFNAMES')dnl
define(\`confDONT_INIT_GROUPS', \`True')dnl
define(\`confTO_IDENT', \`0')dnl
define(\`RELAY_MAILER_ARGS', \`TCP \$h $SM_PORT')dnl
FEATURE(\`msp', \`[127.0.0.1]')dnl
MC
	m4 -D_CF_DIR_="$_cf/" "$_cf/m4/cf.m4" "$SM_DIR/etc/submit.mc" \
		>"$SM_DIR/etc/submit.cf" 2>"$SM_DIR/etc/m4-submit.err" || {
		cat "$SM_DIR/etc/m4-submit.err" >&2; e2e_fail "m4 could not build submit.cf"; }
	[ -s "$SM_DIR/etc/m4-submit.err" ] && { cat "$SM_DIR/etc/m4-submit.err" >&2; e2e_fail "m4 warnings (submit.cf)"; }
	return 0
}

# sm_run ARGS...: run the private sendmail binary once (queue runs,
# quarantine changes, the MSP), in the UTS namespace sm_start chose.
sm_run() {
	if [ -n "$SM_UTS" ]; then
		unshare --uts sh -c 'hostname "$1" && shift && exec "$@"' sh \
			"$SM_HOST" "$(sm_bin)" "$@"
	else
		"$(sm_bin)" "$@"
	fi
}

# sm_submit FILE ARGS...: submit FILE through the MSP as a local program
# would (sendmail -C submit.cf ARGS < FILE); returns its status. The MSP
# delivers to the daemon before it exits (DeliveryMode=interactive).
sm_submit() {
	_f=$1; shift
	sm_run -C "$SM_DIR/etc/submit.cf" "$@" <"$_f"
}

# sm_start: run the daemon and wait until it listens on $SM_PORT.
sm_start() {
	SM_UTS=
	_wait=30
	case $(hostname) in
	*.*) ;;
	*) if unshare --uts true 2>/dev/null; then SM_UTS=1
	   else e2e_log "host name $(hostname) has no dot and no unshare: Sendmail sleeps 60 s at start"
	   _wait=90
	   fi ;;
	esac
	_try=1
	while :; do
		# -bD: daemon in the foreground; -X: SMTP transcript for diagnostics
		if [ -n "$SM_UTS" ]; then
			setsid unshare --uts sh -c 'hostname "$1" && shift && exec "$@"' sh \
				"$SM_HOST" "$(sm_bin)" -C "$SM_DIR/etc/sendmail.cf" -bD \
				-X "$SM_DIR/trace" >>"$SM_DIR/sendmail.out" 2>&1 &
		else
			setsid "$(sm_bin)" -C "$SM_DIR/etc/sendmail.cf" -bD \
				-X "$SM_DIR/trace" >>"$SM_DIR/sendmail.out" 2>&1 &
		fi
		SM_PID=$!
		e2e_wait_own_port "$SM_PORT" "$SM_PID" "$_wait" && return 0
		# somebody else took the port meanwhile (Sendmail keeps retrying
		# the bind): another port, the config rebuilt
		_taken=0
		e2e_listening "$SM_PORT" && _taken=1
		sm_stop
		if [ $_taken = 0 ] || [ $_try -ge 3 ]; then
			cat "$SM_DIR/sendmail.out" >&2
			e2e_fail "sendmail did not listen on 127.0.0.1:$SM_PORT"
		fi
		e2e_log "port $SM_PORT taken by another process; retrying"
		SM_PORT=$(e2e_free_port)
		sm_build_cf
		_try=$((_try + 1))
	done
}

# sm_stop: SIGTERM the daemon, wait for it and for every process of its
# session (children still delivering or talking to a client).
sm_stop() {
	[ -n "$SM_PID" ] || return 0
	kill -TERM "$SM_PID" 2>/dev/null
	wait "$SM_PID" 2>/dev/null
	_t=100
	while [ $_t -gt 0 ] && kill -0 -- "-$SM_PID" 2>/dev/null; do
		sleep 0.1; _t=$((_t - 1))
	done
	if kill -0 -- "-$SM_PID" 2>/dev/null; then
		e2e_log "sendmail children still running: killed"
		kill -KILL -- "-$SM_PID" 2>/dev/null
	fi
	SM_PID=
}

# sm_send NAME FILE [SWAKS_ARGS...]: e2e_send to the Sendmail listener.
sm_send() {
	_n=$1; _f=$2; shift 2
	e2e_send "$_n" "$_f" "$SM_PORT" "$@"
}

# sm_queue_id NAME: the queue id Sendmail gave in its reply to DATA
# ("250 2.0.0 6B35gkia006860 Message accepted for delivery").
sm_queue_id() {
	sed -n 's/^<-  250 2\.0\.0 \([0-9A-Za-z]*\) Message accepted.*/\1/p' \
		"$E2E_DIR/log/swaks.$1" | tail -n 1
}

# sm_up: lib.sh's e2e_init (directories, ports, traps), the sink, and an
# EXIT trap that dumps Sendmail's diagnostics on failure, stops Sendmail,
# then runs e2e_cleanup. Write the config and start it with sm_write_config
# and sm_start (the milter first: with F=T nothing passes without it).
sm_up() {
	e2e_init
	trap 'sm_cleanup $?' EXIT
	e2e_start_sink
}

sm_cleanup() {
	_st=${1:-0}
	trap - EXIT
	if [ "$_st" != 0 ] && [ "$_st" != 77 ] || [ "${E2E_VERBOSE:-0}" = 1 ]; then
		sm_diagnostics
	fi
	sm_stop
	e2e_cleanup "$_st"
}

# sm_diagnostics: the end of the SMTP transcript and what sendmail printed.
sm_diagnostics() {
	[ -n "${SM_DIR:-}" ] || return 0
	if [ -s "$SM_DIR/sendmail.out" ]; then
		echo "-- sendmail.out" >&2; tail -n 20 "$SM_DIR/sendmail.out" >&2
	fi
	if [ -f "$SM_DIR/trace" ]; then
		echo "-- sendmail trace" >&2; tail -n 60 "$SM_DIR/trace" >&2
	fi
	echo "-- sendmail queue: $(find "$SM_DIR/mqueue" -type f 2>/dev/null | wc -l) file(s)" >&2
}
