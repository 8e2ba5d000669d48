-- SPDX-License-Identifier: MIT
-- Workload "strings": whether memory a script freed serves objects of other sizes. BATCHES
-- batches of N items, one string length per batch (16, 32, ... bytes: each a different size
-- class of an allocator that has them), each batch dropped and collected before the next is
-- made. KIND says what an item is:
--   strings   the bare string;
--   closures  a closure holding its own string, as a timer's callback holds what it was armed
--             with (plain Lua, like `strings`: runs the same under mockit-run and lua5.4);
--   timers    a one-off of 1..10 ms whose callback is such a closure; the batch runs with
--             mockit.run() (needs the mockit module: lua5.4 with LUA_CPATH=build/lua/?.so).
-- The figure is the peak RSS: about one batch's worth under an allocator that reuses freed
-- memory for other sizes, every batch's worth under one that keeps freed blocks for their size.
-- Usage: mockit-run strings.lua [N [BATCHES [KIND]]]   (default 400000 12 closures)
local lib = dofile((arg[0]:match("^(.*)/") or ".") .. "/lib.lua")
local n, batches = lib.args({ 400000, 12 })
local kind = arg[3] or "closures"
local mockit = kind == "timers" and require("mockit") or nil

local clock = os.clock()
local made, ran = 0, 0
for b = 1, batches do
    local prefix = ("x"):rep(16 * b - 8)  -- the string is 16 * b bytes long
    local items = {}
    for i = 1, n do
        local s = prefix .. string.format("%08d", i)
        if kind == "strings" then
            items[i] = s
        elseif kind == "closures" then
            items[i] = function() return s end
        else
            items[i] = mockit.oneoff(1 + i % 10, function() if s then ran = ran + 1 end end)
        end
    end
    made = made + #items
    items = nil
    if mockit then mockit.run() end
    collectgarbage()
end

local errors = {}
if made ~= n * batches then errors[#errors + 1] = "made " .. made .. " items" end
if mockit and ran ~= made then errors[#errors + 1] = ran .. " of " .. made .. " callbacks ran" end
lib.emit({
    workload = "strings",
    kind = kind,
    n = n,
    batches = batches,
    made = made,
    cpu_ms = (os.clock() - clock) * 1000,
    peak_rss_kb = lib.status_kb("VmHWM"),
    ok = #errors == 0,
    errors = errors,
})
