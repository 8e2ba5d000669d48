-- SPDX-License-Identifier: MIT
-- test_oneoff.lua: one-off timers: dispatch only from process_events, arguments, order,
-- due times, active(), reset().
--
-- On simulated time: every callback the loop reaches runs exactly at its due time, so the
-- tests assert due times to the millisecond. That a wake-up on the real clock is never early
-- is test_basics.lua's.

local h = require("harness")
local mockit = require("mockit")
local test, expect = h.test, h.expect

h.virtual_time()

local NS_PER_MS = 1000000

test("a callback runs only from process_events(), never by itself", function()
    local cb = expect(nil, 1)
    local t = mockit.oneoff(1, cb)
    mockit.sleep(20)
    assert(h.calls(cb) == 0, "called during sleep()")
    assert(mockit.wait(2000) == 1, "the expiry was not queued")
    assert(h.calls(cb) == 0, "called during wait()")
    assert(mockit.pending() == 1, "pending " .. mockit.pending())
    assert(mockit.inqueue() >= 1, "inqueue " .. mockit.inqueue())
    assert(t:active(), "not active while its expiry awaits dispatch")
    assert(mockit.process_events() == 1)
    assert(h.calls(cb) == 1)
    assert(mockit.pending() == 0 and mockit.inqueue() == 0)
end)

test("a 10 ms one-off fires once, 10 ms after it was armed", function()
    local t0, w0 = mockit.hrtime(), mockit.mstimestamp()
    local fired, fired_wall
    mockit.oneoff(10, expect(function()
        fired, fired_wall = mockit.hrtime(), mockit.mstimestamp()
    end, 1))
    assert(h.loop_until(function() return fired end, 2000), "did not fire within 2 s")
    assert(fired - t0 == 10 * NS_PER_MS, "fired after " .. (fired - t0) .. " ns")
    assert(fired_wall - w0 == 10, "mstimestamp() moved " .. (fired_wall - w0) .. " ms")
    mockit.sleep(30)
    assert(mockit.wait(0) == 0 and mockit.process_events() == 0, "fired twice")
end)

test("wait() returns when the one-off is due: not before, not after", function()
    for _, ms in ipairs({ 1, 7, 40 }) do
        local t0 = mockit.hrtime()
        mockit.oneoff(ms, expect(nil, 1))
        assert(mockit.wait(2000) == 1, "not queued within 2 s")
        local took = mockit.hrtime() - t0
        assert(took == ms * NS_PER_MS, string.format("%d ms one-off queued after %d ns", ms, took))
        assert(mockit.process_events() == 1)
    end
end)

test("a zero-delay one-off is allowed and fires", function()
    local t = mockit.oneoff(0, expect(nil, 1))
    assert(t:interval() == 0)
    assert(mockit.wait(2000) == 1)
    assert(mockit.process_events() == 1)
end)

test("the callback receives the extra arguments, nils in the middle included", function()
    mockit.oneoff(1, expect(function(...)
        assert(select("#", ...) == 3, "got " .. select("#", ...) .. " arguments")
        local a, b, c = ...
        assert(a == 1 and b == nil and c == 3)
    end, 1), 1, nil, 3)
end)

test("the callback receives no arguments when none were given", function()
    mockit.oneoff(1, expect(function(...)
        assert(select("#", ...) == 0, "got " .. select("#", ...) .. " arguments")
    end, 1))
end)

test("many arguments of every type are passed through unchanged", function()
    local tbl, fn, co = {}, function() end, coroutine.create(function() end)
    local args = { "s", 2, 2.5, true, false, tbl, fn, co, math.maxinteger, -0.0 }
    for i = #args + 1, 60 do
        args[i] = i
    end
    mockit.oneoff(1, expect(function(...)
        assert(select("#", ...) == #args)
        for i = 1, #args do
            assert(rawequal(select(i, ...), args[i]) or select(i, ...) == args[i], "argument " .. i)
        end
        assert(math.type(select(2, ...)) == "integer" and math.type(select(3, ...)) == "float")
    end, 1), table.unpack(args))
end)

test("a callable table is accepted as the callback", function()
    local obj = setmetatable({}, {
        __call = expect(function(self, x)
            assert(type(self) == "table" and x == "x")
        end, 1),
    })
    mockit.oneoff(1, obj, "x")
end)

-- Drained together after a sleep, and drained as they fall due: expiry order both times, and
-- in the second each runs at its due time.
test("callbacks run in expiry order, not arming order, each at its due time", function()
    local start, order = nil, {}
    local function cb(name) table.insert(order, name .. "@" .. (mockit.mstimestamp() - start)) end
    for _, late in ipairs({ true, false }) do
        start, order = mockit.mstimestamp(), {}
        mockit.oneoff(30, expect(cb, 1), "c")
        mockit.oneoff(10, expect(cb, 1), "a")
        mockit.oneoff(20, expect(cb, 1), "b")
        if late then
            mockit.sleep(60)
        end
        h.loop_until(function() return #order == 3 end)
        local want = late and "a@60 b@60 c@60" or "a@10 b@20 c@30"
        assert(table.concat(order, " ") == want, "order " .. table.concat(order, " "))
    end
end)

test("one-offs with the same delay run in arming order, at the same time", function()
    local order = {}
    local start = mockit.mstimestamp()
    for i = 1, 20 do
        mockit.oneoff(5, expect(function()
            local at = mockit.mstimestamp() - start
            assert(at == 5, "one-off " .. i .. " ran at " .. at .. " ms, due at 5")
            table.insert(order, i)
        end, 1))
    end
    h.loop_until(function() return #order == 20 end)
    for i = 1, 20 do
        assert(order[i] == i, "position " .. i .. " holds " .. tostring(order[i]))
    end
end)

-- Arms one-offs with pseudo-random delays, all at one instant (simulated time stands still
-- while Lua runs): each callback runs once, at start + its delay, in the order of the delays
-- and, for equal delays, in arming order.
test("1000 one-offs with random delays each run once, at their due time, in order", function()
    local start = mockit.mstimestamp()
    local delays, seen = {}, {}
    local function cb(i)
        local late = mockit.mstimestamp() - start - delays[i]
        assert(late == 0, string.format("callback %d ran %d ms off its due time", i, late))
        table.insert(seen, i)
    end
    local seed = 12345
    for i = 1, 1000 do
        seed = (seed * 1103515245 + 12345) % 2147483648
        delays[i] = seed % 50
        mockit.oneoff(delays[i], cb, i)
    end
    assert(h.loop_until(function() return #seen == 1000 end, 5000), "ran " .. #seen .. " of 1000")
    local want = {}
    for i = 1, 1000 do want[i] = i end
    table.sort(want, function(a, b)
        if delays[a] ~= delays[b] then return delays[a] < delays[b] end
        return a < b
    end)
    for k = 1, 1000 do
        assert(seen[k] == want[k], string.format("call %d ran callback %s, want %d", k,
            tostring(seen[k]), want[k]))
    end
end)

test("process_events(max) runs at most max callbacks, in order", function()
    local order = {}
    for i = 1, 3 do
        mockit.oneoff(i, expect(function() table.insert(order, i) end, 1))
    end
    assert(h.wait_queued(3), "not queued within 2 s")
    assert(mockit.process_events(1) == 1)
    assert(#order == 1 and order[1] == 1)
    assert(mockit.pending() == 2)
    assert(mockit.process_events(5) == 2)
    assert(table.concat(order) == "123", table.concat(order))
    assert(mockit.process_events() == 0)
end)

test("active() is false once the one-off's callback started running", function()
    local t
    t = mockit.oneoff(1, expect(function()
        assert(t:active() == false, "active() true inside its own callback")
    end, 1))
    assert(t:active())
    h.loop_until(function() return not t:active() end)
    assert(t:active() == false)
    assert(t:destroy() == nil, "destroying a fired one-off")
end)

test("a callback's return values are ignored", function()
    mockit.oneoff(1, expect(function() return 1, 2, 3 end, 1))
    mockit.oneoff(1, expect(function() return false end, 1))
end)

test("a callback can arm new one-offs", function()
    local depth = 0
    local start = mockit.mstimestamp()
    local function chain()
        depth = depth + 1
        assert(mockit.mstimestamp() - start == depth, "link " .. depth .. " ran late")
        if depth < 5 then
            mockit.oneoff(1, chain)
        end
    end
    mockit.oneoff(1, expect(chain, 1))
    assert(h.loop_until(function() return depth == 5 end), "chain stopped at " .. depth)
end)

test("reset() before expiry restarts the countdown from now", function()
    local fired
    local t = mockit.oneoff(100, expect(function() fired = mockit.hrtime() end, 1))
    mockit.sleep(60)
    local t_reset = mockit.hrtime()
    assert(rawequal(t:reset(), t), "reset() does not return the timer")
    h.loop_until(function() return fired end, 2000)
    assert(fired, "did not fire after reset()")
    assert(fired - t_reset == 100 * NS_PER_MS,
        string.format("fired %.0f ms after reset(), want 100", (fired - t_reset) / NS_PER_MS))
end)

test("reset(ms) sets a new delay", function()
    local t0 = mockit.hrtime()
    local t = mockit.oneoff(60000, expect(nil, 1))
    assert(rawequal(t:reset(10), t))
    assert(t:interval() == 10, "interval() " .. t:interval())
    assert(h.loop_until(function() return not t:active() end, 2000), "did not fire")
    assert(mockit.hrtime() - t0 == 10 * NS_PER_MS, "fired after " .. h.elapsed_ms(t0) .. " ms")
end)

test("reset() re-arms a one-off that already fired", function()
    local cb = expect(nil, 2)
    local t = mockit.oneoff(1, cb)
    h.loop_until(function() return h.calls(cb) == 1 end)
    assert(t:active() == false)
    t:reset()
    assert(t:active(), "not active after reset()")
    assert(h.loop_until(function() return h.calls(cb) == 2 end), "did not fire again")
end)

test("reset() inside its own callback re-arms the one-off", function()
    local times = {}
    local start = mockit.mstimestamp()
    local t
    t = mockit.oneoff(1, expect(function()
        table.insert(times, mockit.mstimestamp() - start)
        if #times < 3 then
            t:reset(2)
        end
    end, 3))
    assert(h.loop_until(function() return #times == 3 end), "ran " .. #times .. " times")
    assert(table.concat(times, " ") == "1 3 5", "ran at " .. table.concat(times, " "))
end)

test("reset() of a one-off whose expiry is queued replaces that expiry", function()
    local fired
    local t = mockit.oneoff(1, expect(function() fired = mockit.hrtime() end, 1))
    assert(mockit.wait(2000) == 1, "not queued")
    local t_reset = mockit.hrtime()
    t:reset(30)
    assert(t:active(), "not active after reset()")
    assert(mockit.pending() == 0, "the old expiry is still pending")
    assert(h.loop_until(function() return fired end), "did not fire after reset()")
    assert(fired - t_reset == 30 * NS_PER_MS,
        string.format("fired %.0f ms after reset(30)", (fired - t_reset) / NS_PER_MS))
end)
