// One Lua state's share of mockit: its engine thread, its event queue, the events taken from
// the queue and not yet dispatched, the loop's state and the host's hooks.
//
// It lives in a full userdata (a context_box) anchored in the state's registry and passed to
// every module function as upvalue 1. The box's user values hold the Lua side:
//   1: pins     anchor (integer) -> timer userdata, for every timer armed or awaiting
//               dispatch, so a timer whose handle the script dropped keeps running; a free
//               anchor holds the next free one (see free_anchor)
//   2: on_error the mockit.on_error handler, or nil
//   3: signals  signal number -> handler function
//   4: timer_mt the "mockit.timer" metatable: create_timer and check_timer reach it by index,
//               not by a registry lookup by name (a string hash and compare per call)
//
// Invariant: only the thread running the Lua state touches this; the engine thread only
// writes the queue.
#pragma once

#include <cstddef>
#include <lua.hpp>
#include <memory>
#include <optional>
#include <vector>

#include "mockit/event_queue.hpp"
#include "mockit/lua_module.hpp"
#include "mockit/timer_engine.hpp"
#include "signals.hpp"

namespace mockit::lua::detail {

inline constexpr int pins_uv = 1;
inline constexpr int on_error_uv = 2;
inline constexpr int signals_uv = 3;
inline constexpr int timer_mt_uv = 4;
inline constexpr int context_uv_count = 4;

// Events are taken from the queue in batches of at most this many callbacks, so a batch fits
// in the hand's storage and taking it never allocates.
inline constexpr std::size_t batch_calls = 256;

// The loop records at most this many expiries at a time (catch_up), and more when it has run
// those: a million timers falling due at once then never sit in the hand or the queue all
// together.
inline constexpr std::size_t catch_up_events = 16 * batch_calls;

struct context {
    context();
    ~context();
    context(const context&) = delete;
    context& operator=(const context&) = delete;

    event_queue queue;
    // Its thread starts when the loop first runs (start_engine), not in the first arm: a
    // script's first deadline is then not late by the time it takes to start a thread.
    timer_engine engine{queue, system_clock_source::instance(), engine_mode::deferred};
    bool engine_started = false;
    bool behind = false;           // the last catch_up stopped at its limit: more may be due
    bool precise_wakeups = false;  // asked for the thread that runs the loop

    // Taken from the engine or the queue, not yet dispatched: in_hand[next..], in expiry order
    // (counts of 0 are dead). The queue's events come after these.
    std::vector<event> in_hand;
    std::size_t next = 0;

    std::size_t live_timers = 0;  // handles armed or awaiting dispatch
    // Pins table indices (anchors) not in use form a list through the table itself: a free
    // anchor's entry holds the next free one (0 ends the list). Anchors 1..anchors_used have
    // been handed out; giving one back never allocates, as its entry already exists.
    std::uint32_t free_anchor = 0;
    std::uint32_t anchors_used = 0;
    std::size_t referenced_timers = 0;  // ...of which keep run() alive

    bool stop_requested = false;  // by mockit.stop(), until a run() ends on it
    int stop_code = 0;
    // A wait() has returned 0 for the stop asked for: the next wait() raises it (wait_for_events).
    bool stop_told = false;
    // The last run()'s; forgotten (ran = false) when a timer is armed after it.
    loop_outcome outcome;

    signal_inbox signals;

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

// Callbacks still to run: in hand, queued, and signals with a handler.
std::size_t pending(const context& ctx);
// Entries, dead ones included, and signal arrivals awaiting their handlers.
std::size_t queued_entries(const context& ctx);

// Records the expiries due now, at most `max` of them, into the hand or the queue. The engine
// thread leaves that to the loop, so whatever reads or drains them catches up first.
void catch_up(lua_State* L, context& ctx, std::size_t max = catch_up_events);

// Starts the engine's thread, once: called where the loop begins to wait or drain.
void start_engine(lua_State* L, context& ctx);

// The exit code of the stop asked for, by a signal the host turned into one (process-wide) or
// by mockit.stop() (this state); nullopt while none is.
std::optional<int> requested_stop(const context& ctx) noexcept;

// Forgets in-hand events of `id` (the timer was destroyed or reset under a new id).
void forget_in_hand(context& ctx, timer_id id) noexcept;

// Finds the registered context of state L (for the host hooks), or nullptr.
context* find_context(lua_State* L);

// Registry key of the context box.
extern const char context_key;

}  // namespace mockit::lua::detail
