# tests/dsn_py.sh - sourced by the bounce tests that rewrite messages with
# a python3 helper (dsn_variants.sh, dsn_textonly.sh): the paths they share,
# a skip without python3, and a work directory removed on exit. The caller
# sets `name` (its helper is tests/$name.py) before sourcing it.
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
egressctl="$top_builddir/egressctl"
pat="$top_srcdir/conf/bounce-patterns.conf"
py="$top_srcdir/tests/$name.py"
data="$top_srcdir/tests/data/dsn"

command -v python3 >/dev/null 2>&1 || { echo "SKIP: no python3"; exit 77; }
work=$(mktemp -d "${TMPDIR:-/tmp}/$name.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
