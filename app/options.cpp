#include "options.hpp"

#include <spdlog/version.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <lua.hpp>
#include <string>
#include <vector>

#include "mockit/lua_module.hpp"
#include "mockit/version.hpp"

namespace mockit::app {
namespace {

constexpr const char* usage_line =
    "usage: mockit-run [options] [script [args...]] (--help for more)";

constexpr const char* footer = R"(Usage: mockit-run [options] [script [args...]]
  script may be "-" for standard input; "--" ends the options. Everything after the
  script belongs to the script.

Exit status:
  0    success (or the code given to mockit.stop)
  1    an error in the script or in a callback
  2    usage error: unknown option, missing or unreadable script
  130  stopped by SIGINT
  143  SIGTERM interrupted Lua code still running a second after it

Environment: MOCKIT_LOG_LEVEL, LUA_INIT(_5_4), LUA_PATH(_5_4), LUA_CPATH(_5_4),
NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID, JOURNAL_STREAM.)";

void print_versions() {
    std::printf("mockit-run %s\n%s\nspdlog %d.%d.%d\nCLI11 %s\n", version_string, LUA_COPYRIGHT,
                SPDLOG_VER_MAJOR, SPDLOG_VER_MINOR, SPDLOG_VER_PATCH, CLI11_VERSION);
}

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

}  // namespace

parse_result parse(int argc, char** argv) {
    CLI::App cli{
        "Run a timer-driven Lua script: Lua 5.4 with the mockit module preloaded, and "
        "its event loop run after the script's main chunk.",
        "mockit-run"};
    cli.footer(footer);
    cli.prefix_command();  // the first positional is the script; the rest is its own
    options opts;
    std::vector<std::string> chunks, modules;
    bool show_version = false;
    cli.add_option("-e", chunks, "Run CHUNK (repeatable, in order, before the script)")
        ->type_name("CHUNK")
        ->allow_extra_args(false);
    cli.add_option("-l", modules, "require NAME into global NAME (NAME=mod also accepted)")
        ->type_name("NAME")
        ->allow_extra_args(false);
    cli.add_flag("-v,--version", show_version,
                 "Print the versions of mockit-run, Lua, spdlog, CLI11");
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
    if (show_version) {
        print_versions();
        return {std::nullopt, exit_status::success};
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
    opts.steps = interleave(argv, opts.script_index, chunks, modules);
    opts.format = format == "text"      ? log_format::text
                  : format == "journal" ? log_format::journal
                                        : log_format::automatic;
    return {std::move(opts), exit_status::success};
}

}  // namespace mockit::app
