-- SPDX-License-Identifier: MIT
-- Workload "dispatch": N interval timers at INTERVAL_MS for DURATION_MS; callbacks per second
-- actually run, and each timer's share of its ideal count (the fairness of the dispatch).
-- Usage: mockit-run dispatch.lua N INTERVAL_MS DURATION_MS [KIND]
-- KIND: "getit" (default), or "timer" (mockit.timer{every=...}, with its statistics), or
-- "named" (the same with 100 names, whose totals mockit.metrics() and --metrics-file report).
local lib = dofile((arg[0]:match("^(.*)/") or ".") .. "/lib.lua")
local mockit = require("mockit")
local n, interval_ms, duration_ms = lib.args({ 10000, 1, 3000 })
local kind = arg[4] or "getit"

local counts, timers = {}, {}
local function tick(i) counts[i] = counts[i] + 1 end
local function tick_timer(_, i) counts[i] = counts[i] + 1 end

local t0 = mockit.hrtime()
for i = 1, n do
    counts[i] = 0
    if kind == "getit" then
        timers[i] = mockit.getit(interval_ms, tick, i)
    else
        timers[i] = mockit.timer{every = interval_ms, fn = tick_timer, args = { i },
            name = kind == "named" and ("job" .. i % 100) or nil}
    end
end
local t_stop
mockit.oneoff(duration_ms, function()
    t_stop = mockit.hrtime()
    for i = 1, n do timers[i]:destroy() end
end)
mockit.run()

lib.report.dispatch({
    n = n, interval_ms = interval_ms, duration_ms = duration_ms, counts = counts, t0 = t0,
    t_stop = t_stop,
})
