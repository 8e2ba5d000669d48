// SPDX-License-Identifier: MIT
// mockit.clock: simulated time for tests (SPEC §8). Once a state's clock is virtual, every clock
// the script reads through mockit, os.time() and os.date() is the simulated one, and the loop,
// instead of sleeping, moves it straight to the next deadline.
#pragma once

#include <lua.hpp>

#include "context.hpp"
#include "mockit/clock.hpp"

namespace mockit::lua::detail {

// Raises unless simulated time may move on to `to`: it ends 73 years after it starts, so that
// every clock stays inside its range (advance, suspend, sleep and wait check before they move it).
void check_virtual_room(lua_State* L, time_point to);

// Moves simulated time on to `to`, as time the loop spent idle (loop_metrics): a jump to the next
// deadline, or a suspend.
void pass_idle_time(context& ctx, time_point to);

// Pushes the mockit.clock table, its functions closing over the context box at `box`.
void push_clock_table(lua_State* L, int box);

}  // namespace mockit::lua::detail
