// The hand-over between the engine thread (producer) and the thread that runs callbacks
// (consumer: the Lua state's thread, or the C API's callback thread).
//
// Semantics:
// - Expiries come out in expiry order: by due time, and in the order they were recorded when
//   due at the same time. That holds across a backlog too: if timer A (every 20 ms) and B
//   (every 30 ms) were left undrained, take() yields A B A A B ..., as the expiries happened.
// - A timer has at most one entry: a further expiry of a timer that already has one adds to
//   its count, and taking one call moves the entry on to its next expiry. So the queue holds
//   at most one entry per timer, however long nobody drains it (a 1 ms timer left alone for an
//   hour is one entry with a count of 3.6 million).
// - discard() marks a timer's entry dead at once; it stops counting in pending() but stays (and
//   counts in size()) until a take() reaches it.
// - wait() blocks on an eventfd, so wake() can be called from a signal handler.
//
// Structure: three lanes, each in expiry order, whose heads take() merges.
// - Entries recorded in expiry order (nearly all: the engine records in that order) go to the
//   recorded FIFO.
// - An entry that a take moves on to its next expiry goes to the moved FIFO when it does not
//   come before that FIFO's last entry. In a backlog of timers of one period, which is what an
//   overloaded loop has, every entry moved on comes in order: each take moves the earliest
//   entry one period on, behind all the others.
// - Only the rest (recorded out of order, or moved on out of order: timers of mixed periods)
//   goes to an indexed heap; a heap entry moved on goes to the moved FIFO when it can.
//
// Costs: record and take O(1) per event in the common case, including a backlog of timers of
// one period; O(log n) for backlog entries that have to stay in the heap (n: timers with
// undrained expiries). discard O(1), except O(n) in the rare case of a fired one-off whose
// slot a later timer reused before either was drained.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "mockit/event.hpp"

namespace mockit {

namespace detail {
template <class T, class Before, class Moved>
class indexed_heap;
}

class event_queue final : public expiry_sink {
  public:
    event_queue();  // throws std::system_error when no eventfd can be had
    ~event_queue();
    event_queue(const event_queue&) = delete;
    event_queue& operator=(const event_queue&) = delete;

    // Producer side (expiry_sink).
    void record(std::span<const event> expiries) override;
    void discard(timer_id id) noexcept override;

    // Returns at once when callbacks are pending; otherwise blocks until one is, `timeout`
    // passes, wake() is called, or a signal handler runs in this thread. No timeout: no limit.
    // Returns pending() (0 when it returned for any reason but an event).
    std::size_t wait(std::optional<duration> timeout = std::nullopt);

    // Moves events worth at most `max_calls` callbacks to the back of `out`, in expiry order,
    // dropping dead entries on the way. An event's count covers only the expiries of its timer
    // that come before any other timer's. Returns the number of callbacks moved.
    std::size_t take(std::vector<event>& out, std::size_t max_calls = SIZE_MAX);

    // Makes the current wait() return, or the next one if nobody waits: a wake is never lost.
    // Async-signal-safe.
    void wake() noexcept;
    // Forgets a wake() that no wait() consumed yet: for a consumer that has already dealt
    // with whatever the wake announced (a signal), so it does not cut the next wait short.
    void clear_wake() noexcept;

    // Callbacks still to run: the sum of the live entries' counts.
    [[nodiscard]] std::size_t pending() const;
    // Entries, dead ones included.
    [[nodiscard]] std::size_t size() const;

  private:
    struct entry {
        event expiries;       // the next undelivered expiry, and how many there are
        std::uint64_t order;  // recording order: the tie-break between equal due times
    };
    struct before {
        bool operator()(const entry& a, const entry& b) const noexcept;
    };
    struct moved {
        event_queue* owner;
        void operator()(const entry& e, std::size_t position) const noexcept;
    };

    using heap_type = detail::indexed_heap<entry, before, moved>;
    enum class lane : std::uint8_t { recorded, moved_on, heap };

    // A FIFO lane; positions are absolute (they count every entry ever pushed), so the slot
    // map stays valid as the front moves.
    struct fifo {
        std::deque<entry> items;
        std::uint64_t first = 0;  // absolute position of items.front()
    };

    // position_of_slot_ holds (position + 1) | the lane's bits, 0 for none.
    static constexpr int lane_shift = 62;
    static constexpr std::uint64_t position_mask = (std::uint64_t{1} << lane_shift) - 1;
    static std::uint64_t mapped_position(lane l, std::uint64_t position) noexcept {
        return (position + 1) | (std::uint64_t{static_cast<std::uint8_t>(l)} << lane_shift);
    }

    void append_or_coalesce(const event& e);
    void push_back(fifo& f, lane l, const entry& e);
    void pop_front(fifo& f, lane l) noexcept;
    fifo& fifo_of(lane l) noexcept { return l == lane::recorded ? recorded_ : moved_on_; }
    const fifo& fifo_of(lane l) const noexcept {
        return l == lane::recorded ? recorded_ : moved_on_;
    }
    [[nodiscard]] const entry* head(lane l) const noexcept;
    [[nodiscard]] std::optional<lane> first_lane() const noexcept;
    entry* locate(std::uint32_t slot) noexcept;
    entry* search(timer_id id) noexcept;
    void drop_dead_heads() noexcept;
    const entry* rival_of(lane first) const noexcept;
    static std::uint64_t calls_before(const entry& first, const entry* rival) noexcept;
    void hand_out(lane first, std::uint64_t calls);
    void move_on(const entry& e);
    void forget_position(const entry& e, std::uint64_t mapped) noexcept;
    bool block(std::optional<time_point> deadline);  // false: woken, interrupted or timed out
    void consume_eventfd() noexcept;

    mutable std::mutex mutex_;
    fifo recorded_;                    // recorded in expiry order
    fifo moved_on_;                    // moved on by a take, in expiry order
    std::unique_ptr<heap_type> heap_;  // the rest, by next expiry
    // Where each slot's entry is, so a further expiry of the same timer finds it in O(1)
    // (see mapped_position).
    // Checked against the entry's id, so a stale one is harmless. Indexed by timer slot:
    // dense, as the engine reuses slots.
    std::vector<std::uint64_t> position_of_slot_;
    // Live entries per slot. The map names at most one of them; when it cannot name the one
    // discard() looks for but the slot has others (fired one-offs of earlier tenants), only a
    // search can find it.
    std::vector<std::uint32_t> entries_of_slot_;
    std::uint64_t next_order_ = 0;
    std::size_t pending_ = 0;
    bool consumer_blocked_ = false;
    std::atomic<bool> woken_{false};
    int eventfd_ = -1;
};

}  // namespace mockit
