// The engine's cost for N concurrent one-off timers (SPEC section 5: "1,000,000 concurrent
// one-off timers: armed, fired and each callback run exactly once"), through the C++ API.
//
// Two runs, one row each:
// - manual:   the engine on a manual_clock without its thread; time jumps past every deadline
//             and one poll() records all expiries. Pure data-structure cost.
// - threaded: the real engine thread on the system clock; the timers fall due over 2 s and the
//             bench waits on the queue until every expiry has been recorded.
//
// Phases: arm N one-offs with delays spread uniformly over 1..2000 ms (fixed-seed PRNG), fire,
// then drain the queue in batches of 65536 callbacks, checking that every armed timer id came
// out exactly once, and in expiry order. Memory: the RSS growth while arming, per timer, and the
// peak RSS of the run (VmHWM, reset before each run where the kernel allows it).
//
// Usage: mockit_bench_engine [--n N] [--quick]   (N defaults to 1,000,000; --quick is 100,000)
// Exit status: 0 when every check held, 1 on FAIL, 2 on a bad command line.
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "mockit/clock.hpp"
#include "mockit/event.hpp"
#include "mockit/event_queue.hpp"
#include "mockit/timer_engine.hpp"

using namespace std::chrono_literals;

namespace {

constexpr std::size_t default_n = 1'000'000;
constexpr std::size_t quick_n = 100'000;
constexpr std::size_t batch_calls = 65536;
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
    const char* mode;
    std::size_t n;
    double arm_ms;
    double fire_ms;
    double drain_ms;
    double bytes_per_timer;
    long peak_kb;
    bool ok;
};

// The ids handed out by arm_once() and those that came out of the queue, as raw values. Both
// are allocated (and touched) before arming, so they stay out of the RSS growth measured then.
struct id_log {
    explicit id_log(std::size_t n) : armed(n, 0), drained(n, 0) {}
    std::vector<std::uint64_t> armed;
    std::vector<std::uint64_t> drained;
};

// Phase 3, the same for both modes: drains the queue, counting callbacks and checking expiry
// order. Ids are only logged here; whether every timer came out exactly once is checked after
// the clock stops (check_ids), since slots are reused when a one-off fires while others are
// still being armed (threaded mode), so a slot alone does not name a timer.
struct drain_result {
    double ms;
    bool ok;
};

drain_result drain(mockit::event_queue& queue, id_log& ids, std::vector<mockit::event>& batch,
                   const char* mode) {
    std::size_t n = ids.armed.size();
    std::size_t callbacks = 0;
    std::size_t entries = 0;
    std::size_t out_of_order = 0;
    mockit::time_point last_due{};
    auto start = steady::now();
    for (;;) {
        batch.clear();
        if (queue.take(batch, batch_calls) == 0) break;
        for (const mockit::event& e : batch) {
            callbacks += e.count;
            if (entries < n) ids.drained[entries] = e.timer.value();
            ++entries;
            if (e.due < last_due) ++out_of_order;
            last_due = e.due;
        }
    }
    auto end = steady::now();
    bool ok = callbacks == n && entries == n && out_of_order == 0;
    if (!ok) {
        std::printf(
            "FAIL %s: %zu callbacks in %zu events for %zu timers, %zu out of expiry order\n", mode,
            callbacks, entries, n, out_of_order);
    }
    return {ms_between(start, end), ok};
}

// Every armed id came out of the queue exactly once: the two lists are equal as multisets,
// and the armed ids are distinct.
bool check_ids(id_log& ids, const char* mode) {
    std::sort(ids.armed.begin(), ids.armed.end());
    std::sort(ids.drained.begin(), ids.drained.end());
    bool distinct = std::adjacent_find(ids.armed.begin(), ids.armed.end()) == ids.armed.end();
    bool valid = ids.armed.empty() || ids.armed.front() != 0;  // zero is never a valid id
    std::size_t mismatched = 0;
    for (std::size_t i = 0; i < ids.armed.size(); ++i) {
        mismatched += ids.armed[i] != ids.drained[i] ? 1 : 0;
    }
    bool ok = distinct && valid && mismatched == 0;
    if (!ok) {
        std::printf("FAIL %s: armed ids %s%s; %zu positions differ from the drained ids\n", mode,
                    distinct ? "distinct" : "NOT distinct", valid ? "" : ", one of them empty",
                    mismatched);
    }
    return ok;
}

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

// Phase 1, the same for both modes. Returns the RSS growth in kB, or -1 when unknown.
long arm_all(mockit::timer_engine& engine, const std::vector<mockit::duration>& delays, id_log& ids,
             double& arm_ms) {
    long rss_before = status_kb("VmRSS:");
    auto start = steady::now();
    for (std::size_t i = 0; i < delays.size(); ++i) {
        ids.armed[i] = engine.arm_once(delays[i]).value();
    }
    auto end = steady::now();
    long rss_after = status_kb("VmRSS:");
    arm_ms = ms_between(start, end);
    return rss_before < 0 || rss_after < 0 ? -1 : rss_after - rss_before;
}

double per_timer(long kb, std::size_t n) {
    return kb < 0 ? -1.0 : static_cast<double>(kb) * 1024.0 / static_cast<double>(n);
}

// What both modes do once every expiry is recorded: drain the queue, check the ids, and make
// the row. `recorded_ok` says whether recording went as it should.
row finish_run(const char* mode, mockit::event_queue& queue, id_log& ids,
               std::vector<mockit::event>& batch, double arm_ms, long grown_kb,
               steady::time_point fire_start, steady::time_point fire_end, bool recorded_ok) {
    drain_result drained = drain(queue, ids, batch, mode);
    bool ids_ok = check_ids(ids, mode);
    return {mode,
            ids.armed.size(),
            arm_ms,
            ms_between(fire_start, fire_end),
            drained.ms,
            per_timer(grown_kb, ids.armed.size()),
            status_kb("VmHWM:"),
            recorded_ok && drained.ok && ids_ok};
}

row run_manual(const std::vector<mockit::duration>& delays) {
    std::size_t n = delays.size();
    id_log ids(n);
    std::vector<mockit::event> batch;
    batch.reserve(batch_calls);
    mockit::manual_clock clock;
    mockit::event_queue queue;
    mockit::timer_engine engine{queue, clock, mockit::engine_mode::manual};
    reset_peak_rss();

    double arm_ms = 0;
    long grown_kb = arm_all(engine, delays, ids, arm_ms);

    auto fire_start = steady::now();
    clock.advance(std::chrono::milliseconds{max_delay_ms + 1});
    std::size_t fired = engine.poll();
    auto fire_end = steady::now();
    bool ok = fired == n && engine.size() == 0 && queue.pending() == n;
    if (!ok) {
        std::printf("FAIL manual: poll() recorded %zu of %zu, %zu still armed, %zu pending\n",
                    fired, n, engine.size(), queue.pending());
    }

    return finish_run("manual", queue, ids, batch, arm_ms, grown_kb, fire_start, fire_end, ok);
}

row run_threaded(const std::vector<mockit::duration>& delays) {
    std::size_t n = delays.size();
    id_log ids(n);
    std::vector<mockit::event> batch;
    batch.reserve(batch_calls);
    mockit::event_queue queue;
    mockit::timer_engine engine{queue};
    reset_peak_rss();

    double arm_ms = 0;
    long grown_kb = arm_all(engine, delays, ids, arm_ms);

    // The last deadlines are 2 s after arming began; a generous limit beyond that.
    auto fire_start = steady::now();
    auto give_up = fire_start + 60s;
    std::size_t pending = 0;
    while ((pending = queue.wait(1s)) < n && steady::now() < give_up) {
        // wait() returns at once while anything is pending: nap instead of spinning on the
        // queue's lock, which the engine thread needs to record.
        if (pending > 0) std::this_thread::sleep_for(1ms);
    }
    auto fire_end = steady::now();
    bool ok = pending == n && engine.size() == 0;
    if (!ok) {
        std::printf("FAIL threaded: %zu of %zu expiries recorded after 60 s, %zu still armed\n",
                    pending, n, engine.size());
    }

    return finish_run("threaded", queue, ids, batch, arm_ms, grown_kb, fire_start, fire_end, ok);
}

void print_row(const row& r) {
    double total = r.arm_ms + r.fire_ms + r.drain_ms;
    std::printf("%-9s %9zu %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f %10.1f  %s\n", r.mode, r.n, r.arm_ms,
                r.fire_ms, r.drain_ms, total, r.arm_ms * 1e6 / static_cast<double>(r.n),
                r.bytes_per_timer, static_cast<double>(r.peak_kb) / 1024.0, r.ok ? "ok" : "FAIL");
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

    std::printf(
        "engine: %zu one-off timers, delays uniform over 1..%d ms, drained %zu calls "
        "at a time\n",
        n, max_delay_ms, batch_calls);
    std::printf("%-9s %9s %9s %9s %9s %9s %9s %9s %10s  %s\n", "mode", "timers", "arm ms",
                "fire ms", "drain ms", "total ms", "arm ns/t", "B/timer", "peak MiB", "check");

    row manual = run_manual(delays);
    print_row(manual);
    malloc_trim(0);  // give the first run's memory back, so the second's RSS growth is its own
    row threaded = run_threaded(delays);
    print_row(threaded);

    std::printf(
        "B/timer: RSS growth while arming / timers; threaded also holds the expiries "
        "recorded meanwhile.\n");
    std::printf(
        "peak MiB: VmHWM of the run%s; fire ms (threaded) is bounded below by the "
        "2000 ms deadlines.\n",
        peak_resettable ? "" : " (not resettable here: the process's peak so far)");
    return manual.ok && threaded.ok ? 0 : 1;
}
