// SPDX-License-Identifier: MIT
// What the loop and its timers tell about themselves (SPEC section 9): how late callbacks start,
// how busy the loop is, and, per timer made by mockit.timer, its runs, missed expiries and busy
// time. mockit.metrics() returns them as a table, metrics_text() as OpenMetrics text.
//
// Recording adds no wake-up and almost no work: the loop's lateness is measured against the time
// the loop turn began (the drain's horizon, read once per turn), the loop's idle time around the
// wait it makes anyway. Only runs of mockit.timer timers read the clock, at their start and end.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <lua.hpp>
#include <map>
#include <string>

#include "mockit/clock.hpp"

namespace mockit::lua::detail {

struct context;

// A duration in whole microseconds, as the histograms and stats() count them; 0 if negative.
inline std::uint64_t whole_us(duration d) noexcept {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
    return us < 0 ? 0 : static_cast<std::uint64_t>(us);
}

// Lateness in whole microseconds, counted in log-linear buckets: exact below 2^SubBits µs, then
// 2^SubBits buckets per power of two, up to 2^TopPower µs (later values count in the last
// bucket). HdrHistogram's layout, cut down to what a p99 needs; no allocation.
//
// Counters of 64 bits never wrap (the loop's and the names' histograms feed counters a scraper
// expects to only grow). With 32 bits, a bucket about to wrap (a 1 kHz timer after 49 days)
// halves every bucket instead: the proportions, all quantiles need, stay.
template <int SubBits, int TopPower, class Count = std::uint64_t>
class log_histogram {
  public:
    static constexpr std::size_t bucket_count = (TopPower - SubBits + 1) << SubBits;

    void record(std::uint64_t us) noexcept {
        Count& bucket = buckets_[index_of(us)];
        if (bucket == std::numeric_limits<Count>::max()) {
            for (Count& b : buckets_)
                b /= 2;
        }
        ++bucket;
        ++count_;
        sum_ += us;
        if (us > max_) max_ = us;
    }
    [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
    [[nodiscard]] std::uint64_t sum() const noexcept { return sum_; }
    [[nodiscard]] std::uint64_t max() const noexcept { return max_; }
    // The smallest recorded value v with at least fraction q of the values <= v, to the bucket's
    // precision (its upper end, or the maximum if smaller); 0 when empty.
    [[nodiscard]] std::uint64_t quantile(double q) const noexcept {
        if (count_ == 0) return 0;
        std::uint64_t total = count_;
        if constexpr (sizeof(Count) < sizeof(std::uint64_t)) {  // the buckets may have halved
            total = 0;
            for (Count b : buckets_)
                total += b;
        }
        auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total)));
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < bucket_count; ++i) {
            seen += buckets_[i];
            if (seen < std::max<std::uint64_t>(rank, 1)) continue;
            // the last bucket holds everything past the top: only the maximum bounds it
            return i == bucket_count - 1 ? max_ : std::min(upper_end(i), max_);
        }
        return max_;
    }
    // How many values are below `us`, a power of two: the exposition format's cumulative buckets.
    [[nodiscard]] std::uint64_t count_below(std::uint64_t us) const noexcept {
        std::uint64_t below = 0;
        for (std::size_t i = 0, end = index_of(us); i < end; ++i)
            below += buckets_[i];
        return below;
    }

  private:
    static constexpr std::uint64_t sub_buckets = std::uint64_t{1} << SubBits;

    static std::size_t index_of(std::uint64_t us) noexcept {
        if (us < sub_buckets) return static_cast<std::size_t>(us);
        int power = static_cast<int>(std::bit_width(us)) - 1;
        if (power >= TopPower) return bucket_count - 1;
        std::uint64_t sub = (us >> (power - SubBits)) & (sub_buckets - 1);
        return static_cast<std::size_t>(((power - SubBits + 1) << SubBits) + sub);
    }
    static std::uint64_t upper_end(std::size_t index) noexcept {
        if (index < sub_buckets) return index;
        int power = static_cast<int>(index >> SubBits) + SubBits - 1;
        std::uint64_t low = (sub_buckets + (index & (sub_buckets - 1))) << (power - SubBits);
        return low + (std::uint64_t{1} << (power - SubBits)) - 1;
    }

    // The totals first: they share a cache line with what precedes the histogram, and small
    // values' buckets come next, so recording a run that was on time touches few lines.
    std::uint64_t count_ = 0;
    std::uint64_t sum_ = 0;
    std::uint64_t max_ = 0;
    std::array<Count, bucket_count> buckets_{};
};

// The loop's and each name's: eight buckets per power of two (within 12.5%), up to 2^36 µs (19
// hours); 2,200 bytes.
using lateness_histogram = log_histogram<3, 36>;
// Each timer's own: two per power of two (within 41%), up to 2^32 µs (71 minutes); 280 bytes. A
// timer's record is touched at each of its runs: with the fine histogram instead, 30,000 timers
// running every millisecond made 2.2 times the last-level cache misses (tests/bench/RESULTS.md).
using coarse_lateness_histogram = log_histogram<1, 32, std::uint32_t>;

// The statistics of one timer, or of every timer with one name.
template <class Histogram>
struct basic_timer_stats {
    std::uint64_t runs = 0;
    std::uint64_t missed = 0;  // expiries folded into runs or skipped, not run on their own
    duration busy{};           // from each run's start until it returned or first paused
    Histogram lateness;

    // A run starts `late`, folding `missed_now` expiries; its busy time is added when it returns.
    void record_start(duration late, std::uint64_t missed_now) noexcept {
        ++runs;
        missed += missed_now;
        lateness.record(whole_us(late));
    }
};
using timer_stats = basic_timer_stats<lateness_histogram>;
using own_timer_stats = basic_timer_stats<coarse_lateness_histogram>;

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
void push_stats(lua_State* L, const own_timer_stats& stats);

// mockit.metrics().
int mockit_metrics(lua_State* L);

// The OpenMetrics text of the context's metrics (for mockit-run --metrics-file).
std::string openmetrics_text(const context& ctx);

}  // namespace mockit::lua::detail
