-- SPDX-License-Identifier: MIT
-- Workload "drain": TOTAL one-offs of DELAY_MS, armed in batches of BATCH; the last callback of a
-- batch arms the next, so the figure is the arm + expire + dispatch cycle, in callbacks per second.
-- Usage: mockit-run drain.lua TOTAL BATCH DELAY_MS
local lib = dofile((arg[0]:match("^(.*)/") or ".") .. "/lib.lua")
local mockit = require("mockit")
local total, batch, delay = lib.args({ 1000000, 10000, 1 })

local ran, in_batch, t_end = 0, 0, nil
local arm_batch
local function fired()
    ran = ran + 1
    in_batch = in_batch + 1
    if in_batch == batch then
        in_batch = 0
        if ran < total then arm_batch() else t_end = mockit.hrtime() end
    end
end
function arm_batch()
    for _ = 1, batch do mockit.oneoff(delay, fired) end
end

local t0 = mockit.hrtime()
arm_batch()
mockit.run()

lib.report.drain({
    total = total, batch = batch, delay = delay, ran = ran, t0 = t0, t_end = t_end,
})
