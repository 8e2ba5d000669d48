// SPDX-License-Identifier: MIT
// Small helpers for the binding's lua_CFunctions.
//
// The same code runs in two worlds: with Lua built as C, in mockit-run and in mockit.so under the
// stock lua5.4 (a Lua error is a longjmp, destructors are skipped), and with Lua built as C++, in
// the fuzz harness (a Lua error is a C++ exception, destructors run). So every function checks
// all its arguments before it creates anything with a destructor, and C++ exceptions are turned
// into Lua errors only after they have been caught and their text copied out (protect()).
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <lua.hpp>
#include <new>

#include "mockit/timer_queue.hpp"

namespace mockit::lua::detail {

// The largest delay in milliseconds, as Lua sees it.
inline constexpr lua_Integer max_delay_ms =
    std::chrono::duration_cast<std::chrono::milliseconds>(timer_queue::max_delay).count();

// Argument `arg` as a delay: an integer number of milliseconds from 0 to max_delay_ms.
// Raises "bad argument #arg to 'f' (...)" for anything else (fractions, NaN, infinities,
// strings that are not numbers, out of range).
inline std::chrono::milliseconds check_delay(lua_State* L, int arg) {
    lua_Integer ms = luaL_checkinteger(L, arg);
    luaL_argcheck(L, ms >= 0 && ms <= max_delay_ms, arg,
                  "delay must be an integer from 0 to 1099511627776 ms");
    return std::chrono::milliseconds{ms};
}

// An optional count (process_events' max): nil for no limit, or an integer >= 0.
inline lua_Integer check_count(lua_State* L, int arg, lua_Integer none) {
    lua_Integer n = luaL_optinteger(L, arg, none);
    luaL_argcheck(L, n >= 0, arg, "must not be negative");
    return n;
}

// Sets field `name` of the table on top of the stack to a count (stats(), metrics()).
inline void set_count_field(lua_State* L, const char* name, std::uint64_t value) {
    lua_pushinteger(L, static_cast<lua_Integer>(value));
    lua_setfield(L, -2, name);
}

// True when the value can be called: a function, or anything with a __call metamethod.
inline bool is_callable(lua_State* L, int index) {
    if (lua_isfunction(L, index)) return true;
    bool callable = luaL_getmetafield(L, index, "__call") != LUA_TNIL;
    if (callable) lua_pop(L, 1);
    return callable;
}

inline void check_callable(lua_State* L, int arg) {
    if (!is_callable(L, arg)) luaL_typeerror(L, arg, "function");
}

// Runs `body` (which may throw std::exception) and returns its result; a thrown exception
// becomes a Lua error once its message is safely copied out of the catch block. Lua's own
// errors are not std::exceptions, so they pass through untouched in a C++ build of Lua.
template <class Body>
auto protect(lua_State* L, Body&& body) -> decltype(body()) {
    char message[256];
    try {
        return body();
    } catch (const std::bad_alloc&) {
        std::snprintf(message, sizeof message, "not enough memory");  // as Lua says it
    } catch (const std::exception& e) {
        std::snprintf(message, sizeof message, "%s", e.what());
    }
    luaL_error(L, "%s", message);
    __builtin_unreachable();
}

}  // namespace mockit::lua::detail
