-- paced_ticket.lua - wrk script: POST /v1/tickets (as post_ticket.lua) at a
-- fixed total rate instead of as fast as possible.
-- Environment: SG_TOKEN, RATE (requests per second for the whole run,
-- default 2000), WRK_THREADS (wrk's -t, default 1; the rate is split
-- between them).
--
-- Each wrk thread keeps its own schedule (one send every
-- WRK_THREADS * 1000 / RATE ms) and delay() holds a ready connection
-- until its slot. wrk measures latency from the moment a request is
-- written, so a stalled server would hide its stall by delaying the sends
-- (coordinated omission); to show that, every send that leaves more than
-- 1 ms after its slot is counted as late, with the worst lateness, at the
-- end. A run with many late sends has latencies that are too good: use
-- more connections.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } sg_timespec;
int clock_gettime(int clk, sg_timespec *ts);
]]
local tsbuf = ffi.new("sg_timespec")
local function now_ms()
	ffi.C.clock_gettime(1, tsbuf) -- CLOCK_MONOTONIC
	return tonumber(tsbuf.tv_sec) * 1000 + tonumber(tsbuf.tv_nsec) / 1e6
end

local token = os.getenv("SG_TOKEN") or ""
local rate = tonumber(os.getenv("RATE") or "2000")
local nthreads = tonumber(os.getenv("WRK_THREADS") or "1")
local threads = {}

function setup(thread)
	thread:set("tid", tostring(#threads + 1) .. "p" .. tostring(math.random(1, 1000000000)))
	table.insert(threads, thread)
end

function init(args)
	prefix = "P" .. tid .. "-"
	n = 0
	bad = 0
	late = 0
	worst = 0
	interval = nthreads * 1000 / rate
	slot = nil
end

function delay()
	local t = now_ms()
	if not slot then slot = t end
	local wait = slot - t
	slot = slot + interval
	if wait < -1 then
		late = late + 1
		if -wait > worst then worst = -wait end
		wrk.thread:set("late", late)
		wrk.thread:set("worst", worst)
	end
	if wait < 0 then return 0 end
	return math.floor(wait)
end

function request()
	n = n + 1
	local body = string.format('{"id":"%s%d","event_id":"e1","channel":"chat",' ..
		'"body":"Where is my order ACME-%06d? It was supposed to arrive yesterday.",' ..
		'"customer":{"id":"C-%d","tier":"paid"}}', prefix, n, n % 1000000, n % 5000)
	return wrk.format("POST", "/v1/tickets", {
		["Content-Type"] = "application/json",
		["Authorization"] = "Bearer " .. token,
	}, body)
end

function response(status, headers, body)
	if status ~= 201 then
		bad = bad + 1
		wrk.thread:set("bad", bad)
		if bad == 1 then io.stderr:write("first non-201 answer: " .. status .. " " .. body .. "\n") end
	end
end

function done(summary, latency, requests)
	local total, nlate, w = 0, 0, 0
	for _, t in ipairs(threads) do
		total = total + (t:get("bad") or 0)
		nlate = nlate + (t:get("late") or 0)
		w = math.max(w, t:get("worst") or 0)
	end
	io.write(string.format("non-201 answers: %d\n", total))
	io.write(string.format("sends late by more than 1 ms: %d of %d (worst %.1f ms)\n",
		nlate, summary.requests, w))
	for _, p in ipairs({50, 90, 99, 99.9}) do
		io.write(string.format("p%g %.2f ms\n", p, latency:percentile(p) / 1000))
	end
end
