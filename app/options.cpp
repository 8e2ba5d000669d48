// SPDX-License-Identifier: MIT
#include "options.hpp"

#include <spdlog/version.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <lua.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mockit/lua_module.hpp"
#include "mockit/version.hpp"

namespace mockit::app {
namespace {

constexpr const char* footer = R"(Usage: mockit-run [options] [script [args...]]
  script may be "-" for standard input; "--" ends the options. Everything after the
  script belongs to the script.

Exit status:
  0    success (or the code given to mockit.stop)
  1    an error in the script or in a callback
  2    usage error: unknown option, missing or unreadable script, bad --seed or MOCKIT_SEED,
       bad --next expression, --tz zone or --count
  3    stuck in simulated time (--virtual-time): waiting for nothing that can come
  130  stopped by SIGINT
  143  SIGTERM interrupted Lua code still running a second after it

Environment: MOCKIT_LOG_LEVEL, MOCKIT_SEED, LUA_INIT(_5_4), LUA_PATH(_5_4), LUA_CPATH(_5_4),
NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID, JOURNAL_STREAM.)";

// CLI11 keeps the values of -e and of -l each in order, but not how they interleave; the
// option tokens before the script tell that.
std::vector<preload_step> interleave(char** argv, int script_index,
                                     const std::vector<std::string>& chunks,
                                     const std::vector<std::string>& modules) {
    std::vector<preload_step> steps;
    std::size_t next_chunk = 0, next_module = 0;
    for (int i = 1; i < script_index; ++i) {
        if (std::strcmp(argv[i], "--") == 0) break;
        if (std::strncmp(argv[i], "-e", 2) == 0 && next_chunk < chunks.size()) {
            steps.push_back({preload_step::execute, chunks[next_chunk++]});
            if (argv[i][2] == '\0') ++i;  // its value
        } else if (std::strncmp(argv[i], "-l", 2) == 0 && next_module < modules.size()) {
            steps.push_back({preload_step::require, modules[next_module++]});
            if (argv[i][2] == '\0') ++i;
        }
    }
    return steps;
}

constexpr const char* default_virtual_start = "2000-01-01T00:00:00Z";
constexpr std::int64_t max_virtual_start_ms = std::int64_t{1} << 42;  // in 2109

// --virtual-time's START: ms since the epoch, or ISO 8601 with a zone (Z or +HH:MM), seconds
// and a fraction of them optional. nullopt when it is neither, or before 1970 or after 2^42 ms.
std::optional<std::int64_t> parse_start(const std::string& text) {
    using namespace std::chrono;
    std::int64_t ms = 0;
    if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) {
        if (text.size() > 15) return std::nullopt;
        ms = std::stoll(text);
    } else {
        int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, used = 0;
        if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d%n", &y, &mo, &d, &h, &mi, &used) != 5 ||
            used != 16)
            return std::nullopt;
        const char* rest = text.c_str() + used;
        int frac_ms = 0;
        if (*rest == ':') {
            if (std::sscanf(rest, ":%2d%n", &sec, &used) != 1 || used != 3) return std::nullopt;
            rest += used;
            if (*rest == '.') {
                int digits = 0;
                for (++rest; *rest >= '0' && *rest <= '9'; ++rest, ++digits)
                    if (digits < 3) frac_ms = frac_ms * 10 + (*rest - '0');
                if (digits == 0) return std::nullopt;
                for (; digits < 3; ++digits)
                    frac_ms *= 10;
            }
        }
        int offset_min = 0;
        if (*rest == 'Z' && rest[1] == '\0') {
        } else if ((*rest == '+' || *rest == '-') && std::strlen(rest) == 6 && rest[3] == ':') {
            int oh = 0, om = 0;
            if (std::sscanf(rest + 1, "%2d:%2d", &oh, &om) != 2 || oh > 23 || om > 59)
                return std::nullopt;
            offset_min = (*rest == '-' ? -1 : 1) * (oh * 60 + om);
        } else {
            return std::nullopt;
        }
        year_month_day date{year{y}, month{static_cast<unsigned>(mo)},
                            day{static_cast<unsigned>(d)}};
        if (!date.ok() || h > 23 || mi > 59 || sec > 59) return std::nullopt;
        auto local = sys_days{date} + hours{h} + minutes{mi} + seconds{sec};
        ms = duration_cast<milliseconds>((local - minutes{offset_min}).time_since_epoch()).count() +
             frac_ms;
    }
    if (ms < 0 || ms > max_virtual_start_ms) return std::nullopt;
    return ms;
}

// A --seed or MOCKIT_SEED value: a decimal integer that fits in 64 bits, as math.randomseed
// takes it.
std::optional<std::int64_t> parse_seed(const std::string& text) {
    std::int64_t seed = 0;
    const char* end = text.data() + text.size();
    auto [stop, error] = std::from_chars(text.data() + (text.starts_with('+') ? 1 : 0), end, seed);
    if (text.empty() || error != std::errc{} || stop != end) return std::nullopt;
    return seed;
}

// A --metrics-interval value: decimal seconds from 0.001 to 86400, to the millisecond.
std::optional<std::chrono::milliseconds> parse_interval(const std::string& text) {
    double seconds = 0;
    const char* end = text.data() + text.size();
    auto [stop, error] = std::from_chars(text.data(), end, seconds, std::chars_format::fixed);
    if (error != std::errc{} || stop != end || !(seconds >= 0.001 && seconds <= 86400.0))
        return std::nullopt;
    return std::chrono::milliseconds{static_cast<std::int64_t>(seconds * 1000.0 + 0.5)};
}

constexpr int max_next_count = 100000;

// A --count value: a decimal integer from 1 to max_next_count, or 0 when it is not one.
int parse_count(const std::string& text) {
    int count = 0;
    const char* end = text.data() + text.size();
    auto [stop, error] = std::from_chars(text.data(), end, count);
    if (text.empty() || error != std::errc{} || stop != end || count < 1 || count > max_next_count)
        return 0;
    return count;
}

// The long options whose value may come as the next argument (`--seed 7`).
bool takes_next_value(std::string_view option) {
    for (std::string_view name : {"--log-level", "--log-format", "--seed", "--metrics-file",
                                  "--metrics-interval", "--next", "--count", "--tz"})
        if (option == name) return true;
    return false;
}

// lua.c's checks, which CLI11 does not make: -i, -v, -E and -W stand alone ("-iv" is not both,
// "-vv" not -v twice), and -e and -l need a value. The error's text, as lua5.4 words it, or
// nullopt. Looks at the options before the script only: the rest is the script's.
std::optional<std::string> lua_option_error(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg.size() < 2 || arg[0] != '-' || arg == "--") return std::nullopt;  // the script
        if (arg[1] == '-') {
            if (takes_next_value(arg)) ++i;
            continue;
        }
        if (std::string_view("ivEW").find(arg[1]) != std::string_view::npos && arg.size() > 2)
            return "unrecognized option '" + std::string(arg) + "'";
        if ((arg[1] == 'e' || arg[1] == 'l') && arg.size() == 2) {
            if (i + 1 == argc) return "'" + std::string(arg) + "' needs argument";
            ++i;
        }
    }
    return std::nullopt;
}

}  // namespace

// Lua's line last, as lua5.4 prints it alone: what follows (-e's output) comes right after it.
void print_versions() {
    std::printf("mockit-run %s (spdlog %d.%d.%d, CLI11 %s)\n%s\n", version_string, SPDLOG_VER_MAJOR,
                SPDLOG_VER_MINOR, SPDLOG_VER_PATCH, CLI11_VERSION, LUA_COPYRIGHT);
    std::fflush(stdout);
}

parse_result parse(int argc, char** argv) {
    CLI::App cli{
        "Run a timer-driven Lua script: Lua 5.4 with the mockit module preloaded, and "
        "its event loop run after the script's main chunk.",
        "mockit-run"};
    cli.footer(footer);
    cli.prefix_command();  // the first positional is the script; the rest is its own
    options opts;
    std::vector<std::string> chunks, modules;
    cli.add_option("-e", chunks, "Run CHUNK (repeatable, in order, before the script)")
        ->type_name("CHUNK")
        ->allow_extra_args(false);
    cli.add_option("-l", modules, "require NAME into global NAME (NAME=mod also accepted)")
        ->type_name("NAME")
        ->allow_extra_args(false);
    cli.add_flag("-E", opts.ignore_environment,
                 "Ignore the environment variables LUA_INIT, LUA_PATH and LUA_CPATH");
    cli.add_flag("-W", opts.warnings, "Turn Lua's warnings on (warn())");
    cli.add_flag("-i", opts.interactive,
                 "Enter interactive mode after the script (the loop runs while the prompt waits)");
    cli.add_flag("-v,--version", opts.show_version,
                 "Print the versions of mockit-run, Lua, spdlog, CLI11 (then run what is given)");
    cli.add_flag("--no-loop", opts.no_loop, "Do not run the built-in loop after the script");
    cli.add_flag("--keep-going", opts.keep_going,
                 "Log errors raised by callbacks and keep running (default: exit 1)");
    std::vector<std::string> levels(std::begin(lua::log_level_names),
                                    std::end(lua::log_level_names));
    cli.add_option("--log-level", opts.log_level,
                   CLI::detail::join(levels, "|") + " (default info)")
        ->check(CLI::IsMember(levels));
    std::string format = "auto";
    cli.add_option("--log-format", format, "auto|text|journal (auto: journal under systemd)")
        ->check(CLI::IsMember({"auto", "text", "journal"}));
    cli.add_flag("--check", opts.check_only,
                 "Compile the script, report syntax errors, run nothing");
    std::string seed;
    auto* seed_option =
        cli.add_option("--seed", seed,
                       "Seed math.random with N, so that two runs draw the same numbers (default: "
                       "$MOCKIT_SEED, else a random seed)")
            ->type_name("N");
    auto* metrics_file =
        cli.add_option("--metrics-file", opts.metrics_file,
                       "Write mockit.metrics() to PATH as OpenMetrics text, atomically (for "
                       "node_exporter's textfile collector)")
            ->type_name("PATH");
    std::string metrics_seconds;
    auto* metrics_interval =
        cli.add_option("--metrics-interval", metrics_seconds,
                       "Seconds between two writes of the metrics file (default 15)")
            ->type_name("S")
            ->needs(metrics_file);
    cli.add_option("--state-dir", opts.state_dir,
                   "Where cron timers with persist= keep their last runs (default: "
                   "$STATE_DIRECTORY, which systemd's StateDirectory= sets)")
        ->type_name("DIR");
    std::string virtual_start;
    // A flag, so that a value comes only with "=": `--virtual-time script.lua` runs script.lua.
    auto* virtual_time = cli.add_flag(
        "--virtual-time", virtual_start,
        "[=START] Run on a simulated clock from START (ISO 8601 with a zone, or ms since the "
        "epoch; default 2000-01-01T00:00:00Z)");

    std::string next_expr, next_count = "5";
    auto* next_option =
        cli.add_option("--next", next_expr,
                       "Print the next runs of the cron expression EXPR (5 or 6 fields, or "
                       "@daily...), one a line, from now (from START with --virtual-time), and "
                       "exit; run nothing")
            ->type_name("EXPR");
    cli.add_option("--count", next_count, "With --next: how many runs to print (default 5)")
        ->type_name("N")
        ->needs(next_option);
    auto* tz_option =
        cli.add_option("--tz", opts.next_zone,
                       "With --next: the time zone (IANA name; default: the local zone)")
            ->type_name("ZONE")
            ->needs(next_option);

    if (std::optional<std::string> error = lua_option_error(argc, argv)) {
        std::fprintf(stderr, "mockit-run: %s\n%s\n", error->c_str(), usage_line);
        return {std::nullopt, exit_status::usage};
    }
    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        if (error.get_exit_code() == 0) {  // --help: CLI11 prints it
            cli.exit(error);
            return {std::nullopt, exit_status::success};
        }
        // Worded as every other usage error: who speaks, what is wrong, how to use it.
        std::fprintf(stderr, "mockit-run: %s\n%s\n", error.what(), usage_line);
        return {std::nullopt, exit_status::usage};
    }
    if (virtual_time->count() > 0) {
        // Alone, the flag gives CLI11's flag value, "true"; "=" alone gives "".
        if (virtual_start.empty() || virtual_start == "true") virtual_start = default_virtual_start;
        opts.virtual_start_ms = parse_start(virtual_start);
        if (!opts.virtual_start_ms) {
            std::fprintf(
                stderr,
                "mockit-run: --virtual-time: '%s' is not a start time from 1970 to 2109-05-15 "
                "(ISO 8601 with a zone, as 2026-03-29T01:30:00+01:00, or ms since the "
                "epoch)\n%s\n",
                virtual_start.c_str(), usage_line);
            return {std::nullopt, exit_status::usage};
        }
    }
    // --seed wins over MOCKIT_SEED, and an empty variable counts as unset.
    const char* seed_from = seed_option->count() > 0 ? "--seed" : nullptr;
    if (const char* env = std::getenv("MOCKIT_SEED"); !seed_from && env && env[0] != '\0') {
        seed = env;
        seed_from = "MOCKIT_SEED";
    }
    if (seed_from) {
        opts.seed = parse_seed(seed);
        if (!opts.seed) {
            std::fprintf(stderr,
                         "mockit-run: %s: '%s' is not an integer from -2^63 to 2^63-1\n%s\n",
                         seed_from, seed.c_str(), usage_line);
            return {std::nullopt, exit_status::usage};
        }
    }
    if (metrics_file->count() > 0 && opts.metrics_file.empty()) {
        std::fprintf(stderr, "mockit-run: --metrics-file: the path is empty\n%s\n", usage_line);
        return {std::nullopt, exit_status::usage};
    }
    if (metrics_interval->count() > 0) {
        std::optional<std::chrono::milliseconds> interval = parse_interval(metrics_seconds);
        if (!interval) {
            std::fprintf(stderr,
                         "mockit-run: --metrics-interval: '%s' is not a number of seconds from "
                         "0.001 to 86400\n%s\n",
                         metrics_seconds.c_str(), usage_line);
            return {std::nullopt, exit_status::usage};
        }
        opts.metrics_interval = *interval;
    }
    if (next_option->count() > 0) {
        // The runs come from now, or from --virtual-time's START, which is read above.
        opts.next_count = parse_count(next_count);
        if (opts.next_count == 0) {
            std::fprintf(stderr,
                         "mockit-run: --next: --count '%s' is not a whole number from 1 to "
                         "%d\n%s\n",
                         next_count.c_str(), max_next_count, usage_line);
            return {std::nullopt, exit_status::usage};
        }
        // An empty zone would mean the local one to cron_schedule: `--tz "$ZONE"` with ZONE unset
        // is a mistake, not a request for the local zone (which is what leaving --tz out gives).
        if (tz_option->count() > 0 && opts.next_zone.empty()) {
            std::fprintf(stderr, "mockit-run: --next: unknown time zone ''\n%s\n", usage_line);
            return {std::nullopt, exit_status::usage};
        }
    }
    std::vector<std::string> rest = cli.remaining();
    opts.script_index = argc - static_cast<int>(rest.size());
    // prefix_command() also stops at an unknown option; "--" ends the options as in lua5.4.
    if (!rest.empty() && rest.front() == "--") {
        rest.erase(rest.begin());
        ++opts.script_index;
        opts.script_after_dashes = true;
    } else if (!rest.empty() && rest.front().size() > 1 && rest.front()[0] == '-') {
        std::fprintf(stderr, "mockit-run: unrecognized option '%s'\n%s\n", rest.front().c_str(),
                     usage_line);
        return {std::nullopt, exit_status::usage};
    }
    if (!rest.empty()) {
        opts.script = rest.front();
        opts.script_args.assign(rest.begin() + 1, rest.end());
    }
    if (next_option->count() > 0) opts.next_expr = next_expr;
    opts.steps = interleave(argv, opts.script_index, chunks, modules);
    opts.format = format == "text"      ? log_format::text
                  : format == "journal" ? log_format::journal
                                        : log_format::automatic;
    return {std::move(opts), exit_status::success};
}

}  // namespace mockit::app
