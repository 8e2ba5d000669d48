-- SPDX-License-Identifier: MIT
-- Workload "virtual": schedules run on simulated time, against @sinonjs/fake-timers running the
-- same schedules (virtual.js).
--   interval RUNS   one 1 s interval, ended by its RUNS-th callback (2,592,000: 30 days)
--   oneoffs N       N one-offs at pseudo-random delays of 1 ms to a day, the same as virtual.js's
-- MODE is how simulated time passes: "run" is mockit.run(), the loop mockit-run's built-in one
-- calls, moving the clock to each next deadline; "advance" is one mockit.clock.advance() over the
-- whole schedule, as sinon's clock.tick(). "floor" (oneoffs only) arms nothing: it calls a C
-- function with each one-off's arguments and then each callback, in arming order, for what the
-- script's own work costs without any timer (its callbacks then run off their due times).
-- mockit's own clocks are simulated here, so the script cannot time itself in real time: it
-- prints {"mark":"start"} just before the simulated run and its result line right after it, and
-- the driver takes the real time between the two lines. os.clock() stays CPU time (SPEC §8), and
-- mockit-run is one thread, so cpu_ms is that thread's time.
-- Usage: mockit-run --virtual-time virtual.lua interval|oneoffs SIZE run|advance|floor
local lib = dofile((arg[0]:match("^(.*)/") or ".") .. "/lib.lua")
local mockit = require("mockit")
local schedule, size, mode = arg[1] or "interval", math.tointeger(tonumber(arg[2])), arg[3] or "run"
assert(schedule == "interval" or schedule == "oneoffs", "schedule: interval or oneoffs")
assert(mode == "run" or mode == "advance" or (mode == "floor" and schedule == "oneoffs"),
    "mode: run or advance, or floor for oneoffs")
-- On a real clock the interval schedule would take a month.
assert(mockit.clock.is_virtual(), "run under mockit-run --virtual-time")

local day_ms = 86400 * 1000
local errors = {}
local ran, t0, c0, delay_sum

if schedule == "interval" then
    local runs = size or 2592000
    ran = 0
    -- Stopping from the callback ends the run at its last expiry; in advance mode the stop only
    -- ends the advance there, which is where the window ends anyway.
    local function tick()
        ran = ran + 1
        if ran == runs then mockit.stop() end
    end
    lib.emit({ mark = "start" })
    c0, t0 = os.clock(), mockit.mstimestamp()
    local timer = mockit.getit(1000, tick)
    if mode == "run" then
        mockit.run()
    else
        mockit.clock.advance(runs * 1000)
    end
    -- Done with: nothing is left for mockit-run's built-in loop to run after the script.
    timer:destroy()
    if ran ~= runs then errors[#errors + 1] = "ran " .. ran .. " callbacks, expected " .. runs end
    local simulated = mockit.mstimestamp() - t0
    if simulated ~= runs * 1000 then
        errors[#errors + 1] = "simulated time ended at " .. simulated .. " ms, not " .. runs * 1000
    end
else
    local n = size or 100000
    -- The LCG of Numerical Recipes, seeded as in virtual.js: both peers get the same delays.
    local delays, x = {}, 17
    delay_sum = 0
    for i = 1, n do
        x = (1664525 * x + 1013904223) & 0xffffffff
        delays[i] = 1 + x % day_ms
        delay_sum = delay_sum + delays[i]
    end
    local marked, dups, off_time = lib.bitset(n), 0, 0
    ran = 0
    local function fired(i)
        if marked(i) then dups = dups + 1; return end
        ran = ran + 1
        -- Simulated time runs every callback exactly at its due time.
        if mockit.mstimestamp() - t0 ~= delays[i] then off_time = off_time + 1 end
    end
    lib.emit({ mark = "start" })
    c0, t0 = os.clock(), mockit.mstimestamp()
    if mode == "floor" then
        local call = select
        for i = 1, n do call("#", delays[i], fired, i) end
        for i = 1, n do fired(i) end
    else
        for i = 1, n do mockit.oneoff(delays[i], fired, i) end
        if mode == "run" then
            mockit.run()
        else
            mockit.clock.advance(day_ms)
        end
    end
    if dups > 0 then errors[#errors + 1] = dups .. " callbacks ran more than once" end
    if ran ~= n then errors[#errors + 1] = (n - ran) .. " one-offs never ran" end
    if off_time > 0 and mode ~= "floor" then
        errors[#errors + 1] = off_time .. " one-offs ran off their due time"
    end
end

local cpu_ms = (os.clock() - c0) * 1000
lib.emit({
    workload = "virtual",
    schedule = schedule,
    mode = mode,
    ran = ran,
    cpu_ms = cpu_ms,
    simulated_ms = mockit.mstimestamp() - t0,
    delay_sum = delay_sum,
    peak_rss_kb = lib.status_kb("VmHWM"),
    ok = #errors == 0,
    errors = errors,
})
