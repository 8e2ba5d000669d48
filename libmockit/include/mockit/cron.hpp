// SPDX-License-Identifier: MIT
// Calendar schedules (SPEC §10): a cron expression read once into per-field bit sets, in a time
// zone from the system's tz database, asked for the next run after a given instant.
//
// Expressions: five fields, `minute hour day-of-month month day-of-week`, or six with a leading
// `second`; or one of @yearly (= @annually), @monthly, @weekly, @daily (= @midnight), @hourly.
// A field is a list (`a,b,...`) of `*` (or `?`), `n`, `a-b`, each optionally stepped with `/n`
// (`*/n`, `a-b/n`, and `a/n`, which means `a-max/n`). Months take JAN-DEC and days of the week
// SUN-SAT, in any case; day-of-week takes 0-7, 0 and 7 both Sunday. As in Vixie cron, when
// both day-of-month and day-of-week are restricted (neither starts with `*` or `?`), a day
// matches when either does; otherwise both must.
//
// Time zones: a fixed time that falls in a spring-forward gap runs at the first valid instant
// after the gap (`30 2 * * *` in Europe/Berlin on 2026-03-29 runs at 03:00+02:00); in the hour
// repeated in autumn a time whose hour field is a single value runs once, at its first
// occurrence, while a schedule with a wildcard or stepped hour runs in both occurrences
// (`*/30 * * * *` runs at 02:00, 02:30 in summer time, then 02:00, 02:30 in winter time).
//
// The schedule is immutable once built: copies share it, and any thread may use it.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace mockit {

// A bad expression or time zone. what() names the field or the value at fault, e.g.
// "minute: 61 is out of range 0-59", "day-of-week: unknown name 'FOO'",
// "step: */0 must be at least 1", "expected 5 or 6 fields, got 3",
// "unknown time zone 'Mars/Olympus'".
struct cron_error : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

class cron_schedule {
  public:
    // Reads `expr` (see above) for the time zone `zone`: an IANA name from the system's tz
    // database (/usr/share/zoneinfo), or empty for the process's local zone: TZ when it names
    // a zone of the database (`Europe/Berlin`, `:Europe/Berlin`, or a path under
    // /usr/share/zoneinfo), else the zone /etc/localtime links to, else the one /etc/timezone
    // names, else UTC. The zone's file is read here, once. Throws cron_error.
    explicit cron_schedule(std::string_view expr, std::string_view zone = {});

    // The first run strictly after t (wall-clock time since the epoch), whole seconds; nullopt
    // when the expression matches no instant in the next 400 years (a full Gregorian cycle:
    // "0 0 30 2 *" never does). Ordinary expressions take well under a microsecond: the search
    // jumps field by field (month, day, hour, minute, second) over precomputed bit sets.
    std::optional<std::chrono::sys_seconds> next_after(
        std::chrono::sys_time<std::chrono::milliseconds> t) const;

    // t in ISO 8601 with the UTC offset in force in the schedule's zone at t, to the second:
    // "2026-03-29T03:00:00+02:00" (UTC is "+00:00", never "Z").
    std::string format(std::chrono::sys_seconds t) const;

    // The zone's IANA name: the one given, or the local zone's resolved name ("UTC" for the
    // fallback).
    const std::string& zone_name() const noexcept;

  private:
    struct compiled;                            // bit sets and zone, defined in cron.cpp
    std::shared_ptr<const compiled> compiled_;  // immutable, so copies share it
};

}  // namespace mockit
