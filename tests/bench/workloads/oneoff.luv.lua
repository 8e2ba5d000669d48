-- SPDX-License-Identifier: MIT
-- Workload "oneoff" for lua5.4 + luv: the counterpart of oneoff.lua.
-- Usage: lua5.4 oneoff.luv.lua COUNT
local lib = dofile((arg[0]:match("^(.*)/") or ".") .. "/lib.lua")
local uv = require("luv")
local count = lib.args({ 200 })

local lateness, ran, errors = {}, {}, {}
local function delay_of(i) return 1 + ((i - 1) * 17) % 50 end

local arm
local function fired(timer, i, due)
    local now = uv.hrtime()
    timer:close()
    ran[i] = (ran[i] or 0) + 1
    if ran[i] > 1 then errors[#errors + 1] = "one-off " .. i .. " ran twice"; return end
    lateness[i] = now - due
    if i < count then arm(i + 1) end
end
function arm(i)
    local d = delay_of(i)
    local timer = uv.new_timer()
    local due = uv.hrtime() + d * 1000000
    timer:start(d, 0, function() fired(timer, i, due) end)
end
arm(1)
uv.run()

lib.report.oneoff({ count = count, lateness = lateness, ran = ran, errors = errors })
