// mockit-run's Lua state: what luaL_newstate gives (a panic handler, warnings off until a
// script says "@on"), with the host's own allocator. The state and its allocator live and die
// together.
#pragma once

#include <lua.hpp>
#include <memory>

#include "lua_allocator.hpp"

namespace mockit::app {

class lua_state {
  public:
    lua_state();  // get() is nullptr when there was no memory for it
    ~lua_state();
    lua_state(const lua_state&) = delete;
    lua_state& operator=(const lua_state&) = delete;

    [[nodiscard]] lua_State* get() const noexcept { return L_; }

  private:
    std::unique_ptr<lua_allocator> allocator_;  // declared first: freed after lua_close
    lua_State* L_ = nullptr;
};

}  // namespace mockit::app
