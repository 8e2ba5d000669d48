#include "mockit/event_queue.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

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

event_queue::event_queue() : eventfd_{::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)} {
    if (eventfd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
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
    std::uint64_t position = position_of_slot_[slot];
    if (position > first_position_) {
        event& queued = entries_[position - 1 - first_position_];
        if (queued.timer == e.timer) {
            queued.count += e.count;
            pending_ += e.count;
            return;
        }
    }
    entries_.push_back(e);
    position_of_slot_[slot] = first_position_ + entries_.size();
    pending_ += e.count;
}

void event_queue::discard(timer_id id) noexcept {
    std::lock_guard lock(mutex_);
    if (id.slot() >= position_of_slot_.size()) return;
    std::uint64_t position = position_of_slot_[id.slot()];
    if (position <= first_position_) return;
    event& queued = entries_[position - 1 - first_position_];
    if (queued.timer != id) return;
    pending_ -= queued.count;
    queued.timer = timer_id{};  // dead: skipped by take(), still counted by size()
    queued.count = 0;
}

std::size_t event_queue::take(std::vector<event>& out, std::size_t max_calls) {
    std::lock_guard lock(mutex_);
    std::size_t taken = 0;
    while (!entries_.empty() && taken < max_calls) {
        event& front = entries_.front();
        if (front.timer) {
            std::uint64_t n = std::min<std::uint64_t>(front.count, max_calls - taken);
            out.push_back(event{front.timer, front.due, front.period, n});
            taken += n;
            pending_ -= n;
            if (n < front.count) {  // split: the rest stays first in line
                front.count -= n;
                front.due += front.period * static_cast<duration::rep>(n);
                break;
            }
        }
        entries_.pop_front();
        ++first_position_;
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
    return entries_.size();
}

}  // namespace mockit
