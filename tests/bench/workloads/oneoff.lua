-- SPDX-License-Identifier: MIT
-- Workload "oneoff": COUNT sequential one-offs with delays 1..50 ms (each delay equally often),
-- the next armed from the callback of the previous; lateness against arm time + delay
-- (negative means the callback ran early).
-- Usage: mockit-run oneoff.lua COUNT
local lib = dofile((arg[0]:match("^(.*)/") or ".") .. "/lib.lua")
local mockit = require("mockit")
local count = lib.args({ 200 })

local lateness, ran, errors = {}, {}, {}
local function delay_of(i) return 1 + ((i - 1) * 17) % 50 end

local arm
local function fired(i, due)
    local now = mockit.hrtime()
    ran[i] = (ran[i] or 0) + 1
    if ran[i] > 1 then errors[#errors + 1] = "one-off " .. i .. " ran twice"; return end
    lateness[i] = now - due
    if i < count then arm(i + 1) end
end
function arm(i)
    local d = delay_of(i)
    mockit.oneoff(d, fired, i, mockit.hrtime() + d * 1000000)
end
arm(1)
mockit.run()

lib.report.oneoff({ count = count, lateness = lateness, ran = ran, errors = errors })
