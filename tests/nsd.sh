# tests/nsd.sh - test DNS zones served by a private nsd on a loopback port
# (sourced, POSIX sh, after tests/e2e/lib.sh for e2e_wait_own_port).
#
# test_nsd_start DIR PORT: write the zones into DIR, start nsd in the
# foreground on 127.0.0.1@PORT (NSD_PID set; the caller kills it), wait
# until it listens. Zones (TTL 60):
#   example.test          out A 192.0.2.10; MX mx (192.0.2.20);
#                         SPF "ip4:198.51.100.0/24 -all"; DMARC p=reject;
#                         a 2048-bit DKIM key at sel._domainkey;
#                         pass.example.test: SPF "ip4:192.0.2.10 -all" and
#                         DMARC p=reject (SPF passes aligned from 192.0.2.10)
#   zen.dnsbl.test        192.0.2.10 listed (127.0.0.2 + TXT), RFC 5782 2.0.0.127
#   2.0.192.in-addr.arpa  192.0.2.10 PTR out.example.test
# test_nsd_stubs PORT prints the diagnose.stubs list items for these zones.

test_nsd_soa() {
	printf '$TTL 60\n@ SOA ns.%s. hostmaster.%s. 1 3600 600 86400 60\n@ NS ns.%s.\n' "$1" "$1" "$1"
}

test_nsd_start() {
	_nd=$1 _np=$2
	{
		test_nsd_soa example.test
		cat <<'ZONE'
ns A 127.0.0.1
out A 192.0.2.10
mx A 192.0.2.20
@ MX 10 mx.example.test.
@ TXT "v=spf1 ip4:198.51.100.0/24 -all"
_dmarc TXT "v=DMARC1; p=reject; rua=mailto:dmarc@example.test"
pass TXT "v=spf1 ip4:192.0.2.10 -all"
_dmarc.pass TXT "v=DMARC1; p=reject"
ZONE
		# a TXT record of two character-strings, as DNS tools publish long keys
		printf 'sel._domainkey TXT "v=DKIM1; k=rsa; p=%s" "%s"\n' \
			"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAqsOw7wc95OB4Rzmmr+tFMI+YoRekdTJN49lX4EYOuAyKgJgKYnOUqU5xyd4qarzsgsT4NzKlLUHyA3pexTOEoCe81AEWVRKNQ7Vgd7we/AMcNC1BF2QVePLKZ9S1B6MDUykn03WDUnqYU+fswwG9Qnas" \
			"ymfdIxfeMar72jfOO8jLh3FJgfKWXgJl40tR0lza+L4kvIG9Q3GOifqEDqLKP9D06o7zSKAQpWg9XltQIJ+cFg/Onc27SxvY9G8awpb1+fqOojiPy9tNBoGO1HtEI6gTvf9A8+JtZgigAadqBfT90EWa6wqUAk6Wnzc65sJAnsjfpj8m9yk4GTBu8svnwwIDAQAB"
	} >"$_nd/example.test.zone"
	{
		test_nsd_soa zen.dnsbl.test
		cat <<'ZONE'
ns A 127.0.0.1
10.2.0.192 A 127.0.0.2
10.2.0.192 TXT "192.0.2.10 listed for the test"
2.0.0.127 A 127.0.0.2
ZONE
	} >"$_nd/zen.dnsbl.test.zone"
	{
		test_nsd_soa 2.0.192.in-addr.arpa
		printf 'ns.2.0.192.in-addr.arpa. A 127.0.0.1\n10 PTR out.example.test.\n'
	} >"$_nd/2.0.192.in-addr.arpa.zone"
	cat >"$_nd/nsd.conf" <<CONF
server:
	ip-address: 127.0.0.1@$_np
	username: ""
	database: ""
	chroot: ""
	zonesdir: "$_nd"
	zonelistfile: "$_nd/zone.list"
	xfrdfile: "$_nd/xfrd.state"
	xfrdir: "$_nd"
	pidfile: "$_nd/nsd.pid"
	logfile: "$_nd/nsd.log"
	server-count: 1
	verbosity: 1
remote-control:
	control-enable: no
zone:
	name: example.test
	zonefile: example.test.zone
zone:
	name: zen.dnsbl.test
	zonefile: zen.dnsbl.test.zone
zone:
	name: 2.0.192.in-addr.arpa
	zonefile: 2.0.192.in-addr.arpa.zone
CONF
	nsd -d -c "$_nd/nsd.conf" >"$_nd/nsd.out" 2>&1 &
	NSD_PID=$!
	e2e_wait_own_port "$_np" "$NSD_PID" 20 || {
		cat "$_nd/nsd.out" "$_nd/nsd.log" 2>/dev/null >&2
		e2e_fail "nsd did not start"
	}
}

test_nsd_stubs() {
	printf '"example.test=127.0.0.1@%s", "zen.dnsbl.test=127.0.0.1@%s", "2.0.192.in-addr.arpa=127.0.0.1@%s"' "$1" "$1" "$1"
}
