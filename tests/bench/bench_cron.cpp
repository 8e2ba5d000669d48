// SPDX-License-Identifier: MIT
// What cron_schedule::next_after costs (issue 19: a median within 1 us for ordinary
// expressions), through the C++ API: for each expression and zone, next_after from start times
// spread over 2026-2035 (fixed-seed PRNG, DST days included by chance), in batches of 1,000
// calls; the figure is the median of the batches' per-call times, with the slowest batch beside
// it. Each result is checked to be after its start and within the expression's period.
//
// Usage: mockit_bench_cron [--quick]   (--quick: 20 batches instead of 200)
// Exit status: 0 when every check held, 1 on FAIL, 2 on a bad command line.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "mockit/cron.hpp"

namespace {

using namespace std::chrono;

constexpr std::uint64_t seed = 0x6d6f636b6974;  // "mockit"
constexpr int batch = 1000;

struct bench_case {
    const char* expr;
    const char* zone;
    hours period;  // no two runs further apart than this
};

constexpr bench_case cases[] = {
    {"*/5 * * * *", "UTC", hours{1}},
    {"*/5 * * * *", "Europe/Berlin", hours{2}},
    {"0 * * * *", "America/New_York", hours{2}},
    {"30 2 * * *", "Europe/Berlin", hours{26}},
    {"0 9 * * MON-FRI", "America/New_York", hours{24 * 4}},
    {"0 0 1 * *", "Australia/Lord_Howe", hours{24 * 32}},
    {"15 10 * * 1", "Asia/Kolkata", hours{24 * 8}},
    {"0 0 13 * FRI", "Pacific/Chatham", hours{24 * 8}},
    {"0 30 8 * * *", "Europe/Berlin", hours{26}},
    {"@daily", "UTC", hours{24}},
};

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    int batches = 200;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--quick") == 0) {
            batches = 20;
        } else {
            std::fprintf(stderr, "usage: mockit_bench_cron [--quick]\n");
            return 2;
        }
    }
    std::mt19937_64 rng{seed};
    const auto from = sys_days{2026y / 1 / 1};
    const auto span = duration_cast<milliseconds>(sys_days{2036y / 1 / 1} - from).count();
    std::vector<sys_time<milliseconds>> starts(batch);
    bool ok = true;
    std::printf("%-20s %-20s %12s %12s\n", "expression", "zone", "median ns", "max ns");
    for (const auto& c : cases) {
        const mockit::cron_schedule schedule(c.expr, c.zone);
        std::vector<double> per_call;
        for (int b = 0; b < batches; ++b) {
            for (auto& s : starts)
                s = from + milliseconds{static_cast<std::int64_t>(rng() % span)};
            std::int64_t sum = 0;  // keeps the calls from being optimised away
            const auto t0 = steady_clock::now();
            for (const auto& s : starts)
                sum += schedule.next_after(s)->time_since_epoch().count();
            const auto t1 = steady_clock::now();
            per_call.push_back(duration<double, std::nano>(t1 - t0).count() / batch);
            for (const auto& s : starts) {
                const auto next = schedule.next_after(s);
                if (!next || *next <= s || *next - s > c.period) {
                    std::printf("FAIL %s %s: no run within %lld h after a start\n", c.expr, c.zone,
                                static_cast<long long>(c.period.count()));
                    ok = false;
                    break;
                }
            }
            if (sum == 42) std::printf(" ");
        }
        std::printf("%-20s %-20s %12.0f %12.0f\n", c.expr, c.zone, median(per_call),
                    *std::max_element(per_call.begin(), per_call.end()));
    }
    return ok ? 0 : 1;
}
