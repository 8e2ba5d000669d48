-- SPDX-License-Identifier: MIT
-- test_errors.lua: errors raised by callbacks (on_error, propagation out of
-- process_events), and the table of bad arguments: each raises "bad argument #N to 'NAME'",
-- worded exactly as "Bad input and what it gets" in packaging/doc/reference.md says.

local h = require("harness")
local mockit = require("mockit")
local test, expect, checkerr, track = h.test, h.expect, h.checkerr, h.track

-- Callback errors ----------------------------------------------------------------------

test("on_error(fn): fn gets the original error value and a traceback", function()
    local value = setmetatable({}, { __tostring = function() return "an error object" end })
    local got_err, got_tb
    mockit.on_error(expect(function(err, tb)
        got_err, got_tb = err, tb
    end, 1))
    mockit.oneoff(1, expect(function() error(value) end, 1))
    h.loop_until(function() return got_err ~= nil end)
    mockit.on_error(nil)
    assert(rawequal(got_err, value), "err is not the value given to error(): " .. tostring(got_err))
    assert(type(got_tb) == "string", "traceback is a " .. type(got_tb))
    assert(got_tb:find("stack traceback", 1, true), "traceback: " .. got_tb)
end)

test("on_error(fn): a string error keeps its position prefix", function()
    local got
    mockit.on_error(expect(function(err) got = err end, 1))
    mockit.oneoff(1, expect(function() error("positioned") end, 1))
    h.loop_until(function() return got ~= nil end)
    mockit.on_error(nil)
    assert(type(got) == "string" and got:find("test_errors.lua:%d+: positioned"), tostring(got))
end)

test("on_error(fn): process_events goes on with the other queued callbacks", function()
    local ran = {}
    mockit.on_error(expect(nil, 1))
    mockit.oneoff(1, expect(function() table.insert(ran, "a") end, 1))
    mockit.oneoff(2, expect(function() error("middle") end, 1))
    mockit.oneoff(3, expect(function() table.insert(ran, "c") end, 1))
    assert(h.wait_queued(3), "not queued")
    local n = mockit.process_events()
    mockit.on_error(nil)
    assert(table.concat(ran) == "ac", "ran " .. table.concat(ran))
    assert(n == 2 or n == 3, "process_events() returned " .. n)
    assert(mockit.pending() == 0)
end)

test("on_error(fn): an interval that raises keeps running", function()
    local n = 0
    mockit.on_error(function() end)
    local t = track(mockit.getit(2, function()
        n = n + 1
        error("every time")
    end))
    h.loop_until(function() return n >= 3 end)
    t:destroy()
    mockit.on_error(nil)
    assert(n >= 3, "the interval ran " .. n .. " times")
end)

test("on_error(nil): the error propagates out of process_events with a traceback", function()
    mockit.on_error(function() end)
    mockit.on_error(nil)
    mockit.oneoff(1, expect(function() error("propagated") end, 1))
    assert(mockit.wait(2000) == 1)
    local ok, err = pcall(mockit.process_events)
    assert(not ok, "process_events() did not raise")
    assert(type(err) == "string", "error is a " .. type(err))
    assert(err:find("propagated", 1, true), err)
    assert(err:find("stack traceback", 1, true), "no traceback in: " .. err)
end)

test("a propagated error consumes only the failing event; others stay queued", function()
    local ran = {}
    mockit.oneoff(1, expect(function() error("first fails") end, 1))
    mockit.oneoff(3, expect(function() table.insert(ran, "b") end, 1))
    mockit.oneoff(5, expect(function() table.insert(ran, "c") end, 1))
    assert(h.wait_queued(3), "not queued")
    local before = mockit.pending()
    assert(not pcall(mockit.process_events), "process_events() did not raise")
    local after = mockit.pending()
    assert(after == before - 1, string.format("pending %d -> %d", before, after))
    assert(#ran == 0, "callbacks after the failing one ran before the error propagated")
    assert(mockit.process_events() == 2)
    assert(table.concat(ran) == "bc")
end)

test("other timers keep running after a propagated error", function()
    local n = 0
    local t = track(mockit.getit(5, function() n = n + 1 end))
    mockit.oneoff(1, expect(function() error("one bad apple") end, 1))
    local raised = false
    local deadline = mockit.mstimestamp() + 2000
    while (not raised or n < 3) and mockit.mstimestamp() < deadline do
        mockit.wait(50)
        raised = not pcall(mockit.process_events) or raised -- not h.loop_until: it would raise
    end
    t:destroy()
    assert(raised, "the error never propagated")
    assert(n >= 3, "the interval ran " .. n .. " times after the error")
end)

-- One drain runs many callbacks on one stack: a slot left behind by each would overflow it
-- (AddressSanitizer sees that).
test("on_error(fn): 500 failing callbacks in one process_events", function()
    local errors = 0
    mockit.on_error(function() errors = errors + 1 end)
    for i = 1, 500 do
        mockit.oneoff(1, expect(function() error(i) end, 1))
    end
    assert(h.wait_queued(500), "not queued")
    local n = mockit.process_events()
    mockit.on_error(nil)
    assert(n == 500 and errors == 500, string.format("ran %d, %d errors", n, errors))
end)

test("a callback's own process_events raises an inner error; the outer drain goes on", function()
    local ran = {}
    mockit.oneoff(1, expect(function()
        local ok, err = pcall(mockit.process_events)
        assert(not ok and err:find("inner", 1, true), tostring(err))
        assert(err:find("stack traceback", 1, true), "no traceback in: " .. err)
        table.insert(ran, "a")
    end, 1))
    mockit.oneoff(3, expect(function() error("inner") end, 1))
    mockit.oneoff(5, expect(function() table.insert(ran, "c") end, 1))
    assert(h.wait_queued(3), "not queued")
    local n = mockit.process_events()
    assert(table.concat(ran) == "ac", "ran " .. table.concat(ran))
    assert(n == 2, "process_events() returned " .. n)
end)

-- Bad arguments --------------------------------------------------------------------------
--
-- Every call below is written out literally (mockit.getit(...), t:reset(...)), never through
-- pcall(mockit.getit, ...) or mockit[name](...): lauxlib takes the function name for its
-- message from the calling instruction, and those forms would hide it.

local made -- a timer a case armed although it should have raised: destroyed, not leaked

local function f() end
local callable = setmetatable({}, { __call = function() end })

local ARM = {
    oneoff = function(ms, fn) made = mockit.oneoff(ms, fn) end,
    getit = function(ms, fn) made = mockit.getit(ms, fn) end,
}

local BAD_DELAYS = {
    { '"abc"', "abc" }, { "nil", nil }, { "{}", {} }, { "true", true }, { "-1", -1 },
    { "0.5", 0.5 }, { "NaN", 0 / 0 }, { "math.huge", math.huge }, { "-math.huge", -math.huge },
    { "2^40+1 (float)", 2 ^ 40 + 1 }, { "2^40+1 (integer)", (1 << 40) + 1 },
    { "math.maxinteger", math.maxinteger }, { "math.mininteger", math.mininteger },
}

local BAD_CALLBACKS = {
    { "nil", nil }, { "5", 5 }, { "{}", {} }, { '"f"', "f" }, { "true", true },
    { "a table without __call", setmetatable({}, {}) },
}

-- Each method called as a plain function, t.NAME(x), so that x is its self argument.
local CALL_METHOD = {
    destroy = function(t, x) t.destroy(x) end,
    reset = function(t, x) t.reset(x) end,
    active = function(t, x) t.active(x) end,
    interval = function(t, x) t.interval(x) end,
    kind = function(t, x) t.kind(x) end,
    ref = function(t, x) t.ref(x) end,
    unref = function(t, x) t.unref(x) end,
}
local METHODS = { "destroy", "reset", "active", "interval", "kind", "ref", "unref" }

-- Registers one test: fn(t) must raise an error containing every string of `needles`.
-- `t` is a fresh armed interval the case may use; it is destroyed afterwards.
local function bad(label, needles, fn)
    test("bad input: " .. label, function()
        local t = mockit.getit(100000, f)
        made = nil
        local ok, err = pcall(fn, t)
        t:destroy()
        if made then
            pcall(made.destroy, made)
        end
        assert(not ok, "no error raised")
        local msg = tostring(err)
        for _, needle in ipairs(type(needles) == "table" and needles or { needles }) do
            assert(msg:find(needle, 1, true), string.format("%q does not contain %q", msg, needle))
        end
    end)
end

for _, name in ipairs({ "oneoff", "getit" }) do
    for _, case in ipairs(BAD_DELAYS) do
        bad(string.format("%s(%s, f)", name, case[1]), "bad argument #1 to '" .. name .. "'",
            function() ARM[name](case[2], f) end)
    end
    for _, case in ipairs(BAD_CALLBACKS) do
        bad(string.format("%s(10, %s)", name, case[1]), "bad argument #2 to '" .. name .. "'",
            function() ARM[name](10, case[2]) end)
    end
end

for _, case in ipairs(BAD_DELAYS) do
    if case[2] ~= nil then -- reset() without a delay is valid
        bad(string.format("t:reset(%s)", case[1]), "bad argument #1 to 'reset'",
            function(t) t:reset(case[2]) end)
    end
end

bad("t:reset() on a destroyed timer", "destroyed", function(t)
    t:destroy()
    t:reset()
end)

bad("t:reset(10) on a destroyed timer", "destroyed", function(t)
    t:destroy()
    t:reset(10)
end)

-- A method called on something that is not a timer: a table, a string, another library's
-- userdata, nothing. lauxlib words it "bad argument #1 to 'destroy' (mockit.timer expected,
-- got table)" or "calling 'destroy' on bad self": check the name and the type only.
for _, m in ipairs(METHODS) do
    local not_timers = { { "{}", {} }, { '"x"', "x" }, { "io.stdout", io.stdout }, { "nil", nil } }
    for _, case in ipairs(not_timers) do
        bad(string.format("t.%s(%s)", m, case[1]), { "'" .. m .. "'", "mockit.timer" },
            function(t) CALL_METHOD[m](t, case[2]) end)
    end
end

bad('mockit.wait("x")', "bad argument #1 to 'wait'", function() mockit.wait("x") end)
bad("mockit.wait(-1)", "bad argument #1 to 'wait'", function() mockit.wait(-1) end)
bad("mockit.wait(0.5)", "bad argument #1 to 'wait'", function() mockit.wait(0.5) end)
bad("mockit.wait(NaN)", "bad argument #1 to 'wait'", function() mockit.wait(0 / 0) end)
bad("mockit.wait({})", "bad argument #1 to 'wait'", function() mockit.wait({}) end)

bad("mockit.process_events(-1)", "bad argument #1 to 'process_events'",
    function() mockit.process_events(-1) end)
bad('mockit.process_events("x")', "bad argument #1 to 'process_events'",
    function() mockit.process_events("x") end)
bad("mockit.process_events(0.5)", "bad argument #1 to 'process_events'",
    function() mockit.process_events(0.5) end)

bad("mockit.sleep(-1)", "bad argument #1 to 'sleep'", function() mockit.sleep(-1) end)
bad("mockit.sleep(0.5)", "bad argument #1 to 'sleep'", function() mockit.sleep(0.5) end)
bad('mockit.sleep("abc")', "bad argument #1 to 'sleep'", function() mockit.sleep("abc") end)
bad("mockit.sleep()", "bad argument #1 to 'sleep'", function() mockit.sleep() end)
bad("mockit.sleep(NaN)", "bad argument #1 to 'sleep'", function() mockit.sleep(0 / 0) end)
bad("mockit.sleep(math.huge)", "bad argument #1 to 'sleep'", function() mockit.sleep(math.huge) end)

bad('mockit.signal("SIGFOO", f)', "unknown signal", function() mockit.signal("SIGFOO", f) end)
bad('mockit.signal("SIGFOO", nil)', "unknown signal", function() mockit.signal("SIGFOO", nil) end)
bad('mockit.signal("SIGKILL", f)', "'signal'", function() mockit.signal("SIGKILL", f) end)
bad('mockit.signal("SIGSTOP", f)', "'signal'", function() mockit.signal("SIGSTOP", f) end)
bad("mockit.signal(nil, f)", "bad argument #1 to 'signal'", function() mockit.signal(nil, f) end)
bad("mockit.signal({}, f)", "bad argument #1 to 'signal'", function() mockit.signal({}, f) end)
bad('mockit.signal("SIGUSR1", 5)', "bad argument #2 to 'signal'",
    function() mockit.signal("SIGUSR1", 5) end)
bad('mockit.signal("SIGUSR1", {})', "bad argument #2 to 'signal'",
    function() mockit.signal("SIGUSR1", {}) end)

bad("mockit.on_error(5)", "bad argument #1 to 'on_error'", function() mockit.on_error(5) end)
bad('mockit.on_error("f")', "bad argument #1 to 'on_error'", function() mockit.on_error("f") end)
bad("mockit.on_error({})", "bad argument #1 to 'on_error'", function() mockit.on_error({}) end)

bad('mockit.stop("x")', "bad argument #1 to 'stop'", function() mockit.stop("x") end)
bad("mockit.stop(0.5)", "bad argument #1 to 'stop'", function() mockit.stop(0.5) end)

bad("mockit.log.info(nil)", "bad argument #1 to 'info'", function() mockit.log.info(nil) end)
bad("mockit.log.warn({})", "bad argument #1 to 'warn'", function() mockit.log.warn({}) end)
bad('mockit.log.error("%d", "x")', "number expected", function() mockit.log.error("%d", "x") end)
bad('mockit.log.info("%z", 1)', "invalid conversion", function() mockit.log.info("%z", 1) end)
bad('mockit.log.info("%d")', "no value", function() mockit.log.info("%d") end)

bad("mockit.notify({})", "bad argument #1 to 'notify'", function() mockit.notify({}) end)

-- The table "Bad input and what it gets" of packaging/doc/reference.md, API half -----------
--
-- Each row's message exactly as the reference gives it (after the "file:line: " position).

-- Asserts that f() raises `want`, exactly, after the position prefix.
local function raises_exactly(want, f)
    local ok, err = pcall(f)
    assert(not ok, "no error raised; expected: " .. want)
    local msg = tostring(err):gsub("^.-:%d+: ", "", 1)
    assert(msg == want, string.format("got %q, want %q", msg, want))
end

local DELAY_RANGE = "delay must be an integer from 0 to 1099511627776 ms"

-- { label, message, function making the call (written out literally, for lauxlib's name) }
local TABLE = {
    { "oneoff(0.5, f)", "bad argument #1 to 'oneoff' (number has no integer representation)",
        function() mockit.oneoff(0.5, f) end },
    { "oneoff(0/0, f)", "bad argument #1 to 'oneoff' (number has no integer representation)",
        function() mockit.oneoff(0 / 0, f) end },
    { "getit(math.huge, f)", "bad argument #1 to 'getit' (number has no integer representation)",
        function() mockit.getit(math.huge, f) end },
    { 'oneoff("soon", f)', "bad argument #1 to 'oneoff' (number expected, got string)",
        function() mockit.oneoff("soon", f) end },
    { "getit(-1, f)", "bad argument #1 to 'getit' (" .. DELAY_RANGE .. ")",
        function() mockit.getit(-1, f) end },
    { "getit(2^40 + 1, f)", "bad argument #1 to 'getit' (" .. DELAY_RANGE .. ")",
        function() mockit.getit((1 << 40) + 1, f) end },
    { "oneoff(10, 42)", "bad argument #2 to 'oneoff' (function expected, got number)",
        function() mockit.oneoff(10, 42) end },
    { "getit(10)", "bad argument #2 to 'getit' (function expected, got no value)",
        function() mockit.getit(10) end },
    { "sleep(-1)", "bad argument #1 to 'sleep' (" .. DELAY_RANGE .. ")",
        function() mockit.sleep(-1) end },
    { 'wait("x")', "bad argument #1 to 'wait' (number expected, got string)",
        function() mockit.wait("x") end },
    { "t:reset(0.5)", "bad argument #1 to 'reset' (number has no integer representation)",
        function(t) t:reset(0.5) end },
    { "process_events(-1)", "bad argument #1 to 'process_events' (must not be negative)",
        function() mockit.process_events(-1) end },
    { "stop(256)", "bad argument #1 to 'stop' (exit code must be from 0 to 255)",
        function() mockit.stop(256) end },
    { "on_error(5)", "bad argument #1 to 'on_error' (function expected, got number)",
        function() mockit.on_error(5) end },
    { 'signal("SIGFOO", f)', "bad argument #1 to 'signal' (unknown signal 'SIGFOO')",
        function() mockit.signal("SIGFOO", f) end },
    { 'signal("SIGKILL", f)', "bad argument #1 to 'signal' (SIGKILL cannot be handled)",
        function() mockit.signal("SIGKILL", f) end },
    { 'signal("SIGSEGV", f)', "bad argument #1 to 'signal' (SIGSEGV cannot be handled)",
        function() mockit.signal("SIGSEGV", f) end },
    { "signal(nil, f)", "bad argument #1 to 'signal' (string expected, got nil)",
        function() mockit.signal(nil, f) end },
    { 'signal("SIGUSR1", 5)', "bad argument #2 to 'signal' (function expected, got number)",
        function() mockit.signal("SIGUSR1", 5) end },
    { "notify({})", "bad argument #1 to 'notify' (string expected, got table)",
        function() mockit.notify({}) end },
    { "log.info(nil)", "bad argument #1 to 'info' (string expected, got nil)",
        function() mockit.log.info(nil) end },
    { 'log.info("%d", "x")', "bad argument #2 to 'info' (number expected, got string)",
        function() mockit.log.info("%d", "x") end },
    { 'log.info("%z", 1)', "invalid conversion '%z' to 'format'",
        function() mockit.log.info("%z", 1) end },
    { "t.destroy({})", "bad argument #1 to 'destroy' (mockit.timer expected, got table)",
        function(t) t.destroy({}) end },
    { "dead:reset()", "calling 'reset' on bad self (timer is destroyed)",
        function(_, dead) dead:reset() end },
    { "dead:ref()", "calling 'ref' on bad self (timer is destroyed)",
        function(_, dead) dead:ref() end },
    { "dead:unref()", "calling 'unref' on bad self (timer is destroyed)",
        function(_, dead) dead:unref() end },
}

for _, row in ipairs(TABLE) do
    test("table: " .. row[1], function()
        local t = mockit.getit(100000, f)
        local dead = mockit.oneoff(100000, f)
        dead:destroy()
        made = nil
        local ok, err = pcall(raises_exactly, row[2], function() row[3](t, dead) end)
        t:destroy()
        if made then
            pcall(made.destroy, made)
        end
        assert(ok, err)
    end)
end

test("table: what is not an error", function()
    local dead = mockit.oneoff(100000, f)
    dead:destroy()
    assert(dead:destroy() == nil and dead:active() == false and dead:kind() == "oneoff")
    assert(math.type(mockit.mstimestamp(1, "x")) == "integer") -- arguments ignored
    assert(math.type(mockit.hrtime({})) == "integer")
    assert(mockit.pending(true) == 0 and mockit.inqueue(f) == 0)
    assert(math.type(select(2, mockit.time("x"))) == "integer" and mockit.stats(1).pending == 0)
    mockit.on_error(nil) -- nil is "no handler"
    mockit.signal("SIGUSR2", nil)
    local fired = mockit.oneoff(0, f)
    assert(mockit.wait(2000) == 1 and mockit.process_events() == 1)
    fired:reset(10) -- re-arms a one-off that already fired (Node's refresh())
    assert(fired:active())
    fired:destroy()
    assert(mockit.run("ignored") == 0) -- nothing keeps it going
end)

-- Good input at the edges -----------------------------------------------------------------

test("edge delays are accepted: 0, 2^31, 2^40 (integer and float)", function()
    for _, ms in ipairs({ 0, 1 << 31, 1 << 40, 2 ^ 40, 2 ^ 31 }) do
        local a = mockit.oneoff(ms, f)
        local b = mockit.getit(ms, f)
        local want = (ms == 0) and 1 or math.tointeger(ms)
        assert(a:interval() == math.tointeger(ms), "oneoff interval() " .. a:interval())
        assert(b:interval() == want, "getit interval() " .. b:interval())
        a:destroy()
        b:destroy()
    end
    local g = mockit.getit(10.0, f) -- a float with an integer value is an integer
    assert(math.type(g:interval()) == "integer" and g:interval() == 10)
    g:destroy()
    local t = mockit.getit(10, f)
    t:reset(1 << 40)
    assert(t:interval() == 1 << 40)
    t:reset(0)
    t:destroy()
end)

test("more than 65,000 callback arguments are refused, 65,000 are kept", function()
    local args = {}
    for i = 1, 65001 do args[i] = i end
    checkerr("too many callback arguments (at most 65000)",
        function() mockit.oneoff(1, f, table.unpack(args)) end)
    checkerr("too many callback arguments (at most 65000)",
        function() mockit.getit(1, f, table.unpack(args)) end)
    local last
    mockit.oneoff(0, function(...) last = select("#", ...) end, table.unpack(args, 1, 65000))
    assert(mockit.wait(2000) == 1 and mockit.process_events() == 1)
    assert(last == 65000, tostring(last))
end)

test("a callable table is accepted by getit() and oneoff()", function()
    mockit.getit(5, callable):destroy()
    mockit.oneoff(5, callable):destroy()
end)

test("checkerr() matches plain substrings and patterns", function()
    checkerr("bad argument #1 to 'sleep'", function() mockit.sleep(-1) end)
    checkerr("bad argument #%d to 'sleep'", function() mockit.sleep(-1) end)
    assert(not pcall(checkerr, "nothing like it", function() mockit.sleep(-1) end))
    assert(not pcall(checkerr, "x", function() end))
end)

-- string.format's own error (here a __tostring that raises) names one place, where it was
-- raised, not the log call's place too.
test("log.info with an argument whose __tostring raises: the message names the place once", function()
    local bad = setmetatable({}, { __tostring = function() error("ts boom") end })
    local ok, err = pcall(function() mockit.log.info("%s", bad) end) -- from Lua: a place to name
    assert(not ok)
    assert(err:find("ts boom", 1, true), err)
    assert(select(2, err:gsub(":%d+: ", "")) == 1, "a place named twice: " .. err)
end)
