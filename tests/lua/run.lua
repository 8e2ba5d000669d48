-- SPDX-License-Identifier: MIT
-- run.lua: runs mockit Lua test files with the harness beside this script.
--
--     lua5.4 run.lua test_file.lua [...]
--
-- The module is found through LUA_CPATH (ctest sets it). Prints one TAP line per test,
-- then "N passed, M failed" as the last line, and exits 0 when all passed, 1 otherwise.
-- The files share one Lua state: a file on simulated time (h.virtual_time()) must come alone,
-- as ctest runs them.

local here = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
package.path = here .. "/?.lua;" .. package.path

if not arg or #arg == 0 then
    io.stderr:write("usage: lua5.4 run.lua test_file.lua [...]\n")
    os.exit(2)
end

-- The harness requires the module: when that fails there is nothing to run, but the
-- output keeps its shape (a failed test and the summary line).
local ok, h = pcall(require, "harness")
if not ok then
    io.write("not ok 1 - load the harness and the mockit module\n")
    io.write("#   ", (tostring(h):gsub("\n", "\n#   ")), "\n")
    io.write("1..1\n0 passed, 1 failed\n")
    os.exit(1)
end

for _, path in ipairs(arg) do
    h.run_file(path)
end

-- close = true: closing the Lua state (and with it every mockit engine) is tested too.
os.exit(h.finish(), true)
