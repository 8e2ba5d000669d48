// SPDX-License-Identifier: MIT
// The Lua side of mockit-run, after lua.c: one state, every chunk run in protected mode
// through docall() (a message handler adds the traceback), errors reported once as
// "mockit-run: message", and the mockit loop run after the main chunk.
#pragma once

#include "options.hpp"

namespace mockit::app {

// Runs everything the options ask for (LUA_INIT, -e/-l in order, the script, the loop) in a
// fresh Lua state with mockit preloaded, and returns the process's exit status.
int run_lua(const options& opts, int argc, char** argv);

}  // namespace mockit::app
