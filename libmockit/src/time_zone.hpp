// SPDX-License-Identifier: MIT
// Private: a time zone of the system's tz database, as calendar schedules (cron.cpp) need it,
// read straight from its TZif file (RFC 8536) under /usr/share/zoneinfo: the changes it lists,
// then the POSIX rule at its end for the years after them (posix_tz.hpp).
//
// Not libdate-tz, though Debian has it: linking it made mockit-run load libstdc++.so and
// libgcc_s.so at every start (the host links the C++ runtime statically so as not to), which
// took 0.8 ms, more than half of lua5.4's whole start-up; and it stops at the last listed change
// (2037 in Debian 12's files), where this reader goes on by the rule.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "posix_tz.hpp"

namespace mockit::detail {

// What a wall-clock time is in a zone: one instant, none (it falls in a gap where the clocks
// jump forward), or two (the clocks went back and it occurs twice).
struct wall_time_info {
    enum { unique, gap, fold } kind;
    std::chrono::sys_seconds first;   // unique: the instant; gap: the gap's end; fold: earlier
    std::chrono::sys_seconds second;  // fold: the later instant
};

// `text` as an error message may show it: control characters (a NUL from Lua, a newline) as
// C escapes ("\0", "\n", "\x1b"), so the message is one line and nothing cuts it short; past
// 100 bytes, the start and the whole length ("... (123456 bytes)").
std::string printable(std::string_view text);

class time_zone {
  public:
    // The zone named `name` (IANA, as the database spells it) or, when empty, the process's
    // local zone as glibc (and so os.date) has it. With TZ set: empty, UTC; a zone of the
    // database (with or without a leading ':', or as a path under the database); a zone file
    // elsewhere (an absolute path); a POSIX rule or fixed offset ("CET-1CEST,M3.5.0,M10.5.0/3",
    // "IST-5:30"); anything else, UTC. Without TZ: /etc/localtime (named after the zone it links
    // to, or /etc/timezone's), else UTC. Throws cron_error for an unknown name.
    static time_zone locate(std::string_view name);

    const std::string& name() const noexcept { return name_; }
    std::chrono::seconds offset_at(std::chrono::sys_seconds t) const;
    wall_time_info resolve(std::chrono::local_seconds wall) const;
    // When t lies in the first pass through a repeated (folded) hour, the wall time at which the
    // second pass starts; otherwise a time_point of max().
    std::chrono::local_seconds second_pass_start(std::chrono::sys_seconds t) const;

    // What a zone file says; shared by copies of the zone, never changed once read.
    struct changes {
        std::vector<std::chrono::sys_seconds> at;  // ascending
        std::vector<std::chrono::seconds> offset;  // offset[i]: in force from at[i]
        std::chrono::seconds initial{0};           // before at[0], or always when none
        std::optional<posix_rule> rule;            // from the last listed change on
    };

  private:
    time_zone(std::shared_ptr<const changes> data, std::string name)
        : data_(std::move(data)), name_(std::move(name)) {}
    offset_span span_at(std::chrono::sys_seconds t) const;
    static std::pair<std::shared_ptr<const changes>, std::string> local();

    std::shared_ptr<const changes> data_;  // never null: UTC without a database has no change
    std::string name_;
};

}  // namespace mockit::detail
