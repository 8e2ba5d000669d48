-- SPDX-License-Identifier: MIT
-- soak_options.lua: timers with options (mockit.timer) through a simulated week of stalls, in a
-- few seconds.
--
--   mockit-run --virtual-time tests/soak/soak_options.lua [TIMERS [DAYS [SEED]]]   (default 200 timers, 7 days)
--
-- tests/soak/run.sh runs it beside the other soaks. TIMERS timers (default 200) with random
-- periods (30 s .. 1 h), missed policies, overlap, jitter and names; some callbacks pause longer
-- than their period. Every simulated hour or so the machine "suspends" for up to a day
-- (mockit.clock.suspend), and timers are destroyed and replaced at random. Simulated time is
-- exact, so the checks are equalities and bounds:
--   - a run never starts before its due time, nor later than the jitter allows while nothing
--     stalled; after a stall, a skip or delay run starts less than a period after its due time;
--   - skip and burst stay on the grid (due times are multiples of the period since the epoch),
--     and a skip timer accounts for every grid point: its runs plus what they say they missed
--     add up to the grid points from its first due time to its last;
--   - with overlap="skip" no two runs of a timer are ever in progress at once;
--   - t:stats() and mockit.metrics() agree with the counts kept here, per timer and per name;
--   - at the end no timer is left, and the Lua heap is back within 1 MB of where it was after the
--     first simulated day.
-- Prints the figures on "soak options:" lines and exits 0 when every check held, 1 otherwise.
local mockit = require("mockit")
local soak = dofile((arg[0]:match("^(.*)/") or ".") .. "/soak_lib.lua")

local TIMERS = soak.integer_arg(1, 200)
local DAYS = soak.integer_arg(2, 7)
local SEED = soak.integer_arg(3, 1)
local SEC, HOUR, DAY = 1000, 3600 * 1000, 86400 * 1000

math.randomseed(SEED)
soak.require_virtual_time("soak options")
local checks = soak.checks("soak options")
local fail = checks.fail

local count = { runs = 0, folded = 0, stalls = 0, paused_runs = 0 }
local per_name = {} -- name -> runs counted here
local stalled_since = nil -- the end of the last stall: runs due before it may come late
local policies = { "burst", "skip", "delay" }
local names = { "sync", "report", "cleanup", "poll", nil }

-- A timer with random options; returns its record, for the pool.
local function make()
    local period = ({ 30 * SEC, 60 * SEC, 5 * 60 * SEC, HOUR })[math.random(4)]
    local rec = {
        period = period,
        missed = policies[math.random(3)],
        overlap = math.random(4) == 1 and "allow" or "skip",
        jitter = math.random(3) == 1 and math.random(0, period // 2) or 0,
        name = names[math.random(5)],
        runs = 0, accounted = 0, first_due = nil, last_due = nil, running = 0,
        pauses = math.random(6) == 1,
    }
    rec.timer = mockit.timer{every = period, missed = rec.missed, overlap = rec.overlap,
        jitter = rec.jitter, name = rec.name, fn = function(t)
            local now, due, missed = mockit.mstimestamp(), t:due(), t:missed()
            rec.runs, count.runs = rec.runs + 1, count.runs + 1
            count.folded = count.folded + missed
            if rec.name then per_name[rec.name] = (per_name[rec.name] or 0) + 1 end
            if now < due then fail("a %s run %d ms early", rec.missed, due - now) end
            local stalled = stalled_since and due < stalled_since
            if not stalled and now - due >= math.max(rec.jitter, 1) then
                fail("a %s run %d ms late, jitter %d, no stall", rec.missed, now - due, rec.jitter)
            end
            if rec.missed ~= "burst" and now - due >= math.max(rec.period, rec.jitter + 1) then
                fail("a %s run %d ms after its due time, period %d", rec.missed, now - due, rec.period)
            end
            if rec.missed ~= "delay" and due % rec.period ~= 0 then
                fail("a %s due time %d off its %d ms grid", rec.missed, due, rec.period)
            end
            if rec.missed == "skip" then
                rec.first_due = rec.first_due or due - missed * rec.period -- what it folds came before
                rec.last_due = due
                rec.accounted = rec.accounted + 1 + missed
            end
            if t:stats().runs ~= rec.runs then fail("stats().runs %d, counted %d", t:stats().runs, rec.runs) end
            rec.running = rec.running + 1
            if rec.overlap == "skip" and rec.running > 1 then fail("two runs of a timer with overlap='skip'") end
            if rec.pauses and math.random(2) == 1 then
                count.paused_runs = count.paused_runs + 1
                mockit.pause(math.random(0, 3 * rec.period))
            end
            rec.running = rec.running - 1
        end}
    return rec
end

-- The checks when a timer is retired (the pool destroys it).
local function retire(rec)
    -- a skip timer's runs and misses cover every grid point it ran over (the overlap-skipped
    -- expiries of its last paused run may still be pending: they count in the next run)
    if rec.missed == "skip" and rec.first_due and rec.overlap == "allow" then
        local points = (rec.last_due - rec.first_due) // rec.period + 1
        if points ~= rec.accounted then
            fail("a skip timer accounted for %d of %d grid points", rec.accounted, points)
        end
    end
end

local pool = soak.pool(TIMERS, make, retire)
pool.fill()

-- The driver: the machine suspends now and then, timers are replaced at random.
local heap_after_day
checks.drive(function()
    heap_after_day = soak.run_days(DAYS * DAY, function()
        if math.random(3) == 1 then
            mockit.clock.suspend(math.random(0, DAY))
            stalled_since = mockit.mstimestamp()
            count.stalls = count.stalls + 1
        end
        pool.replace(math.random(0, 5))
    end)
    pool.empty()
end)

local m = mockit.metrics()
for name, runs in pairs(per_name) do
    if not m.timers[name] or m.timers[name].runs ~= runs then
        fail("metrics().timers[%q].runs %s, counted %d", name, m.timers[name] and m.timers[name].runs, runs)
    end
end
local heap = soak.heap_kb()
checks.heap_flat(heap_after_day, heap, "the heap grew from %.0f kB after a day to %.0f kB")

print(string.format("soak options: %d days, %d timers made, %d runs, %d expiries folded, %d stalls, "
    .. "%d paused runs, loop callbacks %d, heap %.0f kB", DAYS, pool.made, count.runs, count.folded,
    count.stalls, count.paused_runs, m.loop.callbacks, heap))
if checks.verdict("%d failures") ~= 0 then os.exit(1) end
