#include "timer_heap.hpp"

#include <limits>
#include <system_error>

#include "mockit/error.hpp"

namespace mockit::detail {
namespace {

// Deadlines saturate instead of wrapping: a timer past the end of time simply never fires.
duration::rep add_saturated(duration::rep a, duration::rep b) noexcept {
    duration::rep sum = 0;
    return __builtin_add_overflow(a, b, &sum) ? std::numeric_limits<duration::rep>::max() : sum;
}

}  // namespace

bool timer_heap::before::operator()(const entry& a, const entry& b) const noexcept {
    if (a.deadline != b.deadline) return a.deadline < b.deadline;
    // FIFO on ties; the difference, read as signed, survives the counter wrapping around.
    return static_cast<std::int32_t>(a.sequence - b.sequence) < 0;
}

void timer_heap::moved::operator()(const entry& e, std::size_t position) const noexcept {
    owner->slots_[e.slot].link = static_cast<std::uint32_t>(position);
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
    slots_.push_back(slot{0, 1, no_slot, 0});
    return static_cast<std::uint32_t>(slots_.size() - 1);
}

void timer_heap::release_slot(std::uint32_t index) noexcept {
    slot& s = slots_[index];
    s.generation = s.generation == UINT32_MAX ? 1 : s.generation + 1;  // 0 stays invalid
    s.link = free_head_;
    free_head_ = index;
}

timer_id timer_heap::insert(time_point deadline, duration interval, std::uint32_t tag) {
    std::uint32_t index = allocate_slot();
    slot& s = slots_[index];
    s.interval = interval.count();
    s.tag = tag;

    try {
        heap_.push(entry{deadline.time_since_epoch().count(), index, next_sequence_++});
    } catch (...) {
        release_slot(index);
        throw;
    }
    return timer_id{index, s.generation};
}

bool timer_heap::erase(timer_id id) noexcept {
    const slot* s = find(id);
    if (s == nullptr) return false;
    heap_.remove_at(s->link);
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

std::uint32_t timer_heap::tag(timer_id id) const noexcept {
    const slot* s = find(id);
    return s != nullptr ? s->tag : 0;
}

std::optional<time_point> timer_heap::earliest() const noexcept {
    if (heap_.empty()) return std::nullopt;
    return time_point{duration{heap_.top().deadline}};
}

void timer_heap::expire(time_point now, std::vector<event>& out) {
    const duration::rep now_ns = now.time_since_epoch().count();
    while (!heap_.empty() && heap_.top().deadline <= now_ns) {
        entry top = heap_.top();
        slot& s = slots_[top.slot];
        timer_id id{top.slot, s.generation};
        if (s.interval == 0) {
            out.push_back(event{id, time_point{duration{top.deadline}}, duration{}, 1, s.tag});
            heap_.remove_at(0);
            release_slot(top.slot);
            continue;
        }
        // Every deadline up to `now` counts, and the next one stays on the k*interval grid;
        // the arming sequence is kept so equal-interval timers keep their relative order.
        auto missed = static_cast<std::uint64_t>((now_ns - top.deadline) / s.interval) + 1;
        out.push_back(
            event{id, time_point{duration{top.deadline}}, duration{s.interval}, missed, s.tag});
        heap_[0].deadline =
            add_saturated(top.deadline, static_cast<duration::rep>(missed) * s.interval);
        heap_.restore(0);
    }
}

}  // namespace mockit::detail
