-- SPDX-License-Identifier: MIT
-- Workload "tasks" for lua5.4 + luv: the counterpart of tasks.lua. luv has no tasks: each is a
-- coroutine that sleeps on a timer of its own, which resumes it (and is closed, as luv requires).
-- Usage: lua5.4 tasks.luv.lua N SPREAD_MS
local lib = dofile((arg[0]:match("^(.*)/") or ".") .. "/lib.lua")
local uv = require("luv")
local n, spread = lib.args({ 1000000, 2000 })

local function sleep(ms)
    local co = coroutine.running()
    local timer = uv.new_timer()
    timer:start(ms, 0, function()
        timer:close()
        assert(coroutine.resume(co))
    end)
    coroutine.yield()
end

local marked, done, dups, t_done = lib.bitset(n), 0, 0, nil
local function task(i, ms)
    sleep(ms)
    if marked(i) then dups = dups + 1; return end
    done = done + 1
    if done == n then t_done = uv.hrtime() end
end

local t0 = uv.hrtime()
for i = 1, n do
    assert(coroutine.resume(coroutine.create(task), i, 1 + (i * 7919) % spread))
end
local t_armed = uv.hrtime()
uv.run()

lib.report.scale({
    workload = "tasks", n = n, spread = spread, t0 = t0, t_armed = t_armed, t_done = t_done,
    done = done, dups = dups,
})
