// SPDX-License-Identifier: MIT
// The binding's lateness histogram (libmockit/lua/src/metrics.hpp): a header-only template, so
// it is tested here without a Lua state.
#include <catch2/catch.hpp>
#include <cstdint>

#include "metrics.hpp"

using mockit::lua::detail::log_histogram;

TEST_CASE("lateness histogram: exact small values, quantiles within a bucket", "[histogram]") {
    log_histogram<3, 36> h;
    CHECK(h.quantile(0.5) == 0);  // empty
    for (std::uint64_t v = 1; v <= 100; ++v)
        h.record(v);
    CHECK(h.count() == 100);
    CHECK(h.sum() == 5050);
    CHECK(h.max() == 100);
    // 50 is in the bucket [48, 51] (8 per power of two above 8): its upper end
    CHECK(h.quantile(0.5) == 51);
    CHECK(h.quantile(0.99) == 100);  // the bucket [96, 103], capped at the maximum
    CHECK(h.quantile(1.0) == 100);
    CHECK(h.count_below(1) == 0);
    CHECK(h.count_below(4) == 3);  // 1, 2, 3
    CHECK(h.count_below(64) == 63);
    CHECK(h.count_below(1 << 20) == 100);
}

TEST_CASE("lateness histogram: values past the top count in the last bucket", "[histogram]") {
    log_histogram<1, 32> h;
    h.record(std::uint64_t{1} << 40);
    h.record(0);
    CHECK(h.max() == std::uint64_t{1} << 40);
    CHECK(h.quantile(1.0) == std::uint64_t{1} << 40);
    CHECK(h.quantile(0.5) == 0);
}

TEST_CASE("lateness histogram: 32-bit buckets halve instead of wrapping", "[histogram]") {
    log_histogram<1, 4, std::uint8_t> h;  // 8-bit buckets show it after 255 records
    for (int i = 0; i < 300; ++i)
        h.record(1);
    for (int i = 0; i < 100; ++i)
        h.record(9);
    CHECK(h.count() == 400);
    // 300 ones became 128 + 44 = 172 after the halving at 255; the nines came after: 100
    CHECK(h.quantile(0.5) == 1);
    CHECK(h.quantile(0.99) == 9);
    CHECK(h.count_below(8) == 172);
}
