// SPDX-License-Identifier: MIT
// mockit-run's Lua state: what luaL_newstate gives (the C library's allocator, a panic handler,
// warnings off until a script says "@on").
#pragma once

#include <lua.hpp>

namespace mockit::app {

class lua_state {
  public:
    lua_state();  // get() is nullptr when there was no memory for it
    ~lua_state();
    lua_state(const lua_state&) = delete;
    lua_state& operator=(const lua_state&) = delete;

    [[nodiscard]] lua_State* get() const noexcept { return L_; }

  private:
    lua_State* L_ = nullptr;
};

}  // namespace mockit::app
