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

local s = lib.summary(lateness)
lib.emit({
    workload = "interval",
    interval_ms = interval_ms,
    duration_ms = duration_ms,
    expected = duration_ms // interval_ms,
    fires = fires,
    drift_us = fires > 0 and (lateness[fires] - lateness[1]) / 1000 or nil,
    lateness = s,
    rss_kb = lib.status_kb("VmHWM"),
    ok = fires <= duration_ms // interval_ms,
    errors = fires > duration_ms // interval_ms and { "more fires than the schedule allows" } or {},
})
