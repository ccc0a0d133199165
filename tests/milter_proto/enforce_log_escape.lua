-- An envelope sender with CR, LF, ESC and 8-bit bytes: the message goes
-- through as usual, and the daemon's log (checked by milter_proto.sh) has
-- one escaped line for it, never a raw control byte or a second line.
dofile(lib)
local conn = filter_open()
local forged = "forged\r\nmilter-egress[1]: 4FAKE: sender=<x> action=accept\27[31m\233@example.org"
message_send(conn, { from = forged, headers = std_headers(),
    body = "Hello.\r\n", qid = "4ESCAPE" })
local r = message_end(conn)
if r == nil then
	fail("no reply at end of message")
end
mt.disconnect(conn)
