-- SPDX-License-Identifier: MIT
-- test_loop.lua: wait(), process_events(), pending(), inqueue(), run(), stop(), ref(),
-- unref().
--
-- On simulated time: time moves only when the loop waits, straight to what it waits for, so
-- the tests assert how long each wait took, to the millisecond (0 for "at once"). How wait()
-- times out and wakes up on the real clock is test_basics.lua's.

local h = require("harness")
local mockit = require("mockit")
local test, expect, track = h.test, h.expect, h.track

h.virtual_time()

test("wait(ms) with nothing queued returns 0 after the timeout", function()
    local t0 = mockit.hrtime()
    assert(mockit.wait(50) == 0)
    assert(h.elapsed_ms(t0) == 50, "wait(50) returned after " .. h.elapsed_ms(t0) .. " ms")
end)

test("wait(0) returns 0 at once when nothing is queued", function()
    local t0 = mockit.hrtime()
    assert(mockit.wait(0) == 0)
    assert(h.elapsed_ms(t0) == 0, "wait(0) took " .. h.elapsed_ms(t0) .. " ms")
end)

test("wait() returns at once with the count when events are already queued", function()
    mockit.oneoff(1, expect(nil, 1))
    mockit.oneoff(1, expect(nil, 1))
    assert(h.wait_queued(2), "not queued")
    local t0 = mockit.hrtime()
    assert(mockit.wait(5000) == 2, "wait(5000) with 2 queued")
    assert(mockit.wait() == 2, "wait() with 2 queued") -- the seed's README would block here
    assert(h.elapsed_ms(t0) == 0, "blocked for " .. h.elapsed_ms(t0) .. " ms")
    assert(mockit.process_events() == 2)
end)

test("wait(ms) blocks until an expiry, and no longer", function()
    local t0 = mockit.hrtime()
    mockit.oneoff(30, expect(nil, 1))
    assert(mockit.wait(5000) == 1)
    assert(h.elapsed_ms(t0) == 30, "returned after " .. h.elapsed_ms(t0) .. " ms")
    assert(mockit.process_events() == 1)
end)

test("wait() without a timeout returns when an expiry arrives", function()
    local t0 = mockit.hrtime()
    mockit.oneoff(20, expect(nil, 1))
    assert(mockit.wait() == 1)
    assert(h.elapsed_ms(t0) == 20, "returned after " .. h.elapsed_ms(t0) .. " ms")
    assert(mockit.process_events() == 1)
end)

test("process_events() with nothing queued returns 0", function()
    assert(mockit.process_events() == 0)
    assert(mockit.process_events(10) == 0)
end)

-- Found by the fuzz harness: callbacks slower than their interval kept process_events() busy
-- for good, as every callback let another expiry come due before the queue ran dry.
test("process_events() runs what was pending when called, not what comes due meanwhile", function()
    local calls, t = 0, nil
    t = track(mockit.getit(1, function()
        calls = calls + 1
        mockit.sleep(2) -- slower than the interval: about 2 more expiries per call
        if calls == 100 then
            t:destroy() -- a way out for a drain that would not end on its own
        end
    end))
    assert(h.wait_queued(2), "not queued")
    assert(mockit.pending() == 2, "pending() " .. mockit.pending())
    local n = mockit.process_events()
    t:destroy()
    assert(n == 2, string.format("process_events() ran %d callbacks, 2 were pending", n))
end)

-- The loop records a backlog a few thousand expiries at a time (so a million timers falling due
-- at once never sit in the queue together); one process_events() still runs all of it.
test("process_events() runs a backlog of 10,000 one-offs whole and in arming order", function()
    local n, order = 10000, {}
    local function fired(i) order[#order + 1] = i end
    for i = 1, n do mockit.oneoff(0, fired, i) end
    mockit.sleep(5)
    assert(mockit.process_events() == n, "ran " .. #order)
    for i = 1, n do
        if order[i] ~= i then error(string.format("call %d ran one-off %s", i, order[i])) end
    end
    assert(mockit.pending() == 0 and mockit.inqueue() == 0)
end)

test("wait() counts a large backlog as far as it is queued; pending() counts all of it", function()
    local n = 5000
    for _ = 1, n do mockit.oneoff(0, function() end) end
    mockit.sleep(5)
    local queued = mockit.wait(0)
    assert(queued >= 4096 and queued <= n, "wait() " .. queued)
    assert(mockit.pending() == n, "pending() " .. mockit.pending())
    assert(mockit.process_events() == n)
end)

test("pending() counts every expiry due, however large the backlog", function()
    local n = 10000
    local calls = 0
    local function fired() calls = calls + 1 end
    for _ = 1, n do mockit.oneoff(0, fired) end
    mockit.sleep(5)
    assert(mockit.pending() == n, "pending() " .. mockit.pending())
    assert(mockit.process_events() == n and calls == n)
end)

test("pending() counts callbacks to run, inqueue() also dead entries", function()
    local a = mockit.oneoff(1, expect(nil, 1))
    local b = mockit.oneoff(1, expect(nil, 0))
    mockit.oneoff(1, expect(nil, 1))
    assert(h.wait_queued(3), "not queued")
    assert(mockit.pending() == 3 and mockit.inqueue() >= 1)
    b:destroy()
    assert(mockit.pending() == 2, "pending() " .. mockit.pending())
    assert(mockit.inqueue() >= 1 and mockit.inqueue() <= 3, "inqueue() " .. mockit.inqueue())
    assert(mockit.process_events() == 2)
    assert(mockit.pending() == 0 and mockit.inqueue() == 0)
    assert(a:active() == false)
end)

test("run() returns 0 at once when nothing keeps it alive", function()
    local t0 = mockit.hrtime()
    local code = mockit.run()
    assert(code == 0 and math.type(code) == "integer", "run() returned " .. tostring(code))
    assert(h.elapsed_ms(t0) == 0, "run() took " .. h.elapsed_ms(t0) .. " ms")
end)

test("run() runs the one-offs and returns 0 after the last one", function()
    local order = {}
    local t0, w0 = mockit.hrtime(), mockit.mstimestamp()
    local function cb(name) table.insert(order, name .. "@" .. (mockit.mstimestamp() - w0)) end
    mockit.oneoff(40, expect(cb, 1), "b")
    mockit.oneoff(10, expect(cb, 1), "a")
    assert(mockit.run() == 0)
    assert(table.concat(order, " ") == "a@10 b@40", "order " .. table.concat(order, " "))
    assert(h.elapsed_ms(t0) == 40, "run() returned after " .. h.elapsed_ms(t0) .. " ms")
end)

test("run() is kept alive by timers armed from callbacks", function()
    local depth = 0
    local t0 = mockit.hrtime()
    local function chain()
        depth = depth + 1
        if depth < 5 then
            mockit.oneoff(2, chain)
        end
    end
    mockit.oneoff(2, chain)
    assert(mockit.run() == 0)
    assert(depth == 5, "depth " .. depth)
    assert(h.elapsed_ms(t0) == 10, "run() returned after " .. h.elapsed_ms(t0) .. " ms")
end)

test("run() returns the code given to stop(code)", function()
    local n = 0
    local t0 = mockit.hrtime()
    local t = track(mockit.getit(5, function()
        n = n + 1
        if n == 3 then
            mockit.stop(7)
        end
    end))
    assert(mockit.run() == 7)
    assert(n == 3, "ran " .. n .. " times")
    assert(h.elapsed_ms(t0) == 15, "run() returned after " .. h.elapsed_ms(t0) .. " ms")
    assert(t:active(), "stop() destroyed the interval")
    t:destroy()
end)

test("stop() without a code makes run() return 0", function()
    local t = track(mockit.getit(5, expect(function() mockit.stop() end, 1)))
    assert(mockit.run() == 0)
    t:destroy()
end)

test("stop() ends the loop after the current callback; the rest stays queued", function()
    local n = 0
    local function cb()
        n = n + 1
        if n == 1 then
            mockit.stop(3)
        end
    end
    for _ = 1, 3 do
        mockit.oneoff(1, cb)
    end
    assert(h.wait_queued(3), "not queued")
    assert(mockit.run() == 3)
    assert(n == 1, "ran " .. n .. " callbacks of the batch after stop()")
    assert(mockit.pending() == 2, "pending() " .. mockit.pending())
    assert(mockit.process_events() == 2)
    assert(n == 3)
end)

test("run() works again after a stop()", function()
    local t = track(mockit.getit(5, expect(function() mockit.stop(5) end, 1)))
    assert(mockit.run() == 5)
    t:destroy()
    mockit.oneoff(5, expect(function() mockit.stop(6) end, 1))
    assert(mockit.run() == 6)
    mockit.oneoff(5, expect(nil, 1))
    assert(mockit.run() == 0)
end)

test("an unref'd timer does not keep run() alive; unref() returns the timer", function()
    local t = track(mockit.getit(1000, expect(nil, 0)))
    assert(rawequal(t:unref(), t), "unref() does not return the timer")
    local t0 = mockit.hrtime()
    assert(mockit.run() == 0)
    assert(h.elapsed_ms(t0) == 0, "run() waited " .. h.elapsed_ms(t0) .. " ms")
    assert(t:active(), "run() destroyed the unref'd timer")
    t:destroy()
end)

test("ref() undoes unref(); ref() returns the timer", function()
    local t0 = mockit.hrtime()
    local t = mockit.oneoff(30, expect(nil, 1))
    t:unref()
    assert(rawequal(t:ref(), t), "ref() does not return the timer")
    assert(mockit.run() == 0)
    assert(h.elapsed_ms(t0) == 30, "run() returned after " .. h.elapsed_ms(t0) .. " ms")
end)

-- The interval was armed first: at 100 ms its 20th call runs before the one-off.
test("an unref'd interval runs while a ref'd timer keeps the loop alive", function()
    local n = 0
    local t = track(mockit.getit(5, function() n = n + 1 end)):unref()
    mockit.oneoff(100, expect(nil, 1))
    assert(mockit.run() == 0)
    assert(n == 20, "the unref'd interval ran " .. n .. " times in 100 ms")
    t:destroy()
end)

test("a queued expiry keeps run() alive even when its timer is unref'd", function()
    local t = mockit.oneoff(1, expect(nil, 1))
    t:unref()
    assert(h.wait_queued(1), "not queued")
    assert(mockit.run() == 0)
end)

test("a callback error with no on_error propagates out of run()", function()
    mockit.oneoff(1, expect(function() error("boom in run") end, 1))
    local ok, err = pcall(mockit.run)
    assert(not ok, "run() did not raise")
    assert(tostring(err):find("boom in run", 1, true), "message: " .. tostring(err))
    assert(tostring(err):find("stack traceback", 1, true), "no traceback: " .. tostring(err))
end)

test("with on_error set, run() goes on after a callback error", function()
    local errors = 0
    mockit.on_error(function() errors = errors + 1 end)
    mockit.oneoff(1, expect(function() error("first") end, 1))
    mockit.oneoff(20, expect(nil, 1))
    assert(mockit.run() == 0)
    mockit.on_error(nil)
    assert(errors == 1)
end)

-- The interval was armed first: at 50 ms its 50th call runs before the one-off stops the loop.
test("run() drives a fast interval until a one-off stops it", function()
    local n = 0
    local t0 = mockit.hrtime()
    local t = track(mockit.getit(0, function() n = n + 1 end))
    mockit.oneoff(50, expect(function() mockit.stop(11) end, 1))
    assert(mockit.run() == 11)
    t:destroy()
    assert(h.elapsed_ms(t0) == 50, "run() returned after " .. h.elapsed_ms(t0) .. " ms")
    assert(n == 50, "a 1 ms interval ran " .. n .. " times in 50 ms")
end)

-- A loop of the script's own (the seed's `while true do wait() process_events() end`) must end
-- on a stop rather than spin: the first wait() returns 0 and stopping() tells why; a second
-- wait() raises the stop, which mockit-run turns into its exit status.
test("after stop(), wait() returns 0 once, stopping() says so, and the next wait() raises", function()
    assert(mockit.stopping() == false)
    mockit.oneoff(1, expect(function() mockit.stop(7) end, 1))
    assert(mockit.wait(5000) == 1)
    assert(mockit.process_events() == 1)
    local stopping, code = mockit.stopping()
    assert(stopping == true and code == 7, "stopping() -> " .. tostring(stopping) .. ", " .. tostring(code))
    local t0 = mockit.hrtime()
    assert(mockit.wait(5000) == 0, "the first wait() after a stop")
    assert(h.elapsed_ms(t0) == 0, "wait() blocked for " .. h.elapsed_ms(t0) .. " ms after a stop")
    local ok, err = pcall(mockit.wait, 5000)
    assert(not ok, "the second wait() after a stop did not raise")
    assert(tostring(err):find("mockit.stopping()", 1, true), "message: " .. tostring(err))
    assert(mockit.run() == 7, "run() ends at once on the stop asked for, with its code")
    assert(mockit.stopping() == false, "run() took the stop")
    assert(mockit.wait(0) == 0)
end)

-- Observed or not, what is due counts: pending() used to record it and run() did not.
test("an unref'd one-off already due runs in run(), whether or not pending() looked first", function()
    for _, look in ipairs({ false, true }) do
        local t = mockit.oneoff(0, expect(nil, 1)):unref()
        mockit.sleep(5)
        if look then assert(mockit.pending() == 1) end
        assert(mockit.run() == 0)
        assert(not t:active())
    end
end)

test("a callback error caught around run() leaves run() usable, and timers armed later run", function()
    mockit.oneoff(1, expect(function() error("caught") end, 1))
    assert(not pcall(mockit.run))
    mockit.oneoff(1, expect(nil, 1))
    assert(mockit.run() == 0)
end)

-- load() reports its errors through the message handler of the call it runs in: the
-- callback's must not turn them into something else than a string (lua5.4 gives a string).
test("load() of too deeply nested source inside a callback returns a string error", function()
    mockit.oneoff(1, expect(function()
        local source = "return " .. string.rep("(", 100000) .. "1" .. string.rep(")", 100000)
        local f, err = load(source)
        assert(f == nil and type(err) == "string", "load returned " .. tostring(f) .. ", " .. type(err))
        assert(err:find("overflow", 1, true) or err:find("levels", 1, true), err)
    end, 1))
    assert(mockit.run() == 0)
end)

-- The stop comes before the count: a loop of the script's own whose timers always have
-- callbacks pending must still hear of it, or it spins.
test("once a stop is asked for, wait() returns 0 though callbacks are pending, then raises", function()
    local t = track(mockit.getit(1, function() end))
    mockit.stop(3)
    mockit.sleep(5)
    assert(mockit.pending() == 5, "pending() " .. mockit.pending())
    local t0 = mockit.hrtime()
    assert(mockit.wait(1000) == 0)
    assert(h.elapsed_ms(t0) == 0, "wait() blocked for " .. h.elapsed_ms(t0) .. " ms after a stop")
    assert(not pcall(mockit.wait, 1000))
    assert(mockit.run() == 3)
    t:destroy()
end)
