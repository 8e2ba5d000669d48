// SPDX-License-Identifier: MIT
// One message handler for every protected call, the loop's and the host's, and the report lua.c
// would print for an error.
#include "error_report.hpp"

#include <cstddef>
#include <string_view>

#include "loop.hpp"
#include "lua_util.hpp"
#include "mockit/lua_module.hpp"

namespace mockit::lua {
namespace {

// Registry key of the last error's {error, traceback}, set by message_handler.
const char last_error_key = 0;
// Registry key of the last report the loop raised (absorb_error): its text ends with its
// callback's traceback, so no report of it adds another, however far up it is caught.
const char raised_report_key = 0;

bool is_raised_report(lua_State* L, int index) {
    bool raised = lua_rawgetp(L, LUA_REGISTRYINDEX, &raised_report_key) == LUA_TSTRING &&
                  lua_rawequal(L, -1, index);
    lua_pop(L, 1);
    return raised;
}

}  // namespace

// The value stays as it is: a callback's error reaches mockit.on_error unchanged, and a load()
// inside a call, whose reader's errors pass through the same handler, gets a plain message.
int message_handler(lua_State* L) {
    lua_settop(L, 1);
    lua_createtable(L, 2, 0);
    lua_pushvalue(L, 1);
    lua_rawseti(L, -2, 1);
    luaL_traceback(L, L, nullptr, 1);
    lua_rawseti(L, -2, 2);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &last_error_key);
    return 1;
}

void push_traceback(lua_State* L, int index) {
    index = lua_absindex(L, index);
    bool noted = false;
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &last_error_key) == LUA_TTABLE) {
        lua_rawgeti(L, -1, 1);
        noted = lua_rawequal(L, -1, index);  // else a note of some other error
        lua_pop(L, 1);
    }
    if (noted) {
        lua_rawgeti(L, -1, 2);
    } else {  // the handler did not run (out of memory): no traceback to give
        lua_pushliteral(L, "");
    }
    lua_remove(L, -2);
    lua_pushnil(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &last_error_key);
}

// __tostring in protected mode: one that raises must still leave a report for the host's sink
// (--keep-going), not an error of its own.
void push_report(lua_State* L, int error, int traceback) {
    error = lua_absindex(L, error);
    traceback = lua_absindex(L, traceback);
    const char* message = lua_tostring(L, error);
    if (message == nullptr && luaL_getmetafield(L, error, "__tostring") != LUA_TNIL) {
        lua_pushvalue(L, error);
        if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_type(L, -1) == LUA_TSTRING)
            message = lua_tostring(L, -1);
    }
    if (message == nullptr)
        message = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, error));
    const char* trace = is_raised_report(L, error) ? "" : lua_tostring(L, traceback);
    lua_pushfstring(L, trace[0] != '\0' ? "%s\n%s" : "%s%s", message, trace);
}

}  // namespace mockit::lua

namespace mockit::lua::detail {

bool protected_call(lua_State* L, int nargs, int handler) {
    if (lua_pcall(L, nargs, 0, handler) == LUA_OK) return true;
    push_traceback(L, -1);
    return false;
}

bool absorb_error(lua_State* L, context& ctx) {
    // Taken at once: left for a later report (after a stop, or an on_error handler), it would
    // name this timer in another's error.
    const std::string* failing_timer = std::exchange(ctx.failing_timer, nullptr);
    int error = lua_gettop(L) - 1;
    if (luaL_testudata(L, error, stop_type) != nullptr) {
        lua_pop(L, 1);
        return false;
    }
    push_context_value(L, on_error_uv);
    if (!lua_isnil(L, -1)) {
        lua_insert(L, error);
        lua_call(L, 2, 0);  // its own error propagates: there is nobody left to hand it to
        return true;
    }
    lua_pop(L, 1);
    push_report(L, error, error + 1);
    if (failing_timer != nullptr) {
        lua_pushfstring(L, "timer '%s': %s", failing_timer->c_str(), lua_tostring(L, -1));
        lua_remove(L, -2);
    }
    lua_replace(L, error);
    lua_settop(L, error);
    if (ctx.on_uncaught) {
        std::size_t length = 0;
        const char* report = lua_tolstring(L, -1, &length);
        if (protect(L, [&] { return ctx.on_uncaught(std::string_view{report, length}); })) {
            lua_pop(L, 1);
            return true;
        }
    }
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &raised_report_key);
    return false;
}

}  // namespace mockit::lua::detail
