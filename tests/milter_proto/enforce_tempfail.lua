-- Missing From with action tempfail and a 5xx reply text in the config: a
-- temporary failure, the codes turned into 451 4.x.x (a 5xx would make the
-- MTA bounce what the operator wanted retried).
-- (miltertest's MT_SMTPREPLY matches only with all three parameters.)
dofile(lib)
local conn = filter_open()
message_send(conn, { headers = std_headers({ ["From"] = true }) })
local r = message_end(conn)
if r == SMFIR_TEMPFAIL then
	fail("missing From: plain tempfail, the configured text was dropped")
end
if r ~= SMFIR_REPLYCODE then
	fail("missing From: expected a reply code, got " .. reply_name(r))
end
if not mt.eom_check(conn, MT_SMTPREPLY, "451", "4.6.0", "From header missing") then
	fail("missing From: reply is not 451 4.6.0 From header missing")
end
mt.disconnect(conn)
