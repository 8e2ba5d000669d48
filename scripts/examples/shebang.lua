#!/usr/bin/env mockit-run
-- SPDX-License-Identifier: MIT
-- shebang.lua: a script that runs by itself, with mockit-run as its interpreter.
--
-- The first line makes the kernel run `env mockit-run shebang.lua args...`; mockit-run
-- skips a first line starting with `#`. It prints its arguments (`arg`, laid out as in
-- lua5.4, and `...`) and a timestamp, then one more line from a timer.
--
--   chmod +x scripts/examples/shebang.lua          (the repository keeps the bit set)
--   PATH="$PWD/build/plain/bin:$PATH" scripts/examples/shebang.lua one "two words"
local mockit = require("mockit")

print(("%s: %d argument(s)"):format(arg[0], #arg))
for i = 1, #arg do
    print(("  arg[%d] = %s"):format(i, arg[i]))
end
print(("  ... holds %d value(s)"):format(select("#", ...)))

local secs, ms = mockit.time()
print(("timestamp: %s.%03d UTC (%d ms since the epoch)"):format(
    os.date("!%Y-%m-%d %H:%M:%S", secs), ms, mockit.mstimestamp()))

mockit.oneoff(50, function()
    print("and a timer fired 50 ms later")
end)
