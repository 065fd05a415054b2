-- inbox.lua -- the inbox's first page: every unresolved ticket, 50 a page.
-- A static request: wrk formats it once and sends it again and again.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")
wrk.method = "GET"
wrk.path = "/api/v1/tickets?view=all&status=unresolved&limit=50"
wrk.headers = common.headers()
done = common.done
