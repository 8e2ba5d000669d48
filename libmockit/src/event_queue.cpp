#include "mockit/event_queue.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include "indexed_heap.hpp"

namespace mockit {
namespace {

// ppoll's timeout for a deadline on the steady clock; nullopt blocks without limit.
std::optional<timespec> timeout_until(std::optional<time_point> deadline) {
    if (!deadline) return std::nullopt;
    auto left = std::max(*deadline - std::chrono::steady_clock::now(), duration::zero());
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(left);
    return timespec{static_cast<time_t>(secs.count()), static_cast<long>((left - secs).count())};
}

}  // namespace

event_queue::event_queue()
    : entries_{std::make_unique<detail::indexed_heap<entry, before, moved>>(before{}, moved{this})},
      eventfd_{::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)} {
    if (eventfd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

bool event_queue::before::operator()(const entry& a, const entry& b) const noexcept {
    if (a.expiries.due != b.expiries.due) return a.expiries.due < b.expiries.due;
    return a.order < b.order;
}

void event_queue::moved::operator()(const entry& e, std::size_t position) const noexcept {
    // Dead entries are nobody's; and when one slot has entries of two successive timers (a
    // fired one-off's and its slot's next tenant's), the map follows whichever moved last: a
    // lookup checks the id, so the worst case is a missed coalescing or discard, which the
    // consumer's own id check covers.
    if (e.expiries.timer) owner->position_of_slot_[e.expiries.timer.slot()] = position + 1;
}

event_queue::~event_queue() {
    ::close(eventfd_);
}

void event_queue::record(std::span<const event> expiries) {
    bool wake_consumer = false;
    {
        std::lock_guard lock(mutex_);
        bool was_idle = pending_ == 0;
        for (const event& e : expiries)
            append_or_coalesce(e);
        wake_consumer = was_idle && consumer_blocked_ && pending_ > 0;
    }
    // Written outside the lock so the woken consumer does not at once block on it. Only the
    // empty-to-non-empty edge is signalled: a consumer that is awake drains without prompting.
    if (wake_consumer) {
        std::uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(eventfd_, &one, sizeof one);
    }
}

void event_queue::append_or_coalesce(const event& e) {
    std::uint32_t slot = e.timer.slot();
    if (slot >= position_of_slot_.size()) position_of_slot_.resize(std::size_t{slot} + 1, 0);
    pending_ += e.count;
    if (std::uint64_t position = position_of_slot_[slot]; position != 0) {
        entry& queued = (*entries_)[position - 1];
        if (queued.expiries.timer == e.timer) {
            queued.expiries.count += e.count;  // its next expiry, and so its place, stay
            return;
        }
    }
    entries_->push(entry{e, next_order_++});
}

void event_queue::discard(timer_id id) noexcept {
    std::lock_guard lock(mutex_);
    if (id.slot() >= position_of_slot_.size()) return;
    std::uint64_t position = position_of_slot_[id.slot()];
    if (position == 0) return;
    entry& queued = (*entries_)[position - 1];
    if (queued.expiries.timer != id) return;
    pending_ -= queued.expiries.count;
    queued.expiries.timer = timer_id{};  // dead: dropped by take(), still counted by size()
    queued.expiries.count = 0;
    position_of_slot_[id.slot()] = 0;
}

// How many expiries of the first entry come before the best other entry (its "rival", one of
// the root's children), so they can be handed out as one event.
std::uint64_t event_queue::calls_before_rival(const entry& first) const noexcept {
    const auto& heap = *entries_;
    const event& e = first.expiries;
    if (e.count == 1 || e.period <= duration::zero() || heap.size() == 1) return e.count;
    std::size_t rival = 1;
    for (std::size_t c = 2; c <= 4 && c < heap.size(); ++c) {
        if (before{}(heap[c], heap[rival])) rival = c;
    }
    const entry& r = heap[rival];
    auto k = static_cast<std::uint64_t>((r.expiries.due - e.due) / e.period);  // due_k <= rival
    bool tie_lost =
        e.due + e.period * static_cast<duration::rep>(k) == r.expiries.due && r.order < first.order;
    return std::min(e.count, tie_lost ? k : k + 1);
}

// Hands out `calls` expiries of the first entry: it leaves, or moves on to its next expiry.
void event_queue::take_from_top(std::uint64_t calls) noexcept {
    auto& heap = *entries_;
    event& e = heap[0].expiries;
    pending_ -= calls;
    if (calls < e.count) {
        e.count -= calls;
        e.due += e.period * static_cast<duration::rep>(calls);
        heap.restore(0);
        return;
    }
    if (position_of_slot_[e.timer.slot()] == 1) position_of_slot_[e.timer.slot()] = 0;
    heap.remove_at(0);
}

std::size_t event_queue::take(std::vector<event>& out, std::size_t max_calls) {
    std::lock_guard lock(mutex_);
    auto& heap = *entries_;
    std::size_t taken = 0;
    while (!heap.empty() && taken < max_calls) {
        const entry& first = heap.top();
        if (!first.expiries.timer) {  // dead: discarded after it was recorded
            heap.remove_at(0);
            continue;
        }
        std::uint64_t calls = std::min<std::uint64_t>(calls_before_rival(first), max_calls - taken);
        out.push_back(
            event{first.expiries.timer, first.expiries.due, first.expiries.period, calls});
        taken += calls;
        take_from_top(calls);
    }
    return taken;
}

std::size_t event_queue::wait(std::optional<duration> timeout) {
    std::optional<time_point> deadline;
    if (timeout) deadline = std::chrono::steady_clock::now() + *timeout;
    std::unique_lock lock(mutex_);
    while (pending_ == 0) {
        if (woken_.exchange(false)) return 0;
        consumer_blocked_ = true;
        lock.unlock();
        bool keep_waiting = block(deadline);
        lock.lock();
        consumer_blocked_ = false;
        if (!keep_waiting) break;
    }
    return pending_;
}

bool event_queue::block(std::optional<time_point> deadline) {
    pollfd pfd{eventfd_, POLLIN, 0};
    std::optional<timespec> limit = timeout_until(deadline);
    int ready = ::ppoll(&pfd, 1, limit ? &*limit : nullptr, nullptr);
    if (ready < 0) return false;   // EINTR: a signal handler ran; let the caller see to it
    if (ready == 0) return false;  // timed out
    consume_eventfd();
    return !woken_.exchange(false);  // an event arrived, or wake() was called
}

void event_queue::consume_eventfd() noexcept {
    std::uint64_t count = 0;
    [[maybe_unused]] auto n = ::read(eventfd_, &count, sizeof count);
}

void event_queue::wake() noexcept {
    // Only async-signal-safe operations: an atomic store and write(2).
    woken_.store(true);
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(eventfd_, &one, sizeof one);
}

std::size_t event_queue::pending() const {
    std::lock_guard lock(mutex_);
    return pending_;
}

std::size_t event_queue::size() const {
    std::lock_guard lock(mutex_);
    return entries_->size();
}

void event_queue::clear_wake() noexcept {
    woken_.store(false);
}

}  // namespace mockit
