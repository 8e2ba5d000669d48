// SPDX-License-Identifier: MIT
// The Lua side of mockit-run, after lua.c: one state, every chunk run in protected mode
// through docall() (a message handler adds the traceback), errors reported once as
// "mockit-run: message", and the mockit loop run after the main chunk.
#pragma once

#include <lua.hpp>

#include "options.hpp"

namespace mockit::app {

// Runs everything the options ask for (LUA_INIT, -e/-l in order, the script, the loop) in a
// fresh Lua state with mockit preloaded, and returns the process's exit status.
int run_lua(const options& opts, int argc, char** argv);

// What the prompt (repl.cpp) shares with the script's run. lua.c's docall: calls the function
// below `nargs` arguments in protected mode with the binding's message handler.
int docall(lua_State* L, int nargs, int nresults);
// lua.c's report: prints a failed call's error (with its traceback) to stderr; returns `status`.
int report(lua_State* L, int status);
// From now on, errors are reported without the "mockit-run: " prefix (lua.c's doREPL).
void report_without_progname() noexcept;
// Pushes the mockit.process_events the host loaded (a script may overwrite the global).
void push_process_events(lua_State* L);

}  // namespace mockit::app
