-- Missing From with action tempfail: a temporary failure (4xx).
dofile(lib)
local conn = filter_open()
message_send(conn, { headers = std_headers({ ["From"] = true }) })
local r = message_end(conn)
if r == SMFIR_TEMPFAIL then
	mt.disconnect(conn)
	return
end
if r == SMFIR_REPLYCODE then
	for _, code in ipairs({ "421", "450", "451", "452" }) do
		if mt.eom_check(conn, MT_SMTPREPLY, code) then
			mt.disconnect(conn)
			return
		end
	end
end
fail("missing From: expected a temporary failure, got " .. reply_name(r))
