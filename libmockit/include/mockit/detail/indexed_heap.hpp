// SPDX-License-Identifier: MIT
// A binary min-heap that tells its owner where every element lands, so the owner can later find
// an element and remove or re-key it in O(log n) (a plain priority queue cannot). (A 4-ary heap
// took the same time: 173 ms for the 10^6 expiries of mockit_bench_timer_queue either way.)
//
// Used by timer_queue: the lanes by their first deadline, and the timers no lane can hold.
#pragma once

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

namespace mockit::detail {

// `Before(a, b)`: a comes out first. `Moved(element, index)`: element now sits at index.
template <class T, class Before, class Moved>
class indexed_heap {
  public:
    indexed_heap(Before before, Moved moved) : before_{before}, moved_{moved} {}

    [[nodiscard]] bool empty() const noexcept { return items_.empty(); }
    [[nodiscard]] std::size_t size() const noexcept { return items_.size(); }
    [[nodiscard]] const T& top() const noexcept { return items_.front(); }
    [[nodiscard]] T& operator[](std::size_t i) noexcept { return items_[i]; }
    [[nodiscard]] const T& operator[](std::size_t i) const noexcept { return items_[i]; }

    void push(T value) {
        items_.push_back(std::move(value));
        sift_up(items_.size() - 1);
    }

    void remove_at(std::size_t i) noexcept {
        T last = std::move(items_.back());
        items_.pop_back();
        if (i == items_.size()) return;  // it was the last element
        place(i, std::move(last));
        restore(i);
    }

    // Puts element i back in order after its key changed.
    void restore(std::size_t i) noexcept {
        if (i > 0 && before_(items_[i], items_[parent_of(i)])) {
            sift_up(i);
        } else {
            sift_down(i);
        }
    }

    // Element i's children are i * arity + 1 .. i * arity + arity.
    static constexpr std::size_t arity = 2;

  private:
    static std::size_t parent_of(std::size_t i) noexcept { return (i - 1) / arity; }
    static std::size_t first_child_of(std::size_t i) noexcept { return i * arity + 1; }

    void place(std::size_t i, T value) noexcept {
        items_[i] = std::move(value);
        moved_(items_[i], i);
    }

    void sift_up(std::size_t i) noexcept {
        T moving = std::move(items_[i]);
        while (i > 0 && before_(moving, items_[parent_of(i)])) {
            place(i, std::move(items_[parent_of(i)]));
            i = parent_of(i);
        }
        place(i, std::move(moving));
    }

    void sift_down(std::size_t i) noexcept {
        T moving = std::move(items_[i]);
        for (;;) {
            std::size_t first = first_child_of(i);
            if (first >= items_.size()) break;
            std::size_t last = std::min(first + arity, items_.size());
            std::size_t best = first;
            for (std::size_t c = first + 1; c < last; ++c) {
                if (before_(items_[c], items_[best])) best = c;
            }
            if (!before_(items_[best], moving)) break;
            place(i, std::move(items_[best]));
            i = best;
        }
        place(i, std::move(moving));
    }

    std::vector<T> items_;
    Before before_;
    Moved moved_;
};

}  // namespace mockit::detail
