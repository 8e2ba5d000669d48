// SPDX-License-Identifier: MIT
// The mockit-run command line (CLI11), laid out like lua5.4's:
//   mockit-run [options] [script [args...]]
// Everything after the script name belongs to the script, options included.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mockit::app {

enum class exit_status : int {
    success = 0,
    failure = 1,        // a script or callback error
    usage = 2,          // unknown option, missing or unreadable script
    stuck = 3,          // simulated time cannot move: the loop waits for nothing that can come
    interrupted = 130,  // 128 + SIGINT
    terminated = 143,   // 128 + SIGTERM: Lua code had to be interrupted to stop
};

enum class log_format { automatic, text, journal };

// One -e CHUNK or -l NAME, in command-line order.
struct preload_step {
    enum kind { execute, require } what;
    std::string text;
};

struct options {
    std::vector<preload_step> steps;
    std::optional<std::string> script;  // "-" for standard input, unless after "--"
    bool script_after_dashes = false;   // then "-" names a file, as in lua5.4
    std::vector<std::string> script_args;
    int script_index = 0;  // argv index of the script (argc when none)
    bool no_loop = false;
    bool keep_going = false;
    bool check_only = false;
    bool ignore_environment = false;  // -E: no LUA_INIT, LUA_PATH or LUA_CPATH, as lua5.4
    bool warnings = false;            // -W: Lua's warnings on, as lua5.4
    bool show_version = false;        // -v: the versions first, then the rest, as lua5.4
    bool interactive = false;         // -i: the prompt after the script (implies -v)
    std::string log_level;            // empty: $MOCKIT_LOG_LEVEL or "info"
    log_format format = log_format::automatic;
    // --virtual-time[=START]: simulated time from START, in ms since the epoch.
    std::optional<std::int64_t> virtual_start_ms;
    // --seed N, else $MOCKIT_SEED: math.random's seed, so a run's random draws repeat.
    std::optional<std::int64_t> seed;
    // --metrics-file PATH, --metrics-interval S: where and how often to write the metrics.
    std::string metrics_file;
    std::chrono::milliseconds metrics_interval{15000};
    // --state-dir DIR: $STATE_DIRECTORY for the script, where persist= keeps cron timers' runs.
    std::string state_dir;
    // --next EXPR [--count N] [--tz ZONE]: print a calendar schedule's next runs, run nothing.
    std::optional<std::string> next_expr;
    int next_count = 5;
    std::string next_zone;
};

// What mockit-run prints after a usage error's message.
inline constexpr const char* usage_line =
    "usage: mockit-run [options] [script [args...]] (--help for more)";

// Either the options, or the exit status to leave with at once (after --help, --version or a
// usage error, which parse() has already printed).
struct parse_result {
    std::optional<options> opts;
    exit_status status = exit_status::success;
};

parse_result parse(int argc, char** argv);

// -v's lines: mockit-run's version with its libraries', then Lua's (lua.c's print_version).
void print_versions();

}  // namespace mockit::app
