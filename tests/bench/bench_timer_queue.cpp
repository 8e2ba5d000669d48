// SPDX-License-Identifier: MIT
// The timer queue's cost for N concurrent one-off timers (SPEC section 5: "1,000,000 concurrent
// one-off timers: armed, fired and each callback run exactly once"), through the C++ API, with
// no Lua and no clock: the data structure alone.
//
// Arms N one-offs with delays spread uniformly over 1..2000 ms (fixed-seed PRNG), then takes
// every expiry at a time past the last deadline, one at a time as the loops do, checking that
// every armed timer came out exactly once, and in deadline order. Memory: the RSS growth while
// arming, per timer, and the peak RSS of the run (VmHWM, reset first where the kernel allows it).
//
// Usage: mockit_bench_timer_queue [--n N] [--quick]   (N defaults to 1,000,000; --quick: 100,000)
// Exit status: 0 when every check held, 1 on FAIL, 2 on a bad command line.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "mockit/timer_queue.hpp"

using namespace std::chrono_literals;

namespace {

constexpr std::size_t default_n = 1'000'000;
constexpr std::size_t quick_n = 100'000;
constexpr std::uint64_t seed = 0x6d6f636b6974;  // "mockit"
constexpr int max_delay_ms = 2000;

using steady = std::chrono::steady_clock;

double ms_between(steady::time_point from, steady::time_point to) {
    return std::chrono::duration<double, std::milli>(to - from).count();
}

// A "VmRSS:"-style line of /proc/self/status, in kB; -1 when it cannot be read.
long status_kb(const char* field) {
    std::ifstream status("/proc/self/status");
    std::string line;
    std::size_t length = std::strlen(field);
    while (std::getline(status, line)) {
        if (line.compare(0, length, field) == 0)
            return std::strtol(line.c_str() + length, nullptr, 10);
    }
    return -1;
}

// Resets VmHWM to the current RSS (Linux 4.0+), so each run reports its own peak.
bool reset_peak_rss() {
    std::ofstream clear_refs("/proc/self/clear_refs");
    clear_refs << "5";
    clear_refs.flush();
    return static_cast<bool>(clear_refs);
}

struct row {
    std::size_t n;
    double arm_ms;
    double take_ms;
    double bytes_per_timer;
    long peak_kb;
    bool ok;
};

std::vector<mockit::duration> make_delays(std::size_t n) {
    std::mt19937_64 rng{seed};
    std::vector<mockit::duration> delays;
    delays.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        delays.push_back(
            std::chrono::milliseconds{1 + static_cast<std::int64_t>(rng() % max_delay_ms)});
    }
    return delays;
}

row run(const std::vector<mockit::duration>& delays) {
    std::size_t n = delays.size();
    // Allocated and touched before arming, so they stay out of the RSS growth measured then.
    std::vector<std::uint32_t> seen(n, 0);
    mockit::timer_queue queue;
    reset_peak_rss();

    long rss_before = status_kb("VmRSS:");
    auto start = steady::now();
    for (std::size_t i = 0; i < n; ++i)
        queue.arm_once(mockit::time_point{}, delays[i]);
    auto armed = steady::now();
    long rss_after = status_kb("VmRSS:");

    std::size_t taken = 0;
    std::size_t out_of_order = 0;
    mockit::time_point last_due{};
    const mockit::time_point end_of_run{std::chrono::milliseconds{max_delay_ms + 1}};
    while (std::optional<mockit::expiry> e = queue.take_due(end_of_run)) {
        ++taken;
        // Every timer is armed before any is taken, so slots are not reused: one per timer.
        if (e->timer.slot() < n) ++seen[e->timer.slot()];
        if (e->due < last_due) ++out_of_order;
        last_due = e->due;
    }
    auto done = steady::now();

    std::size_t not_once = static_cast<std::size_t>(
        std::count_if(seen.begin(), seen.end(), [](std::uint32_t k) { return k != 1; }));
    bool ok = taken == n && out_of_order == 0 && not_once == 0 && queue.size() == 0;
    if (!ok) {
        std::printf("FAIL: %zu of %zu taken, %zu out of deadline order, %zu timers not once\n",
                    taken, n, out_of_order, not_once);
    }
    long grown_kb = rss_before < 0 || rss_after < 0 ? -1 : rss_after - rss_before;
    return {n,
            ms_between(start, armed),
            ms_between(armed, done),
            grown_kb < 0 ? -1.0 : static_cast<double>(grown_kb) * 1024.0 / static_cast<double>(n),
            status_kb("VmHWM:"),
            ok};
}

void print_row(const row& r) {
    std::printf("%9zu %9.1f %9.1f %9.1f %9.1f %9.1f %10.1f  %s\n", r.n, r.arm_ms, r.take_ms,
                r.arm_ms * 1e6 / static_cast<double>(r.n),
                r.take_ms * 1e6 / static_cast<double>(r.n), r.bytes_per_timer,
                static_cast<double>(r.peak_kb) / 1024.0, r.ok ? "ok" : "FAIL");
}

int usage(const char* argv0, int status) {
    std::fprintf(status == 0 ? stdout : stderr, "usage: %s [--n N] [--quick]\n", argv0);
    return status;
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t n = default_n;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--quick") == 0) {
            n = quick_n;
        } else if (std::strcmp(argv[i], "--n") == 0 && i + 1 < argc) {
            char* end = nullptr;
            unsigned long long value = std::strtoull(argv[++i], &end, 10);
            if (end == argv[i] || *end != '\0' || value == 0 || value > UINT32_MAX ||
                argv[i][0] == '-') {
                std::fprintf(stderr, "%s: --n wants a positive count, got '%s'\n", argv[0],
                             argv[i]);
                return 2;
            }
            n = static_cast<std::size_t>(value);
        } else if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
            return usage(argv[0], 0);
        } else {
            std::fprintf(stderr, "%s: unknown argument '%s'\n", argv[0], argv[i]);
            return usage(argv[0], 2);
        }
    }

    std::vector<mockit::duration> delays = make_delays(n);
    bool peak_resettable = reset_peak_rss();

    std::printf("timer_queue: %zu one-off timers, delays uniform over 1..%d ms\n", n, max_delay_ms);
    std::printf("%9s %9s %9s %9s %9s %9s %10s  %s\n", "timers", "arm ms", "take ms", "arm ns/t",
                "take ns/t", "B/timer", "peak MiB", "check");
    row r = run(delays);
    print_row(r);
    std::printf("B/timer: RSS growth while arming / timers; peak MiB: VmHWM of the run%s.\n",
                peak_resettable ? "" : " (not resettable here: the process's peak so far)");
    return r.ok ? 0 : 1;
}
