// SPDX-License-Identifier: MIT
// luamockit: the `mockit` Lua module (also reachable as `luamockit`).
//
// The same code is built twice: into the mockit-run host, which preloads it, and as the
// loadable mockit.so / luamockit.so for the stock lua5.4 interpreter (linked to no liblua).
//
// Each Lua state that opens the module gets its own loop and timer queue, held by a context
// userdata in the state's registry: lua_close() releases every timer. Only the thread running
// the Lua state touches it: wait() sleeps there until the next deadline, and process_events()
// runs the callbacks of what is due.
//
// The host refines three things through the hooks below; the loadable module uses the
// defaults (plain lines on stderr, sd_notify spoken directly, errors raised).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <lua.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "mockit/clock.hpp"

// lua5.4's require finds the entry points with dlsym, so they are exported from mockit.so;
// nothing else is (libmockit/lua/exports.map): a host has the binding built in, and links it.
#define MOCKIT_LUA_EXPORT __attribute__((visibility("default")))

extern "C" {
MOCKIT_LUA_EXPORT int luaopen_mockit(lua_State* L);
MOCKIT_LUA_EXPORT int luaopen_luamockit(lua_State* L);
}

namespace mockit::lua {

enum class log_level { trace, debug, info, warn, error, off };

// The levels' names, indexed by log_level: the one spelling of --log-level, $MOCKIT_LOG_LEVEL,
// the mockit.log.<level> functions and the default sink's "[level]".
inline constexpr const char* log_level_names[] = {"trace", "debug", "info", "warn", "error", "off"};
static_assert(std::size(log_level_names) == static_cast<std::size_t>(log_level::off) + 1);

constexpr const char* name_of(log_level level) {
    return log_level_names[static_cast<int>(level)];
}

// The level `name` spells exactly, or nullopt.
constexpr std::optional<log_level> parse_log_level(std::string_view name) {
    for (std::size_t i = 0; i < std::size(log_level_names); ++i) {
        if (name == log_level_names[i]) return static_cast<log_level>(i);
    }
    return std::nullopt;
}

// Where mockit.log.* lines go. The default writes "mockit: [level] message" to stderr.
using log_sink = std::function<void(log_level, std::string_view)>;

// What the loop does with an error raised by a callback when no mockit.on_error handler is
// set: return true to go on (--keep-going), false to let the error propagate out of
// process_events()/run(). The default propagates. `message` carries the traceback.
using error_sink = std::function<bool(std::string_view message)>;

// Called by run() on every turn of the loop, and at least every `period` while it waits (so a
// host can ping a watchdog from the loop itself). Also told when the loop starts and stops.
struct loop_observer {
    std::function<void()> on_start;
    std::function<void()> on_turn;
    std::function<void()> on_stop;
    std::optional<std::chrono::milliseconds> period;
};

// Hooks a host installs after opening the module in `L`. Each returns false when the module
// is not open in that state.
bool set_log_sink(lua_State* L, log_sink sink, log_level level);
bool set_error_sink(lua_State* L, error_sink sink);
bool set_loop_observer(lua_State* L, loop_observer observer);

// Whether run() has been called and returned, and why: the host skips its built-in loop after
// a script that ran the loop to completion itself and armed nothing since.
struct loop_outcome {
    bool ran = false;
    int exit_code = 0;
};
loop_outcome last_run(lua_State* L);

// Errors. Every protected call, the loop's and the host's, has message_handler as its message
// handler: lua.c's msghandler, but the error value is left as it is and its traceback noted
// beside it, in the registry, for push_traceback(). So mockit.on_error gets the value itself,
// and a load() whose reader raises returns the reader's plain message.
int message_handler(lua_State* L);

// Pushes the traceback message_handler noted for the error value at `index`, which a protected
// call through it left, and forgets the note: each note is taken once, by the call's caller.
// Pushes "" when there is none (the handler did not run: a syntax error, out of memory).
void push_traceback(lua_State* L, int index);

// Pushes what lua.c prints for the error value at `error` with the traceback at `traceback`:
// "message\ntraceback", or the message alone when the traceback is "" or the value is the report
// of a callback's error that process_events() or run() raised, whose text ends with the
// callback's traceback already. The message is the value when a string or a number, else what
// its __tostring returns (called in protected mode), else "(error object is a T value)".
void push_report(lua_State* L, int error, int traceback);

// Requests a graceful stop of every loop in the process, for good: the running callback
// finishes, nothing else starts, and run() returns `code`. Async-signal-safe.
// Runs the state on simulated time from `start_ms` since the epoch (mockit-run --virtual-time),
// as mockit.clock.virtual(start_ms) does; call it after the module is open and before the script.
// False when the module is not open in L or start_ms is outside 0..2^42.
bool use_virtual_time(lua_State* L, std::int64_t start_ms);

void request_stop_from_signal(int code) noexcept;

// Lets the state's main thread pause (mockit.pause, task:wait, mockit.await_signal) as a task
// does: mockit-run's main chunk, -e chunks and LUA_INIT. There a pause runs the loop until its
// wake-up, for want of a coroutine to yield. False when the module is not open in L.
bool run_main_as_task(lua_State* L);

// The prompt of an interactive host (mockit-run -i), which runs the loop while it waits for a
// line: wait_for_input() blocks until a callback is due (due: the host runs them with
// mockit.process_events), a stop is asked for (stopped, with its exit code), descriptor `input` is
// readable or hung up (input), or a wake-up without any of these ends the wait (woken: a signal,
// wake_loops(), the watchdog's period). Call it in protected mode: it raises when no eventfd can be
// had. On simulated time the clock stands still while the prompt waits.
struct input_wait {
    enum kind { due, stopped, input, woken } what;
    int exit_code;  // for stopped
};
input_wait wait_for_input(lua_State* L, int input);

// Ends the wait of every loop (async-signal-safe): a host's signal handler tells its prompt.
void wake_loops() noexcept;

// Calls fn with the coroutine of every task running now, outermost first (callbacks and signal
// handlers run as tasks): a host's SIGINT handler interrupts them as lua.c interrupts the main
// thread, with lua_sethook. Async-signal-safe.
void for_each_running_task(void (*fn)(lua_State* thread)) noexcept;

// Seeds the generator of mockit.timer's jitter (mockit-run --seed): the same seed, the same
// delays. Without it, each state draws its seed from the OS. False when the module is not open.
bool seed_jitter(lua_State* L, std::uint64_t seed);

// mockit.metrics() as OpenMetrics text, which Prometheus' textfile collector reads too
// (mockit-run --metrics-file). nullopt when the module is not open in L.
std::optional<std::string> metrics_text(lua_State* L);

// The clock the state's mockit reads: the system's, or the simulated one. It lives as long as the
// state. nullptr when the module is not open in L.
const clock_source* clock_of(lua_State* L);

// The exit code of a loop on simulated time that is stuck: it waits with no timer to wait for.
inline constexpr int stuck_exit_code = 3;

// A stop raised as an error by wait(): the stop asked for, raised to end a script's own loop
// (see mockit.stopping()), without a message; or, with stuck_exit_code and a message naming what
// waits, a wait that nothing can end in simulated time. The message lives as long as the error.
struct raised_stop {
    int exit_code;
    const char* message;  // nullptr for a plain stop
};

// The stop the error at `index` is, or nullopt for any other error.
std::optional<raised_stop> stop_of(lua_State* L, int index);

}  // namespace mockit::lua
