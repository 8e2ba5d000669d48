// SPDX-License-Identifier: MIT
// luaopen_mockit: the module table, the clock functions, signals, logging and sd_notify, and
// the hooks through which a host refines them.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>

#include "context.hpp"
#include "cron_timer.hpp"
#include "loop.hpp"
#include "lua_util.hpp"
#include "metrics.hpp"
#include "mockit/lua_module.hpp"
#include "mockit/notify.hpp"
#include "mockit/sleep.hpp"
#include "mockit/version.hpp"
#include "task.hpp"
#include "timer.hpp"
#include "timer_options.hpp"
#include "virtual_time.hpp"

namespace mockit::lua::detail {
namespace {

// The registry field of the state's module table. A name, not the address of a variable of this
// copy of the code: a second copy in the same state (mockit.so loaded into mockit-run, found on
// the cpath once a script cleared package.preload and package.loaded) returns the first copy's
// table, whose loop is the one that runs, rather than timers of its own nobody would run.
constexpr const char* module_field = "mockit.module";

int mockit_mstimestamp(lua_State* L) {
    lua_pushinteger(L, to_ms_timestamp(upvalue_context(L).clock->wall_now()));
    return 1;
}

// mockit.time() -> secs, ms
int mockit_time(lua_State* L) {
    wall_time now = to_wall_time(upvalue_context(L).clock->wall_now());
    lua_pushinteger(L, now.secs);
    lua_pushinteger(L, now.ms);
    return 2;
}

int mockit_hrtime(lua_State* L) {
    lua_pushinteger(L, to_hrtime(upvalue_context(L).clock->now()));
    return 1;
}

// mockit.sleep(ms [, resume]) -> 0, 0 | EINTR, ms_left
int mockit_sleep(lua_State* L) {
    context& ctx = upvalue_context(L);
    auto ms = check_delay(L, 1);
    bool resume = lua_toboolean(L, 2) != 0;
    if (ctx.simulated) check_virtual_room(L, ctx.clock->now() + ms);
    sleep_result result = sleep_for(*ctx.clock, ms, resume);
    lua_pushinteger(L, result.interrupted ? EINTR : 0);
    lua_pushinteger(L, result.left.count());
    return 2;
}

int mockit_oneoff(lua_State* L) {
    return create_timer(L, false);
}
int mockit_getit(lua_State* L) {
    return create_timer(L, true);
}

// mockit.signal(name, fn | nil)
int mockit_signal(lua_State* L) {
    context& ctx = upvalue_context(L);
    int signo = check_signal(L, 1);
    lua_settop(L, 2);
    bool clear = lua_isnoneornil(L, 2);
    if (!clear) check_callable(L, 2);
    push_context_value(L, signals_uv);
    lua_pushvalue(L, 2);
    lua_rawseti(L, -2, signo);
    if (clear) {
        push_context_value(L, signal_waits_uv);  // tasks in await_signal still count it
        if (lua_rawgeti(L, -1, signo) != LUA_TTABLE || lua_rawlen(L, -1) == 0)
            ctx.signals.unwatch(signo);
    } else {
        protect(L, [&] { ctx.signals.watch(signo); });
    }
    return 0;
}

int mockit_notify(lua_State* L) {
    std::size_t length = 0;
    const char* state = luaL_checklstring(L, 1, &length);
    lua_pushboolean(L, notify(std::string_view{state, length}));
    return 1;
}

// The line whole, embedded NULs and all (printf's %.*s would stop at the first).
void default_log(log_level level, std::string_view line) {
    std::fprintf(stderr, "mockit: [%s] ", name_of(level));
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fputc('\n', stderr);
}

log_level level_from_environment() {
    const char* value = std::getenv("MOCKIT_LOG_LEVEL");
    return parse_log_level(value != nullptr ? value : "").value_or(log_level::info);
}

// Raises string.format's error (on top of the stack) as mockit.log.<level>'s own, from the
// caller's line: "bad argument #2 to 'format'" would name a function the script never called.
int format_error(lua_State* L, log_level level) {
    const char* message = lua_tostring(L, -1);
    if (message == nullptr) return lua_error(L);
    const char* reason = std::strstr(message, "' (");
    int arg = 0;
    if (std::sscanf(message, "bad argument #%d to '", &arg) == 1 && reason != nullptr) {
        return luaL_error(L, "bad argument #%d to '%s' %s", arg, name_of(level), reason + 2);
    }
    return lua_error(L);  // as it is: it already says where (a raising __tostring's message)
}

// mockit.log.<level>(fmt, ...): upvalue 2 is string.format, upvalue 3 the level.
int log_at(lua_State* L) {
    context& ctx = upvalue_context(L);
    auto level = static_cast<log_level>(lua_tointeger(L, lua_upvalueindex(3)));
    luaL_checkstring(L, 1);
    if (level < ctx.level) return 0;  // filtered out: not even formatted
    int nargs = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_insert(L, 1);
    if (lua_pcall(L, nargs, 1, 0) != LUA_OK) return format_error(L, level);
    std::size_t length = 0;
    const char* line = lua_tolstring(L, -1, &length);
    protect(L, [&] { ctx.log(level, std::string_view{line, length}); });
    return 0;
}

void push_log_table(lua_State* L, int box) {
    lua_createtable(L, 0, 5);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_getfield(L, -1, "string");
    lua_getfield(L, -1, "format");
    int format = lua_gettop(L);
    for (int i = 0; i < static_cast<int>(log_level::off); ++i) {  // off is no function
        lua_pushvalue(L, box);
        lua_pushvalue(L, format);
        lua_pushinteger(L, i);
        lua_pushcclosure(L, log_at, 3);
        lua_setfield(L, format - 3, log_level_names[i]);
    }
    lua_pop(L, 3);
}

const luaL_Reg module_functions[] = {
    {"mstimestamp", mockit_mstimestamp},
    {"time", mockit_time},
    {"hrtime", mockit_hrtime},
    {"sleep", mockit_sleep},
    {"oneoff", mockit_oneoff},
    {"getit", mockit_getit},
    {"wait", mockit_wait},
    {"process_events", mockit_process_events},
    {"pending", mockit_pending},
    {"inqueue", mockit_inqueue},
    {"run", mockit_run},
    {"stop", mockit_stop},
    {"stopping", mockit_stopping},
    {"on_error", mockit_on_error},
    {"signal", mockit_signal},
    {"notify", mockit_notify},
    {"stats", mockit_stats},
    {"timer", mockit_timer},
    {"cron", mockit_cron},
    {"metrics", mockit_metrics},
    {"spawn", mockit_spawn},
    {"pause", mockit_pause},
    {"await_signal", mockit_await_signal},
    {nullptr, nullptr},
};

// A stop that carries a message (stuck in simulated time) is that message; a plain stop says what
// raised it, for a script that catches it or runs under lua5.4.
int stop_tostring(lua_State* L) {
    luaL_checkudata(L, 1, stop_type);
    if (lua_getiuservalue(L, 1, 1) == LUA_TSTRING) return 1;
    lua_pushfstring(L,
                    "mockit: wait() called again after a stop (exit code %d); a loop of the "
                    "script's own should end once mockit.stopping() is true",
                    *static_cast<int*>(luaL_checkudata(L, 1, stop_type)));
    return 1;
}

int context_gc(lua_State* L) {
    auto* box = static_cast<context_box*>(lua_touserdata(L, 1));
    // Paused tasks are closed first, while everything they may call still works: a coroutine's
    // pending <close> variables would not run otherwise (lua_close closes the main thread's).
    if (box->ctx) close_tasks(L, 1);
    // Forgets every timer: what lets the handles do without a __gc of their own.
    box->ctx.reset();
    return 0;
}

// Creates the state's context box, anchors it in the registry and leaves it on the stack.
void push_new_context(lua_State* L) {
    auto* box =
        static_cast<context_box*>(lua_newuserdatauv(L, sizeof(context_box), context_uv_count));
    new (box) context_box{};  // an empty unique_ptr: nothing to leak if what follows fails
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, context_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    protect(L, [&] {
        box->ctx = std::make_unique<context>();
        box->ctx->log = default_log;
        box->ctx->level = level_from_environment();
        box->ctx->loop.since = box->ctx->clock->now();
    });
    lua_newtable(L);
    lua_setiuservalue(L, -2, pins_uv);
    lua_newtable(L);
    lua_setiuservalue(L, -2, signals_uv);
    for (int uv : {tasks_uv, threads_uv, signal_waits_uv}) {
        lua_newtable(L);
        lua_setiuservalue(L, -2, uv);
    }
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &context_key);
}

int open_module(lua_State* L) {
    if (lua_getfield(L, LUA_REGISTRYINDEX, module_field) == LUA_TTABLE) return 1;  // once a state
    lua_pop(L, 1);
    push_new_context(L);
    int box = lua_gettop(L);
    register_timer_type(L);
    register_task_type(L);
    luaL_newmetatable(L, stop_type);
    lua_pushcfunction(L, stop_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
    luaL_newlibtable(L, module_functions);
    lua_pushvalue(L, box);
    luaL_setfuncs(L, module_functions, 1);
    push_log_table(L, box);
    lua_setfield(L, -2, "log");
    push_clock_table(L, box);
    lua_setfield(L, -2, "clock");
    lua_pushinteger(L, EINTR);
    lua_setfield(L, -2, "EINTR");
    lua_pushstring(L, version_string);
    lua_setfield(L, -2, "version");
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, module_field);
    return 1;
}

}  // namespace
}  // namespace mockit::lua::detail

extern "C" {
int luaopen_mockit(lua_State* L) {
    return mockit::lua::detail::open_module(L);
}
int luaopen_luamockit(lua_State* L) {
    return mockit::lua::detail::open_module(L);
}
}

namespace mockit::lua {

bool set_log_sink(lua_State* L, log_sink sink, log_level level) {
    detail::context* ctx = detail::find_context(L);
    if (ctx == nullptr) return false;
    ctx->log = std::move(sink);
    ctx->level = level;
    return true;
}

bool set_error_sink(lua_State* L, error_sink sink) {
    detail::context* ctx = detail::find_context(L);
    if (ctx == nullptr) return false;
    ctx->on_uncaught = std::move(sink);
    return true;
}

bool set_loop_observer(lua_State* L, loop_observer observer) {
    detail::context* ctx = detail::find_context(L);
    if (ctx == nullptr) return false;
    ctx->observer = std::move(observer);
    return true;
}

std::optional<raised_stop> stop_of(lua_State* L, int index) {
    auto* code = static_cast<int*>(luaL_testudata(L, index, detail::stop_type));
    if (code == nullptr) return std::nullopt;
    raised_stop stop{*code, nullptr};
    // The message stays alive as long as the stop's userdata, which holds it.
    if (lua_getiuservalue(L, index, 1) == LUA_TSTRING) stop.message = lua_tostring(L, -1);
    lua_pop(L, 1);
    return stop;
}

bool run_main_as_task(lua_State* L) {
    detail::context* ctx = detail::find_context(L);
    if (ctx == nullptr) return false;
    ctx->main_is_task = true;
    return true;
}

bool seed_jitter(lua_State* L, std::uint64_t seed) {
    detail::context* ctx = detail::find_context(L);
    if (ctx == nullptr) return false;
    ctx->random_state = seed;
    return true;
}

std::optional<std::string> metrics_text(lua_State* L) {
    detail::context* ctx = detail::find_context(L);
    if (ctx == nullptr) return std::nullopt;
    return detail::openmetrics_text(*ctx);
}

const clock_source* clock_of(lua_State* L) {
    detail::context* ctx = detail::find_context(L);
    return ctx != nullptr ? ctx->clock : nullptr;
}

loop_outcome last_run(lua_State* L) {
    detail::context* ctx = detail::find_context(L);
    return ctx != nullptr ? ctx->outcome : loop_outcome{};
}

input_wait wait_for_input(lua_State* L, int input) {
    detail::context* ctx = detail::find_context(L);
    if (ctx == nullptr) return {input_wait::input, 0};  // no loop: only the input to wait for
    return detail::wait_for_input(L, *ctx, input);
}

void wake_loops() noexcept {
    detail::wake_all_loops();
}

void request_stop_from_signal(int code) noexcept {
    detail::request_stop(code);
}

}  // namespace mockit::lua
