// mockit-run: parse the command line, set up logging, run the Lua side, exit with its status.
#include <cstdio>

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
    return run_lua(opts, argc, argv);
}
