// SPDX-License-Identifier: MIT
// What stands behind the C ABI: the core's timer queue, driven by a thread of the library, which
// sleeps until the next deadline and calls the C callbacks of what is due, one at a time, as
// the Lua loop does on its own thread. C has no loop to run them from.
//
// A callback runs with the lock released, so it may call back into the library (arm others,
// disarm or destroy any timer, its own included). Disarming or destroying a timer from another
// thread waits until its callback, if running, has returned: after that it never runs again,
// even if the callback re-armed it meanwhile.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "mockit/mockit.h"
#include "mockit/timer_queue.hpp"

struct mockit_timer {
    mockit_timer_kind kind;
    mockit::duration delay;  // the one-off's delay, or the interval
    mockit_callback callback;
    void* context;
    mockit_destructor destructor;
    mockit::timer_id id;       // the current arming; empty while disarmed
    std::uint64_t serial = 0;  // creation order
    // Threads disarming or destroying it that wait for its callback to return: meanwhile the
    // callback's own re-arm is refused, so the disarm is final once it returns.
    int stopping = 0;
    bool destroy_after_callback = false;
};

namespace mockit::detail {

class c_runtime {
  public:
    c_runtime();
    ~c_runtime();  // stops the thread, then destroys the timers the program left behind

    // The process-wide runtime, created on first use.
    static c_runtime& instance();

    mockit_timer* create(mockit_timer_kind kind, duration delay, mockit_callback callback,
                         void* context, mockit_destructor destructor);
    void arm(mockit_timer& timer, duration delay);
    bool disarm(mockit_timer& timer);
    bool armed(const mockit_timer& timer);
    void destroy(mockit_timer& timer);

  private:
    void run();
    void call(std::unique_lock<std::mutex>& lock, mockit_timer& timer);
    bool disarm_locked(mockit_timer& timer);
    // Disarms the timer for good: waits for its running callback, if any, to return, refusing
    // the re-arms it makes meanwhile. Returns whether it was armed.
    bool disarm_finally(std::unique_lock<std::mutex>& lock, mockit_timer& timer);
    static void finish(mockit_timer* timer) noexcept;  // calls the destructor, frees

    std::mutex mutex_;
    std::condition_variable changed_;  // a new earliest deadline, or the thread is to stop
    std::condition_variable callback_done_;
    timer_queue timers_;
    std::unordered_set<mockit_timer*> owned_;                 // every live timer
    std::unordered_map<std::uint32_t, mockit_timer*> armed_;  // the armed ones, by queue slot
    const mockit_timer* running_ = nullptr;                   // whose callback runs now
    std::uint64_t created_ = 0;
    bool stopping_ = false;
    std::jthread thread_;  // last: started once everything above exists
};

}  // namespace mockit::detail
