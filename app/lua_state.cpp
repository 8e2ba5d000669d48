// SPDX-License-Identifier: MIT
#include "lua_state.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace mockit::app {
namespace {

// lua.c's l_alloc: the C library's allocator, as lua5.4 runs scripts. A size-class pool
// allocator was here before; it kept every freed block for its own size, so a script that made
// objects of one size after another's were freed grew to several times lua5.4's memory
// (tests/bench/RESULTS.md, "The Lua state's allocator").
void* allocate(void* /*ud*/, void* ptr, std::size_t /*osize*/, std::size_t nsize) noexcept {
    if (nsize == 0) {
        std::free(ptr);
        return nullptr;
    }
    return std::realloc(ptr, nsize);  // nullptr on failure: Lua keeps the block and raises
}

// An error outside any protected call: say what it was before Lua aborts.
int panic(lua_State* L) {
    const char* message = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : nullptr;
    std::fprintf(stderr, "mockit-run: PANIC: unprotected error in call to Lua API (%s)\n",
                 message != nullptr ? message : "error object is not a string");
    std::fflush(stderr);
    return 0;
}

// warn() as lua5.4 handles it: ignored until a script calls warn("@on"), then printed to
// stderr as "Lua warning: ..." (a message may come in pieces) until warn("@off").
void warn_off(void* ud, const char* message, int to_be_continued);
void warn_on(void* ud, const char* message, int to_be_continued);
void warn_continued(void* ud, const char* message, int to_be_continued);

// "@on" and "@off" switch; other "@..." control messages are ignored. True for any of them.
bool control_message(lua_State* L, const char* message, int to_be_continued) {
    if (to_be_continued != 0 || message[0] != '@') return false;
    if (std::strcmp(message, "@on") == 0) lua_setwarnf(L, warn_on, L);
    if (std::strcmp(message, "@off") == 0) lua_setwarnf(L, warn_off, L);
    return true;
}

void warn_off(void* ud, const char* message, int to_be_continued) {
    control_message(static_cast<lua_State*>(ud), message, to_be_continued);
}

void warn_continued(void* ud, const char* message, int to_be_continued) {
    auto* L = static_cast<lua_State*>(ud);
    std::fputs(message, stderr);
    if (to_be_continued != 0) {
        lua_setwarnf(L, warn_continued, L);
        return;
    }
    std::fputs("\n", stderr);
    std::fflush(stderr);
    lua_setwarnf(L, warn_on, L);
}

void warn_on(void* ud, const char* message, int to_be_continued) {
    if (control_message(static_cast<lua_State*>(ud), message, to_be_continued)) return;
    std::fputs("Lua warning: ", stderr);
    warn_continued(ud, message, to_be_continued);
}

}  // namespace

lua_state::lua_state() {
    L_ = lua_newstate(allocate, nullptr);
    if (L_ == nullptr) return;
    lua_atpanic(L_, panic);
    lua_setwarnf(L_, warn_off, L_);
}

lua_state::~lua_state() {
    if (L_ != nullptr) lua_close(L_);
}

}  // namespace mockit::app
