#!/bin/sh
# tests/e2e/preflight.sh - the daemon's DNS thread behind Postfix, against a
# private nsd on loopback (tests/nsd.sh zones; nothing leaves the machine):
#  - the self-check finds egress IP 192.0.2.10 listed on zen.dnsbl.test:
#    logged, and milter_egress_selfcheck_listed is 1 on the metrics page;
#  - DMARC preflight (tag): mail From example.test (p=reject, SPF does not
#    cover 192.0.2.10) passes untagged while the answer is not cached, then
#    is tagged "X-Egress-Preflight: dmarc-will-fail; ..."; the same mail with
#    an aligned DKIM-Signature is not tagged; mail From pass.example.test
#    (SPF passes aligned) is not tagged.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"
DATA=$top_srcdir/tests/data/e2e

e2e_require milter
command -v nsd >/dev/null 2>&1 || e2e_skip "nsd not installed (Debian package nsd)"
command -v curl >/dev/null 2>&1 || e2e_skip "curl not installed"
e2e_up
NSD_PORT=$(e2e_free_port)
METRICS_PORT=$(e2e_free_port)
mkdir -p "$E2E_DIR/dns"
. "$top_srcdir/tests/nsd.sh"
test_nsd_start "$E2E_DIR/dns" "$NSD_PORT"
# e2e_cleanup does not know nsd: stop it on the way out, then clean up
trap 'kill "$NSD_PID" 2>/dev/null; wait "$NSD_PID" 2>/dev/null; e2e_cleanup' EXIT

e2e_write_milter_config "$E2E_DIR/milter.conf" enforce
cat >>"$E2E_DIR/milter.conf" <<CONF
diagnose = {
  egress_ips = [ "192.0.2.10" ];
  dnsbl = [ "zen.dnsbl.test" ];
  dnswl = [ ];
  stubs = [ $(test_nsd_stubs "$NSD_PORT") ];
  timeout_ms = 2000;
  preflight = "tag";
  selfcheck_interval = "1h";
};
metrics = { listen = "127.0.0.1:$METRICS_PORT"; };
CONF
"$MILTER_EGRESS" -n -c "$E2E_DIR/milter.conf" || e2e_fail "config rejected"
e2e_start_milter "$E2E_DIR/milter.conf"

# the self-check runs at start
e2e_wait_log 'selfcheck: egress IP 192\.0\.2\.10 is listed on zen\.dnsbl\.test \(127\.0\.0\.2' 30 \
	"$E2E_MILTER_LOG" || e2e_fail "no self-check listing in the milter log"
e2e_wait_log 'selfcheck: 1 listing' 30 "$E2E_MILTER_LOG" || e2e_fail "no self-check summary"
page=$(curl -fsS "http://127.0.0.1:$METRICS_PORT/metrics") || e2e_fail "metrics page"
echo "$page" | grep -q '^milter_egress_selfcheck_listed 1$' ||
	e2e_fail "selfcheck_listed is not 1: $(echo "$page" | grep selfcheck)"

# mail_as NAME ENVELOPE FROM-HEADER [EXTRA-HEADER]: a clean message
mail_as() {
	{
		[ -n "${4:-}" ] && printf '%s\n' "$4"
		sed -e "s/^From: .*/From: Alice <$3>/" -e "s/e2e clean message/e2e preflight $1/" \
			-e "s/^Message-ID: .*/Message-ID: <$1.preflight@example.test>/" "$DATA/clean.eml"
	} >"$E2E_DIR/$1.eml"
	E2E_SENDER=$2 e2e_send "$1" "$E2E_DIR/$1.eml" || e2e_fail "$1 not accepted: $(e2e_reply "$1")"
	_f=$(e2e_wait_delivered "e2e preflight $1") || e2e_fail "$1 not delivered"
	e2e_header "$_f" X-Egress-Preflight
}

first=$(mail_as first alice@example.test alice@example.test)
[ -z "$first" ] || e2e_fail "the first message was tagged before the answer was cached: $first"
e2e_wait_log 'preflight: From domain example\.test, envelope domain example\.test: dmarc-will-fail' 30 \
	"$E2E_MILTER_LOG" || e2e_fail "the preflight answer was not logged"
second=$(mail_as second alice@example.test alice@example.test)
echo "second: X-Egress-Preflight: $second"
case $second in
dmarc-will-fail\;\ from=example.test\;*p=reject*) ;;
*) e2e_fail "second message not tagged as it should: '$second'" ;;
esac
grep -q 'preflight: mail from example.test will fail DMARC' "$E2E_MILTER_LOG" ||
	e2e_fail "no warning line for the domain"

signed=$(mail_as signed alice@example.test alice@example.test \
	'DKIM-Signature: v=1; a=rsa-sha256; d=example.test; s=sel; h=from; bh=x; b=y')
[ -z "$signed" ] || e2e_fail "an aligned signed message was tagged: $signed"

mail_as pass1 alice@pass.example.test alice@pass.example.test >/dev/null
e2e_wait_log 'preflight: From domain pass\.example\.test, envelope domain pass\.example\.test: pass' 30 \
	"$E2E_MILTER_LOG" || e2e_fail "no pass answer for pass.example.test"
pass2=$(mail_as pass2 alice@pass.example.test alice@pass.example.test)
[ -z "$pass2" ] || e2e_fail "a message whose SPF passes aligned was tagged: $pass2"

page=$(curl -fsS "http://127.0.0.1:$METRICS_PORT/metrics") || e2e_fail "metrics page"
echo "$page" | grep '^milter_egress_preflight_total'
echo "$page" | grep -q '^milter_egress_preflight_total{verdict="dmarc-will-fail"} [12]$' ||
	e2e_fail "preflight_total dmarc-will-fail"
echo "PASS: preflight"
