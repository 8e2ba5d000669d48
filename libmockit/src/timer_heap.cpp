#include "timer_heap.hpp"

#include <algorithm>
#include <limits>
#include <system_error>

#include "mockit/error.hpp"

namespace mockit::detail {
namespace {

constexpr std::size_t arity = 4;

std::size_t parent_of(std::size_t i) noexcept {
    return (i - 1) / arity;
}
std::size_t first_child_of(std::size_t i) noexcept {
    return i * arity + 1;
}

// Deadlines saturate instead of wrapping: a timer past the end of time simply never fires.
duration::rep add_saturated(duration::rep a, duration::rep b) noexcept {
    duration::rep sum = 0;
    return __builtin_add_overflow(a, b, &sum) ? std::numeric_limits<duration::rep>::max() : sum;
}

}  // namespace

bool timer_heap::before(const entry& a, const entry& b) const noexcept {
    if (a.deadline != b.deadline) return a.deadline < b.deadline;
    return slots_[a.slot].sequence < slots_[b.slot].sequence;  // FIFO among equal deadlines
}

const timer_heap::slot* timer_heap::find(timer_id id) const noexcept {
    // A slot's generation moves on when its timer leaves, so only the live id matches.
    if (id.slot() >= slots_.size()) return nullptr;
    const slot& s = slots_[id.slot()];
    return s.generation == id.generation() ? &s : nullptr;
}

std::uint32_t timer_heap::allocate_slot() {
    if (free_head_ != no_slot) {
        std::uint32_t index = free_head_;
        free_head_ = slots_[index].link;
        return index;
    }
    if (slots_.size() >= no_slot) throw std::system_error(errc::no_memory);
    slots_.push_back(slot{0, 0, 1, no_slot});
    return static_cast<std::uint32_t>(slots_.size() - 1);
}

void timer_heap::release_slot(std::uint32_t index) noexcept {
    slot& s = slots_[index];
    s.generation = s.generation == UINT32_MAX ? 1 : s.generation + 1;  // 0 stays invalid
    s.link = free_head_;
    free_head_ = index;
}

void timer_heap::place(std::size_t position, entry e) noexcept {
    heap_[position] = e;
    slots_[e.slot].link = static_cast<std::uint32_t>(position);
}

void timer_heap::sift_up(std::size_t position) noexcept {
    entry moving = heap_[position];
    while (position > 0 && before(moving, heap_[parent_of(position)])) {
        place(position, heap_[parent_of(position)]);
        position = parent_of(position);
    }
    place(position, moving);
}

void timer_heap::sift_down(std::size_t position) noexcept {
    entry moving = heap_[position];
    for (;;) {
        std::size_t first = first_child_of(position);
        if (first >= heap_.size()) break;
        std::size_t last = std::min(first + arity, heap_.size());
        std::size_t best = first;
        for (std::size_t c = first + 1; c < last; ++c) {
            if (before(heap_[c], heap_[best])) best = c;
        }
        if (!before(heap_[best], moving)) break;
        place(position, heap_[best]);
        position = best;
    }
    place(position, moving);
}

void timer_heap::remove_at(std::size_t position) noexcept {
    entry last = heap_.back();
    heap_.pop_back();
    if (position == heap_.size()) return;  // it was the last entry
    place(position, last);
    // The moved entry may belong above or below its new place.
    if (position > 0 && before(last, heap_[parent_of(position)])) {
        sift_up(position);
    } else {
        sift_down(position);
    }
}

timer_id timer_heap::insert(time_point deadline, duration interval) {
    std::uint32_t index = allocate_slot();
    slot& s = slots_[index];
    s.interval = interval.count();
    s.sequence = next_sequence_++;
    try {
        heap_.push_back(entry{deadline.time_since_epoch().count(), index});
    } catch (...) {
        release_slot(index);
        throw;
    }
    sift_up(heap_.size() - 1);
    return timer_id{index, s.generation};
}

bool timer_heap::erase(timer_id id) noexcept {
    const slot* s = find(id);
    if (s == nullptr) return false;
    remove_at(s->link);
    release_slot(id.slot());
    return true;
}

bool timer_heap::contains(timer_id id) const noexcept {
    return find(id) != nullptr;
}

std::optional<time_point> timer_heap::deadline(timer_id id) const noexcept {
    const slot* s = find(id);
    if (s == nullptr) return std::nullopt;
    return time_point{duration{heap_[s->link].deadline}};
}

std::optional<duration> timer_heap::interval(timer_id id) const noexcept {
    const slot* s = find(id);
    if (s == nullptr) return std::nullopt;
    return duration{s->interval};
}

std::optional<time_point> timer_heap::earliest() const noexcept {
    if (heap_.empty()) return std::nullopt;
    return time_point{duration{heap_.front().deadline}};
}

void timer_heap::expire(time_point now, std::vector<event>& out) {
    const duration::rep now_ns = now.time_since_epoch().count();
    while (!heap_.empty() && heap_.front().deadline <= now_ns) {
        entry top = heap_.front();
        slot& s = slots_[top.slot];
        timer_id id{top.slot, s.generation};
        if (s.interval == 0) {
            out.push_back(event{id, time_point{duration{top.deadline}}, duration{}, 1});
            remove_at(0);
            release_slot(top.slot);
            continue;
        }
        // Every deadline up to `now` counts, and the next one stays on the k*interval grid;
        // the arming sequence is kept so equal-interval timers keep their relative order.
        auto missed = static_cast<std::uint64_t>((now_ns - top.deadline) / s.interval) + 1;
        out.push_back(event{id, time_point{duration{top.deadline}}, duration{s.interval}, missed});
        heap_.front().deadline =
            add_saturated(top.deadline, static_cast<duration::rep>(missed) * s.interval);
        sift_down(0);
    }
}

}  // namespace mockit::detail
