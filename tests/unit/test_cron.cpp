// SPDX-License-Identifier: MIT
// Calendar schedules (mockit/cron.hpp): every parse error's message, the day and step rules,
// and the DST rules on the days they matter. tests/cron compares thousands of cases with croner.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "mockit/cron.hpp"

namespace {

using namespace std::chrono;
using mockit::cron_error;
using mockit::cron_schedule;

// An instant given as UTC wall time.
sys_time<milliseconds> utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0,
                           int ms = 0) {
    return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s} +
           milliseconds{ms};
}

// The next `n` runs after `from`, as mockit-run --next prints them.
std::vector<std::string> runs(const std::string& expr, const std::string& zone,
                              sys_time<milliseconds> from, int n) {
    const cron_schedule schedule(expr, zone);
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) {
        const auto run = schedule.next_after(from);
        if (!run) break;
        out.push_back(schedule.format(*run));
        from = *run;
    }
    return out;
}

std::string error_of(const std::string& expr, const std::string& zone = "UTC") {
    try {
        cron_schedule schedule(expr, zone);
    } catch (const cron_error& error) {
        return error.what();
    }
    return "(accepted)";
}

using strings = std::vector<std::string>;

}  // namespace

TEST_CASE("cron: field counts", "[cron]") {
    CHECK(error_of("* * *") == "expected 5 or 6 fields, got 3");
    CHECK(error_of("") == "expected 5 or 6 fields, got 0");
    CHECK(error_of("   ") == "expected 5 or 6 fields, got 0");
    CHECK(error_of("0 0 0 1 1 * 2030") == "expected 5 or 6 fields, got 7");
    CHECK(error_of("* * * * *") == "(accepted)");
    CHECK(error_of(" \t0  0 * *\t* ") == "(accepted)");
}

TEST_CASE("cron: values out of range name the field and the range", "[cron]") {
    CHECK(error_of("60 0 0 * * *") == "second: 60 is out of range 0-59");
    CHECK(error_of("61 * * * *") == "minute: 61 is out of range 0-59");
    CHECK(error_of("0 24 * * *") == "hour: 24 is out of range 0-23");
    CHECK(error_of("0 0 0 * *") == "day-of-month: 0 is out of range 1-31");
    CHECK(error_of("0 0 32 * *") == "day-of-month: 32 is out of range 1-31");
    CHECK(error_of("0 0 * 13 *") == "month: 13 is out of range 1-12");
    CHECK(error_of("0 0 * * 8") == "day-of-week: 8 is out of range 0-7");
    CHECK(error_of("0 0-30 * * *") == "hour: 30 is out of range 0-23");
    CHECK(error_of("99999999999 * * * *") == "minute: 99999999999 is out of range 0-59");
}

TEST_CASE("cron: names, numbers, ranges, lists and steps that are wrong", "[cron]") {
    CHECK(error_of("0 0 * * FOO") == "day-of-week: unknown name 'FOO'");
    CHECK(error_of("0 0 * FOO *") == "month: unknown name 'FOO'");
    CHECK(error_of("0 0 * * MONDAY") == "day-of-week: unknown name 'MONDAY'");
    CHECK(error_of("x * * * *") == "minute: 'x' is not a number");
    CHECK(error_of("0 JAN * * *") == "hour: 'JAN' is not a number");
    CHECK(error_of("*/0 * * * *") == "minute: step: */0 must be at least 1");
    CHECK(error_of("*/x * * * *") == "minute: step: */x has no number after '/'");
    CHECK(error_of("0 */ * * *") == "hour: step: */ has no number after '/'");
    CHECK(error_of("*/90 * * * *") ==
          "minute: step: */90 is larger than the 60 values of the field");
    CHECK(error_of("0 0 * * */8") ==
          "day-of-week: step: */8 is larger than the 7 values of the field");
    CHECK(error_of("5-2 * * * *") == "minute: range 5-2 runs backwards");
    CHECK(error_of("1,,2 * * * *") == "minute: empty item in the list");
    CHECK(error_of("1, * * * *") == "minute: empty item in the list");
    // Quartz's modifiers are not cron's (see the reference's differences from croner)
    CHECK(error_of("0 0 L * *") == "day-of-month: 'L' is not a number");
    CHECK(error_of("0 0 * * MON#2") == "day-of-week: unknown name 'MON#2'");
    // control characters (a NUL from Lua, a newline, an escape) are shown escaped, whole
    CHECK(error_of(std::string("0 0\0 * * *", 10)) == "hour: '0\\0' is not a number");
    CHECK(error_of("0 0 * * *\n") == "day-of-week: unknown name '*\\n'");
    CHECK(error_of("0 0 * * \x1b[31m") == "day-of-week: unknown name '\\x1b[31m'");
    CHECK(error_of("*/\r1 * * * *") == "minute: step: */\\r1 has no number after '/'");
    CHECK(error_of("@\x7f") ==
          "unknown nickname '@\\x7f' (known: @yearly, @annually, @monthly, @weekly, @daily, "
          "@midnight, @hourly)");
    CHECK(error_of("* * * * *", std::string("UTC\0x", 5)) == "unknown time zone 'UTC\\0x'");
    // long ones are cut, never inside a UTF-8 character, with their length
    CHECK(error_of("* * * * *", std::string(200000, 'x')) ==
          "unknown time zone '" + std::string(100, 'x') + "... (200000 bytes)'");
    CHECK(error_of("* * * * *", std::string(99, 'x') + "\xc3\xa9" + std::string(50, 'y')) ==
          "unknown time zone '" + std::string(99, 'x') + "... (151 bytes)'");
}

TEST_CASE("cron: nicknames", "[cron]") {
    CHECK(error_of("@reboot") ==
          "unknown nickname '@reboot' (known: @yearly, @annually, @monthly, @weekly, @daily, "
          "@midnight, @hourly)");
    CHECK(error_of("@daily 5") == "expected 5 or 6 fields, got 2");
    const auto from = utc(2026, 5, 13, 10, 30);  // a Wednesday
    CHECK(runs("@yearly", "UTC", from, 1) == strings{"2027-01-01T00:00:00+00:00"});
    CHECK(runs("@ANNUALLY", "UTC", from, 1) == strings{"2027-01-01T00:00:00+00:00"});
    CHECK(runs("@monthly", "UTC", from, 1) == strings{"2026-06-01T00:00:00+00:00"});
    CHECK(runs("@weekly", "UTC", from, 1) == strings{"2026-05-17T00:00:00+00:00"});
    CHECK(runs("@daily", "UTC", from, 1) == strings{"2026-05-14T00:00:00+00:00"});
    CHECK(runs("@midnight", "UTC", from, 1) == strings{"2026-05-14T00:00:00+00:00"});
    CHECK(runs("@hourly", "UTC", from, 1) == strings{"2026-05-13T11:00:00+00:00"});
}

TEST_CASE("cron: unknown time zones", "[cron]") {
    CHECK(error_of("* * * * *", "Mars/Olympus") == "unknown time zone 'Mars/Olympus'");
    CHECK(error_of("* * * * *", "europe/berlin") == "unknown time zone 'europe/berlin'");
    CHECK(error_of("* * * * *", "Europe/Berlin") == "(accepted)");
    // the expression is read first: its error is the one reported
    CHECK(error_of("61 * * * *", "Mars/Olympus") == "minute: 61 is out of range 0-59");
}

TEST_CASE("cron: the next run is strictly after the time given", "[cron]") {
    const cron_schedule every_minute("* * * * *", "UTC");
    CHECK(every_minute.next_after(utc(2026, 1, 1, 0, 0)) == floor<seconds>(utc(2026, 1, 1, 0, 1)));
    CHECK(every_minute.next_after(utc(2026, 1, 1, 0, 0, 59, 999)) ==
          floor<seconds>(utc(2026, 1, 1, 0, 1)));
    const cron_schedule every_second("* * * * * *", "UTC");
    CHECK(every_second.next_after(utc(2026, 1, 1, 0, 0, 0, 500)) ==
          floor<seconds>(utc(2026, 1, 1, 0, 0, 1)));
}

TEST_CASE("cron: steps, ranges, lists and names", "[cron]") {
    const auto from = utc(2026, 1, 1);
    CHECK(runs("*/20 * * * *", "UTC", from, 3) == strings{"2026-01-01T00:20:00+00:00",
                                                          "2026-01-01T00:40:00+00:00",
                                                          "2026-01-01T01:00:00+00:00"});
    CHECK(runs("5/25 * * * *", "UTC", from, 3) ==  // a/n: a to the end of the field
          strings{"2026-01-01T00:05:00+00:00", "2026-01-01T00:30:00+00:00",
                  "2026-01-01T00:55:00+00:00"});
    CHECK(runs("10-20/5 8 * * *", "UTC", from, 4) ==
          strings{"2026-01-01T08:10:00+00:00", "2026-01-01T08:15:00+00:00",
                  "2026-01-01T08:20:00+00:00", "2026-01-02T08:10:00+00:00"});
    CHECK(runs("0 9 * * mon-FRI", "UTC", from, 3) ==  // 2026-01-01 is a Thursday
          strings{"2026-01-01T09:00:00+00:00", "2026-01-02T09:00:00+00:00",
                  "2026-01-05T09:00:00+00:00"});
    CHECK(runs("0 0 1 jan,Jul *", "UTC", from, 2) ==
          strings{"2026-07-01T00:00:00+00:00", "2027-01-01T00:00:00+00:00"});
    CHECK(runs("0 0 * * 7", "UTC", from, 1) == strings{"2026-01-04T00:00:00+00:00"});  // Sunday
    CHECK(runs("0 0 * * 5-7", "UTC", from, 3) == strings{"2026-01-02T00:00:00+00:00",
                                                         "2026-01-03T00:00:00+00:00",
                                                         "2026-01-04T00:00:00+00:00"});
    CHECK(runs("0 0 * * 1/2", "UTC", from, 3) ==  // Monday, Wednesday, Friday: not Sunday
          strings{"2026-01-02T00:00:00+00:00", "2026-01-05T00:00:00+00:00",
                  "2026-01-07T00:00:00+00:00"});
    CHECK(runs("15 30 12 * * *", "UTC", from, 1) == strings{"2026-01-01T12:30:15+00:00"});
}

TEST_CASE("cron: day-of-month and day-of-week combine as in Vixie cron", "[cron]") {
    const auto from = utc(2026, 2, 1);  // a Sunday
    // both restricted: either matches (the 13th, or any Friday)
    CHECK(runs("0 0 13 * FRI", "UTC", from, 3) == strings{"2026-02-06T00:00:00+00:00",
                                                          "2026-02-13T00:00:00+00:00",
                                                          "2026-02-20T00:00:00+00:00"});
    // one starts with `*` (or `?`): both must match (odd days that are Mondays)
    CHECK(runs("0 0 */2 * MON", "UTC", from, 2) ==
          strings{"2026-02-09T00:00:00+00:00", "2026-02-23T00:00:00+00:00"});
    CHECK(runs("0 0 ? * MON", "UTC", from, 1) == strings{"2026-02-02T00:00:00+00:00"});
    CHECK(runs("0 0 13 * *", "UTC", from, 1) == strings{"2026-02-13T00:00:00+00:00"});
}

TEST_CASE("cron: short months and leap days", "[cron]") {
    CHECK(runs("0 0 31 * *", "UTC", utc(2026, 1, 31, 1), 3) ==
          strings{"2026-03-31T00:00:00+00:00", "2026-05-31T00:00:00+00:00",
                  "2026-07-31T00:00:00+00:00"});
    CHECK(runs("0 0 29 2 *", "UTC", utc(2026, 1, 1), 2) ==
          strings{"2028-02-29T00:00:00+00:00", "2032-02-29T00:00:00+00:00"});
    // 2100 is no leap year: from 2096 the next is 2104
    CHECK(runs("0 0 29 2 *", "UTC", utc(2096, 3, 1), 1) == strings{"2104-02-29T00:00:00+00:00"});
}

TEST_CASE("cron: an expression that never matches has no next run", "[cron]") {
    CHECK_FALSE(cron_schedule("0 0 30 2 *", "UTC").next_after(utc(2026, 1, 1)).has_value());
    CHECK_FALSE(cron_schedule("0 0 31 4,6,9,11 *", "Europe/Berlin")
                    .next_after(utc(2026, 1, 1))
                    .has_value());
}

TEST_CASE("cron: a fixed time in the spring-forward gap runs when the gap ends", "[cron]") {
    CHECK(runs("30 2 * * *", "Europe/Berlin", utc(2026, 3, 27, 12), 3) ==
          strings{"2026-03-28T02:30:00+01:00", "2026-03-29T03:00:00+02:00",
                  "2026-03-30T02:30:00+02:00"});
    CHECK(runs("0 30 2 * * *", "America/New_York", utc(2026, 3, 8), 1) ==
          strings{"2026-03-08T03:00:00-04:00"});
    // half an hour's change: 02:00 -> 02:30
    CHECK(runs("15 2 * * *", "Australia/Lord_Howe", utc(2026, 10, 3, 12), 2) ==
          strings{"2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00"});
}

TEST_CASE("cron: interval times in the spring-forward gap are skipped", "[cron]") {
    CHECK(runs("*/30 * * * *", "Europe/Berlin", utc(2026, 3, 29, 0, 15), 3) ==
          strings{"2026-03-29T01:30:00+01:00", "2026-03-29T03:00:00+02:00",
                  "2026-03-29T03:30:00+02:00"});
}

TEST_CASE("cron: a fixed time in the repeated hour runs once, at its first pass", "[cron]") {
    CHECK(runs("30 2 * * *", "Europe/Berlin", utc(2026, 10, 24, 12), 2) ==
          strings{"2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"});
    // from inside the second pass, the next run is the next day's
    CHECK(runs("30 2 * * *", "Europe/Berlin", utc(2026, 10, 25, 1, 10), 1) ==
          strings{"2026-10-26T02:30:00+01:00"});
}

TEST_CASE("cron: wildcard and stepped hours run through both passes of the repeated hour",
          "[cron]") {
    const strings both{"2026-10-25T02:00:00+02:00", "2026-10-25T02:30:00+02:00",
                       "2026-10-25T02:00:00+01:00", "2026-10-25T02:30:00+01:00",
                       "2026-10-25T03:00:00+01:00"};
    CHECK(runs("*/30 * * * *", "Europe/Berlin", utc(2026, 10, 24, 23, 50), 5) == both);
    // starting inside the first pass, the second pass still comes before 03:00
    CHECK(runs("*/30 * * * *", "Europe/Berlin", utc(2026, 10, 25, 0, 40), 2) ==
          strings{"2026-10-25T02:00:00+01:00", "2026-10-25T02:30:00+01:00"});
    // a list of hours is an interval too (croner's rule: a single value in each of second,
    // minute and hour makes a fixed time)
    CHECK(runs("0 1,2 * * *", "America/New_York", utc(2026, 11, 1, 4), 3) ==
          strings{"2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00",
                  "2026-11-01T02:00:00-05:00"});
}

TEST_CASE("cron: format gives the offset in force, to the minute", "[cron]") {
    const auto t = floor<seconds>(utc(2026, 7, 1, 12));
    CHECK(cron_schedule("* * * * *", "UTC").format(t) == "2026-07-01T12:00:00+00:00");
    CHECK(cron_schedule("* * * * *", "Asia/Kolkata").format(t) == "2026-07-01T17:30:00+05:30");
    CHECK(cron_schedule("* * * * *", "America/New_York").format(t) == "2026-07-01T08:00:00-04:00");
    CHECK(cron_schedule("* * * * *", "Pacific/Chatham").format(t) == "2026-07-02T00:45:00+12:45");
}

TEST_CASE("cron: the local zone is glibc's: TZ, else /etc/localtime, else UTC", "[cron]") {
    // Each test case runs in a process of its own (catch_discover_tests), so TZ is ours.
    const auto t = floor<seconds>(utc(2026, 7, 1, 12));
    ::setenv("TZ", "Europe/Berlin", 1);
    CHECK(cron_schedule("* * * * *").zone_name() == "Europe/Berlin");
    ::setenv("TZ", ":Asia/Kolkata", 1);
    CHECK(cron_schedule("* * * * *").zone_name() == "Asia/Kolkata");
    ::setenv("TZ", "/usr/share/zoneinfo/Pacific/Chatham", 1);
    CHECK(cron_schedule("* * * * *").zone_name() == "Pacific/Chatham");
    // A zone file outside the database, by its path.
    char dir[] = "/tmp/mockit-tz.XXXXXX";
    REQUIRE(::mkdtemp(dir) != nullptr);
    const std::string file = std::string(dir) + "/ny";
    std::filesystem::copy_file("/usr/share/zoneinfo/America/New_York", file);
    ::setenv("TZ", (":" + file).c_str(), 1);
    CHECK(cron_schedule("* * * * *").zone_name() == file);
    CHECK(cron_schedule("* * * * *").format(t) == "2026-07-01T08:00:00-04:00");
    std::filesystem::remove_all(dir);
    // A POSIX rule, as glibc reads it: Berlin's, and its runs are Berlin's, DST included.
    ::setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
    CHECK(cron_schedule("* * * * *").zone_name() == "CET-1CEST,M3.5.0,M10.5.0/3");
    CHECK(runs("30 2 * * *", "", utc(2026, 3, 28, 12), 2) ==
          runs("30 2 * * *", "Europe/Berlin", utc(2026, 3, 28, 12), 2));
    CHECK(runs("0 1,2 * * *", "", utc(2026, 10, 24, 22), 3) ==
          runs("0 1,2 * * *", "Europe/Berlin", utc(2026, 10, 24, 22), 3));
    ::setenv("TZ", "IST-5:30", 1);  // a fixed offset
    CHECK(cron_schedule("* * * * *").format(t) == "2026-07-01T17:30:00+05:30");
    // An empty TZ is UTC, and so is one that is no zone, rule or offset of at most 24 hours
    // (glibc makes something of a few of those): never the system zone behind TZ's back.
    for (const char* value : {"", ":", "not a zone", "EST5EDT,M13.9.9", "XXX-25"}) {
        ::setenv("TZ", value, 1);
        CHECK(cron_schedule("* * * * *").zone_name() == "UTC");
        CHECK(cron_schedule("* * * * *").format(t) == "2026-07-01T12:00:00+00:00");
    }
    ::unsetenv("TZ");
    CHECK_FALSE(cron_schedule("* * * * *").zone_name().empty());
    CHECK(cron_schedule("* * * * *", "America/New_York").zone_name() == "America/New_York");
}

TEST_CASE("cron: copies share the schedule", "[cron]") {
    const cron_schedule a("0 12 * * *", "Asia/Kolkata");
    const cron_schedule b = a;  // NOLINT(performance-unnecessary-copy-initialization)
    CHECK(&a.zone_name() == &b.zone_name());
    CHECK(b.next_after(utc(2026, 1, 1)) == floor<seconds>(utc(2026, 1, 1, 6, 30)));
}

TEST_CASE("cron: past the zone files' last listed change (2037), their rule goes on", "[cron]") {
    CHECK(runs("0 12 1 1,7 *", "Europe/Berlin", utc(2040, 1, 2), 2) ==
          strings{"2040-07-01T12:00:00+02:00", "2041-01-01T12:00:00+01:00"});
    // 2045-03-26: 02:00 CET -> 03:00 CEST; 2045-10-29: 03:00 CEST -> 02:00 CET
    CHECK(runs("30 2 * * *", "Europe/Berlin", utc(2045, 3, 25, 12), 2) ==
          strings{"2045-03-26T03:00:00+02:00", "2045-03-27T02:30:00+02:00"});
    CHECK(runs("*/30 2 * * *", "Europe/Berlin", utc(2045, 10, 29, 0, 10), 3) ==
          strings{"2045-10-29T02:30:00+02:00", "2045-10-29T02:00:00+01:00",
                  "2045-10-29T02:30:00+01:00"});
    // the southern hemisphere, and half an hour's change: 2045-10-01 02:00 -> 02:30
    CHECK(runs("15 2 * * *", "Australia/Lord_Howe", utc(2045, 9, 30, 12), 1) ==
          strings{"2045-10-01T02:30:00+11:00"});
    // zones whose clocks no longer change keep their offset
    CHECK(runs("0 12 1 7 *", "Asia/Kolkata", utc(2045, 1, 1), 1) ==
          strings{"2045-07-01T12:00:00+05:30"});
}

TEST_CASE("cron: zone names outside the database are unknown, whatever the files there", "[cron]") {
    CHECK(error_of("* * * * *", "../../../etc/passwd") ==
          "unknown time zone '../../../etc/passwd'");
    CHECK(error_of("* * * * *", "/usr/share/zoneinfo/UTC") ==
          "unknown time zone '/usr/share/zoneinfo/UTC'");
    CHECK(error_of("* * * * *", "Europe") == "unknown time zone 'Europe'");  // a directory
    CHECK(error_of("* * * * *", "zone.tab") == "unknown time zone 'zone.tab'");
    CHECK(error_of("* * * * *", "iso3166.tab") == "unknown time zone 'iso3166.tab'");
    CHECK(error_of("* * * * *", "Etc/GMT+5") == "(accepted)");
}

TEST_CASE("cron: instants past year 9999 or before year 1 have no next run", "[cron]") {
    const cron_schedule daily("@daily", "Europe/Berlin");
    CHECK_FALSE(daily.next_after(sys_time<milliseconds>::max()).has_value());
    CHECK_FALSE(daily.next_after(sys_time<milliseconds>::min()).has_value());
    CHECK(daily.format(*daily.next_after(utc(9998, 12, 30))) == "9998-12-31T00:00:00+01:00");
}

namespace {

// A directory of zone files made by a test, named as TZDIR; removed with what it holds.
struct zone_dir {
    std::string path;
    zone_dir() {
        char name[] = "/tmp/mockit-zones.XXXXXX";
        if (::mkdtemp(name) != nullptr) path = name;
        ::setenv("TZDIR", path.c_str(), 1);
    }
    ~zone_dir() {
        ::unsetenv("TZDIR");
        std::filesystem::remove_all(path);
    }
    void write(const std::string& name, const std::string& data) const {
        std::ofstream(path + "/" + name, std::ios::binary) << data;
    }
};

// A TZif file of version 2 (RFC 8536) with the given changes (instant, index into `offsets`),
// offsets (seconds east of UTC) and footer rule, its 32-bit block empty but for one type.
std::string tzif(const std::vector<std::pair<std::int64_t, unsigned char>>& changes,
                 const std::vector<std::int32_t>& offsets, const std::string& rule) {
    const auto number = [](std::string& out, std::uint64_t value, int bytes) {
        for (int i = bytes - 1; i >= 0; --i)
            out += char(value >> (8 * i) & 0xff);
    };
    const auto header = [&](std::string& out, std::uint32_t times, std::uint32_t types) {
        out += "TZif2";
        out.append(15, '\0');
        for (const std::uint32_t count : {0u, 0u, 0u, times, types, 1u})
            number(out, count, 4);
    };
    std::string out;
    header(out, 0, 1);
    out.append(6, '\0');  // type 0: UTC
    out += '\0';          // its abbreviation
    header(out, std::uint32_t(changes.size()), std::uint32_t(offsets.size()));
    for (const auto& change : changes)
        number(out, std::uint64_t(change.first), 8);
    for (const auto& change : changes)
        out += char(change.second);
    for (const auto offset : offsets) {
        number(out, std::uint32_t(offset), 4);
        out += '\0';
        out += '\0';
    }
    out += '\0';
    return out + "\n" + rule + "\n";
}

std::string read_file(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("cron: TZDIR names where the zone files are", "[cron]") {
    const zone_dir dir;
    REQUIRE_FALSE(dir.path.empty());
    dir.write("Berlin", read_file("/usr/share/zoneinfo/Europe/Berlin"));
    CHECK(runs("30 2 * * *", "Berlin", utc(2026, 3, 28, 12), 1) ==
          strings{"2026-03-29T03:00:00+02:00"});
    CHECK(error_of("* * * * *", "Europe/Berlin") == "unknown time zone 'Europe/Berlin'");
}

TEST_CASE("cron: damaged zone files are unknown zones, or read safely", "[cron]") {
    const zone_dir dir;
    REQUIRE_FALSE(dir.path.empty());
    const std::string good = read_file("/usr/share/zoneinfo/America/New_York");
    REQUIRE(good.size() > 1000);
    // Every cut short, and every 7th byte changed: each must be refused or give some run
    // (the sanitizer builds check that nothing is read out of bounds).
    int refused = 0, read = 0;
    for (std::size_t i = 0; i < good.size(); i += 1) {
        std::string damaged = i % 2 ? good.substr(0, i) : good;
        if (i % 2 == 0) damaged[i] = char(damaged[i] ^ (i % 7 == 0 ? 0xff : 0x80));
        dir.write("zone", damaged);
        try {
            const cron_schedule schedule("*/30 * * * *", "zone");
            const auto run = schedule.next_after(utc(2026, 11, 1, 5, 40));
            if (run) CHECK(schedule.format(*run).size() >= 25);
            ++read;
        } catch (const cron_error& error) {
            CHECK(std::string(error.what()) == "unknown time zone 'zone'");
            ++refused;
        }
    }
    CHECK(refused > 0);
    CHECK(read > 0);
    dir.write("zone", good);
    CHECK(runs("0 1 * * *", "zone", utc(2026, 11, 1), 1) == strings{"2026-11-01T01:00:00-04:00"});
}

TEST_CASE("cron: a zone file that is a FIFO or a directory is refused at once", "[cron]") {
    const zone_dir dir;
    REQUIRE_FALSE(dir.path.empty());
    REQUIRE(::mkfifo((dir.path + "/fifo").c_str(), 0600) == 0);  // no writer: opening would wait
    CHECK(error_of("* * * * *", "fifo") == "unknown time zone 'fifo'");
    std::filesystem::create_directory(dir.path + "/dir");
    CHECK(error_of("* * * * *", "dir") == "unknown time zone 'dir'");
    ::setenv("TZ", "fifo", 1);  // the local zone passes over it
    CHECK(cron_schedule("* * * * *").zone_name() != "fifo");
    ::unsetenv("TZ");
}

TEST_CASE("cron: a zone file that lists no change follows its rule for ever", "[cron]") {
    const zone_dir dir;
    REQUIRE_FALSE(dir.path.empty());
    // RFC 8536: without changes, the footer's rule gives the local time (as zic -b slim writes).
    dir.write("rule", tzif({}, {-5 * 3600}, "EST5EDT,M3.2.0,M11.1.0"));
    CHECK(runs("0 * * * *", "rule", utc(2026, 3, 8, 5, 30), 3) ==
          strings{"2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00",
                  "2026-03-08T04:00:00-04:00"});
    dir.write("fixed", tzif({}, {-5 * 3600}, "EST5"));  // no daylight time: type 0 for ever
    CHECK(runs("0 12 1 7 *", "fixed", utc(2026, 1, 1), 1) == strings{"2026-07-01T12:00:00-05:00"});
}

TEST_CASE("cron: offsets of more than a day still find both passes of a repeated time", "[cron]") {
    const zone_dir dir;
    REQUIRE_FALSE(dir.path.empty());
    // At 2001-09-09T01:46:40Z (10^9 s) the clocks go from +00:00 back to -25:00 (RFC 8536 allows
    // up to 25:59:59): 2001-09-08T00:46:40 to 2001-09-09T01:46:40 comes again.
    dir.write("far", tzif({{1000000000, 1}}, {0, -25 * 3600}, "<-25>25"));
    CHECK(runs("*/30 * * * *", "far", utc(2001, 9, 9, 0, 50), 4) ==
          strings{"2001-09-09T01:00:00+00:00", "2001-09-09T01:30:00+00:00",
                  "2001-09-08T01:00:00-25:00", "2001-09-08T01:30:00-25:00"});
}
