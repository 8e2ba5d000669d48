-- test_oneoff.lua: one-off timers: dispatch only from process_events, arguments, order,
-- never early, active(), reset().

local h = require("harness")
local mockit = require("mockit")
local test, expect = h.test, h.expect

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

test("a 10 ms one-off fires once, within 2 s", function()
    local t0 = mockit.hrtime()
    local fired
    mockit.oneoff(10, expect(function() fired = mockit.hrtime() end, 1))
    assert(h.loop_until(function() return fired end, 2000), "did not fire within 2 s")
    assert(fired - t0 >= 10 * NS_PER_MS, "fired early")
    mockit.sleep(30)
    assert(mockit.wait(0) == 0 and mockit.process_events() == 0, "fired twice")
end)

test("a one-off never fires early, and wait() does not return before it", function()
    for _, ms in ipairs({ 1, 7, 40 }) do
        local t0 = mockit.hrtime()
        mockit.oneoff(ms, expect(nil, 1))
        assert(mockit.wait(2000) == 1, "not queued within 2 s")
        local took = mockit.hrtime() - t0
        assert(took >= ms * NS_PER_MS, string.format("%d ms one-off queued after %d ns", ms, took))
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

test("callbacks run in expiry order, not arming order", function()
    local order = {}
    local function cb(name) table.insert(order, name) end
    mockit.oneoff(30, expect(cb, 1), "c")
    mockit.oneoff(10, expect(cb, 1), "a")
    mockit.oneoff(20, expect(cb, 1), "b")
    mockit.sleep(60)
    h.loop_until(function() return #order == 3 end)
    assert(table.concat(order) == "abc", "order " .. table.concat(order))
end)

test("one-offs with the same delay run in arming order", function()
    local order = {}
    for i = 1, 20 do
        mockit.oneoff(5, expect(function() table.insert(order, i) end, 1))
    end
    h.loop_until(function() return #order == 20 end)
    for i = 1, 20 do
        assert(order[i] == i, "position " .. i .. " holds " .. tostring(order[i]))
    end
end)

-- Arms one-offs with pseudo-random delays and checks each callback runs once, in the order
-- of the deadlines: the deadline lies within [before, after] + delay of the oneoff() call.
test("1000 one-offs with random delays each run once, in deadline order", function()
    local bounds, seen = {}, {}
    local function cb(i) table.insert(seen, i) end
    local seed = 12345
    for i = 1, 1000 do
        seed = (seed * 1103515245 + 12345) % 2147483648
        local delay = seed % 50
        local before = mockit.hrtime()
        mockit.oneoff(delay, cb, i)
        bounds[i] = { lo = before + delay * NS_PER_MS, hi = mockit.hrtime() + delay * NS_PER_MS }
    end
    assert(h.loop_until(function() return #seen == 1000 end, 5000), "ran " .. #seen .. " of 1000")
    for k = 2, #seen do
        local prev, cur = bounds[seen[k - 1]], bounds[seen[k]]
        assert(prev.lo <= cur.hi, string.format("callback %d ran before %d", seen[k], seen[k - 1]))
    end
    local once = {}
    for _, i in ipairs(seen) do
        assert(not once[i], "callback " .. i .. " ran twice")
        once[i] = true
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
    local function chain()
        depth = depth + 1
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
    assert(fired - t_reset >= 100 * NS_PER_MS, "fired before 100 ms counted from reset()")
end)

test("reset(ms) sets a new delay", function()
    local t0 = mockit.hrtime()
    local t = mockit.oneoff(60000, expect(nil, 1))
    assert(rawequal(t:reset(10), t))
    assert(t:interval() == 10, "interval() " .. t:interval())
    assert(h.loop_until(function() return not t:active() end, 2000), "did not fire")
    assert(mockit.hrtime() - t0 < 30000 * NS_PER_MS)
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
    local n = 0
    local t
    t = mockit.oneoff(1, expect(function()
        n = n + 1
        if n < 3 then
            t:reset(2)
        end
    end, 3))
    assert(h.loop_until(function() return n == 3 end), "ran " .. n .. " times")
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
    assert(fired - t_reset >= 30 * NS_PER_MS, "the old expiry ran")
end)
