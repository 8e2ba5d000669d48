// SPDX-License-Identifier: MIT
#include "task.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <utility>

#include "error_report.hpp"
#include "loop.hpp"
#include "lua_util.hpp"
#include "signals.hpp"

namespace mockit::lua {
namespace {

// The coroutines of the tasks running now, outermost first, for a host's signal handler
// (running_task_threads). Only the thread running Lua writes them; a handler that interrupts it
// reads them on the same thread, so relaxed order is enough.
std::array<std::atomic<lua_State*>, 256> running_threads{};
std::atomic<int> running_depth{0};

}  // namespace

void for_each_running_task(void (*fn)(lua_State* thread)) noexcept {
    int depth = std::min(running_depth.load(std::memory_order_relaxed),
                         static_cast<int>(running_threads.size()));
    for (int i = 0; i < depth; ++i) {
        if (lua_State* thread = running_threads[i].load(std::memory_order_relaxed)) fn(thread);
    }
}

}  // namespace mockit::lua

namespace mockit::lua::detail {
namespace {

using std::chrono::milliseconds;

inline constexpr int task_thread_uv = 1;   // the coroutine, until the task ends
inline constexpr int task_result_uv = 2;   // its results ({n = count, ...}) or its error value
inline constexpr int task_waiters_uv = 3;  // the tasks waiting for its end, a sequence, or nil
inline constexpr int task_awaited_uv = 4;  // the task it waits for
inline constexpr int task_uv_count = 4;

// Idle coroutines kept for the next callbacks: plenty for drains nested in callbacks, few enough
// that a million tasks ending at once do not leave a million threads behind.
constexpr lua_Integer max_idle_threads = 256;

int close_thread(lua_State* co, lua_State* from) {
#if LUA_VERSION_RELEASE_NUM >= 50406
    return lua_closethread(co, from);
#else
    (void)from;
    return lua_resetthread(co);
#endif
}

bool finished(const task_handle& t) {
    return t.status == task_status::done || t.status == task_status::failed ||
           t.status == task_status::cancelled;
}

task_handle& to_task(lua_State* L, int index) {
    return *static_cast<task_handle*>(lua_touserdata(L, index));
}

task_handle& check_task(lua_State* L, int arg) {
    return *static_cast<task_handle*>(luaL_checkudata(L, arg, task_type));
}

// Pushes the thread value of `co` onto L.
void push_thread(lua_State* L, lua_State* co) {
    lua_pushthread(co);
    lua_xmove(co, L, 1);
}

// Pushes an idle coroutine, or a new one.
lua_State* take_thread(lua_State* L, context& ctx) {
    if (ctx.idle_threads == 0) return lua_newthread(L);
    push_context_value(L, threads_uv);
    lua_rawgeti(L, -1, ctx.idle_threads);
    lua_remove(L, -2);
    --ctx.idle_threads;
    return lua_tothread(L, -1);
}

// Keeps `co`, which ended clean (returned, or closed), for another task: as the callback thread
// when there is none, else in the pool if it has room.
void give_back(lua_State* L, context& ctx, lua_State* co) {
    if (lua_status(co) != LUA_OK || lua_gettop(co) != 0) return;
    if (co == ctx.callback_thread) {
        ctx.callback_thread_idle = true;
        return;
    }
    if (ctx.callback_thread != nullptr && ctx.idle_threads >= max_idle_threads) return;
    push_context_value(L, threads_uv);
    push_thread(L, co);
    if (ctx.callback_thread == nullptr) {
        lua_rawseti(L, -2, 0);
        ctx.callback_thread = co;
        ctx.callback_thread_idle = true;
    } else {
        lua_rawseti(L, -2, ctx.idle_threads + 1);
        ++ctx.idle_threads;
    }
    lua_pop(L, 1);
}

// Pushes a new handle for the task running on the thread at stack index `thread`, and registers
// it in the tasks table.
task_handle& new_task(lua_State* L, context& ctx, int thread, bool anonymous, bool main) {
    thread = lua_absindex(L, thread);
    auto* t = static_cast<task_handle*>(lua_newuserdatauv(L, sizeof(task_handle), task_uv_count));
    *t = task_handle{};
    t->wake = timer_handle{timer_id{}, 0, 0, false, true, false, true, false};
    t->status = task_status::running;
    t->anonymous = anonymous;
    t->main = main;
    luaL_setmetatable(L, task_type);
    lua_pushvalue(L, thread);
    lua_setiuservalue(L, -2, task_thread_uv);
    push_context_value(L, tasks_uv);
    lua_pushvalue(L, thread);
    lua_pushvalue(L, -3);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    if (!main) ++ctx.live_tasks;
    return *t;
}

// The task running on L, its handle pushed. Raises "<what>: not inside a task" when L runs none
// (the main thread outside mockit-run, a coroutine of the script's own, a task being cancelled),
// and Lua's own error where it cannot yield.
task_handle& current_task(lua_State* L, context& ctx, const char* what) {
    bool main = lua_pushthread(L) == 1;
    if (main ? !ctx.main_is_task : L != ctx.running) {
        push_context_value(L, tasks_uv);
        lua_pushvalue(L, -2);
        if (lua_rawget(L, -2) == LUA_TUSERDATA && to_task(L, -1).status == task_status::cancelled)
            luaL_error(L, "%s: the task is being cancelled (its <close> handlers cannot pause)",
                       what);
        luaL_error(L, "%s: not inside a task (start one with mockit.spawn)", what);
    }
    if (!main && !lua_isyieldable(L)) luaL_error(L, "attempt to yield across a C-call boundary");
    push_context_value(L, tasks_uv);
    lua_pushvalue(L, -2);
    if (lua_rawget(L, -2) == LUA_TUSERDATA) {
        // The main thread runs the loop while it pauses, and what the loop calls on it (on_error,
        // a __gc) would re-arm its one wake-up: the outer pause would never end.
        if (main && to_task(L, -1).status == task_status::paused)
            luaL_error(L,
                       "%s: the main chunk is paused already (this runs inside its pause, as "
                       "mockit.on_error or a __gc does)",
                       what);
        lua_replace(L, -3);
        lua_pop(L, 1);
        return to_task(L, -1);
    }
    lua_pop(L, 2);
    task_handle& t = new_task(L, ctx, -1, true, main);
    lua_remove(L, -2);
    if (!main) ctx.handle_made = true;
    return t;
}

// Arms the wake-up of the task whose handle is at `ud`, `delay` from now.
void arm_wake(lua_State* L, context& ctx, task_handle& t, int ud, milliseconds delay) {
    disarm(L, ctx, t.wake);
    t.wake.delay_ms = static_cast<std::uint64_t>(delay.count()) & delay_ms_mask;
    arm(L, ctx, t.wake, ud);
}

// What it waited for came: the paused task at `ud` runs again on the loop's next turn.
void wake_soon(lua_State* L, context& ctx, task_handle& t, int ud) {
    t.woken = true;
    arm_wake(L, ctx, t, ud, milliseconds{0});
}

// Wakes every task of the sequence at `list`; returns how many there were.
lua_Integer wake_all(lua_State* L, context& ctx, int list) {
    auto n = static_cast<lua_Integer>(lua_rawlen(L, list));
    for (lua_Integer i = 1; i <= n; ++i) {
        lua_rawgeti(L, list, i);
        wake_soon(L, ctx, to_task(L, -1), lua_gettop(L));
        lua_pop(L, 1);
    }
    return n;
}

// Removes the handle at `ud` from the sequence on top of the stack, if it is there.
void remove_from(lua_State* L, int ud) {
    int list = lua_gettop(L);
    auto n = static_cast<lua_Integer>(lua_rawlen(L, list));
    for (lua_Integer i = 1; i <= n; ++i) {
        lua_rawgeti(L, list, i);
        bool found = lua_rawequal(L, -1, ud);
        lua_pop(L, 1);
        if (!found) continue;
        lua_rawgeti(L, list, n);  // the last one takes its place: order does not matter
        lua_rawseti(L, list, i);
        lua_pushnil(L);
        lua_rawseti(L, list, n);
        return;
    }
}

// Appends the value on top of the stack to the sequence at `list` (created in the user value
// `uv` of `owner` when missing), and pops it.
void append_to(lua_State* L, int owner, int uv) {
    if (lua_getiuservalue(L, owner, uv) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setiuservalue(L, owner, uv);
    }
    lua_insert(L, -2);
    lua_rawseti(L, -2, static_cast<lua_Integer>(lua_rawlen(L, -2)) + 1);
    lua_pop(L, 1);
}

// The task at `ud` stops waiting, whatever for: its wake-up is disarmed and it leaves the lists
// it was on. It is running again, unless the caller says otherwise.
void settle(lua_State* L, context& ctx, task_handle& t, int ud) {
    ud = lua_absindex(L, ud);
    int top = lua_gettop(L);
    disarm(L, ctx, t.wake);
    if (t.waiting == task_wait::task) {
        if (lua_getiuservalue(L, ud, task_awaited_uv) == LUA_TUSERDATA &&
            lua_getiuservalue(L, -1, task_waiters_uv) == LUA_TTABLE) {
            remove_from(L, ud);
        }
        lua_settop(L, top);
        lua_pushnil(L);
        lua_setiuservalue(L, ud, task_awaited_uv);
        if (t.wake.referenced) --ctx.referenced_task_waits;
    } else if (t.waiting == task_wait::signal) {
        push_context_value(L, signal_waits_uv);
        if (lua_rawgeti(L, -1, t.signo) == LUA_TTABLE) remove_from(L, ud);
        lua_settop(L, top);
        if (t.wake.referenced) --ctx.referenced_signal_waits;
        // The signal stays caught: a task that awaits it in a loop is not between two waits
        // when the next one comes, and its default action (often: end the process) would strike
        // there. An arrival nobody waits for or handles is dropped; mockit.signal(name, nil)
        // restores the default.
    }
    t.waiting = task_wait::none;
    t.woken = false;
    t.status = task_status::running;
}

// Runs the loop on the main thread until the wake-up of its task `t` (handle at `ud`) comes:
// mockit-run's main chunk pauses that way, for want of a coroutine to yield. A stop, or a
// callback's error, ends the wait as it ends run().
void run_until_woken(lua_State* L, context& ctx, task_handle& t, int ud) {
    ctx.main_woken = false;
    while (!ctx.main_woken) {
        if (std::optional<int> stop = requested_stop(ctx)) {
            settle(L, ctx, t, ud);
            raise_stop(L, *stop);
        }
        if (!anything_due(ctx)) {
            wait_for_events(L, ctx, std::nullopt);
            continue;  // a stop, or what came due
        }
        if (drain(L, ctx, 1).failed) {
            settle(L, ctx, t, ud);
            lua_error(L);
        }
    }
    ctx.main_woken = false;
}

// Suspends the running task `t` (handle at `ud`), whose wake-up is arranged, until it comes; then
// continues with k, as a yield's continuation.
int suspend(lua_State* L, context& ctx, task_handle& t, int ud, lua_KFunction k) {
    t.status = task_status::paused;
    auto kctx = reinterpret_cast<lua_KContext>(&t);
    if (t.main) {
        run_until_woken(L, ctx, t, ud);
        return k(L, LUA_YIELD, kctx);
    }
    ctx.suspending = true;
    return lua_yieldk(L, 0, kctx, k);
}

// The task at `ud` ended: its status, its results (or error) for wait(), and its waiters woken.
// The results are the top `nresults` values of L.
void end_task(lua_State* L, context& ctx, task_handle& t, int ud, task_status status,
              int nresults) {
    ud = lua_absindex(L, ud);
    t.status = status;
    if (status == task_status::done && !t.anonymous) {
        int first = lua_gettop(L) - nresults + 1;
        lua_createtable(L, nresults, 1);
        for (int i = 0; i < nresults; ++i) {
            lua_pushvalue(L, first + i);
            lua_rawseti(L, -2, i + 1);
        }
        lua_pushinteger(L, nresults);
        lua_setfield(L, -2, "n");
        lua_setiuservalue(L, ud, task_result_uv);
    } else if (status == task_status::failed && !t.anonymous) {
        lua_pushvalue(L, -nresults);  // the error value
        lua_setiuservalue(L, ud, task_result_uv);
    }
    lua_getiuservalue(L, ud, task_thread_uv);
    push_context_value(L, tasks_uv);
    lua_insert(L, -2);
    lua_pushnil(L);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    lua_pushnil(L);
    lua_setiuservalue(L, ud, task_thread_uv);
    --ctx.live_tasks;
    if (lua_getiuservalue(L, ud, task_waiters_uv) == LUA_TTABLE) {
        wake_all(L, ctx, lua_gettop(L));
        lua_pushnil(L);
        lua_setiuservalue(L, ud, task_waiters_uv);
    }
    lua_pop(L, 1);
}

// Pushes what task:wait() returns for the ended task at `ud`.
int push_outcome(lua_State* L, int ud) {
    task_handle& t = to_task(L, ud);
    if (t.status == task_status::cancelled) {
        lua_pushnil(L);
        lua_pushliteral(L, "cancelled");
        return 2;
    }
    if (t.status == task_status::failed) {
        lua_pushnil(L);
        lua_getiuservalue(L, ud, task_result_uv);
        return 2;
    }
    lua_getiuservalue(L, ud, task_result_uv);
    lua_getfield(L, -1, "n");
    auto n = static_cast<int>(lua_tointeger(L, -1));
    lua_pop(L, 1);
    luaL_checkstack(L, n + 1, "too many results to return");
    lua_pushboolean(L, true);
    for (int i = 1; i <= n; ++i)
        lua_rawgeti(L, -2 - (i - 1), i);
    lua_remove(L, -(n + 2));
    return n + 1;
}

// Resumes `co` (its function and arguments, or the values its continuation gets, are on its
// stack: `nargs` of them), the coroutine of task `t` (handle at `ud`), or of a callback's task
// when t is null. True when it returned or paused; false pushes its error value and traceback.
bool resume(lua_State* L, context& ctx, lua_State* co, int nargs, task_handle* t, int ud) {
    lua_State* outer = std::exchange(ctx.running, co);
    bool made_outer = std::exchange(ctx.handle_made, false);
    int depth = running_depth.load(std::memory_order_relaxed);
    if (depth < static_cast<int>(running_threads.size()))
        running_threads[depth].store(co, std::memory_order_relaxed);
    running_depth.store(depth + 1, std::memory_order_relaxed);
    int nresults = 0;
    int status = lua_resume(co, L, nargs, &nresults);
    running_depth.store(depth, std::memory_order_relaxed);
    ctx.running = outer;
    bool suspended = std::exchange(ctx.suspending, false);
    bool made = std::exchange(ctx.handle_made, made_outer);
    if (status == LUA_OK && t == nullptr) {  // a callback that returned: the common case
        ctx.paused_callback = nullptr;
        if (nresults > 0) lua_settop(co, 0);
        give_back(L, ctx, co);
        return true;
    }
    int top = lua_gettop(L);
    if (t == nullptr && made) {  // the callback paused: its handle is in the tasks table
        push_context_value(L, tasks_uv);
        push_thread(L, co);
        lua_rawget(L, -2);
        lua_remove(L, -2);
        ud = lua_gettop(L);
        t = &to_task(L, ud);
    }
    ctx.paused_callback = nullptr;
    if (status == LUA_YIELD && suspended && !(t != nullptr && t->cancelling)) {
        lua_settop(L, top);
        if (made) ctx.paused_callback = co;
        if (co == ctx.callback_thread) ctx.callback_thread = nullptr;  // the task's now
        return true;  // paused: its wake-up will resume it
    }
    bool ok = true;
    task_status ended = task_status::done;
    if (status == LUA_OK) {
        luaL_checkstack(L, nresults + LUA_MINSTACK, "too many results to keep");
        lua_xmove(co, L, nresults);
        lua_settop(co, 0);
    } else {
        // A failure, a yield of its own (coroutine.yield at the task's level, which nothing would
        // ever resume), or its own cancel: the coroutine is closed, its <close> variables run.
        ok = status == LUA_YIELD && suspended;  // cancelled itself
        ended = ok ? task_status::cancelled : task_status::failed;
        if (!ok) {
            if (status == LUA_YIELD) {
                lua_pushliteral(L,
                                "coroutine.yield() in a task, which nothing would resume (a task "
                                "pauses with mockit.pause, task:wait or mockit.await_signal)");
            } else {
                lua_pushnil(L);  // the error value's place: it stays in the coroutine, see below
            }
            luaL_traceback(L, co, nullptr, 0);  // while its frames are there
        }
        // Closing a coroutine that raised returns its error, which its <close> handlers get too,
        // or the error of one of them, and leaves it on the coroutine's stack; closing one that
        // yielded fails only when a <close> handler does.
        if (close_thread(co, L) != LUA_OK) {
            if (ok) {
                lua_pushnil(L);
                lua_pushliteral(L, "");
            }
            lua_xmove(co, L, 1);
            lua_replace(L, -3);
            lua_settop(co, 0);
            ok = false;
            ended = task_status::failed;
        }
        nresults = ok ? 0 : 2;
    }
    if (t != nullptr) {
        // end_task sees the error value at -nresults (below its traceback) when failed.
        end_task(L, ctx, *t, ud, ended, ended == task_status::failed ? 2 : nresults);
    }
    give_back(L, ctx, co);
    if (ok) {
        lua_settop(L, top);
    } else if (lua_gettop(L) > top + 2) {
        lua_remove(L, top + 1);  // the handle pushed above: the error value and traceback stay
    }
    return ok;
}

// A paused task's coroutine resumed by the script (coroutine.resume on a value of
// coroutine.running() kept from it, or from an earlier task on the same pooled coroutine), not by
// the loop: the task stays paused, and the resume returns at once, with no values. Running it
// there would leave its wake-up armed for a coroutine that is running, or dead.
bool resumed_by_script(lua_State* L, const task_handle& t) {
    return !t.main && L != upvalue_context(L).running;
}

// The continuation of pause(): nothing to return.
int pause_resumed(lua_State* L, int, lua_KContext k) {
    auto& t = *reinterpret_cast<task_handle*>(k);
    if (resumed_by_script(L, t)) {
        lua_settop(L, 1);
        return lua_yieldk(L, 0, k, pause_resumed);
    }
    t.status = task_status::running;
    t.waiting = task_wait::none;
    t.woken = false;
    return 0;
}

// task:wait()'s continuation: the awaited task is at 1, the waiting one at 2.
int wait_resumed(lua_State* L, int, lua_KContext k) {
    auto& t = *reinterpret_cast<task_handle*>(k);
    if (resumed_by_script(L, t)) {
        lua_settop(L, 2);
        return lua_yieldk(L, 0, k, wait_resumed);
    }
    settle(L, upvalue_context(L), t, 2);
    if (!finished(to_task(L, 1))) {
        lua_pushnil(L);
        lua_pushliteral(L, "timeout");
        return 2;
    }
    return push_outcome(L, 1);
}

// await_signal()'s continuation: the waiting task is at 2.
int signal_resumed(lua_State* L, int, lua_KContext k) {
    auto& t = *reinterpret_cast<task_handle*>(k);
    if (resumed_by_script(L, t)) {
        lua_settop(L, 2);
        return lua_yieldk(L, 0, k, signal_resumed);
    }
    bool woken = t.woken;
    settle(L, upvalue_context(L), t, 2);
    if (woken) {
        lua_pushboolean(L, true);
        return 1;
    }
    lua_pushnil(L);
    lua_pushliteral(L, "timeout");
    return 2;
}

}  // namespace

// mockit.spawn(fn, ...) -> task: runs fn(...) as a task, at once, until it first pauses.
int mockit_spawn(lua_State* L) {
    context& ctx = upvalue_context(L);
    check_callable(L, 1);
    int nargs = lua_gettop(L) - 1;
    luaL_checkstack(L, nargs + LUA_MINSTACK, "too many arguments to spawn");
    lua_State* co = take_thread(L, ctx);
    int thread = lua_gettop(L);
    task_handle& t = new_task(L, ctx, thread, false, false);
    int ud = lua_gettop(L);
    if (!lua_checkstack(co, nargs + 1)) return luaL_error(L, "too many arguments to spawn");
    for (int i = 1; i <= nargs + 1; ++i)
        lua_pushvalue(L, i);
    lua_xmove(L, co, nargs + 1);
    if (!resume(L, ctx, co, nargs, &t, ud) && !absorb_error(L, ctx)) return lua_error(L);
    lua_settop(L, ud);
    return 1;
}

// mockit.pause(ms): the running task sleeps ms; the loop runs everything else meanwhile.
int mockit_pause(lua_State* L) {
    context& ctx = upvalue_context(L);
    milliseconds ms = check_delay(L, 1);
    lua_settop(L, 0);
    task_handle& t = current_task(L, ctx, "pause");
    arm_wake(L, ctx, t, 1, ms);
    t.waiting = task_wait::pause;
    return suspend(L, ctx, t, 1, pause_resumed);
}

namespace {

// task:wait([timeout_ms]) -> true, results... | nil, "cancelled" | nil, "timeout" | nil, err
int task_wait(lua_State* L) {
    task_handle& awaited = check_task(L, 1);
    std::optional<milliseconds> timeout;
    if (!lua_isnoneornil(L, 2)) timeout = check_delay(L, 2);
    context& ctx = upvalue_context(L);
    lua_settop(L, 1);
    task_handle& t = current_task(L, ctx, "wait");
    if (&t == &awaited) return luaL_error(L, "wait: a task cannot wait for itself");
    if (finished(awaited)) return push_outcome(L, 1);
    lua_pushvalue(L, 2);
    append_to(L, 1, task_waiters_uv);
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, 2, task_awaited_uv);
    t.waiting = task_wait::task;
    if (t.wake.referenced) ++ctx.referenced_task_waits;
    if (timeout) arm_wake(L, ctx, t, 2, *timeout);
    return suspend(L, ctx, t, 2, wait_resumed);
}

}  // namespace

// mockit.await_signal(name [, timeout_ms]) -> true | nil, "timeout"
int mockit_await_signal(lua_State* L) {
    int signo = check_signal(L, 1);
    std::optional<milliseconds> timeout;
    if (!lua_isnoneornil(L, 2)) timeout = check_delay(L, 2);
    context& ctx = upvalue_context(L);
    lua_settop(L, 1);
    task_handle& t = current_task(L, ctx, "await_signal");
    protect(L, [&] { ctx.signals.watch(signo); });
    push_context_value(L, signal_waits_uv);
    if (lua_rawgeti(L, -1, signo) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_rawseti(L, -3, signo);
    }
    lua_pushvalue(L, 2);
    lua_rawseti(L, -2, static_cast<lua_Integer>(lua_rawlen(L, -2)) + 1);
    lua_settop(L, 2);
    t.waiting = task_wait::signal;
    t.signo = signo;
    if (t.wake.referenced) ++ctx.referenced_signal_waits;
    if (timeout) arm_wake(L, ctx, t, 2, *timeout);
    return suspend(L, ctx, t, 2, signal_resumed);
}

namespace {

// task:cancel() -> true, or false when it had ended. A paused task is closed at once: its
// pending <close> variables run, its wake-up is cancelled, and its waiters get nil, "cancelled".
// A task cancelling itself ends there, as if it paused for ever and was closed.
int task_cancel(lua_State* L) {
    task_handle& t = check_task(L, 1);
    context& ctx = upvalue_context(L);
    lua_settop(L, 1);
    if (finished(t)) {
        lua_pushboolean(L, false);
        return 1;
    }
    lua_getiuservalue(L, 1, task_thread_uv);
    lua_State* co = lua_tothread(L, 2);
    if (co == L) {
        if (!lua_isyieldable(L)) return luaL_error(L, "attempt to yield across a C-call boundary");
        t.cancelling = true;
        ctx.suspending = true;
        return lua_yield(L, 0);
    }
    if (t.status != task_status::paused)
        return luaL_error(L, "cancel: the task is running (it started the caller)");
    settle(L, ctx, t, 1);
    t.status = task_status::cancelled;
    int status = close_thread(co, L);
    if (status != LUA_OK) {
        lua_xmove(co, L, 1);
        lua_settop(co, 0);
    }
    end_task(L, ctx, t, 1, status == LUA_OK ? task_status::cancelled : task_status::failed,
             status == LUA_OK ? 0 : 1);
    give_back(L, ctx, co);
    if (status != LUA_OK) {  // a <close> handler's error: a task's error, reported as such
        // The handler's frames went with the close: the traceback says where cancel() was called.
        luaL_traceback(L, L, nullptr, 1);
        if (!absorb_error(L, ctx)) return lua_error(L);
    }
    lua_pushboolean(L, true);
    return 1;
}

int task_status_name(lua_State* L) {
    static constexpr const char* names[] = {"running", "paused", "done", "failed", "cancelled"};
    lua_pushstring(L, names[static_cast<int>(check_task(L, 1).status)]);
    return 1;
}

// task:ref() / task:unref() -> task: whether the task keeps run() alive while it waits.
int set_task_referenced(lua_State* L, bool referenced) {
    task_handle& t = check_task(L, 1);
    context& ctx = upvalue_context(L);
    if (t.wake.referenced != referenced) {
        if (t.waiting == task_wait::signal) ctx.referenced_signal_waits += referenced ? 1 : -1;
        if (t.waiting == task_wait::task) ctx.referenced_task_waits += referenced ? 1 : -1;
    }
    set_referenced(ctx, t.wake, referenced);
    lua_settop(L, 1);
    return 1;
}

int task_ref(lua_State* L) {
    return set_task_referenced(L, true);
}
int task_unref(lua_State* L) {
    return set_task_referenced(L, false);
}

int task_tostring(lua_State* L) {
    task_status_name(L);
    lua_pushfstring(L, "mockit.task (%s): %p", lua_tostring(L, -1), lua_topointer(L, 1));
    return 1;
}

const luaL_Reg task_methods[] = {
    {"cancel", task_cancel}, {"wait", task_wait},   {"status", task_status_name},
    {"ref", task_ref},       {"unref", task_unref}, {nullptr, nullptr},
};

}  // namespace

void register_task_type(lua_State* L) {
    int box = lua_gettop(L);
    luaL_newmetatable(L, task_type);
    lua_newtable(L);
    lua_pushvalue(L, box);
    luaL_setfuncs(L, task_methods, 1);
    lua_setfield(L, -2, "__index");
    lua_pushvalue(L, box);
    lua_pushcclosure(L, task_tostring, 1);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
}

bool run_as_task(lua_State* L, context& ctx, int nargs) {
    // The callback thread, idle: anchored in the threads table, it needs no stack slot.
    if (lua_State* co = ctx.callback_thread; co != nullptr && ctx.callback_thread_idle) {
        if (!lua_checkstack(co, nargs + 1)) luaL_error(L, "too many callback arguments");
        ctx.callback_thread_idle = false;
        lua_xmove(L, co, nargs + 1);
        return resume(L, ctx, co, nargs, nullptr, 0);
    }
    lua_State* co = take_thread(L, ctx);
    if (!lua_checkstack(co, nargs + 1)) luaL_error(L, "too many callback arguments");
    lua_insert(L, -(nargs + 2));
    lua_xmove(L, co, nargs + 1);
    bool ok = resume(L, ctx, co, nargs, nullptr, 0);
    lua_remove(L, ok ? -1 : -3);  // the thread
    return ok;
}

bool wake_task(lua_State* L, context& ctx, int ud) {
    task_handle& t = to_task(L, ud);
    if (t.main) {
        ctx.main_woken = true;
        return true;
    }
    lua_getiuservalue(L, ud, task_thread_uv);
    lua_State* co = lua_tothread(L, -1);
    if (lua_status(co) != LUA_YIELD) {
        // Not where its pause left it: the script closed it (coroutine.close). It ended there, as
        // a cancel ends it; the coroutine is left alone (it may even be running).
        settle(L, ctx, t, ud);
        end_task(L, ctx, t, ud, task_status::cancelled, 0);
        lua_pop(L, 1);
        return true;
    }
    bool ok = resume(L, ctx, co, 0, &t, ud);
    lua_remove(L, ok ? -1 : -3);
    return ok;
}

bool task_going(lua_State* L, int ud) {
    task_handle& t = to_task(L, ud);
    if (t.status == task_status::running) return true;
    if (t.status != task_status::paused) return false;
    if (t.main) return true;  // the host's coroutine: the script cannot close it
    lua_getiuservalue(L, ud, task_thread_uv);
    lua_State* co = lua_tothread(L, -1);
    bool going = co != nullptr && lua_status(co) == LUA_YIELD;
    lua_pop(L, 1);
    return going;
}

int wake_signal_waiters(lua_State* L, context& ctx, int signo) {
    push_context_value(L, signal_waits_uv);
    if (lua_rawgeti(L, -1, signo) != LUA_TTABLE) {
        lua_pop(L, 2);
        return 0;
    }
    lua_pushnil(L);
    lua_rawseti(L, -3, signo);  // they all wake: the list starts again
    // Off the list already; their continuations settle the rest (settle).
    auto n = static_cast<int>(wake_all(L, ctx, lua_gettop(L)));
    lua_pop(L, 2);
    return n;
}

namespace {

// Closes the tasks paused now; returns how many there were.
lua_Integer close_paused_now(lua_State* L, context& ctx) {
    // Collected first: a <close> handler may start tasks, and a table must not grow while
    // traversed.
    int top = lua_gettop(L);
    push_context_value(L, tasks_uv);
    lua_newtable(L);
    int paused = lua_gettop(L);
    lua_Integer n = 0;
    lua_pushnil(L);
    while (lua_next(L, paused - 1) != 0) {
        if (!to_task(L, -1).main && to_task(L, -1).status == task_status::paused) {
            lua_rawseti(L, paused, ++n);
        } else {
            lua_pop(L, 1);
        }
    }
    // All stop waiting before any <close> handler runs: a handler may run the loop, which must
    // not resume a task being closed (its wake-up armed still) nor one closed already.
    for (lua_Integer i = 1; i <= n; ++i) {
        lua_rawgeti(L, paused, i);
        task_handle& t = to_task(L, -1);
        settle(L, ctx, t, -1);
        t.status = task_status::cancelled;
        lua_pop(L, 1);
    }
    for (lua_Integer i = 1; i <= n; ++i) {
        lua_rawgeti(L, paused, i);
        lua_getiuservalue(L, -1, task_thread_uv);
        lua_State* co = lua_tothread(L, -1);
        if (co != nullptr && lua_status(co) == LUA_YIELD && close_thread(co, L) != LUA_OK) {
            const char* message = lua_tostring(co, -1);
            protect(L, [&] {
                ctx.log(log_level::error,
                        std::string{"a paused task's <close> handler failed as the state "
                                    "closed: "} +
                            (message != nullptr ? message : "(error object is not a string)"));
            });
        }
        lua_pop(L, 2);
    }
    lua_settop(L, top);
    return n;
}

// close_tasks' work, as a closure over the context box (what settle needs). Rounds, as <close>
// handlers may start tasks that pause in turn; a bounded number, as they could do so for ever.
int close_paused_tasks(lua_State* L) {
    context& ctx = upvalue_context(L);
    for (int round = 0; round < 100 && close_paused_now(L, ctx) > 0; ++round) {
    }
    return 0;
}

}  // namespace

void close_tasks(lua_State* L, int box) {
    lua_pushvalue(L, box);
    lua_pushcclosure(L, close_paused_tasks, 1);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) lua_pop(L, 1);  // out of memory: the tasks stay unclosed
}

}  // namespace mockit::lua::detail
