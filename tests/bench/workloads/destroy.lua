-- SPDX-License-Identifier: MIT
-- Workload "destroy": how long t:destroy() itself takes for an interval timer of INTERVAL_MS,
-- called at several phases of its schedule, TRIALS times each (the trials are staggered by 1 ms):
--   armed        right after arming
--   mid          half an interval in
--   due-1ms      1 ms before its first expiry
--   queued       from a one-off due at the same time but armed just before it, so the timer's
--                own expiry is usually already recorded
--   own-callback from its own first callback
--   after-fire   half an interval after its first expiry
-- and that no callback of a destroyed timer runs afterwards.
-- Usage: mockit-run destroy.lua INTERVAL_MS TRIALS
local lib = dofile((arg[0]:match("^(.*)/") or ".") .. "/lib.lua")
local mockit = require("mockit")
local interval, trials = lib.args({ 2000, 200 })

local phases = { "armed", "mid", "due-1ms", "queued", "own-callback", "after-fire" }
local samples, late_calls = {}, 0
for _, p in ipairs(phases) do samples[p] = {} end

local function timed_destroy(phase, target)
    local t1 = mockit.hrtime()
    target.timer:destroy()
    local t2 = mockit.hrtime()
    target.destroyed = true
    local s = samples[phase]
    s[#s + 1] = t2 - t1
end

local function on_tick(target)
    if target.destroyed then late_calls = late_calls + 1; return end
    if target.phase == "own-callback" then timed_destroy("own-callback", target) end
end

local function setup()
    for _, phase in ipairs(phases) do
        local target = { phase = phase }
        if phase == "queued" then
            mockit.oneoff(interval, function() timed_destroy(phase, target) end)
        end
        target.timer = mockit.getit(interval, on_tick, target)
        if phase == "armed" then
            timed_destroy(phase, target)
        elseif phase == "mid" then
            mockit.oneoff(interval // 2, function() timed_destroy(phase, target) end)
        elseif phase == "due-1ms" then
            mockit.oneoff(interval - 1, function() timed_destroy(phase, target) end)
        elseif phase == "after-fire" then
            mockit.oneoff(interval + interval // 2, function() timed_destroy(phase, target) end)
        end
    end
end

for j = 1, trials do mockit.oneoff(j, setup) end
mockit.run()

lib.report.destroy({
    interval = interval, trials = trials, phases = phases, samples = samples,
    late_calls = late_calls,
})
