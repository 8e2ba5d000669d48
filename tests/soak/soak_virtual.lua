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
local here = arg[0]:match("^(.*)/") or "."
local soak = dofile(here .. "/soak_lib.lua")
local churn = dofile(here .. "/churn.lua")
local clock = mockit.clock

local DAYS = soak.integer_arg(1, 30)
assert(DAYS >= 2, "DAYS must be 2 or more: advance() drives the first day, the loop the rest")
local SEED = soak.integer_arg(2, 1)

local NS = 1000000 -- per ms
local SEC, MIN, HOUR, DAY = 1000, 60 * 1000, 3600 * 1000, 86400 * 1000

math.randomseed(SEED)

local checks = soak.checks("soak virtual")
local fail = checks.fail
soak.require_virtual_time("soak virtual")

local start = mockit.hrtime()
local last_jump = start -- where suspend() last took the clock: what was due before runs then
local wall_ms, wall_at = mockit.mstimestamp(), start -- the wall clock, as of hrtime wall_at
local arming = 0 -- counts armings and resets: ties between equal due times go by it
-- The expiry of the callback running now: what "came before" means for the interval checks.
local now_due, now_arming = start, 0
local last_due, last_arming = start, 0 -- the previous callback's, for the order check

-- The churn (churn.lua), with this clock's checks as its hooks, defined below. Every timer
-- armed here has a record: {t, kind, ms, born (hrtime), arming, calls, dead, index}.
local hooks = {}
local c = churn.new(fail, hooks)
local live, count, destroy = c.live, c.count, c.destroy
count.late, count.suspends, count.suspended_ms, count.wall_steps = 0, 0, 0, 0

-- The calls an interval must have had by now: its expiries that come before (now_due,
-- now_arming), its own running one included. None, for one armed by a callback of a backlog
-- after the expiry running now fell due.
function hooks.stopped(rec)
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

-- An arming or a reset: born now, with the next arming number, and no calls yet.
function hooks.stamp(rec)
    arming = arming + 1
    rec.born, rec.arming, rec.calls = mockit.hrtime(), arming, 0
end

-- Restarts a live timer, with a new delay one time in two. A one-off (still armed, as it is
-- live) counts as cancelled, and armed anew.
function hooks.reset(rec)
    if rec.kind == "interval" then
        hooks.stopped(rec)
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
    hooks.stamp(rec)
    count.resets = count.resets + 1
end

-- Every callback runs at its due time exactly (or where a suspend() took the clock, if later),
-- after every expiry before it, and the wall clock agrees.
function hooks.called(rec)
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

-- The spawner, every simulated minute: one-offs of 0..2 min (one in ten up to 6 h), intervals of
-- 30 s..30 min, reapers of up to 2 h.
local delays = {
    oneoff = function() return math.random(0, math.random() < 0.1 and 6 * HOUR or 2 * MIN) end,
    interval = function() return math.random(30 * SEC, 30 * MIN) end,
    reaper = function() return math.random(0, 2 * HOUR) end,
}
local function spawn(rec)
    c.called(rec, "interval")
    c.spawn(delays)
end

-- Every day and 17 min (a different hour each day): the lid closes for up to 2 h. Nothing runs
-- meanwhile; then the backlog does.
local function lid(rec)
    c.called(rec, "interval")
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
    c.called(rec, "interval")
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
    hooks.stamp(rec)
    count.created, count.intervals = count.created + 1, count.intervals + 1
    return rec
end
local references = {}
for _, ms in ipairs({ MIN, HOUR, DAY }) do
    references[#references + 1] = keep(ms, c.on_interval)
end
local background = { keep(MIN, spawn), keep(DAY + 17 * MIN, lid), keep(10 * DAY, step_wall) }

local heap_day1

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
end

-- The end: spawning stops, every timer left is checked and destroyed.
local function finish(rec)
    c.called(rec, "oneoff")
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
    checks.no_timer_left()
    checks.heap_flat(heap_day1, soak.heap_kb(),
        "the Lua heap grew from %.0f kB after the first day to %.0f kB")
    report()
    mockit.stop(checks.verdict())
end
local the_end = { kind = "oneoff", ms = DAYS * DAY, calls = 0 }
the_end.t = mockit.oneoff(the_end.ms, finish, the_end)
hooks.stamp(the_end)

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
heap_day1 = soak.heap_kb()
-- The rest: mockit-run's loop, which jumps from one deadline to the next.
