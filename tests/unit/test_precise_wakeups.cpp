// SPDX-License-Identifier: MIT
#include <sys/prctl.h>

#include <catch2/catch.hpp>
#include <thread>

#include "mockit/detail/precise_wakeups.hpp"

using namespace std::chrono_literals;
using mockit::detail::first_sleep;
using mockit::detail::split_after;
using mockit::detail::wake_lead;

TEST_CASE("precise wake-ups: a short sleep is slept in one go", "[wakeups]") {
    CHECK(first_sleep(0ns) == 0ns);
    CHECK(first_sleep(150us) == 150us);
    CHECK(first_sleep(split_after) == split_after);
}

TEST_CASE("precise wake-ups: a long sleep ends wake_lead early, and the rest in one go",
          "[wakeups]") {
    for (mockit::duration left : {split_after + 1ns, mockit::duration{5ms}, mockit::duration{1h}}) {
        mockit::duration first = first_sleep(left);
        CHECK(first == left - wake_lead);
        CHECK(first > 0ns);
        CHECK(first_sleep(left - first) == left - first);  // the rest is not split again
    }
}

TEST_CASE("precise wake-ups: a thread asks for the smallest timer slack", "[wakeups]") {
    long slack = -1;
    std::thread([&] {
        REQUIRE(mockit::detail::ask_for_precise_wakeups());
        slack = ::prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
    }).join();
    CHECK(slack == 1);
}
