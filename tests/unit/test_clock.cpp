// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>
#include <thread>

#include "mockit/clock.hpp"

using namespace std::chrono_literals;
using mockit::manual_clock;
using mockit::system_clock_source;

TEST_CASE("clock: the wall-time tuple splits a timestamp", "[clock]") {
    auto t = mockit::wall_time_point{1'656'970'659'385ms};
    auto tuple = mockit::to_wall_time(t);
    CHECK(tuple.secs == 1'656'970'659);
    CHECK(tuple.ms == 385);
    CHECK(mockit::to_ms_timestamp(t) == 1'656'970'659'385);
}

TEST_CASE("clock: times before the epoch keep 0 <= ms < 1000", "[clock]") {
    auto tuple = mockit::to_wall_time(mockit::wall_time_point{-1500ms});
    CHECK(tuple.secs == -2);
    CHECK(tuple.ms == 500);
}

TEST_CASE("clock: the system clocks agree with each other", "[clock][realtime]") {
    auto& clock = system_clock_source::instance();
    auto ms = mockit::to_ms_timestamp(clock.wall_now());
    auto tuple = mockit::to_wall_time(clock.wall_now());
    CHECK(ms > 1'600'000'000'000);
    CHECK(tuple.secs * 1000 + tuple.ms - ms >= 0);
    CHECK(tuple.secs * 1000 + tuple.ms - ms < 1000);
    auto a = mockit::to_hrtime(clock.now());
    std::this_thread::sleep_for(2ms);
    auto b = mockit::to_hrtime(clock.now());
    CHECK(b - a >= 2'000'000);
}

TEST_CASE("clock: a manual clock moves only when told, and never back", "[clock]") {
    manual_clock clock;
    auto start = clock.now();
    auto wall_start = clock.wall_now();
    CHECK(clock.now() == start);
    clock.advance(250ms);
    CHECK(clock.now() == start + 250ms);
    CHECK(clock.wall_now() == wall_start + 250ms);  // wall time passes with it
    clock.set(start + 100ms);                       // the past: ignored
    CHECK(clock.now() == start + 250ms);
    clock.advance(-5ms);
    CHECK(clock.now() == start + 250ms);
    clock.set(start + 1s);
    CHECK(clock.now() == start + 1s);
}

TEST_CASE("clock: sleeping on a manual clock is time passing", "[clock]") {
    manual_clock clock;
    auto start = clock.now();
    auto result = clock.sleep_until(start + 3s, false);
    CHECK_FALSE(result.interrupted);
    CHECK(clock.now() == start + 3s);
}
