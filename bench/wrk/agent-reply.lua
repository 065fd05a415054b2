-- agent-reply.lua -- agents answering chats: POST /api/v1/tickets/{id}/messages
-- on a random one of the tickets in BENCH_TICKETS_FILE (the customers'
-- conversations), stamped like widget-message.lua (BENCH_STAMP, default
-- "a2c@"), so wsload --stamp can time the delivery to the customer's widget.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")
local stamp = os.getenv("BENCH_STAMP") or "a2c@"
local tickets = common.lines(os.getenv("BENCH_TICKETS_FILE"))
local headers = common.headers()
headers["Content-Type"] = "application/json"

request = function()
	local body = string.format('{"text":"您好，正在为您查询。%s%d"}', stamp, common.now_us())
	return wrk.format("POST", "/api/v1/tickets/" .. tickets[common.rand(1, #tickets)] .. "/messages",
		headers, body)
end
common.pace()
done = common.done
