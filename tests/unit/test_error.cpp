#include <catch2/catch.hpp>
#include <string>
#include <system_error>

#include "mockit/error.hpp"

using mockit::errc;

TEST_CASE("error: codes carry stable names and messages", "[error]") {
    CHECK(std::string(mockit::name(errc::invalid_argument)) == "EINVAL");
    CHECK(std::string(mockit::name(errc::out_of_range)) == "ERANGE");
    CHECK(std::string(mockit::name(errc::interrupted)) == "EINTR");
    for (int code = 0; code <= static_cast<int>(errc::busy); ++code) {
        auto e = static_cast<errc>(code);
        CHECK(std::string(mockit::message(e)).size() > 3);
        CHECK(std::string(mockit::name(e)).size() > 1);
    }
    CHECK(std::string(mockit::name(static_cast<errc>(99))) == "EUNKNOWN");
}

TEST_CASE("error: errc works as a std::error_code", "[error]") {
    std::error_code code = errc::out_of_range;
    CHECK(code.category() == mockit::category());
    CHECK(std::string(code.category().name()) == "mockit");
    CHECK(code.message() == mockit::message(errc::out_of_range));
    CHECK(code == errc::out_of_range);
    CHECK(code != errc::invalid_argument);
}
