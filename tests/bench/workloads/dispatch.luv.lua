-- SPDX-License-Identifier: MIT
-- Workload "dispatch" for lua5.4 + luv: the counterpart of dispatch.lua.
-- Usage: lua5.4 dispatch.luv.lua N INTERVAL_MS DURATION_MS
local lib = dofile((arg[0]:match("^(.*)/") or ".") .. "/lib.lua")
local uv = require("luv")
local n, interval_ms, duration_ms = lib.args({ 10000, 1, 3000 })

local counts, timers = {}, {}

local t0 = uv.hrtime()
for i = 1, n do
    counts[i] = 0
    local timer = uv.new_timer()
    timer:start(interval_ms, interval_ms, function() counts[i] = counts[i] + 1 end)
    timers[i] = timer
end
local t_stop
local stop = uv.new_timer()
stop:start(duration_ms, 0, function()
    t_stop = uv.hrtime()
    for i = 1, n do
        timers[i]:stop()
        timers[i]:close()
    end
    stop:close()
end)
uv.run()

lib.report.dispatch({
    n = n, interval_ms = interval_ms, duration_ms = duration_ms, counts = counts, t0 = t0,
    t_stop = t_stop,
})
