-- test_seed_example.lua: the Lua example of the seed README
-- (/work/shared/seeds/000_857c279295ea1081.txt, "Luamockit Usage Overview") runs against the
-- module. The text below is the seed's code, loaded as a chunk of its own; print() is
-- captured so the calls of cb can be counted. Every change is marked "CHANGED:" and is one
-- of these:
--   * the seed's `if not s then print(...)` has no `end`: as published the example does not
--     compile, so the missing `end` is added on that line;
--   * the 11 s one-off and the 7 s interval are shortened (11*1000 -> 11*10, 7*1000 -> 7*100)
--     so the suite stays short;
--   * `while true do` never ends and the seed's own cleanup after it would never run: it is
--     bounded with the condition the seed's NOTE suggests (`mstimestamp() < endtime`).

local h = require("harness")
local mockit = require("mockit")
local test = h.test

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

luamockit.oneoff(11*10, cb) -- CHANGED: 11*1000
luamockit.wait(15*1000)          -- block for 15 seconds at the most 
luamockit.process_events()       -- process all events in the event queue

---------------------------------------------------------------

-- set up two interval callbacks: one every 7 seconds, one every 0.07
-- seconds
local t1 = luamockit.getit(7 * 100, cb) -- CHANGED: 7 * 1000
local t2 = luamockit.getit(70, cb)
local endtime = luamockit.mstimestamp() + 1000 -- CHANGED: bounded loop, see the NOTE below
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
        local line = table.concat(table.pack(...), "\t")
        table.insert(lines, line)
        io.write("# seed example: ", line, "\n")
    end
    local chunk = assert(load(SEED_EXAMPLE, "=seed README example", "t", env))
    chunk()
    return lines, env
end

test("the seed README example runs and calls cb as the timers say", function()
    local t0 = mockit.hrtime()
    local lines, env = run_example()
    local took = h.elapsed_ms(t0)
    assert(type(env.cb) == "function", "cb was not defined")
    for _, line in ipairs(lines) do
        assert(line:match("^called callback at %d+$"), "unexpected output: " .. line)
    end
    -- the one-off once, t1 (700 ms) once in the 1 s loop, t2 (70 ms) about 14 times
    assert(#lines >= 1 + 1 + 7 and #lines <= 1 + 2 + 16, "cb called " .. #lines .. " times")
    assert(took >= 3500 + 700 + 110 + 1000, "the example took only " .. took .. " ms")
    assert(mockit.stats().timers == 0, "the example's timers are still armed")
end)
