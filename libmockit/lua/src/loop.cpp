// The consumer side of the queue: wait, process_events, run, stop, on_error.
//
// Every callback runs through one protected call whose message handler keeps the error value
// and adds a traceback (lua.c's docall/msghandler). A failing callback's event is consumed
// before the call, so the queue stays consistent whatever the callback does; then on_error,
// the host's error sink, or propagation decides what happens next.
#include "loop.hpp"

#include <algorithm>

#include "error_report.hpp"
#include "lua_util.hpp"
#include "mockit/detail/precise_wakeups.hpp"
#include "timer.hpp"

namespace mockit::lua::detail {
namespace {

enum class outcome { none, skipped, ran, failed };

// What every callback of one drain needs, pushed once at fixed (absolute) stack indices when
// the drain begins rather than fetched and inserted around each call.
struct drain_slots {
    int pins;     // the pins table, to find a handle from its event's anchor
    int handler;  // message_handler, the protected calls' message handler
};

// Stack slots above those two that a drain makes room for once, when it begins: enough for a
// handle, its callback and up to six arguments (dispatch_timer makes room for more), and for an
// error's value, traceback and report. Its callers' LUA_MINSTACK would hold them, but a drain
// does not count on how much of that its caller has used.
constexpr int reserved_slots = 8;

// The next event with calls left, taking a batch from the queue when the hand is empty, and
// recording more expiries when the queue is empty too but the last catch-up left some due.
event* next_event(lua_State* L, context& ctx, lua_Integer budget) {
    while (ctx.next < ctx.in_hand.size() && ctx.in_hand[ctx.next].count == 0)
        ++ctx.next;
    if (ctx.next == ctx.in_hand.size()) {
        ctx.in_hand.clear();
        ctx.next = 0;
        // At most batch_calls events: within the capacity reserved up front, so no allocation.
        auto max_calls = static_cast<std::size_t>(std::min<lua_Integer>(budget, batch_calls));
        ctx.queue.take(ctx.in_hand, max_calls);
        if (ctx.in_hand.empty() && ctx.behind) {
            catch_up(L, ctx);
            ctx.queue.take(ctx.in_hand, max_calls);
        }
        if (ctx.in_hand.empty()) return nullptr;
    }
    return &ctx.in_hand[ctx.next];
}

// Runs one expiry of `e`'s timer, or skips it when the timer is gone.
outcome dispatch_timer(lua_State* L, context& ctx, event& e, const drain_slots& slots) {
    lua_rawgeti(L, slots.pins, e.tag);
    auto* pinned = static_cast<timer_handle*>(lua_touserdata(L, -1));
    // The anchor is empty, or taken by another timer since, when this one was destroyed or
    // reset after it expired.
    if (pinned == nullptr || pinned->id != e.timer) {
        lua_pop(L, 1);
        e.count = 0;
        return outcome::skipped;
    }
    int ud = lua_gettop(L);
    auto& t = *pinned;
    int nargs = t.nargs;
    // The handle takes the first reserved slot, the callback and its arguments the next ones.
    // Checked before anything changes: failing to grow the stack leaves the event in hand.
    if (nargs + 2 > reserved_slots) luaL_checkstack(L, nargs + 1, "too many callback arguments");
    --e.count;          // consumed before the call, whatever the callback does
    e.due += e.period;  // what is left in hand is due one period later
    if (!t.repeats) unpin(L, ctx, t, slots.pins);  // a fired one-off; its callback may re-arm it
    for (int uv = 1; uv <= nargs + 1; ++uv)
        lua_getiuservalue(L, ud, uv);
    bool ok = protected_call(L, nargs, slots.handler);
    if (ok)
        lua_settop(L, ud - 1);
    else
        lua_remove(L, ud);
    return ok ? outcome::ran : outcome::failed;
}

// Runs the mockit.signal handler for one arrival of `signo`.
outcome dispatch_signal(lua_State* L, int signo, const drain_slots& slots) {
    push_context_value(L, signals_uv);
    lua_rawgeti(L, -1, signo);
    lua_remove(L, -2);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return outcome::skipped;
    }
    lua_pushstring(L, signal_name(signo));
    return protected_call(L, 1, slots.handler) ? outcome::ran : outcome::failed;
}

// Expiries due after `horizon` (when the drain began) are left for the next drain: they came due
// while callbacks ran, and a drain that took them too would never end while callbacks are
// slower than their timers (libuv runs the timers due when a loop turn begins, the same way).
outcome next_callback(lua_State* L, context& ctx, const drain_slots& slots, lua_Integer budget,
                      time_point horizon) {
    if (int signo = ctx.signals.next_arrival()) return dispatch_signal(L, signo, slots);
    event* e = next_event(L, ctx, budget);
    if (e == nullptr || e->due > horizon) return outcome::none;
    return dispatch_timer(L, ctx, *e, slots);
}

// Whether anything keeps run() going. What is already due counts, recorded or not: whether an
// unref'd one-off that is due runs must not depend on whether pending() was called first.
bool alive(lua_State* L, context& ctx) {
    if (ctx.referenced_timers > 0) return true;
    catch_up(L, ctx);
    return pending(ctx) > 0;
}

// Raises the stop as an error: a "mockit.stop" userdata holding the exit code, which mockit-run
// turns into its exit status without a report (stop_code_of).
[[noreturn]] void raise_stop(lua_State* L, int code) {
    *static_cast<int*>(lua_newuserdatauv(L, sizeof(int), 0)) = code;
    luaL_setmetatable(L, stop_type);
    lua_error(L);
    __builtin_unreachable();
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
std::size_t told_stop(lua_State* L, context& ctx, int code) {
    if (ctx.stop_told) raise_stop(L, code);
    ctx.stop_told = true;
    return 0;
}

void notify_observer(lua_State* L, const std::function<void()>& hook) {
    if (hook) protect(L, [&] { hook(); });
}

}  // namespace

drain_result drain(lua_State* L, context& ctx, lua_Integer max) {
    start_engine(L, ctx);  // a script may drain in a loop of its own, never calling wait()
    int top = lua_gettop(L);
    luaL_checkstack(L, 2 + reserved_slots, nullptr);
    drain_slots slots{top + 1, top + 2};
    push_context_value(L, pins_uv);  // the box's own table, never replaced: safe to hold
    lua_pushcfunction(L, message_handler);
    lua_Integer ran = 0;
    bool stopped_before = ctx.stop_requested;
    catch_up(L, ctx);  // the engine thread left what fell due while Lua ran to the loop
    time_point horizon = ctx.engine.clock().now();
    // Nothing new starts once a stop is asked for, by mockit.stop() during this drain or by a
    // signal the host turned into a stop (SIGTERM, SIGINT).
    while (ran < max && (stopped_before || !ctx.stop_requested) && requested_stop_code() < 0) {
        outcome o = next_callback(L, ctx, slots, max - ran, horizon);
        if (o == outcome::none) break;
        if (o == outcome::skipped) continue;
        ++ran;
        if (o == outcome::failed && !absorb_error(L, ctx)) {
            // The report goes where the slots began: the caller raises what is on top.
            lua_replace(L, top + 1);
            lua_settop(L, top + 1);
            return {ran, true};
        }
    }
    lua_settop(L, top);
    return {ran, false};
}

std::size_t wait_for_events(lua_State* L, context& ctx, std::optional<duration> timeout) {
    // A signal's wake-up is stale once its arrival is counted in pending(): forget it first, so
    // it cannot cut this wait short later. A signal arriving after this wakes the queue anew.
    ctx.queue.clear_wake();
    start_engine(L, ctx);
    // Stopping comes first: a loop of the script's own with callbacks always pending would
    // otherwise be told about them for ever, and never about the stop.
    if (auto stop = requested_stop(ctx)) return told_stop(L, ctx, *stop);
    catch_up(L, ctx);  // what fell due while Lua ran: no need to wait for it
    if (std::size_t n = pending(ctx); n > 0) return n;
    if (!ctx.precise_wakeups) ctx.precise_wakeups = mockit::detail::ask_for_precise_wakeups();
    // This thread never sleeps past the engine's next deadline: there it records the expiry
    // itself rather than wait for the engine thread to record it and wake this one. One thread
    // wake-up between a deadline and its callback instead of two is what keeps lateness close
    // to the machine's floor on a busy machine. The engine thread leaves all the recording to
    // this thread (set_owner_records), so the two neither wake together nor trade locks.
    clock_source& clock = ctx.engine.clock();
    std::optional<time_point> until;
    if (timeout) until = clock.now() + *timeout;
    for (;;) {
        std::optional<time_point> next = protect(L, [&] { return ctx.engine.next_deadline(); });
        std::optional<time_point> wake_at = until;
        if (next && (!wake_at || *next < *wake_at)) wake_at = next;
        std::optional<duration> slice;
        // A long sleep ends a little early (first_sleep): the rest is slept by this loop's
        // next turn, which finds nothing due yet.
        if (wake_at)
            slice = mockit::detail::first_sleep(std::max(*wake_at - clock.now(), duration::zero()));
        protect(L, [&] { return ctx.queue.wait(slice); });
        if (auto stop = requested_stop(ctx)) return told_stop(L, ctx, *stop);
        if (std::size_t n = pending(ctx); n > 0) return n;
        time_point now = clock.now();
        if (next && now >= *next) {
            catch_up(L, ctx);
            if (std::size_t n = pending(ctx); n > 0) return n;
        }
        if (until && now >= *until) return 0;
        let_interruption_run(L);
        // Otherwise a wake-up that brought nothing to run (a signal nobody handles in Lua, or a
        // deadline whose timer was cancelled meanwhile): wait on.
    }
}

// mockit.wait([timeout_ms]) -> number of queued callbacks (0 on timeout).
int mockit_wait(lua_State* L) {
    context& ctx = upvalue_context(L);
    std::optional<duration> timeout;
    if (!lua_isnoneornil(L, 1)) timeout = check_delay(L, 1);
    lua_pushinteger(L, static_cast<lua_Integer>(wait_for_events(L, ctx, timeout)));
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
    while (!(stop = requested_stop(ctx)) && alive(L, ctx)) {
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
    catch_up(L, ctx, SIZE_MAX);  // all that is due counts
    lua_pushinteger(L, static_cast<lua_Integer>(pending(ctx)));
    return 1;
}

int mockit_inqueue(lua_State* L) {
    context& ctx = upvalue_context(L);
    catch_up(L, ctx, SIZE_MAX);  // all that is due counts
    lua_pushinteger(L, static_cast<lua_Integer>(queued_entries(ctx)));
    return 1;
}

// mockit.stats() -> {timers, referenced, armed, pending, inqueue}: for tests and dumps.
int mockit_stats(lua_State* L) {
    context& ctx = upvalue_context(L);
    catch_up(L, ctx, SIZE_MAX);  // all that is due counts
    auto field = [&](const char* name, std::size_t value) {
        lua_pushinteger(L, static_cast<lua_Integer>(value));
        lua_setfield(L, -2, name);
    };
    lua_createtable(L, 0, 5);
    field("timers", ctx.live_timers);
    field("referenced", ctx.referenced_timers);
    field("armed", protect(L, [&] { return ctx.engine.size(); }));
    field("pending", pending(ctx));
    field("inqueue", queued_entries(ctx));
    return 1;
}

}  // namespace mockit::lua::detail
