-- SPDX-License-Identifier: MIT
-- hello.lua: a first mockit-run script.
--
-- Shows a one-off timer, an interval timer that ticks three times and logs each tick
-- with mockit.log.info (on stderr), and mockit.stop() ending the built-in loop, which
-- mockit-run runs once this main chunk returns. Takes under a second.
--
--   mockit-run scripts/examples/hello.lua [name]
--   scripts/run                      (sets up, builds mockit-run, then runs this script)
local mockit = require("mockit") -- preloaded by mockit-run

local name = arg[1] or "world"
print(("Hello, %s! This is %s with the mockit timer library."):format(name, _VERSION))

-- A one-off: runs once, 100 ms from now.
mockit.oneoff(100, function()
    print("one-off: fired once, 100 ms after the start")
end)

-- An interval: every 250 ms on an absolute schedule (no drift), with an argument.
local ticks = 0
mockit.getit(250, function(label)
    ticks = ticks + 1
    mockit.log.info("%s: tick %d of 3", label, ticks)
    if ticks == 3 then
        print("Goodbye!")
        mockit.stop() -- ends the loop after this callback: exit status 0
    end
end, "interval")

print("main chunk done; the loop runs the timers now")
