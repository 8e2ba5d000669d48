// SPDX-License-Identifier: MIT
#include "mockit/clock.hpp"

namespace mockit {

time_point system_clock_source::now() const noexcept {
    return std::chrono::steady_clock::now();
}

wall_time_point system_clock_source::wall_now() const noexcept {
    return std::chrono::system_clock::now();
}

system_clock_source& system_clock_source::instance() noexcept {
    // Never destroyed: the C ABI's thread may still read the clock while exit() runs static
    // destructors (a script calling os.exit with timers armed), so it must outlive them all.
    static auto* const clock = new system_clock_source{};
    return *clock;
}

manual_clock::manual_clock(time_point start, wall_time_point wall_start) noexcept
    : start_{start}, wall_start_{wall_start} {}

time_point manual_clock::now() const noexcept {
    return start_ + duration{elapsed_.load()};
}

wall_time_point manual_clock::wall_now() const noexcept {
    return wall_start_ + std::chrono::duration_cast<wall_time_point::duration>(
                             duration{elapsed_.load() + wall_step_.load()});
}

void manual_clock::set_wall(wall_time_point t) noexcept {
    wall_step_.fetch_add(std::chrono::duration_cast<duration>(t - wall_now()).count());
}

sleep_result manual_clock::sleep_until(time_point deadline, bool) {
    set(deadline);  // simulated time: sleeping is time passing, and nothing can interrupt it
    return sleep_result{false, std::chrono::milliseconds{0}};
}

void manual_clock::advance(duration by) noexcept {
    if (by > duration::zero()) elapsed_.fetch_add(by.count());
}

void manual_clock::set(time_point t) noexcept {
    duration::rep target = (t - start_).count();
    duration::rep current = elapsed_.load();
    while (target > current && !elapsed_.compare_exchange_weak(current, target)) {
    }
}

wall_time to_wall_time(wall_time_point t) noexcept {
    auto ms = to_ms_timestamp(t);
    // Floor division, so times before 1970 still give 0 <= ms < 1000.
    std::int64_t secs = ms / 1000 - (ms % 1000 < 0 ? 1 : 0);
    return wall_time{secs, static_cast<std::int32_t>(ms - secs * 1000)};
}

std::int64_t to_ms_timestamp(wall_time_point t) noexcept {
    return std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::int64_t to_hrtime(time_point t) noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace mockit
