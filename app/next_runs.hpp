// SPDX-License-Identifier: MIT
// mockit-run --next EXPR [--count N] [--tz ZONE]: a calendar schedule's next run times, one a
// line, in ISO 8601 with the offset in force; no script runs.
#pragma once

#include <chrono>
#include <string>

namespace mockit::app {

struct next_runs_request {
    std::string expr;
    std::string zone;  // empty: the local zone
    int count = 5;
    std::chrono::sys_time<std::chrono::milliseconds> from;  // now, or --virtual-time's START
};

// Prints the runs to stdout and returns 0; fewer than asked for when the schedule has no more in
// the next 400 years (a note on stderr says so). A bad expression or zone is a usage error:
// "mockit-run: --next: <what is wrong>" on stderr, and 2.
int print_next_runs(const next_runs_request& request);

}  // namespace mockit::app
