-- mode = "monitor": a check configured to reject only tags the message (the
-- findings header names it); no reply, no hold.
dofile(lib)
local conn = filter_open()
message_send(conn, { headers = std_headers({ ["Message-ID"] = true }) })
local r = message_end(conn)
expect_pass(r, "monitor mode")
if mt.eom_check(conn, MT_QUARANTINE) then
	fail("monitor mode held the message")
end
if not (mt.eom_check(conn, MT_HDRADD, "X-Egress-Findings") or
    mt.eom_check(conn, MT_HDRINSERT, "X-Egress-Findings")) then
	fail("monitor mode: no findings header")
end
local v = mt.getheader(conn, "X-Egress-Findings", 0)
if v == nil or not string.find(v, "rfc5322.message_id.missing", 1, true) then
	fail("monitor mode: findings header does not name the check: " .. tostring(v))
end
mt.disconnect(conn)
