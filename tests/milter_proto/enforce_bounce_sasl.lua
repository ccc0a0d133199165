-- A DSN submitted by a SASL-authenticated client ({auth_authen} at MAIL),
-- naming a message this server never sent: passed on like every bounce,
-- and it never counts. milter_proto.sh checks the daemon's log line
-- "unmatched bounce ... reason=local-submission".
dofile(lib)
local conn = filter_open()
local b = "b-sasl-1"
local body = table.concat({
	"--" .. b,
	"Content-Type: text/plain",
	"",
	"Your message could not be delivered.",
	"",
	"--" .. b,
	"Content-Type: message/delivery-status",
	"",
	"Reporting-MTA: dns; mx.dest.example",
	"",
	"Final-Recipient: rfc822; gone@dest.example",
	"Action: failed",
	"Status: 5.1.1",
	"Diagnostic-Code: smtp; 550 5.1.1 user unknown",
	"",
	"--" .. b,
	"Content-Type: text/rfc822-headers",
	"",
	"From: victim@example.org",
	"To: gone@dest.example",
	"Message-ID: <sasl-fake.1@example.org>",
	"",
	"--" .. b .. "--",
	"" }, "\r\n")
message_send(conn, {
	from = "", rcpts = { "victim@example.org" }, qid = "4SASLDSN",
	mail_macros = { "{auth_authen}", "mallory" },
	headers = {
		{ "From", "MAILER-DAEMON@mx.dest.example" },
		{ "To", "victim@example.org" },
		{ "Subject", "Undelivered Mail Returned to Sender" },
		{ "Date", "Sun, 22 Nov 2026 06:00:00 +0000" },
		{ "Message-ID", "<dsn.sasl.1@mx.dest.example>" },
		{ "MIME-Version", "1.0" },
		{ "Content-Type", "multipart/report; report-type=delivery-status; boundary=\"" .. b .. "\"" },
	},
	body = body })
expect_pass(message_end(conn), "DSN from a SASL client")
mt.disconnect(conn)
