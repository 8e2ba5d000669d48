-- test_interval.lua: interval timers: repetition, absolute schedule, backlog, bounded
-- queue, zero interval, reset().

local h = require("harness")
local mockit = require("mockit")
local test, expect, track = h.test, h.expect, h.track

local NS_PER_MS = 1000000

test("an interval repeats until destroyed from its callback", function()
    local n = 0
    local t
    t = mockit.getit(10, expect(function()
        n = n + 1
        assert(t:active(), "an interval is not active inside its callback")
        if n == 3 then
            t:destroy()
        end
    end, 3))
    assert(t:kind() == "interval" and t:interval() == 10)
    h.track(t)
end)

test("the k-th call never comes before start + k*interval", function()
    local t0 = mockit.hrtime()
    local times = {}
    local t = track(mockit.getit(15, function() table.insert(times, mockit.hrtime()) end))
    assert(h.loop_until(function() return #times >= 6 end, 3000), "only " .. #times .. " calls")
    t:destroy()
    for k, at in ipairs(times) do
        assert(at - t0 >= k * 15 * NS_PER_MS, string.format("call %d came %.1f ms after start",
            k, (at - t0) / NS_PER_MS))
    end
end)

test("a backlog runs the callback once per expiry: getit(10), sleep(55)", function()
    local n = 0
    local t = track(mockit.getit(10, function() n = n + 1 end))
    mockit.sleep(55)
    local ran = mockit.process_events()
    t:destroy()
    assert(n == ran, string.format("process_events() returned %d, callback ran %d times", ran, n))
    assert(n >= 5 and n <= 7, "callback ran " .. n .. " times")
end)

-- An absolute schedule keeps the expiries on start + k*ms after a late drain; a schedule
-- relative to the drain would put the next one a whole interval after it.
test("the schedule is absolute: after a late drain the next expiry stays on the grid", function()
    local times = {}
    local t0 = mockit.hrtime()
    local t = track(mockit.getit(200, function() table.insert(times, mockit.hrtime()) end))
    mockit.sleep(450)
    assert(mockit.process_events() == 2, "backlog of " .. #times .. " calls, want 2")
    assert(h.loop_until(function() return #times == 3 end, 2000), "no third call")
    t:destroy()
    local third = (times[3] - t0) / NS_PER_MS
    assert(third >= 600, string.format("third call at %.1f ms, before 600", third))
    assert(third < 640, string.format("third call at %.1f ms: not on the 200 ms grid", third))
end)

test("process_events(max) counts single calls, also within one timer's backlog", function()
    local n = 0
    local t = track(mockit.getit(2, function() n = n + 1 end))
    mockit.sleep(30)
    local before = mockit.pending()
    assert(before >= 5, "backlog of " .. before)
    assert(mockit.process_events(3) == 3 and n == 3, "ran " .. n)
    local after = mockit.pending() -- new expiries may have come meanwhile
    assert(after >= before - 3, string.format("pending %d -> %d", before, after))
    t:destroy()
    assert(mockit.process_events() == 0)
end)

test("an undrained 1 ms interval keeps the queue bounded but counts every expiry", function()
    local n = 0
    local t = track(mockit.getit(1, function() n = n + 1 end))
    mockit.sleep(200)
    local pending, entries = mockit.pending(), mockit.inqueue()
    assert(entries <= 10, "inqueue() " .. entries .. " for one timer: the queue grows with time")
    assert(pending >= 100, "pending() " .. pending .. " after 200 expiries")
    local ran = mockit.process_events()
    t:destroy()
    assert(ran == n, string.format("process_events() returned %d, callback ran %d times", ran, n))
    assert(ran >= pending, string.format("ran %d of %d pending", ran, pending))
end)

test("getit(0) repeats every 1 ms and interval() reports 1", function()
    local n = 0
    local t
    t = mockit.getit(0, expect(function()
        n = n + 1
        if n == 3 then
            t:destroy()
        end
    end, 3))
    h.track(t)
    assert(t:interval() == 1, "interval() " .. t:interval())
    assert(t:kind() == "interval")
end)

test("reset(ms) changes the interval and restarts the countdown", function()
    local n = 0
    local t = track(mockit.getit(60000, function() n = n + 1 end))
    assert(rawequal(t:reset(10), t), "reset() does not return the timer")
    assert(t:interval() == 10, "interval() " .. t:interval())
    assert(h.loop_until(function() return n >= 3 end, 2000), "ran " .. n .. " times")
    t:destroy()
end)

test("reset() postpones the next expiry of an interval", function()
    local first
    local t = track(mockit.getit(100, function() first = first or mockit.hrtime() end))
    mockit.sleep(70)
    local t_reset = mockit.hrtime()
    t:reset()
    assert(t:interval() == 100)
    assert(h.loop_until(function() return first end, 2000), "never fired")
    t:destroy()
    assert(first - t_reset >= 100 * NS_PER_MS, "fired before 100 ms counted from reset()")
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

-- Two intervals and a one-off: consecutive calls must follow the expiry times, each known
-- to lie within [before, after] of the getit() call plus k * interval.
test("calls of several timers interleave in expiry order", function()
    local calls = {}
    local function arm(ms, name)
        local before = mockit.hrtime()
        local t = mockit.getit(ms, function(k_of)
            k_of[name] = (k_of[name] or 0) + 1
            table.insert(calls, { name = name, k = k_of[name] })
        end, {})
        return track(t), { before = before, after = mockit.hrtime(), ms = ms }
    end
    local ta, a = arm(20, "a")
    local tb, b = arm(30, "b")
    local spec = { a = a, b = b }
    mockit.sleep(130)
    assert(h.loop_until(function() return #calls >= 8 end), "only " .. #calls .. " calls")
    ta:destroy()
    tb:destroy()
    local function lo(c) return spec[c.name].before + c.k * spec[c.name].ms * NS_PER_MS end
    local function hi(c) return spec[c.name].after + c.k * spec[c.name].ms * NS_PER_MS end
    for i = 2, #calls do
        assert(lo(calls[i - 1]) <= hi(calls[i]), string.format("%s#%d ran before %s#%d",
            calls[i].name, calls[i].k, calls[i - 1].name, calls[i - 1].k))
    end
end)
