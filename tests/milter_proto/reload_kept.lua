-- After a reload that failed (invalid file), the running configuration stays:
-- missing Message-ID is still repaired, not rejected.
dofile(lib)
local conn = filter_open()
message_send(conn, { headers = std_headers({ ["Message-ID"] = true }) })
expect_pass(message_end(conn), "after a failed reload")
if not (mt.eom_check(conn, MT_HDRADD, "Message-ID") or
    mt.eom_check(conn, MT_HDRINSERT, "Message-ID")) then
	fail("after a failed reload: Message-ID not repaired")
end
mt.disconnect(conn)
