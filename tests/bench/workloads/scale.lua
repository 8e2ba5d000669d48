-- SPDX-License-Identifier: MIT
-- Workload "scale": N concurrent one-offs with delays spread over 1..SPREAD_MS; time to arm them,
-- time until every callback ran, each ran exactly once, peak RSS.
-- Usage: mockit-run scale.lua N SPREAD_MS
local lib = dofile((arg[0]:match("^(.*)/") or ".") .. "/lib.lua")
local mockit = require("mockit")
local n, spread = lib.args({ 1000000, 2000 })

local marked, done, dups, t_done = lib.bitset(n), 0, 0, nil
local function fired(i)
    if marked(i) then dups = dups + 1; return end
    done = done + 1
    if done == n then t_done = mockit.hrtime() end
end

local t0 = mockit.hrtime()
for i = 1, n do
    -- 7919 is prime, so the delays cover 1..spread evenly in a scattered order.
    mockit.oneoff(1 + (i * 7919) % spread, fired, i)
end
local t_armed = mockit.hrtime()
mockit.run()

lib.report.scale({
    n = n, spread = spread, t0 = t0, t_armed = t_armed, t_done = t_done, done = done, dups = dups,
})
