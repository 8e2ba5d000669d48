// What stands behind the C ABI: one engine, its queue, and the thread that runs C callbacks.
//
// The engine thread only records expiries; a separate callback thread drains the queue and
// calls the C callbacks. So a slow callback never delays when other timers' expiries are
// recorded, and a callback may call back into the library (destroy its own timer, arm others)
// without deadlocking on the engine's lock.
//
// Lock order: runtime mutex_ -> engine -> queue. The callback thread holds mutex_ only to look
// a timer up, never while a callback runs.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "mockit/event_queue.hpp"
#include "mockit/mockit.h"
#include "mockit/timer_engine.hpp"

struct mockit_timer {
    mockit_timer_kind kind;
    mockit::duration delay;  // the one-off's delay, or the interval
    mockit_callback callback;
    void* context;
    mockit_destructor destructor;
    mockit::timer_id id;  // the current arming; empty while disarmed
    bool destroy_after_callback = false;
};

namespace mockit::detail {

class c_runtime {
  public:
    c_runtime();
    ~c_runtime();  // stops the threads, then destroys the timers the program left behind

    // The process-wide runtime, created on first use.
    static c_runtime& instance();

    mockit_timer* create(mockit_timer_kind kind, duration delay, mockit_callback callback,
                         void* context, mockit_destructor destructor);
    void arm(mockit_timer& timer, duration delay);
    bool disarm(mockit_timer& timer);
    bool armed(const mockit_timer& timer);
    void destroy(mockit_timer& timer);

  private:
    void run(const std::stop_token& stop);
    bool dispatch(timer_id id);  // false when the timer is gone
    bool disarm_locked(mockit_timer& timer);
    void wait_until_not_running(std::unique_lock<std::mutex>& lock, const mockit_timer& timer);
    static void finish(std::unique_ptr<mockit_timer> timer) noexcept;

    std::mutex mutex_;
    std::condition_variable callback_done_;
    std::unordered_set<mockit_timer*> timers_;           // every live timer (owned)
    std::unordered_map<timer_id, mockit_timer*> armed_;  // the armed ones, by arming
    const mockit_timer* running_ = nullptr;              // whose callback runs now
    event_queue queue_;
    timer_engine engine_{queue_};
    std::jthread callback_thread_;  // last: started once everything above exists
};

}  // namespace mockit::detail
