-- Workload "scale": N concurrent one-offs with delays spread over 1..SPREAD_MS; time to arm them,
-- time until every callback ran, each ran exactly once, peak RSS.
-- Usage: mockit-run scale.lua N SPREAD_MS
local lib = dofile((arg[0]:match("^(.*)/") or ".") .. "/lib.lua")
local mockit = require("mockit")
local n, spread = lib.args({ 1000000, 2000 })

local ran, done, dups, t_done = {}, 0, 0, nil
local function fired(i)
    if ran[i] then dups = dups + 1; return end
    ran[i] = true
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

local errors = {}
if dups > 0 then errors[#errors + 1] = dups .. " callbacks ran more than once" end
if done ~= n then errors[#errors + 1] = (n - done) .. " one-offs never ran" end
lib.emit({
    workload = "scale",
    n = n,
    spread_ms = spread,
    arm_ms = (t_armed - t0) / 1e6,
    done_ms = t_done and (t_done - t0) / 1e6 or nil,
    ran = done,
    duplicates = dups,
    peak_rss_kb = lib.status_kb("VmHWM"),
    ok = #errors == 0,
    errors = errors,
})
