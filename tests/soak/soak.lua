-- SPDX-License-Identifier: MIT
-- soak.lua: mockit under sustained load, for minutes by hand or 30 s in CI.
--
--   mockit-run tests/soak/soak.lua [SECONDS [SEED [READY_FILE]]]
--
-- tests/soak/run.sh runs it and sends it a storm of SIGUSR1 and SIGHUP meanwhile. For SECONDS,
-- a spawner arms timers from its callback at random: one-offs of 0..40 ms and intervals of
-- 1..20 ms, every interval and half the one-offs with a reaper, a one-off of 0..100 ms that
-- destroys its target. Callbacks also destroy or reset other live timers at random, so timers
-- die armed, fired, queued and mid-backlog. Three reference intervals run throughout. Then
-- spawning stops, the one-offs left fire, and the counters are checked:
--   - a one-off runs exactly once, unless it was destroyed while still armed: then never (so
--     one-offs armed = one-off calls + one-offs destroyed armed, reapers included);
--   - no callback runs after its timer was destroyed;
--   - an interval's k-th call comes no earlier than k intervals after it was armed (none
--     duplicated), and when it is destroyed it has had every call due until LAG_MS before
--     (none lost);
--   - memory stays flat after the warm-up (the first third of the run, at most 30 s): at the
--     end, after a full collection, RSS (VmRSS) is within 10% (or 4 MB) of the same measure
--     after the warm-up, and the Lua heap within 1 MB. (The allocator keeps the pages of the
--     heap's peak, garbage included, so RSS may climb while the warm-up finds that peak.)
-- Prints the figures on "soak:" lines (run.sh reads the signal counts from them) and exits 0
-- when every check held, 1 otherwise.
local mockit = require("mockit")
local here = arg[0]:match("^(.*)/") or "."
local soak = dofile(here .. "/soak_lib.lua")
local churn = dofile(here .. "/churn.lua")

local SECONDS = tonumber(arg[1] or "30") -- not an integer_arg: fractions of a second will do
local SEED = soak.integer_arg(2, os.time())
local READY_FILE = arg[3]
local LAG_MS = 250 -- how far behind the loop may fall on a loaded machine before a call is "lost"
local WARMUP_MS = math.min(30000, math.floor(SECONDS * 1000 / 3))
local FINISH_MS = 1000 -- after the run: time for the last one-offs (all under 100 ms) to fire

math.randomseed(SEED)

local handled = { SIGUSR1 = 0, SIGHUP = 0 }
local worst_late_ms = 0 -- the oldest expiry an interval had not run when it stopped
local checks = soak.checks("soak")
local fail = checks.fail

local function now_ms()
    return mockit.hrtime() / 1e6
end

-- VmRSS of this process in kB.
local function rss_kb()
    local f = assert(io.open("/proc/self/status"))
    local kb
    for line in f:lines() do
        kb = kb or tonumber(line:match("^VmRSS:%s*(%d+)"))
    end
    f:close()
    assert(kb, "no VmRSS in /proc/self/status")
    return kb
end

-- The churn (churn.lua), with this clock's checks as its hooks, defined below. Every timer
-- armed here has a record: {t, kind, ms, born (ms), calls, dead, index}. The live ones are in
-- `live`, which the checks at the end expect to be empty.
local hooks = {}
local c = churn.new(fail, hooks)
local live, count, destroy = c.live, c.count, c.destroy

-- Checks an interval's call count against its schedule when it stops (destroy or reset): no
-- more calls than expiries so far, and no expiry missing that was due more than LAG_MS ago
-- (the ones due since may still be on their way: destroy() discards them, as it should).
function hooks.stopped(rec)
    local elapsed = now_ms() - rec.born
    local due = math.floor(elapsed / rec.ms)
    if rec.calls > due then
        fail("interval of %d ms: %d calls in %.1f ms", rec.ms, rec.calls, elapsed)
    elseif rec.calls < due then
        local late = elapsed - (rec.calls + 1) * rec.ms -- since the first missing one was due
        worst_late_ms = math.max(worst_late_ms, late)
        if late > LAG_MS then
            fail("interval of %d ms: %d calls in %.1f ms, %d due: lost calls", rec.ms, rec.calls,
                elapsed, due)
        end
    end
end

-- Restarts a live interval (and leaves a one-off be).
function hooks.reset(rec)
    if rec.dead or rec.kind ~= "interval" then return end
    hooks.stopped(rec)
    rec.born, rec.calls = now_ms(), 0
    rec.t:reset()
    count.resets = count.resets + 1
end

-- Armed now (read just before arming: the engine's start is no earlier).
function hooks.stamp(rec)
    rec.born = now_ms()
end

-- A one-off runs no earlier than its delay, an interval's k-th call no earlier than k intervals.
function hooks.called(rec, kind)
    local elapsed = now_ms() - rec.born
    if kind == "oneoff" and elapsed < rec.ms then
        fail("a one-off of %d ms ran early", rec.ms)
    elseif kind == "interval" and rec.calls * rec.ms > elapsed then
        fail("interval of %d ms: call %d after %.2f ms", rec.ms, rec.calls, elapsed)
    end
end

-- The spawner, every 2 ms: one-offs of 0..40 ms, intervals of 1..20 ms, reapers of 0..100 ms.
local delays = {
    oneoff = function() return math.random(0, 40) end,
    interval = function() return math.random(1, 20) end,
    reaper = function() return math.random(0, 100) end,
}
local function spawn()
    c.spawn(delays)
end

-- Signal handlers: they run from the loop like callbacks; run.sh compares the counts with
-- what it sent.
for name in pairs(handled) do
    mockit.signal(name, function(got)
        if got ~= name then fail("the %s handler got %s", name, tostring(got)) end
        handled[name] = handled[name] + 1
    end)
end

local start = now_ms()
local references = {}
for _, ms in ipairs({ 7, 25, 100 }) do
    references[#references + 1] = { kind = "interval", ms = ms, calls = 0, born = now_ms() }
    references[#references].t = mockit.getit(ms, c.on_interval, references[#references])
end
local spawner = mockit.getit(2, spawn)

local rss = {}
local sampler = mockit.getit(1000, function()
    rss.max = math.max(rss.max or 0, rss_kb())
end)
mockit.oneoff(WARMUP_MS, function()
    rss.lua_warm = soak.heap_kb()
    rss.warm = rss_kb()
end)

-- Prints the figures (checks.verdict() prints the failures).
local function report()
    local took = (now_ms() - start) / 1000
    print(string.format("soak: seed %d, %.1f s", SEED, took))
    print(string.format("soak: timers created %d (one-offs %d, intervals %d, reapers %d), "
        .. "destroyed %d (%d while armed), resets %d", count.created, count.oneoffs,
        count.intervals, count.reapers, count.destroyed, count.cancelled, count.resets))
    print(string.format("soak: callbacks %d (one-offs %d, intervals %d, reapers %d), "
        .. "signal handlers %d", count.calls, count.oneoff_calls, count.interval_calls,
        count.reaper_calls, handled.SIGUSR1 + handled.SIGHUP))
    print(string.format("soak: signals handled SIGUSR1 %d SIGHUP %d", handled.SIGUSR1,
        handled.SIGHUP))
    print(string.format("soak: oldest expiry not yet run when an interval stopped: %.1f ms "
        .. "(limit %d)", worst_late_ms, LAG_MS))
    print(string.format("soak: rss after warm-up %d kB, at the end %d kB (%+.1f%%), max %d kB",
        rss.warm, rss.final, (rss.final - rss.warm) * 100 / rss.warm, rss.max or rss.final))
    print(string.format("soak: Lua heap after a full collection: %.0f kB after warm-up, %.0f kB "
        .. "at the end", rss.lua_warm, rss.lua_final))
end

local function finish()
    if #live > 0 then fail("%d timer(s) armed %d ms after the run ended", #live, FINISH_MS) end
    local oneoffs = count.oneoffs + count.reapers
    local ran = count.oneoff_calls + count.reaper_calls
    if ran + count.cancelled ~= oneoffs then -- each ran once or was destroyed armed
        fail("%d one-offs: %d ran, %d destroyed while armed", oneoffs, ran, count.cancelled)
    end
    for _, rec in ipairs(references) do
        destroy(rec)
    end
    rss.lua_final = soak.heap_kb()
    rss.final = rss_kb()
    if not rss.warm then
        fail("the run ended before the warm-up")
        rss.warm, rss.lua_warm = rss.final, rss.lua_final
    end
    checks.heap_flat(rss.lua_warm, rss.lua_final,
        "the Lua heap grew from %.0f kB to %.0f kB after the warm-up")
    if rss.final - rss.warm > math.max(rss.warm * 0.10, 4096) then
        fail("RSS grew from %d kB to %d kB after the warm-up", rss.warm, rss.final)
    end
    checks.no_timer_left()
    report()
    mockit.stop(checks.verdict())
end

mockit.oneoff(math.floor(SECONDS * 1000), function()
    spawner:destroy()
    sampler:destroy()
    for i = #live, 1, -1 do -- intervals stop here; one-offs and reapers fire out
        if live[i].kind == "interval" then destroy(live[i]) end
    end
    mockit.oneoff(FINISH_MS, finish)
end)

if READY_FILE then -- the handlers are in place: run.sh may start sending
    assert(io.open(READY_FILE, "w")):close()
end
