#!/bin/sh
# tests/e2e/batv.sh - BATV behind the real Postfix (batv.enabled, sender
# domain example.org, refuse_untagged):
#  1. mail from S through the milter listener leaves with the envelope
#     sender prvs=KDDDHHHHHH=S (smfi_chgfrom), as the capture sink shows;
#     the tag is recomputed here independently (SipHash-2-4 in Python) and
#     must be the same;
#  2. a remote DSN to that tagged address, returning that message, counts;
#  3. the same DSN to the address with a wrong tag, and to one with a tag
#     that expired (made here for a day in the past), change nothing and are
#     logged unmatched: batv-invalid, batv-expired;
#  4. a remote DSN to S untagged is refused at RCPT with 550 5.7.1.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"
DATA=$top_srcdir/tests/data/e2e
S=batv-s@example.org
DIAG="550 5.1.1 <gone@dest.example>: Recipient address rejected: User unknown"

e2e_require milter
[ -n "${EGRESSCTL:-}" ] || e2e_fail "egressctl not built"
command -v python3 >/dev/null 2>&1 || e2e_skip "python3 not installed"
e2e_up
KEY=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
printf '%s\n' "$KEY" >"$E2E_DIR/batv.key"
CONF=$E2E_DIR/milter.conf
e2e_write_milter_config "$CONF" enforce
cat >>"$CONF" <<EOF
bounce = {
  patterns = "$top_srcdir/conf/bounce-patterns.conf";
};
policy = {
  keys = [ "envelope" ];
};
batv = {
  enabled = true;
  key_file = "$E2E_DIR/batv.key";
  senders = [ "example.org" ];
  validity = "7d";
  refuse_untagged = true;
};
EOF
e2e_start_milter "$CONF"
ctl() { "$EGRESSCTL" -c "$CONF" "$@"; }

# prvs KEY DAY ADDR: the tag of ADDR that expires on DAY (days since the
# epoch), key number 0, computed without milter-egress
prvs() {
	python3 - "$1" "$2" "$3" <<'PY'
import sys
M = (1 << 64) - 1
def rotl(x, b): return ((x << b) | (x >> (64 - b))) & M
def rounds(v, n):
    for _ in range(n):
        v[0] = (v[0] + v[1]) & M; v[1] = rotl(v[1], 13) ^ v[0]; v[0] = rotl(v[0], 32)
        v[2] = (v[2] + v[3]) & M; v[3] = rotl(v[3], 16) ^ v[2]
        v[0] = (v[0] + v[3]) & M; v[3] = rotl(v[3], 21) ^ v[0]
        v[2] = (v[2] + v[1]) & M; v[1] = rotl(v[1], 17) ^ v[2]; v[2] = rotl(v[2], 32)
def siphash24(key, data):
    k0 = int.from_bytes(key[:8], 'little'); k1 = int.from_bytes(key[8:], 'little')
    v = [k0 ^ 0x736f6d6570736575, k1 ^ 0x646f72616e646f6d,
         k0 ^ 0x6c7967656e657261, k1 ^ 0x7465646279746573]
    tail = len(data) & 7
    for i in range(0, len(data) - tail, 8):
        m = int.from_bytes(data[i:i + 8], 'little')
        v[3] ^= m; rounds(v, 2); v[0] ^= m
    b = ((len(data) & 0xff) << 56) | int.from_bytes(data[len(data) - tail:], 'little')
    v[3] ^= b; rounds(v, 2); v[0] ^= b
    v[2] ^= 0xff; rounds(v, 4)
    return v[0] ^ v[1] ^ v[2] ^ v[3]
key = bytes.fromhex(sys.argv[1]); day = int(sys.argv[2]) % 1000; addr = sys.argv[3]
h = siphash24(key, ("0%03d " % day + addr.lower()).encode())
print("prvs=0%03d%06x=%s" % (day, h >> 40, addr))
PY
}
# dsn NAME TO MESSAGE-ID: a remote DSN to TO (also its X-Postfix-Sender)
dsn() {
	sed -e "s|@SENDER@|$2|g" -e "s|@RCPT@|gone@dest.example|g" -e "s|@DEST@|dest.example|g" \
		-e "s|@STATUS@|5.1.1|g" -e "s|@DIAG@|$DIAG|g" -e "s|@TAG@|$1|g" \
		-e "s|^Message-ID: <orig\\..*|Message-ID: $3|" \
		"$DATA/dsn_remote.eml" >"$E2E_DIR/$1.eml"
	e2e_send "$1" "$E2E_DIR/$1.eml" "" --from '<>' --to "$2"
}
wait_sender() {
	_t=50
	while [ $_t -gt 0 ]; do
		ctl sender "$S" >"$E2E_DIR/log/sender.txt" 2>&1 &&
			grep -Eq "$1" "$E2E_DIR/log/sender.txt" && return 0
		sleep 0.1; _t=$((_t - 1))
	done
	cat "$E2E_DIR/log/sender.txt" >&2
	return 1
}

# 1. signed on the way out
sed -e "s/e2e clean message/e2e batv real/" -e "s/^From: .*/From: <$S>/" \
	-e "s/^To: .*/To: <gone@dest.example>/" -e "s/^Message-ID: .*/Message-ID: <batv.1@example.org>/" \
	"$DATA/clean.eml" >"$E2E_DIR/real.eml"
e2e_send real "$E2E_DIR/real.eml" "" --from "$S" --to gone@dest.example ||
	e2e_fail "real: refused: $(e2e_reply real)"
f=$(e2e_wait_delivered "e2e batv real" 20) || e2e_fail "real: not delivered"
tagged=$(sed -n 's/^X-Mail-Args: <\([^>]*\)>.*/\1/p' "$f" | tr -d '\r')
today=$(( $(date +%s) / 86400 ))
want=$(prvs "$KEY" $((today + 7)) "$S")
echo "real: left as <$tagged>"
[ "$tagged" = "$want" ] || {
	# a day may have turned between the two clocks
	want=$(prvs "$KEY" $((today + 6)) "$S")
	[ "$tagged" = "$want" ] || e2e_fail "real: envelope sender <$tagged>, expected <$(prvs "$KEY" $((today + 7)) "$S")>"
}
grep -q "batv sender=<$S> signed=<$tagged>" "$E2E_MILTER_LOG" || e2e_fail "real: signing not logged"
grep -q '^From: <batv-s@example.org>' "$f" || e2e_fail "real: the From header was changed"

# 2. a bounce to the tagged address counts
dsn good "$tagged" "<batv.1@example.org>" || e2e_fail "good: refused: $(e2e_reply good)"
e2e_wait_log "matched bounce sender=<$S> rcpt=<gone@dest.example> status=5.1.1 " 10 "$E2E_MILTER_LOG" ||
	e2e_fail "good: not matched"
wait_sender 'failures in the last 7d: 1 \(userunknown=1\)' || e2e_fail "good: not counted"

# 3. a wrong tag and an expired one change nothing
# the last hex digit of the hash (the 15th character) changed
c=$(printf '%s' "$tagged" | cut -c15)
[ "$c" = 0 ] && n=1 || n=0
bad="$(printf '%s' "$tagged" | cut -c1-14)$n$(printf '%s' "$tagged" | cut -c16-)"
[ "$bad" != "$tagged" ] || e2e_fail "bad: tag not altered"
dsn badtag "$bad" "<batv.1@example.org>" || e2e_fail "badtag: refused: $(e2e_reply badtag)"
e2e_wait_log "unmatched bounce sender=<$S> rcpt=<gone@dest.example> status=5.1.1 reason=batv-invalid " \
	10 "$E2E_MILTER_LOG" || e2e_fail "badtag: not logged batv-invalid"
old=$(prvs "$KEY" $((today - 3)) "$S")
dsn expired "$old" "<batv.1@example.org>" || e2e_fail "expired: refused: $(e2e_reply expired)"
e2e_wait_log "unmatched bounce sender=<$S> rcpt=<gone@dest.example> status=5.1.1 reason=batv-expired " \
	10 "$E2E_MILTER_LOG" || e2e_fail "expired: not logged batv-expired"
grep -F 'reason=batv-' "$E2E_MILTER_LOG" | sed 's/^[^:]*: //;s/^/logged: /'
wait_sender 'unmatched bounces in the last 7d: 2 \(batv-expired=1, batv-invalid=1\)' ||
	e2e_fail "bad tags not counted apart"
grep -q 'failures in the last 7d: 1 (userunknown=1)' "$E2E_DIR/log/sender.txt" ||
	e2e_fail "a bad tag changed the sender record"
echo "bad tags: $(grep -E '^(failures|unmatched) .*7d' "$E2E_DIR/log/sender.txt" | tr '\n' ';')"

# 4. refuse_untagged: a remote bounce to S without a tag is refused at RCPT
dsn untagged "$S" "<batv.1@example.org>" && e2e_fail "untagged: accepted"
r=$(e2e_reply untagged)
case $r in "550 5.7.1 "*) ;; *) e2e_fail "untagged: reply was: $r" ;; esac
grep -B1 -F "$r" "$E2E_DIR/log/swaks.untagged" | grep -q "^ -> RCPT TO" || e2e_fail "untagged: not refused at RCPT"
echo "untagged: refused at RCPT: $r"
e2e_wait_queue_empty 10 || e2e_fail "queue not empty"
echo "PASS: batv"
