#include "context.hpp"

namespace mockit::lua::detail {

const char context_key = 0;

context::context() = default;
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
