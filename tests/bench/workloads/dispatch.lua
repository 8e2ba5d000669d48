-- Workload "dispatch": N interval timers at INTERVAL_MS for DURATION_MS; callbacks per second
-- actually run, and each timer's share of its ideal count (the fairness of the dispatch).
-- Usage: mockit-run dispatch.lua N INTERVAL_MS DURATION_MS
local lib = dofile((arg[0]:match("^(.*)/") or ".") .. "/lib.lua")
local mockit = require("mockit")
local n, interval_ms, duration_ms = lib.args({ 10000, 1, 3000 })

local counts, timers = {}, {}
local function tick(i) counts[i] = counts[i] + 1 end

local t0 = mockit.hrtime()
for i = 1, n do
    counts[i] = 0
    timers[i] = mockit.getit(interval_ms, tick, i)
end
local t_stop
mockit.oneoff(duration_ms, function()
    t_stop = mockit.hrtime()
    for i = 1, n do timers[i]:destroy() end
end)
mockit.run()

local total, lo, hi = 0, math.huge, 0
for i = 1, n do
    local c = counts[i]
    total = total + c
    if c < lo then lo = c end
    if c > hi then hi = c end
end
local elapsed_ms = (t_stop - t0) / 1e6
local ideal = duration_ms / interval_ms
local errors = {}
-- No timer can have expired more often than the time it has been armed allows.
if hi > elapsed_ms // interval_ms + 1 then errors[#errors + 1] = "a timer ran more often than its schedule" end
lib.emit({
    workload = "dispatch",
    n = n,
    interval_ms = interval_ms,
    duration_ms = duration_ms,
    elapsed_ms = elapsed_ms,
    -- how late the stop one-off ran: the backlog it waited behind
    stop_late_ms = elapsed_ms - duration_ms,
    callbacks = total,
    callbacks_per_s = total / (elapsed_ms / 1000),
    ideal_per_s = n / interval_ms * 1000,
    share_min = lo / ideal,
    share_max = hi / ideal,
    ok = #errors == 0,
    errors = errors,
})
