-- SPDX-License-Identifier: MIT
-- soak_tasks.lua: thousands of tasks pausing, waiting and being cancelled while timers churn,
-- through a simulated week, in a few seconds.
--
--   mockit-run --virtual-time tests/soak/soak_tasks.lua [TASKS [HOURS [SEED]]]
--
-- tests/soak/run.sh runs it after the other soaks. TASKS workers (default 3000) each loop until
-- HOURS of simulated time (default 168) have passed: pause a random 0..10 min, and now and then
-- spawn a child and wait for it (with a timeout or not), wait on another worker with a timeout,
-- or arm, reset and destroy a timer. Every second a churner cancels a random worker (which a
-- new one replaces) and arms short timers. Simulated time is exact, so the checks are
-- equalities:
--   - a pause of ms resumes exactly ms later (hrtime);
--   - wait() on a child gives the child's results, or "timeout" exactly when the timeout ran out
--     first; a child cancelled meanwhile gives "cancelled";
--   - a cancelled worker's <close> variable runs exactly once, and the worker never resumes;
--   - every one-off armed runs once unless destroyed first; nothing runs after its destroy;
--   - at the end no task, no timer is left (stats()), and the Lua heap is back within 1 MB of
--     where it was after the first simulated day.
-- Prints the figures on "soak tasks:" lines and exits 0 when every check held, 1 otherwise.
local mockit = require("mockit")
local soak = dofile((arg[0]:match("^(.*)/") or ".") .. "/soak_lib.lua")

local TASKS = soak.integer_arg(1, 3000)
local HOURS = soak.integer_arg(2, 168)
local SEED = soak.integer_arg(3, 1)
local NS, SEC, MIN, HOUR = 1000000, 1000, 60 * 1000, 3600 * 1000

math.randomseed(SEED)
soak.require_virtual_time("soak tasks")

local count = {
    spawned = 0, pauses = 0, children = 0, child_timeouts = 0, child_cancels = 0,
    peer_waits = 0, cancelled = 0, closed = 0, oneoffs = 0, oneoff_calls = 0, destroyed = 0,
}
local checks = soak.checks("soak tasks")
local fail = checks.fail

local start = mockit.hrtime()
local deadline = start + HOURS * HOUR * NS
local workers = {} -- slot -> task
local children = setmetatable({}, { __mode = "k" }) -- child task -> true, while waited for

-- A one-off that must run once unless destroyed first.
local function arm_oneoff(ms)
    count.oneoffs = count.oneoffs + 1
    local rec = { due = mockit.hrtime() + ms * NS }
    rec.t = mockit.oneoff(ms, function()
        count.oneoff_calls = count.oneoff_calls + 1
        if rec.ran or rec.destroyed then fail("a one-off ran twice, or after its destroy") end
        if mockit.hrtime() ~= rec.due then fail("a one-off ran at %d, due %d", mockit.hrtime(), rec.due) end
        rec.ran = true
    end)
    return rec
end

local function pause_exactly(ms)
    local before = mockit.hrtime()
    mockit.pause(ms)
    count.pauses = count.pauses + 1
    if mockit.hrtime() - before ~= ms * NS then
        fail("a pause of %d ms lasted %d ns", ms, mockit.hrtime() - before)
    end
end

local function child(ms, value)
    pause_exactly(ms)
    return value, ms
end

local worker
local function start_worker(slot)
    count.spawned = count.spawned + 1
    workers[slot] = mockit.spawn(worker, slot)
end

function worker(slot)
    local closed = 0
    local guard <close> = setmetatable({}, { __close = function()
        closed = closed + 1
        count.closed = count.closed + 1
        if closed > 1 then fail("a worker's <close> ran twice") end
    end })
    while mockit.hrtime() < deadline do
        local r = math.random(100)
        if r <= 70 then
            pause_exactly(math.random(0, 10 * MIN))
        elseif r <= 85 then
            local ms, timeout = math.random(0, 5 * MIN), math.random(0, 5 * MIN)
            local value = math.random(1e6)
            local c = mockit.spawn(child, ms, value)
            children[c] = true
            count.children = count.children + 1
            local before = mockit.hrtime()
            local ok, got, got_ms = c:wait(r <= 78 and timeout or nil)
            children[c] = nil
            local waited = mockit.hrtime() - before
            if ok then
                if got ~= value or got_ms ~= ms then fail("wait() gave %s, %s", tostring(got), tostring(got_ms)) end
                if waited ~= ms * NS then fail("wait() for a %d ms child took %d ns", ms, waited) end
            elseif got == "timeout" then
                count.child_timeouts = count.child_timeouts + 1
                if waited ~= timeout * NS or timeout >= ms then fail("a %d ms timeout after %d ns", timeout, waited) end
                c:cancel()
            elseif got == "cancelled" then
                count.child_cancels = count.child_cancels + 1
            else
                fail("wait() on a child: %s", tostring(got))
            end
        elseif r <= 92 then
            local peer = workers[math.random(TASKS)]
            if peer and peer ~= workers[slot] then
                count.peer_waits = count.peer_waits + 1
                local ok, why = peer:wait(math.random(0, 2 * MIN))
                if not ok and why ~= "timeout" and why ~= "cancelled" then fail("peer wait: %s", tostring(why)) end
            end
        else
            local rec = arm_oneoff(math.random(0, 3 * MIN))
            pause_exactly(math.random(0, 3 * MIN))
            if not rec.ran and math.random(2) == 1 then
                rec.t:destroy()
                rec.destroyed = true
                count.destroyed = count.destroyed + 1
            end
        end
    end
end

for slot = 1, TASKS do start_worker(slot) end

-- The churner: every second of simulated time, cancels a worker now and then (a new one takes
-- its slot), cancels a running child, and arms short timers.
local heap_after_day
local churner
churner = mockit.getit(SEC, function()
    local now = mockit.hrtime()
    if now >= deadline then
        churner:destroy()
        return
    end
    if not heap_after_day and now - start >= 24 * HOUR * NS then
        heap_after_day = soak.heap_kb()
    end
    if math.random(20) == 1 then
        local slot = math.random(TASKS)
        local t = workers[slot]
        if t:status() == "paused" then
            local closed_before = count.closed
            if not t:cancel() then fail("cancel() of a paused worker returned false") end
            count.cancelled = count.cancelled + 1
            if count.closed ~= closed_before + 1 then fail("a cancelled worker's <close> did not run once") end
            if t:status() ~= "cancelled" then fail("status after cancel: %s", t:status()) end
            start_worker(slot)
        end
    end
    if math.random(50) == 1 then
        local c = next(children)
        if c and c:status() == "paused" then c:cancel() end
    end
    if math.random(4) == 1 then arm_oneoff(math.random(0, 30 * SEC)) end
end)

mockit.run()

if count.oneoffs ~= count.oneoff_calls + count.destroyed then
    fail("%d one-offs armed, %d ran, %d destroyed before", count.oneoffs, count.oneoff_calls, count.destroyed)
end
local s = mockit.stats()
if s.tasks ~= 0 then fail("%d task(s) left", s.tasks) end
if s.timers ~= 0 then fail("%d timer(s) left", s.timers) end
for slot = 1, TASKS do
    local status = workers[slot]:status()
    if status ~= "done" then fail("worker %d ended %s", slot, status) end
end
local heap = soak.heap_kb()
checks.heap_flat(heap_after_day, heap, "the Lua heap grew from %.0f KB after a day to %.0f KB")

print(string.format("soak tasks: %d workers spawned over %d simulated hours, %d pauses, %d children " ..
    "(%d timed out, %d cancelled), %d peer waits, %d workers cancelled, %d one-offs (%d ran, %d destroyed)",
    count.spawned, HOURS, count.pauses, count.children, count.child_timeouts, count.child_cancels,
    count.peer_waits, count.cancelled, count.oneoffs, count.oneoff_calls, count.destroyed))
print(string.format("soak tasks: heap %.0f KB after a day, %.0f KB at the end", heap_after_day or -1, heap))
if checks.verdict("FAIL (%d failures, seed %d)", SEED) ~= 0 then os.exit(1) end
