-- SPDX-License-Identifier: MIT
-- Workload "scale" for lua5.4 + luv: the counterpart of scale.lua. A luv timer is a handle that
-- must be closed, so each callback closes its own.
-- Usage: lua5.4 scale.luv.lua N SPREAD_MS
local lib = dofile((arg[0]:match("^(.*)/") or ".") .. "/lib.lua")
local uv = require("luv")
local n, spread = lib.args({ 1000000, 2000 })

local marked, done, dups, t_done = lib.bitset(n), 0, 0, nil
local function fired(timer, i)
    timer:close()
    if marked(i) then dups = dups + 1; return end
    done = done + 1
    if done == n then t_done = uv.hrtime() end
end

local t0 = uv.hrtime()
for i = 1, n do
    local timer = uv.new_timer()
    timer:start(1 + (i * 7919) % spread, 0, function() fired(timer, i) end)
end
local t_armed = uv.hrtime()
uv.run()

lib.report.scale({
    n = n, spread = spread, t0 = t0, t_armed = t_armed, t_done = t_done, done = done, dups = dups,
})
