-- SPDX-License-Identifier: MIT
-- heartbeat_test.lua: a test of heartbeat.lua over a simulated day, which runs in a fraction of
-- a second: the clock is virtual, and mockit.clock.advance runs each heartbeat at its due time.
--
--   mockit-run --virtual-time --no-loop scripts/examples/heartbeat_test.lua
--   lua5.4 scripts/examples/heartbeat_test.lua     (with the mockit module on LUA_CPATH)
local mockit = require("mockit")
if not mockit.clock.is_virtual() then mockit.clock.virtual() end -- under lua5.4

-- The heartbeats are counted instead of logged, with the simulated time of each.
local beats, times = 0, {}
mockit.log.info = function(format)
    if format:find("^heartbeat %%d") then
        beats = beats + 1
        times[beats] = os.date("!%H:%M:%S")
    end
end

local examples = arg[0]:match("^(.*/)") or "./"
arg = { [0] = examples .. "heartbeat.lua", "60000" } -- a heartbeat a minute
dofile(arg[0])

mockit.clock.advance(24 * 3600 * 1000)
assert(beats == 1440, ("%d heartbeats in a day, expected 1440"):format(beats))
assert(times[1] == "00:01:00" and times[60] == "01:00:00" and times[1440] == "00:00:00",
    "heartbeats off their schedule")
print("ok: 1440 heartbeats in a simulated day, each on the minute")
