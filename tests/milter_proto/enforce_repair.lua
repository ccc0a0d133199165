-- Missing Date with action repair: accepted with one Date field added,
-- holding an RFC 5322 date-time.
dofile(lib)
local conn = filter_open()
message_send(conn, { headers = std_headers({ ["Date"] = true }) })
local r = message_end(conn)
expect_pass(r, "missing Date")
if not (mt.eom_check(conn, MT_HDRADD, "Date") or mt.eom_check(conn, MT_HDRINSERT, "Date")) then
	fail("missing Date: no Date field added")
end
local v = mt.getheader(conn, "Date", 0)
if v == nil or not string.find(v, "%d%d? %a%a%a %d%d%d%d %d%d:%d%d:%d%d [+-]%d%d%d%d") then
	fail("added Date is not an RFC 5322 date-time: " .. tostring(v))
end
if mt.eom_check(conn, MT_QUARANTINE) then
	fail("missing Date: repaired message also held")
end
mt.disconnect(conn)
