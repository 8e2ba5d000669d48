-- SPDX-License-Identifier: MIT
-- What the soak scripts share: their arguments, the failures they collect and the verdict they
-- print, the Lua heap they measure and the end states they check. Loaded with
--   local soak = dofile((arg[0]:match("^(.*)/") or ".") .. "/soak_lib.lua")
-- so that it is found beside the script wherever mockit-run is started from, without LUA_PATH.
local mockit = require("mockit")

local soak = {}

local HOUR, DAY = 3600 * 1000, 86400 * 1000 -- ms

-- How far the Lua heap may grow after a soak's warm-up before it counts as a leak: the same
-- 1 MB for every soak.
local HEAP_SLACK_KB = 1024

-- How many failure messages a soak keeps: after that it only counts them, so that a check
-- failing at every call does not flood the output.
local FAILURES_KEPT = 20

-- Argument i as an integer; default when it is absent or not an integer.
function soak.integer_arg(i, default)
    return math.tointeger(tonumber(arg[i] or "")) or default
end

-- Ends the process with a failure when the clock is real: the simulated soaks' checks are
-- equalities that only simulated time makes exact.
function soak.require_virtual_time(prefix)
    if not mockit.clock.is_virtual() then
        print(prefix .. ": FAIL: the clock is real (run me under mockit-run --virtual-time)")
        os.exit(1)
    end
end

-- The Lua heap in kB after a full collection. Twice: the first runs the finalizers (__gc) of
-- what it found dead, which frees those objects only in the next.
function soak.heap_kb()
    collectgarbage("collect")
    collectgarbage("collect")
    return collectgarbage("count")
end

-- `size` slots, each holding the record of a timer (rec.timer) that make() arms and returns;
-- retire(rec) checks it before the pool destroys the timer. pool.made counts the timers made.
function soak.pool(size, make, retire)
    local pool, records = { made = 0 }, {}
    local function put(slot)
        records[slot] = make()
        pool.made = pool.made + 1
    end
    -- The record stays until put() replaces it: the heap at the end of a soak is measured with
    -- a full pool of records, as its baseline was.
    local function take(slot)
        retire(records[slot])
        records[slot].timer:destroy()
    end
    function pool.fill()
        for slot = 1, size do put(slot) end
    end
    -- Replaces n timers, each in a slot picked at random.
    function pool.replace(n)
        for _ = 1, n do
            local slot = math.random(size)
            take(slot)
            put(slot)
        end
    end
    function pool.empty()
        for slot = 1, size do take(slot) end
    end
    return pool
end

-- Simulated days, from a soak's driver task: until `ms` have passed from now, pauses 30 min to
-- 2 h (at random), then calls step(). Returns the baseline of the flat-heap check, the Lua heap
-- once a day had passed: heap_kb as given when set already (by an earlier call), nil when the
-- run was shorter than a day.
function soak.run_days(ms, step, heap_kb)
    local start = mockit.mstimestamp()
    while mockit.mstimestamp() - start < ms do
        mockit.pause(math.random(HOUR // 2, 2 * HOUR))
        step()
        if not heap_kb and mockit.mstimestamp() - start >= DAY then heap_kb = soak.heap_kb() end
    end
    return heap_kb
end

-- The checks of the soak whose output lines start with `prefix` ("soak cron"): checks.fail()
-- records a failure, the check functions below call it, checks.verdict() prints the outcome.
function soak.checks(prefix)
    local checks = { failure_count = 0 }
    local failures = {}

    function checks.fail(fmt, ...)
        checks.failure_count = checks.failure_count + 1
        if #failures < FAILURES_KEPT then failures[#failures + 1] = string.format(fmt, ...) end
    end

    -- Fails with `message`, formatted with both figures, when the Lua heap grew by more than
    -- HEAP_SLACK_KB from baseline_kb to end_kb. A soak too short to take its baseline has
    -- nothing to compare (baseline_kb nil).
    function checks.heap_flat(baseline_kb, end_kb, message)
        if baseline_kb and end_kb - baseline_kb > HEAP_SLACK_KB then
            checks.fail(message, baseline_kb, end_kb)
        end
    end

    -- At the end of a soak driven from callbacks: no timer left, nothing queued.
    function checks.no_timer_left()
        local stats = mockit.stats()
        if stats.timers ~= 0 or stats.pending ~= 0 then
            checks.fail("stats(): %d timers, %d pending at the end", stats.timers, stats.pending)
        end
    end

    -- Runs driver() as a task, and the loop until nothing is left to run; then checks that
    -- the driver ran to its end and left no timer and no task.
    function checks.drive(driver)
        local ended = false
        mockit.spawn(function()
            driver()
            ended = true
        end)
        mockit.run()
        local stats = mockit.stats()
        if not ended then checks.fail("the driver did not end") end
        if stats.timers ~= 0 or stats.tasks ~= 0 then
            checks.fail("left: %d timers, %d tasks", stats.timers, stats.tasks)
        end
    end

    -- Prints the failures kept and the verdict, "<prefix>: PASS" or, formatted with the failure
    -- count and `...`, failed_fmt (default "FAIL (%d)"); returns the exit status that goes
    -- with it.
    function checks.verdict(failed_fmt, ...)
        for _, f in ipairs(failures) do
            print(prefix .. ": FAIL: " .. f)
        end
        if checks.failure_count == 0 then
            print(prefix .. ": PASS")
            return 0
        end
        print(string.format(prefix .. ": " .. (failed_fmt or "FAIL (%d)"), checks.failure_count, ...))
        return 1
    end

    return checks
end

return soak
