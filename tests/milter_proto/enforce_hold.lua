-- A duplicate Subject (rfc5322.header.duplicate) with action hold: the
-- message is quarantined, not rejected.
dofile(lib)
local conn = filter_open()
message_send(conn, { headers = std_headers(nil, { { "Subject", "a second subject" } }) })
local r = message_end(conn)
expect_pass(r, "duplicate Subject")
if not mt.eom_check(conn, MT_QUARANTINE) then
	fail("duplicate Subject: not quarantined")
end
mt.disconnect(conn)
