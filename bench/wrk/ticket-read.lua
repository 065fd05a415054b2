-- ticket-read.lua -- GET /api/v1/tickets/{id}, a random existing id.
-- BENCH_ID_MIN .. BENCH_ID_MAX: the generated tickets' ids.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")
local lo = common.env_int("BENCH_ID_MIN", 1)
local hi = common.env_int("BENCH_ID_MAX", 1)
local headers = common.headers()

request = function()
	return wrk.format("GET", "/api/v1/tickets/" .. common.rand(lo, hi), headers)
end
done = common.done
