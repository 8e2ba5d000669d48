// SPDX-License-Identifier: MIT
#include "next_runs.hpp"

#include <cstdio>
#include <optional>

#include "mockit/cron.hpp"
#include "options.hpp"

namespace mockit::app {

int print_next_runs(const next_runs_request& request) {
    std::optional<cron_schedule> schedule;
    try {
        schedule.emplace(request.expr, request.zone);
    } catch (const cron_error& error) {
        std::fprintf(stderr, "mockit-run: --next: %s\n%s\n", error.what(), usage_line);
        return static_cast<int>(exit_status::usage);
    }
    auto after = request.from;
    for (int i = 0; i < request.count; ++i) {
        const auto run = schedule->next_after(after);
        if (!run) {
            std::fprintf(stderr, "mockit-run: --next: no %s in the 400 years after %s\n",
                         i == 0 ? "run" : "further run",
                         schedule->format(std::chrono::floor<std::chrono::seconds>(after)).c_str());
            break;
        }
        std::printf("%s\n", schedule->format(*run).c_str());
        after = *run;
    }
    return std::fflush(stdout) == 0 ? 0 : static_cast<int>(exit_status::failure);
}

}  // namespace mockit::app
