// SPDX-License-Identifier: MIT
// Calendar schedules: the expression is read once into one bit set per field, and the search
// for the next run jumps field by field (month, day, hour, minute, second) over them, in wall
// time; the zone then says which instant (or none, or two) each wall time is.
#include "mockit/cron.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "time_zone.hpp"

namespace mockit {
namespace {

using namespace std::chrono;

enum field_id { f_second, f_minute, f_hour, f_dom, f_month, f_dow, field_count };

struct field_spec {
    std::string_view name;
    int min;
    int max;
    std::array<std::string_view, 12> names;  // names[i] is value min + i; empty when none
};

constexpr std::array<field_spec, field_count> specs = {{
    {"second", 0, 59, {}},
    {"minute", 0, 59, {}},
    {"hour", 0, 23, {}},
    {"day-of-month", 1, 31, {}},
    {"month",
     1,
     12,
     {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}},
    {"day-of-week", 0, 7, {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}},
}};

struct nickname {
    std::string_view name;
    std::string_view expansion;
};
constexpr std::array<nickname, 7> nicknames = {{
    {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
    {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"},
    {"@daily", "0 0 * * *"},
    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
}};

// How far next_after looks: a whole Gregorian cycle, after which the calendar repeats, so an
// expression with no run in it has none at all.
constexpr int horizon_years = 400;

[[noreturn]] void fail(const field_spec& spec, const std::string& message) {
    throw cron_error(std::string(spec.name) + ": " + message);
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        const auto upper = [](char c) { return c >= 'a' && c <= 'z' ? char(c - 'a' + 'A') : c; };
        return upper(x) == upper(y);
    });
}

bool all_digits(std::string_view text) {
    return !text.empty() &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A number of at most 9 digits (enough to say any value out of range), or -1.
int to_number(std::string_view text) {
    if (!all_digits(text) || text.size() > 9) return -1;
    int value = 0;
    for (char c : text)
        value = value * 10 + (c - '0');
    return value;
}

int parse_value(const field_spec& spec, std::string_view text) {
    if (all_digits(text)) {
        const int value = to_number(text);
        if (value < spec.min || value > spec.max) {
            fail(spec, detail::printable(text) + " is out of range " + std::to_string(spec.min) +
                           "-" + std::to_string(spec.max));
        }
        return value;
    }
    if (spec.names[0].empty()) fail(spec, "'" + detail::printable(text) + "' is not a number");
    for (std::size_t i = 0; i < spec.names.size() && !spec.names[i].empty(); ++i) {
        if (equals_ignoring_case(text, spec.names[i])) return spec.min + int(i);
    }
    fail(spec, "unknown name '" + detail::printable(text) + "'");
}

// One item of a list: `*`, `?`, `n`, `a-b`, each optionally followed by `/step`.
std::uint64_t parse_item(const field_spec& spec, std::string_view item) {
    if (item.empty()) fail(spec, "empty item in the list");
    std::string_view range = item;
    int step = 1;
    const auto slash = item.find('/');
    if (slash != std::string_view::npos) {
        range = item.substr(0, slash);
        const auto step_text = item.substr(slash + 1);
        step = to_number(step_text);
        if (step < 0) fail(spec, "step: " + detail::printable(item) + " has no number after '/'");
        if (step == 0) fail(spec, "step: " + detail::printable(item) + " must be at least 1");
        // As croner: a step past the field's span can only mean a typo (Vixie cron takes it).
        const int span = &spec == &specs[f_dow] ? 7 : spec.max - spec.min + 1;
        if (step > span) {
            fail(spec, "step: " + detail::printable(item) + " is larger than the " +
                           std::to_string(span) + " values of the field");
        }
    }
    int low = spec.min, high = spec.max;
    // In day-of-week, `*` and `a/n` stop at 6 (Saturday): 7 is Sunday again.
    const int open_high = &spec == &specs[f_dow] ? 6 : spec.max;
    if (range == "*" || range == "?") {
        high = open_high;
    } else if (const auto dash = range.find('-'); dash != std::string_view::npos) {
        low = parse_value(spec, range.substr(0, dash));
        high = parse_value(spec, range.substr(dash + 1));
        if (low > high) fail(spec, "range " + detail::printable(range) + " runs backwards");
    } else {
        low = parse_value(spec, range);
        high = slash == std::string_view::npos ? low : open_high;  // `a/n` means `a-max/n`
    }
    std::uint64_t bits = 0;
    for (int value = low; value <= high; value += step)
        bits |= std::uint64_t{1} << value;
    return bits;
}

struct field {
    std::uint64_t bits = 0;
    bool star = false;   // starts with `*` or `?` (Vixie cron's test for day fields)
    bool fixed = false;  // one value, with no wildcard or step (croner's fixed-time rule)
};

field parse_field(field_id id, std::string_view text) {
    const field_spec& spec = specs[id];
    field result;
    std::size_t start = 0;
    while (true) {
        const auto comma = text.find(',', start);
        result.bits |= parse_item(spec, text.substr(start, comma - start));
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    if (id == f_dow && (result.bits >> 7 & 1)) result.bits = (result.bits | 1) & 0x7f;
    result.star = text.starts_with('*') || text.starts_with('?');
    result.fixed =
        text.find_first_of("*?/") == std::string_view::npos && std::popcount(result.bits) == 1;
    return result;
}

std::vector<std::string_view> split_fields(std::string_view expr) {
    std::vector<std::string_view> fields;
    std::size_t i = 0;
    while (true) {
        i = expr.find_first_not_of(" \t", i);
        if (i == std::string_view::npos) break;
        const auto end = std::min(expr.find_first_of(" \t", i), expr.size());
        fields.push_back(expr.substr(i, end - i));
        i = end;
    }
    return fields;
}

std::string_view expand_nickname(std::string_view expr) {
    const auto fields = split_fields(expr);
    if (fields.size() != 1 || !fields[0].starts_with('@')) return expr;
    for (const auto& n : nicknames) {
        if (equals_ignoring_case(fields[0], n.name)) return n.expansion;
    }
    throw cron_error("unknown nickname '" + detail::printable(fields[0]) +
                     "' (known: @yearly, @annually, @monthly, @weekly, @daily, @midnight, "
                     "@hourly)");
}

// The lowest set bit of `bits` at or above `from`, or -1.
int next_bit(std::uint64_t bits, int from) {
    if (from >= 64) return -1;
    const auto rest = bits >> from;
    return rest == 0 ? -1 : from + std::countr_zero(rest);
}

}  // namespace

struct cron_schedule::compiled {
    std::array<field, field_count> fields;
    // day_masks[w]: bit d-1 set when day d of a month whose 1st is weekday w (0 = Sunday)
    // matches the day fields, before the month's length is applied.
    std::array<std::uint32_t, 7> day_masks{};
    bool fixed_time = false;
    detail::time_zone zone;

    std::uint32_t days_of(year_month ym) const;
    std::optional<local_seconds> next_wall(local_seconds from, year limit) const;
    std::optional<sys_seconds> search(local_seconds from, sys_seconds after, year limit) const;
};

std::uint32_t cron_schedule::compiled::days_of(year_month ym) const {
    const auto first = sys_days{ym / 1};
    const unsigned length = unsigned{(ym / last).day()};
    const auto in_month = length >= 32 ? ~0u : (1u << length) - 1;
    return day_masks[weekday{first}.c_encoding()] & in_month;
}

// The first wall time at or after `from` that the fields match, up to the end of year `limit`.
std::optional<local_seconds> cron_schedule::compiled::next_wall(local_seconds from,
                                                                year limit) const {
    const auto day = floor<days>(from);
    year_month_day date{sys_days{day.time_since_epoch()}};
    hh_mm_ss<seconds> time{from - day};
    year_month ym = date.year() / date.month();
    int d = int(unsigned{date.day()});
    int h = int(time.hours().count()), m = int(time.minutes().count()),
        s = int(time.seconds().count());
    const auto next_month = [&] {
        ym += months{1};
        d = 1, h = 0, m = 0, s = 0;
    };
    while (ym.year() <= limit) {
        if (!(fields[f_month].bits >> unsigned{ym.month()} & 1)) {
            next_month();
            continue;
        }
        const int day_found = next_bit(days_of(ym), d - 1) + 1;
        if (day_found == 0) {
            next_month();
            continue;
        }
        if (day_found != d) d = day_found, h = 0, m = 0, s = 0;
        const int hour = next_bit(fields[f_hour].bits, h);
        if (hour < 0 || hour > 23) {
            ++d, h = 0, m = 0, s = 0;
            continue;
        }
        if (hour != h) h = hour, m = 0, s = 0;
        const int minute = next_bit(fields[f_minute].bits, m);
        if (minute < 0 || minute > 59) {
            ++h, m = 0, s = 0;
            continue;
        }
        if (minute != m) m = minute, s = 0;
        const int second = next_bit(fields[f_second].bits, s);
        if (second < 0 || second > 59) {
            ++m, s = 0;
            continue;
        }
        const auto found_day = local_days{sys_days{ym / d}.time_since_epoch()};
        return found_day + hours{h} + minutes{m} + seconds{second};
    }
    return std::nullopt;
}

// The first instant after `after` of a wall time at or after `from`, following the rules for
// gaps and folds (see cron.hpp).
std::optional<sys_seconds> cron_schedule::compiled::search(local_seconds from, sys_seconds after,
                                                           year limit) const {
    while (auto wall = next_wall(from, limit)) {
        const auto info = zone.resolve(*wall);
        from = *wall + seconds{1};
        switch (info.kind) {
            case detail::wall_time_info::unique:
                if (info.first > after) return info.first;
                break;
            case detail::wall_time_info::fold:
                if (info.first > after) return info.first;
                if (!fixed_time && info.second > after) return info.second;  // the second pass
                break;
            case detail::wall_time_info::gap: {
                // Where the gap ends, as a wall time: a fixed time runs there if that is the same
                // day; an interval's times in the gap are skipped, so the walk resumes there.
                const auto end =
                    local_seconds{info.first.time_since_epoch() + zone.offset_at(info.first)};
                if (fixed_time) {
                    if (info.first > after && floor<days>(end) == floor<days>(*wall)) {
                        return info.first;
                    }
                } else {
                    from = std::max(from, end);
                }
                break;
            }
        }
    }
    return std::nullopt;
}

cron_schedule::cron_schedule(std::string_view expr, std::string_view zone) {
    const auto text = expand_nickname(expr);
    auto parts = split_fields(text);
    if (parts.size() != 5 && parts.size() != 6) {
        throw cron_error("expected 5 or 6 fields, got " + std::to_string(parts.size()));
    }
    if (parts.size() == 5) parts.insert(parts.begin(), "0");
    std::array<field, field_count> fields;
    for (int id = 0; id < field_count; ++id)
        fields[id] = parse_field(field_id(id), parts[id]);
    // The zone after the expression: an error in the expression is the one reported.
    auto result =
        std::make_shared<compiled>(compiled{fields, {}, false, detail::time_zone::locate(zone)});
    const auto& f = result->fields;
    result->fixed_time = f[f_second].fixed && f[f_minute].fixed && f[f_hour].fixed;
    // Vixie cron: when both day fields are restricted, a day matches if either does.
    const bool either = !f[f_dom].star && !f[f_dow].star;
    const auto dom = std::uint32_t(f[f_dom].bits >> 1);
    for (unsigned first = 0; first < 7; ++first) {
        std::uint32_t dow = 0;
        for (unsigned d = 0; d < 31; ++d) {
            if (f[f_dow].bits >> ((first + d) % 7) & 1) dow |= 1u << d;
        }
        result->day_masks[first] = either ? (dom | dow) : (dom & dow);
    }
    compiled_ = std::move(result);
}

std::optional<sys_seconds> cron_schedule::next_after(sys_time<milliseconds> t) const {
    const auto& c = *compiled_;
    // Years 1 to 9999 (ISO 8601's four digits), with the zone's offsets on either side.
    if (t < sys_days{year{1} / 1 / 2} || t >= sys_days{year{9999} / 1 / 1}) return std::nullopt;
    const auto after = floor<seconds>(t);  // runs fall on whole seconds
    const auto wall = local_seconds{after.time_since_epoch() + c.zone.offset_at(after)};
    const year limit =
        std::min(year_month_day{sys_days{floor<days>(wall).time_since_epoch()}}.year() +
                     years{horizon_years},
                 year{9999});
    auto found = c.search(wall + seconds{1}, after, limit);
    // In the first pass through a repeated hour, an interval's runs in the second pass come
    // before those the wall clock reaches after it: search from the second pass too.
    const auto second_pass = c.zone.second_pass_start(after);
    if (second_pass != local_seconds::max()) {
        const auto again = c.search(second_pass, after, limit);
        if (again && (!found || *again < *found)) found = again;
    }
    return found;
}

std::string cron_schedule::format(sys_seconds t) const {
    const auto offset = compiled_->zone.offset_at(t);
    const auto wall = sys_seconds{t.time_since_epoch() + offset};
    const auto day = floor<days>(wall);
    const year_month_day date{day};
    const hh_mm_ss<seconds> time{wall - day};
    const auto magnitude = offset < seconds{0} ? -offset : offset;
    const hh_mm_ss<seconds> zone_offset{magnitude};
    char text[48];
    int length = std::snprintf(
        text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02d%c%02d:%02d", int(date.year()),
        unsigned(date.month()), unsigned(date.day()), int(time.hours().count()),
        int(time.minutes().count()), int(time.seconds().count()), offset < seconds{0} ? '-' : '+',
        int(zone_offset.hours().count()), int(zone_offset.minutes().count()));
    if (zone_offset.seconds().count() != 0) {  // offsets of the 19th century had seconds
        length += std::snprintf(text + length, sizeof text - std::size_t(length), ":%02d",
                                int(zone_offset.seconds().count()));
    }
    return std::string(text, std::size_t(length));
}

const std::string& cron_schedule::zone_name() const noexcept {
    return compiled_->zone.name();
}

}  // namespace mockit
