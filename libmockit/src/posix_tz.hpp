// SPDX-License-Identifier: MIT
// Private: a POSIX TZ rule ("CET-1CEST,M3.5.0,M10.5.0/3"): at the end of a TZif file it says
// how a zone's clocks change after the last change the file lists (2037 in Debian 12's files),
// and time_zone.cpp applies it from there on, as glibc and ICU do; in TZ it is the local zone.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace mockit::detail {

// An offset from UTC (east positive) in force from `begin` to `end`.
struct offset_span {
    std::chrono::sys_seconds begin;
    std::chrono::sys_seconds end;
    std::chrono::seconds offset;
};

class posix_rule {
  public:
    // The rule of a TZ string, or nullopt when it is not one or its clocks never change
    // ("IST-5:30", "UTC0"): then the last listed offset holds for ever, as libdate-tz has it.
    static std::optional<posix_rule> parse(std::string_view text);
    // The offset of a TZ string whose clocks never change ("IST-5:30", "UTC0"), or nullopt.
    static std::optional<std::chrono::seconds> fixed_offset(std::string_view text);

    offset_span span_at(std::chrono::sys_seconds t) const;

  private:
    // When in a year the clocks change: Mm.w.d (day d of week w of month m, w = 5 the last),
    // Jn (day n of 365, 29 February never counted) or n (day n from 0, counted), at `time`
    // of the wall clock in force before the change.
    struct change {
        enum { month_week_day, julian_no_leap, julian } kind = month_week_day;
        int month = 0, week = 0, day = 0;
        std::chrono::seconds time{7200};  // 02:00 when the rule gives none
    };
    static std::optional<change> parse_change(std::string_view& text);
    std::chrono::sys_seconds when(const change& c, std::chrono::year y,
                                  std::chrono::seconds offset_before) const;

    std::chrono::seconds standard_{0};
    std::chrono::seconds daylight_{0};
    change start_;  // to daylight time
    change end_;    // back to standard time
};

}  // namespace mockit::detail
