// A mutex that spins for a moment before it sleeps (the classic three-state futex mutex, with
// C++20 atomic wait/notify as the futex).
//
// Why not std::mutex: the engine's lock is shared by the thread arming timers and the engine
// thread, on different cores, and each holds it for well under a microsecond per operation.
// With std::mutex every collision put a thread to sleep in the kernel and cost the other a
// wake-up call: arming a million timers while earlier ones expired spent more time in futex
// calls than in the engine. Spinning through a holder's short critical section avoids both;
// a holder that takes long (or is preempted) still sees its waiters go to sleep.
#pragma once

#include <atomic>

namespace mockit::detail {

class adaptive_mutex {
  public:
    adaptive_mutex() = default;
    adaptive_mutex(const adaptive_mutex&) = delete;
    adaptive_mutex& operator=(const adaptive_mutex&) = delete;

    void lock() noexcept {
        for (int i = 0; i < spin_limit; ++i) {
            if (try_lock()) return;
            relax();
        }
        // From here on the lock is marked contended, so its holder knows to wake a sleeper.
        while (state_.exchange(contended, std::memory_order_acquire) != unlocked)
            state_.wait(contended, std::memory_order_relaxed);
    }

    bool try_lock() noexcept {
        int expected = unlocked;
        return state_.load(std::memory_order_relaxed) == unlocked &&
               state_.compare_exchange_strong(expected, locked, std::memory_order_acquire,
                                              std::memory_order_relaxed);
    }

    void unlock() noexcept {
        if (state_.exchange(unlocked, std::memory_order_release) == contended) state_.notify_one();
    }

  private:
    static constexpr int unlocked = 0;
    static constexpr int locked = 1;     // held, nobody asleep
    static constexpr int contended = 2;  // held, and someone may be asleep waiting for it
    // About 10-20 microseconds of spinning: longer than the engine's usual critical sections.
    static constexpr int spin_limit = 2000;

    static void relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        asm volatile("yield");
#endif
    }

    std::atomic<int> state_{unlocked};
};

}  // namespace mockit::detail
