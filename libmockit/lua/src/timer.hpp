// The "mockit.timer" userdata: a handle to one timer of the state's timer queue.
//
// The userdata's user values hold the callback (1) and the extra arguments given when the timer
// was armed (2..nargs+1), so a timer costs one Lua object and no registry references. While
// armed, the handle is pinned in the context's pins table at its tag, the small number the
// queue hands back with each expiry: that keeps a timer whose handle the script dropped running,
// and finds the handle from an expiry by an array index, not a hash lookup (tags are reused, so
// the pins table stays dense).
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

// Trivially destructible: it may be abandoned by a longjmp at any time. Kept to 24 bytes: with
// the userdata's header and two user values (a callback and one argument, the common case) a
// handle is then a 96-byte block, and a million armed timers hold a million of them.
struct timer_handle {
    timer_id id;          // the current arming; empty when not armed
    std::uint32_t tag;    // its index in the pins table while id is set; 0 otherwise
    std::uint16_t nargs;  // extra callback arguments, in user values 2..nargs+1
    bool repeats : 1;     // interval timer
    bool referenced : 1;  // keeps run() alive while live
    bool destroyed : 1;
    duration delay;  // the one-off's delay, or the interval
};
static_assert(sizeof(timer_handle) <= 24);

// mockit.oneoff / mockit.getit.
int create_timer(lua_State* L, bool repeats);

// Registers the metatable, its methods closing over the context box on top of the stack.
void register_timer_type(lua_State* L);

// Takes the handle off the pins table, which is at absolute stack index `pins`, and the live
// counts (its id is gone: a one-off about to run its callback, or a disarmed timer).
void unpin(lua_State* L, context& ctx, timer_handle& t, int pins);

}  // namespace mockit::lua::detail
