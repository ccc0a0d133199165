#!/bin/sh
# egressctl diagnose end to end: a private nsd on a loopback port serves the
# test zones (SPF, DMARC and DKIM records, PTR and A records, a block list
# answering 127.0.0.2 for a listed IP); libunbound is pointed at it with
# diagnose.stubs; no query leaves the machine. Three bounces (a block-list
# rejection naming the IP, a 5.7.26 DMARC failure, a 5.7.1 content
# rejection returning the signed message) are diagnosed and every check's
# verdict asserted; a list whose server never answers is "NOT CHECKED",
# never clean; the SPF verdicts agree with pyspf's on the same zones.
. "${top_srcdir:-.}/tests/e2e/lib.sh"

command -v nsd >/dev/null 2>&1 || e2e_skip "nsd not installed (Debian package nsd)"
e2e_find_milter
[ -n "${EGRESSCTL:-}" ] || e2e_skip "egressctl not built"

DIR=$(mktemp -d "${TMPDIR:-/tmp}/egress-diag.XXXXXX")
NSD_PID=
cleanup() {
	[ -n "$NSD_PID" ] && kill "$NSD_PID" 2>/dev/null
	[ -n "$NSD_PID" ] && wait "$NSD_PID" 2>/dev/null
	if [ "${E2E_KEEP:-0}" = 1 ]; then echo "kept $DIR" >&2; else rm -rf "$DIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PORT=$(e2e_free_port)
DEAD=$(e2e_free_port)	# nothing listens there: queries time out

. "$top_srcdir/tests/nsd.sh"
test_nsd_start "$DIR" "$PORT"

cat >"$DIR/egress.conf" <<CONF
store = { state_dir = "$DIR/state"; };
diagnose = {
	egress_ips = [ "192.0.2.10" ];
	helo = "out.example.test";
	dnsbl = [ "zen.dnsbl.test", "bl.dead.test" ];
	dnswl = [ ];
	stubs = [ "example.test=127.0.0.1@$PORT", "zen.dnsbl.test=127.0.0.1@$PORT",
	          "2.0.192.in-addr.arpa=127.0.0.1@$PORT", "dead.test=127.0.0.1@$DEAD" ];
	timeout_ms = 1500;
};
CONF
mkdir -p "$DIR/state"
"$EGRESSCTL" -c "$DIR/egress.conf" checks >/dev/null || e2e_fail "the test config does not load"

data="$top_srcdir/tests/data/diagnose"
fails=0
# expect FILE PATTERN: the output of the last run contains PATTERN (grep -E)
expect() {
	if ! grep -Eq -- "$2" "$1"; then
		echo "FAIL: $(basename "$1"): no line matching: $2" >&2
		fails=$((fails + 1))
	fi
}

run() {
	"$EGRESSCTL" -c "$DIR/egress.conf" diagnose "$@" >"$DIR/out" 2>"$DIR/err"
	echo "$?" >"$DIR/rc"
	cat "$DIR/out"
}

echo "== block list rejection"
run "$data/blocklist.eml"
expect "$DIR/out" '^bucket: reputation'
expect "$DIR/out" 'dnsbl +fail .*192\.0\.2\.10 on zen\.dnsbl\.test.*listed: 127\.0\.0\.2'
expect "$DIR/out" 'dnsbl +unchecked .*bl\.dead\.test.*NOT CHECKED'
expect "$DIR/out" 'rdns +ok .*192\.0\.2\.10 -> out\.example\.test -> 192\.0\.2\.10: forward-confirmed'
expect "$DIR/out" 'helo +ok .*out\.example\.test resolves to 192\.0\.2\.10'
expect "$DIR/out" '^fix: 192\.0\.2\.10 is listed on zen\.dnsbl\.test \(127\.0\.0\.2'
[ "$(cat "$DIR/rc")" = 0 ] || { echo "FAIL: exit $(cat "$DIR/rc")" >&2; fails=$((fails + 1)); }

echo "== DMARC failure (5.7.26)"
run "$data/dmarc.eml"
expect "$DIR/out" '^bucket: authentication'
expect "$DIR/out" 'spf +fail .*SPF of example\.test for 192\.0\.2\.10.*fail \(-all\)'
expect "$DIR/out" 'dkim +warn .*none: the message carried no DKIM signature'
expect "$DIR/out" 'dmarc +fail .*example\.test publishes p=reject'
expect "$DIR/out" '^fix: example\.test publishes DMARC p=reject; SPF for 192\.0\.2\.10 fails .* and the message carried no DKIM signature: add the IP to SPF or sign with DKIM'

echo "== content rejection returning the signed message"
run "$data/content.eml"
expect "$DIR/out" '^bucket: content'
expect "$DIR/out" 'dkim +ok .*sel\._domainkey\.example\.test.*rsa key, 2048 bits, aligned with From'
expect "$DIR/out" 'dmarc +ok .*aligned DKIM signature'
expect "$DIR/out" 'dnsbl +fail .*zen\.dnsbl\.test'

echo "== the same as JSON"
"$EGRESSCTL" -c "$DIR/egress.conf" diagnose --json "$data/dmarc.eml" >"$DIR/json" ||
	{ echo "FAIL: --json exit $?" >&2; fails=$((fails + 1)); }
python3 - "$DIR/json" <<'PY' || fails=$((fails + 1))
import json, sys
doc = json.load(open(sys.argv[1]))
checks = {c["check"]: c["verdict"] for c in doc[0]["checks"]}
assert doc[0]["bucket"] == "authentication", doc[0]["bucket"]
assert checks.get("spf") == "fail" and checks.get("dmarc") == "fail", checks
assert "p=reject" in doc[0]["fix"], doc[0]["fix"]
PY

echo "== the sender record gained the evidence"
"$EGRESSCTL" -c "$DIR/egress.conf" sender alice@example.test >"$DIR/out" 2>&1
cat "$DIR/out"
expect "$DIR/out" 'evidence: reputation/dnsbl 192\.0\.2\.10 listed on zen\.dnsbl\.test \(127\.0\.0\.2\)'
expect "$DIR/out" 'evidence: authentication/spf SPF example\.test for 192\.0\.2\.10: fail'
expect "$DIR/out" 'evidence: authentication/dmarc DMARC example\.test p=reject'
# --no-record leaves the record as it is
before=$(grep -c evidence "$DIR/out")
"$EGRESSCTL" -c "$DIR/egress.conf" diagnose --no-record "$data/blocklist.eml" >/dev/null 2>&1
"$EGRESSCTL" -c "$DIR/egress.conf" sender alice@example.test >"$DIR/out2" 2>&1
cmp -s "$DIR/out" "$DIR/out2" || { echo "FAIL: --no-record changed the record" >&2; fails=$((fails + 1)); }
[ "$before" -ge 3 ] || { echo "FAIL: evidence lines: $before" >&2; fails=$((fails + 1)); }

echo "== a domain asked directly, and a zone that never answers"
run @example.test
expect "$DIR/out" '^bucket: all'
expect "$DIR/out" 'mx +ok .*MX example\.test'
sed -i 's/"zen.dnsbl.test=127.0.0.1@[0-9]*", //' "$DIR/egress.conf"
sed -i 's/dnsbl = \[ "zen.dnsbl.test", "bl.dead.test" \]/dnsbl = [ "zen.dead.test" ]/' "$DIR/egress.conf"
run "$data/blocklist.eml"
expect "$DIR/out" 'dnsbl +unchecked .*zen\.dead\.test.*NOT CHECKED'
if grep -Eq 'dnsbl +ok' "$DIR/out"; then
	echo "FAIL: an unanswered list was reported clean" >&2; fails=$((fails + 1))
fi

echo "== SPF verdicts against pyspf on the same zones"
PY3=/usr/bin/python3	# Debian's, where python3-spf is installed
[ -x "$PY3" ] || PY3=python3
if "$PY3" -c 'import spf' 2>/dev/null; then
	for ip in 192.0.2.10 198.51.100.7; do
		want=$("$PY3" - "$PORT" "$ip" <<'PY'
import sys, spf
try:	# pyspf runs on dnspython or on pydns (Debian's python3-dns)
    import dns.resolver
    r = dns.resolver.Resolver(configure=False)
    r.nameservers = ["127.0.0.1"]; r.port = int(sys.argv[1])
    dns.resolver.default_resolver = r
except ImportError:
    import DNS
    DNS.defaults["server"] = ["127.0.0.1"]; DNS.defaults["port"] = int(sys.argv[1])
print(spf.check2(i=sys.argv[2], s="alice@example.test", h="out.example.test")[0])
PY
)
		sed -i "s/egress_ips = \[ \"[^\"]*\" \]/egress_ips = [ \"$ip\" ]/" "$DIR/egress.conf"
		run @example.test >/dev/null
		got=$(sed -n 's/^  spf *[a-z]* .*: \([a-z]*\) (.*/\1/p' "$DIR/out" | head -1)
		echo "  $ip: pyspf=$want egressctl=$got"
		[ -n "$want" ] && [ "$want" = "$got" ] ||
			{ echo "FAIL: SPF for $ip: pyspf says $want, egressctl $got" >&2; fails=$((fails + 1)); }
	done
else
	[ "${EGRESS_TESTS_REQUIRED:-0}" = 1 ] && { echo "FAIL: python3-spf missing" >&2; fails=$((fails + 1)); }
	echo "  pyspf (python3-spf) not installed: oracle skipped"
fi

[ "$fails" = 0 ] || e2e_fail "$fails expectation(s) failed"
echo "PASS"
