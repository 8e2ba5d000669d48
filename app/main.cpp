// SPDX-License-Identifier: MIT
// mockit-run: parse the command line, set up logging, run the Lua side, exit with its status.
#include <chrono>
#include <csignal>
#include <cstdio>

#include "host_signals.hpp"
#include "logging.hpp"
#include "lua_runtime.hpp"
#include "next_runs.hpp"
#include "options.hpp"

namespace {

// --next's runs count from now, or from the simulated clock's START under --virtual-time.
mockit::app::next_runs_request next_request(const mockit::app::options& opts) {
    using namespace std::chrono;
    const auto from = opts.virtual_start_ms
                          ? sys_time<milliseconds>{milliseconds{*opts.virtual_start_ms}}
                          : time_point_cast<milliseconds>(system_clock::now());
    return {*opts.next_expr, opts.next_zone, opts.next_count, from};
}

}  // namespace

int main(int argc, char** argv) {
    using namespace mockit::app;
    parse_result parsed = parse(argc, argv);
    if (!parsed.opts) return static_cast<int>(parsed.status);
    const options& opts = *parsed.opts;
    if (opts.next_expr) return print_next_runs(next_request(opts));
    if (!setup_logging(opts.format, opts.log_level)) {
        std::fprintf(stderr, "mockit-run: unknown log level in MOCKIT_LOG_LEVEL\n");
        return static_cast<int>(exit_status::usage);
    }
    int status = run_lua(opts, argc, argv);
    // SIGTERM had to interrupt Lua code, or the script failed as it stopped: it ends by SIGTERM
    // itself, as the hard stop ends it (the shell sees 143 either way; systemd a clean stop).
    if (status == static_cast<int>(exit_status::terminated) && stop_signal() == SIGTERM)
        end_by_signal(SIGTERM);
    return status;
}
