// The timer engine: every one-off and interval timer of a process (or of a Lua state) on one
// thread, recording expiries into an expiry_sink (normally an event_queue). It never runs
// user code and never sees Lua.
//
// Semantics:
// - A one-off armed at `t` with delay `d` expires once, at `t + d` or later. It is then gone:
//   its id stops being armed() the moment its expiry is recorded.
// - An interval timer armed at `t` with interval `i` expires at `t + k*i` for k = 1, 2, ...:
//   the schedule is absolute, so the k-th expiry never drifts, however late the previous ones
//   were recorded or run. If the engine wakes late past several of them (a stopped process,
//   an overloaded machine) it records them all at once as one event with a count.
// - Timers due at the same time expire in the order they were armed.
// - cancel() is immediate: once it returns, no further expiry of that timer is recorded, and
//   the ones already recorded are discarded from the sink.
// - reset() restarts a timer's countdown from now, with a given delay (interval), and gives
//   the timer a new id: expiries recorded under the old id are discarded.
//
// Costs: timers armed with one delay form a lane in deadline order (see timer_heap.hpp), so
// arm, cancel and reset are O(1), or O(log d) for d distinct delays when they change a lane's
// first timer, and an expiry is O(log d); only timers that fall out of their lane's order cost
// O(log n). A thread waiting for a deadline an hour away costs nothing until then (it sleeps on
// a condition variable until the earliest deadline, and is woken early only when a timer with
// an earlier deadline is armed).
//
// Precision: the thread wakes at a deadline, with the smallest timer slack the kernel allows,
// but at most once per batching_gap: deadlines closer together than that (a million timers
// over two seconds fall due every two microseconds) are recorded in batches, each expiry
// still carrying its own deadline. A deadline more than a millisecond away is slept for in two
// steps, the last 200 us from a CPU already awake (a CPU that slept long wakes late). A consumer
// that wants to be woken exactly at a deadline waits for next_deadline() itself and calls poll()
// or take_due() there, as the Lua binding does.
//
// Thread-safety: every member function may be called from any thread, including from inside
// the sink's consumer while the engine runs.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "mockit/clock.hpp"
#include "mockit/detail/adaptive_mutex.hpp"
#include "mockit/event.hpp"

namespace mockit {

namespace detail {
class timer_heap;
}

enum class engine_mode {
    threaded,  // the engine's own thread records expiries as their deadlines come; it starts
               // with the first timer
    deferred,  // the same thread, started by start_thread() (poll() works before that)
    manual,    // no thread: expiries are recorded only when the owner calls poll()
};

class timer_engine {
  public:
    // The longest delay or interval accepted: 2^40 ms, about 34.8 years. Longer ones are
    // rejected (errc::out_of_range), never wrapped around.
    static constexpr duration max_delay = std::chrono::milliseconds{std::int64_t{1} << 40};
    // The engine thread's shortest sleep between two wake-ups (the kernel's default timer
    // slack): without it, dense deadlines cost one futex call each.
    static constexpr duration batching_gap = std::chrono::microseconds{50};

    explicit timer_engine(expiry_sink& sink, clock_source& clock = system_clock_source::instance(),
                          engine_mode mode = engine_mode::threaded);
    ~timer_engine();  // stops and joins the thread; armed timers are simply forgotten
    timer_engine(const timer_engine&) = delete;
    timer_engine& operator=(const timer_engine&) = delete;

    // Arms a one-off timer due `delay` from now. Throws std::system_error with
    // errc::out_of_range for a negative delay or one beyond max_delay. `tag` is the caller's own
    // number for the timer, handed back in each of its events (and kept by reset()): a caller
    // can find its record of a timer from an event without a map keyed by ids.
    timer_id arm_once(duration delay, std::uint32_t tag = 0);
    // Arms an interval timer; `interval` must be positive (errc::invalid_argument) and at most
    // max_delay (errc::out_of_range).
    timer_id arm_every(duration interval, std::uint32_t tag = 0);

    // Disarms `id`. Returns false when it was not armed (already fired, cancelled, unknown).
    bool cancel(timer_id id) noexcept;

    // Restarts an armed timer's countdown from now: a one-off becomes due `delay` from now, an
    // interval timer repeats every `delay` from now. Returns the timer's new id, or an empty id
    // when `id` was not armed. Throws as arm_once/arm_every do for a bad delay, leaving the
    // timer as it was. (The engine keeps no delay of its own for one-offs: callers that offer
    // "reset with the same delay" keep it, as the Lua binding and the C API do.)
    timer_id reset(timer_id id, duration delay);

    [[nodiscard]] bool armed(timer_id id) const;
    // The next expiry of an armed timer.
    [[nodiscard]] std::optional<time_point> deadline(timer_id id) const;
    [[nodiscard]] std::optional<time_point> next_deadline() const;
    [[nodiscard]] std::size_t size() const;  // armed timers

    // Records the expiries due at the clock's current time, in expiry order: all of them, or
    // the first `max` (events; an interval's missed deadlines make one), leaving the rest due
    // for the next poll. An owner that drains as it goes can so keep the sink to a bounded
    // size however many timers fell due at once. The engine thread records all of them; in
    // manual mode the owner calls it. Returns the number of events recorded.
    std::size_t poll(std::size_t max = SIZE_MAX);
    // Like poll(), but appends the events to `out` instead of recording them: for an owner that
    // records and runs the expiries itself (set_owner_records), and so needs no hand-over to
    // another thread. The sink never sees these events, so cancel() cannot discard them: the
    // owner skips the expiries of timers it cancelled after taking them. Returns the number of
    // events appended.
    std::size_t take_due(std::vector<event>& out, std::size_t max = SIZE_MAX);

    // For an owner that records expiries itself, as the Lua loop does: it calls poll() (or
    // take_due()) whenever it looks at the sink, and never waits past next_deadline(), so it wakes
    // at each deadline on its own and records there. While set, the thread stays out of the way: it
    // sleeps without a deadline, and neither deadlines nor arms wake it, until the owner hands the
    // recording back. Two threads woken at each deadline would only contend: on a two-core
    // machine the second one's wake-up cost the first one its core (a first tick 0.2 ms late),
    // and a thread recording on another core while the owner arms and drains only moves cache
    // lines and locks between the cores (a third of a million-timer drain's speed). Off by
    // default: the thread records, and wakes the sink's consumer.
    void set_owner_records(bool records) noexcept;

    // Starts the thread of a deferred engine (nothing for the other modes, or once started).
    // Starting a thread takes a few hundred microseconds: an owner that waits for deadlines
    // itself calls this when it is about to wait, rather than paying for it in the first arm,
    // which would make a deadline armed just before late.
    void start_thread();

    [[nodiscard]] clock_source& clock() const noexcept { return clock_; }

  private:
    timer_id arm(duration delay, duration interval, std::uint32_t tag);
    std::size_t expire_due(time_point now, std::size_t max = SIZE_MAX);  // needs mutex_
    void run();
    void park(std::unique_lock<detail::adaptive_mutex>& lock);  // while the owner records
    void wake_if_earlier(time_point deadline);                  // needs mutex_
    void start_thread_once();                                   // needs mutex_

    expiry_sink& sink_;
    clock_source& clock_;
    mutable detail::adaptive_mutex mutex_;
    std::condition_variable_any changed_;
    std::unique_ptr<detail::timer_heap> heap_;
    std::vector<event> batch_;                  // expiries of one poll, reused
    std::optional<time_point> sleeping_until_;  // when the thread will wake, if it waits
    time_point earliest_wake_{};                // its last wake-up plus batching_gap
    bool stopping_ = false;
    bool owner_records_ = false;  // see set_owner_records
    bool parked_ = false;         // the thread sleeps until the owner hands recording back
    const engine_mode mode_;
    std::jthread thread_;  // started by the first arm (or start_thread()), after all the above
};

}  // namespace mockit
