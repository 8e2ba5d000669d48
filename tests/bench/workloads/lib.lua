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

return lib
