-- SPDX-License-Identifier: MIT
-- test_timer_options.lua: mockit.timer{...} (SPEC section 9): missed-tick policies on a stall,
-- overlap, jitter, names, t:due()/t:missed()/t:stats(), mockit.metrics(), and bad input. On
-- simulated time, so every due time, run time and count is exact.

local h = require("harness")
local mockit = require("mockit")
local test, checkerr = h.test, h.checkerr

h.virtual_time()

local function now() return mockit.mstimestamp() end

-- Moves simulated time on to the next whole multiple of `ms` since the epoch (every timer's grid
-- is on those), running whatever falls due meanwhile.
local function align(ms)
    local r = now() % ms
    if r ~= 0 then mockit.clock.advance(ms - r) end
    return now()
end

-- Runs the loop while `t` is armed (or `pred` says go on).
local function run_while(pred)
    while pred() do
        mockit.wait()
        mockit.process_events()
    end
end

-- Runs a 100 ms timer with the `missed` policy through a stall from 250 ms to 1,250 ms and
-- returns its runs, as "at/due/missed" relative to the start, up to `count` runs.
local function stalled(missed, count)
    local t0 = align(1000)
    local runs = {}
    mockit.oneoff(250, function() mockit.clock.suspend(1000) end)
    local t = mockit.timer{every = 100, missed = missed, fn = function(t)
        runs[#runs + 1] = string.format("%d/%d/%d", now() - t0, t:due() - t0, t:missed())
        if #runs == count then t:destroy() end
    end}
    run_while(function() return t:active() end)
    return table.concat(runs, " ")
end

test("missed='skip': a stall folds into one run due at the last missed tick; the grid stays", function()
    -- SPEC: stalled from 250 to 1,250, it runs once at 1,250 with due 1,200 and missed 9, then at 1,300.
    local got = stalled("skip", 4)
    assert(got == "100/100/0 200/200/0 1250/1200/9 1300/1300/0", got)
end)

test("missed='burst' (the default): every missed expiry runs, in order, with its own due time", function()
    local got = stalled(nil, 13)
    assert(got == "100/100/0 200/200/0 1250/300/0 1250/400/0 1250/500/0 1250/600/0 1250/700/0 "
        .. "1250/800/0 1250/900/0 1250/1000/0 1250/1100/0 1250/1200/0 1300/1300/0", got)
end)

test("missed='delay': one run for the stall, and the grid restarts from it", function()
    local got = stalled("delay", 5)
    assert(got == "100/100/0 200/200/0 1250/1200/9 1350/1350/0 1450/1450/0", got)
end)

test("skip and delay fold a year-long stall of a 1 ms timer into one run, at once", function()
    for _, policy in ipairs({ "skip", "delay" }) do
        local t0 = align(1000)
        local runs, missed = 0, nil
        local t = mockit.timer{every = 1, missed = policy, fn = function(t)
            runs = runs + 1
            if runs == 1 then mockit.clock.suspend(365 * 86400 * 1000) end
            if runs == 2 then missed = t:missed() end
            if runs == 3 then t:destroy() end
        end}
        local c0 = os.clock()
        run_while(function() return t:active() end)
        assert(runs == 3, policy .. ": " .. runs .. " runs")
        assert(missed == 365 * 86400 * 1000 - 1, policy .. ": missed " .. tostring(missed))
        assert(t:stats().missed == missed, policy)
        assert(os.clock() - c0 < 1, policy .. ": took " .. (os.clock() - c0) .. " s of CPU")
        assert(now() - t0 == 365 * 86400 * 1000 + (policy == "skip" and 2 or 2), policy)
    end
end)

test("an every timer falls due on whole multiples of its period since the epoch", function()
    align(60000)
    mockit.clock.advance(12345)
    local at, due
    local t = mockit.timer{every = 60000, fn = function(t) at, due = now(), t:due(); t:destroy() end}
    run_while(function() return t:active() end)
    assert(at % 60000 == 0 and due == at, ("ran at %d due %d"):format(at, due))
end)

test("fn is called as fn(t, args...); an after timer is due its delay after arming", function()
    local t0 = now()
    local got
    local t
    t = mockit.timer{after = 25, args = { "a", nil, 3, n = 3 }, fn = function(self, a, b, c, d)
        got = { self == t, a, b, c, d, self:due() - t0, self:missed(), select("#", a, b, c, d) }
    end}
    assert(t:kind() == "oneoff" and t:interval() == 25)
    assert(t:due() == nil and t:missed() == nil, "due/missed before the first run")
    run_while(function() return t:active() end)
    assert(got[1] and got[2] == "a" and got[3] == nil and got[4] == 3 and got[5] == nil, "args")
    assert(got[6] == 25 and got[7] == 0, ("due %s missed %s"):format(got[6], got[7]))
    assert(t:stats().runs == 1 and t:due() - t0 == 25, "after the run")
end)

test("overlap='skip' (the default): expiries while the last run is paused are missed", function()
    local t0 = align(1000)
    local log = {}
    local t = mockit.timer{every = 100, fn = function(t)
        log[#log + 1] = ("%d/%d"):format(now() - t0, t:missed())
        if #log == 1 then mockit.pause(250) end
        if #log == 2 then t:destroy() end
    end}
    run_while(function() return t:active() end)
    -- the run at 100 pauses until 350: 200 and 300 are left unrun, 400 runs and says so
    assert(table.concat(log, " ") == "100/0 400/2", table.concat(log, " "))
    local s = t:stats()
    assert(s.runs == 2 and s.missed == 2, ("runs %d missed %d"):format(s.runs, s.missed))
end)

test("overlap='allow': a new run starts while the last one is paused", function()
    local t0 = align(1000)
    local starts, ends = {}, 0
    local t = mockit.timer{every = 100, overlap = "allow", fn = function(t)
        starts[#starts + 1] = now() - t0
        if #starts == 3 then t:destroy() end
        mockit.pause(250)
        ends = ends + 1
    end}
    run_while(function() return t:active() or ends < 3 end)
    assert(table.concat(starts, " ") == "100 200 300", table.concat(starts, " "))
    assert(t:stats().missed == 0)
end)

test("jitter delays each run by [0, jitter) ms without moving the grid", function()
    local t0 = align(1000)
    local offsets, distinct = {}, {}
    local t = mockit.timer{every = 1000, jitter = 400, fn = function(t)
        local off = now() - t:due()
        assert(t:due() % 1000 == 0, "due off the grid: " .. t:due())
        assert(off >= 0 and off < 400, "jitter out of range: " .. off)
        offsets[#offsets + 1] = off
        distinct[off] = true
        if #offsets == 50 then t:destroy() end
    end}
    run_while(function() return t:active() end)
    local n = 0
    for _ in pairs(distinct) do n = n + 1 end
    assert(n >= 10, "only " .. n .. " distinct delays in 50 runs")
    assert(now() - t0 >= 50000 and now() - t0 < 50400, "the grid moved: " .. (now() - t0))
end)

test("t:stats() counts runs, missed expiries and lateness against the run's due time", function()
    align(1000)
    mockit.oneoff(250, function() mockit.clock.suspend(1000) end)
    local n = 0
    local t = mockit.timer{every = 100, missed = "skip", fn = function(t)
        n = n + 1
        if n == 4 then t:destroy() end
    end}
    run_while(function() return t:active() end)
    local s = t:stats()
    assert(s.runs == 4 and s.missed == 9, ("runs %d missed %d"):format(s.runs, s.missed))
    -- on simulated time runs are on time, but for the folded one: 50 ms after its due time
    assert(s.late_max_us == 50000, "late_max_us " .. s.late_max_us)
    assert(s.late_p50_us == 0 and s.late_p99_us >= 43750, ("p50 %d p99 %d"):format(s.late_p50_us, s.late_p99_us))
    assert(s.busy_us == 0, "busy " .. s.busy_us)
end)

test("metrics() sums the timers of a name, kept after they are gone, and counts every callback", function()
    local before = mockit.metrics()
    local c0 = before.loop.callbacks
    local a = mockit.timer{after = 5, name = "job", fn = function() end}
    local b = mockit.timer{after = 7, name = "job", fn = function() end}
    mockit.oneoff(9, function() end)
    run_while(function() return mockit.stats().timers > 0 end)
    local m = mockit.metrics()
    assert(m.timers.job.runs == 2, "runs " .. m.timers.job.runs)
    assert(m.loop.callbacks == c0 + 3, ("callbacks %d, before %d"):format(m.loop.callbacks, c0))
    local last = m.loop.histogram[#m.loop.histogram]
    assert(last.count <= m.loop.callbacks and m.loop.histogram[1].below_us == 1)
    assert(m.loop.idle_us > 0 and m.loop.utilization >= 0 and m.loop.utilization <= 1)
    a:reset() -- a gone timer's name stays, with its counts
    run_while(function() return a:active() end)
    assert(mockit.metrics().timers.job.runs == 3)
    assert(b:stats().runs == 1)
end)

test("an after timer of the longest delay takes a jitter too, and runs that much later", function()
    local longest = 1 << 40
    local t0 = now()
    local at, due
    local t = mockit.timer{after = longest, jitter = 1000, fn = function(t) at, due = now(), t:due() end}
    assert(t:active())
    mockit.clock.advance(longest)
    mockit.clock.advance(1000)
    assert(due == t0 + longest, "due " .. tostring(due))
    assert(at >= due and at < due + 1000, ("ran at %s, due %s"):format(at, due))
end)

test("the seed's timers have no due time or stats", function()
    local t = mockit.oneoff(1, function() end)
    run_while(function() return t:active() end)
    assert(t:due() == nil and t:missed() == nil and t:stats() == nil)
end)

test("ref=false: the timer does not keep run() alive", function()
    local t = h.track(mockit.timer{every = 10, ref = false, fn = function() end})
    local t0 = now()
    mockit.oneoff(35, function() end)
    assert(mockit.run() == 0)
    assert(now() - t0 == 35, "run() went on to " .. (now() - t0))
    assert(t:stats().runs >= 3)
    t:destroy()
end)

test("reset() puts an every timer back on its grid; reset(ms) must stay above the jitter", function()
    local t0 = align(1000)
    local dues = {}
    local t = h.track(mockit.timer{every = 100, jitter = 50, fn = function(t)
        dues[#dues + 1] = t:due() - t0
        if #dues == 2 then t:destroy() end
    end})
    mockit.clock.advance(30)
    t:reset()
    checkerr("bad argument #1 to 'reset' (interval must be longer than the timer's jitter)",
        function() t:reset(50) end)
    run_while(function() return t:active() end)
    assert(table.concat(dues, " ") == "100 200", table.concat(dues, " "))
end)

test("a failing named timer's report names it; on_error gets the error value itself", function()
    local seen
    mockit.on_error(function(err) seen = err end)
    local t = mockit.timer{after = 1, name = "sync", fn = function() error({ code = 7 }) end}
    run_while(function() return t:active() end)
    assert(type(seen) == "table" and seen.code == 7, "on_error got " .. tostring(seen))
    mockit.on_error(nil)
    mockit.timer{after = 1, name = "sync", fn = function() error("boom") end}
    local msg = checkerr("boom", function()
        run_while(function() return mockit.stats().timers > 0 end)
    end)
    assert(msg:find("timer 'sync': ", 1, true), msg)
end)

test("timers with options work from inside tasks and coroutines", function()
    local got = {}
    local task = mockit.spawn(function()
        local co = coroutine.wrap(function()
            return mockit.timer{after = 3, fn = function(t) got[#got + 1] = t:missed() end}
        end)
        local t = co()
        mockit.pause(10)
        got[#got + 1] = t:stats().runs
    end)
    run_while(function() return task:status() ~= "done" end)
    assert(got[1] == 0 and got[2] == 1, table.concat(got, ","))
end)

test("bad options each raise a clear error naming the key", function()
    local f = function() end
    local cases = {
        { "(unknown key 'evry')", { evry = 100, fn = f } },
        { "(give one of 'after', 'every' and 'cron', not more)", { after = 1, every = 1, fn = f } },
        { "(give one of 'after', 'every' and 'cron', not more)", { every = 1, cron = "* * * * *", fn = f } },
        { "(give 'after', 'every' or 'cron')", { fn = f } },
        { "('fn' is missing)", { every = 10 } },
        { "('fn' must be a function)", { every = 10, fn = 42 } },
        { "('args' must be a table)", { every = 10, fn = f, args = "x" } },
        { "('missed' must be \"burst\", \"skip\" or \"delay\")", { every = 10, fn = f, missed = "all" } },
        { "('overlap' must be \"skip\" or \"allow\")", { every = 10, fn = f, overlap = true } },
        { "('jitter' must be an integer from 0 to", { every = 10, fn = f, jitter = -1 } },
        { "('jitter' must be an integer from 0 to", { every = 10, fn = f, jitter = 1.5 } },
        { "('jitter' must be shorter than the period ('every'))", { every = 10, fn = f, jitter = 10 } },
        { "('every' must be an integer from 1 to", { every = 0, fn = f } },
        { "('after' must be an integer from 0 to", { after = -5, fn = f } },
        { "('name' must be a string)", { every = 10, fn = f, name = 5 } },
        { "('name' must be 1 to 128 bytes of UTF-8 text", { every = 10, fn = f, name = "" } },
        { "('name' must be 1 to 128 bytes of UTF-8 text", { every = 10, fn = f, name = "a\nb" } },
        { "('name' must be 1 to 128 bytes of UTF-8 text", { every = 10, fn = f, name = "\xff" } },
        { "('name' must be 1 to 128 bytes of UTF-8 text", { every = 10, fn = f, name = ("x"):rep(129) } },
        -- not UTF-8: overlong forms, a surrogate, past U+10FFFF; and a C1 control character
        { "('name' must be 1 to 128 bytes of UTF-8 text", { every = 10, fn = f, name = "\xe0\x80\x80" } },
        { "('name' must be 1 to 128 bytes of UTF-8 text", { every = 10, fn = f, name = "\xf0\x80\x80\x80" } },
        { "('name' must be 1 to 128 bytes of UTF-8 text", { every = 10, fn = f, name = "\xed\xa0\x80" } },
        { "('name' must be 1 to 128 bytes of UTF-8 text", { every = 10, fn = f, name = "\xf4\x90\x80\x80" } },
        { "('name' must be 1 to 128 bytes of UTF-8 text", { every = 10, fn = f, name = "a\xc2\x85b" } },
        { "('missed' applies to 'every' and 'cron' timers only)", { after = 10, fn = f, missed = "skip" } },
        { "('overlap' applies to 'every' and 'cron' timers only)", { after = 10, fn = f, overlap = "allow" } },
        { "('ref' must be a boolean)", { every = 10, fn = f, ref = 1 } },
        { "('cron' must be a string)", { cron = 5, fn = f } },
        { "('tz' must be a string)", { cron = "* * * * *", tz = 1, fn = f } },
        { "('tz' applies to 'cron' timers only)", { every = 10, tz = "UTC", fn = f } },
        { "('missed' must be \"once\", \"skip\" or \"all\" for a cron timer)", { cron = "* * * * *", missed = "burst", fn = f } },
        { "('missed' must be \"burst\", \"skip\" or \"delay\" (for a cron timer", { every = 10, missed = "x", fn = f } },
        { "(unknown key (a number))", { every = 10, fn = f, 42 } },
    }
    -- named 'mockit.timer' when called from a field of the module's table, as here
    local function check(message, ...)
        local msg = checkerr(message, mockit.timer, ...)
        assert(msg:find("bad argument #1 to '[%w.]*timer' %("), msg)
    end
    for _, c in ipairs(cases) do check(c[1], c[2]) end
    check("(table expected, got no value)")
    check("(table expected, got number)", 100)
    assert(mockit.stats().timers == 0)
    -- a name with quotes, backslashes and UTF-8 is fine (escaped in the metrics file)
    local t = mockit.timer{after = 1, name = 'sync "é"\\', fn = f}
    -- the edges of what UTF-8 allows are fine: U+00A0, U+0800, U+D7FF, U+E000, U+10000, U+10FFFF
    for _, name in ipairs({ "\xc2\xa0", "\xe0\xa0\x80", "\xed\x9f\xbf", "\xee\x80\x80", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf" }) do
        mockit.timer{after = 1, name = name, fn = f}:destroy()
    end
    run_while(function() return t:active() end)
    assert(mockit.metrics().timers['sync "é"\\'].runs == 1)
end)

test("a name must be valid UTF-8: no overlong form, surrogate, code point past U+10FFFF or C1 control", function()
    -- Prometheus' parser rejects such a label value, and with it the whole metrics file
    local f = function() end
    for _, bad in ipairs({ "\xc0\xaf", "\xe0\x80\xaf", "\xf0\x80\x80\xaf", "\xed\xa0\x80",
        "\xed\xbf\xbf", "\xf4\x90\x80\x80", "a\xc2\x85b", "\xc2\x9f", "\xe2\x82", "\x80" }) do
        local msg = checkerr("('name' must be 1 to 128 bytes of UTF-8 text", mockit.timer,
            { after = 1, fn = f, name = bad })
        assert(msg:find("bad argument #1 to '[%w.]*timer' %("), msg)
    end
    assert(mockit.stats().timers == 0)
    local good = { "\xc2\xa0", "\xed\x9f\xbf", "\xee\x80\x80", "\xf4\x8f\xbf\xbf", "\xf0\x9f\x98\x80",
        ("é"):rep(64) }
    for _, name in ipairs(good) do
        mockit.timer{after = 1, fn = f, name = name}:destroy()
        assert(mockit.metrics().timers[name], name)
    end
end)

test("a named timer's failure handled by on_error does not name a later, other failure", function()
    mockit.on_error(function() end)
    local t = mockit.timer{after = 1, name = "sync", fn = function() error("first") end}
    run_while(function() return t:active() end)
    mockit.on_error(nil)
    mockit.oneoff(1, function() error("plain") end)
    local msg = checkerr("plain", function()
        run_while(function() return mockit.stats().timers > 0 end)
    end)
    assert(not msg:find("timer 'sync'", 1, true), msg)
end)

test("expiries left unrun while a run is paused count past 2^32 in t:missed()", function()
    -- a 1 ms skip timer, its first run paused through a stall of 2^32 ms: the expiry after the
    -- stall folds all of them, and is left unrun; the run after the pause reports them
    align(1000)
    local missed = {}
    local t = mockit.timer{every = 1, missed = "skip", fn = function(t)
        missed[#missed + 1] = t:missed()
        if #missed == 1 then mockit.pause(10) end
        if #missed == 2 then t:destroy() end
    end}
    mockit.oneoff(3, function() mockit.clock.suspend(1 << 32) end)
    run_while(function() return t:active() end)
    assert(missed[2] == t:stats().missed and missed[2] > 1 << 32,
        ("t:missed() %d, stats %d"):format(missed[2], t:stats().missed))
end)

test("an after timer re-armed while its run is paused runs again (it has no overlap policy)", function()
    local t0 = now()
    local starts = {}
    local t = mockit.timer{after = 100, fn = function(t)
        starts[#starts + 1] = now() - t0
        if #starts == 1 then
            t:reset()
            mockit.pause(500)
        end
    end}
    run_while(function() return t:active() end)
    mockit.clock.advance(500) -- the first run ends
    assert(table.concat(starts, " ") == "100 200", table.concat(starts, " "))
    assert(t:stats().runs == 2 and t:stats().missed == 0)
end)

test("overlap='skip': a paused run whose coroutine the script closed no longer holds runs back", function()
    -- closed while it waits for a signal, the run would otherwise count as going for ever
    local t0 = align(1000)
    local co
    local log = {}
    local t = mockit.timer{every = 100, fn = function(t)
        log[#log + 1] = ("%d/%d"):format(now() - t0, t:missed())
        if #log == 1 then
            co = coroutine.running()
            mockit.await_signal("SIGUSR2")
        end
        if #log == 2 then t:destroy() end
    end}
    mockit.oneoff(250, function() assert(coroutine.close(co)) end)
    mockit.clock.advance(1000)
    -- 200 is left unrun while the run waits; from 300 on the run is gone
    assert(table.concat(log, " ") == "100/0 300/1", table.concat(log, " "))
    assert(not t:active())
end)

test("a timer that fails to be made leaves no name behind", function()
    local args = setmetatable({ n = 2 }, { __index = function() error("no args today") end })
    checkerr("no args today", mockit.timer, { after = 1, name = "never-made", args = args, fn = function() end })
    assert(mockit.metrics().timers["never-made"] == nil, "the name of a timer never made is listed")
    assert(mockit.stats().timers == 0)
end)

test("t:due() keeps the last run's due time when the timer is re-armed after a wall clock step", function()
    local t = mockit.timer{after = 0, fn = function() end}
    run_while(function() return t:active() end)
    local due = t:due()
    mockit.clock.set_wall(now() + 86400 * 1000)
    t:reset(100)
    assert(t:due() == due, ("due %d after the re-arm, %d before"):format(t:due(), due))
    t:destroy()
end)

