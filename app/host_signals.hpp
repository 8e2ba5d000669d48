// The host's answer to SIGINT and SIGTERM when the script set no mockit.signal handler:
// - SIGTERM stops the loop gracefully (the running callback finishes, nothing new starts):
//   exit 0, which systemd counts as a clean stop.
// - SIGINT does the same with exit 130. A second SIGINT, or one outside the loop, interrupts
//   whatever Lua code is running, as lua5.4 does: a hook raises "interrupted!" at the next
//   instruction (lua_sethook is documented as safe to call from a signal handler).
// Only atomics and lua_sethook are touched from the handler; never the Lua stack.
#pragma once

#include <lua.hpp>

namespace mockit::app {

void install_host_signals(lua_State* L);
void set_loop_running(bool running) noexcept;
// Whether a SIGINT has arrived (then the exit status is 130 whatever else happened).
bool interrupted() noexcept;

}  // namespace mockit::app
