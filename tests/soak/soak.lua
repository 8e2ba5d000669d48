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

local SECONDS = tonumber(arg[1] or "30")
local SEED = math.tointeger(tonumber(arg[2] or "")) or os.time()
local READY_FILE = arg[3]
local LAG_MS = 250 -- how far behind the loop may fall on a loaded machine before a call is "lost"
local WARMUP_MS = math.min(30000, math.floor(SECONDS * 1000 / 3))
local FINISH_MS = 1000 -- after the run: time for the last one-offs (all under 100 ms) to fire

math.randomseed(SEED)

local count = {
    created = 0, oneoffs = 0, intervals = 0, reapers = 0,
    destroyed = 0, destroyed_armed = 0, resets = 0,
    calls = 0, oneoff_calls = 0, interval_calls = 0, reaper_calls = 0,
}
local handled = { SIGUSR1 = 0, SIGHUP = 0 }
local worst_late_ms = 0 -- the oldest expiry an interval had not run when it stopped
local failures, failure_count = {}, 0

local function fail(fmt, ...)
    failure_count = failure_count + 1
    if #failures < 20 then
        failures[#failures + 1] = string.format(fmt, ...)
    end
end

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

-- Every timer armed here has a record: {t, kind, ms, born (ms), calls, dead, index}. The live
-- ones are also in `live` (an array, for picking one at random), which the checks at the end
-- expect to be empty.
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

-- Checks an interval's call count against its schedule when it stops (destroy or reset): no
-- more calls than expiries so far, and no expiry missing that was due more than LAG_MS ago
-- (the ones due since may still be on their way: destroy() discards them, as it should).
local function check_schedule(rec)
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

local function destroy(rec)
    if rec.dead then return end
    local armed = rec.t:active()
    rec.t:destroy()
    rec.dead = true
    remove_live(rec)
    count.destroyed = count.destroyed + 1
    if rec.kind == "interval" then
        check_schedule(rec)
    elseif armed then
        count.destroyed_armed = count.destroyed_armed + 1
        if rec.calls ~= 0 then fail("a one-off ran and was still armed") end
    elseif rec.calls ~= 1 then
        fail("a one-off no longer armed ran %d times", rec.calls)
    end
end

local function reset(rec)
    if rec.dead or rec.kind ~= "interval" then return end
    check_schedule(rec)
    rec.born, rec.calls = now_ms(), 0
    rec.t:reset()
    count.resets = count.resets + 1
end

-- The bookkeeping every timer callback starts with.
local function called(rec, kind)
    count.calls = count.calls + 1
    count[kind .. "_calls"] = count[kind .. "_calls"] + 1
    if rec.dead then fail("a %s ran after destroy()", rec.kind) end
    rec.calls = rec.calls + 1
end

local function on_oneoff(rec)
    called(rec, "oneoff")
    if rec.calls > 1 then fail("a one-off ran %d times", rec.calls) end
    if now_ms() - rec.born < rec.ms then fail("a one-off of %d ms ran early", rec.ms) end
    remove_live(rec)
    if #live > 0 and math.random() < 0.1 then
        destroy(live[math.random(#live)])
    elseif #live > 0 and math.random() < 0.05 then
        reset(live[math.random(#live)])
    end
end

local function on_interval(rec)
    called(rec, "interval")
    local elapsed = now_ms() - rec.born
    if rec.calls * rec.ms > elapsed then
        fail("interval of %d ms: call %d after %.2f ms", rec.ms, rec.calls, elapsed)
    end
end

local function on_reaper(rec)
    called(rec, "reaper")
    remove_live(rec)
    destroy(rec.target)
end

-- Arms a timer of `kind` with a record, and returns the record.
local function arm(kind, ms, target)
    local rec = { kind = kind, ms = ms, calls = 0, target = target }
    rec.born = now_ms() -- before arming: the engine's start is no earlier
    if kind == "interval" then
        rec.t = mockit.getit(ms, on_interval, rec)
    else
        rec.t = mockit.oneoff(ms, kind == "reaper" and on_reaper or on_oneoff, rec)
    end
    add_live(rec)
    count.created = count.created + 1
    count[kind .. "s"] = count[kind .. "s"] + 1
    return rec
end

local function spawn()
    for _ = 1, math.random(0, 4) do
        local rec
        if math.random() < 0.7 then
            rec = arm("oneoff", math.random(0, 40))
        else
            rec = arm("interval", math.random(1, 20))
        end
        if rec.kind == "interval" or math.random() < 0.5 then
            arm("reaper", math.random(0, 100), rec)
        end
    end
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
    references[#references].t = mockit.getit(ms, on_interval, references[#references])
end
local spawner = mockit.getit(2, spawn)

local rss = {}
local function full_gc()
    collectgarbage("collect")
    collectgarbage("collect")
end
local sampler = mockit.getit(1000, function()
    rss.max = math.max(rss.max or 0, rss_kb())
end)
mockit.oneoff(WARMUP_MS, function()
    full_gc()
    rss.warm, rss.lua_warm = rss_kb(), collectgarbage("count")
end)

-- Prints the figures and the failures; the exit status says whether they held.
local function report()
    local took = (now_ms() - start) / 1000
    print(string.format("soak: seed %d, %.1f s", SEED, took))
    print(string.format("soak: timers created %d (one-offs %d, intervals %d, reapers %d), "
        .. "destroyed %d (%d while armed), resets %d", count.created, count.oneoffs,
        count.intervals, count.reapers, count.destroyed, count.destroyed_armed, count.resets))
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
    for _, f in ipairs(failures) do
        print("soak: FAIL: " .. f)
    end
    print(failure_count == 0 and "soak: PASS" or string.format("soak: FAIL (%d)", failure_count))
end

local function finish()
    if #live > 0 then fail("%d timer(s) armed %d ms after the run ended", #live, FINISH_MS) end
    local oneoffs = count.oneoffs + count.reapers
    local ran = count.oneoff_calls + count.reaper_calls
    if ran + count.destroyed_armed ~= oneoffs then -- each ran once or was destroyed armed
        fail("%d one-offs: %d ran, %d destroyed while armed", oneoffs, ran, count.destroyed_armed)
    end
    for _, rec in ipairs(references) do
        destroy(rec)
    end
    full_gc()
    rss.final, rss.lua_final = rss_kb(), collectgarbage("count")
    if not rss.warm then
        fail("the run ended before the warm-up")
        rss.warm, rss.lua_warm = rss.final, rss.lua_final
    end
    if rss.lua_final - rss.lua_warm > 1024 then
        fail("the Lua heap grew from %.0f kB to %.0f kB after the warm-up", rss.lua_warm,
            rss.lua_final)
    end
    if rss.final - rss.warm > math.max(rss.warm * 0.10, 4096) then
        fail("RSS grew from %d kB to %d kB after the warm-up", rss.warm, rss.final)
    end
    local stats = mockit.stats()
    if stats.timers ~= 0 or stats.pending ~= 0 then
        fail("stats(): %d timers, %d pending at the end", stats.timers, stats.pending)
    end
    report()
    mockit.stop(failure_count == 0 and 0 or 1)
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
