#!/bin/sh
# tests/e2e/roles.sh - roles per listener behind a real Postfix with two
# smtpd listeners that differ only in {daemon_name}:
#   submission: -o milter_macro_daemon_name=ORIGINATING (roles.outbound)
#   inbound:    the default daemon name (mta.e2e.test), roles.default =
#               "bounces"
# and the same milter on both. A message with two From fields is refused on
# the submission listener and passes untouched (byte for byte, apart from
# what the transport adds) on the inbound one; a remote DSN on the inbound
# listener is still recognised, logged and recorded; the same message from
# a client in roles.internal_networks on the inbound listener is checked.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"
DATA=$top_srcdir/tests/data/e2e
ORIG=sender@example.org
FAILED=bob@dest.example
DIAG="554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org"

e2e_require milter
e2e_init
SUB_PORT=$(e2e_free_port)
E2E_EXTRA_MASTER="127.0.0.1:$SUB_PORT inet n - n - - smtpd
  -o syslog_name=postfix/submission -o milter_macro_daemon_name=ORIGINATING"
e2e_write_postfix_config
e2e_start_sink
e2e_start_postfix
e2e_wait_port "$SUB_PORT" 30 || e2e_fail "the submission listener did not listen"

# write_conf [INTERNAL_NETWORKS_LINE]
CONF=$E2E_DIR/milter.conf
write_conf() {
	e2e_write_milter_config "$CONF" enforce
	{
		printf 'roles = {\n  default = "bounces";\n  outbound = [ "ORIGINATING" ];\n'
		[ -n "${1:-}" ] && printf '  %s\n' "$1"
		printf '};\nbounce = {\n  patterns = "%s";\n};\n' \
			"$top_srcdir/conf/bounce-patterns.conf"
		# the DSN below returns a message never sent here: this test is
		# about roles, so the ledger's miss is counted (tests/e2e/ledger.sh)
		printf 'ledger = {\n  require_match = "relaxed";\n};\n'
	} >>"$CONF"
}
write_conf
e2e_start_milter "$CONF"

# 1. submission listener: two From fields are refused
sed 's/e2e duplicate From/e2e roles submission/' "$DATA/dup_from.eml" >"$E2E_DIR/sub.eml"
e2e_send sub "$E2E_DIR/sub.eml" "$SUB_PORT" && e2e_fail "submission: accepted"
r=$(e2e_reply sub)
case $r in "554 5.6.0 "*) ;; *) e2e_fail "submission: expected 554 5.6.0, got: $r" ;; esac
echo "submission (daemon_name=ORIGINATING): $r"

# 2. inbound listener: the same message passes untouched
sed 's/e2e duplicate From/e2e roles inbound/' "$DATA/dup_from.eml" >"$E2E_DIR/in.eml"
e2e_send in "$E2E_DIR/in.eml" || e2e_fail "inbound: refused: $(e2e_reply in)"
f=$(e2e_wait_delivered "e2e roles inbound") || e2e_fail "inbound: not delivered"
e2e_strip_transport "$f" >"$E2E_DIR/in.got"
tr -d '\r' <"$E2E_DIR/in.eml" >"$E2E_DIR/in.want"
if ! cmp -s "$E2E_DIR/in.want" "$E2E_DIR/in.got"; then
	diff "$E2E_DIR/in.want" "$E2E_DIR/in.got" >&2
	e2e_fail "inbound: the message was changed"
fi
e2e_wait_log 'not checked: role=bounces why=stranger daemon=mta.e2e.test sender=<sender@example.org>' \
	10 "$E2E_MILTER_LOG" || e2e_fail "inbound: no 'not checked' line"
[ "$(grep -c 'rfc5322\.from\.duplicate' "$E2E_MILTER_LOG")" -eq 1 ] ||
	e2e_fail "inbound: checked too (or the submission not logged)"
echo "inbound (daemon_name=mta.e2e.test): delivered unchanged"

# 3. a remote DSN on the inbound listener is still recognised and recorded
sed -e "s|@SENDER@|$ORIG|g" -e "s|@RCPT@|$FAILED|g" -e "s|@DEST@|dest.example|g" \
	-e "s|@STATUS@|5.7.1|g" -e "s|@DIAG@|$DIAG|g" -e "s|@TAG@|e2e-roles|g" \
	"$DATA/dsn_remote.eml" >"$E2E_DIR/dsn.eml"
e2e_send dsn "$E2E_DIR/dsn.eml" "" --from '<>' --to "$ORIG" ||
	e2e_fail "DSN not accepted: $(e2e_reply dsn)"
e2e_wait_delivered "Undelivered Mail Returned to Sender (e2e-roles)" >/dev/null ||
	e2e_fail "DSN not delivered"
e2e_wait_log "bounce sender=<$ORIG> rcpt=<$FAILED> status=5.7.1 reply=554 reason=blocked category=reputation" \
	10 "$E2E_MILTER_LOG" || e2e_fail "DSN on the inbound listener not recognised"
# the store commits in groups (store.commit_interval_ms): poll, bounded
_t=100
until "$EGRESSCTL" -c "$CONF" sender "$ORIG" >"$E2E_DIR/log/sender.txt" 2>&1 &&
    grep -q 'blocked' "$E2E_DIR/log/sender.txt"; do
	_t=$((_t - 1))
	[ $_t -gt 0 ] || { cat "$E2E_DIR/log/sender.txt" >&2
		e2e_fail "the failure did not reach the sender record"; }
	sleep 0.1
done
echo "inbound DSN: $(grep -o 'bounce sender=.*category=reputation' "$E2E_MILTER_LOG" | head -n 1)"

# 4. a client in roles.internal_networks on the inbound listener is checked
e2e_stop_milter
write_conf 'internal_networks = [ "127.0.0.0/8" ];'
e2e_start_milter "$CONF"
sed 's/e2e duplicate From/e2e roles internal/' "$DATA/dup_from.eml" >"$E2E_DIR/int.eml"
e2e_send int "$E2E_DIR/int.eml" && e2e_fail "internal client: accepted"
case $(e2e_reply int) in "554 5.6.0 "*) ;; *) e2e_fail "internal: got $(e2e_reply int)" ;; esac
echo "inbound from 127.0.0.1 in internal_networks: $(e2e_reply int)"
echo "PASS: roles"
