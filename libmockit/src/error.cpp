// SPDX-License-Identifier: MIT
#include "mockit/error.hpp"

namespace mockit {
namespace {

class mockit_category final : public std::error_category {
  public:
    const char* name() const noexcept override { return "mockit"; }
    std::string message(int code) const override {
        return mockit::message(static_cast<errc>(code));
    }
};

}  // namespace

const std::error_category& category() noexcept {
    static const mockit_category instance;
    return instance;
}

std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), category()};
}

const char* message(errc e) noexcept {
    switch (e) {
        case errc::ok:
            return "success";
        case errc::invalid_argument:
            return "invalid argument";
        case errc::out_of_range:
            return "delay out of range (0 to 2^40 ms)";
        case errc::no_such_timer:
            return "no such timer (destroyed or never armed)";
        case errc::interrupted:
            return "interrupted by a signal";
        case errc::no_memory:
            return "out of memory";
        case errc::system_error:
            return "the operating system refused (see errno)";
    }
    return "unknown error";
}

}  // namespace mockit
