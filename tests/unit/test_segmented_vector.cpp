// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "mockit/detail/segmented_vector.hpp"

using mockit::detail::segmented_vector;

TEST_CASE("segmented_vector: elements keep their values and addresses as it grows",
          "[segmented_vector]") {
    segmented_vector<std::uint64_t, 4> v;  // segments of 4, 8, 16, ...: many boundaries
    std::vector<const std::uint64_t*> addresses;
    for (std::uint64_t i = 0; i < 5000; ++i) {
        v.push_back(i * 3);
        addresses.push_back(&v[i]);
    }
    REQUIRE(v.size() == 5000);
    for (std::size_t i = 0; i < v.size(); ++i) {
        REQUIRE(v[i] == i * 3);
        REQUIRE(&v[i] == addresses[i]);  // nothing moved
    }
    // Neighbours within a segment are contiguous; the first of a segment is not after the last.
    CHECK(&v[5] == &v[4] + 1);
    CHECK(&v[12] != &v[11] + 1);  // 4 + 8 = 12 elements fill the first two segments
}

TEST_CASE("segmented_vector: a segment past 2 MiB is huge-page aligned", "[segmented_vector]") {
    segmented_vector<std::uint64_t, 1024> v;
    // Segment k holds 1024 << k elements of 8 bytes and starts at element 1024 * (2^k - 1):
    // segment 8 is the first of 2 MiB.
    std::size_t first_of_segment_8 = 1024 * ((1 << 8) - 1);
    for (std::size_t i = 0; i <= first_of_segment_8; ++i)
        v.push_back(0);
    auto address = reinterpret_cast<std::uintptr_t>(&v[first_of_segment_8]);
    CHECK(address % (std::size_t{2} << 20) == 0);
}
