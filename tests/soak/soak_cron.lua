-- SPDX-License-Identifier: MIT
-- soak_cron.lua: cron timers (mockit.timer{cron = ...}) through simulated weeks of daylight
-- saving changes, wall clock steps both ways and suspends, in a few seconds.
--
--   mockit-run --virtual-time tests/soak/soak_cron.lua [TIMERS [DAYS [SEED]]]   (default 40 timers, 7 days)
--
-- tests/soak/run.sh runs it beside the other soaks. TIMERS cron timers with random schedules
-- (every minute, quarter hour, half hour, hour, and daily at fixed local times), in UTC or
-- Europe/Berlin, with each missed policy (once, skip, all) and some with jitter. Simulated time
-- runs DAYS days across the last Sunday of March, steps to the week of the last Sunday of October
-- (a step of half a year: folds of more than 1,000 runs), and runs DAYS days there. Every
-- simulated hour or so the wall clock steps forward or back by up to a few hours, or the machine
-- "suspends" for up to six hours; timers are destroyed and replaced at random. The schedules are
-- recomputed here (Berlin's offsets from the EU rule), so the checks are equalities:
--   - every run's t:due() is a run of its schedule, not after now, and later than the timer's
--     last (a step back never repeats a due time);
--   - a run with nothing stepped since the timer's last starts at its due time (plus less than
--     its jitter), unless it is one of the runs "all" makes at once after a step; a skip timer's
--     runs always do; with "all", t:missed() is 0 unless more than 1,000 runs were passed over;
--   - every run of the schedule after a timer's creation is accounted for, once: run, or counted
--     in the t:missed() of the next run (past a fold of 1,000, where counting stops);
--   - t:stats() agrees with the counts kept here;
--   - at the end no timer is left, and the Lua heap is back within 1 MB of where it was after the
--     first simulated day.
-- Prints the figures on "soak cron:" lines and exits 0 when every check held, 1 otherwise.
local mockit = require("mockit")
local soak = dofile((arg[0]:match("^(.*)/") or ".") .. "/soak_lib.lua")

local TIMERS = soak.integer_arg(1, 40)
local DAYS = soak.integer_arg(2, 7)
local SEED = soak.integer_arg(3, 1)
local SEC, MIN, HOUR, DAY = 1000, 60 * 1000, 3600 * 1000, 86400 * 1000

math.randomseed(SEED)
soak.require_virtual_time("soak cron")
local checks = soak.checks("soak cron")
local fail = checks.fail

-- Days since the epoch of a civil date, and back (Howard Hinnant's algorithms).
local function days_from_civil(y, m, d)
    if m <= 2 then y = y - 1 end
    local era = y // 400
    local yoe = y - era * 400
    local doy = (153 * (m + (m > 2 and -3 or 9)) + 2) // 5 + d - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
end

local function year_of(days)
    local z = days + 719468
    local era = z // 146097
    local doe = z - era * 146097
    local yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    local doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    local mp = (5 * doy + 2) // 153
    return yoe + era * 400 + (mp >= 10 and 1 or 0)
end

local function last_sunday(y, m)  -- days since the epoch; 1970-01-01 was a Thursday
    local last = days_from_civil(y, m, 31)
    return last - (last + 4) % 7
end

-- The UTC instant (ms) of local time h:mm on `day` (days since the epoch) in Europe/Berlin, as
-- the schedule runs a fixed time: +01:00 in winter, +02:00 in summer; a time in the spring gap
-- (02:xx on the last Sunday of March) at the first instant after it (01:00Z); one in the repeated
-- autumn hour at its first occurrence (summer time).
local function berlin(day, h, mm)
    local y = year_of(day)
    local spring, autumn = last_sunday(y, 3), last_sunday(y, 10)
    if day == spring and h == 2 then return day * DAY + HOUR end
    local summer = (day > spring or (day == spring and h >= 3)) and (day < autumn or (day == autumn and h < 3))
    return day * DAY + (h - (summer and 2 or 1)) * HOUR + mm * MIN
end

-- The schedules: their expression, zone and first run strictly after `ms`. Minute and hour steps
-- in Berlin run at the same instants as in UTC: its offsets are whole hours, and a stepped or
-- wildcard hour runs in both occurrences of the repeated autumn hour.
local function grid(step)
    return function(ms) return (ms // step + 1) * step end
end
local function daily(h, mm)
    return function(ms)
        for day = ms // DAY - 1, ms // DAY + 2 do
            local at = berlin(day, h, mm)
            if at > ms then return at end
        end
        error("no daily run found")
    end
end
local schedules = {
    { expr = "* * * * *", tz = "UTC", after = grid(MIN) },
    { expr = "* * * * *", tz = "Europe/Berlin", after = grid(MIN) },
    { expr = "*/15 * * * *", tz = "Europe/Berlin", after = grid(15 * MIN) },
    { expr = "*/30 * * * *", tz = "Europe/Berlin", after = grid(30 * MIN) },
    { expr = "0 * * * *", tz = "UTC", after = grid(HOUR) },
    { expr = "30 2 * * *", tz = "Europe/Berlin", after = daily(2, 30) },
    { expr = "0 3 * * *", tz = "Europe/Berlin", after = daily(3, 0) },
    { expr = "@daily", tz = "Europe/Berlin", after = daily(0, 0) },
    { expr = "*/20 * * * * *", tz = "UTC", after = grid(20 * SEC), rare = true },
}
local policies = { "once", "skip", "all" }

local count = { runs = 0, missed = 0, catch_ups = 0, capped = 0, steps = 0, steps_back = 0,
    suspends = 0 }
local per_policy = { once = 0, skip = 0, all = 0 }
local epoch = 0   -- wall clock steps and suspends so far

-- A cron timer with a random schedule and policy; returns its record, for the pool.
local function make()
    local s
    repeat s = schedules[math.random(#schedules)] until not s.rare or math.random(8) == 1
    local rec = {
        s = s,
        missed = policies[math.random(3)],
        jitter = math.random(4) == 1 and math.random(0, 20 * SEC) or 0,
        runs = 0, missed_told = 0, last_due = mockit.mstimestamp() // 1000 * 1000, epoch = epoch,
    }
    rec.timer = mockit.timer{cron = s.expr, tz = s.tz, missed = rec.missed, jitter = rec.jitter,
        fn = function(t)
            local now, due, missed = mockit.mstimestamp(), t:due(), t:missed()
            rec.runs, count.runs = rec.runs + 1, count.runs + 1
            per_policy[rec.missed] = per_policy[rec.missed] + 1
            count.missed = count.missed + missed
            if s.after(due - 1) ~= due then fail("%s (%s): due %d is no run of it", s.expr, s.tz, due) end
            if due > now then fail("%s: a run %d ms early", s.expr, due - now) end
            if due <= rec.last_due then
                fail("%s (%s): due %d after due %d", s.expr, rec.missed, due, rec.last_due)
            end
            local on_time = now - due < math.max(rec.jitter, 1)
            -- with "all", the runs passed over run each at once (their jitter after each other)
            local backlog = rec.missed == "all" and rec.late and now - rec.last_now < math.max(rec.jitter, 1)
            if (rec.epoch == epoch and not backlog or rec.missed == "skip") and not on_time then
                fail("%s (%s): %d ms late, jitter %d, nothing stepped", s.expr, rec.missed, now - due, rec.jitter)
            end
            if not on_time then count.catch_ups = count.catch_ups + 1 end
            if rec.missed == "all" and missed ~= 0 and missed < 1000 then
                fail("%s (all): t:missed() %d", s.expr, missed)
            end
            -- Every run of the schedule since the last run (or the timer's creation) is run or
            -- told missed, once; past a fold of 1,000 (or more, with a skip's unrun ones) the
            -- count stops.
            if missed >= 1000 then
                count.capped = count.capped + 1
            else
                local runs, at = 0, rec.last_due
                while at < due do at, runs = s.after(at), runs + 1 end
                if at ~= due or runs ~= 1 + missed then
                    fail("%s (%s): %d runs from %d to %d, %d accounted for", s.expr, rec.missed,
                        runs, rec.last_due, due, 1 + missed)
                end
            end
            rec.last_due, rec.epoch, rec.last_now, rec.late = due, epoch, now, not on_time
            rec.missed_told = rec.missed_told + missed
            local st = t:stats()
            if st.runs ~= rec.runs then fail("stats().runs %d, counted %d", st.runs, rec.runs) end
            if st.missed ~= rec.missed_told then
                fail("%s (%s): stats().missed %d, told %d", s.expr, rec.missed, st.missed, rec.missed_told)
            end
        end}
    return rec
end

-- The checks when a timer is retired (the pool destroys it).
local function retire(rec)
    local st = rec.timer:stats()
    -- what it counted since its last run (skip's passed-over runs) is told by its next run
    if st.runs ~= rec.runs or st.missed < rec.missed_told then
        fail("%s: stats() runs %d missed %d at the end, counted %d and %d", rec.s.expr, st.runs,
            st.missed, rec.runs, rec.missed_told)
    end
end

-- The driver's step: every simulated hour or so the wall clock steps forward or back, or the
-- machine suspends, and timers are replaced at random.
local pool = soak.pool(TIMERS, make, retire)
local function step()
    local r = math.random(8)
    if r == 1 then
        mockit.clock.suspend(math.random(0, 6 * HOUR))
        epoch, count.suspends = epoch + 1, count.suspends + 1
    elseif r == 2 then
        mockit.clock.set_wall(mockit.mstimestamp() + math.random(0, 6 * HOUR))
        epoch, count.steps = epoch + 1, count.steps + 1
    elseif r == 3 then
        mockit.clock.set_wall(mockit.mstimestamp() - math.random(0, 3 * HOUR))
        epoch, count.steps_back = epoch + 1, count.steps_back + 1
    end
    pool.replace(math.random(0, 2))
end

-- The week of the last Sunday of March 2026 (March 29), then October's (October 25).
mockit.clock.set_wall(days_from_civil(2026, 3, 29) * DAY - (DAYS // 2) * DAY)
pool.fill()
local heap_after_day
checks.drive(function()
    heap_after_day = soak.run_days(DAYS * DAY, step)
    mockit.clock.set_wall(days_from_civil(2026, 10, 25) * DAY - (DAYS // 2) * DAY)
    epoch, count.steps = epoch + 1, count.steps + 1
    heap_after_day = soak.run_days(DAYS * DAY, step, heap_after_day)
    pool.empty()
end)

local heap = soak.heap_kb()
checks.heap_flat(heap_after_day, heap, "the heap grew from %.0f kB after a day to %.0f kB")

print(string.format("soak cron: 2 x %d days, %d timers made, %d runs (once %d, skip %d, all %d), "
    .. "%d told missed, %d late catch-ups, %d folds of 1000+, %d steps forward, %d back, %d suspends, "
    .. "heap %.0f kB (%.0f kB after a day)", DAYS, pool.made, count.runs, per_policy.once,
    per_policy.skip, per_policy.all, count.missed, count.catch_ups, count.capped, count.steps,
    count.steps_back, count.suspends, heap, heap_after_day or 0))
if checks.verdict("%d failures") ~= 0 then os.exit(1) end
