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
// persist = "name" keeps the due time of the last run started in $STATE_DIRECTORY/name (mockit-run
// --state-dir sets the variable), written to name.tmp then renamed over it. At the timer's start,
// a run that fell due since then, while nothing ran the timer, is a run the clock passed over, as
// systemd's Persistent=true has it: a missing file is a first start (no catch-up), and an
// unreadable or corrupt one is logged and treated as one.
//
// Runs the clock passed over:
// - in a step, a suspend, or while the service was down (persist): `missed = "once"` (default)
// makes one catch-up run at once, carrying
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
#include <string>

#include "context.hpp"
#include "mockit/cron.hpp"
#include "timer.hpp"

namespace mockit::lua::detail {

struct timer_options;

inline constexpr std::uint64_t max_counted_runs = 1000;

// What a cron timer runs by, in a userdata of its own (the timer's are trivially destructible).
struct cron_plan {
    cron_schedule schedule;
    std::string state_file;     // persist="name": $STATE_DIRECTORY/name, else empty
    bool write_failed = false;  // the last write of the state file failed (and was logged)
};

// Makes the plan of a cron timer from the expression at `expr`, the zone name at `zone` (0: the
// local zone) and the persist name at `persist` (0: none), and pushes it (a userdata that owns
// it, to keep in the timer's user values). Raises "bad argument #1 (...)" with the schedule's own
// message, naming the field or the zone, when the schedule never runs, or when the state
// directory is missing or cannot be written.
cron_plan* push_cron_plan(lua_State* L, context& ctx, int expr, int zone, int persist);

// persist=: one live timer per state file, or two would each catch up on the same runs and
// overwrite each other's record. push_cron_plan refuses a file in use; the timer claims it once
// armed, and t:destroy() releases it (a cron timer stays armed, and pinned, until then).
void claim_state_file(lua_State* L, context& ctx, const cron_plan& plan);
void release_state_file(context& ctx, const cron_plan& plan);

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

// Keeps the due time of the run of cron timer `o` that starts now (t:due()) in its state file,
// with persist; else does nothing.
void keep_cron_run(lua_State* L, context& ctx, timer_options& o);

// Replans every armed cron timer after a step of the wall clock.
void replan_cron_timers(lua_State* L, context& ctx);

// mockit.cron(expr, fn, ...) -> timer, whose callback is called as fn(t, ...).
int mockit_cron(lua_State* L);

}  // namespace mockit::lua::detail
