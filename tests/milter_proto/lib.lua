-- tests/milter_proto/lib.lua - helpers for the miltertest scripts.
--
-- Loaded by every tests/milter_proto/*.lua script (dofile); miltertest is run
-- by tests/milter_proto.sh with -D sock=SOCKET -D lib=THIS_FILE.
-- A message is a table { from = "a@b", rcpts = { ... }, qid = "...",
-- headers = { { name, value }, ... }, body = "CRLF text", chunk = N,
-- mail_macros = { name, value, ... } }.

-- miltertest exits 1 on a Lua error without printing it: say it first.
function fail(msg)
	print("FAIL: " .. msg)
	error("FAIL: " .. msg, 0)
end

-- Call a protocol step; it must succeed or have been negotiated away by
-- the filter (miltertest raises "mt.helo(): negotiated SMFIP_NOHELO").
local function step(what, fn, ...)
	local ok, r = pcall(fn, ...)
	if not ok then
		if not string.find(tostring(r), "negotiated SMFIP_NO", 1, true) then
			fail(what .. ": " .. tostring(r))
		end
	elseif r ~= nil then
		fail(what .. ": " .. tostring(r))
	end
end

-- Connect, negotiate and send connection + HELO information.
function filter_open()
	local conn = mt.connect(sock, 50, 0.1)
	if conn == nil then
		fail("cannot connect to " .. sock)
	end
	step("negotiate", mt.negotiate, conn, nil, nil, nil)
	step("macro", mt.macro, conn, SMFIC_CONNECT, "j", "mta.proto.test",
	    "{daemon_name}", "proto", "{daemon_addr}", "127.0.0.1",
	    "v", "Postfix 3.7.11", "_", "client.proto.test [192.0.2.10]")
	step("connect", mt.conninfo, conn, "client.proto.test", "192.0.2.10")
	step("helo", mt.helo, conn, "client.proto.test")
	return conn
end

-- Send one message up to (not including) end of message.
function message_send(conn, m)
	local from = m.from or "sender@example.org"
	-- m.mail_macros: more MAIL macros, e.g. { "{auth_authen}", "alice" }
	step("macro", mt.macro, conn, SMFIC_MAIL, "{mail_addr}", from,
	    (table.unpack or unpack)(m.mail_macros or {}))
	step("mail", mt.mailfrom, conn, "<" .. from .. ">")
	for _, r in ipairs(m.rcpts or { "rcpt@example.net" }) do
		step("macro", mt.macro, conn, SMFIC_RCPT, "{rcpt_addr}", r,
		    "i", m.qid or "4ABCDEF0123")
		step("rcpt", mt.rcptto, conn, "<" .. r .. ">")
	end
	for _, h in ipairs(m.headers) do
		step("header " .. h[1], mt.header, conn, h[1], h[2])
	end
	step("eoh", mt.eoh, conn)
	local body = m.body or "Hello.\r\n"
	local n = m.chunk or #body
	if n < 1 then n = 1 end
	local i = 1
	while i <= #body do
		step("body", mt.bodystring, conn, string.sub(body, i, i + n - 1))
		i = i + n
	end
end

-- End of message; returns the filter's final reply (an SMFIR_* value).
function message_end(conn)
	step("eom", mt.eom, conn)
	return mt.getreply(conn)
end

-- The usual headers of a well-formed message, with overrides:
-- omit = { ["Message-ID"] = true }, extra = { { name, value }, ... }.
function std_headers(omit, extra)
	local h = {}
	local std = {
		{ "From", "Alice Sender <sender@example.org>" },
		{ "To", "Bob Receiver <rcpt@example.net>" },
		{ "Subject", "protocol test" },
		{ "Date", "Sun, 22 Nov 2026 06:00:00 +0000" },
		{ "Message-ID", "<proto.1@example.org>" },
	}
	for _, f in ipairs(std) do
		if not (omit and omit[f[1]]) then
			table.insert(h, f)
		end
	end
	for _, f in ipairs(extra or {}) do
		table.insert(h, f)
	end
	return h
end

function reply_name(r)
	local names = {
		[SMFIR_CONTINUE] = "continue", [SMFIR_ACCEPT] = "accept",
		[SMFIR_REJECT] = "reject", [SMFIR_TEMPFAIL] = "tempfail",
		[SMFIR_DISCARD] = "discard", [SMFIR_REPLYCODE] = "replycode",
	}
	return names[r] or tostring(r)
end

function expect_pass(r, what)
	if r ~= SMFIR_CONTINUE and r ~= SMFIR_ACCEPT then
		fail(what .. ": expected accept/continue, got " .. reply_name(r))
	end
end

function expect_no_changes(conn, what)
	if mt.eom_check(conn, MT_HDRADD) or mt.eom_check(conn, MT_HDRINSERT) or
	    mt.eom_check(conn, MT_HDRCHANGE) or mt.eom_check(conn, MT_HDRDELETE) or
	    mt.eom_check(conn, MT_BODYCHANGE) or mt.eom_check(conn, MT_QUARANTINE) then
		fail(what .. ": filter changed the message")
	end
end

-- Body lines of n octets (plus CRLF) for the line-length checks.
function long_line(n)
	return string.rep("x", n) .. "\r\n"
end
