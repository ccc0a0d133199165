-- Reload (SIGUSR1) while a connection is open: that connection keeps the
-- configuration snapshot it started with, a new connection gets the new one.
-- Before: rfc5322.message_id.missing rejects; after: it repairs.
-- tests/milter_proto.sh does the reload; the two sides meet through files
-- in the directory given as -D dir=...
dofile(lib)

local function touch(p)
	local f = io.open(p, "w")
	f:close()
end

local function wait_for(p)
	for _ = 1, 300 do
		local f = io.open(p)
		if f then
			f:close()
			return
		end
		mt.sleep(0.1)
	end
	fail("nobody created " .. p)
end

local function no_message_id(conn)
	message_send(conn, { headers = std_headers({ ["Message-ID"] = true }) })
	return message_end(conn)
end

local old = filter_open()
if no_message_id(old) ~= SMFIR_REPLYCODE then
	fail("before the reload: missing Message-ID not rejected")
end
touch(dir .. "/connected")
wait_for(dir .. "/reloaded")

if no_message_id(old) ~= SMFIR_REPLYCODE then
	fail("the open connection lost its configuration on reload")
end

local new = filter_open()
expect_pass(no_message_id(new), "new connection after the reload")
if not (mt.eom_check(new, MT_HDRADD, "Message-ID") or
    mt.eom_check(new, MT_HDRINSERT, "Message-ID")) then
	fail("new connection: Message-ID not repaired as the new configuration says")
end
mt.disconnect(new)
mt.disconnect(old)
