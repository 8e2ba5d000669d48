// SPDX-License-Identifier: MIT
// The timers of one loop, in the order they fall due: the one structure both drivers run, the
// Lua loop on its own thread and the C ABI on the library's thread. It runs no code and reads
// no clock: its owner says what time it is.
//
// Semantics:
// - A one-off armed at `now` with delay `d` falls due at `now + d`. An interval timer armed at
//   `now` with interval `i` falls due at `now + k*i` for k = 1, 2, ...: an absolute schedule
//   that never drifts, however late its runs are.
// - take_due() hands out one expiry at a time, the earliest first; timers due at the same time
//   come out in the order they were armed. A one-off leaves as it is handed out. An interval
//   timer moves one period on, so one that missed k deadlines (a stopped process, a slow
//   callback) is handed out k times, interleaved with the other timers' expiries as they fell
//   due: A (every 20 ms) and B (every 30 ms) left alone give A B A A B ... Memory stays one
//   slot per timer, however long nobody takes anything.
// - cancel() is immediate: a cancelled timer's due expiries are never handed out.
//
// Costs: timers armed with one delay fall due in arming order, as the clock only moves forward.
// So, like Node.js with its per-duration lists, a delay has lanes: doubly linked lists of timers in
// deadline order, to which arming appends in O(1). An interval timer moved on goes to a second
// lane of its interval, the moved lane, which it joins in order too (see reschedule). A delay
// used once costs a lane all the same (a hash map node and a heap entry), so a one-off opens the
// lane of its delay only when that delay repeats: when a one-off of the same delay went elsewhere
// lately (see seen_lately). Until then one-offs go to lanes of another kind, runs, which need no
// delay, only deadline order: a one-off goes behind the run whose last deadline is the latest
// not after its own (a binary search over the runs, kept sorted by their last deadlines), and
// opens a new run only when it falls due before every run's last. That is patience sorting:
// 100,000 one-offs at random delays make some 600 runs, where a lane per delay made 100,000 lanes.
// A small indexed heap orders all lanes by their first deadline: taking an expiry costs
// O(log lanes), not O(log timers), and a million timers over 2,000 delays make a 2,000-entry heap
// that stays in the cache. A timer that would break its lane's order (an interval armed at an
// earlier `now` than its lane's last), and a one-off that would open a run beyond max_runs, go to
// a general indexed heap instead, at O(log n). Every timer lives in a slot, reused after it is
// gone (a generation count tells the slot's tenants apart), which links it into its lane or
// knows its place in the general heap: a timer leaves from anywhere at once, so cancelling an
// hour-long timer frees its slot now, not in an hour.
//
// Counting what is due (due()) walks the due timers: O(due + lanes). The loops count only when a
// script asks (pending(), inqueue(), wait()'s result); running what is due never counts.
//
// Not thread-safe: the owner serialises access.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "mockit/clock.hpp"
#include "mockit/detail/indexed_heap.hpp"
#include "mockit/detail/segmented_vector.hpp"

namespace mockit {

// Names one arming of one timer: its slot and the slot's generation, so an id held after its
// timer was cancelled, ran (one-off) or was re-armed can never reach another timer. Zero is
// never a valid id.
class timer_id {
  public:
    constexpr timer_id() noexcept = default;
    constexpr timer_id(std::uint32_t slot, std::uint32_t generation) noexcept
        : value_{(std::uint64_t{generation} << 32) | slot} {}

    [[nodiscard]] constexpr std::uint32_t slot() const noexcept {
        return static_cast<std::uint32_t>(value_);
    }
    [[nodiscard]] constexpr std::uint32_t generation() const noexcept {
        return static_cast<std::uint32_t>(value_ >> 32);
    }
    constexpr explicit operator bool() const noexcept { return value_ != 0; }
    constexpr friend bool operator==(timer_id, timer_id) noexcept = default;

  private:
    std::uint64_t value_ = 0;
};

// One expiry handed out by take_due().
struct expiry {
    timer_id timer;
    time_point due;  // when it fell due
};

// What due() counts.
struct due_count {
    std::size_t timers = 0;    // timers with at least one expiry due
    std::size_t expiries = 0;  // their expiries: an interval that missed k deadlines counts k
};

class timer_queue {
  public:
    // The longest delay or interval accepted: 2^40 ms, about 34.8 years. Longer ones are
    // rejected (errc::out_of_range), never wrapped around.
    static constexpr duration max_delay = std::chrono::milliseconds{std::int64_t{1} << 40};

    // Arms a one-off due `delay` after `now`. Throws std::system_error: errc::out_of_range for a
    // negative delay or one beyond max_delay, errc::no_memory when the slot numbers run out
    // (over 4 billion timers); or std::bad_alloc.
    timer_id arm_once(time_point now, duration delay);
    // Arms an interval timer; `interval` must also be positive (errc::invalid_argument).
    timer_id arm_every(time_point now, duration interval);

    // The slot the next arm takes. Slots are small numbers, reused as timers go, so an owner
    // keeps its record of each timer in an array indexed by slot, and can make room for the
    // next one before arming (as the Lua binding's pins table does).
    [[nodiscard]] std::uint32_t next_slot() const noexcept {
        return free_slot_ != none ? free_slot_ : static_cast<std::uint32_t>(slots_.size());
    }

    // Disarms `id`; false when it is not armed (already ran as a one-off, cancelled, unknown).
    bool cancel(timer_id id) noexcept;

    // Moves armed timer `id` to fall due next at `deadline`; an interval timer's later expiries
    // follow one interval apart from there. False when `id` is not armed. For schedules the owner
    // plans itself (a missed-tick policy, jitter): it costs O(log n), as the timer joins the
    // general heap. Throws std::bad_alloc, and then the timer is gone (as if cancelled).
    bool move_to(timer_id id, time_point deadline);

    // The earliest expiry due at or before `now`, taken out; nullopt when nothing is due. With
    // `armed_before` (a mark from next_sequence()), a timer armed since the mark and due exactly
    // at `now` is left for later. So a drain runs only what was due when it began even on a
    // clock that stands still while callbacks run (simulated time), where a callback's 0 ms
    // one-off is due at once, and one that re-arms itself would keep the drain going for ever.
    std::optional<expiry> take_due(time_point now,
                                   std::optional<std::uint32_t> armed_before = std::nullopt);
    // The arming order of the next timer armed: a mark for take_due().
    [[nodiscard]] std::uint32_t next_sequence() const noexcept { return next_sequence_; }

    [[nodiscard]] due_count due(time_point now) const noexcept;
    [[nodiscard]] std::optional<time_point> next_deadline() const noexcept;
    [[nodiscard]] bool armed(timer_id id) const noexcept;
    [[nodiscard]] std::optional<time_point> deadline(timer_id id) const noexcept;
    [[nodiscard]] std::size_t size() const noexcept { return size_; }  // armed timers
    // Open lanes: the lanes of delays and the one-offs' runs.
    [[nodiscard]] std::size_t lanes() const noexcept { return lanes_by_head_.size(); }
    // Of those, the one-offs' runs.
    [[nodiscard]] std::size_t runs() const noexcept { return runs_.size(); }

    // The most runs one-offs open; a one-off that would open another goes to the general heap.
    // Bounds what opening and closing a run move in the sorted runs (16 bytes a run).
    static constexpr std::size_t max_runs = 4096;

  private:
    static constexpr std::uint32_t none = UINT32_MAX;
    static constexpr std::uint32_t in_heap = (1U << 31) - 1;  // slot::lane of a general-heap timer

    // A million timers make a million slots: every byte here is a megabyte there.
    struct slot {
        duration::rep deadline;
        std::uint32_t generation;  // of the current (or next) tenant; never 0
        std::uint32_t sequence;    // arming order: the tie-break between equal deadlines
        std::uint32_t lane : 31;   // its lane, or in_heap
        bool repeats : 1;          // an interval timer (see interval_of)
        // The next timer of its lane (none at the tail); its position in the general heap;
        // the next free slot while free.
        std::uint32_t link;
        std::uint32_t prev;  // the previous timer of its lane (none at the head)
    };
    static_assert(sizeof(slot) == 32);  // 28 bytes of fields, aligned to 8
    enum class lane_kind : std::uint8_t {
        armed,  // the lane of a delay: one-offs and intervals armed with it
        moved,  // the second lane of an interval: its timers moved on one period
        run,    // one-offs in deadline order, of any delays
    };
    struct lane {
        duration::rep delay;  // a delay's lane: the delay; a run: unused
        std::uint32_t head;
        std::uint32_t tail;
        std::uint32_t position;  // in lanes_by_head_
        lane_kind kind;
    };
    // lane_of_key_'s key: a delay (at most max_delay, so doubling it cannot overflow) and which
    // of its two lanes.
    static duration::rep lane_key(duration::rep delay, lane_kind kind) noexcept {
        return delay * 2 + (kind == lane_kind::moved ? 1 : 0);
    }
    // What the heaps order by, copied out of the slot so comparisons stay in the heap's own
    // array: the general heap's keys name a slot, the lanes heap's name a lane.
    struct key {
        duration::rep deadline;
        std::uint32_t owner;
        std::uint32_t sequence;
    };
    // A general-heap timer keeps its interval here (0 for a one-off), as it has no lane.
    struct heap_timer {
        key order;
        duration::rep interval;
    };

    struct before {
        bool operator()(const key& a, const key& b) const noexcept;
        bool operator()(const heap_timer& a, const heap_timer& b) const noexcept {
            return (*this)(a.order, b.order);
        }
    };
    struct timer_moved {
        timer_queue* queue;
        void operator()(const heap_timer& t, std::size_t position) const noexcept;
    };
    struct lane_moved {
        timer_queue* queue;
        void operator()(const key& k, std::size_t position) const noexcept;
    };

    timer_id insert(time_point deadline, duration interval, duration delay);
    [[nodiscard]] const slot* find(timer_id id) const noexcept;
    [[nodiscard]] key key_of(std::uint32_t index, std::uint32_t owner) const noexcept;
    [[nodiscard]] duration::rep interval_of(std::uint32_t index) const noexcept;
    [[nodiscard]] std::optional<std::uint32_t> first() const noexcept;
    std::uint32_t allocate_slot();
    void release_slot(std::uint32_t index) noexcept;
    void count_due(std::uint32_t index, duration::rep now, due_count& count) const noexcept;

    // Whether a timer due at (deadline, sequence) may go behind the lane's tail.
    [[nodiscard]] bool fits_after_tail(std::uint32_t lane_index, duration::rep deadline,
                                       std::uint32_t sequence) const noexcept;
    void place(std::uint32_t index, duration::rep interval, lane_kind kind);
    void place_once(std::uint32_t index, duration::rep delay);
    bool seen_lately(duration::rep delay, std::uint32_t sequence);
    void place_in_run(std::uint32_t index);
    [[nodiscard]] key* first_run_not_after(duration::rep deadline) noexcept;
    void open_lane(std::uint32_t index, duration::rep delay, lane_kind kind);
    void append(std::uint32_t lane_index, std::uint32_t index) noexcept;
    void take_out(std::uint32_t index) noexcept;
    void unlink(std::uint32_t index) noexcept;
    void head_changed(std::uint32_t lane_index) noexcept;
    void close_lane(std::uint32_t lane_index) noexcept;
    void reschedule(std::uint32_t index, duration::rep interval);

    detail::segmented_vector<slot> slots_;
    std::uint32_t free_slot_ = none;
    std::uint32_t next_sequence_ = 0;
    std::size_t size_ = 0;

    std::vector<lane> lanes_;
    std::vector<std::uint32_t> free_lanes_;
    std::unordered_map<duration::rep, std::uint32_t> lane_of_key_;  // the delays' lanes
    // The runs by the key of the last one-off appended to each (owner: the run's lane), latest
    // first, so a new run, due before all of them, goes at the end. A run's last one-off may
    // have left since (cancelled): its key here stays, later than the run's tail, which keeps
    // appending behind it in order.
    std::vector<key> runs_;
    // Delays of one-offs sent to runs lately, with the arming order when each was written: a
    // one-off whose delay is found here opens a lane of that delay (see seen_lately). 64 kB,
    // allocated with the first one-off whose delay has no lane.
    struct seen_delay {
        duration::rep delay;  // -1: a free way
        std::uint32_t sequence;
    };
    static constexpr std::size_t seen_sets = 2048;  // of two ways each
    static constexpr std::uint32_t seen_span = 2 * seen_sets * 2;
    using seen_delays = std::array<std::array<seen_delay, 2>, seen_sets>;
    std::unique_ptr<seen_delays> seen_;
    detail::indexed_heap<key, before, lane_moved> lanes_by_head_{before{}, lane_moved{this}};
    detail::indexed_heap<heap_timer, before, timer_moved> heap_{before{}, timer_moved{this}};
};

}  // namespace mockit
