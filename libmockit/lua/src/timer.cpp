#include "timer.hpp"

#include "lua_util.hpp"

namespace mockit::lua::detail {
namespace {

using std::chrono::milliseconds;

// A userdata keeps its count of user values (the callback and its arguments) in 16 bits, and
// timer_handle::nargs has as many.
constexpr int max_callback_args = 65000;

timer_handle& check_timer(lua_State* L, int arg) {
    return *static_cast<timer_handle*>(luaL_checkudata(L, arg, timer_type));
}

timer_handle& check_live_timer(lua_State* L, int arg) {
    timer_handle& t = check_timer(L, arg);
    luaL_argcheck(L, !t.destroyed, arg, "timer is destroyed");
    return t;
}

// The tag the next pin takes: the head of the free list, after adding an entry to the pins
// table when the list is empty. That is the one step of arming that can raise (out of memory),
// so it comes before the queue arms.
std::uint32_t reserve_tag(lua_State* L, context& ctx) {
    if (ctx.free_tag != 0) return ctx.free_tag;
    if (ctx.tags_used == UINT32_MAX) luaL_error(L, "too many timers");
    push_context_value(L, pins_uv);
    lua_pushinteger(L, 0);  // the end of the free list
    lua_rawseti(L, -2, ctx.tags_used + 1);
    lua_pop(L, 1);
    ctx.free_tag = ++ctx.tags_used;
    return ctx.free_tag;
}

// Pins the handle at stack index `ud_index` at `tag`, the head of the free list (what
// reserve_tag returned), and takes the tag off the list.
void pin(lua_State* L, context& ctx, timer_handle& t, int ud_index, timer_id id,
         std::uint32_t tag) {
    push_context_value(L, pins_uv);
    lua_rawgeti(L, -1, tag);
    ctx.free_tag = static_cast<std::uint32_t>(lua_tointeger(L, -1));
    lua_pop(L, 1);
    lua_pushvalue(L, ud_index);
    lua_rawseti(L, -2, tag);  // the entry exists: setting it never allocates
    lua_pop(L, 1);
    t.id = id;
    t.tag = tag;
    ++ctx.live_timers;
    if (t.referenced) ++ctx.referenced_timers;
}

void arm(lua_State* L, context& ctx, timer_handle& t, int ud_index) {
    std::uint32_t tag = reserve_tag(L, ctx);
    timer_id id = protect(L, [&] {
        time_point now = ctx.clock.now();
        return t.repeats ? ctx.timers.arm_every(now, t.delay, tag)
                         : ctx.timers.arm_once(now, t.delay, tag);
    });
    pin(L, ctx, t, ud_index, id, tag);
    ctx.outcome.ran = false;  // something new to run: the host's loop runs after the script
}

// Cancels the timer, and with it every expiry of it that is due.
void disarm(lua_State* L, context& ctx, timer_handle& t) {
    if (!t.id) return;
    ctx.timers.cancel(t.id);
    push_context_value(L, pins_uv);
    unpin(L, ctx, t, lua_gettop(L));
    lua_pop(L, 1);
}

// Node's rule: a zero interval repeats every millisecond rather than without pause.
duration effective_delay(milliseconds ms, bool repeats) {
    return repeats && ms == milliseconds{0} ? milliseconds{1} : ms;
}

// t:destroy([wait]) -> nil. `wait` is the seed's and is ignored: destroy never blocks.
int timer_destroy(lua_State* L) {
    timer_handle& t = check_timer(L, 1);
    if (t.destroyed) return 0;
    disarm(L, upvalue_context(L), t);
    t.destroyed = true;
    for (int uv = 1; uv <= t.nargs + 1; ++uv) {  // let the callback and its arguments go
        lua_pushnil(L);
        lua_setiuservalue(L, 1, uv);
    }
    return 0;
}

// t:reset([ms]) -> t: restarts the countdown from now, with a new delay if given.
int timer_reset(lua_State* L) {
    timer_handle& t = check_live_timer(L, 1);
    duration delay = t.delay;
    if (!lua_isnoneornil(L, 2)) delay = effective_delay(check_delay(L, 2), t.repeats);
    context& ctx = upvalue_context(L);
    disarm(L, ctx, t);
    t.delay = delay;
    arm(L, ctx, t, 1);
    lua_settop(L, 1);
    return 1;
}

int timer_active(lua_State* L) {
    timer_handle& t = check_timer(L, 1);
    lua_pushboolean(L, static_cast<bool>(t.id));
    return 1;
}

int timer_interval(lua_State* L) {
    timer_handle& t = check_timer(L, 1);
    lua_pushinteger(L, std::chrono::duration_cast<milliseconds>(t.delay).count());
    return 1;
}

int timer_kind(lua_State* L) {
    lua_pushstring(L, check_timer(L, 1).repeats ? "interval" : "oneoff");
    return 1;
}

// t:ref() / t:unref() -> t: whether the timer keeps run() alive.
int set_referenced(lua_State* L, bool referenced) {
    timer_handle& t = check_live_timer(L, 1);
    context& ctx = upvalue_context(L);
    if (t.referenced != referenced && t.id) {
        if (referenced) {
            ++ctx.referenced_timers;
        } else {
            --ctx.referenced_timers;
        }
    }
    t.referenced = referenced;
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
    lua_pushfstring(
        L, "mockit.timer (%s %I ms, %s): %p", t.repeats ? "interval" : "oneoff",
        static_cast<lua_Integer>(std::chrono::duration_cast<milliseconds>(t.delay).count()), state,
        lua_topointer(L, 1));
    return 1;
}

const luaL_Reg timer_methods[] = {
    {"destroy", timer_destroy},   {"reset", timer_reset}, {"active", timer_active},
    {"interval", timer_interval}, {"kind", timer_kind},   {"ref", timer_ref},
    {"unref", timer_unref},       {nullptr, nullptr},
};

const luaL_Reg timer_metamethods[] = {
    {"__close", timer_destroy},
    {"__tostring", timer_tostring},
    {nullptr, nullptr},
};

}  // namespace

void unpin(lua_State* L, context& ctx, timer_handle& t, int pins) {
    if (!t.id) return;
    lua_pushinteger(L, ctx.free_tag);
    lua_rawseti(L, pins, t.tag);  // the entry exists: setting it never allocates
    ctx.free_tag = t.tag;
    t.id = timer_id{};
    t.tag = 0;
    --ctx.live_timers;
    if (t.referenced) --ctx.referenced_timers;
}

int create_timer(lua_State* L, bool repeats) {
    context& ctx = upvalue_context(L);
    duration delay = effective_delay(check_delay(L, 1), repeats);
    check_callable(L, 2);
    int nargs = lua_gettop(L) - 2;
    if (nargs > max_callback_args) {
        return luaL_error(L, "too many callback arguments (at most %d)", max_callback_args);
    }
    auto* t = static_cast<timer_handle*>(lua_newuserdatauv(L, sizeof(timer_handle), nargs + 1));
    *t =
        timer_handle{timer_id{}, 0, static_cast<std::uint16_t>(nargs), repeats, true, false, delay};
    luaL_setmetatable(L, timer_type);
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
    lua_pop(L, 1);
}

}  // namespace mockit::lua::detail
