-- ping.lua -- the ceiling server's fixed answer (GET /ping).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")
wrk.path = "/ping"
done = common.done
