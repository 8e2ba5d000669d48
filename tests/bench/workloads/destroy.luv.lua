-- SPDX-License-Identifier: MIT
-- Workload "destroy" for lua5.4 + luv: the counterpart of destroy.lua; destroying a luv timer is
-- timer:stop() + timer:close(), timed together.
-- Usage: lua5.4 destroy.luv.lua INTERVAL_MS TRIALS
local lib = dofile((arg[0]:match("^(.*)/") or ".") .. "/lib.lua")
local uv = require("luv")
local interval, trials = lib.args({ 2000, 200 })

local phases = { "armed", "mid", "due-1ms", "queued", "own-callback", "after-fire" }
local samples, late_calls = {}, 0
for _, p in ipairs(phases) do samples[p] = {} end

local function timed_destroy(phase, target)
    local t1 = uv.hrtime()
    target.timer:stop()
    target.timer:close()
    local t2 = uv.hrtime()
    target.destroyed = true
    local s = samples[phase]
    s[#s + 1] = t2 - t1
end

local function on_tick(target)
    if target.destroyed then late_calls = late_calls + 1; return end
    if target.phase == "own-callback" then timed_destroy("own-callback", target) end
end

local function oneoff(ms, fn)
    local t = uv.new_timer()
    t:start(ms, 0, function() t:close(); fn() end)
end

local function setup()
    for _, phase in ipairs(phases) do
        local target = { phase = phase }
        if phase == "queued" then
            oneoff(interval, function() timed_destroy(phase, target) end)
        end
        target.timer = uv.new_timer()
        target.timer:start(interval, interval, function() on_tick(target) end)
        if phase == "armed" then
            timed_destroy(phase, target)
        elseif phase == "mid" then
            oneoff(interval // 2, function() timed_destroy(phase, target) end)
        elseif phase == "due-1ms" then
            oneoff(interval - 1, function() timed_destroy(phase, target) end)
        elseif phase == "after-fire" then
            oneoff(interval + interval // 2, function() timed_destroy(phase, target) end)
        end
    end
end

for j = 1, trials do oneoff(j, setup) end
uv.run()

lib.report.destroy({
    interval = interval, trials = trials, phases = phases, samples = samples,
    late_calls = late_calls,
})
