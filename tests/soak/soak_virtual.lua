-- SPDX-License-Identifier: MIT
-- soak_virtual.lua: a simulated month of timer churn, in a few seconds.
--
--   mockit-run --virtual-time tests/soak/soak_virtual.lua [DAYS [SEED]]
--
-- tests/soak/run.sh runs it beside soak.lua. For DAYS simulated days (default 30), a spawner
-- arms timers every minute from its callback at random: one-offs of 0..2 min (one in ten up to
-- 6 h) and intervals of 30 s..30 min, every interval and half the one-offs with a reaper, a
-- one-off of up to 2 h that destroys its target. Callbacks also destroy or reset other live
-- timers at random. Three reference intervals (1 min, 1 h, 1 day) run throughout. About once a
-- day the lid closes: suspend() jumps both clocks up to 2 h, and the timers find a backlog.
-- Every ten days the wall clock is stepped somewhere else (set_wall). The first day is driven by
-- clock.advance(), an hour at a time, from the main chunk; the rest by mockit-run's loop, which
-- jumps from deadline to deadline. Simulated time is exact, so the checks are equalities:
--   - every callback runs at its due time to the nanosecond (arming time + k * interval), or,
--     when a suspend() jumped past that, at the time it jumped to, with the rest of the backlog;
--     mstimestamp() inside it is the wall clock that set_wall() last set, moved with it since;
--   - callbacks come in the order their expiries fell due, those due together in the order
--     their timers were armed (or reset);
--   - a one-off runs exactly once per arming, unless destroyed or reset while armed: then never;
--   - an interval, when it stops (destroy, reset) and at the end, has had exactly the calls
--     whose expiries come before the callback running then: none lost, none duplicated, a
--     suspend()'s backlog included;
--   - advance(ms) returns the number of callbacks it ran and leaves the clock ms later, or where
--     a suspend() from a callback took it;
--   - at the end, after a full collection, the Lua heap is within 1 MB of where it was after the
--     first day, and no timer is left.
-- Prints the figures on "soak virtual:" lines and exits 0 when every check held, 1 otherwise.
local mockit = require("mockit")
local clock = mockit.clock

local DAYS = math.tointeger(tonumber(arg[1] or "30")) or 30
assert(DAYS >= 2, "DAYS must be 2 or more: advance() drives the first day, the loop the rest")
local SEED = math.tointeger(tonumber(arg[2] or "")) or 1

local NS = 1000000 -- per ms
local SEC, MIN, HOUR, DAY = 1000, 60 * 1000, 3600 * 1000, 86400 * 1000

math.randomseed(SEED)

local count = {
    created = 0, oneoffs = 0, intervals = 0, reapers = 0,
    destroyed = 0, cancelled = 0, resets = 0,
    calls = 0, oneoff_calls = 0, interval_calls = 0, reaper_calls = 0,
    late = 0, suspends = 0, suspended_ms = 0, wall_steps = 0,
}
local failures, failure_count = {}, 0

local function fail(fmt, ...)
    failure_count = failure_count + 1
    if #failures < 20 then
        failures[#failures + 1] = string.format(fmt, ...)
    end
end

if not clock.is_virtual() then
    print("soak virtual: FAIL: the clock is real (run me under mockit-run --virtual-time)")
    os.exit(1)
end

local start = mockit.hrtime()
local last_jump = start -- where suspend() last took the clock: what was due before runs then
local wall_ms, wall_at = mockit.mstimestamp(), start -- the wall clock, as of hrtime wall_at
local arming = 0 -- counts armings and resets: ties between equal due times go by it
-- The expiry of the callback running now: what "came before" means for the interval checks.
local now_due, now_arming = start, 0
local last_due, last_arming = start, 0 -- the previous callback's, for the order check

-- Every timer armed here has a record: {t, kind, ms, born (hrtime), arming, calls, dead, index}.
-- The live ones are also in `live` (an array, for picking one at random).
local live = {}

local function add_live(rec)
    live[#live + 1] = rec
    rec.index = #live
end

local function remove_live(rec)
    if not rec.index then return end
    local last = live[#live]
    live[rec.index], last.index = last, rec.index
    live[#live] = nil
    rec.index = nil
end

-- The calls an interval must have had by now: its expiries that come before (now_due,
-- now_arming), its own running one included. None, for one armed by a callback of a backlog
-- after the expiry running now fell due.
local function check_calls(rec)
    local period = rec.ms * NS
    local due = math.max(0, (now_due - rec.born) // period)
    if due >= 1 and rec.born + due * period == now_due and rec.arming > now_arming then
        due = due - 1 -- due with the running callback, but armed after it: still to come
    end
    if rec.calls ~= due then
        fail("interval of %d ms: %d calls, %d due %d ms after it was armed", rec.ms, rec.calls,
            due, (now_due - rec.born) // NS)
    end
end

local function destroy(rec)
    if rec.dead then return end
    local armed = rec.t:active()
    rec.t:destroy()
    rec.dead = true
    remove_live(rec)
    count.destroyed = count.destroyed + 1
    if rec.kind == "interval" then
        check_calls(rec)
    elseif armed then
        count.cancelled = count.cancelled + 1
        if rec.calls ~= 0 then fail("a one-off ran and was still armed") end
    elseif rec.calls ~= 1 then
        fail("a one-off no longer armed ran %d times", rec.calls)
    end
end

local function rearmed(rec)
    arming = arming + 1
    rec.born, rec.arming, rec.calls = mockit.hrtime(), arming, 0
end

-- Restarts a live timer, with a new delay one time in two. A one-off (still armed, as it is
-- live) counts as cancelled, and armed anew.
local function reset(rec)
    if rec.kind == "interval" then
        check_calls(rec)
    else
        if not rec.t:active() then fail("a live one-off is not armed") end
        count.cancelled = count.cancelled + 1
        count[rec.kind .. "s"] = count[rec.kind .. "s"] + 1
    end
    if math.random() < 0.5 then
        rec.ms = rec.kind == "interval" and math.random(30 * SEC, 30 * MIN)
            or math.random(0, 2 * MIN)
        rec.t:reset(rec.ms)
    else
        rec.t:reset()
    end
    rearmed(rec)
    count.resets = count.resets + 1
end

-- What every callback starts with: it runs at its due time exactly (or where a suspend() took
-- the clock, if later), after every expiry before it, and the wall clock agrees.
local function called(rec, kind)
    count.calls = count.calls + 1
    count[kind .. "_calls"] = count[kind .. "_calls"] + 1
    if rec.dead then fail("a %s ran after destroy()", rec.kind) end
    rec.calls = rec.calls + 1
    local due = rec.born + rec.calls * rec.ms * NS
    local now = mockit.hrtime()
    if now ~= math.max(due, last_jump) then
        fail("%s of %d ms (call %d) ran at %d ns, due at %d ns (the lid opened at %d ns)",
            rec.kind, rec.ms, rec.calls, now - start, due - start, last_jump - start)
    end
    if due < last_jump then count.late = count.late + 1 end
    if due < last_due or (due == last_due and rec.arming <= last_arming) then
        fail("%s due at %d ns (armed #%d) ran after one due at %d ns (armed #%d)", rec.kind,
            due - start, rec.arming, last_due - start, last_arming)
    end
    last_due, last_arming = due, rec.arming
    now_due, now_arming = due, rec.arming
    local wall = wall_ms + (now - wall_at) // NS
    if mockit.mstimestamp() ~= wall or os.time() ~= wall // 1000 then
        fail("wall clock %d ms (os.time %d), want %d ms", mockit.mstimestamp(), os.time(), wall)
    end
end

local function on_oneoff(rec)
    called(rec, "oneoff")
    if rec.calls > 1 then fail("a one-off ran %d times", rec.calls) end
    remove_live(rec)
    if #live > 0 and math.random() < 0.1 then
        destroy(live[math.random(#live)])
    elseif #live > 0 and math.random() < 0.05 then
        reset(live[math.random(#live)])
    end
end

local function on_interval(rec)
    called(rec, "interval")
end

local function on_reaper(rec)
    called(rec, "reaper")
    remove_live(rec)
    destroy(rec.target)
end

-- Arms a timer of `kind` with a record, and returns the record.
local function arm(kind, ms, target)
    local rec = { kind = kind, ms = ms, calls = 0, target = target }
    if kind == "interval" then
        rec.t = mockit.getit(ms, on_interval, rec)
    else
        rec.t = mockit.oneoff(ms, kind == "reaper" and on_reaper or on_oneoff, rec)
    end
    rearmed(rec)
    add_live(rec)
    count.created = count.created + 1
    count[kind .. "s"] = count[kind .. "s"] + 1
    return rec
end

local function spawn(rec)
    called(rec, "interval")
    for _ = 1, math.random(0, 4) do
        local target
        if math.random() < 0.7 then
            local max = math.random() < 0.1 and 6 * HOUR or 2 * MIN
            target = arm("oneoff", math.random(0, max))
        else
            target = arm("interval", math.random(30 * SEC, 30 * MIN))
        end
        if target.kind == "interval" or math.random() < 0.5 then
            arm("reaper", math.random(0, 2 * HOUR), target)
        end
    end
end

-- Every day and 17 min (a different hour each day): the lid closes for up to 2 h. Nothing runs
-- meanwhile; then the backlog does.
local function lid(rec)
    called(rec, "interval")
    local ms, before = math.random(0, 2 * HOUR), mockit.hrtime()
    clock.suspend(ms)
    last_jump = mockit.hrtime()
    count.suspends, count.suspended_ms = count.suspends + 1, count.suspended_ms + ms
    if last_jump - before ~= ms * NS then
        fail("suspend(%d) moved the clock %d ns", ms, last_jump - before)
    end
end

-- Every ten days: the wall clock steps anywhere from 1970 to 2109; the deadlines do not move.
local function step_wall(rec)
    called(rec, "interval")
    wall_ms, wall_at = math.random(0, (1 << 42) - 1), mockit.hrtime()
    clock.set_wall(wall_ms)
    count.wall_steps = count.wall_steps + 1
    if mockit.mstimestamp() ~= wall_ms or mockit.hrtime() ~= wall_at then
        fail("set_wall(%d): mstimestamp() %d, hrtime moved %d ns", wall_ms, mockit.mstimestamp(),
            mockit.hrtime() - wall_at)
    end
end

-- Timers for the whole run: records like the others, but not in `live`.
local function keep(ms, fn)
    local rec = { kind = "interval", ms = ms, calls = 0 }
    rec.t = mockit.getit(ms, fn, rec)
    rearmed(rec)
    count.created, count.intervals = count.created + 1, count.intervals + 1
    return rec
end
local references = {}
for _, ms in ipairs({ MIN, HOUR, DAY }) do
    references[#references + 1] = keep(ms, on_interval)
end
local background = { keep(MIN, spawn), keep(DAY + 17 * MIN, lid), keep(10 * DAY, step_wall) }

local heap_day1
local function full_gc()
    collectgarbage("collect")
    collectgarbage("collect")
end

local function report()
    print(string.format("soak virtual: seed %d, %d simulated days in %.1f s of CPU", SEED, DAYS,
        os.clock()))
    print(string.format("soak virtual: timers created %d (one-offs %d, intervals %d, reapers %d), "
        .. "destroyed %d, resets %d, one-offs cancelled while armed %d", count.created,
        count.oneoffs, count.intervals, count.reapers, count.destroyed, count.resets,
        count.cancelled))
    print(string.format("soak virtual: callbacks %d (one-offs %d, intervals %d, reapers %d), "
        .. "%d of them late after %d suspends (%.1f h in all), %d wall clock steps", count.calls,
        count.oneoff_calls, count.interval_calls, count.reaper_calls, count.late, count.suspends,
        count.suspended_ms / HOUR, count.wall_steps))
    for _, f in ipairs(failures) do
        print("soak virtual: FAIL: " .. f)
    end
    print(failure_count == 0 and "soak virtual: PASS"
        or string.format("soak virtual: FAIL (%d)", failure_count))
end

-- The end: spawning stops, every timer left is checked and destroyed.
local function finish(rec)
    called(rec, "oneoff")
    for _, r in ipairs(background) do
        destroy(r)
    end
    for _, r in ipairs(references) do
        destroy(r)
    end
    for i = #live, 1, -1 do
        destroy(live[i])
    end
    local oneoffs = count.oneoffs + count.reapers + 1 -- armings, this one's included
    local ran = count.oneoff_calls + count.reaper_calls
    if ran + count.cancelled ~= oneoffs then -- each ran once or was cancelled while armed
        fail("%d one-off armings: %d ran, %d cancelled while armed", oneoffs, ran, count.cancelled)
    end
    local stats = mockit.stats()
    if stats.timers ~= 0 or stats.pending ~= 0 then
        fail("stats(): %d timers, %d pending at the end", stats.timers, stats.pending)
    end
    full_gc()
    local heap = collectgarbage("count")
    if heap - heap_day1 > 1024 then
        fail("the Lua heap grew from %.0f kB after the first day to %.0f kB", heap_day1, heap)
    end
    report()
    mockit.stop(failure_count == 0 and 0 or 1)
end
local the_end = { kind = "oneoff", ms = DAYS * DAY, calls = 0 }
the_end.t = mockit.oneoff(the_end.ms, finish, the_end)
rearmed(the_end)

-- The first day, an hour at a time: advance() runs what falls due and says how many.
for hour = 1, 24 do
    local calls = count.calls
    local ran = clock.advance(HOUR)
    if ran ~= count.calls - calls then
        fail("advance() returned %d, %d callbacks ran", ran, count.calls - calls)
    end
    local want = math.max(start + hour * HOUR * NS, last_jump)
    if mockit.hrtime() ~= want then
        fail("after advance(), hour %d: the clock at %d ns, want %d ns", hour,
            mockit.hrtime() - start, want - start)
    end
end
full_gc()
heap_day1 = collectgarbage("count")
-- The rest: mockit-run's loop, which jumps from one deadline to the next.
