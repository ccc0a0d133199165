#!/bin/sh
# tests/grafana_dashboard.sh [PAGE] - contrib/grafana/milter-egress.json is
# valid JSON and every milter_egress_* name it references is a series of the
# exposition: PAGE (a scrape of the daemon, from tests/e2e/metrics.sh) or
# the page tests/metrics_page writes. The page itself must pass
# `promtool check metrics` (skipped without promtool, failed when
# EGRESS_TESTS_REQUIRED=1).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
DASH=$top_srcdir/contrib/grafana/milter-egress.json
tmp=$(mktemp -d "${TMPDIR:-/tmp}/egress-grafana.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL: $*"; exit 1; }
command -v python3 >/dev/null 2>&1 || {
	[ "${EGRESS_TESTS_REQUIRED:-0}" = 1 ] && fail "python3 missing"
	echo "SKIP: python3 missing"; exit 77; }
python3 -m json.tool "$DASH" >/dev/null || fail "$DASH is not valid JSON"

if [ $# -gt 0 ]; then
	page=$1
else
	page=$tmp/page
	"$top_builddir/tests/metrics_page" >"$page" || fail "metrics_page failed"
fi
if command -v promtool >/dev/null 2>&1; then
	promtool check metrics <"$page" >"$tmp/promtool" 2>&1 ||
		fail "promtool rejects the page: $(cat "$tmp/promtool")"
	echo "ok: promtool check metrics"
elif [ "${EGRESS_TESTS_REQUIRED:-0}" = 1 ]; then
	fail "promtool missing (Debian package prometheus)"
else
	echo "note: promtool missing, page not linted"
fi

names=$(grep -o 'milter_egress_[a-zA-Z0-9_:]*' "$DASH" | sort -u)
[ -n "$names" ] || fail "the dashboard names no metric"
n=0
for name in $names; do
	grep -Eq "^$name( |\\{)" "$page" || fail "dashboard uses $name, not in the exposition"
	n=$((n + 1))
done
echo "ok: the dashboard's $n metric names are all in the exposition"
