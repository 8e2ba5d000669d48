// SPDX-License-Identifier: MIT
// mockit.timer{...}: a timer with options (SPEC section 9). It is a "mockit.timer" handle like
// oneoff's and getit's, with every method of theirs, whose userdata carries a timer_options
// record after the timer_handle (timer_handle::has_options says so). Its callback is called as
// fn(t, args...), and t tells the run's nominal due time (t:due()) and how many expiries it
// folds (t:missed()).
//
// Policies, applied each time an expiry is taken from the queue (run_with_options):
// - missed: "burst" leaves the queue's one-period-at-a-time backlog alone; "skip" and "delay"
//   fold every expiry due at once into one run, in O(1) however long the stall was, then move the
//   timer on with timer_queue::move_to (skip: the next grid point; delay: a period from now).
// - overlap: "skip" leaves an expiry unrun (counted as missed) while the timer's last run is
//   still paused; "allow" starts another.
// - jitter: each queued deadline is the nominal grid point plus a random delay in [0, jitter).
//   The grid itself stays: due times do not move.
//
// Grids are on the wall clock: an `every` timer falls due at whole multiples of its period since
// the epoch (every=60000: on the minute), so every host running the same schedule computes the
// same t:due() for the same run, and a fleet can run each tick once.
//
// The user values of its userdata: 1 the callback, 2 the name (or nil), 3 the task of its last
// run while that run may still be paused (or nil), 4 a cron timer's schedule (or nil), 5.. the
// arguments.
#pragma once

#include <cstdint>
#include <lua.hpp>
#include <optional>
#include <string>

#include "context.hpp"
#include "metrics.hpp"
#include "timer.hpp"

namespace mockit::lua::detail {

struct cron_plan;

// burst, skip and delay for `every` timers; once, skip and all for cron timers (cron_timer.hpp).
enum class missed_policy : std::uint8_t { burst, skip, delay, once, all };
enum class overlap_policy : std::uint8_t { skip, allow };

inline constexpr int options_name_uv = 2;
inline constexpr int options_run_uv = 3;
inline constexpr int options_cron_uv = 4;  // a cron timer's plan (cron_timer.hpp)
inline constexpr int options_first_arg_uv = 5;

struct timer_options {
    missed_policy missed;
    overlap_policy overlap;
    bool ran;       // a run has started: due and missed_now tell about it
    bool run_kept;  // user value options_run_uv holds the task of a run that paused
    // Expiries left unrun (overlap) since the last run: 64 bits, as a stall folded into one of
    // them can count more than 2^32.
    std::uint64_t skipped;
    std::int64_t jitter_ms;  // the largest random delay, exclusive; 0 for none
    duration jitter_now;     // the random delay of the expiry queued now
    duration wall_offset;    // wall clock minus monotonic clock on the grid
    duration due;            // the current (or last) run's nominal due time, on the wall clock
    // A cron timer's schedule and state file (owned by user value options_cron_uv), or nullptr;
    // and its next run, in ms since the epoch on the wall clock.
    cron_plan* cron;
    std::int64_t cron_next_ms;
    std::uint64_t missed_now;
    // The name and its totals in the context (ctx.loop.named), or nullptr for a nameless timer.
    std::pair<const std::string, timer_stats>* named;
    own_timer_stats stats;
};

// Trivially destructible, as timer_handle: a longjmp may abandon it.
struct timer_with_options {
    timer_handle handle;  // first: the pins table and the loop see a timer_handle
    timer_options options;
};

inline timer_options& options_of(timer_handle& t) {
    return reinterpret_cast<timer_with_options*>(&t)->options;
}

// mockit.timer{...}.
int mockit_timer(lua_State* L);

// Where the timer's first expiry goes, arming it `now`; its grid and first jitter are set.
time_point plan_first_run(lua_State* L, context& ctx, timer_handle& t, time_point now);

// Runs the expiry of timer `t`, with options, whose handle is at stack index `ud`, that fell due
// at `due` (taken from the queue), as its policies say. The stack has room for the callback's
// arguments (dispatch_timer made it). nullopt when overlap left it unrun; otherwise whether the
// callback returned or paused (true) or failed, its error value and traceback pushed (false).
std::optional<bool> run_with_options(lua_State* L, context& ctx, timer_handle& t, int ud,
                                     time_point due);

// A random delay in [0, jitter_ms) for the next run, from the context's generator.
duration draw_jitter(context& ctx, std::int64_t jitter_ms);

// Counts n expiries that did not run (overlap, or a cron timer's skipped catch-up) as missed.
void count_unrun(timer_options& o, std::uint64_t n);

// t:due(), t:missed(), t:stats(): for any timer handle, nil for the seed's timers.
int timer_due(lua_State* L);
int timer_missed(lua_State* L);
int timer_stats_of(lua_State* L);

}  // namespace mockit::lua::detail
