// SPDX-License-Identifier: MIT
// mockit-run: parse the command line, set up logging, run the Lua side, exit with its status.
#include <csignal>
#include <cstdio>

#include "host_signals.hpp"
#include "logging.hpp"
#include "lua_runtime.hpp"
#include "options.hpp"

int main(int argc, char** argv) {
    using namespace mockit::app;
    parse_result parsed = parse(argc, argv);
    if (!parsed.opts) return static_cast<int>(parsed.status);
    const options& opts = *parsed.opts;
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
