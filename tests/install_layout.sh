#!/bin/sh
# install_layout.sh - what "make install" installs, and that it works as
# installed: into a scratch DESTDIR, the daemon and egressctl, the manual
# pages, the data files in $(pkgdatadir), and the sample configuration in
# $(sysconfdir)/milter-egress, which the installed daemon accepts (-n) as
# it is and with the installed data files named in it. A second install
# keeps an edited configuration (the new sample goes to .dist); uninstall
# removes the configuration only while it is the unchanged sample.
set -u

top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/egress-install.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM
fail=0
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; fail=1; }

# make in the build tree, not as part of the running make's job server
bmake() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$top_builddir" "$@"; }

eval "$(bmake egress-print-dirs)" || { echo "cannot read the install dirs"; exit 99; }
D=$tmp/root
conf=$D$pkgsysconfdir/milter-egress.conf

if bmake install DESTDIR="$D" >"$tmp/install.log" 2>&1; then
	ok "make install DESTDIR"
else
	not_ok "make install DESTDIR"; sed 's/^/# /' "$tmp/install.log"; exit 1
fi
for f in "$D$sbindir/milter-egress" "$D$bindir/egressctl"; do
	[ -x "$f" ] && ok "installed $f" || not_ok "missing $f"
done
for f in "$conf" "$D$pkgdatadir/shorteners.txt" "$D$pkgdatadir/bounce-patterns.conf" \
	"$D$mandir/man8/milter-egress.8" "$D$mandir/man8/egressctl.8" \
	"$D$mandir/man5/milter-egress.conf.5"; do
	[ -f "$f" ] && ok "installed $f" || not_ok "missing $f"
done
cmp -s "$top_srcdir/conf/milter-egress.conf" "$conf" && ok "config is the sample" ||
	not_ok "installed config differs from conf/milter-egress.conf"

# as installed: no relative data file names that only exist in the tree
if "$D$sbindir/milter-egress" -n -c "$conf" >"$tmp/out" 2>&1; then
	ok "installed daemon -n on the installed config"
else
	not_ok "installed config fails -n"; sed 's/^/# /' "$tmp/out"
fi
# and with the installed data files named (their real paths are under
# DESTDIR here): both parse
cp "$conf" "$tmp/named.conf"
sed -i -e "s|^  # shorteners_file = .*|  shorteners_file = \"$D$pkgdatadir/shorteners.txt\";|" \
	-e "s|^  # patterns = .*|  patterns = \"$D$pkgdatadir/bounce-patterns.conf\";|" "$tmp/named.conf"
n=$(grep -c "\"$D$pkgdatadir/" "$tmp/named.conf")
[ "$n" = 2 ] && ok "both data files named" || not_ok "data files named $n times, want 2"
if "$D$sbindir/milter-egress" -n -c "$tmp/named.conf" >"$tmp/out" 2>&1; then
	ok "-n with the installed data files"
else
	not_ok "-n with the installed data files"; sed 's/^/# /' "$tmp/out"
fi
# egressctl without -c says what it read (the installed default path is
# outside DESTDIR, so only the wording is checked here)
"$D$bindir/egressctl" checks >/dev/null 2>"$tmp/err"
grep -Eq '^egressctl: (using|no) /' "$tmp/err" && ok "egressctl names its config: $(cat "$tmp/err")" ||
	not_ok "egressctl without -c is silent about its config: $(cat "$tmp/err")"

# an operator's edit survives a second install
echo '# edited by the operator' >>"$conf"
bmake install DESTDIR="$D" >"$tmp/install2.log" 2>&1 || not_ok "second make install"
grep -q 'edited by the operator' "$conf" && ok "edited config kept" || not_ok "edited config replaced"
cmp -s "$top_srcdir/conf/milter-egress.conf" "$conf.dist" && ok "new sample as .dist" ||
	not_ok "no milter-egress.conf.dist"

# uninstall keeps the edited file, removes the rest
bmake uninstall DESTDIR="$D" >"$tmp/uninstall.log" 2>&1 || not_ok "make uninstall"
[ -f "$conf" ] && ok "uninstall keeps the edited config" || not_ok "uninstall removed the edited config"
[ ! -e "$conf.dist" ] && ok "uninstall removes .dist" || not_ok ".dist left behind"
[ ! -e "$D$sbindir/milter-egress" ] && ok "uninstall removes the daemon" || not_ok "daemon left"
cp "$top_srcdir/conf/milter-egress.conf" "$conf"
bmake uninstall DESTDIR="$D" >/dev/null 2>&1
[ ! -e "$conf" ] && ok "uninstall removes the unchanged sample" || not_ok "unchanged sample left"
left=$(find "$D" -type f | sed "s|^$D||")
[ -z "$left" ] && ok "nothing left after uninstall" || not_ok "left after uninstall: $left"
exit $fail
