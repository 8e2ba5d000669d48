// The hand-over between the engine thread (producer) and the thread that runs callbacks
// (consumer: the Lua state's thread, or the C API's callback thread).
//
// Semantics:
// - Events come out in the order they went in, which is expiry order.
// - A timer has at most one event queued: a further expiry of a timer that already has one
//   adds to its count. So the queue holds at most one entry per timer, however long nobody
//   drains it (a 1 ms timer left alone for an hour is one entry with a count of 3.6 million).
// - discard() marks a timer's entry dead at once; it stops counting in pending() but keeps its
//   place (and counts in size()) until a take() passes over it.
// - wait() blocks on an eventfd, so wake() can be called from a signal handler.
//
// Costs: record O(1) per expiry, discard O(1), take O(events taken).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "mockit/event.hpp"
#include "mockit/export.h"

namespace mockit {

class MOCKIT_API event_queue final : public expiry_sink {
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

    // Moves events worth at most `max_calls` callbacks to the back of `out`, oldest first,
    // splitting the last event's count if needed, and dropping dead entries on the way.
    // Returns the number of callbacks moved.
    std::size_t take(std::vector<event>& out, std::size_t max_calls = SIZE_MAX);

    // Makes the current wait() return, or the next one if nobody waits: a wake is never lost.
    // Async-signal-safe.
    void wake() noexcept;

    // Callbacks still to run: the sum of the live entries' counts.
    [[nodiscard]] std::size_t pending() const;
    // Entries, dead ones included.
    [[nodiscard]] std::size_t size() const;

  private:
    void append_or_coalesce(const event& e);
    bool block(std::optional<time_point> deadline);  // false: woken, interrupted or timed out
    void consume_eventfd() noexcept;

    mutable std::mutex mutex_;
    std::deque<event> entries_;
    // Absolute position (+1) of each slot's newest entry, so a further expiry of the same timer
    // finds its entry in O(1). Positions are checked against the entry's id, so a stale one is
    // harmless. Indexed by timer slot: dense, as the engine reuses slots.
    std::vector<std::uint64_t> position_of_slot_;
    std::uint64_t first_position_ = 0;  // absolute position of entries_.front()
    std::size_t pending_ = 0;
    bool consumer_blocked_ = false;
    std::atomic<bool> woken_{false};
    int eventfd_ = -1;
};

}  // namespace mockit
