// SPDX-License-Identifier: MIT
// The calendar schedules' side of the comparison with croner (compare.cjs): reads cases, one a
// line, "EXPR<TAB>ZONE<TAB>START_MS<TAB>COUNT", and prints for each the COUNT runs after START
// formatted as mockit-run --next prints them, separated by spaces, or "error: MESSAGE". One
// process for the whole sweep: a mockit-run per case would take most of a minute.
#include <chrono>
#include <iostream>
#include <sstream>
#include <string>

#include "mockit/cron.hpp"

namespace {

std::string runs(const std::string& expr, const std::string& zone, long long start_ms, int count) {
    try {
        const mockit::cron_schedule schedule(expr, zone);
        std::string line;
        std::chrono::sys_time<std::chrono::milliseconds> after{std::chrono::milliseconds{start_ms}};
        for (int i = 0; i < count; ++i) {
            const auto run = schedule.next_after(after);
            if (!run) break;
            if (i) line += ' ';
            line += schedule.format(*run);
            after = *run;
        }
        return line;
    } catch (const mockit::cron_error& error) {
        return std::string("error: ") + error.what();
    }
}

}  // namespace

int main() {
    std::string line;
    while (std::getline(std::cin, line)) {
        std::istringstream fields(line);
        std::string expr, zone, start, count;
        std::getline(fields, expr, '\t');
        std::getline(fields, zone, '\t');
        std::getline(fields, start, '\t');
        std::getline(fields, count, '\t');
        std::cout << runs(expr, zone, std::stoll(start), std::stoi(count)) << '\n';
    }
    return std::cout.flush() ? 0 : 1;
}
