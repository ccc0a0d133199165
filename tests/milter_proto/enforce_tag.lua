-- body.line_too_long with action tag: a 999-octet line (and a 1,200-octet one
-- split across body chunks of 1..4096 octets) adds the findings header naming
-- the check; a line of exactly 998 octets does not.
dofile(lib)
local conn = filter_open()
local function tagged(body, chunk, what)
	message_send(conn, { headers = std_headers(), body = body, chunk = chunk })
	local r = message_end(conn)
	expect_pass(r, what)
	if not (mt.eom_check(conn, MT_HDRADD, "X-Egress-Findings") or
	    mt.eom_check(conn, MT_HDRINSERT, "X-Egress-Findings")) then
		return false
	end
	local v = mt.getheader(conn, "X-Egress-Findings", 0)
	if v == nil or not string.find(v, "body.line_too_long", 1, true) then
		fail(what .. ": findings header does not name body.line_too_long: " .. tostring(v))
	end
	return true
end
if tagged("short\r\n" .. long_line(998) .. "end\r\n", nil, "998 octets") then
	fail("a 998-octet line was tagged")
end
if not tagged("short\r\n" .. long_line(999) .. "end\r\n", nil, "999 octets") then
	fail("a 999-octet line was not tagged")
end
for _, n in ipairs({ 1, 2, 3, 7, 64, 4096 }) do
	if not tagged("a\r\n" .. long_line(1200) .. "b\r\n", n, "1200 octets, chunk " .. n) then
		fail("1200-octet line not tagged at chunk size " .. n)
	end
end
mt.disconnect(conn)
