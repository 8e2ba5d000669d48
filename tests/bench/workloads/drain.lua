-- Workload "drain": TOTAL one-offs of DELAY_MS, armed in batches of BATCH; the last callback of a
-- batch arms the next, so the figure is the arm + expire + dispatch cycle, in callbacks per second.
-- Usage: mockit-run drain.lua TOTAL BATCH DELAY_MS
local lib = dofile((arg[0]:match("^(.*)/") or ".") .. "/lib.lua")
local mockit = require("mockit")
local total, batch, delay = lib.args({ 1000000, 10000, 1 })

local ran, in_batch, bad_batches, t_end = 0, 0, 0, nil
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

local errors = {}
if ran ~= total then errors[#errors + 1] = "ran " .. ran .. " callbacks, expected " .. total end
local elapsed_s = t_end and (t_end - t0) / 1e9 or nil
lib.emit({
    workload = "drain",
    total = total,
    batch = batch,
    delay_ms = delay,
    ran = ran,
    elapsed_ms = elapsed_s and elapsed_s * 1000 or nil,
    callbacks_per_s = elapsed_s and total / elapsed_s or nil,
    ok = #errors == 0,
    errors = errors,
})
