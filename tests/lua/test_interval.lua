-- SPDX-License-Identifier: MIT
-- test_interval.lua: interval timers: repetition, absolute schedule, backlog, bounded
-- queue, zero interval, reset().
--
-- On simulated time: every call the loop reaches runs exactly at its due time, and a sleep
-- leaves an exact backlog, so the tests assert both to the millisecond and the call. That a
-- wake-up on the real clock is never early is test_basics.lua's.

local h = require("harness")
local mockit = require("mockit")
local test, expect, track = h.test, h.expect, h.track

h.virtual_time()

local NS_PER_MS = 1000000

-- Returns a callback recording the ms since now at each call, and the list it records into.
local function recorder()
    local start, times = mockit.mstimestamp(), {}
    return function() table.insert(times, mockit.mstimestamp() - start) end, times
end

test("an interval repeats until destroyed from its callback", function()
    local record, times = recorder()
    local t
    t = mockit.getit(10, expect(function()
        record()
        assert(t:active(), "an interval is not active inside its callback")
        if #times == 3 then
            t:destroy()
        end
    end, 3))
    assert(t:kind() == "interval" and t:interval() == 10)
    h.track(t)
    assert(h.loop_until(function() return not t:active() end), "still active")
    assert(table.concat(times, " ") == "10 20 30", "ran at " .. table.concat(times, " "))
end)

test("the k-th call runs at start + k*interval, however long the callbacks take", function()
    local record, times = recorder()
    local t = track(mockit.getit(15, function()
        record()
        mockit.sleep(10) -- a slow callback does not push the schedule on
    end))
    assert(h.loop_until(function() return #times >= 6 end, 3000), "only " .. #times .. " calls")
    t:destroy()
    assert(table.concat(times, " ") == "15 30 45 60 75 90", "ran at " .. table.concat(times, " "))
end)

test("a backlog runs the callback once per expiry: getit(10), sleep(55)", function()
    local n = 0
    local t = track(mockit.getit(10, function() n = n + 1 end))
    mockit.sleep(55)
    assert(mockit.pending() == 5, "pending() " .. mockit.pending())
    local ran = mockit.process_events()
    t:destroy()
    assert(n == ran, string.format("process_events() returned %d, callback ran %d times", ran, n))
    assert(n == 5, "callback ran " .. n .. " times")
end)

-- An absolute schedule keeps the expiries on start + k*ms after a late drain; a schedule
-- relative to the drain would put the next one a whole interval after it.
test("the schedule is absolute: after a late drain the next expiry stays on the grid", function()
    local record, times = recorder()
    local t = track(mockit.getit(200, record))
    mockit.sleep(450)
    assert(mockit.process_events() == 2, "backlog of " .. #times .. " calls, want 2")
    assert(h.loop_until(function() return #times == 3 end, 2000), "no third call")
    t:destroy()
    -- the backlog runs when drained, at 450; the third call on the grid, at 600
    assert(table.concat(times, " ") == "450 450 600", "ran at " .. table.concat(times, " "))
end)

test("process_events(max) counts single calls, also within one timer's backlog", function()
    local n = 0
    local t = track(mockit.getit(2, function() n = n + 1 end))
    mockit.sleep(30)
    assert(mockit.pending() == 15, "backlog of " .. mockit.pending())
    assert(mockit.process_events(3) == 3 and n == 3, "ran " .. n)
    assert(mockit.pending() == 12, "pending() " .. mockit.pending() .. " after 3 of 15 ran")
    t:destroy()
    assert(mockit.process_events() == 0)
end)

test("an undrained 1 ms interval keeps the queue bounded but counts every expiry", function()
    local n = 0
    local t = track(mockit.getit(1, function() n = n + 1 end))
    mockit.sleep(200)
    local pending, entries = mockit.pending(), mockit.inqueue()
    assert(entries == 1, "inqueue() " .. entries .. " for one timer: the queue grows with time")
    assert(pending == 200, "pending() " .. pending .. " after 200 expiries")
    local ran = mockit.process_events()
    t:destroy()
    assert(ran == n, string.format("process_events() returned %d, callback ran %d times", ran, n))
    assert(ran == 200, string.format("ran %d of 200 pending", ran))
end)

-- SPEC section 2's own example, which only simulated time makes short.
test("a 1 ms interval left undrained for an hour: 3.6 million expiries, one queue entry", function()
    local n = 0
    local t = track(mockit.getit(1, function() n = n + 1 end))
    mockit.sleep(3600 * 1000)
    assert(mockit.inqueue() == 1, "inqueue() " .. mockit.inqueue())
    assert(mockit.pending() == 3600000, "pending() " .. mockit.pending())
    assert(mockit.process_events(1000) == 1000 and n == 1000)
    assert(mockit.pending() == 3600000 - 1000, "pending() " .. mockit.pending())
    t:destroy()
    assert(mockit.pending() == 0 and mockit.inqueue() == 0)
end)

test("getit(0) repeats every 1 ms and interval() reports 1", function()
    local record, times = recorder()
    local t
    t = mockit.getit(0, expect(function()
        record()
        if #times == 3 then
            t:destroy()
        end
    end, 3))
    h.track(t)
    assert(t:interval() == 1, "interval() " .. t:interval())
    assert(t:kind() == "interval")
    assert(h.loop_until(function() return not t:active() end), "still active")
    assert(table.concat(times, " ") == "1 2 3", "ran at " .. table.concat(times, " "))
end)

test("reset(ms) changes the interval and restarts the countdown", function()
    local record, times = recorder()
    local t = track(mockit.getit(60000, record))
    mockit.sleep(5)
    assert(rawequal(t:reset(10), t), "reset() does not return the timer")
    assert(t:interval() == 10, "interval() " .. t:interval())
    assert(h.loop_until(function() return #times >= 3 end, 2000), "ran " .. #times .. " times")
    t:destroy()
    assert(table.concat(times, " ") == "15 25 35", "ran at " .. table.concat(times, " "))
end)

test("reset() postpones the next expiry of an interval", function()
    local record, times = recorder()
    local t = track(mockit.getit(100, record))
    mockit.sleep(70)
    t:reset()
    assert(t:interval() == 100)
    assert(h.loop_until(function() return #times == 2 end, 2000), "ran " .. #times .. " times")
    t:destroy()
    -- on the new grid from reset(), at 70: 170, 270
    assert(table.concat(times, " ") == "170 270", "ran at " .. table.concat(times, " "))
end)

test("an interval's callback receives its extra arguments on every call", function()
    local n = 0
    local t
    t = mockit.getit(2, expect(function(...)
        n = n + 1
        assert(select("#", ...) == 3 and select(1, ...) == "a" and select(3, ...) == "c")
        if n == 3 then
            t:destroy()
        end
    end, 3), "a", nil, "c")
    h.track(t)
end)

-- a every 20 ms and b every 30 ms: as they fall due, a before b when both are due at once
-- (a was armed first); a backlog drained late keeps that order.
test("calls of several timers interleave in expiry order, drained late or on time", function()
    for _, late in ipairs({ true, false }) do
        local start, calls = mockit.mstimestamp(), {}
        local function call(name)
            table.insert(calls, name .. (late and "" or "@" .. (mockit.mstimestamp() - start)))
        end
        local ta = track(mockit.getit(20, call, "a"))
        local tb = track(mockit.getit(30, call, "b"))
        if late then
            mockit.sleep(130)
        end
        assert(h.loop_until(function() return #calls >= 10 end), "only " .. #calls .. " calls")
        ta:destroy()
        tb:destroy()
        local want = late and "a b a a b a b a a b"
            or "a@20 b@30 a@40 a@60 b@60 a@80 b@90 a@100 a@120 b@120"
        assert(table.concat(calls, " ") == want, "calls " .. table.concat(calls, " "))
    end
end)
