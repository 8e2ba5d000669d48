// SPDX-License-Identifier: MIT
// The "mockit.timer" userdata: a handle to one timer of the state's timer queue.
//
// The userdata's user values hold the callback (1) and the extra arguments given when the timer
// was armed (2..nargs+1), so a timer costs one Lua object and no registry references. While
// armed, the handle is pinned in the context's pins table at its timer's queue slot (plus one):
// that keeps a timer whose handle the script dropped running, and finds the handle from an
// expiry by an array index, not a hash lookup (slots are reused, so the pins table stays dense).
//
// The handle has no __gc: a finalizer would cost every timer a pass through the collector's
// finalizer list and an extra GC cycle alive. The queue never needs to hear of a collected
// handle: while its timer is armed the pins table keeps it reachable, and at lua_close() the
// context box's __gc destroys the queue, which forgets every timer at once.
#pragma once

#include <lua.hpp>

#include "context.hpp"
#include "mockit/timer_queue.hpp"

namespace mockit::lua::detail {

inline constexpr const char* timer_type = "mockit.timer";

// Trivially destructible: it may be abandoned by a longjmp at any time. 16 bytes: with the
// userdata's header and two user values (a callback and one argument, the common case) a handle
// is then an 88-byte block, which malloc serves from 96-byte chunks (with 24 bytes, 112), and a
// million armed timers hold a million of them.
struct timer_handle {
    timer_id id;                   // the current arming; empty when not armed
    std::uint64_t delay_ms : 41;   // the one-off's delay, or the interval (at most 2^40)
    std::uint64_t nargs : 16;      // extra callback arguments, in user values 2..nargs+1
    std::uint64_t repeats : 1;     // interval timer
    std::uint64_t referenced : 1;  // keeps run() alive while armed
    std::uint64_t destroyed : 1;
    std::uint64_t wakes_task : 1;  // the wake-up of a task (task.hpp), which begins with it
    std::uint64_t
        has_options : 1;  // made by mockit.timer: a timer_options follows (timer_options.hpp)
};
static_assert(sizeof(timer_handle) == 16);
inline constexpr std::uint64_t delay_ms_mask = (std::uint64_t{1} << 41) - 1;  // fits delay_ms

// mockit.oneoff / mockit.getit.
int create_timer(lua_State* L, bool repeats);

// The user values of the handle: the callback and its arguments, and with options two more.
inline int user_values_of(const timer_handle& t) {
    return t.nargs + (t.has_options ? 4 : 1);
}

// Registers the metatable, its methods closing over the context box on top of the stack, and
// keeps it in the box (timer_mt_uv).
void register_timer_type(lua_State* L);

// The pins table's index of the timer in `slot`.
inline lua_Integer pin_index(std::uint32_t slot) {
    return lua_Integer{slot} + 1;
}

// Arms `t`, whose userdata is at stack index `ud`, for its delay from now (a timer with options:
// as its schedule says), and pins it.
void arm(lua_State* L, context& ctx, timer_handle& t, int ud);

// Cancels the timer, and with it every expiry of it that is due.
void disarm(lua_State* L, context& ctx, timer_handle& t);

// Whether `t` keeps run() alive, with the count of those that do kept right.
void set_referenced(context& ctx, timer_handle& t, bool referenced);

// Takes the handle off the pins table, which is at absolute stack index `pins`, and the live
// counts (its id is gone: a one-off about to run its callback, or a disarmed timer).
void unpin(lua_State* L, context& ctx, timer_handle& t, int pins);

}  // namespace mockit::lua::detail
