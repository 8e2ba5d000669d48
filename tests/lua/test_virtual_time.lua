-- SPDX-License-Identifier: MIT
-- test_virtual_time.lua: mockit.clock, simulated time (SPEC section 8). The state's clock stays
-- virtual once switched, so the cases that need the real clock come first.

local h = require("harness")
local mockit = require("mockit")
local test, checkerr = h.test, h.checkerr

local clock = mockit.clock
local DAY = 86400 * 1000

test("with the real clock: is_virtual() is false, advance/suspend/set_wall refuse", function()
    assert(clock.is_virtual() == false)
    checkerr("the clock is real (call mockit.clock.virtual() first)", function() clock.advance(10) end)
    checkerr("the clock is real", function() clock.suspend(10) end)
    checkerr("the clock is real", function() clock.set_wall(0) end)
end)

test("virtual() rejects a bad start", function()
    checkerr("bad argument #1 to 'virtual'", function() clock.virtual(-1) end)
    checkerr("bad argument #1 to 'virtual'", function() clock.virtual("yesterday") end)
    checkerr("bad argument #1 to 'virtual'", function() clock.virtual(1.5) end)
    assert(clock.is_virtual() == false)
end)

test("virtual(): every clock the script reads starts at 2000-01-01T00:00:00Z", function()
    clock.virtual()
    assert(clock.is_virtual() == true)
    assert(mockit.mstimestamp() == 946684800000, mockit.mstimestamp())
    local secs, ms = mockit.time()
    assert(secs == 946684800 and ms == 0)
    assert(os.time() == 946684800, os.time())
    assert(os.date("!%Y-%m-%dT%H:%M:%S") == "2000-01-01T00:00:00", os.date("!%Y-%m-%dT%H:%M:%S"))
    assert(os.date("!*t").year == 2000)
    assert(os.date("!%Y", nil) == "2000", "os.date(fmt, nil) is not the simulated time")
    -- With a time given, os.time and os.date are the standard ones.
    assert(os.date("!%Y", 0) == "1970")
    assert(os.time({ year = 2020, month = 1, day = 1, hour = 12 }) > 946684800)
end)

test("time stands still while nothing waits, and sleep() moves it at once", function()
    local t0, w0 = mockit.hrtime(), mockit.mstimestamp()
    for _ = 1, 1000 do
        local _ = {}
    end
    assert(mockit.hrtime() == t0 and mockit.mstimestamp() == w0)
    local real = os.clock()
    assert(mockit.sleep(3600 * 1000) == 0)
    assert(mockit.mstimestamp() - w0 == 3600 * 1000)
    assert(mockit.hrtime() - t0 == 3600 * 1000 * 1000000)
    assert(os.clock() - real < 1, "a simulated hour took real time")
end)

test("advance(): every callback runs at its due time, in order, and only those due", function()
    local start = mockit.mstimestamp()
    local seen = {}
    local ticker = mockit.getit(1000, function()
        seen[#seen + 1] = "tick@" .. (mockit.mstimestamp() - start)
    end)
    mockit.oneoff(2500, function() seen[#seen + 1] = "once@" .. (mockit.mstimestamp() - start) end)
    mockit.oneoff(2500, function() seen[#seen + 1] = "twice@" .. (mockit.mstimestamp() - start) end)
    assert(clock.advance(3000) == 5)
    assert(table.concat(seen, " ") == "tick@1000 tick@2000 once@2500 twice@2500 tick@3000",
        table.concat(seen, " "))
    assert(mockit.mstimestamp() - start == 3000)
    assert(clock.advance(999) == 0 and #seen == 5)
    ticker:destroy()
end)

test("a simulated day of a 1 s interval runs 86,400 times in well under a second", function()
    local n = 0
    local t = mockit.getit(1000, function() n = n + 1 end)
    local real = os.clock()
    assert(clock.advance(DAY) == 86400)
    assert(n == 86400)
    assert(os.clock() - real < 5, "took " .. (os.clock() - real) .. " s")
    t:destroy()
end)

test("wait() moves the clock to the next deadline instead of sleeping", function()
    local start = mockit.mstimestamp()
    local fired
    mockit.oneoff(DAY, function() fired = mockit.mstimestamp() - start end)
    assert(mockit.wait() == 1)
    assert(mockit.mstimestamp() - start == DAY)
    assert(mockit.process_events() == 1 and fired == DAY)
    assert(mockit.wait(500) == 0 and mockit.mstimestamp() - start == DAY + 500)
end)

test("suspend(): both clocks jump and the timers find a backlog", function()
    local n = 0
    local t = mockit.getit(100, function() n = n + 1 end)
    local w0 = mockit.mstimestamp()
    clock.suspend(1000)
    assert(mockit.mstimestamp() - w0 == 1000)
    assert(n == 0 and mockit.pending() == 10, mockit.pending())
    assert(mockit.process_events() == 10 and n == 10)
    t:destroy()
end)

test("set_wall(): the wall clock steps alone; timers do not move", function()
    local t0 = mockit.hrtime()
    local fired = 0
    mockit.oneoff(1000, function() fired = fired + 1 end)
    clock.set_wall(4102444800000) -- 2100-01-01
    assert(os.date("!%Y-%m-%d") == "2100-01-01", os.date("!%Y-%m-%d"))
    assert(mockit.mstimestamp() == 4102444800000)
    assert(mockit.hrtime() == t0)
    assert(mockit.pending() == 0 and fired == 0)
    assert(clock.advance(1000) == 1 and fired == 1)
    assert(mockit.mstimestamp() == 4102444801000)
end)

test("bad input once virtual", function()
    checkerr("bad argument #1 to 'advance'", function() clock.advance(-1) end)
    checkerr("bad argument #1 to 'advance'", function() clock.advance("soon") end)
    checkerr("bad argument #1 to 'suspend'", function() clock.suspend(-1) end)
    checkerr("bad argument #1 to 'set_wall'", function() clock.set_wall(-1) end)
    checkerr("bad argument #1 to 'set_wall'", function() clock.set_wall("next year") end)
    checkerr("mockit.clock.virtual: called after the first timer", function() clock.virtual() end)
end)

test("an error in a callback propagates out of advance(), the rest stays due", function()
    local ran = 0
    mockit.oneoff(10, function() error("boom") end)
    mockit.oneoff(10, function() ran = ran + 1 end)
    checkerr("boom", function() clock.advance(20) end)
    assert(mockit.process_events() == 1 and ran == 1)
end)

test("a wait nothing can end is stuck: an error naming what waits, not a hang", function()
    assert(mockit.stats().armed == 0)
    local msg = checkerr("stuck in simulated time: wait() has no timer to wait for and no timeout",
        function() mockit.wait() end)
    assert(not msg:find("SIG"), msg)
    mockit.signal("SIGUSR2", function() end)
    checkerr("no timeout; signal handlers wait for SIGUSR2$", function() mockit.wait() end)
    -- A handler that is a callable table counts too, and so do many handlers at once.
    mockit.signal("SIGUSR1", setmetatable({}, { __call = function() end }))
    for _, name in ipairs({ "SIGHUP", "SIGALRM", "SIGWINCH", "SIGCHLD", "SIGCONT", "SIGURG" }) do
        mockit.signal(name, function() end)
    end
    local msg = checkerr("signal handlers wait for ", function() mockit.wait() end)
    for _, name in ipairs({ "SIGUSR1", "SIGUSR2", "SIGHUP", "SIGALRM", "SIGWINCH", "SIGCHLD", "SIGCONT", "SIGURG" }) do
        assert(msg:find(name, 1, true), name .. " missing from: " .. msg)
        mockit.signal(name, nil)
    end
    -- A timeout, or an unref'd timer, is something to wait for.
    local w0 = mockit.mstimestamp()
    assert(mockit.wait(30) == 0 and mockit.mstimestamp() == w0 + 30)
    local t = mockit.oneoff(40, function() end)
    t:unref()
    assert(mockit.wait() == 1 and mockit.mstimestamp() == w0 + 70)
    assert(mockit.process_events() == 1)
end)

test("a 0 ms one-off armed by a callback waits for the next drain, as on the real clock", function()
    local n = 0
    local function again() n = n + 1; if n < 5 then mockit.oneoff(0, again) end end
    mockit.oneoff(0, again)
    assert(mockit.process_events() == 1 and n == 1 and mockit.pending() == 1)
    local t = mockit.oneoff(0, function() end)
    local resets = 0
    t:reset(0)
    local chain = mockit.oneoff(0, function(self) resets = resets + 1 end)
    assert(mockit.process_events() == 3 and n == 2, "the drain ran what its callbacks armed")
    while mockit.pending() > 0 do mockit.process_events() end
    assert(n == 5 and resets == 1)
    t:destroy()
    chain:destroy()
end)

test("advance() ends at the deadline where it sees a stop, as run() does", function()
    mockit.stop()
    local w0 = mockit.mstimestamp()
    local ran = 0
    local t1 = mockit.oneoff(10, function() ran = ran + 1 end)
    local t2 = mockit.oneoff(20, function() ran = ran + 1 end)
    assert(mockit.clock.advance(30) == 1 and ran == 1 and mockit.mstimestamp() == w0 + 10)
    assert(mockit.run() == 0 and ran == 1) -- takes the stop
    mockit.run()
    assert(ran == 2 and mockit.mstimestamp() == w0 + 20)
    t1:destroy()
    t2:destroy()
end)

test("simulated time ends 73 years after its start: a clear error, the clocks stay sound", function()
    local w0 = mockit.mstimestamp()
    checkerr("simulated time ends 2^61 ns (73 years) after it starts", function()
        for _ = 1, 100 do clock.advance(1 << 40) end
    end)
    checkerr("simulated time ends", function() for _ = 1, 100 do clock.suspend(1 << 40) end end)
    checkerr("simulated time ends", function() for _ = 1, 100 do mockit.sleep(1 << 40) end end)
    checkerr("simulated time ends", function() for _ = 1, 100 do mockit.wait(1 << 40) end end)
    assert(mockit.mstimestamp() > w0, "the wall clock wrapped around")
    assert(mockit.hrtime() > 0, "the monotonic clock wrapped around")
    local fired = false
    mockit.oneoff(0, function() fired = true end)
    assert(mockit.process_events() == 1 and fired)
end)

