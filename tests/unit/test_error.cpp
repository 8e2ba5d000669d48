// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>
#include <string>
#include <system_error>

#include "mockit/error.hpp"

using mockit::errc;

TEST_CASE("error: every code has a message", "[error]") {
    for (int code = 0; code <= static_cast<int>(errc::system_error); ++code)
        CHECK(std::string(mockit::message(static_cast<errc>(code))).size() > 3);
    CHECK(std::string(mockit::message(static_cast<errc>(99))) == "unknown error");
}

TEST_CASE("error: errc works as a std::error_code", "[error]") {
    std::error_code code = errc::out_of_range;
    CHECK(code.category() == mockit::category());
    CHECK(std::string(code.category().name()) == "mockit");
    CHECK(code.message() == mockit::message(errc::out_of_range));
    CHECK(code == errc::out_of_range);
    CHECK(code != errc::invalid_argument);
}
