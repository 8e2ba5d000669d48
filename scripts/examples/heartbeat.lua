-- SPDX-License-Identifier: MIT
-- heartbeat.lua: a small daemon, as it would run under systemd.
--
-- Logs a heartbeat every N ms, reloads its config file on SIGHUP (a mockit.signal
-- handler, run from the loop like any callback), and stops on SIGTERM through
-- mockit-run's default handling: the running callback finishes, nothing new starts, and
-- the exit status is 0, a clean stop for systemd.
--
--   mockit-run scripts/examples/heartbeat.lua [interval_ms [config_file]]
--   kill -HUP <pid>      reload the config file
--   kill -TERM <pid>     stop (exit 0); Ctrl-C stops too (exit 130)
--
-- The config file holds `key = value` lines (`#` starts a comment):
--   message = all good     the text of each heartbeat
--   interval = 500         a new period in ms
local mockit = require("mockit")

local interval = math.tointeger(tonumber(arg[1] or "1000"))
if not interval or interval <= 0 then
    io.stderr:write("heartbeat.lua: the interval must be a positive integer (ms), got ",
        tostring(arg[1]), "\n")
    os.exit(2, true) -- true: close the state first (its timers), then exit
end
local config_path = arg[2]
local config = { message = "alive" }

-- Reads `key = value` lines into a table; returns nil and a message if the file can't be read.
local function read_config(path)
    local file, err = io.open(path)
    if not file then return nil, err end
    local values = {}
    for line in file:lines() do
        local key, value = line:match("^%s*([%w_]+)%s*=%s*(.-)%s*$")
        if key then values[key] = value end
    end
    file:close()
    return values
end

local count = 0
local beat = mockit.getit(interval, function()
    count = count + 1
    mockit.log.info("heartbeat %d: %s", count, config.message)
    mockit.notify(("STATUS=%d heartbeats"):format(count)) -- false, and nothing, outside systemd
end)

-- Applies the config file; a bad or missing file keeps the current settings.
local function reload()
    if not config_path then
        mockit.log.warn("no config file to reload (give one as the second argument)")
        return
    end
    local values, err = read_config(config_path)
    if not values then
        mockit.log.error("config not reloaded: %s", err)
        return
    end
    config.message = values.message or config.message
    local ms = math.tointeger(tonumber(values.interval or ""))
    if ms and ms > 0 and ms ~= beat:interval() then beat:reset(ms) end
    mockit.log.info("config loaded from %s: message %q, every %d ms", config_path,
        config.message, beat:interval())
end

if config_path then reload() end
mockit.signal("SIGHUP", function()
    mockit.log.info("SIGHUP: reloading")
    reload()
end)
mockit.log.info("heartbeat every %d ms; SIGHUP reloads, SIGTERM stops", beat:interval())
