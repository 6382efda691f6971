-- post_ticket.lua - wrk script: POST /v1/tickets with a distinct ticket id
-- on every request (so each is a new decision and a durable write), and a
-- count of answers other than 201 printed at the end.
-- Environment: SG_TOKEN (a reviewer token), SG_PREFIX (ticket id prefix,
-- default "W").
local token = os.getenv("SG_TOKEN") or ""
local threads = {}
local n = 0
local bad = 0

function setup(thread)
	thread:set("tid", tostring(#threads + 1) .. "x" .. tostring(math.random(1, 1000000000)))
	table.insert(threads, thread)
end

function init(args)
	-- SG_PREFIX keeps the ids of several wrk processes apart
	prefix = (os.getenv("SG_PREFIX") or "W") .. tid .. "-"
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
	local total = 0
	for _, t in ipairs(threads) do total = total + (t:get("bad") or 0) end
	io.write(string.format("non-201 answers: %d\n", total))
	for _, p in ipairs({50, 90, 99, 99.9}) do
		io.write(string.format("p%g %.2f ms\n", p, latency:percentile(p) / 1000))
	end
end
