// SPDX-License-Identifier: MIT
#include "c_runtime.hpp"

#include <algorithm>
#include <memory>
#include <vector>

#include "mockit/detail/precise_wakeups.hpp"
#include "quiet_thread.hpp"

namespace mockit::detail {
namespace {

time_point now() noexcept {
    return system_clock_source::instance().now();
}

}  // namespace

c_runtime::c_runtime() : thread_{start_quiet_thread([this] { run(); })} {}

c_runtime::~c_runtime() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    changed_.notify_one();
    // A callback that calls exit() runs this on the library thread itself, which cannot join.
    if (thread_.get_id() == std::this_thread::get_id()) {
        thread_.detach();
    } else {
        thread_.join();
    }
    // Timers the program never destroyed: their contexts still get their destructors, in the
    // order the timers were created. A destructor may destroy other timers (a context owning
    // the timers it created later): those are gone from owned_ when their turn comes.
    std::unique_lock lock(mutex_);
    std::vector<mockit_timer*> left(owned_.begin(), owned_.end());
    std::sort(left.begin(), left.end(),
              [](const mockit_timer* a, const mockit_timer* b) { return a->serial < b->serial; });
    for (mockit_timer* timer : left) {
        if (owned_.erase(timer) == 0) continue;
        disarm_locked(*timer);
        lock.unlock();
        finish(timer);
        lock.lock();
    }
}

c_runtime& c_runtime::instance() {
    static c_runtime runtime;
    return runtime;
}

mockit_timer* c_runtime::create(mockit_timer_kind kind, duration delay, mockit_callback callback,
                                void* context, mockit_destructor destructor) {
    auto timer = std::make_unique<mockit_timer>(
        mockit_timer{kind, delay, callback, context, destructor, timer_id{}});
    std::lock_guard lock(mutex_);
    timer->serial = ++created_;
    owned_.insert(timer.get());
    return timer.release();  // owned through owned_ until destroy()
}

void c_runtime::arm(mockit_timer& timer, duration delay) {
    std::lock_guard lock(mutex_);
    if (timer.stopping > 0) return;  // being disarmed for good: that disarm comes after this arm
    timer_id fresh = timer.kind == MOCKIT_INTERVAL ? timers_.arm_every(now(), delay)
                                                   : timers_.arm_once(now(), delay);
    try {
        armed_.emplace(fresh.slot(), &timer);
    } catch (...) {
        timers_.cancel(fresh);
        throw;
    }
    disarm_locked(timer);
    timer.delay = delay;
    timer.id = fresh;
    // Only a new earliest deadline concerns the sleeping thread.
    if (timers_.next_deadline() == timers_.deadline(fresh)) changed_.notify_one();
}

bool c_runtime::disarm(mockit_timer& timer) {
    std::unique_lock lock(mutex_);
    return disarm_finally(lock, timer);
}

bool c_runtime::disarm_finally(std::unique_lock<std::mutex>& lock, mockit_timer& timer) {
    bool was_armed = disarm_locked(timer);
    // A callback calling this for its own timer must not wait for itself.
    if (thread_.get_id() == std::this_thread::get_id()) return was_armed;
    ++timer.stopping;  // from here on, arm() leaves it alone: this disarm comes after
    callback_done_.wait(lock, [&] { return running_ != &timer; });
    --timer.stopping;
    return was_armed;
}

bool c_runtime::disarm_locked(mockit_timer& timer) {
    if (!timer.id) return false;
    timers_.cancel(timer.id);
    armed_.erase(timer.id.slot());
    timer.id = timer_id{};
    return true;
    // No wake-up: the thread finding nothing due at the old deadline is harmless.
}

bool c_runtime::armed(const mockit_timer& timer) {
    std::lock_guard lock(mutex_);
    return static_cast<bool>(timer.id);
}

void c_runtime::destroy(mockit_timer& timer) {
    std::unique_lock lock(mutex_);
    if (running_ == &timer && thread_.get_id() == std::this_thread::get_id()) {
        disarm_locked(timer);
        timer.destroy_after_callback = true;  // from its own callback: finished on return
        return;
    }
    disarm_finally(lock, timer);
    owned_.erase(&timer);
    lock.unlock();
    finish(&timer);
}

void c_runtime::finish(mockit_timer* timer) noexcept {
    std::unique_ptr<mockit_timer> owned{timer};
    if (timer->destructor != nullptr) timer->destructor(timer->context);
}

// The library thread: the loop of the C ABI.
void c_runtime::run() {
    ask_for_precise_wakeups();
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        time_point at = now();
        if (std::optional<expiry> due = timers_.take_due(at)) {
            mockit_timer& timer = *armed_.at(due->timer.slot());
            if (timer.kind == MOCKIT_ONEOFF) {  // ran: disarmed from now on
                armed_.erase(due->timer.slot());
                timer.id = timer_id{};
            }
            call(lock, timer);
            continue;
        }
        if (std::optional<time_point> next = timers_.next_deadline()) {
            // A long sleep ends a little early; the next turn sleeps the rest.
            changed_.wait_for(lock, first_sleep(*next - at));
        } else {
            changed_.wait(lock);
        }
    }
}

void c_runtime::call(std::unique_lock<std::mutex>& lock, mockit_timer& timer) {
    running_ = &timer;
    lock.unlock();
    timer.callback(&timer, timer.context);
    lock.lock();
    running_ = nullptr;
    callback_done_.notify_all();
    if (!timer.destroy_after_callback) return;
    owned_.erase(&timer);
    lock.unlock();
    finish(&timer);
    lock.lock();
}

}  // namespace mockit::detail
