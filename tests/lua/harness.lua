-- SPDX-License-Identifier: MIT
-- harness.lua: a small TAP-like harness for the mockit Lua module (after luv's tap.lua).
--
--     local h = require("harness")
--     h.test("a one-off fires once", function()
--         mockit.oneoff(10, h.expect(function() end, 1))
--     end)
--
-- Each test runs under xpcall. Then the harness drains the event loop (bounded), fails the
-- test if an expect()ed callback ran more or fewer times than declared, and fails it if a
-- timer is still armed or a callback still queued (mockit.stats()): tests destroy what
-- they arm. finish() prints "N passed, M failed" as the last line and returns the status.
--
-- A file whose tests only need the order, the count and the due times of callbacks runs on
-- simulated time (SPEC section 8): it calls h.virtual_time() before its first timer. Its
-- sleeps and waits then take no time, and each callback runs exactly at its due time, which
-- its tests assert. The clock of a Lua state cannot go back to real time, so such a file
-- runs in a state of its own: ctest gives each file its own process.

local mockit = require("mockit")

local M = {}

local DRAIN_LIMIT_MS = 3000 -- how long the harness keeps the loop going after a test

local state = {
    number = 0, -- tests run so far (TAP numbering)
    passed = 0,
    failed = 0,
    file = nil, -- basename of the file being run, prefixed to test names
    expectations = {}, -- expect() records of the running test
    tracked = {}, -- timers to destroy after the running test whatever happened
    leaked = 0, -- timers earlier tests leaked: later leak checks are relative to it
}

-- "file:line" of the function `level` frames above the caller.
local function location(level)
    local info = debug.getinfo(level + 1, "Sl")
    return info and (info.short_src .. ":" .. info.currentline) or "?"
end

-- Nanoseconds on the module's monotonic clock converted to elapsed ms since `t0_ns`.
function M.elapsed_ms(t0_ns)
    return (mockit.hrtime() - t0_ns) / 1e6
end

local records = setmetatable({}, { __mode = "k" }) -- expect() wrapper -> its record

-- Wraps `fn` (nil: do nothing) in a function that counts its calls. The test fails unless
-- it was called exactly `n` times (default 1) once the loop has drained. Returns the
-- wrapper alone, so that expect(...) can end an argument list.
function M.expect(fn, n)
    local record = { calls = 0, want = n or 1, where = location(2) }
    table.insert(state.expectations, record)
    local function wrapper(...)
        record.calls = record.calls + 1
        if fn then
            return fn(...)
        end
    end
    records[wrapper] = record
    return wrapper
end

-- How many times the expect() wrapper `cb` has been called so far.
function M.calls(cb)
    return assert(records[cb], "not an expect() wrapper").calls
end

-- Asserts that f(...) raises an error whose message contains `pattern` as a plain substring
-- or matches it as a Lua pattern. Returns the message.
function M.checkerr(pattern, f, ...)
    local ok, err = pcall(f, ...)
    if ok then
        error(string.format("expected an error matching %q, got none", pattern), 2)
    end
    local msg = tostring(err)
    if msg:find(pattern, 1, true) then
        return msg
    end
    local valid, found = pcall(string.find, msg, pattern)
    if valid and found then
        return msg
    end
    error(string.format("error %q does not match %q", msg, pattern), 2)
end

-- Registers `t` to be destroyed after the running test, pass or fail, so that a failed
-- assertion in the middle of a test does not leave an interval running into the next
-- ones. Returns `t`. The leak check runs before this cleanup, so it still sees leaks.
function M.track(t)
    table.insert(state.tracked, t)
    return t
end

-- Runs wait + process_events until pred() holds or `limit_ms` (default 2000) passes.
-- Returns whether pred() held.
function M.loop_until(pred, limit_ms)
    local deadline = mockit.mstimestamp() + (limit_ms or 2000)
    while not pred() do
        local left = deadline - mockit.mstimestamp()
        if left <= 0 then
            return false
        end
        mockit.wait(left)
        mockit.process_events()
    end
    return true
end

-- Sleeps in small steps until at least `n` callbacks are queued (mockit.pending()) or
-- `limit_ms` (default 2000) passes, without running any. Returns whether they were.
function M.wait_queued(n, limit_ms)
    local deadline = mockit.mstimestamp() + (limit_ms or 2000)
    while mockit.pending() < n do
        if mockit.mstimestamp() >= deadline then
            return false
        end
        mockit.sleep(2)
    end
    return true
end

-- Whether anything of the test is still in flight: an armed timer or a queued callback.
local function busy()
    local s = mockit.stats()
    return s.timers > state.leaked or s.pending > 0
end

-- Drains the loop after a test: callbacks the test armed get their chance to run.
local function drain()
    M.loop_until(function() return not busy() end, DRAIN_LIMIT_MS)
end

-- Appends a message to `problems` for every expect() whose call count is off.
local function check_expectations(problems)
    for _, r in ipairs(state.expectations) do
        if r.calls ~= r.want then
            table.insert(problems, string.format("callback expected at %s called %d times, want %d",
                r.where, r.calls, r.want))
        end
    end
end

-- Appends a message to `problems` unless no timer is armed and no callback is queued.
local function check_leaks(problems)
    local ok, s = pcall(mockit.stats)
    if not ok then
        table.insert(problems, "mockit.stats() failed: " .. tostring(s))
    elseif s.timers > state.leaked or s.pending ~= 0 then
        table.insert(problems, string.format(
            "leak: stats() reports timers=%s pending=%s inqueue=%s",
            tostring(s.timers), tostring(s.pending), tostring(s.inqueue)))
    end
end

-- Destroys the tracked timers and restores the default error handling, so that one
-- failing test does not spill into the next ones.
local function cleanup()
    for _, t in ipairs(state.tracked) do
        pcall(t.destroy, t)
    end
    pcall(mockit.on_error, nil)
    pcall(mockit.process_events) -- drop entries of what was just destroyed
    local ok, s = pcall(mockit.stats)
    if ok and s.timers > state.leaked then
        io.write(string.format("# %d timer(s) leaked for good: later leak checks are relative\n",
            s.timers - state.leaked))
    end
    if ok then
        state.leaked = s.timers -- also lowered when a leaked one-off finally ran
    end
end

-- Prints the TAP line of a finished test and counts it.
local function report(name, problems)
    state.number = state.number + 1
    local full = state.file and (state.file .. ": " .. name) or name
    if #problems == 0 then
        state.passed = state.passed + 1
        io.write(string.format("ok %d - %s\n", state.number, full))
    else
        state.failed = state.failed + 1
        io.write(string.format("not ok %d - %s\n", state.number, full))
        for _, p in ipairs(problems) do
            io.write("#   ", (tostring(p):gsub("\n", "\n#   ")), "\n")
        end
    end
    io.flush()
end

-- Runs one test: the body, a drain of the loop, the call-count and leak checks.
function M.test(name, fn)
    state.expectations, state.tracked = {}, {}
    local problems = {}
    local ok, err = xpcall(fn, debug.traceback)
    if not ok then
        table.insert(problems, err)
        cleanup() -- do not wait DRAIN_LIMIT_MS for an interval the failure left armed
    end
    local drained, derr = xpcall(drain, debug.traceback)
    if not drained then
        table.insert(problems, "while draining the loop: " .. tostring(derr))
    end
    check_expectations(problems)
    check_leaks(problems)
    cleanup()
    report(name, problems)
end

-- Records a failure that is not a test of its own (a file that does not load, ...).
function M.fail(name, message)
    report(name, { message })
end

-- Prints a TAP comment line.
function M.note(fmt, ...)
    io.write("# ", string.format(fmt, ...), "\n")
end

-- Switches this Lua state to simulated time, starting at 2000-01-01T00:00:00Z: for the rest
-- of the run, mockit's clocks move only when the loop waits or the script sleeps, and then at
-- once. Call it at the top of a test file, before any timer.
function M.virtual_time()
    local ok, err = pcall(mockit.clock.virtual)
    if not ok then
        error(string.format("%s: an earlier file armed timers on the real clock; run %s on its own",
            tostring(err), tostring(state.file)), 2)
    end
end

-- Loads and runs one test file; its test() calls report as they go.
function M.run_file(path)
    state.file = path:match("[^/]*$")
    io.write("# ", path, "\n")
    -- A file after one that switched to simulated time would run on it, unasked: its waits on
    -- the real clock (a signal, a wake-up) would not wait.
    if mockit.clock.is_virtual() then
        M.fail("load", "an earlier file switched this Lua state to simulated time: "
            .. "run " .. state.file .. " on its own (lua5.4 run.lua " .. state.file .. ")")
        return
    end
    local chunk, err = loadfile(path)
    if not chunk then
        M.fail("load", err)
        return
    end
    local ok, rerr = xpcall(chunk, debug.traceback)
    if not ok then
        M.fail("top level of the file", rerr)
    end
end

-- Prints the plan and the summary (the last line) and returns the exit status.
function M.finish()
    io.write(string.format("1..%d\n", state.number))
    io.write(string.format("%d passed, %d failed\n", state.passed, state.failed))
    io.flush()
    return (state.failed == 0 and state.number > 0) and 0 or 1
end

return M
