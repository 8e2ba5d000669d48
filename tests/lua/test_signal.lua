-- SPDX-License-Identifier: MIT
-- test_signal.lua: mockit.signal(name, fn): handlers run as queued events from
-- process_events(), replace each other, are restored by fn = nil, do not keep run() alive.
--
-- Signals are sent with kill(1) from a shell to this very lua5.4 process. A signal is only
-- sent while a handler is installed: the default action of SIGUSR1/SIGUSR2 kills us.

local h = require("harness")
local mockit = require("mockit")
local test, expect, track = h.test, h.expect, h.track

-- The pid of this process: /proc/self is the lua5.4 process itself.
local function own_pid()
    local stat = assert(io.open("/proc/self/stat"))
    local pid = stat:read("n")
    stat:close()
    return math.tointeger(pid)
end

local PID = own_pid()

-- Sends signal `name` ("SIGUSR1") to this process and checks kill(1) succeeded.
local function raise(name)
    local ok = os.execute(string.format("kill -%s %d", (name:gsub("^SIG", "")), PID))
    assert(ok, "kill -" .. name .. " failed")
end

-- Waits (without running callbacks) until the signal's event is queued.
local function await_signal()
    local t0 = mockit.hrtime()
    local n = mockit.wait(2000)
    assert(n > 0, string.format("wait(2000) returned %d after %.0f ms", n, h.elapsed_ms(t0)))
end

test("the pid read from /proc/self/stat is this process", function()
    assert(math.type(PID) == "integer" and PID > 1, "pid " .. tostring(PID))
end)

test("a SIGUSR1 handler runs from process_events() with the signal's name", function()
    local got
    mockit.signal("SIGUSR1", expect(function(...)
        assert(select("#", ...) >= 1)
        got = ...
    end, 1))
    raise("SIGUSR1")
    await_signal()
    assert(got == nil, "the handler ran before process_events()")
    assert(mockit.pending() >= 1)
    assert(mockit.process_events() == 1)
    mockit.signal("SIGUSR1", nil)
    assert(got == "SIGUSR1", "handler got " .. tostring(got))
end)

test("each signal delivered after the previous was handled runs the handler again", function()
    local cb = expect(nil, 3)
    mockit.signal("SIGUSR1", cb)
    for i = 1, 3 do
        raise("SIGUSR1")
        local handled = h.loop_until(function() return h.calls(cb) == i end)
        assert(handled, "signal " .. i .. " not handled")
    end
    mockit.signal("SIGUSR1", nil)
end)

test("SIGUSR1 and SIGUSR2 have their own handlers", function()
    local got = {}
    local function record(name) table.insert(got, name) end
    mockit.signal("SIGUSR1", expect(record, 1))
    mockit.signal("SIGUSR2", expect(record, 1))
    raise("SIGUSR2")
    assert(h.loop_until(function() return #got == 1 end), "SIGUSR2 not handled")
    raise("SIGUSR1")
    assert(h.loop_until(function() return #got == 2 end), "SIGUSR1 not handled")
    mockit.signal("SIGUSR1", nil)
    mockit.signal("SIGUSR2", nil)
    assert(got[1] == "SIGUSR2" and got[2] == "SIGUSR1", table.concat(got, ","))
end)

test("a second handler for the same signal replaces the first", function()
    mockit.signal("SIGUSR1", expect(nil, 0))
    mockit.signal("SIGUSR1", expect(nil, 1))
    raise("SIGUSR1")
    await_signal()
    assert(mockit.process_events() == 1)
    mockit.signal("SIGUSR1", nil)
end)

test("signal handlers do not keep run() alive", function()
    mockit.signal("SIGUSR1", expect(nil, 0))
    local t0 = mockit.hrtime()
    assert(mockit.run() == 0)
    mockit.signal("SIGUSR1", nil)
    assert(h.elapsed_ms(t0) < 500, "run() waited " .. h.elapsed_ms(t0) .. " ms")
end)

test("run() dispatches a signal handler, which can stop the loop", function()
    mockit.signal("SIGUSR1", expect(function(name) mockit.stop(9) end, 1))
    local keepalive = track(mockit.getit(60000, expect(nil, 0)))
    raise("SIGUSR1")
    assert(mockit.run() == 9)
    keepalive:destroy()
    mockit.signal("SIGUSR1", nil)
end)

test("a signal arriving during a wait() wakes it up", function()
    local cb = expect(nil, 1)
    mockit.signal("SIGUSR2", cb)
    -- a child shell sends the signal 100 ms from now, while we are blocked in wait()
    os.execute(string.format("(sleep 0.1; kill -USR2 %d) &", PID))
    local t0 = mockit.hrtime()
    local n = mockit.wait(5000)
    while n == 0 and h.elapsed_ms(t0) < 90 do -- a stale wake-up: its own test below
        n = mockit.wait(5000)
    end
    local took = h.elapsed_ms(t0)
    h.loop_until(function() return h.calls(cb) == 1 end, 5000) -- never restore before it came
    mockit.signal("SIGUSR2", nil)
    assert(n > 0, string.format("wait() returned %d after %.0f ms", n, took))
    assert(took < 4000, "woke up after " .. took .. " ms")
end)

test("a handler error goes to on_error like a timer callback's", function()
    local got
    mockit.on_error(expect(function(err) got = err end, 1))
    mockit.signal("SIGUSR1", expect(function() error("from a signal handler") end, 1))
    raise("SIGUSR1")
    assert(h.loop_until(function() return got ~= nil end), "on_error not called")
    mockit.signal("SIGUSR1", nil)
    mockit.on_error(nil)
    assert(tostring(got):find("from a signal handler", 1, true))
end)

test("after a handled signal, wait(ms) with nothing queued waits for the timeout", function()
    mockit.signal("SIGUSR1", expect(nil, 1))
    raise("SIGUSR1")
    await_signal()
    assert(mockit.process_events() == 1)
    mockit.signal("SIGUSR1", nil)
    local t0 = mockit.hrtime()
    local n = mockit.wait(100)
    local took = h.elapsed_ms(t0)
    assert(n == 0 and took >= 99, string.format("wait(100) returned %d after %.1f ms", n, took))
end)

test("sleep(ms) interrupted by a handled signal returns EINTR and the ms left", function()
    local cb = expect(nil, 1)
    mockit.signal("SIGUSR1", cb)
    os.execute(string.format("(sleep 0.1; kill -USR1 %d) &", PID))
    local t0 = mockit.hrtime()
    local err, left = mockit.sleep(3000)
    local took = h.elapsed_ms(t0)
    h.loop_until(function() return h.calls(cb) == 1 end, 5000) -- never restore before it came
    mockit.signal("SIGUSR1", nil)
    assert(err == mockit.EINTR,
        string.format("sleep returned %s, %s after %.0f ms", err, left, took))
    assert(math.type(left) == "integer" and left > 0 and left <= 3000 - 50, "ms left " .. left)
    assert(took < 2900, "slept " .. took .. " ms")
end)

test("sleep(ms, true) resumes after a handled signal and sleeps the whole time", function()
    local cb = expect(nil, 1)
    mockit.signal("SIGUSR1", cb)
    os.execute(string.format("(sleep 0.1; kill -USR1 %d) &", PID))
    local t0 = mockit.hrtime()
    local err, left = mockit.sleep(400, true)
    local took = h.elapsed_ms(t0)
    h.loop_until(function() return h.calls(cb) == 1 end, 5000)
    mockit.signal("SIGUSR1", nil)
    assert(err == 0 and left == 0, string.format("sleep returned %s, %s", err, left))
    assert(took >= 400, "slept only " .. took .. " ms")
end)
