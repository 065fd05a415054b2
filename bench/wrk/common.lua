-- common.lua -- shared by every bench/wrk script (loaded with dofile).
--
-- Environment (set by bench/run.sh):
--   BENCH_TOKEN   API token, sent as "Authorization: Bearer ..." (optional)
--   BENCH_LABEL   scenario name, echoed in the result line
--   BENCH_RATE    requests per second for the whole run (common.pace);
--   BENCH_THREADS wrk's -t, to split that rate between its threads
--
-- done() prints one line "WRK_JSON {...}" with throughput, latency
-- percentiles (microseconds, from wrk's own histogram) and errors, which
-- the harness extracts; wrk's usual text report stays above it.

local common = {}

common.token = os.getenv("BENCH_TOKEN")

function common.headers()
	local h = {}
	if common.token and common.token ~= "" then
		h["Authorization"] = "Bearer " .. common.token
	end
	return h
end

-- Per-thread random numbers: each wrk thread has its own Lua state, so
-- seed from something that differs between them.
local seeded = false
function common.rand(lo, hi)
	if not seeded then
		math.randomseed(os.time() + math.floor(os.clock() * 1e6) + tonumber(tostring({}):match("0x(%x+)"), 16) % 100000)
		seeded = true
	end
	return math.random(lo, hi)
end

function common.env_int(name, default)
	local v = tonumber(os.getenv(name) or "")
	return v or default
end

-- Microseconds since the epoch (CLOCK_REALTIME), for stamps that another
-- process (wsload) compares with its own clock.
local ffi_ok, ffi = pcall(require, "ffi")
if ffi_ok then
	pcall(ffi.cdef, [[
		typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
		int clock_gettime(int clk, bench_timespec *ts);
	]])
end
function common.now_us()
	if not ffi_ok then
		return os.time() * 1000000
	end
	local ts = ffi.new("bench_timespec[1]")
	ffi.C.clock_gettime(0, ts)
	return tonumber(ts[0].tv_sec) * 1000000 + math.floor(tonumber(ts[0].tv_nsec) / 1000)
end

-- Lines of a file (tokens, ids); an error when it is missing or empty.
function common.lines(path)
	local out = {}
	local f = assert(io.open(path, "r"), "cannot open " .. tostring(path))
	for l in f:lines() do
		if l ~= "" then
			out[#out + 1] = l
		end
	end
	f:close()
	assert(#out > 0, path .. " is empty")
	return out
end

function common.urlencode(s)
	return (s:gsub("[^%w%-%._~]", function(c)
		return string.format("%%%02X", string.byte(c))
	end))
end

-- Hold the run to about BENCH_RATE requests a second with wrk's delay()
-- hook: each thread hands out send slots 1/(rate/threads) s apart to
-- whichever of its connections is free, so the rate holds while the
-- server keeps up and falls behind (showing as the achieved rate) when
-- it does not.  Without BENCH_RATE: as fast as the connections go.
function common.pace()
	local rate = tonumber(os.getenv("BENCH_RATE") or "")
	local threads = tonumber(os.getenv("BENCH_THREADS") or "") or 1
	if not rate or rate <= 0 then
		return
	end
	local interval = threads * 1000.0 / rate -- ms between this thread's sends
	local start, k = nil, 0
	delay = function()
		local now = common.now_us() / 1000
		start = start or now
		k = k + 1
		local d = start + k * interval - now
		return d > 0 and math.floor(d) or 0
	end
end

function common.done(summary, latency, requests)
	local e = summary.errors
	local secs = summary.duration / 1e6
	local fields = {
		string.format('"label":"%s"', os.getenv("BENCH_LABEL") or ""),
		string.format('"requests":%d', summary.requests),
		string.format('"duration_s":%.3f', secs),
		string.format('"rps":%.1f', summary.requests / secs),
		string.format('"bytes":%d', summary.bytes),
		string.format('"latency_us":{"mean":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d}',
			latency.mean, latency.max, latency:percentile(50), latency:percentile(90),
			latency:percentile(99), latency:percentile(99.9)),
		string.format('"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}',
			e.connect, e.read, e.write, e.status, e.timeout),
	}
	io.write("WRK_JSON {" .. table.concat(fields, ",") .. "}\n")
end

return common
