// SPDX-License-Identifier: MIT
#include "virtual_time.hpp"

#include <chrono>

#include "context.hpp"
#include "cron_timer.hpp"
#include "loop.hpp"
#include "lua_util.hpp"

namespace mockit::lua {
namespace detail {
namespace {

using std::chrono::milliseconds;

// 2000-01-01T00:00:00Z: a default start that makes output reproducible.
constexpr lua_Integer default_start_ms = 946'684'800'000;
// 2^42 ms after the epoch, in 2109, and simulated time ends 2^61 ns (73 years) after its start:
// so wall times (at most 2^42 ms + 2^61 ns) stay inside std::chrono::system_clock's nanoseconds,
// which end in 2262, and so do deadlines armed then (2^40 ms later at most).
constexpr lua_Integer max_virtual_start_ms = lua_Integer{1} << 42;
constexpr time_point virtual_start{std::chrono::hours{1}};
constexpr time_point virtual_end = virtual_start + duration{std::int64_t{1} << 61};

manual_clock& simulated_clock(lua_State* L, context& ctx) {
    if (!ctx.simulated) luaL_error(L, "the clock is real (call mockit.clock.virtual() first)");
    return *ctx.simulated;
}

lua_Integer wall_seconds(const context& ctx) {
    return to_wall_time(ctx.clock->wall_now()).secs;
}

// os.time([t]): the simulated time when called without a table, as the original otherwise.
int virtual_os_time(lua_State* L) {
    if (!lua_isnoneornil(L, 1)) {
        lua_pushvalue(L, lua_upvalueindex(2));
        lua_insert(L, 1);
        lua_call(L, lua_gettop(L) - 1, 1);
        return 1;
    }
    lua_pushinteger(L, wall_seconds(upvalue_context(L)));
    return 1;
}

// os.date([format [, t]]): the simulated time when called without t, as the original otherwise.
int virtual_os_date(lua_State* L) {
    if (lua_isnoneornil(L, 2)) {  // os.date(fmt, nil) is "now" too
        if (lua_isnoneornil(L, 1)) {
            lua_settop(L, 0);
            lua_pushliteral(L, "%c");
        }
        lua_settop(L, 1);
        lua_pushinteger(L, wall_seconds(upvalue_context(L)));
    }
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

// Replaces os.time and os.date, when the script has them, with the simulated ones.
void replace_os_clock(lua_State* L) {
    if (lua_getglobal(L, "os") != LUA_TTABLE) {
        lua_pop(L, 1);
        return;
    }
    const luaL_Reg replacements[] = {{"time", virtual_os_time}, {"date", virtual_os_date}};
    for (const luaL_Reg& r : replacements) {
        lua_rawgetp(L, LUA_REGISTRYINDEX, &context_key);  // the context box
        lua_getfield(L, -2, r.name);                      // the original
        lua_pushcclosure(L, r.func, 2);
        lua_setfield(L, -2, r.name);
    }
    lua_pop(L, 1);
}

// Switches the state to simulated time, starting at `start` ms since the epoch; once switched,
// only the wall clock moves to `start`.
void switch_to_virtual(lua_State* L, context& ctx, lua_Integer start) {
    if (ctx.armed_any) luaL_error(L, "mockit.clock.virtual: called after the first timer");
    wall_time_point wall{milliseconds{start}};
    if (ctx.simulated) {
        ctx.simulated->set_wall(wall);
        return;
    }
    protect(L, [&] { ctx.simulated = std::make_unique<manual_clock>(virtual_start, wall); });
    ctx.clock = ctx.simulated.get();
    ctx.loop.since = ctx.clock->now();  // the loop's busy time counts on the clock it runs on
    replace_os_clock(L);
}

// mockit.clock.virtual([start_ms]): simulated time from now on, starting at start_ms since the
// epoch (default 2000-01-01T00:00:00Z). Only before the first timer.
int clock_virtual(lua_State* L) {
    lua_Integer start = luaL_optinteger(L, 1, default_start_ms);
    luaL_argcheck(L, start >= 0 && start <= max_virtual_start_ms, 1,
                  "start must be from 0 to 2^42 ms since the epoch");
    switch_to_virtual(L, upvalue_context(L), start);
    return 0;
}

}  // namespace

void pass_idle_time(context& ctx, time_point to) {
    time_point now = ctx.simulated->now();
    if (to <= now) return;
    ctx.loop.idle += to - now;
    ctx.simulated->set(to);
}

namespace {

int clock_is_virtual(lua_State* L) {
    lua_pushboolean(L, upvalue_context(L).simulated != nullptr);
    return 1;
}

// mockit.clock.advance(ms): lets ms of simulated time pass, running every callback due in that
// window at its due time, in order. Returns the number of callbacks run.
int clock_advance(lua_State* L) {
    context& ctx = upvalue_context(L);
    milliseconds ms = check_delay(L, 1);
    manual_clock& clock = simulated_clock(L, ctx);
    lua_settop(L, 0);
    time_point until = clock.now() + ms;
    check_virtual_room(L, until);
    lua_Integer ran = 0;
    // A stop, asked for by a callback in the window or before (and not yet taken by a run()),
    // ends it at the deadline where it is seen, as it ends run().
    auto stopped = [&] { return requested_stop(ctx).has_value(); };
    for (;;) {
        std::optional<time_point> next = ctx.timers.next_deadline();
        if (!next || *next > until) break;
        pass_idle_time(ctx, *next);
        drain_result result = drain(L, ctx, LUA_MAXINTEGER);
        ran += result.ran;
        if (result.failed) return lua_error(L);
        if (stopped()) break;
    }
    if (!stopped()) pass_idle_time(ctx, until);
    lua_pushinteger(L, ran);
    return 1;
}

// mockit.clock.suspend(ms): both clocks jump ms at once, as after a suspended laptop or a stopped
// VM: nothing runs meanwhile, and the loop then finds the backlog.
int clock_suspend(lua_State* L) {
    context& ctx = upvalue_context(L);
    milliseconds ms = check_delay(L, 1);
    manual_clock& clock = simulated_clock(L, ctx);
    check_virtual_room(L, clock.now() + ms);
    pass_idle_time(ctx, clock.now() + ms);  // a suspended process has nothing to do
    replan_cron_timers(L, ctx);             // as a resume steps the real wall clock
    return 0;
}

// mockit.clock.set_wall(ms): steps the wall clock alone to ms since the epoch, as NTP or date -s.
int clock_set_wall(lua_State* L) {
    context& ctx = upvalue_context(L);
    lua_Integer ms = luaL_checkinteger(L, 1);
    luaL_argcheck(L, ms >= 0 && ms <= max_virtual_start_ms, 1,
                  "time must be from 0 to 2^42 ms since the epoch");
    simulated_clock(L, ctx).set_wall(wall_time_point{milliseconds{ms}});
    replan_cron_timers(L, ctx);
    return 0;
}

const luaL_Reg clock_functions[] = {
    {"virtual", clock_virtual}, {"is_virtual", clock_is_virtual}, {"advance", clock_advance},
    {"suspend", clock_suspend}, {"set_wall", clock_set_wall},     {nullptr, nullptr},
};

}  // namespace

void check_virtual_room(lua_State* L, time_point to) {
    if (to > virtual_end)
        luaL_error(L, "mockit.clock: simulated time ends 2^61 ns (73 years) after it starts");
}

}  // namespace detail

bool use_virtual_time(lua_State* L, std::int64_t start_ms) {
    detail::context* ctx = detail::find_context(L);
    if (ctx == nullptr || start_ms < 0 || start_ms > detail::max_virtual_start_ms) return false;
    detail::switch_to_virtual(L, *ctx, start_ms);
    return true;
}

namespace detail {

void push_clock_table(lua_State* L, int box) {
    luaL_newlibtable(L, clock_functions);
    lua_pushvalue(L, box);
    luaL_setfuncs(L, clock_functions, 1);
}

}  // namespace detail
}  // namespace mockit::lua
