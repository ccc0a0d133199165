-- Missing Message-ID with action reject: the configured reply, exactly. The
-- next message on the same connection starts clean (no state carried over).
dofile(lib)
local conn = filter_open()
message_send(conn, { headers = std_headers({ ["Message-ID"] = true }) })
local r = message_end(conn)
if r ~= SMFIR_REPLYCODE then
	fail("missing Message-ID: expected a reply code, got " .. reply_name(r))
end
if not mt.eom_check(conn, MT_SMTPREPLY, "554", "5.6.0",
    "Message-ID header missing (RFC 5322 3.6.4)") then
	fail("missing Message-ID: not the configured 554 5.6.0 reply")
end
message_send(conn, { headers = std_headers(), qid = "4NEXT" })
r = message_end(conn)
expect_pass(r, "clean message after a rejected one")
expect_no_changes(conn, "clean message after a rejected one")
mt.disconnect(conn)
