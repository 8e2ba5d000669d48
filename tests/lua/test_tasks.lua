-- SPDX-License-Identifier: MIT
-- test_tasks.lua: tasks (SPEC section 7): spawn, pause, wait, cancel, status, ref/unref,
-- await_signal; callbacks and signal handlers run as tasks. On simulated time, so that every
-- pause can be checked to the millisecond.

local h = require("harness")
local mockit = require("mockit")
local test, checkerr = h.test, h.checkerr

mockit.clock.virtual()
local under_mockit_run = (arg[-1] or ""):match("mockit%-run$") ~= nil

local function now() return mockit.mstimestamp() end

-- Runs the loop until `task` has ended (or nothing is left to run), as run() would.
local function finish(task)
    while task:status() == "paused" or task:status() == "running" do
        if mockit.wait(60000) == 0 and mockit.stats().timers == 0 then break end
        mockit.process_events()
    end
    return task
end

-- Sends signal `name` to this very process (the shell os.execute starts is our child).
local function raise(name)
    assert(os.execute("kill -" .. name:gsub("^SIG", "") .. " $PPID"), "kill failed")
end

-- What task:wait() returns for `task`, asked from a task of its own: at once when it has ended.
local function outcome(task)
    local got
    finish(mockit.spawn(function() got = table.pack(task:wait()) end))
    return table.unpack(got, 1, got.n)
end

local function closer(log, name)
    return setmetatable({}, { __close = function(_, err) log[#log + 1] = name .. ":" .. tostring(err) end })
end

test("spawn runs the task at once, until its first pause, and returns its handle", function()
    local steps = {}
    local t = mockit.spawn(function(a, b)
        steps[#steps + 1] = "start " .. a .. b
        mockit.pause(10)
        steps[#steps + 1] = "resumed"
    end, "x", "y")
    assert(#steps == 1 and steps[1] == "start xy", "did not run at once")
    assert(t:status() == "paused", t:status())
    assert(tostring(t):match("^mockit%.task %(paused%): "), tostring(t))
    finish(t)
    assert(t:status() == "done" and steps[2] == "resumed")
end)

test("pause(ms) suspends the task exactly ms of simulated time; other timers run meanwhile", function()
    local log = {}
    local t0 = now()
    mockit.oneoff(5, function() log[#log + 1] = "timer@" .. (now() - t0) end)
    local t = mockit.spawn(function()
        mockit.pause(20)
        log[#log + 1] = "task@" .. (now() - t0)
        mockit.pause(0)
        log[#log + 1] = "again@" .. (now() - t0)
    end)
    finish(t)
    assert(table.concat(log, " ") == "timer@5 task@20 again@20", table.concat(log, " "))
end)

test("a task with the same due time as a timer runs in the order they were armed", function()
    local log = {}
    local t = mockit.spawn(function() mockit.pause(10) log[#log + 1] = "task" end)
    mockit.oneoff(10, function() log[#log + 1] = "timer" end)
    finish(t)
    mockit.process_events()
    assert(table.concat(log, " ") == "task timer", table.concat(log, " "))
end)

test("callbacks of one-offs and intervals, and signal handlers, run as tasks: they may pause", function()
    local log = {}
    local t0 = now()
    mockit.oneoff(10, function(tag)
        mockit.pause(15)
        log[#log + 1] = tag .. "@" .. (now() - t0)
    end, "oneoff")
    local n = 0
    local iv
    iv = mockit.getit(10, function()
        n = n + 1
        if n == 1 then
            mockit.pause(3) -- the next tick is not held up
            log[#log + 1] = "interval@" .. (now() - t0)
        elseif n == 2 then
            iv:destroy()
        end
    end)
    mockit.signal("SIGUSR1", function(name)
        mockit.pause(1)
        log[#log + 1] = name
    end)
    raise("SIGUSR1")
    while mockit.stats().timers > 0 or mockit.stats().pending > 0 do
        mockit.wait()
        mockit.process_events()
    end
    mockit.signal("SIGUSR1", nil)
    assert(table.concat(log, " ") == "SIGUSR1 interval@13 oneoff@25", table.concat(log, " "))
end)

test("task:wait() returns true and the results, or nil and the error, or nil, 'timeout'", function()
    local adder = mockit.spawn(function(a, b) mockit.pause(30) return a + b, nil, "end" end, 1, 2)
    local failing = mockit.spawn(function() mockit.pause(5) error({ code = 7 }) end)
    mockit.on_error(function() end) -- the failing task's error, reported as a callback's
    local results = {}
    local waiter = mockit.spawn(function()
        results.timeout = table.pack(adder:wait(10))
        results.done = table.pack(adder:wait())
        results.again = table.pack(adder:wait()) -- an ended task answers at once
        results.failed = table.pack(failing:wait())
    end)
    finish(waiter)
    mockit.on_error(nil)
    assert(results.timeout.n == 2 and results.timeout[1] == nil and results.timeout[2] == "timeout")
    assert(results.done.n == 4 and results.done[1] == true and results.done[2] == 3 and
        results.done[3] == nil and results.done[4] == "end")
    assert(results.again[2] == 3)
    assert(results.failed[1] == nil and results.failed[2].code == 7)
    assert(failing:status() == "failed")
end)

test("an error in a task is a callback error: on_error gets it, or it propagates", function()
    local got
    mockit.on_error(function(err) got = err end)
    local t = mockit.spawn(function() error("first run") end)
    assert(t:status() == "failed" and got:match("first run"))
    t = mockit.spawn(function() mockit.pause(1) error("after a pause") end)
    finish(t)
    assert(got:match("after a pause"))
    mockit.on_error(nil)
    checkerr("at once", function() mockit.spawn(function() error("at once") end) end)
    t = mockit.spawn(function() mockit.pause(1) error("from the loop") end)
    mockit.wait()
    checkerr("from the loop", mockit.process_events)
    assert(t:status() == "failed")
end)

test("the error value a callback's task raises reaches on_error itself, <close> handlers too", function()
    local got, closed = {}, nil
    mockit.on_error(function(err) got[#got + 1] = err end)
    local e = { id = 7 }
    mockit.oneoff(0, function(n) error(e) end, 1)
    mockit.oneoff(0, error, e) -- a C function raising
    mockit.oneoff(0, function(n)
        local c <close> = setmetatable({}, { __close = function(_, err) closed = err end })
        mockit.pause(1)
        error("after a pause", 0)
    end, 2)
    while mockit.stats().timers > 0 do mockit.wait() mockit.process_events() end
    mockit.on_error(nil)
    assert(#got == 3 and rawequal(got[1], e) and rawequal(got[2], e), tostring(got[1]))
    assert(got[3] == "after a pause" and closed == "after a pause", tostring(got[3]))
end)

test("cancel() closes a paused task: <close> runs once, its pause goes, waiters get 'cancelled'", function()
    local before = mockit.stats()
    local log = {}
    local sleeper = mockit.spawn(function()
        local c <close> = closer(log, "sleeper")
        mockit.pause(1000)
        log[#log + 1] = "never"
    end)
    local got
    local waiter = mockit.spawn(function() got = table.pack(sleeper:wait()) end)
    assert(mockit.stats().tasks == before.tasks + 2 and mockit.stats().timers == before.timers + 1)
    assert(sleeper:cancel() == true)
    assert(sleeper:status() == "cancelled" and log[1] == "sleeper:nil" and #log == 1)
    assert(sleeper:cancel() == false, "cancelling twice") -- and the <close> ran once
    finish(waiter)
    assert(got[1] == nil and got[2] == "cancelled")
    local after = mockit.stats()
    assert(after.tasks == before.tasks and after.timers == before.timers and after.armed == before.armed)
    assert(#log == 1)
end)

test("cancelling a task that waits on another: the other goes on, unaffected", function()
    local worker = mockit.spawn(function() mockit.pause(20) return "work" end)
    local waiter = mockit.spawn(function() return worker:wait() end)
    assert(waiter:cancel() == true and waiter:status() == "cancelled")
    finish(worker)
    assert(worker:status() == "done" and select(2, outcome(worker)) == "work")
    local w2 = mockit.spawn(function() return select(2, worker:wait()) end) -- ended: at once
    assert(w2:status() == "done" and select(2, outcome(w2)) == "work")
end)

test("a task cancelling itself ends there; its <close> variables run", function()
    local log = {}
    local t
    t = mockit.spawn(function()
        local c <close> = closer(log, "self")
        mockit.pause(5)
        t:cancel()
        log[#log + 1] = "never"
    end)
    finish(t)
    assert(t:status() == "cancelled" and #log == 1 and log[1] == "self:nil", table.concat(log, " "))
end)

test("cancel from a <close> handler: of the task being cancelled, a no-op; of another, done", function()
    local log = {}
    local other = mockit.spawn(function()
        local c <close> = closer(log, "other")
        mockit.pause(100)
    end)
    local t
    t = mockit.spawn(function()
        local c <close> = setmetatable({}, { __close = function()
            local again = t:cancel()
            log[#log + 1] = "again:" .. tostring(again)
            local cancelled = other:cancel() -- its own <close> logs first
            log[#log + 1] = "other:" .. tostring(cancelled)
        end })
        mockit.pause(100)
    end)
    assert(t:cancel() == true)
    assert(table.concat(log, " ") == "again:false other:nil other:true", table.concat(log, " "))
    assert(t:status() == "cancelled" and other:status() == "cancelled")
end)

test("an error in a <close> handler as cancel() closes a task: the task fails, on_error gets it", function()
    local got, tb
    mockit.on_error(function(err, traceback) got, tb = err, traceback end)
    local t = mockit.spawn(function()
        local c <close> = setmetatable({}, { __close = function() error("close failed", 0) end })
        mockit.pause(100)
    end)
    assert(t:cancel() == true)
    mockit.on_error(nil)
    assert(got == "close failed" and t:status() == "failed", tostring(got))
    assert(tb:match("stack traceback:") and tb:match("test_tasks.lua"), tb)
end)

test("tasks that <close> handlers start as the state closes are closed too", function()
    -- In a child state: closing this one would end the test run.
    local script = [[
        local mockit = require("mockit")
        mockit.clock.virtual()
        mockit.spawn(function()
            local c <close> = setmetatable({}, { __close = function()
                mockit.spawn(function()
                    local d <close> = setmetatable({}, { __close = function() print("inner closed") end })
                    mockit.pause(100)
                end)
                print("outer closed")
            end })
            mockit.pause(100)
        end):unref()
    ]]
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write(script)
    f:close()
    local interpreter = arg[-1]
    local out = assert(io.popen(string.format("%q %q", interpreter, path))):read("a")
    os.remove(path)
    assert(out == "outer closed\ninner closed\n", out)
end)

test("a <close> handler cannot pause while its task is cancelled", function()
    local got
    mockit.on_error(function(err) got = err end)
    local t = mockit.spawn(function()
        local c <close> = setmetatable({}, { __close = function() mockit.pause(1) end })
        mockit.pause(100)
    end)
    t:cancel()
    mockit.on_error(nil)
    assert(tostring(got):match("pause: the task is being cancelled"), tostring(got))
    assert(t:status() == "failed", t:status())
end)

test("cancelling a task that is running (it started the caller) is an error", function()
    local msg
    local parent
    parent = mockit.spawn(function()
        mockit.pause(1) -- `parent` is set by now
        mockit.spawn(function() msg = select(2, pcall(parent.cancel, parent)) end)
    end)
    finish(parent)
    assert(parent:status() == "done")
    assert(msg:match("cancel: the task is running %(it started the caller%)"), msg)
end)

test("a task whose handle is dropped still runs to its end", function()
    local done = false
    mockit.spawn(function() mockit.pause(10) done = true end)
    collectgarbage()
    collectgarbage()
    while not done and mockit.wait() > 0 do mockit.process_events() end
    assert(done)
end)

test("a paused task keeps run() alive; an unref'd one does not", function()
    local t = mockit.spawn(function() mockit.pause(50) end)
    local t0 = now()
    mockit.run()
    assert(now() - t0 == 50 and t:status() == "done")
    t = mockit.spawn(function() mockit.pause(50) end)
    assert(t:unref() == t)
    t0 = now()
    mockit.run()
    assert(now() == t0 and t:status() == "paused", "an unref'd task kept run() alive")
    t:ref()
    mockit.run()
    assert(t:status() == "done")
end)

test("a task waiting for an unref'd task keeps run() alive, as any paused task", function()
    local helper = mockit.spawn(function() mockit.pause(50) return "h" end):unref()
    local got
    local t = mockit.spawn(function() got = table.pack(helper:wait()) end)
    local t0 = now()
    mockit.run()
    assert(now() - t0 == 50 and t:status() == "done" and got[2] == "h", t:status())
    -- Unref'd, the waiter does not.
    helper = mockit.spawn(function() mockit.pause(50) end):unref()
    t = mockit.spawn(function() helper:wait() end):unref()
    t0 = now()
    mockit.run()
    assert(now() == t0 and t:status() == "paused")
    t:ref():unref():ref()
    mockit.run()
    assert(t:status() == "done" and mockit.stats().tasks == 0)
    -- Two tasks waiting for each other: in simulated time, stuck, and the message says why.
    local a, b
    a = mockit.spawn(function() mockit.pause(1) b:wait() end)
    b = mockit.spawn(function() mockit.pause(1) a:wait() end)
    local ok, err = pcall(mockit.run)
    assert(not ok and tostring(err):match("2 tasks wait for another task"), tostring(err))
    a:cancel()
    b:cancel()
    assert(mockit.stats().tasks == 0)
end)

test("await_signal(name) resumes the task when the signal comes; with a timeout, nil, 'timeout'", function()
    local got = {}
    local t = mockit.spawn(function()
        got.timeout = table.pack(mockit.await_signal("SIGUSR2", 25))
        got.signal = table.pack(mockit.await_signal("SIGUSR2"))
    end)
    local t0 = now()
    while t:status() == "paused" and not got.timeout do mockit.wait() mockit.process_events() end
    assert(now() - t0 == 25 and got.timeout[1] == nil and got.timeout[2] == "timeout")
    raise("SIGUSR2") -- the task waits for it: the signal is caught, not fatal
    finish(t)
    assert(got.signal.n == 1 and got.signal[1] == true)
end)

test("a signal once awaited stays caught: one arriving between two waits does not end the process", function()
    local t = mockit.spawn(function() return mockit.await_signal("SIGUSR2", 10) end)
    finish(t)
    raise("SIGUSR2") -- nobody waits for it now: dropped, where its default action would end us
    mockit.wait(5)
    mockit.process_events()
    local got
    t = mockit.spawn(function() got = mockit.await_signal("SIGUSR2", 1000) end)
    raise("SIGUSR2")
    finish(t)
    assert(got == true, "the next wait did not get the next signal")
end)

test("a task waiting for a signal keeps run() alive; in simulated time, nothing else: stuck", function()
    local t = mockit.spawn(function() mockit.await_signal("SIGUSR2") end)
    checkerr("stuck in simulated time: wait%(%) has no timer to wait for and no timeout; " ..
        "tasks wait for SIGUSR2", mockit.run)
    t:cancel()
    assert(t:status() == "cancelled")
end)

test("Lua's own rule: no pause inside C-called code (string.gsub's function)", function()
    local msg
    local t = mockit.spawn(function()
        msg = select(2, pcall(string.gsub, "a", "a", function() mockit.pause(1) end))
    end)
    assert(t:status() == "done")
    assert(msg:match("attempt to yield across a C%-call boundary"), msg)
    assert(mockit.stats().timers == 0, "the failed pause left a timer")
end)

test("pause inside pcall works: pcall is yieldable", function()
    local t = mockit.spawn(function() return pcall(mockit.pause, 5) end)
    finish(t)
    assert(select(2, outcome(t)) == true)
end)

test("coroutine.yield() at a task's level is an error, not a task that hangs for ever", function()
    local got
    mockit.on_error(function(err) got = err end)
    local t = mockit.spawn(function() coroutine.yield(1) end)
    mockit.on_error(nil)
    assert(t:status() == "failed")
    assert(tostring(got):match("coroutine.yield%(%) in a task"), tostring(got))
    -- A coroutine of the script's own inside a task yields as ever.
    t = mockit.spawn(function()
        local co = coroutine.wrap(function() coroutine.yield("inner") return "end" end)
        mockit.pause(1)
        return co(), co()
    end)
    finish(t)
    local _, a, b = outcome(t)
    assert(a == "inner" and b == "end")
end)

test("bad input: each a clear error", function()
    checkerr("bad argument #1 to 'spawn' (function expected, got number)", function() mockit.spawn(1) end)
    checkerr("bad argument #1 to 'spawn' (function expected, got no value)", function() mockit.spawn() end)
    local t = mockit.spawn(function()
        checkerr("bad argument #1 to 'pause' (delay must be an integer", function() mockit.pause(-1) end)
        checkerr("bad argument #1 to 'pause' (number has no integer representation)",
            function() mockit.pause(0.5) end)
        checkerr("bad argument #1 to 'await_signal' (unknown signal 'SIGFOO')",
            function() mockit.await_signal("SIGFOO") end)
        checkerr("bad argument #1 to 'await_signal' (SIGKILL cannot be handled)",
            function() mockit.await_signal("SIGKILL") end)
        checkerr("bad argument #1 to 'wait' (delay must be an integer", -- #1 of a method
            function() mockit.spawn(function() end):wait(-5) end)
    end)
    assert(t:status() == "done")
    local me
    me = mockit.spawn(function() mockit.pause(1) return pcall(me.wait, me) end)
    finish(me)
    local _, ok, err = outcome(me)
    assert(not ok and err:match("wait: a task cannot wait for itself"), err)
    checkerr("bad argument #1 to 'cancel' (mockit.task expected, got table)", function() t.cancel({}) end)
    local timer = mockit.oneoff(1, function() end)
    checkerr("bad argument #1 to 'wait' (mockit.task expected, got mockit.timer)", function() t.wait(timer) end)
    timer:destroy()
    -- Outside a task: a coroutine of the script's own is not one (nor, under lua5.4, the main chunk).
    local co = coroutine.wrap(function()
        checkerr("pause: not inside a task (start one with mockit.spawn)", function() mockit.pause(1) end)
        checkerr("wait: not inside a task", function() t:wait() end)
        checkerr("await_signal: not inside a task", function() mockit.await_signal("SIGUSR1") end)
    end)
    co()
end)

test("coroutine.resume on a paused task's coroutine: returns at once, the task stays paused", function()
    -- The pre-task idiom: a helper that keeps coroutine.running() to resume it from a callback.
    -- Tasks run on pooled coroutines, so a kept one may be running another task by then.
    local co, log, t0 = nil, {}, now()
    local t = mockit.spawn(function()
        co = coroutine.running()
        mockit.pause(10)
        log[#log + 1] = "resumed@" .. (now() - t0)
    end)
    local resumed = table.pack(coroutine.resume(co, "x"))
    assert(resumed.n == 1 and resumed[1] == true, tostring(resumed[2]))
    assert(#log == 0 and t:status() == "paused", t:status())
    local w = mockit.spawn(function() return t:wait() end)
    assert(coroutine.resume(co) and t:status() == "paused" and w:status() == "paused")
    finish(w)
    assert(table.concat(log, " ") == "resumed@10", table.concat(log, " "))
end)

test("coroutine.close on a paused task's coroutine: the task is cancelled, its waiters told", function()
    local co, closed
    local t = mockit.spawn(function()
        co = coroutine.running()
        local c <close> = setmetatable({}, { __close = function() closed = true end })
        mockit.pause(10)
    end)
    local w = mockit.spawn(function() return t:wait() end)
    assert(coroutine.close(co) and closed)
    finish(w)
    assert(t:status() == "cancelled", t:status())
    local _, ok, err = outcome(w)
    assert(ok == nil and err == "cancelled", tostring(err))
    assert(mockit.stats().tasks == 0 and mockit.stats().timers == 0)
end)

test("the main chunk: a task under mockit-run (pause runs the loop), not one under lua5.4", function()
    if under_mockit_run then
        local log, t0 = {}, now()
        mockit.oneoff(5, function() log[#log + 1] = "timer@" .. (now() - t0) end)
        mockit.pause(10)
        log[#log + 1] = "main@" .. (now() - t0)
        local t = mockit.spawn(function() mockit.pause(7) return "r" end)
        local ok, r = t:wait()
        assert(ok and r == "r" and now() - t0 == 17)
        assert(table.concat(log, " ") == "timer@5 main@10", table.concat(log, " "))
    else
        checkerr("pause: not inside a task (start one with mockit.spawn)", function() mockit.pause(1) end)
    end
end)
