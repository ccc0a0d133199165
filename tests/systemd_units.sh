#!/bin/sh
# systemd_units.sh - systemd-analyze verify accepts the units made from
# contrib/systemd/*.service.in: no warning, no error. The units name the
# configured paths (sbindir, bindir, sysconfdir); they are checked here
# against a scratch "make install DESTDIR" with those paths pointed into
# it, and with the manual pages their Documentation= names (MANPATH).
# Also: the hardening the units promise is in them, the reload is SIGUSR1,
# and the tmpfiles.d/sysusers.d files parse (systemd-tmpfiles --dry-run is
# not in systemd 252; their syntax is checked by field count and type).
# Skips without systemd-analyze unless EGRESS_TESTS_REQUIRED=1.
set -u

top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
if ! command -v systemd-analyze >/dev/null 2>&1; then
	if [ "${EGRESS_TESTS_REQUIRED:-0}" = 1 ]; then
		echo "FAIL: systemd-analyze not installed (Debian package: systemd)"; exit 1
	fi
	echo "SKIP: systemd-analyze not installed (Debian package: systemd)"; exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/egress-units.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM
fail=0
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; fail=1; }
bmake() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$top_builddir" "$@"; }

eval "$(bmake egress-print-dirs)" || { echo "cannot read the install dirs"; exit 99; }
D=$tmp/root
bmake install DESTDIR="$D" >"$tmp/install.log" 2>&1 || {
	sed 's/^/# /' "$tmp/install.log"; echo "not ok - make install"; exit 1; }
mkdir -p "$tmp/units"
for u in milter-egress milter-egress-follow; do
	src=$top_builddir/contrib/systemd/$u.service
	[ -f "$src" ] || { not_ok "$src not built"; continue; }
	grep -q "@[a-z]*dir@" "$src" && not_ok "$u: unsubstituted @...@ left"
	sed -e "s|$sbindir/|$D$sbindir/|g" -e "s|$bindir/|$D$bindir/|g" "$src" >"$tmp/units/$u.service"
done
# Documentation=man:... is checked with man(1) against the installed pages
if MANPATH=$D$mandir systemd-analyze verify "$tmp/units/milter-egress.service" \
	"$tmp/units/milter-egress-follow.service" >"$tmp/verify.out" 2>&1 &&
	[ ! -s "$tmp/verify.out" ]; then
	ok "systemd-analyze verify: clean"
else
	not_ok "systemd-analyze verify"; sed 's/^/# /' "$tmp/verify.out"
fi

# what the main unit must say
u=$top_builddir/contrib/systemd/milter-egress.service
for want in 'Type=simple' "ExecStart=$sbindir/milter-egress -f -c $pkgsysconfdir/milter-egress.conf" \
	'ExecReload=/bin/kill -USR1 $MAINPID' "ExecReload=$sbindir/milter-egress -n -c" \
	'User=milter-egress' 'RuntimeDirectory=milter-egress' 'StateDirectory=milter-egress' \
	'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes' \
	'PrivateDevices=yes' 'ProtectKernelTunables=yes' 'ProtectKernelModules=yes' \
	'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' \
	'ReadWritePaths=-/var/spool/postfix/milter-egress' 'SyslogFacility=mail'; do
	grep -qF -- "$want" "$u" && ok "unit has $want" || not_ok "unit lacks $want"
done
grep -q 'HUP' "$u" && grep -q 'SIGHUP' "$u" && ok "unit warns about SIGHUP" || not_ok "no SIGHUP warning"
f=$top_builddir/contrib/systemd/milter-egress-follow.service
for want in "ExecStart=$bindir/egressctl -c $pkgsysconfdir/milter-egress.conf follow /var/log/mail.log" \
	'SupplementaryGroups=adm' 'User=milter-egress'; do
	grep -qF -- "$want" "$f" && ok "follow unit has $want" || not_ok "follow unit lacks $want"
done

# tmpfiles.d: d PATH MODE USER GROUP AGE; sysusers.d: u NAME ID GECOS HOME SHELL
t=$top_srcdir/contrib/systemd/milter-egress.tmpfiles
line=$(grep -v '^#' "$t" | grep .)
[ "$line" = "d /var/spool/postfix/milter-egress 2750 milter-egress postfix -" ] &&
	ok "tmpfiles: socket dir milter-egress:postfix 2750" || not_ok "tmpfiles line: $line"
s=$top_srcdir/contrib/systemd/milter-egress.sysusers
grep -Eq '^u milter-egress - "[^"]*" /var/lib/milter-egress /usr/sbin/nologin$' "$s" &&
	ok "sysusers: user milter-egress" || not_ok "sysusers line: $(grep -v '^#' "$s")"
# systemd-sysusers parses it against a scratch root (creates the user there)
if command -v systemd-sysusers >/dev/null 2>&1; then
	mkdir -p "$tmp/sysroot/etc"
	: >"$tmp/sysroot/etc/passwd"; : >"$tmp/sysroot/etc/group"
	if systemd-sysusers --root="$tmp/sysroot" "$s" >"$tmp/sysusers.out" 2>&1 &&
		grep -q '^milter-egress:x:[0-9]*:[0-9]*:milter-egress mail filter:/var/lib/milter-egress:/usr/sbin/nologin$' \
			"$tmp/sysroot/etc/passwd"; then
		ok "systemd-sysusers creates milter-egress"
	else
		not_ok "systemd-sysusers"; sed 's/^/# /' "$tmp/sysusers.out" "$tmp/sysroot/etc/passwd"
	fi
fi
exit $fail
