// SPDX-License-Identifier: MIT
// The loop of one Lua state, as libuv's uv_run: wait, process_events, run, stop, on_error.
//
// wait() sleeps in the poller until the timer queue's next deadline (or a signal); a drain
// (process_events) takes the expiries due when it began from the timer queue, one at a time,
// and runs their callbacks. Every callback runs through one protected call whose message
// handler keeps the error value and adds a traceback (lua.c's docall/msghandler). A failing
// callback's expiry is taken before the call, so the queue stays consistent whatever the
// callback does; then on_error, the host's error sink, or propagation decides what happens next.
#include "loop.hpp"

#include <algorithm>

#include "cron_timer.hpp"
#include "error_report.hpp"
#include "lua_util.hpp"
#include "mockit/detail/precise_wakeups.hpp"
#include "task.hpp"
#include "timer.hpp"
#include "timer_options.hpp"
#include "virtual_time.hpp"

namespace mockit::lua::detail {
namespace {

enum class outcome { none, skipped, ran, failed };

// Runs the callback of one expiry taken from the timer queue, as a task; or resumes the task whose
// wake-up it is. A callback's lateness counts from `horizon`, when its loop turn began.
outcome dispatch_timer(lua_State* L, context& ctx, const expiry& e, time_point horizon) {
    push_context_value(L, pins_uv);
    lua_rawgeti(L, -1, pin_index(e.timer.slot()));
    // The queue hands out only armed timers, and an armed timer's handle is pinned at its slot.
    auto& t = *static_cast<timer_handle*>(lua_touserdata(L, -1));
    int ud = lua_gettop(L);
    int nargs = t.nargs;
    luaL_checkstack(L, nargs + 3, "too many callback arguments");
    if (!t.repeats) unpin(L, ctx, t, ud - 1);  // a one-off that ran; its callback may re-arm it
    bool ok = false;
    if (t.wakes_task) {
        ctx.options_run_ended.reset();
        ok = wake_task(L, ctx, ud);
    } else if (t.has_options) {
        std::optional<bool> ran = run_with_options(L, ctx, t, ud, e.due);
        if (!ran) {
            lua_settop(L, ud - 2);
            return outcome::skipped;
        }
        ctx.loop.lateness.record(whole_us(horizon - e.due));
        ok = *ran;
    } else {
        ctx.options_run_ended.reset();
        ctx.loop.lateness.record(whole_us(horizon - e.due));
        for (int uv = 1; uv <= nargs + 1; ++uv)
            lua_getiuservalue(L, ud, uv);
        ok = run_as_task(L, ctx, nargs);
    }
    if (ok) {
        lua_settop(L, ud - 2);
    } else {  // the error value and the traceback stay, in place of the pins and the handle
        lua_rotate(L, ud - 1, -2);
        lua_pop(L, 2);
    }
    return ok ? outcome::ran : outcome::failed;
}

// Wakes the tasks waiting for one arrival of `signo`, and runs its mockit.signal handler as a task.
outcome dispatch_signal(lua_State* L, context& ctx, int signo) {
    ctx.options_run_ended.reset();
    wake_signal_waiters(L, ctx, signo);
    push_context_value(L, signals_uv);
    lua_rawgeti(L, -1, signo);
    lua_remove(L, -2);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return outcome::skipped;
    }
    lua_pushstring(L, signal_name(signo));
    return run_as_task(L, ctx, 1) ? outcome::ran : outcome::failed;
}

// Expiries due after `horizon` (when the drain began) are left for the next drain: they came due
// while callbacks ran, and a drain that took them too would never end while callbacks are
// slower than their timers (libuv runs the timers due when a loop turn begins, the same way).
// So are timers armed during the drain (since `armed_before`) due at the horizon itself: on
// simulated time the clock stands still while callbacks run, and a 0 ms one-off is due there.
outcome next_callback(lua_State* L, context& ctx, time_point horizon, std::uint32_t armed_before) {
    if (int signo = ctx.signals.next_arrival()) return dispatch_signal(L, ctx, signo);
    std::optional<expiry> e =
        protect(L, [&] { return ctx.timers.take_due(horizon, armed_before); });
    if (!e) return outcome::none;
    return dispatch_timer(L, ctx, *e, horizon);
}

// Whether anything keeps run() going: a referenced timer or task, or anything due (an unref'd
// one-off that is due runs).
bool alive(context& ctx) {
    return ctx.referenced_timers > 0 || ctx.referenced_signal_waits > 0 ||
           ctx.referenced_task_waits > 0 || anything_due(ctx);
}

// Pushes "<heading>SIGA, SIGB" for the signals something waits for in the context value `uv`
// (signals_uv: a handler; signal_waits_uv: a non-empty list of tasks); returns how many strings
// it pushed.
int push_waiting_signals(lua_State* L, int uv, const char* heading) {
    const char* names[NSIG];
    int count = 0;
    push_context_value(L, uv);
    for (int signo = 1; signo < NSIG; ++signo) {
        int type = lua_rawgeti(L, -1, signo);
        bool waits =
            uv == signal_waits_uv ? type == LUA_TTABLE && lua_rawlen(L, -1) > 0 : type != LUA_TNIL;
        lua_pop(L, 1);
        if (waits) names[count++] = signal_name(signo);
    }
    lua_pop(L, 1);
    for (int i = 0; i < count; ++i) {
        lua_pushstring(L, i == 0 ? heading : ", ");
        lua_pushstring(L, names[i]);
    }
    return 2 * count;
}

// A wait with nothing to wait for in simulated time would wait for ever: no timer can come due,
// and nothing in the simulation can send a signal. As Go's testing/synctest reports a deadlock,
// the loop ends instead, with exit code 3 and a message naming what waits.
[[noreturn]] void raise_stuck(lua_State* L) {
    luaL_checkstack(L, 4 * NSIG + 4, "stuck in simulated time");
    lua_pushliteral(L, "stuck in simulated time: wait() has no timer to wait for and no timeout");
    int pieces = 1;
    pieces += push_waiting_signals(L, signals_uv, "; signal handlers wait for ");
    pieces += push_waiting_signals(L, signal_waits_uv, "; tasks wait for ");
    if (std::size_t n = upvalue_context(L).referenced_task_waits; n > 0) {
        lua_pushfstring(L, "; %d task%s wait%s for another task (a cycle of waits?)",
                        static_cast<int>(n), n == 1 ? "" : "s", n == 1 ? "s" : "");
        ++pieces;
    }
    lua_concat(L, pieces);
    raise_stop(L, stuck_exit_code, true);
}

int no_op(lua_State*) {
    return 0;
}

// A hook set to run at the very next instruction is an interruption on its way: lua.c's SIGINT
// handler sets one (and under the stock lua5.4 nothing else ends this wait for it), and so does
// mockit-run's. Hooks run only with Lua calls, so one is made: the hook raises from it.
void let_interruption_run(lua_State* L) {
    if (lua_gethook(L) == nullptr || (lua_gethookmask(L) & LUA_MASKCALL) == 0 ||
        lua_gethookcount(L) != 1)
        return;
    lua_pushcfunction(L, no_op);
    lua_call(L, 0, 0);
}

// wait() returns 0 once for a stop, and the script may finish its own work (mockit.stopping()
// tells it why). A script that waits again anyway, in a loop of its own that never asks, would
// spin: that wait() raises the stop instead.
bool told_stop(lua_State* L, context& ctx, int code) {
    if (ctx.stop_told) raise_stop(L, code);
    ctx.stop_told = true;
    return false;
}

void notify_observer(lua_State* L, const std::function<void()>& hook) {
    if (hook) protect(L, [&] { hook(); });
}

}  // namespace

void raise_stop(lua_State* L, int code, bool with_message) {
    *static_cast<int*>(lua_newuserdatauv(L, sizeof(int), 1)) = code;
    if (with_message) {
        lua_insert(L, -2);
        lua_setiuservalue(L, -2, 1);
    }
    luaL_setmetatable(L, stop_type);
    lua_error(L);
    __builtin_unreachable();
}

drain_result drain(lua_State* L, context& ctx, lua_Integer max) {
    int top = lua_gettop(L);
    lua_Integer ran = 0;
    bool stopped_before = ctx.stop_requested;
    time_point horizon = ctx.clock->now();
    ctx.options_run_ended.reset();  // since then, the script ran, or the loop waited
    std::uint32_t armed_before = ctx.timers.next_sequence();  // on a clock that stands still too
    // Nothing new starts once a stop is asked for, by mockit.stop() during this drain or by a
    // signal the host turned into a stop (SIGTERM, SIGINT).
    while (ran < max && (stopped_before || !ctx.stop_requested) && requested_stop_code() < 0) {
        outcome o = next_callback(L, ctx, horizon, armed_before);
        if (o == outcome::none) break;
        if (o == outcome::skipped) continue;
        ++ran;
        if (o == outcome::failed && !absorb_error(L, ctx)) {
            // The report goes where the drain began: the caller raises what is on top.
            lua_copy(L, -1, top + 1);
            lua_settop(L, top + 1);
            return {ran, true};
        }
    }
    lua_settop(L, top);
    return {ran, false};
}

bool wait_for_events(lua_State* L, context& ctx, std::optional<duration> timeout) {
    protect(L, [&] { ctx.wakeups.open(); });
    // A wake-up is stale once what it announced (a signal's arrival) is looked at below: forget
    // it first, so it cannot cut this wait short later. A signal arriving after this wakes anew.
    ctx.wakeups.forget_wakes();
    // A step of the wall clock moves every cron timer's next run (cron_timer.hpp).
    if (ctx.wakeups.wall_clock_stepped()) replan_cron_timers(L, ctx);
    // Stopping comes first: a loop of the script's own with callbacks always due would
    // otherwise be told about them for ever, and never about the stop.
    if (auto stop = requested_stop(ctx)) return told_stop(L, ctx, *stop);
    // anything_due(), keeping the deadline for the wait below
    if (ctx.signals.pending() > 0) return true;
    std::optional<time_point> next = ctx.timers.next_deadline();
    if (next && *next <= ctx.clock->now()) return true;
    if (!ctx.precise_wakeups) ctx.precise_wakeups = mockit::detail::ask_for_precise_wakeups();
    std::optional<time_point> until;
    if (timeout) until = ctx.clock->now() + *timeout;
    for (;;) {
        std::optional<time_point> wake_at = until;
        if (next && (!wake_at || *next < *wake_at)) wake_at = next;
        if (ctx.simulated) {
            if (!wake_at) raise_stuck(L);
            // Simulated time: nothing can run before then, so it is then at once.
            check_virtual_room(L, *wake_at);
            pass_idle_time(ctx, *wake_at);
            if (auto stop = requested_stop(ctx)) return told_stop(L, ctx, *stop);
            // Nothing ran during the jump: the deadline it jumped to is due, with no need to ask
            // the queue again (tests/bench/RESULTS.md).
            if ((next && *next <= *wake_at) || ctx.signals.pending() > 0) return true;
            if (until && *wake_at >= *until) return false;
        } else {
            std::optional<duration> sleep;
            time_point before = ctx.clock->now();
            // A long sleep ends a little early (first_sleep): the rest is slept by this loop's
            // next turn, from a CPU that is awake.
            if (wake_at) sleep = mockit::detail::first_sleep(*wake_at - before);
            ctx.wakeups.wait(sleep);
            ctx.loop.idle += ctx.clock->now() - before;
            if (ctx.wakeups.wall_clock_stepped()) replan_cron_timers(L, ctx);
            if (auto stop = requested_stop(ctx)) return told_stop(L, ctx, *stop);
            if (anything_due(ctx)) return true;
            if (until && ctx.clock->now() >= *until) return false;
        }
        let_interruption_run(L);
        // Otherwise a wake-up that brought nothing to run (a signal nobody handles in Lua, a
        // deadline whose timer was cancelled meanwhile, the first step of a long sleep): on.
        next = ctx.timers.next_deadline();
    }
}

input_wait wait_for_input(lua_State* L, context& ctx, int input) {
    protect(L, [&] { ctx.wakeups.open(); });
    ctx.wakeups.forget_wakes();
    // As in wait_for_events: a step left unread would keep the wait below from ever blocking.
    if (ctx.wakeups.wall_clock_stepped()) replan_cron_timers(L, ctx);
    if (auto stop = requested_stop(ctx)) return {input_wait::stopped, *stop};
    if (anything_due(ctx)) return {input_wait::due, 0};
    if (!ctx.precise_wakeups) ctx.precise_wakeups = mockit::detail::ask_for_precise_wakeups();
    std::optional<duration> sleep;
    if (!ctx.simulated) {
        time_point now = ctx.clock->now();
        if (std::optional<time_point> next = ctx.timers.next_deadline())
            sleep = mockit::detail::first_sleep(*next - now);
    }
    // The host's watchdog and metrics file are served from the prompt as from run().
    if (ctx.observer.period && (!sleep || *sleep > *ctx.observer.period))
        sleep = *ctx.observer.period;
    time_point before = ctx.clock->now();
    bool readable = ctx.wakeups.wait(sleep, input);
    ctx.loop.idle += ctx.clock->now() - before;
    notify_observer(L, ctx.observer.on_turn);
    if (auto stop = requested_stop(ctx)) return {input_wait::stopped, *stop};
    if (readable) return {input_wait::input, 0};
    return {anything_due(ctx) ? input_wait::due : input_wait::woken, 0};
}

// mockit.wait([timeout_ms]) -> number of queued callbacks (0 on timeout).
int mockit_wait(lua_State* L) {
    context& ctx = upvalue_context(L);
    std::optional<duration> timeout;
    if (!lua_isnoneornil(L, 1)) timeout = check_delay(L, 1);
    bool due = wait_for_events(L, ctx, timeout);
    lua_pushinteger(L, due ? static_cast<lua_Integer>(pending(ctx)) : 0);
    return 1;
}

// mockit.process_events([max]) -> number of callbacks run; a callback's error propagates.
int mockit_process_events(lua_State* L) {
    context& ctx = upvalue_context(L);
    lua_Integer max = check_count(L, 1, LUA_MAXINTEGER);
    lua_settop(L, 0);
    drain_result result = drain(L, ctx, max);
    if (result.failed) return lua_error(L);
    lua_pushinteger(L, result.ran);
    return 1;
}

// The turns of run(), called in protected mode as a closure over the context box (as every module
// function is): whatever ends them, a callback's error, on_error's own or an interruption, run()
// then ends as it does after a stop.
static int run_turns(lua_State* L) {
    context& ctx = upvalue_context(L);
    std::optional<int> stop;
    while (!(stop = requested_stop(ctx)) && alive(ctx)) {
        std::optional<duration> period;
        if (ctx.observer.period) period = *ctx.observer.period;
        wait_for_events(L, ctx, period);
        notify_observer(L, ctx.observer.on_turn);
        if (drain(L, ctx, LUA_MAXINTEGER).failed) return lua_error(L);
    }
    lua_pushinteger(L, stop.value_or(0));
    return 1;
}

// mockit.run() -> exit code: the loop, until mockit.stop(code) or nothing keeps it alive.
int mockit_run(lua_State* L) {
    context& ctx = upvalue_context(L);
    lua_settop(L, 0);
    notify_observer(L, ctx.observer.on_start);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushcclosure(L, run_turns, 1);
    int status = lua_pcall(L, 0, 1, 0);
    ctx.stop_requested = false;  // mockit.stop() ends one run; a signal's stop stays
    ctx.stop_told = false;
    // A run that raised leaves no code: a script that caught its error went on.
    int code = status == LUA_OK ? static_cast<int>(lua_tointeger(L, -1)) : 0;
    ctx.outcome = loop_outcome{true, code};
    notify_observer(L, ctx.observer.on_stop);
    if (status != LUA_OK) return lua_error(L);
    return 1;
}

// mockit.stopping() -> false | true, code: whether a stop is asked for (mockit.stop(), or
// SIGTERM/SIGINT under mockit-run), for a loop of the script's own that finishes its work first.
int mockit_stopping(lua_State* L) {
    std::optional<int> stop = requested_stop(upvalue_context(L));
    lua_pushboolean(L, stop.has_value());
    if (!stop) return 1;
    lua_pushinteger(L, *stop);
    return 2;
}

// mockit.stop([code]): ends the loop after the current callback.
int mockit_stop(lua_State* L) {
    context& ctx = upvalue_context(L);
    lua_Integer code = luaL_optinteger(L, 1, 0);
    luaL_argcheck(L, code >= 0 && code <= 255, 1, "exit code must be from 0 to 255");
    ctx.stop_requested = true;
    ctx.stop_code = static_cast<int>(code);
    return 0;
}

// mockit.on_error(fn | nil)
int mockit_on_error(lua_State* L) {
    if (!lua_isnoneornil(L, 1)) check_callable(L, 1);
    lua_settop(L, 1);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_setiuservalue(L, 1, on_error_uv);
    return 0;
}

int mockit_pending(lua_State* L) {
    context& ctx = upvalue_context(L);
    lua_pushinteger(L, static_cast<lua_Integer>(pending(ctx)));
    return 1;
}

int mockit_inqueue(lua_State* L) {
    context& ctx = upvalue_context(L);
    lua_pushinteger(L, static_cast<lua_Integer>(queued_entries(ctx)));
    return 1;
}

// mockit.stats() -> {timers, referenced, armed, pending, inqueue}: for tests and dumps.
int mockit_stats(lua_State* L) {
    context& ctx = upvalue_context(L);
    lua_createtable(L, 0, 6);
    set_count_field(L, "timers", ctx.live_timers);
    set_count_field(L, "referenced", ctx.referenced_timers);
    set_count_field(L, "armed", ctx.timers.size());
    set_count_field(L, "pending", pending(ctx));
    set_count_field(L, "inqueue", queued_entries(ctx));
    set_count_field(L, "tasks", ctx.live_tasks);
    return 1;
}

}  // namespace mockit::lua::detail
