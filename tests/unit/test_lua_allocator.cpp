#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "lua_allocator.hpp"

using mockit::app::lua_allocator;

namespace {

void* call(lua_allocator& a, void* ptr, std::size_t osize, std::size_t nsize) {
    return lua_allocator::allocate(&a, ptr, osize, nsize);
}

void fill(void* block, std::size_t size, unsigned char seed) {
    auto* bytes = static_cast<unsigned char*>(block);
    for (std::size_t i = 0; i < size; ++i)
        bytes[i] = static_cast<unsigned char>(seed + i);
}

bool holds(const void* block, std::size_t size, unsigned char seed) {
    const auto* bytes = static_cast<const unsigned char*>(block);
    for (std::size_t i = 0; i < size; ++i) {
        if (bytes[i] != static_cast<unsigned char>(seed + i)) return false;
    }
    return true;
}

}  // namespace

TEST_CASE("lua_allocator: blocks of every size keep their bytes and their alignment",
          "[lua_allocator]") {
    lua_allocator a;
    std::vector<std::pair<void*, std::size_t>> blocks;
    for (std::size_t size = 1; size <= 600; ++size) {
        void* block = call(a, nullptr, LUA_TTABLE, size);  // osize is an object kind here
        REQUIRE(block != nullptr);
        CHECK(reinterpret_cast<std::uintptr_t>(block) % alignof(std::max_align_t) == 0);
        fill(block, size, static_cast<unsigned char>(size));
        blocks.emplace_back(block, size);
    }
    for (auto [block, size] : blocks) {
        CHECK(holds(block, size, static_cast<unsigned char>(size)));
        CHECK(call(a, block, size, 0) == nullptr);
    }
}

TEST_CASE("lua_allocator: resizing across the pooled limit keeps the contents", "[lua_allocator]") {
    lua_allocator a;
    // small -> same class -> bigger class -> system-sized -> larger still -> back to small
    const std::size_t sizes[] = {10, 16, 40, 200, 257, 4000, 100000, 300, 256, 33, 1};
    void* block = call(a, nullptr, 0, sizes[0]);
    fill(block, sizes[0], 7);
    for (std::size_t i = 1; i < std::size(sizes); ++i) {
        std::size_t kept = std::min(sizes[i - 1], sizes[i]);
        block = call(a, block, sizes[i - 1], sizes[i]);
        REQUIRE(block != nullptr);
        CHECK(holds(block, kept, 7));
        fill(block, sizes[i], 7);
    }
    call(a, block, sizes[std::size(sizes) - 1], 0);
}

TEST_CASE("lua_allocator: a freed block is reused by the next one of its class",
          "[lua_allocator]") {
    if (!lua_allocator::pooling) return;  // sanitizer builds use the system allocator
    lua_allocator a;
    void* first = call(a, nullptr, 0, 40);
    void* other = call(a, nullptr, 0, 100);
    call(a, first, 40, 0);
    CHECK(call(a, nullptr, 0, 33) == first);   // 33..48 bytes: the same class
    CHECK(call(a, nullptr, 0, 40) != first);   // taken already
    CHECK(call(a, other, 100, 100) == other);  // no change of class: no move
}

TEST_CASE("lua_allocator: a Lua state runs on it through heavy garbage collection",
          "[lua_allocator]") {
    lua_allocator a;
    struct closer {
        void operator()(lua_State* L) const { lua_close(L); }
    };
    std::unique_ptr<lua_State, closer> state{lua_newstate(lua_allocator::allocate, &a)};
    REQUIRE(state);
    lua_State* L = state.get();
    luaL_openlibs(L);
    const char* chunk = R"(
        local keep, total = {}, 0
        for i = 1, 200000 do
            local t = {i, tostring(i), string.rep("x", i % 300)}
            if i % 7 == 0 then keep[#keep + 1] = t end
            total = total + #t[3]
        end
        collectgarbage()
        for k, t in ipairs(keep) do
            assert(t[2] == tostring(t[1]) and #t[3] == t[1] % 300, "corrupted at " .. k)
        end
        return #keep, total
    )";
    REQUIRE(luaL_dostring(L, chunk) == LUA_OK);
    CHECK(lua_tointeger(L, -2) == 200000 / 7);
    lua_Integer expected = 0;
    for (lua_Integer i = 1; i <= 200000; ++i)
        expected += i % 300;
    CHECK(lua_tointeger(L, -1) == expected);
}
