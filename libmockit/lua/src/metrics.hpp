// What the loop and its timers tell about themselves (SPEC section 9): how late callbacks start,
// how busy the loop is, and, per timer made by mockit.timer, its runs, missed expiries and busy
// time. mockit.metrics() returns them as a table, metrics_text() as OpenMetrics text.
//
// Recording adds no wake-up and almost no work: the loop's lateness is measured against the time
// the loop turn began (the drain's horizon, read once per turn), the loop's idle time around the
// wait it makes anyway. Only runs of mockit.timer timers read the clock, at their start and end.
#pragma once

#include <array>
#include <cstdint>
#include <lua.hpp>
#include <map>
#include <string>

#include "mockit/clock.hpp"

namespace mockit::lua::detail {

struct context;

// Lateness in whole microseconds, counted in log-linear buckets: exact below 8 µs, then eight
// buckets per power of two (within 12.5%), up to 2^36 µs (19 hours; later still counts there).
// 1,088 bytes, no allocation: HdrHistogram's layout, cut down to what a p99 needs.
class lateness_histogram {
  public:
    static constexpr int sub_bits = 3;
    static constexpr int top_power = 36;
    static constexpr std::size_t bucket_count = (top_power - sub_bits + 1) << sub_bits;

    void record(std::uint64_t us) noexcept;
    [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
    [[nodiscard]] std::uint64_t sum() const noexcept { return sum_; }
    [[nodiscard]] std::uint64_t max() const noexcept { return max_; }
    // The smallest recorded value v with at least fraction q of the values <= v, to the bucket's
    // precision (its upper end, or the maximum if smaller); 0 when empty.
    [[nodiscard]] std::uint64_t quantile(double q) const noexcept;
    // How many values are below `us`, a power of two: OpenMetrics' cumulative buckets.
    [[nodiscard]] std::uint64_t count_below(std::uint64_t us) const noexcept;

  private:
    static std::size_t index_of(std::uint64_t us) noexcept;
    static std::uint64_t upper_end(std::size_t index) noexcept;

    std::array<std::uint32_t, bucket_count> buckets_{};
    std::uint64_t count_ = 0;
    std::uint64_t sum_ = 0;
    std::uint64_t max_ = 0;
};

// The statistics of one timer, or of every timer with one name.
struct timer_stats {
    std::uint64_t runs = 0;
    std::uint64_t missed = 0;  // expiries folded into runs or skipped, not run on their own
    duration busy{};           // from each run's start until it returned or first paused
    lateness_histogram lateness;

    // A run starts `late`, folding `missed_now` expiries; its busy time is added when it returns.
    void record_start(duration late, std::uint64_t missed_now) noexcept;
};

// The loop's side: callbacks' lateness, and its time in and out of its wait.
struct loop_metrics {
    lateness_histogram lateness;  // of every timer callback, from the start of its loop turn
    duration idle{};              // waiting for the next deadline or a signal
    time_point since{};           // busy is the rest of the time since then
    // Per name, every timer that ever had it, gone or not: counters only grow.
    std::map<std::string, timer_stats, std::less<>> named;
};

// Pushes t:stats()'s table for `stats`.
void push_stats(lua_State* L, const timer_stats& stats);

// mockit.metrics().
int mockit_metrics(lua_State* L);

// The OpenMetrics text of the context's metrics (for mockit-run --metrics-file).
std::string openmetrics_text(const context& ctx);

}  // namespace mockit::lua::detail
