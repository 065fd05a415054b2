-- overview.lua -- the console's home dashboard figures
-- (GET /api/v1/tickets/overview: counts over every ticket of the account).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")
wrk.method = "GET"
wrk.path = "/api/v1/tickets/overview"
wrk.headers = common.headers()
done = common.done
