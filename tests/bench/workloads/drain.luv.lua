-- SPDX-License-Identifier: MIT
-- Workload "drain" for lua5.4 + luv: the counterpart of drain.lua.
-- Usage: lua5.4 drain.luv.lua TOTAL BATCH DELAY_MS
local lib = dofile((arg[0]:match("^(.*)/") or ".") .. "/lib.lua")
local uv = require("luv")
local total, batch, delay = lib.args({ 1000000, 10000, 1 })

local ran, in_batch, t_end = 0, 0, nil
local arm_batch
local function fired(timer)
    timer:close()
    ran = ran + 1
    in_batch = in_batch + 1
    if in_batch == batch then
        in_batch = 0
        if ran < total then arm_batch() else t_end = uv.hrtime() end
    end
end
function arm_batch()
    for _ = 1, batch do
        local timer = uv.new_timer()
        timer:start(delay, 0, function() fired(timer) end)
    end
end

local t0 = uv.hrtime()
arm_batch()
uv.run()

lib.report.drain({
    total = total, batch = batch, delay = delay, ran = ran, t0 = t0, t_end = t_end,
})
