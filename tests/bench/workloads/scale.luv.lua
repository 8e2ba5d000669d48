-- Workload "scale" for lua5.4 + luv: the counterpart of scale.lua. A luv timer is a handle that
-- must be closed, so each callback closes its own.
-- Usage: lua5.4 scale.luv.lua N SPREAD_MS
local lib = dofile((arg[0]:match("^(.*)/") or ".") .. "/lib.lua")
local uv = require("luv")
local n, spread = lib.args({ 1000000, 2000 })

local ran, done, dups, t_done = {}, 0, 0, nil
local function fired(timer, i)
    timer:close()
    if ran[i] then dups = dups + 1; return end
    ran[i] = true
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

local errors = {}
if dups > 0 then errors[#errors + 1] = dups .. " callbacks ran more than once" end
if done ~= n then errors[#errors + 1] = (n - done) .. " one-offs never ran" end
lib.emit({
    workload = "scale",
    n = n,
    spread_ms = spread,
    arm_ms = (t_armed - t0) / 1e6,
    done_ms = t_done and (t_done - t0) / 1e6 or nil,
    ran = done,
    duplicates = dups,
    peak_rss_kb = lib.status_kb("VmHWM"),
    ok = #errors == 0,
    errors = errors,
})
