// SPDX-License-Identifier: MIT
// A growable array whose elements never move: segment k holds first_segment << k elements, so
// growing allocates a segment twice the last and copies nothing.
//
// For the timer queue's slots (a million timers make 32 MB of them): a std::vector doubling to
// that size copies every element at each step, into fresh pages. With a std::vector instead,
// arming a million timers took 58 ms instead of 38 in mockit_bench_timer_queue, and 354 ms
// instead of 272 in the scale-1e6 workload (medians; tests/bench/RESULTS.md). Segments from
// 2 MiB up ask for transparent huge pages: a few page faults instead of hundreds per segment.
//
// For trivially copyable T only (plain structs and integers).
#pragma once

#include <sys/mman.h>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <type_traits>

namespace mockit::detail {

template <class T, std::size_t FirstSegment = 1024>
class segmented_vector {
    static_assert(std::is_trivially_copyable_v<T>);
    static_assert(std::has_single_bit(FirstSegment));

  public:
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

    [[nodiscard]] T& operator[](std::size_t i) noexcept {
        auto [segment, offset] = locate(i);
        return segments_[segment].get()[offset];
    }
    [[nodiscard]] const T& operator[](std::size_t i) const noexcept {
        auto [segment, offset] = locate(i);
        return segments_[segment].get()[offset];
    }

    // Throws std::bad_alloc, leaving the array as it was.
    void push_back(const T& value) {
        if (size_ == capacity_) add_segment();
        (*this)[size_] = value;
        ++size_;
    }

  private:
    static constexpr int first_shift = std::countr_zero(FirstSegment);
    static constexpr std::size_t huge_page = std::size_t{2} << 20;
    static constexpr std::size_t max_segments = 64 - first_shift;

    struct segment_free {
        void operator()(T* p) const noexcept { std::free(p); }
    };

    // Element i sits in the segment named by the top bit of i + FirstSegment.
    static std::pair<std::size_t, std::size_t> locate(std::size_t i) noexcept {
        std::size_t j = i + FirstSegment;
        auto top = static_cast<std::size_t>(std::bit_width(j) - 1);
        return {top - first_shift, j - (std::size_t{1} << top)};
    }

    void add_segment() {
        std::size_t count = FirstSegment << used_;
        std::size_t bytes = count * sizeof(T);
        void* memory = nullptr;
        if (bytes >= huge_page) {
            memory = std::aligned_alloc(huge_page, (bytes + huge_page - 1) / huge_page * huge_page);
            if (memory != nullptr) ::madvise(memory, bytes, MADV_HUGEPAGE);  // advice only
        } else {
            memory = std::malloc(bytes);
        }
        if (memory == nullptr) throw std::bad_alloc{};
        segments_[used_].reset(static_cast<T*>(memory));
        ++used_;
        capacity_ += count;
    }

    std::array<std::unique_ptr<T, segment_free>, max_segments> segments_{};
    std::size_t used_ = 0;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
};

}  // namespace mockit::detail
