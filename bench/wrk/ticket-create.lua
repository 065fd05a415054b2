-- ticket-create.lua -- POST /api/v1/tickets with a first message, for an
-- existing customer (BENCH_CUSTOMER_MIN .. BENCH_CUSTOMER_MAX); each
-- answer is a committed (durable) transaction.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")
local lo = common.env_int("BENCH_CUSTOMER_MIN", 1)
local hi = common.env_int("BENCH_CUSTOMER_MAX", 1)
local headers = common.headers()
headers["Content-Type"] = "application/json"
local n = 0
local subjects = {"压测：订单还没发货", "压测：申请退款", "Bench: delivery delayed", "Bench: cannot log in"}

request = function()
	n = n + 1
	local body = string.format(
		'{"subject":"%s %d","customer":%d,"message":"压测工单 bench ticket %d: 我的快递三天了还没到，请帮忙查一下。"}',
		subjects[n % #subjects + 1], n, common.rand(lo, hi), n)
	return wrk.format("POST", "/api/v1/tickets", headers, body)
end
done = common.done
