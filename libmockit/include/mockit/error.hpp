// SPDX-License-Identifier: MIT
// The library's error codes. One list serves both faces: C++ (std::error_code via
// mockit::category()) and C (negative ints of mockit.h, the same numbers negated).
#pragma once

#include <string>
#include <system_error>

namespace mockit {

enum class errc : int {
    ok = 0,
    invalid_argument = 1,  // EINVAL: a null pointer, a missing callback, a zero interval
    out_of_range = 2,      // ERANGE: a delay beyond max_delay
    no_such_timer = 3,     // ENOENT: the handle was destroyed, or never armed
    interrupted = 4,       // EINTR: a signal handler ended a sleep early
    no_memory = 5,         // ENOMEM
    system_error = 6,      // ESYSTEM: the OS refused (thread, eventfd); details in errno
};

[[nodiscard]] const std::error_category& category() noexcept;
[[nodiscard]] std::error_code make_error_code(errc e) noexcept;
// A sentence for people.
[[nodiscard]] const char* message(errc e) noexcept;

}  // namespace mockit

template <>
struct std::is_error_code_enum<mockit::errc> : std::true_type {};
