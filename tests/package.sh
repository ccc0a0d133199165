#!/bin/sh
# tests/package.sh - the Debian package, built and used the way README.md
# says, on this machine:
#   1. "make dist", unpacked in a scratch directory (a clean copy of the
#      tree), where the README "Debian package" block runs as it is:
#      build dependencies, dpkg-buildpackage -us -uc -b, apt-get install of
#      the .deb, milter-egress -n on the installed configuration;
#   2. what the package installed: user, conffile and its mode, socket
#      directory, state directory, units (systemd-analyze verify on the
#      installed files), README.Debian; lintian: no error (warnings listed);
#   3. the README "Postfix setup" block, run as it is against a PRIVATE
#      Postfix (tests/e2e/lib.sh; MAIL_CONFIG points postconf and postfix at
#      it, "submission" becomes a loopback port), with smtpd chrooted in that
#      instance's queue directory, and the package's daemon started the way
#      its unit starts it (ExecStart, User, Group, UMask of the installed
#      unit; -p moves the socket from /var/spool/postfix to that queue
#      directory, inside a directory made as the installed tmpfiles.d line
#      says): a clean message submitted on the submission port and one
#      submitted with sendmail go through the milter and are delivered;
#      one on the port without the filter does not reach it; the reload of
#      the unit (ExecReload) reloads;
#   4. dpkg --purge removes the configuration, state and socket directory.
#
# Opt-in: it takes minutes and installs a package on this machine, so it
# runs only with EGRESS_PACKAGE_TEST=1 (scripts/test --package, or
#   EGRESS_PACKAGE_TEST=1 make check TESTS=tests/package.sh); root needed.
# It refuses to run when a milter-egress package is already installed.
# The package is built with DEB_BUILD_OPTIONS=nocheck (the tests ran in the
# build tree already); EGRESS_PACKAGE_CHECK=1 runs make check in it too.
. "${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}/tests/e2e/lib.sh"
DATA=$top_srcdir/tests/data/e2e

if [ "${EGRESS_PACKAGE_TEST:-0}" != 1 ]; then
	echo "SKIP: the package test runs with EGRESS_PACKAGE_TEST=1 (scripts/test --package)"
	exit 77
fi
e2e_require
for _p in dpkg-buildpackage dpkg-deb lintian apt-get systemd-analyze setpriv; do
	command -v "$_p" >/dev/null 2>&1 || e2e_skip "$_p not installed"
done
if dpkg-query -W -f='${Status}' milter-egress 2>/dev/null | grep -q ' installed$'; then
	e2e_skip "a milter-egress package is installed on this machine: not touching it"
fi

pass() { echo "ok - $*"; }
t_start=$(date +%s)
PKG_INSTALLED=0

pkg_cleanup() {
	e2e_stop_milter
	e2e_stop_postfix
	if [ "$PKG_INSTALLED" = 1 ]; then
		dpkg --purge milter-egress >/dev/null 2>&1 || echo "warning: dpkg --purge milter-egress failed" >&2
		PKG_INSTALLED=0
	fi
}

# readme_block MARKER: the fenced block that follows the line holding MARKER
readme_block() {
	awk -v m="$1" 'index($0, m) { found = 1; next }
		found && !inb && /^```/ { inb = 1; next }
		inb && /^```/ { exit }
		inb { print }' "$top_srcdir/README.md"
}

e2e_init
trap '_st=$?; pkg_cleanup; e2e_cleanup $_st' EXIT
W=$E2E_DIR/pkg
mkdir -p "$W"

# ---- 1. build and install as README says, from a clean copy ----
readme_block 'tests/package.sh runs this block as it is, in a clean copy' >"$W/install.sh"
grep -q dpkg-buildpackage "$W/install.sh" || e2e_fail "README install block not found"
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$top_builddir" dist-gzip >"$W/dist.log" 2>&1 ||
	{ cat "$W/dist.log"; e2e_fail "make dist failed"; }
tarball=$(ls -t "$top_builddir"/milter-egress-*.tar.gz | head -n 1)
mkdir "$W/build"
tar xzf "$tarball" -C "$W/build" || e2e_fail "cannot unpack $tarball"
rm -f "$tarball"
src=$(echo "$W/build"/milter-egress-*)
[ -f "$src/debian/control" ] || e2e_fail "no debian/ in the tarball"
[ -n "$(find "$src" -name .deps -o -name '*.o' | head -n 1)" ] && e2e_fail "build files in the tarball"
t0=$(date +%s)
PKG_INSTALLED=1	# from here on, cleanup purges (the block installs the package)
if [ "${EGRESS_PACKAGE_CHECK:-0}" = 1 ]; then opts=; else opts=nocheck; fi
if ! (cd "$src" && DEB_BUILD_OPTIONS=$opts DEBIAN_FRONTEND=noninteractive sh -ex "$W/install.sh") \
	>"$W/install.log" 2>&1; then
	tail -n 40 "$W/install.log"
	e2e_fail "README install block failed (log above)"
fi
echo "README install block: $(( $(date +%s) - t0 ))s (DEB_BUILD_OPTIONS=$opts)"
deb=$(ls "$W/build"/milter-egress_*.deb)
pass "built $(basename "$deb") ($(stat -c %s "$deb") bytes)"
grep -q '^/etc/milter-egress/milter-egress.conf: configuration valid$' "$W/install.log" ||
	e2e_fail "the README block's milter-egress -n did not say valid"
pass "milter-egress -n on the installed configuration"

# ---- 2. what the package installed ----
dpkg-query -W -f='${Status}' milter-egress | grep -q ' installed$' || e2e_fail "not installed"
getent passwd milter-egress >/dev/null || e2e_fail "no user milter-egress"
st=$(stat -c '%U %G %a' /etc/milter-egress/milter-egress.conf)
[ "$st" = "root milter-egress 640" ] || e2e_fail "config is $st, want root milter-egress 640"
dpkg-query -W -f='${Conffiles}\n' milter-egress | grep -q '/etc/milter-egress/milter-egress.conf' ||
	e2e_fail "the configuration is not a conffile"
grep -q '^  socket = "unix:/var/spool/postfix/milter-egress/milter-egress.sock";' \
	/etc/milter-egress/milter-egress.conf || e2e_fail "installed socket is not in Postfix's chroot"
st=$(stat -c '%U %G %a' /var/spool/postfix/milter-egress 2>&1)
[ "$st" = "milter-egress postfix 2750" ] || e2e_fail "socket dir: $st, want milter-egress postfix 2750"
st=$(stat -c '%U %a' /var/lib/milter-egress)
[ "$st" = "milter-egress 750" ] || e2e_fail "state dir: $st"
for f in /usr/sbin/milter-egress /usr/bin/egressctl /usr/share/milter-egress/shorteners.txt \
	/usr/share/milter-egress/bounce-patterns.conf /usr/share/man/man8/milter-egress.8.gz \
	/usr/share/man/man5/milter-egress.conf.5.gz /usr/share/doc/milter-egress/README.Debian.gz \
	/lib/systemd/system/milter-egress.service /lib/systemd/system/milter-egress-follow.service \
	/usr/lib/tmpfiles.d/milter-egress.conf /usr/lib/sysusers.d/milter-egress.conf; do
	[ -f "$f" ] || e2e_fail "not installed: $f"
done
pass "user, conffile 0640 root:milter-egress, socket dir milter-egress:postfix 2750, files"
/usr/bin/egressctl checks >/dev/null 2>"$W/ctl.err" || e2e_fail "egressctl checks failed: $(cat "$W/ctl.err")"
grep -qx 'egressctl: using /etc/milter-egress/milter-egress.conf' "$W/ctl.err" ||
	e2e_fail "egressctl without -c: $(cat "$W/ctl.err")"
pass "egressctl without -c reads and names the installed configuration"
if ! systemd-analyze verify /lib/systemd/system/milter-egress.service \
	/lib/systemd/system/milter-egress-follow.service >"$W/verify.out" 2>&1 || [ -s "$W/verify.out" ]; then
	cat "$W/verify.out"; e2e_fail "systemd-analyze verify on the installed units"
fi
pass "systemd-analyze verify: installed units clean"
lintian --pedantic "$deb" >"$W/lintian.out" 2>&1
echo "lintian --pedantic: $(grep -c '^E: ' "$W/lintian.out") errors, $(grep -c '^W: ' "$W/lintian.out") warnings,"\
	"$(grep -c '^[IP]: ' "$W/lintian.out") info/pedantic"
grep '^[EWP]: ' "$W/lintian.out" | sed 's/^/  /'
grep -q '^E: ' "$W/lintian.out" && e2e_fail "lintian errors"
pass "lintian: no errors"

# ---- 3. the README Postfix setup on a private Postfix, the package's daemon ----
e2e_write_postfix_config
postconf -c "$E2E_DIR/etc" -e 'smtpd_milters =' 'non_smtpd_milters ='	# README adds them
e2e_start_sink
e2e_start_postfix
unit=/lib/systemd/system/milter-egress.service
unit_get() { sed -n "s/^$1=//p" "$unit"; }
U=$(unit_get User); G=$(unit_get Group); UM=$(unit_get UMask)
[ -n "$U" ] && [ -n "$G" ] || e2e_fail "unit has no User/Group"
# the socket directory, as tmpfiles.d makes it, moved into this queue directory
set -- $(grep -v '^#' /usr/lib/tmpfiles.d/milter-egress.conf | grep '^d ')
[ "$2" = /var/spool/postfix/milter-egress ] || e2e_fail "tmpfiles line: $*"
sockdir=$E2E_DIR/spool/${2#/var/spool/postfix/}
install -d -m "$3" -o "$4" -g "$5" "$sockdir"
E2E_MILTER_SOCKET=unix:$sockdir/milter-egress.sock
exec_start=$(unit_get ExecStart)
(umask "${UM:-0022}"; exec setpriv --reuid="$U" --regid="$G" --init-groups \
	$exec_start -p "$E2E_MILTER_SOCKET") >>"$E2E_MILTER_LOG" 2>&1 &
E2E_MILTER_PID=$!
_t=100
while [ $_t -gt 0 ] && ! e2e_socket_ready; do
	kill -0 "$E2E_MILTER_PID" 2>/dev/null || { cat "$E2E_MILTER_LOG"; e2e_fail "the daemon exited"; }
	sleep 0.1; _t=$((_t - 1))
done
e2e_socket_ready || e2e_fail "no socket"
st=$(stat -c '%U %G %a' "$sockdir/milter-egress.sock")
[ "$st" = "milter-egress postfix 660" ] || e2e_fail "socket is $st, want milter-egress postfix 660"
pass "daemon as $U ($exec_start): socket $st"

SUB_PORT=$(e2e_free_port)
readme_block 'tests/package.sh runs this block as it is, on a private Postfix' >"$W/postfix.sh"
grep -q 'postconf -P' "$W/postfix.sh" || e2e_fail "README Postfix block not found"
sed "s|submission|127.0.0.1:$SUB_PORT|g" "$W/postfix.sh" >"$W/postfix-local.sh"
MAIL_CONFIG=$E2E_DIR/etc sh -ex "$W/postfix-local.sh" >"$W/postfix.log" 2>&1 ||
	{ cat "$W/postfix.log"; e2e_fail "README Postfix block failed"; }
e2e_wait_port "$SUB_PORT" 30 || { cat "$W/postfix.log"; e2e_fail "submission port not listening"; }
postconf -c "$E2E_DIR/etc" -M "127.0.0.1:$SUB_PORT/inet" | awk '{ exit !($5 == "y") }' ||
	e2e_fail "submission service is not chrooted: $(postconf -c "$E2E_DIR/etc" -M "127.0.0.1:$SUB_PORT/inet")"
[ "$(postconf -c "$E2E_DIR/etc" -h non_smtpd_milters)" = "unix:milter-egress/milter-egress.sock" ] ||
	e2e_fail "non_smtpd_milters not set"
pass "README Postfix block applied: $(postconf -c "$E2E_DIR/etc" -P | grep -c milter) master.cf milter setting(s)"

# submission port: through the milter, delivered
sed 's/e2e clean message/pkg submission message/' "$DATA/clean.eml" >"$W/sub.eml"
e2e_send sub "$W/sub.eml" "$SUB_PORT" || e2e_fail "submission: $(e2e_reply sub)"
case $(e2e_reply sub) in 250*) ;; *) e2e_fail "submission reply: $(e2e_reply sub)" ;; esac
f=$(e2e_wait_delivered "pkg submission message") || e2e_fail "submission message not delivered"
q=$(e2e_queue_id "$f")
[ -n "$q" ] && e2e_wait_log "^([0-9T:.+-]+ )?milter-egress\[[0-9]+\]: $q: " 10 "$E2E_MILTER_LOG" ||
	e2e_fail "the milter did not log the submitted message $q"
pass "submission port: $(grep -m 1 ": $q: " "$E2E_MILTER_LOG" | sed 's/^[^ ]* //')"
# the submission smtpd really runs chrooted in the queue directory
root=
for p in $(pgrep -f "smtpd -n 127.0.0.1:$SUB_PORT"); do root=$(readlink "/proc/$p/root"); break; done
[ "$root" = "$E2E_DIR/spool" ] || e2e_fail "submission smtpd root is '$root', want $E2E_DIR/spool"
pass "the submission smtpd is chrooted in $root and reached unix:milter-egress/milter-egress.sock"

# the port without the filter (port 25's place): not seen by the milter
sed 's/e2e clean message/pkg unfiltered message/' "$DATA/clean.eml" >"$W/plain.eml"
e2e_send plain "$W/plain.eml" "$E2E_SMTP_PORT" || e2e_fail "plain: $(e2e_reply plain)"
f=$(e2e_wait_delivered "pkg unfiltered message") || e2e_fail "unfiltered message not delivered"
q2=$(e2e_queue_id "$f")
grep -q ": $q2: " "$E2E_MILTER_LOG" && e2e_fail "the milter saw mail on the port without it"
pass "port without smtpd_milters: delivered, not filtered"

# sendmail: non_smtpd_milters; Postfix adds Date and Message-ID itself even
# with local_header_rewrite_clients empty (as this instance has it)
[ -z "$(postconf -c "$E2E_DIR/etc" -h local_header_rewrite_clients)" ] ||
	e2e_fail "instance has local_header_rewrite_clients set"
grep -v -i '^\(Date\|Message-ID\):' "$DATA/clean.eml" |
	sed 's/e2e clean message/pkg sendmail message/' >"$W/local.eml"
sendmail -C "$E2E_DIR/etc" -f "$E2E_SENDER" "$E2E_RCPT" <"$W/local.eml" || e2e_fail "sendmail failed"
f=$(e2e_wait_delivered "pkg sendmail message") || e2e_fail "sendmail message not delivered"
q3=$(e2e_queue_id "$f")
e2e_wait_log "^([0-9T:.+-]+ )?milter-egress\[[0-9]+\]: $q3: " 10 "$E2E_MILTER_LOG" || e2e_fail "milter did not see $q3"
line=$(grep -m 1 ": $q3: " "$E2E_MILTER_LOG")
case $line in *missing*) e2e_fail "the milter saw missing headers: $line" ;; esac
mid=$(e2e_header "$f" Message-ID)
case $mid in *@mta.e2e.test\>) ;; *) e2e_fail "Message-ID not Postfix's: $mid" ;; esac
[ -n "$(e2e_header "$f" Date)" ] || e2e_fail "no Date"
pass "sendmail: through the milter; Postfix added Message-ID $mid and a Date itself"

# the unit's reload: check, then SIGUSR1 to the main pid
n0=$(grep -c 'configuration reloaded' "$E2E_MILTER_LOG")
sed -n 's/^ExecReload=//p' "$unit" | while read -r cmd; do
	cmd=$(printf '%s' "$cmd" | sed "s/\\\$MAINPID/$E2E_MILTER_PID/")
	setpriv --reuid="$U" --regid="$G" --init-groups $cmd >>"$W/reload.log" 2>&1 ||
		{ cat "$W/reload.log"; exit 1; }
done || e2e_fail "ExecReload failed"
_t=100
while [ $_t -gt 0 ] && [ "$(grep -c 'configuration reloaded' "$E2E_MILTER_LOG")" -le "$n0" ]; do
	sleep 0.1; _t=$((_t - 1))
done
[ "$(grep -c 'configuration reloaded' "$E2E_MILTER_LOG")" -gt "$n0" ] || e2e_fail "ExecReload did not reload"
pass "ExecReload: $(grep -m 1 'configuration reloaded' "$E2E_MILTER_LOG" | sed 's/^[^ ]* //')"

# ---- 4. purge ----
e2e_stop_milter
e2e_stop_postfix
dpkg --purge milter-egress >"$W/purge.log" 2>&1 || { cat "$W/purge.log"; e2e_fail "dpkg --purge failed"; }
PKG_INSTALLED=0
for d in /etc/milter-egress /var/lib/milter-egress /var/spool/postfix/milter-egress /usr/sbin/milter-egress; do
	[ -e "$d" ] && e2e_fail "left after purge: $d"
done
dpkg-statoverride --list /etc/milter-egress/milter-egress.conf >/dev/null 2>&1 &&
	e2e_fail "statoverride left after purge"
pass "purge removed configuration, state and socket directory"
echo "PASS: package ($(( $(date +%s) - t_start ))s)"
