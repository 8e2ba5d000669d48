// SPDX-License-Identifier: MIT
#include "mockit/sleep.hpp"

#include <time.h>

#include <algorithm>
#include <cerrno>

namespace mockit {
namespace {

timespec to_timespec(time_point t) noexcept {
    auto since = t.time_since_epoch();
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(since);
    return timespec{static_cast<time_t>(secs.count()), static_cast<long>((since - secs).count())};
}

}  // namespace

sleep_result system_clock_source::sleep_until(time_point deadline, bool resume) {
    // std::chrono::steady_clock is CLOCK_MONOTONIC, so its time points are absolute
    // CLOCK_MONOTONIC times: TIMER_ABSTIME sleeps to the deadline however often it restarts.
    timespec target = to_timespec(deadline);
    for (;;) {
        int rc = ::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &target, nullptr);
        if (rc == EINTR && resume) continue;
        if (rc != EINTR) return sleep_result{false, std::chrono::milliseconds{0}};
        auto left = std::chrono::floor<std::chrono::milliseconds>(deadline - now());
        return sleep_result{true, std::max(left, std::chrono::milliseconds{0})};
    }
}

sleep_result sleep_for(clock_source& clock, std::chrono::milliseconds ms, bool resume) {
    return clock.sleep_until(clock.now() + ms, resume);
}

}  // namespace mockit
