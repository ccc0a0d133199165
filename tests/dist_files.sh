#!/bin/sh
# dist_files.sh - mk/dist.am (the tarball's file list) matches what git
# tracks: a file added without running scripts/dist-files would be missing
# from the tarball, one removed would break "make dist". Skips outside a
# git checkout (an unpacked tarball has nothing to compare with).
set -u
top_srcdir=${top_srcdir:-.}
gtop=$(git -C "$top_srcdir" rev-parse --show-toplevel 2>/dev/null)
if [ -z "$gtop" ] || [ "$(cd "$gtop" && pwd -P)" != "$(cd "$top_srcdir" && pwd -P)" ]; then
	echo "SKIP: $top_srcdir is not the top of a git checkout"; exit 77
fi
tmp=$(mktemp "${TMPDIR:-/tmp}/egress-dist.XXXXXX") || exit 99
trap 'rm -f "$tmp"' EXIT INT TERM
sh "$top_srcdir/scripts/dist-files" "$tmp" || exit 1
if cmp -s "$tmp" "$top_srcdir/mk/dist.am"; then
	echo "ok - mk/dist.am lists the $(grep -c '^	' "$tmp") tracked files"
	exit 0
fi
echo "not ok - mk/dist.am is out of date: run scripts/dist-files and commit"
diff "$top_srcdir/mk/dist.am" "$tmp" | sed 's/^/# /'
exit 1
