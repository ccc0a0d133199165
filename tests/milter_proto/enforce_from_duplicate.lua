-- Two From fields: rejected with the configured 554 5.6.0 reply (the e2e
-- test checks the default reply as the SMTP client sees it).
dofile(lib)
local conn = filter_open()
message_send(conn, { headers = std_headers(nil,
    { { "From", "Mallory <mallory@example.com>" } }) })
local r = message_end(conn)
if r ~= SMFIR_REPLYCODE then
	fail("duplicate From: expected a reply code, got " .. reply_name(r))
end
if not mt.eom_check(conn, MT_SMTPREPLY, "554", "5.6.0",
    "More than one From header field (RFC 5322 3.6)") then
	fail("duplicate From: not the configured 554 5.6.0 reply")
end
mt.disconnect(conn)
