-- SPDX-License-Identifier: MIT
-- Helpers shared by the Lua workloads (mockit-run and lua5.4 + luv), so both peers compute and
-- report their figures the same way. Loaded with dofile() from beside the script, which works
-- under both interpreters without touching LUA_PATH.
local lib = {}

-- Numeric command-line arguments; mockit-run and lua5.4 lay out `arg` alike.
function lib.args(defaults)
    local out = {}
    for i, default in ipairs(defaults) do
        out[i] = math.tointeger(tonumber(arg[i])) or tonumber(arg[i]) or default
    end
    return table.unpack(out, 1, #defaults)
end

-- A "Vm...:" line of /proc/self/status, in kB: peak RSS (VmHWM) is what the scale workload
-- compares, and reading it from inside keeps every peer on the same definition.
function lib.status_kb(field)
    local f = io.open("/proc/self/status", "r")
    if not f then return nil end
    local text = f:read("a")
    f:close()
    return tonumber(text:match(field .. ":%s*(%d+)"))
end

-- Nearest-rank percentile of an ascending array (the driver uses the same definition).
local function rank(sorted, p)
    local n = #sorted
    if n == 0 then return nil end
    local i = math.ceil(p * n)
    if i < 1 then i = 1 end
    return sorted[i]
end

-- Summary of a list of nanosecond durations, in microseconds; `samples` keeps them all for the
-- driver's chart and pooled percentiles.
function lib.summary(ns_list)
    local us = {}
    for i, v in ipairs(ns_list) do us[i] = v / 1000 end
    local sorted = table.move(us, 1, #us, 1, {})
    table.sort(sorted)
    return {
        n = #us,
        min = sorted[1],
        p50 = rank(sorted, 0.50),
        p99 = rank(sorted, 0.99),
        max = sorted[#sorted],
        samples = us,
    }
end

local function encode(v, out)
    local t = type(v)
    if v == nil then
        out[#out + 1] = "null"
    elseif t == "boolean" then
        out[#out + 1] = tostring(v)
    elseif t == "number" then
        if v ~= v or v == math.huge or v == -math.huge then
            out[#out + 1] = "null"
        elseif math.type(v) == "integer" then
            out[#out + 1] = string.format("%d", v)
        elseif v == math.floor(v) and math.abs(v) < 2 ^ 53 then
            out[#out + 1] = string.format("%d", math.tointeger(v))
        else
            out[#out + 1] = string.format("%.4f", v)
        end
    elseif t == "string" then
        out[#out + 1] = '"' .. v:gsub('[%c"\\]', function(c)
            return string.format("\\u%04x", c:byte())
        end) .. '"'
    elseif t == "table" then
        if #v > 0 or next(v) == nil then
            out[#out + 1] = "["
            for i = 1, #v do
                if i > 1 then out[#out + 1] = "," end
                encode(v[i], out)
            end
            out[#out + 1] = "]"
        else
            local keys = {}
            for k in pairs(v) do keys[#keys + 1] = tostring(k) end
            table.sort(keys)
            out[#out + 1] = "{"
            for i, k in ipairs(keys) do
                if i > 1 then out[#out + 1] = "," end
                encode(k, out)
                out[#out + 1] = ":"
                encode(v[k], out)
            end
            out[#out + 1] = "}"
        end
    else
        out[#out + 1] = "null"
    end
end

-- The workload's one result line: a single JSON object on stdout, flushed at once so that the
-- driver gets it even if the process is then killed.
function lib.emit(result)
    local out = {}
    encode(result, out)
    io.stdout:write(table.concat(out), "\n")
    io.stdout:flush()
end

-- The end of each workload, shared by its mockit-run and luv variants so that both check and
-- report the same way from the same raw measurements (times are hrtime nanoseconds).
lib.report = {}

function lib.report.interval(m)
    local expected = m.duration_ms // m.interval_ms
    local too_many = m.fires > expected
    lib.emit({
        workload = "interval",
        interval_ms = m.interval_ms,
        duration_ms = m.duration_ms,
        expected = expected,
        fires = m.fires,
        drift_us = m.fires > 0 and (m.lateness[m.fires] - m.lateness[1]) / 1000 or nil,
        lateness = lib.summary(m.lateness),
        rss_kb = lib.status_kb("VmHWM"),
        ok = not too_many,
        errors = too_many and { "more fires than the schedule allows" } or {},
    })
end

function lib.report.oneoff(m)
    local errors = m.errors
    for i = 1, m.count do
        if m.ran[i] ~= 1 then
            errors[#errors + 1] = "one-off " .. i .. " ran " .. (m.ran[i] or 0) .. " times"
        end
    end
    lib.emit({
        workload = "oneoff",
        count = m.count,
        ran = #m.lateness,
        lateness = lib.summary(m.lateness),
        ok = #errors == 0,
        errors = errors,
    })
end

-- A set of the integers 0..n, one bit each, 64 to a table entry: the Lua counterpart of the
-- Uint8Array the Node.js workload keeps (a table of n booleans would take 16 bytes an entry and
-- weigh on the peak memory the workload measures). mark(i) adds i and tells whether it was in.
function lib.bitset(n)
    local words = {}
    for w = 1, (n >> 6) + 1 do words[w] = 0 end
    return function(i)
        local w, bit = (i >> 6) + 1, 1 << (i & 63)
        local word = words[w]
        words[w] = word | bit
        return word & bit ~= 0
    end
end

function lib.report.scale(m)
    local errors = {}
    if m.dups > 0 then errors[#errors + 1] = m.dups .. " callbacks ran more than once" end
    if m.done ~= m.n then errors[#errors + 1] = (m.n - m.done) .. " one-offs never ran" end
    lib.emit({
        workload = m.workload or "scale",
        n = m.n,
        spread_ms = m.spread,
        arm_ms = (m.t_armed - m.t0) / 1e6,
        done_ms = m.t_done and (m.t_done - m.t0) / 1e6 or nil,
        ran = m.done,
        duplicates = m.dups,
        peak_rss_kb = lib.status_kb("VmHWM"),
        ok = #errors == 0,
        errors = errors,
    })
end

function lib.report.drain(m)
    local errors = {}
    if m.ran ~= m.total then
        errors[#errors + 1] = "ran " .. m.ran .. " callbacks, expected " .. m.total
    end
    local elapsed_s = m.t_end and (m.t_end - m.t0) / 1e9 or nil
    lib.emit({
        workload = "drain",
        total = m.total,
        batch = m.batch,
        delay_ms = m.delay,
        ran = m.ran,
        elapsed_ms = elapsed_s and elapsed_s * 1000 or nil,
        callbacks_per_s = elapsed_s and m.total / elapsed_s or nil,
        ok = #errors == 0,
        errors = errors,
    })
end

function lib.report.dispatch(m)
    local total, lo, hi = 0, math.huge, 0
    for i = 1, m.n do
        local c = m.counts[i]
        total = total + c
        if c < lo then lo = c end
        if c > hi then hi = c end
    end
    local elapsed_ms = (m.t_stop - m.t0) / 1e6
    local ideal = m.duration_ms / m.interval_ms
    local errors = {}
    -- No timer can have expired more often than the time it has been armed allows.
    if hi > elapsed_ms // m.interval_ms + 1 then
        errors[#errors + 1] = "a timer ran more often than its schedule"
    end
    lib.emit({
        workload = "dispatch",
        n = m.n,
        interval_ms = m.interval_ms,
        duration_ms = m.duration_ms,
        elapsed_ms = elapsed_ms,
        -- how late the stop one-off ran: the backlog it waited behind
        stop_late_ms = elapsed_ms - m.duration_ms,
        callbacks = total,
        callbacks_per_s = total / (elapsed_ms / 1000),
        ideal_per_s = m.n / m.interval_ms * 1000,
        share_min = lo / ideal,
        share_max = hi / ideal,
        ok = #errors == 0,
        errors = errors,
    })
end

function lib.report.destroy(m)
    local out, errors = {}, {}
    for _, p in ipairs(m.phases) do
        out[p] = lib.summary(m.samples[p])
        if #m.samples[p] ~= m.trials then
            errors[#errors + 1] = p .. ": " .. #m.samples[p] .. " of " .. m.trials .. " destroys ran"
        end
    end
    if m.late_calls > 0 then errors[#errors + 1] = m.late_calls .. " callbacks ran after destroy" end
    lib.emit({
        workload = "destroy",
        interval_ms = m.interval,
        trials = m.trials,
        destroy = out,
        late_calls = m.late_calls,
        ok = #errors == 0,
        errors = errors,
    })
end

return lib
