// The engine's data structure: the timers, and the order in which they fall due.
//
// Each timer lives in a slot (reused after the timer is gone; a generation count tells the
// successive tenants of a slot apart). An indexed 4-ary min-heap holds one entry per armed
// timer, ordered by (deadline, arming sequence), and each slot knows where its entry is, so a
// timer can leave the heap from anywhere in O(log n): cancelling an hour-long timer frees its
// memory now, not in an hour (unlike lazy deletion).
//
// Not thread-safe: timer_engine serialises access. Costs: insert, erase, and each expiry
// O(log n); the earliest deadline O(1). Memory: 40 bytes per armed timer (a 24-byte slot and a
// 16-byte heap entry).
//
// The arming sequence lives in the heap entry, where it fills what would be padding and spares
// the comparison a trip to the slot. It is 32 bits, compared with wrap-around: two timers due
// at the very same nanosecond come out in arming order unless over 2^31 timers were armed
// between them.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "indexed_heap.hpp"
#include "mockit/clock.hpp"
#include "mockit/event.hpp"

namespace mockit::detail {

class timer_heap {
  public:
    // Arms a timer due at `deadline`; a positive `interval` makes it repeat every `interval`
    // after that, on an absolute schedule; its events carry `tag`. Throws
    // std::system_error(errc::no_memory) when the slot numbers run out (over 4 billion armed
    // timers).
    timer_id insert(time_point deadline, duration interval, std::uint32_t tag = 0);

    // Disarms `id`; false when it is not armed.
    bool erase(timer_id id) noexcept;

    [[nodiscard]] bool contains(timer_id id) const noexcept;
    [[nodiscard]] std::optional<time_point> deadline(timer_id id) const noexcept;
    [[nodiscard]] std::optional<duration> interval(timer_id id) const noexcept;
    [[nodiscard]] std::uint32_t tag(timer_id id) const noexcept;  // 0 when not armed
    [[nodiscard]] std::optional<time_point> earliest() const noexcept;
    [[nodiscard]] std::size_t size() const noexcept { return heap_.size(); }

    // Appends to `out` one event per timer due at `now`, in expiry order. One-offs leave the
    // heap; an interval timer that missed k > 1 deadlines yields one event with count k and
    // moves to its next deadline after `now`.
    void expire(time_point now, std::vector<event>& out);

  private:
    struct slot {
        duration::rep interval;    // 0 for a one-off
        std::uint32_t generation;  // of the current (or next) tenant; never 0
        std::uint32_t link;        // heap position while armed, next free slot while free
        std::uint32_t tag;         // the owner's number for the timer, copied into its events
    };
    struct entry {
        duration::rep deadline;
        std::uint32_t slot;
        std::uint32_t sequence;  // arming order: the tie-break between equal deadlines
    };
    static constexpr std::uint32_t no_slot = UINT32_MAX;

    struct before {
        bool operator()(const entry& a, const entry& b) const noexcept;
    };
    struct moved {
        timer_heap* owner;
        void operator()(const entry& e, std::size_t position) const noexcept;
    };

    [[nodiscard]] const slot* find(timer_id id) const noexcept;
    std::uint32_t allocate_slot();
    void release_slot(std::uint32_t index) noexcept;

    std::vector<slot> slots_;
    indexed_heap<entry, before, moved> heap_{before{}, moved{this}};
    std::uint32_t free_head_ = no_slot;
    std::uint32_t next_sequence_ = 0;
};

}  // namespace mockit::detail
