// SPDX-License-Identifier: MIT
#include "context.hpp"

#include <sys/random.h>
#include <unistd.h>

namespace mockit::lua::detail {

const char context_key = 0;

namespace {

// Jitter without --seed: a different sequence each run, as systemd's RandomizedDelaySec.
std::uint64_t seed_from_os() noexcept {
    std::uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != sizeof seed)
        seed = static_cast<std::uint64_t>(getpid());  // no entropy yet, early in boot
    return seed;
}

}  // namespace

context::context() : random_state{seed_from_os()} {}
context::~context() = default;

context& upvalue_context(lua_State* L) {
    auto* box = static_cast<context_box*>(lua_touserdata(L, lua_upvalueindex(1)));
    if (box == nullptr || !box->ctx) luaL_error(L, "mockit: the Lua state is closing");
    return *box->ctx;
}

void push_context_value(lua_State* L, int uv) {
    lua_getiuservalue(L, lua_upvalueindex(1), uv);
}

bool anything_due(context& ctx) {
    if (ctx.signals.pending() > 0) return true;
    std::optional<time_point> next = ctx.timers.next_deadline();
    return next && *next <= ctx.clock->now();
}

std::size_t pending(const context& ctx) {
    return ctx.timers.due(ctx.clock->now()).expiries + ctx.signals.pending();
}

std::size_t queued_entries(const context& ctx) {
    return ctx.timers.due(ctx.clock->now()).timers + ctx.signals.pending();
}

std::uint64_t next_random(context& ctx) noexcept {
    std::uint64_t z = (ctx.random_state += 0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
}

std::optional<int> requested_stop(const context& ctx) noexcept {
    if (int code = requested_stop_code(); code >= 0) return code;
    if (ctx.stop_requested) return ctx.stop_code;
    return std::nullopt;
}

context* find_context(lua_State* L) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &context_key);
    auto* box = static_cast<context_box*>(lua_touserdata(L, -1));
    lua_pop(L, 1);
    return box != nullptr ? box->ctx.get() : nullptr;
}

}  // namespace mockit::lua::detail
