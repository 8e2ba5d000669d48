// SPDX-License-Identifier: MIT
#include "timer_options.hpp"

#include <algorithm>
#include <cstring>

#include "cron_timer.hpp"
#include "lua_util.hpp"
#include "task.hpp"

namespace mockit::lua::detail {
namespace {

using std::chrono::milliseconds;

// Metric label values may hold any text; names are kept to what reads well in a log line and
// a dashboard: up to 128 bytes of UTF-8 without control characters.
constexpr std::size_t max_name_bytes = 128;

// A userdata's user values are counted in 16 bits; three go to the callback, name and run.
constexpr lua_Integer max_timer_args = 65000;

struct parsed {
    std::optional<std::int64_t> after_ms;
    std::optional<std::int64_t> every_ms;
    int cron = 0;                         // stack index of the cron expression, or 0
    int tz = 0;                           // stack index of its time zone, or 0
    int persist = 0;                      // stack index of its state file's name, or 0
    int fn = 0;                           // stack index of the callback
    int args = 0;                         // stack index of the arguments' table, or 0
    int name = 0;                         // stack index of the name, or 0
    std::optional<missed_policy> missed;  // any of the five: checked against the kind later
    std::optional<overlap_policy> overlap;
    std::int64_t jitter_ms = 0;
    bool ref = true;
    lua_Integer nargs = 0;
};

[[noreturn]] void bad_key(lua_State* L, const char* key, const char* problem) {
    luaL_argerror(L, 1, lua_pushfstring(L, "'%s' %s", key, problem));
    __builtin_unreachable();
}

std::int64_t delay_of(lua_State* L, int value, const char* key, std::int64_t least) {
    int is_integer = 0;
    lua_Integer ms = lua_tointegerx(L, value, &is_integer);
    if (!is_integer || ms < least || ms > max_delay_ms)
        bad_key(L, key,
                least == 0 ? "must be an integer from 0 to 1099511627776 ms"
                           : "must be an integer from 1 to 1099511627776 ms");
    return ms;
}

// The policy `value` names out of `names`; raises naming the key otherwise.
template <class Policy, std::size_t N>
Policy policy_of(lua_State* L, int value, const char* key, const char* const (&names)[N],
                 const char* expected) {
    if (lua_type(L, value) == LUA_TSTRING) {
        const char* given = lua_tostring(L, value);
        for (std::size_t i = 0; i < N; ++i) {
            if (std::strcmp(given, names[i]) == 0) return static_cast<Policy>(i);
        }
    }
    bad_key(L, key, expected);
}

constexpr const char* missed_names[] = {"burst", "skip", "delay", "once", "all"};
constexpr const char* overlap_names[] = {"skip", "allow"};

// Whether `s` (n bytes) is valid UTF-8 with no control character (C0, DEL or C1). Valid as
// RFC 3629 has it: no overlong form, surrogate or code point above U+10FFFF, which Prometheus'
// parser rejects in a label value, and with it the whole metrics file.
bool is_clean_text(const char* s, std::size_t n) {
    static constexpr std::uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};  // by length
    for (std::size_t i = 0; i < n;) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c == 0x7f) return false;
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t length = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
        if (length == 0 || c > 0xf4 || i + length > n) return false;
        std::uint32_t code = c & (0x7fU >> length);
        for (std::size_t k = 1; k < length; ++k) {
            auto b = static_cast<unsigned char>(s[i + k]);
            if ((b & 0xc0) != 0x80) return false;
            code = (code << 6) | (b & 0x3fU);
        }
        if (code < least[length] || code <= 0x9f || (code >= 0xd800 && code <= 0xdfff) ||
            code > 0x10ffff)
            return false;
        i += length;
    }
    return true;
}

// A state file's name: a plain file name in the state directory, never a path or a hidden file.
void check_state_name(lua_State* L, int value) {
    std::size_t n = 0;
    const char* s = lua_type(L, value) == LUA_TSTRING ? lua_tolstring(L, value, &n) : nullptr;
    bool good = s != nullptr && n > 0 && n <= max_name_bytes && s[0] != '.';
    for (std::size_t i = 0; good && i < n; ++i) {
        char c = s[i];
        good = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '-';
    }
    if (!good)
        bad_key(L, "persist",
                "must be 1 to 128 letters, digits, '.', '_' or '-', not starting with '.'");
}

void check_name(lua_State* L, int value) {
    if (lua_type(L, value) != LUA_TSTRING) bad_key(L, "name", "must be a string");
    std::size_t n = 0;
    const char* s = lua_tolstring(L, value, &n);
    if (n == 0 || n > max_name_bytes || !is_clean_text(s, n))
        bad_key(L, "name", "must be 1 to 128 bytes of UTF-8 text without control characters");
}

// Reads key `key` (the value on top) into `p`.
void read_key(lua_State* L, parsed& p, const char* key) {
    int value = lua_gettop(L);
    if (std::strcmp(key, "after") == 0) {
        p.after_ms = delay_of(L, value, key, 0);
    } else if (std::strcmp(key, "every") == 0) {
        p.every_ms = delay_of(L, value, key, 1);
    } else if (std::strcmp(key, "cron") == 0) {
        if (lua_type(L, value) != LUA_TSTRING) bad_key(L, key, "must be a string");
        p.cron = value;
    } else if (std::strcmp(key, "persist") == 0) {
        check_state_name(L, value);
        p.persist = value;
    } else if (std::strcmp(key, "tz") == 0) {
        if (lua_type(L, value) != LUA_TSTRING) bad_key(L, key, "must be a string");
        p.tz = value;
    } else if (std::strcmp(key, "fn") == 0) {
        if (!is_callable(L, value)) bad_key(L, key, "must be a function");
        p.fn = value;
    } else if (std::strcmp(key, "args") == 0) {
        if (!lua_istable(L, value)) bad_key(L, key, "must be a table");
        p.args = value;
    } else if (std::strcmp(key, "name") == 0) {
        check_name(L, value);
        p.name = value;
    } else if (std::strcmp(key, "missed") == 0) {
        p.missed = policy_of<missed_policy>(L, value, key, missed_names,
                                            "must be \"burst\", \"skip\" or \"delay\" (for "
                                            "a cron timer \"once\", \"skip\" or \"all\")");
    } else if (std::strcmp(key, "overlap") == 0) {
        p.overlap = policy_of<overlap_policy>(L, value, key, overlap_names,
                                              "must be \"skip\" or \"allow\"");
    } else if (std::strcmp(key, "jitter") == 0) {
        p.jitter_ms = delay_of(L, value, key, 0);
    } else if (std::strcmp(key, "ref") == 0) {
        if (!lua_isboolean(L, value)) bad_key(L, key, "must be a boolean");
        p.ref = lua_toboolean(L, value) != 0;
    } else {
        luaL_argerror(L, 1, lua_pushfstring(L, "unknown key '%s'", key));
    }
}

// Checks the whole table at index 1 before anything is made. Every value read is left on the
// stack, above the table, where `p` points at it.
parsed parse(lua_State* L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    parsed p;
    luaL_checkstack(L, 2 * 13 + LUA_MINSTACK, "too many options");
    lua_pushnil(L);
    int seen = 0;
    while (lua_next(L, 1) != 0) {
        if (lua_type(L, -2) != LUA_TSTRING) {
            luaL_argerror(L, 1, lua_pushfstring(L, "unknown key (a %s)", luaL_typename(L, -2)));
        }
        if (++seen > 13) luaL_argerror(L, 1, "too many keys");  // each known key once: 13
        read_key(L, p, lua_tostring(L, -2));
        lua_pushvalue(L, -2);  // the key again, for lua_next; the value stays where p has it
    }
    int kinds = int{p.after_ms.has_value()} + int{p.every_ms.has_value()} + int{p.cron != 0};
    if (kinds > 1) luaL_argerror(L, 1, "give one of 'after', 'every' and 'cron', not more");
    if (kinds == 0) luaL_argerror(L, 1, "give 'after', 'every' or 'cron'");
    if (p.fn == 0) luaL_argerror(L, 1, "'fn' is missing");
    if (p.after_ms && p.missed) bad_key(L, "missed", "applies to 'every' and 'cron' timers only");
    if (p.after_ms && p.overlap) bad_key(L, "overlap", "applies to 'every' and 'cron' timers only");
    if (p.tz != 0 && p.cron == 0) bad_key(L, "tz", "applies to 'cron' timers only");
    if (p.persist != 0 && p.cron == 0) bad_key(L, "persist", "applies to 'cron' timers only");
    if (p.every_ms && p.missed && *p.missed > missed_policy::delay)
        bad_key(L, "missed", "must be \"burst\", \"skip\" or \"delay\"");
    if (p.cron != 0 && p.missed && *p.missed != missed_policy::skip &&
        *p.missed < missed_policy::once)
        bad_key(L, "missed", "must be \"once\", \"skip\" or \"all\" for a cron timer");
    if (p.every_ms && p.jitter_ms >= *p.every_ms)
        bad_key(L, "jitter", "must be shorter than the period ('every')");
    if (p.args != 0) {
        lua_getfield(L, p.args, "n");  // table.pack's count, else the sequence's length
        p.nargs = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : luaL_len(L, p.args);
        lua_pop(L, 1);
        if (p.nargs < 0 || p.nargs > max_timer_args)
            bad_key(L, "args", "must hold 0 to 65000 arguments");
    }
    return p;
}

// Whether the last run of the timer at `ud`, which paused, is still going.
bool last_run_going(lua_State* L, int ud, const timer_options& o) {
    if (!o.run_kept) return false;
    bool going = false;
    if (lua_getiuservalue(L, ud, options_run_uv) == LUA_TUSERDATA)
        going = task_going(L, lua_gettop(L));
    lua_pop(L, 1);
    return going;
}

std::int64_t floor_ms(duration d) {
    return std::chrono::floor<milliseconds>(d).count();
}

}  // namespace

duration draw_jitter(context& ctx, std::int64_t jitter_ms) {
    if (jitter_ms <= 0) return duration::zero();
    return milliseconds{
        static_cast<std::int64_t>(next_random(ctx) % static_cast<std::uint64_t>(jitter_ms))};
}

void count_unrun(timer_options& o, std::uint64_t n) {
    o.skipped += n;
    o.stats.missed += n;
    if (o.named != nullptr) o.named->second.missed += n;
}

time_point plan_first_run(lua_State* L, context& ctx, timer_handle& t, time_point now) {
    timer_options& o = options_of(t);
    if (o.cron != nullptr) return plan_first_cron_run(L, ctx, t, now);
    duration period = milliseconds{static_cast<std::int64_t>(t.delay_ms)};
    duration wall = ctx.clock->wall_now().time_since_epoch();
    time_point nominal = now + period;
    if (t.repeats) {  // the next whole multiple of the period since the epoch
        duration next_on_grid = (std::chrono::floor<milliseconds>(wall) / period + 1) * period;
        nominal = now + (next_on_grid - wall);
    }
    o.wall_offset = wall - now.time_since_epoch();
    o.jitter_now = draw_jitter(ctx, o.jitter_ms);
    return nominal + o.jitter_now;
}

std::optional<bool> run_with_options(lua_State* L, context& ctx, timer_handle& t, int ud,
                                     time_point due) {
    timer_options& o = options_of(t);
    time_point start = ctx.options_run_ended ? *ctx.options_run_ended : ctx.clock->now();
    ctx.options_run_ended.reset();
    duration jitter = o.jitter_now;
    time_point nominal = due - jitter;
    std::uint64_t folded = 0;
    duration late{};
    duration cron_due{};
    if (o.cron != nullptr) {
        std::optional<cron_run> run = begin_cron_run(L, ctx, t);
        if (!run) return std::nullopt;
        folded = run->folded;
        late = run->late;
        cron_due = run->due;
    } else if (t.repeats) {
        duration period = milliseconds{static_cast<std::int64_t>(t.delay_ms)};
        if (o.missed != missed_policy::burst && start - nominal >= period)
            folded = static_cast<std::uint64_t>((start - nominal) / period);
        nominal += folded * period;
        time_point next =
            o.missed == missed_policy::delay && folded > 0 ? start + period : nominal + period;
        o.jitter_now = draw_jitter(ctx, o.jitter_ms);
        next += o.jitter_now;
        // The queue moved the timer one period on from `due`; anything else is a move.
        if (next != due + period) protect(L, [&] { ctx.timers.move_to(t.id, next); });
    }
    // An `after` timer has no overlap policy: re-armed (t:reset()) while its run is paused, its
    // one expiry runs, as a oneoff's would; skipped, it would never run.
    if (t.repeats && o.overlap == overlap_policy::skip && last_run_going(L, ud, o)) {
        count_unrun(o, 1 + folded);
        return std::nullopt;
    }
    o.ran = true;
    o.missed_now = folded + o.skipped;
    o.skipped = 0;
    if (o.cron != nullptr) {  // a cron timer's, from begin_cron_run: this expiry does run
        o.due = cron_due;
        keep_cron_run(L, ctx, o);
    } else {
        o.due = nominal.time_since_epoch() + o.wall_offset;  // a re-arm may change the offset
        late = std::max(start - (nominal + jitter), duration::zero());
    }
    int nargs = t.nargs;
    lua_getiuservalue(L, ud, 1);
    lua_pushvalue(L, ud);
    for (int i = 0; i < nargs; ++i)
        lua_getiuservalue(L, ud, options_first_arg_uv + i);
    o.stats.record_start(late, folded);
    if (o.named != nullptr) o.named->second.record_start(late, folded);
    bool ok = run_as_task(L, ctx, nargs + 1);
    // The handle stays at `ud`, and the context with it: the run cannot free either.
    time_point end = ctx.clock->now();
    duration busy = end - start;
    o.stats.busy += busy;
    if (o.named != nullptr) o.named->second.busy += busy;
    if (!ok) {
        ctx.failing_timer = o.named != nullptr ? &o.named->first : nullptr;
        return false;
    }
    ctx.options_run_ended = end;
    if (ctx.paused_callback != nullptr) {  // the run paused: its task is what overlap watches
        push_context_value(L, tasks_uv);
        lua_pushthread(ctx.paused_callback);
        lua_xmove(ctx.paused_callback, L, 1);
        lua_rawget(L, -2);
        lua_setiuservalue(L, ud, options_run_uv);
        lua_pop(L, 1);
        o.run_kept = true;
    } else if (o.run_kept) {
        lua_pushnil(L);
        lua_setiuservalue(L, ud, options_run_uv);
        o.run_kept = false;
    }
    return true;
}

// mockit.timer{after=ms | every=ms, fn=f, args={...}, name=s, missed=, overlap=, jitter=ms,
// ref=bool} -> timer
int mockit_timer(lua_State* L) {
    context& ctx = upvalue_context(L);
    parsed p = parse(L);
    int user_values = static_cast<int>(p.nargs) + options_first_arg_uv - 1;
    auto* tw = static_cast<timer_with_options*>(
        lua_newuserdatauv(L, sizeof(timer_with_options), user_values));
    int ud = lua_gettop(L);
    // A cron timer is an interval in the queue, moved to each run its schedule gives: its period
    // never comes into play (cron_timer.hpp).
    bool repeats = p.every_ms.has_value() || p.cron != 0;
    auto delay_ms = static_cast<std::uint64_t>(p.every_ms   ? *p.every_ms
                                               : p.after_ms ? *p.after_ms
                                                            : max_delay_ms);
    tw->handle = timer_handle{timer_id{},
                              delay_ms & delay_ms_mask,
                              static_cast<std::uint16_t>(p.nargs),
                              repeats,
                              p.ref,
                              false,
                              false,
                              true};
    tw->options = timer_options{};  // zeros, then what the options say
    tw->options.missed =
        p.missed.value_or(p.cron != 0 ? missed_policy::once : missed_policy::burst);
    tw->options.overlap = p.overlap.value_or(overlap_policy::skip);
    tw->options.jitter_ms = p.jitter_ms;
    push_context_value(L, timer_mt_uv);
    lua_setmetatable(L, ud);
    lua_pushvalue(L, p.fn);
    lua_setiuservalue(L, ud, 1);
    if (p.name != 0) {
        lua_pushvalue(L, p.name);
        lua_setiuservalue(L, ud, options_name_uv);
    }
    if (p.cron != 0) {
        tw->options.cron = push_cron_plan(L, ctx, p.cron, p.tz, p.persist);
        lua_setiuservalue(L, ud, options_cron_uv);
    }
    for (lua_Integer i = 1; i <= p.nargs; ++i) {  // an __index of args' may raise here
        lua_geti(L, p.args, i);
        lua_setiuservalue(L, ud, static_cast<int>(options_first_arg_uv + i - 1));
    }
    if (p.name != 0) {  // registered once nothing else can fail but the arming itself
        std::size_t n = 0;
        const char* name = lua_tolstring(L, p.name, &n);
        tw->options.named = protect(L, [&] {
            return &*ctx.loop.named.try_emplace(std::string{name, n}).first;
        });
    }
    arm(L, ctx, tw->handle, ud);
    if (tw->options.cron != nullptr) claim_state_file(L, ctx, *tw->options.cron);
    lua_settop(L, ud);
    return 1;
}

namespace {

timer_options* options_if_any(lua_State* L) {
    auto& t = *static_cast<timer_handle*>(luaL_checkudata(L, 1, timer_type));
    return t.has_options ? &options_of(t) : nullptr;
}

}  // namespace

// t:due() -> ms since the epoch: the nominal due time of the current (or last) run; nil before
// the first run, and for the seed's timers.
int timer_due(lua_State* L) {
    timer_options* o = options_if_any(L);
    if (o == nullptr || !o->ran) return 0;
    lua_pushinteger(L, floor_ms(o->due));
    return 1;
}

// t:missed() -> the expiries the current (or last) run folds besides its own.
int timer_missed(lua_State* L) {
    timer_options* o = options_if_any(L);
    if (o == nullptr || !o->ran) return 0;
    lua_pushinteger(L, static_cast<lua_Integer>(o->missed_now));
    return 1;
}

// t:stats() -> {runs, missed, late_p50_us, late_p99_us, late_max_us, busy_us}
int timer_stats_of(lua_State* L) {
    timer_options* o = options_if_any(L);
    if (o == nullptr) return 0;
    push_stats(L, o->stats);
    return 1;
}

}  // namespace mockit::lua::detail
