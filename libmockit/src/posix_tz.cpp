// SPDX-License-Identifier: MIT
#include "posix_tz.hpp"

#include <algorithm>
#include <array>

namespace mockit::detail {
namespace {

using namespace std::chrono;

// A zone abbreviation: "CET", or "<+1030>" for one with signs or digits.
bool skip_name(std::string_view& text) {
    if (text.starts_with('<')) {
        const auto close = text.find('>');
        if (close == std::string_view::npos) return false;
        text.remove_prefix(close + 1);
        return true;
    }
    std::size_t n = 0;
    while (n < text.size() &&
           ((text[n] >= 'A' && text[n] <= 'Z') || (text[n] >= 'a' && text[n] <= 'z'))) {
        ++n;
    }
    text.remove_prefix(n);
    return n >= 3;
}

int take_number(std::string_view& text, int max_digits) {
    int value = 0, digits = 0;
    while (digits < max_digits && !text.empty() && text[0] >= '0' && text[0] <= '9') {
        value = value * 10 + (text[0] - '0');
        text.remove_prefix(1);
        ++digits;
    }
    return digits == 0 ? -1 : value;
}

// [+-]hh[:mm[:ss]], hours up to 167 (RFC 8536's extension for change times).
std::optional<seconds> take_clock(std::string_view& text) {
    int sign = 1;
    if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
        sign = text[0] == '-' ? -1 : 1;
        text.remove_prefix(1);
    }
    const int h = take_number(text, 3);
    if (h < 0 || h > 167) return std::nullopt;
    int m = 0, s = 0;
    if (text.starts_with(':')) {
        text.remove_prefix(1);
        if ((m = take_number(text, 2)) < 0 || m > 59) return std::nullopt;
        if (text.starts_with(':')) {
            text.remove_prefix(1);
            if ((s = take_number(text, 2)) < 0 || s > 59) return std::nullopt;
        }
    }
    return sign * (hours{h} + minutes{m} + seconds{s});
}

}  // namespace

std::optional<posix_rule::change> posix_rule::parse_change(std::string_view& text) {
    change c;
    if (text.starts_with('M')) {
        text.remove_prefix(1);
        c.month = take_number(text, 2);
        if (!text.starts_with('.')) return std::nullopt;
        text.remove_prefix(1);
        c.week = take_number(text, 1);
        if (!text.starts_with('.')) return std::nullopt;
        text.remove_prefix(1);
        c.day = take_number(text, 1);
        if (c.month < 1 || c.month > 12 || c.week < 1 || c.week > 5 || c.day < 0 || c.day > 6)
            return std::nullopt;
    } else if (text.starts_with('J')) {
        text.remove_prefix(1);
        c.kind = change::julian_no_leap;
        c.day = take_number(text, 3);
        if (c.day < 1 || c.day > 365) return std::nullopt;
    } else {
        c.kind = change::julian;
        c.day = take_number(text, 3);
        if (c.day < 0 || c.day > 365) return std::nullopt;
    }
    if (text.starts_with('/')) {
        text.remove_prefix(1);
        const auto time = take_clock(text);
        if (!time) return std::nullopt;
        c.time = *time;
    }
    return c;
}

std::optional<posix_rule> posix_rule::parse(std::string_view text) {
    posix_rule rule;
    if (!skip_name(text)) return std::nullopt;
    const auto standard = take_clock(text);
    if (!standard) return std::nullopt;
    rule.standard_ = -*standard;            // POSIX counts west of Greenwich as positive
    if (text.empty()) return std::nullopt;  // no daylight time: one offset for ever
    if (!skip_name(text)) return std::nullopt;
    rule.daylight_ = rule.standard_ + hours{1};
    if (!text.starts_with(',')) {
        const auto daylight = take_clock(text);
        if (!daylight) return std::nullopt;
        rule.daylight_ = -*daylight;
    }
    if (!text.starts_with(',')) return std::nullopt;  // zone files always give the rule
    text.remove_prefix(1);
    const auto start = parse_change(text);
    if (!start || !text.starts_with(',')) return std::nullopt;
    text.remove_prefix(1);
    const auto end = parse_change(text);
    if (!end || !text.empty()) return std::nullopt;
    // Offsets of 26 hours or more would break time_zone::resolve's margin (RFC 8536: under 26 h).
    if (abs(rule.standard_) >= hours{26} || abs(rule.daylight_) >= hours{26}) return std::nullopt;
    rule.start_ = *start;
    rule.end_ = *end;
    return rule;
}

std::optional<seconds> posix_rule::fixed_offset(std::string_view text) {
    if (!skip_name(text)) return std::nullopt;
    const auto standard = take_clock(text);
    if (!standard || !text.empty() || abs(*standard) > hours{24}) return std::nullopt;  // POSIX
    return -*standard;  // POSIX counts west of Greenwich as positive
}

sys_seconds posix_rule::when(const change& c, year y, seconds offset_before) const {
    sys_days date;
    switch (c.kind) {
        case change::julian_no_leap:  // day 60 is 1 March, leap year or not
            date =
                sys_days{y / January / 1} + days{c.day - 1 + (y.is_leap() && c.day >= 60 ? 1 : 0)};
            break;
        case change::julian:
            date = sys_days{y / January / 1} + days{c.day};
            break;
        default: {
            const auto month_start = sys_days{y / month{unsigned(c.month)} / 1};
            const int first = int(weekday{month_start}.c_encoding());
            int day = 1 + (c.day - first + 7) % 7 + (c.week - 1) * 7;
            const int length = int(unsigned{(y / month{unsigned(c.month)} / last).day()});
            while (day > length)
                day -= 7;  // week 5: the last such day
            date = month_start + days{day - 1};
        }
    }
    return date + c.time - offset_before;
}

offset_span posix_rule::span_at(sys_seconds t) const {
    const year y = year_month_day{floor<days>(t + standard_)}.year();
    // The changes of the years around t, each with the offset it brings.
    std::array<std::pair<sys_seconds, seconds>, 6> changes;
    for (int i = 0; i < 3; ++i) {
        const year at = y + years{i - 1};
        changes[2 * i] = {when(start_, at, standard_), daylight_};
        changes[2 * i + 1] = {when(end_, at, daylight_), standard_};
    }
    std::sort(changes.begin(), changes.end());
    // t falls after the first change: its year's changes come at least a day in
    const auto next = std::upper_bound(changes.begin(), changes.end(), t,
                                       [](sys_seconds v, const auto& c) { return v < c.first; });
    const auto& current = *(next - 1);
    return {current.first, next == changes.end() ? sys_seconds::max() : next->first,
            current.second};
}

}  // namespace mockit::detail
