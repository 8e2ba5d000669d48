// SPDX-License-Identifier: MIT
// libFuzzer harness for the mockit Lua API.
//
// Each input is read as a sequence of at most max_ops operations on a fresh Lua state with the
// module open: arming one-offs and intervals of 0..5 ms, destroy (and __close), reset, ref and
// unref, wait with short timeouts, process_events with and without max, run, signal handlers
// and raised signals, on_error, stop, dropped handles and garbage collection, and calls with
// bad arguments of every type. Callbacks are C functions that do what the input chose when
// their timer was armed: raise an error (a string or a table), destroy or reset a timer, arm a
// new one, drain the queue again from inside the callback, stop the loop, sleep, unref, advance
// simulated time, spawn a task or cancel one, or pause (a callback runs as a task: that one is a
// Lua function around the C one, and goes on after its pause).
//
// Timers with options: mockit.timer{...} with after or every (from 1 ms), a missed policy (burst,
// skip, delay) and overlap (skip, allow) or neither, jitter (none, 0, or below the period), a name
// of three (or none), ref, and args (with or without args.n); its callback gets the handle first,
// and does what the others' do (half of them pause). Tables mockit.timer must refuse, one reason
// each, as the reference lists them. The jitter is seeded (seed_jitter) and the model draws it as
// the module does (splitmix64, one draw per arming and per expiry taken of a jittered timer).
//
// Cron timers: mockit.timer{cron = ...} with an expression of a small set (every minute, every 5
// s, hourly, a fixed time of day, weekday office hours, @daily, leap days), a zone (UTC,
// Europe/Berlin, Australia/Lord_Howe) or the local one, each missed policy (once, skip, all),
// overlap, jitter, names, ref; or mockit.cron(expr, fn, ...). Bad cron tables: bad expressions
// (through mockit.cron too), one that never runs, a bad zone, tz without cron or not a string,
// an every timer's policy for a cron timer and the other way round. Under simulated time half of
// the timer{cron = ...} get persist = one of three names, kept in a state directory of the
// process's own ($STATE_DIRECTORY, made by mkdtemp at start; each input starts with no file in
// it); and a restart: a timer with a name created if none keeps it, the clock advanced, the timer
// destroyed (t:destroy() or __close), the clock suspended (the service down), and one created
// again with that name, with any policy and expression.
//
// Tasks: mockit.spawn of a Lua body, with a <close> variable, that asks the harness what to do
// next: take 0..3 steps, then return 0..3 values or raise; or first wait for an older task (so
// waits never form a cycle), with or without a timeout, and take one step. A step pauses for a
// chosen delay; awaits SIGURG or SIGWINCH (mockit.await_signal), with a timeout or without;
// cancels a task through pcall (another, itself, or the task that spawned it, which runs still);
// cancels itself by a plain a:cancel(); spawns a task; or makes a bad call. Tasks spawned from a
// callback (the spawn action) or from a task's body take a plan drawn from a seed, not the input:
// pauses, awaits with a timeout, cancels. Tasks are cancelled (from the top level and from
// callbacks), unref'd and asked their status at random.
//
// Bad calls of the task functions, from the top level and from a task's body, each as a script
// makes it (the function name in the message comes from the call site): spawn of what is not
// callable; pause, await_signal's timeout and task:wait's with bad delays (negative, too large,
// NaN, infinite, fractional, not numbers, missing); await_signal with names that are not strings,
// unknown or uncatchable; pause, await_signal and wait with valid arguments outside a task; wait
// on itself; every task method on values that are not tasks (a timer handle, a file, tables...).
//
// The input's first byte chooses the clock: the real one, or simulated time (mockit.clock.virtual
// before the first timer, with or without a start, or twice). Under simulated time delays also
// come in seconds, hours, days, months and up to the 2^40 ms limit, and mockit.clock.advance,
// suspend and set_wall join the operations; with the real clock they must refuse, as
// mockit.clock.virtual must once a timer is armed, whatever the clock.
//
// The harness keeps a model of what it asked for and, after every step, checks what it can
// observe against it. A violation prints what went wrong and aborts, which libFuzzer reports.
// - A callback runs only for a live timer: never after destroy, a one-off once per arming, an
//   interval at most once per expiry (its k-th call needs k intervals since arming), never early.
// - stats().timers and .referenced, t:active(), t:kind() and t:interval() match the model.
// - pending() never exceeds the expiries that can exist by now, never drops while nothing
//   consumes, and inqueue() is non-zero whenever pending() is.
// - process_events(max) runs at most max callbacks and returns how many ran; nothing starts after
//   mockit.stop() in a drain that began without one; run() returns the stop code.
// - Once a stop is asked for, stopping() says so with its code, the first wait() returns 0 and
//   the next raises the stop (a "mockit.stop" error with that code), until run() takes it.
// - Every error a callback raises reaches exactly one place: on_error, or the caller of
//   process_events/run.
// - A signal handler runs at most once per arrival, and a full drain runs every one owed.
// - A one-off that is due fires (checked at the end of the input: nothing is lost).
// - A bad argument raises "bad argument #n" and changes nothing; nothing crashes. A bad options
//   table raises "bad argument #1 to" with the reference's reason, arms nothing and adds no name
//   to metrics().
// - A timer with options calls fn(t, args...) with its own handle as t. Its runs are counted
//   exactly (t:stats().runs, the current run included; per name in metrics().timers, gone timers'
//   too), t:due() and t:missed() are nil before its first run; metrics().loop.callbacks is every
//   timer callback run (a task's wake-up and a signal handler are not), its busy and idle times
//   are not negative and utilization is in [0, 1].
// - A task resumes only while paused, waiting or awaiting a signal and with a wake-up due (never
//   once cancelled or ended), never early; its <close> variable runs exactly once, when it ends
//   (cancel included). task:wait() returns the awaited task's results, its error, "cancelled",
//   or "timeout" when its timeout came first; cancel() is true for a live task, false for one
//   that ended, and raises "cancel: the task is running (it started the caller)" for one that
//   runs; status() and stats().tasks match the model. A task's wake-up is a one-off of the
//   engine's, counted in stats().timers, pending() and inqueue() like one.
// - A task cancelling itself (a:cancel(), or through pcall) ends there: cancel() never returns,
//   the rest of its body never runs, its <close> runs once, its status() is "cancelled" and its
//   waiters get nil, "cancelled".
// - mockit.await_signal() returns exactly true once its signal came, or nil, "timeout" when its
//   timeout came first. From its first await on a signal stays caught (its arrivals counted in
//   pending() whether a handler is set or not) until mockit.signal(name, nil) with no task
//   awaiting it. The loop takes arrivals before any expiry, by signal number, as a drain begins
//   (process_events(max) with max > 0, run() with no stop asked for, advance() with a deadline
//   in its window): one arrival wakes every task awaiting its signal, at once, and runs its
//   handler, if any, counted as a callback; one nobody handles is dropped. A cancelled task no
//   longer awaits. run() is not called while a task may await a signal with no timeout.
// - A bad call of a task function raises exactly the reference's message (after the position
//   of its caller) and changes nothing the model tracks.
// Simulated time is exact, so the model knows what time it is and checks for equality:
// - hrtime() is where the operations left the clock, to the nanosecond; mstimestamp(), time()
//   and os.time() are the wall clock that set when it started, moved with it since and stepped
//   by set_wall() alone; is_virtual() says which clock runs.
// - Every callback runs at its due time exactly (arming time + k * interval), hrtime() and
//   mstimestamp() inside it say so, unless sleep() or suspend() jumped the clock past it: then
//   it runs at the time they jumped to, with the rest of the backlog. Callbacks come in the order
//   their expiries fell due, those due together in the order their timers were armed or reset.
// - pending() and inqueue() are exactly the expiries and the timers due by now, plus the signal
//   arrivals; stats().armed is exactly the live timers.
// - wait() moves the clock to the next deadline or to its timeout, whichever comes first, and
//   not at all when something is due; advance(ms) returns how many callbacks ran and leaves
//   nothing due by its end; sleep(ms) and suspend(ms) move the clock by ms and run nothing.
// - Past 2^61 ns after its start, simulated time ends: whatever would move the clock there
//   raises, and moves nothing.
// - Every due one-off fires, at the end, as long as intervals do not make the way there too long.
// - A timer with options runs as the reference says, exactly: an every timer's grid is the whole
//   multiples of its period since the epoch on the wall clock, an after timer's its delay after
//   arming (reset() plans anew); each expiry falls due its jitter after its grid point, and runs
//   then, in order with everything else. t:due() is the grid point on the wall clock (for a run on
//   time, mstimestamp() - t:due() is in [0, jitter)); burst runs each expiry of a backlog, skip and
//   delay fold those due at once into one run (t:missed() the folded count, t:due() the last),
//   the next on the grid or a period after the run. With overlap="skip" an expiry taken while the
//   last run is paused does not run: it counts as missed, in t:missed() of the next run and in
//   t:stats().missed, and the harness takes it as the engine does, in queue order (when a
//   callback's sleep() took the clock past advance()'s end, how many the last drain left unrun
//   comes from t:stats()). t:stats().missed and late_max_us, and metrics().timers' missed, are
//   the model's; busy + idle in metrics().loop is the simulated time since it started.
// - A task's pause (or wait() timeout) resumes it at its arming time plus the delay exactly, in
//   order with the timers due then; a waiter woken by the end of the task it waits for resumes
//   at that end; a task woken by a signal's arrival resumes where the drain that took it began
//   (or where sleep() or suspend() jumped the clock to since). At the end the harness raises the
//   signals tasks await, and once drained, no task is left and none of their wake-ups.
//
// - A cron timer's runs come from its schedule (mockit::cron_schedule, the model's oracle for the
//   schedule alone) as the reference says: a run due at wall time W is queued at now + (W - wall
//   now), plus its jitter; set_wall() and suspend() replan every one at once (a run still ahead
//   keeps its jitter at its new distance, one passed over runs at once with once and all, and
//   with skip counts as missed with every other passed over); a run takes every run due by then:
//   once and skip fold them (t:due() the latest, t:missed() the others, at most 1000), all runs
//   each in turn at once (more than 1000 behind, it folds as once does). Its runs, t:due() (a run
//   of the schedule, never after now), t:missed(), t:stats() and metrics() are the model's,
//   exactly; kind() is "cron" and interval() nil; reset() plans anew, reset(ms) raises.
// - persist: a timer{cron} with a name a live timer keeps is refused with exactly "bad argument #1
//   to 'mockit.timer' ('persist': '<dir>/<name>' is the state file of another live timer (one
//   each))" and changes nothing (no arming, no jitter drawn, no name in metrics()); destroy frees
//   the name. A timer created with a name whose file holds R: the runs of its schedule due after
//   R and by now were passed over: with once and all, it runs at once, without jitter, the first
//   of them planned (once folds them: t:due() the latest, t:missed() the others; all runs each);
//   with skip they count as missed (t:stats(), the next run's t:missed()) and its first run is
//   the schedule's first after now. After every step each name's file holds "<due ms>\n" of the
//   last run started of the timers that kept it (none ran: no file), and no name.tmp is left.
//
// With the real clock delays are real and tiny, and a budget caps how long one input may block.
// Timers with options are then never early (the k-th expiry taken, by t:stats(), no earlier than
// k - 1 periods after arming; an after timer's no earlier than its delay) and owe no more than
// the periods elapsed allow; after timers that pause are left out (the model could not tell
// whether a reset one ran).
#include <fuzzer/FuzzedDataProvider.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <iterator>
#include <limits>
#include <lua.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mockit/cron.hpp"
#include "mockit/lua_module.hpp"

namespace {

using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int max_ops = 200;
constexpr int slot_count = 8;
constexpr int max_delay_ms = 5;
constexpr std::size_t max_tasks = 16;                 // spawned per input
constexpr int max_depth = 3;                          // nested drains from callbacks
constexpr auto block_budget = milliseconds{15};       // waits and sleeps of one input
constexpr auto run_time_budget = milliseconds{20};    // one run() call...
constexpr std::int64_t run_callback_budget = 64;      // ...before a callback stops it
constexpr auto lost_limit = std::chrono::seconds{2};  // a due one-off fires within this
constexpr std::int64_t max_delay = std::int64_t{1} << 40;
constexpr lua_Integer forced_stop_code = 77;
constexpr std::int64_t no_max = std::numeric_limits<std::int64_t>::max();

// Simulated time.
constexpr std::int64_t max_wall_ms = std::int64_t{1} << 42;  // virtual() and set_wall() accept
constexpr std::int64_t default_start_ms = 946'684'800'000;   // 2000-01-01T00:00:00Z
// Delays are 0..max_delay_ms times one of these (the last: max_delay minus that), so that inputs
// reach the hours, days and years that simulated time is for, and its limits; milliseconds come
// thrice as often, as close deadlines are where the order of callbacks is at stake.
constexpr std::int64_t delay_scales[] = {
    1, 1, 1, 10, 1000, 60'000, 3'600'000, 86'400'000, 2'592'000'000, max_delay};
// What a move of the clock (sleep, suspend, advance) may leave the timers to catch up with: a 1 ms
// interval and a simulated day are 86.4 million callbacks.
constexpr std::int64_t max_backlog = 256;
// What one advance() may run before a callback stops it: callbacks may reset intervals to 1 ms
// in the middle of a long window.
constexpr std::int64_t advance_callback_budget = 1024;
constexpr auto simulated_span = std::chrono::nanoseconds{std::int64_t{1} << 61};
constexpr std::string_view end_of_time = "simulated time ends 2^61 ns (73 years) after it starts";

// MOCKIT_FUZZ_TRACE=1 prints every step, to read what a crashing input does.
bool tracing = false;

__attribute__((format(printf, 1, 2))) void trace(const char* format, ...) {
    if (!tracing) return;
    std::va_list args;
    va_start(args, format);
    std::vfprintf(stderr, format, args);
    std::fputc('\n', stderr);
    va_end(args);
}

[[noreturn]] __attribute__((format(printf, 1, 2))) void violation(const char* format, ...) {
    std::va_list args;
    va_start(args, format);
    std::fputs("mockit fuzz: invariant violated: ", stderr);
    std::vfprintf(stderr, format, args);
    std::fputc('\n', stderr);
    va_end(args);
    std::abort();
}

// What a callback does after its bookkeeping, chosen when its timer is armed.
enum class action : std::uint8_t {
    none,
    raise_string,
    raise_table,
    destroy_self,
    destroy_slot,
    reset_self,
    reset_slot,
    arm_into_slot,
    nested_drain,
    stop,
    sleep,
    unref_self,
    wait_zero,
    advance,
    spawn_task,   // mockit.spawn of a task whose plan comes from param (task_plan)
    cancel_task,  // task:cancel() of a spawned task, param picks which
    pause,        // the callback pauses param ms (it is a task): a Lua wrapper around on_timer
    last = pause,
};

enum class missed_policy : std::uint8_t { burst, skip, delay, once, all };

// Calendar timers: the expressions and zones inputs draw from (-1: the process's local zone). The
// schedule itself is mockit::cron_schedule's, the model's oracle; what the model checks is the
// timer around it: planning on the monotonic clock, replans on wall clock steps and suspends,
// the missed policies, folds and counts.
constexpr std::string_view cron_exprs[] = {"* * * * *",  "*/5 * * * * *",         "0 * * * *",
                                           "30 2 * * *", "*/15 9-17 * * MON-FRI", "@daily",
                                           "0 0 29 2 *", "*/30 * * * *"};
constexpr std::string_view cron_zones[] = {"UTC", "Europe/Berlin", "Australia/Lord_Howe"};
constexpr std::int64_t cron_max_counted = 1000;  // runs counted in one fold, as the module's

// persist = "name" of cron timers: the names inputs draw from, their files in the process's state
// directory (state_dir, $STATE_DIRECTORY; each input starts with none of them).
constexpr std::string_view persist_names[] = {"backup", "report.daily", "x_1-"};
constexpr int persist_count = static_cast<int>(std::size(persist_names));
std::string state_dir;

std::string state_file(int persist) {
    return state_dir + "/" + std::string{persist_names[persist]};
}

// A name of mockit.timer{...}: none (-1), or one of these. Timers sharing one add up in
// mockit.metrics().timers. One is 128 bytes, the longest allowed; one is UTF-8 with characters
// the metrics file escapes.
constexpr std::string_view timer_names[] = {
    "job", "sync \"\xc3\xa9\"\\",
    "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
    "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"};
constexpr int name_count = static_cast<int>(std::size(timer_names));
static_assert(timer_names[2].size() == 128);

struct timer_model {
    bool repeats = false;
    std::int64_t delay_ms = 0;    // as t:interval() reports it (an interval of 0 runs every 1 ms)
    steady::time_point armed_at;  // read just before the arming call: no later than the engine's
    std::uint64_t arming = 0;     // the order of the last arming among all: it breaks due ties
    std::int64_t fires = 0;       // calls since the last arming
    bool live = false;            // armed, or an expiry awaits dispatch
    bool destroyed = false;
    bool referenced = true;
    int slot = -1;           // where the handle is kept; -1 once the script dropped it
    int extra = 0;           // extra string arguments after the serial
    bool via_table = false;  // the callback is a callable table
    action act = action::none;
    int target = 0;  // a slot, for destroy_slot, reset_slot and arm_into_slot
    int param = 0;   // a delay, an exit code, a max...
    // mockit.timer{...}: its callback gets the handle first, then the serial and the extras.
    bool options = false;
    missed_policy missed = missed_policy::burst;
    bool overlap_allow = false;
    std::int64_t jitter_ms = 0;
    int name = -1;
    // Under simulated time, its next expiry: the grid point, the jitter drawn for it, and the
    // wall clock minus the monotonic one when it was armed (due times are on that wall clock).
    steady::time_point nominal;
    std::chrono::nanoseconds jitter_now{};
    std::int64_t wall_offset_ns = 0;
    std::int64_t arm_wall_ms = 0;
    std::uint64_t wall_epoch = 0;  // set_wall() calls before its arming
    bool on_grid = true;           // no delay fold since its arming: due times are on the grid
    // What it tells: t:due() and t:missed() of the last run, t:stats() (runs and missed from its
    // creation, resets included); on the real clock, runs + missed at its last arming.
    bool ran = false;
    std::int64_t due_ms = 0;
    std::int64_t missed_now = 0;
    std::int64_t skipped = 0;  // expiries left unrun (overlap) since its last run
    std::int64_t runs = 0;
    std::int64_t missed_total = 0;
    std::int64_t late_max_us = 0;
    std::int64_t taken_base = 0;
    std::optional<std::size_t> run_task;  // the anonymous task of its last run, if it paused
    // A cron timer (delay_ms is then the queue's period, 2^40 ms): its expression (an index of
    // cron_exprs, or -1), its schedule, the run planned next on the wall clock (ms) and where it
    // is queued on the monotonic clock (its jitter included).
    int cron = -1;
    std::optional<mockit::cron_schedule> schedule;
    std::int64_t cron_next_ms = 0;
    steady::time_point cron_deadline;
    int persist = -1;  // an index of persist_names, or -1
};

// A persist name: the live timer that keeps its state file, if any, and the due time (ms) of the
// last run started of the timers that kept it, which the file holds (none: no file).
struct persist_model {
    std::optional<std::size_t> owner;
    std::optional<std::int64_t> last_ms;
};

enum class frame_kind : std::uint8_t { drain, run, advance };

// Tasks: mockit.spawn'ed ones, and callbacks that paused (anonymous: no handle). A waiting task
// waits for another task's end, an awaiting one for a signal (mockit.await_signal).
enum class task_state : std::uint8_t {
    running,
    paused,
    waiting,
    awaiting,
    done,
    failed,
    cancelled
};

// What a task's body does, one step at a time, after its wait if any: pause; await a signal,
// with a timeout or without; cancel a task (seed picks it among the handles: itself included,
// or the task that spawned it, running); cancel itself by a plain a:cancel(); spawn a task
// (seed: its plan, task_plan); or make a call the API must refuse (bad_task_call).
enum class step_kind : std::uint8_t { pause, await_signal, cancel, cancel_self, spawn, bad_call };

struct task_step {
    step_kind kind = step_kind::pause;
    std::int64_t ms = 0;  // the pause, or the timeout...
    bool timed = false;   // ...if await_signal has one
    int which = 0;        // the signal (an index of signals_), or the bad call
    std::uint32_t seed = 0;
};

// The calls a task function must refuse, at the top level and in a task's body.
enum class bad_call : std::uint8_t {
    spawn,          // mockit.spawn(v): v not callable
    pause,          // mockit.pause(v): a bad delay, or none outside a task
    await_name,     // mockit.await_signal(v): a bad signal name
    await_timeout,  // mockit.await_signal("SIGURG", v): a bad timeout
    wait,           // task:wait(v): a bad timeout; outside a task; on itself
    method,         // a task method on something else (methods.cancel(v))
    last = method,
};
constexpr const char* task_methods[] = {"cancel", "wait", "status", "ref", "unref"};
// Names await_signal must refuse beside the palette's values: uncatchable or unknown.
constexpr const char* bad_signal_names[] = {"SIGKILL", "SIGSTOP", "SIGSEGV", "SIGFOO", "sigurg"};

struct task_model {
    bool anonymous = false;
    std::vector<task_step> steps;  // what it does, in order, after its wait if any
    std::size_t step = 0;
    bool raises = false;                       // it ends raising an error instead of returning
    int nresults = 0;                          // or it returns serial * 100 + 1..nresults
    std::int64_t error_id = -1;                // the error it raised
    std::optional<std::size_t> target;         // it first waits for this task...
    std::optional<std::int64_t> wait_timeout;  // ...with or without a timeout
    bool waited = false;
    task_state state = task_state::running;
    bool wake_armed = false;     // a wake-up (a one-off of the engine's) is armed...
    steady::time_point wake_at;  // ...due then...
    std::uint64_t arming = 0;    // ...in this order among all armings
    bool woken = false;          // its awaited task ended: the wake-up is the end's
    int closes = 0;              // its <close> variable ran
    bool referenced = true;
    bool has_handle = false;  // spawn() returned it (not when it raised)
    std::vector<std::size_t> waiters;
    std::optional<std::size_t> parent;  // spawned from this task's body
    int signal = -1;                    // the signal it awaits (an index of signals_)...
    bool signal_timed = false;          // ...with a timeout
    // A step in progress whose outcome comes back through the hook: a cancel's target and what
    // its cancel() returns (0 false, 1 true, -1 the error for a running task), or the message a
    // bad call must raise.
    std::size_t step_task = 0;  // a cancel's target, or the task a spawn starts
    int cancel_result = 0;
    std::string refusal;
    bool start_referenced = true;  // unref() once spawn() returns, when false
};

bool task_live(const task_model& t) {
    return t.state == task_state::paused || t.state == task_state::waiting ||
           t.state == task_state::awaiting;
}

bool task_ended(const task_model& t) {
    return t.state == task_state::done || t.state == task_state::failed ||
           t.state == task_state::cancelled;
}

// When a live timer's next expiry falls due: its one-off's, or the next of its interval's; a
// timer with options keeps its own (simulated time only).
steady::time_point next_expiry(const timer_model& t) {
    if (t.cron >= 0) return t.cron_deadline;
    if (t.options) return t.nominal + t.jitter_now;
    return t.armed_at + milliseconds{t.delay_ms} * (t.fires + 1);
}

// A cron timer's first run strictly after `ms` on the wall clock (ms), or nullopt.
std::optional<std::int64_t> cron_after(const timer_model& t, std::int64_t ms) {
    std::optional<std::chrono::sys_seconds> next =
        t.schedule->next_after(std::chrono::sys_time<milliseconds>{milliseconds{ms}});
    if (!next) return std::nullopt;
    return std::chrono::duration_cast<milliseconds>(next->time_since_epoch()).count();
}

// The queue's order: deadline, then arming.
using order_key = std::pair<steady::time_point, std::uint64_t>;

// One process_events(), run() or mockit.clock.advance() in progress.
struct drain_frame {
    bool stopped_before;  // a stop was pending when it began: that stop does not end it
    bool stop_seen;       // mockit.stop() was called since it began
    std::int64_t max;
    std::int64_t ran = 0;
    frame_kind kind = frame_kind::drain;
};

// What is owed at some time: callbacks (pending()) and queue entries (inqueue()).
struct owed_count {
    std::int64_t callbacks = 0;
    std::int64_t entries = 0;
};

struct signal_model {
    int signo;
    const char* name;
    bool watched = false;   // a mockit.signal handler is set
    bool caught = false;    // the module counts its arrivals: a handler, or await_signal since
    std::int64_t owed = 0;  // arrivals while caught that the loop has not taken yet
    std::vector<std::size_t> waiters;  // tasks in await_signal, not yet woken by an arrival
};

enum class error_mode : std::uint8_t { propagate, absorb, raise };

// Values of every type, for arguments that must be refused. A value is an index into this
// palette: nil, no value at all, the booleans, integers, floats, strings, then the other types.
constexpr lua_Integer palette_integers[] = {
    0, 3, -1, LUA_MININTEGER, LUA_MAXINTEGER, max_delay, max_delay + 1};
constexpr double palette_floats[] = {
    0.5, 3.0, std::numeric_limits<double>::quiet_NaN(), HUGE_VAL, -HUGE_VAL, -0.0, 1e300};
constexpr std::string_view palette_strings[] = {
    "", "abc", "3", "-1", "0x3", "3.5", " 3 ", "nan", {"SIGURG\0x", 8}};  // == "SIGURG" for strcmp
enum class object : std::uint8_t {
    table,
    plain_meta,
    callable_table,
    function,
    live_timer,
    dead_timer,
    foreign_ud,
    light_ud,
    thread,
    module,
    count
};
constexpr int no_value = 1;
constexpr int first_integer = 4;
constexpr int first_float = first_integer + static_cast<int>(std::size(palette_integers));
constexpr int first_string = first_float + static_cast<int>(std::size(palette_floats));
constexpr int first_object = first_string + static_cast<int>(std::size(palette_strings));
constexpr int palette_size = first_object + static_cast<int>(object::count);

enum class param : std::uint8_t {
    delay,
    delay_opt,
    callable,
    callable_opt,
    signal_name,
    count_opt,
    exit_code_opt,
    string,
    timer,
    live_timer,
    wall,
    wall_opt,
    options,  // mockit.timer's table: every value of the palette is a bad one
};

struct api_entry {
    const char* name;  // a module function, "log.<level>", or a timer method / metamethod
    enum { function, method, metamethod } where;
    int nparams;
    std::array<param, 2> params;
};

constexpr api_entry strict_api[] = {
    {"oneoff", api_entry::function, 2, {param::delay, param::callable}},
    {"getit", api_entry::function, 2, {param::delay, param::callable}},
    {"sleep", api_entry::function, 1, {param::delay}},
    {"wait", api_entry::function, 1, {param::delay_opt}},
    {"process_events", api_entry::function, 1, {param::count_opt}},
    {"stop", api_entry::function, 1, {param::exit_code_opt}},
    {"on_error", api_entry::function, 1, {param::callable_opt}},
    {"signal", api_entry::function, 2, {param::signal_name, param::callable_opt}},
    {"notify", api_entry::function, 1, {param::string}},
    {"log.trace", api_entry::function, 1, {param::string}},
    {"log.info", api_entry::function, 1, {param::string}},
    {"log.error", api_entry::function, 1, {param::string}},
    {"destroy", api_entry::method, 1, {param::timer}},
    {"reset", api_entry::method, 2, {param::live_timer, param::delay_opt}},
    {"active", api_entry::method, 1, {param::timer}},
    {"interval", api_entry::method, 1, {param::timer}},
    {"kind", api_entry::method, 1, {param::timer}},
    {"ref", api_entry::method, 1, {param::live_timer}},
    {"unref", api_entry::method, 1, {param::live_timer}},
    {"__tostring", api_entry::metamethod, 1, {param::timer}},
    {"__close", api_entry::metamethod, 1, {param::timer}},
    {"clock.virtual", api_entry::function, 1, {param::wall_opt}},
    {"clock.advance", api_entry::function, 1, {param::delay}},
    {"clock.suspend", api_entry::function, 1, {param::delay}},
    {"clock.set_wall", api_entry::function, 1, {param::wall}},
    {"timer", api_entry::function, 1, {param::options}},
    {"due", api_entry::method, 1, {param::timer}},
    {"missed", api_entry::method, 1, {param::timer}},
    {"stats", api_entry::method, 1, {param::timer}},
};

// Functions that change nothing the model tracks, whatever their arguments.
constexpr api_entry read_only_api[] = {
    {"time", api_entry::function, 0, {}},
    {"mstimestamp", api_entry::function, 0, {}},
    {"hrtime", api_entry::function, 0, {}},
    {"pending", api_entry::function, 0, {}},
    {"inqueue", api_entry::function, 0, {}},
    {"stats", api_entry::function, 0, {}},
    {"notify", api_entry::function, 0, {}},
    {"log.debug", api_entry::function, 0, {}},
    {"log.warn", api_entry::function, 0, {}},
    {"active", api_entry::method, 0, {}},
    {"interval", api_entry::method, 0, {}},
    {"kind", api_entry::method, 0, {}},
    {"__tostring", api_entry::metamethod, 0, {}},
    {"stopping", api_entry::function, 0, {}},
    {"clock.is_virtual", api_entry::function, 0, {}},
    {"metrics", api_entry::function, 0, {}},
    {"due", api_entry::method, 0, {}},
    {"missed", api_entry::method, 0, {}},
    {"stats", api_entry::method, 0, {}},
};

constexpr const char* formats[] = {"%d",       "%s",      "%q",    "%5.2f", "%z",
                                   "%",        "%99999d", "%c",    "%x",    "%i",
                                   "%s %s %s", "plain",   "%-5s|", "%.3s",  "%a"};

// A seed for a callback's choices from what it knows: its timer, its call and its parameter.
std::uint32_t seed_of(std::size_t serial, std::int64_t call, int param) {
    std::uint64_t z = (static_cast<std::uint64_t>(serial) << 40) ^
                      (static_cast<std::uint64_t>(call) << 8) ^ static_cast<std::uint64_t>(param);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;  // splitmix64's finalizer
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return static_cast<std::uint32_t>((z ^ (z >> 31)) >> 32);
}

long long ns_of(steady::time_point t) {
    return static_cast<long long>(std::chrono::nanoseconds{t.time_since_epoch()}.count());
}

// The error message a call had to raise: `want` exactly, after the position of the Lua code that
// made the call (luaL_error's "file:line: "), if any.
void check_refusal(const char* got, std::string_view want, const char* call) {
    std::string_view message = got != nullptr ? got : "";
    bool ok = message == want;
    if (!ok && message.size() > want.size() && message.ends_with(want)) {
        std::string_view where = message.substr(0, message.size() - want.size());
        ok = where.ends_with(": ");
    }
    if (!ok)
        violation("%s raised '%s', want '%.*s'", call, got != nullptr ? got : "(not a string)",
                  static_cast<int>(want.size()), want.data());
    trace("%s raised '%.*s'", call, static_cast<int>(want.size()), want.data());
}

// How lauxlib names the type of the value at `index` in "X expected, got T": its __name, or
// "light userdata", or its type.
std::string type_arg(lua_State* L, int index) {
    std::string name;
    if (int type = luaL_getmetafield(L, index, "__name"); type != LUA_TNIL) {
        if (type == LUA_TSTRING) name = lua_tostring(L, -1);
        lua_pop(L, 1);
        if (!name.empty()) return name;
    }
    if (lua_type(L, index) == LUA_TLIGHTUSERDATA) return "light userdata";
    return luaL_typename(L, index);
}

// Why a delay (luaL_checkinteger, then 0..2^40) is refused: the value at `index`, or none; nullopt
// when it is a valid one.
std::optional<std::string> delay_refusal(lua_State* L, int index, bool none) {
    if (none) return "number expected, got no value";
    int isnum = 0;
    lua_Integer ms = lua_tointegerx(L, index, &isnum);
    if (!isnum) {
        if (lua_isnumber(L, index)) return "number has no integer representation";
        return "number expected, got " + type_arg(L, index);
    }
    if (ms < 0 || ms > max_delay) return "delay must be an integer from 0 to 1099511627776 ms";
    return std::nullopt;
}

// Why a signal name (luaL_checkstring, then the names a script may handle) is refused; nullopt for
// "SIGURG", the only valid name among the values given.
std::optional<std::string> signal_refusal(lua_State* L, int index, bool none) {
    if (none) return "string expected, got no value";
    if (!lua_isstring(L, index)) return "string expected, got " + type_arg(L, index);
    lua_pushvalue(L, index);
    std::string name = lua_tostring(L, -1);  // a number as luaL_checkstring turns it into text
    lua_pop(L, 1);
    if (name == "SIGURG") return std::nullopt;
    for (const char* refused : {"SIGKILL", "SIGSTOP", "SIGSEGV"}) {
        if (name == refused) return name + " cannot be handled";
    }
    return "unknown signal '" + name + "'";
}

class harness;
harness* current = nullptr;  // the callbacks' way back: one input runs at a time

int on_timer(lua_State* L);
int on_task(lua_State* L);
int on_signal(lua_State* L);
int on_error_handler(lua_State* L);
int error_tostring(lua_State* L);

int never_called(lua_State*) {
    violation("a function given only with a bad argument was called");
}

int no_op(lua_State*) {
    return 0;
}

class harness {
  public:
    explicit harness(FuzzedDataProvider& in);
    ~harness();
    harness(const harness&) = delete;
    harness& operator=(const harness&) = delete;

    void run_ops();
    void finish();

    // Called from the Lua side.
    int timer_fired(lua_State* L);
    int task_hook(lua_State* L);
    bool closing = false;  // lua_close runs: paused tasks' <close> variables run
    void signal_handled(lua_State* L);
    void error_handled(lua_State* L);

  private:
    // Setup.
    void choose_clock();
    void keep(const char* key);
    void push_kept(const char* key);
    void push_api(const api_entry& entry);
    void push_module_function(const char* name);

    // The operations, usable from the top level and from callbacks.
    void op_arm(bool repeats);
    int arm(int slot, bool repeats, std::int64_t delay, const timer_model& spec);
    void op_arm_options();
    void op_arm_cron(int forced_persist = -1);
    void op_restart_persist();
    void arm_options(int slot, std::int64_t delay, timer_model spec);
    void bad_options();
    void destroy(int slot, bool by_close);
    void reset(int slot, std::optional<std::int64_t> delay);
    void set_ref(int slot, bool referenced);
    void stop(lua_Integer code);
    int drain(std::optional<std::int64_t> max);
    void run_loop();
    std::size_t wait(std::optional<std::int64_t> timeout);
    void check_wait_when_stopping(int status);
    void wait_unbounded();
    void sleep(std::int64_t ms, bool resume);
    void watch(signal_model& s, bool on);
    void raise_signal(signal_model& s);
    void set_on_error(error_mode mode);
    void drop(int slot);
    void reopen();
    void advance(std::int64_t ms);
    void suspend(std::int64_t ms);
    void set_wall(std::int64_t ms);
    void virtual_again();
    void bad_argument();
    void random_call();
    void push_value(int v);
    void push_valid(param p);
    bool valid_for(param p, int index);
    void perform(std::size_t serial, lua_State* L);
    std::optional<std::int64_t> callback_reset_delay(int slot, int param) const;

    // Tasks.
    void spawn(bool waiter);
    task_step input_step();
    task_model task_plan(std::uint32_t seed) const;
    std::optional<std::size_t> spawn_planned(task_model plan);
    void spawn_task(std::size_t serial);
    void spawned(std::size_t serial, lua_State* L, bool ok, int value);
    void cancel_task(std::size_t serial);
    std::optional<std::size_t> task_by_seed(std::uint32_t seed) const;
    int next_step(std::size_t serial, lua_State* L);
    int step_cancel(std::size_t serial, lua_State* L, const task_step& step);
    void cancelled(std::size_t serial, lua_State* L);
    void signalled(std::size_t serial, lua_State* L);
    void dispatch_arrivals(steady::time_point at, std::int64_t max);
    bool may_await_forever() const;
    bool raise_awaited();
    void bad_task_call();
    std::optional<std::string> bad_call_refusal(bad_call call, std::uint32_t seed,
                                                std::optional<std::size_t> handle,
                                                std::optional<std::size_t> inside);
    int push_bad_call(lua_State* L, bad_call call, std::uint32_t seed,
                      std::optional<std::size_t> handle);
    void check_task_status(std::size_t serial);
    void set_task_ref(std::size_t serial, bool referenced);
    void arm_wake(task_model& t, std::int64_t ms);
    void end_task(std::size_t serial, task_state state);
    void check_wake(std::size_t serial, lua_State* L);
    void check_outcome(std::size_t serial, lua_State* L, int first);
    std::int64_t task_delay();
    std::optional<std::size_t> pick_task(bool live_only);
    std::int64_t live_tasks() const;

    // Timers with options.
    struct taken {
        steady::time_point nominal;  // the grid point it runs for (the last folded)
        std::chrono::nanoseconds jitter;
        std::int64_t folded = 0;
        std::int64_t due_ms = 0;          // a cron timer's: t:due()...
        std::chrono::nanoseconds late{};  // ...and how late the run starts
    };
    // Cron timers: the runs due by a wall time from the planned one on (at most cron_max_counted
    // counted), a run planned as the module plans it, and every cron timer replanned after a
    // step of the wall clock or a suspend.
    struct cron_due {
        std::int64_t count;
        bool counted_all;
        std::int64_t latest;
    };
    cron_due cron_due_by(const timer_model& t, std::int64_t wall) const;
    void cron_plan(timer_model& t, std::optional<std::int64_t> at, steady::time_point now);
    void replan_cron();
    std::int64_t wall_ns_at(steady::time_point at) const {
        return wall_base_ns_ + std::chrono::nanoseconds{at - wall_base_at_}.count();
    }
    std::int64_t draw_jitter(std::int64_t jitter_ms);
    void plan_options(timer_model& t);
    taken take_expiry(timer_model& t, steady::time_point start);
    bool going(const timer_model& t) const;
    template <class Before>
    void catch_up(Before before);
    void catch_up_before(order_key key);
    void catch_up_drain(steady::time_point horizon, std::uint64_t mark);
    void catch_up_run_end();
    void run_options(std::size_t serial, lua_State* L, int handle, steady::time_point at);
    void check_told(std::size_t serial, lua_State* L, int handle, bool in_run);
    void check_metrics();
    std::int64_t engine_missed(std::size_t serial);

    // Checks.
    void check_invariants(bool consuming);
    void check_slot(int slot);
    void check_clocks();
    owed_count owed_at(steady::time_point now, bool cron_runs = false) const;
    lua_Integer call_integer(const char* name);
    void expect_error(int status, std::string_view what, const char* call);
    void deliver(std::int64_t id);
    void deliver_caught(const char* message);
    void count_callback();
    void pop_to(int top);

    std::int64_t take_budget(std::int64_t ms);
    std::int64_t scaled(std::int64_t ms);
    std::int64_t bounded_move(std::int64_t ms) const;
    bool finish_simulated_tasks();
    bool past_end(std::int64_t ms) const { return now() + milliseconds{ms} > virtual_end_; }
    steady::time_point now() const { return virtual_ ? sim_now_ : steady::now(); }
    steady::time_point engine_now();
    std::int64_t wall_ms() const;
    void check_state_files() const;
    std::optional<steady::time_point> next_due() const;
    bool finish_simulated();
    std::size_t serial_in(int slot) const;
    bool occupied(int slot) const { return slot_serial_[slot] != no_serial; }
    bool live_oneoff() const;
    bool live_cron() const {
        return std::any_of(timers_.begin(), timers_.end(),
                           [](const timer_model& t) { return t.live && t.cron >= 0; });
    }
    // The kind of the outermost run() or advance() in progress; drain when there is none.
    frame_kind loop_kind() const {
        for (const drain_frame& f : frames_) {
            if (f.kind != frame_kind::drain) return f.kind;
        }
        return frame_kind::drain;
    }
    bool referenced_interval() const;

    static constexpr std::size_t no_serial = SIZE_MAX;

    FuzzedDataProvider& in_;
    lua_State* L_;
    std::deque<timer_model> timers_;   // by serial; a deque keeps references valid on growth
    std::deque<task_model> tasks_;     // by serial; spawned ones' handles in registry "tasks"
    std::int64_t pause_request_ = -1;  // a callback's pause, for on_timer to return
    std::array<std::size_t, slot_count> slot_serial_;
    std::vector<drain_frame> frames_;
    std::array<signal_model, 2> signals_{
        {{SIGURG, "SIGURG", false, false, 0, {}}, {SIGWINCH, "SIGWINCH", false, false, 0, {}}}};
    std::vector<int> delivered_;  // by error id: how many times it reached somebody
    std::int64_t raised_ = 0;
    std::int64_t delivered_total_ = 0;
    error_mode on_error_ = error_mode::propagate;
    bool stop_requested_ = false;
    bool stop_told_ = false;  // a wait() returned 0 for the stop: the next one raises it
    lua_Integer stop_code_ = 0;
    steady::duration blocked_{};       // how much of block_budget is spent
    steady::time_point loop_started_;  // the outermost run() or advance() in progress...
    std::int64_t loop_callbacks_ = 0;  // ...and the callbacks it ran, nested drains' included
    bool final_phase_ = false;
    // Simulated time: where the clock is, where sleep() or suspend() last jumped it to (what was
    // due before then runs then), and where it ends. The wall clock was wall_base_ns_ (since the
    // epoch) at wall_base_at_ and moves with it.
    bool virtual_ = false;
    std::uint64_t armings_ = 0;
    std::pair<steady::time_point, std::uint64_t> last_run_{};  // the last callback's due, arming
    steady::time_point sim_now_;
    steady::time_point skip_end_;
    steady::time_point virtual_end_;
    std::int64_t wall_base_ns_ = 0;
    steady::time_point wall_base_at_;
    int depth_ = 0;  // callbacks on the stack
    // Timers with options: the jitter generator as the module's (splitmix64, seeded with
    // seed_jitter), timer callbacks run (metrics().loop.callbacks), per name runs and missed
    // expiries, set_wall() calls, and where simulated time started (metrics().loop's busy + idle).
    std::uint64_t rng_ = 0x6d6f636b6974;
    std::int64_t timer_callbacks_ = 0;
    std::array<std::int64_t, name_count> name_runs_{};
    std::array<std::int64_t, name_count> name_missed_{};
    std::array<bool, name_count> name_used_{};
    std::array<persist_model, persist_count> persist_{};
    std::uint64_t wall_epoch_ = 0;
    steady::time_point virtual_start_;
    std::size_t last_pending_ = 0;
    std::size_t last_inqueue_ = 0;
};

harness::harness(FuzzedDataProvider& in) : in_{in}, L_{luaL_newstate()} {
    if (L_ == nullptr) violation("luaL_newstate failed");
    // Each input starts with no state file: what an earlier one left would change its catch-ups.
    for (int i = 0; i < persist_count; ++i) {
        std::string file = state_file(i);
        for (const std::string& path : {file, file + ".tmp"})
            if (::unlink(path.c_str()) != 0 && errno != ENOENT)
                violation("cannot remove %s: %s", path.c_str(), std::strerror(errno));
    }
    slot_serial_.fill(no_serial);
    luaL_openlibs(L_);
    luaL_requiref(L_, "mockit", luaopen_mockit, 1);
    keep("mockit");
    // The default sink writes to stderr: quiet, but the lines are still formatted (and checked).
    mockit::lua::set_log_sink(
        L_, [](mockit::lua::log_level, std::string_view) {}, mockit::lua::log_level::trace);
    choose_clock();  // before the first timer, as mockit.clock.virtual() must be
    if (!mockit::lua::seed_jitter(L_, rng_)) violation("seed_jitter refused");
    lua_createtable(L_, slot_count, 0);
    keep("slots");
    // The handles of timers with options by serial, weak: a dropped handle may go.
    lua_newtable(L_);
    lua_createtable(L_, 0, 1);
    lua_pushliteral(L_, "v");
    lua_setfield(L_, -2, "__mode");
    lua_setmetatable(L_, -2);
    keep("handles");
    // A live timer, and a destroyed one, for arguments that must be timers. The live one is a
    // one-off that already ran: it never runs again, however far simulated time goes, and keeps
    // nothing alive.
    push_module_function("oneoff");
    lua_pushinteger(L_, 0);
    lua_pushcfunction(L_, no_op);
    if (lua_pcall(L_, 2, 1, 0) != LUA_OK) violation("oneoff: %s", lua_tostring(L_, -1));
    keep("spare_live");
    push_module_function("process_events");
    lua_call(L_, 0, 1);
    if (lua_tointeger(L_, -1) != 1) violation("a one-off of 0 ms did not run at once");
    lua_pop(L_, 1);
    timer_callbacks_ = 1;
    push_module_function("oneoff");
    lua_pushinteger(L_, 100'000);
    lua_pushcfunction(L_, never_called);
    lua_call(L_, 2, 1);
    lua_getfield(L_, -1, "destroy");
    lua_pushvalue(L_, -2);
    lua_call(L_, 1, 0);
    keep("spare_dead");
    lua_createtable(L_, 0, 1);
    lua_pushcfunction(L_, on_timer);
    lua_setfield(L_, -2, "__call");
    lua_newtable(L_);
    lua_pushvalue(L_, -2);
    lua_setmetatable(L_, -2);
    keep("callable");
    keep("callable_meta");
    lua_createtable(L_, 0, 1);
    lua_pushcfunction(L_, error_tostring);
    lua_setfield(L_, -2, "__tostring");
    keep("error_meta");
    // A to-be-closed variable, as a script would write it.
    if (luaL_loadstring(L_, "local t = ...; do local c <close> = t end") != LUA_OK)
        violation("close chunk: %s", lua_tostring(L_, -1));
    keep("close_chunk");
    // Tasks as a script writes them: a body that asks the harness (on_task) what to do next,
    // pauses, waits, awaits signals, cancels, spawns and makes bad calls in Lua, and has a <close>
    // variable; and the callback that pauses, around on_timer.
    if (luaL_loadstring(L_, R"(
        local hook, pause, on_timer, await_signal, spawn = ...
        local close_meta = {__close = function(c) hook(c.id, "close") end}
        local body
        function body(id)
            local c <close> = setmetatable({id = id}, close_meta)
            while true do
                local what, a, b, x, y = hook(id, "step")
                if what == "pause" then
                    pause(a)
                    hook(id, "resumed")
                elseif what == "wait" then
                    hook(id, "waited", a:wait(b))
                elseif what == "signal" then
                    hook(id, "signalled", await_signal(a, b))
                elseif what == "cancel" then
                    hook(id, "cancelled", pcall(a.cancel, a))
                elseif what == "cancel_self" then
                    a:cancel()
                    hook(id, "survived")
                elseif what == "spawn" then
                    hook(id, "spawned", pcall(spawn, body, a))
                elseif what == "bad" then
                    hook(id, "refused", pcall(a, b, x, y))
                else
                    return hook(id, "results")
                end
            end
        end
        local function pausing(...)
            local ms, id = on_timer(...)
            if ms then
                pause(ms)
                hook(id, "resumed")
            end
        end
        return body, pausing)") != LUA_OK)
        violation("task chunk: %s", lua_tostring(L_, -1));
    lua_pushcfunction(L_, on_task);
    push_module_function("pause");
    lua_pushcfunction(L_, on_timer);
    push_module_function("await_signal");
    push_module_function("spawn");
    lua_call(L_, 5, 2);
    keep("pausing_callback");
    keep("task_body");
    // Calls the task functions must refuse, as a script makes them (the names in the messages
    // come from the call sites): fn(n, x, y) passes the first n of x, y.
    if (luaL_loadstring(L_, R"(
        local mockit, methods = ...
        local function args(n, x, y)
            if n == 0 then return end
            if n == 1 then return x end
            return x, y
        end
        return {
            spawn = function(n, x, y) mockit.spawn(args(n, x, y)) end,
            pause = function(n, x, y) mockit.pause(args(n, x, y)) end,
            await_signal = function(n, x, y) mockit.await_signal(args(n, x, y)) end,
            wait = function(n, t, x) t:wait(args(n, x)) end,
            cancel = function(n, x, y) methods.cancel(args(n, x, y)) end,
            wait_on = function(n, x, y) methods.wait(args(n, x, y)) end,
            status = function(n, x, y) methods.status(args(n, x, y)) end,
            ref = function(n, x, y) methods.ref(args(n, x, y)) end,
            unref = function(n, x, y) methods.unref(args(n, x, y)) end,
        })") != LUA_OK)
        violation("bad call chunk: %s", lua_tostring(L_, -1));
    push_kept("mockit");
    luaL_getmetatable(L_, "mockit.task");
    lua_getfield(L_, -1, "__index");
    lua_remove(L_, -2);
    lua_call(L_, 2, 1);
    keep("bad_calls");
    lua_newtable(L_);
    keep("tasks");
    lua_getglobal(L_, "io");
    lua_getfield(L_, -1, "stdout");
    keep("foreign");
    lua_pop(L_, 1);
    lua_newthread(L_);
    keep("thread");
    current = this;
    last_inqueue_ = static_cast<std::size_t>(call_integer("inqueue"));
}

// The input's first byte: the real clock, or simulated time from the default start, from a start
// the input gives, or from the default start and then that one (only the wall clock moves then).
void harness::choose_clock() {
    int mode = in_.ConsumeIntegralInRange(0, 3);
    if (mode == 0) return;
    std::optional<steady::time_point> first;
    auto switch_clock = [&](std::optional<std::int64_t> start) {
        push_module_function("clock.virtual");
        if (start) lua_pushinteger(L_, *start);
        if (lua_pcall(L_, start ? 1 : 0, 0, 0) != LUA_OK)
            violation("clock.virtual: %s", lua_tostring(L_, -1));
        steady::time_point at = engine_now();
        if (first && at != *first) violation("a second clock.virtual() moved the monotonic clock");
        first = at;
    };
    std::int64_t start = default_start_ms;
    if (mode != 2) switch_clock(std::nullopt);
    if (mode != 1) {
        start = in_.ConsumeIntegralInRange<std::int64_t>(0, max_wall_ms);
        switch_clock(start);
    }
    trace("simulated time from %lld ms since the epoch", static_cast<long long>(start));
    virtual_ = true;
    sim_now_ = skip_end_ = wall_base_at_ = virtual_start_ = *first;
    virtual_end_ = sim_now_ + simulated_span;
    wall_base_ns_ = start * 1'000'000;
}

harness::~harness() {
    closing = true;
    lua_close(L_);  // must release everything, armed timers included, without a hang or a leak
    current = nullptr;
}

void harness::keep(const char* key) {
    lua_setfield(L_, LUA_REGISTRYINDEX, key);
}

void harness::push_kept(const char* key) {
    lua_getfield(L_, LUA_REGISTRYINDEX, key);
}

void harness::push_module_function(const char* name) {
    push_kept("mockit");
    if (const char* dot = std::strchr(name, '.')) {  // "log.info", "clock.advance"
        lua_pushlstring(L_, name, static_cast<std::size_t>(dot - name));
        lua_gettable(L_, -2);
        lua_remove(L_, -2);
        name = dot + 1;
    }
    lua_getfield(L_, -1, name);
    lua_remove(L_, -2);
}

void harness::push_api(const api_entry& entry) {
    if (entry.where == api_entry::function) return push_module_function(entry.name);
    push_kept("spare_live");
    lua_getmetatable(L_, -1);
    if (entry.where == api_entry::method) lua_getfield(L_, -1, "__index");
    lua_getfield(L_, -1, entry.name);
    lua_replace(L_, -(entry.where == api_entry::method ? 4 : 3));
    lua_settop(L_, lua_gettop(L_) - (entry.where == api_entry::method ? 2 : 1));
}

void harness::pop_to(int top) {
    lua_settop(L_, top);
}

std::size_t harness::serial_in(int slot) const {
    return slot_serial_[slot];
}

bool harness::live_oneoff() const {
    return std::any_of(timers_.begin(), timers_.end(),
                       [](const timer_model& t) { return t.live && !t.repeats; });
}

bool harness::referenced_interval() const {
    return std::any_of(timers_.begin(), timers_.end(),
                       [](const timer_model& t) { return t.live && t.repeats && t.referenced; });
}

// Takes up to `ms` from the blocking budget: what an operation may block for.
std::int64_t harness::take_budget(std::int64_t ms) {
    auto left = std::chrono::duration_cast<milliseconds>(block_budget - blocked_).count();
    return std::max<std::int64_t>(0, std::min(ms, left));
}

// Under simulated time, a delay of `ms` (0..max_delay_ms) times a scale the input chooses.
std::int64_t harness::scaled(std::int64_t ms) {
    if (!virtual_) return ms;
    std::int64_t scale = in_.PickValueInArray(delay_scales);
    return scale == max_delay ? max_delay - ms : ms * scale;
}

// The longest move of the simulated clock, up to `ms`, after which the live timers owe at most
// max_backlog callbacks: a bound on the total, as callbacks that sleep add to the backlog they
// are part of (a 1 ms interval sleeping 3 ms triples it with every drain).
std::int64_t harness::bounded_move(std::int64_t ms) const {
    while (ms > 0 && owed_at(sim_now_ + milliseconds{ms}, true).callbacks > max_backlog)
        ms /= 2;
    return ms;
}

steady::time_point harness::engine_now() {
    return steady::time_point{std::chrono::nanoseconds{call_integer("hrtime")}};
}

std::int64_t harness::wall_ms() const {
    return (wall_base_ns_ + std::chrono::nanoseconds{sim_now_ - wall_base_at_}.count()) / 1'000'000;
}

// Each persist name's state file holds the due time (ms) of the last run started of the timers
// that kept it, a line of its own, or is missing when none ran; no temporary file is left.
void harness::check_state_files() const {
    for (int i = 0; i < persist_count; ++i) {
        std::string file = state_file(i);
        if (::access((file + ".tmp").c_str(), F_OK) == 0 || errno != ENOENT)
            violation("%s.tmp is left behind", file.c_str());
        std::optional<std::int64_t> want = persist_[static_cast<std::size_t>(i)].last_ms;
        std::ifstream in{file, std::ios::binary};
        if (!want) {
            if (in.is_open())
                violation("%s exists, and no run of its timers started", file.c_str());
            continue;
        }
        std::string text{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
        if (text != std::to_string(*want) + "\n")
            violation("%s holds '%s', want %lld (the last run started)", file.c_str(), text.c_str(),
                      static_cast<long long>(*want));
    }
}

// When the next live timer falls due (already due included), or nullopt when none is armed.
std::optional<steady::time_point> harness::next_due() const {
    std::optional<steady::time_point> next;
    for (const timer_model& t : timers_) {
        if (t.live && (!next || next_expiry(t) < *next)) next = next_expiry(t);
    }
    for (const task_model& t : tasks_) {
        if (t.wake_armed && (!next || t.wake_at < *next)) next = t.wake_at;
    }
    return next;
}

// A call that had to raise `what` (its status and message on the stack) did.
void harness::expect_error(int status, std::string_view what, const char* call) {
    auto length = static_cast<int>(what.size());
    if (status == LUA_OK)
        violation("%s returned instead of raising '%.*s'", call, length, what.data());
    const char* message = lua_tostring(L_, -1);
    if (message == nullptr || std::string_view{message}.find(what) == std::string_view::npos)
        violation("%s raised '%s', not '%.*s'", call, message ? message : "(not a string)", length,
                  what.data());
    trace("%s raised '%.*s'", call, length, what.data());
}

lua_Integer harness::call_integer(const char* name) {
    int top = lua_gettop(L_);
    push_module_function(name);
    if (lua_pcall(L_, 0, 1, 0) != LUA_OK) violation("%s(): %s", name, lua_tostring(L_, -1));
    int isnum = 0;
    lua_Integer n = lua_tointegerx(L_, -1, &isnum);
    if (!isnum || n < 0) violation("%s() returned %s", name, luaL_typename(L_, -1));
    pop_to(top);
    return n;
}

// Arming ------------------------------------------------------------------------------------

void harness::op_arm(bool repeats) {
    timer_model spec;
    int slot = in_.ConsumeIntegralInRange(0, slot_count - 1);
    std::int64_t delay = scaled(in_.ConsumeIntegralInRange(0, max_delay_ms));
    spec.extra = in_.ConsumeIntegralInRange(0, 3);
    spec.via_table = in_.ConsumeBool();
    spec.act = static_cast<action>(in_.ConsumeIntegralInRange(0, static_cast<int>(action::last)));
    spec.target = in_.ConsumeIntegralInRange(0, slot_count - 1);
    spec.param = in_.ConsumeIntegralInRange(0, 255);
    arm(slot, repeats, delay, spec);
}

// Arms a timer into `slot` (the handle there before is dropped, as a script overwriting its
// variable drops it). Returns its serial.
int harness::arm(int slot, bool repeats, std::int64_t delay, const timer_model& spec) {
    int top = lua_gettop(L_);
    std::size_t serial = timers_.size();
    timers_.push_back(spec);
    timer_model& t = timers_.back();
    t.repeats = repeats;
    t.delay_ms = repeats ? std::max<std::int64_t>(delay, 1) : delay;
    push_module_function(repeats ? "getit" : "oneoff");
    lua_pushinteger(L_, delay);
    if (t.act == action::pause) {
        push_kept("pausing_callback");
    } else if (t.via_table) {
        push_kept("callable");
    } else {
        lua_pushcfunction(L_, on_timer);
    }
    lua_pushinteger(L_, static_cast<lua_Integer>(serial));
    for (int i = 1; i <= t.extra; ++i)
        lua_pushfstring(L_, "x%d", i);
    t.armed_at = now();
    t.arming = ++armings_;
    if (lua_pcall(L_, 3 + t.extra, 1, 0) != LUA_OK)
        violation("%s(%lld, f): %s", repeats ? "getit" : "oneoff", static_cast<long long>(delay),
                  lua_tostring(L_, -1));
    if (!luaL_testudata(L_, -1, "mockit.timer")) violation("arming returned no timer");
    t.live = true;
    trace("arm #%zu into slot %d: %s %lld ms, action %d", serial, slot,
          repeats ? "interval" : "oneoff", static_cast<long long>(delay), static_cast<int>(t.act));
    drop(slot);
    push_kept("slots");
    lua_pushvalue(L_, -2);
    lua_rawseti(L_, -2, slot + 1);
    slot_serial_[slot] = serial;
    t.slot = slot;
    pop_to(top);
    return static_cast<int>(serial);
}

void harness::drop(int slot) {
    if (!occupied(slot)) return;
    timers_[serial_in(slot)].slot = -1;
    slot_serial_[slot] = no_serial;
    int top = lua_gettop(L_);
    push_kept("slots");
    lua_pushnil(L_);
    lua_rawseti(L_, -2, slot + 1);
    pop_to(top);
}

// Timers with options ------------------------------------------------------------------------

// mockit.timer{...}: after or every (from 1 ms), a missed policy, overlap, jitter (0, or below the
// period), a name of timer_names or none, ref, and args: the serial and 0..3 strings, with or
// without args.n. Its callback is on_timer as for the others, the pausing Lua function, or the
// callable table, and does what op_arm's do.
void harness::op_arm_options() {
    timer_model spec;
    spec.options = true;
    int slot = in_.ConsumeIntegralInRange(0, slot_count - 1);
    spec.repeats = in_.ConsumeBool();
    std::int64_t delay = scaled(in_.ConsumeIntegralInRange(0, max_delay_ms));
    if (spec.repeats) delay = std::max<std::int64_t>(delay, 1);
    int missed = spec.repeats ? in_.ConsumeIntegralInRange(0, 3) : 0;  // 0: not given
    int overlap = spec.repeats ? in_.ConsumeIntegralInRange(0, 2) : 0;
    bool jitter_given = in_.ConsumeBool();
    if (jitter_given && (!spec.repeats || delay > 1)) {
        std::int64_t most = spec.repeats ? delay - 1 : std::max<std::int64_t>(1, delay);
        spec.jitter_ms = in_.ConsumeIntegralInRange<std::int64_t>(0, most);
    }
    spec.name = in_.ConsumeIntegralInRange(-1, name_count - 1);
    int ref = in_.ConsumeIntegralInRange(0, 2);  // not given, true, false
    bool with_n = in_.ConsumeBool();
    spec.extra = in_.ConsumeIntegralInRange(0, 3);
    spec.via_table = in_.ConsumeBool();
    // Half of them pause: a run still paused is what overlap is about.
    spec.act =
        in_.ConsumeBool()
            ? action::pause
            : static_cast<action>(in_.ConsumeIntegralInRange(0, static_cast<int>(action::last)));
    spec.target = in_.ConsumeIntegralInRange(0, slot_count - 1);
    spec.param = in_.ConsumeIntegralInRange(0, 255);
    // With the real clock the model cannot tell when an expiry left unrun (overlap) is taken: a
    // one-off that pauses could then end unrun after a reset.
    if (!virtual_ && !spec.repeats && spec.act == action::pause) spec.act = action::none;
    if (missed > 0) spec.missed = static_cast<missed_policy>(missed - 1);
    spec.overlap_allow = overlap == 2;
    spec.referenced = ref != 2;

    int top = lua_gettop(L_);
    std::size_t serial = timers_.size();
    timers_.push_back(spec);
    timer_model& t = timers_.back();
    t.delay_ms = delay;
    push_module_function("timer");
    lua_createtable(L_, 0, 9);
    lua_pushinteger(L_, delay);
    lua_setfield(L_, -2, t.repeats ? "every" : "after");
    if (t.act == action::pause) {
        push_kept("pausing_callback");
    } else if (t.via_table) {
        push_kept("callable");
    } else {
        lua_pushcfunction(L_, on_timer);
    }
    lua_setfield(L_, -2, "fn");
    lua_createtable(L_, 1 + t.extra, 1);
    lua_pushinteger(L_, static_cast<lua_Integer>(serial));
    lua_rawseti(L_, -2, 1);
    for (int i = 1; i <= t.extra; ++i) {
        lua_pushfstring(L_, "x%d", i);
        lua_rawseti(L_, -2, i + 1);
    }
    if (with_n) {
        lua_pushinteger(L_, 1 + t.extra);
        lua_setfield(L_, -2, "n");
    }
    lua_setfield(L_, -2, "args");
    static constexpr const char* missed_names[] = {"burst", "skip", "delay"};
    if (missed > 0) {
        lua_pushstring(L_, missed_names[missed - 1]);
        lua_setfield(L_, -2, "missed");
    }
    if (overlap > 0) {
        lua_pushstring(L_, overlap == 1 ? "skip" : "allow");
        lua_setfield(L_, -2, "overlap");
    }
    if (jitter_given) {
        lua_pushinteger(L_, t.jitter_ms);
        lua_setfield(L_, -2, "jitter");
    }
    if (t.name >= 0) {
        std::string_view name = timer_names[t.name];
        lua_pushlstring(L_, name.data(), name.size());
        lua_setfield(L_, -2, "name");
    }
    if (ref != 0) {
        lua_pushboolean(L_, ref == 1);
        lua_setfield(L_, -2, "ref");
    }
    t.armed_at = now();
    t.arming = ++armings_;
    if (virtual_) plan_options(t);  // the jitter it draws is the first draw of the call
    if (lua_pcall(L_, 1, 1, 0) != LUA_OK) violation("timer{...}: %s", lua_tostring(L_, -1));
    if (!luaL_testudata(L_, -1, "mockit.timer")) violation("timer{...} returned no timer");
    t.live = true;
    if (t.name >= 0) name_used_[static_cast<std::size_t>(t.name)] = true;
    trace(
        "arm #%zu into slot %d: timer{%s = %lld, missed %d, overlap %d, jitter %lld, name %d, "
        "ref %d}, action %d",
        serial, slot, t.repeats ? "every" : "after", static_cast<long long>(delay), missed, overlap,
        static_cast<long long>(t.jitter_ms), t.name, ref, static_cast<int>(t.act));
    push_kept("handles");
    lua_pushvalue(L_, -2);
    lua_rawseti(L_, -2, static_cast<lua_Integer>(serial) + 1);
    lua_pop(L_, 1);
    drop(slot);
    push_kept("slots");
    lua_pushvalue(L_, -2);
    lua_rawseti(L_, -2, slot + 1);
    slot_serial_[slot] = serial;
    t.slot = slot;
    pop_to(top);
}

// A cron timer: mockit.timer{cron = ...} with an expression of cron_exprs, a zone of cron_zones
// or none, a missed policy (once, skip, all) or none, overlap, jitter (a scaled delay), a name,
// ref and args; or mockit.cron(expr, fn, serial, extras...). Its callback does what op_arm's do
// (half of them pause). At most one live cron timer has both missed="skip" and a jitter: a
// replan draws their jitters in the order of the queue's slots, which the model does not know.
void harness::op_arm_cron(int forced_persist) {
    timer_model spec;
    spec.options = true;
    spec.repeats = true;
    spec.delay_ms = max_delay;
    spec.missed = missed_policy::once;
    int slot = in_.ConsumeIntegralInRange(0, slot_count - 1);
    spec.cron = in_.ConsumeIntegralInRange(0, static_cast<int>(std::size(cron_exprs)) - 1);
    bool via_cron = forced_persist < 0 && in_.ConsumeIntegralInRange(0, 3) == 0;  // mockit.cron()
    int tz = via_cron ? -1 : in_.ConsumeIntegralInRange(-1, 2);
    int missed = via_cron ? 0 : in_.ConsumeIntegralInRange(0, 3);  // 0: not given
    int overlap = via_cron ? 0 : in_.ConsumeIntegralInRange(0, 2);
    bool jitter_given = !via_cron && in_.ConsumeBool();
    if (jitter_given) spec.jitter_ms = scaled(in_.ConsumeIntegralInRange(0, max_delay_ms));
    spec.name = via_cron ? -1 : in_.ConsumeIntegralInRange(-1, name_count - 1);
    int ref = via_cron ? 0 : in_.ConsumeIntegralInRange(0, 2);
    bool with_n = in_.ConsumeBool();
    spec.extra = in_.ConsumeIntegralInRange(0, 3);
    spec.via_table = in_.ConsumeBool();
    spec.act =
        in_.ConsumeBool()
            ? action::pause
            : static_cast<action>(in_.ConsumeIntegralInRange(0, static_cast<int>(action::last)));
    spec.target = in_.ConsumeIntegralInRange(0, slot_count - 1);
    spec.param = in_.ConsumeIntegralInRange(0, 255);
    // persist (simulated time only, where the model knows which runs were passed over): half of
    // the timers{cron = ...}, a name of persist_names.
    spec.persist = virtual_ && !via_cron
                       ? std::max(-1, in_.ConsumeIntegralInRange(-persist_count, persist_count - 1))
                       : -1;
    if (forced_persist >= 0) spec.persist = forced_persist;
    static constexpr missed_policy policies[] = {missed_policy::once, missed_policy::skip,
                                                 missed_policy::all};
    if (missed > 0) spec.missed = policies[missed - 1];
    spec.overlap_allow = overlap == 2;
    spec.referenced = ref != 2;
    if (spec.missed == missed_policy::skip && spec.jitter_ms > 0 &&
        std::any_of(timers_.begin(), timers_.end(), [](const timer_model& t) {
            return t.cron >= 0 && !t.destroyed && t.missed == missed_policy::skip &&
                   t.jitter_ms > 0;
        }))
        spec.jitter_ms = 0;
    std::string_view expr = cron_exprs[spec.cron];
    std::string_view zone = tz >= 0 ? cron_zones[tz] : std::string_view{};
    spec.schedule.emplace(expr, zone);

    int top = lua_gettop(L_);
    std::size_t serial = timers_.size();
    timers_.push_back(spec);
    timer_model& t = timers_.back();
    auto push_fn = [&] {
        if (t.act == action::pause) {
            push_kept("pausing_callback");
        } else if (t.via_table) {
            push_kept("callable");
        } else {
            lua_pushcfunction(L_, on_timer);
        }
    };
    int nargs = 1;
    if (via_cron) {
        push_module_function("cron");
        lua_pushlstring(L_, expr.data(), expr.size());
        push_fn();
        lua_pushinteger(L_, static_cast<lua_Integer>(serial));
        for (int i = 1; i <= t.extra; ++i)
            lua_pushfstring(L_, "x%d", i);
        nargs = 3 + t.extra;
    } else {
        push_module_function("timer");
        lua_createtable(L_, 0, 10);
        lua_pushlstring(L_, expr.data(), expr.size());
        lua_setfield(L_, -2, "cron");
        if (tz >= 0) {
            lua_pushlstring(L_, zone.data(), zone.size());
            lua_setfield(L_, -2, "tz");
        }
        push_fn();
        lua_setfield(L_, -2, "fn");
        lua_createtable(L_, 1 + t.extra, 1);
        lua_pushinteger(L_, static_cast<lua_Integer>(serial));
        lua_rawseti(L_, -2, 1);
        for (int i = 1; i <= t.extra; ++i) {
            lua_pushfstring(L_, "x%d", i);
            lua_rawseti(L_, -2, i + 1);
        }
        if (with_n) {
            lua_pushinteger(L_, 1 + t.extra);
            lua_setfield(L_, -2, "n");
        }
        lua_setfield(L_, -2, "args");
        static constexpr const char* missed_names[] = {"once", "skip", "all"};
        if (missed > 0) {
            lua_pushstring(L_, missed_names[missed - 1]);
            lua_setfield(L_, -2, "missed");
        }
        if (overlap > 0) {
            lua_pushstring(L_, overlap == 1 ? "skip" : "allow");
            lua_setfield(L_, -2, "overlap");
        }
        if (jitter_given) {
            lua_pushinteger(L_, t.jitter_ms);
            lua_setfield(L_, -2, "jitter");
        }
        if (t.name >= 0) {
            std::string_view name = timer_names[t.name];
            lua_pushlstring(L_, name.data(), name.size());
            lua_setfield(L_, -2, "name");
        }
        if (ref != 0) {
            lua_pushboolean(L_, ref == 1);
            lua_setfield(L_, -2, "ref");
        }
        if (t.persist >= 0) {
            std::string_view name = persist_names[t.persist];
            lua_pushlstring(L_, name.data(), name.size());
            lua_setfield(L_, -2, "persist");
        }
    }
    if (t.persist >= 0 && persist_[static_cast<std::size_t>(t.persist)].owner) {
        // The name is another live timer's: refused, and nothing changes (no arming, no jitter
        // drawn, no name in metrics(): check_invariants).
        std::string want = "bad argument #1 to 'mockit.timer' ('persist': '" +
                           state_file(t.persist) +
                           "' is the state file of another live timer (one each))";
        if (lua_pcall(L_, nargs, 1, 0) == LUA_OK)
            violation("timer{cron, persist = '%s'}: accepted while timer #%zu keeps it",
                      persist_names[t.persist].data(),
                      *persist_[static_cast<std::size_t>(t.persist)].owner);
        const char* message = lua_tostring(L_, -1);
        if (message == nullptr || message != want)
            violation("timer{cron, persist} of a name in use: '%s', want '%s'",
                      message ? message : "(not a string)", want.c_str());
        trace("timer{cron, persist = '%s'} refused: the name is #%zu's",
              persist_names[t.persist].data(),
              *persist_[static_cast<std::size_t>(t.persist)].owner);
        timers_.pop_back();
        pop_to(top);
        return;
    }
    t.armed_at = now();
    t.arming = ++armings_;
    if (virtual_) plan_options(t);
    if (lua_pcall(L_, nargs, 1, 0) != LUA_OK)
        violation("%s: %s", via_cron ? "cron(...)" : "timer{cron = ...}", lua_tostring(L_, -1));
    if (!luaL_testudata(L_, -1, "mockit.timer")) violation("a cron timer's arming returned none");
    t.live = true;
    if (t.persist >= 0) persist_[static_cast<std::size_t>(t.persist)].owner = serial;
    if (t.name >= 0) name_used_[static_cast<std::size_t>(t.name)] = true;
    trace(
        "arm #%zu into slot %d: %s '%.*s', tz %d, missed %d, overlap %d, jitter %lld, name %d, "
        "ref %d, persist %d, action %d; first run at %lld ms, due at %lld ns",
        serial, slot, via_cron ? "cron" : "timer{cron}", static_cast<int>(expr.size()), expr.data(),
        tz, missed, overlap, static_cast<long long>(t.jitter_ms), t.name, ref, t.persist,
        static_cast<int>(t.act), static_cast<long long>(t.cron_next_ms), ns_of(t.cron_deadline));
    push_kept("handles");
    lua_pushvalue(L_, -2);
    lua_rawseti(L_, -2, static_cast<lua_Integer>(serial) + 1);
    lua_pop(L_, 1);
    drop(slot);
    push_kept("slots");
    lua_pushvalue(L_, -2);
    lua_rawseti(L_, -2, slot + 1);
    slot_serial_[slot] = serial;
    t.slot = slot;
    pop_to(top);
}

// A service run a while, stopped and started again later (simulated time only): a cron timer with
// a persist name is created if none keeps it, the clock advances (its runs are kept in the state
// file), the live timer keeping the name, if its handle is in a slot, is destroyed (t:destroy() or
// __close), the clock is suspended a while (the runs of the schedule due meanwhile are passed
// over), and a cron timer is created with that name (op_arm_cron), which makes its catch-up from
// the state file.
void harness::op_restart_persist() {
    int persist = in_.ConsumeIntegralInRange(0, persist_count - 1);
    bool by_close = in_.ConsumeBool();
    std::int64_t up_ms = scaled(in_.ConsumeIntegralInRange(0, max_delay_ms));
    std::int64_t down_ms = scaled(in_.ConsumeIntegralInRange(0, max_delay_ms));
    if (!virtual_) return;
    trace("restart persist '%s': up %lld ms, down %lld ms", persist_names[persist].data(),
          static_cast<long long>(up_ms), static_cast<long long>(down_ms));
    if (!persist_[static_cast<std::size_t>(persist)].owner) {
        op_arm_cron(persist);
        check_invariants(false);
    }
    advance(up_ms);
    check_invariants(true);
    if (std::optional<std::size_t> owner = persist_[static_cast<std::size_t>(persist)].owner) {
        int slot = timers_[*owner].slot;
        if (slot >= 0 && occupied(slot) && serial_in(slot) == *owner) {
            destroy(slot, by_close);
            check_invariants(true);
        }
    }
    suspend(down_ms);
    check_invariants(live_cron());
    op_arm_cron(persist);
}

// A table mockit.timer must refuse, for one reason the input chooses: "bad argument #1", with
// the reason the reference gives, and nothing changes (check_invariants: stats().timers, and no
// new name in metrics()).
void harness::bad_options() {
    int fault = in_.ConsumeIntegralInRange(0, 31);
    int variant = in_.ConsumeIntegralInRange(0, 7);
    int top = lua_gettop(L_);
    push_module_function("timer");
    auto table = [&](const char* key, lua_Integer ms, bool fn) {
        lua_createtable(L_, 0, 4);
        if (key != nullptr) {
            lua_pushinteger(L_, ms);
            lua_setfield(L_, -2, key);
        }
        if (fn) {
            lua_pushcfunction(L_, never_called);
            lua_setfield(L_, -2, "fn");
        }
        if (variant % 2 == 1) {  // a valid name that must not reach metrics()
            lua_pushliteral(L_, "refused");
            lua_setfield(L_, -2, "name");
        }
    };
    auto set = [&](const char* key) { lua_setfield(L_, -2, key); };
    auto cron_table = [&](const char* expr) {
        table(nullptr, 0, true);
        lua_pushstring(L_, expr);
        set("cron");
    };
    std::string_view want;
    int nargs = 1;
    const char* call = "timer";
    switch (fault) {
        case 27: {  // a bad expression, or one that never runs: in timer{cron = ...} or cron()
            static constexpr std::pair<const char*, std::string_view> bad[] = {
                {"* * *", "(expected 5 or 6 fields, got 3)"},
                {"61 * * * *", "(minute: 61 is out of range 0-59)"},
                {"0 24 * * *", "(hour: 24 is out of range 0-23)"},
                {"*/0 * * * *", "(minute: step: */0 must be at least 1)"},
                {"0 0 * * FOO", "(day-of-week: unknown name 'FOO')"},
                {"0 0 30 2 *", "(the schedule has no run after now)"},
                {"0 0 31 4 *", "(the schedule has no run after now)"},
                {"1 2 3 4 5 6 7", "(expected 5 or 6 fields, got 7)"}};
            auto [expr, message] = bad[variant];
            want = message;
            if (in_.ConsumeBool()) {
                cron_table(expr);
            } else {
                lua_pop(L_, 1);
                push_module_function("cron");
                lua_pushstring(L_, expr);
                lua_pushcfunction(L_, never_called);
                nargs = 2;
                call = "cron";
            }
            break;
        }
        case 28:
            cron_table("0 0 * * *");
            lua_pushstring(L_, variant < 4 ? "Mars/Olympus" : "europe/berlin");
            set("tz");
            want = variant < 4 ? "(unknown time zone 'Mars/Olympus')"
                               : "(unknown time zone 'europe/berlin')";
            break;
        case 29:
            table(variant < 4 ? "every" : "after", 100, true);
            lua_pushliteral(L_, "UTC");
            set("tz");
            want = "('tz' applies to 'cron' timers only)";
            break;
        case 30:
            cron_table("* * * * *");
            lua_pushinteger(L_, 1);
            set("tz");
            want = "('tz' must be a string)";
            break;
        case 31:
            if (variant < 4) {  // an every timer's policy for a cron timer
                cron_table("* * * * *");
                lua_pushstring(L_, variant < 2 ? "burst" : "delay");
                want = R"(('missed' must be "once", "skip" or "all" for a cron timer))";
            } else {  // a cron timer's for an every timer
                table("every", 100, true);
                lua_pushstring(L_, variant < 6 ? "once" : "all");
                want = R"(('missed' must be "burst", "skip" or "delay"))";
            }
            set("missed");
            break;
        case 0:
            lua_pushinteger(L_, 100);
            want = "(table expected, got number)";
            break;
        case 1:
            table("every", 100, true);
            lua_pushinteger(L_, 100);
            set("evry");
            want = "(unknown key 'evry')";
            break;
        case 2:
            table("every", 100, true);
            lua_pushinteger(L_, 42);
            lua_rawseti(L_, -2, 1);
            want = "(unknown key (a number))";
            break;
        case 3:
            table("every", 100, true);
            lua_pushboolean(L_, 1);
            lua_pushinteger(L_, 1);
            lua_rawset(L_, -3);
            want = "(unknown key (a boolean))";
            break;
        case 4:
            table("every", 100, true);
            lua_pushinteger(L_, 5);
            set("after");
            want = "(give one of 'after', 'every' and 'cron', not more)";
            break;
        case 5:
            table(nullptr, 0, true);
            want = "(give 'after', 'every' or 'cron')";
            break;
        case 6:
            table("every", 10, false);
            want = "('fn' is missing)";
            break;
        case 7:
        case 8:
            table("every", 100, false);
            if (fault == 7) {
                lua_pushinteger(L_, 42);
            } else {
                lua_newtable(L_);  // not callable
            }
            set("fn");
            want = "('fn' must be a function)";
            break;
        case 9:
            table("after", 100, true);
            lua_pushliteral(L_, "x");
            set("args");
            want = "('args' must be a table)";
            break;
        case 10:
            table("after", 100, true);
            lua_createtable(L_, 0, 1);
            lua_pushinteger(L_, variant < 4 ? -1 : 65001);
            set("n");
            set("args");
            want = "('args' must hold 0 to 65000 arguments)";
            break;
        case 11:
        case 12:
            table("every", 100, true);
            if (fault == 11) {  // a cron timer's policy: not for an every timer
                lua_pushliteral(L_, "all");
                want = R"(('missed' must be "burst", "skip" or "delay"))";
            } else {  // no policy at all: the message lists both kinds'
                lua_pushboolean(L_, 1);
                want = R"(('missed' must be "burst", "skip" or "delay" (for a cron timer "once", )"
                       R"("skip" or "all")))";
            }
            set("missed");
            break;
        case 13:
            table("every", 100, true);
            lua_pushstring(L_, variant < 4 ? "never" : "Skip");
            set("overlap");
            want = R"(('overlap' must be "skip" or "allow"))";
            break;
        case 14:
        case 15:
            table(variant < 4 ? "every" : "after", 100, true);
            if (fault == 14) {
                lua_pushinteger(L_, variant % 4 < 2 ? -1 : max_delay + 1);
            } else {
                lua_pushnumber(L_, 1.5);
            }
            set("jitter");
            want = "('jitter' must be an integer from 0 to 1099511627776 ms)";
            break;
        case 16:
            table("every", 100, true);
            lua_pushinteger(L_, 100 + variant);
            set("jitter");
            want = "('jitter' must be shorter than the period ('every'))";
            break;
        case 17:
            table("every", variant < 4 ? 0 : -1, true);
            want = "('every' must be an integer from 1 to 1099511627776 ms)";
            break;
        case 18:
            table(nullptr, 0, true);
            if (variant < 3) {
                lua_pushinteger(L_, variant == 0 ? -5 : max_delay + 1);
            } else {
                lua_pushnumber(L_, variant < 6 ? 0.5 : std::numeric_limits<double>::quiet_NaN());
            }
            set("after");
            want = "('after' must be an integer from 0 to 1099511627776 ms)";
            break;
        case 19:
            table("every", 100, true);
            lua_pushinteger(L_, 5);
            set("name");
            want = "('name' must be a string)";
            break;
        case 20:
        case 21:
        case 22: {
            table("every", 100, true);
            // Empty, too long, control characters, and byte sequences that are not UTF-8: a
            // stray continuation, a lead byte cut short, an overlong form, a surrogate, a code
            // point past U+10FFFF.
            static constexpr std::string_view names[] = {
                {"a\nb", 3}, {"\x7f", 1},         {"tab\there", 8},    {"\x80", 1},
                {"\xc3", 1}, {"\xe0\x80\x80", 3}, {"\xed\xa0\x80", 3}, {"\xf4\x90\x80\x80", 4}};
            if (fault == 20) {
                lua_pushliteral(L_, "");
            } else if (fault == 21) {
                std::string long_name(129 + variant, 'n');
                lua_pushlstring(L_, long_name.data(), long_name.size());
            } else {
                lua_pushlstring(L_, names[variant].data(), names[variant].size());
            }
            set("name");
            want = "('name' must be 1 to 128 bytes of UTF-8 text without control characters)";
            break;
        }
        case 23:
            table("after", 100, true);
            lua_pushstring(L_, variant < 4 ? "skip" : "burst");
            set("missed");
            want = "('missed' applies to 'every' and 'cron' timers only)";
            break;
        case 24:
            table("after", 100, true);
            lua_pushstring(L_, variant < 4 ? "skip" : "allow");
            set("overlap");
            want = "('overlap' applies to 'every' and 'cron' timers only)";
            break;
        case 25:
            table("every", 100, true);
            lua_pushinteger(L_, 1);
            set("ref");
            want = "('ref' must be a boolean)";
            break;
        default:
            table(nullptr, 0, true);
            lua_pushinteger(L_, 5);
            set("cron");
            want = "('cron' must be a string)";
            break;
    }
    int status = lua_pcall(L_, nargs, 1, 0);
    if (status == LUA_OK)
        violation("timer{...}: bad options (fault %d.%d) accepted", fault, variant);
    const char* message = lua_tostring(L_, -1);
    char callee[16];  // 'timer' or 'cron', as Lua names it: 'mockit.timer' or 'timer'
    std::snprintf(callee, sizeof callee, "%s' (", call);
    if (message == nullptr || !std::strstr(message, "bad argument #1 to ") ||
        !std::strstr(message, callee) ||
        std::string_view{message}.find(want) == std::string_view::npos)
        violation("timer{...} with bad options (fault %d.%d): '%s', want '%.*s'", fault, variant,
                  message ? message : "(not a string)", static_cast<int>(want.size()), want.data());
    trace("timer{...} refused bad options: %s", message);
    pop_to(top);
}

// splitmix64, as the module draws jitter: each draw is the next value modulo the jitter.
std::int64_t harness::draw_jitter(std::int64_t jitter_ms) {
    if (jitter_ms <= 0) return 0;
    std::uint64_t z = (rng_ += 0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return static_cast<std::int64_t>((z ^ (z >> 31)) % static_cast<std::uint64_t>(jitter_ms));
}

// A timer with options armed (or reset) now, under simulated time: an every timer's first grid
// point is the next whole multiple of its period since the epoch on the wall clock, an after
// timer's its delay from now; a jitter is drawn for it.
void harness::plan_options(timer_model& t) {
    if (t.cron >= 0) {  // a cron timer's first run: the schedule's first after now (whole ms)
        std::optional<std::int64_t> first = cron_after(t, wall_ms());
        if (!first) violation("a cron schedule of the model has no run after now");
        cron_plan(t, first, sim_now_);
        if (t.persist < 0) return;
        // persist: the runs due after the one its state file holds, and by now, were passed over
        // while no timer kept it. once and all run at once (no jitter: t:due() and t:missed() tell
        // of them then), skip counts them as missed and keeps the first run after now.
        std::optional<std::int64_t> last = persist_[static_cast<std::size_t>(t.persist)].last_ms;
        std::optional<std::int64_t> passed = last ? cron_after(t, *last) : std::nullopt;
        std::int64_t wall = wall_ms();
        if (!passed || *passed > wall) return;
        if (t.missed != missed_policy::skip) {
            t.cron_next_ms = *passed;
            t.cron_deadline = sim_now_;
        } else {
            t.cron_next_ms = *passed;
            cron_due d = cron_due_by(t, wall);
            t.cron_next_ms = *first;
            t.skipped += d.count;
            t.missed_total += d.count;
            if (t.name >= 0) name_missed_[static_cast<std::size_t>(t.name)] += d.count;
        }
        trace("  persist '%.*s': last run %lld ms, passed over from %lld ms; run at %lld ms",
              static_cast<int>(persist_names[t.persist].size()), persist_names[t.persist].data(),
              static_cast<long long>(*last), static_cast<long long>(*passed),
              static_cast<long long>(t.cron_next_ms));
        return;
    }
    std::int64_t now_ns = std::chrono::nanoseconds{sim_now_.time_since_epoch()}.count();
    std::int64_t wall_ns =
        wall_base_ns_ + std::chrono::nanoseconds{sim_now_ - wall_base_at_}.count();
    t.nominal = sim_now_ + milliseconds{t.delay_ms};
    if (t.repeats) {
        std::int64_t grid_ms = (wall_ns / 1'000'000 / t.delay_ms + 1) * t.delay_ms;
        t.nominal = sim_now_ + std::chrono::nanoseconds{grid_ms * 1'000'000 - wall_ns};
    }
    t.wall_offset_ns = wall_ns - now_ns;
    t.arm_wall_ms = wall_ns / 1'000'000;
    t.wall_epoch = wall_epoch_;
    t.on_grid = true;
    t.jitter_now = milliseconds{draw_jitter(t.jitter_ms)};
}

// The engine takes the timer's next expiry at `start`, whether it runs or not: skip and delay
// fold every grid point due by then into it; the next is one period on (delay: from `start`),
// with a new jitter.
harness::taken harness::take_expiry(timer_model& t, steady::time_point start) {
    taken k{t.nominal, t.jitter_now, 0};
    if (t.cron >= 0) {
        // The runs due by the wall clock's now: one run, the latest of them (t:due(), the others
        // folded: t:missed()); with missed="all" the first, the others each after it at once,
        // unless more than cron_max_counted are due (then it folds as "once" does, and
        // t:missed() says cron_max_counted). The next is the schedule's first after the due one.
        std::int64_t wall_ns = wall_ns_at(start), wall = wall_ns / 1'000'000;
        if (t.cron_next_ms > wall)
            violation("a cron timer's run at %lld ms is taken at %lld ms, before it is due",
                      static_cast<long long>(t.cron_next_ms), static_cast<long long>(wall));
        cron_due d = cron_due_by(t, wall);
        bool each = t.missed == missed_policy::all && d.counted_all;
        k.due_ms = each ? t.cron_next_ms : d.latest;
        k.folded = each ? 0 : d.counted_all ? d.count - 1 : cron_max_counted;
        k.late = std::max(std::chrono::nanoseconds{wall_ns - k.due_ms * 1'000'000} - t.jitter_now,
                          std::chrono::nanoseconds{0});
        cron_plan(t, cron_after(t, k.due_ms), start);
        return k;
    }
    if (!t.repeats) return k;
    milliseconds period{t.delay_ms};
    if (t.missed != missed_policy::burst && start - k.nominal >= period)
        k.folded = (start - k.nominal) / period;
    k.nominal += period * k.folded;
    bool restart = t.missed == missed_policy::delay && k.folded > 0;
    t.nominal = restart ? start + period : k.nominal + period;
    if (restart) t.on_grid = false;
    t.jitter_now = milliseconds{draw_jitter(t.jitter_ms)};
    return k;
}

harness::cron_due harness::cron_due_by(const timer_model& t, std::int64_t wall) const {
    cron_due d{1, true, t.cron_next_ms};
    for (;;) {
        std::optional<std::int64_t> next = cron_after(t, d.latest);
        if (!next || *next > wall) return d;
        if (d.count == cron_max_counted) {
            // The latest run at or before `wall`: bisection between d.latest (a run after it is
            // due) and wall (none after it is), down to a millisecond.
            std::int64_t low = d.latest, high = wall;
            while (high - low > 1) {
                std::int64_t middle = low + (high - low) / 2;
                std::optional<std::int64_t> after = cron_after(t, middle);
                (after && *after <= wall ? low : high) = middle;
            }
            d.counted_all = false;
            d.latest = *cron_after(t, low);
            return d;
        }
        d.latest = *next;
        ++d.count;
    }
}

// The run at `at` (ms on the wall clock) planned `now`: queued its distance from the wall clock's
// now ahead (at once if that has passed), its new jitter after that; none: the timer is disarmed.
void harness::cron_plan(timer_model& t, std::optional<std::int64_t> at, steady::time_point now) {
    if (!at) {
        t.live = false;
        return;
    }
    t.cron_next_ms = *at;
    t.jitter_now = milliseconds{draw_jitter(t.jitter_ms)};
    std::chrono::nanoseconds until{*at * 1'000'000 - wall_ns_at(now)};
    t.cron_deadline = (until > until.zero() ? now + until : now) + t.jitter_now;
}

// After set_wall() or suspend(): a run still ahead on the wall clock is queued at its new
// distance (its jitter kept); one passed over runs at once (once, all: t:due() and t:missed()
// tell of the others then), or (skip) counts as missed with every other passed over, and the
// timer goes on with the schedule's first run after now.
void harness::replan_cron() {
    for (std::size_t i = 0; i < timers_.size(); ++i) {
        timer_model& t = timers_[i];
        if (!t.live || t.cron < 0) continue;
        std::int64_t wall_ns = wall_ns_at(sim_now_), wall = wall_ns / 1'000'000;
        if (t.cron_next_ms > wall) {
            t.cron_deadline = sim_now_ +
                              std::chrono::nanoseconds{t.cron_next_ms * 1'000'000 - wall_ns} +
                              t.jitter_now;
        } else if (t.missed != missed_policy::skip) {
            t.cron_deadline = sim_now_;
        } else {
            cron_due d = cron_due_by(t, wall);
            t.skipped += d.count;
            t.missed_total += d.count;
            if (t.name >= 0) name_missed_[static_cast<std::size_t>(t.name)] += d.count;
            cron_plan(t, cron_after(t, d.latest), sim_now_);
        }
        trace("  cron #%zu replanned: run at %lld ms, due at %lld ns%s", i,
              static_cast<long long>(t.cron_next_ms), ns_of(t.cron_deadline),
              t.live ? "" : " (none left: disarmed)");
    }
}

// overlap="skip" and its last run still paused: its expiries are taken and left unrun. Only an
// every timer's: an after timer re-armed while its run is paused runs, as a oneoff would.
bool harness::going(const timer_model& t) const {
    return t.options && t.repeats && t.live && !t.overlap_allow && t.run_task &&
           task_live(tasks_[*t.run_task]);
}

// Under simulated time, the expiries left unrun that the engine took, in queue order, while
// `before(key)` says they came before what is seen next: no callback tells of them.
template <class Before>
void harness::catch_up(Before before) {
    if (!virtual_) return;
    for (;;) {
        std::optional<std::size_t> first;
        order_key key{};
        for (std::size_t i = 0; i < timers_.size(); ++i) {
            const timer_model& t = timers_[i];
            if (!going(t)) continue;
            order_key k{next_expiry(t), t.arming};
            if (!first || k < key) {
                first = i;
                key = k;
            }
        }
        if (!first || !before(key, *first)) return;
        timer_model& t = timers_[*first];
        steady::time_point start = std::max(key.first, sim_now_);
        sim_now_ = start;  // the loop went there to take it, if it was not there yet
        last_run_ = std::max(last_run_, key);
        taken k = take_expiry(t, start);
        t.skipped += 1 + k.folded;
        t.missed_total += 1 + k.folded;
        if (t.name >= 0) name_missed_[static_cast<std::size_t>(t.name)] += 1 + k.folded;
        if (!t.repeats) t.live = false;
        trace("  an expiry of #%zu due at %lld ns left unrun (its last run is paused): %lld missed",
              *first, ns_of(key.first), static_cast<long long>(t.missed_total));
    }
}

// t:stats().missed of live timer `serial`, whose handle its pin keeps in "handles".
std::int64_t harness::engine_missed(std::size_t serial) {
    int top = lua_gettop(L_);
    push_kept("handles");
    if (lua_rawgeti(L_, -1, static_cast<lua_Integer>(serial) + 1) != LUA_TUSERDATA)
        violation("timer %zu: the handle of a live timer is gone", serial);
    lua_getfield(L_, -1, "stats");
    lua_pushvalue(L_, -2);
    lua_call(L_, 1, 1);
    lua_getfield(L_, -1, "missed");
    std::int64_t missed = lua_tointeger(L_, -1);
    pop_to(top);
    return missed;
}

// Before the callback or wake-up due at `key` runs.
void harness::catch_up_before(order_key key) {
    catch_up([&](order_key k, std::size_t) { return k < key; });
}

// A drain that began at `horizon`, when `mark` armings were made, ran out of what was due.
void harness::catch_up_drain(steady::time_point horizon, std::uint64_t mark) {
    catch_up([&](order_key k, std::size_t) {
        return k.first < horizon || (k.first == horizon && k.second <= mark);
    });
}

// run() ended on its own: it took every expiry due, and went on while a referenced timer lived.
void harness::catch_up_run_end() {
    catch_up([&](order_key k, std::size_t) {
        if (k.first <= sim_now_) return true;
        return std::any_of(timers_.begin(), timers_.end(),
                           [&](const timer_model& t) { return going(t) && t.referenced; });
    });
}

// A run of timer `serial` (its handle at `handle` of L) starts at `at`: what the model says it
// must be, against the engine's clock; the model moves on as the engine does.
void harness::run_options(std::size_t serial, lua_State* L, int handle, steady::time_point at) {
    timer_model& t = timers_[serial];
    ++t.runs;
    t.ran = true;
    if (t.name >= 0) ++name_runs_[static_cast<std::size_t>(t.name)];
    if (!virtual_ && t.cron >= 0) {
        // Never early: t:due() is a run of the schedule, and not after the wall clock's now.
        lua_getfield(L, handle, "due");
        lua_pushvalue(L, handle);
        lua_call(L, 1, 1);
        std::int64_t due = lua_tointeger(L, -1);
        lua_pop(L, 1);
        lua_Integer wall = call_integer("mstimestamp");
        if (due > wall || cron_after(t, due - 1) != due)
            violation("timer %zu: a cron run due at %lld ms at %lld ms", serial,
                      static_cast<long long>(due), static_cast<long long>(wall));
        return;
    }
    if (!virtual_) {
        // Never early: the k-th expiry taken since its arming (runs and missed ones alike, as
        // t:stats() counts them with this run) is no earlier than (k - 1) periods after it.
        lua_getfield(L, handle, "stats");
        lua_pushvalue(L, handle);
        lua_call(L, 1, 1);
        lua_getfield(L, -1, "runs");
        lua_getfield(L, -2, "missed");
        std::int64_t runs = lua_tointeger(L, -2), missed = lua_tointeger(L, -1);
        lua_pop(L, 3);
        std::int64_t k = runs + missed - t.taken_base;
        auto elapsed = at - t.armed_at;
        if (k < 1 || (t.repeats && elapsed < milliseconds{t.delay_ms} * (k - 1)) ||
            (!t.repeats && elapsed < milliseconds{t.delay_ms}))
            violation("timer %zu: expiry %lld taken after only %lld us (%s %lld ms)", serial,
                      static_cast<long long>(k),
                      static_cast<long long>(
                          std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count()),
                      t.repeats ? "every" : "after", static_cast<long long>(t.delay_ms));
        return;
    }
    order_key key{next_expiry(t), t.arming};
    catch_up_before(key);
    if (going(t))
        violation("timer %zu ran while its last run is paused (overlap=\"skip\")", serial);
    if (at != std::max(key.first, skip_end_) || at < sim_now_)
        violation(
            "timer %zu: run %lld at %lld ns, due at %lld ns (the clock was at %lld ns and last "
            "jumped to %lld ns)",
            serial, static_cast<long long>(t.runs), ns_of(at), ns_of(key.first), ns_of(sim_now_),
            ns_of(skip_end_));
    if (key > last_run_) {
        last_run_ = key;
    } else if (t.cron >= 0 && key.first >= last_run_.first) {
        // A replan moved it to now, keeping its place among the timers armed then: it may come
        // after a later-armed timer that ran at this very time before the replan.
    } else {
        violation(
            "timer %zu: run due at %lld ns (arming #%llu), after one due at %lld ns (arming "
            "#%llu)",
            serial, ns_of(key.first), static_cast<unsigned long long>(key.second),
            ns_of(last_run_.first), static_cast<unsigned long long>(last_run_.second));
    }
    sim_now_ = at;
    lua_Integer wall = call_integer("mstimestamp");
    if (wall != wall_ms())
        violation("timer %zu: mstimestamp() is %lld, want %lld", serial,
                  static_cast<long long>(wall), static_cast<long long>(wall_ms()));
    bool on_grid = t.on_grid;
    taken k = take_expiry(t, at);
    t.missed_now = k.folded + t.skipped;
    t.skipped = 0;
    t.missed_total += k.folded;
    if (t.name >= 0) name_missed_[static_cast<std::size_t>(t.name)] += k.folded;
    t.due_ms = (std::chrono::nanoseconds{k.nominal.time_since_epoch()}.count() + t.wall_offset_ns) /
               1'000'000;
    auto late = at - (k.nominal + k.jitter);
    if (t.cron >= 0) {
        t.due_ms = k.due_ms;
        late = k.late;
        // A run that starts is kept in its state file before its callback runs.
        if (t.persist >= 0) persist_[static_cast<std::size_t>(t.persist)].last_ms = t.due_ms;
        // What the reference says of a cron run's due time: a run of the schedule, not after
        // now; on time (not folded, nor moved by a replan), it starts its jitter after it.
        if (cron_after(t, t.due_ms - 1) != t.due_ms || t.due_ms > wall)
            violation("timer %zu: the model's cron due time %lld is off the schedule or after %lld",
                      serial, static_cast<long long>(t.due_ms), static_cast<long long>(wall));
    }
    t.late_max_us = std::max<std::int64_t>(
        t.late_max_us, std::chrono::duration_cast<std::chrono::microseconds>(late).count());
    // What the reference says of due times, which the model follows: on the grid (every), the
    // delay after arming (after), on the wall clock; a run on time starts its jitter after it.
    if (t.cron < 0 && t.repeats && on_grid && t.due_ms % t.delay_ms != 0)
        violation("timer %zu: the model's due time %lld is off the grid of %lld ms", serial,
                  static_cast<long long>(t.due_ms), static_cast<long long>(t.delay_ms));
    if (!t.repeats && t.due_ms != t.arm_wall_ms + t.delay_ms)
        violation("timer %zu: the model's due time %lld is not %lld + %lld", serial,
                  static_cast<long long>(t.due_ms), static_cast<long long>(t.arm_wall_ms),
                  static_cast<long long>(t.delay_ms));
    if (t.cron < 0 && t.wall_epoch == wall_epoch_ && k.folded == 0 && at == key.first &&
        (wall - t.due_ms < 0 || wall - t.due_ms >= std::max<std::int64_t>(1, t.jitter_ms)))
        violation("timer %zu: ran at %lld ms, due %lld ms, jitter %lld ms", serial,
                  static_cast<long long>(wall), static_cast<long long>(t.due_ms),
                  static_cast<long long>(t.jitter_ms));
}

// t:due(), t:missed() and t:stats() of timer `serial`, its handle at `handle` of L: nil before
// the first run; runs as counted (the current one included); under simulated time, all exact.
void harness::check_told(std::size_t serial, lua_State* L, int handle, bool in_run) {
    const timer_model& t = timers_[serial];
    int top = lua_gettop(L);
    for (const char* method : {"due", "missed", "stats"}) {
        lua_getfield(L, handle, method);
        lua_pushvalue(L, handle);
        lua_call(L, 1, 1);
    }
    auto told = [&](int index, std::int64_t want, const char* what) {
        if (!t.ran) {
            if (!lua_isnil(L, index))
                violation("timer %zu: %s() is not nil before its first run", serial, what);
            return;
        }
        int isnum = 0;
        lua_Integer n = lua_tointegerx(L, index, &isnum);
        if (!isnum || n < 0 || (virtual_ && n != want))
            violation("timer %zu: %s() is %s, want %lld%s", serial, what,
                      luaL_tolstring(L, index, nullptr), static_cast<long long>(want),
                      in_run ? " (in its run)" : "");
    };
    told(top + 1, t.due_ms, "due");
    told(top + 2, t.missed_now, "missed");
    if (!lua_istable(L, top + 3)) violation("timer %zu: stats() is not a table", serial);
    auto field = [&](const char* name) {
        lua_getfield(L, top + 3, name);
        int isnum = 0;
        lua_Integer n = lua_tointegerx(L, -1, &isnum);
        if (!isnum || n < 0) violation("timer %zu: stats().%s is not a count", serial, name);
        lua_pop(L, 1);
        return static_cast<std::int64_t>(n);
    };
    std::int64_t runs = field("runs"), missed = field("missed"), p50 = field("late_p50_us"),
                 p99 = field("late_p99_us"), max = field("late_max_us");
    field("busy_us");
    if (runs != t.runs || p50 > p99 || p99 > max ||
        (virtual_ && (missed != t.missed_total || max != t.late_max_us)))
        violation(
            "timer %zu: stats() runs %lld missed %lld late p50/p99/max %lld/%lld/%lld us, "
            "want runs %lld missed %lld late max %lld us",
            serial, static_cast<long long>(runs), static_cast<long long>(missed),
            static_cast<long long>(p50), static_cast<long long>(p99), static_cast<long long>(max),
            static_cast<long long>(t.runs), static_cast<long long>(t.missed_total),
            static_cast<long long>(t.late_max_us));
    lua_settop(L, top);
}

// mockit.metrics(): every timer callback counted, the loop's times sane (under simulated time
// they add up to the time since it started), and per name the model's sums, gone timers' too.
void harness::check_metrics() {
    int top = lua_gettop(L_);
    push_module_function("metrics");
    lua_call(L_, 0, 1);
    int m = lua_gettop(L_);
    lua_getfield(L_, m, "loop");
    int loop = lua_gettop(L_);
    auto count = [&](int table, const char* name) {
        lua_getfield(L_, table, name);
        int isnum = 0;
        lua_Integer n = lua_tointegerx(L_, -1, &isnum);
        if (!isnum || n < 0) violation("metrics(): %s is not a count", name);
        lua_pop(L_, 1);
        return static_cast<std::int64_t>(n);
    };
    std::int64_t callbacks = count(loop, "callbacks");
    if (callbacks != timer_callbacks_)
        violation("metrics().loop.callbacks is %lld, %lld timer callbacks ran",
                  static_cast<long long>(callbacks), static_cast<long long>(timer_callbacks_));
    std::int64_t busy = count(loop, "busy_us"), idle = count(loop, "idle_us");
    lua_getfield(L_, loop, "utilization");
    double utilization = lua_tonumber(L_, -1);
    if (!(utilization >= 0 && utilization <= 1))
        violation("metrics().loop.utilization is %g", utilization);
    if (virtual_) {
        std::int64_t elapsed =
            std::chrono::duration_cast<std::chrono::microseconds>(sim_now_ - virtual_start_)
                .count();
        if (busy + idle > elapsed || busy + idle < elapsed - 1)
            violation("metrics().loop: busy %lld us + idle %lld us, %lld us since it started",
                      static_cast<long long>(busy), static_cast<long long>(idle),
                      static_cast<long long>(elapsed));
    }
    lua_getfield(L_, m, "timers");
    int named = lua_gettop(L_);
    int names = 0;
    lua_pushnil(L_);
    while (lua_next(L_, named) != 0) {
        std::size_t length = 0;
        const char* key = lua_type(L_, -2) == LUA_TSTRING ? lua_tolstring(L_, -2, &length) : "";
        auto it = std::find(std::begin(timer_names), std::end(timer_names),
                            std::string_view{key, length});
        if (it == std::end(timer_names) || !name_used_[static_cast<std::size_t>(it - timer_names)])
            violation("metrics().timers has '%s', which no timer had", key);
        auto i = static_cast<std::size_t>(it - timer_names);
        int entry = lua_gettop(L_);
        std::int64_t runs = count(entry, "runs"), missed = count(entry, "missed");
        if (runs != name_runs_[i] || (virtual_ && missed != name_missed_[i]))
            violation("metrics().timers['%s']: runs %lld missed %lld, want %lld and %lld", key,
                      static_cast<long long>(runs), static_cast<long long>(missed),
                      static_cast<long long>(name_runs_[i]),
                      static_cast<long long>(name_missed_[i]));
        if (count(entry, "late_p50_us") > count(entry, "late_p99_us") ||
            count(entry, "late_p99_us") > count(entry, "late_max_us"))
            violation("metrics().timers['%s']: lateness quantiles out of order", key);
        count(entry, "busy_us");
        ++names;
        lua_pop(L_, 1);
    }
    if (names != std::count(name_used_.begin(), name_used_.end(), true))
        violation("metrics().timers has %d names, %lld were used", names,
                  static_cast<long long>(std::count(name_used_.begin(), name_used_.end(), true)));
    pop_to(top);
}

// Timer methods -----------------------------------------------------------------------------

void harness::destroy(int slot, bool by_close) {
    if (!occupied(slot)) return;
    int top = lua_gettop(L_);
    timer_model& t = timers_[serial_in(slot)];
    push_kept("slots");
    lua_rawgeti(L_, -1, slot + 1);
    if (by_close) {
        push_kept("close_chunk");
        lua_pushvalue(L_, -2);
    } else {
        lua_getfield(L_, -1, "destroy");
        lua_pushvalue(L_, -2);
    }
    if (lua_pcall(L_, 1, 1, 0) != LUA_OK) violation("destroy: %s", lua_tostring(L_, -1));
    if (!lua_isnil(L_, -1)) violation("destroy() returned a %s", luaL_typename(L_, -1));
    trace("destroy #%zu", serial_in(slot));
    t.destroyed = true;
    // Its persist name is free again (a second destroy of a destroyed timer frees nothing).
    if (t.persist >= 0 && persist_[static_cast<std::size_t>(t.persist)].owner == serial_in(slot))
        persist_[static_cast<std::size_t>(t.persist)].owner.reset();
    t.live = false;
    pop_to(top);
}

void harness::reset(int slot, std::optional<std::int64_t> delay) {
    if (!occupied(slot)) return;
    int top = lua_gettop(L_);
    timer_model& t = timers_[serial_in(slot)];
    push_kept("slots");
    lua_rawgeti(L_, -1, slot + 1);
    int handle = lua_gettop(L_);
    lua_getfield(L_, handle, "reset");
    lua_pushvalue(L_, handle);
    if (delay) lua_pushinteger(L_, *delay);
    steady::time_point before = now();
    int status = lua_pcall(L_, delay ? 2 : 1, 1, 0);
    if (t.destroyed) {
        if (status == LUA_OK || !std::strstr(lua_tostring(L_, -1), "destroyed"))
            violation("reset() of a destroyed timer did not raise 'destroyed'");
        return pop_to(top);
    }
    if (delay && t.cron >= 0) {
        expect_error(status, "a cron timer has no delay (call reset() alone)", "reset");
        return pop_to(top);
    }
    // A jittered every timer's period must stay longer than its jitter (0 ms is 1 ms).
    if (delay && t.options && t.repeats && t.jitter_ms >= std::max<std::int64_t>(*delay, 1)) {
        expect_error(status, "interval must be longer than the timer's jitter", "reset");
        return pop_to(top);
    }
    if (status != LUA_OK) violation("reset: %s", lua_tostring(L_, -1));
    if (!lua_rawequal(L_, -1, handle)) violation("reset() did not return the timer");
    trace("reset #%zu (%lld ms)", serial_in(slot), static_cast<long long>(delay.value_or(-1)));
    if (delay) t.delay_ms = t.repeats ? std::max<std::int64_t>(*delay, 1) : *delay;
    t.armed_at = before;
    t.arming = ++armings_;
    t.fires = 0;
    t.live = true;
    if (t.options && virtual_) {
        plan_options(t);  // a new grid from now, and a jitter drawn for it
    } else if (t.options) {
        lua_getfield(L_, handle, "stats");
        lua_pushvalue(L_, handle);
        lua_call(L_, 1, 1);
        lua_getfield(L_, -1, "runs");
        lua_getfield(L_, -2, "missed");
        t.taken_base = lua_tointeger(L_, -2) + lua_tointeger(L_, -1);
    }
    pop_to(top);
}

void harness::set_ref(int slot, bool referenced) {
    if (!occupied(slot)) return;
    int top = lua_gettop(L_);
    timer_model& t = timers_[serial_in(slot)];
    push_kept("slots");
    lua_rawgeti(L_, -1, slot + 1);
    lua_getfield(L_, -1, referenced ? "ref" : "unref");
    lua_pushvalue(L_, -2);
    int status = lua_pcall(L_, 1, 1, 0);
    if (t.destroyed) {
        if (status == LUA_OK) violation("ref/unref of a destroyed timer did not raise");
    } else if (status != LUA_OK) {
        violation("ref/unref: %s", lua_tostring(L_, -1));
    } else {
        t.referenced = referenced;
    }
    pop_to(top);
}

// The loop ----------------------------------------------------------------------------------

void harness::stop(lua_Integer code) {
    int top = lua_gettop(L_);
    push_module_function("stop");
    lua_pushinteger(L_, code);
    if (lua_pcall(L_, 1, 0, 0) != LUA_OK) violation("stop: %s", lua_tostring(L_, -1));
    stop_requested_ = true;
    stop_code_ = code;
    for (drain_frame& f : frames_)
        f.stop_seen = true;
    pop_to(top);
}

// process_events([max]); returns its status (an error has been delivered).
int harness::drain(std::optional<std::int64_t> max) {
    int top = lua_gettop(L_);
    int depth = depth_;
    frames_.push_back({stop_requested_, false, max.value_or(no_max)});
    steady::time_point horizon = sim_now_;
    std::uint64_t mark = armings_;  // as the module's: the arrivals' wake-ups come after
    if (max.value_or(1) > 0) dispatch_arrivals(now(), max.value_or(no_max));
    push_module_function("process_events");
    if (max) lua_pushinteger(L_, *max);
    int status = lua_pcall(L_, max ? 1 : 0, 1, 0);
    depth_ = depth;  // a callback's error skipped its own bookkeeping
    drain_frame frame = frames_.back();
    frames_.pop_back();
    // It ran out of what was due (not stopped by max, a stop or an error): it took the expiries
    // left unrun after its last callback too.
    if (status == LUA_OK && frame.ran < frame.max && (frame.stopped_before || !frame.stop_seen))
        catch_up_drain(horizon, mark);
    trace("process_events(%lld): %s after %lld callbacks", static_cast<long long>(frame.max),
          status == LUA_OK ? "returned" : "raised", static_cast<long long>(frame.ran));
    if (status == LUA_OK) {
        lua_Integer n = lua_tointeger(L_, -1);
        if (n != frame.ran)
            violation("process_events() returned %lld, %lld callbacks ran",
                      static_cast<long long>(n), static_cast<long long>(frame.ran));
    } else {
        deliver_caught(lua_tostring(L_, -1));
    }
    pop_to(top);
    return status;
}

void harness::run_loop() {
    int top = lua_gettop(L_);
    bool stop_before = stop_requested_;
    frames_.push_back({false, stop_before, no_max, 0, frame_kind::run});
    if (!stop_before) dispatch_arrivals(now(), no_max);  // its first turn's drain takes them
    loop_started_ = steady::now();
    loop_callbacks_ = 0;
    push_module_function("run");
    int depth = depth_;
    int status = lua_pcall(L_, 0, 1, 0);
    depth_ = depth;
    frames_.pop_back();
    blocked_ += steady::now() - loop_started_;
    if (status == LUA_OK && !stop_requested_) catch_up_run_end();
    if (status == LUA_OK) {
        lua_Integer code = lua_tointeger(L_, -1);
        lua_Integer want = stop_requested_ ? stop_code_ : 0;
        if (code != want)
            violation("run() returned %lld, want %lld", static_cast<long long>(code),
                      static_cast<long long>(want));
        if (!stop_requested_) {
            pop_to(top);
            push_module_function("stats");
            lua_call(L_, 0, 1);
            lua_getfield(L_, -1, "referenced");
            if (lua_tointeger(L_, -1) != 0)
                violation("run() ended on its own with a referenced timer alive");
        }
    } else if (const char* message = lua_tostring(L_, -1);
               virtual_ && message != nullptr && std::strstr(message, end_of_time.data())) {
        // Its wait() found nothing due and the next deadline past the end of simulated time.
        trace("run() raised the end of simulated time");
        catch_up([&](order_key k, std::size_t) { return k.first <= virtual_end_; });
        std::optional<steady::time_point> next = next_due();
        if (owed_at(sim_now_).callbacks != 0 || !next || *next <= virtual_end_)
            violation("run() raised the end of simulated time with a deadline before it");
    } else {
        deliver_caught(message);
    }
    stop_requested_ = false;
    stop_told_ = false;
    pop_to(top);
}

// wait() once a stop is asked for, with its status and result on the stack: 0 the first time,
// the stop raised after that.
void harness::check_wait_when_stopping(int status) {
    if (!stop_told_) {
        if (status != LUA_OK || lua_tointeger(L_, -1) != 0)
            violation("the first wait() after stop() did not return 0");
        stop_told_ = true;
        return;
    }
    if (status == LUA_OK) violation("a second wait() after stop() returned");
    std::optional<mockit::lua::raised_stop> stop = mockit::lua::stop_of(L_, -1);
    if (!stop || stop->exit_code != stop_code_)
        violation("a second wait() after stop(%lld) raised something else",
                  static_cast<long long>(stop_code_));
}

std::size_t harness::wait(std::optional<std::int64_t> timeout) {
    int top = lua_gettop(L_);
    auto before = static_cast<std::size_t>(call_integer("pending"));
    // Simulated time: with nothing due, the clock goes to the next deadline or to the timeout,
    // whichever comes first (the callers make sure there is one); with something due, nowhere.
    steady::time_point target = sim_now_;
    if (virtual_ && before == 0 && !stop_requested_) {
        std::optional<steady::time_point> next = next_due();
        if (timeout) {
            target += milliseconds{*timeout};
            if (next && *next < target) target = *next;
        } else if (next) {
            target = *next;
        } else {
            violation("wait() without a timeout and nothing to wait for");
        }
    }
    push_module_function("wait");
    if (timeout) lua_pushinteger(L_, *timeout);
    steady::time_point start = steady::now();
    int status = lua_pcall(L_, timeout ? 1 : 0, 1, 0);
    blocked_ += steady::now() - start;
    if (stop_requested_) {
        check_wait_when_stopping(status);
        pop_to(top);
        return 0;
    }
    if (virtual_ && target > virtual_end_) {
        expect_error(status, end_of_time, "wait");
        pop_to(top);
        return 0;
    }
    if (status != LUA_OK) violation("wait: %s", lua_tostring(L_, -1));
    auto n = static_cast<std::size_t>(lua_tointeger(L_, -1));
    if (n < before) violation("wait() returned %zu with %zu callbacks pending before", n, before);
    auto after = static_cast<std::size_t>(call_integer("pending"));
    if (after < n) violation("pending() is %zu just after wait() returned %zu", after, n);
    if (virtual_) {
        trace("wait(%lld): %zu, the clock moved %lld ms",
              static_cast<long long>(timeout.value_or(-1)), n,
              static_cast<long long>((target - sim_now_) / milliseconds{1}));
        sim_now_ = target;
        if (static_cast<std::int64_t>(n) != owed_at(sim_now_).callbacks)
            violation("wait() returned %zu, %lld callbacks are due", n,
                      static_cast<long long>(owed_at(sim_now_).callbacks));
    }
    pop_to(top);
    return n;
}

// wait() with no timeout, when a live one-off must end it. Any signal handler that runs in this
// thread ends it early too, as EINTR does (libFuzzer's SIGALRM every few seconds): only three
// empty returns in a row count as a wait that nothing ended. Simulated time never waits: wait()
// checks where the clock goes.
void harness::wait_unbounded() {
    if (virtual_) {
        wait(std::nullopt);
        return;
    }
    for (int attempt = 0; attempt < 3; ++attempt) {
        if (wait(std::nullopt) > 0 || stop_requested_) return;
    }
    violation("wait() without a timeout keeps returning 0 with a one-off live");
}

// Under simulated time, sleep() moves the clock at once, past whatever falls due meanwhile: that
// runs later, at the time the clock jumped to.
void harness::sleep(std::int64_t ms, bool resume) {
    int top = lua_gettop(L_);
    if (virtual_) ms = bounded_move(ms);
    bool too_far = virtual_ && past_end(ms);
    push_module_function("sleep");
    lua_pushinteger(L_, ms);
    lua_pushboolean(L_, resume);
    steady::time_point start = steady::now();
    int status = lua_pcall(L_, 2, 2, 0);
    auto slept = steady::now() - start;
    blocked_ += slept;
    if (too_far) {
        expect_error(status, end_of_time, "sleep");
        return pop_to(top);
    }
    if (status != LUA_OK) violation("sleep: %s", lua_tostring(L_, -1));
    lua_Integer err = lua_tointeger(L_, -2), left = lua_tointeger(L_, -1);
    if (err == 0) {
        if (left != 0) violation("sleep() returned 0, %lld", static_cast<long long>(left));
        if (virtual_) {
            sim_now_ += milliseconds{ms};
            if (ms > 0) skip_end_ = sim_now_;
        } else if (slept < milliseconds{ms}) {
            violation("sleep(%lld) returned early", static_cast<long long>(ms));
        }
    } else if (virtual_ || err != EINTR || resume || left < 0 || left > ms) {
        violation("sleep(%lld, %d) returned %lld, %lld", static_cast<long long>(ms), resume,
                  static_cast<long long>(err), static_cast<long long>(left));
    }
    pop_to(top);
}

// Simulated time ----------------------------------------------------------------------------

// mockit.clock.advance(ms): every callback due by then runs at its due time (timer_fired checks
// it), and it returns how many ran. The real clock refuses.
void harness::advance(std::int64_t ms) {
    int top = lua_gettop(L_);
    if (virtual_) ms = bounded_move(ms);
    push_module_function("clock.advance");
    lua_pushinteger(L_, ms);
    if (!virtual_ || past_end(ms)) {
        expect_error(lua_pcall(L_, 1, 1, 0), virtual_ ? end_of_time : "the clock is real",
                     "clock.advance");
        return pop_to(top);
    }
    steady::time_point until = sim_now_ + milliseconds{ms};
    if (loop_kind() == frame_kind::drain) {
        loop_started_ = steady::now();
        loop_callbacks_ = 0;
    }
    frames_.push_back({stop_requested_, false, no_max, 0, frame_kind::advance});
    // A stop asked for before: it runs what is due at the first deadline, then ends there.
    bool stop_before = stop_requested_;
    std::optional<steady::time_point> first_due = next_due();
    steady::time_point start_now = sim_now_;
    std::uint64_t mark = armings_;
    // Its first drain, at the first deadline in the window, if any, takes the signals' arrivals.
    if (first_due && *first_due <= until)
        dispatch_arrivals(std::max(*first_due, start_now), no_max);
    int depth = depth_;
    int status = lua_pcall(L_, 1, 1, 0);
    depth_ = depth;
    drain_frame frame = frames_.back();
    frames_.pop_back();
    trace("advance(%lld): %s after %lld callbacks", static_cast<long long>(ms),
          status == LUA_OK ? "returned" : "raised", static_cast<long long>(frame.ran));
    if (status != LUA_OK) {
        deliver_caught(lua_tostring(L_, -1));  // the clock stays where the callback raised
        return pop_to(top);
    }
    if (lua_tointeger(L_, -1) != frame.ran)
        violation("advance() returned %lld, %lld callbacks ran",
                  static_cast<long long>(lua_tointeger(L_, -1)), static_cast<long long>(frame.ran));
    // A stop, asked for in it or before it (and not yet taken by run()), ends it after the
    // callbacks due at one time: the clock stays there.
    if (stop_requested_ && stop_before && first_due && *first_due <= until) {
        catch_up_drain(std::max(*first_due, start_now), mark);
        sim_now_ = std::max(sim_now_, *first_due);
    }
    if (!stop_requested_) {
        // Every expiry due by its end was taken. When a callback's sleep() took the clock past
        // it, the drain that ran there took those due by then too; where that drain began is not
        // to be seen, so how many expiries it left unrun comes from t:stats() in that window.
        catch_up([&](order_key k, std::size_t serial) {
            return k.first <= until ||
                   (k.first <= sim_now_ && engine_missed(serial) > timers_[serial].missed_total);
        });
        sim_now_ = std::max(sim_now_, until);  // a callback's sleep() may have gone further
        for (const timer_model& t : timers_) {
            if (t.live && next_expiry(t) <= until)
                violation("advance(%lld) left a callback due %lld ms before its end",
                          static_cast<long long>(ms),
                          static_cast<long long>((until - next_expiry(t)) / milliseconds{1}));
        }
        for (const task_model& t : tasks_) {
            if (t.wake_armed && t.wake_at <= until)
                violation("advance(%lld) left a task's wake-up due before its end",
                          static_cast<long long>(ms));
        }
    }
    pop_to(top);
}

// mockit.clock.suspend(ms): both clocks jump, nothing runs, the timers find a backlog.
void harness::suspend(std::int64_t ms) {
    int top = lua_gettop(L_);
    if (virtual_) ms = bounded_move(ms);
    push_module_function("clock.suspend");
    lua_pushinteger(L_, ms);
    int status = lua_pcall(L_, 1, 0, 0);
    if (!virtual_ || past_end(ms)) {
        expect_error(status, virtual_ ? end_of_time : "the clock is real", "clock.suspend");
        return pop_to(top);
    }
    if (status != LUA_OK) violation("clock.suspend: %s", lua_tostring(L_, -1));
    trace("suspend(%lld)", static_cast<long long>(ms));
    sim_now_ += milliseconds{ms};
    if (ms > 0) skip_end_ = sim_now_;
    replan_cron();
    pop_to(top);
}

// mockit.clock.set_wall(ms): the wall clock alone steps there; deadlines stay.
void harness::set_wall(std::int64_t ms) {
    int top = lua_gettop(L_);
    push_module_function("clock.set_wall");
    lua_pushinteger(L_, ms);
    int status = lua_pcall(L_, 1, 0, 0);
    if (!virtual_) {
        expect_error(status, "the clock is real", "clock.set_wall");
        return pop_to(top);
    }
    if (status != LUA_OK) violation("clock.set_wall: %s", lua_tostring(L_, -1));
    trace("set_wall(%lld)", static_cast<long long>(ms));
    wall_base_ns_ = ms * 1'000'000;
    wall_base_at_ = sim_now_;
    ++wall_epoch_;
    replan_cron();
    pop_to(top);
}

// mockit.clock.virtual([start]) once a timer is armed, whichever the clock: it must refuse.
void harness::virtual_again() {
    int top = lua_gettop(L_);
    bool with_start = in_.ConsumeBool();
    push_module_function("clock.virtual");
    if (with_start) lua_pushinteger(L_, in_.ConsumeIntegralInRange<std::int64_t>(0, max_wall_ms));
    int status = lua_pcall(L_, with_start ? 1 : 0, 0, 0);
    expect_error(status, "mockit.clock.virtual: called after the first timer", "clock.virtual");
    pop_to(top);
}

// Signals and errors ------------------------------------------------------------------------

void harness::watch(signal_model& s, bool on) {
    int top = lua_gettop(L_);
    push_module_function("signal");
    lua_pushstring(L_, s.name);
    if (on) {
        lua_pushcfunction(L_, on_signal);
    } else {
        lua_pushnil(L_);
    }
    if (lua_pcall(L_, 2, 0, 0) != LUA_OK) violation("signal: %s", lua_tostring(L_, -1));
    s.watched = on;
    // Without a handler, the signal stays caught while tasks await it; else arrivals not yet
    // taken are forgotten with the handler.
    if (on) {
        s.caught = true;
    } else if (s.waiters.empty()) {
        s.caught = false;
        s.owed = 0;
    }
    pop_to(top);
}

void harness::raise_signal(signal_model& s) {
    // raise() runs the C handler in this thread before it returns, so the arrival is counted
    // at once. Not caught, both signals are ignored by default.
    auto before = static_cast<std::size_t>(call_integer("pending"));
    if (std::raise(s.signo) != 0) violation("raise(%s) failed", s.name);
    trace("raise %s: %s, %zu tasks await it", s.name, s.caught ? "caught" : "ignored",
          s.waiters.size());
    if (!s.caught) return;
    ++s.owed;
    auto after = static_cast<std::size_t>(call_integer("pending"));
    if (after < before + 1) violation("pending() %zu -> %zu after a watched signal", before, after);
}

void harness::set_on_error(error_mode mode) {
    int top = lua_gettop(L_);
    push_module_function("on_error");
    if (mode == error_mode::propagate) {
        lua_pushnil(L_);
    } else {
        lua_pushcfunction(L_, on_error_handler);
    }
    if (lua_pcall(L_, 1, 0, 0) != LUA_OK) violation("on_error: %s", lua_tostring(L_, -1));
    on_error_ = mode;
    pop_to(top);
}

void harness::deliver(std::int64_t id) {
    if (id < 0 || id >= raised_)
        violation("an error nobody raised was delivered (id %lld)", (long long)id);
    if (++delivered_[static_cast<std::size_t>(id)] > 1)
        violation("error %lld was delivered twice", static_cast<long long>(id));
    ++delivered_total_;
}

// An error caught from process_events() or run(): it must carry exactly one raised error.
void harness::deliver_caught(const char* message) {
    if (message == nullptr) violation("process_events/run raised a non-string error");
    const char* at = std::strstr(message, "FUZZ-");
    if (at == nullptr) violation("an error no callback raised came out: %s", message);
    const char* hash = std::strchr(at, '#');
    if (hash == nullptr) violation("mangled error: %s", message);
    deliver(std::strtoll(hash + 1, nullptr, 10));
    if (std::strstr(hash, "FUZZ-") != nullptr) violation("two errors in one message: %s", message);
}

// What a callback does ----------------------------------------------------------------------

void harness::perform(std::size_t serial, lua_State* L) {
    if (final_phase_) return;
    drain_frame& frame = frames_.back();
    // The outermost run() or advance(), if any: an advance() from a callback in a plain drain is
    // bounded too (a one-off resetting itself to 0 ms keeps one busy for ever).
    frame_kind outer = loop_kind();
    if ((outer == frame_kind::run && (loop_callbacks_ > run_callback_budget ||
                                      steady::now() - loop_started_ > run_time_budget)) ||
        (outer == frame_kind::advance && loop_callbacks_ > advance_callback_budget)) {
        if (!frame.stop_seen) stop(forced_stop_code);  // it must end; enough was seen
        return;
    }
    const timer_model t = timers_[serial];  // a copy: what follows may add timers
    bool own = t.slot >= 0 && serial_in(t.slot) == serial;
    switch (t.act) {
        case action::none:
            break;
        case action::raise_string: {
            std::int64_t id = raised_++;
            delivered_.push_back(0);
            luaL_error(L, "FUZZ-ERR#%d", static_cast<int>(id));
            break;
        }
        case action::raise_table: {
            std::int64_t id = raised_++;
            delivered_.push_back(0);
            lua_createtable(L, 0, 1);
            lua_pushinteger(L, id);
            lua_setfield(L, -2, "id");
            // On the callback's own thread (its task's coroutine), not the harness's L_.
            lua_getfield(L, LUA_REGISTRYINDEX, "error_meta");
            lua_setmetatable(L, -2);
            lua_error(L);
            break;
        }
        case action::destroy_self:
            if (own) destroy(t.slot, t.param % 2 == 0);
            break;
        case action::destroy_slot:
            destroy(t.target, t.param % 2 == 0);
            break;
        case action::reset_self:
            if (own) reset(t.slot, callback_reset_delay(t.slot, t.param));
            break;
        case action::reset_slot:
            reset(t.target, callback_reset_delay(t.target, t.param));
            break;
        case action::arm_into_slot:
            if (!occupied(t.target) || !timers_[serial_in(t.target)].live)
                arm(t.target, false, t.param % (max_delay_ms + 1), timer_model{});
            break;
        case action::nested_drain:
            if (depth_ < max_depth) {
                drain(t.param % 4 == 0 ? std::nullopt : std::optional<std::int64_t>(t.param % 4));
            }
            break;
        case action::stop:
            stop(t.param);
            break;
        case action::sleep:
            sleep(virtual_ ? t.param % 8 : take_budget(t.param % 2), t.param % 4 < 2);
            break;
        case action::unref_self:
            if (own) set_ref(t.slot, false);
            break;
        case action::wait_zero:
            wait(0);
            break;
        case action::advance:
            if (depth_ < max_depth) advance(t.param % 16);
            break;
        case action::spawn_task:  // its plan from the call, not the input (task_plan)
            spawn_planned(task_plan(seed_of(serial, t.fires, t.param)));
            break;
        case action::cancel_task:
            if (std::optional<std::size_t> task = task_by_seed(seed_of(serial, t.fires, t.param)))
                cancel_task(*task);
            break;
        case action::pause:
            pause_request_ = virtual_ ? (t.param % 8) * (t.param % 16 < 8 ? 1 : 1000) : t.param % 3;
            break;
    }
}

// The delay a callback resets the timer in `slot` with: param % 8 ms, or (5..7) its own. Under
// simulated time, never 0 ms for a one-off: re-armed so from a callback, it falls due at the very
// time its drain began, and time moves only when nothing is due: two such one-offs resetting each
// other would keep advance() and run() from ever returning (process_events() leaves what its
// callbacks armed for the next call, as with the real clock).
std::optional<std::int64_t> harness::callback_reset_delay(int slot, int param) const {
    std::optional<std::int64_t> delay;
    if (param % 8 < max_delay_ms) delay = param % 8;
    if (virtual_ && occupied(slot) && delay.value_or(timers_[serial_in(slot)].delay_ms) == 0)
        delay = 1;
    return delay;
}

// Bookkeeping common to timer and signal callbacks: whose drain runs it, and may it start.
void harness::count_callback() {
    if (frames_.empty()) violation("a callback ran outside process_events() and run()");
    drain_frame& f = frames_.back();
    if (f.stop_seen && !f.stopped_before)
        violation("a callback started after mockit.stop() in the same drain");
    if (++f.ran > f.max)
        violation("process_events(%lld) ran more callbacks", static_cast<long long>(f.max));
    if (loop_kind() != frame_kind::drain) ++loop_callbacks_;
}

int harness::timer_fired(lua_State* L) {
    int base = lua_istable(L, 1) ? 2 : 1;  // a callable table gets itself first
    int handle = 0;                        // a timer with options' handle comes next
    if (luaL_testudata(L, base, "mockit.timer") != nullptr) handle = base++;
    int isnum = 0;
    lua_Integer serial = lua_tointegerx(L, base, &isnum);
    if (!isnum || serial < 0 || static_cast<std::size_t>(serial) >= timers_.size())
        violation("a callback got a bad serial argument");
    auto s = static_cast<std::size_t>(serial);
    timer_model& t = timers_[s];
    if ((handle != 0) != t.options)
        violation("timer %zu: its callback was called %s a timer first", s,
                  t.options ? "without" : "with");
    if (handle != 0) {  // fn(t, args...): t is its own handle
        lua_getfield(L, LUA_REGISTRYINDEX, "handles");
        lua_rawgeti(L, -1, serial + 1);
        if (!lua_rawequal(L, -1, handle)) violation("timer %zu: fn(t) got another timer as t", s);
        lua_pop(L, 2);
    }
    if (lua_gettop(L) != base + t.extra) violation("timer %zu: wrong argument count", s);
    for (int i = 1; i <= t.extra; ++i) {
        const char* x = lua_tostring(L, base + i);
        if (x == nullptr || x[0] != 'x' || std::atoi(x + 1) != i)
            violation("timer %zu: argument %d changed", s, i);
    }
    steady::time_point at = virtual_ ? engine_now() : steady::now();
    auto elapsed = at - t.armed_at;
    if (t.destroyed) violation("timer %zu: a callback ran after destroy()", s);
    if (!t.live) violation("timer %zu: a callback ran while not armed (a one-off twice?)", s);
    ++t.fires;
    ++timer_callbacks_;
    if (t.options) {
        run_options(s, L, handle, at);
    } else if (elapsed < milliseconds{t.delay_ms} * t.fires)
        violation("timer %zu: call %lld after only %lld us (every %lld ms)", s,
                  static_cast<long long>(t.fires),
                  static_cast<long long>(
                      std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count()),
                  static_cast<long long>(t.delay_ms));
    if (virtual_ && !t.options) {
        // At its due time exactly; or, if sleep() or suspend() jumped the clock past that, at the
        // time they jumped to, with the rest of the backlog.
        steady::time_point due = t.armed_at + milliseconds{t.delay_ms} * t.fires;
        catch_up_before({due, t.arming});
        if (at != std::max(due, skip_end_) || at < sim_now_)
            violation(
                "timer %zu: call %lld at %lld ns, due at %lld ns (the clock was at %lld ns "
                "and last jumped to %lld ns)",
                s, static_cast<long long>(t.fires), ns_of(at), ns_of(due), ns_of(sim_now_),
                ns_of(skip_end_));
        // Expiries come out in the order they fell due, those due together in arming order.
        if (std::pair key{due, t.arming}; key > last_run_) {
            last_run_ = key;
        } else {
            violation(
                "timer %zu: call %lld, due at %lld ns (arming #%llu), after one due at %lld "
                "ns (arming #%llu)",
                s, static_cast<long long>(t.fires), ns_of(due),
                static_cast<unsigned long long>(t.arming), ns_of(last_run_.first),
                static_cast<unsigned long long>(last_run_.second));
        }
        sim_now_ = at;
        if (lua_Integer ms = call_integer("mstimestamp"); ms != wall_ms())
            violation("timer %zu: mstimestamp() is %lld, want %lld", s, static_cast<long long>(ms),
                      static_cast<long long>(wall_ms()));
    }
    if (!t.repeats) t.live = false;
    trace("callback #%zu: call %lld at %lld us", s, static_cast<long long>(t.fires),
          static_cast<long long>(
              std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count()));
    if (t.options) check_told(s, L, handle, true);
    count_callback();
    ++depth_;
    pause_request_ = -1;
    perform(s, L);  // may raise: depth_ is then restored by whoever catches
    --depth_;
    if (pause_request_ < 0 || t.act != action::pause) {
        if (t.options && !t.overlap_allow) t.run_task.reset();  // its run returned
        return 0;
    }
    // The callback goes on as a task: it pauses, and its wake-up is one more callback.
    std::size_t id = tasks_.size();
    tasks_.emplace_back();
    task_model& task = tasks_.back();
    task.anonymous = true;
    task.state = task_state::paused;
    arm_wake(task, pause_request_);
    if (t.options) t.run_task = id;  // what overlap watches
    trace("callback #%zu pauses %lld ms as task #%zu", s, static_cast<long long>(pause_request_),
          id);
    lua_pushinteger(L, pause_request_);
    lua_pushinteger(L, static_cast<lua_Integer>(id));
    return 2;
}

void harness::signal_handled(lua_State* L) {
    const char* name = lua_tostring(L, 1);
    signal_model* s = nullptr;
    for (signal_model& candidate : signals_) {
        if (name != nullptr && std::strcmp(name, candidate.name) == 0) s = &candidate;
    }
    if (s == nullptr || !s->watched) violation("a signal handler ran for %s", name ? name : "?");
    if (--s->owed < 0) violation("%s: the handler ran more often than the signal arrived", name);
    count_callback();
}

void harness::error_handled(lua_State* L) {
    if (lua_type(L, 2) != LUA_TSTRING || !std::strstr(lua_tostring(L, 2), "stack traceback"))
        violation("on_error: the second argument is not a traceback");
    if (lua_istable(L, 1)) {
        lua_getfield(L, 1, "id");
        deliver(lua_tointeger(L, -1));
        lua_pop(L, 1);
    } else {
        deliver_caught(lua_tostring(L, 1));
    }
    if (on_error_ == error_mode::raise) {
        std::int64_t id = raised_++;
        delivered_.push_back(0);
        luaL_error(L, "FUZZ-HERR#%d", static_cast<int>(id));
    }
}

// Bad arguments -----------------------------------------------------------------------------

// Pushes palette value `v`; never no_value, which the caller passes by passing nothing.
void harness::push_value(int v) {
    if (v == 0) return lua_pushnil(L_);
    if (v < first_integer) return lua_pushboolean(L_, v == first_integer - 1);
    if (v < first_float) return lua_pushinteger(L_, palette_integers[v - first_integer]);
    if (v < first_string) return lua_pushnumber(L_, palette_floats[v - first_float]);
    if (v < first_object) {
        std::string_view text = palette_strings[v - first_string];
        lua_pushlstring(L_, text.data(), text.size());
        return;
    }
    switch (static_cast<object>(v - first_object)) {
        case object::table:
            return lua_newtable(L_);
        case object::plain_meta:
            lua_newtable(L_);
            lua_newtable(L_);
            lua_setmetatable(L_, -2);
            return;
        case object::callable_table:
            return push_kept("callable");
        case object::function:
            return lua_pushcfunction(L_, never_called);
        case object::live_timer:
            return push_kept("spare_live");
        case object::dead_timer:
            return push_kept("spare_dead");
        case object::foreign_ud:
            return push_kept("foreign");
        case object::light_ud:
            return lua_pushlightuserdata(L_, this);
        case object::thread:
            return push_kept("thread");
        case object::module:
        case object::count:
            return push_kept("mockit");
    }
}

// Pushes a valid argument for `p`, harmless should the call go through.
void harness::push_valid(param p) {
    switch (p) {
        case param::delay:
        case param::delay_opt:
            return lua_pushinteger(L_, 100'000);
        case param::callable:
        case param::callable_opt:
            return lua_pushcfunction(L_, never_called);
        case param::signal_name:
            lua_pushliteral(L_, "SIGURG");
            return;
        case param::count_opt:
        case param::exit_code_opt:
            return lua_pushinteger(L_, 0);
        case param::string:
            lua_pushliteral(L_, "x");
            return;
        case param::timer:
        case param::live_timer:
            return push_kept("spare_live");
        case param::wall:
        case param::wall_opt:
            return lua_pushinteger(L_, default_start_ms);
        case param::options:
            return lua_newtable(L_);
    }
}

bool harness::valid_for(param p, int index) {
    auto integer_in = [&](lua_Integer lo, lua_Integer hi) {
        int isnum = 0;
        lua_Integer n = lua_tointegerx(L_, index, &isnum);
        return isnum && n >= lo && n <= hi;
    };
    auto callable = [&] {
        if (lua_isfunction(L_, index)) return true;
        bool has = luaL_getmetafield(L_, index, "__call") != LUA_TNIL;
        if (has) lua_pop(L_, 1);
        return has;
    };
    bool nil = lua_isnoneornil(L_, index);
    switch (p) {
        case param::delay:
            return integer_in(0, max_delay);
        case param::delay_opt:
            return nil || integer_in(0, max_delay);
        case param::callable:
            return callable();
        case param::callable_opt:
            return nil || callable();
        case param::signal_name: {
            // Not lua_tostring on a number: it would turn the argument into a string.
            if (lua_type(L_, index) != LUA_TSTRING) return false;
            return std::strcmp(lua_tostring(L_, index), "SIGURG") == 0;  // "SIGURG\0x" too
        }
        case param::count_opt:
            return nil || integer_in(0, LUA_MAXINTEGER);
        case param::exit_code_opt:
            return nil || integer_in(0, 255);
        case param::string:
            return lua_isstring(L_, index);
        case param::timer:
            return luaL_testudata(L_, index, "mockit.timer") != nullptr;
        case param::live_timer: {
            push_kept("spare_live");
            bool live = lua_rawequal(L_, index, -1);
            lua_pop(L_, 1);
            return live;
        }
        case param::wall:
            return integer_in(0, max_wall_ms);
        case param::wall_opt:
            return nil || integer_in(0, max_wall_ms);
        case param::options:
            return false;
    }
    return false;
}

// One argument of every type where the API must refuse it; the others valid. Must raise
// "bad argument #n" and change nothing.
void harness::bad_argument() {
    const api_entry& entry = in_.PickValueInArray(strict_api);
    int bad = in_.ConsumeIntegralInRange(0, entry.nparams - 1);
    int v = in_.ConsumeIntegralInRange(0, palette_size - 1);
    param p = entry.params[bad];
    bool optional = p == param::delay_opt || p == param::callable_opt || p == param::count_opt ||
                    p == param::exit_code_opt || p == param::wall_opt;
    if (v == no_value && optional) return;  // leaving it out is valid
    int top = lua_gettop(L_);
    push_api(entry);
    int nargs = 0;
    for (int i = 0; i < entry.nparams; ++i) {
        if (i != bad) {
            push_valid(entry.params[i]);
        } else if (v == no_value) {
            break;  // one argument fewer than it takes
        } else {
            push_value(v);
            if (valid_for(p, lua_gettop(L_))) return pop_to(top);
        }
        ++nargs;
    }
    if (lua_pcall(L_, nargs, LUA_MULTRET, 0) == LUA_OK)
        violation("%s: a bad argument #%d (palette value %d) was accepted", entry.name, bad + 1, v);
    const char* message = lua_tostring(L_, -1);
    char want[32];
    std::snprintf(want, sizeof want, "bad argument #%d", bad + 1);
    if (message == nullptr || !std::strstr(message, want))
        violation("%s with a bad argument #%d: message '%s'", entry.name, bad + 1,
                  message ? message : "(not a string)");
    pop_to(top);
}

// A function that changes nothing, with arguments of any type: it may raise, never crash.
void harness::random_call() {
    const api_entry& entry = in_.PickValueInArray(read_only_api);
    int top = lua_gettop(L_);
    push_api(entry);
    int nargs = in_.ConsumeIntegralInRange(0, 3);
    bool log = std::strncmp(entry.name, "log.", 4) == 0;
    for (int i = 0; i < nargs; ++i) {
        if (log && i == 0) {
            lua_pushstring(L_, in_.PickValueInArray(formats));
            continue;
        }
        int v = in_.ConsumeIntegralInRange(0, palette_size - 1);
        if (v == no_value) v = 0;  // nil: trailing "no value" is just fewer arguments
        push_value(v);
    }
    if (lua_pcall(L_, nargs, LUA_MULTRET, 0) != LUA_OK && lua_type(L_, -1) != LUA_TSTRING)
        violation("%s raised a non-string error", entry.name);
    pop_to(top);
}

// Opening the module again in the same state gives the same table.
void harness::reopen() {
    int top = lua_gettop(L_);
    for (lua_CFunction open : {luaopen_mockit, luaopen_luamockit}) {
        lua_pushcfunction(L_, open);
        if (lua_pcall(L_, 0, 1, 0) != LUA_OK) violation("luaopen: %s", lua_tostring(L_, -1));
        push_kept("mockit");
        if (!lua_rawequal(L_, -1, -2)) violation("opening the module again made a new table");
        pop_to(top);
    }
}

// Tasks -------------------------------------------------------------------------------------

// A pause's delay: 0..max_delay_ms, under simulated time in ms or seconds (a task's pauses add
// up, and their sum must stay well inside simulated time).
std::int64_t harness::task_delay() {
    std::int64_t ms = in_.ConsumeIntegralInRange(0, max_delay_ms);
    return virtual_ && in_.ConsumeBool() ? ms * 1000 : ms;
}

std::int64_t harness::live_tasks() const {
    return std::count_if(tasks_.begin(), tasks_.end(), task_live);
}

// A spawned task (one with a handle), any or a live one; nullopt when there is none.
std::optional<std::size_t> harness::pick_task(bool live_only) {
    std::vector<std::size_t> candidates;
    for (std::size_t i = 0; i < tasks_.size(); ++i) {
        if (tasks_[i].has_handle && (!live_only || task_live(tasks_[i]))) candidates.push_back(i);
    }
    if (candidates.empty()) return std::nullopt;
    return candidates[in_.ConsumeIntegralInRange<std::size_t>(0, candidates.size() - 1)];
}

// The task's wake-up, a one-off of the engine's, armed `ms` from now.
void harness::arm_wake(task_model& t, std::int64_t ms) {
    t.wake_armed = true;
    t.wake_at = (virtual_ ? engine_now() : steady::now()) + milliseconds{ms};
    t.arming = ++armings_;
}

// mockit.spawn of a task that takes 0..3 steps (input_step), then returns 0..3 values or raises; a
// waiter first waits for an older task (so no cycle), with a timeout or without, and takes at most
// one step.
void harness::spawn(bool waiter) {
    if (tasks_.size() >= max_tasks) return;
    task_model spec;
    if (waiter) {
        std::optional<std::size_t> target = pick_task(false);
        if (!target) return;
        spec.target = target;
        if (in_.ConsumeBool()) spec.wait_timeout = task_delay();
    }
    int steps = in_.ConsumeIntegralInRange(0, waiter ? 1 : 3);
    for (int i = 0; i < steps; ++i)
        spec.steps.push_back(input_step());
    spec.raises = in_.ConsumeIntegralInRange(0, 3) == 0;
    spec.nresults = in_.ConsumeIntegralInRange(0, 3);
    spec.start_referenced = in_.ConsumeIntegralInRange(0, 3) != 0;
    std::size_t serial = tasks_.size();
    tasks_.push_back(std::move(spec));
    spawn_task(serial);
}

// A step of a task the input spawns: half of them pauses; the other kinds each a tenth.
task_step harness::input_step() {
    task_step step;
    int kind = in_.ConsumeIntegralInRange(0, 9);
    if (kind < 5) {
        step.ms = task_delay();
        return step;
    }
    step.kind = static_cast<step_kind>(kind - 4);
    if (step.kind == step_kind::await_signal) {
        step.which = in_.ConsumeIntegralInRange(0, 1);
        step.timed = in_.ConsumeBool();
        if (step.timed) step.ms = task_delay();
    } else if (step.kind == step_kind::bad_call) {
        step.which = in_.ConsumeIntegralInRange(0, static_cast<int>(bad_call::last));
    }
    step.seed = in_.ConsumeIntegral<std::uint32_t>();
    return step;
}

// The plan of a task spawned from a callback or a task's body, drawn from `seed` rather than the
// input (a callback runs when the clock says, and the input must read the same whatever runs):
// up to 3 steps of pauses, awaits with a timeout (one without could keep run() waiting for good),
// cancels of a task or of itself; then its end.
task_model harness::task_plan(std::uint32_t seed) const {
    task_model plan;
    auto take = [&](std::uint32_t n) {
        std::uint32_t v = seed % n;
        seed /= n;
        return static_cast<int>(v);
    };
    int steps = take(4);
    for (int i = 0; i < steps; ++i) {
        task_step step;
        constexpr step_kind kinds[] = {step_kind::pause, step_kind::pause, step_kind::await_signal,
                                       step_kind::cancel, step_kind::cancel_self};
        step.kind = kinds[take(5)];
        step.ms = take(max_delay_ms + 1);
        if (virtual_ && take(2) == 1) step.ms *= 1000;
        step.timed = true;
        step.which = take(2);
        step.seed = seed * 2654435761U + static_cast<std::uint32_t>(i);
        plan.steps.push_back(step);
    }
    plan.raises = take(4) == 0;
    plan.nresults = take(4);
    plan.start_referenced = take(4) != 0;
    return plan;
}

// Spawns a task of `plan` from the harness's state (a callback's, or the top level's), if there
// is room for one more.
std::optional<std::size_t> harness::spawn_planned(task_model plan) {
    if (tasks_.size() >= max_tasks) return std::nullopt;
    std::size_t serial = tasks_.size();
    tasks_.push_back(std::move(plan));
    spawn_task(serial);
    return serial;
}

void harness::spawn_task(std::size_t serial) {
    int top = lua_gettop(L_);
    const task_model& t = tasks_[serial];
    trace("spawn task #%zu: %zu steps, then %s", serial, t.steps.size(),
          t.raises ? "raises" : "returns");
    push_module_function("spawn");
    push_kept("task_body");
    lua_pushinteger(L_, static_cast<lua_Integer>(serial));
    int status = lua_pcall(L_, 2, 1, 0);
    spawned(serial, L_, status == LUA_OK, lua_gettop(L_));
    pop_to(top);
}

// What spawn() of task `serial` gave, at `value` of L: its handle (kept in registry "tasks"), or
// when not ok the error it raised before its first pause, when nobody absorbed it.
void harness::spawned(std::size_t serial, lua_State* L, bool ok, int value) {
    task_model& t = tasks_[serial];
    if (!ok) {
        if (t.state != task_state::failed) violation("spawn: %s", lua_tostring(L, value));
        deliver_caught(lua_tostring(L, value));
        return;
    }
    if (!luaL_testudata(L, value, "mockit.task")) violation("spawn returned no task");
    lua_getfield(L, LUA_REGISTRYINDEX, "tasks");
    lua_pushvalue(L, value);
    lua_rawseti(L, -2, static_cast<lua_Integer>(serial) + 1);
    lua_pop(L, 1);
    t.has_handle = true;
    if (task_ended(t) && t.closes != 1)
        violation("task #%zu ended in spawn() with its <close> run %d times", serial, t.closes);
    check_task_status(serial);
    if (!t.start_referenced) set_task_ref(serial, false);
}

// The task ended: its waiters get a wake-up now (0 ms), in place of their timeouts'.
void harness::end_task(std::size_t serial, task_state state) {
    task_model& t = tasks_[serial];
    t.state = state;
    t.wake_armed = false;
    if (t.signal >= 0) {  // it was awaiting a signal: it leaves the signal's list
        auto& w = signals_[static_cast<std::size_t>(t.signal)].waiters;
        w.erase(std::remove(w.begin(), w.end(), serial), w.end());
        t.signal = -1;
    }
    if (t.target) {  // it was waiting: it leaves the awaited task's list
        auto& w = tasks_[*t.target].waiters;
        w.erase(std::remove(w.begin(), w.end(), serial), w.end());
    }
    std::vector<std::size_t> waiters = std::move(t.waiters);
    t.waiters.clear();
    for (std::size_t id : waiters) {
        task_model& w = tasks_[id];
        if (w.state != task_state::waiting) continue;
        w.woken = true;
        arm_wake(w, 0);
    }
}

void harness::cancel_task(std::size_t serial) {
    int top = lua_gettop(L_);
    task_model& t = tasks_[serial];
    bool live = task_live(t);
    push_kept("tasks");
    if (lua_rawgeti(L_, -1, static_cast<lua_Integer>(serial) + 1) != LUA_TUSERDATA)
        return pop_to(top);  // it failed in spawn(): no handle
    lua_getfield(L_, -1, "cancel");
    lua_pushvalue(L_, -2);
    if (live) end_task(serial, task_state::cancelled);  // its <close> runs within
    int closes = t.closes;
    if (lua_pcall(L_, 1, 1, 0) != LUA_OK) violation("cancel: %s", lua_tostring(L_, -1));
    trace("cancel task #%zu: %s", serial, lua_toboolean(L_, -1) ? "true" : "false");
    if (!lua_isboolean(L_, -1) || lua_toboolean(L_, -1) != live)
        violation("task #%zu: cancel() returned %s, the task was %s", serial,
                  luaL_tolstring(L_, -1, nullptr), live ? "live" : "over");
    if (live && t.closes != 1)
        violation("task #%zu: cancelled, its <close> ran %d times", serial, t.closes);
    if (!live && t.closes != closes)
        violation("task #%zu: cancel() after its end ran <close>", serial);
    pop_to(top);
    check_task_status(serial);
}

void harness::check_task_status(std::size_t serial) {
    int top = lua_gettop(L_);
    const task_model& t = tasks_[serial];
    push_kept("tasks");
    if (lua_rawgeti(L_, -1, static_cast<lua_Integer>(serial) + 1) != LUA_TUSERDATA)
        return pop_to(top);
    lua_getfield(L_, -1, "status");
    lua_pushvalue(L_, -2);
    if (lua_pcall(L_, 1, 1, 0) != LUA_OK) violation("status: %s", lua_tostring(L_, -1));
    static constexpr const char* names[] = {"running", "paused", "paused",   "paused",
                                            "done",    "failed", "cancelled"};
    const char* want = names[static_cast<int>(t.state)];
    const char* got = lua_tostring(L_, -1);
    if (got == nullptr || std::strcmp(got, want) != 0)
        violation("task #%zu: status() is %s, want %s", serial, got ? got : "?", want);
    pop_to(top);
}

void harness::set_task_ref(std::size_t serial, bool referenced) {
    int top = lua_gettop(L_);
    push_kept("tasks");
    if (lua_rawgeti(L_, -1, static_cast<lua_Integer>(serial) + 1) != LUA_TUSERDATA)
        return pop_to(top);
    lua_getfield(L_, -1, referenced ? "ref" : "unref");
    lua_pushvalue(L_, -2);
    if (lua_pcall(L_, 1, 1, 0) != LUA_OK) violation("task ref/unref: %s", lua_tostring(L_, -1));
    if (!lua_rawequal(L_, -1, -2)) violation("task ref/unref did not return the task");
    tasks_[serial].referenced = referenced;
    pop_to(top);
}

// A wake-up ran task `serial`: a live one, at its due time exactly under simulated time (or where
// sleep() or suspend() jumped the clock), in order with the timers; it is a callback.
void harness::check_wake(std::size_t serial, lua_State* L) {
    (void)L;
    task_model& t = tasks_[serial];
    if (!task_live(t) || !t.wake_armed)
        violation("task #%zu resumed while %s", serial,
                  task_ended(t) ? "over (cancelled?)" : "without a wake-up");
    steady::time_point at = virtual_ ? engine_now() : steady::now();
    if (at < t.wake_at)
        violation("task #%zu resumed %lld ns early", serial,
                  static_cast<long long>(std::chrono::nanoseconds{t.wake_at - at}.count()));
    if (virtual_) {
        if (at != std::max(t.wake_at, skip_end_) || at < sim_now_)
            violation(
                "task #%zu resumed at %lld ns, due at %lld ns (the clock was at %lld ns "
                "and last jumped to %lld ns)",
                serial, ns_of(at), ns_of(t.wake_at), ns_of(sim_now_), ns_of(skip_end_));
        // A waiter woken by an end: the engine's waiter list has no order to check against.
        if (!t.woken) {
            catch_up_before({t.wake_at, t.arming});
            if (std::pair key{t.wake_at, t.arming}; key > last_run_) {
                last_run_ = key;
            } else {
                violation(
                    "task #%zu resumed, due at %lld ns (arming #%llu), after one due at "
                    "%lld ns (arming #%llu)",
                    serial, ns_of(t.wake_at), static_cast<unsigned long long>(t.arming),
                    ns_of(last_run_.first), static_cast<unsigned long long>(last_run_.second));
            }
        }
        sim_now_ = at;
    }
    t.wake_armed = false;
    trace("task #%zu resumed", serial);
    count_callback();
}

// What task:wait() returned (from index `first` of L) against the model of the awaited task.
void harness::check_outcome(std::size_t serial, lua_State* L, int first) {
    task_model& t = tasks_[serial];
    const task_model& a = tasks_[*t.target];
    int n = lua_gettop(L) - first + 1;
    auto second = [&] { return n >= 2 ? lua_tostring(L, first + 1) : nullptr; };
    auto fail = [&](const char* want) {
        violation("task #%zu: wait() on task #%zu returned %d values (%s, %s), want %s", serial,
                  *t.target, n, n >= 1 ? luaL_typename(L, first) : "-", second() ? second() : "-",
                  want);
    };
    if (!task_ended(a)) {
        if (!t.wait_timeout) fail("no return before its end (no timeout)");
        if (n != 2 || !lua_isnil(L, first) || !second() || std::strcmp(second(), "timeout") != 0)
            fail("nil, \"timeout\"");
        return;
    }
    switch (a.state) {
        case task_state::done:
            if (n != 1 + a.nresults || lua_toboolean(L, first) != 1 || !lua_isboolean(L, first))
                fail("true and its results");
            for (int i = 1; i <= a.nresults; ++i) {
                if (lua_tointeger(L, first + i) != static_cast<lua_Integer>(*t.target) * 100 + i)
                    fail("its results as returned");
            }
            break;
        case task_state::failed: {
            char want[32];
            std::snprintf(want, sizeof want, "FUZZ-ERR#%lld", static_cast<long long>(a.error_id));
            if (n != 2 || !lua_isnil(L, first) || !second() || !std::strstr(second(), want))
                fail(want);
            break;
        }
        default:
            if (n != 2 || !lua_isnil(L, first) || !second() ||
                std::strcmp(second(), "cancelled") != 0)
                fail("nil, \"cancelled\"");
            break;
    }
}

// The Lua side of a task asks what to do next, or reports.
int harness::task_hook(lua_State* L) {
    auto serial = static_cast<std::size_t>(lua_tointeger(L, 1));
    std::string_view what = lua_tostring(L, 2);
    if (serial >= tasks_.size()) violation("a task hook with a bad serial");
    task_model& t = tasks_[serial];
    if (what == "close") {
        ++t.closes;
        if (closing) return 0;
        if (!task_ended(t)) violation("task #%zu: its <close> ran while it is live", serial);
        if (t.closes > 1) violation("task #%zu: its <close> ran %d times", serial, t.closes);
        return 0;
    }
    if (closing) violation("task #%zu ran on while the state closes", serial);
    if (what == "resumed") {
        check_wake(serial, L);
        if (t.anonymous) {
            t.state = task_state::done;  // the pausing callback returns at once
        } else {
            t.state = task_state::running;
        }
        return 0;
    }
    if (what == "waited") {
        if (t.state == task_state::waiting) {
            check_wake(serial, L);
            if (!t.woken) {  // its timeout: it left the awaited task's list
                auto& w = tasks_[*t.target].waiters;
                w.erase(std::remove(w.begin(), w.end(), serial), w.end());
            }
        } else if (t.state != task_state::running || !task_ended(tasks_[*t.target])) {
            violation("task #%zu: wait() returned at once for a live task", serial);
        }
        check_outcome(serial, L, 3);
        t.waited = true;
        t.woken = false;
        t.state = task_state::running;
        return 0;
    }
    if (what == "signalled") {
        signalled(serial, L);
        return 0;
    }
    if (t.state != task_state::running) violation("task #%zu ran while not running", serial);
    if (what == "cancelled") {
        cancelled(serial, L);
        return 0;
    }
    if (what == "survived") violation("task #%zu went on after it cancelled itself", serial);
    if (what == "spawned") {
        spawned(t.step_task, L, lua_toboolean(L, 3), 4);
        return 0;
    }
    if (what == "refused") {
        if (lua_toboolean(L, 3)) violation("task #%zu: a bad call went through", serial);
        check_refusal(lua_tostring(L, 4), t.refusal, "a bad call in a task");
        return 0;
    }
    if (what == "results") {
        if (t.raises) {
            t.error_id = raised_++;
            delivered_.push_back(0);
            end_task(serial, task_state::failed);
            trace("task #%zu raises FUZZ-ERR#%lld", serial, static_cast<long long>(t.error_id));
            return luaL_error(L, "FUZZ-ERR#%d", static_cast<int>(t.error_id));
        }
        end_task(serial, task_state::done);
        trace("task #%zu returns %d values", serial, t.nresults);
        for (int i = 1; i <= t.nresults; ++i)
            lua_pushinteger(L, static_cast<lua_Integer>(serial) * 100 + i);
        return t.nresults;
    }
    return next_step(serial, L);
}

// What the body of task `serial` does next: its wait first, then its steps, then its end. Pushes
// what the body reads (what, a, b, x, y) and returns how many.
int harness::next_step(std::size_t serial, lua_State* L) {
    task_model& t = tasks_[serial];
    if (t.target && !t.waited) {
        lua_pushliteral(L, "wait");
        lua_getfield(L, LUA_REGISTRYINDEX, "tasks");
        lua_rawgeti(L, -1, static_cast<lua_Integer>(*t.target) + 1);
        lua_remove(L, -2);
        if (t.wait_timeout) {
            lua_pushinteger(L, *t.wait_timeout);
        } else {
            lua_pushnil(L);
        }
        task_model& a = tasks_[*t.target];
        if (!task_ended(a)) {
            t.state = task_state::waiting;
            a.waiters.push_back(serial);
            if (t.wait_timeout) arm_wake(t, *t.wait_timeout);
        }
        trace("task #%zu waits for task #%zu", serial, *t.target);
        return 3;
    }
    while (t.step < t.steps.size()) {
        const task_step step = t.steps[t.step++];
        switch (step.kind) {
            case step_kind::pause:
                t.state = task_state::paused;
                arm_wake(t, step.ms);
                trace("task #%zu pauses %lld ms", serial, static_cast<long long>(step.ms));
                lua_pushliteral(L, "pause");
                lua_pushinteger(L, step.ms);
                return 2;
            case step_kind::await_signal: {
                signal_model& s = signals_[static_cast<std::size_t>(step.which)];
                t.state = task_state::awaiting;
                t.signal = step.which;
                t.signal_timed = step.timed;
                s.waiters.push_back(serial);
                s.caught = true;  // from its first await on, for good
                if (step.timed) arm_wake(t, step.ms);
                trace("task #%zu awaits %s (timeout %lld ms)", serial, s.name,
                      step.timed ? static_cast<long long>(step.ms) : -1LL);
                lua_pushliteral(L, "signal");
                lua_pushstring(L, s.name);
                if (step.timed) {
                    lua_pushinteger(L, step.ms);
                } else {
                    lua_pushnil(L);
                }
                return 3;
            }
            case step_kind::cancel:
            case step_kind::cancel_self:
                if (int n = step_cancel(serial, L, step)) return n;
                break;  // no handle to cancel yet
            case step_kind::spawn: {
                if (tasks_.size() >= max_tasks) break;
                task_model plan = task_plan(step.seed);
                plan.parent = serial;
                t.step_task = tasks_.size();
                tasks_.push_back(std::move(plan));
                trace("task #%zu spawns task #%zu", serial, t.step_task);
                lua_pushliteral(L, "spawn");
                lua_pushinteger(L, static_cast<lua_Integer>(t.step_task));
                return 2;
            }
            case step_kind::bad_call: {
                auto call = static_cast<bad_call>(step.which);
                std::optional<std::size_t> handle;
                if (call == bad_call::wait) {
                    handle = step.seed % 2 == 0 && t.has_handle ? std::optional{serial}
                                                                : task_by_seed(step.seed >> 8);
                    if (!handle) break;
                }
                std::optional<std::string> want = bad_call_refusal(call, step.seed, handle, serial);
                if (!want) break;  // a valid call: it would go through
                t.refusal = *want;
                trace("task #%zu makes a bad call: %s", serial, want->c_str());
                lua_pushliteral(L, "bad");
                return 1 + push_bad_call(L, call, step.seed, handle);
            }
        }
    }
    lua_pushliteral(L, "end");
    return 1;
}

// A task with a handle, picked by `seed`; nullopt when there is none.
std::optional<std::size_t> harness::task_by_seed(std::uint32_t seed) const {
    std::vector<std::size_t> candidates;
    for (std::size_t i = 0; i < tasks_.size(); ++i) {
        if (tasks_[i].has_handle) candidates.push_back(i);
    }
    if (candidates.empty()) return std::nullopt;
    return candidates[seed % candidates.size()];
}

// A cancel from the body of task `serial`: of itself by a plain a:cancel(), or through pcall of
// a task the seed picks (itself included; a quarter of them the task that spawned it, running
// still). Pushes what the body reads and returns how many; 0 when the task to cancel has no
// handle (it gets one when its spawn() returns).
int harness::step_cancel(std::size_t serial, lua_State* L, const task_step& step) {
    task_model& t = tasks_[serial];
    std::size_t target = serial;
    if (step.kind == step_kind::cancel) {
        std::optional<std::size_t> pick =
            t.parent && step.seed % 4 == 0 ? t.parent : task_by_seed(step.seed / 4);
        if (!pick) return 0;
        target = *pick;
    }
    task_model& a = tasks_[target];
    if (!a.has_handle) return 0;
    t.step_task = target;
    if (target == serial) {
        // It ends where it calls: closed, its <close> run, its waiters woken, never resumed.
        end_task(serial, task_state::cancelled);
        t.cancel_result = 1;
    } else if (task_live(a)) {
        end_task(target, task_state::cancelled);  // its <close> runs within
        t.cancel_result = 1;
    } else {
        t.cancel_result = task_ended(a) ? 0 : -1;  // -1: it runs, and started this one
    }
    trace("task #%zu cancels task #%zu (%s)", serial, target,
          step.kind == step_kind::cancel_self ? "a:cancel()" : "pcall");
    lua_pushstring(L, step.kind == step_kind::cancel_self ? "cancel_self" : "cancel");
    lua_getfield(L, LUA_REGISTRYINDEX, "tasks");
    lua_rawgeti(L, -1, static_cast<lua_Integer>(target) + 1);
    lua_remove(L, -2);
    return 2;
}

// What pcall(a.cancel, a) returned in task `serial` (from index 3 of L): true, true for a live
// task, true, false for one that ended, the error for one running (it started this one).
void harness::cancelled(std::size_t serial, lua_State* L) {
    const task_model& t = tasks_[serial];
    std::size_t target = t.step_task;
    if (target == serial) violation("task #%zu: cancel() of itself returned", serial);
    bool ok = lua_toboolean(L, 3);
    if (t.cancel_result < 0) {
        if (ok) violation("task #%zu: cancel() of task #%zu, running, returned", serial, target);
        check_refusal(lua_tostring(L, 4), "cancel: the task is running (it started the caller)",
                      "cancel() of a running task");
    } else if (!ok || lua_gettop(L) != 4 || !lua_isboolean(L, 4) ||
               lua_toboolean(L, 4) != t.cancel_result) {
        violation("task #%zu: cancel() of task #%zu returned %s, %s, want true, %s", serial, target,
                  ok ? "true" : "false", luaL_tolstring(L, 4, nullptr),
                  t.cancel_result ? "true" : "false");
    }
    if (t.cancel_result == 1 && tasks_[target].closes != 1)
        violation("task #%zu: cancelled, its <close> ran %d times", target, tasks_[target].closes);
    check_task_status(target);
}

// await_signal() returned in task `serial` (its values from index 3 of L): true when the signal
// came, nil, "timeout" when its timeout came first.
void harness::signalled(std::size_t serial, lua_State* L) {
    task_model& t = tasks_[serial];
    if (t.state != task_state::awaiting)
        violation("task #%zu: await_signal() returned while it was not awaiting", serial);
    check_wake(serial, L);
    int n = lua_gettop(L) - 2;
    const char* second = n >= 2 ? lua_tostring(L, 4) : nullptr;
    if (t.woken) {
        if (n != 1 || !lua_isboolean(L, 3) || !lua_toboolean(L, 3))
            violation(
                "task #%zu: await_signal() after its signal returned %d values (%s), want "
                "true",
                serial, n, n >= 1 ? luaL_typename(L, 3) : "-");
    } else {
        if (!t.signal_timed)
            violation("task #%zu: await_signal() without a timeout returned with no signal",
                      serial);
        if (n != 2 || !lua_isnil(L, 3) || second == nullptr || std::strcmp(second, "timeout") != 0)
            violation(
                "task #%zu: await_signal() timed out, returned %d values (%s, %s), want "
                "nil, \"timeout\"",
                serial, n, n >= 1 ? luaL_typename(L, 3) : "-", second ? second : "-");
        auto& w = signals_[static_cast<std::size_t>(t.signal)].waiters;
        w.erase(std::remove(w.begin(), w.end(), serial), w.end());
    }
    trace("task #%zu: await_signal() returned (%s)", serial, t.woken ? "signal" : "timeout");
    t.signal = -1;
    t.woken = false;
    t.state = task_state::running;
}

// The loop takes the signals' arrivals before any expiry, as a drain of at most `max` callbacks
// begins, in the order of their numbers: each arrival wakes every task awaiting its signal (their
// wake-ups armed at `at`, for 0 ms) and runs its handler, if any, a callback counted in `max`. An
// arrival nobody handles is dropped. The model takes them so before the module does.
void harness::dispatch_arrivals(steady::time_point at, std::int64_t max) {
    std::array<signal_model*, 2> order{&signals_[0], &signals_[1]};
    if (order[1]->signo < order[0]->signo) std::swap(order[0], order[1]);
    for (signal_model* s : order) {
        for (std::int64_t k = 0; k < s->owed && max > 0; ++k) {
            for (std::size_t id : std::exchange(s->waiters, {})) {
                task_model& w = tasks_[id];
                w.woken = true;
                w.wake_armed = true;
                w.wake_at = at;
                w.arming = ++armings_;
                trace("%s wakes task #%zu", s->name, id);
            }
            if (s->watched) --max;  // its handler runs: signal_handled() takes the arrival
        }
        if (!s->watched && max > 0) s->owed = 0;
    }
}

// Whether a task may await a signal with no timeout, now or in a step to come: run() could then
// wait for good (or be stuck, under simulated time).
bool harness::may_await_forever() const {
    for (const task_model& t : tasks_) {
        if (task_ended(t)) continue;
        if (t.state == task_state::awaiting && !t.signal_timed) return true;
        for (std::size_t i = t.step; i < t.steps.size(); ++i) {
            if (t.steps[i].kind == step_kind::await_signal && !t.steps[i].timed) return true;
        }
    }
    return false;
}

// At the end: raises each signal that tasks await and no arrival is on its way for. Returns
// whether it raised any.
bool harness::raise_awaited() {
    bool raised = false;
    for (signal_model& s : signals_) {
        if (s.waiters.empty() || s.owed > 0) continue;
        raise_signal(s);
        raised = true;
    }
    return raised;
}

// Bad calls of the task functions ---------------------------------------------------------

// The value a bad call passes (after its other arguments): seed picks it among the palette's, and
// for a signal name among bad_signal_names too; a task method is picked by seed as well.
int bad_value(bad_call call, std::uint32_t seed) {
    auto range = static_cast<std::uint32_t>(palette_size);
    if (call == bad_call::await_name)
        range += static_cast<std::uint32_t>(std::size(bad_signal_names));
    return static_cast<int>(seed % range);
}

const char* bad_method(std::uint32_t seed) {
    return task_methods[(seed / 1024) % std::size(task_methods)];
}

// The message the call must raise, after its caller's position (check_refusal), made from the top
// level or (`inside`) from a task's body; nullopt when it is valid and would go through. `handle`:
// the task whose wait() it calls. The checks come in the module's order: the arguments, then
// whether a task calls, then whether it waits for itself.
std::optional<std::string> harness::bad_call_refusal(bad_call call, std::uint32_t seed,
                                                     std::optional<std::size_t> handle,
                                                     std::optional<std::size_t> inside) {
    // From a task's body, on top of the frame of the C function that runs it (a drain, spawn).
    if (!lua_checkstack(L_, 8)) violation("no stack for a bad call");
    int top = lua_gettop(L_);
    int v = bad_value(call, seed);
    bool none = v == no_value;
    if (v >= palette_size) {
        lua_pushstring(L_, bad_signal_names[v - palette_size]);
    } else if (!none) {
        push_value(v);
    }
    int index = lua_gettop(L_);
    auto argument = [](int n, const char* name, const std::string& reason) {
        return "bad argument #" + std::to_string(n) + " to '" + name + "' (" + reason + ")";
    };
    std::optional<std::string> refusal;
    const char* function = nullptr;  // the call is valid, but must come from a task
    switch (call) {
        case bad_call::spawn:
            if (!none && (lua_isfunction(L_, index) || luaL_getmetafield(L_, index, "__call"))) {
                pop_to(top);
                return std::nullopt;
            }
            refusal = argument(
                1, "spawn", "function expected, got " + (none ? "no value" : type_arg(L_, index)));
            break;
        case bad_call::pause:
            if (auto reason = delay_refusal(L_, index, none)) {
                refusal = argument(1, "pause", *reason);
            } else {
                function = "pause";
            }
            break;
        case bad_call::await_name:
            if (auto reason = signal_refusal(L_, index, none)) {
                refusal = argument(1, "await_signal", *reason);
            } else {
                function = "await_signal";
            }
            break;
        case bad_call::await_timeout:
        case bad_call::wait:
            if (auto reason =
                    none || lua_isnil(L_, index) ? std::nullopt : delay_refusal(L_, index, false)) {
                refusal = call == bad_call::wait ? argument(1, "wait", *reason)
                                                 : argument(2, "await_signal", *reason);
            } else if (call == bad_call::wait && inside && handle == inside) {
                refusal = "wait: a task cannot wait for itself";
            } else {
                function = call == bad_call::wait ? "wait" : "await_signal";
            }
            break;
        case bad_call::method:
            refusal = argument(1, bad_method(seed),
                               "mockit.task expected, got " +
                                   (none ? std::string{"no value"} : type_arg(L_, index)));
            break;
    }
    pop_to(top);
    if (!refusal && !inside)
        refusal = std::string{function} + ": not inside a task (start one with mockit.spawn)";
    return refusal;
}

// Pushes onto L the Lua function making the bad call and its arguments (bad_calls: fn(n, x, y));
// returns how many values that is (4).
int harness::push_bad_call(lua_State* L, bad_call call, std::uint32_t seed,
                           std::optional<std::size_t> handle) {
    if (!lua_checkstack(L_, 8)) violation("no stack for a bad call");
    int top = lua_gettop(L_);
    int v = bad_value(call, seed);
    bool none = v == no_value;
    static constexpr const char* wrappers[] = {"spawn", "pause", "await_signal", "await_signal",
                                               "wait"};
    push_kept("bad_calls");
    if (call == bad_call::method) {
        const char* method = bad_method(seed);
        lua_getfield(L_, -1, std::strcmp(method, "wait") == 0 ? "wait_on" : method);
    } else {
        lua_getfield(L_, -1, wrappers[static_cast<int>(call)]);
    }
    lua_remove(L_, -2);
    auto push_v = [&] {
        if (v >= palette_size) {
            lua_pushstring(L_, bad_signal_names[v - palette_size]);
        } else if (none) {
            lua_pushnil(L_);  // not passed: n says so
        } else {
            push_value(v);
        }
    };
    if (call == bad_call::await_timeout || call == bad_call::wait) {
        lua_pushinteger(L_,
                        none ? (call == bad_call::wait ? 0 : 1) : (call == bad_call::wait ? 1 : 2));
        if (call == bad_call::wait) {
            push_kept("tasks");
            lua_rawgeti(L_, -1, static_cast<lua_Integer>(*handle) + 1);
            lua_remove(L_, -2);
        } else {
            lua_pushliteral(L_, "SIGURG");
        }
        push_v();
    } else {
        lua_pushinteger(L_, none ? 0 : 1);
        push_v();
        lua_pushnil(L_);
    }
    if (L != L_) lua_xmove(L_, L, 4);
    if (lua_gettop(L_) != top + (L == L_ ? 4 : 0)) violation("push_bad_call left the stack uneven");
    return 4;
}

// A call of a task function the API must refuse, from the top level: not a task calls, so even
// valid arguments to pause, await_signal and wait raise.
void harness::bad_task_call() {
    auto call =
        static_cast<bad_call>(in_.ConsumeIntegralInRange(0, static_cast<int>(bad_call::last)));
    std::uint32_t seed = in_.ConsumeIntegral<std::uint32_t>();
    std::optional<std::size_t> handle;
    if (call == bad_call::wait && !(handle = task_by_seed(seed >> 8))) return;
    std::optional<std::string> want = bad_call_refusal(call, seed, handle, std::nullopt);
    if (!want) return;  // spawn of a callable
    int top = lua_gettop(L_);
    push_bad_call(L_, call, seed, handle);
    if (lua_pcall(L_, 3, 0, 0) == LUA_OK)
        violation("a bad call went through: want '%s'", want->c_str());
    check_refusal(lua_tostring(L_, -1), *want, "a bad call of a task function");
    pop_to(top);
}

// Invariants --------------------------------------------------------------------------------

// What is owed by `now`: each live timer's expiries so far, minus the calls it already had, plus
// the signal arrivals not handled yet. With the real clock the engine's arming time is a little
// later than armed_at, so this is the most that can be pending; under simulated time, exactly
// what is.
owed_count harness::owed_at(steady::time_point now, bool cron_runs) const {
    owed_count n;
    for (const timer_model& t : timers_) {
        if (!t.live) continue;
        auto elapsed = now - t.armed_at;
        std::int64_t expiries = 0;
        if (t.options && virtual_) {
            steady::time_point next = next_expiry(t);
            if (now >= next) expiries = t.repeats ? (now - next) / milliseconds{t.delay_ms} + 1 : 1;
            // To bound a move of the clock: a cron timer's runs due by then, as the queue sees
            // but one expiry of it at a time (up to max_backlog + 1).
            if (now >= next && cron_runs && t.cron >= 0) {
                std::int64_t wall = wall_ns_at(now) / 1'000'000, run = t.cron_next_ms;
                for (expiries = 1; expiries <= max_backlog; ++expiries) {
                    std::optional<std::int64_t> after = cron_after(t, run);
                    if (!after || *after > wall) break;
                    run = *after;
                }
            }
        } else if (t.options && t.repeats) {
            // On the real clock its first grid point is at most a period after its arming.
            expiries = std::max<std::int64_t>(0, elapsed / milliseconds{t.delay_ms} + 1 - t.fires);
        } else if (!t.repeats) {
            expiries = elapsed >= milliseconds{t.delay_ms} ? 1 : 0;
        } else {
            expiries = std::max<std::int64_t>(0, elapsed / milliseconds{t.delay_ms} - t.fires);
        }
        n.callbacks += expiries;
        n.entries += expiries > 0;
    }
    for (const task_model& t : tasks_) {
        bool due = t.wake_armed && t.wake_at <= now;
        n.callbacks += due;
        n.entries += due;
    }
    for (const signal_model& s : signals_) {
        n.callbacks += s.owed;
        n.entries += s.owed;
    }
    return n;
}

void harness::check_slot(int slot) {
    if (!occupied(slot)) return;
    const timer_model& t = timers_[serial_in(slot)];
    push_kept("slots");
    lua_rawgeti(L_, -1, slot + 1);
    int handle = lua_gettop(L_);
    for (const char* method : {"active", "kind", "interval"}) {
        lua_getfield(L_, handle, method);
        lua_pushvalue(L_, handle);
        lua_call(L_, 1, 1);
    }
    bool active = lua_toboolean(L_, -3);
    const char* kind = lua_tostring(L_, -2);
    lua_Integer interval = lua_tointeger(L_, -1);
    if (active != t.live)
        violation("slot %d: active() is %d, the model says %d", slot, active, t.live);
    const char* want_kind = t.cron >= 0 ? "cron" : t.repeats ? "interval" : "oneoff";
    if (kind == nullptr || std::strcmp(kind, want_kind) != 0)
        violation("slot %d: kind() is %s", slot, kind ? kind : "?");
    if (t.cron >= 0) {
        if (!lua_isnil(L_, -1)) violation("slot %d: interval() of a cron timer is not nil", slot);
    } else if (interval != t.delay_ms)
        violation("slot %d: interval() is %lld, want %lld", slot, static_cast<long long>(interval),
                  static_cast<long long>(t.delay_ms));
    if (t.options) {
        check_told(serial_in(slot), L_, handle, false);
    } else {
        for (const char* method : {"due", "missed", "stats"}) {  // the seed's timers tell nothing
            lua_getfield(L_, handle, method);
            lua_pushvalue(L_, handle);
            lua_call(L_, 1, 1);
            if (!lua_isnil(L_, -1))
                violation("slot %d: %s() of a seed timer is not nil", slot, method);
            lua_pop(L_, 1);
        }
    }
    lua_pop(L_, 5);
}

// is_virtual() tells the clock; under simulated time, every clock reads what the model says.
void harness::check_clocks() {
    int top = lua_gettop(L_);
    push_module_function("clock.is_virtual");
    lua_call(L_, 0, 1);
    if (lua_toboolean(L_, -1) != virtual_) violation("is_virtual() is %d", lua_toboolean(L_, -1));
    pop_to(top);
    if (!virtual_) return;
    if (steady::time_point t = engine_now(); t != sim_now_)
        violation("hrtime() is %lld, want %lld", ns_of(t), ns_of(sim_now_));
    std::int64_t wall = wall_ms();
    if (lua_Integer ms = call_integer("mstimestamp"); ms != wall)
        violation("mstimestamp() is %lld, want %lld", static_cast<long long>(ms),
                  static_cast<long long>(wall));
    push_module_function("time");
    lua_call(L_, 0, 2);
    if (lua_tointeger(L_, -2) != wall / 1000 || lua_tointeger(L_, -1) != wall % 1000)
        violation("time() is %lld, %lld at %lld ms", static_cast<long long>(lua_tointeger(L_, -2)),
                  static_cast<long long>(lua_tointeger(L_, -1)), static_cast<long long>(wall));
    lua_getglobal(L_, "os");
    lua_getfield(L_, -1, "time");
    lua_call(L_, 0, 1);
    if (lua_tointeger(L_, -1) != wall / 1000)
        violation("os.time() is %lld at %lld ms", static_cast<long long>(lua_tointeger(L_, -1)),
                  static_cast<long long>(wall));
    pop_to(top);
}

void harness::check_invariants(bool consuming) {
    if (lua_gettop(L_) != 0) violation("the harness left %d values on the stack", lua_gettop(L_));
    check_state_files();
    if (delivered_total_ != raised_)
        violation("%lld errors raised, %lld delivered", static_cast<long long>(raised_),
                  static_cast<long long>(delivered_total_));
    push_module_function("stats");
    lua_call(L_, 0, 1);
    auto field = [&](const char* name) {
        lua_getfield(L_, -1, name);
        lua_Integer n = lua_tointeger(L_, -1);
        lua_pop(L_, 1);
        return static_cast<std::int64_t>(n);
    };
    std::int64_t timers = field("timers"), referenced = field("referenced"), armed = field("armed");
    std::int64_t tasks = field("tasks");
    lua_pop(L_, 1);
    if (tasks != live_tasks())
        violation("stats().tasks %lld, %lld live in the model", static_cast<long long>(tasks),
                  static_cast<long long>(live_tasks()));
    push_module_function("stopping");
    lua_call(L_, 0, 2);
    if ((lua_toboolean(L_, -2) != 0) != stop_requested_ ||
        (stop_requested_ && lua_tointeger(L_, -1) != stop_code_))
        violation("stopping() says %s, the model %s", lua_toboolean(L_, -2) ? "yes" : "no",
                  stop_requested_ ? "yes" : "no");
    lua_pop(L_, 2);
    auto pending = static_cast<std::size_t>(call_integer("pending"));
    auto inqueue = static_cast<std::size_t>(call_integer("inqueue"));
    owed_count owed = owed_at(now());  // read after: with the real clock, the bound only grows
    std::int64_t bound = owed.callbacks;
    trace("  timers %lld, referenced %lld, armed %lld, pending %zu (at most %lld), inqueue %zu",
          static_cast<long long>(timers), static_cast<long long>(referenced),
          static_cast<long long>(armed), pending, static_cast<long long>(bound), inqueue);

    std::int64_t live = 0, live_referenced = 0, live_intervals = 0;
    for (const timer_model& t : timers_) {
        live += t.live;
        live_referenced += t.live && t.referenced;
        live_intervals += t.live && t.repeats;
    }
    for (const task_model& t : tasks_) {  // a wake-up is a one-off of the engine's
        live += t.wake_armed;
        live_referenced += t.wake_armed && t.referenced;
    }
    if (timers != live)
        violation("stats().timers %lld, %lld live", (long long)timers, (long long)live);
    if (referenced != live_referenced)
        violation("stats().referenced %lld, want %lld", static_cast<long long>(referenced),
                  static_cast<long long>(live_referenced));
    if (armed < live_intervals || armed > live)
        violation("stats().armed %lld outside [%lld, %lld]", static_cast<long long>(armed),
                  static_cast<long long>(live_intervals), static_cast<long long>(live));
    if (static_cast<std::int64_t>(pending) > bound)
        violation("pending() is %zu, at most %lld expiries can be owed", pending,
                  static_cast<long long>(bound));
    if (pending > 0 && inqueue == 0) violation("pending() %zu with inqueue() 0", pending);
    if (virtual_) {
        if (armed != live)
            violation("stats().armed %lld, %lld live", (long long)armed, (long long)live);
        if (static_cast<std::int64_t>(pending) != bound ||
            static_cast<std::int64_t>(inqueue) != owed.entries)
            violation("pending()/inqueue() are %zu/%zu, %lld/%lld are owed", pending, inqueue,
                      static_cast<long long>(bound), static_cast<long long>(owed.entries));
    }
    check_clocks();
    check_metrics();
    if (!consuming && (pending < last_pending_ || inqueue < last_inqueue_))
        violation("pending()/inqueue() fell from %zu/%zu to %zu/%zu with nothing consuming",
                  last_pending_, last_inqueue_, pending, inqueue);
    last_pending_ = pending;
    last_inqueue_ = inqueue;
    for (int slot = 0; slot < slot_count; ++slot)
        check_slot(slot);
}

// The input ---------------------------------------------------------------------------------

enum class op : std::uint8_t {
    arm_oneoff,
    arm_interval,
    destroy,
    close_scope,
    reset,
    reset_delay,
    ref,
    unref,
    wait,
    wait_unbounded,
    process_all,
    process_max,
    run,
    sleep,
    watch,
    unwatch,
    raise,
    on_error,
    stop,
    drop,
    collect,
    bad_argument,
    random_call,
    reopen,
    advance,
    suspend,
    set_wall,
    virtual_again,
    spawn,
    spawn_waiter,
    cancel_task,
    task_status,
    task_ref,
    bad_task_call,
    arm_options,
    bad_options,
    arm_cron,
    restart_persist,
    last = restart_persist,
};

void harness::run_ops() {
    for (int i = 0; i < max_ops && in_.remaining_bytes() > 0; ++i) {
        auto o = static_cast<op>(in_.ConsumeIntegralInRange(0, static_cast<int>(op::last)));
        int slot = in_.ConsumeIntegralInRange(0, slot_count - 1);
        bool consuming = false;
        trace("op %d, slot %d", static_cast<int>(o), slot);
        switch (o) {
            case op::arm_oneoff:
                op_arm(false);
                break;
            case op::arm_interval:
                op_arm(true);
                break;
            case op::destroy:
                destroy(slot, false);
                consuming = true;
                break;
            case op::close_scope:
                destroy(slot, true);
                consuming = true;
                break;
            case op::reset:
                reset(slot, std::nullopt);
                consuming = true;
                break;
            case op::reset_delay:
                reset(slot, scaled(in_.ConsumeIntegralInRange(0, max_delay_ms)));
                consuming = true;
                break;
            case op::ref:
                set_ref(slot, true);
                break;
            case op::unref:
                set_ref(slot, false);
                break;
            case op::wait: {
                std::int64_t ms = scaled(in_.ConsumeIntegralInRange(0, max_delay_ms));
                wait(virtual_ ? ms : take_budget(ms));
                break;
            }
            case op::wait_unbounded:
                // Only when something must end it: a callback pending, or a live one-off (under
                // simulated time, any live timer: the clock goes to its deadline at once).
                if (call_integer("pending") > 0 ||
                    (virtual_ ? next_due().has_value()
                              : live_oneoff() && take_budget(max_delay_ms) == max_delay_ms))
                    wait_unbounded();
                break;
            case op::process_all: {
                bool stopped_before = stop_requested_;
                if (drain(std::nullopt) == LUA_OK && (stopped_before || !stop_requested_)) {
                    for (const signal_model& s : signals_) {
                        if (s.owed != 0)
                            violation("%s: a full drain left %lld arrivals unhandled", s.name,
                                      (long long)s.owed);
                    }
                }
                consuming = true;
                break;
            }
            case op::process_max:
                drain(in_.ConsumeIntegralInRange(0, 3));
                consuming = true;
                break;
            case op::run:
                // Only when it must end: a referenced interval, or a task awaiting a signal with
                // no timeout, would keep it going for good.
                if ((stop_requested_ || (!referenced_interval() && !may_await_forever())) &&
                    (virtual_ || take_budget(max_delay_ms) == max_delay_ms))
                    run_loop();
                consuming = true;
                break;
            case op::sleep: {
                std::int64_t ms = scaled(in_.ConsumeIntegralInRange(0, 2));
                sleep(virtual_ ? ms : take_budget(ms), in_.ConsumeBool());
                break;
            }
            case op::watch:
                watch(signals_[slot % 2], true);
                break;
            case op::unwatch:
                watch(signals_[slot % 2], false);
                consuming = true;
                break;
            case op::raise:
                raise_signal(signals_[slot % 2]);
                break;
            case op::on_error:
                set_on_error(static_cast<error_mode>(slot % 3));
                break;
            case op::stop:
                stop(in_.ConsumeIntegralInRange(0, 255));
                break;
            case op::drop:
                drop(slot);
                break;
            case op::collect:
                lua_gc(L_, LUA_GCCOLLECT);
                break;
            case op::bad_argument:
                bad_argument();
                break;
            case op::random_call:
                random_call();
                break;
            case op::reopen:
                reopen();
                break;
            case op::advance:
                advance(scaled(in_.ConsumeIntegralInRange(0, max_delay_ms)));
                consuming = true;
                break;
            case op::suspend:
                suspend(scaled(in_.ConsumeIntegralInRange(0, max_delay_ms)));
                consuming = live_cron();  // a replan may take a run that was due out of the queue
                break;
            case op::set_wall:
                set_wall(in_.ConsumeIntegralInRange<std::int64_t>(0, max_wall_ms));
                consuming = live_cron();
                break;
            case op::virtual_again:
                virtual_again();
                break;
            case op::spawn:
                spawn(false);
                consuming = true;  // its body may cancel a task whose wake-up is due
                break;
            case op::spawn_waiter:
                spawn(true);
                consuming = true;
                break;
            case op::cancel_task:
                if (std::optional<std::size_t> t = pick_task(slot % 4 != 0)) cancel_task(*t);
                consuming = true;
                break;
            case op::task_status:
                if (std::optional<std::size_t> t = pick_task(false)) check_task_status(*t);
                break;
            case op::task_ref:
                if (std::optional<std::size_t> t = pick_task(false)) set_task_ref(*t, slot % 2);
                break;
            case op::bad_task_call:
                bad_task_call();
                break;
            case op::arm_options:
                op_arm_options();
                break;
            case op::bad_options:
                bad_options();
                break;
            case op::arm_cron:
                op_arm_cron();
                break;
            case op::restart_persist:
                op_restart_persist();
                break;
        }
        check_invariants(consuming);
    }
}

// The end of an input: every due one-off must still fire (nothing lost), then everything is
// destroyed and the state closed.
void harness::finish() {
    final_phase_ = true;
    set_on_error(error_mode::absorb);
    bool complete = true;  // every task could be driven to its end
    if (virtual_) {
        complete = finish_simulated();
    } else {
        steady::time_point start = steady::now();
        for (;;) {
            if (raise_awaited()) drain(std::nullopt);  // tasks awaiting a signal get it
            steady::time_point now = steady::now();
            const timer_model* due = nullptr;
            for (const timer_model& t : timers_) {
                if (t.live && !t.repeats && now - t.armed_at >= milliseconds{t.delay_ms}) due = &t;
            }
            if (due == nullptr && live_tasks() == 0) break;
            if (due == nullptr) {  // a task's pauses are a few ms each: it ends soon
                if (now - start > lost_limit)
                    violation("%lld tasks still live %lld ms into the end",
                              static_cast<long long>(live_tasks()),
                              static_cast<long long>(
                                  std::chrono::duration_cast<milliseconds>(now - start).count()));
                wait(50);
                drain(std::nullopt);
                continue;
            }
            if (now - start > lost_limit)
                violation(
                    "a due one-off (delay %lld ms) has not fired after %lld ms",
                    static_cast<long long>(due->delay_ms),
                    static_cast<long long>(
                        std::chrono::duration_cast<milliseconds>(now - due->armed_at).count()));
            wait(50);
            drain(std::nullopt);
        }
    }
    drain(std::nullopt);
    for (const signal_model& s : signals_) {
        if (s.owed != 0) violation("%s: arrivals left unhandled at the end", s.name);
    }
    for (int slot = 0; slot < slot_count; ++slot)
        destroy(slot, false);
    check_invariants(true);
    // Drained: no task is left, nor any of their wake-ups (check_invariants matched the stats).
    if (complete && live_tasks() != 0)
        violation("%lld tasks live after the end", static_cast<long long>(live_tasks()));
    for (std::size_t i = 0; i < tasks_.size(); ++i) {
        const task_model& t = tasks_[i];
        if (task_ended(t) && !t.anonymous && t.closes != 1)
            violation("task #%zu ended with its <close> run %d times", i, t.closes);
        if (t.has_handle) check_task_status(i);
    }
}

// Under simulated time the clock goes to each live one-off's deadline in turn, and the one-off
// must run there. One past the end of simulated time never can; one behind more interval
// expiries than one move may leave (bounded_move) is left, with the ones after it.
bool harness::finish_simulated() {
    if (stop_requested_) run_loop();  // takes the stop, which would end advance() at once
    for (;;) {
        if (raise_awaited()) drain(std::nullopt);  // tasks awaiting a signal get it
        const timer_model* first = nullptr;
        for (const timer_model& t : timers_) {
            if (t.live && !t.repeats && (!first || next_expiry(t) < next_expiry(*first)))
                first = &t;
        }
        // A task's wake-up is a one-off as well.
        const task_model* task = nullptr;
        for (const task_model& t : tasks_) {
            if (t.wake_armed && (!task || t.wake_at < task->wake_at)) task = &t;
        }
        if (first == nullptr && task == nullptr) return live_tasks() == 0;
        steady::time_point due =
            first != nullptr && (task == nullptr || next_expiry(*first) <= task->wake_at)
                ? next_expiry(*first)
                : task->wake_at;
        std::int64_t ms = std::max<std::int64_t>(0, (due - sim_now_) / milliseconds{1});
        if (due > virtual_end_ || bounded_move(ms) < ms) return false;
        if (stop_requested_) return false;  // a callback stopped the last advance(): give up
        // A jittered after timer of 2^40 ms is due later than one advance() may go.
        advance(std::min(ms, max_delay));
        if (sim_now_ < due) continue;
        if (first != nullptr && next_expiry(*first) == due && first->live)
            violation("a one-off due at %lld ns has not run by then", ns_of(due));
        if (task != nullptr && task->wake_armed && task->wake_at == due)
            violation("a task's wake-up due at %lld ns has not run by then", ns_of(due));
    }
}

int on_timer(lua_State* L) {
    return current->timer_fired(L);
}

int on_task(lua_State* L) {
    return current->task_hook(L);
}

int on_signal(lua_State* L) {
    current->signal_handled(L);
    return 0;
}

int on_error_handler(lua_State* L) {
    current->error_handled(L);
    return 0;
}

int error_tostring(lua_State* L) {
    lua_getfield(L, 1, "id");
    lua_pushfstring(L, "FUZZ-ERR#%I", lua_tointeger(L, -1));
    return 1;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    tracing = std::getenv("MOCKIT_FUZZ_TRACE") != nullptr;
    // Nothing of the environment may change what the module does between runs.
    unsetenv("NOTIFY_SOCKET");
    unsetenv("MOCKIT_LOG_LEVEL");
    // persist: a state directory of this process's own, gone (with what inputs left) at exit.
    const char* tmp = std::getenv("TMPDIR");
    std::string dir =
        std::string{tmp != nullptr && *tmp != '\0' ? tmp : "/tmp"} + "/mockit-fuzz-state.XXXXXX";
    if (::mkdtemp(dir.data()) == nullptr)
        violation("mkdtemp %s: %s", dir.c_str(), std::strerror(errno));
    state_dir = dir;
    setenv("STATE_DIRECTORY", state_dir.c_str(), 1);
    std::atexit([] {
        for (int i = 0; i < persist_count; ++i) {
            std::string file = state_file(i);
            ::unlink(file.c_str());
            ::unlink((file + ".tmp").c_str());
        }
        ::rmdir(state_dir.c_str());
    });
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in{data, size};
    harness h{in};
    h.run_ops();
    h.finish();
    return 0;
}
