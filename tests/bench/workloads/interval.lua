-- SPDX-License-Identifier: MIT
-- Workload "interval": one interval timer; lateness of the k-th callback against t0 + k*interval,
-- drift (lateness of the last minus the first) and fires against expected.
-- Usage: mockit-run interval.lua INTERVAL_MS DURATION_MS
local lib = dofile((arg[0]:match("^(.*)/") or ".") .. "/lib.lua")
local mockit = require("mockit")
local interval_ms, duration_ms = lib.args({ 1, 5000 })

local interval_ns = interval_ms * 1000000
local lateness = {}
local fires = 0
local t0 = mockit.hrtime()
local timer = mockit.getit(interval_ms, function()
    local now = mockit.hrtime()
    fires = fires + 1
    lateness[fires] = now - (t0 + fires * interval_ns)
end)
-- Armed after the interval timer with the same end, so it is due just after the last tick.
mockit.oneoff(duration_ms, function() timer = timer:destroy() end)
mockit.run()

lib.report.interval({
    interval_ms = interval_ms, duration_ms = duration_ms, lateness = lateness, fires = fires,
})
