#include "mockit/timer_engine.hpp"

#include <algorithm>
#include <system_error>
#include <vector>

#include "mockit/detail/precise_wakeups.hpp"
#include "mockit/error.hpp"
#include "quiet_thread.hpp"
#include "thread_allocator.hpp"
#include "timer_heap.hpp"

namespace mockit {
namespace {

void check_delay(duration delay) {
    if (delay < duration::zero() || delay > timer_engine::max_delay) {
        throw std::system_error(errc::out_of_range);
    }
}

void check_interval(duration interval) {
    check_delay(interval);
    // A zero interval would expire without end on every poll.
    if (interval == duration::zero()) throw std::system_error(errc::invalid_argument);
}

}  // namespace

timer_engine::timer_engine(expiry_sink& sink, clock_source& clock, engine_mode mode)
    : sink_{sink}, clock_{clock}, heap_{std::make_unique<detail::timer_heap>()}, mode_{mode} {}

timer_engine::~timer_engine() {
    if (!thread_.joinable()) return;
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    changed_.notify_one();
    thread_.join();
}

timer_id timer_engine::arm_once(duration delay, std::uint32_t tag) {
    check_delay(delay);
    return arm(delay, duration::zero(), tag);
}

timer_id timer_engine::arm_every(duration interval, std::uint32_t tag) {
    check_interval(interval);
    return arm(interval, interval, tag);
}

timer_id timer_engine::arm(duration delay, duration interval, std::uint32_t tag) {
    std::lock_guard lock(mutex_);
    time_point deadline = clock_.now() + delay;  // from the call, not from the thread's start
    if (mode_ == engine_mode::threaded) start_thread_once();
    timer_id id = heap_->insert(deadline, interval, tag, delay);
    wake_if_earlier(deadline);
    return id;
}

bool timer_engine::cancel(timer_id id) noexcept {
    std::lock_guard lock(mutex_);
    // Expiries already recorded go too; a lone one-off's may be there even though the timer
    // itself has already left the heap.
    sink_.discard(id);
    return heap_->erase(id);
    // No wake-up: the thread finding nothing due at the old deadline is harmless and rarer
    // than cancels.
}

timer_id timer_engine::reset(timer_id id, duration delay) {
    check_delay(delay);
    std::lock_guard lock(mutex_);
    std::optional<duration> interval = heap_->interval(id);
    if (!interval) return timer_id{};
    std::uint32_t tag = heap_->tag(id);
    bool repeats = *interval != duration::zero();
    if (repeats) check_interval(delay);
    sink_.discard(id);
    heap_->erase(id);
    time_point deadline = clock_.now() + delay;
    timer_id fresh = heap_->insert(deadline, repeats ? delay : duration::zero(), tag, delay);
    wake_if_earlier(deadline);
    return fresh;
}

bool timer_engine::armed(timer_id id) const {
    std::lock_guard lock(mutex_);
    return heap_->contains(id);
}

std::optional<time_point> timer_engine::deadline(timer_id id) const {
    std::lock_guard lock(mutex_);
    return heap_->deadline(id);
}

std::optional<time_point> timer_engine::next_deadline() const {
    std::lock_guard lock(mutex_);
    return heap_->earliest();
}

std::size_t timer_engine::size() const {
    std::lock_guard lock(mutex_);
    return heap_->size();
}

std::size_t timer_engine::poll(std::size_t max) {
    std::lock_guard lock(mutex_);
    return expire_due(clock_.now(), max);
}

std::size_t timer_engine::take_due(std::vector<event>& out, std::size_t max) {
    std::lock_guard lock(mutex_);
    return heap_->expire(clock_.now(), out, max);
}

std::size_t timer_engine::expire_due(time_point now, std::size_t max) {
    // Collected first, then handed over in one call: one lock of the sink per wake-up, not
    // one per expiry. Both happen under mutex_, so a cancel() that returned is final.
    batch_.clear();
    heap_->expire(now, batch_, max);
    if (!batch_.empty()) sink_.record(batch_);
    return batch_.size();
}

void timer_engine::set_owner_records(bool records) noexcept {
    std::lock_guard lock(mutex_);
    owner_records_ = records;
    if (!records && parked_) changed_.notify_one();
}

void timer_engine::start_thread() {
    std::lock_guard lock(mutex_);
    start_thread_once();  // timers armed before it are in the heap it starts from
}

void timer_engine::start_thread_once() {
    // The thread starts with the first timer (or start_thread()), not with the engine: a
    // program that never arms one (`mockit-run -e ''`, a script that only logs) never pays for
    // it. It blocks on mutex_, held here, until the caller is done.
    if (mode_ == engine_mode::manual || thread_.joinable()) return;
    // The thread ends on stopping_, under the mutex it waits with, not on its stop_token.
    thread_ = detail::start_quiet_thread([this](const std::stop_token&) { run(); });
}

void timer_engine::wake_if_earlier(time_point deadline) {
    // Only a new earliest deadline concerns the sleeping thread; waking it for every arm would
    // cost a context switch per timer. Nor is it woken before its batching gap is over.
    if (!thread_.joinable()) return;
    time_point wake = std::max(deadline, earliest_wake_);
    if (sleeping_until_ && *sleeping_until_ <= wake) return;
    sleeping_until_ = wake;
    changed_.notify_one();
}

void timer_engine::run() {
    detail::ask_for_precise_wakeups();
    detail::set_up_thread_allocator();
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        if (owner_records_) {
            park(lock);
            continue;
        }
        time_point now = clock_.now();
        expire_due(now);
        earliest_wake_ = now + batching_gap;
        sleeping_until_ = heap_->earliest();
        if (sleeping_until_) {
            sleeping_until_ = std::max(*sleeping_until_, earliest_wake_);
            // Relative to the engine's own clock, so any clock_source keeps its meaning.
            changed_.wait_for(lock, detail::first_sleep(*sleeping_until_ - clock_.now()));
        } else {
            changed_.wait(lock);
        }
    }
}

void timer_engine::park(std::unique_lock<detail::adaptive_mutex>& lock) {
    // The owner records what falls due itself: until it hands that back there is nothing to
    // do, no deadline to sleep to, and arms need not wake the thread (wake_if_earlier sees a
    // wake-up that is never later than theirs).
    parked_ = true;
    sleeping_until_ = time_point::min();
    changed_.wait(lock, [this] { return stopping_ || !owner_records_; });
    parked_ = false;
}

}  // namespace mockit
