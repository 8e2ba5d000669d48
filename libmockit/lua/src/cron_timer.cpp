// SPDX-License-Identifier: MIT
#include "cron_timer.hpp"

#include <algorithm>
#include <cstdio>
#include <new>

#include "lua_util.hpp"
#include "mockit/cron.hpp"
#include "timer_options.hpp"

namespace mockit::lua::detail {
namespace {

using std::chrono::milliseconds;
using wall_ms = std::chrono::sys_time<milliseconds>;

constexpr const char* schedule_type = "mockit.cron_schedule";

int schedule_gc(lua_State* L) {
    static_cast<cron_schedule*>(lua_touserdata(L, 1))->~cron_schedule();
    return 0;
}

wall_ms wall_now(const context& ctx) {
    return std::chrono::floor<milliseconds>(ctx.clock->wall_now());
}

// The monotonic deadline of a run at wall time `at`, seen `now`: at once if it has passed.
time_point deadline_of(const context& ctx, wall_ms at, time_point now) {
    duration until = at - ctx.clock->wall_now();
    return until > duration::zero() ? now + until : now;
}

wall_ms next_ms(const timer_options& o) {
    return wall_ms{milliseconds{o.cron_next_ms}};
}

// The latest run at or before `wall`, knowing a run after `known` is at or before it: bisection
// over the seconds between, a schedule step each.
wall_ms latest_run(const cron_schedule& s, wall_ms known, wall_ms wall) {
    using std::chrono::seconds;
    auto fits = [&](wall_ms t) {
        std::optional<std::chrono::sys_seconds> next = s.next_after(t);
        return next && *next <= wall;
    };
    wall_ms low = known, high = wall;  // fits(low), !fits(high)
    while (high - low > seconds{1}) {
        wall_ms middle = low + (high - low) / 2;
        (fits(middle) ? low : high) = middle;
    }
    return *s.next_after(low);
}

// The runs due by `wall` from the planned one on: how many (at most max_counted_runs, and then
// `counted_all` is false) and the latest.
struct due_runs {
    std::uint64_t count;
    bool counted_all;
    wall_ms latest;
};

due_runs runs_due_by(const timer_options& o, wall_ms wall) {
    due_runs d{1, true, next_ms(o)};
    for (;;) {
        std::optional<std::chrono::sys_seconds> next = o.cron->next_after(d.latest);
        if (!next || *next > wall) return d;
        if (d.count == max_counted_runs) {
            d.counted_all = false;
            d.latest = latest_run(*o.cron, d.latest, wall);
            return d;
        }
        d.latest = *next;
        ++d.count;
    }
}

// Moves `t` to its run at `at` (with a new jitter), or disarms it when the schedule has none.
void plan_run(lua_State* L, context& ctx, timer_handle& t, std::optional<wall_ms> at,
              time_point now) {
    timer_options& o = options_of(t);
    if (!at) {
        disarm(L, ctx, t);
        return;
    }
    o.cron_next_ms = at->time_since_epoch().count();
    o.jitter_now = draw_jitter(ctx, o.jitter_ms);
    time_point deadline = deadline_of(ctx, *at, now) + o.jitter_now;
    protect(L, [&] { ctx.timers.move_to(t.id, deadline); });
}

std::optional<wall_ms> run_after(const timer_options& o, wall_ms t) {
    std::optional<std::chrono::sys_seconds> next = o.cron->next_after(t);
    if (!next) return std::nullopt;
    return wall_ms{*next};
}

void replan(lua_State* L, context& ctx, timer_handle& t, time_point now) {
    timer_options& o = options_of(t);
    wall_ms wall = wall_now(ctx);
    if (next_ms(o) > wall) {  // still ahead: only its distance changed
        protect(
            L, [&] { ctx.timers.move_to(t.id, deadline_of(ctx, next_ms(o), now) + o.jitter_now); });
        return;
    }
    if (o.missed != missed_policy::skip) {  // the run folds them, or runs each, at once
        protect(L, [&] { ctx.timers.move_to(t.id, now); });
        return;
    }
    due_runs d = runs_due_by(o, wall);
    count_unrun(o, d.count);
    plan_run(L, ctx, t, run_after(o, d.latest), now);
}

}  // namespace

const cron_schedule* push_cron_schedule(lua_State* L, context& ctx, int expr, int zone) {
    std::size_t expr_length = 0, zone_length = 0;
    const char* expr_text = lua_tolstring(L, expr, &expr_length);
    const char* zone_text = zone != 0 ? lua_tolstring(L, zone, &zone_length) : "";
    void* memory = lua_newuserdatauv(L, sizeof(cron_schedule), 0);
    char message[256];
    try {
        auto* s = new (memory) cron_schedule({expr_text, expr_length}, {zone_text, zone_length});
        if (luaL_newmetatable(L, schedule_type)) {
            lua_pushcfunction(L, schedule_gc);
            lua_setfield(L, -2, "__gc");
        }
        lua_setmetatable(L, -2);
        // A schedule that never runs is a mistake in it ("0 0 30 2 *"), not a timer to keep.
        if (!s->next_after(wall_now(ctx))) {
            std::snprintf(message, sizeof message, "the schedule has no run after now");
        } else {
            return s;
        }
    } catch (const std::bad_alloc&) {
        std::snprintf(message, sizeof message, "not enough memory");
    } catch (const std::exception& e) {
        std::snprintf(message, sizeof message, "%s", e.what());
    }
    luaL_argerror(L, 1, message);
    __builtin_unreachable();
}

time_point plan_first_cron_run(lua_State* L, context& ctx, timer_handle& t, time_point now) {
    timer_options& o = options_of(t);
    std::optional<wall_ms> first = run_after(o, wall_now(ctx));
    if (!first) luaL_error(L, "the schedule has no run after now");
    o.cron_next_ms = first->time_since_epoch().count();
    o.jitter_now = draw_jitter(ctx, o.jitter_ms);
    if (!ctx.simulated) protect(L, [&] { ctx.wakeups.watch_wall_clock(); });
    ctx.cron_timers = true;
    return deadline_of(ctx, *first, now) + o.jitter_now;
}

std::optional<cron_run> begin_cron_run(lua_State* L, context& ctx, timer_handle& t) {
    timer_options& o = options_of(t);
    time_point now = ctx.clock->now();
    wall_ms wall = wall_now(ctx);
    if (next_ms(o) > wall) {  // the wall clock went back since it was queued
        protect(
            L, [&] { ctx.timers.move_to(t.id, deadline_of(ctx, next_ms(o), now) + o.jitter_now); });
        return std::nullopt;
    }
    due_runs d = runs_due_by(o, wall);
    bool each = o.missed == missed_policy::all && d.counted_all;
    wall_ms due = each ? next_ms(o) : d.latest;
    duration late = ctx.clock->wall_now() - (due + o.jitter_now);
    plan_run(L, ctx, t, run_after(o, due), now);
    std::uint64_t folded = each ? 0 : d.counted_all ? d.count - 1 : max_counted_runs;
    return cron_run{folded, std::max(late, duration::zero()), due.time_since_epoch()};
}

void replan_cron_timers(lua_State* L, context& ctx) {
    if (!ctx.cron_timers) return;
    time_point now = ctx.clock->now();
    push_context_value(L, pins_uv);
    int pins = lua_gettop(L);
    for (lua_Integer i = 1; i <= ctx.pins_made; ++i) {
        if (lua_rawgeti(L, pins, i) == LUA_TUSERDATA) {
            auto& t = *static_cast<timer_handle*>(lua_touserdata(L, -1));
            if (t.has_options && t.id && options_of(t).cron != nullptr) replan(L, ctx, t, now);
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

int mockit_cron(lua_State* L) {
    luaL_checkstring(L, 1);
    check_callable(L, 2);
    int nargs = lua_gettop(L) - 2;
    lua_createtable(L, 0, 3);
    lua_pushvalue(L, 1);
    lua_setfield(L, -2, "cron");
    lua_pushvalue(L, 2);
    lua_setfield(L, -2, "fn");
    lua_createtable(L, nargs, 1);
    for (int i = 1; i <= nargs; ++i) {
        lua_pushvalue(L, 2 + i);
        lua_rawseti(L, -2, i);
    }
    lua_pushinteger(L, nargs);
    lua_setfield(L, -2, "n");
    lua_setfield(L, -2, "args");
    lua_replace(L, 1);
    lua_settop(L, 1);
    return mockit_timer(L);  // in this call: an error names 'cron'
}

}  // namespace mockit::lua::detail
