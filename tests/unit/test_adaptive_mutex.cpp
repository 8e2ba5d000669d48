#include <catch2/catch.hpp>
#include <mutex>
#include <thread>
#include <vector>

#include "mockit/detail/adaptive_mutex.hpp"

using mockit::detail::adaptive_mutex;

TEST_CASE("adaptive_mutex: threads hammering one counter lose no increment", "[adaptive_mutex]") {
    // Long critical sections now and then push waiters past their spinning into the sleeping
    // path, so both ways of getting the lock are exercised.
    adaptive_mutex mutex;
    long counter = 0;  // plain: only the mutex protects it (TSan checks that)
    constexpr int threads = 4;
    constexpr int rounds = 20000;
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&] {
            for (int i = 0; i < rounds; ++i) {
                std::lock_guard lock(mutex);
                if (i % 1000 == 0) std::this_thread::sleep_for(std::chrono::microseconds{200});
                ++counter;
            }
        });
    }
    for (auto& w : workers)
        w.join();
    CHECK(counter == long{threads} * rounds);
}

TEST_CASE("adaptive_mutex: try_lock fails while held and succeeds once released",
          "[adaptive_mutex]") {
    adaptive_mutex mutex;
    REQUIRE(mutex.try_lock());
    bool other_got_it = true;
    std::thread([&] { other_got_it = mutex.try_lock(); }).join();
    CHECK_FALSE(other_got_it);
    mutex.unlock();
    std::thread([&] {
        other_got_it = mutex.try_lock();
        if (other_got_it) mutex.unlock();
    }).join();
    CHECK(other_got_it);
}
