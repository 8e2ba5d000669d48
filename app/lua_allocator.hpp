// The allocator of mockit-run's Lua state: small blocks from size-class pools carved out of
// chunks, big blocks from the system. Chunks start at 64 KiB and double up to 2 MiB; past the
// first 16 chunks (about 24 MiB) they ask for transparent huge pages. A small script so stays
// as small as under malloc, and a big one gets huge pages.
//
// Why: a script that arms a million timers makes a million small Lua objects. With malloc,
// most of that time went to malloc itself and to one page fault per 4 KiB touched (costly
// on virtual machines); pools make a small allocation a free-list pop, and huge pages take
// the page faults down by a factor of up to 512. Lua tells the allocator each block's size
// when freeing it (lua_Alloc's `osize`), so the pools need no headers of their own.
//
// Builds with AddressSanitizer, and builds for valgrind (MOCKIT_VALGRIND), use the system
// allocator throughout, so every Lua object stays visible to the checker.
#pragma once

#include <array>
#include <cstddef>
#include <lua.hpp>
#include <vector>

namespace mockit::app {

class lua_allocator {
  public:
    lua_allocator() = default;
    ~lua_allocator();  // returns every chunk: only after lua_close of the state using it
    lua_allocator(const lua_allocator&) = delete;
    lua_allocator& operator=(const lua_allocator&) = delete;

    // The lua_Alloc function; `ud` is the lua_allocator.
    static void* allocate(void* ud, void* ptr, std::size_t osize, std::size_t nsize) noexcept;

    // Blocks up to this size come from the pools.
    static constexpr std::size_t max_pooled = 256;
    // False where every block comes from the system allocator (see above).
    static const bool pooling;

  private:
    static constexpr std::size_t granule = 16;
    static constexpr std::size_t classes = max_pooled / granule;
    static constexpr std::size_t first_chunk = std::size_t{64} << 10;
    static constexpr std::size_t huge_chunk = std::size_t{2} << 20;
    static constexpr std::size_t huge_after_chunks = 16;

    struct chunk {
        void* start;
        std::size_t size;
    };

    struct free_block {
        free_block* next;
    };

    void* reallocate(void* ptr, std::size_t osize, std::size_t nsize) noexcept;
    void* take(std::size_t size) noexcept;
    void give_back(void* ptr, std::size_t size) noexcept;
    bool add_chunk() noexcept;

    std::array<free_block*, classes> free_{};
    char* bump_ = nullptr;  // the unused tail of the newest chunk
    char* bump_end_ = nullptr;
    std::vector<chunk> chunks_;
};

}  // namespace mockit::app
