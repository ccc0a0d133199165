-- A stop (SIGTERM) while this connection is in the middle of a message.
-- libmilter serves no command of an open session once it stops, so the
-- daemon does not wait for this one: it waits only for callbacks running
-- at that moment, closes the sender store and exits, and the connection
-- is closed under us (an MTA then applies its milter_default_action).
-- This script only holds the connection open across the stop.
-- tests/milter_proto.sh sends the signal and checks the daemon's side;
-- the two sides meet through files in the directory given as -D dir=...
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

local conn = filter_open()
message_send(conn, { headers = std_headers() })
touch(dir .. "/connected")
wait_for(dir .. "/stopped")
-- the daemon is gone; nothing more to send on a closed connection
touch(dir .. "/released")
