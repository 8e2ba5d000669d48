// SPDX-License-Identifier: MIT
#include "time_zone.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>

#include "mockit/cron.hpp"

namespace mockit::detail {
namespace {

using namespace std::chrono;

// No zone is this far from UTC (RFC 8536 allows up to 25:59:59 either way).
constexpr hours max_offset{26};

// Where the zone files are: $TZDIR as glibc reads it, else Debian's tzdata.
std::string database_dir() {
    const char* dir = std::getenv("TZDIR");
    if (dir == nullptr || dir[0] != '/') return "/usr/share/zoneinfo/";
    std::string path = dir;
    if (!path.ends_with('/')) path += '/';
    return path;
}

std::int64_t big_endian(const unsigned char* p, int bytes) {
    std::uint64_t value = 0;
    for (int i = 0; i < bytes; ++i)
        value = value << 8 | p[i];
    if (bytes == 4) return std::int32_t(std::uint32_t(value));
    return std::int64_t(value);
}

// The TZif file's contents (RFC 8536): version 2 or later, whose 64-bit block follows the
// 32-bit one, then the POSIX rule between two newlines. nullptr when it is not such a file.
std::shared_ptr<const time_zone::changes> parse_tzif(const std::string& data) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
    constexpr std::size_t header = 44;
    // counts: isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
    const auto count = [&](std::size_t at, int i) {  // unsigned: sizes never wrap
        return std::size_t(std::uint32_t(big_endian(bytes + at + 20 + 4 * i, 4)));
    };
    if (data.size() < header || data.compare(0, 4, "TZif") != 0 || data[4] < '2') return nullptr;
    const std::size_t v1 = header + count(0, 3) * 5 + count(0, 4) * 6 + count(0, 5) +
                           count(0, 2) * 8 + count(0, 1) + count(0, 0);
    if (data.size() < v1 + header || data.compare(v1, 4, "TZif") != 0) return nullptr;
    const std::size_t times = count(v1, 3), types = count(v1, 4);
    const std::size_t at = v1 + header, indices = at + times * 8, infos = indices + times;
    const std::size_t end =
        infos + types * 6 + count(v1, 5) + count(v1, 2) * 12 + count(v1, 1) + count(v1, 0);
    if (types == 0 || types > 256 || data.size() < end) return nullptr;
    auto result = std::make_shared<time_zone::changes>();
    const auto offset_of = [&](std::size_t type) {
        return seconds{big_endian(bytes + infos + type * 6, 4)};
    };
    // RFC 8536 keeps offsets within -25:59:59 and +25:59:59; resolve() counts on it.
    for (std::size_t type = 0; type < types; ++type) {
        if (abs(offset_of(type)) >= max_offset) return nullptr;
    }
    result->initial = offset_of(0);  // RFC 8536: type 0 before the first change
    for (std::size_t i = 0; i < times; ++i) {
        const std::size_t type = bytes[indices + i];
        if (type >= types) return nullptr;
        const auto when = big_endian(bytes + at + i * 8, 8);
        // Changes ascend (span_at searches them) and stay within zic's -2^59 ("the big bang")
        // and 2^59, far from where adding an offset could overflow.
        if (when < -(INT64_C(1) << 59) || when > (INT64_C(1) << 59)) return nullptr;
        if (i > 0 && when <= big_endian(bytes + at + (i - 1) * 8, 8)) return nullptr;
        result->at.push_back(sys_seconds{seconds{when}});
        result->offset.push_back(offset_of(type));
    }
    // The footer: "\n<rule>\n" (empty when the file has no rule).
    if (data.size() > end + 1 && data[end] == '\n' && data.back() == '\n') {
        result->rule =
            posix_rule::parse(std::string_view(data).substr(end + 1, data.size() - end - 2));
    }
    return result;
}

// An IANA name as the database spells it: no empty or dot-only part, nothing absolute.
bool plausible_name(std::string_view name) {
    if (name.empty() || name.starts_with('/') || name.ends_with('/')) return false;
    if (name.find("..") != std::string_view::npos || name.find("//") != std::string_view::npos)
        return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '/' || c == '_' || c == '-' || c == '+';
    });
}

// The whole of a regular file of at most 1 MB (zone files take a few kB), or "". Opened without
// blocking, so that a FIFO in its place (a TZDIR or /etc/timezone of a hostile user's) is refused
// at once, not waited on for a writer.
std::string read_small_file(const std::string& path) {
    struct fd_guard {
        int fd;
        ~fd_guard() {
            if (fd >= 0) ::close(fd);
        }
    } file{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)};
    struct stat info {};
    if (file.fd < 0 || ::fstat(file.fd, &info) != 0 || !S_ISREG(info.st_mode) ||
        info.st_size > (1 << 20))
        return {};
    std::string data(std::size_t(info.st_size), '\0');
    std::size_t done = 0;
    while (done < data.size()) {
        const auto n = ::read(file.fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return {};
        done += std::size_t(n);
    }
    return data;
}

std::shared_ptr<const time_zone::changes> load(std::string_view name) {
    if (!plausible_name(name)) return nullptr;
    return parse_tzif(read_small_file(database_dir() + std::string(name)));
}

// The zone /etc/localtime links to (".../zoneinfo/Europe/Berlin"), else the one /etc/timezone
// names (Debian's), else "".
std::string name_from_system() {
    char target[4096];
    const auto length = ::readlink("/etc/localtime", target, sizeof target - 1);
    if (length > 0) {
        const std::string_view path(target, std::size_t(length));
        const auto at = path.rfind("zoneinfo/");
        if (at != std::string_view::npos) return std::string(path.substr(at + 9));
    }
    std::string name = read_small_file("/etc/timezone");
    return name.substr(0, name.find('\n'));
}

}  // namespace

// The local zone as glibc, and so os.date, has it, with the name it goes by.
std::pair<std::shared_ptr<const time_zone::changes>, std::string> time_zone::local() {
    const auto utc = [] {
        return std::pair{std::make_shared<const changes>(), std::string("UTC")};
    };
    const char* value = std::getenv("TZ");
    if (value == nullptr) {
        // /etc/localtime itself, which need not be a link; its link or /etc/timezone names it.
        std::string name = name_from_system();
        if (auto data = parse_tzif(read_small_file("/etc/localtime")))
            return {std::move(data), name.empty() ? "/etc/localtime" : name};
        if (auto data = load(name)) return {std::move(data), name};
        return utc();  // no database at all: UTC needs none
    }
    // TZ: empty is UTC; ":" may lead a name or a path; a path under the database is its name.
    std::string_view text = value;
    if (text.starts_with(':')) text.remove_prefix(1);
    if (text.empty()) return utc();
    if (const auto dir = database_dir(); text.starts_with(dir)) text.remove_prefix(dir.size());
    if (text.starts_with('/')) {
        if (auto data = parse_tzif(read_small_file(std::string(text))))
            return {std::move(data), std::string(text)};
    } else if (auto data = load(text)) {
        return {std::move(data), std::string(text)};
    }
    // A POSIX rule ("CET-1CEST,M3.5.0,M10.5.0/3") or a fixed offset ("IST-5:30").
    auto data = std::make_shared<changes>();
    if (auto rule = posix_rule::parse(value)) {
        data->rule = std::move(rule);
    } else if (auto offset = posix_rule::fixed_offset(value)) {
        data->initial = *offset;
    } else {
        return utc();  // glibc's answer to a TZ it cannot read
    }
    return {std::move(data), value};
}

std::string printable(std::string_view text) {
    // A message quotes what it names, not a whole 100 kB list: the start, cut where a UTF-8
    // character begins, and how long the rest is.
    constexpr std::size_t shown = 100;
    std::size_t cut = text.size();
    if (cut > shown) {
        cut = shown;
        while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80)
            --cut;
    }
    std::string out;
    out.reserve(cut + 32);
    for (const char c : text.substr(0, cut)) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x20 && byte != 0x7f) {
            out += c;
        } else if (c == '\0' || c == '\t' || c == '\n' || c == '\r') {
            out += '\\';
            out += c == '\0' ? '0' : c == '\t' ? 't' : c == '\n' ? 'n' : 'r';
        } else {
            constexpr char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[byte >> 4];
            out += hex[byte & 15];
        }
    }
    if (cut < text.size()) out += "... (" + std::to_string(text.size()) + " bytes)";
    return out;
}

time_zone time_zone::locate(std::string_view name) {
    if (!name.empty()) {
        auto data = load(name);
        if (!data) throw cron_error("unknown time zone '" + printable(name) + "'");
        return time_zone(std::move(data), std::string(name));
    }
    auto [data, local_name] = local();
    return time_zone(std::move(data), std::move(local_name));
}

offset_span time_zone::span_at(sys_seconds t) const {
    const auto& c = *data_;
    // RFC 8536: with no change listed, the rule (when there is one) says the time for ever.
    if (c.at.empty() && c.rule) return c.rule->span_at(t);
    const auto next = std::upper_bound(c.at.begin(), c.at.end(), t);
    if (next == c.at.begin()) {
        return {sys_seconds::min(), c.at.empty() ? sys_seconds::max() : c.at.front(), c.initial};
    }
    const auto i = std::size_t(next - c.at.begin()) - 1;
    if (next != c.at.end()) return {c.at[i], *next, c.offset[i]};
    if (c.rule) return c.rule->span_at(t);  // past the last listed change
    return {c.at[i], sys_seconds::max(), c.offset[i]};
}

seconds time_zone::offset_at(sys_seconds t) const {
    return span_at(t).offset;
}

// The spans that can hold `wall` (offsets stay under 26 hours from UTC, so its instants lie
// within that of it): the instants it is in each, or the change that skips it.
wall_time_info time_zone::resolve(local_seconds wall) const {
    const auto w = sys_seconds{wall.time_since_epoch()};
    sys_seconds hits[2];
    int count = 0;
    auto span = span_at(w - max_offset);
    while (true) {
        const auto instant = w - span.offset;
        if (instant >= span.begin && instant < span.end && count < 2) hits[count++] = instant;
        if (span.end > w + max_offset) break;
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

local_seconds time_zone::second_pass_start(sys_seconds t) const {
    constexpr auto none = local_seconds::max();
    const auto now = span_at(t);
    if (now.end == sys_seconds::max()) return none;
    const auto next = span_at(now.end);
    if (next.offset >= now.offset) return none;  // the next change goes forward, or is no change
    // The clocks go back at now.end: wall times from now.end + next.offset to now.end +
    // now.offset occur twice, the first time before now.end.
    const auto fold_start = local_seconds{now.end.time_since_epoch() + next.offset};
    const auto wall = local_seconds{t.time_since_epoch() + now.offset};
    return wall >= fold_start ? fold_start : none;
}

}  // namespace mockit::detail
