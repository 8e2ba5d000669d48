-- SPDX-License-Identifier: MIT
-- The timer churn that soak.lua (real time) and soak_virtual.lua (simulated time) both run: a
-- spawner arms one-offs, intervals and reapers (one-offs that destroy their target) at random,
-- and one-off callbacks destroy or reset other live timers at random, so timers die armed,
-- fired, queued and mid-backlog. Here are the bookkeeping and the checks that hold on either
-- clock; what a clock makes checkable (a lag bound in real time, exact due times in simulated
-- time) the script passes in as hooks. Loaded like soak_lib.lua.
local mockit = require("mockit")

local churn = {}

-- A churn whose checks report through fail(fmt, ...). Hooks, each given a timer's record
-- {t, kind, ms, calls, dead, target, index, and what the hooks add}:
--   stamp(rec)         notes when rec is armed; called just before it is
--   called(rec, kind)  the clock's checks at each callback, after it is counted
--   stopped(rec)       checks an interval's calls when it is destroyed
--   reset(rec)         restarts a live timer
-- The live timers are in churn.live (an array, for picking one at random); churn.count has the
-- figures.
function churn.new(fail, hooks)
    local c = {
        live = {},
        count = {
            created = 0, oneoffs = 0, intervals = 0, reapers = 0,
            destroyed = 0, cancelled = 0, resets = 0, -- cancelled: one-offs destroyed while armed
            calls = 0, oneoff_calls = 0, interval_calls = 0, reaper_calls = 0,
        },
    }
    local live, count = c.live, c.count

    function c.add_live(rec)
        live[#live + 1] = rec
        rec.index = #live
    end

    function c.remove_live(rec)
        if not rec.index then return end
        local last = live[#live]
        live[rec.index], last.index = last, rec.index
        live[#live] = nil
        rec.index = nil
    end

    -- A one-off destroyed while armed never ran; one destroyed after it fired ran once.
    function c.destroy(rec)
        if rec.dead then return end
        local armed = rec.t:active()
        rec.t:destroy()
        rec.dead = true
        c.remove_live(rec)
        count.destroyed = count.destroyed + 1
        if rec.kind == "interval" then
            hooks.stopped(rec)
        elseif armed then
            count.cancelled = count.cancelled + 1
            if rec.calls ~= 0 then fail("a one-off ran and was still armed") end
        elseif rec.calls ~= 1 then
            fail("a one-off no longer armed ran %d times", rec.calls)
        end
    end

    -- What every timer callback starts with.
    function c.called(rec, kind)
        count.calls = count.calls + 1
        count[kind .. "_calls"] = count[kind .. "_calls"] + 1
        if rec.dead then fail("a %s ran after destroy()", rec.kind) end
        rec.calls = rec.calls + 1
        hooks.called(rec, kind)
    end

    function c.on_interval(rec)
        c.called(rec, "interval")
    end

    local function on_oneoff(rec)
        c.called(rec, "oneoff")
        if rec.calls > 1 then fail("a one-off ran %d times", rec.calls) end
        c.remove_live(rec)
        if #live > 0 and math.random() < 0.1 then
            c.destroy(live[math.random(#live)])
        elseif #live > 0 and math.random() < 0.05 then
            hooks.reset(live[math.random(#live)])
        end
    end

    local function on_reaper(rec)
        c.called(rec, "reaper")
        c.remove_live(rec)
        c.destroy(rec.target)
    end

    -- Arms a timer of `kind` (a reaper destroys `target`) and returns its record.
    function c.arm(kind, ms, target)
        local rec = { kind = kind, ms = ms, calls = 0, target = target }
        hooks.stamp(rec) -- before arming: the engine's start is no earlier
        if kind == "interval" then
            rec.t = mockit.getit(ms, c.on_interval, rec)
        else
            rec.t = mockit.oneoff(ms, kind == "reaper" and on_reaper or on_oneoff, rec)
        end
        c.add_live(rec)
        count.created = count.created + 1
        count[kind .. "s"] = count[kind .. "s"] + 1
        return rec
    end

    -- The spawner's step: arms 0..4 timers, seven in ten one-offs and the rest intervals, with
    -- a reaper for every interval and half the one-offs. Their delays come from
    -- delays.oneoff(), delays.interval() and delays.reaper().
    function c.spawn(delays)
        for _ = 1, math.random(0, 4) do
            local target
            if math.random() < 0.7 then
                target = c.arm("oneoff", delays.oneoff())
            else
                target = c.arm("interval", delays.interval())
            end
            if target.kind == "interval" or math.random() < 0.5 then
                c.arm("reaper", delays.reaper(), target)
            end
        end
    end

    return c
end

return churn
