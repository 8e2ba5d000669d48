#include "context.hpp"

#include <algorithm>
#include <span>
#include <stdexcept>
#include <system_error>

#include "lua_util.hpp"

namespace mockit::lua::detail {

const char context_key = 0;

context::context() : signals{queue} {
    in_hand.reserve(batch_calls);
    // The loop records expiries itself: whenever it looks at the queue (catch_up), and at each
    // deadline, which it never sleeps past (wait_for_events). The engine thread stays parked.
    engine.set_owner_records(true);
}

context::~context() = default;

void start_engine(lua_State* L, context& ctx) {
    if (ctx.engine_started) return;
    protect(L, [&] {
        try {
            ctx.engine.start_thread();
        } catch (
            const std::system_error& e) {  // "Resource temporarily unavailable" says too little
            throw std::runtime_error("cannot start the timer thread: " + e.code().message());
        }
    });
    ctx.engine_started = true;
}

namespace {

// While nothing is queued, expiries go from the engine straight into the hand: they come in
// expiry order, so the queue, which merges, would only copy them (and keep an index entry per
// timer slot). An interval that missed deadlines is one event with a count, whose expiries
// must interleave with the other timers' as they happened: from the first such event on, the
// queue takes them. Anything queued already comes first, so then the queue takes them all.
std::size_t record_due(context& ctx, std::size_t max) {
    if (ctx.queue.size() != 0) return ctx.engine.poll(max);
    auto& hand = ctx.in_hand;
    hand.erase(hand.begin(), hand.begin() + static_cast<std::ptrdiff_t>(ctx.next));
    ctx.next = 0;
    std::size_t taken_from = hand.size();
    std::size_t n = ctx.engine.take_due(hand, max);
    auto backlog = std::find_if(hand.begin() + static_cast<std::ptrdiff_t>(taken_from), hand.end(),
                                [](const event& e) { return e.count > 1; });
    if (backlog != hand.end()) {
        ctx.queue.record(std::span<const event>{backlog, hand.end()});
        hand.erase(backlog, hand.end());
    }
    return n;
}

}  // namespace

void catch_up(lua_State* L, context& ctx, std::size_t max) {
    ctx.behind = protect(L, [&] { return record_due(ctx, max); }) == max;
}

context& upvalue_context(lua_State* L) {
    auto* box = static_cast<context_box*>(lua_touserdata(L, lua_upvalueindex(1)));
    if (box == nullptr || !box->ctx) luaL_error(L, "mockit: the Lua state is closing");
    return *box->ctx;
}

void push_context_value(lua_State* L, int uv) {
    lua_getiuservalue(L, lua_upvalueindex(1), uv);
}

std::size_t pending(const context& ctx) {
    std::size_t n = ctx.queue.pending() + ctx.signals.pending();
    for (std::size_t i = ctx.next; i < ctx.in_hand.size(); ++i)
        n += ctx.in_hand[i].count;
    return n;
}

std::size_t queued_entries(const context& ctx) {
    return ctx.queue.size() + (ctx.in_hand.size() - ctx.next) + ctx.signals.pending();
}

std::optional<int> requested_stop(const context& ctx) noexcept {
    if (int code = requested_stop_code(); code >= 0) return code;
    if (ctx.stop_requested) return ctx.stop_code;
    return std::nullopt;
}

void forget_in_hand(context& ctx, timer_id id) noexcept {
    for (std::size_t i = ctx.next; i < ctx.in_hand.size(); ++i) {
        if (ctx.in_hand[i].timer == id) ctx.in_hand[i].count = 0;
    }
}

context* find_context(lua_State* L) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &context_key);
    auto* box = static_cast<context_box*>(lua_touserdata(L, -1));
    lua_pop(L, 1);
    return box != nullptr ? box->ctx.get() : nullptr;
}

}  // namespace mockit::lua::detail
