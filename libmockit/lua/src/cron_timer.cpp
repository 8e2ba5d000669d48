// SPDX-License-Identifier: MIT
#include "cron_timer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include "lua_util.hpp"
#include "mockit/cron.hpp"
#include "timer_options.hpp"

namespace mockit::lua::detail {
namespace {

using std::chrono::milliseconds;
using wall_ms = std::chrono::sys_time<milliseconds>;

constexpr const char* plan_type = "mockit.cron_plan";

int plan_gc(lua_State* L) {
    static_cast<cron_plan*>(lua_touserdata(L, 1))->~cron_plan();
    return 0;
}

// Logs a problem with a state file: persist goes on without it.
void log_problem(context& ctx, const std::string& what) {
    if (ctx.log) ctx.log(log_level::error, "persist: " + what);
}

wall_ms wall_now(const context& ctx) {
    return std::chrono::floor<milliseconds>(ctx.clock->wall_now());
}

// The monotonic deadline of a run at wall time `at`, seen `now`: at once if it has passed.
time_point deadline_of(const context& ctx, wall_ms at, time_point now) {
    duration until = at - ctx.clock->wall_now();
    return until > duration::zero() ? now + until : now;
}

wall_ms next_ms(const timer_options& o) {
    return wall_ms{milliseconds{o.cron_next_ms}};
}

// The latest run at or before `wall`, knowing a run after `known` is at or before it: bisection
// over the seconds between, a schedule step each.
wall_ms latest_run(const cron_schedule& s, wall_ms known, wall_ms wall) {
    using std::chrono::seconds;
    auto fits = [&](wall_ms t) {
        std::optional<std::chrono::sys_seconds> next = s.next_after(t);
        return next && *next <= wall;
    };
    wall_ms low = known, high = wall;  // fits(low), !fits(high)
    while (high - low > seconds{1}) {
        wall_ms middle = low + (high - low) / 2;
        (fits(middle) ? low : high) = middle;
    }
    return *s.next_after(low);
}

// The runs due by `wall` from the planned one on: how many (at most max_counted_runs, and then
// `counted_all` is false) and the latest.
struct due_runs {
    std::uint64_t count;
    bool counted_all;
    wall_ms latest;
};

due_runs runs_due_by(const timer_options& o, wall_ms wall) {
    due_runs d{1, true, next_ms(o)};
    for (;;) {
        std::optional<std::chrono::sys_seconds> next = o.cron->schedule.next_after(d.latest);
        if (!next || *next > wall) return d;
        if (d.count == max_counted_runs) {
            d.counted_all = false;
            d.latest = latest_run(o.cron->schedule, d.latest, wall);
            return d;
        }
        d.latest = *next;
        ++d.count;
    }
}

// Moves `t` to its run at `at` (with a new jitter), or disarms it when the schedule has none.
void plan_run(lua_State* L, context& ctx, timer_handle& t, std::optional<wall_ms> at,
              time_point now) {
    timer_options& o = options_of(t);
    if (!at) {
        disarm(L, ctx, t);
        return;
    }
    o.cron_next_ms = at->time_since_epoch().count();
    o.jitter_now = draw_jitter(ctx, o.jitter_ms);
    time_point deadline = deadline_of(ctx, *at, now) + o.jitter_now;
    protect(L, [&] { ctx.timers.move_to(t.id, deadline); });
}

std::optional<wall_ms> run_after(const timer_options& o, wall_ms t) {
    std::optional<std::chrono::sys_seconds> next = o.cron->schedule.next_after(t);
    if (!next) return std::nullopt;
    return wall_ms{*next};
}

void replan(lua_State* L, context& ctx, timer_handle& t, time_point now) {
    timer_options& o = options_of(t);
    wall_ms wall = wall_now(ctx);
    if (next_ms(o) > wall) {  // still ahead: only its distance changed
        protect(
            L, [&] { ctx.timers.move_to(t.id, deadline_of(ctx, next_ms(o), now) + o.jitter_now); });
        return;
    }
    if (o.missed != missed_policy::skip) {  // the run folds them, or runs each, at once
        protect(L, [&] { ctx.timers.move_to(t.id, now); });
        return;
    }
    due_runs d = runs_due_by(o, wall);
    count_unrun(o, d.count);
    plan_run(L, ctx, t, run_after(o, d.latest), now);
}

// Where persist=`name` keeps its last run: $STATE_DIRECTORY/name (the first directory when systemd
// lists several), which must be a directory this process can write. False, with the reason in
// `message`, otherwise.
bool find_state_file(std::string& file, const char* name, char* message, std::size_t size) {
    const char* dirs = std::getenv("STATE_DIRECTORY");
    if (dirs == nullptr || *dirs == '\0') {
        std::snprintf(message, size,
                      "'persist' needs a state directory: $STATE_DIRECTORY (systemd's "
                      "StateDirectory=) or mockit-run --state-dir");
        return false;
    }
    std::string dir{dirs, std::strcspn(dirs, ":")};
    struct stat st {};
    int error = 0;
    if (::stat(dir.c_str(), &st) != 0) {
        error = errno;
    } else if (!S_ISDIR(st.st_mode)) {
        error = ENOTDIR;
    } else if (::access(dir.c_str(), W_OK | X_OK) != 0) {
        error = errno;
    }
    if (error != 0) {
        std::snprintf(message, size, "'persist': cannot write the state directory '%s': %s",
                      dir.c_str(), std::strerror(error));
        return false;
    }
    file = dir + "/" + name;
    return true;
}

// The due time of the last run started, from the state file: nullopt when there is none (a first
// start), or when it cannot be read or holds anything but one whole number of ms (logged).
std::optional<wall_ms> read_last_run(context& ctx, const std::string& file) {
    // Opened without blocking: a FIFO in its place would wait for a writer at every start.
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno != ENOENT)
            log_problem(ctx, "cannot read " + file + ": " + std::strerror(errno) +
                                 " (treated as never ran)");
        return std::nullopt;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        log_problem(ctx, "cannot read " + file + ": not a regular file (treated as never ran)");
        return std::nullopt;
    }
    char text[32] = {};
    ssize_t got = 0;
    do {
        got = ::read(fd, text, sizeof text - 1);
    } while (got < 0 && errno == EINTR);
    ::close(fd);
    std::size_t n = got > 0 ? std::size_t(got) : 0;
    long long ms = 0;
    auto [end, error] = std::from_chars(text, text + n, ms);
    bool whole = error == std::errc{} && end != text &&
                 (end == text + n || (*end == '\n' && end + 1 == text + n));
    if (!whole || ms < 0) {
        log_problem(ctx, file +
                             " holds no time (a whole number of ms since the epoch); treated as "
                             "never ran");
        return std::nullopt;
    }
    return wall_ms{milliseconds{ms}};
}

// Keeps `due` as the last run in the plan's state file: written beside it, then renamed over it,
// so a crash leaves the old time or the new one. A failure is logged once until a write succeeds.
void write_last_run(context& ctx, cron_plan& plan, wall_ms due) {
    std::string temporary = plan.state_file + ".tmp";
    // A new file each time (O_EXCL): whatever was left at the temporary's name, a symbolic link
    // above all, is removed, never written through.
    ::unlink(temporary.c_str());
    int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    bool written = fd >= 0;
    int error = errno;
    if (written) {
        char text[32];
        int length = std::snprintf(text, sizeof text, "%lld\n",
                                   static_cast<long long>(due.time_since_epoch().count()));
        written = ::write(fd, text, std::size_t(length)) == length;
        error = written ? 0 : errno;
        if (::close(fd) != 0 && written) written = false, error = errno;
        if (!written) ::unlink(temporary.c_str());
    }
    if (written && std::rename(temporary.c_str(), plan.state_file.c_str()) != 0) {
        written = false;
        error = errno;
        ::unlink(temporary.c_str());
    }
    if (!written && !plan.write_failed)
        log_problem(ctx, "cannot write " + plan.state_file + ": " + std::strerror(error) +
                             " (a run missed while down will not be caught up)");
    plan.write_failed = !written;
}

}  // namespace

cron_plan* push_cron_plan(lua_State* L, context& ctx, int expr, int zone, int persist) {
    std::size_t expr_length = 0, zone_length = 0;
    const char* expr_text = lua_tolstring(L, expr, &expr_length);
    const char* zone_text = zone != 0 ? lua_tolstring(L, zone, &zone_length) : "";
    void* memory = lua_newuserdatauv(L, sizeof(cron_plan), 0);
    char message[320];
    try {
        auto* plan = new (memory)
            cron_plan{cron_schedule({expr_text, expr_length}, {zone_text, zone_length}), {}};
        if (luaL_newmetatable(L, plan_type)) {
            lua_pushcfunction(L, plan_gc);
            lua_setfield(L, -2, "__gc");
        }
        lua_setmetatable(L, -2);
        // A schedule that never runs is a mistake in it ("0 0 30 2 *"), not a timer to keep.
        if (zone != 0 && zone_length == 0) {  // cron_schedule took it for the local zone
            std::snprintf(message, sizeof message, "unknown time zone ''");
        } else if (!plan->schedule.next_after(wall_now(ctx))) {
            std::snprintf(message, sizeof message, "the schedule has no run after now");
        } else if (persist != 0 && !find_state_file(plan->state_file, lua_tostring(L, persist),
                                                    message, sizeof message)) {
            // message says why
        } else if (ctx.state_files.contains(plan->state_file)) {
            std::snprintf(message, sizeof message,
                          "'persist': '%s' is the state file of another live timer (one each)",
                          plan->state_file.c_str());
        } else {
            return plan;
        }
    } catch (const std::bad_alloc&) {
        std::snprintf(message, sizeof message, "not enough memory");
    } catch (const std::exception& e) {
        std::snprintf(message, sizeof message, "%s", e.what());
    }
    luaL_argerror(L, 1, message);
    __builtin_unreachable();
}

void claim_state_file(lua_State* L, context& ctx, const cron_plan& plan) {
    if (!plan.state_file.empty()) protect(L, [&] { ctx.state_files.insert(plan.state_file); });
}

void release_state_file(context& ctx, const cron_plan& plan) {
    if (!plan.state_file.empty()) ctx.state_files.erase(plan.state_file);
}

time_point plan_first_cron_run(lua_State* L, context& ctx, timer_handle& t, time_point now) {
    timer_options& o = options_of(t);
    wall_ms wall = wall_now(ctx);
    std::optional<wall_ms> first = run_after(o, wall);
    if (!first) luaL_error(L, "the schedule has no run after now");
    o.cron_next_ms = first->time_since_epoch().count();
    o.jitter_now = draw_jitter(ctx, o.jitter_ms);
    if (!ctx.simulated) protect(L, [&] { ctx.wakeups.watch_wall_clock(); });
    ctx.cron_timers = true;
    time_point deadline = deadline_of(ctx, *first, now) + o.jitter_now;
    if (o.cron->state_file.empty()) return deadline;
    // A run that fell due while nothing ran the timer (persist) is passed over, as in a step.
    std::optional<wall_ms> last =
        protect(L, [&] { return read_last_run(ctx, o.cron->state_file); });
    std::optional<wall_ms> passed = last ? run_after(o, *last) : std::nullopt;
    if (!passed || *passed > wall) return deadline;
    o.cron_next_ms = passed->time_since_epoch().count();
    if (o.missed != missed_policy::skip) return now;  // the run folds them, or runs each
    count_unrun(o, runs_due_by(o, wall).count);
    o.cron_next_ms = first->time_since_epoch().count();
    return deadline;
}

std::optional<cron_run> begin_cron_run(lua_State* L, context& ctx, timer_handle& t) {
    timer_options& o = options_of(t);
    time_point now = ctx.clock->now();
    wall_ms wall = wall_now(ctx);
    if (next_ms(o) > wall) {  // the wall clock went back since it was queued
        protect(
            L, [&] { ctx.timers.move_to(t.id, deadline_of(ctx, next_ms(o), now) + o.jitter_now); });
        return std::nullopt;
    }
    due_runs d = runs_due_by(o, wall);
    bool each = o.missed == missed_policy::all && d.counted_all;
    wall_ms due = each ? next_ms(o) : d.latest;
    duration late = ctx.clock->wall_now() - (due + o.jitter_now);
    plan_run(L, ctx, t, run_after(o, due), now);
    std::uint64_t folded = each ? 0 : d.counted_all ? d.count - 1 : max_counted_runs;
    return cron_run{folded, std::max(late, duration::zero()), due.time_since_epoch()};
}

void keep_cron_run(lua_State* L, context& ctx, timer_options& o) {
    if (o.cron->state_file.empty()) return;
    wall_ms due{std::chrono::floor<milliseconds>(o.due)};
    protect(L, [&] { write_last_run(ctx, *o.cron, due); });
}

void replan_cron_timers(lua_State* L, context& ctx) {
    if (!ctx.cron_timers) return;
    time_point now = ctx.clock->now();
    push_context_value(L, pins_uv);
    int pins = lua_gettop(L);
    for (lua_Integer i = 1; i <= ctx.pins_made; ++i) {
        if (lua_rawgeti(L, pins, i) == LUA_TUSERDATA) {
            auto& t = *static_cast<timer_handle*>(lua_touserdata(L, -1));
            if (t.has_options && t.id && options_of(t).cron != nullptr) replan(L, ctx, t, now);
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

int mockit_cron(lua_State* L) {
    luaL_checkstring(L, 1);
    check_callable(L, 2);
    int nargs = lua_gettop(L) - 2;
    lua_createtable(L, 0, 3);
    lua_pushvalue(L, 1);
    lua_setfield(L, -2, "cron");
    lua_pushvalue(L, 2);
    lua_setfield(L, -2, "fn");
    lua_createtable(L, nargs, 1);
    for (int i = 1; i <= nargs; ++i) {
        lua_pushvalue(L, 2 + i);
        lua_rawseti(L, -2, i);
    }
    lua_pushinteger(L, nargs);
    lua_setfield(L, -2, "n");
    lua_setfield(L, -2, "args");
    lua_replace(L, 1);
    lua_settop(L, 1);
    return mockit_timer(L);  // in this call: an error names 'cron'
}

}  // namespace mockit::lua::detail
