-- SPDX-License-Identifier: MIT
-- Workload "tasks": N concurrent tasks that each pause once, for a delay spread over
-- 1..SPREAD_MS; time to start them all, time until every one finished, each exactly once, peak
-- RSS. The counterpart of scale.lua for sequential code.
-- Usage: mockit-run tasks.lua N SPREAD_MS
local lib = dofile((arg[0]:match("^(.*)/") or ".") .. "/lib.lua")
local mockit = require("mockit")
local n, spread = lib.args({ 1000000, 2000 })

local marked, done, dups, t_done = lib.bitset(n), 0, 0, nil
local function task(i, ms)
    mockit.pause(ms)
    if marked(i) then dups = dups + 1; return end
    done = done + 1
    if done == n then t_done = mockit.hrtime() end
end

local t0 = mockit.hrtime()
for i = 1, n do
    mockit.spawn(task, i, 1 + (i * 7919) % spread) -- delays as in scale.lua
end
local t_armed = mockit.hrtime()
mockit.run()

lib.report.scale({
    workload = "tasks", n = n, spread = spread, t0 = t0, t_armed = t_armed, t_done = t_done,
    done = done, dups = dups,
})
