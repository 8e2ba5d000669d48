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
