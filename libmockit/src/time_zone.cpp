// SPDX-License-Identifier: MIT
#include "time_zone.hpp"

#include <date/tz.h>

#include <cstdlib>
#include <exception>

#include "mockit/cron.hpp"

namespace mockit::detail {
namespace {

constexpr std::string_view database_dir = "/usr/share/zoneinfo/";

// The zone called `name`, or null. libdate-tz reports an unknown name (and a missing database)
// by throwing; the caller decides what either means.
const date::time_zone* find_zone(std::string_view name) noexcept {
    try {
        return date::locate_zone(name);
    } catch (const std::exception&) {
        return nullptr;
    }
}

// The zone TZ names, as glibc reads it: "Europe/Berlin", ":Europe/Berlin", or a path of the
// database. POSIX rule strings ("CET-1CEST,M3.5.0,M10.5.0/3") name no zone of the database.
const date::time_zone* zone_from_environment() noexcept {
    const char* value = std::getenv("TZ");
    if (value == nullptr) return nullptr;
    std::string_view name = value;
    if (name.starts_with(':')) name.remove_prefix(1);
    if (name.starts_with(database_dir)) name.remove_prefix(database_dir.size());
    if (name.empty() || name.starts_with('/')) return nullptr;
    return find_zone(name);
}

const date::time_zone* local_zone() noexcept {
    if (const auto* zone = zone_from_environment()) return zone;
    try {
        return date::current_zone();  // the zone /etc/localtime links to
    } catch (const std::exception&) {
        return nullptr;
    }
}

date::local_seconds to_date(std::chrono::local_seconds t) {
    return date::local_seconds{t.time_since_epoch()};
}

}  // namespace

time_zone::time_zone(const date::time_zone* zone, std::string name)
    : zone_(zone), name_(std::move(name)) {
    if (zone_ == nullptr) return;
    // Past its last listed change, the span in force never ends for libdate-tz.
    const auto last = zone_->get_info(date::sys_days{date::year{2400} / 1 / 1});
    if (last.end < date::sys_days{date::year{9999} / 1 / 1}) return;
    rule_ = posix_rule::parse(posix_rule::read_footer(std::string(database_dir) + zone_->name()));
    if (rule_) rule_from_ = last.begin;
}

time_zone time_zone::locate(std::string_view name) {
    if (name.empty()) {
        const auto* zone = local_zone();
        // UTC needs no database, so a system without one still has a local zone.
        return zone ? time_zone(zone, zone->name()) : time_zone(nullptr, "UTC");
    }
    const auto* zone = find_zone(name);
    if (zone == nullptr) throw cron_error("unknown time zone '" + std::string(name) + "'");
    return time_zone(zone, std::string(name));
}

offset_span time_zone::span_at(std::chrono::sys_seconds t) const {
    if (past_listed(t)) return rule_->span_at(t);
    const auto info = zone_->get_info(t);
    // libdate-tz's last listed span never ends; the rule takes over where it begins.
    const auto end = rule_ && info.end > rule_from_ ? rule_from_ : info.end;
    return {info.begin, end, info.offset};
}

std::chrono::seconds time_zone::offset_at(std::chrono::sys_seconds t) const {
    if (zone_ == nullptr) return std::chrono::seconds{0};
    return span_at(t).offset;
}

wall_time_info time_zone::resolve(std::chrono::local_seconds wall) const {
    const auto since_epoch = wall.time_since_epoch();
    if (zone_ == nullptr)
        return {wall_time_info::unique, std::chrono::sys_seconds{since_epoch}, {}};
    if (past_listed(std::chrono::sys_seconds{since_epoch} - std::chrono::days{1})) {
        return resolve_by_spans(wall);
    }
    const auto info = zone_->get_info(to_date(wall));
    const auto at = [&](std::chrono::seconds offset) {
        return std::chrono::sys_seconds{since_epoch - offset};
    };
    switch (info.result) {
        case date::local_info::nonexistent:
            return {wall_time_info::gap, info.second.begin, {}};
        case date::local_info::ambiguous:
            return {wall_time_info::fold, at(info.first.offset), at(info.second.offset)};
        default:
            return {wall_time_info::unique, at(info.first.offset), {}};
    }
}

// The spans that can hold `wall` (offsets stay within a day of UTC): the instants it is in
// each, or the change that skips it.
wall_time_info time_zone::resolve_by_spans(std::chrono::local_seconds wall) const {
    const auto w = std::chrono::sys_seconds{wall.time_since_epoch()};
    std::chrono::sys_seconds hits[2];
    int count = 0;
    auto span = span_at(w - std::chrono::days{1});
    while (true) {
        const auto instant = w - span.offset;
        if (instant >= span.begin && instant < span.end && count < 2) hits[count++] = instant;
        if (span.end > w + std::chrono::days{1}) break;
        const auto next = span_at(span.end);
        // Clocks going forward skip the wall times from the old offset's to the new one's.
        if (next.offset > span.offset && w >= span.end + span.offset &&
            w < next.begin + next.offset)
            return {wall_time_info::gap, next.begin, {}};
        span = next;
    }
    if (count == 2) return {wall_time_info::fold, hits[0], hits[1]};
    return {wall_time_info::unique, count == 1 ? hits[0] : w - span.offset, {}};
}

std::chrono::local_seconds time_zone::second_pass_start(std::chrono::sys_seconds t) const {
    constexpr auto none = std::chrono::local_seconds::max();
    if (zone_ == nullptr) return none;
    const auto now = span_at(t);
    if (now.end >= std::chrono::sys_seconds{std::chrono::seconds{INT64_C(1) << 40}}) return none;
    const auto next = span_at(now.end);
    if (next.offset >= now.offset) return none;  // the next change goes forward, or is no change
    // The clocks go back at now.end: wall times from now.end + next.offset to now.end +
    // now.offset occur twice, the first time before now.end.
    const auto fold_start = std::chrono::local_seconds{now.end.time_since_epoch() + next.offset};
    const auto wall = std::chrono::local_seconds{t.time_since_epoch() + now.offset};
    return wall >= fold_start ? fold_start : none;
}

}  // namespace mockit::detail
