// SPDX-License-Identifier: MIT
// One Lua state's share of mockit: its timers, the loop's state and the host's hooks.
//
// It lives in a full userdata (a context_box) anchored in the state's registry and passed to
// every module function as upvalue 1. The box's user values hold the Lua side:
//   1: pins     pin_index(queue slot) -> timer userdata, for every armed timer, so a timer whose
//               handle the script dropped keeps running; false where no timer is
//   2: on_error the mockit.on_error handler, or nil
//   3: signals  signal number -> handler function
//   4: timer_mt the "mockit.timer" metatable, for create_timer: luaL_setmetatable's lookup by
//               name was 7.8% of the instructions of a drain (tests/bench/RESULTS.md)
//   5: tasks    thread -> task userdata, for every task with a handle that has not ended
//   6: threads  idle coroutines, 1..idle_threads, for the next callback or task to run on
//   7: signal_waits  signal number -> sequence of the tasks waiting for it (await_signal)
//
// Only the thread running the Lua state touches it; signal handlers only count arrivals and
// wake the poller.
#pragma once

#include <cstddef>
#include <lua.hpp>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>

#include "metrics.hpp"
#include "mockit/lua_module.hpp"
#include "mockit/timer_queue.hpp"
#include "poller.hpp"
#include "signals.hpp"

namespace mockit::lua::detail {

inline constexpr int pins_uv = 1;
inline constexpr int on_error_uv = 2;
inline constexpr int signals_uv = 3;
inline constexpr int timer_mt_uv = 4;
inline constexpr int tasks_uv = 5;
inline constexpr int threads_uv = 6;
inline constexpr int signal_waits_uv = 7;
inline constexpr int context_uv_count = 7;

struct context {
    context();
    ~context();
    context(const context&) = delete;
    context& operator=(const context&) = delete;

    // The system clock, or the simulated one once mockit.clock.virtual() (or mockit-run
    // --virtual-time) asked for it.
    clock_source* clock = &system_clock_source::instance();
    std::unique_ptr<manual_clock> simulated;
    bool armed_any = false;  // a timer was armed: too late to change clocks
    timer_queue timers;
    poller wakeups;
    bool precise_wakeups = false;  // asked for the thread that runs the loop

    std::size_t live_timers = 0;        // handles armed
    std::size_t referenced_timers = 0;  // ...of which keep run() alive
    lua_Integer pins_made = 0;          // the pins table has entries 1..pins_made

    bool stop_requested = false;  // by mockit.stop(), until a run() ends on it
    int stop_code = 0;
    // A wait() has returned 0 for the stop asked for: the next wait() raises it (wait_for_events).
    bool stop_told = false;
    // The last run()'s; forgotten (ran = false) when a timer is armed after it.
    loop_outcome outcome;

    signal_inbox signals{wakeups};

    // Tasks (task.hpp).
    lua_State* running = nullptr;  // the coroutine of the task running now, innermost
    bool suspending = false;       // a mockit call is yielding the running task
    bool handle_made = false;      // the running anonymous task got a handle (it paused)
    bool main_is_task = false;     // the main thread may pause (mockit-run's main chunk)
    bool main_woken = false;       // the main thread's wake-up came
    lua_Integer idle_threads = 0;  // in the threads table, at 1..idle_threads
    // The thread most callbacks run on (one that never pauses leaves it clean), anchored at
    // index 0 of the threads table.
    lua_State* callback_thread = nullptr;
    bool callback_thread_idle = false;
    std::size_t live_tasks = 0;               // tasks with a handle, not ended
    std::size_t referenced_signal_waits = 0;  // tasks waiting for a signal that keep run() alive
    std::size_t referenced_task_waits = 0;    // tasks waiting for a task that keep run() alive
    // The coroutine of the callback the last resume left paused (it has a task handle now), or
    // nullptr when that callback returned: mockit.timer's overlap policy watches the run.
    lua_State* paused_callback = nullptr;

    // Timers with options (timer_options.hpp) and what they tell (metrics.hpp).
    loop_metrics loop;
    std::uint64_t random_state;  // jitter's generator (splitmix64), seeded by the host or the OS
    // When the callback a drain ran last ended, if it was a timer's with options: the next one
    // starts then, less the loop's own bookkeeping, and needs no clock read of its own (a read
    // was a fifth of the time of a run, tests/bench/RESULTS.md). Empty after anything else ran.
    std::optional<time_point> options_run_ended;
    bool cron_timers = false;  // a cron timer was made: wall clock steps replan (cron_timer.hpp)
    // The state files of the live cron timers with persist=: one timer per file.
    std::unordered_set<std::string> state_files;
    // The name of the timer whose callback failed, for the report (absorb_error); or nullptr.
    const std::string* failing_timer = nullptr;

    log_sink log;
    log_level level = log_level::info;
    error_sink on_uncaught;
    loop_observer observer;
};

// The userdata: a context the state can drop in its __gc while timers may still refer to it.
struct context_box {
    std::unique_ptr<context> ctx;
};

// The context of the calling module function (upvalue 1); raises once the state is closing.
context& upvalue_context(lua_State* L);

// Pushes the context box's user value `uv` (pins, on_error, signals, timer_mt).
void push_context_value(lua_State* L, int uv);

// Whether a callback is due now: a timer's expiry or a signal with a handler.
bool anything_due(context& ctx);
// Callbacks due now: timers' expiries, and signal arrivals with a handler.
std::size_t pending(const context& ctx);
// Queue entries: timers with an expiry due (one entry each, whatever its count), and signal
// arrivals.
std::size_t queued_entries(const context& ctx);

// The next number of the jitter's generator (splitmix64: small, fast, and reproducible from one
// seed, which is all jitter needs).
std::uint64_t next_random(context& ctx) noexcept;

// The exit code of the stop asked for, by a signal the host turned into one (process-wide) or
// by mockit.stop() (this state); nullopt while none is.
std::optional<int> requested_stop(const context& ctx) noexcept;

// Finds the registered context of state L (for the host hooks), or nullptr.
context* find_context(lua_State* L);

// Registry key of the context box.
extern const char context_key;

}  // namespace mockit::lua::detail
