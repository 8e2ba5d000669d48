#include "lua_allocator.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace mockit::app {
namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(MOCKIT_LUA_SYSTEM_ALLOCATOR)
constexpr bool system_only = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool system_only = true;
#else
constexpr bool system_only = false;
#endif
#else
constexpr bool system_only = false;
#endif

// A mapping of `size` bytes aligned on `size` (huge pages need 2 MiB alignment), or nullptr.
void* map_chunk(std::size_t size, bool huge) noexcept {
    void* raw =
        ::mmap(nullptr, 2 * size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return nullptr;
    auto start = reinterpret_cast<std::uintptr_t>(raw);
    std::uintptr_t aligned = (start + size - 1) & ~(std::uintptr_t{size} - 1);
    if (aligned > start) ::munmap(raw, aligned - start);
    if (std::uintptr_t tail = start + 2 * size - (aligned + size); tail > 0) {
        ::munmap(reinterpret_cast<void*>(aligned + size), tail);
    }
    void* chunk = reinterpret_cast<void*>(aligned);
    if (huge) ::madvise(chunk, size, MADV_HUGEPAGE);  // advice only: without THP, plain pages
    return chunk;
}

}  // namespace

const bool lua_allocator::pooling = !system_only;

lua_allocator::~lua_allocator() {
    for (const chunk& c : chunks_)
        ::munmap(c.start, c.size);
}

void* lua_allocator::allocate(void* ud, void* ptr, std::size_t osize, std::size_t nsize) noexcept {
    if constexpr (system_only) {
        if (nsize == 0) {
            std::free(ptr);
            return nullptr;
        }
        return std::realloc(ptr, nsize);
    }
    // With no block, lua_Alloc's osize tells the kind of object, not a size.
    return static_cast<lua_allocator*>(ud)->reallocate(ptr, ptr != nullptr ? osize : 0, nsize);
}

void* lua_allocator::reallocate(void* ptr, std::size_t osize, std::size_t nsize) noexcept {
    auto class_of = [](std::size_t size) { return (size + granule - 1) / granule; };
    bool old_pooled = osize <= max_pooled;
    bool new_pooled = nsize <= max_pooled;
    if (nsize == 0) {
        if (ptr != nullptr) give_back(ptr, osize);
        return nullptr;
    }
    if (ptr != nullptr && old_pooled && new_pooled && class_of(osize) == class_of(nsize)) {
        return ptr;
    }
    if (ptr != nullptr && !old_pooled && !new_pooled) return std::realloc(ptr, nsize);
    void* fresh = new_pooled ? take(nsize) : std::malloc(nsize);
    if (fresh == nullptr) return nullptr;  // Lua keeps the old block and raises
    if (ptr != nullptr) {
        std::memcpy(fresh, ptr, std::min(osize, nsize));
        give_back(ptr, osize);
    }
    return fresh;
}

void* lua_allocator::take(std::size_t size) noexcept {
    std::size_t index = (size + granule - 1) / granule - 1;
    if (free_block* block = free_[index]) {
        free_[index] = block->next;
        return block;
    }
    std::size_t block_size = (index + 1) * granule;
    if (static_cast<std::size_t>(bump_end_ - bump_) < block_size && !add_chunk()) return nullptr;
    void* block = bump_;
    bump_ += block_size;
    return block;
}

void lua_allocator::give_back(void* ptr, std::size_t size) noexcept {
    if (size > max_pooled) {
        std::free(ptr);
        return;
    }
    std::size_t index = (size + granule - 1) / granule - 1;
    free_[index] = new (ptr) free_block{free_[index]};
}

bool lua_allocator::add_chunk() noexcept {
    // The rest of the current chunk (under max_pooled bytes) is left unused.
    try {
        chunks_.reserve(chunks_.size() + 1);
    } catch (...) {
        return false;
    }
    std::size_t size =
        std::min(first_chunk << std::min<std::size_t>(chunks_.size(), 16), huge_chunk);
    // Huge pages only once the pools are big: a huge page is resident as soon as it is
    // touched, which would make a small script's memory jump by 2 MiB at a time.
    void* start = map_chunk(size, chunks_.size() >= huge_after_chunks);
    if (start == nullptr) return false;
    chunks_.push_back(chunk{start, size});
    bump_ = static_cast<char*>(start);
    bump_end_ = bump_ + size;
    return true;
}

}  // namespace mockit::app
