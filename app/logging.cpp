// SPDX-License-Identifier: MIT
#include "logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

namespace mockit::app {
namespace {

// The syslog priority the journal reads from the start of a line (sd-daemon.h's SD_ERR...).
std::string_view priority_of(spdlog::level::level_enum level) {
    static constexpr const char* priority[] = {"<7>", "<7>", "<6>", "<4>", "<3>", "<2>", ""};
    return priority[static_cast<int>(level)];
}

// "%J" in the pattern: the message as the journal wants it. The journal takes each line of
// stderr as an entry, so every line of a multi-line message (a traceback) gets the priority.
class journal_message final : public spdlog::custom_flag_formatter {
  public:
    void format(const spdlog::details::log_msg& msg, const std::tm&,
                spdlog::memory_buf_t& dest) override {
        std::string_view prefix = priority_of(msg.level);
        dest.append(prefix.data(), prefix.data() + prefix.size());
        for (char c : std::string_view{msg.payload.data(), msg.payload.size()}) {
            dest.push_back(c);
            if (c == '\n') dest.append(prefix.data(), prefix.data() + prefix.size());
        }
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<journal_message>();
    }
};

const clock_source* stamp_clock = nullptr;  // the system's, as spdlog stamps the message

// "%W" in the pattern: the time as "%Y-%m-%d %H:%M:%S.%e" would give it (local time), from the
// clock stamp_logs_with() chose.
class wall_stamp final : public spdlog::custom_flag_formatter {
  public:
    void format(const spdlog::details::log_msg& msg, const std::tm&,
                spdlog::memory_buf_t& dest) override {
        using namespace std::chrono;
        wall_time_point t = stamp_clock != nullptr ? stamp_clock->wall_now() : msg.time;
        std::time_t secs = system_clock::to_time_t(time_point_cast<seconds>(t));
        std::tm local{};
        localtime_r(&secs, &local);
        char text[40];
        std::size_t length = std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &local);
        auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count() % 1000;
        length += static_cast<std::size_t>(
            std::snprintf(text + length, sizeof text - length, ".%03d", static_cast<int>(ms)));
        dest.append(text, text + length);
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<wall_stamp>();
    }
};

// spdlog's level for each of the binding's, indexed by lua::log_level.
spdlog::level::level_enum to_spdlog(lua::log_level level) {
    static constexpr spdlog::level::level_enum levels[] = {
        spdlog::level::trace, spdlog::level::debug, spdlog::level::info,
        spdlog::level::warn,  spdlog::level::err,   spdlog::level::off};
    return levels[static_cast<int>(level)];
}

}  // namespace

bool stderr_is_journal() {
    const char* stream = std::getenv("JOURNAL_STREAM");
    unsigned long long device = 0, inode = 0;
    if (stream == nullptr || std::sscanf(stream, "%llu:%llu", &device, &inode) != 2) return false;
    struct stat st {};
    return fstat(2, &st) == 0 && st.st_dev == device && st.st_ino == inode;
}

bool setup_logging(log_format format, const std::string& level) {
    std::string name = level;
    if (const char* env = std::getenv("MOCKIT_LOG_LEVEL"); name.empty() && env != nullptr) {
        name = env;  // an empty variable counts as unset
    }
    if (name.empty()) name = "info";
    std::optional<lua::log_level> parsed = lua::parse_log_level(name);
    if (!parsed) return false;

    auto logger = std::make_shared<spdlog::logger>(
        "mockit-run", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    bool journal =
        format == log_format::journal || (format == log_format::automatic && stderr_is_journal());
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    if (journal) {
        formatter->add_flag<journal_message>('J').set_pattern("%J");
    } else {
        formatter->add_flag<wall_stamp>('W').set_pattern("%W %^%l%$ %v");
    }
    logger->set_formatter(std::move(formatter));
    logger->set_level(to_spdlog(*parsed));
    logger->flush_on(spdlog::level::trace);  // stderr: every line as it happens
    spdlog::set_default_logger(std::move(logger));
    return true;
}

void stamp_logs_with(const clock_source* clock) {
    stamp_clock = clock;
}

lua::log_level binding_level() {
    switch (spdlog::default_logger()->level()) {
        case spdlog::level::trace:
            return lua::log_level::trace;
        case spdlog::level::debug:
            return lua::log_level::debug;
        case spdlog::level::info:
            return lua::log_level::info;
        case spdlog::level::warn:
            return lua::log_level::warn;
        case spdlog::level::err:
        case spdlog::level::critical:
            return lua::log_level::error;
        default:
            return lua::log_level::off;
    }
}

void log_from_script(lua::log_level level, std::string_view line) {
    spdlog::log(to_spdlog(level), "{}", line);
}

}  // namespace mockit::app
