-- SPDX-License-Identifier: MIT
-- test_seed_example.lua: the Lua example of the seed README
-- (/work/shared/seeds/000_857c279295ea1081.txt, "Luamockit Usage Overview") runs against the
-- module. The text below is the seed's code, loaded as a chunk of its own; print() is
-- captured so the calls of cb can be counted. Every change is marked "CHANGED:" and is one
-- of these:
--   * the seed's `if not s then print(...)` has no `end`: as published the example does not
--     compile, so the missing `end` is added on that line;
--   * `while true do` never ends and the seed's own cleanup after it would never run: it is
--     bounded with the condition the seed's NOTE suggests (`mstimestamp() < endtime`), 15 s.
--
-- It runs on simulated time, so its sleeps (4.2 s), its 11 s one-off and its 7 s interval keep
-- the seed's values and take no time, and every callback runs at its due time: the test knows
-- each line cb prints. That sleep() and wait() take real time is test_basics.lua's.

local h = require("harness")
local mockit = require("mockit")
local test = h.test

h.virtual_time()

local SEED_EXAMPLE = [==[
local luamockit = require("luamockit")

-- get an integral millisecond timestamp
local ts = luamockit.mstimestamp()   -- e.g. 1656970659385

-- get a time tuple of seconds since the epoch and milliseconds
-- since the last second
local s,ms = luamockit.time()
if not s then print("time failed with error code " .. ms) end -- CHANGED: `end` added

-- sleep for 3.5 seconds and resume on signal interrupts
luamockit.sleep(3500, true)

-- sleep for 0.7 seconds and do not resume on signal interrupts
local error_code, time_left = luamockit.sleep(700)

-- call a callback in 11 seconds
-- 11 seconds can be spent either sleeping, handling other tasks
-- or blocking with luamockit.wait() until something gets added to the
-- event queue
function cb()
    print(string.format("called callback at %s", luamockit.mstimestamp()))
end

luamockit.oneoff(11*1000, cb)
luamockit.wait(15*1000)          -- block for 15 seconds at the most 
luamockit.process_events()       -- process all events in the event queue

---------------------------------------------------------------

-- set up two interval callbacks: one every 7 seconds, one every 0.07
-- seconds
local t1 = luamockit.getit(7 * 1000, cb)
local t2 = luamockit.getit(70, cb)
local endtime = luamockit.mstimestamp() + 15000 -- CHANGED: bounded loop, see the NOTE below
while luamockit.mstimestamp() < endtime do -- CHANGED: while true do
  luamockit.wait()
  luamockit.process_events()
end

-- NOTE:
-- to limit how long to process events for the user can use a simple
-- loop-break condition, for example `while luamockit.mstimestamp() < endtime`
-- where endtime is another mstimestamp marking a deadline for the loop.

-- when finished, destroy mockit timer objects by assigning all referring
-- variables to nil to allow lua to garbage collect the objects
t1 = t1:destroy()   -- disarms timer and returns nil
t2:destroy()
t2 = nil
]==]

-- Runs the example with print() captured; returns the printed lines.
local function run_example()
    local lines = {}
    local env = setmetatable({}, { __index = _G })
    env.print = function(...)
        table.insert(lines, table.concat(table.pack(...), "\t"))
    end
    local chunk = assert(load(SEED_EXAMPLE, "=seed README example", "t", env))
    chunk()
    return lines, env
end

-- The lines cb prints when the example starts at `start` (ms since the epoch): the one-off
-- after the two sleeps and its 11 s; then t1 (7 s) and t2 (70 ms) from then on, until the
-- first expiry at or after endtime, which the loop still processes before it looks at the
-- clock again.
local function expected_lines(start)
    local armed = start + 3500 + 700 + 11 * 1000
    local endtime = armed + 15000
    local due = {}
    for _, every in ipairs({ 7000, 70 }) do
        for at = armed + every, endtime + every, every do due[#due + 1] = at end
    end
    table.sort(due)
    local last
    for _, at in ipairs(due) do
        if at >= endtime then
            last = at
            break
        end
    end
    local lines = { "called callback at " .. armed }
    for _, at in ipairs(due) do
        if at <= last then lines[#lines + 1] = "called callback at " .. at end
    end
    return lines, last
end

test("the seed README example runs and calls cb as the timers say", function()
    local start = mockit.mstimestamp()
    local lines, env = run_example()
    assert(type(env.cb) == "function", "cb was not defined")
    local want, last = expected_lines(start)
    h.note("the example printed %d lines, from %q to %q", #lines, tostring(lines[1]),
        tostring(lines[#lines]))
    for i = 1, math.max(#lines, #want) do
        assert(lines[i] == want[i], string.format("line %d is %q, want %q", i,
            tostring(lines[i]), tostring(want[i])))
    end
    assert(mockit.mstimestamp() == last, "the example ended at " .. mockit.mstimestamp())
    assert(mockit.stats().timers == 0, "the example's timers are still armed")
end)
