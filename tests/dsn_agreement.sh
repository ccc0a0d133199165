#!/bin/sh
# Agreement of the bounce parser and classifier with the corpus labels
# (tests/data/dsn/labels.tsv) and with our own labelled messages
# (tests/data/dsn/extra/labels.tsv). Prints reason, category, enhanced
# status, reply code and hard/soft agreement (with the number of soft
# failures called hard) and every mismatch; fails when reason agreement
# drops below the floor, so a change that makes classification worse is
# noticed. Recipients, action and permanence: tests/dsn_recipients.sh.
#
# usage: tests/dsn_agreement.sh [-q]   (top_srcdir/top_builddir from make)
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
agree="$top_builddir/tests/dsn_agree"
pat="$top_srcdir/conf/bounce-patterns.conf"
data="$top_srcdir/tests/data/dsn"
status=0

echo "== corpus (tests/data/dsn, BSD-2, see LICENSE there)"
"$agree" -m "${DSN_CORPUS_FLOOR:-87}" "$@" "$pat" "$data/labels.tsv" "$data" || status=1
if [ -f "$data/extra/labels.tsv" ]; then
	echo "== extra (tests/data/dsn/extra)"
	"$agree" -m "${DSN_EXTRA_FLOOR:-100}" "$@" "$pat" "$data/extra/labels.tsv" "$data/extra" || status=1
fi
exit $status
