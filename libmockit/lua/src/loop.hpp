// SPDX-License-Identifier: MIT
// The wait/process_events loop of one Lua state, and the module functions around it.
#pragma once

#include <lua.hpp>
#include <optional>

#include "context.hpp"

namespace mockit::lua::detail {

// The metatable name of the error a wait() raises to end a script's own loop on a stop.
inline constexpr const char* stop_type = "mockit.stop";

struct drain_result {
    lua_Integer ran;
    bool failed;  // a callback's error is to propagate: its report is on top of the stack
};

// Runs up to `max` callbacks (signal handlers first, then expiries in deadline order), of the
// expiries due when it begins. Stops early when mockit.stop() is called by one of them, or a
// signal requests a stop. Leaves the stack as it found it, but for the report on failure.
drain_result drain(lua_State* L, context& ctx, lua_Integer max);

// Returns true at once when a callback is due; otherwise blocks until one is (true), or until
// `timeout` passes (false). Once a stop is asked for, returns false, and raises the stop the
// next time (a "mockit.stop" error).
bool wait_for_events(lua_State* L, context& ctx, std::optional<duration> timeout);

// The prompt's wait (mockit-run -i): returns at once when a callback is due or a stop is asked
// for, else blocks until one is, or `input` is readable, or a wake-up comes. On simulated time
// the clock stands while the prompt waits: only what is due now runs.
input_wait wait_for_input(lua_State* L, context& ctx, int input);

// Raises the stop as an error: a "mockit.stop" userdata holding the exit code (stop_of), with the
// message on top of the stack when `with_message`.
[[noreturn]] void raise_stop(lua_State* L, int code, bool with_message = false);

int mockit_wait(lua_State* L);
int mockit_process_events(lua_State* L);
int mockit_run(lua_State* L);
int mockit_stop(lua_State* L);
int mockit_stopping(lua_State* L);
int mockit_on_error(lua_State* L);
int mockit_pending(lua_State* L);
int mockit_inqueue(lua_State* L);
int mockit_stats(lua_State* L);

}  // namespace mockit::lua::detail
