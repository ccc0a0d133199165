#!/bin/sh
# The corpus agreement on each half of a fixed split of
# tests/data/dsn/labels.tsv (dsn_agree -s: parity of a hash of the file
# name). Wordings and rules are studied on the development half only;
# the held-back half tells whether a change generalises or only fits.
# A change that helps "dev" and not "held" is a fit and is not kept.
# Prints both halves; fails when either drops below its floor.
#
# usage: tests/dsn_split.sh [-q]   (top_srcdir/top_builddir from make)
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
agree="$top_builddir/tests/dsn_agree"
pat="$top_srcdir/conf/bounce-patterns.conf"
data="$top_srcdir/tests/data/dsn"
status=0

echo "== development half"
"$agree" -s dev -m "${DSN_DEV_FLOOR:-89}" "$@" "$pat" "$data/labels.tsv" "$data" || status=1
echo "== held-back half"
"$agree" -s held -m "${DSN_HELD_FLOOR:-85}" "$@" "$pat" "$data/labels.tsv" "$data" || status=1
exit $status
