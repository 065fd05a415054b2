-- widget-message.lua -- customers chatting: POST /widget/v1/messages as a
-- random one of the visitor tokens in BENCH_TOKENS_FILE.  The text carries
-- BENCH_STAMP (default "c2a@") and the µs since the epoch when the request
-- was made, which wsload --stamp turns into a delivery latency at the
-- agents' consoles.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")
local stamp = os.getenv("BENCH_STAMP") or "c2a@"
local tokens = common.lines(os.getenv("BENCH_TOKENS_FILE"))
local n = 0
local tid = tostring({}):match("0x(%x+)") or "t"

request = function()
	n = n + 1
	local body = string.format('{"text":"我的订单到哪了？%s%d","client_id":"b%s-%d"}',
		stamp, common.now_us(), tid, n)
	return wrk.format("POST", "/widget/v1/messages", {
		["Authorization"] = "Bearer " .. tokens[common.rand(1, #tokens)],
		["Content-Type"] = "application/json",
	}, body)
end
common.pace()
done = common.done
