#!/bin/sh
# core_symbols.sh - the pure core library links no MTA, store or log daemon.
#
# libegress.la (src/core) must neither define nor need a symbol of
# libmilter (smfi_*), LMDB (mdb_*), hiredis (redis*) or syslog; the store
# library (libegress_store.la) may use LMDB and hiredis, never libmilter or
# syslog (the store logs through the sink it is given). The core also reads
# no clock and opens no socket (metrics, for one, are handed their values
# and write a page; the daemon serves it). A symbol that breaks the
# layering fails the test and is printed.
set -u
: "${top_builddir:?}"

status=0
check() {
	lib=$1 pattern=$2
	archive=$top_builddir/.libs/$lib.a
	if [ ! -f "$archive" ]; then
		echo "FAIL: $archive not built"
		return 1
	fi
	# nm prints "U name" for needed and "T/D/B/R name" for defined symbols
	bad=$(nm -A "$archive" 2>/dev/null | awk '{ print $1, $(NF-1), $NF }' |
	    grep -E " [A-Za-z] _*($pattern)" || true)
	n=$(nm "$archive" 2>/dev/null | grep -c ' [TU] ' || true)
	if [ "$n" -lt 10 ]; then
		echo "FAIL: nm read no symbols from $archive"
		return 1
	fi
	if [ -n "$bad" ]; then
		echo "FAIL: $lib breaks the layering:"
		echo "$bad" | sed 's/^/  /'
		return 1
	fi
	echo "ok: $lib ($n symbols) has no symbol matching $pattern"
}
check libegress 'mdb_|redis|smfi_|syslog|vsyslog|openlog|MHD_|socket$|bind$|connect$|listen$|accept4?$|clock_gettime$|gettimeofday$|time$' || status=1
check libegress_store 'smfi_|syslog|vsyslog|openlog' || status=1
exit $status
