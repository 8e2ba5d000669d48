-- SPDX-License-Identifier: MIT
-- Workload "idle": one timer an hour away and nothing else. The driver watches the process from
-- outside (context switches of every thread, CPU time, RSS) once it has printed its ready line,
-- then ends it with SIGTERM.
-- Usage: mockit-run idle.lua
local lib = dofile((arg[0]:match("^(.*)/") or ".") .. "/lib.lua")
local mockit = require("mockit")

mockit.oneoff(3600 * 1000, function() end)
lib.emit({ workload = "idle", ready = true, ok = true, errors = {} })
-- the main chunk returns; mockit-run's built-in loop keeps the process alive for the timer
