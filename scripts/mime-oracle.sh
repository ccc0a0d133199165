#!/bin/sh
# Cross-check the MIME parser's part structure against GMime (test only:
# GMime is never linked into the daemon or the core library).
#
# usage: scripts/mime-oracle.sh [COUNT [SEED]]
#   Builds tests/mime_oracle.c with pkg-config gmime-3.0 (Debian package
#   libgmime-3.0-dev), generates COUNT random messages (default 2000) with
#   tests/mime_gen.py, and compares the part trees of the generated messages,
#   tests/data/mime and the bounce corpus in tests/data/dsn. Prints the
#   messages whose trees differ and a summary line per set.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
count=${1:-2000}
seed=${2:-1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! pkg-config --exists gmime-3.0; then
	echo "mime-oracle: gmime-3.0 not found (apt-get install libgmime-3.0-dev)" >&2
	exit 77
fi
${CC:-cc} -std=c11 -O1 -g -D_GNU_SOURCE -I"$top/include" -I"$top/tests" \
	$(pkg-config --cflags gmime-3.0) -o "$work/mime_oracle" \
	"$top/tests/mime_oracle.c" "$top/tests/mime_collect.c" \
	"$top/src/core/mime.c" "$top/src/core/mime_decode.c" \
	"$top/src/core/buf.c" "$top/src/core/findings.c" \
	$(pkg-config --libs gmime-3.0)
python3 "$top/tests/mime_gen.py" "$work/gen" "$count" "$seed"
rc=0
echo "generated ($count, seed $seed):"
"$work/mime_oracle" "$work/gen"/*.eml || rc=1
echo "golden files:"
"$work/mime_oracle" "$top/tests/data/mime"/*.eml || rc=1
if ls "$top/tests/data/dsn"/*.eml >/dev/null 2>&1; then
	echo "bounce corpus:"
	"$work/mime_oracle" "$top/tests/data/dsn"/*.eml || rc=1
fi
exit $rc
