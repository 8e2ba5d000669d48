-- SPDX-License-Identifier: MIT
-- Workload "interval" for lua5.4 + luv: the counterpart of interval.lua.
-- Usage: lua5.4 interval.luv.lua INTERVAL_MS DURATION_MS
local lib = dofile((arg[0]:match("^(.*)/") or ".") .. "/lib.lua")
local uv = require("luv")
local interval_ms, duration_ms = lib.args({ 1, 5000 })

local interval_ns = interval_ms * 1000000
local lateness = {}
local fires = 0
local t0 = uv.hrtime()
local timer = uv.new_timer()
timer:start(interval_ms, interval_ms, function()
    local now = uv.hrtime()
    fires = fires + 1
    lateness[fires] = now - (t0 + fires * interval_ns)
end)
local stop = uv.new_timer()
stop:start(duration_ms, 0, function()
    timer:stop()
    timer:close()
    stop:close()
end)
uv.run()

lib.report.interval({
    interval_ms = interval_ms, duration_ms = duration_ms, lateness = lateness, fires = fires,
})
