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

void timer_heap::timer_moved::operator()(const timer_entry& e,
                                         std::size_t position) const noexcept {
    heap->slots_[e.key.owner].link = static_cast<std::uint32_t>(position);
}

void timer_heap::lane_moved::operator()(const entry& e, std::size_t position) const noexcept {
    heap->lanes_[e.owner].position = static_cast<std::uint32_t>(position);
}

const timer_heap::slot* timer_heap::find(timer_id id) const noexcept {
    // A slot's generation moves on when its timer leaves, so only the live id matches.
    if (id.slot() >= slots_.size()) return nullptr;
    const slot& s = slots_[id.slot()];
    return s.generation == id.generation() ? &s : nullptr;
}

timer_heap::entry timer_heap::key_of(std::uint32_t index, std::uint32_t owner) const noexcept {
    return entry{slots_[index].deadline, owner, slots_[index].sequence};
}

duration::rep timer_heap::interval_of(std::uint32_t index) const noexcept {
    const slot& s = slots_[index];
    if (!s.repeats) return 0;
    return s.lane == in_heap ? heap_[s.link].interval : lanes_[s.lane].delay;
}

// The timer that falls due first: the general heap's top or the head of the first lane.
std::optional<std::uint32_t> timer_heap::first() const noexcept {
    const entry* general = heap_.empty() ? nullptr : &heap_.top().key;
    const entry* first_lane = lanes_by_head_.empty() ? nullptr : &lanes_by_head_.top();
    if (first_lane != nullptr && (general == nullptr || before{}(*first_lane, *general))) {
        return lanes_[first_lane->owner].head;
    }
    if (general != nullptr) return general->owner;
    return std::nullopt;
}

std::uint32_t timer_heap::allocate_slot() {
    if (free_slot_ != none) {
        std::uint32_t index = free_slot_;
        free_slot_ = slots_[index].link;
        return index;
    }
    if (slots_.size() >= none) throw std::system_error(errc::no_memory);
    slots_.push_back(slot{0, 1, 0, 0, in_heap, false, none, none});
    return static_cast<std::uint32_t>(slots_.size() - 1);
}

void timer_heap::release_slot(std::uint32_t index) noexcept {
    slot& s = slots_[index];
    s.generation = s.generation == UINT32_MAX ? 1 : s.generation + 1;  // 0 stays invalid
    s.link = free_slot_;
    free_slot_ = index;
}

timer_id timer_heap::insert(time_point deadline, duration interval, std::uint32_t tag,
                            duration delay) {
    std::uint32_t index = allocate_slot();
    slot& s = slots_[index];
    s.deadline = deadline.time_since_epoch().count();
    s.repeats = interval != duration::zero();
    s.tag = tag;
    s.sequence = next_sequence_++;
    try {
        place(index, (s.repeats || delay == duration::zero() ? interval : delay).count());
    } catch (...) {
        release_slot(index);
        throw;
    }
    ++size_;
    return timer_id{index, s.generation};
}

bool timer_heap::fits_after_tail(std::uint32_t lane_index, duration::rep deadline,
                                 std::uint32_t sequence) const noexcept {
    return !before{}(entry{deadline, 0, sequence}, key_of(lanes_[lane_index].tail, 0));
}

// Puts a timer that is in no lane and not in the general heap where it belongs.
void timer_heap::place(std::uint32_t index, duration::rep delay) {
    auto found = lane_of_delay_.find(delay);
    if (found == lane_of_delay_.end()) {
        open_lane(index, delay);
    } else if (fits_after_tail(found->second, slots_[index].deadline, slots_[index].sequence)) {
        append(found->second, index);
    } else {
        slots_[index].lane = in_heap;
        heap_.push(timer_entry{key_of(index, index), slots_[index].repeats ? delay : 0});
    }
}

void timer_heap::open_lane(std::uint32_t index, duration::rep delay) {
    bool reused = !free_lanes_.empty();
    std::uint32_t number = reused ? free_lanes_.back() : static_cast<std::uint32_t>(lanes_.size());
    try {
        if (!reused) {
            if (number >= in_heap)
                throw std::system_error(errc::no_memory);  // lane numbers ran out
            lanes_.push_back(lane{});
            free_lanes_.reserve(lanes_.size());  // so closing a lane never allocates
        }
        lane_of_delay_.emplace(delay, number);
        try {
            lanes_by_head_.push(key_of(index, number));
        } catch (...) {
            lane_of_delay_.erase(delay);
            throw;
        }
    } catch (...) {
        if (!reused && lanes_.size() > number) lanes_.pop_back();
        throw;
    }
    if (reused) free_lanes_.pop_back();
    lane& l = lanes_[number];
    l.delay = delay;
    l.head = l.tail = index;
    slot& s = slots_[index];
    s.lane = number & in_heap;  // below in_heap: checked above
    s.link = s.prev = none;
}

void timer_heap::append(std::uint32_t lane_index, std::uint32_t index) noexcept {
    lane& l = lanes_[lane_index];
    slot& s = slots_[index];
    s.lane = lane_index & in_heap;  // a lane's number, below in_heap
    s.prev = l.tail;
    s.link = none;
    slots_[l.tail].link = index;
    l.tail = index;
}

void timer_heap::take_out(std::uint32_t index) noexcept {
    if (slots_[index].lane == in_heap) {
        heap_.remove_at(slots_[index].link);
    } else {
        unlink(index);
    }
}

// Takes a timer out of its lane; a lane left empty closes.
void timer_heap::unlink(std::uint32_t index) noexcept {
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

void timer_heap::close_lane(std::uint32_t lane_index) noexcept {
    const lane& l = lanes_[lane_index];
    lanes_by_head_.remove_at(l.position);
    lane_of_delay_.erase(l.delay);
    free_lanes_.push_back(lane_index);  // within the capacity reserved by open_lane
}

void timer_heap::head_changed(std::uint32_t lane_index) noexcept {
    const lane& l = lanes_[lane_index];
    lanes_by_head_[l.position] = key_of(l.head, lane_index);
    lanes_by_head_.restore(l.position);
}

bool timer_heap::erase(timer_id id) noexcept {
    if (find(id) == nullptr) return false;
    take_out(id.slot());
    release_slot(id.slot());
    --size_;
    return true;
}

bool timer_heap::contains(timer_id id) const noexcept {
    return find(id) != nullptr;
}

std::optional<time_point> timer_heap::deadline(timer_id id) const noexcept {
    const slot* s = find(id);
    if (s == nullptr) return std::nullopt;
    return time_point{duration{s->deadline}};
}

std::optional<duration> timer_heap::interval(timer_id id) const noexcept {
    const slot* s = find(id);
    if (s == nullptr) return std::nullopt;
    return duration{interval_of(id.slot())};
}

std::uint32_t timer_heap::tag(timer_id id) const noexcept {
    const slot* s = find(id);
    return s != nullptr ? s->tag : 0;
}

std::optional<time_point> timer_heap::earliest() const noexcept {
    std::optional<std::uint32_t> index = first();
    if (!index) return std::nullopt;
    return time_point{duration{slots_[*index].deadline}};
}

std::size_t timer_heap::expire(time_point now, std::vector<event>& out, std::size_t max) {
    const duration::rep now_ns = now.time_since_epoch().count();
    std::size_t appended = 0;
    while (appended < max) {
        std::optional<std::uint32_t> index = first();
        if (!index) break;
        const slot& s = slots_[*index];
        if (s.deadline > now_ns) break;
        if (!s.repeats && s.lane != in_heap) {  // a one-off at the head of the first lane
            appended += expire_run(s.lane, now_ns, out, max - appended);
            continue;
        }
        timer_id id{*index, s.generation};
        duration::rep interval = interval_of(*index);
        ++appended;
        if (interval == 0) {
            out.push_back(event{id, time_point{duration{s.deadline}}, duration{}, 1, s.tag});
            take_out(*index);
            release_slot(*index);
            --size_;
            continue;
        }
        // Every deadline up to `now` counts, and the next one stays on the k*interval grid.
        auto missed = static_cast<std::uint64_t>((now_ns - s.deadline) / interval) + 1;
        out.push_back(
            event{id, time_point{duration{s.deadline}}, duration{interval}, missed, s.tag});
        move_on(*index, interval, missed);
    }
    return appended;
}

// What comes after the head of the first lane: the general heap's first timer or the next lane's
// head, whichever is earlier; nullopt when there is neither.
std::optional<timer_heap::entry> timer_heap::runner_up() const noexcept {
    std::optional<entry> best;
    if (!heap_.empty()) best = heap_.top().key;
    for (std::size_t child = 1; child <= 4 && child < lanes_by_head_.size(); ++child) {
        if (!best || before{}(lanes_by_head_[child], *best)) best = lanes_by_head_[child];
    }
    return best;
}

// Expires the due one-offs at the head of the first lane, up to `max` of them, that come before
// any other timer: timers armed in a burst with one delay leave their lane with one update of
// the lanes' heap, not one per timer. Returns how many it appended (at least one).
std::size_t timer_heap::expire_run(std::uint32_t lane_index, duration::rep now_ns,
                                   std::vector<event>& out, std::size_t max) {
    const std::optional<entry> rival = runner_up();
    auto comes_next = [&](std::uint32_t index) {
        const slot& s = slots_[index];
        return !s.repeats && s.deadline <= now_ns && (!rival || before{}(key_of(index, 0), *rival));
    };
    std::uint32_t index = lanes_[lane_index].head;
    std::size_t appended = 0;
    try {
        do {
            const slot& s = slots_[index];
            out.push_back(event{timer_id{index, s.generation}, time_point{duration{s.deadline}},
                                duration{}, 1, s.tag});
            std::uint32_t next = s.link;
            release_slot(index);
            --size_;
            ++appended;
            index = next;
        } while (appended < max && index != none && comes_next(index));
    } catch (...) {  // out of memory in push_back: what was appended has left the lane
        if (appended > 0) cut_lane_head(lane_index, index);
        throw;
    }
    cut_lane_head(lane_index, index);
    return appended;
}

// Makes `index` (none: no timer) the head of a lane whose timers before it have left.
void timer_heap::cut_lane_head(std::uint32_t lane_index, std::uint32_t index) noexcept {
    lane& l = lanes_[lane_index];
    if (index == none) {
        l.head = l.tail = none;
        close_lane(lane_index);
        return;
    }
    slots_[index].prev = none;
    l.head = index;
    head_changed(lane_index);
}

// Moves a due interval timer (the first of all) to its next deadline, keeping its sequence so
// timers of one interval keep their relative order.
void timer_heap::move_on(std::uint32_t index, duration::rep interval, std::uint64_t missed) {
    slot& s = slots_[index];
    duration::rep next = add_saturated(s.deadline, static_cast<duration::rep>(missed) * interval);
    // The common case, from the head of its interval's lane to its tail, allocates nothing.
    if (s.lane != in_heap) {
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
        place(index, interval);
    } catch (...) {  // out of memory: the timer is lost, but the structure stays sound
        release_slot(index);
        --size_;
        throw;
    }
}

}  // namespace mockit::detail
