// SPDX-License-Identifier: MIT
// Private: a time zone of the system's tz database, as calendar schedules (cron.cpp) need it.
// Wraps libdate-tz so that only time_zone.cpp includes its headers.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "posix_tz.hpp"

namespace date {
class time_zone;
}

namespace mockit::detail {

// What a wall-clock time is in a zone: one instant, none (it falls in a gap where the clocks
// jump forward), or two (the clocks went back and it occurs twice).
struct wall_time_info {
    enum { unique, gap, fold } kind;
    std::chrono::sys_seconds first;   // unique: the instant; gap: the gap's end; fold: earlier
    std::chrono::sys_seconds second;  // fold: the later instant
};

class time_zone {
  public:
    // The zone named `name` (IANA) or, when empty, the process's local zone: TZ when it names
    // one (with or without a leading ':', or as a path under the database), else the zone
    // /etc/localtime links to, else UTC. Throws cron_error for an unknown name.
    static time_zone locate(std::string_view name);

    const std::string& name() const noexcept { return name_; }
    std::chrono::seconds offset_at(std::chrono::sys_seconds t) const;
    wall_time_info resolve(std::chrono::local_seconds wall) const;
    // When t lies in the first pass through a repeated (folded) hour, the wall time at which the
    // second pass starts; otherwise a time_point of max().
    std::chrono::local_seconds second_pass_start(std::chrono::sys_seconds t) const;

  private:
    time_zone(const date::time_zone* zone, std::string name);
    offset_span span_at(std::chrono::sys_seconds t) const;
    wall_time_info resolve_by_spans(std::chrono::local_seconds wall) const;
    bool past_listed(std::chrono::sys_seconds t) const { return rule_ && t >= rule_from_; }

    const date::time_zone* zone_;  // owned by the database, which lives as long as the process;
                                   // null: UTC without the database (none installed)
    std::string name_;
    // The zone file's rule, applied from its last listed change on (see posix_tz.hpp).
    std::optional<posix_rule> rule_;
    std::chrono::sys_seconds rule_from_ = std::chrono::sys_seconds::max();
};

}  // namespace mockit::detail
