// SPDX-License-Identifier: MIT
// Errors raised by the Lua code the loop calls: its protected call, and what becomes of a
// callback's error (mockit.on_error, the host's error sink, or propagation). The message
// handler and the report text are the host's too (lua_module.hpp).
#pragma once

#include <lua.hpp>

#include "context.hpp"

namespace mockit::lua::detail {

// Calls the function below `nargs` arguments on top of the stack in protected mode, with
// message_handler at stack index `handler`. On error leaves the error value and its traceback
// ("" when none was noted) on the stack and returns false.
bool protected_call(lua_State* L, int nargs, int handler);

// With a callback's error value and traceback on top: hands them to mockit.on_error, or the
// host's sink. Returns true to go on; false leaves the report on top, to be raised. The stop
// that wait() raises is no error: it goes on up as it is, to end the script.
bool absorb_error(lua_State* L, context& ctx);

}  // namespace mockit::lua::detail
