// SPDX-License-Identifier: MIT
#include <atomic>
#include <catch2/catch.hpp>
#include <csignal>
#include <thread>

#include "mockit/sleep.hpp"

using namespace std::chrono_literals;

namespace {

std::atomic<int> handled{0};
extern "C" void count_signal(int) {
    handled.fetch_add(1);
}

// Installs a SIGUSR2 handler without SA_RESTART (as a Lua host's handler would be) and
// sends the calling thread SIGUSR2 after each of `delays`, from a helper thread.
class signal_sender {
  public:
    explicit signal_sender(std::initializer_list<std::chrono::milliseconds> delays) {
        struct sigaction action {};
        action.sa_handler = count_signal;
        sigaction(SIGUSR2, &action, &previous_);
        pthread_t target = pthread_self();
        std::vector<std::chrono::milliseconds> at(delays);
        thread_ = std::jthread([target, at] {
            for (auto d : at) {
                std::this_thread::sleep_for(d);
                pthread_kill(target, SIGUSR2);
            }
        });
    }
    ~signal_sender() {
        thread_.join();
        sigaction(SIGUSR2, &previous_, nullptr);
    }

  private:
    struct sigaction previous_ {};
    std::jthread thread_;
};

}  // namespace

TEST_CASE("sleep: a manual clock sleeps in no time", "[sleep]") {
    mockit::manual_clock clock;
    auto start = clock.now();
    auto result = mockit::sleep_for(clock, 1500ms, false);
    CHECK_FALSE(result.interrupted);
    CHECK(result.left == 0ms);
    CHECK(clock.now() - start == 1500ms);
}

TEST_CASE("sleep: sleeps at least the time asked", "[sleep][realtime]") {
    auto& clock = mockit::system_clock_source::instance();
    auto start = clock.now();
    auto result = mockit::sleep_for(clock, 30ms, false);
    CHECK_FALSE(result.interrupted);
    CHECK(clock.now() - start >= 30ms);
}

TEST_CASE("sleep: a signal ends it early and says what was left", "[sleep][realtime]") {
    auto& clock = mockit::system_clock_source::instance();
    int before = handled.load();
    signal_sender sender{50ms};
    auto start = clock.now();
    auto result = mockit::sleep_for(clock, 5000ms, false);
    CHECK(result.interrupted);
    CHECK(handled.load() == before + 1);
    CHECK(result.left > 0ms);
    CHECK(result.left <= 5000ms);  // the signal may come under 50 ms into the sleep
    CHECK(clock.now() - start < 4s);
}

TEST_CASE("sleep: with resume it completes, without oversleeping", "[sleep][realtime]") {
    auto& clock = mockit::system_clock_source::instance();
    int before = handled.load();
    signal_sender sender{20ms, 20ms, 20ms};
    auto start = clock.now();
    auto result = mockit::sleep_for(clock, 300ms, true);
    auto slept = clock.now() - start;
    CHECK_FALSE(result.interrupted);
    CHECK(handled.load() > before);  // at least one interruption (TSan may merge them)
    CHECK(slept >= 300ms);
    CHECK(slept < 300ms + 250ms);  // an absolute deadline: interruptions add nothing
}
