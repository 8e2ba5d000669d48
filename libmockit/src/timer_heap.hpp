// The engine's data structure: the timers, and the order in which they fall due.
//
// Timers armed with the same delay fall due in the order they were armed, since the clock only
// moves forward. So, like Node.js with its per-duration lists, every distinct delay has a lane:
// a doubly linked list of timers in deadline order, to which arming appends in O(1). A small
// indexed heap orders the lanes by their first deadline, so an expiry costs O(log lanes), not
// O(log timers): a million timers spread over 2,000 delays make a 2,000-entry heap that stays
// in the cache. An interval timer that fell due moves to the back of its interval's lane.
//
// A timer that would break its lane's order goes to a general indexed 4-ary heap instead: an
// interval put back on its absolute grid ahead of a timer armed after it, or a deadline given
// by hand. The earliest deadline is the earlier of the two heaps' tops.
//
// Each timer lives in a slot, reused after the timer is gone (a generation count tells the
// successive tenants of a slot apart), which also links it into its lane or knows its place in
// the general heap. So a timer can leave from anywhere: O(1) from a lane, O(log n) from the
// general heap. Cancelling an hour-long timer frees its memory now, not in an hour (unlike
// lazy deletion).
//
// An interval timer's lane is always its interval's, so its slot need not keep the interval:
// its lane's delay is it, or, in the general heap, its heap entry keeps it.
//
// Not thread-safe: timer_engine serialises access. Memory: 32 bytes per timer in a lane, 24
// more in the general heap; a few dozen bytes per distinct delay.
//
// Ties: timers due at the same nanosecond come out in arming order, by a 32-bit arming
// sequence compared with wrap-around (right unless over 2^31 timers were armed between them).
// An interval timer keeps its sequence when it moves on.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "indexed_heap.hpp"
#include "mockit/clock.hpp"
#include "mockit/event.hpp"
#include "segmented_vector.hpp"

namespace mockit::detail {

class timer_heap {
  public:
    // Arms a timer due at `deadline`; a positive `interval` makes it repeat every `interval`
    // after that, on an absolute schedule; its events carry `tag`. `delay` is how far ahead
    // of the present the deadline is: it picks a one-off's lane (timers armed with one delay
    // fall due in arming order); an interval timer goes in its interval's lane. Throws
    // std::system_error(errc::no_memory) when the slot numbers run out (over 4 billion armed
    // timers), or std::bad_alloc.
    timer_id insert(time_point deadline, duration interval, std::uint32_t tag = 0,
                    duration delay = duration::zero());

    // Disarms `id`; false when it is not armed.
    bool erase(timer_id id) noexcept;

    [[nodiscard]] bool contains(timer_id id) const noexcept;
    [[nodiscard]] std::optional<time_point> deadline(timer_id id) const noexcept;
    [[nodiscard]] std::optional<duration> interval(timer_id id) const noexcept;
    [[nodiscard]] std::uint32_t tag(timer_id id) const noexcept;  // 0 when not armed
    [[nodiscard]] std::optional<time_point> earliest() const noexcept;
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] std::size_t lanes() const noexcept { return lane_of_delay_.size(); }

    // Appends to `out` one event per timer due at `now`, in expiry order, at most `max` of
    // them: the rest stay due for the next call. One-offs leave; an interval timer that missed
    // k > 1 deadlines yields one event with count k and moves to its next deadline after `now`.
    // Returns the number of events appended.
    std::size_t expire(time_point now, std::vector<event>& out, std::size_t max = SIZE_MAX);

  private:
    static constexpr std::uint32_t none = UINT32_MAX;
    static constexpr std::uint32_t in_heap = (1U << 31) - 1;  // slot::lane of a general-heap timer

    // A million timers make a million slots: every byte here is a megabyte there.
    struct slot {
        duration::rep deadline;
        std::uint32_t generation;  // of the current (or next) tenant; never 0
        std::uint32_t tag;         // the owner's number for the timer, copied into its events
        std::uint32_t sequence;    // arming order: the tie-break between equal deadlines
        std::uint32_t lane : 31;   // its lane, or in_heap
        bool repeats : 1;          // an interval timer (see interval_of)
        // The next timer of its lane (none at the tail); its position in the general heap;
        // the next free slot while free.
        std::uint32_t link;
        std::uint32_t prev;  // the previous timer of its lane (none at the head)
    };
    static_assert(sizeof(slot) == 32);
    struct lane {
        duration::rep delay;
        std::uint32_t head;
        std::uint32_t tail;
        std::uint32_t position;  // in lanes_by_head_
    };
    // A heap entry copies its timer's (deadline, sequence), so comparisons stay in the heap's
    // own array: the general heap's names a slot, the lanes heap's names a lane.
    struct entry {
        duration::rep deadline;
        std::uint32_t owner;
        std::uint32_t sequence;
    };
    // The general heap's entries keep their timer's interval (0 for a one-off), as no lane does.
    struct timer_entry {
        entry key;
        duration::rep interval;
    };

    struct before {
        bool operator()(const entry& a, const entry& b) const noexcept;
        bool operator()(const timer_entry& a, const timer_entry& b) const noexcept {
            return (*this)(a.key, b.key);
        }
    };
    struct timer_moved {
        timer_heap* heap;
        void operator()(const timer_entry& e, std::size_t position) const noexcept;
    };
    struct lane_moved {
        timer_heap* heap;
        void operator()(const entry& e, std::size_t position) const noexcept;
    };

    [[nodiscard]] const slot* find(timer_id id) const noexcept;
    [[nodiscard]] entry key_of(std::uint32_t index, std::uint32_t owner) const noexcept;
    [[nodiscard]] duration::rep interval_of(std::uint32_t index) const noexcept;
    [[nodiscard]] std::optional<std::uint32_t> first() const noexcept;
    std::uint32_t allocate_slot();
    void release_slot(std::uint32_t index) noexcept;

    // Whether a timer due at (deadline, sequence) may go behind the lane's tail.
    [[nodiscard]] bool fits_after_tail(std::uint32_t lane_index, duration::rep deadline,
                                       std::uint32_t sequence) const noexcept;
    void place(std::uint32_t index, duration::rep delay);  // delay: the interval if it repeats
    void open_lane(std::uint32_t index, duration::rep delay);
    void append(std::uint32_t lane_index, std::uint32_t index) noexcept;
    void take_out(std::uint32_t index) noexcept;
    void unlink(std::uint32_t index) noexcept;
    void head_changed(std::uint32_t lane_index) noexcept;
    void close_lane(std::uint32_t lane_index) noexcept;
    [[nodiscard]] std::optional<entry> runner_up() const noexcept;
    std::size_t expire_run(std::uint32_t lane_index, duration::rep now_ns, std::vector<event>& out,
                           std::size_t max);
    void cut_lane_head(std::uint32_t lane_index, std::uint32_t index) noexcept;
    void move_on(std::uint32_t index, duration::rep interval, std::uint64_t missed);

    segmented_vector<slot> slots_;
    std::uint32_t free_slot_ = none;
    std::uint32_t next_sequence_ = 0;
    std::size_t size_ = 0;

    std::vector<lane> lanes_;
    std::vector<std::uint32_t> free_lanes_;
    std::unordered_map<duration::rep, std::uint32_t> lane_of_delay_;
    indexed_heap<entry, before, lane_moved> lanes_by_head_{before{}, lane_moved{this}};
    indexed_heap<timer_entry, before, timer_moved> heap_{before{}, timer_moved{this}};
};

}  // namespace mockit::detail
