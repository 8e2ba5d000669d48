-- SPDX-License-Identifier: MIT
-- retry.lua: retrying with exponential backoff, written straight: a loop that pauses.
--
-- A simulated operation fails a set number of times (deterministically), then succeeds.
-- After each failure the script pauses, the delay doubling each time up to a cap.
-- mockit.pause suspends only this code: timers and other tasks run meanwhile, and the
-- process sleeps when nothing is due. mockit-run runs the main chunk as a task, so this
-- works at the top level of a script, as in any callback or mockit.spawn'ed function. When
-- the operation succeeds the script ends and mockit-run exits 0; if every attempt fails,
-- mockit.stop(1) makes the exit status 1.
--
--   mockit-run scripts/examples/retry.lua [failures [first_delay_ms]]
--   (defaults: 3 failures, 50 ms: attempts after 50, 100 and 200 ms; 4th succeeds)
local mockit = require("mockit")

local failures = math.tointeger(tonumber(arg[1] or "3")) or 3
local first_delay = math.tointeger(tonumber(arg[2] or "50")) or 50
local max_attempts = 6
local max_delay = 2000

-- The operation: fails `failures` times, then succeeds. Returns ok, result or error.
local calls = 0
local function flaky_operation()
    calls = calls + 1
    if calls <= failures then return false, ("temporary failure #%d"):format(calls) end
    return true, "42"
end

local start = mockit.hrtime()
local function elapsed_ms()
    return (mockit.hrtime() - start) // 1000000
end

local delay = first_delay
for attempt = 1, max_attempts do
    local ok, result = flaky_operation()
    if ok then
        print(("attempt %d at %d ms: succeeded, result %s"):format(attempt, elapsed_ms(), result))
        return
    end
    if attempt == max_attempts then
        print(("attempt %d at %d ms: %s; giving up"):format(attempt, elapsed_ms(), result))
        mockit.stop(1)
        return
    end
    print(("attempt %d at %d ms: %s; retrying in %d ms"):format(attempt, elapsed_ms(), result, delay))
    mockit.pause(delay)
    delay = math.min(delay * 2, max_delay)
end
