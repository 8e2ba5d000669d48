// SPDX-License-Identifier: MIT
// Calendar timers (SPEC section 10): mockit.timer{cron = expr, tz = zone, ...} and
// mockit.cron(expr, fn, ...). A cron timer is a timer with options (timer_options.hpp) whose runs
// come from a schedule on the wall clock (mockit/cron.hpp) instead of a period.
//
// In the queue it is an interval timer whose every expiry is moved (timer_queue::move_to) to the
// schedule's next run; its period, the longest delay there is, never comes into play. A run due
// at wall time W is queued at now + (W - wall now) on the monotonic clock. Both clocks run at the
// same rate (NTP slews them alike), so the deadline holds until the wall clock steps: NTP, date
// -s, or a resume from suspend. Then every cron timer is replanned at once (replan_cron_timers),
// told by the poller's wall clock watch on the real clock and by set_wall and suspend on the
// simulated one. A run never repeats a due time: after a step back, the next run is the one
// planned before it.
//
// Runs the clock passed over:
// - in a step or a suspend: `missed = "once"` (default) makes one catch-up run at once, carrying
//   the latest of them as t:due() and the others in t:missed(); "skip" makes none (they count as
//   missed) and goes on with the next run after now; "all" runs each, in order, at once.
// - while the loop was busy (a long callback, a blocked script): the late run folds them as
//   "once" does; "all" runs each.
// Counting them costs a step of the schedule each, so at most max_counted are counted: "all"
// runs at most that many, then folds as "once" does, and t:missed() says at most that many.
// The latest missed run is found by bisection, so a step of a century costs O(1) either way.
#pragma once

#include <cstdint>
#include <lua.hpp>
#include <optional>

#include "context.hpp"
#include "timer.hpp"

namespace mockit {
class cron_schedule;
}

namespace mockit::lua::detail {

inline constexpr std::uint64_t max_counted_runs = 1000;

// Makes the schedule of a cron timer from the expression at `expr` and the zone name at `zone`
// (0: the local zone), and pushes it (a userdata that owns it, to keep in the timer's user
// values). Raises "bad argument #1 (...)" with the schedule's own message, naming the field or
// the zone, or when the schedule never runs.
const cron_schedule* push_cron_schedule(lua_State* L, context& ctx, int expr, int zone);

// Where the first run of cron timer `t`, armed `now`, goes on the monotonic clock.
time_point plan_first_cron_run(lua_State* L, context& ctx, timer_handle& t, time_point now);

struct cron_run {
    std::uint64_t folded;  // the runs folded into this one besides its own
    duration late;         // from its due time (and jitter) to now
    duration due;          // its due time on the wall clock, for t:due() if it runs
};

// Starts the run of cron timer `t` the queue handed out: decides its due time and what it folds
// and moves the timer to its next run (or disarms it after the schedule's last). nullopt when no
// run is due after all: the wall clock went back since it was queued, and it is moved to its run.
// The caller sets t:due() only when the run does start: an expiry left unrun (overlap="skip" while
// the last run is paused) leaves t:due() at the last run's.
std::optional<cron_run> begin_cron_run(lua_State* L, context& ctx, timer_handle& t);

// Replans every armed cron timer after a step of the wall clock.
void replan_cron_timers(lua_State* L, context& ctx);

// mockit.cron(expr, fn, ...) -> timer, whose callback is called as fn(t, ...).
int mockit_cron(lua_State* L);

}  // namespace mockit::lua::detail
