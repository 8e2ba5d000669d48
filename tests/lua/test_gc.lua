-- SPDX-License-Identifier: MIT
-- test_gc.lua: garbage collection and closing the state: dropped handles keep running,
-- destroy() and fired one-offs release callbacks and arguments, many timers, and lua_close()
-- with armed timers (in child processes).

local h = require("harness")
local mockit = require("mockit")
local test, expect = h.test, h.expect

local function full_gc()
    collectgarbage("collect")
    collectgarbage("collect")
end

test("a one-off whose handle was dropped still fires", function()
    mockit.oneoff(30, expect(nil, 1))
    full_gc()
end)

test("a one-off whose handle was collected still fires, with its arguments", function()
    local weak = setmetatable({}, { __mode = "v" })
    weak[1] = mockit.oneoff(30, expect(function(tbl, s)
        assert(type(tbl) == "table" and tbl.x == 1 and s == "s")
    end, 1), { x = 1 }, "s")
    full_gc()
    h.note("the dropped handle was %s by the collector", weak[1] and "kept" or "collected")
end)

test("a callback armed with only a closure reference survives a collection", function()
    local cb = expect(nil, 1)
    do
        local captured = { cb = cb }
        mockit.oneoff(20, function() captured.cb() end)
    end
    full_gc()
    assert(h.loop_until(function() return h.calls(cb) == 1 end), "not called")
end)

test("a kept handle stays usable after its one-off fired and a collection", function()
    local t = mockit.oneoff(1, expect(nil, 1))
    h.loop_until(function() return not t:active() end)
    full_gc()
    assert(t:active() == false and t:kind() == "oneoff")
    t:destroy()
end)

-- A drain pushes the callback's arguments on its own stack, which a collection may have shrunk
-- well below what the call that armed the timer needed.
test("a callback with 20,000 arguments gets them all after a collection", function()
    local function arm()
        local args = {}
        for i = 1, 20000 do
            args[i] = i
        end
        mockit.oneoff(1, expect(function(...)
            assert(select("#", ...) == 20000, "got " .. select("#", ...) .. " arguments")
            assert(select(20000, ...) == 20000)
        end, 1), table.unpack(args))
    end
    arm()
    full_gc()
end)

-- Returns a weak-keyed table holding `obj`, to ask later whether `obj` was collected.
local function watch(obj)
    local weak = setmetatable({}, { __mode = "k" })
    weak[obj] = true
    return weak
end

test("destroy() releases the callback and its arguments", function()
    local arg, cb = {}, function() end
    local w_arg, w_cb = watch(arg), watch(cb)
    local t = mockit.getit(1000, cb, arg)
    arg, cb = nil, nil
    t:destroy()
    full_gc()
    assert(next(w_arg) == nil, "the argument is still referenced after destroy()")
    assert(next(w_cb) == nil, "the callback is still referenced after destroy()")
end)

test("a fired one-off whose handle was dropped releases callback and arguments", function()
    local fired = false
    local arg = {}
    local w_arg = watch(arg)
    mockit.oneoff(1, function() fired = true end, arg)
    arg = nil
    assert(h.loop_until(function() return fired end), "not called")
    full_gc()
    assert(next(w_arg) == nil, "the argument of a finished, dropped one-off is still referenced")
end)

test("10,000 intervals: destroy half, collect, destroy the rest", function()
    local ts = {}
    local t0 = mockit.hrtime()
    for i = 1, 10000 do
        ts[i] = mockit.getit(1000, function() end)
    end
    assert(mockit.stats().timers == 10000, "timers " .. mockit.stats().timers)
    for i = 1, 10000, 2 do
        ts[i]:destroy()
        ts[i] = nil
    end
    full_gc()
    assert(mockit.stats().timers == 5000, "timers " .. mockit.stats().timers)
    for i = 2, 10000, 2 do
        ts[i]:destroy()
    end
    assert(mockit.stats().timers == 0)
    assert(h.elapsed_ms(t0) < 5000, "took " .. h.elapsed_ms(t0) .. " ms")
end)

test("arming and destroying in rounds does not grow Lua memory", function()
    local function round()
        local ts = {}
        for i = 1, 2000 do
            ts[i] = mockit.getit(1000, function() end, i)
        end
        for i = 1, 2000 do
            ts[i]:destroy()
        end
        full_gc()
        return collectgarbage("count")
    end
    local first = round()
    local last
    for _ = 1, 5 do
        last = round()
    end
    assert(last < first * 1.2 + 64, string.format("Lua memory %.0f KiB -> %.0f KiB", first, last))
end)

-- Child processes: the state is closed with timers armed (dropped and kept), intervals
-- firing and expiries queued. Each child must exit 0 promptly.

-- Quotes `s` for /bin/sh.
local function shq(s)
    return "'" .. s:gsub("'", [['\'']]) .. "'"
end

local CHILD = [[
local mockit = require("mockit")
local keep = {}
for i = 1, 10000 do
    keep[i] = mockit.getit(1000, function() end)
end
for i = 1, 10000, 2 do
    keep[i]:destroy()
end
for i = 1, 100 do
    mockit.getit(1, function() end, i) -- dropped at once, expiring every 1 ms
end
mockit.oneoff(5, function() end)
mockit.sleep(20) -- expiries are queued, nothing drains them
keep = nil
collectgarbage()
]]

-- How each child ends: its chunk returns (lua.c calls lua_close), os.exit with close,
-- os.exit without close (exit() while the engine is running, no lua_close).
local ENDINGS = {
    { "the chunk returns", "" },
    { "os.exit(0, true)", "os.exit(0, true)" },
    { "os.exit(0)", "os.exit(0)" },
}

for _, ending in ipairs(ENDINGS) do
    test("a child with 10,000 armed timers exits 0 promptly when " .. ending[1], function()
        local lua = os.getenv("MOCKIT_TEST_LUA") or "lua5.4"
        local cmd = string.format("LUA_CPATH=%s timeout 20 %s -e %s", shq(package.cpath), lua,
            shq(CHILD .. ending[2]))
        local t0 = mockit.hrtime()
        local ok, how, code = os.execute(cmd)
        local took = h.elapsed_ms(t0)
        assert(ok and how == "exit" and code == 0, string.format("child ended: %s %s", how, code))
        assert(took < 5000, string.format("child took %.0f ms", took))
    end)
end
