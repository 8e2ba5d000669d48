-- SPDX-License-Identifier: MIT
-- Workload "idle" for lua5.4 + luv: the counterpart of idle.lua.
-- Usage: lua5.4 idle.luv.lua
local lib = dofile((arg[0]:match("^(.*)/") or ".") .. "/lib.lua")
local uv = require("luv")

uv.new_timer():start(3600 * 1000, 0, function() end)
lib.emit({ workload = "idle", ready = true, ok = true, errors = {} })
uv.run()
