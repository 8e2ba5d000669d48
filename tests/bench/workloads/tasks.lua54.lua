-- SPDX-License-Identifier: MIT
-- Workload "tasks" for plain lua5.4: the floor under any Lua task. Each task is a bare coroutine
-- that yields once from inside a function, as a task's pause does, and is resumed once; no timer,
-- no handle, no loop. What tasks.lua measures above this is what mockit adds; what this measures
-- is what any Lua 5.4 coroutine costs (its lua_State, its first stack of 45 slots and a CallInfo
-- per frame), whatever runs it.
-- Usage: lua5.4 tasks.lua54.lua N SPREAD_MS
local lib = dofile((arg[0]:match("^(.*)/") or ".") .. "/lib.lua")
local n, spread = lib.args({ 1000000, 2000 })
local yield = coroutine.yield

local function hrtime()
    return math.floor(os.clock() * 1e9) -- one thread, never blocked: CPU time is its real time
end

local marked, done, dups, t_done = lib.bitset(n), 0, 0, nil
local function task(i, ms)
    yield(ms)
    if marked(i) then dups = dups + 1; return end
    done = done + 1
    if done == n then t_done = hrtime() end
end

local t0 = hrtime()
local tasks = {}
for i = 1, n do
    local co = coroutine.create(task)
    assert(coroutine.resume(co, i, 1 + (i * 7919) % spread)) -- delays as in tasks.lua
    tasks[i] = co
end
local t_armed = hrtime()
for i = 1, n do
    assert(coroutine.resume(tasks[i]))
    tasks[i] = nil
end

lib.report.scale({
    workload = "tasks", n = n, spread = spread, t0 = t0, t_armed = t_armed, t_done = t_done,
    done = done, dups = dups,
})
