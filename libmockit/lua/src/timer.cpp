// SPDX-License-Identifier: MIT
#include "timer.hpp"

#include "cron_timer.hpp"
#include "lua_util.hpp"
#include "timer_options.hpp"

namespace mockit::lua::detail {
namespace {

using std::chrono::milliseconds;

// A userdata keeps its count of user values (the callback and its arguments) in 16 bits, and
// timer_handle::nargs has as many.
constexpr int max_callback_args = 65000;

timer_handle& check_timer(lua_State* L, int arg) {
    return *static_cast<timer_handle*>(luaL_checkudata(L, arg, timer_type));
}

bool is_cron(timer_handle& t) {
    return t.has_options && options_of(t).cron != nullptr;
}

timer_handle& check_live_timer(lua_State* L, int arg) {
    timer_handle& t = check_timer(L, arg);
    luaL_argcheck(L, !t.destroyed, arg, "timer is destroyed");
    return t;
}

// Makes sure the pins table has an entry for the slot the next arm takes: setting an entry that
// exists never allocates, so once the queue has armed, pinning cannot fail (out of memory).
void make_room_for_pin(lua_State* L, context& ctx) {
    lua_Integer index = pin_index(ctx.timers.next_slot());
    if (index <= ctx.pins_made) return;
    push_context_value(L, pins_uv);
    lua_pushboolean(L, false);  // an unused entry: false, as nil would let the entry go
    lua_rawseti(L, -2, index);
    lua_pop(L, 1);
    ctx.pins_made = index;
}

}  // namespace

void arm(lua_State* L, context& ctx, timer_handle& t, int ud_index) {
    make_room_for_pin(L, ctx);
    timer_id id = protect(L, [&] {
        time_point now = ctx.clock->now();
        milliseconds delay{t.delay_ms};
        if (!t.has_options)
            return t.repeats ? ctx.timers.arm_every(now, delay) : ctx.timers.arm_once(now, delay);
        // The first expiry may be later than the longest delay the queue takes: an after timer
        // of 2^40 ms with a jitter. The timer is armed with its delay, then moved there.
        time_point first = plan_first_run(L, ctx, t, now);
        timer_id armed =
            t.repeats ? ctx.timers.arm_every(now, delay) : ctx.timers.arm_once(now, delay);
        if (first != now + delay) ctx.timers.move_to(armed, first);
        return armed;
    });
    push_context_value(L, pins_uv);
    lua_pushvalue(L, ud_index);
    lua_rawseti(L, -2, pin_index(id.slot()));
    lua_pop(L, 1);
    t.id = id;
    ++ctx.live_timers;
    if (t.referenced) ++ctx.referenced_timers;
    ctx.armed_any = true;
    ctx.outcome.ran = false;  // something new to run: the host's loop runs after the script
}

void disarm(lua_State* L, context& ctx, timer_handle& t) {
    if (!t.id) return;
    ctx.timers.cancel(t.id);
    push_context_value(L, pins_uv);
    unpin(L, ctx, t, lua_gettop(L));
    lua_pop(L, 1);
}

namespace {

// Node's rule: a zero interval repeats every millisecond rather than without pause.
std::uint64_t effective_delay_ms(milliseconds ms, bool repeats) {
    return repeats && ms == milliseconds{0} ? 1 : static_cast<std::uint64_t>(ms.count());
}

// t:destroy([wait]) -> nil. `wait` is the seed's and is ignored: destroy never blocks.
int timer_destroy(lua_State* L) {
    timer_handle& t = check_timer(L, 1);
    if (t.destroyed) return 0;
    context& ctx = upvalue_context(L);
    disarm(L, ctx, t);
    if (is_cron(t)) release_state_file(ctx, *options_of(t).cron);
    t.destroyed = true;
    for (int uv = 1, n = user_values_of(t); uv <= n; ++uv) {  // let the callback and the rest go
        lua_pushnil(L);
        lua_setiuservalue(L, 1, uv);
    }
    return 0;
}

// t:reset([ms]) -> t: restarts the countdown from now, with a new delay if given.
int timer_reset(lua_State* L) {
    timer_handle& t = check_live_timer(L, 1);
    std::uint64_t delay_ms = t.delay_ms;
    if (!lua_isnoneornil(L, 2)) {
        luaL_argcheck(L, !is_cron(t), 2, "a cron timer has no delay (call reset() alone)");
        delay_ms = effective_delay_ms(check_delay(L, 2), t.repeats);
        luaL_argcheck(L,
                      !t.has_options || !t.repeats ||
                          static_cast<std::int64_t>(delay_ms) > options_of(t).jitter_ms,
                      2, "interval must be longer than the timer's jitter");
    }
    context& ctx = upvalue_context(L);
    disarm(L, ctx, t);
    t.delay_ms = delay_ms & delay_ms_mask;  // check_delay has kept it in range
    arm(L, ctx, t, 1);
    lua_settop(L, 1);
    return 1;
}

int timer_active(lua_State* L) {
    timer_handle& t = check_timer(L, 1);
    lua_pushboolean(L, static_cast<bool>(t.id));
    return 1;
}

// t:interval() -> ms, or nil for a cron timer.
int timer_interval(lua_State* L) {
    timer_handle& t = check_timer(L, 1);
    if (is_cron(t)) return 0;
    lua_pushinteger(L, static_cast<lua_Integer>(t.delay_ms));
    return 1;
}

int timer_kind(lua_State* L) {
    timer_handle& t = check_timer(L, 1);
    lua_pushstring(L, is_cron(t) ? "cron" : t.repeats ? "interval" : "oneoff");
    return 1;
}

// t:ref() / t:unref() -> t: whether the timer keeps run() alive.
int set_referenced(lua_State* L, bool referenced) {
    set_referenced(upvalue_context(L), check_live_timer(L, 1), referenced);
    lua_settop(L, 1);
    return 1;
}

int timer_ref(lua_State* L) {
    return set_referenced(L, true);
}
int timer_unref(lua_State* L) {
    return set_referenced(L, false);
}

int timer_tostring(lua_State* L) {
    timer_handle& t = check_timer(L, 1);
    const char* state = t.destroyed ? "destroyed" : t.id ? "active" : "idle";
    if (is_cron(t)) {
        lua_pushfstring(L, "mockit.timer (cron, %s): %p", state, lua_topointer(L, 1));
        return 1;
    }
    lua_pushfstring(L, "mockit.timer (%s %I ms, %s): %p", t.repeats ? "interval" : "oneoff",
                    static_cast<lua_Integer>(t.delay_ms), state, lua_topointer(L, 1));
    return 1;
}

const luaL_Reg timer_methods[] = {
    {"destroy", timer_destroy},   {"reset", timer_reset}, {"active", timer_active},
    {"interval", timer_interval}, {"kind", timer_kind},   {"ref", timer_ref},
    {"unref", timer_unref},       {"due", timer_due},     {"missed", timer_missed},
    {"stats", timer_stats_of},    {nullptr, nullptr},
};

const luaL_Reg timer_metamethods[] = {
    {"__close", timer_destroy},
    {"__tostring", timer_tostring},
    {nullptr, nullptr},
};

}  // namespace

void set_referenced(context& ctx, timer_handle& t, bool referenced) {
    if (static_cast<bool>(t.referenced) != referenced && t.id) {
        if (referenced) {
            ++ctx.referenced_timers;
        } else {
            --ctx.referenced_timers;
        }
    }
    t.referenced = referenced;
}

void unpin(lua_State* L, context& ctx, timer_handle& t, int pins) {
    if (!t.id) return;
    lua_pushboolean(L, false);
    lua_rawseti(L, pins, pin_index(t.id.slot()));  // the entry exists: setting it never allocates
    t.id = timer_id{};
    --ctx.live_timers;
    if (t.referenced) --ctx.referenced_timers;
}

int create_timer(lua_State* L, bool repeats) {
    context& ctx = upvalue_context(L);
    std::uint64_t delay_ms = effective_delay_ms(check_delay(L, 1), repeats);
    check_callable(L, 2);
    int nargs = lua_gettop(L) - 2;
    if (nargs > max_callback_args) {
        return luaL_error(L, "too many callback arguments (at most %d)", max_callback_args);
    }
    auto* t = static_cast<timer_handle*>(lua_newuserdatauv(L, sizeof(timer_handle), nargs + 1));
    *t = timer_handle{timer_id{},
                      delay_ms & delay_ms_mask,
                      static_cast<std::uint16_t>(nargs),
                      repeats,
                      true,
                      false,
                      false,
                      false};
    push_context_value(L, timer_mt_uv);
    lua_setmetatable(L, -2);
    for (int uv = 1; uv <= nargs + 1; ++uv) {  // the callback, then its arguments
        lua_pushvalue(L, uv + 1);
        lua_setiuservalue(L, -2, uv);
    }
    arm(L, ctx, *t, lua_gettop(L));
    return 1;
}

void register_timer_type(lua_State* L) {
    int box = lua_gettop(L);
    luaL_newmetatable(L, timer_type);
    lua_newtable(L);
    lua_pushvalue(L, box);
    luaL_setfuncs(L, timer_methods, 1);
    lua_setfield(L, -2, "__index");
    lua_pushvalue(L, box);
    luaL_setfuncs(L, timer_metamethods, 1);
    lua_setiuservalue(L, box, timer_mt_uv);
}

}  // namespace mockit::lua::detail
