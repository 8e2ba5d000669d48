// SPDX-License-Identifier: MIT
#include "metrics.hpp"

#include <bit>
#include <cinttypes>
#include <cmath>
#include <cstdio>

#include "context.hpp"
#include "lua_util.hpp"

namespace mockit::lua::detail {
namespace {

double seconds(duration d) noexcept {
    return std::chrono::duration<double>(d).count();
}

// OpenMetrics' cumulative buckets: every other power of two, 1 µs to 2^34 µs (4.8 hours).
constexpr int first_edge_power = 0;
constexpr int last_edge_power = 34;
constexpr int edge_power_step = 2;

}  // namespace

namespace {

template <class Stats>
void push_any_stats(lua_State* L, const Stats& stats) {
    lua_createtable(L, 0, 6);
    set_count_field(L, "runs", stats.runs);
    set_count_field(L, "missed", stats.missed);
    set_count_field(L, "late_p50_us", stats.lateness.quantile(0.5));
    set_count_field(L, "late_p99_us", stats.lateness.quantile(0.99));
    set_count_field(L, "late_max_us", stats.lateness.max());
    set_count_field(L, "busy_us", whole_us(stats.busy));
}

}  // namespace

void push_stats(lua_State* L, const timer_stats& stats) {
    push_any_stats(L, stats);
}

void push_stats(lua_State* L, const own_timer_stats& stats) {
    push_any_stats(L, stats);
}

namespace {

duration busy_of(const context& ctx) {
    duration busy = ctx.clock->now() - ctx.loop.since - ctx.loop.idle;
    return busy < duration::zero() ? duration::zero() : busy;
}

void push_loop(lua_State* L, const context& ctx) {
    const lateness_histogram& h = ctx.loop.lateness;
    duration busy = busy_of(ctx);
    duration idle = ctx.loop.idle;
    lua_createtable(L, 0, 9);
    set_count_field(L, "busy_us", whole_us(busy));
    set_count_field(L, "idle_us", whole_us(idle));
    duration total = busy + idle;
    lua_pushnumber(L, total > duration::zero() ? seconds(busy) / seconds(total) : 0.0);
    lua_setfield(L, -2, "utilization");
    set_count_field(L, "callbacks", h.count());
    set_count_field(L, "late_p50_us", h.quantile(0.5));
    set_count_field(L, "late_p99_us", h.quantile(0.99));
    set_count_field(L, "late_max_us", h.max());
    set_count_field(L, "late_sum_us", h.sum());
    lua_createtable(L, (last_edge_power - first_edge_power) / edge_power_step + 1, 0);
    lua_Integer n = 0;
    for (int power = first_edge_power; power <= last_edge_power; power += edge_power_step) {
        std::uint64_t edge = std::uint64_t{1} << power;
        lua_createtable(L, 0, 2);
        set_count_field(L, "below_us", edge);
        set_count_field(L, "count", h.count_below(edge));
        lua_rawseti(L, -2, ++n);
    }
    lua_setfield(L, -2, "histogram");
}

}  // namespace

// mockit.metrics() -> {loop = {...}, timers = {[name] = t:stats() of all timers of that name}}
int mockit_metrics(lua_State* L) {
    const context& ctx = upvalue_context(L);
    lua_createtable(L, 0, 2);
    push_loop(L, ctx);
    lua_setfield(L, -2, "loop");
    lua_createtable(L, 0, static_cast<int>(ctx.loop.named.size()));
    for (const auto& [name, stats] : ctx.loop.named) {
        lua_pushlstring(L, name.data(), name.size());
        push_stats(L, stats);
        lua_rawset(L, -3);
    }
    lua_setfield(L, -2, "timers");
    return 1;
}

namespace {

// Appends printf-style text to `out`.
template <class... Args>
void print(std::string& out, const char* format, Args... args) {
    char line[512];
    int n = std::snprintf(line, sizeof line, format, args...);
    if (n > 0) out.append(line, std::min(static_cast<std::size_t>(n), sizeof line - 1));
}

// A label value, escaped as the exposition formats want (names hold no control characters).
std::string label(const std::string& value) {
    std::string escaped;
    for (char c : value) {
        if (c == '\\' || c == '"') escaped += '\\';
        escaped += c;
    }
    return escaped;
}

void family(std::string& out, const char* name, const char* type, const char* help) {
    print(out, "# TYPE %s %s\n# HELP %s %s\n", name, type, name, help);
}

}  // namespace

// Prometheus' text format, which node_exporter's textfile collector and promtool read: a counter's
// family is named with its "_total" (OpenMetrics names the family without it, and Prometheus'
// parser then finds samples without their HELP and TYPE). The "# EOF" that OpenMetrics ends with
// is a comment to it. Seconds as floating point, as both define them.
std::string openmetrics_text(const context& ctx) {
    std::string out;
    family(out, "mockit_loop_busy_seconds_total", "counter",
           "Time the loop spent outside its wait: callbacks and the script.");
    print(out, "mockit_loop_busy_seconds_total %.9g\n", seconds(busy_of(ctx)));
    family(out, "mockit_loop_idle_seconds_total", "counter",
           "Time the loop spent waiting for the next deadline or a signal.");
    print(out, "mockit_loop_idle_seconds_total %.9g\n", seconds(ctx.loop.idle));
    const lateness_histogram& h = ctx.loop.lateness;
    family(out, "mockit_callback_lateness_seconds", "histogram",
           "How late timer callbacks started, from the start of their loop turn.");
    for (int power = first_edge_power; power <= last_edge_power; power += edge_power_step) {
        std::uint64_t edge = std::uint64_t{1} << power;
        print(out, "mockit_callback_lateness_seconds_bucket{le=\"%.6f\"} %" PRIu64 "\n",
              static_cast<double>(edge) / 1e6, h.count_below(edge));
    }
    print(out, "mockit_callback_lateness_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n", h.count());
    print(out, "mockit_callback_lateness_seconds_sum %.6f\n", static_cast<double>(h.sum()) / 1e6);
    print(out, "mockit_callback_lateness_seconds_count %" PRIu64 "\n", h.count());
    if (!ctx.loop.named.empty()) {
        family(out, "mockit_timer_runs_total", "counter", "Runs of the timers of each name.");
        for (const auto& [name, stats] : ctx.loop.named)
            print(out, "mockit_timer_runs_total{timer=\"%s\"} %" PRIu64 "\n", label(name).c_str(),
                  stats.runs);
        family(out, "mockit_timer_missed_total", "counter",
               "Expiries of the timers of each name folded into a run or skipped.");
        for (const auto& [name, stats] : ctx.loop.named)
            print(out, "mockit_timer_missed_total{timer=\"%s\"} %" PRIu64 "\n", label(name).c_str(),
                  stats.missed);
        family(out, "mockit_timer_busy_seconds_total", "counter",
               "Time the runs of the timers of each name took, until they returned or paused.");
        for (const auto& [name, stats] : ctx.loop.named)
            print(out, "mockit_timer_busy_seconds_total{timer=\"%s\"} %.9g\n", label(name).c_str(),
                  seconds(stats.busy));
        family(out, "mockit_timer_lateness_seconds", "summary",
               "How late the runs of the timers of each name started.");
        for (const auto& [name, stats] : ctx.loop.named) {
            std::string l = label(name);
            for (double q : {0.5, 0.99})
                print(out, "mockit_timer_lateness_seconds{timer=\"%s\",quantile=\"%g\"} %.6f\n",
                      l.c_str(), q, static_cast<double>(stats.lateness.quantile(q)) / 1e6);
            print(out, "mockit_timer_lateness_seconds_sum{timer=\"%s\"} %.6f\n", l.c_str(),
                  static_cast<double>(stats.lateness.sum()) / 1e6);
            print(out, "mockit_timer_lateness_seconds_count{timer=\"%s\"} %" PRIu64 "\n", l.c_str(),
                  stats.lateness.count());
        }
    }
    out += "# EOF\n";
    return out;
}

}  // namespace mockit::lua::detail
