#include "host_signals.hpp"

#include <atomic>
#include <csignal>

#include "mockit/lua_module.hpp"
#include "options.hpp"

namespace mockit::app {
namespace {

std::atomic<lua_State*> state{nullptr};
std::atomic<int> sigints{0};
std::atomic<bool> loop_running{false};

// Raises "interrupted!" in the running Lua code, then removes itself (lua.c's lstop).
void stop_lua(lua_State* L, lua_Debug*) {
    lua_sethook(L, nullptr, 0, 0);
    luaL_error(L, "interrupted!");
}

extern "C" void on_sigint(int) {
    constexpr int code = static_cast<int>(exit_status::interrupted);
    bool first = sigints.fetch_add(1) == 0;
    lua::request_stop_from_signal(code);       // also wakes a loop blocked in wait()
    if (first && loop_running.load()) return;  // graceful: let the callback finish
    if (lua_State* L = state.load()) {
        lua_sethook(L, stop_lua, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
    }
}

}  // namespace

void install_host_signals(lua_State* L) {
    state.store(L);
    struct sigaction action {};
    action.sa_handler = on_sigint;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGINT, &action, nullptr);
    lua::take_signal(L, SIGTERM, static_cast<int>(exit_status::success));
}

void set_loop_running(bool running) noexcept {
    loop_running.store(running);
}

bool interrupted() noexcept {
    return sigints.load() > 0;
}

}  // namespace mockit::app
