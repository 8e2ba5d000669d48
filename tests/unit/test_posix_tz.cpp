// SPDX-License-Identifier: MIT
// The POSIX TZ rules at the end of zone files (libmockit/src/posix_tz.hpp), which take over
// from a zone's last listed change.
#include <catch2/catch.hpp>
#include <chrono>

#include "posix_tz.hpp"

using namespace std::chrono;
using mockit::detail::posix_rule;

namespace {

sys_seconds utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0) {
    return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi};
}

}  // namespace

TEST_CASE("posix_tz: rules with daylight time parse; others do not", "[posix_tz]") {
    CHECK(posix_rule::parse("CET-1CEST,M3.5.0,M10.5.0/3"));
    CHECK(posix_rule::parse("EST5EDT,M3.2.0,M11.1.0"));
    CHECK(posix_rule::parse("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0"));
    CHECK(posix_rule::parse("<-04>4<-03>,M9.1.6/24,M4.1.6/24"));
    CHECK(posix_rule::parse("XXX3YYY,J60/2,300/-1"));
    CHECK_FALSE(posix_rule::parse("IST-5:30"));  // one offset for ever
    CHECK_FALSE(posix_rule::parse("UTC0"));
    CHECK_FALSE(posix_rule::parse(""));
    CHECK_FALSE(posix_rule::parse("CET-1CEST"));  // daylight time with no rule
    CHECK_FALSE(posix_rule::parse("CET-1CEST,M13.5.0,M10.5.0"));
    CHECK_FALSE(posix_rule::parse("CET-1CEST,M3.5.0,M10.5.0/3x"));
    CHECK_FALSE(posix_rule::parse("C-1CEST,M3.5.0,M10.5.0"));
}

TEST_CASE("posix_tz: the spans of Europe/Berlin's rule", "[posix_tz]") {
    const auto rule = *posix_rule::parse("CET-1CEST,M3.5.0,M10.5.0/3");
    const auto summer = rule.span_at(utc(2045, 7, 1));
    CHECK(summer.offset == hours{2});
    CHECK(summer.begin == utc(2045, 3, 26, 1));  // 02:00 CET, the last Sunday of March
    CHECK(summer.end == utc(2045, 10, 29, 1));   // 03:00 CEST, the last Sunday of October
    const auto winter = rule.span_at(utc(2046, 1, 10));
    CHECK(winter.offset == hours{1});
    CHECK(winter.begin == utc(2045, 10, 29, 1));
    CHECK(winter.end == utc(2046, 3, 25, 1));
}

TEST_CASE("posix_tz: southern rules, half hours and Julian days", "[posix_tz]") {
    const auto lord_howe = *posix_rule::parse("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0");
    const auto january = lord_howe.span_at(utc(2046, 1, 15));
    CHECK(january.offset == minutes{11 * 60});
    CHECK(january.begin == utc(2045, 9, 30, 15, 30));  // 1 October 02:00 +10:30
    CHECK(january.end == utc(2046, 3, 31, 15));        // 1 April 02:00 +11
    // J60 is 1 March in leap years too; day 59 counted from 0 is 29 February in them
    const auto julian = *posix_rule::parse("AAA0BBB,J60/0,59/0");
    CHECK(julian.span_at(utc(2048, 3, 1, 12)).begin == utc(2048, 3, 1));
    CHECK(julian.span_at(utc(2048, 3, 1, 12)).end == utc(2049, 3, 1) - hours{1});
}
