// SPDX-License-Identifier: MIT
// Time for mockit: one monotonic time line for deadlines, one wall clock for users, and a
// seam between them and the rest of the library.
//
// Every part of libmockit that needs "now" asks a clock_source it was given; nothing reads
// the system clock behind its back. That is what lets unit tests drive time by hand
// (manual_clock) and, later, a script run in simulated time.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace mockit {

// Deadlines live on the monotonic clock: wall-clock changes (NTP, date -s) never move a timer.
using duration = std::chrono::steady_clock::duration;  // nanoseconds
using time_point = std::chrono::steady_clock::time_point;
using wall_time_point = std::chrono::system_clock::time_point;

// The seed's time tuple: whole seconds since the Unix epoch and milliseconds since that second.
struct wall_time {
    std::int64_t secs;
    std::int32_t ms;
};

// Why a sleep ended before its deadline.
struct sleep_result {
    bool interrupted;                // a signal handler ran and resuming was not asked for
    std::chrono::milliseconds left;  // time still to sleep, rounded down (0 when complete)
};

class clock_source {
  public:
    virtual ~clock_source() = default;

    // Monotonic time (CLOCK_MONOTONIC on the system clock).
    [[nodiscard]] virtual time_point now() const noexcept = 0;

    // Wall-clock time (CLOCK_REALTIME on the system clock).
    [[nodiscard]] virtual wall_time_point wall_now() const noexcept = 0;

    // Blocks the caller until `deadline` on this clock. A signal handler that runs meanwhile
    // ends the sleep early unless `resume` is set. The deadline is absolute, so repeated
    // interruptions never add up to oversleeping.
    virtual sleep_result sleep_until(time_point deadline, bool resume) = 0;
};

// The real clocks of the machine. Stateless: one shared instance serves everyone.
class system_clock_source final : public clock_source {
  public:
    [[nodiscard]] time_point now() const noexcept override;
    [[nodiscard]] wall_time_point wall_now() const noexcept override;
    sleep_result sleep_until(time_point deadline, bool resume) override;

    static system_clock_source& instance() noexcept;
};

// A clock that moves only when told to: monotonic and wall time advance together, as they do
// when real time passes. sleep_until() simply moves the clock to the deadline. Thread-safe.
class manual_clock final : public clock_source {
  public:
    explicit manual_clock(time_point start = time_point{std::chrono::hours{1}},
                          wall_time_point wall_start = wall_time_point{
                              std::chrono::seconds{1'700'000'000}}) noexcept;

    [[nodiscard]] time_point now() const noexcept override;
    [[nodiscard]] wall_time_point wall_now() const noexcept override;
    sleep_result sleep_until(time_point deadline, bool resume) override;

    void advance(duration by) noexcept;
    // Moves the clock to `t`; a time in the past is ignored (monotonic time never goes back).
    void set(time_point t) noexcept;
    // Steps the wall clock alone to `t`, as NTP or `date -s` do; monotonic time does not move.
    void set_wall(wall_time_point t) noexcept;

  private:
    time_point start_;
    wall_time_point wall_start_;
    std::atomic<duration::rep> elapsed_{0};
    std::atomic<duration::rep> wall_step_{0};  // the sum of set_wall's steps
};

// The seed's conversions, usable with any clock: mockit.time() and mockit.mstimestamp().
[[nodiscard]] wall_time to_wall_time(wall_time_point t) noexcept;
[[nodiscard]] std::int64_t to_ms_timestamp(wall_time_point t) noexcept;
// Nanoseconds of the monotonic clock, as mockit.hrtime() reports them.
[[nodiscard]] std::int64_t to_hrtime(time_point t) noexcept;

}  // namespace mockit
