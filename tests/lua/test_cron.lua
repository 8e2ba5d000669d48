-- SPDX-License-Identifier: MIT
-- test_cron.lua: calendar timers (SPEC section 10): mockit.cron and mockit.timer{cron = ...}
-- through daylight saving changes, wall clock steps and suspends, with every missed-run policy,
-- and bad input. On simulated time, so every run time and due time is exact.

local h = require("harness")
local mockit = require("mockit")
local test, checkerr = h.test, h.checkerr

h.virtual_time()

-- ms since the epoch of a UTC time "YYYY-MM-DDTHH:MM[:SS]" (days from civil, as Howard Hinnant
-- gives it): the test must not lean on the process's own time zone.
local function utc(iso)
    local y, m, d, hh, mm, ss = iso:match("^(%d+)-(%d+)-(%d+)T(%d+):(%d+):?(%d*)$")
    y, m, d = tonumber(y), tonumber(m), tonumber(d)
    if m <= 2 then y = y - 1 end
    local era = y // 400
    local yoe = y - era * 400
    local doy = (153 * (m + (m > 2 and -3 or 9)) + 2) // 5 + d - 1
    local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    local days = era * 146097 + doe - 719468
    return ((days * 24 + tonumber(hh)) * 60 + tonumber(mm)) * 60000 + (tonumber(ss) or 0) * 1000
end

local function iso(ms)
    return os.date("!%Y-%m-%dT%H:%M:%S", ms // 1000)
end

local function now() return mockit.mstimestamp() end

-- Runs the loop until simulated time reaches `until_ms` on the wall clock.
local function run_until(until_ms)
    mockit.clock.advance(until_ms - now())
end

-- Makes a cron timer from `options` (fn added) that logs "at=due/missed" for each run, in UTC.
local function logged(options)
    local log = {}
    options.fn = function(t)
        log[#log + 1] = iso(now()) .. "=" .. iso(t:due()) .. "/" .. t:missed()
    end
    return mockit.timer(options), log
end

test("a fixed time in the spring-forward gap runs once, at the first valid time after it", function()
    mockit.clock.set_wall(utc("2026-03-27T12:00"))
    local t, log = logged{ cron = "30 2 * * *", tz = "Europe/Berlin" }
    run_until(utc("2026-03-31T00:00"))
    t:destroy()
    -- 02:30+01:00, then 03:00+02:00 on the day 02:30 does not exist, then 02:30+02:00
    local want = "2026-03-28T01:30:00=2026-03-28T01:30:00/0 2026-03-29T01:00:00=2026-03-29T01:00:00/0 "
        .. "2026-03-30T00:30:00=2026-03-30T00:30:00/0"
    assert(table.concat(log, " ") == want, table.concat(log, " "))
end)

test("in the repeated autumn hour a fixed time runs once, a stepped one through both", function()
    mockit.clock.set_wall(utc("2026-10-24T12:00"))
    local fixed, fixed_log = logged{ cron = "30 2 * * *", tz = "Europe/Berlin" }
    local stepped, stepped_log = logged{ cron = "*/30 * * * *", tz = "Europe/Berlin" }
    run_until(utc("2026-10-25T02:01"))
    fixed:destroy()
    stepped:destroy()
    -- 02:30+02:00 runs; 02:30+01:00, an hour later, does not
    assert(table.concat(fixed_log, " ") == "2026-10-25T00:30:00=2026-10-25T00:30:00/0",
        table.concat(fixed_log, " "))
    -- every half hour from 12:30Z to 02:00Z, local 02:00 and 02:30 twice each
    assert(#stepped_log == 28, #stepped_log .. ": " .. table.concat(stepped_log, " "))
    local tail = table.concat(stepped_log, " ", 24)
    assert(tail == "2026-10-25T00:00:00=2026-10-25T00:00:00/0 2026-10-25T00:30:00=2026-10-25T00:30:00/0 "
        .. "2026-10-25T01:00:00=2026-10-25T01:00:00/0 2026-10-25T01:30:00=2026-10-25T01:30:00/0 "
        .. "2026-10-25T02:00:00=2026-10-25T02:00:00/0", tail)
end)

test("a step of the wall clock by a century makes one catch-up run at once (missed='once')", function()
    mockit.clock.set_wall(utc("2000-01-01T00:00"))
    local t, log = logged{ cron = "* * * * *", tz = "UTC" }
    run_until(utc("2000-01-01T00:02:30"))
    local c0 = os.clock()
    local ok, err = pcall(mockit.clock.set_wall, utc("2100-01-01T00:00:30"))
    if ok then ok, err = pcall(mockit.clock.advance, 31000) end
    t:destroy()
    assert(ok, err)
    assert(os.clock() - c0 < 0.5, "took " .. (os.clock() - c0) .. " s of CPU")
    -- the catch-up carries the latest missed run and counts at most 1,000 of the others
    local want = "2000-01-01T00:01:00=2000-01-01T00:01:00/0 2000-01-01T00:02:00=2000-01-01T00:02:00/0 "
        .. "2100-01-01T00:00:30=2100-01-01T00:00:00/1000 2100-01-01T00:01:00=2100-01-01T00:01:00/0"
    assert(table.concat(log, " ") == want, table.concat(log, " "))
end)

test("missed='skip': runs passed over in a step are counted, not run", function()
    mockit.clock.set_wall(utc("2026-01-01T00:00"))
    local t, log = logged{ cron = "0 * * * *", tz = "UTC", missed = "skip" }
    run_until(utc("2026-01-01T01:30"))
    mockit.clock.set_wall(utc("2026-01-01T05:30"))  -- passes 02:00, 03:00, 04:00, 05:00
    run_until(utc("2026-01-01T06:00"))
    t:destroy()
    assert(table.concat(log, " ") == "2026-01-01T01:00:00=2026-01-01T01:00:00/0 "
        .. "2026-01-01T06:00:00=2026-01-01T06:00:00/4", table.concat(log, " "))
    assert(t:stats().missed == 4 and t:stats().runs == 2)
end)

test("missed='all': a suspend's runs each run at once, in order, with their own due time", function()
    mockit.clock.set_wall(utc("2026-01-01T00:00"))
    local t, log = logged{ cron = "*/10 * * * *", tz = "UTC", missed = "all" }
    run_until(utc("2026-01-01T00:15"))
    mockit.clock.suspend(40 * 60000)  -- to 00:55: passes 00:20 .. 00:50
    run_until(utc("2026-01-01T01:00"))
    t:destroy()
    local want = { "2026-01-01T00:10:00=2026-01-01T00:10:00/0" }
    for m = 20, 50, 10 do want[#want + 1] = "2026-01-01T00:55:00=2026-01-01T00:" .. m .. ":00/0" end
    want[#want + 1] = "2026-01-01T01:00:00=2026-01-01T01:00:00/0"
    assert(table.concat(log, " ") == table.concat(want, " "), table.concat(log, " "))
end)

test("a suspend over runs makes one catch-up run by default; a step back repeats no run", function()
    mockit.clock.set_wall(utc("2026-01-01T00:00"))
    local t, log = logged{ cron = "0 3 * * *", tz = "UTC" }
    mockit.clock.suspend(3 * 86400000 + 4 * 3600000)  -- to Jan 4, 04:00: passes three runs
    mockit.clock.advance(1000)
    assert(#log == 1 and log[1] == "2026-01-04T04:00:00=2026-01-04T03:00:00/3", table.concat(log, " "))
    run_until(utc("2026-01-05T03:30"))
    mockit.clock.set_wall(utc("2026-01-05T01:00"))  -- back before the run that ran
    run_until(utc("2026-01-06T03:30"))
    t:destroy()
    assert(table.concat(log, " ", 2) == "2026-01-05T03:00:00=2026-01-05T03:00:00/0 "
        .. "2026-01-06T03:00:00=2026-01-06T03:00:00/0", table.concat(log, " "))
end)

test("mockit.cron(expr, fn, ...): fn(t, ...); kind 'cron'; reset, unref and destroy", function()
    mockit.clock.set_wall(utc("2026-01-01T00:00"))
    local got = {}
    local t = mockit.cron("*/5 * * * * *", function(t, a, b)  -- every 5 s, with seconds
        got[#got + 1] = string.format("%s:%s,%s,%s", iso(now()), iso(t:due()), a, b)
    end, "x", nil)
    assert(t:kind() == "cron" and t:interval() == nil and t:active(), t:kind())
    assert(tostring(t):find("^mockit.timer %(cron, active%)"), tostring(t))
    assert(mockit.stats().timers == 1)
    mockit.clock.advance(10000)
    assert(table.concat(got, " ") == "2026-01-01T00:00:05:2026-01-01T00:00:05,x,nil "
        .. "2026-01-01T00:00:10:2026-01-01T00:00:10,x,nil", table.concat(got, " "))
    checkerr("bad argument #2 to .*a cron timer has no delay", t.reset, t, 5)
    t:reset()
    assert(t:active())
    t:unref()
    assert(mockit.run() == 0)  -- an unref'd cron timer does not keep run() alive
    t:ref()
    t:destroy()
    assert(not t:active() and mockit.stats().timers == 0)
end)

test("a cron timer keeps run() alive, and its name and stats count its runs", function()
    mockit.clock.set_wall(utc("2026-01-01T00:00"))
    local runs = 0
    local t = mockit.timer{ cron = "0 0 * * *", tz = "Asia/Kolkata", name = "daily", fn = function(t)
        runs = runs + 1
        if runs == 3 then t:destroy() end
    end }
    assert(mockit.run() == 0)
    assert(runs == 3 and iso(now()) == "2026-01-03T18:30:00", iso(now()))
    assert(t:stats().runs == 3 and mockit.metrics().timers.daily.runs == 3)
end)

test("bad schedules and zones each raise a clear error", function()
    local f = function() end
    local function check(arg, pattern, ...)
        local msg = checkerr(pattern, mockit.cron, ...)
        assert(msg:find("bad argument #" .. arg .. " to '[%w.]*cron' %("), msg)
    end
    check(1, "%(expected 5 or 6 fields, got 3%)", "* * *", f)
    check(1, "%(minute: 61 is out of range 0%-59%)", "61 * * * *", f)
    check(1, "%(hour: 24 is out of range 0%-23%)", "0 24 * * *", f)
    check(1, "%(minute: step: %*/0 must be at least 1%)", "*/0 * * * *", f)
    check(1, "%(day%-of%-week: unknown name 'FOO'%)", "0 0 * * FOO", f)
    check(1, "%(the schedule has no run after now%)", "0 0 30 2 *", f)
    check(2, "function expected", "* * * * *", 42)
    check(1, "string expected", nil, f)
    local msg = checkerr("unknown time zone 'Mars/Olympus'", mockit.timer,
        { cron = "0 0 * * *", tz = "Mars/Olympus", fn = f })
    assert(msg:find("bad argument #1 to '[%w.]*timer' %("), msg)
    -- an empty zone is no zone (leaving tz out gives the local one), and a NUL cuts nothing short
    checkerr("%(unknown time zone ''%)", mockit.timer, { cron = "0 0 * * *", tz = "", fn = f })
    checkerr("%(unknown time zone 'UTC\\0x'%)", mockit.timer,
        { cron = "0 0 * * *", tz = "UTC\0x", fn = f })
    check(1, "%(hour: '0\\0' is not a number%)", "0 0\0 * * *", f)
    check(1, "%(day%-of%-week: unknown name '%*\\n'%)", "0 0 * * *\n", f)
    assert(mockit.stats().timers == 0)
end)

test("an expiry left unrun while the last run is paused leaves t:due() at that run's", function()
    mockit.clock.set_wall(utc("2026-01-01T00:00"))
    local log = {}
    local t = mockit.timer{ cron = "* * * * *", tz = "UTC", fn = function(t)
        log[#log + 1] = iso(now()) .. "=" .. iso(t:due()) .. "/" .. t:missed()
        if #log == 1 then mockit.pause(90000) end  -- to 00:02:30: the run of 00:02 is left unrun
    end }
    run_until(utc("2026-01-01T00:02:10"))
    local due = iso(t:due())
    run_until(utc("2026-01-01T00:03:30"))
    t:destroy()
    assert(due == "2026-01-01T00:01:00", "t:due() after the unrun expiry: " .. due)
    assert(table.concat(log, " ") == "2026-01-01T00:01:00=2026-01-01T00:01:00/0 "
        .. "2026-01-01T00:03:00=2026-01-01T00:03:00/1", table.concat(log, " "))
    assert(t:stats().runs == 2 and t:stats().missed == 1)
end)
