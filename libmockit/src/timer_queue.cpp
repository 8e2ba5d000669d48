// SPDX-License-Identifier: MIT
#include "mockit/timer_queue.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <limits>
#include <system_error>

#include "mockit/error.hpp"

namespace mockit {
namespace {

// Deadlines saturate instead of wrapping: a timer past the end of time simply never fires.
duration::rep add_saturated(duration::rep a, duration::rep b) noexcept {
    duration::rep sum = 0;
    return __builtin_add_overflow(a, b, &sum) ? std::numeric_limits<duration::rep>::max() : sum;
}

}  // namespace

bool timer_queue::before::operator()(const key& a, const key& b) const noexcept {
    if (a.deadline != b.deadline) return a.deadline < b.deadline;
    // FIFO on ties; the difference, read as signed, survives the counter wrapping around.
    return static_cast<std::int32_t>(a.sequence - b.sequence) < 0;
}

void timer_queue::timer_moved::operator()(const heap_timer& t,
                                          std::size_t position) const noexcept {
    queue->slots_[t.order.owner].link = static_cast<std::uint32_t>(position);
}

void timer_queue::lane_moved::operator()(const key& k, std::size_t position) const noexcept {
    queue->lanes_[k.owner].position = static_cast<std::uint32_t>(position);
}

const timer_queue::slot* timer_queue::find(timer_id id) const noexcept {
    // A slot's generation moves on when its timer leaves, so only the live id matches.
    if (id.slot() >= slots_.size()) return nullptr;
    const slot& s = slots_[id.slot()];
    return s.generation == id.generation() ? &s : nullptr;
}

timer_queue::key timer_queue::key_of(std::uint32_t index, std::uint32_t owner) const noexcept {
    return key{slots_[index].deadline, owner, slots_[index].sequence};
}

duration::rep timer_queue::interval_of(std::uint32_t index) const noexcept {
    const slot& s = slots_[index];
    if (!s.repeats) return 0;
    return s.lane == in_heap ? heap_[s.link].interval : lanes_[s.lane].delay;
}

// The timer that falls due first: the general heap's top or the head of the first lane.
std::optional<std::uint32_t> timer_queue::first() const noexcept {
    const key* general = heap_.empty() ? nullptr : &heap_.top().order;
    const key* first_lane = lanes_by_head_.empty() ? nullptr : &lanes_by_head_.top();
    if (first_lane != nullptr && (general == nullptr || before{}(*first_lane, *general))) {
        return lanes_[first_lane->owner].head;
    }
    if (general != nullptr) return general->owner;
    return std::nullopt;
}

std::uint32_t timer_queue::allocate_slot() {
    if (free_slot_ != none) {
        std::uint32_t index = free_slot_;
        free_slot_ = slots_[index].link;
        return index;
    }
    if (slots_.size() >= none) throw std::system_error(errc::no_memory);
    slots_.push_back(slot{0, 1, 0, in_heap, false, none, none});
    return static_cast<std::uint32_t>(slots_.size() - 1);
}

void timer_queue::release_slot(std::uint32_t index) noexcept {
    slot& s = slots_[index];
    s.generation = s.generation == UINT32_MAX ? 1 : s.generation + 1;  // 0 stays invalid
    s.link = free_slot_;
    free_slot_ = index;
}

namespace {

void check_delay(duration delay) {
    if (delay < duration::zero() || delay > timer_queue::max_delay)
        throw std::system_error(errc::out_of_range);
}

}  // namespace

timer_id timer_queue::arm_once(time_point now, duration delay) {
    check_delay(delay);
    return insert(now + delay, duration::zero(), delay);
}

timer_id timer_queue::arm_every(time_point now, duration interval) {
    check_delay(interval);
    // A zero interval would be due without end.
    if (interval == duration::zero()) throw std::system_error(errc::invalid_argument);
    return insert(now + interval, interval, interval);
}

timer_id timer_queue::insert(time_point deadline, duration interval, duration delay) {
    std::uint32_t index = allocate_slot();
    slot& s = slots_[index];
    s.deadline = deadline.time_since_epoch().count();
    s.repeats = interval != duration::zero();
    s.sequence = next_sequence_++;
    try {
        if (s.repeats) {
            place(index, interval.count(), lane_kind::armed);
        } else {
            place_once(index, delay.count());
        }
    } catch (...) {
        release_slot(index);
        throw;
    }
    ++size_;
    return timer_id{index, s.generation};
}

bool timer_queue::fits_after_tail(std::uint32_t lane_index, duration::rep deadline,
                                  std::uint32_t sequence) const noexcept {
    return !before{}(key{deadline, 0, sequence}, key_of(lanes_[lane_index].tail, 0));
}

// Puts an interval timer that is in no lane and not in the general heap where it belongs: at the
// tail of the lane of `interval` (the armed one, or the moved one), or in the general heap when
// it would break that lane's order.
void timer_queue::place(std::uint32_t index, duration::rep interval, lane_kind kind) {
    auto found = lane_of_key_.find(lane_key(interval, kind));
    if (found == lane_of_key_.end()) {
        open_lane(index, interval, kind);
    } else if (fits_after_tail(found->second, slots_[index].deadline, slots_[index].sequence)) {
        append(found->second, index);
    } else {
        slots_[index].lane = in_heap;
        heap_.push(heap_timer{key_of(index, index), interval});
    }
}

// Puts a one-off that is in no lane and not in the general heap where it belongs: at the tail of
// the lane of its delay when there is one and it fits there; in a new lane of its delay when
// that delay went to a run lately (it repeats); else in a run.
void timer_queue::place_once(std::uint32_t index, duration::rep delay) {
    auto found = lane_of_key_.find(lane_key(delay, lane_kind::armed));
    if (found != lane_of_key_.end()) {
        if (fits_after_tail(found->second, slots_[index].deadline, slots_[index].sequence)) {
            append(found->second, index);
            return;
        }
    } else if (seen_lately(delay, slots_[index].sequence)) {
        open_lane(index, delay, lane_kind::armed);
        return;
    }
    place_in_run(index);
}

// Whether a one-off of `delay` went to a run lately, remembering it if not. A delay is looked for
// in a set of two ways chosen by its hash. When it is found its lane opens, so its way is freed
// for another delay; a delay not found takes a free way, or the way written longest ago if that
// was more than seen_span arms ago, or none: delays that collide in one set do not evict each
// other before they had their chance to repeat. One that found no way goes to a run, which
// costs it a binary search, not order, and tries again at its next arming.
bool timer_queue::seen_lately(duration::rep delay, std::uint32_t sequence) {
    if (!seen_) {
        seen_ = std::make_unique<seen_delays>();
        for (auto& set : *seen_)
            set.fill(seen_delay{-1, 0});  // no delay is negative
    }
    // The finaliser of splitmix64: delays in whole milliseconds, multiples of 10^6 ns, spread
    // over the sets as well as any.
    auto mixed = static_cast<std::uint64_t>(delay);
    mixed = (mixed ^ (mixed >> 30)) * 0xBF58476D1CE4E5B9ULL;
    mixed = (mixed ^ (mixed >> 27)) * 0x94D049BB133111EBULL;
    mixed ^= mixed >> 31;
    auto& set = (*seen_)[mixed >> (64 - std::countr_zero(seen_sets))];
    for (seen_delay& way : set) {
        if (way.delay == delay) {
            way.delay = -1;
            return true;
        }
    }
    auto age = [sequence](const seen_delay& way) { return sequence - way.sequence; };
    seen_delay& older = age(set[0]) >= age(set[1]) ? set[0] : set[1];
    seen_delay* way = set[0].delay < 0 ? &set[0] : set[1].delay < 0 ? &set[1] : &older;
    if (way->delay < 0 || age(*way) >= seen_span) *way = seen_delay{delay, sequence};
    return false;
}

// Puts a one-off behind the run whose last deadline is the latest not after its own, so that
// run stays in order and the runs stay sorted; in a new run when it is due before every run's
// last; in the general heap when there are max_runs runs already.
void timer_queue::place_in_run(std::uint32_t index) {
    const key own = key_of(index, 0);
    key* run = first_run_not_after(own.deadline);
    if (run != runs_.data() + runs_.size()) {
        append(run->owner, index);
        run->deadline = own.deadline;
        run->sequence = own.sequence;
    } else if (runs_.size() < max_runs) {
        open_lane(index, 0, lane_kind::run);
    } else {
        slots_[index].lane = in_heap;
        heap_.push(heap_timer{key_of(index, index), 0});
    }
}

// The first of runs_ (latest first) whose last deadline is not after `deadline`; the end when
// there is none. A tie counts as not after: the timer being placed was armed after every run's
// last, so it goes behind. Branch-free, as where the search ends is unpredictable.
timer_queue::key* timer_queue::first_run_not_after(duration::rep deadline) noexcept {
    key* base = runs_.data();
    std::size_t n = runs_.size();
    if (n == 0) return base;
    while (n > 1) {
        std::size_t half = n / 2;
        base = base[half].deadline > deadline ? base + half : base;
        n -= half;
    }
    return base + (base->deadline > deadline ? 1 : 0);
}

// Opens a lane holding timer `index` alone: a lane of `delay` (armed or moved), or a run.
void timer_queue::open_lane(std::uint32_t index, duration::rep delay, lane_kind kind) {
    bool reused = !free_lanes_.empty();
    std::uint32_t number = reused ? free_lanes_.back() : static_cast<std::uint32_t>(lanes_.size());
    try {
        if (!reused) {
            if (number >= in_heap)
                throw std::system_error(errc::no_memory);  // lane numbers ran out
            lanes_.push_back(lane{});
            // So closing a lane never allocates; to the capacity, so it grows as geometrically.
            free_lanes_.reserve(lanes_.capacity());
        }
        if (kind == lane_kind::run) {
            runs_.push_back(key_of(index, number));  // due before every other run's last
        } else {
            lane_of_key_.emplace(lane_key(delay, kind), number);
        }
        try {
            lanes_by_head_.push(key_of(index, number));
        } catch (...) {
            if (kind == lane_kind::run) {
                runs_.pop_back();
            } else {
                lane_of_key_.erase(lane_key(delay, kind));
            }
            throw;
        }
    } catch (...) {
        if (!reused && lanes_.size() > number) lanes_.pop_back();
        throw;
    }
    if (reused) free_lanes_.pop_back();
    lane& l = lanes_[number];
    l.delay = delay;
    l.kind = kind;
    l.head = l.tail = index;
    slot& s = slots_[index];
    s.lane = number & in_heap;  // below in_heap: checked above
    s.link = s.prev = none;
}

void timer_queue::append(std::uint32_t lane_index, std::uint32_t index) noexcept {
    lane& l = lanes_[lane_index];
    slot& s = slots_[index];
    s.lane = lane_index & in_heap;  // a lane's number, below in_heap
    s.prev = l.tail;
    s.link = none;
    slots_[l.tail].link = index;
    l.tail = index;
}

void timer_queue::take_out(std::uint32_t index) noexcept {
    if (slots_[index].lane == in_heap) {
        heap_.remove_at(slots_[index].link);
    } else {
        unlink(index);
    }
}

// Takes a timer out of its lane; a lane left empty closes.
void timer_queue::unlink(std::uint32_t index) noexcept {
    const slot& s = slots_[index];
    std::uint32_t lane_index = s.lane;
    lane& l = lanes_[lane_index];
    if (s.prev != none) {
        slots_[s.prev].link = s.link;
    } else {
        l.head = s.link;
    }
    if (s.link != none) {
        slots_[s.link].prev = s.prev;
    } else {
        l.tail = s.prev;
    }
    if (l.head == none) {
        close_lane(lane_index);
    } else if (s.prev == none) {
        head_changed(lane_index);
    }
}

void timer_queue::close_lane(std::uint32_t lane_index) noexcept {
    const lane& l = lanes_[lane_index];
    lanes_by_head_.remove_at(l.position);
    if (l.kind == lane_kind::run) {
        // Runs empty mostly in the order of their last deadlines, so from the end of runs_.
        auto run = std::find_if(runs_.rbegin(), runs_.rend(),
                                [lane_index](const key& last) { return last.owner == lane_index; });
        runs_.erase(std::next(run).base());
    } else {
        lane_of_key_.erase(lane_key(l.delay, l.kind));
    }
    free_lanes_.push_back(lane_index);  // within the capacity reserved by open_lane
}

void timer_queue::head_changed(std::uint32_t lane_index) noexcept {
    const lane& l = lanes_[lane_index];
    lanes_by_head_[l.position] = key_of(l.head, lane_index);
    lanes_by_head_.restore(l.position);
}

bool timer_queue::cancel(timer_id id) noexcept {
    if (find(id) == nullptr) return false;
    take_out(id.slot());
    release_slot(id.slot());
    --size_;
    return true;
}

bool timer_queue::move_to(timer_id id, time_point deadline) {
    if (find(id) == nullptr) return false;
    std::uint32_t index = id.slot();
    duration::rep interval = interval_of(index);
    take_out(index);
    slot& s = slots_[index];
    s.deadline = deadline.time_since_epoch().count();
    s.lane = in_heap;
    try {
        heap_.push(heap_timer{key_of(index, index), interval});
    } catch (...) {
        release_slot(index);
        --size_;
        throw;
    }
    return true;
}

bool timer_queue::armed(timer_id id) const noexcept {
    return find(id) != nullptr;
}

std::optional<time_point> timer_queue::deadline(timer_id id) const noexcept {
    const slot* s = find(id);
    if (s == nullptr) return std::nullopt;
    return time_point{duration{s->deadline}};
}

std::optional<time_point> timer_queue::next_deadline() const noexcept {
    std::optional<std::uint32_t> index = first();
    if (!index) return std::nullopt;
    return time_point{duration{slots_[*index].deadline}};
}

std::optional<expiry> timer_queue::take_due(time_point now,
                                            std::optional<std::uint32_t> armed_before) {
    std::optional<std::uint32_t> index = first();
    if (!index) return std::nullopt;
    slot& s = slots_[*index];
    duration::rep until = now.time_since_epoch().count();
    if (s.deadline > until) return std::nullopt;
    // The first of its deadline: any other timer due then was armed later still.
    if (s.deadline == until && armed_before &&
        static_cast<std::int32_t>(s.sequence - *armed_before) >= 0)
        return std::nullopt;
    expiry taken{timer_id{*index, s.generation}, time_point{duration{s.deadline}}};
    if (!s.repeats) {
        take_out(*index);
        release_slot(*index);
        --size_;
        return taken;
    }
    reschedule(*index, interval_of(*index));
    return taken;
}

// Moves a due interval timer (the first of all) one period on, keeping its sequence so timers
// of one interval keep their relative order. Timers are taken in deadline order, so the timers
// of one interval moved on by one period come in deadline order too, however far behind the loop
// is: the interval's moved lane takes them by appending. (Its armed lane would not: in a backlog
// a timer moved on one period falls among timers armed after it.)
void timer_queue::reschedule(std::uint32_t index, duration::rep interval) {
    slot& s = slots_[index];
    duration::rep next = add_saturated(s.deadline, interval);
    // The common case, from the head of the moved lane to its tail, allocates nothing.
    if (s.lane != in_heap && lanes_[s.lane].kind == lane_kind::moved) {
        std::uint32_t lane_index = s.lane;
        const lane& l = lanes_[lane_index];
        if (l.head == l.tail) {
            s.deadline = next;
            head_changed(lane_index);
            return;
        }
        if (fits_after_tail(lane_index, next, s.sequence)) {
            unlink(index);
            s.deadline = next;
            append(lane_index, index);
            return;
        }
    }
    take_out(index);
    s.deadline = next;
    try {
        place(index, interval, lane_kind::moved);
    } catch (...) {  // out of memory: the timer is lost, but the structure stays sound
        release_slot(index);
        --size_;
        throw;
    }
}

// Adds what timer `index` has due at `now` to `count`.
void timer_queue::count_due(std::uint32_t index, duration::rep now,
                            due_count& count) const noexcept {
    const slot& s = slots_[index];
    ++count.timers;
    duration::rep interval = interval_of(index);
    count.expiries +=
        interval == 0 ? 1 : static_cast<std::size_t>((now - s.deadline) / interval) + 1;
}

due_count timer_queue::due(time_point now) const noexcept {
    const duration::rep now_ns = now.time_since_epoch().count();
    due_count count;
    // A lane is in deadline order: its due timers are a prefix.
    for (std::size_t i = 0; i < lanes_by_head_.size(); ++i) {
        for (std::uint32_t index = lanes_[lanes_by_head_[i].owner].head;
             index != none && slots_[index].deadline <= now_ns; index = slots_[index].link)
            count_due(index, now_ns, count);
    }
    // In the general heap a node that is not due has no due descendant. Depth first, the stack
    // holds at most arity - 1 nodes per level and arity more: 34 for the 32 levels of 2^32
    // timers in a binary heap.
    std::array<std::size_t, 64> nodes{};
    std::size_t stacked = 0;
    if (!heap_.empty()) nodes[stacked++] = 0;
    while (stacked > 0) {
        std::size_t node = nodes[--stacked];
        if (heap_[node].order.deadline > now_ns) continue;
        count_due(heap_[node].order.owner, now_ns, count);
        constexpr std::size_t arity = decltype(heap_)::arity;
        for (std::size_t child = node * arity + 1;
             child <= node * arity + arity && child < heap_.size(); ++child)
            nodes[stacked++] = child;
    }
    return count;
}

}  // namespace mockit
