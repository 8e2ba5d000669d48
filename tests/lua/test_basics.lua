-- SPDX-License-Identifier: MIT
-- test_basics.lua: loading the module, clocks, sleep, handles, log, notify, stats, and what
-- only the real clock can show: wake-ups never early, wait() timing out and waking on time,
-- calls that must return at once doing so. test_oneoff, test_interval, test_loop and
-- test_destroy run on simulated time, where none of that can be measured: it is checked here.

local h = require("harness")
local mockit = require("mockit")
local test, expect, track = h.test, h.expect, h.track

local NS_PER_MS = 1000000

test("require('mockit') and require('luamockit') return the same table", function()
    local a, b = require("mockit"), require("luamockit")
    assert(type(a) == "table", "module is not a table")
    assert(rawequal(a, b), "mockit and luamockit are different tables")
end)

test("mockit.version is a non-empty string", function()
    assert(type(mockit.version) == "string", "version is " .. type(mockit.version))
    assert(#mockit.version > 0)
end)

test("mstimestamp() is integer milliseconds since the epoch", function()
    local ts = mockit.mstimestamp()
    assert(math.type(ts) == "integer", "not an integer: " .. tostring(ts))
    assert(math.abs(ts // 1000 - os.time()) <= 2, "far from os.time(): " .. ts)
end)

test("time() returns integer secs and ms, consistent with mstimestamp()", function()
    for _ = 1, 100 do
        local before = mockit.mstimestamp()
        local secs, ms = mockit.time()
        local after = mockit.mstimestamp()
        assert(math.type(secs) == "integer" and math.type(ms) == "integer")
        assert(ms >= 0 and ms < 1000, "ms out of range: " .. ms)
        local t = secs * 1000 + ms
        -- 1 ms of slack: the two may round differently within the same millisecond
        assert(t >= before - 1 and t <= after + 1,
            string.format("time() %d outside [%d, %d]", t, before, after))
    end
end)

test("hrtime() is an integer monotonic clock in nanoseconds", function()
    local a = mockit.hrtime()
    local b = mockit.hrtime()
    assert(math.type(a) == "integer", "not an integer")
    assert(b >= a, "went backwards")
    mockit.sleep(20)
    local c = mockit.hrtime()
    assert(c - b >= 20 * NS_PER_MS, "20 ms sleep measured as " .. (c - b) .. " ns")
    assert(c - b < 10 * 1000 * NS_PER_MS, "not nanoseconds? " .. (c - b))
end)

test("sleep(ms) returns 0, 0 and sleeps at least ms", function()
    for _, ms in ipairs({ 0, 1, 25 }) do
        local t0 = mockit.hrtime()
        local err, left = mockit.sleep(ms)
        local took = mockit.hrtime() - t0
        assert(err == 0 and left == 0, string.format("sleep(%d) returned %s, %s", ms, err, left))
        assert(took >= ms * NS_PER_MS, string.format("sleep(%d) took %d ns", ms, took))
    end
end)

test("sleep(ms, true) returns 0, 0 and sleeps at least ms", function()
    local t0 = mockit.hrtime()
    local err, left = mockit.sleep(15, true)
    assert(err == 0 and left == 0)
    assert(mockit.hrtime() - t0 >= 15 * NS_PER_MS)
end)

test("EINTR is 4", function()
    assert(mockit.EINTR == 4, "EINTR = " .. tostring(mockit.EINTR))
end)

test("oneoff() and getit() return mockit.timer userdata", function()
    local a = mockit.oneoff(1000, function() end)
    local b = mockit.getit(1000, function() end)
    for _, t in ipairs({ a, b }) do
        assert(type(t) == "userdata", "handle is a " .. type(t))
        assert(tostring(t):sub(1, #"mockit.timer") == "mockit.timer", "tostring: " .. tostring(t))
    end
    assert(a:destroy() == nil and b:destroy() == nil, "destroy() does not return nil")
    assert(tostring(a):sub(1, #"mockit.timer") == "mockit.timer", "destroyed: " .. tostring(a))
end)

test("introspection: kind(), interval(), active()", function()
    local a = mockit.oneoff(1500, function() end)
    local b = mockit.getit(250, function() end)
    assert(a:kind() == "oneoff", "kind " .. tostring(a:kind()))
    assert(b:kind() == "interval", "kind " .. tostring(b:kind()))
    assert(a:interval() == 1500 and b:interval() == 250)
    assert(math.type(a:interval()) == "integer")
    assert(a:active() == true and b:active() == true)
    a:destroy()
    b:destroy()
    assert(a:active() == false and b:active() == false, "active after destroy")
end)

test("stats() reports integer counters of armed timers and queued events", function()
    local s = mockit.stats()
    for _, k in ipairs({ "timers", "pending", "inqueue" }) do
        assert(math.type(s[k]) == "integer", k .. " is not an integer")
    end
    local t = mockit.getit(1000, function() end)
    assert(mockit.stats().timers == s.timers + 1, "an armed interval is not counted")
    t:destroy()
    assert(mockit.stats().timers == s.timers, "a destroyed timer is still counted")
end)

test("a <close> variable destroys its timer at scope exit", function()
    local kept
    do
        local t <close> = mockit.getit(10, expect(nil, 0))
        kept = t
        assert(t:active())
    end
    assert(kept:active() == false, "still active after the scope ended")
    mockit.sleep(30)
    assert(mockit.process_events() == 0)
end)

test("a <close> variable whose timer was already destroyed closes harmlessly", function()
    do
        local t <close> = mockit.oneoff(10, expect(nil, 0))
        t:destroy()
    end
end)

test("a <close> variable destroys its timer when an error unwinds the scope", function()
    local kept
    local ok = pcall(function()
        local t <close> = mockit.getit(10, expect(nil, 0))
        kept = t
        error("unwind")
    end)
    assert(not ok)
    assert(kept:active() == false, "still active after the error")
end)

test("log.trace/debug/info/warn/error exist and accept format arguments", function()
    for _, level in ipairs({ "trace", "debug", "info", "warn", "error" }) do
        assert(type(mockit.log[level]) == "function", "log." .. level .. " missing")
        mockit.log[level]("test_basics: log.%s %s %d %.1f", level, "text", 42, 1.5)
        mockit.log[level]("test_basics: a line without arguments, 100%% plain")
    end
end)

test("notify() returns false when NOTIFY_SOCKET is unset", function()
    if os.getenv("NOTIFY_SOCKET") then
        h.note("skipped: NOTIFY_SOCKET is set in this environment")
        return
    end
    assert(mockit.notify("STATUS=testing") == false)
    assert(mockit.notify("READY=1") == false)
end)

-- On the real clock -----------------------------------------------------------------------
--
-- Timing on a shared CI machine is noisy: these assert lower bounds (never early) and
-- generous upper ones, never exact milliseconds.

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

test("the k-th call of an interval never comes before start + k*interval", function()
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

test("wait(ms) with nothing queued returns 0 after the timeout", function()
    local t0 = mockit.hrtime()
    assert(mockit.wait(50) == 0)
    local took = h.elapsed_ms(t0)
    assert(took >= 49, "wait(50) returned after " .. took .. " ms") -- 1 ms of rounding slack
    assert(took < 2000, "wait(50) returned after " .. took .. " ms")
end)

test("wait(ms) blocks until an expiry, and no longer", function()
    local t0 = mockit.hrtime()
    mockit.oneoff(30, expect(nil, 1))
    assert(mockit.wait(5000) == 1)
    local took = h.elapsed_ms(t0)
    assert(took >= 30 and took < 2000, "returned after " .. took .. " ms")
    assert(mockit.process_events() == 1)
end)

test("wait() without a timeout returns when an expiry arrives", function()
    mockit.oneoff(20, expect(nil, 1))
    assert(mockit.wait() == 1)
    assert(mockit.process_events() == 1)
end)

test("destroy(wait) accepts the argument and returns at once, whatever the interval", function()
    local t0 = mockit.hrtime()
    for _, w in ipairs({ true, false, 1000 }) do
        mockit.getit(60000, expect(nil, 0)):destroy(w)
        mockit.oneoff(60000, expect(nil, 0)):destroy(w)
    end
    assert(h.elapsed_ms(t0) < 1000, "took " .. h.elapsed_ms(t0) .. " ms")
end)

test("1000 intervals are destroyed quickly and stats() drops to 0", function()
    local ts = {}
    for i = 1, 1000 do
        ts[i] = mockit.getit(1000 + i, expect(nil, 0))
    end
    assert(mockit.stats().timers == 1000, "timers " .. mockit.stats().timers)
    local t0 = mockit.hrtime()
    for i = 1, 1000 do
        ts[i]:destroy()
    end
    assert(h.elapsed_ms(t0) < 1000, "1000 destroy() took " .. h.elapsed_ms(t0) .. " ms")
    assert(mockit.stats().timers == 0)
end)
