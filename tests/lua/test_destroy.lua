-- SPDX-License-Identifier: MIT
-- test_destroy.lua: t:destroy(): return value, idempotence, queued expiries dropped,
-- destroying from callbacks.
--
-- On simulated time: sleeps leave exact backlogs and cost nothing. That destroy() returns at
-- once, and is fast, is measured on the real clock in test_basics.lua.

local h = require("harness")
local mockit = require("mockit")
local test, expect, track = h.test, h.expect, h.track

h.virtual_time()

test("destroy() returns nil, so t = t:destroy() works", function()
    local t = mockit.getit(1000, expect(nil, 0))
    t = t:destroy()
    assert(t == nil)
end)

test("destroy() twice is harmless", function()
    local t = mockit.oneoff(1000, expect(nil, 0))
    t:destroy()
    assert(t:destroy() == nil)
    assert(t:active() == false)
end)

-- Found by the fuzz harness: a fired one-off whose engine slot a later one-off reused kept
-- counting in pending() after both were destroyed, newest first.
test("destroying fired one-offs that shared a slot leaves nothing pending", function()
    local a = mockit.oneoff(0, expect(nil, 0))
    assert(h.wait_queued(1), "a did not fire")
    local b = mockit.oneoff(0, expect(nil, 0)) -- takes the slot a left when it fired
    assert(h.wait_queued(2), "b did not fire")
    b:destroy()
    a:destroy()
    assert(mockit.pending() == 0, "pending() is " .. mockit.pending())
    assert(mockit.wait(0) == 0)
end)

test("timers taking destroyed timers' places each run their own callback once", function()
    -- Handles are pinned at reusable indices: the newcomers reuse the ones given back.
    local ran, timers = {}, {}
    local function record(name) ran[name] = (ran[name] or 0) + 1 end
    for i = 1, 100 do timers[i] = mockit.oneoff(5, record, "first" .. i) end
    for i = 1, 100, 2 do timers[i]:destroy() end
    for i = 1, 50 do mockit.oneoff(5, record, "second" .. i) end
    local interval = mockit.getit(5, record, "interval")
    h.loop_until(function() return (ran.interval or 0) >= 2 end)
    interval:destroy()
    assert(ran.interval == 2, "the interval ran " .. tostring(ran.interval) .. " times in 10 ms")
    for i = 1, 100 do
        assert(ran["first" .. i] == (i % 2 == 0 and 1 or nil), "first" .. i .. ": " .. tostring(ran["first" .. i]))
    end
    for i = 1, 50 do assert(ran["second" .. i] == 1, "second" .. i .. ": " .. tostring(ran["second" .. i])) end
end)

test("a destroyed one-off never fires", function()
    local t = mockit.oneoff(10, expect(nil, 0))
    t:destroy()
    mockit.sleep(40)
    assert(mockit.wait(0) == 0 and mockit.process_events() == 0)
end)

test("destroying a one-off whose expiry is queued drops the callback", function()
    local t = mockit.oneoff(1, expect(nil, 0))
    assert(mockit.wait(2000) == 1)
    assert(mockit.pending() == 1)
    t:destroy()
    assert(mockit.pending() == 0, "pending() " .. mockit.pending() .. " after destroy")
    assert(mockit.inqueue() <= 1, "inqueue() " .. mockit.inqueue())
    assert(t:active() == false)
    assert(mockit.process_events() == 0, "a destroyed timer's callback ran")
    assert(mockit.pending() == 0 and mockit.inqueue() == 0, "queue not empty after processing")
end)

test("destroying an interval with a queued backlog drops all of it", function()
    local t = track(mockit.getit(2, expect(nil, 0)))
    mockit.sleep(30)
    assert(mockit.pending() == 15, "backlog of " .. mockit.pending() .. " after 30 ms")
    t:destroy()
    assert(mockit.pending() == 0, "pending() " .. mockit.pending() .. " after destroy")
    assert(mockit.process_events() == 0)
    assert(mockit.inqueue() == 0)
end)

test("an interval destroying itself in its first call of a backlog runs once", function()
    local t
    t = mockit.getit(2, expect(function() t:destroy() end, 1))
    track(t)
    mockit.sleep(30)
    assert(mockit.pending() == 15, "backlog of " .. mockit.pending())
    assert(mockit.process_events() == 1, "the rest of the backlog ran after destroy()")
end)

test("a callback destroying another timer whose expiry is queued prevents its call", function()
    local victim = track(mockit.oneoff(5, expect(nil, 0)))
    mockit.oneoff(1, expect(function() victim:destroy() end, 1))
    assert(h.wait_queued(2), "both expiries not queued")
    assert(mockit.process_events() == 1, "the destroyed timer's callback ran")
    assert(mockit.pending() == 0)
end)

test("a callback destroying another armed interval stops it", function()
    local victim = track(mockit.getit(5, expect(nil, 0)))
    local killer = mockit.oneoff(1, expect(function() victim:destroy() end, 1))
    -- the killer's 1 ms expiry comes first; if both are queued the victim's must be dropped
    h.loop_until(function() return not killer:active() end)
    mockit.sleep(30)
    assert(mockit.process_events() == 0)
end)

test("destroy() inside the timer's own callback, then again outside", function()
    local t
    t = mockit.oneoff(1, expect(function() assert(t:destroy() == nil) end, 1))
    h.loop_until(function() return not t:active() end)
    assert(t:destroy() == nil)
end)

test("destroying a fired one-off is harmless", function()
    local cb = expect(nil, 1)
    local t = mockit.oneoff(1, cb)
    h.loop_until(function() return h.calls(cb) == 1 end)
    t:destroy()
    t:destroy()
end)

test("timers armed and destroyed from inside callbacks: no lost or extra calls", function()
    local runs = 0
    local function step()
        runs = runs + 1
        if runs < 100 then
            mockit.oneoff(0, step) -- the next step
            mockit.oneoff(0, expect(nil, 0)):destroy() -- armed and dropped at once
            local doomed = mockit.oneoff(20, expect(nil, 0))
            mockit.oneoff(0, function() doomed:destroy() end) -- due first, kills doomed
        end
    end
    mockit.oneoff(0, step)
    local function done_and_clean() return runs == 100 and mockit.stats().timers == 0 end
    local done = h.loop_until(done_and_clean, 5000)
    assert(done, string.format("runs %d, timers %d", runs, mockit.stats().timers))
    mockit.sleep(30)
    assert(mockit.process_events() == 0, "a call after everything was destroyed")
    assert(runs == 100, "step ran " .. runs .. " times")
end)
