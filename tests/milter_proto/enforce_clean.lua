-- A well-formed message is accepted without any change, whatever the chunking
-- of its body; several messages on one connection.
dofile(lib)
local conn = filter_open()
local body = "Hello Bob,\r\n\r\nshort lines only.\r\n.dot line\r\n\r\nAlice\r\n"
for _, n in ipairs({ 1, 2, 3, 7, 64, 4096 }) do
	message_send(conn, { headers = std_headers(), body = body, chunk = n,
	    qid = "4CLEAN" .. n })
	local r = message_end(conn)
	expect_pass(r, "clean message, chunk " .. n)
	expect_no_changes(conn, "clean message, chunk " .. n)
end
mt.disconnect(conn)
