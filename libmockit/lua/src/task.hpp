// SPDX-License-Identifier: MIT
// Tasks: sequential code that pauses (SPEC section 7). A task is a coroutine the loop drives:
// mockit.pause(ms), task:wait() and mockit.await_signal() arm the task's wake-up and yield; the
// loop resumes the task when its wake-up comes due, as it runs a timer's callback.
//
// Every callback and signal handler runs as a task too, on a coroutine from a pool: one that
// never pauses costs a resume instead of a pcall, and needs no handle. A handle ("mockit.task"
// userdata) is made for spawn(), and for a callback's task the first time it pauses. It begins
// with the wake-up's timer_handle, so the pins table holds wake-ups beside timers and the loop
// tells them apart by one bit (timer_handle::wakes_task).
#pragma once

#include <cstdint>
#include <lua.hpp>

#include "context.hpp"
#include "timer.hpp"

namespace mockit::lua::detail {

inline constexpr const char* task_type = "mockit.task";

enum class task_status : std::uint8_t { running, paused, done, failed, cancelled };

// What a paused task waits for.
enum class task_wait : std::uint8_t { none, pause, task, signal };

// Trivially destructible, as timer_handle: a longjmp may abandon it.
struct task_handle {
    timer_handle wake;  // first: see above; wake.referenced: the task keeps run() alive
    task_status status;
    task_wait waiting;
    bool woken;       // what it waits for came (a task's end, a signal), not its timeout
    bool anonymous;   // a callback's task: nobody holds its handle, so no results are kept
    bool main;        // the main thread of mockit-run: its pause runs the loop
    bool cancelling;  // it cancelled itself and yields: closed once it has
    int signo;        // the signal it waits for
};

// Runs the function below `nargs` arguments on top of the stack as a callback's task, on a pooled
// coroutine, and pops them. True when it returned or paused; false when it failed, leaving its
// error value and traceback on the stack (as protected_call does).
bool run_as_task(lua_State* L, context& ctx, int nargs);

// Resumes the task whose handle is at stack index `ud`: its wake-up came due (and is unpinned).
// The same result as run_as_task.
bool wake_task(lua_State* L, context& ctx, int ud);

// Whether the task whose handle is at stack index `ud` is still going: running, or paused where
// its pause left it. One whose coroutine the script closed (coroutine.close) ended there, even
// if its status says paused until its wake-up, if any, comes due.
bool task_going(lua_State* L, int ud);

// The signal `signo` arrived: wakes every task waiting for it. Returns how many there were.
int wake_signal_waiters(lua_State* L, context& ctx, int signo);

// Closes every paused task (their pending <close> variables run), as the state closes; the
// context box is at `box`.
void close_tasks(lua_State* L, int box);

// mockit.spawn, mockit.pause, mockit.await_signal.
int mockit_spawn(lua_State* L);
int mockit_pause(lua_State* L);
int mockit_await_signal(lua_State* L);

// Registers the "mockit.task" metatable, its methods closing over the context box on top of the
// stack.
void register_task_type(lua_State* L);

}  // namespace mockit::lua::detail
