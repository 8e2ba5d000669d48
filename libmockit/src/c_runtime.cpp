#include "c_runtime.hpp"

#include "quiet_thread.hpp"

namespace mockit::detail {

c_runtime::c_runtime()
    : callback_thread_{start_quiet_thread([this](const std::stop_token& stop) { run(stop); })} {}

c_runtime::~c_runtime() {
    callback_thread_.request_stop();
    queue_.wake();
    callback_thread_.join();
    // Timers the program never destroyed: their contexts still get their destructors.
    for (mockit_timer* timer : timers_)
        finish(std::unique_ptr<mockit_timer>{timer});
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
    timers_.insert(timer.get());
    return timer.release();  // owned through timers_ until destroy()
}

void c_runtime::arm(mockit_timer& timer, duration delay) {
    std::lock_guard lock(mutex_);
    timer_id fresh =
        timer.kind == MOCKIT_INTERVAL ? engine_.arm_every(delay) : engine_.arm_once(delay);
    disarm_locked(timer);
    timer.delay = delay;
    timer.id = fresh;
    armed_.emplace(fresh, &timer);
}

bool c_runtime::disarm(mockit_timer& timer) {
    std::unique_lock lock(mutex_);
    bool was_armed = disarm_locked(timer);
    wait_until_not_running(lock, timer);
    return was_armed;
}

bool c_runtime::disarm_locked(mockit_timer& timer) {
    if (!timer.id) return false;
    engine_.cancel(timer.id);
    armed_.erase(timer.id);
    timer.id = timer_id{};
    return true;
}

bool c_runtime::armed(const mockit_timer& timer) {
    std::lock_guard lock(mutex_);
    return static_cast<bool>(timer.id);
}

void c_runtime::destroy(mockit_timer& timer) {
    std::unique_lock lock(mutex_);
    disarm_locked(timer);
    if (running_ == &timer && callback_thread_.get_id() == std::this_thread::get_id()) {
        timer.destroy_after_callback = true;  // from its own callback: finished on return
        return;
    }
    wait_until_not_running(lock, timer);
    timers_.erase(&timer);
    lock.unlock();
    finish(std::unique_ptr<mockit_timer>{&timer});
}

void c_runtime::wait_until_not_running(std::unique_lock<std::mutex>& lock,
                                       const mockit_timer& timer) {
    // A callback calling this for its own timer must not wait for itself.
    if (callback_thread_.get_id() == std::this_thread::get_id()) return;
    callback_done_.wait(lock, [&] { return running_ != &timer; });
}

void c_runtime::finish(std::unique_ptr<mockit_timer> timer) noexcept {
    if (timer->destructor != nullptr) timer->destructor(timer->context);
}

void c_runtime::run(const std::stop_token& stop) {
    std::vector<event> batch;
    while (!stop.stop_requested()) {
        queue_.wait();
        batch.clear();
        queue_.take(batch);
        for (const event& e : batch) {
            for (std::uint64_t k = 0; k < e.count && !stop.stop_requested(); ++k) {
                if (!dispatch(e.timer)) break;
            }
        }
    }
}

bool c_runtime::dispatch(timer_id id) {
    mockit_timer* timer = nullptr;
    {
        std::lock_guard lock(mutex_);
        auto found = armed_.find(id);
        if (found == armed_.end()) return false;  // disarmed or destroyed since it expired
        timer = found->second;
        if (timer->kind == MOCKIT_ONEOFF) {  // fired: disarmed from now on
            armed_.erase(found);
            timer->id = timer_id{};
        }
        running_ = timer;
    }
    timer->callback(timer, timer->context);
    std::unique_ptr<mockit_timer> finished;
    {
        std::lock_guard lock(mutex_);
        running_ = nullptr;
        if (timer->destroy_after_callback) {
            timers_.erase(timer);
            finished.reset(timer);
        }
    }
    callback_done_.notify_all();
    if (finished) finish(std::move(finished));
    return true;
}

}  // namespace mockit::detail
